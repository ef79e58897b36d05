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

/* What the last failed call of this context was doing ("" if nothing). */
const char *shadow_ctx_error(const shadow_ctx *ctx);
const char *shadow_ctx_state_dir(const shadow_ctx *ctx);

enum {
	SHADOW_OPEN_WAIT = 1 << 0,	/* wait for the lock instead of -EWOULDBLOCK */
	SHADOW_OPEN_READONLY = 1 << 1,	/* never write the catalog back */
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

/* -------------------------------------------------------------------------
 * Volumes
 */

/*
 * Enable @device with @store.  @method: "cow" (NULL: "cow").
 * @chunk_bytes: 4 KiB .. 1 MiB, a power of two (0: 4 KiB).  @name: the
 * device-mapper name for a device that is not dm (NULL: the device's base
 * name); a dm device is taken over in place and keeps its name, so @name
 * must be NULL or that name.
 */
int shadow_volume_enable(shadow_ctx *ctx, const char *device,
			 const char *store, const char *method,
			 uint64_t chunk_bytes, const char *name,
			 shadow_volume **ret);

enum {
	SHADOW_FORCE = 1 << 0,	/* disable: delete the volume's shadows first;
				 * deactivate: unexpose them */
};
int shadow_volume_disable(shadow_ctx *ctx, const char *volume,
			  unsigned int flags);

/*
 * Load an enabled volume that is not active (after a reboot) as it was:
 * a volume taken over in place is taken over again (its device-mapper
 * device must exist, as LVM activates it), any other gets its mapped
 * device again over the same device and store.  The store must hold the
 * volume's dm-shadow store.  Its snapshots are then matched to the
 * catalog (a copy the store no longer has is dropped, a snapshot the
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
/* "active", or "inactive" when its device-mapper device is not loaded. */
const char *shadow_volume_state(const shadow_volume *v);

/*
 * The store as the kernel reports it (shadow-origin status).  Any ret_*
 * may be NULL.  -ENODEV when the volume is not active.
 */
int shadow_volume_storage(shadow_ctx *ctx, const shadow_volume *v,
			  uint64_t *ret_used_chunks, uint64_t *ret_total_chunks,
			  unsigned int *ret_snapshots,
			  unsigned int *ret_max_snapshots,
			  unsigned int *ret_invalid, bool *ret_failed);

/* -------------------------------------------------------------------------
 * Shadow copy sets
 */

/*
 * Snapshot @n volumes at one instant: suspend all (freezing their file
 * systems), create one snapshot in each, resume all.  All or none: on
 * any failure every snapshot made is deleted, every volume resumed, and
 * shadow_ctx_error() names the volume and the step.  -ETIMEDOUT when the
 * commit took longer than @commit_timeout_us (0: the default).
 */
int shadow_set_create(shadow_ctx *ctx, const char *const *volumes, size_t n,
		      uint64_t commit_timeout_us, shadow_set **ret);

size_t shadow_ctx_sets(shadow_ctx *ctx, shadow_set *const **ret);
shadow_set *shadow_ctx_find_set(shadow_ctx *ctx, uint64_t id);

uint64_t shadow_set_id(const shadow_set *s);
int64_t shadow_set_created(const shadow_set *s);	/* seconds since epoch */
uint64_t shadow_set_freeze_us(const shadow_set *s);	/* first suspend to last resume */
const char *shadow_set_state(const shadow_set *s);	/* "creating", "complete" */
size_t shadow_set_count(shadow_ctx *ctx, const shadow_set *s);	/* its shadow copies */

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
/* "creating", "valid", "invalid" (dropped when the store filled) */
const char *shadow_copy_state(const shadow_copy *c);
/* The exposed device (/dev/mapper/...), or NULL. */
const char *shadow_copy_device(const shadow_copy *c);
const char *shadow_copy_mountpoint(const shadow_copy *c);	/* or NULL */
bool shadow_copy_writable(const shadow_copy *c);

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

/* -------------------------------------------------------------------------
 * Providers
 */

/*
 * Provider @i (0-based): its name and whether it can be used now (the
 * kernel target is registered or its module can be loaded).  Returns 1 and
 * fills the ret_* for a provider, 0 past the last.
 */
int shadow_provider(shadow_ctx *ctx, unsigned int i, const char **ret_name,
		    const char **ret_target, bool *ret_usable,
		    const char **ret_version);

/* The library's version, "0.1.0". */
const char *shadow_version(void);

#ifdef __cplusplus
}
#endif

#endif /* LIBSHADOW_H */
