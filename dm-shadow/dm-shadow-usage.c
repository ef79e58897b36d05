// SPDX-License-Identifier: GPL-2.0-only
/*
 * How much of its store a pool may use, and telling userspace when it is
 * filling up.
 *
 * The data limit caps the chunks the store hands out (vssadmin's
 * "MaxSize"): reaching it is exactly a full store, so the oldest snapshot
 * is invalidated to make room.  It is persistent, in the superblock, and
 * changed at any time by the origin's "limit" message.
 *
 * Usage thresholds are percentages of the limit.  When the chunks in use
 * climb past one, the pool raises a dm event, so that a monitor waiting on
 * the origin's events can delete old snapshots or raise the limit before
 * the store fills, without polling.  Falling back below a threshold re-arms
 * it without an event: that is the monitor's own doing.  Thresholds live as
 * long as the pool, not in the store.
 *
 * All functions run under pool->lock.
 */
#include "dm-shadow.h"

static const u8 shadow_default_thresholds[] = { 80, 90 };

/* How many thresholds the store's use has reached. */
static unsigned int shadow_usage_level(struct shadow_pool *pool)
{
	u64 used = shadow_md_used_chunks(pool->md);
	u64 limit = shadow_md_data_limit(pool->md);
	unsigned int i;

	for (i = 0; i < pool->nr_thresholds; i++)
		if (used * 100 < limit * pool->thresholds[i])
			break;
	return i;
}

void shadow_usage_init(struct shadow_pool *pool)
{
	pool->nr_thresholds = ARRAY_SIZE(shadow_default_thresholds);
	memcpy(pool->thresholds, shadow_default_thresholds,
	       sizeof(shadow_default_thresholds));
	/* A store already past them when loaded was seen by whoever loaded it. */
	pool->usage_level = shadow_usage_level(pool);
}

void shadow_usage_check(struct shadow_pool *pool)
{
	unsigned int level;

	if (pool->failed)
		return;
	level = shadow_usage_level(pool);
	if (level > pool->usage_level)
		shadow_pool_event(pool);
	pool->usage_level = level;
}

/*
 * Change the data limit (0: the whole store).  -EINVAL, -ENOSPC and -EBUSY
 * refuse it with nothing changed (see shadow_md_set_data_limit()); any
 * other error fails the store.
 */
int shadow_usage_set_limit(struct shadow_pool *pool, u64 limit)
{
	int r;

	if (pool->failed)
		return -EIO;
	if (!limit)
		limit = shadow_md_nr_data_chunks(pool->md);
	r = shadow_md_set_data_limit(pool->md, limit);
	if (r == -EINVAL || r == -ENOSPC || r == -EBUSY)
		return r;
	if (r) {
		shadow_pool_fail(pool, "cannot change the data limit", r);
		return r;
	}
	shadow_usage_check(pool);
	return 0;
}

/* @pct: @n percentages from 1 to 100, strictly ascending; n may be 0. */
int shadow_usage_set_thresholds(struct shadow_pool *pool, const u8 *pct,
				unsigned int n)
{
	unsigned int i;

	if (n > SHADOW_MAX_THRESHOLDS)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!pct[i] || pct[i] > 100 || (i && pct[i] <= pct[i - 1]))
			return -EINVAL;
	memcpy(pool->thresholds, pct, n);
	pool->nr_thresholds = n;
	/* Thresholds already passed count as reached: no event for them. */
	pool->usage_level = shadow_usage_level(pool);
	return 0;
}

/* "80 90\n", or "none\n". */
void shadow_usage_emit_thresholds(struct shadow_pool *pool, char *result,
				  unsigned int maxlen)
{
	unsigned int sz = 0, i;

	if (!pool->nr_thresholds)
		DMEMIT("none");
	for (i = 0; i < pool->nr_thresholds; i++)
		DMEMIT("%s%u", i ? " " : "", pool->thresholds[i]);
	DMEMIT("\n");
}
