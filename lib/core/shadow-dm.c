/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The thin device-mapper layer over libdevmapper.  See shadow-dm.h.
 *
 * Every function builds one dm_task, runs it and converts the outcome:
 * libdevmapper returns 1/0 and keeps the ioctl's errno in the task
 * (dm_task_get_errno()); we return 0 or that errno negated (-EIO when it
 * has none).
 */
#include <errno.h>
#include <libdevmapper.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "macro.h"
#include "shadow-dm.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_task *, dm_task_destroy);
#define _cleanup_dm_task_ _cleanup_(dm_task_destroyp)

/*
 * libdevmapper's log: one function for the whole process
 * (dm_log_with_errno_init()), while every libshadow context has a log of
 * its own, and a process may hold several contexts, in several threads.
 * So no process-wide pointer names a context:
 *
 * - which log a message goes to is per thread (@current): each public
 *   entry point that may run libdevmapper sets it to its context for the
 *   length of the call (shadow_dm_log_enter()/leave(), CTX_DM_LOG()), and
 *   libdevmapper logs in the thread that runs the task.  Two contexts in
 *   two threads each get their own messages, a context freed in one
 *   thread is never reached from another, and a message outside any call
 *   (shadow_event_wait() in a monitor's thread) goes nowhere;
 * - our function is libdevmapper's log only while a context exists
 *   (@holders, counted under @hold_lock): when the last one is freed,
 *   libdevmapper gets its default log back, and holds no pointer into
 *   this library (which may then be unloaded).
 *
 * A program that set its own libdevmapper log before creating a context
 * gets libdevmapper's default back afterwards: libdevmapper has no call
 * that says which log is set.
 */
static _Thread_local struct shadow_dm_log_scope current;
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long holders;

/* libdevmapper's messages, handed to this thread's log at debug level. */
_printf_(5, 6)
static void shadow_dm_log(int level, const char *file, int line,
			  int dm_errno_or_class, const char *f, ...)
{
	struct shadow_dm_log_scope to = current;
	char buf[512];
	va_list ap;

	if (!to.fn)
		return;
	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	to.fn(to.userdata, 7, buf);
}

void shadow_dm_log_hold(void)
{
	pthread_mutex_lock(&hold_lock);
	if (holders++ == 0) {
		dm_log_with_errno_init(shadow_dm_log);
		/* The library never prints; its messages go through shadow_dm_log. */
		dm_log_init_verbose(0);
		if (getenv("DM_DISABLE_UDEV"))
			dm_udev_set_sync_support(0);
	}
	pthread_mutex_unlock(&hold_lock);
}

void shadow_dm_log_release(void)
{
	pthread_mutex_lock(&hold_lock);
	if (holders > 0 && --holders == 0)
		dm_log_with_errno_init(NULL);	/* libdevmapper's own again */
	pthread_mutex_unlock(&hold_lock);
}

struct shadow_dm_log_scope shadow_dm_log_enter(shadow_dm_log_fn fn, void *userdata)
{
	struct shadow_dm_log_scope prev = current;

	current = (struct shadow_dm_log_scope) { .fn = fn, .userdata = userdata };
	return prev;
}

void shadow_dm_log_leave(struct shadow_dm_log_scope *prev)
{
	current = *prev;
}

void shadow_dm_log_forget(void *userdata)
{
	if (current.userdata == userdata)
		current = (struct shadow_dm_log_scope) { .fn = NULL };
}

void shadow_dm_table_clear(struct shadow_dm_table *t)
{
	for (unsigned int i = 0; i < t->n; i++) {
		free(t->targets[i].type);
		free(t->targets[i].params);
	}
	free(t->targets);
	t->targets = NULL;
	t->n = 0;
}

int shadow_dm_table_add(struct shadow_dm_table *t, uint64_t start,
			uint64_t length, const char *type, const char *params)
{
	struct shadow_dm_target *n;
	char *ty, *pa;

	ty = strdup(type);
	pa = strdup(params ? params : "");
	n = realloc(t->targets, (t->n + 1) * sizeof(*n));
	if (!ty || !pa || !n) {
		free(ty);
		free(pa);
		if (n)
			t->targets = n;
		return -ENOMEM;
	}
	t->targets = n;
	t->targets[t->n++] = (struct shadow_dm_target) {
		.start = start, .length = length, .type = ty, .params = pa,
	};
	return 0;
}

static int task_errno(struct dm_task *dmt)
{
	int e = dm_task_get_errno(dmt);

	return e > 0 ? -e : -EIO;
}

static int task_new(int type, const char *name, struct dm_task **ret)
{
	struct dm_task *dmt = dm_task_create(type);

	if (!dmt)
		return -ENOMEM;
	if (name && !dm_task_set_name(dmt, name)) {
		dm_task_destroy(dmt);
		return -EINVAL;
	}
	*ret = dmt;
	return 0;
}

static int task_add_table(struct dm_task *dmt, const struct shadow_dm_table *t)
{
	for (unsigned int i = 0; i < t->n; i++)
		if (!dm_task_add_target(dmt, t->targets[i].start,
					t->targets[i].length,
					t->targets[i].type,
					t->targets[i].params))
			return -ENOMEM;
	return 0;
}

/*
 * Run a task that changes device nodes (create, resume, remove) and wait
 * for udev on a cookie; without udev sync, libdevmapper updates the nodes
 * itself inside dm_udev_wait().
 */
static int task_run_cookie(struct dm_task *dmt, uint16_t udev_flags)
{
	uint32_t cookie = 0;
	int r = 0;

	if (!dm_task_set_cookie(dmt, &cookie, udev_flags))
		return -EIO;
	if (!dm_task_run(dmt))
		r = task_errno(dmt);
	/* The cookie must be waited on (and released) either way. */
	if (!dm_udev_wait(cookie) && !r)
		r = -EIO;
	return r;
}

int shadow_dm_create(const char *name, const char *uuid,
		     const struct shadow_dm_table *table, unsigned int flags)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	int r;

	r = task_new(DM_DEVICE_CREATE, name, &dmt);
	if (r < 0)
		return r;
	if (uuid && *uuid && !dm_task_set_uuid(dmt, uuid))
		return -EINVAL;
	if ((flags & SHADOW_DM_READONLY) && !dm_task_set_ro(dmt))
		return -ENOMEM;
	r = task_add_table(dmt, table);
	if (r < 0)
		return r;
	return task_run_cookie(dmt, (flags & SHADOW_DM_PRIVATE) ?
			       DM_UDEV_DISABLE_DISK_RULES_FLAG | DM_UDEV_DISABLE_OTHER_RULES_FLAG |
			       DM_UDEV_LOW_PRIORITY_FLAG : 0);
}

int shadow_dm_load(const char *name, const struct shadow_dm_table *table,
		   unsigned int flags)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	int r;

	r = task_new(DM_DEVICE_RELOAD, name, &dmt);
	if (r < 0)
		return r;
	if ((flags & SHADOW_DM_READONLY) && !dm_task_set_ro(dmt))
		return -ENOMEM;
	r = task_add_table(dmt, table);
	if (r < 0)
		return r;
	if (!dm_task_run(dmt))
		return task_errno(dmt);
	return 0;
}

static int simple_task(int type, const char *name)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	int r;

	r = task_new(type, name, &dmt);
	if (r < 0)
		return r;
	if (!dm_task_run(dmt))
		return task_errno(dmt);
	return 0;
}

int shadow_dm_clear(const char *name)
{
	return simple_task(DM_DEVICE_CLEAR, name);
}

int shadow_dm_suspend(const char *name, bool freeze)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	int r;

	r = task_new(DM_DEVICE_SUSPEND, name, &dmt);
	if (r < 0)
		return r;
	if (!freeze && !dm_task_skip_lockfs(dmt))
		return -ENOMEM;
	if (!dm_task_run(dmt))
		return task_errno(dmt);
	return 0;
}

int shadow_dm_resume(const char *name)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	int r;

	r = task_new(DM_DEVICE_RESUME, name, &dmt);
	if (r < 0)
		return r;
	return task_run_cookie(dmt, 0);
}

int shadow_dm_remove(const char *name)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	int r;

	r = task_new(DM_DEVICE_REMOVE, name, &dmt);
	if (r < 0)
		return r;
	/* A transient opener (udev's blkid probe) makes the kernel say EBUSY. */
	if (!dm_task_retry_remove(dmt))
		return -ENOMEM;
	return task_run_cookie(dmt, 0);
}

int shadow_dm_message(const char *name, const char *msg, char **ret_out)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	const char *resp;
	int r;

	r = task_new(DM_DEVICE_TARGET_MSG, name, &dmt);
	if (r < 0)
		return r;
	if (!dm_task_set_sector(dmt, 0) || !dm_task_set_message(dmt, msg))
		return -ENOMEM;
	if (!dm_task_run(dmt))
		return task_errno(dmt);
	if (ret_out) {
		char *s;

		resp = dm_task_get_message_response(dmt);
		s = strdup(resp ? resp : "");
		if (!s)
			return -ENOMEM;
		*ret_out = s;
	}
	return 0;
}

int shadow_dm_get_table(const char *name, bool table,
			struct shadow_dm_table *ret)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	struct shadow_dm_table t = { 0 };
	struct dm_info info;
	void *next = NULL;
	int r;

	r = task_new(table ? DM_DEVICE_TABLE : DM_DEVICE_STATUS, name, &dmt);
	if (r < 0)
		return r;
	if (!dm_task_run(dmt))
		return task_errno(dmt);
	if (!dm_task_get_info(dmt, &info))
		return -EIO;
	if (!info.exists)
		return -ENODEV;
	do {
		uint64_t start, length;
		char *type = NULL, *params = NULL;

		next = dm_get_next_target(dmt, next, &start, &length, &type,
					  &params);
		if (!type)
			break;
		r = shadow_dm_table_add(&t, start, length, type, params);
		if (r < 0) {
			shadow_dm_table_clear(&t);
			return r;
		}
	} while (next);
	*ret = t;
	return 0;
}

static void info_fill(struct dm_task *dmt, const struct dm_info *info,
		      struct shadow_dm_info *ret)
{
	const char *uuid = dm_task_get_uuid(dmt);

	*ret = (struct shadow_dm_info) {
		.exists = info->exists,
		.suspended = info->suspended,
		.read_only = info->read_only,
		.live_table = info->live_table,
		.inactive_table = info->inactive_table,
		.open_count = info->open_count,
		.major = info->major,
		.minor = info->minor,
		.event_nr = info->event_nr,
		.target_count = info->target_count,
	};
	if (uuid)
		snprintf(ret->uuid, sizeof(ret->uuid), "%s", uuid);
}

int shadow_dm_info(const char *name, struct shadow_dm_info *ret)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	struct dm_info info;
	int r;

	r = task_new(DM_DEVICE_INFO, name, &dmt);
	if (r < 0)
		return r;
	if (!dm_task_run(dmt)) {
		r = task_errno(dmt);
		if (r == -ENXIO || r == -ENODEV) {
			*ret = (struct shadow_dm_info) { .exists = false };
			return 0;
		}
		return r;
	}
	if (!dm_task_get_info(dmt, &info))
		return -EIO;
	info_fill(dmt, &info, ret);
	return 0;
}

int shadow_dm_info_by_devno(uint32_t major, uint32_t minor,
			    struct shadow_dm_info *ret, char **ret_name)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	struct dm_info info;
	const char *name;
	int r;

	r = task_new(DM_DEVICE_INFO, NULL, &dmt);
	if (r < 0)
		return r;
	if (!dm_task_set_major(dmt, major) || !dm_task_set_minor(dmt, minor))
		return -EINVAL;
	if (!dm_task_run(dmt))
		return task_errno(dmt);
	if (!dm_task_get_info(dmt, &info))
		return -EIO;
	if (!info.exists)
		return -ENODEV;
	if (ret_name) {
		char *s;

		name = dm_task_get_name(dmt);
		if (!name)
			return -EIO;
		s = strdup(name);
		if (!s)
			return -ENOMEM;
		*ret_name = s;
	}
	info_fill(dmt, &info, ret);
	return 0;
}

int shadow_dm_deps(const char *name, dev_t **ret, unsigned int *ret_n)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	struct dm_deps *deps;
	dev_t *d;
	int r;

	r = task_new(DM_DEVICE_DEPS, name, &dmt);
	if (r < 0)
		return r;
	if (!dm_task_run(dmt))
		return task_errno(dmt);
	deps = dm_task_get_deps(dmt);
	if (!deps)
		return -ENODEV;
	d = calloc(deps->count ? deps->count : 1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (unsigned int i = 0; i < deps->count; i++)
		d[i] = (dev_t)deps->device[i];
	*ret = d;
	*ret_n = deps->count;
	return 0;
}

int shadow_dm_target_version(const char *type, char ret_version[32])
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	struct dm_versions *v, *last;
	int r;

	r = task_new(DM_DEVICE_LIST_VERSIONS, NULL, &dmt);
	if (r < 0)
		return r;
	if (!dm_task_run(dmt))
		return task_errno(dmt);
	v = dm_task_get_versions(dmt);
	if (!v)
		return -ENOENT;
	do {
		last = v;
		if (strcmp(v->name, type) == 0) {
			snprintf(ret_version, 32, "%u.%u.%u", v->version[0],
				 v->version[1], v->version[2]);
			return 0;
		}
		v = (struct dm_versions *)((char *)v + v->next);
	} while (last != v);
	return -ENOENT;
}

bool shadow_dm_is_dm_major(uint32_t major)
{
	return dm_is_dm_major(major);
}

int shadow_dm_wait_event(const char *name, uint32_t event_nr,
			 uint32_t *ret_event_nr)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	struct dm_info info;
	int r;

	r = task_new(DM_DEVICE_WAITEVENT, name, &dmt);
	if (r < 0)
		return r;
	if (!dm_task_set_event_nr(dmt, event_nr))
		return -ENOMEM;
	if (!dm_task_run(dmt))
		return task_errno(dmt);
	if (!dm_task_get_info(dmt, &info))
		return -EIO;
	if (!info.exists)
		return -ENXIO;
	*ret_event_nr = info.event_nr;
	return 0;
}
