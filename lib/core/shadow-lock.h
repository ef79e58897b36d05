/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The locks of a state directory (shadow-lock.c): the command lock
 * (exclusive, a whole command; creates the state directory), a reader's
 * lock file (may be absent: -EBADF in *ret_fd), and the catalog lock
 * around one read (shared) or one save (exclusive).  What failed is said
 * in @why.  Not installed.
 */
#ifndef SHADOW_LOCK_H
#define SHADOW_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "shadow-catalog.h"

int lock_command(const char *state_dir, bool wait, int *ret_fd, char *why, size_t why_len);
int lock_reader(const char *state_dir, int *ret_fd, char *why, size_t why_len);
int lock_catalog(int fd, bool exclusive);
void unlock_catalog(int fd);
/* shadow_catalog_save() under the catalog lock. */
int catalog_save_locked(int fd, const char *state_dir, const struct shadow_catalog *c);

#endif
