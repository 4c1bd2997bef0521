/*
 * cairn-tgt app library: core mask / core list parsing, and the generic + bdev JSON-RPC
 * methods run in-process on a real runtime (handlers in ULTs on the system xstream, as in
 * cairn-tgt) through a real socket with the blocking client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cairn/errno.h>
#include "bdev/bdev.h"
#include "jsonrpc/jsonrpc.h"
#include "jsonrpc/jsonrpc_client.h"
#include "rt/rt.h"

#include "app_internal.h"
#include "tgt_app.h"

static void
test_core_mask(void **state)
{
	char list[128];
	unsigned n = 0;

	assert_int_equal(cairn_tgt_parse_core_mask("0x3", list, sizeof(list), &n), 0);
	assert_string_equal(list, "0,1");
	assert_int_equal(n, 2);
	assert_int_equal(cairn_tgt_parse_core_mask("5", list, sizeof(list), &n), 0);
	assert_string_equal(list, "0,2");
	assert_int_equal(cairn_tgt_parse_core_mask("0x8000000000000000", list, sizeof(list), &n),
			 0);
	assert_string_equal(list, "63");
	assert_int_equal(cairn_tgt_parse_core_mask("[0,2-3]", list, sizeof(list), &n), 0);
	assert_string_equal(list, "0,2-3");
	assert_int_equal(n, 3);
	assert_int_equal(cairn_tgt_parse_core_mask("0x0", list, sizeof(list), &n),
			 -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_tgt_parse_core_mask("zz", list, sizeof(list), &n),
			 -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_tgt_parse_core_mask("[]", list, sizeof(list), &n),
			 -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_tgt_parse_core_mask("0xffffffffffffffff", list, 8, &n),
			 -CAIRN_ERR_INVAL); /* does not fit the list buffer */
	assert_int_equal(cairn_tgt_parse_core_list("0-3,6", &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(cairn_tgt_parse_core_list("3-1", &n), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_tgt_parse_core_list("1,,2", &n), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_tgt_parse_core_list("1-", &n), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_tgt_parse_core_list("4096", &n), -CAIRN_ERR_INVAL);
}

/* ------------------------------------------------------------------ in-process server */

static struct cairn_jsonrpc_server *g_srv;
static struct cairn_poller *g_poller;
static char g_path[128];

static int
spawn(void (*fn)(void *arg), void *arg)
{
	struct cairn_ult_attr attr = { .prio = CAIRN_PRIO_GENERAL, .stack_size = 256 * 1024 };

	return cairn_ult_create(NULL, fn, arg, &attr, NULL);
}

static int
poll_fn(void *arg)
{
	return cairn_jsonrpc_server_poll(g_srv);
}

static void
start_ult(void *arg)
{
	struct cairn_jsonrpc_server_opts o;

	cairn_jsonrpc_server_opts_default(&o);
	o.unix_path = g_path;
	o.spawn = spawn;
	*(int *)arg = cairn_jsonrpc_server_start(&o, &g_srv);
	if (*(int *)arg == 0)
		g_poller = cairn_poller_register(poll_fn, NULL, 200, "test-jsonrpc");
}

static void
stop_ult(void *arg)
{
	cairn_poller_unregister(&g_poller);
	cairn_jsonrpc_server_stop(g_srv);
}

static int
setup(void **state)
{
	struct cairn_rt_opts ro;
	int rc = -1;

	snprintf(g_path, sizeof(g_path), "/tmp/cairn-tgt-ut-%d.sock", (int)getpid());
	cairn_rt_opts_default(&ro);
	ro.nr_main = 1;
	ro.pin = false;
	assert_int_equal(cairn_rt_init(&ro), 0);
	assert_int_equal(cairn_bdev_init(), 0);
	assert_int_equal(tgt_app_rpc_register(), 0);
	assert_int_equal(tgt_bdev_rpc_register(), 0);
	assert_int_equal(cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0), start_ult, &rc),
			 0);
	assert_int_equal(rc, 0);
	return 0;
}

static int
teardown(void **state)
{
	cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0), stop_ult, NULL);
	tgt_bdev_rpc_unregister();
	tgt_app_rpc_unregister();
	cairn_bdev_fini();
	cairn_rt_fini();
	return 0;
}

static json_t *
call(struct cairn_jsonrpc_client *cl, const char *method, const char *params)
{
	json_t *p = params ? json_loads(params, 0, NULL) : NULL, *resp = NULL;

	assert_int_equal(cairn_jsonrpc_client_call(cl, method, p, 10000, &resp), 0);
	json_decref(p);
	return resp;
}

static void
expect_ok(struct cairn_jsonrpc_client *cl, const char *method, const char *params)
{
	json_t *r = call(cl, method, params);

	if (json_object_get(r, "error"))
		fail_msg("%s failed: %s", method,
			 json_string_value(json_object_get(json_object_get(r, "error"), "message")));
	json_decref(r);
}

static void
expect_err(struct cairn_jsonrpc_client *cl, const char *method, const char *params, int code,
	   const char *substr)
{
	json_t *r = call(cl, method, params), *e = json_object_get(r, "error");
	const char *msg;

	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "code")), code);
	msg = json_string_value(json_object_get(e, "message"));
	if (substr && (msg == NULL || strstr(msg, substr) == NULL))
		fail_msg("%s: message '%s' lacks '%s'", method, msg, substr);
	json_decref(r);
}

static void
test_methods(void **state)
{
	struct cairn_jsonrpc_client *cl = NULL;
	json_t *r, *res;

	assert_int_equal(cairn_jsonrpc_client_connect(g_path, 5000, &cl), 0);
	r = call(cl, "bdev_malloc_create", "{\"num_blocks\":64,\"block_size\":512}");
	assert_string_equal(json_string_value(json_object_get(r, "result")), "Malloc0");
	json_decref(r);
	expect_ok(cl, "bdev_malloc_create", "{\"name\":\"M1\",\"num_blocks\":64,\"block_size\":4096,"
					    "\"uuid\":\"5f9c1c2e-2d6a-4f7e-9b3c-1a2b3c4d5e6f\"}");
	expect_err(cl, "bdev_malloc_create", "{\"name\":\"M2\",\"num_blocks\":64,\"block_size\":512,"
					     "\"uuid\":\"nope\"}",
		   CAIRN_JSONRPC_ERROR_INVALID_PARAMS, "param 'uuid'");
	expect_err(cl, "bdev_malloc_create", "{\"name\":\"M1\",\"num_blocks\":64,\"block_size\":512}",
		   -CAIRN_ERR_EXIST, "M1");
	expect_err(cl, "bdev_null_create", "{\"num_blocks\":64,\"block_size\":512}",
		   CAIRN_JSONRPC_ERROR_INVALID_PARAMS, "'name'");
	expect_ok(cl, "bdev_null_create", "{\"name\":\"N0\",\"num_blocks\":64,\"block_size\":512}");
	expect_err(cl, "bdev_error_create", "{\"base_name\":\"M1\",\"uuid\":\"bad\"}",
		   CAIRN_JSONRPC_ERROR_INVALID_PARAMS, "param 'uuid'");
	expect_ok(cl, "bdev_error_create", "{\"base_name\":\"M1\","
					   "\"uuid\":\"0c8d2a9e-7b1f-4e35-a6d4-93f0e1b2c3d4\"}");
	expect_ok(cl, "bdev_error_inject_error",
		  "{\"name\":\"EE_M1\",\"io_type\":\"read\",\"error_type\":\"failure\",\"num\":2}");
	expect_err(cl, "bdev_error_inject_error",
		   "{\"name\":\"EE_M1\",\"io_type\":\"bogus\",\"error_type\":\"failure\"}",
		   CAIRN_JSONRPC_ERROR_INVALID_PARAMS, "io_type");
	expect_err(cl, "bdev_uring_create", "{\"name\":\"U0\",\"filename\":\"/nonexistent/x\"}",
		   -2 /* -ENOENT */, "/nonexistent/x");

	r = call(cl, "bdev_get_bdevs", "{\"name\":\"M1\"}");
	res = json_array_get(json_object_get(r, "result"), 0);
	assert_int_equal(json_integer_value(json_object_get(res, "num_blocks")), 64);
	assert_string_equal(json_string_value(json_object_get(res, "uuid")),
			    "5f9c1c2e-2d6a-4f7e-9b3c-1a2b3c4d5e6f");
	json_decref(r);
	r = call(cl, "bdev_get_bdevs", NULL);
	assert_int_equal(json_array_size(json_object_get(r, "result")), 4);
	json_decref(r);
	expect_err(cl, "bdev_get_bdevs", "{\"name\":\"nope\"}", CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
		   "nope");
	r = call(cl, "bdev_get_iostat", NULL);
	assert_int_equal(json_array_size(json_object_get(json_object_get(r, "result"), "bdevs")), 4);
	json_decref(r);

	/* save_config lists the bdevs as replayable calls */
	r = call(cl, "save_config", NULL);
	res = json_object_get(json_object_get(r, "result"), "subsystems");
	assert_string_equal(json_string_value(json_object_get(json_array_get(res, 0), "subsystem")),
			    "bdev");
	assert_true(json_array_size(json_object_get(json_array_get(res, 0), "config")) >= 3);
	{
		/* the error bdev's uuid is saved, so a reload gives the same identity */
		json_t *cfg = json_object_get(json_array_get(res, 0), "config"), *c;
		const char *u = NULL;
		size_t i;

		json_array_foreach(cfg, i, c) {
			if (strcmp(json_string_value(json_object_get(c, "method")),
				   "bdev_error_create") == 0)
				u = json_string_value(json_object_get(json_object_get(c, "params"),
								      "uuid"));
		}
		assert_non_null(u);
		assert_string_equal(u, "0c8d2a9e-7b1f-4e35-a6d4-93f0e1b2c3d4");
	}
	json_decref(r);

	/* deletes wait for the bdev layer's callback in the handler's ULT */
	expect_ok(cl, "bdev_error_delete", "{\"name\":\"EE_M1\"}");
	expect_ok(cl, "bdev_malloc_delete", "{\"name\":\"M1\"}");
	expect_err(cl, "bdev_malloc_delete", "{\"name\":\"M1\"}", -CAIRN_ERR_NONEXIST, "M1");
	expect_ok(cl, "bdev_null_delete", "{\"name\":\"N0\"}");
	expect_ok(cl, "bdev_malloc_delete", "{\"name\":\"Malloc0\"}");
	r = call(cl, "bdev_get_bdevs", NULL);
	assert_int_equal(json_array_size(json_object_get(r, "result")), 0);
	json_decref(r);

	/* generic methods */
	r = call(cl, "rpc_get_methods", "{\"include_summary\":true}");
	assert_true(json_array_size(json_object_get(r, "result")) >= 20);
	json_decref(r);
	expect_ok(cl, "cairn_get_version", NULL);
	expect_err(cl, "cairn_get_version", "{\"x\":1}", CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
		   "unknown param 'x'");
	expect_ok(cl, "log_set_level", "{\"level\":\"ERR\",\"subsystem\":\"tgt\"}");
	expect_err(cl, "log_set_level", "{\"level\":\"ERR\",\"subsystem\":\"nope\"}",
		   CAIRN_JSONRPC_ERROR_INVALID_PARAMS, "subsystem");
	expect_ok(cl, "log_set_flag", "{\"flag\":\"all\"}");
	r = call(cl, "log_get_flags", NULL);
	assert_true(json_is_true(json_object_get(json_object_get(r, "result"), "iscsi")));
	json_decref(r);
	expect_ok(cl, "log_clear_flag", "{\"flag\":\"all\"}");
	r = call(cl, "log_get_flags", NULL);
	assert_true(json_is_false(json_object_get(json_object_get(r, "result"), "iscsi")));
	json_decref(r);
	expect_err(cl, "log_set_flag", "{\"flag\":\"nope\"}", CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
		   "flag");

	/* startup-only state check on a runtime method */
	cairn_jsonrpc_set_state(CAIRN_RPC_STARTUP);
	expect_err(cl, "save_config", NULL, CAIRN_JSONRPC_ERROR_INVALID_STATE, NULL);
	cairn_jsonrpc_set_state(CAIRN_RPC_RUNTIME);
	cairn_jsonrpc_client_close(cl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_mask),
		cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
