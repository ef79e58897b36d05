/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Offline consistency check of a dm-shadow store (format version 2).
 */
#ifndef SHADOW_CHECK_H
#define SHADOW_CHECK_H

#include "shadow-store.h"

/*
 * What a finding means.  DAMAGE: the store is wrong in a way that loses or
 * corrupts data if used (a bad block, a block or chunk counted lower than
 * it is used, a broken tree).  LEAK: space counted in a space map that
 * nothing uses (or counted higher than it is used); it is only lost until
 * repaired, as after a crash between a space map update and the commit
 * that would use it.
 */
enum shadow_finding {
	SHADOW_FINDING_DAMAGE,
	SHADOW_FINDING_LEAK,
};

struct shadow_check_result {
	uint64_t snapshots;		/* entries of the snapshot tree */
	uint64_t clones;		/* entries of a clone store's clone tree */
	uint64_t exceptions;		/* entries of the exception tree */
	uint64_t dead_versions;		/* of those, a row store's dead ones */
	uint64_t private_chunks;	/* entries of the private tree */
	uint64_t metadata_used;		/* metadata blocks reachable from the roots */
	uint64_t data_used;		/* data chunks the trees use */
	uint64_t leaked_metadata;	/* metadata blocks counted above their use */
	uint64_t leaked_data;		/* data chunks counted above their use */
	uint64_t leaked;		/* leaked_metadata + leaked_data */
	uint64_t bad_blocks;		/* metadata blocks failing verification */
	uint64_t problems;		/* DAMAGE findings */
	uint64_t journal_pending;	/* exception journal entries the next load replays */
	uint64_t journal_blocks;	/* the ring blocks they are in */
	bool needs_check;		/* the superblock asks for a check */
};

/* Called once per finding, with a complete sentence. */
typedef void (*shadow_problem_fn)(void *userdata, enum shadow_finding kind,
				  const char *msg);

/*
 * Walk every metadata block reachable from the superblock (and from the
 * metadata snapshot at held_root, which is read as a copy of the
 * superblock, as dm-thin's is):
 *  - every btree node, bitmap and index block verifies (checksum,
 *    blocknr, node header), keys ascend strictly within their parent's
 *    range, no block is reached twice unless a metadata snapshot shares
 *    it, and none is used as two kinds of block;
 *  - snapshots: id matches the key, known state and flags, sequences
 *    unique and in 1..last_seq, at most SHADOW_MAX_SNAPSHOTS;
 *  - exceptions: tag in 1..last_seq (a row store's keys hold it
 *    inverted: shadow_shared_key_tag()), origin chunk below
 *    nr_origin_chunks; private mappings: owned by a snapshot's
 *    sequence; every value is a data chunk below the data space map's
 *    size, used by one mapping only;
 *  - a clone store: its exception and private trees are empty (an entry
 *    is DAMAGE: it keeps no data); the clone tree holds at most
 *    SHADOW_MAX_CLONES clones, each with its id as key, a known state,
 *    no flags, nr_copied at most nr_origin_chunks (all of them when
 *    complete), a target at least the origin's size, and a bitset
 *    exactly when hydrating; each clone has a snapshot and each snapshot
 *    a clone, the snapshot invalid exactly when the clone failed; a
 *    bitset (a dm_bitset: a dm_array of __le64 words, shadow-pd.h) has
 *    every array block its nr_origin_chunks bits need, index 0 first,
 *    each verifying (checksum, blocknr, value size, max_entries, the
 *    nr_entries its index gives it), no bit set past the last chunk, and
 *    as many bits set as the hydrating clone's nr_copied; an array block
 *    that several indices share (dm_array may share one until it is
 *    written) is counted once per index that names it, as the metadata
 *    space map counts it; a clone store holds no metadata snapshot;
 *  - a row store's dead versions (shadow_sb_tag_dead(): dropped by a
 *    revert, freed by the kernel in the background) are checked and
 *    counted like any other, data in use rather than leaks, and counted
 *    apart (dead_versions); a snapshot whose sequence lies in
 *    (dropped_from, dropped_below] is DAMAGE: it would read through the
 *    dead versions, and the revert leaves none there; the metadata
 *    snapshot's copy of the dropped range must be consistent
 *    (shadow_sb_verify_dropped());
 *  - reference counts recomputed from the trees (one per parent block
 *    reference for metadata blocks, one per leaf entry for data chunks,
 *    the superblock counting once, and each block past the metadata area
 *    that the metadata space map spans counting once, as reserved) are
 *    compared with both space maps:
 *    counted lower than used is DAMAGE, counted higher is a LEAK;
 *    nr_allocated and each bitmap's nr_free and none_free_before hint
 *    must agree with the bitmaps;
 *  - the exception journal's ring (the last SHADOW_JOURNAL_BLOCKS blocks
 *    of the metadata area, when the store has one): no tree reaches it,
 *    and each of its blocks is counted exactly once in the metadata space
 *    map, anything else being DAMAGE;
 *  - the journal's pending entries (shadow_store_load_journal()), which
 *    the kernel inserts when it next loads the store: each names a known
 *    tree, an origin chunk below nr_origin_chunks, a tag
 *    (shadow_journal_entry_tag()) in 1..last_seq and a data chunk below
 *    nr_data_chunks that is free in the data space map, used by no tree
 *    and by no other pending entry.  Such entries are neither damage
 *    nor leaks, only counted (journal_pending, journal_blocks); a
 *    broken one is DAMAGE: the kernel would refuse the store.
 * Each finding is passed to @fn (may be NULL); at most 100 of each kind
 * are passed, the rest only counted.  Every loop is bounded by the
 * metadata area's size.  Returns 0 when the walk completed (@ret says
 * what was found), or -errno when it could not be done (out of memory,
 * read error).
 */
int shadow_store_check(struct shadow_store *s, shadow_problem_fn fn,
		       void *userdata, struct shadow_check_result *ret);

#endif
