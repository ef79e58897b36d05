/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shadow copies: accessors and deletion.
 */
#include <inttypes.h>
#include <string.h>

#include "shadow-copy.h"
#include "shadow-ctx.h"
#include "shadow-expose.h"
#include "shadow-states.h"

size_t shadow_ctx_copies(shadow_ctx *ctx, shadow_copy *const **ret)
{
	if (!ctx || !ret)
		return 0;
	*ret = ctx->cat.copies;
	return ctx->cat.n_copies;
}

shadow_copy *shadow_ctx_find_copy(shadow_ctx *ctx, uint64_t id)
{
	if (!ctx)
		return NULL;
	return shadow_catalog_copy(&ctx->cat, id);
}

uint64_t shadow_copy_id(const shadow_copy *c) { return c ? c->id : 0; }
uint64_t shadow_copy_snapshot(const shadow_copy *c) { return c ? c->snapshot : 0; }
uint64_t shadow_copy_set(const shadow_copy *c) { return c ? c->set : 0; }
const char *shadow_copy_volume(const shadow_copy *c) { return c ? c->volume : NULL; }
const char *shadow_copy_method(const shadow_copy *c) { return c ? c->method : NULL; }
int64_t shadow_copy_created(const shadow_copy *c) { return c ? c->created : 0; }
enum shadow_copy_state shadow_copy_state(const shadow_copy *c)
{
	return c ? copy_state_from_string(c->state) : _SHADOW_COPY_STATE_INVALID;
}
const char *shadow_copy_device(const shadow_copy *c) { return c ? c->device : NULL; }
const char *shadow_copy_mountpoint(const shadow_copy *c) { return c ? c->mountpoint : NULL; }
bool shadow_copy_writable(const shadow_copy *c) { return c ? c->writable : false; }
const char *shadow_copy_target(const shadow_copy *c) { return c ? c->target : NULL; }

int shadow_copy_origin(const shadow_copy *c, const char **ret_host, uint64_t *ret_set,
		       uint64_t *ret_shadow, const char **ret_volume)
{
	if (!c)
		return -EINVAL;
	if (!c->origin)
		return 0;
	if (ret_host)
		*ret_host = c->origin->host;
	if (ret_set)
		*ret_set = c->origin->set;
	if (ret_shadow)
		*ret_shadow = c->origin->shadow;
	if (ret_volume)
		*ret_volume = c->origin->volume;
	return 1;
}

/*
 * A clone the kernel has forgotten lets its target go from the table:
 * should that fail, the next load of the table (built from the catalog,
 * which no longer has it) does, so it is only said.
 */
static void release_clone(shadow_ctx *ctx, const struct shadow_volume *v,
			  const struct shadow_copy *c)
{
	int r;

	if (!provider_of(v)->release)
		return;
	r = provider_of(v)->release(ctx, v, c->snapshot);
	if (r < 0)
		ctx_log(ctx, SHADOW_LOG_WARNING, "delete shadow %" PRIu64 ": volume %s still holds its "
			"target %s: loading its table without it failed (%s); it lets it go when it is "
			"loaded next", c->id, v->name, c->target ? c->target : "-", strerror(-r));
	else if (c->target)
		ctx_log(ctx, SHADOW_LOG_INFO, "delete shadow %" PRIu64 ": its target %s is let go as "
			"it is", c->id, c->target);
}

/* Delete @c in the kernel and the catalog (not saved). */
int copy_delete_locked(shadow_ctx *ctx, struct shadow_copy *c, bool force)
{
	struct shadow_volume *v = shadow_catalog_volume(&ctx->cat, c->volume);
	uint64_t id = c->id;
	int r;

	if (c->device) {
		if (!force)
			return ctx_fail(ctx, -EBUSY,
				    "delete shadow %" PRIu64 ": it is exposed as %s (unexpose it first)",
				    id, c->device);
		r = copy_unexpose(ctx, c);
		if (r < 0)
			return r;
	}
	/* No store keeps it: the catalog's record is all there is to delete. */
	if (shadow_copy_detached(c)) {
		ctx_log(ctx, SHADOW_LOG_NOTICE, "shadow %" PRIu64 " is a detached clone: removed from "
			"the catalog only; its target %s, a plain copy, is left as it is", id, c->target);
		shadow_catalog_remove_copy(&ctx->cat, c);
		return 0;
	}
	if (!v || !v->active)
		return ctx_fail(ctx, -ENODEV, "delete shadow %" PRIu64 ": volume %s is not active",
			    id, c->volume);
	r = provider_of(v)->remove(ctx, v, c->snapshot);
	if (r == -ENOENT)
		ctx_log(ctx, SHADOW_LOG_WARNING, "shadow %" PRIu64 " was already gone from the kernel", id);
	else if (r < 0)
		return ctx_fail(ctx, r, "delete shadow %" PRIu64 ": volume %s, delete snapshot %" PRIu64 " (%s)",
			    id, v->name, c->snapshot, provider_of(v)->name);
	release_clone(ctx, v, c);
	shadow_catalog_remove_copy(&ctx->cat, c);
	return 0;
}

int shadow_copy_delete(shadow_ctx *ctx, uint64_t id, unsigned int flags)
{
	struct shadow_copy *c;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, !(flags & ~(unsigned int)SHADOW_FORCE), "delete shadow %" PRIu64 ": unknown flags 0x%x",
		  id, flags);
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "delete shadow %" PRIu64 ": the context is not open", id);
	c = shadow_catalog_copy(&ctx->cat, id);
	if (!c)
		return ctx_fail(ctx, -ENOENT, "delete shadow %" PRIu64 ": no such shadow copy", id);
	r = copy_delete_locked(ctx, c, flags & SHADOW_FORCE);
	if (r < 0)
		return r;
	drop_empty_sets(&ctx->cat);
	return ctx_save(ctx);
}

int shadow_copy_delete_oldest(shadow_ctx *ctx, const char *volume, uint64_t *ret_id)
{
	struct shadow_copy *oldest = NULL;
	uint64_t id;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, volume && *volume, "delete the oldest shadow: no volume given");
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "delete the oldest shadow of %s: the context is not open", volume);
	if (!shadow_catalog_volume(&ctx->cat, volume))
		return ctx_fail(ctx, -ENOENT, "delete the oldest shadow of %s: no such volume", volume);
	for (size_t i = 0; i < ctx->cat.n_copies; i++) {
		struct shadow_copy *c = ctx->cat.copies[i];

		/* The oldest of its store: a detached clone takes none of it. */
		if (!shadow_copy_in_store(c, volume))
			continue;
		if (!oldest || shadow_copy_older(c, oldest))
			oldest = c;
	}
	if (!oldest)
		return ctx_fail(ctx, -ENOENT, "delete the oldest shadow of %s: it has none", volume);
	id = oldest->id;
	r = shadow_copy_delete(ctx, id, 0);
	if (r < 0)
		return r;
	if (ret_id)
		*ret_id = id;
	return 0;
}

/* The file system type on @dev (libblkid), or -ENOENT when none is found. */
