/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Changed-block tracking: which origin chunks read differently in two
 * snapshots of one store, or in a snapshot and the live volume, from the
 * store's metadata alone (no data is read).
 *
 * A copy (exception) is tagged with the sequence of the newest snapshot
 * when the origin chunk was first written after it, and serves the
 * snapshots from the previous copy's tag (exclusive) up to its own
 * (dm-shadow-format.h).  A row store's version is tagged the same way (it
 * holds what the live volume had while that snapshot was the newest) and
 * serves the snapshots above its tag up to the next version's.  Either
 * way, snapshot A (sequence a) and a newer B (sequence b) read a chunk
 * from different places exactly when one of its copies is tagged in
 * [a, b): the chunk was written after A was taken and before B was.
 * Against the live volume, any copy tagged a or later.  A row store
 * reverted to a snapshot has dead versions (tagged in [dropped_from,
 * dropped_below), shadow_sb_tag_dead()): no one reads them, and a reader
 * that finds one reads the newest version below dropped_from instead, so
 * every reader reads its newest live version tagged below its sequence.
 * The rule then holds with the dead versions left out: a chunk changed
 * exactly when one of its versions that is not dead is tagged in [a, b).
 * A writable snapshot's own chunks count as changed for it.  The result is exact
 * with one documented superset: a write that stored the same bytes again
 * still counts as a change.
 *
 * The work is one walk of the exception tree in key order (chunk, then
 * tag; a row store's tags descend, its keys holding them inverted):
 * proportional to the copies in the store, not to the volume, and
 * in constant memory (the writable snapshots' own chunks of A and B are
 * collected first, in chunk order).  Ranges come out in chunk order, each
 * a run of consecutive changed chunks, through a callback, so a caller can
 * stream them.
 */
#ifndef SHADOW_DIFF_H
#define SHADOW_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shadow-format.h"
#include "shadow-store.h"

/* The sequence that stands for the live volume: newer than any snapshot. */
#define SHADOW_DIFF_LIVE		UINT64_MAX

/* Called for each run of changed chunks; a negative return stops the diff. */
typedef int (*shadow_diff_fn)(void *userdata, uint64_t first_chunk,
			      uint64_t nr_chunks);

struct shadow_diff {
	uint64_t seq_from, seq_to;	/* seq_from < seq_to */
	uint64_t dead_from, dead_below;	/* copies tagged in between are skipped */
	shadow_diff_fn fn;
	void *userdata;
	/* Chunks changed whatever the copies say (private chunks), sorted. */
	const uint64_t *extra;
	size_t nr_extra, next_extra;
	/* The chunk whose copies are being fed, and whether it is decided. */
	uint64_t chunk;
	bool in_chunk, decided;
	/* The run being built, not yet passed to fn. */
	uint64_t run_first, run_len;
	uint64_t nr_changed;		/* chunks passed on so far */
};

/*
 * Start a diff between sequences @seq_a and @seq_b (either order; one may
 * be SHADOW_DIFF_LIVE).  @extra: @nr_extra chunk numbers in ascending
 * order that are changed in any case (may be NULL); it must stay valid
 * until shadow_diff_finish().
 */
void shadow_diff_init(struct shadow_diff *d, uint64_t seq_a, uint64_t seq_b,
		      const uint64_t *extra, size_t nr_extra,
		      shadow_diff_fn fn, void *userdata);

/*
 * Leave out the copies tagged in [@from, @below): a row store's dead
 * versions (dropped_from and dropped_below of a superblock with
 * SHADOW_FEATURE_INCOMPAT_ROW_DROPPED).  Call after shadow_diff_init(),
 * before the first copy is fed; none are left out otherwise.
 */
void shadow_diff_skip_dead(struct shadow_diff *d, uint64_t from, uint64_t below);

/*
 * Feed one copy (exception): origin chunk @chunk tagged @tag, in chunk
 * order, a chunk's copies in any order.  Returns 0 or what the callback
 * returned; -EINVAL when chunks come out of order.
 */
int shadow_diff_feed(struct shadow_diff *d, uint64_t chunk, uint64_t tag);

/* Pass on what is left.  Returns 0 or what the callback returned. */
int shadow_diff_finish(struct shadow_diff *d);

/*
 * The diff of snapshots @id_a and @id_b of the store @s (@b_is_live: of
 * snapshot @id_a and the live volume), from the trees the store reads
 * (shadow_store_use_held() first for a consistent view of a store in use).
 * Returns 0 with @ret_changed set to the chunks passed on, -ENOENT when a
 * snapshot does not exist, -ESTALE when one is invalid (dropped on
 * overflow: it has no data to compare), -EOPNOTSUPP for a clone store
 * (its clones are full copies: it records no writes to compare), what
 * @fn returned, or -errno from reading the store; @err says which.
 */
int shadow_store_diff(struct shadow_store *s, uint64_t id_a, uint64_t id_b,
		      bool b_is_live, shadow_diff_fn fn, void *userdata,
		      uint64_t *ret_changed, struct shadow_error *err);

#endif
