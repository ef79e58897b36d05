/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl list: one column table per kind of list (ctl-columns.h), and
 * the JSON objects other verbs print for a copy, a set or a volume, made
 * from the same tables so that every command names fields alike.
 */
#ifndef SHADOW_CTL_LIST_H
#define SHADOW_CTL_LIST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "ctl-args.h"
#include "ctl-columns.h"
#include "libshadow.h"

/* The column table of a list kind (never NULL for a valid kind). */
const struct ctl_table *ctl_list_table(enum ctl_list kind);

/* Print list @a->list with the columns and flags parsed into @a. */
int ctl_list(shadow_ctx *ctx, const struct ctl_args *a);

/*
 * 'shadowctl list [kind] --help': the list options and the columns of
 * @kind (NULL or not a kind: of every kind).
 */
void ctl_list_usage(FILE *out, const char *kind);

/* Every JSON field of one object, as 'list' prints it. */
json_object *ctl_copy_json(shadow_ctx *ctx, const shadow_copy *c);
json_object *ctl_volume_json(shadow_ctx *ctx, const shadow_volume *v);
/* With @with_copies, plus "shadows": the set's copies. */
json_object *ctl_set_json(shadow_ctx *ctx, const shadow_set *s, bool with_copies);

#endif
