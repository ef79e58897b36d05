/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl's command line: parsed into struct ctl_args, with no I/O, so
 * the unit tests can drive it (test/unit/test-ctl-args.c).
 */
#ifndef SHADOW_CTL_ARGS_H
#define SHADOW_CTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl-columns.h"
#include "libshadow.h"

enum ctl_verb {
	VERB_ENABLE,
	VERB_DISABLE,
	VERB_CREATE,
	VERB_LIST,
	VERB_DELETE,
	VERB_EXPOSE,
	VERB_UNEXPOSE,
	VERB_RESIZE,
	VERB_MONITOR,
	VERB_ACTIVATE,
	VERB_DEACTIVATE,
	VERB_DIFF,
	VERB_EXPORT,
	VERB_IMPORT,
	VERB_REVERT,
	VERB_SCHEDULE,
	VERB_BROWSE,
	VERB_DETACH,
	VERB_THROTTLE,
	VERB_EXPORT_METADATA,
	VERB_IMPORT_METADATA,
	_VERB_MAX,
};

enum ctl_list {
	LIST_SHADOWS,
	LIST_SETS,
	LIST_VOLUMES,
	LIST_PROVIDERS,
	LIST_STORAGE,
	LIST_WRITERS,
};

/* Options, as bits of ctl_args.opts: which were given (each verb accepts a
 * subset).  The bit numbers index opt_names[] in ctl-args.c. */
#define OPT_STORE		(UINT64_C(1) << 0)
#define OPT_METHOD		(UINT64_C(1) << 1)
#define OPT_CHUNK		(UINT64_C(1) << 2)
#define OPT_NAME		(UINT64_C(1) << 3)
#define OPT_FORCE		(UINT64_C(1) << 4)
#define OPT_TIMEOUT		(UINT64_C(1) << 5)
#define OPT_SET			(UINT64_C(1) << 6)
#define OPT_OLDEST		(UINT64_C(1) << 7)
#define OPT_MOUNT		(UINT64_C(1) << 8)
#define OPT_RW			(UINT64_C(1) << 9)
#define OPT_OUTPUT		(UINT64_C(1) << 10)
#define OPT_OUTPUT_ALL		(UINT64_C(1) << 11)
#define OPT_PROVIDER		(UINT64_C(1) << 12)
#define OPT_MAX_SIZE		(UINT64_C(1) << 13)
#define OPT_ONCE		(UINT64_C(1) << 14)
#define OPT_CONFIG		(UINT64_C(1) << 15)
#define OPT_RETRIES		(UINT64_C(1) << 16)
#define OPT_WRITER		(UINT64_C(1) << 17)
#define OPT_COMPONENT		(UINT64_C(1) << 18)
#define OPT_NO_WRITERS		(UINT64_C(1) << 19)
#define OPT_WRITER_TIMEOUT	(UINT64_C(1) << 20)
#define OPT_WRITERS_DIR		(UINT64_C(1) << 21)
#define OPT_WRITER_CONF		(UINT64_C(1) << 22)
#define OPT_ALL			(UINT64_C(1) << 23)
#define OPT_DEVICE_TIMEOUT	(UINT64_C(1) << 24)
#define OPT_EXCLUDE_COMPONENT	(UINT64_C(1) << 25)
#define OPT_SINCE		(UINT64_C(1) << 26)
#define OPT_TO			(UINT64_C(1) << 27)
#define OPT_STOP		(UINT64_C(1) << 28)
#define OPT_TARGET		(UINT64_C(1) << 29)
#define OPT_HYDRATE_RATE	(UINT64_C(1) << 30)
#define OPT_DEVICE		(UINT64_C(1) << 31)

/* schedule's subverbs (shadowctl(8)). */
enum ctl_schedule {
	SCHEDULE_SHOW,
	SCHEDULE_RUN,
	SCHEDULE_RUN_NOW,
	SCHEDULE_CLEANUP,
	_SCHEDULE_MAX,
};

extern const char *const ctl_schedule_names[_SCHEDULE_MAX];

/* How many --writer (and --component) options one command may give. */
#define CTL_MAX_NAMES 32

enum { CTL_RUN = 0, CTL_HELP = 1, CTL_VERSION = 2 };

/* create --target <volume>=<device>: a clone volume's new clone's target. */
struct ctl_target {
	char volume[SHADOW_VOLUME_NAME_MAX + 1];
	const char *device;
};

/* resize --max-size: "max", a size, or a percentage of what the store holds. */
struct ctl_max_size {
	bool max;
	uint64_t bytes;
	unsigned int percent;		/* 1..100, or 0 for bytes/max */
};

struct ctl_args {
	enum ctl_verb verb;
	bool json;
	bool wait;
	bool verbose;
	bool noheadings;
	const char *state_dir;
	uint64_t opts;
	const char *store;
	const char *method;
	uint64_t chunk_bytes;
	const char *name;
	uint64_t timeout_us;
	uint64_t set;
	const char *oldest;
	const char *mount;
	const char *provider;		/* enable: NULL (auto) or a name */
	uint64_t device_timeout_us;	/* activate: 0, do not wait */
	enum ctl_list list;
	const char *output;		/* list: -o's argument */
	struct ctl_columns columns;	/* list: what to print, from -o, -O, -J */
	/* create: the writers (shadow-writer(7)) */
	unsigned int retries;
	uint64_t writer_timeout_us;
	const char *writers_dir;	/* create, list writers */
	const char *writer_conf;
	const char *writers[CTL_MAX_NAMES];
	size_t n_writers;
	const char *components[CTL_MAX_NAMES];	/* "<writer>/<component>" */
	size_t n_components;
	const char *excluded[CTL_MAX_NAMES];	/* --exclude-component's */
	size_t n_excluded;
	struct ctl_target targets[CTL_MAX_NAMES];	/* create --target */
	size_t n_targets;
	uint32_t hydrate_rate;		/* enable --hydrate-rate, MiB/s */
	uint32_t rate;			/* throttle: MiB/s (args[1]) */
	uint64_t id;			/* delete, expose, unexpose, diff, export, revert, detach,
					 * export-metadata */
	uint64_t other_id;		/* diff: the second copy (0: the live volume) */
	uint64_t since;			/* export --since (0: a full stream) */
	const char *to;			/* import --to */
	const char *device;		/* import-metadata --device */
	struct ctl_max_size max_size;	/* resize */
	const char *config;		/* monitor, schedule */
	enum ctl_schedule schedule;	/* schedule: the subverb (args[0]) */
	char **args;			/* positional arguments after the verb */
	int nargs;
};

extern const char *const ctl_verb_names[_VERB_MAX];

/* Whether @verb only reads (opens read-only, shared lock, no repair). */
bool ctl_verb_only_reads(enum ctl_verb verb);

/*
 * Parse argv.  Returns CTL_RUN, CTL_HELP (ret->verb set when a verb was
 * given before --help, else -1 cast), CTL_VERSION, or -EINVAL with a
 * reason in @why.
 */
int ctl_parse_argv(int argc, char *argv[], struct ctl_args *ret,
		   char *why, size_t why_len);

/*
 * The decimal number @s starts with (a digit first: no sign, no blank);
 * @end points past it.  0 or -EINVAL (none, or out of range).
 */
int ctl_parse_number(const char *s, unsigned long long *ret, char **end);
/* "4096", "4K", "1M", "2G", "1T" (also KiB ...) -> bytes; 0 or -EINVAL. */
int ctl_parse_size(const char *s, uint64_t *ret);
/* "max", "64M", "20%" -> @ret; 0 or -EINVAL (0 bytes, 0% or over 100%). */
int ctl_parse_max_size(const char *s, struct ctl_max_size *ret);
/* "10", "2.5" seconds -> µs; 0 or -EINVAL. */
int ctl_parse_seconds(const char *s, uint64_t *ret);
/* A decimal id > 0. */
int ctl_parse_id(const char *s, uint64_t *ret);
/* A writer's name as the writers directory allows it: [A-Za-z0-9_-]+, @len bytes. */
bool ctl_writer_name_ok(const char *s, size_t len);
/*
 * "<volume>=<device>" (create --target): a volume name up to
 * SHADOW_VOLUME_NAME_MAX bytes and a device, neither empty; the device
 * points into @s.  A volume name may hold '=' (never '/'): an absolute
 * device is what follows the first "=/".  0 or -EINVAL.
 */
int ctl_parse_target(const char *s, struct ctl_target *ret);

#endif
