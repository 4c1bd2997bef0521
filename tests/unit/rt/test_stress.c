/*
 * Cross-xstream stress with a seeded random mix (print the seed; CAIRN_TEST_SEED=n
 * replays it): ULTs on 4 xstreams park/wake each other, pass eventuals, take a shared
 * mutex, send messages, sleep and yield, while plain threads send messages and wake
 * ULTs. Checks: every operation accounted for, no lost wake (bounded by time), and the
 * clean-stop rules: cairn_rt_fini() waits for running and sleeping ULTs, busy ULTs
 * never starve messages or timed pollers.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt_test.h"

#define NR_XS 4
#define NR_ULTS 64
#define OPS 400

static unsigned g_seed;

struct shared {
	struct cairn_mutex m;
	uint64_t guarded; /* under m */
	atomic_uint msgs_sent;
	atomic_uint msgs_done;
	_Atomic(struct cairn_ult *) ults[NR_ULTS];
	atomic_int parked_wakes; /* wakes delivered to a partner */
	atomic_int finished;
	struct cairn_eventual *relay[NR_ULTS];
};

static struct shared g_s;

static void
msg_done(void *arg)
{
	atomic_fetch_add(&g_s.msgs_done, 1);
}

static unsigned
rnd(unsigned *st)
{
	*st = *st * 1103515245u + 12345u;
	return (*st >> 16) & 0x7fff;
}

static void
stress_ult(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg, st = g_seed ^ (id * 2654435761u), i;

	atomic_store(&g_s.ults[id], cairn_ult_self());
	for (i = 0; i < OPS; i++) {
		switch (rnd(&st) % 6) {
		case 0:
			cairn_mutex_lock(&g_s.m);
			g_s.guarded++;
			if (rnd(&st) % 4 == 0)
				cairn_ult_yield();
			cairn_mutex_unlock(&g_s.m);
			break;
		case 1: {
			struct cairn_ult *peer = atomic_load(&g_s.ults[rnd(&st) % NR_ULTS]);

			/* A stray wake is a token: the peer's next park returns at once; every
			 * wait in the runtime re-checks its condition, so this is harmless. */
			if (peer != NULL)
				cairn_ult_wake(peer);
			break;
		}
		case 2:
			atomic_fetch_add(&g_s.msgs_sent, 1);
			assert_int_equal(
			        cairn_rt_send_msg(cairn_xs_get(rnd(&st) % NR_XS), msg_done, NULL),
			        0);
			break;
		case 3:
			cairn_ult_sleep_us(rnd(&st) % 200);
			break;
		default:
			cairn_ult_yield();
			break;
		}
	}
	/* Relay: ULT i waits for ULT i-1's eventual and sets its own. */
	if (id > 0)
		assert_int_equal(cairn_eventual_wait(g_s.relay[id - 1]), (int64_t)id - 1);
	cairn_eventual_set(g_s.relay[id], id);
	atomic_fetch_add(&g_s.finished, 1);
}

static void *
plain_sender(void *arg)
{
	unsigned st = g_seed + 7, i;

	for (i = 0; i < 3000; i++) {
		atomic_fetch_add(&g_s.msgs_sent, 1);
		assert_int_equal(cairn_rt_send_msg(cairn_xs_get(rnd(&st) % NR_XS), msg_done, NULL),
		                 0);
	}
	return NULL;
}

static void
test_random_mix(void **state)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	struct cairn_ult *u[NR_ULTS];
	pthread_t th;
	unsigned i;
	const char *env = getenv("CAIRN_TEST_SEED");

	g_seed = env != NULL ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
	printf("stress seed %u (replay with CAIRN_TEST_SEED=%u)\n", g_seed, g_seed);
	memset(&g_s, 0, sizeof(g_s));
	cairn_mutex_init(&g_s.m);
	rt_test_start(NR_XS, 20);
	for (i = 0; i < NR_ULTS; i++)
		assert_int_equal(cairn_eventual_create(&g_s.relay[i]), 0);
	for (i = 0; i < NR_ULTS; i++) {
		attr.prio = (enum cairn_prio)(i % CAIRN_PRIO_MAX);
		assert_int_equal(cairn_ult_create(cairn_xs_get(i % NR_XS), stress_ult,
		                                  (void *)(uintptr_t)i, &attr, &u[i]),
		                 0);
	}
	assert_int_equal(pthread_create(&th, NULL, plain_sender, NULL), 0);
	pthread_join(th, NULL);
	/* Join only once every ULT is past its random loop: until then peers may still
	 * wake any of them, and a joined ULT is freed. */
	for (i = 0; i < 50000 && atomic_load(&g_s.finished) < NR_ULTS; i++)
		usleep(200);
	assert_int_equal(atomic_load(&g_s.finished), NR_ULTS);
	for (i = 0; i < NR_ULTS; i++)
		assert_int_equal(cairn_ult_join(u[i]), 0);
	for (i = 0; i < 20000 && atomic_load(&g_s.msgs_done) != atomic_load(&g_s.msgs_sent); i++)
		usleep(200);
	assert_int_equal(atomic_load(&g_s.msgs_done), atomic_load(&g_s.msgs_sent));
	assert_true(g_s.guarded > 0);
	cairn_rt_fini();
	for (i = 0; i < NR_ULTS; i++)
		cairn_eventual_destroy(g_s.relay[i]);
	cairn_mutex_destroy(&g_s.m);
}

/* ---- busy ULTs never starve messages and timed pollers ---- */

static atomic_int g_spin_stop;
static atomic_int g_polls;

static void
spinner(void *arg)
{
	while (!atomic_load(&g_spin_stop))
		cairn_ult_yield();
}

static int
tick_poller(void *arg)
{
	atomic_fetch_add(&g_polls, 1);
	return 1;
}

static void
reg_tick(void *arg)
{
	*(struct cairn_poller **)arg = cairn_poller_register(tick_poller, NULL, 1000, "tick");
	assert_non_null(*(struct cairn_poller **)arg);
}

static void
unreg_tick(void *arg)
{
	cairn_poller_unregister((struct cairn_poller **)arg);
}

static void
test_no_starvation(void **state)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_NET, .joinable = true};
	struct cairn_ult *u[8];
	struct cairn_poller *p = NULL;
	int i;

	rt_test_start(1, 10);
	atomic_store(&g_spin_stop, 0);
	atomic_store(&g_polls, 0);
	memset(&g_s, 0, sizeof(g_s));
	rt_test_run(0, reg_tick, &p);
	for (i = 0; i < 8; i++)
		assert_int_equal(cairn_ult_create(cairn_xs_get(0), spinner, NULL, &attr, &u[i]), 0);
	for (i = 0; i < 1000; i++) {
		atomic_fetch_add(&g_s.msgs_sent, 1);
		assert_int_equal(cairn_rt_send_msg(cairn_xs_get(0), msg_done, NULL), 0);
	}
	for (i = 0; i < 10000 && (atomic_load(&g_s.msgs_done) < 1000 || atomic_load(&g_polls) < 20);
	     i++)
		usleep(200);
	assert_int_equal(atomic_load(&g_s.msgs_done), 1000);
	assert_true(atomic_load(&g_polls) >= 20);
	atomic_store(&g_spin_stop, 1);
	for (i = 0; i < 8; i++)
		assert_int_equal(cairn_ult_join(u[i]), 0);
	rt_test_run(0, unreg_tick, &p);
	cairn_rt_fini();
}

/* ---- fini waits for ULTs that are still running or sleeping ---- */

static atomic_int g_late_done;

static void
late_ult(void *arg)
{
	cairn_ult_sleep_us(30000);
	atomic_fetch_add(&g_late_done, 1);
}

static void
busy_late_ult(void *arg)
{
	int i;

	for (i = 0; i < 20000; i++)
		cairn_ult_yield();
	atomic_fetch_add(&g_late_done, 1);
}

static void
test_fini_waits(void **state)
{
	struct cairn_ult *u;
	int i;

	rt_test_start(2, 10);
	atomic_store(&g_late_done, 0);
	for (i = 0; i < 10; i++) {
		assert_int_equal(cairn_ult_create(cairn_xs_get(i % 2), late_ult, NULL, NULL, NULL),
		                 0);
		assert_int_equal(
		        cairn_ult_create(cairn_xs_get(i % 2), busy_late_ult, NULL, NULL, NULL), 0);
	}
	usleep(1000);
	cairn_rt_fini(); /* detached ULTs: nobody joins them, fini must let them finish */
	assert_int_equal(atomic_load(&g_late_done), 20);
	assert_false(cairn_rt_running());
	/* After fini: nothing can be created or sent. */
	assert_int_equal(cairn_ult_create(NULL, late_ult, NULL, NULL, &u), -CAIRN_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_random_mix),
	        cmocka_unit_test(test_no_starvation),
	        cmocka_unit_test(test_fini_waits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
