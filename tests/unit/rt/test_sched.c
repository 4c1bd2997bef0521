/*
 * ULTs and the scheduler: context switch (registers and FP control words survive),
 * create/join/yield stress, WRR fairness across priorities, park/wake tokens,
 * sleep accuracy, remote creation, stack guard pages.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fenv.h>
#include <math.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rt_test.h"

static int
setup(void **state)
{
	rt_test_start(2, 20);
	return 0;
}

static int
teardown(void **state)
{
	cairn_rt_fini();
	assert_false(cairn_rt_running());
	return 0;
}

/* ---- context switch keeps callee-saved state and FP control ---- */

struct ctx_arg {
	int id;
	volatile double acc;
	int rounding_ok;
	int steps;
};

static void
ctx_ult(void *arg)
{
	struct ctx_arg *a = arg;
	/* Many live values across yields force callee-saved registers into use. */
	uint64_t r0 = 0x1111u * (unsigned)a->id, r1 = r0 + 1, r2 = r0 + 2, r3 = r0 + 3, r4 = r0 + 4;
	double d = 1.0;
	int i;

	fesetround(a->id % 2 ? FE_UPWARD : FE_DOWNWARD);
	for (i = 0; i < 1000; i++) {
		r0 += 1;
		r1 += 2;
		r2 += 3;
		r3 += 4;
		r4 += 5;
		d = d * 1.0000001;
		cairn_ult_yield();
		if (fegetround() == (a->id % 2 ? FE_UPWARD : FE_DOWNWARD))
			a->rounding_ok++;
		a->steps++;
	}
	assert_int_equal(r0, 0x1111u * (unsigned)a->id + 1000);
	assert_int_equal(r1, 0x1111u * (unsigned)a->id + 1 + 2000);
	assert_int_equal(r2, 0x1111u * (unsigned)a->id + 2 + 3000);
	assert_int_equal(r3, 0x1111u * (unsigned)a->id + 3 + 4000);
	assert_int_equal(r4, 0x1111u * (unsigned)a->id + 4 + 5000);
	a->acc = d;
	fesetround(FE_TONEAREST);
}

static void
test_context_switch(void **state)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	struct ctx_arg a[4];
	struct cairn_ult *u[4];
	int i;

	memset(a, 0, sizeof(a));
	for (i = 0; i < 4; i++) {
		a[i].id = i + 1;
		assert_int_equal(cairn_ult_create(cairn_xs_by_role(CAIRN_XS_MAIN, 0), ctx_ult,
		                                  &a[i], &attr, &u[i]),
		                 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(cairn_ult_join(u[i]), 0);
		assert_int_equal(a[i].steps, 1000);
		assert_int_equal(a[i].rounding_ok, 1000);
		assert_true(a[i].acc > 1.0);
	}
}

/* ---- create/join/yield stress: 10k ULTs ---- */

#if defined(__SANITIZE_THREAD__)
#define NR_STRESS 1000 /* every ULT is a ThreadSanitizer fiber: heavy */
#else
#define NR_STRESS 10000
#endif

static atomic_int g_stress_sum;

static void
stress_child(void *arg)
{
	int i;

	for (i = 0; i < 3; i++)
		cairn_ult_yield();
	atomic_fetch_add(&g_stress_sum, (int)(intptr_t)arg);
}

static void
stress_parent(void *arg)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	struct cairn_ult **u = calloc(NR_STRESS / 2, sizeof(*u));
	int base = (int)(intptr_t)arg, i;

	assert_non_null(u);
	for (i = 0; i < NR_STRESS / 2; i++) {
		/* Half local, half on the other xstream (remote creation). */
		struct cairn_xstream *xs = (i % 2) ? cairn_xs_by_role(CAIRN_XS_MAIN, 1) : NULL;

		assert_int_equal(cairn_ult_create(xs, stress_child, (void *)(intptr_t)(base + i),
		                                  &attr, &u[i]),
		                 0);
	}
	for (i = 0; i < NR_STRESS / 2; i++)
		assert_int_equal(cairn_ult_join(u[i]), 0);
	free(u);
}

static void
test_stress_10k(void **state)
{
	long expect = 0;
	int i;

	atomic_store(&g_stress_sum, 0);
	for (i = 0; i < NR_STRESS / 2; i++)
		expect += i + (i + 100000);
	/* Two parents: one on each xstream, each creating 5k ULTs. */
	{
		struct cairn_ult_attr attr = {.joinable = true, .prio = CAIRN_PRIO_GENERAL};
		struct cairn_ult *p0, *p1;

		assert_int_equal(cairn_ult_create(cairn_xs_by_role(CAIRN_XS_MAIN, 0), stress_parent,
		                                  (void *)(intptr_t)0, &attr, &p0),
		                 0);
		assert_int_equal(cairn_ult_create(cairn_xs_by_role(CAIRN_XS_MAIN, 1), stress_parent,
		                                  (void *)(intptr_t)100000, &attr, &p1),
		                 0);
		assert_int_equal(cairn_ult_join(p0), 0);
		assert_int_equal(cairn_ult_join(p1), 0);
	}
	assert_int_equal(atomic_load(&g_stress_sum), (int)expect);
}

/* Detached (non-joinable) ULTs are freed when they return. */
static atomic_int g_detached;

static void
detached_ult(void *arg)
{
	cairn_ult_yield();
	atomic_fetch_add(&g_detached, 1);
}

static void
test_detached(void **state)
{
	int i;

	atomic_store(&g_detached, 0);
	for (i = 0; i < 200; i++)
		assert_int_equal(cairn_ult_create(cairn_xs_by_role(CAIRN_XS_MAIN, i % 2),
		                                  detached_ult, NULL, NULL, NULL),
		                 0);
	for (i = 0; i < 2000 && atomic_load(&g_detached) < 200; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&g_detached), 200);
}

/* ---- priorities: weighted round robin, nobody starves ---- */

struct fair {
	volatile bool stop;
	uint64_t count[CAIRN_PRIO_MAX];
};

struct fair_arg {
	struct fair *f;
	enum cairn_prio prio;
};

static void
fair_ult(void *arg)
{
	struct fair_arg *a = arg;

	while (!a->f->stop) {
		a->f->count[a->prio]++;
		cairn_ult_yield();
	}
}

static void
fair_driver(void *arg)
{
	struct fair *f = arg;
	struct fair_arg fa[CAIRN_PRIO_MAX * 2];
	struct cairn_ult *u[CAIRN_PRIO_MAX * 2];
	int i;

	for (i = 0; i < CAIRN_PRIO_MAX * 2; i++) {
		struct cairn_ult_attr attr = {.prio = (enum cairn_prio)(i % CAIRN_PRIO_MAX),
		                              .joinable = true};

		fa[i].f = f;
		fa[i].prio = attr.prio;
		assert_int_equal(cairn_ult_create(NULL, fair_ult, &fa[i], &attr, &u[i]), 0);
	}
	for (i = 0; i < 20000; i++)
		cairn_ult_yield();
	f->stop = true;
	for (i = 0; i < CAIRN_PRIO_MAX * 2; i++)
		assert_int_equal(cairn_ult_join(u[i]), 0);
}

static void
test_priorities(void **state)
{
	struct fair f;
	double net, io, gen;

	memset(&f, 0, sizeof(f));
	rt_test_run(0, fair_driver, &f);
	net = (double)f.count[CAIRN_PRIO_NET];
	io = (double)f.count[CAIRN_PRIO_IO];
	gen = (double)f.count[CAIRN_PRIO_GENERAL];
	printf("fairness: net %.0f io %.0f general %.0f\n", net, io, gen);
	/* Every class progresses; higher classes get more (weights 4:2:1). */
	assert_true(gen > 1000);
	assert_true(net > io && io > gen);
	assert_true(net / gen > 2.0 && net / gen < 8.0);
}

/* ---- park / wake ---- */

struct park_arg {
	struct cairn_ult *ult;
	atomic_int phase;
};

static void
park_ult(void *arg)
{
	struct park_arg *a = arg;

	a->ult = cairn_ult_self();
	/* A wake before the park is remembered: this park returns at once. */
	cairn_ult_wake(a->ult);
	cairn_ult_park();
	atomic_store(&a->phase, 1);
	cairn_ult_park(); /* woken from the test thread */
	atomic_store(&a->phase, 2);
}

static void
test_park_wake(void **state)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	struct park_arg a = {0};
	struct cairn_ult *u;
	int i;

	assert_int_equal(
	        cairn_ult_create(cairn_xs_by_role(CAIRN_XS_MAIN, 1), park_ult, &a, &attr, &u), 0);
	for (i = 0; i < 5000 && atomic_load(&a.phase) < 1; i++)
		usleep(200);
	assert_int_equal(atomic_load(&a.phase), 1);
	usleep(2000); /* it is parked now; it must stay parked */
	assert_int_equal(atomic_load(&a.phase), 1);
	cairn_ult_wake(a.ult);
	assert_int_equal(cairn_ult_join(u), 0);
	assert_int_equal(atomic_load(&a.phase), 2);
	assert_null(cairn_ult_self());
	assert_false(cairn_in_ult());
}

/* ---- sleep accuracy ---- */

struct sleep_arg {
	uint64_t req_us;
	uint64_t got_us;
};

static void
sleep_ult(void *arg)
{
	struct sleep_arg *a = arg;
	uint64_t t0 = cairn_rt_now_us();

	cairn_ult_sleep_us(a->req_us);
	a->got_us = cairn_rt_now_us() - t0;
}

static void
test_sleep(void **state)
{
	static const uint64_t req[] = {100, 1000, 5000, 20000};
	unsigned i;

	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		struct sleep_arg a = {.req_us = req[i]};

		rt_test_run(0, sleep_ult, &a);
		printf("sleep %llu us -> %llu us\n", (unsigned long long)a.req_us,
		       (unsigned long long)a.got_us);
		assert_true(a.got_us >= a.req_us);
		assert_true(a.got_us < a.req_us + 500000); /* generous: loaded shared box */
	}
}

/* Many sleepers wake in deadline order. */
static atomic_int g_order_idx;
static int g_order[8];

static void
order_ult(void *arg)
{
	int v = (int)(intptr_t)arg;

	cairn_ult_sleep_us((uint64_t)(8 - v) * 3000);
	g_order[atomic_fetch_add(&g_order_idx, 1)] = v;
}

static void
order_driver(void *arg)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	struct cairn_ult *u[8];
	int i;

	for (i = 0; i < 8; i++)
		assert_int_equal(
		        cairn_ult_create(NULL, order_ult, (void *)(intptr_t)i, &attr, &u[i]), 0);
	for (i = 0; i < 8; i++)
		assert_int_equal(cairn_ult_join(u[i]), 0);
}

static void
test_sleep_order(void **state)
{
	int i;

	atomic_store(&g_order_idx, 0);
	rt_test_run(1, order_driver, NULL);
	for (i = 0; i < 8; i++)
		assert_int_equal(g_order[i], 7 - i);
}

/* ---- bad arguments ---- */

static void
test_bad_args(void **state)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_MAX, .joinable = false};
	struct cairn_ult *u = NULL;

	assert_int_equal(cairn_ult_create(cairn_xs_get(0), NULL, NULL, NULL, NULL),
	                 -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_ult_create(cairn_xs_get(0), detached_ult, NULL, &attr, NULL),
	                 -CAIRN_ERR_INVAL);
	attr.prio = CAIRN_PRIO_IO;
	attr.stack_size = 4096; /* below the minimum */
	assert_int_equal(cairn_ult_create(cairn_xs_get(0), detached_ult, NULL, &attr, NULL),
	                 -CAIRN_ERR_INVAL);
	attr.stack_size = 0;
	attr.joinable = true;
	assert_int_equal(cairn_ult_create(cairn_xs_get(0), detached_ult, NULL, &attr, NULL),
	                 -CAIRN_ERR_INVAL);
	/* No current xstream from a plain thread. */
	assert_int_equal(cairn_ult_create(NULL, detached_ult, NULL, NULL, &u), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_ult_join(NULL), -CAIRN_ERR_INVAL);
	assert_null(cairn_xs_get(2));
	assert_null(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0));
	assert_null(cairn_xs_by_role(CAIRN_XS_MAIN, 2));
	assert_int_equal(cairn_xs_count(), 2);
	assert_int_equal(cairn_xs_count_role(CAIRN_XS_MAIN), 2);
	assert_string_equal(cairn_xs_name(cairn_xs_get(1)), "tgt1");
	assert_int_equal(cairn_xs_role_idx(cairn_xs_get(1)), 1);
	assert_int_equal(cairn_xs_role(cairn_xs_get(1)), CAIRN_XS_MAIN);
	assert_null(cairn_xs_self());
}

/* ---- custom stack size and the guard page ---- */

static void
big_frame_ult(void *arg)
{
	volatile char buf[200 * 1024];

	memset((char *)buf, 1, sizeof(buf));
	*(int *)arg = buf[1000];
}

static void
test_stack_size(void **state)
{
	struct cairn_ult_attr attr = {
	        .prio = CAIRN_PRIO_GENERAL, .joinable = true, .stack_size = 512 * 1024};
	struct cairn_ult *u;
	int v = 0;

	assert_int_equal(cairn_ult_create(cairn_xs_get(0), big_frame_ult, &v, &attr, &u), 0);
	assert_int_equal(cairn_ult_join(u), 0);
	assert_int_equal(v, 1);
}

#ifndef CAIRN_SANITIZE
/* Each frame touches its 1 KiB, so the stack grows page by page into the guard page
 * (a single huge frame could jump over it). */
static int __attribute__((noinline)) recurse(int depth, volatile char *parent)
{
	volatile char buf[1024];

	/* The child reads our frame, so no compiler can fold the recursion into a loop. */
	buf[0] = (char)(parent != NULL ? parent[0] + 1 : 0);
	buf[sizeof(buf) - 1] = buf[0];
	if (depth == 0)
		return buf[0];
	return recurse(depth - 1, buf);
}

static void
overflow_ult(void *arg)
{
	*(int *)arg = recurse(256, NULL); /* ~256 KiB: beyond the 64 KiB default stack */
}

static void
test_guard_page(void **state)
{
	pid_t pid;
	int status;

	/* In a child: the overflow must fault on the guard page, not corrupt memory. */
	cairn_rt_fini();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
		struct cairn_ult *u;
		int v = 0;

		rt_test_start(1, 0);
		if (cairn_ult_create(cairn_xs_get(0), overflow_ult, &v, &attr, &u) != 0)
			_exit(3);
		cairn_ult_join(u);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
	rt_test_start(2, 20);
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_context_switch), cmocka_unit_test(test_stress_10k),
	        cmocka_unit_test(test_detached),       cmocka_unit_test(test_priorities),
	        cmocka_unit_test(test_park_wake),      cmocka_unit_test(test_sleep),
	        cmocka_unit_test(test_sleep_order),    cmocka_unit_test(test_bad_args),
	        cmocka_unit_test(test_stack_size),
#ifndef CAIRN_SANITIZE
	        cmocka_unit_test(test_guard_page),
#endif
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
