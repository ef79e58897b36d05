/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl schedule show|run|run-now|cleanup: scheduled shadow copies
 * and their retention by the policies of shadow-schedule.conf(5)
 * (cmd/shadowctl/ctl-schedule.c; the rule is sched-retention.c's).
 */
#ifndef SHADOW_CTL_SCHEDULE_H
#define SHADOW_CTL_SCHEDULE_H

#include <json-c/json.h>
#include <stddef.h>

#include "ctl-args.h"
#include "libshadow.h"

/*
 * Run the subverb on the open @ctx; JSON (with -J) goes into @o and is
 * printed here.  On failure -errno, with what failed in @what.
 */
int ctl_schedule(shadow_ctx *ctx, const struct ctl_args *a, json_object *o,
		 char *what, size_t what_len);

#endif
