/* Unit tests for src/common/csum.c: published check values, RFC 3720 vectors, agreement
 * with a bitwise reference implementation, chaining and scatter lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "common/csum.h"

/* Bit-at-a-time references, straight from the CRC definitions. */
static uint32_t
ref_crc32c(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xFFFFFFFFu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static uint64_t
ref_crc64_xz(const uint8_t *p, size_t len)
{
	uint64_t crc = ~0ull;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xC96C5795D7870F42ull & (0ull - (crc & 1)));
	}
	return ~crc;
}

static void
test_check_values(void **state)
{
	const char *s = "123456789";

	assert_int_equal(cairn_crc32c(0, s, 9), 0xE3069283u);
	assert_true(cairn_crc64(0, s, 9) == 0x995DC9BBDF1939FAull);
	assert_int_equal(cairn_crc32c(0, NULL, 0), 0);
	assert_true(cairn_crc64(0, NULL, 0) == 0);
	/* Seed passes through an empty buffer. */
	assert_int_equal(cairn_crc32c(0x12345678u, NULL, 0), 0x12345678u);
}

static void
test_rfc3720_vectors(void **state)
{
	uint8_t buf[32];

	memset(buf, 0, sizeof(buf));
	assert_int_equal(cairn_crc32c(0, buf, 32), 0x8A9136AAu);
	memset(buf, 0xFF, sizeof(buf));
	assert_int_equal(cairn_crc32c(0, buf, 32), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(cairn_crc32c(0, buf, 32), 0x46DD794Eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(cairn_crc32c(0, buf, 32), 0x113FDB5Cu);
}

static void
test_matches_reference(void **state)
{
	unsigned seed = 12345;
	uint8_t *buf = malloc(70000);

	assert_non_null(buf);
	srand(seed);
	for (size_t i = 0; i < 70000; i++)
		buf[i] = (uint8_t)rand();
	/* Odd lengths and misaligned starts exercise the SIMD head/tail paths. */
	for (size_t len = 0; len < 300; len++) {
		for (size_t off = 0; off < 8; off++) {
			if (cairn_crc32c(0, buf + off, len) != ref_crc32c(buf + off, len) ||
			    cairn_crc64(0, buf + off, len) != ref_crc64_xz(buf + off, len)) {
				print_error("mismatch at len %zu off %zu (seed %u)\n", len, off,
					    seed);
				fail();
			}
		}
	}
	assert_int_equal(cairn_crc32c(0, buf + 3, 65537), ref_crc32c(buf + 3, 65537));
	assert_true(cairn_crc64(0, buf + 5, 69000) == ref_crc64_xz(buf + 5, 69000));
	free(buf);
}

static void
test_chaining_and_iov(void **state)
{
	uint8_t buf[4096];
	struct iovec iov[5];
	uint32_t whole32, part32;
	uint64_t whole64, part64, out;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	whole32 = cairn_crc32c(0, buf, sizeof(buf));
	whole64 = cairn_crc64(0, buf, sizeof(buf));
	for (size_t cut = 0; cut <= sizeof(buf); cut += 97) {
		part32 = cairn_crc32c(cairn_crc32c(0, buf, cut), buf + cut, sizeof(buf) - cut);
		part64 = cairn_crc64(cairn_crc64(0, buf, cut), buf + cut, sizeof(buf) - cut);
		assert_int_equal(part32, whole32);
		assert_true(part64 == whole64);
	}
	iov[0] = (struct iovec){buf, 1};
	iov[1] = (struct iovec){buf + 1, 0};
	iov[2] = (struct iovec){buf + 1, 1000};
	iov[3] = (struct iovec){buf + 1001, 3000};
	iov[4] = (struct iovec){buf + 4001, 95};
	assert_int_equal(cairn_crc32c_iov(0, iov, 5), whole32);
	assert_true(cairn_crc64_iov(0, iov, 5) == whole64);

	assert_int_equal(cairn_csum_iov(CAIRN_CSUM_CRC32C, iov, 5, &out), 0);
	assert_true(out == whole32);
	assert_int_equal(cairn_csum_iov(CAIRN_CSUM_CRC64, iov, 5, &out), 0);
	assert_true(out == whole64);
	assert_int_equal(cairn_csum_iov(CAIRN_CSUM_NONE, iov, 5, &out), 0);
	assert_true(out == 0);
	assert_int_equal(cairn_csum_iov((enum cairn_csum_type)9, iov, 5, &out), -CAIRN_ERR_INVAL);
	/* A flipped bit changes both checksums. */
	buf[2048] ^= 0x10;
	assert_int_not_equal(cairn_crc32c(0, buf, sizeof(buf)), whole32);
	assert_true(cairn_crc64(0, buf, sizeof(buf)) != whole64);
}

static void
test_types(void **state)
{
	assert_int_equal(cairn_csum_size(CAIRN_CSUM_CRC32C), 4);
	assert_int_equal(cairn_csum_size(CAIRN_CSUM_CRC64), 8);
	assert_int_equal(cairn_csum_size(CAIRN_CSUM_NONE), 0);
	assert_int_equal(cairn_csum_size((enum cairn_csum_type)7), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_csum_from_name("CRC32C"), CAIRN_CSUM_CRC32C);
	assert_int_equal(cairn_csum_from_name("crc64"), CAIRN_CSUM_CRC64);
	assert_int_equal(cairn_csum_from_name("none"), CAIRN_CSUM_NONE);
	assert_int_equal(cairn_csum_from_name("md5"), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_csum_from_name(NULL), -CAIRN_ERR_INVAL);
	assert_null(cairn_csum_name((enum cairn_csum_type)7));
	assert_string_equal(cairn_csum_name(CAIRN_CSUM_CRC32C), "crc32c");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_values),
		cmocka_unit_test(test_rfc3720_vectors),
		cmocka_unit_test(test_matches_reference),
		cmocka_unit_test(test_chaining_and_iov),
		cmocka_unit_test(test_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
