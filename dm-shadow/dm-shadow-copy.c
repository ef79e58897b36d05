// SPDX-License-Identifier: GPL-2.0-only
/*
 * Chunk copies: a chunk's copy from its start to its record.
 *
 * When the store answers SHADOW_MAP_COPY, the worker starts the copy
 * here: a pending record, found by origin chunk, on which the bios that
 * need the chunk wait, and a kcopyd job (the copies of one pass of the
 * worker go as runs of adjacent chunks), or the whole-chunk write that is
 * the copy itself.  Finished copies are recorded by the store in batches,
 * made durable together, and only then are the bios that waited let go.
 * A store that works on a chunk of its own accord (fold-back) claims it
 * with the same record, and I/O to the chunk waits on the claim.
 *
 * Apart from the pool (dm-shadow-pool.c), which says where each bio goes
 * and runs the worker: this file carries out the copies the worker asks
 * for, and hands the bios that waited for them back to it.
 */
#include "dm-shadow.h"
#include "dm-shadow-format.h"

#include <linux/slab.h>

#define SHADOW_MIN_PENDING	64
/* The longest run of chunk copies sent to kcopyd as one job, in sectors. */
#define SHADOW_COPY_RUN_SECTORS	(1U << (20 - SECTOR_SHIFT))

/*
 * A chunk copy in flight, or a chunk the store claimed for its own work,
 * and the bios waiting for it.
 */
struct shadow_pending {
	struct hlist_node node;		/* pool->pending, by chunk */
	struct list_head list;		/* pool->copy_plug, then pool->copied */
	struct shadow_pool *pool;
	struct shadow_exception e;
	struct bio_list bios;
	struct bio *data_bio;		/* the write that is the copy, or NULL */
	struct dm_io_region from;	/* the copy's source */
	struct dm_io_region to;		/* its store chunk (count: from's) */
	struct shadow_pending *run_next;	/* in the same kcopyd job */
	int err;
};

static struct kmem_cache *shadow_pending_cache;

static struct shadow_pending *__shadow_pending_find(struct shadow_pool *pool,
						    u64 chunk)
{
	struct shadow_pending *pe;

	hash_for_each_possible(pool->pending, pe, node, chunk)
		if (pe->e.chunk == chunk)
			return pe;
	return NULL;
}

bool shadow_is_pending(struct shadow_pool *pool, u64 chunk)
{
	unsigned long flags;
	bool found;

	spin_lock_irqsave(&pool->pending_lock, flags);
	found = __shadow_pending_find(pool, chunk);
	spin_unlock_irqrestore(&pool->pending_lock, flags);
	return found;
}

/* Queue @bio on the copy or claim of @chunk in flight, if any: true if so. */
bool shadow_pending_add_bio(struct shadow_pool *pool, u64 chunk,
			    struct bio *bio)
{
	struct shadow_pending *pe;

	spin_lock_irq(&pool->pending_lock);
	pe = __shadow_pending_find(pool, chunk);
	if (pe)
		bio_list_add(&pe->bios, bio);
	spin_unlock_irq(&pool->pending_lock);
	return pe;
}

/*
 * A copy finished.  Finished copies wait for the others in flight (up to
 * a batch), so that they are made durable together, by one journal write:
 * the chunks of one large write, or a queue's worth of first writes, as
 * dm-snapshot commits once no exception is in flight.  The last one
 * records them all: in kcopyd's thread when @may_record and the worker
 * does not hold the lock (saving a switch to the worker), else in the
 * worker.  Nothing done here waits for kcopyd (bios that need another
 * copy go to the worker), so kcopyd cannot wait on itself.
 */
static void shadow_copy_finished(struct shadow_pending *pe, bool may_record)
{
	struct shadow_pool *pool = pe->pool;
	unsigned long flags;
	bool last, ready;

	spin_lock_irqsave(&pool->bio_lock, flags);
	list_add_tail(&pe->list, &pool->copied);
	pool->nr_copied++;
	pool->copying--;
	last = !pool->copying;
	ready = last || pool->nr_copied >= SHADOW_COMMIT_BATCH;
	spin_unlock_irqrestore(&pool->bio_lock, flags);
	if (!ready)
		return;
	if (may_record && last && mutex_trylock(&pool->lock)) {
		shadow_process_copied(pool);
		mutex_unlock(&pool->lock);
		return;
	}
	queue_work(pool->wq, &pool->worker);
}

/*
 * A copy to the store's own data fails as a whole; one to several devices
 * of a store with copy_dests fails only where it failed, which the store
 * handles (see copy_dests).  A job may be a run of copies (see
 * shadow_copy_unplug()); it failed for each of them.  The next one is
 * read first: a finished copy may be recorded and freed at once.
 */
static void shadow_copy_callback(int read_err, unsigned long write_err,
				 void *context)
{
	struct shadow_pending *pe = context, *next;

	for (; pe; pe = next) {
		next = pe->run_next;
		pe->err = read_err ? -EIO : 0;
		if (write_err && pe->pool->type->copy_dests)
			pe->e.failed = write_err;
		else if (write_err)
			pe->err = -EIO;
		shadow_copy_finished(pe, !next);
	}
}

/*
 * A whole-chunk write that was its chunk's copy completed (in interrupt
 * context: the worker records it).  The bio itself completes once its
 * chunk is mapped (shadow_release_waiting()).
 */
static void shadow_data_bio_endio(struct bio *bio)
{
	struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));
	struct shadow_pending *pe = ctx->copy;

	bio->bi_end_io = ctx->saved_end_io;
	pe->err = blk_status_to_errno(bio->bi_status);
	shadow_copy_finished(pe, false);
}

/* The pool's reserve of pending records. */
int shadow_pending_pool_init(struct shadow_pool *pool)
{
	return mempool_init_slab_pool(&pool->pending_pool, SHADOW_MIN_PENDING,
				      shadow_pending_cache);
}

static struct shadow_pending *shadow_pending_alloc(struct shadow_pool *pool,
						  u64 chunk)
{
	struct shadow_pending *pe;

	pe = mempool_alloc(&pool->pending_pool, GFP_NOWAIT);
	if (!pe)
		return NULL;
	memset(pe, 0, sizeof(*pe));
	pe->pool = pool;
	pe->e.chunk = chunk;
	bio_list_init(&pe->bios);
	return pe;
}

static void shadow_pending_add(struct shadow_pool *pool,
			       struct shadow_pending *pe)
{
	spin_lock_irq(&pool->pending_lock);
	hash_add(pool->pending, &pe->node, pe->e.chunk);
	WRITE_ONCE(pool->nr_pending, pool->nr_pending + 1);
	spin_unlock_irq(&pool->pending_lock);
}

/* A copy @m asked for is not made: its store chunk, if any, goes back. */
void shadow_copy_give_back(struct shadow_pool *pool,
			   const struct shadow_map *m)
{
	int err;

	if (pool->type->copy_dests)
		return;
	err = shadow_md_release(pool->md, m->e.store_chunk);
	if (err)
		shadow_pool_fail(pool, "cannot give back a chunk", err);
}

/*
 * A pending entry for the copy @m asks for, counted in pool->copying:
 * @bio waits on it, or is the copy itself (@is_data).  Taken without
 * waiting: they are freed only under pool->lock, which the worker holds,
 * so the worker must never sleep for one.  Without one, the chunk goes
 * back and the bio waits a tick.
 *
 * A data bio is in flight to the store until the copy is done, so it is
 * kept apart from the bios that wait: the block layer chains a request's
 * bios through bi_next, which a bio list also uses, and a bio queued
 * behind it there became part of its request (a BUG in
 * blk_mq_end_request() under loop devices).
 */
static struct shadow_pending *shadow_copy_begin(struct shadow_pool *pool,
						struct bio *bio, bool is_data,
						const struct shadow_map *m)
{
	struct shadow_pending *pe = shadow_pending_alloc(pool, m->e.chunk);

	if (!pe) {
		shadow_copy_give_back(pool, m);
		shadow_delay_bio(pool, bio);
		return NULL;
	}
	pe->e = m->e;
	if (is_data)
		pe->data_bio = bio;
	else
		bio_list_add(&pe->bios, bio);
	shadow_pending_add(pool, pe);
	spin_lock_irq(&pool->bio_lock);
	pool->copying++;
	spin_unlock_irq(&pool->bio_lock);
	return pe;
}

/*
 * Start the copy @m asks for, @bio waiting on it: a copy to several
 * devices at once, else by the copy plug, when the worker's pass ends.
 */
void shadow_start_copy(struct shadow_pool *pool, struct bio *bio,
		       const struct shadow_map *m)
{
	struct dm_io_region to[DM_KCOPYD_MAX_REGIONS];
	struct shadow_pending *pe = shadow_copy_begin(pool, bio, false, m);
	unsigned int i, nr_to;

	if (!pe)
		return;

	pe->from.count = shadow_pool_chunk_len(pool, m->e.chunk);
	if (m->copy_from_store) {
		pe->from.bdev = pool->store_bdev;
		pe->from.sector = pool->data_start +
			((sector_t)m->copy_from << pool->chunk_shift);
	} else {
		pe->from.bdev = pool->origin_bdev;
		pe->from.sector = (sector_t)m->copy_from << pool->chunk_shift;
	}
	if (!pool->type->copy_dests) {
		pe->to.bdev = pool->store_bdev;
		pe->to.sector = pool->data_start +
			((sector_t)m->e.store_chunk << pool->chunk_shift);
		list_add_tail(&pe->list, &pool->copy_plug);
		return;
	}
	nr_to = pool->type->copy_dests(pool, &m->e, to);
	for (i = 0; i < nr_to; i++)
		to[i].count = pe->from.count;
	dm_kcopyd_copy(pool->kc, &pe->from, nr_to, to, 0,
		       shadow_copy_callback, pe);
}

/*
 * Does copy @pe continue the run that @head starts and @from spans: the
 * next chunk of the same source to the next chunk of the store, the run's
 * chunks all whole?
 */
static bool shadow_copy_extends_run(struct shadow_pool *pool,
				    const struct shadow_pending *head,
				    const struct dm_io_region *from,
				    const struct shadow_pending *pe)
{
	return pe->from.bdev == from->bdev &&
	       pe->from.sector == from->sector + from->count &&
	       pe->to.sector == head->to.sector + from->count &&
	       !(from->count & (pool->chunk_sectors - 1)) &&
	       from->count + pe->from.count <= SHADOW_COPY_RUN_SECTORS;
}

/* One kcopyd job for the run that @head starts and @from spans. */
static void shadow_copy_send_run(struct shadow_pool *pool,
				 struct shadow_pending *head,
				 struct dm_io_region *from)
{
	struct dm_io_region to = head->to;

	to.count = from->count;
	dm_kcopyd_copy(pool->kc, from, 1, &to, 0, shadow_copy_callback, head);
}

/*
 * Send the copies of the worker's pass to kcopyd, each run of adjacent
 * chunks copied to adjacent store chunks as one job: the chunks of one
 * large write are allocated in a row, and one job per chunk made a 1 MiB
 * write over 4 KiB chunks 256 jobs.  Under pool->lock.
 */
void shadow_copy_unplug(struct shadow_pool *pool)
{
	struct shadow_pending *pe, *tmp, *head = NULL, *tail = NULL;
	struct dm_io_region from;

	list_for_each_entry_safe(pe, tmp, &pool->copy_plug, list) {
		list_del(&pe->list);
		if (head && shadow_copy_extends_run(pool, head, &from, pe)) {
			from.count += pe->from.count;
			tail->run_next = pe;
			tail = pe;
			continue;
		}
		if (head)
			shadow_copy_send_run(pool, head, &from);
		head = tail = pe;
		from = pe->from;
	}
	if (head)
		shadow_copy_send_run(pool, head, &from);
}

/* A store chunk for the copy of @chunk (m->e.seq, .private: the caller's). */
int shadow_pool_alloc_copy(struct shadow_pool *pool, u64 chunk,
			   struct shadow_map *m)
{
	int err = shadow_md_alloc(pool->md, &m->e.store_chunk);

	if (err)
		return err;
	m->kind = SHADOW_MAP_COPY;
	m->e.chunk = chunk;
	return 0;
}

/*
 * The write @bio fills the new chunk @m allocated: it is written there
 * as the chunk's copy, and completes once the chunk is mapped.
 */
void shadow_start_data_bio(struct shadow_pool *pool, struct bio *bio,
			   const struct shadow_map *m)
{
	struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));
	struct shadow_pending *pe = shadow_copy_begin(pool, bio, true, m);

	if (!pe)
		return;
	ctx->copy = pe;
	ctx->saved_end_io = bio->bi_end_io;
	bio->bi_end_io = shadow_data_bio_endio;
	shadow_remap_store(pool, bio, m->e.store_chunk);
	submit_bio_noacct(bio);
}

/*
 * Claim @chunk for the store's own work on it (fold-back): I/O to it
 * waits until shadow_pool_release_chunk().  NULL when a copy of it, or a
 * tracked bio, is in flight: try again later.  Under pool->lock.
 */
struct shadow_pending *shadow_pool_claim_chunk(struct shadow_pool *pool,
					       u64 chunk)
{
	struct shadow_pending *pe;

	if (shadow_is_pending(pool, chunk))
		return NULL;
	pe = shadow_pending_alloc(pool, chunk);
	if (!pe)
		return NULL;
	shadow_pending_add(pool, pe);
	/* Pairs with the barrier in the map path, between track and look. */
	smp_mb();
	if (shadow_is_tracked(pool, chunk)) {
		shadow_pool_release_chunk(pool, pe);
		return NULL;
	}
	return pe;
}

/*
 * An origin write that waited for the copy of its chunk needs nothing more
 * from the store when that copy was taken for the newest snapshot, which is
 * still the newest: it goes to the origin without another lookup.
 */
static bool shadow_copied_write_ready(struct shadow_pool *pool,
				      struct bio *bio,
				      const struct shadow_exception *e)
{
	struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));

	return !ctx->snap && !e->private && !pool->failed &&
	       !pool->type->live_in_store &&
	       e->seq == READ_ONCE(pool->newest_seq) &&
	       !shadow_revert_active(pool);
}

/* Send on the bios that waited for copy @pe; the rest to the worker. */
static void shadow_release_waiting(struct shadow_pool *pool,
				   struct shadow_pending *pe)
{
	struct shadow_map m = { .kind = SHADOW_MAP_ORIGIN };
	struct bio_list bios;
	struct bio *bio;

	spin_lock_irq(&pool->pending_lock);
	hash_del(&pe->node);
	WRITE_ONCE(pool->nr_pending, pool->nr_pending - 1);
	bios = pe->bios;
	spin_unlock_irq(&pool->pending_lock);
	if (pe->data_bio)
		bio_endio(pe->data_bio);	/* it was the copy */
	while ((bio = bio_list_pop(&bios))) {
		if (shadow_copied_write_ready(pool, bio, &pe->e))
			shadow_dispatch(pool, bio, &m);
		else
			shadow_requeue_bio(pool, bio);
	}
}

/* The store is done with a chunk it claimed: its bios go on. */
void shadow_pool_release_chunk(struct shadow_pool *pool,
			       struct shadow_pending *claim)
{
	shadow_release_waiting(pool, claim);
	mempool_free(claim, &pool->pending_pool);
}

/*
 * Must this batch be durable before its bios go on?  Always, unless the
 * store commits on flush; then only for a FUA write that was a copy.
 */
static bool shadow_batch_must_commit(struct shadow_pool *pool,
				     struct list_head *batch)
{
	struct shadow_pending *pe;

	if (!pool->type->commit_on_flush)
		return true;
	list_for_each_entry(pe, batch, list)
		if (pe->data_bio && (pe->data_bio->bi_opf & REQ_FUA))
			return true;
	return false;
}

/* Record a batch of finished copies, commit, then release their bios. */
static void shadow_finish_copies(struct shadow_pool *pool,
				 struct list_head *batch)
{
	struct shadow_pending *pe, *tmp;
	int err = 0;

	list_for_each_entry(pe, batch, list) {
		if (pool->failed)
			break;
		err = pe->err;
		if (err) {
			shadow_pool_fail(pool, "copy to the store failed", err);
			break;
		}
		err = pool->type->copy_done(pool, &pe->e);
		if (err)
			shadow_pool_fail(pool, "cannot record a copy", err);
	}
	if (!pool->failed) {
		WRITE_ONCE(pool->need_commit, true);
		if (shadow_batch_must_commit(pool, batch))
			shadow_commit_copies_now(pool);
	}
	list_for_each_entry_safe(pe, tmp, batch, list) {
		shadow_release_waiting(pool, pe);
		mempool_free(pe, &pool->pending_pool);
	}
}

void shadow_process_copied(struct shadow_pool *pool)
{
	struct shadow_pending *pe;
	LIST_HEAD(copied);
	LIST_HEAD(batch);
	unsigned int n;

	spin_lock_irq(&pool->bio_lock);
	/* Not yet: the last copy in flight will call (see the callback). */
	if (pool->copying && pool->nr_copied < SHADOW_COMMIT_BATCH) {
		spin_unlock_irq(&pool->bio_lock);
		return;
	}
	list_splice_init(&pool->copied, &copied);
	pool->nr_copied = 0;
	spin_unlock_irq(&pool->bio_lock);
	if (list_empty(&copied))
		return;

	while (!list_empty(&copied)) {
		for (n = 0; n < SHADOW_COMMIT_BATCH && !list_empty(&copied);
		     n++) {
			pe = list_first_entry(&copied, struct shadow_pending,
					      list);
			list_move_tail(&pe->list, &batch);
		}
		shadow_finish_copies(pool, &batch);
		INIT_LIST_HEAD(&batch);
	}
	/* The store grows by the copies' chunks: is a threshold passed? */
	shadow_usage_check(pool);
}

int __init shadow_copy_module_init(void)
{
	/* A batch of copies fits in one journal block. */
	BUILD_BUG_ON(SHADOW_COMMIT_BATCH > SHADOW_JOURNAL_ENTRIES);
	shadow_pending_cache = KMEM_CACHE(shadow_pending, 0);
	return shadow_pending_cache ? 0 : -ENOMEM;
}

void shadow_copy_module_exit(void)
{
	kmem_cache_destroy(shadow_pending_cache);
}
