/*
 * RPC engine on the real runtime: contexts progressed by busy pollers on their
 * xstreams, handlers in ULTs, send-and-wait parking the ULT, a handler that sends an RPC
 * and waits, bulk transfers waited in a ULT, timeouts, many ULTs in flight, and an idle
 * context that lets its xstream sleep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "common/log.h"
#include "net/wire.h"
#include "rt/rt.h"
#include "test_proto.h"

static struct cairn_net_group *g_grp;
static struct cairn_net_ctx *g_ctx[2]; /* rank 0 on xs0, rank 1 on xs1 */

static void
ctx_make(void *arg)
{
	uintptr_t r = (uintptr_t)arg;
	struct cairn_net_ctx_opts o;

	cairn_net_ctx_opts_default(&o);
	o.group = g_grp;
	o.rank = (uint32_t)r;
	o.listen_uri = "tcp://127.0.0.1:0";
	assert_int_equal(cairn_net_ctx_create(&o, &g_ctx[r]), 0);
}

static void
ctx_kill(void *arg)
{
	uintptr_t r = (uintptr_t)arg;

	cairn_net_ctx_destroy(g_ctx[r]);
	g_ctx[r] = NULL;
}

static int
setup(void **state)
{
	struct cairn_rt_opts o;

	cairn_rt_opts_default(&o);
	o.nr_system = 0;
	o.nr_main = 2;
	o.pin = false;
	assert_int_equal(cairn_rt_init(&o), 0);
	assert_int_equal(tp_register(), 0);
	assert_int_equal(cairn_net_group_create("rt", &g_grp), 0);
	assert_int_equal(cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, 0), ctx_make,
	                                   (void *)(uintptr_t)0),
	                 0);
	assert_int_equal(cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, 1), ctx_make,
	                                   (void *)(uintptr_t)1),
	                 0);
	return 0;
}

static int
teardown(void **state)
{
	cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, 0), ctx_kill, (void *)(uintptr_t)0);
	cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, 1), ctx_kill, (void *)(uintptr_t)1);
	cairn_rt_fini();
	cairn_net_group_destroy(g_grp);
	return 0;
}

static void
run_on(unsigned xs, cairn_ult_fn fn, void *arg)
{
	assert_int_equal(cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, xs), fn, arg), 0);
}

struct echo_job {
	unsigned count;
	uint64_t base;
	int rc;
};

static void
echo_ult(void *arg)
{
	struct echo_job *j = arg;
	struct cairn_ep ep = {.rank = 0, .tag = 0};
	unsigned i;

	for (i = 0; i < j->count && j->rc == 0; i++) {
		struct cairn_rpc *rpc;
		struct tp_echo_in *in;
		char data[32];
		int rc;

		rc = cairn_rpc_create(g_ctx[1], ep, TP_OPC(TP_ECHO), &rpc);
		if (rc) {
			j->rc = rc;
			break;
		}
		in = cairn_rpc_in(rpc);
		in->seq = j->base + i;
		snprintf(data, sizeof(data), "msg %u", i);
		in->data = data;
		in->len = (uint32_t)strlen(data) + 1;
		rc = cairn_rpc_send_wait(rpc);
		if (rc == 0) {
			struct tp_echo_out *out = cairn_rpc_out(rpc);

			if (out->seq != j->base + i || out->len != in->len ||
			    memcmp(out->data, data, in->len) != 0)
				rc = -CAIRN_ERR_MISC;
		}
		j->rc = rc;
		cairn_rpc_decref(rpc);
	}
}

static void
test_send_wait(void **state)
{
	struct echo_job j = {.count = 2000, .base = 10};

	run_on(1, echo_ult, &j);
	assert_int_equal(j.rc, 0);
}

struct many {
	struct echo_job jobs[16];
};

static void
many_ult(void *arg)
{
	struct many *m = arg;
	struct cairn_ult *u[16];
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	unsigned i;

	for (i = 0; i < 16; i++)
		assert_int_equal(cairn_ult_create(NULL, echo_ult, &m->jobs[i], &attr, &u[i]), 0);
	for (i = 0; i < 16; i++)
		cairn_ult_join(u[i]);
}

static void
test_many_ults(void **state)
{
	struct many m;
	unsigned i;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < 16; i++) {
		m.jobs[i].count = 200;
		m.jobs[i].base = 100000 * (i + 1);
	}
	run_on(1, many_ult, &m);
	for (i = 0; i < 16; i++)
		assert_int_equal(m.jobs[i].rc, 0);
}

struct nested_job {
	int rc;
	uint64_t seq;
};

static void
nested_ult(void *arg)
{
	struct nested_job *j = arg;
	struct cairn_ep ep = {.rank = 0, .tag = 0};
	struct cairn_rpc *rpc;
	struct tp_nested_in *in;

	j->rc = cairn_rpc_create(g_ctx[1], ep, TP_OPC(TP_NESTED), &rpc);
	if (j->rc)
		return;
	in = cairn_rpc_in(rpc);
	in->rank = 1; /* rank 0's handler calls back into rank 1 (us) and waits */
	in->tag = 0;
	j->rc = cairn_rpc_send_wait(rpc);
	if (j->rc == 0)
		j->seq = ((struct tp_echo_out *)cairn_rpc_out(rpc))->seq;
	cairn_rpc_decref(rpc);
}

static void
test_nested(void **state)
{
	struct nested_job j = {0};

	run_on(1, nested_ult, &j);
	assert_int_equal(j.rc, 0);
	assert_true(j.seq == 4243);
}

struct bulk_job {
	size_t len;
	int rc;
	bool ok;
};

static void
bulk_ult(void *arg)
{
	struct bulk_job *j = arg;
	struct cairn_ep ep = {.rank = 0, .tag = 0};
	uint8_t *src = malloc(j->len + 1), *dst = calloc(1, j->len + 1);
	struct iovec siov = {src, j->len}, diov = {dst, j->len};
	struct cairn_bulk *sb, *db;
	struct cairn_rpc *rpc;
	struct tp_bulk_in *in;
	size_t i;

	for (i = 0; i < j->len; i++)
		src[i] = (uint8_t)(i ^ (i >> 9));
	assert_int_equal(cairn_bulk_create(g_ctx[1], &siov, 1, CAIRN_BULK_RO, &sb), 0);
	assert_int_equal(cairn_bulk_create(g_ctx[1], &diov, 1, CAIRN_BULK_RW, &db), 0);
	assert_int_equal(cairn_rpc_create(g_ctx[1], ep, TP_OPC(TP_BULK_WAIT), &rpc), 0);
	in = cairn_rpc_in(rpc);
	cairn_bulk_get_desc(sb, &in->src);
	cairn_bulk_get_desc(db, &in->dst);
	in->len = j->len;
	j->rc = cairn_rpc_send_wait(rpc);
	j->ok = j->rc == 0 &&
	        ((struct tp_bulk_out *)cairn_rpc_out(rpc))->crc == cairn_net_crc32c(src, j->len);
	for (i = 0; j->ok && i < j->len; i++)
		if (dst[i] != (uint8_t)(src[i] + 1))
			j->ok = false;
	cairn_rpc_decref(rpc);
	cairn_bulk_free(sb);
	cairn_bulk_free(db);
	free(src);
	free(dst);
}

static void
test_bulk_ult(void **state)
{
	size_t sizes[] = {0, 4096, (1u << 20) + 3, 16u << 20};
	unsigned i;

	for (i = 0; i < 4; i++) {
		struct bulk_job j = {.len = sizes[i]};

		run_on(1, bulk_ult, &j);
		assert_int_equal(j.rc, 0);
		assert_true(j.ok);
	}
}

static void
hold_ult(void *arg)
{
	int *rc = arg;
	struct cairn_ep ep = {.rank = 0, .tag = 0};
	struct cairn_rpc *rpc;

	*rc = cairn_rpc_create(g_ctx[1], ep, TP_OPC(TP_HOLD), &rpc);
	if (*rc)
		return;
	cairn_rpc_set_timeout(rpc, 20 * 1000);
	*rc = cairn_rpc_send_wait(rpc);
	cairn_rpc_decref(rpc);
}

static void
release_ult(void *arg)
{
	tp_release_all();
}

static void
test_timeout_ult(void **state)
{
	int rc = 0;

	run_on(1, hold_ult, &rc);
	assert_int_equal(rc, -CAIRN_ERR_TIMEDOUT);
	run_on(0, release_ult, NULL);
}

struct coll_job {
	int rc;
	uint64_t sum;
	uint32_t count;
	unsigned nfailed;
};

/* A collective started from a ULT; the root is our own context (it reaches itself over
 * loopback) and member handlers run in ULTs on both xstreams. */
static void
coll_ult(void *arg)
{
	struct coll_job *j = arg;
	uint32_t ranks[2] = {1, 0};
	struct cairn_rpc *rpc;
	const uint32_t *f;

	j->rc = cairn_coll_create(g_ctx[1], ranks, 2, 0, TP_OPC(TP_SUM), 2, &rpc);
	if (j->rc)
		return;
	((struct tp_sum_in *)cairn_rpc_in(rpc))->v = 10;
	j->rc = cairn_rpc_send_wait(rpc);
	if (j->rc == 0) {
		j->sum = ((struct tp_sum_out *)cairn_rpc_out(rpc))->sum;
		j->count = ((struct tp_sum_out *)cairn_rpc_out(rpc))->count;
		cairn_coll_failed(rpc, &f, &j->nfailed);
	}
	cairn_rpc_decref(rpc);
}

static void
test_coll_ult(void **state)
{
	struct coll_job j = {0};

	run_on(1, coll_ult, &j);
	assert_int_equal(j.rc, 0);
	assert_int_equal(j.count, 2);
	assert_true(j.sum == 10 + 1 + 10 + 0);
	assert_int_equal(j.nfailed, 0);
}

/* Contexts belong to their xstream: calls from elsewhere are refused. */
static void
test_wrong_thread(void **state)
{
	struct cairn_ep ep = {.rank = 0, .tag = 0};
	struct cairn_rpc *rpc = NULL;
	uint8_t b[8];
	struct iovec iov = {b, sizeof(b)};
	struct cairn_bulk *bulk = NULL;

	cairn_log_set_mask("FATAL");
	assert_int_equal(cairn_rpc_create(g_ctx[1], ep, TP_OPC(TP_ECHO), &rpc), -CAIRN_ERR_INVAL);
	assert_null(rpc);
	assert_int_equal(cairn_bulk_create(g_ctx[1], &iov, 1, CAIRN_BULK_RO, &bulk),
	                 -CAIRN_ERR_INVAL);
	cairn_log_set_mask("ERR");
}

static uint64_t
cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec +
	       (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
}

/* Contexts with nothing in flight must let their xstreams sleep on epoll. */
static void
test_idle_sleeps(void **state)
{
	uint64_t c0, c1;
	struct echo_job j = {.count = 10, .base = 1};

	usleep(100 * 1000);
	c0 = cpu_us();
	usleep(500 * 1000);
	c1 = cpu_us();
	/* Two busy-spinning xstreams would burn ~1 s of CPU here. */
	assert_true(c1 - c0 < 250 * 1000);
	/* And they still wake up for traffic. */
	run_on(1, echo_ult, &j);
	assert_int_equal(j.rc, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_send_wait),    cmocka_unit_test(test_many_ults),
	        cmocka_unit_test(test_nested),       cmocka_unit_test(test_bulk_ult),
	        cmocka_unit_test(test_timeout_ult),  cmocka_unit_test(test_idle_sleeps),
	        cmocka_unit_test(test_wrong_thread), cmocka_unit_test(test_coll_ult),
	};

	cairn_log_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
