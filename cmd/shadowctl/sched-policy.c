/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-args.h"
#include "ctl-invalid.h"
#include "sched-policy.h"

/* What a policy holds before its file says otherwise. */
static const struct sched_policy default_policy = {
	.interval = 3600,
	.keep = { .hourly = 24, .daily = 7, .weekly = 4, .monthly = 6 },
};

static void policy_clear(struct sched_policy *p)
{
	free(p->name);
	for (size_t i = 0; i < p->n_volumes; i++)
		free(p->volumes[i]);
	for (size_t i = 0; i < p->n_writers; i++)
		free(p->writers[i]);
}

void sched_conf_clear(struct sched_conf *c)
{
	for (size_t i = 0; i < c->n; i++)
		policy_clear(&c->policies[i]);
	free(c->policies);
	*c = (struct sched_conf) { 0 };
}

const struct sched_policy *sched_conf_find(const struct sched_conf *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->policies[i].name, name) == 0)
			return &c->policies[i];
	return NULL;
}

const struct sched_policy *sched_conf_of_volume(const struct sched_conf *c, const char *volume)
{
	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < c->policies[i].n_volumes; j++)
			if (strcmp(c->policies[i].volumes[j], volume) == 0)
				return &c->policies[i];
	return NULL;
}

int sched_parse_interval(const char *s, uint64_t *ret)
{
	static const struct { char unit; uint64_t seconds; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 },
	};
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (ctl_parse_number(s, &v, &end) < 0)
		return -EINVAL;
	if (*end) {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (*end == units[i].unit)
				break;
		if (i == sizeof(units) / sizeof(units[0]) || end[1])
			return -EINVAL;
		mult = units[i].seconds;
	}
	/* Ten years is plenty, and keeps every sum below overflow. */
	if (v > 315360000ULL / mult)
		return -EINVAL;
	*ret = v * mult;
	return 0;
}

/* Letters, digits and "#+-.:=@_" (a volume's name rule), not starting with '-'. */
static bool name_ok(const char *s)
{
	if (!*s || *s == '-' || strlen(s) > 93 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("#+-.:=@_", *s)))
			return false;
	return true;
}

static bool writer_name_ok(const char *s)
{
	return ctl_writer_name_ok(s, strlen(s));
}

static int parse_count(const char *s, unsigned int *ret)
{
	unsigned long long v;
	char *end;

	if (ctl_parse_number(s, &v, &end) < 0 || *end || v > 100000)
		return -EINVAL;
	*ret = (unsigned int)v;
	return 0;
}

/* Split @value on blanks into @v (strdup'ed), at most @max words. */
static int split_words(char *value, char **v, size_t *n, size_t max,
		       bool (*ok)(const char *), const char *what, unsigned int line,
		       char *why, size_t len)
{
	for (char *save = NULL, *w = strtok_r(value, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		if (!ok(w))
			return ctl_invalid(why, len, "line %u: bad %s name '%s'", line, what, w);
		for (size_t i = 0; i < *n; i++)
			if (strcmp(v[i], w) == 0)
				return ctl_invalid(why, len, "line %u: %s '%s' named twice", line, what, w);
		if (*n >= max)
			return ctl_invalid(why, len, "line %u: more than %zu %ss", line, max, what);
		v[*n] = strdup(w);
		if (!v[*n])
			return -ENOMEM;
		(*n)++;
	}
	if (*n == 0)
		return ctl_invalid(why, len, "line %u: no %s named", line, what);
	return 0;
}

static int parse_key(struct sched_policy *p, const char *key, char *value, unsigned int line,
		     char *why, size_t len)
{
	static const struct { const char *key; size_t off; } counts[] = {
		{ "keep_hourly", offsetof(struct sched_policy, keep.hourly) },
		{ "keep_daily", offsetof(struct sched_policy, keep.daily) },
		{ "keep_weekly", offsetof(struct sched_policy, keep.weekly) },
		{ "keep_monthly", offsetof(struct sched_policy, keep.monthly) },
	};

	if (strcmp(key, "volumes") == 0)
		return split_words(value, p->volumes, &p->n_volumes, SCHED_MAX_VOLUMES,
				   name_ok, "volume", line, why, len);
	if (strcmp(key, "interval") == 0) {
		if (sched_parse_interval(value, &p->interval) < 0)
			return ctl_invalid(why, len, "line %u: interval: '%s' is not a duration such as 30m, 12h, 1d, 1w or 0",
					   line, value);
		return 0;
	}
	if (strcmp(key, "writers") == 0) {
		if (strcmp(value, "all") == 0)
			return 0;
		if (strcmp(value, "none") == 0) {
			p->no_writers = true;
			return 0;
		}
		return split_words(value, p->writers, &p->n_writers, SCHED_MAX_WRITERS,
				   writer_name_ok, "writer", line, why, len);
	}
	if (strcmp(key, "min_free") == 0) {
		struct ctl_max_size m;

		if (strcmp(value, "0") == 0)
			return 0;
		if (ctl_parse_max_size(value, &m) < 0 || m.max)
			return ctl_invalid(why, len, "line %u: min_free: '%s' is not a size such as 64M, a percentage such as 20%%, or 0",
					   line, value);
		p->min_free_bytes = m.bytes;
		p->min_free_percent = m.percent;
		return 0;
	}
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if (strcmp(key, counts[i].key) == 0) {
			if (parse_count(value, (unsigned int *)((char *)p + counts[i].off)) < 0)
				return ctl_invalid(why, len, "line %u: %s: '%s' is not a count from 0 to 100000",
						   line, key, value);
			return 0;
		}
	return ctl_invalid(why, len, "line %u: unknown key '%s' (volumes, interval, writers, keep_hourly, keep_daily, keep_weekly, keep_monthly, min_free)",
			   line, key);
}

static char *trim(char *s)
{
	char *e;

	s += strspn(s, " \t\r");
	e = s + strlen(s);
	while (e > s && strchr(" \t\r", e[-1]))
		*--e = '\0';
	return s;
}

/* A new policy [@name] at @line, its volumes defaulting to its name later. */
static int add_policy(struct sched_conf *c, const char *name, unsigned int line,
		      char *why, size_t len)
{
	struct sched_policy *t;

	if (!name_ok(name))
		return ctl_invalid(why, len, "line %u: bad policy name '%s' (letters, digits and #+-.:=@_)",
				   line, name);
	if (sched_conf_find(c, name))
		return ctl_invalid(why, len, "line %u: policy [%s] defined twice", line, name);
	t = realloc(c->policies, (c->n + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	c->policies = t;
	t[c->n] = default_policy;
	t[c->n].line = line;
	t[c->n].name = strdup(name);
	if (!t[c->n].name)
		return -ENOMEM;
	c->n++;
	return 0;
}

/* After its last line: the defaults that depend on the rest, and checks. */
static int finish_policy(struct sched_conf *c, struct sched_policy *p, char *why, size_t len)
{
	if (p->n_volumes == 0) {
		p->volumes[0] = strdup(p->name);
		if (!p->volumes[0])
			return -ENOMEM;
		p->n_volumes = 1;
	}
	for (size_t i = 0; i < p->n_volumes; i++)
		for (size_t j = 0; j < (size_t)(p - c->policies); j++) {
			const struct sched_policy *q = &c->policies[j];

			for (size_t k = 0; k < q->n_volumes; k++)
				if (strcmp(q->volumes[k], p->volumes[i]) == 0)
					return ctl_invalid(why, len, "line %u: volume %s is already in policy [%s] (line %u)",
							   p->line, p->volumes[i], q->name, q->line);
		}
	return 0;
}

int sched_conf_parse(const char *text, struct sched_conf *ret, char *why, size_t len)
{
	struct sched_conf c = { 0 };
	char *copy = strdup(text), *next, *line;
	unsigned int nr = 0, seen = 0;	/* seen: keys given in this policy, as bits */
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (line = copy; line && r >= 0; line = next) {
		char *eq, *key, *value;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		nr++;
		line = trim(line);
		if (!*line || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			char *end = strchr(line, ']');

			if (!end || *trim(end + 1)) {
				r = ctl_invalid(why, len, "line %u: a section header is [<policy>]", nr);
				break;
			}
			*end = '\0';
			if (c.n)
				r = finish_policy(&c, &c.policies[c.n - 1], why, len);
			if (r >= 0)
				r = add_policy(&c, trim(line + 1), nr, why, len);
			seen = 0;
			continue;
		}
		eq = strchr(line, '=');
		if (!eq) {
			r = ctl_invalid(why, len, "line %u: expected <key> = <value> or [<policy>]", nr);
			break;
		}
		*eq = '\0';
		key = trim(line);
		value = trim(eq + 1);
		if (!c.n) {
			r = ctl_invalid(why, len, "line %u: key '%s' before any [<policy>]", nr, key);
			break;
		}
		if (!*value) {
			r = ctl_invalid(why, len, "line %u: %s has no value", nr, key);
			break;
		}
		{
			static const char *const keys[] = {
				"volumes", "interval", "writers", "keep_hourly", "keep_daily",
				"keep_weekly", "keep_monthly", "min_free",
			};

			for (unsigned int i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
				if (strcmp(key, keys[i]) == 0) {
					if (seen & (1u << i))
						r = ctl_invalid(why, len, "line %u: %s given twice in [%s]",
								nr, key, c.policies[c.n - 1].name);
					seen |= 1u << i;
				}
		}
		if (r >= 0)
			r = parse_key(&c.policies[c.n - 1], key, value, nr, why, len);
	}
	if (r >= 0 && c.n)
		r = finish_policy(&c, &c.policies[c.n - 1], why, len);
	free(copy);
	if (r < 0) {
		sched_conf_clear(&c);
		return r;
	}
	sched_conf_clear(ret);
	*ret = c;
	return 0;
}

int sched_conf_load(const char *path, struct sched_conf *ret, char *why, size_t len)
{
	char *text = NULL, msg[400];
	size_t size = 0, n;
	FILE *f;
	int r;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		snprintf(why, len, "read %s", path);
		return r;
	}
	n = getdelim(&text, &size, '\0', f);
	if (ferror(f) || (n == (size_t)-1 && !feof(f))) {
		r = -EIO;
		snprintf(why, len, "read %s", path);
	} else {
		r = sched_conf_parse(text ? text : "", ret, msg, sizeof(msg));
		if (r < 0)
			snprintf(why, len, "read %s: %s", path, msg);
	}
	free(text);
	fclose(f);
	return r;
}
