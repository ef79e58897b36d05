/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl and clones (cmd/shadowctl/ctl-clone.c): detach and throttle.
 */
#ifndef SHADOW_CTL_CLONE_H
#define SHADOW_CTL_CLONE_H

#include <json-c/json.h>

#include "ctl-args.h"
#include "libshadow.h"

/* shadowctl detach <shadow-id>: the copy as a plain device; prints it. */
int ctl_detach(shadow_ctx *ctx, const struct ctl_args *a, json_object *o);

/* shadowctl throttle <volume> <MiB/s>: a clone (or row) volume's background rate. */
int ctl_throttle(shadow_ctx *ctx, const struct ctl_args *a, json_object *o);

#endif
