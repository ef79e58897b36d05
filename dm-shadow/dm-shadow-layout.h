/* SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later */
/*
 * Where each region of a dm-shadow store lives, computed from its size.
 *
 * Shared by the kernel module (which formats stores) and the userspace
 * tools (which read them offline), so both always agree.  Pure integer
 * arithmetic on <linux/types.h> types; no allocation, no I/O.
 */
#ifndef DM_SHADOW_LAYOUT_H
#define DM_SHADOW_LAYOUT_H

#include "dm-shadow-format.h"

struct shadow_layout {
	__u64 metadata_blocks;		/* 4 KiB blocks from sector 0 */
	__u64 data_start;		/* sectors, chunk aligned */
	__u64 nr_data_chunks;
};

static inline __u64 shadow_div_round_up(__u64 n, __u64 d)
{
	return (n + d - 1) / d;
}

/*
 * @journal_blocks: the exception journal's ring, which ends the metadata
 * area (SHADOW_JOURNAL_BLOCKS, or 0 for a store formatted without one).
 */
static inline __u64 shadow_layout_md_blocks(__u64 n, __u32 chunk_sectors,
					    __u32 journal_blocks)
{
	__u64 b = shadow_metadata_blocks(n, chunk_sectors) + journal_blocks;

	return b < SHADOW_MAX_METADATA_BLOCKS ? b : SHADOW_MAX_METADATA_BLOCKS;
}

/* Sectors needed by metadata plus data when the store holds n chunks. */
static inline __u64 shadow_layout_sectors(__u64 n, __u32 chunk_sectors,
					  __u32 journal_blocks)
{
	__u64 meta = shadow_layout_md_blocks(n, chunk_sectors, journal_blocks) *
		     SHADOW_MD_BLOCK_SECTORS;

	meta = shadow_div_round_up(meta, chunk_sectors) * chunk_sectors;
	return meta + n * chunk_sectors;
}

/*
 * Fill @l for a store of @store_sectors with chunks of @chunk_sectors.
 * Returns 0, or -1 when not even one data chunk fits after the metadata
 * (the store is too small) or the store is larger than any device
 * (SHADOW_MAX_STORE_SECTORS: a corrupt superblock's sizes must not make
 * anything overflow or loop for long).
 */
static inline int shadow_layout_compute(struct shadow_layout *l,
					__u64 store_sectors,
					__u32 chunk_sectors,
					__u32 journal_blocks)
{
	__u64 lo = 0, hi;

	if (!chunk_sectors || store_sectors > SHADOW_MAX_STORE_SECTORS)
		return -1;
	/*
	 * The most chunks n with shadow_layout_sectors(n) <= store_sectors:
	 * that grows with n, so bisect (at most 56 steps).
	 */
	hi = store_sectors / chunk_sectors + 1;
	while (hi - lo > 1) {
		__u64 mid = lo + (hi - lo) / 2;

		if (shadow_layout_sectors(mid, chunk_sectors,
					  journal_blocks) <= store_sectors)
			lo = mid;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	l->metadata_blocks = shadow_layout_md_blocks(lo, chunk_sectors,
						     journal_blocks);
	l->data_start = shadow_layout_sectors(lo, chunk_sectors,
					      journal_blocks) -
			lo * chunk_sectors;
	l->nr_data_chunks = lo;
	return 0;
}

/*
 * A clone store keeps no data (see dm-shadow-format.h): the metadata area
 * is the whole store device, rounded down to a chunk and capped at what
 * the metadata space map can manage, and data_start its end.  Returns -1
 * when the area would not hold the roots and one commit's shadows (the
 * 64 blocks shadow_metadata_blocks() allows them) besides the journal.
 */
static inline int shadow_layout_compute_clone(struct shadow_layout *l,
					      __u64 store_sectors,
					      __u32 chunk_sectors,
					      __u32 journal_blocks)
{
	__u64 blocks;

	if (!chunk_sectors || store_sectors > SHADOW_MAX_STORE_SECTORS)
		return -1;
	blocks = store_sectors / chunk_sectors * chunk_sectors /
		 SHADOW_MD_BLOCK_SECTORS;
	if (blocks > SHADOW_MAX_METADATA_BLOCKS)
		blocks = SHADOW_MAX_METADATA_BLOCKS;
	if (blocks < 1 + 64 + journal_blocks)
		return -1;
	l->metadata_blocks = blocks;
	l->data_start = blocks * SHADOW_MD_BLOCK_SECTORS;
	l->nr_data_chunks = 0;
	return 0;
}

/* The layout of a store of type @store_type (SHADOW_STORE_*). */
static inline int shadow_layout_compute_type(struct shadow_layout *l,
					     __u32 store_type,
					     __u64 store_sectors,
					     __u32 chunk_sectors,
					     __u32 journal_blocks)
{
	if (store_type == SHADOW_STORE_CLONE)
		return shadow_layout_compute_clone(l, store_sectors,
						   chunk_sectors,
						   journal_blocks);
	return shadow_layout_compute(l, store_sectors, chunk_sectors,
				     journal_blocks);
}

#endif /* DM_SHADOW_LAYOUT_H */
