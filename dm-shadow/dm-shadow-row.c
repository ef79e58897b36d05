// SPDX-License-Identifier: GPL-2.0-only
/*
 * Redirect-on-write exception store.
 *
 * Once a snapshot exists the origin device keeps point-in-time data and
 * the live volume's writes go to store chunks: versions of an origin
 * chunk, each tagged with the newest snapshot sequence when it was made,
 * T.  The newest version of a chunk is the live data; it is written in
 * place until a snapshot newer than T is taken, and never again after.
 *
 *   live read of c         c's newest version, else the origin chunk.
 *   snapshot s reads c     its private chunk (a writable snapshot's own
 *                          writes, as in the cow store), else c's newest
 *                          version tagged below s, else the origin chunk.
 *   live write to c        in place to c's newest version V when no valid
 *                          snapshot is newer than V's tag; to the origin
 *                          when c has no version and no snapshot exists;
 *                          else to a new version tagged with the newest
 *                          sequence, which a whole-chunk write fills by
 *                          itself and a partial one gets from a copy of V
 *                          or of the origin chunk.
 *
 * The shared tree keeps a chunk's versions newest first (the key holds
 * SHADOW_MAX_SEQ - T): one lookup at or after (c, MAX - (s - 1)) finds the
 * newest version below s, and (c, 0) the live one.
 *
 * A version is needed by the live volume if it is its chunk's newest, and
 * by the valid snapshots in (T, T'] otherwise, T' being the tag of the
 * next newer version.  The origin chunk is needed by the valid snapshots
 * at or below the oldest tag.  Reclaim walks the tree and drops what
 * nobody needs; then it folds back every chunk whose newest version no
 * valid snapshot at or below its tag can miss: it copies the version into
 * the origin, flushes the origin, and drops the version, which every
 * reader then finds in the origin.  With no snapshot left, every chunk is
 * folded and the origin holds the live volume again.
 *
 * Nothing on disk depends on a new version until the live volume is
 * flushed (the origin is not written): versions are made durable by the
 * next flush or FUA write, as dm-thin does, and a write is mapped only
 * once its data is written.
 *
 * Revert to the newest snapshot R, sequence r: the live volume must read
 * what R reads, so every version tagged r or above dies, in one commit
 * whatever their number.  The store records the range [r, D), D a new
 * sequence handed to no snapshot, and tags the live volume's versions
 * with D from then on.  A reader that finds a dead version looks again
 * below r (no snapshot lies in (r, D], so none needs a dead version), and
 * reclaim frees dead versions in the background, then clears the range.
 * Reverting to an older snapshot would leave versions that the newer
 * snapshots need dead for the live volume only, which one range cannot
 * say: it is refused, and the newer snapshots must be deleted first.
 */
#include "dm-shadow.h"
#include "dm-shadow-format.h"

#include <linux/blkdev.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/math64.h>
#include <linux/slab.h>

/* Versions a reclaim batch removes, at most, before it commits. */
#define ROW_RECLAIM_BATCH	256
/* Versions a reclaim batch visits, at most. */
#define ROW_RECLAIM_VISIT	4096
/* Chunks folded back per commit, at most. */
#define ROW_FOLD_BATCH		64
/* A chunk busy when its fold came is tried again after this long. */
#define ROW_FOLD_RETRY		(HZ / 10)
/* A throttled fold-back sleeps about this long between batches. */
#define ROW_FOLD_PACE_MS	100
/* The live volume reads versions tagged below this: any. */
#define ROW_LIVE		(SHADOW_MAX_SEQ + 1)

/* The row store's state; the pool's store_ctx, under pool->lock. */
struct row_store {
	u64 fold_cursor;	/* + 1: the walk's chunk; 0 when none runs */
	u32 fold_rate;		/* MiB/s for background fold-back; 0: any */
	/*
	 * Versions tagged in [dropped_from, dropped_below) are dead (a
	 * revert); both 0 when none are.  The map functions read them
	 * without the lock, with acquire: reclaim clears them, with
	 * release, only after it removed the last dead version.
	 */
	u64 dropped_from;
	u64 dropped_below;
};

/* The newest version of @chunk tagged below @below, dead or not. */
static int row_lookup(struct shadow_pool *pool, u64 chunk, u64 below,
		      bool can_block, struct shadow_md_exc *v)
{
	int err;

	if (below <= 1)
		return -ENODATA;
	err = shadow_md_exc_find(pool->md, SHADOW_MD_SHARED, chunk,
				 shadow_row_seq(below - 1), can_block, v);
	if (!err)
		v->seq = shadow_row_seq(v->seq);
	return err;
}

/*
 * The newest live version of @chunk tagged below @below (ROW_LIVE: any,
 * the live volume's).  Returns -ENODATA when there is none.
 */
static int row_find(struct shadow_pool *pool, u64 chunk, u64 below,
		    bool can_block, struct shadow_md_exc *v)
{
	struct row_store *rs = pool->store_ctx;
	u64 from = smp_load_acquire(&rs->dropped_from);
	u64 dead_below = smp_load_acquire(&rs->dropped_below);
	int err = row_lookup(pool, chunk, below, can_block, v);

	if (!err && v->seq >= from && v->seq < dead_below)
		err = row_lookup(pool, chunk, from, can_block, v);
	return err;
}

static int row_init(struct shadow_pool *pool)
{
	struct row_store *rs = kzalloc(sizeof(*rs), GFP_KERNEL);

	if (!rs)
		return -ENOMEM;
	shadow_md_row_dropped(pool->md, &rs->dropped_from, &rs->dropped_below);
	pool->store_ctx = rs;
	return 0;
}

static void row_exit(struct shadow_pool *pool)
{
	kfree(pool->store_ctx);
	pool->store_ctx = NULL;
}

/* @m: the newest version of @chunk tagged below @below, else the origin. */
static int row_map_version(struct shadow_pool *pool, u64 chunk, u64 below,
			   bool can_block, struct shadow_map *m)
{
	struct shadow_md_exc v;
	int err = row_find(pool, chunk, below, can_block, &v);

	m->kind = SHADOW_MAP_ORIGIN;
	m->e.private = false;
	if (err == -ENODATA)
		return 0;
	if (err)
		return err;
	m->kind = SHADOW_MAP_STORE;
	m->store_chunk = v.store_chunk;
	return 0;
}

static int row_map_origin_read(struct shadow_pool *pool, u64 chunk,
			       bool can_block, struct shadow_map *m)
{
	return row_map_version(pool, chunk, ROW_LIVE, can_block, m);
}

/*
 * The tag of new versions: the newest snapshot's sequence, or since a
 * revert the end of the dead range (once reclaim cleared the range, the
 * snapshot's is right again: no snapshot lies between).  0, with no
 * valid snapshot: nothing is kept, versions are written in place and
 * chunks without one in the origin, so that no write needs a chunk.
 */
static u64 row_live_tag(struct shadow_pool *pool)
{
	struct row_store *rs = pool->store_ctx;
	u64 newest = READ_ONCE(pool->newest_seq);

	return newest ? max(newest, READ_ONCE(rs->dropped_below)) : 0;
}

static int row_map_origin_write(struct shadow_pool *pool, u64 chunk,
				bool can_block, struct shadow_map *m)
{
	u64 newest = row_live_tag(pool);
	struct shadow_md_exc v;
	int err = row_find(pool, chunk, ROW_LIVE, can_block, &v);

	if (err && err != -ENODATA)
		return err;
	if (!err && v.seq >= newest) {	/* no snapshot has seen it */
		m->kind = SHADOW_MAP_STORE;
		m->store_chunk = v.store_chunk;
		return 0;
	}
	if (err && !newest) {		/* nothing to keep */
		m->kind = SHADOW_MAP_ORIGIN;
		return 0;
	}
	if (!can_block)
		return -EWOULDBLOCK;
	/* A new version; a partial write needs the rest of the chunk. */
	m->copy_from_store = !err;
	m->copy_from = err ? chunk : v.store_chunk;
	m->e.seq = newest;
	m->e.private = false;
	return shadow_pool_alloc_copy(pool, chunk, m);
}

/* Where snapshot @s finds @chunk when it has no private copy of it. */
static int row_find_shared(struct shadow_pool *pool, struct shadow_snap *s,
			   u64 chunk, bool can_block, struct shadow_map *m)
{
	return row_map_version(pool, chunk, s->seq, can_block, m);
}

static int row_map_snap_read(struct shadow_pool *pool, struct shadow_snap *s,
			     u64 chunk, bool can_block, struct shadow_map *m)
{
	return shadow_private_map_read(pool, s, chunk, can_block, m,
				       row_find_shared);
}

static int row_map_snap_write(struct shadow_pool *pool, struct shadow_snap *s,
			      u64 chunk, bool can_block, struct shadow_map *m)
{
	return shadow_private_map_write(pool, s, chunk, can_block, m,
					row_find_shared);
}

/*
 * A version was written: it is the live one, which is always needed.  (A
 * suspend waits for the bio that asked for it, so no snapshot was taken
 * since, and a fold leaves a chunk with a copy in flight alone.)
 */
static int row_copy_done(struct shadow_pool *pool,
			 const struct shadow_exception *e)
{
	struct shadow_md_exc me = {
		.chunk = e->chunk, .seq = shadow_row_seq(e->seq),
		.store_chunk = e->store_chunk,
	};

	if (e->private)
		return shadow_private_copy_done(pool, e);
	return shadow_md_exc_insert(pool->md, SHADOW_MD_SHARED, &me);
}

/* Reclaim and fold-back */

struct row_fold_chunk {
	struct shadow_pending *claim;
	u64 chunk;
	u64 key_seq;
	u64 store_chunk;
};

struct row_reclaim {
	u64 dropped_below;	/* the dead range when the walk began */
	u64 chunk;		/* where the walk goes on */
	u64 key_seq;
	u64 kept_chunk;		/* the last version kept */
	u64 kept_tag;
	bool missed;		/* a chunk to fold was busy */
	unsigned int removed;	/* versions the batch removed */
	unsigned int max_fold;	/* chunks a batch folds, at most */
	unsigned int nr_fold;
	struct row_fold_chunk fold[ROW_FOLD_BATCH];
	/* The copies of a fold batch. */
	atomic_t copying;
	struct completion copied;
	int copy_err;
};

/*
 * May @tag's version, a chunk's newest, go back to the origin?  Only if
 * no valid snapshot is at or below it: those read an older version or
 * the origin chunk itself.
 */
static bool row_foldable(struct shadow_pool *pool, u64 tag)
{
	return !pool->nr_live || pool->live[0]->seq > tag;
}

/* Did a revert drop the version tagged @tag? */
static bool row_dead(struct shadow_pool *pool, u64 tag)
{
	struct row_store *rs = pool->store_ctx;

	return tag >= rs->dropped_from && tag < rs->dropped_below;
}

/* Is version @v, not its chunk's newest, needed by a valid snapshot? */
static bool row_version_needed(struct shadow_pool *pool,
			       struct row_reclaim *rc,
			       const struct shadow_md_exc *v)
{
	return shadow_snapset_live_in(pool, v->seq, rc->kept_tag);
}

/*
 * Does the walk keep version @v (key @key_seq)?  Not if a revert dropped
 * it or no valid snapshot needs it.  A chunk's newest live version is
 * kept, and gathered to fold back when no valid snapshot can miss it.
 */
static bool row_keep_version(struct shadow_pool *pool, struct row_reclaim *rc,
			     const struct shadow_md_exc *v, u64 key_seq)
{
	if (row_dead(pool, v->seq))
		return false;
	if (rc->kept_chunk != v->chunk || !rc->kept_tag) {
		rc->kept_chunk = v->chunk;
		rc->kept_tag = v->seq;
		if (row_foldable(pool, v->seq)) {
			struct row_fold_chunk *f = &rc->fold[rc->nr_fold++];

			f->chunk = v->chunk;
			f->key_seq = key_seq;
			f->store_chunk = v->store_chunk;
		}
		return true;
	}
	if (!row_version_needed(pool, rc, v))
		return false;
	rc->kept_tag = v->seq;
	return true;
}

/*
 * One batch of the walk, under pool->lock: remove the versions nobody
 * needs and gather chunks to fold.  Returns 1 at the tree's end, 0 when
 * more is left, or -errno.
 */
static int row_reclaim_batch(struct shadow_pool *pool, struct row_reclaim *rc)
{
	unsigned int visited = 0;
	struct shadow_md_exc v;
	u64 key_seq;
	int err;

	rc->removed = 0;
	while (visited < ROW_RECLAIM_VISIT && rc->removed < ROW_RECLAIM_BATCH &&
	       rc->nr_fold < rc->max_fold) {
		err = shadow_md_exc_next(pool->md, SHADOW_MD_SHARED, rc->chunk,
					 rc->key_seq, &v);
		if (err == -ENODATA)
			return 1;
		if (err)
			return err;
		visited++;
		key_seq = v.seq;
		v.seq = shadow_row_seq(key_seq);
		rc->chunk = v.chunk;
		rc->key_seq = key_seq + 1;
		if (row_keep_version(pool, rc, &v, key_seq))
			continue;
		err = shadow_md_exc_remove(pool->md, SHADOW_MD_SHARED, v.chunk,
					   key_seq);
		if (err)
			return err;
		rc->removed++;
	}
	return 0;
}

static void row_fold_copied(int read_err, unsigned long write_err,
			    void *context)
{
	struct row_reclaim *rc = context;

	if (read_err || write_err)
		WRITE_ONCE(rc->copy_err, -EIO);
	if (atomic_dec_and_test(&rc->copying))
		complete(&rc->copied);
}

/*
 * Copy the claimed chunks' versions into the origin and flush it.  Runs
 * without pool->lock: I/O to the claimed chunks waits meanwhile, the rest
 * goes on.
 */
static int row_fold_copy(struct shadow_pool *pool, struct row_reclaim *rc)
{
	struct dm_io_region from, to;
	unsigned int i;

	atomic_set(&rc->copying, 1);
	init_completion(&rc->copied);
	rc->copy_err = 0;
	for (i = 0; i < rc->nr_fold; i++) {
		struct row_fold_chunk *f = &rc->fold[i];

		if (!f->claim)
			continue;
		from.bdev = pool->store_bdev;
		from.sector = pool->data_start +
			((sector_t)f->store_chunk << pool->chunk_shift);
		from.count = shadow_pool_chunk_len(pool, f->chunk);
		to.bdev = pool->origin_bdev;
		to.sector = (sector_t)f->chunk << pool->chunk_shift;
		to.count = from.count;
		atomic_inc(&rc->copying);
		dm_kcopyd_copy(pool->kc, &from, 1, &to, 0, row_fold_copied, rc);
	}
	row_fold_copied(0, 0, rc);
	wait_for_completion(&rc->copied);
	if (rc->copy_err)
		return rc->copy_err;
	/* The versions go only once their data is on the origin's media. */
	return blkdev_issue_flush(pool->origin_bdev);
}

/*
 * Drop every version of folded chunk @f: its newest, now in the origin,
 * and the older ones.  No valid snapshot needs those (none is at or below
 * the newest's tag), but the walk may not have come to them yet: its
 * batch can end right after it gathered @f.  Left for its next batch, the
 * newest of them would be the chunk's newest meanwhile, and the live
 * volume and every snapshot would read it instead of the origin.
 */
static int row_drop_folded(struct shadow_pool *pool,
			   const struct row_fold_chunk *f)
{
	struct shadow_md_exc v;
	u64 key_seq = f->key_seq;
	int err;

	for (;;) {
		err = shadow_md_exc_remove(pool->md, SHADOW_MD_SHARED,
					   f->chunk, key_seq);
		if (err)
			return err;
		err = shadow_md_exc_next(pool->md, SHADOW_MD_SHARED, f->chunk,
					 key_seq + 1, &v);
		if (err == -ENODATA || (!err && v.chunk != f->chunk))
			return 0;
		if (err)
			return err;
		key_seq = v.seq;
	}
}

/*
 * Fold the gathered chunks back into the origin: claim them, copy them
 * (dropping pool->lock), then drop their versions and commit.  A chunk
 * busy with I/O that the store must not move under it is tried later.
 */
static int row_fold(struct shadow_pool *pool, struct row_reclaim *rc)
{
	unsigned int i, claimed = 0;
	int err = 0;

	for (i = 0; i < rc->nr_fold; i++) {
		struct row_fold_chunk *f = &rc->fold[i];

		f->claim = shadow_pool_claim_chunk(pool, f->chunk);
		if (f->claim)
			claimed++;
		else
			rc->missed = true;
	}
	if (claimed) {
		mutex_unlock(&pool->lock);
		err = row_fold_copy(pool, rc);
		mutex_lock(&pool->lock);
		if (err && !pool->failed)
			shadow_pool_fail(pool, "cannot fold a chunk back into the origin",
					 err);
	}
	for (i = 0; i < rc->nr_fold; i++) {
		struct row_fold_chunk *f = &rc->fold[i];

		if (!f->claim)
			continue;
		if (!err && !pool->failed)
			err = row_drop_folded(pool, f);
	}
	if (claimed && !err && !pool->failed)
		err = shadow_md_commit(pool->md);
	/* Released after the commit: a write now finds no version. */
	for (i = 0; i < rc->nr_fold; i++)
		if (rc->fold[i].claim)
			shadow_pool_release_chunk(pool, rc->fold[i].claim);
	rc->nr_fold = 0;
	return pool->failed ? -EIO : err;
}

/*
 * Background fold-back at a set rate folds batches that take about
 * ROW_FOLD_PACE_MS at that rate; an overflow, which waits for it, folds
 * at full speed.  Returns how long to sleep after a batch, in ms.
 */
static unsigned int row_fold_pace(struct shadow_pool *pool,
				  struct row_reclaim *rc)
{
	struct row_store *rs = pool->store_ctx;
	u64 chunk_bytes = (u64)pool->chunk_sectors << SECTOR_SHIFT;
	u64 per_pace;

	rc->max_fold = ROW_FOLD_BATCH;
	if (!rs->fold_rate || current_work() != &pool->reclaim.work)
		return 0;
	per_pace = ((u64)rs->fold_rate << 20) * ROW_FOLD_PACE_MS / 1000;
	rc->max_fold = clamp_t(u64, div64_u64(per_pace, chunk_bytes), 1,
			       ROW_FOLD_BATCH);
	return div64_u64(rc->max_fold * chunk_bytes * 1000,
			 (u64)rs->fold_rate << 20);
}

/*
 * One batch of the walk of the shared tree: drop unneeded versions and
 * commit, fold what can go back, and (throttled) pause.  A batch that
 * removed nothing does not commit: every resume starts a walk, and one
 * that finds nothing to do need not write the store.
 */
static int row_reclaim_step(struct shadow_pool *pool, void *arg)
{
	struct row_store *rs = pool->store_ctx;
	struct row_reclaim *rc = arg;
	unsigned int pause = row_fold_pace(pool, rc);
	int done = row_reclaim_batch(pool, rc);
	int err;

	if (done < 0)
		return done;
	rs->fold_cursor = done ? 0 : rc->chunk + 1;
	err = rc->removed ? shadow_md_commit(pool->md) : 0;
	if (err || !rc->nr_fold)
		return err ?: done;
	err = row_fold(pool, rc);
	if (!err && pause) {
		mutex_unlock(&pool->lock);
		msleep(pause);
		mutex_lock(&pool->lock);
	}
	return err ?: done;
}

/*
 * With no valid snapshot no new version is begun, so once none is left,
 * none in flight either (a copy begun before the last snapshot went is
 * mapped when it finishes), the origin holds the live volume for good:
 * its I/O may skip the store until the next snapshot
 * (shadow_snapset_create() sets store_live).  Copies begin and claims
 * are taken only under pool->lock, which we hold.
 */
static int row_check_empty(struct shadow_pool *pool)
{
	struct shadow_md_exc v;
	int err;

	if (pool->nr_live || READ_ONCE(pool->nr_pending))
		return 0;
	err = shadow_md_exc_next(pool->md, SHADOW_MD_SHARED, 0, 0, &v);
	if (err == -ENODATA) {
		WRITE_ONCE(pool->store_live, false);
		return 0;
	}
	return err;
}

/*
 * A walk that began after the last revert removed every dead version
 * (none is made since): the range is over.
 */
static int row_end_dropped(struct shadow_pool *pool, struct row_reclaim *rc)
{
	struct row_store *rs = pool->store_ctx;
	int err;

	if (!rs->dropped_below || rs->dropped_below != rc->dropped_below)
		return 0;
	shadow_md_row_set_dropped(pool->md, 0, 0);
	err = shadow_md_commit(pool->md);
	if (err)
		return err;
	smp_store_release(&rs->dropped_below, 0);
	smp_store_release(&rs->dropped_from, 0);
	return 0;
}

/*
 * Free every chunk that no valid snapshot and not the live volume needs,
 * and fold back what can go, in batches that each end with a commit and
 * drop pool->lock in between.  Called with pool->lock held; returns with
 * it held.
 */
static int row_reclaim(struct shadow_pool *pool)
{
	struct row_store *rs = pool->store_ctx;
	struct row_reclaim *rc;
	int err;

	rc = kzalloc(sizeof(*rc), GFP_NOIO);
	if (!rc)
		return -ENOMEM;
	rc->dropped_below = rs->dropped_below;
	err = shadow_pool_walk(pool, row_reclaim_step, rc);
	rs->fold_cursor = 0;
	if (!err)
		err = row_end_dropped(pool, rc);
	if (!err)
		err = shadow_private_reclaim(pool);
	if (!err)
		err = row_check_empty(pool);
	if (!err && rc->missed)
		shadow_pool_kick_reclaim_later(pool, ROW_FOLD_RETRY);
	kfree(rc);
	return err;
}

/*
 * Revert to @s, which must be the newest valid snapshot: its successors'
 * versions, read by nobody once the live volume reads @s, die in one
 * commit (see the top).  The origin is suspended: no bio is in flight.
 */
static int row_revert(struct shadow_pool *pool, struct shadow_snap *s)
{
	struct shadow_snap *newest = pool->live[pool->nr_live - 1];
	struct row_store *rs = pool->store_ctx;
	u64 below;
	int err;

	if (s != newest) {
		DMERR("revert %llu: a row store reverts to its newest snapshot only (%llu); delete the snapshots after %llu first",
		      s->id, newest->id, s->id);
		return -EXDEV;
	}
	/* A second revert to the same snapshot widens the range. */
	if (rs->dropped_below && rs->dropped_from != s->seq) {
		DMERR("revert %llu: the versions that the last revert dropped are still being freed; try again in a moment",
		      s->id);
		return -EBUSY;
	}
	err = shadow_md_next_seq(pool->md, &below);
	if (err == -ENOSPC) {
		DMERR("revert %llu: no snapshot sequence is left", s->id);
		return err;
	}
	if (!err) {
		shadow_md_row_set_dropped(pool->md, s->seq, below);
		err = shadow_md_commit(pool->md);
	}
	if (err) {
		shadow_pool_fail(pool, "cannot record a revert", err);
		return err;
	}
	WRITE_ONCE(rs->dropped_from, s->seq);
	WRITE_ONCE(rs->dropped_below, below);
	DMINFO("reverted the live volume to snapshot %llu", s->id);
	return 0;
}

/* fold_rate <MiB/s>: how fast background fold-back may copy; 0: no limit. */
static int row_message(struct shadow_pool *pool, unsigned int argc,
		       char **argv)
{
	struct row_store *rs = pool->store_ctx;
	u32 rate;

	if (strcasecmp(argv[0], "fold_rate"))
		return -EOPNOTSUPP;
	if (argc != 2 || kstrtou32(argv[1], 10, &rate)) {
		DMERR("fold_rate: expected 'fold_rate <MiB/s>' (0: no limit)");
		return -EINVAL;
	}
	rs->fold_rate = rate;
	return 0;
}

/*
 * <fold_cursor>/<origin_chunks> <fold_rate>: the cursor from when a walk
 * is queued (after a delete, say) until none is, so that "-" means
 * fold-back is done.
 */
static void row_status(struct shadow_pool *pool, char *result,
		       unsigned int maxlen, unsigned int *sz_ptr)
{
	struct row_store *rs = pool->store_ctx;
	unsigned int sz = *sz_ptr;
	u64 cursor = READ_ONCE(rs->fold_cursor);

	if (!cursor && shadow_pool_reclaim_busy(pool))
		cursor = 1;
	if (cursor)
		DMEMIT(" %llu/%llu", cursor - 1, shadow_pool_nr_chunks(pool));
	else
		DMEMIT(" -");
	DMEMIT(" %u", rs->fold_rate);
	*sz_ptr = sz;
}

struct shadow_store_type shadow_row_store = {
	.name = "row",
	.disk_type = SHADOW_STORE_ROW,
	.owner = THIS_MODULE,
	.full_policy = SHADOW_FULL_DROP_OLDEST,
	.fail_origin_io = true,
	.live_in_store = true,
	.commit_on_flush = true,
	.whole_write_no_copy = true,
	.reclaim_folds_back = true,
	.init = row_init,
	.exit = row_exit,
	.map_origin_read = row_map_origin_read,
	.map_origin_write = row_map_origin_write,
	.map_snap_read = row_map_snap_read,
	.map_snap_write = row_map_snap_write,
	.copy_done = row_copy_done,
	.reclaim = row_reclaim,
	.message = row_message,
	.status = row_status,
	.revert = row_revert,
};
