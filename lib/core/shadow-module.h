/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loading a provider's kernel module (shadow-module.c).  Not installed.
 */
#ifndef SHADOW_MODULE_H
#define SHADOW_MODULE_H

#include <stddef.h>

/* Load kernel module @name (libkmod); @why on failure. */
int module_load(const char *name, char *why, size_t why_size);

#endif
