/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsers for exactly what the dm-shadow targets print (dm-shadow(7)):
 * the shadow-origin and shadow-snap status lines and the answer to the
 * shadow-origin "list" message.  Pure functions: 0 or -EINVAL (-ENOMEM),
 * ret_* untouched on failure.  Each is unit-tested on literal strings.
 */
#ifndef SHADOW_STATUS_H
#define SHADOW_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The @len characters at @s as a decimal number: digits only (no sign, no
 * space), at most UINT64_MAX.  0 or -EINVAL.
 */
int shadow_parse_decimal(const char *s, size_t len, uint64_t *ret);

/* A clone store holds at most this many clones (dm-shadow(7), CLONES). */
#define SHADOW_STATUS_MAX_CLONES	8

/* <id> hydrating|complete|failed <copied>/<origin_chunks>: one clone. */
enum shadow_clone_state {
	SHADOW_CLONE_STATE_HYDRATING,
	SHADOW_CLONE_STATE_COMPLETE,
	SHADOW_CLONE_STATE_FAILED,
};
struct shadow_clone_status {
	uint64_t id;
	enum shadow_clone_state state;
	uint64_t copied;		/* origin chunks on its target */
	uint64_t total;			/* the origin's chunks */
};
/* "hydrating", "complete", "failed" (NULL for another value). */
const char *shadow_clone_status_word(enum shadow_clone_state s);

/*
 * <store_type> <chunk_sectors> <used_chunks>/<limit_chunks>
 * <snapshots>/<max_snapshots> <invalid> rw|fail [<data_chunks>]
 * (shadow-origin 1.0.0 prints no data_chunks: then it is total_chunks,
 * which that version's store could use whole).
 */
struct shadow_origin_status {
	char store_type[16];
	uint32_t chunk_sectors;
	uint64_t used_chunks;
	uint64_t total_chunks;		/* the data limit: what it may use */
	uint64_t data_chunks;		/* what the store holds */
	uint32_t snapshots;
	uint32_t max_snapshots;
	uint32_t invalid;
	bool failed;			/* mode "fail" */
	/* Since target version 2.0.0 (has_metadata): */
	bool has_metadata;
	uint64_t metadata_used;		/* 4 KiB metadata blocks */
	uint64_t metadata_blocks;
	uint64_t transaction_id;
	bool needs_check;
	uint64_t held_root;		/* metadata snapshot's block, 0 = none */
	/* Since target version 2.1.0: a revert running (reverting). */
	bool reverting;
	uint64_t revert_id;		/* the snapshot reverted to */
	uint64_t revert_cursor;		/* origin chunks below it are merged */
	uint64_t origin_chunks;
	/*
	 * Since target version 2.2.0, row stores: fold-back walking the
	 * store (folding), where it is, and its rate in MiB/s (0: no limit).
	 */
	bool folding;
	uint64_t fold_cursor;
	uint64_t fold_origin_chunks;
	uint32_t fold_rate;
	/*
	 * Since target version 2.4.0, clone stores only (has_clones): the
	 * hydration rate in MiB/s (0: no limit) and each clone, in the
	 * store's slot order.
	 */
	bool has_clones;
	uint32_t hydrate_rate;
	unsigned int n_clones;
	struct shadow_clone_status clones[SHADOW_STATUS_MAX_CLONES];
};
/* The most words a status line may have, later versions' included. */
#define SHADOW_ORIGIN_STATUS_MAX_WORDS	64
int shadow_parse_origin_status(const char *params,
			       struct shadow_origin_status *ret);

/* <snapshot_id> valid|invalid ro|rw|sealed */
enum shadow_seal { SHADOW_SEAL_RO, SHADOW_SEAL_RW, SHADOW_SEAL_SEALED };
struct shadow_snap_status {
	uint64_t id;
	bool valid;
	enum shadow_seal seal;
};
int shadow_parse_snap_status(const char *params, struct shadow_snap_status *ret);

/* One line of "list": <id> <seq> <ctime> valid|invalid ro|sealed */
struct shadow_list_entry {
	uint64_t id;
	uint64_t seq;
	uint64_t ctime;
	bool valid;
	bool sealed;
};
/* All lines (empty answer: *ret_n = 0, *ret = NULL). */
int shadow_parse_list(const char *out, struct shadow_list_entry **ret,
		      unsigned int *ret_n);

/*
 * shadow-origin table parameters, as the kernel prints them back:
 * <origin_dev> <store_dev> <store_type> <chunk_sectors> [<#features> ...]
 * where the features (clone stores) are clone_target <id> <dev> (at most
 * SHADOW_STATUS_MAX_CLONES) and hydrate_rate <MiB/s>; an unknown feature
 * is refused.
 */
struct shadow_origin_table {
	char origin[64];
	char store[64];
	char store_type[16];
	uint32_t chunk_sectors;
	unsigned int n_targets;
	struct {
		uint64_t id;
		char dev[64];
	} targets[SHADOW_STATUS_MAX_CLONES];
	bool has_hydrate_rate;
	uint32_t hydrate_rate;
};
int shadow_parse_origin_table(const char *params,
			      struct shadow_origin_table *ret);

#endif
