/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl schedule: the policies of shadow-schedule.conf(5) applied.
 *   show     each policy, its copies and what cleanup would do with each
 *   run      what dm-shadow-schedule.timer runs: a set for every policy
 *            whose interval has passed, then cleanup of every policy
 *   run-now  a set for every policy (or those named) now, due or not
 *   cleanup  delete the copies that no rule keeps, then the oldest while
 *            a store has less free space than min_free
 * A policy's retention unit is a set (a copy taken alone is its own):
 * deleting one deletes its copies of the policy's volumes.  A copy that
 * browse mounted is unmounted and unexposed first; a copy exposed any
 * other way is never deleted.  Every creation and deletion is logged,
 * with its reason, on standard output (standard error with -J) and to
 * syslog unless standard output already is the journal.
 *
 * The clock is $SHADOW_NOW (seconds since the epoch) when set: for
 * tests only (shadowctl(8), ENVIRONMENT); the library stamps new copies
 * with the same clock.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ctl-browse.h"
#include "ctl-columns.h"
#include "ctl-schedule.h"
#include "sched-policy.h"
#include "sched-retention.h"

/* One retention unit of a policy: a set's copies on its volumes. */
struct group {
	uint64_t set;			/* 0: a copy of no set */
	uint64_t ids[SCHED_MAX_VOLUMES];
	size_t n;
};

struct sched_run {
	shadow_ctx *ctx;
	const struct ctl_args *a;
	int64_t now;
	bool syslog;			/* stdout is not the journal */
	json_object *created;
	json_object *deleted;
	char *what;
	size_t what_len;
};

static int parse_now(int64_t *ret)
{
	const char *s = getenv("SHADOW_NOW");
	long long v;
	char *end;

	if (!s) {
		*ret = (int64_t)time(NULL);
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* The journal reads stdout as is (JOURNAL_STREAM names it): no syslog then. */
static bool stdout_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	       fstat(STDOUT_FILENO, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

__attribute__((format(printf, 3, 4)))
static void slog(const struct sched_run *s, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(s->a->json ? stderr : stdout, "%s%s\n",
		level <= LOG_WARNING ? "warning: " : "", msg);
	if (s->syslog)
		syslog(level, "%s", msg);
}

static bool policy_has(const struct sched_policy *p, const char *volume)
{
	for (size_t i = 0; i < p->n_volumes; i++)
		if (strcmp(p->volumes[i], volume) == 0)
			return true;
	return false;
}

/*
 * The policy's groups and their points, oldest first (ties in id order,
 * as sched_retain() wants).  Copies being created are left alone.
 */
static int collect(shadow_ctx *ctx, const struct sched_policy *p, struct group **ret_g,
		   struct sched_point **ret_p, size_t *ret_n)
{
	shadow_copy *const *c;
	size_t n = shadow_ctx_copies(ctx, &c), k = 0;
	struct group *g = calloc(n ? n : 1, sizeof(*g));
	struct sched_point *pt = calloc(n ? n : 1, sizeof(*pt));

	if (!g || !pt) {
		free(g);
		free(pt);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		enum shadow_copy_state st = shadow_copy_state(c[i]);
		uint64_t set = shadow_copy_set(c[i]);
		size_t j = k;

		/* A detached clone is a plain device now: no copy of the schedule's. */
		if (st == SHADOW_COPY_CREATING || st == SHADOW_COPY_DETACHED ||
		    !policy_has(p, shadow_copy_volume(c[i])))
			continue;
		if (set)
			for (j = 0; j < k && g[j].set != set; j++)
				;
		if (j == k) {
			g[k] = (struct group) { .set = set };
			pt[k] = (struct sched_point) { .created = shadow_copy_created(c[i]), .invalid = true };
			k++;
		}
		if (g[j].n < SCHED_MAX_VOLUMES)
			g[j].ids[g[j].n++] = shadow_copy_id(c[i]);
		if (shadow_copy_created(c[i]) < pt[j].created)
			pt[j].created = shadow_copy_created(c[i]);
		if (shadow_copy_device(c[i]) && !ctl_browse_owns(c[i]))
			pt[j].exposed = true;
		if (st == SHADOW_COPY_VALID)
			pt[j].invalid = false;
	}
	/* Oldest first; insertion sort keeps id order among equals. */
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && pt[j - 1].created > pt[j].created; j--) {
			struct group tg = g[j];
			struct sched_point tp = pt[j];

			g[j] = g[j - 1];
			pt[j] = pt[j - 1];
			g[j - 1] = tg;
			pt[j - 1] = tp;
		}
	*ret_g = g;
	*ret_p = pt;
	*ret_n = k;
	return 0;
}

/* A policy's groups and what the retention rule says of each, at @now. */
struct plan {
	struct group *g;
	struct sched_point *pt;
	unsigned int *keep;
	size_t n;
};

static void plan_clear(struct plan *pl)
{
	free(pl->g);
	free(pl->pt);
	free(pl->keep);
	*pl = (struct plan) { 0 };
}

static int plan_make(shadow_ctx *ctx, const struct sched_policy *p, int64_t now,
		     struct plan *ret)
{
	struct plan pl = { 0 };
	int r;

	r = collect(ctx, p, &pl.g, &pl.pt, &pl.n);
	if (r < 0)
		return r;
	pl.keep = calloc(pl.n ? pl.n : 1, sizeof(*pl.keep));
	if (!pl.keep) {
		plan_clear(&pl);
		return -ENOMEM;
	}
	sched_retain(&p->keep, pl.pt, pl.n, now, pl.keep);
	*ret = pl;
	return 0;
}

/* "keep_hourly=24 keep_daily=7 ..." */
static void keep_string(const struct sched_keep *k, char *buf, size_t len)
{
	snprintf(buf, len, "keep_hourly=%u keep_daily=%u keep_weekly=%u keep_monthly=%u",
		 k->hourly, k->daily, k->weekly, k->monthly);
}

static void min_free_string(const struct sched_policy *p, char *buf, size_t len)
{
	if (p->min_free_percent)
		snprintf(buf, len, "%u%%", p->min_free_percent);
	else if (p->min_free_bytes)
		snprintf(buf, len, "%" PRIu64 "K", p->min_free_bytes >> 10);
	else
		snprintf(buf, len, "0");
}

/* Delete group @g's copies, logging each with @why. */
static int delete_group(struct sched_run *s, const struct sched_policy *p,
			const struct group *g, const char *why)
{
	for (size_t i = 0; i < g->n; i++) {
		const shadow_copy *c = shadow_ctx_find_copy(s->ctx, g->ids[i]);
		char created[CTL_TIME_LEN], volume[128];
		int64_t t;
		json_object *j;
		int r;

		if (!c)
			continue;
		t = shadow_copy_created(c);
		ctl_iso_time(t, created);
		snprintf(volume, sizeof(volume), "%s", shadow_copy_volume(c));
		if (ctl_browse_owns(c)) {
			char mnt[PATH_MAX];

			snprintf(mnt, sizeof(mnt), "%s", shadow_copy_mountpoint(c));
			r = ctl_browse_release(s->ctx, g->ids[i], s->what, s->what_len);
			if (r < 0)
				return r;
			slog(s, LOG_INFO, "policy %s: unmounted shadow %" PRIu64 " of %s from %s to delete it",
			     p->name, g->ids[i], volume, mnt);
			/* The catalog changed: look the copy up again. */
			c = shadow_ctx_find_copy(s->ctx, g->ids[i]);
			if (!c)
				continue;
		}
		r = shadow_copy_delete(s->ctx, g->ids[i], 0);
		if (r < 0) {
			snprintf(s->what, s->what_len, "%s", shadow_ctx_error(s->ctx));
			return r;
		}
		slog(s, LOG_NOTICE, "policy %s: deleted shadow %" PRIu64 " of %s (created %s): %s",
		     p->name, g->ids[i], volume, created, why);
		j = json_object_new_object();
		json_object_object_add(j, "policy", json_object_new_string(p->name));
		json_object_object_add(j, "shadow", json_object_new_uint64(g->ids[i]));
		json_object_object_add(j, "volume", json_object_new_string(volume));
		json_object_object_add(j, "created", json_object_new_int64(t));
		json_object_object_add(j, "reason", json_object_new_string(why));
		json_object_array_add(s->deleted, j);
	}
	return 0;
}

/* The first of the policy's volumes whose store has less free space than min_free. */
static const char *low_volume(struct sched_run *s, const struct sched_policy *p,
			      uint64_t *ret_free, uint64_t *ret_limit)
{
	if (!p->min_free_bytes && !p->min_free_percent)
		return NULL;
	for (size_t i = 0; i < p->n_volumes; i++) {
		const shadow_volume *v = shadow_ctx_find_volume(s->ctx, p->volumes[i]);
		uint64_t used, limit, cb;

		/* A clone store keeps no data: nothing of it fills, no clone frees any. */
		if (!v || strcmp(shadow_volume_method(v), "clone") == 0 ||
		    shadow_volume_storage(s->ctx, v, &used, &limit, NULL, NULL, NULL, NULL) < 0)
			continue;
		cb = shadow_volume_chunk_bytes(v);
		if (sched_free_low(used * cb, limit * cb, p->min_free_bytes, p->min_free_percent)) {
			*ret_free = used < limit ? (limit - used) * cb : 0;
			*ret_limit = limit * cb;
			return p->volumes[i];
		}
	}
	return NULL;
}

static int cleanup(struct sched_run *s, const struct sched_policy *p)
{
	struct plan pl;
	bool *gone;
	char keeps[128], mf[32], why[256];
	uint64_t free_bytes, limit;
	const char *low;
	int r;

	r = plan_make(s->ctx, p, s->now, &pl);
	if (r < 0)
		return r;
	gone = calloc(pl.n ? pl.n : 1, sizeof(*gone));
	if (!gone) {
		plan_clear(&pl);
		return -ENOMEM;
	}
	keep_string(&p->keep, keeps, sizeof(keeps));
	for (size_t i = 0; i < pl.n && r >= 0; i++) {
		if (pl.keep[i])
			continue;
		if (pl.pt[i].invalid)
			snprintf(why, sizeof(why), "invalid (the kernel dropped it when the store filled)");
		else
			snprintf(why, sizeof(why), "kept by none of %s", keeps);
		r = delete_group(s, p, &pl.g[i], why);
		gone[i] = true;
	}
	min_free_string(p, mf, sizeof(mf));
	while (r >= 0 && (low = low_volume(s, p, &free_bytes, &limit))) {
		size_t v = sched_space_victim(pl.pt, gone, pl.n, s->now);

		if (v == SIZE_MAX) {
			slog(s, LOG_WARNING, "policy %s: the store of %s has %" PRIu64 "K of %" PRIu64 "K free, below min_free %s, and no copy is left that may be deleted (exposed copies and the newest are kept)",
			     p->name, low, free_bytes >> 10, limit >> 10, mf);
			break;
		}
		snprintf(why, sizeof(why), "min_free: the store of %s has %" PRIu64 "K of %" PRIu64 "K free, below %s; the oldest goes first",
			 low, free_bytes >> 10, limit >> 10, mf);
		r = delete_group(s, p, &pl.g[v], why);
		gone[v] = true;
	}
	plan_clear(&pl);
	free(gone);
	return r;
}

/* The newest creation time among the policy's copies, or -1. */
static int64_t newest(shadow_ctx *ctx, const struct sched_policy *p)
{
	shadow_copy *const *c;
	size_t n = shadow_ctx_copies(ctx, &c);
	int64_t t = -1;

	for (size_t i = 0; i < n; i++)
		if (policy_has(p, shadow_copy_volume(c[i])) &&
		    shadow_copy_state(c[i]) == SHADOW_COPY_VALID && shadow_copy_created(c[i]) > t)
			t = shadow_copy_created(c[i]);
	return t;
}

/* A set across the policy's volumes, with its writers; browsed volumes get it mounted. */
static int create(struct sched_run *s, const struct sched_policy *p)
{
	shadow_create_opts *o = NULL;
	shadow_copy *const *c;
	json_object *j, *ids;
	shadow_set *set;
	char when[CTL_TIME_LEN];
	uint64_t sid;
	size_t n;
	int r;

	r = shadow_create_opts_new(&o);
	if (r >= 0 && p->no_writers)
		r = shadow_create_opts_set_no_writers(o, true);
	for (size_t i = 0; r >= 0 && i < p->n_writers; i++)
		r = shadow_create_opts_add_writer(o, p->writers[i]);
	if (r < 0) {
		shadow_create_opts_free(o);
		return r;
	}
	r = shadow_set_create_with(s->ctx, (const char *const *)p->volumes, p->n_volumes, o, &set);
	shadow_create_opts_free(o);
	if (r < 0) {
		snprintf(s->what, s->what_len, "policy %s: %s", p->name, shadow_ctx_error(s->ctx));
		return r;
	}
	sid = shadow_set_id(set);
	ctl_iso_time(shadow_set_created(set), when);
	j = json_object_new_object();
	ids = json_object_new_array();
	json_object_object_add(j, "policy", json_object_new_string(p->name));
	json_object_object_add(j, "set", json_object_new_uint64(sid));
	json_object_object_add(j, "created", json_object_new_int64(shadow_set_created(set)));
	json_object_object_add(j, "shadows", ids);
	json_object_array_add(s->created, j);
	n = shadow_ctx_copies(s->ctx, &c);
	for (size_t i = 0; i < n; i++)
		if (shadow_copy_set(c[i]) == sid)
			json_object_array_add(ids, json_object_new_uint64(shadow_copy_id(c[i])));
	{
		char list[256] = "";
		size_t at = 0;

		for (size_t i = 0; i < json_object_array_length(ids) && at < sizeof(list); i++)
			at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%" PRIu64, i ? "," : "",
					       json_object_get_uint64(json_object_array_get_idx(ids, i)));
		slog(s, LOG_NOTICE, "policy %s: created set %" PRIu64 " at %s: shadow %s",
		     p->name, sid, when, list);
	}
	/* A volume being browsed shows its new copy too. */
	for (size_t i = 0; i < json_object_array_length(ids); i++) {
		uint64_t id = json_object_get_uint64(json_object_array_get_idx(ids, i));
		const shadow_copy *cp = shadow_ctx_find_copy(s->ctx, id);

		if (cp && ctl_browse_active(shadow_copy_volume(cp))) {
			r = ctl_browse_copy(s->ctx, id, NULL, s->what, s->what_len);
			if (r < 0)
				slog(s, LOG_WARNING, "policy %s: failed to mount shadow %" PRIu64 " for browsing: %s: %s",
				     p->name, id, s->what, strerror(-r));
		}
	}
	return 0;
}

static json_object *point_json(const struct group *g, const struct sched_point *pt,
			       unsigned int keep)
{
	static const char *const names[] = {
		"exposed", "future", "newest", "hourly", "daily", "weekly", "monthly",
	};
	json_object *j = json_object_new_object(), *ids = json_object_new_array(),
		    *k = json_object_new_array();

	for (size_t i = 0; i < g->n; i++)
		json_object_array_add(ids, json_object_new_uint64(g->ids[i]));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (keep & (1u << i))
			json_object_array_add(k, json_object_new_string(names[i]));
	json_object_object_add(j, "set", g->set ? json_object_new_uint64(g->set) : NULL);
	json_object_object_add(j, "shadows", ids);
	json_object_object_add(j, "created", json_object_new_int64(pt->created));
	json_object_object_add(j, "state", json_object_new_string(pt->invalid ? "invalid" : "valid"));
	json_object_object_add(j, "keep", k);
	return j;
}

static json_object *words_json(char *const *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static int show(struct sched_run *s, const struct sched_policy *p, json_object *arr)
{
	struct plan pl;
	json_object *j, *copies;
	char mf[32], when[CTL_TIME_LEN], reasons[128];
	int64_t last = newest(s->ctx, p);
	bool due = sched_due(last, s->now, p->interval);
	int r;

	r = plan_make(s->ctx, p, s->now, &pl);
	if (r < 0)
		return r;
	min_free_string(p, mf, sizeof(mf));
	j = json_object_new_object();
	copies = json_object_new_array();
	json_object_object_add(j, "name", json_object_new_string(p->name));
	json_object_object_add(j, "line", json_object_new_int(p->line));
	json_object_object_add(j, "volumes", words_json(p->volumes, p->n_volumes));
	json_object_object_add(j, "interval", json_object_new_uint64(p->interval));
	json_object_object_add(j, "writers", p->no_writers ? json_object_new_string("none") :
			       p->n_writers ? words_json(p->writers, p->n_writers) :
			       json_object_new_string("all"));
	json_object_object_add(j, "keep_hourly", json_object_new_int(p->keep.hourly));
	json_object_object_add(j, "keep_daily", json_object_new_int(p->keep.daily));
	json_object_object_add(j, "keep_weekly", json_object_new_int(p->keep.weekly));
	json_object_object_add(j, "keep_monthly", json_object_new_int(p->keep.monthly));
	json_object_object_add(j, "min_free", json_object_new_string(mf));
	json_object_object_add(j, "due", json_object_new_boolean(due));
	json_object_object_add(j, "next", p->interval == 0 ? NULL :
			       json_object_new_int64(last < 0 ? s->now : last + (int64_t)p->interval));
	json_object_object_add(j, "copies", copies);
	json_object_array_add(arr, j);
	if (!s->a->json) {
		char keeps[128];

		keep_string(&p->keep, keeps, sizeof(keeps));
		printf("policy %s (line %u): volumes", p->name, p->line);
		for (size_t i = 0; i < p->n_volumes; i++)
			printf(" %s", p->volumes[i]);
		printf("\n  interval %" PRIu64 "s, writers ", p->interval);
		if (p->no_writers || !p->n_writers)
			printf("%s", p->no_writers ? "none" : "all");
		for (size_t i = 0; i < p->n_writers; i++)
			printf("%s%s", i ? "," : "", p->writers[i]);
		printf(", %s, min_free %s\n", keeps, mf);
		if (p->interval == 0) {
			printf("  next copy: never (interval 0)\n");
		} else if (due) {
			printf("  next copy: due now\n");
		} else {
			ctl_iso_time(last + (int64_t)p->interval, when);
			printf("  next copy: %s\n", when);
		}
	}
	for (size_t i = 0; i < pl.n; i++) {
		json_object_array_add(copies, point_json(&pl.g[i], &pl.pt[i], pl.keep[i]));
		if (s->a->json)
			continue;
		ctl_iso_time(pl.pt[i].created, when);
		printf("  %s", when);
		if (pl.g[i].set)
			printf("  set %" PRIu64, pl.g[i].set);
		printf("  shadow");
		for (size_t k = 0; k < pl.g[i].n; k++)
			printf("%s%" PRIu64, k ? "," : " ", pl.g[i].ids[k]);
		printf("  %s%s\n", pl.keep[i] ? "keep: " : "delete",
		       sched_reasons_string(pl.keep[i], reasons, sizeof(reasons)));
	}
	plan_clear(&pl);
	return 0;
}

/* The policies to act on: those named, or all; each volume must exist. */
static int select_policies(struct sched_run *s, const struct sched_conf *conf,
			   const struct sched_policy ***ret, size_t *ret_n)
{
	const struct sched_policy **v;
	size_t n = 0;

	v = calloc(conf->n + (size_t)s->a->nargs + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (s->a->nargs > 1) {
		for (int i = 1; i < s->a->nargs; i++) {
			v[n] = sched_conf_find(conf, s->a->args[i]);
			if (!v[n]) {
				snprintf(s->what, s->what_len, "schedule %s: no policy [%s] in %s",
					 ctl_schedule_names[s->a->schedule], s->a->args[i],
					 s->a->config ? s->a->config : SCHED_DEFAULT_CONFIG);
				free(v);
				return -ENOENT;
			}
			n++;
		}
	} else {
		for (size_t i = 0; i < conf->n; i++)
			v[n++] = &conf->policies[i];
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < v[i]->n_volumes; j++)
			if (!shadow_ctx_find_volume(s->ctx, v[i]->volumes[j])) {
				snprintf(s->what, s->what_len, "schedule %s: policy [%s] (line %u): no volume named %s",
					 ctl_schedule_names[s->a->schedule], v[i]->name, v[i]->line,
					 v[i]->volumes[j]);
				free(v);
				return -ENOENT;
			}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int act(struct sched_run *s, const struct sched_policy **v, size_t n, json_object *o)
{
	int r = 0, q;

	if (s->a->schedule == SCHEDULE_SHOW) {
		json_object *arr = json_object_new_array();

		json_object_object_add(o, "policies", arr);
		for (size_t i = 0; i < n && r >= 0; i++)
			r = show(s, v[i], arr);
		return r;
	}
	/* A failing policy does not stop the others; the first failure is the command's. */
	for (size_t i = 0; i < n; i++) {
		if (s->a->schedule == SCHEDULE_RUN_NOW ||
		    (s->a->schedule == SCHEDULE_RUN &&
		     sched_due(newest(s->ctx, v[i]), s->now, v[i]->interval))) {
			q = create(s, v[i]);
			if (q < 0) {
				slog(s, LOG_ERR, "policy %s: failed to create a set: %s: %s", v[i]->name,
				     s->what, strerror(-q));
				if (r >= 0)
					r = q;
				continue;
			}
		}
		if (s->a->schedule == SCHEDULE_RUN || s->a->schedule == SCHEDULE_CLEANUP) {
			q = cleanup(s, v[i]);
			if (q < 0) {
				slog(s, LOG_ERR, "policy %s: cleanup failed: %s: %s", v[i]->name,
				     s->what, strerror(-q));
				if (r >= 0)
					r = q;
			}
		}
	}
	return r;
}

int ctl_schedule(shadow_ctx *ctx, const struct ctl_args *a, json_object *o,
		 char *what, size_t what_len)
{
	struct sched_conf conf = { 0 };
	const struct sched_policy **v = NULL;
	struct sched_run s = {
		.ctx = ctx, .a = a, .what = what, .what_len = what_len,
		.syslog = !stdout_is_journal(),
	};
	size_t n = 0;
	int r;

	if (a->schedule != SCHEDULE_SHOW) {
		s.created = json_object_new_array();
		s.deleted = json_object_new_array();
		json_object_object_add(o, "created", s.created);
		json_object_object_add(o, "deleted", s.deleted);
	}
	if (parse_now(&s.now) < 0) {
		snprintf(what, what_len, "read SHADOW_NOW '%s' (seconds since the epoch)",
			 getenv("SHADOW_NOW"));
		r = -EINVAL;
		goto out;
	}
	r = sched_conf_load(a->config ? a->config : SCHED_DEFAULT_CONFIG, &conf, what, what_len);
	if (r >= 0)
		r = select_policies(&s, &conf, &v, &n);
	if (r < 0)
		goto out;
	if (s.syslog)
		openlog("shadowctl", LOG_PID, LOG_DAEMON);
	r = act(&s, v, n, o);
	if (a->json)
		ctl_print_json(o, stdout);
	/* A failure was logged as it happened; the summary says which command. */
	if (r < 0)
		snprintf(what, what_len, "schedule %s (see the messages above)",
			 ctl_schedule_names[a->schedule]);
	if (s.syslog)
		closelog();
out:
	free(v);
	sched_conf_clear(&conf);
	return r;
}
