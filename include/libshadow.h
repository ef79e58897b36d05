/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libshadow: point-in-time shadow copies of Linux block volumes through the
 * dm-shadow device-mapper targets.  See libshadow(3).
 *
 * Conventions (systemd's): every function returns 0 (or a positive
 * meaningful value) on success and a negative errno on failure; out
 * parameters are named ret_* and are left untouched on failure.  The
 * library never prints: it logs through the callback set with
 * shadow_ctx_set_log(), and after a failure shadow_ctx_error() says what
 * failed (which volume, which step) in a short phrase.
 *
 * All types are opaque.  Objects returned by the lookup and enumeration
 * functions belong to the context and stay valid until the next call that
 * changes the catalog (enable, disable, create, delete, expose, unexpose)
 * or until the context is freed.
 */
#ifndef LIBSHADOW_H
#define LIBSHADOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct shadow_ctx shadow_ctx;
typedef struct shadow_volume shadow_volume;
typedef struct shadow_set shadow_set;
typedef struct shadow_copy shadow_copy;
typedef struct shadow_writer shadow_writer;
typedef struct shadow_create_opts shadow_create_opts;
typedef struct shadow_enable_opts shadow_enable_opts;

/* The state directory used when none is given and SHADOW_STATE_DIR is unset. */
#define SHADOW_DEFAULT_STATE_DIR "/var/lib/dm-shadow"

/* Default bound of the provider's commit (suspend to last resume), in µs. */
#define SHADOW_DEFAULT_COMMIT_TIMEOUT_US 10000000ULL

/*
 * A context: the state directory (@state_dir, or $SHADOW_STATE_DIR, or
 * SHADOW_DEFAULT_STATE_DIR) and the catalog in it.  Nothing is read or
 * locked until shadow_ctx_open().
 */
int shadow_ctx_new(const char *state_dir, shadow_ctx **ret);
shadow_ctx *shadow_ctx_free(shadow_ctx *ctx);

enum shadow_log_level {
	SHADOW_LOG_ERR = 3,
	SHADOW_LOG_WARNING = 4,
	SHADOW_LOG_NOTICE = 5,
	SHADOW_LOG_INFO = 6,
	SHADOW_LOG_DEBUG = 7,
};
typedef void (*shadow_log_fn)(void *userdata, int level, const char *msg);
void shadow_ctx_set_log(shadow_ctx *ctx, shadow_log_fn fn, void *userdata);
/* "err", "warning", "notice", "info", "debug"; NULL for another value. */
const char *shadow_log_level_to_string(int level);

/* What the last failed call of this context was doing ("" if nothing). */
const char *shadow_ctx_error(const shadow_ctx *ctx);
const char *shadow_ctx_state_dir(const shadow_ctx *ctx);

enum {
	SHADOW_OPEN_WAIT = 1 << 0,	/* wait for the lock instead of -EWOULDBLOCK */
	SHADOW_OPEN_READONLY = 1 << 1,	/* read only: no lock waited for, nothing
					 * created or repaired (libshadow(3)) */
};

/*
 * Create the state directory if needed, take the lock (held until
 * shadow_ctx_free(); -EWOULDBLOCK when another process holds it and
 * SHADOW_OPEN_WAIT is not given), read the catalog and repair it from the
 * kernel's view (suspended volumes resumed, half-made sets undone,
 * snapshots the catalog missed adopted, vanished ones dropped).  Returns
 * the number of repairs made (0 when catalog and kernel agreed).
 */
int shadow_ctx_open(shadow_ctx *ctx, unsigned int flags);

/*
 * Drop the lock and forget the catalog, keeping the context (its log and
 * state directory) to be opened again: a long-running caller holds the
 * lock only while it acts.  Objects of the catalog become invalid.
 */
void shadow_ctx_close(shadow_ctx *ctx);

/* -------------------------------------------------------------------------
 * Volumes
 */

/*
 * Names.  A volume's name becomes its device-mapper name and goes into
 * the names and uuids of its shadow copies' devices, the longest being
 * "SHADOW-DMSNAP-<name>-<20-digit id>" within device-mapper's 128-byte
 * uuid: hence SHADOW_VOLUME_NAME_MAX.  An exposed copy's name is a
 * device-mapper name (SHADOW_DEVICE_NAME_MAX).  Both: letters, digits and
 * "#+-.:=@_" (what udev keeps as is in /dev/mapper), not starting with
 * '-', not ".", ".." nor "control".  A name that breaks a rule is refused
 * with -EINVAL, and shadow_ctx_error() names the rule.
 */
#define SHADOW_VOLUME_NAME_MAX 93
#define SHADOW_DEVICE_NAME_MAX 127

/*
 * Enable @device with @store, with the default options but @method
 * (NULL: "cow"), @chunk_bytes (0: 4 KiB) and @name (NULL: the device's
 * base name): shadow_volume_enable_with() with those set.
 */
int shadow_volume_enable(shadow_ctx *ctx, const char *device,
			 const char *store, const char *method,
			 uint64_t chunk_bytes, const char *name,
			 shadow_volume **ret);

/*
 * Options of shadow_volume_enable_with(); NULL options are the defaults.
 * The setters copy their argument (NULL: the default again) and return
 * -EINVAL only for a NULL @o: values are checked by the enable, which
 * says in shadow_ctx_error() which one is wrong and why.
 */
int shadow_enable_opts_new(shadow_enable_opts **ret);
shadow_enable_opts *shadow_enable_opts_free(shadow_enable_opts *o);
/*
 * The snapshot method: "cow" (copy-on-write, the default), "row"
 * (redirect-on-write) or "clone" (each copy a full copy on a device of its
 * own, shadow_create_opts_add_target()); row and clone with dm-shadow only.
 */
int shadow_enable_opts_set_method(shadow_enable_opts *o, const char *method);
/*
 * A clone volume's hydration rate in MiB/s (0, the default: no limit),
 * kept in its table: how fast the kernel copies it onto its clones'
 * targets in the background.  Refused by the enable for another method.
 */
int shadow_enable_opts_set_hydrate_rate(shadow_enable_opts *o, uint32_t mib_per_s);
/* 4 KiB .. 1 MiB, a power of two (0: 4 KiB). */
int shadow_enable_opts_set_chunk_size(shadow_enable_opts *o, uint64_t bytes);
/*
 * The volume's name, its device-mapper name when @device is not dm (the
 * default: the device's base name); a dm device is taken over in place
 * and keeps its name, so this must then be that name or NULL.
 */
int shadow_enable_opts_set_name(shadow_enable_opts *o, const char *name);
/*
 * The provider that makes its shadow copies: "dm-shadow", "dm-snapshot"
 * (the stock targets; one shadow copy at a time), or NULL or "auto":
 * dm-shadow when it is usable, else dm-snapshot (logged at
 * SHADOW_LOG_INFO; shadow_volume_provider() says which).
 */
int shadow_enable_opts_set_provider(shadow_enable_opts *o, const char *provider);

/*
 * Make @device a volume whose shadow copies keep their data on @store.
 * -EINVAL: a bad option or name; -EBUSY: @device (not dm) or @store is in
 * use (mounted, or held by another device); -EEXIST: a volume or device
 * of that name exists, or @device is already one; -EOPNOTSUPP: the
 * provider asked for (or none, for auto) is not usable; -ENOSPC: @store
 * is too small.  Nothing changes on failure.
 */
int shadow_volume_enable_with(shadow_ctx *ctx, const char *device, const char *store,
			      const shadow_enable_opts *o, shadow_volume **ret);

enum {
	SHADOW_FORCE = 1 << 0,	/* disable: delete the volume's shadows first;
				 * deactivate: unexpose them */
};
int shadow_volume_disable(shadow_ctx *ctx, const char *volume,
			  unsigned int flags);

/*
 * Load an enabled volume that is not active (after a reboot) as it was,
 * with its provider: a volume taken over in place is taken over again
 * (its device-mapper device must exist, as LVM activates it), any other
 * gets its mapped device again over the same device and store; a
 * dm-snapshot copy gets its snapshot device again.  A blank store is
 * refused when the volume has copies.  Its snapshots are then matched to
 * the catalog (a copy the kernel no longer has is dropped, a snapshot the
 * catalog lacks is adopted, each with a warning) and copies that were
 * exposed are exposed again, not mounted.  Waits up to @timeout_us for
 * the devices to appear (0: not at all).  Returns 0, or 1 when the
 * volume was already active (nothing done).
 */
int shadow_volume_activate(shadow_ctx *ctx, const char *volume,
			   uint64_t timeout_us);
/*
 * The reverse, keeping the volume, its copies and its store: remove the
 * mapped device, or give a taken-over device its original table back.
 * Refused while the volume is in use (its writes would bypass the store
 * and spoil its copies) and while a copy is exposed unless SHADOW_FORCE
 * (which unexposes it).  Returns 0, or 1 when it was not active.
 */
int shadow_volume_deactivate(shadow_ctx *ctx, const char *volume,
			     unsigned int flags);

size_t shadow_ctx_volumes(shadow_ctx *ctx, shadow_volume *const **ret);
shadow_volume *shadow_ctx_find_volume(shadow_ctx *ctx, const char *name);

const char *shadow_volume_name(const shadow_volume *v);
const char *shadow_volume_device(const shadow_volume *v);	/* as given */
const char *shadow_volume_store(const shadow_volume *v);
const char *shadow_volume_method(const shadow_volume *v);
const char *shadow_volume_dm_name(const shadow_volume *v);
/* The device-mapper device holding the original table (takeover), or NULL. */
const char *shadow_volume_real_name(const shadow_volume *v);
uint64_t shadow_volume_chunk_bytes(const shadow_volume *v);
int64_t shadow_volume_enabled(const shadow_volume *v);	/* seconds since epoch */
/*
 * The states below are enums, each with a _to_string() giving its name
 * (the word shadowctl prints and the catalog stores), NULL for a value
 * out of range; a getter given NULL returns the _INVALID value.
 */
enum shadow_volume_state {
	SHADOW_VOLUME_ACTIVE,		/* "active" */
	SHADOW_VOLUME_INACTIVE,		/* "inactive": its dm device is not loaded */
	_SHADOW_VOLUME_STATE_MAX,
	_SHADOW_VOLUME_STATE_INVALID = -1,
};
enum shadow_volume_state shadow_volume_state(const shadow_volume *v);
const char *shadow_volume_state_to_string(enum shadow_volume_state s);
/* "dm-shadow" or "dm-snapshot". */
const char *shadow_volume_provider(const shadow_volume *v);
/*
 * A clone volume's hydration rate as the catalog keeps it (the rate its
 * table is loaded with), in MiB/s in *@ret_mib_per_s, 0: no limit.
 * -EOPNOTSUPP for a volume of another method, -EINVAL for NULL.
 */
int shadow_volume_hydrate_rate(const shadow_volume *v, uint32_t *ret_mib_per_s);

/*
 * The store as the kernel reports it (shadow-origin status).  Any ret_*
 * may be NULL.  -ENODEV when the volume is not active.
 */
int shadow_volume_storage(shadow_ctx *ctx, const shadow_volume *v,
			  uint64_t *ret_used_chunks, uint64_t *ret_total_chunks,
			  unsigned int *ret_snapshots,
			  unsigned int *ret_max_snapshots,
			  unsigned int *ret_invalid, bool *ret_failed);

/*
 * A row volume's fold-back (its store's chunks copied back into the
 * device, after copies are deleted): 1 while its walk runs, at origin
 * chunk @ret_cursor of @ret_total; 0 when none runs (and always for cow).
 * -ENODEV when the volume is not active.  Any ret_* may be NULL.
 */
int shadow_volume_fold_progress(shadow_ctx *ctx, const shadow_volume *v,
				uint64_t *ret_cursor, uint64_t *ret_total);

/*
 * How fast @volume's store copies in the background, in MiB/s (0: no
 * limit): a clone volume's hydration, from now on and in every table
 * loaded after (it is kept, as shadow_enable_opts_set_hydrate_rate()'s);
 * a row volume's fold-back, until its table is loaded again (the kernel
 * keeps no fold rate in a row table).  -EOPNOTSUPP for any other volume,
 * -ENODEV when it is not active.
 */
int shadow_volume_throttle(shadow_ctx *ctx, const char *volume, uint32_t mib_per_s);

/*
 * The store's size.  shadow_volume_storage()'s total is what it may use,
 * its data limit; this is what it holds, the most the limit can be (with a
 * module older than 1.1.0 the two are the same).  In chunks.
 */
int shadow_volume_storage_capacity(shadow_ctx *ctx, const shadow_volume *v,
				   uint64_t *ret_chunks);

/* shadow_volume_resize(): the store may use all it holds. */
#define SHADOW_SIZE_MAX UINT64_MAX

/*
 * Let the store of @volume use at most @max_bytes, or with @max_percent
 * (1..100) that share of what it holds; rounded down to whole chunks;
 * SHADOW_SIZE_MAX: all it holds.  Like vssadmin's "resize shadowstorage
 * /maxsize".  Persistent.  Growing takes effect at once.  -EINVAL: less
 * than one chunk, or more than the store holds; -ENOSPC: more than that is
 * in use; -EBUSY: chunks above the new size are in use; -EOPNOTSUPP: the
 * loaded module predates the limit.  Nothing changes on failure.
 */
int shadow_volume_resize(shadow_ctx *ctx, const char *volume, uint64_t max_bytes,
			 unsigned int max_percent);

/* Usage thresholds the kernel raises an event at, at most. */
#define SHADOW_MAX_THRESHOLDS 8

/*
 * Have the kernel raise a device-mapper event on @volume's device each
 * time its store's use climbs past one of @pct (@n percentages of the
 * limit, 1..100, ascending; n = 0: none).  Kept while the volume is
 * loaded, not across a reboot: the default is 80 and 90.
 */
int shadow_volume_set_thresholds(shadow_ctx *ctx, const char *volume,
				 const unsigned int *pct, size_t n);

/* -------------------------------------------------------------------------
 * Shadow copy sets
 */

/*
 * Snapshot @n volumes at one instant: suspend all (freezing their file
 * systems), create one snapshot in each, resume all.  All or none: on
 * any failure every snapshot made is deleted, every volume resumed, and
 * shadow_ctx_error() names the volume and the step.  -ETIMEDOUT when the
 * commit took longer than @commit_timeout_us (0: the default).  The
 * writers run around the commit as shadow_set_create_with() describes,
 * with its defaults.
 */
int shadow_set_create(shadow_ctx *ctx, const char *const *volumes, size_t n,
		      uint64_t commit_timeout_us, shadow_set **ret);

/* Default bound of each exchange with the writers, all together, in µs. */
#define SHADOW_DEFAULT_WRITER_TIMEOUT_US 60000000ULL

/*
 * Options of shadow_set_create_with(); NULL options are the defaults.
 * The setters return -EINVAL for a value out of range.
 */
int shadow_create_opts_new(shadow_create_opts **ret);
shadow_create_opts *shadow_create_opts_free(shadow_create_opts *o);
/* The provider's commit bound (0: SHADOW_DEFAULT_COMMIT_TIMEOUT_US). */
int shadow_create_opts_set_commit_timeout(shadow_create_opts *o, uint64_t us);
/* Each writer exchange's bound (0: SHADOW_DEFAULT_WRITER_TIMEOUT_US). */
int shadow_create_opts_set_writer_timeout(shadow_create_opts *o, uint64_t us);
/* Retry the whole creation up to @n more times when a writer failed. */
int shadow_create_opts_set_retries(shadow_create_opts *o, unsigned int n);
/* Run no writer at all. */
int shadow_create_opts_set_no_writers(shadow_create_opts *o, bool no_writers);
/* Run only the writers named (repeatable); -ENOENT later if one is missing. */
int shadow_create_opts_add_writer(shadow_create_opts *o, const char *name);
/*
 * Keep only the components named "<writer>/<component>" (repeatable): a
 * writer none is named for is left out; one that is named but does not
 * exist fails the creation with -EINVAL.
 */
int shadow_create_opts_add_component(shadow_create_opts *o, const char *writer_component);
/*
 * Leave the component "<writer>/<component>" out of the set (repeatable):
 * it is neither prepared nor kept, wherever its paths are, and the set
 * records it as excluded; -EINVAL for a component also named with
 * shadow_create_opts_add_component().  One the writer does not report
 * fails the creation with -EINVAL.
 */
int shadow_create_opts_exclude_component(shadow_create_opts *o, const char *writer_component);
/*
 * The target of the new clone of clone volume @volume (repeatable, one per
 * clone volume of the set): the block device its copy of the volume is
 * written to, named in the volume's table by this path from then on (give
 * one that stays the same across reboots, as /dev/disk/by-id/...).  It
 * must be at least as large as the volume, not in use, and neither a
 * volume's device or store nor another clone's target.  The creation
 * refuses, with -EINVAL and nothing changed, a clone volume of the set
 * without a target, a target for a volume that is not in the set or not a
 * clone volume, two for one volume, one device for two.  -EINVAL here only
 * for an empty argument.
 */
int shadow_create_opts_add_target(shadow_create_opts *o, const char *volume, const char *device);

/*
 * shadow_set_create() with the writers of the writers directory
 * (shadow-writer(7)): identify (each writer describes its components);
 * keep the components with a path on one of the volumes (or those named);
 * a component with some paths on the volumes and some elsewhere (or a
 * named one not wholly on them) fails the creation with -EXDEV before any
 * writer is prepared, unless it is excluded;
 * prepare; freeze (every writer within the writer timeout); the commit;
 * thaw (each writer must have held its application's writes); post-snapshot.
 * The metadata and data the writers give are kept with the set.  When a
 * writer fails (no answer in time, crash, protocol error, status error,
 * held false), the prepared writers get abort, the failed one is killed,
 * the volumes are resumed, the snapshots deleted, and -ECANCELED is
 * returned, with shadow_ctx_error() naming the writer and the event; a
 * refused writer among those to run fails the same way before any runs.
 * Each writer's last state is kept in the catalog (shadow_ctx_writers()).
 */
int shadow_set_create_with(shadow_ctx *ctx, const char *const *volumes, size_t n,
			   const shadow_create_opts *o, shadow_set **ret);

size_t shadow_ctx_sets(shadow_ctx *ctx, shadow_set *const **ret);
shadow_set *shadow_ctx_find_set(shadow_ctx *ctx, uint64_t id);

uint64_t shadow_set_id(const shadow_set *s);
int64_t shadow_set_created(const shadow_set *s);	/* seconds since epoch */
uint64_t shadow_set_freeze_us(const shadow_set *s);	/* first suspend to last resume */
enum shadow_set_state {
	SHADOW_SET_CREATING,		/* "creating" */
	SHADOW_SET_COMPLETE,		/* "complete" */
	_SHADOW_SET_STATE_MAX,
	_SHADOW_SET_STATE_INVALID = -1,
};
enum shadow_set_state shadow_set_state(const shadow_set *s);
const char *shadow_set_state_to_string(enum shadow_set_state s);
size_t shadow_set_count(shadow_ctx *ctx, const shadow_set *s);	/* its shadow copies */

/*
 * What the writers said about a set: @i from 0 to shadow_set_writers() - 1;
 * the metadata (identify's document) and data (post-snapshot's, or NULL)
 * as JSON text.
 */
size_t shadow_set_writers(const shadow_set *s);
const char *shadow_set_writer_name(const shadow_set *s, size_t i);
const char *shadow_set_writer_metadata(const shadow_set *s, size_t i);
const char *shadow_set_writer_data(const shadow_set *s, size_t i);
/* A JSON array of the writer's components excluded, or NULL for none. */
const char *shadow_set_writer_excluded(const shadow_set *s, size_t i);

/* Delete every shadow copy of set @id (and the set). */
int shadow_set_delete(shadow_ctx *ctx, uint64_t id, unsigned int flags);

/* -------------------------------------------------------------------------
 * Shadow copies
 */

size_t shadow_ctx_copies(shadow_ctx *ctx, shadow_copy *const **ret);
shadow_copy *shadow_ctx_find_copy(shadow_ctx *ctx, uint64_t id);

uint64_t shadow_copy_id(const shadow_copy *c);
uint64_t shadow_copy_snapshot(const shadow_copy *c);	/* the kernel's id */
uint64_t shadow_copy_set(const shadow_copy *c);		/* 0: no set (adopted) */
const char *shadow_copy_volume(const shadow_copy *c);
const char *shadow_copy_method(const shadow_copy *c);
int64_t shadow_copy_created(const shadow_copy *c);
enum shadow_copy_state {
	SHADOW_COPY_CREATING,		/* "creating" */
	SHADOW_COPY_VALID,		/* "valid" */
	SHADOW_COPY_INVALID,		/* "invalid": dropped when the store filled,
					 * or a clone whose target failed */
	SHADOW_COPY_DETACHED,		/* "detached": a clone the kernel forgot,
					 * its data a plain device, its target */
	_SHADOW_COPY_STATE_MAX,
	_SHADOW_COPY_STATE_INVALID = -1,
};
enum shadow_copy_state shadow_copy_state(const shadow_copy *c);
const char *shadow_copy_state_to_string(enum shadow_copy_state s);
/* The exposed device (/dev/mapper/...), or NULL. */
const char *shadow_copy_device(const shadow_copy *c);
const char *shadow_copy_mountpoint(const shadow_copy *c);	/* or NULL */
bool shadow_copy_writable(const shadow_copy *c);

/*
 * A clone's target (a copy of a clone volume): the device its data is
 * copied to, as create was given it; NULL for any other copy.
 */
const char *shadow_copy_target(const shadow_copy *c);

/*
 * How far clone @c is: 1 with its state, "hydrating" (the kernel copies
 * the volume onto its target in the background), "complete" (the target
 * holds all of it), "failed" (a write to the target failed: the copy is
 * invalid too) or "detached" (from the catalog: the kernel forgot it, its
 * target is a plain device), and the volume's chunks on its target of all
 * of them (both 0 for a detached clone, no longer tracked).  0 for a copy
 * that is not a clone (nothing set).  -ENODEV when its volume is not
 * active, -ENOENT when the kernel has no such clone.  Any ret_* may be
 * NULL; the state is a static string.
 */
int shadow_copy_clone_progress(shadow_ctx *ctx, const shadow_copy *c, const char **ret_state,
			       uint64_t *ret_copied, uint64_t *ret_total);

/*
 * Detach complete clone @id: the kernel forgets it, the volume's table
 * lets its target go, and the catalog keeps it as SHADOW_COPY_DETACHED:
 * its target holds the volume as it was at the clone's point in time, a
 * plain device that needs no dm-shadow.  @flags: none yet (0).  Nothing
 * changes when it is refused: -ENOENT (no such copy), -EOPNOTSUPP (not a
 * clone), -EBUSY (still hydrating, shadow_ctx_error() says how far; or
 * exposed: unexpose it first), -ESTALE (the clone failed), -EINVAL
 * (detached already), -ENODEV (its volume is not active).
 */
int shadow_copy_detach(shadow_ctx *ctx, uint64_t id, unsigned int flags);

/*
 * Transportable clones, as VSS's transportable shadow copies
 * (shadow-clone-metadata(5)): a detached clone's catalog entry goes to
 * another host with its target disk.
 *
 * Export detached clone @id's metadata: a JSON document (newly allocated,
 * in *@ret_json; free() it) naming this host, the copy, its volume's name,
 * size and chunk size, its set and what the set's writers said, and the
 * size and the CRC-32C of the first and last MiB of the clone's data as
 * its target holds them now (read past the page cache).  The catalog is
 * not changed; an open read-only context will do.  Refused: -ENOENT (no
 * such copy; or its target is not there), -EOPNOTSUPP (not a clone),
 * -EBUSY (a clone the kernel still has: detach it first), -ESTALE (a
 * failed clone), -ENOSPC (its target is smaller than its volume),
 * -ENODATA (an imported copy whose volume's size its catalog entry does
 * not record); a target that cannot be read gives the read's -errno.
 */
int shadow_copy_export_metadata(shadow_ctx *ctx, uint64_t id, char **ret_json);

/*
 * Import document @json (what shadow_copy_export_metadata() made on
 * another host) with the clone's disk, @device: the catalog gets a new set
 * (its writers' records, creation time and freeze window as exported, a
 * new id) and a new copy (a new id, SHADOW_COPY_DETACHED, method "clone",
 * target @device as given, created as exported, its origin as
 * shadow_copy_origin() gives it), in one save; *@ret (may be NULL) is the
 * copy.  Nothing changes when it is refused: -EMEDIUMTYPE (not such a
 * document), -EPROTONOSUPPORT (a version not known), -EBADMSG (a member
 * missing, mistyped, unknown or wrong; shadow_ctx_error() names it),
 * -ENOENT (no @device), -ENOTBLK, -EINVAL (@device is a volume's device or
 * store), -EEXIST (it is a copy's target already: imported twice), -ENOSPC
 * (smaller than the clone's target was), -EBUSY (in use), -ESTALE (it
 * does not hold the clone's data: a checksum differs).
 */
int shadow_copy_import_metadata(shadow_ctx *ctx, const char *json, const char *device,
				shadow_copy **ret);

/*
 * Where imported copy @c comes from: 1 with the host it was exported on,
 * its set (0: none) and shadow ids there and its volume's name there; 0
 * for a copy made here (nothing set); -EINVAL for no copy.  Any ret_* may
 * be NULL; the strings belong to the copy.
 */
int shadow_copy_origin(const shadow_copy *c, const char **ret_host, uint64_t *ret_set,
		       uint64_t *ret_shadow, const char **ret_volume);

/* Delete one shadow copy; -EBUSY while it is exposed (unexpose first). */
int shadow_copy_delete(shadow_ctx *ctx, uint64_t id, unsigned int flags);
/* Delete the oldest shadow copy of @volume; returns its id in *ret_id. */
int shadow_copy_delete_oldest(shadow_ctx *ctx, const char *volume,
			      uint64_t *ret_id);

enum {
	SHADOW_EXPOSE_RW = 1 << 0,	/* writable (auto-recovery) */
};
/*
 * Expose a shadow copy as /dev/mapper/@name (NULL: <volume>-shadow-<id>),
 * read-only unless SHADOW_EXPOSE_RW, and mount it on @mountpoint if not
 * NULL: XFS with nouuid, ext3/ext4 read-only with noload.
 */
int shadow_copy_expose(shadow_ctx *ctx, uint64_t id, const char *name,
		       const char *mountpoint, unsigned int flags);
/* Unmount (if mounted by expose) and remove the exposed device. */
int shadow_copy_unexpose(shadow_ctx *ctx, uint64_t id);

/*
 * Roll the copy's volume back to it (dm-shadow volumes only): the volume
 * reads the copy's data at once, the kernel merges it in the background,
 * and the copy is kept.  -EBUSY when the volume is mounted (unless
 * SHADOW_FORCE), a revert runs already, or the copy is exposed writable.
 */
int shadow_copy_revert(shadow_ctx *ctx, uint64_t id, unsigned int flags);
/*
 * A revert of @volume in progress: 1 with the kernel's snapshot id and the
 * merge position (origin chunks below it merged, of @ret_total), 0 when
 * none runs (snapshot id 0, every chunk merged: @ret_merged equals
 * @ret_total); any ret_* may be NULL.
 */
int shadow_volume_revert_progress(shadow_ctx *ctx, const char *volume, uint64_t *ret_snapshot,
				  uint64_t *ret_merged, uint64_t *ret_total);

/* -------------------------------------------------------------------------
 * Changed-block tracking, export and import (libshadow(3), shadow-stream(5))
 */

/* A byte range of the volume; a negative return stops the call with it. */
typedef int (*shadow_range_fn)(void *userdata, uint64_t offset, uint64_t length);
/*
 * How far a long call is: @done of @total bytes (@total 0: not known).  A
 * negative return stops the call with it (once it has cleaned up), except
 * while an import writes: that is finished first, so that a target is
 * never left half written by a stop.
 */
typedef int (*shadow_progress_fn)(void *userdata, uint64_t done, uint64_t total);

/*
 * The byte ranges in which shadow copy @id and copy @other_id of the same
 * volume differ (@other_id 0: copy @id and the live volume), from the
 * store's metadata alone, read through a metadata snapshot reserved for
 * the call (the origin stays in use) and released before it returns.  In
 * ascending order, each a run of whole chunks (the last one cut at the
 * volume's end); never a subset of what differs, a superset only where a
 * chunk was written with the bytes it held.  dm-shadow volumes only
 * (-EOPNOTSUPP); -EBUSY when the store already holds a metadata snapshot.
 * @ret_changed_bytes (may be NULL): their total.
 */
int shadow_copy_diff(shadow_ctx *ctx, uint64_t id, uint64_t other_id,
		     shadow_range_fn fn, void *userdata, uint64_t *ret_changed_bytes);

/*
 * Write shadow copy @id to @fd as a stream (shadow-stream(5)): all of it,
 * or with @since_id (not 0) only what differs from that copy of the same
 * volume.  The data is read from the copies' exposed devices, or from
 * read-only devices made for the call.  @progress may be NULL.
 */
int shadow_copy_export(shadow_ctx *ctx, uint64_t id, uint64_t since_id, int fd,
		       shadow_progress_fn progress, void *userdata,
		       uint64_t *ret_data_bytes, uint64_t *ret_stream_bytes);

/*
 * Apply the stream read from @fd to @target (a block device, or an image
 * file that a full stream creates or sizes).  The whole stream is verified
 * first and nothing is written when it is refused: -ENODATA (truncated),
 * -EBADMSG (corrupt), -EMEDIUMTYPE (not a stream), -EPROTONOSUPPORT (a
 * version not known), -ESTALE (incremental, and @target does not hold its
 * base), -ENOSPC (@target too small).  A stream on a pipe is spooled to an
 * unnamed file in $TMPDIR (default /var/tmp) first.  The context need not
 * be open.
 */
int shadow_stream_import(shadow_ctx *ctx, int fd, const char *target,
			 shadow_progress_fn progress, void *userdata,
			 uint64_t *ret_target_id, uint64_t *ret_volume_bytes);

/* -------------------------------------------------------------------------
 * Writers (shadow-writer(7))
 */

/*
 * The writers directory (default: $sysconfdir/dm-shadow/writers.d) and
 * the writers' configuration file passed to them (default:
 * $sysconfdir/dm-shadow/writers.conf); absolute paths, NULL for the
 * default.
 */
int shadow_ctx_set_writers_dir(shadow_ctx *ctx, const char *dir);
int shadow_ctx_set_writer_conf(shadow_ctx *ctx, const char *path);
const char *shadow_ctx_writers_dir(const shadow_ctx *ctx);

/*
 * Every entry of the writers directory, in name order, refused ones
 * included.  The list belongs to the context until the next call.
 */
int shadow_ctx_writers(shadow_ctx *ctx, shadow_writer *const **ret, size_t *ret_n);
const char *shadow_writer_name(const shadow_writer *w);
const char *shadow_writer_path(const shadow_writer *w);
enum shadow_writer_state {
	SHADOW_WRITER_READY,		/* "ready" */
	SHADOW_WRITER_REFUSED,		/* "refused": see shadow_writer_reason() */
	_SHADOW_WRITER_STATE_MAX,
	_SHADOW_WRITER_STATE_INVALID = -1,
};
enum shadow_writer_state shadow_writer_state(const shadow_writer *w);
const char *shadow_writer_state_to_string(enum shadow_writer_state s);
const char *shadow_writer_reason(const shadow_writer *w);
/*
 * Its last state in the catalog (SHADOW_WRITER_NEVER_RAN if none); the
 * event it was at, the message, and when.
 */
enum shadow_writer_result {
	SHADOW_WRITER_NEVER_RAN,	/* "never-ran": no creation considered it */
	SHADOW_WRITER_OK,		/* "ok" */
	SHADOW_WRITER_FAILED,		/* "failed" */
	SHADOW_WRITER_RESULT_REFUSED,	/* "refused" */
	SHADOW_WRITER_SKIPPED,		/* "skipped": no component on the set */
	_SHADOW_WRITER_RESULT_MAX,
	_SHADOW_WRITER_RESULT_INVALID = -1,
};
enum shadow_writer_result shadow_writer_last_state(const shadow_writer *w);
const char *shadow_writer_result_to_string(enum shadow_writer_result r);
const char *shadow_writer_last_event(const shadow_writer *w);
const char *shadow_writer_last_message(const shadow_writer *w);
int64_t shadow_writer_last_time(const shadow_writer *w);

/* -------------------------------------------------------------------------
 * Events
 *
 * A volume's device-mapper device (@dm_name: shadow_volume_dm_name()) raises
 * an event when a shadow copy is invalidated because the store overflowed,
 * and when the store's use passes a threshold.  These two functions take no
 * context, change none and need no lock: call them from any thread, after
 * one shadow_ctx_open() in the process (which routes libdevmapper's
 * messages to that context's log).
 */

/* The device's event counter now.  -ENXIO: no such device. */
int shadow_event_counter(const char *dm_name, uint32_t *ret_event_nr);

/*
 * Block until the device's event counter differs from @event_nr (at once
 * if it already does); its value then in *ret_event_nr.  -ENXIO once the
 * device is gone (removing it wakes the waiter); -EINTR on a signal.
 */
int shadow_event_wait(const char *dm_name, uint32_t event_nr,
		      uint32_t *ret_event_nr);

/* -------------------------------------------------------------------------
 * Providers
 */

/*
 * Provider @i (0-based; 0 is dm-shadow, 1 dm-snapshot): its name, its
 * volumes' target and that target's version ("-" when not registered),
 * and whether it can be used now: its targets are registered, or its
 * kernel module loads (libkmod) and registers them.  Returns 1 and fills
 * the ret_* for a provider, 0 past the last.
 */
int shadow_provider(shadow_ctx *ctx, unsigned int i, const char **ret_name,
		    const char **ret_target, bool *ret_usable,
		    const char **ret_version);
/* Why provider @i is not usable, or NULL when it is (or past the last). */
const char *shadow_provider_why(shadow_ctx *ctx, unsigned int i);

/* The library's version, "0.1.0". */
const char *shadow_version(void);

#ifdef __cplusplus
}
#endif

#endif /* LIBSHADOW_H */
