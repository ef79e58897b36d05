/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dm-shadow provider: our own targets (dm-shadow(7)).  The volume is
 * a shadow-origin over its device and its store; every snapshot of the
 * volume lives in that one store, made by the message "create <id>"
 * while the volume is suspended and dropped by "delete <id>"; a copy is
 * read through a shadow-snap device.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

#include "shadow-clone.h"
#include "shadow-ctx.h"
#include "shadow-origin.h"
#include "shadow-store.h"
#include "shadow-tables.h"

/*
 * A blank store is formatted by the target for the table's store type: a
 * cow or row store needs room for its metadata and one data chunk, a
 * clone store for metadata only (its clones are on their targets), and
 * its origin at most SHADOW_MAX_CLONE_CHUNKS chunks.
 */
static int check_blank_store(shadow_ctx *ctx, const char *store, uint64_t store_sectors,
			     uint64_t origin_sectors, const char *method, uint32_t chunk_sectors)
{
	bool clone = strcmp(method, "clone") == 0;
	/* The data area does not depend on the origin's size. */
	uint64_t need = clone ? shadow_layout_min_clone_sectors(chunk_sectors) :
				shadow_layout_min_sectors(chunk_sectors);

	uint64_t chunks = shadow_div_round_up(origin_sectors, chunk_sectors);

	if (clone && chunks > SHADOW_MAX_CLONE_CHUNKS)
		return ctx_fail(ctx, -EINVAL,
				"use the store %s: a clone store's origin has at most %llu chunks, and "
				"this one has %" PRIu64 " of %u KiB; give a larger chunk size",
				store, SHADOW_MAX_CLONE_CHUNKS, chunks, chunk_sectors / 2);
	if (store_sectors < need)
		return ctx_fail(ctx, -ENOSPC,
				"use the store %s: too small (%" PRIu64 " KiB) for %s origin of %" PRIu64
				" KiB; it needs at least %" PRIu64 " KiB",
				store, store_sectors / 2, clone ? "a clone store (metadata only) of an" : "an",
				origin_sectors / 2, (need + 1) / 2);
	return 0;
}

/*
 * The target formats only an all-zero first sector, so nothing is ever
 * overwritten, but its refusal is terse: too small, in use, or holding
 * something that is not a dm-shadow store of this method, chunk size and
 * origin get a precise message here.
 */
static int dmshadow_check_store(shadow_ctx *ctx, const char *store, uint64_t origin_sectors,
				const char *method, uint32_t chunk_sectors)
{
	_cleanup_(shadow_store_freep) struct shadow_store *s = NULL;
	struct shadow_error err = { 0 };
	const struct shadow_superblock *sb;
	const char *type;
	uint8_t block[512];
	uint64_t store_sectors;
	int r;

	r = provider_read_store_head(ctx, store, block, &store_sectors);
	if (r < 0)
		return r;
	if (shadow_block_is_zero(block))
		return check_blank_store(ctx, store, store_sectors, origin_sectors, method,
					 chunk_sectors);
	r = shadow_store_open(store, &s, &err);
	if (r < 0)
		return ctx_fail(ctx, -EINVAL,
			    "use the store %s: it holds data that is not a dm-shadow store (%s); "
			    "zero its first sector to use it", store, err.msg);
	sb = shadow_store_sb(s);
	type = shadow_store_type_name(sb->store_type);
	if (!type || strcmp(type, method) != 0)
		return ctx_fail(ctx, -EINVAL,
				"use the store %s: it is a %s store, not a %s store",
				store, type ? type : "unknown", method);
	if (sb->chunk_sectors != chunk_sectors)
		return ctx_fail(ctx, -EINVAL,
			    "use the store %s: it was formatted with a chunk size of %u KiB",
			    store, sb->chunk_sectors / 2);
	if (sb->origin_sectors != origin_sectors)
		return ctx_fail(ctx, -EINVAL,
			    "use the store %s: it belongs to an origin of %" PRIu64 " sectors, not %" PRIu64,
			    store, sb->origin_sectors, origin_sectors);
	return 0;
}

static int dmshadow_origin_table(struct shadow_dm_table *t, uint64_t sectors, dev_t origin,
				 dev_t store, const struct origin_spec *s)
{
	_cleanup_free_ char *params = malloc(SHADOW_ORIGIN_PARAMS_MAX);
	int r;

	if (!params)
		return -ENOMEM;
	r = dmshadow_volume_params(params, SHADOW_ORIGIN_PARAMS_MAX, origin, store, s);
	if (r < 0)
		return r;
	return shadow_dm_table_add(t, 0, sectors, "shadow-origin", params);
}

/* A clone store holds 8 clones at most, each on a target checked first. */
static int can_create_clone(shadow_ctx *ctx, const struct shadow_volume *v,
			    const struct shadow_origin_status *st, const char *target)
{
	if (st->n_clones >= SHADOW_STATUS_MAX_CLONES)
		return ctx_fail(ctx, -ENOSPC, "create the set: volume %s has %u clones, the most a "
				"clone store holds; delete or detach one first", v->name, st->n_clones);
	return clone_check_target(ctx, v, target);
}

static int dmshadow_can_create(shadow_ctx *ctx, const struct shadow_volume *v, const char *target)
{
	struct shadow_origin_status st;
	int r;

	r = origin_status(v->dm_name, &st, NULL);
	if (r < 0)
		return ctx_fail(ctx, r, "create the set: volume %s, read its status", v->name);
	if (st.failed)
		return ctx_fail(ctx, -EIO, "create the set: volume %s, its store has failed", v->name);
	if (st.snapshots >= st.max_snapshots)
		return ctx_fail(ctx, -ENOSPC, "create the set: volume %s has %u snapshots, its store's maximum",
				v->name, st.snapshots);
	if (strcmp(v->method, "clone") == 0)
		return can_create_clone(ctx, v, &st, target);
	return 0;
}

/* A clone's target goes in the volume's table before the freeze: create needs it there. */
static int dmshadow_prepare(shadow_ctx *ctx, const struct shadow_volume *v,
			    const struct shadow_copy *c)
{
	int r;

	if (!shadow_copy_is_clone(c))
		return 0;
	r = clone_reload(ctx, v, 0);
	if (r < 0)
		return ctx_fail(ctx, r, "create the set: volume %s, load its table with the target %s "
				"of clone %" PRIu64 "%s", v->name, c->target, c->snapshot,
				r == -EINVAL ? " (see the kernel log)" : "");
	return 0;
}

/* Once the kernel has no clone @snapshot, its table lets its target go. */
static int dmshadow_release(shadow_ctx *ctx, const struct shadow_volume *v, uint64_t snapshot)
{
	if (strcmp(v->method, "clone") != 0)
		return 0;
	return clone_reload(ctx, v, snapshot);
}

static int dmshadow_create(shadow_ctx *ctx, const struct shadow_volume *v,
			   const struct shadow_copy *c)
{
	return snap_message(v->dm_name, "create", c->snapshot);
}

static int dmshadow_remove(shadow_ctx *ctx, const struct shadow_volume *v, uint64_t snapshot)
{
	return snap_message(v->dm_name, "delete", snapshot);
}

/*
 * shadow-snap names the origin device of the shadow-origin table (its
 * first argument, as the kernel prints it back), not the mapped device
 * that a mounted file system holds exclusively.
 */
static int dmshadow_expose_table(shadow_ctx *ctx, const struct shadow_volume *v,
				 const struct shadow_copy *c, bool writable,
				 struct shadow_dm_table *ret)
{
	_cleanup_table_ struct shadow_dm_table ot = { 0 };
	struct shadow_origin_table otab;
	char params[128];
	uint64_t sectors;
	int r;

	r = origin_status(v->dm_name, NULL, &sectors);
	if (r == 0)
		r = shadow_dm_get_table(v->dm_name, true, &ot);
	if (r == 0)
		r = shadow_parse_origin_table(ot.targets[0].params, &otab);
	if (r == 0)
		r = dmshadow_snap_params(params, sizeof(params), otab.origin, c->snapshot, writable);
	if (r < 0)
		return ctx_fail(ctx, r, "expose shadow %" PRIu64 ": read the table of volume %s",
				c->id, v->name);
	return shadow_dm_table_add(ret, 0, sectors, "shadow-snap", params);
}

static int dmshadow_storage(shadow_ctx *ctx, const struct shadow_volume *v,
			    struct shadow_storage *ret)
{
	struct shadow_origin_status st;
	int r;

	r = origin_status(v->dm_name, &st, NULL);
	if (r < 0)
		return ctx_fail(ctx, r, "read the status of volume %s", v->name);
	*ret = (struct shadow_storage) {
		.used_chunks = st.used_chunks,
		.total_chunks = st.total_chunks,
		.snapshots = st.snapshots,
		.max_snapshots = st.max_snapshots,
		.invalid = st.invalid,
		.failed = st.failed,
		.folding = st.folding,
		.fold_cursor = st.fold_cursor,
		.fold_total = st.fold_origin_chunks,
	};
	return 0;
}

static int dmshadow_list(shadow_ctx *ctx, const struct shadow_volume *v,
			 struct shadow_list_entry **ret, unsigned int *ret_n)
{
	return kernel_list(v->dm_name, ret, ret_n);
}

const struct shadow_provider_ops shadow_provider_dmshadow = {
	.name = "dm-shadow",
	.module = "dm-shadow",
	.origin_target = "shadow-origin",
	.methods = "cow, row, clone",
	.copy_target = "shadow-snap",
	.check_store = dmshadow_check_store,
	.origin_table = dmshadow_origin_table,
	.can_create = dmshadow_can_create,
	.prepare = dmshadow_prepare,
	.create = dmshadow_create,
	.release = dmshadow_release,
	.remove = dmshadow_remove,
	.expose_table = dmshadow_expose_table,
	.storage = dmshadow_storage,
	.list = dmshadow_list,
};
