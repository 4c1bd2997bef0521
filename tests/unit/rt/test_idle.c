/*
 * Idle behaviour: two idle xstreams use under 5% of one core over 2 s (getrusage on
 * the process), and a message to a sleeping xstream is handled quickly (median wake
 * latency over 50 tries is printed and must be under 1 ms).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "rt_test.h"

static int
setup(void **state)
{
	rt_test_start(2, 50);
	return 0;
}

static int
teardown(void **state)
{
	cairn_rt_fini();
	return 0;
}

static uint64_t
cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
	       (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
}

static void
test_idle_cpu(void **state)
{
	uint64_t c0, c1, t0, t1;
	double pct;

	usleep(50000); /* let both settle into sleep */
	c0 = cpu_us();
	t0 = cairn_rt_now_us();
	usleep(2000000);
	c1 = cpu_us();
	t1 = cairn_rt_now_us();
	pct = 100.0 * (double)(c1 - c0) / (double)(t1 - t0);
	printf("idle: 2 xstreams used %.3f%% of one core over %.2f s\n", pct,
	       (double)(t1 - t0) / 1e6);
	assert_true(pct < 5.0);
}

struct lat {
	uint64_t sent_ns;
	_Atomic uint64_t recv_ns;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
lat_msg(void *arg)
{
	struct lat *l = arg;

	atomic_store(&l->recv_ns, now_ns());
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_wake_latency(void **state)
{
	struct cairn_xstream *xs = cairn_xs_by_role(CAIRN_XS_MAIN, 1);
	struct cairn_xs_stats st0, st1;
	uint64_t lat[50];
	int i, j;

	cairn_xs_stats(xs, &st0);
	for (i = 0; i < 50; i++) {
		struct lat l = {0};

		usleep(3000); /* >> spin_us: the xstream is asleep in epoll_wait */
		l.sent_ns = now_ns();
		assert_int_equal(cairn_rt_send_msg(xs, lat_msg, &l), 0);
		for (j = 0; j < 1000000 && atomic_load(&l.recv_ns) == 0; j++)
			usleep(10);
		assert_true(atomic_load(&l.recv_ns) != 0);
		lat[i] = atomic_load(&l.recv_ns) - l.sent_ns;
	}
	cairn_xs_stats(xs, &st1);
	qsort(lat, 50, sizeof(lat[0]), cmp_u64);
	printf("wake latency of a sleeping xstream: median %.1f us, p90 %.1f us, max %.1f us "
	       "(%llu sleeps, %llu eventfd kicks)\n",
	       lat[25] / 1e3, lat[45] / 1e3, lat[49] / 1e3,
	       (unsigned long long)(st1.sleeps - st0.sleeps),
	       (unsigned long long)(st1.kicks - st0.kicks));
	/* It really was asleep: most messages needed an eventfd kick. */
	assert_true(st1.kicks - st0.kicks >= 25);
	assert_true(lat[25] < 1000000);
}

/* cairn_rt_expect_work(): while the hint runs the xstream keeps spinning, even with
 * spin_us = 0; without it, every message 2 ms apart finds the xstream asleep. */
static void
hint_ult(void *arg)
{
	cairn_rt_expect_work(*(uint64_t *)arg);
}

static void
noop_msg(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
}

static uint64_t
sleeps_during_messages(uint64_t hint_us)
{
	struct cairn_xstream *xs = cairn_xs_by_role(CAIRN_XS_MAIN, 0);
	struct cairn_xs_stats st0, st1;
	atomic_int got = 0;
	int i, j;

	assert_int_equal(cairn_rt_run_sync(xs, hint_ult, &hint_us), 0);
	cairn_xs_stats(xs, &st0);
	for (i = 0; i < 20; i++) {
		usleep(2000);
		assert_int_equal(cairn_rt_send_msg(xs, noop_msg, &got), 0);
		for (j = 0; j < 100000 && atomic_load(&got) <= i; j++)
			usleep(10);
	}
	cairn_xs_stats(xs, &st1);
	return st1.sleeps - st0.sleeps;
}

static void
test_expect_work(void **state)
{
	uint64_t with, without;

	cairn_rt_fini();
	rt_test_start(1, 0); /* no spin at all */
	without = sleeps_during_messages(0);
	with = sleeps_during_messages(2000000); /* 2 s: longer than the 20 x 2 ms */
	printf("sleeps while messages arrive every 2 ms: %llu without hint, %llu with\n",
	       (unsigned long long)without, (unsigned long long)with);
	assert_true(without >= 15);
	assert_int_equal(with, 0);
	cairn_rt_fini();
	rt_test_start(2, 50);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_idle_cpu),
	        cmocka_unit_test(test_wake_latency),
	        cmocka_unit_test(test_expect_work),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
