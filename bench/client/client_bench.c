/*
 * cairn-client-bench: costs of libcairn's foundations, single process, no network.
 *   - event round trip (launch, complete, poll) on one thread, batches of 64;
 *   - completion from another thread to a poller (throughput and wake-up latency);
 *   - tasks: create + schedule + body + completion, and a 10k dependency chain;
 *   - the synchronous helper (cli_task_run with a NULL event);
 *   - placement: S1 and SX layouts over a 64-target map.
 * Each case is bounded in count and time. Prints a table, then one JSON line.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/cairn.h"
#include "client_internal.h"
#include "common/time.h"
#include "placement/placement.h"

#define BUDGET_NS (300 * CAIRN_NSEC_PER_MSEC)
#define MAX_OPS 5000000ull

static void
die(const char *what, int rc)
{
	fprintf(stderr, "cairn-client-bench: %s: %s\n", what, cairn_strerror(rc));
	exit(1);
}

static double
ev_roundtrip(struct cairn_handle eq)
{
	enum { B = 64 };
	struct cairn_event evs[B], *out[B];
	uint64_t ops = 0, t0 = cairn_now_ns(), el;

	for (int i = 0; i < B; i++)
		if (cairn_event_init(&evs[i], eq, NULL) != 0)
			die("event_init", -CAIRN_ERR_INVAL);
	do {
		for (int i = 0; i < B; i++) {
			cli_ev_launch(&evs[i]);
			cli_ev_complete(&evs[i], 0);
		}
		for (int got = 0; got < B;)
			got += cairn_eq_poll(eq, 1, 0, B, out);
		ops += B;
	} while ((el = cairn_now_ns() - t0) < BUDGET_NS && ops < MAX_OPS);
	for (int i = 0; i < B; i++)
		cairn_event_fini(&evs[i]);
	return ops * 1e9 / el;
}

struct xthread {
	struct cairn_event *evs;
	uint64_t *launch_ns;
	int n;
	volatile int next; /* index the poller allows the worker to complete up to */
};

static void *
xthread_worker(void *arg)
{
	struct xthread *x = arg;

	for (int i = 0; i < x->n; i++) {
		while (__atomic_load_n(&x->next, __ATOMIC_ACQUIRE) <= i)
			;
		x->launch_ns[i] = cairn_now_ns();
		cli_ev_complete(&x->evs[i], 0);
	}
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One event at a time: the worker completes it, the poller (sleeping in poll) wakes. */
static void
ev_cross_thread(struct cairn_handle eq, double *ops_s, double *p50_us, double *p99_us)
{
	enum { N = 20000 };
	struct cairn_event *evs = calloc(N, sizeof(*evs)), *out;
	uint64_t *lat = calloc(N, sizeof(*lat)), *launch = calloc(N, sizeof(*launch));
	struct xthread x = { .evs = evs, .launch_ns = launch, .n = N };
	uint64_t t0, deadline;
	pthread_t th;
	int done = 0;

	if (evs == NULL || lat == NULL || launch == NULL)
		die("alloc", -CAIRN_ERR_NOMEM);
	for (int i = 0; i < N; i++) {
		cairn_event_init(&evs[i], eq, NULL);
		cli_ev_launch(&evs[i]);
	}
	pthread_create(&th, NULL, xthread_worker, &x);
	t0 = cairn_now_ns();
	deadline = t0 + 2 * BUDGET_NS;
	for (; done < N; done++) {
		if (cairn_now_ns() > deadline) {
			/* out of time: let the worker finish the rest without us timing it */
			__atomic_store_n(&x.next, N, __ATOMIC_RELEASE);
			break;
		}
		__atomic_store_n(&x.next, done + 1, __ATOMIC_RELEASE);
		while (cairn_eq_poll(eq, 1, CAIRN_EQ_WAIT, 1, &out) != 1)
			;
		lat[done] = cairn_now_ns() - launch[done];
	}
	*ops_s = done * 1e9 / (cairn_now_ns() - t0);
	pthread_join(th, NULL);
	for (int got = done; got < N;)
		got += cairn_eq_poll(eq, 1, CAIRN_EQ_WAIT, 1, &out);
	qsort(lat, done, sizeof(*lat), cmp_u64);
	*p50_us = lat[done / 2] / 1e3;
	*p99_us = lat[done * 99 / 100] / 1e3;
	for (int i = 0; i < N; i++)
		cairn_event_fini(&evs[i]);
	free(evs);
	free(lat);
	free(launch);
}

static int
body_done(struct cli_task *t)
{
	cli_task_complete(t, 0);
	return 0;
}

static double
task_throughput(struct cli_sched *s)
{
	enum { B = 256 };
	uint64_t ops = 0, t0 = cairn_now_ns(), el;

	do {
		for (int i = 0; i < B; i++) {
			struct cli_task *t;

			if (cli_task_create(body_done, s, &t) != 0)
				die("task_create", -CAIRN_ERR_NOMEM);
			cli_task_schedule(t, false);
		}
		cli_sched_progress(s);
		ops += B;
	} while ((el = cairn_now_ns() - t0) < BUDGET_NS && ops < MAX_OPS);
	return ops * 1e9 / el;
}

static double
task_chain_ms(struct cli_sched *s)
{
	enum { N = 10000 };
	struct cli_task *prev = NULL, *t;
	struct cli_task **all = calloc(N, sizeof(*all));
	uint64_t t0 = cairn_now_ns();

	for (int i = 0; i < N; i++) {
		cli_task_create(body_done, s, &t);
		if (prev != NULL)
			cli_task_register_deps(t, 1, &prev);
		all[i] = prev = t;
	}
	for (int i = N - 1; i >= 0; i--)
		cli_task_schedule(all[i], false);
	cli_sched_progress(s);
	free(all);
	return (cairn_now_ns() - t0) / 1e6;
}

static double
sync_calls(void)
{
	uint64_t ops = 0, t0 = cairn_now_ns(), el;

	do {
		struct cli_task *t;

		cli_task_create(body_done, cli_ev2sched(NULL), &t);
		if (cli_task_run(t, NULL) != 0)
			die("cli_task_run", -CAIRN_ERR_MISC);
		ops++;
	} while ((el = cairn_now_ns() - t0) < BUDGET_NS && ops < MAX_OPS);
	return ops * 1e9 / el;
}

static double
layouts(struct cairn_pool_map *map, enum cairn_oclass oc)
{
	uint64_t ops = 0, t0 = cairn_now_ns(), el;
	struct cairn_pl_layout l;

	do {
		struct cairn_obj_id oid = { .lo = ops * 0x9e3779b97f4a7c15ull, .hi = 0 };

		cairn_obj_id_generate(&oid, CAIRN_OT_MULTI, oc);
		if (cairn_pl_obj_layout(map, oid, &l) != 0)
			die("layout", -CAIRN_ERR_INVAL);
		cairn_pl_layout_fini(&l);
		ops++;
	} while ((el = cairn_now_ns() - t0) < BUDGET_NS && ops < MAX_OPS);
	return ops * 1e9 / el;
}

int
main(void)
{
	struct cairn_pool_map *map;
	struct cairn_handle eq;
	struct cli_sched sched;
	double rt, xt, p50, p99, tasks, chain, sync, s1, sx;
	int rc;

	rc = cairn_init();
	if (rc != 0)
		die("cairn_init", rc);
	rc = cairn_eq_create(&eq);
	if (rc != 0)
		die("cairn_eq_create", rc);
	rc = cli_sched_init(&sched, NULL, NULL);
	if (rc != 0)
		die("cli_sched_init", rc);
	rc = cairn_pmap_create(1, &map);
	for (uint32_t r = 0; rc == 0 && r < 8; r++)
		rc = cairn_pmap_add_rank(map, r, r, 8, CAIRN_TGT_UP, false);
	if (rc != 0)
		die("pool map", rc);

	rt = ev_roundtrip(eq);
	ev_cross_thread(eq, &xt, &p50, &p99);
	tasks = task_throughput(&sched);
	chain = task_chain_ms(&sched);
	sync = sync_calls();
	s1 = layouts(map, CAIRN_OC_S1);
	sx = layouts(map, CAIRN_OC_SX);

	printf("%-44s %14s\n", "case", "result");
	printf("%-44s %12.0f/s\n", "event launch+complete+poll (1 thread)", rt);
	printf("%-44s %12.0f/s\n", "event completed by another thread, polled", xt);
	printf("%-44s %11.1f us\n", "  wake-up latency p50", p50);
	printf("%-44s %11.1f us\n", "  wake-up latency p99", p99);
	printf("%-44s %12.0f/s\n", "task create+schedule+run+complete", tasks);
	printf("%-44s %11.1f ms\n", "10k-task dependency chain", chain);
	printf("%-44s %12.0f/s\n", "synchronous call (cli_task_run, NULL ev)", sync);
	printf("%-44s %12.0f/s\n", "S1 layout, 64 targets", s1);
	printf("%-44s %12.0f/s\n", "SX layout, 64 targets (64 shards)", sx);
	printf("{\"event_roundtrip_per_s\": %.0f, \"event_xthread_per_s\": %.0f, "
	       "\"xthread_p50_us\": %.1f, \"xthread_p99_us\": %.1f, \"tasks_per_s\": %.0f, "
	       "\"chain_10k_ms\": %.2f, \"sync_calls_per_s\": %.0f, \"layout_s1_per_s\": %.0f, "
	       "\"layout_sx64_per_s\": %.0f, \"xthread_vs_roundtrip\": %.3f}\n",
	       rt, xt, p50, p99, tasks, chain, sync, s1, sx, xt / rt);

	cairn_pmap_destroy(map);
	cli_sched_fini(&sched);
	cairn_eq_destroy(eq, 0);
	cairn_fini();
	return 0;
}
