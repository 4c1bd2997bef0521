/*
 * cairn-drpc-bench: dRPC round-trip latency and throughput. The server runs on the
 * runtime's system xstream (as in cairn-engine); clients are plain threads. Baseline: a
 * raw SEQPACKET echo served by a plain thread (no protobuf, no ULT, no runtime), so the
 * ratio shows what dRPC's envelope and dispatch cost.
 *   cairn-drpc-bench [-s seconds per case (default 1)] [-c max clients (default 4)]
 * Table first; the last line is one JSON object.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <cairn/errno.h>

#include "common/json.h"
#include "common/units.h"
#include "drpc/drpc.h"
#include "rt/rt.h"

#define MAX_CLIENTS 16
#define MAX_SAMPLES 2000000

static int
h_echo(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	if (call->body_len == 0)
		return 0;
	*body = malloc(call->body_len);
	if (*body == NULL)
		return -CAIRN_ERR_NOMEM;
	memcpy(*body, call->body, call->body_len);
	*body_len = call->body_len;
	return 0;
}

static const struct cairn_drpc_method g_methods[] = {{1, "echo", h_echo}};
static const struct cairn_drpc_handler_table g_table = {
        .module = CAIRN_DRPC_MODULE_TEST,
        .name = "bench",
        .methods = g_methods,
        .nr_methods = 1,
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct worker {
	pthread_t th;
	const char *path;
	bool raw;
	size_t body;
	uint64_t duration_ns;
	uint64_t *lat; /* ns samples */
	size_t n;
	int rc;
};

static void *
worker_fn(void *arg)
{
	struct worker *w = arg;
	struct cairn_drpc_client *cl = NULL;
	struct cairn_drpc_response r;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint8_t *buf = calloc(1, w->body + 1), rx[CAIRN_DRPC_MAX_MSG];
	uint64_t end, t0, t1;
	int fd = -1;

	if (buf == NULL) {
		w->rc = -CAIRN_ERR_NOMEM;
		return NULL;
	}
	if (w->raw) {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", w->path);
		fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			w->rc = -errno;
			goto out;
		}
	} else {
		w->rc = cairn_drpc_client_connect(w->path, 1000, &cl);
		if (w->rc)
			goto out;
	}
	end = now_ns() + w->duration_ns;
	while (w->n < MAX_SAMPLES) {
		t0 = now_ns();
		if (t0 >= end)
			break;
		if (w->raw) {
			if (send(fd, buf, w->body ? w->body : 1, 0) < 0 ||
			    recv(fd, rx, sizeof(rx), 0) <= 0) {
				w->rc = -CAIRN_ERR_IO;
				break;
			}
		} else {
			w->rc = cairn_drpc_client_call(cl, CAIRN_DRPC_MODULE_TEST, 1, buf, w->body,
			                               5000, &r);
			if (w->rc || r.status || r.body_len != w->body) {
				w->rc = w->rc ? w->rc : -CAIRN_ERR_PROTO;
				break;
			}
			cairn_drpc_response_release(&r);
		}
		t1 = now_ns();
		w->lat[w->n++] = t1 - t0;
	}
out:
	if (fd >= 0)
		close(fd);
	cairn_drpc_client_close(cl);
	free(buf);
	return NULL;
}

/* Raw baseline server: one plain thread per connection echoing packets. */
static void *
raw_conn_fn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t buf[CAIRN_DRPC_MAX_MSG];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
			break;
	close(fd);
	return NULL;
}

static void *
raw_accept_fn(void *arg)
{
	int lfd = (int)(intptr_t)arg, fd;
	pthread_t th;

	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		if (pthread_create(&th, NULL, raw_conn_fn, (void *)(intptr_t)fd) == 0)
			pthread_detach(th);
		else
			close(fd);
	}
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double ops;
	double p50_us;
	double p99_us;
};

static int
run_case(const char *path, bool raw, unsigned clients, size_t body, uint64_t dur_ns,
         struct result *res)
{
	struct worker w[MAX_CLIENTS];
	uint64_t *all, total = 0, t0, el;
	size_t k = 0;
	unsigned i;
	int rc = 0;

	memset(w, 0, sizeof(w));
	t0 = now_ns();
	for (i = 0; i < clients; i++) {
		w[i].path = path;
		w[i].raw = raw;
		w[i].body = body;
		w[i].duration_ns = dur_ns;
		w[i].lat = malloc(sizeof(uint64_t) * MAX_SAMPLES);
		if (w[i].lat == NULL || pthread_create(&w[i].th, NULL, worker_fn, &w[i]))
			return -CAIRN_ERR_NOMEM;
	}
	for (i = 0; i < clients; i++) {
		pthread_join(w[i].th, NULL);
		total += w[i].n;
		if (w[i].rc)
			rc = w[i].rc;
	}
	el = now_ns() - t0;
	all = malloc(sizeof(uint64_t) * (total ? total : 1));
	for (i = 0; i < clients; i++) {
		if (all)
			memcpy(all + k, w[i].lat, w[i].n * sizeof(uint64_t));
		k += w[i].n;
		free(w[i].lat);
	}
	if (all == NULL || total == 0) {
		free(all);
		return rc ? rc : -CAIRN_ERR_NOMEM;
	}
	qsort(all, total, sizeof(uint64_t), cmp_u64);
	res->ops = (double)total * 1e9 / (double)el;
	res->p50_us = (double)all[total / 2] / 1000.0;
	res->p99_us = (double)all[(total * 99) / 100] / 1000.0;
	free(all);
	return rc;
}

struct start_ctx {
	const char *path;
	struct cairn_drpc_server *srv;
	int rc;
};

static void
start_ult(void *arg)
{
	struct start_ctx *c = arg;

	c->rc = cairn_drpc_server_start(c->path, 64, &c->srv);
}

static void
stop_ult(void *arg)
{
	cairn_drpc_server_stop(arg, 1000000);
}

int
main(int argc, char **argv)
{
	static const size_t bodies[] = {64, 4096};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dpath[108], rpath[108];
	struct cairn_rt_opts o;
	struct start_ctx sc;
	struct result d, r;
	json_t *out = json_object(), *cases = json_array();
	uint32_t secs = 1, maxc = 4;
	unsigned c, bi;
	pthread_t acc;
	int opt, lfd, rc;

	while ((opt = getopt(argc, argv, "s:c:h")) != -1) {
		if (opt == 's' && cairn_parse_u32(optarg, 1, 60, &secs, NULL, 0) == 0)
			continue;
		if (opt == 'c' && cairn_parse_u32(optarg, 1, MAX_CLIENTS, &maxc, NULL, 0) == 0)
			continue;
		fprintf(stderr, "usage: cairn-drpc-bench [-s seconds 1..60] [-c clients 1..%d]\n",
		        MAX_CLIENTS);
		return opt == 'h' ? 0 : 2;
	}
	snprintf(dpath, sizeof(dpath), "/tmp/cairn-drpc-bench-%d.sock", (int)getpid());
	snprintf(rpath, sizeof(rpath), "/tmp/cairn-drpc-bench-%d-raw.sock", (int)getpid());

	cairn_rt_opts_default(&o);
	o.nr_system = 1;
	o.nr_main = 0;
	o.pin = false;
	if (cairn_rt_init(&o) || cairn_drpc_register(&g_table)) {
		fprintf(stderr, "cannot start the runtime\n");
		return 1;
	}
	sc.path = dpath;
	sc.rc = -1;
	if (cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0), start_ult, &sc) || sc.rc) {
		fprintf(stderr, "cannot start the dRPC server: %s\n", cairn_strerror(sc.rc));
		return 1;
	}
	unlink(rpath);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", rpath);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 64) ||
	    pthread_create(&acc, NULL, raw_accept_fn, (void *)(intptr_t)lfd)) {
		fprintf(stderr, "cannot start the raw baseline\n");
		return 1;
	}
	pthread_detach(acc);

	printf("dRPC echo round trips (%u s per case; server on the system xstream)\n", secs);
	printf("%-8s %-6s %12s %9s %9s %12s %9s %7s\n", "clients", "body", "drpc ops/s", "p50 us",
	       "p99 us", "raw ops/s", "raw p50", "ratio");
	for (bi = 0; bi < sizeof(bodies) / sizeof(bodies[0]); bi++) {
		for (c = 1; c <= maxc; c *= 2) {
			rc = run_case(dpath, false, c, bodies[bi], secs * 1000000000ull, &d);
			if (rc == 0)
				rc = run_case(rpath, true, c, bodies[bi], secs * 1000000000ull, &r);
			if (rc) {
				fprintf(stderr, "case failed: %s\n", cairn_strerror(rc));
				return 1;
			}
			printf("%-8u %-6zu %12.0f %9.1f %9.1f %12.0f %9.1f %7.2f\n", c, bodies[bi],
			       d.ops, d.p50_us, d.p99_us, r.ops, r.p50_us, d.ops / r.ops);
			json_t *j = json_object();
			json_object_set_new(j, "clients", json_integer(c));
			json_object_set_new(j, "body", json_integer((json_int_t)bodies[bi]));
			json_object_set_new(j, "drpc_ops_s", json_integer((json_int_t)d.ops));
			json_object_set_new(j, "drpc_p50_us", json_real(d.p50_us));
			json_object_set_new(j, "drpc_p99_us", json_real(d.p99_us));
			json_object_set_new(j, "raw_ops_s", json_integer((json_int_t)r.ops));
			json_object_set_new(j, "raw_p50_us", json_real(r.p50_us));
			json_object_set_new(j, "drpc_vs_raw", json_real(d.ops / r.ops));
			json_array_append_new(cases, j);
		}
	}
	cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0), stop_ult, sc.srv);
	cairn_drpc_unregister(CAIRN_DRPC_MODULE_TEST);
	cairn_rt_fini();
	close(lfd);
	unlink(rpath);
	json_object_set_new(out, "bench", json_string("drpc"));
	json_object_set_new(out, "cases", cases);
	cairn_json_print(stdout, out, false);
	json_decref(out);
	return 0;
}
