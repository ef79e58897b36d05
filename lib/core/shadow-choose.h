/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Choosing the writers' components for a set: the coverage rule and the
 * requester's --component and --exclude-component.  Not installed.
 */
#ifndef SHADOW_CHOOSE_H
#define SHADOW_CHOOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "libshadow.h"
#include "shadow-create-opts.h"
#include "shadow-writers.h"

/*
 * Which components go into a set (shadow-writer(7), "identify").  A
 * component's data is in the set only if every one of its paths is: a
 * copy of part of it (PostgreSQL's data directory without the pg_wal it
 * links to elsewhere) is not one the application can start from, whatever
 * the writer says.  So, as VSS does, a component is kept when all of its
 * paths are on the set's volumes, left alone when none is, and fails the
 * set when only some are, unless the requester excludes it.
 */
enum coverage {
	COVERAGE_NONE,		/* no path on the set's volumes */
	COVERAGE_PARTIAL,	/* some on them, some elsewhere */
	COVERAGE_FULL,		/* every path on them */
};

/* Where one path of a component is: its file system's device, or why not known. */
struct path_place {
	dev_t dev;
	int err;		/* 0, or -errno from stat(); -ENOENT: holds nothing */
};

/*
 * How the paths at @places lie on the set's devices @set_devs.  A path
 * that does not exist holds nothing and counts for neither side; one that
 * cannot be looked at otherwise (-EACCES, -EIO) counts as elsewhere.
 * @ret_missing (may be NULL; @n entries) says which paths are elsewhere.
 * A component without paths (or whose paths do not exist) is NONE.
 */
enum coverage component_coverage(const struct path_place *places, size_t n,
				 const dev_t *set_devs, size_t n_set, bool *ret_missing);

/* Where @path is: stat()'s st_dev, or -errno. */
struct path_place path_place_of(const char *path);

/*
 * Choose @w's components for a set of the volumes @names (devices @devs,
 * @n of them), as the requester's options @o say: the named ones (each
 * must be wholly on the set), or those wholly on the set; excluded ones
 * never, and recorded in w->excluded.  A component partly on the set,
 * not excluded, fails with -EXDEV and @why naming the writer, the
 * component, a path elsewhere and the volume (or device) it is on.
 */
int writer_choose_components(shadow_ctx *ctx, struct writer_proc *w,
			     const struct shadow_create_opts *o, const dev_t *devs,
			     size_t n, char *why, size_t why_len);

#endif
