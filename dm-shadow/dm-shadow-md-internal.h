/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The metadata layer's own state, shared by its files (the stores' trees
 * in dm-shadow-metadata.c, a clone store's clones in
 * dm-shadow-metadata-clone.c) and by nothing above them.
 */
#ifndef DM_SHADOW_MD_INTERNAL_H
#define DM_SHADOW_MD_INTERNAL_H

#include <linux/rwsem.h>
#include <linux/xarray.h>

#include <persistent-data/dm-block-manager.h>
#include <persistent-data/dm-btree.h>
#include <persistent-data/dm-space-map.h>
#include <persistent-data/dm-transaction-manager.h>

struct shadow_journal;

#ifdef SHADOW_PD_CONST_VALIDATOR
#define SHADOW_VALIDATOR const struct dm_block_validator
#else
#define SHADOW_VALIDATOR struct dm_block_validator
#endif

struct shadow_md {
	struct block_device *bdev;
	struct dm_block_manager *bm;
	struct dm_space_map *metadata_sm;
	struct dm_space_map *data_sm;
	struct dm_transaction_manager *tm;
	struct dm_transaction_manager *nb_tm;

	struct dm_btree_info exc_info;		/* both exception trees */
	struct dm_btree_info nb_exc_info;	/* the same, non-blocking */
	struct dm_btree_info snap_info;
	struct dm_btree_info revert_info;

	struct rw_semaphore lock;
	struct xarray unmapped;			/* allocated, not yet mapped */
	struct shadow_journal *journal;		/* NULL: the store has none */
	/* The running transaction holds a change the journal cannot carry. */
	bool must_commit;

	/* The superblock's fields, as of the running transaction. */
	u8 uuid[16];
	u32 store_type;
	u32 chunk_sectors;
	u32 flags;
	u64 origin_sectors;
	u64 nr_origin_chunks;
	u64 store_sectors;
	u64 metadata_blocks;
	u32 journal_blocks;			/* the ring ends the area */
	u64 data_start;
	u64 nr_data_chunks;
	u64 format_time;
	u64 trans_id;
	u64 data_limit;
	u64 last_seq;
	dm_block_t roots[2];			/* by enum shadow_md_tree */
	dm_block_t snap_root;
	dm_block_t held_root;			/* metadata snapshot, 0 = none */
	u64 revert_seq;				/* 0: no revert runs */
	u64 revert_cursor;
	dm_block_t revert_root;
	u64 dropped_from;			/* a row store's revert */
	u64 dropped_below;
	dm_block_t clone_root;			/* a clone store's clones */
	struct dm_btree_info clone_info;
};

#endif /* DM_SHADOW_MD_INTERNAL_H */
