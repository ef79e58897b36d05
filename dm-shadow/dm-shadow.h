/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-shadow core: the pool (one store shared by an origin and all its
 * snapshots), its worker, and the exception-store interface.
 *
 * Locking: pool->lock (a mutex) serialises everything that changes
 * metadata or the snapshot set: the worker, target messages, reclaim,
 * snapshot target ctr/dtr and status.  The map functions do not take it:
 * they look metadata up without blocking (the metadata layer has its own
 * reader-writer lock) and hand the bio to the worker when they cannot.
 * pool->bio_lock (a spinlock) protects the lists that map functions and
 * kcopyd callbacks hand to the worker and the counts of copies,
 * pool->pending_lock the copies in flight, pool->track_lock the origin
 * chunks that snapshot reads are reading.
 */
#ifndef DM_SHADOW_H
#define DM_SHADOW_H

#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/hashtable.h>
#include <linux/dm-kcopyd.h>
#include <linux/list.h>
#include <linux/mempool.h>
#include <linux/wait.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "dm-shadow-metadata.h"
#include "dm-shadow-format.h"

#define DM_MSG_PREFIX "shadow"

#define SHADOW_HASH_BITS	8
/* Copies the worker records per commit, at most. */
#define SHADOW_COMMIT_BATCH	64
/* Usage thresholds that raise an event, at most. */
#define SHADOW_MAX_THRESHOLDS	8

/* One snapshot, in memory; persisted in the store's snapshot tree. */
struct shadow_snap {
	u64 id;
	u64 seq;
	u64 ctime;
	u32 state;		/* SHADOW_SNAP_*; read by map functions */
	u32 flags;		/* SHADOW_SNAPF_* */
	unsigned int open_count;	/* shadow-snap targets using it */
	bool writable;		/* a writable shadow-snap target is loaded */
	/*
	 * A snapshot whose data is on a device of its own (a clone): that
	 * device, held by the shadow-snap targets loaded for it; else NULL.
	 */
	struct block_device *bdev;
};

/* A copied chunk, as the store records it once the copy has completed. */
struct shadow_exception {
	u64 chunk;		/* origin chunk */
	u64 store_chunk;	/* data chunk in the store */
	u64 seq;		/* shared: newest snapshot; private: owner */
	bool private;
	/* A store with copy_dests: where the copy goes, and where it failed. */
	u32 targets;
	u32 failed;
};

enum shadow_map_kind {
	SHADOW_MAP_ORIGIN,	/* use the origin chunk */
	SHADOW_MAP_STORE,	/* use store chunk m->store_chunk */
	SHADOW_MAP_COPY,	/* copy first, record m->e, then map again */
	SHADOW_MAP_INVALID,	/* the snapshot has no data: fail the I/O */
	SHADOW_MAP_HOLD,	/* a revert merges the chunk first */
};

struct shadow_map {
	enum shadow_map_kind kind;
	/*
	 * STORE: store_chunk of the store's data area, or with bdev set the
	 * chunk at that offset of bdev (a clone's target).
	 */
	struct block_device *bdev;
	u64 store_chunk;
	bool copy_from_store;	/* COPY: source is store chunk copy_from */
	u64 copy_from;
	struct shadow_exception e;
};

/* What a store does when it has no room for a copy. */
enum shadow_full_policy {
	SHADOW_FULL_DROP_OLDEST,	/* invalidate the oldest snapshot */
};

struct shadow_pool;

/*
 * A device the origin's table names for one of the store's snapshots: a
 * clone's target (feature clone_target <id> <dev>).
 */
struct shadow_target {
	u64 id;
	struct dm_dev *dev;
};

/* What the origin's table says to its store, past the four arguments. */
struct shadow_store_args {
	unsigned int nr;		/* clone_target features */
	struct shadow_target t[SHADOW_MAX_CLONES];
	bool hydrate_rate_set;		/* feature hydrate_rate <MiB/s> */
	u32 hydrate_rate;
};

/*
 * An exception store: its layout, its policies and its operations.
 *
 * The map operations say where a bio goes.  With can_block false they run
 * in a map function and must neither sleep nor read metadata that is not
 * cached: they return -EWOULDBLOCK and the bio goes to the worker, which
 * asks again with can_block true, under pool->lock.  -ENOSPC from a map
 * operation means the store is full (the pool applies full_policy and asks
 * again).  map_origin_read is optional: without it origin reads go to the
 * origin.  Other operations run under pool->lock and may sleep.
 */
struct shadow_store_type {
	const char *name;
	u32 disk_type;		/* SHADOW_STORE_* */
	struct module *owner;
	struct list_head list;

	enum shadow_full_policy full_policy;
	/* On a failed store: fail origin I/O (the live data is in it)? */
	bool fail_origin_io;
	/*
	 * The live volume's data may be in the store: every origin bio asks
	 * map_origin_read or map_origin_write, origin bios mapped to store
	 * chunks are tracked like snapshot reads (so that the store's
	 * background work can claim a chunk, shadow_pool_claim_chunk()), and
	 * a discard that would need a new chunk has nothing to discard.
	 */
	bool live_in_store;
	/*
	 * Copies are made durable by the next flush or FUA write, as dm-thin
	 * does, not before the bios that waited for them go on: nothing on
	 * disk depends on them until then.
	 */
	bool commit_on_flush;
	/* A write that covers a whole new chunk is its copy: none is made. */
	bool whole_write_no_copy;
	/* Its snapshot devices are read-only (a writable one is refused). */
	bool snaps_read_only;
	/*
	 * Its reclaim folds live data back into the origin device, which a
	 * throttle can stretch to hours: a delete answers without waiting
	 * for it (the status shows its progress).
	 */
	bool reclaim_folds_back;

	int (*init)(struct shadow_pool *pool);
	void (*exit)(struct shadow_pool *pool);
	int (*map_origin_read)(struct shadow_pool *pool, u64 chunk,
			       bool can_block, struct shadow_map *m);
	int (*map_origin_write)(struct shadow_pool *pool, u64 chunk,
				bool can_block, struct shadow_map *m);
	int (*map_snap_read)(struct shadow_pool *pool, struct shadow_snap *s,
			     u64 chunk, bool can_block, struct shadow_map *m);
	int (*map_snap_write)(struct shadow_pool *pool, struct shadow_snap *s,
			      u64 chunk, bool can_block, struct shadow_map *m);
	/*
	 * A copy finished (or a whole-chunk write, its own copy): map it in
	 * the running transaction, or give its chunk back if nothing needs
	 * it any more.  The pool commits.
	 */
	int (*copy_done)(struct shadow_pool *pool,
			 const struct shadow_exception *e);
	/*
	 * Free every chunk that no remaining snapshot needs.  Commits as it
	 * goes and may drop pool->lock between batches.
	 */
	int (*reclaim)(struct shadow_pool *pool);
	/*
	 * Optional, under pool->lock: a message of the store's own
	 * (-EOPNOTSUPP when @argv is none of its messages), and the store's
	 * status fields, appended to the origin's status line.
	 */
	int (*message)(struct shadow_pool *pool, unsigned int argc,
		       char **argv);
	void (*status)(struct shadow_pool *pool, char *result,
		       unsigned int maxlen, unsigned int *sz_ptr);
	/*
	 * Roll the live volume back to snapshot @s (valid, never written),
	 * under pool->lock while the origin is suspended; logs why it
	 * refuses.  NULL: the store cannot revert.
	 */
	int (*revert)(struct shadow_pool *pool, struct shadow_snap *s);

	/*
	 * Optional, for a store whose copies do not go to its own data area
	 * (the clone store's go to its clones' targets): fill @to with the
	 * copy's destinations, at most DM_KCOPYD_MAX_REGIONS, from
	 * e->targets, and return how many.  Such a copy allocates no store
	 * chunk, and a write error on some destinations is no copy error:
	 * copy_done finds their bits (by @to's order) in e->failed.
	 * flush_copies makes the copies done so far durable on their
	 * devices before the commit that records them.
	 */
	unsigned int (*copy_dests)(struct shadow_pool *pool,
				   const struct shadow_exception *e,
				   struct dm_io_region *to);
	int (*flush_copies)(struct shadow_pool *pool);
	/*
	 * Optional, under pool->lock: a snapshot is about to be created or
	 * deleted.  Refuses (logging why, changing nothing) or records the
	 * store's part in the running transaction, which the caller commits.
	 */
	int (*snap_add)(struct shadow_pool *pool, u64 id);
	int (*snap_remove)(struct shadow_pool *pool, u64 id);
	/*
	 * Optional: check what a new origin table says to the store (ctr,
	 * under pool->lock); the origin was resumed with pool->store_args
	 * its table's; it was suspended (its I/O drained).
	 */
	int (*check_args)(struct shadow_pool *pool,
			  const struct shadow_store_args *args,
			  char **error);
	void (*resume)(struct shadow_pool *pool);
	void (*suspend)(struct shadow_pool *pool);
	/*
	 * Optional, under pool->lock: the device that holds snapshot @s's
	 * data, which its shadow-snap targets hold while they are loaded;
	 * -ENODEV (logged) when the origin's table names none.
	 */
	int (*snap_dev)(struct shadow_pool *pool, struct shadow_snap *s,
			dev_t *ret_dev);
};

int shadow_store_register(struct shadow_store_type *type);
void shadow_store_unregister(struct shadow_store_type *type);
struct shadow_store_type *shadow_store_get(const char *name);
void shadow_store_put(struct shadow_store_type *type);

/*
 * A revert in progress (dm-shadow-revert.c); seq 0 when none runs.  The
 * map functions read seq, cursor, durable and marks without pool->lock.
 */
struct shadow_revert {
	u64 id;			/* the snapshot reverted to */
	u64 seq;		/* its sequence */
	struct shadow_snap *snap;	/* it; kept while the revert runs */
	u64 cursor;		/* origin chunks below it are merged */
	u64 durable;		/* ... and that is on disk */
	struct xarray marks;	/* chunks merged out of order */
	bool pending_marks;	/* some of them not on disk yet */
	bool paused;		/* the origin is suspended */
	struct bio_list held;	/* writes waiting; under pool->bio_lock */
	struct work_struct work;
	struct delayed_work retry;
};

struct shadow_pool {
	struct list_head list;		/* in the global pool list */
	unsigned int refs;		/* origin and snapshot targets */
	unsigned int origin_refs;	/* origin targets only */
	struct dm_target *origin_ti;	/* the resumed origin, for events */
	/* What the resumed origin table says to the store; under lock. */
	const struct shadow_store_args *store_args;
	dev_t md_devt;			/* the origin's mapped device */

	struct block_device *origin_bdev;
	struct block_device *store_bdev;
	dev_t store_devt;
	sector_t origin_sectors;
	u32 chunk_sectors;
	unsigned int chunk_shift;
	sector_t data_start;

	struct shadow_store_type *type;
	void *store_ctx;
	struct shadow_md *md;
	struct dm_kcopyd_client *kc;
	struct workqueue_struct *wq;
	struct work_struct worker;
	struct workqueue_struct *local_wq;	/* bound: see shadow_defer_bio() */
	struct work_struct local_worker;
	struct delayed_work retry;
	struct delayed_work reclaim;
	mempool_t pending_pool;

	struct mutex lock;
	/* Copies the worker's pass has begun, not yet sent: under lock. */
	struct list_head copy_plug;
	bool failed;			/* metadata unusable */
	/* Being destroyed: a walk ends after its batch; READ_ONCE */
	bool stopping;
	/* commit_on_flush: copies recorded and not durable; READ_ONCE */
	bool need_commit;
	/*
	 * live_in_store: the store may hold live data, or a snapshot exists;
	 * READ_ONCE.  While false origin I/O goes straight to the origin.
	 */
	bool store_live;

	/*
	 * Copies in flight and chunks claimed by the store, by origin chunk;
	 * the map functions look too.
	 */
	spinlock_t pending_lock;
	DECLARE_HASHTABLE(pending, SHADOW_HASH_BITS);
	unsigned int nr_pending;	/* in it; READ_ONCE without the lock */

	/* Snapshots, under lock. */
	struct xarray snaps;		/* by id */
	struct shadow_snap **live;	/* valid ones, by ascending seq */
	u32 nr_live;
	u32 nr_snaps;			/* valid + invalid */
	u32 nr_invalid;
	atomic_t live_count;		/* nr_live, read without the lock */
	u64 newest_seq;			/* of the valid ones; READ_ONCE */

	/* Usage thresholds, % of the data limit, ascending; under lock. */
	u8 thresholds[SHADOW_MAX_THRESHOLDS];
	unsigned int nr_thresholds;
	unsigned int usage_level;	/* thresholds reached at the last check */

	spinlock_t bio_lock;
	struct bio_list deferred;
	struct bio_list delayed;	/* waiting for snapshot reads */
	struct list_head copied;	/* finished copies, not yet recorded */
	unsigned int nr_copied;		/* in it */
	unsigned int copying;		/* copies started, not yet finished */

	spinlock_t track_lock;
	DECLARE_HASHTABLE(track, SHADOW_HASH_BITS);

	/*
	 * Snapshot bios between their lookup and their completion.  Chunks
	 * freed when a snapshot is invalidated may be reused after the next
	 * commit; a bio of that snapshot must not meet the new owner's data.
	 */
	atomic_t snap_io;
	wait_queue_head_t snap_io_wait;
	/* A worker applies the full-store policy: under lock; READ_ONCE */
	bool overflowing;
	wait_queue_head_t overflow_wait;

	struct shadow_revert revert;
};

struct shadow_pending;

/* Per bio, for both targets. */
struct shadow_bio_ctx {
	struct shadow_snap *snap;	/* NULL for the origin */
	struct hlist_node track_node;
	u64 chunk;
	bool tracked;
	bool counted;			/* counted in pool->snap_io */
	/* A whole-chunk write that is its own copy, while it runs. */
	struct shadow_pending *copy;
	bio_end_io_t *saved_end_io;
};

/* Whether the table was loaded read-write (the mode's type changed in 6.5). */
static inline bool shadow_table_writable(struct dm_target *ti)
{
#ifdef BLK_OPEN_WRITE
	return dm_table_get_mode(ti->table) & BLK_OPEN_WRITE;
#else
	return dm_table_get_mode(ti->table) & FMODE_WRITE;
#endif
}

static inline u64 shadow_chunk_of(struct shadow_pool *pool, sector_t sector)
{
	return sector >> pool->chunk_shift;
}

/* dm-shadow-pool.c */
int shadow_pool_get(struct dm_target *ti, struct dm_dev *origin,
		    struct dm_dev *store, const char *type_name,
		    u32 chunk_sectors, struct shadow_pool **ret_pool);
struct shadow_pool *shadow_pool_find_by_origin(dev_t origin);
void shadow_pool_put(struct shadow_pool *pool, struct dm_target *ti);
void shadow_pool_bind(struct shadow_pool *pool, struct dm_target *ti,
		      const struct shadow_store_args *args);
void shadow_pool_unbind_args(struct shadow_pool *pool,
			     const struct shadow_store_args *args);
void shadow_pool_suspend(struct shadow_pool *pool);
int shadow_pool_retry_failed(struct shadow_pool *pool);
int shadow_pool_map_origin_write(struct shadow_pool *pool, struct bio *bio);
int shadow_pool_map_live(struct shadow_pool *pool, struct bio *bio);
int shadow_pool_map_flush(struct shadow_pool *pool, struct bio *bio);
int shadow_pool_map_snap(struct shadow_pool *pool, struct shadow_snap *s,
			 struct bio *bio);
void shadow_pool_bio_done(struct shadow_pool *pool,
			 struct shadow_bio_ctx *ctx);
void shadow_pool_wait_snap_io(struct shadow_pool *pool);
typedef int (*shadow_walk_step_fn)(struct shadow_pool *pool, void *arg);
int shadow_pool_walk(struct shadow_pool *pool, shadow_walk_step_fn step,
		     void *arg);
void shadow_pool_kick_reclaim(struct shadow_pool *pool);
void shadow_pool_kick_reclaim_later(struct shadow_pool *pool,
				    unsigned long delay);
void shadow_pool_commit_copies(struct shadow_pool *pool);
bool shadow_pool_reclaim_busy(struct shadow_pool *pool);
void shadow_pool_wait_reclaim(struct shadow_pool *pool);
void shadow_pool_drain(struct shadow_pool *pool);
void shadow_pool_event(struct shadow_pool *pool);
void shadow_pool_fail(struct shadow_pool *pool, const char *why, int err);
int shadow_pool_map_origin_read(struct shadow_pool *pool, struct bio *bio);
int shadow_pool_map_cow(struct shadow_pool *pool, u64 chunk,
			struct shadow_map *m);
bool shadow_pool_chunk_in_flight(struct shadow_pool *pool, u64 chunk);
sector_t shadow_pool_chunk_len(struct shadow_pool *pool, u64 chunk);
u64 shadow_pool_nr_chunks(struct shadow_pool *pool);

/* dm-shadow-pool.c, for dm-shadow-copy.c: the worker's side of a copy. */
/* Send @bio to store chunk @store_chunk of the store's data area. */
void shadow_remap_store(struct shadow_pool *pool, struct bio *bio,
			u64 store_chunk);
/* Hand @bio back to the worker. */
void shadow_requeue_bio(struct shadow_pool *pool, struct bio *bio);
/* Hand @bio back to the worker a tick later. */
void shadow_delay_bio(struct shadow_pool *pool, struct bio *bio);
/* Is a tracked bio (a snapshot read, a live bio in the store) at @chunk? */
bool shadow_is_tracked(struct shadow_pool *pool, u64 chunk);
/* Send @bio where @m says, from the worker: under pool->lock. */
void shadow_dispatch(struct shadow_pool *pool, struct bio *bio,
		     const struct shadow_map *m);
/* Make the copies recorded so far durable, under pool->lock. */
void shadow_commit_copies_now(struct shadow_pool *pool);

/* dm-shadow-copy.c: a chunk's copy, from its start to its record. */
/* Set up the pool's reserve of pending records. */
int shadow_pending_pool_init(struct shadow_pool *pool);
/* Is a copy or a claim of @chunk in flight? */
bool shadow_is_pending(struct shadow_pool *pool, u64 chunk);
/* Queue @bio on the copy or claim of @chunk in flight, if any: true if so. */
bool shadow_pending_add_bio(struct shadow_pool *pool, u64 chunk,
			    struct bio *bio);
/* A store chunk for the copy of @chunk: @m asks for that copy. */
int shadow_pool_alloc_copy(struct shadow_pool *pool, u64 chunk,
			   struct shadow_map *m);
/* Start the copy @m asks for, @bio waiting on it (under pool->lock). */
void shadow_start_copy(struct shadow_pool *pool, struct bio *bio,
		       const struct shadow_map *m);
/* Write @bio, which fills the new chunk @m allocated, as its copy. */
void shadow_start_data_bio(struct shadow_pool *pool, struct bio *bio,
			   const struct shadow_map *m);
/* The copy @m asked for is not made: its store chunk goes back. */
void shadow_copy_give_back(struct shadow_pool *pool,
			   const struct shadow_map *m);
/* Send the copies begun in the worker's pass to kcopyd. */
void shadow_copy_unplug(struct shadow_pool *pool);
/* Record the finished copies, commit, and let their bios go on. */
void shadow_process_copied(struct shadow_pool *pool);
/* Claim @chunk for the store's own work on it; NULL: try again later. */
struct shadow_pending *shadow_pool_claim_chunk(struct shadow_pool *pool,
					       u64 chunk);
/* The store is done with a chunk it claimed: its bios go on. */
void shadow_pool_release_chunk(struct shadow_pool *pool,
			       struct shadow_pending *claim);
/* The pending records' slab cache, at module load and unload. */
int shadow_copy_module_init(void);
void shadow_copy_module_exit(void);

/* dm-shadow-private.c: writable snapshots' own chunks, for the stores. */
typedef int (*shadow_find_shared_fn)(struct shadow_pool *pool,
				     struct shadow_snap *s, u64 chunk,
				     bool can_block, struct shadow_map *m);
int shadow_private_map_read(struct shadow_pool *pool, struct shadow_snap *s,
			    u64 chunk, bool can_block, struct shadow_map *m,
			    shadow_find_shared_fn find_shared);
int shadow_private_map_write(struct shadow_pool *pool, struct shadow_snap *s,
			     u64 chunk, bool can_block, struct shadow_map *m,
			     shadow_find_shared_fn find_shared);
int shadow_private_copy_done(struct shadow_pool *pool,
			     const struct shadow_exception *e);
int shadow_private_reclaim(struct shadow_pool *pool);

/* dm-shadow-snapset.c: the pool's snapshots, under pool->lock. */
int shadow_snapset_load(struct shadow_pool *pool);
void shadow_snapset_free(struct shadow_pool *pool);
struct shadow_snap *shadow_snapset_find(struct shadow_pool *pool, u64 id);
struct shadow_snap *shadow_snapset_find_seq(struct shadow_pool *pool, u64 seq);
int shadow_snapset_create(struct shadow_pool *pool, u64 id);
int shadow_snapset_delete(struct shadow_pool *pool, u64 id);
int shadow_snapset_invalidate_oldest(struct shadow_pool *pool);
int shadow_snapset_seal(struct shadow_pool *pool, struct shadow_snap *s);
int shadow_snapset_mark_written(struct shadow_pool *pool,
				struct shadow_snap *s);
bool shadow_snapset_live_in(struct shadow_pool *pool, u64 lo, u64 hi);
u64 shadow_snapset_newest_at_or_below(struct shadow_pool *pool, u64 seq);
int shadow_snapset_invalidate_all(struct shadow_pool *pool);
int shadow_snapset_invalidate_one(struct shadow_pool *pool,
				  struct shadow_snap *s);

/* dm-shadow-usage.c: data limit and usage events, under pool->lock. */
void shadow_usage_init(struct shadow_pool *pool);
void shadow_usage_check(struct shadow_pool *pool);
int shadow_usage_set_limit(struct shadow_pool *pool, u64 limit);
int shadow_usage_set_thresholds(struct shadow_pool *pool, const u8 *pct,
				unsigned int n);
void shadow_usage_emit_thresholds(struct shadow_pool *pool, char *result,
				  unsigned int maxlen);

/* dm-shadow-revert.c: roll the origin back to a snapshot. */
void shadow_revert_init(struct shadow_pool *pool);
int shadow_revert_load(struct shadow_pool *pool);
void shadow_revert_free(struct shadow_pool *pool);
int shadow_revert_start(struct shadow_pool *pool, struct shadow_snap *s);
bool shadow_revert_active(struct shadow_pool *pool);
bool shadow_revert_pins(struct shadow_pool *pool, struct shadow_snap *s);
int shadow_revert_map(struct shadow_pool *pool, bool write, u64 chunk,
		      bool can_block, struct shadow_map *m);
void shadow_revert_hold(struct shadow_pool *pool, struct bio *bio);
void shadow_revert_pause(struct shadow_pool *pool);
void shadow_revert_resume(struct shadow_pool *pool);
void shadow_revert_status(struct shadow_pool *pool, char *result,
			  unsigned int maxlen, unsigned int *sz_ptr);

/* Targets. */
extern struct target_type shadow_origin_target;
extern struct target_type shadow_snap_target;
extern struct shadow_store_type shadow_cow_store;
extern struct shadow_store_type shadow_row_store;
extern struct shadow_store_type shadow_clone_store;

#endif /* DM_SHADOW_H */
