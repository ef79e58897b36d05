/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The orchestration layer: the context (state directory, lock, catalog),
 * volumes, shadow copy sets, shadow copies, expose, and the repair of the
 * catalog from the kernel's view.  Built on shadow-dm.c (one function per
 * dm operation), shadow-status.c (parsers) and shadow-catalog.c.
 *
 * Every public function: 0 or -errno; on failure shadow_ctx_error() holds
 * "<what failed>" (which volume, which step), and the catalog is left as it
 * was before the call, on disk and in the kernel, as far as the kernel lets
 * us undo what we did.
 */
#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "dm-shadow-layout.h"
#include "libshadow.h"
#include "macro.h"
#include "shadow-catalog.h"
#include "shadow-dm.h"
#include "shadow-format.h"
#include "shadow-status.h"
#include "shadow-store.h"

#define SHADOW_UUID_PREFIX "SHADOW-"
#define DEV_MAPPER "/dev/mapper/"

struct shadow_ctx {
	char *state_dir;
	shadow_log_fn log;
	void *log_userdata;
	char error[512];
	int lock_fd;
	bool opened;
	bool readonly;
	struct shadow_catalog cat;
};

static void table_clearp(struct shadow_dm_table *t)
{
	shadow_dm_table_clear(t);
}
#define _cleanup_table_ _cleanup_(table_clearp)

DEFINE_TRIVIAL_CLEANUP_FUNC(blkid_probe, blkid_free_probe);

/* ------------------------------------------------------------------------
 * Logging and errors
 */

_printf_(3, 4)
static void log_at(shadow_ctx *ctx, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!ctx->log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ctx->log(ctx->log_userdata, level, buf);
}

/* Record what failed; returns @r so callers can "return fail(ctx, r, ...)". */
_printf_(3, 4)
static int fail(shadow_ctx *ctx, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	va_end(ap);
	return r;
}

const char *shadow_ctx_error(const shadow_ctx *ctx)
{
	return ctx->error;
}

const char *shadow_ctx_state_dir(const shadow_ctx *ctx)
{
	return ctx->state_dir;
}

const char *shadow_version(void)
{
	return PACKAGE_VERSION;
}

static void dm_log_bridge(void *userdata, int level, const char *msg)
{
	shadow_ctx *ctx = userdata;

	if (ctx->log)
		ctx->log(ctx->log_userdata, level, msg);
}

/* ------------------------------------------------------------------------
 * Context
 */

int shadow_ctx_new(const char *state_dir, shadow_ctx **ret)
{
	shadow_ctx *ctx;
	const char *dir = state_dir;

	if (!dir || !*dir)
		dir = getenv("SHADOW_STATE_DIR");
	if (!dir || !*dir)
		dir = SHADOW_DEFAULT_STATE_DIR;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->state_dir = strdup(dir);
	if (!ctx->state_dir) {
		free(ctx);
		return -ENOMEM;
	}
	ctx->lock_fd = -EBADF;
	ctx->cat = (struct shadow_catalog) { .next_id = 1, .next_set = 1 };
	*ret = ctx;
	return 0;
}

shadow_ctx *shadow_ctx_free(shadow_ctx *ctx)
{
	if (!ctx)
		return NULL;
	shadow_catalog_clear(&ctx->cat);
	if (ctx->lock_fd >= 0)
		close(ctx->lock_fd);	/* drops the flock */
	free(ctx->state_dir);
	free(ctx);
	return NULL;
}

void shadow_ctx_set_log(shadow_ctx *ctx, shadow_log_fn fn, void *userdata)
{
	ctx->log = fn;
	ctx->log_userdata = userdata;
}

static int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return negative_errno();
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return negative_errno();
	return 0;
}

static int save(shadow_ctx *ctx)
{
	int r;

	if (ctx->readonly)
		return 0;
	r = shadow_catalog_save(ctx->state_dir, &ctx->cat);
	if (r < 0)
		return fail(ctx, r, "write the catalog in %s", ctx->state_dir);
	return 0;
}

static int repair(shadow_ctx *ctx);

int shadow_ctx_open(shadow_ctx *ctx, unsigned int flags)
{
	_cleanup_free_ char *lock = NULL;
	_cleanup_close_ int fd = -EBADF;
	char why[256];
	int r;

	if (ctx->opened)
		return fail(ctx, -EALREADY, "open the context twice");
	ctx->readonly = flags & SHADOW_OPEN_READONLY;
	r = mkdir_p(ctx->state_dir, 0755);
	if (r < 0)
		return fail(ctx, r, "create the state directory %s", ctx->state_dir);
	if (asprintf(&lock, "%s/lock", ctx->state_dir) < 0)
		return -ENOMEM;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(ctx, negative_errno(), "open the lock file %s", lock);
	while (flock(fd, LOCK_EX | ((flags & SHADOW_OPEN_WAIT) ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			return fail(ctx, -EWOULDBLOCK,
				    "take the lock: another shadowctl is running (%s)", lock);
		return fail(ctx, negative_errno(), "lock %s", lock);
	}
	r = shadow_catalog_load(ctx->state_dir, &ctx->cat, why, sizeof(why));
	if (r == -EBADMSG)
		return fail(ctx, r, "read the catalog %s/catalog.json: %s",
			    ctx->state_dir, why);
	if (r < 0)
		return fail(ctx, r, "read the catalog %s/catalog.json", ctx->state_dir);
	ctx->lock_fd = TAKE_FD(fd);
	ctx->opened = true;
	shadow_dm_init(dm_log_bridge, ctx);
	return repair(ctx);
}

/* ------------------------------------------------------------------------
 * Small helpers
 */

static const char *dm_name_of_path(const char *path)
{
	return strncmp(path, DEV_MAPPER, strlen(DEV_MAPPER)) == 0 ?
		path + strlen(DEV_MAPPER) : path;
}

static int64_t now_realtime(void)
{
	return (int64_t)time(NULL);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* A block device's number and size in sectors. */
static int block_device(const char *path, dev_t *ret_rdev, uint64_t *ret_sectors)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	uint64_t bytes;

	if (stat(path, &st) < 0)
		return negative_errno();
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	if (ret_sectors) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return negative_errno();
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return negative_errno();
		*ret_sectors = bytes >> 9;
	}
	if (ret_rdev)
		*ret_rdev = st.st_rdev;
	return 0;
}

static bool valid_dm_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= 120 || strchr(name, '/') ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *p = name; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

/* The live table of @name must be one shadow-origin line; its status. */
static int origin_status(const char *name, struct shadow_origin_status *ret,
			 uint64_t *ret_sectors)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 };
	int r;

	r = shadow_dm_get_table(name, false, &t);
	if (r < 0)
		return r;
	if (t.n != 1 || strcmp(t.targets[0].type, "shadow-origin") != 0)
		return -EMEDIUMTYPE;
	if (ret_sectors)
		*ret_sectors = t.targets[0].length;
	return ret ? shadow_parse_origin_status(t.targets[0].params, ret) : 0;
}

static bool volume_loaded(const struct shadow_volume *v)
{
	struct shadow_dm_info info;

	if (shadow_dm_info(v->dm_name, &info) < 0 || !info.exists)
		return false;
	return origin_status(v->dm_name, NULL, NULL) == 0;
}

static int kernel_list(const char *name, struct shadow_list_entry **ret,
		       unsigned int *ret_n)
{
	_cleanup_free_ char *out = NULL;
	int r;

	r = shadow_dm_message(name, "list", &out);
	if (r < 0)
		return r;
	return shadow_parse_list(out, ret, ret_n);
}

static int snap_message(const char *name, const char *verb, uint64_t id)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "%s %" PRIu64, verb, id);
	return shadow_dm_message(name, msg, NULL);
}

static size_t set_count(const struct shadow_catalog *c, uint64_t set)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_copies; i++)
		if (c->copies[i]->set == set)
			n++;
	return n;
}

/* Drop sets that no longer have any copy. */
static int drop_empty_sets(struct shadow_catalog *c)
{
	int n = 0;

	for (size_t i = c->n_sets; i-- > 0;)
		if (set_count(c, c->sets[i]->id) == 0) {
			shadow_catalog_remove_set(c, c->sets[i]);
			n++;
		}
	return n;
}

static int replace_str(char **p, const char *s)
{
	char *n = NULL;

	if (s && !(n = strdup(s)))
		return -ENOMEM;
	free(*p);
	*p = n;
	return 0;
}

/* ------------------------------------------------------------------------
 * Repair: make the catalog agree with what the kernel reports.
 */

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
	log_at(ctx, SHADOW_LOG_WARNING,
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
			return fail(ctx, r, "resume volume %s left suspended", v->name);
		log_at(ctx, SHADOW_LOG_WARNING, "catalog repaired: resumed volume %s", v->name);
		repairs++;
	}
	r = kernel_list(v->dm_name, &list, &n);
	if (r < 0)
		return fail(ctx, r, "list the snapshots of volume %s", v->name);

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
			log_at(ctx, SHADOW_LOG_WARNING,
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
			log_at(ctx, SHADOW_LOG_WARNING,
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
			r = snap_message(v->dm_name, "delete", c->snapshot);
			if (r < 0 && r != -ENOENT)
				return fail(ctx, r, "delete snapshot %" PRIu64 " of volume %s left by an unfinished set",
					    c->snapshot, v->name);
		}
		shadow_catalog_remove_copy(&ctx->cat, c);
		repairs++;
	}
	log_at(ctx, SHADOW_LOG_WARNING,
	       "catalog repaired: undid set %" PRIu64 " left unfinished", s->id);
	shadow_catalog_remove_set(&ctx->cat, s);
	return repairs + 1;
}

static int repair(shadow_ctx *ctx)
{
	int repairs = 0, r;

	for (size_t i = 0; i < ctx->cat.n_volumes; i++) {
		r = repair_volume(ctx, ctx->cat.volumes[i]);
		if (r < 0)
			return r;
		repairs += r;
	}
	for (size_t i = ctx->cat.n_sets; i-- > 0;)
		if (strcmp(ctx->cat.sets[i]->state, "creating") == 0) {
			r = repair_set(ctx, ctx->cat.sets[i]);
			if (r < 0)
				return r;
			repairs += r;
		}
	/* Exposed devices that are gone. */
	for (size_t i = 0; i < ctx->cat.n_copies; i++) {
		struct shadow_copy *c = ctx->cat.copies[i];
		struct shadow_dm_info info;

		if (!c->device)
			continue;
		if (shadow_dm_info(dm_name_of_path(c->device), &info) == 0 && info.exists)
			continue;
		log_at(ctx, SHADOW_LOG_WARNING,
		       "catalog repaired: shadow %" PRIu64 " is no longer exposed as %s",
		       c->id, c->device);
		replace_str(&c->device, NULL);
		replace_str(&c->mountpoint, NULL);
		c->writable = false;
		repairs++;
	}
	repairs += drop_empty_sets(&ctx->cat);
	if (repairs) {
		r = save(ctx);
		if (r < 0)
			return r;
	}
	return repairs;
}

/* ------------------------------------------------------------------------
 * Volumes
 */

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

int shadow_volume_storage(shadow_ctx *ctx, const shadow_volume *v,
			  uint64_t *ret_used_chunks, uint64_t *ret_total_chunks,
			  unsigned int *ret_snapshots,
			  unsigned int *ret_max_snapshots,
			  unsigned int *ret_invalid, bool *ret_failed)
{
	struct shadow_origin_status st;
	int r;

	if (!v->active)
		return fail(ctx, -ENODEV, "read the store of volume %s: it is not active", v->name);
	r = origin_status(v->dm_name, &st, NULL);
	if (r < 0)
		return fail(ctx, r, "read the status of volume %s", v->name);
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
 * Check the store before the kernel sees it, so that the usual mistakes
 * get a precise message: too small, in use, or holding something that is
 * not a dm-shadow store (the target formats only an all-zero first
 * sector, so nothing is ever overwritten, but its refusal is terse).
 */
static int check_store(shadow_ctx *ctx, const char *store, uint64_t origin_sectors,
		       uint32_t chunk_sectors)
{
	_cleanup_(shadow_store_freep) struct shadow_store *s = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct shadow_layout l;
	struct shadow_error err = { 0 };
	const struct shadow_superblock *sb;
	uint8_t block[512];
	uint64_t store_sectors;
	int r;

	r = block_device(store, NULL, &store_sectors);
	if (r < 0)
		return fail(ctx, r, "open the store %s", store);
	fd = open(store, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd < 0)
		return fail(ctx, negative_errno(), "open the store %s exclusively (in use?)", store);
	if (pread(fd, block, sizeof(block), 0) != (ssize_t)sizeof(block))
		return fail(ctx, -EIO, "read the store %s", store);
	/* Let go before the kernel (or the reader below) opens it. */
	close(TAKE_FD(fd));
	if (shadow_block_is_zero(block)) {
		if (shadow_layout_compute(&l, store_sectors,
					  shadow_div_round_up(origin_sectors, chunk_sectors),
					  chunk_sectors, SHADOW_MAX_SNAPSHOTS) < 0) {
			uint64_t need = shadow_layout_sectors(l.record_start, 1, chunk_sectors) + 1;

			return fail(ctx, -ENOSPC,
				    "use the store %s: too small (%" PRIu64 " KiB) for an origin of %" PRIu64
				    " KiB; it needs at least %" PRIu64 " KiB",
				    store, store_sectors / 2, origin_sectors / 2, (need + 1) / 2);
		}
		return 0;
	}
	r = shadow_store_open(store, &s, &err);
	if (r < 0)
		return fail(ctx, -EINVAL,
			    "use the store %s: it holds data that is not a dm-shadow store (%s); "
			    "zero its first sector to use it", store, err.msg);
	sb = shadow_store_sb(s);
	if (sb->chunk_sectors != chunk_sectors)
		return fail(ctx, -EINVAL,
			    "use the store %s: it was formatted with a chunk size of %u KiB",
			    store, sb->chunk_sectors / 2);
	if (sb->origin_sectors != origin_sectors)
		return fail(ctx, -EINVAL,
			    "use the store %s: it belongs to an origin of %" PRIu64 " sectors, not %" PRIu64,
			    store, sb->origin_sectors, origin_sectors);
	return 0;
}

static int origin_table(struct shadow_dm_table *t, uint64_t sectors, dev_t origin,
			dev_t store, const char *method, uint32_t chunk_sectors)
{
	char params[128];

	snprintf(params, sizeof(params), "%u:%u %u:%u %s %u", major(origin),
		 minor(origin), major(store), minor(store), method, chunk_sectors);
	return shadow_dm_table_add(t, 0, sectors, "shadow-origin", params);
}

/*
 * Take over dm device @name in place, the way LVM slides a snapshot-origin
 * under an LV: <name>-real gets the current table, and <name> is reloaded
 * with shadow-origin over <name>-real, keeping its name, device number and
 * openers (a mounted file system stays mounted).
 */
static int takeover(shadow_ctx *ctx, const char *name, const char *real,
		    uint64_t sectors, dev_t store, const char *method,
		    uint32_t chunk_sectors)
{
	_cleanup_table_ struct shadow_dm_table cur = { 0 }, t = { 0 };
	struct shadow_dm_info info, rinfo;
	char uuid[140];
	int r, k;

	r = shadow_dm_info(name, &info);
	if (r < 0 || !info.exists)
		return fail(ctx, r < 0 ? r : -ENODEV, "look up device-mapper device %s", name);
	if (info.suspended)
		return fail(ctx, -EBUSY, "take over %s: it is suspended", name);
	if (info.inactive_table)
		return fail(ctx, -EBUSY, "take over %s: it has an inactive table loaded", name);
	r = shadow_dm_get_table(name, true, &cur);
	if (r < 0)
		return fail(ctx, r, "read the table of %s", name);
	r = shadow_dm_info(real, &rinfo);
	if (r < 0)
		return fail(ctx, r, "look up %s", real);
	if (rinfo.exists)
		return fail(ctx, -EEXIST, "take over %s: a device named %s exists", name, real);

	if (info.uuid[0])
		snprintf(uuid, sizeof(uuid), "%s-real", info.uuid);
	else
		snprintf(uuid, sizeof(uuid), SHADOW_UUID_PREFIX "REAL-%s", name);
	r = shadow_dm_create(real, uuid, &cur, info.read_only ? SHADOW_DM_READONLY : 0);
	if (r < 0)
		return fail(ctx, r, "take over %s: create %s", name, real);
	r = shadow_dm_info(real, &rinfo);
	if (r == 0 && !rinfo.exists)
		r = -ENODEV;
	if (r == 0)
		r = origin_table(&t, sectors, makedev(rinfo.major, rinfo.minor), store,
				 method, chunk_sectors);
	if (r == 0) {
		r = shadow_dm_load(name, &t, info.read_only ? SHADOW_DM_READONLY : 0);
		if (r < 0)
			fail(ctx, r, "take over %s: load the shadow-origin table (see the kernel log)", name);
	} else {
		fail(ctx, r, "take over %s: look up %s", name, real);
	}
	if (r < 0) {
		(void)shadow_dm_remove(real);
		return r;
	}
	r = shadow_dm_suspend(name, true);
	if (r < 0) {
		fail(ctx, r, "take over %s: suspend", name);
		(void)shadow_dm_clear(name);
		(void)shadow_dm_remove(real);
		return r;
	}
	r = shadow_dm_resume(name);
	if (r < 0) {
		/* The new table did not go live: put the old one back. */
		fail(ctx, r, "take over %s: resume with the shadow-origin table", name);
		(void)shadow_dm_clear(name);
		k = shadow_dm_resume(name);
		if (k < 0)
			log_at(ctx, SHADOW_LOG_ERR, "%s stays suspended: resume failed (%s)",
			       name, strerror(-k));
		else
			(void)shadow_dm_remove(real);
		return r;
	}
	return 0;
}

/* Give a taken-over device its original table back and drop <name>-real. */
static int giveback(shadow_ctx *ctx, const struct shadow_volume *v)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 };
	struct shadow_dm_info info;
	int r;

	r = shadow_dm_get_table(v->real_name, true, &t);
	if (r < 0)
		return fail(ctx, r, "disable %s: read the table of %s", v->name, v->real_name);
	r = shadow_dm_info(v->dm_name, &info);
	if (r < 0)
		return fail(ctx, r, "disable %s: look it up", v->name);
	r = shadow_dm_load(v->dm_name, &t, info.read_only ? SHADOW_DM_READONLY : 0);
	if (r < 0)
		return fail(ctx, r, "disable %s: load its original table", v->name);
	r = shadow_dm_suspend(v->dm_name, true);
	if (r < 0) {
		(void)shadow_dm_clear(v->dm_name);
		return fail(ctx, r, "disable %s: suspend", v->name);
	}
	r = shadow_dm_resume(v->dm_name);
	if (r < 0) {
		(void)shadow_dm_clear(v->dm_name);
		(void)shadow_dm_resume(v->dm_name);
		return fail(ctx, r, "disable %s: resume with its original table", v->name);
	}
	r = shadow_dm_remove(v->real_name);
	if (r < 0)
		log_at(ctx, SHADOW_LOG_WARNING, "disable %s: could not remove %s: %s",
		       v->name, v->real_name, strerror(-r));
	return 0;
}

static int volume_new(const char *name, const char *device, const char *store,
		      const char *method, uint32_t chunk_sectors, const char *real,
		      struct shadow_volume **ret)
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
	v->chunk_sectors = chunk_sectors;
	v->enabled = now_realtime();
	v->active = true;
	if (!v->name || !v->device || !v->store || !v->method || !v->dm_name ||
	    (real && !v->real_name)) {
		shadow_volume_free(v);
		return -ENOMEM;
	}
	*ret = v;
	return 0;
}

int shadow_volume_enable(shadow_ctx *ctx, const char *device,
			 const char *store, const char *method,
			 uint64_t chunk_bytes, const char *name,
			 shadow_volume **ret)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 };
	_cleanup_free_ char *dm_name = NULL;
	char real[160], uuid[160];
	struct shadow_volume *v;
	struct shadow_dm_info info;
	uint64_t sectors;
	uint32_t chunk;
	dev_t rdev, srdev;
	bool is_dm;
	int r;

	if (!ctx->opened)
		return fail(ctx, -EBADFD, "enable %s: the context is not open", device);
	if (!method)
		method = "cow";
	if (strcmp(method, "cow") != 0)
		return fail(ctx, -EOPNOTSUPP,
			    "enable %s: method %s is not provided (this version has cow)", device, method);
	if (!chunk_bytes)
		chunk_bytes = 4096;
	if (chunk_bytes < 4096 || chunk_bytes > 1048576 || (chunk_bytes & (chunk_bytes - 1)))
		return fail(ctx, -EINVAL,
			    "enable %s: chunk size must be a power of two from 4 KiB to 1 MiB", device);
	chunk = (uint32_t)(chunk_bytes >> 9);

	r = block_device(device, &rdev, &sectors);
	if (r < 0)
		return fail(ctx, r, "enable %s: open the device", device);
	r = block_device(store, &srdev, NULL);
	if (r < 0)
		return fail(ctx, r, "enable %s: open the store %s", device, store);
	if (rdev == srdev)
		return fail(ctx, -EINVAL, "enable %s: the store is the device itself", device);
	for (size_t i = 0; i < ctx->cat.n_volumes; i++) {
		struct shadow_volume *o = ctx->cat.volumes[i];
		dev_t d;

		if (block_device(o->device, &d, NULL) == 0 && (d == rdev || d == srdev))
			return fail(ctx, -EEXIST, "enable %s: %s is already volume %s",
				    device, d == rdev ? device : store, o->name);
		if (block_device(o->store, &d, NULL) == 0 && (d == srdev || d == rdev))
			return fail(ctx, -EBUSY, "enable %s: %s is the store of volume %s",
				    device, d == srdev ? store : device, o->name);
	}

	is_dm = shadow_dm_is_dm_major(major(rdev));
	if (is_dm) {
		_cleanup_table_ struct shadow_dm_table cur = { 0 };

		r = shadow_dm_info_by_devno(major(rdev), minor(rdev), &info, &dm_name);
		if (r < 0)
			return fail(ctx, r, "enable %s: look up its device-mapper device", device);
		if (name && strcmp(name, dm_name) != 0)
			return fail(ctx, -EINVAL,
				    "enable %s: a device-mapper device is taken over in place and keeps its name %s",
				    device, dm_name);
		if (shadow_dm_get_table(dm_name, true, &cur) == 0 && cur.n >= 1)
			for (unsigned int i = 0; i < cur.n; i++)
				if (strncmp(cur.targets[i].type, "shadow-", 7) == 0)
					return fail(ctx, -EEXIST,
						    "enable %s: it is already a %s device",
						    device, cur.targets[i].type);
		name = dm_name;
	} else {
		if (!name) {
			const char *b = strrchr(device, '/');

			name = b ? b + 1 : device;
		}
		if (!valid_dm_name(name))
			return fail(ctx, -EINVAL, "enable %s: bad volume name '%s'", device, name);
		r = shadow_dm_info(name, &info);
		if (r < 0)
			return fail(ctx, r, "enable %s: look up %s", device, name);
		if (info.exists)
			return fail(ctx, -EEXIST,
				    "enable %s: a device-mapper device named %s exists", device, name);
	}
	if (shadow_catalog_volume(&ctx->cat, name))
		return fail(ctx, -EEXIST, "enable %s: a volume named %s exists", device, name);
	snprintf(real, sizeof(real), "%s-real", name);
	if (strlen(real) >= 127)
		return fail(ctx, -ENAMETOOLONG, "enable %s: name %s is too long", device, name);

	r = check_store(ctx, store, sectors, chunk);
	if (r < 0)
		return r;

	if (is_dm) {
		r = takeover(ctx, name, real, sectors, srdev, method, chunk);
		if (r < 0)
			return r;
	} else {
		r = origin_table(&t, sectors, rdev, srdev, method, chunk);
		if (r < 0)
			return fail(ctx, r, "enable %s", device);
		snprintf(uuid, sizeof(uuid), SHADOW_UUID_PREFIX "%s", name);
		r = shadow_dm_create(name, uuid, &t, 0);
		if (r == -EBUSY)
			return fail(ctx, r, "enable %s: create %s: the device or the store is in use (mounted?)",
				    device, name);
		if (r < 0)
			return fail(ctx, r, "enable %s: create %s with a shadow-origin table (see the kernel log)",
				    device, name);
	}

	r = volume_new(name, device, store, method, chunk, is_dm ? real : NULL, &v);
	if (r == 0) {
		r = shadow_catalog_add_volume(&ctx->cat, v);
		if (r < 0)
			shadow_volume_free(v);
	}
	if (r == 0)
		r = save(ctx);
	if (r < 0) {
		/* Give the device back as it was. */
		struct shadow_volume tmp = { .name = (char *)name, .dm_name = (char *)name,
					     .real_name = real };
		char saved[sizeof(ctx->error)];

		memcpy(saved, ctx->error, sizeof(saved));
		if (is_dm)
			(void)giveback(ctx, &tmp);
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

static int unexpose(shadow_ctx *ctx, struct shadow_copy *c);
static int delete_copy(shadow_ctx *ctx, struct shadow_copy *c, bool force);

int shadow_volume_disable(shadow_ctx *ctx, const char *volume, unsigned int flags)
{
	struct shadow_volume *v;
	struct shadow_dm_info info;
	size_t n = 0;
	int r;

	if (!ctx->opened)
		return fail(ctx, -EBADFD, "disable %s: the context is not open", volume);
	v = shadow_catalog_volume(&ctx->cat, volume);
	if (!v)
		return fail(ctx, -ENOENT, "disable %s: no such volume", volume);
	for (size_t i = 0; i < ctx->cat.n_copies; i++)
		if (strcmp(ctx->cat.copies[i]->volume, v->name) == 0)
			n++;
	if (n && !(flags & SHADOW_FORCE))
		return fail(ctx, -EBUSY,
			    "disable %s: it has %zu shadow cop%s (delete them, or use --force)",
			    volume, n, n == 1 ? "y" : "ies");
	if (v->active && !v->real_name) {
		r = shadow_dm_info(v->dm_name, &info);
		if (r < 0)
			return fail(ctx, r, "disable %s: look it up", volume);
		/* Our own exposed copies hold it open too; those go below. */
		if (info.open_count > 0) {
			size_t exposed = 0;

			for (size_t i = 0; i < ctx->cat.n_copies; i++)
				if (strcmp(ctx->cat.copies[i]->volume, v->name) == 0 &&
				    ctx->cat.copies[i]->device)
					exposed++;
			if ((size_t)info.open_count > exposed)
				return fail(ctx, -EBUSY, "disable %s: it is in use (mounted?)", volume);
		}
	}
	for (size_t i = ctx->cat.n_copies; i-- > 0;) {
		struct shadow_copy *c = ctx->cat.copies[i];

		if (strcmp(c->volume, v->name) != 0)
			continue;
		if (!v->active) {
			/* Not loaded: the kernel cannot be asked; forget them. */
			log_at(ctx, SHADOW_LOG_WARNING,
			       "disable %s: volume not active, shadow %" PRIu64 " dropped from the catalog only",
			       volume, c->id);
			shadow_catalog_remove_copy(&ctx->cat, c);
			continue;
		}
		r = delete_copy(ctx, c, true);
		if (r < 0) {
			(void)save(ctx);
			return r;
		}
	}
	drop_empty_sets(&ctx->cat);
	if (v->active) {
		if (v->real_name) {
			r = giveback(ctx, v);
		} else {
			r = shadow_dm_remove(v->dm_name);
			if (r < 0)
				fail(ctx, r, "disable %s: remove its device-mapper device", volume);
		}
		if (r < 0) {
			(void)save(ctx);
			return r;
		}
	}
	shadow_catalog_remove_volume(&ctx->cat, v);
	return save(ctx);
}

/* ------------------------------------------------------------------------
 * Shadow copy sets
 */

size_t shadow_ctx_sets(shadow_ctx *ctx, shadow_set *const **ret)
{
	*ret = ctx->cat.sets;
	return ctx->cat.n_sets;
}

shadow_set *shadow_ctx_find_set(shadow_ctx *ctx, uint64_t id)
{
	return shadow_catalog_set(&ctx->cat, id);
}

uint64_t shadow_set_id(const shadow_set *s) { return s->id; }
int64_t shadow_set_created(const shadow_set *s) { return s->created; }
uint64_t shadow_set_freeze_us(const shadow_set *s) { return s->freeze_us; }
const char *shadow_set_state(const shadow_set *s) { return s->state; }
size_t shadow_set_count(shadow_ctx *ctx, const shadow_set *s) { return set_count(&ctx->cat, s->id); }

/* Where one volume of a set creation is. */
struct member {
	struct shadow_volume *v;
	struct shadow_copy *c;
	bool suspended;
	bool created;
};

static int new_copy(shadow_ctx *ctx, struct shadow_volume *v, uint64_t set,
		    struct shadow_copy **ret)
{
	struct shadow_copy *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->id = ctx->cat.next_id;
	c->snapshot = c->id;
	c->set = set;
	c->created = now_realtime();
	c->volume = strdup(v->name);
	c->method = strdup(v->method);
	c->state = strdup("creating");
	if (!c->volume || !c->method || !c->state) {
		shadow_copy_free(c);
		return -ENOMEM;
	}
	r = shadow_catalog_add_copy(&ctx->cat, c);
	if (r < 0) {
		shadow_copy_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

/* Undo a set creation: resume every suspended volume, delete every snapshot. */
static void set_rollback(shadow_ctx *ctx, struct member *m, size_t n, struct shadow_set *s)
{
	for (size_t i = n; i-- > 0;)
		if (m[i].suspended) {
			int r = shadow_dm_resume(m[i].v->dm_name);

			if (r < 0)
				log_at(ctx, SHADOW_LOG_ERR, "rollback: resume volume %s failed: %s",
				       m[i].v->name, strerror(-r));
			else
				m[i].suspended = false;
		}
	for (size_t i = 0; i < n; i++)
		if (m[i].created) {
			int r = snap_message(m[i].v->dm_name, "delete", m[i].c->snapshot);

			if (r < 0 && r != -ENOENT)
				log_at(ctx, SHADOW_LOG_ERR,
				       "rollback: delete snapshot %" PRIu64 " of volume %s failed: %s",
				       m[i].c->snapshot, m[i].v->name, strerror(-r));
			else
				m[i].created = false;
		}
	for (size_t i = 0; i < n; i++)
		if (m[i].c)
			shadow_catalog_remove_copy(&ctx->cat, m[i].c);
	shadow_catalog_remove_set(&ctx->cat, s);
	(void)shadow_catalog_save(ctx->state_dir, &ctx->cat);
}

static int commit_step_late(shadow_ctx *ctx, uint64_t t0, uint64_t timeout,
			    const char *vol, const char *step)
{
	uint64_t spent = now_us() - t0;

	if (spent <= timeout)
		return 0;
	return fail(ctx, -ETIMEDOUT,
		    "create the set: volume %s, %s: the commit took %" PRIu64 " ms, more than the %" PRIu64 " ms allowed",
		    vol, step, spent / 1000, timeout / 1000);
}

int shadow_set_create(shadow_ctx *ctx, const char *const *volumes, size_t n,
		      uint64_t commit_timeout_us, shadow_set **ret)
{
	_cleanup_free_ struct member *m = NULL;
	struct shadow_set *s;
	uint64_t t0, t1;
	int r;

	if (!ctx->opened)
		return fail(ctx, -EBADFD, "create the set: the context is not open");
	if (n == 0)
		return fail(ctx, -EINVAL, "create the set: no volume given");
	if (!commit_timeout_us)
		commit_timeout_us = SHADOW_DEFAULT_COMMIT_TIMEOUT_US;
	m = calloc(n, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct shadow_origin_status st;

		m[i].v = shadow_catalog_volume(&ctx->cat, volumes[i]);
		if (!m[i].v)
			return fail(ctx, -ENOENT, "create the set: no volume named %s", volumes[i]);
		for (size_t j = 0; j < i; j++)
			if (m[j].v == m[i].v)
				return fail(ctx, -EINVAL, "create the set: volume %s given twice",
					    volumes[i]);
		if (!m[i].v->active)
			return fail(ctx, -ENODEV, "create the set: volume %s is not active", volumes[i]);
		r = origin_status(m[i].v->dm_name, &st, NULL);
		if (r < 0)
			return fail(ctx, r, "create the set: volume %s, read its status", volumes[i]);
		if (st.failed)
			return fail(ctx, -EIO, "create the set: volume %s, its store has failed", volumes[i]);
		if (st.snapshots >= st.max_snapshots)
			return fail(ctx, -ENOSPC, "create the set: volume %s has %u snapshots, its store's maximum",
				    volumes[i], st.snapshots);
	}

	/* Record the set as "creating" first: a crash from here on is undone by repair(). */
	s = calloc(1, sizeof(*s));
	if (!s || !(s->state = strdup("creating"))) {
		free(s);
		return -ENOMEM;
	}
	s->id = ctx->cat.next_set;
	s->created = now_realtime();
	r = shadow_catalog_add_set(&ctx->cat, s);
	if (r < 0) {
		shadow_set_free(s);
		return r;
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = new_copy(ctx, m[i].v, s->id, &m[i].c);
	if (r == 0)
		r = shadow_catalog_save(ctx->state_dir, &ctx->cat);
	if (r < 0) {
		fail(ctx, r, "create the set: record it in the catalog");
		set_rollback(ctx, m, n, s);
		return r;
	}

	/* The freeze window: first suspend to last resume. */
	t0 = now_us();
	for (size_t i = 0; i < n; i++) {
		r = shadow_dm_suspend(m[i].v->dm_name, true);
		if (r < 0) {
			fail(ctx, r, "create the set: volume %s, suspend (freeze)", m[i].v->name);
			break;
		}
		m[i].suspended = true;
		r = commit_step_late(ctx, t0, commit_timeout_us, m[i].v->name, "suspend");
		if (r < 0)
			break;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		r = snap_message(m[i].v->dm_name, "create", m[i].c->snapshot);
		if (r < 0) {
			fail(ctx, r, "create the set: volume %s, create snapshot %" PRIu64,
			     m[i].v->name, m[i].c->snapshot);
			break;
		}
		m[i].created = true;
		r = commit_step_late(ctx, t0, commit_timeout_us, m[i].v->name, "create snapshot");
	}
	for (size_t i = n; i-- > 0 && r == 0;) {
		r = shadow_dm_resume(m[i].v->dm_name);
		if (r < 0) {
			fail(ctx, r, "create the set: volume %s, resume", m[i].v->name);
			break;
		}
		m[i].suspended = false;
	}
	t1 = now_us();
	if (r == 0)
		r = commit_step_late(ctx, t0, commit_timeout_us, m[0].v->name, "resume");
	if (r < 0) {
		set_rollback(ctx, m, n, s);
		return r;
	}

	s->freeze_us = t1 - t0;
	if (replace_str(&s->state, "complete") < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (replace_str(&m[i].c->state, "valid") < 0)
			return -ENOMEM;
	r = save(ctx);
	if (r < 0) {
		/* All or none: a set the catalog does not hold is undone. */
		set_rollback(ctx, m, n, s);
		return r;
	}
	log_at(ctx, SHADOW_LOG_INFO, "set %" PRIu64 ": %zu volume(s), frozen %" PRIu64 " µs",
	       s->id, n, s->freeze_us);
	if (ret)
		*ret = s;
	return 0;
}

int shadow_set_delete(shadow_ctx *ctx, uint64_t id, unsigned int flags)
{
	struct shadow_set *s;
	int r;

	if (!ctx->opened)
		return fail(ctx, -EBADFD, "delete set %" PRIu64 ": the context is not open", id);
	s = shadow_catalog_set(&ctx->cat, id);
	if (!s)
		return fail(ctx, -ENOENT, "delete set %" PRIu64 ": no such set", id);
	if (!(flags & SHADOW_FORCE))
		for (size_t i = 0; i < ctx->cat.n_copies; i++)
			if (ctx->cat.copies[i]->set == id && ctx->cat.copies[i]->device)
				return fail(ctx, -EBUSY,
					    "delete set %" PRIu64 ": shadow %" PRIu64 " is exposed as %s (unexpose it first)",
					    id, ctx->cat.copies[i]->id, ctx->cat.copies[i]->device);
	for (size_t i = ctx->cat.n_copies; i-- > 0;)
		if (ctx->cat.copies[i]->set == id) {
			r = delete_copy(ctx, ctx->cat.copies[i], flags & SHADOW_FORCE);
			if (r < 0) {
				drop_empty_sets(&ctx->cat);
				(void)save(ctx);
				return r;
			}
		}
	drop_empty_sets(&ctx->cat);
	return save(ctx);
}

/* ------------------------------------------------------------------------
 * Shadow copies
 */

size_t shadow_ctx_copies(shadow_ctx *ctx, shadow_copy *const **ret)
{
	*ret = ctx->cat.copies;
	return ctx->cat.n_copies;
}

shadow_copy *shadow_ctx_find_copy(shadow_ctx *ctx, uint64_t id)
{
	return shadow_catalog_copy(&ctx->cat, id);
}

uint64_t shadow_copy_id(const shadow_copy *c) { return c->id; }
uint64_t shadow_copy_snapshot(const shadow_copy *c) { return c->snapshot; }
uint64_t shadow_copy_set(const shadow_copy *c) { return c->set; }
const char *shadow_copy_volume(const shadow_copy *c) { return c->volume; }
const char *shadow_copy_method(const shadow_copy *c) { return c->method; }
int64_t shadow_copy_created(const shadow_copy *c) { return c->created; }
const char *shadow_copy_state(const shadow_copy *c) { return c->state; }
const char *shadow_copy_device(const shadow_copy *c) { return c->device; }
const char *shadow_copy_mountpoint(const shadow_copy *c) { return c->mountpoint; }
bool shadow_copy_writable(const shadow_copy *c) { return c->writable; }

/* Delete @c in the kernel and the catalog (not saved). */
static int delete_copy(shadow_ctx *ctx, struct shadow_copy *c, bool force)
{
	struct shadow_volume *v = shadow_catalog_volume(&ctx->cat, c->volume);
	uint64_t id = c->id;
	int r;

	if (c->device) {
		if (!force)
			return fail(ctx, -EBUSY,
				    "delete shadow %" PRIu64 ": it is exposed as %s (unexpose it first)",
				    id, c->device);
		r = unexpose(ctx, c);
		if (r < 0)
			return r;
	}
	if (!v || !v->active)
		return fail(ctx, -ENODEV, "delete shadow %" PRIu64 ": volume %s is not active",
			    id, c->volume);
	r = snap_message(v->dm_name, "delete", c->snapshot);
	if (r == -ENOENT)
		log_at(ctx, SHADOW_LOG_WARNING, "shadow %" PRIu64 " was already gone from the kernel", id);
	else if (r < 0)
		return fail(ctx, r, "delete shadow %" PRIu64 ": volume %s, delete snapshot %" PRIu64,
			    id, v->name, c->snapshot);
	shadow_catalog_remove_copy(&ctx->cat, c);
	return 0;
}

int shadow_copy_delete(shadow_ctx *ctx, uint64_t id, unsigned int flags)
{
	struct shadow_copy *c;
	int r;

	if (!ctx->opened)
		return fail(ctx, -EBADFD, "delete shadow %" PRIu64 ": the context is not open", id);
	c = shadow_catalog_copy(&ctx->cat, id);
	if (!c)
		return fail(ctx, -ENOENT, "delete shadow %" PRIu64 ": no such shadow copy", id);
	r = delete_copy(ctx, c, flags & SHADOW_FORCE);
	if (r < 0)
		return r;
	drop_empty_sets(&ctx->cat);
	return save(ctx);
}

int shadow_copy_delete_oldest(shadow_ctx *ctx, const char *volume, uint64_t *ret_id)
{
	struct shadow_copy *oldest = NULL;
	uint64_t id;
	int r;

	if (!ctx->opened)
		return fail(ctx, -EBADFD, "delete the oldest shadow of %s: the context is not open", volume);
	if (!shadow_catalog_volume(&ctx->cat, volume))
		return fail(ctx, -ENOENT, "delete the oldest shadow of %s: no such volume", volume);
	for (size_t i = 0; i < ctx->cat.n_copies; i++) {
		struct shadow_copy *c = ctx->cat.copies[i];

		if (strcmp(c->volume, volume) != 0)
			continue;
		if (!oldest || c->created < oldest->created ||
		    (c->created == oldest->created && c->snapshot < oldest->snapshot))
			oldest = c;
	}
	if (!oldest)
		return fail(ctx, -ENOENT, "delete the oldest shadow of %s: it has none", volume);
	id = oldest->id;
	r = shadow_copy_delete(ctx, id, 0);
	if (r < 0)
		return r;
	if (ret_id)
		*ret_id = id;
	return 0;
}

/* The file system type on @dev (libblkid), or -ENOENT when none is found. */
static int probe_fs(const char *dev, char *ret, size_t size)
{
	_cleanup_(blkid_free_probep) blkid_probe pr = NULL;
	const char *type = NULL;
	int r;

	pr = blkid_new_probe_from_filename(dev);
	if (!pr)
		return negative_errno();
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	r = blkid_do_safeprobe(pr);
	if (r == 1 || r == -2)
		return -ENOENT;	/* nothing, or ambivalent */
	if (r < 0)
		return -EIO;
	if (blkid_probe_lookup_value(pr, "TYPE", &type, NULL) < 0 || !type)
		return -ENOENT;
	snprintf(ret, size, "%s", type);
	return 0;
}

static int mount_copy(shadow_ctx *ctx, const char *dev, const char *dir, bool rw)
{
	char type[32], opts[64] = "";
	struct stat st;
	int r;

	if (stat(dir, &st) < 0)
		return fail(ctx, negative_errno(), "mount %s on %s", dev, dir);
	if (!S_ISDIR(st.st_mode))
		return fail(ctx, -ENOTDIR, "mount %s on %s", dev, dir);
	r = probe_fs(dev, type, sizeof(type));
	if (r < 0)
		return fail(ctx, r, "mount %s: identify its file system", dev);
	/*
	 * The copy has its origin's UUID: XFS refuses a duplicate UUID unless
	 * told "nouuid".  A read-only copy cannot replay a journal: XFS
	 * mounts with "norecovery", ext3/ext4 with "noload" (what was frozen
	 * is consistent without it).
	 */
	if (strcmp(type, "xfs") == 0)
		snprintf(opts, sizeof(opts), rw ? "nouuid" : "nouuid,norecovery");
	else if (!rw && (strcmp(type, "ext4") == 0 || strcmp(type, "ext3") == 0))
		snprintf(opts, sizeof(opts), "noload");
	if (mount(dev, dir, type, rw ? 0 : MS_RDONLY, opts[0] ? opts : NULL) < 0)
		return fail(ctx, negative_errno(), "mount %s (%s, %s%s%s) on %s", dev, type,
			    rw ? "rw" : "ro", opts[0] ? "," : "", opts, dir);
	return 0;
}

int shadow_copy_expose(shadow_ctx *ctx, uint64_t id, const char *name,
		       const char *mountpoint, unsigned int flags)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 }, ot = { 0 };
	_cleanup_free_ char *dflt = NULL, *path = NULL, *mnt = NULL;
	struct shadow_origin_table otab;
	struct shadow_dm_info info;
	struct shadow_volume *v;
	struct shadow_copy *c;
	bool rw = flags & SHADOW_EXPOSE_RW;
	char params[128], uuid[160];
	uint64_t sectors;
	int r;

	if (!ctx->opened)
		return fail(ctx, -EBADFD, "expose shadow %" PRIu64 ": the context is not open", id);
	c = shadow_catalog_copy(&ctx->cat, id);
	if (!c)
		return fail(ctx, -ENOENT, "expose shadow %" PRIu64 ": no such shadow copy", id);
	if (c->device)
		return fail(ctx, -EEXIST, "expose shadow %" PRIu64 ": it is already exposed as %s",
			    id, c->device);
	if (strcmp(c->state, "valid") != 0)
		return fail(ctx, -ESTALE, "expose shadow %" PRIu64 ": it is %s", id, c->state);
	v = shadow_catalog_volume(&ctx->cat, c->volume);
	if (!v || !v->active)
		return fail(ctx, -ENODEV, "expose shadow %" PRIu64 ": volume %s is not active",
			    id, c->volume);
	if (!name) {
		if (asprintf(&dflt, "%s-shadow-%" PRIu64, v->name, id) < 0)
			return -ENOMEM;
		name = dflt;
	}
	if (!valid_dm_name(name))
		return fail(ctx, -EINVAL, "expose shadow %" PRIu64 ": bad name '%s'", id, name);
	r = shadow_dm_info(name, &info);
	if (r < 0)
		return fail(ctx, r, "expose shadow %" PRIu64 ": look up %s", id, name);
	if (info.exists)
		return fail(ctx, -EEXIST, "expose shadow %" PRIu64 ": a device-mapper device named %s exists",
			    id, name);
	if (mountpoint) {
		mnt = realpath(mountpoint, NULL);
		if (!mnt)
			return fail(ctx, negative_errno(), "expose shadow %" PRIu64 ": mount point %s",
				    id, mountpoint);
	}
	/*
	 * shadow-snap names the origin device of the shadow-origin table
	 * (its first argument, as the kernel prints it back), not the
	 * mapped device that a mounted file system holds exclusively.
	 */
	r = origin_status(v->dm_name, NULL, &sectors);
	if (r == 0)
		r = shadow_dm_get_table(v->dm_name, true, &ot);
	if (r == 0)
		r = shadow_parse_origin_table(ot.targets[0].params, &otab);
	if (r < 0)
		return fail(ctx, r, "expose shadow %" PRIu64 ": read the table of volume %s", id, v->name);
	snprintf(params, sizeof(params), "%s %" PRIu64 "%s", otab.origin,
		 c->snapshot, rw ? " 1 writable" : "");
	r = shadow_dm_table_add(&t, 0, sectors, "shadow-snap", params);
	if (r < 0)
		return r;
	snprintf(uuid, sizeof(uuid), SHADOW_UUID_PREFIX "SNAP-%s-%" PRIu64, v->name, c->id);
	r = shadow_dm_create(name, uuid, &t, rw ? 0 : SHADOW_DM_READONLY);
	if (r < 0)
		return fail(ctx, r, "expose shadow %" PRIu64 ": create %s with a shadow-snap table (see the kernel log)",
			    id, name);
	if (asprintf(&path, DEV_MAPPER "%s", name) < 0) {
		(void)shadow_dm_remove(name);
		return -ENOMEM;
	}
	if (mnt) {
		r = mount_copy(ctx, path, mnt, rw);
		if (r < 0) {
			(void)shadow_dm_remove(name);
			return r;
		}
	}
	c->device = TAKE_PTR(path);
	c->mountpoint = TAKE_PTR(mnt);
	c->writable = rw;
	r = save(ctx);
	if (r < 0) {
		char saved[sizeof(ctx->error)];

		memcpy(saved, ctx->error, sizeof(saved));
		(void)unexpose(ctx, c);
		memcpy(ctx->error, saved, sizeof(saved));
		return r;
	}
	return 0;
}

static int unexpose(shadow_ctx *ctx, struct shadow_copy *c)
{
	int r;

	if (c->mountpoint) {
		if (umount2(c->mountpoint, 0) < 0 && errno != EINVAL && errno != ENOENT)
			return fail(ctx, negative_errno(), "unexpose shadow %" PRIu64 ": unmount %s",
				    c->id, c->mountpoint);
		replace_str(&c->mountpoint, NULL);
	}
	r = shadow_dm_remove(dm_name_of_path(c->device));
	if (r < 0 && r != -ENXIO && r != -ENODEV)
		return fail(ctx, r, "unexpose shadow %" PRIu64 ": remove %s%s", c->id, c->device,
			    r == -EBUSY ? " (still in use)" : "");
	replace_str(&c->device, NULL);
	c->writable = false;
	return 0;
}

int shadow_copy_unexpose(shadow_ctx *ctx, uint64_t id)
{
	struct shadow_copy *c;
	int r;

	if (!ctx->opened)
		return fail(ctx, -EBADFD, "unexpose shadow %" PRIu64 ": the context is not open", id);
	c = shadow_catalog_copy(&ctx->cat, id);
	if (!c)
		return fail(ctx, -ENOENT, "unexpose shadow %" PRIu64 ": no such shadow copy", id);
	if (!c->device)
		return fail(ctx, -ENXIO, "unexpose shadow %" PRIu64 ": it is not exposed", id);
	r = unexpose(ctx, c);
	if (r < 0) {
		(void)save(ctx);
		return r;
	}
	return save(ctx);
}

/* ------------------------------------------------------------------------
 * Providers
 */

int shadow_provider(shadow_ctx *ctx, unsigned int i, const char **ret_name,
		    const char **ret_target, bool *ret_usable,
		    const char **ret_version)
{
	static char version[32];

	if (i > 0)
		return 0;
	if (!ctx->opened)
		shadow_dm_init(dm_log_bridge, ctx);
	if (shadow_dm_target_version("shadow-origin", version) < 0) {
		snprintf(version, sizeof(version), "-");
		*ret_usable = false;
	} else {
		*ret_usable = true;
	}
	*ret_name = "dm-shadow";
	*ret_target = "shadow-origin";
	*ret_version = version;
	return 1;
}
