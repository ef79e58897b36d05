/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host-endian views of the dm-shadow on-disk structures
 * (dm-shadow/dm-shadow-format.h), with decoders, encoders and superblock
 * validation.  Nothing outside this file and shadow-format.c touches a
 * little-endian field.
 */
#ifndef SHADOW_FORMAT_H
#define SHADOW_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm-shadow-format.h"
#include "dm-shadow-layout.h"

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
	uint32_t max_snapshots;
	uint64_t origin_sectors;
	uint64_t nr_origin_chunks;
	uint64_t store_sectors;
	uint64_t snap_table_start;
	uint64_t index_start;
	uint64_t index_blocks;
	uint64_t record_start;
	uint64_t record_blocks;
	uint64_t data_start;
	uint64_t nr_data_chunks;

	uint64_t high_water;
	uint64_t free_head;
	uint64_t free_count;
	uint64_t last_seq;
	uint64_t commit_gen;
	uint64_t format_time;

	/* As stored: meaningful only with SHADOW_FEATURE_COMPAT_LIMIT. */
	uint64_t data_limit;
};

struct shadow_snapshot {
	uint64_t id;
	uint64_t seq;
	uint64_t ctime;
	uint32_t state;
	uint32_t flags;
};

struct shadow_record {
	uint64_t origin_chunk;
	uint64_t seq;
	uint64_t next;
	uint32_t flags;
	uint32_t pad;
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
	SHADOW_ERR_STATE,		/* allocation state out of range */
	SHADOW_ERR_TOO_SMALL,		/* device smaller than the store */
};

struct shadow_error {
	enum shadow_err code;
	char msg[256];
};

/* Record @code and a formatted message in @err (which may be NULL). */
void shadow_error_set(struct shadow_error *err, enum shadow_err code,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *shadow_err_name(enum shadow_err code);

const char *shadow_block_type_name(uint32_t type);
const char *shadow_store_type_name(uint32_t store_type);
const char *shadow_snap_state_name(uint32_t state);

bool shadow_block_is_zero(const void *block);

/*
 * Verify a block's header (type, blocknr) and checksum.  Returns 0 or
 * -EBADMSG with @err filled (SHADOW_ERR_ZERO for an all-zero block).
 */
int shadow_block_verify(const void *block, uint32_t type, uint64_t blocknr,
			struct shadow_error *err);
/* Fill a block's header and checksum; the payload must already be set. */
void shadow_block_seal(void *block, uint32_t type, uint64_t blocknr);

void shadow_sb_decode(const void *block, struct shadow_superblock *ret);
/* Encode @sb into a sealed 512-byte block (header from type SB, blocknr 0). */
void shadow_sb_encode(const struct shadow_superblock *sb, void *block);

/*
 * The data chunks the store may use: data_limit when the superblock has
 * SHADOW_FEATURE_COMPAT_LIMIT, else all of them.
 */
uint64_t shadow_sb_data_limit(const struct shadow_superblock *sb);

/*
 * Fill the geometry of @sb (nr_origin_chunks and the layout fields) from
 * origin_sectors, store_sectors, chunk_sectors and max_snapshots, as a
 * freshly formatted store has it.  Returns 0 or -ENOSPC (store too small)
 * or -EINVAL (chunk size or snapshot count out of range).
 */
int shadow_sb_init_geometry(struct shadow_superblock *sb);

/*
 * Validate a superblock block read from a device of @dev_sectors sectors
 * (0: size unknown, not checked).  Checks, in order: magic, block type,
 * version range, checksum, blocknr, unknown incompat features, geometry
 * (chunk size, snapshot count, origin chunks, and the layout against
 * shadow_layout_compute()), allocation state (the data limit included).  Returns 0 and fills @ret,
 * or -EBADMSG / -EPROTONOSUPPORT / -EOPNOTSUPP / -EUCLEAN / -ENOSPC with
 * @err saying exactly what is wrong.
 */
int shadow_sb_validate(const void *block, uint64_t dev_sectors,
		       struct shadow_superblock *ret, struct shadow_error *err);

/* Entry @i (0-based within the block) of a snapshot table block. */
void shadow_snap_decode(const void *block, unsigned int i,
			struct shadow_snapshot *ret);
void shadow_snap_encode(void *block, unsigned int i,
			const struct shadow_snapshot *s);

/* Entry @i of an index block: record number + 1, 0 = no chain. */
uint64_t shadow_index_decode(const void *block, unsigned int i);
void shadow_index_encode(void *block, unsigned int i, uint64_t head);

/* Entry @i of a record block. */
void shadow_record_decode(const void *block, unsigned int i,
			  struct shadow_record *ret);
void shadow_record_encode(void *block, unsigned int i,
			  const struct shadow_record *r);

#endif
