/* Unit tests for src/common/errno.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cairn/errno.h"

static void
test_every_code_named(void **state)
{
	for (int e = CAIRN_ERR_BASE; e < CAIRN_ERR_LAST; e++) {
		const char *name = cairn_errname(-e);
		const char *desc = cairn_strerror(-e);

		assert_non_null(name);
		assert_non_null(desc);
		assert_true(strncmp(name, "CAIRN_ERR_", 10) == 0);
		assert_string_not_equal(desc, "unknown error");
		/* Sign does not matter. */
		assert_string_equal(cairn_errname(e), name);
		/* Names are unique. */
		for (int f = CAIRN_ERR_BASE; f < e; f++)
			assert_string_not_equal(cairn_errname(-f), name);
	}
	assert_string_equal(cairn_errname(-CAIRN_ERR_CSUM), "CAIRN_ERR_CSUM");
	assert_string_equal(cairn_errname(-CAIRN_ERR_NOSPACE), "CAIRN_ERR_NOSPACE");
	assert_string_equal(cairn_errname(-CAIRN_ERR_MISC), "CAIRN_ERR_MISC");
}

static void
test_errno_passthrough(void **state)
{
	assert_string_equal(cairn_errname(-ENOENT), "ENOENT");
	assert_string_equal(cairn_errname(-EIO), "EIO");
	assert_string_equal(cairn_strerror(-ENOENT), "No such file or directory");
	assert_string_equal(cairn_strerror(0), "success");
	assert_string_equal(cairn_errname(0), "OK");
}

static void
test_unknown(void **state)
{
	assert_string_equal(cairn_strerror(-CAIRN_ERR_LAST), "unknown error");
	assert_string_equal(cairn_errname(-CAIRN_ERR_LAST), "EUNKNOWN");
	assert_string_equal(cairn_strerror(-999), "unknown error");
	assert_string_equal(cairn_strerror(INT32_MIN), "unknown error");
	assert_string_equal(cairn_errname(INT32_MAX), "EUNKNOWN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code_named),
		cmocka_unit_test(test_errno_passthrough),
		cmocka_unit_test(test_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
