/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's dm-persistent-data blocks, read (and, for the unit tests'
 * images, written) offline: btree nodes, space map bitmaps with two bits
 * per block, the metadata space map's index block and the disk space
 * map's index entries, and the array blocks of a dm_array, which a
 * dm_bitset is.  Layouts as in linux/drivers/md/persistent-data/
 * (dm-btree-internal.h, dm-space-map-common.h, dm-array.c, dm-bitset.c);
 * every block is 4 KiB and starts with a crc32c (seed ~0) over the block
 * from byte 4, xored with its type's constant.
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

/*
 * A dm_array is a one-level btree keyed by array block index (0, 1, ...
 * every one present) whose values are the __le64 numbers of its array
 * blocks: struct array_block (csum, max_entries, nr_entries, value_size,
 * then blocknr at byte 16, not 8 as in other blocks), then nr_entries
 * values.  Every block but the last is full.  An array block may be the
 * value of several indices (dm_array may share one until it is written):
 * its reference count is the number of values naming it.
 */
#define PD_ARRAY_HEADER_SIZE		24
#define PD_ARRAY_CSUM_XOR		595846735U

/*
 * A dm_bitset: a dm_array of __le64 words, bit i of the set in bit i % 64
 * of word i / 64 (least significant first).
 */
#define PD_BITSET_WORD_BITS		64

struct pd_node_header {
	uint32_t csum;
	uint32_t flags;
	uint64_t blocknr;
	uint32_t nr_entries;
	uint32_t max_entries;
	uint32_t value_size;
};

/* struct array_block. */
struct pd_array_header {
	uint32_t csum;
	uint32_t max_entries;
	uint32_t nr_entries;
	uint32_t value_size;
	uint64_t blocknr;
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

/* The max_entries dm_array gives its blocks of @value_size-byte values. */
uint32_t pd_array_max_entries(uint32_t value_size);
/* Blocks an array of @nr_entries values of @value_size bytes has. */
uint64_t pd_array_nr_blocks(uint64_t nr_entries, uint32_t value_size);
/*
 * The nr_entries of array block @index of such an array: max_entries but
 * for the last block, which holds the rest; 0 past the last.
 */
uint32_t pd_array_block_entries(uint64_t nr_entries, uint32_t value_size,
				uint64_t index);

void pd_array_header_decode(const void *block, struct pd_array_header *ret);
/*
 * Verify an array block read from @blocknr as block @index of an array
 * of @nr_entries values of @value_size bytes: checksum
 * (PD_ARRAY_CSUM_XOR), blocknr, value size, max_entries as dm_array sets
 * it, and nr_entries what pd_array_block_entries() gives @index.  Returns
 * 0 with @ret filled, or -EBADMSG with @err.  Values may be read only
 * from a block that verified.
 */
int pd_array_verify(const void *block, uint64_t blocknr, uint32_t value_size,
		    uint64_t nr_entries, uint64_t index,
		    struct pd_array_header *ret, struct shadow_error *err);
/* Value @i of an array block of __le64 values, decoded. */
uint64_t pd_array_value_u64(const void *block, uint32_t i);

/* The words a dm_bitset of @nr_bits bits holds. */
uint64_t pd_bitset_words(uint64_t nr_bits);
/*
 * Bits set among the first @nr_bits bits of the @nr_words __le64 words
 * at @words (bit i in bit i % 64 of word i / 64); bits at or past
 * @nr_bits are not counted, so a caller tells them apart by counting
 * again with every bit (@nr_words * 64).
 */
uint64_t pd_bitset_count(const void *words, uint64_t nr_words, uint64_t nr_bits);

/* Writers, for building images: a zeroed node of the given kind. */
void pd_node_init(void *block, uint32_t flags, uint32_t value_size);
/* Append a key and its value (value_size bytes) to a node. */
void pd_node_append(void *block, uint64_t key, const void *value);
void pd_node_seal(void *block, uint64_t blocknr);
void pd_bitmap_seal(void *block, uint64_t blocknr);
void pd_index_seal(void *block, uint64_t blocknr);
/* A zeroed array block of @nr_entries values of @value_size bytes. */
void pd_array_init(void *block, uint32_t value_size, uint32_t nr_entries);
void pd_array_set_u64(void *block, uint32_t i, uint64_t value);
/* Set blocknr (at byte 16) and the checksum. */
void pd_array_seal(void *block, uint64_t blocknr);

#endif
