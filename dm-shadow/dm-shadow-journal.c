// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exception journal's blocks and their I/O.
 *
 * The blocks are read and written with bios of our own, not through the
 * block manager: they are never part of a transaction, and a block cached
 * by the block manager would go stale the first time the ring wraps.
 *
 * One page is the block being filled: entries are added to it as copies
 * finish, and it is written as a whole.  A block is written once per trip
 * round the ring and a trip ends with a commit, so no block holding
 * entries that the trees on disk lack is ever overwritten: a torn write
 * can only lose the entries of the write it tore, whose bios have not
 * been released.
 */
#include "dm-shadow-journal.h"
#include "dm-shadow-format.h"

#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/slab.h>

#include <persistent-data/dm-block-manager.h>

#define DM_MSG_PREFIX "shadow"

struct shadow_journal {
	struct block_device *bdev;
	u64 start;		/* the ring's first block */
	u32 nr_blocks;
	u8 uuid[16];
	u32 next;		/* the index the next write goes to */
	u32 nr_entries;		/* added to the page, not yet written */
	struct page *page;
};

struct shadow_journal *shadow_journal_create(struct block_device *bdev,
					     u64 start, u32 nr_blocks,
					     const u8 *uuid)
{
	struct shadow_journal *j = kzalloc(sizeof(*j), GFP_KERNEL);

	if (!j)
		return NULL;
	j->page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!j->page) {
		kfree(j);
		return NULL;
	}
	j->bdev = bdev;
	j->start = start;
	j->nr_blocks = nr_blocks;
	memcpy(j->uuid, uuid, sizeof(j->uuid));
	return j;
}

void shadow_journal_destroy(struct shadow_journal *j)
{
	__free_page(j->page);
	kfree(j);
}

static struct shadow_disk_journal *shadow_journal_block(struct shadow_journal *j)
{
	return page_address(j->page);
}

int shadow_journal_add(struct shadow_journal *j,
		       const struct shadow_journal_entry *e)
{
	struct shadow_disk_journal_entry *d;

	if (j->nr_entries >= SHADOW_JOURNAL_ENTRIES)
		return -ENOSPC;
	d = &shadow_journal_block(j)->entries[j->nr_entries++];
	d->chunk = cpu_to_le64(e->chunk);
	d->seq = cpu_to_le64(e->seq);
	d->store_chunk = cpu_to_le64(e->store_chunk);
	d->tree = cpu_to_le32(e->tree);
	d->padding = 0;
	return 0;
}

unsigned int shadow_journal_unwritten(struct shadow_journal *j)
{
	return j->nr_entries;
}

bool shadow_journal_full(struct shadow_journal *j)
{
	return j->next >= j->nr_blocks;
}

bool shadow_journal_in_use(struct shadow_journal *j)
{
	return j->next > 0;
}

void shadow_journal_reset(struct shadow_journal *j)
{
	j->next = 0;
	j->nr_entries = 0;
}

static int shadow_journal_io(struct shadow_journal *j, u32 index,
			     blk_opf_t opf)
{
	struct bio_vec bvec;
	struct bio bio;
	int r;

	bio_init(&bio, j->bdev, &bvec, 1, opf);
	bio.bi_iter.bi_sector = (j->start + index) * SHADOW_MD_BLOCK_SECTORS;
	__bio_add_page(&bio, j->page, SHADOW_MD_BLOCK_SIZE, 0);
	r = submit_bio_wait(&bio);
	bio_uninit(&bio);
	return r;
}

static u32 shadow_journal_csum(const struct shadow_disk_journal *d)
{
	return dm_bm_checksum(&d->hdr.type,
			      SHADOW_MD_BLOCK_SIZE - sizeof(__le32),
			      SHADOW_JOURNAL_CSUM_XOR);
}

int shadow_journal_write(struct shadow_journal *j, u64 trans_id)
{
	struct shadow_disk_journal *d = shadow_journal_block(j);
	size_t used = sizeof(*d) + j->nr_entries * sizeof(d->entries[0]);
	int r;

	if (shadow_journal_full(j))
		return -ENOSPC;
	/* Entries of the block written before this one stay out of it. */
	memset((u8 *)d + used, 0, SHADOW_MD_BLOCK_SIZE - used);
	d->hdr.type = cpu_to_le32(SHADOW_BLOCK_JOURNAL);
	d->hdr.blocknr = cpu_to_le64(j->start + j->next);
	memcpy(d->uuid, j->uuid, sizeof(d->uuid));
	d->trans_id = cpu_to_le64(trans_id);
	d->index = cpu_to_le32(j->next);
	d->nr_entries = cpu_to_le32(j->nr_entries);
	d->hdr.csum = cpu_to_le32(shadow_journal_csum(d));
	r = shadow_journal_io(j, j->next, REQ_OP_WRITE | REQ_SYNC |
			      REQ_PREFLUSH | REQ_FUA);
	if (r)
		return r;
	j->next++;
	j->nr_entries = 0;
	return 0;
}

/* Is the block just read block @index of the ring under @trans_id? */
static bool shadow_journal_valid(struct shadow_journal *j, u32 index,
				 u64 trans_id)
{
	const struct shadow_disk_journal *d = shadow_journal_block(j);

	return le32_to_cpu(d->hdr.csum) == shadow_journal_csum(d) &&
	       le32_to_cpu(d->hdr.type) == SHADOW_BLOCK_JOURNAL &&
	       le64_to_cpu(d->hdr.blocknr) == j->start + index &&
	       !memcmp(d->uuid, j->uuid, sizeof(d->uuid)) &&
	       le64_to_cpu(d->trans_id) == trans_id &&
	       le32_to_cpu(d->index) == index &&
	       le32_to_cpu(d->nr_entries) <= SHADOW_JOURNAL_ENTRIES;
}

static int shadow_journal_replay_block(struct shadow_journal *j,
				       shadow_journal_fn fn, void *context)
{
	const struct shadow_disk_journal *d = shadow_journal_block(j);
	u32 i, n = le32_to_cpu(d->nr_entries);
	int r = 0;

	for (i = 0; !r && i < n; i++) {
		struct shadow_journal_entry e = {
			.tree = le32_to_cpu(d->entries[i].tree),
			.chunk = le64_to_cpu(d->entries[i].chunk),
			.seq = le64_to_cpu(d->entries[i].seq),
			.store_chunk = le64_to_cpu(d->entries[i].store_chunk),
		};

		r = fn(context, &e);
	}
	return r;
}

int shadow_journal_replay(struct shadow_journal *j, u64 trans_id,
			  shadow_journal_fn fn, void *context,
			  unsigned int *ret_blocks)
{
	u32 index;
	int r = 0;

	for (index = 0; index < j->nr_blocks; index++) {
		r = shadow_journal_io(j, index, REQ_OP_READ);
		if (r) {
			DMERR("cannot read block %u of the exception journal",
			      index);
			break;
		}
		if (!shadow_journal_valid(j, index, trans_id))
			break;
		r = shadow_journal_replay_block(j, fn, context);
		if (r)
			break;
	}
	*ret_blocks = index;
	memset(shadow_journal_block(j), 0, SHADOW_MD_BLOCK_SIZE);
	return r;
}
