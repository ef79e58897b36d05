/* SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later */
/*
 * dm-shadow on-disk store format, version 2.
 *
 * This header is shared by the kernel module and the userspace tools, so it
 * includes nothing but <linux/types.h> and uses only little-endian,
 * fixed-width fields.  Userspace reads a store offline with it.
 *
 * A store is one device cut in two:
 *
 *   blocks 0 .. metadata_blocks - 1   metadata, in 4 KiB blocks
 *   data_start ...                     data chunks, chunk_sectors each
 *
 * The metadata area is managed by the kernel's dm-persistent-data library,
 * as dm-thin's metadata device is: block 0 is our superblock, every other
 * block belongs to a transaction.  Nothing is ever updated in place.  A
 * commit shadows (copies) every block it changes into a free block, writes
 * them, flushes, and only then writes the superblock that points at the new
 * roots (and flushes again).  A power cut at any point leaves either the
 * old or the new superblock, and each reaches only complete blocks.
 *
 * dm-persistent-data's block manager sees the whole store device, so the
 * metadata space map spans shadow_metadata_sm_blocks(store_sectors)
 * blocks, and every block from metadata_blocks up to that is counted once
 * (reserved at format time: the data area is not metadata's to hand out).
 * A checker expects exactly that count on each of them.
 *
 * Blocks other than the superblock are dm-persistent-data's own:
 *   - btree nodes (struct node_header, keys, values; checksum xor 121107),
 *   - the metadata space map's index block (xor 160478) and the bitmap
 *     blocks of both space maps (xor 240779), two bits per block with a
 *     btree of overflow reference counts,
 * each starting with a crc32c (seed ~0) over the block from byte 4,
 * xored with its constant.  The superblock follows the same rule with
 * SHADOW_SB_CSUM_XOR; its first 32 bytes are laid out as in version 1, so
 * any version's tools can tell which version a store is.
 *
 * Four trees hang off the superblock:
 *   exception_root  the shared exceptions of the cow store: one per copied
 *                   origin chunk and epoch.  Key: shadow_exc_key(chunk,
 *                   tag), where tag is the sequence of the newest snapshot
 *                   when the copy was taken; value: __le64 data chunk.  The
 *                   copy serves every valid snapshot whose sequence lies in
 *                   (tag of the next older exception of the chunk, tag].
 *   private_root    a writable snapshot's own chunks.  Key:
 *                   shadow_exc_key(chunk, owner's sequence); value: __le64
 *                   data chunk.
 *   snapshot_root   the snapshots.  Key: snapshot id; value: struct
 *                   shadow_disk_snapshot.
 *   data space map  (data_space_map_root) reference counts of the data
 *                   chunks: 1 for a chunk an exception uses, 0 for a free one.
 * Exception keys sort by chunk, then by tag, so the exception that serves
 * snapshot s at chunk c is the first key at or after shadow_exc_key(c, s's
 * sequence) with the same chunk: one btree lookup.
 *
 * In a row store (redirect-on-write) exception_root holds versions: the
 * live volume's writes since a snapshot, each the data of an origin chunk
 * as written while the newest snapshot had sequence tag.  Key:
 * shadow_exc_key(chunk, shadow_row_seq(tag)), so that a chunk's versions
 * sort newest first; value: __le64 data chunk.  Snapshot s reads chunk c
 * from the newest version tagged below s's sequence, the live volume from
 * the newest version, both from the origin when there is none.  The
 * origin device is written only while no snapshot and no version of the
 * chunk exist, and by fold-back.  private_root is as in the cow store.
 *
 * A row store reverted to its newest snapshot R has dropped every version
 * tagged at or above R's sequence: SHADOW_FEATURE_INCOMPAT_ROW_DROPPED is
 * set and
 *   dropped_from    R's sequence,
 *   dropped_below   the tag of the live volume's versions since the revert,
 *                   a sequence handed to no snapshot (last_seq then),
 * and versions tagged in [dropped_from, dropped_below) are dead: nobody
 * reads them (no snapshot lies in (dropped_from, dropped_below]), a
 * reader that finds one goes on below dropped_from, and the kernel frees
 * them in the background, then clears both fields and the feature bit.
 * A second revert before then to the same snapshot widens the range.  A
 * module that does not know the feature would read dead versions as
 * live data, so it refuses the store.
 *
 * While a revert runs (SHADOW_FEATURE_INCOMPAT_REVERT set), a fifth tree
 * and two more fields say how far it got:
 *   revert_seq      the sequence of the snapshot the origin is rolled back
 *                   to; 0 when no revert runs.
 *   revert_cursor   every origin chunk below it holds the snapshot's data.
 *   revert_root     origin chunks at or above the cursor that were merged
 *                   out of order (a write came first).  Key: chunk; value:
 *                   __le64 0, counted nowhere.  0 when no revert runs.
 * A store in the middle of a revert is refused by a module that does not
 * know the feature: it would read the origin as if no revert had begun.
 *
 * The exception journal (SHADOW_FEATURE_INCOMPAT_JOURNAL, set on every
 * store formatted since it exists): the last SHADOW_JOURNAL_BLOCKS blocks
 * of the metadata area are a ring, counted once in the metadata space map
 * like the data area and never handed out.  A batch of finished copies is
 * made durable by writing the next block of the ring (REQ_PREFLUSH |
 * REQ_FUA) rather than by a commit: one write instead of every block the
 * commit shadows, the superblock and two flushes.  A block holds the
 * store's uuid, the transaction id of the last commit, its index in the
 * ring (block metadata_blocks - SHADOW_JOURNAL_BLOCKS + index) and the
 * exceptions inserted since the block before it.  A commit empties the
 * ring (the next block written is index 0 again, under the new
 * transaction id), so no block is ever rewritten while it holds entries
 * not committed.  Loading replays, in index order from 0, every block
 * whose checksum, uuid, transaction id and index are right, up to the
 * first that is not; each entry's data chunk must be free in the
 * committed data space map (the allocator hands out only such chunks).
 * A module that does not know the feature would ignore the entries:
 * snapshots would read data written after them, so it refuses the store.
 *
 * A clone store (SHADOW_STORE_CLONE, always with
 * SHADOW_FEATURE_INCOMPAT_CLONE) keeps no data: its snapshots are clones,
 * full copies of the origin on target devices of their own, which the
 * origin's table names.  The store device is all metadata (nr_data_chunks
 * and data_limit are 0, data_start is the device's end rounded down to a
 * chunk), and a sixth tree hangs off the superblock:
 *   clone_root      the clones.  Key: the clone's snapshot id; value:
 *                   struct shadow_disk_clone.  A clone being hydrated has
 *                   a dm-persistent-data bitset (dm_bitset: a dm_array of
 *                   __le64 words, bit i set once origin chunk i is copied
 *                   to the target and the target flushed), bitset_root; a
 *                   complete or failed clone has none (bitset_root 0).
 * The snapshot tree holds each clone's snapshot as in any store (its
 * sequence, time, state: a failed clone's snapshot is invalid).  The
 * exception and private trees stay empty.
 */
#ifndef DM_SHADOW_FORMAT_H
#define DM_SHADOW_FORMAT_H

#include <linux/types.h>

#define SHADOW_MAGIC			0x776f646168737364ULL /* "dsshadow" */
#define SHADOW_VERSION_MIN		2
#define SHADOW_VERSION_MAX		2
#define SHADOW_VERSION			2

/* Metadata block size: dm-persistent-data's, 8 sectors. */
#define SHADOW_MD_BLOCK_SIZE		4096
#define SHADOW_MD_BLOCK_SECTORS		8

/* The superblock's type field, also xored into its checksum. */
#define SHADOW_BLOCK_SB			0x53425348U	/* "HSBS" */
#define SHADOW_SB_CSUM_XOR		SHADOW_BLOCK_SB

/* dm-persistent-data's checksum constants, for the offline tools. */
#define SHADOW_PD_BTREE_CSUM_XOR	121107U
#define SHADOW_PD_BITMAP_CSUM_XOR	240779U
#define SHADOW_PD_INDEX_CSUM_XOR	160478U

#define SHADOW_STORE_COW		1
#define SHADOW_STORE_ROW		2
#define SHADOW_STORE_CLONE		3

#define SHADOW_MIN_CHUNK_SECTORS	8	/* 4 KiB */
#define SHADOW_MAX_CHUNK_SECTORS	2048	/* 1 MiB */
#define SHADOW_MAX_SNAPSHOTS		8190

/* Nonzero when @c sectors is a chunk size the format allows. */
static inline int shadow_chunk_sectors_valid(__u64 c)
{
	return c >= SHADOW_MIN_CHUNK_SECTORS && c <= SHADOW_MAX_CHUNK_SECTORS &&
	       (c & (c - 1)) == 0;
}

/*
 * The largest store, in sectors: 2^56 (32 EiB).  Far beyond any device,
 * and small enough that no layout computation on a corrupt superblock can
 * overflow 64 bits.
 */
#define SHADOW_MAX_STORE_SECTORS	(1ULL << 56)

/*
 * Exception keys: the origin chunk in the high bits, a snapshot sequence
 * in the low SHADOW_SEQ_BITS.  Hence an origin has fewer than 2^40 chunks
 * (4 PiB at 4 KiB chunks) and a store hands out sequences 1 ..
 * SHADOW_MAX_SEQ over its life (a snapshot every second for 194 days,
 * every minute for 31 years); past that, create is refused.
 */
#define SHADOW_SEQ_BITS			24
#define SHADOW_MAX_SEQ			((1ULL << SHADOW_SEQ_BITS) - 1)
#define SHADOW_MAX_ORIGIN_CHUNKS	(1ULL << (64 - SHADOW_SEQ_BITS))

static inline __u64 shadow_exc_key(__u64 chunk, __u64 seq)
{
	return (chunk << SHADOW_SEQ_BITS) | seq;
}

static inline __u64 shadow_exc_key_chunk(__u64 key)
{
	return key >> SHADOW_SEQ_BITS;
}

static inline __u64 shadow_exc_key_seq(__u64 key)
{
	return key & SHADOW_MAX_SEQ;
}

/*
 * The row store keeps a chunk's versions newest first: the sequence part
 * of its shared tree's keys holds SHADOW_MAX_SEQ - tag (tags run from 1
 * to SHADOW_MAX_SEQ).  The same function turns a tag into that and back.
 * Private keys, and every key of the other stores, hold the tag itself.
 */
static inline __u64 shadow_row_seq(__u64 tag)
{
	return SHADOW_MAX_SEQ - tag;
}

/* The tag of shared-tree key @key in a store of type @store_type. */
static inline __u64 shadow_shared_key_tag(__u32 store_type, __u64 key)
{
	__u64 seq = shadow_exc_key_seq(key);

	return store_type == SHADOW_STORE_ROW ? shadow_row_seq(seq) : seq;
}

/*
 * Feature bits.  An unknown incompat bit refuses the store, an unknown
 * ro_compat bit refuses writing it.  The data limit, a compat feature in
 * version 1, is always present in version 2.
 */
/* A revert is under way: revert_seq, revert_cursor, revert_root hold it. */
#define SHADOW_FEATURE_INCOMPAT_REVERT	(1ULL << 0)
/* The metadata area ends in an exception journal (see the top). */
#define SHADOW_FEATURE_INCOMPAT_JOURNAL	(1ULL << 1)
/* A row store's versions in [dropped_from, dropped_below) are dead. */
#define SHADOW_FEATURE_INCOMPAT_ROW_DROPPED	(1ULL << 2)

/* A clone store: clone_root holds its clones (see the top). */
#define SHADOW_FEATURE_INCOMPAT_CLONE	(1ULL << 3)

#define SHADOW_FEATURE_COMPAT_SUPP	0ULL
#define SHADOW_FEATURE_RO_COMPAT_SUPP	0ULL
#define SHADOW_FEATURE_INCOMPAT_SUPP	(SHADOW_FEATURE_INCOMPAT_REVERT | \
					 SHADOW_FEATURE_INCOMPAT_JOURNAL | \
					 SHADOW_FEATURE_INCOMPAT_ROW_DROPPED | \
					 SHADOW_FEATURE_INCOMPAT_CLONE)

/* Superblock flags. */
#define SHADOW_SB_NEEDS_CHECK		(1U << 0)	/* run shadow-dump --check */

/* dm-persistent-data's space map root (struct disk_sm_root, padded). */
#define SHADOW_SPACE_MAP_ROOT_SIZE	128

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
	__le32 flags;			/* SHADOW_SB_* */
	__le64 origin_sectors;
	__le64 nr_origin_chunks;
	__le64 store_sectors;
	__le64 metadata_blocks;		/* 4 KiB blocks from sector 0 */
	__le64 data_start;		/* in sectors, chunk aligned */
	__le64 nr_data_chunks;
	__le64 format_time;		/* seconds since the epoch */

	/* Rewritten by every commit. */
	__le64 trans_id;		/* commits since the store was formatted */
	__le64 data_limit;		/* data chunks the store may use */
	__le64 last_seq;		/* last snapshot sequence handed out */
	__le64 held_root;		/* metadata snapshot, 0 = none */
	__le64 exception_root;
	__le64 private_root;
	__le64 snapshot_root;
	__u8 metadata_space_map_root[SHADOW_SPACE_MAP_ROOT_SIZE];
	__u8 data_space_map_root[SHADOW_SPACE_MAP_ROOT_SIZE];

	/* A revert under way (SHADOW_FEATURE_INCOMPAT_REVERT), else 0. */
	__le64 revert_seq;
	__le64 revert_cursor;
	__le64 revert_root;

	/* A row store's revert (SHADOW_FEATURE_INCOMPAT_ROW_DROPPED), else 0. */
	__le64 dropped_from;
	__le64 dropped_below;

	/* A clone store's clones (SHADOW_FEATURE_INCOMPAT_CLONE), else 0. */
	__le64 clone_root;
} __attribute__((packed));

#define SHADOW_SNAP_FREE		0
#define SHADOW_SNAP_VALID		1
#define SHADOW_SNAP_INVALID		2	/* dropped on overflow */

#define SHADOW_SNAPF_SEALED		(1U << 0)	/* never writable again */
#define SHADOW_SNAPF_WRITTEN		(1U << 1)	/* has private chunks */

/* A value of the snapshot tree. */
struct shadow_disk_snapshot {
	__le64 id;		/* chosen by userspace; also the key */
	__le64 seq;		/* creation sequence, 1 .. last_seq, unique */
	__le64 ctime;		/* seconds since the epoch */
	__le32 state;
	__le32 flags;
} __attribute__((packed));

/*
 * Clones.  At most SHADOW_MAX_CLONES per store: a copy goes to every clone
 * that lacks the chunk in one dm-kcopyd job, which writes 8 destinations
 * at most.  A bitset counts and indexes chunks in 32 bits, hence the
 * origin limit.
 */
#define SHADOW_MAX_CLONES		8
#define SHADOW_MAX_CLONE_CHUNKS		((1ULL << 32) - 1)

#define SHADOW_CLONE_HYDRATING		1	/* being copied: has a bitset */
#define SHADOW_CLONE_COMPLETE		2	/* every chunk on the target */
#define SHADOW_CLONE_FAILED		3	/* its target failed a write */

/* A value of the clone tree. */
struct shadow_disk_clone {
	__le64 id;		/* its snapshot's id; also the key */
	__le64 bitset_root;	/* hydrating: the copied chunks; else 0 */
	__le64 nr_copied;	/* chunks on the target */
	__le64 target_sectors;	/* the target's size when it was made */
	__le32 state;		/* SHADOW_CLONE_* */
	__le32 flags;		/* none yet: 0 */
} __attribute__((packed));

/* Exception journal blocks: the type field, also xored into the checksum. */
#define SHADOW_BLOCK_JOURNAL		0x4c4e524aU	/* "JRNL" */
#define SHADOW_JOURNAL_CSUM_XOR		SHADOW_BLOCK_JOURNAL
/* Blocks in the ring: a commit at least every this many batches. */
#define SHADOW_JOURNAL_BLOCKS		64

/* The trees a journal entry inserts into (enum shadow_md_tree). */
#define SHADOW_JOURNAL_SHARED		0	/* exception_root */
#define SHADOW_JOURNAL_PRIVATE		1	/* private_root */

struct shadow_disk_journal_entry {
	__le64 chunk;		/* origin chunk */
	__le64 seq;		/* the key's tag */
	__le64 store_chunk;	/* data chunk: the value */
	__le32 tree;		/* SHADOW_JOURNAL_* */
	__le32 padding;
} __attribute__((packed));

struct shadow_disk_journal {
	struct shadow_block_header hdr;	/* blocknr: where it was written */
	__u8 uuid[16];			/* the superblock's */
	__le64 trans_id;		/* the last commit's, when written */
	__le32 index;			/* in the ring, 0 first */
	__le32 nr_entries;
	struct shadow_disk_journal_entry entries[];
} __attribute__((packed));

#define SHADOW_JOURNAL_ENTRIES \
	((SHADOW_MD_BLOCK_SIZE - sizeof(struct shadow_disk_journal)) / \
	 sizeof(struct shadow_disk_journal_entry))

/*
 * The most blocks dm-persistent-data's metadata space map can manage: its
 * index is one block of 255 entries, each for a bitmap of 16320 blocks.
 */
#define SHADOW_MAX_METADATA_BLOCKS	(255ULL * 16320)

/* Blocks the metadata space map spans on a store of @store_sectors. */
static inline __u64 shadow_metadata_sm_blocks(__u64 store_sectors)
{
	__u64 b = store_sectors / SHADOW_MD_BLOCK_SECTORS;

	return b < SHADOW_MAX_METADATA_BLOCKS ? b : SHADOW_MAX_METADATA_BLOCKS;
}

/*
 * How large the metadata area is made when a store of @nr_data_chunks of
 * @chunk_sectors is formatted, in 4 KiB blocks: room for every data chunk
 * to be copied (a btree entry of 16 bytes in nodes at least half full,
 * 32 bytes, plus the data space map's 2 bits), the bitmaps of both space
 * maps twice over (a commit shadows them), and 64 blocks for the trees'
 * roots and the blocks one commit shadows.  Only the blocks in use are
 * written, so the area's size costs nothing until it fills.
 */
static inline __u64 shadow_metadata_blocks(__u64 nr_data_chunks,
					   __u32 chunk_sectors)
{
	/* Bits a bitmap block of dm-persistent-data holds: 2 per block. */
	const __u64 per_bitmap = (SHADOW_MD_BLOCK_SIZE - 16) * 4;
	__u64 device_blocks = nr_data_chunks *
			      (chunk_sectors / SHADOW_MD_BLOCK_SECTORS);

	/* 33 bytes per chunk: one block per 124; no product overflows. */
	return nr_data_chunks / 124 + 1 + 64 +
	       2 * (nr_data_chunks / per_bitmap + 1) +
	       2 * (device_blocks / per_bitmap + 1);
}

#endif /* DM_SHADOW_FORMAT_H */
