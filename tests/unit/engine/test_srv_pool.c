/*
 * Unit tests of the engine's vos, pool and cont modules on the real runtime, with real
 * uring bdevs on files in a temporary storage dir: pool create (shard files on every
 * target), label rules, lookups by label and UUID, the metadata store surviving a module
 * restart (what an engine restart does), orphan shards removed, destroy, handles
 * refusing destroy unless forced, and the dRPC JSON methods' input validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <cairn/errno.h>

#include "drpc/drpc.h"
#include "engine/srv_api.h"
#include "rt/module.h"
#include "rt/rt.h"

#include "engine_internal.h"
#include "srv_internal.h"
#include "srv_pool.h"
#include "engine_test.h"

static int
setup(void **state)
{
	return engine_test_start("pool");
}

static int
teardown(void **state)
{
	return engine_test_stop();
}

struct op {
	const char *label;
	uint64_t size;
	bool force;
	int rc;
	char err[256];
	struct srv_pool *p;
	char uuid[CAIRN_UUID_STR_LEN];
};

static void
create_ult(void *arg)
{
	struct op *op = arg;

	op->rc = srv_pool_create(op->label, op->size, &op->p, op->err, sizeof(op->err));
	if (op->rc == 0)
		cairn_uuid_unparse(&op->p->uuid, op->uuid);
}

static void
destroy_ult(void *arg)
{
	struct op *op = arg;

	op->p = srv_pool_lookup(op->label);
	op->rc = op->p ? srv_pool_destroy(op->p, op->force, op->err, sizeof(op->err))
	               : -CAIRN_ERR_NONEXIST;
}

static void
lookup_ult(void *arg)
{
	struct op *op = arg;

	op->p = srv_pool_lookup(op->label);
	if (op->p)
		cairn_uuid_unparse(&op->p->uuid, op->uuid);
}

static int
pool_create(const char *label, uint64_t size, struct op *op)
{
	memset(op, 0, sizeof(*op));
	op->label = label;
	op->size = size;
	assert_int_equal(cairn_rt_run_sync(sys_xs(), create_ult, op), 0);
	return op->rc;
}

static bool
shard_exists(const char *uuid, unsigned tgt)
{
	return tgt_test_has_shard(g_dir, tgt, uuid);
}

static void
test_create_lookup_destroy(void **state)
{
	struct op op, q;

	assert_int_equal(pool_create("alpha", 32u << 20, &op), 0);
	assert_true(shard_exists(op.uuid, 0));
	assert_true(shard_exists(op.uuid, 1));
	assert_int_equal(op.p->nr_targets, 2);
	assert_int_equal(op.p->map_version, 1);
	/* an engine alone (no membership table): the pool is on its own rank */
	assert_int_equal(op.p->nr_ranks, 1);
	assert_int_equal(op.p->ranks[0].nr_targets, 2);
	assert_int_equal(op.p->ranks[0].down, 0);

	/* by label and by uuid */
	memset(&q, 0, sizeof(q));
	q.label = "alpha";
	cairn_rt_run_sync(sys_xs(), lookup_ult, &q);
	assert_non_null(q.p);
	q.label = op.uuid;
	cairn_rt_run_sync(sys_xs(), lookup_ult, &q);
	assert_non_null(q.p);
	assert_string_equal(q.p->label, "alpha");

	/* destroy removes the record and the shards */
	memset(&q, 0, sizeof(q));
	q.label = "alpha";
	cairn_rt_run_sync(sys_xs(), destroy_ult, &q);
	assert_int_equal(q.rc, 0);
	assert_false(shard_exists(op.uuid, 0));
	assert_false(shard_exists(op.uuid, 1));
	cairn_rt_run_sync(sys_xs(), lookup_ult, &q);
	assert_null(q.p);
}

static void
test_bad_input(void **state)
{
	struct op op;

	assert_int_equal(pool_create("", 32u << 20, &op), -CAIRN_ERR_INVAL);
	assert_int_equal(pool_create("has space", 32u << 20, &op), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(op.err, "character"));
	assert_int_equal(pool_create("0f8fad5b-d9cb-469f-a165-70867728950e", 32u << 20, &op),
	                 -CAIRN_ERR_INVAL);
	assert_int_equal(pool_create("a234567890123456789012345678901234567890123456789012345678901234",
	                             32u << 20, &op),
	                 -CAIRN_ERR_INVAL);
	assert_int_equal(pool_create("small", 1u << 20, &op), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(op.err, "16M"));
	assert_int_equal(pool_create("dup", 16u << 20, &op), 0);
	assert_int_equal(pool_create("dup", 16u << 20, &op), -CAIRN_ERR_EXIST);
	assert_non_null(strstr(op.err, "exists"));
	memset(&op, 0, sizeof(op));
	op.label = "dup";
	cairn_rt_run_sync(sys_xs(), destroy_ult, &op);
	assert_int_equal(op.rc, 0);
}

static void
handle_ult(void *arg)
{
	struct op *op = arg;
	uint64_t cookie;

	op->p = srv_pool_lookup(op->label);
	op->rc = srv_pool_handle_add(op->p, &cookie);
	if (op->rc)
		return;
	op->rc = srv_pool_destroy(op->p, false, op->err, sizeof(op->err));
	if (op->rc != -CAIRN_ERR_BUSY) {
		op->rc = -CAIRN_ERR_MISC;
		return;
	}
	assert_true(srv_pool_handle_valid(op->p, cookie));
	assert_false(srv_pool_handle_valid(op->p, cookie + 2));
	op->rc = srv_pool_destroy(op->p, true, op->err, sizeof(op->err));
}

static void
test_in_use(void **state)
{
	struct op op;

	assert_int_equal(pool_create("busy", 16u << 20, &op), 0);
	op.label = "busy";
	cairn_rt_run_sync(sys_xs(), handle_ult, &op);
	assert_int_equal(op.rc, 0);
	assert_false(shard_exists(op.uuid, 0));
}

static void
forget_ult(void *arg)
{
	struct op *op = arg;

	op->rc = srv_md_del(SRV_MD_POOLS, op->p->uuid.b, 16);
}

static void
test_restart_keeps_pools(void **state)
{
	struct op op, q, orph;
	char uuid[CAIRN_UUID_STR_LEN];

	assert_int_equal(pool_create("keep", 16u << 20, &op), 0);
	snprintf(uuid, sizeof(uuid), "%s", op.uuid);
	/* shards whose record is gone (a create or destroy cut short) are removed at start */
	assert_int_equal(pool_create("orphan", 16u << 20, &orph), 0);
	assert_int_equal(cairn_rt_run_sync(sys_xs(), forget_ult, &orph), 0);
	assert_int_equal(orph.rc, 0);
	assert_true(shard_exists(orph.uuid, 1));
	modules_stop();
	assert_int_equal(modules_start(), 0);
	assert_false(shard_exists(orph.uuid, 0));
	assert_false(shard_exists(orph.uuid, 1));
	memset(&q, 0, sizeof(q));
	q.label = "keep";
	cairn_rt_run_sync(sys_xs(), lookup_ult, &q);
	assert_non_null(q.p);
	assert_string_equal(q.uuid, uuid);
	assert_true(shard_exists(uuid, 1));
	q.label = "keep";
	cairn_rt_run_sync(sys_xs(), destroy_ult, &q);
	assert_int_equal(q.rc, 0);
	/* and a destroyed pool stays destroyed */
	modules_stop();
	assert_int_equal(modules_start(), 0);
	cairn_rt_run_sync(sys_xs(), lookup_ult, &q);
	assert_null(q.p);
}

/* The dRPC JSON methods validate their bodies. */
static void
drpc_ult(void *arg)
{
	const struct cairn_drpc_handler_table *t = g_pool_srv_module.drpc_handlers;
	struct cairn_drpc_call call = {.module = CAIRN_DRPC_MODULE_POOL};
	static const char *const bad[] = {
	        "not json", "[1,2]", "{\"label\":\"x\"}", "{\"label\":5,\"size\":33554432}",
	        "{\"label\":\"x\",\"size\":33554432,\"extra\":1}", "{\"label\":\"x\",\"size\":-1}",
	        /* ranks: an array of 1..16 distinct joined rank numbers */
	        "{\"label\":\"x\",\"size\":33554432,\"ranks\":[]}",
	        "{\"label\":\"x\",\"size\":33554432,\"ranks\":\"0\"}",
	        "{\"label\":\"x\",\"size\":33554432,\"ranks\":[-1]}",
	        "{\"label\":\"x\",\"size\":33554432,\"ranks\":[0,0]}",
	        "{\"label\":\"x\",\"size\":33554432,\"ranks\":[0,3]}",
	        ("{\"label\":\"x\",\"size\":33554432,\"ranks\":[0,1,2,3,4,5,6,7,8,9,10,11,12,"
	         "13,14,15,16]}"),
	};
	uint8_t *body = NULL;
	size_t len = 0, i;
	int *rc = arg;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		call.method = SRV_DRPC_POOL_CREATE;
		call.body = (const uint8_t *)bad[i];
		call.body_len = strlen(bad[i]);
		*rc = t->methods[0].handler(&call, &body, &len);
		free(body);
		body = NULL;
		if (*rc == 0) {
			*rc = -CAIRN_ERR_MISC; /* accepted a bad body */
			return;
		}
	}
	call.body = (const uint8_t *)"{\"pool\":\"nosuch\"}";
	call.body_len = strlen((const char *)call.body);
	*rc = t->methods[3].handler(&call, &body, &len);
	if (*rc == -CAIRN_ERR_NONEXIST && body && strstr((char *)body, "no pool 'nosuch'"))
		*rc = 0;
	else
		*rc = -CAIRN_ERR_MISC;
	free(body);
}

static void
test_drpc_validation(void **state)
{
	int rc = -1;

	assert_int_equal(cairn_rt_run_sync(sys_xs(), drpc_ult, &rc), 0);
	assert_int_equal(rc, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_create_lookup_destroy),
	        cmocka_unit_test(test_bad_input),
	        cmocka_unit_test(test_in_use),
	        cmocka_unit_test(test_restart_keeps_pools),
	        cmocka_unit_test(test_drpc_validation),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
