/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Questions to the dm-shadow targets (shadow-provider-dmshadow.c).  The
 * verbs go through the volume's provider (shadow-provider.h) instead.
 * Not installed.
 */
#ifndef SHADOW_PROVIDER_DMSHADOW_H
#define SHADOW_PROVIDER_DMSHADOW_H

#include <stdint.h>

#include "shadow-status.h"

int origin_status(const char *name, struct shadow_origin_status *ret,
		  uint64_t *ret_sectors);
int kernel_list(const char *name, struct shadow_list_entry **ret,
		unsigned int *ret_n);
int snap_message(const char *name, const char *verb, uint64_t id);

#endif
