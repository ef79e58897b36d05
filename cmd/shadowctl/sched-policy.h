/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The schedule's policy file (shadow-schedule.conf(5)), parsed with no
 * I/O but sched_conf_load(), so the unit tests drive it
 * (test/unit/test-schedule.c).  Line based, so that every error names its
 * line:
 *
 *   # comment
 *   [<policy>]                     a policy; its volumes default to <policy>
 *   volumes = <volume> ...         more than one: one set across them
 *   interval = 12h                 s, m, h, d, w; 0: never by the timer
 *   writers = all | none | <writer> ...
 *   keep_hourly = 24               also keep_daily, keep_weekly, keep_monthly
 *   min_free = 20% | 64M | 0
 */
#ifndef SHADOW_SCHED_POLICY_H
#define SHADOW_SCHED_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched-retention.h"

#define SCHED_DEFAULT_CONFIG "/etc/dm-shadow/schedule.conf"
/* Volumes per policy (one set), and writers named per policy. */
#define SCHED_MAX_VOLUMES 64
#define SCHED_MAX_WRITERS 32

struct sched_policy {
	char *name;
	unsigned int line;		/* of its [name] header */
	char *volumes[SCHED_MAX_VOLUMES];
	size_t n_volumes;
	uint64_t interval;		/* seconds; 0: never due */
	bool no_writers;		/* writers = none */
	char *writers[SCHED_MAX_WRITERS];	/* empty: all of them */
	size_t n_writers;
	struct sched_keep keep;
	uint64_t min_free_bytes;
	unsigned int min_free_percent;	/* of the store's limit; 0: bytes */
};

struct sched_conf {
	struct sched_policy *policies;
	size_t n;
};

void sched_conf_clear(struct sched_conf *c);
/*
 * Parse a policy file's text into @ret (zeroed or cleared).  -EINVAL with
 * "line N: <what is wrong>" in @why; @ret is left as it was.
 */
int sched_conf_parse(const char *text, struct sched_conf *ret, char *why, size_t why_len);
/* Read and parse @path (missing: -ENOENT); @why starts with the path. */
int sched_conf_load(const char *path, struct sched_conf *ret, char *why, size_t why_len);
const struct sched_policy *sched_conf_find(const struct sched_conf *c, const char *name);
/* The policy that names @volume, or NULL. */
const struct sched_policy *sched_conf_of_volume(const struct sched_conf *c, const char *volume);

/* "12h", "90m", "1d", "2w", "3600" (seconds), "0" -> seconds; 0 or -EINVAL. */
int sched_parse_interval(const char *s, uint64_t *ret);

#endif
