/*
 * The "net" YAML section: values, units, defaults kept, precise errors, JSON round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "cairn/errno.h"
#include "common/log.h"
#include "net/net.h"

static int
load(const char *text, struct cairn_net_ctx_opts *o, char *err)
{
	return cairn_net_opts_from_yaml("net.yaml", text, strlen(text), o, err, 256);
}

static void
test_values(void **state)
{
	struct cairn_net_ctx_opts o;
	char err[256] = "";

	cairn_net_ctx_opts_default(&o);
	assert_int_equal(load("max_msg: 64k\ncredits: 8\ntimeout: 500ms\nbackoff_max: 2s\n"
	                      "rx_stall: 3s\n",
	                      &o, err),
	                 0);
	assert_int_equal(o.max_msg, 64 * 1024);
	assert_int_equal(o.credits, 8);
	assert_true(o.timeout_us == 500 * 1000);
	assert_true(o.backoff_max_us == 2 * 1000 * 1000);
	assert_true(o.rx_stall_us == 3 * 1000 * 1000);
	/* Untouched keys keep their defaults. */
	assert_int_equal(o.max_conns, 1024);
	assert_true(o.backoff_min_us == 1000);
	assert_true(o.spin_hint_us == 200);
}

static void
test_errors(void **state)
{
	struct cairn_net_ctx_opts o;
	char err[256] = "";

	cairn_log_set_mask("FATAL");
	cairn_net_ctx_opts_default(&o);
	assert_int_equal(load("credits: 4\ncredits: 0\n", &o, err), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "net.yaml:"));
	assert_int_equal(load("credits: 0\n", &o, err), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "net.yaml:1"));
	assert_non_null(strstr(err, "credits"));
	assert_int_equal(load("timeout: 5s\ncredit: 3\n", &o, err), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "net.yaml:2"));
	assert_int_equal(load("max_msg: 1G\n", &o, err), -CAIRN_ERR_INVAL);
	assert_int_equal(load("timeout: soon\n", &o, err), -CAIRN_ERR_INVAL);
	assert_int_equal(load("backoff_min: 2s\nbackoff_max: 1s\n", &o, err), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "backoff_max"));
	/* Failed loads leave the options usable and unchanged. */
	cairn_net_ctx_opts_default(&o);
	assert_int_not_equal(load("credits: 9\nbogus: 1\n", &o, err), 0);
	assert_int_equal(o.credits, 256);
	cairn_log_set_mask("ERR");
}

static void
test_json_round_trip(void **state)
{
	struct cairn_net_ctx_opts a, b;
	char err[256] = "";
	json_t *j;
	char *text;

	cairn_net_ctx_opts_default(&a);
	a.credits = 17;
	a.timeout_us = 1234000;
	a.max_msg = 3u << 20;
	j = cairn_net_opts_to_json(&a);
	assert_non_null(j);
	text = json_dumps(j, JSON_COMPACT);
	assert_non_null(text);
	cairn_net_ctx_opts_default(&b);
	assert_int_equal(cairn_net_opts_from_yaml("dump", text, strlen(text), &b, err, sizeof(err)),
	                 0);
	assert_int_equal(b.credits, 17);
	assert_true(b.timeout_us == 1234000);
	assert_int_equal(b.max_msg, 3u << 20);
	free(text);
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_values),
	        cmocka_unit_test(test_errors),
	        cmocka_unit_test(test_json_round_trip),
	};

	cairn_log_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
