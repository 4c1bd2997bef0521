/*
 * Functional client of the system test, on libcairn (real engine over loopback):
 *   sys-client URI POOL CONT io    async updates of N values (1 B..1 MiB, inline and
 *                                  bulk) through an EQ, then async fetches verified,
 *                                  list of dkeys, punch, fetch of a punched key, TRUNC
 *   sys-client URI POOL CONT hold  connect + open, print "holding", wait for a line on
 *                                  stdin, then close and disconnect (tests "in use")
 *   sys-client URI POOL CONT verify SEED  fetch the values `io SEED` wrote and verify
 *   sys-client URI POOL CONT perf  4 KiB updates at depth 32, 1 MiB writes and reads at
 *                                  depth 8 (every read verified); prints the rates
 * Exit 0 on success; each failure prints what differed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairn/cairn.h>
#include <cairn/cont.h>
#include <cairn/errno.h>
#include <cairn/event.h>
#include <cairn/obj.h>
#include <cairn/pool.h>

#define NR 16

static const size_t g_sizes[NR] = {1,    7,     100,    1024,   1025,    4096,
                                   8192, 8193,  10000,  65536,  100000,  262144,
                                   500000, 1048575, 1048576, 3};

#define CHECK(expr, what)                                                                     \
	do {                                                                                  \
		int rc_ = (expr);                                                             \
		if (rc_) {                                                                    \
			fprintf(stderr, "sys-client: %s: %s\n", what, cairn_strerror(rc_));   \
			return 1;                                                             \
		}                                                                             \
	} while (0)

static void
fill(unsigned char *b, size_t n, unsigned seed, unsigned i)
{
	uint64_t x = seed * 1000003ull + i * 7919ull + 1;
	size_t k;

	for (k = 0; k < n; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[k] = (unsigned char)x;
	}
}

static int
verify(struct cairn_handle oh, unsigned seed, struct cairn_handle eq)
{
	static struct cairn_event evs[NR];
	struct cairn_event *done[NR];
	struct cairn_iov dk[NR], ak, val[NR];
	char keys[NR][16];
	unsigned char *bufs[NR], *want;
	int i, n, got = 0;

	cairn_iov_set(&ak, "data", 4);
	for (i = 0; i < NR; i++) {
		snprintf(keys[i], sizeof(keys[i]), "key-%02d", i);
		cairn_iov_set(&dk[i], keys[i], strlen(keys[i]));
		bufs[i] = malloc(g_sizes[i]);
		cairn_iov_set(&val[i], bufs[i], g_sizes[i]);
		val[i].len = 0;
		CHECK(cairn_event_init(&evs[i], eq, NULL), "event init");
		CHECK(cairn_obj_fetch(oh, &dk[i], &ak, &val[i], &evs[i]), "fetch launch");
	}
	while (got < NR) {
		n = cairn_eq_poll(eq, 1, 30000000, NR, done);
		if (n <= 0) {
			fprintf(stderr, "sys-client: fetch poll: %d\n", n);
			return 1;
		}
		got += n;
	}
	want = malloc(1 << 20);
	for (i = 0; i < NR; i++) {
		if (evs[i].ev_error) {
			fprintf(stderr, "sys-client: fetch %d: %s\n", i,
			        cairn_strerror(evs[i].ev_error));
			return 1;
		}
		fill(want, g_sizes[i], seed, (unsigned)i);
		if (val[i].len != g_sizes[i] || memcmp(want, bufs[i], g_sizes[i]) != 0) {
			fprintf(stderr, "sys-client: value %d (%zu bytes) differs (got %zu bytes)\n",
			        i, g_sizes[i], val[i].len);
			return 1;
		}
		cairn_event_fini(&evs[i]);
		free(bufs[i]);
	}
	free(want);
	return 0;
}

static int
io(struct cairn_handle coh, unsigned seed, bool write)
{
	static struct cairn_event evs[NR];
	struct cairn_event *done[NR];
	struct cairn_obj_id oid = {.lo = 42};
	struct cairn_handle oh, eq;
	struct cairn_iov dk[NR], ak, val[NR], small;
	char keys[NR][16], kbuf[NR * 16];
	struct cairn_key_desc kds[NR + 4];
	struct cairn_anchor anchor;
	unsigned char *bufs[NR], tiny[4];
	uint32_t nr, total = 0;
	int i, n, got = 0;

	CHECK(cairn_obj_id_generate(&oid, CAIRN_OT_MULTI, CAIRN_OC_SX), "oid");
	CHECK(cairn_obj_open(coh, oid, 0, &oh, NULL), "obj open");
	CHECK(cairn_eq_create(&eq), "eq create");
	cairn_iov_set(&ak, "data", 4);
	if (!write)
		goto check;
	for (i = 0; i < NR; i++) {
		snprintf(keys[i], sizeof(keys[i]), "key-%02d", i);
		cairn_iov_set(&dk[i], keys[i], strlen(keys[i]));
		bufs[i] = malloc(g_sizes[i]);
		fill(bufs[i], g_sizes[i], seed, (unsigned)i);
		cairn_iov_set(&val[i], bufs[i], g_sizes[i]);
		CHECK(cairn_event_init(&evs[i], eq, NULL), "event init");
		CHECK(cairn_obj_update(oh, &dk[i], &ak, &val[i], &evs[i]), "update launch");
	}
	while (got < NR) {
		n = cairn_eq_poll(eq, 1, 30000000, NR, done);
		if (n <= 0) {
			fprintf(stderr, "sys-client: update poll: %d\n", n);
			return 1;
		}
		got += n;
	}
	for (i = 0; i < NR; i++) {
		CHECK(evs[i].ev_error, "update");
		cairn_event_fini(&evs[i]);
		free(bufs[i]);
	}
check:
	if (verify(oh, seed, eq))
		return 1;
	if (!write)
		goto out;
	/* every dkey listed exactly once, over both targets (SX) */
	memset(&anchor, 0, sizeof(anchor));
	while (!cairn_anchor_is_eof(&anchor)) {
		nr = 5; /* small pages: exercises resuming */
		CHECK(cairn_obj_list_dkey(oh, &anchor, &nr, kds, kbuf, sizeof(kbuf), NULL),
		      "list");
		total += nr;
	}
	if (total != NR) {
		fprintf(stderr, "sys-client: listed %u dkeys, expected %d\n", total, NR);
		return 1;
	}
	/* a key buffer too small for the next key: TRUNC, not a hang or an overflow */
	memset(&anchor, 0, sizeof(anchor));
	nr = 4;
	n = cairn_obj_list_dkey(oh, &anchor, &nr, kds, kbuf, 3, NULL);
	if (n != -CAIRN_ERR_TRUNC || nr != 0) {
		fprintf(stderr, "sys-client: list into 3 bytes: rc %d nr %u\n", n, nr);
		return 1;
	}
	/* a too-small buffer: TRUNC with the size */
	cairn_iov_set(&small, tiny, sizeof(tiny));
	cairn_iov_set(&dk[0], "key-14", 6);
	n = cairn_obj_fetch(oh, &dk[0], &ak, &small, NULL);
	if (n != -CAIRN_ERR_TRUNC || small.len != g_sizes[14]) {
		fprintf(stderr, "sys-client: small buffer: rc %d size %zu\n", n, small.len);
		return 1;
	}
	/* punch a dkey: it reads back as no value and is no longer listed */
	CHECK(cairn_obj_punch(oh, &dk[0], NULL), "punch");
	cairn_iov_set(&small, tiny, sizeof(tiny));
	CHECK(cairn_obj_fetch(oh, &dk[0], &ak, &small, NULL), "fetch punched");
	if (small.len != 0) {
		fprintf(stderr, "sys-client: punched value still has %zu bytes\n", small.len);
		return 1;
	}
	/* re-write it so a later verify sees all values */
	bufs[0] = malloc(g_sizes[14]);
	fill(bufs[0], g_sizes[14], seed, 14);
	cairn_iov_set(&val[0], bufs[0], g_sizes[14]);
	CHECK(cairn_obj_update(oh, &dk[0], &ak, &val[0], NULL), "rewrite");
	free(bufs[0]);
	/* bad input is refused before anything is sent */
	cairn_iov_set(&small, tiny, 0);
	if (cairn_obj_update(oh, &dk[0], &ak, &small, NULL) != -CAIRN_ERR_INVAL) {
		fprintf(stderr, "sys-client: empty value accepted\n");
		return 1;
	}
out:
	CHECK(cairn_eq_destroy(eq, 0), "eq destroy");
	CHECK(cairn_obj_close(oh, NULL), "obj close");
	return 0;
}

/* Launch op #i of a pipeline into one slot: keys cycle over 64 so 1 MiB reads find the
 * values the writes left (key i % 64 holds fill(seed 9, i % 64)). */
static int
cairn_perf_launch(struct cairn_handle oh, int op, struct cairn_event *ev, struct cairn_iov *dk,
                  struct cairn_iov *ak, struct cairn_iov *val, char *key, unsigned char *buf,
                  size_t size, unsigned i)
{
	int rc;

	snprintf(key, 24, "p%zu-%u", size, i % 64);
	cairn_iov_set(dk, key, strlen(key));
	if (op == 0)
		fill(buf, size, 9, i % 64);
	cairn_iov_set(val, buf, size);
	rc = op == 0 ? cairn_obj_update(oh, dk, ak, val, ev) : cairn_obj_fetch(oh, dk, ak, val, ev);
	if (rc)
		fprintf(stderr, "sys-client: perf launch: %s\n", cairn_strerror(rc));
	return rc;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Keep `depth` operations in flight until `total` are done; op 0 = update, 1 = fetch. */
static int
pipeline(struct cairn_handle oh, struct cairn_handle eq, int op, unsigned depth,
         unsigned total, size_t size, double *secs)
{
	struct cairn_event *evs = calloc(depth, sizeof(*evs)), *done[64];
	struct cairn_iov *dk = calloc(depth, sizeof(*dk)), *val = calloc(depth, sizeof(*val));
	unsigned char **bufs = calloc(depth, sizeof(*bufs)), *want = malloc(size);
	unsigned *idx = calloc(depth, sizeof(*idx));
	char (*keys)[24] = calloc(depth, sizeof(*keys));
	struct cairn_iov ak;
	unsigned issued = 0, finished = 0, i, slot;
	double t0;
	int n, k, rc = 0;

	cairn_iov_set(&ak, "data", 4);
	for (i = 0; i < depth; i++) {
		bufs[i] = malloc(size);
		CHECK(cairn_event_init(&evs[i], eq, NULL), "event init");
	}
	t0 = now_s();
	for (slot = 0; slot < depth && issued < total; slot++) {
		idx[slot] = issued++;
		if (cairn_perf_launch(oh, op, &evs[slot], &dk[slot], &ak, &val[slot], keys[slot],
		                      bufs[slot], size, idx[slot]))
			return 1;
	}
	while (finished < total) {
		n = cairn_eq_poll(eq, 1, 30000000, 64, done);
		if (n <= 0) {
			fprintf(stderr, "sys-client: perf poll: %d\n", n);
			return 1;
		}
		for (k = 0; k < n; k++) {
			slot = (unsigned)(done[k] - evs);
			if (done[k]->ev_error) {
				fprintf(stderr, "sys-client: perf op %u: %s\n", idx[slot],
				        cairn_strerror(done[k]->ev_error));
				return 1;
			}
			if (op == 1) {
				fill(want, size, 9, idx[slot] % 64);
				if (val[slot].len != size || memcmp(want, bufs[slot], size)) {
					fprintf(stderr, "sys-client: perf read %u differs\n",
					        idx[slot]);
					return 1;
				}
			}
			finished++;
			if (issued < total) {
				idx[slot] = issued++;
				if (cairn_perf_launch(oh, op, &evs[slot], &dk[slot], &ak, &val[slot],
				                      keys[slot], bufs[slot], size, idx[slot]))
					return 1;
			}
		}
	}
	*secs = now_s() - t0;
	for (i = 0; i < depth; i++) {
		cairn_event_fini(&evs[i]);
		free(bufs[i]);
	}
	free(evs);
	free(dk);
	free(val);
	free(bufs);
	free(want);
	free(idx);
	free(keys);
	return rc;
}

static int
perf(struct cairn_handle coh)
{
	struct cairn_obj_id oid = {.lo = 43};
	struct cairn_handle oh, eq;
	double t;

	CHECK(cairn_obj_id_generate(&oid, CAIRN_OT_MULTI, CAIRN_OC_SX), "oid");
	CHECK(cairn_obj_open(coh, oid, 0, &oh, NULL), "obj open");
	CHECK(cairn_eq_create(&eq), "eq create");
	if (pipeline(oh, eq, 0, 32, 4000, 4096, &t))
		return 1;
	printf("update 4k  depth 32: %8.0f IOPS (%u in %.2f s)\n", 4000 / t, 4000, t);
	if (pipeline(oh, eq, 0, 8, 128, 1 << 20, &t))
		return 1;
	printf("write  1M  depth  8: %8.1f MiB/s (%u in %.2f s)\n", 128 / t, 128, t);
	if (pipeline(oh, eq, 1, 8, 128, 1 << 20, &t))
		return 1;
	printf("read   1M  depth  8: %8.1f MiB/s (%u in %.2f s, verified)\n", 128 / t, 128, t);
	CHECK(cairn_eq_destroy(eq, 0), "eq destroy");
	CHECK(cairn_obj_close(oh, NULL), "obj close");
	return 0;
}

int
main(int argc, char **argv)
{
	struct cairn_handle poh, coh;
	struct cairn_pool_info pi;
	struct cairn_cont_info ci;
	unsigned seed = 1;
	char line[16];
	int rc = 1;

	if (argc < 5) {
		fprintf(stderr, "usage: sys-client URI POOL CONT io|hold|verify [SEED]\n");
		return 2;
	}
	if (argc > 5)
		seed = (unsigned)strtoul(argv[5], NULL, 10);
	CHECK(cairn_init(), "init");
	CHECK(cairn_pool_connect(argv[2], argv[1], 0, &poh, &pi, NULL), "pool connect");
	if (pi.nr_targets != 2 || pi.map_version < 1) {
		fprintf(stderr, "sys-client: pool info: %u targets, map v%u\n", pi.nr_targets,
		        pi.map_version);
		return 1;
	}
	CHECK(cairn_cont_open(poh, argv[3], 0, &coh, &ci, NULL), "cont open");
	if (strcmp(argv[4], "hold") == 0) {
		printf("holding\n");
		fflush(stdout);
		if (fgets(line, sizeof(line), stdin) == NULL)
			line[0] = '\0';
		rc = 0;
	} else if (strcmp(argv[4], "perf") == 0) {
		rc = perf(coh);
	} else if (strcmp(argv[4], "io") == 0 || strcmp(argv[4], "verify") == 0) {
		rc = io(coh, seed, strcmp(argv[4], "io") == 0);
	}
	CHECK(cairn_cont_close(coh, NULL), "cont close");
	CHECK(cairn_pool_disconnect(poh, NULL), "pool disconnect");
	CHECK(cairn_fini(), "fini");
	if (rc == 0)
		printf("ok\n");
	return rc;
}
