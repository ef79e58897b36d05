/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Clones (method clone, dm-shadow(7) CLONES), what the other verbs ask of
 * them (shadow-clone.c): a target checked before a create, the volume's
 * table loaded again with its clones' targets, a detached clone's table,
 * the targets that are not there at activation.  shadow_copy_detach() and
 * shadow_copy_clone_progress() are there too.  Not installed.
 */
#ifndef SHADOW_CLONE_H
#define SHADOW_CLONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libshadow.h"
#include "shadow-catalog.h"
#include "shadow-dm.h"
#include "shadow-status.h"

/* What a device is in the catalog: a part of a volume, or a clone's target. */
struct clone_owner {
	const struct shadow_volume *volume;	/* a part of this volume: */
	bool store;				/* ... its store, else its device */
	const struct shadow_copy *copy;		/* or this clone's target */
};

/*
 * What block device @t, @path as given, is in @cat: a part of a volume
 * (its mapped device, its device or -real, its store) or the target of a
 * clone, detached and imported ones included (their data is there).  1
 * with @ret filled in, 0 when it is none of them.
 */
int clone_device_owner(const struct shadow_catalog *cat, const char *path, dev_t t,
		       struct clone_owner *ret);

/*
 * create: can @target hold a new clone of clone volume @v?  It must be a
 * block device at least as large as the volume, neither a volume's device
 * or store nor any clone's target in the catalog, and not in use.  0, or
 * -errno with the reason in @ctx.
 */
int clone_check_target(shadow_ctx *ctx, const struct shadow_volume *v, const char *target);

/*
 * Load clone volume @v's table again, from the catalog
 * (dmshadow_volume_params()) without snapshot @skip's target (0: every
 * clone's), in a quick swap that freezes no file system: load, suspend,
 * resume.  On failure the table that was live stays live.  0 or -errno,
 * nothing said (the caller names the step); -EBUSY when the volume is
 * suspended already (by someone else: a resume would undo it).
 */
int clone_reload(shadow_ctx *ctx, const struct shadow_volume *v, uint64_t skip);

/*
 * activate: the clones of @v whose target is not there now, into @ret
 * (their snapshot ids), with a warning naming each.  Returns how many.
 */
size_t clone_missing_targets(shadow_ctx *ctx, const struct shadow_volume *v,
			     uint64_t ret[SHADOW_STATUS_MAX_CLONES]);
/* activate: is every target of @v's clones there? */
bool clone_targets_present(const struct shadow_catalog *cat, const struct shadow_volume *v);

/*
 * The size of detached clone @c's volume, in sectors: what its target
 * holds of it.  An imported copy's is the one its origin records
 * (-ENODATA: none), a clone's here its volume's now (from its table, or
 * its device when it is not active).  -errno, nothing said.
 */
int clone_volume_sectors(shadow_ctx *ctx, const struct shadow_copy *c, uint64_t *ret);

/*
 * expose: the table of detached clone @c, "linear <target> 0", as long as
 * its volume (clone_volume_sectors(); the whole target when that is not
 * known).
 */
int clone_detached_table(shadow_ctx *ctx, const struct shadow_copy *c,
			 struct shadow_dm_table *ret);

/*
 * repair: the target the live table of @v names for clone @snapshot, as a
 * path (/dev/block/<major>:<minor>), newly allocated; NULL when it names
 * none.  0 or -errno.
 */
int clone_table_target(const struct shadow_volume *v, uint64_t snapshot, char **ret);

#endif
