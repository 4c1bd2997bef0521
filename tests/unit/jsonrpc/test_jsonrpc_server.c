/*
 * JSON-RPC server over a real Unix (and TCP) socket, driven single-threaded: the test is
 * the client and polls the server between sends and receives. Async answers come from
 * a helper pthread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <cairn/errno.h>
#include "jsonrpc/jsonrpc.h"
#include "jsonrpc/jsonrpc_client.h"
#include "jsonrpc_internal.h"

static char g_dir[64];
static char g_path[128];
static struct cairn_jsonrpc_server *g_srv;

/* ------------------------------------------------------------------ methods */

struct add_req {
	int64_t a;
	int64_t b;
};

static const struct cairn_json_decoder g_add_dec[] = {
	{ "a", CAIRN_JSON_INT64, offsetof(struct add_req, a), false },
	{ "b", CAIRN_JSON_INT64, offsetof(struct add_req, b), false },
};

static void
rpc_add(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct add_req r = { 0 };
	struct cairn_json_write_ctx *w;

	if (cairn_jsonrpc_decode_params(req, params, g_add_dec, 2, &r))
		return;
	w = cairn_jsonrpc_begin_result(req);
	if (w == NULL)
		return;
	cairn_json_write_int64(w, r.a + r.b);
	cairn_jsonrpc_end_result(req, w);
}

static void
rpc_echo(struct cairn_jsonrpc_request *req, const json_t *params)
{
	cairn_jsonrpc_send_json(req, params ? json_deep_copy(params) : json_null());
}

static void
rpc_fail(struct cairn_jsonrpc_request *req, const json_t *params)
{
	cairn_jsonrpc_send_rc(req, -CAIRN_ERR_NONEXIST, "bdev foo");
}

static void *
answer_later(void *arg)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	cairn_jsonrpc_send_bool(arg, true);
	return NULL;
}

static pthread_t g_async_thr;
static int g_async_started;

static void
rpc_async(struct cairn_jsonrpc_request *req, const json_t *params)
{
	assert_int_equal(pthread_create(&g_async_thr, NULL, answer_later, req), 0);
	g_async_started++;
}

static void
rpc_startup_only(struct cairn_jsonrpc_request *req, const json_t *params)
{
	cairn_jsonrpc_send_bool(req, true);
}

static struct cairn_jsonrpc_request *_Atomic g_hung;

static void
rpc_hang(struct cairn_jsonrpc_request *req, const json_t *params)
{
	atomic_store(&g_hung, req); /* answered by the test thread later (release) */
}

static const struct cairn_jsonrpc_method g_methods[] = {
	{ "test_hang", rpc_hang, CAIRN_RPC_RUNTIME, NULL },
	{ "test_add", rpc_add, CAIRN_RPC_STARTUP | CAIRN_RPC_RUNTIME, "add a and b" },
	{ "test_echo", rpc_echo, CAIRN_RPC_RUNTIME, NULL },
	{ "test_fail", rpc_fail, CAIRN_RPC_RUNTIME, NULL },
	{ "test_async", rpc_async, CAIRN_RPC_RUNTIME, NULL },
	{ "test_startup_only", rpc_startup_only, CAIRN_RPC_STARTUP, NULL },
};

/* ------------------------------------------------------------------ client helpers */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
client_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", g_path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void
send_all(int fd, const char *s, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(fd, s + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			cairn_jsonrpc_server_poll(g_srv);
			continue;
		}
		assert_true(n > 0);
		off += (size_t)n;
	}
}

static void
send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

/* Poll the server until one newline-terminated reply arrives (or EOF/timeout). Returns
 * the parsed reply, or NULL on EOF. */
static char g_rx[1 << 16];
static size_t g_rxlen;

static json_t *
recv_reply(int fd, unsigned timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	json_error_t err;
	json_t *v;
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(g_rx, '\n', g_rxlen);
		if (nl) {
			size_t l = (size_t)(nl - g_rx) + 1;

			v = json_loadb(g_rx, l, 0, &err);
			if (v == NULL)
				fail_msg("bad reply '%.*s': %s", (int)l, g_rx, err.text);
			memmove(g_rx, g_rx + l, g_rxlen - l);
			g_rxlen -= l;
			return v;
		}
		if (now_ms() > deadline)
			fail_msg("no reply within %u ms", timeout_ms);
		cairn_jsonrpc_server_poll(g_srv);
		n = recv(fd, g_rx + g_rxlen, sizeof(g_rx) - g_rxlen, MSG_DONTWAIT);
		if (n == 0)
			return NULL;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return NULL;
		if (n > 0)
			g_rxlen += (size_t)n;
		else
			usleep(200);
	}
}

/* Expect no data for ms milliseconds (server polled meanwhile). */
static void
expect_silence(int fd, unsigned ms)
{
	uint64_t deadline = now_ms() + ms;
	char c;

	while (now_ms() < deadline) {
		cairn_jsonrpc_server_poll(g_srv);
		assert_true(recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) < 0);
		usleep(500);
	}
}

static json_t *
call(int fd, const char *text)
{
	json_t *r;

	send_str(fd, text);
	r = recv_reply(fd, 5000);
	assert_non_null(r);
	return r;
}

static void
assert_error(json_t *r, int code, const char *substr)
{
	json_t *e = json_object_get(r, "error");
	const char *msg;

	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "code")), code);
	msg = json_string_value(json_object_get(e, "message"));
	assert_non_null(msg);
	if (substr && strstr(msg, substr) == NULL)
		fail_msg("message '%s' lacks '%s'", msg, substr);
	assert_null(json_object_get(r, "result"));
	assert_string_equal(json_string_value(json_object_get(r, "jsonrpc")), "2.0");
}

/* ------------------------------------------------------------------ fixtures */

static int
setup(void **state)
{
	struct cairn_jsonrpc_server_opts o;

	snprintf(g_dir, sizeof(g_dir), "/tmp/cairn-jrpc-XXXXXX");
	assert_non_null(mkdtemp(g_dir));
	snprintf(g_path, sizeof(g_path), "%s/rpc.sock", g_dir);
	cairn_jsonrpc_server_opts_default(&o);
	o.unix_path = g_path;
	o.tcp_addr = "127.0.0.1:0";
	o.max_request_size = 4096;
	assert_int_equal(cairn_jsonrpc_server_start(&o, &g_srv), 0);
	g_rxlen = 0;
	return 0;
}

static int
teardown(void **state)
{
	cairn_jsonrpc_server_stop(g_srv);
	g_srv = NULL;
	unlink(g_path);
	rmdir(g_dir);
	return 0;
}

/* ------------------------------------------------------------------ tests */

static void
test_single_and_notification(void **state)
{
	int fd = client_connect();
	json_t *r;

	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_add\",\"params\":{\"a\":2,\"b\":40},"
		     "\"id\":1}");
	assert_int_equal(json_integer_value(json_object_get(r, "result")), 42);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
	json_decref(r);

	/* string id echoed back */
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_echo\",\"params\":[1,\"x\"],"
		     "\"id\":\"abc\"}");
	assert_string_equal(json_string_value(json_object_get(r, "id")), "abc");
	assert_int_equal(json_array_size(json_object_get(r, "result")), 2);
	json_decref(r);

	/* notifications get no reply, even unknown methods */
	send_str(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_add\",\"params\":{\"a\":1,\"b\":1}}");
	send_str(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}");
	expect_silence(fd, 30);
	close(fd);
}

static void
test_errors(void **state)
{
	int fd = client_connect();
	json_t *r;

	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":2}");
	assert_error(r, CAIRN_JSONRPC_ERROR_METHOD_NOT_FOUND, "nope");
	json_decref(r);
	r = call(fd, "{\"method\":\"test_add\",\"id\":3}");
	assert_error(r, CAIRN_JSONRPC_ERROR_INVALID_REQUEST, "jsonrpc");
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 3);
	json_decref(r);
	r = call(fd, "{\"jsonrpc\":\"1.0\",\"method\":\"test_add\",\"id\":3}");
	assert_error(r, CAIRN_JSONRPC_ERROR_INVALID_REQUEST, "2.0");
	json_decref(r);
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":5,\"id\":4}");
	assert_error(r, CAIRN_JSONRPC_ERROR_INVALID_REQUEST, "method");
	json_decref(r);
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_add\",\"params\":3,\"id\":5}");
	assert_error(r, CAIRN_JSONRPC_ERROR_INVALID_REQUEST, "params");
	json_decref(r);
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_add\",\"id\":{}}");
	assert_error(r, CAIRN_JSONRPC_ERROR_INVALID_REQUEST, "id");
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_add\",\"extra\":1,\"id\":6}");
	assert_error(r, CAIRN_JSONRPC_ERROR_INVALID_REQUEST, "extra");
	json_decref(r);
	r = call(fd, "42\n"); /* a bare scalar ends at a delimiter */
	assert_error(r, CAIRN_JSONRPC_ERROR_INVALID_REQUEST, NULL);
	json_decref(r);
	r = call(fd, "[]");
	assert_error(r, CAIRN_JSONRPC_ERROR_INVALID_REQUEST, "empty batch");
	json_decref(r);
	/* invalid params name the param */
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_add\",\"params\":{\"a\":1},\"id\":7}");
	assert_error(r, CAIRN_JSONRPC_ERROR_INVALID_PARAMS, "'b'");
	json_decref(r);
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_add\",\"params\":{\"a\":\"1\",\"b\":1},"
		     "\"id\":8}");
	assert_error(r, CAIRN_JSONRPC_ERROR_INVALID_PARAMS, "param 'a'");
	json_decref(r);
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_add\",\"params\":[1,2],\"id\":9}");
	assert_error(r, CAIRN_JSONRPC_ERROR_INVALID_PARAMS, "named");
	json_decref(r);
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_fail\",\"id\":10}");
	assert_error(r, -CAIRN_ERR_NONEXIST, "bdev foo");
	json_decref(r);
	/* duplicate keys are rejected as a parse error, which closes the connection */
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"jsonrpc\":\"2.0\",\"method\":\"x\",\"id\":1}");
	assert_error(r, CAIRN_JSONRPC_ERROR_PARSE_ERROR, "duplicate");
	json_decref(r);
	assert_null(recv_reply(fd, 2000));
	close(fd);
}

static void
test_parse_error_closes(void **state)
{
	int fd = client_connect(), fd2 = client_connect();
	json_t *r;

	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_add\",,}");
	assert_error(r, CAIRN_JSONRPC_ERROR_PARSE_ERROR, "Parse error");
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	assert_null(recv_reply(fd, 2000)); /* closed */
	close(fd);

	fd = client_connect();
	r = call(fd, "}");
	assert_error(r, CAIRN_JSONRPC_ERROR_PARSE_ERROR, NULL);
	json_decref(r);
	assert_null(recv_reply(fd, 2000));
	close(fd);

	/* the other client is unaffected */
	r = call(fd2, "{\"jsonrpc\":\"2.0\",\"method\":\"test_add\",\"params\":{\"a\":1,\"b\":2},"
		      "\"id\":1}");
	assert_int_equal(json_integer_value(json_object_get(r, "result")), 3);
	json_decref(r);
	close(fd2);
}

static void
test_framing(void **state)
{
	const char *two = "{\"jsonrpc\":\"2.0\",\"method\":\"test_add\",\"params\":{\"a\":1,\"b\":2},"
			  "\"id\":1}  \n\t{\"jsonrpc\":\"2.0\",\"method\":\"test_echo\","
			  "\"params\":{\"s\":\"}]{[\\\"\"},\"id\":2}\n";
	int fd = client_connect();
	json_t *r;
	size_t i;

	/* concatenated values in one write */
	send_str(fd, two);
	r = recv_reply(fd, 5000);
	assert_int_equal(json_integer_value(json_object_get(r, "result")), 3);
	json_decref(r);
	r = recv_reply(fd, 5000);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "result"), "s")),
			    "}]{[\"");
	json_decref(r);

	/* byte by byte, polling in between */
	for (i = 0; two[i]; i++) {
		send_all(fd, &two[i], 1);
		cairn_jsonrpc_server_poll(g_srv);
	}
	r = recv_reply(fd, 5000);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
	json_decref(r);
	r = recv_reply(fd, 5000);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 2);
	json_decref(r);
	close(fd);
}

static void
test_batch(void **state)
{
	int fd = client_connect();
	json_t *r, *e;
	size_t i;
	int seen = 0;

	r = call(fd, "[{\"jsonrpc\":\"2.0\",\"method\":\"test_add\",\"params\":{\"a\":1,\"b\":2},"
		     "\"id\":1},"
		     "{\"jsonrpc\":\"2.0\",\"method\":\"test_add\",\"params\":{\"a\":1,\"b\":2}},"
		     "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":2},"
		     "7,"
		     "{\"jsonrpc\":\"2.0\",\"method\":\"test_async\",\"id\":3}]");
	assert_true(json_is_array(r));
	assert_int_equal(json_array_size(r), 4); /* notification has no entry */
	json_array_foreach(r, i, e) {
		json_t *id = json_object_get(e, "id");

		if (json_is_null(id)) {
			assert_error(e, CAIRN_JSONRPC_ERROR_INVALID_REQUEST, NULL);
			seen |= 1;
		} else if (json_integer_value(id) == 1) {
			assert_int_equal(json_integer_value(json_object_get(e, "result")), 3);
			seen |= 2;
		} else if (json_integer_value(id) == 2) {
			assert_error(e, CAIRN_JSONRPC_ERROR_METHOD_NOT_FOUND, NULL);
			seen |= 4;
		} else if (json_integer_value(id) == 3) {
			assert_true(json_is_true(json_object_get(e, "result")));
			seen |= 8;
		}
	}
	assert_int_equal(seen, 15);
	json_decref(r);
	pthread_join(g_async_thr, NULL);

	/* all-notification batch: no reply at all */
	send_str(fd, "[{\"jsonrpc\":\"2.0\",\"method\":\"test_add\",\"params\":{\"a\":1,\"b\":1}}]");
	expect_silence(fd, 30);
	close(fd);
}

static void
test_async_answer(void **state)
{
	int fd = client_connect();
	json_t *r;

	g_async_started = 0;
	send_str(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_async\",\"id\":77}");
	r = recv_reply(fd, 5000);
	assert_int_equal(g_async_started, 1);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 77);
	assert_true(json_is_true(json_object_get(r, "result")));
	json_decref(r);
	pthread_join(g_async_thr, NULL);

	/* the client leaves before the answer: the answer is dropped, nothing leaks */
	send_str(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_async\",\"id\":78}");
	cairn_jsonrpc_server_poll(g_srv);
	close(fd);
	cairn_jsonrpc_server_poll(g_srv);
	pthread_join(g_async_thr, NULL);
	cairn_jsonrpc_server_poll(g_srv);
}

static void
test_oversize(void **state)
{
	char *big = malloc(10000);
	int fd = client_connect();
	json_t *r;

	memset(big, ' ', 10000);
	memcpy(big, "{\"jsonrpc\":\"2.0\",\"method\":\"test_echo\",\"params\":{\"s\":\"", 51);
	memset(big + 51, 'a', 9000);
	big[9999] = '\0';
	r = call(fd, big);
	assert_error(r, CAIRN_JSONRPC_ERROR_PARSE_ERROR, "exceeds 4096");
	json_decref(r);
	assert_null(recv_reply(fd, 2000));
	close(fd);
	free(big);

	/* too deep */
	fd = client_connect();
	big = calloc(1, 200);
	memset(big, '[', 150);
	r = call(fd, big);
	assert_error(r, CAIRN_JSONRPC_ERROR_PARSE_ERROR, "nesting");
	json_decref(r);
	close(fd);
	free(big);
}

static void
test_truncated_at_eof(void **state)
{
	int fd = client_connect();
	json_t *r;

	send_str(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_add\",\"params\":{\"a\":1,\"b\":2},"
		     "\"id\":1}{\"jsonrpc\":");
	shutdown(fd, SHUT_WR);
	r = recv_reply(fd, 5000);
	assert_int_equal(json_integer_value(json_object_get(r, "result")), 3);
	json_decref(r);
	r = recv_reply(fd, 5000);
	assert_error(r, CAIRN_JSONRPC_ERROR_PARSE_ERROR, "truncated");
	json_decref(r);
	assert_null(recv_reply(fd, 2000));
	close(fd);
}

static void
test_many_clients(void **state)
{
	enum { N = 40 };
	int fds[N], i;
	char buf[160];
	json_t *r;

	for (i = 0; i < N; i++)
		fds[i] = client_connect();
	for (i = 0; i < N; i++) {
		snprintf(buf, sizeof(buf), "{\"jsonrpc\":\"2.0\",\"method\":\"test_add\","
					   "\"params\":{\"a\":%d,\"b\":1},\"id\":%d}", i, i);
		send_str(fds[i], buf);
	}
	for (i = N - 1; i >= 0; i--) {
		r = recv_reply(fds[i], 5000);
		assert_int_equal(json_integer_value(json_object_get(r, "result")), i + 1);
		json_decref(r);
	}
	assert_int_equal(cairn_jsonrpc_server_nr_conns(g_srv), N);
	for (i = 0; i < N; i++)
		close(fds[i]);
	for (i = 0; i < 100 && cairn_jsonrpc_server_nr_conns(g_srv) > 0; i++) {
		cairn_jsonrpc_server_poll(g_srv);
		usleep(1000);
	}
	assert_int_equal(cairn_jsonrpc_server_nr_conns(g_srv), 0);
}

static void
test_conn_limit(void **state)
{
	struct cairn_jsonrpc_server_opts o;
	struct cairn_jsonrpc_server *saved = g_srv;
	char path[160];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int a, b;
	char c;

	snprintf(path, sizeof(path), "%s/lim.sock", g_dir);
	cairn_jsonrpc_server_opts_default(&o);
	o.unix_path = path;
	o.max_conns = 1;
	assert_int_equal(cairn_jsonrpc_server_start(&o, &g_srv), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	a = socket(AF_UNIX, SOCK_STREAM, 0);
	b = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(a, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cairn_jsonrpc_server_poll(g_srv);
	assert_int_equal(connect(b, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cairn_jsonrpc_server_poll(g_srv);
	assert_int_equal(cairn_jsonrpc_server_nr_conns(g_srv), 1);
	assert_int_equal(recv(b, &c, 1, 0), 0); /* closed by the server */
	close(a);
	close(b);
	cairn_jsonrpc_server_stop(g_srv);
	g_srv = saved;
}

static void
test_socket_reuse(void **state)
{
	struct cairn_jsonrpc_server_opts o;
	struct cairn_jsonrpc_server *s2;
	char path[160];
	int fd;

	/* live socket: refused */
	cairn_jsonrpc_server_opts_default(&o);
	o.unix_path = g_path;
	assert_int_equal(cairn_jsonrpc_server_start(&o, &s2), -CAIRN_ERR_BUSY);
	/* stale socket file: replaced */
	snprintf(path, sizeof(path), "%s/stale.sock", g_dir);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd);
	}
	o.unix_path = path;
	assert_int_equal(cairn_jsonrpc_server_start(&o, &s2), 0);
	cairn_jsonrpc_server_stop(s2);
	assert_int_equal(access(path, F_OK), -1);
	/* not a socket: refused */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(cairn_jsonrpc_server_start(&o, &s2), -CAIRN_ERR_EXIST);
	unlink(path);
	/* no listener at all, bad TCP address */
	o.unix_path = NULL;
	assert_int_equal(cairn_jsonrpc_server_start(&o, &s2), -CAIRN_ERR_INVAL);
	o.tcp_addr = "localhost";
	assert_int_equal(cairn_jsonrpc_server_start(&o, &s2), -CAIRN_ERR_INVAL);
	o.tcp_addr = "127.0.0.1:99999";
	assert_int_equal(cairn_jsonrpc_server_start(&o, &s2), -CAIRN_ERR_INVAL);
}

static void
test_tcp_and_state(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int port = cairn_jsonrpc_server_tcp_port(g_srv);
	int fd;
	json_t *r;

	assert_true(port > 0);
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_startup_only\",\"id\":1}");
	assert_error(r, CAIRN_JSONRPC_ERROR_INVALID_STATE, "runtime");
	json_decref(r);
	cairn_jsonrpc_set_state(CAIRN_RPC_STARTUP);
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_startup_only\",\"id\":2}");
	assert_true(json_is_true(json_object_get(r, "result")));
	json_decref(r);
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test_echo\",\"id\":3}");
	assert_error(r, CAIRN_JSONRPC_ERROR_INVALID_STATE, "startup");
	json_decref(r);
	cairn_jsonrpc_set_state(CAIRN_RPC_RUNTIME);
	close(fd);
}

static void
collect(const struct cairn_jsonrpc_method *m, void *arg)
{
	json_array_append_new(arg, json_string(m->name));
}

static int
dump_a(struct cairn_json_write_ctx *w, void *arg)
{
	cairn_json_write_object_begin(w);
	cairn_json_write_named_string(w, "method", arg);
	cairn_json_write_named_object_begin(w, "params");
	cairn_json_write_object_end(w);
	return cairn_json_write_object_end(w);
}

static void
test_registry_and_config(void **state)
{
	static const struct cairn_jsonrpc_method dup[] = {
		{ "zz_new", rpc_echo, CAIRN_RPC_RUNTIME, NULL },
		{ "test_add", rpc_add, CAIRN_RPC_RUNTIME, NULL },
	};
	static const struct cairn_jsonrpc_method bad[] = {
		{ "x", NULL, CAIRN_RPC_RUNTIME, NULL },
	};
	struct cairn_json_write_ctx *w;
	json_t *names = json_array(), *cfg;
	char *s;

	assert_int_equal(cairn_jsonrpc_register_methods(dup, 2), -CAIRN_ERR_EXIST);
	assert_null(cairn_jsonrpc_find_method("zz_new")); /* all or nothing */
	assert_int_equal(cairn_jsonrpc_register_methods(bad, 1), -CAIRN_ERR_INVAL);
	cairn_jsonrpc_foreach_method(collect, names);
	assert_int_equal(json_array_size(names), 6);
	assert_string_equal(json_string_value(json_array_get(names, 0)), "test_add");
	assert_string_equal(json_string_value(json_array_get(names, 5)), "test_startup_only");
	json_decref(names);

	assert_int_equal(cairn_jsonrpc_register_config("iscsi", 20, dump_a, "iscsi_x"), 0);
	assert_int_equal(cairn_jsonrpc_register_config("bdev", 10, dump_a, "bdev_x"), 0);
	assert_int_equal(cairn_jsonrpc_register_config("bdev", 10, dump_a, "bdev_x"),
			 -CAIRN_ERR_EXIST);
	w = cairn_json_write_begin(0);
	assert_int_equal(cairn_jsonrpc_write_config(w), 0);
	assert_int_equal(cairn_json_write_end(w, &s, NULL), 0);
	cfg = json_loads(s, 0, NULL);
	assert_non_null(cfg);
	free(s);
	s = json_dumps(cfg, JSON_COMPACT);
	assert_string_equal(s, "{\"subsystems\":[{\"subsystem\":\"bdev\",\"config\":[{\"method\":"
			       "\"bdev_x\",\"params\":{}}]},{\"subsystem\":\"iscsi\",\"config\":"
			       "[{\"method\":\"iscsi_x\",\"params\":{}}]}]}");
	free(s);
	json_decref(cfg);
	cairn_jsonrpc_unregister_config("bdev");
	cairn_jsonrpc_unregister_config("iscsi");
}

/* The blocking client against the server polled by a helper thread. */
static atomic_int g_poll_stop;

static void *
poll_thread(void *arg)
{
	while (!g_poll_stop) {
		cairn_jsonrpc_server_poll(g_srv);
		usleep(100);
	}
	return NULL;
}

static void
test_client(void **state)
{
	struct cairn_jsonrpc_client *cl = NULL;
	json_t *p, *r = NULL;
	pthread_t thr;
	char path[160];

	snprintf(path, sizeof(path), "%s/absent.sock", g_dir);
	assert_int_equal(cairn_jsonrpc_client_connect(path, 0, &cl), -ENOENT);
	assert_int_equal(cairn_jsonrpc_client_connect("", 0, &cl), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_jsonrpc_client_connect("127.0.0.1:99999", 0, &cl),
			 -CAIRN_ERR_INVAL);

	g_poll_stop = 0;
	assert_int_equal(pthread_create(&thr, NULL, poll_thread, NULL), 0);
	assert_int_equal(cairn_jsonrpc_client_connect(g_path, 1000, &cl), 0);
	p = json_pack("{s:i, s:i}", "a", 20, "b", 22);
	assert_int_equal(cairn_jsonrpc_client_call(cl, "test_add", p, 5000, &r), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "result")), 42);
	json_decref(r);
	json_decref(p);
	/* an error reply is a successful call carrying "error" */
	assert_int_equal(cairn_jsonrpc_client_call(cl, "nope", NULL, 5000, &r), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
			 CAIRN_JSONRPC_ERROR_METHOD_NOT_FOUND);
	json_decref(r);
	/* no answer in time */
	atomic_store(&g_hung, NULL);
	assert_int_equal(cairn_jsonrpc_client_call(cl, "test_hang", NULL, 300, &r),
			 -CAIRN_ERR_TIMEDOUT);
	for (int i = 0; i < 500 && atomic_load(&g_hung) == NULL; i++)
		usleep(10000); /* the handler runs on the poll thread */
	assert_non_null(atomic_load(&g_hung));
	/* the late reply of the timed-out call is skipped by id */
	cairn_jsonrpc_send_bool(atomic_load(&g_hung), false);
	assert_int_equal(cairn_jsonrpc_client_call(cl, "test_echo", NULL, 5000, &r), 0);
	assert_true(json_is_null(json_object_get(r, "result")));
	json_decref(r);
	/* raw: a parse error comes back with id null, then the server closes */
	assert_int_equal(cairn_jsonrpc_client_send_raw(cl, "{bad", 4), 0);
	assert_int_equal(cairn_jsonrpc_client_send_raw(cl, "}\n", 2), 0);
	assert_int_equal(cairn_jsonrpc_client_recv(cl, 5000, &r), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
			 CAIRN_JSONRPC_ERROR_PARSE_ERROR);
	json_decref(r);
	assert_int_equal(cairn_jsonrpc_client_recv(cl, 5000, &r), -ECONNRESET);
	cairn_jsonrpc_client_close(cl);
	g_poll_stop = 1;
	pthread_join(thr, NULL);
}

/* Detached connection: the path the fuzz target uses. */
static char g_sink[4096];

static void
sink(void *arg, const char *text, size_t len)
{
	snprintf(g_sink, sizeof(g_sink), "%.*s", (int)len, text);
}

static void
test_detached_and_scanner(void **state)
{
	struct jr_conn *c = jr_conn_detached(sink, NULL);
	struct jr_scanner sc;
	size_t st = 0, en = 0;

	const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"test_add\","
			  "\"params\":{\"a\":5,\"b\":5},\"id\":1}";

	assert_int_equal(jr_handle_value(c, req, strlen(req)), 0);
	assert_non_null(strstr(g_sink, "\"result\":10"));
	assert_int_equal(jr_handle_value(c, "{x", 2), -CAIRN_ERR_PROTO);
	jr_conn_detached_free(c);

	jr_scan_reset(&sc);
	assert_int_equal(jr_scan(&sc, "  12 ", 5, &st, &en), JR_SCAN_COMPLETE);
	assert_int_equal(st, 2);
	assert_int_equal(en, 4);
	jr_scan_reset(&sc);
	assert_int_equal(jr_scan(&sc, "\"a\\\"b\"", 6, &st, &en), JR_SCAN_COMPLETE);
	assert_int_equal(en, 6);
	jr_scan_reset(&sc);
	assert_int_equal(jr_scan(&sc, "{\"a\":[1,", 8, &st, &en), JR_SCAN_NEED_MORE);
	assert_int_equal(jr_scan(&sc, "{\"a\":[1,2]}", 11, &st, &en), JR_SCAN_COMPLETE);
	assert_int_equal(en, 11);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_single_and_notification, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_error_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_at_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conn_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_and_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registry_and_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client, setup, teardown),
		cmocka_unit_test(test_detached_and_scanner),
	};
	int rc;

	assert_int_equal(cairn_jsonrpc_register_methods(g_methods, 6), 0);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	cairn_jsonrpc_unregister_methods(g_methods, 6);
	return rc;
}
