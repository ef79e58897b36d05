/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "image.h"
#include "shadow-check.h"
#include "unit.h"

/*
 * A small consistent store: 64 origin chunks, 16 snapshot slots.
 *   snapshots: slot 0 seq 1, slot 1 seq 2, slot 15 (second table block)
 *              seq 3, written
 *   chunk 5:  record 0 (seq 3) -> record 1 (seq 1)
 *   chunk 63: record 2 (private, seq 3) -> record 3 (seq 2)
 *   free:     record 5 -> record 4
 */
static void build(struct image *im)
{
	struct shadow_snapshot s = { .state = SHADOW_SNAP_VALID, .ctime = 1700000100 };
	struct shadow_record r = {};

	image_init(im, 64 * 8, 2000, 8, 16);
	im->sb.last_seq = 3;
	im->sb.high_water = 6;
	im->sb.free_head = 6;
	im->sb.free_count = 2;
	im->sb.commit_gen = 9;

	s.id = 100; s.seq = 1;
	image_set_snap(im, 0, &s);
	s.id = 101; s.seq = 2;
	image_set_snap(im, 1, &s);
	s.id = 102; s.seq = 3; s.flags = SHADOW_SNAPF_WRITTEN;
	image_set_snap(im, 15, &s);

	image_set_index(im, 5, 1);
	r = (struct shadow_record) { .origin_chunk = 5, .seq = 3, .next = 2, .flags = SHADOW_REC_USED };
	image_set_record(im, 0, &r);
	r = (struct shadow_record) { .origin_chunk = 5, .seq = 1, .next = 0, .flags = SHADOW_REC_USED };
	image_set_record(im, 1, &r);

	image_set_index(im, 63, 3);
	r = (struct shadow_record) { .origin_chunk = 63, .seq = 3, .next = 4,
				     .flags = SHADOW_REC_USED | SHADOW_REC_PRIVATE };
	image_set_record(im, 2, &r);
	r = (struct shadow_record) { .origin_chunk = 63, .seq = 2, .next = 0, .flags = SHADOW_REC_USED };
	image_set_record(im, 3, &r);

	r = (struct shadow_record) { .next = 5 };
	image_set_record(im, 5, &r);
	r = (struct shadow_record) { .next = 0 };
	image_set_record(im, 4, &r);
	image_seal(im);
}

/* Check's asserts work only inside a test, so write the image from one. */
static const char *make_image_path;

START_TEST(test_make_image)
{
	struct image im;

	build(&im);
	ck_assert_int_eq(rename(image_write(&im), make_image_path), 0);
	im.path[0] = '\0';
	image_done(&im);
}
END_TEST

int check_make_image(const char *path)
{
	Suite *s = suite_create("make-image");
	TCase *tc = tcase_create("make-image");
	SRunner *sr;
	int failed;

	make_image_path = path;
	tcase_add_test(tc, test_make_image);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? -EIO : 0;
}

struct found {
	char text[4096];
};

static void collect(void *userdata, const char *msg)
{
	struct found *f = userdata;

	strncat(f->text, msg, sizeof(f->text) - strlen(f->text) - 2);
	strcat(f->text, "\n");
}

static struct shadow_check_result run(struct image *im, struct found *f)
{
	_cleanup_store_ struct shadow_store *s = NULL;
	struct shadow_check_result res;
	struct shadow_error err = {};

	memset(f, 0, sizeof(*f));
	ck_assert_msg(shadow_store_open(image_write(im), &s, &err) == 0, "open: %s", err.msg);
	ck_assert_int_eq(shadow_store_check(s, collect, f, &res), 0);
	image_done(im);
	return res;
}

START_TEST(test_consistent)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	res = run(&im, &f);
	ck_assert_msg(res.problems == 0, "unexpected problems:\n%s", f.text);
	ck_assert_uint_eq(res.used, 4);
	ck_assert_uint_eq(res.free, 2);
	ck_assert_uint_eq(res.leaked, 0);
	ck_assert_uint_eq(res.chains, 2);
	ck_assert_uint_eq(res.snapshots, 3);
	ck_assert_uint_eq(res.bad_blocks, 0);
	ck_assert_uint_eq(res.unallocated, im.sb.nr_data_chunks - 6);
}
END_TEST

START_TEST(test_empty_store)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	image_init(&im, 1024, 4096, 8, 4);
	res = run(&im, &f);
	ck_assert_msg(res.problems == 0, "unexpected problems:\n%s", f.text);
	ck_assert_uint_eq(res.used + res.free + res.leaked, 0);
}
END_TEST

#define EXPECT(res, f, needle) do {					\
		ck_assert_uint_ge((res).problems, 1);			\
		ck_assert_msg(strstr((f).text, (needle)),		\
			      "expected \"%s\" in:\n%s", (needle), (f).text); \
	} while (0)

START_TEST(test_chain_order)
{
	struct image im;
	struct found f;
	struct shadow_record r = { .origin_chunk = 5, .seq = 3, .next = 0, .flags = SHADOW_REC_USED };
	struct shadow_check_result res;

	build(&im);
	image_set_record(&im, 1, &r);	/* older record now has seq 3 too */
	image_seal(&im);
	res = run(&im, &f);
	EXPECT(res, f, "is not newest first");
}
END_TEST

START_TEST(test_reachable_twice)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	image_set_index(&im, 6, 2);	/* record 1 from chunk 6 as well */
	image_seal(&im);
	res = run(&im, &f);
	EXPECT(res, f, "record 1 is reachable twice");
}
END_TEST

START_TEST(test_chain_loop)
{
	struct image im;
	struct found f;
	struct shadow_record r = { .origin_chunk = 5, .seq = 1, .next = 1, .flags = SHADOW_REC_USED };
	struct shadow_check_result res;

	build(&im);
	image_set_record(&im, 1, &r);	/* record 1 points back to record 0 */
	image_seal(&im);
	res = run(&im, &f);
	EXPECT(res, f, "record 0 is reachable twice");
}
END_TEST

START_TEST(test_not_used)
{
	struct image im;
	struct found f;
	struct shadow_record r = { .origin_chunk = 5, .seq = 1, .next = 0, .flags = 0 };
	struct shadow_check_result res;

	build(&im);
	image_set_record(&im, 1, &r);
	image_seal(&im);
	res = run(&im, &f);
	EXPECT(res, f, "is not marked USED");
}
END_TEST

START_TEST(test_wrong_origin_chunk)
{
	struct image im;
	struct found f;
	struct shadow_record r = { .origin_chunk = 6, .seq = 1, .next = 0, .flags = SHADOW_REC_USED };
	struct shadow_check_result res;

	build(&im);
	image_set_record(&im, 1, &r);
	image_seal(&im);
	res = run(&im, &f);
	EXPECT(res, f, "says origin chunk 6");
}
END_TEST

START_TEST(test_private_orphan)
{
	struct image im;
	struct found f;
	struct shadow_snapshot s = { .state = SHADOW_SNAP_FREE };
	struct shadow_check_result res;

	build(&im);
	image_set_snap(&im, 15, &s);	/* owner of private record 2 gone */
	image_seal(&im);
	res = run(&im, &f);
	EXPECT(res, f, "private record 2");
}
END_TEST

START_TEST(test_beyond_high_water)
{
	struct image im;
	struct found f;
	struct shadow_record r = { .origin_chunk = 63, .seq = 2, .next = 11, .flags = SHADOW_REC_USED };
	struct shadow_check_result res;

	build(&im);
	image_set_record(&im, 3, &r);
	image_seal(&im);
	res = run(&im, &f);
	EXPECT(res, f, "points to record 10 at or beyond high_water 6");
}
END_TEST

START_TEST(test_free_count)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	im.sb.free_count = 3;
	image_seal(&im);
	res = run(&im, &f);
	EXPECT(res, f, "free list holds 2 records, superblock free_count says 3");
}
END_TEST

START_TEST(test_free_marked_used)
{
	struct image im;
	struct found f;
	struct shadow_record r = { .next = 0, .flags = SHADOW_REC_USED };
	struct shadow_check_result res;

	build(&im);
	image_set_record(&im, 4, &r);
	image_seal(&im);
	res = run(&im, &f);
	EXPECT(res, f, "free record 4 is marked USED");
}
END_TEST

START_TEST(test_used_and_free)
{
	struct image im;
	struct found f;
	struct shadow_record r = { .next = 4 };	/* free list: 5 -> 3 */
	struct shadow_check_result res;

	build(&im);
	image_set_record(&im, 5, &r);
	image_seal(&im);
	res = run(&im, &f);
	EXPECT(res, f, "record 3 is both reachable from the index and on the free list");
}
END_TEST

START_TEST(test_leaked)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	im.sb.high_water = 8;
	image_seal(&im);
	res = run(&im, &f);
	ck_assert_uint_eq(res.leaked, 2);
	EXPECT(res, f, "2 records below high_water are neither reachable nor free (leaked), the first is record 6");
}
END_TEST

START_TEST(test_bad_index_block)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	image_block(&im, im.sb.index_start)[300] ^= 0x10;	/* after sealing */
	res = run(&im, &f);
	ck_assert_uint_eq(res.bad_blocks, 1);
	EXPECT(res, f, "index block 3 has a bad checksum");
	/* Chunk 5's chain is lost with the block: its records leak. */
	ck_assert_uint_eq(res.leaked, 2);
}
END_TEST

START_TEST(test_bad_snap_block)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	shadow_block_seal(image_block(&im, 2), SHADOW_BLOCK_SNAP, 1);	/* misplaced */
	res = run(&im, &f);
	ck_assert_uint_eq(res.bad_blocks, 1);
	EXPECT(res, f, "says it is block 1");
}
END_TEST

START_TEST(test_unwritten_block)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	memset(image_block(&im, im.sb.index_start + 1), 0, SHADOW_BLOCK_SIZE);
	res = run(&im, &f);
	ck_assert_uint_eq(res.unwritten_blocks, 1);
	ck_assert_uint_eq(res.bad_blocks, 0);
	ck_assert_uint_eq(res.leaked, 2);	/* chunk 63's chain */
}
END_TEST

START_TEST(test_duplicate_seq)
{
	struct image im;
	struct found f;
	struct shadow_snapshot s = { .id = 200, .seq = 2, .state = SHADOW_SNAP_INVALID };
	struct shadow_check_result res;

	build(&im);
	image_set_snap(&im, 7, &s);
	image_seal(&im);
	res = run(&im, &f);
	EXPECT(res, f, "two snapshots share seq 2");
}
END_TEST

Suite *suite_check(void)
{
	Suite *s = suite_create("check");
	TCase *tc = tcase_create("check");

	tcase_add_test(tc, test_consistent);
	tcase_add_test(tc, test_empty_store);
	tcase_add_test(tc, test_chain_order);
	tcase_add_test(tc, test_reachable_twice);
	tcase_add_test(tc, test_chain_loop);
	tcase_add_test(tc, test_not_used);
	tcase_add_test(tc, test_wrong_origin_chunk);
	tcase_add_test(tc, test_private_orphan);
	tcase_add_test(tc, test_beyond_high_water);
	tcase_add_test(tc, test_free_count);
	tcase_add_test(tc, test_free_marked_used);
	tcase_add_test(tc, test_used_and_free);
	tcase_add_test(tc, test_leaked);
	tcase_add_test(tc, test_bad_index_block);
	tcase_add_test(tc, test_bad_snap_block);
	tcase_add_test(tc, test_unwritten_block);
	tcase_add_test(tc, test_duplicate_seq);
	suite_add_tcase(s, tc);
	return s;
}
