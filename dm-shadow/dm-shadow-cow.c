// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copy-on-write exception store.
 *
 * The origin always holds the newest data.  Before the first write to an
 * origin chunk after a snapshot, the chunk's old data is copied to a store
 * chunk and recorded as a shared exception tagged with the newest snapshot
 * sequence at copy time, T.  Snapshot s reads chunk c from the exception
 * with the smallest T >= s.seq, or from the origin if there is none: that
 * copy was taken by the first write after s, so it holds what s saw.  An
 * origin write therefore copies iff chunk c has no exception tagged with
 * the newest snapshot: one btree lookup, whatever the number of snapshots,
 * and none at all once the lookup's blocks are cached and the answer is
 * "already copied" (the map function's fast path).
 *
 * A writable snapshot's own writes go to private exceptions, keyed by the
 * chunk and the owner's sequence.
 *
 * Exception keys sort by chunk, then tag, so a walk of the shared tree
 * meets each chunk's exceptions oldest first: exception (c, T) is needed
 * iff a valid snapshot lies in (T', T], T' being the tag of the chunk's
 * previous kept exception.  Reclaim is that walk, in batches.
 */
#include "dm-shadow.h"
#include "dm-shadow-format.h"

#include <linux/slab.h>

/* Exceptions a reclaim batch removes, at most, before it commits. */
#define COW_RECLAIM_BATCH	256
/* Exceptions a reclaim batch visits, at most. */
#define COW_RECLAIM_VISIT	4096

static int cow_init(struct shadow_pool *pool)
{
	return 0;
}

static void cow_exit(struct shadow_pool *pool)
{
}

static int cow_map_origin_write(struct shadow_pool *pool, u64 chunk,
				bool can_block, struct shadow_map *m)
{
	u64 newest = READ_ONCE(pool->newest_seq);
	struct shadow_md_exc e;
	int err;

	m->kind = SHADOW_MAP_ORIGIN;
	if (!newest)
		return 0;
	err = shadow_md_exc_find(pool->md, SHADOW_MD_SHARED, chunk, newest,
				 can_block, &e);
	if (!err)		/* copied in this epoch already */
		return 0;
	if (err != -ENODATA)
		return err;
	if (!can_block)
		return -EWOULDBLOCK;
	m->copy_from_store = false;
	m->copy_from = chunk;
	m->e.seq = newest;
	m->e.private = false;
	return shadow_pool_alloc_copy(pool, chunk, m);
}

/*
 * Where snapshot @s finds @chunk when it has no private copy of it: the
 * oldest shared exception taken at or after its creation, else the origin.
 */
static int cow_find_shared(struct shadow_pool *pool, struct shadow_snap *s,
			   u64 chunk, bool can_block, struct shadow_map *m)
{
	struct shadow_md_exc e;
	int err;

	m->kind = SHADOW_MAP_ORIGIN;
	m->e.private = false;
	err = shadow_md_exc_find(pool->md, SHADOW_MD_SHARED, chunk, s->seq,
				 can_block, &e);
	if (err == -ENODATA)
		return 0;
	if (err)
		return err;
	m->kind = SHADOW_MAP_STORE;
	m->store_chunk = e.store_chunk;
	return 0;
}

static int cow_map_snap_read(struct shadow_pool *pool, struct shadow_snap *s,
			     u64 chunk, bool can_block, struct shadow_map *m)
{
	return shadow_private_map_read(pool, s, chunk, can_block, m,
				       cow_find_shared);
}

static int cow_map_snap_write(struct shadow_pool *pool, struct shadow_snap *s,
			      u64 chunk, bool can_block, struct shadow_map *m)
{
	return shadow_private_map_write(pool, s, chunk, can_block, m,
					cow_find_shared);
}

/*
 * Does a valid snapshot need shared exception @e, were it inserted now?
 * It serves the valid snapshots in (T', T], T' being the tag of the newest
 * older exception of its chunk; overflow may have invalidated all of them
 * while the copy was in flight.
 */
static int cow_shared_needed(struct shadow_pool *pool,
			     const struct shadow_exception *e, bool *needed)
{
	u64 newest_below = shadow_snapset_newest_at_or_below(pool, e->seq);
	struct shadow_md_exc older;
	int err;

	*needed = false;
	if (!newest_below)
		return 0;
	/*
	 * Its own epoch is still valid: nothing older can serve it (the
	 * copy was taken because no exception of it had that tag).
	 */
	if (newest_below == e->seq) {
		*needed = true;
		return 0;
	}
	err = shadow_md_exc_find(pool->md, SHADOW_MD_SHARED, e->chunk,
				 newest_below, true, &older);
	if (err == -ENODATA || (!err && older.seq > e->seq)) {
		*needed = true;
		return 0;
	}
	return err;
}

/* A copy finished: map it, or give its chunk back if nobody needs it. */
static int cow_copy_done(struct shadow_pool *pool,
			 const struct shadow_exception *e)
{
	struct shadow_md_exc me = {
		.chunk = e->chunk, .seq = e->seq, .store_chunk = e->store_chunk,
	};
	bool needed;
	int err;

	if (e->private)
		return shadow_private_copy_done(pool, e);
	err = cow_shared_needed(pool, e, &needed);
	if (err)
		return err;
	if (!needed)
		return shadow_md_release(pool->md, e->store_chunk);
	return shadow_md_exc_insert(pool->md, SHADOW_MD_SHARED, &me);
}

/* Reclaim */

struct cow_reclaim {
	u64 chunk;		/* where the walk goes on */
	u64 seq;
	u64 kept_chunk;		/* the last exception kept */
	u64 kept_seq;
};

static bool cow_exc_needed(struct shadow_pool *pool, struct cow_reclaim *rc,
			   const struct shadow_md_exc *e)
{
	u64 older = rc->kept_chunk == e->chunk ? rc->kept_seq : 0;

	return shadow_snapset_live_in(pool, older, e->seq);
}

/*
 * One batch of the walk of the shared tree, under pool->lock: remove what
 * no valid snapshot needs.  Returns 1 when the tree has been walked to its
 * end, 0 when more is left, or -errno.
 */
static int cow_reclaim_batch(struct shadow_pool *pool, struct cow_reclaim *rc)
{
	unsigned int visited = 0, removed = 0;
	struct shadow_md_exc e;
	int err;

	while (visited < COW_RECLAIM_VISIT && removed < COW_RECLAIM_BATCH) {
		err = shadow_md_exc_next(pool->md, SHADOW_MD_SHARED, rc->chunk,
					 rc->seq, &e);
		if (err == -ENODATA)
			return 1;
		if (err)
			return err;
		visited++;
		rc->chunk = e.chunk;
		rc->seq = e.seq + 1;
		if (cow_exc_needed(pool, rc, &e)) {
			rc->kept_chunk = e.chunk;
			rc->kept_seq = e.seq;
			continue;
		}
		err = shadow_md_exc_remove(pool->md, SHADOW_MD_SHARED, e.chunk,
					   e.seq);
		if (err)
			return err;
		removed++;
	}
	return 0;
}

/* One batch of the walk, then a commit (which makes the freed chunks usable). */
static int cow_reclaim_step(struct shadow_pool *pool, void *arg)
{
	int done = cow_reclaim_batch(pool, arg);
	int err = done < 0 ? done : shadow_md_commit(pool->md);

	return err ?: done;
}

/*
 * Free every chunk that no valid snapshot needs, in batches.  Called with
 * pool->lock held; returns with it held.
 */
static int cow_reclaim(struct shadow_pool *pool)
{
	struct cow_reclaim rc = { 0 };
	int err = shadow_pool_walk(pool, cow_reclaim_step, &rc);

	return err ?: shadow_private_reclaim(pool);
}

struct shadow_store_type shadow_cow_store = {
	.name = "cow",
	.disk_type = SHADOW_STORE_COW,
	.owner = THIS_MODULE,
	.full_policy = SHADOW_FULL_DROP_OLDEST,
	.fail_origin_io = false,
	.live_in_store = false,
	.commit_on_flush = false,
	.whole_write_no_copy = false,
	.init = cow_init,
	.exit = cow_exit,
	.map_origin_write = cow_map_origin_write,
	.map_snap_read = cow_map_snap_read,
	.map_snap_write = cow_map_snap_write,
	.copy_done = cow_copy_done,
	.reclaim = cow_reclaim,
	.revert = shadow_revert_start,
};
