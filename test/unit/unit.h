/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef SHADOW_UNIT_H
#define SHADOW_UNIT_H

#include <check.h>
#include <stdbool.h>

/* One suite per area; unit.c lists them all. */
Suite *suite_crc32c(void);
Suite *suite_format(void);
Suite *suite_layout(void);
Suite *suite_check(void);
Suite *suite_dump_args(void);
Suite *suite_status(void);
Suite *suite_catalog(void);
Suite *suite_clone_doc(void);
Suite *suite_transport(void);
Suite *suite_ctl_args(void);
Suite *suite_proto(void);
Suite *suite_set_machine(void);
Suite *suite_ctl_columns(void);
Suite *suite_provider(void);
Suite *suite_monitor(void);
Suite *suite_schedule(void);
Suite *suite_diff(void);
Suite *suite_stream(void);
Suite *suite_name(void);
Suite *suite_dm_log(void);
Suite *suite_coverage(void);

/*
 * Write the check suite's consistent sample store to @path; with @variant
 * "leak", data chunk 50 is counted in the data space map but unmapped;
 * with "held", it holds a metadata snapshot of the sample store and has
 * changed since (build_held()); with "journal", three copies are pending
 * in its exception journal (build_pending()); with "old", it is formatted
 * without the journal (build_old()); with "row", it is the row store of
 * build_row_pending() instead; with "row-dropped", the reverted row
 * store of build_row_dropped(); with "clone", the clone store of
 * build_clone().
 */
int check_make_image(const char *path, const char *variant);

#endif
