/*
 * Pollers: busy pollers run every loop, timed pollers at their period (and wake a
 * sleeping xstream), pause/resume, unregister from inside the poller itself, from
 * another poller and from a ULT; wake fds wake an idle xstream.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "rt_test.h"

static int
setup(void **state)
{
	rt_test_start(2, 10);
	return 0;
}

static int
teardown(void **state)
{
	cairn_rt_fini();
	return 0;
}

struct pc {
	atomic_int runs;
	int limit;
	struct cairn_poller *self;
	struct cairn_poller *victim;
	uint64_t first_us, last_us;
};

static int
count_poller(void *arg)
{
	struct pc *c = arg;
	uint64_t now = cairn_rt_now_us();

	assert_false(cairn_in_ult());
	assert_non_null(cairn_xs_self());
	if (atomic_load(&c->runs) == 0)
		c->first_us = now;
	c->last_us = now;
	if (atomic_fetch_add(&c->runs, 1) + 1 == c->limit)
		cairn_poller_unregister(&c->self); /* from inside itself */
	return 1;
}

static void
reg_busy(void *arg)
{
	struct pc *c = arg;

	c->self = cairn_poller_register(count_poller, c, 0, "busy");
	assert_non_null(c->self);
}

static void
reg_timed(void *arg)
{
	struct pc *c = arg;

	c->self = cairn_poller_register(count_poller, c, 2000, "timed");
	assert_non_null(c->self);
}

/* A ULT round trip on the xstream: orders the pollers' plain writes (c->self, times)
 * before the test thread's reads. */
static void
sync_nop(void *arg)
{
}

static void
test_busy_self_unregister(void **state)
{
	struct pc c = {.limit = 1000};
	int i;

	rt_test_run(0, reg_busy, &c);
	for (i = 0; i < 5000 && atomic_load(&c.runs) < 1000; i++)
		usleep(200);
	usleep(5000);
	assert_int_equal(atomic_load(&c.runs), 1000); /* not one run after unregister */
	rt_test_run(0, sync_nop, NULL);
	assert_null(c.self);
}

static void
test_timed(void **state)
{
	struct pc c = {.limit = 10};
	double per;
	int i;

	/* The xstream is idle: the timerfd must wake it for each run. */
	rt_test_run(1, reg_timed, &c);
	for (i = 0; i < 5000 && atomic_load(&c.runs) < 10; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&c.runs), 10);
	rt_test_run(1, sync_nop, NULL);
	per = (double)(c.last_us - c.first_us) / 9.0;
	printf("timed poller: period 2000 us, measured %.0f us\n", per);
	assert_true(per >= 1900 && per < 200000); /* upper bound generous: shared box */
}

/* ---- pause / resume, unregister from a ULT ---- */

static void
pause_ult(void *arg)
{
	struct pc *c = arg;

	cairn_poller_pause(c->self);
}

static void
resume_ult(void *arg)
{
	struct pc *c = arg;

	cairn_poller_resume(c->self);
}

static void
unreg_ult(void *arg)
{
	struct pc *c = arg;

	cairn_poller_unregister(&c->self);
	assert_null(c->self);
}

static void
test_pause_resume(void **state)
{
	struct pc c = {.limit = -1};
	int r0, r1, i;

	rt_test_run(0, reg_busy, &c);
	for (i = 0; i < 10000 && atomic_load(&c.runs) == 0; i++)
		usleep(200);
	rt_test_run(0, pause_ult, &c);
	r0 = atomic_load(&c.runs);
	usleep(10000);
	r1 = atomic_load(&c.runs);
	assert_true(r0 > 0);
	assert_int_equal(r0, r1);
	rt_test_run(0, resume_ult, &c);
	for (i = 0; i < 10000 && atomic_load(&c.runs) == r1; i++)
		usleep(200);
	assert_true(atomic_load(&c.runs) > r1);
	rt_test_run(0, unreg_ult, &c);
	r0 = atomic_load(&c.runs);
	usleep(5000);
	assert_int_equal(atomic_load(&c.runs), r0);
}

/* ---- a poller unregistering another poller ---- */

struct pair {
	struct pc a, b;
	atomic_int killer_runs;
	struct cairn_poller *killer;
};

static int
killer_poller(void *arg)
{
	struct pair *p = arg;

	if (atomic_fetch_add(&p->killer_runs, 1) == 10) {
		cairn_poller_unregister(&p->a.self);
		cairn_poller_unregister(&p->killer);
	}
	return 0;
}

static void
reg_pair(void *arg)
{
	struct pair *p = arg;

	p->killer = cairn_poller_register(killer_poller, p, 0, "killer");
	p->a.self = cairn_poller_register(count_poller, &p->a, 0, "victim");
	assert_non_null(p->killer);
	assert_non_null(p->a.self);
}

static void
test_unregister_other(void **state)
{
	struct pair p;
	int r, i;

	memset(&p, 0, sizeof(p));
	p.a.limit = -1;
	rt_test_run(1, reg_pair, &p);
	for (i = 0; i < 10000 && atomic_load(&p.killer_runs) < 11; i++)
		usleep(200);
	usleep(2000);
	r = atomic_load(&p.a.runs);
	assert_int_equal(atomic_load(&p.killer_runs), 11);
	usleep(5000);
	assert_int_equal(atomic_load(&p.a.runs), r);
	assert_true(r >= 10 && r <= 11);
	rt_test_run(1, sync_nop, NULL); /* the pollers' writes to p happen before we return */
	assert_null(p.killer);
	assert_null(p.a.self);
}

/* ---- wake fd: an fd becoming readable wakes a sleeping xstream ---- */

struct wf {
	int fd;
	atomic_int seen;
	struct cairn_poller *p;
};

static int
fd_poller(void *arg)
{
	struct wf *w = arg;
	uint64_t v;

	if (read(w->fd, &v, sizeof(v)) == sizeof(v)) {
		atomic_fetch_add(&w->seen, (int)v);
		return 1;
	}
	return 0;
}

static void
reg_fd(void *arg)
{
	struct wf *w = arg;

	w->p = cairn_poller_register(fd_poller, w, 0, "fd");
	assert_non_null(w->p);
	assert_int_equal(cairn_rt_wake_fd_add(w->fd, EPOLLIN), 0);
	assert_int_equal(cairn_rt_wake_fd_add(w->fd, EPOLLIN), -EEXIST);
	assert_int_equal(cairn_rt_wake_fd_mod(w->fd, EPOLLIN), 0);
}

static void
unreg_fd(void *arg)
{
	struct wf *w = arg;

	assert_int_equal(cairn_rt_wake_fd_del(w->fd), 0);
	cairn_poller_unregister(&w->p);
}

static void
test_wake_fd(void **state)
{
	struct wf w = {0};
	struct cairn_xs_stats st0, st1;
	uint64_t one = 1;
	int i;

	w.fd = eventfd(0, EFD_NONBLOCK);
	assert_true(w.fd >= 0);
	rt_test_run(0, reg_fd, &w);
	assert_int_equal(cairn_rt_wake_fd_add(w.fd, EPOLLIN), -CAIRN_ERR_INVAL); /* no xstream */
	usleep(20000); /* idle: asleep in epoll */
	cairn_xs_stats(cairn_xs_get(0), &st0);
	assert_int_equal(write(w.fd, &one, sizeof(one)), 8);
	for (i = 0; i < 2000 && atomic_load(&w.seen) == 0; i++)
		usleep(500);
	assert_int_equal(atomic_load(&w.seen), 1);
	cairn_xs_stats(cairn_xs_get(0), &st1);
	assert_true(st1.sleeps > st0.sleeps || st0.sleeps > 0);
	rt_test_run(0, unreg_fd, &w);
	close(w.fd);
}

static void
test_bad_register(void **state)
{
	/* Not on an xstream. */
	assert_null(cairn_poller_register(count_poller, NULL, 0, "x"));
	cairn_poller_unregister(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_busy_self_unregister),
	        cmocka_unit_test(test_timed),
	        cmocka_unit_test(test_pause_resume),
	        cmocka_unit_test(test_unregister_other),
	        cmocka_unit_test(test_wake_fd),
	        cmocka_unit_test(test_bad_register),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
