/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * writers.conf: permission check, ini parsing, typed lookups.  See
 * writer-conf.h and shadow-writers.conf(5).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "writer-conf.h"

_printf_(3, 4) static int conf_fail(struct writer_conf *c, int r,
				    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return r;
}

static void entries_free(struct conf_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].key);
		free(e[i].value);
	}
	free(e);
}

void writer_conf_clear(struct writer_conf *c)
{
	entries_free(c->entries, c->n_entries);
	free(c->path);
	free(c->section);
	c->path = c->section = NULL;
	c->entries = NULL;
	c->n_entries = 0;
}

int conf_check_private(struct writer_conf *c, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return conf_fail(c, negative_errno(), "%s: %m", c->path);
	if (!S_ISREG(st.st_mode))
		return conf_fail(c, -EPERM, "%s: not a regular file; refused",
				 c->path);
	if (st.st_uid != 0)
		return conf_fail(c, -EPERM,
				 "%s: owned by uid %u, not root; refused (it holds credentials: chown root)",
				 c->path, (unsigned int)st.st_uid);
	if (st.st_mode & 077)
		return conf_fail(c, -EPERM,
				 "%s: mode %04o gives group or others access; refused (it holds credentials: chmod 600)",
				 c->path, (unsigned int)(st.st_mode & 07777));
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Section names are writer names: run-parts' [A-Za-z0-9_-]+. */
static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') ||
		      ('0' <= *s && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* A parsed line of one of the two sections a writer may read. */
struct pending {
	struct conf_entry *e;
	size_t n;
};

static int pending_add(struct pending *p, const char *key, const char *value,
		       unsigned int line)
{
	struct conf_entry *t = realloc(p->e, (p->n + 1) * sizeof(*t));

	if (!t)
		return -ENOMEM;
	p->e = t;
	t[p->n] = (struct conf_entry) {
		.key = strdup(key), .value = strdup(value), .line = line,
	};
	if (!t[p->n].key || !t[p->n].value) {
		free(t[p->n].key);
		free(t[p->n].value);
		return -ENOMEM;
	}
	p->n++;
	return 0;
}

/*
 * Parse every line; keep the entries of the sections named @invoked
 * (own[0]) and @kind (own[1]).  *seen[i] says whether that section
 * exists, even empty.
 */
static int parse(struct writer_conf *c, FILE *f, const char *invoked,
		 const char *kind, struct pending own[2], bool seen[2])
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	unsigned int line = 0;
	int cur = -1;		/* own[] index of the current section, -1: another */
	bool in_section = false;

	while (getline(&buf, &size, f) >= 0) {
		char *s = trim(buf), *eq, *key, *value;
		int r;

		line++;
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			size_t len = strlen(s);

			if (s[len - 1] != ']')
				return conf_fail(c, -EINVAL, "%s:%u: a section line must end with ']'",
						 c->path, line);
			s[len - 1] = '\0';
			s = trim(s + 1);
			if (!valid_name(s))
				return conf_fail(c, -EINVAL, "%s:%u: bad section name '%s' (letters, digits, '_' and '-')",
						 c->path, line, s);
			in_section = true;
			cur = !strcmp(s, invoked) ? 0 : !strcmp(s, kind) ? 1 : -1;
			if (cur >= 0)
				seen[cur] = true;
			continue;
		}
		eq = strchr(s, '=');
		if (!eq)
			return conf_fail(c, -EINVAL, "%s:%u: expected 'key = value', '[section]' or a comment",
					 c->path, line);
		*eq = '\0';
		key = trim(s);
		value = trim(eq + 1);
		if (!valid_name(key))
			return conf_fail(c, -EINVAL, "%s:%u: bad key '%s'",
					 c->path, line, key);
		if (!in_section)
			return conf_fail(c, -EINVAL, "%s:%u: key '%s' before any [section]",
					 c->path, line, key);
		if (cur < 0)
			continue;
		r = pending_add(&own[cur], key, value, line);
		if (r < 0)
			return conf_fail(c, r, "%s: out of memory", c->path);
	}
	if (ferror(f))
		return conf_fail(c, -EIO, "%s: read error", c->path);
	return 0;
}

static const struct conf_key *key_find(const struct conf_key *keys,
				       const char *name)
{
	for (; keys && keys->name; keys++)
		if (!strcmp(keys->name, name))
			return keys;
	return NULL;
}

/* Unknown keys and repeated single keys are mistakes: say which line. */
static int check_keys(struct writer_conf *c, const struct conf_key *keys)
{
	for (size_t i = 0; i < c->n_entries; i++) {
		const struct conf_entry *e = &c->entries[i];
		const struct conf_key *k = key_find(keys, e->key);

		if (!k)
			return conf_fail(c, -EINVAL, "%s:%u: [%s] has no key '%s'",
					 c->path, e->line, c->section, e->key);
		if (k->repeat)
			continue;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->entries[j].key, e->key))
				return conf_fail(c, -EINVAL, "%s:%u: [%s] sets '%s' again (line %u); it takes one value",
						 c->path, e->line, c->section,
						 e->key, c->entries[j].line);
	}
	return 0;
}

int writer_conf_load(struct writer_conf *c, const char *path,
		     const char *invoked, const char *kind,
		     const struct conf_key *keys)
{
	_cleanup_fclose_ FILE *f = NULL;
	struct pending own[2] = {};
	bool seen[2] = {};
	int pick, fd, r;

	writer_conf_clear(c);
	c->error[0] = '\0';
	c->path = strdup(path);
	if (!c->path)
		return conf_fail(c, -ENOMEM, "out of memory");

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;	/* no file: every key has its default */
		return conf_fail(c, negative_errno(), "%s: %m", path);
	}
	f = fdopen(fd, "r");
	if (!f) {
		r = negative_errno();
		close(fd);
		return conf_fail(c, r, "%s: %m", path);
	}
	r = conf_check_private(c, fd);
	if (r < 0)
		return r;

	r = parse(c, f, invoked, kind, own, seen);
	if (r >= 0) {
		pick = seen[0] ? 0 : seen[1] ? 1 : -1;
		if (pick >= 0) {
			c->section = strdup(pick == 0 ? invoked : kind);
			if (!c->section)
				r = conf_fail(c, -ENOMEM, "out of memory");
			c->entries = own[pick].e;
			c->n_entries = own[pick].n;
			own[pick] = (struct pending) {};
		}
	}
	entries_free(own[0].e, own[0].n);
	entries_free(own[1].e, own[1].n);
	if (r < 0)
		return r;
	return check_keys(c, keys);
}

const char *conf_get(const struct writer_conf *c, const char *key,
		     const char *def)
{
	for (size_t i = c->n_entries; i > 0; i--)
		if (!strcmp(c->entries[i - 1].key, key))
			return c->entries[i - 1].value;
	return def;
}

const char *conf_next(const struct writer_conf *c, const char *key, size_t *i)
{
	for (; *i < c->n_entries; (*i)++)
		if (!strcmp(c->entries[*i].key, key))
			return c->entries[(*i)++].value;
	return NULL;
}

int conf_get_uint(struct writer_conf *c, const char *key, unsigned int def,
		  unsigned int min, unsigned int max, unsigned int *ret)
{
	const char *v = conf_get(c, key, NULL);
	unsigned long n;
	char *end;

	if (!v) {
		*ret = def;
		return 0;
	}
	errno = 0;
	n = strtoul(v, &end, 10);
	if (!*v || *end || errno || v[0] == '-' || n < min || n > max)
		return conf_fail(c, -EINVAL, "%s: [%s] %s = '%s': expected a number from %u to %u",
				 c->path, c->section, key, v, min, max);
	*ret = n;
	return 0;
}
