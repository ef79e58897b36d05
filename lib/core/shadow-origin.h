/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Questions to a volume's shadow-origin (shadow-origin.c): its status,
 * its snapshots, a message about one.  The dm-shadow provider and the
 * clone code (shadow-clone.c) both ask them; the verbs go through the
 * volume's provider (shadow-provider.h) instead.  Not installed.
 */
#ifndef SHADOW_ORIGIN_H
#define SHADOW_ORIGIN_H

#include <stdint.h>

#include "shadow-status.h"

/*
 * The live table of @name must be one shadow-origin line: its status
 * (@ret may be NULL) and its length in sectors (@ret_sectors may be
 * NULL).  -EMEDIUMTYPE for any other table.
 */
int origin_status(const char *name, struct shadow_origin_status *ret,
		  uint64_t *ret_sectors);
/* The answer to "list": every snapshot the store holds. */
int kernel_list(const char *name, struct shadow_list_entry **ret,
		unsigned int *ret_n);
/* "<verb> <id>" to @name ("create 5", "delete 5", "detach 5"). */
int snap_message(const char *name, const char *verb, uint64_t id);

#endif
