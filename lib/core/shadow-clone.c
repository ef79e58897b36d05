/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Clones: each copy of a clone volume is a full copy of it, hydrated by
 * the kernel onto a target device of its own (dm-shadow(7), CLONES).  The
 * volume's table must name a clone's target before the clone is created
 * and as long as the kernel keeps it; this file checks a target before a
 * create, loads the table again from the catalog when its clones change
 * (created, deleted, detached), detaches a complete clone and reads a
 * clone's progress.  The provider (shadow-provider-dmshadow.c) and the
 * verbs call it; it calls neither.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "shadow-clone.h"
#include "shadow-ctx.h"
#include "shadow-kernel.h"
#include "shadow-origin.h"
#include "shadow-tables.h"

/* ------------------------------------------------------------------------
 * A target, before a create
 */

/* The devices volume @v is made of: its mapped device, its device (or -real), its store. */
static size_t volume_parts(const struct shadow_volume *v, dev_t ret[4], bool ret_store[4])
{
	_cleanup_free_ char *mapped = NULL;
	struct shadow_dm_info info;
	size_t n = 0;

	if (block_device(v->device, &ret[n], NULL) == 0)
		ret_store[n++] = false;
	if (asprintf(&mapped, DEV_MAPPER "%s", v->dm_name) < 0)
		mapped = NULL;	/* undefined after a failure */
	else if (block_device(mapped, &ret[n], NULL) == 0)
		ret_store[n++] = false;
	if (v->real_name && shadow_dm_info(v->real_name, &info) == 0 && info.exists) {
		ret[n] = makedev(info.major, info.minor);
		ret_store[n++] = false;
	}
	if (block_device(v->store, &ret[n], NULL) == 0)
		ret_store[n++] = true;
	return n;
}

/* Is @t a part of a volume of @cat?  Which one, and whether its store. */
static bool volume_owner(const struct shadow_catalog *cat, dev_t t, struct clone_owner *ret)
{
	for (size_t i = 0; i < cat->n_volumes; i++) {
		bool store[4];
		dev_t parts[4];
		size_t n = volume_parts(cat->volumes[i], parts, store);

		for (size_t j = 0; j < n; j++)
			if (parts[j] == t) {
				*ret = (struct clone_owner) { .volume = cat->volumes[i], .store = store[j] };
				return true;
			}
	}
	return false;
}

int clone_device_owner(const struct shadow_catalog *cat, const char *path, dev_t t,
		       struct clone_owner *ret)
{
	if (volume_owner(cat, t, ret))
		return 1;
	/* A detached clone's data is there, a deleted one's is not. */
	for (size_t i = 0; i < cat->n_copies; i++) {
		const struct shadow_copy *c = cat->copies[i];
		dev_t d;

		if (!c->target || (strcmp(c->target, path) != 0 &&
				   (block_device(c->target, &d, NULL) < 0 || d != t)))
			continue;
		*ret = (struct clone_owner) { .copy = c };
		return 1;
	}
	return 0;
}

/* Neither a part of any volume of the catalog (@v's own included) nor any clone's target. */
static int check_not_owned(shadow_ctx *ctx, const struct shadow_volume *v, const char *target,
			   dev_t t)
{
	struct clone_owner o;

	if (clone_device_owner(&ctx->cat, target, t, &o) == 0)
		return 0;
	if (o.volume == v)
		return ctx_fail(ctx, -EINVAL, "create the set: volume %s, target %s: "
				"it is the volume's %s", v->name, target,
				o.store ? "store" : "own device");
	if (o.volume)
		return ctx_fail(ctx, -EINVAL, "create the set: volume %s, target %s: "
				"it is %s volume %s", v->name, target,
				o.store ? "the store of" : "the device of", o.volume->name);
	return ctx_fail(ctx, -EINVAL, "create the set: volume %s, target %s: it is the "
			"target of shadow %" PRIu64 ", a%s clone of %s (delete it first)",
			v->name, target, o.copy->id,
			shadow_copy_detached(o.copy) ? " detached" : "", o.copy->volume);
}

int clone_check_target(shadow_ctx *ctx, const struct shadow_volume *v, const char *target)
{
	_cleanup_close_ int fd = -EBADF;
	uint64_t sectors, need;
	dev_t t;
	int r;

	r = block_device(target, &t, &sectors);
	if (r == -ENOTBLK)
		return ctx_fail(ctx, r, "create the set: volume %s, target %s: it is not a block device",
				v->name, target);
	if (r < 0)
		return ctx_fail(ctx, r, "create the set: volume %s, target %s: open it", v->name, target);
	/* What it is first: a store given for a target is a mistake whatever its size. */
	r = check_not_owned(ctx, v, target, t);
	if (r < 0)
		return r;
	r = origin_status(v->dm_name, NULL, &need);
	if (r < 0)
		return ctx_fail(ctx, r, "create the set: volume %s, read its table", v->name);
	if (sectors < need)
		return ctx_fail(ctx, -ENOSPC, "create the set: volume %s, target %s: too small (%" PRIu64
				" KiB) for the volume (%" PRIu64 " KiB)", v->name, target,
				sectors / 2, need / 2);
	/* As the store is checked: the kernel's own refusal would be bare. */
	fd = open(target, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd < 0 && errno == EBUSY)
		return ctx_fail(ctx, -EBUSY, "create the set: volume %s, target %s: it is in use "
				"(mounted, or held by another device)", v->name, target);
	if (fd < 0)
		return ctx_fail(ctx, negative_errno(), "create the set: volume %s, target %s: "
				"open it exclusively", v->name, target);
	return 0;
}

/* ------------------------------------------------------------------------
 * The volume's table, from the catalog
 */

/* A table line for @v from the catalog, over the devices its live table @cur uses. */
static int table_again(shadow_ctx *ctx, const struct shadow_volume *v,
		       const struct shadow_dm_table *cur, const uint64_t *skip, size_t n_skip,
		       struct shadow_dm_table *ret)
{
	const struct origin_spec spec = { .v = v, .cat = &ctx->cat, .skip = skip, .n_skip = n_skip };
	_cleanup_free_ char *params = malloc(SHADOW_ORIGIN_PARAMS_MAX);
	struct shadow_origin_table ot;
	dev_t origin, store;
	int r;

	if (!params)
		return -ENOMEM;
	if (cur->n != 1 || strcmp(cur->targets[0].type, "shadow-origin") != 0)
		return -EMEDIUMTYPE;
	r = shadow_parse_origin_table(cur->targets[0].params, &ot);
	if (r == 0)
		r = parse_devno(ot.origin, &origin);
	if (r == 0)
		r = parse_devno(ot.store, &store);
	if (r == 0)
		r = dmshadow_volume_params(params, SHADOW_ORIGIN_PARAMS_MAX, origin, store, &spec);
	if (r < 0)
		return r;
	return shadow_dm_table_add(ret, 0, cur->targets[0].length, "shadow-origin", params);
}

int clone_reload(shadow_ctx *ctx, const struct shadow_volume *v, uint64_t skip)
{
	_cleanup_table_ struct shadow_dm_table cur = { 0 }, t = { 0 };
	struct shadow_dm_info info;
	int r;

	r = shadow_dm_info(v->dm_name, &info);
	if (r < 0)
		return r;
	if (!info.exists)
		return -ENODEV;
	if (info.suspended)
		return -EBUSY;
	r = shadow_dm_get_table(v->dm_name, true, &cur);
	if (r < 0)
		return r;
	r = table_again(ctx, v, &cur, &skip, skip ? 1 : 0, &t);
	if (r < 0)
		return r;
	r = shadow_dm_load(v->dm_name, &t, info.read_only ? SHADOW_DM_READONLY : 0);
	if (r < 0)
		return r;
	/* No lockfs: only the table's devices change, never the data. */
	r = shadow_dm_suspend(v->dm_name, false);
	if (r < 0) {
		(void)shadow_dm_clear(v->dm_name);
		return r;
	}
	r = shadow_dm_resume(v->dm_name);
	if (r < 0) {
		/* The new table did not go live: the old one must. */
		(void)shadow_dm_clear(v->dm_name);
		if (shadow_dm_resume(v->dm_name) < 0)
			ctx_log(ctx, SHADOW_LOG_ERR, "volume %s stays suspended: resume failed",
				v->name);
		return r;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Activation: the targets that are there
 */

/* The clones the kernel needs in @v's table: those its store keeps, with a target. */
static bool table_clone(const struct shadow_copy *c, const struct shadow_volume *v)
{
	return shadow_copy_is_clone(c) && shadow_copy_in_store(c, v->name) && c->target;
}

bool clone_targets_present(const struct shadow_catalog *cat, const struct shadow_volume *v)
{
	for (size_t i = 0; i < cat->n_copies; i++)
		if (table_clone(cat->copies[i], v) &&
		    block_device(cat->copies[i]->target, NULL, NULL) < 0)
			return false;
	return true;
}

size_t clone_missing_targets(shadow_ctx *ctx, const struct shadow_volume *v,
			     uint64_t ret[SHADOW_STATUS_MAX_CLONES])
{
	size_t n = 0;

	for (size_t i = 0; i < ctx->cat.n_copies && n < SHADOW_STATUS_MAX_CLONES; i++) {
		const struct shadow_copy *c = ctx->cat.copies[i];

		if (!table_clone(c, v) || block_device(c->target, NULL, NULL) == 0)
			continue;
		ctx_log(ctx, SHADOW_LOG_WARNING,
			"activate %s: the target %s of shadow %" PRIu64 " is not there: the table "
			"leaves it out (the kernel refuses that while the clone hydrates)",
			v->name, c->target, c->id);
		ret[n++] = c->snapshot;
	}
	return n;
}

/* ------------------------------------------------------------------------
 * A detached clone, its target a plain device
 */

int clone_volume_sectors(shadow_ctx *ctx, const struct shadow_copy *c, uint64_t *ret)
{
	const struct shadow_volume *v;
	uint64_t sectors;
	int r = -ENODEV;

	if (c->origin) {
		if (!c->origin->volume_bytes)
			return -ENODATA;
		*ret = c->origin->volume_bytes >> 9;
		return 0;
	}
	v = shadow_catalog_volume(&ctx->cat, c->volume);
	if (!v)
		return -ENODEV;
	if (v->active)
		r = origin_status(v->dm_name, NULL, &sectors);
	if (r < 0)
		r = block_device(v->device, NULL, &sectors);
	if (r < 0)
		return r;
	*ret = sectors;
	return 0;
}

/* How long the volume of @c is, in sectors: what its clone holds of its target. */
static uint64_t detached_sectors(shadow_ctx *ctx, const struct shadow_copy *c,
				 uint64_t target_sectors)
{
	uint64_t sectors;

	if (clone_volume_sectors(ctx, c, &sectors) == 0 && sectors <= target_sectors)
		return sectors;
	return target_sectors;
}

int clone_detached_table(shadow_ctx *ctx, const struct shadow_copy *c,
			 struct shadow_dm_table *ret)
{
	uint64_t target_sectors, sectors;
	char params[64];
	dev_t t;
	int r;

	r = block_device(c->target, &t, &target_sectors);
	if (r < 0)
		return ctx_fail(ctx, r, "expose shadow %" PRIu64 ": open its target %s (a detached clone's data)",
				c->id, c->target);
	sectors = detached_sectors(ctx, c, target_sectors);
	r = linear_params(params, sizeof(params), t);
	if (r == 0)
		r = shadow_dm_table_add(ret, 0, sectors, "linear", params);
	if (r < 0)
		return ctx_fail(ctx, r, "expose shadow %" PRIu64 ": make its table", c->id);
	return 0;
}

/* ------------------------------------------------------------------------
 * Repair: an adopted clone's target, from the live table
 */

int clone_table_target(const struct shadow_volume *v, uint64_t snapshot, char **ret)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 };
	struct shadow_origin_table ot;
	int r;

	r = shadow_dm_get_table(v->dm_name, true, &t);
	if (r < 0)
		return r;
	if (t.n != 1 || strcmp(t.targets[0].type, "shadow-origin") != 0)
		return -EMEDIUMTYPE;
	r = shadow_parse_origin_table(t.targets[0].params, &ot);
	if (r < 0)
		return r;
	for (unsigned int i = 0; i < ot.n_targets; i++) {
		char *path;

		if (ot.targets[i].id != snapshot)
			continue;
		if (asprintf(&path, "/dev/block/%s", ot.targets[i].dev) < 0)
			return -ENOMEM;
		*ret = path;
		return 0;
	}
	*ret = NULL;
	return 0;
}

/* ------------------------------------------------------------------------
 * Progress and detach (libshadow.h)
 */

/* Clone @c of active volume @v as the kernel's status has it. */
static int clone_status_of(const struct shadow_volume *v, const struct shadow_copy *c,
			   struct shadow_clone_status *ret)
{
	struct shadow_origin_status st;
	int r;

	r = origin_status(v->dm_name, &st, NULL);
	if (r < 0)
		return r;
	for (unsigned int i = 0; i < st.n_clones; i++)
		if (st.clones[i].id == c->snapshot) {
			*ret = st.clones[i];
			return 0;
		}
	return -ENOENT;
}

int shadow_copy_clone_progress(shadow_ctx *ctx, const shadow_copy *c, const char **ret_state,
			       uint64_t *ret_copied, uint64_t *ret_total)
{
	struct shadow_clone_status cs;
	const struct shadow_volume *v;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, c, "read a clone's progress: no shadow copy given");
	if (!shadow_copy_is_clone(c))
		return 0;
	if (shadow_copy_detached(c)) {
		cs = (struct shadow_clone_status) { .state = SHADOW_CLONE_STATE_COMPLETE };
		if (ret_state)
			*ret_state = "detached";
	} else {
		v = shadow_catalog_volume(&ctx->cat, c->volume);
		if (!v || !v->active)
			return ctx_fail(ctx, -ENODEV, "read the progress of shadow %" PRIu64
					": volume %s is not active", c->id, c->volume);
		r = clone_status_of(v, c, &cs);
		if (r < 0)
			return ctx_fail(ctx, r, "read the progress of shadow %" PRIu64 ": volume %s%s",
					c->id, v->name, r == -ENOENT ? ", whose store has no such clone" :
					", read its status");
		if (ret_state)
			*ret_state = shadow_clone_status_word(cs.state);
	}
	if (ret_copied)
		*ret_copied = cs.copied;
	if (ret_total)
		*ret_total = cs.total;
	return 1;
}

/* Only a complete clone, not exposed, of an active volume is detached. */
static int detach_check(shadow_ctx *ctx, const struct shadow_copy *c, struct shadow_volume **ret_v)
{
	struct shadow_clone_status cs;
	struct shadow_volume *v;
	int r;

	if (!shadow_copy_is_clone(c))
		return ctx_fail(ctx, -EOPNOTSUPP, "detach shadow %" PRIu64 ": it is a %s copy, not a "
				"clone (only copies of a clone volume are full copies)", c->id, c->method);
	if (shadow_copy_detached(c))
		return ctx_fail(ctx, -EINVAL, "detach shadow %" PRIu64 ": it is detached already "
				"(its data is %s)", c->id, c->target);
	if (strcmp(c->state, "creating") == 0)
		return ctx_fail(ctx, -EBUSY, "detach shadow %" PRIu64 ": its set is being made", c->id);
	if (c->device)
		return ctx_fail(ctx, -EBUSY, "detach shadow %" PRIu64 ": it is exposed as %s "
				"(unexpose it first)", c->id, c->device);
	v = shadow_catalog_volume(&ctx->cat, c->volume);
	if (!v || !v->active)
		return ctx_fail(ctx, -ENODEV, "detach shadow %" PRIu64 ": volume %s is not active",
				c->id, c->volume);
	r = clone_status_of(v, c, &cs);
	if (r < 0)
		return ctx_fail(ctx, r, "detach shadow %" PRIu64 ": volume %s%s", c->id, v->name,
				r == -ENOENT ? ", whose store has no such clone" : ", read its status");
	if (cs.state == SHADOW_CLONE_STATE_HYDRATING)
		return ctx_fail(ctx, -EBUSY, "detach shadow %" PRIu64 ": it is still hydrating onto %s: "
				"%" PRIu64 "%% copied (%" PRIu64 " of %" PRIu64 " chunks); wait, or see "
				"list shadows", c->id, c->target, cs.total ? cs.copied * 100 / cs.total : 0,
				cs.copied, cs.total);
	if (cs.state == SHADOW_CLONE_STATE_FAILED)
		return ctx_fail(ctx, -ESTALE, "detach shadow %" PRIu64 ": the clone failed (a write to "
				"its target %s failed, see the kernel log): %s does not hold it; delete it",
				c->id, c->target, c->target);
	*ret_v = v;
	return 0;
}

int shadow_copy_detach(shadow_ctx *ctx, uint64_t id, unsigned int flags)
{
	struct shadow_volume *v = NULL;
	struct shadow_copy *c;
	int r, q;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, flags == 0, "detach shadow %" PRIu64 ": unknown flags 0x%x", id, flags);
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "detach shadow %" PRIu64 ": the context is not open", id);
	if (ctx->readonly)
		return ctx_fail(ctx, -EROFS, "detach shadow %" PRIu64 ": the context is open read-only", id);
	c = shadow_catalog_copy(&ctx->cat, id);
	if (!c)
		return ctx_fail(ctx, -ENOENT, "detach shadow %" PRIu64 ": no such shadow copy", id);
	r = detach_check(ctx, c, &v);
	if (r < 0)
		return r;
	r = snap_message(v->dm_name, "detach", c->snapshot);
	if (r == -EAGAIN)
		return ctx_fail(ctx, -EBUSY, "detach shadow %" PRIu64 ": the kernel says the clone is "
				"not complete (see the kernel log); wait, or see list shadows", id);
	if (r == -EBUSY)
		return ctx_fail(ctx, r, "detach shadow %" PRIu64 ": a shadow-snap device uses it", id);
	if (r < 0)
		return ctx_fail(ctx, r, "detach shadow %" PRIu64 ": volume %s, detach clone %" PRIu64
				" (see the kernel log)", id, v->name, c->snapshot);
	/*
	 * The kernel has forgotten the clone: whatever follows fails, the
	 * catalog must say it is detached, or a repair would drop it.
	 */
	q = clone_reload(ctx, v, c->snapshot);
	r = replace_str(&c->state, "detached");
	if (r == 0)
		r = ctx_save(ctx);
	if (r < 0)
		return r;
	if (q < 0)
		return ctx_fail(ctx, q, "detach shadow %" PRIu64 ": it is detached, but volume %s could "
				"not be loaded again without its target %s, which its table holds until it "
				"is loaded next", id, v->name, c->target);
	ctx_log(ctx, SHADOW_LOG_INFO, "shadow %" PRIu64 " detached: %s holds volume %s as it was "
		"then, with no dm-shadow needed", id, c->target, v->name);
	return 0;
}
