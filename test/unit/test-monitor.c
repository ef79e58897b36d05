/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The store monitor's configuration and decisions (cmd/shadowctl/monitor-policy.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor-policy.h"
#include "unit.h"

START_TEST(test_conf_defaults)
{
	struct monitor_conf c;
	const struct monitor_policy *p;
	char why[256];

	monitor_conf_init(&c);
	ck_assert_int_eq(monitor_conf_parse(" \n", &c, why, sizeof(why)), 0);
	p = monitor_conf_policy(&c, "any");
	ck_assert_int_eq(p->action, MONITOR_WARN);
	ck_assert_uint_eq(p->warn_above, 80);
	ck_assert_uint_eq(p->act_above, 90);
	ck_assert_uint_eq(p->delete_until, 70);
	ck_assert_uint_eq(p->grow_step.percent, 10);
	ck_assert(p->grow_max.max);
	ck_assert_int_eq(monitor_conf_load("/nonexistent/monitor.conf", &c, why, sizeof(why)), 0);
	ck_assert_uint_eq(monitor_conf_policy(&c, "x")->act_above, 90);
	monitor_conf_clear(&c);
}
END_TEST

START_TEST(test_conf_volumes)
{
	struct monitor_conf c;
	const struct monitor_policy *p;
	char why[256];

	monitor_conf_init(&c);
	ck_assert_int_eq(monitor_conf_parse(
		"{ \"defaults\": { \"policy\": \"delete-oldest\", \"act_above\": 85,\n"
		"                  \"delete_until\": 50, \"warn_above\": 0 },\n"
		"  \"volumes\": { \"db\": { \"policy\": \"grow\", \"grow_step\": \"64M\",\n"
		"                         \"grow_max\": \"75%\" },\n"
		"               \"logs\": { \"policy\": \"warn\", \"warn_above\": 60 } } }\n",
		&c, why, sizeof(why)), 0);
	p = monitor_conf_policy(&c, "db");
	ck_assert_int_eq(p->action, MONITOR_GROW);
	ck_assert_uint_eq(p->act_above, 85);		/* from the defaults */
	ck_assert_uint_eq(p->grow_step.bytes, 64 << 20);
	ck_assert_uint_eq(p->grow_max.percent, 75);
	ck_assert(!p->grow_max.max);
	p = monitor_conf_policy(&c, "logs");
	ck_assert_int_eq(p->action, MONITOR_WARN);
	ck_assert_uint_eq(p->warn_above, 60);
	p = monitor_conf_policy(&c, "other");
	ck_assert_int_eq(p->action, MONITOR_DELETE_OLDEST);
	ck_assert_uint_eq(p->delete_until, 50);
	ck_assert_uint_eq(p->warn_above, 0);
	monitor_conf_clear(&c);
}
END_TEST

START_TEST(test_conf_bad)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "{", "line 1: unexpected end of the text" },
		{ "{ \"defaults\": {}\n}\n}", "line 3: text after the object" },
		{ "{\n\n \"defaults\": { \"policy\": grow } }", "line 3: " },
		{ "[]", "the configuration is not a JSON object" },
		{ "{ \"default\": {} }", "unknown key \"default\"" },
		{ "{ \"defaults\": { \"polcy\": \"grow\" } }", "defaults: unknown key \"polcy\"" },
		{ "{ \"defaults\": { \"policy\": \"shrink\" } }",
		  "defaults.policy: \"shrink\" is not \"warn\", \"delete-oldest\" or \"grow\"" },
		{ "{ \"defaults\": { \"act_above\": 0 } }", "defaults.act_above: 0 is not a percentage from 1 to 100" },
		{ "{ \"defaults\": { \"warn_above\": 101 } }", "defaults.warn_above: 101 is not" },
		{ "{ \"defaults\": { \"warn_above\": \"80\" } }", "defaults.warn_above: \"80\" is not" },
		{ "{ \"defaults\": { \"policy\": \"delete-oldest\", \"act_above\": 60 } }",
		  "defaults: delete_until (70%) must be below act_above (60%)" },
		{ "{ \"volumes\": { \"db\": { \"policy\": \"delete-oldest\", \"delete_until\": 90 } } }",
		  "volumes.db: delete_until (90%) must be below act_above (90%)" },
		{ "{ \"volumes\": { \"db\": { \"grow_step\": \"max\" } } }", "volumes.db.grow_step: \"max\" is not" },
		{ "{ \"volumes\": { \"db\": { \"grow_step\": 0 } } }", "volumes.db.grow_step: 0 is not" },
		{ "{ \"volumes\": { \"db\": { \"grow_max\": \"lots\" } } }", "volumes.db.grow_max: \"lots\" is not" },
		{ "{ \"volumes\": { \"db\": 5 } }", "volumes.db: not an object" },
		{ "{ \"volumes\": [] }", "volumes: not an object" },
	};
	struct monitor_conf c;
	char why[256];

	monitor_conf_init(&c);
	ck_assert_int_eq(monitor_conf_parse("{ \"defaults\": { \"act_above\": 95 } }", &c,
					    why, sizeof(why)), 0);
	/* delete_until only matters to delete-oldest. */
	ck_assert_int_eq(monitor_conf_parse("{ \"volumes\": { \"g\": { \"policy\": \"grow\", \"act_above\": 50 } } }",
					    &c, why, sizeof(why)), 0);
	ck_assert_int_eq(monitor_conf_parse("{ \"defaults\": { \"act_above\": 95 } }", &c,
					    why, sizeof(why)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ck_assert_msg(monitor_conf_parse(bad[i].text, &c, why, sizeof(why)) == -EINVAL,
			      "accepted '%s'", bad[i].text);
		ck_assert_msg(strstr(why, bad[i].why), "'%s': said '%s', expected '%s'",
			      bad[i].text, why, bad[i].why);
	}
	/* A refused text leaves the configuration as it was. */
	ck_assert_uint_eq(monitor_conf_policy(&c, "x")->act_above, 95);
	monitor_conf_clear(&c);
}
END_TEST

START_TEST(test_conf_load)
{
	char path[] = "/tmp/shadow-monitor-XXXXXX", why[256];
	struct monitor_conf c;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs("{ \"defaults\": { \"policy\": \"grow\" } }\n", f);
	fclose(f);
	monitor_conf_init(&c);
	ck_assert_int_eq(monitor_conf_load(path, &c, why, sizeof(why)), 0);
	ck_assert_int_eq(monitor_conf_policy(&c, "v")->action, MONITOR_GROW);
	unlink(path);
	monitor_conf_clear(&c);
}
END_TEST

static struct monitor_usage usage(uint64_t used, uint64_t limit, uint64_t capacity)
{
	return (struct monitor_usage) { .used = used, .limit = limit,
					.capacity = capacity, .chunk_bytes = 4096 };
}

START_TEST(test_warn)
{
	struct monitor_usage u = usage(79, 100, 1000);

	ck_assert(!monitor_above(&u, 80));
	u.used = 80;
	ck_assert(monitor_above(&u, 80));
	ck_assert(!monitor_above(&u, 0));	/* 0: never */
	ck_assert_uint_eq(monitor_percent(&u), 80);
	u = usage(177, 177, 177);
	ck_assert_uint_eq(monitor_percent(&u), 100);
}
END_TEST

START_TEST(test_delete)
{
	struct monitor_policy p = {
		.action = MONITOR_DELETE_OLDEST, .act_above = 90, .delete_until = 70,
	};
	struct monitor_usage u = usage(89, 100, 100);

	ck_assert(!monitor_should_delete(&p, &u, false));
	u.used = 90;
	ck_assert(monitor_should_delete(&p, &u, false));
	/* Once deleting, on down to delete_until. */
	u.used = 71;
	ck_assert(monitor_should_delete(&p, &u, true));
	ck_assert(!monitor_should_delete(&p, &u, false));
	u.used = 70;
	ck_assert(!monitor_should_delete(&p, &u, true));
	p.action = MONITOR_GROW;
	u.used = 100;
	ck_assert(!monitor_should_delete(&p, &u, false));
}
END_TEST

START_TEST(test_grow)
{
	struct monitor_policy p = {
		.action = MONITOR_GROW, .act_above = 80,
		.grow_step = { .percent = 10 }, .grow_max = { .max = true },
	};
	struct monitor_usage u = usage(79, 100, 1000);
	bool capped;

	ck_assert_uint_eq(monitor_grow_limit(&p, &u, &capped), 0);
	ck_assert(!capped);
	u.used = 80;				/* one step of 100 chunks */
	ck_assert_uint_eq(monitor_grow_limit(&p, &u, &capped), 200);
	ck_assert(!capped);
	u.used = 300;				/* steps until below 80% */
	ck_assert_uint_eq(monitor_grow_limit(&p, &u, &capped), 400);
	/* A size step rounds up to whole chunks, and never past the store. */
	p.grow_step = (struct monitor_size) { .bytes = 4097 };
	u = usage(8, 10, 11);
	ck_assert_uint_eq(monitor_grow_limit(&p, &u, &capped), 11);
	ck_assert(!capped);
	u = usage(10, 10, 11);
	ck_assert_uint_eq(monitor_grow_limit(&p, &u, &capped), 11);
	ck_assert(capped);			/* 10/11 still above 80% */
	/* At the max already: nothing to do, and it says so. */
	u = usage(10, 11, 11);
	ck_assert_uint_eq(monitor_grow_limit(&p, &u, &capped), 0);
	ck_assert(capped);
	/* grow_max below the capacity, rounded down. */
	p.grow_step = (struct monitor_size) { .percent = 50 };
	p.grow_max = (struct monitor_size) { .bytes = 150 * 4096 + 100 };
	u = usage(90, 100, 1000);
	ck_assert_uint_eq(monitor_grow_limit(&p, &u, &capped), 150);
	ck_assert(!capped);
	p.grow_max = (struct monitor_size) { .percent = 12 };
	ck_assert_uint_eq(monitor_grow_limit(&p, &u, &capped), 120);
	ck_assert(!capped);
	p.action = MONITOR_WARN;
	ck_assert_uint_eq(monitor_grow_limit(&p, &u, &capped), 0);
}
END_TEST

START_TEST(test_thresholds)
{
	struct monitor_policy p = { .action = MONITOR_WARN, .warn_above = 80, .act_above = 90 };
	unsigned int t[2];

	ck_assert_uint_eq(monitor_thresholds(&p, t), 1);
	ck_assert_uint_eq(t[0], 80);
	p.action = MONITOR_GROW;
	ck_assert_uint_eq(monitor_thresholds(&p, t), 2);
	ck_assert_uint_eq(t[0], 80);
	ck_assert_uint_eq(t[1], 90);
	p.warn_above = 95;
	ck_assert_uint_eq(monitor_thresholds(&p, t), 2);
	ck_assert_uint_eq(t[0], 90);
	ck_assert_uint_eq(t[1], 95);
	p.warn_above = 90;
	ck_assert_uint_eq(monitor_thresholds(&p, t), 1);
	p.warn_above = 0;
	ck_assert_uint_eq(monitor_thresholds(&p, t), 1);
	ck_assert_uint_eq(t[0], 90);
	p.action = MONITOR_WARN;
	ck_assert_uint_eq(monitor_thresholds(&p, t), 0);
}
END_TEST

Suite *suite_monitor(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc = tcase_create("conf");

	tcase_add_test(tc, test_conf_defaults);
	tcase_add_test(tc, test_conf_volumes);
	tcase_add_test(tc, test_conf_bad);
	tcase_add_test(tc, test_conf_load);
	suite_add_tcase(s, tc);

	tc = tcase_create("decide");
	tcase_add_test(tc, test_warn);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_grow);
	tcase_add_test(tc, test_thresholds);
	suite_add_tcase(s, tc);
	return s;
}
