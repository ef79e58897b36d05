/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shadow-store.h"

struct shadow_store {
	int fd;
	uint64_t dev_sectors;
	struct shadow_superblock sb;
};

static int device_sectors(int fd, uint64_t *ret)
{
	struct stat st;
	uint64_t bytes;

	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return negative_errno();
	} else if (S_ISREG(st.st_mode)) {
		bytes = (uint64_t)st.st_size;
	} else {
		return -ENOTBLK;
	}
	*ret = bytes >> SHADOW_BLOCK_SHIFT;
	return 0;
}

int shadow_store_read_raw(struct shadow_store *s, uint64_t blocknr, void *buf)
{
	size_t done = 0;

	while (done < SHADOW_BLOCK_SIZE) {
		ssize_t n = pread(s->fd, (uint8_t *)buf + done,
				  SHADOW_BLOCK_SIZE - done,
				  (off_t)(blocknr * SHADOW_BLOCK_SIZE + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			return -EIO;	/* past the end of the device */
		done += (size_t)n;
	}
	return 0;
}

int shadow_store_open(const char *path, struct shadow_store **ret,
		      struct shadow_error *err)
{
	_cleanup_free_ struct shadow_store *s = NULL;
	_cleanup_close_ int fd = -EBADF;
	uint8_t block[SHADOW_BLOCK_SIZE];
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = negative_errno();
		shadow_error_set(err, SHADOW_ERR_IO, "cannot open %s: %s",
				 path, strerror(-r));
		return r;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = fd;
	r = device_sectors(fd, &s->dev_sectors);
	if (r < 0) {
		shadow_error_set(err, SHADOW_ERR_IO,
				 r == -ENOTBLK ? "%s is neither a block device nor a regular file"
					       : "cannot get the size of %s: %s",
				 path, strerror(-r));
		return r;
	}
	if (s->dev_sectors < 1) {
		shadow_error_set(err, SHADOW_ERR_IO,
				 "%s is smaller than one %d-byte block",
				 path, SHADOW_BLOCK_SIZE);
		return -EIO;
	}
	/*
	 * A loaded table writes the store with bios that go around this
	 * device's page cache: drop what an earlier reader left in it, or we
	 * would read the store as it was then.
	 */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	r = shadow_store_read_raw(s, 0, block);
	if (r < 0) {
		shadow_error_set(err, SHADOW_ERR_IO,
				 "cannot read the superblock of %s: %s",
				 path, strerror(-r));
		return r;
	}
	r = shadow_sb_validate(block, s->dev_sectors, &s->sb, err);
	if (r < 0)
		return r;

	TAKE_FD(fd);
	*ret = TAKE_PTR(s);
	return 0;
}

struct shadow_store *shadow_store_free(struct shadow_store *s)
{
	if (!s)
		return NULL;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return NULL;
}

const struct shadow_superblock *shadow_store_sb(const struct shadow_store *s)
{
	return &s->sb;
}

uint64_t shadow_store_dev_sectors(const struct shadow_store *s)
{
	return s->dev_sectors;
}

int shadow_store_read_block(struct shadow_store *s, uint64_t blocknr,
			    uint32_t type, void *buf, struct shadow_error *err)
{
	int r;

	r = shadow_store_read_raw(s, blocknr, buf);
	if (r < 0) {
		shadow_error_set(err, SHADOW_ERR_IO,
				 "cannot read %s block %" PRIu64 ": %s",
				 shadow_block_type_name(type), blocknr,
				 strerror(-r));
		return r;
	}
	if (shadow_block_is_zero(buf))
		return 1;
	return shadow_block_verify(buf, type, blocknr, err);
}

int shadow_store_load_snapshots(struct shadow_store *s,
				struct shadow_snapshot **ret,
				struct shadow_error *err)
{
	_cleanup_free_ struct shadow_snapshot *snaps = NULL;
	uint8_t block[SHADOW_BLOCK_SIZE];
	uint32_t n = s->sb.max_snapshots;

	snaps = calloc(n, sizeof(*snaps));
	if (!snaps)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i += SHADOW_SNAPS_PER_BLOCK) {
		uint64_t b = s->sb.snap_table_start + i / SHADOW_SNAPS_PER_BLOCK;
		int r;

		r = shadow_store_read_block(s, b, SHADOW_BLOCK_SNAP, block, err);
		if (r < 0)
			return r;
		for (uint32_t k = 0; k < SHADOW_SNAPS_PER_BLOCK && i + k < n; k++)
			shadow_snap_decode(block, k, &snaps[i + k]);
	}
	*ret = TAKE_PTR(snaps);
	return 0;
}

int shadow_store_load_records(struct shadow_store *s,
			      struct shadow_record **ret,
			      struct shadow_error *err)
{
	_cleanup_free_ struct shadow_record *recs = NULL;
	uint8_t block[SHADOW_BLOCK_SIZE];
	uint64_t n = s->sb.high_water;

	if (n == 0) {
		*ret = NULL;
		return 0;
	}
	recs = calloc(n, sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i += SHADOW_RECORDS_PER_BLOCK) {
		uint64_t b = s->sb.record_start + i / SHADOW_RECORDS_PER_BLOCK;
		int r;

		r = shadow_store_read_block(s, b, SHADOW_BLOCK_RECORD, block, err);
		if (r < 0)
			return r;
		for (uint64_t k = 0; k < SHADOW_RECORDS_PER_BLOCK && i + k < n; k++)
			shadow_record_decode(block, (unsigned int)k, &recs[i + k]);
	}
	*ret = TAKE_PTR(recs);
	return 0;
}
