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
_Static_assert(sizeof(struct shadow_disk_superblock) <= SHADOW_BLOCK_SIZE,
	       "superblock fits a block");
_Static_assert(sizeof(struct shadow_disk_snapshot) == 32, "snapshot size");
_Static_assert(sizeof(struct shadow_disk_record) == 32, "record size");

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
	};

	if ((size_t)code < sizeof(names) / sizeof(names[0]) && names[code])
		return names[code];
	return "unknown";
}

const char *shadow_block_type_name(uint32_t type)
{
	switch (type) {
	case SHADOW_BLOCK_SB:
		return "superblock";
	case SHADOW_BLOCK_SNAP:
		return "snapshot table";
	case SHADOW_BLOCK_INDEX:
		return "index";
	case SHADOW_BLOCK_RECORD:
		return "record";
	default:
		return "unknown";
	}
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

bool shadow_block_is_zero(const void *block)
{
	const uint8_t *p = block;

	for (size_t i = 0; i < SHADOW_BLOCK_SIZE; i++)
		if (p[i])
			return false;
	return true;
}

int shadow_block_verify(const void *block, uint32_t type, uint64_t blocknr,
			struct shadow_error *err)
{
	const struct shadow_block_header *h = block;
	uint32_t stored = le32toh(h->csum), computed;
	uint32_t htype = le32toh(h->type);
	uint64_t hnr = le64toh(h->blocknr);

	if (shadow_block_is_zero(block)) {
		shadow_error_set(err, SHADOW_ERR_ZERO,
				 "%s block %" PRIu64 " is all zeroes (never written)",
				 shadow_block_type_name(type), blocknr);
		return -EBADMSG;
	}
	if (htype != type) {
		shadow_error_set(err, SHADOW_ERR_BAD_TYPE,
				 "block %" PRIu64 " has type 0x%08x (%s), expected 0x%08x (%s)",
				 blocknr, htype, shadow_block_type_name(htype),
				 type, shadow_block_type_name(type));
		return -EBADMSG;
	}
	computed = shadow_block_csum(block, type);
	if (stored != computed) {
		shadow_error_set(err, SHADOW_ERR_BAD_CSUM,
				 "%s block %" PRIu64 " has a bad checksum: stored 0x%08x, computed 0x%08x",
				 shadow_block_type_name(type), blocknr, stored, computed);
		return -EBADMSG;
	}
	if (hnr != blocknr) {
		shadow_error_set(err, SHADOW_ERR_BAD_BLOCKNR,
				 "%s block %" PRIu64 " says it is block %" PRIu64 " (misplaced write?)",
				 shadow_block_type_name(type), blocknr, hnr);
		return -EBADMSG;
	}
	return 0;
}

void shadow_block_seal(void *block, uint32_t type, uint64_t blocknr)
{
	struct shadow_block_header *h = block;

	h->type = htole32(type);
	h->blocknr = htole64(blocknr);
	h->csum = htole32(shadow_block_csum(block, type));
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
		.max_snapshots = le32toh(d->max_snapshots),
		.origin_sectors = le64toh(d->origin_sectors),
		.nr_origin_chunks = le64toh(d->nr_origin_chunks),
		.store_sectors = le64toh(d->store_sectors),
		.snap_table_start = le64toh(d->snap_table_start),
		.index_start = le64toh(d->index_start),
		.index_blocks = le64toh(d->index_blocks),
		.record_start = le64toh(d->record_start),
		.record_blocks = le64toh(d->record_blocks),
		.data_start = le64toh(d->data_start),
		.nr_data_chunks = le64toh(d->nr_data_chunks),
		.high_water = le64toh(d->high_water),
		.free_head = le64toh(d->free_head),
		.free_count = le64toh(d->free_count),
		.last_seq = le64toh(d->last_seq),
		.commit_gen = le64toh(d->commit_gen),
		.format_time = le64toh(d->format_time),
		.data_limit = le64toh(d->data_limit),
	};
	memcpy(ret->uuid, d->uuid, sizeof(ret->uuid));
}

void shadow_sb_encode(const struct shadow_superblock *sb, void *block)
{
	struct shadow_disk_superblock *d = block;

	memset(block, 0, SHADOW_BLOCK_SIZE);
	d->magic = htole64(sb->magic);
	d->version = htole32(sb->version);
	d->store_type = htole32(sb->store_type);
	memcpy(d->uuid, sb->uuid, sizeof(d->uuid));
	d->compat_flags = htole64(sb->compat_flags);
	d->ro_compat_flags = htole64(sb->ro_compat_flags);
	d->incompat_flags = htole64(sb->incompat_flags);
	d->chunk_sectors = htole32(sb->chunk_sectors);
	d->max_snapshots = htole32(sb->max_snapshots);
	d->origin_sectors = htole64(sb->origin_sectors);
	d->nr_origin_chunks = htole64(sb->nr_origin_chunks);
	d->store_sectors = htole64(sb->store_sectors);
	d->snap_table_start = htole64(sb->snap_table_start);
	d->index_start = htole64(sb->index_start);
	d->index_blocks = htole64(sb->index_blocks);
	d->record_start = htole64(sb->record_start);
	d->record_blocks = htole64(sb->record_blocks);
	d->data_start = htole64(sb->data_start);
	d->nr_data_chunks = htole64(sb->nr_data_chunks);
	d->high_water = htole64(sb->high_water);
	d->free_head = htole64(sb->free_head);
	d->free_count = htole64(sb->free_count);
	d->last_seq = htole64(sb->last_seq);
	d->commit_gen = htole64(sb->commit_gen);
	d->format_time = htole64(sb->format_time);
	d->data_limit = htole64(sb->data_limit);
	shadow_block_seal(block, SHADOW_BLOCK_SB, 0);
}

uint64_t shadow_sb_data_limit(const struct shadow_superblock *sb)
{
	if (sb->compat_flags & SHADOW_FEATURE_COMPAT_LIMIT)
		return sb->data_limit;
	return sb->nr_data_chunks;
}

static bool chunk_sectors_ok(uint32_t c)
{
	return c >= SHADOW_MIN_CHUNK_SECTORS && c <= SHADOW_MAX_CHUNK_SECTORS &&
	       (c & (c - 1)) == 0;
}

int shadow_sb_init_geometry(struct shadow_superblock *sb)
{
	struct shadow_layout l;

	if (!chunk_sectors_ok(sb->chunk_sectors) || sb->max_snapshots == 0 ||
	    sb->max_snapshots > SHADOW_MAX_SNAPSHOTS || sb->origin_sectors == 0)
		return -EINVAL;
	sb->nr_origin_chunks = shadow_div_round_up(sb->origin_sectors,
						   sb->chunk_sectors);
	if (shadow_layout_compute(&l, sb->store_sectors, sb->nr_origin_chunks,
				  sb->chunk_sectors, sb->max_snapshots) < 0)
		return -ENOSPC;
	sb->snap_table_start = l.snap_table_start;
	sb->index_start = l.index_start;
	sb->index_blocks = l.index_blocks;
	sb->record_start = l.record_start;
	sb->record_blocks = l.record_blocks;
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

int shadow_sb_validate(const void *block, uint64_t dev_sectors,
		       struct shadow_superblock *ret, struct shadow_error *err)
{
	struct shadow_superblock sb;
	struct shadow_layout l;
	uint32_t computed;
	uint64_t unknown;

	if (shadow_block_is_zero(block)) {
		shadow_error_set(err, SHADOW_ERR_ZERO,
				 "superblock is all zeroes: the store has never been formatted");
		return -EBADMSG;
	}
	shadow_sb_decode(block, &sb);

	if (sb.magic != SHADOW_MAGIC) {
		shadow_error_set(err, SHADOW_ERR_BAD_MAGIC,
				 "bad magic 0x%016" PRIx64 " (expected 0x%016llx \"dsshadow\"): not a dm-shadow store",
				 sb.magic, (unsigned long long)SHADOW_MAGIC);
		return -EBADMSG;
	}
	if (sb.type != SHADOW_BLOCK_SB) {
		shadow_error_set(err, SHADOW_ERR_BAD_TYPE,
				 "superblock has block type 0x%08x (%s), expected 0x%08x",
				 sb.type, shadow_block_type_name(sb.type),
				 SHADOW_BLOCK_SB);
		return -EBADMSG;
	}
	if (sb.version < SHADOW_VERSION_MIN || sb.version > SHADOW_VERSION_MAX) {
		shadow_error_set(err, SHADOW_ERR_BAD_VERSION,
				 "unsupported format version %u (this build reads versions %u to %u)",
				 sb.version, SHADOW_VERSION_MIN, SHADOW_VERSION_MAX);
		return -EPROTONOSUPPORT;
	}
	computed = shadow_block_csum(block, SHADOW_BLOCK_SB);
	if (sb.csum != computed) {
		shadow_error_set(err, SHADOW_ERR_BAD_CSUM,
				 "superblock checksum mismatch: stored 0x%08x, computed 0x%08x",
				 sb.csum, computed);
		return -EBADMSG;
	}
	if (sb.blocknr != 0) {
		shadow_error_set(err, SHADOW_ERR_BAD_BLOCKNR,
				 "superblock says it is block %" PRIu64 ", expected 0 (misplaced write?)",
				 sb.blocknr);
		return -EBADMSG;
	}
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
	if (sb.max_snapshots == 0 || sb.max_snapshots > SHADOW_MAX_SNAPSHOTS) {
		shadow_error_set(err, SHADOW_ERR_GEOMETRY,
				 "max_snapshots %u is out of range 1 to %u",
				 sb.max_snapshots, SHADOW_MAX_SNAPSHOTS);
		return -EUCLEAN;
	}
	if (sb.origin_sectors == 0 ||
	    sb.nr_origin_chunks != shadow_div_round_up(sb.origin_sectors, sb.chunk_sectors)) {
		shadow_error_set(err, SHADOW_ERR_GEOMETRY,
				 "origin of %" PRIu64 " sectors in %u-sector chunks has %" PRIu64 " chunks, superblock says %" PRIu64,
				 sb.origin_sectors, sb.chunk_sectors,
				 (uint64_t)shadow_div_round_up(sb.origin_sectors, sb.chunk_sectors),
				 sb.nr_origin_chunks);
		return -EUCLEAN;
	}
	if (shadow_layout_compute(&l, sb.store_sectors, sb.nr_origin_chunks,
				  sb.chunk_sectors, sb.max_snapshots) < 0) {
		shadow_error_set(err, SHADOW_ERR_GEOMETRY,
				 "geometry mismatch: a %" PRIu64 "-sector store cannot hold the metadata of %" PRIu64 " origin chunks and one data chunk",
				 sb.store_sectors, sb.nr_origin_chunks);
		return -EUCLEAN;
	}
	GEOM_FIELD(snap_table_start);
	GEOM_FIELD(index_start);
	GEOM_FIELD(index_blocks);
	GEOM_FIELD(record_start);
	GEOM_FIELD(record_blocks);
	GEOM_FIELD(data_start);
	GEOM_FIELD(nr_data_chunks);

	if (dev_sectors && sb.store_sectors > dev_sectors) {
		shadow_error_set(err, SHADOW_ERR_TOO_SMALL,
				 "store of %" PRIu64 " sectors does not fit the device of %" PRIu64 " sectors (truncated or shrunk?)",
				 sb.store_sectors, dev_sectors);
		return -ENOSPC;
	}

	/* Allocation state. */
	if (sb.high_water > sb.nr_data_chunks) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "high_water %" PRIu64 " exceeds the %" PRIu64 " data chunks",
				 sb.high_water, sb.nr_data_chunks);
		return -EUCLEAN;
	}
	if (shadow_sb_data_limit(&sb) == 0 ||
	    shadow_sb_data_limit(&sb) > sb.nr_data_chunks) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "data limit %" PRIu64 " is outside 1 to the %" PRIu64 " data chunks",
				 sb.data_limit, sb.nr_data_chunks);
		return -EUCLEAN;
	}
	if (sb.high_water > shadow_sb_data_limit(&sb)) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "high_water %" PRIu64 " exceeds the data limit of %" PRIu64 " chunks",
				 sb.high_water, sb.data_limit);
		return -EUCLEAN;
	}
	if (sb.free_count > sb.high_water || sb.free_head > sb.high_water ||
	    (sb.free_head == 0) != (sb.free_count == 0)) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "free list head %" PRIu64 " / count %" PRIu64 " inconsistent with high_water %" PRIu64,
				 sb.free_head, sb.free_count, sb.high_water);
		return -EUCLEAN;
	}

	*ret = sb;
	return 0;
}

void shadow_snap_decode(const void *block, unsigned int i,
			struct shadow_snapshot *ret)
{
	const struct shadow_disk_snapshot *d = (const void *)
		((const uint8_t *)block + sizeof(struct shadow_block_header));

	*ret = (struct shadow_snapshot) {
		.id = le64toh(d[i].id),
		.seq = le64toh(d[i].seq),
		.ctime = le64toh(d[i].ctime),
		.state = le32toh(d[i].state),
		.flags = le32toh(d[i].flags),
	};
}

void shadow_snap_encode(void *block, unsigned int i,
			const struct shadow_snapshot *s)
{
	struct shadow_disk_snapshot *d = (void *)
		((uint8_t *)block + sizeof(struct shadow_block_header));

	d[i].id = htole64(s->id);
	d[i].seq = htole64(s->seq);
	d[i].ctime = htole64(s->ctime);
	d[i].state = htole32(s->state);
	d[i].flags = htole32(s->flags);
}

uint64_t shadow_index_decode(const void *block, unsigned int i)
{
	__le64 v;

	memcpy(&v, (const uint8_t *)block + sizeof(struct shadow_block_header) +
	       i * sizeof(v), sizeof(v));
	return le64toh(v);
}

void shadow_index_encode(void *block, unsigned int i, uint64_t head)
{
	__le64 v = htole64(head);

	memcpy((uint8_t *)block + sizeof(struct shadow_block_header) +
	       i * sizeof(v), &v, sizeof(v));
}

void shadow_record_decode(const void *block, unsigned int i,
			  struct shadow_record *ret)
{
	const struct shadow_disk_record *d = (const void *)
		((const uint8_t *)block + sizeof(struct shadow_block_header));

	*ret = (struct shadow_record) {
		.origin_chunk = le64toh(d[i].origin_chunk),
		.seq = le64toh(d[i].seq),
		.next = le64toh(d[i].next),
		.flags = le32toh(d[i].flags),
		.pad = le32toh(d[i].pad),
	};
}

void shadow_record_encode(void *block, unsigned int i,
			  const struct shadow_record *r)
{
	struct shadow_disk_record *d = (void *)
		((uint8_t *)block + sizeof(struct shadow_block_header));

	d[i].origin_chunk = htole64(r->origin_chunk);
	d[i].seq = htole64(r->seq);
	d[i].next = htole64(r->next);
	d[i].flags = htole32(r->flags);
	d[i].pad = htole32(r->pad);
}
