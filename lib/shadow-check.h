/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Offline consistency check of a dm-shadow store.
 */
#ifndef SHADOW_CHECK_H
#define SHADOW_CHECK_H

#include "shadow-store.h"

struct shadow_check_result {
	uint64_t used;			/* records reachable from the index */
	uint64_t free;			/* records on the free list */
	uint64_t leaked;		/* below high_water, neither used nor free */
	uint64_t unallocated;		/* data chunks above high_water */
	uint64_t chains;		/* origin chunks with an exception chain */
	uint64_t snapshots;		/* snapshot table entries in use */
	uint64_t unwritten_blocks;	/* all-zero metadata blocks (read as empty) */
	uint64_t bad_blocks;		/* metadata blocks failing verification */
	uint64_t problems;		/* inconsistencies found, all kinds */
};

/* Called once per inconsistency found, with a complete sentence. */
typedef void (*shadow_problem_fn)(void *userdata, const char *msg);

/*
 * Walk every metadata block of @s:
 *  - every snapshot-table, index and record block (below high_water)
 *    verifies (type, blocknr, checksum);
 *  - snapshot entries have a known state and flags, and live ones have
 *    unique sequences in 1..last_seq;
 *  - every index chain stays below high_water, its records are USED and
 *    belong to that origin chunk, shared records run newest first by seq,
 *    private records belong to a snapshot in the table;
 *  - no record is reachable twice (from two chains, within one chain, or
 *    from a chain and the free list);
 *  - the free list stays below high_water, holds no USED record, and its
 *    length is the superblock's free_count;
 *  - records below high_water that are neither reachable nor free are
 *    counted as leaked.
 * Each problem is passed to @fn (may be NULL).  Returns 0 when the walk
 * completed (@ret->problems says whether the store is consistent), or
 * -errno when it could not be done (out of memory, read error).
 */
int shadow_store_check(struct shadow_store *s, shadow_problem_fn fn,
		       void *userdata, struct shadow_check_result *ret);

#endif
