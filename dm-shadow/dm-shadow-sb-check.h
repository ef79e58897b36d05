/* SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later */
/*
 * The rules a dm-shadow superblock (format version 2) must keep, written
 * once for the kernel module (which refuses to load a store that breaks
 * one) and the userspace tools (shadow-dump, libshadow), so both refuse
 * exactly the same stores, for the same reason, with the same errno.
 *
 * A check fills a struct shadow_sb_fault: the rule broken, the value
 * found and the bound it broke.  Each side words it its own way: the
 * kernel takes shadow_sb_rule_msg() as the table's error and logs the
 * numbers, userspace prints all of it.  The checks only read the block;
 * they compute nothing that needs I/O (the caller computes the checksum).
 */
#ifndef DM_SHADOW_SB_CHECK_H
#define DM_SHADOW_SB_CHECK_H

#ifdef __KERNEL__
#include <linux/errno.h>
#include <asm/byteorder.h>
#define shadow_sb_le32(x)	le32_to_cpu(x)
#define shadow_sb_le64(x)	le64_to_cpu(x)
#else
#include <endian.h>
#include <errno.h>
#define shadow_sb_le32(x)	le32toh(x)
#define shadow_sb_le64(x)	le64toh(x)
#endif

#include "dm-shadow-format.h"
#include "dm-shadow-layout.h"

/*
 * dm-persistent-data's struct disk_sm_root, as the superblock embeds it in
 * a SHADOW_SPACE_MAP_ROOT_SIZE field.  Restated for the offline tools; the
 * module checks it against the kernel's header at build time.
 */
struct shadow_disk_sm_root {
	__le64 nr_blocks;
	__le64 nr_allocated;
	__le64 bitmap_root;
	__le64 ref_count_root;
} __attribute__((packed));

enum shadow_sb_rule {
	SHADOW_SB_OK = 0,
	/* identity: is this a version-2 dm-shadow superblock at all */
	SHADOW_SB_MAGIC,
	SHADOW_SB_VERSION_1,
	SHADOW_SB_VERSION,
	/* the block itself */
	SHADOW_SB_BLOCK_TYPE,
	SHADOW_SB_CSUM,
	SHADOW_SB_BLOCKNR,
	/* features */
	SHADOW_SB_INCOMPAT,
	SHADOW_SB_RO_COMPAT,
	/* geometry, fixed at format time */
	SHADOW_SB_STORE_TYPE,
	SHADOW_SB_CHUNK_SIZE,
	SHADOW_SB_ORIGIN_SIZE,
	SHADOW_SB_ORIGIN_CHUNKS,
	SHADOW_SB_STORE_SIZE,
	SHADOW_SB_METADATA_BLOCKS,
	SHADOW_SB_DATA_START,
	SHADOW_SB_DATA_CHUNKS,
	SHADOW_SB_DEVICE_SIZE,
	/* transaction state, rewritten by every commit */
	SHADOW_SB_DATA_LIMIT,
	SHADOW_SB_LAST_SEQ,
	SHADOW_SB_ROOT,
	SHADOW_SB_METADATA_SM_BLOCKS,
	SHADOW_SB_DATA_SM_BLOCKS,
	SHADOW_SB_SM_ALLOCATED,
	SHADOW_SB_SM_ROOT,
	SHADOW_SB_REVERT,
	SHADOW_SB_ROW_DROPPED,
	SHADOW_SB_CLONE,
	SHADOW_SB_NR_RULES
};

struct shadow_sb_fault {
	enum shadow_sb_rule rule;
	const char *field;	/* superblock field, or NULL */
	__u64 found;
	__u64 expected;		/* the bound or the value the rule wants */
};

struct shadow_sb_rule_info {
	const char *msg;	/* what is wrong, as the table error says it */
	const char *bound;	/* how 'expected' relates: "expected", ... */
	int err;		/* positive errno */
	int hex;		/* numbers read better in hex */
};

static inline const struct shadow_sb_rule_info *
shadow_sb_rule_get(enum shadow_sb_rule rule)
{
	static const struct shadow_sb_rule_info info[SHADOW_SB_NR_RULES] = {
		[SHADOW_SB_OK] = { "superblock is valid", "expected", 0 },
		[SHADOW_SB_MAGIC] = {
			"bad magic: the device holds something other than a dm-shadow store",
			"expected", EBADMSG, 1 },
		[SHADOW_SB_VERSION_1] = {
			"format version 1 (512-byte blocks updated in place) is no longer supported: copy what you need from its snapshots with dm-shadow 0.1, then reformat the store",
			"supported from", EPROTONOSUPPORT },
		[SHADOW_SB_VERSION] = {
			"store has a format version this version does not know",
			"supported up to", EPROTONOSUPPORT },
		[SHADOW_SB_BLOCK_TYPE] = {
			"superblock has the wrong block type", "expected", EBADMSG, 1 },
		[SHADOW_SB_CSUM] = {
			"superblock checksum mismatch", "computed", EBADMSG, 1 },
		[SHADOW_SB_BLOCKNR] = {
			"superblock says it is another block (misplaced write?)",
			"expected", EBADMSG },
		[SHADOW_SB_INCOMPAT] = {
			"store uses an incompatible feature this version does not know",
			"known", EOPNOTSUPP, 1 },
		[SHADOW_SB_RO_COMPAT] = {
			"store uses a feature this version can only read",
			"known", EROFS, 1 },
		[SHADOW_SB_STORE_TYPE] = {
			"store has an unknown store type, not 1=cow, 2=row or 3=clone",
			"at most", EUCLEAN },
		[SHADOW_SB_CHUNK_SIZE] = {
			"store's chunk size is not a power of two from 8 to 2048 sectors",
			"at most", EUCLEAN },
		[SHADOW_SB_ORIGIN_SIZE] = {
			"store's origin size is zero or larger than any device",
			"at most", EUCLEAN },
		[SHADOW_SB_ORIGIN_CHUNKS] = {
			"store's origin chunk count does not match its origin size",
			"expected", EUCLEAN },
		[SHADOW_SB_STORE_SIZE] = {
			"store's size cannot hold metadata and one data chunk, or is larger than any device",
			"at most", EUCLEAN },
		[SHADOW_SB_METADATA_BLOCKS] = {
			"store superblock has an inconsistent layout (metadata blocks)",
			"expected", EUCLEAN },
		[SHADOW_SB_DATA_START] = {
			"store superblock has an inconsistent layout (data start)",
			"expected", EUCLEAN },
		[SHADOW_SB_DATA_CHUNKS] = {
			"store superblock has an inconsistent layout (data chunks)",
			"expected", EUCLEAN },
		[SHADOW_SB_DEVICE_SIZE] = {
			"store device is smaller than the store it holds: truncated or shrunk",
			"device has", ENOSPC },
		[SHADOW_SB_DATA_LIMIT] = {
			"store's data limit is above its data chunks, or zero while it has some",
			"at most", EUCLEAN },
		[SHADOW_SB_LAST_SEQ] = {
			"store's last snapshot sequence is beyond the format's",
			"at most", EUCLEAN },
		[SHADOW_SB_ROOT] = {
			"store's tree root is outside the metadata area",
			"metadata blocks", EUCLEAN },
		[SHADOW_SB_METADATA_SM_BLOCKS] = {
			"store's metadata space map does not span the store device",
			"expected", EUCLEAN },
		[SHADOW_SB_DATA_SM_BLOCKS] = {
			"store's data space map does not span the data chunks",
			"expected", EUCLEAN },
		[SHADOW_SB_SM_ALLOCATED] = {
			"store's space map has more blocks allocated than it has",
			"at most", EUCLEAN },
		[SHADOW_SB_SM_ROOT] = {
			"store's space map root is outside the metadata area",
			"metadata blocks", EUCLEAN },
		[SHADOW_SB_REVERT] = {
			"store's revert state is inconsistent",
			"at most", EUCLEAN },
		[SHADOW_SB_ROW_DROPPED] = {
			"store's dropped versions are inconsistent",
			"expected", EUCLEAN },
		[SHADOW_SB_CLONE] = {
			"store's clone feature, type and clone tree disagree",
			"expected", EUCLEAN, 1 },
	};

	if ((unsigned int)rule >= SHADOW_SB_NR_RULES)
		rule = SHADOW_SB_OK;
	return &info[rule];
}

static inline const char *shadow_sb_rule_msg(enum shadow_sb_rule rule)
{
	return shadow_sb_rule_get(rule)->msg;
}

/* -errno for a broken rule, 0 for SHADOW_SB_OK. */
static inline int shadow_sb_rule_errno(enum shadow_sb_rule rule)
{
	return -shadow_sb_rule_get(rule)->err;
}

/* Record a broken rule; returns its -errno, so checks can return it. */
static inline int shadow_sb_fail(struct shadow_sb_fault *f,
				 enum shadow_sb_rule rule, const char *field,
				 __u64 found, __u64 expected)
{
	f->rule = rule;
	f->field = field;
	f->found = found;
	f->expected = expected;
	return shadow_sb_rule_errno(rule);
}

static inline int shadow_sb_ok(struct shadow_sb_fault *f)
{
	return shadow_sb_fail(f, SHADOW_SB_OK, NULL, 0, 0);
}

/*
 * Identity: the magic and a version this build reads.  Version 1 kept
 * the first 32 bytes of version 2, so it is recognised and named.
 */
static inline int shadow_sb_check_identity(const struct shadow_disk_superblock *sb,
					   struct shadow_sb_fault *f)
{
	__u64 magic = shadow_sb_le64(sb->magic);
	__u32 version = shadow_sb_le32(sb->version);

	if (magic != SHADOW_MAGIC)
		return shadow_sb_fail(f, SHADOW_SB_MAGIC, "magic", magic,
				      SHADOW_MAGIC);
	if (version < SHADOW_VERSION_MIN)
		return shadow_sb_fail(f, version == 1 ? SHADOW_SB_VERSION_1 :
				      SHADOW_SB_VERSION, "version", version,
				      SHADOW_VERSION_MIN);
	if (version > SHADOW_VERSION_MAX)
		return shadow_sb_fail(f, SHADOW_SB_VERSION, "version", version,
				      SHADOW_VERSION_MAX);
	return shadow_sb_ok(f);
}

/*
 * The block: its type, its checksum (@csum, computed by the caller over
 * the block from byte 4 with SHADOW_SB_CSUM_XOR) and its own location.
 */
static inline int shadow_sb_check_block(const struct shadow_disk_superblock *sb,
					__u64 blocknr, __u32 csum,
					struct shadow_sb_fault *f)
{
	if (shadow_sb_le32(sb->hdr.type) != SHADOW_BLOCK_SB)
		return shadow_sb_fail(f, SHADOW_SB_BLOCK_TYPE, "type",
				      shadow_sb_le32(sb->hdr.type),
				      SHADOW_BLOCK_SB);
	if (shadow_sb_le32(sb->hdr.csum) != csum)
		return shadow_sb_fail(f, SHADOW_SB_CSUM, "csum",
				      shadow_sb_le32(sb->hdr.csum), csum);
	if (shadow_sb_le64(sb->hdr.blocknr) != blocknr)
		return shadow_sb_fail(f, SHADOW_SB_BLOCKNR, "blocknr",
				      shadow_sb_le64(sb->hdr.blocknr), blocknr);
	return shadow_sb_ok(f);
}

/* Features: unknown incompat bits refuse the store; ro_compat writing it. */
static inline int shadow_sb_check_readable(const struct shadow_disk_superblock *sb,
					   struct shadow_sb_fault *f)
{
	__u64 incompat = shadow_sb_le64(sb->incompat_flags);

	if (incompat & ~SHADOW_FEATURE_INCOMPAT_SUPP)
		return shadow_sb_fail(f, SHADOW_SB_INCOMPAT, "incompat_flags",
				      incompat, SHADOW_FEATURE_INCOMPAT_SUPP);
	return shadow_sb_ok(f);
}

static inline int shadow_sb_check_writable(const struct shadow_disk_superblock *sb,
					   struct shadow_sb_fault *f)
{
	__u64 ro_compat = shadow_sb_le64(sb->ro_compat_flags);

	if (ro_compat & ~SHADOW_FEATURE_RO_COMPAT_SUPP)
		return shadow_sb_fail(f, SHADOW_SB_RO_COMPAT, "ro_compat_flags",
				      ro_compat, SHADOW_FEATURE_RO_COMPAT_SUPP);
	return shadow_sb_ok(f);
}

/* The exception journal's ring, in blocks: 0 for a store without one. */
static inline __u32 shadow_sb_journal_blocks(const struct shadow_disk_superblock *sb)
{
	return (shadow_sb_le64(sb->incompat_flags) &
		SHADOW_FEATURE_INCOMPAT_JOURNAL) ? SHADOW_JOURNAL_BLOCKS : 0;
}

/* The first block of the journal's ring (metadata_blocks without one). */
static inline __u64 shadow_sb_journal_start(const struct shadow_disk_superblock *sb)
{
	return shadow_sb_le64(sb->metadata_blocks) -
	       shadow_sb_journal_blocks(sb);
}

/*
 * Geometry: every size fixed at format time, and the layout they give.
 * @dev_sectors is the store device's size, 0 when unknown.
 */
static inline int shadow_sb_check_geometry(const struct shadow_disk_superblock *sb,
					   __u64 dev_sectors,
					   struct shadow_sb_fault *f)
{
	__u32 type = shadow_sb_le32(sb->store_type);
	__u32 chunk = shadow_sb_le32(sb->chunk_sectors);
	__u64 origin = shadow_sb_le64(sb->origin_sectors);
	__u64 store = shadow_sb_le64(sb->store_sectors);
	__u64 chunks;
	struct shadow_layout l;

	if (type < SHADOW_STORE_COW || type > SHADOW_STORE_CLONE)
		return shadow_sb_fail(f, SHADOW_SB_STORE_TYPE, "store_type",
				      type, SHADOW_STORE_CLONE);
	if (!shadow_chunk_sectors_valid(chunk))
		return shadow_sb_fail(f, SHADOW_SB_CHUNK_SIZE, "chunk_sectors",
				      chunk, SHADOW_MAX_CHUNK_SECTORS);
	if (!origin || origin > SHADOW_MAX_STORE_SECTORS)
		return shadow_sb_fail(f, SHADOW_SB_ORIGIN_SIZE, "origin_sectors",
				      origin, SHADOW_MAX_STORE_SECTORS);
	chunks = shadow_div_round_up(origin, chunk);
	if (chunks > SHADOW_MAX_ORIGIN_CHUNKS)
		return shadow_sb_fail(f, SHADOW_SB_ORIGIN_SIZE, "origin_sectors",
				      origin, SHADOW_MAX_ORIGIN_CHUNKS * chunk);
	if (shadow_sb_le64(sb->nr_origin_chunks) != chunks)
		return shadow_sb_fail(f, SHADOW_SB_ORIGIN_CHUNKS,
				      "nr_origin_chunks",
				      shadow_sb_le64(sb->nr_origin_chunks),
				      chunks);
	if (shadow_layout_compute_type(&l, type, store, chunk,
				       shadow_sb_journal_blocks(sb)))
		return shadow_sb_fail(f, SHADOW_SB_STORE_SIZE, "store_sectors",
				      store, SHADOW_MAX_STORE_SECTORS);
	if (shadow_sb_le64(sb->metadata_blocks) != l.metadata_blocks)
		return shadow_sb_fail(f, SHADOW_SB_METADATA_BLOCKS,
				      "metadata_blocks",
				      shadow_sb_le64(sb->metadata_blocks),
				      l.metadata_blocks);
	if (shadow_sb_le64(sb->data_start) != l.data_start)
		return shadow_sb_fail(f, SHADOW_SB_DATA_START, "data_start",
				      shadow_sb_le64(sb->data_start),
				      l.data_start);
	if (shadow_sb_le64(sb->nr_data_chunks) != l.nr_data_chunks)
		return shadow_sb_fail(f, SHADOW_SB_DATA_CHUNKS, "nr_data_chunks",
				      shadow_sb_le64(sb->nr_data_chunks),
				      l.nr_data_chunks);
	if (dev_sectors && store > dev_sectors)
		return shadow_sb_fail(f, SHADOW_SB_DEVICE_SIZE, "store_sectors",
				      store, dev_sectors);
	return shadow_sb_ok(f);
}

static inline int shadow_sb_check_root(const struct shadow_disk_superblock *sb,
				       enum shadow_sb_rule rule,
				       const char *field, __u64 root,
				       struct shadow_sb_fault *f)
{
	__u64 blocks = shadow_sb_journal_start(sb);

	/* Block 0 is the superblock, the journal ends the area: no root. */
	if (root == 0 || root >= blocks)
		return shadow_sb_fail(f, rule, field, root, blocks);
	return shadow_sb_ok(f);
}

static inline int shadow_sb_check_sm(const struct shadow_disk_superblock *sb,
				     const __u8 *field, const char *name,
				     enum shadow_sb_rule size_rule,
				     __u64 nr_blocks, struct shadow_sb_fault *f)
{
	struct shadow_disk_sm_root sm;
	int r;

	__builtin_memcpy(&sm, field, sizeof(sm));
	if (shadow_sb_le64(sm.nr_blocks) != nr_blocks)
		return shadow_sb_fail(f, size_rule, name,
				      shadow_sb_le64(sm.nr_blocks), nr_blocks);
	if (shadow_sb_le64(sm.nr_allocated) > nr_blocks)
		return shadow_sb_fail(f, SHADOW_SB_SM_ALLOCATED, name,
				      shadow_sb_le64(sm.nr_allocated),
				      nr_blocks);
	r = shadow_sb_check_root(sb, SHADOW_SB_SM_ROOT, name,
				 shadow_sb_le64(sm.bitmap_root), f);
	if (r)
		return r;
	return shadow_sb_check_root(sb, SHADOW_SB_SM_ROOT, name,
				    shadow_sb_le64(sm.ref_count_root), f);
}

/*
 * A revert's fields: all set with the feature bit, all zero without it,
 * the sequence one that was handed out, the cursor within the origin.
 */
static inline int shadow_sb_check_revert(const struct shadow_disk_superblock *sb,
					 struct shadow_sb_fault *f)
{
	__u64 seq = shadow_sb_le64(sb->revert_seq);
	__u64 cursor = shadow_sb_le64(sb->revert_cursor);
	__u64 root = shadow_sb_le64(sb->revert_root);
	__u64 chunks = shadow_sb_le64(sb->nr_origin_chunks);

	if (!(shadow_sb_le64(sb->incompat_flags) &
	      SHADOW_FEATURE_INCOMPAT_REVERT)) {
		if (seq || cursor || root)
			return shadow_sb_fail(f, SHADOW_SB_REVERT, "revert_seq",
					      seq, 0);
		return shadow_sb_ok(f);
	}
	if (!seq || seq > shadow_sb_le64(sb->last_seq))
		return shadow_sb_fail(f, SHADOW_SB_REVERT, "revert_seq", seq,
				      shadow_sb_le64(sb->last_seq));
	if (cursor > chunks)
		return shadow_sb_fail(f, SHADOW_SB_REVERT, "revert_cursor",
				      cursor, chunks);
	return shadow_sb_check_root(sb, SHADOW_SB_ROOT, "revert_root", root, f);
}

/*
 * A row store's dropped range: set with the feature bit, zero without it;
 * with it, a row store and 1 <= dropped_from < dropped_below <= last_seq.
 */
static inline int shadow_sb_check_row_dropped(const struct shadow_disk_superblock *sb,
					      struct shadow_sb_fault *f)
{
	__u64 from = shadow_sb_le64(sb->dropped_from);
	__u64 below = shadow_sb_le64(sb->dropped_below);
	__u64 last = shadow_sb_le64(sb->last_seq);

	if (!(shadow_sb_le64(sb->incompat_flags) &
	      SHADOW_FEATURE_INCOMPAT_ROW_DROPPED)) {
		if (from || below)
			return shadow_sb_fail(f, SHADOW_SB_ROW_DROPPED,
					      "dropped_from", from, 0);
		return shadow_sb_ok(f);
	}
	if (shadow_sb_le32(sb->store_type) != SHADOW_STORE_ROW)
		return shadow_sb_fail(f, SHADOW_SB_ROW_DROPPED, "store_type",
				      shadow_sb_le32(sb->store_type),
				      SHADOW_STORE_ROW);
	if (!from || from >= below)
		return shadow_sb_fail(f, SHADOW_SB_ROW_DROPPED, "dropped_from",
				      from, below ? below - 1 : 0);
	if (below > last)
		return shadow_sb_fail(f, SHADOW_SB_ROW_DROPPED,
				      "dropped_below", below, last);
	return shadow_sb_ok(f);
}

/*
 * A clone store: the feature bit set exactly when the type is clone, and
 * then a clone tree; other stores have none.
 */
static inline int shadow_sb_check_clone(const struct shadow_disk_superblock *sb,
					struct shadow_sb_fault *f)
{
	int is_clone = shadow_sb_le32(sb->store_type) == SHADOW_STORE_CLONE;
	__u64 bit = shadow_sb_le64(sb->incompat_flags) &
		    SHADOW_FEATURE_INCOMPAT_CLONE;
	__u64 root = shadow_sb_le64(sb->clone_root);

	if (is_clone != !!bit)
		return shadow_sb_fail(f, SHADOW_SB_CLONE, "incompat_flags", bit,
				      is_clone ? SHADOW_FEATURE_INCOMPAT_CLONE : 0);
	if (!is_clone) {
		if (root)
			return shadow_sb_fail(f, SHADOW_SB_CLONE, "clone_root",
					      root, 0);
		return shadow_sb_ok(f);
	}
	return shadow_sb_check_root(sb, SHADOW_SB_ROOT, "clone_root", root, f);
}

/*
 * Transaction state: the limit, the sequence and every root.  Call after
 * shadow_sb_check_geometry() (the roots are checked against its layout).
 * The metadata space map spans the store device up to its limit, not
 * only the metadata area (see dm-shadow-format.h); the data space map
 * exactly the data chunks.
 */
static inline int shadow_sb_check_state(const struct shadow_disk_superblock *sb,
					struct shadow_sb_fault *f)
{
	__u64 limit = shadow_sb_le64(sb->data_limit);
	__u64 chunks = shadow_sb_le64(sb->nr_data_chunks);
	__u64 held = shadow_sb_le64(sb->held_root);
	int r;

	/* A clone store keeps no data: its limit is 0, as its chunks. */
	if ((!limit && chunks) || limit > chunks)
		return shadow_sb_fail(f, SHADOW_SB_DATA_LIMIT, "data_limit",
				      limit, chunks);
	if (shadow_sb_le64(sb->last_seq) > SHADOW_MAX_SEQ)
		return shadow_sb_fail(f, SHADOW_SB_LAST_SEQ, "last_seq",
				      shadow_sb_le64(sb->last_seq),
				      SHADOW_MAX_SEQ);
	r = shadow_sb_check_root(sb, SHADOW_SB_ROOT, "exception_root",
				 shadow_sb_le64(sb->exception_root), f);
	if (!r)
		r = shadow_sb_check_root(sb, SHADOW_SB_ROOT, "private_root",
					 shadow_sb_le64(sb->private_root), f);
	if (!r)
		r = shadow_sb_check_root(sb, SHADOW_SB_ROOT, "snapshot_root",
					 shadow_sb_le64(sb->snapshot_root), f);
	if (!r && held)
		r = shadow_sb_check_root(sb, SHADOW_SB_ROOT, "held_root",
					 held, f);
	if (!r)
		r = shadow_sb_check_revert(sb, f);
	if (!r)
		r = shadow_sb_check_row_dropped(sb, f);
	if (!r)
		r = shadow_sb_check_clone(sb, f);
	if (!r)
		r = shadow_sb_check_sm(sb, sb->metadata_space_map_root,
				       "metadata space map",
				       SHADOW_SB_METADATA_SM_BLOCKS,
				       shadow_metadata_sm_blocks(shadow_sb_le64(sb->store_sectors)),
				       f);
	if (!r)
		r = shadow_sb_check_sm(sb, sb->data_space_map_root,
				       "data space map",
				       SHADOW_SB_DATA_SM_BLOCKS, chunks, f);
	return r;
}

/*
 * Everything a reader needs of a superblock whose identity and block were
 * checked: features it can read, geometry, transaction state.
 */
static inline int shadow_sb_check_contents(const struct shadow_disk_superblock *sb,
					   __u64 dev_sectors,
					   struct shadow_sb_fault *f)
{
	int r = shadow_sb_check_readable(sb, f);

	if (!r)
		r = shadow_sb_check_geometry(sb, dev_sectors, f);
	if (!r)
		r = shadow_sb_check_state(sb, f);
	return r;
}

#endif /* DM_SHADOW_SB_CHECK_H */
