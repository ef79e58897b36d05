// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shadow-origin target: wraps the live volume and owns the store.
 */
#include "dm-shadow.h"
#include "dm-shadow-format.h"

#include <linux/kernel.h>
#include <linux/module.h>

struct shadow_origin_c {
	struct dm_dev *origin;
	struct dm_dev *store;
	struct shadow_pool *pool;
	struct shadow_store_args args;	/* features for the store */
};

static int shadow_parse_chunk(const char *arg, u32 *ret_chunk)
{
	u32 chunk;

	if (kstrtou32(arg, 10, &chunk) || !shadow_chunk_sectors_valid(chunk))
		return -EINVAL;
	*ret_chunk = chunk;
	return 0;
}

static void shadow_origin_put_targets(struct dm_target *ti,
				      struct shadow_origin_c *oc)
{
	while (oc->args.nr)
		dm_put_device(ti, oc->args.t[--oc->args.nr].dev);
}

/* clone_target <id> <dev>: the device clone <id> is (to be) copied to. */
static int shadow_origin_add_target(struct dm_target *ti,
				    struct shadow_origin_c *oc,
				    const char *id_arg, const char *dev_arg)
{
	struct shadow_target *t = &oc->args.t[oc->args.nr];
	unsigned int i;
	u64 id;

	if (kstrtou64(id_arg, 10, &id)) {
		ti->error = "clone_target: the clone id must be a decimal number";
		return -EINVAL;
	}
	if (oc->args.nr == SHADOW_MAX_CLONES) {
		ti->error = "too many clone_target features (at most 8)";
		return -EINVAL;
	}
	if (dm_get_device(ti, dev_arg, dm_table_get_mode(ti->table), &t->dev)) {
		ti->error = "clone_target: cannot open the device (in use?)";
		return -EINVAL;
	}
	t->id = id;
	oc->args.nr++;
	for (i = 0; i + 1 < oc->args.nr; i++) {
		if (oc->args.t[i].id == id) {
			ti->error = "clone_target: two devices for one clone";
			return -EINVAL;
		}
		if (oc->args.t[i].dev->bdev == t->dev->bdev) {
			ti->error = "clone_target: one device for two clones";
			return -EINVAL;
		}
	}
	if (t->dev->bdev == oc->origin->bdev ||
	    t->dev->bdev == oc->store->bdev) {
		ti->error = "clone_target: the device is the origin or the store";
		return -EINVAL;
	}
	return 0;
}

/* hydrate_rate <MiB/s>: how fast a clone store hydrates (0: no limit). */
static int shadow_origin_set_rate(struct dm_target *ti,
				  struct shadow_origin_c *oc, const char *arg)
{
	if (kstrtou32(arg, 10, &oc->args.hydrate_rate)) {
		ti->error = "hydrate_rate: expected MiB/s, 0 for no limit";
		return -EINVAL;
	}
	oc->args.hydrate_rate_set = true;
	return 0;
}

/*
 * [<#features> <feature>*], after the devices are open.  The features,
 * of clone stores only: clone_target <id> <dev> (three words) and
 * hydrate_rate <MiB/s> (two).
 */
static int shadow_origin_parse_features(struct dm_target *ti,
					struct shadow_origin_c *oc,
					const char *type_name,
					unsigned int argc, char **argv)
{
	unsigned int n, i, words;
	bool target;
	int r;

	if (!argc)
		return 0;
	if (kstrtouint(argv[0], 10, &n) || n != argc - 1) {
		ti->error = "feature count does not match the features given";
		return -EINVAL;
	}
	for (i = 1; i <= n; i += words) {
		target = !strcasecmp(argv[i], "clone_target");
		if (!target && strcasecmp(argv[i], "hydrate_rate")) {
			ti->error = "unknown feature";
			return -EINVAL;
		}
		if (strcasecmp(type_name, "clone")) {
			ti->error = "clone_target and hydrate_rate are features of clone stores";
			return -EINVAL;
		}
		words = target ? 3 : 2;
		if (i + words - 1 > n) {
			ti->error = "expected clone_target <id> <dev> or hydrate_rate <MiB/s>";
			return -EINVAL;
		}
		if (target)
			r = shadow_origin_add_target(ti, oc, argv[i + 1],
						     argv[i + 2]);
		else
			r = shadow_origin_set_rate(ti, oc, argv[i + 1]);
		if (r)
			return r;
	}
	return 0;
}

/* The store checks what this table says to it (a clone store: targets). */
static int shadow_origin_check_args(struct dm_target *ti,
				    struct shadow_origin_c *oc)
{
	struct shadow_pool *pool = oc->pool;
	char *error = NULL;
	int r = 0;

	if (!pool->type->check_args)
		return 0;
	mutex_lock(&pool->lock);
	r = pool->type->check_args(pool, &oc->args, &error);
	mutex_unlock(&pool->lock);
	if (r)
		ti->error = error;
	return r;
}

/*
 * shadow-origin <origin_dev> <store_dev> <store_type> <chunk_sectors>
 *               [<#features> <feature>*]
 *
 * store_type: cow, row or clone.  chunk_sectors: a power of two from 8
 * (4 KiB) to 2048 (1 MiB), used when the store is formatted and checked
 * against it after.  The target must cover the whole origin device.
 * Features (clone stores): clone_target <id> <dev>, the device clone <id>
 * is copied to, one per clone, up to 8; hydrate_rate <MiB/s>, how fast
 * clones hydrate from the resume on (0: no limit; the message changes it
 * until the next reload).
 */
static int shadow_origin_ctr(struct dm_target *ti, unsigned int argc,
			     char **argv)
{
	struct shadow_origin_c *oc;
	u32 chunk;
	int r;

	if (argc < 4) {
		ti->error = "expected <origin_dev> <store_dev> <store_type> <chunk_sectors> [<#features> <feature>*]";
		return -EINVAL;
	}
	if (shadow_parse_chunk(argv[3], &chunk)) {
		ti->error = "chunk_sectors must be a power of two from 8 to 2048";
		return -EINVAL;
	}
	/* The store's metadata is written from the first I/O on. */
	if (!shadow_table_writable(ti)) {
		ti->error = "a read-only table cannot own a store";
		return -EINVAL;
	}

	oc = kzalloc(sizeof(*oc), GFP_KERNEL);
	if (!oc) {
		ti->error = "cannot allocate origin context";
		return -ENOMEM;
	}
	r = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table),
			  &oc->origin);
	if (r) {
		ti->error = "cannot open the origin device";
		goto bad_origin;
	}
	r = dm_get_device(ti, argv[1], dm_table_get_mode(ti->table),
			  &oc->store);
	if (r) {
		ti->error = "cannot open the store device";
		goto bad_store;
	}
	r = -EINVAL;
	if (oc->origin->bdev == oc->store->bdev) {
		ti->error = "origin and store must be different devices";
		goto bad_pool;
	}
	if (ti->begin || ti->len != bdev_nr_sectors(oc->origin->bdev)) {
		ti->error = "target must cover the whole origin device";
		goto bad_pool;
	}
	r = shadow_origin_parse_features(ti, oc, argv[2], argc - 4, argv + 4);
	if (r)
		goto bad_pool;
	r = shadow_pool_get(ti, oc->origin, oc->store, argv[2], chunk,
			    &oc->pool);
	if (r)
		goto bad_pool;
	r = shadow_origin_check_args(ti, oc);
	if (r) {
		shadow_pool_put(oc->pool, ti);
		goto bad_pool;
	}

	/*
	 * A store that holds live data gets a flush of its own (the second
	 * flush bio), after the chunks it mapped are durable.
	 */
	ti->num_flush_bios = oc->pool->type->live_in_store ? 2 : 1;
	/*
	 * Discards are handled like writes: passed down at once unless a
	 * snapshot still needs the chunk's old data, which is copied first.
	 */
	ti->num_discard_bios = 1;
	ti->per_io_data_size = sizeof(struct shadow_bio_ctx);
	ti->private = oc;
	return 0;

bad_pool:
	shadow_origin_put_targets(ti, oc);
	dm_put_device(ti, oc->store);
bad_store:
	dm_put_device(ti, oc->origin);
bad_origin:
	kfree(oc);
	return r;
}

static void shadow_origin_dtr(struct dm_target *ti)
{
	struct shadow_origin_c *oc = ti->private;

	shadow_pool_unbind_args(oc->pool, &oc->args);
	shadow_pool_put(oc->pool, ti);
	shadow_origin_put_targets(ti, oc);
	dm_put_device(ti, oc->store);
	dm_put_device(ti, oc->origin);
	kfree(oc);
}

/*
 * May @bio skip the store?  Reads of a cow store, and writes while no
 * snapshot exists; everything, for a store that holds live data, while it
 * holds none and no snapshot exists.
 */
static bool shadow_origin_straight(struct shadow_pool *pool, struct bio *bio)
{
	if (pool->type->live_in_store)
		return !READ_ONCE(pool->store_live);
	return !op_is_write(bio_op(bio)) || !atomic_read(&pool->live_count);
}

static int shadow_origin_map(struct dm_target *ti, struct bio *bio)
{
	struct shadow_origin_c *oc = ti->private;
	struct shadow_pool *pool = oc->pool;
	struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));
	sector_t offset;
	bool reverting;

	ctx->snap = NULL;
	ctx->tracked = false;
	ctx->counted = false;
	ctx->copy = NULL;
	bio_set_dev(bio, oc->origin->bdev);
	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);

	/*
	 * Flushes, and bios shadow_origin_straight() lets by while no revert
	 * runs, go straight, whole: the origin is not split into chunks
	 * unless it has to be.  A store that holds live data has a flush of
	 * its own.
	 */
	if (!bio_sectors(bio)) {
		if (dm_bio_get_target_bio_nr(bio) == 1)
			return shadow_pool_map_flush(pool, bio);
		return DM_MAPIO_REMAPPED;
	}
	reverting = shadow_revert_active(pool);
	if (!reverting && shadow_origin_straight(pool, bio))
		return DM_MAPIO_REMAPPED;

	/* The store maps one chunk at a time; dm resubmits the rest. */
	offset = bio->bi_iter.bi_sector & (pool->chunk_sectors - 1);
	if (bio_sectors(bio) > pool->chunk_sectors - offset)
		dm_accept_partial_bio(bio, pool->chunk_sectors - offset);
	ctx->chunk = shadow_chunk_of(pool, bio->bi_iter.bi_sector);
	if (pool->type->live_in_store)
		return shadow_pool_map_live(pool, bio);
	if (!op_is_write(bio_op(bio)))
		return shadow_pool_map_origin_read(pool, bio);
	return shadow_pool_map_origin_write(pool, bio);
}

static int shadow_origin_end_io(struct dm_target *ti, struct bio *bio,
				blk_status_t *error)
{
	struct shadow_origin_c *oc = ti->private;

	shadow_pool_bio_done(oc->pool, dm_per_bio_data(bio,
				 sizeof(struct shadow_bio_ctx)));
	return DM_ENDIO_DONE;
}

static void shadow_origin_postsuspend(struct dm_target *ti)
{
	struct shadow_origin_c *oc = ti->private;

	shadow_pool_drain(oc->pool);
	if (oc->pool->type->commit_on_flush)
		shadow_pool_commit_copies(oc->pool);
	shadow_revert_pause(oc->pool);
	shadow_pool_suspend(oc->pool);
}

/* A failed store is tried again from disk when its origin is reloaded. */
static int shadow_origin_preresume(struct dm_target *ti)
{
	struct shadow_origin_c *oc = ti->private;

	shadow_pool_retry_failed(oc->pool);
	return 0;
}

static void shadow_origin_resume(struct dm_target *ti)
{
	struct shadow_origin_c *oc = ti->private;

	shadow_pool_bind(oc->pool, ti, &oc->args);
	shadow_revert_resume(oc->pool);
}

static int shadow_parse_id(const char *arg, u64 *ret_id)
{
	return kstrtou64(arg, 10, ret_id) ? -EINVAL : 0;
}

static int shadow_origin_msg_create(struct dm_target *ti,
				    struct shadow_pool *pool, u64 id)
{
	int r;

	/*
	 * The point in time is the moment of the suspend: nothing is in
	 * flight, so every later write sees the new snapshot.
	 */
	if (!dm_suspended(ti)) {
		DMERR("create %llu: the origin must be suspended", id);
		return -EBUSY;
	}
	/* It would see the origin chunks not merged yet, not the volume. */
	if (shadow_revert_active(pool)) {
		DMERR("create %llu: a revert to snapshot %llu is running; create once it has finished",
		      id, pool->revert.id);
		return -EBUSY;
	}
	r = shadow_snapset_create(pool, id);
	if (r == -EEXIST)
		DMERR("create %llu: a snapshot with this id exists", id);
	else if (r == -ENOSPC)
		DMERR("create %llu: the store holds %u snapshots already, or has handed out every sequence number",
		      id, SHADOW_MAX_SNAPSHOTS);
	else if (r)
		DMERR("create %llu: failed (error %d)", id, r);
	return r;
}

static int shadow_origin_msg_delete(struct shadow_pool *pool, u64 id)
{
	int r;

	if (shadow_revert_active(pool) && pool->revert.id == id) {
		DMERR("delete %llu: the origin is being reverted to it; delete it once the revert has finished",
		      id);
		return -EBUSY;
	}
	r = shadow_snapset_delete(pool, id);

	if (r == -ENOENT)
		DMERR("delete %llu: no such snapshot", id);
	else if (r == -EBUSY)
		DMERR("delete %llu: a shadow-snap device still uses it", id);
	else if (r)
		DMERR("delete %llu: failed (error %d)", id, r);
	return r;
}

/*
 * Roll the origin back to snapshot @id, in the background; only while the
 * origin is suspended, so that no write is in flight when it starts.
 */
static int shadow_origin_msg_revert(struct dm_target *ti,
				    struct shadow_pool *pool, u64 id)
{
	struct shadow_snap *s;

	if (!dm_suspended(ti)) {
		DMERR("revert %llu: the origin must be suspended", id);
		return -EBUSY;
	}
	if (!pool->type->revert) {
		DMERR("revert %llu: a %s store cannot revert", id,
		      pool->type->name);
		return -EOPNOTSUPP;
	}
	if (pool->failed) {
		DMERR("revert %llu: the store has failed", id);
		return -EIO;
	}
	s = shadow_snapset_find(pool, id);
	if (!s) {
		DMERR("revert %llu: no such snapshot", id);
		return -ENOENT;
	}
	if (s->state != SHADOW_SNAP_VALID) {
		DMERR("revert %llu: the snapshot is invalid (dropped when the store filled)",
		      id);
		return -EINVAL;
	}
	/* Its own writes are in the private tree, which a revert ignores. */
	if ((s->flags & SHADOW_SNAPF_WRITTEN) || s->writable) {
		DMERR("revert %llu: the snapshot is open writable or was written to; only an unwritten snapshot can be reverted to",
		      id);
		return -EROFS;
	}
	return pool->type->revert(pool, s);
}

/* One line per snapshot: <id> <seq> <ctime> valid|invalid ro|sealed */
static void shadow_origin_msg_list(struct shadow_pool *pool, char *result,
				   unsigned int maxlen)
{
	unsigned int sz = 0;
	struct shadow_snap *s;
	unsigned long id;

	xa_for_each(&pool->snaps, id, s) {
		DMEMIT("%llu %llu %llu %s %s\n", s->id, s->seq, s->ctime,
		       s->state == SHADOW_SNAP_VALID ? "valid" : "invalid",
		       (s->flags & SHADOW_SNAPF_SEALED) ? "sealed" : "ro");
	}
}

static int shadow_origin_msg_limit(struct shadow_pool *pool, u64 limit)
{
	u64 total = shadow_md_nr_data_chunks(pool->md);
	int r;

	if (!total) {
		DMERR("limit %llu: a %s store keeps no data", limit,
		      pool->type->name);
		return -EINVAL;
	}
	if (limit > total) {
		DMERR("limit %llu: the store has only %llu data chunks",
		      limit, total);
		return -EINVAL;
	}
	r = shadow_usage_set_limit(pool, limit);
	if (r == -ENOSPC)
		DMERR("limit %llu: %llu chunks are in use", limit,
		      shadow_md_used_chunks(pool->md));
	else if (r)
		DMERR("limit %llu: failed (error %d)", limit, r);
	else
		DMINFO("data limit set to %llu of %llu chunks",
		       shadow_md_data_limit(pool->md), total);
	return r;
}

static int shadow_origin_msg_thresholds(struct shadow_pool *pool,
					unsigned int argc, char **argv)
{
	u8 pct[SHADOW_MAX_THRESHOLDS];
	unsigned int i;
	int r = 0;

	if (argc == 1 && !strcasecmp(argv[0], "none"))
		argc = 0;
	else if (!argc || argc > SHADOW_MAX_THRESHOLDS)
		r = -EINVAL;
	for (i = 0; !r && i < argc; i++)
		if (kstrtou8(argv[i], 10, &pct[i]))
			r = -EINVAL;
	if (!r) {
		mutex_lock(&pool->lock);
		r = shadow_usage_set_thresholds(pool, pct, argc);
		mutex_unlock(&pool->lock);
	}
	if (r)
		DMERR("thresholds: expected 'none' or 1 to %u percentages from 1 to 100, ascending",
		      SHADOW_MAX_THRESHOLDS);
	return r;
}

static int shadow_origin_msg_metadata_snap(struct shadow_pool *pool,
					   const char *verb)
{
	bool reserve = !strcasecmp(verb, "reserve_metadata_snap");
	u64 root = 0;
	int r;

	mutex_lock(&pool->lock);
	if (pool->failed)
		r = -EIO;
	else if (reserve)
		r = shadow_md_reserve_snap(pool->md, &root);
	else
		r = shadow_md_release_snap(pool->md);
	mutex_unlock(&pool->lock);
	if (r == -EBUSY)
		DMERR("%s: a metadata snapshot is held already (release it first)",
		      verb);
	else if (r == -ENODATA)
		DMERR("%s: no metadata snapshot is held", verb);
	else if (r == -EIO)
		DMERR("%s: the store has failed", verb);
	else if (r == -EOPNOTSUPP)
		DMERR("%s: a %s store takes no metadata snapshot (it has no exceptions to read)",
		      verb, pool->type->name);
	else if (r)
		DMERR("%s: failed (error %d)", verb, r);
	else if (reserve)
		DMINFO("metadata snapshot held at block %llu", root);
	return r;
}

/*
 * Messages:
 *   create <id>     new snapshot; only while the origin is suspended
 *   delete <id>     delete a snapshot and free the chunks only it used
 *   revert <id>     roll the origin back to a snapshot, in the background;
 *                   only while the origin is suspended
 *   list            print the snapshots, one per line
 *   limit <chunks>  let the store use at most <chunks> data chunks (0: all)
 *   thresholds <pct>...|none
 *                   raise an event when the chunks in use pass these
 *                   percentages of the limit (default 80 90)
 *   thresholds      print them
 *   reserve_metadata_snap
 *                   keep a read-only copy of the metadata for userspace
 *   release_metadata_snap
 *                   drop it
 *   fold_rate <MiB/s>
 *                   row stores: how fast fold-back may copy (0: no limit)
 *   hydrate_rate <MiB/s>
 *                   clone stores: how fast hydration may copy (0: no limit)
 *   detach <id>     clone stores: forget a complete clone, whose target is
 *                   a plain copy from then on
 */
static int shadow_origin_message(struct dm_target *ti, unsigned int argc,
				 char **argv, char *result,
				 unsigned int maxlen)
{
	struct shadow_origin_c *oc = ti->private;
	struct shadow_pool *pool = oc->pool;
	u64 id = 0;
	int r;

	if (argc == 1 && !strcasecmp(argv[0], "list")) {
		mutex_lock(&pool->lock);
		shadow_origin_msg_list(pool, result, maxlen);
		mutex_unlock(&pool->lock);
		return 1;
	}
	if (argc == 1 && (!strcasecmp(argv[0], "reserve_metadata_snap") ||
			  !strcasecmp(argv[0], "release_metadata_snap")))
		return shadow_origin_msg_metadata_snap(pool, argv[0]);
	if (!strcasecmp(argv[0], "thresholds")) {
		if (argc > 1)
			return shadow_origin_msg_thresholds(pool, argc - 1,
							    argv + 1);
		mutex_lock(&pool->lock);
		shadow_usage_emit_thresholds(pool, result, maxlen);
		mutex_unlock(&pool->lock);
		return 1;
	}
	if (pool->type->message) {
		mutex_lock(&pool->lock);
		r = pool->type->message(pool, argc, argv);
		mutex_unlock(&pool->lock);
		if (r != -EOPNOTSUPP)
			return r;
	}
	if (argc != 2 || shadow_parse_id(argv[1], &id)) {
		DMERR("message: expected 'create <id>', 'delete <id>', 'revert <id>', 'limit <chunks>', 'thresholds [<pct>...]', 'reserve_metadata_snap', 'release_metadata_snap', 'list', (row stores) 'fold_rate <MiB/s>' or (clone stores) 'hydrate_rate <MiB/s>', 'detach <id>'");
		return -EINVAL;
	}
	mutex_lock(&pool->lock);
	if (!strcasecmp(argv[0], "create")) {
		r = shadow_origin_msg_create(ti, pool, id);
	} else if (!strcasecmp(argv[0], "delete")) {
		r = shadow_origin_msg_delete(pool, id);
	} else if (!strcasecmp(argv[0], "revert")) {
		r = shadow_origin_msg_revert(ti, pool, id);
	} else if (!strcasecmp(argv[0], "limit")) {
		r = shadow_origin_msg_limit(pool, id);
	} else {
		DMERR("message: unknown message '%s'", argv[0]);
		r = -EINVAL;
	}
	shadow_usage_check(pool);
	mutex_unlock(&pool->lock);
	/*
	 * A delete answers once the chunks it freed are free, so that what
	 * the status says next is true; origin I/O goes on meanwhile (the
	 * reclaim drops pool->lock between its batches).  Not where reclaim
	 * is fold-back, which can take hours: a resume that swaps in a new
	 * table waits for the messages in progress.
	 */
	if (!r && !strcasecmp(argv[0], "delete") &&
	    !pool->type->reclaim_folds_back)
		shadow_pool_wait_reclaim(pool);
	return r;
}

/*
 * Status:
 *   <store_type> <chunk_sectors> <used_chunks>/<limit_chunks>
 *   <snapshots>/<max_snapshots> <invalid_snapshots> rw|fail <data_chunks>
 *   <metadata_used>/<metadata_blocks> <transaction_id> -|needs_check
 *   -|<held_metadata_root> -|<revert_id> -|<revert_cursor>/<origin_chunks>
 *   -|<fold_cursor>/<origin_chunks> -|<fold_rate>
 * limit_chunks is what the store may use (the whole store unless limited),
 * data_chunks what it holds.  Fields are only ever appended.
 * A clone store's follow (its fold fields are -): <hydrate_rate> <clones>
 * and per clone <id> hydrating|complete|failed <copied>/<origin_chunks>.
 * Table:
 *   <origin_dev> <store_dev> <store_type> <chunk_sectors> <#features>
 *   [clone_target <id> <dev>]... [hydrate_rate <MiB/s>]
 */
static void shadow_origin_status(struct dm_target *ti, status_type_t type,
				 unsigned int status_flags, char *result,
				 unsigned int maxlen)
{
	struct shadow_origin_c *oc = ti->private;
	struct shadow_pool *pool = oc->pool;
	unsigned int sz = 0, i;
	u64 md_used, md_total;

	switch (type) {
	case STATUSTYPE_INFO:
		mutex_lock(&pool->lock);
		shadow_md_metadata_usage(pool->md, &md_used, &md_total);
		DMEMIT("%s %u %llu/%llu %u/%u %u %s %llu %llu/%llu %llu %s ",
		       pool->type->name,
		       pool->chunk_sectors, shadow_md_used_chunks(pool->md),
		       shadow_md_data_limit(pool->md), pool->nr_snaps,
		       SHADOW_MAX_SNAPSHOTS, pool->nr_invalid,
		       pool->failed ? "fail" : "rw",
		       shadow_md_nr_data_chunks(pool->md), md_used, md_total,
		       shadow_md_trans_id(pool->md),
		       shadow_md_needs_check(pool->md) ? "needs_check" : "-");
		if (shadow_md_held_root(pool->md))
			DMEMIT("%llu", shadow_md_held_root(pool->md));
		else
			DMEMIT("-");
		shadow_revert_status(pool, result, maxlen, &sz);
		if (pool->type->status)
			pool->type->status(pool, result, maxlen, &sz);
		else
			DMEMIT(" - -");
		mutex_unlock(&pool->lock);
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s %s %u %u", oc->origin->name, oc->store->name,
		       pool->type->name, pool->chunk_sectors,
		       oc->args.nr * 3 + oc->args.hydrate_rate_set * 2);
		for (i = 0; i < oc->args.nr; i++)
			DMEMIT(" clone_target %llu %s", oc->args.t[i].id,
			       oc->args.t[i].dev->name);
		if (oc->args.hydrate_rate_set)
			DMEMIT(" hydrate_rate %u", oc->args.hydrate_rate);
		break;
	default:
		break;
	}
}

static int shadow_origin_iterate_devices(struct dm_target *ti,
					 iterate_devices_callout_fn fn,
					 void *data)
{
	struct shadow_origin_c *oc = ti->private;

	return fn(ti, oc->origin, 0, ti->len, data);
}

struct target_type shadow_origin_target = {
	.name = "shadow-origin",
	/*
	 * 2.0: format version 2 (dm-persistent-data); status fields added.
	 * 2.1: the revert message and the two revert status fields.
	 * 2.2: the row store type.
	 * 2.3: revert on row stores.
	 * 2.4: the clone store type: clone_target, hydrate_rate, detach.
	 */
	.version = {2, 5, 0},
	.module = THIS_MODULE,
	.ctr = shadow_origin_ctr,
	.dtr = shadow_origin_dtr,
	.map = shadow_origin_map,
	.end_io = shadow_origin_end_io,
	.postsuspend = shadow_origin_postsuspend,
	.preresume = shadow_origin_preresume,
	.resume = shadow_origin_resume,
	.message = shadow_origin_message,
	.status = shadow_origin_status,
	.iterate_devices = shadow_origin_iterate_devices,
};
