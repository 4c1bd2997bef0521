/*
 * dRPC server: a Unix SEQPACKET listener owned by one xstream (the engine's system
 * xstream). A poller there accepts connections and reads packets through a private epoll
 * set (registered as the xstream's wake fd, so an idle engine sleeps); every packet is
 * handled in its own ULT on that xstream: decode, dispatch to the module's handler,
 * encode, send. Everything here runs on the owning xstream, so no locks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_ENGINE
#include "common/log.h"
#include "rt/rt.h"

#include "drpc_internal.h"

#define DRPC_ACCEPT_BUDGET 16
#define DRPC_RECV_BUDGET 16          /* packets per connection per poll */
#define DRPC_CONN_INFLIGHT 64        /* calls being handled per connection */
#define DRPC_SEND_TIMEOUT_US 2000000 /* give up on a peer that does not read */
#define DRPC_ULT_STACK (128u * 1024)

struct drpc_conn {
	struct drpc_conn *next;
	struct drpc_conn *prev;
	struct cairn_drpc_server *srv;
	int fd;
	unsigned refs; /* 1 while open + 1 per call being handled */
	unsigned inflight;
	bool paused; /* EPOLLIN removed while inflight is at its cap */
};

struct cairn_drpc_server {
	int listen_fd;
	int epfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct cairn_poller *poller;
	struct drpc_conn *conns;
	unsigned refs; /* 1 for the owner + 1 per connection struct */
	unsigned max_conns;
	unsigned nr_conns;
	unsigned inflight;
	bool stopping;
	uint64_t calls;
	uint64_t errors;
	uint64_t bad_msgs;
	uint8_t *rxbuf; /* CAIRN_DRPC_MAX_MSG + 1: one byte more detects oversize */
};

struct drpc_job {
	struct drpc_conn *conn;
	size_t len; /* packet length (may exceed CAIRN_DRPC_MAX_MSG: then no data) */
	uint8_t data[];
};

static void
srv_put(struct cairn_drpc_server *srv)
{
	if (--srv->refs > 0)
		return;
	free(srv->rxbuf);
	free(srv);
}

static void
conn_put(struct drpc_conn *c)
{
	struct cairn_drpc_server *srv = c->srv;

	if (--c->refs > 0)
		return;
	free(c);
	srv_put(srv);
}

static void
conn_close(struct drpc_conn *c)
{
	struct cairn_drpc_server *srv = c->srv;

	if (c->fd < 0)
		return;
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	srv->nr_conns--;
	conn_put(c);
}

static void
conn_set_events(struct drpc_conn *c, bool want_in)
{
	struct epoll_event ev = {.events = want_in ? EPOLLIN : 0, .data.ptr = c};

	if (c->fd < 0 || c->paused == !want_in)
		return;
	if (epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->paused = !want_in;
}

/* Send one packet, yielding while the peer's receive queue is full. */
static int
conn_send(struct drpc_conn *c, const uint8_t *buf, size_t len)
{
	uint64_t deadline = cairn_rt_now_us() + DRPC_SEND_TIMEOUT_US;
	ssize_t n;

	for (;;) {
		if (c->fd < 0)
			return -CAIRN_ERR_UNREACH;
		n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return -CAIRN_ERR_IO; /* cannot happen on SEQPACKET */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
			return -errno;
		if (cairn_rt_now_us() > deadline)
			return -CAIRN_ERR_TIMEDOUT;
		cairn_ult_sleep_us(200);
	}
}

static void
drpc_handle_ult(void *arg)
{
	struct drpc_job *job = arg;
	struct drpc_conn *c = job->conn;
	struct cairn_drpc_server *srv = c->srv;
	struct cairn_drpc_call call;
	cairn_drpc_handler_fn fn;
	uint8_t *body = NULL, *out = NULL;
	size_t body_len = 0, out_len = 0;
	uint64_t seq = 0;
	const char *why;
	int rc;

	if (job->len > CAIRN_DRPC_MAX_MSG) {
		rc = -CAIRN_ERR_OVERFLOW;
		srv->bad_msgs++;
		cairn_drpc_errmsg(&body, &body_len,
		                  "message of %zu bytes exceeds the %u-byte "
		                  "dRPC limit",
		                  job->len, CAIRN_DRPC_MAX_MSG);
		goto reply;
	}
	rc = cairn_drpc_call_decode(job->data, job->len, &call);
	if (rc) {
		srv->bad_msgs++;
		cairn_drpc_errmsg(&body, &body_len, "malformed dRPC Call (%zu bytes): %s", job->len,
		                  cairn_strerror(rc));
		CAIRN_LOG_RATELIMIT(CAIRN_SS_ENGINE, CAIRN_LOG_WARN, 5,
		                    "dRPC: dropped a malformed Call of %zu bytes", job->len);
		goto reply;
	}
	seq = call.sequence;
	if (srv->stopping) {
		rc = -CAIRN_ERR_SHUTDOWN;
		cairn_drpc_errmsg(&body, &body_len, "engine is shutting down");
		goto release;
	}
	fn = drpc_lookup(call.module, call.method, &why);
	if (fn == NULL) {
		rc = -CAIRN_ERR_NOSYS;
		cairn_drpc_errmsg(&body, &body_len, "module %u method %u: %s", call.module,
		                  call.method, why);
		goto release;
	}
	srv->calls++;
	rc = fn(&call, &body, &body_len);
	if (rc > 0) {
		CAIRN_ERROR("dRPC handler %u/%u returned positive %d", call.module, call.method,
		            rc);
		rc = -CAIRN_ERR_MISC;
	}
	if (rc == 0 && body_len > CAIRN_DRPC_MAX_BODY) {
		rc = -CAIRN_ERR_OVERFLOW;
		cairn_drpc_errmsg(&body, &body_len, "reply of %zu bytes exceeds the dRPC limit",
		                  body_len);
	}
	if (body == NULL)
		body_len = 0;
release:
	cairn_drpc_call_release(&call);
reply:
	if (rc)
		srv->errors++;
	if (body_len > CAIRN_DRPC_MAX_BODY)
		body_len = 0;
	rc = cairn_drpc_response_encode(seq, rc, body, body_len, &out, &out_len);
	if (rc == 0) {
		rc = conn_send(c, out, out_len);
		if (rc && c->fd >= 0) {
			CAIRN_WARN("dRPC: cannot send a Response (%s); closing the connection",
			           cairn_strerror(rc));
			conn_close(c);
		}
	} else {
		CAIRN_ERROR("dRPC: cannot encode a Response: %s", cairn_strerror(rc));
	}
	free(out);
	free(body);
	free(job);
	srv->inflight--;
	c->inflight--;
	if (c->inflight < DRPC_CONN_INFLIGHT)
		conn_set_events(c, true);
	conn_put(c);
}

static int
drpc_dispatch(struct drpc_conn *c, size_t len)
{
	struct cairn_drpc_server *srv = c->srv;
	struct cairn_ult_attr attr = {
	        .prio = CAIRN_PRIO_NET,
	        .stack_size = DRPC_ULT_STACK,
	        .joinable = false,
	};
	size_t copy = len > CAIRN_DRPC_MAX_MSG ? 0 : len;
	struct drpc_job *job;
	int rc;

	job = malloc(sizeof(*job) + copy);
	if (job == NULL)
		return -CAIRN_ERR_NOMEM;
	job->conn = c;
	job->len = len;
	memcpy(job->data, srv->rxbuf, copy);
	c->refs++;
	c->inflight++;
	srv->inflight++;
	rc = cairn_ult_create(NULL, drpc_handle_ult, job, &attr, NULL);
	if (rc) {
		c->refs--;
		c->inflight--;
		srv->inflight--;
		free(job);
		return rc;
	}
	return 0;
}

static int
conn_read(struct drpc_conn *c)
{
	struct cairn_drpc_server *srv = c->srv;
	int work = 0, i, rc;
	ssize_t n;

	for (i = 0; i < DRPC_RECV_BUDGET && c->fd >= 0; i++) {
		if (c->inflight >= DRPC_CONN_INFLIGHT) {
			conn_set_events(c, false);
			break;
		}
		n = recv(c->fd, srv->rxbuf, CAIRN_DRPC_MAX_MSG + 1, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(c);
			break;
		}
		work = 1;
		if (n == 0) { /* orderly close (an empty packet cannot be sent on SEQPACKET
			       * through our client; treat as hang-up) */
			conn_close(c);
			break;
		}
		rc = drpc_dispatch(c, (size_t)n);
		if (rc) {
			CAIRN_ERROR("dRPC: cannot start a handler ULT (%s); closing the "
			            "connection",
			            cairn_strerror(rc));
			conn_close(c);
			break;
		}
	}
	return work;
}

/* Serve a connected socket (non-blocking); the caller closes fd on failure. */
static int
drpc_conn_add(struct cairn_drpc_server *srv, int fd)
{
	struct epoll_event ev;
	struct drpc_conn *c;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -CAIRN_ERR_NOMEM;
	c->srv = srv;
	c->fd = fd;
	c->refs = 1;
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return -errno;
	}
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nr_conns++;
	srv->refs++;
	return 0;
}

static int
drpc_accept(struct cairn_drpc_server *srv)
{
	int i, fd, work = 0;

	for (i = 0; i < DRPC_ACCEPT_BUDGET; i++) {
		fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				CAIRN_LOG_RATELIMIT(CAIRN_SS_ENGINE, CAIRN_LOG_WARN, 1,
				                    "dRPC accept: %s", strerror(errno));
			break;
		}
		work = 1;
		if (srv->nr_conns >= srv->max_conns) {
			CAIRN_LOG_RATELIMIT(CAIRN_SS_ENGINE, CAIRN_LOG_WARN, 1,
			                    "dRPC: %u connections already open; refusing one",
			                    srv->nr_conns);
			close(fd);
			continue;
		}
		if (drpc_conn_add(srv, fd) != 0)
			close(fd);
	}
	return work;
}

static int
drpc_poll(void *arg)
{
	struct cairn_drpc_server *srv = arg;
	struct epoll_event evs[16];
	struct drpc_conn *c;
	int n, i, work = 0;

	n = epoll_wait(srv->epfd, evs, 16, 0);
	for (i = 0; i < n; i++) {
		if (evs[i].data.ptr == srv) {
			work |= drpc_accept(srv);
			continue;
		}
		c = evs[i].data.ptr;
		/* Read first even on HUP: the peer may have sent Calls and closed. */
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
			c->refs++;
			work |= conn_read(c);
			if ((evs[i].events & (EPOLLHUP | EPOLLERR)) && !(evs[i].events & EPOLLIN))
				conn_close(c);
			conn_put(c);
		}
	}
	return work;
}

static int
drpc_listen(const char *path, int *out_fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, probe, rc;

	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path))
		return -CAIRN_ERR_INVAL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			CAIRN_ERROR("dRPC: %s exists and is not a socket", path);
			return -EEXIST;
		}
		probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (probe < 0)
			return -errno;
		rc = connect(probe, (struct sockaddr *)&sa, sizeof(sa));
		close(probe);
		if (rc == 0) {
			CAIRN_ERROR("dRPC: another process serves %s", path);
			return -CAIRN_ERR_BUSY;
		}
		unlink(path); /* stale: nobody listening */
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 64) < 0) {
		rc = -errno;
		CAIRN_ERROR("dRPC: cannot listen on %s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	*out_fd = fd;
	return 0;
}

int
cairn_drpc_listen(const char *path, int *listen_fd)
{
	if (listen_fd == NULL)
		return -CAIRN_ERR_INVAL;
	return drpc_listen(path, listen_fd);
}

/* listen_fd < 0: listen on path; else serve that listener (bound to path). On failure
 * an adopted listener is left open for its owner. */
static int
drpc_server_start(const char *path, int listen_fd, unsigned max_conns,
                  struct cairn_drpc_server **out)
{
	struct cairn_drpc_server *srv;
	struct epoll_event ev;
	int rc;

	if (out == NULL || path == NULL || cairn_xs_self() == NULL)
		return -CAIRN_ERR_INVAL;
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return -CAIRN_ERR_NOMEM;
	srv->refs = 1;
	srv->listen_fd = -1;
	srv->max_conns = max_conns ? max_conns : CAIRN_DRPC_DEFAULT_MAX_CONNS;
	srv->rxbuf = malloc(CAIRN_DRPC_MAX_MSG + 1);
	if (srv->rxbuf == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto err_free;
	}
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epfd < 0) {
		rc = -errno;
		goto err_free;
	}
	if (listen_fd >= 0)
		srv->listen_fd = listen_fd;
	else if ((rc = drpc_listen(path, &srv->listen_fd)) != 0)
		goto err_epoll;
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	ev.events = EPOLLIN;
	ev.data.ptr = srv;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->listen_fd, &ev) < 0) {
		rc = -errno;
		goto err_listen;
	}
	srv->poller = cairn_poller_register(drpc_poll, srv, 0, "drpc");
	if (srv->poller == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto err_listen;
	}
	rc = cairn_rt_wake_fd_add(srv->epfd, EPOLLIN);
	if (rc) {
		cairn_poller_unregister(&srv->poller);
		goto err_listen;
	}
	CAIRN_INFO("dRPC: serving %s", path);
	*out = srv;
	return 0;

err_listen:
	if (listen_fd < 0) {
		close(srv->listen_fd);
		unlink(path);
	}
err_epoll:
	close(srv->epfd);
err_free:
	free(srv->rxbuf);
	free(srv);
	return rc;
}

int
cairn_drpc_server_start(const char *path, unsigned max_conns, struct cairn_drpc_server **out)
{
	return drpc_server_start(path, -1, max_conns, out);
}

int
cairn_drpc_server_start_fd(const char *path, int listen_fd, unsigned max_conns,
                           struct cairn_drpc_server **out)
{
	if (listen_fd < 0)
		return -CAIRN_ERR_INVAL;
	return drpc_server_start(path, listen_fd, max_conns, out);
}

int
cairn_drpc_server_adopt(struct cairn_drpc_server *srv, int fd)
{
	int fl;

	if (srv == NULL || fd < 0 || srv->stopping)
		return -CAIRN_ERR_INVAL;
	if (srv->nr_conns >= srv->max_conns)
		return -CAIRN_ERR_BUSY;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return drpc_conn_add(srv, fd);
}

void
cairn_drpc_server_stop(struct cairn_drpc_server *srv, uint64_t timeout_us)
{
	uint64_t deadline;

	if (srv == NULL)
		return;
	srv->stopping = true;
	cairn_rt_wake_fd_del(srv->epfd);
	cairn_poller_unregister(&srv->poller);
	close(srv->listen_fd);
	srv->listen_fd = -1;
	unlink(srv->path);
	deadline = cairn_rt_now_us() + timeout_us;
	while (srv->inflight > 0 && cairn_rt_now_us() < deadline)
		cairn_ult_sleep_us(1000);
	if (srv->inflight > 0)
		CAIRN_WARN("dRPC: %u call(s) still running at stop; their replies are dropped",
		           srv->inflight);
	while (srv->conns)
		conn_close(srv->conns);
	close(srv->epfd);
	srv->epfd = -1;
	srv_put(srv);
}

void
cairn_drpc_server_stats(const struct cairn_drpc_server *srv, struct cairn_drpc_server_stats *st)
{
	st->calls = srv->calls;
	st->errors = srv->errors;
	st->bad_msgs = srv->bad_msgs;
	st->conns = srv->nr_conns;
	st->inflight = srv->inflight;
}
