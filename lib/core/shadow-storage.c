/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A volume's store: how much it holds, how much it may use (the data
 * limit, dm-shadow(7) "limit" message) and when the kernel tells us it is
 * filling up ("thresholds" message).  Both messages came with shadow-origin
 * 1.1.0.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "shadow-ctx.h"
#include "shadow-origin.h"

/* "12.0 MiB", "4 KiB": for messages only. */
static const char *human_size(uint64_t bytes, char buf[32])
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes / 1024;
	unsigned int u = 0;

	if (bytes < 1024) {
		snprintf(buf, 32, "%" PRIu64 " bytes", bytes);
		return buf;
	}
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (bytes % 1024 == 0 && u == 0)
		snprintf(buf, 32, "%" PRIu64 " KiB", bytes / 1024);
	else
		snprintf(buf, 32, "%.1f %s", v, units[u]);
	return buf;
}

/* The loaded shadow-origin must be 1.1.0 or newer for @what. */
static int check_limit_support(shadow_ctx *ctx, const char *what)
{
	char version[32];
	unsigned int major = 0, minor = 0;
	int r;

	r = shadow_dm_target_version("shadow-origin", version);
	if (r < 0)
		return ctx_fail(ctx, r, "%s: the shadow-origin target is not loaded", what);
	if (sscanf(version, "%u.%u", &major, &minor) != 2 ||
	    (major == 1 && minor < 1))
		return ctx_fail(ctx, -EOPNOTSUPP,
				"%s: the loaded dm-shadow module (shadow-origin %s) has no store limit; it needs 1.1.0",
				what, version);
	return 0;
}

/* The active volume @name, with its status. */
static int volume_status(shadow_ctx *ctx, const char *name, const char *what,
			 struct shadow_volume **ret_v,
			 struct shadow_origin_status *ret_st)
{
	struct shadow_volume *v;
	int r;

	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "%s: the context is not open", what);
	v = shadow_catalog_volume(&ctx->cat, name);
	if (!v)
		return ctx_fail(ctx, -ENOENT, "%s: no such volume", what);
	if (!v->active)
		return ctx_fail(ctx, -ENODEV, "%s: the volume is not active", what);
	/* dm-snapshot's store is its whole device, with no events to set. */
	if (v->provider && strcmp(v->provider, "dm-shadow") != 0)
		return ctx_fail(ctx, -EOPNOTSUPP,
				"%s: volume %s uses the %s provider, whose store is its whole device",
				what, name, v->provider);
	r = origin_status(v->dm_name, ret_st, NULL);
	if (r < 0)
		return ctx_fail(ctx, r, "%s: read the status of %s", what, v->dm_name);
	*ret_v = v;
	return 0;
}

int shadow_volume_storage_capacity(shadow_ctx *ctx, const shadow_volume *v,
				   uint64_t *ret_chunks)
{
	struct shadow_origin_status st;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, v && ret_chunks, "read the store's capacity: no volume or result given");
	if (!v->active)
		return ctx_fail(ctx, -ENODEV, "read the store of volume %s: it is not active", v->name);
	/* Without a limit, what the store may use is what its device holds. */
	if (v->provider && strcmp(v->provider, "dm-shadow") != 0) {
		struct shadow_storage s;

		r = provider_of(v)->storage(ctx, v, &s);
		if (r < 0)
			return r;
		*ret_chunks = s.total_chunks;
		return 0;
	}
	r = origin_status(v->dm_name, &st, NULL);
	if (r < 0)
		return ctx_fail(ctx, r, "read the status of volume %s", v->name);
	*ret_chunks = st.data_chunks;
	return 0;
}

/* @max_bytes or @max_percent as a number of chunks the store may use, checked. */
static int limit_of(shadow_ctx *ctx, const char *what,
		    const struct shadow_origin_status *st, uint64_t max_bytes,
		    unsigned int max_percent, uint64_t *ret_limit)
{
	uint64_t chunk = (uint64_t)st->chunk_sectors << 9, limit;
	char a[32], b[32];

	if (max_percent > 100)
		return ctx_fail(ctx, -EINVAL, "%s: more than 100%%", what);
	if (max_bytes == SHADOW_SIZE_MAX && !max_percent) {
		*ret_limit = st->data_chunks;
		return 0;
	}
	limit = max_percent ? st->data_chunks * max_percent / 100 : max_bytes / chunk;
	if (limit == 0)
		return ctx_fail(ctx, -EINVAL, "%s: less than one chunk (%s)",
				what, human_size(chunk, a));
	if (limit > st->data_chunks)
		return ctx_fail(ctx, -EINVAL,
				"%s: the store holds at most %s (%" PRIu64 " chunks of %s); its device cannot grow it",
				what, human_size(st->data_chunks * chunk, a), st->data_chunks,
				human_size(chunk, b));
	if (limit < st->used_chunks)
		return ctx_fail(ctx, -ENOSPC,
				"%s: %s (%" PRIu64 " chunks) are in use; delete shadow copies first",
				what, human_size(st->used_chunks * chunk, a), st->used_chunks);
	*ret_limit = limit;
	return 0;
}

int shadow_volume_resize(shadow_ctx *ctx, const char *volume, uint64_t max_bytes,
			 unsigned int max_percent)
{
	struct shadow_origin_status st;
	struct shadow_volume *v;
	char what[192], msg[64], size[32];
	uint64_t limit = 0;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, volume && *volume, "resize: no volume given");
	check_arg(ctx, max_percent <= 100, "resize the store of %s: %u%% is over 100%%", volume,
		  max_percent);
	if (max_percent)
		snprintf(what, sizeof(what), "resize the store of %s to %u%% of its device",
			 volume, max_percent);
	else if (max_bytes == SHADOW_SIZE_MAX)
		snprintf(what, sizeof(what), "resize the store of %s to its whole device", volume);
	else
		snprintf(what, sizeof(what), "resize the store of %s to %s", volume,
			 human_size(max_bytes, size));
	r = volume_status(ctx, volume, what, &v, &st);
	if (r < 0)
		return r;
	if (strcmp(st.store_type, "clone") == 0)
		return ctx_fail(ctx, -EOPNOTSUPP, "%s: it is a clone store, which holds metadata only "
				"(its clones are on their targets): there is no data to size", what);
	r = check_limit_support(ctx, what);
	if (r < 0)
		return r;
	r = limit_of(ctx, what, &st, max_bytes, max_percent, &limit);
	if (r < 0)
		return r;
	snprintf(msg, sizeof(msg), "limit %" PRIu64, limit);
	r = shadow_dm_message(v->dm_name, msg, NULL);
	if (r == -ENOSPC)
		return ctx_fail(ctx, r, "%s: more than that is in use now", what);
	if (r < 0)
		return ctx_fail(ctx, r, "%s: send '%s' to %s (see the kernel log)",
				what, msg, v->dm_name);
	ctx_log(ctx, SHADOW_LOG_INFO, "store of volume %s may use %" PRIu64 " of %" PRIu64 " chunks",
		volume, limit, st.data_chunks);
	return 0;
}

int shadow_volume_set_thresholds(shadow_ctx *ctx, const char *volume,
				 const unsigned int *pct, size_t n)
{
	struct shadow_origin_status st;
	struct shadow_volume *v;
	char what[160], msg[128] = "thresholds";
	size_t len = strlen(msg);
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, volume && *volume, "set the usage thresholds: no volume given");
	check_arg(ctx, pct || n == 0, "set the usage thresholds of volume %s: no list given", volume);
	snprintf(what, sizeof(what), "set the usage thresholds of volume %s", volume);
	if (n > SHADOW_MAX_THRESHOLDS)
		return ctx_fail(ctx, -EINVAL, "%s: more than %d", what, SHADOW_MAX_THRESHOLDS);
	for (size_t i = 0; i < n; i++) {
		if (pct[i] < 1 || pct[i] > 100 || (i && pct[i] <= pct[i - 1]))
			return ctx_fail(ctx, -EINVAL, "%s: percentages from 1 to 100, ascending", what);
		len += (size_t)snprintf(msg + len, sizeof(msg) - len, " %u", pct[i]);
	}
	if (!n)
		snprintf(msg + len, sizeof(msg) - len, " none");
	r = volume_status(ctx, volume, what, &v, &st);
	if (r < 0)
		return r;
	r = check_limit_support(ctx, what);
	if (r < 0)
		return r;
	r = shadow_dm_message(v->dm_name, msg, NULL);
	if (r < 0)
		return ctx_fail(ctx, r, "%s: send '%s' to %s (see the kernel log)",
				what, msg, v->dm_name);
	return 0;
}
