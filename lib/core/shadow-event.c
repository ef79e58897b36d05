/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Waiting for a volume's device-mapper events (the target raises one when
 * a snapshot is dropped on overflow and when store usage passes a
 * threshold).  These touch no context: a monitor calls them from one
 * thread per volume, without holding the catalog lock.
 */
#include "shadow-ctx.h"

int shadow_event_counter(const char *dm_name, uint32_t *ret_event_nr)
{
	struct shadow_dm_info info;
	int r;

	if (!dm_name || !*dm_name || !ret_event_nr)
		return -EINVAL;
	r = shadow_dm_info(dm_name, &info);
	if (r < 0)
		return r;
	if (!info.exists)
		return -ENXIO;
	*ret_event_nr = info.event_nr;
	return 0;
}

int shadow_event_wait(const char *dm_name, uint32_t event_nr,
		      uint32_t *ret_event_nr)
{
	if (!dm_name || !*dm_name || !ret_event_nr)
		return -EINVAL;
	return shadow_dm_wait_event(dm_name, event_nr, ret_event_nr);
}
