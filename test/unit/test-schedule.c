/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The schedule's policy file (cmd/shadowctl/sched-policy.c) and its
 * retention rule (cmd/shadowctl/sched-retention.c), with a fake clock:
 * every time here is a literal UTC epoch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched-policy.h"
#include "sched-retention.h"
#include "unit.h"

#define H 3600
#define D 86400
/* Monday 2026-01-05 00:00:00 UTC. */
#define MON 1767571200LL
/* Sunday 2026-02-01 00:00:00 UTC. */
#define FEB1 1769904000LL

/* ------------------------------------------------------------------------
 * Policy file
 */

START_TEST(test_conf_full)
{
	struct sched_conf c = { 0 };
	const struct sched_policy *p;
	char why[256] = "";

	ck_assert_int_eq(sched_conf_parse(
		"# scheduled copies\n"
		"\n"
		"[data]\n"
		"interval = 12h\n"
		"keep_hourly = 6\n"
		"keep_daily=3\n"
		"  keep_weekly  =  2  \n"
		"keep_monthly = 0\n"
		"min_free = 20%\n"
		"writers = none\n"
		"; another comment\n"
		"[app]\n"
		"volumes = db logs\n"
		"writers = postgresql hook\n"
		"min_free = 64M\n"
		"interval = 0\n",
		&c, why, sizeof(why)), 0);
	ck_assert_uint_eq(c.n, 2);
	p = sched_conf_find(&c, "data");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->line, 3);
	ck_assert_uint_eq(p->n_volumes, 1);
	ck_assert_str_eq(p->volumes[0], "data");
	ck_assert_uint_eq(p->interval, 12 * H);
	ck_assert_uint_eq(p->keep.hourly, 6);
	ck_assert_uint_eq(p->keep.daily, 3);
	ck_assert_uint_eq(p->keep.weekly, 2);
	ck_assert_uint_eq(p->keep.monthly, 0);
	ck_assert_uint_eq(p->min_free_percent, 20);
	ck_assert(p->no_writers);
	p = sched_conf_find(&c, "app");
	ck_assert_uint_eq(p->line, 12);
	ck_assert_uint_eq(p->n_volumes, 2);
	ck_assert_str_eq(p->volumes[1], "logs");
	ck_assert_uint_eq(p->n_writers, 2);
	ck_assert_str_eq(p->writers[0], "postgresql");
	ck_assert(!p->no_writers);
	ck_assert_uint_eq(p->min_free_bytes, 64 << 20);
	ck_assert_uint_eq(p->min_free_percent, 0);
	ck_assert_uint_eq(p->interval, 0);
	/* Defaults where the file says nothing. */
	ck_assert_uint_eq(p->keep.hourly, 24);
	ck_assert_uint_eq(p->keep.daily, 7);
	ck_assert_uint_eq(p->keep.weekly, 4);
	ck_assert_uint_eq(p->keep.monthly, 6);
	ck_assert_ptr_eq(sched_conf_of_volume(&c, "logs"), p);
	ck_assert_ptr_null(sched_conf_of_volume(&c, "other"));
	ck_assert_ptr_null(sched_conf_find(&c, "other"));
	sched_conf_clear(&c);
	ck_assert_uint_eq(c.n, 0);
	/* An empty file: no policy. */
	ck_assert_int_eq(sched_conf_parse("\n# nothing\n", &c, why, sizeof(why)), 0);
	ck_assert_uint_eq(c.n, 0);
	ck_assert_int_eq(sched_conf_parse("[v]", &c, why, sizeof(why)), 0);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_uint_eq(c.policies[0].interval, 3600);
	sched_conf_clear(&c);
}
END_TEST

static const struct {
	const char *text;
	const char *why;
} bad_confs[] = {
	{ "[a]\nfoo = 1\n", "line 2: unknown key 'foo'" },
	{ "interval = 1h\n", "line 1: key 'interval' before any [<policy>]" },
	{ "[a]\n[a]\n", "line 2: policy [a] defined twice" },
	{ "[a]\nkeep_daily = 1\nkeep_daily = 2\n", "line 3: keep_daily given twice in [a]" },
	{ "[a]\n\n\nkeep_daily = -1\n", "line 4: keep_daily: '-1' is not a count" },
	{ "[a]\nkeep_weekly = 1x\n", "line 2: keep_weekly: '1x' is not a count" },
	{ "[a]\nkeep_monthly = 100001\n", "line 2: keep_monthly: '100001'" },
	{ "[a]\ninterval = 5y\n", "line 2: interval: '5y' is not a duration" },
	{ "[a]\ninterval = h\n", "line 2: interval: 'h'" },
	{ "[a]\nmin_free = max\n", "line 2: min_free: 'max' is not a size" },
	{ "[a]\nmin_free = 120%\n", "line 2: min_free: '120%'" },
	{ "[a]\n# c\nvolumes = x\n[b]\nvolumes = y x\n", "line 4: volume x is already in policy [a] (line 1)" },
	{ "[a]\n[b]\nvolumes = a\n", "line 2: volume a is already in policy [a] (line 1)" },
	{ "[a\n", "line 1: a section header is [<policy>]" },
	{ "[a] x\n", "line 1: a section header is [<policy>]" },
	{ "[a/b]\n", "line 1: bad policy name 'a/b'" },
	{ "[]\n", "line 1: bad policy name ''" },
	{ "[a]\njust words\n", "line 2: expected <key> = <value> or [<policy>]" },
	{ "[a]\nvolumes =\n", "line 2: volumes has no value" },
	{ "[a]\nvolumes = x x\n", "line 2: volume 'x' named twice" },
	{ "[a]\nvolumes = x -y\n", "line 2: bad volume name '-y'" },
	{ "[a]\nwriters = pg/sql\n", "line 2: bad writer name 'pg/sql'" },
};

START_TEST(test_conf_bad)
{
	struct sched_conf c = { 0 };
	char why[256];

	/* A good configuration first: a bad one leaves it as it was. */
	ck_assert_int_eq(sched_conf_parse("[keep]\nkeep_daily = 9\n", &c, why, sizeof(why)), 0);
	why[0] = '\0';
	ck_assert_msg(sched_conf_parse(bad_confs[_i].text, &c, why, sizeof(why)) == -EINVAL,
		      "accepted: %s", bad_confs[_i].text);
	ck_assert_msg(strstr(why, bad_confs[_i].why) != NULL, "'%s' lacks '%s'", why,
		      bad_confs[_i].why);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_str_eq(c.policies[0].name, "keep");
	ck_assert_uint_eq(c.policies[0].keep.daily, 9);
	sched_conf_clear(&c);
}
END_TEST

START_TEST(test_conf_load)
{
	char path[] = "/tmp/test-schedule-XXXXXX", why[512];
	struct sched_conf c = { 0 };
	FILE *f;
	int fd;

	ck_assert_int_eq(sched_conf_load("/nonexistent/schedule.conf", &c, why, sizeof(why)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(why, "/nonexistent/schedule.conf"));
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs("[v]\nkeep_hourly = 2\n\nkeep_hourly = oops\n", f);
	fclose(f);
	ck_assert_int_eq(sched_conf_load(path, &c, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, path));
	ck_assert_ptr_nonnull(strstr(why, ": line 4: keep_hourly given twice"));
	f = fopen(path, "w");
	fputs("[v]\nkeep_hourly = 2\n", f);
	fclose(f);
	ck_assert_int_eq(sched_conf_load(path, &c, why, sizeof(why)), 0);
	ck_assert_uint_eq(c.policies[0].keep.hourly, 2);
	sched_conf_clear(&c);
	unlink(path);
}
END_TEST

START_TEST(test_interval)
{
	uint64_t s;

	ck_assert_int_eq(sched_parse_interval("0", &s), 0);
	ck_assert_uint_eq(s, 0);
	ck_assert_int_eq(sched_parse_interval("90", &s), 0);
	ck_assert_uint_eq(s, 90);
	ck_assert_int_eq(sched_parse_interval("45s", &s), 0);
	ck_assert_uint_eq(s, 45);
	ck_assert_int_eq(sched_parse_interval("30m", &s), 0);
	ck_assert_uint_eq(s, 1800);
	ck_assert_int_eq(sched_parse_interval("12h", &s), 0);
	ck_assert_uint_eq(s, 12 * H);
	ck_assert_int_eq(sched_parse_interval("1d", &s), 0);
	ck_assert_uint_eq(s, D);
	ck_assert_int_eq(sched_parse_interval("2w", &s), 0);
	ck_assert_uint_eq(s, 14 * D);
	ck_assert_int_eq(sched_parse_interval("", &s), -EINVAL);
	ck_assert_int_eq(sched_parse_interval("-1h", &s), -EINVAL);
	ck_assert_int_eq(sched_parse_interval("1hh", &s), -EINVAL);
	ck_assert_int_eq(sched_parse_interval("1 h", &s), -EINVAL);
	ck_assert_int_eq(sched_parse_interval("1000w", &s), -EINVAL);	/* over ten years */
	ck_assert_int_eq(sched_parse_interval("99999999999999999999", &s), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------------
 * Retention rule
 */

START_TEST(test_bucket)
{
	ck_assert_int_eq(sched_bucket(MON, SCHED_HOUR), MON / H);
	ck_assert_int_eq(sched_bucket(MON + H - 1, SCHED_HOUR), MON / H);
	ck_assert_int_eq(sched_bucket(MON + H, SCHED_HOUR), MON / H + 1);
	ck_assert_int_eq(sched_bucket(MON - 1, SCHED_DAY), MON / D - 1);
	ck_assert_int_eq(sched_bucket(MON, SCHED_DAY), MON / D);
	/* Weeks begin on Monday 00:00 UTC. */
	ck_assert_int_eq(sched_bucket(MON, SCHED_WEEK), sched_bucket(MON + 7 * D - 1, SCHED_WEEK));
	ck_assert_int_eq(sched_bucket(MON - 1, SCHED_WEEK) + 1, sched_bucket(MON, SCHED_WEEK));
	ck_assert_int_eq(sched_bucket(MON + 7 * D, SCHED_WEEK), sched_bucket(MON, SCHED_WEEK) + 1);
	/* The epoch was a Thursday: its week began on Monday 1969-12-29. */
	ck_assert_int_eq(sched_bucket(0, SCHED_WEEK), 0);
	ck_assert_int_eq(sched_bucket(-3 * D, SCHED_WEEK), 0);
	ck_assert_int_eq(sched_bucket(-3 * D - 1, SCHED_WEEK), -1);
	ck_assert_int_eq(sched_bucket(4 * D, SCHED_WEEK), 1);
	ck_assert_int_eq(sched_bucket(-1, SCHED_HOUR), -1);
	/* Months: 2026-01-31 23:59:59 and 2026-02-01 00:00:00. */
	ck_assert_int_eq(sched_bucket(FEB1 - 1, SCHED_MONTH), 126 * 12 + 0);
	ck_assert_int_eq(sched_bucket(FEB1, SCHED_MONTH), 126 * 12 + 1);
	ck_assert_int_eq(sched_bucket(FEB1 + 28 * D - 1, SCHED_MONTH), 126 * 12 + 1);
	ck_assert_int_eq(sched_bucket(FEB1 + 28 * D, SCHED_MONTH), 126 * 12 + 2);
}
END_TEST

/* Points at @times (no flags), the rule applied at @now, into @keep. */
static void retain(const struct sched_keep *k, const int64_t *times, size_t n, int64_t now,
		   unsigned int *keep)
{
	struct sched_point p[64] = { 0 };

	for (size_t i = 0; i < n; i++)
		p[i].created = times[i];
	sched_retain(k, p, n, now, keep);
}

START_TEST(test_retain_empty_and_newest)
{
	struct sched_keep none = { 0 };
	int64_t t[] = { MON, MON + H, MON + 2 * H };
	unsigned int keep[3] = { 9, 9, 9 };

	sched_retain(&none, NULL, 0, MON, keep);
	ck_assert_uint_eq(keep[0], 9);		/* nothing written */
	/* No count at all: only the newest stays. */
	retain(&none, t, 3, MON + 3 * H, keep);
	ck_assert_uint_eq(keep[0], 0);
	ck_assert_uint_eq(keep[1], 0);
	ck_assert_uint_eq(keep[2], SCHED_KEEP_NEWEST);
}
END_TEST

START_TEST(test_retain_hourly)
{
	/* Every 20 minutes over 4 hours, keep 3 hours: the last of each of the last 3. */
	struct sched_keep k = { .hourly = 3 };
	int64_t t[12];
	unsigned int keep[12];

	for (int i = 0; i < 12; i++)
		t[i] = MON + i * 1200;
	retain(&k, t, 12, MON + 4 * H, keep);
	for (int i = 0; i < 12; i++) {
		bool want = i == 5 || i == 8 || i == 11;

		ck_assert_msg(!!(keep[i] & SCHED_KEEP_HOURLY) == want, "copy %d: keep %#x", i, keep[i]);
		ck_assert_msg(!!keep[i] == want, "copy %d: keep %#x", i, keep[i]);
	}
	ck_assert_uint_eq(keep[11], SCHED_KEEP_NEWEST | SCHED_KEEP_HOURLY);
}
END_TEST

START_TEST(test_retain_gaps_count_buckets_with_copies)
{
	/* A machine off for days: the 2 most recent hours that have copies. */
	struct sched_keep k = { .hourly = 2 };
	int64_t t[] = { MON, MON + H, MON + 5 * D, MON + 5 * D + 10 };
	unsigned int keep[4];

	retain(&k, t, 4, MON + 9 * D, keep);
	ck_assert_uint_eq(keep[0], 0);
	ck_assert_uint_eq(keep[1], SCHED_KEEP_HOURLY);
	ck_assert_uint_eq(keep[2], 0);
	ck_assert_uint_eq(keep[3], SCHED_KEEP_HOURLY | SCHED_KEEP_NEWEST);
}
END_TEST

START_TEST(test_retain_daily_weekly_monthly)
{
	/* Daily at 06:00 from Monday 2026-01-05 to Tuesday 2026-02-03 (30 days). */
	struct sched_keep k = { .daily = 3, .weekly = 2, .monthly = 2 };
	int64_t t[30];
	unsigned int keep[30];

	for (int i = 0; i < 30; i++)
		t[i] = MON + i * D + 6 * H;
	retain(&k, t, 30, MON + 30 * D, keep);
	for (int i = 0; i < 30; i++) {
		unsigned int want = 0;

		if (i >= 27)
			want |= SCHED_KEEP_DAILY;
		/* Weeks: the last copy of the week of 2026-02-02 (i 29) and of 01-26 (i 27, Sunday 02-01). */
		if (i == 29 || i == 27)
			want |= SCHED_KEEP_WEEKLY;
		/* Months: February's last (i 29) and January's last (i 26, the 31st). */
		if (i == 29 || i == 26)
			want |= SCHED_KEEP_MONTHLY;
		if (i == 29)
			want |= SCHED_KEEP_NEWEST;
		ck_assert_msg(keep[i] == want, "day %d: keep %#x, want %#x", i, keep[i], want);
	}
}
END_TEST

START_TEST(test_retain_exposed_future_invalid)
{
	struct sched_keep k = { .hourly = 1 };
	struct sched_point p[] = {
		{ .created = MON, .exposed = true },		/* old but exposed */
		{ .created = MON + H, .invalid = true },	/* dropped by the kernel */
		{ .created = MON + 2 * H, .invalid = true, .exposed = true },
		{ .created = MON + 3 * H },
		{ .created = MON + 4 * H, .invalid = true },	/* newest, but invalid */
		{ .created = MON + 9 * H },			/* the clock was set back */
	};
	unsigned int keep[6];

	sched_retain(&k, p, 6, MON + 5 * H, keep);
	ck_assert_uint_eq(keep[0], SCHED_KEEP_EXPOSED);
	ck_assert_uint_eq(keep[1], 0);
	ck_assert_uint_eq(keep[2], SCHED_KEEP_EXPOSED);
	/* The invalid and the future one take no hourly bucket: 3 has it. */
	ck_assert_uint_eq(keep[3], SCHED_KEEP_NEWEST | SCHED_KEEP_HOURLY);
	ck_assert_uint_eq(keep[4], 0);
	ck_assert_uint_eq(keep[5], SCHED_KEEP_FUTURE);
}
END_TEST

START_TEST(test_retain_ties)
{
	/* Two copies in the same second: the later id (higher index) wins. */
	struct sched_keep k = { .hourly = 1, .daily = 1 };
	int64_t t[] = { MON + 10, MON + 10 };
	unsigned int keep[2];

	retain(&k, t, 2, MON + H, keep);
	ck_assert_uint_eq(keep[0], 0);
	ck_assert_uint_eq(keep[1], SCHED_KEEP_NEWEST | SCHED_KEEP_HOURLY | SCHED_KEEP_DAILY);
}
END_TEST

/*
 * An independent model of the rule, written another way: for each
 * period, the distinct buckets sorted newest first, the first N, and the
 * newest point (highest index among equals) in each.
 */
static unsigned int model(const struct sched_keep *k, const int64_t *t, size_t n, size_t i,
			  int64_t now)
{
	const unsigned int counts[4] = { k->hourly, k->daily, k->weekly, k->monthly };
	unsigned int r = 0;
	size_t newest = 0;

	for (size_t j = 1; j < n; j++)
		if (t[j] >= t[newest])
			newest = j;
	if (i == newest)
		r |= SCHED_KEEP_NEWEST;
	for (int per = 0; per < 4; per++) {
		int64_t mine = sched_bucket(t[i], (enum sched_period)per);
		size_t newer_buckets = 0, best = i;

		/* How many distinct buckets are newer than mine? */
		for (size_t j = 0; j < n; j++) {
			int64_t b = sched_bucket(t[j], (enum sched_period)per);
			bool first = true;

			if (b <= mine)
				continue;
			for (size_t l = 0; l < j; l++)
				if (sched_bucket(t[l], (enum sched_period)per) == b)
					first = false;
			newer_buckets += first;
		}
		for (size_t j = 0; j < n; j++)
			if (sched_bucket(t[j], (enum sched_period)per) == mine && t[j] >= t[best])
				best = j;
		if (newer_buckets < counts[per] && best == i)
			r |= SCHED_KEEP_HOURLY << per;
	}
	(void)now;
	return r;
}

START_TEST(test_retain_model)
{
	/* Five weeks of copies at pseudo-random times, many policies. */
	static const struct sched_keep ks[] = {
		{ 24, 7, 4, 6 }, { 3, 3, 2, 2 }, { 0, 5, 0, 0 }, { 1, 0, 3, 0 },
		{ 0, 0, 0, 2 }, { 48, 0, 0, 0 }, { 2, 2, 2, 2 },
	};
	unsigned int seed = 17;

	for (int round = 0; round < 40; round++) {
		int64_t t[64];
		unsigned int keep[64];
		size_t n = 1 + (size_t)(round * 7 % 60);
		int64_t now;

		t[0] = MON + (rand_r(&seed) % (35 * D));
		for (size_t i = 1; i < n; i++)
			t[i] = t[i - 1] + rand_r(&seed) % (2 * D);
		now = t[n - 1] + rand_r(&seed) % D;
		for (size_t kk = 0; kk < sizeof(ks) / sizeof(ks[0]); kk++) {
			retain(&ks[kk], t, n, now, keep);
			for (size_t i = 0; i < n; i++)
				ck_assert_msg(keep[i] == model(&ks[kk], t, n, i, now),
					      "round %d policy %zu copy %zu: %#x, model %#x", round, kk, i,
					      keep[i], model(&ks[kk], t, n, i, now));
		}
	}
}
END_TEST

START_TEST(test_space_victim)
{
	struct sched_point p[] = {
		{ .created = MON, .exposed = true },
		{ .created = MON + H },
		{ .created = MON + 2 * H },
		{ .created = MON + 3 * H, .invalid = true },
		{ .created = MON + 4 * H },
		{ .created = MON + 9 * H },	/* future */
	};
	bool gone[6] = { false };
	int64_t now = MON + 5 * H;

	/* Invalid ones first, then the oldest; never exposed, newest or future. */
	ck_assert_uint_eq(sched_space_victim(p, gone, 6, now), 3);
	gone[3] = true;
	ck_assert_uint_eq(sched_space_victim(p, gone, 6, now), 1);
	gone[1] = true;
	ck_assert_uint_eq(sched_space_victim(p, NULL, 6, now), 3);
	ck_assert_uint_eq(sched_space_victim(p, gone, 6, now), 2);
	gone[2] = true;
	ck_assert_uint_eq(sched_space_victim(p, gone, 6, now), SIZE_MAX);
	ck_assert_uint_eq(sched_space_victim(p, NULL, 0, now), SIZE_MAX);
	/* Once the clock reaches it, the future copy is the newest: 4 may go. */
	ck_assert_uint_eq(sched_space_victim(p, gone, 6, MON + 9 * H), 4);
}
END_TEST

START_TEST(test_free_low)
{
	/* Bytes. */
	ck_assert(!sched_free_low(0, 100, 0, 0));
	ck_assert(!sched_free_low(60, 100, 40, 0));
	ck_assert(sched_free_low(61, 100, 40, 0));
	ck_assert(sched_free_low(100, 100, 1, 0));
	ck_assert(sched_free_low(120, 100, 1, 0));	/* over the limit: none free */
	/* Percent of the limit. */
	ck_assert(!sched_free_low(80, 100, 0, 20));
	ck_assert(sched_free_low(81, 100, 0, 20));
	ck_assert(!sched_free_low(0, 1ULL << 62, 0, 100));
	ck_assert(sched_free_low(1, 1ULL << 62, 0, 100));
	/* Near UINT64_MAX: no overflow. */
	ck_assert(!sched_free_low(UINT64_MAX / 2, UINT64_MAX, 0, 49));
	ck_assert(sched_free_low(UINT64_MAX / 2, UINT64_MAX, 0, 51));
}
END_TEST

START_TEST(test_due)
{
	ck_assert(sched_due(-1, MON, H));
	ck_assert(!sched_due(-1, MON, 0));
	ck_assert(!sched_due(MON, MON + 10 * D, 0));
	ck_assert(!sched_due(MON, MON + H - 1, H));
	ck_assert(sched_due(MON, MON + H, H));
	ck_assert(sched_due(MON, MON + 5 * D, 12 * H));
	ck_assert(!sched_due(MON + D, MON, H));		/* newest in the future */
}
END_TEST

START_TEST(test_reasons_string)
{
	char buf[64];

	ck_assert_str_eq(sched_reasons_string(0, buf, sizeof(buf)), "");
	ck_assert_str_eq(sched_reasons_string(SCHED_KEEP_NEWEST | SCHED_KEEP_HOURLY |
					      SCHED_KEEP_MONTHLY, buf, sizeof(buf)),
			 "newest,hourly,monthly");
	ck_assert_str_eq(sched_reasons_string(SCHED_KEEP_EXPOSED | SCHED_KEEP_WEEKLY, buf, 12),
			 "exposed");
}
END_TEST

Suite *suite_schedule(void)
{
	Suite *s = suite_create("schedule");
	TCase *tc = tcase_create("policy");

	tcase_add_test(tc, test_conf_full);
	tcase_add_loop_test(tc, test_conf_bad, 0, (int)(sizeof(bad_confs) / sizeof(bad_confs[0])));
	tcase_add_test(tc, test_conf_load);
	tcase_add_test(tc, test_interval);
	suite_add_tcase(s, tc);
	tc = tcase_create("retention");
	tcase_add_test(tc, test_bucket);
	tcase_add_test(tc, test_retain_empty_and_newest);
	tcase_add_test(tc, test_retain_hourly);
	tcase_add_test(tc, test_retain_gaps_count_buckets_with_copies);
	tcase_add_test(tc, test_retain_daily_weekly_monthly);
	tcase_add_test(tc, test_retain_exposed_future_invalid);
	tcase_add_test(tc, test_retain_ties);
	tcase_add_test(tc, test_retain_model);
	tcase_add_test(tc, test_space_victim);
	tcase_add_test(tc, test_free_low);
	tcase_add_test(tc, test_due);
	tcase_add_test(tc, test_reasons_string);
	suite_add_tcase(s, tc);
	return s;
}
