/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Activation: put an enabled volume back in the kernel as it was, from
 * the catalog's record of it (after a reboot the kernel has no dm-shadow
 * tables), and take it out again without forgetting it.
 *
 * The store is the source of truth for the snapshots: once the volume is
 * loaded (and, for a provider that needs it, each copy's own device), the
 * kernel lists what its store holds, and the repair that every open runs
 * makes the catalog agree with that list, with a warning for each
 * difference.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "shadow-clone.h"
#include "shadow-copy.h"
#include "shadow-ctx.h"
#include "shadow-expose.h"
#include "shadow-format.h"
#include "shadow-kernel.h"
#include "shadow-repair.h"
#include "shadow-volume.h"

/* Poll interval while waiting for a volume's devices to appear. */
#define PARTS_POLL_US 100000ULL

/*
 * Whether what @v is made of is there: its store, its clones' targets,
 * and its device (for a volume taken over in place, its device-mapper
 * device with a live table, not suspended: as LVM leaves an LV it has
 * activated).
 */
static bool parts_present(shadow_ctx *ctx, const struct shadow_volume *v)
{
	struct shadow_dm_info info;

	if (block_device(v->store, NULL, NULL) < 0 || !clone_targets_present(&ctx->cat, v))
		return false;
	if (!v->real_name)
		return block_device(v->device, NULL, NULL) == 0;
	return shadow_dm_info(v->dm_name, &info) == 0 && info.exists &&
		info.live_table && !info.suspended;
}

/* Boot order is loose (LVM activates volume groups as their disks show up). */
static void wait_for_parts(shadow_ctx *ctx, const struct shadow_volume *v, uint64_t timeout_us)
{
	uint64_t deadline = now_us() + timeout_us;

	while (!parts_present(ctx, v) && now_us() < deadline) {
		struct timespec ts = { .tv_nsec = PARTS_POLL_US * 1000 };

		nanosleep(&ts, NULL);
	}
}

static size_t copies_of(shadow_ctx *ctx, const struct shadow_volume *v)
{
	size_t n = 0;

	for (size_t i = 0; i < ctx->cat.n_copies; i++)
		if (shadow_copy_in_store(ctx->cat.copies[i], v->name))
			n++;
	return n;
}

/*
 * The store of a volume with copies must not be blank: the kernel would
 * take it for a new store and the copies would be lost (or, with
 * dm-snapshot, read the volume as it is now), so it is not the store the
 * volume was enabled with (a disk renamed across the reboot?).  The
 * provider's own check then looks at what the store holds.
 */
static int check_store_again(shadow_ctx *ctx, const struct shadow_volume *v,
			     uint64_t sectors)
{
	_cleanup_close_ int fd = -EBADF;
	uint8_t block[512];

	fd = open(v->store, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ctx_fail(ctx, negative_errno(), "activate %s: open the store %s",
			    v->name, v->store);
	if (pread(fd, block, sizeof(block), 0) != (ssize_t)sizeof(block))
		return ctx_fail(ctx, -EIO, "activate %s: read the store %s", v->name, v->store);
	if (shadow_block_is_zero(block) && copies_of(ctx, v) > 0)
		return ctx_fail(ctx, -EMEDIUMTYPE,
			    "activate %s: the store %s is blank, not the store that holds the volume's copies",
			    v->name, v->store);
	return provider_of(v)->check_store(ctx, v->store, sectors, v->method, v->chunk_sectors);
}

/*
 * The length of @name's live table, in sectors; -EEXIST when it is
 * already a snapshot table, ours or dm-snapshot's (LVM's).
 */
static int table_sectors(const char *name, uint64_t *ret)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 };
	uint64_t end = 0;
	int r;

	r = shadow_dm_get_table(name, true, &t);
	if (r < 0)
		return r;
	for (unsigned int i = 0; i < t.n; i++) {
		if (strncmp(t.targets[i].type, "shadow-", 7) == 0 ||
		    strncmp(t.targets[i].type, "snapshot", 8) == 0)
			return -EEXIST;
		if (t.targets[i].start + t.targets[i].length > end)
			end = t.targets[i].start + t.targets[i].length;
	}
	if (end == 0)
		return -ENODEV;
	*ret = end;
	return 0;
}

/*
 * The volume's table as the catalog has it, all its clones' targets in it
 * but those that are not there (each named in a warning): the kernel
 * takes a table without a complete or failed clone's target, and refuses
 * one without a hydrating clone's, whose copy could not go on.
 */
static struct origin_spec table_spec(shadow_ctx *ctx, const struct shadow_volume *v,
				     uint64_t missing[SHADOW_STATUS_MAX_CLONES])
{
	size_t n = clone_missing_targets(ctx, v, missing);

	return (struct origin_spec) { .v = v, .cat = &ctx->cat, .skip = missing, .n_skip = n };
}

/* Take the device-mapper device over again (LVM has activated the LV). */
static int load_takeover(shadow_ctx *ctx, struct shadow_volume *v, dev_t store)
{
	uint64_t missing[SHADOW_STATUS_MAX_CLONES];
	struct shadow_dm_info info;
	struct origin_spec spec;
	uint64_t sectors;
	int r;

	r = shadow_dm_info(v->dm_name, &info);
	if (r < 0)
		return ctx_fail(ctx, r, "activate %s: look up device-mapper device %s",
			    v->name, v->dm_name);
	if (!info.exists)
		return ctx_fail(ctx, -ENODEV,
			    "activate %s: device-mapper device %s does not exist (is its LVM volume group active?)",
			    v->name, v->dm_name);
	r = table_sectors(v->dm_name, &sectors);
	if (r == -EEXIST)
		return ctx_fail(ctx, r, "activate %s: %s already has a snapshot table, not its own",
			    v->name, v->dm_name);
	if (r < 0)
		return ctx_fail(ctx, r, "activate %s: read the table of %s", v->name, v->dm_name);
	r = check_store_again(ctx, v, sectors);
	if (r < 0)
		return r;
	spec = table_spec(ctx, v, missing);
	return takeover(ctx, provider_of(v), v->dm_name, v->real_name, sectors, store, &spec);
}

/* Give the device its mapped device again. */
static int load_wrapped(shadow_ctx *ctx, struct shadow_volume *v, dev_t store)
{
	uint64_t missing[SHADOW_STATUS_MAX_CLONES];
	struct shadow_dm_info info;
	struct origin_spec spec;
	uint64_t sectors;
	dev_t rdev;
	int r;

	r = block_device(v->device, &rdev, &sectors);
	if (r < 0)
		return ctx_fail(ctx, r, "activate %s: open the device %s", v->name, v->device);
	r = shadow_dm_info(v->dm_name, &info);
	if (r < 0)
		return ctx_fail(ctx, r, "activate %s: look up %s", v->name, v->dm_name);
	if (info.exists)
		return ctx_fail(ctx, -EEXIST,
			    "activate %s: a device-mapper device named %s exists without the volume's table",
			    v->name, v->dm_name);
	r = check_store_again(ctx, v, sectors);
	if (r < 0)
		return r;
	spec = table_spec(ctx, v, missing);
	return wrap_device(ctx, provider_of(v), "activate", v->dm_name, v->device, sectors,
			   rdev, store, &spec);
}

/* Its provider's targets registered, its module loaded if need be (libkmod). */
static int provider_ready(shadow_ctx *ctx, const struct shadow_volume *v)
{
	const struct shadow_provider_ops *p = provider_of(v);
	const struct shadow_provider_probe *pr;

	for (unsigned int i = 0; provider_by_index(i); i++) {
		if (provider_by_index(i) != p)
			continue;
		pr = provider_probe(ctx, i);
		if (!pr->usable)
			return ctx_fail(ctx, -EOPNOTSUPP, "activate %s: provider %s is not usable: %s",
				    v->name, p->name, pr->why);
	}
	return 0;
}

/*
 * What each copy needs in the kernel besides the volume's table (the
 * dm-snapshot provider: a device per copy).  A copy that cannot be loaded
 * is left to the repair, which drops it with a warning.
 */
static void reload_copies(shadow_ctx *ctx, struct shadow_volume *v)
{
	const struct shadow_provider_ops *p = provider_of(v);

	if (!p->reload)
		return;
	for (size_t i = 0; i < ctx->cat.n_copies; i++) {
		struct shadow_copy *c = ctx->cat.copies[i];
		int r;

		if (!shadow_copy_in_store(c, v->name))
			continue;
		r = p->reload(ctx, v, c);
		if (r < 0)
			ctx_log(ctx, SHADOW_LOG_WARNING,
			       "activate %s: shadow %" PRIu64 " could not be loaded again from the store %s: %s",
			       v->name, c->id, v->store, strerror(-r));
	}
}

/* Unload what reload_copies() loads; the store keeps the copies. */
static int unload_copies(shadow_ctx *ctx, struct shadow_volume *v)
{
	const struct shadow_provider_ops *p = provider_of(v);

	if (!p->unload)
		return 0;
	for (size_t i = 0; i < ctx->cat.n_copies; i++) {
		struct shadow_copy *c = ctx->cat.copies[i];
		int r;

		if (!shadow_copy_in_store(c, v->name))
			continue;
		r = p->unload(ctx, v, c);
		if (r < 0 && r != -ENOENT)
			return ctx_fail(ctx, r, "deactivate %s: unload shadow %" PRIu64, v->name, c->id);
	}
	return 0;
}

/*
 * Expose again, under the same name and not mounted, every copy of @v
 * that was exposed and that the store still holds as valid.  A copy that
 * cannot be is no longer recorded as exposed, with a warning; whatever
 * the store lacks is left to the repair.  Returns how many were exposed.
 */
static int expose_again(shadow_ctx *ctx, struct shadow_volume *v)
{
	_cleanup_free_ struct shadow_list_entry *list = NULL;
	unsigned int n = 0;
	int exposed = 0, r;

	r = provider_of(v)->list(ctx, v, &list, &n);
	if (r < 0)
		return ctx_fail(ctx, r, "activate %s: list its snapshots", v->name);
	for (size_t i = 0; i < ctx->cat.n_copies; i++) {
		struct shadow_copy *c = ctx->cat.copies[i];
		const char *name;
		bool valid = false;
		char *saved;

		if (!c->device || !shadow_copy_in_store(c, v->name))
			continue;
		for (unsigned int j = 0; j < n; j++)
			if (list[j].id == c->snapshot)
				valid = list[j].valid;
		if (!valid)
			continue;
		replace_str(&c->mountpoint, NULL);
		name = dm_name_of_path(c->device);
		saved = ctx_error_take(ctx);
		r = copy_expose_device(ctx, v, c, name, c->writable);
		if (r == 0) {
			ctx_error_put(ctx, saved);
			exposed++;
			continue;
		}
		ctx_log(ctx, SHADOW_LOG_WARNING,
		       "activate %s: shadow %" PRIu64 " could not be exposed again as %s (%s): %s",
		       v->name, c->id, c->device, shadow_ctx_error(ctx), strerror(-r));
		ctx_error_put(ctx, saved);
		replace_str(&c->device, NULL);
		c->writable = false;
	}
	return exposed;
}

int shadow_volume_activate(shadow_ctx *ctx, const char *volume, uint64_t timeout_us)
{
	struct shadow_volume *v;
	dev_t store;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, volume && *volume, "activate: no volume given");
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "activate %s: the context is not open", volume);
	v = shadow_catalog_volume(&ctx->cat, volume);
	if (!v)
		return ctx_fail(ctx, -ENOENT, "activate %s: no such volume", volume);
	if (volume_loaded(v)) {
		v->active = true;
		return 1;
	}
	r = provider_ready(ctx, v);
	if (r < 0)
		return r;
	if (timeout_us)
		wait_for_parts(ctx, v, timeout_us);
	r = block_device(v->store, &store, NULL);
	if (r < 0)
		return ctx_fail(ctx, r, "activate %s: open the store %s", volume, v->store);
	if (v->real_name)
		r = load_takeover(ctx, v, store);
	else
		r = load_wrapped(ctx, v, store);
	if (r < 0)
		return r;
	v->active = true;
	ctx_log(ctx, SHADOW_LOG_INFO, "volume %s loaded%s", v->name,
	       v->real_name ? ", taken over in place" : "");

	reload_copies(ctx, v);
	r = expose_again(ctx, v);
	if (r < 0)
		return r;
	/* Catalog and store agree from here on: copies gone, snapshots adopted, sets undone. */
	r = ctx_repair(ctx);
	if (r < 0)
		return r;
	return ctx_save(ctx);
}

/* Writes to a volume in use would go past its store once it is deactivated. */
static int check_unused(shadow_ctx *ctx, const struct shadow_volume *v)
{
	struct shadow_dm_info info;
	int r;

	r = shadow_dm_info(v->dm_name, &info);
	if (r < 0)
		return ctx_fail(ctx, r, "deactivate %s: look it up", v->name);
	if (info.open_count > 0)
		return ctx_fail(ctx, -EBUSY,
			    "deactivate %s: it is in use (mounted?); its writes would bypass the store",
			    v->name);
	return 0;
}

int shadow_volume_deactivate(shadow_ctx *ctx, const char *volume, unsigned int flags)
{
	struct shadow_volume *v;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, volume && *volume, "deactivate: no volume given");
	check_arg(ctx, !(flags & ~(unsigned int)SHADOW_FORCE), "deactivate %s: unknown flags 0x%x",
		  volume, flags);
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "deactivate %s: the context is not open", volume);
	v = shadow_catalog_volume(&ctx->cat, volume);
	if (!v)
		return ctx_fail(ctx, -ENOENT, "deactivate %s: no such volume", volume);
	if (!v->active)
		return 1;
	r = check_unused(ctx, v);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->cat.n_copies; i++) {
		struct shadow_copy *c = ctx->cat.copies[i];

		/* A detached clone's device is over its target: it needs no volume. */
		if (!c->device || !shadow_copy_in_store(c, v->name))
			continue;
		if (!(flags & SHADOW_FORCE))
			return ctx_fail(ctx, -EBUSY,
				    "deactivate %s: shadow %" PRIu64 " is exposed as %s (unexpose it, or use --force)",
				    volume, c->id, c->device);
		r = copy_unexpose(ctx, c);
		if (r < 0) {
			(void)ctx_save(ctx);
			return r;
		}
	}
	r = unload_copies(ctx, v);
	if (r < 0) {
		(void)ctx_save(ctx);
		return r;
	}
	if (v->real_name) {
		r = giveback(ctx, "deactivate", v);
	} else {
		r = shadow_dm_remove(v->dm_name);
		if (r < 0)
			ctx_fail(ctx, r, "deactivate %s: remove its device-mapper device", volume);
	}
	if (r < 0) {
		(void)ctx_save(ctx);
		return r;
	}
	v->active = false;
	return ctx_save(ctx);
}
