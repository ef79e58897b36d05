// SPDX-License-Identifier: GPL-2.0-only
/*
 * A clone store's clones in its metadata: the clone tree (id to struct
 * shadow_disk_clone) and each hydrating clone's bitset of copied chunks,
 * a dm-persistent-data bitset (dm_bitset) as dm-era and dm-cache keep.
 *
 * dm_bitset caches one word per struct dm_disk_bitset, which must serve
 * one bitset only: every operation here sets one up on the stack, for the
 * one clone it changes, and flushes it before it returns.
 */
#include "dm-shadow-metadata.h"
#include "dm-shadow-format.h"

#include <linux/bitmap.h>
#include <linux/device-mapper.h>
#include <linux/math64.h>

#include <persistent-data/dm-bitset.h>
#include <persistent-data/dm-btree.h>
#include <persistent-data/dm-space-map.h>
#include <persistent-data/dm-transaction-manager.h>

#include "dm-shadow-md-internal.h"

#define DM_MSG_PREFIX "shadow"

/* A bitset's array block: a 24-byte header, then __le64 words. */
#define CLONE_WORDS_PER_BLOCK	((SHADOW_MD_BLOCK_SIZE - 24) / 8)
/* Entries of the array's btree per node, at least (8-byte keys and values). */
#define CLONE_REFS_PER_NODE	126

struct clone_rec {
	u64 id;
	dm_block_t bitset_root;
	u64 nr_copied;
	u64 target_sectors;
	u32 state;
};

static void clone_rec_to_disk(const struct clone_rec *c,
			      struct shadow_disk_clone *d)
{
	d->id = cpu_to_le64(c->id);
	d->bitset_root = cpu_to_le64(c->bitset_root);
	d->nr_copied = cpu_to_le64(c->nr_copied);
	d->target_sectors = cpu_to_le64(c->target_sectors);
	d->state = cpu_to_le32(c->state);
	d->flags = 0;
}

static void clone_rec_from_disk(const struct shadow_disk_clone *d,
				struct clone_rec *c)
{
	c->id = le64_to_cpu(d->id);
	c->bitset_root = le64_to_cpu(d->bitset_root);
	c->nr_copied = le64_to_cpu(d->nr_copied);
	c->target_sectors = le64_to_cpu(d->target_sectors);
	c->state = le32_to_cpu(d->state);
}

static int clone_rec_get(struct shadow_md *md, u64 id, struct clone_rec *c)
{
	struct shadow_disk_clone d;
	int r;

	r = dm_btree_lookup(&md->clone_info, md->clone_root, &id, &d);
	if (r)
		return r;
	clone_rec_from_disk(&d, c);
	return 0;
}

static int clone_rec_put(struct shadow_md *md, const struct clone_rec *c)
{
	struct shadow_disk_clone d;
	u64 key = c->id;

	clone_rec_to_disk(c, &d);
	__dm_bless_for_disk(&d);
	md->must_commit = true;
	return dm_btree_insert(&md->clone_info, md->clone_root, &key, &d,
			       &md->clone_root);
}

struct clone_walk {
	shadow_md_clone_fn fn;
	void *context;
};

static int clone_leaf(void *context, u64 *keys, void *leaf)
{
	struct clone_walk *w = context;
	struct clone_rec c;
	struct shadow_md_clone mc;

	clone_rec_from_disk(leaf, &c);
	if (c.id != keys[0]) {
		DMERR("clone %llu is filed under id %llu", c.id, keys[0]);
		return -EUCLEAN;
	}
	if ((c.state == SHADOW_CLONE_HYDRATING) != !!c.bitset_root) {
		DMERR("clone %llu: state %u with bitset root %llu", c.id,
		      c.state, (unsigned long long)c.bitset_root);
		return -EUCLEAN;
	}
	mc.id = c.id;
	mc.nr_copied = c.nr_copied;
	mc.target_sectors = c.target_sectors;
	mc.state = c.state;
	return w->fn(w->context, &mc);
}

int shadow_md_clone_walk(struct shadow_md *md, shadow_md_clone_fn fn,
			 void *context)
{
	struct clone_walk w = { .fn = fn, .context = context };
	int r;

	down_read(&md->lock);
	r = dm_btree_walk(&md->clone_info, md->clone_root, clone_leaf, &w);
	up_read(&md->lock);
	return r;
}

/*
 * Metadata blocks one clone's bitset takes once every word was changed:
 * its array blocks and the btree over them.
 */
static u64 clone_bitset_blocks(struct shadow_md *md)
{
	u64 words = DIV_ROUND_UP_ULL(md->nr_origin_chunks, 64);
	u64 ablocks = DIV_ROUND_UP_ULL(words, CLONE_WORDS_PER_BLOCK);

	return ablocks + DIV_ROUND_UP_ULL(ablocks, CLONE_REFS_PER_NODE) + 2;
}

static int clone_count_hydrating(void *context, u64 *keys, void *leaf)
{
	const struct shadow_disk_clone *d = leaf;

	if (le32_to_cpu(d->state) == SHADOW_CLONE_HYDRATING)
		(*(u64 *)context)++;
	return 0;
}

/*
 * Is there room for one more bitset?  Every hydrating clone's may grow to
 * its full size, and a commit may shadow each block once more.
 */
static int clone_check_room(struct shadow_md *md)
{
	dm_block_t nr_free;
	u64 hydrating = 0;
	int r;

	r = dm_btree_walk(&md->clone_info, md->clone_root,
			  clone_count_hydrating, &hydrating);
	if (!r)
		r = dm_sm_get_nr_free(md->metadata_sm, &nr_free);
	if (r)
		return r;
	if (nr_free < 2 * (hydrating + 1) * clone_bitset_blocks(md) + 64)
		return -ENOSPC;
	return 0;
}

int shadow_md_clone_add(struct shadow_md *md, u64 id, u64 target_sectors)
{
	struct dm_disk_bitset info;
	struct clone_rec c = {
		.id = id, .target_sectors = target_sectors,
		.state = SHADOW_CLONE_HYDRATING,
	};
	dm_block_t empty;
	int r;

	down_write(&md->lock);
	r = clone_check_room(md);
	if (r)
		goto out;
	dm_disk_bitset_init(md->tm, &info);
	r = dm_bitset_empty(&info, &empty);
	if (r)
		goto out;
	r = dm_bitset_resize(&info, empty, 0, md->nr_origin_chunks, false,
			     &c.bitset_root);
	if (!r)
		r = clone_rec_put(md, &c);
out:
	up_write(&md->lock);
	return r;
}

int shadow_md_clone_load_bits(struct shadow_md *md, u64 id,
			      unsigned long *bits)
{
	struct dm_bitset_cursor cursor;
	struct dm_disk_bitset info;
	struct clone_rec c;
	u64 i, n = md->nr_origin_chunks;
	int r;

	down_read(&md->lock);
	r = clone_rec_get(md, id, &c);
	if (r || !c.bitset_root)
		goto out;
	dm_disk_bitset_init(md->tm, &info);
	r = dm_bitset_cursor_begin(&info, c.bitset_root, n, &cursor);
	if (r)
		goto out;
	for (i = 0; i < n; i++) {
		if (dm_bitset_cursor_get_value(&cursor))
			__set_bit(i, bits);
		if (i + 1 < n) {
			r = dm_bitset_cursor_next(&cursor);
			if (r)
				break;
		}
	}
	dm_bitset_cursor_end(&cursor);
out:
	up_read(&md->lock);
	return r;
}

int shadow_md_clone_set_bits(struct shadow_md *md, u64 id, const u64 *chunks,
			     unsigned int n)
{
	struct dm_disk_bitset info;
	struct clone_rec c;
	unsigned int i;
	int r;

	down_write(&md->lock);
	r = clone_rec_get(md, id, &c);
	if (!r && !c.bitset_root)
		r = -EINVAL;
	if (r)
		goto out;
	dm_disk_bitset_init(md->tm, &info);
	for (i = 0; i < n && !r; i++)
		r = dm_bitset_set_bit(&info, c.bitset_root, chunks[i],
				      &c.bitset_root);
	if (!r)
		r = dm_bitset_flush(&info, c.bitset_root, &c.bitset_root);
	if (!r) {
		c.nr_copied += n;
		r = clone_rec_put(md, &c);
	}
out:
	up_write(&md->lock);
	return r;
}

/* Clone @id's record in @c, its bitset (if any) freed: under md->lock. */
static int clone_rec_drop_bitset(struct shadow_md *md, u64 id,
				 struct clone_rec *c)
{
	struct dm_disk_bitset info;
	int r = clone_rec_get(md, id, c);

	if (r || !c->bitset_root)
		return r;
	dm_disk_bitset_init(md->tm, &info);
	r = dm_bitset_del(&info, c->bitset_root);
	c->bitset_root = 0;
	return r;
}

int shadow_md_clone_finish(struct shadow_md *md, u64 id, u32 state)
{
	struct clone_rec c;
	int r;

	down_write(&md->lock);
	r = clone_rec_drop_bitset(md, id, &c);
	if (!r) {
		c.state = state;
		r = clone_rec_put(md, &c);
	}
	up_write(&md->lock);
	return r;
}

int shadow_md_clone_remove(struct shadow_md *md, u64 id)
{
	struct clone_rec c;
	int r;

	down_write(&md->lock);
	r = clone_rec_drop_bitset(md, id, &c);
	if (!r)
		r = dm_btree_remove(&md->clone_info, md->clone_root, &id,
				    &md->clone_root);
	md->must_commit = true;
	up_write(&md->lock);
	return r;
}
