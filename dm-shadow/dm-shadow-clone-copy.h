/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The clone store's hydration copier (dm-shadow-clone-copy.c says why it
 * is not dm-kcopyd).  One per clone store; one copy at a time.
 */
#ifndef DM_SHADOW_CLONE_COPY_H
#define DM_SHADOW_CLONE_COPY_H

#include <linux/bio.h>
#include <linux/dm-io.h>

#include "dm-shadow-format.h"

/* A segment: what one read brings in, and one write per target sends. */
#define CLONE_COPY_SEG		(1U << 20)
#define CLONE_COPY_PAGES	(CLONE_COPY_SEG / PAGE_SIZE)

struct clone_copier {
	struct bio_set bs;
	struct page *page[2][CLONE_COPY_PAGES];
};

int clone_copier_init(struct clone_copier *cc);
void clone_copier_exit(struct clone_copier *cc);
int clone_copier_copy(struct clone_copier *cc, const struct dm_io_region *from,
		      const struct dm_io_region *to, unsigned int n,
		      unsigned long *write_err);

#endif
