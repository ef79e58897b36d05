// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-shadow metadata layer: superblock, snapshot table, chunk index and
 * exception records, paged through dm-bufio in 512-byte blocks.
 *
 * Block headers and checksums are filled in by dm-bufio's write callback,
 * so callers only change payload and mark buffers dirty.  A block is
 * verified once, when first read into the cache.  A block that is all
 * zeroes has never been written since the store was formatted (format
 * zeroes the whole metadata area) and reads as empty.
 */
#include "dm-shadow-metadata.h"
#include "dm-shadow-format.h"
#include "dm-shadow-layout.h"

#include <linux/crc32c.h>
#include <linux/device-mapper.h>
#include <linux/dm-bufio.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#define DM_MSG_PREFIX "shadow-metadata"

struct shadow_md {
	struct block_device *bdev;
	struct dm_bufio_client *bufio;
	struct shadow_layout layout;

	u32 store_type;
	u32 chunk_sectors;
	u32 max_snapshots;
	u64 origin_sectors;
	u64 nr_origin_chunks;
	/*
	 * The store's size when it was formatted: its layout.  The device may
	 * have grown since; the layout cannot (see shadow_md_open()).
	 */
	u64 store_sectors;

	/* Superblock state, written back by every commit. */
	u64 data_limit;			/* data chunks the allocator may use */
	u64 high_water;
	u64 free_head;
	u64 free_count;
	u64 last_seq;
	u64 commit_gen;
	u64 format_time;
	u8 uuid[16];
};

/* Kept with each cached buffer: what the block is and whether it checked. */
struct shadow_buf_aux {
	u32 type;
	bool verified;
};

static u32 shadow_block_csum(const void *block, u32 type)
{
	return crc32c(~0U, (const u8 *)block + sizeof(__le32),
		      SHADOW_BLOCK_SIZE - sizeof(__le32)) ^ type;
}

/* dm-bufio hands out recycled buffers: forget what the last block was. */
static void shadow_buf_alloc_callback(struct dm_buffer *b)
{
	struct shadow_buf_aux *aux = dm_bufio_get_aux_data(b);

	aux->type = 0;
	aux->verified = false;
}

static void shadow_buf_write_callback(struct dm_buffer *b)
{
	struct shadow_buf_aux *aux = dm_bufio_get_aux_data(b);
	struct shadow_block_header *hdr = dm_bufio_get_block_data(b);

	hdr->type = cpu_to_le32(aux->type);
	hdr->blocknr = cpu_to_le64(dm_bufio_get_block_number(b));
	hdr->csum = cpu_to_le32(shadow_block_csum(hdr, aux->type));
}

static bool shadow_block_is_zero(const void *block)
{
	return !memchr_inv(block, 0, SHADOW_BLOCK_SIZE);
}

static int shadow_block_verify(const void *block, u64 blocknr, u32 type)
{
	const struct shadow_block_header *hdr = block;

	if (le32_to_cpu(hdr->type) != type) {
		DMERR("block %llu: type %08x, expected %08x", blocknr,
		      le32_to_cpu(hdr->type), type);
		return -EILSEQ;
	}
	if (le64_to_cpu(hdr->blocknr) != blocknr) {
		DMERR("block %llu: claims to be block %llu", blocknr,
		      le64_to_cpu(hdr->blocknr));
		return -EILSEQ;
	}
	if (le32_to_cpu(hdr->csum) != shadow_block_csum(block, type)) {
		DMERR("block %llu: checksum mismatch", blocknr);
		return -EILSEQ;
	}
	return 0;
}

/*
 * Return the payload of metadata block @blocknr of @type, verified, with
 * *@ret_buf to release; or an ERR_PTR.
 */
static void *shadow_block_get(struct shadow_md *md, u64 blocknr, u32 type,
			      struct dm_buffer **ret_buf)
{
	struct shadow_buf_aux *aux;
	void *data;
	int r;

	data = dm_bufio_read(md->bufio, blocknr, ret_buf);
	if (IS_ERR(data))
		return data;
	aux = dm_bufio_get_aux_data(*ret_buf);
	if (!aux->verified) {
		if (!shadow_block_is_zero(data)) {
			r = shadow_block_verify(data, blocknr, type);
			if (r) {
				dm_bufio_release(*ret_buf);
				return ERR_PTR(r);
			}
		}
		aux->type = type;
		aux->verified = true;
	}
	return (u8 *)data + sizeof(struct shadow_block_header);
}

static void shadow_block_put(struct dm_buffer *b, bool dirty)
{
	if (dirty)
		dm_bufio_mark_buffer_dirty(b);
	dm_bufio_release(b);
}

/* Superblock */

static void shadow_sb_encode(struct shadow_md *md,
			     struct shadow_disk_superblock *sb)
{
	const struct shadow_layout *l = &md->layout;

	/* The whole block: a new dm-bufio buffer holds whatever it held. */
	memset((u8 *)sb + sizeof(sb->hdr), 0,
	       SHADOW_BLOCK_SIZE - sizeof(sb->hdr));
	sb->magic = cpu_to_le64(SHADOW_MAGIC);
	sb->version = cpu_to_le32(SHADOW_VERSION);
	sb->store_type = cpu_to_le32(md->store_type);
	memcpy(sb->uuid, md->uuid, sizeof(sb->uuid));
	/* Unknown compat features were dropped at load: their bits go too. */
	sb->compat_flags = cpu_to_le64(SHADOW_FEATURE_COMPAT_LIMIT);
	sb->chunk_sectors = cpu_to_le32(md->chunk_sectors);
	sb->max_snapshots = cpu_to_le32(md->max_snapshots);
	sb->origin_sectors = cpu_to_le64(md->origin_sectors);
	sb->nr_origin_chunks = cpu_to_le64(md->nr_origin_chunks);
	sb->store_sectors = cpu_to_le64(md->store_sectors);
	sb->snap_table_start = cpu_to_le64(l->snap_table_start);
	sb->index_start = cpu_to_le64(l->index_start);
	sb->index_blocks = cpu_to_le64(l->index_blocks);
	sb->record_start = cpu_to_le64(l->record_start);
	sb->record_blocks = cpu_to_le64(l->record_blocks);
	sb->data_start = cpu_to_le64(l->data_start);
	sb->nr_data_chunks = cpu_to_le64(l->nr_data_chunks);
	sb->high_water = cpu_to_le64(md->high_water);
	sb->free_head = cpu_to_le64(md->free_head);
	sb->free_count = cpu_to_le64(md->free_count);
	sb->last_seq = cpu_to_le64(md->last_seq);
	sb->commit_gen = cpu_to_le64(md->commit_gen);
	sb->format_time = cpu_to_le64(md->format_time);
	sb->data_limit = cpu_to_le64(md->data_limit);
}

static int shadow_sb_write(struct shadow_md *md)
{
	struct shadow_disk_superblock *sb;
	struct dm_buffer *b;

	sb = dm_bufio_new(md->bufio, 0, &b);
	if (IS_ERR(sb))
		return PTR_ERR(sb);
	((struct shadow_buf_aux *)dm_bufio_get_aux_data(b))->type =
		SHADOW_BLOCK_SB;
	((struct shadow_buf_aux *)dm_bufio_get_aux_data(b))->verified = true;
	shadow_sb_encode(md, sb);
	shadow_block_put(b, true);
	return 0;
}

/* Check that a validated superblock describes the store we were given. */
static int shadow_sb_check_geometry(struct shadow_md *md,
				    const struct shadow_disk_superblock *sb,
				    const struct shadow_md_geometry *geo,
				    char **error)
{
	struct shadow_layout l;

	if (le32_to_cpu(sb->store_type) != geo->store_type) {
		*error = "store was formatted for another store type";
		return -EINVAL;
	}
	if (le32_to_cpu(sb->chunk_sectors) != geo->chunk_sectors) {
		*error = "chunk size differs from the store's";
		return -EINVAL;
	}
	if (le64_to_cpu(sb->origin_sectors) != geo->origin_sectors) {
		*error = "origin size differs from the store's";
		return -EINVAL;
	}
	if (le64_to_cpu(sb->store_sectors) > bdev_nr_sectors(md->bdev)) {
		*error = "store device is smaller than when formatted";
		return -EINVAL;
	}
	if (shadow_layout_compute(&l, le64_to_cpu(sb->store_sectors),
				  le64_to_cpu(sb->nr_origin_chunks),
				  le32_to_cpu(sb->chunk_sectors),
				  le32_to_cpu(sb->max_snapshots)) ||
	    l.data_start != le64_to_cpu(sb->data_start) ||
	    l.nr_data_chunks != le64_to_cpu(sb->nr_data_chunks) ||
	    l.index_start != le64_to_cpu(sb->index_start) ||
	    l.record_start != le64_to_cpu(sb->record_start)) {
		*error = "superblock geometry is inconsistent";
		return -EILSEQ;
	}
	if (le64_to_cpu(sb->high_water) > l.nr_data_chunks ||
	    le64_to_cpu(sb->free_count) > le64_to_cpu(sb->high_water) ||
	    le64_to_cpu(sb->free_head) > le64_to_cpu(sb->high_water)) {
		*error = "superblock allocation state is inconsistent";
		return -EILSEQ;
	}
	md->layout = l;
	md->store_sectors = le64_to_cpu(sb->store_sectors);
	return 0;
}

/* The data limit, if the store has one; else every data chunk. */
static int shadow_sb_decode_limit(struct shadow_md *md,
				  const struct shadow_disk_superblock *sb,
				  char **error)
{
	u64 limit = md->layout.nr_data_chunks;

	if (le64_to_cpu(sb->compat_flags) & SHADOW_FEATURE_COMPAT_LIMIT)
		limit = le64_to_cpu(sb->data_limit);
	if (!limit || limit > md->layout.nr_data_chunks ||
	    le64_to_cpu(sb->high_water) > limit) {
		*error = "superblock data limit is inconsistent";
		return -EILSEQ;
	}
	md->data_limit = limit;
	return 0;
}

static int shadow_sb_decode(struct shadow_md *md,
			    const struct shadow_disk_superblock *sb,
			    const struct shadow_md_geometry *geo, char **error)
{
	u32 version = le32_to_cpu(sb->version);
	int r;

	if (le64_to_cpu(sb->magic) != SHADOW_MAGIC) {
		*error = "store superblock has a bad magic (not a dm-shadow store, and not zeroed)";
		return -EILSEQ;
	}
	if (shadow_block_verify(sb, 0, SHADOW_BLOCK_SB)) {
		*error = "store superblock checksum is wrong";
		return -EILSEQ;
	}
	if (version < SHADOW_VERSION_MIN || version > SHADOW_VERSION_MAX) {
		*error = "store format version is not supported";
		return -EOPNOTSUPP;
	}
	if (le64_to_cpu(sb->incompat_flags) & ~SHADOW_FEATURE_INCOMPAT_SUPP) {
		*error = "store uses incompatible features this module lacks";
		return -EOPNOTSUPP;
	}
	if (le64_to_cpu(sb->ro_compat_flags) & ~SHADOW_FEATURE_RO_COMPAT_SUPP) {
		*error = "store uses features that need a newer module to write";
		return -EOPNOTSUPP;
	}
	r = shadow_sb_check_geometry(md, sb, geo, error);
	if (r)
		return r;
	r = shadow_sb_decode_limit(md, sb, error);
	if (r)
		return r;

	md->max_snapshots = le32_to_cpu(sb->max_snapshots);
	md->high_water = le64_to_cpu(sb->high_water);
	md->free_head = le64_to_cpu(sb->free_head);
	md->free_count = le64_to_cpu(sb->free_count);
	md->last_seq = le64_to_cpu(sb->last_seq);
	md->commit_gen = le64_to_cpu(sb->commit_gen);
	md->format_time = le64_to_cpu(sb->format_time);
	memcpy(md->uuid, sb->uuid, sizeof(md->uuid));
	return 0;
}

/*
 * Format: zero every metadata block after the superblock (so that every
 * table, index and record block reads as empty), then write the superblock
 * last, after a flush, so a crash mid-format leaves a zero superblock and
 * the next load simply formats again.
 */
static int shadow_md_format(struct shadow_md *md, char **error)
{
	const struct shadow_layout *l = &md->layout;
	u64 meta_blocks = l->record_start + l->record_blocks;
	int r;

	r = blkdev_issue_zeroout(md->bdev, 1, meta_blocks - 1, GFP_KERNEL, 0);
	if (r) {
		*error = "cannot zero the store's metadata area";
		return r;
	}
	r = blkdev_issue_flush(md->bdev);
	if (r) {
		*error = "cannot flush the store";
		return r;
	}
	generate_random_uuid(md->uuid);
	md->store_sectors = bdev_nr_sectors(md->bdev);
	md->data_limit = l->nr_data_chunks;
	md->format_time = ktime_get_real_seconds();
	md->commit_gen = 1;
	r = shadow_sb_write(md);
	if (!r)
		r = dm_bufio_write_dirty_buffers(md->bufio);
	if (!r)
		r = dm_bufio_issue_flush(md->bufio);
	if (r)
		*error = "cannot write the store superblock";
	return r;
}

static int shadow_md_load(struct shadow_md *md,
			  const struct shadow_md_geometry *geo, char **error)
{
	struct dm_buffer *b;
	void *sb;
	int r;

	sb = dm_bufio_read(md->bufio, 0, &b);
	if (IS_ERR(sb)) {
		*error = "cannot read the store superblock";
		return PTR_ERR(sb);
	}
	((struct shadow_buf_aux *)dm_bufio_get_aux_data(b))->type =
		SHADOW_BLOCK_SB;
	((struct shadow_buf_aux *)dm_bufio_get_aux_data(b))->verified = true;

	if (shadow_block_is_zero(sb)) {
		dm_bufio_release(b);
		md->max_snapshots = SHADOW_MAX_SNAPSHOTS;
		if (shadow_layout_compute(&md->layout,
					  bdev_nr_sectors(md->bdev),
					  md->nr_origin_chunks,
					  md->chunk_sectors,
					  md->max_snapshots)) {
			*error = "store is too small for its metadata and one chunk";
			return -ENOSPC;
		}
		return shadow_md_format(md, error);
	}
	r = shadow_sb_decode(md, sb, geo, error);
	dm_bufio_release(b);
	return r;
}

int shadow_md_open(struct block_device *bdev,
		   const struct shadow_md_geometry *geo,
		   struct shadow_md **ret_md, char **error)
{
	struct shadow_md *md;
	int r;

	if (bdev_logical_block_size(bdev) > SHADOW_BLOCK_SIZE) {
		*error = "store device needs 512-byte logical blocks";
		return -EINVAL;
	}
	md = kzalloc(sizeof(*md), GFP_KERNEL);
	if (!md) {
		*error = "cannot allocate metadata";
		return -ENOMEM;
	}
	md->bdev = bdev;
	md->store_type = geo->store_type;
	md->chunk_sectors = geo->chunk_sectors;
	md->origin_sectors = geo->origin_sectors;
	md->nr_origin_chunks = DIV_ROUND_UP_SECTOR_T(geo->origin_sectors,
						     geo->chunk_sectors);
	md->bufio = dm_bufio_client_create(bdev, SHADOW_BLOCK_SIZE, 1,
					   sizeof(struct shadow_buf_aux),
					   shadow_buf_alloc_callback,
					   shadow_buf_write_callback, 0);
	if (IS_ERR(md->bufio)) {
		r = PTR_ERR(md->bufio);
		*error = "cannot create the metadata block cache";
		goto bad_bufio;
	}
	r = shadow_md_load(md, geo, error);
	if (r)
		goto bad_load;
	*ret_md = md;
	return 0;

bad_load:
	dm_bufio_client_destroy(md->bufio);
bad_bufio:
	kfree(md);
	return r;
}

void shadow_md_close(struct shadow_md *md)
{
	dm_bufio_client_destroy(md->bufio);
	kfree(md);
}

/*
 * Write every changed block and the superblock, and flush.  dm-bufio may
 * have written some changed blocks earlier on its own, and the blocks of
 * one commit reach the disk in any order; callers order their changes
 * across commits (see the CoW store) so that any subset is consistent.
 */
int shadow_md_commit(struct shadow_md *md)
{
	int r;

	md->commit_gen++;
	r = shadow_sb_write(md);
	if (r)
		return r;
	r = dm_bufio_write_dirty_buffers(md->bufio);
	if (r)
		return r;
	return dm_bufio_issue_flush(md->bufio);
}

sector_t shadow_md_data_start(struct shadow_md *md)
{
	return md->layout.data_start;
}

u64 shadow_md_nr_data_chunks(struct shadow_md *md)
{
	return md->layout.nr_data_chunks;
}

u64 shadow_md_data_limit(struct shadow_md *md)
{
	return md->data_limit;
}

u64 shadow_md_used_chunks(struct shadow_md *md)
{
	return md->high_water - md->free_count;
}

u64 shadow_md_high_water(struct shadow_md *md)
{
	return md->high_water;
}

u32 shadow_md_max_snapshots(struct shadow_md *md)
{
	return md->max_snapshots;
}

/* Snapshot table */

static struct shadow_disk_snapshot *
shadow_snap_slot(struct shadow_md *md, u32 slot, struct dm_buffer **ret_buf)
{
	struct shadow_disk_snapshot *d;

	d = shadow_block_get(md, md->layout.snap_table_start +
			     slot / SHADOW_SNAPS_PER_BLOCK,
			     SHADOW_BLOCK_SNAP, ret_buf);
	if (IS_ERR(d))
		return d;
	return d + slot % SHADOW_SNAPS_PER_BLOCK;
}

int shadow_md_snap_get(struct shadow_md *md, u32 slot,
		       struct shadow_md_snap *ret_snap)
{
	struct shadow_disk_snapshot *d;
	struct dm_buffer *b;

	if (slot >= md->max_snapshots)
		return -EINVAL;
	d = shadow_snap_slot(md, slot, &b);
	if (IS_ERR(d))
		return PTR_ERR(d);
	ret_snap->id = le64_to_cpu(d->id);
	ret_snap->seq = le64_to_cpu(d->seq);
	ret_snap->ctime = le64_to_cpu(d->ctime);
	ret_snap->state = le32_to_cpu(d->state);
	ret_snap->flags = le32_to_cpu(d->flags);
	shadow_block_put(b, false);
	return 0;
}

int shadow_md_snap_set(struct shadow_md *md, u32 slot,
		       const struct shadow_md_snap *snap)
{
	struct shadow_disk_snapshot *d;
	struct dm_buffer *b;

	if (slot >= md->max_snapshots)
		return -EINVAL;
	d = shadow_snap_slot(md, slot, &b);
	if (IS_ERR(d))
		return PTR_ERR(d);
	d->id = cpu_to_le64(snap->id);
	d->seq = cpu_to_le64(snap->seq);
	d->ctime = cpu_to_le64(snap->ctime);
	d->state = cpu_to_le32(snap->state);
	d->flags = cpu_to_le32(snap->flags);
	shadow_block_put(b, true);
	return 0;
}

u64 shadow_md_next_seq(struct shadow_md *md)
{
	return ++md->last_seq;
}

/* Chunk index */

int shadow_md_index_get(struct shadow_md *md, u64 chunk, u64 *ret_head)
{
	struct dm_buffer *b;
	__le64 *e;

	if (chunk >= md->nr_origin_chunks)
		return -EINVAL;
	e = shadow_block_get(md, md->layout.index_start +
			     div_u64(chunk, SHADOW_INDEX_PER_BLOCK),
			     SHADOW_BLOCK_INDEX, &b);
	if (IS_ERR(e))
		return PTR_ERR(e);
	*ret_head = le64_to_cpu(e[do_div(chunk, SHADOW_INDEX_PER_BLOCK)]);
	shadow_block_put(b, false);
	return 0;
}

int shadow_md_index_set(struct shadow_md *md, u64 chunk, u64 head)
{
	struct dm_buffer *b;
	__le64 *e;

	if (chunk >= md->nr_origin_chunks || head > md->high_water)
		return -EINVAL;
	e = shadow_block_get(md, md->layout.index_start +
			     div_u64(chunk, SHADOW_INDEX_PER_BLOCK),
			     SHADOW_BLOCK_INDEX, &b);
	if (IS_ERR(e))
		return PTR_ERR(e);
	e[do_div(chunk, SHADOW_INDEX_PER_BLOCK)] = cpu_to_le64(head);
	shadow_block_put(b, true);
	return 0;
}

/* Exception records */

static struct shadow_disk_record *
shadow_record_slot(struct shadow_md *md, u64 rec, struct dm_buffer **ret_buf)
{
	struct shadow_disk_record *d;

	d = shadow_block_get(md, md->layout.record_start +
			     div_u64(rec, SHADOW_RECORDS_PER_BLOCK),
			     SHADOW_BLOCK_RECORD, ret_buf);
	if (IS_ERR(d))
		return d;
	return d + do_div(rec, SHADOW_RECORDS_PER_BLOCK);
}

int shadow_md_record_get(struct shadow_md *md, u64 rec,
			 struct shadow_md_record *ret_rec)
{
	struct shadow_disk_record *d;
	struct dm_buffer *b;

	if (rec >= md->high_water)
		return -EINVAL;
	d = shadow_record_slot(md, rec, &b);
	if (IS_ERR(d))
		return PTR_ERR(d);
	ret_rec->origin_chunk = le64_to_cpu(d->origin_chunk);
	ret_rec->seq = le64_to_cpu(d->seq);
	ret_rec->next = le64_to_cpu(d->next);
	ret_rec->flags = le32_to_cpu(d->flags);
	shadow_block_put(b, false);
	if (ret_rec->next > md->high_water ||
	    ((ret_rec->flags & SHADOW_REC_USED) &&
	     ret_rec->origin_chunk >= md->nr_origin_chunks)) {
		DMERR("record %llu is corrupt", rec);
		return -EILSEQ;
	}
	return 0;
}

int shadow_md_record_set(struct shadow_md *md, u64 rec,
			 const struct shadow_md_record *r)
{
	struct shadow_disk_record *d;
	struct dm_buffer *b;

	if (rec >= md->high_water)
		return -EINVAL;
	d = shadow_record_slot(md, rec, &b);
	if (IS_ERR(d))
		return PTR_ERR(d);
	d->origin_chunk = cpu_to_le64(r->origin_chunk);
	d->seq = cpu_to_le64(r->seq);
	d->next = cpu_to_le64(r->next);
	d->flags = cpu_to_le32(r->flags);
	d->pad = 0;
	shadow_block_put(b, true);
	return 0;
}

/* Allocation: the free list first, then fresh chunks above high water. */

int shadow_md_alloc(struct shadow_md *md, u64 *ret_rec)
{
	struct shadow_md_record r;
	u64 rec;
	int err;

	if (md->free_head) {
		rec = md->free_head - 1;
		err = shadow_md_record_get(md, rec, &r);
		if (err)
			return err;
		if (r.flags & SHADOW_REC_USED) {
			DMERR("free list reaches record %llu, which is in use",
			      rec);
			return -EILSEQ;
		}
		md->free_head = r.next;
		md->free_count--;
		*ret_rec = rec;
		return 0;
	}
	if (md->high_water >= md->data_limit)
		return -ENOSPC;
	*ret_rec = md->high_water++;
	return 0;
}

int shadow_md_free(struct shadow_md *md, u64 rec)
{
	struct shadow_md_record r = { .next = md->free_head };
	int err;

	err = shadow_md_record_set(md, rec, &r);
	if (err)
		return err;
	md->free_head = rec + 1;
	md->free_count++;
	return 0;
}

/* The data limit: how many data chunks the allocator may hand out. */

/*
 * Walk the free list and count its records at or above @cursor.  The walk
 * must see exactly free_count records, none of them in use.
 */
static int shadow_md_count_free_above(struct shadow_md *md, u64 cursor,
				      u64 *ret_count)
{
	struct shadow_md_record r;
	u64 next, n = 0, steps = 0;
	int err;

	for (next = md->free_head; next; next = r.next) {
		if (++steps > md->free_count)
			break;
		err = shadow_md_record_get(md, next - 1, &r);
		if (err)
			return err;
		if (r.flags & SHADOW_REC_USED) {
			DMERR("free list reaches record %llu, which is in use",
			      next - 1);
			return -EILSEQ;
		}
		if (next - 1 >= cursor)
			n++;
	}
	if (steps != md->free_count) {
		DMERR("free list holds %s records than the %llu counted",
		      steps > md->free_count ? "more" : "fewer",
		      md->free_count);
		return -EILSEQ;
	}
	*ret_count = n;
	return 0;
}

/*
 * Relink the free list starting at record @head - 1 so that it skips every
 * record at or above @cursor.  Returns the new head in *@ret_head.
 */
static int shadow_md_unlink_free_above(struct shadow_md *md, u64 head,
				       u64 cursor, u64 *ret_head)
{
	struct shadow_md_record r, prev_r = { 0 };
	u64 next, prev = 0, new_head = 0;
	int err;

	for (next = head; next; next = r.next) {
		err = shadow_md_record_get(md, next - 1, &r);
		if (err)
			return err;
		if (next - 1 >= cursor)
			continue;
		if (!prev) {
			new_head = next;
		} else if (prev_r.next != next) {
			prev_r.next = next;
			err = shadow_md_record_set(md, prev - 1, &prev_r);
			if (err)
				return err;
		}
		prev = next;
		prev_r = r;
	}
	if (prev && prev_r.next) {
		prev_r.next = 0;
		err = shadow_md_record_set(md, prev - 1, &prev_r);
		if (err)
			return err;
	}
	*ret_head = new_head;
	return 0;
}

/*
 * Move the allocation cursor (high water) down to @cursor, which is only
 * possible while every record from @cursor up is on the free list.  The
 * free list is rebuilt without them in three commits, so that a crash
 * leaves either the old list, no list (its records leaked, nothing lost),
 * or the new one:
 *   1. the superblock forgets the free list;
 *   2. the records still free are relinked past the ones that go;
 *   3. the superblock takes the new list, the new high water and limit.
 * The caller commits step 3.
 */
static int shadow_md_lower_high_water(struct shadow_md *md, u64 cursor)
{
	u64 head = md->free_head, count = md->free_count, above, new_head;
	int err;

	err = shadow_md_count_free_above(md, cursor, &above);
	if (err)
		return err;
	if (above != md->high_water - cursor)
		return -EBUSY;

	md->free_head = 0;
	md->free_count = 0;
	err = shadow_md_commit(md);
	if (!err)
		err = shadow_md_unlink_free_above(md, head, cursor, &new_head);
	if (!err)
		err = shadow_md_commit(md);
	if (err)
		return err;
	md->free_head = new_head;
	md->free_count = count - above;
	md->high_water = cursor;
	return 0;
}

int shadow_md_set_data_limit(struct shadow_md *md, u64 limit)
{
	int err;

	if (!limit || limit > md->layout.nr_data_chunks)
		return -EINVAL;
	if (shadow_md_used_chunks(md) > limit)
		return -ENOSPC;
	if (limit < md->high_water) {
		err = shadow_md_lower_high_water(md, limit);
		if (err)
			return err;
	}
	md->data_limit = limit;
	return shadow_md_commit(md);
}
