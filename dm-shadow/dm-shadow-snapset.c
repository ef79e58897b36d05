// SPDX-License-Identifier: GPL-2.0-only
/*
 * The snapshots of one pool: loaded from the store's snapshot table, kept
 * by id in an xarray and, while valid, in an array ordered by creation
 * sequence.  Creating one is O(1) in the number of snapshots; the ordered
 * array answers "is any valid snapshot in (lo, hi]" in O(log n), which is
 * what the stores ask when they decide what to keep.
 *
 * All functions run under pool->lock.
 */
#include "dm-shadow.h"
#include "dm-shadow-format.h"

#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>

/* A free table slot, from the stack of free slots built at load: O(1). */
static int shadow_snapset_free_slot(struct shadow_pool *pool, u32 *ret_slot)
{
	if (!pool->nr_free_slots)
		return -ENOSPC;
	*ret_slot = pool->free_slots[--pool->nr_free_slots];
	return 0;
}

static void shadow_snapset_release_slot(struct shadow_pool *pool, u32 slot)
{
	pool->free_slots[pool->nr_free_slots++] = slot;
}

/*
 * GFP_NOIO: snapshots are created while the origin is suspended, and
 * reclaim writing back to the suspended origin would wait for us forever.
 */
static int shadow_snapset_insert(struct shadow_pool *pool,
				 const struct shadow_md_snap *ms, u32 slot)
{
	struct shadow_snap *s;
	int r;

	s = kzalloc(sizeof(*s), GFP_NOIO);
	if (!s)
		return -ENOMEM;
	s->id = ms->id;
	s->seq = ms->seq;
	s->ctime = ms->ctime;
	s->state = ms->state;
	s->flags = ms->flags;
	s->slot = slot;
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
	atomic_set(&pool->live_count, pool->nr_live);
	return 0;
}

static int shadow_seq_cmp(const void *a, const void *b)
{
	const struct shadow_snap *x = *(const struct shadow_snap **)a;
	const struct shadow_snap *y = *(const struct shadow_snap **)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int shadow_snapset_load(struct shadow_pool *pool)
{
	u32 max = shadow_md_max_snapshots(pool->md);
	struct shadow_md_snap ms;
	u32 slot;
	int r;

	xa_init(&pool->snaps);
	pool->live = kvcalloc(max, sizeof(*pool->live), GFP_KERNEL);
	pool->free_slots = kvcalloc(max, sizeof(*pool->free_slots),
				    GFP_KERNEL);
	if (!pool->live || !pool->free_slots)
		return -ENOMEM;
	/* Walk down so that the lowest free slot ends on top of the stack. */
	for (slot = max; slot-- > 0;) {
		r = shadow_md_snap_get(pool->md, slot, &ms);
		if (r)
			return r;
		if (ms.state == SHADOW_SNAP_FREE) {
			shadow_snapset_release_slot(pool, slot);
			continue;
		}
		if (ms.state != SHADOW_SNAP_VALID &&
		    ms.state != SHADOW_SNAP_INVALID) {
			DMERR("snapshot slot %u has unknown state %u", slot,
			      ms.state);
			return -EILSEQ;
		}
		r = shadow_snapset_insert(pool, &ms, slot);
		if (r)
			return r;
	}
	sort(pool->live, pool->nr_live, sizeof(*pool->live), shadow_seq_cmp,
	     NULL);
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
	kvfree(pool->free_slots);
	pool->free_slots = NULL;
}

struct shadow_snap *shadow_snapset_find(struct shadow_pool *pool, u64 id)
{
	return xa_load(&pool->snaps, id);
}

static void shadow_snapset_remove_live(struct shadow_pool *pool,
				       struct shadow_snap *s)
{
	u32 i;

	for (i = 0; i < pool->nr_live; i++)
		if (pool->live[i] == s)
			break;
	if (i == pool->nr_live)
		return;
	memmove(&pool->live[i], &pool->live[i + 1],
		(pool->nr_live - i - 1) * sizeof(*pool->live));
	pool->nr_live--;
	atomic_set(&pool->live_count, pool->nr_live);
}

static int shadow_snapset_persist(struct shadow_pool *pool,
				  struct shadow_snap *s)
{
	struct shadow_md_snap ms = {
		.id = s->id, .seq = s->seq, .ctime = s->ctime,
		.state = s->state, .flags = s->flags,
	};

	return shadow_md_snap_set(pool->md, s->slot, &ms);
}

int shadow_snapset_create(struct shadow_pool *pool, u64 id)
{
	struct shadow_md_snap ms = {
		.id = id, .state = SHADOW_SNAP_VALID,
		.ctime = ktime_get_real_seconds(),
	};
	u32 slot;
	int r;

	if (pool->failed)
		return -EIO;
	if (shadow_snapset_find(pool, id))
		return -EEXIST;
	r = shadow_snapset_free_slot(pool, &slot);
	if (r)
		return r;
	ms.seq = shadow_md_next_seq(pool->md);
	r = shadow_md_snap_set(pool->md, slot, &ms);
	if (!r)
		r = shadow_md_commit(pool->md);
	if (!r)
		r = shadow_snapset_insert(pool, &ms, slot);
	if (r) {
		shadow_snapset_release_slot(pool, slot);
		shadow_pool_fail(pool, "cannot record a new snapshot", r);
	}
	return r;
}

static int shadow_snapset_forget(struct shadow_pool *pool,
				 struct shadow_snap *s)
{
	struct shadow_md_snap ms = { .state = SHADOW_SNAP_FREE };
	int r;

	r = shadow_md_snap_set(pool->md, s->slot, &ms);
	if (r)
		return r;
	if (s->state == SHADOW_SNAP_INVALID)
		pool->nr_invalid--;
	else
		shadow_snapset_remove_live(pool, s);
	pool->nr_snaps--;
	shadow_snapset_release_slot(pool, s->slot);
	xa_erase(&pool->snaps, s->id);
	kfree(s);
	return 0;
}

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
	r = shadow_snapset_forget(pool, s);
	if (!r)
		r = shadow_md_commit(pool->md);
	if (!r)
		r = pool->type->reclaim(pool);
	if (r)
		shadow_pool_fail(pool, "cannot delete a snapshot", r);
	return r;
}

static int shadow_snapset_invalidate(struct shadow_pool *pool,
				     struct shadow_snap *s)
{
	shadow_snapset_remove_live(pool, s);
	s->state = SHADOW_SNAP_INVALID;
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
	DMWARN("store full: invalidating snapshot %llu (the oldest)", s->id);
	r = shadow_snapset_invalidate(pool, s);
	if (!r)
		r = shadow_md_commit(pool->md);
	if (!r) {
		/* Its bios already mapped to store chunks finish first. */
		shadow_pool_wait_snap_store_io(pool);
		r = pool->type->reclaim(pool);
	}
	shadow_pool_event(pool);
	return r;
}

/*
 * The store failed: no snapshot can be trusted any more.  Record that in
 * the store if it still takes writes, so that a reload does not bring back
 * snapshots whose old data an origin write may have overwritten since.
 */
void shadow_snapset_invalidate_all(struct shadow_pool *pool)
{
	int r = 0;

	while (pool->nr_live) {
		struct shadow_snap *s = pool->live[0];

		r = shadow_snapset_invalidate(pool, s) ?: r;
	}
	r = r ?: shadow_md_commit(pool->md);
	if (r)
		DMERR("cannot record the invalid snapshots in the store (error %d): check it before reloading",
		      r);
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

u64 shadow_snapset_newest_seq(struct shadow_pool *pool)
{
	return pool->nr_live ? pool->live[pool->nr_live - 1]->seq : 0;
}

/* Is there a valid snapshot whose sequence lies in (lo, hi]? */
bool shadow_snapset_live_in(struct shadow_pool *pool, u64 lo, u64 hi)
{
	u32 a = 0, b = pool->nr_live;

	/* First valid snapshot with seq > lo. */
	while (a < b) {
		u32 mid = a + (b - a) / 2;

		if (pool->live[mid]->seq <= lo)
			a = mid + 1;
		else
			b = mid;
	}
	return a < pool->nr_live && pool->live[a]->seq <= hi;
}
