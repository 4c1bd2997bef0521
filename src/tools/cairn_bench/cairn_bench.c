/*
 * cairn-bench: IOR/daos_perf-like load generator over libcairn (object API, single
 * values). Each of --threads threads owns an event queue and one object (its id from
 * cairn_cont_alloc_oid), keeps --depth operations in flight and cycles over --keys
 * dkeys. Phases (--op update,fetch) run in order on the same objects; a fetch phase
 * with no update before it first writes the keys (untimed). Stops after --count
 * operations per phase (all threads) or --duration. Reports IOPS, bandwidth and
 * latency percentiles (log-linear histogram, ~3% resolution); --json adds one JSON
 * object as the last line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <cairn/array.h>
#include <cairn/cairn.h>
#include <cairn/cont.h>
#include <cairn/errno.h>
#include <cairn/event.h>
#include <cairn/obj.h>
#include <cairn/pool.h>

#include "common/units.h"
#include "jsonrpc/jsonrpc_client.h"
#include "common/sys_locate.h"

#define EXIT_OK 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_UNREACH 3
#define DEFAULT_SOCK "/var/tmp/cairn/cairn_server.sock"
#define MAX_THREADS 64
#define MAX_DEPTH 1024
#define MAX_PHASES 8
#define POLL_BATCH 64
#define POLL_TIMEOUT_US (60ll * 1000 * 1000) /* one poll with nothing back: give up */
#define STAMP_LEN 16

/* ------------------------------------------------------------------ latency histogram */

/* Values below 64 ns have their own bucket; above, each power of two is split in 32. */
#define HIST_LIN 64
#define HIST_SUB 32
#define HIST_N (HIST_LIN + 58 * HIST_SUB)

struct hist {
	uint64_t b[HIST_N];
	uint64_t n;
	uint64_t max;
	double sum;
};

static unsigned
hist_idx(uint64_t v)
{
	unsigned msb, shift, idx;

	if (v < HIST_LIN)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - 5; /* v >> shift in [32, 64) */
	idx = HIST_LIN + (shift - 1) * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
	return idx < HIST_N ? idx : HIST_N - 1;
}

/* Middle of bucket idx, in ns. */
static double
hist_val(unsigned idx)
{
	unsigned k, shift;
	uint64_t m;

	if (idx < HIST_LIN)
		return idx;
	k = idx - HIST_LIN;
	shift = k / HIST_SUB + 1;
	m = k % HIST_SUB + HIST_SUB;
	return ((double)(m << shift) + (double)((m + 1) << shift)) / 2;
}

static void
hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_idx(v)]++;
	h->n++;
	h->sum += (double)v;
	if (v > h->max)
		h->max = v;
}

static void
hist_merge(struct hist *dst, const struct hist *src)
{
	for (unsigned i = 0; i < HIST_N; i++)
		dst->b[i] += src->b[i];
	dst->n += src->n;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* Percentile q (0..1) in ns; never above the largest value seen. */
static double
hist_pct(const struct hist *h, double q)
{
	uint64_t want, seen = 0;
	double v;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(q * (double)h->n + 0.999999);
	if (want == 0)
		want = 1;
	for (unsigned i = 0; i < HIST_N; i++) {
		seen += h->b[i];
		if (seen >= want) {
			v = hist_val(i);
			return v > (double)h->max ? (double)h->max : v;
		}
	}
	return (double)h->max;
}

/* ------------------------------------------------------------------ options */

enum op { OP_UPDATE, OP_FETCH };
enum api { API_OBJ, API_ARRAY };

#define ARRAY_CHUNK (1u << 20) /* bytes per array chunk (cell size 1) */

struct args {
	const char *sys;
	const char *sock;
	const char *pool;
	const char *cont;
	bool create;
	enum op ops[MAX_PHASES];
	unsigned nr_ops;
	uint64_t size;
	uint32_t depth;
	uint32_t threads;
	uint64_t count;    /* per phase, all threads; 0 = by duration */
	uint64_t duration; /* ns */
	uint32_t keys;     /* per thread */
	int oclass;
	enum api api;
	bool verify;
	bool json;
	int progress; /* -1 auto, 0 off, 1 on */
};

static void
usage(FILE *f)
{
	fprintf(f,
	        "Usage: cairn-bench --pool POOL --cont CONT [options]\n\n"
	        "Object update/fetch load on a running Cairn system (single values).\n\n"
	        "  -P, --pool POOL        pool label or UUID (required)\n"
	        "  -C, --cont CONT        container label or UUID (required)\n"
	        "      --create           create the container (POSIX) if it does not exist\n"
	        "  -w, --op LIST          phases, in order: update, fetch or update,fetch\n"
	        "                         (default update)\n"
	        "  -z, --size SIZE        value size, 1 B .. 64 MiB (default 4k)\n"
	        "  -d, --depth N          operations in flight per thread, 1..%d (default 32)\n"
	        "  -t, --threads N        client threads, 1..%d (default 1)\n"
	        "  -n, --count N          operations per phase over all threads\n"
	        "  -D, --duration TIME    or run each phase for TIME (e.g. 10s; default 5s\n"
	        "                         when no --count)\n"
	        "  -k, --keys N           distinct dkeys per thread (default: enough for the\n"
	        "                         depth, at most 1024 and 256 MiB per thread)\n"
	        "  -c, --class CLASS      object class S1, S2, S4, S8 or SX (default SX)\n"
	        "  -a, --api API          obj: single values, one dkey per key (default);\n"
	        "                         array: one byte array per thread (1 MiB chunks),\n"
	        "                         key i at offset i x size\n"
	        "      --no-verify        do not check fetched values (default: checked)\n"
	        "  -s, --sys URI          engine URI (default $CAIRN_SYSTEM_URI, else asked\n"
	        "                         from cairn-server)\n"
	        "  -o, --socket PATH      cairn-server API socket (default\n"
	        "                         $CAIRN_SERVER_SOCKET or %s)\n"
	        "  -p, --progress         progress line every second on stderr (default:\n"
	        "                         when stderr is a terminal); --no-progress: never\n"
	        "  -j, --json             last line: one JSON object with all figures\n"
	        "  -h, --help             this text\n\n"
	        "Fetched values are verified (length and content). Overwrites are new\n"
	        "versions: size the pool for count x size (or keys x size) of data.\n"
	        "Exit codes: 0 success; 1 an operation failed; 2 bad usage; 3 cannot reach\n"
	        "the system.\n",
	        MAX_DEPTH, MAX_THREADS, DEFAULT_SOCK);
}

static int
bad(const char *opt, const char *err)
{
	fprintf(stderr, "cairn-bench: %s: %s (see --help)\n", opt, err);
	return EXIT_USAGE;
}

static int
parse_ops(struct args *a, const char *s)
{
	char buf[128], *save = NULL, *tok;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	a->nr_ops = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (a->nr_ops == MAX_PHASES)
			return -1;
		if (strcmp(tok, "update") == 0 || strcmp(tok, "write") == 0)
			a->ops[a->nr_ops++] = OP_UPDATE;
		else if (strcmp(tok, "fetch") == 0 || strcmp(tok, "read") == 0)
			a->ops[a->nr_ops++] = OP_FETCH;
		else
			return -1;
	}
	return a->nr_ops ? 0 : -1;
}

static int
parse_args(int argc, char **argv, struct args *a)
{
	enum { O_CREATE = 1000, O_NOVERIFY, O_NOPROGRESS };
	static const struct option lopts[] = {
		{"pool", required_argument, NULL, 'P'},  {"cont", required_argument, NULL, 'C'},
		{"create", no_argument, NULL, O_CREATE}, {"op", required_argument, NULL, 'w'},
		{"size", required_argument, NULL, 'z'},  {"depth", required_argument, NULL, 'd'},
		{"threads", required_argument, NULL, 't'},
		{"count", required_argument, NULL, 'n'},
		{"duration", required_argument, NULL, 'D'},
		{"keys", required_argument, NULL, 'k'},  {"class", required_argument, NULL, 'c'},
		{"api", required_argument, NULL, 'a'},
		{"no-verify", no_argument, NULL, O_NOVERIFY},
		{"sys", required_argument, NULL, 's'},   {"socket", required_argument, NULL, 'o'},
		{"progress", no_argument, NULL, 'p'},
		{"no-progress", no_argument, NULL, O_NOPROGRESS},
		{"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	char err[128];
	uint64_t v;
	int c;

	memset(a, 0, sizeof(*a));
	a->ops[0] = OP_UPDATE;
	a->nr_ops = 1;
	a->size = 4096;
	a->depth = 32;
	a->threads = 1;
	a->oclass = CAIRN_OC_SX;
	a->verify = true;
	a->progress = -1;
	while ((c = getopt_long(argc, argv, "P:C:w:z:d:t:n:D:k:c:a:s:o:pjh", lopts, NULL)) != -1) {
		switch (c) {
		case 'P': a->pool = optarg; break;
		case 'C': a->cont = optarg; break;
		case O_CREATE: a->create = true; break;
		case 'w':
			if (parse_ops(a, optarg))
				return bad("--op", "expected a comma list of update and fetch");
			break;
		case 'z':
			if (cairn_parse_size(optarg, &v, err, sizeof(err)))
				return bad("--size", err);
			if (v < 1 || v > CAIRN_OBJ_VALUE_MAX)
				return bad("--size", "must be 1 B .. 64 MiB");
			a->size = v;
			break;
		case 'd':
			if (cairn_parse_u32(optarg, 1, MAX_DEPTH, &a->depth, err, sizeof(err)))
				return bad("--depth", err);
			break;
		case 't':
			if (cairn_parse_u32(optarg, 1, MAX_THREADS, &a->threads, err, sizeof(err)))
				return bad("--threads", err);
			break;
		case 'n':
			if (cairn_parse_u64(optarg, 1, UINT64_MAX / 2, &a->count, err, sizeof(err)))
				return bad("--count", err);
			break;
		case 'D':
			if (cairn_parse_duration(optarg, &a->duration, err, sizeof(err)))
				return bad("--duration", err);
			if (a->duration == 0)
				return bad("--duration", "must be > 0");
			break;
		case 'k':
			if (cairn_parse_u32(optarg, 1, 1u << 24, &a->keys, err, sizeof(err)))
				return bad("--keys", err);
			break;
		case 'c':
			a->oclass = cairn_oclass_from_name(optarg);
			if (a->oclass < 0 || a->oclass == CAIRN_OC_RP_2G1 ||
			    a->oclass == CAIRN_OC_RP_3G1)
				return bad("--class", "expected S1, S2, S4, S8 or SX");
			break;
		case 'a':
			if (strcmp(optarg, "obj") == 0)
				a->api = API_OBJ;
			else if (strcmp(optarg, "array") == 0)
				a->api = API_ARRAY;
			else
				return bad("--api", "expected obj or array");
			break;
		case O_NOVERIFY: a->verify = false; break;
		case 's': a->sys = optarg; break;
		case 'o': a->sock = optarg; break;
		case 'p': a->progress = 1; break;
		case O_NOPROGRESS: a->progress = 0; break;
		case 'j': a->json = true; break;
		case 'h': usage(stdout); exit(EXIT_OK);
		default: return bad(argv[optind - 1], "unknown option");
		}
	}
	if (optind < argc)
		return bad(argv[optind], "unexpected argument");
	if (a->pool == NULL || a->cont == NULL)
		return bad(a->pool ? "--cont" : "--pool", "required");
	if (a->count && a->duration)
		return bad("--count", "give --count or --duration, not both");
	if (a->count == 0 && a->duration == 0)
		a->duration = 5ull * 1000 * 1000 * 1000;
	if (a->keys == 0) {
		uint64_t k = (256ull << 20) / a->size;

		if (k > 1024)
			k = 1024;
		if (k < a->depth)
			k = a->depth;
		a->keys = (uint32_t)k;
	}
	if (a->keys < a->depth)
		return bad("--keys", "must be >= --depth (each operation in flight should have "
		                     "a key of its own)");
	if (a->count && a->count < a->threads)
		return bad("--count", "must be >= --threads");
	if ((uint64_t)a->depth * a->threads * a->size > (8ull << 30))
		return bad("--size", "depth x threads x size exceeds 8 GiB of buffers");
	return 0;
}

/* ------------------------------------------------------------------ system lookup */

/* Rank 0's URI from cairn-server's system_query (same rule as the cairn CLI). */
static int
resolve_sys(struct args *a, char *buf, size_t len)
{
	return tool_sys_locate("cairn-bench", &a->sys, &a->sock, DEFAULT_SOCK, buf, len) ? EXIT_UNREACH
	                                                                          : 0;
}

/* ------------------------------------------------------------------ workers */

struct worker;

struct phase {
	enum op op;
	bool timed;
	uint64_t deadline_ns; /* 0: by count */
	pthread_barrier_t *start;
};

struct worker {
	pthread_t tid;
	unsigned id;
	const struct args *a;
	struct cairn_handle oh;
	struct cairn_handle eq;
	struct cairn_event *evs;
	struct cairn_iov *dk, *val;
	char (*keys)[32];
	unsigned char **bufs;
	unsigned char *tmpl; /* value body shared by all keys of this thread */
	uint64_t *t_issue;
	uint32_t *slot_key;
	bool *body_ok; /* bufs[slot] past the stamp still equals tmpl (no copy needed) */
	struct phase *ph;
	uint64_t quota; /* operations this thread does in a count-bound phase */
	_Atomic uint64_t done;
	atomic_bool fin;
	uint64_t bytes;
	struct hist hist;
	int rc;
	bool abandoned; /* operations may still be in flight: keep their memory */
	char err[160];
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
fill_tmpl(unsigned char *b, size_t n, unsigned seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t k = 0; k < n; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[k] = (unsigned char)x;
	}
}

/* A value: the template with (thread, key) stamped over its first bytes. */
static void
stamp(unsigned char *b, size_t size, const unsigned char *tmpl, unsigned thr, uint32_t key)
{
	unsigned char s[STAMP_LEN];
	uint64_t w0 = ((uint64_t)thr << 32) | key, w1 = ~w0 * 0xff51afd7ed558ccdull;

	memcpy(s, &w0, 8);
	memcpy(s + 8, &w1, 8);
	memcpy(b, s, size < STAMP_LEN ? size : STAMP_LEN);
	if (size > STAMP_LEN && b != tmpl)
		memcpy(b + STAMP_LEN, tmpl + STAMP_LEN, size - STAMP_LEN);
}

static bool
check(const unsigned char *b, size_t size, const unsigned char *tmpl, unsigned thr,
      uint32_t key)
{
	unsigned char want[STAMP_LEN];
	uint64_t w0 = ((uint64_t)thr << 32) | key, w1 = ~w0 * 0xff51afd7ed558ccdull;
	size_t n = size < STAMP_LEN ? size : STAMP_LEN;

	memcpy(want, &w0, 8);
	memcpy(want + 8, &w1, 8);
	if (memcmp(b, want, n) != 0)
		return false;
	return size <= STAMP_LEN || memcmp(b + STAMP_LEN, tmpl + STAMP_LEN, size - STAMP_LEN) == 0;
}

static int
launch(struct worker *w, enum op op, unsigned slot, uint32_t key)
{
	static struct cairn_iov ak = {.buf = "data", .buf_len = 4, .len = 4};
	const struct args *a = w->a;
	int rc;

	w->slot_key[slot] = key;
	snprintf(w->keys[slot], sizeof(w->keys[slot]), "k%u", key);
	cairn_iov_set(&w->dk[slot], w->keys[slot], strlen(w->keys[slot]));
	/* Only the stamp differs between values: the body is copied again only after a
	 * fetch that was not verified overwrote it (the bench should not add a client-side
	 * copy of every value that an application would not make). */
	if (op == OP_UPDATE && (a->verify || a->size <= STAMP_LEN)) {
		stamp(w->bufs[slot], w->body_ok[slot] ? (a->size < STAMP_LEN ? a->size : STAMP_LEN)
		                                      : a->size,
		      w->tmpl, w->id, key);
		w->body_ok[slot] = true;
	} else if (op == OP_FETCH) {
		w->body_ok[slot] = false;
	}
	cairn_iov_set(&w->val[slot], w->bufs[slot], a->size);
	w->t_issue[slot] = now_ns();
	if (a->api == API_ARRAY)
		rc = op == OP_UPDATE
		             ? cairn_array_write(w->oh, (uint64_t)key * a->size, &w->val[slot],
		                                 &w->evs[slot])
		             : cairn_array_read(w->oh, (uint64_t)key * a->size, &w->val[slot],
		                                &w->evs[slot]);
	else
		rc = op == OP_UPDATE ? cairn_obj_update(w->oh, &w->dk[slot], &ak, &w->val[slot],
		                                        &w->evs[slot])
		                     : cairn_obj_fetch(w->oh, &w->dk[slot], &ak, &w->val[slot],
		                                       &w->evs[slot]);
	if (rc)
		snprintf(w->err, sizeof(w->err), "%s of key k%u: %s",
		         op == OP_UPDATE ? "update" : "fetch", key, cairn_strerror(rc));
	return rc;
}

/* One phase on this thread: keep depth in flight until the quota or the deadline. */
static int
run_phase(struct worker *w, enum op op, uint64_t quota, uint64_t deadline, bool timed)
{
	const struct args *a = w->a;
	struct cairn_event *done[POLL_BATCH];
	uint64_t issued = 0, finished = 0, t;
	uint32_t next_key = 0;
	unsigned inflight = 0, slot;
	bool stop = false;
	int n, k, rc;

	for (slot = 0; slot < a->depth && (quota == 0 || issued < quota); slot++) {
		rc = launch(w, op, slot, next_key);
		if (rc) { /* drain what was launched before giving up */
			w->rc = rc;
			stop = true;
			break;
		}
		next_key = (next_key + 1) % a->keys;
		issued++;
		inflight++;
	}
	while (inflight > 0) {
		n = cairn_eq_poll(w->eq, 1, POLL_TIMEOUT_US, POLL_BATCH, done);
		if (n <= 0) {
			if (n < 0)
				snprintf(w->err, sizeof(w->err), "event queue poll: %s",
				         cairn_strerror(n));
			else
				snprintf(w->err, sizeof(w->err), "no operation completed in %lld s "
				         "(%u in flight)", POLL_TIMEOUT_US / 1000000, inflight);
			/* operations still own their buffers: never free them (teardown) */
			w->abandoned = true;
			return n < 0 ? n : -CAIRN_ERR_TIMEDOUT;
		}
		t = now_ns();
		if (deadline && t >= deadline)
			stop = true;
		for (k = 0; k < n; k++) {
			slot = (unsigned)(done[k] - w->evs);
			inflight--;
			if (done[k]->ev_error) {
				snprintf(w->err, sizeof(w->err), "%s of key k%u: %s",
				         op == OP_UPDATE ? "update" : "fetch", w->slot_key[slot],
				         cairn_strerror(done[k]->ev_error));
				/* let the others land before the events are freed */
				stop = true;
				w->rc = done[k]->ev_error;
				continue;
			}
			if (op == OP_FETCH && a->verify &&
			    (w->val[slot].len != a->size ||
			     !check(w->bufs[slot], a->size, w->tmpl, w->id, w->slot_key[slot]))) {
				snprintf(w->err, sizeof(w->err), "fetch of key k%u: value differs "
				         "(%zu bytes, expected %" PRIu64 ")", w->slot_key[slot],
				         w->val[slot].len, a->size);
				stop = true;
				w->rc = -CAIRN_ERR_CORRUPT;
				continue;
			}
			if (op == OP_FETCH && a->verify)
				w->body_ok[slot] = true; /* checked equal to the template */
			if (timed) {
				hist_add(&w->hist, t - w->t_issue[slot]);
				w->bytes += a->size;
			}
			finished++;
			atomic_store_explicit(&w->done, finished, memory_order_relaxed);
			if (stop || (quota && issued >= quota))
				continue;
			rc = launch(w, op, slot, next_key);
			if (rc) {
				stop = true;
				w->rc = rc;
				continue;
			}
			next_key = (next_key + 1) % a->keys;
			issued++;
			inflight++;
		}
	}
	return w->rc;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct phase *ph = w->ph;

	pthread_barrier_wait(ph->start);
	if (!ph->timed) /* prefill: every key once */
		w->rc = run_phase(w, ph->op, w->a->keys, 0, false);
	else
		w->rc = run_phase(w, ph->op, w->quota, ph->deadline_ns, true);
	atomic_store(&w->fin, true);
	return NULL;
}

static int
worker_setup(struct worker *w, const struct args *a, unsigned id, struct cairn_handle coh)
{
	struct cairn_obj_id oid;
	int rc;

	w->id = id;
	w->a = a;
	w->evs = calloc(a->depth, sizeof(*w->evs));
	w->dk = calloc(a->depth, sizeof(*w->dk));
	w->val = calloc(a->depth, sizeof(*w->val));
	w->keys = calloc(a->depth, sizeof(*w->keys));
	w->bufs = calloc(a->depth, sizeof(*w->bufs));
	w->t_issue = calloc(a->depth, sizeof(*w->t_issue));
	w->slot_key = calloc(a->depth, sizeof(*w->slot_key));
	w->body_ok = calloc(a->depth, sizeof(*w->body_ok));
	w->tmpl = malloc(a->size);
	if (!w->evs || !w->dk || !w->val || !w->keys || !w->bufs || !w->t_issue ||
	    !w->slot_key || !w->body_ok || !w->tmpl)
		return -CAIRN_ERR_NOMEM;
	fill_tmpl(w->tmpl, a->size, id + 1);
	for (unsigned i = 0; i < a->depth; i++) {
		w->bufs[i] = malloc(a->size);
		if (w->bufs[i] == NULL)
			return -CAIRN_ERR_NOMEM;
		memcpy(w->bufs[i], w->tmpl, a->size);
		w->body_ok[i] = true;
	}
	rc = cairn_eq_create(&w->eq);
	if (rc)
		return rc;
	for (unsigned i = 0; i < a->depth; i++) {
		rc = cairn_event_init(&w->evs[i], w->eq, NULL);
		if (rc)
			return rc;
	}
	rc = cairn_cont_alloc_oid(coh, a->api == API_ARRAY ? CAIRN_OT_ARRAY : CAIRN_OT_MULTI,
	                          (enum cairn_oclass)a->oclass, &oid, NULL);
	if (rc)
		return rc;
	if (a->api == API_ARRAY)
		return cairn_array_create(coh, oid, 1, ARRAY_CHUNK, &w->oh, NULL);
	return cairn_obj_open(coh, oid, 0, &w->oh, NULL);
}

static void
worker_teardown(struct worker *w)
{
	if (w->abandoned) {
		/* The library may still write into the buffers and events: leave them. */
		if (cairn_handle_is_valid(w->eq))
			cairn_eq_destroy(w->eq, CAIRN_EQ_DESTROY_FORCE);
		return;
	}
	if (cairn_handle_is_valid(w->oh)) {
		if (w->a->api == API_ARRAY)
			cairn_array_close(w->oh, NULL);
		else
			cairn_obj_close(w->oh, NULL);
	}
	if (w->evs && cairn_handle_is_valid(w->eq))
		for (unsigned i = 0; i < w->a->depth; i++)
			cairn_event_fini(&w->evs[i]);
	if (cairn_handle_is_valid(w->eq))
		cairn_eq_destroy(w->eq, CAIRN_EQ_DESTROY_FORCE);
	if (w->bufs)
		for (unsigned i = 0; i < w->a->depth; i++)
			free(w->bufs[i]);
	free(w->evs);
	free(w->dk);
	free(w->val);
	free(w->keys);
	free(w->bufs);
	free(w->t_issue);
	free(w->slot_key);
	free(w->body_ok);
	free(w->tmpl);
}

/* ------------------------------------------------------------------ phases */

struct result {
	enum op op;
	uint64_t ops;
	uint64_t bytes;
	double secs;
	struct hist hist;
};

static const char *
op_name(enum op op)
{
	return op == OP_UPDATE ? "update" : "fetch";
}

/* Run one phase on all workers; the calling thread prints progress and waits. */
static int
run_all(struct worker *ws, const struct args *a, enum op op, bool timed, struct result *res)
{
	pthread_barrier_t start;
	struct phase ph = {.op = op, .timed = timed, .start = &start};
	uint64_t t0, t1, last_t, last_done = 0, sum;
	bool progress;
	unsigned i, started = 0;
	int rc = 0;

	progress = timed && (a->progress == 1 || (a->progress == -1 && isatty(STDERR_FILENO)));
	if (pthread_barrier_init(&start, NULL, a->threads + 1))
		return -CAIRN_ERR_NOMEM;
	for (i = 0; i < a->threads; i++) {
		ws[i].ph = &ph;
		ws[i].rc = 0;
		ws[i].err[0] = '\0';
		ws[i].bytes = 0;
		atomic_store(&ws[i].done, 0);
		atomic_store(&ws[i].fin, false);
		memset(&ws[i].hist, 0, sizeof(ws[i].hist));
		ws[i].quota = a->count / a->threads + (i < a->count % a->threads ? 1 : 0);
	}
	for (i = 0; i < a->threads; i++) {
		if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]))
			break;
		started++;
	}
	if (started < a->threads) {
		/* cannot release the barrier safely: the started threads wait forever */
		fprintf(stderr, "cairn-bench: cannot start %u threads\n", a->threads);
		exit(EXIT_FAILED);
	}
	t0 = now_ns();
	if (a->duration)
		ph.deadline_ns = t0 + a->duration;
	pthread_barrier_wait(&start);
	last_t = t0;
	if (progress) {
		for (;;) {
			bool all_fin = true;
			uint64_t t;

			usleep(100000);
			for (i = 0; i < a->threads; i++)
				all_fin = all_fin && atomic_load(&ws[i].fin);
			if (all_fin)
				break;
			t = now_ns();
			if (t - last_t < 1000000000ull)
				continue;
			sum = 0;
			for (i = 0; i < a->threads; i++)
				sum += atomic_load_explicit(&ws[i].done, memory_order_relaxed);
			fprintf(stderr, "\r[%s] %6.1f s %12" PRIu64 " ops %10.0f IOPS (last 1 s) ",
			        op_name(op), (double)(t - t0) / 1e9, sum,
			        (double)(sum - last_done) * 1e9 / (double)(t - last_t));
			last_done = sum;
			last_t = t;
		}
		fprintf(stderr, "\n");
	}
	for (i = 0; i < a->threads; i++)
		pthread_join(ws[i].tid, NULL);
	t1 = now_ns();
	pthread_barrier_destroy(&start);
	memset(res, 0, sizeof(*res));
	res->op = op;
	res->secs = (double)(t1 - t0) / 1e9;
	for (i = 0; i < a->threads; i++) {
		if (ws[i].rc && rc == 0) {
			fprintf(stderr, "cairn-bench: thread %u: %s\n", i, ws[i].err);
			rc = ws[i].rc;
		}
		res->ops += atomic_load(&ws[i].done);
		res->bytes += ws[i].bytes;
		hist_merge(&res->hist, &ws[i].hist);
	}
	return rc;
}

static void
print_table(const struct args *a, const struct result *res, unsigned nr)
{
	char sz[16];

	cairn_format_size(a->size, sz, sizeof(sz));
	printf("%-6s %-7s %9s %5s %7s %10s %7s %10s %10s %9s %9s %9s %9s\n", "api", "op", "size",
	       "depth",
	       "threads", "ops", "secs", "IOPS", "MiB/s", "mean_us", "p50_us", "p99_us",
	       "p99.9_us");
	for (unsigned i = 0; i < nr; i++) {
		const struct result *r = &res[i];

		printf("%-6s %-7s %9s %5u %7u %10" PRIu64 " %7.2f %10.0f %10.1f %9.1f %9.1f %9.1f "
		       "%9.1f\n",
		       a->api == API_ARRAY ? "array" : "obj", op_name(r->op), sz, a->depth, a->threads, r->ops, r->secs,
		       (double)r->ops / r->secs, (double)r->bytes / r->secs / (1 << 20),
		       r->hist.n ? r->hist.sum / (double)r->hist.n / 1e3 : 0,
		       hist_pct(&r->hist, 0.50) / 1e3, hist_pct(&r->hist, 0.99) / 1e3,
		       hist_pct(&r->hist, 0.999) / 1e3);
	}
}

static void
print_json(const struct args *a, const struct result *res, unsigned nr)
{
	json_t *o = json_object(), *arr = json_array();
	char *s;

	json_object_set_new(o, "pool", json_string(a->pool));
	json_object_set_new(o, "cont", json_string(a->cont));
	json_object_set_new(o, "size", json_integer((json_int_t)a->size));
	json_object_set_new(o, "depth", json_integer(a->depth));
	json_object_set_new(o, "threads", json_integer(a->threads));
	json_object_set_new(o, "keys", json_integer(a->keys));
	json_object_set_new(o, "class", json_string(cairn_oclass_name(a->oclass)));
	json_object_set_new(o, "api", json_string(a->api == API_ARRAY ? "array" : "obj"));
	json_object_set_new(o, "verify", json_boolean(a->verify));
	for (unsigned i = 0; i < nr; i++) {
		const struct result *r = &res[i];
		json_t *p = json_object();

		json_object_set_new(p, "op", json_string(op_name(r->op)));
		json_object_set_new(p, "ops", json_integer((json_int_t)r->ops));
		json_object_set_new(p, "secs", json_real(r->secs));
		json_object_set_new(p, "iops", json_real((double)r->ops / r->secs));
		json_object_set_new(p, "mib_per_s",
		                    json_real((double)r->bytes / r->secs / (1 << 20)));
		json_object_set_new(p, "gbps", json_real((double)r->bytes * 8 / r->secs / 1e9));
		json_object_set_new(p, "mean_us", json_real(r->hist.n ? r->hist.sum /
		                                                        (double)r->hist.n / 1e3
		                                                      : 0));
		json_object_set_new(p, "p50_us", json_real(hist_pct(&r->hist, 0.50) / 1e3));
		json_object_set_new(p, "p99_us", json_real(hist_pct(&r->hist, 0.99) / 1e3));
		json_object_set_new(p, "p999_us", json_real(hist_pct(&r->hist, 0.999) / 1e3));
		json_object_set_new(p, "max_us", json_real((double)r->hist.max / 1e3));
		json_array_append_new(arr, p);
	}
	json_object_set_new(o, "results", arr);
	s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

/* ------------------------------------------------------------------ main */

static int
open_cont(const struct args *a, struct cairn_handle poh, struct cairn_handle *coh)
{
	uint8_t uuid[16];
	int rc;

	rc = cairn_cont_open(poh, a->cont, 0, coh, NULL, NULL);
	if (rc == -CAIRN_ERR_NONEXIST && a->create) {
		rc = cairn_cont_create(poh, a->cont, CAIRN_CONT_POSIX,
		                       (enum cairn_oclass)a->oclass, uuid, NULL);
		if (rc && rc != -CAIRN_ERR_EXIST) { /* EXIST: another bench created it */
			fprintf(stderr, "cairn-bench: container create %s: %s\n", a->cont,
			        cairn_strerror(rc));
			return rc;
		}
		rc = cairn_cont_open(poh, a->cont, 0, coh, NULL, NULL);
	}
	if (rc)
		fprintf(stderr, "cairn-bench: container open %s: %s%s\n", a->cont,
		        cairn_strerror(rc),
		        rc == -CAIRN_ERR_NONEXIST && !a->create ? " (use --create)" : "");
	return rc;
}

int
main(int argc, char **argv)
{
	struct cairn_handle poh = CAIRN_HANDLE_NULL, coh = CAIRN_HANDLE_NULL;
	struct worker *ws = NULL;
	struct result res[MAX_PHASES], pre;
	struct args a;
	char sysbuf[256];
	unsigned i, nr_res = 0;
	bool written = false;
	int rc, ret;

	ret = parse_args(argc, argv, &a);
	if (ret)
		return ret;
	ret = resolve_sys(&a, sysbuf, sizeof(sysbuf));
	if (ret)
		return ret;
	rc = cairn_init();
	if (rc) {
		fprintf(stderr, "cairn-bench: init: %s\n", cairn_strerror(rc));
		return EXIT_FAILED;
	}
	rc = cairn_pool_connect(a.pool, a.sys, 0, &poh, NULL, NULL);
	if (rc) {
		fprintf(stderr, "cairn-bench: pool connect %s at %s: %s\n", a.pool, a.sys,
		        cairn_strerror(rc));
		cairn_fini();
		return rc == -CAIRN_ERR_UNREACH || rc == -CAIRN_ERR_TIMEDOUT ? EXIT_UNREACH
		                                                            : EXIT_FAILED;
	}
	ret = EXIT_FAILED;
	rc = open_cont(&a, poh, &coh);
	if (rc)
		goto out;
	ws = calloc(a.threads, sizeof(*ws));
	if (ws == NULL)
		goto out;
	for (i = 0; i < a.threads; i++) {
		rc = worker_setup(&ws[i], &a, i, coh);
		if (rc) {
			fprintf(stderr, "cairn-bench: thread %u setup: %s\n", i, cairn_strerror(rc));
			goto out;
		}
	}
	for (i = 0; i < a.nr_ops; i++) {
		if (a.ops[i] == OP_FETCH && !written) {
			rc = run_all(ws, &a, OP_UPDATE, false, &pre);
			if (rc)
				goto out;
		}
		rc = run_all(ws, &a, a.ops[i], true, &res[nr_res]);
		if (rc)
			goto out;
		nr_res++;
		/* every key holds a value once an update phase went around them all */
		if (a.ops[i] == OP_UPDATE) {
			bool all = true;

			for (unsigned j = 0; j < a.threads; j++)
				all = all && atomic_load(&ws[j].done) >= a.keys;
			written = written || all;
		}
	}
	print_table(&a, res, nr_res);
	if (a.json)
		print_json(&a, res, nr_res);
	ret = EXIT_OK;
out:
	if (ws)
		for (i = 0; i < a.threads; i++)
			if (ws[i].a)
				worker_teardown(&ws[i]);
	free(ws);
	if (cairn_handle_is_valid(coh))
		cairn_cont_close(coh, NULL);
	cairn_pool_disconnect(poh, NULL);
	cairn_fini();
	return ret;
}
