/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whole reads and writes (shadow-io.c): loop over short transfers and
 * EINTR.  Not installed.
 */
#ifndef SHADOW_IO_H
#define SHADOW_IO_H

#include <stddef.h>
#include <stdint.h>

/* All @len bytes at @off; -EIO at the end of the file, or -errno. */
int pread_all(int fd, void *buf, size_t len, uint64_t off);
/* All @len bytes at @off, or -errno. */
int pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
/* All @len bytes at the file position, or -errno. */
int write_all(int fd, const void *buf, size_t len);

#endif
