/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Repair of the catalog from the kernel's view, run on every open: what
 * the kernel has wins, since a crash can leave either side ahead.
 *
 * A context open to change things holds the command lock (shadow-lock.c),
 * so no other command of this state directory runs: a set recorded
 * "creating" is a killed command's leftover, and it is undone here (its
 * volumes resumed, its snapshots deleted).  A volume found suspended is
 * resumed only when such a set was being made on it; any other suspend is
 * someone else's (an administrator's dmsetup suspend, another state
 * directory's command) and is left alone, with a warning.
 *
 * A read-only context holds no command lock: a set "creating" may be in
 * progress right now.  It changes nothing, neither in the kernel nor on
 * disk: the catalog is only brought up to date in memory, for display.
 */
#include <inttypes.h>
#include <string.h>

#include "shadow-clone.h"
#include "shadow-ctx.h"
#include "shadow-kernel.h"
#include "shadow-repair.h"

/*
 * What a repair did, or for a reader what it would do: the catalog file
 * is out of date until a command that changes something runs.
 */
#define repaired(ctx, fmt, ...) \
	ctx_log(ctx, SHADOW_LOG_WARNING, "%s" fmt, \
		(ctx)->readonly ? "catalog out of date (a read repairs nothing): " \
				: "catalog repaired: ", __VA_ARGS__)

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
	/* A clone's target, as its table names it (the kernel's number for it). */
	if (strcmp(v->method, "clone") == 0 && clone_table_target(v, e->id, &c->target) < 0)
		ctx_log(ctx, SHADOW_LOG_WARNING, "volume %s: the target of clone %" PRIu64
			" is not known (its table cannot be read)", v->name, e->id);
	r = shadow_catalog_add_copy(&ctx->cat, c);
	if (r < 0) {
		shadow_copy_free(TAKE_PTR(c));
		return r;
	}
	repaired(ctx,
	       "adopted snapshot %" PRIu64 " of volume %s as shadow %" PRIu64,
	       e->id, v->name, c->id);
	TAKE_PTR(c);
	return 0;
}

/* Whether a set recorded "creating" has a copy on @v: its suspend was ours. */
static bool set_creating_on(shadow_ctx *ctx, const struct shadow_volume *v)
{
	for (size_t i = 0; i < ctx->cat.n_copies; i++) {
		const struct shadow_copy *c = ctx->cat.copies[i];
		const struct shadow_set *s;

		if (strcmp(c->volume, v->name) != 0 || strcmp(c->state, "creating") != 0)
			continue;
		s = shadow_catalog_set(&ctx->cat, c->set);
		if (s && strcmp(s->state, "creating") == 0)
			return true;
	}
	return false;
}

/*
 * Clones the kernel no longer has are gone from the catalog: the volume's
 * table, loaded again from it, lets their targets go.  A reader changes
 * nothing; a failure is only said (the next load of the table does it).
 */
static void release_dropped(shadow_ctx *ctx, const struct shadow_volume *v)
{
	int r;

	if (ctx->readonly || !provider_of(v)->release)
		return;
	r = provider_of(v)->release(ctx, v, 0);
	if (r < 0)
		ctx_log(ctx, SHADOW_LOG_WARNING, "volume %s still holds the targets of clones gone "
			"from the kernel: loading its table without them failed (%s)", v->name,
			strerror(-r));
}

static int repair_volume(shadow_ctx *ctx, struct shadow_volume *v)
{
	_cleanup_free_ struct shadow_list_entry *list = NULL;
	struct shadow_dm_info info;
	bool dropped_clone = false;
	unsigned int n = 0;
	int repairs = 0, r;

	v->active = volume_loaded(v);
	if (!v->active)
		return 0;
	r = shadow_dm_info(v->dm_name, &info);
	if (r < 0)
		return r;
	v->suspended_foreign = false;
	if (info.suspended && ctx->readonly) {
		ctx_log(ctx, SHADOW_LOG_DEBUG, "volume %s is suspended", v->name);
	} else if (info.suspended && set_creating_on(ctx, v)) {
		/* A set of ours was being made on it: the suspend was ours. */
		r = shadow_dm_resume(v->dm_name);
		if (r < 0)
			return ctx_fail(ctx, r, "resume volume %s left suspended", v->name);
		ctx_log(ctx, SHADOW_LOG_WARNING,
			"catalog repaired: resumed volume %s, left suspended by an unfinished set",
			v->name);
		repairs++;
	} else if (info.suspended) {
		v->suspended_foreign = true;
		ctx_log(ctx, SHADOW_LOG_WARNING,
			"volume %s is suspended, not by shadowctl (no set of %s was being made on it): left suspended; commands that need it fail until it is resumed",
			v->name, ctx->state_dir);
	}
	r = provider_of(v)->list(ctx, v, &list, &n);
	if (r < 0)
		return ctx_fail(ctx, r, "list the snapshots of volume %s", v->name);

	for (size_t i = ctx->cat.n_copies; i-- > 0;) {
		struct shadow_copy *c = ctx->cat.copies[i];
		const struct shadow_list_entry *e = NULL;
		const char *state;

		/* A detached or imported clone is no snapshot: the kernel never lists it. */
		if (!shadow_copy_in_store(c, v->name))
			continue;
		/* A reader's "creating" copy may be a live create's: not there yet, or going. */
		if (ctx->readonly && strcmp(c->state, "creating") == 0)
			continue;
		for (unsigned int j = 0; j < n; j++)
			if (list[j].id == c->snapshot)
				e = &list[j];
		if (!e) {
			repaired(ctx,
			       "shadow %" PRIu64 " of volume %s is gone from the kernel",
			       c->id, v->name);
			dropped_clone |= shadow_copy_is_clone(c);
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
			repaired(ctx,
			       "shadow %" PRIu64 " of volume %s is %s",
			       c->id, v->name, state);
			repairs++;
		}
	}
	for (unsigned int j = 0; j < n; j++) {
		bool known = false;

		for (size_t i = 0; i < ctx->cat.n_copies; i++)
			if (shadow_copy_in_store(ctx->cat.copies[i], v->name) &&
			    ctx->cat.copies[i]->snapshot == list[j].id)
				known = true;
		if (known)
			continue;
		r = adopt(ctx, v, &list[j]);
		if (r < 0)
			return r;
		repairs++;
	}
	if (dropped_clone)
		release_dropped(ctx, v);
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
			/* A clone's target, put in the table before the crash, goes. */
			if (provider_of(v)->release &&
			    (r = provider_of(v)->release(ctx, v, c->snapshot)) < 0)
				ctx_log(ctx, SHADOW_LOG_WARNING, "volume %s still holds the target of "
					"shadow %" PRIu64 " of an unfinished set: loading its table "
					"without it failed (%s)", v->name, c->id, strerror(-r));
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
	/* A reader holds no command lock: a set "creating" may be in progress. */
	for (size_t i = ctx->cat.n_sets; i-- > 0 && !ctx->readonly;)
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
		/* A detached clone's device is over its target: it needs no volume. */
		if (v && !v->active && shadow_copy_in_store(c, v->name)) {
			if (!c->mountpoint)
				continue;
			repaired(ctx,
			       "shadow %" PRIu64 " is no longer mounted on %s",
			       c->id, c->mountpoint);
			replace_str(&c->mountpoint, NULL);
			repairs++;
			continue;
		}
		if (shadow_dm_info(dm_name_of_path(c->device), &info) == 0 && info.exists)
			continue;
		repaired(ctx,
		       "shadow %" PRIu64 " is no longer exposed as %s",
		       c->id, c->device);
		replace_str(&c->device, NULL);
		replace_str(&c->mountpoint, NULL);
		c->writable = false;
		repairs++;
	}
	repairs += drop_empty_sets(&ctx->cat);
	if (repairs && !ctx->readonly) {
		r = ctx_save(ctx);
		if (r < 0)
			return r;
	}
	return repairs;
}
