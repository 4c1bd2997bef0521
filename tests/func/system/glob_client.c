/*
 * Functional client of global pool/container handles (glob_func.sh), against a real
 * engine on loopback:
 *   glob-client URI POOL CONT share
 *     parent: connect + open, write a value, local2global both handles, fork + exec
 *     itself as "child" with the buffers sent through a pipe; the child global2local's
 *     them (no connect), reads the parent's value, writes its own and closes/
 *     disconnects (local only); the parent then reads the child's value and checks the
 *     pool connection still works on the engine. Corrupted, truncated and wrong-kind
 *     buffers are rejected; after the parent disconnects, the engine refuses the pool
 *     global handle (and the container's).
 *   glob-client URI POOL CONT runtime
 *     cairn_init() starts the client runtime (a thread appears), the first connect finds
 *     it up, cairn_fini() stops it (the thread goes); init/fini twice; a child forked
 *     after cairn_init() starts a runtime of its own to connect, and fini stops it.
 *   glob-client URI POOL CONT forks N
 *     connect + open + write, local2global; fork N children (no exec) that each
 *     global2local the handles, read the parent's value, write/read their own (64 KiB,
 *     bulk) and connect on their own; the parent verifies every child's value and
 *     keeps using its connection.
 *   glob-client URI POOL CONT stale ENGINE_DRPC_SOCK
 *     connect + open + write (map v1); the engine's pool map version is bumped over its
 *     dRPC socket (SRV_DRPC_POOL_MAP_BUMP); the next update and fetch with the old map
 *     get STALE from the target, refresh the map and succeed (the library logs the
 *     refresh at INFO); a second client connected after the bump sees the new version.
 *   glob-client URI POOL CONT child FD   (internal: the exec'd child)
 * Exit 0 on success; every failure says what differed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cairn/cairn.h>
#include <cairn/cont.h>
#include <cairn/errno.h>
#include <cairn/obj.h>
#include <cairn/pool.h>

#include "drpc/drpc.h"
#include "engine/srv_api.h"

#define FUNC_CLIENT_NAME "glob-client"
#include "func_client.h"

static const char g_parent_val[] = "written by the parent before the fork";
static const char g_child_val[] = "written by the child through the shared handles";

static int
write_all(int fd, const void *b, size_t n)
{
	const char *p = b;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
read_all(int fd, void *b, size_t n)
{
	char *p = b;

	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Make a global buffer of a pool (is_pool) or container handle (malloc'd). */
static int
to_global(struct cairn_handle h, bool is_pool, struct cairn_iov *g)
{
	int rc;

	memset(g, 0, sizeof(*g));
	rc = is_pool ? cairn_pool_local2global(h, g) : cairn_cont_local2global(h, g);
	if (rc)
		return rc;
	if (g->buf_len == 0 || g->buf_len > (1u << 20))
		return -CAIRN_ERR_PROTO;
	g->buf = malloc(g->buf_len);
	if (g->buf == NULL)
		return -CAIRN_ERR_NOMEM;
	/* one byte short first: TRUNC with the size needed */
	g->buf_len--;
	rc = is_pool ? cairn_pool_local2global(h, g) : cairn_cont_local2global(h, g);
	if (rc != -CAIRN_ERR_TRUNC)
		return rc ? rc : -CAIRN_ERR_MISC;
	rc = is_pool ? cairn_pool_local2global(h, g) : cairn_cont_local2global(h, g);
	return rc;
}

static int
kv_put(struct cairn_handle coh, struct cairn_obj_id oid, const char *dkey, const char *val)
{
	struct cairn_iov dk = {(void *)dkey, strlen(dkey), strlen(dkey)};
	struct cairn_iov ak = {"a", 1, 1};
	struct cairn_iov v = {(void *)val, strlen(val), strlen(val)};
	struct cairn_handle oh;
	int rc;

	rc = cairn_obj_open(coh, oid, 0, &oh, NULL);
	if (rc)
		return rc;
	rc = cairn_obj_update(oh, &dk, &ak, &v, NULL);
	cairn_obj_close(oh, NULL);
	return rc;
}

/* Fetch dkey's value and compare with want. \return 0, rc, or 1 on a mismatch */
static int
kv_check(struct cairn_handle coh, struct cairn_obj_id oid, const char *dkey, const char *want)
{
	struct cairn_iov dk = {(void *)dkey, strlen(dkey), strlen(dkey)};
	struct cairn_iov ak = {"a", 1, 1};
	char buf[256];
	struct cairn_iov v = {buf, sizeof(buf), 0};
	struct cairn_handle oh;
	int rc;

	rc = cairn_obj_open(coh, oid, 0, &oh, NULL);
	if (rc)
		return rc;
	rc = cairn_obj_fetch(oh, &dk, &ak, &v, NULL);
	cairn_obj_close(oh, NULL);
	if (rc)
		return rc;
	if (v.len != strlen(want) || memcmp(buf, want, v.len) != 0) {
		fprintf(stderr, "glob-client: %s: read '%.*s', expected '%s'\n", dkey, (int)v.len,
		        buf, want);
		return 1;
	}
	return 0;
}

static int
child(int fd)
{
	struct cairn_iov pg = {0}, cg = {0};
	struct cairn_handle poh, coh, coh2;
	struct cairn_pool_info info;
	struct cairn_obj_id oid;
	uint64_t lens[2];
	int rc;

	if (read_all(fd, &oid, sizeof(oid)) || read_all(fd, lens, sizeof(lens)) ||
	    lens[0] == 0 || lens[0] > (1u << 20) || lens[1] == 0 || lens[1] > (1u << 20))
		FAIL("child: bad message on the pipe");
	pg.buf = malloc(lens[0]);
	cg.buf = malloc(lens[1]);
	if (pg.buf == NULL || cg.buf == NULL)
		FAIL("child: out of memory");
	pg.buf_len = pg.len = lens[0];
	cg.buf_len = cg.len = lens[1];
	if (read_all(fd, pg.buf, pg.len) || read_all(fd, cg.buf, cg.len))
		FAIL("child: short read on the pipe");
	close(fd);
	CHECK(cairn_init(), "child: init");
	/* no URI anywhere in the child: the global handle carries it */
	unsetenv("CAIRN_SYSTEM_URI");
	EXPECT(cairn_cont_global2local(CAIRN_HANDLE_NULL, &cg, &coh), -CAIRN_ERR_NOHANDLE,
	       "child: container global2local without a pool handle");
	EXPECT(cairn_cont_global2local((struct cairn_handle){0}, &pg, &coh), -CAIRN_ERR_NOHANDLE,
	       "child: bad pool handle");
	CHECK(cairn_pool_global2local(&pg, &poh), "child: pool global2local");
	EXPECT(cairn_pool_global2local(&cg, &coh), -CAIRN_ERR_INVAL,
	       "child: a container buffer given as a pool's");
	EXPECT(cairn_cont_global2local(poh, &pg, &coh), -CAIRN_ERR_INVAL,
	       "child: a pool buffer given as a container's");
	EXPECT(cairn_handle_global2local(&cg, &coh), -CAIRN_ERR_INVAL,
	       "child: container buffer through the generic call (no pool handle)");
	CHECK(cairn_cont_global2local(poh, &cg, &coh), "child: container global2local");
	CHECK(cairn_pool_query(poh, &info, NULL), "child: pool query on the shared connection");
	if (info.nr_targets == 0)
		FAIL("child: the pool map has no targets");
	rc = kv_check(coh, oid, "parent", g_parent_val);
	if (rc)
		FAIL("child: reading the parent's value: %s", rc == 1 ? "mismatch" : cairn_strerror(rc));
	CHECK(kv_put(coh, oid, "child", g_child_val), "child: update");
	/* a second local handle from the same buffer works too */
	CHECK(cairn_cont_global2local(poh, &cg, &coh2), "child: second container global2local");
	rc = kv_check(coh2, oid, "child", g_child_val);
	if (rc)
		FAIL("child: read back: %s", rc == 1 ? "mismatch" : cairn_strerror(rc));
	CHECK(cairn_cont_close(coh2, NULL), "child: close 2");
	CHECK(cairn_cont_close(coh, NULL), "child: close");
	CHECK(cairn_pool_disconnect(poh, NULL), "child: disconnect");
	CHECK(cairn_fini(), "child: fini");
	free(pg.buf);
	free(cg.buf);
	return 0;
}

/* Damaged copies of a good buffer must all be rejected, with the right code. */
static int
check_damaged(const struct cairn_iov *good)
{
	struct cairn_handle h;
	struct cairn_iov g;
	uint8_t *b = malloc(good->len);
	size_t i;

	if (b == NULL)
		FAIL("out of memory");
	g = (struct cairn_iov){b, good->len, good->len};
	/* every truncation */
	for (i = 0; i < good->len; i++) {
		memcpy(b, good->buf, good->len);
		g.len = i;
		if (cairn_pool_global2local(&g, &h) != -CAIRN_ERR_PROTO)
			FAIL("a pool buffer truncated to %zu of %zu bytes was not refused (PROTO)",
			      i, good->len);
	}
	g.len = good->len;
	/* a flipped bit anywhere: header fields or CRC */
	for (i = 0; i < good->len * 8; i += 3) {
		int rc;

		memcpy(b, good->buf, good->len);
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
		rc = cairn_pool_global2local(&g, &h);
		if (rc == 0)
			FAIL("a pool buffer with bit %zu flipped was accepted", i);
		if (i >= 16 * 8 && rc != -CAIRN_ERR_CSUM)
			FAIL("payload bit %zu flipped: %s, expected CSUM", i, cairn_strerror(rc));
	}
	free(b);
	return 0;
}

static int
parent(const char *self, const char *uri, const char *pool, const char *cont)
{
	struct cairn_iov pg, cg;
	struct cairn_handle poh, coh, poh2, coh2;
	struct cairn_obj_id oid;
	uint64_t lens[2];
	int fds[2], status, rc;
	char fdarg[16];
	pid_t pid;

	CHECK(cairn_init(), "init");
	CHECK(cairn_pool_connect(pool, uri, CAIRN_PC_RW, &poh, NULL, NULL), "connect");
	CHECK(cairn_cont_open(poh, cont, 0, &coh, NULL, NULL), "cont open");
	CHECK(cairn_cont_alloc_oid(coh, CAIRN_OT_MULTI, CAIRN_OC_UNKNOWN, &oid, NULL), "oid");
	CHECK(kv_put(coh, oid, "parent", g_parent_val), "update");
	CHECK(to_global(poh, true, &pg), "pool local2global");
	CHECK(to_global(coh, false, &cg), "cont local2global");
	EXPECT(cairn_pool_local2global(coh, &pg), -CAIRN_ERR_NOHANDLE, "container as pool");
	EXPECT(cairn_cont_local2global(poh, &cg), -CAIRN_ERR_NOHANDLE, "pool as container");
	if (check_damaged(&pg))
		return 1;
	printf("global handles: pool %zu bytes, container %zu bytes\n", pg.len, cg.len);

	if (pipe(fds) != 0)
		FAIL("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fds[1]);
		snprintf(fdarg, sizeof(fdarg), "%d", fds[0]);
		execl(self, self, uri, pool, cont, "child", fdarg, (char *)NULL);
		fprintf(stderr, "glob-client: exec %s: %s\n", self, strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	lens[0] = pg.len;
	lens[1] = cg.len;
	if (write_all(fds[1], &oid, sizeof(oid)) || write_all(fds[1], lens, sizeof(lens)) ||
	    write_all(fds[1], pg.buf, pg.len) || write_all(fds[1], cg.buf, cg.len))
		FAIL("write to the child: %s", strerror(errno));
	close(fds[1]);
	if (waitpid(pid, &status, 0) != pid)
		FAIL("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL("the child failed (status 0x%x)", status);
	printf("child: used the shared handles without connecting\n");

	/* the child's write is visible, and its local disconnect did not end ours */
	rc = kv_check(coh, oid, "child", g_child_val);
	if (rc)
		FAIL("reading the child's value: %s", rc == 1 ? "mismatch" : cairn_strerror(rc));
	CHECK(kv_put(coh, oid, "parent2", g_parent_val), "update after the child left");

	/* in this process too, while connected */
	CHECK(cairn_pool_global2local(&pg, &poh2), "global2local in the owner");
	CHECK(cairn_cont_global2local(poh2, &cg, &coh2), "cont global2local in the owner");
	CHECK(cairn_cont_close(coh2, NULL), "close the owner's copy");
	CHECK(cairn_pool_disconnect(poh2, NULL), "disconnect the owner's copy");

	CHECK(cairn_cont_close(coh, NULL), "close");
	CHECK(cairn_cont_open(poh, cont, 0, &coh, NULL, NULL), "reopen");
	/* the closed container handle is refused by the engine */
	CHECK(cairn_pool_global2local(&pg, &poh2), "pool global2local before disconnect");
	EXPECT(cairn_cont_global2local(poh2, &cg, &coh2), -CAIRN_ERR_NOHANDLE,
	       "a closed container's global handle");
	CHECK(cairn_pool_disconnect(poh2, NULL), "local disconnect");
	CHECK(cairn_cont_close(coh, NULL), "close");
	CHECK(cairn_pool_disconnect(poh, NULL), "disconnect");
	/* the connection is gone on the engine: its global handle is refused */
	EXPECT(cairn_pool_global2local(&pg, &poh2), -CAIRN_ERR_NOHANDLE,
	       "the global handle of a disconnected pool");
	printf("engine refused the handles after close/disconnect\n");
	free(pg.buf);
	free(cg.buf);
	CHECK(cairn_fini(), "fini");
	return 0;
}

/* Threads of this process that are runtime xstreams (named "cairn-<xstream>" by
 * src/rt; sanitizer helper threads are not counted). */
static int
nr_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[300], comm[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL && strncmp(comm, "cairn-", 6) == 0)
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static int
runtime(const char *uri, const char *pool)
{
	struct cairn_handle poh;
	int base = nr_threads(), n, status, round;
	pid_t pid;

	for (round = 0; round < 2; round++) {
		CHECK(cairn_init(), "init");
		n = nr_threads();
		if (n <= base)
			FAIL("round %d: cairn_init() started no runtime thread (%d -> %d)", round,
			      base, n);
		CHECK(cairn_pool_connect(pool, uri, CAIRN_PC_RW, &poh, NULL, NULL), "connect");
		if (nr_threads() != n)
			FAIL("round %d: connect started threads (%d -> %d)", round, n,
			      nr_threads());
		CHECK(cairn_pool_disconnect(poh, NULL), "disconnect");
		if (nr_threads() != n)
			FAIL("round %d: the runtime stopped on disconnect", round);
		CHECK(cairn_fini(), "fini");
		if (nr_threads() != base)
			FAIL("round %d: cairn_fini() left %d threads (%d before init)", round,
			      nr_threads(), base);
	}
	printf("runtime: %d runtime thread(s) while initialised, %d after cairn_fini()\n", n,
	       base);

	CHECK(cairn_init(), "init before fork");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		/* The parent's runtime threads are gone here; connecting starts the
		 * child's own runtime, and the inherited cairn_init() reference stops it. */
		int rc, nt;

		if (nr_threads() != 0) {
			fprintf(stderr, "glob-client: forked child has %d runtime threads\n",
			        nr_threads());
			_exit(1);
		}
		rc = cairn_pool_connect(pool, uri, CAIRN_PC_RW, &poh, NULL, NULL);
		if (rc) {
			fprintf(stderr, "glob-client: forked child: connect: %s\n",
			        cairn_strerror(rc));
			_exit(1);
		}
		nt = nr_threads();
		rc = cairn_pool_disconnect(poh, NULL);
		if (nt <= 0 || rc) {
			fprintf(stderr,
			        "glob-client: forked child: %d runtime threads after "
			        "connect, disconnect %s\n",
			        nt, cairn_strerror(rc));
			_exit(1);
		}
		rc = cairn_fini();
		_exit(rc == 0 && nr_threads() == 0 ? 0 : 2);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL("forked child failed (status 0x%x)", status);
	/* the parent's runtime is unaffected */
	CHECK(cairn_pool_connect(pool, uri, CAIRN_PC_RW, &poh, NULL, NULL), "connect after fork");
	CHECK(cairn_pool_disconnect(poh, NULL), "disconnect after fork");
	CHECK(cairn_fini(), "fini");
	return 0;
}

#define FORK_VAL_LEN 65536 /* over the inline threshold: bulk transfers too */

static void
fork_fill(char *b, size_t n, unsigned who)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (who + 1);
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] = (char)('a' + x % 26);
	}
}

/* dkey "fork-<who>": a FORK_VAL_LEN value, written or read back and compared. */
static int
fork_io(struct cairn_handle coh, struct cairn_obj_id oid, unsigned who, bool write)
{
	static char want[FORK_VAL_LEN], got[FORK_VAL_LEN];
	struct cairn_iov ak = {"a", 1, 1};
	struct cairn_iov dk, v;
	struct cairn_handle oh;
	char key[32];
	int rc;

	snprintf(key, sizeof(key), "fork-%u", who);
	cairn_iov_set(&dk, key, strlen(key));
	fork_fill(want, sizeof(want), who);
	rc = cairn_obj_open(coh, oid, 0, &oh, NULL);
	if (rc)
		return rc;
	if (write) {
		cairn_iov_set(&v, want, sizeof(want));
		rc = cairn_obj_update(oh, &dk, &ak, &v, NULL);
	} else {
		memset(got, 0, sizeof(got));
		cairn_iov_set(&v, got, sizeof(got));
		v.len = 0;
		rc = cairn_obj_fetch(oh, &dk, &ak, &v, NULL);
		if (rc == 0 && (v.len != sizeof(want) || memcmp(got, want, sizeof(want)) != 0)) {
			fprintf(stderr, "glob-client: %s read back %zu bytes, differing\n", key,
			        v.len);
			rc = 1;
		}
	}
	cairn_obj_close(oh, NULL);
	return rc;
}

/* A forked child of `forks`: global handles -> local, I/O, and a connect of its own. */
static int
fork_child(const char *uri, const char *pool, const char *cont, struct cairn_iov *pg,
           struct cairn_iov *cg, struct cairn_obj_id oid, unsigned who)
{
	struct cairn_handle poh, coh, poh2, coh2;

	if (nr_threads() != 0)
		FAIL("child %u: %d runtime threads inherited", who, nr_threads());
	CHECK(cairn_pool_global2local(pg, &poh), "child: pool global2local");
	CHECK(cairn_cont_global2local(poh, cg, &coh), "child: cont global2local");
	CHECK(kv_check(coh, oid, "parent", g_parent_val), "child: read the parent's value");
	CHECK(fork_io(coh, oid, who, true), "child: write");
	CHECK(fork_io(coh, oid, who, false), "child: read back");
	CHECK(cairn_cont_close(coh, NULL), "child: close (local)");
	CHECK(cairn_pool_disconnect(poh, NULL), "child: disconnect (local)");
	/* A connection of the child's own works too (cairn_init again: a reference). */
	CHECK(cairn_init(), "child: init");
	CHECK(cairn_pool_connect(pool, uri, CAIRN_PC_RW, &poh2, NULL, NULL), "child: connect");
	CHECK(cairn_cont_open(poh2, cont, 0, &coh2, NULL, NULL), "child: cont open");
	CHECK(fork_io(coh2, oid, who, false), "child: read back on its own connection");
	CHECK(cairn_cont_close(coh2, NULL), "child: close");
	CHECK(cairn_pool_disconnect(poh2, NULL), "child: disconnect");
	CHECK(cairn_fini(), "child: fini");
	CHECK(cairn_fini(), "child: fini of the inherited reference");
	if (nr_threads() != 0)
		FAIL("child %u: %d runtime threads left after cairn_fini()", who, nr_threads());
	return 0;
}

/*
 * forks N: connect + open + write, local2global, then fork N children at once (no exec:
 * the MPI / multiprocessing pattern); each converts the global handles, reads the
 * parent's value, writes and reads its own, connects on its own; the parent then reads
 * every child's value and keeps using its own connection.
 */
static int
forks(const char *uri, const char *pool, const char *cont, unsigned n)
{
	struct cairn_iov pg, cg;
	struct cairn_handle poh, coh;
	struct cairn_obj_id oid;
	pid_t pids[64];
	unsigned i, bad = 0;
	int status;

	CHECK(cairn_init(), "init");
	CHECK(cairn_pool_connect(pool, uri, CAIRN_PC_RW, &poh, NULL, NULL), "connect");
	CHECK(cairn_cont_open(poh, cont, 0, &coh, NULL, NULL), "cont open");
	CHECK(cairn_cont_alloc_oid(coh, CAIRN_OT_MULTI, CAIRN_OC_UNKNOWN, &oid, NULL), "oid");
	CHECK(kv_put(coh, oid, "parent", g_parent_val), "update");
	CHECK(to_global(poh, true, &pg), "pool local2global");
	CHECK(to_global(coh, false, &cg), "cont local2global");
	fflush(NULL);
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			FAIL("fork %u: %s", i, strerror(errno));
		if (pids[i] == 0)
			_exit(fork_child(uri, pool, cont, &pg, &cg, oid, i));
	}
	/* The parent's runtime keeps working while the children run. */
	CHECK(fork_io(coh, oid, 1000, true), "parent: write while the children run");
	for (i = 0; i < n; i++) {
		if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "glob-client: child %u failed (status 0x%x)\n", i, status);
			bad++;
		}
	}
	if (bad)
		FAIL("%u of %u forked children failed", bad, n);
	for (i = 0; i < n; i++)
		CHECK(fork_io(coh, oid, i, false), "parent: read a child's value");
	CHECK(fork_io(coh, oid, 1000, false), "parent: read its own value");
	CHECK(kv_check(coh, oid, "parent", g_parent_val), "parent: first value");
	CHECK(cairn_cont_close(coh, NULL), "close");
	CHECK(cairn_pool_disconnect(poh, NULL), "disconnect");
	CHECK(cairn_fini(), "fini");
	free(pg.buf);
	free(cg.buf);
	printf("forks: %u children forked after connecting used global handles and their "
	       "own connections; every value verified\n",
	       n);
	return 0;
}

/* Bump the pool map version through the engine's dRPC socket; the new version. */
static int
map_bump(const char *sock, const char *pool, uint32_t *ver)
{
	struct cairn_drpc_response resp;
	struct cairn_drpc_client *cl;
	char body[256];
	const char *v;
	int rc;

	snprintf(body, sizeof(body), "{\"pool\": \"%s\"}", pool);
	rc = cairn_drpc_client_connect(sock, 5000, &cl);
	if (rc)
		return rc;
	rc = cairn_drpc_client_call(cl, CAIRN_DRPC_MODULE_POOL, SRV_DRPC_POOL_MAP_BUMP, body,
	                            strlen(body), 10000, &resp);
	cairn_drpc_client_close(cl);
	if (rc)
		return rc;
	rc = resp.status;
	if (rc == 0) {
		char *txt = strndup((const char *)resp.body, resp.body_len);

		v = txt ? strstr(txt, "\"map_version\":") : NULL;
		if (v == NULL || sscanf(v + strlen("\"map_version\":"), " %u", ver) != 1)
			rc = -CAIRN_ERR_PROTO;
		free(txt);
	} else {
		fprintf(stderr, "glob-client: pool_map_bump: %.*s\n", (int)resp.body_len,
		        (const char *)resp.body);
	}
	cairn_drpc_response_release(&resp);
	return rc;
}

static int
stale(const char *uri, const char *pool, const char *cont, const char *sock)
{
	struct cairn_handle poh, coh, poh2;
	struct cairn_pool_info info, info2;
	struct cairn_obj_id oid;
	uint32_t ver;
	int rc;

	CHECK(cairn_init(), "init");
	CHECK(cairn_pool_connect(pool, uri, CAIRN_PC_RW, &poh, &info, NULL), "connect");
	CHECK(cairn_cont_open(poh, cont, 0, &coh, NULL, NULL), "cont open");
	CHECK(cairn_cont_alloc_oid(coh, CAIRN_OT_MULTI, CAIRN_OC_UNKNOWN, &oid, NULL), "oid");
	CHECK(kv_put(coh, oid, "before", g_parent_val), "update before the bump");
	CHECK(map_bump(sock, pool, &ver), "pool_map_bump over dRPC");
	if (ver != info.map_version + 1)
		FAIL("map version after the bump: %u, expected %u", ver, info.map_version + 1);
	printf("stale: client holds map v%u, engine moved to v%u\n", info.map_version, ver);
	fflush(stdout);
	/* old map: STALE from the target, refresh, retry: the caller sees success */
	CHECK(kv_put(coh, oid, "after", g_child_val), "update with the stale map");
	rc = kv_check(coh, oid, "before", g_parent_val);
	if (rc)
		FAIL("fetch after the refresh: %s", rc == 1 ? "mismatch" : cairn_strerror(rc));
	rc = kv_check(coh, oid, "after", g_child_val);
	if (rc)
		FAIL("fetch after the refresh: %s", rc == 1 ? "mismatch" : cairn_strerror(rc));
	/* twice more: each bump is one more refresh */
	CHECK(map_bump(sock, pool, &ver), "second pool_map_bump");
	rc = kv_check(coh, oid, "after", g_child_val);
	if (rc)
		FAIL("fetch with a stale map: %s", rc == 1 ? "mismatch" : cairn_strerror(rc));
	CHECK(cairn_pool_query(poh, &info2, NULL), "query");
	if (info2.map_version != ver)
		FAIL("client map v%u after the refreshes, engine at v%u", info2.map_version, ver);
	/* a bump on an unknown pool is refused */
	if (map_bump(sock, "no-such-pool", &ver) == 0)
		FAIL("pool_map_bump of an unknown pool succeeded");
	CHECK(cairn_cont_close(coh, NULL), "close");
	CHECK(cairn_pool_disconnect(poh, NULL), "disconnect");
	/* a new connection gets the current map */
	CHECK(cairn_pool_connect(pool, uri, CAIRN_PC_RO, &poh2, &info2, NULL), "reconnect");
	if (info2.map_version != ver)
		FAIL("new connection got map v%u, expected v%u", info2.map_version, ver);
	CHECK(cairn_pool_disconnect(poh2, NULL), "disconnect 2");
	CHECK(cairn_fini(), "fini");
	printf("stale: refreshed to v%u and retried\n", ver);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[4], "share") == 0)
		return parent(argv[0], argv[1], argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[4], "runtime") == 0)
		return runtime(argv[1], argv[2]);
	if (argc == 6 && strcmp(argv[4], "stale") == 0)
		return stale(argv[1], argv[2], argv[3], argv[5]);
	if (argc == 6 && strcmp(argv[4], "forks") == 0) {
		char *end;
		long n = strtol(argv[5], &end, 10);

		if (*argv[5] == '\0' || *end != '\0' || n < 1 || n > 64) {
			fprintf(stderr, "glob-client: forks N: N is 1..64\n");
			return 2;
		}
		return forks(argv[1], argv[2], argv[3], (unsigned)n);
	}
	if (argc == 6 && strcmp(argv[4], "child") == 0) {
		char *end;
		long fd = strtol(argv[5], &end, 10);

		if (*argv[5] == '\0' || *end != '\0' || fd < 0 || fd > INT32_MAX) {
			fprintf(stderr, "glob-client: bad fd '%s'\n", argv[5]);
			return 2;
		}
		return child((int)fd);
	}
	fprintf(stderr, "usage: glob-client URI POOL CONT share\n");
	return 2;
}
