/* Unit tests for src/common/units.c: sizes, durations, strict integers and booleans,
 * including overflow edges and the wording of errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "common/units.h"

static uint64_t
size_ok(const char *s)
{
	uint64_t v = 0xdead;
	char err[256] = "";
	int rc = cairn_parse_size(s, &v, err, sizeof(err));

	if (rc != 0) {
		print_error("parse_size('%s') failed: %s\n", s, err);
		fail();
	}
	return v;
}

static void
size_bad(const char *s, int want_rc, const char *want_msg)
{
	uint64_t v = 12345;
	char err[256] = "";

	assert_int_equal(cairn_parse_size(s, &v, err, sizeof(err)), want_rc);
	assert_true(v == 12345); /* untouched on error */
	if (strstr(err, want_msg) == NULL) {
		print_error("parse_size('%s'): message '%s' lacks '%s'\n", s, err, want_msg);
		fail();
	}
}

static void
test_parse_size(void **state)
{
	assert_true(size_ok("512") == 512);
	assert_true(size_ok("0") == 0);
	assert_true(size_ok("4G") == 4ull << 30);
	assert_true(size_ok("64k") == 64ull << 10);
	assert_true(size_ok("64K") == 64ull << 10);
	assert_true(size_ok("1MiB") == 1ull << 20);
	assert_true(size_ok("1mib") == 1ull << 20);
	assert_true(size_ok("4KB") == 4096);
	assert_true(size_ok("4Ki") == 4096);
	assert_true(size_ok("100B") == 100);
	assert_true(size_ok("1.5G") == 3ull << 29);
	assert_true(size_ok("0.5k") == 512);
	assert_true(size_ok("2T") == 2ull << 40);
	assert_true(size_ok("1P") == 1ull << 50);
	assert_true(size_ok("15E") == 15ull << 60);
	assert_true(size_ok("0x1000") == 4096);
	assert_true(size_ok("18446744073709551615") == UINT64_MAX);
	assert_true(size_ok("15.5E") == (15ull << 60) + (1ull << 59));

	size_bad("", -CAIRN_ERR_INVAL, "empty size");
	size_bad(NULL, -CAIRN_ERR_INVAL, "empty size");
	size_bad("16E", -CAIRN_ERR_OVERFLOW, "64 bits");
	size_bad("18446744073709551616", -CAIRN_ERR_OVERFLOW, "too large");
	size_bad("99999999999999999999999", -CAIRN_ERR_OVERFLOW, "too large");
	size_bad("17179869184G", -CAIRN_ERR_OVERFLOW, "64 bits");
	size_bad("0x10000000000000000", -CAIRN_ERR_OVERFLOW, "64 bits");
	size_bad("4X", -CAIRN_ERR_INVAL, "unknown size suffix 'X'");
	size_bad("4GG", -CAIRN_ERR_INVAL, "unknown size suffix");
	size_bad("4 G", -CAIRN_ERR_INVAL, "unknown size suffix ' G'");
	size_bad(" 4G", -CAIRN_ERR_INVAL, "expected a number");
	size_bad("-1", -CAIRN_ERR_INVAL, "negative");
	size_bad("1.", -CAIRN_ERR_INVAL, "digits after the decimal point");
	size_bad(".5k", -CAIRN_ERR_INVAL, "expected a number");
	size_bad("0.1", -CAIRN_ERR_INVAL, "whole number of bytes");
	size_bad("1.0000000000000000001G", -CAIRN_ERR_INVAL, "too many decimal digits");
	size_bad("0x", -CAIRN_ERR_INVAL, "hex digits");
	size_bad("0x1g", -CAIRN_ERR_INVAL, "invalid hex digit");
	size_bad("G", -CAIRN_ERR_INVAL, "expected a number");
	/* err may be NULL. */
	assert_int_equal(cairn_parse_size("bad", &(uint64_t){0}, NULL, 0), -CAIRN_ERR_INVAL);
}

static void
fmt_size(uint64_t v, const char *want)
{
	char buf[32];

	assert_int_equal(cairn_format_size(v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void
test_format_size(void **state)
{
	char small[4];

	fmt_size(0, "0 B");
	fmt_size(512, "512 B");
	fmt_size(1023, "1023 B");
	fmt_size(1024, "1 KiB");
	fmt_size(1536, "1.5 KiB");
	fmt_size(3ull << 29, "1.5 GiB");
	fmt_size(1ull << 40, "1 TiB");
	fmt_size((1ull << 20) - 1, "1.0 MiB"); /* 1023.999 KiB rounds up a unit */
	fmt_size(1363148, "1.3 MiB");
	fmt_size(UINT64_MAX, "16.0 EiB");
	assert_int_equal(cairn_format_size(1ull << 30, small, sizeof(small)), -CAIRN_ERR_TRUNC);
	/* Formatting then parsing an exact value gives it back. */
	for (int sh = 0; sh < 63; sh += 3) {
		char buf[32];
		uint64_t v = 3ull << sh;

		assert_int_equal(cairn_format_size(v, buf, sizeof(buf)), 0);
		if (strchr(buf, '.') == NULL) {
			char *sp = strchr(buf, ' ');

			memmove(sp, sp + 1, strlen(sp));
			assert_true(size_ok(buf) == v);
		}
	}
}

static void
test_durations(void **state)
{
	uint64_t ns = 1;
	char err[256], buf[32];

	assert_int_equal(cairn_parse_duration("10s", &ns, err, sizeof(err)), 0);
	assert_true(ns == 10000000000ull);
	assert_int_equal(cairn_parse_duration("500ms", &ns, err, sizeof(err)), 0);
	assert_true(ns == 500000000ull);
	assert_int_equal(cairn_parse_duration("1.5s", &ns, err, sizeof(err)), 0);
	assert_true(ns == 1500000000ull);
	assert_int_equal(cairn_parse_duration("250us", &ns, err, sizeof(err)), 0);
	assert_true(ns == 250000ull);
	assert_int_equal(cairn_parse_duration("7ns", &ns, err, sizeof(err)), 0);
	assert_true(ns == 7);
	assert_int_equal(cairn_parse_duration("2m", &ns, err, sizeof(err)), 0);
	assert_true(ns == 120000000000ull);
	assert_int_equal(cairn_parse_duration("1h", &ns, err, sizeof(err)), 0);
	assert_true(ns == 3600000000000ull);
	assert_int_equal(cairn_parse_duration("0", &ns, err, sizeof(err)), 0);
	assert_true(ns == 0);

	assert_int_equal(cairn_parse_duration("10", &ns, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "missing unit"));
	assert_int_equal(cairn_parse_duration("10d", &ns, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "unknown duration unit 'd'"));
	assert_int_equal(cairn_parse_duration("1.5ns", &ns, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "finer than a nanosecond"));
	assert_int_equal(cairn_parse_duration("6000000h", &ns, err, sizeof(err)),
			 -CAIRN_ERR_OVERFLOW);
	assert_int_equal(cairn_parse_duration("", &ns, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_parse_duration("-1s", &ns, err, sizeof(err)), -CAIRN_ERR_INVAL);

	assert_int_equal(cairn_format_duration(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0");
	assert_int_equal(cairn_format_duration(250, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "250ns");
	assert_int_equal(cairn_format_duration(1500, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1.5us");
	assert_int_equal(cairn_format_duration(20000000, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "20ms");
	assert_int_equal(cairn_format_duration(1200000000, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1.2s");
	assert_int_equal(cairn_format_duration(90000000000ull, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1.5m");
	assert_int_equal(cairn_format_duration(7200000000000ull, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2h");
}

static void
test_integers_and_bools(void **state)
{
	uint64_t u = 0;
	uint32_t u32 = 0;
	int64_t i = 0;
	bool b = false;
	char err[256];

	assert_int_equal(cairn_parse_u64("42", 0, 100, &u, err, sizeof(err)), 0);
	assert_true(u == 42);
	assert_int_equal(cairn_parse_u64("0xFF", 0, UINT64_MAX, &u, err, sizeof(err)), 0);
	assert_true(u == 255);
	assert_int_equal(
		cairn_parse_u64("18446744073709551615", 0, UINT64_MAX, &u, err, sizeof(err)), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(
		cairn_parse_u64("18446744073709551616", 0, UINT64_MAX, &u, err, sizeof(err)),
		-CAIRN_ERR_OVERFLOW);
	assert_int_equal(cairn_parse_u64("101", 0, 100, &u, err, sizeof(err)), -CAIRN_ERR_OVERFLOW);
	assert_non_null(strstr(err, "expected 0..100"));
	assert_int_equal(cairn_parse_u64("-1", 0, 100, &u, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_parse_u64("+1", 0, 100, &u, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_parse_u64(" 1", 0, 100, &u, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_parse_u64("1 ", 0, 100, &u, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "trailing characters"));
	assert_int_equal(cairn_parse_u64("", 0, 100, &u, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_parse_u32("4294967295", 0, UINT32_MAX, &u32, err, sizeof(err)), 0);
	assert_true(u32 == UINT32_MAX);
	assert_int_equal(cairn_parse_u32("4294967296", 0, UINT32_MAX, &u32, err, sizeof(err)),
			 -CAIRN_ERR_OVERFLOW);
	assert_int_equal(cairn_parse_u32("0", 1, 64, &u32, err, sizeof(err)), -CAIRN_ERR_OVERFLOW);

	assert_int_equal(
		cairn_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &i, err, sizeof(err)),
		0);
	assert_true(i == INT64_MIN);
	assert_int_equal(
		cairn_parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &i, err, sizeof(err)),
		0);
	assert_true(i == INT64_MAX);
	assert_int_equal(
		cairn_parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &i, err, sizeof(err)),
		-CAIRN_ERR_OVERFLOW);
	assert_int_equal(
		cairn_parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &i, err, sizeof(err)),
		-CAIRN_ERR_OVERFLOW);
	assert_int_equal(cairn_parse_i64("-5", -4, 4, &i, err, sizeof(err)), -CAIRN_ERR_OVERFLOW);
	assert_int_equal(cairn_parse_i64("-", -4, 4, &i, err, sizeof(err)), -CAIRN_ERR_INVAL);

	assert_int_equal(cairn_parse_bool("Yes", &b, err, sizeof(err)), 0);
	assert_true(b);
	assert_int_equal(cairn_parse_bool("off", &b, err, sizeof(err)), 0);
	assert_false(b);
	assert_int_equal(cairn_parse_bool("TRUE", &b, err, sizeof(err)), 0);
	assert_true(b);
	assert_int_equal(cairn_parse_bool("0", &b, err, sizeof(err)), 0);
	assert_false(b);
	assert_int_equal(cairn_parse_bool("maybe", &b, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "expected a boolean"));
	assert_int_equal(cairn_parse_bool(NULL, &b, err, sizeof(err)), -CAIRN_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_format_size),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_integers_and_bools),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
