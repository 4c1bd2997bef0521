/* Unit tests for the streaming JSON writer (src/jsonrpc/json_write.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cairn/errno.h>
#include "jsonrpc/jsonrpc.h"

static char *
finish(struct cairn_json_write_ctx *w)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(cairn_json_write_end(w, &out, &len), 0);
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

static void
test_compact_object(void **state)
{
	struct cairn_json_write_ctx *w = cairn_json_write_begin(0);
	char *s;

	assert_non_null(w);
	cairn_json_write_object_begin(w);
	cairn_json_write_named_string(w, "name", "Malloc0");
	cairn_json_write_named_uint64(w, "num_blocks", UINT64_MAX);
	cairn_json_write_named_int64(w, "neg", INT64_MIN);
	cairn_json_write_named_bool(w, "ok", true);
	cairn_json_write_named_null(w, "none");
	cairn_json_write_named_double(w, "ratio", 2.0);
	cairn_json_write_named_array_begin(w, "list");
	cairn_json_write_int64(w, 1);
	cairn_json_write_string_fmt(w, "x%d", 2);
	cairn_json_write_object_begin(w);
	cairn_json_write_object_end(w);
	cairn_json_write_array_end(w);
	cairn_json_write_object_end(w);
	s = finish(w);
	assert_string_equal(s, "{\"name\":\"Malloc0\",\"num_blocks\":18446744073709551615,"
			       "\"neg\":-9223372036854775808,\"ok\":true,\"none\":null,"
			       "\"ratio\":2.0,\"list\":[1,\"x2\",{}]}");
	free(s);
}

static void
test_escapes_roundtrip(void **state)
{
	struct cairn_json_write_ctx *w = cairn_json_write_begin(0);
	const char *in = "q\"b\\s/\n\r\t\b\f\x01\x1f\xc3\xa9";
	json_error_t err;
	json_t *v;
	char *s;

	cairn_json_write_array_begin(w);
	cairn_json_write_string(w, in);
	cairn_json_write_array_end(w);
	s = finish(w);
	v = json_loads(s, 0, &err);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_array_get(v, 0)), in);
	json_decref(v);
	free(s);
}

static void
test_invalid_utf8(void **state)
{
	struct cairn_json_write_ctx *w = cairn_json_write_begin(0);
	json_t *v;
	char *s;

	/* lone continuation, truncated sequence, overlong, surrogate, valid 4-byte */
	cairn_json_write_string(w, "a\x80" "b\xc3\xe2\x82\xc0\xaf\xed\xa0\x80\xf0\x9f\x98\x80");
	s = finish(w);
	v = json_loads(s, JSON_DECODE_ANY, NULL);
	assert_non_null(v);
	assert_non_null(strstr(json_string_value(v), "\xf0\x9f\x98\x80"));
	assert_non_null(strstr(s, "a\\ufffdb"));
	json_decref(v);
	free(s);
}

static void
test_pretty(void **state)
{
	struct cairn_json_write_ctx *w = cairn_json_write_begin(2);
	char *s;

	cairn_json_write_object_begin(w);
	cairn_json_write_named_array_begin(w, "a");
	cairn_json_write_int64(w, 1);
	cairn_json_write_array_end(w);
	cairn_json_write_object_end(w);
	s = finish(w);
	assert_string_equal(s, "{\n  \"a\": [\n    1\n  ]\n}");
	free(s);
}

static void
test_misuse(void **state)
{
	struct cairn_json_write_ctx *w;
	char *s = NULL;

	/* value without a name inside an object */
	w = cairn_json_write_begin(0);
	cairn_json_write_object_begin(w);
	assert_int_equal(cairn_json_write_int64(w, 1), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_json_write_end(w, &s, NULL), -CAIRN_ERR_INVAL);
	assert_null(s);
	/* unbalanced */
	w = cairn_json_write_begin(0);
	cairn_json_write_array_begin(w);
	assert_int_equal(cairn_json_write_end(w, &s, NULL), -CAIRN_ERR_INVAL);
	/* wrong closer */
	w = cairn_json_write_begin(0);
	cairn_json_write_array_begin(w);
	assert_int_equal(cairn_json_write_object_end(w), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_json_write_end(w, &s, NULL), -CAIRN_ERR_INVAL);
	/* two top-level values */
	w = cairn_json_write_begin(0);
	cairn_json_write_int64(w, 1);
	assert_int_equal(cairn_json_write_int64(w, 2), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_json_write_end(w, &s, NULL), -CAIRN_ERR_INVAL);
	/* name outside an object */
	w = cairn_json_write_begin(0);
	assert_int_equal(cairn_json_write_name(w, "x"), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_json_write_end(w, NULL, NULL), -CAIRN_ERR_INVAL);
	/* empty */
	w = cairn_json_write_begin(0);
	assert_int_equal(cairn_json_write_end(w, &s, NULL), -CAIRN_ERR_INVAL);
}

static void
test_write_json_value(void **state)
{
	struct cairn_json_write_ctx *w = cairn_json_write_begin(0);
	json_t *v = json_loads("{\"a\":[1,2.5,\"s\",null,true,false,{\"b\":{}}]}", 0, NULL);
	json_t *back;
	char *s;

	assert_non_null(v);
	cairn_json_write_json(w, v);
	s = finish(w);
	back = json_loads(s, 0, NULL);
	assert_non_null(back);
	assert_true(json_equal(v, back));
	json_decref(v);
	json_decref(back);
	free(s);
}

static void
test_large_and_deep(void **state)
{
	struct cairn_json_write_ctx *w = cairn_json_write_begin(0);
	int i;
	char *s;
	size_t len;

	cairn_json_write_array_begin(w);
	for (i = 0; i < 100000; i++)
		cairn_json_write_int64(w, i);
	cairn_json_write_array_end(w);
	assert_int_equal(cairn_json_write_end(w, &s, &len), 0);
	assert_true(len > 500000);
	free(s);

	w = cairn_json_write_begin(0);
	for (i = 0; i < 200; i++)
		cairn_json_write_array_begin(w);
	assert_int_equal(cairn_json_write_end(w, &s, &len), -CAIRN_ERR_OVERFLOW);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compact_object),
		cmocka_unit_test(test_escapes_roundtrip),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_pretty),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_write_json_value),
		cmocka_unit_test(test_large_and_deep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
