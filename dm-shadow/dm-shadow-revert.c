// SPDX-License-Identifier: GPL-2.0-only
/*
 * Revert: roll the origin back to snapshot R in the background, the way
 * dm-snapshot's snapshot-merge does, on the cow store.
 *
 * R's data at chunk c is the shared exception with the smallest tag at or
 * above R's sequence, or the origin if there is none (the origin did not
 * change there since R).  Merging c copies that exception to origin chunk
 * c.  From the moment the revert starts the volume reads R's data: a read
 * of a chunk not merged yet goes to R's exception.  A write to a chunk not
 * merged yet is held until the chunk is merged and that is on disk, then
 * goes its ordinary way.
 *
 * The merge's own write to the origin is an ordinary origin write for the
 * other snapshots: the store's cow path copies the old data first for
 * every snapshot that needs it, and that copy is committed before the
 * merge writes the origin.  R itself is kept, valid and exact (its
 * exceptions are never touched); snapshots older and newer than R stay
 * valid and exact.  While a revert runs no snapshot can be created (it
 * would see unmerged origin chunks), R cannot be deleted, and overflow
 * drops the oldest snapshot other than R.
 *
 * Progress: the chunks below the cursor are merged, and so are the chunks
 * in the marks (merged out of order, because a write came for them).  A
 * batch merges chunks, flushes the origin device, then writes the cursor
 * and the new marks into the running transaction and commits: the
 * metadata never says "merged" before the merged data is on the origin.
 * Held writes go only once their chunk is merged on disk, so no write the
 * volume acknowledged can be overwritten by a merge after a power cut.
 *
 * Merging a chunk again after a power cut (it was merged, the commit that
 * said so was lost) is harmless:
 *  - R's exception is unchanged (R is valid and kept, and nothing but R's
 *    own deletion, refused, or a store failure, ends the revert, can free
 *    it), so the same bytes are copied to the origin again;
 *  - no write reached the chunk since (writes wait for the commit);
 *  - the cow path copies only if no exception of c is tagged at or above
 *    the newest valid sequence N'.  The first merge's copy, tagged N (the
 *    newest when the revert began; no snapshot is created until it ends),
 *    was committed before the origin was written.  It is still there if a
 *    valid snapshot lies in (T', N], T' being the tag of the exception
 *    before it; if none does, N' <= T' and that older exception has a tag
 *    at or above N'.  Either way nothing is copied again, so the other
 *    snapshots never get R's data as their "old" data.
 *
 * Locking: the engine works under pool->lock and drops it while data is
 * copied.  Map functions read rv->seq, rv->cursor, rv->durable and the
 * marks without the lock (READ_ONCE, RCU inside the xarray).  The engine
 * runs on system_long_wq, paused while the origin is suspended.
 */
#include "dm-shadow.h"
#include "dm-shadow-format.h"

#include <linux/blkdev.h>
#include <linux/completion.h>

/* Chunks merged, at most, per batch (one commit each). */
#define SHADOW_REVERT_BATCH	32
/* Exceptions the search for the next chunk visits, at most, per batch. */
#define SHADOW_REVERT_VISIT	1024

#define SHADOW_MARK_PENDING	xa_mk_value(1)	/* merged, not on disk yet */
#define SHADOW_MARK_DURABLE	xa_mk_value(2)

bool shadow_revert_active(struct shadow_pool *pool)
{
	return READ_ONCE(pool->revert.seq);
}

/* Does origin chunk @chunk hold R's data already? */
static bool shadow_revert_merged(struct shadow_revert *rv, u64 chunk)
{
	return chunk < READ_ONCE(rv->cursor) || xa_load(&rv->marks, chunk);
}

/* Is that on disk, so that a write may go over it? */
static bool shadow_revert_durable(struct shadow_revert *rv, u64 chunk)
{
	return chunk < READ_ONCE(rv->durable) ||
	       xa_load(&rv->marks, chunk) == SHADOW_MARK_DURABLE;
}

/*
 * Where R's data of @chunk is: what a read of R would be sent to.  R is
 * valid while the revert runs (overflow skips it; a failure, which
 * invalidates it, is seen before any lookup): anything else is the origin.
 */
static int shadow_revert_find(struct shadow_pool *pool, u64 chunk,
			      bool can_block, struct shadow_map *m)
{
	int err = pool->type->map_snap_read(pool, pool->revert.snap, chunk,
					    can_block, m);

	if (!err && m->kind != SHADOW_MAP_STORE)
		m->kind = SHADOW_MAP_ORIGIN;
	return err;
}

/*
 * Where an origin bio goes while a revert runs.  Reads of chunks not
 * merged yet go to R's data; writes to chunks not merged on disk yet are
 * held (SHADOW_MAP_HOLD) for the engine.
 */
int shadow_revert_map(struct shadow_pool *pool, bool write, u64 chunk,
		      bool can_block, struct shadow_map *m)
{
	struct shadow_revert *rv = &pool->revert;
	u64 seq = READ_ONCE(rv->seq);

	if (write) {
		if (!seq || shadow_revert_durable(rv, chunk))
			return pool->type->map_origin_write(pool, chunk,
							    can_block, m);
		if (!can_block)
			return -EWOULDBLOCK;
		m->kind = SHADOW_MAP_HOLD;
		return 0;
	}
	m->kind = SHADOW_MAP_ORIGIN;
	if (!seq || shadow_revert_merged(rv, chunk))
		return 0;
	return shadow_revert_find(pool, chunk, can_block, m);
}

static void shadow_revert_kick(struct shadow_pool *pool)
{
	queue_work(system_long_wq, &pool->revert.work);
}

/* An origin write waits for its chunk; called by the worker. */
void shadow_revert_hold(struct shadow_pool *pool, struct bio *bio)
{
	spin_lock_irq(&pool->bio_lock);
	bio_list_add(&pool->revert.held, bio);
	spin_unlock_irq(&pool->bio_lock);
	shadow_revert_kick(pool);
}

/* Let the held writes whose chunks are merged on disk go (all: @all). */
static void shadow_revert_release(struct shadow_pool *pool, bool all)
{
	struct shadow_revert *rv = &pool->revert;
	struct bio_list keep, go;
	struct bio *bio;

	bio_list_init(&keep);
	bio_list_init(&go);
	spin_lock_irq(&pool->bio_lock);
	while ((bio = bio_list_pop(&rv->held))) {
		struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));

		if (all || shadow_revert_durable(rv, ctx->chunk))
			bio_list_add(&go, bio);
		else
			bio_list_add(&keep, bio);
	}
	rv->held = keep;
	bio_list_merge(&pool->deferred, &go);
	spin_unlock_irq(&pool->bio_lock);
	if (!bio_list_empty(&go))
		queue_work(pool->wq, &pool->worker);
}

/* A chunk a held write waits for that is not merged yet, if any. */
static bool shadow_revert_wanted(struct shadow_pool *pool, u64 *ret_chunk)
{
	struct shadow_revert *rv = &pool->revert;
	struct bio *bio;
	bool found = false;

	spin_lock_irq(&pool->bio_lock);
	bio_list_for_each(bio, &rv->held) {
		struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));

		if (!shadow_revert_merged(rv, ctx->chunk)) {
			*ret_chunk = ctx->chunk;
			found = true;
			break;
		}
	}
	spin_unlock_irq(&pool->bio_lock);
	return found;
}

/* Data copies, done synchronously by the engine without pool->lock. */

struct shadow_revert_copy {
	struct completion done;
	int err;
};

static void shadow_revert_copy_done(int read_err, unsigned long write_err,
				    void *context)
{
	struct shadow_revert_copy *c = context;

	c->err = (read_err || write_err) ? -EIO : 0;
	complete(&c->done);
}

static int shadow_revert_copy(struct shadow_pool *pool,
			      struct dm_io_region *from, struct dm_io_region *to)
{
	struct shadow_revert_copy c;

	init_completion(&c.done);
	mutex_unlock(&pool->lock);
	dm_kcopyd_copy(pool->kc, from, 1, to, 0, shadow_revert_copy_done, &c);
	wait_for_completion(&c.done);
	mutex_lock(&pool->lock);
	if (!c.err && pool->failed)
		c.err = -EIO;
	return c.err;
}

static void shadow_revert_region(struct shadow_pool *pool, u64 chunk,
				 bool store, struct dm_io_region *r)
{
	r->count = shadow_pool_chunk_len(pool, chunk);
	if (store) {
		r->bdev = pool->store_bdev;
		r->sector = pool->data_start +
			((sector_t)chunk << pool->chunk_shift);
	} else {
		r->bdev = pool->origin_bdev;
		r->sector = (sector_t)chunk << pool->chunk_shift;
	}
}

/*
 * The merge's write to origin chunk @chunk is an origin write: copy the
 * old data for the snapshots that need it, record and commit that copy.
 */
static int shadow_revert_cow(struct shadow_pool *pool, u64 chunk)
{
	struct dm_io_region from, to;
	struct shadow_map m = {};
	int err;

	err = shadow_pool_map_cow(pool, chunk, &m);
	if (err || m.kind != SHADOW_MAP_COPY)
		return err;
	shadow_revert_region(pool, chunk, false, &from);
	shadow_revert_region(pool, m.e.store_chunk, true, &to);
	to.count = from.count;
	err = shadow_revert_copy(pool, &from, &to);
	if (!err)
		err = pool->type->copy_done(pool, &m.e);
	else if (!pool->failed)
		shadow_md_release(pool->md, m.e.store_chunk);
	if (!err)
		err = shadow_md_commit(pool->md);
	return err;
}

/*
 * Merge origin chunk @chunk: R's data, if the store holds it, over the
 * origin.  -EBUSY when a copy or a snapshot read of the chunk's origin
 * data is in flight: the engine tries again a tick later.
 */
static int shadow_revert_merge_chunk(struct shadow_pool *pool, u64 chunk)
{
	struct dm_io_region from, to;
	struct shadow_map x = {};
	int err;

	err = shadow_revert_find(pool, chunk, true, &x);
	if (err || x.kind != SHADOW_MAP_STORE)
		return err;
	if (shadow_pool_chunk_in_flight(pool, chunk))
		return -EBUSY;
	err = shadow_revert_cow(pool, chunk);
	if (err)
		return err;
	/*
	 * Every lookup from now on finds the copy just made; the snapshot
	 * reads that found the origin before it must finish first.
	 */
	if (shadow_pool_chunk_in_flight(pool, chunk))
		return -EBUSY;
	shadow_revert_region(pool, x.store_chunk, true, &from);
	shadow_revert_region(pool, chunk, false, &to);
	from.count = to.count;
	return shadow_revert_copy(pool, &from, &to);
}

/*
 * The next chunk at or after the cursor that R's data must be copied to,
 * skipping the chunks merged out of order; the cursor moves up to it
 * (chunks without an exception of R hold R's data in the origin already).
 * Returns 0 with *@ret_chunk, -ENODATA when none is left, -EAGAIN when
 * the visit budget ran out, or -errno.
 */
static int shadow_revert_next(struct shadow_pool *pool, u64 *ret_chunk)
{
	struct shadow_revert *rv = &pool->revert;
	u64 c = rv->cursor;
	struct shadow_md_exc e;
	unsigned int visited;
	int err;

	for (visited = 0; visited < SHADOW_REVERT_VISIT; visited++) {
		err = shadow_md_exc_next(pool->md, SHADOW_MD_SHARED, c, rv->seq,
					 &e);
		if (err == -ENODATA)
			c = shadow_pool_nr_chunks(pool);
		if (err)
			break;
		if (e.chunk != c) {
			/* c has no exception tagged at or above R's. */
			c = e.chunk;
			continue;
		}
		if (!xa_load(&rv->marks, c)) {
			*ret_chunk = c;
			break;
		}
		c++;
	}
	if (visited == SHADOW_REVERT_VISIT)
		err = -EAGAIN;
	WRITE_ONCE(rv->cursor, c);
	return err;
}

/*
 * Make what was merged durable: flush the origin, then record the cursor
 * and the out-of-order chunks and commit.
 */
static int shadow_revert_persist(struct shadow_pool *pool)
{
	struct shadow_revert *rv = &pool->revert;
	u64 cursor = rv->cursor;
	unsigned long chunk;
	void *entry;
	int err;

	if (cursor == rv->durable && !rv->pending_marks)
		return 0;
	mutex_unlock(&pool->lock);
	err = blkdev_issue_flush(pool->origin_bdev);
	mutex_lock(&pool->lock);
	if (err)
		return err;
	if (pool->failed)
		return -EIO;
	shadow_md_revert_set_cursor(pool->md, cursor);
	xa_for_each(&rv->marks, chunk, entry) {
		if (entry != SHADOW_MARK_PENDING)
			continue;
		err = shadow_md_revert_mark(pool->md, chunk);
		if (err)
			return err;
	}
	err = shadow_md_commit(pool->md);
	if (err)
		return err;
	xa_for_each(&rv->marks, chunk, entry)
		if (entry == SHADOW_MARK_PENDING)
			xa_store(&rv->marks, chunk, SHADOW_MARK_DURABLE,
				 GFP_NOIO);
	rv->pending_marks = false;
	WRITE_ONCE(rv->durable, cursor);
	return 0;
}

/* Forget the revert in memory; the caller recorded its end. */
static void shadow_revert_clear(struct shadow_pool *pool)
{
	struct shadow_revert *rv = &pool->revert;

	WRITE_ONCE(rv->seq, 0);
	WRITE_ONCE(rv->cursor, 0);
	WRITE_ONCE(rv->durable, 0);
	xa_destroy(&rv->marks);
}

/* Every chunk is merged and that is on disk: end the revert. */
static int shadow_revert_finish(struct shadow_pool *pool)
{
	struct shadow_revert *rv = &pool->revert;
	int err;

	err = shadow_md_revert_end(pool->md);
	if (!err)
		err = shadow_md_commit(pool->md);
	if (err)
		return err;
	DMINFO("revert to snapshot %llu finished", rv->id);
	rv->pending_marks = false;
	shadow_revert_clear(pool);
	shadow_pool_event(pool);
	return 0;
}

/*
 * R is no longer valid (the store failed, or was reloaded after a
 * failure): its data is gone, the revert cannot go on.  A failed store
 * cannot record the end; its on-disk revert is ended when a reload finds
 * R invalid.
 */
static void shadow_revert_abandon(struct shadow_pool *pool)
{
	struct shadow_revert *rv = &pool->revert;

	DMERR("revert to snapshot %llu abandoned: %s; origin chunks from %llu on are partly not reverted",
	      rv->id, pool->failed ? "the store failed" :
	      "the snapshot is invalid", rv->durable);
	if (!pool->failed && (shadow_md_revert_end(pool->md) ||
			      shadow_md_commit(pool->md)))
		shadow_pool_fail(pool, "cannot record the end of a revert",
				 -EIO);
	shadow_revert_clear(pool);
	shadow_pool_event(pool);
}

/*
 * Merge one batch and make it durable.  Returns 1 when the last chunk is
 * merged, 0 if more is left, -EBUSY to try again a tick later, or -errno.
 */
static int shadow_revert_batch(struct shadow_pool *pool)
{
	struct shadow_revert *rv = &pool->revert;
	unsigned int n;
	bool wanted;
	u64 chunk;
	int err = 0, r;

	for (n = 0; n < SHADOW_REVERT_BATCH; n++) {
		wanted = shadow_revert_wanted(pool, &chunk);
		if (!wanted) {
			err = shadow_revert_next(pool, &chunk);
			if (err)
				break;
		}
		err = shadow_revert_merge_chunk(pool, chunk);
		if (err)
			break;
		if (!wanted) {
			WRITE_ONCE(rv->cursor, chunk + 1);
			continue;
		}
		/* Marked even without a copy: the write may make one. */
		err = xa_err(xa_store(&rv->marks, chunk, SHADOW_MARK_PENDING,
				      GFP_NOIO));
		if (err)
			break;
		rv->pending_marks = true;
	}
	if (err && err != -ENODATA && err != -EAGAIN && err != -EBUSY)
		return err;
	r = shadow_revert_persist(pool);
	if (r)
		return r;
	if (err == -ENODATA)
		return 1;
	return err == -EBUSY ? err : 0;
}

static void shadow_revert_worker(struct work_struct *work)
{
	struct shadow_pool *pool = container_of(work, struct shadow_pool,
						revert.work);
	struct shadow_revert *rv = &pool->revert;
	struct shadow_snap *s;
	int r = 0;

	mutex_lock(&pool->lock);
	if (rv->paused)
		goto out;
	if (!rv->seq)
		goto release;
	s = shadow_snapset_find(pool, rv->id);
	if (pool->failed || !s || s->state != SHADOW_SNAP_VALID) {
		shadow_revert_abandon(pool);
		goto release;
	}
	r = shadow_revert_batch(pool);
	if (r == 1)
		r = shadow_revert_finish(pool);
	else if (!r)
		shadow_revert_kick(pool);
	if (r == -EBUSY)
		queue_delayed_work(system_long_wq, &rv->retry, 1);
	else if (r < 0) {
		shadow_pool_fail(pool, "revert failed", r);
		shadow_revert_abandon(pool);
	}
release:
	shadow_revert_release(pool, !rv->seq || pool->failed);
out:
	mutex_unlock(&pool->lock);
}

static void shadow_revert_retry(struct work_struct *work)
{
	struct shadow_pool *pool = container_of(to_delayed_work(work),
						struct shadow_pool,
						revert.retry);

	shadow_revert_kick(pool);
}

/*
 * The cow store's revert operation: start the merge to @s (checked by
 * the caller), under pool->lock, the origin suspended: nothing is in
 * flight, and the engine starts when it resumes.
 */
int shadow_revert_start(struct shadow_pool *pool, struct shadow_snap *s)
{
	struct shadow_revert *rv = &pool->revert;
	int r;

	if (rv->seq) {
		DMERR("revert %llu: a revert to snapshot %llu is running already",
		      s->id, rv->id);
		return -EBUSY;
	}
	r = shadow_md_revert_begin(pool->md, s->seq);
	if (!r)
		r = shadow_md_commit(pool->md);
	if (r) {
		shadow_pool_fail(pool, "cannot record a revert", r);
		return r;
	}
	xa_init(&rv->marks);
	rv->id = s->id;
	rv->snap = s;
	rv->paused = true;
	WRITE_ONCE(rv->cursor, 0);
	WRITE_ONCE(rv->durable, 0);
	WRITE_ONCE(rv->seq, s->seq);
	DMINFO("reverting the origin to snapshot %llu", s->id);
	return 0;
}

/* Is @s the snapshot a revert runs to (not to be deleted or dropped)? */
bool shadow_revert_pins(struct shadow_pool *pool, struct shadow_snap *s)
{
	return pool->revert.seq && pool->revert.seq == s->seq;
}

static int shadow_revert_load_mark(void *context, u64 chunk)
{
	struct shadow_revert *rv = context;

	return xa_err(xa_store(&rv->marks, chunk, SHADOW_MARK_DURABLE,
			       GFP_KERNEL));
}

/* Pick up a revert the store says is under way, when the pool loads. */
int shadow_revert_load(struct shadow_pool *pool)
{
	struct shadow_revert *rv = &pool->revert;
	struct shadow_snap *s;
	u64 seq, cursor;
	int r;

	rv->seq = 0;
	xa_init(&rv->marks);
	shadow_md_revert_state(pool->md, &seq, &cursor);
	if (!seq)
		return 0;
	s = shadow_snapset_find_seq(pool, seq);
	if (!s) {
		DMERR("the store was reverting to a snapshot that is gone or invalid; origin chunks from %llu on are partly not reverted",
		      cursor);
		r = shadow_md_revert_end(pool->md);
		return r ?: shadow_md_commit(pool->md);
	}
	r = shadow_md_revert_walk(pool->md, shadow_revert_load_mark, rv);
	if (r) {
		xa_destroy(&rv->marks);
		return r;
	}
	rv->id = s->id;
	rv->snap = s;
	rv->paused = true;
	rv->cursor = cursor;
	rv->durable = cursor;
	rv->seq = seq;
	DMINFO("resuming the revert to snapshot %llu at chunk %llu", s->id,
	       cursor);
	return 0;
}

void shadow_revert_init(struct shadow_pool *pool)
{
	struct shadow_revert *rv = &pool->revert;

	xa_init(&rv->marks);
	bio_list_init(&rv->held);
	INIT_WORK(&rv->work, shadow_revert_worker);
	INIT_DELAYED_WORK(&rv->retry, shadow_revert_retry);
}

/* Stop the engine; not under pool->lock.  Nothing is held by then. */
void shadow_revert_pause(struct shadow_pool *pool)
{
	mutex_lock(&pool->lock);
	pool->revert.paused = true;
	mutex_unlock(&pool->lock);
	/* A running batch may queue the retry, which queues the work. */
	cancel_work_sync(&pool->revert.work);
	cancel_delayed_work_sync(&pool->revert.retry);
	cancel_work_sync(&pool->revert.work);
}

void shadow_revert_resume(struct shadow_pool *pool)
{
	mutex_lock(&pool->lock);
	pool->revert.paused = false;
	if (pool->revert.seq)
		shadow_revert_kick(pool);
	mutex_unlock(&pool->lock);
}

/* The pool goes, or its metadata is replaced: forget the revert. */
void shadow_revert_free(struct shadow_pool *pool)
{
	WRITE_ONCE(pool->revert.seq, 0);
	xa_destroy(&pool->revert.marks);
}

/* Status: <snapshot_id> <cursor>/<origin_chunks>, or "- -". */
void shadow_revert_status(struct shadow_pool *pool, char *result,
			  unsigned int maxlen, unsigned int *sz_ptr)
{
	struct shadow_revert *rv = &pool->revert;
	unsigned int sz = *sz_ptr;

	if (rv->seq)
		DMEMIT(" %llu %llu/%llu", rv->id, rv->cursor,
		       shadow_pool_nr_chunks(pool));
	else
		DMEMIT(" - -");
	*sz_ptr = sz;
}
