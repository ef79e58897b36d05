/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bringing the catalog and the kernel back in agreement after an
 * interrupted verb (shadow-repair.c).  Not installed.
 */
#ifndef SHADOW_REPAIR_H
#define SHADOW_REPAIR_H

#include "libshadow.h"

/* With the catalog locked: undo what a crash left half done. */
int ctx_repair(shadow_ctx *ctx);

#endif
