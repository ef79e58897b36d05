/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl enable, activate and deactivate.  Activate and deactivate go
 * volume by volume, on past a volume that fails (a boot service must
 * bring up every volume it can).
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

/*
 * Enable the device of @a with its options; print the volume (a line, or
 * {"volume": ...} for --json, into @o).  Returns 0 or -errno, as above.
 */
int ctl_enable(shadow_ctx *ctx, const struct ctl_args *a, json_object *o);

#endif
