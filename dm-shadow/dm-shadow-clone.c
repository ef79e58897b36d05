// SPDX-License-Identifier: GPL-2.0-only
/*
 * Clone store: every snapshot is a clone, a full and independent copy of
 * the origin on a target device of its own (the split-mirror copy that
 * VSS's hardware providers make), filled in the background.
 *
 * A clone is taken like any snapshot (create <id> while the origin is
 * suspended) once the origin's table names its target (feature
 * clone_target <id> <dev>).  From then on:
 *   hydration      a background walk copies every origin chunk to every
 *                  hydrating clone that lacks it, in batches: the batch's
 *                  chunks are claimed (origin I/O to them waits), copied
 *                  run of adjacent chunks by run to all their clones
 *                  (dm-shadow-clone-copy.c), the targets flushed, and the
 *                  chunks' bits set in each clone's bitset in one
 *                  commit.  What a commit recorded is never copied
 *                  again, after a reload or a power cut.
 *   origin write   to a chunk that a hydrating clone lacks copies the
 *                  chunk there first, as the cow store copies to its
 *                  store: the bit is committed, after a flush of the
 *                  target, before the write goes on, so that a clone
 *                  never holds data newer than its point in time.
 *   clone read     a chunk copied reads the target, another the origin
 *                  (tracked: an origin write to it waits for the read).
 * A clone whose every bit is set is complete: its bitset goes and its
 * device reads only the target, which holds the origin as it was at the
 * clone's point in time, a plain copy that needs no dm-shadow once the
 * clone is detached.  A write error on a target fails that clone only
 * (its snapshot becomes invalid); origin I/O never fails because of it.
 *
 * While a clone hydrates, an origin write to a chunk that every clone
 * holds is remapped at once: the map function reads the bitmaps under
 * rcu_read_lock() (a bitmap is freed a grace period after its clone
 * stops hydrating), and the pool then checks that no copy or claim of
 * the chunk is in flight, whose bits may be set but not committed yet.
 * Other origin writes, and a hydrating clone's reads, go through the
 * worker (what the cow store's copies cost).
 *
 * Memory: a hydrating clone's bitset is also kept in memory, one bit per
 * origin chunk (2 MiB for 1 TiB of 64 KiB chunks), freed once complete;
 * and the copier's two buffers of 1 MiB, for the store's life.
 */
#include "dm-shadow.h"
#include "dm-shadow-clone-copy.h"
#include "dm-shadow-format.h"

#include <linux/bitmap.h>
#include <linux/blkdev.h>
#include <linux/completion.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

/*
 * Chunks a hydration batch copies, at most, and bytes: each batch pays a
 * flush of the targets and a commit, and origin I/O to a batch's chunks
 * waits for all of it.  At 64 KiB chunks, batches of 256 hydrated 1.2x
 * as fast as batches of 64 under the benchmark (copied by dm-kcopyd
 * then), and batches of 1024 no faster than 256; 16 MiB waits about 25 ms
 * there.
 */
#define CLONE_BATCH		256
#define CLONE_BATCH_BYTES	(16ULL << 20)
/*
 * Adjacent chunks one copy takes, at most: a copy per chunk costs a read
 * and a write per chunk, where the copier moves a run a MiB at a time.
 */
#define CLONE_RUN		CLONE_BATCH
/* A chunk busy when the walk came to it is tried again after this long. */
#define CLONE_RETRY		(HZ / 10)
/* A throttled hydration sleeps about this long between batches. */
#define CLONE_PACE_MS		100

struct clone_slot {
	bool used;
	u64 id;
	u64 gen;			/* this use of the slot (clone_batch_slot) */
	u32 state;			/* SHADOW_CLONE_*; READ_ONCE in map */
	u64 nr_copied;
	u64 target_sectors;
	unsigned long *bits;		/* hydrating: the chunks copied */
	struct block_device *bdev;	/* its target, in the resumed table */
	bool dirty;			/* written since its target's last flush */
};

/* One chunk of a hydration batch. */
struct clone_job {
	struct clone_hydrate *batch;
	struct shadow_pending *claim;
	u64 chunk;
	unsigned int run;		/* chunks its copy copies */
	unsigned long targets;		/* slots it is copied to */
	unsigned long failed;		/* by destination: bit k, its k-th target */
};

/*
 * A batch is copied and its targets flushed without pool->lock, while a
 * delete may empty a slot (and, were the origin ever resumed meanwhile,
 * a create fill it again): what the copy needs of its clones is taken
 * here when it is gathered, and the record asks clone_batch_slot()
 * whether each clone is still the one it copied for.
 */
struct clone_hydrate {
	struct clone_job job[CLONE_BATCH];
	unsigned int nr;
	unsigned long targets;		/* slots any job copies to */
	struct block_device *bdev[SHADOW_MAX_CLONES];	/* by slot */
	u64 gen[SHADOW_MAX_CLONES];	/* by slot: its clone's */
	int read_err;
	u64 chunks[CLONE_BATCH];	/* one slot's, for the metadata */
};

/* The clone store's state; the pool's store_ctx, under pool->lock. */
struct clone_store {
	struct shadow_pool *pool;
	struct clone_slot slot[SHADOW_MAX_CLONES];
	unsigned long hydrating;	/* slots; READ_ONCE in map */
	u32 rate;			/* hydration MiB/s; 0: no limit */
	u64 cursor;			/* where the walk goes on */
	bool paused;			/* the origin is not resumed */
	ktime_t pace_until;		/* throttled: the next batch's start */
	bool missed;			/* the walk passed a busy chunk */
	u64 next_gen;			/* for the next clone_slot.gen */
	struct workqueue_struct *wq;
	struct delayed_work work;
	struct clone_hydrate batch;
	struct clone_copier copier;	/* the batches' copies */
};

static struct clone_store *clone_store_of(struct shadow_pool *pool)
{
	return pool->store_ctx;
}

static u64 clone_nr_chunks(struct shadow_pool *pool)
{
	return shadow_pool_nr_chunks(pool);
}

/*
 * The slot of clone @id.  Without pool->lock only while @id is open: its
 * slot cannot go then, and another slot is marked used only once it is
 * filled in (clone_snap_add()), and unused before it is cleared.
 */
static struct clone_slot *clone_slot_of(struct clone_store *cs, u64 id)
{
	unsigned int i;

	for (i = 0; i < SHADOW_MAX_CLONES; i++) {
		/* Pairs with clone_snap_add()'s release: used, so filled in. */
		if (smp_load_acquire(&cs->slot[i].used) &&
		    cs->slot[i].id == id)
			return &cs->slot[i];
	}
	return NULL;
}

static const char *clone_state_name(u32 state)
{
	switch (state) {
	case SHADOW_CLONE_HYDRATING:
		return "hydrating";
	case SHADOW_CLONE_COMPLETE:
		return "complete";
	default:
		return "failed";
	}
}

/*
 * The hydrating clones that lack @chunk.  Under pool->lock, or
 * rcu_read_lock() in the map path (see clone_slot_stop()).
 */
static unsigned long clone_lacking(struct clone_store *cs, u64 chunk)
{
	unsigned long hydrating = READ_ONCE(cs->hydrating);
	unsigned long lacking = 0;
	unsigned int i;

	for_each_set_bit(i, &hydrating, SHADOW_MAX_CLONES) {
		const unsigned long *bits = READ_ONCE(cs->slot[i].bits);

		if (bits && !test_bit(chunk, bits))
			__set_bit(i, &lacking);
	}
	return lacking;
}

/*
 * @sl hydrates no more.  Its bitmap goes once no map function can be
 * reading it: rare (a clone completes or fails once), so the grace
 * period is waited for here, under pool->lock, which map never takes.
 */
static void clone_slot_stop(struct clone_store *cs, struct clone_slot *sl)
{
	unsigned long *bits = sl->bits;

	__clear_bit(sl - cs->slot, &cs->hydrating);
	WRITE_ONCE(cs->hydrating, cs->hydrating);
	WRITE_ONCE(sl->bits, NULL);
	synchronize_rcu();
	kvfree(bits);
}

/*
 * A clone's target failed (@err): the clone is lost, the others and the
 * origin go on.  Recorded in the running transaction, which the caller
 * commits before any origin write that the clone lacks the old data of
 * goes on (a clone recorded hydrating after a crash would copy the new
 * data); not here, since other clones' copies recorded in it may not be
 * flushed to their targets yet.
 */
static void clone_fail(struct shadow_pool *pool, struct clone_slot *sl,
		       const char *why, int err)
{
	struct clone_store *cs = clone_store_of(pool);
	struct shadow_snap *s = shadow_snapset_find(pool, sl->id);
	int r;

	if (sl->state != SHADOW_CLONE_HYDRATING)
		return;
	DMERR("clone %llu: %s (error %d): the clone failed; the origin goes on",
	      sl->id, why, err);
	clone_slot_stop(cs, sl);
	WRITE_ONCE(sl->state, SHADOW_CLONE_FAILED);
	r = shadow_md_clone_finish(pool->md, sl->id, SHADOW_CLONE_FAILED);
	if (!r && s)
		r = shadow_snapset_invalidate_one(pool, s);
	if (r)
		shadow_pool_fail(pool, "cannot record a failed clone", r);
	shadow_pool_event(pool);
}

/* Every chunk is on the target: the clone is complete (caller commits). */
static int clone_complete(struct shadow_pool *pool, struct clone_slot *sl)
{
	int r = shadow_md_clone_finish(pool->md, sl->id,
				       SHADOW_CLONE_COMPLETE);

	if (r)
		return r;
	clone_slot_stop(clone_store_of(pool), sl);
	WRITE_ONCE(sl->state, SHADOW_CLONE_COMPLETE);
	DMINFO("clone %llu: complete, %llu chunks copied", sl->id,
	       sl->nr_copied);
	shadow_pool_event(pool);
	return 0;
}

/*
 * @n chunks, none recorded before, are on @sl's target: their bits go
 * into the running transaction (the caller flushes the target first and
 * commits).
 */
static int clone_record(struct shadow_pool *pool, struct clone_slot *sl,
			const u64 *chunks, unsigned int n)
{
	unsigned int i;
	int r;

	if (!n)
		return 0;
	r = shadow_md_clone_set_bits(pool->md, sl->id, chunks, n);
	if (r)
		return r;
	for (i = 0; i < n; i++)
		__set_bit(chunks[i], sl->bits);
	sl->nr_copied += n;
	if (sl->nr_copied == clone_nr_chunks(pool))
		return clone_complete(pool, sl);
	return 0;
}

/* Map */

static int clone_map_origin_write(struct shadow_pool *pool, u64 chunk,
				  bool can_block, struct shadow_map *m)
{
	struct clone_store *cs = clone_store_of(pool);
	unsigned long lacking;

	m->kind = SHADOW_MAP_ORIGIN;
	if (!READ_ONCE(cs->hydrating))
		return 0;
	rcu_read_lock();
	lacking = clone_lacking(cs, chunk);
	rcu_read_unlock();
	/*
	 * A bit seen set was set while the chunk's copy or claim was in
	 * flight, which goes only after the commit: the pool looks for it
	 * after this, and must not see an older state of it.
	 */
	smp_rmb();
	if (!lacking)
		return 0;
	if (!can_block)
		return -EWOULDBLOCK;
	m->kind = SHADOW_MAP_COPY;
	m->copy_from_store = false;
	m->copy_from = chunk;
	m->e.chunk = chunk;
	m->e.private = false;
	m->e.targets = lacking;
	m->e.failed = 0;
	return 0;
}

/* A clone's device: the target for what is copied, else the origin. */
static int clone_map_snap_read(struct shadow_pool *pool,
			       struct shadow_snap *s, u64 chunk,
			       bool can_block, struct shadow_map *m)
{
	struct clone_slot *sl = clone_slot_of(clone_store_of(pool), s->id);
	struct block_device *bdev = READ_ONCE(s->bdev);
	u32 state = sl ? READ_ONCE(sl->state) : SHADOW_CLONE_FAILED;

	m->kind = SHADOW_MAP_INVALID;
	if (READ_ONCE(s->state) != SHADOW_SNAP_VALID || !bdev ||
	    state == SHADOW_CLONE_FAILED)
		return 0;
	if (state == SHADOW_CLONE_HYDRATING) {
		if (!can_block)
			return -EWOULDBLOCK;
		if (!test_bit(chunk, sl->bits)) {
			m->kind = SHADOW_MAP_ORIGIN;
			return 0;
		}
	}
	m->kind = SHADOW_MAP_STORE;
	m->bdev = bdev;
	m->store_chunk = chunk;
	return 0;
}

/* Clone devices are read-only (the snapshot target refuses writable). */
static int clone_map_snap_write(struct shadow_pool *pool,
				struct shadow_snap *s, u64 chunk,
				bool can_block, struct shadow_map *m)
{
	m->kind = SHADOW_MAP_INVALID;
	return 0;
}

/* Copies before origin writes */

/*
 * @from's sectors on each of @targets, whose devices @bdev gives by slot:
 * the destinations of a copy.
 */
static unsigned int clone_dests(struct block_device *const *bdev,
				const struct dm_io_region *from,
				unsigned long targets, struct dm_io_region *to)
{
	unsigned int i, n = 0;

	for_each_set_bit(i, &targets, SHADOW_MAX_CLONES) {
		to[n].bdev = bdev[i];
		to[n].sector = from->sector;
		to[n].count = from->count;
		n++;
	}
	return n;
}

static unsigned int clone_copy_dests(struct shadow_pool *pool,
				     const struct shadow_exception *e,
				     struct dm_io_region *to)
{
	struct clone_store *cs = clone_store_of(pool);
	struct dm_io_region from = {
		.sector = (sector_t)e->chunk << pool->chunk_shift,
		.count = shadow_pool_chunk_len(pool, e->chunk),
	};
	struct block_device *bdev[SHADOW_MAX_CLONES];
	unsigned long targets = e->targets;
	unsigned int i;

	/* Under pool->lock: the slots are as the map function saw them. */
	for_each_set_bit(i, &targets, SHADOW_MAX_CLONES)
		bdev[i] = cs->slot[i].bdev;
	return clone_dests(bdev, &from, e->targets, to);
}

/*
 * Record a copy to @targets of @chunk, @failed naming by destination the
 * writes that failed; the targets written are flushed before the commit.
 */
static int clone_copied(struct shadow_pool *pool, u64 chunk,
			unsigned long targets, unsigned long failed)
{
	struct clone_store *cs = clone_store_of(pool);
	unsigned int i, k = 0;
	int r;

	for_each_set_bit(i, &targets, SHADOW_MAX_CLONES) {
		struct clone_slot *sl = &cs->slot[i];
		bool write_failed = test_bit(k++, &failed);

		/* Deleted, or failed, while the copy ran. */
		if (!sl->used || sl->state != SHADOW_CLONE_HYDRATING)
			continue;
		if (write_failed) {
			clone_fail(pool, sl, "a write to its target failed",
				   -EIO);
			continue;
		}
		if (test_bit(chunk, sl->bits))
			continue;
		sl->dirty = true;
		r = clone_record(pool, sl, &chunk, 1);
		if (r)
			return r;
	}
	return 0;
}

static int clone_copy_done(struct shadow_pool *pool,
			   const struct shadow_exception *e)
{
	return clone_copied(pool, e->chunk, e->targets, e->failed);
}

/*
 * The copies recorded since the last commit must be on their targets'
 * media before their bits are durable: flush the targets written.
 */
static int clone_flush_copies(struct shadow_pool *pool)
{
	struct clone_store *cs = clone_store_of(pool);
	unsigned int i;
	int r;

	for (i = 0; i < SHADOW_MAX_CLONES; i++) {
		struct clone_slot *sl = &cs->slot[i];

		if (!sl->used || !sl->dirty)
			continue;
		sl->dirty = false;
		r = blkdev_issue_flush(sl->bdev);
		if (r)
			clone_fail(pool, sl, "its target failed a flush", r);
	}
	return pool->failed ? -EIO : 0;
}

/* Hydration */

/* The first chunk at or after @from that a hydrating clone lacks. */
static u64 clone_next_lacking(struct clone_store *cs, u64 from, u64 nr)
{
	u64 next = nr;
	unsigned int i;

	for_each_set_bit(i, &cs->hydrating, SHADOW_MAX_CLONES)
		next = min_t(u64, next,
			     find_next_zero_bit(cs->slot[i].bits, nr, from));
	return next;
}

/*
 * Claim up to @max chunks from the cursor on that some clone lacks.  A
 * chunk with I/O in flight is passed over and tried on the next pass.
 */
static void clone_gather(struct shadow_pool *pool, struct clone_store *cs,
			 unsigned int max)
{
	struct clone_hydrate *b = &cs->batch;
	u64 nr = clone_nr_chunks(pool);
	unsigned int i;

	b->nr = 0;
	b->targets = 0;
	while (b->nr < max && cs->cursor < nr) {
		u64 c = clone_next_lacking(cs, cs->cursor, nr);
		struct clone_job *job = &b->job[b->nr];

		cs->cursor = c + 1;
		if (c >= nr)
			break;
		job->claim = shadow_pool_claim_chunk(pool, c);
		if (!job->claim) {
			cs->missed = true;
			continue;
		}
		job->batch = b;
		job->chunk = c;
		job->targets = clone_lacking(cs, c);
		job->failed = 0;
		b->targets |= job->targets;
		b->nr++;
	}
	for_each_set_bit(i, &b->targets, SHADOW_MAX_CLONES) {
		b->bdev[i] = cs->slot[i].bdev;
		b->gen[i] = cs->slot[i].gen;
	}
}

/*
 * The slot of clone @i of batch @b, under pool->lock: NULL if the clone
 * was deleted while the batch copied, whatever the slot holds now.
 */
static struct clone_slot *clone_batch_slot(struct clone_store *cs,
					   const struct clone_hydrate *b,
					   unsigned int i)
{
	struct clone_slot *sl = &cs->slot[i];

	return sl->used && sl->gen == b->gen[i] ? sl : NULL;
}

/*
 * The chunks from the batch's @first on that one run of the copier
 * copies: adjacent on the origin, to the same clones.
 */
static unsigned int clone_run_length(const struct clone_hydrate *b,
				     unsigned int first)
{
	const struct clone_job *job = &b->job[first];
	unsigned int n = 1;

	while (first + n < b->nr && n < CLONE_RUN &&
	       job[n].chunk == job->chunk + n &&
	       job[n].targets == job->targets)
		n++;
	return n;
}

/*
 * Copy the batch's chunks to their clones and flush the targets written,
 * without pool->lock: I/O to the claimed chunks waits meanwhile.  Only
 * the batch is used, never a slot: a delete may clear one meanwhile.
 *
 * The block devices taken at gather time stay open though their clone
 * be deleted: the origin's table holds them (its clone_target dm_devs),
 * and it lets them go only after a suspend, or on its way out, which is
 * after its postsuspend too (dm suspends a live table before it destroys
 * it; the pool's own end suspends the store first).  clone_suspend()
 * waits for this work, so we end before a table that is replaced, or
 * the pool, lets a target go.  A deleted clone's copies in flight go on
 * writing its target, which no one may use before a reload drops it from
 * the table, after that wait.
 */
static void clone_copy_batch(struct shadow_pool *pool, struct clone_store *cs,
			     unsigned long *flush_failed)
{
	struct clone_hydrate *b = &cs->batch;
	struct dm_io_region from, to[DM_KCOPYD_MAX_REGIONS];
	unsigned long write_err;
	unsigned int i, k, n;
	int r;

	b->read_err = 0;
	for (i = 0; i < b->nr; i += b->job[i].run) {
		struct clone_job *job = &b->job[i];
		u64 last;

		job->run = clone_run_length(b, i);
		last = job->chunk + job->run - 1;
		from.bdev = pool->origin_bdev;
		from.sector = (sector_t)job->chunk << pool->chunk_shift;
		from.count = ((sector_t)last << pool->chunk_shift) +
			     shadow_pool_chunk_len(pool, last) - from.sector;
		n = clone_dests(b->bdev, &from, job->targets, to);
		r = clone_copier_copy(&cs->copier, &from, to, n, &write_err);
		if (r)
			b->read_err = r;
		for (k = 0; k < job->run; k++)
			job[k].failed = write_err;
	}
	*flush_failed = 0;
	for_each_set_bit(i, &b->targets, SHADOW_MAX_CLONES)
		if (blkdev_issue_flush(b->bdev[i]))
			__set_bit(i, flush_failed);
}

/*
 * Record the batch's copies in one commit, then let its chunks' I/O go.
 * A clone deleted while they ran records nothing: its claims go all the
 * same.
 */
static int clone_record_batch(struct shadow_pool *pool,
			      struct clone_store *cs,
			      unsigned long flush_failed)
{
	struct clone_hydrate *b = &cs->batch;
	struct clone_slot *sl;
	unsigned int i, j, n;
	int r = 0;

	for_each_set_bit(i, &flush_failed, SHADOW_MAX_CLONES) {
		sl = clone_batch_slot(cs, b, i);
		if (sl)
			clone_fail(pool, sl, "its target failed a flush", -EIO);
	}
	/* A failed write fails its clone; the others record theirs. */
	for (j = 0; j < b->nr; j++) {
		struct clone_job *job = &b->job[j];
		unsigned int k = 0;

		for_each_set_bit(i, &job->targets, SHADOW_MAX_CLONES) {
			if (!test_bit(k++, &job->failed))
				continue;
			sl = clone_batch_slot(cs, b, i);
			if (sl)
				clone_fail(pool, sl,
					   "a write to its target failed",
					   -EIO);
		}
	}
	for_each_set_bit(i, &b->targets, SHADOW_MAX_CLONES) {
		if (r)
			break;
		sl = clone_batch_slot(cs, b, i);
		if (!sl || sl->state != SHADOW_CLONE_HYDRATING)
			continue;
		for (j = 0, n = 0; j < b->nr; j++)
			if (test_bit(i, &b->job[j].targets) &&
			    !test_bit(b->job[j].chunk, sl->bits))
				b->chunks[n++] = b->job[j].chunk;
		r = clone_record(pool, sl, b->chunks, n);
	}
	if (!r && !pool->failed)
		r = shadow_md_commit(pool->md);
	/* Released after the commit: a write now finds its chunk copied. */
	for (j = 0; j < b->nr; j++)
		shadow_pool_release_chunk(pool, b->job[j].claim);
	b->nr = 0;
	return r;
}

/*
 * The most chunks a batch copies: CLONE_BATCH_BYTES, or less, about
 * CLONE_PACE_MS worth of data, at a throttled hydration's rate; one at
 * least.
 */
static unsigned int clone_pace(struct shadow_pool *pool,
			       struct clone_store *cs)
{
	u64 chunk_bytes = (u64)pool->chunk_sectors << SECTOR_SHIFT;
	u64 bytes = CLONE_BATCH_BYTES;

	if (cs->rate)
		bytes = min(bytes, ((u64)cs->rate << 20) * CLONE_PACE_MS / 1000);
	return clamp_t(u64, div64_u64(bytes, chunk_bytes), 1, CLONE_BATCH);
}

/*
 * After a throttled batch of @nr chunks: when the next one may start, 0
 * if unthrottled.  The deadline moves on by the batch's time at the rate,
 * to the nanosecond, from the last deadline, not from now: the time the
 * copies took counts against the rate, and no rounding adds up (periods
 * once rounded to whole ms, then up to jiffies, gave 62 MiB/s for 100 at
 * 4 KiB chunks, no limit at all from 300).  A walk that fell more than a
 * second behind (it waited for the lock, or a pass ended) starts
 * counting again from now rather than catch up at full speed.
 */
static ktime_t clone_pace_next(struct shadow_pool *pool,
			       struct clone_store *cs, unsigned int nr)
{
	u64 bytes = ((u64)nr * pool->chunk_sectors) << SECTOR_SHIFT;
	ktime_t now = ktime_get();

	if (!cs->rate)
		return 0;
	if (ktime_before(ktime_add_ns(cs->pace_until, NSEC_PER_SEC), now))
		cs->pace_until = now;
	cs->pace_until = ktime_add_ns(cs->pace_until,
				      mul_u64_u64_div_u64(bytes, NSEC_PER_SEC,
							  (u64)cs->rate << 20));
	return cs->pace_until;
}

/*
 * One batch, under pool->lock (dropped while it copies).  Returns the
 * chunks it copied, 0 at the end of a pass, or -errno.
 */
static int clone_hydrate_batch(struct shadow_pool *pool,
			       struct clone_store *cs, unsigned int max)
{
	unsigned long flush_failed;
	unsigned int nr;
	int r;

	clone_gather(pool, cs, max);
	nr = cs->batch.nr;
	if (!nr)
		return 0;
	mutex_unlock(&pool->lock);
	clone_copy_batch(pool, cs, &flush_failed);
	mutex_lock(&pool->lock);
	r = cs->batch.read_err;
	if (r) {
		shadow_pool_fail(pool, "cannot read the origin to hydrate a clone",
				 r);
		flush_failed = 0;
	}
	return clone_record_batch(pool, cs, flush_failed) ?: r ?: nr;
}

/*
 * The walk: batches from the cursor to the origin's end, then again from
 * the start while a clone lacks a chunk (one created during the walk, or
 * a chunk that was busy), until every clone is complete.
 */
static void clone_hydrate_work(struct work_struct *work)
{
	struct clone_store *cs = container_of(to_delayed_work(work),
					      struct clone_store, work);
	struct shadow_pool *pool = cs->pool;
	unsigned int max;
	ktime_t until;
	int r;

	mutex_lock(&pool->lock);
	while (!cs->paused && !pool->failed && cs->hydrating) {
		max = clone_pace(pool, cs);
		r = clone_hydrate_batch(pool, cs, max);
		if (r < 0) {
			shadow_pool_fail(pool, "cannot record a clone's progress",
					 r);
			break;
		}
		if (!r) {
			cs->cursor = 0;
			if (cs->missed) {
				cs->missed = false;
				queue_delayed_work(cs->wq, &cs->work,
						   CLONE_RETRY);
				break;
			}
			continue;
		}
		until = clone_pace_next(pool, cs, r);
		mutex_unlock(&pool->lock);
		/* An hrtimer: a jiffy (4 ms at HZ=250) is a whole batch at speed. */
		if (until && ktime_after(until, ktime_get())) {
			set_current_state(TASK_UNINTERRUPTIBLE);
			schedule_hrtimeout(&until, HRTIMER_MODE_ABS);
		} else {
			cond_resched();
		}
		mutex_lock(&pool->lock);
	}
	mutex_unlock(&pool->lock);
}

/* Snapshots: clones */

static struct shadow_target *clone_target_of(struct shadow_pool *pool, u64 id)
{
	const struct shadow_store_args *t = pool->store_args;
	unsigned int i;

	for (i = 0; t && i < t->nr; i++)
		if (t->t[i].id == id)
			return (struct shadow_target *)&t->t[i];
	return NULL;
}

static struct clone_slot *clone_free_slot(struct clone_store *cs)
{
	unsigned int i;

	for (i = 0; i < SHADOW_MAX_CLONES; i++)
		if (!cs->slot[i].used)
			return &cs->slot[i];
	return NULL;
}

static struct clone_slot *clone_slot_of_bdev(struct clone_store *cs,
					     struct block_device *bdev)
{
	unsigned int i;

	for (i = 0; i < SHADOW_MAX_CLONES; i++)
		if (cs->slot[i].used && cs->slot[i].bdev == bdev)
			return &cs->slot[i];
	return NULL;
}

static unsigned long *clone_alloc_bits(struct shadow_pool *pool)
{
	/* NOIO: a clone is created while the origin is suspended. */
	return kvcalloc(BITS_TO_LONGS(clone_nr_chunks(pool)),
			sizeof(unsigned long), GFP_NOIO);
}

/* Why clone @id cannot be created on @t, logged; 0 if it can. */
static int clone_check_new(struct shadow_pool *pool, u64 id,
			   struct shadow_target *t)
{
	struct clone_store *cs = clone_store_of(pool);
	struct clone_slot *other;

	if (!t) {
		DMERR("create %llu: the origin's table names no clone_target for %llu; reload it with one first",
		      id, id);
		return -ENODEV;
	}
	other = clone_slot_of_bdev(cs, t->dev->bdev);
	if (other) {
		DMERR("create %llu: %s is the target of clone %llu already",
		      id, t->dev->name, other->id);
		return -EBUSY;
	}
	if (!clone_free_slot(cs)) {
		DMERR("create %llu: the store holds %u clones already, the most it can",
		      id, SHADOW_MAX_CLONES);
		return -ENOSPC;
	}
	return 0;
}

static int clone_snap_add(struct shadow_pool *pool, u64 id)
{
	struct clone_store *cs = clone_store_of(pool);
	struct shadow_target *t = clone_target_of(pool, id);
	struct clone_slot *sl;
	unsigned long *bits;
	int r;

	r = clone_check_new(pool, id, t);
	if (r)
		return r;
	bits = clone_alloc_bits(pool);
	if (!bits) {
		DMERR("create %llu: cannot allocate its bitmap", id);
		return -ENOMEM;
	}
	r = shadow_md_clone_add(pool->md, id, bdev_nr_sectors(t->dev->bdev));
	if (r == -ENOSPC) {
		DMERR("create %llu: the store device has no room for another clone's bitmap",
		      id);
	} else if (r) {
		shadow_pool_fail(pool, "cannot record a new clone", r);
	}
	if (r) {
		kvfree(bits);
		return r;
	}
	sl = clone_free_slot(cs);
	sl->id = id;
	sl->gen = ++cs->next_gen;
	sl->state = SHADOW_CLONE_HYDRATING;
	sl->nr_copied = 0;
	sl->target_sectors = bdev_nr_sectors(t->dev->bdev);
	sl->bits = bits;
	sl->bdev = t->dev->bdev;
	sl->dirty = false;
	/* Pairs with clone_slot_of(): a reader sees it whole or not at all. */
	smp_store_release(&sl->used, true);
	__set_bit(sl - cs->slot, &cs->hydrating);
	WRITE_ONCE(cs->hydrating, cs->hydrating);
	/* The walk starts over for it once the origin resumes. */
	cs->cursor = 0;
	return 0;
}

static int clone_snap_remove(struct shadow_pool *pool, u64 id)
{
	struct clone_store *cs = clone_store_of(pool);
	struct clone_slot *sl = clone_slot_of(cs, id);
	int r;

	if (!sl) {
		DMERR("delete %llu: the store has no clone record for it", id);
		return -EUCLEAN;
	}
	r = shadow_md_clone_remove(pool->md, id);
	if (r) {
		shadow_pool_fail(pool, "cannot delete a clone", r);
		return r;
	}
	if (sl->state == SHADOW_CLONE_HYDRATING)
		clone_slot_stop(cs, sl);
	WRITE_ONCE(sl->used, false);
	memset(sl, 0, sizeof(*sl));
	return 0;
}

static int clone_snap_dev(struct shadow_pool *pool, struct shadow_snap *s,
			  dev_t *ret_dev)
{
	struct clone_slot *sl = clone_slot_of(clone_store_of(pool), s->id);

	if (!sl || !sl->bdev) {
		DMERR("clone %llu: the origin's table names no clone_target for it",
		      s->id);
		return -ENODEV;
	}
	*ret_dev = sl->bdev->bd_dev;
	return 0;
}

/* The origin's table */

/*
 * A new origin table must name the target of every hydrating clone:
 * without it an origin write could not keep that clone's data.
 */
static int clone_check_args(struct shadow_pool *pool,
			    const struct shadow_store_args *targets,
			    char **error)
{
	struct clone_store *cs = clone_store_of(pool);
	unsigned int i, j;

	for (i = 0; i < targets->nr; i++) {
		if (bdev_nr_sectors(targets->t[i].dev->bdev) <
		    pool->origin_sectors) {
			DMERR("clone_target %llu: %s is smaller than the origin",
			      targets->t[i].id, targets->t[i].dev->name);
			*error = "a clone_target is smaller than the origin";
			return -EINVAL;
		}
	}
	for (i = 0; i < SHADOW_MAX_CLONES; i++) {
		struct clone_slot *sl = &cs->slot[i];

		if (!sl->used || sl->state != SHADOW_CLONE_HYDRATING)
			continue;
		for (j = 0; j < targets->nr; j++)
			if (targets->t[j].id == sl->id)
				break;
		if (j == targets->nr) {
			DMERR("clone %llu is hydrating: the table must name its clone_target",
			      sl->id);
			*error = "a hydrating clone's clone_target is missing";
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The origin resumed: each clone uses the target its table names (a
 * hydrating clone the table lost, possible only when it was created
 * after that table was loaded, fails), and hydration goes on.
 */
static void clone_resume(struct shadow_pool *pool)
{
	struct clone_store *cs = clone_store_of(pool);
	bool failed = false;
	unsigned int i;
	int r;

	mutex_lock(&pool->lock);
	for (i = 0; i < SHADOW_MAX_CLONES; i++) {
		struct clone_slot *sl = &cs->slot[i];
		struct shadow_target *t;

		if (!sl->used)
			continue;
		t = clone_target_of(pool, sl->id);
		sl->bdev = t ? t->dev->bdev : NULL;
		if (!t && sl->state == SHADOW_CLONE_HYDRATING) {
			clone_fail(pool, sl, "the origin's table no longer names its target",
				   -ENODEV);
			failed = true;
		}
	}
	/* Durable before the origin's first write: the device still waits. */
	if (failed && !pool->failed) {
		r = shadow_md_commit(pool->md);
		if (r)
			shadow_pool_fail(pool, "cannot record a failed clone", r);
	}
	if (pool->store_args && pool->store_args->hydrate_rate_set)
		cs->rate = pool->store_args->hydrate_rate;
	cs->paused = false;
	if (cs->hydrating)
		mod_delayed_work(cs->wq, &cs->work, 0);
	mutex_unlock(&pool->lock);
}

/* The origin is suspended: no batch runs until it resumes. */
static void clone_suspend(struct shadow_pool *pool)
{
	struct clone_store *cs = clone_store_of(pool);

	mutex_lock(&pool->lock);
	cs->paused = true;
	mutex_unlock(&pool->lock);
	cancel_delayed_work_sync(&cs->work);
}

/* Load */

/*
 * A clone record, into a slot.  Its bitset is read after the walk
 * (clone_load_bits()): the walk holds md->lock, which reading takes too.
 */
static int clone_load_one(void *context, const struct shadow_md_clone *mc)
{
	struct shadow_pool *pool = context;
	struct clone_store *cs = clone_store_of(pool);
	struct shadow_snap *s = shadow_snapset_find(pool, mc->id);
	struct clone_slot *sl = clone_free_slot(cs);

	if (!sl) {
		DMERR("the store holds more than %u clones", SHADOW_MAX_CLONES);
		return -EUCLEAN;
	}
	if (!s || (s->state == SHADOW_SNAP_VALID) !=
		  (mc->state != SHADOW_CLONE_FAILED)) {
		DMERR("clone %llu (%s) has no snapshot, or one that disagrees",
		      mc->id, clone_state_name(mc->state));
		return -EUCLEAN;
	}
	sl->used = true;
	sl->id = mc->id;
	sl->gen = ++cs->next_gen;
	sl->state = mc->state;
	sl->nr_copied = mc->nr_copied;
	sl->target_sectors = mc->target_sectors;
	return 0;
}

/* A hydrating clone's bitset, read into memory and checked. */
static int clone_load_bits(struct shadow_pool *pool, struct clone_slot *sl)
{
	struct clone_store *cs = clone_store_of(pool);
	u64 nr = clone_nr_chunks(pool);
	unsigned int weight;
	int r;

	sl->bits = kvcalloc(BITS_TO_LONGS(nr), sizeof(unsigned long),
			    GFP_KERNEL);
	if (!sl->bits)
		return -ENOMEM;
	r = shadow_md_clone_load_bits(pool->md, sl->id, sl->bits);
	if (r)
		return r;
	weight = bitmap_weight(sl->bits, nr);
	if (weight != sl->nr_copied) {
		DMERR("clone %llu counts %llu chunks copied, its bitset %u",
		      sl->id, sl->nr_copied, weight);
		return -EUCLEAN;
	}
	__set_bit(sl - cs->slot, &cs->hydrating);
	return 0;
}

static int clone_load(struct shadow_pool *pool)
{
	struct clone_store *cs = clone_store_of(pool);
	unsigned int i;
	int r;

	r = shadow_md_clone_walk(pool->md, clone_load_one, pool);
	for (i = 0; i < SHADOW_MAX_CLONES && !r; i++)
		if (cs->slot[i].used &&
		    cs->slot[i].state == SHADOW_CLONE_HYDRATING)
			r = clone_load_bits(pool, &cs->slot[i]);
	return r;
}

static unsigned int clone_count(struct clone_store *cs)
{
	unsigned int i, n = 0;

	for (i = 0; i < SHADOW_MAX_CLONES; i++)
		n += cs->slot[i].used;
	return n;
}

static void clone_free(struct clone_store *cs)
{
	unsigned int i;

	for (i = 0; i < SHADOW_MAX_CLONES; i++)
		kvfree(cs->slot[i].bits);
	if (cs->wq)
		destroy_workqueue(cs->wq);
	clone_copier_exit(&cs->copier);
	kvfree(cs);
}

static int clone_init(struct shadow_pool *pool)
{
	struct clone_store *cs = kvzalloc(sizeof(*cs), GFP_KERNEL);
	int r;

	if (!cs)
		return -ENOMEM;
	cs->pool = pool;
	cs->paused = true;
	INIT_DELAYED_WORK(&cs->work, clone_hydrate_work);
	pool->store_ctx = cs;
	cs->wq = alloc_workqueue("dm-shadow-clone", WQ_MEM_RECLAIM, 0);
	r = cs->wq ? clone_copier_init(&cs->copier) : -ENOMEM;
	if (!r)
		r = clone_load(pool);
	if (!r && clone_count(cs) != pool->nr_snaps) {
		DMERR("the store has %u snapshots but %u clones",
		      pool->nr_snaps, clone_count(cs));
		r = -EUCLEAN;
	}
	if (r) {
		pool->store_ctx = NULL;
		clone_free(cs);
	}
	return r;
}

static void clone_exit(struct shadow_pool *pool)
{
	struct clone_store *cs = clone_store_of(pool);

	cancel_delayed_work_sync(&cs->work);
	clone_free(cs);
	pool->store_ctx = NULL;
}

/* Nothing to free: a clone's blocks go with it (clone_snap_remove). */
static int clone_reclaim(struct shadow_pool *pool)
{
	return 0;
}

/* Messages and status */

static int clone_msg_detach(struct shadow_pool *pool, u64 id)
{
	struct clone_slot *sl = clone_slot_of(clone_store_of(pool), id);
	struct shadow_snap *s = shadow_snapset_find(pool, id);
	char name[BDEVNAME_SIZE] = "?";
	int r;

	if (!sl || !s) {
		DMERR("detach %llu: no such clone", id);
		return -ENOENT;
	}
	if (sl->state != SHADOW_CLONE_COMPLETE) {
		DMERR("detach %llu: the clone is %s, not complete (%llu of %llu chunks copied)",
		      id, clone_state_name(sl->state), sl->nr_copied,
		      clone_nr_chunks(pool));
		return -EAGAIN;
	}
	if (s->open_count) {
		DMERR("detach %llu: a shadow-snap device still uses it", id);
		return -EBUSY;
	}
	if (sl->bdev)
		snprintf(name, sizeof(name), "%pg", sl->bdev);
	r = shadow_snapset_delete(pool, id);
	if (r)
		return r;
	DMINFO("clone %llu detached: %s holds the origin as of the clone; drop its clone_target from the table",
	       id, name);
	return 0;
}

/*
 * hydrate_rate <MiB/s>   how fast hydration may copy (0: no limit)
 * detach <id>            forget complete clone <id>: its target is a
 *                        plain copy from then on
 */
static int clone_message(struct shadow_pool *pool, unsigned int argc,
			 char **argv)
{
	struct clone_store *cs = clone_store_of(pool);
	u64 id;
	u32 rate;

	if (!strcasecmp(argv[0], "hydrate_rate")) {
		if (argc != 2 || kstrtou32(argv[1], 10, &rate)) {
			DMERR("hydrate_rate: expected 'hydrate_rate <MiB/s>' (0: no limit)");
			return -EINVAL;
		}
		cs->rate = rate;
		return 0;
	}
	if (!strcasecmp(argv[0], "detach")) {
		if (argc != 2 || kstrtou64(argv[1], 10, &id)) {
			DMERR("detach: expected 'detach <id>'");
			return -EINVAL;
		}
		return clone_msg_detach(pool, id);
	}
	return -EOPNOTSUPP;
}

/*
 * After the row store's two fields (- -): <hydrate_rate> <clones> then
 * per clone, by slot: <id> hydrating|complete|failed <copied>/<origin_chunks>
 */
static void clone_status(struct shadow_pool *pool, char *result,
			 unsigned int maxlen, unsigned int *sz_ptr)
{
	struct clone_store *cs = clone_store_of(pool);
	unsigned int sz = *sz_ptr, i;

	DMEMIT(" - - %u %u", cs->rate, clone_count(cs));
	for (i = 0; i < SHADOW_MAX_CLONES; i++) {
		struct clone_slot *sl = &cs->slot[i];

		if (sl->used)
			DMEMIT(" %llu %s %llu/%llu", sl->id,
			       clone_state_name(sl->state), sl->nr_copied,
			       clone_nr_chunks(pool));
	}
	*sz_ptr = sz;
}

struct shadow_store_type shadow_clone_store = {
	.name = "clone",
	.disk_type = SHADOW_STORE_CLONE,
	.owner = THIS_MODULE,
	.full_policy = SHADOW_FULL_DROP_OLDEST,
	.fail_origin_io = false,
	.live_in_store = false,
	.commit_on_flush = false,
	.whole_write_no_copy = false,
	.snaps_read_only = true,
	.init = clone_init,
	.exit = clone_exit,
	.map_origin_write = clone_map_origin_write,
	.map_snap_read = clone_map_snap_read,
	.map_snap_write = clone_map_snap_write,
	.copy_done = clone_copy_done,
	.reclaim = clone_reclaim,
	.message = clone_message,
	.status = clone_status,
	.copy_dests = clone_copy_dests,
	.flush_copies = clone_flush_copies,
	.snap_add = clone_snap_add,
	.snap_remove = clone_snap_remove,
	.check_args = clone_check_args,
	.resume = clone_resume,
	.suspend = clone_suspend,
	.snap_dev = clone_snap_dev,
};
