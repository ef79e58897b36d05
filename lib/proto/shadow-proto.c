/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The writer protocol codec.  See shadow-proto.h and shadow-writer(7).
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "shadow-proto.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(json_tokener *, json_tokener_free);
#define _cleanup_json_ _cleanup_(json_object_putp)

static const char *const event_names[_SHADOW_EVENT_MAX] = {
	[SHADOW_EVENT_IDENTIFY] = "identify",
	[SHADOW_EVENT_PREPARE] = "prepare",
	[SHADOW_EVENT_FREEZE] = "freeze",
	[SHADOW_EVENT_THAW] = "thaw",
	[SHADOW_EVENT_POST_SNAPSHOT] = "post-snapshot",
	[SHADOW_EVENT_ABORT] = "abort",
};

const char *shadow_proto_event_name(enum shadow_proto_event e)
{
	if ((int)e < 0 || e >= _SHADOW_EVENT_MAX)
		return NULL;
	return event_names[e];
}

int shadow_proto_event_from_name(const char *name)
{
	for (int i = 0; name && i < _SHADOW_EVENT_MAX; i++)
		if (strcmp(event_names[i], name) == 0)
			return i;
	return -EINVAL;
}

_printf_(4, 5)
static int fail(int r, char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (why && why_size) {
		va_start(ap, fmt);
		vsnprintf(why, why_size, fmt, ap);
		va_end(ap);
	}
	return r;
}

static void why_clear(char *why, size_t why_size)
{
	if (why && why_size)
		why[0] = '\0';
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ------------------------------------------------------------------------
 * JSON helpers
 */

static int add(json_object *o, const char *key, json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int add_str_or_null(json_object *o, const char *key, const char *s)
{
	if (!s)
		return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
	return add(o, key, json_object_new_string(s));
}

static int array_add(json_object *a, json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_array_add(a, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static json_object *strv_to_json(char *const *v, size_t n)
{
	_cleanup_json_ json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (array_add(a, json_object_new_string(v[i])) < 0)
			return NULL;
	return TAKE_PTR(a);
}

/* @o as one protocol line: compact JSON and "\n". */
static int to_line(json_object *o, char **ret, size_t *ret_len)
{
	const char *text;
	size_t len;
	char *s;

	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		return -ENOMEM;
	len = strlen(text) + 1;
	if (len > SHADOW_PROTO_LINE_MAX)
		return -EMSGSIZE;
	s = malloc(len + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, text, len - 1);
	s[len - 1] = '\n';
	s[len] = '\0';
	*ret = s;
	if (ret_len)
		*ret_len = len;
	return 0;
}

/*
 * Parse one line: exactly one JSON object, nothing after it but white
 * space (the trailing "\n" included).
 */
static int parse_object(const char *line, json_object **ret,
			char *why, size_t why_size)
{
	_cleanup_(json_tokener_freep) json_tokener *tok = NULL;
	_cleanup_json_ json_object *o = NULL;
	size_t len = strlen(line), end;
	enum json_tokener_error jerr;

	if (len >= SHADOW_PROTO_LINE_MAX)
		return fail(-EBADMSG, why, why_size, "line longer than %d bytes",
			    SHADOW_PROTO_LINE_MAX);
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		/* A bare number is "incomplete" to json-c: say what it is. */
		if (line[strspn(line, " \t\r\n")] == '\0')
			return fail(-EBADMSG, why, why_size, "not JSON: an empty line");
		if (line[strspn(line, " \t\r\n")] != '{')
			return fail(-EBADMSG, why, why_size, "not a JSON object");
		return fail(-EBADMSG, why, why_size, "not JSON: incomplete");
	}
	if (jerr != json_tokener_success)
		return fail(-EBADMSG, why, why_size, "not JSON: %s",
			    json_tokener_error_desc(jerr));
	for (end = json_tokener_get_parse_end(tok); end < len; end++)
		if (!strchr(" \t\r\n", line[end]))
			return fail(-EBADMSG, why, why_size,
				    "not one JSON object: text after it");
	if (!json_object_is_type(o, json_type_object))
		return fail(-EBADMSG, why, why_size, "not a JSON object");
	*ret = TAKE_PTR(o);
	return 0;
}

/* Member @key of @o if present and not null, else NULL. */
static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

struct decoder {
	char *why;
	size_t size;
	const char *what;	/* what is being decoded, for reasons */
};

_printf_(2, 3)
static int bad(struct decoder *d, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(-EBADMSG, d->why, d->size, "%s: %s", d->what, msg);
}

static int need(struct decoder *d, json_object *o, const char *key, json_type type,
		json_object **ret)
{
	json_object *v = member(o, key);

	if (!v)
		return bad(d, "no \"%s\"", key);
	if (!json_object_is_type(v, type))
		return bad(d, "\"%s\" has the wrong type", key);
	*ret = v;
	return 0;
}

static int dup_str(json_object *v, char **ret)
{
	char *s = strdup(json_object_get_string(v));

	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

/* A required string member; @empty_ok allows "". */
static int need_str(struct decoder *d, json_object *o, const char *key,
		    bool empty_ok, char **ret)
{
	json_object *v;
	int r;

	r = need(d, o, key, json_type_string, &v);
	if (r < 0)
		return r;
	if (!empty_ok && json_object_get_string_len(v) == 0)
		return bad(d, "\"%s\" is empty", key);
	return dup_str(v, ret);
}

static int need_u64(struct decoder *d, json_object *o, const char *key, uint64_t *ret)
{
	json_object *v;
	int r;

	r = need(d, o, key, json_type_int, &v);
	if (r < 0)
		return r;
	/* json-c keeps numbers above INT64_MAX as unsigned. */
	if (json_object_get_int64(v) < 0)
		return bad(d, "\"%s\" is negative", key);
	*ret = json_object_get_uint64(v);
	return 0;
}

/* An array of strings; @absolute: each one an absolute path. */
static int decode_strv(struct decoder *d, json_object *a, const char *key,
		       bool absolute, char ***ret, size_t *ret_n)
{
	size_t n = json_object_array_length(a);
	char **v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		int r = 0;

		if (!json_object_is_type(e, json_type_string))
			r = bad(d, "\"%s\"[%zu] is not a string", key, i);
		else if (json_object_get_string_len(e) == 0)
			r = bad(d, "\"%s\"[%zu] is empty", key, i);
		else if (absolute && json_object_get_string(e)[0] != '/')
			r = bad(d, "\"%s\"[%zu] is not an absolute path", key, i);
		else
			r = dup_str(e, &v[i]);
		if (r < 0) {
			strv_free(v, n);
			return r;
		}
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ------------------------------------------------------------------------
 * Requests
 */

void shadow_proto_request_clear(struct shadow_proto_request *req)
{
	for (size_t i = 0; i < req->n_volumes; i++) {
		free(req->volumes[i].name);
		free(req->volumes[i].device);
		free(req->volumes[i].mountpoint);
	}
	free(req->volumes);
	strv_free(req->components, req->n_components);
	for (size_t i = 0; i < req->n_copies; i++)
		free(req->copies[i].volume);
	free(req->copies);
	*req = (struct shadow_proto_request) { .event = SHADOW_EVENT_IDENTIFY };
}

static json_object *encode_volumes(const struct shadow_proto_request *req)
{
	_cleanup_json_ json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < req->n_volumes; i++) {
		const struct shadow_proto_volume *v = &req->volumes[i];
		_cleanup_json_ json_object *o = json_object_new_object();

		if (!o ||
		    add(o, "name", json_object_new_string(v->name ? v->name : "")) < 0 ||
		    add(o, "device", json_object_new_string(v->device ? v->device : "")) < 0 ||
		    add_str_or_null(o, "mountpoint", v->mountpoint) < 0 ||
		    array_add(a, TAKE_PTR(o)) < 0)
			return NULL;
	}
	return TAKE_PTR(a);
}

static json_object *encode_copies(const struct shadow_proto_request *req)
{
	_cleanup_json_ json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < req->n_copies; i++) {
		const struct shadow_proto_copy *c = &req->copies[i];
		_cleanup_json_ json_object *o = json_object_new_object();

		if (!o ||
		    add(o, "id", json_object_new_uint64(c->id)) < 0 ||
		    add(o, "volume", json_object_new_string(c->volume ? c->volume : "")) < 0 ||
		    array_add(a, TAKE_PTR(o)) < 0)
			return NULL;
	}
	return TAKE_PTR(a);
}

int shadow_proto_request_encode(const struct shadow_proto_request *req,
				char **ret, size_t *ret_len)
{
	_cleanup_json_ json_object *o = NULL;
	const char *name = shadow_proto_event_name(req->event);
	int r = 0;

	if (!name)
		return -EINVAL;
	o = json_object_new_object();
	if (!o || add(o, "event", json_object_new_string(name)) < 0)
		return -ENOMEM;
	switch (req->event) {
	case SHADOW_EVENT_IDENTIFY:
		if (add(o, "protocol", json_object_new_int(req->protocol ? req->protocol
							      : SHADOW_PROTO_VERSION)) < 0 ||
		    add(o, "set", json_object_new_uint64(req->set)) < 0 ||
		    add(o, "volumes", encode_volumes(req)) < 0)
			r = -ENOMEM;
		break;
	case SHADOW_EVENT_PREPARE:
		r = add(o, "components", strv_to_json(req->components, req->n_components));
		break;
	case SHADOW_EVENT_FREEZE:
		r = add(o, "timeout_ms", json_object_new_uint64(req->timeout_ms));
		break;
	case SHADOW_EVENT_POST_SNAPSHOT:
		if (add(o, "set", json_object_new_uint64(req->set)) < 0 ||
		    add(o, "copies", encode_copies(req)) < 0)
			r = -ENOMEM;
		break;
	case SHADOW_EVENT_THAW:
	case SHADOW_EVENT_ABORT:
	default:
		break;
	}
	if (r < 0)
		return r;
	return to_line(o, ret, ret_len);
}

static int decode_volumes(struct decoder *d, json_object *a, struct shadow_proto_request *req)
{
	size_t n = json_object_array_length(a);

	req->volumes = calloc(n ? n : 1, sizeof(*req->volumes));
	if (!req->volumes)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(a, i), *mp;
		struct shadow_proto_volume *v = &req->volumes[i];
		int r;

		req->n_volumes = i + 1;
		if (!json_object_is_type(o, json_type_object))
			return bad(d, "\"volumes\"[%zu] is not an object", i);
		if ((r = need_str(d, o, "name", false, &v->name)) < 0 ||
		    (r = need_str(d, o, "device", false, &v->device)) < 0)
			return r;
		mp = member(o, "mountpoint");
		if (mp && !json_object_is_type(mp, json_type_string))
			return bad(d, "\"volumes\"[%zu]: \"mountpoint\" has the wrong type", i);
		if (mp && (r = dup_str(mp, &v->mountpoint)) < 0)
			return r;
	}
	return 0;
}

static int decode_copies(struct decoder *d, json_object *a, struct shadow_proto_request *req)
{
	size_t n = json_object_array_length(a);

	req->copies = calloc(n ? n : 1, sizeof(*req->copies));
	if (!req->copies)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(a, i);
		struct shadow_proto_copy *c = &req->copies[i];
		int r;

		req->n_copies = i + 1;
		if (!json_object_is_type(o, json_type_object))
			return bad(d, "\"copies\"[%zu] is not an object", i);
		if ((r = need_u64(d, o, "id", &c->id)) < 0 ||
		    (r = need_str(d, o, "volume", false, &c->volume)) < 0)
			return r;
	}
	return 0;
}

static int decode_request(struct decoder *d, json_object *o, struct shadow_proto_request *req)
{
	json_object *v;
	uint64_t protocol;
	int r;

	switch (req->event) {
	case SHADOW_EVENT_IDENTIFY:
		if ((r = need_u64(d, o, "protocol", &protocol)) < 0 ||
		    (r = need_u64(d, o, "set", &req->set)) < 0 ||
		    (r = need(d, o, "volumes", json_type_array, &v)) < 0)
			return r;
		req->protocol = protocol > INT32_MAX ? INT32_MAX : (int)protocol;
		return decode_volumes(d, v, req);
	case SHADOW_EVENT_PREPARE:
		if ((r = need(d, o, "components", json_type_array, &v)) < 0)
			return r;
		return decode_strv(d, v, "components", false, &req->components,
				   &req->n_components);
	case SHADOW_EVENT_FREEZE:
		return need_u64(d, o, "timeout_ms", &req->timeout_ms);
	case SHADOW_EVENT_POST_SNAPSHOT:
		if ((r = need_u64(d, o, "set", &req->set)) < 0 ||
		    (r = need(d, o, "copies", json_type_array, &v)) < 0)
			return r;
		return decode_copies(d, v, req);
	case SHADOW_EVENT_THAW:
	case SHADOW_EVENT_ABORT:
	default:
		return 0;
	}
}

int shadow_proto_request_decode(const char *line,
				struct shadow_proto_request *ret,
				char *why, size_t why_size)
{
	struct shadow_proto_request req = { .event = SHADOW_EVENT_IDENTIFY };
	struct decoder d = { .why = why, .size = why_size, .what = "request" };
	_cleanup_json_ json_object *o = NULL;
	json_object *ev;
	int r, e;

	why_clear(why, why_size);
	r = parse_object(line, &o, why, why_size);
	if (r < 0)
		return r;
	r = need(&d, o, "event", json_type_string, &ev);
	if (r < 0)
		return r;
	e = shadow_proto_event_from_name(json_object_get_string(ev));
	if (e < 0)
		return fail(-EOPNOTSUPP, why, why_size, "unknown event \"%s\"",
			    json_object_get_string(ev));
	req.event = e;
	d.what = event_names[e];
	r = decode_request(&d, o, &req);
	if (r < 0) {
		shadow_proto_request_clear(&req);
		return r;
	}
	*ret = req;
	return 0;
}

/* ------------------------------------------------------------------------
 * Answers
 */

void shadow_proto_answer_clear(struct shadow_proto_answer *a)
{
	free(a->message);
	json_object_put(a->metadata);
	json_object_put(a->data);
	*a = (struct shadow_proto_answer) { .ok = false };
}

int shadow_proto_answer_encode(enum shadow_proto_event event,
			       const struct shadow_proto_answer *a,
			       char **ret, size_t *ret_len)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!shadow_proto_event_name(event))
		return -EINVAL;
	if (!o ||
	    add(o, "status", json_object_new_string(a->ok ? "ok" : "error")) < 0 ||
	    (a->message && add(o, "message", json_object_new_string(a->message)) < 0) ||
	    (a->metadata && add(o, "metadata", json_object_get(a->metadata)) < 0) ||
	    (event == SHADOW_EVENT_THAW &&
	     add(o, "held", json_object_new_boolean(a->held)) < 0) ||
	    (a->data && add(o, "data", json_object_get(a->data)) < 0))
		return -ENOMEM;
	return to_line(o, ret, ret_len);
}

int shadow_proto_answer_decode(enum shadow_proto_event event, const char *line,
			       struct shadow_proto_answer *ret,
			       char *why, size_t why_size)
{
	_cleanup_(shadow_proto_answer_clear) struct shadow_proto_answer a = { .ok = false };
	_cleanup_json_ json_object *o = NULL;
	struct decoder d = { .why = why, .size = why_size };
	json_object *status, *v;
	const char *s;
	int r;

	why_clear(why, why_size);
	d.what = shadow_proto_event_name(event);
	if (!d.what)
		return -EINVAL;
	r = parse_object(line, &o, why, why_size);
	if (r < 0)
		return r;
	r = need(&d, o, "status", json_type_string, &status);
	if (r < 0)
		return r;
	s = json_object_get_string(status);
	if (strcmp(s, "ok") == 0)
		a.ok = true;
	else if (strcmp(s, "error") != 0)
		return bad(&d, "status \"%s\" is neither \"ok\" nor \"error\"", s);

	v = member(o, "message");
	if (v && !json_object_is_type(v, json_type_string))
		return bad(&d, "\"message\" has the wrong type");
	if (v && (r = dup_str(v, &a.message)) < 0)
		return r;
	if (!a.ok) {
		/* An error answer needs nothing else: the set fails anyway. */
		*ret = a;
		a = (struct shadow_proto_answer) { .ok = false };
		return 0;
	}

	if (event == SHADOW_EVENT_IDENTIFY) {
		v = member(o, "metadata");
		if (!v)
			return bad(&d, "no \"metadata\"");
		r = shadow_proto_metadata_validate(v, why, why_size);
		if (r < 0)
			return r;
		a.metadata = json_object_get(v);
	}
	if (event == SHADOW_EVENT_THAW) {
		v = member(o, "held");
		if (v && !json_object_is_type(v, json_type_boolean))
			return bad(&d, "\"held\" is not a boolean");
		a.held = v && json_object_get_boolean(v);
	}
	if (event == SHADOW_EVENT_POST_SNAPSHOT) {
		v = member(o, "data");
		if (v && !json_object_is_type(v, json_type_object))
			return bad(&d, "\"data\" is not an object");
		if (v)
			a.data = json_object_get(v);
	}
	*ret = a;
	a = (struct shadow_proto_answer) { .ok = false };
	return 0;
}

/* ------------------------------------------------------------------------
 * Metadata
 */

static void component_clear(struct shadow_proto_component *c)
{
	free(c->name);
	strv_free(c->paths, c->n_paths);
	strv_free(c->exclude, c->n_exclude);
	*c = (struct shadow_proto_component) { .name = NULL };
}

void shadow_proto_metadata_clear(struct shadow_proto_metadata *m)
{
	free(m->writer);
	free(m->application);
	for (size_t i = 0; i < m->n_components; i++)
		component_clear(&m->components[i]);
	free(m->components);
	free(m->restore);
	*m = (struct shadow_proto_metadata) { .writer = NULL };
}

static int decode_component(struct decoder *d, json_object *o, size_t i,
			    struct shadow_proto_component *c)
{
	char what[48];
	struct decoder cd = { .why = d->why, .size = d->size, .what = what };
	json_object *v;
	int r;

	snprintf(what, sizeof(what), "metadata: \"components\"[%zu]", i);
	if (!json_object_is_type(o, json_type_object))
		return bad(&cd, "not an object");
	if ((r = need_str(&cd, o, "name", false, &c->name)) < 0 ||
	    (r = need(&cd, o, "paths", json_type_array, &v)) < 0 ||
	    (r = decode_strv(&cd, v, "paths", true, &c->paths, &c->n_paths)) < 0)
		return r;
	v = member(o, "exclude");
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return bad(&cd, "\"exclude\" has the wrong type");
	return decode_strv(&cd, v, "exclude", true, &c->exclude, &c->n_exclude);
}

static int decode_metadata(struct decoder *d, json_object *doc, struct shadow_proto_metadata *m)
{
	json_object *a, *v;
	size_t n;
	int r;

	if (!doc || !json_object_is_type(doc, json_type_object))
		return bad(d, "not an object");
	if ((r = need_str(d, doc, "writer", false, &m->writer)) < 0 ||
	    (r = need_str(d, doc, "application", true, &m->application)) < 0 ||
	    (r = need(d, doc, "components", json_type_array, &a)) < 0)
		return r;
	v = member(doc, "restore");
	if (v && !json_object_is_type(v, json_type_string))
		return bad(d, "\"restore\" has the wrong type");
	if (v && (r = dup_str(v, &m->restore)) < 0)
		return r;
	n = json_object_array_length(a);
	m->components = calloc(n ? n : 1, sizeof(*m->components));
	if (!m->components)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		m->n_components = i + 1;
		r = decode_component(d, json_object_array_get_idx(a, i), i,
				     &m->components[i]);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (strcmp(m->components[j].name, m->components[i].name) == 0)
				return bad(d, "component \"%s\" appears twice",
					   m->components[i].name);
	}
	return 0;
}

int shadow_proto_metadata_decode(struct json_object *doc,
				 struct shadow_proto_metadata *ret,
				 char *why, size_t why_size)
{
	struct shadow_proto_metadata m = { .writer = NULL };
	struct decoder d = { .why = why, .size = why_size, .what = "metadata" };
	int r;

	why_clear(why, why_size);
	r = decode_metadata(&d, doc, &m);
	if (r < 0) {
		shadow_proto_metadata_clear(&m);
		return r;
	}
	*ret = m;
	return 0;
}

int shadow_proto_metadata_validate(struct json_object *doc,
				   char *why, size_t why_size)
{
	struct shadow_proto_metadata m;
	int r;

	r = shadow_proto_metadata_decode(doc, &m, why, why_size);
	if (r == 0)
		shadow_proto_metadata_clear(&m);
	return r;
}

int shadow_proto_metadata_encode(const struct shadow_proto_metadata *m,
				 struct json_object **ret)
{
	_cleanup_json_ json_object *o = json_object_new_object(), *a = NULL;
	int r;

	if (!o ||
	    add(o, "writer", json_object_new_string(m->writer ? m->writer : "")) < 0 ||
	    add(o, "application", json_object_new_string(m->application ? m->application
							      : "")) < 0)
		return -ENOMEM;
	a = json_object_new_array();
	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_components; i++) {
		const struct shadow_proto_component *c = &m->components[i];
		_cleanup_json_ json_object *co = json_object_new_object();

		if (!co ||
		    add(co, "name", json_object_new_string(c->name ? c->name : "")) < 0 ||
		    add(co, "paths", strv_to_json(c->paths, c->n_paths)) < 0 ||
		    add(co, "exclude", strv_to_json(c->exclude, c->n_exclude)) < 0 ||
		    array_add(a, TAKE_PTR(co)) < 0)
			return -ENOMEM;
	}
	if (add(o, "components", TAKE_PTR(a)) < 0 ||
	    (m->restore && add(o, "restore", json_object_new_string(m->restore)) < 0))
		return -ENOMEM;
	r = shadow_proto_metadata_validate(o, NULL, 0);
	if (r < 0)
		return -EINVAL;
	*ret = TAKE_PTR(o);
	return 0;
}

/* ------------------------------------------------------------------------
 * Lines
 */

void shadow_proto_reader_init(struct shadow_proto_reader *r, int fd)
{
	r->fd = fd;
	r->eof = false;
	r->len = 0;
}

/* Take the first @n bytes as a line, dropping the "\n" after them. */
static int take_line(struct shadow_proto_reader *r, size_t n, char **ret,
		     char *why, size_t why_size)
{
	char *line;

	if (memchr(r->buf, '\0', n))
		return fail(-EBADMSG, why, why_size, "a NUL byte in the line");
	line = malloc(n + 1);
	if (!line)
		return -ENOMEM;
	memcpy(line, r->buf, n);
	line[n] = '\0';
	r->len -= n + 1;
	memmove(r->buf, r->buf + n + 1, r->len);
	*ret = line;
	return 1;
}

int shadow_proto_read_line(struct shadow_proto_reader *r, char **ret_line,
			   char *why, size_t why_size)
{
	why_clear(why, why_size);
	for (;;) {
		char *nl = memchr(r->buf, '\n', r->len);
		ssize_t n;

		if (nl)
			return take_line(r, (size_t)(nl - r->buf), ret_line, why, why_size);
		if (r->len >= sizeof(r->buf))
			return fail(-EMSGSIZE, why, why_size,
				    "line longer than %d bytes", SHADOW_PROTO_LINE_MAX);
		if (r->eof) {
			if (r->len == 0)
				return 0;
			return fail(-EPROTO, why, why_size,
				    "end of file in the middle of a line (%zu bytes)", r->len);
		}
		n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -EAGAIN;
			return fail(negative_errno(), why, why_size, "read: %m");
		}
		if (n == 0)
			r->eof = true;
		r->len += (size_t)n;
	}
}

int shadow_proto_write_line(int fd, const char *line, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, line + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		done += (size_t)n;
	}
	return 0;
}
