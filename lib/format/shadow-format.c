/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crc32c.h"
#include "shadow-format.h"
#include "dm-shadow-sb-check.h"

_Static_assert(sizeof(struct shadow_block_header) == 16, "header size");
_Static_assert(sizeof(struct shadow_disk_superblock) <= SHADOW_MD_BLOCK_SIZE,
	       "superblock fits a block");
_Static_assert(sizeof(struct shadow_disk_snapshot) == 32, "snapshot size");
_Static_assert(sizeof(struct shadow_disk_clone) == 40, "clone size");
_Static_assert(SHADOW_MD_BLOCK_SIZE == SHADOW_MD_BLOCK_SECTORS * 512,
	       "block size in sectors");

_Static_assert(sizeof(struct shadow_disk_sm_root) <= SHADOW_SPACE_MAP_ROOT_SIZE,
	       "space map root fits its field");
_Static_assert(sizeof(struct shadow_disk_journal) == 48, "journal header size");
_Static_assert(sizeof(struct shadow_disk_journal_entry) == 32, "journal entry size");
_Static_assert(SHADOW_JOURNAL_ENTRIES == 126, "journal entries per block");

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
		[SHADOW_ERR_STALE] = "stale",
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

const char *shadow_clone_state_name(uint32_t state)
{
	switch (state) {
	case SHADOW_CLONE_HYDRATING:
		return "hydrating";
	case SHADOW_CLONE_COMPLETE:
		return "complete";
	case SHADOW_CLONE_FAILED:
		return "failed";
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
	struct shadow_disk_sm_root d;

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
	struct shadow_disk_sm_root d = {
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
		.revert_seq = le64toh(d->revert_seq),
		.revert_cursor = le64toh(d->revert_cursor),
		.revert_root = le64toh(d->revert_root),
		.dropped_from = le64toh(d->dropped_from),
		.dropped_below = le64toh(d->dropped_below),
		.clone_root = le64toh(d->clone_root),
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
	d->revert_seq = htole64(sb->revert_seq);
	d->revert_cursor = htole64(sb->revert_cursor);
	d->revert_root = htole64(sb->revert_root);
	d->dropped_from = htole64(sb->dropped_from);
	d->dropped_below = htole64(sb->dropped_below);
	d->clone_root = htole64(sb->clone_root);
	sm_root_encode(d->metadata_space_map_root, &sb->metadata_sm);
	sm_root_encode(d->data_space_map_root, &sb->data_sm);
	d->hdr.type = htole32(SHADOW_BLOCK_SB);
	d->hdr.blocknr = htole64(blocknr);
	d->hdr.csum = htole32(shadow_block_csum(block, SHADOW_MD_BLOCK_SIZE,
						SHADOW_SB_CSUM_XOR));
}

/* The library's error class of a broken superblock rule. */
static enum shadow_err sb_rule_err(enum shadow_sb_rule rule)
{
	switch (rule) {
	case SHADOW_SB_OK:
		return SHADOW_ERR_NONE;
	case SHADOW_SB_MAGIC:
		return SHADOW_ERR_BAD_MAGIC;
	case SHADOW_SB_VERSION_1:
	case SHADOW_SB_VERSION:
		return SHADOW_ERR_BAD_VERSION;
	case SHADOW_SB_BLOCK_TYPE:
		return SHADOW_ERR_BAD_TYPE;
	case SHADOW_SB_CSUM:
		return SHADOW_ERR_BAD_CSUM;
	case SHADOW_SB_BLOCKNR:
		return SHADOW_ERR_BAD_BLOCKNR;
	case SHADOW_SB_INCOMPAT:
	case SHADOW_SB_RO_COMPAT:
		return SHADOW_ERR_INCOMPAT;
	case SHADOW_SB_DEVICE_SIZE:
		return SHADOW_ERR_TOO_SMALL;
	case SHADOW_SB_DATA_LIMIT:
	case SHADOW_SB_LAST_SEQ:
	case SHADOW_SB_ROOT:
	case SHADOW_SB_METADATA_SM_BLOCKS:
	case SHADOW_SB_DATA_SM_BLOCKS:
	case SHADOW_SB_SM_ALLOCATED:
	case SHADOW_SB_SM_ROOT:
	case SHADOW_SB_REVERT:
	case SHADOW_SB_ROW_DROPPED:
	case SHADOW_SB_CLONE:
		return SHADOW_ERR_STATE;
	default:
		return SHADOW_ERR_GEOMETRY;
	}
}

/* Word a broken rule (dm-shadow-sb-check.h) with its numbers into @err. */
static int sb_refused(const struct shadow_sb_fault *f, struct shadow_error *err)
{
	const struct shadow_sb_rule_info *i = shadow_sb_rule_get(f->rule);

	if (i->hex)
		shadow_error_set(err, sb_rule_err(f->rule),
				 "%s (%s 0x%" PRIx64 ", %s 0x%" PRIx64 ")",
				 i->msg, f->field, (uint64_t)f->found, i->bound,
				 (uint64_t)f->expected);
	else
		shadow_error_set(err, sb_rule_err(f->rule),
				 "%s (%s %" PRIu64 ", %s %" PRIu64 ")",
				 i->msg, f->field, (uint64_t)f->found, i->bound,
				 (uint64_t)f->expected);
	return shadow_sb_rule_errno(f->rule);
}

int shadow_sb_verify_block(const void *block, uint64_t blocknr,
			   struct shadow_error *err)
{
	struct shadow_sb_fault f;

	if (shadow_mem_is_zero(block, SHADOW_MD_BLOCK_SIZE)) {
		shadow_error_set(err, SHADOW_ERR_ZERO,
				 "superblock block %" PRIu64 " is all zeroes", blocknr);
		return -EBADMSG;
	}
	if (shadow_sb_check_identity(block, &f) ||
	    shadow_sb_check_block(block, blocknr,
				  shadow_block_csum(block, SHADOW_MD_BLOCK_SIZE,
						    SHADOW_SB_CSUM_XOR), &f))
		return sb_refused(&f, err);
	return 0;
}

uint64_t shadow_layout_min_sectors(uint32_t chunk_sectors)
{
	return shadow_layout_sectors(1, chunk_sectors, SHADOW_JOURNAL_BLOCKS);
}

uint64_t shadow_layout_min_clone_sectors(uint32_t chunk_sectors)
{
	/* shadow_layout_compute_clone()'s floor: 1 + 64 + the journal's blocks. */
	uint64_t need = (1 + 64 + SHADOW_JOURNAL_BLOCKS) * (uint64_t)SHADOW_MD_BLOCK_SECTORS;

	return shadow_div_round_up(need, chunk_sectors) * chunk_sectors;
}

int shadow_layout_solve(struct shadow_layout *l, uint64_t store_sectors,
			uint32_t chunk_sectors, uint32_t journal_blocks)
{
	if (!shadow_chunk_sectors_valid(chunk_sectors) ||
	    store_sectors < shadow_layout_sectors(1, chunk_sectors, journal_blocks))
		return -1;
	return shadow_layout_compute(l, store_sectors, chunk_sectors,
				     journal_blocks);
}

/* A clone store's layout: all metadata, and constant time, so no solver. */
static int init_clone_geometry(struct shadow_superblock *sb, struct shadow_layout *l)
{
	/* A bitset counts and indexes chunks in 32 bits. */
	if (sb->nr_origin_chunks > SHADOW_MAX_CLONE_CHUNKS)
		return -EINVAL;
	if (shadow_layout_compute_clone(l, sb->store_sectors, sb->chunk_sectors,
					SHADOW_JOURNAL_BLOCKS) < 0)
		return -ENOSPC;
	sb->incompat_flags |= SHADOW_FEATURE_INCOMPAT_CLONE;
	return 0;
}

int shadow_sb_init_geometry(struct shadow_superblock *sb)
{
	struct shadow_layout l;
	int r;

	if (!shadow_chunk_sectors_valid(sb->chunk_sectors) || sb->origin_sectors == 0 ||
	    sb->origin_sectors > SHADOW_MAX_SECTORS)
		return -EINVAL;
	sb->nr_origin_chunks = shadow_div_round_up(sb->origin_sectors,
						   sb->chunk_sectors);
	if (sb->nr_origin_chunks > SHADOW_MAX_ORIGIN_CHUNKS)
		return -EINVAL;
	if (sb->store_type == SHADOW_STORE_CLONE) {
		r = init_clone_geometry(sb, &l);
		if (r < 0)
			return r;
	} else if (shadow_layout_solve(&l, sb->store_sectors, sb->chunk_sectors,
				       SHADOW_JOURNAL_BLOCKS) < 0) {
		return -ENOSPC;
	}
	sb->incompat_flags |= SHADOW_FEATURE_INCOMPAT_JOURNAL;
	sb->metadata_blocks = l.metadata_blocks;
	sb->data_start = l.data_start;
	sb->nr_data_chunks = l.nr_data_chunks;
	return 0;
}

uint32_t shadow_journal_blocks(const struct shadow_superblock *sb)
{
	return sb->incompat_flags & SHADOW_FEATURE_INCOMPAT_JOURNAL ?
	       SHADOW_JOURNAL_BLOCKS : 0;
}

uint64_t shadow_journal_start(const struct shadow_superblock *sb)
{
	return sb->metadata_blocks - shadow_journal_blocks(sb);
}

int shadow_sb_validate(const void *block, uint64_t dev_sectors,
		       struct shadow_superblock *ret, struct shadow_error *err)
{
	struct shadow_sb_fault f;
	int r;

	if (shadow_mem_is_zero(block, SHADOW_MD_BLOCK_SIZE)) {
		shadow_error_set(err, SHADOW_ERR_ZERO,
				 "superblock is all zeroes: the store has never been formatted");
		return -EBADMSG;
	}
	r = shadow_sb_verify_block(block, 0, err);
	if (r < 0)
		return r;
	/* Offline readers do not write: unknown ro_compat bits are fine. */
	if (shadow_sb_check_contents(block, dev_sectors, &f))
		return sb_refused(&f, err);
	shadow_sb_decode(block, ret);
	return 0;
}

int shadow_sb_verify_dropped(const void *block, struct shadow_error *err)
{
	struct shadow_sb_fault f;

	if (shadow_sb_check_row_dropped(block, &f))
		return sb_refused(&f, err);
	return 0;
}

bool shadow_sb_tag_dead(const struct shadow_superblock *sb, uint64_t tag)
{
	return (sb->incompat_flags & SHADOW_FEATURE_INCOMPAT_ROW_DROPPED) &&
	       sb->store_type == SHADOW_STORE_ROW &&
	       tag >= sb->dropped_from && tag < sb->dropped_below;
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

void shadow_clone_decode(const void *p, struct shadow_clone *ret)
{
	struct shadow_disk_clone d;

	memcpy(&d, p, sizeof(d));
	*ret = (struct shadow_clone) {
		.id = le64toh(d.id),
		.bitset_root = le64toh(d.bitset_root),
		.nr_copied = le64toh(d.nr_copied),
		.target_sectors = le64toh(d.target_sectors),
		.state = le32toh(d.state),
		.flags = le32toh(d.flags),
	};
}

void shadow_clone_encode(void *p, const struct shadow_clone *c)
{
	struct shadow_disk_clone d = {
		.id = htole64(c->id),
		.bitset_root = htole64(c->bitset_root),
		.nr_copied = htole64(c->nr_copied),
		.target_sectors = htole64(c->target_sectors),
		.state = htole32(c->state),
		.flags = htole32(c->flags),
	};

	memcpy(p, &d, sizeof(d));
}

static void journal_header_decode(const void *block, struct shadow_journal_header *ret)
{
	struct shadow_disk_journal d;

	memcpy(&d, block, sizeof(d));
	*ret = (struct shadow_journal_header) {
		.csum = le32toh(d.hdr.csum),
		.type = le32toh(d.hdr.type),
		.blocknr = le64toh(d.hdr.blocknr),
		.trans_id = le64toh(d.trans_id),
		.index = le32toh(d.index),
		.nr_entries = le32toh(d.nr_entries),
	};
	memcpy(ret->uuid, d.uuid, sizeof(ret->uuid));
}

/* The block itself: written, a journal block, where it was written. */
static int journal_verify_block(const void *block, uint32_t index, uint64_t blocknr,
				const struct shadow_journal_header *h,
				struct shadow_error *err)
{
	uint32_t csum;

	if (shadow_mem_is_zero(block, SHADOW_MD_BLOCK_SIZE)) {
		shadow_error_set(err, SHADOW_ERR_ZERO,
				 "journal block %u (block %" PRIu64 ") was never written",
				 index, blocknr);
		return -EBADMSG;
	}
	if (h->type != SHADOW_BLOCK_JOURNAL) {
		shadow_error_set(err, SHADOW_ERR_BAD_TYPE,
				 "journal block %u (block %" PRIu64 ") has type 0x%08x, not a journal block's",
				 index, blocknr, h->type);
		return -EBADMSG;
	}
	csum = shadow_block_csum(block, SHADOW_MD_BLOCK_SIZE, SHADOW_JOURNAL_CSUM_XOR);
	if (h->csum != csum) {
		shadow_error_set(err, SHADOW_ERR_BAD_CSUM,
				 "journal block %u (block %" PRIu64 ") has a bad checksum: stored 0x%08x, computed 0x%08x",
				 index, blocknr, h->csum, csum);
		return -EBADMSG;
	}
	if (h->blocknr != blocknr) {
		shadow_error_set(err, SHADOW_ERR_BAD_BLOCKNR,
				 "journal block %u (block %" PRIu64 ") says it is block %" PRIu64 " (misplaced write?)",
				 index, blocknr, h->blocknr);
		return -EBADMSG;
	}
	return 0;
}

/*
 * Whether a sound block is of the superblock's commit: a block of an
 * earlier commit is what a commit leaves behind in the ring (stale).
 */
static int journal_verify_commit(const struct shadow_superblock *sb, uint32_t index,
				 uint64_t blocknr, const struct shadow_journal_header *h,
				 struct shadow_error *err)
{
	if (memcmp(h->uuid, sb->uuid, sizeof(sb->uuid))) {
		shadow_error_set(err, SHADOW_ERR_STALE,
				 "journal block %u (block %" PRIu64 ") belongs to another store (its uuid differs)",
				 index, blocknr);
		return -ESTALE;
	}
	if (h->trans_id != sb->trans_id) {
		shadow_error_set(err, SHADOW_ERR_STALE,
				 "journal block %u (block %" PRIu64 ") is of transaction %" PRIu64 ", the superblock's is %" PRIu64 " (stale)",
				 index, blocknr, h->trans_id, sb->trans_id);
		return -ESTALE;
	}
	if (h->index != index) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "journal block %u (block %" PRIu64 ") says it is ring index %u",
				 index, blocknr, h->index);
		return -EBADMSG;
	}
	if (h->nr_entries > SHADOW_JOURNAL_ENTRIES) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "journal block %u (block %" PRIu64 ") has %u entries, more than the %zu a block holds",
				 index, blocknr, h->nr_entries, (size_t)SHADOW_JOURNAL_ENTRIES);
		return -EBADMSG;
	}
	return 0;
}

int shadow_journal_verify(const void *block, const struct shadow_superblock *sb,
			  uint32_t index, struct shadow_journal_header *ret,
			  struct shadow_error *err)
{
	uint64_t blocknr = shadow_journal_start(sb) + index;
	struct shadow_journal_header h;
	int r;

	journal_header_decode(block, &h);
	r = journal_verify_block(block, index, blocknr, &h, err);
	if (r == 0)
		r = journal_verify_commit(sb, index, blocknr, &h, err);
	if (r == 0)
		*ret = h;
	return r;
}

void shadow_journal_entry_decode(const void *block, uint32_t i,
				 struct shadow_journal_entry *ret)
{
	struct shadow_disk_journal_entry d;

	memcpy(&d, (const uint8_t *)block + sizeof(struct shadow_disk_journal) +
	       i * sizeof(d), sizeof(d));
	*ret = (struct shadow_journal_entry) {
		.chunk = le64toh(d.chunk),
		.seq = le64toh(d.seq),
		.store_chunk = le64toh(d.store_chunk),
		.tree = le32toh(d.tree),
	};
}

uint64_t shadow_journal_entry_tag(uint32_t store_type,
				  const struct shadow_journal_entry *e)
{
	/*
	 * Not through shadow_shared_key_tag(): its mask would make a seq
	 * wider than the key's 24 bits, which would spill into the key's
	 * chunk, look like a tag in range.
	 */
	if (store_type == SHADOW_STORE_ROW && e->tree == SHADOW_JOURNAL_SHARED)
		return shadow_row_seq(e->seq);
	return e->seq;
}

void shadow_journal_encode(const struct shadow_journal_header *h,
			   const struct shadow_journal_entry *entries, void *block)
{
	struct shadow_disk_journal d = {
		.hdr.type = htole32(SHADOW_BLOCK_JOURNAL),
		.hdr.blocknr = htole64(h->blocknr),
		.trans_id = htole64(h->trans_id),
		.index = htole32(h->index),
		.nr_entries = htole32(h->nr_entries),
	};

	memset(block, 0, SHADOW_MD_BLOCK_SIZE);
	memcpy(d.uuid, h->uuid, sizeof(d.uuid));
	memcpy(block, &d, sizeof(d));
	for (uint32_t i = 0; i < h->nr_entries && i < SHADOW_JOURNAL_ENTRIES; i++) {
		struct shadow_disk_journal_entry e = {
			.chunk = htole64(entries[i].chunk),
			.seq = htole64(entries[i].seq),
			.store_chunk = htole64(entries[i].store_chunk),
			.tree = htole32(entries[i].tree),
		};

		memcpy((uint8_t *)block + sizeof(d) + i * sizeof(e), &e, sizeof(e));
	}
	((struct shadow_disk_journal *)block)->hdr.csum =
		htole32(shadow_block_csum(block, SHADOW_MD_BLOCK_SIZE,
					  SHADOW_JOURNAL_CSUM_XOR));
}
