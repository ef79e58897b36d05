/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one way shadowctl's pure parsers (arguments, columns, the monitor's
 * configuration) refuse input: the reason, formatted into the caller's
 * buffer, and -EINVAL.
 */
#ifndef SHADOW_CTL_INVALID_H
#define SHADOW_CTL_INVALID_H

#include <stddef.h>

__attribute__((format(printf, 3, 4)))
int ctl_invalid(char *why, size_t len, const char *fmt, ...);

#endif
