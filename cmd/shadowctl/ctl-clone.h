/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl and clones (cmd/shadowctl/ctl-clone.c): detach, throttle, and
 * how list shows a clone's state.
 */
#ifndef SHADOW_CTL_CLONE_H
#define SHADOW_CTL_CLONE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl-args.h"
#include "libshadow.h"

/* shadowctl detach <shadow-id>: the copy as a plain device; prints it. */
int ctl_detach(shadow_ctx *ctx, const struct ctl_args *a, json_object *o);

/* shadowctl throttle <volume> <MiB/s>: a clone (or row) volume's background rate. */
int ctl_throttle(shadow_ctx *ctx, const struct ctl_args *a, json_object *o);

/*
 * list shadows' CLONE column: "hydrating 37%" (rounded down, so 100%
 * only once complete), "complete", "failed", "detached".  Writes @buf and
 * returns it.
 */
const char *ctl_clone_text(const char *state, uint64_t copied, uint64_t total,
			   char *buf, size_t size);

#endif
