/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Transportable clones' entry points (lib/core/shadow-transport.c) on a
 * real catalog in a temporary state directory, with no kernel and no
 * block device: what export-metadata and import-metadata refuse before a
 * disk is read, and that a refusal changes nothing.  Reading disks is
 * the guest test's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shadow-clone-doc.h"
#include "libshadow.h"
#include "unit.h"

struct state {
	char dir[64];
	char file[96];		/* a regular file: no block device */
	char *catalog;		/* catalog.json as written */
};

/*
 * Three imported copies, no volume: 11 on a disk that is not there, 12
 * on a regular file, 13 imported without its volume's size.
 */
static void state_new(struct state *st)
{
	char path[128];
	FILE *f;

	snprintf(st->dir, sizeof(st->dir), "/tmp/shadow-transport-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(st->dir));
	snprintf(st->file, sizeof(st->file), "%s/disk", st->dir);
	f = fopen(st->file, "we");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_ge(asprintf(&st->catalog,
		"{ \"version\": 1, \"next_id\": 14, \"next_set\": 3, \"volumes\": [ ],\n"
		"  \"sets\": [ { \"id\": 2, \"created\": 1767600000, \"freeze_us\": 5, \"state\": \"complete\" } ],\n"
		"  \"shadows\": [\n"
		"    { \"id\": 11, \"snapshot\": 9, \"set\": 2, \"volume\": \"db\", \"method\": \"clone\",\n"
		"      \"created\": 1767600000, \"state\": \"detached\", \"device\": null,\n"
		"      \"mountpoint\": null, \"writable\": false, \"target\": \"/nonexistent/disk-11\",\n"
		"      \"origin\": { \"host\": \"db1\", \"set\": 4, \"shadow\": 9, \"volume\": \"db\",\n"
		"                  \"volume_bytes\": 1048576, \"chunk_bytes\": 65536 } },\n"
		"    { \"id\": 12, \"snapshot\": 10, \"set\": 0, \"volume\": \"db\", \"method\": \"clone\",\n"
		"      \"created\": 1767600000, \"state\": \"detached\", \"device\": null,\n"
		"      \"mountpoint\": null, \"writable\": false, \"target\": \"%s\",\n"
		"      \"origin\": { \"host\": \"db1\", \"set\": 0, \"shadow\": 10, \"volume\": \"db\",\n"
		"                  \"volume_bytes\": 1048576, \"chunk_bytes\": 65536 } },\n"
		"    { \"id\": 13, \"snapshot\": 11, \"set\": 0, \"volume\": \"web\", \"method\": \"clone\",\n"
		"      \"created\": 1767600000, \"state\": \"detached\", \"device\": null,\n"
		"      \"mountpoint\": null, \"writable\": false, \"target\": \"/nonexistent/disk-13\",\n"
		"      \"origin\": { \"host\": \"web1\", \"set\": 0, \"shadow\": 11, \"volume\": \"web\" } } ] }\n",
		st->file), 0);
	snprintf(path, sizeof(path), "%s/catalog.json", st->dir);
	f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(st->catalog, f), 0);
	fclose(f);
}

/* The catalog file is as state_new() wrote it: nothing was saved. */
static void state_unchanged(const struct state *st)
{
	char path[128], *text = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/catalog.json", st->dir);
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(getdelim(&text, &len, '\0', f), 0);
	fclose(f);
	ck_assert_str_eq(text, st->catalog);
	free(text);
}

static void state_free(struct state *st)
{
	static const char *const names[] = { "disk", "catalog.json", "lock", ".catalog.json.tmp" };
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", st->dir, names[i]);
		unlink(path);
	}
	rmdir(st->dir);
	free(st->catalog);
}

static shadow_ctx *open_ctx(const struct state *st, unsigned int flags)
{
	shadow_ctx *ctx = NULL;

	ck_assert_int_eq(shadow_ctx_new(st->dir, &ctx), 0);
	ck_assert_int_eq(shadow_ctx_open(ctx, flags), 0);
	return ctx;
}

/* A valid document: shadow 9 of db1, a 1 MiB volume. */
static char *a_document(void)
{
	struct clone_doc d = {
		.host = (char *)"db1", .exported = 1767607200, .id = 9, .snapshot = 9,
		.created = 1767600000, .volume = (char *)"db", .volume_bytes = 1 << 20,
		.chunk_bytes = 65536, .target_bytes = 1 << 20,
	};
	char *text = NULL;

	clone_doc_spans(d.volume_bytes, &d.first, &d.last);
	ck_assert_int_eq(clone_doc_encode(&d, &text), 0);
	return text;
}

START_TEST(test_export_refused)
{
	struct state st;
	shadow_ctx *ctx;
	char *json = (char *)"untouched", want[256];

	state_new(&st);
	for (int ro = 0; ro < 2; ro++) {
		/* Export only reads: a read-only context will do. */
		ctx = open_ctx(&st, ro ? SHADOW_OPEN_READONLY : 0);
		ck_assert_int_eq(shadow_copy_export_metadata(ctx, 99, &json), -ENOENT);
		ck_assert_str_eq(shadow_ctx_error(ctx), "export the metadata of shadow 99: no such shadow copy");
		ck_assert_int_eq(shadow_copy_export_metadata(ctx, 11, &json), -ENOENT);
		ck_assert_str_eq(shadow_ctx_error(ctx), "export the metadata of shadow 11: its target "
				 "/nonexistent/disk-11 is not there");
		ck_assert_int_eq(shadow_copy_export_metadata(ctx, 12, &json), -ENOTBLK);
		snprintf(want, sizeof(want), "export the metadata of shadow 12: open its target %s", st.file);
		ck_assert_str_eq(shadow_ctx_error(ctx), want);
		ck_assert_int_eq(shadow_copy_export_metadata(ctx, 13, &json), -ENODATA);
		ck_assert_str_eq(shadow_ctx_error(ctx), "export the metadata of shadow 13: the size of its "
				 "volume web (not recorded when it was imported)");
		ck_assert_int_eq(shadow_copy_export_metadata(ctx, 11, NULL), -EINVAL);
		ck_assert_str_eq(shadow_ctx_error(ctx), "export the metadata of shadow 11: nowhere to put it");
		ck_assert_str_eq(json, "untouched");
		shadow_ctx_free(ctx);
	}
	state_unchanged(&st);
	state_free(&st);
}
END_TEST

START_TEST(test_import_refused)
{
	struct state st;
	shadow_ctx *ctx;
	shadow_copy *c = (shadow_copy *)&st;
	char *doc = a_document(), want[256];

	state_new(&st);
	ctx = open_ctx(&st, 0);
	/* The document first: nothing is looked at on a bad one. */
	ck_assert_int_eq(shadow_copy_import_metadata(ctx, "{ }", "/nonexistent/dev", &c), -EMEDIUMTYPE);
	ck_assert_str_eq(shadow_ctx_error(ctx), "import clone metadata: not a clone metadata document: "
			 "no \"format\"");
	ck_assert_int_eq(shadow_copy_import_metadata(ctx, "{ \"format\": \"dm-shadow-clone-metadata\", "
						     "\"version\": 7 }", st.file, &c), -EPROTONOSUPPORT);
	ck_assert_str_eq(shadow_ctx_error(ctx), "import clone metadata: version 7 of the clone metadata "
			 "document is not known (this reads version 1)");
	ck_assert_int_eq(shadow_copy_import_metadata(ctx, "{ \"format\": \"dm-shadow-clone-metadata\", "
						     "\"version\": 1 }", st.file, &c), -EBADMSG);
	ck_assert_str_eq(shadow_ctx_error(ctx), "import clone metadata: document: no \"host\"");
	/* Then the device: there, a block device. */
	ck_assert_int_eq(shadow_copy_import_metadata(ctx, doc, "/nonexistent/dev", &c), -ENOENT);
	ck_assert_str_eq(shadow_ctx_error(ctx), "import the metadata of shadow 9 of db1: open "
			 "/nonexistent/dev");
	ck_assert_int_eq(shadow_copy_import_metadata(ctx, doc, st.file, &c), -ENOTBLK);
	snprintf(want, sizeof(want), "import the metadata of shadow 9 of db1: %s is not a block device",
		 st.file);
	ck_assert_str_eq(shadow_ctx_error(ctx), want);
	ck_assert_int_eq(shadow_copy_import_metadata(ctx, doc, "/dev/null", &c), -ENOTBLK);
	/* Arguments. */
	ck_assert_int_eq(shadow_copy_import_metadata(ctx, NULL, st.file, &c), -EINVAL);
	ck_assert_str_eq(shadow_ctx_error(ctx), "import clone metadata: no document given");
	ck_assert_int_eq(shadow_copy_import_metadata(ctx, doc, "", &c), -EINVAL);
	ck_assert_str_eq(shadow_ctx_error(ctx), "import clone metadata: no device given");
	ck_assert_ptr_eq(c, (shadow_copy *)&st);
	ck_assert_uint_eq(shadow_ctx_copies(ctx, &(shadow_copy *const *) { NULL }), 3);
	ck_assert_uint_eq(shadow_ctx_sets(ctx, &(shadow_set *const *) { NULL }), 1);
	shadow_ctx_free(ctx);
	/* A read-only context changes nothing: refused at once. */
	ctx = open_ctx(&st, SHADOW_OPEN_READONLY);
	ck_assert_int_eq(shadow_copy_import_metadata(ctx, doc, "/nonexistent/dev", &c), -EROFS);
	ck_assert_str_eq(shadow_ctx_error(ctx), "import clone metadata: the context is open read-only");
	shadow_ctx_free(ctx);
	state_unchanged(&st);
	state_free(&st);
	free(doc);
}
END_TEST

/* An imported copy says where it comes from; others are from here. */
START_TEST(test_origin)
{
	struct state st;
	shadow_ctx *ctx;
	const char *host = NULL, *volume = NULL;
	uint64_t set = 77, shadow = 77;

	state_new(&st);
	ctx = open_ctx(&st, SHADOW_OPEN_READONLY);
	ck_assert_int_eq(shadow_copy_origin(shadow_ctx_find_copy(ctx, 11), &host, &set, &shadow,
					    &volume), 1);
	ck_assert_str_eq(host, "db1");
	ck_assert_uint_eq(set, 4);
	ck_assert_uint_eq(shadow, 9);
	ck_assert_str_eq(volume, "db");
	/* Its set here has a new id; its set there is the origin's. */
	ck_assert_uint_eq(shadow_copy_set(shadow_ctx_find_copy(ctx, 11)), 2);
	ck_assert_int_eq(shadow_copy_origin(shadow_ctx_find_copy(ctx, 12), NULL, &set, NULL, NULL), 1);
	ck_assert_uint_eq(set, 0);
	ck_assert_int_eq(shadow_copy_origin(NULL, &host, NULL, NULL, NULL), -EINVAL);
	shadow_ctx_free(ctx);
	state_free(&st);
}
END_TEST

Suite *suite_transport(void)
{
	Suite *s = suite_create("transport");
	TCase *tc = tcase_create("transport");

	tcase_add_test(tc, test_export_refused);
	tcase_add_test(tc, test_import_refused);
	tcase_add_test(tc, test_origin);
	suite_add_tcase(s, tc);
	return s;
}
