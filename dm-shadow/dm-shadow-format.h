/* SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later */
/*
 * dm-shadow on-disk store format.
 *
 * This header is shared by the kernel module and the userspace tools, so it
 * includes nothing but <linux/types.h> and uses only little-endian,
 * fixed-width fields.  Userspace reads a store offline with it.
 *
 * The store is cut into 512-byte metadata blocks followed by a data area of
 * chunks.  Blocks are 512 bytes because a sector is the largest unit every
 * disk writes atomically: a metadata block is rewritten in place, and a torn
 * write must never take durable entries with it.
 *
 *   block 0                 superblock
 *   snap_table_start ...    snapshot table, SHADOW_SNAPS_PER_BLOCK per block
 *   index_start ...         chunk index: per origin chunk, head of its
 *                           exception chain (record number + 1, 0 = none)
 *   record_start ...        exception records, one per data chunk
 *   data_start ...          data chunks, chunk_sectors each
 *
 * Every block starts with struct shadow_block_header.  Its checksum is
 * crc32c (seed ~0) over the block from byte 4 to the end, xored with a
 * per-type constant so that a block of one type never validates as another.
 *
 * Exception record n describes data chunk n.  A shared record holds the data
 * origin chunk 'origin_chunk' had before the first write after snapshot
 * 'seq' (the newest snapshot at copy time); it serves every live snapshot
 * whose sequence lies in (seq of the next older shared record, seq].  A
 * private record (SHADOW_REC_PRIVATE) holds a writable snapshot's own copy
 * of the chunk; 'seq' is then the owning snapshot's sequence.  Chains run
 * newest first through 'next'.  Free records are chained from the
 * superblock's free_head through 'next'.
 *
 * Data chunks are handed out from the free list, then from high_water up,
 * but never at or above the data limit (SHADOW_FEATURE_COMPAT_LIMIT), so
 * high_water <= data_limit <= nr_data_chunks always holds.
 */
#ifndef DM_SHADOW_FORMAT_H
#define DM_SHADOW_FORMAT_H

#include <linux/types.h>

#define SHADOW_MAGIC			0x776f646168737364ULL /* "dsshadow" */
#define SHADOW_VERSION_MIN		1
#define SHADOW_VERSION_MAX		1
#define SHADOW_VERSION			1

#define SHADOW_BLOCK_SIZE		512
#define SHADOW_BLOCK_SHIFT		9

/* Per block type: stored in the header and xored into its checksum. */
#define SHADOW_BLOCK_SB			0x53425348U	/* "HSBS" */
#define SHADOW_BLOCK_SNAP		0x50534853U	/* "SHSP" */
#define SHADOW_BLOCK_INDEX		0x58494853U	/* "SHIX" */
#define SHADOW_BLOCK_RECORD		0x43524853U	/* "SHRC" */

#define SHADOW_STORE_COW		1
#define SHADOW_STORE_ROW		2
#define SHADOW_STORE_CLONE		3

#define SHADOW_MIN_CHUNK_SECTORS	8	/* 4 KiB */
#define SHADOW_MAX_CHUNK_SECTORS	2048	/* 1 MiB */
#define SHADOW_MAX_SNAPSHOTS		8190	/* 546 table blocks */

/*
 * Feature bits.  An unknown incompat bit refuses the store, an unknown
 * ro_compat bit refuses writing it.  A compat feature can be ignored: a
 * module that does not know it uses the store without it, and clears the
 * bit when it writes the superblock, so the feature's field is read only
 * while its bit is set.
 *
 * COMPAT_LIMIT: data_limit is the number of data chunks the store may use,
 * 1 .. nr_data_chunks.  Without it the store uses all of them.
 */
#define SHADOW_FEATURE_COMPAT_LIMIT	(1ULL << 0)

#define SHADOW_FEATURE_COMPAT_SUPP	SHADOW_FEATURE_COMPAT_LIMIT
#define SHADOW_FEATURE_RO_COMPAT_SUPP	0ULL
#define SHADOW_FEATURE_INCOMPAT_SUPP	0ULL

struct shadow_block_header {
	__le32 csum;
	__le32 type;
	__le64 blocknr;
} __attribute__((packed));

struct shadow_disk_superblock {
	struct shadow_block_header hdr;
	__le64 magic;
	__le32 version;
	__le32 store_type;
	__u8 uuid[16];
	__le64 compat_flags;
	__le64 ro_compat_flags;
	__le64 incompat_flags;

	/* Geometry, fixed when the store is formatted. */
	__le32 chunk_sectors;
	__le32 max_snapshots;
	__le64 origin_sectors;
	__le64 nr_origin_chunks;
	__le64 store_sectors;
	__le64 snap_table_start;	/* in blocks */
	__le64 index_start;		/* in blocks */
	__le64 index_blocks;
	__le64 record_start;		/* in blocks */
	__le64 record_blocks;
	__le64 data_start;		/* in sectors, chunk aligned */
	__le64 nr_data_chunks;

	/* Allocation and sequence state, rewritten by every commit. */
	__le64 high_water;		/* data chunks ever handed out */
	__le64 free_head;		/* record number + 1, 0 = empty */
	__le64 free_count;
	__le64 last_seq;		/* last snapshot sequence handed out */
	__le64 commit_gen;
	__le64 format_time;		/* seconds since the epoch */

	/* Compat features: meaningful only while their bit is set. */
	__le64 data_limit;		/* COMPAT_LIMIT: data chunks usable */
} __attribute__((packed));

#define SHADOW_SNAP_FREE		0
#define SHADOW_SNAP_VALID		1
#define SHADOW_SNAP_INVALID		2	/* dropped on overflow */

#define SHADOW_SNAPF_SEALED		(1U << 0)	/* never writable again */
#define SHADOW_SNAPF_WRITTEN		(1U << 1)	/* has private chunks */

struct shadow_disk_snapshot {
	__le64 id;		/* chosen by userspace */
	__le64 seq;		/* creation sequence, > 0, strictly increasing */
	__le64 ctime;		/* seconds since the epoch */
	__le32 state;
	__le32 flags;
} __attribute__((packed));

#define SHADOW_REC_USED			(1U << 0)
#define SHADOW_REC_PRIVATE		(1U << 1)

struct shadow_disk_record {
	__le64 origin_chunk;
	__le64 seq;
	__le64 next;		/* record number + 1, 0 = end of chain */
	__le32 flags;
	__le32 pad;
} __attribute__((packed));

#define SHADOW_BLOCK_PAYLOAD \
	(SHADOW_BLOCK_SIZE - sizeof(struct shadow_block_header))
#define SHADOW_SNAPS_PER_BLOCK \
	(SHADOW_BLOCK_PAYLOAD / sizeof(struct shadow_disk_snapshot))
#define SHADOW_INDEX_PER_BLOCK	(SHADOW_BLOCK_PAYLOAD / sizeof(__le64))
#define SHADOW_RECORDS_PER_BLOCK \
	(SHADOW_BLOCK_PAYLOAD / sizeof(struct shadow_disk_record))

#endif /* DM_SHADOW_FORMAT_H */
