/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The options of a set creation (shadow_create_opts in libshadow.h).
 * Not installed.
 */
#ifndef SHADOW_CREATE_OPTS_H
#define SHADOW_CREATE_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libshadow.h"

/* Bounds: a set never retries forever, a name list stays small. */
#define SHADOW_MAX_RETRIES 100
#define SHADOW_MAX_SELECTED 64

struct shadow_create_opts {
	uint64_t commit_timeout_us;	/* 0: default */
	uint64_t writer_timeout_us;	/* 0: default */
	unsigned int retries;
	bool no_writers;
	char **writers;			/* only these, if any */
	size_t n_writers;
	char **components;		/* "<writer>/<component>", if any */
	size_t n_components;
	char **excluded;		/* "<writer>/<component>" left out */
	size_t n_excluded;
	/* clone volumes: the target of each one's new clone, as given */
	char **target_volumes;
	char **target_devices;
	size_t n_targets;
};

/* Is "<writer>/<component>" named in @o? */
bool create_opts_component_named(const struct shadow_create_opts *o,
				 const char *writer, const char *component);
/* Is "<writer>/<component>" excluded in @o? */
bool create_opts_component_excluded(const struct shadow_create_opts *o,
				    const char *writer, const char *component);
/* Is any component of @writer named in @o? */
bool create_opts_writer_has_components(const struct shadow_create_opts *o,
				       const char *writer);

#endif
