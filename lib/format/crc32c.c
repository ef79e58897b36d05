/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Software CRC-32C.  A byte-at-a-time table is plenty for an offline
 * tool reading metadata blocks; the kernel uses its own (accelerated)
 * crc32c() with the same semantics.
 */
#include "crc32c.h"

#define CRC32C_POLY_REFLECTED 0x82F63B78U

static uint32_t crc32c_table[256];

static void crc32c_init_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? CRC32C_POLY_REFLECTED : 0);
		crc32c_table[i] = c;
	}
}

uint32_t shadow_crc32c(uint32_t seed, const void *buf, size_t len)
{
	static int initialised;
	const uint8_t *p = buf;
	uint32_t crc = seed;

	/* Idempotent: racing initialisers write the same values. */
	if (!__atomic_load_n(&initialised, __ATOMIC_ACQUIRE)) {
		crc32c_init_table();
		__atomic_store_n(&initialised, 1, __ATOMIC_RELEASE);
	}

	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

uint32_t shadow_block_csum(const void *block, size_t len, uint32_t xor)
{
	return shadow_crc32c(0xffffffffU, (const uint8_t *)block + 4, len - 4) ^ xor;
}
