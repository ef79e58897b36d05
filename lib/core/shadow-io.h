/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whole reads and writes (shadow-io.c): loop over short transfers (and
 * EINTR, but for write_all()).  Not installed.
 */
#ifndef SHADOW_IO_H
#define SHADOW_IO_H

#include <stddef.h>
#include <stdint.h>

/* All @len bytes at @off; -EIO at the end of the file, or -errno. */
int pread_all(int fd, void *buf, size_t len, uint64_t off);
/* All @len bytes at @off, or -errno. */
int pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
/*
 * All @len bytes at the file position, or -errno.  A pipe or socket may
 * block for ever: -EINTR when a signal whose handler was set without
 * SA_RESTART interrupts it, so that a caller can stop.
 */
int write_all(int fd, const void *buf, size_t len);

#endif
