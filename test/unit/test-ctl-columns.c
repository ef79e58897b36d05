/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl's output columns (cmd/shadowctl/ctl-columns.c): -o selection and its
 * errors, the aligned table, --noheadings and JSON, on a made-up table;
 * then the rules every real table (cmd/shadowctl/ctl-list.c) must keep.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-args.h"
#include "ctl-columns.h"
#include "ctl-list.h"
#include "shadow-catalog.h"
#include "unit.h"

#define ELEMENTSOF(x)	(sizeof(x) / sizeof((x)[0]))

struct row {
	const char *name;
	uint64_t size;
	bool ok;
	int64_t when;
	uint64_t pct;
};

static void get_name(const void *r, void *data, struct ctl_value *v)
{
	ctl_value_str(v, ((const struct row *)r)->name);
}

static void get_size(const void *r, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, ((const struct row *)r)->size);
}

static void get_ok(const void *r, void *data, struct ctl_value *v)
{
	ctl_value_bool(v, ((const struct row *)r)->ok);
}

static void get_when(const void *r, void *data, struct ctl_value *v)
{
	ctl_value_time(v, ((const struct row *)r)->when);
}

static void get_pct(const void *r, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, ((const struct row *)r)->pct);
}

static const struct ctl_column thing_columns[] = {
	{ "name", "NAME", "name", 6, 0, "a name", get_name },
	{ "size", "SIZE", "size_bytes", 6, CTL_COLUMN_RIGHT | CTL_COLUMN_KIB, "a size", get_size },
	{ "ok", "OK", "ok", 0, 0, "a flag", get_ok },
	{ "when", "WHEN", "when", 0, 0, "a time", get_when },
	{ "use%", "USE%", NULL, 0, CTL_COLUMN_RIGHT | CTL_COLUMN_PERCENT, "table only", get_pct },
};

static const struct ctl_table things = {
	.kind = "things",
	.defaults = "name,ok,size",
	.columns = thing_columns,
	.n_columns = ELEMENTSOF(thing_columns),
};

static const struct row rows[] = {
	{ "a", 4096, true, 0, 7 },
	{ NULL, 1 << 20, false, 1795000000, 100 },
	{ "long\tname\\", 0, true, -1, 0 },
};

/* The selection as "name,name", or the error. */
static const char *sel(const char *spec, unsigned int flags)
{
	static char buf[512];
	struct ctl_columns c;
	size_t off = 0;

	if (ctl_columns_select(&things, spec, flags, &c, buf, sizeof(buf)) < 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < c.n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "," : "",
					thing_columns[c.index[i]].name);
	return buf;
}

START_TEST(test_select)
{
	ck_assert_str_eq(sel(NULL, 0), "name,ok,size");
	ck_assert_str_eq(sel(NULL, CTL_SELECT_JSON), "name,size,ok,when");
	ck_assert_str_eq(sel(NULL, CTL_SELECT_ALL), "name,size,ok,when,use%");
	ck_assert_str_eq(sel(NULL, CTL_SELECT_ALL | CTL_SELECT_JSON), "name,size,ok,when");
	ck_assert_str_eq(sel("when", 0), "when");
	ck_assert_str_eq(sel("USE%,Name", 0), "use%,name");
	ck_assert_str_eq(sel("size_bytes", 0), "size");	/* a JSON field names its column */
	ck_assert_str_eq(sel("+when", 0), "name,ok,size,when");
	ck_assert_str_eq(sel("+when,size", 0), "name,ok,size,when");	/* a default once */
	ck_assert_str_eq(sel("+use%", 0), "name,ok,size,use%");
	ck_assert_str_eq(sel("+name", CTL_SELECT_JSON), "name,size,ok,when");
	ck_assert_str_eq(sel("when,name", CTL_SELECT_JSON), "when,name");
}
END_TEST

START_TEST(test_select_errors)
{
	ck_assert_str_eq(sel("bogus", 0),
			 "unknown column 'bogus' for 'list things' (columns: name, size, ok, when, use%)");
	ck_assert_str_eq(sel("name,nam", 0),
			 "unknown column 'nam' for 'list things' (columns: name, size, ok, when, use%)");
	ck_assert_str_eq(sel("+", 0), "empty column name in '+'");
	ck_assert_str_eq(sel("", 0), "empty column name in ''");
	ck_assert_str_eq(sel("name,,ok", 0), "empty column name in 'name,,ok'");
	ck_assert_str_eq(sel("name,", 0), "empty column name in 'name,'");
	ck_assert_str_eq(sel(",name", 0), "empty column name in ',name'");
	ck_assert_str_eq(sel("name,ok,NAME", 0), "column 'name' is named twice");
	ck_assert_str_eq(sel("size,size_bytes", 0), "column 'size' is named twice");
	ck_assert_str_eq(sel("+when,when", 0), "column 'when' is named twice");
	ck_assert_str_eq(sel("use%", CTL_SELECT_JSON), "column 'use%' has no JSON field");
	ck_assert_str_eq(sel("+use%", CTL_SELECT_JSON), "column 'use%' has no JSON field");
	ck_assert_str_eq(sel("name ", 0),
			 "unknown column 'name ' for 'list things' (columns: name, size, ok, when, use%)");
}
END_TEST

/* Print rows[0..n) with @spec and @flags; returns the text (static). */
static const char *render(const char *spec, unsigned int sel_flags, unsigned int out_flags,
			  size_t n)
{
	static char *text;
	struct ctl_output *o = NULL;
	struct ctl_columns c;
	char why[256];
	size_t len;
	FILE *f;

	free(text);
	text = NULL;
	ck_assert_int_eq(ctl_columns_select(&things, spec, sel_flags, &c, why, sizeof(why)), 0);
	ck_assert_int_eq(ctl_output_new(&things, &c, out_flags, &o), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(ctl_output_add(o, &rows[i], NULL), 0);
	f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ctl_output_print(o, f), 0);
	fclose(f);
	ctl_output_free(o);
	return text;
}

START_TEST(test_table)
{
	/* Minimum widths; right alignment; the last column is not padded. */
	ck_assert_str_eq(render(NULL, 0, 0, 1),
			 "NAME   OK    SIZE\n"
			 "a      yes     4K\n");
	/* A cell wider than the minimum widens its column; NULL is "-";
	 * control characters and backslashes are escaped. */
	ck_assert_str_eq(render(NULL, 0, 0, 3),
			 "NAME             OK    SIZE\n"
			 "a                yes     4K\n"
			 "-                no   1024K\n"
			 "long\\x09name\\x5c yes     0K\n");
	/* -n: the same lines without the headings, the same widths. */
	ck_assert_str_eq(render(NULL, 0, CTL_OUTPUT_NOHEADINGS, 3),
			 "a                yes     4K\n"
			 "-                no   1024K\n"
			 "long\\x09name\\x5c yes     0K\n");
	ck_assert_str_eq(render("use%,when", 0, 0, 3),
			 "USE% WHEN\n"
			 "  7% 1970-01-01T00:00:00Z\n"
			 "100% 2026-11-18T11:06:40Z\n"
			 "  0% 1969-12-31T23:59:59Z\n");
	/* A right-aligned last column is padded to the left. */
	ck_assert_str_eq(render("ok,size", 0, 0, 2),
			 "OK    SIZE\n"
			 "yes     4K\n"
			 "no   1024K\n");
	/* No rows: the headings alone, or nothing. */
	ck_assert_str_eq(render("name", 0, 0, 0), "NAME\n");
	ck_assert_str_eq(render("name", 0, CTL_OUTPUT_NOHEADINGS, 0), "");
}
END_TEST

START_TEST(test_json)
{
	/* Every JSON field, in table order, typed; NULL is null. */
	ck_assert_str_eq(render(NULL, CTL_SELECT_JSON, CTL_OUTPUT_JSON, 2),
			 "{\n"
			 "  \"things\": [\n"
			 "    {\n"
			 "      \"name\": \"a\",\n"
			 "      \"size_bytes\": 4096,\n"
			 "      \"ok\": true,\n"
			 "      \"when\": \"1970-01-01T00:00:00Z\"\n"
			 "    },\n"
			 "    {\n"
			 "      \"name\": null,\n"
			 "      \"size_bytes\": 1048576,\n"
			 "      \"ok\": false,\n"
			 "      \"when\": \"2026-11-18T11:06:40Z\"\n"
			 "    }\n"
			 "  ]\n"
			 "}\n");
	/* -o: those fields in that order; strings are not escaped the
	 * table's way but JSON's; --noheadings does not matter. */
	ck_assert_str_eq(render("ok,name", CTL_SELECT_JSON, CTL_OUTPUT_JSON | CTL_OUTPUT_NOHEADINGS,
				3),
			 "{\n"
			 "  \"things\": [\n"
			 "    {\n"
			 "      \"ok\": true,\n"
			 "      \"name\": \"a\"\n"
			 "    },\n"
			 "    {\n"
			 "      \"ok\": false,\n"
			 "      \"name\": null\n"
			 "    },\n"
			 "    {\n"
			 "      \"ok\": true,\n"
			 "      \"name\": \"long\\tname\\\\\"\n"
			 "    }\n"
			 "  ]\n"
			 "}\n");
	ck_assert_str_eq(render(NULL, CTL_SELECT_JSON, CTL_OUTPUT_JSON, 0),
			 "{\n"
			 "  \"things\": [\n"
			 "  ]\n"
			 "}\n");
}
END_TEST

/* A member beside the rows (list writers' "directory"): JSON only. */
START_TEST(test_output_member)
{
	struct ctl_output *o = NULL;
	struct ctl_columns c;
	char why[256], *text = NULL;
	size_t len;
	FILE *f;

	ck_assert_int_eq(ctl_columns_select(&things, "name", CTL_SELECT_JSON, &c, why, sizeof(why)), 0);
	ck_assert_int_eq(ctl_output_new(&things, &c, CTL_OUTPUT_JSON, &o), 0);
	ck_assert_int_eq(ctl_output_set_member(o, "directory", json_object_new_string("/etc/w.d")), 0);
	ck_assert_int_eq(ctl_output_add(o, &rows[0], NULL), 0);
	f = open_memstream(&text, &len);
	ck_assert_int_eq(ctl_output_print(o, f), 0);
	fclose(f);
	ctl_output_free(o);
	ck_assert_str_eq(text,
			 "{\n"
			 "  \"directory\": \"/etc/w.d\",\n"
			 "  \"things\": [\n"
			 "    {\n"
			 "      \"name\": \"a\"\n"
			 "    }\n"
			 "  ]\n"
			 "}\n");
	free(text);
	text = NULL;

	/* A table has no place for it. */
	ck_assert_int_eq(ctl_columns_select(&things, "name", 0, &c, why, sizeof(why)), 0);
	ck_assert_int_eq(ctl_output_new(&things, &c, CTL_OUTPUT_NOHEADINGS, &o), 0);
	ck_assert_int_eq(ctl_output_set_member(o, "directory", json_object_new_string("/x")), 0);
	ck_assert_int_eq(ctl_output_add(o, &rows[0], NULL), 0);
	f = open_memstream(&text, &len);
	ck_assert_int_eq(ctl_output_print(o, f), 0);
	fclose(f);
	ctl_output_free(o);
	ck_assert_str_eq(text, "a\n");
	free(text);
}
END_TEST

START_TEST(test_row_json)
{
	json_object *o = ctl_row_json(&things, NULL, &rows[0], NULL);

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			 "{\"name\":\"a\",\"size_bytes\":4096,\"ok\":true,"
			 "\"when\":\"1970-01-01T00:00:00Z\"}");
	json_object_put(o);
}
END_TEST

/* A table with a nested document, like list sets' writers. */
static void get_doc(const void *r, void *data, struct ctl_value *v)
{
	const struct row *row = r;
	json_object *o = row->name ? json_object_new_object() : NULL;

	if (o)
		json_object_object_add(o, "n", json_object_new_int((int)row->pct));
	ctl_value_json(v, o);
}

static const struct ctl_column doc_columns[] = {
	{ "name", "NAME", "name", 0, 0, "a name", get_name },
	{ "doc", "DOC", "doc", 0, CTL_COLUMN_JSON_ONLY, "a document", get_doc },
};

static const struct ctl_table docs = {
	.kind = "docs",
	.defaults = "name",
	.columns = doc_columns,
	.n_columns = ELEMENTSOF(doc_columns),
};

START_TEST(test_json_only)
{
	struct ctl_output *o = NULL;
	struct ctl_columns c;
	char why[256], *text = NULL;
	size_t len;
	FILE *f;

	/* Never in a table: not with -O, an error with -o. */
	ck_assert_int_eq(ctl_columns_select(&docs, NULL, CTL_SELECT_ALL, &c, why, sizeof(why)), 0);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_int_eq(ctl_columns_select(&docs, "name,doc", 0, &c, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "column 'doc' is shown with --json only");
	ck_assert_int_eq(ctl_columns_select(&docs, "+doc", 0, &c, why, sizeof(why)), -EINVAL);
	/* In JSON by default and by name, nested as it is; NULL is null. */
	ck_assert_int_eq(ctl_columns_select(&docs, "doc", CTL_SELECT_JSON, &c, why, sizeof(why)), 0);
	ck_assert_int_eq(ctl_output_new(&docs, &c, CTL_OUTPUT_JSON, &o), 0);
	ck_assert_int_eq(ctl_output_add(o, &rows[0], NULL), 0);
	ck_assert_int_eq(ctl_output_add(o, &rows[1], NULL), 0);
	f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ctl_output_print(o, f), 0);
	fclose(f);
	ctl_output_free(o);
	ck_assert_str_eq(text,
			 "{\n"
			 "  \"docs\": [\n"
			 "    {\n"
			 "      \"doc\": {\n"
			 "        \"n\": 7\n"
			 "      }\n"
			 "    },\n"
			 "    {\n"
			 "      \"doc\": null\n"
			 "    }\n"
			 "  ]\n"
			 "}\n");
	free(text);
	o = NULL;
	ck_assert_int_eq(ctl_columns_select(&docs, NULL, CTL_SELECT_JSON, &c, why, sizeof(why)), 0);
	ck_assert_uint_eq(c.n, 2);
}
END_TEST

/*
 * The real tables: defaults that parse, names and JSON fields that are
 * unique and cannot be taken for each other, headings that are the names
 * in capitals (as lsblk's), a getter and help for every column.
 */
START_TEST(test_list_tables)
{
	static const char *const kinds[] = {
		[LIST_SHADOWS] = "shadows", [LIST_SETS] = "sets", [LIST_VOLUMES] = "volumes",
		[LIST_PROVIDERS] = "providers", [LIST_STORAGE] = "storage",
		[LIST_WRITERS] = "writers",
	};

	for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
		const struct ctl_table *t = ctl_list_table((enum ctl_list)k);
		struct ctl_columns c;
		char why[512];

		ck_assert_ptr_nonnull(t);
		ck_assert_str_eq(t->kind, kinds[k]);
		ck_assert_uint_le(t->n_columns, CTL_COLUMNS_MAX);
		ck_assert_int_eq(ctl_columns_select(t, NULL, 0, &c, why, sizeof(why)), 0);
		ck_assert_uint_gt(c.n, 0);
		for (size_t i = 0; i < t->n_columns; i++) {
			const struct ctl_column *col = &t->columns[i];

			ck_assert_ptr_nonnull(col->get);
			ck_assert_ptr_nonnull(col->help);
			ck_assert_uint_eq(strlen(col->name), strlen(col->header));
			for (size_t j = 0; col->name[j]; j++)
				ck_assert_int_eq(toupper((unsigned char)col->name[j]), col->header[j]);
			ck_assert_ptr_eq(ctl_column_find(t, col->name), col);
			if (col->json)
				ck_assert_ptr_eq(ctl_column_find(t, col->json), col);
			for (size_t j = 0; j < t->n_columns; j++) {
				if (j == i)
					continue;
				ck_assert_str_ne(col->name, t->columns[j].name);
				if (t->columns[j].json)
					ck_assert_str_ne(col->name, t->columns[j].json);
				if (col->json && t->columns[j].json)
					ck_assert_str_ne(col->json, t->columns[j].json);
			}
		}
	}
	ck_assert_ptr_null(ctl_list_table((enum ctl_list)ELEMENTSOF(kinds)));
}
END_TEST

/*
 * 'list --help' names every kind of list in its synopsis (it once left
 * out writers): the synopsis is made from the tables, and each kind's
 * columns follow.
 */
START_TEST(test_list_usage)
{
	char *text = NULL, *synopsis, *end;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	ctl_list_usage(f, NULL);
	fclose(f);
	synopsis = strstr(text, " shadowctl [options] list [");
	ck_assert_ptr_nonnull(synopsis);
	end = strchr(synopsis, '\n');
	ck_assert_ptr_nonnull(end);
	*end = '\0';
	ck_assert_str_eq(synopsis,
			 " shadowctl [options] list [shadows|sets|volumes|providers|storage|writers]");
	for (size_t k = 0; ctl_list_table((enum ctl_list)k); k++)
		ck_assert_msg(strstr(synopsis, ctl_list_table((enum ctl_list)k)->kind),
			      "list --help lacks %s", ctl_list_table((enum ctl_list)k)->kind);
	free(text);

	/* One kind: its columns, and no other kind's. */
	text = NULL;
	f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	ctl_list_usage(f, "writers");
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "[shadows|sets|volumes|providers|storage|writers]"));
	ck_assert_ptr_nonnull(strstr(text, "last"));
	ck_assert_ptr_null(strstr(text, "freeze-us"));
	free(text);
}
END_TEST

/* The fields shadowctl(8) and issue 4 promise for 'list shadows --json'. */
START_TEST(test_shadows_json_fields)
{
	static const char *const fields[] = {
		"id", "set", "volume", "method", "created", "state", "device",
		"snapshot", "mountpoint", "writable", "provider",
		"target", "clone_state", "copied_chunks", "total_chunks", "origin",
	};
	const struct ctl_table *t = ctl_list_table(LIST_SHADOWS);
	struct ctl_columns c;
	char why[512];

	ck_assert_int_eq(ctl_columns_select(t, NULL, CTL_SELECT_JSON, &c, why, sizeof(why)), 0);
	ck_assert_uint_eq(c.n, ELEMENTSOF(fields));
	for (size_t i = 0; i < c.n; i++)
		ck_assert_str_eq(t->columns[c.index[i]].json, fields[i]);
}
END_TEST

/* A clone's CLONE column: its state, and how far while it hydrates. */
START_TEST(test_clone_text)
{
	char buf[32];

	ck_assert_str_eq(ctl_clone_text("hydrating", 37, 100, buf, sizeof(buf)), "hydrating 37%");
	ck_assert_str_eq(ctl_clone_text("hydrating", 0, 16384, buf, sizeof(buf)), "hydrating 0%");
	/* Rounded down: 100% is for a complete clone only. */
	ck_assert_str_eq(ctl_clone_text("hydrating", 16383, 16384, buf, sizeof(buf)), "hydrating 99%");
	ck_assert_str_eq(ctl_clone_text("hydrating", 0, 0, buf, sizeof(buf)), "hydrating 0%");
	ck_assert_str_eq(ctl_clone_text("complete", 16384, 16384, buf, sizeof(buf)), "complete");
	ck_assert_str_eq(ctl_clone_text("failed", 100, 16384, buf, sizeof(buf)), "failed");
	ck_assert_str_eq(ctl_clone_text("detached", 0, 0, buf, sizeof(buf)), "detached");
	/* Big volumes do not overflow: 2^32 - 1 chunks at most. */
	ck_assert_str_eq(ctl_clone_text("hydrating", 4294967294ULL, 4294967295ULL, buf, sizeof(buf)),
			 "hydrating 99%");
}
END_TEST

/* Rows of list shadows, @spec's columns, as a table or (@json) JSON. */
static char *render_copies(shadow_ctx *ctx, struct shadow_copy *const *copies, size_t n,
			   const char *spec, bool json)
{
	const struct ctl_table *t = ctl_list_table(LIST_SHADOWS);
	struct ctl_output *o = NULL;
	struct ctl_columns c;
	char why[256], *text = NULL;
	size_t len;
	FILE *f;

	ck_assert_int_eq(ctl_columns_select(t, spec, json ? CTL_SELECT_JSON : 0, &c, why,
					    sizeof(why)), 0);
	ck_assert_int_eq(ctl_output_new(t, &c, json ? CTL_OUTPUT_JSON : 0, &o), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(ctl_output_add(o, copies[i], ctx), 0);
	f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ctl_output_print(o, f), 0);
	fclose(f);
	ctl_output_free(o);
	return text;
}

/*
 * list shadows' clone columns with no kernel to ask: a detached clone's
 * come from the catalog, a cow copy has none.
 */
START_TEST(test_clone_columns)
{
	struct shadow_copy detached = {
		.id = 7, .snapshot = 7, .volume = (char *)"cv", .method = (char *)"clone",
		.state = (char *)"detached", .target = (char *)"/dev/vdg",
	};
	struct shadow_copy cow = {
		.id = 8, .snapshot = 8, .volume = (char *)"kv", .method = (char *)"cow",
		.state = (char *)"valid",
	};
	struct shadow_copy *copies[] = { &detached, &cow };
	shadow_ctx *ctx = NULL;
	char *text;

	ck_assert_int_eq(shadow_ctx_new("/nonexistent/state", &ctx), 0);
	text = render_copies(ctx, copies, 2, "id,state,target,clone", false);
	ck_assert_str_eq(text, "ID     STATE    TARGET   CLONE\n"
			       "7      detached /dev/vdg detached\n"
			       "8      valid    -        -\n");
	free(text);
	text = render_copies(ctx, copies, 2, "id,target,clone_state,copied_chunks,total_chunks", true);
	ck_assert_str_eq(text, "{\n"
			       "  \"shadows\": [\n"
			       "    {\n"
			       "      \"id\": 7,\n"
			       "      \"target\": \"/dev/vdg\",\n"
			       "      \"clone_state\": \"detached\",\n"
			       "      \"copied_chunks\": null,\n"
			       "      \"total_chunks\": null\n"
			       "    },\n"
			       "    {\n"
			       "      \"id\": 8,\n"
			       "      \"target\": null,\n"
			       "      \"clone_state\": null,\n"
			       "      \"copied_chunks\": null,\n"
			       "      \"total_chunks\": null\n"
			       "    }\n"
			       "  ]\n"
			       "}\n");
	free(text);
	shadow_ctx_free(ctx);
}
END_TEST

/*
 * list shadows' ORIGIN: an imported copy's host:id in a table, its origin
 * object in JSON (set null when it had none); null for a copy made here.
 * An imported copy's provider is none of this host's volumes'.
 */
START_TEST(test_origin_column)
{
	struct shadow_copy_origin there = {
		.host = (char *)"db1", .set = 4, .shadow = 9, .volume = (char *)"db",
	}, no_set = {
		.host = (char *)"backup\x01host", .shadow = 12, .volume = (char *)"web",
	};
	struct shadow_copy imported = {
		.id = 14, .snapshot = 9, .volume = (char *)"db", .method = (char *)"clone",
		.state = (char *)"detached", .target = (char *)"/dev/sdc", .origin = &there,
	}, other = {
		.id = 15, .snapshot = 12, .volume = (char *)"web", .method = (char *)"clone",
		.state = (char *)"detached", .target = (char *)"/dev/sdd", .origin = &no_set,
	}, cow = {
		.id = 8, .snapshot = 8, .volume = (char *)"kv", .method = (char *)"cow",
		.state = (char *)"valid",
	};
	struct shadow_copy *copies[] = { &imported, &other, &cow };
	shadow_ctx *ctx = NULL;
	char *text;

	ck_assert_int_eq(shadow_ctx_new("/nonexistent/state", &ctx), 0);
	text = render_copies(ctx, copies, 3, "id,volume,state,origin", false);
	ck_assert_str_eq(text, "ID     VOLUME           STATE    ORIGIN\n"
			       "14     db               detached db1:9\n"
			       "15     web              detached backup\\x01host:12\n"
			       "8      kv               valid    -\n");
	free(text);
	text = render_copies(ctx, copies, 3, "id,provider,origin", true);
	ck_assert_str_eq(text, "{\n"
			       "  \"shadows\": [\n"
			       "    {\n"
			       "      \"id\": 14,\n"
			       "      \"provider\": null,\n"
			       "      \"origin\": {\n"
			       "        \"host\": \"db1\",\n"
			       "        \"set\": 4,\n"
			       "        \"shadow\": 9,\n"
			       "        \"volume\": \"db\"\n"
			       "      }\n"
			       "    },\n"
			       "    {\n"
			       "      \"id\": 15,\n"
			       "      \"provider\": null,\n"
			       "      \"origin\": {\n"
			       "        \"host\": \"backup\\u0001host\",\n"
			       "        \"set\": null,\n"
			       "        \"shadow\": 12,\n"
			       "        \"volume\": \"web\"\n"
			       "      }\n"
			       "    },\n"
			       "    {\n"
			       "      \"id\": 8,\n"
			       "      \"provider\": null,\n"
			       "      \"origin\": null\n"
			       "    }\n"
			       "  ]\n"
			       "}\n");
	free(text);
	/* Not among the defaults: the list is wide already. */
	text = render_copies(ctx, copies, 1, NULL, false);
	ck_assert_ptr_null(strstr(text, "ORIGIN"));
	free(text);
	shadow_ctx_free(ctx);
}
END_TEST

/* A JSON value with a table text: the text in a table, the document in JSON. */
static void get_doc_text(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_json_text(v, json_tokener_parse("{ \"a\": 1 }"), row);
}

START_TEST(test_json_text)
{
	static const struct ctl_column cols[] = {
		{ "doc", "DOC", "doc", 0, 0, "a document", get_doc_text },
	};
	const struct ctl_value plain = { .type = CTL_VALUE_JSON };
	struct ctl_value v = { .type = CTL_VALUE_NULL };
	char *s;

	get_doc_text("a:1", NULL, &v);
	s = ctl_value_text(&cols[0], &v);
	ck_assert_str_eq(s, "a:1");
	free(s);
	/* Without a text, its compact JSON as before. */
	get_doc_text("x", NULL, &v);
	v.text = NULL;
	s = ctl_value_text(&cols[0], &v);
	ck_assert_str_eq(s, "{\"a\":1}");
	free(s);
	ck_assert_ptr_null(plain.text);
	/* NULL: null, and no text. */
	ctl_value_json_text(&v, NULL, "ignored");
	ck_assert_int_eq(v.type, CTL_VALUE_NULL);
	ck_assert_ptr_null(v.text);
}
END_TEST

/* shadowctl's argv, with -o, -O, -J, as ctl_parse_argv() sees it. */
static int parse(struct ctl_args *a, char *why, ...)
{
	static char *argv[24];	/* static: the parsed arguments point into it */
	int argc = 1;
	va_list ap;
	char *s;

	memset(argv, 0, sizeof(argv));
	argv[0] = (char *)"shadowctl";
	va_start(ap, why);
	while ((s = va_arg(ap, char *)) && argc < 23)
		argv[argc++] = s;
	va_end(ap);
	memset(a, 0, sizeof(*a));
	return ctl_parse_argv(argc, argv, a, why, 512);
}

/* The selected columns' names, "a,b". */
static const char *names(const struct ctl_args *a)
{
	const struct ctl_table *t = ctl_list_table(a->list);
	static char buf[512];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < a->columns.n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "," : "",
					t->columns[a->columns.index[i]].name);
	return buf;
}

START_TEST(test_argv)
{
	struct ctl_args a;
	char why[512];

	ck_assert_int_eq(parse(&a, why, "list", NULL), CTL_RUN);
	ck_assert_str_eq(names(&a), "id,set,volume,method,created,state,device");
	ck_assert_int_eq(parse(&a, why, "list", "-o", "id,volume,state", NULL), CTL_RUN);
	ck_assert_str_eq(names(&a), "id,volume,state");
	ck_assert(a.opts & OPT_OUTPUT);
	ck_assert_int_eq(parse(&a, why, "list", "shadows", "-o", "+mountpoint", NULL), CTL_RUN);
	ck_assert_str_eq(names(&a), "id,set,volume,method,created,state,device,mountpoint");
	ck_assert_int_eq(parse(&a, why, "list", "shadows", "-o", "+target,clone", NULL), CTL_RUN);
	ck_assert_str_eq(names(&a), "id,set,volume,method,created,state,device,target,clone");
	ck_assert_int_eq(parse(&a, why, "list", "-O", NULL), CTL_RUN);
	ck_assert_str_eq(names(&a), "id,set,volume,method,created,state,device,snapshot,mountpoint,"
			 "writable,provider,target,clone,clone-state,copied-chunks,total-chunks,origin");
	ck_assert_int_eq(parse(&a, why, "list", "-o", "+origin", NULL), CTL_RUN);
	ck_assert_str_eq(names(&a), "id,set,volume,method,created,state,device,origin");
	ck_assert_int_eq(parse(&a, why, "list", "-J", "-o", "id,clone", NULL), -EINVAL);
	ck_assert_str_eq(why, "column 'clone' has no JSON field");
	ck_assert_int_eq(parse(&a, why, "list", "-J", "-o", "id,clone_state,copied_chunks", NULL),
			 CTL_RUN);
	ck_assert_str_eq(names(&a), "id,clone-state,copied-chunks");
	ck_assert_int_eq(parse(&a, why, "--output=CHUNK,dm_name", "list", "volumes", NULL), CTL_RUN);
	ck_assert_str_eq(names(&a), "chunk,dm-name");
	ck_assert_int_eq(parse(&a, why, "list", "sets", "-J", NULL), CTL_RUN);
	ck_assert_str_eq(names(&a), "id,created,freeze-us,state,count,writers");
	ck_assert_int_eq(parse(&a, why, "list", "sets", "-O", NULL), CTL_RUN);
	ck_assert_str_eq(names(&a), "id,created,freeze-us,state,count");
	ck_assert_int_eq(parse(&a, why, "list", "volumes", "-J", NULL), CTL_RUN);
	ck_assert_str_eq(names(&a), "name,device,store,method,chunk,dm-name,real,enabled,state,"
			 "provider,hydrate-rate");
	ck_assert_int_eq(parse(&a, why, "list", "storage", NULL), CTL_RUN);
	ck_assert_str_eq(names(&a), "volume,store,used,size,capacity,use%,snapshots,invalid,mode");
	ck_assert_int_eq(parse(&a, why, "list", "storage", "-O", NULL), CTL_RUN);
	ck_assert_str_eq(names(&a), "volume,store,chunk,used-chunks,total-chunks,cap-chunks,used,"
			 "size,capacity,use%,snapshots,max-snapshots,invalid,mode,fold");
	ck_assert_int_eq(parse(&a, why, "list", "storage", "--output-all", "--json", NULL), CTL_RUN);
	ck_assert_str_eq(names(&a), "volume,store,chunk,used-chunks,total-chunks,cap-chunks,used,"
			 "size,capacity,snapshots,max-snapshots,invalid,mode,fold");
	ck_assert_int_eq(parse(&a, why, "-n", "list", "providers", "-ousable", NULL), CTL_RUN);
	ck_assert_str_eq(names(&a), "usable");
	ck_assert(a.noheadings);

	ck_assert_int_eq(parse(&a, why, "list", "sets", "-o", "id,volume", NULL), -EINVAL);
	ck_assert_str_eq(why, "unknown column 'volume' for 'list sets' "
			 "(columns: id, created, freeze-us, state, count, writers)");
	ck_assert_int_eq(parse(&a, why, "list", "-o", NULL), -EINVAL);
	ck_assert_str_eq(why, "option '-o' needs an argument");
	ck_assert_int_eq(parse(&a, why, "list", "-o", "id", "-O", NULL), -EINVAL);
	ck_assert_str_eq(why, "options --output and --output-all exclude each other");
	ck_assert_int_eq(parse(&a, why, "list", "storage", "-J", "-o", "volume,use%", NULL), -EINVAL);
	ck_assert_str_eq(why, "column 'use%' has no JSON field");
	ck_assert_int_eq(parse(&a, why, "create", "vol", "-o", "id", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --output is not valid for 'create'");
	ck_assert_int_eq(parse(&a, why, "delete", "1", "-O", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --output-all is not valid for 'delete'");
}
END_TEST

Suite *suite_ctl_columns(void)
{
	Suite *s = suite_create("ctl_columns");
	TCase *tc = tcase_create("columns");

	tcase_add_test(tc, test_select);
	tcase_add_test(tc, test_select_errors);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_output_member);
	tcase_add_test(tc, test_row_json);
	tcase_add_test(tc, test_json_only);
	tcase_add_test(tc, test_list_tables);
	tcase_add_test(tc, test_list_usage);
	tcase_add_test(tc, test_shadows_json_fields);
	tcase_add_test(tc, test_clone_text);
	tcase_add_test(tc, test_clone_columns);
	tcase_add_test(tc, test_origin_column);
	tcase_add_test(tc, test_json_text);
	tcase_add_test(tc, test_argv);
	suite_add_tcase(s, tc);
	return s;
}
