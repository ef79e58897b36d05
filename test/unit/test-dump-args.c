/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "dump-args.h"
#include "unit.h"

static int parse(struct dump_args *a, char *why, ...)
{
	char *argv[16] = { (char *)"shadow-dump" };
	int argc = 1;
	va_list ap;
	char *s;

	va_start(ap, why);
	while ((s = va_arg(ap, char *)) && argc < 15)
		argv[argc++] = s;
	va_end(ap);
	memset(a, 0, sizeof(*a));
	why[0] = '\0';
	return dump_parse_argv(argc, argv, a, why, 128);
}

START_TEST(test_store_only)
{
	struct dump_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, "/dev/vdb", NULL), DUMP_RUN);
	ck_assert_str_eq(a.store, "/dev/vdb");
	ck_assert(!a.json && !a.records && !a.check && !a.metadata_snap);
}
END_TEST

START_TEST(test_all_options)
{
	struct dump_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, "--json", "--records", "--check", "img", NULL), DUMP_RUN);
	ck_assert(a.json && a.records && a.check);
	ck_assert_str_eq(a.store, "img");
	ck_assert_int_eq(parse(&a, why, "-Jrc", "img", NULL), DUMP_RUN);
	ck_assert(a.json && a.records && a.check);
	/* Options after the store are accepted too. */
	ck_assert_int_eq(parse(&a, why, "img", "--check", NULL), DUMP_RUN);
	ck_assert(a.check && !a.json);
	ck_assert_str_eq(a.store, "img");
	ck_assert_int_eq(parse(&a, why, "--metadata-snap", "--records", "img", NULL), DUMP_RUN);
	ck_assert(a.metadata_snap && a.records && !a.check);
	ck_assert_int_eq(parse(&a, why, "-mJ", "img", NULL), DUMP_RUN);
	ck_assert(a.metadata_snap && a.json);
	/* "--" ends options. */
	ck_assert_int_eq(parse(&a, why, "--", "-weird-name", NULL), DUMP_RUN);
	ck_assert_str_eq(a.store, "-weird-name");
}
END_TEST

START_TEST(test_help_version)
{
	struct dump_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, "--help", NULL), DUMP_HELP);
	ck_assert_int_eq(parse(&a, why, "-h", "img", NULL), DUMP_HELP);
	ck_assert_int_eq(parse(&a, why, "--version", NULL), DUMP_VERSION);
	ck_assert_int_eq(parse(&a, why, "-V", NULL), DUMP_VERSION);
}
END_TEST

START_TEST(test_usage_errors)
{
	struct dump_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, NULL), -EINVAL);
	ck_assert_str_eq(why, "no store given");
	ck_assert_int_eq(parse(&a, why, "--json", NULL), -EINVAL);
	ck_assert_str_eq(why, "no store given");
	ck_assert_int_eq(parse(&a, why, "a", "b", NULL), -EINVAL);
	ck_assert_str_eq(why, "one store only, got 'b' too");
	ck_assert_int_eq(parse(&a, why, "-x", "img", NULL), -EINVAL);
	ck_assert_str_eq(why, "unknown option '-x'");
	ck_assert_int_eq(parse(&a, why, "--frobnicate", "img", NULL), -EINVAL);
	ck_assert_str_eq(why, "unknown option '--frobnicate'");
	ck_assert_int_eq(parse(&a, why, "--json=yes", "img", NULL), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "--json"));
	/* Nothing is returned on failure. */
	ck_assert_ptr_null(a.store);
}
END_TEST

Suite *suite_dump_args(void)
{
	Suite *s = suite_create("dump-args");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_store_only);
	tcase_add_test(tc, test_all_options);
	tcase_add_test(tc, test_help_version);
	tcase_add_test(tc, test_usage_errors);
	suite_add_tcase(s, tc);
	return s;
}
