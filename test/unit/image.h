/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Build small store images in memory and write them to a temporary file. */
#ifndef SHADOW_TEST_IMAGE_H
#define SHADOW_TEST_IMAGE_H

#include "shadow-format.h"

struct image {
	struct shadow_superblock sb;
	uint8_t *meta;		/* blocks 0 .. record_start + record_blocks - 1 */
	uint64_t nblocks;
	char path[64];
};

/* A freshly formatted cow store: every metadata block sealed and empty. */
void image_init(struct image *im, uint64_t origin_sectors,
		uint64_t store_sectors, uint32_t chunk_sectors,
		uint32_t max_snapshots);
uint8_t *image_block(struct image *im, uint64_t blocknr);
void image_set_snap(struct image *im, uint32_t slot,
		    const struct shadow_snapshot *s);
void image_set_index(struct image *im, uint64_t chunk, uint64_t head);
void image_set_record(struct image *im, uint64_t n,
		      const struct shadow_record *r);
/* Re-seal every block from the superblock struct and contents. */
void image_seal(struct image *im);
/* Write to a new temporary file (store_sectors long); returns its path. */
const char *image_write(struct image *im);
void image_done(struct image *im);

#endif
