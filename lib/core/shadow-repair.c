/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Repair of the catalog from the kernel's view, run on every open: what
 * the kernel has wins, since a crash can leave either side ahead.
 */
#include <inttypes.h>
#include <string.h>

#include "shadow-ctx.h"
#include "shadow-kernel.h"
#include "shadow-repair.h"

static int adopt(shadow_ctx *ctx, struct shadow_volume *v,
		 const struct shadow_list_entry *e)
{
	_cleanup_free_ struct shadow_copy *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	/* Keep the kernel's id as the shadow id unless another volume uses it. */
	c->id = shadow_catalog_copy(&ctx->cat, e->id) ? ctx->cat.next_id : e->id;
	c->snapshot = e->id;
	c->created = (int64_t)e->ctime;
	c->volume = strdup(v->name);
	c->method = strdup(v->method);
	c->state = strdup(e->valid ? "valid" : "invalid");
	if (!c->volume || !c->method || !c->state) {
		shadow_copy_free(TAKE_PTR(c));
		return -ENOMEM;
	}
	r = shadow_catalog_add_copy(&ctx->cat, c);
	if (r < 0) {
		shadow_copy_free(TAKE_PTR(c));
		return r;
	}
	ctx_log(ctx, SHADOW_LOG_WARNING,
	       "catalog repaired: adopted snapshot %" PRIu64 " of volume %s as shadow %" PRIu64,
	       e->id, v->name, c->id);
	TAKE_PTR(c);
	return 0;
}

static int repair_volume(shadow_ctx *ctx, struct shadow_volume *v)
{
	_cleanup_free_ struct shadow_list_entry *list = NULL;
	struct shadow_dm_info info;
	unsigned int n = 0;
	int repairs = 0, r;

	v->active = volume_loaded(v);
	if (!v->active)
		return 0;
	r = shadow_dm_info(v->dm_name, &info);
	if (r < 0)
		return r;
	/* Only the lock holder suspends; a suspended volume is a crash's leftover. */
	if (info.suspended) {
		r = shadow_dm_resume(v->dm_name);
		if (r < 0)
			return ctx_fail(ctx, r, "resume volume %s left suspended", v->name);
		ctx_log(ctx, SHADOW_LOG_WARNING, "catalog repaired: resumed volume %s", v->name);
		repairs++;
	}
	r = provider_of(v)->list(ctx, v, &list, &n);
	if (r < 0)
		return ctx_fail(ctx, r, "list the snapshots of volume %s", v->name);

	for (size_t i = ctx->cat.n_copies; i-- > 0;) {
		struct shadow_copy *c = ctx->cat.copies[i];
		const struct shadow_list_entry *e = NULL;
		const char *state;

		if (strcmp(c->volume, v->name) != 0)
			continue;
		for (unsigned int j = 0; j < n; j++)
			if (list[j].id == c->snapshot)
				e = &list[j];
		if (!e) {
			ctx_log(ctx, SHADOW_LOG_WARNING,
			       "catalog repaired: shadow %" PRIu64 " of volume %s is gone from the kernel",
			       c->id, v->name);
			shadow_catalog_remove_copy(&ctx->cat, c);
			repairs++;
			continue;
		}
		if (strcmp(c->state, "creating") == 0)
			continue;	/* its set is undone below */
		state = e->valid ? "valid" : "invalid";
		if (strcmp(c->state, state) != 0) {
			if (replace_str(&c->state, state) < 0)
				return -ENOMEM;
			ctx_log(ctx, SHADOW_LOG_WARNING,
			       "catalog repaired: shadow %" PRIu64 " of volume %s is %s",
			       c->id, v->name, state);
			repairs++;
		}
	}
	for (unsigned int j = 0; j < n; j++) {
		bool known = false;

		for (size_t i = 0; i < ctx->cat.n_copies; i++)
			if (strcmp(ctx->cat.copies[i]->volume, v->name) == 0 &&
			    ctx->cat.copies[i]->snapshot == list[j].id)
				known = true;
		if (known)
			continue;
		r = adopt(ctx, v, &list[j]);
		if (r < 0)
			return r;
		repairs++;
	}
	return repairs;
}

/*
 * Whether every volume with a copy in set @id is active: a set left
 * "creating" is undone only then, so that its snapshots are deleted in
 * the kernel too, not merely forgotten (and adopted on activation).
 */
static bool set_volumes_active(shadow_ctx *ctx, uint64_t id)
{
	for (size_t i = 0; i < ctx->cat.n_copies; i++) {
		struct shadow_volume *v;

		if (ctx->cat.copies[i]->set != id)
			continue;
		v = shadow_catalog_volume(&ctx->cat, ctx->cat.copies[i]->volume);
		if (v && !v->active)
			return false;
	}
	return true;
}

/* A set left "creating" by a crash: all or none, so none. */
static int repair_set(shadow_ctx *ctx, struct shadow_set *s)
{
	int repairs = 0, r;

	for (size_t i = ctx->cat.n_copies; i-- > 0;) {
		struct shadow_copy *c = ctx->cat.copies[i];
		struct shadow_volume *v;

		if (c->set != s->id)
			continue;
		v = shadow_catalog_volume(&ctx->cat, c->volume);
		if (v && v->active) {
			r = provider_of(v)->remove(ctx, v, c->snapshot);
			if (r < 0 && r != -ENOENT)
				return ctx_fail(ctx, r, "delete snapshot %" PRIu64 " of volume %s left by an unfinished set",
					    c->snapshot, v->name);
		}
		shadow_catalog_remove_copy(&ctx->cat, c);
		repairs++;
	}
	ctx_log(ctx, SHADOW_LOG_WARNING,
	       "catalog repaired: undid set %" PRIu64 " left unfinished", s->id);
	shadow_catalog_remove_set(&ctx->cat, s);
	return repairs + 1;
}

int ctx_repair(shadow_ctx *ctx)
{
	int repairs = 0, r;

	for (size_t i = 0; i < ctx->cat.n_volumes; i++) {
		r = repair_volume(ctx, ctx->cat.volumes[i]);
		if (r < 0)
			return r;
		repairs += r;
	}
	for (size_t i = ctx->cat.n_sets; i-- > 0;)
		if (strcmp(ctx->cat.sets[i]->state, "creating") == 0 &&
		    set_volumes_active(ctx, ctx->cat.sets[i]->id)) {
			r = repair_set(ctx, ctx->cat.sets[i]);
			if (r < 0)
				return r;
			repairs += r;
		}
	/*
	 * Exposed devices that are gone.  An inactive volume's copies keep
	 * their record, since activation exposes them again, but not their
	 * mount, which did not outlive the tables (a reboot): unexpose must
	 * not unmount whatever is mounted there now.
	 */
	for (size_t i = 0; i < ctx->cat.n_copies; i++) {
		struct shadow_copy *c = ctx->cat.copies[i];
		struct shadow_volume *v = shadow_catalog_volume(&ctx->cat, c->volume);
		struct shadow_dm_info info;

		if (!c->device)
			continue;
		if (v && !v->active) {
			if (!c->mountpoint)
				continue;
			ctx_log(ctx, SHADOW_LOG_WARNING,
			       "catalog repaired: shadow %" PRIu64 " is no longer mounted on %s",
			       c->id, c->mountpoint);
			replace_str(&c->mountpoint, NULL);
			repairs++;
			continue;
		}
		if (shadow_dm_info(dm_name_of_path(c->device), &info) == 0 && info.exists)
			continue;
		ctx_log(ctx, SHADOW_LOG_WARNING,
		       "catalog repaired: shadow %" PRIu64 " is no longer exposed as %s",
		       c->id, c->device);
		replace_str(&c->device, NULL);
		replace_str(&c->mountpoint, NULL);
		c->writable = false;
		repairs++;
	}
	repairs += drop_empty_sets(&ctx->cat);
	if (repairs) {
		r = ctx_save(ctx);
		if (r < 0)
			return r;
	}
	return repairs;
}
