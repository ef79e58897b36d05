/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "crc32c.h"
#include "shadow-format.h"
#include "unit.h"

/* Kernel semantics: seed in, no final inversion. */
START_TEST(test_check_value)
{
	ck_assert_uint_eq(shadow_crc32c(~0U, "123456789", 9), 0x1CF96D7CU);
	ck_assert_uint_eq(~shadow_crc32c(~0U, "123456789", 9), 0xE3069283U);
}
END_TEST

/* RFC 3720 (iSCSI) appendix B.4 vectors, stated there with final xor. */
START_TEST(test_rfc3720)
{
	uint8_t buf[32];

	memset(buf, 0, sizeof(buf));
	ck_assert_uint_eq(~shadow_crc32c(~0U, buf, sizeof(buf)), 0x8A9136AAU);
	memset(buf, 0xff, sizeof(buf));
	ck_assert_uint_eq(~shadow_crc32c(~0U, buf, sizeof(buf)), 0x62A8AB43U);
	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	ck_assert_uint_eq(~shadow_crc32c(~0U, buf, sizeof(buf)), 0x46DD794EU);
	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(31 - i);
	ck_assert_uint_eq(~shadow_crc32c(~0U, buf, sizeof(buf)), 0x113FDB5CU);
}
END_TEST

START_TEST(test_empty_and_incremental)
{
	const char *s = "dm-shadow incremental crc";
	size_t len = strlen(s);

	ck_assert_uint_eq(shadow_crc32c(0x12345678U, s, 0), 0x12345678U);
	for (size_t cut = 0; cut <= len; cut++)
		ck_assert_uint_eq(shadow_crc32c(shadow_crc32c(~0U, s, cut), s + cut, len - cut),
				  shadow_crc32c(~0U, s, len));
}
END_TEST

START_TEST(test_block_csum_definition)
{
	uint8_t block[SHADOW_MD_BLOCK_SIZE];

	for (unsigned int i = 0; i < sizeof(block); i++)
		block[i] = (uint8_t)(i * 7);
	/* Exactly: crc32c(0xffffffff, block + 4, len - 4) ^ xor. */
	ck_assert_uint_eq(shadow_block_csum(block, sizeof(block), SHADOW_PD_BTREE_CSUM_XOR),
			  shadow_crc32c(0xffffffffU, block + 4, sizeof(block) - 4) ^ 121107U);
	/* The checksum field itself is not covered. */
	block[0] ^= 0xff;
	ck_assert_uint_eq(shadow_block_csum(block, sizeof(block), SHADOW_PD_BTREE_CSUM_XOR),
			  shadow_crc32c(0xffffffffU, block + 4, sizeof(block) - 4) ^ 121107U);
}
END_TEST

/* The xor constants differ, so a block of one type never validates as another. */
START_TEST(test_block_type_xor)
{
	static const uint32_t xors[] = {
		SHADOW_SB_CSUM_XOR, SHADOW_PD_BTREE_CSUM_XOR,
		SHADOW_PD_BITMAP_CSUM_XOR, SHADOW_PD_INDEX_CSUM_XOR,
	};
	uint8_t block[SHADOW_MD_BLOCK_SIZE];

	memset(block, 0x5a, sizeof(block));
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 4; j++)
			if (i != j)
				ck_assert_uint_ne(shadow_block_csum(block, sizeof(block), xors[i]),
						  shadow_block_csum(block, sizeof(block), xors[j]));
}
END_TEST

Suite *suite_crc32c(void)
{
	Suite *s = suite_create("crc32c");
	TCase *tc = tcase_create("crc32c");

	tcase_add_test(tc, test_check_value);
	tcase_add_test(tc, test_rfc3720);
	tcase_add_test(tc, test_empty_and_incremental);
	tcase_add_test(tc, test_block_csum_definition);
	tcase_add_test(tc, test_block_type_xor);
	suite_add_tcase(s, tc);
	return s;
}
