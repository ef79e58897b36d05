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
	for (size_t i = 0; i < a->n_excluded; i++) {
		r = shadow_create_opts_exclude_component(o, a->excluded[i]);
		if (r < 0) {
			snprintf(why, why_len, "exclude component '%s'", a->excluded[i]);
			return r;
		}
	}
	for (size_t i = 0; i < a->n_targets; i++) {
		r = shadow_create_opts_add_target(o, a->targets[i].volume, a->targets[i].device);
		if (r < 0) {
			snprintf(why, why_len, "use target '%s=%s'", a->targets[i].volume,
				 a->targets[i].device);
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
		if (shadow_set_writer_excluded(s, i))
			json_object_object_add(w, "excluded", jdoc(shadow_set_writer_excluded(s, i)));
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
