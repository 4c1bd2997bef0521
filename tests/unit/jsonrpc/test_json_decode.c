/* Unit tests for params decoding tables (src/jsonrpc/json_decode.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cairn/errno.h>
#include "jsonrpc/jsonrpc.h"

struct req {
	char *name;
	uint64_t num_blocks;
	uint32_t block_size;
	int32_t delta;
	uint16_t port;
	bool flag;
	double ratio;
	json_t *opts;
	json_t *list;
	int custom;
};

static int
decode_even(const json_t *v, void *out, char *err, size_t errlen)
{
	if (!json_is_integer(v) || json_integer_value(v) % 2) {
		snprintf(err, errlen, "must be an even integer");
		return -CAIRN_ERR_INVAL;
	}
	*(int *)out = (int)json_integer_value(v);
	return 0;
}

static const struct cairn_json_decoder g_dec[] = {
	{ "name", CAIRN_JSON_STRING, offsetof(struct req, name), false },
	{ "num_blocks", CAIRN_JSON_UINT64, offsetof(struct req, num_blocks), false },
	{ "block_size", CAIRN_JSON_UINT32, offsetof(struct req, block_size), true },
	{ "delta", CAIRN_JSON_INT32, offsetof(struct req, delta), true },
	{ "port", CAIRN_JSON_UINT16, offsetof(struct req, port), true },
	{ "flag", CAIRN_JSON_BOOL, offsetof(struct req, flag), true },
	{ "ratio", CAIRN_JSON_DOUBLE, offsetof(struct req, ratio), true },
	{ "opts", CAIRN_JSON_OBJECT, offsetof(struct req, opts), true },
	{ "list", CAIRN_JSON_ARRAY, offsetof(struct req, list), true },
	{ "even", CAIRN_JSON_CUSTOM, offsetof(struct req, custom), true, decode_even },
};
#define NDEC (sizeof(g_dec) / sizeof(g_dec[0]))

static int
decode(const char *text, struct req *r, char *err, size_t errlen)
{
	json_t *p = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	int rc;

	assert_non_null(p);
	memset(r, 0, sizeof(*r));
	r->block_size = 512;
	rc = cairn_json_decode_object(p, g_dec, NDEC, r, err, errlen);
	json_decref(p);
	return rc;
}

static void
test_ok(void **state)
{
	struct req r;
	char err[256];

	assert_int_equal(decode("{\"name\":\"M0\",\"num_blocks\":9223372036854775807,"
				"\"delta\":-5,\"port\":3260,\"flag\":true,\"ratio\":1,"
				"\"opts\":{\"a\":1},\"list\":[1],\"even\":4}",
				&r, err, sizeof(err)), 0);
	assert_string_equal(r.name, "M0");
	assert_true(r.num_blocks == INT64_MAX);
	assert_int_equal(r.block_size, 512); /* optional, default kept */
	assert_int_equal(r.delta, -5);
	assert_int_equal(r.port, 3260);
	assert_true(r.flag);
	assert_true(r.ratio == 1.0);
	assert_true(json_is_object(r.opts));
	assert_int_equal(json_array_size(r.list), 1);
	assert_int_equal(r.custom, 4);
	cairn_json_decode_free(g_dec, NDEC, &r);
	assert_null(r.name);
	assert_null(r.opts);
}

static void
expect_err(const char *text, const char *msg)
{
	struct req r;
	char err[256];

	assert_int_equal(decode(text, &r, err, sizeof(err)), -CAIRN_ERR_INVAL);
	if (strstr(err, msg) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, msg);
	/* Nothing leaked or left dangling on failure. */
	assert_null(r.name);
	assert_null(r.opts);
	assert_null(r.list);
}

static void
test_errors(void **state)
{
	expect_err("{\"num_blocks\":1}", "missing required param 'name'");
	expect_err("{\"name\":\"a\",\"num_blocks\":1,\"bogus\":1}", "unknown param 'bogus'");
	expect_err("{\"name\":1,\"num_blocks\":1}", "param 'name': expected a string, got integer");
	expect_err("{\"name\":\"a\",\"num_blocks\":-1}", "param 'num_blocks': value out of range");
	expect_err("{\"name\":\"a\",\"num_blocks\":1,\"block_size\":4294967296}",
		   "param 'block_size': value out of range");
	expect_err("{\"name\":\"a\",\"num_blocks\":1,\"port\":65536}", "param 'port'");
	expect_err("{\"name\":\"a\",\"num_blocks\":1,\"delta\":2147483648}", "param 'delta'");
	expect_err("{\"name\":\"a\",\"num_blocks\":1,\"flag\":1}",
		   "param 'flag': expected a boolean, got integer");
	expect_err("{\"name\":\"a\",\"num_blocks\":1.5}", "param 'num_blocks'");
	expect_err("{\"name\":\"a\",\"num_blocks\":1,\"opts\":[]}",
		   "param 'opts': expected an object, got array");
	expect_err("{\"name\":\"a\",\"num_blocks\":1,\"even\":3}",
		   "param 'even': must be an even integer");
	expect_err("{\"name\":\"a\\u0000b\",\"num_blocks\":1}", "NUL");
	expect_err("[1,2]", "params: expected an object, got array");
}

static void
test_null_params(void **state)
{
	static const struct cairn_json_decoder opt[] = {
		{ "x", CAIRN_JSON_INT32, 0, true },
	};
	int32_t x = 7;
	char err[64];

	assert_int_equal(cairn_json_decode_object(NULL, opt, 1, &x, err, sizeof(err)), 0);
	assert_int_equal(x, 7);
	assert_int_equal(cairn_json_decode_object(NULL, g_dec, 1, &x, err, sizeof(err)),
			 -CAIRN_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_null_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
