/*
 * ULT-aware sync across xstreams and plain threads: mutex (mutual exclusion under
 * contention, trylock), rwlock (readers share, writers exclude, no writer starvation),
 * condition (signal/broadcast/timeout), eventual (set before/after wait, timeout,
 * plain thread waiting for a ULT and vice versa).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_test.h"

static int
setup(void **state)
{
	rt_test_start(3, 20);
	return 0;
}

static int
teardown(void **state)
{
	cairn_rt_fini();
	return 0;
}

static void
spawn_all(unsigned per_xs, void (*fn)(void *), void *arg, struct cairn_ult **u)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	unsigned i;

	for (i = 0; i < per_xs * 3; i++)
		assert_int_equal(cairn_ult_create(cairn_xs_by_role(CAIRN_XS_MAIN, i % 3), fn, arg,
		                                  &attr, &u[i]),
		                 0);
}

static void
join_all(unsigned n, struct cairn_ult **u)
{
	unsigned i;

	for (i = 0; i < n; i++)
		assert_int_equal(cairn_ult_join(u[i]), 0);
}

/* ---- mutex ---- */

struct mx {
	struct cairn_mutex m;
	uint64_t counter; /* protected by m; non-atomic on purpose */
	int inside;
	int violations;
};

#define MX_ITERS 3000

static void
mx_work(struct mx *s, int i)
{
	cairn_mutex_lock(&s->m);
	if (s->inside++ != 0)
		s->violations++;
	s->counter++;
	if (i % 7 == 0 && cairn_in_ult())
		cairn_ult_yield(); /* hold the lock across a yield */
	s->inside--;
	cairn_mutex_unlock(&s->m);
}

static void
mx_ult(void *arg)
{
	int i;

	for (i = 0; i < MX_ITERS; i++)
		mx_work(arg, i);
}

static void *
mx_thread(void *arg)
{
	int i;

	for (i = 0; i < MX_ITERS; i++)
		mx_work(arg, i);
	return NULL;
}

static void
test_mutex(void **state)
{
	struct mx s;
	struct cairn_ult *u[12];
	pthread_t th[2];
	int i;

	memset(&s, 0, sizeof(s));
	assert_int_equal(cairn_mutex_init(&s.m), 0);
	spawn_all(4, mx_ult, &s, u);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, mx_thread, &s), 0);
	join_all(12, u);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(s.violations, 0);
	assert_int_equal(s.counter, 14 * MX_ITERS);
	assert_true(cairn_mutex_trylock(&s.m));
	assert_false(cairn_mutex_trylock(&s.m));
	cairn_mutex_unlock(&s.m);
	cairn_mutex_destroy(&s.m);
}

/* ---- rwlock ---- */

struct rw {
	struct cairn_rwlock l;
	atomic_int readers;
	atomic_int writers;
	atomic_int max_readers;
	int violations;
	uint64_t value;
};

static void
rw_ult(void *arg)
{
	struct rw *s = arg;
	int i;

	for (i = 0; i < 2000; i++) {
		if (i % 5 == 0) {
			cairn_rwlock_wrlock(&s->l);
			if (atomic_fetch_add(&s->writers, 1) != 0 || atomic_load(&s->readers) != 0)
				s->violations++;
			s->value++;
			cairn_ult_yield();
			atomic_fetch_sub(&s->writers, 1);
			cairn_rwlock_unlock(&s->l);
		} else {
			int r;

			cairn_rwlock_rdlock(&s->l);
			r = atomic_fetch_add(&s->readers, 1) + 1;
			if (atomic_load(&s->writers) != 0)
				s->violations++;
			if (r > atomic_load(&s->max_readers))
				atomic_store(&s->max_readers, r);
			cairn_ult_yield();
			atomic_fetch_sub(&s->readers, 1);
			cairn_rwlock_unlock(&s->l);
		}
	}
}

static void
test_rwlock(void **state)
{
	struct rw s;
	struct cairn_ult *u[12];

	memset(&s, 0, sizeof(s));
	assert_int_equal(cairn_rwlock_init(&s.l), 0);
	spawn_all(4, rw_ult, &s, u);
	join_all(12, u);
	printf("rwlock: max concurrent readers %d\n", atomic_load(&s.max_readers));
	assert_int_equal(s.violations, 0);
	assert_int_equal(s.value, 12 * 400);
	cairn_rwlock_destroy(&s.l);
}

/* Deterministic sharing: a second reader gets in while the first holds the lock; a
 * writer gets in only after both left. */
struct rw2 {
	struct cairn_rwlock l;
	atomic_int phase;
	atomic_int writer_in;
};

static void
rw2_reader2(void *arg)
{
	struct rw2 *s = arg;

	cairn_rwlock_rdlock(&s->l); /* the first reader holds it: must not block */
	atomic_store(&s->phase, 2);
	while (atomic_load(&s->phase) != 3)
		cairn_ult_sleep_us(100);
	cairn_rwlock_unlock(&s->l);
}

static void
rw2_writer(void *arg)
{
	struct rw2 *s = arg;

	cairn_rwlock_wrlock(&s->l);
	atomic_store(&s->writer_in, 1);
	cairn_rwlock_unlock(&s->l);
}

static void
test_rwlock_share(void **state)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	struct rw2 s;
	struct cairn_ult *r2, *w;
	int i;

	memset(&s, 0, sizeof(s));
	cairn_rwlock_init(&s.l);
	cairn_rwlock_rdlock(&s.l); /* reader 1: this plain thread */
	assert_int_equal(cairn_ult_create(cairn_xs_get(0), rw2_reader2, &s, &attr, &r2), 0);
	for (i = 0; i < 20000 && atomic_load(&s.phase) != 2; i++)
		usleep(100);
	assert_int_equal(atomic_load(&s.phase), 2); /* two readers inside */
	assert_int_equal(cairn_ult_create(cairn_xs_get(1), rw2_writer, &s, &attr, &w), 0);
	usleep(5000);
	assert_int_equal(atomic_load(&s.writer_in), 0); /* readers still inside */
	cairn_rwlock_unlock(&s.l);
	usleep(2000);
	assert_int_equal(atomic_load(&s.writer_in), 0); /* reader 2 still inside */
	atomic_store(&s.phase, 3);
	assert_int_equal(cairn_ult_join(r2), 0);
	assert_int_equal(cairn_ult_join(w), 0);
	assert_int_equal(atomic_load(&s.writer_in), 1);
	cairn_rwlock_destroy(&s.l);
}

/* ---- condition ---- */

struct cv {
	struct cairn_mutex m;
	struct cairn_cond c;
	int items;
	int consumed;
	bool closed;
};

static void
cv_consumer(void *arg)
{
	struct cv *s = arg;

	cairn_mutex_lock(&s->m);
	for (;;) {
		while (s->items == 0 && !s->closed)
			cairn_cond_wait(&s->c, &s->m);
		if (s->items == 0 && s->closed)
			break;
		s->items--;
		s->consumed++;
	}
	cairn_mutex_unlock(&s->m);
}

static void
test_cond(void **state)
{
	struct cv s;
	struct cairn_ult *u[6];
	int i;

	memset(&s, 0, sizeof(s));
	cairn_mutex_init(&s.m);
	cairn_cond_init(&s.c);
	spawn_all(2, cv_consumer, &s, u);
	/* Produced from a plain thread, one signal per item. */
	for (i = 0; i < 5000; i++) {
		cairn_mutex_lock(&s.m);
		s.items++;
		cairn_cond_signal(&s.c);
		cairn_mutex_unlock(&s.m);
	}
	cairn_mutex_lock(&s.m);
	s.closed = true;
	cairn_cond_broadcast(&s.c);
	cairn_mutex_unlock(&s.m);
	join_all(6, u);
	assert_int_equal(s.consumed, 5000);
	cairn_cond_destroy(&s.c);
	cairn_mutex_destroy(&s.m);
}

struct cvt {
	struct cairn_mutex m;
	struct cairn_cond c;
	int rc;
	uint64_t waited;
};

static void
cv_timed_ult(void *arg)
{
	struct cvt *s = arg;
	uint64_t t0 = cairn_rt_now_us();

	cairn_mutex_lock(&s->m);
	s->rc = cairn_cond_timedwait(&s->c, &s->m, 3000);
	/* The mutex is held again after a timeout. */
	assert_false(cairn_mutex_trylock(&s->m));
	cairn_mutex_unlock(&s->m);
	s->waited = cairn_rt_now_us() - t0;
}

static void
test_cond_timeout(void **state)
{
	struct cvt s;
	uint64_t t0;

	memset(&s, 0, sizeof(s));
	cairn_mutex_init(&s.m);
	cairn_cond_init(&s.c);
	rt_test_run(1, cv_timed_ult, &s);
	assert_int_equal(s.rc, -CAIRN_ERR_TIMEDOUT);
	assert_true(s.waited >= 3000);
	/* Same from a plain thread. */
	t0 = cairn_rt_now_us();
	cairn_mutex_lock(&s.m);
	assert_int_equal(cairn_cond_timedwait(&s.c, &s.m, 2000), -CAIRN_ERR_TIMEDOUT);
	cairn_mutex_unlock(&s.m);
	assert_true(cairn_rt_now_us() - t0 >= 2000);
}

/* ---- eventual ---- */

struct evt {
	struct cairn_eventual *ev;
	int64_t got;
	int rc;
};

static void
ev_wait_ult(void *arg)
{
	struct evt *e = arg;

	e->got = cairn_eventual_wait(e->ev);
}

static void
ev_set_ult(void *arg)
{
	struct evt *e = arg;

	cairn_ult_sleep_us(2000);
	cairn_eventual_set(e->ev, 42);
}

static void
ev_timed_ult(void *arg)
{
	struct evt *e = arg;

	e->rc = cairn_eventual_timedwait(e->ev, 2000, &e->got);
}

static void
test_eventual(void **state)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	struct evt e = {0}, e2 = {0};
	struct cairn_ult *w, *s;
	int64_t v = 0;

	/* ULT waits on xstream 0, set from a ULT on xstream 2; main thread waits too. */
	assert_int_equal(cairn_eventual_create(&e.ev), 0);
	assert_false(cairn_eventual_is_set(e.ev));
	assert_int_equal(cairn_ult_create(cairn_xs_get(0), ev_wait_ult, &e, &attr, &w), 0);
	assert_int_equal(cairn_ult_create(cairn_xs_get(2), ev_set_ult, &e, &attr, &s), 0);
	assert_int_equal(cairn_eventual_wait(e.ev), 42);
	assert_int_equal(cairn_ult_join(w), 0);
	assert_int_equal(cairn_ult_join(s), 0);
	assert_int_equal(e.got, 42);
	assert_true(cairn_eventual_is_set(e.ev));
	/* Already set: immediate. */
	assert_int_equal(cairn_eventual_timedwait(e.ev, 0, &v), 0);
	assert_int_equal(v, 42);
	cairn_eventual_destroy(e.ev);

	/* Timeouts from a ULT and a plain thread leave the value untouched. */
	assert_int_equal(cairn_eventual_create(&e2.ev), 0);
	e2.got = -7;
	rt_test_run(1, ev_timed_ult, &e2);
	assert_int_equal(e2.rc, -CAIRN_ERR_TIMEDOUT);
	assert_int_equal(e2.got, -7);
	v = -9;
	assert_int_equal(cairn_eventual_timedwait(e2.ev, 1000, &v), -CAIRN_ERR_TIMEDOUT);
	assert_int_equal(v, -9);
	/* Plain thread sets, ULT waits (cross thread wake). */
	assert_int_equal(cairn_ult_create(cairn_xs_get(1), ev_wait_ult, &e2, &attr, &w), 0);
	usleep(2000);
	cairn_eventual_set(e2.ev, -5);
	assert_int_equal(cairn_ult_join(w), 0);
	assert_int_equal(e2.got, -5);
	cairn_eventual_destroy(e2.ev);
	assert_int_equal(cairn_eventual_create(NULL), -CAIRN_ERR_INVAL);
}

/* Many eventuals handed between xstreams: no lost wake under stress. */
#define NR_HAND 2000

static struct cairn_eventual *g_hand[NR_HAND];

static void
hand_waiter(void *arg)
{
	int i;

	for (i = 0; i < NR_HAND; i++)
		assert_int_equal(cairn_eventual_wait(g_hand[i]), i);
}

static void
hand_setter(void *arg)
{
	int i;

	for (i = 0; i < NR_HAND; i++) {
		cairn_eventual_set(g_hand[i], i);
		if (i % 3 == 0)
			cairn_ult_yield();
	}
}

static void
test_eventual_stress(void **state)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	struct cairn_ult *w, *s;
	int i;

	for (i = 0; i < NR_HAND; i++)
		assert_int_equal(cairn_eventual_create(&g_hand[i]), 0);
	assert_int_equal(cairn_ult_create(cairn_xs_get(0), hand_waiter, NULL, &attr, &w), 0);
	assert_int_equal(cairn_ult_create(cairn_xs_get(1), hand_setter, NULL, &attr, &s), 0);
	assert_int_equal(cairn_ult_join(w), 0);
	assert_int_equal(cairn_ult_join(s), 0);
	for (i = 0; i < NR_HAND; i++)
		cairn_eventual_destroy(g_hand[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_mutex),           cmocka_unit_test(test_rwlock),
	        cmocka_unit_test(test_rwlock_share),    cmocka_unit_test(test_cond),
	        cmocka_unit_test(test_cond_timeout),    cmocka_unit_test(test_eventual),
	        cmocka_unit_test(test_eventual_stress),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
