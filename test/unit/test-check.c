/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "shadow-check.h"
#include "shadow-diff.h"
#include "unit.h"

/*
 * A small consistent store: 64 origin chunks of 4 KiB, 3 snapshots
 * (seq 1, 2, 3; the third written), exceptions of chunk 5 (tags 3 and 1)
 * and 63 (tag 2), one private chunk of chunk 63 owned by seq 3.  These
 * are its entries; build() formats it as the kernel does now (with the
 * exception journal, nothing pending), build_old() as before the journal.
 */
static void add_sample(struct image *im)
{
	im->sb.last_seq = 3;
	im->sb.trans_id = 9;
	image_add_snap(im, 100, 1, SHADOW_SNAP_VALID, 0);
	image_add_snap(im, 101, 2, SHADOW_SNAP_VALID, SHADOW_SNAPF_SEALED);
	image_add_snap(im, 102, 3, SHADOW_SNAP_VALID, SHADOW_SNAPF_WRITTEN);
	image_add_exception(im, 5, 3, 0);
	image_add_exception(im, 5, 1, 1);
	image_add_exception(im, 63, 2, 3);
	image_add_private(im, 63, 3, 2);
}

static void build(struct image *im)
{
	image_init(im, 64 * 8, 16384, 8);
	add_sample(im);
}

/*
 * The sample store held by a metadata snapshot, then changed as the
 * kernel would change it: snapshot 101 (seq 2) deleted with its exception
 * of chunk 63 (whose data chunk 3 only the held trees still reach),
 * snapshot 103 (seq 4) created and chunk 7 copied for it.  The live
 * exception and snapshot trees are new leaves that map data chunks 0 and
 * 1 like the held ones (counted twice); the private tree is unchanged and
 * shared (its leaf counted twice).
 */
static void build_held(struct image *im)
{
	build(im);
	image_hold(im);
	image_del_snap(im, 101);
	image_del_exception(im, 63, 2);
	im->sb.last_seq = 4;
	im->sb.trans_id = 12;
	image_add_snap(im, 103, 4, SHADOW_SNAP_VALID, 0);
	image_add_exception(im, 7, 4, 5);
}

/*
 * The sample store after a crash that left three copies in the journal,
 * not yet committed: chunks 9 and 10 copied for seq 3 into data chunks
 * 40 and 42 (ring blocks 0 and 1), and snapshot 102 (seq 3) writing its
 * own chunk 20 into data chunk 41 (block 0).
 */
static void build_pending(struct image *im)
{
	build(im);
	image_add_pending(im, 0, 9, 3, 40, SHADOW_JOURNAL_SHARED);
	image_add_pending(im, 0, 20, 3, 41, SHADOW_JOURNAL_PRIVATE);
	image_add_pending(im, 1, 10, 3, 42, SHADOW_JOURNAL_SHARED);
}

/* The sample store as formatted before the journal: no ring. */
static void build_old(struct image *im)
{
	image_init_old(im, 64 * 8, 16384, 8);
	add_sample(im);
}

/*
 * A small consistent row store: 64 origin chunks of 4 KiB, 5 snapshots
 * (ids 100 to 104, seq 1 to 5; seq 4 written), versions of chunk 5
 * tagged 1, 3 and 5 in data chunks 0, 1 and 2 (read by snapshots 2 and 3,
 * by 4 and 5, and by the live volume), of chunk 63 tagged 2 in data
 * chunk 3, and a private chunk of chunk 63 owned by seq 4 in data chunk 4.
 * Every version's key holds its tag inverted.
 */
static void build_row(struct image *im)
{
	image_init(im, 64 * 8, 16384, 8);
	im->sb.store_type = SHADOW_STORE_ROW;
	im->sb.last_seq = 5;
	im->sb.trans_id = 9;
	for (uint64_t i = 0; i < 5; i++)
		image_add_snap(im, 100 + i, 1 + i, SHADOW_SNAP_VALID,
			       i == 3 ? SHADOW_SNAPF_WRITTEN : 0);
	image_add_version(im, 5, 1, 0);
	image_add_version(im, 5, 3, 1);
	image_add_version(im, 5, 5, 2);
	image_add_version(im, 63, 2, 3);
	image_add_private(im, 63, 4, 4);
}

/*
 * The row store after a crash that left three writes in the journal:
 * versions of chunks 9 (tag 5) and 10 (tag 3) in data chunks 40 and 42
 * (ring blocks 0 and 1), their seq inverted as in the keys, and snapshot
 * 103 (seq 4) writing its own chunk 20 into data chunk 41 (block 0),
 * whose seq is the owner's as in every store.
 */
static void build_row_pending(struct image *im)
{
	build_row(im);
	image_add_pending(im, 0, 9, shadow_row_seq(5), 40, SHADOW_JOURNAL_SHARED);
	image_add_pending(im, 0, 20, 4, 41, SHADOW_JOURNAL_PRIVATE);
	image_add_pending(im, 1, 10, shadow_row_seq(3), 42, SHADOW_JOURNAL_SHARED);
}

/*
 * A row store reverted to its newest snapshot R, then written and
 * snapshotted again: snapshots 100 (seq 1) and 101 (seq 2, R) were there
 * before the revert, which dropped the versions tagged 2 (dropped_from 2,
 * dropped_below 3: the live volume's writes since are tagged 3, a
 * sequence no snapshot has); snapshot 102 (seq 4, written) came after.
 * Versions (tag: data chunk), dead ones marked *:
 *   chunk 5   1: 0, 2*: 1
 *   chunk 6   2*: 3
 *   chunk 7   2*: 4, 3: 5
 *   chunk 8   1: 6, 4: 7
 *   chunk 9   2*: 8, 4: 9
 * and snapshot 102's own chunk 12 in data chunk 10.
 */
static void build_row_dropped(struct image *im)
{
	image_init(im, 64 * 8, 16384, 8);
	im->sb.store_type = SHADOW_STORE_ROW;
	im->sb.incompat_flags |= SHADOW_FEATURE_INCOMPAT_ROW_DROPPED;
	im->sb.dropped_from = 2;
	im->sb.dropped_below = 3;
	im->sb.last_seq = 4;
	im->sb.trans_id = 11;
	image_add_snap(im, 100, 1, SHADOW_SNAP_VALID, 0);
	image_add_snap(im, 101, 2, SHADOW_SNAP_VALID, 0);
	image_add_snap(im, 102, 4, SHADOW_SNAP_VALID, SHADOW_SNAPF_WRITTEN);
	image_add_version(im, 5, 1, 0);
	image_add_version(im, 5, 2, 1);
	image_add_version(im, 6, 2, 3);
	image_add_version(im, 7, 2, 4);
	image_add_version(im, 7, 3, 5);
	image_add_version(im, 8, 1, 6);
	image_add_version(im, 8, 4, 7);
	image_add_version(im, 9, 2, 8);
	image_add_version(im, 9, 4, 9);
	image_add_private(im, 12, 4, 10);
}

/*
 * A small consistent clone store, as the kernel leaves one (the layout
 * of a real store made by the module): 4096 origin chunks of 4 KiB, a
 * 2 MiB store that is all metadata; snapshots 1 and 2 (seq 1 and 2),
 * whose clones are 1, complete, and 2, hydrating, with chunks 0 to 799
 * and 3000 to 3009 copied: one array block of 64 words in its bitset.
 */
static void build_clone(struct image *im)
{
	image_init_clone(im, 4096 * 8, 4096, 8);
	im->sb.last_seq = 2;
	im->sb.trans_id = 109;
	image_add_snap(im, 1, 1, SHADOW_SNAP_VALID, 0);
	image_add_snap(im, 2, 2, SHADOW_SNAP_VALID, 0);
	image_add_clone(im, 1, SHADOW_CLONE_COMPLETE)->rec.nr_copied = 4096;
	image_add_clone(im, 2, SHADOW_CLONE_HYDRATING);
	image_clone_copy(im, 2, 0, 800);
	image_clone_copy(im, 2, 3000, 10);
}

/* Check's asserts work only inside a test, so write the image from one. */
static const char *make_image_path;
static const char *make_image_variant;

START_TEST(test_make_image)
{
	struct image im;
	const char *v = make_image_variant;

	if (v && !strcmp(v, "held"))
		build_held(&im);
	else if (v && !strcmp(v, "journal"))
		build_pending(&im);
	else if (v && !strcmp(v, "old"))
		build_old(&im);
	else if (v && !strcmp(v, "row"))
		build_row_pending(&im);
	else if (v && !strcmp(v, "row-dropped"))
		build_row_dropped(&im);
	else if (v && !strcmp(v, "clone"))
		build_clone(&im);
	else
		build(&im);
	if (v && !strcmp(v, "leak"))
		im.data_count[50] = 1;
	image_build(&im);
	ck_assert_int_eq(rename(image_write(&im), make_image_path), 0);
	im.path[0] = '\0';
	image_done(&im);
}
END_TEST

int check_make_image(const char *path, const char *variant)
{
	Suite *s = suite_create("make-image");
	TCase *tc = tcase_create("make-image");
	SRunner *sr;
	int failed;

	make_image_path = path;
	make_image_variant = variant;
	tcase_add_test(tc, test_make_image);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? -EIO : 0;
}

struct found {
	char damage[8192];
	char leaks[4096];
};

static void collect(void *userdata, enum shadow_finding kind, const char *msg)
{
	struct found *f = userdata;
	char *t = kind == SHADOW_FINDING_LEAK ? f->leaks : f->damage;
	size_t len = kind == SHADOW_FINDING_LEAK ? sizeof(f->leaks) : sizeof(f->damage);

	strncat(t, msg, len - strlen(t) - 2);
	strcat(t, "\n");
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

#define assert_clean(res, f) \
	ck_assert_msg((res).problems == 0 && (res).leaked == 0, \
		      "unexpected findings:\n%s%s", (f).damage, (f).leaks)

#define assert_damage(res, f, text) \
	do { \
		ck_assert_msg((res).problems > 0, "no damage found (leaks: %s)", (f).leaks); \
		ck_assert_msg(strstr((f).damage, (text)), "'%s' not in:\n%s", (text), (f).damage); \
	} while (0)

START_TEST(test_consistent)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	uint64_t used;

	build(&im);
	image_build(&im);
	/* Superblock, 3 trees, data sm (bitmap, ref tree, index), metadata sm (ref tree, bitmap, index). */
	used = 1 + 3 + 3 + 3;
	ck_assert_uint_eq(im.next + 1, used);
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert_uint_eq(res.snapshots, 3);
	ck_assert_uint_eq(res.exceptions, 3);
	ck_assert_uint_eq(res.private_chunks, 1);
	ck_assert_uint_eq(res.data_used, 4);
	ck_assert_uint_eq(res.metadata_used, used);
	ck_assert_uint_eq(res.bad_blocks, 0);
	ck_assert(!res.needs_check);
}
END_TEST

START_TEST(test_empty_store)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	image_init(&im, 1024, 16384, 8);
	image_build(&im);
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert_uint_eq(res.snapshots, 0);
	ck_assert_uint_eq(res.data_used, 0);
}
END_TEST

/* 600 exceptions: three leaves under an internal node, two data bitmaps. */
START_TEST(test_internal_nodes)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	image_init(&im, 1000 * 8, 20000 * 8 + 16384, 8);
	ck_assert_uint_gt(im.sb.nr_data_chunks, PD_ENTRIES_PER_BITMAP);
	im.sb.last_seq = 1;
	image_add_snap(&im, 7, 1, SHADOW_SNAP_VALID, 0);
	for (uint64_t i = 0; i < 600; i++)
		image_add_exception(&im, i, 1, PD_ENTRIES_PER_BITMAP - 300 + i);
	image_build(&im);
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert_uint_eq(res.exceptions, 600);
}
END_TEST

START_TEST(test_bad_checksum)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	image_build(&im);
	image_block(&im, im.sb.exception_root)[100] ^= 1;
	res = run(&im, &f);
	assert_damage(res, f, "has a bad checksum");
	ck_assert_uint_eq(res.bad_blocks, 1);
}
END_TEST

START_TEST(test_bad_node_header)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	uint8_t *b;

	build(&im);
	image_build(&im);
	b = image_block(&im, im.sb.snapshot_root);
	b[16] = 200;	/* nr_entries above max_entries */
	pd_node_seal(b, im.sb.snapshot_root);
	res = run(&im, &f);
	assert_damage(res, f, "more than its max_entries");
}
END_TEST

/* A data chunk counted but unmapped is a leak, not damage. */
START_TEST(test_leak_data)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	im.data_count[50] = 1;
	image_build(&im);
	res = run(&im, &f);
	ck_assert_msg(res.problems == 0, "damage:\n%s", f.damage);
	ck_assert_uint_eq(res.leaked_data, 1);
	ck_assert_uint_eq(res.leaked, 1);
	ck_assert_ptr_nonnull(strstr(f.leaks, "data chunk 50 is counted 1 times but used 0 times: leaked"));
}
END_TEST

START_TEST(test_leak_metadata)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	im.md_delta[500] = 1;
	image_build(&im);
	res = run(&im, &f);
	ck_assert_msg(res.problems == 0, "damage:\n%s", f.damage);
	ck_assert_uint_eq(res.leaked_metadata, 1);
	ck_assert_ptr_nonnull(strstr(f.leaks, "metadata block 500 is counted"));
}
END_TEST

/* Counts of 3 and more live in the ref count tree. */
START_TEST(test_overflow_count)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	im.data_count[60] = 7;
	image_build(&im);
	res = run(&im, &f);
	ck_assert_msg(res.problems == 0, "damage:\n%s", f.damage);
	ck_assert_ptr_nonnull(strstr(f.leaks, "data chunk 60 is counted 7 times"));
}
END_TEST

/* A mapped chunk whose count is 0 could be handed out again: damage. */
START_TEST(test_damage_count_zero)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	im.data_count[3] = 0;
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "data chunk 3 is used 1 times but its space map count is 0");
}
END_TEST

START_TEST(test_damage_metadata_count)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	image_build(&im);
	im.md_delta[im.sb.snapshot_root] = -1;
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "is used 1 times but its space map count is 0");
}
END_TEST

START_TEST(test_nr_allocated)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	image_build(&im);
	im.sb.data_sm.nr_allocated++;
	image_seal_sb(&im);
	res = run(&im, &f);
	assert_damage(res, f, "data space map says 5 blocks are allocated, its bitmaps count 4");
}
END_TEST

START_TEST(test_duplicate_seq)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	image_add_snap(&im, 103, 2, SHADOW_SNAP_VALID, 0);
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "two snapshots share seq 2");
}
END_TEST

START_TEST(test_seq_above_last)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	image_add_snap(&im, 103, 4, SHADOW_SNAP_VALID, 0);
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "snapshot 103 has seq 4 outside 1..last_seq 3");
}
END_TEST

START_TEST(test_seq_zero)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	image_add_snap(&im, 103, 0, SHADOW_SNAP_VALID, 0);
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "snapshot 103 has seq 0 outside");
}
END_TEST

START_TEST(test_snap_state_flags)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	image_add_snap(&im, 103, 3, 9, 0x80);
	im.sb.last_seq = 4;
	image_add_snap(&im, 104, 4, SHADOW_SNAP_INVALID, 0);
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "snapshot 103 has unknown state 9");
	assert_damage(res, f, "snapshot 103 has unknown flags 0x80");
	assert_damage(res, f, "two snapshots share seq 3");
}
END_TEST

START_TEST(test_exception_ranges)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	image_add_exception(&im, 7, 4, 10);
	image_add_exception(&im, 64, 1, 11);
	image_add_exception(&im, 8, 0, 12);
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "exception of origin chunk 7 has seq 4 outside 1..last_seq 3");
	assert_damage(res, f, "exception of origin chunk 64 (seq 1) is beyond the 64 origin chunks");
	assert_damage(res, f, "exception of origin chunk 8 has seq 0");
}
END_TEST

START_TEST(test_data_chunk_beyond)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	image_add_exception(&im, 9, 1, im.sb.nr_data_chunks);
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "beyond the");
}
END_TEST

START_TEST(test_data_chunk_twice)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	image_add_exception(&im, 9, 1, 0);
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "data chunk 0 is used by the exception of origin chunk");
}
END_TEST

START_TEST(test_private_orphan)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	image_add_private(&im, 10, 2, 20);
	image_add_private(&im, 11, 5, 21);
	image_build(&im);
	res = run(&im, &f);
	ck_assert_msg(!strstr(f.damage, "origin chunk 10 belongs"), "%s", f.damage);
	assert_damage(res, f, "private chunk of origin chunk 11 belongs to seq 5, which no snapshot has");
}
END_TEST

/* An internal node pointing back at itself: found, and the walk ends. */
START_TEST(test_loop)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	uint64_t root, le;
	uint8_t *b;

	image_init(&im, 1000 * 8, 16384, 8);
	im.sb.last_seq = 1;
	for (uint64_t i = 0; i < 300; i++)
		image_add_exception(&im, i, 1, i);
	image_build(&im);
	root = im.sb.exception_root;
	b = image_block(&im, root);
	ck_assert_uint_eq(b[4], PD_INTERNAL_NODE);
	le = htole64(root);
	memcpy((uint8_t *)pd_node_value(b, 1), &le, 8);
	pd_node_seal(b, root);
	res = run(&im, &f);
	assert_damage(res, f, "is its own ancestor");
}
END_TEST

START_TEST(test_keys_out_of_range)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	uint64_t le;
	uint8_t *b;

	image_init(&im, 1000 * 8, 16384, 8);
	im.sb.last_seq = 1;
	for (uint64_t i = 0; i < 300; i++)
		image_add_exception(&im, i, 1, i);
	image_build(&im);
	/* Raise the internal node's second key above its child's first. */
	b = image_block(&im, im.sb.exception_root);
	le = htole64(shadow_exc_key(299, 1));
	memcpy(b + PD_NODE_HEADER_SIZE + 8, &le, 8);
	pd_node_seal(b, im.sb.exception_root);
	res = run(&im, &f);
	assert_damage(res, f, "is outside its parent's range");
}
END_TEST

/* Two trees sharing a node without a metadata snapshot. */
START_TEST(test_shared_without_held)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	image_build(&im);
	im.sb.private_root = im.sb.exception_root;
	image_seal_sb(&im);
	res = run(&im, &f);
	ck_assert_uint_gt(res.problems, 0);
	ck_assert_msg(strstr(f.damage, "reached twice") || strstr(f.damage, "count is"),
		      "%s", f.damage);
}
END_TEST

START_TEST(test_needs_check)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	im.sb.flags = SHADOW_SB_NEEDS_CHECK;
	image_build(&im);
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert(res.needs_check);
}
END_TEST

START_TEST(test_unknown_sb_flags)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	im.sb.flags = 0x10;
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "superblock has unknown flags 0x10");
}
END_TEST

START_TEST(test_bad_bitmap)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	uint8_t *b;

	build(&im);
	image_build(&im);
	/* The metadata index's first bitmap, corrupted. */
	b = image_block(&im, im.sb.metadata_sm.bitmap_root);
	b = image_block(&im, le64toh(*(const uint64_t *)pd_metadata_index_entry(b, 0)));
	b[1000] ^= 0x40;
	res = run(&im, &f);
	assert_damage(res, f, "space map bitmap block");
	ck_assert_uint_eq(res.bad_blocks, 1);
}
END_TEST

START_TEST(test_nr_free)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	struct pd_index_entry ie;
	uint8_t *b;

	build(&im);
	image_build(&im);
	b = image_block(&im, im.sb.metadata_sm.bitmap_root);
	pd_index_entry_decode(pd_metadata_index_entry(b, 0), &ie);
	ie.nr_free--;
	ie.none_free_before = 1000;
	pd_index_entry_encode((uint8_t *)pd_metadata_index_entry(b, 0), &ie);
	pd_index_seal(b, im.sb.metadata_sm.bitmap_root);
	res = run(&im, &f);
	assert_damage(res, f, "free entries, its index entry says");
	assert_damage(res, f, "says none is free before entry 1000");
}
END_TEST

/* A metadata snapshot taken just now: every tree root shared, counted twice. */
START_TEST(test_held_unchanged)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	uint64_t root;

	build(&im);
	image_hold(&im);
	image_build(&im);
	root = im.sb.exception_root;
	ck_assert_uint_eq(im.md_count[root], 2);
	ck_assert_uint_eq(im.md_count[im.held_block], 1);
	/* 3 held trees, the held superblock, no new tree: one more block than without. */
	ck_assert_uint_eq(im.next + 1, 1 + 3 + 1 + 3 + 3);
	res = run(&im, &f);
	assert_clean(res, f);
	/* The totals are the live trees'. */
	ck_assert_uint_eq(res.snapshots, 3);
	ck_assert_uint_eq(res.exceptions, 3);
	ck_assert_uint_eq(res.private_chunks, 1);
	ck_assert_uint_eq(res.data_used, 4);
	ck_assert_uint_eq(res.metadata_used, 11);
}
END_TEST

/* Changed since the hold: shared and unshared blocks, chunks only held. */
START_TEST(test_held_changed)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build_held(&im);
	image_build(&im);
	ck_assert_uint_eq(im.md_count[im.sb.private_root], 2);
	ck_assert_uint_ne(im.sb.exception_root, 2);
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert_uint_eq(res.snapshots, 3);
	ck_assert_uint_eq(res.exceptions, 3);
	ck_assert_uint_eq(res.private_chunks, 1);
	/* Chunks 0, 1, 2, 5 live and 3 held only. */
	ck_assert_uint_eq(res.data_used, 5);
}
END_TEST

/*
 * A held exception tree of several leaves, the live one changed in its
 * last leaf only: the other leaves shared under two internal roots.
 */
START_TEST(test_held_shared_leaves)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	uint32_t max = pd_btree_max_entries(8);
	uint64_t shared = 0;

	image_init(&im, 1000 * 8, 16384, 8);
	im.sb.last_seq = 1;
	image_add_snap(&im, 1, 1, SHADOW_SNAP_VALID, 0);
	for (uint64_t i = 0; i < 2 * max + 10; i++)
		image_add_exception(&im, i, 1, i);
	image_hold(&im);
	image_add_exception(&im, 900, 1, 900);
	image_build(&im);
	for (uint64_t b = 1; b < im.nblocks; b++)
		shared += im.md_count[b] == 2;
	/* The snapshot and private roots and the first two exception leaves. */
	ck_assert_uint_eq(shared, 4);
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert_uint_eq(res.exceptions, 2 * max + 11);
	ck_assert_uint_eq(res.data_used, 2 * max + 11);
}
END_TEST

/* A shared block, or the held superblock, counted once too few or too many. */
START_TEST(test_held_counts)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	char want[128];
	uint64_t b;

	build_held(&im);
	image_build(&im);
	b = im.sb.private_root;
	im.md_delta[b] = -1;
	image_build(&im);
	res = run(&im, &f);
	snprintf(want, sizeof(want), "metadata block %llu is used 2 times but its space map count is 1",
		 (unsigned long long)b);
	assert_damage(res, f, want);

	build_held(&im);
	image_build(&im);
	b = im.held_block;
	im.md_delta[b] = -1;
	image_build(&im);
	res = run(&im, &f);
	snprintf(want, sizeof(want), "metadata block %llu is used 1 times but its space map count is 0",
		 (unsigned long long)b);
	assert_damage(res, f, want);

	build_held(&im);
	image_build(&im);
	im.md_delta[im.held_block] = 1;
	image_build(&im);
	res = run(&im, &f);
	ck_assert_uint_eq(res.problems, 0);
	ck_assert_uint_eq(res.leaked_metadata, 1);
}
END_TEST

/* The held copy of the superblock fails verification. */
START_TEST(test_held_bad_block)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build_held(&im);
	image_build(&im);
	image_block(&im, im.held_block)[200] ^= 1;
	res = run(&im, &f);
	assert_damage(res, f, "metadata snapshot at block ");
	ck_assert_uint_eq(res.bad_blocks, 1);
}
END_TEST

/* Loaded through the metadata snapshot: the trees as at the hold. */
START_TEST(test_held_load)
{
	_cleanup_store_ struct shadow_store *s = NULL;
	_cleanup_free_ struct shadow_snapshot *snaps = NULL;
	_cleanup_free_ struct shadow_mapping *maps = NULL;
	const struct shadow_superblock *h;
	struct shadow_error err = {};
	struct image im;
	size_t n;

	build_held(&im);
	image_build(&im);
	ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
	ck_assert_ptr_null(shadow_store_held_sb(s));
	ck_assert_int_eq(shadow_store_load_snapshots(s, &snaps, &n, &err), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(snaps[2].id, 103);
	free(snaps);
	snaps = NULL;

	ck_assert_msg(shadow_store_use_held(s, &err) == 0, "%s", err.msg);
	h = shadow_store_held_sb(s);
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(h->last_seq, 3);
	ck_assert_uint_eq(h->trans_id, 9);
	ck_assert_uint_eq(h->held_root, 0);
	ck_assert_uint_eq(shadow_store_sb(s)->held_root, im.held_block);
	ck_assert_int_eq(shadow_store_load_snapshots(s, &snaps, &n, &err), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(snaps[0].id, 100);
	ck_assert_uint_eq(snaps[1].id, 101);
	ck_assert_uint_eq(snaps[1].seq, 2);
	ck_assert_uint_eq(snaps[2].id, 102);
	ck_assert_int_eq(shadow_store_load_mappings(s, &maps, &n, &err), 0);
	ck_assert_uint_eq(n, 4);
	/* Exceptions in key order, then the private chunk. */
	ck_assert_uint_eq(maps[0].origin_chunk, 5);
	ck_assert_uint_eq(maps[0].seq, 1);
	ck_assert_uint_eq(maps[2].origin_chunk, 63);
	ck_assert_uint_eq(maps[2].seq, 2);
	ck_assert_uint_eq(maps[2].data_chunk, 3);
	ck_assert(maps[3].private);
	image_done(&im);
}
END_TEST

/* No metadata snapshot held, or a copy that is not this store's. */
START_TEST(test_held_refused)
{
	struct shadow_error err = {};
	struct image im;

	{
		_cleanup_store_ struct shadow_store *s = NULL;

		build(&im);
		image_build(&im);
		ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
		ck_assert_int_eq(shadow_store_use_held(s, &err), -ENODATA);
		ck_assert(strstr(err.msg, "no metadata snapshot is held"));
		ck_assert_ptr_null(shadow_store_held_sb(s));
		image_done(&im);
	}
	{
		_cleanup_store_ struct shadow_store *s = NULL;
		struct shadow_superblock h;

		build_held(&im);
		image_build(&im);
		shadow_sb_decode(image_block(&im, im.held_block), &h);
		h.uuid[0] ^= 1;
		shadow_sb_encode(&h, im.held_block, image_block(&im, im.held_block));
		ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
		ck_assert_int_eq(shadow_store_use_held(s, &err), -EUCLEAN);
		ck_assert_msg(strstr(err.msg, "its uuid differs"), "%s", err.msg);
		image_done(&im);
	}
	{
		_cleanup_store_ struct shadow_store *s = NULL;
		struct shadow_superblock h;

		build_held(&im);
		image_build(&im);
		shadow_sb_decode(image_block(&im, im.held_block), &h);
		h.last_seq = 5;
		shadow_sb_encode(&h, im.held_block, image_block(&im, im.held_block));
		ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
		ck_assert_int_eq(shadow_store_use_held(s, &err), -EUCLEAN);
		ck_assert_msg(strstr(err.msg, "is newer than the superblock"), "%s", err.msg);
		image_done(&im);
	}
	{
		_cleanup_store_ struct shadow_store *s = NULL;

		build_held(&im);
		image_build(&im);
		image_block(&im, im.held_block)[300] ^= 1;
		ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
		ck_assert_int_eq(shadow_store_use_held(s, &err), -EBADMSG);
		ck_assert_msg(strstr(err.msg, "metadata snapshot at block"), "%s", err.msg);
		image_done(&im);
	}
}
END_TEST

/* Pending journal entries: counted, neither damage nor leaks. */
START_TEST(test_journal_pending)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build_pending(&im);
	image_build(&im);
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert_uint_eq(res.journal_pending, 3);
	ck_assert_uint_eq(res.journal_blocks, 2);
	/* The committed trees only: the replay has not happened. */
	ck_assert_uint_eq(res.exceptions, 3);
	ck_assert_uint_eq(res.data_used, 4);
}
END_TEST

/* Without entries, the ring is only counted in the metadata space map. */
START_TEST(test_journal_empty)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build(&im);
	image_build(&im);
	ck_assert_uint_eq(im.nblocks - im.journal_start, SHADOW_JOURNAL_BLOCKS);
	ck_assert_uint_eq(im.md_count[im.journal_start], 1);
	ck_assert_uint_eq(im.md_count[im.nblocks - 1], 1);
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert_uint_eq(res.journal_pending, 0);
	ck_assert_uint_eq(res.journal_blocks, 0);
}
END_TEST

/* A store formatted before the journal: no ring, still clean. */
START_TEST(test_journal_old_store)
{
	struct image im, with;
	struct found f;
	struct shadow_check_result res;

	build_old(&im);
	image_init(&with, 64 * 8, 16384, 8);
	ck_assert_uint_eq(im.sb.incompat_flags, 0);
	ck_assert_uint_eq(im.journal_start, im.nblocks);
	ck_assert_uint_eq(im.nblocks + SHADOW_JOURNAL_BLOCKS, with.nblocks);
	image_done(&with);
	image_build(&im);
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert_uint_eq(res.exceptions, 3);
	ck_assert_uint_eq(res.data_used, 4);
	ck_assert_uint_eq(res.journal_pending, 0);

	/* Its whole metadata area is the trees'. */
	build_old(&im);
	image_build(&im);
	im.md_delta[im.nblocks - 1] = 1;
	image_build(&im);
	res = run(&im, &f);
	ck_assert_uint_eq(res.problems, 0);
	ck_assert_uint_eq(res.leaked_metadata, 1);
}
END_TEST

/* A pending data chunk that a tree maps already: the replay would share it. */
START_TEST(test_journal_chunk_in_use)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build_pending(&im);
	image_add_pending(&im, 1, 11, 2, 3, SHADOW_JOURNAL_SHARED);
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "exception journal block 1 entry 1 (exception of origin chunk 11 seq 2): data chunk 3 is already used by the exception of origin chunk 63 seq 2");
	ck_assert_uint_eq(res.journal_pending, 4);
}
END_TEST

/* A pending data chunk the committed space map counts: not handed out free. */
START_TEST(test_journal_chunk_counted)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build_pending(&im);
	im.data_count[42] = 1;
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "exception journal block 1 entry 0 (exception of origin chunk 10 seq 3): data chunk 42 is counted 1 times in the data space map, not free");
	/* Counted and mapped by nothing committed: a leak as well. */
	ck_assert_uint_eq(res.leaked_data, 1);
}
END_TEST

/* Entries out of every range the kernel checks, and one chunk twice. */
START_TEST(test_journal_bad_entries)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	char want[160];

	build_pending(&im);
	image_add_pending(&im, 2, 11, 3, im.sb.nr_data_chunks, SHADOW_JOURNAL_SHARED);
	image_add_pending(&im, 2, 64, 3, 50, SHADOW_JOURNAL_SHARED);
	image_add_pending(&im, 2, 12, 0, 51, SHADOW_JOURNAL_SHARED);
	image_add_pending(&im, 2, 13, 4, 52, SHADOW_JOURNAL_PRIVATE);
	image_add_pending(&im, 2, 14, 3, 53, 2);
	image_add_pending(&im, 3, 15, 3, 40, SHADOW_JOURNAL_SHARED);
	image_build(&im);
	res = run(&im, &f);
	snprintf(want, sizeof(want), "exception journal block 2 entry 0 (exception of origin chunk 11 seq 3): data chunk %llu is beyond the store's %llu data chunks",
		 (unsigned long long)im.sb.nr_data_chunks, (unsigned long long)im.sb.nr_data_chunks);
	assert_damage(res, f, want);
	assert_damage(res, f, "exception journal block 2 entry 1 (exception of origin chunk 64 seq 3): origin chunk 64 is beyond the 64 origin chunks");
	assert_damage(res, f, "exception journal block 2 entry 2 (exception of origin chunk 12 seq 0): seq 0 is outside 1..last_seq 3");
	assert_damage(res, f, "exception journal block 2 entry 3 (private chunk of origin chunk 13 seq 4): seq 4 is outside 1..last_seq 3");
	assert_damage(res, f, "exception journal block 2 entry 4 (exception of origin chunk 14 seq 3) names tree 2, neither 0 (exceptions) nor 1 (private chunks)");
	assert_damage(res, f, "exception journal block 3 entry 0 (exception of origin chunk 15 seq 3): data chunk 40 is also the value of exception journal block 0 entry 0");
	ck_assert_uint_eq(res.problems, 6);
	ck_assert_uint_eq(res.journal_pending, 9);
	ck_assert_uint_eq(res.journal_blocks, 4);
}
END_TEST

/* Past the pending prefix, entries are stale: never replayed, never checked. */
START_TEST(test_journal_stale_unchecked)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	struct shadow_journal_header h;
	struct shadow_journal_entry e = { .chunk = 99, .seq = 9, .store_chunk = 0, .tree = 7 };

	build_pending(&im);
	image_build(&im);
	h = image_journal_header(&im, 1);
	h.trans_id--;
	h.nr_entries = 1;
	shadow_journal_encode(&h, &e, image_journal_block(&im, 1));
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert_uint_eq(res.journal_pending, 2);
	ck_assert_uint_eq(res.journal_blocks, 1);
}
END_TEST

/* A tree that reaches into the ring. */
START_TEST(test_journal_ring_in_tree)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	uint64_t ring, le;
	uint8_t *b;
	char want[160];

	image_init(&im, 1000 * 8, 16384, 8);
	im.sb.last_seq = 1;
	for (uint64_t i = 0; i < 300; i++)
		image_add_exception(&im, i, 1, i);
	image_build(&im);
	b = image_block(&im, im.sb.exception_root);
	ck_assert_uint_eq(b[4], PD_INTERNAL_NODE);
	ring = im.journal_start + 3;
	le = htole64(ring);
	memcpy((uint8_t *)pd_node_value(b, 1), &le, 8);
	pd_node_seal(b, im.sb.exception_root);
	res = run(&im, &f);
	snprintf(want, sizeof(want), "points to block %llu for an exception tree node, which is exception journal block 3: the ring is never part of a tree",
		 (unsigned long long)ring);
	assert_damage(res, f, want);
}
END_TEST

/* A ring block counted other than once in the metadata space map. */
START_TEST(test_journal_ring_count)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	char want[200];
	uint64_t b;

	build(&im);
	b = im.journal_start + 5;
	im.md_delta[b] = -1;
	image_build(&im);
	res = run(&im, &f);
	snprintf(want, sizeof(want), "metadata block %llu (exception journal block 5) has a space map count of 0, not 1",
		 (unsigned long long)b);
	assert_damage(res, f, want);
	ck_assert_uint_eq(res.problems, 1);

	build(&im);
	b = im.nblocks - 1;
	im.md_delta[b] = 1;
	image_build(&im);
	res = run(&im, &f);
	snprintf(want, sizeof(want), "metadata block %llu (exception journal block 63) has a space map count of 2, not 1",
		 (unsigned long long)b);
	assert_damage(res, f, want);
	ck_assert_uint_eq(res.leaked, 0);
}
END_TEST

/*
 * The pending prefix as loaded: blocks 0, 1, 2, ... while they are of
 * this commit; the first that is not (torn, of another store, stale,
 * misplaced) ends it, whatever follows.
 */
START_TEST(test_journal_load)
{
	static const char *const cases[] = { "valid", "csum", "uuid", "stale", "index" };

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		_cleanup_store_ struct shadow_store *s = NULL;
		_cleanup_free_ struct shadow_pending *p = NULL;
		struct shadow_journal_entry e = { .chunk = 1, .seq = 1, .store_chunk = 30 };
		struct shadow_journal_header h;
		struct shadow_error err = {};
		struct image im;
		uint32_t blocks;
		size_t n;

		build(&im);
		for (uint32_t i = 0; i < 5; i++) {
			image_add_pending(&im, i, 10 + i, 3, 40 + 2 * i, SHADOW_JOURNAL_SHARED);
			image_add_pending(&im, i, 20 + i, 3, 41 + 2 * i, SHADOW_JOURNAL_PRIVATE);
		}
		image_build(&im);
		h = image_journal_header(&im, 2);
		h.nr_entries = 1;
		if (!strcmp(cases[c], "csum"))
			image_journal_block(&im, 2)[200] ^= 1;
		else if (!strcmp(cases[c], "uuid"))
			h.uuid[0] ^= 1;
		else if (!strcmp(cases[c], "stale"))
			h.trans_id--;
		else if (!strcmp(cases[c], "index"))
			h.index = 3;
		if (strcmp(cases[c], "valid") && strcmp(cases[c], "csum"))
			shadow_journal_encode(&h, &e, image_journal_block(&im, 2));
		ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
		ck_assert_int_eq(shadow_store_load_journal(s, &p, &n, &blocks, &err), 0);
		if (!strcmp(cases[c], "valid")) {
			ck_assert_uint_eq(blocks, 5);
			ck_assert_uint_eq(n, 10);
		} else {
			ck_assert_msg(blocks == 2, "%s: %u blocks", cases[c], blocks);
			ck_assert_uint_eq(n, 4);
		}
		/* In ring order, each with its place. */
		ck_assert_uint_eq(p[3].index, 1);
		ck_assert_uint_eq(p[3].slot, 1);
		ck_assert_uint_eq(p[3].entry.chunk, 21);
		ck_assert_uint_eq(p[3].entry.seq, 3);
		ck_assert_uint_eq(p[3].entry.store_chunk, 43);
		ck_assert_uint_eq(p[3].entry.tree, SHADOW_JOURNAL_PRIVATE);
		image_done(&im);
	}
}
END_TEST

/* No ring, or nothing written to it: nothing pending. */
START_TEST(test_journal_load_none)
{
	struct shadow_error err = {};
	struct image im;
	uint32_t blocks = 9;
	size_t n = 9;

	{
		_cleanup_store_ struct shadow_store *s = NULL;
		_cleanup_free_ struct shadow_pending *p = NULL;

		build_old(&im);
		image_build(&im);
		ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
		ck_assert_int_eq(shadow_store_load_journal(s, &p, &n, &blocks, &err), 0);
		ck_assert_uint_eq(n, 0);
		ck_assert_uint_eq(blocks, 0);
		image_done(&im);
	}
	{
		_cleanup_store_ struct shadow_store *s = NULL;
		_cleanup_free_ struct shadow_pending *p = NULL;

		build(&im);
		image_build(&im);
		ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
		blocks = 9;
		ck_assert_int_eq(shadow_store_load_journal(s, &p, &n, &blocks, &err), 0);
		ck_assert_uint_eq(n, 0);
		ck_assert_uint_eq(blocks, 0);
		image_done(&im);
	}
}
END_TEST

/* A row store's versions are loaded with their tags, in key order: newest first. */
START_TEST(test_row_load)
{
	_cleanup_store_ struct shadow_store *s = NULL;
	_cleanup_free_ struct shadow_mapping *maps = NULL;
	static const struct {
		uint64_t chunk, seq, data;
		bool private;
	} want[] = {
		{ 5, 5, 2, false }, { 5, 3, 1, false }, { 5, 1, 0, false },
		{ 63, 2, 3, false }, { 63, 4, 4, true },
	};
	struct shadow_error err = {};
	struct image im;
	size_t n;

	build_row(&im);
	image_build(&im);
	ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
	ck_assert_uint_eq(shadow_store_sb(s)->store_type, SHADOW_STORE_ROW);
	ck_assert_int_eq(shadow_store_load_mappings(s, &maps, &n, &err), 0);
	ck_assert_uint_eq(n, 5);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(maps[i].origin_chunk, want[i].chunk);
		ck_assert_msg(maps[i].seq == want[i].seq, "mapping %zu: seq %llu, want %llu",
			      i, (unsigned long long)maps[i].seq,
			      (unsigned long long)want[i].seq);
		ck_assert_uint_eq(maps[i].data_chunk, want[i].data);
		ck_assert(maps[i].private == want[i].private);
	}
	image_done(&im);
}
END_TEST

START_TEST(test_row_consistent)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build_row(&im);
	image_build(&im);
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert_uint_eq(res.snapshots, 5);
	ck_assert_uint_eq(res.exceptions, 4);
	ck_assert_uint_eq(res.private_chunks, 1);
	ck_assert_uint_eq(res.data_used, 5);
}
END_TEST

/* The same trees under a cow superblock: inverted keys are tags far past last_seq. */
START_TEST(test_row_keys_as_cow)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	char want[128];

	build_row(&im);
	im.sb.store_type = SHADOW_STORE_COW;
	image_build(&im);
	res = run(&im, &f);
	snprintf(want, sizeof(want), "exception of origin chunk 5 has seq %llu outside 1..last_seq 5",
		 (unsigned long long)SHADOW_MAX_SEQ - 1);
	assert_damage(res, f, want);
	snprintf(want, sizeof(want), "exception of origin chunk 63 has seq %llu outside 1..last_seq 5",
		 (unsigned long long)SHADOW_MAX_SEQ - 2);
	assert_damage(res, f, want);
	ck_assert_msg(!strstr(f.damage, "stored inverted"), "%s", f.damage);
	ck_assert_uint_eq(res.problems, 4);
}
END_TEST

/*
 * Row versions whose tags are out of range: a key written uninverted
 * (tag 2 stored as 2), the inverted 0, a tag past last_seq.
 */
START_TEST(test_row_exception_ranges)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	char want[160];

	build_row(&im);
	image_add_exception(&im, 7, 2, 10);
	image_add_version(&im, 8, 0, 11);
	image_add_version(&im, 9, 6, 12);
	image_build(&im);
	res = run(&im, &f);
	snprintf(want, sizeof(want), "exception of origin chunk 7 has seq %llu (stored inverted as 2) outside 1..last_seq 5",
		 (unsigned long long)SHADOW_MAX_SEQ - 2);
	assert_damage(res, f, want);
	snprintf(want, sizeof(want), "exception of origin chunk 8 has seq 0 (stored inverted as %llu) outside 1..last_seq 5",
		 (unsigned long long)SHADOW_MAX_SEQ);
	assert_damage(res, f, want);
	snprintf(want, sizeof(want), "exception of origin chunk 9 has seq 6 (stored inverted as %llu) outside 1..last_seq 5",
		 (unsigned long long)SHADOW_MAX_SEQ - 6);
	assert_damage(res, f, want);
	ck_assert_uint_eq(res.problems, 3);
}
END_TEST

/* Findings name a row version by its tag. */
START_TEST(test_row_data_chunk_twice)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build_row(&im);
	image_add_version(&im, 9, 4, 0);
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "data chunk 0 is used by the exception of origin chunk");
	assert_damage(res, f, "exception of origin chunk 5 seq 1");
	assert_damage(res, f, "exception of origin chunk 9 seq 4");
}
END_TEST

/*
 * Pending row versions hold their seq inverted, as the keys do: loaded
 * with their tags and accepted; private entries are not inverted.
 */
START_TEST(test_row_journal_pending)
{
	_cleanup_store_ struct shadow_store *s = NULL;
	_cleanup_free_ struct shadow_pending *p = NULL;
	struct shadow_error err = {};
	struct shadow_check_result res;
	struct found f;
	struct image im;
	uint32_t blocks;
	size_t n;

	build_row_pending(&im);
	image_build(&im);
	ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
	ck_assert_int_eq(shadow_store_load_journal(s, &p, &n, &blocks, &err), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(blocks, 2);
	ck_assert_uint_eq(p[0].entry.chunk, 9);
	ck_assert_uint_eq(p[0].entry.seq, SHADOW_MAX_SEQ - 5);
	ck_assert_uint_eq(p[0].tag, 5);
	ck_assert_uint_eq(p[1].entry.tree, SHADOW_JOURNAL_PRIVATE);
	ck_assert_uint_eq(p[1].entry.seq, 4);
	ck_assert_uint_eq(p[1].tag, 4);
	ck_assert_uint_eq(p[2].entry.chunk, 10);
	ck_assert_uint_eq(p[2].tag, 3);
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert_uint_eq(res.journal_pending, 3);
	ck_assert_uint_eq(res.journal_blocks, 2);
}
END_TEST

/*
 * Pending entries whose tags are out of range in a row store (an
 * exception's seq uninverted or wider than a key's, a private one
 * inverted), and the row store's valid entries under a cow superblock.
 */
START_TEST(test_row_journal_bad_entries)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	char want[200];

	build_row_pending(&im);
	image_add_pending(&im, 2, 11, 3, 50, SHADOW_JOURNAL_SHARED);
	image_add_pending(&im, 2, 12, SHADOW_MAX_SEQ + 3, 51, SHADOW_JOURNAL_SHARED);
	image_add_pending(&im, 2, 13, shadow_row_seq(4), 52, SHADOW_JOURNAL_PRIVATE);
	image_build(&im);
	res = run(&im, &f);
	snprintf(want, sizeof(want), "exception journal block 2 entry 0 (exception of origin chunk 11 seq %llu): seq %llu (stored inverted as 3) is outside 1..last_seq 5",
		 (unsigned long long)SHADOW_MAX_SEQ - 3, (unsigned long long)SHADOW_MAX_SEQ - 3);
	assert_damage(res, f, want);
	snprintf(want, sizeof(want), "exception journal block 2 entry 1 (exception of origin chunk 12 seq %llu): seq %llu (stored inverted as %llu) is outside 1..last_seq 5",
		 (unsigned long long)-3, (unsigned long long)-3,
		 (unsigned long long)SHADOW_MAX_SEQ + 3);
	assert_damage(res, f, want);
	snprintf(want, sizeof(want), "exception journal block 2 entry 2 (private chunk of origin chunk 13 seq %llu): seq %llu is outside 1..last_seq 5",
		 (unsigned long long)SHADOW_MAX_SEQ - 4, (unsigned long long)SHADOW_MAX_SEQ - 4);
	assert_damage(res, f, want);
	ck_assert_uint_eq(res.problems, 3);
	ck_assert_uint_eq(res.journal_pending, 6);

	build_row_pending(&im);
	im.sb.store_type = SHADOW_STORE_COW;
	image_build(&im);
	res = run(&im, &f);
	snprintf(want, sizeof(want), "exception journal block 0 entry 0 (exception of origin chunk 9 seq %llu): seq %llu is outside 1..last_seq 5",
		 (unsigned long long)SHADOW_MAX_SEQ - 5, (unsigned long long)SHADOW_MAX_SEQ - 5);
	assert_damage(res, f, want);
	ck_assert_msg(!strstr(f.damage, "private chunk of origin chunk 20"), "%s", f.damage);
	/* The 4 versions in the trees and the 2 pending. */
	ck_assert_uint_eq(res.problems, 6);
}
END_TEST

struct chunk_runs {
	char text[256];
};

static int add_run(void *userdata, uint64_t first, uint64_t n)
{
	struct chunk_runs *r = userdata;
	size_t len = strlen(r->text);

	snprintf(r->text + len, sizeof(r->text) - len, "%llu+%llu;",
		 (unsigned long long)first, (unsigned long long)n);
	return 0;
}

/*
 * Changed chunks between two snapshots of a row store, or one and the
 * live volume: those with a version tagged from the older's sequence to
 * before the newer's, and the writable snapshots' own.  Snapshot 100+i
 * has sequence 1+i.
 */
START_TEST(test_row_diff)
{
	static const struct {
		uint64_t a, b;
		bool live;
		const char *want;
	} cases[] = {
		{ 100, 101, false, "5+1;" },	/* tag 1 */
		{ 101, 102, false, "63+1;" },	/* tag 2 */
		{ 102, 104, false, "5+1;" },	/* tag 3 */
		{ 104, 102, false, "5+1;" },
		{ 103, 104, false, "63+1;" },	/* 103 owns chunk 63 */
		{ 101, 101, false, "" },
		{ 104, 0, true, "5+1;" },	/* tag 5 */
		{ 100, 0, true, "5+1;63+1;" },
	};
	_cleanup_store_ struct shadow_store *s = NULL;
	struct shadow_error err = {};
	struct image im;

	build_row(&im);
	image_build(&im);
	ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct chunk_runs r = {};

		ck_assert_int_eq(shadow_store_diff(s, cases[i].a, cases[i].b, cases[i].live,
						   add_run, &r, NULL, &err), 0);
		ck_assert_msg(!strcmp(r.text, cases[i].want), "diff %llu:%llu%s: '%s', want '%s'",
			      (unsigned long long)cases[i].a, (unsigned long long)cases[i].b,
			      cases[i].live ? " (live)" : "", r.text, cases[i].want);
	}
	image_done(&im);
}
END_TEST

/* What a reader of @seq (SHADOW_STORE_LIVE: the live volume) reads of @chunk. */
static void assert_reads(struct shadow_store *s, uint64_t seq, uint64_t chunk,
			 bool origin, bool private, uint64_t tag, uint64_t data)
{
	struct shadow_error err = {};
	struct shadow_read rd;

	ck_assert_msg(shadow_store_resolve(s, seq, chunk, &rd, &err) == 0,
		      "resolve: %s", err.msg);
	ck_assert_msg(rd.origin == origin && rd.private == private &&
		      (origin || (rd.tag == tag && rd.data_chunk == data)),
		      "seq %llu chunk %llu reads %s%s tag %llu data chunk %llu, want %s%s tag %llu data chunk %llu",
		      (unsigned long long)seq, (unsigned long long)chunk,
		      rd.origin ? "origin" : "version", rd.private ? " (private)" : "",
		      (unsigned long long)rd.tag, (unsigned long long)rd.data_chunk,
		      origin ? "origin" : "version", private ? " (private)" : "",
		      (unsigned long long)tag, (unsigned long long)data);
}

#define LIVE SHADOW_STORE_LIVE
#define ORIGIN(seq, chunk) { (seq), (chunk), true, false, 0, 0 }

/*
 * The reader of a row store without a dropped range (build_row()): each
 * snapshot the newest version tagged below its sequence, its own chunks
 * first; the live volume the newest version; else the origin.
 */
START_TEST(test_row_resolve)
{
	_cleanup_store_ struct shadow_store *s = NULL;
	struct shadow_error err = {};
	struct shadow_read rd;
	struct image im;

	build_row(&im);
	image_build(&im);
	ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
	assert_reads(s, 1, 5, true, false, 0, 0);
	assert_reads(s, 2, 5, false, false, 1, 0);
	assert_reads(s, 3, 5, false, false, 1, 0);
	assert_reads(s, 4, 5, false, false, 3, 1);
	assert_reads(s, 5, 5, false, false, 3, 1);
	assert_reads(s, LIVE, 5, false, false, 5, 2);
	assert_reads(s, 2, 63, true, false, 0, 0);
	assert_reads(s, 3, 63, false, false, 2, 3);
	assert_reads(s, 4, 63, false, true, 4, 4);
	assert_reads(s, 5, 63, false, false, 2, 3);
	assert_reads(s, LIVE, 63, false, false, 2, 3);
	assert_reads(s, LIVE, 0, true, false, 0, 0);
	ck_assert_int_eq(shadow_store_resolve(s, 1, 64, &rd, &err), -EINVAL);
	ck_assert_int_eq(shadow_store_resolve(s, 0, 5, &rd, &err), -EINVAL);
	image_done(&im);
}
END_TEST

/* The cow store's reader (the sample store): the oldest exception at or above. */
START_TEST(test_cow_resolve)
{
	_cleanup_store_ struct shadow_store *s = NULL;
	struct shadow_error err = {};
	struct image im;

	build(&im);
	image_build(&im);
	ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
	assert_reads(s, 1, 5, false, false, 1, 1);
	assert_reads(s, 2, 5, false, false, 3, 0);
	assert_reads(s, 3, 5, false, false, 3, 0);
	assert_reads(s, LIVE, 5, true, false, 0, 0);
	assert_reads(s, 1, 63, false, false, 2, 3);
	assert_reads(s, 2, 63, false, false, 2, 3);
	assert_reads(s, 3, 63, false, true, 3, 2);
	assert_reads(s, 3, 6, true, false, 0, 0);
	image_done(&im);
}
END_TEST

/*
 * A reverted row store (build_row_dropped()): a reader that finds a dead
 * version reads the newest one tagged below dropped_from, else the
 * origin; snapshots at or below dropped_from never reach a dead one.
 * Without the range the same trees read the dead versions, which is what
 * this tells apart.
 */
START_TEST(test_row_dropped_resolve)
{
	static const struct {
		uint64_t seq, chunk;
		bool origin, private;
		uint64_t tag, data;
	} cases[] = {
		/* Snapshot 100 (seq 1), before everything. */
		ORIGIN(1, 5), ORIGIN(1, 6), ORIGIN(1, 7), ORIGIN(1, 8), ORIGIN(1, 9),
		/* R (seq 2): what it had, unaffected. */
		{ 2, 5, false, false, 1, 0 }, ORIGIN(2, 6), ORIGIN(2, 7),
		{ 2, 8, false, false, 1, 6 }, ORIGIN(2, 9),
		/* Snapshot 102 (seq 4): dead tag 2 stepped over. */
		{ 4, 5, false, false, 1, 0 }, ORIGIN(4, 6), { 4, 7, false, false, 3, 5 },
		{ 4, 8, false, false, 1, 6 }, ORIGIN(4, 9), { 4, 12, false, true, 4, 10 },
		/* The live volume. */
		{ LIVE, 5, false, false, 1, 0 }, ORIGIN(LIVE, 6), { LIVE, 7, false, false, 3, 5 },
		{ LIVE, 8, false, false, 4, 7 }, { LIVE, 9, false, false, 4, 9 },
		ORIGIN(LIVE, 12),
	};
	struct image im;

	{
		_cleanup_store_ struct shadow_store *s = NULL;
		struct shadow_error err = {};

		build_row_dropped(&im);
		image_build(&im);
		ck_assert_msg(shadow_store_open(image_write(&im), &s, &err) == 0,
			      "open: %s", err.msg);
		for (size_t i = 0; i < ELEMENTSOF(cases); i++)
			assert_reads(s, cases[i].seq, cases[i].chunk, cases[i].origin,
				     cases[i].private, cases[i].tag, cases[i].data);
		image_done(&im);
	}
	{
		_cleanup_store_ struct shadow_store *s = NULL;
		struct shadow_error err = {};

		/* The same trees, the range cleared: the dead versions read. */
		build_row_dropped(&im);
		im.sb.incompat_flags &= ~SHADOW_FEATURE_INCOMPAT_ROW_DROPPED;
		im.sb.dropped_from = 0;
		im.sb.dropped_below = 0;
		image_build(&im);
		ck_assert_msg(shadow_store_open(image_write(&im), &s, &err) == 0,
			      "open: %s", err.msg);
		assert_reads(s, 4, 5, false, false, 2, 1);
		assert_reads(s, 4, 6, false, false, 2, 3);
		assert_reads(s, LIVE, 5, false, false, 2, 1);
		assert_reads(s, 2, 5, false, false, 1, 0);
		image_done(&im);
	}
}
END_TEST

/*
 * Lookups that cross leaves: a reverted row store of 128 chunks with
 * versions tagged 1 to 6 (several leaves under an internal node),
 * dropped_from 2, dropped_below 4, every chunk read by every sequence
 * and the live volume as a brute-force search of the versions says.
 * Loop 0 has every tag of every chunk, so that a leaf starts with a
 * chunk's newest version (the live volume's lookup falls past the end of
 * the leaf before it); loop 1 has random ones.
 */
START_TEST(test_row_dropped_resolve_leaves)
{
	_cleanup_store_ struct shadow_store *s = NULL;
	static const uint64_t seqs[] = { 1, 2, 3, 4, 5, 6, LIVE };
	struct shadow_error err = {};
	bool has[128][7] = {};
	struct image im;

	srand(20261205);
	image_init(&im, 128 * 8, 16384, 8);
	im.sb.store_type = SHADOW_STORE_ROW;
	im.sb.incompat_flags |= SHADOW_FEATURE_INCOMPAT_ROW_DROPPED;
	im.sb.dropped_from = 2;
	im.sb.dropped_below = 4;
	im.sb.last_seq = 6;
	for (uint64_t c = 0; c < 128; c++)
		for (uint64_t t = 1; t <= 6; t++) {
			if (_i == 1 && rand() % 4 == 0)
				continue;
			has[c][t] = true;
			image_add_version(&im, c, t, c * 6 + t - 1);
		}
	/* 6 versions a chunk: leaves of max entries start with a chunk. */
	ck_assert_uint_eq(pd_btree_max_entries(8) % 6, 0);
	ck_assert_uint_gt(im.nexc, 2 * pd_btree_max_entries(8));
	image_build(&im);
	ck_assert_msg(shadow_store_open(image_write(&im), &s, &err) == 0, "open: %s", err.msg);
	for (uint64_t c = 0; c < 128; c++)
		for (size_t i = 0; i < ELEMENTSOF(seqs); i++) {
			uint64_t below = seqs[i] == LIVE ? 7 : seqs[i], t = below - 1;

			while (t > 0 && !has[c][t])
				t--;
			if (t >= 2 && t < 4)
				for (t = 1; t > 0 && !has[c][t]; t--)
					;
			assert_reads(s, seqs[i], c, t == 0, false, t, c * 6 + t - 1);
		}
	image_done(&im);
}
END_TEST

/*
 * Through a metadata snapshot taken before the range was cleared (the
 * kernel freed the dead versions since): its own copy of the range
 * applies to its trees.
 */
START_TEST(test_row_dropped_held)
{
	_cleanup_store_ struct shadow_store *s = NULL;
	struct shadow_error err = {};
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build_row_dropped(&im);
	image_hold(&im);
	for (uint64_t c = 5; c <= 9; c++)
		if (c != 8)
			image_del_exception(&im, c, shadow_row_seq(2));
	im.sb.incompat_flags &= ~SHADOW_FEATURE_INCOMPAT_ROW_DROPPED;
	im.sb.dropped_from = 0;
	im.sb.dropped_below = 0;
	im.sb.trans_id = 12;
	image_build(&im);
	ck_assert_msg(shadow_store_open(image_write(&im), &s, &err) == 0, "open: %s", err.msg);
	assert_reads(s, 4, 9, true, false, 0, 0);
	ck_assert_msg(shadow_store_use_held(s, &err) == 0, "held: %s", err.msg);
	ck_assert_uint_eq(shadow_store_tree_sb(s)->dropped_from, 2);
	assert_reads(s, 4, 5, false, false, 1, 0);
	assert_reads(s, 4, 9, true, false, 0, 0);
	assert_reads(s, LIVE, 5, false, false, 1, 0);
	assert_reads(s, LIVE, 7, false, false, 3, 5);
	shadow_store_free(TAKE_PTR(s));
	unlink(im.path);
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert_uint_eq(res.dead_versions, 0);

	/* A held copy whose range is inconsistent is refused. */
	build_row_dropped(&im);
	im.sb.dropped_below = 4;
	image_hold(&im);
	im.sb.dropped_below = 3;
	image_build(&im);
	{
		_cleanup_store_ struct shadow_store *t = NULL;
		uint8_t *held = image_block(&im, im.held_block);
		struct shadow_superblock h;

		shadow_sb_decode(held, &h);
		h.dropped_below = 5;	/* past its last_seq 4 */
		shadow_sb_encode(&h, im.held_block, held);
		ck_assert_int_eq(shadow_store_open(image_write(&im), &t, &err), 0);
		ck_assert_int_eq(shadow_store_use_held(t, &err), -EUCLEAN);
		ck_assert_msg(strstr(err.msg, "metadata snapshot at block ") &&
			      strstr(err.msg, "(dropped_below 5, expected 4)"), "%s", err.msg);
		unlink(im.path);
		res = run(&im, &f);
		assert_damage(res, f, "(dropped_below 5, expected 4)");
	}
}
END_TEST

/*
 * Changed chunks of a reverted row store: a chunk changed between A and
 * a newer B (or the live volume) when a version that is not dead is
 * tagged in [A, B).  Each case is what the readers above read.
 */
START_TEST(test_row_dropped_diff)
{
	static const struct {
		uint64_t a, b;
		bool live;
		const char *want;
	} cases[] = {
		{ 100, 101, false, "5+1;8+1;" },	/* tag 1 */
		{ 101, 102, false, "7+1;12+1;" },	/* tag 3; 102's own 12 */
		{ 102, 101, false, "7+1;12+1;" },
		{ 100, 102, false, "5+1;7+2;12+1;" },
		{ 102, 0, true, "8+2;12+1;" },		/* tag 4 */
		{ 101, 0, true, "7+3;" },		/* tags 3 and 4 */
		{ 100, 0, true, "5+1;7+3;" },
	};
	_cleanup_store_ struct shadow_store *s = NULL;
	struct shadow_error err = {};
	struct image im;

	build_row_dropped(&im);
	image_build(&im);
	ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct chunk_runs r = {};

		ck_assert_int_eq(shadow_store_diff(s, cases[i].a, cases[i].b, cases[i].live,
						   add_run, &r, NULL, &err), 0);
		ck_assert_msg(!strcmp(r.text, cases[i].want), "diff %llu:%llu%s: '%s', want '%s'",
			      (unsigned long long)cases[i].a, (unsigned long long)cases[i].b,
			      cases[i].live ? " (live)" : "", r.text, cases[i].want);
	}
	image_done(&im);
}
END_TEST

/* Dead versions are data in use, not leaks; counted apart. */
START_TEST(test_row_dropped_consistent)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build_row_dropped(&im);
	image_build(&im);
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert_uint_eq(res.snapshots, 3);
	ck_assert_uint_eq(res.exceptions, 9);
	ck_assert_uint_eq(res.dead_versions, 4);
	ck_assert_uint_eq(res.private_chunks, 1);
	ck_assert_uint_eq(res.data_used, 10);
}
END_TEST

/*
 * A snapshot in (dropped_from, dropped_below] is damage; one at
 * dropped_from (R) or above dropped_below is not.  Dead versions' tags
 * are still checked against last_seq.
 */
START_TEST(test_row_dropped_snapshot_inside)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build_row_dropped(&im);
	image_add_snap(&im, 103, 3, SHADOW_SNAP_VALID, 0);
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "snapshot 103 has seq 3 inside the dropped range (dropped_from 2, dropped_below 3]");
	ck_assert_uint_eq(res.problems, 1);
	ck_assert_uint_eq(res.leaked, 0);

	/* A wider range: seq 4 is inside too, and 103 at its end. */
	build_row_dropped(&im);
	im.sb.last_seq = 6;
	im.sb.dropped_below = 5;
	image_add_snap(&im, 103, 5, SHADOW_SNAP_VALID, 0);
	image_add_snap(&im, 104, 6, SHADOW_SNAP_VALID, 0);
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "snapshot 102 has seq 4 inside the dropped range (dropped_from 2, dropped_below 5]");
	assert_damage(res, f, "snapshot 103 has seq 5 inside the dropped range");
	ck_assert_msg(!strstr(f.damage, "snapshot 101 ") && !strstr(f.damage, "snapshot 104 "),
		      "%s", f.damage);
	ck_assert_uint_eq(res.problems, 2);

	/* Tags are still checked against last_seq. */
	build_row_dropped(&im);
	image_add_version(&im, 20, 5, 30);
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "exception of origin chunk 20 has seq 5");
	ck_assert_uint_eq(res.problems, 1);
}
END_TEST

/* Chunks of build_clone_big()'s origin: 1627 words, the last of 54 bits. */
#define BIG_CHUNKS	((3 * 509 + 100) * 64 - 10)

/*
 * A clone store whose bitsets take four array blocks: three full ones
 * of 509 words and one of 100.  Clone 5 (hydrating, snapshot seq 1)
 * copied chunks 10 to 19 (array block 0) and the last 5 (block 3), so
 * blocks 1 and 2 are all zeroes; with @share they are one block that
 * both indices name, counted twice, as dm_array may share an unwritten
 * block.
 */
static struct image_clone *build_clone_big(struct image *im, bool share)
{
	struct image_clone *c;

	image_init_clone(im, (uint64_t)BIG_CHUNKS * 8, 4096, 8);
	im->sb.last_seq = 1;
	image_add_snap(im, 5, 1, SHADOW_SNAP_VALID, 0);
	c = image_add_clone(im, 5, SHADOW_CLONE_HYDRATING);
	c->share_zero = share;
	image_clone_copy(im, 5, 10, 10);
	image_clone_copy(im, 5, BIG_CHUNKS - 5, 5);
	return c;
}

/* The block array index @i of clone @c's bitset names (one leaf). */
static uint64_t array_block(struct image *im, const struct image_clone *c, uint32_t i)
{
	return pd_node_value_u64(image_block(im, c->rec.bitset_root), i);
}

START_TEST(test_clone_consistent)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	uint64_t used;

	build_clone(&im);
	image_build(&im);
	/*
	 * Superblock, snapshot, exception, private and clone trees, clone
	 * 2's bitset (btree leaf, array block), data sm (ref tree, index:
	 * no bitmap), metadata sm (ref tree, bitmap, index): as the
	 * kernel's store has.
	 */
	used = 1 + 4 + 2 + 2 + 3;
	ck_assert_uint_eq(im.next + 1, used);
	ck_assert_uint_eq(im.sb.data_sm.nr_blocks, 0);
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert_uint_eq(res.snapshots, 2);
	ck_assert_uint_eq(res.clones, 2);
	ck_assert_uint_eq(res.exceptions, 0);
	ck_assert_uint_eq(res.data_used, 0);
	ck_assert_uint_eq(res.metadata_used, used);
}
END_TEST

/*
 * Four array blocks, two indices naming one block or each its own:
 * every reference counted, no false leak or damage either way.
 */
START_TEST(test_clone_array_blocks)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	struct image_clone *c = build_clone_big(&im, _i);
	struct pd_node_header h;

	image_build(&im);
	pd_node_header_decode(image_block(&im, c->rec.bitset_root), &h);
	ck_assert_uint_eq(h.nr_entries, 4);
	if (_i) {
		ck_assert_uint_eq(array_block(&im, c, 1), array_block(&im, c, 2));
		ck_assert_uint_eq(im.md_count[array_block(&im, c, 1)], 2);
	} else {
		ck_assert_uint_ne(array_block(&im, c, 1), array_block(&im, c, 2));
	}
	res = run(&im, &f);
	assert_clean(res, f);
	ck_assert_uint_eq(res.clones, 1);
}
END_TEST

/* The shared block counted once, not once per index: damage, not a leak. */
START_TEST(test_clone_shared_block_count)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	struct image_clone *c = build_clone_big(&im, true);
	uint64_t b;
	char want[128];

	image_build(&im);
	b = array_block(&im, c, 1);
	im.md_delta[b] = -1;
	image_build(&im);
	res = run(&im, &f);
	snprintf(want, sizeof(want), "metadata block %llu is used 2 times but its space map count is 1",
		 (unsigned long long)b);
	assert_damage(res, f, want);
	ck_assert_uint_eq(res.leaked, 0);

	/* Counted three times: a leak. */
	build_clone_big(&im, true);
	im.md_delta[b] = 1;
	image_build(&im);
	res = run(&im, &f);
	ck_assert_msg(res.problems == 0, "damage:\n%s", f.damage);
	ck_assert_uint_eq(res.leaked_metadata, 1);
}
END_TEST

/* Every snapshot is a clone and every clone a snapshot's. */
START_TEST(test_clone_pairs)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build_clone(&im);
	image_add_clone(&im, 3, SHADOW_CLONE_COMPLETE)->rec.nr_copied = 4096;
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "clone 3 has no snapshot: the snapshot tree has no id 3");
	ck_assert_uint_eq(res.problems, 1);
	ck_assert_uint_eq(res.leaked, 0);

	build_clone(&im);
	im.sb.last_seq = 3;
	image_add_snap(&im, 7, 3, SHADOW_SNAP_VALID, 0);
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "snapshot 7 has no clone record: every snapshot of a clone store is a clone");
	ck_assert_uint_eq(res.problems, 1);
}
END_TEST

/* A failed clone's snapshot is invalid; any other's valid. */
START_TEST(test_clone_failed_snapshot)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build_clone(&im);
	im.clones[1].rec.state = SHADOW_CLONE_FAILED;
	im.clones[1].bitset = false;
	image_del_snap(&im, 2);
	image_add_snap(&im, 2, 2, SHADOW_SNAP_INVALID, 0);
	image_build(&im);
	res = run(&im, &f);
	assert_clean(res, f);

	build_clone(&im);
	im.clones[1].rec.state = SHADOW_CLONE_FAILED;
	im.clones[1].bitset = false;
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "clone 2 is failed but its snapshot is valid");
	ck_assert_uint_eq(res.problems, 1);

	build_clone(&im);
	image_del_snap(&im, 1);
	image_add_snap(&im, 1, 1, SHADOW_SNAP_INVALID, 0);
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "clone 1 is complete but its snapshot is invalid");
}
END_TEST

/*
 * State and bitset disagree: damage, and the stray bitset's blocks are
 * still counted (no leak besides).
 */
START_TEST(test_clone_state_bitset)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build_clone(&im);
	im.clones[0].bitset = true;		/* complete, with one */
	image_build(&im);
	ck_assert_uint_ne(im.clones[0].rec.bitset_root, 0);
	res = run(&im, &f);
	assert_damage(res, f, "clone 1 is complete but has a bitset (bitset_root ");
	ck_assert_uint_eq(res.problems, 1);
	ck_assert_uint_eq(res.leaked, 0);

	build_clone(&im);
	im.clones[1].bitset = false;		/* hydrating, without */
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "clone 2 is hydrating but has no bitset (bitset_root 0)");
	ck_assert_uint_eq(res.problems, 1);
}
END_TEST

/* nr_copied against the bits set, and against the origin. */
START_TEST(test_clone_nr_copied)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build_clone(&im);
	im.clones[1].rec.nr_copied++;
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "clone 2 counts 811 chunks copied, but its bitset has 810 bits set");
	ck_assert_uint_eq(res.problems, 1);
	ck_assert_uint_eq(res.leaked, 0);

	build_clone(&im);
	im.clones[0].rec.nr_copied = 4095;
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "clone 1 is complete but counts 4095 of the origin's 4096 chunks copied");

	build_clone(&im);
	im.clones[0].rec.nr_copied = 4097;
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "clone 1 counts 4097 chunks copied, more than the origin's 4096");
}
END_TEST

/* What else a record may get wrong: key, state, flags, target size. */
START_TEST(test_clone_record_fields)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	uint8_t *leaf;
	uint64_t id = htole64(9);

	build_clone(&im);
	im.clones[0].rec.state = 7;
	im.clones[0].rec.flags = 0x10;
	im.clones[1].rec.target_sectors = 4096 * 8 - 1;
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "clone 1 has unknown state 7");
	assert_damage(res, f, "clone 1 has unknown flags 0x10");
	assert_damage(res, f, "clone 2's target has 32767 sectors, fewer than the origin's 32768: it cannot hold the copy");
	ck_assert_uint_eq(res.problems, 3);

	/* Filed under the wrong key. */
	build_clone(&im);
	image_build(&im);
	leaf = image_block(&im, im.sb.clone_root);
	memcpy((uint8_t *)pd_node_value(leaf, 0), &id, sizeof(id));
	pd_node_seal(leaf, im.sb.clone_root);
	res = run(&im, &f);
	assert_damage(res, f, "clone under key 1 says it is id 9");
}
END_TEST

/* At most SHADOW_MAX_CLONES clones. */
START_TEST(test_clone_too_many)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	image_init_clone(&im, 64 * 8, 4096, 8);
	im.sb.last_seq = SHADOW_MAX_CLONES + 1;
	for (uint64_t i = 1; i <= SHADOW_MAX_CLONES + 1; i++) {
		image_add_snap(&im, i, i, SHADOW_SNAP_VALID, 0);
		image_add_clone(&im, i, SHADOW_CLONE_COMPLETE)->rec.nr_copied = 64;
	}
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "the clone tree holds more than 8 clones");
	ck_assert_uint_eq(res.problems, 1);
	ck_assert_uint_eq(res.clones, SHADOW_MAX_CLONES + 1);

	image_init_clone(&im, 64 * 8, 4096, 8);
	im.sb.last_seq = SHADOW_MAX_CLONES;
	for (uint64_t i = 1; i <= SHADOW_MAX_CLONES; i++) {
		image_add_snap(&im, i, i, SHADOW_SNAP_VALID, 0);
		image_add_clone(&im, i, SHADOW_CLONE_HYDRATING);
	}
	image_build(&im);
	res = run(&im, &f);
	assert_clean(res, f);
}
END_TEST

/*
 * An array block's header, rewritten and sealed: a wrong entry count,
 * max_entries or value size is damage, and its block a bad one; its
 * count is still right (no leak), and no second finding follows from
 * the bits it could not give.
 */
START_TEST(test_clone_array_header)
{
	static const struct {
		size_t off;
		uint8_t value;
		const char *want;
	} cases[] = {
		{ 8, 63, "has 63 entries, expected 64 as block 0 of an array of 64" },
		{ 4, 0xfc, "has max_entries 508, expected 509 for 8-byte values" },
		{ 12, 4, "has 4-byte values, expected 8" },
	};
	struct image im;
	struct found f;
	struct shadow_check_result res;
	uint64_t b;
	uint8_t *blk;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build_clone(&im);
		image_build(&im);
		b = array_block(&im, &im.clones[1], 0);
		blk = image_block(&im, b);
		blk[cases[i].off] = cases[i].value;
		pd_array_seal(blk, b);
		res = run(&im, &f);
		assert_damage(res, f, cases[i].want);
		assert_damage(res, f, "clone 2's bitset: array block ");
		ck_assert_uint_eq(res.problems, 1);
		ck_assert_uint_eq(res.bad_blocks, 1);
		ck_assert_uint_eq(res.leaked, 0);
	}

	/* A bad checksum, and a block written elsewhere. */
	build_clone(&im);
	image_build(&im);
	b = array_block(&im, &im.clones[1], 0);
	image_block(&im, b)[2000] ^= 1;
	res = run(&im, &f);
	assert_damage(res, f, "has a bad checksum");
	ck_assert_uint_eq(res.problems, 1);
	build_clone(&im);
	image_build(&im);
	b = array_block(&im, &im.clones[1], 0);
	pd_array_seal(image_block(&im, b), b + 1);
	res = run(&im, &f);
	assert_damage(res, f, "says it is block");
	ck_assert_uint_eq(res.bad_blocks, 1);
}
END_TEST

/*
 * A block two indices share must fit both: the tail index of a shared
 * full block has the wrong entry count for it.
 */
START_TEST(test_clone_shared_tail)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	struct image_clone *c = build_clone_big(&im, true);
	uint64_t shared, tail, le;
	uint8_t *leaf;

	image_build(&im);
	shared = array_block(&im, c, 1);
	tail = array_block(&im, c, 3);
	/* Index 3 names the shared block: it gains a count, the tail loses one. */
	im.md_delta[shared] = 1;
	im.md_delta[tail] = -1;
	image_build(&im);
	leaf = image_block(&im, c->rec.bitset_root);
	le = htole64(shared);
	memcpy((uint8_t *)pd_node_value(leaf, 3), &le, sizeof(le));
	pd_node_seal(leaf, c->rec.bitset_root);
	res = run(&im, &f);
	assert_damage(res, f, "has 509 entries, expected 100 as block 3 of an array of 1627");
	ck_assert_uint_eq(res.problems, 1);
}
END_TEST

/* An array btree without its last block, or a bit past the origin. */
START_TEST(test_clone_bitset_shape)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;
	struct image_clone *c = build_clone_big(&im, false);
	uint8_t *leaf, *blk;
	uint64_t tail;
	char want[128];

	image_build(&im);
	leaf = image_block(&im, c->rec.bitset_root);
	tail = array_block(&im, c, 3);
	leaf[16] = 3;		/* nr_entries: the tail block is dropped */
	pd_node_seal(leaf, c->rec.bitset_root);
	res = run(&im, &f);
	assert_damage(res, f, "clone 5's bitset has 3 array blocks, but its 104118 chunks need 4");
	ck_assert_uint_eq(res.problems, 1);
	/* Counted, used by nothing now: that is a leak. */
	ck_assert_uint_eq(res.leaked_metadata, 1);
	snprintf(want, sizeof(want), "metadata block %llu is counted 1 times but used 0 times",
		 (unsigned long long)tail);
	ck_assert_msg(strstr(f.leaks, want), "%s", f.leaks);

	c = build_clone_big(&im, false);
	image_build(&im);
	tail = array_block(&im, c, 3);
	blk = image_block(&im, tail);
	pd_array_set_u64(blk, 99, pd_array_value_u64(blk, 99) | 1ULL << 60);
	pd_array_seal(blk, tail);
	res = run(&im, &f);
	assert_damage(res, f, "clone 5's bitset sets 1 bits past the origin's 104118 chunks");
	ck_assert_uint_eq(res.problems, 1);
}
END_TEST

/* A clone store keeps no data: an exception or private chunk is damage. */
START_TEST(test_clone_store_mappings)
{
	struct image im;
	struct found f;
	struct shadow_check_result res;

	build_clone(&im);
	image_add_exception(&im, 5, 1, 0);
	image_add_private(&im, 6, 2, 1);
	image_build(&im);
	res = run(&im, &f);
	assert_damage(res, f, "the exception tree of a clone store, which keeps no data, maps origin chunk 5 seq 1");
	assert_damage(res, f, "the private tree of a clone store, which keeps no data, maps origin chunk 6 seq 2");
	ck_assert_uint_eq(res.problems, 2);
}
END_TEST

static int collect_runs(void *userdata, uint64_t first, uint64_t n)
{
	char *buf = userdata;

	snprintf(buf + strlen(buf), 256 - strlen(buf), "%llu+%llu;",
		 (unsigned long long)first, (unsigned long long)n);
	return 0;
}

/* The clone tree and a bitset's runs, as shadow-dump reads them. */
START_TEST(test_clone_load)
{
	_cleanup_store_ struct shadow_store *s = NULL;
	_cleanup_free_ struct shadow_clone *clones = NULL;
	struct shadow_error err = {};
	struct image im;
	char runs[256] = "";
	uint64_t n = 0;
	size_t nc;

	build_clone(&im);
	image_build(&im);
	ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
	ck_assert_int_eq(shadow_store_load_clones(s, &clones, &nc, &err), 0);
	ck_assert_uint_eq(nc, 2);
	ck_assert_uint_eq(clones[0].id, 1);
	ck_assert_uint_eq(clones[0].state, SHADOW_CLONE_COMPLETE);
	ck_assert_uint_eq(clones[0].bitset_root, 0);
	ck_assert_uint_eq(clones[1].id, 2);
	ck_assert_uint_eq(clones[1].nr_copied, 810);
	ck_assert_uint_eq(clones[1].target_sectors, 4096 * 8);
	ck_assert_int_eq(shadow_store_clone_copied(s, &clones[1], collect_runs, runs, &n, &err), 0);
	ck_assert_str_eq(runs, "0+800;3000+10;");
	ck_assert_uint_eq(n, 810);
	ck_assert_int_eq(shadow_store_clone_copied(s, &clones[0], NULL, NULL, &n, &err), -ENODATA);
	ck_assert_msg(strstr(err.msg, "clone 1 has no bitset: it is complete"), "%s", err.msg);
	image_done(&im);
}
END_TEST

/*
 * Runs across words and array blocks; a shared block read at each index
 * that names it.
 */
START_TEST(test_clone_load_big)
{
	_cleanup_store_ struct shadow_store *s = NULL;
	_cleanup_free_ struct shadow_clone *clones = NULL;
	struct shadow_error err = {};
	struct image im;
	char runs[256] = "", want[128];
	uint64_t n = 0;
	size_t nc;

	build_clone_big(&im, _i);
	/* Across words 0 and 1, the whole of word 3, the end of block 0. */
	image_clone_copy(&im, 5, 60, 10);
	image_clone_copy(&im, 5, 192, 64);
	image_clone_copy(&im, 5, 509 * 64 - 2, 2);
	/* Unshared: across blocks 0 and 1 too. */
	if (!_i)
		image_clone_copy(&im, 5, 509 * 64, 3);
	image_build(&im);
	ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
	ck_assert_int_eq(shadow_store_load_clones(s, &clones, &nc, &err), 0);
	ck_assert_uint_eq(nc, 1);
	ck_assert_int_eq(shadow_store_clone_copied(s, &clones[0], collect_runs, runs, &n, &err), 0);
	snprintf(want, sizeof(want), "10+10;60+10;192+64;32574+%u;%u+5;",
		 _i ? 2 : 5, BIG_CHUNKS - 5);
	ck_assert_str_eq(runs, want);
	ck_assert_uint_eq(n, clones[0].nr_copied);
	ck_assert_uint_eq(n, 10 + 10 + 64 + 2 + 5 + (_i ? 0 : 3));
	image_done(&im);
}
END_TEST

/* A broken bitset is refused with what is wrong; a cow store has no clones. */
START_TEST(test_clone_load_refused)
{
	_cleanup_free_ struct shadow_clone *clones = NULL;
	struct shadow_store *s = NULL;
	struct shadow_error err = {};
	struct image im;
	uint64_t b;
	size_t n;

	build_clone(&im);
	image_build(&im);
	b = array_block(&im, &im.clones[1], 0);
	image_block(&im, b)[8] = 63;
	pd_array_seal(image_block(&im, b), b);
	ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
	ck_assert_int_eq(shadow_store_load_clones(s, &clones, &n, &err), 0);
	ck_assert_int_eq(shadow_store_clone_copied(s, &clones[1], NULL, NULL, NULL, &err), -EBADMSG);
	ck_assert_msg(strstr(err.msg, "clone 2's bitset: array block ") &&
		      strstr(err.msg, " has 63 entries, expected 64"), "%s", err.msg);
	s = shadow_store_free(s);
	image_done(&im);
	free(clones);
	clones = NULL;

	/* A bit past the origin's last chunk. */
	build_clone_big(&im, false);
	image_build(&im);
	b = array_block(&im, &im.clones[0], 3);
	pd_array_set_u64(image_block(&im, b), 99, 1ULL << 60);
	pd_array_seal(image_block(&im, b), b);
	ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
	ck_assert_int_eq(shadow_store_load_clones(s, &clones, &n, &err), 0);
	ck_assert_int_eq(shadow_store_clone_copied(s, &clones[0], NULL, NULL, NULL, &err), -EBADMSG);
	ck_assert_msg(strstr(err.msg, "clone 5's bitset sets a bit past the origin's 104118 chunks (word 1626 is 0x1000000000000000)"),
		      "%s", err.msg);
	s = shadow_store_free(s);
	image_done(&im);
	free(clones);
	clones = NULL;

	build(&im);
	image_build(&im);
	ck_assert_int_eq(shadow_store_open(image_write(&im), &s, &err), 0);
	ck_assert_int_eq(shadow_store_load_clones(s, &clones, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	s = shadow_store_free(s);
	image_done(&im);
}
END_TEST

Suite *suite_check(void)
{
	Suite *s = suite_create("check");
	TCase *tc = tcase_create("check");

	tcase_add_test(tc, test_consistent);
	tcase_add_test(tc, test_empty_store);
	tcase_add_test(tc, test_internal_nodes);
	tcase_add_test(tc, test_bad_checksum);
	tcase_add_test(tc, test_bad_node_header);
	tcase_add_test(tc, test_leak_data);
	tcase_add_test(tc, test_leak_metadata);
	tcase_add_test(tc, test_overflow_count);
	tcase_add_test(tc, test_damage_count_zero);
	tcase_add_test(tc, test_damage_metadata_count);
	tcase_add_test(tc, test_nr_allocated);
	tcase_add_test(tc, test_duplicate_seq);
	tcase_add_test(tc, test_seq_above_last);
	tcase_add_test(tc, test_seq_zero);
	tcase_add_test(tc, test_snap_state_flags);
	tcase_add_test(tc, test_exception_ranges);
	tcase_add_test(tc, test_data_chunk_beyond);
	tcase_add_test(tc, test_data_chunk_twice);
	tcase_add_test(tc, test_private_orphan);
	tcase_add_test(tc, test_loop);
	tcase_add_test(tc, test_keys_out_of_range);
	tcase_add_test(tc, test_shared_without_held);
	tcase_add_test(tc, test_needs_check);
	tcase_add_test(tc, test_unknown_sb_flags);
	tcase_add_test(tc, test_bad_bitmap);
	tcase_add_test(tc, test_nr_free);
	tcase_add_test(tc, test_held_unchanged);
	tcase_add_test(tc, test_held_changed);
	tcase_add_test(tc, test_held_shared_leaves);
	tcase_add_test(tc, test_held_counts);
	tcase_add_test(tc, test_held_bad_block);
	tcase_add_test(tc, test_held_load);
	tcase_add_test(tc, test_held_refused);
	tcase_add_test(tc, test_journal_pending);
	tcase_add_test(tc, test_journal_empty);
	tcase_add_test(tc, test_journal_old_store);
	tcase_add_test(tc, test_journal_chunk_in_use);
	tcase_add_test(tc, test_journal_chunk_counted);
	tcase_add_test(tc, test_journal_bad_entries);
	tcase_add_test(tc, test_journal_stale_unchecked);
	tcase_add_test(tc, test_journal_ring_in_tree);
	tcase_add_test(tc, test_journal_ring_count);
	tcase_add_test(tc, test_journal_load);
	tcase_add_test(tc, test_journal_load_none);
	tcase_add_test(tc, test_row_load);
	tcase_add_test(tc, test_row_consistent);
	tcase_add_test(tc, test_row_keys_as_cow);
	tcase_add_test(tc, test_row_exception_ranges);
	tcase_add_test(tc, test_row_data_chunk_twice);
	tcase_add_test(tc, test_row_journal_pending);
	tcase_add_test(tc, test_row_journal_bad_entries);
	tcase_add_test(tc, test_row_diff);
	tcase_add_test(tc, test_row_resolve);
	tcase_add_test(tc, test_cow_resolve);
	tcase_add_test(tc, test_row_dropped_resolve);
	tcase_add_loop_test(tc, test_row_dropped_resolve_leaves, 0, 2);
	tcase_add_test(tc, test_row_dropped_held);
	tcase_add_test(tc, test_row_dropped_diff);
	tcase_add_test(tc, test_row_dropped_consistent);
	tcase_add_test(tc, test_row_dropped_snapshot_inside);
	tcase_add_test(tc, test_clone_consistent);
	tcase_add_loop_test(tc, test_clone_array_blocks, 0, 2);
	tcase_add_test(tc, test_clone_shared_block_count);
	tcase_add_test(tc, test_clone_pairs);
	tcase_add_test(tc, test_clone_failed_snapshot);
	tcase_add_test(tc, test_clone_state_bitset);
	tcase_add_test(tc, test_clone_nr_copied);
	tcase_add_test(tc, test_clone_record_fields);
	tcase_add_test(tc, test_clone_too_many);
	tcase_add_test(tc, test_clone_array_header);
	tcase_add_test(tc, test_clone_shared_tail);
	tcase_add_test(tc, test_clone_bitset_shape);
	tcase_add_test(tc, test_clone_store_mappings);
	tcase_add_test(tc, test_clone_load);
	tcase_add_loop_test(tc, test_clone_load_big, 0, 2);
	tcase_add_test(tc, test_clone_load_refused);
	suite_add_tcase(s, tc);
	return s;
}
