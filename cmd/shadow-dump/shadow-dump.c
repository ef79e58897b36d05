/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadow-dump: print (and optionally check) a dm-shadow store offline.
 *
 * Exit codes: 0 ok, 1 usage error (or --diff of a clone store, which
 * records no writes), 2 cannot read the store, 3 invalid or
 * corrupt store, 4 --check found damage, 5 --check found leaked space and
 * nothing else (a crash between two commits leaves that; the store is
 * safe to use), 6 --metadata-snap given but no metadata snapshot is held,
 * 7 --diff names a snapshot that does not exist or is invalid.
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
#include "shadow-diff.h"
#include "shadow-store.h"
#include "shadow-vec.h"

#define EXIT_USAGE	1
#define EXIT_READ	2
#define EXIT_CORRUPT	3
#define EXIT_INCONSISTENT 4
#define EXIT_LEAKS	5
#define EXIT_NO_HELD	6
#define EXIT_NO_SNAP	7

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
#define _cleanup_json_ _cleanup_(json_object_putp)

static void usage(FILE *out)
{
	fputs("Usage:\n"
	      " shadow-dump [options] <store>\n"
	      "\n"
	      "Print the superblock, snapshots (a clone store's clones too) and\n"
	      "usage of a dm-shadow store (block device or image file), read\n"
	      "offline.\n"
	      "\n"
	      "Options:\n"
	      " -J, --json       print JSON\n"
	      " -r, --records    also print every exception and private chunk,\n"
	      "                  and those pending in the exception journal\n"
	      "                  (a clone store: what each clone copied)\n"
	      " -c, --check      walk all metadata and check its consistency\n"
	      " -m, --metadata-snap\n"
	      "                  read snapshots and records through the held\n"
	      "                  metadata snapshot (reserve_metadata_snap)\n"
	      " -d, --diff <a>[:<b>]\n"
	      "                  print only the ranges that differ between\n"
	      "                  snapshots a and b (without b: a and the live\n"
	      "                  volume), as '<sector> <sectors>' lines\n"
	      "\n"
	      " -h, --help       display this help\n"
	      " -V, --version    display version\n"
	      "\n"
	      "Exit status: 0 ok, 1 usage error, 2 cannot read the store,\n"
	      "3 invalid or corrupt store, 4 --check found damage,\n"
	      "5 --check found leaked space only, 6 no metadata snapshot held,\n"
	      "7 --diff names a snapshot that does not exist or is invalid.\n"
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

/* The incompat features a store uses, by name (validation refused others). */
static const struct {
	uint64_t bit;
	const char *name;
} incompat_features[] = {
	{ SHADOW_FEATURE_INCOMPAT_REVERT, "revert" },
	{ SHADOW_FEATURE_INCOMPAT_JOURNAL, "journal" },
	{ SHADOW_FEATURE_INCOMPAT_ROW_DROPPED, "row_dropped" },
	{ SHADOW_FEATURE_INCOMPAT_CLONE, "clone" },
};

/* " (revert, journal)" for the features set in @flags, "" for none. */
static void format_incompat(uint64_t flags, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(incompat_features); i++) {
		if (!(flags & incompat_features[i].bit))
			continue;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s",
			      n ? ", " : " (", incompat_features[i].name);
	}
	if (n)
		snprintf(buf + n, n < len ? len - n : 0, ")");
}

static const char *journal_tree_name(uint32_t tree, char *buf, size_t len)
{
	if (tree == SHADOW_JOURNAL_SHARED)
		return "exception";
	if (tree == SHADOW_JOURNAL_PRIVATE)
		return "private";
	snprintf(buf, len, "tree %u", tree);
	return buf;
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

/* A run of chunks a clone copied. */
struct run {
	uint64_t first;
	uint64_t n;
};

/* What a hydrating clone's bitset says it copied (--records). */
struct clone_copied {
	bool read;			/* the clone has a bitset, and it was read */
	bool ok;
	uint64_t count;
	struct shadow_vec runs;		/* struct run */
	char error[256];
};

struct dump {
	const struct dump_args *args;
	const char *path;
	struct shadow_store *store;
	const struct shadow_superblock *sb;
	const struct shadow_superblock *held;	/* with --metadata-snap */
	struct shadow_snapshot *snaps;		/* NULL if unreadable */
	size_t nsnaps;
	struct shadow_mapping *maps;		/* with --records */
	size_t nmaps;
	bool maps_ok;
	struct shadow_pending *pending;		/* the exception journal's */
	size_t npending;
	uint32_t pending_blocks;
	char snaps_error[256];
	char maps_error[256];
	bool clone_store;
	struct shadow_clone *clones;		/* a clone store's; NULL if unreadable */
	size_t nclones;
	char clones_error[256];
	struct clone_copied *copied;		/* with --records, per clone */
	/* --check */
	bool checked;
	struct shadow_check_result check;
	json_object *problems;			/* array of strings: damage */
	json_object *leaks;			/* array of strings */
};

/* --diff: each run of changed chunks as it comes, in sectors. */
struct diff_out {
	const struct dump_args *args;
	const struct shadow_superblock *sb;
	uint64_t runs;
	bool started;
};

/*
 * The JSON head, printed with the first run (or at the end): a refused
 * diff (no such snapshot) then prints nothing at all.
 */
static void print_diff_head(struct diff_out *o)
{
	if (o->started || !o->args->json)
		return;
	o->started = true;
	printf("{\n  \"from\": %" PRIu64 ",\n", o->args->diff_a);
	if (o->args->diff_live)
		printf("  \"to\": null,\n");
	else
		printf("  \"to\": %" PRIu64 ",\n", o->args->diff_b);
	printf("  \"chunk_sectors\": %u,\n  \"origin_sectors\": %" PRIu64
	       ",\n  \"metadata_snap\": %s,\n  \"ranges\": [",
	       o->sb->chunk_sectors, o->sb->origin_sectors,
	       o->args->metadata_snap ? "true" : "false");
}

static int print_run(void *userdata, uint64_t first, uint64_t n)
{
	struct diff_out *o = userdata;
	uint64_t sector = first * o->sb->chunk_sectors;
	uint64_t end = (first + n) * o->sb->chunk_sectors;

	/* The last chunk may reach past the origin's end. */
	if (end > o->sb->origin_sectors)
		end = o->sb->origin_sectors;
	print_diff_head(o);
	if (o->args->json)
		printf("%s\n    { \"first_chunk\": %" PRIu64 ", \"chunks\": %" PRIu64
		       ", \"sector\": %" PRIu64 ", \"sectors\": %" PRIu64 " }",
		       o->runs ? "," : "", first, n, sector, end - sector);
	else
		printf("%" PRIu64 " %" PRIu64 "\n", sector, end - sector);
	o->runs++;
	return ferror(stdout) ? -EIO : 0;
}

/*
 * Stream the diff: JSON is printed by hand as the runs come, so that a
 * store with millions of changed ranges needs no memory for them.
 */
static int run_diff(const struct dump_args *args, struct shadow_store *store)
{
	struct diff_out o = { .args = args, .sb = shadow_store_sb(store) };
	struct shadow_error err = {};
	uint64_t changed = 0;
	int r;

	r = shadow_store_diff(store, args->diff_a, args->diff_b, args->diff_live,
			      print_run, &o, &changed, &err);
	if (r == 0)
		print_diff_head(&o);
	if (args->json && r == 0)
		printf("\n  ],\n  \"changed_chunks\": %" PRIu64 "\n}\n", changed);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "shadow-dump: Failed to write output: %m\n");
		return EXIT_READ;
	}
	if (r == -ENOENT || r == -ESTALE) {
		fprintf(stderr, "shadow-dump: Failed to compare snapshots of %s: %s\n",
			args->store, err.msg);
		return EXIT_NO_SNAP;
	}
	if (r == -EOPNOTSUPP) {
		fprintf(stderr, "shadow-dump: Failed to compare snapshots of %s: %s\n",
			args->store, err.msg);
		return EXIT_USAGE;
	}
	if (r < 0) {
		fprintf(stderr, "shadow-dump: Failed to compare snapshots of %s: %s\n",
			args->store, err.code != SHADOW_ERR_NONE ? err.msg : strerror(-r));
		return r == -EBADMSG ? EXIT_CORRUPT : EXIT_READ;
	}
	return 0;
}

static void on_finding(void *userdata, enum shadow_finding kind, const char *msg)
{
	struct dump *d = userdata;

	json_object_array_add(kind == SHADOW_FINDING_LEAK ? d->leaks : d->problems,
			      json_object_new_string(msg));
}

static const char *check_result(const struct shadow_check_result *c)
{
	if (c->problems)
		return "DAMAGED";
	return c->leaked ? "leaks only" : "clean";
}

/* The ring and what of it the next load replays (a crash leaves that). */
static void print_journal_line(const struct dump *d)
{
	uint64_t start = shadow_journal_start(d->sb);

	if (!shadow_journal_blocks(d->sb)) {
		printf("  journal            none (formatted before the exception journal)\n");
		return;
	}
	printf("  journal            blocks %" PRIu64 " to %" PRIu64 ", ",
	       start, d->sb->metadata_blocks - 1);
	if (d->npending)
		printf("%zu pending exceptions in %u blocks (replayed at the next load)\n",
		       d->npending, d->pending_blocks);
	else
		printf("nothing pending\n");
}

static void print_pending(const struct dump *d)
{
	printf("journal: %zu pending\n", d->npending);
	if (d->npending)
		printf("  %5s %5s %12s %10s %12s %s\n",
		       "INDEX", "ENTRY", "ORIGIN-CHUNK", "SEQ", "DATA-CHUNK", "KIND");
	for (size_t i = 0; i < d->npending; i++) {
		const struct shadow_pending *p = &d->pending[i];
		char tree[32];

		printf("  %5u %5u %12" PRIu64 " %10" PRIu64 " %12" PRIu64 " %s\n",
		       p->index, p->slot, p->entry.chunk, p->tag,
		       p->entry.store_chunk,
		       journal_tree_name(p->entry.tree, tree, sizeof(tree)));
	}
}

/* The most snapshots a store of this type holds: one per clone in a clone store. */
static unsigned int max_snapshots(const struct dump *d)
{
	return d->clone_store ? SHADOW_MAX_CLONES : SHADOW_MAX_SNAPSHOTS;
}

static void print_snapshots(const struct dump *d)
{
	if (!d->snaps) {
		printf("snapshots: unreadable: %s\n", d->snaps_error);
		return;
	}
	printf("snapshots: %zu of %u\n", d->nsnaps, max_snapshots(d));
	if (d->nsnaps)
		printf("  %20s %10s %-8s %-14s %s\n",
		       "ID", "SEQ", "STATE", "FLAGS", "CTIME");
	for (size_t i = 0; i < d->nsnaps; i++) {
		const struct shadow_snapshot *s = &d->snaps[i];
		const char *state = shadow_snap_state_name(s->state);
		char flags[32], ctime[64], st[16];

		if (!state) {
			snprintf(st, sizeof(st), "?%u", s->state);
			state = st;
		}
		format_snap_flags(s->flags, flags, sizeof(flags));
		format_time(s->ctime, ctime, sizeof(ctime));
		printf("  %20" PRIu64 " %10" PRIu64 " %-8s %-14s %s\n",
		       s->id, s->seq, state, flags, ctime);
	}
}

/* A clone store's clones: how far each got, and where it goes. */
static void print_clones(const struct dump *d)
{
	if (!d->clones) {
		printf("clones: unreadable: %s\n", d->clones_error);
		return;
	}
	printf("clones: %zu of %d\n", d->nclones, SHADOW_MAX_CLONES);
	if (d->nclones)
		printf("  %20s %-10s %21s %15s\n", "ID", "STATE", "COPIED", "TARGET-SECTORS");
	for (size_t i = 0; i < d->nclones; i++) {
		const struct shadow_clone *c = &d->clones[i];
		const char *state = shadow_clone_state_name(c->state);
		char copied[48], st[16];

		if (!state) {
			snprintf(st, sizeof(st), "?%u", c->state);
			state = st;
		}
		snprintf(copied, sizeof(copied), "%" PRIu64 "/%" PRIu64,
			 c->nr_copied, d->sb->nr_origin_chunks);
		printf("  %20" PRIu64 " %-10s %21s %15" PRIu64 "\n",
		       c->id, state, copied, c->target_sectors);
	}
}

/* With --records: the chunks each hydrating clone's bitset has set. */
static void print_copied(const struct dump *d)
{
	for (size_t i = 0; d->copied && i < d->nclones; i++) {
		const struct clone_copied *cc = &d->copied[i];
		const struct run *runs = cc->runs.v;

		if (!cc->read)
			continue;
		if (!cc->ok) {
			printf("clone %" PRIu64 " copied: unreadable: %s\n",
			       d->clones[i].id, cc->error);
			continue;
		}
		printf("clone %" PRIu64 " copied: %" PRIu64 " chunks in %zu runs\n",
		       d->clones[i].id, cc->count, cc->runs.n);
		if (cc->runs.n)
			printf("  %12s %12s\n", "FIRST-CHUNK", "CHUNKS");
		for (size_t j = 0; j < cc->runs.n; j++)
			printf("  %12" PRIu64 " %12" PRIu64 "\n", runs[j].first, runs[j].n);
	}
}

static void print_usage(const struct dump *d)
{
	const struct shadow_superblock *sb = d->sb;

	printf("usage:\n");
	if (d->clone_store) {
		printf("  data chunks        0 (a clone store keeps no data)\n");
	} else {
		printf("  data chunks        %" PRIu64 "\n", sb->nr_data_chunks);
		printf("  limit              %" PRIu64 "\n", sb->data_limit);
		printf("  in use             %" PRIu64 "\n", sb->data_sm.nr_allocated);
		printf("  free               %" PRIu64 "\n",
		       sb->data_limit > sb->data_sm.nr_allocated ?
		       sb->data_limit - sb->data_sm.nr_allocated : 0);
	}
	printf("  metadata blocks    %" PRIu64 " of %" PRIu64 "\n",
	       sb->metadata_sm.nr_allocated, sb->metadata_sm.nr_blocks);
}

static void print_text(const struct dump *d)
{
	const struct shadow_superblock *sb = d->sb;
	char uuid[37], when[64], incompat[64];

	format_uuid(sb->uuid, uuid);
	format_time(sb->format_time, when, sizeof(when));
	format_incompat(sb->incompat_flags, incompat, sizeof(incompat));
	printf("store %s: dm-shadow format version %u, %s store\n",
	       d->path, sb->version, shadow_store_type_name(sb->store_type));
	printf("superblock:\n");
	printf("  uuid               %s\n", uuid);
	printf("  features           compat 0x%" PRIx64 ", ro_compat 0x%" PRIx64 ", incompat 0x%" PRIx64 "%s\n",
	       sb->compat_flags, sb->ro_compat_flags, sb->incompat_flags, incompat);
	if (sb->ro_compat_flags & ~SHADOW_FEATURE_RO_COMPAT_SUPP)
		printf("  (unknown ro_compat features: writable use needs a newer dm-shadow)\n");
	printf("  flags              0x%x%s\n", sb->flags,
	       sb->flags & SHADOW_SB_NEEDS_CHECK ? " (needs_check: run shadow-dump --check)" : "");
	printf("  chunk size         %u sectors (%u bytes)\n",
	       sb->chunk_sectors, sb->chunk_sectors * 512);
	printf("  origin             %" PRIu64 " sectors, %" PRIu64 " chunks\n",
	       sb->origin_sectors, sb->nr_origin_chunks);
	printf("  store              %" PRIu64 " sectors (device %" PRIu64 " sectors)\n",
	       sb->store_sectors, shadow_store_dev_sectors(d->store));
	printf("  metadata           %" PRIu64 " blocks of %d bytes\n",
	       sb->metadata_blocks, SHADOW_MD_BLOCK_SIZE);
	print_journal_line(d);
	if (d->clone_store) {
		printf("  data               none: each clone is a full copy on a target device of its own\n");
	} else {
		printf("  data               sector %" PRIu64 ", %" PRIu64 " chunks\n",
		       sb->data_start, sb->nr_data_chunks);
		printf("  data limit         %" PRIu64 " chunks%s\n", sb->data_limit,
		       sb->data_limit == sb->nr_data_chunks ? " (the whole store)" : "");
	}
	printf("  last seq           %" PRIu64 "\n", sb->last_seq);
	printf("  transaction        %" PRIu64 "\n", sb->trans_id);
	if (d->clone_store)
		printf("  roots              snapshots %" PRIu64 ", clones %" PRIu64 ", exceptions %" PRIu64 ", private %" PRIu64 ", held %" PRIu64 "\n",
		       sb->snapshot_root, sb->clone_root, sb->exception_root,
		       sb->private_root, sb->held_root);
	else
		printf("  roots              snapshots %" PRIu64 ", exceptions %" PRIu64 ", private %" PRIu64 ", held %" PRIu64 "\n",
		       sb->snapshot_root, sb->exception_root, sb->private_root, sb->held_root);
	printf("  formatted          %s\n", when);
	if (sb->revert_seq)
		printf("  revert             to seq %" PRIu64 ", chunks below %" PRIu64
		       " merged, out-of-order tree %" PRIu64 "\n",
		       sb->revert_seq, sb->revert_cursor, sb->revert_root);
	if (sb->incompat_flags & SHADOW_FEATURE_INCOMPAT_ROW_DROPPED)
		printf("  dropped            versions tagged %" PRIu64 " to %" PRIu64
		       " are dead (dropped_from %" PRIu64 ", dropped_below %" PRIu64 ")\n",
		       sb->dropped_from, sb->dropped_below - 1,
		       sb->dropped_from, sb->dropped_below);

	if (d->held) {
		printf("metadata snapshot (snapshots and records below are as of it):\n");
		printf("  block              %" PRIu64 "\n", sb->held_root);
		printf("  transaction        %" PRIu64 "\n", d->held->trans_id);
		printf("  last seq           %" PRIu64 "\n", d->held->last_seq);
		printf("  data limit         %" PRIu64 " chunks\n", d->held->data_limit);
		printf("  roots              snapshots %" PRIu64 ", exceptions %" PRIu64 ", private %" PRIu64 "\n",
		       d->held->snapshot_root, d->held->exception_root, d->held->private_root);
	}

	print_snapshots(d);
	if (d->clone_store)
		print_clones(d);
	print_usage(d);

	if (d->args->records) {
		if (d->maps_ok) {
			printf("records: %zu\n", d->nmaps);
			if (d->nmaps)
				printf("  %12s %10s %12s %s\n", "ORIGIN-CHUNK", "SEQ", "DATA-CHUNK", "KIND");
			for (size_t i = 0; i < d->nmaps; i++) {
				const struct shadow_mapping *m = &d->maps[i];

				printf("  %12" PRIu64 " %10" PRIu64 " %12" PRIu64 " %s\n",
				       m->origin_chunk, m->seq, m->data_chunk,
				       m->private ? "private" : "exception");
			}
		} else {
			printf("records: unreadable: %s\n", d->maps_error);
		}
		print_pending(d);
		print_copied(d);
	}

	if (d->checked) {
		size_t n = json_object_array_length(d->problems);
		size_t nl = json_object_array_length(d->leaks);

		printf("check:\n");
		printf("  snapshots          %" PRIu64 "\n", d->check.snapshots);
		if (d->clone_store)
			printf("  clones             %" PRIu64 "\n", d->check.clones);
		printf("  exceptions         %" PRIu64 "\n", d->check.exceptions);
		if (sb->incompat_flags & SHADOW_FEATURE_INCOMPAT_ROW_DROPPED)
			printf("  dead versions      %" PRIu64 " (in use until freed)\n",
			       d->check.dead_versions);
		printf("  private chunks     %" PRIu64 "\n", d->check.private_chunks);
		printf("  data chunks used   %" PRIu64 "\n", d->check.data_used);
		printf("  metadata used      %" PRIu64 "\n", d->check.metadata_used);
		printf("  leaked             %" PRIu64 " (%" PRIu64 " data chunks, %" PRIu64 " metadata blocks)\n",
		       d->check.leaked, d->check.leaked_data, d->check.leaked_metadata);
		printf("  bad blocks         %" PRIu64 "\n", d->check.bad_blocks);
		printf("  journal pending    %" PRIu64 " in %" PRIu64 " blocks%s\n",
		       d->check.journal_pending, d->check.journal_blocks,
		       d->check.journal_pending ? ", replayed at the next load" : "");
		if (d->check.needs_check)
			printf("  needs_check        set\n");
		for (size_t i = 0; i < n; i++)
			printf("  problem: %s\n",
			       json_object_get_string(json_object_array_get_idx(d->problems, i)));
		for (size_t i = 0; i < nl; i++)
			printf("  leak: %s\n",
			       json_object_get_string(json_object_array_get_idx(d->leaks, i)));
		printf("  result             %s (%" PRIu64 " problems, %" PRIu64 " leaked)\n",
		       check_result(&d->check), d->check.problems, d->check.leaked);
	}
}

#define JADD(o, k, v) json_object_object_add((o), (k), (v))
#define JU64(v) json_object_new_uint64(v)

static json_object *sm_json(const struct shadow_sm_root *sm)
{
	json_object *o = json_object_new_object();

	JADD(o, "nr_blocks", JU64(sm->nr_blocks));
	JADD(o, "nr_allocated", JU64(sm->nr_allocated));
	JADD(o, "bitmap_root", JU64(sm->bitmap_root));
	JADD(o, "ref_count_root", JU64(sm->ref_count_root));
	return o;
}

static json_object *incompat_json(uint64_t flags)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < ELEMENTSOF(incompat_features); i++)
		if (flags & incompat_features[i].bit)
			json_object_array_add(a, json_object_new_string(incompat_features[i].name));
	return a;
}

static json_object *journal_json(const struct dump *d)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	JADD(o, "blocks", JU64(shadow_journal_blocks(d->sb)));
	JADD(o, "start", JU64(shadow_journal_start(d->sb)));
	JADD(o, "pending_blocks", JU64(d->pending_blocks));
	JADD(o, "pending_count", JU64(d->npending));
	for (size_t i = 0; i < d->npending; i++) {
		const struct shadow_pending *p = &d->pending[i];
		json_object *e = json_object_new_object();

		JADD(e, "index", JU64(p->index));
		JADD(e, "entry", JU64(p->slot));
		JADD(e, "origin_chunk", JU64(p->entry.chunk));
		JADD(e, "seq", JU64(p->tag));
		JADD(e, "data_chunk", JU64(p->entry.store_chunk));
		JADD(e, "tree", JU64(p->entry.tree));
		JADD(e, "private", json_object_new_boolean(p->entry.tree == SHADOW_JOURNAL_PRIVATE));
		json_object_array_add(a, e);
	}
	JADD(o, "pending", a);
	return o;
}

/* With --records, a hydrating clone's copied runs (its key "copied"). */
static void copied_json(json_object *o, const struct clone_copied *cc)
{
	const struct run *runs = cc->runs.v;
	json_object *a;

	if (!cc->ok) {
		JADD(o, "copied", NULL);
		JADD(o, "copied_error", json_object_new_string(cc->error));
		return;
	}
	a = json_object_new_array();
	for (size_t i = 0; i < cc->runs.n; i++) {
		json_object *r = json_object_new_object();

		JADD(r, "first_chunk", JU64(runs[i].first));
		JADD(r, "chunks", JU64(runs[i].n));
		json_object_array_add(a, r);
	}
	JADD(o, "copied", a);
	JADD(o, "copied_chunks", JU64(cc->count));
}

static void clones_json(json_object *root, const struct dump *d)
{
	json_object *a;

	if (!d->clones) {
		JADD(root, "clones", NULL);
		JADD(root, "clones_error", json_object_new_string(d->clones_error));
		return;
	}
	a = json_object_new_array();
	for (size_t i = 0; i < d->nclones; i++) {
		const struct shadow_clone *c = &d->clones[i];
		const char *state = shadow_clone_state_name(c->state);
		json_object *o = json_object_new_object();

		JADD(o, "id", JU64(c->id));
		JADD(o, "state", state ? json_object_new_string(state) : JU64(c->state));
		JADD(o, "nr_copied", JU64(c->nr_copied));
		JADD(o, "nr_origin_chunks", JU64(d->sb->nr_origin_chunks));
		JADD(o, "target_sectors", JU64(c->target_sectors));
		JADD(o, "bitset_root", JU64(c->bitset_root));
		JADD(o, "flags", JU64(c->flags));
		if (d->copied && d->copied[i].read)
			copied_json(o, &d->copied[i]);
		json_object_array_add(a, o);
	}
	JADD(root, "clones", a);
}

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
	JADD(o, "incompat_features", incompat_json(sb->incompat_flags));
	JADD(o, "flags", JU64(sb->flags));
	JADD(o, "needs_check", json_object_new_boolean(!!(sb->flags & SHADOW_SB_NEEDS_CHECK)));
	JADD(o, "chunk_sectors", JU64(sb->chunk_sectors));
	JADD(o, "origin_sectors", JU64(sb->origin_sectors));
	JADD(o, "nr_origin_chunks", JU64(sb->nr_origin_chunks));
	JADD(o, "store_sectors", JU64(sb->store_sectors));
	JADD(o, "device_sectors", JU64(shadow_store_dev_sectors(d->store)));
	JADD(o, "metadata_blocks", JU64(sb->metadata_blocks));
	JADD(o, "data_start", JU64(sb->data_start));
	JADD(o, "nr_data_chunks", JU64(sb->nr_data_chunks));
	JADD(o, "data_limit", JU64(sb->data_limit));
	JADD(o, "last_seq", JU64(sb->last_seq));
	JADD(o, "trans_id", JU64(sb->trans_id));
	JADD(o, "format_time", JU64(sb->format_time));
	JADD(o, "held_root", JU64(sb->held_root));
	JADD(o, "exception_root", JU64(sb->exception_root));
	JADD(o, "private_root", JU64(sb->private_root));
	JADD(o, "snapshot_root", JU64(sb->snapshot_root));
	JADD(o, "revert_seq", JU64(sb->revert_seq));
	JADD(o, "revert_cursor", JU64(sb->revert_cursor));
	JADD(o, "revert_root", JU64(sb->revert_root));
	JADD(o, "dropped_from", JU64(sb->dropped_from));
	JADD(o, "dropped_below", JU64(sb->dropped_below));
	JADD(o, "clone_root", JU64(sb->clone_root));
	JADD(o, "metadata_space_map", sm_json(&sb->metadata_sm));
	JADD(o, "data_space_map", sm_json(&sb->data_sm));
	JADD(root, "superblock", o);
	JADD(root, "journal", journal_json(d));

	if (d->held) {
		o = json_object_new_object();
		JADD(o, "block", JU64(sb->held_root));
		JADD(o, "trans_id", JU64(d->held->trans_id));
		JADD(o, "last_seq", JU64(d->held->last_seq));
		JADD(o, "data_limit", JU64(d->held->data_limit));
		JADD(o, "exception_root", JU64(d->held->exception_root));
		JADD(o, "private_root", JU64(d->held->private_root));
		JADD(o, "snapshot_root", JU64(d->held->snapshot_root));
		JADD(root, "metadata_snap", o);
	}

	if (d->snaps) {
		a = json_object_new_array();
		for (size_t i = 0; i < d->nsnaps; i++) {
			const struct shadow_snapshot *s = &d->snaps[i];
			const char *state = shadow_snap_state_name(s->state);

			o = json_object_new_object();
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
	if (d->clone_store)
		clones_json(root, d);

	o = json_object_new_object();
	JADD(o, "data_chunks", JU64(sb->nr_data_chunks));
	JADD(o, "limit", JU64(sb->data_limit));
	JADD(o, "in_use", JU64(sb->data_sm.nr_allocated));
	JADD(o, "free", JU64(sb->data_limit > sb->data_sm.nr_allocated ?
			     sb->data_limit - sb->data_sm.nr_allocated : 0));
	JADD(o, "metadata_used", JU64(sb->metadata_sm.nr_allocated));
	JADD(o, "metadata_total", JU64(sb->metadata_sm.nr_blocks));
	JADD(root, "usage", o);

	if (d->args->records) {
		if (d->maps_ok) {
			a = json_object_new_array();
			for (size_t i = 0; i < d->nmaps; i++) {
				const struct shadow_mapping *m = &d->maps[i];

				o = json_object_new_object();
				JADD(o, "origin_chunk", JU64(m->origin_chunk));
				JADD(o, "seq", JU64(m->seq));
				JADD(o, "data_chunk", JU64(m->data_chunk));
				JADD(o, "private", json_object_new_boolean(m->private));
				json_object_array_add(a, o);
			}
			JADD(root, "records", a);
		} else {
			JADD(root, "records", NULL);
			JADD(root, "records_error", json_object_new_string(d->maps_error));
		}
	}

	if (d->checked) {
		o = json_object_new_object();
		JADD(o, "consistent", json_object_new_boolean(d->check.problems == 0 &&
							      d->check.leaked == 0));
		JADD(o, "result", json_object_new_string(check_result(&d->check)));
		JADD(o, "snapshots", JU64(d->check.snapshots));
		JADD(o, "clones", JU64(d->check.clones));
		JADD(o, "exceptions", JU64(d->check.exceptions));
		JADD(o, "dead_versions", JU64(d->check.dead_versions));
		JADD(o, "private_chunks", JU64(d->check.private_chunks));
		JADD(o, "data_used", JU64(d->check.data_used));
		JADD(o, "metadata_used", JU64(d->check.metadata_used));
		JADD(o, "leaked", JU64(d->check.leaked));
		JADD(o, "leaked_data", JU64(d->check.leaked_data));
		JADD(o, "leaked_metadata", JU64(d->check.leaked_metadata));
		JADD(o, "bad_blocks", JU64(d->check.bad_blocks));
		JADD(o, "journal_pending", JU64(d->check.journal_pending));
		JADD(o, "journal_blocks", JU64(d->check.journal_blocks));
		JADD(o, "needs_check", json_object_new_boolean(d->check.needs_check));
		JADD(o, "problem_count", JU64(d->check.problems));
		JADD(o, "problems", json_object_get(d->problems));
		JADD(o, "leaks", json_object_get(d->leaks));
		JADD(root, "check", o);
	}
	return root;
}

/* What main() loaded for a clone store, freed when it returns. */
static void dump_done(struct dump *d)
{
	for (size_t i = 0; d->copied && i < d->nclones; i++)
		free(d->copied[i].runs.v);
	free(d->copied);
	free(d->clones);
}

static int collect_run(void *userdata, uint64_t first, uint64_t n)
{
	struct run *r = shadow_vec_push(userdata);

	if (!r)
		return -ENOMEM;
	*r = (struct run) { .first = first, .n = n };
	return 0;
}

/*
 * With --records: each hydrating clone's copied chunks, from its bitset.
 * Without --check a broken bitset is fatal, as the records' trees are.
 * Returns 0 or an exit code.
 */
static int load_copied(struct dump *d)
{
	struct shadow_error err = {};
	int r;

	d->copied = calloc(d->nclones ? d->nclones : 1, sizeof(*d->copied));
	if (!d->copied) {
		fprintf(stderr, "shadow-dump: Failed to read the clones of %s: %s\n",
			d->path, strerror(ENOMEM));
		return EXIT_READ;
	}
	for (size_t i = 0; i < d->nclones; i++) {
		struct clone_copied *cc = &d->copied[i];

		if (!d->clones[i].bitset_root)
			continue;
		cc->read = true;
		cc->runs.size = sizeof(struct run);
		r = shadow_store_clone_copied(d->store, &d->clones[i], collect_run,
					      &cc->runs, &cc->count, &err);
		cc->ok = r >= 0;
		if (cc->ok)
			continue;
		if (!d->args->check || r != -EBADMSG) {
			fprintf(stderr, "shadow-dump: Failed to read the bitset of clone %" PRIu64 " of %s: %s\n",
				d->clones[i].id, d->path,
				r == -EBADMSG || err.code == SHADOW_ERR_IO ? err.msg : strerror(-r));
			return r == -EBADMSG ? EXIT_CORRUPT : EXIT_READ;
		}
		snprintf(cc->error, sizeof(cc->error), "%s", err.msg);
	}
	return 0;
}

/*
 * A clone store's clone tree, and with --records what each clone
 * copied.  Without --check an unreadable tree is fatal; with it, a
 * finding.  Returns 0 or an exit code.
 */
static int load_clones(struct dump *d)
{
	struct shadow_error err = {};
	int r;

	r = shadow_store_load_clones(d->store, &d->clones, &d->nclones, &err);
	if (r < 0) {
		if (!d->args->check || r != -EBADMSG) {
			fprintf(stderr, "shadow-dump: Failed to read the clone tree of %s: %s\n",
				d->path, r == -EBADMSG || err.code == SHADOW_ERR_IO ? err.msg : strerror(-r));
			return r == -EBADMSG ? EXIT_CORRUPT : EXIT_READ;
		}
		snprintf(d->clones_error, sizeof(d->clones_error), "%s", err.msg);
		return 0;
	}
	/* An empty tree is a list too: tell it from an unreadable one. */
	if (!d->clones) {
		d->clones = calloc(1, sizeof(*d->clones));
		if (!d->clones) {
			fprintf(stderr, "shadow-dump: Failed to read the clone tree of %s: %s\n",
				d->path, strerror(ENOMEM));
			return EXIT_READ;
		}
	}
	return d->args->records ? load_copied(d) : 0;
}

int main(int argc, char *argv[])
{
	_cleanup_store_ struct shadow_store *store = NULL;
	_cleanup_free_ struct shadow_snapshot *snaps = NULL;
	_cleanup_free_ struct shadow_mapping *maps = NULL;
	_cleanup_free_ struct shadow_pending *pending = NULL;
	_cleanup_json_ json_object *problems = NULL, *leaks = NULL;
	struct shadow_error err = {};
	struct dump_args args;
	_cleanup_(dump_done) struct dump d = {};
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
	d.clone_store = d.sb->store_type == SHADOW_STORE_CLONE;

	if (args.metadata_snap) {
		r = shadow_store_use_held(store, &err);
		if (r == -ENODATA) {
			fprintf(stderr, "shadow-dump: Failed to read the metadata snapshot of %s: %s\n",
				args.store, err.msg);
			return EXIT_NO_HELD;
		}
		if (r < 0) {
			fprintf(stderr, "shadow-dump: Failed to read the metadata snapshot of %s: %s\n",
				args.store, err.code != SHADOW_ERR_NONE ? err.msg : strerror(-r));
			return r == -EBADMSG || r == -EUCLEAN || r == -EPROTONOSUPPORT ?
			       EXIT_CORRUPT : EXIT_READ;
		}
		d.held = shadow_store_held_sb(store);
	}

	if (args.diff)
		return run_diff(&args, store);

	/* Without --check an unreadable tree is fatal; with it, a finding. */
	r = shadow_store_load_snapshots(store, &snaps, &d.nsnaps, &err);
	if (r < 0) {
		if (!args.check || r != -EBADMSG) {
			fprintf(stderr, "shadow-dump: Failed to read the snapshot tree of %s: %s\n",
				args.store, r == -EBADMSG || err.code == SHADOW_ERR_IO ? err.msg : strerror(-r));
			return r == -EBADMSG ? EXIT_CORRUPT : EXIT_READ;
		}
		snprintf(d.snaps_error, sizeof(d.snaps_error), "%s", err.msg);
	}
	d.snaps = snaps;

	if (d.clone_store) {
		r = load_clones(&d);
		if (r)
			return r;
	}

	/* Blocks that fail verification end the journal; only a read fails. */
	r = shadow_store_load_journal(store, &pending, &d.npending, &d.pending_blocks, &err);
	if (r < 0) {
		fprintf(stderr, "shadow-dump: Failed to read the exception journal of %s: %s\n",
			args.store, err.code == SHADOW_ERR_IO ? err.msg : strerror(-r));
		return EXIT_READ;
	}
	d.pending = pending;

	if (args.records) {
		r = shadow_store_load_mappings(store, &maps, &d.nmaps, &err);
		if (r < 0) {
			if (!args.check || r != -EBADMSG) {
				fprintf(stderr, "shadow-dump: Failed to read the exceptions of %s: %s\n",
					args.store, r == -EBADMSG || err.code == SHADOW_ERR_IO ? err.msg : strerror(-r));
				return r == -EBADMSG ? EXIT_CORRUPT : EXIT_READ;
			}
			snprintf(d.maps_error, sizeof(d.maps_error), "%s", err.msg);
		}
		d.maps = maps;
		d.maps_ok = r >= 0;
	}

	if (args.check) {
		problems = json_object_new_array();
		leaks = json_object_new_array();
		d.problems = problems;
		d.leaks = leaks;
		r = shadow_store_check(store, on_finding, &d, &d.check);
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
	if (d.checked && d.check.leaked) {
		fprintf(stderr, "shadow-dump: Failed to check %s: %" PRIu64 " leaked blocks found (no other problem)\n",
			args.store, d.check.leaked);
		return EXIT_LEAKS;
	}
	return 0;
}
