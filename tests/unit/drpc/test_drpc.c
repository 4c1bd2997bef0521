/*
 * dRPC unit tests: codec validation, handler registry, and a real server on the runtime's
 * system xstream with clients on plain threads (calls, errors, malformed and oversized
 * packets, concurrency, timeouts and late replies, connection limits, stop).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <cairn/errno.h>

#include "drpc/drpc.h"
#include "rt/rt.h"

#include "drpc.pb-c.h"

#define TEST_METHOD_ECHO 1
#define TEST_METHOD_SLEEP 2
#define TEST_METHOD_FAIL 3
#define TEST_METHOD_WHERE 4
#define TEST_METHOD_BIG 5

static char g_path[108];
static struct cairn_drpc_server *g_srv;

/* ------------------------------------------------------------------ handlers */

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

/* Sleeps (yielding) for the number of ms in the first body byte. */
static int
h_sleep(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	unsigned ms = call->body_len ? call->body[0] : 10;

	cairn_ult_sleep_us(ms * 1000ull);
	return h_echo(call, body, body_len);
}

static int
h_fail(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	cairn_drpc_errmsg(body, body_len, "nope %u", 42);
	return -CAIRN_ERR_PERM;
}

/* Reports whether it runs in a ULT on the system xstream. */
static int
h_where(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	struct cairn_xstream *xs = cairn_xs_self();

	*body = malloc(2);
	if (*body == NULL)
		return -CAIRN_ERR_NOMEM;
	(*body)[0] = cairn_in_ult();
	(*body)[1] = xs != NULL && cairn_xs_role(xs) == CAIRN_XS_SYSTEM;
	*body_len = 2;
	return 0;
}

/* Returns a reply larger than the limit: must become -CAIRN_ERR_OVERFLOW. */
static int
h_big(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	*body = calloc(1, CAIRN_DRPC_MAX_MSG);
	if (*body == NULL)
		return -CAIRN_ERR_NOMEM;
	*body_len = CAIRN_DRPC_MAX_MSG;
	return 0;
}

static const struct cairn_drpc_method g_test_methods[] = {
        {TEST_METHOD_ECHO, "echo", h_echo}, {TEST_METHOD_SLEEP, "sleep", h_sleep},
        {TEST_METHOD_FAIL, "fail", h_fail}, {TEST_METHOD_WHERE, "where", h_where},
        {TEST_METHOD_BIG, "big", h_big},
};

static const struct cairn_drpc_handler_table g_test_table = {
        .module = CAIRN_DRPC_MODULE_TEST,
        .name = "test",
        .methods = g_test_methods,
        .nr_methods = sizeof(g_test_methods) / sizeof(g_test_methods[0]),
};

/* ------------------------------------------------------------------ server helpers */

struct start_ctx {
	const char *path;
	unsigned max_conns;
	struct cairn_drpc_server *srv;
	int rc;
};

static void
start_ult(void *arg)
{
	struct start_ctx *c = arg;

	c->rc = cairn_drpc_server_start(c->path, c->max_conns, &c->srv);
}

static int
server_start(const char *path, unsigned max_conns, struct cairn_drpc_server **srv)
{
	struct start_ctx c = {.path = path, .max_conns = max_conns, .rc = -1};
	int rc;

	rc = cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0), start_ult, &c);
	if (rc)
		return rc;
	*srv = c.srv;
	return c.rc;
}

static void
stop_ult(void *arg)
{
	cairn_drpc_server_stop(arg, 2000000);
}

static void
server_stop(struct cairn_drpc_server *srv)
{
	assert_int_equal(cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0), stop_ult, srv), 0);
}

struct stats_ctx {
	struct cairn_drpc_server *srv;
	struct cairn_drpc_server_stats st;
};

static void
stats_ult(void *arg)
{
	struct stats_ctx *c = arg;

	cairn_drpc_server_stats(c->srv, &c->st);
}

static void
server_stats(struct cairn_drpc_server *srv, struct cairn_drpc_server_stats *st)
{
	struct stats_ctx c = {.srv = srv};

	assert_int_equal(cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0), stats_ult, &c), 0);
	*st = c.st;
}

static int
setup(void **state)
{
	struct cairn_rt_opts o;

	cairn_rt_opts_default(&o);
	o.nr_system = 1;
	o.nr_main = 1;
	o.pin = false;
	if (cairn_rt_init(&o))
		return -1;
	if (cairn_drpc_register(&g_test_table))
		return -1;
	snprintf(g_path, sizeof(g_path), "/tmp/cairn-test-drpc-%d.sock", (int)getpid());
	return server_start(g_path, 0, &g_srv);
}

static int
teardown(void **state)
{
	server_stop(g_srv);
	cairn_drpc_unregister(CAIRN_DRPC_MODULE_TEST);
	cairn_rt_fini();
	return 0;
}

/* ------------------------------------------------------------------ codec */

static void
test_codec_roundtrip(void **state)
{
	struct cairn_drpc_response r;
	struct cairn_drpc_call c;
	uint8_t *buf;
	size_t len;

	assert_int_equal(cairn_drpc_call_encode(7, 9, 123456789012ull, "abc", 3, &buf, &len), 0);
	assert_int_equal(cairn_drpc_call_decode(buf, len, &c), 0);
	assert_int_equal(c.module, 7);
	assert_int_equal(c.method, 9);
	assert_true(c.sequence == 123456789012ull);
	assert_int_equal(c.body_len, 3);
	assert_memory_equal(c.body, "abc", 3);
	cairn_drpc_call_release(&c);
	free(buf);

	assert_int_equal(cairn_drpc_response_encode(5, -CAIRN_ERR_BUSY, NULL, 0, &buf, &len), 0);
	assert_int_equal(cairn_drpc_response_decode(buf, len, &r), 0);
	assert_true(r.sequence == 5);
	assert_int_equal(r.status, -CAIRN_ERR_BUSY);
	assert_int_equal(r.body_len, 0);
	cairn_drpc_response_release(&r);
	free(buf);

	/* An empty packet is a valid Call with every field zero. */
	assert_int_equal(cairn_drpc_call_decode("", 0, &c), 0);
	assert_int_equal(c.module, 0);
	cairn_drpc_call_release(&c);
}

static void
test_codec_rejects(void **state)
{
	Cairn__Drpc__Response m = CAIRN__DRPC__RESPONSE__INIT;
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	/* field 9 (unknown), varint 1 */
	static const uint8_t unknown[] = {0x48, 0x01};
	/* module = 64 (field 1, varint) */
	static const uint8_t bad_module[] = {0x08, 0x40};
	/* body (field 4) says 100 bytes but only 2 follow */
	static const uint8_t short_body[] = {0x22, 0x64, 0x00, 0x00};
	struct cairn_drpc_response r;
	struct cairn_drpc_call c;
	uint8_t *buf, pos[16];
	size_t len;

	assert_int_equal(cairn_drpc_call_decode(garbage, sizeof(garbage), &c), -CAIRN_ERR_PROTO);
	assert_int_equal(cairn_drpc_call_decode(unknown, sizeof(unknown), &c), -CAIRN_ERR_PROTO);
	assert_int_equal(cairn_drpc_call_decode(bad_module, sizeof(bad_module), &c),
	                 -CAIRN_ERR_PROTO);
	assert_int_equal(cairn_drpc_call_decode(short_body, sizeof(short_body), &c),
	                 -CAIRN_ERR_PROTO);
	assert_int_equal(cairn_drpc_call_decode(garbage, CAIRN_DRPC_MAX_MSG + 1, &c),
	                 -CAIRN_ERR_OVERFLOW);
	assert_null(c.priv);

	/* A Response with a positive status is refused. */
	m.status = 3;
	len = cairn__drpc__response__pack(&m, pos);
	assert_int_equal(cairn_drpc_response_decode(pos, len, &r), -CAIRN_ERR_PROTO);

	/* Encoders refuse what decoders would refuse. */
	assert_int_equal(cairn_drpc_call_encode(CAIRN_DRPC_MODULE_MAX, 1, 1, NULL, 0, &buf, &len),
	                 -CAIRN_ERR_INVAL);
	assert_int_equal(
	        cairn_drpc_call_encode(1, 1, 1, garbage, CAIRN_DRPC_MAX_BODY + 1, &buf, &len),
	        -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_drpc_response_encode(1, 1, NULL, 0, &buf, &len), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_drpc_call_encode(1, 1, 1, NULL, 5, &buf, &len), -CAIRN_ERR_INVAL);
}

static void
test_registry(void **state)
{
	static const struct cairn_drpc_method dup[] = {
	        {1, "a", h_echo},
	        {1, "b", h_echo},
	};
	static const struct cairn_drpc_method nullh[] = {{1, "a", NULL}};
	struct cairn_drpc_handler_table t = {.module = 9, .methods = dup, .nr_methods = 2};

	assert_int_equal(cairn_drpc_register(&t), -CAIRN_ERR_INVAL);
	t.methods = nullh;
	t.nr_methods = 1;
	assert_int_equal(cairn_drpc_register(&t), -CAIRN_ERR_INVAL);
	t.methods = g_test_methods;
	t.nr_methods = 0;
	assert_int_equal(cairn_drpc_register(&t), -CAIRN_ERR_INVAL);
	t.nr_methods = 1;
	t.module = CAIRN_DRPC_MODULE_MAX;
	assert_int_equal(cairn_drpc_register(&t), -CAIRN_ERR_INVAL);
	t.module = CAIRN_DRPC_MODULE_TEST; /* taken by the fixture */
	assert_int_equal(cairn_drpc_register(&t), -CAIRN_ERR_EXIST);
	t.module = 9;
	assert_int_equal(cairn_drpc_register(&t), 0);
	cairn_drpc_unregister(9);
	assert_int_equal(cairn_drpc_register(&t), 0);
	cairn_drpc_unregister(9);
}

/* ------------------------------------------------------------------ server */

static void
test_calls(void **state)
{
	struct cairn_drpc_client *cl;
	struct cairn_drpc_response r;

	assert_int_equal(cairn_drpc_client_connect(g_path, 1000, &cl), 0);

	assert_int_equal(cairn_drpc_client_call(cl, CAIRN_DRPC_MODULE_TEST, TEST_METHOD_ECHO,
	                                        "hello", 5, 2000, &r),
	                 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.body_len, 5);
	assert_memory_equal(r.body, "hello", 5);
	cairn_drpc_response_release(&r);

	assert_int_equal(cairn_drpc_client_call(cl, CAIRN_DRPC_MODULE_TEST, TEST_METHOD_WHERE, NULL,
	                                        0, 2000, &r),
	                 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.body_len, 2);
	assert_int_equal(r.body[0], 1); /* in a ULT */
	assert_int_equal(r.body[1], 1); /* on the system xstream */
	cairn_drpc_response_release(&r);

	assert_int_equal(cairn_drpc_client_call(cl, CAIRN_DRPC_MODULE_TEST, TEST_METHOD_FAIL, NULL,
	                                        0, 2000, &r),
	                 0);
	assert_int_equal(r.status, -CAIRN_ERR_PERM);
	assert_int_equal(r.body_len, 7);
	assert_memory_equal(r.body, "nope 42", 7);
	cairn_drpc_response_release(&r);

	/* Unknown module (no table) and unknown method: -NOSYS with a reason. */
	assert_int_equal(cairn_drpc_client_call(cl, 33, 1, NULL, 0, 2000, &r), 0);
	assert_int_equal(r.status, -CAIRN_ERR_NOSYS);
	assert_non_null(memmem(r.body, r.body_len, "unknown module", 14));
	cairn_drpc_response_release(&r);
	assert_int_equal(cairn_drpc_client_call(cl, CAIRN_DRPC_MODULE_TEST, 999, NULL, 0, 2000, &r),
	                 0);
	assert_int_equal(r.status, -CAIRN_ERR_NOSYS);
	assert_non_null(memmem(r.body, r.body_len, "unknown method", 14));
	cairn_drpc_response_release(&r);

	/* A reply over the limit becomes an error, not a dropped connection. */
	assert_int_equal(cairn_drpc_client_call(cl, CAIRN_DRPC_MODULE_TEST, TEST_METHOD_BIG, NULL,
	                                        0, 2000, &r),
	                 0);
	assert_int_equal(r.status, -CAIRN_ERR_OVERFLOW);
	cairn_drpc_response_release(&r);

	cairn_drpc_client_close(cl);
}

static void
test_bad_messages(void **state)
{
	static const uint8_t garbage[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct cairn_drpc_server_stats before, after;
	struct cairn_drpc_client *cl;
	struct cairn_drpc_response r;
	uint8_t *big;

	server_stats(g_srv, &before);
	assert_int_equal(cairn_drpc_client_connect(g_path, 1000, &cl), 0);

	assert_int_equal(cairn_drpc_client_send_raw(cl, garbage, sizeof(garbage)), 0);
	assert_int_equal(cairn_drpc_client_recv(cl, 2000, &r), 0);
	assert_true(r.sequence == 0);
	assert_int_equal(r.status, -CAIRN_ERR_PROTO);
	assert_non_null(memmem(r.body, r.body_len, "malformed", 9));
	cairn_drpc_response_release(&r);

	big = calloc(1, CAIRN_DRPC_MAX_MSG + 100);
	assert_non_null(big);
	assert_int_equal(cairn_drpc_client_send_raw(cl, big, CAIRN_DRPC_MAX_MSG + 100), 0);
	free(big);
	assert_int_equal(cairn_drpc_client_recv(cl, 2000, &r), 0);
	assert_int_equal(r.status, -CAIRN_ERR_OVERFLOW);
	cairn_drpc_response_release(&r);

	/* The same connection still works. */
	assert_int_equal(cairn_drpc_client_call(cl, CAIRN_DRPC_MODULE_TEST, TEST_METHOD_ECHO, "x",
	                                        1, 2000, &r),
	                 0);
	assert_int_equal(r.status, 0);
	cairn_drpc_response_release(&r);
	cairn_drpc_client_close(cl);

	server_stats(g_srv, &after);
	assert_true(after.bad_msgs == before.bad_msgs + 2);
	assert_true(after.calls >= before.calls + 1);
}

static void
test_timeout_and_late_reply(void **state)
{
	struct cairn_drpc_client *cl;
	struct cairn_drpc_response r;
	uint8_t ms = 200;

	assert_int_equal(cairn_drpc_client_connect(g_path, 1000, &cl), 0);
	assert_int_equal(cairn_drpc_client_call(cl, CAIRN_DRPC_MODULE_TEST, TEST_METHOD_SLEEP, &ms,
	                                        1, 30, &r),
	                 -CAIRN_ERR_TIMEDOUT);
	/* The late reply to the timed-out call is skipped; this call gets its own. */
	assert_int_equal(cairn_drpc_client_call(cl, CAIRN_DRPC_MODULE_TEST, TEST_METHOD_ECHO,
	                                        "late", 4, 3000, &r),
	                 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.body_len, 4);
	assert_memory_equal(r.body, "late", 4);
	cairn_drpc_response_release(&r);
	cairn_drpc_client_close(cl);
}

#define CONC_THREADS 4
#define CONC_CALLS 200

static void *
conc_thread(void *arg)
{
	struct cairn_drpc_client *cl = arg;
	struct cairn_drpc_response r;
	char msg[32];
	long bad = 0;
	int i, n;

	for (i = 0; i < CONC_CALLS; i++) {
		n = snprintf(msg, sizeof(msg), "%p-%d", (void *)pthread_self(), i);
		if (cairn_drpc_client_call(cl, CAIRN_DRPC_MODULE_TEST,
		                           (i % 10) ? TEST_METHOD_ECHO : TEST_METHOD_SLEEP, msg,
		                           (size_t)n, 5000, &r)) {
			bad++;
			continue;
		}
		/* SLEEP sleeps msg[0] ms ('0'..: ~48 ms) and echoes. */
		if (r.status || r.body_len != (size_t)n || memcmp(r.body, msg, (size_t)n))
			bad++;
		cairn_drpc_response_release(&r);
	}
	return (void *)bad;
}

static void
test_concurrent_clients(void **state)
{
	struct cairn_drpc_client *cl[CONC_THREADS], *shared;
	pthread_t th[CONC_THREADS + 2];
	void *bad;
	int i;

	for (i = 0; i < CONC_THREADS; i++)
		assert_int_equal(cairn_drpc_client_connect(g_path, 1000, &cl[i]), 0);
	/* Two threads also share one client (calls are serialised by it). */
	assert_int_equal(cairn_drpc_client_connect(g_path, 1000, &shared), 0);
	for (i = 0; i < CONC_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, conc_thread, cl[i]), 0);
	for (i = CONC_THREADS; i < CONC_THREADS + 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, conc_thread, shared), 0);
	for (i = 0; i < CONC_THREADS + 2; i++) {
		assert_int_equal(pthread_join(th[i], &bad), 0);
		assert_int_equal((long)bad, 0);
	}
	for (i = 0; i < CONC_THREADS; i++)
		cairn_drpc_client_close(cl[i]);
	cairn_drpc_client_close(shared);
}

static void
test_socket_path_rules(void **state)
{
	struct cairn_drpc_server *srv = NULL;
	struct cairn_drpc_client *cl;
	char path[108];
	int fd;

	/* A live socket is not taken over. */
	assert_int_equal(server_start(g_path, 0, &srv), -CAIRN_ERR_BUSY);

	/* A stale socket file is replaced. */
	snprintf(path, sizeof(path), "/tmp/cairn-test-drpc-%d-stale.sock", (int)getpid());
	unlink(path);
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);

		assert_true(s >= 0);
		memcpy(sa.sun_path, path, strlen(path) + 1);
		assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(s); /* file left behind, nobody listening */
	}
	assert_int_equal(server_start(path, 0, &srv), 0);
	server_stop(srv);
	assert_int_equal(access(path, F_OK), -1); /* stop unlinks it */

	/* A regular file is not removed. */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(server_start(path, 0, &srv), -EEXIST);
	unlink(path);

	/* No server: connect fails fast with a clear errno. */
	assert_int_equal(cairn_drpc_client_connect(path, 0, &cl), -ENOENT);
	assert_int_equal(cairn_drpc_client_connect("", 0, &cl), -CAIRN_ERR_INVAL);
}

struct handover_ctx {
	const char *path;
	int listen_fd;
	int conn_fd;
	struct cairn_drpc_server *srv;
	int rc, adopt_rc;
};

static void
handover_ult(void *arg)
{
	struct handover_ctx *c = arg;

	c->rc = cairn_drpc_server_start_fd(c->path, c->listen_fd, 0, &c->srv);
	if (c->rc == 0)
		c->adopt_rc = cairn_drpc_server_adopt(c->srv, c->conn_fd);
}

/* A listener opened before the server (cairn_drpc_listen), a connection accepted by
 * hand, then both handed to a server: calls on the adopted connection, on one queued
 * in the backlog meanwhile and on a new one all work; stop unlinks the path. */
static void
test_listen_handover(void **state)
{
	struct handover_ctx c = {.conn_fd = -1};
	struct cairn_drpc_client *early, *queued, *late;
	struct cairn_drpc_response r;
	struct cairn_drpc_server *srv = NULL;
	char path[108];
	int lfd;

	snprintf(path, sizeof(path), "/tmp/cairn-test-drpc-%d-ho.sock", (int)getpid());
	unlink(path);
	assert_int_equal(cairn_drpc_listen(path, NULL), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_drpc_listen(g_path, &lfd), -CAIRN_ERR_BUSY); /* live server */
	assert_int_equal(cairn_drpc_listen(path, &lfd), 0);
	assert_int_equal(cairn_drpc_client_connect(path, 1000, &early), 0);
	c.conn_fd = accept(lfd, NULL, NULL);
	assert_true(c.conn_fd >= 0);
	assert_int_equal(cairn_drpc_client_connect(path, 1000, &queued), 0); /* in the backlog */

	assert_int_equal(cairn_drpc_server_start_fd(path, -1, 0, &srv), -CAIRN_ERR_INVAL);
	c.path = path;
	c.listen_fd = lfd;
	c.rc = c.adopt_rc = -1;
	assert_int_equal(cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0), handover_ult, &c),
	                 0);
	assert_int_equal(c.rc, 0);
	assert_int_equal(c.adopt_rc, 0);

	assert_int_equal(cairn_drpc_client_call(early, 0, TEST_METHOD_ECHO, "e", 1, 2000, &r), 0);
	assert_int_equal(r.status, 0);
	assert_memory_equal(r.body, "e", 1);
	cairn_drpc_response_release(&r);
	assert_int_equal(cairn_drpc_client_call(queued, 0, TEST_METHOD_ECHO, "q", 1, 2000, &r), 0);
	assert_int_equal(r.status, 0);
	cairn_drpc_response_release(&r);
	assert_int_equal(cairn_drpc_client_connect(path, 1000, &late), 0);
	assert_int_equal(cairn_drpc_client_call(late, 0, TEST_METHOD_ECHO, "l", 1, 2000, &r), 0);
	assert_int_equal(r.status, 0);
	cairn_drpc_response_release(&r);

	server_stop(c.srv);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(cairn_drpc_client_call(early, 0, TEST_METHOD_ECHO, "e", 1, 2000, &r),
	                 -CAIRN_ERR_UNREACH);
	cairn_drpc_client_close(early);
	cairn_drpc_client_close(queued);
	cairn_drpc_client_close(late);
}

static void
test_max_conns_and_stop(void **state)
{
	struct cairn_drpc_server *srv = NULL;
	struct cairn_drpc_client *a, *b, *c;
	struct cairn_drpc_response r;
	char path[108];

	snprintf(path, sizeof(path), "/tmp/cairn-test-drpc-%d-mc.sock", (int)getpid());
	assert_int_equal(server_start(path, 2, &srv), 0);
	assert_int_equal(cairn_drpc_client_connect(path, 1000, &a), 0);
	assert_int_equal(cairn_drpc_client_call(a, 0, TEST_METHOD_ECHO, "a", 1, 2000, &r), 0);
	cairn_drpc_response_release(&r);
	assert_int_equal(cairn_drpc_client_connect(path, 1000, &b), 0);
	assert_int_equal(cairn_drpc_client_call(b, 0, TEST_METHOD_ECHO, "b", 1, 2000, &r), 0);
	cairn_drpc_response_release(&r);
	/* The third connection is accepted by the kernel, then closed by the server. */
	assert_int_equal(cairn_drpc_client_connect(path, 1000, &c), 0);
	assert_int_equal(cairn_drpc_client_call(c, 0, TEST_METHOD_ECHO, "c", 1, 2000, &r),
	                 -CAIRN_ERR_UNREACH);
	cairn_drpc_client_close(c);

	server_stop(srv);
	/* After stop, calls fail instead of hanging. */
	assert_int_equal(cairn_drpc_client_call(a, 0, TEST_METHOD_ECHO, "a", 1, 2000, &r),
	                 -CAIRN_ERR_UNREACH);
	cairn_drpc_client_close(a);
	cairn_drpc_client_close(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_codec_roundtrip),
	        cmocka_unit_test(test_codec_rejects),
	        cmocka_unit_test(test_registry),
	        cmocka_unit_test(test_calls),
	        cmocka_unit_test(test_bad_messages),
	        cmocka_unit_test(test_timeout_and_late_reply),
	        cmocka_unit_test(test_concurrent_clients),
	        cmocka_unit_test(test_socket_path_rules),
	        cmocka_unit_test(test_listen_handover),
	        cmocka_unit_test(test_max_conns_and_stop),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
