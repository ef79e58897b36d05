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

static int cow_alloc_copy(struct shadow_pool *pool, u64 chunk,
			  struct shadow_map *m)
{
	int err = shadow_md_alloc(pool->md, &m->e.store_chunk);

	if (err)
		return err;
	m->kind = SHADOW_MAP_COPY;
	m->e.chunk = chunk;
	return 0;
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
	return cow_alloc_copy(pool, chunk, m);
}

/*
 * Where snapshot @s finds @chunk: its private copy, else the oldest shared
 * exception taken at or after its creation, else the origin.
 */
static int cow_find(struct shadow_pool *pool, struct shadow_snap *s,
		    u64 chunk, bool can_block, struct shadow_map *m)
{
	struct shadow_md_exc e;
	int err;

	m->kind = SHADOW_MAP_ORIGIN;
	m->e.private = false;
	if (READ_ONCE(s->flags) & SHADOW_SNAPF_WRITTEN) {
		err = shadow_md_exc_find(pool->md, SHADOW_MD_PRIVATE, chunk,
					 s->seq, can_block, &e);
		if (!err && e.seq == s->seq) {
			m->kind = SHADOW_MAP_STORE;
			m->store_chunk = e.store_chunk;
			m->e.private = true;
			return 0;
		}
		if (err && err != -ENODATA)
			return err;
	}
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
	if (READ_ONCE(s->state) != SHADOW_SNAP_VALID) {
		m->kind = SHADOW_MAP_INVALID;
		return 0;
	}
	return cow_find(pool, s, chunk, can_block, m);
}

static int cow_map_snap_write(struct shadow_pool *pool, struct shadow_snap *s,
			      u64 chunk, bool can_block, struct shadow_map *m)
{
	int err = cow_map_snap_read(pool, s, chunk, can_block, m);

	if (err || m->kind == SHADOW_MAP_INVALID ||
	    (m->kind == SHADOW_MAP_STORE && m->e.private))
		return err;
	if (!can_block)
		return -EWOULDBLOCK;
	if (!(s->flags & SHADOW_SNAPF_WRITTEN)) {
		err = shadow_snapset_mark_written(pool, s);
		if (err)
			return err;
	}
	/* Copy what the snapshot sees into a chunk of its own first. */
	m->copy_from_store = m->kind == SHADOW_MAP_STORE;
	m->copy_from = m->copy_from_store ? m->store_chunk : chunk;
	m->e.seq = s->seq;
	m->e.private = true;
	return cow_alloc_copy(pool, chunk, m);
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

	if (e->private) {
		struct shadow_snap *s = shadow_snapset_find_seq(pool, e->seq);

		needed = s && s->state == SHADOW_SNAP_VALID;
	} else {
		err = cow_shared_needed(pool, e, &needed);
		if (err)
			return err;
	}
	if (!needed)
		return shadow_md_release(pool->md, e->store_chunk);
	return shadow_md_exc_insert(pool->md, e->private ? SHADOW_MD_PRIVATE :
				    SHADOW_MD_SHARED, &me);
}

/* Reclaim */

struct cow_reclaim {
	enum shadow_md_tree tree;
	u64 chunk;		/* where the walk goes on */
	u64 seq;
	u64 kept_chunk;		/* the last exception kept */
	u64 kept_seq;
};

static bool cow_exc_needed(struct shadow_pool *pool, struct cow_reclaim *rc,
			   const struct shadow_md_exc *e)
{
	u64 older = rc->kept_chunk == e->chunk ? rc->kept_seq : 0;

	if (rc->tree == SHADOW_MD_PRIVATE)	/* is its owner valid? */
		return shadow_snapset_live_in(pool, e->seq - 1, e->seq);
	return shadow_snapset_live_in(pool, older, e->seq);
}

/*
 * One batch of the walk, under pool->lock: remove what no valid snapshot
 * needs.  Returns 1 when the tree has been walked to its end, 0 when more
 * is left, or -errno.
 */
static int cow_reclaim_batch(struct shadow_pool *pool, struct cow_reclaim *rc)
{
	unsigned int visited = 0, removed = 0;
	struct shadow_md_exc e;
	int err;

	while (visited < COW_RECLAIM_VISIT && removed < COW_RECLAIM_BATCH) {
		err = shadow_md_exc_next(pool->md, rc->tree, rc->chunk,
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
		err = shadow_md_exc_remove(pool->md, rc->tree, e.chunk, e.seq);
		if (err)
			return err;
		removed++;
	}
	return 0;
}

/*
 * Free every chunk that no valid snapshot needs, in batches that each end
 * with a commit (which makes the freed chunks usable) and drop pool->lock
 * in between, so that origin I/O and messages go on while it runs.
 * Called with pool->lock held; returns with it held.
 */
static int cow_reclaim(struct shadow_pool *pool)
{
	static const enum shadow_md_tree trees[] = {
		SHADOW_MD_SHARED, SHADOW_MD_PRIVATE,
	};
	struct cow_reclaim rc;
	unsigned int i;
	int err = 0;

	for (i = 0; !err && i < ARRAY_SIZE(trees); i++) {
		memset(&rc, 0, sizeof(rc));
		rc.tree = trees[i];
		do {
			err = cow_reclaim_batch(pool, &rc);
			if (err >= 0) {
				int c = shadow_md_commit(pool->md);

				err = c ?: err;
			}
			if (!err) {
				mutex_unlock(&pool->lock);
				cond_resched();
				mutex_lock(&pool->lock);
				if (pool->failed)
					err = -EIO;
			}
		} while (!err);
		if (err == 1)
			err = 0;
	}
	return err;
}

struct shadow_store_type shadow_cow_store = {
	.name = "cow",
	.disk_type = SHADOW_STORE_COW,
	.owner = THIS_MODULE,
	.full_policy = SHADOW_FULL_DROP_OLDEST,
	.fail_origin_io = false,
	.origin_reads_need_store = false,
	.init = cow_init,
	.exit = cow_exit,
	.map_origin_write = cow_map_origin_write,
	.map_snap_read = cow_map_snap_read,
	.map_snap_write = cow_map_snap_write,
	.copy_done = cow_copy_done,
	.reclaim = cow_reclaim,
};
