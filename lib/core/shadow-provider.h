/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Providers: what makes the point-in-time image of a volume.  The verbs
 * (enable, create, delete, expose, disable, repair) are written once,
 * against struct shadow_provider_ops; each provider says what its tables
 * are and how a copy is made, found, exposed and dropped:
 *
 *   dm-shadow    (shadow-provider-dmshadow.c) our targets: shadow-origin
 *                keeps every snapshot of the volume in one store, a
 *                snapshot is a message, a copy is exposed with shadow-snap
 *   dm-snapshot  (shadow-provider-dmsnap.c) the stock targets, as LVM uses
 *                them: snapshot-origin over the volume, each copy a
 *                snapshot device over the volume and the store, so one
 *                copy per store
 *
 * Which provider a volume uses is chosen at enable (explicitly, or the
 * first usable one) and kept in the catalog.  Not installed.
 */
#ifndef SHADOW_PROVIDER_H
#define SHADOW_PROVIDER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "libshadow.h"
#include "shadow-catalog.h"
#include "shadow-dm.h"
#include "shadow-status.h"
#include "shadow-tables.h"

/* A volume's store as its provider reports it (shadow_volume_storage()). */
struct shadow_storage {
	uint64_t used_chunks;
	uint64_t total_chunks;
	unsigned int snapshots;
	unsigned int max_snapshots;
	unsigned int invalid;
	bool failed;
	bool folding;		/* a row store's fold-back walk runs */
	uint64_t fold_cursor;	/* ... at this origin chunk */
	uint64_t fold_total;	/* ... of these */
};

/*
 * Every operation returns 0 or -errno.  The ones that refuse (check_store,
 * can_create), get ready (prepare) or that a verb calls as its only step
 * (expose_table, storage) record what failed with ctx_fail(); create,
 * remove, release and list leave the message to their caller, which
 * names the verb, the volume and the step (a rollback logs instead of
 * failing).
 */
struct shadow_provider_ops {
	const char *name;		/* "dm-shadow": catalog, --provider, list */
	const char *module;		/* the kernel module with its targets */
	const char *origin_target;	/* the volume's table */
	const char *copy_target;	/* the target a copy is read through */
	const char *methods;		/* the methods it has, as "cow" or "cow, row" */

	/*
	 * enable: can @store keep the copies of a volume of @origin_sectors
	 * with @method and @chunk_sectors?  Checked before the kernel sees
	 * it, so that the usual mistakes get a precise message and nothing
	 * changes.
	 */
	int (*check_store)(shadow_ctx *ctx, const char *store, uint64_t origin_sectors,
			   const char *method, uint32_t chunk_sectors);
	/*
	 * enable, activate (and take over in place): the volume's table over
	 * @origin, the device that holds its data, as @s says (the catalog).
	 */
	int (*origin_table)(struct shadow_dm_table *t, uint64_t sectors,
			    dev_t origin, dev_t store, const struct origin_spec *s);
	/*
	 * create: can @v take one more copy, a clone of it on @target (NULL
	 * but for a clone volume)?  Before anything is recorded.
	 */
	int (*can_create)(shadow_ctx *ctx, const struct shadow_volume *v, const char *target);
	/*
	 * create: get @c ready before the volume is suspended, so that the
	 * freeze window holds only create (may be NULL): a clone's target is
	 * put in the volume's table.
	 */
	int (*prepare)(shadow_ctx *ctx, const struct shadow_volume *v,
		       const struct shadow_copy *c);
	/*
	 * rollback, delete, repair: undo what prepare did for snapshot
	 * @snapshot, created or not (so that a clone's target is let go),
	 * once the kernel has no such snapshot (may be NULL).
	 */
	int (*release)(shadow_ctx *ctx, const struct shadow_volume *v, uint64_t snapshot);
	/* create: make @c, the point in time, while the volume is suspended. */
	int (*create)(shadow_ctx *ctx, const struct shadow_volume *v,
		      const struct shadow_copy *c);
	/*
	 * delete, rollback, repair: drop snapshot @snapshot of @v from the
	 * kernel; -ENOENT when it is not there.  Called with the volume
	 * resumed and the copy not exposed.
	 */
	int (*remove)(shadow_ctx *ctx, const struct shadow_volume *v,
		      uint64_t snapshot);
	/* expose: the table of the device @c is exposed as. */
	int (*expose_table)(shadow_ctx *ctx, const struct shadow_volume *v,
			    const struct shadow_copy *c, bool writable,
			    struct shadow_dm_table *ret);
	/* list storage: the store's use. */
	int (*storage)(shadow_ctx *ctx, const struct shadow_volume *v,
		       struct shadow_storage *ret);
	/* repair: the snapshots of @v the kernel has. */
	int (*list)(shadow_ctx *ctx, const struct shadow_volume *v,
		    struct shadow_list_entry **ret, unsigned int *ret_n);
	/*
	 * activate: load again what copy @c needs in the kernel besides the
	 * volume's table, once that is loaded again (after a reboot), from
	 * what its store kept.  deactivate: unload it again, keeping it in
	 * its store.  Both NULL when the store is all a copy needs.
	 */
	int (*reload)(shadow_ctx *ctx, const struct shadow_volume *v,
		      const struct shadow_copy *c);
	int (*unload)(shadow_ctx *ctx, const struct shadow_volume *v,
		      const struct shadow_copy *c);
};

extern const struct shadow_provider_ops shadow_provider_dmshadow;
extern const struct shadow_provider_ops shadow_provider_dmsnap;

/* In the order auto tries them, and list providers shows them. */
#define SHADOW_N_PROVIDERS 2

/* What probing a provider found out; cached in the context. */
struct shadow_provider_probe {
	bool done;
	bool usable;
	char version[32];	/* of its origin target, "-" when not registered */
	char why[256];		/* why it is not usable ("" when it is) */
};

/* shadow-provider.c */
const struct shadow_provider_ops *provider_by_index(unsigned int i);
const struct shadow_provider_ops *provider_by_name(const char *name);
/* The provider a volume records (the catalog only holds known names). */
const struct shadow_provider_ops *provider_of(const struct shadow_volume *v);
/* Whether @v's device is loaded with its provider's origin table. */
bool volume_loaded(const struct shadow_volume *v);
/*
 * Whether provider @i can be used now: its targets are registered, or
 * its module loads (libkmod) and registers them.  Probed once per
 * context.
 */
const struct shadow_provider_probe *provider_probe(shadow_ctx *ctx, unsigned int i);

/*
 * The first sector of the store device @store and its size, for a
 * provider's check_store: opened exclusively (a store in use is refused)
 * and read past the page cache, which may hold what the device held
 * before a kernel target wrote it.  0, or -errno with the reason in @ctx.
 */
int provider_read_store_head(shadow_ctx *ctx, const char *store, uint8_t block[512],
			     uint64_t *ret_sectors);
/* enable: is @method one of @p's methods? */
bool provider_has_method(const struct shadow_provider_ops *p, const char *method);
/* enable: -EINVAL unless @name is NULL, "auto" or a provider's name. */
int provider_check_name(shadow_ctx *ctx, const char *device, const char *name);
/*
 * enable: the provider named @name ("dm-shadow", "dm-snapshot"), or for
 * NULL or "auto" the first usable one, with a log line saying which and
 * why.  -EINVAL for an unknown name, -EOPNOTSUPP when it is not usable.
 */
int provider_choose(shadow_ctx *ctx, const char *device, const char *name,
		    const struct shadow_provider_ops **ret);

#endif
