/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shadowctl monitor: watch the stores and act by policy (cmd/shadowctl/ctl-monitor.c). */
#ifndef SHADOW_CTL_MONITOR_H
#define SHADOW_CTL_MONITOR_H

#include "ctl-args.h"
#include "libshadow.h"

/*
 * Run the monitor on @ctx, which is new and not open: it is opened for
 * each pass and closed again, so that the catalog lock is held only while
 * acting.  With --once, one pass; otherwise until SIGTERM or SIGINT, and
 * then the process exits (status 0) without returning.  On failure,
 * -errno, and what failed is in @what unless shadow_ctx_error() says it.
 */
int ctl_monitor(shadow_ctx *ctx, const struct ctl_args *a, char *what, size_t what_len);

#endif
