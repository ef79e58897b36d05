/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl diff, export and import (cmd/shadowctl/ctl-export.c):
 * changed-block tracking and the export stream, shadow-stream(5).
 */
#ifndef SHADOW_CTL_EXPORT_H
#define SHADOW_CTL_EXPORT_H

#include "ctl-args.h"
#include "libshadow.h"

/* import's exit codes beyond the common ones (shadowctl(8)). */
#define EXIT_STREAM_BAD		8	/* truncated, corrupt, not a stream, unknown version */
#define EXIT_STREAM_BASE	9	/* incremental, and the target is not its base */

int ctl_diff(shadow_ctx *ctx, const struct ctl_args *a);
int ctl_export(shadow_ctx *ctx, const struct ctl_args *a);
int ctl_import(shadow_ctx *ctx, const struct ctl_args *a);
/* import: its own exit code for @r, or 0 to use the common table. */
int ctl_import_exit_code(int r);

#endif
