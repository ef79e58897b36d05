/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shadowctl resize: the store's maximum size (cmd/shadowctl/ctl-storage.c). */
#ifndef SHADOW_CTL_STORAGE_H
#define SHADOW_CTL_STORAGE_H

#include "ctl-args.h"
#include "libshadow.h"

int ctl_resize(shadow_ctx *ctx, const struct ctl_args *a);

#endif
