/* Unit tests for src/common/uuid.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "common/uuid.h"

static void
test_roundtrip(void **state)
{
	struct cairn_uuid a, b;
	char s[CAIRN_UUID_STR_LEN], sh[9];

	for (int i = 0; i < 100; i++) {
		cairn_uuid_generate(&a);
		assert_false(cairn_uuid_is_null(&a));
		assert_int_equal((a.b[6] >> 4), 4);      /* version 4 */
		assert_int_equal((a.b[8] & 0xc0), 0x80); /* RFC 4122 variant */
		cairn_uuid_unparse(&a, s);
		assert_int_equal(strlen(s), 36);
		assert_int_equal(cairn_uuid_parse(s, &b), 0);
		assert_true(cairn_uuid_equal(&a, &b));
		assert_true(cairn_uuid_hash(&a) == cairn_uuid_hash(&b));
		cairn_uuid_short(&a, sh);
		assert_int_equal(strncmp(s, sh, 8), 0);
		assert_int_equal(strlen(sh), 8);
	}
}

static void
test_parse_known_and_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"123",
		"6ba7b810-9dad-11d1-80b4-00c04fd430c",
		"6ba7b810-9dad-11d1-80b4-00c04fd430c88",
		"6ba7b810x9dad-11d1-80b4-00c04fd430c8",
		"6ba7b810-9dad-11d1-80b4-00c04fd430cg",
		"{6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
		" 6ba7b810-9dad-11d1-80b4-00c04fd430c8",
		"6ba7b8109dad11d180b400c04fd430c8",
	};
	struct cairn_uuid u, keep;
	char s[CAIRN_UUID_STR_LEN];

	assert_int_equal(cairn_uuid_parse("6BA7B810-9DAD-11D1-80B4-00C04FD430C8", &u), 0);
	assert_int_equal(u.b[0], 0x6b);
	assert_int_equal(u.b[15], 0xc8);
	cairn_uuid_unparse(&u, s);
	assert_string_equal(s, "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
	keep = u;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cairn_uuid_parse(bad[i], &u), -CAIRN_ERR_INVAL);
		assert_true(cairn_uuid_equal(&u, &keep)); /* untouched */
	}
	assert_int_equal(cairn_uuid_parse(NULL, &u), -CAIRN_ERR_INVAL);
}

static void
test_null_and_compare(void **state)
{
	struct cairn_uuid a, b;

	cairn_uuid_clear(&a);
	assert_true(cairn_uuid_is_null(&a));
	assert_int_equal(cairn_uuid_parse("00000000-0000-0000-0000-000000000001", &b), 0);
	assert_false(cairn_uuid_is_null(&b));
	assert_true(cairn_uuid_compare(&a, &b) < 0);
	assert_true(cairn_uuid_compare(&b, &a) > 0);
	assert_int_equal(cairn_uuid_compare(&a, &a), 0);
	assert_true(cairn_uuid_hash(&a) != cairn_uuid_hash(&b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_parse_known_and_bad),
		cmocka_unit_test(test_null_and_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
