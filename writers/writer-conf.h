/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * writers.conf, as one writer reads it (shadow-writers.conf(5)).
 *
 * The file is ini style: "[section]" lines, "key = value" lines, and
 * comment lines starting with '#' or ';'.  A writer reads one section:
 * the one named after the name it was started as (its entry in the
 * writers directory) if the file has it, else the one named after its
 * kind ("postgresql").  Other sections belong to other writers and are
 * only checked for syntax.
 *
 * The file holds credentials, so it must belong to root and give group
 * and others no permission at all; anything else is refused before a
 * byte of it is parsed.  A missing file is an empty one: every key has
 * its default.
 */
#ifndef WRITER_CONF_H
#define WRITER_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* A key a writer understands; "repeat" keys may occur more than once. */
struct conf_key {
	const char *name;
	bool repeat;
};

struct conf_entry {
	char *key;
	char *value;
	unsigned int line;
};

struct writer_conf {
	char *path;
	char *section;			/* the section read, NULL if none */
	struct conf_entry *entries;	/* that section's, in file order */
	size_t n_entries;
	char error[512];		/* why the last call failed */
};

/*
 * Load @path for a writer started as @invoked whose kind is @kind: check
 * ownership and mode, parse, pick the section, check every key of it
 * against @keys (NULL-terminated).  On failure c->error says why, with
 * the file name and line.
 */
int writer_conf_load(struct writer_conf *c, const char *path,
		     const char *invoked, const char *kind,
		     const struct conf_key *keys);
void writer_conf_clear(struct writer_conf *c);

/* The (last) value of @key, or @def when the section does not set it. */
const char *conf_get(const struct writer_conf *c, const char *key,
		     const char *def);
/*
 * Walk the values of a repeatable key: start with *i = 0; returns NULL
 * after the last one.
 */
const char *conf_next(const struct writer_conf *c, const char *key, size_t *i);
/* An unsigned number in [min, max]; a bad one fails with c->error set. */
int conf_get_uint(struct writer_conf *c, const char *key, unsigned int def,
		  unsigned int min, unsigned int max, unsigned int *ret);

/* Check an open file is root's and private to it (exported for tests). */
int conf_check_private(struct writer_conf *c, int fd);

#endif
