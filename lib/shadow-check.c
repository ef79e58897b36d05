/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "shadow-check.h"

/* Individual messages past this many are counted, not reported. */
#define MAX_REPORTED 100

enum {
	MARK_NONE = 0,
	MARK_USED,
	MARK_FREE,
	MARK_BAD,		/* in a record block that failed verification */
};

struct checker {
	struct shadow_store *store;
	const struct shadow_superblock *sb;
	shadow_problem_fn fn;
	void *userdata;
	struct shadow_check_result res;
	struct shadow_record *recs;	/* high_water entries */
	uint8_t *mark;			/* high_water entries */
	uint64_t *seqs;			/* sorted seqs of live snapshots */
	size_t nr_seqs;
};

static void _printf_(2, 3) problem(struct checker *c, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	c->res.problems++;
	if (!c->fn)
		return;
	if (c->res.problems > MAX_REPORTED) {
		if (c->res.problems == MAX_REPORTED + 1)
			c->fn(c->userdata, "more problems found; only the first 100 are shown");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->fn(c->userdata, msg);
}

/* Read and verify one block; 0 ok, 1 unwritten (zeroed), -EBADMSG bad. */
static int check_block(struct checker *c, uint64_t blocknr, uint32_t type,
		       void *buf)
{
	struct shadow_error err = {};
	int r;

	r = shadow_store_read_block(c->store, blocknr, type, buf, &err);
	if (r == 1) {
		c->res.unwritten_blocks++;
		return 1;
	}
	if (r == -EBADMSG) {
		c->res.bad_blocks++;
		problem(c, "%s", err.msg);
		return r;
	}
	return r;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool seq_is_live(struct checker *c, uint64_t seq)
{
	return bsearch(&seq, c->seqs, c->nr_seqs, sizeof(seq), cmp_u64);
}

static int check_snapshots(struct checker *c)
{
	uint8_t block[SHADOW_BLOCK_SIZE];
	uint32_t n = c->sb->max_snapshots;

	c->seqs = calloc(n, sizeof(*c->seqs));
	if (!c->seqs)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i += SHADOW_SNAPS_PER_BLOCK) {
		uint64_t b = c->sb->snap_table_start + i / SHADOW_SNAPS_PER_BLOCK;
		int r = check_block(c, b, SHADOW_BLOCK_SNAP, block);

		if (r == -EBADMSG || r == 1)
			continue;
		if (r < 0)
			return r;
		for (uint32_t k = 0; k < SHADOW_SNAPS_PER_BLOCK && i + k < n; k++) {
			struct shadow_snapshot s;

			shadow_snap_decode(block, k, &s);
			if (s.state == SHADOW_SNAP_FREE)
				continue;
			if (!shadow_snap_state_name(s.state)) {
				problem(c, "snapshot slot %u has unknown state %u", i + k, s.state);
				continue;
			}
			c->res.snapshots++;
			if (s.flags & ~(SHADOW_SNAPF_SEALED | SHADOW_SNAPF_WRITTEN))
				problem(c, "snapshot slot %u (id %" PRIu64 ") has unknown flags 0x%x",
					i + k, s.id, s.flags);
			if (s.seq == 0 || s.seq > c->sb->last_seq)
				problem(c, "snapshot slot %u (id %" PRIu64 ") has seq %" PRIu64 " outside 1..last_seq %" PRIu64,
					i + k, s.id, s.seq, c->sb->last_seq);
			c->seqs[c->nr_seqs++] = s.seq;
		}
	}
	qsort(c->seqs, c->nr_seqs, sizeof(*c->seqs), cmp_u64);
	for (size_t i = 1; i < c->nr_seqs; i++)
		if (c->seqs[i] == c->seqs[i - 1])
			problem(c, "two snapshots share seq %" PRIu64, c->seqs[i]);
	return 0;
}

static int load_records(struct checker *c)
{
	uint8_t block[SHADOW_BLOCK_SIZE];
	uint64_t n = c->sb->high_water;

	if (n == 0)
		return 0;
	c->recs = calloc(n, sizeof(*c->recs));
	c->mark = calloc(n, 1);
	if (!c->recs || !c->mark)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i += SHADOW_RECORDS_PER_BLOCK) {
		uint64_t b = c->sb->record_start + i / SHADOW_RECORDS_PER_BLOCK;
		int r = check_block(c, b, SHADOW_BLOCK_RECORD, block);

		if (r == -EBADMSG) {
			for (uint64_t k = 0; k < SHADOW_RECORDS_PER_BLOCK && i + k < n; k++)
				c->mark[i + k] = MARK_BAD;
			continue;
		}
		if (r < 0)
			return r;
		/* An unwritten block decodes as zeroed (unused) records. */
		for (uint64_t k = 0; k < SHADOW_RECORDS_PER_BLOCK && i + k < n; k++)
			shadow_record_decode(block, (unsigned int)k, &c->recs[i + k]);
	}
	return 0;
}

static void walk_chain(struct checker *c, uint64_t chunk, uint64_t head)
{
	uint64_t prev_shared = UINT64_MAX, link = head, from = 0;

	c->res.chains++;
	while (link) {
		uint64_t n = link - 1;
		const struct shadow_record *rec;

		if (n >= c->sb->high_water) {
			problem(c, "chain of origin chunk %" PRIu64 ": %s points to record %" PRIu64 " at or beyond high_water %" PRIu64,
				chunk, from ? "a record" : "the index", n, c->sb->high_water);
			return;
		}
		if (c->mark[n] == MARK_BAD)
			return;		/* its block was reported already */
		if (c->mark[n] == MARK_USED) {
			problem(c, "record %" PRIu64 " is reachable twice (again from the chain of origin chunk %" PRIu64 ")",
				n, chunk);
			return;
		}
		c->mark[n] = MARK_USED;
		c->res.used++;
		rec = &c->recs[n];
		if (!(rec->flags & SHADOW_REC_USED))
			problem(c, "record %" PRIu64 " in the chain of origin chunk %" PRIu64 " is not marked USED",
				n, chunk);
		if (rec->flags & ~(SHADOW_REC_USED | SHADOW_REC_PRIVATE))
			problem(c, "record %" PRIu64 " has unknown flags 0x%x", n, rec->flags);
		if (rec->origin_chunk != chunk)
			problem(c, "record %" PRIu64 " in the chain of origin chunk %" PRIu64 " says origin chunk %" PRIu64,
				n, chunk, rec->origin_chunk);
		if (rec->flags & SHADOW_REC_PRIVATE) {
			if (!seq_is_live(c, rec->seq))
				problem(c, "private record %" PRIu64 " (origin chunk %" PRIu64 ") belongs to seq %" PRIu64 ", which no snapshot in the table has",
					n, chunk, rec->seq);
		} else {
			if (rec->seq == 0 || rec->seq > c->sb->last_seq)
				problem(c, "record %" PRIu64 " (origin chunk %" PRIu64 ") has seq %" PRIu64 " outside 1..last_seq %" PRIu64,
					n, chunk, rec->seq, c->sb->last_seq);
			if (prev_shared != UINT64_MAX && rec->seq >= prev_shared)
				problem(c, "chain of origin chunk %" PRIu64 " is not newest first: record %" PRIu64 " has seq %" PRIu64 " after seq %" PRIu64,
					chunk, n, rec->seq, prev_shared);
			prev_shared = rec->seq;
		}
		from = link;
		link = rec->next;
	}
}

static int check_index(struct checker *c)
{
	uint8_t block[SHADOW_BLOCK_SIZE];
	uint64_t nchunks = c->sb->nr_origin_chunks;

	for (uint64_t b = 0; b < c->sb->index_blocks; b++) {
		uint64_t first = b * SHADOW_INDEX_PER_BLOCK;
		int r = check_block(c, c->sb->index_start + b, SHADOW_BLOCK_INDEX, block);

		if (r == -EBADMSG || r == 1)
			continue;
		if (r < 0)
			return r;
		for (unsigned int k = 0; k < SHADOW_INDEX_PER_BLOCK; k++) {
			uint64_t head = shadow_index_decode(block, k);

			if (!head)
				continue;
			if (first + k >= nchunks) {
				problem(c, "index entry %" PRIu64 " beyond the %" PRIu64 " origin chunks is set",
					first + k, nchunks);
				continue;
			}
			walk_chain(c, first + k, head);
		}
	}
	return 0;
}

static void check_free_list(struct checker *c)
{
	uint64_t link = c->sb->free_head, count = 0;

	while (link) {
		uint64_t n = link - 1;

		if (n >= c->sb->high_water) {
			problem(c, "free list points to record %" PRIu64 " at or beyond high_water %" PRIu64,
				n, c->sb->high_water);
			break;
		}
		if (c->mark[n] == MARK_BAD)
			break;
		if (c->mark[n] == MARK_USED) {
			problem(c, "record %" PRIu64 " is both reachable from the index and on the free list", n);
			break;
		}
		if (c->mark[n] == MARK_FREE) {
			problem(c, "free list loops back to record %" PRIu64, n);
			break;
		}
		c->mark[n] = MARK_FREE;
		count++;
		if (c->recs[n].flags & SHADOW_REC_USED)
			problem(c, "free record %" PRIu64 " is marked USED", n);
		link = c->recs[n].next;
	}
	c->res.free = count;
	if (count != c->sb->free_count)
		problem(c, "free list holds %" PRIu64 " records, superblock free_count says %" PRIu64,
			count, c->sb->free_count);
}

static void count_leaked(struct checker *c)
{
	uint64_t first = UINT64_MAX;

	for (uint64_t n = 0; n < c->sb->high_water; n++) {
		if (c->mark[n] != MARK_NONE)
			continue;
		if (first == UINT64_MAX)
			first = n;
		c->res.leaked++;
	}
	if (c->res.leaked)
		problem(c, "%" PRIu64 " records below high_water are neither reachable nor free (leaked), the first is record %" PRIu64,
			c->res.leaked, first);
}

int shadow_store_check(struct shadow_store *s, shadow_problem_fn fn,
		       void *userdata, struct shadow_check_result *ret)
{
	struct checker c = {
		.store = s,
		.sb = shadow_store_sb(s),
		.fn = fn,
		.userdata = userdata,
	};
	int r;

	c.res.unallocated = c.sb->nr_data_chunks - c.sb->high_water;
	r = check_snapshots(&c);
	if (r >= 0)
		r = load_records(&c);
	if (r >= 0)
		r = check_index(&c);
	if (r >= 0) {
		if (c.sb->high_water) {
			check_free_list(&c);
			count_leaked(&c);
		}
		*ret = c.res;
	}
	free(c.recs);
	free(c.mark);
	free(c.seqs);
	return r < 0 ? r : 0;
}
