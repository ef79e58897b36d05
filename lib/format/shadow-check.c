/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shadow-check.h"
#include "shadow-vec.h"

/* Individual findings past this many (of each kind) are counted, not passed. */
#define MAX_REPORTED 100

/* What a metadata block was first reached as. */
enum kind {
	K_NONE = 0,
	K_SB,
	K_HELD,
	K_SNAP,
	K_EXC,
	K_PRIV,
	K_REVERT,
	K_MSM_INDEX,
	K_MSM_BITMAP,
	K_MSM_REF,
	K_DSM_INDEX,
	K_DSM_BITMAP,
	K_DSM_REF,
	K_CLONE,
	K_BITSET,
	K_ARRAY,
};

static const char *const kind_names[] = {
	[K_NONE] = "unused",
	[K_SB] = "the superblock",
	[K_HELD] = "the metadata snapshot",
	[K_SNAP] = "a snapshot tree node",
	[K_EXC] = "an exception tree node",
	[K_PRIV] = "a private tree node",
	[K_REVERT] = "a revert tree node",
	[K_MSM_INDEX] = "the metadata space map index",
	[K_MSM_BITMAP] = "a metadata space map bitmap",
	[K_MSM_REF] = "a metadata space map ref count node",
	[K_DSM_INDEX] = "a data space map index node",
	[K_DSM_BITMAP] = "a data space map bitmap",
	[K_DSM_REF] = "a data space map ref count node",
	[K_CLONE] = "a clone tree node",
	[K_BITSET] = "a clone bitset's array btree node",
	[K_ARRAY] = "a clone bitset's array block",
};

enum {
	STATE_NEW = 0,
	STATE_ON_PATH,		/* an ancestor of the node being read */
	STATE_DONE,		/* read; an array block: verified */
	STATE_BAD,		/* an array block that failed verification */
};

/* A data chunk a leaf entry uses. */
struct dref {
	uint64_t chunk;
	uint64_t key;
	bool private;
	bool live;		/* from the live trees, not only the held ones */
};

/* A snapshot of a clone store, to pair with its clone. */
struct snap_ref {
	uint64_t id;
	uint32_t state;
};

/* The clone whose bitset is being walked, and what its blocks held. */
struct bitset_check {
	const struct shadow_clone *clone;
	uint64_t nr_words;
	uint64_t nr_blocks;		/* array blocks its words need */
	uint64_t next_index;		/* the array block index expected next */
	uint64_t set;			/* bits set below nr_origin_chunks */
	uint64_t beyond;		/* bits set at or past it */
	bool broken;			/* not read whole: no count is compared */
	uint8_t *block;
};

/* An entry of a ref count btree: a count of 3 or more. */
struct refc {
	uint64_t block;
	uint32_t count;
	bool consumed;		/* its bitmap entry says 3 */
};

struct checker {
	struct shadow_store *store;
	const struct shadow_superblock *sb;
	shadow_problem_fn fn;
	void *userdata;
	struct shadow_check_result res;
	uint64_t leak_findings;
	uint64_t nblocks;		/* the journal's start: where trees may point */
	uint64_t sm_blocks;		/* the metadata space map's nr_blocks */
	uint32_t *md_expected;		/* references found, per sm_blocks block */
	uint8_t *md_kind;
	uint8_t *md_state;
	bool held;			/* walking the metadata snapshot's trees */
	bool oom;			/* a vec_push() failed */
	struct shadow_vec drefs;		/* struct dref */
	struct shadow_vec seqs;		/* uint64_t, live snapshots' sequences */
	struct shadow_vec refcs;		/* struct refc, of the space map being read */
	struct shadow_vec index;		/* struct pd_index_entry, data space map */
	uint8_t *index_present;
	struct shadow_pending *pending;	/* the journal's, by data chunk once checked */
	size_t npending;
	/* A clone store's. */
	struct shadow_vec snaps;		/* struct snap_ref */
	struct shadow_vec clones;		/* struct shadow_clone */
	struct bitset_check bs;
	/* Subtrees not read whole (the problem says why): bumped by each. */
	uint64_t unread;
	bool snaps_whole;		/* the live snapshot tree was read whole */
	int read_error;			/* a read in a visit function failed */
};

/* The header's helpers return __u64, which is not uint64_t for printf. */
static uint64_t key_chunk(uint64_t key)
{
	return shadow_exc_key_chunk(key);
}

static uint64_t key_seq(uint64_t key)
{
	return shadow_exc_key_seq(key);
}

/*
 * The tag of a mapping's key: a row store's exceptions hold it inverted
 * so that a chunk's versions sort newest first; private keys never do.
 */
static uint64_t key_tag(const struct checker *c, uint64_t key, bool private)
{
	return private ? key_seq(key) : shadow_shared_key_tag(c->sb->store_type, key);
}

/*
 * After an out-of-range tag of a row store's exception, the value it was
 * decoded from: a key written uninverted shows there as the tag it meant.
 */
static void stored_as(const struct checker *c, bool shared, uint64_t raw,
		      char *buf, size_t len)
{
	if (!shared || c->sb->store_type != SHADOW_STORE_ROW)
		buf[0] = '\0';
	else
		snprintf(buf, len, " (stored inverted as %" PRIu64 ")", raw);
}

typedef void (*visit_fn)(struct checker *c, uint64_t key, const void *value);

/* A block of the exception journal's ring, which ends the metadata area. */
static bool in_journal(const struct checker *c, uint64_t b)
{
	return b >= c->nblocks && b < c->sb->metadata_blocks;
}

/* A pending journal entry, as its findings name it: by its tag. */
static void pending_name(const struct shadow_pending *p, char *buf, size_t len)
{
	snprintf(buf, len, "exception journal block %u entry %u (%s of origin chunk %" PRIu64 " seq %" PRIu64 ")",
		 p->index, p->slot,
		 p->entry.tree == SHADOW_JOURNAL_PRIVATE ? "private chunk" : "exception",
		 p->entry.chunk, p->tag);
}

static void _printf_(3, 4) finding(struct checker *c, enum shadow_finding kind,
				   const char *fmt, ...)
{
	uint64_t n = kind == SHADOW_FINDING_DAMAGE ? ++c->res.problems : ++c->leak_findings;
	char msg[320];
	va_list ap;

	if (!c->fn)
		return;
	if (n > MAX_REPORTED) {
		if (n == MAX_REPORTED + 1)
			c->fn(c->userdata, kind,
			      kind == SHADOW_FINDING_DAMAGE ?
			      "more problems found; only the first 100 are shown" :
			      "more leaks found; only the first 100 are shown");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->fn(c->userdata, kind, msg);
}

#define damage(c, ...) finding((c), SHADOW_FINDING_DAMAGE, __VA_ARGS__)
#define leak(c, ...) finding((c), SHADOW_FINDING_LEAK, __VA_ARGS__)

static void *vec_push(struct checker *c, struct shadow_vec *v)
{
	void *p = shadow_vec_push(v);

	if (!p)
		c->oom = true;
	return p;
}

/*
 * Count one reference to metadata block @b, reached as @kind.  True when
 * this is the first time, so the caller reads it and follows what it
 * points at; later references only count.
 */
static bool ref_block(struct checker *c, uint64_t b, enum kind kind,
		      const char *from)
{
	if (in_journal(c, b)) {
		damage(c, "%s points to block %" PRIu64 " for %s, which is exception journal block %" PRIu64 ": the ring is never part of a tree",
		       from, b, kind_names[kind], b - c->nblocks);
		c->unread++;
		return false;
	}
	if (b == 0 || b >= c->nblocks) {
		damage(c, "%s points to block %" PRIu64 " for %s, outside the metadata area (blocks 1 to %" PRIu64 ")",
		       from, b, kind_names[kind], c->nblocks - 1);
		c->unread++;
		return false;
	}
	if (c->md_expected[b] < UINT32_MAX)
		c->md_expected[b]++;
	if (c->md_kind[b] == K_NONE) {
		c->md_kind[b] = kind;
		return true;
	}
	if (c->md_kind[b] != kind) {
		damage(c, "block %" PRIu64 " is used as %s and as %s",
		       b, kind_names[c->md_kind[b]], kind_names[kind]);
		c->unread++;
	} else if (kind == K_ARRAY) {
		/*
		 * A dm_array block may be shared among indices until one
		 * of them is written; each reference is counted
		 * (visit_array()).
		 */
	} else if (c->md_state[b] == STATE_ON_PATH) {
		damage(c, "btree loop: block %" PRIu64 " (%s) is its own ancestor",
		       b, kind_names[kind]);
		c->unread++;
	} else if (!c->sb->held_root) {
		damage(c, "block %" PRIu64 " (%s) is reached twice, but without a metadata snapshot no block is shared",
		       b, kind_names[kind]);
		c->unread++;
	}
	return false;
}

static int read_block(struct checker *c, uint64_t b, uint8_t *buf)
{
	struct shadow_error err = {};

	return shadow_store_read_block(c->store, b, buf, &err);
}

/*
 * Walk the subtree at @b (keys in [lo, hi]), reached from @from.  Only a
 * read error stops the walk; every other problem is a finding.
 */
static int walk_node(struct checker *c, uint64_t b, enum kind kind,
		     uint32_t value_size, uint64_t lo, uint64_t hi,
		     unsigned int depth, visit_fn visit, const char *from)
{
	_cleanup_free_ uint8_t *block = NULL;
	struct shadow_error err = {};
	struct pd_node_header h;
	char here[64];
	int r;

	if (!ref_block(c, b, kind, from))
		return 0;
	if (depth >= SHADOW_BTREE_MAX_DEPTH) {
		damage(c, "%s %" PRIu64 " is deeper than %d levels",
		       kind_names[kind], b, SHADOW_BTREE_MAX_DEPTH);
		c->unread++;
		return 0;
	}
	block = malloc(PD_BLOCK_SIZE);
	if (!block)
		return -ENOMEM;
	r = read_block(c, b, block);
	if (r < 0)
		return r;
	if (pd_node_verify(block, b, value_size, &h, &err) < 0) {
		c->res.bad_blocks++;
		damage(c, "%s (%s)", err.msg, kind_names[kind]);
		c->unread++;
		return 0;
	}
	if (h.nr_entries == 0 && (h.flags == PD_INTERNAL_NODE || depth > 0)) {
		damage(c, "btree node %" PRIu64 " (%s) is empty but not a root leaf",
		       b, kind_names[kind]);
		c->unread++;
		return 0;
	}
	for (uint32_t i = 0; i < h.nr_entries; i++) {
		uint64_t key = pd_node_key(block, i);

		if (key < lo || key > hi) {
			damage(c, "btree node %" PRIu64 " (%s): key %" PRIu64 " is outside its parent's range %" PRIu64 " to %" PRIu64,
			       b, kind_names[kind], key, lo, hi);
			c->unread++;
			return 0;
		}
		if (i > 0 && key <= pd_node_key(block, i - 1)) {
			damage(c, "btree node %" PRIu64 " (%s): key %" PRIu64 " does not ascend after %" PRIu64,
			       b, kind_names[kind], key, pd_node_key(block, i - 1));
			c->unread++;
			return 0;
		}
	}

	c->md_state[b] = STATE_ON_PATH;
	snprintf(here, sizeof(here), "btree node %" PRIu64, b);
	for (uint32_t i = 0; i < h.nr_entries && r >= 0; i++) {
		uint64_t key = pd_node_key(block, i);

		if (h.flags == PD_LEAF_NODE) {
			if (visit)
				visit(c, key, pd_node_value(block, i));
			continue;
		}
		r = walk_node(c, pd_node_value_u64(block, i), kind, value_size, key,
			      i + 1 < h.nr_entries ? pd_node_key(block, i + 1) - 1 : hi,
			      depth + 1, visit, here);
	}
	c->md_state[b] = STATE_DONE;
	return r;
}

static int walk_tree(struct checker *c, uint64_t root, enum kind kind,
		     uint32_t value_size, visit_fn visit, const char *from)
{
	return walk_node(c, root, kind, value_size, 0, UINT64_MAX, 0, visit, from);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void visit_snap(struct checker *c, uint64_t key, const void *value)
{
	struct shadow_snapshot s;
	uint64_t *seq;

	if (c->held)
		return;
	shadow_snap_decode(value, &s);
	c->res.snapshots++;
	if (c->res.snapshots == SHADOW_MAX_SNAPSHOTS + 1)
		damage(c, "the snapshot tree holds more than %d snapshots", SHADOW_MAX_SNAPSHOTS);
	if (s.id != key)
		damage(c, "snapshot under key %" PRIu64 " says it is id %" PRIu64, key, s.id);
	if (!shadow_snap_state_name(s.state))
		damage(c, "snapshot %" PRIu64 " has unknown state %u", key, s.state);
	if (s.flags & ~(SHADOW_SNAPF_SEALED | SHADOW_SNAPF_WRITTEN))
		damage(c, "snapshot %" PRIu64 " has unknown flags 0x%x", key, s.flags);
	if (s.seq == 0 || s.seq > c->sb->last_seq)
		damage(c, "snapshot %" PRIu64 " has seq %" PRIu64 " outside 1..last_seq %" PRIu64,
		       key, s.seq, c->sb->last_seq);
	/*
	 * A revert to the snapshot at dropped_from leaves none above it up
	 * to the live volume's tag: one there would read dead versions.
	 */
	if ((c->sb->incompat_flags & SHADOW_FEATURE_INCOMPAT_ROW_DROPPED) &&
	    s.seq > c->sb->dropped_from && s.seq <= c->sb->dropped_below)
		damage(c, "snapshot %" PRIu64 " has seq %" PRIu64 " inside the dropped range (dropped_from %" PRIu64 ", dropped_below %" PRIu64 "]: a reverted row store has no snapshot there",
		       key, s.seq, c->sb->dropped_from, c->sb->dropped_below);
	seq = vec_push(c, &c->seqs);
	if (seq)
		*seq = s.seq;
	if (c->sb->store_type == SHADOW_STORE_CLONE) {
		struct snap_ref *ref = vec_push(c, &c->snaps);

		if (ref)
			*ref = (struct snap_ref) { .id = s.id, .state = s.state };
	}
}

static bool seq_is_snapshot(struct checker *c, uint64_t seq)
{
	return bsearch(&seq, c->seqs.v, c->seqs.n, sizeof(seq), cmp_u64);
}

/*
 * A clone store keeps no data: its exception and private trees stay
 * empty, and its data space map has no chunk to map to.  True (and the
 * entry reported) for such an entry.
 */
static bool clone_store_mapping(struct checker *c, uint64_t key, bool private)
{
	if (c->sb->store_type != SHADOW_STORE_CLONE)
		return false;
	damage(c, "the %s tree of a clone store, which keeps no data, maps origin chunk %" PRIu64 " seq %" PRIu64,
	       private ? "private" : "exception", key_chunk(key), key_seq(key));
	return true;
}

static void add_dref(struct checker *c, uint64_t key, const void *value,
		     bool private)
{
	const char *what = private ? "private chunk" : "exception";
	uint64_t le, chunk;
	struct dref *d;

	memcpy(&le, value, sizeof(le));
	chunk = le64toh(le);
	if (chunk >= c->sb->data_sm.nr_blocks) {
		damage(c, "%s (origin chunk %" PRIu64 ", seq %" PRIu64 ") maps to data chunk %" PRIu64 ", beyond the %" PRIu64 " of the data space map",
		       what, key_chunk(key), key_tag(c, key, private),
		       chunk, c->sb->data_sm.nr_blocks);
		return;
	}
	d = vec_push(c, &c->drefs);
	if (d)
		*d = (struct dref) { .chunk = chunk, .key = key, .private = private,
				     .live = !c->held };
}

static void visit_exc(struct checker *c, uint64_t key, const void *value)
{
	uint64_t chunk = key_chunk(key), seq = key_tag(c, key, false);
	char raw[64];

	if (clone_store_mapping(c, key, false))
		return;
	add_dref(c, key, value, false);
	if (c->held)
		return;
	c->res.exceptions++;
	if (shadow_sb_tag_dead(c->sb, seq))
		c->res.dead_versions++;
	if (seq == 0 || seq > c->sb->last_seq) {
		stored_as(c, true, key_seq(key), raw, sizeof(raw));
		damage(c, "exception of origin chunk %" PRIu64 " has seq %" PRIu64 "%s outside 1..last_seq %" PRIu64,
		       chunk, seq, raw, c->sb->last_seq);
	}
	if (chunk >= c->sb->nr_origin_chunks)
		damage(c, "exception of origin chunk %" PRIu64 " (seq %" PRIu64 ") is beyond the %" PRIu64 " origin chunks",
		       chunk, seq, c->sb->nr_origin_chunks);
}

static void visit_priv(struct checker *c, uint64_t key, const void *value)
{
	uint64_t chunk = key_chunk(key), seq = key_seq(key);

	if (clone_store_mapping(c, key, true))
		return;
	add_dref(c, key, value, true);
	if (c->held)
		return;
	c->res.private_chunks++;
	if (!seq_is_snapshot(c, seq))
		damage(c, "private chunk of origin chunk %" PRIu64 " belongs to seq %" PRIu64 ", which no snapshot has",
		       chunk, seq);
	if (chunk >= c->sb->nr_origin_chunks)
		damage(c, "private chunk of origin chunk %" PRIu64 " (seq %" PRIu64 ") is beyond the %" PRIu64 " origin chunks",
		       chunk, seq, c->sb->nr_origin_chunks);
}

static void visit_refc(struct checker *c, uint64_t key, const void *value)
{
	uint32_t le;
	struct refc *e;

	memcpy(&le, value, sizeof(le));
	e = vec_push(c, &c->refcs);
	if (e)
		*e = (struct refc) { .block = key, .count = le32toh(le) };
}

static void visit_index(struct checker *c, uint64_t key, const void *value)
{
	if (key >= c->index.n) {
		damage(c, "data space map index has an entry for bitmap %" PRIu64 ", beyond its %zu bitmaps",
		       key, c->index.n);
		return;
	}
	pd_index_entry_decode(value, (struct pd_index_entry *)c->index.v + key);
	c->index_present[key] = 1;
}

static int walk_trees(struct checker *c, const struct shadow_superblock *sb,
		      const char *from)
{
	uint64_t unread = c->unread;
	int r;

	r = walk_tree(c, sb->snapshot_root, K_SNAP, sizeof(struct shadow_disk_snapshot),
		      visit_snap, from);
	if (r < 0)
		return r;
	if (!c->held) {
		c->snaps_whole = c->unread == unread;
		qsort(c->seqs.v, c->seqs.n, sizeof(uint64_t), cmp_u64);
		for (size_t i = 1; i < c->seqs.n; i++)
			if (((uint64_t *)c->seqs.v)[i] == ((uint64_t *)c->seqs.v)[i - 1])
				damage(c, "two snapshots share seq %" PRIu64, ((uint64_t *)c->seqs.v)[i]);
	}
	r = walk_tree(c, sb->exception_root, K_EXC, sizeof(uint64_t), visit_exc, from);
	if (r < 0)
		return r;
	return walk_tree(c, sb->private_root, K_PRIV, sizeof(uint64_t), visit_priv, from);
}

/* A revert's out-of-order chunks: its nodes count, its values map nothing. */
static void visit_revert(struct checker *c, uint64_t key, const void *value)
{
	if (key >= c->sb->nr_origin_chunks)
		damage(c, "revert tree names chunk %" PRIu64 ", past the origin's %" PRIu64,
		       key, c->sb->nr_origin_chunks);
}

/* The metadata snapshot: a copy of the superblock whose trees are held. */
static int walk_held(struct checker *c)
{
	uint8_t block[SHADOW_MD_BLOCK_SIZE];
	struct shadow_superblock held;
	struct shadow_error err = {};
	int r;

	if (!ref_block(c, c->sb->held_root, K_HELD, "the superblock's held_root"))
		return 0;
	r = read_block(c, c->sb->held_root, block);
	if (r < 0)
		return r;
	if (shadow_sb_verify_block(block, c->sb->held_root, &err) < 0) {
		c->res.bad_blocks++;
		damage(c, "metadata snapshot at block %" PRIu64 ": %s",
		       c->sb->held_root, err.msg);
		return 0;
	}
	if (shadow_sb_verify_dropped(block, &err) < 0)
		damage(c, "metadata snapshot at block %" PRIu64 ": %s",
		       c->sb->held_root, err.msg);
	shadow_sb_decode(block, &held);
	c->held = true;
	r = walk_trees(c, &held, "the metadata snapshot");
	c->held = false;
	return r;
}

static void visit_clone(struct checker *c, uint64_t key, const void *value)
{
	struct shadow_clone *cl = vec_push(c, &c->clones);

	if (!cl)
		return;
	shadow_clone_decode(value, cl);
	c->res.clones++;
	if (c->res.clones == SHADOW_MAX_CLONES + 1)
		damage(c, "the clone tree holds more than %d clones", SHADOW_MAX_CLONES);
	if (cl->id != key)
		damage(c, "clone under key %" PRIu64 " says it is id %" PRIu64, key, cl->id);
}

/*
 * The words of the array block at index @key of the bitset being walked,
 * read into bs->block: counted at every index that names the block,
 * shared or not.
 */
static void count_array_block(struct checker *c, uint64_t key,
			      const struct pd_array_header *h)
{
	struct bitset_check *bs = &c->bs;
	uint64_t first = key * pd_array_max_entries(sizeof(uint64_t)) * PD_BITSET_WORD_BITS;
	const uint8_t *words = bs->block + PD_ARRAY_HEADER_SIZE;
	uint64_t set, all;

	if (first >= c->sb->nr_origin_chunks)
		return;
	set = pd_bitset_count(words, h->nr_entries, c->sb->nr_origin_chunks - first);
	all = pd_bitset_count(words, h->nr_entries, (uint64_t)h->nr_entries * PD_BITSET_WORD_BITS);
	bs->set += set;
	bs->beyond += all - set;
}

static void visit_array(struct checker *c, uint64_t key, const void *value)
{
	struct bitset_check *bs = &c->bs;
	uint64_t id = bs->clone->id, le, b;
	struct shadow_error err = {};
	struct pd_array_header h;
	char from[64];
	bool first;
	int r;

	if (key >= bs->nr_blocks) {
		damage(c, "clone %" PRIu64 "'s bitset has array block %" PRIu64 ", but its %" PRIu64 " chunks need %" PRIu64,
		       id, key, c->sb->nr_origin_chunks, bs->nr_blocks);
		bs->broken = true;
		return;
	}
	if (key != bs->next_index) {
		damage(c, "clone %" PRIu64 "'s bitset lacks array block %" PRIu64 " (the next it has is %" PRIu64 ")",
		       id, bs->next_index, key);
		bs->broken = true;
	}
	bs->next_index = key + 1;
	memcpy(&le, value, sizeof(le));
	b = le64toh(le);
	snprintf(from, sizeof(from), "clone %" PRIu64 "'s bitset", id);
	first = ref_block(c, b, K_ARRAY, from);
	if (!first && (b == 0 || b >= c->nblocks || c->md_kind[b] != K_ARRAY ||
		       c->md_state[b] != STATE_DONE)) {
		bs->broken = true;
		return;
	}
	r = read_block(c, b, bs->block);
	if (r < 0) {
		c->read_error = r;
		bs->broken = true;
		return;
	}
	/* A shared block is verified again at each index: its entries may not fit it. */
	if (pd_array_verify(bs->block, b, sizeof(uint64_t), bs->nr_words, key, &h, &err) < 0) {
		if (first) {
			c->res.bad_blocks++;
			c->md_state[b] = STATE_BAD;
		}
		damage(c, "clone %" PRIu64 "'s bitset: %s", id, err.msg);
		bs->broken = true;
		return;
	}
	c->md_state[b] = STATE_DONE;
	count_array_block(c, key, &h);
}

/* What the clone record says of itself: state, flags, counts, target. */
static void check_clone_record(struct checker *c, const struct shadow_clone *cl)
{
	const char *state = shadow_clone_state_name(cl->state);

	if (!state)
		damage(c, "clone %" PRIu64 " has unknown state %u", cl->id, cl->state);
	if (cl->flags)
		damage(c, "clone %" PRIu64 " has unknown flags 0x%x", cl->id, cl->flags);
	if (cl->state == SHADOW_CLONE_HYDRATING && !cl->bitset_root)
		damage(c, "clone %" PRIu64 " is hydrating but has no bitset (bitset_root 0): what it copied is lost",
		       cl->id);
	if (state && cl->state != SHADOW_CLONE_HYDRATING && cl->bitset_root)
		damage(c, "clone %" PRIu64 " is %s but has a bitset (bitset_root %" PRIu64 "): only a hydrating clone has one",
		       cl->id, state, cl->bitset_root);
	if (cl->nr_copied > c->sb->nr_origin_chunks)
		damage(c, "clone %" PRIu64 " counts %" PRIu64 " chunks copied, more than the origin's %" PRIu64,
		       cl->id, cl->nr_copied, c->sb->nr_origin_chunks);
	else if (cl->state == SHADOW_CLONE_COMPLETE && cl->nr_copied != c->sb->nr_origin_chunks)
		damage(c, "clone %" PRIu64 " is complete but counts %" PRIu64 " of the origin's %" PRIu64 " chunks copied",
		       cl->id, cl->nr_copied, c->sb->nr_origin_chunks);
	if (cl->target_sectors < c->sb->origin_sectors)
		damage(c, "clone %" PRIu64 "'s target has %" PRIu64 " sectors, fewer than the origin's %" PRIu64 ": it cannot hold the copy",
		       cl->id, cl->target_sectors, c->sb->origin_sectors);
}

/*
 * A clone's bitset: every node and array block counted once per
 * reference, as the metadata space map counts them; its bits, when it
 * read whole, against the record.  Walked whatever the state, so that a
 * bitset the record should not have is still counted (not a leak).
 */
static int check_clone_bitset(struct checker *c, const struct shadow_clone *cl)
{
	struct bitset_check *bs = &c->bs;
	uint64_t unread = c->unread;
	uint8_t *block = bs->block;
	char from[64];
	int r;

	if (!cl->bitset_root)
		return 0;
	*bs = (struct bitset_check) {
		.clone = cl,
		.nr_words = pd_bitset_words(c->sb->nr_origin_chunks),
		.block = block,
	};
	bs->nr_blocks = pd_array_nr_blocks(bs->nr_words, sizeof(uint64_t));
	snprintf(from, sizeof(from), "clone %" PRIu64 "'s record", cl->id);
	r = walk_tree(c, cl->bitset_root, K_BITSET, sizeof(uint64_t), visit_array, from);
	if (r < 0)
		return r;
	if (c->read_error)
		return c->read_error;
	if (bs->broken || c->unread != unread)
		return 0;
	/* Its last blocks missing, its bits are not all there to count. */
	if (bs->next_index != bs->nr_blocks) {
		damage(c, "clone %" PRIu64 "'s bitset has %" PRIu64 " array blocks, but its %" PRIu64 " chunks need %" PRIu64,
		       cl->id, bs->next_index, c->sb->nr_origin_chunks, bs->nr_blocks);
		return 0;
	}
	if (bs->beyond)
		damage(c, "clone %" PRIu64 "'s bitset sets %" PRIu64 " bits past the origin's %" PRIu64 " chunks",
		       cl->id, bs->beyond, c->sb->nr_origin_chunks);
	if (cl->state == SHADOW_CLONE_HYDRATING && bs->set != cl->nr_copied)
		damage(c, "clone %" PRIu64 " counts %" PRIu64 " chunks copied, but its bitset has %" PRIu64 " bits set",
		       cl->id, cl->nr_copied, bs->set);
	return 0;
}

static int cmp_snap_ref(const void *a, const void *b)
{
	const struct snap_ref *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_clone(const void *a, const void *b)
{
	const struct shadow_clone *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Every snapshot of a clone store is a clone: one clone record per
 * snapshot and the other way round, and the snapshot invalid exactly
 * when the clone failed (the kernel refuses the store otherwise).
 */
static void check_clone_pairs(struct checker *c)
{
	const struct snap_ref *snaps = c->snaps.v;
	const struct shadow_clone *clones = c->clones.v;

	qsort(c->snaps.v, c->snaps.n, sizeof(*snaps), cmp_snap_ref);
	qsort(c->clones.v, c->clones.n, sizeof(*clones), cmp_clone);
	for (size_t i = 0; i < c->clones.n; i++) {
		const struct shadow_clone *cl = &clones[i];
		struct snap_ref key = { .id = cl->id };
		const struct snap_ref *s = bsearch(&key, snaps, c->snaps.n, sizeof(*snaps),
						   cmp_snap_ref);
		const char *state = shadow_clone_state_name(cl->state);

		if (!s)
			damage(c, "clone %" PRIu64 " has no snapshot: the snapshot tree has no id %" PRIu64,
			       cl->id, cl->id);
		else if (state && (s->state == SHADOW_SNAP_VALID) != (cl->state != SHADOW_CLONE_FAILED))
			damage(c, "clone %" PRIu64 " is %s but its snapshot is %s: a failed clone's snapshot is invalid, any other's valid",
			       cl->id, state, shadow_snap_state_name(s->state) ?: "of an unknown state");
	}
	for (size_t i = 0; i < c->snaps.n; i++) {
		struct shadow_clone key = { .id = snaps[i].id };

		if (!bsearch(&key, clones, c->clones.n, sizeof(*clones), cmp_clone))
			damage(c, "snapshot %" PRIu64 " has no clone record: every snapshot of a clone store is a clone",
			       snaps[i].id);
	}
}

/*
 * A clone store's own structures: the clone tree, each clone's record
 * and bitset, clones paired with snapshots (when both trees read whole:
 * a tree cut short would make every entry past the cut look unpaired).
 */
static int check_clones(struct checker *c)
{
	const struct shadow_clone *clones;
	uint64_t unread = c->unread;
	bool clones_whole;
	int r;

	if (c->sb->held_root)
		damage(c, "a clone store holds a metadata snapshot (held_root %" PRIu64 "), which the kernel never takes of one: no reference count follows its clones' bitsets",
		       c->sb->held_root);
	if (c->sb->nr_origin_chunks > SHADOW_MAX_CLONE_CHUNKS)
		damage(c, "a clone store's origin has %" PRIu64 " chunks, more than a bitset indexes (%llu)",
		       c->sb->nr_origin_chunks, SHADOW_MAX_CLONE_CHUNKS);
	r = walk_tree(c, c->sb->clone_root, K_CLONE, sizeof(struct shadow_disk_clone),
		      visit_clone, "the superblock");
	if (r < 0)
		return r;
	if (c->oom)
		return -ENOMEM;
	clones_whole = c->unread == unread;
	c->bs.block = malloc(PD_BLOCK_SIZE);
	if (!c->bs.block)
		return -ENOMEM;
	clones = c->clones.v;
	for (size_t i = 0; i < c->clones.n && r >= 0; i++) {
		check_clone_record(c, &clones[i]);
		r = check_clone_bitset(c, &clones[i]);
	}
	if (r < 0)
		return r;
	if (c->snaps_whole && clones_whole)
		check_clone_pairs(c);
	return 0;
}

static int cmp_dref(const void *a, const void *b)
{
	const struct dref *x = a, *y = b;

	if (x->chunk != y->chunk)
		return x->chunk < y->chunk ? -1 : 1;
	return x->live == y->live ? 0 : x->live ? -1 : 1;
}

static int cmp_refc(const void *a, const void *b)
{
	const struct refc *x = a, *y = b;

	return x->block < y->block ? -1 : x->block > y->block;
}

/* Two live mappings of one data chunk: each chunk serves one mapping. */
static void check_dref_owners(struct checker *c)
{
	const struct dref *d = c->drefs.v;

	for (size_t i = 0; i < c->drefs.n; i++) {
		if (i == 0 || d[i].chunk != d[i - 1].chunk)
			c->res.data_used++;
		if (i > 0 && d[i].chunk == d[i - 1].chunk && d[i].live && d[i - 1].live)
			damage(c, "data chunk %" PRIu64 " is used by the %s of origin chunk %" PRIu64 " seq %" PRIu64 " and by the %s of origin chunk %" PRIu64 " seq %" PRIu64,
			       d[i].chunk,
			       d[i - 1].private ? "private chunk" : "exception",
			       key_chunk(d[i - 1].key), key_tag(c, d[i - 1].key, d[i - 1].private),
			       d[i].private ? "private chunk" : "exception",
			       key_chunk(d[i].key), key_tag(c, d[i].key, d[i].private));
	}
}

/* How one space map is compared with the counts recomputed from the trees. */
struct sm_scan {
	const char *name;		/* "metadata block", "data chunk" */
	const char *map;		/* "metadata", "data" */
	uint64_t nr_blocks;
	uint64_t allocated;		/* nonzero counts seen */
	size_t refc_pos;		/* merge position in c->refcs */
	size_t dref_pos;		/* merge position in c->drefs */
	size_t pending_pos;		/* merge position in c->pending */
	bool data;
	uint64_t *leaked;
};

static uint32_t expected_count(struct checker *c, struct sm_scan *sc, uint64_t b)
{
	const struct dref *d = c->drefs.v;
	uint32_t n = 0;

	/*
	 * The journal's ring and past the metadata area: reserved at format
	 * time, counted once.
	 */
	if (!sc->data)
		return b < c->nblocks ? c->md_expected[b] : b < c->sm_blocks ? 1 : 0;
	while (sc->dref_pos < c->drefs.n && d[sc->dref_pos].chunk < b)
		sc->dref_pos++;
	while (sc->dref_pos < c->drefs.n && d[sc->dref_pos].chunk == b) {
		sc->dref_pos++;
		n++;
	}
	return n;
}

static uint32_t overflow_count(struct checker *c, struct sm_scan *sc, uint64_t b)
{
	struct refc *e = c->refcs.v;

	while (sc->refc_pos < c->refcs.n && e[sc->refc_pos].block < b)
		sc->refc_pos++;
	if (sc->refc_pos < c->refcs.n && e[sc->refc_pos].block == b) {
		e[sc->refc_pos].consumed = true;
		if (e[sc->refc_pos].count < 3)
			damage(c, "%s space map ref count tree gives %s %" PRIu64 " a count of %u, below 3",
			       sc->map, sc->name, b, e[sc->refc_pos].count);
		return e[sc->refc_pos].count;
	}
	damage(c, "%s space map bitmap sends %s %" PRIu64 " to the ref count tree, which has no entry for it",
	       sc->map, sc->name, b);
	return 3;
}

/*
 * Pending journal entries whose data chunk is @b: the kernel's allocator
 * hands out only chunks free in the committed data space map, and the
 * replay counts the chunk 0 to 1.
 */
static void check_pending_free(struct checker *c, struct sm_scan *sc, uint64_t b,
			       uint32_t recorded)
{
	const struct shadow_pending *p = c->pending;
	char what[160];

	while (sc->pending_pos < c->npending && p[sc->pending_pos].entry.store_chunk < b)
		sc->pending_pos++;
	for (; sc->pending_pos < c->npending && p[sc->pending_pos].entry.store_chunk == b;
	     sc->pending_pos++) {
		if (!recorded)
			continue;
		pending_name(&p[sc->pending_pos], what, sizeof(what));
		damage(c, "%s: data chunk %" PRIu64 " is counted %u times in the data space map, not free",
		       what, b, recorded);
	}
}

/*
 * A ring block: counted once when the store is formatted, never handed
 * out nor freed.  Any other count means the space map was not written by
 * a kernel that knows the ring: with 0, a tree node could be allocated
 * there and overwritten by the next journal write.
 */
static void check_journal_count(struct checker *c, uint64_t b, uint32_t recorded)
{
	if (recorded != 1)
		damage(c, "metadata block %" PRIu64 " (exception journal block %" PRIu64 ") has a space map count of %u, not 1: the ring is counted once, when the store is formatted",
		       b, b - c->nblocks, recorded);
}

/* Compare bitmap number @i (at block @b, verified) with the recomputed counts. */
static void scan_bitmap(struct checker *c, struct sm_scan *sc, const uint8_t *block,
			uint64_t i, uint64_t b, const struct pd_index_entry *ie)
{
	uint64_t first = i * PD_ENTRIES_PER_BITMAP, first_free = UINT64_MAX;
	uint32_t nr_free = 0;

	for (uint32_t e = 0; e < PD_ENTRIES_PER_BITMAP; e++) {
		uint64_t blk = first + e;
		unsigned int v = pd_bitmap_lookup(block, e);
		uint32_t recorded, expected;

		if (blk >= sc->nr_blocks) {
			if (v)
				damage(c, "%s space map bitmap %" PRIu64 " counts %s %" PRIu64 ", beyond its %" PRIu64 " blocks",
				       sc->map, b, sc->name, blk, sc->nr_blocks);
			else
				nr_free++;
			continue;
		}
		recorded = v == PD_BITMAP_OVERFLOW ? overflow_count(c, sc, blk) : v;
		expected = expected_count(c, sc, blk);
		if (recorded) {
			sc->allocated++;
		} else {
			nr_free++;
			if (first_free == UINT64_MAX)
				first_free = e;
		}
		if (sc->data)
			check_pending_free(c, sc, blk, recorded);
		if (!sc->data && in_journal(c, blk)) {
			check_journal_count(c, blk, recorded);
		} else if (recorded < expected) {
			damage(c, "%s %" PRIu64 " is used %u times but its space map count is %u",
			       sc->name, blk, expected, recorded);
		} else if (recorded > expected) {
			(*sc->leaked)++;
			leak(c, "%s %" PRIu64 " is counted %u times but used %u times: leaked",
			     sc->name, blk, recorded, expected);
		}
	}
	if (nr_free != ie->nr_free)
		damage(c, "%s space map bitmap %" PRIu64 " has %u free entries, its index entry says %u",
		       sc->map, b, nr_free, ie->nr_free);
	if (first_free != UINT64_MAX && ie->none_free_before > first_free)
		damage(c, "%s space map bitmap %" PRIu64 ": its index entry says none is free before entry %u, but entry %" PRIu64 " is",
		       sc->map, b, ie->none_free_before, first_free);
}

/* After the scan: ref count entries the bitmaps never pointed at. */
static void check_refcs_consumed(struct checker *c, struct sm_scan *sc)
{
	const struct refc *e = c->refcs.v;

	for (size_t i = 0; i < c->refcs.n; i++)
		if (!e[i].consumed)
			damage(c, "%s space map ref count tree has a count of %u for %s %" PRIu64 ", whose bitmap entry is not 3",
			       sc->map, e[i].count, sc->name, e[i].block);
}

static void check_allocated(struct checker *c, struct sm_scan *sc, uint64_t stored)
{
	if (sc->allocated != stored)
		damage(c, "%s space map says %" PRIu64 " blocks are allocated, its bitmaps count %" PRIu64,
		       sc->map, stored, sc->allocated);
}

static uint64_t nr_bitmaps(uint64_t nr_blocks)
{
	return (nr_blocks + PD_ENTRIES_PER_BITMAP - 1) / PD_ENTRIES_PER_BITMAP;
}

static int check_data_sm(struct checker *c)
{
	const struct shadow_sm_root *sm = &c->sb->data_sm;
	_cleanup_free_ uint8_t *block = NULL;
	struct sm_scan sc = {
		.name = "data chunk",
		.map = "data",
		.nr_blocks = sm->nr_blocks,
		.data = true,
		.leaked = &c->res.leaked_data,
	};
	uint64_t n = nr_bitmaps(sm->nr_blocks);
	int r;

	/* Each bitmap is a metadata block: more than there are is damage. */
	if (n >= c->nblocks) {
		damage(c, "data space map of %" PRIu64 " blocks needs %" PRIu64 " bitmaps, more than the metadata area's %" PRIu64 " blocks",
		       sm->nr_blocks, n, c->nblocks);
		return 0;
	}
	c->refcs.n = 0;
	r = walk_tree(c, sm->ref_count_root, K_DSM_REF, sizeof(uint32_t), visit_refc,
		      "the data space map");
	if (r < 0)
		return r;
	qsort(c->refcs.v, c->refcs.n, sizeof(struct refc), cmp_refc);

	/* A clone store's data space map has no bitmap: n is 0. */
	c->index.v = calloc(n ? n : 1, sizeof(struct pd_index_entry));
	c->index.n = n;
	c->index_present = calloc(n ? n : 1, 1);
	block = malloc(PD_BLOCK_SIZE);
	if (!c->index.v || !c->index_present || !block)
		return -ENOMEM;
	r = walk_tree(c, sm->bitmap_root, K_DSM_INDEX, PD_INDEX_ENTRY_SIZE, visit_index,
		      "the data space map");
	if (r < 0)
		return r;

	for (uint64_t i = 0; i < n; i++) {
		const struct pd_index_entry *ie = (const struct pd_index_entry *)c->index.v + i;
		struct shadow_error err = {};

		if (!c->index_present[i]) {
			damage(c, "data space map index has no entry for bitmap %" PRIu64, i);
			continue;
		}
		if (!ref_block(c, ie->blocknr, K_DSM_BITMAP, "the data space map index"))
			continue;
		r = read_block(c, ie->blocknr, block);
		if (r < 0)
			return r;
		if (pd_bitmap_verify(block, ie->blocknr, &err) < 0) {
			c->res.bad_blocks++;
			damage(c, "%s", err.msg);
			continue;
		}
		scan_bitmap(c, &sc, block, i, ie->blocknr, ie);
	}
	check_refcs_consumed(c, &sc);
	check_allocated(c, &sc, sm->nr_allocated);
	return 0;
}

/*
 * The metadata space map counts its own index, bitmaps and ref count
 * nodes, so they are all referenced (step 1) before any bitmap is
 * compared (step 2).
 */
static int check_metadata_sm(struct checker *c)
{
	const struct shadow_sm_root *sm = &c->sb->metadata_sm;
	uint8_t index[PD_BLOCK_SIZE], block[PD_BLOCK_SIZE];
	struct pd_index_entry ie[PD_MAX_METADATA_BITMAPS];
	bool ok[PD_MAX_METADATA_BITMAPS] = {};
	struct sm_scan sc = {
		.name = "metadata block",
		.map = "metadata",
		.nr_blocks = sm->nr_blocks,
		.leaked = &c->res.leaked_metadata,
	};
	uint64_t n = nr_bitmaps(sm->nr_blocks);
	struct shadow_error err = {};
	int r;

	if (n > PD_MAX_METADATA_BITMAPS) {
		damage(c, "metadata space map of %" PRIu64 " blocks needs %" PRIu64 " bitmaps, its index holds %d",
		       sm->nr_blocks, n, PD_MAX_METADATA_BITMAPS);
		return 0;
	}
	c->refcs.n = 0;
	r = walk_tree(c, sm->ref_count_root, K_MSM_REF, sizeof(uint32_t), visit_refc,
		      "the metadata space map");
	if (r < 0)
		return r;
	qsort(c->refcs.v, c->refcs.n, sizeof(struct refc), cmp_refc);

	if (!ref_block(c, sm->bitmap_root, K_MSM_INDEX, "the metadata space map root"))
		return 0;
	r = read_block(c, sm->bitmap_root, index);
	if (r < 0)
		return r;
	if (pd_index_verify(index, sm->bitmap_root, &err) < 0) {
		c->res.bad_blocks++;
		damage(c, "%s: the metadata space map cannot be compared", err.msg);
		return 0;
	}
	for (uint64_t i = 0; i < n; i++) {
		pd_index_entry_decode(pd_metadata_index_entry(index, (uint32_t)i), &ie[i]);
		ok[i] = ref_block(c, ie[i].blocknr, K_MSM_BITMAP, "the metadata space map index");
	}

	for (uint64_t i = 0; i < n; i++) {
		if (!ok[i])
			continue;
		r = read_block(c, ie[i].blocknr, block);
		if (r < 0)
			return r;
		if (pd_bitmap_verify(block, ie[i].blocknr, &err) < 0) {
			c->res.bad_blocks++;
			damage(c, "%s", err.msg);
			continue;
		}
		scan_bitmap(c, &sc, block, i, ie[i].blocknr, &ie[i]);
	}
	/* Blocks the trees use that the space map does not cover at all. */
	for (uint64_t b = sm->nr_blocks; b < c->nblocks; b++)
		if (c->md_expected[b])
			damage(c, "metadata block %" PRIu64 " (%s) is beyond the metadata space map's %" PRIu64 " blocks",
			       b, kind_names[c->md_kind[b]], sm->nr_blocks);
	check_refcs_consumed(c, &sc);
	check_allocated(c, &sc, sm->nr_allocated);
	return 0;
}

static int cmp_dref_chunk(const void *key, const void *elem)
{
	uint64_t chunk = *(const uint64_t *)key;
	const struct dref *d = elem;

	return chunk < d->chunk ? -1 : chunk > d->chunk;
}

static int cmp_pending(const void *a, const void *b)
{
	const struct shadow_pending *x = a, *y = b;

	if (x->entry.store_chunk != y->entry.store_chunk)
		return x->entry.store_chunk < y->entry.store_chunk ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/*
 * One pending entry, as the kernel checks it before inserting it: a tree
 * it knows, a key within the origin and the sequences handed out, a data
 * chunk within the store that no tree uses.  Its space map count is
 * compared by check_pending_free(), other entries by check_journal().
 */
static void check_pending(struct checker *c, const struct shadow_pending *p)
{
	const struct shadow_journal_entry *e = &p->entry;
	const struct dref *d;
	char what[160], raw[64];

	pending_name(p, what, sizeof(what));
	if (e->tree != SHADOW_JOURNAL_SHARED && e->tree != SHADOW_JOURNAL_PRIVATE)
		damage(c, "%s names tree %u, neither %d (exceptions) nor %d (private chunks)",
		       what, e->tree, SHADOW_JOURNAL_SHARED, SHADOW_JOURNAL_PRIVATE);
	if (e->chunk >= c->sb->nr_origin_chunks)
		damage(c, "%s: origin chunk %" PRIu64 " is beyond the %" PRIu64 " origin chunks",
		       what, e->chunk, c->sb->nr_origin_chunks);
	if (p->tag == 0 || p->tag > c->sb->last_seq) {
		stored_as(c, e->tree == SHADOW_JOURNAL_SHARED, e->seq, raw, sizeof(raw));
		damage(c, "%s: seq %" PRIu64 "%s is outside 1..last_seq %" PRIu64,
		       what, p->tag, raw, c->sb->last_seq);
	}
	if (e->store_chunk >= c->sb->nr_data_chunks) {
		damage(c, "%s: data chunk %" PRIu64 " is beyond the store's %" PRIu64 " data chunks",
		       what, e->store_chunk, c->sb->nr_data_chunks);
		return;
	}
	d = bsearch(&e->store_chunk, c->drefs.v, c->drefs.n, sizeof(struct dref),
		    cmp_dref_chunk);
	if (d)
		damage(c, "%s: data chunk %" PRIu64 " is already used by the %s of origin chunk %" PRIu64 " seq %" PRIu64 "%s",
		       what, e->store_chunk, d->private ? "private chunk" : "exception",
		       key_chunk(d->key), key_tag(c, d->key, d->private),
		       d->live ? "" : " (in the metadata snapshot)");
}

/*
 * The exception journal's pending prefix: what the next load inserts,
 * and refuses the store for when an entry is wrong.  Valid entries are
 * only counted.  Leaves c->pending sorted by data chunk, for
 * check_pending_free().
 */
static int check_journal(struct checker *c)
{
	struct shadow_pending *p;
	struct shadow_error err = {};
	char what[160];
	uint32_t blocks;
	int r;

	r = shadow_store_load_journal(c->store, &c->pending, &c->npending, &blocks, &err);
	if (r < 0)
		return r;
	c->res.journal_pending = c->npending;
	c->res.journal_blocks = blocks;
	for (size_t i = 0; i < c->npending; i++)
		check_pending(c, &c->pending[i]);
	qsort(c->pending, c->npending, sizeof(*c->pending), cmp_pending);
	p = c->pending;
	for (size_t i = 1; i < c->npending; i++) {
		if (p[i].entry.store_chunk != p[i - 1].entry.store_chunk)
			continue;
		pending_name(&p[i], what, sizeof(what));
		damage(c, "%s: data chunk %" PRIu64 " is also the value of exception journal block %u entry %u",
		       what, p[i].entry.store_chunk, p[i - 1].index, p[i - 1].slot);
	}
	return 0;
}

static int run(struct checker *c)
{
	int r;

	c->res.needs_check = c->sb->flags & SHADOW_SB_NEEDS_CHECK;
	if (c->sb->flags & ~SHADOW_SB_NEEDS_CHECK)
		damage(c, "superblock has unknown flags 0x%x", c->sb->flags & ~SHADOW_SB_NEEDS_CHECK);

	/* The metadata space map counts the superblock once (dm_sm_metadata_create). */
	c->md_expected[0] = 1;
	c->md_kind[0] = K_SB;

	r = walk_trees(c, c->sb, "the superblock");
	if (r >= 0 && c->sb->store_type == SHADOW_STORE_CLONE)
		r = check_clones(c);
	if (r >= 0 && c->sb->revert_root)
		r = walk_tree(c, c->sb->revert_root, K_REVERT, sizeof(uint64_t),
			      visit_revert, "the superblock");
	if (r >= 0 && c->sb->held_root)
		r = walk_held(c);
	if (r < 0)
		return r;
	qsort(c->drefs.v, c->drefs.n, sizeof(struct dref), cmp_dref);
	check_dref_owners(c);
	r = check_journal(c);
	if (r < 0)
		return r;

	r = check_data_sm(c);
	if (r >= 0)
		r = check_metadata_sm(c);
	if (r < 0)
		return r;
	if (c->oom)
		return -ENOMEM;

	for (uint64_t b = 0; b < c->nblocks; b++)
		c->res.metadata_used += c->md_expected[b] > 0;
	c->res.leaked = c->res.leaked_metadata + c->res.leaked_data;
	return 0;
}

int shadow_store_check(struct shadow_store *s, shadow_problem_fn fn,
		       void *userdata, struct shadow_check_result *ret)
{
	const struct shadow_superblock *sb = shadow_store_sb(s);
	struct checker c = {
		.store = s,
		.sb = sb,
		.fn = fn,
		.userdata = userdata,
		.nblocks = shadow_journal_start(sb),
		.sm_blocks = sb->metadata_sm.nr_blocks > sb->metadata_blocks ?
			     sb->metadata_sm.nr_blocks : sb->metadata_blocks,
		.drefs.size = sizeof(struct dref),
		.seqs.size = sizeof(uint64_t),
		.refcs.size = sizeof(struct refc),
		.index.size = sizeof(struct pd_index_entry),
		.snaps.size = sizeof(struct snap_ref),
		.clones.size = sizeof(struct shadow_clone),
	};
	int r = -ENOMEM;

	/* Both are at most SHADOW_MAX_METADATA_BLOCKS: 24 MiB here. */
	c.md_expected = calloc(c.sm_blocks, sizeof(*c.md_expected));
	c.md_kind = calloc(c.sm_blocks, 1);
	c.md_state = calloc(c.sm_blocks, 1);
	if (c.md_expected && c.md_kind && c.md_state)
		r = run(&c);
	if (r >= 0)
		*ret = c.res;
	free(c.md_expected);
	free(c.md_kind);
	free(c.md_state);
	free(c.drefs.v);
	free(c.seqs.v);
	free(c.refcs.v);
	free(c.index.v);
	free(c.index_present);
	free(c.pending);
	free(c.snaps.v);
	free(c.clones.v);
	free(c.bs.block);
	return r < 0 ? r : 0;
}
