// SPDX-License-Identifier: GPL-2.0-only
/*
 * The snapshots of one pool: loaded from the store's snapshot tree, kept
 * by id in an xarray and, while valid, in an array ordered by creation
 * sequence.  Creating one is O(1) in the number of snapshots; the ordered
 * array answers "is any valid snapshot in (lo, hi]" in O(log n), which is
 * what the stores ask when they decide what to keep.
 *
 * All functions run under pool->lock.  pool->newest_seq mirrors the newest
 * valid sequence for the map functions, which read it without the lock.
 */
#include "dm-shadow.h"
#include "dm-shadow-format.h"

#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>

static void shadow_snapset_publish(struct shadow_pool *pool)
{
	WRITE_ONCE(pool->newest_seq, pool->nr_live ?
		   pool->live[pool->nr_live - 1]->seq : 0);
	atomic_set(&pool->live_count, pool->nr_live);
}

/*
 * GFP_NOIO: snapshots are created while the origin is suspended, and
 * reclaim writing back to the suspended origin would wait for us forever.
 */
static int shadow_snapset_insert(struct shadow_pool *pool,
				 const struct shadow_md_snap *ms)
{
	struct shadow_snap *s;
	int r;

	if (pool->nr_snaps >= SHADOW_MAX_SNAPSHOTS)
		return -ENOSPC;
	s = kzalloc(sizeof(*s), GFP_NOIO);
	if (!s)
		return -ENOMEM;
	s->id = ms->id;
	s->seq = ms->seq;
	s->ctime = ms->ctime;
	s->state = ms->state;
	s->flags = ms->flags;
	r = xa_insert(&pool->snaps, s->id, s, GFP_NOIO);
	if (r) {
		kfree(s);
		return r == -EBUSY ? -EEXIST : r;
	}
	pool->nr_snaps++;
	if (s->state == SHADOW_SNAP_INVALID) {
		pool->nr_invalid++;
		return 0;
	}
	/* Sequences only grow, so a new snapshot goes last. */
	pool->live[pool->nr_live++] = s;
	return 0;
}

static int shadow_seq_cmp(const void *a, const void *b)
{
	const struct shadow_snap *x = *(const struct shadow_snap **)a;
	const struct shadow_snap *y = *(const struct shadow_snap **)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Refuse a snapshot record that would make snapshots read wrong data. */
static int shadow_snapset_check(struct shadow_pool *pool,
				const struct shadow_md_snap *ms)
{
	if (ms->state != SHADOW_SNAP_VALID &&
	    ms->state != SHADOW_SNAP_INVALID) {
		DMERR("snapshot %llu has unknown state %u", ms->id, ms->state);
		return -EUCLEAN;
	}
	if (!ms->seq || ms->seq > shadow_md_last_seq(pool->md)) {
		DMERR("snapshot %llu has sequence %llu, outside 1..%llu",
		      ms->id, ms->seq, shadow_md_last_seq(pool->md));
		return -EUCLEAN;
	}
	if (ms->flags & ~(SHADOW_SNAPF_SEALED | SHADOW_SNAPF_WRITTEN)) {
		DMERR("snapshot %llu has unknown flags %#x", ms->id, ms->flags);
		return -EUCLEAN;
	}
	return 0;
}

static int shadow_snapset_load_one(void *context,
				   const struct shadow_md_snap *ms)
{
	struct shadow_pool *pool = context;
	int r = shadow_snapset_check(pool, ms);

	if (r)
		return r;
	r = shadow_snapset_insert(pool, ms);
	if (r == -ENOSPC)
		DMERR("the store holds more than %u snapshots",
		      SHADOW_MAX_SNAPSHOTS);
	return r;
}

static int shadow_u64_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Two snapshots with one sequence would read each other's data: a
 * sequence is handed out once, valid or invalid.
 */
static int shadow_snapset_check_unique(struct shadow_pool *pool)
{
	struct shadow_snap *s;
	unsigned long id;
	u32 n = 0, i;
	u64 *seqs;
	int r = 0;

	if (pool->nr_snaps < 2)
		return 0;
	seqs = kvcalloc(pool->nr_snaps, sizeof(*seqs), GFP_KERNEL);
	if (!seqs)
		return -ENOMEM;
	xa_for_each(&pool->snaps, id, s)
		seqs[n++] = s->seq;
	sort(seqs, n, sizeof(*seqs), shadow_u64_cmp, NULL);
	for (i = 1; i < n; i++) {
		if (seqs[i] == seqs[i - 1]) {
			DMERR("two snapshots have the same sequence %llu",
			      seqs[i]);
			r = -EUCLEAN;
			break;
		}
	}
	kvfree(seqs);
	return r;
}

/*
 * A row store's revert left no snapshot in its dead range, which would
 * read dead versions.  After the walk: the metadata's lock is not ours to
 * take again inside it.
 */
static int shadow_snapset_check_dropped(struct shadow_pool *pool)
{
	struct shadow_snap *s;
	unsigned long id;
	u64 from, below;

	shadow_md_row_dropped(pool->md, &from, &below);
	xa_for_each(&pool->snaps, id, s) {
		if (s->seq > from && s->seq <= below) {
			DMERR("snapshot %llu has sequence %llu, inside the versions a revert dropped (%llu..%llu)",
			      s->id, s->seq, from, below - 1);
			return -EUCLEAN;
		}
	}
	return 0;
}

int shadow_snapset_load(struct shadow_pool *pool)
{
	int r;

	xa_init(&pool->snaps);
	pool->live = kvcalloc(SHADOW_MAX_SNAPSHOTS, sizeof(*pool->live),
			      GFP_KERNEL);
	if (!pool->live)
		return -ENOMEM;
	r = shadow_md_snap_walk(pool->md, shadow_snapset_load_one, pool);
	if (r)
		return r;
	sort(pool->live, pool->nr_live, sizeof(*pool->live), shadow_seq_cmp,
	     NULL);
	r = shadow_snapset_check_unique(pool);
	if (!r)
		r = shadow_snapset_check_dropped(pool);
	if (r)
		return r;
	shadow_snapset_publish(pool);
	return 0;
}

void shadow_snapset_free(struct shadow_pool *pool)
{
	struct shadow_snap *s;
	unsigned long id;

	xa_for_each(&pool->snaps, id, s)
		kfree(s);
	xa_destroy(&pool->snaps);
	kvfree(pool->live);
	pool->live = NULL;
	pool->nr_live = 0;
	pool->nr_snaps = 0;
	pool->nr_invalid = 0;
}

struct shadow_snap *shadow_snapset_find(struct shadow_pool *pool, u64 id)
{
	return xa_load(&pool->snaps, id);
}

/* Index of the first valid snapshot with a sequence above @seq. */
static u32 shadow_snapset_first_above(struct shadow_pool *pool, u64 seq)
{
	u32 a = 0, b = pool->nr_live;

	while (a < b) {
		u32 mid = a + (b - a) / 2;

		if (pool->live[mid]->seq <= seq)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

/* The valid snapshot with sequence @seq, or NULL. */
struct shadow_snap *shadow_snapset_find_seq(struct shadow_pool *pool, u64 seq)
{
	u32 i = shadow_snapset_first_above(pool, seq);

	return i && pool->live[i - 1]->seq == seq ? pool->live[i - 1] : NULL;
}

static void shadow_snapset_remove_live(struct shadow_pool *pool,
				       struct shadow_snap *s)
{
	u32 i = shadow_snapset_first_above(pool, s->seq);

	if (!i || pool->live[i - 1] != s)
		return;
	i--;
	memmove(&pool->live[i], &pool->live[i + 1],
		(pool->nr_live - i - 1) * sizeof(*pool->live));
	pool->nr_live--;
	shadow_snapset_publish(pool);
}

static int shadow_snapset_persist(struct shadow_pool *pool,
				  struct shadow_snap *s)
{
	struct shadow_md_snap ms = {
		.id = s->id, .seq = s->seq, .ctime = s->ctime,
		.state = s->state, .flags = s->flags,
	};

	return shadow_md_snap_save(pool->md, &ms);
}

int shadow_snapset_create(struct shadow_pool *pool, u64 id)
{
	struct shadow_md_snap ms = {
		.id = id, .state = SHADOW_SNAP_VALID,
		.ctime = ktime_get_real_seconds(),
	};
	int r;

	if (pool->failed)
		return -EIO;
	if (shadow_snapset_find(pool, id))
		return -EEXIST;
	if (pool->nr_snaps >= SHADOW_MAX_SNAPSHOTS)
		return -ENOSPC;
	if (pool->type->snap_add) {
		r = pool->type->snap_add(pool, id);
		if (r)
			return r;
	}
	r = shadow_md_next_seq(pool->md, &ms.seq);
	if (r)
		return r;
	r = shadow_md_snap_save(pool->md, &ms);
	if (!r)
		r = shadow_md_commit(pool->md);
	if (!r)
		r = shadow_snapset_insert(pool, &ms);
	if (r) {
		shadow_pool_fail(pool, "cannot record a new snapshot", r);
		return r;
	}
	/* The origin is suspended: no bio is in flight past the store. */
	WRITE_ONCE(pool->store_live, true);
	shadow_snapset_publish(pool);
	return 0;
}

static void shadow_snapset_forget(struct shadow_pool *pool,
				  struct shadow_snap *s)
{
	if (s->state == SHADOW_SNAP_INVALID)
		pool->nr_invalid--;
	else
		shadow_snapset_remove_live(pool, s);
	pool->nr_snaps--;
	xa_erase(&pool->snaps, s->id);
	kfree(s);
}

/*
 * Delete a snapshot: one commit, then the chunks only it needed are freed
 * in the background (shadow_pool_kick_reclaim).
 */
int shadow_snapset_delete(struct shadow_pool *pool, u64 id)
{
	struct shadow_snap *s = shadow_snapset_find(pool, id);
	int r;

	if (!s)
		return -ENOENT;
	if (s->open_count)
		return -EBUSY;
	if (pool->failed)
		return -EIO;
	if (pool->type->snap_remove) {
		r = pool->type->snap_remove(pool, id);
		if (r)
			return r;
	}
	r = shadow_md_snap_remove(pool->md, id);
	if (!r)
		r = shadow_md_commit(pool->md);
	if (r) {
		shadow_pool_fail(pool, "cannot delete a snapshot", r);
		return r;
	}
	shadow_snapset_forget(pool, s);
	shadow_pool_kick_reclaim(pool);
	return 0;
}

static int shadow_snapset_invalidate(struct shadow_pool *pool,
				     struct shadow_snap *s)
{
	shadow_snapset_remove_live(pool, s);
	WRITE_ONCE(s->state, SHADOW_SNAP_INVALID);
	pool->nr_invalid++;
	return shadow_snapset_persist(pool, s);
}

/*
 * The store is full: drop the oldest valid snapshot and free what only it
 * needed.  Returns -ENOSPC when there is nothing left to drop.
 */
int shadow_snapset_invalidate_oldest(struct shadow_pool *pool)
{
	struct shadow_snap *s;
	int r;

	if (!pool->nr_live)
		return -ENOSPC;
	s = pool->live[0];
	/* A revert needs its snapshot's data until it ends. */
	if (shadow_revert_pins(pool, s)) {
		if (pool->nr_live < 2)
			return -ENOSPC;
		s = pool->live[1];
	}
	DMWARN("store full: invalidating snapshot %llu (the oldest)", s->id);
	r = shadow_snapset_invalidate(pool, s);
	if (!r)
		r = shadow_md_commit(pool->md);
	if (!r) {
		/* Its bios already mapped to store chunks finish first. */
		shadow_pool_wait_snap_io(pool);
		r = pool->type->reclaim(pool);
	}
	shadow_pool_event(pool);
	return r;
}

/*
 * One snapshot's data is lost (a clone whose target failed): it becomes
 * invalid in the running transaction, which the caller commits; the
 * others are untouched.
 */
int shadow_snapset_invalidate_one(struct shadow_pool *pool,
				  struct shadow_snap *s)
{
	if (s->state == SHADOW_SNAP_INVALID)
		return 0;
	return shadow_snapset_invalidate(pool, s);
}

/*
 * The store failed: no snapshot can be trusted any more.  Record that in
 * the store if it still takes writes, so that a reload does not bring back
 * snapshots whose old data an origin write may have overwritten since.
 */
int shadow_snapset_invalidate_all(struct shadow_pool *pool)
{
	int r = 0;

	while (pool->nr_live) {
		struct shadow_snap *s = pool->live[0];

		r = shadow_snapset_invalidate(pool, s) ?: r;
	}
	r = r ?: shadow_md_commit(pool->md);
	if (r) {
		shadow_md_set_needs_check(pool->md);
		DMERR("cannot record the invalid snapshots in the store (error %d): check it before reloading",
		      r);
	}
	return r;
}

int shadow_snapset_seal(struct shadow_pool *pool, struct shadow_snap *s)
{
	int r;

	if (s->flags & SHADOW_SNAPF_SEALED)
		return 0;
	s->flags |= SHADOW_SNAPF_SEALED;
	r = shadow_snapset_persist(pool, s);
	if (!r)
		r = shadow_md_commit(pool->md);
	return r;
}

/*
 * The snapshot gets private chunks: its reads look them up from now on.
 * Committed with the first of them.
 */
int shadow_snapset_mark_written(struct shadow_pool *pool,
				struct shadow_snap *s)
{
	WRITE_ONCE(s->flags, s->flags | SHADOW_SNAPF_WRITTEN);
	return shadow_snapset_persist(pool, s);
}

/* Is there a valid snapshot whose sequence lies in (lo, hi]? */
bool shadow_snapset_live_in(struct shadow_pool *pool, u64 lo, u64 hi)
{
	u32 a = shadow_snapset_first_above(pool, lo);

	return a < pool->nr_live && pool->live[a]->seq <= hi;
}

/* The newest valid sequence at or below @seq, 0 if none. */
u64 shadow_snapset_newest_at_or_below(struct shadow_pool *pool, u64 seq)
{
	u32 i = shadow_snapset_first_above(pool, seq);

	return i ? pool->live[i - 1]->seq : 0;
}
