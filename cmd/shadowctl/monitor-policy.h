/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store monitor's policies (monitor.conf(5)) and its decisions, as
 * pure functions of a volume's store usage, so the unit tests can drive
 * them (test/unit/test-monitor.c).  No I/O but monitor_conf_load().
 *
 * The configuration is one JSON object (json-c):
 *   { "defaults": { <policy> },
 *     "volumes": { "<volume>": { <policy> }, ... } }
 * where a policy holds any of
 *   "policy":       "warn" | "delete-oldest" | "grow"
 *   "warn_above":   percent of the limit, 0 = never (default 80)
 *   "act_above":    percent: delete or grow from here (default 90)
 *   "delete_until": percent: delete-oldest stops at or below (default 70)
 *   "grow_step":    size: "64M", "10%" (of what the store holds), or bytes
 *   "grow_max":     size, or "max" (default): the whole store
 * A volume's policy is the defaults with its own keys on top.
 */
#ifndef SHADOW_MONITOR_POLICY_H
#define SHADOW_MONITOR_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MONITOR_DEFAULT_CONFIG "/etc/dm-shadow/monitor.conf"

enum monitor_action {
	MONITOR_WARN,			/* warn only */
	MONITOR_DELETE_OLDEST,
	MONITOR_GROW,
};

/* A size: bytes, a percentage of what the store holds, or all of it. */
struct monitor_size {
	uint64_t bytes;
	unsigned int percent;
	bool max;
};

struct monitor_policy {
	enum monitor_action action;
	unsigned int warn_above;
	unsigned int act_above;
	unsigned int delete_until;
	struct monitor_size grow_step;
	struct monitor_size grow_max;
};

struct monitor_volume_policy {
	char *volume;
	struct monitor_policy policy;
};

struct monitor_conf {
	struct monitor_policy defaults;
	struct monitor_volume_policy *volumes;
	size_t n_volumes;
};

/* A store's use, in chunks, as the kernel reports it. */
struct monitor_usage {
	uint64_t used;
	uint64_t limit;			/* what it may use */
	uint64_t capacity;		/* what it holds */
	uint64_t chunk_bytes;
};

void monitor_conf_init(struct monitor_conf *c);
void monitor_conf_clear(struct monitor_conf *c);
/*
 * Parse a configuration text into @ret (which must be initialised).
 * -EINVAL with the reason in @why (line number, key, what is wrong);
 * @ret is left as it was.
 */
int monitor_conf_parse(const char *text, struct monitor_conf *ret,
		       char *why, size_t why_len);
/* Read and parse @path; a missing file gives the defaults. */
int monitor_conf_load(const char *path, struct monitor_conf *ret,
		      char *why, size_t why_len);
const struct monitor_policy *monitor_conf_policy(const struct monitor_conf *c,
						 const char *volume);
const char *monitor_action_name(enum monitor_action a);

/* used >= pct % of limit (pct 0: never). */
bool monitor_above(const struct monitor_usage *u, unsigned int pct);
/* Usage in whole percent of the limit, rounded down. */
unsigned int monitor_percent(const struct monitor_usage *u);

/*
 * delete-oldest: delete one more copy?  From act_above on, and once
 * deleting (@deleting) until usage is at or below delete_until.
 */
bool monitor_should_delete(const struct monitor_policy *p,
			   const struct monitor_usage *u, bool deleting);

/*
 * grow: the limit to set, in chunks, raised by whole steps until usage is
 * below act_above or grow_max (or the store's capacity) stops it; 0 when
 * usage is below act_above, or when the limit cannot grow at all.
 * *ret_capped: the max stopped it with usage still at or above act_above.
 */
uint64_t monitor_grow_limit(const struct monitor_policy *p,
			    const struct monitor_usage *u, bool *ret_capped);

/*
 * The usage thresholds to have the kernel raise events at: warn_above and,
 * unless warning only, act_above; ascending, no repeats.  Returns n.
 */
size_t monitor_thresholds(const struct monitor_policy *p, unsigned int ret[2]);

#endif
