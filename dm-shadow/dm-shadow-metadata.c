// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-shadow metadata, on the kernel's dm-persistent-data library.
 *
 * The store's metadata area is managed the way dm-thin manages its
 * metadata device: a transaction manager over a block manager, a metadata
 * space map, a disk space map for the data chunks, and btrees.  A commit
 * writes every shadowed block, flushes, and then writes the superblock
 * (block 0) with the new roots and flushes again (dm_tm_commit), so the
 * store on disk is always one whole transaction.
 *
 * The store device holds data after the metadata area, but the block
 * manager sees the whole device: at format time every block past the
 * metadata area is counted once in the metadata space map, so that the
 * metadata allocator never hands one out.
 *
 * A data chunk is allocated before its copy starts and mapped once the
 * copy is done.  A commit in between must not make the allocation durable
 * without the mapping (a crash would leak the chunk), so chunks allocated
 * and not yet mapped are kept in md->unmapped, given back to the data
 * space map just before each commit and taken again just after it.
 *
 * On a store with the exception journal, a batch of finished copies is
 * made durable by one journal write instead (shadow_md_commit_copies()),
 * as long as the running transaction holds nothing but those exceptions
 * (and their chunks): anything else, a removal, a snapshot, a revert's
 * progress, sets md->must_commit, and the next batch commits.  So does a
 * full ring.  The journal's entries are replayed into the trees when the
 * store is next opened, then committed.
 */
#include "dm-shadow-metadata.h"
#include "dm-shadow-format.h"
#include "dm-shadow-journal.h"
#include "dm-shadow-layout.h"
#include "dm-shadow-sb-check.h"

#include <linux/device-mapper.h>
#include <linux/ktime.h>
#include <linux/random.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include <persistent-data/dm-block-manager.h>
#include <persistent-data/dm-btree.h>
#include <persistent-data/dm-space-map-common.h>
#include <persistent-data/dm-space-map-metadata.h>
#include <persistent-data/dm-space-map.h>
#include <persistent-data/dm-space-map-disk.h>
#include <persistent-data/dm-transaction-manager.h>

#include "dm-shadow-md-internal.h"

#define DM_MSG_PREFIX "shadow"

#define SHADOW_SB_LOCATION	0
/* Blocks a thread may hold at once: a btree spine plus a space map's. */
#define SHADOW_MAX_HELD		16

/* Superblock validator */

static void sb_prepare_for_write(SHADOW_VALIDATOR *v, struct dm_block *b,
				 size_t block_size)
{
	struct shadow_disk_superblock *sb = dm_block_data(b);

	sb->hdr.blocknr = cpu_to_le64(dm_block_location(b));
	sb->hdr.csum = cpu_to_le32(dm_bm_checksum(&sb->hdr.type,
						  block_size - sizeof(__le32),
						  SHADOW_SB_CSUM_XOR));
}

/* Log a broken superblock rule with its numbers; the table error is shorter. */
static void shadow_md_log_fault(const struct shadow_sb_fault *f)
{
	const struct shadow_sb_rule_info *i = shadow_sb_rule_get(f->rule);

	if (i->hex)
		DMERR("superblock: %s (%s 0x%llx, %s 0x%llx)", i->msg,
		      f->field, f->found, i->bound, f->expected);
	else
		DMERR("superblock: %s (%s %llu, %s %llu)", i->msg,
		      f->field, f->found, i->bound, f->expected);
}

static int shadow_md_sb_refused(const struct shadow_sb_fault *f, char **error)
{
	shadow_md_log_fault(f);
	*error = (char *)shadow_sb_rule_msg(f->rule);
	return shadow_sb_rule_errno(f->rule);
}

static int sb_check(SHADOW_VALIDATOR *v, struct dm_block *b,
		    size_t block_size)
{
	struct shadow_disk_superblock *sb = dm_block_data(b);
	struct shadow_sb_fault f;
	u32 csum;
	int r;

	csum = dm_bm_checksum(&sb->hdr.type, block_size - sizeof(__le32),
			      SHADOW_SB_CSUM_XOR);
	r = shadow_sb_check_block(sb, dm_block_location(b), csum, &f);
	if (r)
		shadow_md_log_fault(&f);
	return r;
}

static SHADOW_VALIDATOR sb_validator = {
	.name = "shadow-superblock",
	.prepare_for_write = sb_prepare_for_write,
	.check = sb_check,
};

/* Exception values: a data chunk, counted in the data space map. */

static void exc_value_inc(void *context, const void *value, unsigned int n)
{
	const __le64 *v = value;
	unsigned int i;

	for (i = 0; i < n; i++)
		dm_sm_inc_block(context, le64_to_cpu(v[i]));
}

static void exc_value_dec(void *context, const void *value, unsigned int n)
{
	const __le64 *v = value;
	unsigned int i;

	for (i = 0; i < n; i++)
		dm_sm_dec_block(context, le64_to_cpu(v[i]));
}

static int exc_value_equal(void *context, const void *v1, const void *v2)
{
	return !memcmp(v1, v2, sizeof(__le64));
}

static void shadow_md_setup_info(struct shadow_md *md)
{
	md->exc_info.tm = md->tm;
	md->exc_info.levels = 1;
	md->exc_info.value_type.context = md->data_sm;
	md->exc_info.value_type.size = sizeof(__le64);
	md->exc_info.value_type.inc = exc_value_inc;
	md->exc_info.value_type.dec = exc_value_dec;
	md->exc_info.value_type.equal = exc_value_equal;

	memcpy(&md->nb_exc_info, &md->exc_info, sizeof(md->exc_info));
	md->nb_exc_info.tm = md->nb_tm;

	md->snap_info.tm = md->tm;
	md->snap_info.levels = 1;
	md->snap_info.value_type.size = sizeof(struct shadow_disk_snapshot);

	md->revert_info.tm = md->tm;
	md->revert_info.levels = 1;
	md->revert_info.value_type.size = sizeof(__le64);

	/*
	 * A clone's value names its bitset, which no reference count
	 * follows: the clone tree is never shared (a clone store takes no
	 * metadata snapshot), and a clone's bitset is deleted before it.
	 */
	md->clone_info.tm = md->tm;
	md->clone_info.levels = 1;
	md->clone_info.value_type.size = sizeof(struct shadow_disk_clone);
}

/* Superblock encoding */

static int shadow_md_copy_sm_root(struct dm_space_map *sm, u8 *dest)
{
	size_t len;
	int r;

	r = dm_sm_root_size(sm, &len);
	if (r)
		return r;
	if (len > SHADOW_SPACE_MAP_ROOT_SIZE)
		return -EINVAL;
	return dm_sm_copy_root(sm, dest, len);
}

static int shadow_md_fill_sb(struct shadow_md *md,
			     struct shadow_disk_superblock *sb)
{
	u64 incompat = 0;
	int r;

	memset(sb, 0, sizeof(*sb));
	sb->hdr.type = cpu_to_le32(SHADOW_BLOCK_SB);
	sb->magic = cpu_to_le64(SHADOW_MAGIC);
	sb->version = cpu_to_le32(SHADOW_VERSION);
	sb->store_type = cpu_to_le32(md->store_type);
	memcpy(sb->uuid, md->uuid, sizeof(sb->uuid));
	sb->chunk_sectors = cpu_to_le32(md->chunk_sectors);
	sb->flags = cpu_to_le32(md->flags);
	sb->origin_sectors = cpu_to_le64(md->origin_sectors);
	sb->nr_origin_chunks = cpu_to_le64(md->nr_origin_chunks);
	sb->store_sectors = cpu_to_le64(md->store_sectors);
	sb->metadata_blocks = cpu_to_le64(md->metadata_blocks);
	sb->data_start = cpu_to_le64(md->data_start);
	sb->nr_data_chunks = cpu_to_le64(md->nr_data_chunks);
	sb->format_time = cpu_to_le64(md->format_time);
	sb->trans_id = cpu_to_le64(md->trans_id);
	sb->data_limit = cpu_to_le64(md->data_limit);
	sb->last_seq = cpu_to_le64(md->last_seq);
	sb->exception_root = cpu_to_le64(md->roots[SHADOW_MD_SHARED]);
	sb->private_root = cpu_to_le64(md->roots[SHADOW_MD_PRIVATE]);
	sb->snapshot_root = cpu_to_le64(md->snap_root);
	sb->held_root = cpu_to_le64(md->held_root);
	if (md->journal_blocks)
		incompat |= SHADOW_FEATURE_INCOMPAT_JOURNAL;
	if (md->revert_seq) {
		incompat |= SHADOW_FEATURE_INCOMPAT_REVERT;
		sb->revert_seq = cpu_to_le64(md->revert_seq);
		sb->revert_cursor = cpu_to_le64(md->revert_cursor);
		sb->revert_root = cpu_to_le64(md->revert_root);
	}
	if (md->dropped_below) {
		incompat |= SHADOW_FEATURE_INCOMPAT_ROW_DROPPED;
		sb->dropped_from = cpu_to_le64(md->dropped_from);
		sb->dropped_below = cpu_to_le64(md->dropped_below);
	}
	if (md->store_type == SHADOW_STORE_CLONE) {
		incompat |= SHADOW_FEATURE_INCOMPAT_CLONE;
		sb->clone_root = cpu_to_le64(md->clone_root);
	}
	sb->incompat_flags = cpu_to_le64(incompat);
	r = shadow_md_copy_sm_root(md->metadata_sm,
				   sb->metadata_space_map_root);
	if (!r)
		r = shadow_md_copy_sm_root(md->data_sm,
					   sb->data_space_map_root);
	return r;
}

/* Commit everything the running transaction holds. */
static int __shadow_md_commit_all(struct shadow_md *md)
{
	struct dm_block *sblock;
	int r;

	r = dm_sm_commit(md->data_sm);
	if (!r)
		r = dm_tm_pre_commit(md->tm);
	if (r)
		return r;
	md->trans_id++;
	r = dm_bm_write_lock_zero(md->bm, SHADOW_SB_LOCATION, &sb_validator,
				  &sblock);
	if (r)
		return r;
	r = shadow_md_fill_sb(md, dm_block_data(sblock));
	if (r) {
		dm_bm_unlock(sblock);
		return r;
	}
	return dm_tm_commit(md->tm, sblock);
}

/* Add @delta to the count of every allocated chunk not yet mapped. */
static int shadow_md_adjust_unmapped(struct shadow_md *md, int delta)
{
	unsigned long chunk;
	void *entry;
	int r = 0;

	xa_for_each(&md->unmapped, chunk, entry) {
		r = delta > 0 ? dm_sm_inc_block(md->data_sm, chunk) :
				dm_sm_dec_block(md->data_sm, chunk);
		if (r)
			break;
	}
	return r;
}

static int __shadow_md_commit(struct shadow_md *md)
{
	int r = shadow_md_adjust_unmapped(md, -1);

	if (!r)
		r = __shadow_md_commit_all(md);
	if (!r)
		r = shadow_md_adjust_unmapped(md, 1);
	if (!r && md->journal) {
		/* Everything the ring held is in the trees on disk now. */
		shadow_journal_reset(md->journal);
		md->must_commit = false;
	}
	return r;
}

int shadow_md_commit(struct shadow_md *md)
{
	int r;

	down_write(&md->lock);
	r = __shadow_md_commit(md);
	up_write(&md->lock);
	return r;
}

/*
 * The journal can make the batch durable: it holds everything changed
 * since the last commit that matters after a crash (chunks allocated and
 * not mapped need not survive one), and the ring has a block left.
 */
static bool shadow_md_journal_will_do(struct shadow_md *md)
{
	return md->journal && !md->must_commit &&
	       !shadow_journal_full(md->journal);
}

int shadow_md_commit_copies(struct shadow_md *md)
{
	int r = 0;

	down_write(&md->lock);
	if (!shadow_md_journal_will_do(md))
		r = __shadow_md_commit(md);
	else if (shadow_journal_unwritten(md->journal))
		r = shadow_journal_write(md->journal, md->trans_id);
	up_write(&md->lock);
	return r;
}

int shadow_md_empty_journal(struct shadow_md *md)
{
	int r = 0;

	down_write(&md->lock);
	if (md->journal && (shadow_journal_in_use(md->journal) ||
			    shadow_journal_unwritten(md->journal)))
		r = __shadow_md_commit(md);
	up_write(&md->lock);
	return r;
}

void shadow_md_set_needs_check(struct shadow_md *md)
{
	down_write(&md->lock);
	md->flags |= SHADOW_SB_NEEDS_CHECK;
	md->must_commit = true;
	up_write(&md->lock);
}

bool shadow_md_needs_check(struct shadow_md *md)
{
	return READ_ONCE(md->flags) & SHADOW_SB_NEEDS_CHECK;
}

/* Format */

static int shadow_md_set_geometry(struct shadow_md *md,
				  const struct shadow_md_geometry *geo,
				  char **error)
{
	struct shadow_layout l;

	md->store_type = geo->store_type;
	md->chunk_sectors = geo->chunk_sectors;
	md->origin_sectors = geo->origin_sectors;
	md->nr_origin_chunks = DIV_ROUND_UP_ULL(geo->origin_sectors,
						geo->chunk_sectors);
	md->store_sectors = bdev_nr_sectors(md->bdev);
	if (md->nr_origin_chunks >= SHADOW_MAX_ORIGIN_CHUNKS) {
		*error = "origin has too many chunks for a store (2^40 at most)";
		return -EINVAL;
	}
	if (md->store_type == SHADOW_STORE_CLONE &&
	    md->nr_origin_chunks > SHADOW_MAX_CLONE_CHUNKS) {
		*error = "origin has too many chunks for a clone store (2^32 - 1 at most: use larger chunks)";
		return -EINVAL;
	}
	md->journal_blocks = SHADOW_JOURNAL_BLOCKS;
	if (shadow_layout_compute_type(&l, md->store_type, md->store_sectors,
				       geo->chunk_sectors,
				       md->journal_blocks)) {
		*error = md->store_type == SHADOW_STORE_CLONE ?
			 "store is too small for a clone store's metadata" :
			 "store is too small for its metadata and one chunk";
		return -ENOSPC;
	}
	md->metadata_blocks = l.metadata_blocks;
	md->data_start = l.data_start;
	md->nr_data_chunks = l.nr_data_chunks;
	md->data_limit = l.nr_data_chunks;
	md->format_time = ktime_get_real_seconds();
	md->trans_id = 0;
	md->last_seq = 0;
	generate_random_uuid(md->uuid);
	return 0;
}

/* The journal's ring, then the data area: the rest of the store. */
static u64 shadow_md_journal_start(struct shadow_md *md)
{
	return md->metadata_blocks - md->journal_blocks;
}

/*
 * Keep the metadata allocator out of the journal and the data area (see
 * the top).
 */
static int shadow_md_reserve_data_area(struct shadow_md *md)
{
	dm_block_t nr;
	int r;

	r = dm_sm_get_nr_blocks(md->metadata_sm, &nr);
	if (r || nr <= shadow_md_journal_start(md))
		return r;
	return dm_sm_inc_blocks(md->metadata_sm, shadow_md_journal_start(md),
				nr);
}

static int shadow_md_open_journal(struct shadow_md *md)
{
	if (!md->journal_blocks)
		return 0;
	md->journal = shadow_journal_create(md->bdev,
					    shadow_md_journal_start(md),
					    md->journal_blocks, md->uuid);
	return md->journal ? 0 : -ENOMEM;
}

static int shadow_md_format(struct shadow_md *md,
			    const struct shadow_md_geometry *geo, char **error)
{
	int r;

	r = shadow_md_set_geometry(md, geo, error);
	if (r)
		return r;
	r = shadow_md_open_journal(md);
	if (r) {
		*error = "cannot allocate the exception journal";
		return r;
	}
	r = dm_tm_create_with_sm(md->bm, SHADOW_SB_LOCATION, &md->tm,
				 &md->metadata_sm);
	if (r) {
		*error = "cannot create the metadata transaction manager";
		return r;
	}
	*error = "cannot format the store's metadata";
	r = shadow_md_reserve_data_area(md);
	if (r)
		goto bad_sm;
	md->data_sm = dm_sm_disk_create(md->tm, md->nr_data_chunks);
	if (IS_ERR(md->data_sm)) {
		r = PTR_ERR(md->data_sm);
		goto bad_sm;
	}
	md->nb_tm = dm_tm_create_non_blocking_clone(md->tm);
	if (!md->nb_tm) {
		r = -ENOMEM;
		goto bad_data_sm;
	}
	shadow_md_setup_info(md);
	r = dm_btree_empty(&md->exc_info, &md->roots[SHADOW_MD_SHARED]);
	if (!r)
		r = dm_btree_empty(&md->exc_info, &md->roots[SHADOW_MD_PRIVATE]);
	if (!r)
		r = dm_btree_empty(&md->snap_info, &md->snap_root);
	if (!r && md->store_type == SHADOW_STORE_CLONE)
		r = dm_btree_empty(&md->clone_info, &md->clone_root);
	if (!r)
		r = __shadow_md_commit(md);
	if (r)
		goto bad_nb_tm;
	if (md->store_type == SHADOW_STORE_CLONE)
		DMINFO("formatted a clone store of %llu metadata blocks for %llu chunks of %u sectors",
		       md->metadata_blocks, md->nr_origin_chunks,
		       md->chunk_sectors);
	else
		DMINFO("formatted a store of %llu data chunks of %u sectors",
		       md->nr_data_chunks, md->chunk_sectors);
	return 0;

bad_nb_tm:
	dm_tm_destroy(md->nb_tm);
bad_data_sm:
	dm_sm_destroy(md->data_sm);
bad_sm:
	dm_tm_destroy(md->tm);
	dm_sm_destroy(md->metadata_sm);
	return r;
}

/* Open */

/*
 * Refuse a superblock that breaks a rule of the format (the same rules
 * shadow-dump applies: dm-shadow-sb-check.h) or that describes a store
 * for another table or origin, saying which.
 */
static int shadow_md_check_sb(struct shadow_md *md,
			      const struct shadow_disk_superblock *sb,
			      const struct shadow_md_geometry *geo,
			      char **error)
{
	struct shadow_sb_fault f;

	if (shadow_sb_check_readable(sb, &f) ||
	    shadow_sb_check_writable(sb, &f) ||
	    shadow_sb_check_geometry(sb, bdev_nr_sectors(md->bdev), &f) ||
	    shadow_sb_check_state(sb, &f))
		return shadow_md_sb_refused(&f, error);

	if (le32_to_cpu(sb->store_type) != geo->store_type) {
		DMERR("store type %u, the table asks for type %u",
		      le32_to_cpu(sb->store_type), geo->store_type);
		*error = "store's type differs from the table's";
		return -EINVAL;
	}
	if (le32_to_cpu(sb->chunk_sectors) != geo->chunk_sectors) {
		*error = "store's chunk size differs from the table's";
		return -EINVAL;
	}
	if (le64_to_cpu(sb->origin_sectors) != geo->origin_sectors) {
		*error = "store's origin size differs from the origin device's";
		return -EINVAL;
	}
	return 0;
}

static void shadow_md_load_sb(struct shadow_md *md,
			      const struct shadow_disk_superblock *sb)
{
	memcpy(md->uuid, sb->uuid, sizeof(md->uuid));
	md->store_type = le32_to_cpu(sb->store_type);
	md->chunk_sectors = le32_to_cpu(sb->chunk_sectors);
	md->flags = le32_to_cpu(sb->flags);
	md->origin_sectors = le64_to_cpu(sb->origin_sectors);
	md->nr_origin_chunks = le64_to_cpu(sb->nr_origin_chunks);
	md->store_sectors = le64_to_cpu(sb->store_sectors);
	md->metadata_blocks = le64_to_cpu(sb->metadata_blocks);
	md->journal_blocks = shadow_sb_journal_blocks(sb);
	md->data_start = le64_to_cpu(sb->data_start);
	md->nr_data_chunks = le64_to_cpu(sb->nr_data_chunks);
	md->format_time = le64_to_cpu(sb->format_time);
	md->trans_id = le64_to_cpu(sb->trans_id);
	md->data_limit = le64_to_cpu(sb->data_limit);
	md->last_seq = le64_to_cpu(sb->last_seq);
	md->roots[SHADOW_MD_SHARED] = le64_to_cpu(sb->exception_root);
	md->roots[SHADOW_MD_PRIVATE] = le64_to_cpu(sb->private_root);
	md->snap_root = le64_to_cpu(sb->snapshot_root);
	md->held_root = le64_to_cpu(sb->held_root);
	md->revert_seq = le64_to_cpu(sb->revert_seq);
	md->revert_cursor = le64_to_cpu(sb->revert_cursor);
	md->revert_root = le64_to_cpu(sb->revert_root);
	md->dropped_from = le64_to_cpu(sb->dropped_from);
	md->dropped_below = le64_to_cpu(sb->dropped_below);
	md->clone_root = le64_to_cpu(sb->clone_root);
}

static int shadow_md_open_sms(struct shadow_md *md,
			      struct shadow_disk_superblock *sb, char **error)
{
	int r;

	r = dm_tm_open_with_sm(md->bm, SHADOW_SB_LOCATION,
			       sb->metadata_space_map_root,
			       sizeof(sb->metadata_space_map_root),
			       &md->tm, &md->metadata_sm);
	if (r) {
		*error = "cannot open the metadata space map";
		return r;
	}
	md->data_sm = dm_sm_disk_open(md->tm, sb->data_space_map_root,
				      sizeof(sb->data_space_map_root));
	if (IS_ERR(md->data_sm)) {
		*error = "cannot open the data space map";
		r = PTR_ERR(md->data_sm);
		goto bad;
	}
	md->nb_tm = dm_tm_create_non_blocking_clone(md->tm);
	if (!md->nb_tm) {
		*error = "cannot allocate the transaction manager";
		r = -ENOMEM;
		dm_sm_destroy(md->data_sm);
		goto bad;
	}
	return 0;

bad:
	dm_tm_destroy(md->tm);
	dm_sm_destroy(md->metadata_sm);
	return r;
}

static void shadow_md_close_sms(struct shadow_md *md)
{
	dm_tm_destroy(md->nb_tm);
	dm_sm_destroy(md->data_sm);
	dm_tm_destroy(md->tm);
	dm_sm_destroy(md->metadata_sm);
}

/* Journal replay */

struct shadow_md_replay {
	struct shadow_md *md;
	unsigned int entries;
};

/* The snapshot sequence an entry's key holds (row stores invert it). */
static u64 shadow_md_entry_tag(struct shadow_md *md,
			       const struct shadow_journal_entry *e)
{
	if (md->store_type == SHADOW_STORE_ROW &&
	    e->tree == SHADOW_JOURNAL_SHARED)
		return shadow_row_seq(e->seq);
	return e->seq;
}

static bool shadow_md_entry_in_range(struct shadow_md *md,
				     const struct shadow_journal_entry *e)
{
	u64 tag = shadow_md_entry_tag(md, e);

	return e->tree <= SHADOW_JOURNAL_PRIVATE &&
	       e->chunk < md->nr_origin_chunks &&
	       e->seq <= SHADOW_MAX_SEQ && tag && tag <= md->last_seq &&
	       e->store_chunk < md->nr_data_chunks;
}

/* Re-do one insert the journal recorded, as shadow_md_exc_insert() did. */
static int shadow_md_replay_entry(void *context,
				  const struct shadow_journal_entry *e)
{
	struct shadow_md_replay *rp = context;
	struct shadow_md *md = rp->md;
	u64 key = shadow_exc_key(e->chunk, e->seq);
	__le64 value = cpu_to_le64(e->store_chunk);
	u32 count;
	int r;

	if (!shadow_md_entry_in_range(md, e)) {
		DMERR("exception journal: entry out of range (tree %u, chunk %llu, tag %llu, data chunk %llu)",
		      e->tree, e->chunk, e->seq, e->store_chunk);
		return -EUCLEAN;
	}
	r = dm_sm_get_count(md->data_sm, e->store_chunk, &count);
	if (r)
		return r;
	if (count) {
		DMERR("exception journal: data chunk %llu of chunk %llu is in use already",
		      e->store_chunk, e->chunk);
		return -EUCLEAN;
	}
	r = dm_sm_inc_block(md->data_sm, e->store_chunk);
	if (r)
		return r;
	__dm_bless_for_disk(&value);
	r = dm_btree_insert(&md->exc_info, md->roots[e->tree], &key, &value,
			    &md->roots[e->tree]);
	if (!r)
		rp->entries++;
	return r;
}

/*
 * Put the exceptions the journal holds into the trees and commit them,
 * so that every life of the store starts with an empty ring.
 */
static int shadow_md_replay_journal(struct shadow_md *md, char **error)
{
	struct shadow_md_replay rp = { .md = md };
	unsigned int blocks;
	int r;

	r = shadow_journal_replay(md->journal, md->trans_id,
				  shadow_md_replay_entry, &rp, &blocks);
	if (r) {
		*error = "cannot replay the store's exception journal: run shadow-dump --check on it";
		return r;
	}
	if (!blocks)
		return 0;
	r = __shadow_md_commit(md);
	if (r) {
		*error = "cannot commit the replayed exception journal";
		return r;
	}
	DMINFO("replayed %u exceptions from %u blocks of the exception journal",
	       rp.entries, blocks);
	return 0;
}

static int shadow_md_open_existing(struct shadow_md *md,
				   const struct shadow_md_geometry *geo,
				   char **error)
{
	struct shadow_disk_superblock *sb;
	struct dm_block *sblock;
	int r;

	r = dm_bm_read_lock(md->bm, SHADOW_SB_LOCATION, &sb_validator,
			    &sblock);
	if (r) {
		*error = "store superblock checksum is wrong, or it is not where it was written";
		return r;
	}
	sb = dm_block_data(sblock);
	r = shadow_md_check_sb(md, sb, geo, error);
	if (!r) {
		shadow_md_load_sb(md, sb);
		r = shadow_md_open_sms(md, sb, error);
	}
	dm_bm_unlock(sblock);
	if (r)
		return r;
	shadow_md_setup_info(md);
	if (md->flags & SHADOW_SB_NEEDS_CHECK)
		DMWARN("the store is marked as needing a check: run shadow-dump --check on it");
	r = shadow_md_open_journal(md);
	if (r) {
		*error = "cannot allocate the exception journal";
		goto bad;
	}
	if (md->journal) {
		r = shadow_md_replay_journal(md, error);
		if (r)
			goto bad;
	}
	return 0;

bad:
	shadow_md_close_sms(md);
	return r;
}

/*
 * What block 0 holds, read without a validator: 0 for a store of our
 * version, 1 for all zeroes (format it), or -errno with *@error set.
 */
static int shadow_md_probe(struct shadow_md *md, char **error)
{
	const struct shadow_disk_superblock *sb;
	struct shadow_sb_fault f;
	struct dm_block *b;
	const u64 *w;
	unsigned int i;
	int r;

	r = dm_bm_read_lock(md->bm, SHADOW_SB_LOCATION, NULL, &b);
	if (r) {
		*error = "cannot read the store superblock";
		return r;
	}
	sb = dm_block_data(b);
	w = dm_block_data(b);
	r = 1;
	for (i = 0; i < SHADOW_MD_BLOCK_SIZE / sizeof(u64); i++) {
		if (w[i]) {
			r = 0;
			break;
		}
	}
	if (r)
		goto out;
	if (shadow_sb_check_identity(sb, &f))
		r = shadow_md_sb_refused(&f, error);
out:
	dm_bm_unlock(b);
	return r;
}

/*
 * The format header restates dm-persistent-data's constants for the
 * offline tools, which cannot include the kernel's headers: checked here,
 * against the headers of the kernel we build for.  (The checksum
 * constants live in dm-persistent-data's .c files; shadow-dump --check on
 * the stores the guest tests write checks those.)
 */
static void shadow_md_check_constants(void)
{
	BUILD_BUG_ON(SHADOW_MAX_METADATA_BLOCKS != DM_SM_METADATA_MAX_BLOCKS);
	BUILD_BUG_ON(sizeof(struct disk_sm_root) > SHADOW_SPACE_MAP_ROOT_SIZE);
	BUILD_BUG_ON(sizeof(struct disk_sm_root) !=
		     sizeof(struct shadow_disk_sm_root));
	BUILD_BUG_ON(offsetof(struct disk_sm_root, bitmap_root) !=
		     offsetof(struct shadow_disk_sm_root, bitmap_root));
	BUILD_BUG_ON(offsetof(struct disk_sm_root, ref_count_root) !=
		     offsetof(struct shadow_disk_sm_root, ref_count_root));
	BUILD_BUG_ON(SHADOW_MD_BLOCK_SIZE !=
		     DM_SM_METADATA_BLOCK_SIZE << SECTOR_SHIFT);
	BUILD_BUG_ON(sizeof(struct shadow_disk_superblock) >
		     SHADOW_MD_BLOCK_SIZE);
	BUILD_BUG_ON(SHADOW_JOURNAL_SHARED != SHADOW_MD_SHARED);
	BUILD_BUG_ON(SHADOW_JOURNAL_PRIVATE != SHADOW_MD_PRIVATE);
}

int shadow_md_open(struct block_device *bdev,
		   const struct shadow_md_geometry *geo,
		   struct shadow_md **ret_md, char **error)
{
	struct shadow_md *md;
	int r;

	shadow_md_check_constants();
	if (bdev_logical_block_size(bdev) > SHADOW_MD_BLOCK_SIZE) {
		*error = "store device's logical block size is above 4 KiB";
		return -EINVAL;
	}
	md = kzalloc(sizeof(*md), GFP_KERNEL);
	if (!md) {
		*error = "cannot allocate the store's metadata";
		return -ENOMEM;
	}
	md->bdev = bdev;
	init_rwsem(&md->lock);
	xa_init(&md->unmapped);
	md->bm = dm_block_manager_create(bdev, SHADOW_MD_BLOCK_SIZE,
					 SHADOW_MAX_HELD);
	if (IS_ERR(md->bm)) {
		*error = "cannot create the metadata block manager";
		r = PTR_ERR(md->bm);
		goto bad_bm;
	}
	r = shadow_md_probe(md, error);
	if (r == 1)
		r = shadow_md_format(md, geo, error);
	else if (!r)
		r = shadow_md_open_existing(md, geo, error);
	if (r)
		goto bad_open;
	*ret_md = md;
	return 0;

bad_open:
	if (md->journal)
		shadow_journal_destroy(md->journal);
	dm_block_manager_destroy(md->bm);
bad_bm:
	kfree(md);
	return r;
}

void shadow_md_close(struct shadow_md *md)
{
	shadow_md_close_sms(md);
	if (md->journal)
		shadow_journal_destroy(md->journal);
	dm_block_manager_destroy(md->bm);
	xa_destroy(&md->unmapped);
	kfree(md);
}

/* Geometry and usage */

sector_t shadow_md_data_start(struct shadow_md *md)
{
	return md->data_start;
}

u64 shadow_md_nr_data_chunks(struct shadow_md *md)
{
	return md->nr_data_chunks;
}

u64 shadow_md_data_limit(struct shadow_md *md)
{
	return READ_ONCE(md->data_limit);
}

u64 shadow_md_trans_id(struct shadow_md *md)
{
	return READ_ONCE(md->trans_id);
}

static u64 __shadow_md_used_chunks(struct shadow_md *md)
{
	dm_block_t nr_free = 0;

	if (dm_sm_get_nr_free(md->data_sm, &nr_free))
		return md->nr_data_chunks;
	return md->nr_data_chunks - nr_free;
}

u64 shadow_md_used_chunks(struct shadow_md *md)
{
	u64 used;

	down_read(&md->lock);
	used = __shadow_md_used_chunks(md);
	up_read(&md->lock);
	return used;
}

void shadow_md_metadata_usage(struct shadow_md *md, u64 *used, u64 *total)
{
	dm_block_t nr_free = 0, nr = 0;

	down_read(&md->lock);
	dm_sm_get_nr_blocks(md->metadata_sm, &nr);
	dm_sm_get_nr_free(md->metadata_sm, &nr_free);
	up_read(&md->lock);
	/*
	 * The journal's ring and the blocks past the metadata area are
	 * counted once each, reserved at format time: not metadata in use.
	 */
	*total = shadow_md_journal_start(md);
	*used = min_t(u64, nr, *total) - nr_free;
}

/* Snapshots */

struct shadow_md_walk {
	shadow_md_snap_fn fn;
	void *context;
};

static int shadow_md_snap_leaf(void *context, u64 *keys, void *leaf)
{
	struct shadow_md_walk *w = context;
	struct shadow_disk_snapshot *d = leaf;
	struct shadow_md_snap s = {
		.id = le64_to_cpu(d->id),
		.seq = le64_to_cpu(d->seq),
		.ctime = le64_to_cpu(d->ctime),
		.state = le32_to_cpu(d->state),
		.flags = le32_to_cpu(d->flags),
	};

	if (s.id != keys[0]) {
		DMERR("snapshot %llu is filed under id %llu", s.id, keys[0]);
		return -EUCLEAN;
	}
	return w->fn(w->context, &s);
}

int shadow_md_snap_walk(struct shadow_md *md, shadow_md_snap_fn fn,
			void *context)
{
	struct shadow_md_walk w = { .fn = fn, .context = context };
	int r;

	down_read(&md->lock);
	r = dm_btree_walk(&md->snap_info, md->snap_root, shadow_md_snap_leaf,
			  &w);
	up_read(&md->lock);
	return r;
}

int shadow_md_snap_save(struct shadow_md *md,
			const struct shadow_md_snap *snap)
{
	struct shadow_disk_snapshot d = {
		.id = cpu_to_le64(snap->id),
		.seq = cpu_to_le64(snap->seq),
		.ctime = cpu_to_le64(snap->ctime),
		.state = cpu_to_le32(snap->state),
		.flags = cpu_to_le32(snap->flags),
	};
	u64 key = snap->id;
	int r;

	down_write(&md->lock);
	__dm_bless_for_disk(&d);
	r = dm_btree_insert(&md->snap_info, md->snap_root, &key, &d,
			    &md->snap_root);
	md->must_commit = true;
	up_write(&md->lock);
	return r;
}

int shadow_md_snap_remove(struct shadow_md *md, u64 id)
{
	int r;

	down_write(&md->lock);
	r = dm_btree_remove(&md->snap_info, md->snap_root, &id,
			    &md->snap_root);
	md->must_commit = true;
	up_write(&md->lock);
	return r;
}

u64 shadow_md_last_seq(struct shadow_md *md)
{
	return READ_ONCE(md->last_seq);
}

int shadow_md_next_seq(struct shadow_md *md, u64 *ret_seq)
{
	int r = 0;

	down_write(&md->lock);
	if (md->last_seq >= SHADOW_MAX_SEQ)
		r = -ENOSPC;
	else
		*ret_seq = ++md->last_seq;
	md->must_commit = true;
	up_write(&md->lock);
	return r;
}

/* Exceptions */

static int shadow_md_lookup_next(struct shadow_md *md,
				 struct dm_btree_info *info,
				 enum shadow_md_tree tree, u64 key,
				 struct shadow_md_exc *ret)
{
	__le64 value;
	u64 rkey;
	int r;

	r = dm_btree_lookup_next(info, md->roots[tree], &key, &rkey, &value);
	if (r)
		return r;
	ret->chunk = shadow_exc_key_chunk(rkey);
	ret->seq = shadow_exc_key_seq(rkey);
	ret->store_chunk = le64_to_cpu(value);
	if (ret->store_chunk >= md->nr_data_chunks) {
		DMERR("exception of chunk %llu points past the store (%llu)",
		      ret->chunk, ret->store_chunk);
		return -EUCLEAN;
	}
	return 0;
}

int shadow_md_exc_find(struct shadow_md *md, enum shadow_md_tree tree,
		       u64 chunk, u64 seq, bool can_block,
		       struct shadow_md_exc *ret)
{
	int r;

	if (can_block) {
		down_read(&md->lock);
		r = shadow_md_lookup_next(md, &md->exc_info, tree,
					  shadow_exc_key(chunk, seq), ret);
	} else {
		if (!down_read_trylock(&md->lock))
			return -EWOULDBLOCK;
		r = shadow_md_lookup_next(md, &md->nb_exc_info, tree,
					  shadow_exc_key(chunk, seq), ret);
	}
	up_read(&md->lock);
	if (!r && ret->chunk != chunk)
		r = -ENODATA;
	return r;
}

int shadow_md_exc_next(struct shadow_md *md, enum shadow_md_tree tree,
		       u64 chunk, u64 seq, struct shadow_md_exc *ret)
{
	int r;

	down_read(&md->lock);
	r = shadow_md_lookup_next(md, &md->exc_info, tree,
				  shadow_exc_key(chunk, seq), ret);
	up_read(&md->lock);
	return r;
}

/*
 * Give the journal an insert of a chunk allocated by shadow_md_alloc():
 * replaying it needs that chunk free in the last commit, which only the
 * allocator guarantees.  Any other insert, or a full block, must commit.
 */
static void shadow_md_journal_insert(struct shadow_md *md,
				     enum shadow_md_tree tree,
				     const struct shadow_md_exc *e,
				     bool allocated)
{
	struct shadow_journal_entry je = {
		.tree = tree,
		.chunk = e->chunk,
		.seq = e->seq,
		.store_chunk = e->store_chunk,
	};

	if (!md->journal)
		return;
	if (!allocated || shadow_journal_add(md->journal, &je))
		md->must_commit = true;
}

int shadow_md_exc_insert(struct shadow_md *md, enum shadow_md_tree tree,
			 const struct shadow_md_exc *e)
{
	u64 key = shadow_exc_key(e->chunk, e->seq);
	__le64 value = cpu_to_le64(e->store_chunk);
	int r;

	down_write(&md->lock);
	__dm_bless_for_disk(&value);
	r = dm_btree_insert(&md->exc_info, md->roots[tree], &key, &value,
			    &md->roots[tree]);
	if (!r)
		shadow_md_journal_insert(md, tree, e,
					 xa_erase(&md->unmapped, e->store_chunk));
	up_write(&md->lock);
	return r;
}

int shadow_md_exc_remove(struct shadow_md *md, enum shadow_md_tree tree,
			 u64 chunk, u64 seq)
{
	u64 key = shadow_exc_key(chunk, seq);
	int r;

	down_write(&md->lock);
	r = dm_btree_remove(&md->exc_info, md->roots[tree], &key,
			    &md->roots[tree]);
	md->must_commit = true;
	up_write(&md->lock);
	return r;
}

/* Data chunks */

static int __shadow_md_alloc(struct shadow_md *md, dm_block_t *b)
{
	int r;

	if (__shadow_md_used_chunks(md) >= md->data_limit)
		return -ENOSPC;
	r = dm_sm_new_block(md->data_sm, b);
	/*
	 * Chunks freed in this transaction are not handed out before it is
	 * committed: commit, and they are free.
	 */
	if (r == -ENOSPC) {
		r = __shadow_md_commit(md);
		if (!r)
			r = dm_sm_new_block(md->data_sm, b);
	}
	if (r)
		return r;
	r = xa_err(xa_store(&md->unmapped, *b, xa_mk_value(1), GFP_NOIO));
	if (r)
		dm_sm_dec_block(md->data_sm, *b);
	return r;
}

int shadow_md_alloc(struct shadow_md *md, u64 *ret_chunk)
{
	dm_block_t b;
	int r;

	down_write(&md->lock);
	r = __shadow_md_alloc(md, &b);
	up_write(&md->lock);
	if (!r)
		*ret_chunk = b;
	return r;
}

int shadow_md_release(struct shadow_md *md, u64 chunk)
{
	int r;

	down_write(&md->lock);
	xa_erase(&md->unmapped, chunk);
	r = dm_sm_dec_block(md->data_sm, chunk);
	up_write(&md->lock);
	return r;
}

int shadow_md_set_data_limit(struct shadow_md *md, u64 limit)
{
	int r = 0;

	down_write(&md->lock);
	if (!limit || limit > md->nr_data_chunks)
		r = -EINVAL;
	else if (__shadow_md_used_chunks(md) > limit)
		r = -ENOSPC;
	if (!r) {
		md->data_limit = limit;
		r = __shadow_md_commit(md);
	}
	up_write(&md->lock);
	return r;
}

/* Metadata snapshots */

/*
 * Keep a read-only copy of the metadata as it is now, for userspace to
 * read while the store goes on changing: a copy of the superblock in a
 * block of its own, holding a reference to each tree root, so that no
 * block those trees reach (nor any data chunk they map) is reused until
 * it is released.  As dm-thin does it.
 */
int shadow_md_reserve_snap(struct shadow_md *md, u64 *ret_root)
{
	struct shadow_disk_superblock *copy_sb;
	struct dm_block *copy;
	int inc, r;

	down_write(&md->lock);
	r = -EBUSY;
	if (md->held_root)
		goto out;
	/* Its clone tree names bitsets that no reference count follows. */
	r = -EOPNOTSUPP;
	if (md->store_type == SHADOW_STORE_CLONE)
		goto out;
	/* The roots referenced below must be the committed ones. */
	r = __shadow_md_commit(md);
	if (r)
		goto out;
	dm_sm_inc_block(md->metadata_sm, SHADOW_SB_LOCATION);
	r = dm_tm_shadow_block(md->tm, SHADOW_SB_LOCATION, &sb_validator,
			       &copy, &inc);
	if (r) {
		dm_sm_dec_block(md->metadata_sm, SHADOW_SB_LOCATION);
		goto out;
	}
	copy_sb = dm_block_data(copy);
	/* A snapshot of the space maps would not stay true: not kept. */
	memset(copy_sb->metadata_space_map_root, 0,
	       sizeof(copy_sb->metadata_space_map_root));
	memset(copy_sb->data_space_map_root, 0,
	       sizeof(copy_sb->data_space_map_root));
	copy_sb->held_root = 0;
	/*
	 * Nor is a revert's progress: the copy's trees are those of before.
	 * The journal's bit stays: with it, the copy's geometry is the
	 * store's (its metadata area ends in the ring); so does a row store's
	 * dropped range: the copy's trees hold the dead versions too.
	 */
	copy_sb->incompat_flags &=
		~cpu_to_le64(SHADOW_FEATURE_INCOMPAT_REVERT);
	copy_sb->revert_seq = 0;
	copy_sb->revert_cursor = 0;
	copy_sb->revert_root = 0;
	dm_tm_inc(md->tm, le64_to_cpu(copy_sb->exception_root));
	dm_tm_inc(md->tm, le64_to_cpu(copy_sb->private_root));
	dm_tm_inc(md->tm, le64_to_cpu(copy_sb->snapshot_root));
	md->held_root = dm_block_location(copy);
	dm_tm_unlock(md->tm, copy);
	r = __shadow_md_commit(md);
	if (!r)
		*ret_root = md->held_root;
out:
	up_write(&md->lock);
	return r;
}

int shadow_md_release_snap(struct shadow_md *md)
{
	struct shadow_disk_superblock *copy_sb;
	struct dm_block *copy;
	dm_block_t roots[3];
	int r;

	down_write(&md->lock);
	r = -ENODATA;
	if (!md->held_root)
		goto out;
	r = dm_tm_read_lock(md->tm, md->held_root, &sb_validator, &copy);
	if (r)
		goto out;
	copy_sb = dm_block_data(copy);
	roots[0] = le64_to_cpu(copy_sb->exception_root);
	roots[1] = le64_to_cpu(copy_sb->private_root);
	roots[2] = le64_to_cpu(copy_sb->snapshot_root);
	dm_tm_unlock(md->tm, copy);
	r = dm_btree_del(&md->exc_info, roots[0]);
	if (!r)
		r = dm_btree_del(&md->exc_info, roots[1]);
	if (!r)
		r = dm_btree_del(&md->snap_info, roots[2]);
	if (r)
		goto out;
	dm_sm_dec_block(md->metadata_sm, md->held_root);
	md->held_root = 0;
	r = __shadow_md_commit(md);
out:
	up_write(&md->lock);
	return r;
}

u64 shadow_md_held_root(struct shadow_md *md)
{
	return READ_ONCE(md->held_root);
}

/* Reverts */

void shadow_md_revert_state(struct shadow_md *md, u64 *ret_seq,
			    u64 *ret_cursor)
{
	down_read(&md->lock);
	*ret_seq = md->revert_seq;
	*ret_cursor = md->revert_cursor;
	up_read(&md->lock);
}

int shadow_md_revert_begin(struct shadow_md *md, u64 seq)
{
	dm_block_t root;
	int r;

	down_write(&md->lock);
	r = dm_btree_empty(&md->revert_info, &root);
	if (!r) {
		md->revert_root = root;
		md->revert_seq = seq;
		md->revert_cursor = 0;
	}
	md->must_commit = true;
	up_write(&md->lock);
	return r;
}

void shadow_md_revert_set_cursor(struct shadow_md *md, u64 cursor)
{
	down_write(&md->lock);
	md->revert_cursor = cursor;
	md->must_commit = true;
	up_write(&md->lock);
}

int shadow_md_revert_mark(struct shadow_md *md, u64 chunk)
{
	__le64 value = 0;
	int r;

	down_write(&md->lock);
	__dm_bless_for_disk(&value);
	r = dm_btree_insert(&md->revert_info, md->revert_root, &chunk, &value,
			    &md->revert_root);
	md->must_commit = true;
	up_write(&md->lock);
	return r;
}

struct shadow_md_revert_walk {
	shadow_md_chunk_fn fn;
	void *context;
};

static int shadow_md_revert_leaf(void *context, u64 *keys, void *leaf)
{
	struct shadow_md_revert_walk *w = context;

	return w->fn(w->context, keys[0]);
}

int shadow_md_revert_walk(struct shadow_md *md, shadow_md_chunk_fn fn,
			  void *context)
{
	struct shadow_md_revert_walk w = { .fn = fn, .context = context };
	int r = 0;

	down_read(&md->lock);
	if (md->revert_seq)
		r = dm_btree_walk(&md->revert_info, md->revert_root,
				  shadow_md_revert_leaf, &w);
	up_read(&md->lock);
	return r;
}

int shadow_md_revert_end(struct shadow_md *md)
{
	int r = 0;

	down_write(&md->lock);
	if (md->revert_seq)
		r = dm_btree_del(&md->revert_info, md->revert_root);
	if (!r) {
		md->revert_seq = 0;
		md->revert_cursor = 0;
		md->revert_root = 0;
	}
	md->must_commit = true;
	up_write(&md->lock);
	return r;
}

/* A row store's revert */

void shadow_md_row_dropped(struct shadow_md *md, u64 *ret_from,
			   u64 *ret_below)
{
	down_read(&md->lock);
	*ret_from = md->dropped_from;
	*ret_below = md->dropped_below;
	up_read(&md->lock);
}

void shadow_md_row_set_dropped(struct shadow_md *md, u64 from, u64 below)
{
	down_write(&md->lock);
	md->dropped_from = from;
	md->dropped_below = below;
	md->must_commit = true;
	up_write(&md->lock);
}
