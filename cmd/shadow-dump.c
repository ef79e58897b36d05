/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadow-dump: print (and optionally check) a dm-shadow store offline.
 *
 * Exit codes: 0 ok, 1 usage error, 2 cannot read the store, 3 invalid or
 * corrupt store, 4 --check found inconsistencies.
 *
 * Every function returns 0 or -errno; main() prints the one error message,
 * "shadow-dump: Failed to <what>: <why>", and maps it to an exit code.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dump-args.h"
#include "macro.h"
#include "shadow-check.h"
#include "shadow-store.h"

#define EXIT_USAGE	1
#define EXIT_READ	2
#define EXIT_CORRUPT	3
#define EXIT_INCONSISTENT 4

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
#define _cleanup_json_ _cleanup_(json_object_putp)

static void usage(FILE *out)
{
	fputs("Usage:\n"
	      " shadow-dump [options] <store>\n"
	      "\n"
	      "Print the superblock, snapshot table and usage of a dm-shadow store\n"
	      "(block device or image file), read offline.\n"
	      "\n"
	      "Options:\n"
	      " -J, --json       print JSON\n"
	      " -r, --records    also print every allocated exception record\n"
	      " -c, --check      walk all metadata and check its consistency\n"
	      "\n"
	      " -h, --help       display this help\n"
	      " -V, --version    display version\n"
	      "\n"
	      "Exit status: 0 ok, 1 usage error, 2 cannot read the store,\n"
	      "3 invalid or corrupt store, 4 --check found inconsistencies.\n"
	      "\n"
	      "For more details see shadow-dump(8).\n", out);
}

static void format_uuid(const uint8_t u[16], char buf[37])
{
	snprintf(buf, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
		 u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static void format_time(uint64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || !gmtime_r(&tt, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%" PRIu64, t);
}

static void format_snap_flags(uint32_t flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s",
		 flags & SHADOW_SNAPF_SEALED ? "sealed" : "",
		 (flags & SHADOW_SNAPF_SEALED) && (flags & SHADOW_SNAPF_WRITTEN) ? "," : "",
		 flags & SHADOW_SNAPF_WRITTEN ? "written" : "");
	if (!buf[0])
		snprintf(buf, len, "-");
}

struct dump {
	const struct dump_args *args;
	const char *path;
	struct shadow_store *store;
	const struct shadow_superblock *sb;
	struct shadow_snapshot *snaps;		/* NULL if unreadable */
	struct shadow_record *recs;		/* with --records */
	char snaps_error[256];
	char recs_error[256];
	/* --check */
	bool checked;
	struct shadow_check_result check;
	json_object *problems;			/* array of strings */
};

static void on_problem(void *userdata, const char *msg)
{
	struct dump *d = userdata;

	json_object_array_add(d->problems, json_object_new_string(msg));
}

static void print_text(const struct dump *d)
{
	const struct shadow_superblock *sb = d->sb;
	char uuid[37], when[64];
	uint64_t nsnaps = 0;

	format_uuid(sb->uuid, uuid);
	format_time(sb->format_time, when, sizeof(when));
	printf("store %s: dm-shadow format version %u, %s store\n",
	       d->path, sb->version, shadow_store_type_name(sb->store_type));
	printf("superblock:\n");
	printf("  uuid               %s\n", uuid);
	printf("  features           compat 0x%" PRIx64 ", ro_compat 0x%" PRIx64 ", incompat 0x%" PRIx64 "\n",
	       sb->compat_flags, sb->ro_compat_flags, sb->incompat_flags);
	if (sb->ro_compat_flags & ~SHADOW_FEATURE_RO_COMPAT_SUPP)
		printf("  (unknown ro_compat features: writable use needs a newer dm-shadow)\n");
	printf("  chunk size         %u sectors (%u bytes)\n",
	       sb->chunk_sectors, sb->chunk_sectors << SHADOW_BLOCK_SHIFT);
	printf("  origin             %" PRIu64 " sectors, %" PRIu64 " chunks\n",
	       sb->origin_sectors, sb->nr_origin_chunks);
	printf("  store              %" PRIu64 " sectors (device %" PRIu64 " sectors)\n",
	       sb->store_sectors, shadow_store_dev_sectors(d->store));
	printf("  snapshot table     block %" PRIu64 ", %" PRIu64 " blocks, max %u snapshots\n",
	       sb->snap_table_start, sb->index_start - sb->snap_table_start,
	       sb->max_snapshots);
	printf("  index              block %" PRIu64 ", %" PRIu64 " blocks\n",
	       sb->index_start, sb->index_blocks);
	printf("  records            block %" PRIu64 ", %" PRIu64 " blocks\n",
	       sb->record_start, sb->record_blocks);
	printf("  data               sector %" PRIu64 ", %" PRIu64 " chunks\n",
	       sb->data_start, sb->nr_data_chunks);
	printf("  data limit         %" PRIu64 " chunks%s\n", shadow_sb_data_limit(sb),
	       !(sb->compat_flags & SHADOW_FEATURE_COMPAT_LIMIT) ? " (none stored: the whole store)" :
	       shadow_sb_data_limit(sb) == sb->nr_data_chunks ? " (the whole store)" : "");
	printf("  last seq           %" PRIu64 "\n", sb->last_seq);
	printf("  commit generation  %" PRIu64 "\n", sb->commit_gen);
	printf("  formatted          %s\n", when);

	if (d->snaps) {
		for (uint32_t i = 0; i < sb->max_snapshots; i++)
			nsnaps += d->snaps[i].state != SHADOW_SNAP_FREE;
		printf("snapshots: %" PRIu64 " of %u\n", nsnaps, sb->max_snapshots);
		if (nsnaps)
			printf("  %5s %20s %10s %-8s %-14s %s\n",
			       "SLOT", "ID", "SEQ", "STATE", "FLAGS", "CTIME");
		for (uint32_t i = 0; i < sb->max_snapshots; i++) {
			const struct shadow_snapshot *s = &d->snaps[i];
			const char *state = shadow_snap_state_name(s->state);
			char flags[32], ctime[64], st[16];

			if (s->state == SHADOW_SNAP_FREE)
				continue;
			if (!state) {
				snprintf(st, sizeof(st), "?%u", s->state);
				state = st;
			}
			format_snap_flags(s->flags, flags, sizeof(flags));
			format_time(s->ctime, ctime, sizeof(ctime));
			printf("  %5u %20" PRIu64 " %10" PRIu64 " %-8s %-14s %s\n",
			       i, s->id, s->seq, state, flags, ctime);
		}
	} else {
		printf("snapshots: unreadable: %s\n", d->snaps_error);
	}

	printf("usage:\n");
	printf("  data chunks        %" PRIu64 "\n", sb->nr_data_chunks);
	printf("  limit              %" PRIu64 "\n", shadow_sb_data_limit(sb));
	printf("  allocated          %" PRIu64 " (high water)\n", sb->high_water);
	printf("  in use             %" PRIu64 "\n", sb->high_water - sb->free_count);
	printf("  on free list       %" PRIu64 "\n", sb->free_count);
	printf("  never allocated    %" PRIu64 "\n", sb->nr_data_chunks - sb->high_water);

	if (d->args->records) {
		if (d->recs || sb->high_water == 0) {
			printf("records: %" PRIu64 "\n", sb->high_water);
			if (sb->high_water)
				printf("  %10s %12s %10s %10s %s\n",
				       "RECORD", "ORIGIN-CHUNK", "SEQ", "NEXT", "FLAGS");
			for (uint64_t n = 0; n < sb->high_water; n++) {
				const struct shadow_record *r = &d->recs[n];
				char next[24] = "-";

				if (r->next)
					snprintf(next, sizeof(next), "%" PRIu64, r->next - 1);
				printf("  %10" PRIu64 " %12" PRIu64 " %10" PRIu64 " %10s %s%s%s\n",
				       n, r->origin_chunk, r->seq, next,
				       r->flags & SHADOW_REC_USED ? "used" : "free",
				       r->flags & SHADOW_REC_PRIVATE ? ",private" : "",
				       r->flags & ~(SHADOW_REC_USED | SHADOW_REC_PRIVATE) ? ",unknown" : "");
			}
		} else {
			printf("records: unreadable: %s\n", d->recs_error);
		}
	}

	if (d->checked) {
		size_t n = json_object_array_length(d->problems);

		printf("check:\n");
		printf("  used               %" PRIu64 "\n", d->check.used);
		printf("  free               %" PRIu64 "\n", d->check.free);
		printf("  leaked             %" PRIu64 "\n", d->check.leaked);
		printf("  never allocated    %" PRIu64 "\n", d->check.unallocated);
		printf("  chains             %" PRIu64 "\n", d->check.chains);
		printf("  unwritten blocks   %" PRIu64 "\n", d->check.unwritten_blocks);
		printf("  bad blocks         %" PRIu64 "\n", d->check.bad_blocks);
		for (size_t i = 0; i < n; i++)
			printf("  problem: %s\n",
			       json_object_get_string(json_object_array_get_idx(d->problems, i)));
		printf("  result             %s (%" PRIu64 " problems)\n",
		       d->check.problems ? "INCONSISTENT" : "clean", d->check.problems);
	}
}

#define JADD(o, k, v) json_object_object_add((o), (k), (v))
#define JU64(v) json_object_new_uint64(v)

static json_object *build_json(const struct dump *d)
{
	const struct shadow_superblock *sb = d->sb;
	json_object *root = json_object_new_object(), *o, *a;
	char uuid[37];

	format_uuid(sb->uuid, uuid);
	JADD(root, "store", json_object_new_string(d->path));

	o = json_object_new_object();
	JADD(o, "magic", JU64(sb->magic));
	JADD(o, "version", JU64(sb->version));
	JADD(o, "store_type", json_object_new_string(shadow_store_type_name(sb->store_type)));
	JADD(o, "uuid", json_object_new_string(uuid));
	JADD(o, "compat_flags", JU64(sb->compat_flags));
	JADD(o, "ro_compat_flags", JU64(sb->ro_compat_flags));
	JADD(o, "incompat_flags", JU64(sb->incompat_flags));
	JADD(o, "chunk_sectors", JU64(sb->chunk_sectors));
	JADD(o, "max_snapshots", JU64(sb->max_snapshots));
	JADD(o, "origin_sectors", JU64(sb->origin_sectors));
	JADD(o, "nr_origin_chunks", JU64(sb->nr_origin_chunks));
	JADD(o, "store_sectors", JU64(sb->store_sectors));
	JADD(o, "device_sectors", JU64(shadow_store_dev_sectors(d->store)));
	JADD(o, "snap_table_start", JU64(sb->snap_table_start));
	JADD(o, "index_start", JU64(sb->index_start));
	JADD(o, "index_blocks", JU64(sb->index_blocks));
	JADD(o, "record_start", JU64(sb->record_start));
	JADD(o, "record_blocks", JU64(sb->record_blocks));
	JADD(o, "data_start", JU64(sb->data_start));
	JADD(o, "nr_data_chunks", JU64(sb->nr_data_chunks));
	JADD(o, "data_limit", JU64(shadow_sb_data_limit(sb)));
	JADD(o, "high_water", JU64(sb->high_water));
	JADD(o, "free_head", JU64(sb->free_head));
	JADD(o, "free_count", JU64(sb->free_count));
	JADD(o, "last_seq", JU64(sb->last_seq));
	JADD(o, "commit_gen", JU64(sb->commit_gen));
	JADD(o, "format_time", JU64(sb->format_time));
	JADD(root, "superblock", o);

	if (d->snaps) {
		a = json_object_new_array();
		for (uint32_t i = 0; i < sb->max_snapshots; i++) {
			const struct shadow_snapshot *s = &d->snaps[i];
			const char *state = shadow_snap_state_name(s->state);

			if (s->state == SHADOW_SNAP_FREE)
				continue;
			o = json_object_new_object();
			JADD(o, "slot", JU64(i));
			JADD(o, "id", JU64(s->id));
			JADD(o, "seq", JU64(s->seq));
			JADD(o, "state", state ? json_object_new_string(state) : JU64(s->state));
			JADD(o, "sealed", json_object_new_boolean(!!(s->flags & SHADOW_SNAPF_SEALED)));
			JADD(o, "written", json_object_new_boolean(!!(s->flags & SHADOW_SNAPF_WRITTEN)));
			JADD(o, "flags", JU64(s->flags));
			JADD(o, "ctime", JU64(s->ctime));
			json_object_array_add(a, o);
		}
		JADD(root, "snapshots", a);
	} else {
		JADD(root, "snapshots", NULL);
		JADD(root, "snapshots_error", json_object_new_string(d->snaps_error));
	}

	o = json_object_new_object();
	JADD(o, "data_chunks", JU64(sb->nr_data_chunks));
	JADD(o, "limit", JU64(shadow_sb_data_limit(sb)));
	JADD(o, "allocated", JU64(sb->high_water));
	JADD(o, "in_use", JU64(sb->high_water - sb->free_count));
	JADD(o, "free", JU64(sb->free_count));
	JADD(o, "never_allocated", JU64(sb->nr_data_chunks - sb->high_water));
	JADD(root, "usage", o);

	if (d->args->records) {
		if (d->recs || sb->high_water == 0) {
			a = json_object_new_array();
			for (uint64_t n = 0; n < sb->high_water; n++) {
				const struct shadow_record *r = &d->recs[n];

				o = json_object_new_object();
				JADD(o, "record", JU64(n));
				JADD(o, "origin_chunk", JU64(r->origin_chunk));
				JADD(o, "seq", JU64(r->seq));
				JADD(o, "next", r->next ? JU64(r->next - 1) : NULL);
				JADD(o, "used", json_object_new_boolean(!!(r->flags & SHADOW_REC_USED)));
				JADD(o, "private", json_object_new_boolean(!!(r->flags & SHADOW_REC_PRIVATE)));
				JADD(o, "flags", JU64(r->flags));
				json_object_array_add(a, o);
			}
			JADD(root, "records", a);
		} else {
			JADD(root, "records", NULL);
			JADD(root, "records_error", json_object_new_string(d->recs_error));
		}
	}

	if (d->checked) {
		o = json_object_new_object();
		JADD(o, "consistent", json_object_new_boolean(d->check.problems == 0));
		JADD(o, "used", JU64(d->check.used));
		JADD(o, "free", JU64(d->check.free));
		JADD(o, "leaked", JU64(d->check.leaked));
		JADD(o, "never_allocated", JU64(d->check.unallocated));
		JADD(o, "chains", JU64(d->check.chains));
		JADD(o, "unwritten_blocks", JU64(d->check.unwritten_blocks));
		JADD(o, "bad_blocks", JU64(d->check.bad_blocks));
		JADD(o, "problem_count", JU64(d->check.problems));
		JADD(o, "problems", json_object_get(d->problems));
		JADD(root, "check", o);
	}
	return root;
}

int main(int argc, char *argv[])
{
	_cleanup_store_ struct shadow_store *store = NULL;
	_cleanup_free_ struct shadow_snapshot *snaps = NULL;
	_cleanup_free_ struct shadow_record *recs = NULL;
	_cleanup_json_ json_object *problems = NULL;
	struct shadow_error err = {};
	struct dump_args args;
	struct dump d = {};
	char why[256];
	int r;

	r = dump_parse_argv(argc, argv, &args, why, sizeof(why));
	if (r == DUMP_HELP) {
		usage(stdout);
		return 0;
	}
	if (r == DUMP_VERSION) {
		printf("shadow-dump from %s %s (format versions %u to %u)\n",
		       PACKAGE_NAME, PACKAGE_VERSION, SHADOW_VERSION_MIN,
		       SHADOW_VERSION_MAX);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "shadow-dump: Failed to parse arguments: %s\n"
			"Try 'shadow-dump --help' for more information.\n", why);
		return EXIT_USAGE;
	}

	r = shadow_store_open(args.store, &store, &err);
	if (r < 0) {
		if (r == -ENOMEM) {
			fprintf(stderr, "shadow-dump: Failed to open store %s: %s\n",
				args.store, strerror(-r));
			return EXIT_READ;
		}
		fprintf(stderr, "shadow-dump: Failed to %s %s: %s\n",
			err.code == SHADOW_ERR_IO ? "read store" : "validate the superblock of",
			args.store, err.msg);
		return err.code == SHADOW_ERR_IO ? EXIT_READ : EXIT_CORRUPT;
	}

	d.args = &args;
	d.path = args.store;
	d.store = store;
	d.sb = shadow_store_sb(store);

	/* Without --check an unreadable table is fatal; with it, a finding. */
	r = shadow_store_load_snapshots(store, &snaps, &err);
	if (r < 0) {
		if (!args.check || r != -EBADMSG) {
			fprintf(stderr, "shadow-dump: Failed to read the snapshot table of %s: %s\n",
				args.store, r == -EBADMSG || err.code == SHADOW_ERR_IO ? err.msg : strerror(-r));
			return r == -EBADMSG ? EXIT_CORRUPT : EXIT_READ;
		}
		snprintf(d.snaps_error, sizeof(d.snaps_error), "%s", err.msg);
	}
	d.snaps = snaps;

	if (args.records) {
		r = shadow_store_load_records(store, &recs, &err);
		if (r < 0) {
			if (!args.check || r != -EBADMSG) {
				fprintf(stderr, "shadow-dump: Failed to read the records of %s: %s\n",
					args.store, r == -EBADMSG || err.code == SHADOW_ERR_IO ? err.msg : strerror(-r));
				return r == -EBADMSG ? EXIT_CORRUPT : EXIT_READ;
			}
			snprintf(d.recs_error, sizeof(d.recs_error), "%s", err.msg);
		}
		d.recs = recs;
	}

	if (args.check) {
		problems = json_object_new_array();
		d.problems = problems;
		r = shadow_store_check(store, on_problem, &d, &d.check);
		if (r < 0) {
			fprintf(stderr, "shadow-dump: Failed to check %s: %s\n",
				args.store, strerror(-r));
			return EXIT_READ;
		}
		d.checked = true;
	}

	if (args.json) {
		_cleanup_json_ json_object *root = build_json(&d);

		puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		print_text(&d);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "shadow-dump: Failed to write output: %m\n");
		return EXIT_READ;
	}

	if (d.checked && d.check.problems) {
		fprintf(stderr, "shadow-dump: Failed to check %s: %" PRIu64 " inconsistencies found\n",
			args.store, d.check.problems);
		return EXIT_INCONSISTENT;
	}
	return 0;
}
