/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "crc32c.h"
#include "shadow-pd.h"

/* The offsets every function here relies on, as the kernel's structs. */
_Static_assert(PD_ENTRIES_PER_BITMAP == 16320, "dm-persistent-data's bitmap entries");
_Static_assert(16 + PD_MAX_METADATA_BITMAPS * PD_INDEX_ENTRY_SIZE <= PD_BLOCK_SIZE,
	       "metadata index fits a block");
_Static_assert((PD_BLOCK_SIZE - PD_ARRAY_HEADER_SIZE) / 8 == 509,
	       "dm_array's __le64 values per block");

static uint32_t get_le32(const void *block, size_t off)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)block + off, sizeof(v));
	return le32toh(v);
}

static uint64_t get_le64(const void *block, size_t off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)block + off, sizeof(v));
	return le64toh(v);
}

static void put_le32(void *block, size_t off, uint32_t v)
{
	v = htole32(v);
	memcpy((uint8_t *)block + off, &v, sizeof(v));
}

static void put_le64(void *block, size_t off, uint64_t v)
{
	v = htole64(v);
	memcpy((uint8_t *)block + off, &v, sizeof(v));
}

uint32_t pd_btree_max_entries(uint32_t value_size)
{
	uint32_t n = (PD_BLOCK_SIZE - PD_NODE_HEADER_SIZE) / (8 + value_size);

	return n / 3 * 3;
}

void pd_node_header_decode(const void *block, struct pd_node_header *ret)
{
	*ret = (struct pd_node_header) {
		.csum = get_le32(block, 0),
		.flags = get_le32(block, 4),
		.blocknr = get_le64(block, 8),
		.nr_entries = get_le32(block, 16),
		.max_entries = get_le32(block, 20),
		.value_size = get_le32(block, 24),
	};
}

/* Checksum and blocknr, common to every dm-persistent-data block. */
static int verify_common(const void *block, uint64_t blocknr, uint32_t xor,
			 const char *what, struct shadow_error *err)
{
	uint32_t stored = get_le32(block, 0);
	uint32_t computed = shadow_block_csum(block, PD_BLOCK_SIZE, xor);
	uint64_t hnr = get_le64(block, 8);

	if (stored != computed) {
		shadow_error_set(err, SHADOW_ERR_BAD_CSUM,
				 "%s block %" PRIu64 " has a bad checksum: stored 0x%08x, computed 0x%08x",
				 what, blocknr, stored, computed);
		return -EBADMSG;
	}
	if (hnr != blocknr) {
		shadow_error_set(err, SHADOW_ERR_BAD_BLOCKNR,
				 "%s block %" PRIu64 " says it is block %" PRIu64 " (misplaced write?)",
				 what, blocknr, hnr);
		return -EBADMSG;
	}
	return 0;
}

int pd_node_verify(const void *block, uint64_t blocknr, uint32_t value_size,
		   struct pd_node_header *ret, struct shadow_error *err)
{
	struct pd_node_header h;
	uint32_t want_vs;
	int r;

	r = verify_common(block, blocknr, SHADOW_PD_BTREE_CSUM_XOR, "btree node", err);
	if (r < 0)
		return r;
	pd_node_header_decode(block, &h);
	if (h.flags != PD_INTERNAL_NODE && h.flags != PD_LEAF_NODE) {
		shadow_error_set(err, SHADOW_ERR_BAD_NODE,
				 "btree node %" PRIu64 " has flags 0x%x, neither internal nor leaf",
				 blocknr, h.flags);
		return -EBADMSG;
	}
	want_vs = h.flags == PD_INTERNAL_NODE ? sizeof(uint64_t) : value_size;
	if (h.value_size != want_vs) {
		shadow_error_set(err, SHADOW_ERR_BAD_NODE,
				 "btree %s node %" PRIu64 " has %u-byte values, expected %u",
				 h.flags == PD_INTERNAL_NODE ? "internal" : "leaf",
				 blocknr, h.value_size, want_vs);
		return -EBADMSG;
	}
	if (h.max_entries != pd_btree_max_entries(want_vs)) {
		shadow_error_set(err, SHADOW_ERR_BAD_NODE,
				 "btree node %" PRIu64 " has max_entries %u, expected %u for %u-byte values",
				 blocknr, h.max_entries, pd_btree_max_entries(want_vs), want_vs);
		return -EBADMSG;
	}
	if (h.nr_entries > h.max_entries) {
		shadow_error_set(err, SHADOW_ERR_BAD_NODE,
				 "btree node %" PRIu64 " has %u entries, more than its max_entries %u",
				 blocknr, h.nr_entries, h.max_entries);
		return -EBADMSG;
	}
	*ret = h;
	return 0;
}

uint64_t pd_node_key(const void *block, uint32_t i)
{
	return get_le64(block, PD_NODE_HEADER_SIZE + (size_t)i * 8);
}

const void *pd_node_value(const void *block, uint32_t i)
{
	uint32_t max = get_le32(block, 20), vs = get_le32(block, 24);

	return (const uint8_t *)block + PD_NODE_HEADER_SIZE + (size_t)max * 8 +
	       (size_t)i * vs;
}

uint64_t pd_node_value_u64(const void *block, uint32_t i)
{
	return get_le64(pd_node_value(block, i), 0);
}

uint32_t pd_node_value_u32(const void *block, uint32_t i)
{
	return get_le32(pd_node_value(block, i), 0);
}

int pd_bitmap_verify(const void *block, uint64_t blocknr, struct shadow_error *err)
{
	return verify_common(block, blocknr, SHADOW_PD_BITMAP_CSUM_XOR,
			     "space map bitmap", err);
}

int pd_index_verify(const void *block, uint64_t blocknr, struct shadow_error *err)
{
	return verify_common(block, blocknr, SHADOW_PD_INDEX_CSUM_XOR,
			     "metadata space map index", err);
}

/*
 * As sm_lookup_bitmap(): entry i is bits 2i (high) and 2i+1 (low) of the
 * little-endian 64-bit word i / 32 after the header.
 */
unsigned int pd_bitmap_lookup(const void *block, uint32_t i)
{
	uint64_t w = get_le64(block, PD_BITMAP_HEADER_SIZE + (size_t)(i / 32) * 8);
	unsigned int b = (i % 32) * 2;

	return (unsigned int)(((w >> b) & 1) << 1 | ((w >> (b + 1)) & 1));
}

void pd_bitmap_set(void *block, uint32_t i, unsigned int value)
{
	size_t off = PD_BITMAP_HEADER_SIZE + (size_t)(i / 32) * 8;
	uint64_t w = get_le64(block, off);
	unsigned int b = (i % 32) * 2;

	w &= ~(3ULL << b);
	w |= (uint64_t)((value >> 1) & 1) << b | (uint64_t)(value & 1) << (b + 1);
	put_le64(block, off, w);
}

void pd_index_entry_decode(const void *p, struct pd_index_entry *ret)
{
	*ret = (struct pd_index_entry) {
		.blocknr = get_le64(p, 0),
		.nr_free = get_le32(p, 8),
		.none_free_before = get_le32(p, 12),
	};
}

void pd_index_entry_encode(void *p, const struct pd_index_entry *ie)
{
	put_le64(p, 0, ie->blocknr);
	put_le32(p, 8, ie->nr_free);
	put_le32(p, 12, ie->none_free_before);
}

const void *pd_metadata_index_entry(const void *block, uint32_t i)
{
	return (const uint8_t *)block + 16 + (size_t)i * PD_INDEX_ENTRY_SIZE;
}

uint32_t pd_array_max_entries(uint32_t value_size)
{
	return (PD_BLOCK_SIZE - PD_ARRAY_HEADER_SIZE) / value_size;
}

uint64_t pd_array_nr_blocks(uint64_t nr_entries, uint32_t value_size)
{
	uint32_t max = pd_array_max_entries(value_size);

	return nr_entries / max + (nr_entries % max != 0);
}

uint32_t pd_array_block_entries(uint64_t nr_entries, uint32_t value_size,
				uint64_t index)
{
	uint32_t max = pd_array_max_entries(value_size);

	if (index >= pd_array_nr_blocks(nr_entries, value_size))
		return 0;
	if (index + 1 < pd_array_nr_blocks(nr_entries, value_size))
		return max;
	return (uint32_t)(nr_entries - index * max);
}

void pd_array_header_decode(const void *block, struct pd_array_header *ret)
{
	*ret = (struct pd_array_header) {
		.csum = get_le32(block, 0),
		.max_entries = get_le32(block, 4),
		.nr_entries = get_le32(block, 8),
		.value_size = get_le32(block, 12),
		.blocknr = get_le64(block, 16),
	};
}

/* The header against what the array's size gives block @index. */
static int array_verify_header(const struct pd_array_header *h, uint64_t blocknr,
			       uint32_t value_size, uint64_t nr_entries,
			       uint64_t index, struct shadow_error *err)
{
	uint32_t want = pd_array_block_entries(nr_entries, value_size, index);

	if (h->value_size != value_size) {
		shadow_error_set(err, SHADOW_ERR_BAD_NODE,
				 "array block %" PRIu64 " has %u-byte values, expected %u",
				 blocknr, h->value_size, value_size);
		return -EBADMSG;
	}
	if (h->max_entries != pd_array_max_entries(value_size)) {
		shadow_error_set(err, SHADOW_ERR_BAD_NODE,
				 "array block %" PRIu64 " has max_entries %u, expected %u for %u-byte values",
				 blocknr, h->max_entries, pd_array_max_entries(value_size),
				 value_size);
		return -EBADMSG;
	}
	if (h->nr_entries != want) {
		shadow_error_set(err, SHADOW_ERR_BAD_NODE,
				 "array block %" PRIu64 " has %u entries, expected %u as block %" PRIu64 " of an array of %" PRIu64,
				 blocknr, h->nr_entries, want, index, nr_entries);
		return -EBADMSG;
	}
	return 0;
}

int pd_array_verify(const void *block, uint64_t blocknr, uint32_t value_size,
		    uint64_t nr_entries, uint64_t index,
		    struct pd_array_header *ret, struct shadow_error *err)
{
	uint32_t computed = shadow_block_csum(block, PD_BLOCK_SIZE, PD_ARRAY_CSUM_XOR);
	struct pd_array_header h;
	int r;

	pd_array_header_decode(block, &h);
	if (h.csum != computed) {
		shadow_error_set(err, SHADOW_ERR_BAD_CSUM,
				 "array block %" PRIu64 " has a bad checksum: stored 0x%08x, computed 0x%08x",
				 blocknr, h.csum, computed);
		return -EBADMSG;
	}
	if (h.blocknr != blocknr) {
		shadow_error_set(err, SHADOW_ERR_BAD_BLOCKNR,
				 "array block %" PRIu64 " says it is block %" PRIu64 " (misplaced write?)",
				 blocknr, h.blocknr);
		return -EBADMSG;
	}
	r = array_verify_header(&h, blocknr, value_size, nr_entries, index, err);
	if (r < 0)
		return r;
	*ret = h;
	return 0;
}

uint64_t pd_array_value_u64(const void *block, uint32_t i)
{
	return get_le64(block, PD_ARRAY_HEADER_SIZE + (size_t)i * 8);
}

uint64_t pd_bitset_words(uint64_t nr_bits)
{
	return nr_bits / PD_BITSET_WORD_BITS + (nr_bits % PD_BITSET_WORD_BITS != 0);
}

uint64_t pd_bitset_count(const void *words, uint64_t nr_words, uint64_t nr_bits)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < nr_words && i * PD_BITSET_WORD_BITS < nr_bits; i++) {
		uint64_t w = get_le64(words, (size_t)i * 8);
		uint64_t left = nr_bits - i * PD_BITSET_WORD_BITS;

		/* The word holding the last bit: only its bits below it count. */
		if (left < PD_BITSET_WORD_BITS)
			w &= (1ULL << left) - 1;
		n += (uint64_t)__builtin_popcountll(w);
	}
	return n;
}

void pd_node_init(void *block, uint32_t flags, uint32_t value_size)
{
	uint32_t vs = flags == PD_INTERNAL_NODE ? sizeof(uint64_t) : value_size;

	memset(block, 0, PD_BLOCK_SIZE);
	put_le32(block, 4, flags);
	put_le32(block, 20, pd_btree_max_entries(vs));
	put_le32(block, 24, vs);
}

void pd_node_append(void *block, uint64_t key, const void *value)
{
	uint32_t n = get_le32(block, 16), vs = get_le32(block, 24);

	put_le64(block, PD_NODE_HEADER_SIZE + (size_t)n * 8, key);
	memcpy((uint8_t *)pd_node_value(block, n), value, vs);
	put_le32(block, 16, n + 1);
}

static void seal(void *block, uint64_t blocknr, uint32_t xor)
{
	put_le64(block, 8, blocknr);
	put_le32(block, 0, shadow_block_csum(block, PD_BLOCK_SIZE, xor));
}

void pd_node_seal(void *block, uint64_t blocknr)
{
	seal(block, blocknr, SHADOW_PD_BTREE_CSUM_XOR);
}

void pd_bitmap_seal(void *block, uint64_t blocknr)
{
	seal(block, blocknr, SHADOW_PD_BITMAP_CSUM_XOR);
}

void pd_index_seal(void *block, uint64_t blocknr)
{
	seal(block, blocknr, SHADOW_PD_INDEX_CSUM_XOR);
}

void pd_array_init(void *block, uint32_t value_size, uint32_t nr_entries)
{
	memset(block, 0, PD_BLOCK_SIZE);
	put_le32(block, 4, pd_array_max_entries(value_size));
	put_le32(block, 8, nr_entries);
	put_le32(block, 12, value_size);
}

void pd_array_set_u64(void *block, uint32_t i, uint64_t value)
{
	put_le64(block, PD_ARRAY_HEADER_SIZE + (size_t)i * 8, value);
}

void pd_array_seal(void *block, uint64_t blocknr)
{
	put_le64(block, 16, blocknr);
	put_le32(block, 0, shadow_block_csum(block, PD_BLOCK_SIZE, PD_ARRAY_CSUM_XOR));
}
