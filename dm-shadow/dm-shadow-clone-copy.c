// SPDX-License-Identifier: GPL-2.0-only
/*
 * The clone store's hydration copier: a run of adjacent origin chunks
 * copied to up to SHADOW_MAX_CLONES targets through two buffers of
 * CLONE_COPY_SEG bytes, allocated with the store.  Segment k+1 is read
 * while segment k is written, so that an origin and a target on disks of
 * their own are both kept busy, as a sequential dd copy keeps them.
 *
 * Why not dm-kcopyd, which copies a chunk before an origin write: for a
 * whole device it allocates and frees every page of every sub-job it
 * splits a job into (its reserve serves only when the page allocator
 * fails), and hops to its thread between the read and the write.  Under
 * the benchmark that held hydration to about 0.7x a raw copy.
 *
 * The caller (the hydration walk, in process context, without the pool's
 * lock) waits for the copy; bios are submitted from here only, never from
 * a completion.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/completion.h>
#include <linux/dm-io.h>

#include "dm-shadow-clone-copy.h"

#define CLONE_COPY_SEG_SECTORS	(CLONE_COPY_SEG >> SECTOR_SHIFT)

/* The bios of one segment in flight: its read, or its writes. */
struct clone_copy_io {
	struct bio *bio[SHADOW_MAX_CLONES];
	unsigned int nr;
	atomic_t pending;
	struct completion done;
};

int clone_copier_init(struct clone_copier *cc)
{
	unsigned int b, i;
	int r;

	/* Two segments in flight: a read and its writes to every target. */
	r = bioset_init(&cc->bs, 2 * (1 + SHADOW_MAX_CLONES), 0,
			BIOSET_NEED_BVECS);
	if (r)
		return r;
	for (b = 0; b < 2; b++)
		for (i = 0; i < CLONE_COPY_PAGES; i++) {
			cc->page[b][i] = alloc_page(GFP_KERNEL);
			if (!cc->page[b][i]) {
				clone_copier_exit(cc);
				return -ENOMEM;
			}
		}
	return 0;
}

void clone_copier_exit(struct clone_copier *cc)
{
	unsigned int b, i;

	for (b = 0; b < 2; b++)
		for (i = 0; i < CLONE_COPY_PAGES; i++)
			if (cc->page[b][i]) {
				__free_page(cc->page[b][i]);
				cc->page[b][i] = NULL;
			}
	if (bioset_initialized(&cc->bs))
		bioset_exit(&cc->bs);
}

static void clone_copy_endio(struct bio *bio)
{
	struct clone_copy_io *io = bio->bi_private;

	if (atomic_dec_and_test(&io->pending))
		complete(&io->done);
}

/* Add to @io a bio of @sectors at @sector of @bdev over buffer @b. */
static void clone_copy_bio(struct clone_copier *cc, unsigned int b,
			   struct block_device *bdev, blk_opf_t opf,
			   sector_t sector, unsigned int sectors,
			   struct clone_copy_io *io)
{
	unsigned int len = sectors << SECTOR_SHIFT;
	unsigned int i, n = DIV_ROUND_UP(len, PAGE_SIZE);
	struct bio *bio = bio_alloc_bioset(bdev, n, opf, GFP_NOIO, &cc->bs);

	bio->bi_iter.bi_sector = sector;
	bio->bi_end_io = clone_copy_endio;
	bio->bi_private = io;
	for (i = 0; i < n; i++) {
		unsigned int l = min_t(unsigned int, len, PAGE_SIZE);

		__bio_add_page(bio, cc->page[b][i], l, 0);
		len -= l;
	}
	io->bio[io->nr++] = bio;
}

static void clone_copy_submit(struct clone_copy_io *io)
{
	unsigned int i;

	init_completion(&io->done);
	atomic_set(&io->pending, io->nr);
	for (i = 0; i < io->nr; i++)
		submit_bio(io->bio[i]);
}

/* Wait for @io; returns the bios that failed, by their order, and puts them. */
static unsigned long clone_copy_wait(struct clone_copy_io *io)
{
	unsigned long failed = 0;
	unsigned int i;

	wait_for_completion(&io->done);
	for (i = 0; i < io->nr; i++) {
		if (io->bio[i]->bi_status)
			__set_bit(i, &failed);
		bio_put(io->bio[i]);
	}
	io->nr = 0;
	return failed;
}

static void clone_copy_read(struct clone_copier *cc, unsigned int b,
			    const struct dm_io_region *from, sector_t offset,
			    struct clone_copy_io *io)
{
	unsigned int sectors = min_t(sector_t, from->count - offset,
				     CLONE_COPY_SEG_SECTORS);

	clone_copy_bio(cc, b, from->bdev, REQ_OP_READ, from->sector + offset,
		       sectors, io);
	clone_copy_submit(io);
}

static void clone_copy_write(struct clone_copier *cc, unsigned int b,
			     const struct dm_io_region *to, unsigned int n,
			     sector_t offset, unsigned int sectors,
			     struct clone_copy_io *io)
{
	unsigned int j;

	for (j = 0; j < n; j++)
		clone_copy_bio(cc, b, to[j].bdev, REQ_OP_WRITE,
			       to[j].sector + offset, sectors, io);
	clone_copy_submit(io);
}

/*
 * Copy @from to the @n regions @to (each as long as @from).  Returns
 * -EIO if the origin could not be read (what was read before is
 * written), else 0; *@write_err has bit j set if @to[j] failed a write,
 * as dm-kcopyd reports it.
 */
int clone_copier_copy(struct clone_copier *cc, const struct dm_io_region *from,
		      const struct dm_io_region *to, unsigned int n,
		      unsigned long *write_err)
{
	struct clone_copy_io read, write;
	sector_t offset = 0;
	unsigned int b = 0;

	read.nr = 0;
	write.nr = 0;
	*write_err = 0;
	if (!from->count)
		return 0;
	clone_copy_read(cc, b, from, offset, &read);
	while (offset < from->count) {
		unsigned int sectors = min_t(sector_t, from->count - offset,
					     CLONE_COPY_SEG_SECTORS);

		if (clone_copy_wait(&read))
			return -EIO;
		clone_copy_write(cc, b, to, n, offset, sectors, &write);
		if (offset + sectors < from->count)
			clone_copy_read(cc, !b, from, offset + sectors, &read);
		*write_err |= clone_copy_wait(&write);
		offset += sectors;
		b = !b;
	}
	return 0;
}
