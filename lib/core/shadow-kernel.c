/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small questions to the kernel and the clock, shared by the verbs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "macro.h"
#include "shadow-kernel.h"

const char *dm_name_of_path(const char *path)
{
	return strncmp(path, DEV_MAPPER, strlen(DEV_MAPPER)) == 0 ?
		path + strlen(DEV_MAPPER) : path;
}

/*
 * The wall clock that stamps copies, sets and volumes.  $SHADOW_NOW
 * (seconds since the epoch) replaces it, for tests only: a guest test
 * steps it over weeks to drive the schedule's retention (shadowctl(8),
 * ENVIRONMENT).  A value that is not such a number is ignored.
 */
int64_t now_realtime(void)
{
	const char *s = getenv("SHADOW_NOW");
	long long v;
	char *end;

	if (s && *s) {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (!errno && !*end && v >= 0)
			return (int64_t)v;
	}
	return (int64_t)time(NULL);
}

uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* A block device's number and size in sectors. */
int block_device(const char *path, dev_t *ret_rdev, uint64_t *ret_sectors)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	uint64_t bytes;

	if (stat(path, &st) < 0)
		return negative_errno();
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	if (ret_sectors) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return negative_errno();
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return negative_errno();
		*ret_sectors = bytes >> 9;
	}
	if (ret_rdev)
		*ret_rdev = st.st_rdev;
	return 0;
}
