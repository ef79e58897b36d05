/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl: manage dm-shadow volumes, shadow copy sets and shadow copies.
 * A thin shell over the public libshadow.h: parse, call, print.  Every
 * error is printed once, here: "shadowctl: Failed to <what>: <why>".
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl-activate.h"
#include "ctl-args.h"
#include "libshadow.h"

/* Exit codes, documented in shadowctl(8). */
#define EXIT_OK		0
#define EXIT_USAGE	1
#define EXIT_NOTFOUND	2
#define EXIT_REFUSED	3
#define EXIT_LOCKED	4
#define EXIT_FAILED	5
#define EXIT_TIMEOUT	6

#define _cleanup_(f) __attribute__((cleanup(f)))

static void ctx_freep(shadow_ctx **p)
{
	shadow_ctx_free(*p);
}

static void json_putp(json_object **p)
{
	if (*p)
		json_object_put(*p);
}

static void usage(FILE *out)
{
	fputs("Usage:\n"
	      " shadowctl [options] enable <device> --store <device> [--method cow]\n"
	      "                            [--chunk-size <size>] [--name <name>]\n"
	      " shadowctl [options] disable <volume> [--force]\n"
	      " shadowctl [options] create <volume>... [--timeout-commit <seconds>]\n"
	      " shadowctl [options] list [shadows|sets|volumes|providers|storage]\n"
	      " shadowctl [options] delete <shadow-id> | --set <set-id> | --oldest <volume>\n"
	      " shadowctl [options] expose <shadow-id> [--name <name>] [--mount <dir>] [--rw]\n"
	      " shadowctl [options] unexpose <shadow-id>\n"
	      " shadowctl [options] activate <volume>... | --all [--device-timeout <s>]\n"
	      " shadowctl [options] deactivate <volume>... | --all [--force]\n"
	      "\n"
	      "Make and manage point-in-time shadow copies of block volumes with the\n"
	      "dm-shadow device-mapper targets.\n"
	      "\n"
	      "Commands:\n"
	      " enable      make a device a volume (a dm device is taken over in place)\n"
	      " disable     give a volume back as it was\n"
	      " create      snapshot one or more volumes at one instant (a set)\n"
	      " list        list shadow copies, sets, volumes, providers or storage\n"
	      " delete      delete a shadow copy, a whole set, or a volume's oldest\n"
	      " expose      show a shadow copy as /dev/mapper/<name>, optionally mounted\n"
	      " unexpose    unmount and remove an exposed shadow copy\n"
	      " activate    load enabled volumes again as they were (after a reboot)\n"
	      " deactivate  unload volumes, keeping them and their shadow copies\n"
	      "\n"
	      "Options:\n"
	      " -J, --json                 print JSON\n"
	      " -n, --noheadings           do not print column headings\n"
	      " -v, --verbose              log what is done (and libdevmapper's messages)\n"
	      "     --state-dir <dir>      catalog directory (default $SHADOW_STATE_DIR,\n"
	      "                            or " SHADOW_DEFAULT_STATE_DIR ")\n"
	      "     --wait                 wait for another shadowctl instead of failing\n"
	      "     --store <device>       enable: the store device\n"
	      "     --method <method>      enable: snapshot method (cow)\n"
	      "     --chunk-size <size>    enable: chunk size, 4K to 1M (default 4K)\n"
	      "     --name <name>          enable, expose: device-mapper name\n"
	      " -f, --force                disable: delete its shadows; delete,\n"
	      "                            deactivate: unexpose\n"
	      "     --timeout-commit <s>   create: bound of the freeze window (default 10)\n"
	      "     --set <set-id>         delete: every shadow copy of the set\n"
	      "     --oldest <volume>      delete: the volume's oldest shadow copy\n"
	      "     --mount <dir>          expose: mount the copy there\n"
	      "     --rw                   expose: writable (default read-only)\n"
	      "     --all                  activate, deactivate: every volume\n"
	      "     --device-timeout <s>   activate: wait that long for devices to appear\n"
	      "\n"
	      " -h, --help                 display this help\n"
	      " -V, --version              display version\n"
	      "\n"
	      "Exit status: 0 ok, 1 usage error, 2 not found, 3 refused (exists, busy,\n"
	      "too small, ...), 4 another shadowctl is running, 5 operation failed\n"
	      "(undone), 6 the commit took longer than --timeout-commit (undone).\n"
	      "\n"
	      "For more details see shadowctl(8).\n", out);
}

static int exit_code(int r)
{
	switch (-r) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return EXIT_NOTFOUND;
	case EWOULDBLOCK:
		return EXIT_LOCKED;
	case ETIMEDOUT:
		return EXIT_TIMEOUT;
	case EEXIST:
	case EBUSY:
	case ENOSPC:
	case EINVAL:
	case ENOTBLK:
	case ENOTDIR:
	case EOPNOTSUPP:
	case ESTALE:
	case ENAMETOOLONG:
	case EMEDIUMTYPE:
		return EXIT_REFUSED;
	default:
		return EXIT_FAILED;
	}
}

static bool verbose;

static void log_cb(void *userdata, int level, const char *msg)
{
	if (level <= SHADOW_LOG_WARNING)
		fprintf(stderr, "shadowctl: %s: %s\n",
			level <= SHADOW_LOG_ERR ? "error" : "warning", msg);
	else if (verbose)
		fprintf(stderr, "shadowctl: %s\n", msg);
}

/* ------------------------------------------------------------------------
 * Output
 */

static void iso_time(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, 32, "%" PRId64, t);
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *copy_json(const shadow_copy *c)
{
	json_object *o = json_object_new_object();
	char created[32];

	iso_time(shadow_copy_created(c), created);
	json_object_object_add(o, "id", json_object_new_uint64(shadow_copy_id(c)));
	json_object_object_add(o, "set", shadow_copy_set(c) ?
			       json_object_new_uint64(shadow_copy_set(c)) : NULL);
	json_object_object_add(o, "volume", jstr(shadow_copy_volume(c)));
	json_object_object_add(o, "method", jstr(shadow_copy_method(c)));
	json_object_object_add(o, "created", jstr(created));
	json_object_object_add(o, "state", jstr(shadow_copy_state(c)));
	json_object_object_add(o, "device", jstr(shadow_copy_device(c)));
	json_object_object_add(o, "snapshot", json_object_new_uint64(shadow_copy_snapshot(c)));
	json_object_object_add(o, "mountpoint", jstr(shadow_copy_mountpoint(c)));
	json_object_object_add(o, "writable", json_object_new_boolean(shadow_copy_writable(c)));
	return o;
}

static json_object *set_json(shadow_ctx *ctx, const shadow_set *s, bool with_copies)
{
	json_object *o = json_object_new_object();
	char created[32];

	iso_time(shadow_set_created(s), created);
	json_object_object_add(o, "id", json_object_new_uint64(shadow_set_id(s)));
	json_object_object_add(o, "created", jstr(created));
	json_object_object_add(o, "freeze_us", json_object_new_uint64(shadow_set_freeze_us(s)));
	json_object_object_add(o, "state", jstr(shadow_set_state(s)));
	json_object_object_add(o, "count", json_object_new_uint64(shadow_set_count(ctx, s)));
	if (with_copies) {
		shadow_copy *const *c;
		size_t n = shadow_ctx_copies(ctx, &c);
		json_object *a = json_object_new_array();

		for (size_t i = 0; i < n; i++)
			if (shadow_copy_set(c[i]) == shadow_set_id(s))
				json_object_array_add(a, copy_json(c[i]));
		json_object_object_add(o, "shadows", a);
	}
	return o;
}

static json_object *volume_json(const shadow_volume *v)
{
	json_object *o = json_object_new_object();
	char enabled[32];

	iso_time(shadow_volume_enabled(v), enabled);
	json_object_object_add(o, "name", jstr(shadow_volume_name(v)));
	json_object_object_add(o, "device", jstr(shadow_volume_device(v)));
	json_object_object_add(o, "store", jstr(shadow_volume_store(v)));
	json_object_object_add(o, "method", jstr(shadow_volume_method(v)));
	json_object_object_add(o, "chunk_size", json_object_new_uint64(shadow_volume_chunk_bytes(v)));
	json_object_object_add(o, "dm_name", jstr(shadow_volume_dm_name(v)));
	json_object_object_add(o, "real", jstr(shadow_volume_real_name(v)));
	json_object_object_add(o, "enabled", jstr(enabled));
	json_object_object_add(o, "state", jstr(shadow_volume_state(v)));
	return o;
}

static void print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_SPACED |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
}

static const char *dash(const char *s)
{
	return s ? s : "-";
}

static void print_copy_row(const shadow_copy *c)
{
	char created[32], set[24] = "-";

	iso_time(shadow_copy_created(c), created);
	if (shadow_copy_set(c))
		snprintf(set, sizeof(set), "%" PRIu64, shadow_copy_set(c));
	printf("%-6" PRIu64 " %-5s %-16s %-6s %-20s %-8s %s\n", shadow_copy_id(c), set,
	       shadow_copy_volume(c), shadow_copy_method(c), created,
	       shadow_copy_state(c), dash(shadow_copy_device(c)));
}

static int list_shadows(shadow_ctx *ctx, const struct ctl_args *a)
{
	shadow_copy *const *c;
	size_t n = shadow_ctx_copies(ctx, &c);

	if (a->json) {
		_cleanup_(json_putp) json_object *o = json_object_new_object();
		json_object *arr = json_object_new_array();

		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, copy_json(c[i]));
		json_object_object_add(o, "shadows", arr);
		print_json(o);
		return 0;
	}
	if (!a->noheadings)
		printf("%-6s %-5s %-16s %-6s %-20s %-8s %s\n", "ID", "SET", "VOLUME",
		       "METHOD", "CREATED", "STATE", "DEVICE");
	for (size_t i = 0; i < n; i++)
		print_copy_row(c[i]);
	return 0;
}

static int list_sets(shadow_ctx *ctx, const struct ctl_args *a)
{
	shadow_set *const *s;
	size_t n = shadow_ctx_sets(ctx, &s);

	if (a->json) {
		_cleanup_(json_putp) json_object *o = json_object_new_object();
		json_object *arr = json_object_new_array();

		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, set_json(ctx, s[i], false));
		json_object_object_add(o, "sets", arr);
		print_json(o);
		return 0;
	}
	if (!a->noheadings)
		printf("%-5s %-20s %10s %-9s %s\n", "ID", "CREATED", "FREEZE-US", "STATE", "COUNT");
	for (size_t i = 0; i < n; i++) {
		char created[32];

		iso_time(shadow_set_created(s[i]), created);
		printf("%-5" PRIu64 " %-20s %10" PRIu64 " %-9s %zu\n", shadow_set_id(s[i]), created,
		       shadow_set_freeze_us(s[i]), shadow_set_state(s[i]),
		       shadow_set_count(ctx, s[i]));
	}
	return 0;
}

static int list_volumes(shadow_ctx *ctx, const struct ctl_args *a)
{
	shadow_volume *const *v;
	size_t n = shadow_ctx_volumes(ctx, &v);

	if (a->json) {
		_cleanup_(json_putp) json_object *o = json_object_new_object();
		json_object *arr = json_object_new_array();

		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, volume_json(v[i]));
		json_object_object_add(o, "volumes", arr);
		print_json(o);
		return 0;
	}
	if (!a->noheadings)
		printf("%-16s %-20s %-20s %-6s %6s %-8s %s\n", "NAME", "DEVICE", "STORE",
		       "METHOD", "CHUNK", "STATE", "REAL");
	for (size_t i = 0; i < n; i++)
		printf("%-16s %-20s %-20s %-6s %5" PRIu64 "K %-8s %s\n", shadow_volume_name(v[i]),
		       shadow_volume_device(v[i]), shadow_volume_store(v[i]),
		       shadow_volume_method(v[i]), shadow_volume_chunk_bytes(v[i]) >> 10,
		       shadow_volume_state(v[i]), dash(shadow_volume_real_name(v[i])));
	return 0;
}

static int list_providers(shadow_ctx *ctx, const struct ctl_args *a)
{
	_cleanup_(json_putp) json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	const char *name, *target, *version;
	bool usable;

	json_object_object_add(o, "providers", arr);
	if (!a->json && !a->noheadings)
		printf("%-12s %-14s %-8s %s\n", "NAME", "TARGET", "VERSION", "USABLE");
	for (unsigned int i = 0; shadow_provider(ctx, i, &name, &target, &usable, &version) > 0; i++) {
		if (a->json) {
			json_object *p = json_object_new_object();

			json_object_object_add(p, "name", jstr(name));
			json_object_object_add(p, "target", jstr(target));
			json_object_object_add(p, "version", jstr(version));
			json_object_object_add(p, "usable", json_object_new_boolean(usable));
			json_object_array_add(arr, p);
		} else {
			printf("%-12s %-14s %-8s %s\n", name, target, version, usable ? "yes" : "no");
		}
	}
	if (a->json)
		print_json(o);
	return 0;
}

static int list_storage(shadow_ctx *ctx, const struct ctl_args *a)
{
	_cleanup_(json_putp) json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	shadow_volume *const *v;
	size_t n = shadow_ctx_volumes(ctx, &v);

	json_object_object_add(o, "storage", arr);
	if (!a->json && !a->noheadings)
		printf("%-16s %-20s %12s %12s %5s %9s %7s %s\n", "VOLUME", "STORE", "USED",
		       "SIZE", "USE%", "SNAPSHOTS", "INVALID", "MODE");
	for (size_t i = 0; i < n; i++) {
		uint64_t used = 0, total = 0, chunk = shadow_volume_chunk_bytes(v[i]);
		unsigned int snaps = 0, max = 0, invalid = 0;
		bool failed = false, active;
		const char *mode;

		active = shadow_volume_storage(ctx, v[i], &used, &total, &snaps, &max,
					       &invalid, &failed) == 0;
		mode = !active ? "inactive" : failed ? "fail" : "rw";
		if (a->json) {
			json_object *p = json_object_new_object();

			json_object_object_add(p, "volume", jstr(shadow_volume_name(v[i])));
			json_object_object_add(p, "store", jstr(shadow_volume_store(v[i])));
			json_object_object_add(p, "chunk_size", json_object_new_uint64(chunk));
			json_object_object_add(p, "used_chunks", json_object_new_uint64(used));
			json_object_object_add(p, "total_chunks", json_object_new_uint64(total));
			json_object_object_add(p, "used_bytes", json_object_new_uint64(used * chunk));
			json_object_object_add(p, "total_bytes", json_object_new_uint64(total * chunk));
			json_object_object_add(p, "snapshots", json_object_new_uint64(snaps));
			json_object_object_add(p, "max_snapshots", json_object_new_uint64(max));
			json_object_object_add(p, "invalid", json_object_new_uint64(invalid));
			json_object_object_add(p, "mode", jstr(mode));
			json_object_array_add(arr, p);
		} else {
			printf("%-16s %-20s %11" PRIu64 "K %11" PRIu64 "K %4" PRIu64 "%% %9u %7u %s\n",
			       shadow_volume_name(v[i]), shadow_volume_store(v[i]),
			       used * chunk >> 10, total * chunk >> 10,
			       total ? used * 100 / total : 0, snaps, invalid, mode);
		}
	}
	if (a->json)
		print_json(o);
	return 0;
}

/* ------------------------------------------------------------------------
 * Verbs
 */

static int run(shadow_ctx *ctx, const struct ctl_args *a)
{
	_cleanup_(json_putp) json_object *o = json_object_new_object();
	int r;

	switch (a->verb) {
	case VERB_ENABLE: {
		shadow_volume *v;

		r = shadow_volume_enable(ctx, a->args[0], a->store, a->method, a->chunk_bytes,
					 a->name, &v);
		if (r < 0)
			return r;
		if (a->json) {
			json_object_object_add(o, "volume", volume_json(v));
			print_json(o);
		} else {
			printf("volume %s enabled: /dev/mapper/%s%s\n", shadow_volume_name(v),
			       shadow_volume_dm_name(v),
			       shadow_volume_real_name(v) ? " (taken over in place)" : "");
		}
		return 0;
	}
	case VERB_DISABLE:
		r = shadow_volume_disable(ctx, a->args[0], (a->opts & OPT_FORCE) ? SHADOW_FORCE : 0);
		if (r < 0)
			return r;
		if (a->json) {
			json_object_object_add(o, "disabled", jstr(a->args[0]));
			print_json(o);
		} else {
			printf("volume %s disabled\n", a->args[0]);
		}
		return 0;
	case VERB_CREATE: {
		shadow_set *s;

		r = shadow_set_create(ctx, (const char *const *)a->args, (size_t)a->nargs,
				      a->timeout_us, &s);
		if (r < 0)
			return r;
		if (a->json) {
			json_object_object_add(o, "set", set_json(ctx, s, true));
			print_json(o);
		} else {
			shadow_copy *const *c;
			size_t n = shadow_ctx_copies(ctx, &c);

			printf("set %" PRIu64 " created: %zu shadow cop%s, frozen %" PRIu64 " us\n",
			       shadow_set_id(s), shadow_set_count(ctx, s),
			       shadow_set_count(ctx, s) == 1 ? "y" : "ies", shadow_set_freeze_us(s));
			for (size_t i = 0; i < n; i++)
				if (shadow_copy_set(c[i]) == shadow_set_id(s))
					printf("  shadow %" PRIu64 " of %s\n", shadow_copy_id(c[i]),
					       shadow_copy_volume(c[i]));
		}
		return 0;
	}
	case VERB_LIST:
		switch (a->list) {
		case LIST_SHADOWS:
			return list_shadows(ctx, a);
		case LIST_SETS:
			return list_sets(ctx, a);
		case LIST_VOLUMES:
			return list_volumes(ctx, a);
		case LIST_PROVIDERS:
			return list_providers(ctx, a);
		case LIST_STORAGE:
			return list_storage(ctx, a);
		}
		return -EINVAL;
	case VERB_DELETE: {
		json_object *arr = json_object_new_array();
		unsigned int flags = (a->opts & OPT_FORCE) ? SHADOW_FORCE : 0;
		uint64_t id = a->id;

		json_object_object_add(o, "deleted", arr);
		if (a->opts & OPT_SET) {
			shadow_copy *const *c;
			size_t n = shadow_ctx_copies(ctx, &c);

			for (size_t i = 0; i < n; i++)
				if (shadow_copy_set(c[i]) == a->set)
					json_object_array_add(arr, json_object_new_uint64(shadow_copy_id(c[i])));
			r = shadow_set_delete(ctx, a->set, flags);
		} else if (a->opts & OPT_OLDEST) {
			r = shadow_copy_delete_oldest(ctx, a->oldest, &id);
			if (r >= 0)
				json_object_array_add(arr, json_object_new_uint64(id));
		} else {
			r = shadow_copy_delete(ctx, id, flags);
			if (r >= 0)
				json_object_array_add(arr, json_object_new_uint64(id));
		}
		if (r < 0)
			return r;
		if (a->json) {
			print_json(o);
		} else {
			for (size_t i = 0; i < json_object_array_length(arr); i++)
				printf("shadow %" PRIu64 " deleted\n",
				       json_object_get_uint64(json_object_array_get_idx(arr, i)));
		}
		return 0;
	}
	case VERB_EXPOSE:
	case VERB_UNEXPOSE: {
		shadow_copy *c;

		if (a->verb == VERB_EXPOSE)
			r = shadow_copy_expose(ctx, a->id, a->name, a->mount,
					       (a->opts & OPT_RW) ? SHADOW_EXPOSE_RW : 0);
		else
			r = shadow_copy_unexpose(ctx, a->id);
		if (r < 0)
			return r;
		c = shadow_ctx_find_copy(ctx, a->id);
		if (a->json) {
			json_object_object_add(o, "shadow", copy_json(c));
			print_json(o);
		} else if (a->verb == VERB_EXPOSE) {
			printf("shadow %" PRIu64 " exposed as %s%s%s (%s)\n", a->id,
			       shadow_copy_device(c), shadow_copy_mountpoint(c) ? " on " : "",
			       shadow_copy_mountpoint(c) ? shadow_copy_mountpoint(c) : "",
			       shadow_copy_writable(c) ? "read-write" : "read-only");
		} else {
			printf("shadow %" PRIu64 " unexposed\n", a->id);
		}
		return 0;
	}
	case VERB_ACTIVATE:
	case VERB_DEACTIVATE:
		r = ctl_activate(ctx, a, o);
		if (a->json)
			print_json(o);
		return r;
	default:
		return -EINVAL;
	}
}

int main(int argc, char *argv[])
{
	_cleanup_(ctx_freep) shadow_ctx *ctx = NULL;
	struct ctl_args a;
	char why[256];
	int r;

	r = ctl_parse_argv(argc, argv, &a, why, sizeof(why));
	if (r == CTL_HELP) {
		usage(stdout);
		return EXIT_OK;
	}
	if (r == CTL_VERSION) {
		printf("shadowctl from dm-shadow %s\n", shadow_version());
		return EXIT_OK;
	}
	if (r < 0) {
		fprintf(stderr, "shadowctl: %s\n", why);
		fprintf(stderr, "Try 'shadowctl --help' for more information.\n");
		return EXIT_USAGE;
	}
	verbose = a.verbose;

	r = shadow_ctx_new(a.state_dir, &ctx);
	if (r < 0) {
		fprintf(stderr, "shadowctl: Failed to set up: %s\n", strerror(-r));
		return EXIT_FAILED;
	}
	shadow_ctx_set_log(ctx, log_cb, NULL);
	r = shadow_ctx_open(ctx, a.wait ? SHADOW_OPEN_WAIT : 0);
	if (r >= 0)
		r = run(ctx, &a);
	if (r < 0) {
		const char *what = shadow_ctx_error(ctx);

		fprintf(stderr, "shadowctl: Failed to %s: %s\n",
			*what ? what : ctl_verb_names[a.verb], strerror(-r));
		return exit_code(r);
	}
	return EXIT_OK;
}
