/* SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later */
/*
 * Where each region of a dm-shadow store lives, computed from its geometry.
 *
 * Shared by the kernel module (which formats stores) and the userspace
 * tools (which read them offline), so both always agree.  Pure integer
 * arithmetic on <linux/types.h> types; no allocation, no I/O.
 */
#ifndef DM_SHADOW_LAYOUT_H
#define DM_SHADOW_LAYOUT_H

#include "dm-shadow-format.h"

struct shadow_layout {
	__u64 snap_table_start;		/* blocks */
	__u64 snap_table_blocks;
	__u64 index_start;		/* blocks */
	__u64 index_blocks;
	__u64 record_start;		/* blocks */
	__u64 record_blocks;
	__u64 data_start;		/* sectors, chunk aligned */
	__u64 nr_data_chunks;
};

static inline __u64 shadow_div_round_up(__u64 n, __u64 d)
{
	return (n + d - 1) / d;
}

/* Sectors needed by metadata plus data when the store holds n chunks. */
static inline __u64 shadow_layout_sectors(__u64 record_start, __u64 n,
					  __u32 chunk_sectors)
{
	__u64 meta = record_start +
		shadow_div_round_up(n, SHADOW_RECORDS_PER_BLOCK);

	meta = shadow_div_round_up(meta, chunk_sectors) * chunk_sectors;
	return meta + n * chunk_sectors;
}

/*
 * Fill @l for a store of @store_sectors serving an origin of
 * @nr_origin_chunks chunks.  Returns 0, or -1 when not even one data chunk
 * fits after the metadata (the store is too small).
 */
static inline int shadow_layout_compute(struct shadow_layout *l,
					__u64 store_sectors,
					__u64 nr_origin_chunks,
					__u32 chunk_sectors,
					__u32 max_snapshots)
{
	__u64 n;

	l->snap_table_start = 1;
	l->snap_table_blocks = shadow_div_round_up(max_snapshots,
						   SHADOW_SNAPS_PER_BLOCK);
	l->index_start = l->snap_table_start + l->snap_table_blocks;
	l->index_blocks = shadow_div_round_up(nr_origin_chunks,
					      SHADOW_INDEX_PER_BLOCK);
	l->record_start = l->index_start + l->index_blocks;

	if (store_sectors <= l->record_start + chunk_sectors)
		return -1;
	/* Start from the continuous estimate, then settle on the exact n. */
	n = (store_sectors - l->record_start) * SHADOW_RECORDS_PER_BLOCK /
	    ((__u64)chunk_sectors * SHADOW_RECORDS_PER_BLOCK + 1);
	while (n > 0 && shadow_layout_sectors(l->record_start, n,
					      chunk_sectors) > store_sectors)
		n--;
	while (shadow_layout_sectors(l->record_start, n + 1,
				     chunk_sectors) <= store_sectors)
		n++;
	if (n == 0)
		return -1;

	l->record_blocks = shadow_div_round_up(n, SHADOW_RECORDS_PER_BLOCK);
	l->data_start = shadow_layout_sectors(l->record_start, n,
					      chunk_sectors) -
			n * chunk_sectors;
	l->nr_data_chunks = n;
	return 0;
}

#endif /* DM_SHADOW_LAYOUT_H */
