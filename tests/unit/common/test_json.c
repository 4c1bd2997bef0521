/* Unit tests for src/common/json.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "common/json.h"

static void
test_print(void **state)
{
	json_t *j = json_pack("{s:i, s:s, s:[i,i]}", "b", 1, "a", "x", "c", 1, 2);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(j);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(cairn_json_print(f, j, false), 0);
	fclose(f);
	assert_string_equal(buf, "{\"b\":1,\"a\":\"x\",\"c\":[1,2]}\n"); /* insertion order */
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_int_equal(cairn_json_print(f, j, true), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\n  \"a\": \"x\""));
	free(buf);
	assert_int_equal(cairn_json_print(NULL, j, false), -CAIRN_ERR_INVAL);
	json_decref(j);
}

static void
test_getters(void **state)
{
	json_error_t jerr;
	json_t *j = json_loads("{\"size\": 4096, \"neg\": -3, \"big\": 70000, \"name\": \"m0\","
			       " \"on\": true, \"nul\": null, \"f\": 1.5}",
			       0, &jerr);
	uint64_t u = 7;
	uint32_t u32 = 9;
	bool b = false;
	const char *s = NULL;
	char err[256];

	assert_non_null(j);
	assert_int_equal(cairn_json_get_u64(j, "size", true, 1, 8192, &u, err, sizeof(err)), 0);
	assert_true(u == 4096);
	assert_int_equal(cairn_json_get_u64(j, "size", true, 1, 100, &u, err, sizeof(err)),
			 -CAIRN_ERR_OVERFLOW);
	assert_non_null(strstr(err, "key 'size': 4096 is out of range, expected 1..100"));
	assert_int_equal(cairn_json_get_u64(j, "neg", true, 0, 10, &u, err, sizeof(err)),
			 -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "expected an unsigned integer"));
	assert_int_equal(cairn_json_get_u64(j, "f", true, 0, 10, &u, err, sizeof(err)),
			 -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_json_get_u64(j, "missing", true, 0, 10, &u, err, sizeof(err)),
			 -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "key 'missing': missing"));
	u = 5;
	assert_int_equal(cairn_json_get_u64(j, "missing", false, 0, 10, &u, err, sizeof(err)), 0);
	assert_true(u == 5); /* default kept */
	assert_int_equal(cairn_json_get_u64(j, "nul", false, 0, 10, &u, err, sizeof(err)), 0);
	assert_true(u == 5);

	assert_int_equal(cairn_json_get_u32(j, "big", true, 0, UINT16_MAX, &u32, err, sizeof(err)),
			 -CAIRN_ERR_OVERFLOW);
	assert_int_equal(cairn_json_get_u32(j, "big", true, 0, UINT32_MAX, &u32, err, sizeof(err)),
			 0);
	assert_int_equal(u32, 70000);
	u32 = 3;
	assert_int_equal(cairn_json_get_u32(j, "absent", false, 0, 10, &u32, err, sizeof(err)), 0);
	assert_int_equal(u32, 3);

	assert_int_equal(cairn_json_get_bool(j, "on", true, &b, err, sizeof(err)), 0);
	assert_true(b);
	assert_int_equal(cairn_json_get_bool(j, "size", true, &b, err, sizeof(err)),
			 -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_json_get_str(j, "name", true, 8, &s, err, sizeof(err)), 0);
	assert_string_equal(s, "m0");
	assert_int_equal(cairn_json_get_str(j, "name", true, 1, &s, err, sizeof(err)),
			 -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "too long"));
	assert_int_equal(cairn_json_get_str(j, "size", true, 0, &s, err, sizeof(err)),
			 -CAIRN_ERR_INVAL);
	json_decref(j);

	j = json_array();
	assert_int_equal(cairn_json_get_u64(j, "size", false, 0, 1, &u, err, sizeof(err)),
			 -CAIRN_ERR_INVAL);
	json_decref(j);

	j = json_pack("{s:s#}", "name", "a\0b", (size_t)3);
	assert_non_null(j);
	assert_int_equal(cairn_json_get_str(j, "name", true, 0, &s, err, sizeof(err)),
			 -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "NUL"));
	json_decref(j);
}

static void
test_check_keys(void **state)
{
	static const char *const allowed[] = {"name", "size", NULL};
	json_t *j = json_pack("{s:s, s:i}", "name", "x", "size", 1);
	char err[256];

	assert_int_equal(cairn_json_check_keys(j, allowed, err, sizeof(err)), 0);
	json_object_set_new(j, "sise", json_integer(2));
	assert_int_equal(cairn_json_check_keys(j, allowed, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_string_equal(err, "unknown key 'sise', expected one of: name, size");
	json_decref(j);
	assert_int_equal(cairn_json_check_keys(NULL, allowed, err, sizeof(err)), -CAIRN_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_check_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
