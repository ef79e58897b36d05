// SPDX-License-Identifier: LGPL-2.1-or-later
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "shadow-diff.h"
#include "shadow-vec.h"

void shadow_diff_init(struct shadow_diff *d, uint64_t seq_a, uint64_t seq_b,
		      const uint64_t *extra, size_t nr_extra,
		      shadow_diff_fn fn, void *userdata)
{
	*d = (struct shadow_diff) {
		.seq_from = seq_a < seq_b ? seq_a : seq_b,
		.seq_to = seq_a < seq_b ? seq_b : seq_a,
		.fn = fn,
		.userdata = userdata,
		.extra = extra,
		.nr_extra = nr_extra,
	};
}

void shadow_diff_skip_dead(struct shadow_diff *d, uint64_t from, uint64_t below)
{
	d->dead_from = from;
	d->dead_below = below;
}

static int flush_run(struct shadow_diff *d)
{
	uint64_t first = d->run_first, len = d->run_len;

	if (!len)
		return 0;
	d->run_len = 0;
	d->nr_changed += len;
	return d->fn(d->userdata, first, len);
}

/* Add one changed chunk, in ascending order, to the run or a new one. */
static int add_chunk(struct shadow_diff *d, uint64_t chunk)
{
	int r;

	if (d->run_len && chunk == d->run_first + d->run_len) {
		d->run_len++;
		return 0;
	}
	if (d->run_len && chunk < d->run_first + d->run_len)
		return 0;	/* already in the run (an extra chunk too) */
	r = flush_run(d);
	d->run_first = chunk;
	d->run_len = 1;
	return r;
}

/* Pass on the extra chunks below @limit (chunks are below 2^40). */
static int add_extra_below(struct shadow_diff *d, uint64_t limit)
{
	int r;

	while (d->next_extra < d->nr_extra && d->extra[d->next_extra] < limit) {
		r = add_chunk(d, d->extra[d->next_extra++]);
		if (r < 0)
			return r;
	}
	return 0;
}

int shadow_diff_feed(struct shadow_diff *d, uint64_t chunk, uint64_t tag)
{
	int r;

	if (d->in_chunk && chunk < d->chunk)
		return -EINVAL;
	if (!d->in_chunk || chunk != d->chunk) {
		d->chunk = chunk;
		d->in_chunk = true;
		d->decided = false;
	}
	/*
	 * A copy tagged in [seq_from, seq_to) is a write between the two
	 * sides, whatever order a chunk's copies come in: a cow store's
	 * oldest first, a row store's newest first.  A dead version is
	 * read by neither side.
	 */
	if (d->decided || tag < d->seq_from || tag >= d->seq_to ||
	    (tag >= d->dead_from && tag < d->dead_below))
		return 0;
	d->decided = true;
	r = add_extra_below(d, chunk);
	if (r < 0)
		return r;
	return add_chunk(d, chunk);
}

int shadow_diff_finish(struct shadow_diff *d)
{
	int r = add_extra_below(d, UINT64_MAX);

	if (r < 0)
		return r;
	return flush_run(d);
}

/* Store level: resolve the snapshots, collect private chunks, walk. */

static int find_snapshot(const struct shadow_snapshot *snaps, size_t n,
			 uint64_t id, const struct shadow_snapshot **ret,
			 struct shadow_error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (snaps[i].id != id)
			continue;
		if (snaps[i].state != SHADOW_SNAP_VALID) {
			shadow_error_set(err, SHADOW_ERR_STATE,
					 "snapshot %" PRIu64 " is invalid (dropped when the store overflowed): it has no data to compare",
					 id);
			return -ESTALE;
		}
		*ret = &snaps[i];
		return 0;
	}
	shadow_error_set(err, SHADOW_ERR_NONE,
			 "snapshot %" PRIu64 " does not exist in this store", id);
	return -ENOENT;
}

struct private_walk {
	uint64_t seq_a, seq_b;
	struct shadow_vec chunks;	/* uint64_t, ascending, unique */
};

static int collect_private(void *userdata, uint64_t key, const void *value)
{
	struct private_walk *w = userdata;
	uint64_t chunk = shadow_exc_key_chunk(key), seq = shadow_exc_key_seq(key);
	uint64_t *p;

	(void)value;
	if (seq != w->seq_a && seq != w->seq_b)
		return 0;
	/* Keys come by chunk, then owner: a chunk of both A and B is adjacent. */
	if (w->chunks.n && ((uint64_t *)w->chunks.v)[w->chunks.n - 1] == chunk)
		return 0;
	p = shadow_vec_push(&w->chunks);
	if (!p)
		return -ENOMEM;
	*p = chunk;
	return 0;
}

struct exception_walk {
	struct shadow_diff *diff;
	uint32_t store_type;
};

static int feed_exception(void *userdata, uint64_t key, const void *value)
{
	struct exception_walk *w = userdata;

	(void)value;
	return shadow_diff_feed(w->diff, shadow_exc_key_chunk(key),
				shadow_shared_key_tag(w->store_type, key));
}

int shadow_store_diff(struct shadow_store *s, uint64_t id_a, uint64_t id_b,
		      bool b_is_live, shadow_diff_fn fn, void *userdata,
		      uint64_t *ret_changed, struct shadow_error *err)
{
	const struct shadow_superblock *tree_sb = shadow_store_tree_sb(s);
	const struct shadow_snapshot *a, *b = NULL;
	struct shadow_snapshot *snaps = NULL;
	struct private_walk pw = { .chunks.size = sizeof(uint64_t) };
	struct shadow_diff d;
	struct exception_walk ew = {
		.diff = &d,
		.store_type = shadow_store_sb(s)->store_type,
	};
	size_t n = 0;
	int r;

	if (shadow_store_sb(s)->store_type == SHADOW_STORE_CLONE) {
		shadow_error_set(err, SHADOW_ERR_NONE,
				 "a clone store records no writes to compare: each clone is a full copy on its own target");
		return -EOPNOTSUPP;
	}
	r = shadow_store_load_snapshots(s, &snaps, &n, err);
	if (r < 0)
		return r;
	r = find_snapshot(snaps, n, id_a, &a, err);
	if (r == 0 && !b_is_live)
		r = find_snapshot(snaps, n, id_b, &b, err);
	if (r < 0)
		goto out;
	pw.seq_a = a->seq;
	pw.seq_b = b ? b->seq : SHADOW_DIFF_LIVE;
	r = shadow_store_btree_walk(s, shadow_store_tree_sb(s)->private_root, sizeof(uint64_t),
				    collect_private, &pw, err);
	if (r < 0)
		goto out;
	shadow_diff_init(&d, pw.seq_a, pw.seq_b, pw.chunks.v, pw.chunks.n,
			 fn, userdata);
	/* The dead range of the superblock whose trees are read (the held copy's). */
	if (tree_sb->incompat_flags & SHADOW_FEATURE_INCOMPAT_ROW_DROPPED)
		shadow_diff_skip_dead(&d, tree_sb->dropped_from, tree_sb->dropped_below);
	r = shadow_store_btree_walk(s, shadow_store_tree_sb(s)->exception_root, sizeof(uint64_t),
				    feed_exception, &ew, err);
	if (r >= 0)
		r = shadow_diff_finish(&d);
	if (r >= 0 && ret_changed)
		*ret_changed = d.nr_changed;
out:
	free(pw.chunks.v);
	free(snaps);
	return r < 0 ? r : 0;
}
