/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Column selection and output for shadowctl's lists (ctl-columns.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ctl-columns.h"
#include "ctl-invalid.h"

/* ------------------------------------------------------------------------
 * Selection
 */

static bool name_is(const char *s, const char *name, size_t len)
{
	return s && strlen(s) == len && strncasecmp(s, name, len) == 0;
}

/* The index of the column called name[0..len), or -1. */
static int find_column(const struct ctl_table *t, const char *name, size_t len)
{
	for (size_t i = 0; i < t->n_columns; i++)
		if (name_is(t->columns[i].name, name, len))
			return (int)i;
	for (size_t i = 0; i < t->n_columns; i++)
		if (name_is(t->columns[i].json, name, len))
			return (int)i;
	return -1;
}

const struct ctl_column *ctl_column_find(const struct ctl_table *t, const char *name)
{
	int i = find_column(t, name, strlen(name));

	return i < 0 ? NULL : &t->columns[i];
}

static bool selected(const struct ctl_columns *sel, unsigned int i)
{
	for (size_t k = 0; k < sel->n; k++)
		if (sel->index[k] == i)
			return true;
	return false;
}

/* "id, set, volume": the valid names, for an error message. */
static void column_names(const struct ctl_table *t, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->n_columns && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
					t->columns[i].name);
}

/*
 * Append the columns of the comma-separated @list to @sel.  A column
 * already in @sel (a default, before a '+' list) is not added again; one
 * named twice in @list is refused.  @spec is what the user wrote, for
 * messages.
 */
static int add_columns(const struct ctl_table *t, const char *list, const char *spec,
		       bool json, struct ctl_columns *sel, char *why, size_t why_len)
{
	uint64_t named = 0;	/* bit i: column i is in @list */
	const char *p = list;

	for (;;) {
		size_t len = strcspn(p, ",");
		int i = find_column(t, p, len);

		if (len == 0)
			return ctl_invalid(why, why_len, "empty column name in '%s'", spec);
		if (i < 0) {
			char names[512];

			column_names(t, names, sizeof(names));
			return ctl_invalid(why, why_len, "unknown column '%.*s' for 'list %s' (columns: %s)",
				   (int)len, p, t->kind, names);
		}
		if (json && !t->columns[i].json)
			return ctl_invalid(why, why_len, "column '%s' has no JSON field", t->columns[i].name);
		if (!json && (t->columns[i].flags & CTL_COLUMN_JSON_ONLY))
			return ctl_invalid(why, why_len, "column '%s' is shown with --json only",
				   t->columns[i].name);
		if (named & (1ULL << i))
			return ctl_invalid(why, why_len, "column '%s' is named twice", t->columns[i].name);
		named |= 1ULL << i;
		if (!selected(sel, (unsigned int)i)) {
			if (sel->n >= CTL_COLUMNS_MAX)	/* cannot happen: tables are smaller */
				return ctl_invalid(why, why_len, "too many columns");
			sel->index[sel->n++] = (unsigned char)i;
		}
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

static bool column_shown(const struct ctl_column *c, bool json)
{
	return json ? c->json != NULL : !(c->flags & CTL_COLUMN_JSON_ONLY);
}

static void add_all(const struct ctl_table *t, bool json, struct ctl_columns *sel)
{
	for (size_t i = 0; i < t->n_columns && sel->n < CTL_COLUMNS_MAX; i++)
		if (column_shown(&t->columns[i], json))
			sel->index[sel->n++] = (unsigned char)i;
}

int ctl_columns_select(const struct ctl_table *t, const char *spec,
		       unsigned int flags, struct ctl_columns *ret,
		       char *why, size_t why_len)
{
	struct ctl_columns sel = { .n = 0 };
	bool json = flags & CTL_SELECT_JSON;
	const char *list = spec;
	int r;

	if (flags & CTL_SELECT_ALL) {
		add_all(t, json, &sel);
		*ret = sel;
		return 0;
	}
	if (!spec || spec[0] == '+') {
		if (json)
			add_all(t, json, &sel);
		else if (add_columns(t, t->defaults, t->defaults, false, &sel, why, why_len) < 0)
			return ctl_invalid(why, why_len, "internal error: bad default columns for 'list %s'",
				   t->kind);
		if (!spec) {
			*ret = sel;
			return 0;
		}
		list++;
	}
	r = add_columns(t, list, spec, json, &sel, why, why_len);
	if (r < 0)
		return r;
	*ret = sel;
	return 0;
}

void ctl_columns_usage(const struct ctl_table *t, FILE *out)
{
	fprintf(out, "Columns of 'list %s' (default: %s):\n", t->kind, t->defaults);
	for (size_t i = 0; i < t->n_columns; i++)
		fprintf(out, " %-14s %s\n", t->columns[i].name, t->columns[i].help);
}

/* ------------------------------------------------------------------------
 * Values
 */

void ctl_iso_time(int64_t t, char buf[CTL_TIME_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, 32, "%" PRId64, t);
}

/*
 * A copy of @s with control characters and backslashes as \xNN, so a
 * name cannot break a table's lines or send escape sequences to a
 * terminal (lsblk does the same).
 */
static char *escape(const char *s)
{
	char *buf = malloc(strlen(s) * 4 + 1), *p = buf;

	if (!buf)
		return NULL;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f || ch == '\\')
			p += sprintf(p, "\\x%02x", ch);
		else
			*p++ = (char)ch;
	}
	*p = '\0';
	return buf;
}

char *ctl_value_text(const struct ctl_column *c, const struct ctl_value *v)
{
	char buf[32], *s = NULL;
	int r = 0;

	switch (v->type) {
	case CTL_VALUE_NULL:
		return strdup("-");
	case CTL_VALUE_STRING:
		return escape(v->str);
	case CTL_VALUE_BOOL:
		return strdup(v->boolean ? "yes" : "no");
	case CTL_VALUE_TIME:
		ctl_iso_time(v->time, buf);
		return strdup(buf);
	case CTL_VALUE_U64:
		if (c->flags & CTL_COLUMN_KIB)
			r = asprintf(&s, "%" PRIu64 "K", v->u64 >> 10);
		else if (c->flags & CTL_COLUMN_PERCENT)
			r = asprintf(&s, "%" PRIu64 "%%", v->u64);
		else
			r = asprintf(&s, "%" PRIu64, v->u64);
		return r < 0 ? NULL : s;
	case CTL_VALUE_JSON:
		if (v->text)
			s = escape(v->text);
		else
			s = strdup(json_object_to_json_string_ext(v->json, JSON_C_TO_STRING_PLAIN));
		json_object_put(v->json);
		return s;
	}
	return NULL;
}

/* A new JSON value for @v (NULL for CTL_VALUE_NULL: JSON's null). */
static json_object *value_json(const struct ctl_value *v, bool *ret_oom)
{
	json_object *o = NULL;
	char buf[32];

	switch (v->type) {
	case CTL_VALUE_NULL:
		return NULL;
	case CTL_VALUE_STRING:
		o = json_object_new_string(v->str);
		break;
	case CTL_VALUE_BOOL:
		o = json_object_new_boolean(v->boolean);
		break;
	case CTL_VALUE_TIME:
		ctl_iso_time(v->time, buf);
		o = json_object_new_string(buf);
		break;
	case CTL_VALUE_U64:
		o = json_object_new_uint64(v->u64);
		break;
	case CTL_VALUE_JSON:
		o = v->json;
		break;
	}
	if (!o)
		*ret_oom = true;
	return o;
}

json_object *ctl_row_json(const struct ctl_table *t, const struct ctl_columns *cols,
			  const void *row, void *data)
{
	struct ctl_columns all = { .n = 0 };
	json_object *o = json_object_new_object();
	bool oom = false;

	if (!o)
		return NULL;
	if (!cols) {
		add_all(t, true, &all);
		cols = &all;
	}
	for (size_t k = 0; k < cols->n; k++) {
		const struct ctl_column *c = &t->columns[cols->index[k]];
		struct ctl_value v = { .type = CTL_VALUE_NULL };
		json_object *j;

		if (!c->json)
			continue;
		c->get(row, data, &v);
		j = value_json(&v, &oom);
		if (json_object_object_add(o, c->json, j) < 0) {
			json_object_put(j);
			oom = true;
		}
	}
	if (oom) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* ------------------------------------------------------------------------
 * Output
 */

struct ctl_output {
	const struct ctl_table *table;
	struct ctl_columns cols;
	unsigned int flags;
	json_object *rows;	/* JSON: the array */
	json_object *head;	/* JSON: members before the array, or NULL */
	char **cells;		/* a table: n_rows * cols.n strings */
	size_t n_rows, allocated;
};

int ctl_output_new(const struct ctl_table *t, const struct ctl_columns *cols,
		   unsigned int flags, struct ctl_output **ret)
{
	struct ctl_output *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	o->table = t;
	o->cols = *cols;
	o->flags = flags;
	if (flags & CTL_OUTPUT_JSON) {
		o->rows = json_object_new_array();
		if (!o->rows) {
			free(o);
			return -ENOMEM;
		}
	}
	*ret = o;
	return 0;
}

struct ctl_output *ctl_output_free(struct ctl_output *o)
{
	if (!o)
		return NULL;
	for (size_t i = 0; i < o->n_rows * o->cols.n; i++)
		free(o->cells[i]);
	free(o->cells);
	json_object_put(o->rows);
	json_object_put(o->head);
	free(o);
	return NULL;
}

int ctl_output_set_member(struct ctl_output *o, const char *key, json_object *value)
{
	if (!(o->flags & CTL_OUTPUT_JSON)) {
		json_object_put(value);
		return 0;
	}
	if (!o->head && !(o->head = json_object_new_object())) {
		json_object_put(value);
		return -ENOMEM;
	}
	if (json_object_object_add(o->head, key, value) < 0) {
		json_object_put(value);
		return -ENOMEM;
	}
	return 0;
}

static int add_cells(struct ctl_output *o, const void *row, void *data)
{
	size_t n = o->cols.n;
	char **cells;

	if (o->n_rows == o->allocated) {
		size_t more = o->allocated ? o->allocated * 2 : 16;

		cells = reallocarray(o->cells, more * n + 1, sizeof(char *));
		if (!cells)
			return -ENOMEM;
		o->cells = cells;
		o->allocated = more;
	}
	cells = o->cells + o->n_rows * n;
	for (size_t k = 0; k < n; k++) {
		const struct ctl_column *c = &o->table->columns[o->cols.index[k]];
		struct ctl_value v = { .type = CTL_VALUE_NULL };

		c->get(row, data, &v);
		cells[k] = ctl_value_text(c, &v);
		if (!cells[k]) {
			while (k > 0)
				free(cells[--k]);
			return -ENOMEM;
		}
	}
	o->n_rows++;
	return 0;
}

int ctl_output_add(struct ctl_output *o, const void *row, void *data)
{
	json_object *j;

	if (!(o->flags & CTL_OUTPUT_JSON))
		return add_cells(o, row, data);
	j = ctl_row_json(o->table, &o->cols, row, data);
	if (!j)
		return -ENOMEM;
	if (json_object_array_add(o->rows, j) < 0) {
		json_object_put(j);
		return -ENOMEM;
	}
	return 0;
}

void ctl_print_json(json_object *o, FILE *out)
{
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_SPACED |
					     JSON_C_TO_STRING_NOSLASHESCAPE), out);
	fputc('\n', out);
}

/* One line: columns one space apart; the last one left-aligned is not padded. */
static void print_line(const struct ctl_output *o, const size_t *widths,
		       const char *const *cells, FILE *out)
{
	for (size_t k = 0; k < o->cols.n; k++) {
		const struct ctl_column *c = &o->table->columns[o->cols.index[k]];
		bool last = k + 1 == o->cols.n;

		if (k)
			fputc(' ', out);
		if (c->flags & CTL_COLUMN_RIGHT)
			fprintf(out, "%*s", (int)widths[k], cells[k]);
		else if (last)
			fputs(cells[k], out);
		else
			fprintf(out, "%-*s", (int)widths[k], cells[k]);
	}
	fputc('\n', out);
}

/*
 * A column is as wide as the widest of its minimum, its heading and its
 * cells (the heading counts with --noheadings too, so that -n output is
 * the same lines without the first).
 */
static void column_widths(const struct ctl_output *o, size_t *widths)
{
	for (size_t k = 0; k < o->cols.n; k++) {
		const struct ctl_column *c = &o->table->columns[o->cols.index[k]];

		widths[k] = c->width;
		if (strlen(c->header) > widths[k])
			widths[k] = strlen(c->header);
		for (size_t i = 0; i < o->n_rows; i++) {
			size_t len = strlen(o->cells[i * o->cols.n + k]);

			if (len > widths[k])
				widths[k] = len;
		}
	}
}

int ctl_output_print(const struct ctl_output *o, FILE *out)
{
	const char *headers[CTL_COLUMNS_MAX];
	size_t widths[CTL_COLUMNS_MAX];

	if (o->flags & CTL_OUTPUT_JSON) {
		json_object *doc = json_object_new_object();

		if (!doc)
			return -ENOMEM;
		if (o->head) {
			json_object_object_foreach(o->head, key, value) {
				if (json_object_object_add(doc, key, json_object_get(value)) < 0) {
					json_object_put(value);
					json_object_put(doc);
					return -ENOMEM;
				}
			}
		}
		if (json_object_object_add(doc, o->table->kind, json_object_get(o->rows)) < 0) {
			json_object_put(o->rows);
			json_object_put(doc);
			return -ENOMEM;
		}
		ctl_print_json(doc, out);
		json_object_put(doc);
		return 0;
	}
	if (o->cols.n == 0)
		return 0;
	column_widths(o, widths);
	if (!(o->flags & CTL_OUTPUT_NOHEADINGS)) {
		for (size_t k = 0; k < o->cols.n; k++)
			headers[k] = o->table->columns[o->cols.index[k]].header;
		print_line(o, widths, headers, out);
	}
	for (size_t i = 0; i < o->n_rows; i++)
		print_line(o, widths, (const char *const *)o->cells + i * o->cols.n, out);
	return 0;
}

const char *ctl_clone_text(const char *state, uint64_t copied, uint64_t total,
			   char *buf, size_t size)
{
	if (strcmp(state, "hydrating") == 0)
		snprintf(buf, size, "hydrating %" PRIu64 "%%", total ? copied * 100 / total : 0);
	else
		snprintf(buf, size, "%s", state);
	return buf;
}
