/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit test runner: every suite is registered in the list below.
 * Run one suite with CK_RUN_SUITE=<name>, one test with CK_RUN_CASE=<name>.
 *
 * "unit-tests --make-image PATH [leak|held|journal|old|row|row-dropped|clone]" writes the
 * small consistent store that the check suite starts from (with "leak",
 * one leaked data chunk; with "held", changed since a metadata snapshot
 * it holds; with "journal", three copies pending in the exception
 * journal; with "old", formatted before the journal existed; with "row",
 * the check suite's row store instead, three writes pending in its
 * journal; with "row-dropped", its row store reverted to a snapshot,
 * whose dropped versions are not freed yet; with "clone", its clone
 * store, one clone complete and one hydrating), for the shell-level
 * shadow-dump test.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static Suite *(*const suites[])(void) = {
	suite_crc32c,
	suite_format,
	suite_layout,
	suite_check,
	suite_dump_args,
	suite_status,
	suite_catalog,
	suite_clone_doc,
	suite_transport,
	suite_ctl_args,
	suite_proto,
	suite_set_machine,
	suite_ctl_columns,
	suite_provider,
	suite_monitor,
	suite_schedule,
	suite_diff,
	suite_stream,
	suite_name,
	suite_dm_log,
	suite_coverage,
};

int main(int argc, char *argv[])
{
	SRunner *sr;
	int failed;

	if ((argc == 3 || (argc == 4 && (strcmp(argv[3], "leak") == 0 ||
					 strcmp(argv[3], "held") == 0 ||
					 strcmp(argv[3], "journal") == 0 ||
					 strcmp(argv[3], "old") == 0 ||
					 strcmp(argv[3], "row") == 0 ||
					 strcmp(argv[3], "row-dropped") == 0 ||
					 strcmp(argv[3], "clone") == 0))) &&
	    strcmp(argv[1], "--make-image") == 0)
		return check_make_image(argv[2], argc == 4 ? argv[3] : NULL) < 0 ?
		       EXIT_FAILURE : EXIT_SUCCESS;

	sr = srunner_create(NULL);
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	/* CK_VERBOSITY (silent/minimal/normal/verbose) overrides CK_NORMAL. */
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
