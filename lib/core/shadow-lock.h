/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The locks of a state directory (shadow-lock.c): the command lock
 * (exclusive, a whole command; creates the state directory), a reader's
 * lock file (may be absent), and the catalog lock around one read
 * (shared) or one save (exclusive).  Not installed.
 */
#ifndef SHADOW_LOCK_H
#define SHADOW_LOCK_H

#include <stdbool.h>

#include "libshadow.h"

int ctx_lock_command(shadow_ctx *ctx, bool wait);
int ctx_lock_reader(shadow_ctx *ctx);
int ctx_lock_catalog(shadow_ctx *ctx, bool exclusive);
void ctx_unlock_catalog(shadow_ctx *ctx);
/* Save the catalog under the catalog lock; -EROFS for a reader. */
int ctx_save_catalog(shadow_ctx *ctx);

#endif
