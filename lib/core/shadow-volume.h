/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The steps enable and disable share with (de)activate (shadow-volume.c).
 * Not installed.
 */
#ifndef SHADOW_VOLUME_H
#define SHADOW_VOLUME_H

#include <stdint.h>
#include <sys/types.h>

#include "libshadow.h"
#include "shadow-catalog.h"
#include "shadow-provider.h"

/* @spec: what its table is made of (shadow-tables.h). */
int wrap_device(shadow_ctx *ctx, const struct shadow_provider_ops *p, const char *verb,
		const char *name, const char *device, uint64_t sectors, dev_t rdev,
		dev_t store, const struct origin_spec *spec);
int takeover(shadow_ctx *ctx, const struct shadow_provider_ops *p,
	     const char *name, const char *real, uint64_t sectors,
	     dev_t store, const struct origin_spec *spec);
int giveback(shadow_ctx *ctx, const char *verb, const struct shadow_volume *v);

#endif
