/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"

/* Lay out a store formatted without the journal, as before it existed. */
static void init_without_journal(struct shadow_superblock *sb)
{
	struct shadow_layout l;

	sb->incompat_flags &= ~SHADOW_FEATURE_INCOMPAT_JOURNAL;
	ck_assert_int_eq(shadow_layout_solve(&l, sb->store_sectors, sb->chunk_sectors, 0), 0);
	sb->metadata_blocks = l.metadata_blocks;
	sb->data_start = l.data_start;
	sb->nr_data_chunks = l.nr_data_chunks;
}

static void init(struct image *im, uint32_t store_type, uint64_t origin_sectors,
		 uint64_t store_sectors, uint32_t chunk_sectors, bool journal)
{
	memset(im, 0, sizeof(*im));
	im->sb = (struct shadow_superblock) {
		.magic = SHADOW_MAGIC,
		.version = SHADOW_VERSION,
		.store_type = store_type,
		.uuid = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
			  1, 2, 3, 4, 5, 6, 7, 8 },
		.chunk_sectors = chunk_sectors,
		.origin_sectors = origin_sectors,
		.store_sectors = store_sectors,
		.format_time = 1700000000,
		.trans_id = 1,
	};
	ck_assert_int_eq(shadow_sb_init_geometry(&im->sb), 0);
	if (!journal)
		init_without_journal(&im->sb);
	im->sb.data_limit = im->sb.nr_data_chunks;
	im->nblocks = im->sb.metadata_blocks;
	im->journal_start = shadow_journal_start(&im->sb);
	im->sm_blocks = shadow_metadata_sm_blocks(store_sectors);
	im->meta = calloc(im->nblocks, PD_BLOCK_SIZE);
	im->md_count = calloc(im->sm_blocks, sizeof(*im->md_count));
	im->md_delta = calloc(im->sm_blocks, sizeof(*im->md_delta));
	/* A clone store has no data chunk: not 0 bytes, which may be NULL. */
	im->data_count = calloc(im->sb.nr_data_chunks + 1, sizeof(*im->data_count));
	ck_assert(im->meta && im->md_count && im->md_delta && im->data_count);
}

void image_init(struct image *im, uint64_t origin_sectors,
		uint64_t store_sectors, uint32_t chunk_sectors)
{
	init(im, SHADOW_STORE_COW, origin_sectors, store_sectors, chunk_sectors, true);
}

void image_init_old(struct image *im, uint64_t origin_sectors,
		    uint64_t store_sectors, uint32_t chunk_sectors)
{
	init(im, SHADOW_STORE_COW, origin_sectors, store_sectors, chunk_sectors, false);
}

void image_init_clone(struct image *im, uint64_t origin_sectors,
		      uint64_t store_sectors, uint32_t chunk_sectors)
{
	init(im, SHADOW_STORE_CLONE, origin_sectors, store_sectors, chunk_sectors, true);
	ck_assert_uint_eq(im->sb.nr_data_chunks, 0);
}

uint8_t *image_block(struct image *im, uint64_t blocknr)
{
	ck_assert_uint_lt(blocknr, im->nblocks);
	return im->meta + blocknr * PD_BLOCK_SIZE;
}

uint8_t *image_journal_block(struct image *im, uint32_t index)
{
	ck_assert_uint_lt(index, shadow_journal_blocks(&im->sb));
	return image_block(im, im->journal_start + index);
}

struct shadow_journal_header image_journal_header(const struct image *im,
						  uint32_t index)
{
	struct shadow_journal_header h = {
		.blocknr = im->journal_start + index,
		.trans_id = im->sb.trans_id,
		.index = index,
	};

	memcpy(h.uuid, im->sb.uuid, sizeof(h.uuid));
	return h;
}

void image_add_snap(struct image *im, uint64_t id, uint64_t seq,
		    uint32_t state, uint32_t flags)
{
	ck_assert_uint_lt(im->nsnaps, 64);
	im->snaps[im->nsnaps++] = (struct shadow_snapshot) {
		.id = id, .seq = seq, .state = state, .flags = flags,
		.ctime = 1700000100 + id,
	};
}

struct image_clone *image_add_clone(struct image *im, uint64_t id, uint32_t state)
{
	struct image_clone *c;

	ck_assert_uint_lt(im->nclones, IMAGE_MAX_CLONES);
	c = &im->clones[im->nclones++];
	*c = (struct image_clone) {
		.rec = { .id = id, .state = state,
			 .target_sectors = im->sb.origin_sectors },
		.bitset = state == SHADOW_CLONE_HYDRATING,
		.bits = calloc(pd_bitset_words(im->sb.nr_origin_chunks) + 1,
			       sizeof(uint64_t)),
	};
	ck_assert_ptr_nonnull(c->bits);
	return c;
}

void image_clone_copy(struct image *im, uint64_t id, uint64_t first, uint64_t n)
{
	for (size_t i = 0; i < im->nclones; i++) {
		struct image_clone *c = &im->clones[i];

		if (c->rec.id != id)
			continue;
		ck_assert_uint_le(first + n, im->sb.nr_origin_chunks);
		for (uint64_t b = first; b < first + n; b++)
			c->bits[b / 64] |= 1ULL << (b % 64);
		c->rec.nr_copied += n;
		return;
	}
	ck_abort_msg("no clone %llu", (unsigned long long)id);
}

void image_add_exception(struct image *im, uint64_t chunk, uint64_t seq,
			 uint64_t data_chunk)
{
	ck_assert_uint_lt(im->nexc, IMAGE_MAX_ENTRIES);
	im->exc[im->nexc++] = (struct image_map) { shadow_exc_key(chunk, seq), data_chunk };
	if (data_chunk < im->sb.nr_data_chunks)
		im->data_count[data_chunk]++;
}

void image_add_version(struct image *im, uint64_t chunk, uint64_t tag,
		       uint64_t data_chunk)
{
	image_add_exception(im, chunk, shadow_row_seq(tag), data_chunk);
}

void image_add_private(struct image *im, uint64_t chunk, uint64_t seq,
		       uint64_t data_chunk)
{
	ck_assert_uint_lt(im->npriv, 64);
	im->priv[im->npriv++] = (struct image_map) { shadow_exc_key(chunk, seq), data_chunk };
	if (data_chunk < im->sb.nr_data_chunks)
		im->data_count[data_chunk]++;
}

void image_add_pending(struct image *im, uint32_t index, uint64_t chunk,
		       uint64_t seq, uint64_t data_chunk, uint32_t tree)
{
	ck_assert_uint_lt(im->npending, IMAGE_MAX_PENDING);
	im->pending[im->npending++] = (struct image_pending) {
		.index = index,
		.entry = { .chunk = chunk, .seq = seq, .store_chunk = data_chunk,
			   .tree = tree },
	};
}

void image_del_snap(struct image *im, uint64_t id)
{
	for (size_t i = 0; i < im->nsnaps; i++) {
		if (im->snaps[i].id != id)
			continue;
		im->snaps[i] = im->snaps[--im->nsnaps];
		return;
	}
	ck_abort_msg("no snapshot %llu", (unsigned long long)id);
}

void image_del_exception(struct image *im, uint64_t chunk, uint64_t seq)
{
	uint64_t key = shadow_exc_key(chunk, seq);

	for (size_t i = 0; i < im->nexc; i++) {
		if (im->exc[i].key != key)
			continue;
		if (im->exc[i].data_chunk < im->sb.nr_data_chunks)
			im->data_count[im->exc[i].data_chunk]--;
		im->exc[i] = im->exc[--im->nexc];
		return;
	}
	ck_abort_msg("no exception of chunk %llu seq %llu",
		     (unsigned long long)chunk, (unsigned long long)seq);
}

void image_hold(struct image *im)
{
	im->held = true;
	im->held_sb = im->sb;
	memcpy(im->held_snaps, im->snaps, sizeof(im->snaps));
	im->nheld_snaps = im->nsnaps;
	memcpy(im->held_exc, im->exc, sizeof(im->exc));
	im->nheld_exc = im->nexc;
	memcpy(im->held_priv, im->priv, sizeof(im->priv));
	im->nheld_priv = im->npriv;
}

static uint64_t alloc(struct image *im)
{
	uint64_t b = ++im->next;

	/* The journal's ring is never handed out. */
	ck_assert_uint_lt(b, im->journal_start);
	im->md_count[b]++;
	return b;
}

/* Blocks [first, last] of a held tree that a live tree may share. */
struct share {
	uint64_t first, last;
	uint8_t *shared;	/* per metadata block: a live tree uses it */
};

/* Same node contents (flags and everything after blocknr)? */
static bool same_node(const uint8_t *a, const uint8_t *b)
{
	return !memcmp(a + 4, b + 4, 4) && !memcmp(a + 16, b + 16, PD_BLOCK_SIZE - 16);
}

/* A held block of @sh with @node's contents, or 0. */
static uint64_t find_shared(struct image *im, const struct share *sh,
			    const uint8_t *node)
{
	for (uint64_t b = sh ? sh->first : 1; sh && b <= sh->last; b++)
		if (same_node(image_block(im, b), node))
			return b;
	return 0;
}

/* Place @node: share the held block that has its contents, or a new one. */
static uint64_t place(struct image *im, struct share *sh, uint8_t *node)
{
	uint64_t b = find_shared(im, sh, node);

	if (b) {
		im->md_count[b]++;
		sh->shared[b] = 1;
		return b;
	}
	b = alloc(im);
	memcpy(image_block(im, b), node, PD_BLOCK_SIZE);
	pd_node_seal(image_block(im, b), b);
	return b;
}

/*
 * A btree of @n sorted entries: one leaf, or full leaves under one
 * internal root (enough for any test).  With @sh, a node whose contents
 * a held node of @sh has is that node, shared.
 */
static uint64_t build_tree(struct image *im, const uint64_t *keys,
			   const uint8_t *values, size_t n, uint32_t vs,
			   struct share *sh)
{
	uint32_t max = pd_btree_max_entries(vs);
	size_t nleaves = n ? (n + max - 1) / max : 1;
	uint64_t leaves[64], root;
	uint8_t node[PD_BLOCK_SIZE];

	ck_assert_uint_le(nleaves, 64);
	for (size_t l = 0; l < nleaves; l++) {
		memset(node, 0, sizeof(node));
		pd_node_init(node, PD_LEAF_NODE, vs);
		for (size_t i = l * max; i < n && i < (l + 1) * max; i++)
			pd_node_append(node, keys[i], values + i * vs);
		leaves[l] = place(im, sh, node);
	}
	if (nleaves == 1)
		return leaves[0];
	memset(node, 0, sizeof(node));
	pd_node_init(node, PD_INTERNAL_NODE, 8);
	for (size_t l = 0; l < nleaves; l++) {
		uint64_t le = htole64(leaves[l]);

		pd_node_append(node, keys[l * max], &le);
	}
	root = find_shared(im, sh, node);
	if (!root)
		return place(im, sh, node);
	/* The whole tree is the held one: its leaves count from its root only. */
	for (size_t l = 0; l < nleaves; l++)
		im->md_count[leaves[l]]--;
	im->md_count[root]++;
	sh->shared[root] = 1;
	return root;
}

static int cmp_map(const void *a, const void *b)
{
	const struct image_map *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static int cmp_snap(const void *a, const void *b)
{
	const struct shadow_snapshot *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static uint64_t build_map_tree(struct image *im, struct image_map *m, size_t n,
			       struct share *sh)
{
	uint64_t keys[IMAGE_MAX_ENTRIES], vals[IMAGE_MAX_ENTRIES];

	qsort(m, n, sizeof(*m), cmp_map);
	for (size_t i = 0; i < n; i++) {
		keys[i] = m[i].key;
		vals[i] = htole64(m[i].data_chunk);
	}
	return build_tree(im, keys, (const uint8_t *)vals, n, 8, sh);
}

static uint64_t build_snap_tree(struct image *im, struct shadow_snapshot *snaps,
				size_t n, struct share *sh)
{
	uint8_t vals[64 * sizeof(struct shadow_disk_snapshot)];
	uint64_t keys[64];

	qsort(snaps, n, sizeof(*snaps), cmp_snap);
	for (size_t i = 0; i < n; i++) {
		keys[i] = snaps[i].id;
		shadow_snap_encode(vals + i * sizeof(struct shadow_disk_snapshot), &snaps[i]);
	}
	return build_tree(im, keys, vals, n, sizeof(struct shadow_disk_snapshot), sh);
}

/* A held leaf no live tree shares counts its data chunks once more. */
static void count_held_leaves(struct image *im, const struct share *sh,
			      uint32_t *counts)
{
	for (uint64_t b = sh->first; b <= sh->last; b++) {
		const uint8_t *node = image_block(im, b);
		struct pd_node_header h;

		if (sh->shared[b])
			continue;
		ck_assert_int_eq(pd_node_verify(node, b, 8, &h, NULL), 0);
		if (h.flags != PD_LEAF_NODE)
			continue;
		for (uint32_t i = 0; i < h.nr_entries; i++) {
			uint64_t chunk = pd_node_value_u64(node, i);

			if (chunk < im->sb.nr_data_chunks)
				counts[chunk]++;
		}
	}
}

/*
 * Fill the bitmaps @bitmaps (already allocated) with @counts; the index
 * entries go to @ies and counts of 3 or more to @rkeys/@rvals.
 * Returns the number of blocks allocated.
 */
static uint64_t fill_bitmaps(struct image *im, const uint32_t *counts,
			     uint64_t nr_blocks, const uint64_t *bitmaps,
			     struct pd_index_entry *ies, uint64_t *rkeys,
			     uint32_t *rvals, size_t *nref)
{
	uint64_t allocated = 0;

	*nref = 0;
	for (uint64_t i = 0; i * PD_ENTRIES_PER_BITMAP < nr_blocks; i++) {
		uint8_t *blk = image_block(im, bitmaps[i]);
		struct pd_index_entry *ie = &ies[i];

		memset(blk, 0, PD_BLOCK_SIZE);
		*ie = (struct pd_index_entry) { .blocknr = bitmaps[i], .none_free_before = UINT32_MAX };
		for (uint32_t e = 0; e < PD_ENTRIES_PER_BITMAP; e++) {
			uint64_t b = i * PD_ENTRIES_PER_BITMAP + e;
			uint32_t c = b < nr_blocks ? counts[b] : 0;

			if (!c) {
				ie->nr_free++;
				if (ie->none_free_before == UINT32_MAX)
					ie->none_free_before = e;
				continue;
			}
			allocated++;
			pd_bitmap_set(blk, e, c < 3 ? c : 3);
			if (c >= 3) {
				ck_assert_uint_lt(*nref, 64);
				rkeys[*nref] = b;
				rvals[(*nref)++] = htole32(c);
			}
		}
		if (ie->none_free_before == UINT32_MAX)
			ie->none_free_before = PD_ENTRIES_PER_BITMAP;
		pd_bitmap_seal(blk, bitmaps[i]);
	}
	return allocated;
}

static bool words_zero(const uint64_t *w, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (w[i])
			return false;
	return true;
}

/*
 * A clone's bitset: its array blocks (an all-zero full one shared by
 * every index that has one when @c->share_zero), then the array's btree.
 */
static uint64_t build_bitset(struct image *im, const struct image_clone *c)
{
	uint64_t words = pd_bitset_words(im->sb.nr_origin_chunks);
	uint64_t n = pd_array_nr_blocks(words, sizeof(uint64_t));
	uint32_t max = pd_array_max_entries(sizeof(uint64_t));
	uint64_t *keys = calloc(n + 1, sizeof(*keys)), *vals = calloc(n + 1, sizeof(*vals));
	uint64_t zero = 0, root;

	ck_assert(keys && vals);
	for (uint64_t i = 0; i < n; i++) {
		uint32_t nr = pd_array_block_entries(words, sizeof(uint64_t), i);
		const uint64_t *w = c->bits + i * max;
		uint64_t b;

		if (c->share_zero && zero && nr == max && words_zero(w, nr)) {
			im->md_count[zero]++;
			b = zero;
		} else {
			b = alloc(im);
			pd_array_init(image_block(im, b), sizeof(uint64_t), nr);
			for (uint32_t j = 0; j < nr; j++)
				pd_array_set_u64(image_block(im, b), j, w[j]);
			pd_array_seal(image_block(im, b), b);
			if (nr == max && words_zero(w, nr))
				zero = b;
		}
		keys[i] = i;
		vals[i] = htole64(b);
	}
	root = build_tree(im, keys, (const uint8_t *)vals, n, sizeof(uint64_t), NULL);
	free(keys);
	free(vals);
	return root;
}

static int cmp_clone(const void *a, const void *b)
{
	const struct image_clone *x = a, *y = b;

	return x->rec.id < y->rec.id ? -1 : x->rec.id > y->rec.id;
}

/* A clone store's bitsets, then the clone tree that names them. */
static uint64_t build_clone_tree(struct image *im)
{
	uint8_t vals[IMAGE_MAX_CLONES * sizeof(struct shadow_disk_clone)];
	uint64_t keys[IMAGE_MAX_CLONES];

	qsort(im->clones, im->nclones, sizeof(im->clones[0]), cmp_clone);
	for (size_t i = 0; i < im->nclones; i++) {
		struct image_clone *c = &im->clones[i];

		c->rec.bitset_root = c->bitset ? build_bitset(im, c) : 0;
		keys[i] = c->rec.id;
		shadow_clone_encode(vals + i * sizeof(struct shadow_disk_clone), &c->rec);
	}
	return build_tree(im, keys, vals, im->nclones, sizeof(struct shadow_disk_clone), NULL);
}

/* Ring blocks 0 to the last one a pending entry names, each with its entries. */
static void build_journal(struct image *im)
{
	struct shadow_journal_entry e[SHADOW_JOURNAL_ENTRIES];
	uint32_t blocks = 0;

	for (size_t i = 0; i < im->npending; i++)
		if (im->pending[i].index >= blocks)
			blocks = im->pending[i].index + 1;
	for (uint32_t b = 0; b < blocks; b++) {
		struct shadow_journal_header h = image_journal_header(im, b);

		for (size_t i = 0; i < im->npending; i++) {
			if (im->pending[i].index != b)
				continue;
			ck_assert_uint_lt(h.nr_entries, SHADOW_JOURNAL_ENTRIES);
			e[h.nr_entries++] = im->pending[i].entry;
		}
		shadow_journal_encode(&h, e, image_journal_block(im, b));
	}
}

void image_build(struct image *im)
{
	struct shadow_superblock *sb = &im->sb;
	uint64_t rkeys[64], ikeys[64], dbm[64] = {}, mbm[PD_MAX_METADATA_BITMAPS] = {};
	struct pd_index_entry dies[64], mies[PD_MAX_METADATA_BITMAPS];
	uint8_t ivals[64 * PD_INDEX_ENTRY_SIZE];
	uint64_t nd = (sb->nr_data_chunks + PD_ENTRIES_PER_BITMAP - 1) / PD_ENTRIES_PER_BITMAP;
	uint64_t nm = (im->sm_blocks + PD_ENTRIES_PER_BITMAP - 1) / PD_ENTRIES_PER_BITMAP;
	uint64_t msm_ref, msm_index;
	uint32_t rvals[64], *counts, *dcounts;
	struct share hs[3] = {}, *share[3] = {};
	uint8_t *shared;
	size_t nref;

	ck_assert_uint_le(nd, 64);
	ck_assert_uint_le(nm, PD_MAX_METADATA_BITMAPS);
	memset(im->meta, 0, im->nblocks * PD_BLOCK_SIZE);
	memset(im->md_count, 0, im->sm_blocks * sizeof(*im->md_count));
	im->next = 0;
	im->md_count[0] = 1;	/* the superblock, counted by the space map */
	/*
	 * The journal's ring and the data area, reserved in the metadata
	 * space map at format time.
	 */
	for (uint64_t b = im->journal_start; b < im->sm_blocks; b++)
		im->md_count[b] = 1;
	shared = calloc(im->nblocks, 1);
	dcounts = calloc(sb->nr_data_chunks + 1, sizeof(*dcounts));
	ck_assert(shared && dcounts);
	memcpy(dcounts, im->data_count, sb->nr_data_chunks * sizeof(*dcounts));

	/* The metadata snapshot's trees first, then its copy of the superblock. */
	if (im->held) {
		struct shadow_superblock h = im->held_sb;

		for (int t = 0; t < 3; t++) {
			hs[t].first = im->next + 1;
			hs[t].shared = shared;
			if (t == 0)
				h.snapshot_root = build_snap_tree(im, im->held_snaps,
								  im->nheld_snaps, NULL);
			else if (t == 1)
				h.exception_root = build_map_tree(im, im->held_exc,
								  im->nheld_exc, NULL);
			else
				h.private_root = build_map_tree(im, im->held_priv,
								im->nheld_priv, NULL);
			hs[t].last = im->next;
			share[t] = &hs[t];
		}
		h.held_root = 0;
		memset(&h.metadata_sm, 0, sizeof(h.metadata_sm));
		memset(&h.data_sm, 0, sizeof(h.data_sm));
		im->held_block = alloc(im);
		shadow_sb_encode(&h, im->held_block, image_block(im, im->held_block));
		sb->held_root = im->held_block;
	}

	sb->snapshot_root = build_snap_tree(im, im->snaps, im->nsnaps, share[0]);
	sb->exception_root = build_map_tree(im, im->exc, im->nexc, share[1]);
	sb->private_root = build_map_tree(im, im->priv, im->npriv, share[2]);
	if (sb->store_type == SHADOW_STORE_CLONE)
		sb->clone_root = build_clone_tree(im);
	if (im->held) {
		count_held_leaves(im, &hs[1], dcounts);
		count_held_leaves(im, &hs[2], dcounts);
	}
	free(shared);

	/* The data space map. */
	for (uint64_t i = 0; i < nd; i++)
		dbm[i] = alloc(im);
	sb->data_sm.nr_blocks = sb->nr_data_chunks;
	sb->data_sm.nr_allocated = fill_bitmaps(im, dcounts, sb->nr_data_chunks,
						dbm, dies, rkeys, rvals, &nref);
	free(dcounts);
	sb->data_sm.ref_count_root = build_tree(im, rkeys, (const uint8_t *)rvals, nref, 4, NULL);
	for (uint64_t i = 0; i < nd; i++) {
		ikeys[i] = i;
		pd_index_entry_encode(ivals + i * PD_INDEX_ENTRY_SIZE, &dies[i]);
	}
	sb->data_sm.bitmap_root = build_tree(im, ikeys, ivals, nd, PD_INDEX_ENTRY_SIZE, NULL);

	/*
	 * The metadata space map counts its own blocks: hand them all out
	 * before counting, then fill them.
	 */
	msm_ref = alloc(im);
	for (uint64_t i = 0; i < nm; i++)
		mbm[i] = alloc(im);
	msm_index = alloc(im);
	counts = calloc(im->sm_blocks, sizeof(*counts));
	ck_assert_ptr_nonnull(counts);
	for (uint64_t b = 0; b < im->sm_blocks; b++)
		counts[b] = (uint32_t)((int64_t)im->md_count[b] + im->md_delta[b]);
	sb->metadata_sm.nr_blocks = im->sm_blocks;
	sb->metadata_sm.nr_allocated = fill_bitmaps(im, counts, im->sm_blocks, mbm, mies,
						    rkeys, rvals, &nref);
	free(counts);
	pd_node_init(image_block(im, msm_ref), PD_LEAF_NODE, 4);
	for (size_t i = 0; i < nref; i++)
		pd_node_append(image_block(im, msm_ref), rkeys[i], &rvals[i]);
	pd_node_seal(image_block(im, msm_ref), msm_ref);
	sb->metadata_sm.ref_count_root = msm_ref;
	for (uint64_t i = 0; i < nm; i++)
		pd_index_entry_encode((uint8_t *)pd_metadata_index_entry(image_block(im, msm_index),
									   (uint32_t)i), &mies[i]);
	pd_index_seal(image_block(im, msm_index), msm_index);
	sb->metadata_sm.bitmap_root = msm_index;
	image_seal_sb(im);
	build_journal(im);
}

void image_seal_sb(struct image *im)
{
	shadow_sb_encode(&im->sb, 0, image_block(im, 0));
}

const char *image_write(struct image *im)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(im->path, sizeof(im->path), "%s/shadow-unit-XXXXXX",
		 tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	fd = mkstemp(im->path);
	ck_assert_int_ge(fd, 0);
	/*
	 * Only the blocks handed out and the journal's ring: the rest of the
	 * area reads as zeroes.
	 */
	ck_assert_int_eq(write(fd, im->meta, (im->next + 1) * PD_BLOCK_SIZE),
			 (ssize_t)((im->next + 1) * PD_BLOCK_SIZE));
	ck_assert_int_eq(pwrite(fd, im->meta + im->journal_start * PD_BLOCK_SIZE,
				(im->nblocks - im->journal_start) * PD_BLOCK_SIZE,
				(off_t)(im->journal_start * PD_BLOCK_SIZE)),
			 (ssize_t)((im->nblocks - im->journal_start) * PD_BLOCK_SIZE));
	ck_assert_int_eq(ftruncate(fd, (off_t)(im->sb.store_sectors * 512)), 0);
	close(fd);
	return im->path;
}

void image_done(struct image *im)
{
	if (im->path[0])
		unlink(im->path);
	free(im->meta);
	free(im->md_count);
	free(im->md_delta);
	free(im->data_count);
	for (size_t i = 0; i < im->nclones; i++) {
		free(im->clones[i].bits);
		im->clones[i].bits = NULL;
	}
	im->meta = NULL;
	im->md_count = NULL;
	im->md_delta = NULL;
	im->data_count = NULL;
}
