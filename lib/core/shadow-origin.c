/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Questions to a volume's shadow-origin: see shadow-origin.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "shadow-dm.h"
#include "shadow-origin.h"

int origin_status(const char *name, struct shadow_origin_status *ret,
		  uint64_t *ret_sectors)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 };
	int r;

	r = shadow_dm_get_table(name, false, &t);
	if (r < 0)
		return r;
	if (t.n != 1 || strcmp(t.targets[0].type, "shadow-origin") != 0)
		return -EMEDIUMTYPE;
	if (ret_sectors)
		*ret_sectors = t.targets[0].length;
	return ret ? shadow_parse_origin_status(t.targets[0].params, ret) : 0;
}

int kernel_list(const char *name, struct shadow_list_entry **ret,
		unsigned int *ret_n)
{
	_cleanup_free_ char *out = NULL;
	int r;

	r = shadow_dm_message(name, "list", &out);
	if (r < 0)
		return r;
	return shadow_parse_list(out, ret, ret_n);
}

int snap_message(const char *name, const char *verb, uint64_t id)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "%s %" PRIu64, verb, id);
	return shadow_dm_message(name, msg, NULL);
}
