/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's dm-persistent-data blocks, read (and, for the unit tests'
 * images, written) offline: btree nodes, space map bitmaps with two bits
 * per block, the metadata space map's index block and the disk space
 * map's index entries.  Layouts as in linux/drivers/md/persistent-data/
 * (dm-btree-internal.h, dm-space-map-common.h); every block is 4 KiB and
 * starts with a crc32c (seed ~0) over the block from byte 4, xored with
 * its type's constant.
 */
#ifndef SHADOW_PD_H
#define SHADOW_PD_H

#include <stdint.h>

#include "shadow-format.h"

#define PD_BLOCK_SIZE			SHADOW_MD_BLOCK_SIZE

/* struct node_header flags. */
#define PD_INTERNAL_NODE		1U
#define PD_LEAF_NODE			2U
#define PD_NODE_HEADER_SIZE		32

/* struct disk_bitmap_header, then 2 bits per block. */
#define PD_BITMAP_HEADER_SIZE		16
#define PD_ENTRIES_PER_BITMAP		((PD_BLOCK_SIZE - PD_BITMAP_HEADER_SIZE) * 4)
/* A bitmap entry of 3: the count is in the ref count btree. */
#define PD_BITMAP_OVERFLOW		3U

/* struct disk_metadata_index: csum, padding, blocknr, 255 entries. */
#define PD_MAX_METADATA_BITMAPS		255
#define PD_INDEX_ENTRY_SIZE		16

struct pd_node_header {
	uint32_t csum;
	uint32_t flags;
	uint64_t blocknr;
	uint32_t nr_entries;
	uint32_t max_entries;
	uint32_t value_size;
};

/* struct disk_index_entry. */
struct pd_index_entry {
	uint64_t blocknr;
	uint32_t nr_free;
	uint32_t none_free_before;
};

/*
 * The max_entries dm-btree gives every node of a tree with values of
 * @value_size bytes: as many key/value pairs as fit after the header,
 * rounded down to a multiple of 3 (its calc_max_entries()).
 */
uint32_t pd_btree_max_entries(uint32_t value_size);

void pd_node_header_decode(const void *block, struct pd_node_header *ret);

/*
 * Verify a btree node read from @blocknr of a tree whose leaves hold
 * @value_size-byte values: checksum, blocknr, exactly one of the
 * internal and leaf flags, value size (8 in internal nodes), max_entries
 * as dm-btree sets it, nr_entries <= max_entries.  Returns 0 with @ret
 * filled, or -EBADMSG with @err.  Keys and values may be read only from
 * a node that verified.
 */
int pd_node_verify(const void *block, uint64_t blocknr, uint32_t value_size,
		   struct pd_node_header *ret, struct shadow_error *err);
uint64_t pd_node_key(const void *block, uint32_t i);
const void *pd_node_value(const void *block, uint32_t i);
/* A little-endian 64-bit value: a child block, a data chunk. */
uint64_t pd_node_value_u64(const void *block, uint32_t i);
uint32_t pd_node_value_u32(const void *block, uint32_t i);

/* Checksum and blocknr of a bitmap or metadata index block. */
int pd_bitmap_verify(const void *block, uint64_t blocknr, struct shadow_error *err);
int pd_index_verify(const void *block, uint64_t blocknr, struct shadow_error *err);

/* Entry @i (0 .. PD_ENTRIES_PER_BITMAP - 1) of a bitmap block: 0 to 3. */
unsigned int pd_bitmap_lookup(const void *block, uint32_t i);
void pd_bitmap_set(void *block, uint32_t i, unsigned int value);

void pd_index_entry_decode(const void *p, struct pd_index_entry *ret);
void pd_index_entry_encode(void *p, const struct pd_index_entry *ie);
/* Entry @i (< PD_MAX_METADATA_BITMAPS) of the metadata index block. */
const void *pd_metadata_index_entry(const void *block, uint32_t i);

/* Writers, for building images: a zeroed node of the given kind. */
void pd_node_init(void *block, uint32_t flags, uint32_t value_size);
/* Append a key and its value (value_size bytes) to a node. */
void pd_node_append(void *block, uint64_t key, const void *value);
void pd_node_seal(void *block, uint64_t blocknr);
void pd_bitmap_seal(void *block, uint64_t blocknr);
void pd_index_seal(void *block, uint64_t blocknr);

#endif
