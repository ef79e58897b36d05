/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Revert: roll a volume back to one of its shadow copies, with the
 * dm-shadow target's "revert <id>" message (dm-shadow(7), REVERT).  A cow
 * volume merges in the background; a row volume reverts at once, to its
 * newest copy only.  The copy is kept (valid, exact), so the catalog does
 * not change.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <linux/fs.h>

#include "shadow-ctx.h"
#include "shadow-format.h"
#include "shadow-origin.h"
#include "shadow-provider.h"
#include "shadow-states.h"
#include "shadow-writers.h"

/* The newest valid copy of @volume: a row volume reverts to no other. */
static const struct shadow_copy *revert_newest_copy(const struct shadow_catalog *cat,
						    const char *volume)
{
	const struct shadow_copy *newest = NULL;

	for (size_t i = 0; i < cat->n_copies; i++) {
		const struct shadow_copy *c = cat->copies[i];

		if (strcmp(c->volume, volume) == 0 &&
		    copy_state_from_string(c->state) == SHADOW_COPY_VALID &&
		    (!newest || shadow_copy_older(newest, c)))
			newest = c;
	}
	return newest;
}

/* Refuse a method that cannot revert to @c, before anything is touched. */
static int revert_check_method(shadow_ctx *ctx, const struct shadow_volume *v,
			       const struct shadow_copy *c)
{
	const struct shadow_copy *newest;

	if (strcmp(v->method, "cow") == 0)
		return 0;
	if (strcmp(v->method, "row") != 0)
		return ctx_fail(ctx, -EOPNOTSUPP, "revert to shadow %" PRIu64 ": volume %s uses method %s, "
			    "which cannot revert", c->id, v->name, v->method);
	newest = revert_newest_copy(&ctx->cat, v->name);
	if (newest && newest != c)
		return ctx_fail(ctx, -EOPNOTSUPP, "revert to shadow %" PRIu64 ": volume %s uses method row, "
			    "which reverts to its newest shadow copy only (%" PRIu64 "); delete the copies "
			    "newer than %" PRIu64 " first", c->id, v->name, newest->id, c->id);
	return 0;
}

/* Refuse a mounted volume unless forced: its file system would see its data change beneath it. */
static int revert_check_mounted(shadow_ctx *ctx, const struct shadow_volume *v, uint64_t id,
				bool force)
{
	_cleanup_free_ char *mp = NULL;
	struct shadow_dm_info info;
	int r;

	r = shadow_dm_info(v->dm_name, &info);
	if (r < 0 || !info.exists)
		return ctx_fail(ctx, r < 0 ? r : -ENODEV, "revert to shadow %" PRIu64 ": volume %s is not loaded",
			    id, v->name);
	r = mountpoint_of(makedev(info.major, info.minor), &mp);
	if (r < 0)
		return ctx_fail(ctx, r, "revert to shadow %" PRIu64 ": cannot tell whether %s is mounted",
			    id, v->name);
	if (!mp)
		return 0;
	if (!force)
		return ctx_fail(ctx, -EBUSY,
			    "revert to shadow %" PRIu64 ": volume %s is mounted on %s; unmount it "
			    "(umount %s), revert, and mount it again (the volume reads the shadow copy's data "
			    "at once), or give --force to revert under the mounted file system",
			    id, v->name, mp, mp);
	ctx_log(ctx, SHADOW_LOG_WARNING,
		"reverting %s under the file system mounted on %s: remount it now", v->name, mp);
	return 0;
}

/* Pages cached before the revert hold the old data: drop them (unmounted volumes only). */
static void revert_drop_cache(shadow_ctx *ctx, const struct shadow_volume *v)
{
	_cleanup_close_ int fd = -EBADF;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/dev/mapper/%s", v->dm_name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || ioctl(fd, BLKFLSBUF, 0) < 0)
		ctx_log(ctx, SHADOW_LOG_WARNING, "cannot drop the cached pages of %s: %m", path);
}

/* The volume's origin: suspend, "revert <snapshot>", resume (always). */
static int revert_send(shadow_ctx *ctx, const struct shadow_volume *v, const struct shadow_copy *c,
		       bool freeze)
{
	int r, q;

	r = shadow_dm_suspend(v->dm_name, freeze);
	if (r < 0)
		return ctx_fail(ctx, r, "revert to shadow %" PRIu64 ": suspend %s", c->id, v->name);
	r = snap_message(v->dm_name, "revert", c->snapshot);
	q = shadow_dm_resume(v->dm_name);
	if (r < 0)
		return ctx_fail(ctx, r, "revert to shadow %" PRIu64 ": volume %s refused to revert to "
			    "snapshot %" PRIu64 " (the kernel log says why)", c->id, v->name, c->snapshot);
	if (q < 0)
		return ctx_fail(ctx, q, "revert to shadow %" PRIu64 ": resume %s", c->id, v->name);
	return 0;
}

int shadow_copy_revert(shadow_ctx *ctx, uint64_t id, unsigned int flags)
{
	struct shadow_origin_status st;
	struct shadow_volume *v;
	struct shadow_copy *c;
	bool force = flags & SHADOW_FORCE;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, !(flags & ~(unsigned int)SHADOW_FORCE), "revert to shadow %" PRIu64 ": unknown flags 0x%x",
		  id, flags);
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "revert to shadow %" PRIu64 ": the context is not open", id);
	c = shadow_catalog_copy(&ctx->cat, id);
	if (!c)
		return ctx_fail(ctx, -ENOENT, "revert to shadow %" PRIu64 ": no such shadow copy", id);
	/* The kernel refuses it too (EOPNOTSUPP): a clone store keeps no point to go back to. */
	if (shadow_copy_is_clone(c))
		return ctx_fail(ctx, -EOPNOTSUPP, "revert to shadow %" PRIu64 ": it is a clone, a full "
				"copy of volume %s on %s, and a clone volume cannot be reverted; copy the "
				"clone back (detach it once complete) instead", id, c->volume,
				c->target ? c->target : "its target");
	v = shadow_catalog_volume(&ctx->cat, c->volume);
	if (!v || !v->active)
		return ctx_fail(ctx, -ENODEV, "revert to shadow %" PRIu64 ": volume %s is not active", id,
			    c->volume);
	if (strcmp(provider_of(v)->name, "dm-shadow") != 0)
		return ctx_fail(ctx, -EOPNOTSUPP, "revert to shadow %" PRIu64 ": volume %s uses the %s provider; "
			    "only dm-shadow volumes can be reverted", id, v->name, provider_of(v)->name);
	if (copy_state_from_string(c->state) != SHADOW_COPY_VALID)
		return ctx_fail(ctx, -EINVAL, "revert to shadow %" PRIu64 ": it is %s, not valid", id, c->state);
	if (c->device && c->writable)
		return ctx_fail(ctx, -EBUSY, "revert to shadow %" PRIu64 ": it is exposed writable as %s "
			    "(unexpose it first)", id, c->device);
	r = revert_check_method(ctx, v, c);
	if (r < 0)
		return r;
	r = origin_status(v->dm_name, &st, NULL);
	if (r < 0)
		return ctx_fail(ctx, r, "revert to shadow %" PRIu64 ": volume %s, read its status", id, v->name);
	if (st.failed)
		return ctx_fail(ctx, -EIO, "revert to shadow %" PRIu64 ": the store of %s has failed", id, v->name);
	if (st.reverting)
		return ctx_fail(ctx, -EBUSY, "revert to shadow %" PRIu64 ": %s is already being reverted "
			    "(%" PRIu64 "/%" PRIu64 " chunks merged)", id, v->name, st.revert_cursor,
			    st.origin_chunks);
	r = revert_check_mounted(ctx, v, id, force);
	if (r < 0)
		return r;
	r = revert_send(ctx, v, c, force);
	if (r < 0)
		return r;
	revert_drop_cache(ctx, v);
	ctx_log(ctx, SHADOW_LOG_INFO, "volume %s is reverting to shadow %" PRIu64, v->name, id);
	return 0;
}

int shadow_volume_revert_progress(shadow_ctx *ctx, const char *volume, uint64_t *ret_snapshot,
				  uint64_t *ret_merged, uint64_t *ret_total)
{
	struct shadow_origin_status st;
	struct shadow_volume *v;
	uint64_t sectors;
	int r;

	check_ctx(ctx);
	check_arg(ctx, volume && *volume, "read a revert's progress: no volume given");
	v = shadow_catalog_volume(&ctx->cat, volume);
	if (!v || !v->active)
		return ctx_fail(ctx, -ENODEV, "read the revert of %s: the volume is not active", volume);
	r = origin_status(v->dm_name, &st, &sectors);
	if (r == -EMEDIUMTYPE)
		return 0;
	if (r < 0)
		return ctx_fail(ctx, r, "read the revert of %s: read its status", volume);
	if (st.failed)
		return ctx_fail(ctx, -EIO, "read the revert of %s: its store has failed", volume);
	if (!st.reverting) {
		/* None runs, or it is done: every chunk is merged. */
		st.origin_chunks = st.chunk_sectors ?
				   shadow_div_round_up(sectors, st.chunk_sectors) : 0;
		st.revert_cursor = st.origin_chunks;
	}
	if (ret_snapshot)
		*ret_snapshot = st.revert_id;
	if (ret_merged)
		*ret_merged = st.revert_cursor;
	if (ret_total)
		*ret_total = st.origin_chunks;
	return st.reverting;
}
