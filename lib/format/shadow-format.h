/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host-endian views of the dm-shadow superblock, snapshot and clone
 * records and exception journal blocks (dm-shadow/dm-shadow-format.h, version 2), with
 * decoders, encoders and validation.  The dm-persistent-data blocks the
 * superblock points at (btree nodes, space maps) are read by
 * shadow-pd.[ch].  Nothing outside these files touches a little-endian
 * field.
 */
#ifndef SHADOW_FORMAT_H
#define SHADOW_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm-shadow-format.h"
#include "dm-shadow-layout.h"

/* What a provider reads to tell a blank store from a formatted one. */
#define SHADOW_SECTOR_SIZE		512

/* The largest store (and origin) the tools accept, in sectors. */
#define SHADOW_MAX_SECTORS		SHADOW_MAX_STORE_SECTORS

/* dm-persistent-data's struct disk_sm_root, host-endian. */
struct shadow_sm_root {
	uint64_t nr_blocks;
	uint64_t nr_allocated;
	uint64_t bitmap_root;
	uint64_t ref_count_root;
};

struct shadow_superblock {
	uint32_t csum;
	uint32_t type;
	uint64_t blocknr;
	uint64_t magic;
	uint32_t version;
	uint32_t store_type;
	uint8_t uuid[16];
	uint64_t compat_flags;
	uint64_t ro_compat_flags;
	uint64_t incompat_flags;

	uint32_t chunk_sectors;
	uint32_t flags;			/* SHADOW_SB_* */
	uint64_t origin_sectors;
	uint64_t nr_origin_chunks;
	uint64_t store_sectors;
	uint64_t metadata_blocks;
	uint64_t data_start;
	uint64_t nr_data_chunks;
	uint64_t format_time;

	uint64_t trans_id;
	uint64_t data_limit;
	uint64_t last_seq;
	uint64_t held_root;
	uint64_t exception_root;
	uint64_t private_root;
	uint64_t snapshot_root;
	struct shadow_sm_root metadata_sm;
	struct shadow_sm_root data_sm;
	uint64_t revert_seq;		/* a revert under way, else 0 */
	uint64_t revert_cursor;
	uint64_t revert_root;
	/*
	 * A row store's dead versions (SHADOW_FEATURE_INCOMPAT_ROW_DROPPED):
	 * tagged in [dropped_from, dropped_below); else both 0.
	 */
	uint64_t dropped_from;
	uint64_t dropped_below;
	uint64_t clone_root;		/* a clone store's clones, else 0 */
};

struct shadow_snapshot {
	uint64_t id;
	uint64_t seq;
	uint64_t ctime;
	uint32_t state;
	uint32_t flags;
};

/* A clone tree value (struct shadow_disk_clone). */
struct shadow_clone {
	uint64_t id;			/* its snapshot's id; also the key */
	uint64_t bitset_root;		/* a hydrating clone's copied chunks, else 0 */
	uint64_t nr_copied;		/* chunks on the target */
	uint64_t target_sectors;	/* the target's size when it was made */
	uint32_t state;			/* SHADOW_CLONE_* */
	uint32_t flags;			/* none defined: 0 */
};

/* An exception journal block's header (struct shadow_disk_journal). */
struct shadow_journal_header {
	uint32_t csum;
	uint32_t type;
	uint64_t blocknr;
	uint8_t uuid[16];
	uint64_t trans_id;
	uint32_t index;
	uint32_t nr_entries;
};

/*
 * One of its entries (struct shadow_disk_journal_entry; padding dropped),
 * as written: seq is the key's sequence part verbatim, so a row store's
 * exceptions hold their tag inverted (shadow_journal_entry_tag()).
 */
struct shadow_journal_entry {
	uint64_t chunk;			/* origin chunk */
	uint64_t seq;			/* the key's sequence part */
	uint64_t store_chunk;		/* data chunk: the value */
	uint32_t tree;			/* SHADOW_JOURNAL_SHARED or _PRIVATE */
};

/* Why a block or superblock was refused; one code per distinct failure. */
enum shadow_err {
	SHADOW_ERR_NONE = 0,
	SHADOW_ERR_IO,			/* could not read */
	SHADOW_ERR_ZERO,		/* all-zero block: never written */
	SHADOW_ERR_BAD_MAGIC,
	SHADOW_ERR_BAD_TYPE,		/* header type is not the expected one */
	SHADOW_ERR_BAD_VERSION,
	SHADOW_ERR_BAD_CSUM,
	SHADOW_ERR_BAD_BLOCKNR,
	SHADOW_ERR_INCOMPAT,		/* unknown incompat feature bit */
	SHADOW_ERR_GEOMETRY,		/* geometry inconsistent */
	SHADOW_ERR_STATE,		/* transaction state out of range */
	SHADOW_ERR_TOO_SMALL,		/* device smaller than the store */
	SHADOW_ERR_BAD_NODE,		/* btree node header insane */
	SHADOW_ERR_STALE,		/* a journal block of another commit */
};

struct shadow_error {
	enum shadow_err code;
	char msg[256];
};

/* Record @code and a formatted message in @err (which may be NULL). */
void shadow_error_set(struct shadow_error *err, enum shadow_err code,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *shadow_err_name(enum shadow_err code);

const char *shadow_store_type_name(uint32_t store_type);
const char *shadow_snap_state_name(uint32_t state);
/* "hydrating", "complete", "failed"; NULL for an unknown state. */
const char *shadow_clone_state_name(uint32_t state);

/* True when the first SHADOW_SECTOR_SIZE bytes of @block are zero. */
bool shadow_block_is_zero(const void *block);
bool shadow_mem_is_zero(const void *buf, size_t len);

void shadow_sb_decode(const void *block, struct shadow_superblock *ret);
/*
 * Encode @sb into a sealed SHADOW_MD_BLOCK_SIZE block: type SB, blocknr
 * @blocknr (0 for the superblock, the block itself for a held copy).
 */
void shadow_sb_encode(const struct shadow_superblock *sb, uint64_t blocknr,
		      void *block);

/*
 * Verify the header of a superblock-type block (the superblock or the
 * metadata snapshot held_root points at): magic, type, version,
 * checksum, blocknr.  Returns 0, -EBADMSG or -EPROTONOSUPPORT with @err.
 */
int shadow_sb_verify_block(const void *block, uint64_t blocknr,
			   struct shadow_error *err);

/*
 * The layout a store of @store_sectors in @chunk_sectors chunks must
 * have, as shadow_layout_compute() gives it, but in constant time and
 * without overflow for any input: -1 when the store is too small for one
 * data chunk or larger than SHADOW_MAX_SECTORS.  The validator uses this
 * so that a corrupt size near 2^64 cannot make it loop.  @journal_blocks
 * is the exception journal's ring that ends the metadata area:
 * SHADOW_JOURNAL_BLOCKS for a store formatted now, 0 for one formatted
 * before the journal existed (shadow_journal_blocks() of its superblock).
 */
int shadow_layout_solve(struct shadow_layout *l, uint64_t store_sectors,
			uint32_t chunk_sectors, uint32_t journal_blocks);
/*
 * The smallest store that holds one data chunk, in sectors, as the
 * kernel formats one now (with the exception journal).
 */
uint64_t shadow_layout_min_sectors(uint32_t chunk_sectors);
/*
 * The smallest clone store (metadata only, shadow_layout_compute_clone()),
 * in sectors, as the kernel formats one now: the roots, one commit's
 * shadows and the exception journal, in whole chunks.  Its clones'
 * bitmaps need room beyond that (dm-shadow(7), CLONES).
 */
uint64_t shadow_layout_min_clone_sectors(uint32_t chunk_sectors);

/*
 * Fill the geometry of @sb (nr_origin_chunks, metadata_blocks,
 * data_start, nr_data_chunks) from store_type, origin_sectors,
 * store_sectors and chunk_sectors, as a freshly formatted store has it:
 * with the exception journal, so SHADOW_FEATURE_INCOMPAT_JOURNAL is set
 * in incompat_flags.  A clone store (SHADOW_STORE_CLONE) gets the
 * metadata-only layout (shadow_layout_compute_clone(): no data chunks)
 * and SHADOW_FEATURE_INCOMPAT_CLONE too, and its origin at most
 * SHADOW_MAX_CLONE_CHUNKS chunks, as the kernel formats one.
 * Returns 0 or -ENOSPC (store too small) or -EINVAL (chunk size or sizes
 * out of range).
 */
int shadow_sb_init_geometry(struct shadow_superblock *sb);

/*
 * The exception journal's ring of a decoded superblock, in blocks
 * (dm-shadow-sb-check.h's shadow_sb_journal_blocks()): 0 for a store
 * formatted without one.
 */
uint32_t shadow_journal_blocks(const struct shadow_superblock *sb);
/*
 * The ring's first block: every tree lies below it (metadata_blocks
 * for a store without the journal).
 */
uint64_t shadow_journal_start(const struct shadow_superblock *sb);

/*
 * Validate a superblock block (SHADOW_MD_BLOCK_SIZE bytes) read from a
 * device of @dev_sectors sectors (0: size unknown, not checked).  Checks,
 * in order: magic, block type, version (version 1 is refused with its own
 * message), checksum, blocknr, unknown incompat features, store type,
 * geometry (chunk size, origin chunks, and the layout against
 * shadow_layout_solve(), a clone store's against its metadata-only
 * layout), device size, transaction state (data limit, 0 exactly when
 * the store has no data chunks, last_seq, roots inside the metadata
 * area, the clone feature set exactly on a clone store, which alone has
 * a clone_root, space map sizes).  Returns 0
 * and fills @ret, or -EBADMSG / -EPROTONOSUPPORT / -EOPNOTSUPP / -EUCLEAN /
 * -ENOSPC with @err saying exactly what is wrong.
 */
int shadow_sb_validate(const void *block, uint64_t dev_sectors,
		       struct shadow_superblock *ret, struct shadow_error *err);
/*
 * The dropped range of a superblock-type block that is not validated
 * whole (the metadata snapshot's copy): the rule shadow_sb_validate()
 * applies (dm-shadow-sb-check.h's shadow_sb_check_row_dropped()).
 * Returns 0 or -EUCLEAN with @err.
 */
int shadow_sb_verify_dropped(const void *block, struct shadow_error *err);

/*
 * Whether a version of a row store tagged @tag is dead: dropped by a
 * revert (dm-shadow-format.h), tagged in [dropped_from, dropped_below)
 * while SHADOW_FEATURE_INCOMPAT_ROW_DROPPED is set.  Nobody reads it: a
 * reader that finds one reads the newest version tagged below
 * dropped_from instead, else the origin.  Always false for other stores
 * (validation refuses the feature on them).
 */
bool shadow_sb_tag_dead(const struct shadow_superblock *sb, uint64_t tag);

/* A snapshot tree value (struct shadow_disk_snapshot) at @p. */
void shadow_snap_decode(const void *p, struct shadow_snapshot *ret);
void shadow_snap_encode(void *p, const struct shadow_snapshot *s);

/* A clone tree value (struct shadow_disk_clone) at @p. */
void shadow_clone_decode(const void *p, struct shadow_clone *ret);
void shadow_clone_encode(void *p, const struct shadow_clone *c);

/*
 * Verify a block read from ring slot @index of the exception journal of
 * the store whose superblock is @sb (block shadow_journal_start(sb) +
 * @index): not all zeroes, type, checksum (SHADOW_JOURNAL_CSUM_XOR),
 * blocknr, then that it belongs to the superblock's commit: its uuid,
 * trans_id and index, and nr_entries at most SHADOW_JOURNAL_ENTRIES.
 * Returns 0 and fills @ret, or -EBADMSG (never written, or not a sound
 * journal block) or -ESTALE (a sound block of another commit or store)
 * with @err saying which.  Either ends the journal's pending prefix:
 * that is how every ring ends, not damage.
 */
int shadow_journal_verify(const void *block, const struct shadow_superblock *sb,
			  uint32_t index, struct shadow_journal_header *ret,
			  struct shadow_error *err);
/* Entry @i (< SHADOW_JOURNAL_ENTRIES) of a journal block. */
void shadow_journal_entry_decode(const void *block, uint32_t i,
				 struct shadow_journal_entry *ret);
/*
 * The tag of journal entry @e of a store of type @store_type: its seq,
 * or shadow_row_seq() of it for an exception of a row store.  A seq
 * beyond SHADOW_MAX_SEQ stays out of 1..SHADOW_MAX_SEQ either way.
 */
uint64_t shadow_journal_entry_tag(uint32_t store_type,
				  const struct shadow_journal_entry *e);
/*
 * Encode a sealed journal block, for building images: the header @h
 * (csum and type are computed; blocknr as given) and its first
 * h->nr_entries @entries.
 */
void shadow_journal_encode(const struct shadow_journal_header *h,
			   const struct shadow_journal_entry *entries, void *block);

#endif
