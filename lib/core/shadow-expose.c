/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Expose a shadow copy as a /dev/mapper node, optionally mounted, and
 * take it away again.
 */
#include <inttypes.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <blkid.h>

#include "shadow-clone.h"
#include "shadow-ctx.h"
#include "shadow-expose.h"
#include "shadow-kernel.h"
#include "shadow-name.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(blkid_probe, blkid_free_probe);

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
		return ctx_fail(ctx, negative_errno(), "mount %s on %s", dev, dir);
	if (!S_ISDIR(st.st_mode))
		return ctx_fail(ctx, -ENOTDIR, "mount %s on %s", dev, dir);
	r = probe_fs(dev, type, sizeof(type));
	if (r < 0)
		return ctx_fail(ctx, r, "mount %s: identify its file system", dev);
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
		return ctx_fail(ctx, negative_errno(), "mount %s (%s, %s%s%s) on %s", dev, type,
			    rw ? "rw" : "ro", opts[0] ? "," : "", opts, dir);
	return 0;
}

/*
 * Create the exposed device of copy @c of volume @v: /dev/mapper/@name,
 * the provider's table (a detached clone's: linear over its target, and
 * @v may be NULL), read-only unless @rw.  The catalog is not touched.
 */
int copy_expose_device(shadow_ctx *ctx, const struct shadow_volume *v,
		       const struct shadow_copy *c, const char *name, bool rw)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 };
	char uuid[DM_UUID_LEN];
	int r;

	if (shadow_copy_detached(c))
		r = clone_detached_table(ctx, c, &t);
	else
		r = provider_of(v)->expose_table(ctx, v, c, rw, &t);
	if (r < 0)
		return r;
	r = name_expose_uuid(uuid, c->volume, c->id);
	if (r < 0)
		return ctx_fail(ctx, r, "expose shadow %" PRIu64 ": the uuid of %s would pass "
				"device-mapper's limit of %d bytes", c->id, name, NAME_UUID_MAX);
	r = shadow_dm_create(name, uuid, &t, rw ? 0 : SHADOW_DM_READONLY);
	if (r < 0)
		return ctx_fail(ctx, r, "expose shadow %" PRIu64 ": create %s with a %s table (see the kernel log)",
			    c->id, name, t.targets[0].type);
	return 0;
}

/*
 * A valid copy of an active volume, or a detached clone (its target is a
 * plain device: no volume needed).  A clone is read-only in the kernel,
 * so it is refused writable here, before the kernel is asked.
 */
static int check_exposable(shadow_ctx *ctx, const struct shadow_copy *c, bool rw,
			   struct shadow_volume **ret_v)
{
	struct shadow_volume *v;

	if (shadow_copy_detached(c)) {
		if (rw)
			return ctx_fail(ctx, -EOPNOTSUPP, "expose shadow %" PRIu64 ": a detached clone "
					"is exposed read-only; use its target device directly to write "
					"it (%s)", c->id, c->target);
		*ret_v = NULL;
		return 0;
	}
	if (strcmp(c->state, "valid") != 0)
		return ctx_fail(ctx, -ESTALE, "expose shadow %" PRIu64 ": it is %s", c->id, c->state);
	if (rw && shadow_copy_is_clone(c))
		return ctx_fail(ctx, -EOPNOTSUPP, "expose shadow %" PRIu64 ": a clone is exposed "
				"read-only (the kernel keeps it exactly the volume as it was); detach "
				"it once complete, and write its target", c->id);
	v = shadow_catalog_volume(&ctx->cat, c->volume);
	if (!v || !v->active)
		return ctx_fail(ctx, -ENODEV, "expose shadow %" PRIu64 ": volume %s is not active",
			    c->id, c->volume);
	*ret_v = v;
	return 0;
}

int shadow_copy_expose(shadow_ctx *ctx, uint64_t id, const char *name,
		       const char *mountpoint, unsigned int flags)
{
	_cleanup_free_ char *path = NULL, *mnt = NULL;
	char dflt[DM_NAME_LEN], why[160];
	struct shadow_dm_info info;
	struct name_check nc;
	struct shadow_volume *v = NULL;
	struct shadow_copy *c;
	bool rw = flags & SHADOW_EXPOSE_RW;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, !(flags & ~(unsigned int)SHADOW_EXPOSE_RW),
		  "expose shadow %" PRIu64 ": unknown flags 0x%x", id, flags);
	check_arg(ctx, !mountpoint || *mountpoint, "expose shadow %" PRIu64 ": empty mount point", id);
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "expose shadow %" PRIu64 ": the context is not open", id);
	c = shadow_catalog_copy(&ctx->cat, id);
	if (!c)
		return ctx_fail(ctx, -ENOENT, "expose shadow %" PRIu64 ": no such shadow copy", id);
	if (c->device)
		return ctx_fail(ctx, -EEXIST, "expose shadow %" PRIu64 ": it is already exposed as %s",
			    id, c->device);
	r = check_exposable(ctx, c, rw, &v);
	if (r < 0)
		return r;
	if (!name) {
		r = name_expose_default(dflt, c->volume, id);
		if (r < 0)
			return ctx_fail(ctx, r, "expose shadow %" PRIu64 ": its name %s-shadow-%" PRIu64
					" would pass device-mapper's limit of %d bytes (give --name)",
					id, c->volume, id, NAME_DM_MAX);
		name = dflt;
	}
	if (name_check(name, NAME_DM_MAX, &nc) != NAME_OK) {
		(void)name_explain(&nc, why, sizeof(why));
		return ctx_fail(ctx, -EINVAL, "expose shadow %" PRIu64 ": bad name '%s': %s%s", id, name,
				why, nc.rule == NAME_TOO_LONG ? " (device-mapper's limit)" : "");
	}
	r = shadow_dm_info(name, &info);
	if (r < 0)
		return ctx_fail(ctx, r, "expose shadow %" PRIu64 ": look up %s", id, name);
	if (info.exists)
		return ctx_fail(ctx, -EEXIST, "expose shadow %" PRIu64 ": a device-mapper device named %s exists",
			    id, name);
	if (mountpoint) {
		mnt = realpath(mountpoint, NULL);
		if (!mnt)
			return ctx_fail(ctx, negative_errno(), "expose shadow %" PRIu64 ": mount point %s",
				    id, mountpoint);
	}
	r = copy_expose_device(ctx, v, c, name, rw);
	if (r < 0)
		return r;
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
	r = ctx_save(ctx);
	if (r < 0) {
		char *saved = ctx_error_take(ctx);

		(void)copy_unexpose(ctx, c);
		ctx_error_put(ctx, saved);
		return r;
	}
	return 0;
}

int copy_unexpose(shadow_ctx *ctx, struct shadow_copy *c)
{
	int r;

	if (c->mountpoint) {
		if (umount2(c->mountpoint, 0) < 0 && errno != EINVAL && errno != ENOENT)
			return ctx_fail(ctx, negative_errno(), "unexpose shadow %" PRIu64 ": unmount %s",
				    c->id, c->mountpoint);
		replace_str(&c->mountpoint, NULL);
	}
	r = shadow_dm_remove(dm_name_of_path(c->device));
	if (r < 0 && r != -ENXIO && r != -ENODEV)
		return ctx_fail(ctx, r, "unexpose shadow %" PRIu64 ": remove %s%s", c->id, c->device,
			    r == -EBUSY ? " (still in use)" : "");
	replace_str(&c->device, NULL);
	c->writable = false;
	return 0;
}

int shadow_copy_unexpose(shadow_ctx *ctx, uint64_t id)
{
	struct shadow_copy *c;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "unexpose shadow %" PRIu64 ": the context is not open", id);
	c = shadow_catalog_copy(&ctx->cat, id);
	if (!c)
		return ctx_fail(ctx, -ENOENT, "unexpose shadow %" PRIu64 ": no such shadow copy", id);
	if (!c->device)
		return ctx_fail(ctx, -ENXIO, "unexpose shadow %" PRIu64 ": it is not exposed", id);
	r = copy_unexpose(ctx, c);
	if (r < 0) {
		(void)ctx_save(ctx);
		return r;
	}
	return ctx_save(ctx);
}
