/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "shadow-format.h"
#include "unit.h"

static void assert_layout_sane(const struct shadow_layout *l, uint64_t store,
			       uint64_t origin_chunks, uint32_t chunk,
			       uint32_t max_snaps)
{
	uint64_t used;

	ck_assert_uint_eq(l->snap_table_start, 1);
	ck_assert_uint_eq(l->snap_table_blocks,
			  (max_snaps + SHADOW_SNAPS_PER_BLOCK - 1) / SHADOW_SNAPS_PER_BLOCK);
	ck_assert_uint_eq(l->index_start, 1 + l->snap_table_blocks);
	ck_assert_uint_ge(l->index_blocks * SHADOW_INDEX_PER_BLOCK, origin_chunks);
	ck_assert_uint_eq(l->record_start, l->index_start + l->index_blocks);
	ck_assert_uint_ge(l->nr_data_chunks, 1);
	ck_assert_uint_ge(l->record_blocks * SHADOW_RECORDS_PER_BLOCK, l->nr_data_chunks);
	ck_assert_uint_lt((l->record_blocks - 1) * SHADOW_RECORDS_PER_BLOCK, l->nr_data_chunks);
	/* Data is chunk aligned and follows the records. */
	ck_assert_uint_eq(l->data_start % chunk, 0);
	ck_assert_uint_ge(l->data_start, l->record_start + l->record_blocks);
	ck_assert_uint_lt(l->data_start - (l->record_start + l->record_blocks), chunk);
	/* Never past the end of the store. */
	used = l->data_start + l->nr_data_chunks * chunk;
	ck_assert_uint_le(used, store);
	/* Maximal: one more chunk does not fit. */
	ck_assert_uint_gt(shadow_layout_sectors(l->record_start, l->nr_data_chunks + 1, chunk),
			  store);
}

START_TEST(test_too_small)
{
	struct shadow_layout l;
	uint64_t rs;

	ck_assert_int_eq(shadow_layout_compute(&l, 0, 16, 8, 16), -1);
	ck_assert_int_eq(shadow_layout_compute(&l, 1, 16, 8, 16), -1);
	/* 16 snapshots: 2 table blocks; 16 chunks: 1 index block. */
	rs = 1 + 2 + 1;
	ck_assert_int_eq(shadow_layout_compute(&l, rs + 8, 16, 8, 16), -1);
	/* Metadata rounded up to a chunk plus one chunk: 8 + 8 sectors. */
	ck_assert_int_eq(shadow_layout_compute(&l, 15, 16, 8, 16), -1);
	ck_assert_int_eq(shadow_layout_compute(&l, 16, 16, 8, 16), 0);
	ck_assert_uint_eq(l.nr_data_chunks, 1);
	ck_assert_uint_eq(l.data_start, 8);
}
END_TEST

START_TEST(test_exact_fit)
{
	static const uint32_t chunks[] = { 8, 16, 128, 2048 };

	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		for (uint64_t n = 1; n < 200; n += 7) {
			struct shadow_layout l;
			uint64_t store;

			ck_assert_int_eq(shadow_layout_compute(&l, 1 << 30, 1000, chunks[c], 100), 0);
			store = shadow_layout_sectors(l.record_start, n, chunks[c]);
			ck_assert_int_eq(shadow_layout_compute(&l, store, 1000, chunks[c], 100), 0);
			ck_assert_uint_eq(l.nr_data_chunks, n);
			ck_assert_uint_eq(l.data_start + n * chunks[c], store);
			assert_layout_sane(&l, store, 1000, chunks[c], 100);
			/* One sector less loses exactly that last chunk. */
			if (n > 1) {
				ck_assert_int_eq(shadow_layout_compute(&l, store - 1, 1000, chunks[c], 100), 0);
				ck_assert_uint_eq(l.nr_data_chunks, n - 1);
			}
		}
	}
}
END_TEST

START_TEST(test_sweep)
{
	static const uint32_t chunks[] = { 8, 32, 2048 };
	static const uint64_t origins[] = { 1, 61, 62, 63, 100000 };
	static const uint32_t snaps[] = { 1, 15, 16, SHADOW_MAX_SNAPSHOTS };

	for (size_t c = 0; c < 3; c++)
		for (size_t o = 0; o < 5; o++)
			for (size_t s = 0; s < 4; s++)
				for (uint64_t store = 1; store < 40000; store = store * 3 / 2 + 1) {
					struct shadow_layout l;

					if (shadow_layout_compute(&l, store, origins[o], chunks[c], snaps[s]) < 0) {
						/* Too small means not even one chunk fits. */
						ck_assert_uint_gt(shadow_layout_sectors(l.record_start, 1, chunks[c]),
								  store);
						continue;
					}
					assert_layout_sane(&l, store, origins[o], chunks[c], snaps[s]);
				}
}
END_TEST

START_TEST(test_large_store)
{
	struct shadow_layout l;
	/* 64 TiB origin, 1 TiB store, 4 KiB chunks, the most snapshots. */
	uint64_t origin_chunks = (64ULL << 40) / 4096, store = (1ULL << 40) / 512;

	ck_assert_int_eq(shadow_layout_compute(&l, store, origin_chunks, 8, SHADOW_MAX_SNAPSHOTS), 0);
	ck_assert_uint_eq(l.snap_table_blocks, 546);
	assert_layout_sane(&l, store, origin_chunks, 8, SHADOW_MAX_SNAPSHOTS);
}
END_TEST

Suite *suite_layout(void)
{
	Suite *s = suite_create("layout");
	TCase *tc = tcase_create("layout");

	tcase_add_test(tc, test_too_small);
	tcase_add_test(tc, test_exact_fit);
	tcase_add_test(tc, test_sweep);
	tcase_add_test(tc, test_large_store);
	suite_add_tcase(s, tc);
	return s;
}
