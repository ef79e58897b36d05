/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The schedule's retention rule (shadow-schedule.conf(5)), as pure
 * functions of the copies' creation times and a clock given by the
 * caller, so the unit tests drive it with a fake one
 * (test/unit/test-schedule.c).  No I/O; all times are UTC seconds since
 * the epoch, so there is no daylight saving time to trip over.
 */
#ifndef SHADOW_SCHED_RETENTION_H
#define SHADOW_SCHED_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How many of the most recent hours, days, weeks, months keep a copy. */
struct sched_keep {
	unsigned int hourly;
	unsigned int daily;
	unsigned int weekly;		/* weeks begin on Monday, 00:00 UTC */
	unsigned int monthly;
};

/* One retention unit: a shadow copy, or a set of them taken together. */
struct sched_point {
	int64_t created;
	bool exposed;			/* exposed by hand: never deleted */
	bool invalid;			/* the kernel dropped it: nothing to keep */
};

/* Why a point is kept: a bit mask; 0 means it is to be deleted. */
enum {
	SCHED_KEEP_EXPOSED = 1 << 0,
	SCHED_KEEP_FUTURE = 1 << 1,	/* created after now: the clock was set back */
	SCHED_KEEP_NEWEST = 1 << 2,	/* the newest valid copy is always kept */
	SCHED_KEEP_HOURLY = 1 << 3,
	SCHED_KEEP_DAILY = 1 << 4,
	SCHED_KEEP_WEEKLY = 1 << 5,
	SCHED_KEEP_MONTHLY = 1 << 6,
};

enum sched_period {
	SCHED_HOUR,
	SCHED_DAY,
	SCHED_WEEK,
	SCHED_MONTH,
};

/* The number of the hour, day, week or month that @t falls in. */
int64_t sched_bucket(int64_t t, enum sched_period period);

/*
 * The retention rule.  For each period with a count N, walk the valid
 * points not in the future, newest first: the newest point of each of
 * the N most recent periods that hold a point is kept.  Also kept: every
 * exposed point, every point created after @now, and the newest valid
 * point not in the future.  Everything else (invalid points included) is
 * to be deleted.  @ret[i] gets point i's reasons; ties in creation time
 * go to the higher index (the caller passes points in id order).
 */
void sched_retain(const struct sched_keep *k, const struct sched_point *p, size_t n,
		  int64_t now, unsigned int *ret);

/*
 * The point to delete next when the store has less free space than the
 * policy's minimum: the oldest that is neither exposed, nor created after
 * @now, nor the newest valid one (invalid points first of all).
 * @gone[i] marks points already deleted (NULL: none).  SIZE_MAX: none
 * left.
 */
size_t sched_space_victim(const struct sched_point *p, const bool *gone, size_t n, int64_t now);

/* Free store space (limit - used) is below the minimum?  In bytes. */
bool sched_free_low(uint64_t used_bytes, uint64_t limit_bytes, uint64_t min_free_bytes,
		    unsigned int min_free_percent);

/*
 * Is a new copy due: none yet (@newest < 0), or the newest is @interval
 * seconds old or more?  A newest copy from the future is not due (0:
 * never due, the policy only cleans up).
 */
bool sched_due(int64_t newest, int64_t now, uint64_t interval);

/* "hourly,daily" ... for @reasons, into @buf; "" for 0. */
const char *sched_reasons_string(unsigned int reasons, char *buf, size_t len);

#endif
