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

#include "shadow-ctx.h"
#include "shadow-origin.h"
#include "shadow-store.h"
#include "shadow-tables.h"

/*
 * The target formats only an all-zero first sector, so nothing is ever
 * overwritten, but its refusal is terse: too small, in use, or holding
 * something that is not a dm-shadow store get a precise message here.
 */
static int dmshadow_check_store(shadow_ctx *ctx, const char *store,
				uint64_t origin_sectors, uint32_t chunk_sectors)
{
	_cleanup_(shadow_store_freep) struct shadow_store *s = NULL;
	struct shadow_error err = { 0 };
	const struct shadow_superblock *sb;
	uint8_t block[512];
	uint64_t store_sectors;
	int r;

	r = provider_read_store_head(ctx, store, block, &store_sectors);
	if (r < 0)
		return r;
	if (shadow_block_is_zero(block)) {
		/* The data area does not depend on the origin's size. */
		uint64_t need = shadow_layout_min_sectors(chunk_sectors);

		if (store_sectors < need)
			return ctx_fail(ctx, -ENOSPC,
				    "use the store %s: too small (%" PRIu64 " KiB) for an origin of %" PRIu64
				    " KiB; it needs at least %" PRIu64 " KiB",
				    store, store_sectors / 2, origin_sectors / 2, (need + 1) / 2);
		return 0;
	}
	r = shadow_store_open(store, &s, &err);
	if (r < 0)
		return ctx_fail(ctx, -EINVAL,
			    "use the store %s: it holds data that is not a dm-shadow store (%s); "
			    "zero its first sector to use it", store, err.msg);
	sb = shadow_store_sb(s);
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
				 dev_t store, const char *method, uint32_t chunk_sectors)
{
	char params[128];
	int r;

	r = dmshadow_origin_params(params, sizeof(params), origin, store, method, chunk_sectors);
	if (r < 0)
		return r;
	return shadow_dm_table_add(t, 0, sectors, "shadow-origin", params);
}

static int dmshadow_can_create(shadow_ctx *ctx, const struct shadow_volume *v)
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
	return 0;
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
	.methods = "cow, row",
	.copy_target = "shadow-snap",
	.check_store = dmshadow_check_store,
	.origin_table = dmshadow_origin_table,
	.can_create = dmshadow_can_create,
	.create = dmshadow_create,
	.remove = dmshadow_remove,
	.expose_table = dmshadow_expose_table,
	.storage = dmshadow_storage,
	.list = dmshadow_list,
};
