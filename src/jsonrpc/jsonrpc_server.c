/*
 * JSON-RPC server sockets: Unix (and optional TCP 127.0.0.1) listeners, non-blocking
 * connections, read buffers framed by the scanner, per-connection reply queues that any
 * thread may append to (handlers answer from wherever their callback lands), and an
 * eventfd + epoll fd so a runtime xstream can sleep until there is work.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_TGT
#include "common/log.h"

#include "jsonrpc_internal.h"

#define JR_READ_CHUNK        65536
#define JR_READ_BUDGET       (4u * JR_READ_CHUNK) /* per connection per poll */
#define JR_MAX_OUTSTANDING   256                  /* per connection */
#define JR_MAX_OUT_BYTES     (64u << 20)          /* stop reading while this much queued */
#define JR_ACCEPT_BUDGET     32

struct cairn_jsonrpc_server {
	atomic_uint refs;      /* owner + one per live connection struct */
	int epfd;
	int evfd;
	int unix_fd;
	int tcp_fd;
	uint16_t tcp_port;
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t max_req;
	unsigned max_conns;
	unsigned nr_conns;
	struct jr_conn *conns;
	int (*spawn)(void (*fn)(void *arg), void *arg);
	bool stopped;
};

void
cairn_jsonrpc_server_opts_default(struct cairn_jsonrpc_server_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->opts_size = sizeof(*opts);
	opts->unix_path = CAIRN_JSONRPC_DEFAULT_SOCK;
	opts->max_request_size = CAIRN_JSONRPC_DEFAULT_MAX_REQ;
	opts->max_conns = CAIRN_JSONRPC_DEFAULT_MAX_CONNS;
}

/* ------------------------------------------------------------------ connections */

void
jr_conn_get(struct jr_conn *c)
{
	atomic_fetch_add(&c->refs, 1);
}

static void
jr_out_free_all(struct jr_conn *c)
{
	struct jr_out *o = c->out_head, *next;

	for (; o; o = next) {
		next = o->next;
		free(o);
	}
	c->out_head = c->out_tail = NULL;
	c->out_bytes = 0;
}

void
jr_conn_put(struct jr_conn *c)
{
	struct cairn_jsonrpc_server *srv;

	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	srv = c->srv;
	jr_out_free_all(c);
	pthread_mutex_destroy(&c->lock);
	free(c->rbuf);
	free(c);
	if (srv)
		jr_server_put(srv);
}

void
jr_conn_send(struct jr_conn *c, const char *text, size_t len)
{
	struct jr_out *o;
	bool wake = false;

	if (c->srv == NULL) {
		if (c->sink)
			c->sink(c->sink_arg, text, len);
		return;
	}
	/* One reply per line: clients that read line by line (and cairn-rpc) rely on it. */
	o = malloc(sizeof(*o) + len + 1);
	if (o == NULL) {
		CAIRN_LOG_RATELIMIT(CAIRN_SS_TGT, CAIRN_LOG_ERR, 5, "out of memory queueing a reply");
		return;
	}
	memcpy(o->data, text, len);
	o->data[len] = '\n';
	o->len = len + 1;
	o->off = 0;
	o->next = NULL;
	pthread_mutex_lock(&c->lock);
	if (!c->closed) {
		if (c->out_tail)
			c->out_tail->next = o;
		else
			c->out_head = o;
		c->out_tail = o;
		c->out_bytes += o->len;
		o = NULL;
		wake = true;
	}
	pthread_mutex_unlock(&c->lock);
	free(o);
	if (wake)
		jr_server_wake(c->srv);
}

struct jr_conn *
jr_conn_detached(void (*sink)(void *arg, const char *text, size_t len), void *arg)
{
	struct jr_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	atomic_init(&c->refs, 1);
	atomic_init(&c->outstanding, 0);
	pthread_mutex_init(&c->lock, NULL);
	c->fd = -1;
	c->sink = sink;
	c->sink_arg = arg;
	return c;
}

void
jr_conn_detached_free(struct jr_conn *c)
{
	jr_conn_put(c);
}

/* ------------------------------------------------------------------ server lifetime */

void
jr_server_wake(struct cairn_jsonrpc_server *srv)
{
	uint64_t one = 1;
	ssize_t n;

	n = write(srv->evfd, &one, sizeof(one));
	(void)n; /* EAGAIN means the counter is already non-zero: a wake is pending. */
}

void
jr_server_put(struct cairn_jsonrpc_server *srv)
{
	if (atomic_fetch_sub(&srv->refs, 1) != 1)
		return;
	if (srv->evfd >= 0)
		close(srv->evfd);
	free(srv);
}

static int
jr_listen_unix(struct cairn_jsonrpc_server *srv, const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		CAIRN_ERROR("RPC socket path too long (max %zu bytes): %s",
			    sizeof(sa.sun_path) - 1, path);
		return -CAIRN_ERR_INVAL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			CAIRN_ERROR("%s exists and is not a socket; refusing to replace it", path);
			return -CAIRN_ERR_EXIST;
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		if (rc == 0) {
			CAIRN_ERROR("another process serves %s (is a cairn-tgt already running? "
				    "use -r to pick another socket)", path);
			return -CAIRN_ERR_BUSY;
		}
		unlink(path); /* stale socket from a process that died */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		rc = -errno;
		CAIRN_ERROR("cannot listen on %s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	srv->unix_fd = fd;
	memcpy(srv->unix_path, path, strlen(path) + 1);
	return 0;
}

static int
jr_listen_tcp(struct cairn_jsonrpc_server *srv, const char *addr)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	char host[64];
	const char *colon = strrchr(addr, ':');
	unsigned long port;
	char *end;
	int fd, one = 1, rc;

	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host) || colon == addr) {
		CAIRN_ERROR("bad RPC TCP address '%s': expected IPv4:port, e.g. 127.0.0.1:5260",
			    addr);
		return -CAIRN_ERR_INVAL;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (errno || *end != '\0' || end == colon + 1 || port > 65535 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		CAIRN_ERROR("bad RPC TCP address '%s': expected IPv4:port, e.g. 127.0.0.1:5260",
			    addr);
		return -CAIRN_ERR_INVAL;
	}
	sa.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) < 0) {
		rc = -errno;
		CAIRN_ERROR("cannot listen on %s: %s", addr, strerror(-rc));
		close(fd);
		return rc;
	}
	srv->tcp_fd = fd;
	srv->tcp_port = ntohs(sa.sin_port);
	return 0;
}

static int
jr_epoll_add(struct cairn_jsonrpc_server *srv, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	return epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int
cairn_jsonrpc_server_start(const struct cairn_jsonrpc_server_opts *opts,
			   struct cairn_jsonrpc_server **out)
{
	struct cairn_jsonrpc_server_opts o;
	struct cairn_jsonrpc_server *srv;
	int rc;

	if (opts == NULL || out == NULL || opts->opts_size == 0)
		return -CAIRN_ERR_INVAL;
	cairn_jsonrpc_server_opts_default(&o);
	memcpy(&o, opts, opts->opts_size < sizeof(o) ? opts->opts_size : sizeof(o));
	if ((o.unix_path == NULL || o.unix_path[0] == '\0') &&
	    (o.tcp_addr == NULL || o.tcp_addr[0] == '\0')) {
		CAIRN_ERROR("JSON-RPC server needs a Unix socket path or a TCP address");
		return -CAIRN_ERR_INVAL;
	}
	if (o.max_request_size == 0)
		o.max_request_size = CAIRN_JSONRPC_DEFAULT_MAX_REQ;
	if (o.max_conns == 0)
		o.max_conns = CAIRN_JSONRPC_DEFAULT_MAX_CONNS;

	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return -CAIRN_ERR_NOMEM;
	atomic_init(&srv->refs, 1);
	srv->unix_fd = srv->tcp_fd = -1;
	srv->max_req = o.max_request_size;
	srv->max_conns = o.max_conns;
	srv->spawn = o.spawn;
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	srv->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv->epfd < 0 || srv->evfd < 0) {
		rc = -errno;
		goto err_free;
	}
	if (o.unix_path && o.unix_path[0]) {
		rc = jr_listen_unix(srv, o.unix_path);
		if (rc)
			goto err_free;
		rc = jr_epoll_add(srv, srv->unix_fd, &srv->unix_fd);
		if (rc)
			goto err_close;
	}
	if (o.tcp_addr && o.tcp_addr[0]) {
		rc = jr_listen_tcp(srv, o.tcp_addr);
		if (rc)
			goto err_close;
		rc = jr_epoll_add(srv, srv->tcp_fd, &srv->tcp_fd);
		if (rc)
			goto err_close;
	}
	rc = jr_epoll_add(srv, srv->evfd, &srv->evfd);
	if (rc)
		goto err_close;
	*out = srv;
	return 0;

err_close:
	if (srv->unix_fd >= 0) {
		close(srv->unix_fd);
		unlink(srv->unix_path);
	}
	if (srv->tcp_fd >= 0)
		close(srv->tcp_fd);
err_free:
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->evfd >= 0)
		close(srv->evfd);
	free(srv);
	return rc;
}

int
cairn_jsonrpc_server_fd(const struct cairn_jsonrpc_server *srv)
{
	return srv->epfd;
}

unsigned
cairn_jsonrpc_server_nr_conns(const struct cairn_jsonrpc_server *srv)
{
	return srv->nr_conns;
}

int
cairn_jsonrpc_server_tcp_port(const struct cairn_jsonrpc_server *srv)
{
	return srv->tcp_fd >= 0 ? srv->tcp_port : -CAIRN_ERR_NONEXIST;
}

static void
jr_conn_close(struct cairn_jsonrpc_server *srv, struct jr_conn *c)
{
	struct jr_conn **pp;

	for (pp = &srv->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	pthread_mutex_lock(&c->lock);
	c->closed = true;
	jr_out_free_all(c);
	pthread_mutex_unlock(&c->lock);
	srv->nr_conns--;
	jr_conn_put(c);
}

static void
jr_accept(struct cairn_jsonrpc_server *srv, int lfd, int *work)
{
	struct jr_conn *c;
	unsigned i;
	int fd;

	for (i = 0; i < JR_ACCEPT_BUDGET; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				CAIRN_LOG_RATELIMIT(CAIRN_SS_TGT, CAIRN_LOG_WARN, 1,
						    "RPC accept failed: %s", strerror(errno));
			return;
		}
		(*work)++;
		if (srv->nr_conns >= srv->max_conns) {
			CAIRN_LOG_RATELIMIT(CAIRN_SS_TGT, CAIRN_LOG_WARN, 1,
					    "RPC connection limit (%u) reached; closing a new one",
					    srv->max_conns);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		atomic_init(&c->refs, 1);
		atomic_init(&c->outstanding, 0);
		pthread_mutex_init(&c->lock, NULL);
		c->fd = fd;
		c->srv = srv;
		c->spawn = srv->spawn;
		if (jr_epoll_add(srv, fd, c) != 0) {
			pthread_mutex_destroy(&c->lock);
			free(c);
			close(fd);
			continue;
		}
		atomic_fetch_add(&srv->refs, 1);
		c->next = srv->conns;
		srv->conns = c;
		srv->nr_conns++;
	}
}

/* epoll interest: input until EOF (a half-closed socket stays readable and would keep the
 * owner's xstream awake), output while replies wait. */
static void
jr_conn_set_events(struct jr_conn *c)
{
	struct epoll_event ev = {
		.events = (c->read_eof ? 0 : EPOLLIN) | (c->want_out ? EPOLLOUT : 0),
		.data.ptr = c,
	};

	epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write queued replies. Returns -1 if the connection died. */
static int
jr_conn_flush(struct jr_conn *c, int *work)
{
	struct jr_out *o;
	ssize_t n;

	pthread_mutex_lock(&c->lock);
	while ((o = c->out_head) != NULL) {
		n = send(c->fd, o->data + o->off, o->len - o->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			pthread_mutex_unlock(&c->lock);
			return -1;
		}
		(*work)++;
		o->off += (size_t)n;
		c->out_bytes -= (size_t)n;
		if (o->off < o->len)
			break;
		c->out_head = o->next;
		if (c->out_head == NULL)
			c->out_tail = NULL;
		free(o);
	}
	/* Ask epoll for EPOLLOUT only while something waits to be written. */
	if ((c->out_head != NULL) != c->want_out) {
		c->want_out = c->out_head != NULL;
		jr_conn_set_events(c);
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static size_t
jr_conn_out_bytes(struct jr_conn *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->out_bytes;
	pthread_mutex_unlock(&c->lock);
	return n;
}

static bool
jr_conn_out_empty(struct jr_conn *c)
{
	bool empty;

	pthread_mutex_lock(&c->lock);
	empty = c->out_head == NULL;
	pthread_mutex_unlock(&c->lock);
	return empty;
}

static void
jr_send_parse_error(struct jr_conn *c, const char *msg)
{
	char text[256];
	int n;

	n = snprintf(text, sizeof(text),
		     "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":%d,"
		     "\"message\":\"%s\"}}",
		     CAIRN_JSONRPC_ERROR_PARSE_ERROR, msg);
	if (n > 0 && (size_t)n < sizeof(text))
		jr_conn_send(c, text, (size_t)n);
}

/* Frame and dispatch buffered values. Returns -1 when the connection must be closed
 * after flushing (parse error, oversize). */
static int
jr_conn_process(struct cairn_jsonrpc_server *srv, struct jr_conn *c, int *work)
{
	enum jr_scan_result r;
	size_t start, end;
	char msg[128];

	while (c->rlen > 0 && atomic_load(&c->outstanding) < JR_MAX_OUTSTANDING) {
		r = jr_scan(&c->scan, c->rbuf, c->rlen, &start, &end);
		if (r == JR_SCAN_ERROR) {
			jr_send_parse_error(c, "Parse error: unbalanced bracket or nesting deeper "
					       "than 64 levels");
			return -1;
		}
		if (r == JR_SCAN_NEED_MORE) {
			if (start > 0) { /* drop leading whitespace */
				memmove(c->rbuf, c->rbuf + start, c->rlen - start);
				c->rlen -= start;
				c->scan.pos -= start;
				c->scan.start = 0;
			}
			if (c->rlen > srv->max_req) {
				snprintf(msg, sizeof(msg), "Parse error: request exceeds %zu bytes",
					 srv->max_req);
				jr_send_parse_error(c, msg);
				return -1;
			}
			return 0;
		}
		(*work)++;
		if (end - start > srv->max_req) {
			snprintf(msg, sizeof(msg), "Parse error: request exceeds %zu bytes",
				 srv->max_req);
			jr_send_parse_error(c, msg);
			return -1;
		}
		if (jr_handle_value(c, c->rbuf + start, end - start) != 0)
			return -1;
		memmove(c->rbuf, c->rbuf + end, c->rlen - end);
		c->rlen -= end;
		jr_scan_reset(&c->scan);
	}
	return 0;
}

static int
jr_conn_read(struct cairn_jsonrpc_server *srv, struct jr_conn *c, int *work)
{
	size_t budget = JR_READ_BUDGET;
	ssize_t n;

	while (budget > 0 && !c->read_eof && !c->close_after_flush) {
		if (atomic_load(&c->outstanding) >= JR_MAX_OUTSTANDING ||
		    jr_conn_out_bytes(c) > JR_MAX_OUT_BYTES) {
			c->readable = true; /* come back once answers drained */
			break;              /* back-pressure */
		}
		if (c->rcap - c->rlen < JR_READ_CHUNK) {
			/* rlen stays below max_req + JR_READ_CHUNK: process() rejects more. */
			size_t cap = c->rcap ? c->rcap * 2 : 2 * JR_READ_CHUNK;
			char *nb;

			if (cap < c->rlen + JR_READ_CHUNK)
				cap = c->rlen + JR_READ_CHUNK;
			nb = realloc(c->rbuf, cap);
			if (nb == NULL)
				return -1;
			c->rbuf = nb;
			c->rcap = cap;
		}
		n = recv(c->fd, c->rbuf + c->rlen, JR_READ_CHUNK, MSG_DONTWAIT);
		if (n == 0) {
			c->read_eof = true;
			pthread_mutex_lock(&c->lock);
			jr_conn_set_events(c);
			pthread_mutex_unlock(&c->lock);
			break;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			return -1;
		}
		(*work)++;
		c->rlen += (size_t)n;
		budget -= (size_t)n < budget ? (size_t)n : budget;
		if (jr_conn_process(srv, c, work) != 0) {
			c->close_after_flush = true;
			break;
		}
	}
	return 0;
}

int
cairn_jsonrpc_server_poll(struct cairn_jsonrpc_server *srv)
{
	struct epoll_event evs[64];
	struct jr_conn *c, *next;
	uint64_t cnt;
	int work = 0, i, n;
	ssize_t r;

	if (srv == NULL || srv->stopped)
		return 0;
	n = epoll_wait(srv->epfd, evs, 64, 0);
	for (i = 0; i < n; i++) {
		if (evs[i].data.ptr == &srv->unix_fd)
			jr_accept(srv, srv->unix_fd, &work);
		else if (evs[i].data.ptr == &srv->tcp_fd)
			jr_accept(srv, srv->tcp_fd, &work);
		else if (evs[i].data.ptr == &srv->evfd)
			r = read(srv->evfd, &cnt, sizeof(cnt)), (void)r;
		else
			((struct jr_conn *)evs[i].data.ptr)->readable = true;
	}
	/* Walk the connections: read those epoll reported, and pick up what needs no event
	 * (buffered requests deferred by back-pressure, replies queued by other threads,
	 * closes waiting for outstanding answers). Only readable ones cost a syscall. */
	for (c = srv->conns; c; c = next) {
		next = c->next;
		if (c->readable) {
			c->readable = false;
			if (jr_conn_read(srv, c, &work) != 0) {
				jr_conn_close(srv, c);
				continue;
			}
		}
		if (!c->close_after_flush && c->rlen > 0 &&
		    jr_conn_process(srv, c, &work) != 0)
			c->close_after_flush = true;
		if (!jr_conn_out_empty(c) && jr_conn_flush(c, &work) != 0) {
			jr_conn_close(srv, c);
			continue;
		}
		if (!jr_conn_out_empty(c))
			continue;
		if (c->close_after_flush) {
			jr_conn_close(srv, c);
			continue;
		}
		if (c->read_eof && atomic_load(&c->outstanding) == 0) {
			if (c->rlen > 0 && c->scan.started) {
				/* The peer half-closed in the middle of a value: tell it why
				 * nothing else will happen, then close after the flush. */
				jr_send_parse_error(c, "Parse error: truncated request at end of "
						       "stream");
				c->close_after_flush = true;
				c->rlen = 0;
				work++;
				continue;
			}
			jr_conn_close(srv, c);
		}
	}
	return work;
}

void
cairn_jsonrpc_server_stop(struct cairn_jsonrpc_server *srv)
{
	if (srv == NULL)
		return;
	srv->stopped = true;
	while (srv->conns)
		jr_conn_close(srv, srv->conns);
	if (srv->unix_fd >= 0) {
		epoll_ctl(srv->epfd, EPOLL_CTL_DEL, srv->unix_fd, NULL);
		close(srv->unix_fd);
		unlink(srv->unix_path);
		srv->unix_fd = -1;
	}
	if (srv->tcp_fd >= 0) {
		close(srv->tcp_fd);
		srv->tcp_fd = -1;
	}
	close(srv->epfd);
	srv->epfd = -1;
	/* evfd stays open until the last connection reference (a late answer) is gone. */
	jr_server_put(srv);
}
