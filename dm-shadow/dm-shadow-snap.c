// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shadow-snap target: one snapshot of a shadow-origin as a device of
 * its own.  Only the snapshots someone wants to read get one; the others
 * exist only in the store.
 */
#include "dm-shadow.h"
#include "dm-shadow-format.h"

#include <linux/kernel.h>
#include <linux/module.h>

struct shadow_snap_c {
	struct dm_dev *origin;		/* the device under the shadow-origin */
	struct dm_dev *store;		/* held while we use the pool */
	struct dm_dev *data;		/* a clone's target, or NULL */
	struct shadow_pool *pool;
	struct shadow_snap *snap;
	bool writable;
};

static int shadow_snap_parse_features(struct dm_target *ti,
				      struct shadow_snap_c *sc,
				      unsigned int argc, char **argv)
{
	unsigned int n, i;

	if (!argc)
		return 0;
	if (kstrtouint(argv[0], 10, &n) || n != argc - 1) {
		ti->error = "feature count does not match the features given";
		return -EINVAL;
	}
	for (i = 1; i <= n; i++) {
		if (!strcasecmp(argv[i], "writable")) {
			sc->writable = true;
		} else {
			ti->error = "unknown feature";
			return -EINVAL;
		}
	}
	return 0;
}

/* Claim the snapshot for this target, under pool->lock. */
static int shadow_snap_attach(struct dm_target *ti, struct shadow_snap_c *sc,
			      u64 id)
{
	struct shadow_pool *pool = sc->pool;
	struct shadow_snap *s = shadow_snapset_find(pool, id);

	if (!s) {
		ti->error = "no snapshot with this id";
		return -ENOENT;
	}
	if (s->state != SHADOW_SNAP_VALID) {
		ti->error = "snapshot is invalid (dropped when the store filled, or a failed clone)";
		return -EINVAL;
	}
	if (sc->writable && pool->type->snaps_read_only) {
		ti->error = "a clone is read-only: detach it for a writable device";
		return -EROFS;
	}
	if (sc->writable && (s->flags & SHADOW_SNAPF_SEALED)) {
		ti->error = "snapshot is sealed and cannot be opened writable";
		return -EROFS;
	}
	if (sc->writable && s->writable) {
		ti->error = "snapshot is already open writable";
		return -EBUSY;
	}
	s->open_count++;
	if (sc->writable)
		s->writable = true;
	sc->snap = s;
	return 0;
}

/* Give the snapshot back, under pool->lock. */
static void shadow_snap_release(struct shadow_snap_c *sc)
{
	struct shadow_snap *s = sc->snap;

	s->open_count--;
	if (sc->writable)
		s->writable = false;
	if (!s->open_count)
		WRITE_ONCE(s->bdev, NULL);
}

/*
 * A snapshot whose data is on a device of its own (a clone's target):
 * hold that device while we read it, as we hold the store.
 */
static int shadow_snap_hold_data(struct dm_target *ti,
				 struct shadow_snap_c *sc)
{
	struct shadow_pool *pool = sc->pool;
	char name[16];
	dev_t dev;
	int r;

	if (!pool->type->snap_dev)
		return 0;
	mutex_lock(&pool->lock);
	r = pool->type->snap_dev(pool, sc->snap, &dev);
	mutex_unlock(&pool->lock);
	if (r) {
		ti->error = "the origin's table names no device for this clone";
		return r;
	}
	format_dev_t(name, dev);
	r = dm_get_device(ti, name, dm_table_get_mode(ti->table), &sc->data);
	if (r) {
		ti->error = "cannot open the clone's target device";
		return r;
	}
	mutex_lock(&pool->lock);
	WRITE_ONCE(sc->snap->bdev, sc->data->bdev);
	mutex_unlock(&pool->lock);
	return 0;
}

/*
 * shadow-snap <origin_dev> <snapshot_id> [<#features> <feature>*]
 *
 * origin_dev: the origin device of a loaded shadow-origin (the one named
 * in its table, not its mapped device, which a mounted file system holds
 * exclusively).  Feature: writable (a
 * private, writable view for auto-recovery, until sealed).  The target is
 * as long as the origin but may start anywhere, so one device can show
 * several snapshots side by side.
 */
static int shadow_snap_ctr(struct dm_target *ti, unsigned int argc,
			   char **argv)
{
	char store_name[16];
	struct shadow_snap_c *sc;
	u64 id;
	int r;

	if (argc < 2) {
		ti->error = "expected <origin_dev> <snapshot_id> [<#features> <feature>*]";
		return -EINVAL;
	}
	if (kstrtou64(argv[1], 10, &id)) {
		ti->error = "snapshot id must be a decimal number";
		return -EINVAL;
	}
	sc = kzalloc(sizeof(*sc), GFP_KERNEL);
	if (!sc) {
		ti->error = "cannot allocate snapshot context";
		return -ENOMEM;
	}
	r = shadow_snap_parse_features(ti, sc, argc - 2, argv + 2);
	if (r)
		goto bad_origin;
	r = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table),
			  &sc->origin);
	if (r) {
		ti->error = "cannot open the origin device";
		goto bad_origin;
	}
	sc->pool = shadow_pool_find_by_origin(sc->origin->bdev->bd_dev);
	if (!sc->pool) {
		ti->error = "device is not the origin of a loaded shadow-origin";
		r = -EINVAL;
		goto bad_pool;
	}
	r = -EINVAL;
	if (ti->len != sc->pool->origin_sectors) {
		ti->error = "target must be exactly as long as the origin";
		goto bad_store;
	}
	/*
	 * The pool outlives its origin table while we use it: hold its store
	 * device ourselves, so that it cannot go away under us.
	 */
	format_dev_t(store_name, sc->pool->store_devt);
	r = dm_get_device(ti, store_name, dm_table_get_mode(ti->table),
			  &sc->store);
	if (r) {
		ti->error = "cannot open the store device";
		goto bad_store;
	}
	mutex_lock(&sc->pool->lock);
	r = shadow_snap_attach(ti, sc, id);
	mutex_unlock(&sc->pool->lock);
	if (r)
		goto bad_attach;
	r = shadow_snap_hold_data(ti, sc);
	if (r)
		goto bad_io_len;

	r = dm_set_target_max_io_len(ti, sc->pool->chunk_sectors);
	if (r) {
		ti->error = "cannot set the maximum I/O size";
		goto bad_io_len;
	}
	ti->num_flush_bios = 1;
	ti->per_io_data_size = sizeof(struct shadow_bio_ctx);
	ti->private = sc;
	return 0;

bad_io_len:
	mutex_lock(&sc->pool->lock);
	shadow_snap_release(sc);
	mutex_unlock(&sc->pool->lock);
	if (sc->data)
		dm_put_device(ti, sc->data);
bad_attach:
	dm_put_device(ti, sc->store);
bad_store:
	shadow_pool_put(sc->pool, NULL);
bad_pool:
	dm_put_device(ti, sc->origin);
bad_origin:
	kfree(sc);
	return r;
}

static void shadow_snap_dtr(struct dm_target *ti)
{
	struct shadow_snap_c *sc = ti->private;

	mutex_lock(&sc->pool->lock);
	shadow_snap_release(sc);
	mutex_unlock(&sc->pool->lock);
	if (sc->data)
		dm_put_device(ti, sc->data);
	shadow_pool_put(sc->pool, NULL);
	dm_put_device(ti, sc->store);
	dm_put_device(ti, sc->origin);
	kfree(sc);
}

static int shadow_snap_map(struct dm_target *ti, struct bio *bio)
{
	struct shadow_snap_c *sc = ti->private;
	struct shadow_pool *pool = sc->pool;
	struct shadow_bio_ctx *ctx = dm_per_bio_data(bio, sizeof(*ctx));
	bool write = op_is_write(bio_op(bio));

	ctx->snap = sc->snap;
	ctx->tracked = false;
	ctx->counted = false;
	/* The origin table went away under us: nothing left to read. */
	if (!READ_ONCE(pool->origin_refs))
		return DM_MAPIO_KILL;
	/* Only the snapshot's private chunks can need flushing. */
	if (!bio_sectors(bio)) {
		bio_set_dev(bio, pool->store_bdev);
		return DM_MAPIO_REMAPPED;
	}
	if (write && !READ_ONCE(sc->writable))
		return DM_MAPIO_KILL;

	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	ctx->chunk = shadow_chunk_of(pool, bio->bi_iter.bi_sector);
	return shadow_pool_map_snap(pool, sc->snap, bio);
}

static int shadow_snap_end_io(struct dm_target *ti, struct bio *bio,
			      blk_status_t *error)
{
	struct shadow_snap_c *sc = ti->private;

	shadow_pool_bio_done(sc->pool, dm_per_bio_data(bio,
				 sizeof(struct shadow_bio_ctx)));
	return DM_ENDIO_DONE;
}

/*
 * Messages:
 *   seal   make the snapshot read-only for good (ends auto-recovery)
 */
static int shadow_snap_message(struct dm_target *ti, unsigned int argc,
			       char **argv, char *result,
			       unsigned int maxlen)
{
	struct shadow_snap_c *sc = ti->private;
	int r;

	if (argc != 1 || strcasecmp(argv[0], "seal")) {
		DMERR("message: expected 'seal'");
		return -EINVAL;
	}
	mutex_lock(&sc->pool->lock);
	WRITE_ONCE(sc->writable, false);
	sc->snap->writable = false;
	r = shadow_snapset_seal(sc->pool, sc->snap);
	/* Writes already past the map function finish before we answer. */
	shadow_pool_wait_snap_io(sc->pool);
	mutex_unlock(&sc->pool->lock);
	if (r)
		DMERR("seal %llu: failed (error %d)", sc->snap->id, r);
	return r;
}

/*
 * Status:  <snapshot_id> valid|invalid ro|rw|sealed
 * Table:   <origin_dev> <snapshot_id> [1 writable]
 */
static void shadow_snap_status(struct dm_target *ti, status_type_t type,
			       unsigned int status_flags, char *result,
			       unsigned int maxlen)
{
	struct shadow_snap_c *sc = ti->private;
	struct shadow_snap *s = sc->snap;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		mutex_lock(&sc->pool->lock);
		DMEMIT("%llu %s %s", s->id,
		       s->state == SHADOW_SNAP_VALID ? "valid" : "invalid",
		       (s->flags & SHADOW_SNAPF_SEALED) ? "sealed" :
		       sc->writable ? "rw" : "ro");
		mutex_unlock(&sc->pool->lock);
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %llu", sc->origin->name, s->id);
		if (sc->writable)
			DMEMIT(" 1 writable");
		break;
	default:
		break;
	}
}

static int shadow_snap_iterate_devices(struct dm_target *ti,
				       iterate_devices_callout_fn fn,
				       void *data)
{
	struct shadow_snap_c *sc = ti->private;

	return fn(ti, sc->origin, 0, ti->len, data);
}

struct target_type shadow_snap_target = {
	.name = "shadow-snap",
	/* 1.1: <origin_dev> is the device under the shadow-origin. */
	.version = {1, 1, 0},
	.module = THIS_MODULE,
	.ctr = shadow_snap_ctr,
	.dtr = shadow_snap_dtr,
	.map = shadow_snap_map,
	.end_io = shadow_snap_end_io,
	.message = shadow_snap_message,
	.status = shadow_snap_status,
	.iterate_devices = shadow_snap_iterate_devices,
};
