// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Changed-block tracking (lib/format/shadow-diff.c) against models of the
 * cow and the row store: random histories of snapshots, deletes and
 * writes, copies (versions) made, reclaimed and folded back by the
 * kernel's rules, and for every pair of snapshots (and each snapshot with
 * the live volume) the diff must be exactly the chunks whose contents the
 * model says differ.
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

/*
 * A row store feeds a chunk's versions newest first (its keys hold the
 * tags inverted): the copy that decides is then not the first one fed.
 */
START_TEST(test_diff_newest_first)
{
	struct shadow_diff d;
	struct runs r = { .ordered = true };

	/* A = 2, B = 5. */
	shadow_diff_init(&d, 2, 5, NULL, 0, collect, &r);
	/* Chunk 1: tag 1 only, read by both. */
	ck_assert_int_eq(shadow_diff_feed(&d, 1, 1), 0);
	/* Chunk 2: tags 7 then 3: 3 is a write between A and B. */
	ck_assert_int_eq(shadow_diff_feed(&d, 2, 7), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 2, 3), 0);
	/* Chunk 3: tags 9, 5, 1: written before A and after B only. */
	ck_assert_int_eq(shadow_diff_feed(&d, 3, 9), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 3, 5), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 3, 1), 0);
	/* Chunk 4: tags 6, 4, 2: both 4 and 2 count, once. */
	ck_assert_int_eq(shadow_diff_feed(&d, 4, 6), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 4, 4), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 4, 2), 0);
	ck_assert_int_eq(shadow_diff_finish(&d), 0);
	ck_assert(!r.changed[1] && r.changed[2] && !r.changed[3] && r.changed[4]);
	ck_assert_int_eq(r.nr_runs, 2);		/* 2 and 4 */
	ck_assert_uint_eq(d.nr_changed, 2);
	ck_assert(r.ordered);
}
END_TEST

/*
 * A reverted row store's dead versions (tags in [dropped_from,
 * dropped_below)) are read by no one: left out, a chunk changed when a
 * version that is not dead is tagged in [A, B).
 */
START_TEST(test_diff_skip_dead)
{
	struct shadow_diff d;
	struct runs r = { .ordered = true };

	/* A = 2 (the snapshot reverted to), B = 6; tags 2 and 3 dead, 4 live's since. */
	shadow_diff_init(&d, 2, 6, NULL, 0, collect, &r);
	shadow_diff_skip_dead(&d, 2, 4);
	/* Chunk 1: dead tag 2 only: both read what is below it. */
	ck_assert_int_eq(shadow_diff_feed(&d, 1, 2), 0);
	/* Chunk 2: tags 4 and 3: 4 is a write between A and B. */
	ck_assert_int_eq(shadow_diff_feed(&d, 2, 4), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 2, 3), 0);
	/* Chunk 3: tags 3, 2, 1: all dead but 1, before A. */
	ck_assert_int_eq(shadow_diff_feed(&d, 3, 3), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 3, 2), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 3, 1), 0);
	/* Chunk 4: tags 5 and 2. */
	ck_assert_int_eq(shadow_diff_feed(&d, 4, 5), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 4, 2), 0);
	/* Chunk 6: tags 6 and 3: after B, and dead. */
	ck_assert_int_eq(shadow_diff_feed(&d, 6, 6), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 6, 3), 0);
	ck_assert_int_eq(shadow_diff_finish(&d), 0);
	ck_assert(!r.changed[1] && r.changed[2] && !r.changed[3] && r.changed[4] &&
		  !r.changed[6]);
	ck_assert_uint_eq(d.nr_changed, 2);
	ck_assert(r.ordered);

	/* Against the live volume the same: dead tags never count. */
	memset(&r, 0, sizeof(r));
	r.ordered = true;
	shadow_diff_init(&d, 2, SHADOW_DIFF_LIVE, NULL, 0, collect, &r);
	shadow_diff_skip_dead(&d, 2, 4);
	ck_assert_int_eq(shadow_diff_feed(&d, 1, 3), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 6, 6), 0);
	ck_assert_int_eq(shadow_diff_feed(&d, 6, 3), 0);
	ck_assert_int_eq(shadow_diff_finish(&d), 0);
	ck_assert(!r.changed[1] && r.changed[6]);
	ck_assert_uint_eq(d.nr_changed, 1);
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

/*
 * The row store's model (dm-shadow-row.c): the live volume's writes go
 * to the chunk's newest version while no snapshot is newer than its tag,
 * else to a new version tagged with the newest snapshot's sequence (to
 * the origin while the chunk has no version and there is no snapshot).
 * A snapshot reads the newest version tagged below its sequence, else
 * the origin.  Each version keeps the contents it holds, so the model's
 * reads are checked against what each snapshot saw when it was taken.
 */
struct row_model {
	unsigned int live[NR_CHUNKS], origin[NR_CHUNKS];
	struct {
		bool exists;
		uint64_t seq;
		unsigned int v[NR_CHUNKS];
	} snap[MAX_SNAPS];
	uint64_t last_seq;
	struct {
		uint64_t chunk, tag;
		unsigned int data;
	} ver[MAX_COPIES];
	size_t nr_vers;
};

static uint64_t row_newest_seq(const struct row_model *m)
{
	uint64_t s = 0;

	for (int i = 0; i < MAX_SNAPS; i++)
		if (m->snap[i].exists && m->snap[i].seq > s)
			s = m->snap[i].seq;
	return s;
}

/* The newest version of @c tagged below @below, or -1. */
static long row_find(const struct row_model *m, uint64_t c, uint64_t below)
{
	long k = -1;

	for (size_t i = 0; i < m->nr_vers; i++)
		if (m->ver[i].chunk == c && m->ver[i].tag < below &&
		    (k < 0 || m->ver[i].tag > m->ver[k].tag))
			k = (long)i;
	return k;
}

static unsigned int row_read(const struct row_model *m, uint64_t c, uint64_t below)
{
	long k = row_find(m, c, below);

	return k < 0 ? m->origin[c] : m->ver[k].data;
}

static void row_write(struct row_model *m, uint64_t c)
{
	uint64_t t = row_newest_seq(m);
	long k = row_find(m, c, UINT64_MAX);

	m->live[c]++;
	if (k >= 0 && m->ver[k].tag >= t) {
		m->ver[k].data = m->live[c];
	} else if (k < 0 && !t) {
		m->origin[c] = m->live[c];
	} else {
		ck_assert_uint_lt(m->nr_vers, MAX_COPIES);
		m->ver[m->nr_vers].chunk = c;
		m->ver[m->nr_vers].tag = t;
		m->ver[m->nr_vers].data = m->live[c];
		m->nr_vers++;
	}
}

/* A chunk's newest version, or one a valid snapshot reads. */
static bool row_needed(const struct row_model *m, size_t k)
{
	uint64_t c = m->ver[k].chunk;

	if (row_find(m, c, UINT64_MAX) == (long)k)
		return true;
	for (int i = 0; i < MAX_SNAPS; i++)
		if (m->snap[i].exists && row_find(m, c, m->snap[i].seq) == (long)k)
			return true;
	return false;
}

/*
 * Reclaim what no one reads, then, with @fold, give back to the origin
 * each chunk's newest version that no valid snapshot at or below its tag
 * would miss (row_foldable()).
 */
static void row_delete(struct row_model *m, int i, bool fold)
{
	size_t k = 0;

	m->snap[i].exists = false;
	while (k < m->nr_vers) {
		if (row_needed(m, k)) {
			k++;
			continue;
		}
		m->ver[k] = m->ver[--m->nr_vers];
	}
	for (k = 0; fold && k < m->nr_vers; ) {
		uint64_t c = m->ver[k].chunk, t = m->ver[k].tag;
		bool foldable = row_find(m, c, UINT64_MAX) == (long)k;

		for (int j = 0; j < MAX_SNAPS; j++)
			if (m->snap[j].exists && m->snap[j].seq <= t)
				foldable = false;
		if (!foldable) {
			k++;
			continue;
		}
		m->origin[c] = m->ver[k].data;
		m->ver[k] = m->ver[--m->nr_vers];
		k = 0;
	}
}

/* Versions in key order: by chunk, then by inverted tag. */
static int cmp_version(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] > y[1] ? -1 : x[1] < y[1];
}

static void row_check_pair(struct row_model *m, int ia, int ib)
{
	const unsigned int *va = m->snap[ia].v;
	const unsigned int *vb = ib < 0 ? m->live : m->snap[ib].v;
	uint64_t sb = ib < 0 ? SHADOW_DIFF_LIVE : m->snap[ib].seq;
	uint64_t keys[MAX_COPIES][2];
	struct runs r = { .ordered = true };
	struct shadow_diff d;

	for (size_t i = 0; i < m->nr_vers; i++) {
		keys[i][0] = m->ver[i].chunk;
		keys[i][1] = m->ver[i].tag;
	}
	qsort(keys, m->nr_vers, sizeof(keys[0]), cmp_version);
	shadow_diff_init(&d, m->snap[ia].seq, sb, NULL, 0, collect, &r);
	for (size_t i = 0; i < m->nr_vers; i++)
		ck_assert_int_eq(shadow_diff_feed(&d, keys[i][0], keys[i][1]), 0);
	ck_assert_int_eq(shadow_diff_finish(&d), 0);
	ck_assert(r.ordered);
	for (int c = 0; c < NR_CHUNKS; c++)
		ck_assert_msg(r.changed[c] == (va[c] != vb[c]),
			      "row chunk %d: diff of seq %llu and %llu says %s", c,
			      (unsigned long long)m->snap[ia].seq,
			      (unsigned long long)sb,
			      r.changed[c] ? "changed" : "same");
}

/* The model's reads give what each snapshot and the live volume hold. */
static void row_check_reads(const struct row_model *m)
{
	for (int c = 0; c < NR_CHUNKS; c++) {
		ck_assert_uint_eq(row_read(m, c, UINT64_MAX), m->live[c]);
		for (int i = 0; i < MAX_SNAPS; i++)
			if (m->snap[i].exists)
				ck_assert_uint_eq(row_read(m, c, m->snap[i].seq),
						  m->snap[i].v[c]);
	}
}

START_TEST(test_diff_row_model)
{
	static struct row_model m;

	srand(20261205 + _i);
	memset(&m, 0, sizeof(m));
	for (int step = 0; step < 400; step++) {
		int op = rand() % 100, i = rand() % MAX_SNAPS;

		if (op < 8 && !m.snap[i].exists) {
			m.snap[i].exists = true;
			m.snap[i].seq = ++m.last_seq;
			memcpy(m.snap[i].v, m.live, sizeof(m.live));
		} else if (op < 12 && m.snap[i].exists) {
			row_delete(&m, i, rand() % 2);
		} else {
			row_write(&m, rand() % NR_CHUNKS);
		}
		if (step % 20)
			continue;
		row_check_reads(&m);
		for (int a = 0; a < MAX_SNAPS; a++) {
			if (!m.snap[a].exists)
				continue;
			row_check_pair(&m, a, -1);
			for (int b = 0; b < MAX_SNAPS; b++)
				if (m.snap[b].exists)
					row_check_pair(&m, a, b);
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
	tcase_add_test(tc, test_diff_newest_first);
	tcase_add_test(tc, test_diff_skip_dead);
	tcase_add_loop_test(tc, test_diff_model, 0, 20);
	tcase_add_loop_test(tc, test_diff_row_model, 0, 20);
	suite_add_tcase(s, tc);
	return s;
}
