/*
 * cairn-rt-demo: start a runtime from a YAML file or flags, run a short visible
 * workload (ULTs that compute/yield/sleep on every main xstream, message ping-pong
 * between xstreams, a collective over every xstream), print per-round progress and the
 * runtime's metrics, and stop cleanly at the end or on Ctrl-C.
 */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/errno.h"
#include "common/log.h"
#include "rt/metrics.h"
#include "rt/rt.h"

static volatile sig_atomic_t g_stop;
static bool g_json;

static struct cairn_metric g_items = CAIRN_METRIC_COUNTER("demo.items", "work items done");
static struct cairn_metric g_item_ns = CAIRN_METRIC_HISTOGRAM("demo.item_ns", "time per item");
static struct cairn_metric g_pings = CAIRN_METRIC_COUNTER("demo.pings", "ping-pong hops");

static void
on_signal(int sig)
{
	g_stop = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- work ULTs: a little hashing, a yield, sometimes a sleep ---- */

struct work {
	unsigned items;
	uint64_t digest;
};

static void
work_ult(void *arg)
{
	struct work *w = arg;
	uint64_t h = 1469598103934665603ull;
	unsigned i, j;

	for (i = 0; i < w->items; i++) {
		uint64_t t0 = now_ns();

		for (j = 0; j < 2000; j++)
			h = (h ^ (i * 31u + j)) * 1099511628211ull;
		cairn_metric_inc(&g_items, 1);
		cairn_metric_observe(&g_item_ns, now_ns() - t0);
		if (i % 8 == 7)
			cairn_ult_sleep_us(100);
		else
			cairn_ult_yield();
	}
	w->digest = h;
}

/* ---- ping-pong: a token travels round the main xstreams by message ---- */

struct ring_token {
	unsigned hops_left;
	struct cairn_eventual *done;
};

static void
token_msg(void *arg)
{
	struct ring_token *t = arg;
	struct cairn_xstream *self = cairn_xs_self();
	unsigned n = cairn_xs_count_role(CAIRN_XS_MAIN);
	struct cairn_xstream *next;

	cairn_metric_inc(&g_pings, 1);
	if (t->hops_left-- == 0) {
		cairn_eventual_set(t->done, 0);
		return;
	}
	next = cairn_xs_by_role(CAIRN_XS_MAIN, (cairn_xs_role_idx(self) + 1) % n);
	if (cairn_rt_send_msg(next, token_msg, t) != 0)
		cairn_eventual_set(t->done, -1);
}

/* ---- collective: every xstream reports how many ULT switches it did ---- */

static int
coll_fn(void *arg)
{
	return 0;
}

static void
coll_reduce(void *acc, unsigned xs_id, int rc, void *arg)
{
	struct cairn_xs_stats st;

	cairn_xs_stats(cairn_xs_get(xs_id), &st);
	*(uint64_t *)acc += st.switches;
}

static int
run_round(unsigned round, unsigned ults_per_xs)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	unsigned nr_main = cairn_xs_count_role(CAIRN_XS_MAIN), n = nr_main * ults_per_xs, i;
	struct work *w = calloc(n, sizeof(*w));
	struct cairn_ult **u = calloc(n, sizeof(*u));
	struct ring_token tok = {.hops_left = 1000};
	uint64_t t0 = now_ns(), switches = 0, digest = 0;
	int rc = -CAIRN_ERR_NOMEM;

	if (w == NULL || u == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		w[i].items = 64;
		rc = cairn_ult_create(cairn_xs_by_role(CAIRN_XS_MAIN, i % nr_main), work_ult, &w[i],
		                      &attr, &u[i]);
		if (rc != 0) {
			n = i;
			break;
		}
	}
	if (cairn_eventual_create(&tok.done) == 0) {
		if (cairn_rt_send_msg(cairn_xs_by_role(CAIRN_XS_MAIN, 0), token_msg, &tok) == 0)
			cairn_eventual_wait(tok.done);
		cairn_eventual_destroy(tok.done);
	}
	for (i = 0; i < n; i++) {
		cairn_ult_join(u[i]);
		digest += w[i].digest * (i + 1);
	}
	if (rc == 0)
		rc = cairn_rt_collective(CAIRN_XS_TAG_ALL, coll_fn, NULL, coll_reduce, &switches);
	if (!g_json)
		printf("round %3u: %u ULTs x 64 items on %u xstreams, 1000 message hops, "
		       "collective: %llu switches so far  (%.1f ms, digest %016llx)\n",
		       round, n, nr_main, (unsigned long long)switches,
		       (double)(now_ns() - t0) / 1e6, (unsigned long long)digest);
out:
	free(w);
	free(u);
	return rc;
}

static void
print_stats(void)
{
	unsigned i;

	printf("%-6s %5s %12s %10s %8s %8s %12s\n", "xs", "cpu", "switches", "msgs", "sleeps",
	       "kicks", "loops");
	for (i = 0; i < cairn_xs_count(); i++) {
		struct cairn_xstream *xs = cairn_xs_get(i);
		struct cairn_xs_stats st;

		cairn_xs_stats(xs, &st);
		printf("%-6s %5d %12llu %10llu %8llu %8llu %12llu\n", cairn_xs_name(xs),
		       cairn_xs_cpu(xs), (unsigned long long)st.switches,
		       (unsigned long long)st.msgs, (unsigned long long)st.sleeps,
		       (unsigned long long)st.kicks, (unsigned long long)st.loops);
	}
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: cairn-rt-demo [options]\n"
	           "  -c, --config FILE   YAML runtime section (see src/rt/README.md)\n"
	           "  -m, --main N        target (main) xstreams (default 2)\n"
	           "  -H, --helper N      helper xstreams (default 0)\n"
	           "  -s, --system N      system xstreams, 0 or 1 (default 1)\n"
	           "  -u, --ults N        ULTs per main xstream per round (default 16)\n"
	           "  -r, --rounds N      rounds to run, 0 = until Ctrl-C (default 5)\n"
	           "      --no-pin        do not pin xstreams to cores\n"
	           "      --json          print only the metrics JSON at the end\n"
	           "  -h, --help          this text\n"
	           "Flags given after --config override the file.\n");
}

static int
parse_uint(const char *opt, const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		goto err;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > max)
		goto err;
	*out = (unsigned)v;
	return 0;
err:
	fprintf(stderr, "cairn-rt-demo: %s '%s': expected an integer 0..%u\n", opt, s, max);
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
	        {"config", required_argument, NULL, 'c'}, {"main", required_argument, NULL, 'm'},
	        {"helper", required_argument, NULL, 'H'}, {"system", required_argument, NULL, 's'},
	        {"ults", required_argument, NULL, 'u'},   {"rounds", required_argument, NULL, 'r'},
	        {"no-pin", no_argument, NULL, 'P'},       {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	struct cairn_rt_opts o;
	struct sigaction sa;
	sigset_t set, old;
	unsigned ults = 16, rounds = 5, r, v;
	char *txt;
	int c, rc;

	cairn_log_init();
	cairn_rt_opts_default(&o);
	o.nr_main = 2;
	while ((c = getopt_long(argc, argv, "c:m:H:s:u:r:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			rc = cairn_rt_opts_from_yaml(optarg, &o);
			if (rc != 0) {
				fprintf(stderr, "cairn-rt-demo: bad config %s: %s\n", optarg,
				        cairn_strerror(rc));
				return 1;
			}
			break;
		case 'm':
			if (parse_uint("--main", optarg, 100000, &v) != 0)
				return 2;
			o.nr_main = v;
			break;
		case 'H':
			if (parse_uint("--helper", optarg, 100000, &v) != 0)
				return 2;
			o.nr_helper = v;
			break;
		case 's':
			if (parse_uint("--system", optarg, 100000, &v) != 0)
				return 2;
			o.nr_system = v;
			break;
		case 'u':
			if (parse_uint("--ults", optarg, 10000, &ults) != 0)
				return 2;
			break;
		case 'r':
			if (parse_uint("--rounds", optarg, 1000000, &rounds) != 0)
				return 2;
			break;
		case 'P':
			o.pin = false;
			break;
		case 'j':
			g_json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cairn-rt-demo: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (o.nr_main == 0) {
		fprintf(stderr, "cairn-rt-demo: the workload needs at least one main xstream\n");
		return 2;
	}
	/* xstream threads inherit a mask without SIGINT/SIGTERM: only main() handles them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	rc = cairn_rt_init(&o);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		fprintf(stderr, "cairn-rt-demo: runtime start failed: %s (nothing left running)\n",
		        cairn_strerror(rc));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	cairn_metric_register(&g_items);
	cairn_metric_register(&g_item_ns);
	cairn_metric_register(&g_pings);

	if (!g_json)
		printf("cairn-rt-demo: %u xstreams (system %u, main %u, helper %u), %s; "
		       "Ctrl-C stops\n",
		       cairn_xs_count(), o.nr_system, o.nr_main, o.nr_helper,
		       o.pin ? "pinned" : "unpinned");
	rc = 0;
	for (r = 1; !g_stop && (rounds == 0 || r <= rounds); r++) {
		rc = run_round(r, ults);
		if (rc != 0) {
			fprintf(stderr, "cairn-rt-demo: round %u failed: %s\n", r,
			        cairn_strerror(rc));
			break;
		}
	}
	if (!g_json) {
		printf("\n%s\n", g_stop ? "interrupted: stopping cleanly" : "done");
		print_stats();
	}
	txt = cairn_metrics_dump_json(true);
	cairn_rt_fini();
	if (txt != NULL) {
		printf("%s\n", txt);
		free(txt);
	}
	cairn_metric_unregister(&g_items);
	cairn_metric_unregister(&g_item_ns);
	cairn_metric_unregister(&g_pings);
	cairn_log_fini();
	return rc == 0 ? 0 : 1;
}
