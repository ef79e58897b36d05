/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The clone metadata document: encode, decode strictly.  See
 * shadow-clone-doc.h and shadow-clone-metadata(5).
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "shadow-clone-doc.h"
#include "shadow-format.h"
#include "shadow-name.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
#define _cleanup_json_ _cleanup_(json_object_putp)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct shadow_set *, shadow_set_free);

void clone_doc_spans(uint64_t volume_bytes, struct clone_doc_span *ret_first,
		     struct clone_doc_span *ret_last)
{
	uint64_t len = volume_bytes < CLONE_DOC_SPAN ? volume_bytes : CLONE_DOC_SPAN;

	*ret_first = (struct clone_doc_span) { .offset = 0, .length = len };
	*ret_last = (struct clone_doc_span) { .offset = volume_bytes - len, .length = len };
}

void clone_doc_span_window(const struct clone_doc_span *s, uint32_t block,
			   uint64_t *ret_start, uint64_t *ret_length)
{
	uint64_t start = s->offset & ~((uint64_t)block - 1);
	uint64_t end = (s->offset + s->length + block - 1) & ~((uint64_t)block - 1);

	*ret_start = start;
	*ret_length = end - start;
}

void clone_doc_clear(struct clone_doc *d)
{
	free(d->host);
	free(d->volume);
	shadow_set_free(d->set);
	*d = (struct clone_doc) { 0 };
}

/* ------------------------------------------------------------------------
 * Encoding
 */

static json_object *encode_shadow(const struct clone_doc *d)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o ||
	    shadow_json_add(o, "id", json_object_new_uint64(d->id)) < 0 ||
	    shadow_json_add(o, "snapshot", json_object_new_uint64(d->snapshot)) < 0 ||
	    shadow_json_add(o, "created", json_object_new_int64(d->created)) < 0 ||
	    shadow_json_add(o, "method", json_object_new_string("clone")) < 0 ||
	    shadow_json_add(o, "volume", json_object_new_string(d->volume)) < 0 ||
	    shadow_json_add(o, "volume_bytes", json_object_new_uint64(d->volume_bytes)) < 0 ||
	    shadow_json_add(o, "chunk_bytes", json_object_new_uint64(d->chunk_bytes)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_object *encode_set(const struct shadow_set *s)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o ||
	    shadow_json_add(o, "id", json_object_new_uint64(s->id)) < 0 ||
	    shadow_json_add(o, "created", json_object_new_int64(s->created)) < 0 ||
	    shadow_json_add(o, "freeze_us", json_object_new_uint64(s->freeze_us)) < 0 ||
	    shadow_json_add(o, "writers", shadow_set_writers_encode(s)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_object *encode_span(const struct clone_doc_span *s)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o ||
	    shadow_json_add(o, "offset", json_object_new_uint64(s->offset)) < 0 ||
	    shadow_json_add(o, "length", json_object_new_uint64(s->length)) < 0 ||
	    shadow_json_add(o, "crc32c", json_object_new_uint64(s->crc32c)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_object *encode_data(const struct clone_doc *d)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o ||
	    shadow_json_add(o, "target_bytes", json_object_new_uint64(d->target_bytes)) < 0 ||
	    shadow_json_add(o, "first", encode_span(&d->first)) < 0 ||
	    shadow_json_add(o, "last", encode_span(&d->last)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

int clone_doc_encode(const struct clone_doc *d, char **ret)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	const char *text;
	char *s;

	if (!o ||
	    shadow_json_add(o, "format", json_object_new_string(CLONE_DOC_FORMAT)) < 0 ||
	    shadow_json_add(o, "version", json_object_new_int(CLONE_DOC_VERSION)) < 0 ||
	    shadow_json_add(o, "host", json_object_new_string(d->host)) < 0 ||
	    shadow_json_add(o, "exported", json_object_new_int64(d->exported)) < 0 ||
	    shadow_json_add(o, "shadow", encode_shadow(d)) < 0 ||
	    (d->set ? shadow_json_add(o, "set", encode_set(d->set))
		    : json_object_object_add(o, "set", NULL) < 0 ? -ENOMEM : 0) < 0 ||
	    shadow_json_add(o, "data", encode_data(d)) < 0)
		return -ENOMEM;
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text || asprintf(&s, "%s\n", text) < 0)
		return -ENOMEM;
	*ret = s;
	return 0;
}

/* ------------------------------------------------------------------------
 * Decoding: the first problem found is the one reported in @why.
 */

struct decoder {
	char *why;
	size_t size;
};

_printf_(3, 4)
static int fail(struct decoder *d, int r, const char *fmt, ...)
{
	va_list ap;

	if (d->why && d->size) {
		va_start(ap, fmt);
		vsnprintf(d->why, d->size, fmt, ap);
		va_end(ap);
	}
	return r;
}

#define bad(d, ...) fail((d), -EBADMSG, __VA_ARGS__)

static const char *type_name(json_type type)
{
	switch (type) {
	case json_type_int:
		return "an integer";
	case json_type_string:
		return "a string";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	default:
		return "of another type";
	}
}

/* Every member of @o is one of @keys (NULL-terminated). */
static int only_members(struct decoder *d, json_object *o, const char *what,
			const char *const *keys)
{
	json_object_object_foreach(o, key, val) {
		size_t i;

		for (i = 0; keys[i] && strcmp(key, keys[i]) != 0; i++)
			;
		if (!keys[i])
			return bad(d, "%s: unknown member \"%s\"", what, key);
	}
	return 0;
}

static int member(struct decoder *d, json_object *o, const char *what, const char *key,
		  json_type type, json_object **ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return bad(d, "%s: no \"%s\"", what, key);
	if (!json_object_is_type(v, type))
		return bad(d, "%s: \"%s\" is not %s", what, key, type_name(type));
	*ret = v;
	return 0;
}

static int get_u64(struct decoder *d, json_object *o, const char *what, const char *key,
		   uint64_t *ret)
{
	json_object *v;
	int r;

	r = member(d, o, what, key, json_type_int, &v);
	if (r < 0)
		return r;
	/* json-c keeps numbers above INT64_MAX as unsigned. */
	if (json_object_get_int64(v) < 0)
		return bad(d, "%s: \"%s\" is negative", what, key);
	*ret = json_object_get_uint64(v);
	return 0;
}

static int get_i64(struct decoder *d, json_object *o, const char *what, const char *key,
		   int64_t *ret)
{
	json_object *v;
	int r;

	r = member(d, o, what, key, json_type_int, &v);
	if (r < 0)
		return r;
	*ret = json_object_get_int64(v);
	return 0;
}

static int get_str(struct decoder *d, json_object *o, const char *what, const char *key,
		   char **ret)
{
	json_object *v;
	char *s;
	int r;

	r = member(d, o, what, key, json_type_string, &v);
	if (r < 0)
		return r;
	if (json_object_get_string_len(v) == 0)
		return bad(d, "%s: \"%s\" is empty", what, key);
	s = strdup(json_object_get_string(v));
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

/* One JSON value, the whole of @text (blanks aside). */
static int parse(struct decoder *d, const char *text, json_object **ret)
{
	struct json_tokener *tok;
	enum json_tokener_error e;
	size_t len = strlen(text), end;
	json_object *o;

	if (len > INT_MAX)
		return bad(d, "not JSON: larger than %d bytes", INT_MAX);
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o)
		return bad(d, "not JSON: %s", e == json_tokener_continue ? "it ends too soon" :
		       json_tokener_error_desc(e));
	while (end < len && strchr(" \t\r\n", text[end]))
		end++;
	if (end < len) {
		json_object_put(o);
		return bad(d, "not JSON: something follows the document, at byte %zu", end);
	}
	*ret = o;
	return 0;
}

/* "format" first (what it is), then "version", then the members. */
static int decode_head(struct decoder *d, json_object *o)
{
	static const char *const keys[] = {
		"format", "version", "host", "exported", "shadow", "set", "data", NULL,
	};
	json_object *f, *v;
	int64_t version;
	int r;

	if (!json_object_is_type(o, json_type_object))
		return fail(d, -EMEDIUMTYPE, "not a clone metadata document: not a JSON object");
	if (!json_object_object_get_ex(o, "format", &f) || !json_object_is_type(f, json_type_string))
		return fail(d, -EMEDIUMTYPE, "not a clone metadata document: no \"format\"");
	if (strcmp(json_object_get_string(f), CLONE_DOC_FORMAT) != 0)
		return fail(d, -EMEDIUMTYPE, "not a clone metadata document: its format is \"%s\", "
			    "not \"%s\"", json_object_get_string(f), CLONE_DOC_FORMAT);
	r = member(d, o, "document", "version", json_type_int, &v);
	if (r < 0)
		return r;
	version = json_object_get_int64(v);
	if (version != CLONE_DOC_VERSION)
		return fail(d, -EPROTONOSUPPORT, "version %" PRId64 " of the clone metadata "
			    "document is not known (this reads version %d)", version,
			    CLONE_DOC_VERSION);
	return only_members(d, o, "document", keys);
}

static int decode_host(struct decoder *d, json_object *o, struct clone_doc *doc)
{
	int r;

	if ((r = get_str(d, o, "document", "host", &doc->host)) < 0 ||
	    (r = get_i64(d, o, "document", "exported", &doc->exported)) < 0)
		return r;
	if (strlen(doc->host) > CLONE_DOC_HOST_MAX)
		return bad(d, "document: \"host\" is longer than %d bytes", CLONE_DOC_HOST_MAX);
	for (const char *p = doc->host; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return bad(d, "document: \"host\" holds a control character");
	return 0;
}

/* The volume as shadowctl would take it, and its sizes. */
static int check_volume(struct decoder *d, const struct clone_doc *doc, uint64_t chunk)
{
	struct name_check nc;
	char why[96];

	if (name_check(doc->volume, SHADOW_VOLUME_NAME_MAX, &nc) != NAME_OK) {
		(void)name_explain(&nc, why, sizeof(why));
		return bad(d, "shadow: bad volume name \"%s\": %s", doc->volume, why);
	}
	if (doc->volume_bytes == 0 || doc->volume_bytes % 512)
		return bad(d, "shadow: volume_bytes %" PRIu64 " is not a whole number of sectors",
			   doc->volume_bytes);
	if (chunk % 512 || !shadow_chunk_sectors_valid(chunk / 512))
		return bad(d, "shadow: bad chunk_bytes %" PRIu64, chunk);
	return 0;
}

static int decode_shadow(struct decoder *d, json_object *o, struct clone_doc *doc)
{
	static const char *const keys[] = {
		"id", "snapshot", "created", "method", "volume", "volume_bytes", "chunk_bytes", NULL,
	};
	_cleanup_free_ char *method = NULL;
	json_object *s;
	uint64_t chunk;
	int r;

	if ((r = member(d, o, "document", "shadow", json_type_object, &s)) < 0 ||
	    (r = only_members(d, s, "shadow", keys)) < 0 ||
	    (r = get_u64(d, s, "shadow", "id", &doc->id)) < 0 ||
	    (r = get_u64(d, s, "shadow", "snapshot", &doc->snapshot)) < 0 ||
	    (r = get_i64(d, s, "shadow", "created", &doc->created)) < 0 ||
	    (r = get_str(d, s, "shadow", "method", &method)) < 0 ||
	    (r = get_str(d, s, "shadow", "volume", &doc->volume)) < 0 ||
	    (r = get_u64(d, s, "shadow", "volume_bytes", &doc->volume_bytes)) < 0 ||
	    (r = get_u64(d, s, "shadow", "chunk_bytes", &chunk)) < 0)
		return r;
	if (doc->id == 0)
		return bad(d, "shadow: id 0");
	if (strcmp(method, "clone") != 0)
		return bad(d, "shadow: method \"%s\" (only a detached clone is exported)", method);
	r = check_volume(d, doc, chunk);
	if (r < 0)
		return r;
	doc->chunk_bytes = (uint32_t)chunk;
	return 0;
}

/* The writers as the catalog records them, and no member it does not know. */
static int decode_writers(struct decoder *d, json_object *a, struct shadow_set *s)
{
	static const char *const keys[] = { "name", "metadata", "data", "excluded", NULL };
	char what[48];
	int r;

	for (size_t i = 0; json_object_is_type(a, json_type_array) &&
			   i < json_object_array_length(a); i++) {
		json_object *w = json_object_array_get_idx(a, i);

		snprintf(what, sizeof(what), "set.writers[%zu]", i);
		if (json_object_is_type(w, json_type_object) &&
		    (r = only_members(d, w, what, keys)) < 0)
			return r;
	}
	return shadow_set_writers_decode(a, "set", s, d->why, d->size);
}

/* "set": its set there, or null for a copy that had none. */
static int decode_set(struct decoder *d, json_object *o, struct clone_doc *doc)
{
	static const char *const keys[] = { "id", "created", "freeze_us", "writers", NULL };
	_cleanup_(shadow_set_freep) struct shadow_set *s = NULL;
	json_object *x, *a;
	int r;

	if (!json_object_object_get_ex(o, "set", &x))
		return bad(d, "document: no \"set\"");
	if (!x)
		return 0;
	if (!json_object_is_type(x, json_type_object))
		return bad(d, "document: \"set\" is not an object (nor null)");
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if ((r = only_members(d, x, "set", keys)) < 0 ||
	    (r = get_u64(d, x, "set", "id", &s->id)) < 0 ||
	    (r = get_i64(d, x, "set", "created", &s->created)) < 0 ||
	    (r = get_u64(d, x, "set", "freeze_us", &s->freeze_us)) < 0 ||
	    (r = member(d, x, "set", "writers", json_type_array, &a)) < 0)
		return r;
	if (s->id == 0)
		return bad(d, "set: id 0");
	r = decode_writers(d, a, s);
	if (r < 0)
		return r;
	s->state = strdup("complete");
	if (!s->state)
		return -ENOMEM;
	doc->set = TAKE_PTR(s);
	return 0;
}

/* "data.<key>": a span, exactly the one @want says for a clone of @bytes. */
static int decode_span(struct decoder *d, json_object *o, const char *key, uint64_t bytes,
		       const struct clone_doc_span *want, struct clone_doc_span *ret)
{
	static const char *const keys[] = { "offset", "length", "crc32c", NULL };
	uint64_t crc;
	json_object *x;
	char what[16];
	int r;

	snprintf(what, sizeof(what), "data.%s", key);
	if ((r = member(d, o, "data", key, json_type_object, &x)) < 0 ||
	    (r = only_members(d, x, what, keys)) < 0 ||
	    (r = get_u64(d, x, what, "offset", &ret->offset)) < 0 ||
	    (r = get_u64(d, x, what, "length", &ret->length)) < 0 ||
	    (r = get_u64(d, x, what, "crc32c", &crc)) < 0)
		return r;
	if (crc > UINT32_MAX)
		return bad(d, "%s: crc32c %" PRIu64 " is more than 32 bits", what, crc);
	if (ret->offset != want->offset || ret->length != want->length)
		return bad(d, "%s: %" PRIu64 " bytes at %" PRIu64 ", where a clone of %" PRIu64
			   " bytes has %" PRIu64 " at %" PRIu64, what, ret->length, ret->offset,
			   bytes, want->length, want->offset);
	ret->crc32c = (uint32_t)crc;
	return 0;
}

static int decode_data(struct decoder *d, json_object *o, struct clone_doc *doc)
{
	static const char *const keys[] = { "target_bytes", "first", "last", NULL };
	struct clone_doc_span first, last;
	json_object *x;
	int r;

	if ((r = member(d, o, "document", "data", json_type_object, &x)) < 0 ||
	    (r = only_members(d, x, "data", keys)) < 0 ||
	    (r = get_u64(d, x, "data", "target_bytes", &doc->target_bytes)) < 0)
		return r;
	if (doc->target_bytes < doc->volume_bytes)
		return bad(d, "data: target_bytes %" PRIu64 " is less than the volume's %" PRIu64,
			   doc->target_bytes, doc->volume_bytes);
	clone_doc_spans(doc->volume_bytes, &first, &last);
	if ((r = decode_span(d, x, "first", doc->volume_bytes, &first, &doc->first)) < 0 ||
	    (r = decode_span(d, x, "last", doc->volume_bytes, &last, &doc->last)) < 0)
		return r;
	return 0;
}

int clone_doc_decode(const char *text, struct clone_doc *ret, char *why, size_t why_size)
{
	struct decoder d = { .why = why, .size = why_size };
	struct clone_doc doc = { 0 };
	_cleanup_json_ json_object *o = NULL;
	int r;

	if (why && why_size)
		why[0] = '\0';
	r = parse(&d, text, &o);
	if (r == 0)
		r = decode_head(&d, o);
	if (r == 0)
		r = decode_host(&d, o, &doc);
	if (r == 0)
		r = decode_shadow(&d, o, &doc);
	if (r == 0)
		r = decode_set(&d, o, &doc);
	if (r == 0)
		r = decode_data(&d, o, &doc);
	if (r < 0) {
		clone_doc_clear(&doc);
		return r;
	}
	*ret = doc;
	return 0;
}
