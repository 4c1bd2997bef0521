/*
 * cairn-vos-idx-bench: speed and memory of the in-memory VOS index (src/vos/idx_*.c),
 * with LMDB point reads on the same keys as the yardstick (the fetch target is
 * "fetch >= 1x LMDB"; this isolates the index's share of it).
 *
 * Single thread, no I/O on our side; times are thread CPU time (the machine is shared). LMDB runs
 * on a file in a tmpfs-backed directory
 * (--dir, default /dev/shm) with MDB_NOSYNC | MDB_WRITEMAP, reads in one long read
 * transaction (its best case) and with one transaction per read.
 *
 * Usage: cairn-vos-idx-bench [--keys N] [--objs N] [--dir PATH]
 * Prints a table, then as the last line one JSON object.
 */
#include <errno.h>
#include <lmdb.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn/errno.h"
#include "vos_index.h"

#define DKEY_LEN 13
#define VAL_LEN 64

static uint64_t g_freed;

static void
hook(void *arg, const uint8_t uuid[16], const struct cairn_vos_idx_vrec *rec)
{
	(void)arg;
	(void)uuid;
	(void)rec;
	g_freed++;
}

static double
now(void)
{
	struct timespec ts;

	/* CPU time of this thread: on a shared machine, time spent descheduled is not ours */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t g_rng = 88172645463325252ull;

static uint64_t
rnd(void)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return g_rng;
}

static size_t
heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

struct keys {
	uint32_t n, objs;
	char (*dkey)[DKEY_LEN + 1];
	uint32_t *order; /* random permutation */
};

static void
path_of(const struct keys *k, uint32_t i, struct cairn_vos_idx_path *p)
{
	memset(p, 0, sizeof(*p));
	p->oid.hi = 0x1000;
	p->oid.lo = i % k->objs;
	p->dkey = k->dkey[i];
	p->dkey_len = DKEY_LEN;
	p->akey = "a";
	p->akey_len = 1;
}

static int
die(const char *what, int rc)
{
	fprintf(stderr, "cairn-vos-idx-bench: %s: %s (%d)\n", what,
	        rc < 0 ? "cairn error" : mdb_strerror(rc), rc);
	exit(1);
}

/* ------------------------------------------------------------------ LMDB */

struct lmdb {
	MDB_env *env;
	MDB_dbi dbi;
	char path[512];
	double put_ns;
	int ok;
};

static void
lmdb_key(const struct keys *k, uint32_t i, uint8_t *buf, MDB_val *key)
{
	uint64_t lo = i % k->objs, hi = 0x1000;

	memcpy(buf, &hi, 8);
	memcpy(buf + 8, &lo, 8);
	memcpy(buf + 16, k->dkey[i], DKEY_LEN);
	buf[16 + DKEY_LEN] = 'a';
	key->mv_data = buf;
	key->mv_size = 16 + DKEY_LEN + 1;
}

static void
lmdb_load(const struct keys *k, const char *dir, struct lmdb *l)
{
	MDB_txn *txn;
	MDB_val key, val;
	uint8_t kb[64], vb[VAL_LEN];
	uint32_t i;
	double t0;
	int rc;

	snprintf(l->path, sizeof(l->path), "%s/cairn-vos-idx-bench-%d.mdb", dir, (int)getpid());
	if ((rc = mdb_env_create(&l->env)) != 0)
		die("mdb_env_create", rc);
	mdb_env_set_mapsize(l->env, (size_t)k->n * 512 + (64u << 20));
	rc = mdb_env_open(l->env, l->path, MDB_NOSUBDIR | MDB_NOSYNC | MDB_WRITEMAP | MDB_NOLOCK,
	                  0600);
	if (rc != 0) {
		fprintf(stderr, "cairn-vos-idx-bench: LMDB skipped (%s: %s)\n", l->path,
		        mdb_strerror(rc));
		mdb_env_close(l->env);
		return;
	}
	memset(vb, 0x5a, sizeof(vb));
	t0 = now();
	if ((rc = mdb_txn_begin(l->env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &l->dbi)))
		die("mdb txn", rc);
	for (i = 0; i < k->n; i++) {
		lmdb_key(k, i, kb, &key);
		val.mv_data = vb;
		val.mv_size = VAL_LEN;
		if ((rc = mdb_put(txn, l->dbi, &key, &val, 0)) != 0)
			die("mdb_put", rc);
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		die("mdb commit", rc);
	l->put_ns = (now() - t0) * 1e9 / k->n;
	l->ok = 1;
}

/* One pass of random gets: in one read txn, or one txn per get. ns/op. */
static double
lmdb_gets(const struct keys *k, struct lmdb *l, bool txn_per_get, uint64_t *sum)
{
	MDB_txn *txn = NULL;
	MDB_val key, val;
	uint8_t kb[64];
	uint32_t i;
	double t0 = now();
	int rc;

	if (!txn_per_get && (rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn)) != 0)
		die("mdb txn", rc);
	for (i = 0; i < k->n; i++) {
		lmdb_key(k, k->order[i], kb, &key);
		if (txn_per_get && (rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn)) != 0)
			die("mdb txn", rc);
		if ((rc = mdb_get(txn, l->dbi, &key, &val)) != 0)
			die("mdb_get", rc);
		*sum += ((const uint8_t *)val.mv_data)[VAL_LEN - 1];
		if (txn_per_get)
			mdb_txn_abort(txn);
	}
	if (!txn_per_get)
		mdb_txn_abort(txn);
	return (now() - t0) * 1e9 / k->n;
}

static void
lmdb_close(struct lmdb *l)
{
	if (!l->ok)
		return;
	mdb_env_close(l->env);
	unlink(l->path);
}

/* One pass of random index fetches (64 B inline values). ns/op. */
static double
idx_gets(const struct keys *k, struct cairn_vos_idx_cont *cont, uint64_t *sum)
{
	struct cairn_vos_idx_path p;
	struct cairn_vos_idx_vrec out;
	uint32_t i;
	double t0 = now();
	int rc;

	for (i = 0; i < k->n; i++) {
		path_of(k, k->order[i], &p);
		if ((rc = cairn_vos_idx_sv_fetch(cont, &p, 100, &out, NULL)) != 0)
			die("sv_fetch", rc);
		*sum += ((const uint8_t *)out.inl)[VAL_LEN - 1];
	}
	return (now() - t0) * 1e9 / k->n;
}

static double
dmin(double a, double b)
{
	return a < b ? a : b;
}

#define ROUNDS 9

/* ------------------------------------------------------------------ main */

int
main(int argc, char **argv)
{
	struct keys k = {.n = 200000, .objs = 100};
	const char *dir = "/dev/shm";
	struct cairn_vos_idx_opts o = {.opts_size = sizeof(o), .free_hook = hook};
	struct cairn_vos_idx *idx;
	struct cairn_vos_idx_cont *cont;
	struct cairn_vos_idx_path p;
	struct cairn_vos_idx_vrec v, out;
	struct cairn_vos_idx_stats st;
	struct lmdb lm = {0};
	double lm_get = 1e18, lm_get_txn = 1e18;
	uint32_t r;
	const uint8_t uuid[16] = {0xbe, 0x4c};
	uint8_t val[VAL_LEN];
	double t0, upd_ns, get_ns, miss_ns, upd2_ns, get2_ns, agg_ns, arr_upd_ns, arr_get_ns;
	size_t h0, h1;
	uint64_t sum = 0;
	uint32_t i;
	int rc;
	bool done = false;

	for (i = 1; i < (uint32_t)argc; i++) {
		if (strcmp(argv[i], "--keys") == 0 && i + 1 < (uint32_t)argc)
			k.n = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--objs") == 0 && i + 1 < (uint32_t)argc)
			k.objs = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < (uint32_t)argc)
			dir = argv[++i];
		else {
			fprintf(stderr,
			        "usage: %s [--keys N (1000..20000000)] [--objs N] [--dir PATH]\n",
			        argv[0]);
			return 2;
		}
	}
	if (k.n < 1000 || k.n > 20000000 || k.objs == 0 || k.objs > k.n) {
		fprintf(stderr, "cairn-vos-idx-bench: --keys must be 1000..20000000 and --objs "
		                "1..keys\n");
		return 2;
	}
	k.dkey = malloc((size_t)k.n * sizeof(*k.dkey));
	k.order = malloc((size_t)k.n * sizeof(*k.order));
	if (k.dkey == NULL || k.order == NULL)
		return die("malloc", -CAIRN_ERR_NOMEM);
	for (i = 0; i < k.n; i++) {
		snprintf(k.dkey[i], sizeof(k.dkey[i]), "dkey-%08x", (unsigned)(i * 2654435761u));
		k.order[i] = i;
	}
	for (i = k.n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rnd() % (i + 1)), t = k.order[i];

		k.order[i] = k.order[j];
		k.order[j] = t;
	}
	memset(val, 0xa5, sizeof(val));

	h0 = heap_used();
	if ((rc = cairn_vos_idx_create(&o, &idx)) != 0 ||
	    (rc = cairn_vos_idx_cont_create(idx, uuid, &cont)) != 0)
		return die("create", rc);
	/* 1. insert 64 B inline single values */
	memset(&v, 0, sizeof(v));
	v.kind = CAIRN_VOS_REC_INLINE;
	v.len = VAL_LEN;
	v.inl = val;
	t0 = now();
	for (i = 0; i < k.n; i++) {
		path_of(&k, i, &p);
		if ((rc = cairn_vos_idx_sv_update(cont, &p, 10, 0, &v)) != 0)
			return die("sv_update", rc);
	}
	upd_ns = (now() - t0) * 1e9 / k.n;
	h1 = heap_used();
	/* 2. random point fetch, alternating with LMDB on the same keys; best of ROUNDS (the
	 * machine is shared: the minimum is the least disturbed pass) */
	lmdb_load(&k, dir, &lm);
	get_ns = 1e18;
	for (r = 0; r < ROUNDS; r++) {
		get_ns = dmin(get_ns, idx_gets(&k, cont, &sum));
		if (lm.ok) {
			lm_get = dmin(lm_get, lmdb_gets(&k, &lm, false, &sum));
			lm_get_txn = dmin(lm_get_txn, lmdb_gets(&k, &lm, true, &sum));
		}
	}
	lmdb_close(&lm);
	/* 3. fetch of absent keys */
	t0 = now();
	for (i = 0; i < k.n; i++) {
		path_of(&k, k.order[i], &p);
		p.akey = "b";
		if (cairn_vos_idx_sv_fetch(cont, &p, 100, &out, NULL) != -CAIRN_ERR_NONEXIST)
			return die("fetch of an absent key", -CAIRN_ERR_MISC);
	}
	miss_ns = (now() - t0) * 1e9 / k.n;
	/* 4. second version of every key (4 KiB location), fetch at the old epoch */
	memset(&v, 0, sizeof(v));
	v.kind = CAIRN_VOS_REC_LOC;
	v.len = 4096;
	t0 = now();
	for (i = 0; i < k.n; i++) {
		path_of(&k, i, &p);
		v.off = (uint64_t)i * 4096;
		if ((rc = cairn_vos_idx_sv_update(cont, &p, 20, 0, &v)) != 0)
			return die("sv_update", rc);
	}
	upd2_ns = (now() - t0) * 1e9 / k.n;
	t0 = now();
	for (i = 0; i < k.n; i++) {
		path_of(&k, k.order[i], &p);
		if ((rc = cairn_vos_idx_sv_fetch(cont, &p, 15, &out, NULL)) != 0)
			return die("sv_fetch", rc);
		sum += out.len;
	}
	get2_ns = (now() - t0) * 1e9 / k.n;
	/* 5. aggregation of everything (frees the 64 B versions) */
	t0 = now();
	while (!done) {
		if ((rc = cairn_vos_idx_aggregate(cont, 50, 256, &done)) != 0)
			return die("aggregate", rc);
	}
	agg_ns = (now() - t0) * 1e9 / k.n;
	cairn_vos_idx_stats(idx, &st);
	if (st.versions != k.n)
		return die("aggregation result", -CAIRN_ERR_MISC);
	/* 6. arrays: one akey per key, 8 overlapping 4 KiB-record extents, fetch 8 records */
	t0 = now();
	for (i = 0; i < k.n / 8; i++) {
		uint32_t j;

		path_of(&k, i, &p);
		p.akey = "arr";
		p.akey_len = 3;
		for (j = 0; j < 8; j++) {
			v.off = ((uint64_t)i * 8 + j) * 4096;
			v.len = 2 * 4096;
			if ((rc = cairn_vos_idx_array_update(cont, &p, 60 + j, 0, 4096, j, 2,
			                                     &v)) != 0)
				return die("array_update", rc);
		}
	}
	arr_upd_ns = (now() - t0) * 1e9 / (k.n / 8 * 8);
	t0 = now();
	for (i = 0; i < k.n / 8; i++) {
		struct cairn_vos_idx_piece pc[16];
		uint32_t n;

		path_of(&k, k.order[i] % (k.n / 8), &p);
		p.akey = "arr";
		p.akey_len = 3;
		rc = cairn_vos_idx_array_fetch(cont, &p, 100, 0, 9, pc, 16, &n, NULL);
		if (rc != 0 || n != 8)
			return die("array_fetch", rc ? rc : -CAIRN_ERR_MISC);
		sum += pc[7].rec.off;
	}
	arr_get_ns = (now() - t0) * 1e9 / (k.n / 8);
	cairn_vos_idx_destroy(idx);

	printf("cairn-vos-idx-bench: %u keys in %u objects, 1 akey each; single thread\n", k.n,
	       k.objs);
	printf("%-50s %12s\n", "operation", "ns/op");
	printf("%-50s %12.0f\n", "index sv_update (64 B inline, new key)", upd_ns);
	printf("%-50s %12.0f\n", "index sv_fetch (random, 64 B inline, best of 9)", get_ns);
	printf("%-50s %12.0f\n", "index sv_fetch (random, absent akey)", miss_ns);
	printf("%-50s %12.0f\n", "index sv_update (2nd version, location)", upd2_ns);
	printf("%-50s %12.0f\n", "index sv_fetch (older of 2 versions)", get2_ns);
	printf("%-50s %12.0f\n", "index aggregate (per key, 1 version freed)", agg_ns);
	printf("%-50s %12.0f\n", "index array_update (overlapping extents)", arr_upd_ns);
	printf("%-50s %12.0f\n", "index array_fetch (9 records over 8 extents)", arr_get_ns);
	if (lm.ok) {
		printf("%-50s %12.0f\n", "lmdb put (one txn, nosync)", lm.put_ns);
		printf("%-50s %12.0f\n", "lmdb get (random, one read txn, best of 9)", lm_get);
		printf("%-50s %12.0f\n", "lmdb get (random, txn per get, best of 9)", lm_get_txn);
	}
	printf("%-50s %12.1f\n", "index heap bytes per key (64 B value incl.)",
	       (double)(h1 - h0) / k.n);
	printf("{\"keys\":%u,\"idx_update_ns\":%.1f,\"idx_fetch_ns\":%.1f,\"idx_fetch_miss_ns\":%."
	       "1f,"
	       "\"idx_fetch_old_version_ns\":%.1f,\"idx_agg_ns_per_key\":%.1f,"
	       "\"idx_array_update_ns\":%.1f,\"idx_array_fetch_ns\":%.1f,"
	       "\"idx_bytes_per_key\":%.1f,\"lmdb_get_ns\":%.1f,\"lmdb_get_txn_ns\":%.1f,"
	       "\"fetch_vs_lmdb\":%.2f,\"fetch_vs_lmdb_txn\":%.2f,\"checksum\":%llu}\n",
	       k.n, upd_ns, get_ns, miss_ns, get2_ns, agg_ns, arr_upd_ns, arr_get_ns,
	       (double)(h1 - h0) / k.n, lm.ok ? lm_get : 0.0, lm.ok ? lm_get_txn : 0.0,
	       lm.ok ? lm_get / get_ns : 0.0, lm.ok ? lm_get_txn / get_ns : 0.0,
	       (unsigned long long)(sum & 0xffff));
	free(k.dkey);
	free(k.order);
	return 0;
}
