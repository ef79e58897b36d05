/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The thin device-mapper layer: one function per dm operation, through
 * libdevmapper only.  Each is silent (libdevmapper's own logging is
 * routed to the context's log callback at debug level) and atomic: it
 * either does its one ioctl or fails with -errno, converting
 * libdevmapper's 1/0.  No policy here; the orchestration layer
 * (shadow-volume.c, shadow-set.c, shadow-expose.c, ...) compose these.
 *
 * udev: when DM_DISABLE_UDEV is set in the environment, udev
 * synchronisation is off (dm_udev_set_sync_support(0)) and libdevmapper
 * makes the /dev/mapper nodes itself; otherwise every create, resume and
 * remove waits for udev on a cookie.
 */
#ifndef SHADOW_DM_H
#define SHADOW_DM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* One table line: start and length in sectors, target type, parameters. */
struct shadow_dm_target {
	uint64_t start;
	uint64_t length;
	char *type;
	char *params;
};

struct shadow_dm_table {
	struct shadow_dm_target *targets;
	unsigned int n;
};

void shadow_dm_table_clear(struct shadow_dm_table *t);
static inline void table_clearp(struct shadow_dm_table *t)
{
	shadow_dm_table_clear(t);
}
#define _cleanup_table_ _cleanup_(table_clearp)
/* Append a line (strings copied).  0 or -ENOMEM. */
int shadow_dm_table_add(struct shadow_dm_table *t, uint64_t start,
			uint64_t length, const char *type, const char *params);

struct shadow_dm_info {
	bool exists;
	bool suspended;
	bool read_only;
	bool live_table;
	bool inactive_table;
	int open_count;
	uint32_t major;
	uint32_t minor;
	uint32_t event_nr;
	int target_count;
	char uuid[130];
};

/*
 * libdevmapper's messages (see shadow-dm.c for why it is done this way).
 * hold/release: while one hold is taken (one per live context),
 * libdevmapper logs through us (and udev sync is off with
 * DM_DISABLE_UDEV); at the last release it gets its default log back.
 * enter/leave: this thread's messages go to @fn until leave restores
 * what enter returned (scopes nest).  forget: this thread's messages no
 * longer go to @userdata (it is being freed).
 */
typedef void (*shadow_dm_log_fn)(void *userdata, int level, const char *msg);
struct shadow_dm_log_scope {
	shadow_dm_log_fn fn;
	void *userdata;
};
void shadow_dm_log_hold(void);
void shadow_dm_log_release(void);
struct shadow_dm_log_scope shadow_dm_log_enter(shadow_dm_log_fn fn, void *userdata);
void shadow_dm_log_leave(struct shadow_dm_log_scope *prev);
void shadow_dm_log_forget(void *userdata);

enum {
	SHADOW_DM_READONLY = 1 << 0,
	/*
	 * create: a device of our own that nobody else should look at (the
	 * device a dm-snapshot copy lives in): udev's disk rules do not probe
	 * it (it carries its origin's file-system UUID) and other rules leave
	 * it alone, as LVM does for its snapshots' parts.
	 */
	SHADOW_DM_PRIVATE = 1 << 1,
};

/*
 * Create @name (with @uuid, may be NULL) holding @table, and resume it
 * (one DM_DEVICE_CREATE with a table: create, load and resume).
 */
int shadow_dm_create(const char *name, const char *uuid,
		     const struct shadow_dm_table *table, unsigned int flags);
/* Load @table into @name's inactive slot. */
int shadow_dm_load(const char *name, const struct shadow_dm_table *table,
		   unsigned int flags);
/* Drop @name's inactive table. */
int shadow_dm_clear(const char *name);
/* Suspend @name; @freeze: freeze the file system on it (lockfs) first. */
int shadow_dm_suspend(const char *name, bool freeze);
/* Resume @name (swapping in an inactive table if one is loaded). */
int shadow_dm_resume(const char *name);
/* Remove @name. */
int shadow_dm_remove(const char *name);
/*
 * Send @msg to sector 0 of @name.  The target's answer, if any, goes to
 * *ret_out (newly allocated, "" when none) when ret_out is not NULL.
 */
int shadow_dm_message(const char *name, const char *msg, char **ret_out);
/* Status (@table false) or table (@table true) of @name's live table. */
int shadow_dm_get_table(const char *name, bool table,
			struct shadow_dm_table *ret);
/* Info of @name; ret->exists is false (and 0 returned) when absent. */
int shadow_dm_info(const char *name, struct shadow_dm_info *ret);
/* Info by device number; ret_name (newly allocated) may be NULL. */
int shadow_dm_info_by_devno(uint32_t major, uint32_t minor,
			    struct shadow_dm_info *ret, char **ret_name);
/* The devices @name's live table uses, as dev_t values (newly allocated). */
int shadow_dm_deps(const char *name, dev_t **ret, unsigned int *ret_n);
/* Whether the kernel has target @type; its version "x.y.z" in ret_version. */
int shadow_dm_target_version(const char *type, char ret_version[32]);
/* Is this major number device-mapper's? */
bool shadow_dm_is_dm_major(uint32_t major);
/*
 * Block until @name's event counter differs from @event_nr (at once if it
 * already does), and give its new value.  -ENXIO once the device is gone
 * (removing a device wakes its waiters), -EINTR on a signal.  Safe from any
 * thread.
 */
int shadow_dm_wait_event(const char *name, uint32_t event_nr,
			 uint32_t *ret_event_nr);

#endif
