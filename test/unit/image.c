/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"

void image_init(struct image *im, uint64_t origin_sectors,
		uint64_t store_sectors, uint32_t chunk_sectors,
		uint32_t max_snapshots)
{
	memset(im, 0, sizeof(*im));
	im->sb = (struct shadow_superblock) {
		.magic = SHADOW_MAGIC,
		.version = SHADOW_VERSION,
		.store_type = SHADOW_STORE_COW,
		.uuid = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
			  1, 2, 3, 4, 5, 6, 7, 8 },
		.chunk_sectors = chunk_sectors,
		.max_snapshots = max_snapshots,
		.origin_sectors = origin_sectors,
		.store_sectors = store_sectors,
		.format_time = 1700000000,
	};
	ck_assert_int_eq(shadow_sb_init_geometry(&im->sb), 0);
	im->nblocks = im->sb.record_start + im->sb.record_blocks;
	im->meta = calloc(im->nblocks, SHADOW_BLOCK_SIZE);
	ck_assert_ptr_nonnull(im->meta);
	image_seal(im);
}

uint8_t *image_block(struct image *im, uint64_t blocknr)
{
	ck_assert_uint_lt(blocknr, im->nblocks);
	return im->meta + blocknr * SHADOW_BLOCK_SIZE;
}

void image_set_snap(struct image *im, uint32_t slot,
		    const struct shadow_snapshot *s)
{
	shadow_snap_encode(image_block(im, im->sb.snap_table_start +
				       slot / SHADOW_SNAPS_PER_BLOCK),
			   slot % SHADOW_SNAPS_PER_BLOCK, s);
}

void image_set_index(struct image *im, uint64_t chunk, uint64_t head)
{
	shadow_index_encode(image_block(im, im->sb.index_start +
					chunk / SHADOW_INDEX_PER_BLOCK),
			    chunk % SHADOW_INDEX_PER_BLOCK, head);
}

void image_set_record(struct image *im, uint64_t n,
		      const struct shadow_record *r)
{
	shadow_record_encode(image_block(im, im->sb.record_start +
					 n / SHADOW_RECORDS_PER_BLOCK),
			     n % SHADOW_RECORDS_PER_BLOCK, r);
}

void image_seal(struct image *im)
{
	const struct shadow_superblock *sb = &im->sb;
	uint64_t b;

	shadow_sb_encode(sb, image_block(im, 0));
	for (b = sb->snap_table_start; b < sb->index_start; b++)
		shadow_block_seal(image_block(im, b), SHADOW_BLOCK_SNAP, b);
	for (b = sb->index_start; b < sb->record_start; b++)
		shadow_block_seal(image_block(im, b), SHADOW_BLOCK_INDEX, b);
	for (b = sb->record_start; b < im->nblocks; b++)
		shadow_block_seal(image_block(im, b), SHADOW_BLOCK_RECORD, b);
}

const char *image_write(struct image *im)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(im->path, sizeof(im->path), "%s/shadow-unit-XXXXXX",
		 tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	fd = mkstemp(im->path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, im->meta, im->nblocks * SHADOW_BLOCK_SIZE),
			 (ssize_t)(im->nblocks * SHADOW_BLOCK_SIZE));
	ck_assert_int_eq(ftruncate(fd, (off_t)(im->sb.store_sectors *
					       SHADOW_BLOCK_SIZE)), 0);
	close(fd);
	return im->path;
}

void image_done(struct image *im)
{
	if (im->path[0])
		unlink(im->path);
	free(im->meta);
	im->meta = NULL;
}
