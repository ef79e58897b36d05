/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Read-only access to a dm-shadow store (a block device or an image file),
 * for offline tools.  Every block read through here is verified (type,
 * blocknr, checksum) before it is decoded.
 *
 * An all-zero snapshot-table, index or record block is read as empty
 * ("never written"), not as corruption: the store format does not require
 * the formatter to write every metadata block up front.  The checker
 * counts such blocks.
 */
#ifndef SHADOW_STORE_H
#define SHADOW_STORE_H

#include "macro.h"
#include "shadow-format.h"

struct shadow_store;

/*
 * Open @path read-only, read and validate its superblock.  Returns 0, or
 * -errno from open/read (err->code SHADOW_ERR_IO), or a validation error
 * from shadow_sb_validate().
 */
int shadow_store_open(const char *path, struct shadow_store **ret,
		      struct shadow_error *err);
struct shadow_store *shadow_store_free(struct shadow_store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct shadow_store *, shadow_store_free);
#define _cleanup_store_ _cleanup_(shadow_store_freep)

const struct shadow_superblock *shadow_store_sb(const struct shadow_store *s);
uint64_t shadow_store_dev_sectors(const struct shadow_store *s);

/* Read block @blocknr without verifying it.  0 or -errno (-EIO on EOF). */
int shadow_store_read_raw(struct shadow_store *s, uint64_t blocknr, void *buf);

/*
 * Read and verify block @blocknr of @type.  Returns 0, 1 when the block is
 * all zeroes (buf zeroed), or -errno with @err filled.
 */
int shadow_store_read_block(struct shadow_store *s, uint64_t blocknr,
			    uint32_t type, void *buf, struct shadow_error *err);

/* All max_snapshots table entries (free ones included), newly allocated. */
int shadow_store_load_snapshots(struct shadow_store *s,
				struct shadow_snapshot **ret,
				struct shadow_error *err);

/* Records 0 .. high_water-1, newly allocated (NULL when high_water is 0). */
int shadow_store_load_records(struct shadow_store *s,
			      struct shadow_record **ret,
			      struct shadow_error *err);

#endif
