/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Output columns for shadowctl's lists, the way lsblk and findmnt do them:
 * one table per kind of row names each column (its -o name), its heading,
 * its JSON field, its width and alignment, and a getter.  The table text,
 * -o/--output selection, --output-all, --noheadings and --json are all
 * driven by that one table, so they cannot drift apart.
 *
 * Adding a list kind: write a getter per column and a struct ctl_table
 * (ctl-list.c has five), select columns with ctl_columns_select() and
 * print rows through a struct ctl_output.
 *
 * No libshadow here: this is pure formatting, unit-tested with made-up
 * tables (test/unit/test-ctl-columns.c).
 */
#ifndef SHADOW_CTL_COLUMNS_H
#define SHADOW_CTL_COLUMNS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What a getter returns; the column's flags say how a table shows it. */
enum ctl_value_type {
	CTL_VALUE_NULL,		/* absent: "-" in a table, null in JSON */
	CTL_VALUE_STRING,
	CTL_VALUE_U64,
	CTL_VALUE_BOOL,		/* "yes"/"no"; true/false */
	CTL_VALUE_TIME,		/* seconds since the epoch: ISO 8601 UTC in both */
	CTL_VALUE_JSON,		/* a nested document, for a CTL_COLUMN_JSON_ONLY column */
};

struct ctl_value {
	enum ctl_value_type type;
	union {
		const char *str;	/* owned by the row, copied at once */
		uint64_t u64;
		bool boolean;
		int64_t time;
		json_object *json;	/* a reference the output takes over */
	};
	/* CTL_VALUE_JSON: what a table shows for it (NULL: its compact JSON) */
	const char *text;
};

/* A string, or CTL_VALUE_NULL for NULL. */
static inline void ctl_value_str(struct ctl_value *v, const char *s)
{
	v->type = s ? CTL_VALUE_STRING : CTL_VALUE_NULL;
	v->str = s;
}

static inline void ctl_value_u64(struct ctl_value *v, uint64_t u)
{
	v->type = CTL_VALUE_U64;
	v->u64 = u;
}

static inline void ctl_value_bool(struct ctl_value *v, bool b)
{
	v->type = CTL_VALUE_BOOL;
	v->boolean = b;
}

static inline void ctl_value_time(struct ctl_value *v, int64_t t)
{
	v->type = CTL_VALUE_TIME;
	v->time = t;
}

/* A nested document (NULL: JSON's null); the output takes @j's reference. */
static inline void ctl_value_json(struct ctl_value *v, json_object *j)
{
	v->type = j ? CTL_VALUE_JSON : CTL_VALUE_NULL;
	v->json = j;
	v->text = NULL;
}

/*
 * A nested document in JSON that a table shows as @text (a column that is
 * not CTL_COLUMN_JSON_ONLY: "host:7" for {"host": ..., "shadow": 7}).
 * @text is read after the getter returns: not on its stack.
 */
static inline void ctl_value_json_text(struct ctl_value *v, json_object *j, const char *text)
{
	ctl_value_json(v, j);
	v->text = j ? text : NULL;
}

enum {
	CTL_COLUMN_RIGHT = 1 << 0,	/* right-aligned in a table */
	CTL_COLUMN_KIB = 1 << 1,	/* a byte count, shown in a table as "<KiB>K" */
	CTL_COLUMN_PERCENT = 1 << 2,	/* a number shown in a table as "<n>%" */
	CTL_COLUMN_JSON_ONLY = 1 << 3,	/* a nested document: --json only */
};

struct ctl_column {
	const char *name;	/* for -o (matched without case): "freeze-us" */
	const char *header;	/* "FREEZE-US" */
	const char *json;	/* JSON field; NULL: table only */
	unsigned int width;	/* minimum width in a table */
	unsigned int flags;	/* CTL_COLUMN_* */
	const char *help;	/* one line for --help */
	void (*get)(const void *row, void *data, struct ctl_value *ret);
};

struct ctl_table {
	const char *kind;	/* "shadows": list's argument, the JSON array's key */
	const char *defaults;	/* a table's columns without -o, in -o syntax */
	const struct ctl_column *columns;	/* in JSON field order */
	size_t n_columns;
};

/* A selection: indexes into a table's columns, in output order. */
#define CTL_COLUMNS_MAX 32

struct ctl_columns {
	unsigned char index[CTL_COLUMNS_MAX];
	size_t n;
};

enum {
	CTL_SELECT_ALL = 1 << 0,	/* --output-all */
	CTL_SELECT_JSON = 1 << 1,	/* --json: the defaults are every JSON field */
};

/*
 * Columns from @spec, -o's argument (NULL: not given): "a,b" those, in
 * that order; "+a,b" the defaults and then those (a default named again
 * is shown once).  Names match without case, and a column may also be
 * named by its JSON field.  Defaults: @t->defaults for a table, every
 * column with a JSON field (in table order) for JSON.  CTL_SELECT_ALL:
 * every column (with a JSON field, for JSON).  Returns 0, or -EINVAL with
 * a reason in @why: an unknown column (naming the valid ones), an empty
 * name, a column named twice, a table-only column for JSON, a JSON-only
 * column for a table.
 */
int ctl_columns_select(const struct ctl_table *t, const char *spec,
		       unsigned int flags, struct ctl_columns *ret,
		       char *why, size_t why_len);

/* The column called @name (or with that JSON field), or NULL. */
const struct ctl_column *ctl_column_find(const struct ctl_table *t, const char *name);

/* The defaults and every column's name and help, for --help. */
void ctl_columns_usage(const struct ctl_table *t, FILE *out);

/*
 * The fields of @cols (NULL: every JSON field) of one row, as a JSON
 * object; NULL when out of memory.
 */
json_object *ctl_row_json(const struct ctl_table *t, const struct ctl_columns *cols,
			  const void *row, void *data);

/*
 * The text a table shows for @v in column @c: malloc'ed, or NULL (ENOMEM).
 * A CTL_VALUE_JSON is released and shown as its text, or else as its
 * compact JSON text.
 */
char *ctl_value_text(const struct ctl_column *c, const struct ctl_value *v);

/* -------------------------------------------------------------------------
 * Output: add rows, then print them as an aligned table or as JSON,
 * {"<kind>": [ {...}, ... ]}.
 */
enum {
	CTL_OUTPUT_JSON = 1 << 0,
	CTL_OUTPUT_NOHEADINGS = 1 << 1,
};

struct ctl_output;

int ctl_output_new(const struct ctl_table *t, const struct ctl_columns *cols,
		   unsigned int flags, struct ctl_output **ret);
struct ctl_output *ctl_output_free(struct ctl_output *o);
/* Read the row now, through the getters (@data is passed to them). */
int ctl_output_add(struct ctl_output *o, const void *row, void *data);
int ctl_output_print(const struct ctl_output *o, FILE *out);
/*
 * A member of the JSON document beside the rows' array, printed before it
 * ({"directory": ..., "writers": [...]}); ignored for a table.  Takes
 * @value's reference (NULL: null).
 */
int ctl_output_set_member(struct ctl_output *o, const char *key, json_object *value);

/* Print a JSON document the way every shadowctl command does. */
void ctl_print_json(json_object *o, FILE *out);

/* @t as "2026-01-05T10:00:00Z" (UTC), or the number if out of range. */
#define CTL_TIME_LEN 32
void ctl_iso_time(int64_t t, char buf[CTL_TIME_LEN]);

/*
 * list shadows' CLONE column: "hydrating 37%" (rounded down, so 100%
 * only once complete), "complete", "failed", "detached".  Writes @buf and
 * returns it.
 */
const char *ctl_clone_text(const char *state, uint64_t copied, uint64_t total,
			   char *buf, size_t size);

#endif
