/*
 * Messages between xstreams: delivery and per-producer FIFO order from many producers,
 * plain threads and ULTs as senders, full-ring back-pressure (try_send says AGAIN,
 * send waits, nothing is lost), run_sync, shutdown errors.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_test.h"

#define RING 64

static int
setup(void **state)
{
	struct cairn_rt_opts o;

	cairn_rt_opts_default(&o);
	o.nr_system = 1;
	o.nr_main = 2;
	o.nr_helper = 1;
	o.pin = false;
	o.spin_us = 10;
	o.msg_ring_size = RING;
	assert_int_equal(cairn_rt_init(&o), 0);
	return 0;
}

static int
teardown(void **state)
{
	cairn_rt_fini();
	return 0;
}

/* ---- many producers, order per producer ---- */

#define NR_PROD 4
#define PER_PROD 20000

struct sink {
	uint32_t last[NR_PROD];
	atomic_uint total;
	unsigned bad_order;
	struct cairn_xstream *owner;
	unsigned wrong_xs;
};

static struct sink g_sink;

static void
sink_msg(void *arg)
{
	uintptr_t v = (uintptr_t)arg;
	unsigned prod = (unsigned)(v >> 24), seq = (unsigned)(v & 0xffffff);

	if (cairn_xs_self() != g_sink.owner || cairn_in_ult())
		g_sink.wrong_xs++;
	if (seq != g_sink.last[prod] + 1)
		g_sink.bad_order++;
	g_sink.last[prod] = seq;
	atomic_fetch_add(&g_sink.total, 1);
}

static void
produce(unsigned prod)
{
	unsigned i;

	for (i = 1; i <= PER_PROD; i++)
		assert_int_equal(cairn_rt_send_msg(g_sink.owner, sink_msg,
		                                   (void *)(((uintptr_t)prod << 24) | i)),
		                 0);
}

static void *
producer_thread(void *arg)
{
	produce((unsigned)(uintptr_t)arg);
	return NULL;
}

static void
producer_ult(void *arg)
{
	produce((unsigned)(uintptr_t)arg);
}

static void
test_many_producers(void **state)
{
	pthread_t th[2];
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	struct cairn_ult *u[2];
	unsigned i;

	memset(&g_sink, 0, sizeof(g_sink));
	g_sink.owner = cairn_xs_by_role(CAIRN_XS_MAIN, 0);
	/* Two plain threads and two ULTs (on other xstreams) hammer a 64-entry ring. */
	for (i = 0; i < 2; i++)
		assert_int_equal(
		        pthread_create(&th[i], NULL, producer_thread, (void *)(uintptr_t)i), 0);
	assert_int_equal(cairn_ult_create(cairn_xs_by_role(CAIRN_XS_MAIN, 1), producer_ult,
	                                  (void *)(uintptr_t)2, &attr, &u[0]),
	                 0);
	assert_int_equal(cairn_ult_create(cairn_xs_by_role(CAIRN_XS_HELPER, 0), producer_ult,
	                                  (void *)(uintptr_t)3, &attr, &u[1]),
	                 0);
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(cairn_ult_join(u[i]), 0);
	}
	for (i = 0; i < 20000 && atomic_load(&g_sink.total) < NR_PROD * PER_PROD; i++)
		usleep(500);
	assert_int_equal(atomic_load(&g_sink.total), NR_PROD * PER_PROD);
	assert_int_equal(g_sink.bad_order, 0);
	assert_int_equal(g_sink.wrong_xs, 0);
	for (i = 0; i < NR_PROD; i++)
		assert_int_equal(g_sink.last[i], PER_PROD);
}

/* ---- full ring: back-pressure, never dropped ---- */

static atomic_int g_gate; /* the consumer's handler blocks while 0 */
static atomic_uint g_handled;

static void
gate_msg(void *arg)
{
	while (atomic_load(&g_gate) == 0)
		usleep(100);
	atomic_fetch_add(&g_handled, 1);
}

static void
count_msg(void *arg)
{
	atomic_fetch_add(&g_handled, 1);
}

struct bp {
	atomic_int sent;
	atomic_int done;
};

static void *
blocked_sender(void *arg)
{
	struct bp *b = arg;
	int i;

	for (i = 0; i < 3 * RING; i++) {
		assert_int_equal(
		        cairn_rt_send_msg(cairn_xs_by_role(CAIRN_XS_MAIN, 1), count_msg, NULL), 0);
		atomic_fetch_add(&b->sent, 1);
	}
	atomic_store(&b->done, 1);
	return NULL;
}

static void
test_backpressure(void **state)
{
	struct cairn_xstream *xs = cairn_xs_by_role(CAIRN_XS_MAIN, 1);
	struct bp b = {0};
	pthread_t th;
	int i, queued = 0, rc;

	atomic_store(&g_gate, 0);
	atomic_store(&g_handled, 0);
	/* Block the consumer inside a handler, then fill its ring. */
	assert_int_equal(cairn_rt_send_msg(xs, gate_msg, NULL), 0);
	usleep(20000);
	for (i = 0; i < 4 * RING; i++) {
		rc = cairn_rt_try_send_msg(xs, count_msg, NULL);
		if (rc == -CAIRN_ERR_AGAIN)
			break;
		assert_int_equal(rc, 0);
		queued++;
	}
	printf("ring of %d accepted %d messages before AGAIN\n", RING, queued);
	assert_true(queued >= RING - 1 && queued <= RING);
	assert_int_equal(cairn_rt_try_send_msg(xs, count_msg, NULL), -CAIRN_ERR_AGAIN);

	/* A blocking sender waits (does not drop, does not fail). */
	assert_int_equal(pthread_create(&th, NULL, blocked_sender, &b), 0);
	usleep(30000);
	assert_int_equal(atomic_load(&b.sent), 0);
	assert_int_equal(atomic_load(&b.done), 0);
	atomic_store(&g_gate, 1);
	pthread_join(th, NULL);
	for (i = 0; i < 10000 && atomic_load(&g_handled) < (unsigned)(1 + queued + 3 * RING); i++)
		usleep(500);
	assert_int_equal(atomic_load(&g_handled), 1 + queued + 3 * RING);
}

/* ---- a ULT blocked by a full ring yields: its xstream keeps running ---- */

static atomic_int g_ticks;

static void
ticker_ult(void *arg)
{
	int i;

	for (i = 0; i < 200; i++) {
		atomic_fetch_add(&g_ticks, 1);
		cairn_ult_sleep_us(200);
	}
}

static void
flood_ult(void *arg)
{
	int i;

	for (i = 0; i < 4 * RING; i++)
		assert_int_equal(
		        cairn_rt_send_msg(cairn_xs_by_role(CAIRN_XS_MAIN, 1), count_msg, NULL), 0);
}

static void
test_backpressure_ult_yields(void **state)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	struct cairn_xstream *x0 = cairn_xs_by_role(CAIRN_XS_MAIN, 0);
	struct cairn_ult *flood, *tick;
	int i, t0;

	atomic_store(&g_gate, 0);
	atomic_store(&g_handled, 0);
	atomic_store(&g_ticks, 0);
	assert_int_equal(cairn_rt_send_msg(cairn_xs_by_role(CAIRN_XS_MAIN, 1), gate_msg, NULL), 0);
	usleep(10000);
	assert_int_equal(cairn_ult_create(x0, flood_ult, NULL, &attr, &flood), 0);
	assert_int_equal(cairn_ult_create(x0, ticker_ult, NULL, &attr, &tick), 0);
	usleep(20000);
	t0 = atomic_load(&g_ticks);
	for (i = 0; i < 10000 && atomic_load(&g_ticks) == t0; i++)
		usleep(200);
	/* The flooder is stuck on the full ring, yet x0 still runs the ticker. */
	assert_true(atomic_load(&g_ticks) > t0);
	assert_int_equal(atomic_load(&g_handled), 0); /* and the consumer is still gated */
	atomic_store(&g_gate, 1);
	assert_int_equal(cairn_ult_join(flood), 0);
	assert_int_equal(cairn_ult_join(tick), 0);
	for (i = 0; i < 10000 && atomic_load(&g_handled) < (unsigned)(1 + 4 * RING); i++)
		usleep(500);
	assert_int_equal(atomic_load(&g_handled), 1 + 4 * RING);
}

/* ---- run_sync and errors ---- */

static void
where_ult(void *arg)
{
	*(struct cairn_xstream **)arg = cairn_xs_self();
	assert_true(cairn_in_ult());
}

static void
test_run_sync(void **state)
{
	unsigned i;

	for (i = 0; i < cairn_xs_count(); i++) {
		struct cairn_xstream *got = NULL;

		assert_int_equal(cairn_rt_run_sync(cairn_xs_get(i), where_ult, &got), 0);
		assert_ptr_equal(got, cairn_xs_get(i));
	}
	assert_int_equal(cairn_rt_run_sync(NULL, where_ult, NULL), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_rt_send_msg(NULL, count_msg, NULL), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_rt_send_msg(cairn_xs_get(0), NULL, NULL), -CAIRN_ERR_INVAL);
	assert_string_equal(cairn_xs_name(cairn_xs_get(0)), "sys0");
	assert_string_equal(cairn_xs_name(cairn_xs_get(3)), "hlp0");
}

/* ---- message ping-pong between xstreams from scheduler context ---- */

struct pp {
	struct cairn_xstream *a, *b;
	int left;
	atomic_int done;
};

static void pong(void *arg);

static void
ping(void *arg)
{
	struct pp *p = arg;

	if (p->left-- == 0) {
		atomic_store(&p->done, 1);
		return;
	}
	assert_int_equal(cairn_rt_send_msg(p->b, pong, p), 0);
}

static void
pong(void *arg)
{
	struct pp *p = arg;

	assert_int_equal(cairn_rt_send_msg(p->a, ping, p), 0);
}

static void
test_ping_pong(void **state)
{
	struct pp p = {.a = cairn_xs_get(1), .b = cairn_xs_get(2), .left = 10000};
	int i;

	assert_int_equal(cairn_rt_send_msg(p.a, ping, &p), 0);
	for (i = 0; i < 20000 && !atomic_load(&p.done); i++)
		usleep(500);
	assert_int_equal(atomic_load(&p.done), 1);
	assert_int_equal(p.left, -1);
}

static void
test_after_fini(void **state)
{
	struct cairn_xstream *xs;

	cairn_rt_fini();
	xs = cairn_xs_get(0);
	assert_null(xs);
	assert_int_equal(cairn_rt_run_sync(NULL, where_ult, NULL), -CAIRN_ERR_INVAL);
	setup(state);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_many_producers),
	        cmocka_unit_test(test_backpressure),
	        cmocka_unit_test(test_backpressure_ult_yields),
	        cmocka_unit_test(test_run_sync),
	        cmocka_unit_test(test_ping_pong),
	        cmocka_unit_test(test_after_fini),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
