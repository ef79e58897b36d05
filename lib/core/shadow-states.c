/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The states libshadow.h exposes as enums: their names, which are also
 * what the catalog stores (shadow-catalog.c refuses any other), and the
 * way back from a name.
 */
#include <string.h>

#include "shadow-states.h"

static const char *const volume_states[_SHADOW_VOLUME_STATE_MAX] = {
	[SHADOW_VOLUME_ACTIVE] = "active",
	[SHADOW_VOLUME_INACTIVE] = "inactive",
};

static const char *const set_states[_SHADOW_SET_STATE_MAX] = {
	[SHADOW_SET_CREATING] = "creating",
	[SHADOW_SET_COMPLETE] = "complete",
};

static const char *const copy_states[_SHADOW_COPY_STATE_MAX] = {
	[SHADOW_COPY_CREATING] = "creating",
	[SHADOW_COPY_VALID] = "valid",
	[SHADOW_COPY_INVALID] = "invalid",
	[SHADOW_COPY_DETACHED] = "detached",
};

static const char *const writer_states[_SHADOW_WRITER_STATE_MAX] = {
	[SHADOW_WRITER_READY] = "ready",
	[SHADOW_WRITER_REFUSED] = "refused",
};

static const char *const writer_results[_SHADOW_WRITER_RESULT_MAX] = {
	[SHADOW_WRITER_NEVER_RAN] = "never-ran",
	[SHADOW_WRITER_OK] = "ok",
	[SHADOW_WRITER_FAILED] = "failed",
	[SHADOW_WRITER_RESULT_REFUSED] = "refused",
	[SHADOW_WRITER_SKIPPED] = "skipped",
};

static const char *name_of(const char *const *t, int n, int i)
{
	return i >= 0 && i < n ? t[i] : NULL;
}

static int index_of(const char *const *t, int n, const char *s)
{
	for (int i = 0; s && i < n; i++)
		if (t[i] && strcmp(t[i], s) == 0)
			return i;
	return -1;
}

const char *shadow_volume_state_to_string(enum shadow_volume_state s)
{
	return name_of(volume_states, _SHADOW_VOLUME_STATE_MAX, s);
}

const char *shadow_set_state_to_string(enum shadow_set_state s)
{
	return name_of(set_states, _SHADOW_SET_STATE_MAX, s);
}

const char *shadow_copy_state_to_string(enum shadow_copy_state s)
{
	return name_of(copy_states, _SHADOW_COPY_STATE_MAX, s);
}

const char *shadow_writer_state_to_string(enum shadow_writer_state s)
{
	return name_of(writer_states, _SHADOW_WRITER_STATE_MAX, s);
}

const char *shadow_writer_result_to_string(enum shadow_writer_result r)
{
	return name_of(writer_results, _SHADOW_WRITER_RESULT_MAX, r);
}

enum shadow_set_state set_state_from_string(const char *s)
{
	return (enum shadow_set_state)index_of(set_states, _SHADOW_SET_STATE_MAX, s);
}

enum shadow_copy_state copy_state_from_string(const char *s)
{
	return (enum shadow_copy_state)index_of(copy_states, _SHADOW_COPY_STATE_MAX, s);
}

enum shadow_writer_result writer_result_from_string(const char *s)
{
	return (enum shadow_writer_result)index_of(writer_results, _SHADOW_WRITER_RESULT_MAX, s);
}
