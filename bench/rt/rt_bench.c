/*
 * cairn-rt-bench: runtime micro-benchmarks, each against its OS baseline, measured in
 * the same run (median of 5 rounds):
 *   ult_switch_ns        yield between two ULTs on one xstream (per yield)
 *   ucontext_switch_ns   swapcontext() between two contexts (per switch)
 *   ult_create_join_ns   create + join a trivial ULT from a ULT on the same xstream
 *   msg_rtt_ns           message ping-pong between two xstreams (per round trip)
 *   pthread_cond_rtt_ns  the same ping-pong between two threads with mutex + condvar
 *   msg_throughput_per_s one producer xstream to one consumer xstream
 * Prints a table, then the figures and ratios as one JSON object on the last line
 * (--json: only that line). The xstreams are pinned, as the runtime does by default
 * (--no-pin leaves them to the kernel).
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "cairn/errno.h"
#include "rt/rt.h"

#define ROUNDS 5

static unsigned g_scale = 1;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts v: v[0] is then the smallest, v[n - 1] the largest. */
static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return v[n / 2];
}

/* ------------------------------------------------------------------ ULT switch */

struct sw {
	unsigned iters;
};

static void
yield_ult(void *arg)
{
	struct sw *s = arg;
	unsigned i;

	for (i = 0; i < s->iters; i++)
		cairn_ult_yield();
}

struct sw_run {
	unsigned iters;
	double ns;
};

static void
switch_driver(void *arg)
{
	struct sw_run *r = arg;
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	struct sw s = {.iters = r->iters};
	struct cairn_ult *a, *b;
	uint64_t t0;

	t0 = now_ns();
	if (cairn_ult_create(NULL, yield_ult, &s, &attr, &a) != 0 ||
	    cairn_ult_create(NULL, yield_ult, &s, &attr, &b) != 0)
		abort();
	cairn_ult_join(a);
	cairn_ult_join(b);
	r->ns = (double)(now_ns() - t0) / (2.0 * r->iters);
}

static double
bench_ult_switch(void)
{
	struct sw_run r = {.iters = 500000 * g_scale};

	cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, 0), switch_driver, &r);
	return r.ns;
}

/* ------------------------------------------------------------------ ucontext */

static ucontext_t g_uc_main, g_uc_other;
static unsigned g_uc_iters;

static void
uc_fn(void)
{
	unsigned i;

	for (i = 0; i < g_uc_iters; i++)
		swapcontext(&g_uc_other, &g_uc_main);
}

static double
bench_ucontext(void)
{
	static char stack[64 * 1024];
	unsigned i;
	uint64_t t0;
	double ns;

	g_uc_iters = 200000 * g_scale;
	getcontext(&g_uc_other);
	g_uc_other.uc_stack.ss_sp = stack;
	g_uc_other.uc_stack.ss_size = sizeof(stack);
	g_uc_other.uc_link = &g_uc_main;
	makecontext(&g_uc_other, uc_fn, 0);
	t0 = now_ns();
	for (i = 0; i < g_uc_iters; i++)
		swapcontext(&g_uc_main, &g_uc_other);
	ns = (double)(now_ns() - t0) / (2.0 * g_uc_iters);
	swapcontext(&g_uc_main, &g_uc_other); /* let uc_fn return */
	return ns;
}

/* ------------------------------------------------------------------ create/join */

static void
empty_ult(void *arg)
{
}

static void
create_join_driver(void *arg)
{
	struct sw_run *r = arg;
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	unsigned i;
	uint64_t t0 = now_ns();

	for (i = 0; i < r->iters; i++) {
		struct cairn_ult *u;

		if (cairn_ult_create(NULL, empty_ult, NULL, &attr, &u) != 0)
			abort();
		cairn_ult_join(u);
	}
	r->ns = (double)(now_ns() - t0) / r->iters;
}

static double
bench_create_join(void)
{
	struct sw_run r = {.iters = 200000 * g_scale};

	cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, 0), create_join_driver, &r);
	return r.ns;
}

/* ------------------------------------------------------------------ msg ping-pong */

struct pp {
	struct cairn_xstream *a, *b;
	unsigned left;
	struct cairn_eventual *done;
};

static void pp_pong(void *arg);

static void
pp_ping(void *arg)
{
	struct pp *p = arg;

	if (p->left-- == 0) {
		cairn_eventual_set(p->done, 0);
		return;
	}
	cairn_rt_send_msg(p->b, pp_pong, p);
}

static void
pp_pong(void *arg)
{
	struct pp *p = arg;

	cairn_rt_send_msg(p->a, pp_ping, p);
}

static double
bench_msg_rtt(void)
{
	struct pp p = {.a = cairn_xs_by_role(CAIRN_XS_MAIN, 0),
	               .b = cairn_xs_by_role(CAIRN_XS_MAIN, 1),
	               .left = 100000 * g_scale};
	unsigned n = p.left;
	uint64_t t0;
	double ns;

	cairn_eventual_create(&p.done);
	t0 = now_ns();
	cairn_rt_send_msg(p.a, pp_ping, &p);
	cairn_eventual_wait(p.done);
	ns = (double)(now_ns() - t0) / n;
	cairn_eventual_destroy(p.done);
	return ns;
}

/* ------------------------------------------------------------------ pthread cond */

struct cpp {
	pthread_mutex_t m;
	pthread_cond_t c;
	int turn; /* 0: ping's turn, 1: pong's */
	unsigned iters;
};

static void *
cond_pong(void *arg)
{
	struct cpp *s = arg;
	unsigned i;

	pthread_mutex_lock(&s->m);
	for (i = 0; i < s->iters; i++) {
		while (s->turn != 1)
			pthread_cond_wait(&s->c, &s->m);
		s->turn = 0;
		pthread_cond_signal(&s->c);
	}
	pthread_mutex_unlock(&s->m);
	return NULL;
}

static double
bench_cond_rtt(void)
{
	struct cpp s = {.m = PTHREAD_MUTEX_INITIALIZER,
	                .c = PTHREAD_COND_INITIALIZER,
	                .turn = 0,
	                .iters = 50000 * g_scale};
	pthread_t th;
	unsigned i;
	uint64_t t0;
	double ns;

	pthread_create(&th, NULL, cond_pong, &s);
	t0 = now_ns();
	pthread_mutex_lock(&s.m);
	for (i = 0; i < s.iters; i++) {
		s.turn = 1;
		pthread_cond_signal(&s.c);
		while (s.turn != 0)
			pthread_cond_wait(&s.c, &s.m);
	}
	pthread_mutex_unlock(&s.m);
	ns = (double)(now_ns() - t0) / s.iters;
	pthread_join(th, NULL);
	return ns;
}

/* ------------------------------------------------------------------ throughput */

static uint64_t g_consumed; /* only touched on the consumer xstream */
static struct cairn_eventual *g_tp_done;
static uint64_t g_tp_target;

static void
tp_msg(void *arg)
{
	if (++g_consumed == g_tp_target)
		cairn_eventual_set(g_tp_done, 0);
}

static void
tp_producer(void *arg)
{
	struct cairn_xstream *dst = arg;
	uint64_t i;

	for (i = 0; i < g_tp_target; i++)
		cairn_rt_send_msg(dst, tp_msg, NULL);
}

static double
bench_throughput(void)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	struct cairn_ult *u;
	uint64_t t0;
	double rate;

	g_consumed = 0;
	g_tp_target = 2000000ull * g_scale;
	cairn_eventual_create(&g_tp_done);
	t0 = now_ns();
	cairn_ult_create(cairn_xs_by_role(CAIRN_XS_MAIN, 0), tp_producer,
	                 cairn_xs_by_role(CAIRN_XS_MAIN, 1), &attr, &u);
	cairn_eventual_wait(g_tp_done);
	rate = (double)g_tp_target * 1e9 / (double)(now_ns() - t0);
	cairn_ult_join(u);
	cairn_eventual_destroy(g_tp_done);
	return rate;
}

/* 1-minute load average: the message figures need two free cores to mean much. */
static double
loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f != NULL) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: cairn-rt-bench [--json] [--scale N] [--no-pin]\n"
	           "  --json     print only the final JSON line\n"
	           "  --scale N  multiply iteration counts by N (1..100, default 1)\n"
	           "  --no-pin   do not pin the two xstreams to cores (the runtime's default,\n"
	           "             used here, pins them)\n");
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {{"json", no_argument, NULL, 'j'},
	                                   {"scale", required_argument, NULL, 's'},
	                                   {"no-pin", no_argument, NULL, 'n'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {NULL, 0, NULL, 0}};
	struct cairn_rt_opts o;
	bool json_only = false, pin = true;
	double v_sw[ROUNDS], v_uc[ROUNDS], v_cj[ROUNDS], v_rtt[ROUNDS], v_crtt[ROUNDS];
	double v_tp[ROUNDS], v_swr[ROUNDS], v_rttr[ROUNDS];
	double sw, uc, cj, rtt, crtt, tp, swr, rttr, load0, load1;
	int c, rc, r;

	while ((c = getopt_long(argc, argv, "js:nh", lo, NULL)) != -1) {
		switch (c) {
		case 'j':
			json_only = true;
			break;
		case 's': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end != '\0' || v < 1 || v > 100) {
				fprintf(stderr, "cairn-rt-bench: --scale '%s': expected 1..100\n",
				        optarg);
				return 2;
			}
			g_scale = (unsigned)v;
			break;
		}
		case 'n':
			pin = false;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	cairn_rt_opts_default(&o);
	o.nr_system = 0;
	o.nr_main = 2;
	o.spin_us = 2000; /* stay awake between back-to-back messages */
	o.pin = pin;
	rc = cairn_rt_init(&o);
	if (rc != 0) {
		fprintf(stderr, "cairn-rt-bench: runtime start failed: %s\n", cairn_strerror(rc));
		return 1;
	}
	load0 = loadavg();
	/* Each round measures ours and its baseline back to back, so both see the same
	 * machine load; ratios are the median of the per-round ratios. */
	for (r = 0; r < ROUNDS; r++) {
		v_sw[r] = bench_ult_switch();
		v_uc[r] = bench_ucontext();
		v_swr[r] = v_uc[r] / v_sw[r];
		v_cj[r] = bench_create_join();
		v_rtt[r] = bench_msg_rtt();
		v_crtt[r] = bench_cond_rtt();
		v_rttr[r] = v_crtt[r] / v_rtt[r];
		v_tp[r] = bench_throughput();
	}
	load1 = loadavg();
	sw = median(v_sw, ROUNDS);
	uc = median(v_uc, ROUNDS);
	swr = median(v_swr, ROUNDS);
	cj = median(v_cj, ROUNDS);
	rtt = median(v_rtt, ROUNDS);
	crtt = median(v_crtt, ROUNDS);
	rttr = median(v_rttr, ROUNDS);
	tp = median(v_tp, ROUNDS);
	cairn_rt_fini();

	if (!json_only) {
		printf("%-24s %14s %14s %10s %8s\n", "benchmark", "cairn", "baseline", "ratio",
		       "target");
		printf("%-24s %11.1f ns %11.1f ns %9.1fx %8s\n", "ULT switch / ucontext", sw, uc,
		       swr, ">=5x");
		printf("%-24s %11.1f ns %14s %10s %8s\n", "ULT create+join", cj, "-", "-", "-");
		printf("%-24s %11.1f ns %11.1f ns %9.1fx %8s\n", "msg RTT / pthread cond", rtt,
		       crtt, rttr, ">=3x");
		printf("%-24s %10.2f M/s %14s %10s %8s\n", "msg throughput", tp / 1e6, "-", "-",
		       ">=5M/s");
		printf("best round: msg RTT %.1f ns (pthread cond %.1f ns), throughput %.2f M/s\n",
		       v_rtt[0], v_crtt[0], v_tp[ROUNDS - 1] / 1e6);
		printf("(median of %d interleaved rounds, 2 xstreams, %s, scale %u, %ld CPUs, "
		       "load average %.2f -> %.2f)\n",
		       ROUNDS, pin ? "pinned" : "unpinned", g_scale, sysconf(_SC_NPROCESSORS_ONLN),
		       load0, load1);
	}
	printf("{\"bench\":\"rt\",\"ult_switch_ns\":%.1f,\"ucontext_switch_ns\":%.1f,"
	       "\"switch_speedup\":%.2f,\"ult_create_join_ns\":%.1f,\"msg_rtt_ns\":%.1f,"
	       "\"pthread_cond_rtt_ns\":%.1f,\"rtt_speedup\":%.2f,\"msg_throughput_per_s\":%.0f,"
	       "\"targets\":{\"switch_speedup_ge_5\":%s,\"rtt_speedup_ge_3\":%s,"
	       "\"throughput_ge_5M\":%s},\"best_round\":{\"msg_rtt_ns\":%.1f,"
	       "\"pthread_cond_rtt_ns\":%.1f,\"msg_throughput_per_s\":%.0f},"
	       "\"cpus\":%ld,\"loadavg_1m\":%.2f}\n",
	       sw, uc, swr, cj, rtt, crtt, rttr, tp, swr >= 5 ? "true" : "false",
	       rttr >= 3 ? "true" : "false", tp >= 5e6 ? "true" : "false", v_rtt[0], v_crtt[0],
	       v_tp[ROUNDS - 1], sysconf(_SC_NPROCESSORS_ONLN), load1 > load0 ? load1 : load0);
	return 0;
}
