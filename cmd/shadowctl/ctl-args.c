/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-args.h"
#include "ctl-invalid.h"
#include "ctl-list.h"

const char *const ctl_verb_names[_VERB_MAX] = {
	[VERB_ENABLE] = "enable",
	[VERB_DISABLE] = "disable",
	[VERB_CREATE] = "create",
	[VERB_LIST] = "list",
	[VERB_DELETE] = "delete",
	[VERB_EXPOSE] = "expose",
	[VERB_UNEXPOSE] = "unexpose",
	[VERB_RESIZE] = "resize",
	[VERB_MONITOR] = "monitor",
	[VERB_ACTIVATE] = "activate",
	[VERB_DEACTIVATE] = "deactivate",
	[VERB_DIFF] = "diff",
	[VERB_EXPORT] = "export",
	[VERB_IMPORT] = "import",
	[VERB_REVERT] = "revert",
	[VERB_SCHEDULE] = "schedule",
	[VERB_BROWSE] = "browse",
	[VERB_DETACH] = "detach",
	[VERB_THROTTLE] = "throttle",
	[VERB_EXPORT_METADATA] = "export-metadata",
	[VERB_IMPORT_METADATA] = "import-metadata",
};

const char *const ctl_schedule_names[_SCHEDULE_MAX] = {
	[SCHEDULE_SHOW] = "show",
	[SCHEDULE_RUN] = "run",
	[SCHEDULE_RUN_NOW] = "run-now",
	[SCHEDULE_CLEANUP] = "cleanup",
};

/*
 * The verbs that only read: they open the catalog read-only (a shared
 * lock while reading it, no state directory created, no repair, no wait
 * for a command that changes things).  Every other verb changes the
 * kernel or the catalog and takes the command lock (shadowctl(8), LOCKING).
 */
static const bool verb_only_reads[_VERB_MAX] = {
	[VERB_LIST] = true,
	[VERB_IMPORT] = true,	/* writes a device or file, never the catalog */
	[VERB_EXPORT_METADATA] = true,	/* reads the catalog and a disk */
};

bool ctl_verb_only_reads(enum ctl_verb verb)
{
	return (int)verb >= 0 && verb < _VERB_MAX && verb_only_reads[verb];
}

/* Which options each verb takes. */
static const uint64_t verb_opts[_VERB_MAX] = {
	[VERB_ENABLE] = OPT_STORE | OPT_METHOD | OPT_CHUNK | OPT_NAME | OPT_PROVIDER |
			OPT_HYDRATE_RATE,
	[VERB_DISABLE] = OPT_FORCE,
	[VERB_CREATE] = OPT_TIMEOUT | OPT_RETRIES | OPT_WRITER | OPT_COMPONENT |
			OPT_NO_WRITERS | OPT_WRITER_TIMEOUT | OPT_WRITERS_DIR | OPT_WRITER_CONF |
			OPT_EXCLUDE_COMPONENT | OPT_TARGET,
	[VERB_LIST] = OPT_WRITERS_DIR | OPT_OUTPUT | OPT_OUTPUT_ALL,
	[VERB_DELETE] = OPT_SET | OPT_OLDEST | OPT_FORCE,
	[VERB_EXPOSE] = OPT_NAME | OPT_MOUNT | OPT_RW,
	[VERB_UNEXPOSE] = 0,
	[VERB_RESIZE] = OPT_MAX_SIZE,
	[VERB_MONITOR] = OPT_ONCE | OPT_CONFIG,
	[VERB_ACTIVATE] = OPT_ALL | OPT_DEVICE_TIMEOUT,
	[VERB_DEACTIVATE] = OPT_ALL | OPT_FORCE,
	[VERB_DIFF] = 0,
	[VERB_EXPORT] = OPT_SINCE | OPT_OUTPUT,
	[VERB_IMPORT] = OPT_TO,
	[VERB_REVERT] = OPT_FORCE,
	[VERB_SCHEDULE] = OPT_CONFIG,
	[VERB_BROWSE] = OPT_STOP,
	[VERB_DETACH] = 0,
	[VERB_THROTTLE] = 0,
	[VERB_EXPORT_METADATA] = OPT_OUTPUT,
	[VERB_IMPORT_METADATA] = OPT_DEVICE,
};

static const char *const opt_names[] = {
	"--store", "--method", "--chunk-size", "--name", "--force",
	"--timeout-commit", "--set", "--oldest", "--mount", "--rw",
	"--output", "--output-all",
	"--provider", "--max-size", "--once", "--config",
	"--retries", "--writer", "--component", "--no-writers", "--writer-timeout",
	"--writers-dir", "--writer-conf",
	"--all", "--device-timeout", "--exclude-component",
	"--since", "--to", "--stop", "--target", "--hydrate-rate", "--device",
};

int ctl_parse_number(const char *s, unsigned long long *ret, char **end)
{
	/* strtoull would take a sign or leading blanks: refuse them here. */
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s, end, 10);
	return errno ? -EINVAL : 0;
}

int ctl_parse_size(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (ctl_parse_number(s, &v, &end) < 0)
		return -EINVAL;
	if (*end == 'K' || *end == 'k') {
		if (v > (UINT64_MAX >> 10))
			return -EINVAL;
		v <<= 10;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		if (v > (UINT64_MAX >> 20))
			return -EINVAL;
		v <<= 20;
		end++;
	} else if (*end == 'G' || *end == 'g') {
		if (v > (UINT64_MAX >> 30))
			return -EINVAL;
		v <<= 30;
		end++;
	} else if (*end == 'T' || *end == 't') {
		if (v > (UINT64_MAX >> 40))
			return -EINVAL;
		v <<= 40;
		end++;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int ctl_parse_max_size(const char *s, struct ctl_max_size *ret)
{
	struct ctl_max_size m = { 0 };
	size_t len = s ? strlen(s) : 0;

	if (s && strcmp(s, "max") == 0) {
		m.max = true;
	} else if (len > 1 && len <= 4 && s[len - 1] == '%') {
		for (size_t i = 0; i < len - 1; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -EINVAL;
			m.percent = m.percent * 10 + (unsigned int)(s[i] - '0');
		}
		if (m.percent == 0 || m.percent > 100)
			return -EINVAL;
	} else if (ctl_parse_size(s, &m.bytes) < 0 || m.bytes == 0) {
		return -EINVAL;
	}
	*ret = m;
	return 0;
}

int ctl_parse_seconds(const char *s, uint64_t *ret)
{
	double v;
	char *end;

	if (!s || ((*s < '0' || *s > '9') && *s != '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || v <= 0 || v > 3600)
		return -EINVAL;
	*ret = (uint64_t)(v * 1e6);
	return *ret ? 0 : -EINVAL;
}

int ctl_parse_id(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

bool ctl_writer_name_ok(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

int ctl_parse_target(const char *s, struct ctl_target *ret)
{
	/*
	 * A volume name may hold '=' but never '/': an absolute device
	 * starts at the first "=/"; a relative one after the first '='.
	 */
	const char *eq = s ? strstr(s, "=/") : NULL;
	size_t len;

	if (!eq && s)
		eq = strchr(s, '=');
	if (!eq || eq == s || !eq[1])
		return -EINVAL;
	len = (size_t)(eq - s);
	if (len > SHADOW_VOLUME_NAME_MAX)
		return -EINVAL;
	memcpy(ret->volume, s, len);
	ret->volume[len] = '\0';
	ret->device = eq + 1;
	return 0;
}

static int parse_target(struct ctl_args *a, const char *s, char *why, size_t len)
{
	if (a->n_targets >= CTL_MAX_NAMES)
		return ctl_invalid(why, len, "too many --target options (at most %d)", CTL_MAX_NAMES);
	if (ctl_parse_target(s, &a->targets[a->n_targets]) < 0)
		return ctl_invalid(why, len, "bad target '%s' (<volume>=<device>, a volume name of at "
				   "most %d bytes)", s, SHADOW_VOLUME_NAME_MAX);
	a->n_targets++;
	return 0;
}

/* MiB/s, 0 for no limit. */
static int parse_rate(const char *s, uint32_t *ret)
{
	unsigned long long v;
	char *end;

	if (ctl_parse_number(s, &v, &end) < 0 || *end || v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static int add_name(const char **v, size_t *n, const char *s, const char *opt,
		    char *why, size_t len)
{
	if (*n >= CTL_MAX_NAMES)
		return ctl_invalid(why, len, "too many %s options (at most %d)", opt, CTL_MAX_NAMES);
	v[(*n)++] = s;
	return 0;
}

static int parse_writer(struct ctl_args *a, const char *s, char *why, size_t len)
{
	if (!ctl_writer_name_ok(s, strlen(s)))
		return ctl_invalid(why, len, "bad writer name '%s' (letters, digits, '_' and '-')", s);
	return add_name(a->writers, &a->n_writers, s, "--writer", why, len);
}

static bool named(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static int parse_component(struct ctl_args *a, const char *s, bool exclude,
			   char *why, size_t len)
{
	const char *slash = strchr(s, '/');

	if (!slash || !slash[1] || !ctl_writer_name_ok(s, (size_t)(slash - s)))
		return ctl_invalid(why, len, "bad component '%s' (<writer>/<component>)", s);
	if (named(exclude ? a->components : a->excluded,
		  exclude ? a->n_components : a->n_excluded, s))
		return ctl_invalid(why, len, "--component and --exclude-component both name %s", s);
	if (exclude)
		return add_name(a->excluded, &a->n_excluded, s, "--exclude-component", why, len);
	return add_name(a->components, &a->n_components, s, "--component", why, len);
}

static int parse_retries(const char *s, unsigned int *ret)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 100)
		return -EINVAL;
	*ret = (unsigned int)v;
	return 0;
}

static int parse_list_what(const char *s, enum ctl_list *ret)
{
	static const char *const names[] = {
		[LIST_SHADOWS] = "shadows", [LIST_SETS] = "sets",
		[LIST_VOLUMES] = "volumes", [LIST_PROVIDERS] = "providers",
		[LIST_STORAGE] = "storage", [LIST_WRITERS] = "writers",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum ctl_list)i;
			return 0;
		}
	return -EINVAL;
}

/* list: the columns to print, from -o, -O and -J. */
static int check_columns(struct ctl_args *a, char *why, size_t len)
{
	unsigned int flags = (a->json ? CTL_SELECT_JSON : 0) |
			     ((a->opts & OPT_OUTPUT_ALL) ? CTL_SELECT_ALL : 0);

	if ((a->opts & OPT_OUTPUT) && (a->opts & OPT_OUTPUT_ALL))
		return ctl_invalid(why, len, "options --output and --output-all exclude each other");
	return ctl_columns_select(ctl_list_table(a->list), a->output, flags, &a->columns,
				  why, len);
}

/* The positional arguments after the verb, checked per verb. */
static int check_verb(struct ctl_args *a, char *why, size_t len)
{
	const char *verb = ctl_verb_names[a->verb];
	uint64_t extra = a->opts & ~verb_opts[a->verb];

	if (extra) {
		for (unsigned int i = 0; i < sizeof(opt_names) / sizeof(opt_names[0]); i++)
			if (extra & (UINT64_C(1) << i))
				return ctl_invalid(why, len, "option %s is not valid for '%s'", opt_names[i], verb);
	}
	switch (a->verb) {
	case VERB_ENABLE:
		if (a->nargs != 1)
			return ctl_invalid(why, len, "'enable' takes one device, got %d", a->nargs);
		if (!a->store)
			return ctl_invalid(why, len, "'enable' needs --store <device>");
		return 0;
	case VERB_DISABLE:
		if (a->nargs != 1)
			return ctl_invalid(why, len, "'disable' takes one volume, got %d", a->nargs);
		return 0;
	case VERB_CREATE:
		if (a->nargs < 1)
			return ctl_invalid(why, len, "'create' needs at least one volume");
		if ((a->opts & OPT_NO_WRITERS) && (a->opts & (OPT_WRITER | OPT_COMPONENT)))
			return ctl_invalid(why, len, "--no-writers and --writer or --component exclude each other");
		if ((a->opts & OPT_NO_WRITERS) && (a->opts & OPT_EXCLUDE_COMPONENT))
			return ctl_invalid(why, len, "--no-writers and --exclude-component exclude each other");
		return 0;
	case VERB_LIST:
		if (a->nargs == 0) {
			a->list = LIST_SHADOWS;
			if (a->opts & OPT_WRITERS_DIR)
				return ctl_invalid(why, len, "option --writers-dir is only valid for 'list writers'");
			return check_columns(a, why, len);
		}
		if (a->nargs > 1)
			return ctl_invalid(why, len, "'list' takes one of shadows, sets, volumes, providers, storage, writers");
		if (parse_list_what(a->args[0], &a->list) < 0)
			return ctl_invalid(why, len, "cannot list '%s' (shadows, sets, volumes, providers, storage, writers)",
				   a->args[0]);
		if ((a->opts & OPT_WRITERS_DIR) && a->list != LIST_WRITERS)
			return ctl_invalid(why, len, "option --writers-dir is only valid for 'list writers'");
		return check_columns(a, why, len);
	case VERB_DELETE: {
		int ways = (a->nargs > 0) + !!(a->opts & OPT_SET) + !!(a->opts & OPT_OLDEST);

		if (ways != 1 || a->nargs > 1)
			return ctl_invalid(why, len, "'delete' takes one of <shadow-id>, --set <set-id>, --oldest <volume>");
		if (a->nargs == 1 && ctl_parse_id(a->args[0], &a->id) < 0)
			return ctl_invalid(why, len, "bad shadow id '%s'", a->args[0]);
		return 0;
	}
	case VERB_EXPOSE:
	case VERB_UNEXPOSE:
	case VERB_REVERT:
	case VERB_DETACH:
		if (a->nargs != 1)
			return ctl_invalid(why, len, "'%s' takes one shadow id", verb);
		if (ctl_parse_id(a->args[0], &a->id) < 0)
			return ctl_invalid(why, len, "bad shadow id '%s'", a->args[0]);
		return 0;
	case VERB_ACTIVATE:
	case VERB_DEACTIVATE:
		if ((a->nargs > 0) == !!(a->opts & OPT_ALL))
			return ctl_invalid(why, len, "'%s' takes volumes or --all", verb);
		return 0;
	case VERB_RESIZE:
		if (a->nargs != 1)
			return ctl_invalid(why, len, "'resize' takes one volume, got %d", a->nargs);
		if (!(a->opts & OPT_MAX_SIZE))
			return ctl_invalid(why, len, "'resize' needs --max-size <size>|<percent>%%|max");
		return 0;
	case VERB_MONITOR:
		return 0;
	case VERB_DIFF:
		if (a->nargs < 1 || a->nargs > 2)
			return ctl_invalid(why, len, "'diff' takes one or two shadow ids");
		if (ctl_parse_id(a->args[0], &a->id) < 0)
			return ctl_invalid(why, len, "bad shadow id '%s'", a->args[0]);
		if (a->nargs == 2 && ctl_parse_id(a->args[1], &a->other_id) < 0)
			return ctl_invalid(why, len, "bad shadow id '%s'", a->args[1]);
		if (a->id == a->other_id)
			return ctl_invalid(why, len, "'diff' compares two different shadow copies");
		return 0;
	case VERB_EXPORT:
		if (a->nargs != 1)
			return ctl_invalid(why, len, "'export' takes one shadow id");
		if (ctl_parse_id(a->args[0], &a->id) < 0)
			return ctl_invalid(why, len, "bad shadow id '%s'", a->args[0]);
		if (!(a->opts & OPT_OUTPUT) || !*a->output)
			return ctl_invalid(why, len, "'export' needs -o <file> or -o - (standard output)");
		if (a->since == a->id)
			return ctl_invalid(why, len, "'export' --since names the shadow copy exported");
		return 0;
	case VERB_IMPORT:
		if (a->nargs != 1 || !*a->args[0])
			return ctl_invalid(why, len, "'import' takes one stream file, or - for standard input");
		if (!(a->opts & OPT_TO) || !*a->to)
			return ctl_invalid(why, len, "'import' needs --to <device>|<image>");
		return 0;
	case VERB_SCHEDULE: {
		int i;

		if (a->nargs < 1)
			return ctl_invalid(why, len, "'schedule' needs one of show, run, run-now, cleanup");
		for (i = 0; i < _SCHEDULE_MAX; i++)
			if (strcmp(a->args[0], ctl_schedule_names[i]) == 0)
				break;
		if (i == _SCHEDULE_MAX)
			return ctl_invalid(why, len, "unknown schedule command '%s' (show, run, run-now, cleanup)",
				   a->args[0]);
		a->schedule = (enum ctl_schedule)i;
		if (a->schedule == SCHEDULE_RUN && a->nargs > 1)
			return ctl_invalid(why, len, "'schedule run' takes no policy: it runs every policy that is due");
		return 0;
	}
	case VERB_THROTTLE:
		if (a->nargs != 2)
			return ctl_invalid(why, len, "'throttle' takes a volume and a rate in MiB/s (0: no limit)");
		if (parse_rate(a->args[1], &a->rate) < 0)
			return ctl_invalid(why, len, "bad rate '%s' (MiB/s, 0 for no limit)", a->args[1]);
		return 0;
	case VERB_EXPORT_METADATA:
		if (a->nargs != 1)
			return ctl_invalid(why, len, "'export-metadata' takes one shadow id");
		if (ctl_parse_id(a->args[0], &a->id) < 0)
			return ctl_invalid(why, len, "bad shadow id '%s'", a->args[0]);
		if (!(a->opts & OPT_OUTPUT) || !*a->output)
			return ctl_invalid(why, len, "'export-metadata' needs -o <file> or -o - (standard output)");
		return 0;
	case VERB_IMPORT_METADATA:
		if (a->nargs != 1 || !*a->args[0])
			return ctl_invalid(why, len, "'import-metadata' takes one metadata file, or - for standard input");
		if (!(a->opts & OPT_DEVICE) || !*a->device)
			return ctl_invalid(why, len, "'import-metadata' needs --device <device>, the clone's disk");
		return 0;
	case VERB_BROWSE:
		if ((a->opts & OPT_STOP) ? a->nargs > 1 : a->nargs != 1)
			return ctl_invalid(why, len, "'browse' takes one volume, or --stop and at most one volume");
		return 0;
	default:
		return ctl_invalid(why, len, "internal error: verb %d", a->verb);
	}
}

int ctl_parse_argv(int argc, char *argv[], struct ctl_args *ret,
		   char *why, size_t why_len)
{
	enum {
		ARG_STORE = 0x100, ARG_METHOD, ARG_CHUNK, ARG_TIMEOUT, ARG_SET,
		ARG_OLDEST, ARG_MOUNT, ARG_RW, ARG_STATE_DIR, ARG_WAIT,
		ARG_PROVIDER, ARG_MAX_SIZE, ARG_ONCE, ARG_CONFIG,
		ARG_RETRIES, ARG_WRITER, ARG_COMPONENT, ARG_NO_WRITERS,
		ARG_WRITER_TIMEOUT, ARG_WRITERS_DIR, ARG_WRITER_CONF,
		ARG_ALL, ARG_DEVICE_TIMEOUT, ARG_EXCLUDE_COMPONENT, ARG_SINCE, ARG_TO, ARG_STOP,
		ARG_TARGET, ARG_HYDRATE_RATE, ARG_DEVICE,
	};
	static const struct option options[] = {
		{ "json",           no_argument,       NULL, 'J' },
		{ "noheadings",     no_argument,       NULL, 'n' },
		{ "verbose",        no_argument,       NULL, 'v' },
		{ "state-dir",      required_argument, NULL, ARG_STATE_DIR },
		{ "wait",           no_argument,       NULL, ARG_WAIT },
		{ "store",          required_argument, NULL, ARG_STORE },
		{ "method",         required_argument, NULL, ARG_METHOD },
		{ "chunk-size",     required_argument, NULL, ARG_CHUNK },
		{ "name",           required_argument, NULL, 'u' },
		{ "force",          no_argument,       NULL, 'f' },
		{ "timeout-commit", required_argument, NULL, ARG_TIMEOUT },
		{ "set",            required_argument, NULL, ARG_SET },
		{ "oldest",         required_argument, NULL, ARG_OLDEST },
		{ "mount",          required_argument, NULL, ARG_MOUNT },
		{ "rw",             no_argument,       NULL, ARG_RW },
		{ "output",         required_argument, NULL, 'o' },
		{ "output-all",     no_argument,       NULL, 'O' },
		{ "provider",       required_argument, NULL, ARG_PROVIDER },
		{ "max-size",       required_argument, NULL, ARG_MAX_SIZE },
		{ "once",           no_argument,       NULL, ARG_ONCE },
		{ "config",         required_argument, NULL, ARG_CONFIG },
		{ "retries",        required_argument, NULL, ARG_RETRIES },
		{ "writer",         required_argument, NULL, ARG_WRITER },
		{ "component",      required_argument, NULL, ARG_COMPONENT },
		{ "no-writers",     no_argument,       NULL, ARG_NO_WRITERS },
		{ "writer-timeout", required_argument, NULL, ARG_WRITER_TIMEOUT },
		{ "writers-dir",    required_argument, NULL, ARG_WRITERS_DIR },
		{ "writer-conf",    required_argument, NULL, ARG_WRITER_CONF },
		{ "all",            no_argument,       NULL, ARG_ALL },
		{ "device-timeout", required_argument, NULL, ARG_DEVICE_TIMEOUT },
		{ "exclude-component", required_argument, NULL, ARG_EXCLUDE_COMPONENT },
		{ "since",          required_argument, NULL, ARG_SINCE },
		{ "to",             required_argument, NULL, ARG_TO },
		{ "stop",           no_argument,       NULL, ARG_STOP },
		{ "target",         required_argument, NULL, ARG_TARGET },
		{ "hydrate-rate",   required_argument, NULL, ARG_HYDRATE_RATE },
		{ "device",         required_argument, NULL, ARG_DEVICE },
		{ "help",           no_argument,       NULL, 'h' },
		{ "version",        no_argument,       NULL, 'V' },
		{}
	};
	struct ctl_args a = { .verb = _VERB_MAX };
	bool help = false;
	int c, i;

	why[0] = '\0';
	optind = 0;	/* glibc: full reinitialisation */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":JnvfhVo:O", options, NULL)) >= 0) {
		switch (c) {
		case 'J':
			a.json = true;
			break;
		case 'n':
			a.noheadings = true;
			break;
		case 'v':
			a.verbose = true;
			break;
		case ARG_STATE_DIR:
			a.state_dir = optarg;
			break;
		case ARG_WAIT:
			a.wait = true;
			break;
		case ARG_STORE:
			a.opts |= OPT_STORE;
			a.store = optarg;
			break;
		case ARG_METHOD:
			a.opts |= OPT_METHOD;
			a.method = optarg;
			break;
		case ARG_CHUNK:
			a.opts |= OPT_CHUNK;
			if (ctl_parse_size(optarg, &a.chunk_bytes) < 0)
				return ctl_invalid(why, why_len, "bad chunk size '%s'", optarg);
			break;
		case 'u':
			a.opts |= OPT_NAME;
			a.name = optarg;
			break;
		case 'f':
			a.opts |= OPT_FORCE;
			break;
		case ARG_TIMEOUT:
			a.opts |= OPT_TIMEOUT;
			if (ctl_parse_seconds(optarg, &a.timeout_us) < 0)
				return ctl_invalid(why, why_len, "bad commit timeout '%s' (seconds, up to 3600)", optarg);
			break;
		case ARG_SET:
			a.opts |= OPT_SET;
			if (ctl_parse_id(optarg, &a.set) < 0)
				return ctl_invalid(why, why_len, "bad set id '%s'", optarg);
			break;
		case ARG_OLDEST:
			a.opts |= OPT_OLDEST;
			a.oldest = optarg;
			break;
		case ARG_MOUNT:
			a.opts |= OPT_MOUNT;
			a.mount = optarg;
			break;
		case ARG_RW:
			a.opts |= OPT_RW;
			break;
		case 'o':
			a.opts |= OPT_OUTPUT;
			a.output = optarg;
			break;
		case 'O':
			a.opts |= OPT_OUTPUT_ALL;
			break;
		case ARG_PROVIDER:
			a.opts |= OPT_PROVIDER;
			a.provider = optarg;
			break;
		case ARG_MAX_SIZE:
			a.opts |= OPT_MAX_SIZE;
			if (ctl_parse_max_size(optarg, &a.max_size) < 0)
				return ctl_invalid(why, why_len,
					   "bad size '%s' (a size such as 512M or 2G, a percentage such as 20%%, or max)",
					   optarg);
			break;
		case ARG_ONCE:
			a.opts |= OPT_ONCE;
			break;
		case ARG_CONFIG:
			a.opts |= OPT_CONFIG;
			a.config = optarg;
			break;
		case ARG_RETRIES:
			a.opts |= OPT_RETRIES;
			if (parse_retries(optarg, &a.retries) < 0)
				return ctl_invalid(why, why_len, "bad number of retries '%s' (0 to 100)", optarg);
			break;
		case ARG_WRITER:
			a.opts |= OPT_WRITER;
			if (parse_writer(&a, optarg, why, why_len) < 0)
				return -EINVAL;
			break;
		case ARG_COMPONENT:
			a.opts |= OPT_COMPONENT;
			if (parse_component(&a, optarg, false, why, why_len) < 0)
				return -EINVAL;
			break;
		case ARG_EXCLUDE_COMPONENT:
			a.opts |= OPT_EXCLUDE_COMPONENT;
			if (parse_component(&a, optarg, true, why, why_len) < 0)
				return -EINVAL;
			break;
		case ARG_NO_WRITERS:
			a.opts |= OPT_NO_WRITERS;
			break;
		case ARG_WRITER_TIMEOUT:
			a.opts |= OPT_WRITER_TIMEOUT;
			if (ctl_parse_seconds(optarg, &a.writer_timeout_us) < 0)
				return ctl_invalid(why, why_len, "bad writer timeout '%s' (seconds, up to 3600)", optarg);
			break;
		case ARG_WRITERS_DIR:
			a.opts |= OPT_WRITERS_DIR;
			if (optarg[0] != '/')
				return ctl_invalid(why, why_len, "--writers-dir needs an absolute path, not '%s'", optarg);
			a.writers_dir = optarg;
			break;
		case ARG_WRITER_CONF:
			a.opts |= OPT_WRITER_CONF;
			if (optarg[0] != '/')
				return ctl_invalid(why, why_len, "--writer-conf needs an absolute path, not '%s'", optarg);
			a.writer_conf = optarg;
			break;
		case ARG_ALL:
			a.opts |= OPT_ALL;
			break;
		case ARG_STOP:
			a.opts |= OPT_STOP;
			break;
		case ARG_DEVICE_TIMEOUT:
			a.opts |= OPT_DEVICE_TIMEOUT;
			if (ctl_parse_seconds(optarg, &a.device_timeout_us) < 0)
				return ctl_invalid(why, why_len, "bad device timeout '%s' (seconds, up to 3600)", optarg);
			break;
		case ARG_SINCE:
			a.opts |= OPT_SINCE;
			if (ctl_parse_id(optarg, &a.since) < 0)
				return ctl_invalid(why, why_len, "bad shadow id '%s' for --since", optarg);
			break;
		case ARG_TO:
			a.opts |= OPT_TO;
			a.to = optarg;
			break;
		case ARG_TARGET:
			a.opts |= OPT_TARGET;
			if (parse_target(&a, optarg, why, why_len) < 0)
				return -EINVAL;
			break;
		case ARG_HYDRATE_RATE:
			a.opts |= OPT_HYDRATE_RATE;
			if (parse_rate(optarg, &a.hydrate_rate) < 0)
				return ctl_invalid(why, why_len, "bad hydrate rate '%s' (MiB/s, 0 for no limit)",
						   optarg);
			break;
		case ARG_DEVICE:
			a.opts |= OPT_DEVICE;
			a.device = optarg;
			break;
		case 'h':
			help = true;
			break;
		case 'V':
			return CTL_VERSION;
		case ':':
			return ctl_invalid(why, why_len, "option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt && optopt < 0x100)
				return ctl_invalid(why, why_len, "unknown option '-%c'", optopt);
			return ctl_invalid(why, why_len, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) {
		for (i = 0; i < _VERB_MAX; i++)
			if (strcmp(argv[optind], ctl_verb_names[i]) == 0)
				break;
		if (i == _VERB_MAX) {
			if (help)
				return CTL_HELP;
			return ctl_invalid(why, why_len, "unknown command '%s'", argv[optind]);
		}
		a.verb = (enum ctl_verb)i;
		a.args = argv + optind + 1;
		a.nargs = argc - optind - 1;
	}
	if (help) {
		*ret = a;
		return CTL_HELP;
	}
	if (a.verb == _VERB_MAX)
		return ctl_invalid(why, why_len, "no command given");
	if (check_verb(&a, why, why_len) < 0)
		return -EINVAL;
	*ret = a;
	return CTL_RUN;
}
