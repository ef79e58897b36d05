// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copy-on-write exception store.
 *
 * The origin always holds the newest data.  Before the first write to an
 * origin chunk after a snapshot, the chunk's old data is copied to a store
 * chunk and recorded as a shared exception tagged with the newest snapshot
 * sequence at copy time, T.  Chunk c's exceptions form a chain, newest
 * first.  Snapshot s reads chunk c from the shared exception with the
 * smallest T >= s.seq, or from the origin if there is none: that copy was
 * taken by the first write after s, so it holds what s saw.  An origin
 * write therefore copies iff the newest valid snapshot is newer than c's
 * newest shared exception: one lookup, whatever the number of snapshots.
 *
 * A writable snapshot's own writes go to private exceptions, owned by its
 * sequence, linked into the same chain.
 *
 * Crash safety: a new exception's record is committed before the index
 * entry that makes it reachable, so the on-disk chains only ever point at
 * complete records and copied data.  A crash between the two leaks the
 * chunk (shadow-dump --check counts such leaks) but loses nothing.  Freed
 * chunks go back on the free list only after the commit that unlinked them.
 */
#include "dm-shadow.h"
#include "dm-shadow-format.h"

#include <linux/slab.h>

/* How many chunks reclaim unlinks before it commits and frees them. */
#define COW_BATCH	256

struct cow_link {
	u64 chunk;
	u64 rec;
};

struct cow_ctx {
	struct cow_link link[SHADOW_COMMIT_BATCH];	/* recorded, not yet linked */
	unsigned int nr_link;
	u64 unlinked[COW_BATCH];	/* unlinked, not yet free */
	unsigned int nr_unlinked;
};

static int cow_init(struct shadow_pool *pool)
{
	pool->store_ctx = kzalloc(sizeof(struct cow_ctx), GFP_KERNEL);
	return pool->store_ctx ? 0 : -ENOMEM;
}

static void cow_exit(struct shadow_pool *pool)
{
	kfree(pool->store_ctx);
	pool->store_ctx = NULL;
}

/* A walk along one origin chunk's exception chain, newest first. */
struct cow_cursor {
	u64 chunk;
	u64 next;		/* record + 1 to read next, 0 at the end */
	u64 steps;
};

static void cow_cursor_at(struct cow_cursor *c, u64 chunk, u64 next)
{
	c->chunk = chunk;
	c->next = next;
	c->steps = 0;
}

static int cow_cursor_start(struct shadow_pool *pool, u64 chunk,
			    struct cow_cursor *c)
{
	cow_cursor_at(c, chunk, 0);
	return shadow_md_index_get(pool->md, chunk, &c->next);
}

/*
 * Read the next record of the chain into @r and its number into @ret_rec.
 * Returns 1, 0 at the end of the chain, or -errno.  Every record in a
 * chain must be a used copy of that chunk, and a chain cannot be longer
 * than the number of chunks ever handed out: anything else is corruption,
 * and a loop must not hang the worker.
 */
static int cow_cursor_next(struct shadow_pool *pool, struct cow_cursor *c,
			   u64 *ret_rec, struct shadow_md_record *r)
{
	int err;

	if (!c->next)
		return 0;
	if (++c->steps > shadow_md_high_water(pool->md)) {
		DMERR("the exception chain of chunk %llu loops", c->chunk);
		return -EILSEQ;
	}
	*ret_rec = c->next - 1;
	err = shadow_md_record_get(pool->md, *ret_rec, r);
	if (err)
		return err;
	if (!(r->flags & SHADOW_REC_USED) || r->origin_chunk != c->chunk) {
		DMERR("record %llu in the chain of chunk %llu is not a copy of it",
		      *ret_rec, c->chunk);
		return -EILSEQ;
	}
	c->next = r->next;
	return 1;
}

/* Sequence of the first shared record @c reaches, or 0 if none. */
static int cow_first_shared(struct shadow_pool *pool, struct cow_cursor *c,
			    u64 *ret_seq)
{
	struct shadow_md_record r;
	u64 rec;
	int err;

	*ret_seq = 0;
	while ((err = cow_cursor_next(pool, c, &rec, &r)) > 0) {
		if (!(r.flags & SHADOW_REC_PRIVATE)) {
			*ret_seq = r.seq;
			return 0;
		}
	}
	return err;
}

/* The newest shared exception of @chunk, or 0 if none. */
static int cow_newest_shared(struct shadow_pool *pool, u64 chunk, u64 *ret_seq)
{
	struct cow_cursor c;
	int err;

	*ret_seq = 0;
	err = cow_cursor_start(pool, chunk, &c);
	return err ? err : cow_first_shared(pool, &c, ret_seq);
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
				struct shadow_map *m)
{
	u64 newest = shadow_snapset_newest_seq(pool);
	u64 last;
	int err;

	m->kind = SHADOW_MAP_ORIGIN;
	if (!newest)
		return 0;
	err = cow_newest_shared(pool, chunk, &last);
	if (err || last >= newest)
		return err;
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
		    u64 chunk, struct shadow_map *m)
{
	struct shadow_md_record r;
	struct cow_cursor c;
	u64 rec;
	int err;

	m->kind = SHADOW_MAP_ORIGIN;
	m->e.private = false;
	err = cow_cursor_start(pool, chunk, &c);
	if (err)
		return err;
	while ((err = cow_cursor_next(pool, &c, &rec, &r)) > 0) {
		if (r.flags & SHADOW_REC_PRIVATE) {
			if (r.seq == s->seq) {
				m->kind = SHADOW_MAP_STORE;
				m->store_chunk = rec;
				m->e.private = true;
				return 0;
			}
		} else if (r.seq >= s->seq) {
			m->kind = SHADOW_MAP_STORE;
			m->store_chunk = rec;
		} else {
			/*
			 * Older shared copies, and s's private one, if any,
			 * would have come before this one.
			 */
			return 0;
		}
	}
	return err;
}

static int cow_map_snap_read(struct shadow_pool *pool, struct shadow_snap *s,
			     u64 chunk, struct shadow_map *m)
{
	if (s->state != SHADOW_SNAP_VALID) {
		m->kind = SHADOW_MAP_INVALID;
		return 0;
	}
	return cow_find(pool, s, chunk, m);
}

static int cow_map_snap_write(struct shadow_pool *pool, struct shadow_snap *s,
			      u64 chunk, struct shadow_map *m)
{
	int err = cow_map_snap_read(pool, s, chunk, m);

	if (err || m->kind == SHADOW_MAP_INVALID ||
	    (m->kind == SHADOW_MAP_STORE && m->e.private))
		return err;
	/* Copy what the snapshot sees into a chunk of its own first. */
	m->copy_from_store = m->kind == SHADOW_MAP_STORE;
	m->copy_from = m->copy_from_store ? m->store_chunk : chunk;
	m->e.seq = s->seq;
	m->e.private = true;
	return cow_alloc_copy(pool, chunk, m);
}

/*
 * Phase one of a new exception: write its record, pointing at the current
 * chain head.  It is linked in by cow_commit() once the record is durable.
 */
static int cow_copy_done(struct shadow_pool *pool,
			 const struct shadow_exception *e)
{
	struct cow_ctx *ctx = pool->store_ctx;
	struct shadow_md_record r = {
		.origin_chunk = e->chunk, .seq = e->seq,
		.flags = SHADOW_REC_USED | (e->private ? SHADOW_REC_PRIVATE : 0),
	};
	int err;

	if (WARN_ON_ONCE(ctx->nr_link >= SHADOW_COMMIT_BATCH))
		return -EINVAL;
	err = shadow_md_index_get(pool->md, e->chunk, &r.next);
	if (!err)
		err = shadow_md_record_set(pool->md, e->store_chunk, &r);
	if (err)
		return err;
	ctx->link[ctx->nr_link].chunk = e->chunk;
	ctx->link[ctx->nr_link].rec = e->store_chunk;
	ctx->nr_link++;
	return 0;
}

static int cow_commit(struct shadow_pool *pool)
{
	struct cow_ctx *ctx = pool->store_ctx;
	unsigned int i;
	int err;

	err = shadow_md_commit(pool->md);
	if (err || !ctx->nr_link)
		return err;
	for (i = 0; i < ctx->nr_link; i++) {
		err = shadow_md_index_set(pool->md, ctx->link[i].chunk,
					  ctx->link[i].rec + 1);
		if (err)
			return err;
	}
	ctx->nr_link = 0;
	return shadow_md_commit(pool->md);
}

/* Make the unlinks durable, then put the chunks on the free list. */
static int cow_release_unlinked(struct shadow_pool *pool)
{
	struct cow_ctx *ctx = pool->store_ctx;
	unsigned int i;
	int err;

	if (!ctx->nr_unlinked)
		return 0;
	err = shadow_md_commit(pool->md);
	for (i = 0; !err && i < ctx->nr_unlinked; i++)
		err = shadow_md_free(pool->md, ctx->unlinked[i]);
	ctx->nr_unlinked = 0;
	return err;
}

/* Does anyone still read record @r, whose next older shared copy is @older? */
static bool cow_needed(struct shadow_pool *pool,
		       const struct shadow_md_record *r, u64 older)
{
	if (r->flags & SHADOW_REC_PRIVATE)	/* is its owner valid? */
		return shadow_snapset_live_in(pool, r->seq - 1, r->seq);
	return shadow_snapset_live_in(pool, older, r->seq);
}

/*
 * Drop the records of @chunk's chain that no valid snapshot needs.  The
 * chain is relinked in place: the predecessor of each dropped record (the
 * index entry or a kept record) is pointed past it.
 */
static int cow_reclaim_chain(struct shadow_pool *pool, u64 chunk)
{
	struct cow_ctx *ctx = pool->store_ctx;
	struct shadow_md_record r, prev_r;
	struct cow_cursor c, older;
	u64 prev = 0, rec, older_seq;
	int err;

	err = cow_cursor_start(pool, chunk, &c);
	if (err)
		return err;
	while ((err = cow_cursor_next(pool, &c, &rec, &r)) > 0) {
		cow_cursor_at(&older, chunk, r.next);
		err = cow_first_shared(pool, &older, &older_seq);
		if (err)
			return err;
		if (cow_needed(pool, &r, older_seq)) {
			prev = rec + 1;
			prev_r = r;
			continue;
		}
		if (prev) {
			prev_r.next = r.next;
			err = shadow_md_record_set(pool->md, prev - 1, &prev_r);
		} else {
			err = shadow_md_index_set(pool->md, chunk, r.next);
		}
		if (err)
			return err;
		ctx->unlinked[ctx->nr_unlinked++] = rec;
		if (ctx->nr_unlinked == COW_BATCH) {
			err = cow_release_unlinked(pool);
			if (err)
				return err;
		}
	}
	return err;
}

/*
 * Visit every chain once, from its head: a used record that its chunk's
 * index entry points at.  Cost is one pass over the records in use.
 */
static int cow_reclaim(struct shadow_pool *pool)
{
	u64 hw = shadow_md_high_water(pool->md);
	struct shadow_md_record r;
	u64 rec, head;
	int err = 0;

	for (rec = 0; !err && rec < hw; rec++) {
		err = shadow_md_record_get(pool->md, rec, &r);
		if (err || !(r.flags & SHADOW_REC_USED))
			continue;
		err = shadow_md_index_get(pool->md, r.origin_chunk, &head);
		if (!err && head == rec + 1)
			err = cow_reclaim_chain(pool, r.origin_chunk);
		cond_resched();
	}
	if (!err)
		err = cow_release_unlinked(pool);
	if (!err)
		err = shadow_md_commit(pool->md);
	return err;
}

struct shadow_store_type shadow_cow_store = {
	.name = "cow",
	.disk_type = SHADOW_STORE_COW,
	.owner = THIS_MODULE,
	.init = cow_init,
	.exit = cow_exit,
	.map_origin_write = cow_map_origin_write,
	.map_snap_read = cow_map_snap_read,
	.map_snap_write = cow_map_snap_write,
	.copy_done = cow_copy_done,
	.commit = cow_commit,
	.reclaim = cow_reclaim,
};
