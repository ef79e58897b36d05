/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Volumes: enable (take over a dm device in place, or wrap any other
 * block device), disable, and their storage.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "shadow-copy.h"
#include "shadow-ctx.h"
#include "shadow-format.h"
#include "shadow-kernel.h"
#include "shadow-volume.h"

size_t shadow_ctx_volumes(shadow_ctx *ctx, shadow_volume *const **ret)
{
	*ret = ctx->cat.volumes;
	return ctx->cat.n_volumes;
}

shadow_volume *shadow_ctx_find_volume(shadow_ctx *ctx, const char *name)
{
	return shadow_catalog_volume(&ctx->cat, name);
}

const char *shadow_volume_name(const shadow_volume *v) { return v->name; }
const char *shadow_volume_device(const shadow_volume *v) { return v->device; }
const char *shadow_volume_store(const shadow_volume *v) { return v->store; }
const char *shadow_volume_method(const shadow_volume *v) { return v->method; }
const char *shadow_volume_dm_name(const shadow_volume *v) { return v->dm_name; }
const char *shadow_volume_real_name(const shadow_volume *v) { return v->real_name; }
uint64_t shadow_volume_chunk_bytes(const shadow_volume *v) { return (uint64_t)v->chunk_sectors << 9; }
int64_t shadow_volume_enabled(const shadow_volume *v) { return v->enabled; }
const char *shadow_volume_state(const shadow_volume *v) { return v->active ? "active" : "inactive"; }
const char *shadow_volume_provider(const shadow_volume *v) { return v->provider; }

int shadow_volume_storage(shadow_ctx *ctx, const shadow_volume *v,
			  uint64_t *ret_used_chunks, uint64_t *ret_total_chunks,
			  unsigned int *ret_snapshots,
			  unsigned int *ret_max_snapshots,
			  unsigned int *ret_invalid, bool *ret_failed)
{
	struct shadow_storage st;
	int r;
	CTX_DM_LOG(ctx);

	if (!v->active)
		return ctx_fail(ctx, -ENODEV, "read the store of volume %s: it is not active", v->name);
	r = provider_of(v)->storage(ctx, v, &st);
	if (r < 0)
		return r;
	if (ret_used_chunks)
		*ret_used_chunks = st.used_chunks;
	if (ret_total_chunks)
		*ret_total_chunks = st.total_chunks;
	if (ret_snapshots)
		*ret_snapshots = st.snapshots;
	if (ret_max_snapshots)
		*ret_max_snapshots = st.max_snapshots;
	if (ret_invalid)
		*ret_invalid = st.invalid;
	if (ret_failed)
		*ret_failed = st.failed;
	return 0;
}

/*
 * Give block device @device (@rdev, @sectors long) a new mapped device
 * @name with the provider's origin table over it.  @verb ("enable",
 * "activate") leads the error message.
 */
int wrap_device(shadow_ctx *ctx, const struct shadow_provider_ops *p, const char *verb,
		const char *name, const char *device, uint64_t sectors, dev_t rdev,
		dev_t store, const char *method, uint32_t chunk_sectors)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 };
	char uuid[160];
	int r;

	r = p->origin_table(&t, sectors, rdev, store, method, chunk_sectors);
	if (r < 0)
		return ctx_fail(ctx, r, "%s %s", verb, device);
	snprintf(uuid, sizeof(uuid), SHADOW_UUID_PREFIX "%s", name);
	r = shadow_dm_create(name, uuid, &t, 0);
	if (r == -EBUSY)
		return ctx_fail(ctx, r, "%s %s: create %s: the device or the store is in use (mounted?)",
			    verb, device, name);
	if (r < 0)
		return ctx_fail(ctx, r, "%s %s: create %s with a %s table (see the kernel log)",
			    verb, device, name, p->origin_target);
	return 0;
}

/*
 * Take over dm device @name in place, the way LVM slides a snapshot-origin
 * under an LV: <name>-real gets the current table, and <name> is reloaded
 * with the provider's origin table over <name>-real, keeping its name,
 * device number and openers (a mounted file system stays mounted).
 */
int takeover(shadow_ctx *ctx, const struct shadow_provider_ops *p,
	     const char *name, const char *real, uint64_t sectors,
	     dev_t store, const char *method, uint32_t chunk_sectors)
{
	_cleanup_table_ struct shadow_dm_table cur = { 0 }, t = { 0 };
	struct shadow_dm_info info, rinfo;
	char uuid[140];
	int r, k;

	r = shadow_dm_info(name, &info);
	if (r < 0 || !info.exists)
		return ctx_fail(ctx, r < 0 ? r : -ENODEV, "look up device-mapper device %s", name);
	if (info.suspended)
		return ctx_fail(ctx, -EBUSY, "take over %s: it is suspended", name);
	if (info.inactive_table)
		return ctx_fail(ctx, -EBUSY, "take over %s: it has an inactive table loaded", name);
	r = shadow_dm_get_table(name, true, &cur);
	if (r < 0)
		return ctx_fail(ctx, r, "read the table of %s", name);
	r = shadow_dm_info(real, &rinfo);
	if (r < 0)
		return ctx_fail(ctx, r, "look up %s", real);
	if (rinfo.exists)
		return ctx_fail(ctx, -EEXIST, "take over %s: a device named %s exists", name, real);

	if (info.uuid[0])
		snprintf(uuid, sizeof(uuid), "%s-real", info.uuid);
	else
		snprintf(uuid, sizeof(uuid), SHADOW_UUID_PREFIX "REAL-%s", name);
	r = shadow_dm_create(real, uuid, &cur, info.read_only ? SHADOW_DM_READONLY : 0);
	if (r < 0)
		return ctx_fail(ctx, r, "take over %s: create %s", name, real);
	r = shadow_dm_info(real, &rinfo);
	if (r == 0 && !rinfo.exists)
		r = -ENODEV;
	if (r == 0)
		r = p->origin_table(&t, sectors, makedev(rinfo.major, rinfo.minor), store,
				    method, chunk_sectors);
	if (r == 0) {
		r = shadow_dm_load(name, &t, info.read_only ? SHADOW_DM_READONLY : 0);
		if (r < 0)
			ctx_fail(ctx, r, "take over %s: load the %s table (see the kernel log)",
				 name, p->origin_target);
	} else {
		ctx_fail(ctx, r, "take over %s: look up %s", name, real);
	}
	if (r < 0) {
		(void)shadow_dm_remove(real);
		return r;
	}
	r = shadow_dm_suspend(name, true);
	if (r < 0) {
		ctx_fail(ctx, r, "take over %s: suspend", name);
		(void)shadow_dm_clear(name);
		(void)shadow_dm_remove(real);
		return r;
	}
	r = shadow_dm_resume(name);
	if (r < 0) {
		/* The new table did not go live: put the old one back. */
		ctx_fail(ctx, r, "take over %s: resume with the %s table", name, p->origin_target);
		(void)shadow_dm_clear(name);
		k = shadow_dm_resume(name);
		if (k < 0)
			ctx_log(ctx, SHADOW_LOG_ERR, "%s stays suspended: resume failed (%s)",
			       name, strerror(-k));
		else
			(void)shadow_dm_remove(real);
		return r;
	}
	return 0;
}

/*
 * Give a taken-over device its original table back and drop <name>-real.
 * @verb ("disable", "deactivate") leads the error message.
 */
int giveback(shadow_ctx *ctx, const char *verb, const struct shadow_volume *v)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 };
	struct shadow_dm_info info;
	int r;

	r = shadow_dm_get_table(v->real_name, true, &t);
	if (r < 0)
		return ctx_fail(ctx, r, "%s %s: read the table of %s", verb, v->name, v->real_name);
	r = shadow_dm_info(v->dm_name, &info);
	if (r < 0)
		return ctx_fail(ctx, r, "%s %s: look it up", verb, v->name);
	r = shadow_dm_load(v->dm_name, &t, info.read_only ? SHADOW_DM_READONLY : 0);
	if (r < 0)
		return ctx_fail(ctx, r, "%s %s: load its original table", verb, v->name);
	r = shadow_dm_suspend(v->dm_name, true);
	if (r < 0) {
		(void)shadow_dm_clear(v->dm_name);
		return ctx_fail(ctx, r, "%s %s: suspend", verb, v->name);
	}
	r = shadow_dm_resume(v->dm_name);
	if (r < 0) {
		(void)shadow_dm_clear(v->dm_name);
		(void)shadow_dm_resume(v->dm_name);
		return ctx_fail(ctx, r, "%s %s: resume with its original table", verb, v->name);
	}
	r = shadow_dm_remove(v->real_name);
	if (r < 0)
		ctx_log(ctx, SHADOW_LOG_WARNING, "%s %s: could not remove %s: %s",
		       verb, v->name, v->real_name, strerror(-r));
	return 0;
}

static int volume_new(const char *name, const char *device, const char *store,
		      const char *method, uint32_t chunk_sectors, const char *real,
		      const char *provider, struct shadow_volume **ret)
{
	struct shadow_volume *v = calloc(1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	v->name = strdup(name);
	v->device = strdup(device);
	v->store = strdup(store);
	v->method = strdup(method);
	v->dm_name = strdup(name);
	v->real_name = real ? strdup(real) : NULL;
	v->provider = strdup(provider);
	v->chunk_sectors = chunk_sectors;
	v->enabled = now_realtime();
	v->active = true;
	if (!v->name || !v->device || !v->store || !v->method || !v->dm_name ||
	    (real && !v->real_name) || !v->provider) {
		shadow_volume_free(v);
		return -ENOMEM;
	}
	*ret = v;
	return 0;
}

/* Already a volume of ours, or an origin or snapshot of LVM's (dm-snapshot)? */
static const char *snapshot_target(const struct shadow_dm_table *t)
{
	static const char *const taken[] = { "snapshot-origin", "snapshot", "snapshot-merge" };

	for (unsigned int i = 0; i < t->n; i++) {
		if (strncmp(t->targets[i].type, "shadow-", 7) == 0)
			return t->targets[i].type;
		for (size_t j = 0; j < ELEMENTSOF(taken); j++)
			if (strcmp(t->targets[i].type, taken[j]) == 0)
				return t->targets[i].type;
	}
	return NULL;
}

int shadow_volume_enable(shadow_ctx *ctx, const char *device,
			 const char *store, const char *method,
			 uint64_t chunk_bytes, const char *name,
			 shadow_volume **ret)
{
	return shadow_volume_enable_with_provider(ctx, device, store, method, chunk_bytes,
						  name, NULL, ret);
}

int shadow_volume_enable_with_provider(shadow_ctx *ctx, const char *device,
				       const char *store, const char *method,
				       uint64_t chunk_bytes, const char *name,
				       const char *provider, shadow_volume **ret)
{
	const struct shadow_provider_ops *p;
	_cleanup_free_ char *dm_name = NULL;
	char real[160];
	struct shadow_volume *v;
	struct shadow_dm_info info;
	uint64_t sectors;
	uint32_t chunk;
	dev_t rdev, srdev;
	bool is_dm;
	int r;
	CTX_DM_LOG(ctx);

	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "enable %s: the context is not open", device);
	r = provider_check_name(ctx, device, provider);
	if (r < 0)
		return r;
	if (!method)
		method = "cow";
	if (strcmp(method, "cow") != 0)
		return ctx_fail(ctx, -EOPNOTSUPP,
			    "enable %s: method %s is not provided (this version has cow)", device, method);
	if (!chunk_bytes)
		chunk_bytes = SHADOW_MIN_CHUNK_SECTORS << 9;
	if (chunk_bytes % 512 || !shadow_chunk_sectors_valid(chunk_bytes >> 9))
		return ctx_fail(ctx, -EINVAL,
			    "enable %s: chunk size must be a power of two from %u KiB to %u KiB",
			    device, SHADOW_MIN_CHUNK_SECTORS / 2, SHADOW_MAX_CHUNK_SECTORS / 2);
	chunk = (uint32_t)(chunk_bytes >> 9);

	r = block_device(device, &rdev, &sectors);
	if (r < 0)
		return ctx_fail(ctx, r, "enable %s: open the device", device);
	r = block_device(store, &srdev, NULL);
	if (r < 0)
		return ctx_fail(ctx, r, "enable %s: open the store %s", device, store);
	if (rdev == srdev)
		return ctx_fail(ctx, -EINVAL, "enable %s: the store is the device itself", device);
	for (size_t i = 0; i < ctx->cat.n_volumes; i++) {
		struct shadow_volume *o = ctx->cat.volumes[i];
		dev_t d;

		if (block_device(o->device, &d, NULL) == 0 && (d == rdev || d == srdev))
			return ctx_fail(ctx, -EEXIST, "enable %s: %s is already volume %s",
				    device, d == rdev ? device : store, o->name);
		if (block_device(o->store, &d, NULL) == 0 && (d == srdev || d == rdev))
			return ctx_fail(ctx, -EBUSY, "enable %s: %s is the store of volume %s",
				    device, d == srdev ? store : device, o->name);
	}

	is_dm = shadow_dm_is_dm_major(major(rdev));
	if (is_dm) {
		_cleanup_table_ struct shadow_dm_table cur = { 0 };

		r = shadow_dm_info_by_devno(major(rdev), minor(rdev), &info, &dm_name);
		if (r < 0)
			return ctx_fail(ctx, r, "enable %s: look up its device-mapper device", device);
		if (name && strcmp(name, dm_name) != 0)
			return ctx_fail(ctx, -EINVAL,
				    "enable %s: a device-mapper device is taken over in place and keeps its name %s",
				    device, dm_name);
		if (shadow_dm_get_table(dm_name, true, &cur) == 0 && snapshot_target(&cur))
			return ctx_fail(ctx, -EEXIST, "enable %s: it is already a %s device",
					device, snapshot_target(&cur));
		name = dm_name;
	} else {
		if (!name) {
			const char *b = strrchr(device, '/');

			name = b ? b + 1 : device;
		}
		if (!valid_dm_name(name))
			return ctx_fail(ctx, -EINVAL, "enable %s: bad volume name '%s'", device, name);
		r = shadow_dm_info(name, &info);
		if (r < 0)
			return ctx_fail(ctx, r, "enable %s: look up %s", device, name);
		if (info.exists)
			return ctx_fail(ctx, -EEXIST,
				    "enable %s: a device-mapper device named %s exists", device, name);
	}
	if (shadow_catalog_volume(&ctx->cat, name))
		return ctx_fail(ctx, -EEXIST, "enable %s: a volume named %s exists", device, name);
	snprintf(real, sizeof(real), "%s-real", name);
	if (strlen(real) >= 127)
		return ctx_fail(ctx, -ENAMETOOLONG, "enable %s: name %s is too long", device, name);

	/* Last of the checks: it may load the provider's module. */
	r = provider_choose(ctx, device, provider, &p);
	if (r < 0)
		return r;
	r = p->check_store(ctx, store, sectors, chunk);
	if (r < 0)
		return r;

	if (is_dm) {
		r = takeover(ctx, p, name, real, sectors, srdev, method, chunk);
		if (r < 0)
			return r;
	} else {
		r = wrap_device(ctx, p, "enable", name, device, sectors, rdev, srdev, method, chunk);
		if (r < 0)
			return r;
	}

	r = volume_new(name, device, store, method, chunk, is_dm ? real : NULL, p->name, &v);
	if (r == 0) {
		r = shadow_catalog_add_volume(&ctx->cat, v);
		if (r < 0)
			shadow_volume_free(v);
	}
	if (r == 0)
		r = ctx_save(ctx);
	if (r < 0) {
		/* Give the device back as it was. */
		struct shadow_volume tmp = { .name = (char *)name, .dm_name = (char *)name,
					     .real_name = real };
		char saved[sizeof(ctx->error)];

		memcpy(saved, ctx->error, sizeof(saved));
		if (is_dm)
			(void)giveback(ctx, "enable", &tmp);
		else
			(void)shadow_dm_remove(name);
		memcpy(ctx->error, saved, sizeof(saved));
		v = shadow_catalog_volume(&ctx->cat, name);
		if (v)
			shadow_catalog_remove_volume(&ctx->cat, v);
		return r;
	}
	if (ret)
		*ret = v;
	return 0;
}


int shadow_volume_disable(shadow_ctx *ctx, const char *volume, unsigned int flags)
{
	struct shadow_volume *v;
	struct shadow_dm_info info;
	size_t n = 0;
	int r;
	CTX_DM_LOG(ctx);

	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "disable %s: the context is not open", volume);
	v = shadow_catalog_volume(&ctx->cat, volume);
	if (!v)
		return ctx_fail(ctx, -ENOENT, "disable %s: no such volume", volume);
	for (size_t i = 0; i < ctx->cat.n_copies; i++)
		if (strcmp(ctx->cat.copies[i]->volume, v->name) == 0)
			n++;
	if (n && !(flags & SHADOW_FORCE))
		return ctx_fail(ctx, -EBUSY,
			    "disable %s: it has %zu shadow cop%s (delete them, or use --force)",
			    volume, n, n == 1 ? "y" : "ies");
	if (v->active && !v->real_name) {
		r = shadow_dm_info(v->dm_name, &info);
		if (r < 0)
			return ctx_fail(ctx, r, "disable %s: look it up", volume);
		/* Our own exposed copies hold it open too; those go below. */
		if (info.open_count > 0) {
			size_t exposed = 0;

			for (size_t i = 0; i < ctx->cat.n_copies; i++)
				if (strcmp(ctx->cat.copies[i]->volume, v->name) == 0 &&
				    ctx->cat.copies[i]->device)
					exposed++;
			if ((size_t)info.open_count > exposed)
				return ctx_fail(ctx, -EBUSY, "disable %s: it is in use (mounted?)", volume);
		}
	}
	for (size_t i = ctx->cat.n_copies; i-- > 0;) {
		struct shadow_copy *c = ctx->cat.copies[i];

		if (strcmp(c->volume, v->name) != 0)
			continue;
		if (!v->active) {
			/* Not loaded: the kernel cannot be asked; forget them. */
			ctx_log(ctx, SHADOW_LOG_WARNING,
			       "disable %s: volume not active, shadow %" PRIu64 " dropped from the catalog only",
			       volume, c->id);
			shadow_catalog_remove_copy(&ctx->cat, c);
			continue;
		}
		r = copy_delete_locked(ctx, c, true);
		if (r < 0) {
			(void)ctx_save(ctx);
			return r;
		}
	}
	drop_empty_sets(&ctx->cat);
	if (v->active) {
		if (v->real_name) {
			r = giveback(ctx, "disable", v);
		} else {
			r = shadow_dm_remove(v->dm_name);
			if (r < 0)
				ctx_fail(ctx, r, "disable %s: remove its device-mapper device", volume);
		}
		if (r < 0) {
			(void)ctx_save(ctx);
			return r;
		}
	}
	shadow_catalog_remove_volume(&ctx->cat, v);
	return ctx_save(ctx);
}
