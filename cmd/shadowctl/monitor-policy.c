/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-args.h"
#include "ctl-invalid.h"
#include "monitor-policy.h"

static const struct monitor_policy default_policy = {
	.action = MONITOR_WARN,
	.warn_above = 80,
	.act_above = 90,
	.delete_until = 70,
	.grow_step = { .percent = 10 },
	.grow_max = { .max = true },
};

static const char *const action_names[] = {
	[MONITOR_WARN] = "warn",
	[MONITOR_DELETE_OLDEST] = "delete-oldest",
	[MONITOR_GROW] = "grow",
};

const char *monitor_action_name(enum monitor_action a)
{
	return action_names[a];
}

void monitor_conf_init(struct monitor_conf *c)
{
	*c = (struct monitor_conf) { .defaults = default_policy };
}

void monitor_conf_clear(struct monitor_conf *c)
{
	for (size_t i = 0; i < c->n_volumes; i++)
		free(c->volumes[i].volume);
	free(c->volumes);
	monitor_conf_init(c);
}

static int parse_percent(json_object *v, unsigned int min, unsigned int *ret)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	n = json_object_get_int64(v);
	if (n < min || n > 100)
		return -EINVAL;
	*ret = (unsigned int)n;
	return 0;
}

/* "64M", "10%", "max" (if @max_ok), or a number of bytes. */
static int parse_size(json_object *v, bool max_ok, struct monitor_size *ret)
{
	struct ctl_max_size m;

	if (json_object_is_type(v, json_type_int)) {
		if (json_object_get_int64(v) <= 0)
			return -EINVAL;
		*ret = (struct monitor_size) { .bytes = (uint64_t)json_object_get_int64(v) };
		return 0;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    ctl_parse_max_size(json_object_get_string(v), &m) < 0 ||
	    (m.max && !max_ok))
		return -EINVAL;
	*ret = (struct monitor_size) { .bytes = m.bytes, .percent = m.percent, .max = m.max };
	return 0;
}

static int parse_action(json_object *v, enum monitor_action *ret)
{
	const char *s = json_object_get_string(v);

	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (strcmp(s, action_names[i]) == 0) {
			*ret = (enum monitor_action)i;
			return 0;
		}
	return -EINVAL;
}

/* Apply the keys of object @o (at @where) on top of @p. */
static int parse_policy(json_object *o, const char *where, struct monitor_policy *p,
			char *why, size_t len)
{
	if (!json_object_is_type(o, json_type_object))
		return ctl_invalid(why, len, "%s: not an object", where);
	json_object_object_foreach(o, key, v) {
		int r;

		if (strcmp(key, "policy") == 0)
			r = parse_action(v, &p->action);
		else if (strcmp(key, "warn_above") == 0)
			r = parse_percent(v, 0, &p->warn_above);
		else if (strcmp(key, "act_above") == 0)
			r = parse_percent(v, 1, &p->act_above);
		else if (strcmp(key, "delete_until") == 0)
			r = parse_percent(v, 0, &p->delete_until);
		else if (strcmp(key, "grow_step") == 0)
			r = parse_size(v, false, &p->grow_step);
		else if (strcmp(key, "grow_max") == 0)
			r = parse_size(v, true, &p->grow_max);
		else
			return ctl_invalid(why, len, "%s: unknown key \"%s\"", where, key);
		if (r < 0) {
			static const char *const want[][2] = {
				{ "policy", "\"warn\", \"delete-oldest\" or \"grow\"" },
				{ "warn_above", "a percentage from 0 to 100" },
				{ "act_above", "a percentage from 1 to 100" },
				{ "delete_until", "a percentage from 0 to 100" },
				{ "grow_step", "a size such as \"64M\" or \"10%\", or bytes" },
				{ "grow_max", "a size such as \"1G\" or \"50%\", bytes, or \"max\"" },
			};
			const char *w = "";

			for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
				if (strcmp(key, want[i][0]) == 0)
					w = want[i][1];
			return ctl_invalid(why, len, "%s.%s: %s is not %s", where, key,
				   json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), w);
		}
	}
	if (p->action == MONITOR_DELETE_OLDEST && p->delete_until >= p->act_above)
		return ctl_invalid(why, len, "%s: delete_until (%u%%) must be below act_above (%u%%)",
			   where, p->delete_until, p->act_above);
	return 0;
}

/* 1-based line of byte @offset in @text. */
static unsigned int line_of(const char *text, size_t offset)
{
	unsigned int line = 1;

	for (size_t i = 0; i < offset && text[i]; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

static json_object *parse_json(const char *text, char *why, size_t len)
{
	json_tokener *tok = json_tokener_new();
	size_t n = strlen(text), end;
	json_object *o;
	enum json_tokener_error e;

	if (!tok) {
		ctl_invalid(why, len, "out of memory");
		return NULL;
	}
	o = json_tokener_parse_ex(tok, text, (int)n);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o) {
		ctl_invalid(why, len, "line %u: %s", line_of(text, end),
		    e == json_tokener_continue ? "unexpected end of the text" :
		    json_tokener_error_desc(e));
		return NULL;
	}
	/* Only white space may follow the object. */
	if (strspn(text + end, " \t\r\n") != n - end) {
		ctl_invalid(why, len, "line %u: text after the object", line_of(text, end));
		json_object_put(o);
		return NULL;
	}
	return o;
}

int monitor_conf_parse(const char *text, struct monitor_conf *ret,
		       char *why, size_t len)
{
	struct monitor_conf c;
	json_object *root, *defaults = NULL, *volumes = NULL;
	int r = 0;

	monitor_conf_init(&c);
	/* An empty file: the defaults. */
	if (strspn(text, " \t\r\n") == strlen(text)) {
		monitor_conf_clear(ret);
		return 0;
	}
	root = parse_json(text, why, len);
	if (!root)
		return -EINVAL;
	if (!json_object_is_type(root, json_type_object)) {
		r = ctl_invalid(why, len, "the configuration is not a JSON object");
		goto out;
	}
	json_object_object_foreach(root, key, v) {
		if (strcmp(key, "defaults") == 0)
			defaults = v;
		else if (strcmp(key, "volumes") == 0)
			volumes = v;
		else {
			r = ctl_invalid(why, len, "unknown key \"%s\" (expected \"defaults\" and \"volumes\")", key);
			goto out;
		}
	}
	if (defaults) {
		r = parse_policy(defaults, "defaults", &c.defaults, why, len);
		if (r < 0)
			goto out;
	}
	if (volumes && !json_object_is_type(volumes, json_type_object)) {
		r = ctl_invalid(why, len, "volumes: not an object");
		goto out;
	}
	if (volumes) {
		json_object_object_foreach(volumes, name, pv) {
			struct monitor_volume_policy *t;
			char where[160];

			t = realloc(c.volumes, (c.n_volumes + 1) * sizeof(*t));
			if (!t) {
				r = -ENOMEM;
				goto out;
			}
			c.volumes = t;
			t = &c.volumes[c.n_volumes];
			t->policy = c.defaults;
			t->volume = strdup(name);
			if (!t->volume) {
				r = -ENOMEM;
				goto out;
			}
			c.n_volumes++;
			snprintf(where, sizeof(where), "volumes.%s", name);
			r = parse_policy(pv, where, &t->policy, why, len);
			if (r < 0)
				goto out;
		}
	}
	monitor_conf_clear(ret);
	*ret = c;
	c = (struct monitor_conf) { 0 };
out:
	monitor_conf_clear(&c);
	json_object_put(root);
	return r;
}

int monitor_conf_load(const char *path, struct monitor_conf *ret,
		      char *why, size_t len)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t size = 0, n;
	char buf[4096];
	int r;

	if (!f) {
		if (errno == ENOENT) {
			monitor_conf_clear(ret);
			return 0;
		}
		r = -errno;
		ctl_invalid(why, len, "cannot open it: %s", strerror(-r));
		return r;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		char *t = size + n < 1 << 20 ? realloc(text, size + n + 1) : NULL;

		if (!t) {
			free(text);
			fclose(f);
			return ctl_invalid(why, len, "too large, or out of memory");
		}
		text = t;
		memcpy(text + size, buf, n);
		size += n;
	}
	r = ferror(f) ? -EIO : 0;
	fclose(f);
	if (r < 0) {
		free(text);
		return ctl_invalid(why, len, "cannot read it");
	}
	r = monitor_conf_parse(text ? (text[size] = '\0', text) : "", ret, why, len);
	free(text);
	return r;
}

const struct monitor_policy *monitor_conf_policy(const struct monitor_conf *c,
						 const char *volume)
{
	for (size_t i = 0; i < c->n_volumes; i++)
		if (strcmp(c->volumes[i].volume, volume) == 0)
			return &c->volumes[i].policy;
	return &c->defaults;
}

/* Decisions */

bool monitor_above(const struct monitor_usage *u, unsigned int pct)
{
	return pct && u->used * 100 >= u->limit * pct;
}

unsigned int monitor_percent(const struct monitor_usage *u)
{
	return u->limit ? (unsigned int)(u->used * 100 / u->limit) : 100;
}

bool monitor_should_delete(const struct monitor_policy *p,
			   const struct monitor_usage *u, bool deleting)
{
	if (p->action != MONITOR_DELETE_OLDEST)
		return false;
	if (deleting)
		return u->used * 100 > u->limit * p->delete_until;
	return monitor_above(u, p->act_above);
}

/* @s in chunks: @round_up for a step (at least one chunk), down for a max. */
static uint64_t size_chunks(const struct monitor_size *s,
			    const struct monitor_usage *u, bool round_up)
{
	uint64_t n;

	if (s->max)
		return u->capacity;
	if (s->percent)
		n = round_up ? (u->capacity * s->percent + 99) / 100 :
			       u->capacity * s->percent / 100;
	else
		n = round_up ? (s->bytes + u->chunk_bytes - 1) / u->chunk_bytes :
			       s->bytes / u->chunk_bytes;
	return round_up && n == 0 ? 1 : n;
}

uint64_t monitor_grow_limit(const struct monitor_policy *p,
			    const struct monitor_usage *u, bool *ret_capped)
{
	uint64_t step = size_chunks(&p->grow_step, u, true);
	uint64_t max = size_chunks(&p->grow_max, u, false);
	struct monitor_usage t = *u;

	*ret_capped = false;
	if (p->action != MONITOR_GROW || !monitor_above(u, p->act_above))
		return 0;
	if (max > u->capacity)
		max = u->capacity;
	while (monitor_above(&t, p->act_above) && t.limit < max)
		t.limit = t.limit + step < max ? t.limit + step : max;
	*ret_capped = monitor_above(&t, p->act_above);
	return t.limit > u->limit ? t.limit : 0;
}

size_t monitor_thresholds(const struct monitor_policy *p, unsigned int ret[2])
{
	size_t n = 0;

	if (p->warn_above)
		ret[n++] = p->warn_above;
	if (p->action != MONITOR_WARN) {
		if (n && p->act_above == ret[0])
			return n;
		if (n && p->act_above < ret[0]) {
			ret[1] = ret[0];
			ret[0] = p->act_above;
			return 2;
		}
		ret[n++] = p->act_above;
	}
	return n;
}
