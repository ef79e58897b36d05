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

#include "ctl-activate.h"
#include "ctl-args.h"
#include "ctl-clone.h"
#include "ctl-export.h"
#include "ctl-browse.h"
#include "ctl-list.h"
#include "ctl-monitor.h"
#include "ctl-revert.h"
#include "ctl-schedule.h"
#include "sched-policy.h"
#include "ctl-storage.h"
#include "ctl-transport.h"
#include "ctl-writers.h"
#include "libshadow.h"

/* Exit codes, documented in shadowctl(8). */
#define EXIT_OK		0
#define EXIT_USAGE	1
#define EXIT_NOTFOUND	2
#define EXIT_REFUSED	3
#define EXIT_LOCKED	4
#define EXIT_FAILED	5
#define EXIT_TIMEOUT	6
#define EXIT_WRITER	7

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
	      " shadowctl [options] enable <device> --store <device> [--method cow|row|clone]\n"
	      "                            [--chunk-size <size>] [--name <name>]\n"
	      "                            [--provider dm-shadow|dm-snapshot|auto]\n"
	      "                            [--hydrate-rate <MiB/s>]\n"
	      " shadowctl [options] disable <volume> [--force]\n"
	      " shadowctl [options] create <volume>... [--target <volume>=<device>]...\n"
	      "                            [--timeout-commit <seconds>]\n"
	      "                            [--writer <name>]... [--component <writer>/<component>]...\n"
	      "                            [--exclude-component <writer>/<component>]...\n"
	      "                            [--no-writers] [--writer-timeout <seconds>] [--retries <n>]\n"
	      "                            [--writers-dir <dir>] [--writer-conf <file>]\n"
	      " shadowctl [options] list [shadows|sets|volumes|providers|storage|writers]\n"
	      "                          [-o <columns> | -O]\n"
	      " shadowctl [options] delete <shadow-id> | --set <set-id> | --oldest <volume>\n"
	      " shadowctl [options] expose <shadow-id> [--name <name>] [--mount <dir>] [--rw]\n"
	      " shadowctl [options] unexpose <shadow-id>\n"
	      " shadowctl [options] resize <volume> --max-size <size>|<percent>%|max\n"
	      " shadowctl [options] monitor [--once] [--config <file>] [<volume>...]\n"
	      " shadowctl [options] activate <volume>... | --all [--device-timeout <s>]\n"
	      " shadowctl [options] deactivate <volume>... | --all [--force]\n"
	      " shadowctl [options] diff <shadow-id> [<shadow-id>]\n"
	      " shadowctl [options] export <shadow-id> [--since <shadow-id>] -o <file>|-\n"
	      " shadowctl [options] import <file>|- --to <device>|<image>\n"
	      " shadowctl [options] revert <shadow-id> [--wait] [--force]\n"
	      " shadowctl [options] detach <shadow-id>\n"
	      " shadowctl [options] throttle <volume> <MiB/s>\n"
	      " shadowctl [options] export-metadata <shadow-id> -o <file>|-\n"
	      " shadowctl [options] import-metadata <file>|- --device <device>\n"
	      " shadowctl [options] schedule show|run|run-now|cleanup [<policy>...]\n"
	      "                              [--config <file>]\n"
	      " shadowctl [options] browse <volume> | --stop [<volume>]\n"
	      "\n"
	      "Make and manage point-in-time shadow copies of block volumes with the\n"
	      "dm-shadow device-mapper targets, or the stock dm-snapshot ones.\n"
	      "\n"
	      "Commands:\n"
	      " enable      make a device a volume (a dm device is taken over in place)\n"
	      " disable     give a volume back as it was\n"
	      " create      snapshot one or more volumes at one instant (a set)\n"
	      " list        list shadow copies, sets, volumes, providers, storage or writers\n"
	      " delete      delete a shadow copy, a whole set, or a volume's oldest\n"
	      " expose      show a shadow copy as /dev/mapper/<name>, optionally mounted\n"
	      " unexpose    unmount and remove an exposed shadow copy\n"
	      " resize      set how much of its store device a volume may use\n"
	      " monitor     watch the stores; warn, delete old copies or grow by policy\n"
	      " activate    load enabled volumes again as they were (after a reboot)\n"
	      " deactivate  unload volumes, keeping them and their shadow copies\n"
	      " diff        the byte ranges where two copies (or a copy and now) differ\n"
	      " export      write a copy, whole or its changes, as a stream (shadow-stream(5))\n"
	      " import      verify a stream, then write it to a device or an image\n"
	      " revert      roll a volume back to a shadow copy (merged in the background)\n"
	      " detach      make a complete clone a plain device that needs no dm-shadow\n"
	      " throttle    how fast a volume's clones hydrate (row: fold back), in MiB/s\n"
	      " export-metadata\n"
	      "             write a detached clone's catalog entry, to go with its disk\n"
	      " import-metadata\n"
	      "             enter a detached clone from another host, with its disk\n"
	      " schedule    scheduled shadow copies and their retention (shadow-schedule.conf)\n"
	      " browse      mount every shadow copy of a volume read-only under " BROWSE_ROOT "\n"
	      "\n"
	      "Options:\n"
	      " -J, --json                 print JSON\n"
	      " -n, --noheadings           list: do not print column headings\n"
	      " -o, --output <columns>     list: the columns to print (+<columns> adds\n"
	      "                            to the defaults; 'list --help' names them);\n"
	      "                            export, export-metadata: the file to write;\n"
	      "                            standard output with -o -\n"
	      " -O, --output-all           list: print every column\n"
	      " -v, --verbose              log what is done (and libdevmapper's messages)\n"
	      "     --state-dir <dir>      catalog directory (default $SHADOW_STATE_DIR,\n"
	      "                            or " SHADOW_DEFAULT_STATE_DIR ")\n"
	      "     --wait                 wait for another shadowctl instead of failing;\n"
	      "                            revert: and for the merge to finish\n"
	      "     --store <device>       enable: the store device\n"
	      "     --method <method>      enable: snapshot method (cow, row, clone)\n"
	      "     --chunk-size <size>    enable: chunk size, 4K to 1M (default 4K)\n"
	      "     --name <name>          enable, expose: device-mapper name\n"
	      "     --provider <provider>  enable: dm-shadow, dm-snapshot or auto (default)\n"
	      "     --hydrate-rate <MiB/s> enable: how fast clones are copied (default 0,\n"
	      "                            no limit)\n"
	      " -f, --force                disable: delete its shadows; delete,\n"
	      "                            deactivate: unexpose; revert: a mounted volume\n"
	      "     --target <volume>=<device>\n"
	      "                            create: the device a clone volume's clone is\n"
	      "                            copied to (one per clone volume)\n"
	      "     --timeout-commit <s>   create: bound of the freeze window (default 10)\n"
	      "     --writer <name>        create: run only this writer (repeatable)\n"
	      "     --component <w>/<c>    create: only this writer's component (repeatable)\n"
	      "     --exclude-component <w>/<c>\n"
	      "                            create: leave this component out (repeatable)\n"
	      "     --no-writers           create: run no writer\n"
	      "     --writer-timeout <s>   create: bound of each exchange with the writers\n"
	      "                            (all together, default 60)\n"
	      "     --retries <n>          create: retry up to n times when a writer failed\n"
	      "     --writers-dir <dir>    create, list writers: the writers directory\n"
	      "     --writer-conf <file>   create: the writers' configuration file\n"
	      "     --set <set-id>         delete: every shadow copy of the set\n"
	      "     --oldest <volume>      delete: the volume's oldest shadow copy\n"
	      "     --mount <dir>          expose: mount the copy there\n"
	      "     --rw                   expose: writable (default read-only)\n"
	      "     --max-size <size>      resize: 512M, 2G, 20% of the device, or max\n"
	      "     --once                 monitor: one pass, then exit\n"
	      "     --config <file>        monitor, schedule: the policies (default\n"
	      "                            /etc/dm-shadow/monitor.conf, " SCHED_DEFAULT_CONFIG ")\n"
	      "     --stop                 browse: unmount and unexpose what browse mounted\n"
	      "     --all                  activate, deactivate: every volume\n"
	      "     --device-timeout <s>   activate: wait that long for devices to appear\n"
	      "     --since <shadow-id>    export: only the changes since that older copy\n"
	      "     --to <device>|<image>  import: where the stream is written\n"
	      "     --device <device>      import-metadata: the clone's disk\n"
	      "\n"
	      " -h, --help                 display this help\n"
	      " -V, --version              display version\n"
	      "\n"
	      "Exit status: 0 ok, 1 usage error, 2 not found, 3 refused (exists, busy,\n"
	      "too small, ...), 4 another shadowctl is running, 5 operation failed\n"
	      "(undone), 6 the commit took longer than --timeout-commit (undone),\n"
	      "7 a writer failed or was refused (undone), 8 import: the stream is truncated\n"
	      "or corrupt (nothing written), 9 import: the target is not the incremental\n"
	      "stream's base (nothing written); export-metadata and import-metadata refuse\n"
	      "a document that is not one or malformed, and a disk that cannot be read,\n"
	      "with 3.\n"
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
	case ECANCELED:
		return EXIT_WRITER;
	case EXDEV:	/* create: a writer's component partly on the set */
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
	else if (level <= SHADOW_LOG_NOTICE || verbose)
		fprintf(stderr, "shadowctl: %s\n", msg);
}

static void print_json(json_object *o)
{
	ctl_print_json(o, stdout);
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* ------------------------------------------------------------------------
 * Verbs
 */

static int run(shadow_ctx *ctx, const struct ctl_args *a, char *what, size_t what_len)
{
	_cleanup_(json_putp) json_object *o = json_object_new_object();
	int r;

	switch (a->verb) {
	case VERB_ENABLE:
		return ctl_enable(ctx, a, o);
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
		shadow_create_opts *opts = NULL;
		char why[128];
		shadow_set *s;

		r = ctl_create_opts(a, &opts, why, sizeof(why));
		if (r < 0) {
			fprintf(stderr, "shadowctl: Failed to %s: %s\n", why, strerror(-r));
			return r;
		}
		r = shadow_set_create_with(ctx, (const char *const *)a->args, (size_t)a->nargs,
					   opts, &s);
		shadow_create_opts_free(opts);
		if (r < 0)
			return r;
		if (a->json) {
			json_object_object_add(o, "set", ctl_set_json(ctx, s, true));
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
			ctl_print_set_writers(s);
		}
		return 0;
	}
	case VERB_LIST:
		return ctl_list(ctx, a);
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
			json_object_object_add(o, "shadow", ctl_copy_json(ctx, c));
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
	case VERB_DETACH:
		return ctl_detach(ctx, a, o);
	case VERB_THROTTLE:
		return ctl_throttle(ctx, a, o);
	case VERB_RESIZE:
		return ctl_resize(ctx, a);
	case VERB_DIFF:
		return ctl_diff(ctx, a);
	case VERB_EXPORT:
		return ctl_export(ctx, a);
	case VERB_IMPORT:
		return ctl_import(ctx, a);
	case VERB_REVERT:
		return ctl_revert(ctx, a);
	case VERB_EXPORT_METADATA:
		return ctl_export_metadata(ctx, a, what, what_len);
	case VERB_IMPORT_METADATA:
		return ctl_import_metadata(ctx, a, o, what, what_len);
	case VERB_ACTIVATE:
	case VERB_DEACTIVATE:
		r = ctl_activate(ctx, a, o);
		if (a->json)
			print_json(o);
		return r;
	case VERB_SCHEDULE:
		return ctl_schedule(ctx, a, o, what, what_len);
	case VERB_BROWSE:
		return ctl_browse(ctx, a, o, what, what_len);
	default:
		return -EINVAL;
	}
}

int main(int argc, char *argv[])
{
	_cleanup_(ctx_freep) shadow_ctx *ctx = NULL;
	struct ctl_args a = { .verb = _VERB_MAX };
	char why[512], what[640] = "";
	bool ran = false;
	int r;

	r = ctl_parse_argv(argc, argv, &a, why, sizeof(why));
	if (r == CTL_HELP) {
		if (a.verb == VERB_LIST)
			ctl_list_usage(stdout, a.nargs == 1 ? a.args[0] : NULL);
		else
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
	r = shadow_ctx_set_writers_dir(ctx, a.writers_dir);
	if (r >= 0)
		r = shadow_ctx_set_writer_conf(ctx, a.writer_conf);
	if (r >= 0 && a.verb == VERB_MONITOR) {
		/* It takes the lock for each pass, not for its whole life. */
		r = ctl_monitor(ctx, &a, what, sizeof(what));
	} else if (r >= 0) {
		/* A read never waits for, nor repairs behind, a command that changes things. */
		r = shadow_ctx_open(ctx, ctl_verb_only_reads(a.verb) ? SHADOW_OPEN_READONLY :
					 a.wait ? SHADOW_OPEN_WAIT : 0);
		if (r >= 0) {
			r = run(ctx, &a, what, sizeof(what));
			ran = true;
		}
	}
	if (r < 0) {
		/* The library's message as it is, never cut (a writer's may be 1 KiB). */
		const char *failed = *what ? what : shadow_ctx_error(ctx);

		fprintf(stderr, "shadowctl: Failed to %s: %s\n",
			*failed ? failed : ctl_verb_names[a.verb],
			r == -ECANCELED ? "a writer failed; the set was undone" : strerror(-r));
		if (a.verb == VERB_IMPORT && ctl_import_exit_code(r))
			return ctl_import_exit_code(r);
		/* The document's and the disk's refusals, not a malformed catalog's (exit 5). */
		if (ran && ctl_metadata_refused(a.verb, r))
			return EXIT_REFUSED;
		return exit_code(r);
	}
	return EXIT_OK;
}
