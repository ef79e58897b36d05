/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sched-retention.h"

/* Floor division: a time before the epoch stays in its own bucket. */
static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int64_t sched_bucket(int64_t t, enum sched_period period)
{
	struct tm tm;
	time_t tt;

	switch (period) {
	case SCHED_HOUR:
		return floor_div(t, 3600);
	case SCHED_DAY:
		return floor_div(t, 86400);
	case SCHED_WEEK:
		/* 1970-01-01 was a Thursday: day 4 of the week that began on Monday 1969-12-29. */
		return floor_div(floor_div(t, 86400) + 3, 7);
	case SCHED_MONTH:
	default:
		tt = (time_t)t;
		if (!gmtime_r(&tt, &tm))
			return floor_div(t, 86400 * 31);
		return (int64_t)tm.tm_year * 12 + tm.tm_mon;
	}
}

/* Is point @i newer than point @j (ties: the higher index)? */
static bool newer(const struct sched_point *p, size_t i, size_t j)
{
	return p[i].created > p[j].created || (p[i].created == p[j].created && i > j);
}

/* A point that the period rules and "newest" consider. */
static bool counted(const struct sched_point *p, int64_t now)
{
	return !p->invalid && p->created <= now;
}

/*
 * Keep (with @bit) the newest point of each of the @count most recent
 * buckets of @period that hold a counted point.
 */
static void keep_period(const struct sched_point *p, size_t n, int64_t now,
			enum sched_period period, unsigned int count, unsigned int bit,
			unsigned int *ret)
{
	int64_t last = INT64_MAX;	/* the bucket last kept from */

	while (count > 0) {
		size_t best = SIZE_MAX;

		/* The newest counted point older than bucket @last. */
		for (size_t i = 0; i < n; i++) {
			if (!counted(&p[i], now) || sched_bucket(p[i].created, period) >= last)
				continue;
			if (best == SIZE_MAX || newer(p, i, best))
				best = i;
		}
		if (best == SIZE_MAX)
			return;
		ret[best] |= bit;
		last = sched_bucket(p[best].created, period);
		count--;
	}
}

void sched_retain(const struct sched_keep *k, const struct sched_point *p, size_t n,
		  int64_t now, unsigned int *ret)
{
	size_t newest = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		ret[i] = 0;
		if (p[i].exposed)
			ret[i] |= SCHED_KEEP_EXPOSED;
		if (p[i].created > now)
			ret[i] |= SCHED_KEEP_FUTURE;
		if (counted(&p[i], now) && (newest == SIZE_MAX || newer(p, i, newest)))
			newest = i;
	}
	if (newest != SIZE_MAX)
		ret[newest] |= SCHED_KEEP_NEWEST;
	keep_period(p, n, now, SCHED_HOUR, k->hourly, SCHED_KEEP_HOURLY, ret);
	keep_period(p, n, now, SCHED_DAY, k->daily, SCHED_KEEP_DAILY, ret);
	keep_period(p, n, now, SCHED_WEEK, k->weekly, SCHED_KEEP_WEEKLY, ret);
	keep_period(p, n, now, SCHED_MONTH, k->monthly, SCHED_KEEP_MONTHLY, ret);
}

size_t sched_space_victim(const struct sched_point *p, const bool *gone, size_t n, int64_t now)
{
	size_t newest = SIZE_MAX, victim = SIZE_MAX;

	for (size_t i = 0; i < n; i++)
		if ((!gone || !gone[i]) && counted(&p[i], now) &&
		    (newest == SIZE_MAX || newer(p, i, newest)))
			newest = i;
	for (size_t i = 0; i < n; i++) {
		if ((gone && gone[i]) || i == newest || p[i].exposed || p[i].created > now)
			continue;
		if (victim == SIZE_MAX ||
		    (p[i].invalid && !p[victim].invalid) ||
		    (p[i].invalid == p[victim].invalid && newer(p, victim, i)))
			victim = i;
	}
	return victim;
}

bool sched_free_low(uint64_t used_bytes, uint64_t limit_bytes, uint64_t min_free_bytes,
		    unsigned int min_free_percent)
{
	uint64_t free_bytes = used_bytes < limit_bytes ? limit_bytes - used_bytes : 0;

	if (min_free_percent)
		/* free / limit < percent / 100, in 128 bits: no overflow for any store. */
		return (unsigned __int128)free_bytes * 100 <
		       (unsigned __int128)limit_bytes * min_free_percent;
	return free_bytes < min_free_bytes;
}

bool sched_due(int64_t newest, int64_t now, uint64_t interval)
{
	if (interval == 0)
		return false;
	if (newest < 0)
		return true;
	return now >= newest && (uint64_t)(now - newest) >= interval;
}

const char *sched_reasons_string(unsigned int reasons, char *buf, size_t len)
{
	static const char *const names[] = {
		"exposed", "future", "newest", "hourly", "daily", "weekly", "monthly",
	};
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int w;

		if (!(reasons & (1u << i)))
			continue;
		w = snprintf(buf + at, len - at, "%s%s", at ? "," : "", names[i]);
		if (w < 0 || (size_t)w >= len - at) {
			buf[at] = '\0';	/* whole names only */
			break;
		}
		at += (size_t)w;
	}
	return buf;
}
