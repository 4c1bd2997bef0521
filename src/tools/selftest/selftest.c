/*
 * cairn-selftest: RPC latency and throughput (CaRT self_test's role).
 *
 *   cairn-selftest [--sizes "0 4k 64k 1m"] [--inflight N] [--repetitions N]
 *                  [--endpoint rank:tag] [--uri tcp://host:port] [--contexts N]
 *                  [--cpus LIST] [--bulk-threshold SIZE] [--json]
 *   cairn-selftest --server --port N [--bind HOST] [--contexts N] [--cpus LIST]
 *
 * Without --uri it starts its own server contexts (one per xstream) in the process;
 * with --uri it measures against a separate `cairn-selftest --server`. Sizes below
 * --bulk-threshold travel inline (echoed back); larger ones as a bulk GET by the server.
 * A size may be prefixed with i (inline) or b (bulk) to force the mode.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn/errno.h"
#include "common/log.h"
#include "net/net.h"
#include "rt/rt.h"

#define ST_BASE 0x5e1f
enum { ST_PING = 0, ST_BULK, ST_COUNT };
#define MAX_SIZES 32
#define MAX_CTX 16

struct st_ping {
	const void *data;
	uint32_t len;
};
struct st_bulk_in {
	struct cairn_bulk_desc bd;
	uint64_t len;
};

static int
ping_enc(struct cairn_enc *e, const void *p)
{
	const struct st_ping *in = p;

	cairn_enc_bytes(e, in->data, in->len);
	return cairn_enc_rc(e);
}

static int
ping_dec(struct cairn_dec *d, void *p)
{
	struct st_ping *in = p;

	cairn_dec_bytes(d, &in->data, &in->len, 0);
	return cairn_dec_rc(d);
}

static void
ping_handler(struct cairn_rpc *rpc)
{
	*(struct st_ping *)cairn_rpc_out(rpc) = *(struct st_ping *)cairn_rpc_in(rpc);
	cairn_rpc_reply(rpc);
}

static int
bulk_enc(struct cairn_enc *e, const void *p)
{
	const struct st_bulk_in *in = p;

	cairn_enc_bulk(e, &in->bd);
	cairn_enc_u64(e, in->len);
	return cairn_enc_rc(e);
}

static int
bulk_dec(struct cairn_dec *d, void *p)
{
	struct st_bulk_in *in = p;

	cairn_dec_bulk(d, &in->bd);
	cairn_dec_u64(d, &in->len);
	return cairn_dec_rc(d);
}

/* Per-xstream pool of registered receive buffers (handlers of one context run on one
 * xstream, so no locking). */
#define POOL_MAX 64
struct buf_pool {
	struct cairn_bulk *b[POOL_MAX];
	void *mem[POOL_MAX];
	uint64_t len[POOL_MAX];
	unsigned n;
};
static __thread struct buf_pool t_pool;

static int
pool_get(struct cairn_net_ctx *ctx, uint64_t len, struct cairn_bulk **b, void **mem, uint64_t *blen)
{
	struct iovec iov;
	int rc;

	if (t_pool.n > 0) {
		t_pool.n--;
		if (t_pool.len[t_pool.n] >= len) {
			*b = t_pool.b[t_pool.n];
			*mem = t_pool.mem[t_pool.n];
			*blen = t_pool.len[t_pool.n];
			return 0;
		}
		cairn_bulk_free(t_pool.b[t_pool.n]);
		free(t_pool.mem[t_pool.n]);
	}
	iov.iov_len = len ? len : 1;
	iov.iov_base = malloc(iov.iov_len);
	if (iov.iov_base == NULL)
		return -CAIRN_ERR_NOMEM;
	memset(iov.iov_base, 0, iov.iov_len);
	rc = cairn_bulk_create(ctx, &iov, 1, CAIRN_BULK_RW, b);
	if (rc) {
		free(iov.iov_base);
		return rc;
	}
	*mem = iov.iov_base;
	*blen = iov.iov_len;
	return 0;
}

static void
pool_put(struct cairn_bulk *b, void *mem, uint64_t len)
{
	if (t_pool.n == POOL_MAX) {
		cairn_bulk_free(b);
		free(mem);
		return;
	}
	t_pool.b[t_pool.n] = b;
	t_pool.mem[t_pool.n] = mem;
	t_pool.len[t_pool.n] = len;
	t_pool.n++;
}

static void
pool_drain(void *arg)
{
	while (t_pool.n > 0) {
		t_pool.n--;
		cairn_bulk_free(t_pool.b[t_pool.n]);
		free(t_pool.mem[t_pool.n]);
	}
}

static void
bulk_handler(struct cairn_rpc *rpc)
{
	struct st_bulk_in *in = cairn_rpc_in(rpc);
	struct cairn_bulk *b;
	void *mem;
	uint64_t blen;
	int rc;

	if (in->len > in->bd.len || in->len > (256u << 20)) {
		cairn_rpc_reply_err(rpc, -CAIRN_ERR_INVAL);
		return;
	}
	rc = pool_get(cairn_rpc_ctx(rpc), in->len, &b, &mem, &blen);
	if (rc == 0) {
		rc = cairn_bulk_transfer_wait(rpc, CAIRN_BULK_GET, &in->bd, 0, b, 0, in->len);
		pool_put(b, mem, blen);
	}
	if (rc)
		cairn_rpc_reply_err(rpc, rc);
	else
		cairn_rpc_reply(rpc);
}

static const struct cairn_rpc_def g_st_rpcs[ST_COUNT] = {
        [ST_PING] = {.name = "selftest_ping",
                     .flags = CAIRN_RPC_QUEUE_FRONT,
                     .in_size = sizeof(struct st_ping),
                     .out_size = sizeof(struct st_ping),
                     .in_enc = ping_enc,
                     .in_dec = ping_dec,
                     .out_enc = ping_enc,
                     .out_dec = ping_dec,
                     .handler = ping_handler},
        [ST_BULK] = {.name = "selftest_bulk",
                     .flags = CAIRN_RPC_QUEUE_FRONT,
                     .in_size = sizeof(struct st_bulk_in),
                     .in_enc = bulk_enc,
                     .in_dec = bulk_dec,
                     .handler = bulk_handler},
};
static const struct cairn_proto g_st_proto = {
        .name = "selftest", .base = ST_BASE, .version = 1, .count = ST_COUNT, .rpcs = g_st_rpcs};

/* ------------------------------------------------------------------ options */

struct st_size {
	uint64_t size;
	bool bulk;
};

struct st_opts {
	bool server;
	bool json;
	unsigned port;
	const char *bind;
	const char *uri;
	const char *cpus;
	unsigned contexts;
	unsigned inflight;
	unsigned reps;
	struct cairn_ep ep;
	uint64_t bulk_threshold;
	struct st_size sizes[MAX_SIZES];
	unsigned nsizes;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: cairn-selftest [options]          measure RPC latency and throughput\n"
	           "       cairn-selftest --server --port N   serve selftest RPCs until killed\n"
	           "\n"
	           "  --sizes LIST         message sizes, e.g. \"0 4k 64k 1m\" (default \"0 4k 64k "
	           "1m\");\n"
	           "                       prefix i/b forces inline/bulk (\"b4k\")\n"
	           "  --inflight N         RPCs in flight (default 1)\n"
	           "  --repetitions N      RPCs per size (default 10000)\n"
	           "  --endpoint R:T       target rank and tag (default 0:0)\n"
	           "  --uri tcp://H:P      URI of the target rank (default: start in-process "
	           "servers)\n"
	           "  --contexts N         server contexts (tags), one xstream each (default 1)\n"
	           "  --bulk-threshold SZ  sizes >= this go by bulk (default 64k)\n"
	           "  --cpus LIST          cores for the xstreams, e.g. \"0-1\"\n"
	           "  -j, --json           one JSON object instead of the table\n"
	           "  --server             server mode; with --port N [--bind HOST]\n"
	           "  -h, --help           this text\n");
}

static int
parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end != '\0' || v > (256ull << 20))
		return -1;
	*out = v;
	return 0;
}

static int
parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int
parse_sizes(const char *list, struct st_opts *o)
{
	const char *p = list;

	o->nsizes = 0;
	while (*p) {
		char tok[32];
		const char *t = tok;
		size_t n = strcspn(p, " ,");
		struct st_size *sz;
		int force = 0;

		if (n == 0) {
			p++;
			continue;
		}
		if (n >= sizeof(tok) || o->nsizes == MAX_SIZES)
			return -1;
		memcpy(tok, p, n);
		tok[n] = '\0';
		p += n;
		sz = &o->sizes[o->nsizes];
		if (*t == 'i' || *t == 'b') {
			force = *t == 'b' ? 2 : 1;
			t++;
		}
		if (parse_size(t, &sz->size))
			return -1;
		sz->bulk = force ? force == 2 : sz->size >= o->bulk_threshold;
		if (!sz->bulk && sz->size > (1u << 20) - 64) {
			fprintf(stderr, "inline size %s is above the 1 MiB message limit\n", tok);
			return -1;
		}
		o->nsizes++;
	}
	return o->nsizes ? 0 : -1;
}

static int
parse_args(int argc, char **argv, struct st_opts *o)
{
	static const struct option lo[] = {
	        {"help", no_argument, NULL, 'h'},
	        {"server", no_argument, NULL, 'S'},
	        {"port", required_argument, NULL, 'p'},
	        {"bind", required_argument, NULL, 'B'},
	        {"uri", required_argument, NULL, 'u'},
	        {"sizes", required_argument, NULL, 's'},
	        {"inflight", required_argument, NULL, 'i'},
	        {"repetitions", required_argument, NULL, 'r'},
	        {"endpoint", required_argument, NULL, 'e'},
	        {"contexts", required_argument, NULL, 'c'},
	        {"bulk-threshold", required_argument, NULL, 't'},
	        {"cpus", required_argument, NULL, 'C'},
	        {"json", no_argument, NULL, 'j'},
	        {NULL, 0, NULL, 0},
	};
	const char *sizes = "0 4k 64k 1m";
	int c, li = 0;

	memset(o, 0, sizeof(*o));
	o->contexts = 1;
	o->inflight = 1;
	o->reps = 10000;
	o->bind = "0.0.0.0";
	o->bulk_threshold = 64 * 1024;
	while ((c = getopt_long(argc, argv, "hj", lo, &li)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			exit(0);
		case 'S':
			o->server = true;
			break;
		case 'p':
			if (parse_uint(optarg, 65535, &o->port) || o->port == 0)
				goto bad;
			break;
		case 'B':
			o->bind = optarg;
			break;
		case 'u':
			o->uri = optarg;
			break;
		case 's':
			sizes = optarg;
			break;
		case 'i':
			if (parse_uint(optarg, 4096, &o->inflight) || o->inflight == 0)
				goto bad;
			break;
		case 'r':
			if (parse_uint(optarg, 100000000, &o->reps) || o->reps == 0)
				goto bad;
			break;
		case 'e': {
			char *colon = strchr(optarg, ':');
			unsigned r, t;

			if (colon == NULL)
				goto bad;
			*colon = '\0';
			if (parse_uint(optarg, UINT32_MAX - 1, &r) ||
			    parse_uint(colon + 1, MAX_CTX - 1, &t))
				goto bad;
			o->ep.rank = r;
			o->ep.tag = (uint16_t)t;
			break;
		}
		case 'c':
			if (parse_uint(optarg, MAX_CTX, &o->contexts) || o->contexts == 0)
				goto bad;
			break;
		case 't':
			if (parse_size(optarg, &o->bulk_threshold))
				goto bad;
			break;
		case 'C':
			o->cpus = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cairn-selftest: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->server && o->port == 0) {
		fprintf(stderr, "cairn-selftest: --server needs --port N\n");
		return -1;
	}
	if (parse_sizes(sizes, o)) {
		fprintf(stderr,
		        "cairn-selftest: bad --sizes '%s' (expected e.g. \"0 4k 64k 1m\")\n",
		        sizes);
		return -1;
	}
	if (!o->server && o->ep.tag >= o->contexts && o->uri == NULL) {
		fprintf(stderr, "cairn-selftest: --endpoint tag %u but only %u contexts\n",
		        o->ep.tag, o->contexts);
		return -1;
	}
	return 0;
bad:
	/* only long options take values, so li names the one that failed */
	fprintf(stderr, "cairn-selftest: bad value '%s' for --%s (see --help)\n", optarg,
		lo[li].name);
	return -1;
}

/* ------------------------------------------------------------------ contexts */

static struct cairn_net_group *g_grp;
static struct cairn_net_ctx *g_srv[MAX_CTX];
static struct cairn_net_ctx *g_cli;
static char g_listen[300];
static volatile sig_atomic_t g_stop;

struct mk_arg {
	unsigned tag;
	bool client;
	int rc;
};

static void
mk_ctx(void *p)
{
	struct mk_arg *a = p;
	struct cairn_net_ctx_opts o;

	cairn_net_ctx_opts_default(&o);
	o.group = g_grp;
	o.max_msg = 2u << 20;
	if (a->client) {
		o.credits = 4096;
		a->rc = cairn_net_ctx_create(&o, &g_cli);
		return;
	}
	o.rank = 0;
	o.tag = (uint16_t)a->tag;
	if (a->tag == 0)
		o.listen_uri = g_listen;
	o.max_conns = 4096;
	a->rc = cairn_net_ctx_create(&o, &g_srv[a->tag]);
}

static void
rm_ctx(void *p)
{
	struct cairn_net_ctx **c = p;

	pool_drain(NULL);
	cairn_net_ctx_destroy(*c);
	*c = NULL;
}

static int
start_servers(unsigned n)
{
	unsigned t;

	for (t = 0; t < n; t++) {
		struct mk_arg a = {.tag = t};
		int rc = cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, t), mk_ctx, &a);

		if (rc || a.rc) {
			fprintf(stderr, "cairn-selftest: cannot start server context %u: %s\n", t,
			        cairn_strerror(rc ? rc : a.rc));
			return rc ? rc : a.rc;
		}
	}
	return 0;
}

static void
stop_servers(unsigned n)
{
	unsigned t;

	for (t = 0; t < n; t++)
		if (g_srv[t])
			cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, t), rm_ctx, &g_srv[t]);
}

/* ------------------------------------------------------------------ measurement */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct slot;
struct run {
	const struct st_opts *o;
	struct st_size sz;
	uint8_t *buf;
	struct cairn_bulk *bulk;
	unsigned issued;
	unsigned done;
	unsigned active;
	int rc;
	uint64_t *lat_ns;
	uint64_t t0, t1;
	struct cairn_ult *waiter;
	bool finished;
	struct slot *slots;
};

struct slot {
	struct run *r;
	struct cairn_rpc *rpc;
	uint64_t t;
};

static int issue(struct slot *s);

static void
slot_cb(void *arg, int rc)
{
	struct slot *s = arg;
	struct run *r = s->r;
	uint64_t t = now_ns();

	if (rc == 0 && !r->sz.bulk) {
		/* The echo must come back intact (cheap check: length and both ends). */
		const struct st_ping *out = cairn_rpc_out(s->rpc);
		const uint8_t *d = out->data;

		if (out->len != r->sz.size ||
		    (out->len && (d[0] != r->buf[0] || d[out->len - 1] != r->buf[out->len - 1])))
			rc = -CAIRN_ERR_PROTO;
	}
	if (rc && r->rc == 0)
		r->rc = rc;
	if (r->done < r->o->reps)
		r->lat_ns[r->done] = t - s->t;
	r->done++;
	cairn_rpc_decref(s->rpc);
	s->rpc = NULL;
	r->active--;
	if (r->issued < r->o->reps && r->rc == 0 && issue(s) == 0)
		return;
	if (r->active == 0 && !r->finished) {
		r->finished = true;
		r->t1 = t;
		cairn_ult_wake(r->waiter);
	}
}

static int
issue(struct slot *s)
{
	struct run *r = s->r;
	int rc;

	rc = cairn_rpc_create(g_cli, r->o->ep,
	                      CAIRN_NET_OPC(ST_BASE, r->sz.bulk ? ST_BULK : ST_PING), &s->rpc);
	if (rc)
		goto err;
	if (r->sz.bulk) {
		struct st_bulk_in *in = cairn_rpc_in(s->rpc);

		cairn_bulk_get_desc(r->bulk, &in->bd);
		in->len = r->sz.size;
	} else {
		struct st_ping *in = cairn_rpc_in(s->rpc);

		in->data = r->buf;
		in->len = (uint32_t)r->sz.size;
	}
	s->t = now_ns();
	rc = cairn_rpc_send(s->rpc, slot_cb, s);
	if (rc) {
		cairn_rpc_decref(s->rpc);
		s->rpc = NULL;
		goto err;
	}
	r->issued++;
	r->active++;
	return 0;
err:
	if (r->rc == 0)
		r->rc = rc;
	return rc;
}

static void
run_ult(void *arg)
{
	struct run *r = arg;
	unsigned i, n = r->o->inflight < r->o->reps ? r->o->inflight : r->o->reps;

	r->waiter = cairn_ult_self();
	r->t0 = now_ns();
	for (i = 0; i < n; i++)
		if (issue(&r->slots[i]))
			break;
	if (r->active == 0) {
		r->t1 = now_ns();
		return;
	}
	while (!r->finished)
		cairn_ult_park();
}

static void
bulk_setup(void *arg)
{
	struct run *r = arg;
	struct iovec iov = {r->buf, r->sz.size};

	r->rc = cairn_bulk_create(g_cli, &iov, 1, CAIRN_BULK_RO, &r->bulk);
}

static void
bulk_teardown(void *arg)
{
	struct run *r = arg;

	cairn_bulk_free(r->bulk);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct result {
	uint64_t size;
	bool bulk;
	double p50, p99, avg, rate, gbps;
	int rc;
};

static int
measure(const struct st_opts *o, struct cairn_xstream *cxs, const struct st_size *sz,
        struct result *res)
{
	struct run r;
	unsigned i;
	double sum = 0, secs;
	int rc;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.sz = *sz;
	r.buf = malloc(sz->size ? sz->size : 1);
	r.lat_ns = calloc(o->reps, sizeof(uint64_t));
	r.slots = calloc(o->inflight, sizeof(struct slot));
	if (r.buf == NULL || r.lat_ns == NULL || r.slots == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < sz->size; i++)
		r.buf[i] = (uint8_t)i;
	for (i = 0; i < o->inflight; i++)
		r.slots[i].r = &r;
	if (sz->bulk) {
		rc = cairn_rt_run_sync(cxs, bulk_setup, &r);
		if (rc || r.rc)
			goto out;
	}
	rc = cairn_rt_run_sync(cxs, run_ult, &r);
	if (sz->bulk)
		cairn_rt_run_sync(cxs, bulk_teardown, &r);
	if (rc == 0)
		rc = r.rc;
	if (rc)
		goto out;
	qsort(r.lat_ns, o->reps, sizeof(uint64_t), cmp_u64);
	for (i = 0; i < o->reps; i++)
		sum += (double)r.lat_ns[i];
	secs = (double)(r.t1 - r.t0) / 1e9;
	res->size = sz->size;
	res->bulk = sz->bulk;
	res->p50 = (double)r.lat_ns[o->reps / 2] / 1000.0;
	res->p99 = (double)r.lat_ns[(uint64_t)o->reps * 99 / 100] / 1000.0;
	res->avg = sum / o->reps / 1000.0;
	res->rate = o->reps / secs;
	res->gbps = (double)sz->size * o->reps * 8 / secs / 1e9;
out:
	res->rc = rc;
	free(r.buf);
	free(r.lat_ns);
	free(r.slots);
	return rc;
}

static void
on_signal(int sig)
{
	g_stop = 1;
}

int
main(int argc, char **argv)
{
	struct st_opts o;
	struct cairn_rt_opts ro;
	struct result res[MAX_SIZES];
	struct cairn_xstream *cxs;
	struct mk_arg ca = {.client = true};
	unsigned i, nsrv;
	int rc;

	if (parse_args(argc, argv, &o))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	cairn_log_init();
	nsrv = o.server || o.uri == NULL ? o.contexts : 0;
	cairn_rt_opts_default(&ro);
	ro.nr_system = 0;
	ro.nr_main = nsrv + (o.server ? 0 : 1);
	ro.cpu_list = o.cpus;
	ro.pin = o.cpus != NULL;
	rc = cairn_rt_init(&ro);
	if (rc) {
		fprintf(stderr, "cairn-selftest: runtime: %s\n", cairn_strerror(rc));
		return 1;
	}
	if (cairn_net_proto_register(&g_st_proto) != 0 ||
	    cairn_net_group_create("selftest", &g_grp) != 0) {
		rc = 1;
		goto out_rt;
	}
	if (o.server)
		snprintf(g_listen, sizeof(g_listen), "tcp://%s:%u", o.bind, o.port);
	else
		snprintf(g_listen, sizeof(g_listen), "tcp://127.0.0.1:0");
	if (nsrv) {
		rc = start_servers(nsrv);
		if (rc)
			goto out_grp;
	}
	if (o.server) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		fprintf(stderr, "cairn-selftest: serving on %s (%u contexts)\n", g_listen, nsrv);
		while (!g_stop)
			usleep(100 * 1000); /* the signal may land on any thread */
		rc = 0;
		goto out_srv;
	}
	if (o.uri) {
		rc = cairn_net_group_rank_set(g_grp, o.ep.rank, o.uri);
		if (rc) {
			fprintf(stderr, "cairn-selftest: bad --uri '%s'\n", o.uri);
			goto out_srv;
		}
	} else if (o.ep.rank != 0) {
		fprintf(stderr, "cairn-selftest: in-process servers are rank 0\n");
		rc = -CAIRN_ERR_INVAL;
		goto out_srv;
	}
	cxs = cairn_xs_by_role(CAIRN_XS_MAIN, nsrv);
	rc = cairn_rt_run_sync(cxs, mk_ctx, &ca);
	if (rc || ca.rc) {
		rc = rc ? rc : ca.rc;
		goto out_srv;
	}
	/* Warm up the connection. */
	{
		struct st_opts w = o;
		struct st_size s0 = {.size = 0, .bulk = false};
		struct result r0;

		w.reps = 100;
		w.inflight = 1;
		rc = measure(&w, cxs, &s0, &r0);
		if (rc) {
			fprintf(stderr, "cairn-selftest: cannot reach rank %u tag %u: %s\n",
			        o.ep.rank, o.ep.tag, cairn_strerror(rc));
			goto out_cli;
		}
	}
	for (i = 0; i < o.nsizes; i++) {
		rc = measure(&o, cxs, &o.sizes[i], &res[i]);
		if (rc) {
			fprintf(stderr, "cairn-selftest: size %lu: %s\n",
			        (unsigned long)o.sizes[i].size, cairn_strerror(rc));
			goto out_cli;
		}
	}
	if (o.json) {
		printf("{\"endpoint\":\"%u:%u\",\"inflight\":%u,\"repetitions\":%u,\"results\":[",
		       o.ep.rank, o.ep.tag, o.inflight, o.reps);
		for (i = 0; i < o.nsizes; i++)
			printf("%s{\"size\":%lu,\"mode\":\"%s\",\"p50_us\":%.2f,\"p99_us\":%.2f,"
			       "\"avg_us\":%.2f,\"rpc_per_s\":%.0f,\"gbps\":%.3f}",
			       i ? "," : "", (unsigned long)res[i].size,
			       res[i].bulk ? "bulk" : "inline", res[i].p50, res[i].p99, res[i].avg,
			       res[i].rate, res[i].gbps);
		printf("]}\n");
	} else {
		printf("endpoint %u:%u  inflight %u  repetitions %u\n", o.ep.rank, o.ep.tag,
		       o.inflight, o.reps);
		printf("%10s %7s %10s %10s %10s %12s %9s\n", "size", "mode", "p50(us)", "p99(us)",
		       "avg(us)", "rpc/s", "Gbit/s");
		for (i = 0; i < o.nsizes; i++)
			printf("%10lu %7s %10.2f %10.2f %10.2f %12.0f %9.3f\n",
			       (unsigned long)res[i].size, res[i].bulk ? "bulk" : "inline",
			       res[i].p50, res[i].p99, res[i].avg, res[i].rate, res[i].gbps);
	}
	rc = 0;
out_cli:
	cairn_rt_run_sync(cxs, rm_ctx, &g_cli);
out_srv:
	stop_servers(nsrv);
out_grp:
	cairn_net_group_destroy(g_grp);
out_rt:
	cairn_rt_fini();
	return rc ? 1 : 0;
}
