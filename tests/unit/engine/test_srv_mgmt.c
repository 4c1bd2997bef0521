/*
 * Unit tests of the engine's mgmt module through real dRPC: the module's handler table
 * served on the runtime's system xstream, called from this thread. Covers PING,
 * GET_INFO contents, SET_RANK validation (malformed body, bad fields, rank change refused,
 * network contexts started when a URI is set) and PREP_SHUTDOWN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cairn/errno.h>

#include "drpc/drpc.h"
#include "net/net.h"
#include "rt/module.h"
#include "rt/rt.h"

#include "engine_internal.h"
#include "mgmt.pb-c.h"

static char g_path[108];
static struct cairn_drpc_server *g_srv;
static struct cairn_drpc_client *g_cl;

static void
start_ult(void *arg)
{
	*(int *)arg = cairn_drpc_server_start(g_path, 0, &g_srv);
}

static void
stop_ult(void *arg)
{
	engine_net_stop();
	cairn_drpc_server_stop(g_srv, 1000000);
}

static int
setup(void **state)
{
	struct engine_info *info = engine_info();
	struct cairn_rt_opts o;
	int rc = -1;

	cairn_rt_opts_default(&o);
	o.nr_system = 1;
	o.nr_main = 2;
	o.pin = false;
	if (cairn_rt_init(&o))
		return -1;
	if (cairn_net_proto_register(&g_engine_mgmt_proto) ||
	    cairn_drpc_register(g_engine_mgmt_module.drpc_handlers))
		return -1;
	memset(info, 0, sizeof(*info));
	info->rank = -1;
	info->targets = 2;
	info->start_us = cairn_rt_now_us();
	/* A fabric port derived from the pid keeps parallel runs apart. */
	snprintf(info->uri, sizeof(info->uri), "tcp://127.0.0.1:%d", 20000 + getpid() % 12000);
	snprintf(g_path, sizeof(g_path), "/tmp/cairn-test-mgmt-%d.sock", (int)getpid());
	if (cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0), start_ult, &rc) || rc)
		return -1;
	return cairn_drpc_client_connect(g_path, 1000, &g_cl);
}

static int
teardown(void **state)
{
	cairn_drpc_client_close(g_cl);
	cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0), stop_ult, NULL);
	cairn_drpc_unregister(CAIRN_DRPC_MODULE_MGMT);
	cairn_net_proto_unregister(ENGINE_PROTO_MGMT);
	cairn_rt_fini();
	return 0;
}

static int
call(uint32_t method, const void *body, size_t len, struct cairn_drpc_response *r)
{
	int rc = cairn_drpc_client_call(g_cl, CAIRN_DRPC_MODULE_MGMT, method, body, len, 3000, r);

	assert_int_equal(rc, 0);
	return r->status;
}

static void
test_ping_and_info(void **state)
{
	Cairn__Mgmt__GetInfoResp *info;
	Cairn__Mgmt__PingResp *ping;
	struct cairn_drpc_response r;

	assert_int_equal(call(CAIRN_DRPC_MGMT_PING, NULL, 0, &r), 0);
	ping = cairn__mgmt__ping_resp__unpack(NULL, r.body_len, r.body);
	assert_non_null(ping);
	cairn__mgmt__ping_resp__free_unpacked(ping, NULL);
	cairn_drpc_response_release(&r);

	assert_int_equal(call(CAIRN_DRPC_MGMT_GET_INFO, NULL, 0, &r), 0);
	info = cairn__mgmt__get_info_resp__unpack(NULL, r.body_len, r.body);
	assert_non_null(info);
	assert_int_equal(info->rank, -1);
	assert_int_equal(info->targets, 2);
	assert_int_equal(info->pid, getpid());
	assert_int_equal(info->net_contexts, 0);
	assert_string_equal(info->uri, engine_info()->uri);
	/* the engine's module table, in load order */
	assert_int_equal(info->n_modules, 5);
	assert_string_equal(info->modules[0], "mgmt");
	assert_string_equal(info->modules[1], "vos");
	assert_string_equal(info->modules[2], "pool");
	assert_string_equal(info->modules[3], "cont");
	assert_string_equal(info->modules[4], "obj");
	cairn__mgmt__get_info_resp__free_unpacked(info, NULL);
	cairn_drpc_response_release(&r);
}

static size_t
pack_set_rank(uint32_t rank, const char *system, size_t uuid_len, uint8_t *buf)
{
	Cairn__Mgmt__SetRankReq req = CAIRN__MGMT__SET_RANK_REQ__INIT;
	static uint8_t uuid[16] = {1, 2, 3};

	req.rank = rank;
	req.system = (char *)system;
	req.system_uuid.data = uuid;
	req.system_uuid.len = uuid_len;
	return cairn__mgmt__set_rank_req__pack(&req, buf);
}

static void
test_set_rank(void **state)
{
	static const uint8_t garbage[] = {0x0a, 0xff, 0xff, 0xff};
	Cairn__Mgmt__GetInfoResp *info;
	struct cairn_drpc_response r;
	uint8_t buf[256];
	size_t len;

	assert_int_equal(call(CAIRN_DRPC_MGMT_SET_RANK, garbage, sizeof(garbage), &r),
	                 -CAIRN_ERR_PROTO);
	cairn_drpc_response_release(&r);
	len = pack_set_rank(1, "", 16, buf);
	assert_int_equal(call(CAIRN_DRPC_MGMT_SET_RANK, buf, len, &r), -CAIRN_ERR_INVAL);
	cairn_drpc_response_release(&r);
	len = pack_set_rank(1, "sys", 5, buf);
	assert_int_equal(call(CAIRN_DRPC_MGMT_SET_RANK, buf, len, &r), -CAIRN_ERR_INVAL);
	cairn_drpc_response_release(&r);
	len = pack_set_rank(1u << 20, "sys", 16, buf);
	assert_int_equal(call(CAIRN_DRPC_MGMT_SET_RANK, buf, len, &r), -CAIRN_ERR_INVAL);
	cairn_drpc_response_release(&r);
	assert_int_equal(engine_info()->rank, -1);

	len = pack_set_rank(3, "sys", 16, buf);
	assert_int_equal(call(CAIRN_DRPC_MGMT_SET_RANK, buf, len, &r), 0);
	cairn_drpc_response_release(&r);
	/* Same rank again: fine. Another rank: refused. */
	assert_int_equal(call(CAIRN_DRPC_MGMT_SET_RANK, buf, len, &r), 0);
	cairn_drpc_response_release(&r);
	len = pack_set_rank(4, "sys", 16, buf);
	assert_int_equal(call(CAIRN_DRPC_MGMT_SET_RANK, buf, len, &r), -CAIRN_ERR_BUSY);
	cairn_drpc_response_release(&r);

	assert_int_equal(call(CAIRN_DRPC_MGMT_GET_INFO, NULL, 0, &r), 0);
	info = cairn__mgmt__get_info_resp__unpack(NULL, r.body_len, r.body);
	assert_non_null(info);
	assert_int_equal(info->rank, 3);
	assert_string_equal(info->system, "sys");
	assert_int_equal(info->net_contexts, 3); /* system + 2 targets */
	cairn__mgmt__get_info_resp__free_unpacked(info, NULL);
	cairn_drpc_response_release(&r);
}

static void
test_prep_shutdown(void **state)
{
	struct cairn_drpc_response r;

	assert_int_equal(call(CAIRN_DRPC_MGMT_PREP_SHUTDOWN, NULL, 0, &r), 0);
	cairn_drpc_response_release(&r);
	assert_int_equal(engine_info()->state, ENGINE_STOPPING);
	assert_int_equal(call(42, NULL, 0, &r), -CAIRN_ERR_NOSYS);
	cairn_drpc_response_release(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ping_and_info),
	        cmocka_unit_test(test_set_rank),
	        cmocka_unit_test(test_prep_shutdown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
