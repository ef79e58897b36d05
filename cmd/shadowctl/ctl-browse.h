/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl browse: every shadow copy of a volume exposed read-only and
 * mounted under BROWSE_ROOT/<volume>/<creation time>/, as Windows'
 * "Previous Versions" and snapper's .snapshots give (cmd/shadowctl/ctl-browse.c).
 * The exposing and mounting is the library's (shadow_copy_expose()).
 */
#ifndef SHADOW_CTL_BROWSE_H
#define SHADOW_CTL_BROWSE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctl-args.h"
#include "libshadow.h"

#define BROWSE_ROOT "/run/shadow"

/* Copy @c is exposed by browse: mounted under BROWSE_ROOT/<its volume>/. */
bool ctl_browse_owns(const shadow_copy *c);
/* @volume is being browsed: BROWSE_ROOT/<volume>/ exists. */
bool ctl_browse_active(const char *volume);
/*
 * Expose copy @id read-only and mount it on BROWSE_ROOT/<volume>/<time>/
 * (made here); add {"shadow", "created", "device", "mountpoint"} to array @out
 * if not NULL.  On failure, what failed is in @what (as in the functions below).
 */
int ctl_browse_copy(shadow_ctx *ctx, uint64_t id, json_object *out, char *what, size_t what_len);
/* Unmount and unexpose a browsed copy, and remove its directory. */
int ctl_browse_release(shadow_ctx *ctx, uint64_t id, char *what, size_t what_len);

/* The verb: browse <volume>, browse --stop [<volume>]. */
int ctl_browse(shadow_ctx *ctx, const struct ctl_args *a, json_object *o,
	       char *what, size_t what_len);

#endif
