/*
 * Unit tests of pool ACLs/properties (srv_pool_prop.c) and container attributes and
 * snapshots (srv_cont_prop.c) on the real runtime with uring bdevs in a temp dir: the
 * default ACL, connect checks, the dRPC methods (validation leaves the ACL unchanged,
 * rename, owner change), everything surviving a module restart (what an engine restart
 * does), attribute and snapshot bounds, snapshots pinned on every target, and records
 * dropped with their container.
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
#include "engine/proto.h"
#include "engine/srv_api.h"
#include "rt/module.h"
#include "rt/rt.h"
#include "vos/vos.h"

#include "engine_internal.h"
#include "srv_acl.h"
#include "srv_cont_prop.h"
#include "srv_internal.h"
#include "srv_pool.h"
#include "engine_test.h"

static int
setup(void **state)
{
	return engine_test_start("pprop");
}

static int
teardown(void **state)
{
	return engine_test_stop();
}

/* ------------------------------------------------------------------ helpers (ULTs) */

struct call {
	uint32_t method;
	const char *body;
	int rc;
	char reply[2048];
};

static void
drpc_ult(void *arg)
{
	const struct cairn_drpc_handler_table *t = g_pool_srv_module.drpc_handlers;
	struct cairn_drpc_call c = {.module = CAIRN_DRPC_MODULE_POOL};
	struct call *a = arg;
	uint8_t *body = NULL;
	size_t len = 0, i;

	c.method = a->method;
	c.body = (const uint8_t *)a->body;
	c.body_len = strlen(a->body);
	a->rc = -CAIRN_ERR_NOSYS;
	for (i = 0; i < t->nr_methods; i++)
		if (t->methods[i].method == a->method)
			a->rc = t->methods[i].handler(&c, &body, &len);
	snprintf(a->reply, sizeof(a->reply), "%.*s", (int)len, body ? (char *)body : "");
	free(body);
}

static int
drpc(uint32_t method, const char *body, char *reply, size_t rlen)
{
	struct call a = {.method = method, .body = body};

	assert_int_equal(cairn_rt_run_sync(sys_xs(), drpc_ult, &a), 0);
	if (reply)
		snprintf(reply, rlen, "%s", a.reply);
	return a.rc;
}

struct pop {
	const char *label;
	uint32_t flags;
	const char *user, *groups;
	struct srv_pool *p;
	uint32_t perms;
	int rc;
	char err[256];
};

static void
create_ult(void *arg)
{
	struct pop *o = arg;

	o->rc = srv_pool_create(o->label, 16 << 20, &o->p, o->err, sizeof(o->err));
}

static void
check_ult(void *arg)
{
	struct pop *o = arg;

	o->p = srv_pool_lookup(o->label);
	o->rc = o->p ? srv_pool_connect_check(o->p, o->flags, o->user, o->groups, &o->perms)
	             : -CAIRN_ERR_NONEXIST;
}

static int
check(const char *label, uint32_t flags, const char *user, const char *groups)
{
	struct pop o = {.label = label, .flags = flags, .user = user, .groups = groups};

	assert_int_equal(cairn_rt_run_sync(sys_xs(), check_ult, &o), 0);
	return o.rc;
}

/* The engine's own user (the default owner). */
static const char *
me(void)
{
	static char name[64];
	char reply[2048], *p, *q;

	assert_int_equal(drpc(SRV_DRPC_POOL_GET_ACL, "{\"pool\":\"p1\"}", reply, sizeof(reply)),
	                 0);
	p = strstr(reply, "\"owner\":\"");
	assert_non_null(p);
	p += 9;
	q = strchr(p, '@');
	assert_non_null(q);
	snprintf(name, sizeof(name), "%.*s", (int)(q - p), p);
	return name;
}

/* ------------------------------------------------------------------ pool ACLs */

static void
test_pool_acl(void **state)
{
	struct pop o = {.label = "p1"};
	char reply[2048], body[256];
	const char *u;

	assert_int_equal(cairn_rt_run_sync(sys_xs(), create_ult, &o), 0);
	assert_int_equal(o.rc, 0);
	u = me();
	/* default: owner all, members of the owner group rw, others nothing */
	assert_int_equal(check("p1", PROTO_POOL_CONNECT_RW, u, ""), 0);
	assert_int_equal(check("p1", PROTO_POOL_CONNECT_RO, "stranger", "nobodys"),
	                 -CAIRN_ERR_PERM);
	assert_int_equal(drpc(SRV_DRPC_POOL_UPDATE_ACL,
	                      "{\"pool\":\"p1\",\"entries\":[\"A::EVERYONE@:r\"]}", NULL, 0),
	                 0);
	assert_int_equal(check("p1", PROTO_POOL_CONNECT_RO, "stranger", ""), 0);
	assert_int_equal(check("p1", PROTO_POOL_CONNECT_RW, "stranger", ""), -CAIRN_ERR_PERM);
	/* bad requests change nothing */
	static const char *const bad[] = {
	        "{\"pool\":\"p1\",\"entries\":[]}",
	        "{\"pool\":\"p1\",\"entries\":[\"A::x@:rw\",\"Z::y@:r\"]}",
	        "{\"pool\":\"p1\",\"entries\":\"A::x@:r\"}",
	        "{\"pool\":\"p1\",\"entries\":[5]}",
	        "{\"pool\":\"p1\",\"entries\":[\"A::x@:r\"],\"more\":1}",
	        "{\"entries\":[\"A::x@:r\"]}",
	        "nope",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(drpc(SRV_DRPC_POOL_UPDATE_ACL, bad[i], NULL, 0), 0);
	assert_int_equal(drpc(SRV_DRPC_POOL_GET_ACL, "{\"pool\":\"p1\"}", reply, sizeof(reply)),
	                 0);
	assert_null(strstr(reply, "x@"));
	assert_int_equal(drpc(SRV_DRPC_POOL_DELETE_ACL, "{\"pool\":\"p1\",\"principal\":\"x@\"}",
	                      reply, sizeof(reply)),
	                 -CAIRN_ERR_NONEXIST);
	assert_non_null(strstr(reply, "no entry for 'x@'"));
	/* owner change: the old owner falls back to EVERYONE@ (r) */
	assert_int_equal(drpc(SRV_DRPC_POOL_SET_PROP,
	                      "{\"pool\":\"p1\",\"owner\":\"alice\",\"group\":\"ops\"}", NULL, 0),
	                 0);
	assert_int_equal(check("p1", PROTO_POOL_CONNECT_RW, u, "zz"), -CAIRN_ERR_PERM);
	assert_int_equal(check("p1", PROTO_POOL_CONNECT_RW, "alice", ""), 0);
	assert_int_equal(check("p1", PROTO_POOL_CONNECT_RW, "bob", "x,ops"), 0);
	snprintf(body, sizeof(body), "{\"pool\":\"p1\",\"entries\":[\"A::%s@:rw\"]}", u);
	assert_int_equal(drpc(SRV_DRPC_POOL_UPDATE_ACL, body, NULL, 0), 0);
	assert_int_equal(check("p1", PROTO_POOL_CONNECT_RW, u, "zz"), 0);
	/* rename */
	assert_int_equal(drpc(SRV_DRPC_POOL_SET_PROP, "{\"pool\":\"p1\",\"label\":\"p2\"}", NULL,
	                      0),
	                 0);
	assert_int_equal(check("p1", PROTO_POOL_CONNECT_RO, "alice", ""), -CAIRN_ERR_NONEXIST);
	assert_int_equal(drpc(SRV_DRPC_POOL_SET_PROP, "{\"pool\":\"p2\",\"label\":\"bad label\"}",
	                      NULL, 0),
	                 -CAIRN_ERR_INVAL);
	assert_int_equal(drpc(SRV_DRPC_POOL_SET_PROP, "{\"pool\":\"p2\"}", NULL, 0),
	                 -CAIRN_ERR_INVAL);
	/* all of it survives a restart */
	assert_int_equal(drpc(SRV_DRPC_POOL_GET_PROP, "{\"pool\":\"p2\"}", body, sizeof(body)), 0);
	modules_stop();
	assert_int_equal(modules_start(), 0);
	assert_int_equal(drpc(SRV_DRPC_POOL_GET_PROP, "{\"pool\":\"p2\"}", reply, sizeof(reply)),
	                 0);
	assert_non_null(strstr(reply, "\"owner\":\"alice@\""));
	assert_non_null(strstr(reply, "\"group\":\"ops@\""));
	assert_non_null(strstr(reply, "A::EVERYONE@:r"));
	assert_int_equal(check("p2", PROTO_POOL_CONNECT_RW, u, "zz"), 0);
	assert_int_equal(check("p2", PROTO_POOL_CONNECT_RW, "stranger", ""), -CAIRN_ERR_PERM);
	assert_int_equal(drpc(SRV_DRPC_POOL_DESTROY, "{\"pool\":\"p2\"}", NULL, 0), 0);
}

/* ------------------------------------------------------------------ container extras */

static struct cairn_uuid g_pool, g_cont;

static void
vcont_ult(void *arg)
{
	int *rc = arg;
	struct cairn_vos_pool *vp = srv_vos_shard(&g_pool);

	*rc = vp ? cairn_vos_cont_create(vp, g_cont.b) : -CAIRN_ERR_NONEXIST;
}

struct xop {
	int what;
	const char *name;
	const void *val;
	uint32_t len;
	uint64_t epoch;
	int rc;
	void *out;
	uint32_t out_len;
	uint64_t *epochs;
	uint32_t nr;
};

static void
x_ult(void *arg)
{
	struct xop *x = arg;

	switch (x->what) {
	case 0:
		x->rc = srv_cont_attr_set(&g_pool, &g_cont, x->name, x->val, x->len);
		break;
	case 1:
		x->rc = srv_cont_attr_get(&g_pool, &g_cont, x->name, &x->out, &x->out_len);
		break;
	case 2:
		x->rc = srv_cont_attr_list(&g_pool, &g_cont, (char **)&x->out, &x->out_len);
		break;
	case 3:
		x->rc = srv_cont_attr_del(&g_pool, &g_cont, x->name);
		break;
	case 4:
		x->rc = srv_cont_snap_create(&g_pool, &g_cont, &x->epoch);
		break;
	case 5:
		x->rc = srv_cont_snap_list(&g_pool, &g_cont, &x->epochs, &x->nr);
		break;
	case 6:
		x->rc = srv_cont_snap_destroy(&g_pool, &g_cont, x->epoch);
		break;
	default:
		srv_cont_extra_forget(&g_pool, &g_cont);
		x->rc = 0;
		break;
	}
}

static int
x(struct xop *op)
{
	assert_int_equal(cairn_rt_run_sync(sys_xs(), x_ult, op), 0);
	return op->rc;
}

struct pin {
	uint64_t epochs[8];
	uint32_t nr;
	int rc;
};

static void
pin_ult(void *arg)
{
	struct pin *p = arg;
	struct cairn_vos_pool *vp = srv_vos_shard(&g_pool);

	p->nr = 0;
	p->rc = vp ? cairn_vos_snap_list(vp, g_cont.b, p->epochs, 8, &p->nr)
	           : -CAIRN_ERR_NONEXIST;
}

static void
test_cont_extras(void **state)
{
	static char big[PROTO_ATTR_VALUE_MAX + 1];
	char name[PROTO_ATTR_NAME_MAX + 2];
	struct pop o = {.label = "c1pool"};
	struct xop op;
	struct pin pin;
	uint64_t e1, e2;
	unsigned i, t;
	int rc;

	assert_int_equal(cairn_rt_run_sync(sys_xs(), create_ult, &o), 0);
	assert_int_equal(o.rc, 0);
	g_pool = o.p->uuid;
	cairn_uuid_generate(&g_cont);
	for (t = 0; t < 2; t++) {
		rc = -1;
		assert_int_equal(cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, t), vcont_ult,
		                                   &rc),
		                 0);
		assert_int_equal(rc, 0);
	}
	/* attributes: bounds */
	op = (struct xop){.what = 0, .name = "empty", .val = NULL, .len = 0};
	assert_int_equal(x(&op), 0);
	op = (struct xop){.what = 1, .name = "empty"};
	assert_int_equal(x(&op), 0);
	assert_int_equal(op.out_len, 0);
	op = (struct xop){.what = 0, .name = "big", .val = big, .len = sizeof(big)};
	assert_int_equal(x(&op), -CAIRN_ERR_INVAL);
	op = (struct xop){.what = 0, .name = "max", .val = big, .len = sizeof(big) - 1};
	assert_int_equal(x(&op), 0);
	op = (struct xop){.what = 1, .name = "max"};
	assert_int_equal(x(&op), 0);
	assert_int_equal(op.out_len, PROTO_ATTR_VALUE_MAX);
	free(op.out);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	op = (struct xop){.what = 0, .name = name, .val = "v", .len = 1};
	assert_int_equal(x(&op), -CAIRN_ERR_INVAL);
	name[PROTO_ATTR_NAME_MAX] = '\0';
	assert_int_equal(x(&op), 0);
	for (i = 3; i < PROTO_ATTRS_MAX; i++) {
		char n[16];

		snprintf(n, sizeof(n), "a%03u", i);
		op = (struct xop){.what = 0, .name = n, .val = n, .len = 4};
		assert_int_equal(x(&op), 0);
	}
	op = (struct xop){.what = 0, .name = "one-too-many", .val = "v", .len = 1};
	assert_int_equal(x(&op), -CAIRN_ERR_OVERFLOW);
	op = (struct xop){.what = 0, .name = "a010", .val = "new", .len = 3}; /* replace: ok */
	assert_int_equal(x(&op), 0);
	op = (struct xop){.what = 1, .name = "a010"};
	assert_int_equal(x(&op), 0);
	assert_int_equal(op.out_len, 3);
	assert_memory_equal(op.out, "new", 3);
	free(op.out);
	op = (struct xop){.what = 3, .name = "nosuch"};
	assert_int_equal(x(&op), -CAIRN_ERR_NONEXIST);
	/* snapshots: pinned on every target, listed in order */
	op = (struct xop){.what = 4};
	assert_int_equal(x(&op), 0);
	e1 = op.epoch;
	op = (struct xop){.what = 4};
	assert_int_equal(x(&op), 0);
	e2 = op.epoch;
	assert_true(e2 > e1);
	for (t = 0; t < 2; t++) {
		assert_int_equal(cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, t), pin_ult,
		                                   &pin),
		                 0);
		assert_int_equal(pin.rc, 0);
		assert_int_equal(pin.nr, 2);
	}
	/* everything survives a restart */
	modules_stop();
	assert_int_equal(modules_start(), 0);
	op = (struct xop){.what = 5};
	assert_int_equal(x(&op), 0);
	assert_int_equal(op.nr, 2);
	assert_int_equal(op.epochs[0], e1);
	assert_int_equal(op.epochs[1], e2);
	free(op.epochs);
	op = (struct xop){.what = 2};
	assert_int_equal(x(&op), 0);
	for (i = 0, t = 0; i < op.out_len; i += (unsigned)strlen((char *)op.out + i) + 1)
		t++;
	assert_int_equal(t, PROTO_ATTRS_MAX);
	free(op.out);
	/* snapshot bound */
	for (i = 2; i < PROTO_SNAPS_MAX; i++) {
		op = (struct xop){.what = 4};
		assert_int_equal(x(&op), 0);
	}
	op = (struct xop){.what = 4};
	assert_int_equal(x(&op), -CAIRN_ERR_OVERFLOW);
	op = (struct xop){.what = 6, .epoch = e1};
	assert_int_equal(x(&op), 0);
	assert_int_equal(x(&op), -CAIRN_ERR_NONEXIST);
	for (t = 0; t < 2; t++) {
		assert_int_equal(cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, t), pin_ult,
		                                   &pin),
		                 0);
		assert_int_equal(pin.rc, -CAIRN_ERR_TRUNC); /* 127 pins, room for 8 */
		assert_int_equal(pin.nr, PROTO_SNAPS_MAX - 1);
		assert_int_equal(pin.epochs[0], e2);
	}
	/* a destroyed container's records go */
	op = (struct xop){.what = 7};
	assert_int_equal(x(&op), 0);
	op = (struct xop){.what = 5};
	assert_int_equal(x(&op), 0);
	assert_int_equal(op.nr, 0);
	free(op.epochs);
	op = (struct xop){.what = 2};
	assert_int_equal(x(&op), 0);
	assert_int_equal(op.out_len, 0);
	free(op.out);
	assert_int_equal(drpc(SRV_DRPC_POOL_DESTROY, "{\"pool\":\"c1pool\"}", NULL, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_pool_acl),
	        cmocka_unit_test(test_cont_extras),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
