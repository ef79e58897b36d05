// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Changed-block tracking: shadow_copy_diff() and what export shares with
 * it.  The work itself is lib/format/shadow-diff.c's, on the store's
 * metadata read through a metadata snapshot, so the origin stays in use.
 */
#include <inttypes.h>
#include <string.h>

#include "shadow-cbt.h"
#include "shadow-ctx.h"
#include "shadow-diff.h"
#include "shadow-store.h"

int cbt_copy(shadow_ctx *ctx, const char *verb, uint64_t id,
	     struct shadow_copy **ret_c, struct shadow_volume **ret_v)
{
	struct shadow_copy *c;
	struct shadow_volume *v;

	c = shadow_catalog_copy(&ctx->cat, id);
	if (!c)
		return ctx_fail(ctx, -ENOENT, "%s shadow %" PRIu64 ": no such shadow copy", verb, id);
	if (shadow_copy_detached(c))
		return ctx_fail(ctx, -EOPNOTSUPP, "%s shadow %" PRIu64 ": it is a detached clone, whose "
				"data is the plain device %s: read that instead", verb, id, c->target);
	if (strcmp(c->state, "valid") != 0)
		return ctx_fail(ctx, -ESTALE, "%s shadow %" PRIu64 ": it is %s", verb, id, c->state);
	v = shadow_catalog_volume(&ctx->cat, c->volume);
	if (!v || !v->active)
		return ctx_fail(ctx, -ENODEV, "%s shadow %" PRIu64 ": volume %s is not active",
				verb, id, c->volume);
	if (strcmp(provider_of(v)->name, "dm-shadow") != 0)
		return ctx_fail(ctx, -EOPNOTSUPP, "%s shadow %" PRIu64 ": volume %s uses %s, "
				"which keeps no metadata to compare copies with (dm-shadow does)",
				verb, id, v->name, provider_of(v)->name);
	*ret_c = c;
	*ret_v = v;
	return 0;
}

int cbt_store_identity(shadow_ctx *ctx, const char *verb, const struct shadow_volume *v,
		       uint8_t ret_uuid[16], uint32_t *ret_chunk_bytes,
		       uint64_t *ret_volume_bytes)
{
	_cleanup_store_ struct shadow_store *s = NULL;
	struct shadow_error err = { 0 };
	const struct shadow_superblock *sb;
	int r;

	r = shadow_store_open(v->store, &s, &err);
	if (r < 0)
		return ctx_fail(ctx, r, "%s: read the store %s of volume %s: %s", verb, v->store,
				v->name, err.msg);
	sb = shadow_store_sb(s);
	memcpy(ret_uuid, sb->uuid, 16);
	*ret_chunk_bytes = sb->chunk_sectors << 9;
	*ret_volume_bytes = sb->origin_sectors << 9;
	return 0;
}

struct byte_ranges {
	shadow_range_fn fn;
	void *userdata;
	uint64_t chunk_bytes, volume_bytes, bytes;
	bool fn_failed;		/* the error is the callback's own: */
	int r;			/* what it returned */
};

/* Chunks to bytes; the last chunk may reach past the volume's end. */
static int to_bytes(void *userdata, uint64_t first, uint64_t n)
{
	struct byte_ranges *b = userdata;
	uint64_t start = first * b->chunk_bytes, end = (first + n) * b->chunk_bytes;

	if (end > b->volume_bytes)
		end = b->volume_bytes;
	if (start >= end)
		return 0;
	b->bytes += end - start;
	b->r = b->fn(b->userdata, start, end - start);
	if (b->r < 0) {
		b->fn_failed = true;
		return b->r;
	}
	return 0;
}

/* The diff on an open store whose metadata snapshot is held. */
static int diff_held(shadow_ctx *ctx, const char *verb, const struct shadow_volume *v,
		     const struct shadow_copy *a, const struct shadow_copy *b,
		     struct byte_ranges *br, uint8_t ret_uuid[16])
{
	_cleanup_store_ struct shadow_store *s = NULL;
	struct shadow_error err = { 0 };
	const struct shadow_superblock *sb;
	int r;

	r = shadow_store_open(v->store, &s, &err);
	if (r == 0)
		r = shadow_store_use_held(s, &err);
	if (r < 0)
		return ctx_fail(ctx, r, "%s: read the metadata of store %s: %s", verb, v->store,
				err.code != SHADOW_ERR_NONE ? err.msg : strerror(-r));
	sb = shadow_store_sb(s);
	br->chunk_bytes = (uint64_t)sb->chunk_sectors << 9;
	br->volume_bytes = sb->origin_sectors << 9;
	if (ret_uuid)
		memcpy(ret_uuid, sb->uuid, 16);
	err = (struct shadow_error){ 0 };
	r = shadow_store_diff(s, a->snapshot, b ? b->snapshot : 0, !b, to_bytes, br, NULL, &err);
	if (br->fn_failed)
		return br->r;
	if (r < 0 && err.code != SHADOW_ERR_NONE)
		return ctx_fail(ctx, r, "%s: compare shadow %" PRIu64 " with %s: %s", verb, a->id,
				b ? "the other copy" : "the live volume", err.msg);
	if (r < 0)
		return ctx_fail(ctx, r, "%s: compare shadow %" PRIu64 " with %s", verb, a->id,
				b ? "the other copy" : "the live volume");
	return r;
}

int cbt_diff(shadow_ctx *ctx, const char *verb, const struct shadow_volume *v,
	     const struct shadow_copy *a, const struct shadow_copy *b,
	     shadow_range_fn fn, void *userdata, uint64_t *ret_changed_bytes,
	     uint8_t ret_uuid[16])
{
	struct byte_ranges br = { .fn = fn, .userdata = userdata };
	int r, q;

	/* The kernel refuses it the metadata snapshot (EOPNOTSUPP): say why first. */
	if (strcmp(v->method, "clone") == 0)
		return ctx_fail(ctx, -EOPNOTSUPP, "%s: volume %s is a clone volume: its store keeps "
				"no changed chunks to compare (each clone is a full copy)", verb, v->name);
	r = shadow_dm_message(v->dm_name, "reserve_metadata_snap", NULL);
	if (r == -EBUSY)
		return ctx_fail(ctx, r, "%s: volume %s's store holds a metadata snapshot already "
				"(someone else's: release_metadata_snap, dm-shadow(7))", verb, v->name);
	if (r < 0)
		return ctx_fail(ctx, r, "%s: reserve a metadata snapshot of volume %s", verb, v->name);
	r = diff_held(ctx, verb, v, a, b, &br, ret_uuid);
	q = shadow_dm_message(v->dm_name, "release_metadata_snap", NULL);
	if (r < 0)
		return r;
	if (q < 0)
		return ctx_fail(ctx, q, "%s: release the metadata snapshot of volume %s", verb, v->name);
	if (ret_changed_bytes)
		*ret_changed_bytes = br.bytes;
	return 0;
}

int shadow_copy_diff(shadow_ctx *ctx, uint64_t id, uint64_t other_id,
		     shadow_range_fn fn, void *userdata, uint64_t *ret_changed_bytes)
{
	struct shadow_copy *a, *b = NULL;
	struct shadow_volume *v, *vb;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, fn, "diff shadow %" PRIu64 ": no callback", id);
	check_arg(ctx, id != other_id, "diff shadow %" PRIu64 ": a copy against itself", id);
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "diff shadow %" PRIu64 ": the context is not open", id);
	r = cbt_copy(ctx, "diff", id, &a, &v);
	if (r == 0 && other_id)
		r = cbt_copy(ctx, "diff", other_id, &b, &vb);
	if (r < 0)
		return r;
	if (b && v != vb)
		return ctx_fail(ctx, -EINVAL, "diff shadow %" PRIu64 " with %" PRIu64
				": they are copies of different volumes (%s, %s)",
				id, other_id, v->name, vb->name);
	return cbt_diff(ctx, "diff", v, a, b, fn, userdata, ret_changed_bytes, NULL);
}
