/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Build small version 2 store images in memory and write them to a
 * temporary file: a superblock, the snapshot, exception and private
 * btrees (one leaf each, or leaves under one internal node), a data space
 * map (index btree leaf, bitmaps, ref count tree), the metadata space
 * map (index block, bitmap, ref count tree), all with the counts the
 * trees imply, and the exception journal's ring (counted once each, as
 * the kernel formats it) with the blocks its pending entries need.  A
 * clone store has a clone tree too, and a bitset (a dm_array of words:
 * its btree and array blocks) for each clone that has one.
 * Tests damage an image by changing the counts before image_build() or
 * the blocks after it.
 */
#ifndef SHADOW_TEST_IMAGE_H
#define SHADOW_TEST_IMAGE_H

#include "shadow-pd.h"

#define IMAGE_MAX_ENTRIES 1024
#define IMAGE_MAX_PENDING 256
#define IMAGE_MAX_CLONES 16

struct image_map {
	uint64_t key;
	uint64_t data_chunk;
};

/* An entry of the exception journal, in ring block @index. */
struct image_pending {
	uint32_t index;
	struct shadow_journal_entry entry;
};

/* A clone of a clone store, and the chunks its bitset says it copied. */
struct image_clone {
	struct shadow_clone rec;	/* bitset_root is set by image_build() */
	uint64_t *bits;			/* the bitset's words, host-endian */
	bool bitset;			/* image_build() writes one (hydrating: yes) */
	/*
	 * Its all-zero full array blocks are one block that every such
	 * index names (counted once per index), as dm_array may share an
	 * unwritten block; else each index has its own, as the 6.1 and
	 * 6.12 kernels' dm_array_resize() makes them.
	 */
	bool share_zero;
};

struct image {
	struct shadow_superblock sb;
	uint8_t *meta;			/* metadata_blocks blocks */
	uint64_t nblocks;		/* metadata_blocks */
	uint64_t sm_blocks;		/* the metadata space map's nr_blocks */
	struct shadow_snapshot snaps[64];
	size_t nsnaps;
	struct image_map exc[IMAGE_MAX_ENTRIES];
	size_t nexc;
	struct image_map priv[64];
	size_t npriv;
	uint32_t *data_count;		/* the data space map's counts, editable */
	uint32_t *md_count;		/* per sm_blocks block, set by image_build() */
	int32_t *md_delta;		/* added to md_count in the space map */
	uint64_t next;			/* next metadata block to hand out */
	uint64_t journal_start;		/* the ring's first block, nblocks without one */
	struct image_pending pending[IMAGE_MAX_PENDING];
	size_t npending;
	struct image_clone clones[IMAGE_MAX_CLONES];
	size_t nclones;
	char path[64];

	/*
	 * A metadata snapshot (image_hold()): the entries as they were then.
	 * image_build() lays out its trees first, then the live trees, which
	 * share every node whose contents are the same (counted twice in the
	 * metadata space map, as dm-persistent-data's shadowing leaves them);
	 * a data chunk is counted once per leaf block that maps it.  Set by
	 * image_build(): held_block, the copy of the superblock.
	 */
	bool held;
	struct shadow_superblock held_sb;
	struct shadow_snapshot held_snaps[64];
	size_t nheld_snaps;
	struct image_map held_exc[IMAGE_MAX_ENTRIES];
	size_t nheld_exc;
	struct image_map held_priv[64];
	size_t nheld_priv;
	uint64_t held_block;
};

/*
 * An empty cow store of the given geometry (nothing built yet), as the
 * kernel formats one now: with the exception journal.
 */
void image_init(struct image *im, uint64_t origin_sectors,
		uint64_t store_sectors, uint32_t chunk_sectors);
/* The same, as formatted before the journal: no ring, no feature bit. */
void image_init_old(struct image *im, uint64_t origin_sectors,
		    uint64_t store_sectors, uint32_t chunk_sectors);
/*
 * An empty clone store (SHADOW_STORE_CLONE): the clone feature, the
 * metadata-only layout, no data chunks, an empty clone tree.
 */
void image_init_clone(struct image *im, uint64_t origin_sectors,
		      uint64_t store_sectors, uint32_t chunk_sectors);
void image_add_snap(struct image *im, uint64_t id, uint64_t seq,
		    uint32_t state, uint32_t flags);
/*
 * Clone @id in @state, its target the origin's size, nothing copied; a
 * hydrating one gets a bitset.  Returns it, for a test to change.
 */
struct image_clone *image_add_clone(struct image *im, uint64_t id, uint32_t state);
/* Clone @id copied chunks @first to @first + @n - 1: bits set, nr_copied counted. */
void image_clone_copy(struct image *im, uint64_t id, uint64_t first, uint64_t n);
/* Map (chunk, seq) to @data_chunk and count it in the data space map. */
void image_add_exception(struct image *im, uint64_t chunk, uint64_t seq,
			 uint64_t data_chunk);
/*
 * A row store's version of @chunk tagged @tag (set im->sb.store_type to
 * SHADOW_STORE_ROW): its key holds the tag inverted, as the kernel
 * writes it.
 */
void image_add_version(struct image *im, uint64_t chunk, uint64_t tag,
		       uint64_t data_chunk);
void image_add_private(struct image *im, uint64_t chunk, uint64_t seq,
		       uint64_t data_chunk);
/*
 * A pending exception (@tree SHADOW_JOURNAL_SHARED) or private chunk
 * (SHADOW_JOURNAL_PRIVATE) in ring block @index: image_build() writes
 * every block from 0 to the last one named, under the superblock's uuid
 * and trans_id.  Not counted in the data space map: the replay does that.
 */
void image_add_pending(struct image *im, uint32_t index, uint64_t chunk,
		       uint64_t seq, uint64_t data_chunk, uint32_t tree);
/* Drop an entry (and, for a mapping, its data space map count). */
void image_del_snap(struct image *im, uint64_t id);
void image_del_exception(struct image *im, uint64_t chunk, uint64_t seq);
/*
 * Hold a metadata snapshot of the entries and superblock fields as they
 * are now (reserve_metadata_snap); later changes are the live trees'.
 */
void image_hold(struct image *im);
/* Lay out and seal every block from the entries and counts. */
void image_build(struct image *im);
uint8_t *image_block(struct image *im, uint64_t blocknr);
/* Ring block @index of the exception journal. */
uint8_t *image_journal_block(struct image *im, uint32_t index);
/*
 * The header image_build() gives ring block @index (no entries): to
 * rewrite one with a field changed, with shadow_journal_encode().
 */
struct shadow_journal_header image_journal_header(const struct image *im,
						  uint32_t index);
/* Re-encode and seal the superblock from im->sb. */
void image_seal_sb(struct image *im);
/* Write to a new temporary file (store_sectors long); returns its path. */
const char *image_write(struct image *im);
void image_done(struct image *im);

#endif
