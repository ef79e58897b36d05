/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The exception journal: a ring of 4 KiB blocks at the end of the
 * metadata area (dm-shadow-format.h says where and why).  This file knows
 * the blocks and their I/O; the metadata layer decides when a batch goes
 * to the journal and when it commits instead, and replays the entries
 * into its trees.
 *
 * Not locked: the metadata layer calls it under its own lock.
 */
#ifndef DM_SHADOW_JOURNAL_H
#define DM_SHADOW_JOURNAL_H

#include <linux/blkdev.h>
#include <linux/types.h>

struct shadow_journal;

struct shadow_journal_entry {
	u32 tree;		/* SHADOW_JOURNAL_SHARED or _PRIVATE */
	u64 chunk;
	u64 seq;
	u64 store_chunk;
};

/* The ring is @nr_blocks blocks from block @start of @bdev. */
struct shadow_journal *shadow_journal_create(struct block_device *bdev,
					     u64 start, u32 nr_blocks,
					     const u8 *uuid);
void shadow_journal_destroy(struct shadow_journal *j);

/* Add an entry to the next block; -ENOSPC when that block is full. */
int shadow_journal_add(struct shadow_journal *j,
		       const struct shadow_journal_entry *e);
/* Entries added and not yet written. */
unsigned int shadow_journal_unwritten(struct shadow_journal *j);
/* Has every block of the ring been written since the last reset? */
bool shadow_journal_full(struct shadow_journal *j);
/* Has any block been written since the last reset? */
bool shadow_journal_in_use(struct shadow_journal *j);

/*
 * Write the entries added so far to the next block, tagged with
 * @trans_id (the last commit's), and wait until it is durable, with
 * every write completed before it (REQ_PREFLUSH | REQ_FUA).
 */
int shadow_journal_write(struct shadow_journal *j, u64 trans_id);
/* After a commit: the ring starts again at its first block. */
void shadow_journal_reset(struct shadow_journal *j);

/*
 * Call @fn for every entry of the blocks written under @trans_id, in
 * order, up to the first block that is not one of them.  Stops at the
 * first error @fn returns.  *@ret_blocks: the blocks read as valid.
 */
typedef int (*shadow_journal_fn)(void *context,
				 const struct shadow_journal_entry *e);
int shadow_journal_replay(struct shadow_journal *j, u64 trans_id,
			  shadow_journal_fn fn, void *context,
			  unsigned int *ret_blocks);

#endif /* DM_SHADOW_JOURNAL_H */
