/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-shadow metadata layer: the only code that reads or writes the on-disk
 * format (dm-shadow-format.h).  Everything above it sees host-endian
 * values behind the opaque struct shadow_md.
 *
 * The metadata is transactional (dm-persistent-data): every change stays
 * in the running transaction until shadow_md_commit(), which makes all of
 * it durable at once, or none of it if power fails first.  Exceptions of
 * finished copies can be made durable sooner, by the exception journal
 * (shadow_md_commit_copies()), which the next open replays.  Data chunks
 * allocated and exceptions inserted in one transaction therefore appear
 * together after a crash, or not at all: nothing leaks.
 *
 * Locking: a reader-writer semaphore inside struct shadow_md.  Lookups
 * take it shared; with can_block false they neither sleep on it nor read a
 * block that is not cached, and return -EWOULDBLOCK instead (the map
 * functions' fast path).  Changes and commits take it exclusive.
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

/* The two exception trees. */
enum shadow_md_tree {
	SHADOW_MD_SHARED,	/* cow copies, tagged with an epoch */
	SHADOW_MD_PRIVATE,	/* a writable snapshot's own chunks */
};

/* One exception: the copy of @chunk tagged @seq lives in @store_chunk. */
struct shadow_md_exc {
	u64 chunk;
	u64 seq;
	u64 store_chunk;
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
/*
 * Make the exceptions inserted since the last commit durable: with one
 * journal write when the store has a journal, nothing else changed and
 * the ring has room; else by a commit.
 */
int shadow_md_commit_copies(struct shadow_md *md);
/* Commit if the journal holds entries: the trees on disk are then whole. */
int shadow_md_empty_journal(struct shadow_md *md);
/* Record in the superblock that the store needs an offline check. */
void shadow_md_set_needs_check(struct shadow_md *md);
bool shadow_md_needs_check(struct shadow_md *md);

sector_t shadow_md_data_start(struct shadow_md *md);
u64 shadow_md_nr_data_chunks(struct shadow_md *md);
u64 shadow_md_data_limit(struct shadow_md *md);
u64 shadow_md_used_chunks(struct shadow_md *md);
u64 shadow_md_trans_id(struct shadow_md *md);
/* Metadata blocks in use and in all. */
void shadow_md_metadata_usage(struct shadow_md *md, u64 *used, u64 *total);

/* Snapshots, by id. */
typedef int (*shadow_md_snap_fn)(void *context,
				 const struct shadow_md_snap *snap);
int shadow_md_snap_walk(struct shadow_md *md, shadow_md_snap_fn fn,
			void *context);
int shadow_md_snap_save(struct shadow_md *md,
			const struct shadow_md_snap *snap);
int shadow_md_snap_remove(struct shadow_md *md, u64 id);
u64 shadow_md_last_seq(struct shadow_md *md);
/* Hand out the next sequence; -ENOSPC once SHADOW_MAX_SEQ is reached. */
int shadow_md_next_seq(struct shadow_md *md, u64 *ret_seq);

/*
 * The first exception of @chunk in @tree whose tag is at least @seq.
 * Returns 0, -ENODATA if there is none, -EWOULDBLOCK (only when
 * !@can_block) if that needs I/O or waiting, or another -errno.
 */
int shadow_md_exc_find(struct shadow_md *md, enum shadow_md_tree tree,
		       u64 chunk, u64 seq, bool can_block,
		       struct shadow_md_exc *ret);
/* The first exception at or after (@chunk, @seq), any chunk: for walks. */
int shadow_md_exc_next(struct shadow_md *md, enum shadow_md_tree tree,
		       u64 chunk, u64 seq, struct shadow_md_exc *ret);
/* Map a chunk allocated with shadow_md_alloc(); the map owns it then. */
int shadow_md_exc_insert(struct shadow_md *md, enum shadow_md_tree tree,
			 const struct shadow_md_exc *e);
/* Unmap an exception; its data chunk is free after the next commit. */
int shadow_md_exc_remove(struct shadow_md *md, enum shadow_md_tree tree,
			 u64 chunk, u64 seq);

/*
 * Data chunk allocation.  shadow_md_alloc() returns -ENOSPC when as many
 * chunks as the data limit allows are in use.  A chunk is handed out by
 * the allocator only once it is free in the last committed transaction
 * too, so a chunk freed now is reused only after the commit that freed it.
 * shadow_md_release() gives back a chunk that was never mapped.
 */
int shadow_md_alloc(struct shadow_md *md, u64 *ret_chunk);
int shadow_md_release(struct shadow_md *md, u64 chunk);

/*
 * Let the store use at most @limit data chunks, and commit.  -EINVAL
 * unless 1 <= @limit <= nr_data_chunks; -ENOSPC when more chunks than
 * that are in use.
 */
int shadow_md_set_data_limit(struct shadow_md *md, u64 limit);

/*
 * Metadata snapshots: a read-only copy of the trees as of now, for
 * userspace to read while the store changes (shadow-dump --metadata-snap).
 * One at a time: -EBUSY while one is held; release gives -ENODATA when
 * none is.  The root is the copied superblock's block number.
 */
int shadow_md_reserve_snap(struct shadow_md *md, u64 *ret_root);
int shadow_md_release_snap(struct shadow_md *md);
u64 shadow_md_held_root(struct shadow_md *md);

/*
 * A revert's progress, in the running transaction like everything else:
 * the snapshot sequence being reverted to (0: none), the cursor below
 * which every origin chunk is merged, and the chunks at or above it that
 * were merged out of order.  begin starts an empty set; end drops it and
 * clears the state.  The caller commits.
 */
typedef int (*shadow_md_chunk_fn)(void *context, u64 chunk);
void shadow_md_revert_state(struct shadow_md *md, u64 *ret_seq,
			    u64 *ret_cursor);
int shadow_md_revert_begin(struct shadow_md *md, u64 seq);
void shadow_md_revert_set_cursor(struct shadow_md *md, u64 cursor);
int shadow_md_revert_mark(struct shadow_md *md, u64 chunk);
int shadow_md_revert_walk(struct shadow_md *md, shadow_md_chunk_fn fn,
			  void *context);
int shadow_md_revert_end(struct shadow_md *md);

/*
 * A row store's versions tagged in [from, below) were dropped by a revert
 * (both 0: none are); in the running transaction, the caller commits.
 */
void shadow_md_row_dropped(struct shadow_md *md, u64 *ret_from,
			   u64 *ret_below);
void shadow_md_row_set_dropped(struct shadow_md *md, u64 from, u64 below);

/*
 * A clone store's clones (dm-shadow-metadata-clone.c), in the running
 * transaction; the caller commits.  A hydrating clone has a bitset of the
 * origin chunks copied to its target; a complete or failed one has none.
 */
struct shadow_md_clone {
	u64 id;
	u64 nr_copied;
	u64 target_sectors;
	u32 state;		/* SHADOW_CLONE_* */
};

typedef int (*shadow_md_clone_fn)(void *context,
				  const struct shadow_md_clone *clone);
int shadow_md_clone_walk(struct shadow_md *md, shadow_md_clone_fn fn,
			 void *context);
/*
 * A new hydrating clone, nothing copied.  -ENOSPC when the metadata area
 * has no room for its bitset beside the other clones'.
 */
int shadow_md_clone_add(struct shadow_md *md, u64 id, u64 target_sectors);
/* Set bit c of @bits (nr_origin_chunks long) for every chunk c copied. */
int shadow_md_clone_load_bits(struct shadow_md *md, u64 id,
			      unsigned long *bits);
/* Record @n chunks, none recorded before, as copied to clone @id. */
int shadow_md_clone_set_bits(struct shadow_md *md, u64 id, const u64 *chunks,
			     unsigned int n);
/* The clone is complete or failed (@state): its bitset goes. */
int shadow_md_clone_finish(struct shadow_md *md, u64 id, u32 state);
int shadow_md_clone_remove(struct shadow_md *md, u64 id);

#endif /* DM_SHADOW_METADATA_H */
