// SPDX-License-Identifier: GPL-2.0-only
/*
 * A writable snapshot's own chunks, the same in every store.
 *
 * The first write to a chunk of a writable snapshot copies what the
 * snapshot reads there (found by the store) into a chunk of its own,
 * recorded in the private tree under (chunk, the snapshot's sequence);
 * the snapshot reads that chunk from then on.  A private chunk is needed
 * while its owner is valid.
 */
#include "dm-shadow.h"
#include "dm-shadow-format.h"

/* Private chunks a reclaim batch removes, at most, before it commits. */
#define PRIVATE_RECLAIM_BATCH	256
/* Private chunks a reclaim batch visits, at most. */
#define PRIVATE_RECLAIM_VISIT	4096

int shadow_private_map_read(struct shadow_pool *pool, struct shadow_snap *s,
			    u64 chunk, bool can_block, struct shadow_map *m,
			    shadow_find_shared_fn find_shared)
{
	struct shadow_md_exc e;
	int err;

	if (READ_ONCE(s->state) != SHADOW_SNAP_VALID) {
		m->kind = SHADOW_MAP_INVALID;
		return 0;
	}
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
	return find_shared(pool, s, chunk, can_block, m);
}

int shadow_private_map_write(struct shadow_pool *pool, struct shadow_snap *s,
			     u64 chunk, bool can_block, struct shadow_map *m,
			     shadow_find_shared_fn find_shared)
{
	int err = shadow_private_map_read(pool, s, chunk, can_block, m,
					  find_shared);

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
	return shadow_pool_alloc_copy(pool, chunk, m);
}

/* A private copy finished: map it, unless its owner went meanwhile. */
int shadow_private_copy_done(struct shadow_pool *pool,
			     const struct shadow_exception *e)
{
	struct shadow_snap *s = shadow_snapset_find_seq(pool, e->seq);
	struct shadow_md_exc me = {
		.chunk = e->chunk, .seq = e->seq, .store_chunk = e->store_chunk,
	};

	if (!s || s->state != SHADOW_SNAP_VALID)
		return shadow_md_release(pool->md, e->store_chunk);
	return shadow_md_exc_insert(pool->md, SHADOW_MD_PRIVATE, &me);
}

/*
 * One batch of the walk of the private tree, under pool->lock: remove
 * the chunks of snapshots no longer valid.  Returns 1 at the tree's end,
 * 0 when more is left, or -errno.
 */
struct private_walk {
	u64 chunk;		/* where the walk goes on */
	u64 seq;
	unsigned int removed;	/* by the last batch */
};

static int shadow_private_reclaim_batch(struct shadow_pool *pool,
					struct private_walk *w)
{
	unsigned int visited = 0;
	struct shadow_md_exc e;
	int err;

	w->removed = 0;
	while (visited < PRIVATE_RECLAIM_VISIT &&
	       w->removed < PRIVATE_RECLAIM_BATCH) {
		err = shadow_md_exc_next(pool->md, SHADOW_MD_PRIVATE, w->chunk,
					 w->seq, &e);
		if (err == -ENODATA)
			return 1;
		if (err)
			return err;
		visited++;
		w->chunk = e.chunk;
		w->seq = e.seq + 1;
		if (shadow_snapset_live_in(pool, e.seq - 1, e.seq))
			continue;
		err = shadow_md_exc_remove(pool->md, SHADOW_MD_PRIVATE,
					   e.chunk, e.seq);
		if (err)
			return err;
		w->removed++;
	}
	return 0;
}

/*
 * A batch that removed nothing does not commit: a row store walks after
 * every resume, and one that finds nothing to free need not write.
 */
static int shadow_private_reclaim_step(struct shadow_pool *pool, void *arg)
{
	struct private_walk *w = arg;
	int done = shadow_private_reclaim_batch(pool, w);
	int err = 0;

	if (done < 0)
		return done;
	if (w->removed)
		err = shadow_md_commit(pool->md);
	return err ?: done;
}

/*
 * Free the private chunks of every snapshot no longer valid, in batches
 * that each end with a commit.  Called with pool->lock held; returns with
 * it held.
 */
int shadow_private_reclaim(struct shadow_pool *pool)
{
	struct private_walk w = { 0 };

	return shadow_pool_walk(pool, shadow_private_reclaim_step, &w);
}
