/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl's writers: what 'create' prints and sends
 * about them.  On the public libshadow.h only.
 */
#ifndef SHADOW_CTL_WRITERS_H
#define SHADOW_CTL_WRITERS_H

#include <json-c/json.h>

#include "ctl-args.h"
#include "libshadow.h"

/* The create options from the command line; 0 or -errno (why in @why). */
int ctl_create_opts(const struct ctl_args *a, shadow_create_opts **ret,
		    char *why, size_t why_len);

/* A set's writers as a JSON array: [{ "name", "metadata", "data" }]. */
json_object *ctl_set_writers_json(const shadow_set *s);

/* 'create' without --json: one line per writer of the set. */
void ctl_print_set_writers(const shadow_set *s);

#endif
