/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl activate and deactivate: volume by volume, going on past a
 * volume that fails (a boot service must bring up every volume it can).
 */
#ifndef SHADOW_CTL_ACTIVATE_H
#define SHADOW_CTL_ACTIVATE_H

#include <json-c/json.h>

#include "ctl-args.h"
#include "libshadow.h"

/*
 * Activate (or deactivate) the volumes of @a, printing a line per volume
 * (or filling @o for --json).  Every failure but the last is printed
 * here; the last one is returned (-errno, shadow_ctx_error() saying what
 * failed) for the caller to print, as for any verb.
 */
int ctl_activate(shadow_ctx *ctx, const struct ctl_args *a, json_object *o);

#endif
