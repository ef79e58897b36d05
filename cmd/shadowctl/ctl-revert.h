/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shadowctl revert: roll a volume back to a shadow copy (cmd/shadowctl/ctl-revert.c). */
#ifndef SHADOW_CTL_REVERT_H
#define SHADOW_CTL_REVERT_H

#include "ctl-args.h"
#include "libshadow.h"

int ctl_revert(shadow_ctx *ctx, const struct ctl_args *a);

#endif
