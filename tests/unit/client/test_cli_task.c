/*
 * Unit tests for src/client/cli_task.c: bodies and args, stacked callbacks, dependency
 * graphs (diamond, 10k chain), result propagation, reinit rounds, cancellation, event
 * binding, the sync/async helper, completions from other threads.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cairn/cairn.h"
#include "client_internal.h"
#include "common/time.h"

static struct cli_sched g_sched;

static int
setup(void **state)
{
	if (cairn_init() != 0)
		return -1;
	return cli_sched_init(&g_sched, NULL, NULL);
}

static int
teardown(void **state)
{
	int rc = cli_sched_fini(&g_sched);

	if (rc != 0)
		return rc;
	return cairn_fini();
}

/* Execution log shared by bodies and callbacks. */
static int g_log[16384];
static int g_nlog;

struct targs {
	int id;
	int rc; /* what the body completes with */
	int runs;
};

static int
body_log(struct cli_task *t)
{
	struct targs *a = cli_task_args(t);

	a->runs++;
	g_log[g_nlog++] = a->id;
	cli_task_complete(t, a->rc);
	return 0;
}

static struct cli_task *
mk(int id, int rc)
{
	struct cli_task *t;
	struct targs *a;

	assert_int_equal(cli_task_create(body_log, &g_sched, &t), 0);
	a = cli_task_args(t);
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->rc = rc;
	return t;
}

static int
cb_log(struct cli_task *t, void *arg)
{
	g_log[g_nlog++] = *(int *)arg;
	return 0;
}

static void
test_body_and_callbacks(void **state)
{
	struct cli_task *t = NULL;
	int a = 100, b = 200;

	g_nlog = 0;
	assert_int_equal(cli_task_create(NULL, &g_sched, &t), -CAIRN_ERR_INVAL);
	t = mk(1, -CAIRN_ERR_IO);
	assert_int_equal(cli_task_register_comp_cb(t, cb_log, &a, sizeof(a)), 0);
	assert_int_equal(cli_task_register_comp_cb(t, cb_log, &b, sizeof(b)), 0);
	a = b = 0; /* the callbacks got copies */
	cli_task_addref(t);
	assert_int_equal(cli_task_schedule(t, false), 0);
	assert_int_equal(cli_task_schedule(t, false), -CAIRN_ERR_INVAL);
	assert_int_equal(g_nlog, 0); /* nothing runs inside schedule() */
	assert_int_equal(cli_sched_inflight(&g_sched), 1);
	assert_true(cli_sched_progress(&g_sched) >= 2);
	/* body, then callbacks newest first */
	assert_int_equal(g_nlog, 3);
	assert_int_equal(g_log[0], 1);
	assert_int_equal(g_log[1], 200);
	assert_int_equal(g_log[2], 100);
	assert_int_equal(cli_task_rc(t), -CAIRN_ERR_IO);
	assert_int_equal(cli_sched_inflight(&g_sched), 0);
	assert_int_equal(cli_task_cancel(t, -CAIRN_ERR_CANCELED), -CAIRN_ERR_ALREADY);
	cli_task_decref(t);

	/* instant: the body runs in schedule() */
	g_nlog = 0;
	t = mk(2, 0);
	assert_int_equal(cli_task_schedule(t, true), 0);
	assert_int_equal(g_nlog, 1);
	cli_sched_progress(&g_sched);

	/* a task never scheduled is destroyed */
	t = mk(3, 0);
	cli_task_destroy(t);
	assert_int_equal(g_sched.ntasks, 0);
}

static void
test_diamond(void **state)
{
	/* A -> {B, C} -> D */
	struct cli_task *a = mk(1, 0), *b = mk(2, 0), *c = mk(3, 0), *d = mk(4, 0);
	struct cli_task *bc[2] = { b, c };

	g_nlog = 0;
	assert_int_equal(cli_task_register_deps(b, 1, &a), 0);
	assert_int_equal(cli_task_register_deps(c, 1, &a), 0);
	assert_int_equal(cli_task_register_deps(d, 2, bc), 0);
	assert_int_equal(cli_task_register_deps(d, 1, &d), -CAIRN_ERR_INVAL);
	/* schedule all but the root: nothing can run */
	assert_int_equal(cli_task_schedule(d, false), 0);
	assert_int_equal(cli_task_schedule(c, false), 0);
	assert_int_equal(cli_task_schedule(b, false), 0);
	assert_int_equal(cli_sched_progress(&g_sched), 0);
	assert_int_equal(g_nlog, 0);
	assert_int_equal(cli_sched_inflight(&g_sched), 3);
	/* cancel_all finishes the stuck graph without running a body; the unscheduled
	 * root is then simply destroyed */
	cli_sched_cancel_all(&g_sched, -CAIRN_ERR_CANCELED);
	cli_sched_progress(&g_sched);
	assert_int_equal(cli_sched_inflight(&g_sched), 0);
	assert_int_equal(g_nlog, 0);
	cli_task_destroy(a);
	assert_int_equal(g_sched.ntasks, 0);

	/* now the whole diamond, scheduled in reverse: dependencies decide the order */
	g_nlog = 0;
	a = mk(1, 0);
	b = mk(2, 0);
	c = mk(3, 0);
	d = mk(4, 0);
	bc[0] = b;
	bc[1] = c;
	cli_task_addref(d);
	assert_int_equal(cli_task_register_deps(b, 1, &a), 0);
	assert_int_equal(cli_task_register_deps(c, 1, &a), 0);
	assert_int_equal(cli_task_register_deps(d, 2, bc), 0);
	assert_int_equal(cli_task_schedule(d, false), 0);
	assert_int_equal(cli_task_schedule(c, false), 0);
	assert_int_equal(cli_task_schedule(b, false), 0);
	assert_int_equal(cli_task_schedule(a, false), 0);
	cli_sched_progress(&g_sched);
	assert_int_equal(g_nlog, 4);
	assert_int_equal(g_log[0], 1);
	assert_true((g_log[1] == 2 && g_log[2] == 3) || (g_log[1] == 3 && g_log[2] == 2));
	assert_int_equal(g_log[3], 4);
	assert_int_equal(cli_task_rc(d), 0);
	cli_task_decref(d);
}

static void
test_chain_10k(void **state)
{
	enum { N = 10000 };
	struct cli_task **t = calloc(N, sizeof(*t));
	uint64_t t0 = cairn_now_ns();

	assert_non_null(t);
	g_nlog = 0;
	for (int i = 0; i < N; i++) {
		t[i] = mk(i, 0);
		if (i > 0)
			assert_int_equal(cli_task_register_deps(t[i], 1, &t[i - 1]), 0);
	}
	cli_task_addref(t[N - 1]);
	/* schedule last to first: each becomes ready only when its predecessor finished */
	for (int i = N - 1; i >= 0; i--)
		assert_int_equal(cli_task_schedule(t[i], false), 0);
	cli_sched_progress(&g_sched);
	assert_int_equal(g_nlog, N);
	for (int i = 0; i < N; i++)
		assert_int_equal(g_log[i], i);
	assert_int_equal(cli_task_rc(t[N - 1]), 0);
	cli_task_decref(t[N - 1]);
	assert_int_equal(g_sched.ntasks, 0);
	print_message("chain of %d tasks: %.1f ms\n", N, (cairn_now_ns() - t0) / 1e6);
	free(t);
}

static int
body_check_dep(struct cli_task *t)
{
	struct targs *a = cli_task_args(t);

	a->runs++;
	cli_task_complete(t, cli_task_dep_rc(t) == -CAIRN_ERR_IO ? 0 : -CAIRN_ERR_MISC);
	return 0;
}

static void
test_result_propagation(void **state)
{
	struct cli_task *a = mk(1, -CAIRN_ERR_IO), *b = mk(2, 0), *c, *late;
	struct targs *ca;

	assert_int_equal(cli_task_create(body_check_dep, &g_sched, &c), 0);
	ca = cli_task_args(c);
	memset(ca, 0, sizeof(*ca));
	cli_task_set_flags(c, CLI_TASK_RUN_ON_DEP_ERR);
	assert_int_equal(cli_task_register_deps(b, 1, &a), 0);
	assert_int_equal(cli_task_register_deps(c, 1, &a), 0);
	cli_task_addref(a);
	cli_task_addref(b);
	cli_task_addref(c);
	g_nlog = 0;
	assert_int_equal(cli_task_schedule(b, false), 0);
	assert_int_equal(cli_task_schedule(c, false), 0);
	assert_int_equal(cli_task_schedule(a, false), 0);
	cli_sched_progress(&g_sched);
	assert_int_equal(g_nlog, 1); /* only a's body ran; b did not */
	assert_int_equal(cli_task_rc(b), -CAIRN_ERR_IO);
	assert_int_equal(((struct targs *)cli_task_args(b))->runs, 0);
	assert_int_equal(ca->runs, 1); /* c asked to run anyway, and saw the error */
	assert_int_equal(cli_task_rc(c), 0);

	/* a dependency that already finished still passes its result on */
	late = mk(3, 0);
	assert_int_equal(cli_task_register_deps(late, 1, &a), 0);
	cli_task_addref(late);
	assert_int_equal(cli_task_schedule(late, false), 0);
	cli_sched_progress(&g_sched);
	assert_int_equal(cli_task_rc(late), -CAIRN_ERR_IO);
	cli_task_decref(late);
	cli_task_decref(a);
	cli_task_decref(b);
	cli_task_decref(c);
}

static int
cb_reinit(struct cli_task *t, void *arg)
{
	int *rounds = arg;
	struct targs *a = cli_task_args(t);

	if (a->runs < *rounds) {
		assert_int_equal(cli_task_reinit(t, NULL), 0);
		assert_int_equal(cli_task_reinit(t, NULL), -CAIRN_ERR_INVAL);
		/* re-register ourselves for the next round */
		assert_int_equal(cli_task_register_comp_cb(t, cb_reinit, rounds, sizeof(*rounds)),
				 0);
	}
	return 0;
}

static void
test_reinit_rounds(void **state)
{
	struct cli_task *t = mk(7, 0), *after = mk(8, 0);
	int rounds = 5, outer = 999;

	g_nlog = 0;
	/* the outer callback was registered first: it runs once, after the last round */
	assert_int_equal(cli_task_register_comp_cb(t, cb_log, &outer, sizeof(outer)), 0);
	assert_int_equal(cli_task_register_comp_cb(t, cb_reinit, &rounds, sizeof(rounds)), 0);
	assert_int_equal(cli_task_register_deps(after, 1, &t), 0);
	cli_task_addref(t);
	assert_int_equal(cli_task_schedule(after, false), 0);
	assert_int_equal(cli_task_schedule(t, false), 0);
	cli_sched_progress(&g_sched);
	assert_int_equal(((struct targs *)cli_task_args(t))->runs, 5);
	/* 5 bodies, the outer callback, then the dependent */
	assert_int_equal(g_nlog, 7);
	for (int i = 0; i < 5; i++)
		assert_int_equal(g_log[i], 7);
	assert_int_equal(g_log[5], 999);
	assert_int_equal(g_log[6], 8);
	assert_int_equal(cli_task_reinit(t, NULL), -CAIRN_ERR_INVAL); /* finished */
	cli_task_decref(t);
}

/* A body that never completes by itself: the test (or a thread) completes it. */
static int
body_hang(struct cli_task *t)
{
	g_log[g_nlog++] = ((struct targs *)cli_task_args(t))->id;
	return 0;
}

static int g_cancel_hooks;

static void
cancel_hook(struct cli_task *t)
{
	g_cancel_hooks++;
}

static void
test_cancel(void **state)
{
	struct cli_task *run, *wait1, *wait2, *ready, *fresh;
	struct targs *a;

	g_nlog = 0;
	assert_int_equal(cli_task_create(body_hang, &g_sched, &run), 0);
	a = cli_task_args(run);
	a->id = 50;
	cli_task_set_cancel_cb(run, cancel_hook);
	wait1 = mk(51, 0);
	wait2 = mk(52, 0);
	ready = mk(53, 0);
	assert_int_equal(cli_task_register_deps(wait1, 1, &run), 0);
	assert_int_equal(cli_task_register_deps(wait2, 1, &wait1), 0);
	cli_task_addref(run);
	cli_task_addref(wait1);
	cli_task_addref(wait2);
	cli_task_addref(ready);
	assert_int_equal(cli_task_schedule(run, true), 0);
	assert_int_equal(cli_task_schedule(wait1, false), 0);
	assert_int_equal(cli_task_schedule(wait2, false), 0);
	assert_int_equal(cli_task_schedule(ready, false), 0);
	assert_int_equal(g_nlog, 1);

	/* a ready task: completes canceled without its body */
	assert_int_equal(cli_task_cancel(ready, -CAIRN_ERR_CANCELED), 0);
	assert_int_equal(cli_task_cancel(ready, -CAIRN_ERR_CANCELED), -CAIRN_ERR_ALREADY);
	/* a waiting task: same; its dependent inherits the cancellation */
	assert_int_equal(cli_task_cancel(wait1, -CAIRN_ERR_CANCELED), 0);
	cli_sched_progress(&g_sched);
	assert_int_equal(g_nlog, 1);
	assert_int_equal(cli_task_rc(ready), -CAIRN_ERR_CANCELED);
	assert_int_equal(cli_task_rc(wait1), -CAIRN_ERR_CANCELED);
	assert_int_equal(cli_task_rc(wait2), -CAIRN_ERR_CANCELED);

	/* a running task: flagged, hook called, its eventual result is "canceled" */
	g_cancel_hooks = 0;
	assert_false(cli_task_canceled(run));
	assert_int_equal(cli_task_cancel(run, -CAIRN_ERR_CANCELED), 0);
	assert_true(cli_task_canceled(run));
	assert_int_equal(g_cancel_hooks, 1);
	assert_int_equal(cli_sched_inflight(&g_sched), 1);
	cli_task_complete(run, 0);
	cli_sched_progress(&g_sched);
	assert_int_equal(cli_task_rc(run), -CAIRN_ERR_CANCELED);
	assert_int_equal(cli_sched_inflight(&g_sched), 0);

	/* canceled before scheduling: completes at schedule time, body never runs */
	fresh = mk(54, 0);
	cli_task_addref(fresh);
	assert_int_equal(cli_task_cancel(fresh, -CAIRN_ERR_TIMEDOUT), 0);
	assert_int_equal(cli_task_schedule(fresh, true), 0);
	cli_sched_progress(&g_sched);
	assert_int_equal(cli_task_rc(fresh), -CAIRN_ERR_TIMEDOUT);
	assert_int_equal(g_nlog, 1);
	cli_task_decref(fresh);
	cli_task_decref(run);
	cli_task_decref(wait1);
	cli_task_decref(wait2);
	cli_task_decref(ready);
}

/* Complete a task from another thread after a delay (as a network callback would). */
struct remote {
	struct cli_task *task;
	int rc;
};

static void *
remote_complete(void *arg)
{
	struct remote *r = arg;

	cairn_sleep_ms(10);
	cli_task_complete(r->task, r->rc);
	free(r);
	return NULL;
}

static int
body_remote(struct cli_task *t)
{
	struct remote *r = malloc(sizeof(*r));
	pthread_t th;

	assert_non_null(r);
	r->task = t;
	r->rc = ((struct targs *)cli_task_args(t))->rc;
	assert_int_equal(pthread_create(&th, NULL, remote_complete, r), 0);
	pthread_detach(th);
	return 0;
}

static struct cli_task *
mk_on(cli_task_func_t f, struct cli_sched *s, int rc)
{
	struct cli_task *t;

	assert_int_equal(cli_task_create(f, s, &t), 0);
	memset(cli_task_args(t), 0, sizeof(struct targs));
	((struct targs *)cli_task_args(t))->rc = rc;
	return t;
}

static void
test_sync_and_async_helper(void **state)
{
	struct cairn_handle eq;
	struct cairn_event ev, *out[1];
	struct cli_task *t;

	/* synchronous: NULL event, result returned, completion from another thread */
	t = mk_on(body_remote, cli_ev2sched(NULL), -CAIRN_ERR_NOSPACE);
	assert_int_equal(cli_task_run(t, NULL), -CAIRN_ERR_NOSPACE);
	t = mk_on(body_log, cli_ev2sched(NULL), 0);
	assert_int_equal(cli_task_run(t, NULL), 0);

	/* asynchronous: an event on an EQ */
	assert_int_equal(cairn_eq_create(&eq), 0);
	assert_int_equal(cairn_event_init(&ev, eq, NULL), 0);
	t = mk_on(body_remote, cli_ev2sched(&ev), -CAIRN_ERR_PERM);
	assert_int_equal(cli_task_run(t, &ev), 0);
	assert_int_equal(cairn_eq_poll(eq, 1, 10 * (int64_t)CAIRN_USEC_PER_SEC, 1, out), 1);
	assert_ptr_equal(out[0], &ev);
	assert_int_equal(ev.ev_error, -CAIRN_ERR_PERM);

	/* a task from another scheduler than the event's is refused */
	t = mk_on(body_log, &g_sched, 0);
	assert_int_equal(cli_task_run(t, &ev), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_event_state(&ev), CAIRN_EVS_READY);
	assert_int_equal(g_sched.ntasks, 0);

	/* a launch failure reports at once and leaves the event alone */
	assert_int_equal(cli_ev_launch(&ev), 0);
	t = mk_on(body_log, cli_ev2sched(&ev), 0);
	assert_int_equal(cli_task_run(t, &ev), -CAIRN_ERR_INVAL);
	cli_ev_complete(&ev, 0);
	assert_int_equal(cairn_eq_poll(eq, 1, 0, 1, out), 1);
	assert_int_equal(cairn_event_fini(&ev), 0);
	assert_int_equal(cairn_eq_destroy(eq, 0), 0);
}

static void
test_abort_cancels_task(void **state)
{
	struct cairn_handle eq;
	struct cairn_event ev, *out[1];
	struct cli_task *blocker, *t;

	assert_int_equal(cairn_eq_create(&eq), 0);
	assert_int_equal(cairn_event_init(&ev, eq, NULL), 0);
	/* t waits for a task that never runs by itself */
	assert_int_equal(cli_task_create(body_hang, cli_ev2sched(&ev), &blocker), 0);
	t = mk_on(body_log, cli_ev2sched(&ev), 0);
	assert_int_equal(cli_task_register_deps(t, 1, &blocker), 0);
	assert_int_equal(cli_task_run(t, &ev), 0);
	assert_int_equal(cairn_eq_poll(eq, 1, 1000, 1, out), 0);
	assert_int_equal(cairn_event_abort(&ev), 0);
	assert_int_equal(cairn_eq_poll(eq, 1, 10 * (int64_t)CAIRN_USEC_PER_SEC, 1, out), 1);
	assert_int_equal(ev.ev_error, -CAIRN_ERR_CANCELED);
	assert_int_equal(cairn_event_fini(&ev), 0);
	cli_task_destroy(blocker);
	assert_int_equal(cairn_eq_destroy(eq, 0), 0);
}

#define NWORKERS 3
#define PER_WORKER 3000

struct worker {
	struct cli_task **tasks;
	int n;
};

static void *
worker_complete(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < w->n; i++)
		cli_task_complete(w->tasks[i], i % 5 == 0 ? -CAIRN_ERR_IO : 0);
	return NULL;
}

static int
body_noop(struct cli_task *t)
{
	return 0;
}

static int
cb_count(struct cli_task *t, void *arg)
{
	uint64_t *counters = *(uint64_t **)arg;

	__atomic_add_fetch(&counters[cli_task_rc(t) == 0 ? 0 : 1], 1, __ATOMIC_RELAXED);
	return 0;
}

static void
test_threaded_completions(void **state)
{
	const int total = NWORKERS * PER_WORKER;
	struct cli_task **tasks = calloc(total, sizeof(*tasks));
	struct worker w[NWORKERS];
	pthread_t th[NWORKERS];
	uint64_t counters[2] = { 0, 0 };
	uint64_t *cp = counters;
	uint64_t deadline = cairn_now_ns() + 30 * CAIRN_NSEC_PER_SEC;

	assert_non_null(tasks);
	for (int i = 0; i < total; i++) {
		tasks[i] = mk_on(body_noop, &g_sched, 0);
		assert_int_equal(cli_task_register_comp_cb(tasks[i], cb_count, &cp, sizeof(cp)), 0);
		/* instant: the body has run (and returned) before the workers see it */
		assert_int_equal(cli_task_schedule(tasks[i], true), 0);
	}
	for (int i = 0; i < NWORKERS; i++) {
		w[i].tasks = tasks + i * PER_WORKER;
		w[i].n = PER_WORKER;
		assert_int_equal(pthread_create(&th[i], NULL, worker_complete, &w[i]), 0);
	}
	while (cli_sched_inflight(&g_sched) > 0 && cairn_now_ns() < deadline)
		cli_sched_progress(&g_sched);
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(th[i], NULL);
	cli_sched_progress(&g_sched);
	assert_int_equal(counters[0] + counters[1], total);
	assert_int_equal(counters[1], NWORKERS * ((PER_WORKER + 4) / 5));
	free(tasks);
}

/* Tasks bound to events on an EQ, completed by worker threads while the main thread
 * polls: the scheduler's wake hook must wake the poller for every completion. */
#define EQ_TASKS 2000

struct handoff {
	pthread_mutex_t lock;
	struct cli_task *q[EQ_TASKS];
	int head, tail;
	bool stop;
};

static struct handoff g_ho = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int
body_handoff(struct cli_task *t)
{
	pthread_mutex_lock(&g_ho.lock);
	g_ho.q[g_ho.tail++] = t;
	pthread_mutex_unlock(&g_ho.lock);
	return 0;
}

static void *
handoff_worker(void *arg)
{
	for (;;) {
		struct cli_task *t = NULL;
		bool stop;

		pthread_mutex_lock(&g_ho.lock);
		if (g_ho.head < g_ho.tail)
			t = g_ho.q[g_ho.head++];
		stop = g_ho.stop;
		pthread_mutex_unlock(&g_ho.lock);
		if (t != NULL) {
			int id = ((struct targs *)cli_task_args(t))->id;

			cli_task_complete(t, id % 3 == 0 ? -CAIRN_ERR_AGAIN : 0);
		} else if (stop) {
			return NULL;
		} else {
			cairn_sleep_us(50);
		}
	}
}

static void
test_eq_tasks_threads(void **state)
{
	struct cairn_event *evs = calloc(EQ_TASKS, sizeof(*evs)), *out[32];
	uint8_t *seen = calloc(EQ_TASKS, 1);
	uint64_t deadline = cairn_now_ns() + 30 * CAIRN_NSEC_PER_SEC;
	struct cairn_handle eq;
	pthread_t th[2];
	int got = 0;

	assert_non_null(evs);
	assert_non_null(seen);
	g_ho.head = g_ho.tail = 0;
	g_ho.stop = false;
	assert_int_equal(cairn_eq_create(&eq), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, handoff_worker, NULL), 0);
	for (int i = 0; i < EQ_TASKS; i++) {
		struct cli_task *t;

		assert_int_equal(cairn_event_init(&evs[i], eq, NULL), 0);
		evs[i].ev_debug = (uint64_t)i;
		t = mk_on(body_handoff, cli_ev2sched(&evs[i]), 0);
		((struct targs *)cli_task_args(t))->id = i;
		assert_int_equal(cli_task_run(t, &evs[i]), 0);
	}
	while (got < EQ_TASKS && cairn_now_ns() < deadline) {
		int n = cairn_eq_poll(eq, 1, 1000000, 32, out);

		assert_true(n >= 0);
		for (int i = 0; i < n; i++) {
			uint64_t id = out[i]->ev_debug;

			assert_int_equal(seen[id], 0);
			seen[id] = 1;
			assert_int_equal(out[i]->ev_error, id % 3 == 0 ? -CAIRN_ERR_AGAIN : 0);
		}
		got += n;
	}
	pthread_mutex_lock(&g_ho.lock);
	g_ho.stop = true;
	pthread_mutex_unlock(&g_ho.lock);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(got, EQ_TASKS);
	for (int i = 0; i < EQ_TASKS; i++)
		assert_int_equal(cairn_event_fini(&evs[i]), 0);
	assert_int_equal(cairn_eq_destroy(eq, 0), 0);
	free(evs);
	free(seen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_body_and_callbacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diamond, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_10k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_result_propagation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reinit_rounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_and_async_helper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_cancels_task, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threaded_completions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eq_tasks_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
