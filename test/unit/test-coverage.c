/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which writer components go into a set (lib/core/shadow-choose.c,
 * shadow-writer(7)): a component's paths against the set's volumes give
 * wholly on the set (kept), partly (the creation fails unless it is
 * excluded) or not at all (left alone); and the requester's
 * --exclude-component (lib/shadow-create-opts.c).
 */
#include <errno.h>
#include <sys/sysmacros.h>

#include "shadow-choose.h"
#include "unit.h"

#define DATA makedev(254, 1)	/* a volume of the set */
#define LOGS makedev(254, 2)	/* another volume of the set */
#define WAL makedev(254, 3)	/* a volume not in the set */

/* The set: the two volumes (a compound literal: makedev() is not constant). */
#define set ((const dev_t[]) { DATA, LOGS })

#define ON(d) { .dev = (d) }
#define ERR(e) { .err = (e) }

START_TEST(test_full)
{
	const struct path_place one[] = { ON(DATA) };
	const struct path_place two[] = { ON(DATA), ON(LOGS), ON(DATA) };
	bool missing[3] = { true, true, true };

	ck_assert_int_eq(component_coverage(one, 1, set, 2, NULL), COVERAGE_FULL);
	ck_assert_int_eq(component_coverage(two, 3, set, 2, missing), COVERAGE_FULL);
	ck_assert(!missing[0] && !missing[1] && !missing[2]);
}
END_TEST

/* PostgreSQL's data directory on the set, its pg_wal on another volume. */
START_TEST(test_partial)
{
	const struct path_place pg[] = { ON(DATA), ON(WAL) };
	const struct path_place three[] = { ON(WAL), ON(LOGS), ON(WAL) };
	bool missing[3];

	ck_assert_int_eq(component_coverage(pg, 2, set, 2, missing), COVERAGE_PARTIAL);
	ck_assert(!missing[0] && missing[1]);
	ck_assert_int_eq(component_coverage(three, 3, set, 2, missing), COVERAGE_PARTIAL);
	ck_assert(missing[0] && !missing[1] && missing[2]);
	/* The same paths with the WAL volume in the set: whole. */
	{
		const dev_t both[] = { DATA, WAL };

		ck_assert_int_eq(component_coverage(pg, 2, both, 2, missing), COVERAGE_FULL);
	}
}
END_TEST

START_TEST(test_none)
{
	const struct path_place elsewhere[] = { ON(WAL), ON(makedev(8, 1)) };
	bool missing[2];

	ck_assert_int_eq(component_coverage(elsewhere, 2, set, 2, missing), COVERAGE_NONE);
	ck_assert(missing[0] && missing[1]);
	ck_assert_int_eq(component_coverage(NULL, 0, set, 2, NULL), COVERAGE_NONE);
	/* No volume in the set at all. */
	ck_assert_int_eq(component_coverage((const struct path_place[]) { ON(DATA) }, 1,
					    NULL, 0, NULL), COVERAGE_NONE);
}
END_TEST

/*
 * A path that does not exist holds nothing: it counts for neither side.
 * One that cannot be looked at might hold anything: it is elsewhere.
 */
START_TEST(test_unknown_paths)
{
	const struct path_place gone[] = { ON(DATA), ERR(-ENOENT) };
	const struct path_place only_gone[] = { ERR(-ENOENT) };
	const struct path_place denied[] = { ON(DATA), ERR(-EACCES) };
	bool missing[2];

	ck_assert_int_eq(component_coverage(gone, 2, set, 2, missing), COVERAGE_FULL);
	ck_assert(!missing[0] && !missing[1]);
	ck_assert_int_eq(component_coverage(only_gone, 1, set, 2, NULL), COVERAGE_NONE);
	ck_assert_int_eq(component_coverage(denied, 2, set, 2, missing), COVERAGE_PARTIAL);
	ck_assert(!missing[0] && missing[1]);
}
END_TEST

/* A device number that only differs in the minor is another device. */
START_TEST(test_devices_exact)
{
	const struct path_place near[] = { ON(makedev(254, 1)), ON(makedev(254, 10)) };

	ck_assert_int_eq(component_coverage(near, 2, set, 2, NULL), COVERAGE_PARTIAL);
}
END_TEST

START_TEST(test_path_place_of)
{
	struct path_place p = path_place_of("/");

	ck_assert_int_eq(p.err, 0);
	p = path_place_of("/nonexistent/dm-shadow/path");
	ck_assert_int_eq(p.err, -ENOENT);
}
END_TEST

START_TEST(test_exclude_opts)
{
	shadow_create_opts *o = NULL;

	ck_assert_int_eq(shadow_create_opts_new(&o), 0);
	ck_assert_int_eq(shadow_create_opts_exclude_component(o, "postgresql/main"), 0);
	ck_assert_int_eq(shadow_create_opts_exclude_component(o, "postgresql/main"), 0);
	ck_assert_uint_eq(o->n_excluded, 1);
	ck_assert(create_opts_component_excluded(o, "postgresql", "main"));
	ck_assert(!create_opts_component_excluded(o, "postgresql", "mai"));
	ck_assert(!create_opts_component_excluded(o, "postgres", "ql/main"));
	ck_assert(!create_opts_component_excluded(o, "mariadb", "main"));
	/* Not a "<writer>/<component>". */
	ck_assert_int_eq(shadow_create_opts_exclude_component(o, "postgresql"), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_exclude_component(o, "/main"), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_exclude_component(o, "pg/"), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_exclude_component(o, "p.g/main"), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_exclude_component(o, NULL), -EINVAL);
	/* Kept and excluded at once, either way round. */
	ck_assert_int_eq(shadow_create_opts_add_component(o, "postgresql/main"), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_add_component(o, "sqlite/app.db"), 0);
	ck_assert_int_eq(shadow_create_opts_exclude_component(o, "sqlite/app.db"), -EINVAL);
	ck_assert(create_opts_component_named(o, "sqlite", "app.db"));
	ck_assert(!create_opts_component_excluded(o, "sqlite", "app.db"));
	shadow_create_opts_free(o);
}
END_TEST

/* Targets are kept as given: the creation says what is wrong with them. */
START_TEST(test_target_opts)
{
	shadow_create_opts *o = NULL;

	ck_assert_int_eq(shadow_create_opts_new(&o), 0);
	ck_assert_int_eq(shadow_create_opts_add_target(o, "cv", "/dev/vdh"), 0);
	ck_assert_int_eq(shadow_create_opts_add_target(o, "cv", "/dev/vdi"), 0);
	ck_assert_int_eq(shadow_create_opts_add_target(o, "dv", "/dev/vdh"), 0);
	ck_assert_uint_eq(o->n_targets, 3);
	ck_assert_str_eq(o->target_volumes[1], "cv");
	ck_assert_str_eq(o->target_devices[1], "/dev/vdi");
	ck_assert_int_eq(shadow_create_opts_add_target(o, "", "/dev/vdh"), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_add_target(o, "cv", ""), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_add_target(o, NULL, "/dev/vdh"), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_add_target(o, "cv", NULL), -EINVAL);
	ck_assert_uint_eq(o->n_targets, 3);
	for (unsigned int i = 3; i < SHADOW_MAX_SELECTED; i++)
		ck_assert_int_eq(shadow_create_opts_add_target(o, "v", "/dev/x"), 0);
	ck_assert_int_eq(shadow_create_opts_add_target(o, "v", "/dev/x"), -E2BIG);
	ck_assert_uint_eq(o->n_targets, SHADOW_MAX_SELECTED);
	shadow_create_opts_free(o);
}
END_TEST

Suite *suite_coverage(void)
{
	Suite *s = suite_create("coverage");
	TCase *tc = tcase_create("components");

	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_partial);
	tcase_add_test(tc, test_none);
	tcase_add_test(tc, test_unknown_paths);
	tcase_add_test(tc, test_devices_exact);
	tcase_add_test(tc, test_path_place_of);
	tcase_add_test(tc, test_exclude_opts);
	tcase_add_test(tc, test_target_opts);
	suite_add_tcase(s, tc);
	return s;
}
