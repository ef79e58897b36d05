// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pool: one store shared by an origin and all its snapshots.
 *
 * A pool is found by its store device, so that reloading the origin's
 * table (the new table is built before the old one is destroyed) reuses
 * the running pool, the way dm-thin finds its pool by metadata device.
 * Snapshot targets find it by the origin device under the shadow-origin,
 * which they can open next to it: the shadow-origin's own mapped device
 * is usually held exclusively by a mounted file system.
 *
 * The map functions remap a bio themselves whenever the store can answer
 * without blocking (the metadata it needs is cached and no copy of the
 * chunk is in flight): a re-write of a chunk already copied, a snapshot
 * read.  Everything else goes to the worker, which asks the store again
 * (blocking) and starts chunk copies with kcopyd (dm-shadow-copy.c).
 * Finished copies are recorded and made durable in batches (one journal
 * write or commit for all the copies that were in flight together), and
 * only then are the bios that waited for them let go: by the last copy's
 * kcopyd callback when the worker is idle, else by the worker.  The worker
 * is one function under pool->lock, queued on either of two workqueues:
 * the bound one when a bio comes alone (queue depth one), the unbound one
 * otherwise.
 */
#include "dm-shadow.h"
#include "dm-shadow-format.h"

#include <linux/module.h>
#include <linux/slab.h>

static LIST_HEAD(shadow_pools);
static DEFINE_MUTEX(shadow_pools_lock);
static LIST_HEAD(shadow_store_types);
static DEFINE_SPINLOCK(shadow_store_types_lock);

/* Store type registry */

int shadow_store_register(struct shadow_store_type *type)
{
	spin_lock(&shadow_store_types_lock);
	list_add_tail(&type->list, &shadow_store_types);
	spin_unlock(&shadow_store_types_lock);
	return 0;
}

void shadow_store_unregister(struct shadow_store_type *type)
{
	spin_lock(&shadow_store_types_lock);
	list_del(&type->list);
	spin_unlock(&shadow_store_types_lock);
}

struct shadow_store_type *shadow_store_get(const char *name)
{
	struct shadow_store_type *t, *found = NULL;

	spin_lock(&shadow_store_types_lock);
	list_for_each_entry(t, &shadow_store_types, list) {
		if (!strcmp(t->name, name) && try_module_get(t->owner)) {
			found = t;
			break;
		}
	}
	spin_unlock(&shadow_store_types_lock);
	return found;
}

void shadow_store_put(struct shadow_store_type *type)
{
	module_put(type->owner);
}

/* Bio routing */

static void shadow_remap_origin(struct shadow_pool *pool, struct bio *bio)
{
	bio_set_dev(bio, pool->origin_bdev);
}

void shadow_remap_store(struct shadow_pool *pool, struct bio *bio,
			u64 store_chunk)
{
	sector_t offset = bio->bi_iter.bi_sector & (pool->chunk_sectors - 1);

	bio_set_dev(bio, pool->store_bdev);
	bio->bi_iter.bi_sector = pool->data_start +
		((sector_t)store_chunk << pool->chunk_shift) + offset;
}

/* To chunk @chunk of another device of the store's (a clone's target). */
static void shadow_remap_dev(struct shadow_pool *pool, struct bio *bio,
			     struct block_device *bdev, u64 chunk)
{
	sector_t offset = bio->bi_iter.bi_sector & (pool->chunk_sectors - 1);

	bio_set_dev(bio, bdev);
	bio->bi_iter.bi_sector = ((sector_t)chunk << pool->chunk_shift) +
				 offset;
}

/* Where @m sends a bio it maps to the store. */
static void shadow_remap_to(struct shadow_pool *pool, struct bio *bio,
			    const struct shadow_map *m)
{
	if (m->bdev)
		shadow_remap_dev(pool, bio, m->bdev, m->store_chunk);
	else
		shadow_remap_store(pool, bio, m->store_chunk);
}

/*
 * Queue @bio for the worker; true if nothing else waits for it or copies
 * (read without pending_lock: it only chooses where the worker runs).
 */
static bool shadow_queue_bio(struct shadow_pool *pool, struct bio *bio)
{
	unsigned long flags;
	bool alone;

	spin_lock_irqsave(&pool->bio_lock, flags);
	alone = bio_list_empty(&pool->deferred) && !READ_ONCE(pool->nr_pending);
	bio_list_add(&pool->deferred, bio);
	spin_unlock_irqrestore(&pool->bio_lock, flags);
	return alone;
}

/*
 * A map function hands @bio to the worker.  When the bio is alone (queue
 * depth one: a database's synchronous write, dd) the worker runs on this
 * CPU as soon as the submitter sleeps, which costs much less than waking
 * another CPU; under load it runs on any CPU, beside the submitters.
 */
static void shadow_defer_bio(struct shadow_pool *pool, struct bio *bio)
{
	if (shadow_queue_bio(pool, bio))
		queue_work(pool->local_wq, &pool->local_worker);
	else
		queue_work(pool->wq, &pool->worker);
}

/* The worker or a copy's completion hands @bio back to the worker. */
void shadow_requeue_bio(struct shadow_pool *pool, struct bio *bio)
{
	shadow_queue_bio(pool, bio);
	queue_work(pool->wq, &pool->worker);
}

/* Snapshot reads of origin chunks, which origin writes must not overtake. */

static void shadow_track(struct shadow_pool *pool, struct shadow_bio_ctx *ctx)
{
	unsigned long flags;

	if (ctx->tracked)
		return;
	spin_lock_irqsave(&pool->track_lock, flags);
	hash_add(pool->track, &ctx->track_node, ctx->chunk);
	ctx->tracked = true;
	spin_unlock_irqrestore(&pool->track_lock, flags);
}

static void shadow_untrack(struct shadow_pool *pool, struct shadow_bio_ctx *ctx)
{
	unsigned long flags;

	if (!ctx->tracked)
		return;
	spin_lock_irqsave(&pool->track_lock, flags);
	hash_del(&ctx->track_node);
	ctx->tracked = false;
	spin_unlock_irqrestore(&pool->track_lock, flags);
}

bool shadow_is_tracked(struct shadow_pool *pool, u64 chunk)
{
	struct shadow_bio_ctx *ctx;
	unsigned long flags;
	bool found = false;

	spin_lock_irqsave(&pool->track_lock, flags);
	hash_for_each_possible(pool->track, ctx, track_node, chunk) {
		if (ctx->chunk == chunk) {
			found = true;
			break;
		}
	}
	spin_unlock_irqrestore(&pool->track_lock, flags);
	return found;
}

/*
 * Count a snapshot bio before its lookup, so that an invalidation either
 * sees it (and waits for it) or is seen by its state check.
 */
static void shadow_count_snap_io(struct shadow_pool *pool,
				 struct shadow_bio_ctx *ctx)
{
	if (ctx->counted)
		return;
	ctx->counted = true;
	atomic_inc(&pool->snap_io);
	/*
	 * Pairs with the invalidation: it sets the state, then reads the
	 * count; we count, then read the state (in the lookup).
	 */
	smp_mb__after_atomic();
}

static void shadow_uncount_snap_io(struct shadow_pool *pool,
				   struct shadow_bio_ctx *ctx)
{
	if (!ctx->counted)
		return;
	ctx->counted = false;
	if (atomic_dec_and_test(&pool->snap_io))
		wake_up(&pool->snap_io_wait);
}

/* A tracked or counted bio completed, or will not be submitted. */
void shadow_pool_bio_done(struct shadow_pool *pool,
			 struct shadow_bio_ctx *ctx)
{
	shadow_untrack(pool, ctx);
	shadow_uncount_snap_io(pool, ctx);
}

/*
 * Called under pool->lock after a snapshot was invalidated, before its
 * chunks are freed.  Bios counted now either finish or see the new state.
 */
void shadow_pool_wait_snap_io(struct shadow_pool *pool)
{
	wait_event(pool->snap_io_wait, !atomic_read(&pool->snap_io));
}

void shadow_delay_bio(struct shadow_pool *pool, struct bio *bio)
{
	spin_lock_irq(&pool->bio_lock);
	bio_list_add(&pool->delayed, bio);
	spin_unlock_irq(&pool->bio_lock);
	queue_delayed_work(pool->wq, &pool->retry, 1);
}

static void shadow_retry(struct work_struct *work)
{
	struct shadow_pool *pool = container_of(to_delayed_work(work),
						struct shadow_pool, retry);

	spin_lock_irq(&pool->bio_lock);
	bio_list_merge(&pool->deferred, &pool->delayed);
	bio_list_init(&pool->delayed);
	spin_unlock_irq(&pool->bio_lock);
	queue_work(pool->wq, &pool->worker);
}

/* Events and failure */

void shadow_pool_event(struct shadow_pool *pool)
{
	if (pool->origin_ti)
		dm_table_event(pool->origin_ti->table);
}

/*
 * The store can no longer be trusted: every snapshot becomes invalid,
 * origin I/O goes on untouched.  One way; reloading the table retries.
 */
void shadow_pool_fail(struct shadow_pool *pool, const char *why, int err)
{
	if (pool->failed)
		return;
	DMERR("%s (error %d): store failed, all snapshots invalid", why, err);
	pool->failed = true;
	shadow_snapset_invalidate_all(pool);
	shadow_pool_event(pool);
}

/* Chunks and the worker */

sector_t shadow_pool_chunk_len(struct shadow_pool *pool, u64 chunk)
{
	sector_t start = (sector_t)chunk << pool->chunk_shift;

	return min_t(sector_t, pool->chunk_sectors,
		     pool->origin_sectors - start);
}

u64 shadow_pool_nr_chunks(struct shadow_pool *pool)
{
	return DIV_ROUND_UP_ULL(pool->origin_sectors, pool->chunk_sectors);
}

/* Is a copy of origin chunk @chunk, or a snapshot read of it, in flight? */
bool shadow_pool_chunk_in_flight(struct shadow_pool *pool, u64 chunk)
{
	return shadow_is_pending(pool, chunk) || shadow_is_tracked(pool, chunk);
}

/* Does @bio cover the whole of its chunk? */
static bool shadow_bio_whole_chunk(struct shadow_pool *pool, struct bio *bio)
{
	struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));

	return !(bio->bi_iter.bi_sector & (pool->chunk_sectors - 1)) &&
	       bio_sectors(bio) == shadow_pool_chunk_len(pool, ctx->chunk);
}

static int shadow_map_bio(struct shadow_pool *pool, struct shadow_snap *s,
			  bool write, u64 chunk, bool can_block,
			  struct shadow_map *m)
{
	const struct shadow_store_type *t = pool->type;

	if (!s) {
		if (shadow_revert_active(pool))
			return shadow_revert_map(pool, write, chunk, can_block,
						 m);
		if (write)
			return t->map_origin_write(pool, chunk, can_block, m);
		if (t->live_in_store)
			return t->map_origin_read(pool, chunk, can_block, m);
		m->kind = SHADOW_MAP_ORIGIN;
		return 0;
	}
	if (write)
		return t->map_snap_write(pool, s, chunk, can_block, m);
	return t->map_snap_read(pool, s, chunk, can_block, m);
}

/*
 * The store is full: apply its policy (SHADOW_FULL_DROP_OLDEST, the only
 * one so far).  Its reclaim drops pool->lock while it folds chunks back
 * and between batches, before the chunks it frees are committed; another
 * worker finding the store full meanwhile would drop a second snapshot
 * for nothing.  That one waits for the first overflow instead and gets
 * -EAGAIN: what it looked up before may have changed, it starts again.
 * Called with pool->lock held; returns with it held.
 */
static int shadow_pool_overflow(struct shadow_pool *pool)
{
	int err;

	if (pool->overflowing) {
		mutex_unlock(&pool->lock);
		wait_event(pool->overflow_wait, !READ_ONCE(pool->overflowing));
		mutex_lock(&pool->lock);
		return -EAGAIN;
	}
	WRITE_ONCE(pool->overflowing, true);
	err = shadow_snapset_invalidate_oldest(pool);
	WRITE_ONCE(pool->overflowing, false);
	wake_up_all(&pool->overflow_wait);
	return err;
}

/*
 * Ask the store; when it is full, apply its policy and ask again, unless
 * @may_overflow is false: then -ENOSPC.  -EAGAIN: another worker's
 * overflow was waited for (shadow_pool_overflow()).
 */
static int shadow_map_or_overflow(struct shadow_pool *pool,
				  struct shadow_snap *s, bool write, u64 chunk,
				  bool may_overflow, struct shadow_map *m)
{
	int err;

	for (;;) {
		err = shadow_map_bio(pool, s, write, chunk, true, m);
		if (err != -ENOSPC || !may_overflow)
			return err;
		err = shadow_pool_overflow(pool);
		if (err)
			return err;
	}
}

/*
 * The store's answer for an origin write to @chunk, past any revert (the
 * revert's own writes to the origin): as shadow_map_or_overflow().  The
 * revert holds the chunk, so after another worker's overflow it asks again.
 */
int shadow_pool_map_cow(struct shadow_pool *pool, u64 chunk,
			struct shadow_map *m)
{
	int err;

	for (;;) {
		err = pool->type->map_origin_write(pool, chunk, true, m);
		if (err != -ENOSPC)
			return err;
		err = shadow_pool_overflow(pool);
		if (err && err != -EAGAIN)
			return err;
	}
}

/* When the store has failed: what its type says happens to the bio. */
static void shadow_map_failed(struct shadow_pool *pool, struct bio *bio,
			      struct shadow_map *m)
{
	struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));

	if (ctx->snap || pool->type->fail_origin_io)
		m->kind = SHADOW_MAP_INVALID;
	else
		m->kind = SHADOW_MAP_ORIGIN;
}

/* A whole-chunk write to a new chunk of a store that needs no copy. */
static bool shadow_copy_is_data_bio(struct shadow_pool *pool, struct bio *bio)
{
	struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));

	return !ctx->snap && pool->type->whole_write_no_copy &&
	       bio_op(bio) == REQ_OP_WRITE && shadow_bio_whole_chunk(pool, bio);
}

/*
 * A discard of the live volume's chunk, when the live data is in the
 * store and the chunk would need a new one: what it reads stays what it
 * read, which a discard allows, and no snapshot's data is touched.
 */
static bool shadow_copy_is_needless(struct shadow_pool *pool,
				    struct bio *bio)
{
	struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));

	return !ctx->snap && pool->type->live_in_store &&
	       bio_op(bio) == REQ_OP_DISCARD;
}

static void shadow_drop_copy(struct shadow_pool *pool, struct bio *bio,
			     const struct shadow_map *m)
{
	shadow_copy_give_back(pool, m);
	bio_endio(bio);
}

/* Send @bio where @m says, from the worker. */
void shadow_dispatch(struct shadow_pool *pool, struct bio *bio,
		     const struct shadow_map *m)
{
	struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));
	bool write = op_is_write(bio_op(bio));

	switch (m->kind) {
	case SHADOW_MAP_ORIGIN:
		if (!ctx->snap && write && !pool->type->live_in_store &&
		    shadow_is_tracked(pool, ctx->chunk)) {
			shadow_delay_bio(pool, bio);
			return;
		}
		shadow_remap_origin(pool, bio);
		submit_bio_noacct(bio);
		break;
	case SHADOW_MAP_STORE:
		/* Under pool->lock: no claim can come between. */
		if (!ctx->snap && pool->type->live_in_store)
			shadow_track(pool, ctx);
		shadow_remap_to(pool, bio, m);
		submit_bio_noacct(bio);
		break;
	case SHADOW_MAP_COPY:
		/*
		 * Not counted while it waits for the copy (see the caller): a
		 * seal or an invalidation waiting for counted bios under
		 * pool->lock would wait for the worker, which needs that lock.
		 */
		if (shadow_copy_is_data_bio(pool, bio))
			shadow_start_data_bio(pool, bio, m);
		else if (shadow_copy_is_needless(pool, bio))
			shadow_drop_copy(pool, bio, m);
		else
			shadow_start_copy(pool, bio, m);
		break;
	case SHADOW_MAP_INVALID:
		/* The target's end_io uncounts and untracks. */
		bio_io_error(bio);
		break;
	case SHADOW_MAP_HOLD:
		shadow_revert_hold(pool, bio);
		break;
	}
}

/*
 * commit_on_flush: make the recorded copies durable, before a flush or a
 * FUA write goes on.  Under pool->lock.
 */
void shadow_commit_copies_now(struct shadow_pool *pool)
{
	int err;

	if (pool->failed || !pool->need_commit)
		return;
	err = pool->type->flush_copies ? pool->type->flush_copies(pool) : 0;
	if (!err)
		err = shadow_md_commit_copies(pool->md);
	if (err)
		shadow_pool_fail(pool, "cannot commit metadata", err);
	else
		WRITE_ONCE(pool->need_commit, false);
}

/* An empty flush for the store: what it flushes must be mapped on disk. */
static void shadow_process_flush(struct shadow_pool *pool, struct bio *bio)
{
	shadow_commit_copies_now(pool);
	if (pool->failed && pool->type->fail_origin_io) {
		bio_io_error(bio);
		return;
	}
	bio_set_dev(bio, pool->store_bdev);
	submit_bio_noacct(bio);
}

/* Must @bio wait for a copy or claim of its chunk? */
static bool shadow_waits_for_chunk(struct shadow_pool *pool, struct bio *bio)
{
	return !pool->failed &&
	       (op_is_write(bio_op(bio)) || pool->type->live_in_store);
}

static void shadow_process_bio(struct shadow_pool *pool, struct bio *bio)
{
	struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));
	bool write = op_is_write(bio_op(bio));
	struct shadow_map m = {};
	int err;

	if (!bio_sectors(bio)) {
		shadow_process_flush(pool, bio);
		return;
	}
	if (shadow_waits_for_chunk(pool, bio) &&
	    shadow_pending_add_bio(pool, ctx->chunk, bio))
		return;
	if (ctx->snap) {
		shadow_track(pool, ctx);
		/* Sealed since it was queued: no write gets through. */
		if (write && (ctx->snap->flags & SHADOW_SNAPF_SEALED)) {
			bio_io_error(bio);
			return;
		}
	}
	if (bio->bi_opf & REQ_FUA)
		shadow_commit_copies_now(pool);
	if (!pool->failed) {
		/*
		 * A discard that would need a new chunk is dropped (see
		 * shadow_copy_is_needless()): a full store drops no snapshot
		 * for it.
		 */
		bool needless = shadow_copy_is_needless(pool, bio);

		err = shadow_map_or_overflow(pool, ctx->snap, write,
					     ctx->chunk, !needless, &m);
		if (err == -ENOSPC && needless) {
			bio_endio(bio);
			return;
		}
		/* From the top: a copy of its chunk may have begun since. */
		if (err == -EAGAIN) {
			shadow_requeue_bio(pool, bio);
			return;
		}
		if (err)
			shadow_pool_fail(pool, "cannot look up a chunk", err);
	}
	if (pool->failed)
		shadow_map_failed(pool, bio, &m);
	/*
	 * Counted only now: an overflow above may have waited for the
	 * counted bios, this one included had it been.  No invalidation can
	 * come between the lookup and here: they run under pool->lock too.
	 */
	if (ctx->snap && m.kind != SHADOW_MAP_COPY)
		shadow_count_snap_io(pool, ctx);
	shadow_dispatch(pool, bio, &m);
}

static void shadow_work(struct shadow_pool *pool)
{
	struct bio_list bios;
	struct bio *bio;

	mutex_lock(&pool->lock);
	shadow_process_copied(pool);

	spin_lock_irq(&pool->bio_lock);
	bios = pool->deferred;
	bio_list_init(&pool->deferred);
	spin_unlock_irq(&pool->bio_lock);
	while ((bio = bio_list_pop(&bios)))
		shadow_process_bio(pool, bio);
	shadow_copy_unplug(pool);
	mutex_unlock(&pool->lock);
}

static void shadow_worker(struct work_struct *work)
{
	shadow_work(container_of(work, struct shadow_pool, worker));
}

static void shadow_local_worker(struct work_struct *work)
{
	shadow_work(container_of(work, struct shadow_pool, local_worker));
}

/* The map functions' fast path */

static void shadow_remap_mapped(struct shadow_pool *pool, struct bio *bio,
				const struct shadow_map *m)
{
	if (m->kind == SHADOW_MAP_STORE)
		shadow_remap_to(pool, bio, m);
	else
		shadow_remap_origin(pool, bio);
}

/*
 * An origin write while snapshots exist, cut to one chunk.  Remapped at
 * once when the store says the chunk needs nothing and no copy of it is in
 * flight, nor a snapshot read of it: both are checked after the lookup,
 * since a copy's mapping is visible before its commit, and its pending
 * entry goes only after the commit.
 */
int shadow_pool_map_origin_write(struct shadow_pool *pool, struct bio *bio)
{
	struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));
	struct shadow_map m = {};
	int err;

	if (READ_ONCE(pool->failed))
		goto defer;
	err = shadow_map_bio(pool, NULL, true, ctx->chunk, false, &m);
	if (err || m.kind != SHADOW_MAP_ORIGIN ||
	    shadow_is_pending(pool, ctx->chunk) ||
	    shadow_is_tracked(pool, ctx->chunk))
		goto defer;
	shadow_remap_origin(pool, bio);
	return DM_MAPIO_REMAPPED;
defer:
	shadow_defer_bio(pool, bio);
	return DM_MAPIO_SUBMITTED;
}

/*
 * Track a bio of a live_in_store pool before it looks its chunk up:
 * false (and untracked) when the chunk is being copied or is claimed by
 * the store, whose claim would not see a bio tracked after it looked.
 */
static bool shadow_track_unclaimed(struct shadow_pool *pool,
				   struct shadow_bio_ctx *ctx)
{
	shadow_track(pool, ctx);
	/* Pairs with the barrier in shadow_pool_claim_chunk(). */
	smp_mb();
	if (!shadow_is_pending(pool, ctx->chunk))
		return true;
	shadow_untrack(pool, ctx);
	return false;
}

/*
 * An origin bio of a store that holds live data, cut to one chunk: the
 * store says where it goes.  Remapped at once when the store can answer
 * without blocking and needs no copy; a bio sent to a store chunk stays
 * tracked until it completes, so that the store does not move the chunk
 * under it.  A FUA write waits for the copies not yet durable.
 */
int shadow_pool_map_live(struct shadow_pool *pool, struct bio *bio)
{
	struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));
	const struct shadow_store_type *t = pool->type;
	struct shadow_map m = {};
	int err;

	if (READ_ONCE(pool->failed) || shadow_revert_active(pool) ||
	    ((bio->bi_opf & REQ_FUA) && READ_ONCE(pool->need_commit)))
		goto defer;
	if (!shadow_track_unclaimed(pool, ctx))
		goto defer;
	if (op_is_write(bio_op(bio)))
		err = t->map_origin_write(pool, ctx->chunk, false, &m);
	else
		err = t->map_origin_read(pool, ctx->chunk, false, &m);
	if (err || (m.kind != SHADOW_MAP_ORIGIN &&
		    m.kind != SHADOW_MAP_STORE)) {
		shadow_untrack(pool, ctx);
		goto defer;
	}
	if (m.kind == SHADOW_MAP_ORIGIN)
		shadow_untrack(pool, ctx);
	if (m.kind == SHADOW_MAP_STORE && bio_op(bio) == REQ_OP_DISCARD) {
		/* The store is not told: the chunk is live data's to fold. */
		shadow_untrack(pool, ctx);
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	}
	shadow_remap_mapped(pool, bio, &m);
	return DM_MAPIO_REMAPPED;
defer:
	shadow_defer_bio(pool, bio);
	return DM_MAPIO_SUBMITTED;
}

/*
 * An empty flush for the store of a pool that commits on flush: straight
 * to the store when every recorded copy is durable, else after a commit.
 */
int shadow_pool_map_flush(struct shadow_pool *pool, struct bio *bio)
{
	if (READ_ONCE(pool->need_commit) || READ_ONCE(pool->failed)) {
		shadow_defer_bio(pool, bio);
		return DM_MAPIO_SUBMITTED;
	}
	bio_set_dev(bio, pool->store_bdev);
	return DM_MAPIO_REMAPPED;
}

/*
 * An origin read while a revert runs, cut to one chunk: a chunk not
 * merged yet is read from the snapshot's data in the store.
 */
int shadow_pool_map_origin_read(struct shadow_pool *pool, struct bio *bio)
{
	struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));
	struct shadow_map m = {};

	if (READ_ONCE(pool->failed)) {
		shadow_remap_origin(pool, bio);
		return DM_MAPIO_REMAPPED;
	}
	if (shadow_map_bio(pool, NULL, false, ctx->chunk, false, &m)) {
		shadow_defer_bio(pool, bio);
		return DM_MAPIO_SUBMITTED;
	}
	shadow_remap_mapped(pool, bio, &m);
	return DM_MAPIO_REMAPPED;
}

/* A snapshot bio, cut to one chunk. */
int shadow_pool_map_snap(struct shadow_pool *pool, struct shadow_snap *s,
			 struct bio *bio)
{
	struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));
	struct shadow_map m = {};
	int err;

	if (op_is_write(bio_op(bio)) || READ_ONCE(pool->failed))
		goto defer;
	shadow_count_snap_io(pool, ctx);
	if (pool->type->live_in_store) {
		if (!shadow_track_unclaimed(pool, ctx))
			goto defer;
	} else {
		shadow_track(pool, ctx);
	}
	err = shadow_map_bio(pool, s, false, ctx->chunk, false, &m);
	if (err)
		goto defer;
	if (m.kind == SHADOW_MAP_INVALID) {
		shadow_pool_bio_done(pool, ctx);
		return DM_MAPIO_KILL;
	}
	shadow_remap_mapped(pool, bio, &m);
	return DM_MAPIO_REMAPPED;
defer:
	/* The worker counts it again when it looks it up. */
	shadow_uncount_snap_io(pool, ctx);
	shadow_defer_bio(pool, bio);
	return DM_MAPIO_SUBMITTED;
}

/* Reclaim, in the background */

/*
 * Run @step (one batch of a store's walk, ending with a commit) until it
 * returns 1 (done) or -errno, dropping pool->lock between steps so that
 * origin I/O and messages go on.  -EINTR: the pool is being destroyed, and
 * the walk ends with what its batches committed; a throttled fold-back
 * takes hours, and the removal of the last table waits for the walk.
 * Called with pool->lock held; returns with it held.
 */
int shadow_pool_walk(struct shadow_pool *pool, shadow_walk_step_fn step,
		     void *arg)
{
	int r;

	for (;;) {
		r = step(pool, arg);
		if (r)
			return r < 0 ? r : 0;
		mutex_unlock(&pool->lock);
		cond_resched();
		mutex_lock(&pool->lock);
		if (pool->failed)
			return -EIO;
		if (READ_ONCE(pool->stopping))
			return -EINTR;
	}
}

static void shadow_reclaim_worker(struct work_struct *work)
{
	struct shadow_pool *pool = container_of(to_delayed_work(work),
						struct shadow_pool, reclaim);
	int err;

	mutex_lock(&pool->lock);
	if (!pool->failed) {
		err = pool->type->reclaim(pool);
		if (err && err != -EINTR && !pool->failed)
			shadow_pool_fail(pool, "cannot free unused chunks", err);
		shadow_usage_check(pool);
	}
	mutex_unlock(&pool->lock);
}

void shadow_pool_kick_reclaim(struct shadow_pool *pool)
{
	mod_delayed_work(system_long_wq, &pool->reclaim, 0);
}

/* Reclaim again in @delay jiffies, unless it is queued sooner. */
void shadow_pool_kick_reclaim_later(struct shadow_pool *pool,
				    unsigned long delay)
{
	queue_delayed_work(system_long_wq, &pool->reclaim, delay);
}

/* Is a reclaim queued (or waiting to retry) or running? */
bool shadow_pool_reclaim_busy(struct shadow_pool *pool)
{
	return work_busy(&pool->reclaim.work);
}

/* Wait for the reclaim queued so far; not under pool->lock. */
void shadow_pool_wait_reclaim(struct shadow_pool *pool)
{
	flush_delayed_work(&pool->reclaim);
}

/*
 * Make the copies recorded so far durable (commit_on_flush stores): when
 * the origin is suspended, its table may go and nothing flushes them.
 */
void shadow_pool_commit_copies(struct shadow_pool *pool)
{
	mutex_lock(&pool->lock);
	shadow_commit_copies_now(pool);
	mutex_unlock(&pool->lock);
}

/*
 * Commit what the journal holds when the store is closed, so that the
 * trees on disk are whole for the offline tools.  Not on suspend: a live
 * reload keeps the pool, and its transaction goes on.
 */
static void shadow_pool_empty_journal(struct shadow_pool *pool)
{
	int err;

	mutex_lock(&pool->lock);
	if (!pool->failed) {
		err = shadow_md_empty_journal(pool->md);
		if (err)
			shadow_pool_fail(pool, "cannot commit metadata", err);
	}
	mutex_unlock(&pool->lock);
}

/* Wait until nothing queued or in flight is left in the worker. */
void shadow_pool_drain(struct shadow_pool *pool)
{
	flush_delayed_work(&pool->retry);
	/* Local work first: the worker it runs may queue more on pool->wq. */
	flush_workqueue(pool->local_wq);
	flush_workqueue(pool->wq);
}

/*
 * Events go to the origin table that is live: bound when it resumes, not
 * when it is loaded (a loaded table is not the live one until then).
 */
void shadow_pool_bind(struct shadow_pool *pool, struct dm_target *ti,
		      const struct shadow_store_args *args)
{
	mutex_lock(&pool->lock);
	pool->origin_ti = ti;
	pool->store_args = args;
	mutex_unlock(&pool->lock);
	/* A fold-back cut short by a reload or a crash goes on. */
	if (pool->type->live_in_store)
		shadow_pool_kick_reclaim(pool);
	if (pool->type->resume)
		pool->type->resume(pool);
}

/* An origin table goes: the pool no longer uses its devices. */
void shadow_pool_unbind_args(struct shadow_pool *pool,
			     const struct shadow_store_args *args)
{
	mutex_lock(&pool->lock);
	if (pool->store_args == args)
		pool->store_args = NULL;
	mutex_unlock(&pool->lock);
}

/* The origin is suspended: the store's background work stops until resume. */
void shadow_pool_suspend(struct shadow_pool *pool)
{
	if (pool->type->suspend)
		pool->type->suspend(pool);
}

/* Lifetime */

static void shadow_pool_destroy(struct shadow_pool *pool)
{
	/* The store's background work (hydration) copies with pool->kc. */
	shadow_pool_suspend(pool);
	shadow_revert_pause(pool);
	/* The next load of the store walks again from the start. */
	WRITE_ONCE(pool->stopping, true);
	cancel_delayed_work_sync(&pool->reclaim);
	cancel_delayed_work_sync(&pool->retry);
	destroy_workqueue(pool->local_wq);
	destroy_workqueue(pool->wq);
	dm_kcopyd_client_destroy(pool->kc);
	mempool_exit(&pool->pending_pool);
	shadow_pool_empty_journal(pool);
	pool->type->exit(pool);
	shadow_revert_free(pool);
	shadow_snapset_free(pool);
	shadow_md_close(pool->md);
	shadow_store_put(pool->type);
	kfree(pool);
}

static int shadow_pool_open_md(struct shadow_pool *pool,
			       struct shadow_md **ret_md, char **error)
{
	struct shadow_md_geometry geo = {
		.store_type = pool->type->disk_type,
		.chunk_sectors = pool->chunk_sectors,
		.origin_sectors = pool->origin_sectors,
	};

	return shadow_md_open(pool->store_bdev, &geo, ret_md, error);
}

/* Set the pool up on the open metadata pool->md. */
static int shadow_pool_load_store(struct shadow_pool *pool, char **error)
{
	int r;

	pool->data_start = shadow_md_data_start(pool->md);
	r = shadow_snapset_load(pool);
	if (r) {
		*error = r == -EUCLEAN ?
			"store's snapshot tree is inconsistent (see the kernel log)" :
			"cannot load the snapshot tree";
		shadow_snapset_free(pool);
		return r;
	}
	r = pool->type->init(pool);
	if (r) {
		*error = "cannot set up the exception store";
		shadow_snapset_free(pool);
		return r;
	}
	r = shadow_revert_load(pool);
	if (r) {
		*error = "cannot load the state of a revert in progress";
		pool->type->exit(pool);
		shadow_snapset_free(pool);
		return r;
	}
	shadow_usage_init(pool);
	return 0;
}

static int shadow_pool_open_store(struct shadow_pool *pool, char **error)
{
	int r = shadow_pool_open_md(pool, &pool->md, error);

	if (r)
		return r;
	r = shadow_pool_load_store(pool, error);
	if (r)
		shadow_md_close(pool->md);
	return r;
}

static struct shadow_pool *shadow_pool_create(struct dm_dev *origin,
					      struct dm_dev *store,
					      struct shadow_store_type *type,
					      u32 chunk_sectors, char **error)
{
	struct shadow_pool *pool;
	int r;

	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool) {
		*error = "cannot allocate the pool";
		return ERR_PTR(-ENOMEM);
	}
	pool->type = type;
	pool->origin_bdev = origin->bdev;
	pool->store_bdev = store->bdev;
	pool->store_devt = store->bdev->bd_dev;
	pool->origin_sectors = bdev_nr_sectors(origin->bdev);
	pool->chunk_sectors = chunk_sectors;
	pool->chunk_shift = __ffs(chunk_sectors);
	/* Until a reclaim walk finds the store empty. */
	pool->store_live = true;
	mutex_init(&pool->lock);
	spin_lock_init(&pool->bio_lock);
	spin_lock_init(&pool->track_lock);
	spin_lock_init(&pool->pending_lock);
	atomic_set(&pool->snap_io, 0);
	init_waitqueue_head(&pool->snap_io_wait);
	init_waitqueue_head(&pool->overflow_wait);
	bio_list_init(&pool->deferred);
	bio_list_init(&pool->delayed);
	INIT_LIST_HEAD(&pool->copied);
	INIT_LIST_HEAD(&pool->copy_plug);
	hash_init(pool->pending);
	hash_init(pool->track);
	INIT_WORK(&pool->worker, shadow_worker);
	INIT_WORK(&pool->local_worker, shadow_local_worker);
	INIT_DELAYED_WORK(&pool->retry, shadow_retry);
	INIT_DELAYED_WORK(&pool->reclaim, shadow_reclaim_worker);
	shadow_revert_init(pool);

	r = shadow_pool_open_store(pool, error);
	if (r)
		goto bad_store;
	r = shadow_pending_pool_init(pool);
	if (r) {
		*error = "cannot create the copy pool";
		goto bad_mempool;
	}
	pool->kc = dm_kcopyd_client_create(NULL);
	if (IS_ERR(pool->kc)) {
		r = PTR_ERR(pool->kc);
		*error = "cannot create a kcopyd client";
		goto bad_kcopyd;
	}
	pool->wq = alloc_ordered_workqueue("dm-shadow", WQ_MEM_RECLAIM);
	if (!pool->wq) {
		r = -ENOMEM;
		*error = "cannot create the worker";
		goto bad_wq;
	}
	/* Bound: queue_work() runs it on the CPU that queued it. */
	pool->local_wq = alloc_workqueue("dm-shadow-local", WQ_MEM_RECLAIM, 1);
	if (!pool->local_wq) {
		r = -ENOMEM;
		*error = "cannot create the worker";
		goto bad_local_wq;
	}
	return pool;

bad_local_wq:
	destroy_workqueue(pool->wq);
bad_wq:
	dm_kcopyd_client_destroy(pool->kc);
bad_kcopyd:
	mempool_exit(&pool->pending_pool);
bad_mempool:
	pool->type->exit(pool);
	shadow_revert_free(pool);
	shadow_snapset_free(pool);
	shadow_md_close(pool->md);
bad_store:
	kfree(pool);
	return ERR_PTR(r);
}

static struct shadow_pool *shadow_pool_find_by_origin_locked(dev_t origin)
{
	struct shadow_pool *pool;

	list_for_each_entry(pool, &shadow_pools, list)
		if (pool->origin_bdev->bd_dev == origin)
			return pool;
	return NULL;
}

static struct shadow_pool *shadow_pool_find_by_store(dev_t store)
{
	struct shadow_pool *pool;

	list_for_each_entry(pool, &shadow_pools, list)
		if (pool->store_bdev->bd_dev == store)
			return pool;
	return NULL;
}

/* A reloaded table may reuse its pool only if nothing about it changed. */
static int shadow_pool_check_reuse(struct shadow_pool *pool,
				   struct dm_target *ti, struct dm_dev *origin,
				   const char *type_name, u32 chunk_sectors)
{
	dev_t md_devt = disk_devt(dm_disk(dm_table_get_md(ti->table)));

	if (pool->origin_refs && pool->md_devt != md_devt) {
		ti->error = "store is in use by another origin";
		return -EBUSY;
	}
	if (pool->origin_bdev != origin->bdev) {
		ti->error = "store belongs to a different origin device";
		return -EINVAL;
	}
	if (bdev_nr_sectors(origin->bdev) != pool->origin_sectors) {
		ti->error = "origin device changed size since its store was loaded; a store cannot follow a resized origin";
		return -EINVAL;
	}
	if (strcmp(pool->type->name, type_name) ||
	    pool->chunk_sectors != chunk_sectors) {
		ti->error = "store type or chunk size differs from the loaded pool";
		return -EINVAL;
	}
	return 0;
}

int shadow_pool_get(struct dm_target *ti, struct dm_dev *origin,
		    struct dm_dev *store, const char *type_name,
		    u32 chunk_sectors, struct shadow_pool **ret_pool)
{
	struct shadow_store_type *type;
	struct shadow_pool *pool;
	int r = 0;

	mutex_lock(&shadow_pools_lock);
	pool = shadow_pool_find_by_store(store->bdev->bd_dev);
	if (pool) {
		r = shadow_pool_check_reuse(pool, ti, origin, type_name,
					    chunk_sectors);
		if (r)
			goto out;
	} else {
		/*
		 * Writes through a second store's origin would change the
		 * first store's snapshots behind its back.
		 */
		if (shadow_pool_find_by_origin_locked(origin->bdev->bd_dev)) {
			ti->error = "origin device already has a shadow-origin with another store";
			r = -EBUSY;
			goto out;
		}
		type = shadow_store_get(type_name);
		if (!type) {
			ti->error = "unknown store type";
			r = -EINVAL;
			goto out;
		}
		pool = shadow_pool_create(origin, store, type, chunk_sectors,
					  &ti->error);
		if (IS_ERR(pool)) {
			shadow_store_put(type);
			r = PTR_ERR(pool);
			goto out;
		}
		list_add(&pool->list, &shadow_pools);
	}
	pool->refs++;
	pool->origin_refs++;
	pool->md_devt = disk_devt(dm_disk(dm_table_get_md(ti->table)));
	*ret_pool = pool;
out:
	mutex_unlock(&shadow_pools_lock);
	return r;
}

struct shadow_pool *shadow_pool_find_by_origin(dev_t origin)
{
	struct shadow_pool *pool;

	mutex_lock(&shadow_pools_lock);
	pool = shadow_pool_find_by_origin_locked(origin);
	if (pool && pool->origin_refs)
		pool->refs++;
	else
		pool = NULL;
	mutex_unlock(&shadow_pools_lock);
	return pool;
}

/*
 * Resuming a failed store's origin (after a reload, or any suspend) tries
 * the store again, from what is on disk, if no shadow-snap device uses the
 * pool (their bios may be looking at the metadata being replaced).  Called
 * from the origin's preresume: the origin is suspended, so nothing of its
 * is in flight.
 */
int shadow_pool_retry_failed(struct shadow_pool *pool)
{
	struct shadow_md *md;
	char *error = NULL;
	int r = 0;

	if (!READ_ONCE(pool->failed))
		return 0;
	/* Reclaim takes pool->lock: stop it before taking that. */
	cancel_delayed_work_sync(&pool->reclaim);
	mutex_lock(&shadow_pools_lock);
	mutex_lock(&pool->lock);
	if (!pool->failed)
		goto out;
	if (pool->refs != pool->origin_refs) {
		DMWARN("store failed: remove its shadow-snap devices, then reload the origin to retry");
		goto out;
	}
	/* Until the store opens again, the failed pool stays as it is. */
	r = shadow_pool_open_md(pool, &md, &error);
	if (r) {
		DMERR("store failed again on resume: %s (error %d)", error, r);
		goto out;
	}
	pool->type->exit(pool);
	shadow_revert_free(pool);
	shadow_snapset_free(pool);
	shadow_md_close(pool->md);
	pool->md = md;
	r = shadow_pool_load_store(pool, &error);
	if (r) {
		DMERR("store failed again on resume: %s (error %d)", error, r);
		goto out;
	}
	/*
	 * Origin writes went on uncopied while the store was failed: what the
	 * store holds may say valid, the data no longer is.  If this commit
	 * fails too, the store fails again.
	 */
	r = shadow_snapset_invalidate_all(pool);
	if (r) {
		DMERR("store failed again on resume: cannot record its invalid snapshots");
		goto out;
	}
	WRITE_ONCE(pool->failed, false);
	DMINFO("store opened again after a failure; its snapshots are invalid");
out:
	mutex_unlock(&pool->lock);
	mutex_unlock(&shadow_pools_lock);
	return r;
}

/* Drop a reference; @ti is the origin target dropping it, or NULL. */
void shadow_pool_put(struct shadow_pool *pool, struct dm_target *ti)
{
	mutex_lock(&shadow_pools_lock);
	if (ti) {
		pool->origin_refs--;
		/* The next origin table binds itself when it resumes. */
		mutex_lock(&pool->lock);
		if (pool->origin_ti == ti)
			pool->origin_ti = NULL;
		mutex_unlock(&pool->lock);
	}
	if (--pool->refs == 0) {
		list_del(&pool->list);
		shadow_pool_destroy(pool);
	}
	mutex_unlock(&shadow_pools_lock);
}
