/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-shadow metadata layer: the only code that reads or writes the on-disk
 * format (dm-shadow-format.h).  Everything above it sees host-endian
 * structs behind the opaque struct shadow_md.
 *
 * Contract: every function may sleep (it pages blocks through dm-bufio) and
 * none takes a lock; the caller serialises all calls on one shadow_md (the
 * pool's worker and its message handlers hold pool->lock).  Changes stay in
 * memory until shadow_md_commit(), which makes everything changed so far
 * durable (written and flushed) before it returns.
 *
 * Memory: a fixed structure plus whatever dm-bufio keeps cached; dm-bufio
 * bounds its cache globally (dm_bufio's max_cache_size_bytes), so kernel
 * memory does not grow with the number of copied chunks.
 */
#ifndef DM_SHADOW_METADATA_H
#define DM_SHADOW_METADATA_H

#include <linux/types.h>
#include <linux/blkdev.h>

struct shadow_md;

struct shadow_md_geometry {
	u32 store_type;		/* SHADOW_STORE_* */
	u32 chunk_sectors;
	sector_t origin_sectors;
};

struct shadow_md_snap {
	u64 id;
	u64 seq;
	u64 ctime;
	u32 state;		/* SHADOW_SNAP_* */
	u32 flags;		/* SHADOW_SNAPF_* */
};

struct shadow_md_record {
	u64 origin_chunk;
	u64 seq;
	u64 next;		/* record + 1, 0 = none */
	u32 flags;		/* SHADOW_REC_* */
};

/*
 * Open the store on @bdev.  An all-zero superblock is formatted for @geo;
 * anything else must validate and match @geo, or the open fails with a
 * message in *@error saying why.
 */
int shadow_md_open(struct block_device *bdev,
		   const struct shadow_md_geometry *geo,
		   struct shadow_md **ret_md, char **error);
void shadow_md_close(struct shadow_md *md);

int shadow_md_commit(struct shadow_md *md);

sector_t shadow_md_data_start(struct shadow_md *md);
u64 shadow_md_nr_data_chunks(struct shadow_md *md);
u64 shadow_md_data_limit(struct shadow_md *md);
u64 shadow_md_used_chunks(struct shadow_md *md);
u64 shadow_md_high_water(struct shadow_md *md);
u32 shadow_md_max_snapshots(struct shadow_md *md);

/* Snapshot table: slots 0 .. max_snapshots - 1. */
int shadow_md_snap_get(struct shadow_md *md, u32 slot,
		       struct shadow_md_snap *ret_snap);
int shadow_md_snap_set(struct shadow_md *md, u32 slot,
		       const struct shadow_md_snap *snap);
u64 shadow_md_next_seq(struct shadow_md *md);

/* Chunk index: head of each origin chunk's exception chain. */
int shadow_md_index_get(struct shadow_md *md, u64 chunk, u64 *ret_head);
int shadow_md_index_set(struct shadow_md *md, u64 chunk, u64 head);

int shadow_md_record_get(struct shadow_md *md, u64 rec,
			 struct shadow_md_record *ret_rec);
int shadow_md_record_set(struct shadow_md *md, u64 rec,
			 const struct shadow_md_record *r);

/*
 * Data chunk allocation.  shadow_md_alloc() returns -ENOSPC when the store
 * is full: no free chunk below the data limit.  shadow_md_free() puts a
 * record back on the free list; the caller must have committed the change
 * that unlinked it first.
 */
int shadow_md_alloc(struct shadow_md *md, u64 *ret_rec);
int shadow_md_free(struct shadow_md *md, u64 rec);

/*
 * Let the allocator use data chunks 0 .. @limit - 1 only, and commit.
 * -EINVAL unless 1 <= @limit <= nr_data_chunks; -ENOSPC when more chunks
 * than that are in use; -EBUSY when a chunk at or above @limit is allocated
 * (in use, or handed out for a copy still in flight).  Free chunks at or
 * above it are taken off the free list.  Other errors leave the metadata
 * unusable (the caller fails the store).  Must not run between a store's
 * copy_done and commit, nor inside its reclaim.
 */
int shadow_md_set_data_limit(struct shadow_md *md, u64 limit);

#endif /* DM_SHADOW_METADATA_H */
