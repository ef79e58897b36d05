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

static bool skipped(const struct origin_spec *s, uint64_t snapshot)
{
	for (size_t i = 0; i < s->n_skip; i++)
		if (s->skip[i] == snapshot)
			return true;
	return false;
}

/* A word of a table line: not empty, no blank or control character in it. */
static bool table_word(const char *w)
{
	if (!*w)
		return false;
	for (; *w; w++)
		if ((unsigned char)*w <= ' ' || *w == 0x7f)
			return false;
	return true;
}

/* " clone_target <snapshot> <target>..." of @s, appended at @buf + *@len. */
static int add_clone_targets(char *buf, size_t size, size_t *len, unsigned int *words,
			     const struct origin_spec *s)
{
	unsigned int n = 0;
	int r;

	for (size_t i = 0; s->cat && i < s->cat->n_copies; i++) {
		const struct shadow_copy *c = s->cat->copies[i];

		if (!shadow_copy_is_clone(c) || !shadow_copy_in_store(c, s->v->name) ||
		    !c->target || skipped(s, c->snapshot))
			continue;
		if (!table_word(c->target))
			return -EINVAL;
		if (++n > SHADOW_STATUS_MAX_CLONES)
			return -E2BIG;
		r = format(buf + *len, size - *len, " clone_target %" PRIu64 " %s",
			   c->snapshot, c->target);
		if (r < 0)
			return r;
		*len += strlen(buf + *len);
		*words += 3;
	}
	return 0;
}

int dmshadow_volume_params(char *buf, size_t size, dev_t origin, dev_t store,
			   const struct origin_spec *s)
{
	char features[SHADOW_ORIGIN_PARAMS_MAX] = "";
	unsigned int words = 0;
	size_t len = 0;
	int r;

	r = dmshadow_origin_params(buf, size, origin, store, s->v->method, s->v->chunk_sectors);
	if (r < 0 || strcmp(s->v->method, "clone") != 0)
		return r;
	r = add_clone_targets(features, sizeof(features), &len, &words, s);
	if (r < 0)
		return r;
	if (s->v->has_hydrate_rate) {
		r = format(features + len, sizeof(features) - len, " hydrate_rate %" PRIu32,
			   s->v->hydrate_rate);
		if (r < 0)
			return r;
		words += 2;
	}
	if (!words)
		return 0;
	len = strlen(buf);
	return format(buf + len, size - len, " %u%s", words, features);
}

int parse_devno(const char *s, dev_t *ret)
{
	const char *colon = s ? strchr(s, ':') : NULL;
	uint64_t ma, mi;

	if (!colon || shadow_parse_decimal(s, (size_t)(colon - s), &ma) < 0 ||
	    shadow_parse_decimal(colon + 1, strlen(colon + 1), &mi) < 0 ||
	    ma > 0xfff || mi > 0xfffff)
		return -EINVAL;
	*ret = makedev((unsigned int)ma, (unsigned int)mi);
	return 0;
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
