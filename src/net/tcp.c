/*
 * TCP transport: non-blocking sockets on the context's epoll set, message framing with
 * a bounded per-connection receive buffer, writev batching of queued messages, and bulk
 * data read straight into registered iovecs (readv).
 *
 * The transport interface is narrow (listen, connect, send message, close, poll; upcalls
 * net_on_msg / net_on_data_hdr / net_on_data_done / net_on_connected / net_on_close) so
 * another transport can sit beside it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cairn/errno.h"
#define CAIRN_LOG_SS CAIRN_SS_NET
#include "common/log.h"
#include "net_internal.h"
#include "rt/rt.h"

#define ACCEPT_BUDGET 32
#define READ_BUDGET (4u << 20)
#define DIRECT_MIN 4096u

static int
resolve(const char *host, uint16_t port, struct sockaddr_in *sa)
{
	struct addrinfo hints, *res = NULL;
	int rc;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	if (host[0] == '\0' || strcmp(host, "*") == 0) {
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	if (inet_pton(AF_INET, host, &sa->sin_addr) == 1)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || res == NULL) {
		CAIRN_ERROR("cannot resolve '%s': %s", host, gai_strerror(rc));
		return -CAIRN_ERR_INVAL;
	}
	sa->sin_addr = ((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	return 0;
}

static void
sock_tune(int fd)
{
	int one = 1;
	int sz = 4 << 20;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

int
net_tcp_listen(struct net_ctx_impl *ctx, const char *host, uint16_t port)
{
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	struct epoll_event ev;
	int fd, one = 1, rc;

	rc = resolve(host, port, &sa);
	if (rc)
		return rc;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1024) != 0) {
		rc = -errno;
		CAIRN_ERROR("cannot listen on %s:%u: %s", host, port, strerror(errno));
		close(fd);
		return rc;
	}
	getsockname(fd, (struct sockaddr *)&sa, &slen);
	ctx->port = ntohs(sa.sin_port);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &ctx->lfd;
	if (epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	ctx->lfd = fd;
	return 0;
}

static void
conn_epoll(struct net_conn *conn, bool out)
{
	struct epoll_event ev;

	if (conn->want_out == out)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	ev.data.ptr = conn;
	epoll_ctl(conn->ctx->epfd, EPOLL_CTL_MOD, conn->fd, &ev);
	conn->want_out = out;
}

static struct net_conn *
conn_alloc(struct net_ctx_impl *ctx, int fd, bool connecting)
{
	struct net_conn *conn = calloc(1, sizeof(*conn));
	struct epoll_event ev;

	if (conn == NULL)
		return NULL;
	conn->rxbuf = malloc(NET_RXBUF_SIZE);
	if (conn->rxbuf == NULL) {
		free(conn);
		return NULL;
	}
	conn->ctx = ctx;
	conn->fd = fd;
	conn->connecting = connecting;
	conn->last_rx_us = cairn_rt_now_us();
	cairn_list_init(&conn->txq);
	cairn_list_init(&conn->srv_rpcs);
	cairn_list_init(&conn->xfers);
	cairn_list_init(&conn->dirty_link);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (connecting ? EPOLLOUT : 0);
	ev.data.ptr = conn;
	conn->want_out = connecting;
	if (epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		free(conn->rxbuf);
		free(conn);
		return NULL;
	}
	cairn_list_add_tail(&conn->link, &ctx->conns);
	ctx->st.conns++;
	return conn;
}

int
net_tcp_connect(struct net_ctx_impl *ctx, struct net_peer *peer, const char *host, uint16_t port,
                struct net_conn **out)
{
	struct sockaddr_in sa;
	struct net_conn *conn;
	int fd, rc;

	rc = resolve(host, port, &sa);
	if (rc)
		return rc;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	sock_tune(fd);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc != 0 && errno != EINPROGRESS) {
		rc = -errno;
		close(fd);
		return rc;
	}
	conn = conn_alloc(ctx, fd, rc != 0);
	if (conn == NULL) {
		close(fd);
		return -CAIRN_ERR_NOMEM;
	}
	conn->peer = peer;
	snprintf(conn->name, sizeof(conn->name), "->%u:%u(%s:%u)", peer->ep.rank, peer->ep.tag,
	         host, port);
	ctx->st.connects++;
	*out = conn;
	return 0;
}

int
net_tcp_adopt(struct net_ctx_impl *ctx, int fd)
{
	struct net_conn *conn;

	conn = conn_alloc(ctx, fd, false);
	if (conn == NULL)
		return -CAIRN_ERR_NOMEM;
	snprintf(conn->name, sizeof(conn->name), "fd%d", fd);
	ctx->nconns_accepted++;
	return 0;
}

struct net_tx_msg *
net_msg_alloc(const struct cairn_net_hdr *h, uint8_t *body, uint32_t body_len)
{
	struct net_tx_msg *m = malloc(sizeof(*m));

	if (m == NULL)
		return NULL;
	cairn_net_hdr_encode(h, m->hdr);
	m->body = body;
	m->body_len = body_len;
	m->data = NULL;
	m->data_cnt = 0;
	m->bulk = NULL;
	m->total = CAIRN_NET_HDR_SIZE + (size_t)h->body_len;
	m->sent = 0;
	return m;
}

static void
msg_free(struct net_tx_msg *m)
{
	free(m->body);
	if (m->bulk)
		net_bulk_put(m->bulk);
	if (m->data && m->data != m->inl)
		free(m->data);
	free(m);
}

void
net_tcp_send(struct net_conn *conn, struct net_tx_msg *msg)
{
	if (conn->closed) {
		msg_free(msg);
		return;
	}
	cairn_list_add_tail(&msg->link, &conn->txq);
	conn->tx_owned += msg->body_len;
	if (!conn->tx_dirty) {
		conn->tx_dirty = true;
		cairn_list_add_tail(&conn->dirty_link, &conn->ctx->dirty);
	}
}

void
net_tcp_close(struct net_conn *conn, int reason)
{
	struct net_ctx_impl *ctx = conn->ctx;
	struct cairn_list *l;

	if (conn->closed)
		return;
	conn->closed = true;
	epoll_ctl(ctx->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
	close(conn->fd);
	conn->fd = -1;
	while ((l = cairn_list_pop(&conn->txq)) != NULL)
		msg_free(cairn_container_of(l, struct net_tx_msg, link));
	free(conn->rx_body);
	conn->rx_body = NULL;
	if (conn->tx_dirty) {
		cairn_list_del(&conn->dirty_link);
		conn->tx_dirty = false;
	}
	cairn_list_del(&conn->link);
	cairn_list_add_tail(&conn->link, &ctx->zombies);
	ctx->st.conns--;
	ctx->st.conns_closed++;
	if (conn->peer == NULL && ctx->nconns_accepted > 0)
		ctx->nconns_accepted--;
	CAIRN_DEBUG("connection %s closed: %s", conn->name, cairn_strerror(reason));
	net_on_close(conn, reason);
}

/* Flush as much of the queue as the socket takes. */
static void
conn_flush(struct net_conn *conn)
{
	struct iovec iov[NET_MAX_WRITEV];

	while (!cairn_list_empty(&conn->txq) && !conn->closed && !conn->connecting) {
		struct cairn_list *l;
		unsigned n = 0;
		ssize_t w;

		for (l = conn->txq.next; l != &conn->txq && n < NET_MAX_WRITEV; l = l->next) {
			struct net_tx_msg *m = cairn_container_of(l, struct net_tx_msg, link);
			size_t skip = m->sent;
			unsigned i;

			if (skip < CAIRN_NET_HDR_SIZE) {
				iov[n].iov_base = m->hdr + skip;
				iov[n++].iov_len = CAIRN_NET_HDR_SIZE - skip;
				skip = 0;
			} else {
				skip -= CAIRN_NET_HDR_SIZE;
			}
			if (m->body_len && n < NET_MAX_WRITEV) {
				if (skip < m->body_len) {
					iov[n].iov_base = m->body + skip;
					iov[n++].iov_len = m->body_len - skip;
					skip = 0;
				} else {
					skip -= m->body_len;
				}
			}
			for (i = 0; i < m->data_cnt && n < NET_MAX_WRITEV; i++) {
				if (skip >= m->data[i].iov_len) {
					skip -= m->data[i].iov_len;
					continue;
				}
				iov[n].iov_base = (uint8_t *)m->data[i].iov_base + skip;
				iov[n++].iov_len = m->data[i].iov_len - skip;
				skip = 0;
			}
		}
		{
			/* sendmsg for MSG_NOSIGNAL: a dead peer must not SIGPIPE the process. */
			struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n};

			w = sendmsg(conn->fd, &mh, MSG_NOSIGNAL);
		}
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				conn_epoll(conn, true);
				return;
			}
			CAIRN_DEBUG("%s: write: %s", conn->name, strerror(errno));
			net_tcp_close(conn, -CAIRN_ERR_UNREACH);
			return;
		}
		while (w > 0 && !cairn_list_empty(&conn->txq)) {
			struct net_tx_msg *m =
			        cairn_container_of(conn->txq.next, struct net_tx_msg, link);
			size_t left = m->total - m->sent;

			if ((size_t)w < left) {
				m->sent += (size_t)w;
				w = 0;
				break;
			}
			w -= (ssize_t)left;
			cairn_list_del(&m->link);
			conn->tx_owned -= m->body_len;
			msg_free(m);
		}
	}
	if (!conn->closed && !conn->connecting && cairn_list_empty(&conn->txq))
		conn_epoll(conn, false);
}

void
net_tcp_kick(struct net_conn *conn)
{
	/* One message queued: nothing to batch it with, send it before parking or going back
	 * to the scheduler. Several: the end-of-pass flush writes them in one call. */
	if (!conn->closed && !conn->connecting && !cairn_list_empty(&conn->txq) &&
	    conn->txq.next == conn->txq.prev)
		conn_flush(conn);
}

void
net_tcp_flush_all(struct net_ctx_impl *ctx)
{
	struct cairn_list *l;

	while ((l = cairn_list_pop(&ctx->dirty)) != NULL) {
		struct net_conn *conn = cairn_container_of(l, struct net_conn, dirty_link);

		conn->tx_dirty = false;
		conn_flush(conn);
	}
}

static void
bad_input(struct net_conn *conn, int rc, const char *what)
{
	conn->ctx->st.proto_errors++;
	CAIRN_LOG_RATELIMIT(CAIRN_SS_NET, CAIRN_LOG_WARN, 10, "%s: %s (%s); closing the connection",
	                    conn->name, what, cairn_strerror(rc));
	net_tcp_close(conn, -CAIRN_ERR_PROTO);
}

static bool
is_data(uint8_t type)
{
	return type == CAIRN_NET_MSG_BULK_GET_DATA || type == CAIRN_NET_MSG_BULK_PUT_DATA;
}

/* Map the next vectors of the destination bulk when the current ones are used up. */
static void
rx_refill(struct net_conn *conn)
{
	uint64_t mapped;

	if (conn->rx_iov_idx < conn->rx_iov_cnt || conn->rx_dst == NULL ||
	    conn->rx_dst_off >= conn->rx_dst_end)
		return;
	conn->rx_iov_cnt =
	        net_bulk_map(conn->rx_dst, conn->rx_dst_off, conn->rx_dst_end - conn->rx_dst_off,
	                     conn->rx_iov, 64, &mapped);
	conn->rx_iov_idx = 0;
	conn->rx_dst_off += mapped;
}

/* Copy n bytes into the RX_DATA destination vectors. */
static void
iov_fill(struct net_conn *conn, const uint8_t *src, size_t n)
{
	rx_refill(conn);
	while (n > 0 && conn->rx_iov_idx < conn->rx_iov_cnt) {
		struct iovec *v = &conn->rx_iov[conn->rx_iov_idx];
		size_t c = n < v->iov_len ? n : v->iov_len;

		memcpy(v->iov_base, src, c);
		v->iov_base = (uint8_t *)v->iov_base + c;
		v->iov_len -= c;
		src += c;
		n -= c;
		if (v->iov_len == 0) {
			conn->rx_iov_idx++;
			rx_refill(conn);
		}
	}
}

static void
iov_advance(struct net_conn *conn, size_t n)
{
	while (n > 0 && conn->rx_iov_idx < conn->rx_iov_cnt) {
		struct iovec *v = &conn->rx_iov[conn->rx_iov_idx];
		size_t c = n < v->iov_len ? n : v->iov_len;

		v->iov_base = (uint8_t *)v->iov_base + c;
		v->iov_len -= c;
		n -= c;
		if (v->iov_len == 0) {
			conn->rx_iov_idx++;
			rx_refill(conn);
		}
	}
}

static void
body_complete(struct net_conn *conn)
{
	struct cairn_net_hdr h = conn->rx_hdr;

	conn->rx_state = RX_HDR;
	if (is_data(h.type)) {
		net_on_data_done(conn, &h);
	} else {
		uint8_t *body = conn->rx_body;

		conn->rx_body = NULL;
		net_on_msg(conn, &h, body);
	}
}

/* Consume what is buffered. */
static void
conn_parse(struct net_conn *conn)
{
	struct net_ctx_impl *ctx = conn->ctx;

	while (!conn->closed) {
		uint32_t avail = conn->rx_end - conn->rx_start;
		const uint8_t *p = conn->rxbuf + conn->rx_start;
		struct cairn_net_hdr *h = &conn->rx_hdr;
		uint32_t need, c;
		int rc;

		if (conn->rx_state == RX_HDR) {
			uint32_t max;

			if (avail < CAIRN_NET_HDR_SIZE)
				break;
			rc = cairn_net_hdr_decode(p, UINT32_MAX, h);
			if (rc) {
				bad_input(conn, rc, "bad message header");
				return;
			}
			max = is_data(h->type) ? NET_SEG_SIZE : ctx->opts.max_msg;
			if (h->body_len > max) {
				bad_input(conn, -CAIRN_ERR_OVERFLOW, "message body over the limit");
				return;
			}
			conn->rx_start += CAIRN_NET_HDR_SIZE;
			conn->rx_got = 0;
			if (is_data(h->type)) {
				conn->rx_iov_cnt = conn->rx_iov_idx = 0;
				conn->rx_dst = NULL;
				rc = net_on_data_hdr(conn, h);
				if (rc)
					conn->rx_dst = NULL;
				if (conn->closed)
					return;
				conn->rx_state = rc ? RX_DISCARD : RX_DATA;
			} else if (h->body_len) {
				conn->rx_body = malloc(h->body_len);
				if (conn->rx_body == NULL) {
					bad_input(conn, -CAIRN_ERR_NOMEM, "no memory for a body");
					return;
				}
				conn->rx_state = RX_BODY;
			} else {
				conn->rx_state = RX_BODY;
			}
			if (h->body_len == 0)
				body_complete(conn);
			continue;
		}
		need = h->body_len - conn->rx_got;
		c = avail < need ? avail : need;
		if (c == 0)
			break;
		if (conn->rx_state == RX_BODY)
			memcpy(conn->rx_body + conn->rx_got, p, c);
		else if (conn->rx_state == RX_DATA)
			iov_fill(conn, p, c);
		conn->rx_start += c;
		conn->rx_got += c;
		if (conn->rx_got == h->body_len)
			body_complete(conn);
	}
	if (conn->rx_start == conn->rx_end)
		conn->rx_start = conn->rx_end = 0;
}

static void
conn_read(struct net_conn *conn)
{
	size_t budget = READ_BUDGET;

	/* Backpressure: a peer that sends requests but does not read the replies gets no
	 * more requests read until its replies drain. */
	if (conn->tx_owned > NET_TX_HIGH) {
		conn->ctx->st.rx_paused++;
		conn_flush(conn);
		return;
	}

	while (!conn->closed && budget > 0) {
		struct iovec iov[66];
		unsigned n = 0;
		uint32_t need = 0;
		size_t dest = 0;
		bool direct = false;
		ssize_t r;

		conn_parse(conn);
		if (conn->closed)
			return;
		if (conn->rx_state != RX_HDR)
			need = conn->rx_hdr.body_len - conn->rx_got;
		if (conn->rx_start == conn->rx_end && need >= DIRECT_MIN &&
		    conn->rx_state != RX_DISCARD) {
			/* Read the payload straight into its destination, and whatever follows
			 * into the rx buffer, in one readv. */
			direct = true;
			conn->rx_start = conn->rx_end = 0;
			if (conn->rx_state == RX_BODY) {
				iov[n].iov_base = conn->rx_body + conn->rx_got;
				iov[n++].iov_len = need;
				dest = need;
			} else {
				size_t left = need;
				unsigned i;

				rx_refill(conn);
				for (i = conn->rx_iov_idx; i < conn->rx_iov_cnt && n < 64 && left;
				     i++) {
					size_t l = conn->rx_iov[i].iov_len;

					if (l > left)
						l = left;
					iov[n].iov_base = conn->rx_iov[i].iov_base;
					iov[n++].iov_len = l;
					left -= l;
					dest += l;
				}
			}
			iov[n].iov_base = conn->rxbuf;
			iov[n++].iov_len = NET_RXBUF_SIZE;
			r = readv(conn->fd, iov, (int)n);
		} else {
			if (conn->rx_start > 0) {
				memmove(conn->rxbuf, conn->rxbuf + conn->rx_start,
				        conn->rx_end - conn->rx_start);
				conn->rx_end -= conn->rx_start;
				conn->rx_start = 0;
			}
			if (conn->rx_end == NET_RXBUF_SIZE)
				break; /* cannot happen: the parser drains a full buffer */
			r = read(conn->fd, conn->rxbuf + conn->rx_end,
			         NET_RXBUF_SIZE - conn->rx_end);
		}
		if (r == 0) {
			conn->ctx->rx_reads++;
			if (conn->rx_state != RX_HDR || conn->rx_end != conn->rx_start)
				CAIRN_LOG_RATELIMIT(CAIRN_SS_NET, CAIRN_LOG_WARN, 10,
				                    "%s: peer closed in the middle of a message",
				                    conn->name);
			net_tcp_close(conn, -CAIRN_ERR_UNREACH);
			return;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			net_tcp_close(conn, -CAIRN_ERR_UNREACH);
			return;
		}
		conn->ctx->rx_reads++;
		conn->last_rx_us = cairn_rt_now_us();
		budget -= (size_t)r < budget ? (size_t)r : budget;
		if (direct) {
			size_t into = (size_t)r < dest ? (size_t)r : dest;

			if (conn->rx_state == RX_DATA)
				iov_advance(conn, into);
			conn->rx_got += (uint32_t)into;
			conn->rx_end = (uint32_t)((size_t)r - into);
			if (conn->rx_got == conn->rx_hdr.body_len)
				body_complete(conn);
		} else {
			conn->rx_end += (uint32_t)r;
		}
	}
}

static void
do_accept(struct net_ctx_impl *ctx)
{
	int i;

	for (i = 0; i < ACCEPT_BUDGET; i++) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		struct net_conn *conn;
		char ip[INET_ADDRSTRLEN];
		int fd;

		fd = accept4(ctx->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				CAIRN_LOG_RATELIMIT(CAIRN_SS_NET, CAIRN_LOG_WARN, 1,
				                    "accept on port %u: %s", ctx->port,
				                    strerror(errno));
			return;
		}
		if (ctx->nconns_accepted >= ctx->opts.max_conns)
			net_tcp_close_stalled(ctx, cairn_rt_now_us()); /* make room */
		if (ctx->nconns_accepted >= ctx->opts.max_conns) {
			ctx->st.conns_rejected++;
			CAIRN_LOG_RATELIMIT(CAIRN_SS_NET, CAIRN_LOG_WARN, 1,
			                    "port %u: %u connections open (max_conns), refusing",
			                    ctx->port, ctx->nconns_accepted);
			close(fd);
			continue;
		}
		sock_tune(fd);
		conn = conn_alloc(ctx, fd, false);
		if (conn == NULL) {
			close(fd);
			continue;
		}
		inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
		snprintf(conn->name, sizeof(conn->name), "<-%s:%u@%u", ip, ntohs(sa.sin_port),
		         ctx->port);
		ctx->nconns_accepted++;
		ctx->st.conns_accepted++;
	}
}

unsigned
net_tcp_close_stalled(struct net_ctx_impl *ctx, uint64_t now)
{
	struct cairn_list *l, *next;
	unsigned n = 0;

	for (l = ctx->conns.next; l != &ctx->conns; l = next) {
		struct net_conn *conn = cairn_container_of(l, struct net_conn, link);

		next = l->next;
		if (conn->peer != NULL || conn->closed)
			continue;
		if (conn->rx_state == RX_HDR && conn->rx_end == conn->rx_start)
			continue; /* between messages: an idle client is fine */
		if (now - conn->last_rx_us <= ctx->opts.rx_stall_us)
			continue;
		ctx->st.stalled++;
		n++;
		CAIRN_LOG_RATELIMIT(CAIRN_SS_NET, CAIRN_LOG_WARN, 10,
		                    "%s: stuck in the middle of a message for %lu ms; closing",
		                    conn->name, (unsigned long)((now - conn->last_rx_us) / 1000));
		net_tcp_close(conn, -CAIRN_ERR_PROTO);
	}
	return n;
}

static void
conn_connected(struct net_conn *conn)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err) {
		CAIRN_DEBUG("%s: connect: %s", conn->name, strerror(err));
		net_tcp_close(conn, -CAIRN_ERR_UNREACH);
		return;
	}
	conn->connecting = false;
	net_on_connected(conn, 0);
	if (!conn->closed && cairn_list_empty(&conn->txq))
		conn_epoll(conn, false);
	else if (!conn->closed)
		conn_flush(conn);
}

static void
reap(struct net_ctx_impl *ctx)
{
	struct cairn_list *l;

	while ((l = cairn_list_pop(&ctx->zombies)) != NULL) {
		struct net_conn *conn = cairn_container_of(l, struct net_conn, link);

		free(conn->rxbuf);
		free(conn);
	}
}

/* While traffic is flowing on a handful of connections, read them directly: one recv
 * per connection instead of epoll_wait + recv, which is what a busy-polling raw TCP loop
 * does. epoll still runs every HOT_EPOLL_EVERY passes (accepts, connects, EPOLLOUT) and
 * whenever the context has been quiet, so an idle context sleeps on its epoll fd. */
#define HOT_MAX_CONNS 4u
#define HOT_WINDOW_US 200u
#define HOT_EPOLL_EVERY 32u

static int
poll_hot(struct net_ctx_impl *ctx)
{
	uint64_t reads = ctx->rx_reads;
	struct cairn_list *l, *next;
	int work;

	for (l = ctx->conns.next; l != &ctx->conns; l = next) {
		struct net_conn *conn = cairn_container_of(l, struct net_conn, link);

		next = l->next;
		if (conn->connecting || conn->closed)
			continue;
		conn_read(conn);
		if (!conn->closed && conn->want_out)
			conn_flush(conn);
	}
	work = (int)(ctx->rx_reads - reads);
	reap(ctx);
	return work;
}

int
net_tcp_poll(struct net_ctx_impl *ctx)
{
	struct epoll_event evs[64];
	int n, i;

	if (ctx->st.conns > 0 && ctx->st.conns <= HOT_MAX_CONNS &&
	    (++ctx->poll_tick % HOT_EPOLL_EVERY) != 0 &&
	    cairn_rt_now_us() - ctx->last_work_us < HOT_WINDOW_US)
		return poll_hot(ctx);
	n = epoll_wait(ctx->epfd, evs, 64, 0);
	for (i = 0; i < n; i++) {
		struct net_conn *conn;

		if (evs[i].data.ptr == &ctx->lfd) {
			do_accept(ctx);
			continue;
		}
		conn = evs[i].data.ptr;
		if (conn->closed)
			continue;
		if (conn->connecting) {
			if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
				conn_connected(conn);
			continue;
		}
		if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			conn_read(conn);
		if (!conn->closed && (evs[i].events & EPOLLOUT))
			conn_flush(conn);
	}
	reap(ctx);
	return n > 0 ? n : 0;
}

void
net_tcp_fini(struct net_ctx_impl *ctx)
{
	while (!cairn_list_empty(&ctx->conns)) {
		struct net_conn *conn = cairn_container_of(ctx->conns.next, struct net_conn, link);

		net_tcp_close(conn, -CAIRN_ERR_SHUTDOWN);
	}
	if (ctx->lfd >= 0) {
		epoll_ctl(ctx->epfd, EPOLL_CTL_DEL, ctx->lfd, NULL);
		close(ctx->lfd);
		ctx->lfd = -1;
	}
	reap(ctx);
}

const struct net_transport_ops g_net_tcp_ops = {
        .name = "tcp",
        .listen = net_tcp_listen,
        .connect = net_tcp_connect,
        .send = net_tcp_send,
        .kick = net_tcp_kick,
        .close = net_tcp_close,
        .poll = net_tcp_poll,
        .flush = net_tcp_flush_all,
        .fini = net_tcp_fini,
        .close_stalled = net_tcp_close_stalled,
};
