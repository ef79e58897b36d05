/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl's writers: see ctl-writers.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl-writers.h"

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* A JSON text from the library as a JSON value (null when absent). */
static json_object *jdoc(const char *text)
{
	return text ? json_tokener_parse(text) : NULL;
}

static void iso_time(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t) {
		snprintf(buf, 32, "-");
		return;
	}
	if (!gmtime_r(&tt, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, 32, "%" PRId64, t);
}

static const char *dash(const char *s)
{
	return s ? s : "-";
}

static json_object *writer_json(const shadow_writer *w)
{
	json_object *o = json_object_new_object();
	char when[32];

	iso_time(shadow_writer_last_time(w), when);
	json_object_object_add(o, "name", jstr(shadow_writer_name(w)));
	json_object_object_add(o, "path", jstr(shadow_writer_path(w)));
	json_object_object_add(o, "state", jstr(shadow_writer_state(w)));
	json_object_object_add(o, "reason", jstr(shadow_writer_reason(w)));
	json_object_object_add(o, "last_state", jstr(shadow_writer_last_state(w)));
	json_object_object_add(o, "last_event", jstr(shadow_writer_last_event(w)));
	json_object_object_add(o, "last_message", jstr(shadow_writer_last_message(w)));
	json_object_object_add(o, "last_time", shadow_writer_last_time(w) ? jstr(when) : NULL);
	return o;
}

int ctl_list_writers(shadow_ctx *ctx, const struct ctl_args *a)
{
	shadow_writer *const *w;
	size_t n;
	int r;

	r = shadow_ctx_writers(ctx, &w, &n);
	if (r < 0)
		return r;
	if (a->json) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();

		json_object_object_add(o, "directory", jstr(shadow_ctx_writers_dir(ctx)));
		json_object_object_add(o, "writers", arr);
		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, writer_json(w[i]));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_SPACED |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return 0;
	}
	if (!a->noheadings)
		printf("%-16s %-8s %-8s %-14s %-20s %s\n", "NAME", "STATE", "LAST", "EVENT",
		       "TIME", "MESSAGE");
	for (size_t i = 0; i < n; i++) {
		const char *msg = shadow_writer_reason(w[i]);
		char when[32];

		if (!msg)
			msg = shadow_writer_last_message(w[i]);
		iso_time(shadow_writer_last_time(w[i]), when);
		printf("%-16s %-8s %-8s %-14s %-20s %s\n", shadow_writer_name(w[i]),
		       shadow_writer_state(w[i]), dash(shadow_writer_last_state(w[i])),
		       dash(shadow_writer_last_event(w[i])), when, dash(msg));
	}
	return 0;
}

static void opts_freep(shadow_create_opts **o)
{
	shadow_create_opts_free(*o);
}

int ctl_create_opts(const struct ctl_args *a, shadow_create_opts **ret,
		    char *why, size_t why_len)
{
	__attribute__((cleanup(opts_freep))) shadow_create_opts *o = NULL;
	int r;

	r = shadow_create_opts_new(&o);
	if (r < 0)
		return r;
	if ((r = shadow_create_opts_set_commit_timeout(o, a->timeout_us)) < 0 ||
	    (r = shadow_create_opts_set_writer_timeout(o, a->writer_timeout_us)) < 0 ||
	    (r = shadow_create_opts_set_retries(o, a->retries)) < 0 ||
	    (r = shadow_create_opts_set_no_writers(o, a->opts & OPT_NO_WRITERS)) < 0) {
		snprintf(why, why_len, "set the create options");
		return r;
	}
	for (size_t i = 0; i < a->n_writers; i++) {
		r = shadow_create_opts_add_writer(o, a->writers[i]);
		if (r < 0) {
			snprintf(why, why_len, "use writer '%s'", a->writers[i]);
			return r;
		}
	}
	for (size_t i = 0; i < a->n_components; i++) {
		r = shadow_create_opts_add_component(o, a->components[i]);
		if (r < 0) {
			snprintf(why, why_len, "use component '%s'", a->components[i]);
			return r;
		}
	}
	*ret = o;
	o = NULL;
	return 0;
}

json_object *ctl_set_writers_json(const shadow_set *s)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < shadow_set_writers(s); i++) {
		json_object *w = json_object_new_object();
		const char *data = shadow_set_writer_data(s, i);

		json_object_object_add(w, "name", jstr(shadow_set_writer_name(s, i)));
		json_object_object_add(w, "metadata", jdoc(shadow_set_writer_metadata(s, i)));
		if (data)
			json_object_object_add(w, "data", jdoc(data));
		json_object_array_add(arr, w);
	}
	return arr;
}

void ctl_print_set_writers(const shadow_set *s)
{
	for (size_t i = 0; i < shadow_set_writers(s); i++) {
		json_object *m = jdoc(shadow_set_writer_metadata(s, i)), *app = NULL;

		if (m)
			json_object_object_get_ex(m, "application", &app);
		printf("  writer %s: %s%s\n", shadow_set_writer_name(s, i),
		       app ? json_object_get_string(app) : "-",
		       shadow_set_writer_data(s, i) ? " (with data)" : "");
		json_object_put(m);
	}
}
