/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Exposing a shadow copy as a device, and taking it away
 * (shadow-expose.c).  Not installed.
 */
#ifndef SHADOW_EXPOSE_H
#define SHADOW_EXPOSE_H

#include <stdbool.h>

#include "libshadow.h"
#include "shadow-catalog.h"

/* With the catalog already locked. */
int copy_unexpose(shadow_ctx *ctx, struct shadow_copy *c);
int copy_expose_device(shadow_ctx *ctx, const struct shadow_volume *v,
		       const struct shadow_copy *c, const char *name, bool rw);

#endif
