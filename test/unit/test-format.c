/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "crc32c.h"
#include "shadow-format.h"
#include "unit.h"

static struct shadow_superblock sample_sb(void)
{
	struct shadow_superblock sb = {
		.magic = SHADOW_MAGIC,
		.version = SHADOW_VERSION,
		.store_type = SHADOW_STORE_ROW,
		.uuid = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 },
		.chunk_sectors = 16,
		.max_snapshots = 64,
		.origin_sectors = 100001,	/* not a whole number of chunks */
		.store_sectors = 50000,
		.high_water = 40,
		.free_head = 7,
		.free_count = 3,
		.last_seq = 99,
		.commit_gen = 12345,
		.format_time = 1700000000,
		.compat_flags = SHADOW_FEATURE_COMPAT_LIMIT,
		.data_limit = 100,
	};

	ck_assert_int_eq(shadow_sb_init_geometry(&sb), 0);
	ck_assert_uint_eq(sb.nr_origin_chunks, 6251);
	return sb;
}

/* Encode a superblock after @edit changed it, then validate. */
static int validate_edited(struct shadow_superblock sb, struct shadow_error *err)
{
	uint8_t block[SHADOW_BLOCK_SIZE];
	struct shadow_superblock out;

	shadow_sb_encode(&sb, block);
	memset(err, 0, sizeof(*err));
	return shadow_sb_validate(block, 0, &out, err);
}

START_TEST(test_sb_round_trip)
{
	struct shadow_superblock sb = sample_sb(), out;
	uint8_t block[SHADOW_BLOCK_SIZE];
	struct shadow_error err = {};

	shadow_sb_encode(&sb, block);
	ck_assert_int_eq(shadow_sb_validate(block, sb.store_sectors, &out, &err), 0);
	ck_assert_int_eq(err.code, SHADOW_ERR_NONE);
	/* The encoder sets the header; everything else comes back as given. */
	sb.type = SHADOW_BLOCK_SB;
	sb.blocknr = 0;
	sb.csum = out.csum;
	ck_assert_mem_eq(&sb, &out, sizeof(sb));
	ck_assert_uint_eq(out.csum, shadow_block_csum(block, SHADOW_BLOCK_SB));
}
END_TEST

START_TEST(test_sb_byte_layout)
{
	struct shadow_superblock sb = sample_sb();
	uint8_t block[SHADOW_BLOCK_SIZE];
	uint32_t v32;
	uint64_t v64;

	shadow_sb_encode(&sb, block);
	/* Little-endian on disk: the magic reads "dsshadow" at offset 16. */
	ck_assert_mem_eq(block + 16, "dsshadow", 8);
	memcpy(&v32, block + 4, 4);
	ck_assert_uint_eq(le32toh(v32), SHADOW_BLOCK_SB);
	ck_assert_mem_eq(block + 4, "HSBS", 4);
	memcpy(&v32, block + 24, 4);
	ck_assert_uint_eq(le32toh(v32), SHADOW_VERSION);
	/* The data limit, a compat extension, sits right after format_time. */
	ck_assert_uint_eq(offsetof(struct shadow_disk_superblock, data_limit), 208);
	memcpy(&v64, block + 208, 8);
	ck_assert_uint_eq(le64toh(v64), 100);
	memcpy(&v64, block + 48, 8);
	ck_assert_uint_eq(le64toh(v64), SHADOW_FEATURE_COMPAT_LIMIT);
	/* Past the struct, the block is zero. */
	for (size_t i = sizeof(struct shadow_disk_superblock); i < SHADOW_BLOCK_SIZE; i++)
		ck_assert_uint_eq(block[i], 0);
}
END_TEST

START_TEST(test_sb_all_zero)
{
	uint8_t block[SHADOW_BLOCK_SIZE] = {};
	struct shadow_superblock out;
	struct shadow_error err = {};

	ck_assert_int_eq(shadow_sb_validate(block, 0, &out, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_ZERO);
}
END_TEST

START_TEST(test_sb_bad_magic)
{
	struct shadow_superblock sb = sample_sb();
	struct shadow_error err;

	sb.magic ^= 1;
	ck_assert_int_eq(validate_edited(sb, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_MAGIC);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a dm-shadow store"));
}
END_TEST

START_TEST(test_sb_bad_type)
{
	struct shadow_superblock sb = sample_sb();
	uint8_t block[SHADOW_BLOCK_SIZE];
	struct shadow_superblock out;
	struct shadow_error err = {};

	shadow_sb_encode(&sb, block);
	shadow_block_seal(block, SHADOW_BLOCK_SNAP, 0);
	ck_assert_int_eq(shadow_sb_validate(block, 0, &out, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_TYPE);
}
END_TEST

START_TEST(test_sb_future_version)
{
	struct shadow_superblock sb = sample_sb();
	struct shadow_error err;

	sb.version = SHADOW_VERSION_MAX + 1;
	ck_assert_int_eq(validate_edited(sb, &err), -EPROTONOSUPPORT);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_VERSION);
	ck_assert_ptr_nonnull(strstr(err.msg, "unsupported format version 2"));
	sb.version = 0;
	ck_assert_int_eq(validate_edited(sb, &err), -EPROTONOSUPPORT);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_VERSION);
}
END_TEST

START_TEST(test_sb_bad_csum)
{
	struct shadow_superblock sb = sample_sb(), out;
	uint8_t block[SHADOW_BLOCK_SIZE];
	struct shadow_error err = {};

	shadow_sb_encode(&sb, block);
	block[offsetof(struct shadow_disk_superblock, commit_gen)] ^= 0x01;
	ck_assert_int_eq(shadow_sb_validate(block, 0, &out, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_CSUM);
	ck_assert_ptr_nonnull(strstr(err.msg, "checksum mismatch"));
	/* A flip in the unused tail of the block is caught too. */
	shadow_sb_encode(&sb, block);
	block[SHADOW_BLOCK_SIZE - 1] = 0x80;
	ck_assert_int_eq(shadow_sb_validate(block, 0, &out, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_CSUM);
}
END_TEST

START_TEST(test_sb_wrong_blocknr)
{
	struct shadow_superblock sb = sample_sb(), out;
	uint8_t block[SHADOW_BLOCK_SIZE];
	struct shadow_error err = {};

	shadow_sb_encode(&sb, block);
	shadow_block_seal(block, SHADOW_BLOCK_SB, 8);
	ck_assert_int_eq(shadow_sb_validate(block, 0, &out, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_BLOCKNR);
	ck_assert_ptr_nonnull(strstr(err.msg, "block 8"));
}
END_TEST

START_TEST(test_sb_unknown_incompat)
{
	struct shadow_superblock sb = sample_sb();
	struct shadow_error err;

	sb.incompat_flags = 1ULL << 40;
	ck_assert_int_eq(validate_edited(sb, &err), -EOPNOTSUPP);
	ck_assert_int_eq(err.code, SHADOW_ERR_INCOMPAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "0x0000010000000000"));
	/* Unknown compat and ro_compat bits do not refuse a read. */
	sb = sample_sb();
	sb.compat_flags = 1;
	sb.ro_compat_flags = 2;
	ck_assert_int_eq(validate_edited(sb, &err), 0);
}
END_TEST

START_TEST(test_sb_geometry)
{
	struct shadow_superblock sb;
	struct shadow_error err;

	sb = sample_sb();
	sb.data_start += sb.chunk_sectors;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_GEOMETRY);
	ck_assert_ptr_nonnull(strstr(err.msg, "data_start"));

	sb = sample_sb();
	sb.nr_data_chunks++;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_ptr_nonnull(strstr(err.msg, "nr_data_chunks"));

	sb = sample_sb();
	sb.index_blocks--;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_ptr_nonnull(strstr(err.msg, "index_blocks"));

	sb = sample_sb();
	sb.nr_origin_chunks--;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_GEOMETRY);

	sb = sample_sb();
	sb.chunk_sectors = 24;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_ptr_nonnull(strstr(err.msg, "power of two"));

	sb = sample_sb();
	sb.max_snapshots = SHADOW_MAX_SNAPSHOTS + 1;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_GEOMETRY);

	sb = sample_sb();
	sb.store_type = 9;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_ptr_nonnull(strstr(err.msg, "store type 9"));

	sb = sample_sb();
	sb.store_sectors = 10;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_GEOMETRY);
}
END_TEST

START_TEST(test_sb_state)
{
	struct shadow_superblock sb;
	struct shadow_error err;

	sb = sample_sb();
	sb.high_water = sb.nr_data_chunks + 1;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_STATE);

	sb = sample_sb();
	sb.free_count = 0;	/* but free_head is set */
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_STATE);
}
END_TEST

START_TEST(test_sb_data_limit)
{
	struct shadow_superblock sb;
	struct shadow_error err;

	sb = sample_sb();
	ck_assert_uint_eq(shadow_sb_data_limit(&sb), 100);
	ck_assert_int_eq(validate_edited(sb, &err), 0);
	sb.data_limit = sb.high_water;		/* full up to the limit */
	ck_assert_int_eq(validate_edited(sb, &err), 0);
	sb.data_limit = sb.nr_data_chunks;	/* the whole store */
	ck_assert_int_eq(validate_edited(sb, &err), 0);

	sb.data_limit = sb.nr_data_chunks + 1;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_STATE);
	ck_assert_ptr_nonnull(strstr(err.msg, "data limit"));
	sb.data_limit = 0;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_STATE);
	sb.data_limit = sb.high_water - 1;	/* chunks allocated above it */
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_STATE);
	ck_assert_ptr_nonnull(strstr(err.msg, "exceeds the data limit"));
}
END_TEST

/*
 * A store written before the limit existed (or by a module that dropped
 * the compat feature) has no limit: whatever its field holds, it may use
 * every data chunk.
 */
START_TEST(test_sb_data_limit_absent)
{
	struct shadow_superblock sb = sample_sb(), out;
	uint8_t block[SHADOW_BLOCK_SIZE];
	struct shadow_error err = {};

	sb.compat_flags = 0;
	sb.data_limit = 0;
	ck_assert_uint_eq(shadow_sb_data_limit(&sb), sb.nr_data_chunks);
	ck_assert_int_eq(validate_edited(sb, &err), 0);
	sb.data_limit = 3;			/* stale, below high_water */
	shadow_sb_encode(&sb, block);
	ck_assert_int_eq(shadow_sb_validate(block, 0, &out, &err), 0);
	ck_assert_uint_eq(shadow_sb_data_limit(&out), sb.nr_data_chunks);
}
END_TEST

START_TEST(test_sb_device_too_small)
{
	struct shadow_superblock sb = sample_sb(), out;
	uint8_t block[SHADOW_BLOCK_SIZE];
	struct shadow_error err = {};

	shadow_sb_encode(&sb, block);
	ck_assert_int_eq(shadow_sb_validate(block, sb.store_sectors - 1, &out, &err), -ENOSPC);
	ck_assert_int_eq(err.code, SHADOW_ERR_TOO_SMALL);
	ck_assert_int_eq(shadow_sb_validate(block, sb.store_sectors + 100, &out, &err), 0);
}
END_TEST

START_TEST(test_sb_ret_untouched_on_failure)
{
	struct shadow_superblock sb = sample_sb(), out;
	uint8_t block[SHADOW_BLOCK_SIZE];

	sb.magic = 0;
	shadow_sb_encode(&sb, block);
	memset(&out, 0xa5, sizeof(out));
	ck_assert_int_lt(shadow_sb_validate(block, 0, &out, NULL), 0);
	ck_assert_uint_eq(out.magic, 0xa5a5a5a5a5a5a5a5ULL);
}
END_TEST

START_TEST(test_entries_round_trip)
{
	uint8_t block[SHADOW_BLOCK_SIZE] = {};
	struct shadow_snapshot s = { .id = 0x1122334455667788ULL, .seq = 42,
				     .ctime = 1700000001, .state = SHADOW_SNAP_VALID,
				     .flags = SHADOW_SNAPF_SEALED }, s2;
	struct shadow_record r = { .origin_chunk = 987654321, .seq = 77, .next = 5,
				   .flags = SHADOW_REC_USED | SHADOW_REC_PRIVATE }, r2;

	shadow_snap_encode(block, SHADOW_SNAPS_PER_BLOCK - 1, &s);
	shadow_snap_decode(block, SHADOW_SNAPS_PER_BLOCK - 1, &s2);
	ck_assert_mem_eq(&s, &s2, sizeof(s));
	/* Last entry ends inside the block. */
	ck_assert_uint_le(16 + SHADOW_SNAPS_PER_BLOCK * 32, SHADOW_BLOCK_SIZE);

	memset(block, 0, sizeof(block));
	shadow_record_encode(block, 3, &r);
	shadow_record_decode(block, 3, &r2);
	ck_assert_mem_eq(&r, &r2, sizeof(r));
	ck_assert_uint_eq(block[16 + 3 * 32], 987654321 & 0xff);

	memset(block, 0, sizeof(block));
	shadow_index_encode(block, SHADOW_INDEX_PER_BLOCK - 1, 0xabcdef);
	ck_assert_uint_eq(shadow_index_decode(block, SHADOW_INDEX_PER_BLOCK - 1), 0xabcdef);
	ck_assert_uint_eq(shadow_index_decode(block, 0), 0);
	ck_assert_uint_eq(block[16 + (SHADOW_INDEX_PER_BLOCK - 1) * 8], 0xef);
}
END_TEST

Suite *suite_format(void)
{
	Suite *s = suite_create("format");
	TCase *tc = tcase_create("superblock");

	tcase_add_test(tc, test_sb_round_trip);
	tcase_add_test(tc, test_sb_byte_layout);
	tcase_add_test(tc, test_sb_all_zero);
	tcase_add_test(tc, test_sb_bad_magic);
	tcase_add_test(tc, test_sb_bad_type);
	tcase_add_test(tc, test_sb_future_version);
	tcase_add_test(tc, test_sb_bad_csum);
	tcase_add_test(tc, test_sb_wrong_blocknr);
	tcase_add_test(tc, test_sb_unknown_incompat);
	tcase_add_test(tc, test_sb_geometry);
	tcase_add_test(tc, test_sb_state);
	tcase_add_test(tc, test_sb_data_limit);
	tcase_add_test(tc, test_sb_data_limit_absent);
	tcase_add_test(tc, test_sb_device_too_small);
	tcase_add_test(tc, test_sb_ret_untouched_on_failure);
	suite_add_tcase(s, tc);

	tc = tcase_create("entries");
	tcase_add_test(tc, test_entries_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
