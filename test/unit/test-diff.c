// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Changed-block tracking (lib/format/shadow-diff.c) against a model of the cow
 * store: random histories of snapshots, deletes and writes, copies made
 * and reclaimed by the kernel's rules, and for every pair of snapshots
 * (and each snapshot with the live volume) the diff must be exactly the
 * chunks whose contents the model says differ.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shadow-diff.h"
#include "unit.h"

#define NR_CHUNKS	48
#define MAX_SNAPS	12
#define MAX_COPIES	(NR_CHUNKS * 64)

/* Collects the runs passed on, as a bitmap of chunks. */
struct runs {
	bool changed[NR_CHUNKS + 8];
	uint64_t last_end;
	int nr_runs;
	bool ordered;
};

static int collect(void *userdata, uint64_t first, uint64_t n)
{
	struct runs *r = userdata;

	/* Runs are ascending, disjoint and not adjacent (they are merged). */
	if (r->nr_runs && first <= r->last_end)
		r->ordered = false;
	for (uint64_t c = first; c < first + n; c++)
		r->changed[c] = true;
	r->last_end = first + n;
	r->nr_runs++;
	return 0;
}

START_TEST(test_diff_basic)
{
	struct shadow_diff d;
	struct runs r = { .ordered = true };

	/* A = 2, B = 5.  Chunk 1: copy tagged 1 only (written before A). */
	shadow_diff_init(&d, 5, 2, NULL, 0, collect, &r);
	ck_assert_int_eq(shadow_diff_feed(&d, 1, 1), 0);
	/* Chunk 2: tagged 3: written between A and B. */
	ck_assert_int_eq(shadow_diff_feed(&d, 2, 3), 0);
	/* Chunk 3: tagged 1 then 2: changed between A and B? 2 < 5: yes. */
	ck_assert_int_eq(shadow_diff_feed(&d, 3, 1), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 3, 2), 0);
	/* Chunk 4: tagged 5 and 7: written after B only. */
	ck_assert_int_eq(shadow_diff_feed(&d, 4, 5), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 4, 7), 0);
	/* Chunk 6: tagged 4 then 9: the first at or after A decides. */
	ck_assert_int_eq(shadow_diff_feed(&d, 6, 4), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 6, 9), 0);
	ck_assert_int_eq(shadow_diff_finish(&d), 0);
	ck_assert(!r.changed[1] && r.changed[2] && r.changed[3] && !r.changed[4] &&
		  r.changed[6]);
	ck_assert_int_eq(r.nr_runs, 2);		/* 2-3 and 6 */
	ck_assert_uint_eq(d.nr_changed, 3);
	ck_assert(r.ordered);
}
END_TEST

START_TEST(test_diff_live_and_extra)
{
	static const uint64_t extra[] = { 0, 4, 5, 9 };
	struct shadow_diff d;
	struct runs r = { .ordered = true };

	shadow_diff_init(&d, 3, SHADOW_DIFF_LIVE, extra, 4, collect, &r);
	ck_assert_int_eq(shadow_diff_feed(&d, 2, 2), 0);	/* before A */
	ck_assert_int_eq(shadow_diff_feed(&d, 4, 3), 0);	/* also extra */
	ck_assert_int_eq(shadow_diff_feed(&d, 6, 8), 0);
	ck_assert_int_eq(shadow_diff_finish(&d), 0);
	ck_assert(r.changed[0] && !r.changed[2] && r.changed[4] && r.changed[5] &&
		  r.changed[6] && r.changed[9] && !r.changed[7]);
	ck_assert_int_eq(r.nr_runs, 3);		/* 0, 4-6, 9 */
	ck_assert_uint_eq(d.nr_changed, 5);
	ck_assert(r.ordered);
}
END_TEST

START_TEST(test_diff_same_and_order)
{
	struct shadow_diff d;
	struct runs r = { .ordered = true };

	shadow_diff_init(&d, 4, 4, NULL, 0, collect, &r);
	ck_assert_int_eq(shadow_diff_feed(&d, 1, 4), 0);
	ck_assert_int_eq(shadow_diff_finish(&d), 0);
	ck_assert_int_eq(r.nr_runs, 0);
	shadow_diff_init(&d, 1, 2, NULL, 0, collect, &r);
	ck_assert_int_eq(shadow_diff_feed(&d, 5, 1), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 3, 1), -EINVAL);
}
END_TEST

/* The model: contents as version numbers, copies as the kernel makes them. */
struct model {
	unsigned int live[NR_CHUNKS];
	struct {
		bool exists;
		uint64_t seq;
		unsigned int v[NR_CHUNKS];
	} snap[MAX_SNAPS];
	uint64_t last_seq;
	struct {
		uint64_t chunk, tag;
	} copy[MAX_COPIES];
	size_t nr_copies;
};

static uint64_t newest_seq(const struct model *m)
{
	uint64_t s = 0;

	for (int i = 0; i < MAX_SNAPS; i++)
		if (m->snap[i].exists && m->snap[i].seq > s)
			s = m->snap[i].seq;
	return s;
}

static bool has_copy_at_or_after(const struct model *m, uint64_t c, uint64_t t)
{
	for (size_t i = 0; i < m->nr_copies; i++)
		if (m->copy[i].chunk == c && m->copy[i].tag >= t)
			return true;
	return false;
}

static void model_write(struct model *m, uint64_t c)
{
	uint64_t t = newest_seq(m);

	if (t && !has_copy_at_or_after(m, c, t)) {
		ck_assert_uint_lt(m->nr_copies, MAX_COPIES);
		m->copy[m->nr_copies].chunk = c;
		m->copy[m->nr_copies].tag = t;
		m->nr_copies++;
	}
	m->live[c]++;
}

/* A copy serves the snapshots from the chunk's previous copy's tag up. */
static bool copy_needed(const struct model *m, size_t k)
{
	uint64_t prev = 0;

	for (size_t i = 0; i < m->nr_copies; i++)
		if (m->copy[i].chunk == m->copy[k].chunk &&
		    m->copy[i].tag < m->copy[k].tag && m->copy[i].tag > prev)
			prev = m->copy[i].tag;
	for (int i = 0; i < MAX_SNAPS; i++)
		if (m->snap[i].exists && m->snap[i].seq > prev &&
		    m->snap[i].seq <= m->copy[k].tag)
			return true;
	return false;
}

static void model_delete(struct model *m, int i)
{
	size_t k = 0;

	m->snap[i].exists = false;
	/* Reclaim until nothing more goes (one removal can free another). */
	while (k < m->nr_copies) {
		if (copy_needed(m, k)) {
			k++;
			continue;
		}
		m->copy[k] = m->copy[--m->nr_copies];
		k = 0;
	}
}

static int cmp_copy(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

static void check_pair(struct model *m, int ia, int ib)
{
	const unsigned int *va = m->snap[ia].v;
	const unsigned int *vb = ib < 0 ? m->live : m->snap[ib].v;
	uint64_t sb = ib < 0 ? SHADOW_DIFF_LIVE : m->snap[ib].seq;
	struct runs r = { .ordered = true };
	struct shadow_diff d;

	qsort(m->copy, m->nr_copies, sizeof(m->copy[0]), cmp_copy);
	shadow_diff_init(&d, m->snap[ia].seq, sb, NULL, 0, collect, &r);
	for (size_t i = 0; i < m->nr_copies; i++)
		ck_assert_int_eq(shadow_diff_feed(&d, m->copy[i].chunk, m->copy[i].tag), 0);
	ck_assert_int_eq(shadow_diff_finish(&d), 0);
	ck_assert(r.ordered);
	for (int c = 0; c < NR_CHUNKS; c++)
		ck_assert_msg(r.changed[c] == (va[c] != vb[c]),
			      "chunk %d: diff of seq %llu and %llu says %s", c,
			      (unsigned long long)m->snap[ia].seq,
			      (unsigned long long)sb,
			      r.changed[c] ? "changed" : "same");
}

START_TEST(test_diff_model)
{
	static struct model m;

	srand(20261203 + _i);
	memset(&m, 0, sizeof(m));
	for (int step = 0; step < 400; step++) {
		int op = rand() % 100, i = rand() % MAX_SNAPS;

		if (op < 8 && !m.snap[i].exists) {
			m.snap[i].exists = true;
			m.snap[i].seq = ++m.last_seq;
			memcpy(m.snap[i].v, m.live, sizeof(m.live));
		} else if (op < 12 && m.snap[i].exists) {
			model_delete(&m, i);
		} else {
			model_write(&m, rand() % NR_CHUNKS);
		}
		if (step % 20)
			continue;
		for (int a = 0; a < MAX_SNAPS; a++) {
			if (!m.snap[a].exists)
				continue;
			check_pair(&m, a, -1);
			for (int b = 0; b < MAX_SNAPS; b++)
				if (m.snap[b].exists)
					check_pair(&m, a, b);
		}
	}
}
END_TEST

Suite *suite_diff(void)
{
	Suite *s = suite_create("diff");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_diff_basic);
	tcase_add_test(tc, test_diff_live_and_extra);
	tcase_add_test(tc, test_diff_same_and_order);
	tcase_add_loop_test(tc, test_diff_model, 0, 20);
	suite_add_tcase(s, tc);
	return s;
}
