/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Table parameters, copy device names and dm-snapshot's status line: see
 * shadow-tables.h.  Devices are always named by number, as the kernel
 * prints them back, so a table reads the same whatever path was given.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "macro.h"
#include "shadow-status.h"
#include "shadow-tables.h"

_printf_(3, 4)
static int format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

int dmshadow_origin_params(char *buf, size_t size, dev_t origin, dev_t store,
			   const char *method, uint32_t chunk_sectors)
{
	return format(buf, size, "%u:%u %u:%u %s %" PRIu32, major(origin), minor(origin),
		      major(store), minor(store), method, chunk_sectors);
}

int dmshadow_snap_params(char *buf, size_t size, const char *origin,
			 uint64_t id, bool writable)
{
	return format(buf, size, "%s %" PRIu64 "%s", origin, id, writable ? " 1 writable" : "");
}

int dmsnap_origin_params(char *buf, size_t size, dev_t origin)
{
	return format(buf, size, "%u:%u", major(origin), minor(origin));
}

int dmsnap_snapshot_params(char *buf, size_t size, const char *origin,
			   dev_t store, uint32_t chunk_sectors)
{
	return format(buf, size, "%s %u:%u P %" PRIu32, origin, major(store), minor(store),
		      chunk_sectors);
}

int linear_params(char *buf, size_t size, dev_t dev)
{
	return format(buf, size, "%u:%u 0", major(dev), minor(dev));
}

int dmsnap_copy_name(char *buf, size_t size, const char *dm_name)
{
	return format(buf, size, "%s-snap", dm_name);
}

int dmsnap_copy_uuid(char *buf, size_t size, const char *volume, uint64_t id)
{
	return format(buf, size, DMSNAP_UUID_PREFIX "%s-%" PRIu64, volume, id);
}

int dmsnap_parse_copy_uuid(const char *uuid, const char *volume, uint64_t *ret_id)
{
	size_t plen = strlen(DMSNAP_UUID_PREFIX), vlen = strlen(volume);
	const char *id;

	if (strncmp(uuid, DMSNAP_UUID_PREFIX, plen) != 0 ||
	    strncmp(uuid + plen, volume, vlen) != 0 || uuid[plen + vlen] != '-')
		return -EINVAL;
	id = uuid + plen + vlen + 1;
	return shadow_parse_decimal(id, strlen(id), ret_id);
}

int parse_first_word(const char *params, char *ret, size_t size)
{
	size_t len = strcspn(params, " ");

	if (len == 0 || len >= size)
		return -EINVAL;
	memcpy(ret, params, len);
	ret[len] = '\0';
	return 0;
}

int dmsnap_parse_status(const char *params, struct dmsnap_status *ret)
{
	struct dmsnap_status st = { .valid = true };
	const char *slash, *space;

	if (strcmp(params, "Invalid") == 0 || strcmp(params, "Overflow") == 0) {
		*ret = (struct dmsnap_status) { .valid = false };
		return 0;
	}
	slash = strchr(params, '/');
	space = slash ? strchr(slash, ' ') : NULL;
	if (!slash || !space || strchr(space + 1, ' '))
		return -EINVAL;
	if (shadow_parse_decimal(params, (size_t)(slash - params), &st.allocated_sectors) < 0 ||
	    shadow_parse_decimal(slash + 1, (size_t)(space - slash - 1), &st.total_sectors) < 0 ||
	    shadow_parse_decimal(space + 1, strlen(space + 1), &st.metadata_sectors) < 0)
		return -EINVAL;
	if (st.allocated_sectors > st.total_sectors || st.metadata_sectors > st.allocated_sectors)
		return -EINVAL;
	*ret = st;
	return 0;
}
