/*
 * Crash test: a child process opens the pool (running recovery), checks every update the
 * earlier children acknowledged, then applies a stream of concurrent updates and reports
 * each acknowledged one to the parent through a pipe; the parent SIGKILLs it at a random
 * moment. Every third child writes through an error bdev that fails 1% of its writes
 * and flushes (data extents, WAL frames, checkpoints; a failed WAL write or flush makes
 * the pool refuse updates, and the child reopens it, i.e. recovers, and goes on). Every fourth operation is a local
 * transaction over two keys; its intent is reported before it starts, and every later
 * recovery checks that it is all or nothing, acknowledged or not. A last child verifies
 * everything and checks the whole pool (every extent's CRC, allocator vs index).
 *
 * The parent never starts the runtime (it forks); the acknowledged list lives in the
 * parent and children inherit it. Bounded: at most 20 iterations and ~30 s.
 * Seed: CAIRN_TEST_SEED (printed).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "vos_internal.h"
#include "vos_test.h"

#define POOL_SIZE   (128ull << 20)
#define NWORKERS    8
#define PER_WORKER  250
#define NKEYS       300
#define MAX_ITERS   20
#define MAX_SECONDS 30
#define VERIFIED    UINT64_MAX

/* Child -> parent message. key2 != NO_KEY2: an *intent* (sent before committing a
 * two-key transaction), else an acknowledgement of (key, epoch). */
struct ack {
	uint64_t key;
	uint64_t epoch;
	uint64_t key2;
};
#define NO_KEY2 UINT64_MAX

static char g_path[128];
static const uint8_t g_pool_uuid[16] = { 0xcc, 1 };
static const uint8_t g_cont[16] = { 0xcd, 1 };
static struct ack *g_acks, *g_intents;
static size_t g_nacks, g_cap, g_nintents, g_icap;
static unsigned g_seed;

static uint64_t
val_len(uint64_t epoch)
{
	static const uint64_t sizes[3] = { 64, 2000, 9000 };

	return sizes[epoch % 3];
}

/* ------------------------------------------------------------------ child side */

struct child {
	int fd;                 /* pipe to the parent */
	const char *bdev;       /* pool bdev (plain or error) */
	struct cairn_vos_pool *pool;
	uint64_t next_epoch;
	unsigned seed;
	int reopen;             /* pool failed: reopen before the next update */
	int line;               /* first failed check */
	unsigned workers_left;
	unsigned next_wid;
};

static void
send_msg(int fd, uint64_t key, uint64_t epoch, uint64_t key2)
{
	struct ack a = { key, epoch, key2 };
	ssize_t n;

	do {
		n = write(fd, &a, sizeof(a));
	} while (n < 0 && errno == EINTR);
}

static void
send_ack(int fd, uint64_t key, uint64_t epoch)
{
	send_msg(fd, key, epoch, NO_KEY2);
}

/* Value buffers: one set per worker ULT (a buffer must stay intact while its data
 * write is in flight). */
static char g_vbuf[NWORKERS][2][9000];

static int
put(struct cairn_vos_pool *p, uint64_t key, uint64_t epoch, unsigned wid)
{
	char *v = g_vbuf[wid][0];
	char dkey[24];
	struct cairn_vos_oid oid = { 0, key % 7 };
	struct cairn_vos_iod iod = { .akey = "v", .akey_len = 1, .type = CAIRN_VOS_IOD_SINGLE };

	vt_fill(v, val_len(epoch), key, epoch);
	snprintf(dkey, sizeof(dkey), "key-%llu", (unsigned long long)key);
	iod.buf = v;
	iod.size = val_len(epoch);
	return cairn_vos_update(p, g_cont, &oid, epoch, 0, dkey, (uint32_t)strlen(dkey), 1, &iod);
}

/* Both keys at one epoch in one local transaction. */
static int
put_tx(struct cairn_vos_pool *p, uint64_t key, uint64_t key2, uint64_t epoch, unsigned wid)
{
	char *v1 = g_vbuf[wid][0], *v2 = g_vbuf[wid][1];
	char d1[24], d2[24];
	struct cairn_vos_oid o1 = { 0, key % 7 }, o2 = { 0, key2 % 7 };
	struct cairn_vos_iod i1 = { .akey = "v", .akey_len = 1, .type = CAIRN_VOS_IOD_SINGLE,
				    .buf = v1, .size = val_len(epoch) };
	struct cairn_vos_iod i2 = i1;
	struct cairn_vos_tx *tx;
	int rc;

	i2.buf = v2;
	vt_fill(v1, val_len(epoch), key, epoch);
	vt_fill(v2, val_len(epoch), key2, epoch);
	snprintf(d1, sizeof(d1), "key-%llu", (unsigned long long)key);
	snprintf(d2, sizeof(d2), "key-%llu", (unsigned long long)key2);
	rc = cairn_vos_tx_begin(p, g_cont, epoch, &tx);
	if (rc)
		return rc;
	rc = cairn_vos_tx_update(tx, &o1, 0, d1, (uint32_t)strlen(d1), 1, &i1);
	if (rc == 0)
		rc = cairn_vos_tx_update(tx, &o2, 0, d2, (uint32_t)strlen(d2), 1, &i2);
	if (rc) {
		cairn_vos_tx_abort(tx);
		return rc;
	}
	return cairn_vos_tx_commit(tx);
}

/* 1 if (key, epoch) holds exactly the value written at that epoch, 0 if not. */
static int
has_version(struct cairn_vos_pool *p, uint64_t key, uint64_t epoch, int *line)
{
	static char want[9000], got[9000];
	char dkey[24];
	struct cairn_vos_oid oid = { 0, key % 7 };
	struct cairn_vos_iod iod = {
		.akey = "v", .akey_len = 1, .type = CAIRN_VOS_IOD_SINGLE, .buf = got,
		.buf_size = sizeof(got),
	};
	int rc;

	snprintf(dkey, sizeof(dkey), "key-%llu", (unsigned long long)key);
	rc = cairn_vos_fetch(p, g_cont, &oid, epoch, dkey, (uint32_t)strlen(dkey), 1, &iod);
	if (rc) {
		fprintf(stderr, "fetch of key %llu at %llu: %s\n", (unsigned long long)key,
			(unsigned long long)epoch, cairn_strerror(rc));
		*line = __LINE__;
		return 0;
	}
	vt_fill(want, val_len(epoch), key, epoch);
	return iod.size == val_len(epoch) && memcmp(got, want, iod.size) == 0;
}

/* A transaction, acknowledged or not, is all or nothing. */
static int
check_intent(struct cairn_vos_pool *p, const struct ack *a)
{
	int line = 0;
	int h1 = has_version(p, a->key, a->epoch, &line);
	int h2 = has_version(p, a->key2, a->epoch, &line);

	if (line)
		return line;
	if (h1 != h2) {
		fprintf(stderr, "transaction at epoch %llu half applied: key %llu %s, key %llu %s "
			"(seed %u)\n", (unsigned long long)a->epoch, (unsigned long long)a->key,
			h1 ? "present" : "absent", (unsigned long long)a->key2,
			h2 ? "present" : "absent", g_seed);
		return __LINE__;
	}
	return 0;
}

static int
check_ack(struct cairn_vos_pool *p, const struct ack *a)
{
	static char want[9000], got[9000];
	char dkey[24];
	struct cairn_vos_oid oid = { 0, a->key % 7 };
	struct cairn_vos_iod iod = {
		.akey = "v", .akey_len = 1, .type = CAIRN_VOS_IOD_SINGLE, .buf = got,
		.buf_size = sizeof(got),
	};

	snprintf(dkey, sizeof(dkey), "key-%llu", (unsigned long long)a->key);
	CKRC(cairn_vos_fetch(p, g_cont, &oid, a->epoch, dkey, (uint32_t)strlen(dkey), 1, &iod),
	     0);
	vt_fill(want, val_len(a->epoch), a->key, a->epoch);
	if (iod.size != val_len(a->epoch) || memcmp(got, want, iod.size) != 0) {
		fprintf(stderr, "acked key %llu epoch %llu: got %llu bytes, want %llu (seed %u)\n",
			(unsigned long long)a->key, (unsigned long long)a->epoch,
			(unsigned long long)iod.size, (unsigned long long)val_len(a->epoch),
			g_seed);
		return __LINE__;
	}
	return 0;
}

static void
worker(void *arg)
{
	struct child *c = arg;
	unsigned wid = c->next_wid++;
	unsigned seed = c->seed + wid * 7919u;

	for (unsigned i = 0; i < PER_WORKER && c->line == 0; i++) {
		uint64_t key = (uint64_t)rand_r(&seed) % NKEYS;
		uint64_t epoch = c->next_epoch++;
		int rc;

		while (c->reopen) {
			/* Another worker is reopening the failed pool. */
			cairn_ult_sleep_us(1000);
		}
		if (i % 4 == 3) {
			uint64_t key2 = (key + 1) % NKEYS;

			send_msg(c->fd, key, epoch, key2); /* intent, before anything is written */
			rc = put_tx(c->pool, key, key2, epoch, wid);
			if (rc == 0)
				send_ack(c->fd, key2, epoch);
		} else {
			rc = put(c->pool, key, epoch, wid);
		}
		if (rc == 0) {
			send_ack(c->fd, key, epoch);
		} else if (rc == -CAIRN_ERR_NOSPACE) {
			break;
		} else if (rc != -CAIRN_ERR_IO) {
			fprintf(stderr, "update failed: %s\n", cairn_strerror(rc));
			c->line = __LINE__;
		} else if (!c->reopen && c->pool->p.failed) {
			/* The WAL write failed: reopen (recovery) and go on. */
			c->reopen = 1;
			cairn_vos_pool_close(c->pool);
			c->pool = NULL;
			rc = cairn_vos_pool_open(c->bdev, &c->pool);
			if (rc) {
				fprintf(stderr, "reopen failed: %s\n", cairn_strerror(rc));
				c->line = __LINE__;
				_exit(3);
			}
			c->reopen = 0;
		}
	}
	c->workers_left--;
}

static int
child_body(void *arg)
{
	struct child *c = arg;
	struct cairn_ult_attr attr = { .prio = CAIRN_PRIO_GENERAL, .joinable = true };
	struct cairn_ult *ults[NWORKERS];
	size_t i;

	CKRC(cairn_vos_pool_open(c->bdev, &c->pool), 0);
	for (i = 0; i < g_nacks; i++) {
		int l = check_ack(c->pool, &g_acks[i]);

		if (l)
			return l;
	}
	for (i = 0; i < g_nintents; i++) {
		int l = check_intent(c->pool, &g_intents[i]);

		if (l)
			return l;
	}
	send_ack(c->fd, VERIFIED, g_nacks);
	c->workers_left = NWORKERS;
	for (i = 0; i < NWORKERS; i++)
		CKRC(cairn_ult_create(NULL, worker, c, &attr, &ults[i]), 0);
	for (i = 0; i < NWORKERS; i++)
		CKRC(cairn_ult_join(ults[i]), 0);
	if (c->line)
		return c->line;
	/* The closing checkpoint goes through the error bdev too: it may fail (the next
	 * open then replays the WAL instead). */
	i = (size_t)-cairn_vos_pool_close(c->pool);
	CK(i == 0 || (strcmp(c->bdev, "EE_vc0") == 0 && i == CAIRN_ERR_IO));
	return 0;
}

static int
final_body(void *arg)
{
	struct cairn_vos_pool *p;
	uint64_t bad = 0;
	size_t i;

	CKRC(cairn_vos_pool_open("vc0", &p), 0);
	for (i = 0; i < g_nacks; i++) {
		int l = check_ack(p, &g_acks[i]);

		if (l)
			return l;
	}
	for (i = 0; i < g_nintents; i++) {
		int l = check_intent(p, &g_intents[i]);

		if (l)
			return l;
	}
	CKRC(cairn_vos_pool_verify(p, &bad), 0);
	CK(bad == 0);
	CKRC(cairn_vos_pool_close(p), 0);
	return 0;
}

static int
format_body(void *arg)
{
	struct cairn_vos_pool_opts o;
	struct cairn_vos_pool *p;

	cairn_vos_pool_opts_default(&o);
	o.wal_size = 256 << 10; /* small: the children wrap it and checkpoint often */
	CKRC(cairn_vos_pool_format("vc0", g_pool_uuid, &o), 0);
	CKRC(cairn_vos_pool_open("vc0", &p), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	CKRC(cairn_vos_pool_close(p), 0);
	return 0;
}

/* Runs in the forked child: start the runtime and the bdevs, run body in a ULT. */
static void
child_main(int mode, int fd, unsigned iter)
{
	struct cairn_bdev *b;
	struct child c = { .fd = fd, .bdev = "vc0", .seed = g_seed ^ (iter * 2654435761u) };
	int line;

	int rc;

	if (vt_start() != 0) {
		fprintf(stderr, "child: runtime/bdev init failed\n");
		_exit(2);
	}
	rc = cairn_bdev_uring_create("vc0", g_path, 4096, NULL, &b);
	if (rc != 0) {
		fprintf(stderr, "child: uring bdev on %s: %s\n", g_path, cairn_strerror(rc));
		_exit(2);
	}
	if (mode == 0) {
		line = vt_run_line(format_body, NULL);
	} else if (mode == 2) {
		line = vt_run_line(final_body, NULL);
	} else {
		c.next_epoch = (uint64_t)(iter + 1) * 1000000000ull;
		if (iter % 3 == 2) {
			struct cairn_bdev_error_opts eo;

			if (cairn_bdev_error_create("vc0", &b) != 0) {
				fprintf(stderr, "child: error bdev failed\n");
				_exit(2);
			}
			cairn_bdev_error_opts_default(&eo);
			eo.io_type_mask = (1u << CAIRN_BDEV_IO_WRITE) | (1u << CAIRN_BDEV_IO_FLUSH);
			eo.rate_ppm = 10000;
			eo.skip = 20; /* let recovery's first writes through */
			eo.seed = c.seed;
			if (cairn_bdev_error_inject("EE_vc0", &eo) != 0) {
				fprintf(stderr, "child: error injection failed\n");
				_exit(2);
			}
			c.bdev = "EE_vc0";
		}
		line = vt_run_line(child_body, &c);
	}
	if (line != 0)
		fprintf(stderr, "child (mode %d, iteration %u) failed at line %d\n", mode, iter, line);
	/* No orderly shutdown needed: the parent only looks at the exit code. */
	_exit(line == 0 ? 0 : 1);
}

/* ------------------------------------------------------------------ parent side */

static int
run_child(int mode, unsigned iter, unsigned kill_ms)
{
	int fds[2], status;
	pid_t pid;
	bool verified = mode != 1;
	struct timespec t0, now;
	struct ack a;
	size_t have = 0;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child_main(mode, fds[1], iter);
	}
	close(fds[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		long el;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		el = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (mode == 1 && verified && el >= (long)kill_ms) {
			kill(pid, SIGKILL);
			kill_ms = UINT32_MAX; /* drain what it wrote before dying */
		}
		if (el > 60000) {
			kill(pid, SIGKILL);
			fail_msg("child hung (seed %u)", g_seed);
		}
		if (poll(&pfd, 1, 5) <= 0)
			continue;
		n = read(fds[0], (char *)&a + have, sizeof(a) - have);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		have += (size_t)n;
		if (have < sizeof(a))
			continue;
		have = 0;
		if (a.key == VERIFIED) {
			assert_int_equal(a.epoch, g_nacks);
			verified = true;
			clock_gettime(CLOCK_MONOTONIC, &t0); /* kill timer starts now */
			continue;
		}
		if (a.key2 != NO_KEY2) {
			if (g_nintents == g_icap) {
				g_icap = g_icap ? g_icap * 2 : 1024;
				g_intents = realloc(g_intents, g_icap * sizeof(*g_intents));
				assert_non_null(g_intents);
			}
			g_intents[g_nintents++] = a;
			continue;
		}
		if (g_nacks == g_cap) {
			g_cap = g_cap ? g_cap * 2 : 4096;
			g_acks = realloc(g_acks, g_cap * sizeof(*g_acks));
			assert_non_null(g_acks);
		}
		g_acks[g_nacks++] = a;
	}
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		return WTERMSIG(status) == SIGKILL ? 0 : -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_crash(void **state)
{
	const char *env = getenv("CAIRN_TEST_SEED");
	struct timespec t0, now;
	unsigned iter;
	size_t before;

	g_seed = env ? (unsigned)strtoul(env, NULL, 0) : (unsigned)time(NULL);
	printf("crash test seed %u (CAIRN_TEST_SEED to replay)\n", g_seed);
	srand(g_seed);
	snprintf(g_path, sizeof(g_path), "/tmp/cairn-voscrash-%d.pool", (int)getpid());
	assert_int_equal(vt_file(g_path, POOL_SIZE), 0);
	assert_int_equal(run_child(0, 0, 0), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (iter = 0; iter < MAX_ITERS; iter++) {
		unsigned kill_ms = 5 + (unsigned)rand() % 250;
		int rc;

		before = g_nacks;
		rc = run_child(1, iter, kill_ms);
		if (rc != 0)
			fail_msg("iteration %u: child failed (%d), seed %u", iter, rc, g_seed);
		printf("iteration %u: killed after %u ms, %zu updates acknowledged%s\n", iter,
		       kill_ms, g_nacks - before, iter % 3 == 2 ? " (1% of writes failing)" : "");
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > MAX_SECONDS)
			break;
	}
	assert_true(g_nacks > 0);
	assert_int_equal(run_child(2, iter, 0), 0);
	printf("%u iterations, %zu acknowledged updates verified, %zu transactions all-or-nothing\n",
	       iter, g_nacks, g_nintents);
	unlink(g_path);
	free(g_acks);
	free(g_intents);
}

/* Also after a failed run: never leave the pool file behind. */
static int
teardown(void **state)
{
	if (g_path[0] != 0)
		unlink(g_path);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
