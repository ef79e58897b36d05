/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crc32c.h"
#include "shadow-format.h"

_Static_assert(sizeof(struct shadow_block_header) == 16, "header size");
_Static_assert(sizeof(struct shadow_disk_superblock) <= SHADOW_MD_BLOCK_SIZE,
	       "superblock fits a block");
_Static_assert(sizeof(struct shadow_disk_snapshot) == 32, "snapshot size");
_Static_assert(SHADOW_MD_BLOCK_SIZE == SHADOW_MD_BLOCK_SECTORS * 512,
	       "block size in sectors");

/* dm-persistent-data's struct disk_sm_root, as the superblock embeds it. */
struct disk_sm_root {
	__le64 nr_blocks;
	__le64 nr_allocated;
	__le64 bitmap_root;
	__le64 ref_count_root;
} __attribute__((packed));

_Static_assert(sizeof(struct disk_sm_root) <= SHADOW_SPACE_MAP_ROOT_SIZE,
	       "space map root fits its field");

void shadow_error_set(struct shadow_error *err, enum shadow_err code,
		      const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

const char *shadow_err_name(enum shadow_err code)
{
	static const char *const names[] = {
		[SHADOW_ERR_NONE] = "none",
		[SHADOW_ERR_IO] = "io",
		[SHADOW_ERR_ZERO] = "zero",
		[SHADOW_ERR_BAD_MAGIC] = "bad-magic",
		[SHADOW_ERR_BAD_TYPE] = "bad-type",
		[SHADOW_ERR_BAD_VERSION] = "bad-version",
		[SHADOW_ERR_BAD_CSUM] = "bad-checksum",
		[SHADOW_ERR_BAD_BLOCKNR] = "bad-blocknr",
		[SHADOW_ERR_INCOMPAT] = "incompat-features",
		[SHADOW_ERR_GEOMETRY] = "geometry",
		[SHADOW_ERR_STATE] = "state",
		[SHADOW_ERR_TOO_SMALL] = "device-too-small",
		[SHADOW_ERR_BAD_NODE] = "bad-node",
	};

	if ((size_t)code < sizeof(names) / sizeof(names[0]) && names[code])
		return names[code];
	return "unknown";
}

const char *shadow_store_type_name(uint32_t store_type)
{
	switch (store_type) {
	case SHADOW_STORE_COW:
		return "cow";
	case SHADOW_STORE_ROW:
		return "row";
	case SHADOW_STORE_CLONE:
		return "clone";
	default:
		return NULL;
	}
}

const char *shadow_snap_state_name(uint32_t state)
{
	switch (state) {
	case SHADOW_SNAP_FREE:
		return "free";
	case SHADOW_SNAP_VALID:
		return "valid";
	case SHADOW_SNAP_INVALID:
		return "invalid";
	default:
		return NULL;
	}
}

bool shadow_mem_is_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

bool shadow_block_is_zero(const void *block)
{
	return shadow_mem_is_zero(block, SHADOW_SECTOR_SIZE);
}

static void sm_root_decode(const uint8_t *p, struct shadow_sm_root *ret)
{
	struct disk_sm_root d;

	memcpy(&d, p, sizeof(d));
	*ret = (struct shadow_sm_root) {
		.nr_blocks = le64toh(d.nr_blocks),
		.nr_allocated = le64toh(d.nr_allocated),
		.bitmap_root = le64toh(d.bitmap_root),
		.ref_count_root = le64toh(d.ref_count_root),
	};
}

static void sm_root_encode(uint8_t *p, const struct shadow_sm_root *r)
{
	struct disk_sm_root d = {
		.nr_blocks = htole64(r->nr_blocks),
		.nr_allocated = htole64(r->nr_allocated),
		.bitmap_root = htole64(r->bitmap_root),
		.ref_count_root = htole64(r->ref_count_root),
	};

	memset(p, 0, SHADOW_SPACE_MAP_ROOT_SIZE);
	memcpy(p, &d, sizeof(d));
}

void shadow_sb_decode(const void *block, struct shadow_superblock *ret)
{
	const struct shadow_disk_superblock *d = block;

	*ret = (struct shadow_superblock) {
		.csum = le32toh(d->hdr.csum),
		.type = le32toh(d->hdr.type),
		.blocknr = le64toh(d->hdr.blocknr),
		.magic = le64toh(d->magic),
		.version = le32toh(d->version),
		.store_type = le32toh(d->store_type),
		.compat_flags = le64toh(d->compat_flags),
		.ro_compat_flags = le64toh(d->ro_compat_flags),
		.incompat_flags = le64toh(d->incompat_flags),
		.chunk_sectors = le32toh(d->chunk_sectors),
		.flags = le32toh(d->flags),
		.origin_sectors = le64toh(d->origin_sectors),
		.nr_origin_chunks = le64toh(d->nr_origin_chunks),
		.store_sectors = le64toh(d->store_sectors),
		.metadata_blocks = le64toh(d->metadata_blocks),
		.data_start = le64toh(d->data_start),
		.nr_data_chunks = le64toh(d->nr_data_chunks),
		.format_time = le64toh(d->format_time),
		.trans_id = le64toh(d->trans_id),
		.data_limit = le64toh(d->data_limit),
		.last_seq = le64toh(d->last_seq),
		.held_root = le64toh(d->held_root),
		.exception_root = le64toh(d->exception_root),
		.private_root = le64toh(d->private_root),
		.snapshot_root = le64toh(d->snapshot_root),
	};
	memcpy(ret->uuid, d->uuid, sizeof(ret->uuid));
	sm_root_decode(d->metadata_space_map_root, &ret->metadata_sm);
	sm_root_decode(d->data_space_map_root, &ret->data_sm);
}

void shadow_sb_encode(const struct shadow_superblock *sb, uint64_t blocknr,
		      void *block)
{
	struct shadow_disk_superblock *d = block;

	memset(block, 0, SHADOW_MD_BLOCK_SIZE);
	d->magic = htole64(sb->magic);
	d->version = htole32(sb->version);
	d->store_type = htole32(sb->store_type);
	memcpy(d->uuid, sb->uuid, sizeof(d->uuid));
	d->compat_flags = htole64(sb->compat_flags);
	d->ro_compat_flags = htole64(sb->ro_compat_flags);
	d->incompat_flags = htole64(sb->incompat_flags);
	d->chunk_sectors = htole32(sb->chunk_sectors);
	d->flags = htole32(sb->flags);
	d->origin_sectors = htole64(sb->origin_sectors);
	d->nr_origin_chunks = htole64(sb->nr_origin_chunks);
	d->store_sectors = htole64(sb->store_sectors);
	d->metadata_blocks = htole64(sb->metadata_blocks);
	d->data_start = htole64(sb->data_start);
	d->nr_data_chunks = htole64(sb->nr_data_chunks);
	d->format_time = htole64(sb->format_time);
	d->trans_id = htole64(sb->trans_id);
	d->data_limit = htole64(sb->data_limit);
	d->last_seq = htole64(sb->last_seq);
	d->held_root = htole64(sb->held_root);
	d->exception_root = htole64(sb->exception_root);
	d->private_root = htole64(sb->private_root);
	d->snapshot_root = htole64(sb->snapshot_root);
	sm_root_encode(d->metadata_space_map_root, &sb->metadata_sm);
	sm_root_encode(d->data_space_map_root, &sb->data_sm);
	d->hdr.type = htole32(SHADOW_BLOCK_SB);
	d->hdr.blocknr = htole64(blocknr);
	d->hdr.csum = htole32(shadow_block_csum(block, SHADOW_MD_BLOCK_SIZE,
						SHADOW_SB_CSUM_XOR));
}

int shadow_sb_verify_block(const void *block, uint64_t blocknr,
			   struct shadow_error *err)
{
	const struct shadow_disk_superblock *d = block;
	uint32_t stored = le32toh(d->hdr.csum), computed;
	uint32_t type = le32toh(d->hdr.type);
	uint32_t version = le32toh(d->version);
	uint64_t magic = le64toh(d->magic);

	if (shadow_mem_is_zero(block, SHADOW_MD_BLOCK_SIZE)) {
		shadow_error_set(err, SHADOW_ERR_ZERO,
				 "superblock block %" PRIu64 " is all zeroes", blocknr);
		return -EBADMSG;
	}
	if (magic != SHADOW_MAGIC) {
		shadow_error_set(err, SHADOW_ERR_BAD_MAGIC,
				 "bad magic 0x%016" PRIx64 " (expected 0x%016llx \"dsshadow\"): not a dm-shadow store",
				 magic, (unsigned long long)SHADOW_MAGIC);
		return -EBADMSG;
	}
	if (type != SHADOW_BLOCK_SB) {
		shadow_error_set(err, SHADOW_ERR_BAD_TYPE,
				 "superblock has block type 0x%08x, expected 0x%08x",
				 type, SHADOW_BLOCK_SB);
		return -EBADMSG;
	}
	/*
	 * Version 1 kept the same first 32 bytes (so we get this far) but
	 * 512-byte blocks updated in place; nothing of it can be read as
	 * version 2, and its checksum does not cover the same bytes.
	 */
	if (version == 1) {
		shadow_error_set(err, SHADOW_ERR_BAD_VERSION,
				 "format version 1 (512-byte blocks updated in place) is not supported by this version; "
				 "read it with dm-shadow 0.1's shadow-dump, then copy its snapshots out and reformat the store");
		return -EPROTONOSUPPORT;
	}
	if (version < SHADOW_VERSION_MIN || version > SHADOW_VERSION_MAX) {
		shadow_error_set(err, SHADOW_ERR_BAD_VERSION,
				 "unsupported format version %u (this build reads versions %u to %u)",
				 version, SHADOW_VERSION_MIN, SHADOW_VERSION_MAX);
		return -EPROTONOSUPPORT;
	}
	computed = shadow_block_csum(block, SHADOW_MD_BLOCK_SIZE, SHADOW_SB_CSUM_XOR);
	if (stored != computed) {
		shadow_error_set(err, SHADOW_ERR_BAD_CSUM,
				 "superblock block %" PRIu64 " checksum mismatch: stored 0x%08x, computed 0x%08x",
				 blocknr, stored, computed);
		return -EBADMSG;
	}
	if (le64toh(d->hdr.blocknr) != blocknr) {
		shadow_error_set(err, SHADOW_ERR_BAD_BLOCKNR,
				 "superblock block %" PRIu64 " says it is block %" PRIu64 " (misplaced write?)",
				 blocknr, (uint64_t)le64toh(d->hdr.blocknr));
		return -EBADMSG;
	}
	return 0;
}

static bool chunk_sectors_ok(uint32_t c)
{
	return c >= SHADOW_MIN_CHUNK_SECTORS && c <= SHADOW_MAX_CHUNK_SECTORS &&
	       (c & (c - 1)) == 0;
}

uint64_t shadow_layout_min_sectors(uint32_t chunk_sectors)
{
	return shadow_layout_sectors(1, chunk_sectors);
}

int shadow_layout_solve(struct shadow_layout *l, uint64_t store_sectors,
			uint32_t chunk_sectors)
{
	if (!chunk_sectors_ok(chunk_sectors) ||
	    store_sectors < shadow_layout_min_sectors(chunk_sectors))
		return -1;
	return shadow_layout_compute(l, store_sectors, chunk_sectors);
}

int shadow_sb_init_geometry(struct shadow_superblock *sb)
{
	struct shadow_layout l;

	if (!chunk_sectors_ok(sb->chunk_sectors) || sb->origin_sectors == 0 ||
	    sb->origin_sectors > SHADOW_MAX_SECTORS)
		return -EINVAL;
	sb->nr_origin_chunks = shadow_div_round_up(sb->origin_sectors,
						   sb->chunk_sectors);
	if (sb->nr_origin_chunks > SHADOW_MAX_ORIGIN_CHUNKS)
		return -EINVAL;
	if (shadow_layout_solve(&l, sb->store_sectors, sb->chunk_sectors) < 0)
		return -ENOSPC;
	sb->metadata_blocks = l.metadata_blocks;
	sb->data_start = l.data_start;
	sb->nr_data_chunks = l.nr_data_chunks;
	return 0;
}

#define GEOM_FIELD(field)						\
	do {								\
		if (sb.field != l.field) {				\
			shadow_error_set(err, SHADOW_ERR_GEOMETRY,	\
				"geometry mismatch: " #field " is %" PRIu64 \
				", the layout of a %" PRIu64 "-sector store gives %" PRIu64, \
				(uint64_t)sb.field, sb.store_sectors,	\
				(uint64_t)l.field);			\
			return -EUCLEAN;				\
		}							\
	} while (0)

/* A root must be a metadata block other than the superblock. */
static bool root_ok(const struct shadow_superblock *sb, uint64_t b)
{
	return b > 0 && b < sb->metadata_blocks;
}

#define ROOT_FIELD(name, value)						\
	do {								\
		if (!root_ok(&sb, (value))) {				\
			shadow_error_set(err, SHADOW_ERR_STATE,		\
				name " %" PRIu64 " is outside the metadata area (blocks 1 to %" PRIu64 ")", \
				(uint64_t)(value), sb.metadata_blocks - 1); \
			return -EUCLEAN;				\
		}							\
	} while (0)

static int validate_sm_root(const struct shadow_superblock *sb,
			    const struct shadow_sm_root *sm, const char *what,
			    uint64_t max_blocks, struct shadow_error *err)
{
	if (sm->nr_blocks == 0 || sm->nr_blocks > max_blocks) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "%s space map has %" PRIu64 " blocks, expected 1 to %" PRIu64,
				 what, sm->nr_blocks, max_blocks);
		return -EUCLEAN;
	}
	if (sm->nr_allocated > sm->nr_blocks) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "%s space map has %" PRIu64 " blocks allocated of %" PRIu64,
				 what, sm->nr_allocated, sm->nr_blocks);
		return -EUCLEAN;
	}
	if (!root_ok(sb, sm->bitmap_root) || !root_ok(sb, sm->ref_count_root)) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "%s space map roots %" PRIu64 " and %" PRIu64 " are not both inside the metadata area (blocks 1 to %" PRIu64 ")",
				 what, sm->bitmap_root, sm->ref_count_root,
				 sb->metadata_blocks - 1);
		return -EUCLEAN;
	}
	return 0;
}

int shadow_sb_validate(const void *block, uint64_t dev_sectors,
		       struct shadow_superblock *ret, struct shadow_error *err)
{
	struct shadow_superblock sb;
	struct shadow_layout l;
	uint64_t unknown;
	int r;

	if (shadow_mem_is_zero(block, SHADOW_MD_BLOCK_SIZE)) {
		shadow_error_set(err, SHADOW_ERR_ZERO,
				 "superblock is all zeroes: the store has never been formatted");
		return -EBADMSG;
	}
	r = shadow_sb_verify_block(block, 0, err);
	if (r < 0)
		return r;
	shadow_sb_decode(block, &sb);

	unknown = sb.incompat_flags & ~SHADOW_FEATURE_INCOMPAT_SUPP;
	if (unknown) {
		shadow_error_set(err, SHADOW_ERR_INCOMPAT,
				 "unknown incompatible features 0x%016" PRIx64 " (this build knows 0x%016llx)",
				 unknown, (unsigned long long)SHADOW_FEATURE_INCOMPAT_SUPP);
		return -EOPNOTSUPP;
	}

	/* Geometry. */
	if (!shadow_store_type_name(sb.store_type)) {
		shadow_error_set(err, SHADOW_ERR_GEOMETRY,
				 "unknown store type %u (expected 1=cow, 2=row or 3=clone)",
				 sb.store_type);
		return -EUCLEAN;
	}
	if (!chunk_sectors_ok(sb.chunk_sectors)) {
		shadow_error_set(err, SHADOW_ERR_GEOMETRY,
				 "chunk size of %u sectors is not a power of two between %u and %u",
				 sb.chunk_sectors, SHADOW_MIN_CHUNK_SECTORS,
				 SHADOW_MAX_CHUNK_SECTORS);
		return -EUCLEAN;
	}
	if (sb.origin_sectors == 0 || sb.origin_sectors > SHADOW_MAX_SECTORS) {
		shadow_error_set(err, SHADOW_ERR_GEOMETRY,
				 "origin of %" PRIu64 " sectors is outside 1 to %llu sectors",
				 sb.origin_sectors, (unsigned long long)SHADOW_MAX_SECTORS);
		return -EUCLEAN;
	}
	if (sb.nr_origin_chunks != shadow_div_round_up(sb.origin_sectors, sb.chunk_sectors)) {
		shadow_error_set(err, SHADOW_ERR_GEOMETRY,
				 "origin of %" PRIu64 " sectors in %u-sector chunks has %" PRIu64 " chunks, superblock says %" PRIu64,
				 sb.origin_sectors, sb.chunk_sectors,
				 (uint64_t)shadow_div_round_up(sb.origin_sectors, sb.chunk_sectors),
				 sb.nr_origin_chunks);
		return -EUCLEAN;
	}
	if (sb.nr_origin_chunks > SHADOW_MAX_ORIGIN_CHUNKS) {
		shadow_error_set(err, SHADOW_ERR_GEOMETRY,
				 "origin of %" PRIu64 " chunks exceeds the format's %llu",
				 sb.nr_origin_chunks, (unsigned long long)SHADOW_MAX_ORIGIN_CHUNKS);
		return -EUCLEAN;
	}
	if (shadow_layout_solve(&l, sb.store_sectors, sb.chunk_sectors) < 0) {
		shadow_error_set(err, SHADOW_ERR_GEOMETRY,
				 sb.store_sectors > SHADOW_MAX_SECTORS ?
				 "geometry mismatch: a store of %" PRIu64 " sectors is larger than any device (at most %llu)" :
				 "geometry mismatch: a store of %" PRIu64 " sectors cannot hold the metadata and one data chunk (it needs %llu)",
				 sb.store_sectors,
				 sb.store_sectors > SHADOW_MAX_SECTORS ?
				 (unsigned long long)SHADOW_MAX_SECTORS :
				 (unsigned long long)shadow_layout_min_sectors(sb.chunk_sectors));
		return -EUCLEAN;
	}
	GEOM_FIELD(metadata_blocks);
	GEOM_FIELD(data_start);
	GEOM_FIELD(nr_data_chunks);

	if (dev_sectors && sb.store_sectors > dev_sectors) {
		shadow_error_set(err, SHADOW_ERR_TOO_SMALL,
				 "store of %" PRIu64 " sectors does not fit the device of %" PRIu64 " sectors (truncated or shrunk?)",
				 sb.store_sectors, dev_sectors);
		return -ENOSPC;
	}

	/* Transaction state. */
	if (sb.data_limit == 0 || sb.data_limit > sb.nr_data_chunks) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "data limit %" PRIu64 " is outside 1 to the %" PRIu64 " data chunks",
				 sb.data_limit, sb.nr_data_chunks);
		return -EUCLEAN;
	}
	if (sb.last_seq > SHADOW_MAX_SEQ) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "last_seq %" PRIu64 " exceeds the format's %llu",
				 sb.last_seq, (unsigned long long)SHADOW_MAX_SEQ);
		return -EUCLEAN;
	}
	ROOT_FIELD("exception_root", sb.exception_root);
	ROOT_FIELD("private_root", sb.private_root);
	ROOT_FIELD("snapshot_root", sb.snapshot_root);
	if (sb.held_root)
		ROOT_FIELD("held_root", sb.held_root);
	/*
	 * The metadata space map spans the store device (up to its limit),
	 * not only the metadata area: the kernel counts every block past the
	 * area once, so that its allocator never hands one out (see
	 * dm-shadow-format.h).
	 */
	r = validate_sm_root(&sb, &sb.metadata_sm, "metadata",
			     shadow_metadata_sm_blocks(sb.store_sectors), err);
	if (r < 0)
		return r;
	if (sb.metadata_sm.nr_blocks != shadow_metadata_sm_blocks(sb.store_sectors)) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "metadata space map has %" PRIu64 " blocks, a store of %" PRIu64 " sectors gives %llu",
				 sb.metadata_sm.nr_blocks, sb.store_sectors,
				 (unsigned long long)shadow_metadata_sm_blocks(sb.store_sectors));
		return -EUCLEAN;
	}
	r = validate_sm_root(&sb, &sb.data_sm, "data", sb.nr_data_chunks, err);
	if (r < 0)
		return r;
	/* The kernel makes it exactly as large as the data area. */
	if (sb.data_sm.nr_blocks != sb.nr_data_chunks) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "data space map has %" PRIu64 " blocks, the store has %" PRIu64 " data chunks",
				 sb.data_sm.nr_blocks, sb.nr_data_chunks);
		return -EUCLEAN;
	}

	*ret = sb;
	return 0;
}

void shadow_snap_decode(const void *p, struct shadow_snapshot *ret)
{
	struct shadow_disk_snapshot d;

	memcpy(&d, p, sizeof(d));
	*ret = (struct shadow_snapshot) {
		.id = le64toh(d.id),
		.seq = le64toh(d.seq),
		.ctime = le64toh(d.ctime),
		.state = le32toh(d.state),
		.flags = le32toh(d.flags),
	};
}

void shadow_snap_encode(void *p, const struct shadow_snapshot *s)
{
	struct shadow_disk_snapshot d = {
		.id = htole64(s->id),
		.seq = htole64(s->seq),
		.ctime = htole64(s->ctime),
		.state = htole32(s->state),
		.flags = htole32(s->flags),
	};

	memcpy(p, &d, sizeof(d));
}
