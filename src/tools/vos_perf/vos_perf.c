/*
 * cairn-vos-perf: measure VOS like DAOS's vos_perf. Formats a pool on a file (uring bdev)
 * or in RAM, then runs the chosen tests over objs x dkeys x akeys values, from C
 * concurrent ULTs on one target xstream (so updates share group commits). Prints a table
 * and, last, one JSON object (only the JSON with --json).
 *
 *   cairn-vos-perf -f /tmp/pool --size 1G -o 10 -d 100 -a 10 -v 4k -T update,fetch
 *   cairn-vos-perf --malloc --size 256M -v 64 -A --rec-size 8 -T update,fetch,enum,punch
 */
#define CAIRN_LOG_SS CAIRN_SS_TOOL

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bdev/bdev.h"
#include "cairn/errno.h"
#include "common/log.h"
#include "common/units.h"
#include "rt/rt.h"
#include "vos/vos.h"

enum test_kind { T_UPDATE, T_FETCH, T_PUNCH, T_ENUM, T_CKPT, T_MAX };
static const char *const g_test_names[T_MAX] = { "update", "fetch", "punch", "enum", "ckpt" };
/* ckpt test: checkpoints taken back to back while the ULTs overwrite values. */
#define CKPT_TEST_ROUNDS 3

struct perf_opts {
	const char *file;        /* NULL: malloc bdev */
	uint64_t size;
	uint64_t objs, dkeys, akeys;
	uint64_t vsize;
	bool array;
	uint32_t rec_size;
	uint32_t conc;
	uint32_t inline_max;
	uint64_t wal_size;
	uint64_t cache;         /* UINT64_MAX: pool default */
	bool tests[T_MAX];
	bool json_only;
	bool keep_file;
	bool ckpt_whole;        /* ckpt test: whole-index checkpoints (the old way) */
	bool no_prezero;        /* file pools: skip pre-zeroing at format */
};

struct result {
	bool ran;
	uint64_t ops, errors, bytes;
	uint64_t ns;            /* wall time of the test */
	uint64_t lat_sum, lat_max;
	uint64_t *lat;          /* per-op latency (ns) for percentiles; NULL if no memory */
	uint64_t nlat, lat_p50, lat_p99;
	uint64_t frames, records, checkpoints;
	/* device side, from the bdev layer's statistics */
	uint64_t dev_reads, dev_writes, dev_flushes;
	double dev_read_us, dev_write_us, dev_flush_us;
	int first_err;
};

struct run {
	const struct perf_opts *o;
	struct cairn_vos_pool *pool;
	uint8_t cont[16];
	enum test_kind kind;
	uint64_t next;          /* next op index (shared by the ULTs of the xstream) */
	uint64_t total;
	uint64_t nkeys;         /* objs x dkeys x akeys */
	bool stop;              /* ckpt test: the checkpoints are done */
	struct result *res;
	char *val;              /* update source */
	int rc;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: cairn-vos-perf [options]\n"
		"  -f, --file PATH       pool file (created/resized to --size); default: RAM\n"
		"      --malloc          pool in RAM (malloc bdev)\n"
		"  -s, --size SIZE       pool size (default 1G; K/M/G suffixes)\n"
		"  -o, --objs N          objects (default 1)\n"
		"  -d, --dkeys N         dkeys per object (default 1000)\n"
		"  -a, --akeys N         akeys per dkey (default 1)\n"
		"  -v, --value-size SIZE value bytes (default 4k)\n"
		"  -A, --array           array values (one extent of value-size bytes)\n"
		"      --rec-size SIZE   array record size (default 1)\n"
		"  -c, --concurrency N   concurrent ULTs (default 8)\n"
		"  -T, --tests LIST      update,fetch,punch,enum,ckpt (default update,fetch);\n"
		"                        ckpt: overwrites while %d checkpoints run back to back\n"
		"      --ckpt-whole      ckpt test: serialise each checkpoint in one go (the\n"
		"                        pre-cooperative way), for comparison\n"
		"      --inline SIZE     values up to SIZE live in the metadata (default 1k)\n"
		"      --wal SIZE        WAL size (default: 1/8 of the pool, max 256M)\n"
		"      --cache SIZE      DRAM extent cache (default 128M; 0 = off)\n"
		"      --keep            keep the pool file\n"
		"      --no-prezero      file pools: format without writing zeros over the\n"
		"                        pool first (a sparse file then pays for unwritten\n"
		"                        extents on first writes)\n"
		"  -j, --json            print only the JSON result\n"
		"  -h, --help            this help\n", CKPT_TEST_ROUNDS);
}

static int
parse_size_opt(const char *name, const char *arg, uint64_t *out)
{
	char err[160];

	if (cairn_parse_size(arg, out, err, sizeof(err)) != 0) {
		fprintf(stderr, "cairn-vos-perf: --%s: %s\n", name, err);
		return -1;
	}
	return 0;
}

static int
parse_count_opt(const char *name, const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
	char err[160];

	if (cairn_parse_u64(arg, min, max, out, err, sizeof(err)) != 0) {
		fprintf(stderr, "cairn-vos-perf: --%s: %s\n", name, err);
		return -1;
	}
	return 0;
}

static int
parse_tests(const char *arg, bool *tests)
{
	const char *s = arg;

	memset(tests, 0, sizeof(bool) * T_MAX);
	for (;;) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		int k;

		for (k = 0; k < T_MAX; k++) {
			if (strlen(g_test_names[k]) == n && strncmp(s, g_test_names[k], n) == 0)
				break;
		}
		if (k == T_MAX) {
			fprintf(stderr, "cairn-vos-perf: --tests: unknown test '%.*s' (expected "
				"update, fetch, punch, enum, ckpt)\n", (int)n, s);
			return -1;
		}
		tests[k] = true;
		if (e == NULL)
			return 0;
		s = e + 1;
	}
}

static int
parse_opts(int argc, char **argv, struct perf_opts *o)
{
	static const struct option lo[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "malloc", no_argument, NULL, 'M' },
		{ "size", required_argument, NULL, 's' },
		{ "objs", required_argument, NULL, 'o' },
		{ "dkeys", required_argument, NULL, 'd' },
		{ "akeys", required_argument, NULL, 'a' },
		{ "value-size", required_argument, NULL, 'v' },
		{ "array", no_argument, NULL, 'A' },
		{ "rec-size", required_argument, NULL, 'R' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "tests", required_argument, NULL, 'T' },
		{ "inline", required_argument, NULL, 'I' },
		{ "wal", required_argument, NULL, 'W' },
		{ "cache", required_argument, NULL, 'C' },
		{ "keep", no_argument, NULL, 'K' },
		{ "ckpt-whole", no_argument, NULL, 'P' },
		{ "no-prezero", no_argument, NULL, 'Z' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->size = 1ull << 30;
	o->objs = 1;
	o->dkeys = 1000;
	o->akeys = 1;
	o->vsize = 4096;
	o->rec_size = 1;
	o->conc = 8;
	o->inline_max = 1024;
	o->cache = UINT64_MAX;
	o->tests[T_UPDATE] = o->tests[T_FETCH] = true;
	while ((c = getopt_long(argc, argv, "f:s:o:d:a:v:Ac:T:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'f': o->file = optarg; break;
		case 'M': o->file = NULL; break;
		case 's': if (parse_size_opt("size", optarg, &o->size)) return -1; break;
		case 'o':
			if (parse_count_opt("objs", optarg, 1, 1ull << 32, &o->objs)) return -1;
			break;
		case 'd':
			if (parse_count_opt("dkeys", optarg, 1, 1ull << 32, &o->dkeys)) return -1;
			break;
		case 'a':
			if (parse_count_opt("akeys", optarg, 1, 1ull << 20, &o->akeys)) return -1;
			break;
		case 'v':
			if (parse_size_opt("value-size", optarg, &o->vsize)) return -1;
			if (o->vsize == 0 || o->vsize > (64ull << 20)) {
				fprintf(stderr, "cairn-vos-perf: --value-size must be 1..64M\n");
				return -1;
			}
			break;
		case 'A': o->array = true; break;
		case 'R':
			if (parse_size_opt("rec-size", optarg, &v)) return -1;
			if (v == 0 || v > (1u << 20)) {
				fprintf(stderr, "cairn-vos-perf: --rec-size must be 1..1M\n");
				return -1;
			}
			o->rec_size = (uint32_t)v;
			break;
		case 'c':
			if (parse_count_opt("concurrency", optarg, 1, 4096, &v)) return -1;
			o->conc = (uint32_t)v;
			break;
		case 'T': if (parse_tests(optarg, o->tests)) return -1; break;
		case 'I':
			if (parse_size_opt("inline", optarg, &v)) return -1;
			if (v > 4096) {
				fprintf(stderr, "cairn-vos-perf: --inline must be at most 4k\n");
				return -1;
			}
			o->inline_max = (uint32_t)v;
			break;
		case 'W': if (parse_size_opt("wal", optarg, &o->wal_size)) return -1; break;
		case 'C': if (parse_size_opt("cache", optarg, &o->cache)) return -1; break;
		case 'K': o->keep_file = true; break;
		case 'P': o->ckpt_whole = true; break;
		case 'Z': o->no_prezero = true; break;
		case 'j': o->json_only = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cairn-vos-perf: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->array && o->vsize % o->rec_size) {
		fprintf(stderr, "cairn-vos-perf: --value-size must be a multiple of --rec-size\n");
		return -1;
	}
	if (o->objs * o->dkeys > (1ull << 32) || o->objs * o->dkeys * o->akeys > (1ull << 32)) {
		fprintf(stderr, "cairn-vos-perf: objs x dkeys x akeys must be at most 2^32\n");
		return -1;
	}
	return 0;
}

/* Op index -> (oid, dkey, akey). Keys are decimal strings, like vos_perf's. */
static void
op_keys(const struct perf_opts *o, uint64_t i, struct cairn_vos_oid *oid, char *dkey,
	uint32_t *dlen, char *akey, uint32_t *alen)
{
	uint64_t a = i % o->akeys, d = (i / o->akeys) % o->dkeys, ob = i / (o->akeys * o->dkeys);

	oid->hi = 0xcafe;
	oid->lo = ob;
	*dlen = (uint32_t)snprintf(dkey, 32, "dkey-%012" PRIu64, d);
	*alen = (uint32_t)snprintf(akey, 32, "akey-%06" PRIu64, a);
}

static int
do_op(struct run *r, uint64_t i, char *buf)
{
	const struct perf_opts *o = r->o;
	struct cairn_vos_oid oid;
	char dkey[32], akey[32];
	uint32_t dlen, alen;
	struct cairn_vos_recx rx = { 0, o->vsize / o->rec_size };
	struct cairn_vos_iod iod = { 0 };

	op_keys(o, r->kind == T_CKPT ? i % r->nkeys : i, &oid, dkey, &dlen, akey, &alen);
	iod.akey = akey;
	iod.akey_len = alen;
	if (o->array) {
		iod.type = CAIRN_VOS_IOD_ARRAY;
		iod.rec_size = o->rec_size;
		iod.nr_recx = 1;
		iod.recx = &rx;
	} else {
		iod.type = CAIRN_VOS_IOD_SINGLE;
	}
	switch (r->kind) {
	case T_UPDATE:
		iod.buf = r->val;
		iod.buf_size = o->vsize;
		iod.size = o->vsize;
		return cairn_vos_update(r->pool, r->cont, &oid, 1, 0, dkey, dlen, 1, &iod);
	case T_CKPT:
		/* overwrite in place (same epoch): the index keeps its size */
		iod.buf = r->val;
		iod.buf_size = o->vsize;
		iod.size = o->vsize;
		return cairn_vos_update(r->pool, r->cont, &oid, 2, 0, dkey, dlen, 1, &iod);
	case T_FETCH: {
		int rc;

		iod.buf = buf;
		iod.buf_size = o->vsize;
		rc = cairn_vos_fetch(r->pool, r->cont, &oid, CAIRN_VOS_EPOCH_MAX, dkey, dlen, 1,
				     &iod);
		if (rc == 0 && iod.size == 0)
			rc = -CAIRN_ERR_NONEXIST; /* fetch after update must find it */
		return rc;
	}
	case T_PUNCH:
		return cairn_vos_punch(r->pool, r->cont, &oid, 2, 0, dkey, dlen, akey, alen);
	default:
		return 0;
	}
}

static int
count_key(void *arg, const void *key, uint32_t len)
{
	(*(uint64_t *)arg)++;
	return 0;
}

/* Enumerate: dkeys of every object, akeys of every dkey. One op = one listed key. */
static int
do_enum(struct run *r, uint64_t obj)
{
	const struct perf_opts *o = r->o;
	struct cairn_vos_anchor *da = malloc(sizeof(*da)), *aa = malloc(sizeof(*aa));
	struct cairn_vos_oid oid = { 0xcafe, obj };
	uint64_t n = 0, d;
	int rc = 0;

	if (da == NULL || aa == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto out;
	}
	cairn_vos_anchor_init(da);
	rc = cairn_vos_list_dkeys(r->pool, r->cont, &oid, 1, da, count_key, &n);
	for (d = 0; rc == 0 && d < o->dkeys; d++) {
		char dkey[32];
		uint32_t dlen = (uint32_t)snprintf(dkey, sizeof(dkey), "dkey-%012" PRIu64, d);

		cairn_vos_anchor_init(aa);
		rc = cairn_vos_list_akeys(r->pool, r->cont, &oid, dkey, dlen, 1, aa, count_key, &n);
	}
	if (rc == 0 && n != o->dkeys + o->dkeys * o->akeys)
		rc = -CAIRN_ERR_NONEXIST;
	r->res->bytes += n;
out:
	free(da);
	free(aa);
	return rc;
}

static void
worker(void *arg)
{
	struct run *r = arg;
	char *buf = malloc(r->o->vsize);

	if (buf == NULL) {
		r->res->errors++;
		return;
	}
	for (;;) {
		uint64_t i = r->next++, t0;
		int rc;

		if (i >= r->total || r->stop)
			break;
		t0 = now_ns();
		rc = r->kind == T_ENUM ? do_enum(r, i) : do_op(r, i, buf);
		t0 = now_ns() - t0;
		r->res->ops++;
		r->res->lat_sum += t0;
		if (t0 > r->res->lat_max)
			r->res->lat_max = t0;
		if (r->res->lat != NULL && r->res->nlat < r->total)
			r->res->lat[r->res->nlat++] = t0;
		if (rc) {
			if (r->res->errors++ == 0)
				r->res->first_err = rc;
		}
	}
	free(buf);
}

/* ckpt test: take CKPT_TEST_ROUNDS checkpoints one after the other (started like the
 * automatic ones, written by the pool's background ULT), then stop the workers. */
static void
ckpt_driver(struct run *r)
{
	struct cairn_vos_pool_info info;
	uint64_t base, t0 = now_ns();
	int n, rc;

	cairn_ult_yield(); /* let the workers start */
	cairn_vos_pool_query(r->pool, &info);
	base = info.checkpoints;
	for (n = 0; n < CKPT_TEST_ROUNDS && !r->stop; n++) {
		while ((rc = cairn_vos_pool_checkpoint_start(r->pool)) == -CAIRN_ERR_BUSY)
			cairn_ult_sleep_us(100);
		while (rc == 0) {
			cairn_vos_pool_query(r->pool, &info);
			if (info.checkpoints >= base + (uint64_t)n + 1)
				break;
			if (now_ns() - t0 > 60ull * 1000000000ull) {
				rc = -CAIRN_ERR_TIMEDOUT;
				break;
			}
			cairn_ult_sleep_us(100);
		}
		if (rc) {
			fprintf(stderr, "cairn-vos-perf: checkpoint: %s\n", cairn_strerror(rc));
			r->res->errors++;
			break;
		}
		cairn_vos_pool_query(r->pool, &info);
		base = info.checkpoints - (uint64_t)n - 1;
	}
	r->stop = true;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* p50 / p99 of the recorded latencies (then drops them). */
static void
lat_percentiles(struct result *res)
{
	if (res->lat != NULL && res->nlat > 0) {
		qsort(res->lat, res->nlat, sizeof(uint64_t), cmp_u64);
		res->lat_p50 = res->lat[(res->nlat - 1) / 2];
		res->lat_p99 = res->lat[(res->nlat - 1) * 99 / 100];
	}
	free(res->lat);
	res->lat = NULL;
}

struct main_arg {
	const struct perf_opts *o;
	const char *bdev;
	struct result res[T_MAX];
	int rc;
};

static void
main_ult(void *arg)
{
	struct main_arg *m = arg;
	const struct perf_opts *o = m->o;
	struct cairn_vos_pool_opts po;
	struct cairn_vos_pool_info info;
	struct cairn_ult_attr attr = { .prio = CAIRN_PRIO_GENERAL, .joinable = true };
	struct cairn_ult **ults = calloc(o->conc, sizeof(*ults));
	struct run r = { .o = o, .cont = { 0xbe, 0xef } };
	struct cairn_bdev *bdev = cairn_bdev_get_by_name(m->bdev);
	struct cairn_bdev_stats st;
	int k;

	if (ults == NULL) {
		m->rc = -CAIRN_ERR_NOMEM;
		return;
	}
	cairn_vos_pool_opts_default(&po);
	po.inline_max = o->inline_max;
	po.wal_size = o->wal_size;
	/* A file pool is pre-zeroed by default: like the raw NVMe namespace a pool gets
	 * in production, no block is then "unwritten" in the file system. */
	if (o->file != NULL && !o->no_prezero)
		po.flags |= CAIRN_VOS_FORMAT_PREZERO;
	m->rc = cairn_vos_pool_format(m->bdev, (const uint8_t *)"cairn-vos-perf!!", &po);
	if (m->rc == 0)
		m->rc = cairn_vos_pool_open(m->bdev, &r.pool);
	if (m->rc) {
		fprintf(stderr, "cairn-vos-perf: cannot set up the pool: %s\n",
			cairn_strerror(m->rc));
		free(ults);
		return;
	}
	if (o->cache != UINT64_MAX)
		cairn_vos_pool_set_cache(r.pool, o->cache);
	m->rc = cairn_vos_cont_create(r.pool, r.cont);
	r.val = malloc(o->vsize);
	if (r.val == NULL)
		m->rc = -CAIRN_ERR_NOMEM;
	for (uint64_t i = 0; r.val && i < o->vsize; i++)
		r.val[i] = (char)(i * 7 + 3);
	for (k = 0; k < T_MAX && m->rc == 0; k++) {
		struct result *res = &m->res[k];
		uint64_t t0;
		uint32_t u, n;

		if (!o->tests[k])
			continue;
		r.kind = (enum test_kind)k;
		r.res = res;
		r.next = 0;
		r.nkeys = o->objs * o->dkeys * o->akeys;
		r.total = k == T_ENUM ? o->objs : r.nkeys;
		r.stop = false;
		if (k == T_CKPT)
			r.total = r.nkeys * 64; /* a bound; the checkpoints end the test */
		cairn_vos_pool_query(r.pool, &info);
		res->frames = info.frames;
		res->records = info.records;
		res->checkpoints = info.checkpoints;
		res->lat = malloc(r.total * sizeof(uint64_t));
		res->ran = true;
		if (bdev != NULL)
			cairn_bdev_reset_stats(bdev);
		n = k == T_ENUM ? 1 : o->conc;
		t0 = now_ns();
		for (u = 0; u < n; u++) {
			if (cairn_ult_create(NULL, worker, &r, &attr, &ults[u]) != 0) {
				m->rc = -CAIRN_ERR_NOMEM;
				break;
			}
		}
		if (k == T_CKPT)
			ckpt_driver(&r);
		while (u > 0)
			cairn_ult_join(ults[--u]);
		res->ns = now_ns() - t0;
		cairn_vos_pool_query(r.pool, &info);
		res->frames = info.frames - res->frames;
		res->records = info.records - res->records;
		res->checkpoints = info.checkpoints - res->checkpoints;
		lat_percentiles(res);
		if (bdev != NULL && cairn_bdev_get_stats(bdev, &st) == 0) {
			const struct cairn_bdev_op_stats *rd = &st.op[CAIRN_BDEV_IO_READ];
			const struct cairn_bdev_op_stats *wr = &st.op[CAIRN_BDEV_IO_WRITE];
			const struct cairn_bdev_op_stats *fl = &st.op[CAIRN_BDEV_IO_FLUSH];

			res->dev_reads = rd->ops;
			res->dev_writes = wr->ops;
			res->dev_flushes = fl->ops;
			res->dev_read_us = rd->ops ? (double)rd->lat_sum_ns / rd->ops / 1e3 : 0;
			res->dev_write_us = wr->ops ? (double)wr->lat_sum_ns / wr->ops / 1e3 : 0;
			res->dev_flush_us = fl->ops ? (double)fl->lat_sum_ns / fl->ops / 1e3 : 0;
		}
		if (k != T_ENUM)
			res->bytes = k == T_PUNCH ? 0 : res->ops * o->vsize;
	}
	cairn_vos_pool_close(r.pool);
	free(r.val);
	free(ults);
}

static void
print_results(const struct perf_opts *o, const struct main_arg *m)
{
	int k;
	bool first = true;

	if (!o->json_only) {
		printf("cairn-vos-perf: %s pool, %" PRIu64 " objs x %" PRIu64 " dkeys x %" PRIu64
		       " akeys, %s values of %" PRIu64 " bytes, %u ULTs\n",
		       o->file ? "file" : "RAM", o->objs, o->dkeys, o->akeys,
		       o->array ? "array" : "single", o->vsize, o->conc);
		printf("%-8s %10s %10s %12s %10s %10s %10s %10s %8s %5s\n", "test", "ops", "seconds",
		       "ops/s", "MiB/s", "avg_us", "p99_us", "max_us", "rec/frm", "ckpts");
		for (k = 0; k < T_MAX; k++) {
			const struct result *r = &m->res[k];
			double s = (double)r->ns / 1e9;

			if (!r->ran)
				continue;
			printf("%-8s %10" PRIu64 " %10.3f %12.0f %10.1f %10.1f %10.1f %10.1f %8.1f"
			       " %5" PRIu64 "\n",
			       g_test_names[k], r->ops, s, s > 0 ? (double)r->ops / s : 0,
			       s > 0 && k != T_ENUM ? (double)r->bytes / s / 1048576.0 : 0,
			       r->ops ? (double)r->lat_sum / (double)r->ops / 1000.0 : 0,
			       (double)r->lat_p99 / 1000.0, (double)r->lat_max / 1000.0,
			       r->frames ? (double)r->records / (double)r->frames : 0,
			       r->checkpoints);
			if (r->errors)
				printf("%-8s %" PRIu64 " errors, first: %s\n", "", r->errors,
				       cairn_strerror(r->first_err));
			printf("%-8s device: %" PRIu64 " reads (avg %.1f us), %" PRIu64
			       " writes (avg %.1f us), %" PRIu64 " flushes (avg %.1f us)\n", "",
			       r->dev_reads, r->dev_read_us, r->dev_writes, r->dev_write_us,
			       r->dev_flushes, r->dev_flush_us);
		}
	}
	printf("{\"tool\":\"cairn-vos-perf\",\"prezero\":%s,\"storage\":\"%s\",\"objs\":%" PRIu64 ",\"dkeys\":%" PRIu64
	       ",\"akeys\":%" PRIu64 ",\"value_size\":%" PRIu64 ",\"array\":%s,\"concurrency\":%u,"
	       "\"results\":{",
	       o->file && !o->no_prezero ? "true" : "false", o->file ? "file" : "ram", o->objs, o->dkeys, o->akeys, o->vsize,
	       o->array ? "true" : "false", o->conc);
	for (k = 0; k < T_MAX; k++) {
		const struct result *r = &m->res[k];
		double s = (double)r->ns / 1e9;

		if (!r->ran)
			continue;
		printf("%s\"%s\":{\"ops\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"seconds\":%.6f,"
		       "\"ops_per_sec\":%.1f,\"mib_per_sec\":%.2f,\"lat_avg_us\":%.2f,"
		       "\"lat_p50_us\":%.1f,\"lat_p99_us\":%.1f,\"checkpoints\":%" PRIu64 ","
		       "\"lat_max_us\":%.1f,\"wal_frames\":%" PRIu64 ",\"wal_records\":%" PRIu64 ","
		       "\"dev_writes\":%" PRIu64 ",\"dev_write_avg_us\":%.1f,\"dev_flushes\":%" PRIu64
		       ",\"dev_flush_avg_us\":%.1f,\"dev_reads\":%" PRIu64 ",\"dev_read_avg_us\":%.1f}",
		       first ? "" : ",", g_test_names[k], r->ops, r->errors, s,
		       s > 0 ? (double)r->ops / s : 0,
		       s > 0 && k != T_ENUM ? (double)r->bytes / s / 1048576.0 : 0,
		       r->ops ? (double)r->lat_sum / (double)r->ops / 1000.0 : 0,
		       (double)r->lat_p50 / 1000.0, (double)r->lat_p99 / 1000.0, r->checkpoints,
		       (double)r->lat_max / 1000.0, r->frames, r->records, r->dev_writes,
		       r->dev_write_us, r->dev_flushes, r->dev_flush_us, r->dev_reads,
		       r->dev_read_us);
		first = false;
	}
	printf("}}\n");
}

int
main(int argc, char **argv)
{
	struct perf_opts o;
	struct main_arg m = { .o = &o };
	struct cairn_rt_opts ro;
	struct cairn_bdev *b;
	int rc, fd, k, errors = 0;

	if (parse_opts(argc, argv, &o) != 0)
		return 2;
	if (o.ckpt_whole)
		setenv("CAIRN_VOS_CKPT_WHOLE", "1", 1);
	if (getenv("CAIRN_LOG_MASK") == NULL)
		setenv("CAIRN_LOG_MASK", "ERR", 1);
	cairn_log_init();
	cairn_rt_opts_default(&ro);
	ro.nr_system = 0;
	ro.nr_main = 1;
	ro.pin = false;
	ro.stack_size = 256 * 1024;
	rc = cairn_rt_init(&ro);
	if (rc == 0)
		rc = cairn_bdev_init();
	if (rc) {
		fprintf(stderr, "cairn-vos-perf: runtime/bdev init failed: %s\n", cairn_strerror(rc));
		return 1;
	}
	if (o.file != NULL) {
		fd = open(o.file, O_CREAT | O_RDWR, 0600);
		if (fd < 0 || ftruncate(fd, (off_t)o.size) != 0) {
			fprintf(stderr, "cairn-vos-perf: %s: %s\n", o.file, strerror(errno));
			return 1;
		}
		close(fd);
		rc = cairn_bdev_uring_create("vosperf0", o.file, 4096, NULL, &b);
	} else {
		rc = cairn_bdev_malloc_create("vosperf0", o.size / 4096, 4096, NULL, &b);
	}
	if (rc) {
		fprintf(stderr, "cairn-vos-perf: cannot create the bdev: %s\n", cairn_strerror(rc));
		return 1;
	}
	m.bdev = "vosperf0";
	rc = cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, 0), main_ult, &m);
	if (rc == 0)
		rc = m.rc;
	if (rc == 0)
		print_results(&o, &m);
	else
		fprintf(stderr, "cairn-vos-perf: %s\n", cairn_strerror(rc));
	for (k = 0; k < T_MAX; k++)
		errors += m.res[k].errors != 0;
	cairn_bdev_fini();
	cairn_rt_fini();
	if (o.file != NULL && !o.keep_file)
		unlink(o.file);
	return rc != 0 || errors ? 1 : 0;
}
