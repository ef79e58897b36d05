/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The status and "list" parsers on the exact strings the targets print
 * (dm-shadow(7)), the broken-state words included.
 */
#include <errno.h>
#include <stdlib.h>

#include "shadow-status.h"
#include "unit.h"

START_TEST(test_origin_rw)
{
	struct shadow_origin_status st;

	ck_assert_int_eq(shadow_parse_origin_status("cow 8 12/65000 1/8190 0 rw", &st), 0);
	ck_assert_str_eq(st.store_type, "cow");
	ck_assert_uint_eq(st.chunk_sectors, 8);
	ck_assert_uint_eq(st.used_chunks, 12);
	ck_assert_uint_eq(st.total_chunks, 65000);
	ck_assert_uint_eq(st.snapshots, 1);
	ck_assert_uint_eq(st.max_snapshots, 8190);
	ck_assert_uint_eq(st.invalid, 0);
	ck_assert(!st.failed);
	/* shadow-origin 1.0.0: the store may use all it holds. */
	ck_assert_uint_eq(st.data_chunks, 65000);
}
END_TEST

/* shadow-origin 1.1.0 appends the data chunks; the pair gives the limit. */
START_TEST(test_origin_limit)
{
	struct shadow_origin_status st;

	ck_assert_int_eq(shadow_parse_origin_status("cow 8 12/1000 1/8190 0 rw 65000", &st), 0);
	ck_assert_uint_eq(st.used_chunks, 12);
	ck_assert_uint_eq(st.total_chunks, 1000);
	ck_assert_uint_eq(st.data_chunks, 65000);
	ck_assert(!st.failed);
	ck_assert_int_eq(shadow_parse_origin_status("cow 8 177/177 3/8190 2 fail 177", &st), 0);
	ck_assert_uint_eq(st.data_chunks, 177);
	ck_assert(st.failed);
}
END_TEST

/* 2.0.0 appends metadata use, the transaction id and needs_check. */
START_TEST(test_origin_v2)
{
	struct shadow_origin_status st;

	ck_assert_int_eq(shadow_parse_origin_status(
		"cow 8 12/1000 1/8190 0 rw 65000 30/256 17 - -", &st), 0);
	ck_assert(st.has_metadata);
	ck_assert_uint_eq(st.metadata_used, 30);
	ck_assert_uint_eq(st.metadata_blocks, 256);
	ck_assert_uint_eq(st.transaction_id, 17);
	ck_assert(!st.needs_check);
	ck_assert_int_eq(shadow_parse_origin_status(
		"cow 8 12/1000 1/8190 0 fail 65000 30/256 18 needs_check 9 later", &st), 0);
	ck_assert(st.needs_check);
	ck_assert_uint_eq(st.held_root, 9);
	ck_assert(st.failed);
	ck_assert_int_eq(shadow_parse_origin_status("cow 8 12/1000 1/8190 0 rw 65000", &st), 0);
	ck_assert(!st.has_metadata);
}
END_TEST

/* 2.1.0 appends the revert: its snapshot and how far the merge is. */
START_TEST(test_origin_revert)
{
	struct shadow_origin_status st;

	ck_assert_int_eq(shadow_parse_origin_status(
		"cow 8 12/1000 1/8190 0 rw 65000 30/256 17 - - - -", &st), 0);
	ck_assert(st.has_metadata);
	ck_assert(!st.reverting);
	ck_assert_int_eq(shadow_parse_origin_status(
		"cow 128 914/1019 3/8190 0 rw 1019 16/77 938 - - 2 174/512 later", &st), 0);
	ck_assert(st.reverting);
	ck_assert_uint_eq(st.revert_id, 2);
	ck_assert_uint_eq(st.revert_cursor, 174);
	ck_assert_uint_eq(st.origin_chunks, 512);
	ck_assert_int_eq(shadow_parse_origin_status(
		"cow 8 12/1000 1/8190 0 rw 65000 30/256 17 - - 2 513/512", &st), -EINVAL);
	ck_assert_int_eq(shadow_parse_origin_status(
		"cow 8 12/1000 1/8190 0 rw 65000 30/256 17 - - 2 -", &st), -EINVAL);
	ck_assert_int_eq(shadow_parse_origin_status(
		"cow 8 12/1000 1/8190 0 rw 65000 30/256 17 - - - 1/2", &st), -EINVAL);
	ck_assert_int_eq(shadow_parse_origin_status(
		"cow 8 12/1000 1/8190 0 rw 65000 30/256 17 - - x 1/2", &st), -EINVAL);
}
END_TEST

/* 2.2.0 appends fold-back: where its walk is, and its rate. */
START_TEST(test_origin_fold)
{
	struct shadow_origin_status st;

	ck_assert_int_eq(shadow_parse_origin_status(
		"cow 8 12/1000 1/8190 0 rw 65000 30/256 17 - - - - - -", &st), 0);
	ck_assert(!st.folding);
	ck_assert_uint_eq(st.fold_rate, 0);
	ck_assert_int_eq(shadow_parse_origin_status(
		"row 8 12/1000 0/8190 0 rw 65000 30/256 17 - - - - 300/4096 8 later", &st), 0);
	ck_assert(st.folding);
	ck_assert_uint_eq(st.fold_cursor, 300);
	ck_assert_uint_eq(st.fold_origin_chunks, 4096);
	ck_assert_uint_eq(st.fold_rate, 8);
	ck_assert_int_eq(shadow_parse_origin_status(
		"row 8 12/1000 0/8190 0 rw 65000 30/256 17 - - - - - 0", &st), 0);
	ck_assert(!st.folding);
	ck_assert_int_eq(shadow_parse_origin_status(
		"row 8 12/1000 0/8190 0 rw 65000 30/256 17 - - - - 4097/4096 0", &st), -EINVAL);
	ck_assert_int_eq(shadow_parse_origin_status(
		"row 8 12/1000 0/8190 0 rw 65000 30/256 17 - - - - 12 0", &st), -EINVAL);
	ck_assert_int_eq(shadow_parse_origin_status(
		"row 8 12/1000 0/8190 0 rw 65000 30/256 17 - - - - - fast", &st), -EINVAL);
}
END_TEST

/* 2.4.0: a clone store appends its hydration rate and its clones. */
START_TEST(test_origin_clones)
{
	struct shadow_origin_status st;

	/* dm-shadow(7)'s example: one clone hydrating at 100 MiB/s. */
	ck_assert_int_eq(shadow_parse_origin_status(
		"clone 128 0/0 1/8190 0 rw 0 9/2024 3 - - - - - - 100 1 1 hydrating 5120/16384",
		&st), 0);
	ck_assert_str_eq(st.store_type, "clone");
	ck_assert_uint_eq(st.total_chunks, 0);
	ck_assert_uint_eq(st.data_chunks, 0);
	ck_assert(!st.folding);
	ck_assert(st.has_clones);
	ck_assert_uint_eq(st.hydrate_rate, 100);
	ck_assert_uint_eq(st.n_clones, 1);
	ck_assert_uint_eq(st.clones[0].id, 1);
	ck_assert_int_eq(st.clones[0].state, SHADOW_CLONE_STATE_HYDRATING);
	ck_assert_uint_eq(st.clones[0].copied, 5120);
	ck_assert_uint_eq(st.clones[0].total, 16384);

	/* Three states, a failed clone counted invalid; later fields skipped. */
	ck_assert_int_eq(shadow_parse_origin_status(
		"clone 8 0/0 3/8190 1 rw 0 20/2024 9 - - - - - - 0 3 "
		"4 complete 512/512 7 failed 100/512 9 hydrating 0/512 later", &st), 0);
	ck_assert_uint_eq(st.hydrate_rate, 0);
	ck_assert_uint_eq(st.n_clones, 3);
	ck_assert_int_eq(st.clones[0].state, SHADOW_CLONE_STATE_COMPLETE);
	ck_assert_int_eq(st.clones[1].state, SHADOW_CLONE_STATE_FAILED);
	ck_assert_uint_eq(st.clones[1].id, 7);
	ck_assert_int_eq(st.clones[2].state, SHADOW_CLONE_STATE_HYDRATING);
	ck_assert_str_eq(shadow_clone_status_word(st.clones[1].state), "failed");
	ck_assert_ptr_null(shadow_clone_status_word((enum shadow_clone_state)3));

	/* None: a clone store before its first clone. */
	ck_assert_int_eq(shadow_parse_origin_status(
		"clone 8 0/0 0/8190 0 rw 0 20/2024 9 - - - - - - 50 0", &st), 0);
	ck_assert(st.has_clones);
	ck_assert_uint_eq(st.n_clones, 0);
	ck_assert_uint_eq(st.hydrate_rate, 50);

	/* Eight, the most. */
	ck_assert_int_eq(shadow_parse_origin_status(
		"clone 8 0/0 8/8190 0 rw 0 20/2024 9 - - - - - - 0 8 "
		"1 complete 2/2 2 complete 2/2 3 complete 2/2 4 complete 2/2 "
		"5 complete 2/2 6 complete 2/2 7 complete 2/2 8 hydrating 1/2", &st), 0);
	ck_assert_uint_eq(st.n_clones, 8);
	ck_assert_uint_eq(st.clones[7].id, 8);

	/* A cow or row store's status ends at fold_rate: nothing of clones. */
	ck_assert_int_eq(shadow_parse_origin_status(
		"cow 8 12/1000 1/8190 0 rw 65000 30/256 17 - - - - - - 7 later", &st), 0);
	ck_assert(!st.has_clones);
	ck_assert_uint_eq(st.n_clones, 0);
}
END_TEST

/* Clone fields that are not what the target prints: refused. */
START_TEST(test_origin_clones_bad)
{
	struct shadow_origin_status st = { .chunk_sectors = 77 };
	static const char *const bad[] = {
		/* fewer triples than announced */
		"clone 8 0/0 2/8190 0 rw 0 20/2024 9 - - - - - - 0 2 4 complete 512/512",
		"clone 8 0/0 1/8190 0 rw 0 20/2024 9 - - - - - - 0 1",
		"clone 8 0/0 1/8190 0 rw 0 20/2024 9 - - - - - - 0 1 4 complete",
		/* an unknown state word, or one in capitals */
		"clone 8 0/0 1/8190 0 rw 0 20/2024 9 - - - - - - 0 1 4 copying 1/512",
		"clone 8 0/0 1/8190 0 rw 0 20/2024 9 - - - - - - 0 1 4 Complete 512/512",
		/* malformed: more copied than there is, no pair, no id, id 0 */
		"clone 8 0/0 1/8190 0 rw 0 20/2024 9 - - - - - - 0 1 4 hydrating 513/512",
		"clone 8 0/0 1/8190 0 rw 0 20/2024 9 - - - - - - 0 1 4 hydrating 512",
		"clone 8 0/0 1/8190 0 rw 0 20/2024 9 - - - - - - 0 1 x hydrating 1/512",
		"clone 8 0/0 1/8190 0 rw 0 20/2024 9 - - - - - - 0 1 0 hydrating 1/512",
		/* one clone twice */
		"clone 8 0/0 2/8190 0 rw 0 20/2024 9 - - - - - - 0 2 "
		"4 complete 2/2 4 complete 2/2",
		/* more than eight, a bad count, a bad rate, a rate alone */
		"clone 8 0/0 9/8190 0 rw 0 20/2024 9 - - - - - - 0 9 "
		"1 complete 2/2 2 complete 2/2 3 complete 2/2 4 complete 2/2 "
		"5 complete 2/2 6 complete 2/2 7 complete 2/2 8 complete 2/2 9 complete 2/2",
		"clone 8 0/0 1/8190 0 rw 0 20/2024 9 - - - - - - 0 one 4 complete 2/2",
		"clone 8 0/0 1/8190 0 rw 0 20/2024 9 - - - - - - - 1 4 complete 2/2",
		"clone 8 0/0 1/8190 0 rw 0 20/2024 9 - - - - - - 100",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(shadow_parse_origin_status(bad[i], &st) == -EINVAL,
			      "accepted '%s'", bad[i]);
	ck_assert_uint_eq(st.chunk_sectors, 77);	/* untouched */
}
END_TEST

START_TEST(test_origin_fail)
{
	struct shadow_origin_status st;

	ck_assert_int_eq(shadow_parse_origin_status("cow 2048 0/7 3/8190 3 fail", &st), 0);
	ck_assert(st.failed);
	ck_assert_uint_eq(st.invalid, 3);
	ck_assert_uint_eq(st.chunk_sectors, 2048);
	/* Big counters. */
	ck_assert_int_eq(shadow_parse_origin_status(
		"cow 8 18446744073709551615/18446744073709551615 8190/8190 8190 rw", &st), 0);
	ck_assert_uint_eq(st.used_chunks, UINT64_MAX);
}
END_TEST

START_TEST(test_origin_bad)
{
	struct shadow_origin_status st = { .chunk_sectors = 77 };
	static const char *const bad[] = {
		"", "cow", "cow 8 12/65000 1/8190 0", "cow 8 12/65000 1/8190 0 rw extra",
		"cow 8 12/65000 1/8190 0 RW", "cow 8 12/65000 1/8190 0 Fail",
		"cow 8 12-65000 1/8190 0 rw", "cow 8 /65000 1/8190 0 rw",
		"cow 8 12/ 1/8190 0 rw", "cow -8 12/65000 1/8190 0 rw",
		"cow 8 13/12 1/8190 0 rw", "cow 8 1/2 9/8 0 rw", "cow 8 1/2 1/8 2 rw",
		"cow 8 18446744073709551616/18446744073709551617 1/8 0 rw",
		"cow 8 12/65000 1/8190 x rw", "cow 8 12/65000\n 1/8190 0 rw",
		"cow 4294967296 1/2 1/8 0 rw",
		"cow 8 12/1000 1/8190 0 rw 999", "cow 8 12/1000 1/8190 0 rw x",
		"cow 8 12/1000 1/8190 0 rw 1000 7", "cow 8 12/1000 1/8190 0 rw -1000",
		"cow 8 12/1000 1/8190 0 rw 1000 7/6 1 - -",
		"cow 8 12/1000 1/8190 0 rw 1000 6/7 x - -",
		"cow 8 12/1000 1/8190 0 rw 1000 6/7 1 needs-check -",
		"cow 8 12/1000 1/8190 0 rw 1000 6/7 1 - 0",
		"cow 8 12/1000 1/8190 0 rw 1000 6/7 1 -",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(shadow_parse_origin_status(bad[i], &st) == -EINVAL,
			      "accepted '%s'", bad[i]);
	ck_assert_int_eq(shadow_parse_origin_status(NULL, &st), -EINVAL);
	ck_assert_uint_eq(st.chunk_sectors, 77);	/* untouched */
}
END_TEST

START_TEST(test_snap)
{
	struct shadow_snap_status st;

	ck_assert_int_eq(shadow_parse_snap_status("1 valid ro", &st), 0);
	ck_assert_uint_eq(st.id, 1);
	ck_assert(st.valid);
	ck_assert_int_eq(st.seal, SHADOW_SEAL_RO);
	ck_assert_int_eq(shadow_parse_snap_status("42 invalid sealed", &st), 0);
	ck_assert(!st.valid);
	ck_assert_int_eq(st.seal, SHADOW_SEAL_SEALED);
	ck_assert_int_eq(shadow_parse_snap_status("7 valid rw", &st), 0);
	ck_assert_int_eq(st.seal, SHADOW_SEAL_RW);
	ck_assert_int_eq(shadow_parse_snap_status("1 valid", &st), -EINVAL);
	ck_assert_int_eq(shadow_parse_snap_status("1 Valid ro", &st), -EINVAL);
	ck_assert_int_eq(shadow_parse_snap_status("1 valid ro x", &st), -EINVAL);
	ck_assert_int_eq(shadow_parse_snap_status("x valid ro", &st), -EINVAL);
	ck_assert_int_eq(shadow_parse_snap_status("1 fail ro", &st), -EINVAL);
	ck_assert_int_eq(shadow_parse_snap_status("1 valid writable", &st), -EINVAL);
}
END_TEST

START_TEST(test_list)
{
	struct shadow_list_entry *e = NULL;
	unsigned int n = 99;

	ck_assert_int_eq(shadow_parse_list("", &e, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(e);
	ck_assert_int_eq(shadow_parse_list(
		"1 1 1763800000 valid ro\n"
		"5 2 1763800001 invalid ro\n"
		"18446744073709551615 3 1763800002 valid sealed\n", &e, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(e[0].id, 1);
	ck_assert_uint_eq(e[0].ctime, 1763800000);
	ck_assert(e[0].valid && !e[0].sealed);
	ck_assert(!e[1].valid && !e[1].sealed);
	ck_assert_uint_eq(e[1].seq, 2);
	ck_assert_uint_eq(e[2].id, UINT64_MAX);
	ck_assert(e[2].valid && e[2].sealed);
	free(e);
}
END_TEST

START_TEST(test_list_bad)
{
	struct shadow_list_entry *e = NULL;
	unsigned int n = 99;
	static const char *const bad[] = {
		"1 1 1763800000 valid ro",		/* no newline */
		"1 1 1763800000 valid\n",
		"1 1 1763800000 valid ro extra\n",
		"1 1 1763800000 fail ro\n",
		"1 1 1763800000 valid rw\n",		/* list says ro|sealed */
		"1 1 1763800000 valid ro\n1 2 1763800001 valid ro\n",	/* repeat */
		"2 1 1 valid ro\n1 2 2 valid ro\n",	/* out of order */
		"\n",
		"a 1 1 valid ro\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(shadow_parse_list(bad[i], &e, &n) == -EINVAL,
			      "accepted '%s'", bad[i]);
	ck_assert_uint_eq(n, 99);
	ck_assert_ptr_null(e);
}
END_TEST

START_TEST(test_origin_table)
{
	struct shadow_origin_table t;

	ck_assert_int_eq(shadow_parse_origin_table("7:0 7:1 cow 8 0", &t), 0);
	ck_assert_str_eq(t.origin, "7:0");
	ck_assert_str_eq(t.store, "7:1");
	ck_assert_str_eq(t.store_type, "cow");
	ck_assert_uint_eq(t.chunk_sectors, 8);
	ck_assert_int_eq(shadow_parse_origin_table("7:0 7:1 cow 8", &t), 0);
	ck_assert_int_eq(shadow_parse_origin_table("7:0 7:1 cow 8 1", &t), -EINVAL);
	ck_assert_int_eq(shadow_parse_origin_table("7:0 7:1 cow", &t), -EINVAL);
	ck_assert_int_eq(shadow_parse_origin_table("7:0 7:1 cow x 0", &t), -EINVAL);
	ck_assert_uint_eq(t.n_targets, 0);
	ck_assert(!t.has_hydrate_rate);
}
END_TEST

/* A clone store's table: its targets and rate, as the kernel prints them. */
START_TEST(test_origin_table_features)
{
	struct shadow_origin_table t;

	ck_assert_int_eq(shadow_parse_origin_table(
		"254:1 254:2 clone 128 8 clone_target 3 8:16 clone_target 5 8:32 hydrate_rate 100",
		&t), 0);
	ck_assert_str_eq(t.store_type, "clone");
	ck_assert_uint_eq(t.n_targets, 2);
	ck_assert_uint_eq(t.targets[0].id, 3);
	ck_assert_str_eq(t.targets[0].dev, "8:16");
	ck_assert_uint_eq(t.targets[1].id, 5);
	ck_assert_str_eq(t.targets[1].dev, "8:32");
	ck_assert(t.has_hydrate_rate);
	ck_assert_uint_eq(t.hydrate_rate, 100);
	ck_assert_int_eq(shadow_parse_origin_table("254:1 254:2 clone 128 0", &t), 0);
	ck_assert_uint_eq(t.n_targets, 0);
	ck_assert(!t.has_hydrate_rate);
	/* The most targets, eight, and a rate: 26 words of features. */
	ck_assert_int_eq(shadow_parse_origin_table(
		"254:1 254:2 clone 8 26 clone_target 1 8:1 clone_target 2 8:2 clone_target 3 8:3 "
		"clone_target 4 8:4 clone_target 5 8:5 clone_target 6 8:6 clone_target 7 8:7 "
		"clone_target 8 8:8 hydrate_rate 0", &t), 0);
	ck_assert_uint_eq(t.n_targets, 8);

	/* Refused: a count that does not match, a feature cut short, unknown, twice, nine. */
	ck_assert_int_eq(shadow_parse_origin_table(
		"254:1 254:2 clone 8 2 clone_target 1 8:1", &t), -EINVAL);
	ck_assert_int_eq(shadow_parse_origin_table(
		"254:1 254:2 clone 8 2 clone_target 1", &t), -EINVAL);
	ck_assert_int_eq(shadow_parse_origin_table(
		"254:1 254:2 clone 8 2 fold_rate 1", &t), -EINVAL);
	ck_assert_int_eq(shadow_parse_origin_table(
		"254:1 254:2 clone 8 3 clone_target x 8:1", &t), -EINVAL);
	ck_assert_int_eq(shadow_parse_origin_table(
		"254:1 254:2 clone 8 6 clone_target 1 8:1 clone_target 1 8:2", &t), -EINVAL);
	ck_assert_int_eq(shadow_parse_origin_table(
		"254:1 254:2 clone 8 4 hydrate_rate 1 hydrate_rate 2", &t), -EINVAL);
	ck_assert_int_eq(shadow_parse_origin_table(
		"254:1 254:2 clone 8 27 clone_target 1 8:1 clone_target 2 8:2 clone_target 3 8:3 "
		"clone_target 4 8:4 clone_target 5 8:5 clone_target 6 8:6 clone_target 7 8:7 "
		"clone_target 8 8:8 clone_target 9 8:9", &t), -EINVAL);
}
END_TEST

Suite *suite_status(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("parsers");

	tcase_add_test(tc, test_origin_rw);
	tcase_add_test(tc, test_origin_fail);
	tcase_add_test(tc, test_origin_v2);
	tcase_add_test(tc, test_origin_revert);
	tcase_add_test(tc, test_origin_fold);
	tcase_add_test(tc, test_origin_clones);
	tcase_add_test(tc, test_origin_clones_bad);
	tcase_add_test(tc, test_origin_limit);
	tcase_add_test(tc, test_origin_bad);
	tcase_add_test(tc, test_snap);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_list_bad);
	tcase_add_test(tc, test_origin_table);
	tcase_add_test(tc, test_origin_table_features);
	suite_add_tcase(s, tc);
	return s;
}
