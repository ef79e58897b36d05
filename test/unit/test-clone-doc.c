/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The clone metadata document (lib/core/shadow-clone-doc.c,
 * shadow-clone-metadata(5)): the spans its checksums cover, its text, a
 * round trip, and each refusal of the strict decoder.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shadow-clone-doc.h"
#include "unit.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

START_TEST(test_spans)
{
	struct clone_doc_span first, last;

	clone_doc_spans(10 * GiB, &first, &last);
	ck_assert_uint_eq(first.offset, 0);
	ck_assert_uint_eq(first.length, MiB);
	ck_assert_uint_eq(last.offset, 10 * GiB - MiB);
	ck_assert_uint_eq(last.length, MiB);
	ck_assert_uint_eq(first.crc32c, 0);
	/* Not a whole MiB: the last span ends at the volume's end all the same. */
	clone_doc_spans(3 * MiB + 512, &first, &last);
	ck_assert_uint_eq(last.offset, 2 * MiB + 512);
	ck_assert_uint_eq(last.length, MiB);
	/* 1 MiB or less: one range, twice. */
	clone_doc_spans(MiB, &first, &last);
	ck_assert_uint_eq(first.length, MiB);
	ck_assert_uint_eq(last.offset, 0);
	ck_assert_uint_eq(last.length, MiB);
	clone_doc_spans(512 * 1024, &first, &last);
	ck_assert_uint_eq(first.length, 512 * 1024);
	ck_assert_uint_eq(last.offset, 0);
	ck_assert_uint_eq(last.length, 512 * 1024);
}
END_TEST

/* The logical blocks an O_DIRECT read of a span takes. */
START_TEST(test_span_window)
{
	struct clone_doc_span first, last;
	uint64_t start, len;

	clone_doc_spans(10 * GiB, &first, &last);
	clone_doc_span_window(&last, 4096, &start, &len);
	ck_assert_uint_eq(start, 10 * GiB - MiB);
	ck_assert_uint_eq(len, MiB);
	/* A volume of whole sectors on a disk of 4 KiB blocks: its last span is not aligned. */
	clone_doc_spans(3 * MiB + 512, &first, &last);
	clone_doc_span_window(&first, 4096, &start, &len);
	ck_assert_uint_eq(start, 0);
	ck_assert_uint_eq(len, MiB);
	clone_doc_span_window(&last, 4096, &start, &len);
	ck_assert_uint_eq(start, 2 * MiB);
	ck_assert_uint_eq(len, MiB + 4096);
	clone_doc_span_window(&last, 512, &start, &len);
	ck_assert_uint_eq(start, 2 * MiB + 512);
	ck_assert_uint_eq(len, MiB);
	clone_doc_spans(1536, &first, &last);
	clone_doc_span_window(&last, 4096, &start, &len);
	ck_assert_uint_eq(start, 0);
	ck_assert_uint_eq(len, 4096);
}
END_TEST

/* The document of a clone of a 10 GiB volume with a writer's record. */
static const char golden[] =
	"{\n"
	"  \"format\": \"dm-shadow-clone-metadata\",\n"
	"  \"version\": 1,\n"
	"  \"host\": \"db1\",\n"
	"  \"exported\": 1767607200,\n"
	"  \"shadow\": {\n"
	"    \"id\": 9,\n"
	"    \"snapshot\": 9,\n"
	"    \"created\": 1767600000,\n"
	"    \"method\": \"clone\",\n"
	"    \"volume\": \"db\",\n"
	"    \"volume_bytes\": 10737418240,\n"
	"    \"chunk_bytes\": 65536\n"
	"  },\n"
	"  \"set\": {\n"
	"    \"id\": 4,\n"
	"    \"created\": 1767600000,\n"
	"    \"freeze_us\": 35210,\n"
	"    \"writers\": [\n"
	"      {\n"
	"        \"name\": \"postgresql\",\n"
	"        \"metadata\": {\n"
	"          \"version\": \"15.18\"\n"
	"        },\n"
	"        \"data\": {\n"
	"          \"backup_label\": \"START WAL LOCATION: 0/2000028\"\n"
	"        },\n"
	"        \"excluded\": [\n"
	"          \"logs\"\n"
	"        ]\n"
	"      }\n"
	"    ]\n"
	"  },\n"
	"  \"data\": {\n"
	"    \"target_bytes\": 21474836480,\n"
	"    \"first\": {\n"
	"      \"offset\": 0,\n"
	"      \"length\": 1048576,\n"
	"      \"crc32c\": 3735928559\n"
	"    },\n"
	"    \"last\": {\n"
	"      \"offset\": 10736369664,\n"
	"      \"length\": 1048576,\n"
	"      \"crc32c\": 305419896\n"
	"    }\n"
	"  }\n"
	"}\n";

/* @golden's document, filled in by hand as export fills it (borrowing). */
static void golden_doc(struct clone_doc *d, struct shadow_set *s)
{
	json_object *metadata = json_tokener_parse("{ \"version\": \"15.18\" }");
	json_object *data = json_tokener_parse("{ \"backup_label\": \"START WAL LOCATION: 0/2000028\" }");
	json_object *excluded = json_tokener_parse("[ \"logs\" ]");

	*s = (struct shadow_set) { .id = 4, .created = 1767600000, .freeze_us = 35210 };
	/* The set takes references of its own. */
	ck_assert_int_eq(shadow_set_add_writer(s, "postgresql", metadata, data), 0);
	shadow_set_last_writer_excluded(s, excluded);
	json_object_put(metadata);
	json_object_put(data);
	json_object_put(excluded);
	*d = (struct clone_doc) {
		.host = (char *)"db1", .exported = 1767607200,
		.id = 9, .snapshot = 9, .created = 1767600000, .volume = (char *)"db",
		.volume_bytes = 10 * GiB, .chunk_bytes = 65536, .set = s,
		.target_bytes = 20 * GiB,
	};
	clone_doc_spans(d->volume_bytes, &d->first, &d->last);
	d->first.crc32c = 0xdeadbeef;
	d->last.crc32c = 0x12345678;
}

static void set_writers_free(struct shadow_set *s)
{
	for (size_t i = 0; i < s->n_writers; i++) {
		free(s->writers[i].name);
		json_object_put(s->writers[i].metadata);
		json_object_put(s->writers[i].data);
		json_object_put(s->writers[i].excluded);
	}
	free(s->writers);
}

START_TEST(test_encode)
{
	struct shadow_set s;
	struct clone_doc d;
	char *text = NULL;

	golden_doc(&d, &s);
	ck_assert_int_eq(clone_doc_encode(&d, &text), 0);
	ck_assert_str_eq(text, golden);
	free(text);
	/* A copy that had no set: null. */
	d.set = NULL;
	ck_assert_int_eq(clone_doc_encode(&d, &text), 0);
	ck_assert_ptr_nonnull(strstr(text, "\"set\": null,\n"));
	free(text);
	set_writers_free(&s);
}
END_TEST

START_TEST(test_round_trip)
{
	struct clone_doc d, e;
	char *text = NULL, why[256];

	ck_assert_int_eq(clone_doc_decode(golden, &d, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "");
	ck_assert_str_eq(d.host, "db1");
	ck_assert_int_eq(d.exported, 1767607200);
	ck_assert_uint_eq(d.id, 9);
	ck_assert_uint_eq(d.snapshot, 9);
	ck_assert_int_eq(d.created, 1767600000);
	ck_assert_str_eq(d.volume, "db");
	ck_assert_uint_eq(d.volume_bytes, 10 * GiB);
	ck_assert_uint_eq(d.chunk_bytes, 65536);
	ck_assert_ptr_nonnull(d.set);
	ck_assert_uint_eq(d.set->id, 4);
	ck_assert_int_eq(d.set->created, 1767600000);
	ck_assert_uint_eq(d.set->freeze_us, 35210);
	ck_assert_str_eq(d.set->state, "complete");
	ck_assert_uint_eq(d.set->n_writers, 1);
	ck_assert_str_eq(d.set->writers[0].name, "postgresql");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(d.set->writers[0].data,
									 "backup_label")),
			 "START WAL LOCATION: 0/2000028");
	ck_assert_uint_eq(json_object_array_length(d.set->writers[0].excluded), 1);
	ck_assert_uint_eq(d.target_bytes, 20 * GiB);
	ck_assert_uint_eq(d.first.offset, 0);
	ck_assert_uint_eq(d.first.length, MiB);
	ck_assert_uint_eq(d.first.crc32c, 0xdeadbeef);
	ck_assert_uint_eq(d.last.offset, 10 * GiB - MiB);
	ck_assert_uint_eq(d.last.crc32c, 0x12345678);
	/* Byte for byte again. */
	ck_assert_int_eq(clone_doc_encode(&d, &text), 0);
	ck_assert_str_eq(text, golden);
	free(text);
	clone_doc_clear(&d);
	ck_assert_ptr_null(d.host);
	ck_assert_ptr_null(d.set);

	/* No set, no writers, a small volume: both spans one range. */
	e = (struct clone_doc) {
		.host = (char *)"backup-7.example.org", .exported = 5, .id = 1, .snapshot = 1,
		.created = -1, .volume = (char *)"a=b", .volume_bytes = 4096,
		.chunk_bytes = 4096, .target_bytes = 4096,
	};
	clone_doc_spans(e.volume_bytes, &e.first, &e.last);
	e.last.crc32c = e.first.crc32c = 0xffffffff;
	ck_assert_int_eq(clone_doc_encode(&e, &text), 0);
	ck_assert_int_eq(clone_doc_decode(text, &d, why, sizeof(why)), 0);
	free(text);
	ck_assert_ptr_null(d.set);
	ck_assert_str_eq(d.volume, "a=b");
	ck_assert_int_eq(d.created, -1);
	ck_assert_uint_eq(d.last.offset, 0);
	ck_assert_uint_eq(d.last.crc32c, 0xffffffff);
	clone_doc_clear(&d);

	/* A set without writers: an empty array, kept so. */
	ck_assert_int_eq(clone_doc_decode(golden, &d, why, sizeof(why)), 0);
	set_writers_free(d.set);
	d.set->writers = NULL;
	d.set->n_writers = 0;
	ck_assert_int_eq(clone_doc_encode(&d, &text), 0);
	ck_assert_ptr_nonnull(strstr(text, "\"writers\": [\n    ]"));
	clone_doc_clear(&d);
	ck_assert_int_eq(clone_doc_decode(text, &d, why, sizeof(why)), 0);
	ck_assert_uint_eq(d.set->n_writers, 0);
	free(text);
	clone_doc_clear(&d);
}
END_TEST

/* @golden with @from (once) replaced by @to. */
static char *edit(const char *from, const char *to)
{
	const char *p = strstr(golden, from);
	char *s;

	ck_assert_msg(p != NULL, "no '%s' in the golden document", from);
	ck_assert_int_ge(asprintf(&s, "%.*s%s%s", (int)(p - golden), golden, to,
				  p + strlen(from)), 0);
	return s;
}

START_TEST(test_refused)
{
	static const struct {
		const char *from, *to;
		int r;
		const char *why;
	} cases[] = {
		/* Not JSON, or not all of it. */
		{ golden, "", -EBADMSG, "not JSON: it ends too soon" },
		{ "  }\n}\n", "  }\n", -EBADMSG, "not JSON: it ends too soon" },
		{ "  }\n}\n", "  }\n}\n{}", -EBADMSG, "not JSON: something follows the document" },
		{ "\"host\": \"db1\",", "\"host\": \"db1\"", -EBADMSG, "not JSON: " },
		/* Not this format at all. */
		{ golden, "[ 1 ]", -EMEDIUMTYPE, "not a clone metadata document: not a JSON object" },
		{ "  \"format\": \"dm-shadow-clone-metadata\",\n", "", -EMEDIUMTYPE,
		  "not a clone metadata document: no \"format\"" },
		{ "\"format\": \"dm-shadow-clone-metadata\"", "\"format\": 1", -EMEDIUMTYPE,
		  "no \"format\"" },
		{ "\"format\": \"dm-shadow-clone-metadata\"", "\"format\": \"dm-shadow-stream\"",
		  -EMEDIUMTYPE, "its format is \"dm-shadow-stream\", not \"dm-shadow-clone-metadata\"" },
		/* Another version; its members are not looked at. */
		{ "\"version\": 1,", "\"version\": 2, \"extra\": 1,", -EPROTONOSUPPORT,
		  "version 2 of the clone metadata document is not known (this reads version 1)" },
		{ "\"version\": 1,", "\"version\": \"1\",", -EBADMSG,
		  "document: \"version\" is not an integer" },
		{ "  \"version\": 1,\n", "", -EBADMSG, "document: no \"version\"" },
		/* The document's own members. */
		{ "\"version\": 1,", "\"version\": 1, \"extra\": null,", -EBADMSG,
		  "document: unknown member \"extra\"" },
		{ "  \"host\": \"db1\",\n", "", -EBADMSG, "document: no \"host\"" },
		{ "\"host\": \"db1\"", "\"host\": \"\"", -EBADMSG, "document: \"host\" is empty" },
		{ "\"host\": \"db1\"", "\"host\": null", -EBADMSG, "document: \"host\" is not a string" },
		{ "\"host\": \"db1\"", "\"host\": \"db\\u0001\"", -EBADMSG,
		  "document: \"host\" holds a control character" },
		{ "\"exported\": 1767607200", "\"exported\": \"2026\"", -EBADMSG,
		  "document: \"exported\" is not an integer" },
		/* The copy. */
		{ "\"shadow\": {", "\"shadows\": {", -EBADMSG, "document: unknown member \"shadows\"" },
		{ "\"shadow\": {\n    \"id\": 9,", "\"shadow\": {\n    \"id\": 0,", -EBADMSG,
		  "shadow: id 0" },
		{ "\"shadow\": {\n    \"id\": 9,", "\"shadow\": {\n    \"id\": -9,", -EBADMSG,
		  "shadow: \"id\" is negative" },
		{ "\"shadow\": {\n    \"id\": 9,", "\"shadow\": {\n    \"id\": 9.5,", -EBADMSG,
		  "shadow: \"id\" is not an integer" },
		{ "    \"snapshot\": 9,\n", "", -EBADMSG, "shadow: no \"snapshot\"" },
		{ "\"method\": \"clone\"", "\"method\": \"cow\"", -EBADMSG,
		  "shadow: method \"cow\" (only a detached clone is exported)" },
		{ "\"volume\": \"db\"", "\"volume\": \"d b\"", -EBADMSG,
		  "shadow: bad volume name \"d b\": character 0x20 at position 2 is not allowed" },
		{ "\"volume\": \"db\"", "\"volume\": \"-db\"", -EBADMSG, "shadow: bad volume name \"-db\"" },
		{ "\"volume_bytes\": 10737418240", "\"volume_bytes\": 10737418241", -EBADMSG,
		  "shadow: volume_bytes 10737418241 is not a whole number of sectors" },
		{ "\"volume_bytes\": 10737418240", "\"volume_bytes\": 0", -EBADMSG,
		  "shadow: volume_bytes 0 is not a whole number of sectors" },
		{ "\"chunk_bytes\": 65536", "\"chunk_bytes\": 65537", -EBADMSG,
		  "shadow: bad chunk_bytes 65537" },
		{ "\"chunk_bytes\": 65536", "\"chunk_bytes\": 2048", -EBADMSG,
		  "shadow: bad chunk_bytes 2048" },
		{ "\"chunk_bytes\": 65536", "\"chunk_bytes\": 65536, \"state\": \"detached\"", -EBADMSG,
		  "shadow: unknown member \"state\"" },
		/* json-c keeps the last of two members of one name. */
		{ "    \"chunk_bytes\": 65536\n  },\n", "    \"chunk_bytes\": 65536\n  },\n  \"shadow\": \"9\",\n",
		  -EBADMSG, "document: \"shadow\" is not an object" },
		/* Its set. */
		{ "\"set\": {", "\"sets\": {", -EBADMSG, "document: unknown member \"sets\"" },
		{ "  },\n  \"data\": {", "  },\n  \"set\": 4,\n  \"data\": {", -EBADMSG,
		  "document: \"set\" is not an object (nor null)" },
		{ "\"set\": {\n    \"id\": 4,", "\"set\": {\n    \"id\": 0,", -EBADMSG, "set: id 0" },
		{ "\"freeze_us\": 35210,", "\"freeze_us\": 35210, \"state\": \"complete\",", -EBADMSG,
		  "set: unknown member \"state\"" },
		{ "    \"freeze_us\": 35210,\n", "", -EBADMSG, "set: no \"freeze_us\"" },
		{ "\"writers\": [", "\"writer\": [", -EBADMSG, "set: unknown member \"writer\"" },
		{ "\"name\": \"postgresql\",", "", -EBADMSG, "set.writers[0]: no \"name\"" },
		{ "\"name\": \"postgresql\",", "\"name\": \"postgresql\", \"state\": \"ok\",", -EBADMSG,
		  "set.writers[0]: unknown member \"state\"" },
		{ "\"excluded\": [\n          \"logs\"", "\"excluded\": [\n          7", -EBADMSG,
		  "set.writers[0]: \"excluded\"[0] is not a string" },
		/* The disk. */
		{ "\"target_bytes\": 21474836480", "\"target_bytes\": 10737418239", -EBADMSG,
		  "data: target_bytes 10737418239 is less than the volume's 10737418240" },
		{ "\"target_bytes\": 21474836480", "\"size\": 21474836480", -EBADMSG,
		  "data: unknown member \"size\"" },
		{ "\"first\": {\n      \"offset\": 0,", "\"first\": {\n      \"offset\": 512,", -EBADMSG,
		  "data.first: 1048576 bytes at 512, where a clone of 10737418240 bytes has 1048576 at 0" },
		{ "\"offset\": 10736369664,\n      \"length\": 1048576",
		  "\"offset\": 10736369664,\n      \"length\": 4096", -EBADMSG,
		  "data.last: 4096 bytes at 10736369664, where a clone of 10737418240 bytes has "
		  "1048576 at 10736369664" },
		{ "\"crc32c\": 305419896", "\"crc32c\": 4294967296", -EBADMSG,
		  "data.last: crc32c 4294967296 is more than 32 bits" },
		{ "\"crc32c\": 305419896", "\"crc32c\": -1", -EBADMSG,
		  "data.last: \"crc32c\" is negative" },
		{ "\"crc32c\": 305419896", "\"crc32c\": 305419896, \"sha256\": \"\"", -EBADMSG,
		  "data.last: unknown member \"sha256\"" },
		{ "      \"crc32c\": 3735928559\n", "      \"crc\": 3735928559\n", -EBADMSG,
		  "data.first: unknown member \"crc\"" },
		{ "  },\n  \"data\": {", "  },\n  \"disk\": {", -EBADMSG, "document: unknown member \"disk\"" },
	};
	struct clone_doc d = { .id = 77 };
	char why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = edit(cases[i].from, cases[i].to);
		int r = clone_doc_decode(s, &d, why, sizeof(why));

		ck_assert_msg(r == cases[i].r, "case %zu: %d, not %d (%s)", i, r, cases[i].r, why);
		ck_assert_msg(strstr(why, cases[i].why), "case %zu: why '%s' lacks '%s'",
			      i, why, cases[i].why);
		/* Left untouched. */
		ck_assert_uint_eq(d.id, 77);
		ck_assert_ptr_null(d.host);
		free(s);
	}
	/* The writers an array, and there. */
	{
		const char *w = strstr(golden, "    \"writers\": ["), *end = strstr(w, "\n    ]\n") + 1;
		char *s;

		ck_assert_int_ge(asprintf(&s, "%.*s    \"writers\": { }\n%s", (int)(w - golden), golden,
					  end + strlen("    ]\n")), 0);
		ck_assert_int_eq(clone_doc_decode(s, &d, why, sizeof(why)), -EBADMSG);
		ck_assert_str_eq(why, "set: \"writers\" is not an array");
		free(s);
		ck_assert_int_ge(asprintf(&s, "%.*s%s", (int)(w - golden) - 2, golden,
					  end + strlen("    ]")), 0);
		ck_assert_int_eq(clone_doc_decode(s, &d, why, sizeof(why)), -EBADMSG);
		ck_assert_str_eq(why, "set: no \"writers\"");
		free(s);
	}
	/* A copy with no set: null is the only other "set". */
	{
		char *s = edit("\"set\": {", "\"set\": null, \"x\": {");

		ck_assert_int_eq(clone_doc_decode(s, &d, why, sizeof(why)), -EBADMSG);
		ck_assert_str_eq(why, "document: unknown member \"x\"");
		free(s);
	}
	ck_assert_int_eq(clone_doc_decode("{ \"format\": \"dm-shadow-clone-metadata\", "
					  "\"version\": 1 }", &d, why, sizeof(why)), -EBADMSG);
	ck_assert_str_eq(why, "document: no \"host\"");
	ck_assert_int_eq(clone_doc_decode("\n\n", &d, NULL, 0), -EBADMSG);
}
END_TEST

Suite *suite_clone_doc(void)
{
	Suite *s = suite_create("clone_doc");
	TCase *tc = tcase_create("clone_doc");

	tcase_add_test(tc, test_spans);
	tcase_add_test(tc, test_span_window);
	tcase_add_test(tc, test_encode);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_refused);
	suite_add_tcase(s, tc);
	return s;
}
