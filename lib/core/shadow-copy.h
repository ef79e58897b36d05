/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Deleting a shadow copy (shadow-copy.c).  Not installed.
 */
#ifndef SHADOW_COPY_H
#define SHADOW_COPY_H

#include <stdbool.h>

#include "libshadow.h"
#include "shadow-catalog.h"

/* With the catalog already locked. */
int copy_delete_locked(shadow_ctx *ctx, struct shadow_copy *c, bool force);

#endif
