/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The states libshadow.h exposes as enums (shadow-states.c): their
 * _to_string() names are what the catalog stores; these read a name
 * back (the enum's _INVALID for any other).  Not installed.
 */
#ifndef SHADOW_STATES_H
#define SHADOW_STATES_H

#include "libshadow.h"

enum shadow_set_state set_state_from_string(const char *s);
enum shadow_copy_state copy_state_from_string(const char *s);
enum shadow_writer_result writer_result_from_string(const char *s);

#endif
