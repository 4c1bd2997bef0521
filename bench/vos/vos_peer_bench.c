/*
 * cairn-vos-peer-bench: the same workload as `cairn-vos-perf -d N -v S -c T` run against
 * RocksDB or LMDB, with every acknowledged write durable:
 *  - RocksDB (C API): WAL on, WriteOptions.sync = true; T writer threads, so RocksDB's
 *    own group commit batches concurrent writers into one WAL write + fsync.
 *  - LMDB: default (synced) environment, one write transaction per put, committed with
 *    fsync; T threads (LMDB serialises writers).
 * Updates: N keys "dkey-%012u" with S-byte values, split over T threads. Fetches: T
 * threads read every key once (point gets, each thread a strided share), checking the
 * value. Prints one JSON object.
 *
 *   cairn-vos-peer-bench --engine rocksdb --dir /tmp/x --keys 20000 --value-size 4096 -t 16
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <lmdb.h>
#include <pthread.h>
#include <rocksdb/c.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum engine { E_ROCKSDB, E_LMDB };

struct bench {
	enum engine engine;
	const char *dir;
	uint64_t keys;
	uint64_t vsize;
	unsigned threads;
	rocksdb_t *rdb;
	rocksdb_writeoptions_t *wo;
	rocksdb_readoptions_t *ro;
	MDB_env *env;
	MDB_dbi dbi;
	bool fetch;
	uint64_t errors;
	pthread_mutex_t lock;
};

struct worker {
	struct bench *b;
	unsigned id;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
fill(char *v, uint64_t len, uint64_t key)
{
	for (uint64_t i = 0; i < len; i++)
		v[i] = (char)(key * 31 + i * 7 + 3);
}

static void
add_error(struct bench *b)
{
	pthread_mutex_lock(&b->lock);
	b->errors++;
	pthread_mutex_unlock(&b->lock);
}

static void *
worker_fn(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	char *v = malloc(b->vsize), *want = malloc(b->vsize);
	char key[32];
	MDB_txn *rtxn = NULL;

	if (v == NULL || want == NULL) {
		add_error(b);
		goto out;
	}
	for (uint64_t i = w->id; i < b->keys; i += b->threads) {
		/* Fetch in a different order than the writes (stride permutation). */
		uint64_t k = b->fetch ? (i * 7919) % b->keys : i;
		size_t klen = (size_t)snprintf(key, sizeof(key), "dkey-%012" PRIu64, k);

		fill(want, b->vsize, k);
		if (b->engine == E_ROCKSDB) {
			char *err = NULL;

			if (!b->fetch) {
				rocksdb_put(b->rdb, b->wo, key, klen, want, b->vsize, &err);
			} else {
				size_t vlen = 0;
				char *got = rocksdb_get(b->rdb, b->ro, key, klen, &vlen, &err);

				if (got == NULL || vlen != b->vsize || memcmp(got, want, vlen) != 0)
					add_error(b);
				rocksdb_free(got);
			}
			if (err != NULL) {
				add_error(b);
				rocksdb_free(err);
			}
		} else {
			MDB_val mk = { klen, key }, mv = { b->vsize, want };
			MDB_txn *txn;

			if (!b->fetch) {
				if (mdb_txn_begin(b->env, NULL, 0, &txn) != 0) {
					add_error(b);
					continue;
				}
				if (mdb_put(txn, b->dbi, &mk, &mv, 0) != 0 || mdb_txn_commit(txn) != 0)
					add_error(b);
			} else {
				int rc = rtxn ? mdb_txn_renew(rtxn)
					      : mdb_txn_begin(b->env, NULL, MDB_RDONLY, &rtxn);

				if (rc == 0)
					rc = mdb_get(rtxn, b->dbi, &mk, &mv);
				if (rc != 0 || mv.mv_size != b->vsize ||
				    memcmp(mv.mv_data, want, b->vsize) != 0)
					add_error(b);
				if (rtxn)
					mdb_txn_reset(rtxn);
			}
		}
	}
	if (rtxn)
		mdb_txn_abort(rtxn);
out:
	free(v);
	free(want);
	return NULL;
}

static double
run_phase(struct bench *b, bool fetch)
{
	pthread_t *th = calloc(b->threads, sizeof(*th));
	struct worker *w = calloc(b->threads, sizeof(*w));
	uint64_t t0;

	if (th == NULL || w == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	b->fetch = fetch;
	t0 = now_ns();
	for (unsigned i = 0; i < b->threads; i++) {
		w[i] = (struct worker){ .b = b, .id = i };
		if (pthread_create(&th[i], NULL, worker_fn, &w[i]) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			exit(1);
		}
	}
	for (unsigned i = 0; i < b->threads; i++)
		pthread_join(th[i], NULL);
	t0 = now_ns() - t0;
	free(th);
	free(w);
	return (double)b->keys / ((double)t0 / 1e9);
}

static int
open_engine(struct bench *b)
{
	if (b->engine == E_ROCKSDB) {
		rocksdb_options_t *o = rocksdb_options_create();
		char *err = NULL;

		rocksdb_options_set_create_if_missing(o, 1);
		rocksdb_options_increase_parallelism(o, 2);
		b->rdb = rocksdb_open(o, b->dir, &err);
		rocksdb_options_destroy(o);
		if (err != NULL) {
			fprintf(stderr, "rocksdb_open %s: %s\n", b->dir, err);
			rocksdb_free(err);
			return -1;
		}
		b->wo = rocksdb_writeoptions_create();
		rocksdb_writeoptions_set_sync(b->wo, 1); /* durable on return; WAL on */
		b->ro = rocksdb_readoptions_create();
		return 0;
	} else {
		MDB_txn *txn;
		size_t map = (size_t)(b->keys * (b->vsize + 128) * 3 + (256ull << 20));
		int rc;

		rc = mdb_env_create(&b->env);
		if (rc == 0)
			rc = mdb_env_set_mapsize(b->env, map);
		if (rc == 0)
			rc = mdb_env_set_maxreaders(b->env, b->threads + 8);
		if (rc == 0)
			rc = mdb_env_open(b->env, b->dir, 0, 0644); /* synced commits */
		if (rc == 0)
			rc = mdb_txn_begin(b->env, NULL, 0, &txn);
		if (rc == 0)
			rc = mdb_dbi_open(txn, NULL, 0, &b->dbi);
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		if (rc != 0) {
			fprintf(stderr, "lmdb %s: %s\n", b->dir, mdb_strerror(rc));
			return -1;
		}
		return 0;
	}
}

static void
close_engine(struct bench *b)
{
	if (b->engine == E_ROCKSDB) {
		rocksdb_writeoptions_destroy(b->wo);
		rocksdb_readoptions_destroy(b->ro);
		rocksdb_close(b->rdb);
	} else {
		mdb_env_close(b->env);
	}
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: cairn-vos-peer-bench --engine rocksdb|lmdb --dir DIR [--keys N] "
		   "[--value-size BYTES] [-t THREADS]\n");
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "engine", required_argument, NULL, 'e' },
		{ "dir", required_argument, NULL, 'D' },
		{ "keys", required_argument, NULL, 'k' },
		{ "value-size", required_argument, NULL, 'v' },
		{ "threads", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bench b = { .keys = 10000, .vsize = 4096, .threads = 8,
			   .lock = PTHREAD_MUTEX_INITIALIZER };
	const char *eng = NULL;
	double up, fe;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "e:D:k:v:t:h", lo, NULL)) != -1) {
		switch (c) {
		case 'e': eng = optarg; break;
		case 'D': b.dir = optarg; break;
		case 'k':
			errno = 0;
			b.keys = strtoull(optarg, &end, 10);
			if (errno || *end || b.keys == 0 || b.keys > (1ull << 32)) {
				fprintf(stderr, "--keys: expected 1..2^32\n");
				return 2;
			}
			break;
		case 'v':
			errno = 0;
			b.vsize = strtoull(optarg, &end, 10);
			if (errno || *end || b.vsize == 0 || b.vsize > (16u << 20)) {
				fprintf(stderr, "--value-size: expected 1..16777216 bytes\n");
				return 2;
			}
			break;
		case 't':
			errno = 0;
			b.threads = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || b.threads == 0 || b.threads > 1024) {
				fprintf(stderr, "--threads: expected 1..1024\n");
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (eng == NULL || b.dir == NULL) {
		usage(stderr);
		return 2;
	}
	if (strcmp(eng, "rocksdb") == 0) {
		b.engine = E_ROCKSDB;
	} else if (strcmp(eng, "lmdb") == 0) {
		b.engine = E_LMDB;
	} else {
		fprintf(stderr, "--engine: expected rocksdb or lmdb\n");
		return 2;
	}
	if (mkdir(b.dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "%s: %s\n", b.dir, strerror(errno));
		return 1;
	}
	if (open_engine(&b) != 0)
		return 1;
	up = run_phase(&b, false);
	fe = run_phase(&b, true);
	close_engine(&b);
	printf("{\"engine\":\"%s\",\"keys\":%" PRIu64 ",\"value_size\":%" PRIu64 ",\"threads\":%u,"
	       "\"update_ops_per_sec\":%.1f,\"fetch_ops_per_sec\":%.1f,\"errors\":%" PRIu64 "}\n",
	       eng, b.keys, b.vsize, b.threads, up, fe, b.errors);
	return b.errors ? 1 : 0;
}
