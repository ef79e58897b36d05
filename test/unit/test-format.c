/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "crc32c.h"
#include "dm-shadow-sb-check.h"
#include "shadow-pd.h"
#include "unit.h"

static struct shadow_superblock sample_sb(void)
{
	struct shadow_superblock sb = {
		.magic = SHADOW_MAGIC,
		.version = SHADOW_VERSION,
		.store_type = SHADOW_STORE_ROW,
		.uuid = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 },
		.chunk_sectors = 16,
		.origin_sectors = 100001,	/* not a whole number of chunks */
		.store_sectors = 50000,
		.last_seq = 99,
		.trans_id = 12345,
		.format_time = 1700000000,
		.exception_root = 3,
		.private_root = 4,
		.snapshot_root = 5,
		.metadata_sm = { .nr_blocks = 1000, .nr_allocated = 9, .bitmap_root = 6,
				 .ref_count_root = 7 },
		.data_sm = { .nr_blocks = 100, .nr_allocated = 40, .bitmap_root = 8,
			     .ref_count_root = 9 },
	};

	ck_assert_int_eq(shadow_sb_init_geometry(&sb), 0);
	ck_assert_uint_eq(sb.nr_origin_chunks, 6251);
	sb.data_limit = sb.nr_data_chunks;
	sb.data_sm.nr_blocks = sb.nr_data_chunks;
	sb.metadata_sm.nr_blocks = shadow_metadata_sm_blocks(sb.store_sectors);
	return sb;
}

/*
 * A clone store as the kernel formats one: 16 MiB of origin in 4 KiB
 * chunks, a 2 MiB store that is all metadata (512 blocks, the journal's
 * ring its last 64), no data chunks, so a data limit and a data space
 * map of 0.
 */
static struct shadow_superblock sample_clone_sb(void)
{
	struct shadow_superblock sb = {
		.magic = SHADOW_MAGIC,
		.version = SHADOW_VERSION,
		.store_type = SHADOW_STORE_CLONE,
		.uuid = { 0xc1, 0x0e, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 },
		.chunk_sectors = 8,
		.origin_sectors = 32768,
		.store_sectors = 4096,
		.last_seq = 2,
		.trans_id = 109,
		.format_time = 1700000000,
		.exception_root = 6,
		.private_root = 7,
		.snapshot_root = 340,
		.clone_root = 108,
		.metadata_sm = { .nr_allocated = 76, .bitmap_root = 2, .ref_count_root = 3 },
		.data_sm = { .bitmap_root = 4, .ref_count_root = 5 },
	};

	ck_assert_int_eq(shadow_sb_init_geometry(&sb), 0);
	ck_assert_uint_eq(sb.incompat_flags, SHADOW_FEATURE_INCOMPAT_JOURNAL |
			  SHADOW_FEATURE_INCOMPAT_CLONE);
	ck_assert_uint_eq(sb.nr_origin_chunks, 4096);
	ck_assert_uint_eq(sb.metadata_blocks, 512);
	ck_assert_uint_eq(sb.data_start, 4096);
	ck_assert_uint_eq(sb.nr_data_chunks, 0);
	sb.metadata_sm.nr_blocks = shadow_metadata_sm_blocks(sb.store_sectors);
	return sb;
}

static int validate_edited(struct shadow_superblock sb, struct shadow_error *err)
{
	uint8_t block[SHADOW_MD_BLOCK_SIZE];
	struct shadow_superblock out;

	shadow_sb_encode(&sb, 0, block);
	memset(err, 0, sizeof(*err));
	return shadow_sb_validate(block, 0, &out, err);
}

START_TEST(test_sb_round_trip)
{
	struct shadow_superblock sb = sample_sb(), out;
	uint8_t block[SHADOW_MD_BLOCK_SIZE];
	struct shadow_error err = {};

	shadow_sb_encode(&sb, 0, block);
	ck_assert_int_eq(shadow_sb_validate(block, 0, &out, &err), 0);
	sb.csum = out.csum;
	sb.type = SHADOW_BLOCK_SB;
	ck_assert_int_eq(memcmp(&sb, &out, sizeof(sb)), 0);
}
END_TEST

/* Offsets fixed by the format: version 1's first 32 bytes, then v2's. */
START_TEST(test_sb_byte_layout)
{
	struct shadow_superblock sb = sample_sb();
	uint8_t block[SHADOW_MD_BLOCK_SIZE];
	uint64_t v;

	shadow_sb_encode(&sb, 0, block);
	ck_assert_uint_eq(offsetof(struct shadow_disk_superblock, magic), 16);
	ck_assert_uint_eq(offsetof(struct shadow_disk_superblock, version), 24);
	ck_assert_uint_eq(offsetof(struct shadow_disk_superblock, store_type), 28);
	ck_assert_uint_eq(offsetof(struct shadow_disk_superblock, metadata_space_map_root), 192);
	ck_assert_uint_eq(offsetof(struct shadow_disk_superblock, revert_seq), 192 + 2 * SHADOW_SPACE_MAP_ROOT_SIZE);
	ck_assert_uint_eq(offsetof(struct shadow_disk_superblock, dropped_from), 192 + 2 * SHADOW_SPACE_MAP_ROOT_SIZE + 24);
	ck_assert_uint_eq(offsetof(struct shadow_disk_superblock, dropped_below), 192 + 2 * SHADOW_SPACE_MAP_ROOT_SIZE + 32);
	ck_assert_uint_eq(offsetof(struct shadow_disk_superblock, clone_root), 192 + 2 * SHADOW_SPACE_MAP_ROOT_SIZE + 40);
	ck_assert_uint_eq(sizeof(struct shadow_disk_superblock), 192 + 2 * SHADOW_SPACE_MAP_ROOT_SIZE + 48);
	memcpy(&v, block + 16, 8);
	ck_assert_uint_eq(le64toh(v), SHADOW_MAGIC);
	/* disk_sm_root: nr_blocks, nr_allocated, bitmap_root, ref_count_root. */
	memcpy(&v, block + 192 + 128 + 16, 8);
	ck_assert_uint_eq(le64toh(v), 8);
	ck_assert_uint_eq(le32toh(*(uint32_t *)block),
			  shadow_crc32c(~0U, block + 4, SHADOW_MD_BLOCK_SIZE - 4) ^ SHADOW_SB_CSUM_XOR);
}
END_TEST

START_TEST(test_sb_all_zero)
{
	uint8_t block[SHADOW_MD_BLOCK_SIZE] = {};
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
}
END_TEST

START_TEST(test_sb_bad_csum)
{
	struct shadow_superblock sb = sample_sb(), out;
	uint8_t block[SHADOW_MD_BLOCK_SIZE];
	struct shadow_error err = {};

	shadow_sb_encode(&sb, 0, block);
	block[4000] ^= 1;	/* the checksum covers the whole 4 KiB block */
	ck_assert_int_eq(shadow_sb_validate(block, 0, &out, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_CSUM);
}
END_TEST

START_TEST(test_sb_wrong_blocknr)
{
	struct shadow_superblock sb = sample_sb(), out;
	uint8_t block[SHADOW_MD_BLOCK_SIZE];
	struct shadow_error err = {};

	shadow_sb_encode(&sb, 5, block);
	ck_assert_int_eq(shadow_sb_validate(block, 0, &out, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_BLOCKNR);
	/* As a held copy at block 5 it verifies. */
	ck_assert_int_eq(shadow_sb_verify_block(block, 5, &err), 0);
}
END_TEST

START_TEST(test_sb_version)
{
	struct shadow_superblock sb = sample_sb();
	struct shadow_error err;

	sb.version = 1;
	ck_assert_int_eq(validate_edited(sb, &err), -EPROTONOSUPPORT);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_VERSION);
	ck_assert_msg(strstr(err.msg, "format version 1 ") &&
		      strstr(err.msg, "is no longer supported: "), "%s", err.msg);
	sb.version = 3;
	ck_assert_int_eq(validate_edited(sb, &err), -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(err.msg, "a format version this version does not know (version 3, supported up to 2)"));
}
END_TEST

/* A real version 1 superblock: 512-byte block, its own checksum. */
START_TEST(test_sb_v1_block)
{
	uint8_t block[SHADOW_MD_BLOCK_SIZE] = {};
	struct shadow_superblock out;
	struct shadow_error err = {};
	uint64_t magic = htole64(SHADOW_MAGIC);
	uint32_t type = htole32(SHADOW_BLOCK_SB), version = htole32(1);

	memcpy(block + 4, &type, 4);
	memcpy(block + 16, &magic, 8);
	memcpy(block + 24, &version, 4);
	*(uint32_t *)block = htole32(shadow_block_csum(block, 512, SHADOW_BLOCK_SB));
	ck_assert_int_eq(shadow_sb_validate(block, 0, &out, &err), -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(err.msg, "format version 1"));
}
END_TEST

START_TEST(test_sb_unknown_incompat)
{
	struct shadow_superblock sb = sample_sb();
	struct shadow_error err;

	sb.incompat_flags = 1ULL << 40;
	ck_assert_int_eq(validate_edited(sb, &err), -EOPNOTSUPP);
	ck_assert_int_eq(err.code, SHADOW_ERR_INCOMPAT);
	/* Unknown compat and ro_compat bits do not refuse reading. */
	sb = sample_sb();
	sb.compat_flags = 4;
	sb.ro_compat_flags = 8;
	ck_assert_int_eq(validate_edited(sb, &err), 0);
}
END_TEST

START_TEST(test_sb_store_type)
{
	struct shadow_superblock sb = sample_sb();
	struct shadow_error err;

	sb.store_type = 4;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_ptr_nonnull(strstr(err.msg, "unknown store type, not 1=cow, 2=row or 3=clone (store_type 4, at most 3)"));
	sb.store_type = 0;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
}
END_TEST

START_TEST(test_sb_geometry)
{
	struct shadow_superblock sb;
	struct shadow_error err;

	sb = sample_sb();
	sb.chunk_sectors = 24;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_GEOMETRY);
	sb = sample_sb();
	sb.nr_origin_chunks++;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	sb = sample_sb();
	sb.metadata_blocks++;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_ptr_nonnull(strstr(err.msg, "metadata_blocks"));
	sb = sample_sb();
	sb.data_start += 16;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	sb = sample_sb();
	sb.nr_data_chunks--;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	sb = sample_sb();
	sb.store_sectors = 100;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot hold metadata and one data chunk"));
}
END_TEST

/* Sizes near 2^64 are refused at once, never looped over. */
START_TEST(test_sb_huge_sizes)
{
	static const uint64_t sizes[] = {
		UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 4095, 1ULL << 63,
		(1ULL << 56) + 1, 1ULL << 60,
	};
	struct shadow_superblock sb;
	struct shadow_error err;
	time_t start = time(NULL);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		sb = sample_sb();
		sb.store_sectors = sizes[i];
		ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
		ck_assert_int_eq(err.code, SHADOW_ERR_GEOMETRY);
		sb = sample_sb();
		sb.origin_sectors = sizes[i];
		sb.nr_origin_chunks = sizes[i] / 16 + 1;
		ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
		sb = sample_sb();
		sb.nr_data_chunks = sizes[i];
		sb.data_limit = sizes[i];
		sb.data_sm.nr_blocks = sizes[i];
		ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
		sb = sample_sb();
		sb.data_sm.nr_blocks = sizes[i];
		ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
		ck_assert_int_eq(err.code, SHADOW_ERR_STATE);
		sb = sample_sb();
		sb.exception_root = sizes[i];
		ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	}
	/* The largest store accepted validates, in constant time. */
	sb = sample_sb();
	sb.store_sectors = SHADOW_MAX_SECTORS;
	ck_assert_int_eq(shadow_sb_init_geometry(&sb), 0);
	sb.metadata_sm.nr_blocks = shadow_metadata_sm_blocks(sb.store_sectors);
	sb.data_sm.nr_blocks = sb.nr_data_chunks;
	sb.data_limit = sb.nr_data_chunks;
	ck_assert_uint_eq(sb.metadata_blocks, SHADOW_MAX_METADATA_BLOCKS);
	ck_assert_int_eq(validate_edited(sb, &err), 0);
	ck_assert_int_le(time(NULL) - start, 1);
}
END_TEST

START_TEST(test_sb_state)
{
	struct shadow_superblock sb;
	struct shadow_error err;

	sb = sample_sb();
	sb.data_limit = 0;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_STATE);
	sb = sample_sb();
	sb.data_limit = sb.nr_data_chunks + 1;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	sb = sample_sb();
	sb.last_seq = SHADOW_MAX_SEQ + 1;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	sb = sample_sb();
	sb.snapshot_root = 0;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_ptr_nonnull(strstr(err.msg, "tree root is outside the metadata area (snapshot_root 0, "));
	sb = sample_sb();
	sb.held_root = sb.metadata_blocks;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	sb = sample_sb();
	sb.metadata_sm.nr_allocated = sb.metadata_sm.nr_blocks + 1;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	sb = sample_sb();
	sb.metadata_sm.nr_blocks--;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_ptr_nonnull(strstr(err.msg, "metadata space map does not span the store device (metadata space map "));
	sb = sample_sb();
	sb.data_sm.ref_count_root = 0;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
}
END_TEST

START_TEST(test_sb_device_too_small)
{
	struct shadow_superblock sb = sample_sb(), out;
	uint8_t block[SHADOW_MD_BLOCK_SIZE];
	struct shadow_error err = {};

	shadow_sb_encode(&sb, 0, block);
	ck_assert_int_eq(shadow_sb_validate(block, sb.store_sectors, &out, &err), 0);
	ck_assert_int_eq(shadow_sb_validate(block, sb.store_sectors - 1, &out, &err), -ENOSPC);
	ck_assert_int_eq(err.code, SHADOW_ERR_TOO_SMALL);
}
END_TEST

START_TEST(test_sb_ret_untouched_on_failure)
{
	struct shadow_superblock sb = sample_sb(), out;
	uint8_t block[SHADOW_MD_BLOCK_SIZE];
	struct shadow_error err = {};

	sb.data_limit = 0;
	shadow_sb_encode(&sb, 0, block);
	memset(&out, 0xa5, sizeof(out));
	ck_assert_int_eq(shadow_sb_validate(block, 0, &out, &err), -EUCLEAN);
	ck_assert_uint_eq(out.magic, 0xa5a5a5a5a5a5a5a5ULL);
}
END_TEST

/*
 * A row store's dropped range: encoded at its offsets, decoded, accepted
 * with the feature bit on a row store with 1 <= from < below <= last_seq
 * (sample_sb()'s is 99), refused otherwise as transaction state.
 */
START_TEST(test_sb_row_dropped)
{
	struct shadow_superblock sb = sample_sb(), out;
	uint8_t block[SHADOW_MD_BLOCK_SIZE];
	struct shadow_error err = {};
	uint64_t v;

	sb.incompat_flags |= SHADOW_FEATURE_INCOMPAT_ROW_DROPPED;
	sb.dropped_from = 10;
	sb.dropped_below = 99;
	shadow_sb_encode(&sb, 0, block);
	memcpy(&v, block + offsetof(struct shadow_disk_superblock, dropped_from), 8);
	ck_assert_uint_eq(le64toh(v), 10);
	memcpy(&v, block + offsetof(struct shadow_disk_superblock, dropped_below), 8);
	ck_assert_uint_eq(le64toh(v), 99);
	ck_assert_msg(shadow_sb_validate(block, 0, &out, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(out.dropped_from, 10);
	ck_assert_uint_eq(out.dropped_below, 99);
	ck_assert_uint_eq(out.incompat_flags, SHADOW_FEATURE_INCOMPAT_JOURNAL |
			  SHADOW_FEATURE_INCOMPAT_ROW_DROPPED);

	/* The fields without the bit. */
	sb = sample_sb();
	sb.dropped_from = 10;
	sb.dropped_below = 20;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_STATE);
	ck_assert_msg(strstr(err.msg, "store's dropped versions are inconsistent (dropped_from 10, expected 0)"),
		      "%s", err.msg);
	sb.dropped_from = 0;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_STATE);

	/* The bit on a cow store. */
	sb = sample_sb();
	sb.store_type = SHADOW_STORE_COW;
	sb.incompat_flags |= SHADOW_FEATURE_INCOMPAT_ROW_DROPPED;
	sb.dropped_from = 10;
	sb.dropped_below = 20;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_msg(strstr(err.msg, "store's dropped versions are inconsistent (store_type 1, expected 2)"),
		      "%s", err.msg);

	/* An empty or reversed range, or none at all. */
	sb = sample_sb();
	sb.incompat_flags |= SHADOW_FEATURE_INCOMPAT_ROW_DROPPED;
	sb.dropped_from = 20;
	sb.dropped_below = 20;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_msg(strstr(err.msg, "(dropped_from 20, expected 19)"), "%s", err.msg);
	sb.dropped_from = 21;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	sb.dropped_from = 0;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	sb.dropped_below = 0;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);

	/* dropped_below past last_seq; at it, accepted. */
	sb.dropped_from = 10;
	sb.dropped_below = 100;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_STATE);
	ck_assert_msg(strstr(err.msg, "(dropped_below 100, expected 99)"), "%s", err.msg);
	sb.dropped_below = 99;
	ck_assert_int_eq(validate_edited(sb, &err), 0);
}
END_TEST

/* Dead tags: [dropped_from, dropped_below) of a row store with the bit. */
START_TEST(test_sb_tag_dead)
{
	struct shadow_superblock sb = sample_sb();

	sb.incompat_flags |= SHADOW_FEATURE_INCOMPAT_ROW_DROPPED;
	sb.dropped_from = 10;
	sb.dropped_below = 20;
	ck_assert(!shadow_sb_tag_dead(&sb, 9));
	ck_assert(shadow_sb_tag_dead(&sb, 10));
	ck_assert(shadow_sb_tag_dead(&sb, 19));
	ck_assert(!shadow_sb_tag_dead(&sb, 20));
	ck_assert(!shadow_sb_tag_dead(&sb, 0));
	sb.incompat_flags &= ~SHADOW_FEATURE_INCOMPAT_ROW_DROPPED;
	ck_assert(!shadow_sb_tag_dead(&sb, 10));
	sb.incompat_flags |= SHADOW_FEATURE_INCOMPAT_ROW_DROPPED;
	sb.store_type = SHADOW_STORE_COW;
	ck_assert(!shadow_sb_tag_dead(&sb, 10));
}
END_TEST

/* clone_root: encoded at its offset, decoded, round trip whole. */
START_TEST(test_sb_clone_root)
{
	struct shadow_superblock sb = sample_clone_sb(), out;
	uint8_t block[SHADOW_MD_BLOCK_SIZE];
	struct shadow_error err = {};
	uint64_t v;

	shadow_sb_encode(&sb, 0, block);
	memcpy(&v, block + offsetof(struct shadow_disk_superblock, clone_root), 8);
	ck_assert_uint_eq(le64toh(v), 108);
	ck_assert_msg(shadow_sb_validate(block, 0, &out, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(out.clone_root, 108);
	ck_assert_uint_eq(out.store_type, SHADOW_STORE_CLONE);
	sb.csum = out.csum;
	sb.type = SHADOW_BLOCK_SB;
	ck_assert_int_eq(memcmp(&sb, &out, sizeof(sb)), 0);
	/* Other stores' superblocks decode a clone_root of 0. */
	sb = sample_sb();
	shadow_sb_encode(&sb, 0, block);
	ck_assert_int_eq(shadow_sb_validate(block, 0, &out, &err), 0);
	ck_assert_uint_eq(out.clone_root, 0);
}
END_TEST

/*
 * The shared rules (dm-shadow-sb-check.h) for the clone feature: set
 * exactly on a clone store, which alone has a clone_root, inside the
 * metadata area.
 */
START_TEST(test_sb_clone_feature)
{
	struct shadow_superblock sb;
	struct shadow_error err;

	/* The type without the bit, and the bit on a row and a cow store. */
	sb = sample_clone_sb();
	sb.incompat_flags &= ~SHADOW_FEATURE_INCOMPAT_CLONE;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_STATE);
	ck_assert_msg(strstr(err.msg, "store's clone feature, type and clone tree disagree (incompat_flags 0x0, expected 0x8)"),
		      "%s", err.msg);
	sb = sample_sb();
	sb.incompat_flags |= SHADOW_FEATURE_INCOMPAT_CLONE;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_msg(strstr(err.msg, "(incompat_flags 0x8, expected 0x0)"), "%s", err.msg);
	sb.store_type = SHADOW_STORE_COW;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_STATE);

	/* A clone tree on a row or cow store. */
	sb = sample_sb();
	sb.clone_root = 5;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_msg(strstr(err.msg, "store's clone feature, type and clone tree disagree (clone_root 0x5, expected 0x0)"),
		      "%s", err.msg);
	sb.store_type = SHADOW_STORE_COW;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	sb.clone_root = 0;
	ck_assert_int_eq(validate_edited(sb, &err), 0);

	/* A clone store without one, or with one in the journal's ring. */
	sb = sample_clone_sb();
	sb.clone_root = 0;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_msg(strstr(err.msg, "tree root is outside the metadata area (clone_root 0, metadata blocks 448)"),
		      "%s", err.msg);
	sb.clone_root = shadow_journal_start(&sb);
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_STATE);
	sb.clone_root = shadow_journal_start(&sb) - 1;
	ck_assert_int_eq(validate_edited(sb, &err), 0);
}
END_TEST

/*
 * A data limit of 0 is a clone store's, whose data chunks are 0 too; a
 * store with data chunks needs one, and a clone store cannot have one.
 */
START_TEST(test_sb_clone_data_limit)
{
	struct shadow_superblock sb;
	struct shadow_error err;

	sb = sample_clone_sb();
	ck_assert_uint_eq(sb.data_limit, 0);
	ck_assert_int_eq(validate_edited(sb, &err), 0);
	sb.data_limit = 1;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_STATE);
	ck_assert_msg(strstr(err.msg, "(data_limit 1, at most 0)"), "%s", err.msg);
	/* Its data space map spans its no data chunks. */
	sb = sample_clone_sb();
	sb.data_sm.nr_blocks = 1;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_msg(strstr(err.msg, "data space map does not span the data chunks"), "%s", err.msg);
	/* A row store with a limit of 0: refused, as before. */
	sb = sample_sb();
	sb.data_limit = 0;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_msg(strstr(err.msg, "(data_limit 0, at most "), "%s", err.msg);
}
END_TEST

/*
 * A clone store's geometry is its own layout: a cow store's of the same
 * size, with data chunks, is refused, and so is a clone store with any.
 */
START_TEST(test_sb_clone_geometry)
{
	struct shadow_superblock sb, cow;
	struct shadow_error err;

	cow = sample_clone_sb();
	cow.store_type = SHADOW_STORE_COW;
	cow.incompat_flags = 0;
	ck_assert_int_eq(shadow_sb_init_geometry(&cow), 0);
	ck_assert_uint_gt(cow.nr_data_chunks, 0);
	sb = sample_clone_sb();
	sb.metadata_blocks = cow.metadata_blocks;
	sb.data_start = cow.data_start;
	sb.nr_data_chunks = cow.nr_data_chunks;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_GEOMETRY);
	ck_assert_msg(strstr(err.msg, "inconsistent layout (metadata blocks) (metadata_blocks "), "%s", err.msg);
	sb = sample_clone_sb();
	sb.nr_data_chunks = 1;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_msg(strstr(err.msg, "inconsistent layout (data chunks) (nr_data_chunks 1, expected 0)"),
		      "%s", err.msg);
	/* Too small for the superblock, a commit's 64 blocks and the ring. */
	sb = sample_clone_sb();
	sb.store_sectors = (1 + 64 + SHADOW_JOURNAL_BLOCKS) * 8 - 8;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_msg(strstr(err.msg, "store's size cannot hold metadata"), "%s", err.msg);
	/* The clone type's layout on a row store is refused too. */
	sb = sample_clone_sb();
	sb.store_type = SHADOW_STORE_ROW;
	sb.incompat_flags &= ~SHADOW_FEATURE_INCOMPAT_CLONE;
	sb.clone_root = 0;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_GEOMETRY);
}
END_TEST

/* Offsets fixed by the format (struct shadow_disk_clone), and back. */
START_TEST(test_clone_round_trip)
{
	struct shadow_clone c = {
		.id = 1ULL << 40, .bitset_root = 107, .nr_copied = 810,
		.target_sectors = 32768, .state = SHADOW_CLONE_HYDRATING, .flags = 0x80000001,
	}, out;
	uint8_t buf[sizeof(struct shadow_disk_clone) + 1];
	uint64_t v;
	uint32_t w;

	memset(buf, 0xee, sizeof(buf));
	shadow_clone_encode(buf, &c);
	ck_assert_uint_eq(buf[40], 0xee);	/* 40 bytes, no more */
	memcpy(&v, buf, 8);
	ck_assert_uint_eq(le64toh(v), 1ULL << 40);
	memcpy(&v, buf + 8, 8);
	ck_assert_uint_eq(le64toh(v), 107);
	memcpy(&v, buf + 16, 8);
	ck_assert_uint_eq(le64toh(v), 810);
	memcpy(&v, buf + 24, 8);
	ck_assert_uint_eq(le64toh(v), 32768);
	memcpy(&w, buf + 32, 4);
	ck_assert_uint_eq(le32toh(w), SHADOW_CLONE_HYDRATING);
	memcpy(&w, buf + 36, 4);
	ck_assert_uint_eq(le32toh(w), 0x80000001);
	shadow_clone_decode(buf, &out);
	ck_assert_int_eq(memcmp(&c, &out, sizeof(c)), 0);
}
END_TEST

/* A record as the kernel wrote it (clone 2 of a real store), decoded. */
START_TEST(test_clone_decode_kernel)
{
	static const uint8_t rec[40] = {
		2, 0, 0, 0, 0, 0, 0, 0,		/* id */
		0x6b, 0, 0, 0, 0, 0, 0, 0,	/* bitset_root 107 */
		0x2a, 3, 0, 0, 0, 0, 0, 0,	/* nr_copied 810 */
		0, 0x80, 0, 0, 0, 0, 0, 0,	/* target_sectors 32768 */
		1, 0, 0, 0,			/* hydrating */
		0, 0, 0, 0,			/* flags */
	};
	struct shadow_clone c;

	shadow_clone_decode(rec, &c);
	ck_assert_uint_eq(c.id, 2);
	ck_assert_uint_eq(c.bitset_root, 107);
	ck_assert_uint_eq(c.nr_copied, 810);
	ck_assert_uint_eq(c.target_sectors, 32768);
	ck_assert_uint_eq(c.state, SHADOW_CLONE_HYDRATING);
	ck_assert_uint_eq(c.flags, 0);
	ck_assert_str_eq(shadow_clone_state_name(c.state), "hydrating");
	ck_assert_str_eq(shadow_clone_state_name(SHADOW_CLONE_COMPLETE), "complete");
	ck_assert_str_eq(shadow_clone_state_name(SHADOW_CLONE_FAILED), "failed");
	ck_assert_ptr_null(shadow_clone_state_name(0));
	ck_assert_ptr_null(shadow_clone_state_name(4));
}
END_TEST

/* Every rule of the shared superblock checks can be worded and refused. */
START_TEST(test_sb_rules_complete)
{
	for (int r = SHADOW_SB_OK + 1; r < SHADOW_SB_NR_RULES; r++) {
		const struct shadow_sb_rule_info *i = shadow_sb_rule_get(r);

		ck_assert_msg(i->msg && *i->msg, "rule %d has no message", r);
		ck_assert_msg(i->bound && *i->bound, "rule %d has no bound", r);
		ck_assert_msg(shadow_sb_rule_errno(r) < 0, "rule %d has no errno", r);
	}
	ck_assert_int_eq(shadow_sb_rule_errno(SHADOW_SB_OK), 0);
	/* Out of range: worded as no fault rather than read past the table. */
	ck_assert_int_eq(shadow_sb_rule_errno(SHADOW_SB_NR_RULES), 0);
}
END_TEST

/*
 * Unknown ro_compat bits: the offline tools still read the store (they do
 * not write it); the module refuses it with its own rule.
 */
START_TEST(test_sb_unknown_ro_compat)
{
	struct shadow_superblock sb = sample_sb(), out;
	uint8_t block[SHADOW_MD_BLOCK_SIZE];
	struct shadow_error err = {};
	struct shadow_sb_fault f;

	sb.ro_compat_flags = 1ULL << 3;
	shadow_sb_encode(&sb, 0, block);
	ck_assert_int_eq(shadow_sb_validate(block, 0, &out, &err), 0);
	ck_assert_int_eq(shadow_sb_check_writable((const void *)block, &f), -EROFS);
	ck_assert_int_eq(f.rule, SHADOW_SB_RO_COMPAT);
	ck_assert_uint_eq(f.found, 1ULL << 3);
}
END_TEST

/*
 * The journal bit says which layout the geometry must have: the ring's
 * SHADOW_JOURNAL_BLOCKS more metadata blocks, or none (a store formatted
 * before the journal).  Roots lie below the ring.
 */
START_TEST(test_sb_journal_layout)
{
	struct shadow_superblock sb;
	struct shadow_layout l;
	struct shadow_error err;

	sb = sample_sb();
	ck_assert_uint_eq(sb.incompat_flags, SHADOW_FEATURE_INCOMPAT_JOURNAL);
	ck_assert_int_eq(validate_edited(sb, &err), 0);
	sb.incompat_flags = 0;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_msg(strstr(err.msg, "inconsistent layout (metadata blocks)"), "%s", err.msg);

	/* Formatted before the journal: its own layout, without the bit. */
	ck_assert_int_eq(shadow_layout_solve(&l, sb.store_sectors, sb.chunk_sectors, 0), 0);
	sb.metadata_blocks = l.metadata_blocks;
	sb.data_start = l.data_start;
	sb.nr_data_chunks = l.nr_data_chunks;
	sb.data_limit = l.nr_data_chunks;
	sb.data_sm.nr_blocks = l.nr_data_chunks;
	ck_assert_int_eq(validate_edited(sb, &err), 0);
	sb.held_root = sb.metadata_blocks - 1;
	ck_assert_int_eq(validate_edited(sb, &err), 0);
	sb.incompat_flags = SHADOW_FEATURE_INCOMPAT_JOURNAL;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_GEOMETRY);

	/* A root in the ring. */
	sb = sample_sb();
	sb.held_root = shadow_journal_start(&sb) - 1;
	ck_assert_int_eq(validate_edited(sb, &err), 0);
	sb.held_root = shadow_journal_start(&sb);
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
	ck_assert_int_eq(err.code, SHADOW_ERR_STATE);
	sb = sample_sb();
	sb.exception_root = sb.metadata_blocks - 1;
	ck_assert_int_eq(validate_edited(sb, &err), -EUCLEAN);
}
END_TEST

/* A journal block for ring slot @index of sample_sb(), with @n entries. */
static void sample_journal(const struct shadow_superblock *sb, uint32_t index,
			   uint32_t n, uint8_t *block)
{
	struct shadow_journal_entry e[SHADOW_JOURNAL_ENTRIES];
	struct shadow_journal_header h = {
		.blocknr = shadow_journal_start(sb) + index,
		.trans_id = sb->trans_id,
		.index = index,
		.nr_entries = n,
	};

	memcpy(h.uuid, sb->uuid, sizeof(h.uuid));
	for (uint32_t i = 0; i < n && i < SHADOW_JOURNAL_ENTRIES; i++)
		e[i] = (struct shadow_journal_entry) {
			.chunk = 1000 + i, .seq = 1 + i % 99, .store_chunk = 7 * i,
			.tree = i % 2 ? SHADOW_JOURNAL_PRIVATE : SHADOW_JOURNAL_SHARED,
		};
	shadow_journal_encode(&h, e, block);
}

/* Offsets fixed by the format (struct shadow_disk_journal). */
START_TEST(test_journal_byte_layout)
{
	struct shadow_superblock sb = sample_sb();
	uint8_t block[SHADOW_MD_BLOCK_SIZE];
	uint64_t v;
	uint32_t w;

	sample_journal(&sb, 5, 2, block);
	ck_assert_uint_eq(offsetof(struct shadow_disk_journal, uuid), 16);
	ck_assert_uint_eq(offsetof(struct shadow_disk_journal, trans_id), 32);
	ck_assert_uint_eq(offsetof(struct shadow_disk_journal, entries), 48);
	memcpy(&w, block + 4, 4);
	ck_assert_uint_eq(le32toh(w), SHADOW_BLOCK_JOURNAL);
	memcpy(&v, block + 8, 8);
	ck_assert_uint_eq(le64toh(v), shadow_journal_start(&sb) + 5);
	ck_assert_int_eq(memcmp(block + 16, sb.uuid, 16), 0);
	memcpy(&v, block + 32, 8);
	ck_assert_uint_eq(le64toh(v), 12345);
	memcpy(&w, block + 40, 4);
	ck_assert_uint_eq(le32toh(w), 5);
	memcpy(&w, block + 44, 4);
	ck_assert_uint_eq(le32toh(w), 2);
	/* The second entry: chunk, seq, store_chunk, tree, padding 0. */
	memcpy(&v, block + 48 + 32, 8);
	ck_assert_uint_eq(le64toh(v), 1001);
	memcpy(&v, block + 48 + 32 + 16, 8);
	ck_assert_uint_eq(le64toh(v), 7);
	memcpy(&w, block + 48 + 32 + 24, 4);
	ck_assert_uint_eq(le32toh(w), SHADOW_JOURNAL_PRIVATE);
	ck_assert(shadow_mem_is_zero(block + 48 + 32 + 28, SHADOW_MD_BLOCK_SIZE - 48 - 32 - 28));
	ck_assert_uint_eq(le32toh(*(uint32_t *)block),
			  shadow_crc32c(~0U, block + 4, SHADOW_MD_BLOCK_SIZE - 4) ^ SHADOW_JOURNAL_CSUM_XOR);
}
END_TEST

START_TEST(test_journal_round_trip)
{
	struct shadow_superblock sb = sample_sb();
	uint8_t block[SHADOW_MD_BLOCK_SIZE];
	struct shadow_journal_header h;
	struct shadow_journal_entry e;
	struct shadow_error err = {};

	sample_journal(&sb, 0, SHADOW_JOURNAL_ENTRIES, block);
	ck_assert_msg(shadow_journal_verify(block, &sb, 0, &h, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(h.type, SHADOW_BLOCK_JOURNAL);
	ck_assert_uint_eq(h.blocknr, sb.metadata_blocks - SHADOW_JOURNAL_BLOCKS);
	ck_assert_uint_eq(h.trans_id, sb.trans_id);
	ck_assert_uint_eq(h.index, 0);
	ck_assert_uint_eq(h.nr_entries, SHADOW_JOURNAL_ENTRIES);
	shadow_journal_entry_decode(block, SHADOW_JOURNAL_ENTRIES - 1, &e);
	ck_assert_uint_eq(e.chunk, 1000 + SHADOW_JOURNAL_ENTRIES - 1);
	ck_assert_uint_eq(e.seq, 1 + (SHADOW_JOURNAL_ENTRIES - 1) % 99);
	ck_assert_uint_eq(e.store_chunk, 7 * (SHADOW_JOURNAL_ENTRIES - 1));
	ck_assert_uint_eq(e.tree, SHADOW_JOURNAL_PRIVATE);
	/* The last slot of the ring, empty. */
	sample_journal(&sb, SHADOW_JOURNAL_BLOCKS - 1, 0, block);
	ck_assert_int_eq(shadow_journal_verify(block, &sb, SHADOW_JOURNAL_BLOCKS - 1, &h, &err), 0);
	ck_assert_uint_eq(h.blocknr, sb.metadata_blocks - 1);
}
END_TEST

/* Each way a ring block ends the pending prefix, and the reason given. */
START_TEST(test_journal_refused)
{
	struct shadow_superblock sb = sample_sb(), other;
	uint8_t block[SHADOW_MD_BLOCK_SIZE] = {};
	struct shadow_journal_header h;
	struct shadow_error err = {};

	ck_assert_int_eq(shadow_journal_verify(block, &sb, 0, &h, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_ZERO);

	sample_journal(&sb, 1, 3, block);
	block[3000] ^= 1;
	ck_assert_int_eq(shadow_journal_verify(block, &sb, 1, &h, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_CSUM);

	/* A btree node where a journal block should be. */
	pd_node_init(block, PD_LEAF_NODE, 8);
	pd_node_seal(block, shadow_journal_start(&sb) + 1);
	ck_assert_int_eq(shadow_journal_verify(block, &sb, 1, &h, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_TYPE);

	/* Written for slot 2, read at slot 1: misplaced. */
	sample_journal(&sb, 2, 3, block);
	ck_assert_int_eq(shadow_journal_verify(block, &sb, 1, &h, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_BLOCKNR);

	other = sb;
	other.uuid[15] ^= 1;
	sample_journal(&other, 1, 3, block);
	ck_assert_int_eq(shadow_journal_verify(block, &sb, 1, &h, &err), -ESTALE);
	ck_assert_int_eq(err.code, SHADOW_ERR_STALE);
	ck_assert_msg(strstr(err.msg, "belongs to another store"), "%s", err.msg);

	/* Left in the ring by an earlier commit. */
	other = sb;
	other.trans_id--;
	sample_journal(&other, 1, 3, block);
	ck_assert_int_eq(shadow_journal_verify(block, &sb, 1, &h, &err), -ESTALE);
	ck_assert_int_eq(err.code, SHADOW_ERR_STALE);
	ck_assert_msg(strstr(err.msg, "is of transaction 12344, the superblock's is 12345 (stale)"),
		      "%s", err.msg);

	/* The right block number, the wrong index. */
	{
		/* The encoder reads as many entries as a block holds. */
		struct shadow_journal_entry e[SHADOW_JOURNAL_ENTRIES] = {};
		struct shadow_journal_header w = {
			.blocknr = shadow_journal_start(&sb) + 1,
			.trans_id = sb.trans_id,
			.index = 2,
			.nr_entries = 1,
		};

		memcpy(w.uuid, sb.uuid, sizeof(w.uuid));
		shadow_journal_encode(&w, e, block);
		ck_assert_int_eq(shadow_journal_verify(block, &sb, 1, &h, &err), -EBADMSG);
		ck_assert_int_eq(err.code, SHADOW_ERR_STATE);
		ck_assert_msg(strstr(err.msg, "says it is ring index 2"), "%s", err.msg);

		w.index = 1;
		w.nr_entries = SHADOW_JOURNAL_ENTRIES + 1;
		shadow_journal_encode(&w, e, block);
		ck_assert_int_eq(shadow_journal_verify(block, &sb, 1, &h, &err), -EBADMSG);
		ck_assert_msg(strstr(err.msg, "has 127 entries, more than the 126 a block holds"),
			      "%s", err.msg);
	}
}
END_TEST

START_TEST(test_snapshot_round_trip)
{
	struct shadow_snapshot s = { .id = 1ULL << 50, .seq = 77, .ctime = 1700000000,
				     .state = SHADOW_SNAP_INVALID, .flags = SHADOW_SNAPF_SEALED }, out;
	uint8_t buf[32];
	uint64_t v;

	shadow_snap_encode(buf, &s);
	memcpy(&v, buf + 8, 8);
	ck_assert_uint_eq(le64toh(v), 77);
	shadow_snap_decode(buf, &out);
	ck_assert_int_eq(memcmp(&s, &out, sizeof(s)), 0);
}
END_TEST

/* dm-btree's calc_max_entries() for the value sizes the store uses. */
START_TEST(test_pd_max_entries)
{
	ck_assert_uint_eq(pd_btree_max_entries(8), 252);
	ck_assert_uint_eq(pd_btree_max_entries(4), 336);
	ck_assert_uint_eq(pd_btree_max_entries(16), 168);
	ck_assert_uint_eq(pd_btree_max_entries(32), 99);
}
END_TEST

/*
 * sm_lookup_bitmap(): entry i's high bit is bit 2i of the little-endian
 * word, its low bit bit 2i+1.
 */
START_TEST(test_pd_bitmap_bits)
{
	uint8_t block[PD_BLOCK_SIZE] = {};

	pd_bitmap_set(block, 0, 1);
	ck_assert_uint_eq(block[16], 0x02);
	pd_bitmap_set(block, 0, 2);
	ck_assert_uint_eq(block[16], 0x01);
	pd_bitmap_set(block, 3, 3);
	ck_assert_uint_eq(block[16], 0xc1);
	pd_bitmap_set(block, 32, 1);
	ck_assert_uint_eq(block[24], 0x02);
	pd_bitmap_set(block, PD_ENTRIES_PER_BITMAP - 1, 2);
	ck_assert_uint_eq(block[PD_BLOCK_SIZE - 1], 0x40);
	ck_assert_uint_eq(pd_bitmap_lookup(block, 0), 2);
	ck_assert_uint_eq(pd_bitmap_lookup(block, 3), 3);
	ck_assert_uint_eq(pd_bitmap_lookup(block, 32), 1);
	ck_assert_uint_eq(pd_bitmap_lookup(block, PD_ENTRIES_PER_BITMAP - 1), 2);
	ck_assert_uint_eq(pd_bitmap_lookup(block, 1), 0);
}
END_TEST

START_TEST(test_pd_node_verify)
{
	uint8_t block[PD_BLOCK_SIZE];
	struct pd_node_header h;
	struct shadow_error err = {};
	uint64_t v = htole64(42);

	pd_node_init(block, PD_LEAF_NODE, 8);
	pd_node_append(block, 7, &v);
	pd_node_seal(block, 9);
	ck_assert_int_eq(pd_node_verify(block, 9, 8, &h, &err), 0);
	ck_assert_uint_eq(h.nr_entries, 1);
	ck_assert_uint_eq(pd_node_key(block, 0), 7);
	ck_assert_uint_eq(pd_node_value_u64(block, 0), 42);
	/* Checksum xor is the btree's, over the block from byte 4. */
	ck_assert_uint_eq(le32toh(*(uint32_t *)block),
			  shadow_crc32c(~0U, block + 4, PD_BLOCK_SIZE - 4) ^ 121107U);
	ck_assert_int_eq(pd_node_verify(block, 10, 8, &h, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_BLOCKNR);
	ck_assert_int_eq(pd_node_verify(block, 9, 32, &h, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_NODE);
	block[4] = 3;	/* internal and leaf */
	pd_node_seal(block, 9);
	ck_assert_int_eq(pd_node_verify(block, 9, 8, &h, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_NODE);
	/* A bitmap never verifies as a node, nor the other way round. */
	pd_bitmap_seal(block, 9);
	ck_assert_int_eq(pd_node_verify(block, 9, 8, &h, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_CSUM);
	ck_assert_int_eq(pd_bitmap_verify(block, 9, &err), 0);
	ck_assert_int_eq(pd_index_verify(block, 9, &err), -EBADMSG);
}
END_TEST

/*
 * dm_array's geometry: 509 __le64 values a block, every block full but
 * the last.
 */
START_TEST(test_pd_array_entries)
{
	ck_assert_uint_eq(pd_array_max_entries(8), 509);
	ck_assert_uint_eq(pd_array_max_entries(4), 1018);
	ck_assert_uint_eq(pd_array_nr_blocks(0, 8), 0);
	ck_assert_uint_eq(pd_array_nr_blocks(1, 8), 1);
	ck_assert_uint_eq(pd_array_nr_blocks(509, 8), 1);
	ck_assert_uint_eq(pd_array_nr_blocks(510, 8), 2);
	ck_assert_uint_eq(pd_array_block_entries(64, 8, 0), 64);
	ck_assert_uint_eq(pd_array_block_entries(64, 8, 1), 0);
	ck_assert_uint_eq(pd_array_block_entries(1000, 8, 0), 509);
	ck_assert_uint_eq(pd_array_block_entries(1000, 8, 1), 491);
	ck_assert_uint_eq(pd_array_block_entries(1018, 8, 1), 509);
	ck_assert_uint_eq(pd_array_block_entries(1018, 8, 2), 0);
	ck_assert_uint_eq(pd_array_block_entries(0, 8, 0), 0);
	/* A bitset of the most chunks a clone store allows. */
	ck_assert_uint_eq(pd_bitset_words(SHADOW_MAX_CLONE_CHUNKS), 1ULL << 26);
	ck_assert_uint_eq(pd_array_nr_blocks(1ULL << 26, 8), 131845);
	ck_assert_uint_eq(pd_array_block_entries(1ULL << 26, 8, 131844), 268);
}
END_TEST

/* An array block as dm_array writes it, and each way it is refused. */
START_TEST(test_pd_array_verify)
{
	uint8_t block[PD_BLOCK_SIZE];
	struct pd_array_header h;
	struct shadow_error err = {};
	uint32_t w;
	uint64_t v;

	pd_array_init(block, 8, 64);
	pd_array_set_u64(block, 63, 0x8000000000000001ULL);
	pd_array_seal(block, 105);
	/* csum, max_entries, nr_entries, value_size, then blocknr at 16. */
	memcpy(&w, block + 4, 4);
	ck_assert_uint_eq(le32toh(w), 509);
	memcpy(&w, block + 8, 4);
	ck_assert_uint_eq(le32toh(w), 64);
	memcpy(&w, block + 12, 4);
	ck_assert_uint_eq(le32toh(w), 8);
	memcpy(&v, block + 16, 8);
	ck_assert_uint_eq(le64toh(v), 105);
	ck_assert_uint_eq(le32toh(*(uint32_t *)block),
			  shadow_crc32c(~0U, block + 4, PD_BLOCK_SIZE - 4) ^ 595846735U);
	ck_assert_msg(pd_array_verify(block, 105, 8, 64, 0, &h, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(h.nr_entries, 64);
	ck_assert_uint_eq(h.blocknr, 105);
	ck_assert_uint_eq(pd_array_value_u64(block, 63), 0x8000000000000001ULL);
	ck_assert_uint_eq(pd_array_value_u64(block, 62), 0);

	ck_assert_int_eq(pd_array_verify(block, 106, 8, 64, 0, &h, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_BLOCKNR);
	ck_assert_msg(strstr(err.msg, "array block 106 says it is block 105"), "%s", err.msg);
	/* Its place in a larger array wants it full. */
	ck_assert_int_eq(pd_array_verify(block, 105, 8, 1000, 0, &h, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_NODE);
	ck_assert_msg(strstr(err.msg, "array block 105 has 64 entries, expected 509 as block 0 of an array of 1000"),
		      "%s", err.msg);
	/* The last block of 509 + 64 values. */
	ck_assert_int_eq(pd_array_verify(block, 105, 8, 509 + 64, 1, &h, &err), 0);
	ck_assert_int_eq(pd_array_verify(block, 105, 8, 509 + 64, 2, &h, &err), -EBADMSG);
	ck_assert_int_eq(pd_array_verify(block, 105, 4, 64, 0, &h, &err), -EBADMSG);
	ck_assert_msg(strstr(err.msg, "has 8-byte values, expected 4"), "%s", err.msg);

	block[8] = 65;	/* nr_entries */
	ck_assert_int_eq(pd_array_verify(block, 105, 8, 64, 0, &h, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_CSUM);
	pd_array_seal(block, 105);
	ck_assert_int_eq(pd_array_verify(block, 105, 8, 64, 0, &h, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_NODE);
	block[8] = 64;
	block[4] = 0xfc;	/* max_entries 508 */
	pd_array_seal(block, 105);
	ck_assert_int_eq(pd_array_verify(block, 105, 8, 64, 0, &h, &err), -EBADMSG);
	ck_assert_msg(strstr(err.msg, "has max_entries 508, expected 509 for 8-byte values"), "%s", err.msg);
	/* A btree node is no array block: its checksum constant differs. */
	pd_node_init(block, PD_LEAF_NODE, 8);
	pd_node_seal(block, 105);
	ck_assert_int_eq(pd_array_verify(block, 105, 8, 64, 0, &h, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_CSUM);
}
END_TEST

/* Bits of a dm_bitset: bit i in bit i % 64 of little-endian word i / 64. */
START_TEST(test_pd_bitset_count)
{
	uint64_t words[3] = {
		htole64(~0ULL),
		htole64(0x8000000000000005ULL),	/* bits 64, 66, 127 */
		htole64(0xf0),			/* bits 132 to 135 */
	};
	uint8_t bytes[8] = { 0x01, 0, 0, 0, 0, 0, 0, 0x80 };

	ck_assert_uint_eq(pd_bitset_words(0), 0);
	ck_assert_uint_eq(pd_bitset_words(1), 1);
	ck_assert_uint_eq(pd_bitset_words(64), 1);
	ck_assert_uint_eq(pd_bitset_words(65), 2);
	ck_assert_uint_eq(pd_bitset_count(words, 3, 192), 64 + 3 + 4);
	ck_assert_uint_eq(pd_bitset_count(words, 3, 136), 64 + 3 + 4);
	ck_assert_uint_eq(pd_bitset_count(words, 3, 135), 64 + 3 + 3);
	ck_assert_uint_eq(pd_bitset_count(words, 3, 132), 64 + 3);
	ck_assert_uint_eq(pd_bitset_count(words, 3, 127), 64 + 2);
	ck_assert_uint_eq(pd_bitset_count(words, 3, 65), 64 + 1);
	ck_assert_uint_eq(pd_bitset_count(words, 3, 64), 64);
	ck_assert_uint_eq(pd_bitset_count(words, 3, 1), 1);
	ck_assert_uint_eq(pd_bitset_count(words, 3, 0), 0);
	/* Fewer words than bits: only the words there are. */
	ck_assert_uint_eq(pd_bitset_count(words, 2, 192), 64 + 3);
	/* Little-endian: byte 0's low bit is bit 0, byte 7's high bit 63. */
	ck_assert_uint_eq(pd_bitset_count(bytes, 1, 1), 1);
	ck_assert_uint_eq(pd_bitset_count(bytes, 1, 63), 1);
	ck_assert_uint_eq(pd_bitset_count(bytes, 1, 64), 2);
}
END_TEST

Suite *suite_format(void)
{
	Suite *s = suite_create("format");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, test_sb_round_trip);
	tcase_add_test(tc, test_sb_byte_layout);
	tcase_add_test(tc, test_sb_all_zero);
	tcase_add_test(tc, test_sb_bad_magic);
	tcase_add_test(tc, test_sb_bad_csum);
	tcase_add_test(tc, test_sb_wrong_blocknr);
	tcase_add_test(tc, test_sb_version);
	tcase_add_test(tc, test_sb_v1_block);
	tcase_add_test(tc, test_sb_unknown_incompat);
	tcase_add_test(tc, test_sb_store_type);
	tcase_add_test(tc, test_sb_geometry);
	tcase_add_test(tc, test_sb_huge_sizes);
	tcase_add_test(tc, test_sb_state);
	tcase_add_test(tc, test_sb_device_too_small);
	tcase_add_test(tc, test_sb_ret_untouched_on_failure);
	tcase_add_test(tc, test_sb_row_dropped);
	tcase_add_test(tc, test_sb_tag_dead);
	tcase_add_test(tc, test_sb_clone_root);
	tcase_add_test(tc, test_sb_clone_feature);
	tcase_add_test(tc, test_sb_clone_data_limit);
	tcase_add_test(tc, test_sb_clone_geometry);
	tcase_add_test(tc, test_clone_round_trip);
	tcase_add_test(tc, test_clone_decode_kernel);
	tcase_add_test(tc, test_sb_rules_complete);
	tcase_add_test(tc, test_sb_unknown_ro_compat);
	tcase_add_test(tc, test_sb_journal_layout);
	tcase_add_test(tc, test_journal_byte_layout);
	tcase_add_test(tc, test_journal_round_trip);
	tcase_add_test(tc, test_journal_refused);
	tcase_add_test(tc, test_snapshot_round_trip);
	tcase_add_test(tc, test_pd_max_entries);
	tcase_add_test(tc, test_pd_bitmap_bits);
	tcase_add_test(tc, test_pd_node_verify);
	tcase_add_test(tc, test_pd_array_entries);
	tcase_add_test(tc, test_pd_array_verify);
	tcase_add_test(tc, test_pd_bitset_count);
	suite_add_tcase(s, tc);
	return s;
}
