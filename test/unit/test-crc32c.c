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
	uint8_t block[SHADOW_BLOCK_SIZE];

	for (unsigned int i = 0; i < sizeof(block); i++)
		block[i] = (uint8_t)(i * 7);
	/* Exactly: crc32c(0xffffffff, block + 4, 508) ^ type. */
	ck_assert_uint_eq(shadow_block_csum(block, SHADOW_BLOCK_SNAP),
			  shadow_crc32c(0xffffffffU, block + 4, 508) ^ SHADOW_BLOCK_SNAP);
	/* The checksum field itself is not covered. */
	block[0] ^= 0xff;
	ck_assert_uint_eq(shadow_block_csum(block, SHADOW_BLOCK_SNAP),
			  shadow_crc32c(0xffffffffU, block + 4, 508) ^ SHADOW_BLOCK_SNAP);
}
END_TEST

/* A block sealed as one type never validates as another. */
START_TEST(test_block_type_xor)
{
	static const uint32_t types[] = {
		SHADOW_BLOCK_SB, SHADOW_BLOCK_SNAP, SHADOW_BLOCK_INDEX, SHADOW_BLOCK_RECORD,
	};
	uint8_t block[SHADOW_BLOCK_SIZE];
	struct shadow_error err;

	for (size_t i = 0; i < 4; i++) {
		for (size_t j = 0; j < 4; j++) {
			memset(block, 0x5a, sizeof(block));
			shadow_block_seal(block, types[i], 7);
			memset(&err, 0, sizeof(err));
			if (i == j) {
				ck_assert_int_eq(shadow_block_verify(block, types[j], 7, &err), 0);
				continue;
			}
			/* Header says the other type: refused as the wrong type. */
			ck_assert_int_eq(shadow_block_verify(block, types[j], 7, &err), -EBADMSG);
			ck_assert_int_eq(err.code, SHADOW_ERR_BAD_TYPE);
			/* Even with its type field rewritten, the checksum refuses it. */
			((struct shadow_block_header *)block)->type = htole32(types[j]);
			ck_assert_int_eq(shadow_block_verify(block, types[j], 7, &err), -EBADMSG);
			ck_assert_int_eq(err.code, SHADOW_ERR_BAD_CSUM);
		}
	}
}
END_TEST

START_TEST(test_block_verify_errors)
{
	uint8_t block[SHADOW_BLOCK_SIZE] = {};
	struct shadow_error err = {};

	ck_assert_int_eq(shadow_block_verify(block, SHADOW_BLOCK_INDEX, 3, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_ZERO);
	block[100] = 1;
	shadow_block_seal(block, SHADOW_BLOCK_INDEX, 3);
	ck_assert_int_eq(shadow_block_verify(block, SHADOW_BLOCK_INDEX, 4, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_BLOCKNR);
	ck_assert_ptr_nonnull(strstr(err.msg, "says it is block 3"));
	block[200] = 1;
	ck_assert_int_eq(shadow_block_verify(block, SHADOW_BLOCK_INDEX, 3, &err), -EBADMSG);
	ck_assert_int_eq(err.code, SHADOW_ERR_BAD_CSUM);
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
	tcase_add_test(tc, test_block_verify_errors);
	suite_add_tcase(s, tc);
	return s;
}
