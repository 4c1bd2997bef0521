/*
 * Manual mode (the deterministic single-threaded driver): nothing runs until the test
 * polls; the same scenario replays the same interleaving; the driver's own blocking
 * calls (join, run_sync, collective, eventual wait, sleep, full-ring send) drive the
 * xstreams; timers fire when polled after their deadline; only the driving thread may
 * poll; fini drives the remaining ULTs to completion.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rt_test.h"

static void
start_manual(unsigned nr_main, unsigned ring)
{
	struct cairn_rt_opts o;

	cairn_rt_opts_default(&o);
	o.nr_system = 0;
	o.nr_main = nr_main;
	o.manual = true;
	if (ring != 0)
		o.msg_ring_size = ring;
	assert_int_equal(cairn_rt_init(&o), 0);
}

/* ---- a traced scenario ---- */

#define TRACE_MAX 4096

static char g_trace[TRACE_MAX];
static unsigned g_tn;

static void
trace(char c)
{
	if (g_tn + 1 < TRACE_MAX)
		g_trace[g_tn++] = c;
	g_trace[g_tn] = '\0';
}

static void
note_msg(void *arg)
{
	trace((char)(uintptr_t)arg);
}

static void
chatty_ult(void *arg)
{
	char id = (char)(uintptr_t)arg;
	unsigned i;

	for (i = 0; i < 20; i++) {
		trace(id);
		/* Message the next xstream, then yield. */
		cairn_rt_send_msg(cairn_xs_get((cairn_xs_id(cairn_xs_self()) + 1) % 3), note_msg,
		                  (void *)(uintptr_t)(id - 'A' + 'a'));
		cairn_ult_yield();
	}
}

static void
run_scenario(char *out, size_t len)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	struct cairn_ult *u[6];
	unsigned i;

	g_tn = 0;
	g_trace[0] = '\0';
	start_manual(3, 0);
	for (i = 0; i < 6; i++) {
		attr.prio = (enum cairn_prio)(i % CAIRN_PRIO_MAX);
		assert_int_equal(cairn_ult_create(cairn_xs_get(i % 3), chatty_ult,
		                                  (void *)(uintptr_t)('A' + i), &attr, &u[i]),
		                 0);
	}
	assert_int_equal(g_tn, 0); /* nothing runs until polled */
	assert_true(cairn_rt_poll(cairn_xs_get(0)) > 0);
	assert_true(g_tn > 0);
	assert_null(strchr(g_trace, 'B')); /* xs 1 not polled yet */
	cairn_rt_poll_until_idle(100000);
	for (i = 0; i < 6; i++)
		assert_int_equal(cairn_ult_join(u[i]), 0);
	assert_int_equal(cairn_rt_poll_all(), 0);
	cairn_rt_fini();
	assert_int_equal(g_tn, 6 * 20 * 2);
	snprintf(out, len, "%s", g_trace);
}

static void
test_deterministic(void **state)
{
	static char a[TRACE_MAX], b[TRACE_MAX];

	run_scenario(a, sizeof(a));
	run_scenario(b, sizeof(b));
	assert_string_equal(a, b);
}

/* ---- the driver's blocking calls drive the xstreams ---- */

static void
setter_ult(void *arg)
{
	cairn_ult_sleep_us(2000);
	cairn_eventual_set(arg, 77);
}

static void
where_ult(void *arg)
{
	*(unsigned *)arg = cairn_xs_id(cairn_xs_self());
}

static int
coll_fn(void *arg)
{
	return 0;
}

static void
coll_reduce(void *acc, unsigned xs_id, int rc, void *arg)
{
	*(unsigned *)acc += 1;
}

static void *
other_thread(void *arg)
{
	*(unsigned *)arg = cairn_rt_poll(cairn_xs_get(0)) + cairn_rt_poll_all() + 1;
	return NULL;
}

static void
count_msg(void *arg)
{
	(*(unsigned *)arg)++;
}

static void
test_driver_waits(void **state)
{
	struct cairn_eventual *ev;
	unsigned where = 99, n = 0, i, got = 0;
	uint64_t t0;
	pthread_t th;

	start_manual(2, 8);
	/* Eventual set by a sleeping ULT: the wait polls, the timer fires when due. */
	assert_int_equal(cairn_eventual_create(&ev), 0);
	assert_int_equal(cairn_ult_create(cairn_xs_get(1), setter_ult, ev, NULL, NULL), 0);
	t0 = cairn_rt_now_us();
	cairn_rt_poll_until_idle(1000); /* the ULT sleeps: idle before the deadline */
	assert_false(cairn_eventual_is_set(ev));
	assert_int_equal(cairn_eventual_wait(ev), 77);
	assert_true(cairn_rt_now_us() - t0 >= 2000);
	cairn_eventual_destroy(ev);
	/* run_sync, collective, sleep. */
	assert_int_equal(cairn_rt_run_sync(cairn_xs_get(1), where_ult, &where), 0);
	assert_int_equal(where, 1);
	assert_int_equal(cairn_rt_collective(CAIRN_XS_TAG_ALL, coll_fn, NULL, coll_reduce, &n), 0);
	assert_int_equal(n, 2);
	cairn_ult_sleep_us(500);
	/* A full 8-entry ring: the send polls the target to make room. */
	for (i = 0; i < 50; i++)
		assert_int_equal(cairn_rt_send_msg(cairn_xs_get(0), count_msg, &got), 0);
	cairn_rt_poll_until_idle(100);
	assert_int_equal(got, 50);
	/* Only the driving thread may poll. */
	assert_int_equal(pthread_create(&th, NULL, other_thread, &n), 0);
	pthread_join(th, NULL);
	assert_int_equal(n, 1);
	/* fini drives a still-sleeping ULT to its end. */
	assert_int_equal(cairn_eventual_create(&ev), 0);
	assert_int_equal(cairn_ult_create(cairn_xs_get(0), setter_ult, ev, NULL, NULL), 0);
	cairn_rt_fini();
	assert_true(cairn_eventual_is_set(ev));
	cairn_eventual_destroy(ev);
	/* Not in manual mode: polling is refused. */
	rt_test_start(1, 0);
	assert_int_equal(cairn_rt_poll(cairn_xs_get(0)), 0);
	assert_int_equal(cairn_rt_poll_all(), 0);
	cairn_rt_fini();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_deterministic),
	        cmocka_unit_test(test_driver_waits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
