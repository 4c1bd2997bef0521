/*
 * Unit tests for src/client/cli_event.c: EQ lifecycle, event states, poll timeouts,
 * eventfd, concurrent completions, parents/children/barriers, abort, query, test.
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "cairn/cairn.h"
#include "client_internal.h"
#include "common/time.h"

static struct cairn_handle g_eq;

static int
setup(void **state)
{
	if (cairn_init() != 0 || cairn_eq_create(&g_eq) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	if (cairn_eq_destroy(g_eq, 0) != 0)
		return -1;
	return cairn_fini();
}

static bool
fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void
test_eq_lifecycle(void **state)
{
	struct cairn_handle eq, bogus = { .cookie = 12345 };
	struct cairn_event *evp;
	int fd;

	assert_int_equal(cairn_eq_create(NULL), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_eq_create(&eq), 0);
	assert_true(cairn_handle_is_valid(eq));
	assert_int_equal(cairn_eq_destroy(eq, 0x80), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_eq_destroy(eq, 0), 0);
	assert_int_equal(cairn_eq_destroy(eq, 0), -CAIRN_ERR_NOHANDLE);
	assert_int_equal(cairn_eq_poll(eq, 0, 0, 1, &evp), -CAIRN_ERR_NOHANDLE);
	assert_int_equal(cairn_eq_get_fd(eq, &fd), -CAIRN_ERR_NOHANDLE);
	assert_int_equal(cairn_eq_destroy(bogus, 0), -CAIRN_ERR_NOHANDLE);
	assert_int_equal(cairn_eq_destroy(CAIRN_HANDLE_NULL, 0), -CAIRN_ERR_NOHANDLE);
	assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 0, &evp), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 1, NULL), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_eq_poll(g_eq, 0, -2, 1, &evp), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_eq_query(g_eq, 0, 0, NULL), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_eq_query(g_eq, CAIRN_EQR_ALL, 1, NULL), -CAIRN_ERR_INVAL);
}

static void
test_event_states_and_poll(void **state)
{
	struct cairn_event ev, *out[4];
	int fd;

	assert_int_equal(cairn_event_state(NULL), CAIRN_EVS_INIT);
	assert_int_equal(cairn_event_init(&ev, g_eq, NULL), 0);
	assert_int_equal(cairn_event_state(&ev), CAIRN_EVS_READY);
	assert_int_equal(cairn_eq_get_fd(g_eq, &fd), 0);
	assert_false(fd_readable(fd));

	assert_int_equal(cli_ev_launch(&ev), 0);
	assert_int_equal(cli_ev_launch(&ev), -CAIRN_ERR_INVAL); /* already running */
	assert_int_equal(cairn_event_state(&ev), CAIRN_EVS_RUNNING);
	assert_int_equal(cairn_event_fini(&ev), -CAIRN_ERR_BUSY);
	assert_int_equal(cairn_eq_query(g_eq, CAIRN_EQR_WAITING, 0, NULL), 1);
	assert_int_equal(cairn_eq_query(g_eq, CAIRN_EQR_COMPLETED, 0, NULL), 0);
	assert_int_equal(cairn_eq_destroy(g_eq, 0), -CAIRN_ERR_BUSY);
	assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 4, out), 0);

	cli_ev_complete(&ev, -CAIRN_ERR_IO);
	assert_int_equal(cairn_event_state(&ev), CAIRN_EVS_COMPLETED);
	assert_true(fd_readable(fd));
	assert_int_equal(cairn_eq_query(g_eq, CAIRN_EQR_COMPLETED, 4, out), 1);
	assert_ptr_equal(out[0], &ev);
	assert_int_equal(cairn_eq_destroy(g_eq, 0), -CAIRN_ERR_BUSY); /* not polled yet */
	/* a second completion is refused (logged), the result stays */
	cli_ev_complete(&ev, 0);
	assert_int_equal(cairn_eq_poll(g_eq, 0, CAIRN_EQ_WAIT, 4, out), 1);
	assert_ptr_equal(out[0], &ev);
	assert_int_equal(ev.ev_error, -CAIRN_ERR_IO);
	assert_int_equal(cairn_event_state(&ev), CAIRN_EVS_READY);
	assert_false(fd_readable(fd));

	/* reusable */
	assert_int_equal(cli_ev_launch(&ev), 0);
	cli_ev_complete(&ev, 0);
	assert_int_equal(cairn_eq_poll(g_eq, 1, 0, 4, out), 1);
	assert_int_equal(ev.ev_error, 0);
	assert_int_equal(cairn_event_fini(&ev), 0);
	assert_int_equal(cairn_event_state(&ev), CAIRN_EVS_INIT);
	assert_int_equal(cairn_event_fini(&ev), -CAIRN_ERR_INVAL);
	assert_int_equal(cli_ev_launch(&ev), -CAIRN_ERR_INVAL);
}

static void
test_poll_timeout(void **state)
{
	struct cairn_event ev, *out;
	uint64_t t0;

	/* nothing in flight: wait_running returns at once even with "forever" */
	t0 = cairn_now_ns();
	assert_int_equal(cairn_eq_poll(g_eq, 1, CAIRN_EQ_WAIT, 1, &out), 0);
	assert_true(cairn_now_ns() - t0 < CAIRN_NSEC_PER_SEC);

	assert_int_equal(cairn_event_init(&ev, g_eq, NULL), 0);
	assert_int_equal(cli_ev_launch(&ev), 0);
	t0 = cairn_now_ns();
	assert_int_equal(cairn_eq_poll(g_eq, 1, 20000, 1, &out), 0);
	assert_true(cairn_now_ns() - t0 >= 20 * CAIRN_NSEC_PER_MSEC);
	cli_ev_complete(&ev, 0);
	assert_int_equal(cairn_eq_poll(g_eq, 1, 20000, 1, &out), 1);
	assert_int_equal(cairn_event_fini(&ev), 0);
}

#define NCOMPLETERS 4
#define PER_THREAD 2000

struct completer {
	struct cairn_event *evs;
	int n;
};

static void *
completer_thread(void *arg)
{
	struct completer *c = arg;

	for (int i = 0; i < c->n; i++)
		cli_ev_complete(&c->evs[i], i % 7 == 0 ? -CAIRN_ERR_IO : 0);
	return NULL;
}

static void
test_concurrent_completions(void **state)
{
	const int total = NCOMPLETERS * PER_THREAD;
	struct cairn_event *evs = calloc(total, sizeof(*evs));
	uint8_t *seen = calloc(total, 1);
	struct completer c[NCOMPLETERS];
	pthread_t th[NCOMPLETERS];
	struct cairn_event *out[64];
	int got = 0, errors = 0;
	uint64_t deadline = cairn_now_ns() + 30 * CAIRN_NSEC_PER_SEC;
	int fd;

	assert_non_null(evs);
	assert_non_null(seen);
	for (int i = 0; i < total; i++) {
		assert_int_equal(cairn_event_init(&evs[i], g_eq, NULL), 0);
		evs[i].ev_debug = (uint64_t)i;
		assert_int_equal(cli_ev_launch(&evs[i]), 0);
	}
	for (int t = 0; t < NCOMPLETERS; t++) {
		c[t].evs = evs + t * PER_THREAD;
		c[t].n = PER_THREAD;
		assert_int_equal(pthread_create(&th[t], NULL, completer_thread, &c[t]), 0);
	}
	assert_int_equal(cairn_eq_get_fd(g_eq, &fd), 0);
	while (got < total && cairn_now_ns() < deadline) {
		int n = cairn_eq_poll(g_eq, 1, 100000, 64, out);

		assert_true(n >= 0);
		for (int i = 0; i < n; i++) {
			uint64_t id = out[i]->ev_debug;

			assert_true(id < (uint64_t)total);
			assert_int_equal(seen[id], 0); /* each event harvested once */
			seen[id] = 1;
			errors += out[i]->ev_error != 0;
			assert_int_equal(out[i]->ev_error,
					 (id % PER_THREAD) % 7 == 0 ? -CAIRN_ERR_IO : 0);
		}
		got += n;
	}
	for (int t = 0; t < NCOMPLETERS; t++)
		pthread_join(th[t], NULL);
	assert_int_equal(got, total);
	assert_int_equal(errors, NCOMPLETERS * ((PER_THREAD + 6) / 7));
	assert_int_equal(cairn_eq_query(g_eq, CAIRN_EQR_ALL, 0, NULL), 0);
	assert_false(fd_readable(fd));
	for (int i = 0; i < total; i++)
		assert_int_equal(cairn_event_fini(&evs[i]), 0);
	free(evs);
	free(seen);
}

static void
test_parent_barrier(void **state)
{
	struct cairn_event parent, kids[3], other, *out[4];

	assert_int_equal(cairn_event_init(&parent, g_eq, NULL), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cairn_event_init(&kids[i], CAIRN_HANDLE_NULL, &parent), 0);
	/* a child cannot be a parent; a parent needs children for a barrier */
	assert_int_equal(cairn_event_init(&other, g_eq, &kids[0]), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_event_parent_barrier(&kids[0]), -CAIRN_ERR_INVAL);

	for (int i = 0; i < 3; i++)
		assert_int_equal(cli_ev_launch(&kids[i]), 0);
	assert_int_equal(cairn_event_state(&parent), CAIRN_EVS_RUNNING);
	/* children are not waited for with test, nor on the EQ */
	bool flag;

	assert_int_equal(cairn_event_test(&kids[0], 0, &flag), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_event_parent_barrier(&parent), 0);
	assert_int_equal(cairn_event_parent_barrier(&parent), -CAIRN_ERR_ALREADY);

	cli_ev_complete(&kids[1], 0);
	cli_ev_complete(&kids[0], -CAIRN_ERR_NOSPACE);
	assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 4, out), 0);
	assert_int_equal(cairn_event_state(&parent), CAIRN_EVS_RUNNING);
	/* no child may join a parent waiting at its barrier */
	assert_int_equal(cairn_event_init(&other, CAIRN_HANDLE_NULL, &parent), -CAIRN_ERR_INVAL);
	cli_ev_complete(&kids[2], -CAIRN_ERR_IO);
	assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 4, out), 1);
	assert_ptr_equal(out[0], &parent);
	assert_int_equal(parent.ev_error, -CAIRN_ERR_NOSPACE); /* the first child error */
	assert_int_equal(kids[2].ev_error, -CAIRN_ERR_IO);
	assert_int_equal(cairn_event_state(&kids[0]), CAIRN_EVS_READY);

	/* a barrier with no child in flight completes at once */
	assert_int_equal(cairn_event_parent_barrier(&parent), 0);
	assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 4, out), 1);
	assert_int_equal(parent.ev_error, 0);

	/* parent with an operation of its own: waits for it and for the children */
	assert_int_equal(cli_ev_launch(&parent), 0);
	assert_int_equal(cli_ev_launch(&kids[0]), 0);
	assert_int_equal(cairn_event_parent_barrier(&parent), -CAIRN_ERR_INVAL);
	cli_ev_complete(&parent, 0);
	assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 4, out), 0);
	cli_ev_complete(&kids[0], 0);
	assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 4, out), 1);
	assert_int_equal(parent.ev_error, 0);

	/* fini of the parent finalises the children */
	assert_int_equal(cairn_event_fini(&parent), 0);
	assert_int_equal(cairn_event_state(&kids[1]), CAIRN_EVS_INIT);
}

static void
test_parent_fini_busy(void **state)
{
	struct cairn_event parent, kid, *out;

	assert_int_equal(cairn_event_init(&parent, g_eq, NULL), 0);
	assert_int_equal(cairn_event_init(&kid, CAIRN_HANDLE_NULL, &parent), 0);
	assert_int_equal(cli_ev_launch(&kid), 0);
	assert_int_equal(cairn_event_fini(&kid), -CAIRN_ERR_BUSY);
	assert_int_equal(cairn_event_fini(&parent), -CAIRN_ERR_BUSY);
	assert_int_equal(cairn_event_parent_barrier(&parent), 0);
	cli_ev_complete(&kid, 0);
	assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 1, &out), 1);
	/* a child may be finalised on its own */
	assert_int_equal(cairn_event_fini(&kid), 0);
	assert_int_equal(cairn_event_fini(&parent), 0);
}

static int g_abort_calls;

static void
abort_hook(void *arg)
{
	g_abort_calls++;
	assert_ptr_equal(arg, &g_abort_calls);
}

static void
test_abort(void **state)
{
	struct cairn_event ev, parent, kid, *out;

	assert_int_equal(cairn_event_abort(NULL), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_event_init(&ev, g_eq, NULL), 0);
	assert_int_equal(cairn_event_abort(&ev), -CAIRN_ERR_ALREADY); /* not running */
	assert_int_equal(cli_ev_launch(&ev), 0);
	cli_ev_set_abort_cb(&ev, abort_hook, &g_abort_calls);
	g_abort_calls = 0;
	assert_int_equal(cairn_event_abort(&ev), 0);
	assert_int_equal(g_abort_calls, 1);
	assert_int_equal(cairn_event_state(&ev), CAIRN_EVS_ABORTED);
	assert_int_equal(cairn_event_abort(&ev), -CAIRN_ERR_ALREADY);
	/* the operation finishes anyway; the event reports the cancellation */
	cli_ev_complete(&ev, 0);
	assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 1, &out), 1);
	assert_int_equal(ev.ev_error, -CAIRN_ERR_CANCELED);
	assert_int_equal(cairn_event_abort(&ev), -CAIRN_ERR_ALREADY);
	assert_int_equal(cairn_event_fini(&ev), 0);

	/* aborting a barrier parent aborts its running children */
	assert_int_equal(cairn_event_init(&parent, g_eq, NULL), 0);
	assert_int_equal(cairn_event_init(&kid, CAIRN_HANDLE_NULL, &parent), 0);
	assert_int_equal(cli_ev_launch(&kid), 0);
	cli_ev_set_abort_cb(&kid, abort_hook, &g_abort_calls);
	assert_int_equal(cairn_event_parent_barrier(&parent), 0);
	assert_int_equal(cairn_event_abort(&parent), 0);
	assert_int_equal(g_abort_calls, 2);
	assert_int_equal(cairn_event_state(&kid), CAIRN_EVS_ABORTED);
	cli_ev_complete(&kid, 0);
	assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 1, &out), 1);
	assert_int_equal(kid.ev_error, -CAIRN_ERR_CANCELED);
	assert_int_equal(parent.ev_error, -CAIRN_ERR_CANCELED);

	/* a parent running only for its children (no barrier yet) also completes */
	assert_int_equal(cli_ev_launch(&kid), 0);
	assert_int_equal(cairn_event_abort(&parent), 0);
	assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 1, &out), 0);
	cli_ev_complete(&kid, 0);
	assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 1, &out), 1);
	assert_int_equal(parent.ev_error, -CAIRN_ERR_CANCELED);
	assert_int_equal(cairn_event_fini(&parent), 0);
}

struct delayed {
	struct cairn_event *ev;
	uint64_t delay_ms;
	int rc;
};

static void *
delayed_complete(void *arg)
{
	struct delayed *d = arg;

	cairn_sleep_ms(d->delay_ms);
	cli_ev_complete(d->ev, d->rc);
	return NULL;
}

static void
test_event_test_no_eq(void **state)
{
	struct cairn_event ev;
	struct delayed d = { .ev = &ev, .delay_ms = 20, .rc = -CAIRN_ERR_TIMEDOUT };
	pthread_t th;
	bool flag = true;

	assert_int_equal(cairn_event_init(&ev, CAIRN_HANDLE_NULL, NULL), 0);
	/* nothing launched: returns at once, not completed */
	assert_int_equal(cairn_event_test(&ev, CAIRN_EQ_WAIT, &flag), 0);
	assert_false(flag);
	assert_int_equal(cli_ev_launch(&ev), 0);
	assert_int_equal(cairn_event_test(&ev, 1000, &flag), 0);
	assert_false(flag);
	assert_int_equal(pthread_create(&th, NULL, delayed_complete, &d), 0);
	assert_int_equal(cairn_event_test(&ev, CAIRN_EQ_WAIT, &flag), 0);
	assert_true(flag);
	assert_int_equal(ev.ev_error, -CAIRN_ERR_TIMEDOUT);
	assert_int_equal(cairn_event_state(&ev), CAIRN_EVS_READY);
	pthread_join(th, NULL);
	assert_int_equal(cairn_event_fini(&ev), 0);
	assert_int_equal(cairn_event_test(NULL, 0, &flag), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_event_test(&ev, 0, &flag), -CAIRN_ERR_INVAL);
}

static void
test_event_test_takes_off_eq(void **state)
{
	struct cairn_event ev, *out;
	bool flag;
	int fd;

	assert_int_equal(cairn_eq_get_fd(g_eq, &fd), 0);
	assert_int_equal(cairn_event_init(&ev, g_eq, NULL), 0);
	assert_int_equal(cli_ev_launch(&ev), 0);
	cli_ev_complete(&ev, 0);
	assert_true(fd_readable(fd));
	assert_int_equal(cairn_event_test(&ev, 0, &flag), 0);
	assert_true(flag);
	assert_false(fd_readable(fd));
	assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 1, &out), 0);
	assert_int_equal(cairn_event_fini(&ev), 0);
}

static void
test_force_destroy(void **state)
{
	struct cairn_handle eq;
	struct cairn_event run, done, *out;
	bool flag;

	assert_int_equal(cairn_eq_create(&eq), 0);
	assert_int_equal(cairn_event_init(&run, eq, NULL), 0);
	assert_int_equal(cairn_event_init(&done, eq, NULL), 0);
	assert_int_equal(cli_ev_launch(&run), 0);
	assert_int_equal(cli_ev_launch(&done), 0);
	cli_ev_complete(&done, 0);
	g_abort_calls = 0;
	cli_ev_set_abort_cb(&run, abort_hook, &g_abort_calls);
	assert_int_equal(cairn_eq_destroy(eq, 0), -CAIRN_ERR_BUSY);
	assert_int_equal(cairn_eq_destroy(eq, CAIRN_EQ_DESTROY_FORCE), 0);
	assert_int_equal(g_abort_calls, 1);
	assert_int_equal(cairn_eq_poll(eq, 0, 0, 1, &out), -CAIRN_ERR_NOHANDLE);
	assert_int_equal(cairn_event_state(&done), CAIRN_EVS_READY);
	assert_int_equal(cairn_event_state(&run), CAIRN_EVS_ABORTED);
	/* launching on a destroyed EQ fails; the late completion still lands */
	assert_int_equal(cli_ev_launch(&done), -CAIRN_ERR_NOHANDLE);
	cli_ev_complete(&run, 0);
	assert_int_equal(cairn_event_test(&run, 0, &flag), 0);
	assert_true(flag);
	assert_int_equal(run.ev_error, -CAIRN_ERR_CANCELED);
	assert_int_equal(cairn_event_fini(&run), 0);
	assert_int_equal(cairn_event_fini(&done), 0); /* frees the EQ */
	assert_int_equal(cairn_event_init(&run, eq, NULL), -CAIRN_ERR_NOHANDLE);
}

/* The eventfd rule with operations (tasks) completing on another thread: the eventfd
 * becomes readable without anybody polling (an application sleeping in epoll wakes),
 * cairn_eq_poll() then completes and harvests the event, and afterwards it is not
 * readable. */
static int
body_pending(struct cli_task *task)
{
	*(struct cli_task **)cli_task_args(task) = task; /* completed by another thread */
	return 0;
}

struct late_completer {
	struct cli_task *task;
	int rc;
};

static void *
late_complete_thread(void *arg)
{
	struct late_completer *c = arg;
	struct timespec ts = {0, 20 * 1000 * 1000};

	nanosleep(&ts, NULL);
	cli_task_complete(c->task, c->rc);
	return NULL;
}

static void
test_efd_task_completion_other_thread(void **state)
{
	struct cairn_event ev, *out[2];
	struct late_completer c;
	struct cli_task *task;
	pthread_t th;
	int fd, round;

	assert_int_equal(cairn_eq_get_fd(g_eq, &fd), 0);
	assert_int_equal(cairn_event_init(&ev, g_eq, NULL), 0);
	for (round = 0; round < 3; round++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		assert_int_equal(cli_task_create(body_pending, cli_ev2sched(&ev), &task), 0);
		assert_int_equal(cli_task_run(task, &ev), 0);
		/* the body ran (or will on the first poll); make sure it did */
		assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 2, out), 0);
		assert_false(fd_readable(fd));
		c.task = task;
		c.rc = round == 1 ? -CAIRN_ERR_IO : 0;
		assert_int_equal(pthread_create(&th, NULL, late_complete_thread, &c), 0);
		/* sleep in poll(2) on the eventfd only: nobody progresses the EQ meanwhile */
		assert_int_equal(poll(&p, 1, 10000), 1);
		assert_true(p.revents & POLLIN);
		pthread_join(th, NULL);
		assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 2, out), 1);
		assert_ptr_equal(out[0], &ev);
		assert_int_equal(ev.ev_error, c.rc);
		/* one more poll with nothing new may be needed to settle; then not readable */
		if (fd_readable(fd))
			assert_int_equal(cairn_eq_poll(g_eq, 0, 0, 2, out), 0);
		assert_false(fd_readable(fd));
	}
	assert_int_equal(cairn_event_fini(&ev), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_eq_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_states_and_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_completions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent_barrier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent_fini_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_test_no_eq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_test_takes_off_eq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_force_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_efd_task_completion_other_thread, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
