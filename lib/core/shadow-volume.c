/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Volumes: enable (take over a dm device in place, or wrap any other
 * block device), disable, and their storage.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "shadow-copy.h"
#include "shadow-ctx.h"
#include "shadow-format.h"
#include "shadow-kernel.h"
#include "shadow-name.h"
#include "shadow-origin.h"
#include "shadow-volume.h"

size_t shadow_ctx_volumes(shadow_ctx *ctx, shadow_volume *const **ret)
{
	if (!ctx || !ret)
		return 0;
	*ret = ctx->cat.volumes;
	return ctx->cat.n_volumes;
}

shadow_volume *shadow_ctx_find_volume(shadow_ctx *ctx, const char *name)
{
	if (!ctx || !name)
		return NULL;
	return shadow_catalog_volume(&ctx->cat, name);
}

const char *shadow_volume_name(const shadow_volume *v) { return v ? v->name : NULL; }
const char *shadow_volume_device(const shadow_volume *v) { return v ? v->device : NULL; }
const char *shadow_volume_store(const shadow_volume *v) { return v ? v->store : NULL; }
const char *shadow_volume_method(const shadow_volume *v) { return v ? v->method : NULL; }
const char *shadow_volume_dm_name(const shadow_volume *v) { return v ? v->dm_name : NULL; }
const char *shadow_volume_real_name(const shadow_volume *v) { return v ? v->real_name : NULL; }
uint64_t shadow_volume_chunk_bytes(const shadow_volume *v) { return v ? (uint64_t)v->chunk_sectors << 9 : 0; }
int64_t shadow_volume_enabled(const shadow_volume *v) { return v ? v->enabled : 0; }
enum shadow_volume_state shadow_volume_state(const shadow_volume *v)
{
	if (!v)
		return _SHADOW_VOLUME_STATE_INVALID;
	return v->active ? SHADOW_VOLUME_ACTIVE : SHADOW_VOLUME_INACTIVE;
}
const char *shadow_volume_provider(const shadow_volume *v) { return v ? v->provider : NULL; }

int shadow_volume_hydrate_rate(const shadow_volume *v, uint32_t *ret_mib_per_s)
{
	if (!v || !ret_mib_per_s)
		return -EINVAL;
	if (strcmp(v->method, "clone") != 0)
		return -EOPNOTSUPP;
	*ret_mib_per_s = v->has_hydrate_rate ? v->hydrate_rate : 0;
	return 0;
}

int shadow_volume_storage(shadow_ctx *ctx, const shadow_volume *v,
			  uint64_t *ret_used_chunks, uint64_t *ret_total_chunks,
			  unsigned int *ret_snapshots,
			  unsigned int *ret_max_snapshots,
			  unsigned int *ret_invalid, bool *ret_failed)
{
	struct shadow_storage st;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, v, "read the store: no volume given");
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

int shadow_volume_fold_progress(shadow_ctx *ctx, const shadow_volume *v,
				uint64_t *ret_cursor, uint64_t *ret_total)
{
	struct shadow_storage st;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, v, "read the fold-back: no volume given");
	if (!v->active)
		return ctx_fail(ctx, -ENODEV, "read the fold-back of volume %s: it is not active", v->name);
	r = provider_of(v)->storage(ctx, v, &st);
	if (r < 0)
		return r;
	if (ret_cursor)
		*ret_cursor = st.fold_cursor;
	if (ret_total)
		*ret_total = st.fold_total;
	return st.folding;
}

/*
 * Give block device @device (@rdev, @sectors long) a new mapped device
 * @name with the provider's origin table over it.  @verb ("enable",
 * "activate") leads the error message.
 */
int wrap_device(shadow_ctx *ctx, const struct shadow_provider_ops *p, const char *verb,
		const char *name, const char *device, uint64_t sectors, dev_t rdev,
		dev_t store, const struct origin_spec *spec)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 };
	char uuid[DM_UUID_LEN];
	int r;

	r = p->origin_table(&t, sectors, rdev, store, spec);
	if (r < 0)
		return ctx_fail(ctx, r, "%s %s", verb, device);
	r = name_volume_uuid(uuid, name);
	if (r < 0)
		return ctx_fail(ctx, r, "%s %s: the uuid of %s would pass device-mapper's limit of %d",
				verb, device, name, NAME_UUID_MAX);
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
	     dev_t store, const struct origin_spec *spec)
{
	_cleanup_table_ struct shadow_dm_table cur = { 0 }, t = { 0 };
	struct shadow_dm_info info, rinfo;
	char uuid[DM_UUID_LEN];
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

	r = name_real_uuid(uuid, name, info.uuid);
	if (r < 0)
		return ctx_fail(ctx, r, "take over %s: the uuid of %s would pass device-mapper's limit of %d",
				name, real, NAME_UUID_MAX);
	r = shadow_dm_create(real, uuid, &cur, info.read_only ? SHADOW_DM_READONLY : 0);
	if (r < 0)
		return ctx_fail(ctx, r, "take over %s: create %s", name, real);
	r = shadow_dm_info(real, &rinfo);
	if (r == 0 && !rinfo.exists)
		r = -ENODEV;
	if (r == 0)
		r = p->origin_table(&t, sectors, makedev(rinfo.major, rinfo.minor), store, spec);
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

/* @shape: what the volume is (name, method, chunk size, hydrate rate). */
static int volume_new(const struct shadow_volume *shape, const char *device, const char *store,
		      const char *real, const char *provider, struct shadow_volume **ret)
{
	const char *name = shape->name, *method = shape->method;
	uint32_t chunk_sectors = shape->chunk_sectors;
	struct shadow_volume *v = calloc(1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	v->has_hydrate_rate = shape->has_hydrate_rate;
	v->hydrate_rate = shape->hydrate_rate;
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

/* The options of an enable (shadow_enable_opts in libshadow.h). */
struct shadow_enable_opts {
	char *method;		/* NULL: "cow" */
	uint64_t chunk_bytes;	/* 0: 4 KiB */
	char *name;		/* NULL: the device's base name */
	char *provider;		/* NULL: "auto" */
	uint32_t hydrate_rate;	/* a clone volume's, MiB/s; 0: no limit */
};

int shadow_enable_opts_new(shadow_enable_opts **ret)
{
	shadow_enable_opts *o;

	if (!ret)
		return -EINVAL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	*ret = o;
	return 0;
}

shadow_enable_opts *shadow_enable_opts_free(shadow_enable_opts *o)
{
	if (!o)
		return NULL;
	free(o->method);
	free(o->name);
	free(o->provider);
	free(o);
	return NULL;
}

int shadow_enable_opts_set_method(shadow_enable_opts *o, const char *method)
{
	if (!o)
		return -EINVAL;
	return replace_str(&o->method, method);
}

int shadow_enable_opts_set_chunk_size(shadow_enable_opts *o, uint64_t bytes)
{
	if (!o)
		return -EINVAL;
	o->chunk_bytes = bytes;
	return 0;
}

int shadow_enable_opts_set_name(shadow_enable_opts *o, const char *name)
{
	if (!o)
		return -EINVAL;
	return replace_str(&o->name, name);
}

int shadow_enable_opts_set_provider(shadow_enable_opts *o, const char *provider)
{
	if (!o)
		return -EINVAL;
	return replace_str(&o->provider, provider);
}

int shadow_enable_opts_set_hydrate_rate(shadow_enable_opts *o, uint32_t mib_per_s)
{
	if (!o)
		return -EINVAL;
	o->hydrate_rate = mib_per_s;
	return 0;
}

int shadow_volume_enable(shadow_ctx *ctx, const char *device,
			 const char *store, const char *method,
			 uint64_t chunk_bytes, const char *name,
			 shadow_volume **ret)
{
	shadow_enable_opts o = {
		.method = (char *)method, .chunk_bytes = chunk_bytes, .name = (char *)name,
	};

	return shadow_volume_enable_with(ctx, device, store, &o, ret);
}

/* A volume's name must leave room for every name and uuid made from it. */
static int check_volume_name(shadow_ctx *ctx, const char *device, const char *name)
{
	struct name_check c;
	char why[160];

	if (name_check(name, SHADOW_VOLUME_NAME_MAX, &c) == NAME_OK)
		return 0;
	(void)name_explain(&c, why, sizeof(why));
	if (c.rule == NAME_TOO_LONG)
		return ctx_fail(ctx, -EINVAL,
				"enable %s: bad volume name '%s': %s (the device-mapper uuids of its "
				"shadow copies must fit in %d bytes)", device, name, why, NAME_UUID_MAX);
	return ctx_fail(ctx, -EINVAL, "enable %s: bad volume name '%s': %s", device, name, why);
}

/*
 * A device that is not dm is wrapped by a new mapped device, which needs
 * it exclusively: open it so (as the store is) to say "in use" up front,
 * instead of the kernel's bare refusal of the table.
 */
static int check_not_in_use(shadow_ctx *ctx, const char *device)
{
	_cleanup_close_ int fd = open(device, O_RDONLY | O_EXCL | O_CLOEXEC);

	if (fd >= 0)
		return 0;
	if (errno == EBUSY)
		return ctx_fail(ctx, -EBUSY, "enable %s: it is in use (mounted, or held by another device?)",
				device);
	return ctx_fail(ctx, negative_errno(), "enable %s: open the device exclusively", device);
}

int shadow_volume_enable_with(shadow_ctx *ctx, const char *device, const char *store,
			      const shadow_enable_opts *o, shadow_volume **ret)
{
	static const shadow_enable_opts defaults;
	const struct shadow_provider_ops *p;
	_cleanup_free_ char *dm_name = NULL;
	const char *method, *name, *provider;
	struct shadow_volume shape;
	struct origin_spec spec;
	char real[DM_NAME_LEN];
	struct shadow_volume *v;
	struct shadow_dm_info info;
	uint64_t sectors, chunk_bytes;
	uint32_t chunk;
	dev_t rdev, srdev;
	bool is_dm;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, device && *device, "enable: no device given");
	check_arg(ctx, store && *store, "enable %s: no store given", device);
	if (!o)
		o = &defaults;
	method = o->method;
	chunk_bytes = o->chunk_bytes;
	name = o->name;
	provider = o->provider;
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "enable %s: the context is not open", device);
	r = provider_check_name(ctx, device, provider);
	if (r < 0)
		return r;
	if (!method)
		method = "cow";
	if (strcmp(method, "cow") != 0 && strcmp(method, "row") != 0 && strcmp(method, "clone") != 0)
		return ctx_fail(ctx, -EOPNOTSUPP,
			    "enable %s: unknown method %s (cow, row or clone)", device, method);
	if (o->hydrate_rate && strcmp(method, "clone") != 0)
		return ctx_fail(ctx, -EINVAL,
				"enable %s: a hydrate rate is for clone volumes, not method %s",
				device, method);
	if (!chunk_bytes)
		chunk_bytes = SHADOW_MIN_CHUNK_SECTORS << 9;
	if (chunk_bytes % 512 || !shadow_chunk_sectors_valid(chunk_bytes >> 9))
		return ctx_fail(ctx, -EINVAL,
			    "enable %s: chunk size must be a power of two from %u KiB to %u KiB",
			    device, SHADOW_MIN_CHUNK_SECTORS / 2, SHADOW_MAX_CHUNK_SECTORS / 2);
	chunk = (uint32_t)(chunk_bytes >> 9);
	if (name) {
		r = check_volume_name(ctx, device, name);
		if (r < 0)
			return r;
	}

	r = block_device(device, &rdev, &sectors);
	if (r < 0)
		return ctx_fail(ctx, r, "enable %s: open the device", device);
	r = block_device(store, &srdev, NULL);
	if (r < 0)
		return ctx_fail(ctx, r, "enable %s: open the store %s", device, store);
	if (rdev == srdev)
		return ctx_fail(ctx, -EINVAL, "enable %s: the store is the device itself", device);
	for (size_t i = 0; i < ctx->cat.n_volumes; i++) {
		struct shadow_volume *other = ctx->cat.volumes[i];
		dev_t d;

		if (block_device(other->device, &d, NULL) == 0 && (d == rdev || d == srdev))
			return ctx_fail(ctx, -EEXIST, "enable %s: %s is already volume %s",
				    device, d == rdev ? device : store, other->name);
		if (block_device(other->store, &d, NULL) == 0 && (d == srdev || d == rdev))
			return ctx_fail(ctx, -EBUSY, "enable %s: %s is the store of volume %s",
				    device, d == srdev ? store : device, other->name);
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
		/* Its name becomes the volume's: the same rules, the same limits. */
		r = check_volume_name(ctx, device, dm_name);
		if (r < 0)
			return r;
		if (info.uuid[0] && strlen(info.uuid) + strlen("-real") > NAME_UUID_MAX)
			return ctx_fail(ctx, -ENAMETOOLONG,
					"enable %s: its uuid is %zu bytes long: the uuid of %s-real would pass "
					"device-mapper's limit of %d", device, strlen(info.uuid), dm_name,
					NAME_UUID_MAX);
		name = dm_name;
	} else {
		if (!name) {
			const char *b = strrchr(device, '/');

			name = b ? b + 1 : device;
		}
		r = check_volume_name(ctx, device, name);
		if (r < 0)
			return r;
		r = shadow_dm_info(name, &info);
		if (r < 0)
			return ctx_fail(ctx, r, "enable %s: look up %s", device, name);
		if (info.exists)
			return ctx_fail(ctx, -EEXIST,
				    "enable %s: a device-mapper device named %s exists", device, name);
		r = check_not_in_use(ctx, device);
		if (r < 0)
			return r;
	}
	if (shadow_catalog_volume(&ctx->cat, name))
		return ctx_fail(ctx, -EEXIST, "enable %s: a volume named %s exists", device, name);
	r = name_real(real, name);	/* fits: the volume name limit leaves room */
	if (r < 0)
		return ctx_fail(ctx, r, "enable %s: name the device %s-real", device, name);

	/* Last of the checks: it may load the provider's module. */
	r = provider_choose(ctx, device, provider, &p);
	if (r < 0)
		return r;
	if (!provider_has_method(p, method))
		return ctx_fail(ctx, -EOPNOTSUPP, "enable %s: %s has no method %s (it has %s)",
				device, p->name, method, p->methods);
	r = p->check_store(ctx, store, sectors, method, chunk);
	if (r < 0)
		return r;

	/* No copies yet: the table is the volume's alone. */
	shape = (struct shadow_volume) {
		.name = (char *)name, .method = (char *)method, .chunk_sectors = chunk,
		.has_hydrate_rate = o->hydrate_rate > 0, .hydrate_rate = o->hydrate_rate,
	};
	spec = (struct origin_spec) { .v = &shape };
	if (is_dm) {
		r = takeover(ctx, p, name, real, sectors, srdev, &spec);
		if (r < 0)
			return r;
	} else {
		r = wrap_device(ctx, p, "enable", name, device, sectors, rdev, srdev, &spec);
		if (r < 0)
			return r;
	}

	r = volume_new(&shape, device, store, is_dm ? real : NULL, p->name, &v);
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
		char *saved = ctx_error_take(ctx);

		if (is_dm)
			(void)giveback(ctx, "enable", &tmp);
		else
			(void)shadow_dm_remove(name);
		ctx_error_put(ctx, saved);
		v = shadow_catalog_volume(&ctx->cat, name);
		if (v)
			shadow_catalog_remove_volume(&ctx->cat, v);
		return r;
	}
	if (ret)
		*ret = v;
	return 0;
}


/* How often disable looks at a row volume's fold-back while it waits. */
#define FOLD_POLL_US	100000

/*
 * disable: a row volume's live data is in its store until fold-back has
 * moved it into the device (its copies deleted, the store's used chunks
 * back to 0); without the table the device alone would read stale data.
 * Copies just deleted (by --force, or before) return before their
 * fold-back: wait for a walk that runs, the volume in use meanwhile, and
 * refuse if it left live data.
 */
static int check_row_folded(shadow_ctx *ctx, const struct shadow_volume *v)
{
	struct shadow_origin_status st;
	bool said = false;
	int r;

	if (strcmp(v->method, "row") != 0 || !v->active)
		return 0;
	for (;;) {
		struct timespec ts = { .tv_nsec = FOLD_POLL_US * 1000 };

		r = origin_status(v->dm_name, &st, NULL);
		if (r < 0)
			return ctx_fail(ctx, r, "disable %s: read its status", v->name);
		if (!st.folding || st.failed)
			break;
		if (!said)
			ctx_log(ctx, SHADOW_LOG_NOTICE, "disable %s: waiting for fold-back to move "
				"%" PRIu64 " chunks of live data into %s", v->name, st.used_chunks,
				v->device);
		said = true;
		nanosleep(&ts, NULL);
	}
	if (st.used_chunks)
		return ctx_fail(ctx, -EBUSY,
				"disable %s: its store still holds %" PRIu64 " chunks of live data being folded "
				"back into %s; disable it once fold-back is done (0 chunks in use)",
				v->name, st.used_chunks, v->device);
	return 0;
}

int shadow_volume_disable(shadow_ctx *ctx, const char *volume, unsigned int flags)
{
	struct shadow_volume *v;
	struct shadow_dm_info info;
	size_t n = 0;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, volume && *volume, "disable: no volume given");
	check_arg(ctx, !(flags & ~(unsigned int)SHADOW_FORCE), "disable %s: unknown flags 0x%x",
		  volume, flags);
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "disable %s: the context is not open", volume);
	v = shadow_catalog_volume(&ctx->cat, volume);
	if (!v)
		return ctx_fail(ctx, -ENOENT, "disable %s: no such volume", volume);
	/* Its detached clones too: the catalog keeps them as its copies. */
	for (size_t i = 0; i < ctx->cat.n_copies; i++)
		if (!ctx->cat.copies[i]->origin && strcmp(ctx->cat.copies[i]->volume, v->name) == 0)
			n++;
	if (n && !(flags & SHADOW_FORCE))
		return ctx_fail(ctx, -EBUSY,
			    "disable %s: it has %zu shadow cop%s (delete them, or use --force)",
			    volume, n, n == 1 ? "y" : "ies");
	if (!v->active && strcmp(v->method, "row") == 0)
		return ctx_fail(ctx, -EBUSY,
				"disable %s: a row volume's live data may be in its store: activate it, "
				"delete its copies, then disable it", volume);
	if (v->active && !v->real_name) {
		r = shadow_dm_info(v->dm_name, &info);
		if (r < 0)
			return ctx_fail(ctx, r, "disable %s: look it up", volume);
		/* Our own exposed copies hold it open too; those go below. */
		if (info.open_count > 0) {
			size_t exposed = 0;

			for (size_t i = 0; i < ctx->cat.n_copies; i++)
				if (shadow_copy_in_store(ctx->cat.copies[i], v->name) &&
				    ctx->cat.copies[i]->device)
					exposed++;
			if ((size_t)info.open_count > exposed)
				return ctx_fail(ctx, -EBUSY, "disable %s: it is in use (mounted?)", volume);
		}
	}
	for (size_t i = ctx->cat.n_copies; i-- > 0;) {
		struct shadow_copy *c = ctx->cat.copies[i];

		if (c->origin || strcmp(c->volume, v->name) != 0)
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
	r = check_row_folded(ctx, v);
	if (r < 0) {
		(void)ctx_save(ctx);
		return r;
	}
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
