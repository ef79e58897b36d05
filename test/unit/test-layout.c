/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "shadow-format.h"
#include "unit.h"

/* Stores as the kernel formats them now, and as it did before the journal. */
static const uint32_t journals[] = { SHADOW_JOURNAL_BLOCKS, 0 };

static void assert_layout_sane(const struct shadow_layout *l, uint64_t store,
			       uint32_t chunk, uint32_t journal)
{
	ck_assert_uint_ge(l->nr_data_chunks, 1);
	ck_assert_uint_eq(l->metadata_blocks,
			  shadow_layout_md_blocks(l->nr_data_chunks, chunk, journal));
	ck_assert_uint_le(l->metadata_blocks, SHADOW_MAX_METADATA_BLOCKS);
	/* The ring fits after at least the superblock. */
	ck_assert_uint_gt(l->metadata_blocks, journal);
	/* Data is chunk aligned and follows the metadata. */
	ck_assert_uint_eq(l->data_start % chunk, 0);
	ck_assert_uint_ge(l->data_start, l->metadata_blocks * SHADOW_MD_BLOCK_SECTORS);
	ck_assert_uint_lt(l->data_start - l->metadata_blocks * SHADOW_MD_BLOCK_SECTORS, chunk);
	ck_assert_uint_le(l->data_start + l->nr_data_chunks * chunk, store);
	/* Maximal: one more chunk does not fit. */
	ck_assert_uint_gt(shadow_layout_sectors(l->nr_data_chunks + 1, chunk, journal), store);
}

START_TEST(test_too_small)
{
	struct shadow_layout l;
	uint32_t j = journals[_i];
	uint64_t min = shadow_layout_sectors(1, 8, j);

	ck_assert_int_eq(shadow_layout_compute(&l, 0, 8, j), -1);
	ck_assert_int_eq(shadow_layout_compute(&l, 1, 8, j), -1);
	ck_assert_int_eq(shadow_layout_compute(&l, 1, 0, j), -1);
	ck_assert_int_eq(shadow_layout_compute(&l, min - 1, 8, j), -1);
	ck_assert_int_eq(shadow_layout_solve(&l, min - 1, 8, j), -1);
	ck_assert_int_eq(shadow_layout_compute(&l, min, 8, j), 0);
	ck_assert_uint_eq(l.nr_data_chunks, 1);
	ck_assert_int_eq(shadow_layout_solve(&l, min, 8, j), 0);
	ck_assert_uint_eq(l.nr_data_chunks, 1);
	ck_assert_uint_eq(l.data_start + 8, min);
}
END_TEST

/* The smallest store offered for formatting is the journal's. */
START_TEST(test_min_sectors)
{
	struct shadow_layout l;

	ck_assert_uint_eq(shadow_layout_min_sectors(8),
			  shadow_layout_sectors(1, 8, SHADOW_JOURNAL_BLOCKS));
	ck_assert_uint_eq(shadow_layout_min_sectors(8),
			  shadow_layout_sectors(1, 8, 0) + SHADOW_JOURNAL_BLOCKS * SHADOW_MD_BLOCK_SECTORS);
	ck_assert_int_eq(shadow_layout_solve(&l, shadow_layout_min_sectors(8) - 1, 8,
					     SHADOW_JOURNAL_BLOCKS), -1);
	/* Without the ring, the same size still holds a chunk. */
	ck_assert_int_eq(shadow_layout_solve(&l, shadow_layout_min_sectors(8) - 1, 8, 0), 0);
}
END_TEST

/* A clone store holds metadata only: its smallest is exact, in whole chunks. */
START_TEST(test_min_clone_store)
{
	static const uint32_t chunks[] = { 8, 16, 128, 2048 };

	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		uint64_t min = shadow_layout_min_clone_sectors(chunks[c]);
		struct shadow_layout l;

		ck_assert_uint_eq(min % chunks[c], 0);
		ck_assert_int_eq(shadow_layout_compute_clone(&l, min, chunks[c],
							     SHADOW_JOURNAL_BLOCKS), 0);
		ck_assert_uint_eq(l.nr_data_chunks, 0);
		ck_assert_int_eq(shadow_layout_compute_clone(&l, min - 1, chunks[c],
							     SHADOW_JOURNAL_BLOCKS), -1);
	}
	/* 129 blocks of 4 KiB at 4 KiB chunks; one 1 MiB chunk at 1 MiB chunks. */
	ck_assert_uint_eq(shadow_layout_min_clone_sectors(8), 129 * 8);
	ck_assert_uint_eq(shadow_layout_min_clone_sectors(2048), 2048);
}
END_TEST

START_TEST(test_exact_fit)
{
	static const uint32_t chunks[] = { 8, 16, 128, 2048 };
	uint32_t j = journals[_i];

	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		for (uint64_t n = 1; n < 200000; n = n * 5 + 3) {
			struct shadow_layout l;
			uint64_t store = shadow_layout_sectors(n, chunks[c], j);

			ck_assert_int_eq(shadow_layout_compute(&l, store, chunks[c], j), 0);
			ck_assert_uint_eq(l.nr_data_chunks, n);
			ck_assert_uint_eq(l.data_start + n * chunks[c], store);
			assert_layout_sane(&l, store, chunks[c], j);
			if (n > 1) {
				ck_assert_int_eq(shadow_layout_compute(&l, store - 1, chunks[c], j), 0);
				ck_assert_uint_eq(l.nr_data_chunks, n - 1);
			}
		}
	}
}
END_TEST

/*
 * The ring is SHADOW_JOURNAL_BLOCKS more metadata blocks for the same
 * data chunks, so a store of one size holds as many chunks or fewer.
 */
START_TEST(test_journal_blocks)
{
	for (uint64_t n = 1; n < 200000; n = n * 5 + 3) {
		struct shadow_layout with, without;
		uint64_t store = shadow_layout_sectors(n, 8, SHADOW_JOURNAL_BLOCKS);

		ck_assert_uint_eq(shadow_layout_md_blocks(n, 8, SHADOW_JOURNAL_BLOCKS),
				  shadow_layout_md_blocks(n, 8, 0) + SHADOW_JOURNAL_BLOCKS);
		ck_assert_int_eq(shadow_layout_solve(&with, store, 8, SHADOW_JOURNAL_BLOCKS), 0);
		ck_assert_int_eq(shadow_layout_solve(&without, store, 8, 0), 0);
		ck_assert_uint_eq(with.nr_data_chunks, n);
		ck_assert_uint_ge(without.nr_data_chunks, n);
		ck_assert_uint_le(without.nr_data_chunks, n + SHADOW_JOURNAL_BLOCKS);
	}
}
END_TEST

/* The tools' constant-time solver agrees with the header's computation. */
START_TEST(test_solve_matches_compute)
{
	static const uint32_t chunks[] = { 8, 32, 2048 };
	uint32_t j = journals[_i];

	for (size_t c = 0; c < 3; c++)
		for (uint64_t store = 1; store < (1ULL << 32); store = store * 3 / 2 + 1) {
			struct shadow_layout a, b;
			int ra = shadow_layout_compute(&a, store, chunks[c], j);
			int rb = shadow_layout_solve(&b, store, chunks[c], j);

			ck_assert_int_eq(ra, rb);
			if (ra < 0)
				continue;
			ck_assert_uint_eq(a.metadata_blocks, b.metadata_blocks);
			ck_assert_uint_eq(a.data_start, b.data_start);
			ck_assert_uint_eq(a.nr_data_chunks, b.nr_data_chunks);
			assert_layout_sane(&b, store, chunks[c], j);
		}
}
END_TEST

/* The metadata area stops growing at what the metadata space map can index. */
START_TEST(test_large_store)
{
	struct shadow_layout l;
	uint64_t store = (64ULL << 40) / 512;	/* 64 TiB, 4 KiB chunks */
	uint32_t j = journals[_i];

	ck_assert_int_eq(shadow_layout_solve(&l, store, 8, j), 0);
	ck_assert_uint_eq(l.metadata_blocks, SHADOW_MAX_METADATA_BLOCKS);
	assert_layout_sane(&l, store, 8, j);
	ck_assert_int_eq(shadow_layout_solve(&l, SHADOW_MAX_SECTORS, 8, j), 0);
	assert_layout_sane(&l, SHADOW_MAX_SECTORS, 8, j);
	ck_assert_int_eq(shadow_layout_solve(&l, SHADOW_MAX_SECTORS + 1, 8, j), -1);
	ck_assert_int_eq(shadow_layout_solve(&l, UINT64_MAX, 2048, j), -1);
}
END_TEST

/* A new superblock has the journal: its bit, and the ring in its layout. */
START_TEST(test_init_geometry_journal)
{
	struct shadow_superblock sb = {
		.chunk_sectors = 8,
		.origin_sectors = 1 << 20,
		.store_sectors = 1 << 18,
	};
	struct shadow_layout l;

	ck_assert_int_eq(shadow_sb_init_geometry(&sb), 0);
	ck_assert_uint_eq(sb.incompat_flags, SHADOW_FEATURE_INCOMPAT_JOURNAL);
	ck_assert_int_eq(shadow_layout_solve(&l, sb.store_sectors, 8, SHADOW_JOURNAL_BLOCKS), 0);
	ck_assert_uint_eq(sb.metadata_blocks, l.metadata_blocks);
	ck_assert_uint_eq(sb.data_start, l.data_start);
	ck_assert_uint_eq(sb.nr_data_chunks, l.nr_data_chunks);
	ck_assert_uint_eq(shadow_journal_blocks(&sb), SHADOW_JOURNAL_BLOCKS);
	ck_assert_uint_eq(shadow_journal_start(&sb), sb.metadata_blocks - SHADOW_JOURNAL_BLOCKS);
	/* Without the bit: no ring, the trees may use the whole area. */
	sb.incompat_flags = SHADOW_FEATURE_INCOMPAT_REVERT;
	ck_assert_uint_eq(shadow_journal_blocks(&sb), 0);
	ck_assert_uint_eq(shadow_journal_start(&sb), sb.metadata_blocks);
}
END_TEST

/*
 * A clone store's layout: the whole store, rounded down to a chunk, is
 * metadata (capped at what the metadata space map manages), data_start
 * its end, no data chunks; it needs the superblock, one commit's 64
 * blocks and the ring.
 */
START_TEST(test_clone_layout)
{
	uint32_t j = journals[_i];
	uint64_t min = (1 + 64 + j) * SHADOW_MD_BLOCK_SECTORS;
	struct shadow_layout l;

	ck_assert_int_eq(shadow_layout_compute_clone(&l, min - 1, 8, j), -1);
	ck_assert_int_eq(shadow_layout_compute_clone(&l, min, 8, j), 0);
	ck_assert_uint_eq(l.metadata_blocks, 1 + 64 + j);
	ck_assert_uint_eq(l.data_start, min);
	ck_assert_uint_eq(l.nr_data_chunks, 0);
	ck_assert_int_eq(shadow_layout_compute_clone(&l, min, 0, j), -1);

	/* Rounded down to a chunk: 64 KiB chunks leave a partial one out. */
	ck_assert_int_eq(shadow_layout_compute_clone(&l, 4096 + 127, 128, j), 0);
	ck_assert_uint_eq(l.metadata_blocks, 4096 / 8);
	ck_assert_uint_eq(l.data_start, 4096);
	/* Rounding may take it below the minimum: not one 1 MiB chunk here. */
	ck_assert_uint_gt(2047, min);
	ck_assert_int_eq(shadow_layout_compute_clone(&l, 2047, 8, j), 0);
	ck_assert_int_eq(shadow_layout_compute_clone(&l, 2047, 2048, j), -1);

	/* Capped at the metadata space map's reach; beyond any device, refused. */
	ck_assert_int_eq(shadow_layout_compute_clone(&l, (64ULL << 40) / 512, 8, j), 0);
	ck_assert_uint_eq(l.metadata_blocks, SHADOW_MAX_METADATA_BLOCKS);
	ck_assert_uint_eq(l.data_start, SHADOW_MAX_METADATA_BLOCKS * SHADOW_MD_BLOCK_SECTORS);
	ck_assert_uint_eq(l.nr_data_chunks, 0);
	ck_assert_int_eq(shadow_layout_compute_clone(&l, SHADOW_MAX_SECTORS, 2048, j), 0);
	ck_assert_int_eq(shadow_layout_compute_clone(&l, SHADOW_MAX_SECTORS + 1, 8, j), -1);
	ck_assert_int_eq(shadow_layout_compute_clone(&l, UINT64_MAX, 8, j), -1);
}
END_TEST

/* shadow_layout_compute_type(): the clone layout for a clone store only. */
START_TEST(test_layout_by_type)
{
	struct shadow_layout a, b;
	uint64_t store = 1 << 16;

	ck_assert_int_eq(shadow_layout_compute_type(&a, SHADOW_STORE_CLONE, store, 8,
						    SHADOW_JOURNAL_BLOCKS), 0);
	ck_assert_int_eq(shadow_layout_compute_clone(&b, store, 8, SHADOW_JOURNAL_BLOCKS), 0);
	ck_assert_uint_eq(a.metadata_blocks, b.metadata_blocks);
	ck_assert_uint_eq(a.nr_data_chunks, 0);
	ck_assert_int_eq(shadow_layout_compute_type(&a, SHADOW_STORE_ROW, store, 8,
						    SHADOW_JOURNAL_BLOCKS), 0);
	ck_assert_int_eq(shadow_layout_compute(&b, store, 8, SHADOW_JOURNAL_BLOCKS), 0);
	ck_assert_uint_eq(a.metadata_blocks, b.metadata_blocks);
	ck_assert_uint_eq(a.nr_data_chunks, b.nr_data_chunks);
	ck_assert_uint_gt(a.nr_data_chunks, 0);
	ck_assert_int_eq(shadow_layout_compute_type(&a, SHADOW_STORE_COW, store, 8,
						    SHADOW_JOURNAL_BLOCKS), 0);
	ck_assert_uint_eq(a.nr_data_chunks, b.nr_data_chunks);
}
END_TEST

/*
 * A new clone store's superblock: both bits, the clone layout, and an
 * origin a bitset can index (2^32 - 1 chunks at most).
 */
START_TEST(test_init_geometry_clone)
{
	struct shadow_superblock sb = {
		.store_type = SHADOW_STORE_CLONE,
		.chunk_sectors = 8,
		.origin_sectors = SHADOW_MAX_CLONE_CHUNKS * 8,
		.store_sectors = 1 << 14,
	};
	struct shadow_layout l;

	ck_assert_int_eq(shadow_sb_init_geometry(&sb), 0);
	ck_assert_uint_eq(sb.incompat_flags, SHADOW_FEATURE_INCOMPAT_JOURNAL |
			  SHADOW_FEATURE_INCOMPAT_CLONE);
	ck_assert_uint_eq(sb.nr_origin_chunks, SHADOW_MAX_CLONE_CHUNKS);
	ck_assert_int_eq(shadow_layout_compute_clone(&l, sb.store_sectors, 8, SHADOW_JOURNAL_BLOCKS), 0);
	ck_assert_uint_eq(sb.metadata_blocks, l.metadata_blocks);
	ck_assert_uint_eq(sb.metadata_blocks, 2048);
	ck_assert_uint_eq(sb.data_start, l.data_start);
	ck_assert_uint_eq(sb.nr_data_chunks, 0);

	sb.incompat_flags = 0;
	sb.origin_sectors += 8;
	ck_assert_int_eq(shadow_sb_init_geometry(&sb), -EINVAL);
	sb.origin_sectors = 1 << 20;
	sb.store_sectors = (1 + 64 + SHADOW_JOURNAL_BLOCKS) * 8 - 8;
	ck_assert_int_eq(shadow_sb_init_geometry(&sb), -ENOSPC);
	/* The same origin is no limit for a cow store. */
	sb.store_type = SHADOW_STORE_COW;
	sb.store_sectors = 1 << 14;
	sb.origin_sectors = (SHADOW_MAX_CLONE_CHUNKS + 1) * 8;
	ck_assert_int_eq(shadow_sb_init_geometry(&sb), 0);
	ck_assert(!(sb.incompat_flags & SHADOW_FEATURE_INCOMPAT_CLONE));
}
END_TEST

Suite *suite_layout(void)
{
	Suite *s = suite_create("layout");
	TCase *tc = tcase_create("layout");

	/* Each loop test runs once with the journal, once without. */
	tcase_add_loop_test(tc, test_too_small, 0, 2);
	tcase_add_test(tc, test_min_sectors);
	tcase_add_test(tc, test_min_clone_store);
	tcase_add_loop_test(tc, test_exact_fit, 0, 2);
	tcase_add_test(tc, test_journal_blocks);
	tcase_add_loop_test(tc, test_solve_matches_compute, 0, 2);
	tcase_add_loop_test(tc, test_large_store, 0, 2);
	tcase_add_test(tc, test_init_geometry_journal);
	tcase_add_loop_test(tc, test_clone_layout, 0, 2);
	tcase_add_test(tc, test_layout_by_type);
	tcase_add_test(tc, test_init_geometry_clone);
	suite_add_tcase(s, tc);
	return s;
}
