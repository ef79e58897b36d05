/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The catalog document: encode, decode, atomic save.  See shadow-catalog.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "shadow-catalog.h"
#include "shadow-format.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
#define _cleanup_json_ _cleanup_(json_object_putp)

void shadow_volume_free(struct shadow_volume *v)
{
	if (!v)
		return;
	free(v->name);
	free(v->device);
	free(v->store);
	free(v->method);
	free(v->dm_name);
	free(v->real_name);
	free(v->provider);
	free(v);
}

void shadow_set_free(struct shadow_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_writers; i++) {
		free(s->writers[i].name);
		json_object_put(s->writers[i].metadata);
		json_object_put(s->writers[i].data);
		json_object_put(s->writers[i].excluded);
	}
	free(s->writers);
	free(s->state);
	free(s);
}

void shadow_writer_record_free(struct shadow_writer_record *w)
{
	if (!w)
		return;
	free(w->name);
	free(w->path);
	free(w->state);
	free(w->event);
	free(w->message);
	free(w);
}

void shadow_copy_origin_free(struct shadow_copy_origin *o)
{
	if (!o)
		return;
	free(o->host);
	free(o->volume);
	free(o);
}

void shadow_copy_free(struct shadow_copy *s)
{
	if (!s)
		return;
	free(s->volume);
	free(s->method);
	free(s->state);
	free(s->device);
	free(s->mountpoint);
	free(s->target);
	shadow_copy_origin_free(s->origin);
	free(s);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct shadow_volume *, shadow_volume_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct shadow_set *, shadow_set_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct shadow_copy *, shadow_copy_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct shadow_copy_origin *, shadow_copy_origin_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct shadow_writer_record *, shadow_writer_record_free);

void shadow_catalog_clear(struct shadow_catalog *c)
{
	for (size_t i = 0; i < c->n_volumes; i++)
		shadow_volume_free(c->volumes[i]);
	for (size_t i = 0; i < c->n_sets; i++)
		shadow_set_free(c->sets[i]);
	for (size_t i = 0; i < c->n_copies; i++)
		shadow_copy_free(c->copies[i]);
	for (size_t i = 0; i < c->n_writers; i++)
		shadow_writer_record_free(c->writers[i]);
	free(c->volumes);
	free(c->sets);
	free(c->copies);
	free(c->writers);
	*c = (struct shadow_catalog) { .next_id = 1, .next_set = 1 };
}

static int append(void ***v, size_t *n, void *p)
{
	void **t = realloc(*v, (*n + 1) * sizeof(**v));

	if (!t)
		return -ENOMEM;
	t[(*n)++] = p;
	*v = t;
	return 0;
}

static void drop(void **v, size_t *n, void *p)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i] == p) {
			memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(*v));
			(*n)--;
			return;
		}
}

int shadow_catalog_add_volume(struct shadow_catalog *c, struct shadow_volume *v)
{
	return append((void ***)&c->volumes, &c->n_volumes, v);
}

int shadow_catalog_add_set(struct shadow_catalog *c, struct shadow_set *s)
{
	int r = append((void ***)&c->sets, &c->n_sets, s);

	if (r == 0 && s->id >= c->next_set)
		c->next_set = s->id + 1;
	return r;
}

int shadow_catalog_add_copy(struct shadow_catalog *c, struct shadow_copy *s)
{
	int r = append((void ***)&c->copies, &c->n_copies, s);

	if (r == 0 && s->id >= c->next_id)
		c->next_id = s->id + 1;
	/* An imported copy's snapshot id is another host's: no store here has it. */
	if (r == 0 && !s->origin && s->snapshot >= c->next_id)
		c->next_id = s->snapshot + 1;
	return r;
}

void shadow_catalog_remove_volume(struct shadow_catalog *c, struct shadow_volume *v)
{
	drop((void **)c->volumes, &c->n_volumes, v);
	shadow_volume_free(v);
}

void shadow_catalog_remove_set(struct shadow_catalog *c, struct shadow_set *s)
{
	drop((void **)c->sets, &c->n_sets, s);
	shadow_set_free(s);
}

void shadow_catalog_remove_copy(struct shadow_catalog *c, struct shadow_copy *s)
{
	drop((void **)c->copies, &c->n_copies, s);
	shadow_copy_free(s);
}

int shadow_set_add_writer(struct shadow_set *s, const char *name,
			  struct json_object *metadata, struct json_object *data)
{
	struct shadow_set_writer *t;
	char *n = strdup(name);

	if (!n)
		return -ENOMEM;
	t = realloc(s->writers, (s->n_writers + 1) * sizeof(*t));
	if (!t) {
		free(n);
		return -ENOMEM;
	}
	t[s->n_writers++] = (struct shadow_set_writer) {
		.name = n,
		.metadata = metadata ? json_object_get(metadata) : NULL,
		.data = data ? json_object_get(data) : NULL,
	};
	s->writers = t;
	return 0;
}

void shadow_set_last_writer_excluded(struct shadow_set *s, struct json_object *excluded)
{
	struct shadow_set_writer *w = &s->writers[s->n_writers - 1];

	json_object_put(w->excluded);
	w->excluded = excluded ? json_object_get(excluded) : NULL;
}

struct shadow_writer_record *shadow_catalog_writer(const struct shadow_catalog *c,
						   const char *name)
{
	for (size_t i = 0; i < c->n_writers; i++)
		if (strcmp(c->writers[i]->name, name) == 0)
			return c->writers[i];
	return NULL;
}

static int dup_or_null(const char *s, char **ret)
{
	*ret = NULL;
	if (s && !(*ret = strdup(s)))
		return -ENOMEM;
	return 0;
}

int shadow_catalog_record_writer(struct shadow_catalog *c, const char *name,
				 const char *path, const char *state,
				 const char *event, const char *message,
				 int64_t time)
{
	_cleanup_(shadow_writer_record_freep) struct shadow_writer_record *w = NULL;
	struct shadow_writer_record *old = shadow_catalog_writer(c, name);
	int r;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->time = time;
	if (dup_or_null(name, &w->name) < 0 || dup_or_null(path, &w->path) < 0 ||
	    dup_or_null(state, &w->state) < 0 || dup_or_null(event, &w->event) < 0 ||
	    dup_or_null(message, &w->message) < 0)
		return -ENOMEM;
	if (old) {
		/* Keep the directory's order: replace in place. */
		for (size_t i = 0; i < c->n_writers; i++)
			if (c->writers[i] == old)
				c->writers[i] = TAKE_PTR(w);
		shadow_writer_record_free(old);
		return 0;
	}
	r = append((void ***)&c->writers, &c->n_writers, w);
	if (r < 0)
		return r;
	TAKE_PTR(w);
	return 0;
}

struct shadow_volume *shadow_catalog_volume(const struct shadow_catalog *c, const char *name)
{
	for (size_t i = 0; i < c->n_volumes; i++)
		if (strcmp(c->volumes[i]->name, name) == 0)
			return c->volumes[i];
	return NULL;
}

struct shadow_set *shadow_catalog_set(const struct shadow_catalog *c, uint64_t id)
{
	for (size_t i = 0; i < c->n_sets; i++)
		if (c->sets[i]->id == id)
			return c->sets[i];
	return NULL;
}

struct shadow_copy *shadow_catalog_copy(const struct shadow_catalog *c, uint64_t id)
{
	for (size_t i = 0; i < c->n_copies; i++)
		if (c->copies[i]->id == id)
			return c->copies[i];
	return NULL;
}

bool shadow_copy_is_clone(const struct shadow_copy *c)
{
	return strcmp(c->method, "clone") == 0;
}

bool shadow_copy_detached(const struct shadow_copy *c)
{
	return strcmp(c->state, "detached") == 0;
}

bool shadow_copy_in_store(const struct shadow_copy *c, const char *volume)
{
	return !c->origin && !shadow_copy_detached(c) && strcmp(c->volume, volume) == 0;
}

bool shadow_copy_older(const struct shadow_copy *a, const struct shadow_copy *b)
{
	return a->created < b->created ||
	       (a->created == b->created && a->snapshot < b->snapshot);
}

/* ------------------------------------------------------------------------
 * Encoding
 */

int shadow_json_add(json_object *o, const char *key, json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static int add_str(json_object *o, const char *key, const char *s)
{
	if (!s)
		return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
	return shadow_json_add(o, key, str_or_null(s));
}

static json_object *encode_volume(const void *item)
{
	const struct shadow_volume *v = item;
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o ||
	    add_str(o, "name", v->name) < 0 ||
	    add_str(o, "device", v->device) < 0 ||
	    add_str(o, "store", v->store) < 0 ||
	    add_str(o, "method", v->method) < 0 ||
	    shadow_json_add(o, "chunk_sectors", json_object_new_int64(v->chunk_sectors)) < 0 ||
	    add_str(o, "dm_name", v->dm_name) < 0 ||
	    add_str(o, "real_name", v->real_name) < 0 ||
	    shadow_json_add(o, "enabled", json_object_new_int64(v->enabled)) < 0 ||
	    add_str(o, "provider", v->provider) < 0 ||
	    (v->has_hydrate_rate &&
	     shadow_json_add(o, "hydrate_rate", json_object_new_int64(v->hydrate_rate)) < 0))
		return NULL;
	return TAKE_PTR(o);
}

static json_object *encode_set_writer(const struct shadow_set_writer *w)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o ||
	    add_str(o, "name", w->name) < 0 ||
	    (w->metadata ? shadow_json_add(o, "metadata", json_object_get(w->metadata))
			 : add_str(o, "metadata", NULL)) < 0 ||
	    (w->data && shadow_json_add(o, "data", json_object_get(w->data)) < 0) ||
	    (w->excluded && shadow_json_add(o, "excluded", json_object_get(w->excluded)) < 0))
		return NULL;
	return TAKE_PTR(o);
}

json_object *shadow_set_writers_encode(const struct shadow_set *s)
{
	_cleanup_json_ json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < s->n_writers; i++) {
		json_object *w = encode_set_writer(&s->writers[i]);

		if (!w || json_object_array_add(a, w) < 0) {
			json_object_put(w);
			return NULL;
		}
	}
	return TAKE_PTR(a);
}

static json_object *encode_set(const void *item)
{
	const struct shadow_set *s = item;
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o ||
	    shadow_json_add(o, "id", json_object_new_uint64(s->id)) < 0 ||
	    shadow_json_add(o, "created", json_object_new_int64(s->created)) < 0 ||
	    shadow_json_add(o, "freeze_us", json_object_new_uint64(s->freeze_us)) < 0 ||
	    add_str(o, "state", s->state) < 0)
		return NULL;
	/* Sets made without writers look as they always did. */
	if (s->n_writers && shadow_json_add(o, "writers", shadow_set_writers_encode(s)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_object *encode_origin(const struct shadow_copy_origin *g)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o ||
	    add_str(o, "host", g->host) < 0 ||
	    shadow_json_add(o, "set", json_object_new_uint64(g->set)) < 0 ||
	    shadow_json_add(o, "shadow", json_object_new_uint64(g->shadow)) < 0 ||
	    add_str(o, "volume", g->volume) < 0 ||
	    (g->volume_bytes &&
	     shadow_json_add(o, "volume_bytes", json_object_new_uint64(g->volume_bytes)) < 0) ||
	    (g->chunk_bytes &&
	     shadow_json_add(o, "chunk_bytes", json_object_new_uint64(g->chunk_bytes)) < 0))
		return NULL;
	return TAKE_PTR(o);
}

/* Copies that are not clones look as they always did. */
static json_object *encode_copy(const void *item)
{
	const struct shadow_copy *s = item;
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o ||
	    shadow_json_add(o, "id", json_object_new_uint64(s->id)) < 0 ||
	    shadow_json_add(o, "snapshot", json_object_new_uint64(s->snapshot)) < 0 ||
	    shadow_json_add(o, "set", json_object_new_uint64(s->set)) < 0 ||
	    add_str(o, "volume", s->volume) < 0 ||
	    add_str(o, "method", s->method) < 0 ||
	    shadow_json_add(o, "created", json_object_new_int64(s->created)) < 0 ||
	    add_str(o, "state", s->state) < 0 ||
	    add_str(o, "device", s->device) < 0 ||
	    add_str(o, "mountpoint", s->mountpoint) < 0 ||
	    shadow_json_add(o, "writable", json_object_new_boolean(s->writable)) < 0 ||
	    (s->target && add_str(o, "target", s->target) < 0) ||
	    (s->origin && shadow_json_add(o, "origin", encode_origin(s->origin)) < 0))
		return NULL;
	return TAKE_PTR(o);
}

static json_object *encode_writer(const void *item)
{
	const struct shadow_writer_record *w = item;
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o ||
	    add_str(o, "name", w->name) < 0 ||
	    add_str(o, "path", w->path) < 0 ||
	    add_str(o, "state", w->state) < 0 ||
	    add_str(o, "event", w->event) < 0 ||
	    add_str(o, "message", w->message) < 0 ||
	    shadow_json_add(o, "time", json_object_new_int64(w->time)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

/* Add @key to @o: an array of @n items, each encoded by @encode. */
static int add_array(json_object *o, const char *key, void *const *items,
		     size_t n, json_object *(*encode)(const void *item))
{
	json_object *a = json_object_new_array();

	if (shadow_json_add(o, key, a) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *e = encode(items[i]);

		if (!e || json_object_array_add(a, e) < 0) {
			json_object_put(e);
			return -ENOMEM;
		}
	}
	return 0;
}

int shadow_catalog_encode(const struct shadow_catalog *c, char **ret)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	const char *text;
	char *s;

	if (!o ||
	    shadow_json_add(o, "version", json_object_new_int(SHADOW_CATALOG_VERSION)) < 0 ||
	    shadow_json_add(o, "next_id", json_object_new_uint64(c->next_id)) < 0 ||
	    shadow_json_add(o, "next_set", json_object_new_uint64(c->next_set)) < 0)
		return -ENOMEM;

	if (add_array(o, "volumes", (void *const *)c->volumes, c->n_volumes,
		      encode_volume) < 0 ||
	    add_array(o, "sets", (void *const *)c->sets, c->n_sets,
		      encode_set) < 0 ||
	    add_array(o, "shadows", (void *const *)c->copies, c->n_copies,
		      encode_copy) < 0 ||
	    add_array(o, "writers", (void *const *)c->writers, c->n_writers,
		      encode_writer) < 0)
		return -ENOMEM;
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_SPACED);
	if (!text)
		return -ENOMEM;
	if (asprintf(&s, "%s\n", text) < 0)
		return -ENOMEM;
	*ret = s;
	return 0;
}

/* ------------------------------------------------------------------------
 * Decoding: every field checked; the first problem is reported in @why.
 */

struct decoder {
	char *why;
	size_t size;
};

_printf_(2, 3)
static int bad(struct decoder *d, const char *fmt, ...)
{
	va_list ap;

	if (d->why && d->size) {
		va_start(ap, fmt);
		vsnprintf(d->why, d->size, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static int get_field(struct decoder *d, json_object *o, const char *what,
		     const char *key, json_type type, bool nullable,
		     json_object **ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return bad(d, "%s: no \"%s\"", what, key);
	if (!v && nullable) {
		*ret = NULL;
		return 0;
	}
	if (!json_object_is_type(v, type))
		return bad(d, "%s: \"%s\" has the wrong type", what, key);
	*ret = v;
	return 0;
}

static int get_u64(struct decoder *d, json_object *o, const char *what,
		   const char *key, uint64_t *ret)
{
	json_object *v;
	int64_t i;
	int r;

	r = get_field(d, o, what, key, json_type_int, false, &v);
	if (r < 0)
		return r;
	/* json-c keeps numbers above INT64_MAX as unsigned. */
	i = json_object_get_int64(v);
	if (i < 0)
		return bad(d, "%s: \"%s\" is negative", what, key);
	*ret = json_object_get_uint64(v);
	return 0;
}

static int get_i64(struct decoder *d, json_object *o, const char *what,
		   const char *key, int64_t *ret)
{
	json_object *v = NULL;
	int r;

	r = get_field(d, o, what, key, json_type_int, false, &v);
	if (r < 0)
		return r;
	*ret = json_object_get_int64(v);
	return 0;
}

static int get_str(struct decoder *d, json_object *o, const char *what,
		   const char *key, bool nullable, char **ret)
{
	json_object *v;
	char *s;
	int r;

	r = get_field(d, o, what, key, json_type_string, nullable, &v);
	if (r < 0)
		return r;
	if (!v) {
		*ret = NULL;
		return 0;
	}
	if (json_object_get_string_len(v) == 0)
		return bad(d, "%s: \"%s\" is empty", what, key);
	s = strdup(json_object_get_string(v));
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static bool one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* "provider": absent in catalogs older than providers, which were dm-shadow's. */
static int get_provider(struct decoder *d, json_object *o, const char *what, char **ret)
{
	static const char *const providers[] = { "dm-shadow", "dm-snapshot", NULL };
	char *s;
	int r;

	if (!json_object_object_get_ex(o, "provider", NULL))
		s = strdup("dm-shadow");
	else if ((r = get_str(d, o, what, "provider", false, &s)) < 0)
		return r;
	if (!s)
		return -ENOMEM;
	if (!one_of(s, providers)) {
		r = bad(d, "%s: unknown provider \"%s\"", what, s);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* A clone volume's optional "hydrate_rate" (MiB/s), a table feature of clone stores only. */
static int decode_hydrate_rate(struct decoder *d, json_object *o, const char *what,
			       struct shadow_volume *v)
{
	uint64_t rate;
	int r;

	if (!json_object_object_get_ex(o, "hydrate_rate", NULL))
		return 0;
	r = get_u64(d, o, what, "hydrate_rate", &rate);
	if (r < 0)
		return r;
	if (rate > UINT32_MAX)
		return bad(d, "%s: hydrate_rate %" PRIu64 " is too large", what, rate);
	if (strcmp(v->method, "clone") != 0)
		return bad(d, "%s: hydrate_rate on a %s volume (only clone volumes have one)",
			   what, v->method);
	v->hydrate_rate = (uint32_t)rate;
	v->has_hydrate_rate = true;
	return 0;
}

static int decode_volume(struct decoder *d, json_object *o, size_t i,
			 struct shadow_volume **ret)
{
	_cleanup_(shadow_volume_freep) struct shadow_volume *v = NULL;
	char what[32];
	uint64_t chunk;
	int r;

	snprintf(what, sizeof(what), "volumes[%zu]", i);
	if (!json_object_is_type(o, json_type_object))
		return bad(d, "%s is not an object", what);
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if ((r = get_str(d, o, what, "name", false, &v->name)) < 0 ||
	    (r = get_str(d, o, what, "device", false, &v->device)) < 0 ||
	    (r = get_str(d, o, what, "store", false, &v->store)) < 0 ||
	    (r = get_str(d, o, what, "method", false, &v->method)) < 0 ||
	    (r = get_u64(d, o, what, "chunk_sectors", &chunk)) < 0 ||
	    (r = get_str(d, o, what, "dm_name", false, &v->dm_name)) < 0 ||
	    (r = get_str(d, o, what, "real_name", true, &v->real_name)) < 0 ||
	    (r = get_i64(d, o, what, "enabled", &v->enabled)) < 0 ||
	    (r = get_provider(d, o, what, &v->provider)) < 0)
		return r;
	if (!shadow_chunk_sectors_valid(chunk))
		return bad(d, "%s: bad chunk_sectors %" PRIu64, what, chunk);
	v->chunk_sectors = (uint32_t)chunk;
	r = decode_hydrate_rate(d, o, what, v);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	return 0;
}

/*
 * An optional "excluded": an array of component names.
 */
static int decode_excluded(struct decoder *d, json_object *w, const char *what,
			   json_object **ret)
{
	json_object *x;

	*ret = NULL;
	if (!json_object_object_get_ex(w, "excluded", &x) || !x)
		return 0;
	if (!json_object_is_type(x, json_type_array))
		return bad(d, "%s: \"excluded\" has the wrong type", what);
	for (size_t j = 0; j < json_object_array_length(x); j++)
		if (!json_object_is_type(json_object_array_get_idx(x, j), json_type_string))
			return bad(d, "%s: \"excluded\"[%zu] is not a string", what, j);
	*ret = x;
	return 0;
}

/* A set's writers, array @a: [ { "name", "metadata", "data" (optional), "excluded" (optional) } ]. */
static int decode_writer_array(struct decoder *d, json_object *a, const char *set,
			       struct shadow_set *s)
{
	char what[64];
	int r;

	if (!json_object_is_type(a, json_type_array))
		return bad(d, "%s: \"writers\" has the wrong type", set);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *w = json_object_array_get_idx(a, i), *m, *data = NULL, *x;
		_cleanup_free_ char *name = NULL;

		snprintf(what, sizeof(what), "%s.writers[%zu]", set, i);
		if (!json_object_is_type(w, json_type_object))
			return bad(d, "%s is not an object", what);
		if ((r = get_str(d, w, what, "name", false, &name)) < 0 ||
		    (r = get_field(d, w, what, "metadata", json_type_object, true, &m)) < 0)
			return r;
		if (json_object_object_get_ex(w, "data", &data) && data &&
		    !json_object_is_type(data, json_type_object))
			return bad(d, "%s: \"data\" has the wrong type", what);
		r = decode_excluded(d, w, what, &x);
		if (r < 0)
			return r;
		for (size_t j = 0; j < s->n_writers; j++)
			if (strcmp(s->writers[j].name, name) == 0)
				return bad(d, "%s: writer \"%s\" appears twice", set, name);
		r = shadow_set_add_writer(s, name, m, data);
		if (r < 0)
			return r;
		shadow_set_last_writer_excluded(s, x);
	}
	return 0;
}

/* A set's optional "writers". */
static int decode_set_writers(struct decoder *d, json_object *o, const char *set,
			      struct shadow_set *s)
{
	json_object *a;

	if (!json_object_object_get_ex(o, "writers", &a))
		return 0;
	return decode_writer_array(d, a, set, s);
}

int shadow_set_writers_decode(json_object *a, const char *what, struct shadow_set *s,
			      char *why, size_t why_size)
{
	struct decoder d = { .why = why, .size = why_size };

	return decode_writer_array(&d, a, what, s);
}

static int decode_set(struct decoder *d, json_object *o, size_t i,
		      struct shadow_set **ret)
{
	static const char *const states[] = { "creating", "complete", NULL };
	_cleanup_(shadow_set_freep) struct shadow_set *s = NULL;
	char what[32];
	int r;

	snprintf(what, sizeof(what), "sets[%zu]", i);
	if (!json_object_is_type(o, json_type_object))
		return bad(d, "%s is not an object", what);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if ((r = get_u64(d, o, what, "id", &s->id)) < 0 ||
	    (r = get_i64(d, o, what, "created", &s->created)) < 0 ||
	    (r = get_u64(d, o, what, "freeze_us", &s->freeze_us)) < 0 ||
	    (r = get_str(d, o, what, "state", false, &s->state)) < 0)
		return r;
	if (s->id == 0)
		return bad(d, "%s: id 0", what);
	if (!one_of(s->state, states))
		return bad(d, "%s: unknown state \"%s\"", what, s->state);
	r = decode_set_writers(d, o, what, s);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

/* An optional string member: absent or null is NULL. */
static int get_optional_str(struct decoder *d, json_object *o, const char *what,
			    const char *key, char **ret)
{
	*ret = NULL;
	if (!json_object_object_get_ex(o, key, NULL))
		return 0;
	return get_str(d, o, what, key, true, ret);
}

/*
 * An origin's optional "volume_bytes" and "chunk_bytes": its volume's
 * size (whole sectors) and chunk size there, which this catalog has no
 * volume to ask.
 */
static int decode_origin_sizes(struct decoder *d, json_object *x, const char *what,
			       struct shadow_copy_origin *g)
{
	uint64_t chunk = 0;
	int r;

	if (json_object_object_get_ex(x, "volume_bytes", NULL)) {
		r = get_u64(d, x, what, "volume_bytes", &g->volume_bytes);
		if (r < 0)
			return r;
		if (g->volume_bytes == 0 || g->volume_bytes % 512)
			return bad(d, "%s: volume_bytes %" PRIu64 " is not a whole number of sectors",
				   what, g->volume_bytes);
	}
	if (json_object_object_get_ex(x, "chunk_bytes", NULL)) {
		r = get_u64(d, x, what, "chunk_bytes", &chunk);
		if (r < 0)
			return r;
		if (chunk % 512 || !shadow_chunk_sectors_valid(chunk / 512))
			return bad(d, "%s: bad chunk_bytes %" PRIu64, what, chunk);
		g->chunk_bytes = (uint32_t)chunk;
	}
	return 0;
}

/*
 * A copy's optional "origin": { "host", "set", "shadow", "volume",
 * "volume_bytes" (optional), "chunk_bytes" (optional) }.
 */
static int decode_origin(struct decoder *d, json_object *o, const char *copy,
			 struct shadow_copy_origin **ret)
{
	_cleanup_(shadow_copy_origin_freep) struct shadow_copy_origin *g = NULL;
	json_object *x;
	char what[48];
	int r;

	*ret = NULL;
	if (!json_object_object_get_ex(o, "origin", &x) || !x)
		return 0;
	snprintf(what, sizeof(what), "%s.origin", copy);
	if (!json_object_is_type(x, json_type_object))
		return bad(d, "%s is not an object", what);
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	if ((r = get_str(d, x, what, "host", false, &g->host)) < 0 ||
	    (r = get_u64(d, x, what, "set", &g->set)) < 0 ||
	    (r = get_u64(d, x, what, "shadow", &g->shadow)) < 0 ||
	    (r = get_str(d, x, what, "volume", false, &g->volume)) < 0)
		return r;
	if (g->shadow == 0)
		return bad(d, "%s: shadow 0", what);
	r = decode_origin_sizes(d, x, what, g);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(g);
	return 0;
}

/*
 * Only a clone has a target; only a clone, with its target, is detached;
 * only a detached clone is imported (a snapshot cannot leave its store).
 */
static int check_clone_fields(struct decoder *d, const char *what,
			      const struct shadow_copy *s)
{
	bool clone = shadow_copy_is_clone(s), detached = shadow_copy_detached(s);

	if (s->target && !clone)
		return bad(d, "%s: a %s copy has a \"target\" (only clones have one)",
			   what, s->method);
	if (detached && !clone)
		return bad(d, "%s: a %s copy is detached (only clones can be)", what, s->method);
	if (detached && !s->target)
		return bad(d, "%s: detached without a \"target\" (its data is there)", what);
	if (s->origin && !detached)
		return bad(d, "%s: imported (\"origin\"), but %s, not a detached clone",
			   what, s->state);
	return 0;
}

static int decode_copy(struct decoder *d, json_object *o, size_t i,
		       struct shadow_copy **ret)
{
	static const char *const states[] = { "creating", "valid", "invalid", "detached", NULL };
	_cleanup_(shadow_copy_freep) struct shadow_copy *s = NULL;
	json_object *w;
	char what[32];
	int r;

	snprintf(what, sizeof(what), "shadows[%zu]", i);
	if (!json_object_is_type(o, json_type_object))
		return bad(d, "%s is not an object", what);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if ((r = get_u64(d, o, what, "id", &s->id)) < 0 ||
	    (r = get_u64(d, o, what, "snapshot", &s->snapshot)) < 0 ||
	    (r = get_u64(d, o, what, "set", &s->set)) < 0 ||
	    (r = get_str(d, o, what, "volume", false, &s->volume)) < 0 ||
	    (r = get_str(d, o, what, "method", false, &s->method)) < 0 ||
	    (r = get_i64(d, o, what, "created", &s->created)) < 0 ||
	    (r = get_str(d, o, what, "state", false, &s->state)) < 0 ||
	    (r = get_str(d, o, what, "device", true, &s->device)) < 0 ||
	    (r = get_str(d, o, what, "mountpoint", true, &s->mountpoint)) < 0 ||
	    (r = get_field(d, o, what, "writable", json_type_boolean, false, &w)) < 0)
		return r;
	s->writable = json_object_get_boolean(w);
	if (s->id == 0)
		return bad(d, "%s: id 0", what);
	if (!one_of(s->state, states))
		return bad(d, "%s: unknown state \"%s\"", what, s->state);
	if ((r = get_optional_str(d, o, what, "target", &s->target)) < 0 ||
	    (r = decode_origin(d, o, what, &s->origin)) < 0 ||
	    (r = check_clone_fields(d, what, s)) < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

static int decode_writer(struct decoder *d, json_object *o, size_t i,
			 struct shadow_writer_record **ret)
{
	static const char *const states[] = { "ok", "failed", "refused", "skipped", NULL };
	_cleanup_(shadow_writer_record_freep) struct shadow_writer_record *w = NULL;
	char what[32];
	int r;

	snprintf(what, sizeof(what), "writers[%zu]", i);
	if (!json_object_is_type(o, json_type_object))
		return bad(d, "%s is not an object", what);
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	if ((r = get_str(d, o, what, "name", false, &w->name)) < 0 ||
	    (r = get_str(d, o, what, "path", true, &w->path)) < 0 ||
	    (r = get_str(d, o, what, "state", false, &w->state)) < 0 ||
	    (r = get_str(d, o, what, "event", true, &w->event)) < 0 ||
	    (r = get_str(d, o, what, "message", true, &w->message)) < 0 ||
	    (r = get_i64(d, o, what, "time", &w->time)) < 0)
		return r;
	if (!one_of(w->state, states))
		return bad(d, "%s: unknown state \"%s\"", what, w->state);
	*ret = TAKE_PTR(w);
	return 0;
}

/* The optional top-level "writers" (absent from older catalogs). */
static int decode_writers(struct decoder *d, json_object *o, struct shadow_catalog *c)
{
	json_object *a;
	int r;

	if (!json_object_object_get_ex(o, "writers", &a))
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return bad(d, "catalog: \"writers\" has the wrong type");
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct shadow_writer_record *w = NULL;

		r = decode_writer(d, json_object_array_get_idx(a, i), i, &w);
		if (r < 0)
			return r;
		if (shadow_catalog_writer(c, w->name))
			r = bad(d, "writer \"%s\" appears twice", w->name);
		else
			r = append((void ***)&c->writers, &c->n_writers, w);
		if (r < 0) {
			shadow_writer_record_free(w);
			return r;
		}
	}
	return 0;
}

static int get_array(struct decoder *d, json_object *o, const char *key,
		     json_object **ret)
{
	return get_field(d, o, "catalog", key, json_type_array, false, ret);
}

static int decode(struct decoder *d, json_object *o, struct shadow_catalog *c)
{
	json_object *a;
	uint64_t version, next_id, next_set;
	int r;

	if (!json_object_is_type(o, json_type_object))
		return bad(d, "catalog is not a JSON object");
	if ((r = get_u64(d, o, "catalog", "version", &version)) < 0)
		return r;
	if (version != SHADOW_CATALOG_VERSION)
		return bad(d, "catalog version %" PRIu64 " is not supported", version);
	if ((r = get_u64(d, o, "catalog", "next_id", &next_id)) < 0 ||
	    (r = get_u64(d, o, "catalog", "next_set", &next_set)) < 0)
		return r;
	c->next_id = next_id ? next_id : 1;
	c->next_set = next_set ? next_set : 1;

	if ((r = get_array(d, o, "volumes", &a)) < 0)
		return r;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct shadow_volume *v = NULL;

		r = decode_volume(d, json_object_array_get_idx(a, i), i, &v);
		if (r < 0)
			return r;
		if (shadow_catalog_volume(c, v->name)) {
			r = bad(d, "volume \"%s\" appears twice", v->name);
			shadow_volume_free(v);
			return r;
		}
		r = shadow_catalog_add_volume(c, v);
		if (r < 0) {
			shadow_volume_free(v);
			return r;
		}
	}
	if ((r = get_array(d, o, "sets", &a)) < 0)
		return r;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct shadow_set *s = NULL;

		r = decode_set(d, json_object_array_get_idx(a, i), i, &s);
		if (r < 0)
			return r;
		if (shadow_catalog_set(c, s->id)) {
			r = bad(d, "set %" PRIu64 " appears twice", s->id);
			shadow_set_free(s);
			return r;
		}
		r = shadow_catalog_add_set(c, s);
		if (r < 0) {
			shadow_set_free(s);
			return r;
		}
	}
	if ((r = get_array(d, o, "shadows", &a)) < 0)
		return r;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct shadow_copy *s = NULL;

		r = decode_copy(d, json_object_array_get_idx(a, i), i, &s);
		if (r < 0)
			return r;
		if (shadow_catalog_copy(c, s->id))
			r = bad(d, "shadow %" PRIu64 " appears twice", s->id);
		else if (!s->origin && !shadow_catalog_volume(c, s->volume))
			r = bad(d, "shadow %" PRIu64 " belongs to unknown volume \"%s\"",
				s->id, s->volume);
		else if (s->set && !shadow_catalog_set(c, s->set))
			r = bad(d, "shadow %" PRIu64 " belongs to unknown set %" PRIu64,
				s->id, s->set);
		else
			/* An imported copy's snapshot id is another host's. */
			for (size_t j = 0; j < c->n_copies && !s->origin; j++)
				if (!c->copies[j]->origin &&
				    c->copies[j]->snapshot == s->snapshot &&
				    strcmp(c->copies[j]->volume, s->volume) == 0) {
					r = bad(d, "snapshot %" PRIu64 " of \"%s\" appears twice",
						s->snapshot, s->volume);
					break;
				}
		if (r == 0)
			r = shadow_catalog_add_copy(c, s);
		if (r < 0) {
			shadow_copy_free(s);
			return r;
		}
	}
	return decode_writers(d, o, c);
}

int shadow_catalog_decode(const char *text, struct shadow_catalog *ret,
			  char *why, size_t why_size)
{
	struct decoder d = { .why = why, .size = why_size };
	struct shadow_catalog c = { .next_id = 1, .next_set = 1 };
	_cleanup_json_ json_object *o = NULL;
	enum json_tokener_error jerr;
	int r;

	if (why && why_size)
		why[0] = '\0';
	o = json_tokener_parse_verbose(text, &jerr);
	if (!o)
		return bad(&d, "not JSON: %s", json_tokener_error_desc(jerr));
	r = decode(&d, o, &c);
	if (r < 0) {
		shadow_catalog_clear(&c);
		return r;
	}
	*ret = c;
	return 0;
}

int shadow_catalog_load(const char *dir, struct shadow_catalog *ret,
			char *why, size_t why_size)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	size_t len = 0;

	if (asprintf(&path, "%s/catalog.json", dir) < 0)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT) {
			*ret = (struct shadow_catalog) { .next_id = 1, .next_set = 1 };
			return 0;
		}
		return negative_errno();
	}
	if (getdelim(&text, &len, '\0', f) < 0) {
		if (ferror(f))
			return -EIO;
		/* Empty file: as malformed as any other. */
		return shadow_catalog_decode("", ret, why, why_size);
	}
	return shadow_catalog_decode(text, ret, why, why_size);
}

static int write_all(int fd, const char *text, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		done += (size_t)n;
	}
	return fsync(fd) < 0 ? negative_errno() : 0;
}

int shadow_catalog_save(const char *dir, const struct shadow_catalog *c)
{
	_cleanup_free_ char *path = NULL, *tmp = NULL, *text = NULL;
	_cleanup_close_ int fd = -EBADF, dfd = -EBADF;
	int r;

	r = shadow_catalog_encode(c, &text);
	if (r < 0)
		return r;
	if (asprintf(&path, "%s/catalog.json", dir) < 0 ||
	    asprintf(&tmp, "%s/.catalog.json.tmp", dir) < 0)
		return -ENOMEM;
	/* Only the lock holder writes, so one fixed temporary name will do. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return negative_errno();
	r = write_all(fd, text, strlen(text));
	if (r == 0 && rename(tmp, path) < 0)
		r = negative_errno();
	if (r < 0) {
		(void)unlink(tmp);
		return r;
	}
	/* Make the rename itself durable. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
	return 0;
}
