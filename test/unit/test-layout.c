/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "shadow-format.h"
#include "unit.h"

static void assert_layout_sane(const struct shadow_layout *l, uint64_t store,
			       uint32_t chunk)
{
	ck_assert_uint_ge(l->nr_data_chunks, 1);
	ck_assert_uint_eq(l->metadata_blocks, shadow_layout_md_blocks(l->nr_data_chunks, chunk));
	ck_assert_uint_le(l->metadata_blocks, SHADOW_MAX_METADATA_BLOCKS);
	/* Data is chunk aligned and follows the metadata. */
	ck_assert_uint_eq(l->data_start % chunk, 0);
	ck_assert_uint_ge(l->data_start, l->metadata_blocks * SHADOW_MD_BLOCK_SECTORS);
	ck_assert_uint_lt(l->data_start - l->metadata_blocks * SHADOW_MD_BLOCK_SECTORS, chunk);
	ck_assert_uint_le(l->data_start + l->nr_data_chunks * chunk, store);
	/* Maximal: one more chunk does not fit. */
	ck_assert_uint_gt(shadow_layout_sectors(l->nr_data_chunks + 1, chunk), store);
}

START_TEST(test_too_small)
{
	struct shadow_layout l;
	uint64_t min = shadow_layout_min_sectors(8);

	ck_assert_int_eq(shadow_layout_compute(&l, 0, 8), -1);
	ck_assert_int_eq(shadow_layout_compute(&l, 1, 8), -1);
	ck_assert_int_eq(shadow_layout_compute(&l, 1, 0), -1);
	ck_assert_int_eq(shadow_layout_compute(&l, min - 1, 8), -1);
	ck_assert_int_eq(shadow_layout_solve(&l, min - 1, 8), -1);
	ck_assert_int_eq(shadow_layout_compute(&l, min, 8), 0);
	ck_assert_uint_eq(l.nr_data_chunks, 1);
	ck_assert_int_eq(shadow_layout_solve(&l, min, 8), 0);
	ck_assert_uint_eq(l.nr_data_chunks, 1);
	ck_assert_uint_eq(l.data_start + 8, min);
}
END_TEST

START_TEST(test_exact_fit)
{
	static const uint32_t chunks[] = { 8, 16, 128, 2048 };

	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		for (uint64_t n = 1; n < 200000; n = n * 5 + 3) {
			struct shadow_layout l;
			uint64_t store = shadow_layout_sectors(n, chunks[c]);

			ck_assert_int_eq(shadow_layout_compute(&l, store, chunks[c]), 0);
			ck_assert_uint_eq(l.nr_data_chunks, n);
			ck_assert_uint_eq(l.data_start + n * chunks[c], store);
			assert_layout_sane(&l, store, chunks[c]);
			if (n > 1) {
				ck_assert_int_eq(shadow_layout_compute(&l, store - 1, chunks[c]), 0);
				ck_assert_uint_eq(l.nr_data_chunks, n - 1);
			}
		}
	}
}
END_TEST

/* The tools' constant-time solver agrees with the header's computation. */
START_TEST(test_solve_matches_compute)
{
	static const uint32_t chunks[] = { 8, 32, 2048 };

	for (size_t c = 0; c < 3; c++)
		for (uint64_t store = 1; store < (1ULL << 32); store = store * 3 / 2 + 1) {
			struct shadow_layout a, b;
			int ra = shadow_layout_compute(&a, store, chunks[c]);
			int rb = shadow_layout_solve(&b, store, chunks[c]);

			ck_assert_int_eq(ra, rb);
			if (ra < 0)
				continue;
			ck_assert_uint_eq(a.metadata_blocks, b.metadata_blocks);
			ck_assert_uint_eq(a.data_start, b.data_start);
			ck_assert_uint_eq(a.nr_data_chunks, b.nr_data_chunks);
			assert_layout_sane(&b, store, chunks[c]);
		}
}
END_TEST

/* The metadata area stops growing at what the metadata space map can index. */
START_TEST(test_large_store)
{
	struct shadow_layout l;
	uint64_t store = (64ULL << 40) / 512;	/* 64 TiB, 4 KiB chunks */

	ck_assert_int_eq(shadow_layout_solve(&l, store, 8), 0);
	ck_assert_uint_eq(l.metadata_blocks, SHADOW_MAX_METADATA_BLOCKS);
	assert_layout_sane(&l, store, 8);
	ck_assert_int_eq(shadow_layout_solve(&l, SHADOW_MAX_SECTORS, 8), 0);
	assert_layout_sane(&l, SHADOW_MAX_SECTORS, 8);
	ck_assert_int_eq(shadow_layout_solve(&l, SHADOW_MAX_SECTORS + 1, 8), -1);
	ck_assert_int_eq(shadow_layout_solve(&l, UINT64_MAX, 2048), -1);
}
END_TEST

Suite *suite_layout(void)
{
	Suite *s = suite_create("layout");
	TCase *tc = tcase_create("layout");

	tcase_add_test(tc, test_too_small);
	tcase_add_test(tc, test_exact_fit);
	tcase_add_test(tc, test_solve_matches_compute);
	tcase_add_test(tc, test_large_store);
	suite_add_tcase(s, tc);
	return s;
}
