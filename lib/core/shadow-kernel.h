/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small questions to the kernel and the clock, and the names libshadow
 * gives its devices (shadow-kernel.c).  Not installed.
 */
#ifndef SHADOW_KERNEL_H
#define SHADOW_KERNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SHADOW_UUID_PREFIX "SHADOW-"
#define DEV_MAPPER "/dev/mapper/"

const char *dm_name_of_path(const char *path);
int64_t now_realtime(void);
uint64_t now_us(void);
int block_device(const char *path, dev_t *ret_rdev, uint64_t *ret_sectors);

#endif
