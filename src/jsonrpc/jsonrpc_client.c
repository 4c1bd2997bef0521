/*
 * Blocking JSON-RPC client: connect (Unix or TCP), send one call, frame the reply with
 * the same scanner the server uses, match the id.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cairn/errno.h>

#include "jsonrpc/jsonrpc_client.h"
#include "jsonrpc_internal.h"

#define JC_MAX_REPLY (256u << 20)

struct cairn_jsonrpc_client {
	int fd;
	int64_t next_id;
	char *buf;
	size_t len;
	size_t cap;
	struct jr_scanner scan;
};

static uint64_t
jc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* "a.b.c.d:port" -> TCP; returns 1 if TCP and fills sa, 0 if not TCP-looking. */
static int
jc_parse_tcp(const char *addr, struct sockaddr_in *sa)
{
	const char *colon = strrchr(addr, ':');
	char host[64];
	unsigned long port;
	char *end;

	if (colon == NULL || strchr(addr, '/') || (size_t)(colon - addr) >= sizeof(host))
		return 0;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port == 0 || port > 65535)
		return -1;
	sa->sin_port = htons((uint16_t)port);
	return 1;
}

int
cairn_jsonrpc_client_connect(const char *addr, unsigned timeout_ms,
			     struct cairn_jsonrpc_client **out)
{
	struct cairn_jsonrpc_client *cl;
	struct sockaddr_storage ss;
	struct sockaddr_un *un = (struct sockaddr_un *)&ss;
	socklen_t slen;
	uint64_t deadline = jc_now_ms() + timeout_ms;
	int tcp, fd, rc;

	if (addr == NULL || addr[0] == '\0' || out == NULL)
		return -CAIRN_ERR_INVAL;
	memset(&ss, 0, sizeof(ss));
	tcp = jc_parse_tcp(addr, (struct sockaddr_in *)&ss);
	if (tcp < 0)
		return -CAIRN_ERR_INVAL;
	if (tcp) {
		slen = sizeof(struct sockaddr_in);
	} else {
		if (strlen(addr) >= sizeof(un->sun_path))
			return -CAIRN_ERR_INVAL;
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, addr, strlen(addr) + 1);
		slen = sizeof(*un);
	}
	for (;;) {
		fd = socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&ss, slen) == 0)
			break;
		rc = -errno;
		close(fd);
		if ((rc != -ENOENT && rc != -ECONNREFUSED && rc != -EAGAIN) ||
		    jc_now_ms() >= deadline)
			return rc;
		usleep(20000);
	}
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL) {
		close(fd);
		return -CAIRN_ERR_NOMEM;
	}
	cl->fd = fd;
	cl->next_id = 1;
	*out = cl;
	return 0;
}

void
cairn_jsonrpc_client_close(struct cairn_jsonrpc_client *cl)
{
	if (cl == NULL)
		return;
	close(cl->fd);
	free(cl->buf);
	free(cl);
}

int
cairn_jsonrpc_client_send_raw(struct cairn_jsonrpc_client *cl, const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(cl->fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	return 0;
}

int
cairn_jsonrpc_client_recv(struct cairn_jsonrpc_client *cl, unsigned timeout_ms, json_t **value)
{
	uint64_t deadline = jc_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = cl->fd, .events = POLLIN };
	size_t start, end;
	json_error_t err;
	ssize_t n;
	int left;

	for (;;) {
		enum jr_scan_result r = jr_scan(&cl->scan, cl->buf, cl->len, &start, &end);

		if (r == JR_SCAN_ERROR)
			return -CAIRN_ERR_PROTO;
		if (r == JR_SCAN_COMPLETE) {
			*value = json_loadb(cl->buf + start, end - start, JSON_DECODE_ANY, &err);
			memmove(cl->buf, cl->buf + end, cl->len - end);
			cl->len -= end;
			jr_scan_reset(&cl->scan);
			return *value ? 0 : -CAIRN_ERR_PROTO;
		}
		if (cl->cap - cl->len < 65536) {
			size_t cap = cl->cap ? cl->cap * 2 : 131072;
			char *nb;

			if (cap > JC_MAX_REPLY)
				return -CAIRN_ERR_PROTO;
			nb = realloc(cl->buf, cap);
			if (nb == NULL)
				return -CAIRN_ERR_NOMEM;
			cl->buf = nb;
			cl->cap = cap;
		}
		left = (int)(deadline > jc_now_ms() ? deadline - jc_now_ms() : 0);
		if (left == 0)
			return -CAIRN_ERR_TIMEDOUT;
		n = poll(&pfd, 1, left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		n = recv(cl->fd, cl->buf + cl->len, cl->cap - cl->len, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		cl->len += (size_t)n;
	}
}

int
cairn_jsonrpc_client_call(struct cairn_jsonrpc_client *cl, const char *method,
			  const json_t *params, unsigned timeout_ms, json_t **response)
{
	json_t *req, *reply = NULL;
	int64_t id = cl->next_id++;
	char *text;
	int rc;

	req = json_pack("{s:s, s:s, s:I}", "jsonrpc", "2.0", "method", method, "id",
			(json_int_t)id);
	if (req == NULL)
		return -CAIRN_ERR_NOMEM;
	if (params != NULL && json_object_set(req, "params", (json_t *)params) != 0) {
		json_decref(req);
		return -CAIRN_ERR_NOMEM;
	}
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (text == NULL)
		return -CAIRN_ERR_NOMEM;
	rc = cairn_jsonrpc_client_send_raw(cl, text, strlen(text));
	if (rc == 0)
		rc = cairn_jsonrpc_client_send_raw(cl, "\n", 1);
	free(text);
	if (rc)
		return rc;
	for (;;) {
		rc = cairn_jsonrpc_client_recv(cl, timeout_ms, &reply);
		if (rc)
			return rc;
		if (json_is_object(reply)) {
			json_t *rid = json_object_get(reply, "id");

			/* id null: the server could not read our request (parse error). */
			if ((json_is_integer(rid) && json_integer_value(rid) == id) ||
			    json_is_null(rid)) {
				*response = reply;
				return 0;
			}
		}
		json_decref(reply); /* a stale reply of an earlier, timed-out call */
	}
}
