/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef SHADOW_CRC32C_H
#define SHADOW_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * CRC-32C (Castagnoli, reflected, polynomial 0x82F63B78) with the Linux
 * kernel's crc32c() semantics: the seed is the initial register value and
 * no final inversion is done.  shadow_crc32c(~0, "123456789", 9) is
 * 0x1CF96D7C, the bitwise complement of the standard check value 0xE3069283.
 */
uint32_t shadow_crc32c(uint32_t seed, const void *buf, size_t len);

/*
 * Checksum of one metadata block of @len bytes, exactly as the kernel
 * (dm-persistent-data's dm_bm_checksum()) computes it: crc32c(~0) over
 * bytes 4..len-1, xored with @xor, the block type's constant.
 */
uint32_t shadow_block_csum(const void *block, size_t len, uint32_t xor);

#endif
