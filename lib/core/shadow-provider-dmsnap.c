/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dm-snapshot provider: the kernel's stock snapshot targets, used the
 * way LVM uses them, for when dm-shadow.ko is not there.  The volume is a
 * snapshot-origin over its device.  A copy is a device of its own,
 * <volume>-snap, with the table "snapshot <origin> <store> P <chunk>":
 * the whole store is that one snapshot's exception store, so a volume
 * has at most one copy at a time (dm-snapshot keeps one snapshot per
 * store).  The copy's device is loaded while the volume is suspended,
 * and removed while it is suspended again, as dm-snapshot requires.
 * When the store fills, the kernel marks the snapshot "Invalid" and the
 * volume goes on; the copy then shows as invalid.
 *
 * A copy is exposed as a linear device over its <volume>-snap device;
 * <volume>-snap itself is private (no udev disk rules, no blkid).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "shadow-ctx.h"
#include "shadow-format.h"
#include "shadow-kernel.h"
#include "shadow-tables.h"

/* dm-snapshot's persistent store header starts with "SnAp" (SNAP_MAGIC). */
static const char dmsnap_magic[4] = { 'S', 'n', 'A', 'p' };

/* Header chunk, one metadata area, one data chunk. */
#define DMSNAP_MIN_CHUNKS 3

/* The volume's origin device ("<major>:<minor>") and size, from its table. */
static int volume_origin(const struct shadow_volume *v, char *origin, size_t size,
			 uint64_t *ret_sectors)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 };
	int r;

	r = shadow_dm_get_table(v->dm_name, true, &t);
	if (r < 0)
		return r;
	if (t.n != 1 || strcmp(t.targets[0].type, "snapshot-origin") != 0)
		return -EMEDIUMTYPE;
	r = parse_first_word(t.targets[0].params, origin, size);
	if (r < 0)
		return r;
	*ret_sectors = t.targets[0].length;
	return 0;
}

/*
 * The device @v's copy lives in: its name, its info, and the snapshot id
 * its uuid carries.  Returns 1 when it exists and is ours, 0 when there
 * is none (or a device of that name that is not ours).
 */
static int copy_device(const struct shadow_volume *v, char *name, size_t size,
		       struct shadow_dm_info *info, uint64_t *ret_id)
{
	int r;

	r = dmsnap_copy_name(name, size, v->dm_name);
	if (r < 0)
		return r;
	r = shadow_dm_info(name, info);
	if (r < 0)
		return r;
	if (!info->exists || dmsnap_parse_copy_uuid(info->uuid, v->name, ret_id) < 0)
		return 0;
	return 1;
}

/*
 * A store is used whole and re-initialised for every copy, so anything
 * on it other than an old dm-snapshot header would be lost: refused, as
 * dm-shadow refuses a store that is not its own.
 */
static int dmsnap_check_store(shadow_ctx *ctx, const char *store, uint64_t origin_sectors,
			      const char *method, uint32_t chunk_sectors)
{
	uint8_t block[512];
	uint64_t store_sectors, need = (uint64_t)DMSNAP_MIN_CHUNKS * chunk_sectors;
	int r;

	r = provider_read_store_head(ctx, store, block, &store_sectors);
	if (r < 0)
		return r;
	if (!shadow_block_is_zero(block) && memcmp(block, dmsnap_magic, sizeof(dmsnap_magic)) != 0)
		return ctx_fail(ctx, -EINVAL,
				"use the store %s: it holds data that is not a dm-snapshot store; "
				"zero its first sector to use it", store);
	if (store_sectors < need)
		return ctx_fail(ctx, -ENOSPC,
				"use the store %s: too small (%" PRIu64 " KiB) for dm-snapshot with %" PRIu32
				" KiB chunks; it needs at least %" PRIu64 " KiB",
				store, store_sectors / 2, chunk_sectors / 2, need / 2);
	return 0;
}

static int dmsnap_origin_table(struct shadow_dm_table *t, uint64_t sectors, dev_t origin,
			       dev_t store, const struct origin_spec *s)
{
	char params[64];
	int r;

	r = dmsnap_origin_params(params, sizeof(params), origin);
	if (r < 0)
		return r;
	return shadow_dm_table_add(t, 0, sectors, "snapshot-origin", params);
}

static int dmsnap_can_create(shadow_ctx *ctx, const struct shadow_volume *v, const char *target)
{
	struct shadow_dm_info info;
	char name[160];
	int r;

	for (size_t i = 0; i < ctx->cat.n_copies; i++)
		if (shadow_copy_in_store(ctx->cat.copies[i], v->name))
			return ctx_fail(ctx, -EBUSY,
					"create the set: volume %s uses dm-snapshot, which keeps one snapshot per store, "
					"and shadow %" PRIu64 " has it (delete that one first)",
					v->name, ctx->cat.copies[i]->id);
	r = dmsnap_copy_name(name, sizeof(name), v->dm_name);
	if (r == 0)
		r = shadow_dm_info(name, &info);
	if (r < 0)
		return ctx_fail(ctx, r, "create the set: volume %s, look up its snapshot device", v->name);
	if (info.exists)
		return ctx_fail(ctx, -EEXIST, "create the set: volume %s: a device-mapper device named %s exists",
				v->name, name);
	return 0;
}

/*
 * A new snapshot needs a store whose header is not dm-snapshot's: the
 * target would otherwise take the last copy's exceptions as its own.
 * Cleared before the freeze (it is I/O), bypassing the page cache, since
 * the kernel reads the header from the disk.
 */
static int dmsnap_prepare(shadow_ctx *ctx, const struct shadow_volume *v,
			  const struct shadow_copy *c)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ void *zero = NULL;
	const size_t len = 4096;

	if (posix_memalign(&zero, len, len) != 0)
		return -ENOMEM;
	memset(zero, 0, len);
	fd = open(v->store, O_WRONLY | O_EXCL | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return ctx_fail(ctx, negative_errno(),
				"create the set: volume %s, open its store %s exclusively (in use?)",
				v->name, v->store);
	if (pwrite(fd, zero, len, 0) != (ssize_t)len || fsync(fd) < 0)
		return ctx_fail(ctx, errno > 0 ? -errno : -EIO,
				"create the set: volume %s, clear the header of its store %s",
				v->name, v->store);
	return 0;
}

static int dmsnap_create(shadow_ctx *ctx, const struct shadow_volume *v,
			 const struct shadow_copy *c)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 };
	char origin[64], params[160], name[160], uuid[160];
	uint64_t sectors;
	dev_t store;
	int r;

	r = volume_origin(v, origin, sizeof(origin), &sectors);
	if (r == 0)
		r = block_device(v->store, &store, NULL);
	if (r == 0)
		r = dmsnap_snapshot_params(params, sizeof(params), origin, store, v->chunk_sectors);
	if (r == 0)
		r = shadow_dm_table_add(&t, 0, sectors, "snapshot", params);
	if (r == 0)
		r = dmsnap_copy_name(name, sizeof(name), v->dm_name);
	if (r == 0)
		r = dmsnap_copy_uuid(uuid, sizeof(uuid), v->name, c->snapshot);
	if (r < 0)
		return r;
	return shadow_dm_create(name, uuid, &t, SHADOW_DM_PRIVATE);
}

static int dmsnap_remove(shadow_ctx *ctx, const struct shadow_volume *v, uint64_t snapshot)
{
	struct shadow_dm_info info, vinfo;
	bool suspended = false;
	char name[160];
	uint64_t id;
	int r, k;

	r = copy_device(v, name, sizeof(name), &info, &id);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	if (id != snapshot)
		return -ENOENT;
	/* No lockfs: the origin only has to be still, not consistent. */
	r = shadow_dm_info(v->dm_name, &vinfo);
	if (r == 0 && vinfo.exists && !vinfo.suspended) {
		r = shadow_dm_suspend(v->dm_name, false);
		suspended = r == 0;
	}
	if (r < 0)
		return r;
	r = shadow_dm_remove(name);
	if (suspended) {
		k = shadow_dm_resume(v->dm_name);
		if (k < 0)
			ctx_log(ctx, SHADOW_LOG_ERR, "volume %s stays suspended: resume failed (%s)",
				v->name, strerror(-k));
	}
	return r;
}

static int dmsnap_expose_table(shadow_ctx *ctx, const struct shadow_volume *v,
			       const struct shadow_copy *c, bool writable,
			       struct shadow_dm_table *ret)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 };
	struct shadow_dm_info info;
	char name[160], params[64];
	uint64_t id;
	int r;

	r = copy_device(v, name, sizeof(name), &info, &id);
	if (r < 0)
		return ctx_fail(ctx, r, "expose shadow %" PRIu64 ": look up its snapshot device", c->id);
	if (r == 0 || id != c->snapshot || !info.live_table)
		return ctx_fail(ctx, -ENODEV, "expose shadow %" PRIu64 ": its snapshot device %s is not there",
				c->id, name);
	r = shadow_dm_get_table(name, true, &t);
	if (r == 0 && t.n != 1)
		r = -EMEDIUMTYPE;
	if (r == 0)
		r = linear_params(params, sizeof(params), makedev(info.major, info.minor));
	if (r < 0)
		return ctx_fail(ctx, r, "expose shadow %" PRIu64 ": read the table of %s", c->id, name);
	return shadow_dm_table_add(ret, 0, t.targets[0].length, "linear", params);
}

/* The snapshot target's status, when @name has a live table. */
static int copy_status(const char *name, struct dmsnap_status *ret)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 };
	int r;

	r = shadow_dm_get_table(name, false, &t);
	if (r < 0)
		return r;
	if (t.n != 1 || strcmp(t.targets[0].type, "snapshot") != 0)
		return -EMEDIUMTYPE;
	return dmsnap_parse_status(t.targets[0].params, ret);
}

static int dmsnap_storage(shadow_ctx *ctx, const struct shadow_volume *v,
			  struct shadow_storage *ret)
{
	struct shadow_storage s = { .max_snapshots = 1 };
	struct shadow_dm_info info;
	struct dmsnap_status st;
	uint64_t store_sectors, id;
	char name[160];
	int r;

	r = block_device(v->store, NULL, &store_sectors);
	if (r < 0)
		return ctx_fail(ctx, r, "read the store %s of volume %s", v->store, v->name);
	s.total_chunks = store_sectors / v->chunk_sectors;
	r = copy_device(v, name, sizeof(name), &info, &id);
	if (r < 0)
		return ctx_fail(ctx, r, "read the status of volume %s", v->name);
	if (r > 0) {
		s.snapshots = 1;
		if (!info.live_table || copy_status(name, &st) < 0 || !st.valid) {
			s.invalid = 1;
		} else {
			s.used_chunks = shadow_div_round_up(st.allocated_sectors, v->chunk_sectors);
			s.total_chunks = st.total_sectors / v->chunk_sectors;
		}
	}
	*ret = s;
	return 0;
}

static int dmsnap_list(shadow_ctx *ctx, const struct shadow_volume *v,
		       struct shadow_list_entry **ret, unsigned int *ret_n)
{
	struct shadow_list_entry *e;
	struct shadow_dm_info info;
	struct dmsnap_status st;
	char name[160];
	uint64_t id;
	int r;

	r = copy_device(v, name, sizeof(name), &info, &id);
	if (r < 0)
		return r;
	if (r == 0) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	/* The kernel keeps no creation time; a device without a table is a leftover. */
	*e = (struct shadow_list_entry) {
		.id = id,
		.ctime = (uint64_t)now_realtime(),
		.valid = info.live_table && copy_status(name, &st) == 0 && st.valid,
	};
	*ret = e;
	*ret_n = 1;
	return 0;
}

/*
 * activate: the copy's device again, over its store, whose persistent
 * exceptions the target reads back (its header is dm-snapshot's, since
 * activate refuses a blank store of a volume with copies), loaded while
 * the volume is suspended as create does.
 */
static int dmsnap_reload(shadow_ctx *ctx, const struct shadow_volume *v,
			 const struct shadow_copy *c)
{
	int r, k;

	r = shadow_dm_suspend(v->dm_name, false);
	if (r < 0)
		return r;
	r = dmsnap_create(ctx, v, c);
	k = shadow_dm_resume(v->dm_name);
	return r < 0 ? r : k;
}

/* deactivate: the copy's device goes; its store keeps it for reload. */
static int dmsnap_unload(shadow_ctx *ctx, const struct shadow_volume *v,
			 const struct shadow_copy *c)
{
	return dmsnap_remove(ctx, v, c->snapshot);
}

const struct shadow_provider_ops shadow_provider_dmsnap = {
	.name = "dm-snapshot",
	.module = "dm-snapshot",
	.origin_target = "snapshot-origin",
	.methods = "cow",
	.copy_target = "snapshot",
	.check_store = dmsnap_check_store,
	.origin_table = dmsnap_origin_table,
	.can_create = dmsnap_can_create,
	.prepare = dmsnap_prepare,
	.create = dmsnap_create,
	.remove = dmsnap_remove,
	.expose_table = dmsnap_expose_table,
	.storage = dmsnap_storage,
	.list = dmsnap_list,
	.reload = dmsnap_reload,
	.unload = dmsnap_unload,
};
