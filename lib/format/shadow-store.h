/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Read-only access to a dm-shadow store (a block device or an image file),
 * for offline tools.  Every block read through here is verified (checksum,
 * blocknr, node header) before it is decoded, and every walk is bounded:
 * a block is read at most once per walk and trees are at most
 * SHADOW_BTREE_MAX_DEPTH deep, so a corrupt store cannot make a reader
 * loop.
 */
#ifndef SHADOW_STORE_H
#define SHADOW_STORE_H

#include "macro.h"
#include "shadow-format.h"
#include "shadow-pd.h"

/*
 * dm-btree nodes hold at least a third of max_entries (84 children in
 * internal nodes), so 2^64 keys need fewer than 11 levels.
 */
#define SHADOW_BTREE_MAX_DEPTH		16

struct shadow_store;

/*
 * Open @path read-only, read and validate its superblock.  Returns 0, or
 * -errno from open/read (err->code SHADOW_ERR_IO), or a validation error
 * from shadow_sb_validate().
 */
int shadow_store_open(const char *path, struct shadow_store **ret,
		      struct shadow_error *err);
struct shadow_store *shadow_store_free(struct shadow_store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct shadow_store *, shadow_store_free);
#define _cleanup_store_ _cleanup_(shadow_store_freep)

const struct shadow_superblock *shadow_store_sb(const struct shadow_store *s);
uint64_t shadow_store_dev_sectors(const struct shadow_store *s);

/*
 * Read the snapshot, exception and private trees through the metadata
 * snapshot at the superblock's held_root (reserve_metadata_snap) rather
 * than the live roots: what shadow_store_load_snapshots() and
 * shadow_store_load_mappings() return afterwards is the store as of the
 * reserve, which the kernel does not change until it is released, so it
 * can be read while the origin is written.  The held block is a copy of
 * the superblock: it must verify as one at its own block number, belong
 * to this store (magic, version, uuid, geometry as the superblock's),
 * hold no metadata snapshot itself, have its roots inside the metadata
 * area (below the exception journal's ring) and no later sequence or
 * transaction than the superblock.
 * Returns 0, -ENODATA when no metadata snapshot is held (err->code
 * SHADOW_ERR_NONE), -EBADMSG / -EUCLEAN when the copy is bad (a release
 * racing this read leaves that too), or -errno from the read.
 * shadow_store_check() is not affected: it always walks both.
 */
int shadow_store_use_held(struct shadow_store *s, struct shadow_error *err);
/*
 * The superblock whose tree roots the loaders and walks read: the held
 * copy after shadow_store_use_held(), else the live superblock.
 */
const struct shadow_superblock *shadow_store_tree_sb(const struct shadow_store *s);
/* The metadata snapshot's superblock copy after shadow_store_use_held(), or NULL. */
const struct shadow_superblock *shadow_store_held_sb(const struct shadow_store *s);

/*
 * Read metadata block @blocknr (4 KiB) without verifying it.  0, -ERANGE
 * beyond the metadata area, or -errno (-EIO on EOF) with @err filled.
 */
int shadow_store_read_block(struct shadow_store *s, uint64_t blocknr,
			    void *buf, struct shadow_error *err);

/* Called for each leaf entry, in key order; a negative return stops. */
typedef int (*shadow_btree_fn)(void *userdata, uint64_t key, const void *value);

/*
 * Walk the btree at @root whose leaves hold @value_size-byte values.
 * Returns 0, what @fn returned, or -EBADMSG (a node failed verification,
 * keys out of order, a loop, too deep) / -errno with @err filled.
 */
int shadow_store_btree_walk(struct shadow_store *s, uint64_t root,
			    uint32_t value_size, shadow_btree_fn fn,
			    void *userdata, struct shadow_error *err);

/* Every entry of the snapshot tree, in id order, newly allocated. */
int shadow_store_load_snapshots(struct shadow_store *s,
				struct shadow_snapshot **ret, size_t *ret_n,
				struct shadow_error *err);

/*
 * Every entry of a clone store's clone tree, in id order, newly
 * allocated; none (and *ret NULL) for a store of another type.  The
 * clone tree is always the live superblock's: a clone store takes no
 * metadata snapshot.
 */
int shadow_store_load_clones(struct shadow_store *s,
			     struct shadow_clone **ret, size_t *ret_n,
			     struct shadow_error *err);

/* Called for each run of chunks; a negative return stops the walk. */
typedef int (*shadow_chunks_fn)(void *userdata, uint64_t first_chunk,
				uint64_t nr_chunks);

/*
 * The origin chunks clone @c has copied to its target, read from its
 * bitset (a dm_bitset of nr_origin_chunks bits at c->bitset_root: a
 * dm_array of __le64 words, see shadow-pd.h): each run of consecutive
 * copied chunks, in chunk order, through @fn (may be NULL), and how many
 * there are in @ret_copied (may be NULL).  Every node and array block is
 * verified; the array must have every block, 0 first, each holding the
 * words its place gives it, and no bit past the origin's last chunk set.
 * Returns 0, -ENODATA when @c has no bitset (a complete or failed clone:
 * bitset_root 0), -EBADMSG with @err when the bitset is broken, or what
 * @fn returned, or -errno from a read with @err.
 */
int shadow_store_clone_copied(struct shadow_store *s, const struct shadow_clone *c,
			      shadow_chunks_fn fn, void *userdata,
			      uint64_t *ret_copied, struct shadow_error *err);

/* An entry of the exception or private tree. */
struct shadow_mapping {
	uint64_t origin_chunk;
	uint64_t seq;		/* tag (exception) or owner's sequence (private) */
	uint64_t data_chunk;
	bool private;
};

/*
 * Every exception, then every private mapping, newly allocated, in key
 * order.  seq is the tag whatever the store type: a row store's keys
 * hold it inverted (dm-shadow-format.h), so its versions of a chunk come
 * newest first.
 */
int shadow_store_load_mappings(struct shadow_store *s,
			       struct shadow_mapping **ret, size_t *ret_n,
			       struct shadow_error *err);

/* The sequence that stands for the live volume in shadow_store_resolve(). */
#define SHADOW_STORE_LIVE		UINT64_MAX

/* Where a snapshot or the live volume reads an origin chunk. */
struct shadow_read {
	bool origin;		/* from the origin device; the rest is 0 */
	bool private;		/* a writable snapshot's own chunk */
	uint64_t tag;		/* the exception's or version's tag, or the owner's sequence */
	uint64_t data_chunk;
};

/*
 * What the snapshot with sequence @seq (SHADOW_STORE_LIVE: the live
 * volume) reads of origin chunk @chunk, from the trees the store reads
 * (shadow_store_tree_sb()), as the kernel resolves it (dm-shadow-format.h):
 *  - a snapshot's own (private) chunk first, in either store;
 *  - a cow store: the exception of the chunk with the lowest tag at or
 *    above @seq, else the origin; the live volume reads the origin;
 *  - a row store: the newest version of the chunk tagged below @seq
 *    (the live volume: the newest of all); if that one is dead
 *    (shadow_sb_tag_dead()), the newest tagged below dropped_from;
 *    else the origin.
 * Pending journal entries are not looked at, nor a revert under way: the
 * origin is what it holds.  Each lookup descends the tree (a few blocks
 * read).  Returns 0 with @ret filled, -EOPNOTSUPP for a clone store,
 * -EINVAL for a chunk beyond the origin or a sequence of 0, or -EBADMSG /
 * -errno from reading the tree with @err.
 */
int shadow_store_resolve(struct shadow_store *s, uint64_t seq, uint64_t chunk,
			 struct shadow_read *ret, struct shadow_error *err);

/* An entry of the exception journal's pending prefix, and where it is. */
struct shadow_pending {
	struct shadow_journal_entry entry;	/* as written */
	uint64_t tag;		/* shadow_journal_entry_tag() of it */
	uint32_t index;		/* the ring block holding it, 0 first */
	uint32_t slot;		/* its place among that block's entries */
};

/*
 * The exception journal's pending prefix (dm-shadow-format.h): ring
 * blocks read from index 0 on while shadow_journal_verify() passes them,
 * that is, written since the superblock's commit; the first that does
 * not ends it (a stale, torn or never written block: not an error).
 * Their entries are what the kernel inserts when it next loads the
 * store.  Returns 0 with every entry, in ring order, newly allocated
 * (none for a store without the journal), and in @ret_blocks how many
 * blocks the prefix has; or -errno from a read with @err.
 */
int shadow_store_load_journal(struct shadow_store *s,
			      struct shadow_pending **ret, size_t *ret_n,
			      uint32_t *ret_blocks, struct shadow_error *err);

#endif
