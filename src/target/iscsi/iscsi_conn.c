/*
 * Poll groups, acceptor and connections: one poll group per xstream polls its
 * non-blocking sockets from a busy poller over its own epoll set (registered as the
 * xstream's wake fd so an idle group sleeps). The acceptor runs on poll group 0 and
 * hands sockets out round-robin. PDUs are read with a small staging buffer for headers
 * and readv() straight into task buffers for data; responses leave with writev().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define CAIRN_LOG_SS CAIRN_SS_ISCSI
#include "cairn/errno.h"
#include "common/log.h"
#include "iscsi_internal.h"
#include "rt/rt.h"

#define PG_MAX_EVENTS 128
#define CONN_RX_BUDGET 64          /* PDUs per connection per poll */
#define CONN_TX_BACKLOG (8u << 20) /* stop reading while this much is queued */
#define CONN_MAX_TX_PDUS 8192
#define TX_IOV_MAX 64
#define LISTENER_TAG 1ul

static void conn_destroy(struct iscsi_conn *conn);
static int conn_rx(struct iscsi_conn *conn);
static void conn_flush(struct iscsi_conn *conn);

/* ------------------------------------------------------------------ tx */

struct iscsi_tx_pdu *
iscsi_tx_alloc(struct iscsi_conn *conn)
{
	struct cairn_list *n = cairn_list_pop(&conn->tx_free);
	struct iscsi_tx_pdu *pdu;

	if (n) {
		pdu = cairn_container_of(n, struct iscsi_tx_pdu, link);
	} else {
		if (conn->tx_count >= CONN_MAX_TX_PDUS)
			return NULL;
		pdu = malloc(sizeof(*pdu));
		if (!pdu)
			return NULL;
		conn->tx_count++;
	}
	memset(pdu->hdr, 0, ISCSI_BHS_LEN);
	pdu->data = NULL;
	pdu->data_len = 0;
	pdu->sent = 0;
	pdu->task = NULL;
	pdu->task_last = false;
	pdu->owns_data = false;
	cairn_list_init(&pdu->link);
	return pdu;
}

static void
tx_release(struct iscsi_conn *conn, struct iscsi_tx_pdu *pdu)
{
	if (pdu->owns_data)
		free((void *)(uintptr_t)pdu->data);
	pdu->owns_data = false;
	pdu->data = NULL;
	if (pdu->task) {
		struct iscsi_task *t = pdu->task;

		pdu->task = NULL;
		iscsi_task_release(t);
	}
	cairn_list_add(&pdu->link, &conn->tx_free);
}

static void
flush_schedule(struct iscsi_conn *conn)
{
	if (!conn->on_flush_list) {
		conn->on_flush_list = true;
		cairn_list_add_tail(&conn->flush_link, &conn->pg->flush);
	}
}

void
iscsi_tx_queue(struct iscsi_conn *conn, struct iscsi_tx_pdu *pdu)
{
	uint32_t pad = iscsi_pad4(pdu->data_len);

	if (conn->state >= ISCSI_CONN_CLOSING) {
		tx_release(conn, pdu);
		return;
	}
	pdu->hdr_len = ISCSI_BHS_LEN;
	if (conn->hd) {
		iscsi_put_digest(pdu->hdr + ISCSI_BHS_LEN, iscsi_digest(pdu->hdr, ISCSI_BHS_LEN));
		pdu->hdr_len += ISCSI_DIGEST_LEN;
	}
	pdu->trailer_len = 0;
	if (pdu->data_len) {
		memset(pdu->trailer, 0, pad);
		pdu->trailer_len = pad;
		if (conn->dd) {
			uint32_t crc = iscsi_crc32c(pdu->data, pdu->data_len, ISCSI_CRC32C_INIT);

			if (pad)
				crc = iscsi_crc32c(pdu->trailer, pad, crc);
			iscsi_put_digest(pdu->trailer + pad, iscsi_crc32c_final(crc));
			pdu->trailer_len += ISCSI_DIGEST_LEN;
		}
	}
	pdu->total = pdu->hdr_len + pdu->data_len + pdu->trailer_len;
	conn->tx_bytes_queued += pdu->total;
	conn->pdus_out++;
	cairn_list_add_tail(&pdu->link, &conn->txq);
	flush_schedule(conn);
}

static void
conn_set_out(struct iscsi_conn *conn, bool on)
{
	struct epoll_event ev;

	if (conn->want_out == on)
		return;
	conn->want_out = on;
	ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
	ev.data.ptr = conn;
	epoll_ctl(conn->pg->epfd, EPOLL_CTL_MOD, conn->fd, &ev);
}

static void
conn_flush(struct iscsi_conn *conn)
{
	struct iovec iov[TX_IOV_MAX];

	while (!cairn_list_empty(&conn->txq) && conn->state < ISCSI_CONN_CLOSING) {
		struct cairn_list *it;
		int n = 0;
		ssize_t w;

		for (it = conn->txq.next; it != &conn->txq && n + 3 <= TX_IOV_MAX; it = it->next) {
			struct iscsi_tx_pdu *p = cairn_container_of(it, struct iscsi_tx_pdu, link);
			uint32_t skip = p->sent;

			if (skip < p->hdr_len) {
				iov[n].iov_base = p->hdr + skip;
				iov[n++].iov_len = p->hdr_len - skip;
				skip = 0;
			} else {
				skip -= p->hdr_len;
			}
			if (p->data_len && skip < p->data_len) {
				iov[n].iov_base = (uint8_t *)(uintptr_t)p->data + skip;
				iov[n++].iov_len = p->data_len - skip;
				skip = 0;
			} else if (p->data_len) {
				skip -= p->data_len;
			}
			if (p->trailer_len && skip < p->trailer_len) {
				iov[n].iov_base = p->trailer + skip;
				iov[n++].iov_len = p->trailer_len - skip;
			}
		}
		w = writev(conn->fd, iov, n);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				conn_set_out(conn, true);
				return;
			}
			if (errno == EINTR)
				continue;
			iscsi_conn_close(conn, "socket write failed");
			return;
		}
		conn->tx_bytes_queued -= (uint64_t)w;
		while (w > 0 && !cairn_list_empty(&conn->txq)) {
			struct iscsi_tx_pdu *p =
				cairn_container_of(conn->txq.next, struct iscsi_tx_pdu, link);
			uint32_t left = p->total - p->sent;

			if ((size_t)w < left) {
				p->sent += (uint32_t)w;
				w = 0;
				break;
			}
			w -= left;
			cairn_list_del(&p->link);
			tx_release(conn, p);
		}
	}
	if (conn->state >= ISCSI_CONN_CLOSING)
		return;
	conn_set_out(conn, false);
	if (conn->state == ISCSI_CONN_LOGOUT) {
		iscsi_conn_close(conn, NULL);
		return;
	}
	if (conn->rx_pending)
		conn_rx(conn);
}

/* ------------------------------------------------------------------ lifecycle */

static void
sockaddr_str(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, a, sizeof(a));
		port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
		snprintf(out, cap, "%s:%u", a, port);
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof(a));
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
		snprintf(out, cap, "[%s]:%u", a, port);
	} else {
		snprintf(out, cap, "?");
	}
}

void
iscsi_conn_new(struct iscsi_poll_group *pg, int fd, uint32_t pg_tag)
{
	struct iscsi_conn *conn;
	struct epoll_event ev;
	socklen_t sl;
	int one = 1;

	conn = calloc(1, sizeof(*conn));
	if (!conn)
		goto err_close;
	conn->stage = malloc(ISCSI_STAGE_BUF);
	conn->stage_cap = ISCSI_STAGE_BUF;
	conn->login = calloc(1, sizeof(*conn->login));
	if (!conn->stage || !conn->login)
		goto err_free;
	conn->fd = fd;
	conn->pg = pg;
	conn->pg_tag = pg_tag;
	conn->id = __atomic_add_fetch(&g_iscsi.next_conn_id, 1, __ATOMIC_RELAXED);
	conn->state = ISCSI_CONN_LOGIN;
	conn->rx_state = RX_BHS;
	conn->rx_need = ISCSI_BHS_LEN;
	iscsi_params_default(&conn->params);
	iscsi_params_default(&conn->login->params);
	conn->login->started_us = cairn_rt_now_us();
	conn->last_rx_us = conn->login->started_us;
	cairn_list_init(&conn->txq);
	cairn_list_init(&conn->tx_free);
	cairn_list_init(&conn->active);
	cairn_list_init(&conn->flush_link);
	cairn_list_init(&conn->sess_link);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sl = sizeof(conn->peer);
	getpeername(fd, (struct sockaddr *)&conn->peer, &sl);
	sl = sizeof(conn->local);
	getsockname(fd, (struct sockaddr *)&conn->local, &sl);
	sockaddr_str(&conn->peer, conn->peer_str, sizeof(conn->peer_str));
	sockaddr_str(&conn->local, conn->local_str, sizeof(conn->local_str));
	ev.events = EPOLLIN;
	ev.data.ptr = conn;
	if (epoll_ctl(pg->epfd, EPOLL_CTL_ADD, fd, &ev))
		goto err_free;
	cairn_list_add_tail(&conn->link, &pg->conns);
	pg->nconns++;
	CAIRN_DEBUG("connection %u from %s on %s (portal group %u)", conn->id, conn->peer_str,
		    cairn_xs_name(pg->xs), pg_tag);
	return;

err_free:
	free(conn->stage);
	free(conn->login);
	free(conn);
err_close:
	close(fd);
	__atomic_sub_fetch(&g_iscsi.nr_conns, 1, __ATOMIC_RELAXED);
	CAIRN_LOG_RATELIMIT(CAIRN_SS_ISCSI, CAIRN_LOG_ERR, 1, "out of memory for a connection");
}

void
iscsi_conn_close(struct iscsi_conn *conn, const char *why)
{
	struct cairn_list *n;
	struct iscsi_sess *sess = conn->sess;
	bool failure = conn->state == ISCSI_CONN_FFP;
	bool others;

	if (conn->state >= ISCSI_CONN_CLOSING)
		return;
	if (why)
		CAIRN_LOG_RATELIMIT(CAIRN_SS_ISCSI, CAIRN_LOG_NOTE, 10,
				    "closing connection %u (%s): %s", conn->id, conn->peer_str, why);
	conn->state = ISCSI_CONN_CLOSING;
	epoll_ctl(conn->pg->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
	close(conn->fd);
	conn->fd = -1;
	if (conn->on_flush_list) {
		cairn_list_del(&conn->flush_link);
		conn->on_flush_list = false;
	}
	while ((n = cairn_list_pop(&conn->txq))) {
		struct iscsi_tx_pdu *p = cairn_container_of(n, struct iscsi_tx_pdu, link);

		tx_release(conn, p);
	}
	conn->tx_bytes_queued = 0;
	if (sess) {
		/* ErrorRecoveryLevel 0: a connection that fails (rather than logs out) takes
		 * its session down with it. */
		others = failure && __atomic_load_n(&sess->nconns, __ATOMIC_ACQUIRE) > 1 &&
			 !__atomic_load_n(&sess->closing, __ATOMIC_ACQUIRE);
		if (others)
			__atomic_store_n(&sess->closing, true, __ATOMIC_RELEASE);
		iscsi_sess_conn_gone(conn);
		if (others)
			iscsi_sess_close(sess, "a connection of the session failed");
	}
	/* Freed from the poller once no task is inside the SCSI layer. */
	if (!conn->dead_listed) {
		conn->dead_listed = true;
		cairn_list_del(&conn->link);
		conn->pg->nconns--;
		cairn_list_add_tail(&conn->link, &conn->pg->dead);
	}
}

static void
conn_destroy(struct iscsi_conn *conn)
{
	struct cairn_list *n;
	uint32_t i;

	cairn_list_del(&conn->link);
	for (i = 0; i < CAIRN_SCSI_MAX_LUNS; i++)
		if (conn->ch[i])
			cairn_scsi_lun_put_channel(conn->ch_lun[i], conn->ch[i]);
	/* Only now may the target node (and its bdev descriptors) go away. */
	if (conn->node)
		iscsi_tgt_node_put(conn->node);
	for (i = 0; i < conn->ntasks; i++)
		iscsi_task_buf_free(&conn->tasks[i]);
	free(conn->tasks);
	free(conn->task_free);
	while ((n = cairn_list_pop(&conn->tx_free)))
		free(cairn_container_of(n, struct iscsi_tx_pdu, link));
	iscsi_login_free(conn);
	free(conn->text_rsp);
	free(conn->rx_data);
	free(conn->stage);
	free(conn);
	__atomic_sub_fetch(&g_iscsi.nr_conns, 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ rx */

static int
rx_data_buf(struct iscsi_conn *conn, uint32_t len)
{
	if (len <= conn->rx_data_cap)
		return 0;
	free(conn->rx_data);
	conn->rx_data_cap = 0;
	conn->rx_data = malloc(len);
	if (!conn->rx_data)
		return -CAIRN_ERR_NOMEM;
	conn->rx_data_cap = len;
	return 0;
}

/* The whole header (BHS, AHS, digest) is in: validate and decide where data goes. */
static int
rx_header_done(struct iscsi_conn *conn)
{
	struct iscsi_bhs_info *info = &conn->info;

	if (conn->hd) {
		uint32_t crc = iscsi_crc32c(conn->bhs, ISCSI_BHS_LEN, ISCSI_CRC32C_INIT);

		if (info->ahs_len)
			crc = iscsi_crc32c(conn->ahs, info->ahs_len, crc);
		if (iscsi_crc32c_final(crc) != iscsi_get_digest(conn->digest)) {
			/* The length fields cannot be trusted: ERL 0 drops the connection. */
			iscsi_conn_close(conn, "header digest error");
			return -CAIRN_ERR_CSUM;
		}
	}
	conn->rx_dst = NULL;
	conn->rx_task = NULL;
	conn->rx_discard = false;
	if (conn->state == ISCSI_CONN_LOGIN) {
		if (info->opcode != ISCSI_OP_LOGIN_REQ) {
			iscsi_conn_close(conn, "non-login PDU before login completed");
			return -CAIRN_ERR_PROTO;
		}
		if (info->data_len && rx_data_buf(conn, info->data_len + 4)) {
			iscsi_conn_close(conn, "out of memory");
			return -CAIRN_ERR_NOMEM;
		}
		conn->rx_dst = conn->rx_data;
		return 0;
	}
	return iscsi_ffp_rx_hdr(conn);
}

static void
rx_reset(struct iscsi_conn *conn)
{
	conn->rx_state = RX_BHS;
	conn->rx_got = 0;
	conn->rx_need = ISCSI_BHS_LEN;
}

static int
rx_pdu_done(struct iscsi_conn *conn)
{
	int rc;

	conn->pdus_in++;
	if (conn->dd && conn->info.data_len && conn->rx_dst) {
		uint32_t pad = iscsi_pad4(conn->info.data_len);
		uint32_t crc = iscsi_crc32c(conn->rx_dst, conn->info.data_len, ISCSI_CRC32C_INIT);

		if (pad)
			crc = iscsi_crc32c(conn->pad_sink, pad, crc);
		if (iscsi_crc32c_final(crc) != iscsi_get_digest(conn->digest)) {
			iscsi_send_reject(conn, ISCSI_REJECT_DIGEST, conn->bhs);
			conn->state = ISCSI_CONN_LOGOUT; /* close once the Reject is out */
			CAIRN_LOG_RATELIMIT(CAIRN_SS_ISCSI, CAIRN_LOG_WARN, 5,
					    "connection %u: data digest error", conn->id);
			rx_reset(conn);
			return -CAIRN_ERR_CSUM;
		}
	}
	if (conn->state == ISCSI_CONN_LOGIN)
		rc = iscsi_login_rx(conn, conn->rx_data, conn->info.data_len);
	else
		rc = iscsi_ffp_rx_done(conn, conn->rx_dst, conn->info.data_len);
	rx_reset(conn);
	return rc;
}

/* Advance the state machine once the current piece is complete. */
static int
rx_advance(struct iscsi_conn *conn)
{
	uint8_t reason;
	const char *why = NULL;
	int rc;

	switch (conn->rx_state) {
	case RX_BHS:
		conn->last_rx_us = cairn_rt_now_us();
		conn->nop_sent_us = 0;
		rc = iscsi_bhs_decode(conn->bhs,
				      conn->state == ISCSI_CONN_LOGIN ? 8192 :
									conn->params.max_recv_dsl,
				      &conn->info, &reason, &why);
		if (rc == -CAIRN_ERR_NOSYS) {
			/* Unknown opcode / SNACK: reject it, skip its data, carry on. */
			CAIRN_LOG_RATELIMIT(CAIRN_SS_ISCSI, CAIRN_LOG_WARN, 5,
					    "connection %u: %s (opcode 0x%02x)", conn->id, why,
					    conn->bhs[0]);
			if (conn->state == ISCSI_CONN_LOGIN) {
				iscsi_conn_close(conn, why);
				return rc;
			}
			iscsi_send_reject(conn, reason, conn->bhs);
			conn->info.opcode = 0xff;
		} else if (rc) {
			CAIRN_LOG_RATELIMIT(CAIRN_SS_ISCSI, CAIRN_LOG_WARN, 5,
					    "connection %u: malformed PDU: %s", conn->id, why);
			if (conn->state != ISCSI_CONN_LOGIN) {
				iscsi_send_reject(conn, reason, conn->bhs);
				conn->state = ISCSI_CONN_LOGOUT;
				conn_flush(conn);
				return rc;
			}
			iscsi_conn_close(conn, why);
			return rc;
		}
		if (conn->info.ahs_len) {
			conn->rx_state = RX_AHS;
			conn->rx_need = conn->info.ahs_len;
			conn->rx_got = 0;
			return 0;
		}
		/* fallthrough */
	case RX_AHS:
		if (conn->hd) {
			conn->rx_state = RX_HDIGEST;
			conn->rx_need = ISCSI_DIGEST_LEN;
			conn->rx_got = 0;
			return 0;
		}
		/* fallthrough */
	case RX_HDIGEST:
		if (conn->info.opcode == 0xff) {
			conn->rx_dst = NULL; /* rejected: discard the data */
		} else {
			rc = rx_header_done(conn);
			if (rc || conn->state >= ISCSI_CONN_CLOSING)
				return rc ? rc : -CAIRN_ERR_PROTO;
		}
		if (conn->info.data_len) {
			conn->rx_state = RX_DATA;
			conn->rx_need = conn->info.data_len;
			conn->rx_got = 0;
			return 0;
		}
		if (conn->info.opcode == 0xff) {
			rx_reset(conn);
			return 0;
		}
		return rx_pdu_done(conn);
	case RX_DATA:
		if (iscsi_pad4(conn->info.data_len)) {
			conn->rx_state = RX_PAD;
			conn->rx_need = iscsi_pad4(conn->info.data_len);
			conn->rx_got = 0;
			return 0;
		}
		/* fallthrough */
	case RX_PAD:
		if (conn->dd) {
			conn->rx_state = RX_DDIGEST;
			conn->rx_need = ISCSI_DIGEST_LEN;
			conn->rx_got = 0;
			return 0;
		}
		/* fallthrough */
	case RX_DDIGEST:
		if (conn->info.opcode == 0xff) {
			rx_reset(conn);
			return 0;
		}
		return rx_pdu_done(conn);
	}
	return 0;
}

static uint8_t *
rx_target(struct iscsi_conn *conn)
{
	switch (conn->rx_state) {
	case RX_BHS:
		return conn->bhs + conn->rx_got;
	case RX_AHS:
		return conn->ahs + conn->rx_got;
	case RX_HDIGEST:
	case RX_DDIGEST:
		return conn->digest + conn->rx_got;
	case RX_DATA:
		return conn->rx_dst ? conn->rx_dst + conn->rx_got : NULL;
	case RX_PAD:
		return conn->pad_sink + conn->rx_got;
	}
	return NULL;
}

static int
conn_rx(struct iscsi_conn *conn)
{
	uint32_t start = conn->pdus_in;
	int work = 0;

	conn->rx_pending = false;
	if (conn->state == ISCSI_CONN_FFP && conn->stage_cap < ISCSI_STAGE_BUF_FFP && conn->sess &&
	    !conn->sess->discovery) {
		/* Traffic again after an idle shrink: back to the large staging buffer
		 * (offsets stay valid; on failure the small one keeps working). */
		uint8_t *st = realloc(conn->stage, ISCSI_STAGE_BUF_FFP);

		if (st) {
			conn->stage = st;
			conn->stage_cap = ISCSI_STAGE_BUF_FFP;
		}
	}
	while (conn->state < ISCSI_CONN_CLOSING && conn->state != ISCSI_CONN_LOGOUT) {
		uint32_t avail = conn->stage_tail - conn->stage_head;
		uint32_t need = conn->rx_need - conn->rx_got;
		uint8_t *dst = rx_target(conn);
		ssize_t r;

		if (need == 0) {
			/* The piece is complete (filled by readv): move on. */
			if (rx_advance(conn) && conn->state >= ISCSI_CONN_CLOSING)
				return 1;
			if (conn->migrate_to) {
				struct iscsi_poll_group *to = conn->migrate_to;

				/* Last touch on this xstream: the session's xstream owns the
				 * connection as soon as the message is sent. */
				conn->migrate_to = NULL;
				iscsi_conn_migrate(conn, to);
				return 1;
			}
			work = 1;
			continue;
		}

		if (conn->rx_state == RX_BHS && conn->rx_got == 0) {
			if (conn->pdus_in - start >= CONN_RX_BUDGET ||
			    conn->tx_bytes_queued > CONN_TX_BACKLOG) {
				/* Come back after the flush: bytes may sit in the stage buffer
				 * with nothing left for epoll to report. */
				conn->rx_pending = true;
				flush_schedule(conn);
				return work;
			}
		}
		if (avail) {
			uint32_t n = avail < need ? avail : need;

			if (dst)
				memcpy(dst, conn->stage + conn->stage_head, n);
			conn->stage_head += n;
			conn->rx_got += n;
		} else {
			conn->stage_head = conn->stage_tail = 0;
			if (dst && need >= 1024) {
				/* Big data segment: land it in place, headers behind it. */
				struct iovec iov[2] = {{dst, need}, {conn->stage, conn->stage_cap}};

				r = readv(conn->fd, iov, 2);
				if (r > 0) {
					uint32_t n = (size_t)r < need ? (uint32_t)r : need;

					conn->rx_got += n;
					conn->stage_tail = (uint32_t)r - n;
				}
			} else {
				r = recv(conn->fd, conn->stage, conn->stage_cap, 0);
				if (r > 0)
					conn->stage_tail = (uint32_t)r;
			}
			if (r == 0) {
				iscsi_conn_close(conn, conn->state == ISCSI_CONN_LOGIN ?
							       "peer closed during login" :
							       NULL);
				return work;
			}
			if (r < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return work;
				if (errno == EINTR)
					continue;
				iscsi_conn_close(conn, "socket read failed");
				return work;
			}
			work = 1;
			continue;
		}
	}
	return work;
}

/* ------------------------------------------------------------------ poll groups */

struct conn_new_msg {
	struct iscsi_poll_group *pg;
	int fd;
	uint32_t tag;
};

static void iscsi_conn_new_msg(void *arg);

static void
acceptor_accept(struct iscsi_poll_group *pg, struct iscsi_listener *l)
{
	unsigned i;

	for (i = 0; i < 64; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct iscsi_poll_group *to;
		unsigned idx;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				CAIRN_LOG_RATELIMIT(CAIRN_SS_ISCSI, CAIRN_LOG_ERR, 1,
						    "accept on %s:%s: %s", l->portal.host,
						    l->portal.port, strerror(errno));
			return;
		}
		if (__atomic_add_fetch(&g_iscsi.nr_conns, 1, __ATOMIC_RELAXED) >
		    g_iscsi.opts.max_connections) {
			__atomic_sub_fetch(&g_iscsi.nr_conns, 1, __ATOMIC_RELAXED);
			close(fd);
			CAIRN_LOG_RATELIMIT(CAIRN_SS_ISCSI, CAIRN_LOG_WARN, 1,
					    "connection limit (%u) reached: refusing",
					    g_iscsi.opts.max_connections);
			continue;
		}
		idx = __atomic_fetch_add(&g_iscsi.next_pg, 1, __ATOMIC_RELAXED) % g_iscsi.npg;
		to = &g_iscsi.pgs[idx];
		if (to == pg) {
			iscsi_conn_new(pg, fd, l->pg_tag);
		} else {
			struct conn_new_msg *m = malloc(sizeof(*m));

			if (!m) {
				close(fd);
				__atomic_sub_fetch(&g_iscsi.nr_conns, 1, __ATOMIC_RELAXED);
				continue;
			}
			m->pg = to;
			m->fd = fd;
			m->tag = l->pg_tag;
			if (cairn_rt_send_msg(to->xs, iscsi_conn_new_msg, m)) {
				free(m);
				close(fd);
				__atomic_sub_fetch(&g_iscsi.nr_conns, 1, __ATOMIC_RELAXED);
			}
		}
	}
}

static void
iscsi_conn_new_msg(void *arg)
{
	struct conn_new_msg *m = arg;

	if (m->pg->stopping) {
		close(m->fd);
		__atomic_sub_fetch(&g_iscsi.nr_conns, 1, __ATOMIC_RELAXED);
	} else {
		iscsi_conn_new(m->pg, m->fd, m->tag);
	}
	free(m);
}

static void
pg_reap(struct iscsi_poll_group *pg)
{
	struct cairn_list *it, *next;

	for (it = pg->dead.next; it != &pg->dead; it = next) {
		struct iscsi_conn *c = cairn_container_of(it, struct iscsi_conn, link);

		next = it->next;
		if (c->inflight_exec == 0)
			conn_destroy(c);
	}
}

static int
pg_poll(void *arg)
{
	struct iscsi_poll_group *pg = arg;
	struct epoll_event evs[PG_MAX_EVENTS];
	int n, i, work = 0;

	n = epoll_wait(pg->epfd, evs, PG_MAX_EVENTS, 0);
	for (i = 0; i < n; i++) {
		uintptr_t p = (uintptr_t)evs[i].data.ptr;

		if (p & LISTENER_TAG) {
			acceptor_accept(pg, (struct iscsi_listener *)(p & ~LISTENER_TAG));
			work = 1;
			continue;
		}
		{
			struct iscsi_conn *c = (struct iscsi_conn *)p;

			if (c->state >= ISCSI_CONN_CLOSING)
				continue;
			if (evs[i].events & EPOLLOUT)
				conn_flush(c);
			if (c->state < ISCSI_CONN_CLOSING &&
			    (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
				work |= conn_rx(c);
			work = 1;
		}
	}
	while (!cairn_list_empty(&pg->flush)) {
		struct iscsi_conn *c = cairn_container_of(pg->flush.next, struct iscsi_conn,
							  flush_link);

		cairn_list_del(&c->flush_link);
		c->on_flush_list = false;
		conn_flush(c);
		work = 1;
	}
	if (!cairn_list_empty(&pg->dead))
		pg_reap(pg);
	return work;
}

/* An idle session keeps only the login-size staging buffer (64 KiB -> 8 KiB); conn_rx
 * grows it again when PDUs arrive. Only when nothing is staged. */
#define CONN_IDLE_SHRINK_US 1000000

static void
conn_shrink_idle(struct iscsi_conn *c, uint64_t now)
{
	uint8_t *st;

	if (c->stage_cap <= ISCSI_STAGE_BUF || c->stage_tail != c->stage_head ||
	    now - c->last_rx_us < CONN_IDLE_SHRINK_US)
		return;
	st = realloc(c->stage, ISCSI_STAGE_BUF);
	if (!st)
		return;
	c->stage = st;
	c->stage_cap = ISCSI_STAGE_BUF;
	c->stage_head = c->stage_tail = 0;
}

/* Give back the channels of hot-removed LUNs that no task of conn still uses, so the
 * LUN can close its descriptor and the bdev delete completes. */
static void
conn_release_removed_luns(struct iscsi_conn *c)
{
	unsigned i;
	uint32_t j;

	for (i = 0; i < CAIRN_SCSI_MAX_LUNS; i++) {
		struct cairn_scsi_lun *lun = c->ch_lun[i];
		bool busy = false;

		if (!c->ch[i] || !cairn_scsi_lun_removed(lun))
			continue;
		for (j = 0; j < c->ntasks && !busy; j++)
			busy = c->tasks[j].state != ISCSI_TASK_FREE && c->tasks[j].scsi.lun == lun;
		if (busy)
			continue;
		cairn_scsi_lun_put_channel(lun, c->ch[i]);
		c->ch[i] = NULL;
		c->ch_lun[i] = NULL;
	}
}

static int
pg_timer(void *arg)
{
	struct iscsi_poll_group *pg = arg;
	uint64_t now = cairn_rt_now_us();
	struct cairn_list *it, *next;
	uint64_t login_to = (uint64_t)g_iscsi.opts.login_timeout_ms * 1000;
	uint64_t nop_iv = (uint64_t)g_iscsi.opts.nop_in_interval_s * 1000000;
	uint64_t nop_to = (uint64_t)g_iscsi.opts.nop_in_timeout_s * 1000000;

	for (it = pg->conns.next; it != &pg->conns; it = next) {
		struct iscsi_conn *c = cairn_container_of(it, struct iscsi_conn, link);

		next = it->next;
		if (c->state == ISCSI_CONN_LOGIN) {
			if (now - c->login->started_us > login_to)
				iscsi_conn_close(c, "login did not complete in time");
			continue;
		}
		if (c->state == ISCSI_CONN_FFP) {
			conn_release_removed_luns(c);
			conn_shrink_idle(c, now);
		}
		if (c->state != ISCSI_CONN_FFP || !nop_iv)
			continue;
		if (c->nop_sent_us) {
			if (now - c->nop_sent_us > nop_to)
				iscsi_conn_close(c, "no answer to NOP-In keep-alive");
		} else if (now - c->last_rx_us > nop_iv) {
			c->nop_sent_us = now;
			iscsi_send_nopin_ping(c);
		}
	}
	pg_reap(pg);
	return 0;
}

static void
pg_start_ult(void *arg)
{
	struct iscsi_poll_group *pg = arg;

	pg->poller = cairn_poller_register(pg_poll, pg, 0, "iscsi_pg");
	pg->timer = cairn_poller_register(pg_timer, pg, 100000, "iscsi_timer");
	if (cairn_rt_wake_fd_add(pg->epfd, EPOLLIN))
		CAIRN_WARN("poll group %u: cannot register its epoll fd for wake-ups", pg->idx);
}

static void
pg_stop_ult(void *arg)
{
	struct iscsi_poll_group *pg = arg;
	struct cairn_list *it, *next;
	uint64_t start = cairn_rt_now_us();

	pg->stopping = true;
	for (it = pg->conns.next; it != &pg->conns; it = next) {
		next = it->next;
		iscsi_conn_close(cairn_container_of(it, struct iscsi_conn, link), NULL);
	}
	/* Let in-flight bdev I/O of closed connections complete (bounded). */
	while (!cairn_list_empty(&pg->dead) && cairn_rt_now_us() - start < 5000000) {
		pg_reap(pg);
		if (!cairn_list_empty(&pg->dead))
			cairn_ult_yield();
	}
	while (pg->listeners) {
		struct iscsi_listener *l = pg->listeners;

		pg->listeners = l->next_active;
		epoll_ctl(pg->epfd, EPOLL_CTL_DEL, l->fd, NULL);
		close(l->fd);
		free(l);
	}
	cairn_rt_wake_fd_del(pg->epfd);
	cairn_poller_unregister(&pg->poller);
	cairn_poller_unregister(&pg->timer);
	iscsi_pg_pool_fini(pg);
}

int
iscsi_pg_start_all(void)
{
	unsigned n = g_iscsi.opts.nr_poll_groups, i, nmain = cairn_xs_count_role(CAIRN_XS_MAIN);
	int rc;

	if (n == 0 || n > (nmain ? nmain : 1))
		n = nmain ? nmain : 1;
	g_iscsi.pgs = calloc(n, sizeof(*g_iscsi.pgs));
	if (!g_iscsi.pgs)
		return -CAIRN_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		struct iscsi_poll_group *pg = &g_iscsi.pgs[i];

		pg->idx = i;
		pg->xs = nmain ? cairn_xs_by_role(CAIRN_XS_MAIN, i) :
				 cairn_xs_by_role(CAIRN_XS_SYSTEM, 0);
		cairn_list_init(&pg->conns);
		cairn_list_init(&pg->flush);
		cairn_list_init(&pg->dead);
		for (unsigned c = 0; c < ISCSI_BUF_CLASSES; c++)
			cairn_list_init(&pg->buf_pool[c]);
		pg->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (!pg->xs || pg->epfd < 0) {
			rc = pg->xs ? -errno : -CAIRN_ERR_INVAL;
			goto err;
		}
		g_iscsi.npg = i + 1;
		rc = cairn_rt_run_sync(pg->xs, pg_start_ult, pg);
		if (rc || !pg->poller || !pg->timer) {
			rc = rc ? rc : -CAIRN_ERR_NOMEM;
			goto err;
		}
	}
	return 0;
err:
	iscsi_pg_stop_all();
	return rc;
}

void
iscsi_pg_stop_all(void)
{
	unsigned i;

	for (i = 0; i < g_iscsi.npg; i++) {
		struct iscsi_poll_group *pg = &g_iscsi.pgs[i];

		if (pg->poller || pg->timer)
			cairn_rt_run_sync(pg->xs, pg_stop_ult, pg);
		if (pg->epfd >= 0)
			close(pg->epfd);
	}
	free(g_iscsi.pgs);
	g_iscsi.pgs = NULL;
	g_iscsi.npg = 0;
}

/* ------------------------------------------------------------------ acceptor */

static void
acceptor_add_msg(void *arg)
{
	struct iscsi_listener *l = arg;
	struct iscsi_poll_group *pg = &g_iscsi.pgs[0];
	struct epoll_event ev;

	ev.events = EPOLLIN;
	ev.data.ptr = (void *)((uintptr_t)l | LISTENER_TAG);
	if (epoll_ctl(pg->epfd, EPOLL_CTL_ADD, l->fd, &ev))
		CAIRN_ERROR("portal %s:%s: cannot poll the listener: %s", l->portal.host,
			    l->portal.port, strerror(errno));
	l->next_active = pg->listeners;
	pg->listeners = l;
}

void
iscsi_acceptor_add(struct iscsi_listener *l)
{
	if (cairn_rt_send_msg(g_iscsi.pgs[0].xs, acceptor_add_msg, l)) {
		close(l->fd);
		l->fd = -1;
	}
}

static void
acceptor_remove_msg(void *arg)
{
	struct iscsi_listener *l = arg;
	struct iscsi_poll_group *pg = &g_iscsi.pgs[0];
	struct iscsi_listener **pp;

	for (pp = &pg->listeners; *pp; pp = &(*pp)->next_active) {
		if (*pp == l) {
			*pp = l->next_active;
			break;
		}
	}
	epoll_ctl(pg->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	close(l->fd);
	free(l);
}

void
iscsi_acceptor_remove(struct iscsi_listener *l)
{
	if (l->fd < 0 || !g_iscsi.pgs || cairn_rt_send_msg(g_iscsi.pgs[0].xs, acceptor_remove_msg,
							   l)) {
		if (l->fd >= 0)
			close(l->fd);
		free(l);
	}
}

/* ------------------------------------------------------------------ migration (MC/S) */

struct migrate_msg {
	struct iscsi_conn *conn;
	struct iscsi_poll_group *to;
	uint16_t tsih;
};

static void
migrate_in_msg(void *arg)
{
	struct migrate_msg *m = arg;
	struct iscsi_conn *conn = m->conn;
	struct iscsi_poll_group *pg = m->to;
	struct epoll_event ev;
	struct cairn_list *it;
	struct iscsi_sess *sess = NULL;

	conn->pg = pg;
	cairn_list_add_tail(&conn->link, &pg->conns);
	pg->nconns++;
	ev.events = EPOLLIN;
	ev.data.ptr = conn;
	pthread_mutex_lock(&g_iscsi.lock);
	for (it = g_iscsi.sessions.next; it != &g_iscsi.sessions; it = it->next) {
		struct iscsi_sess *s = cairn_container_of(it, struct iscsi_sess, link);

		if (s->tsih == m->tsih && !__atomic_load_n(&s->closing, __ATOMIC_ACQUIRE)) {
			sess = s;
			break;
		}
	}
	pthread_mutex_unlock(&g_iscsi.lock);
	free(m);
	if (epoll_ctl(pg->epfd, EPOLL_CTL_ADD, conn->fd, &ev)) {
		conn->sess = NULL;
		iscsi_conn_close(conn, "cannot poll the migrated connection");
		return;
	}
	if (!sess) {
		conn->sess = NULL;
		iscsi_conn_close(conn, "session went away during login");
		return;
	}
	conn->sess = sess;
	cairn_list_add_tail(&conn->sess_link, &sess->conns);
	__atomic_add_fetch(&sess->nconns, 1, __ATOMIC_ACQ_REL);
	flush_schedule(conn);
	if (conn->stage_tail > conn->stage_head)
		conn->rx_pending = true;
}

void
iscsi_conn_migrate(struct iscsi_conn *conn, struct iscsi_poll_group *to)
{
	struct migrate_msg *m = malloc(sizeof(*m));

	if (!m) {
		iscsi_conn_close(conn, "out of memory");
		return;
	}
	m->conn = conn;
	m->to = to;
	m->tsih = conn->join_tsih;
	/* Leave this poll group; the session's xstream takes the connection over. */
	epoll_ctl(conn->pg->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
	if (conn->on_flush_list) {
		cairn_list_del(&conn->flush_link);
		conn->on_flush_list = false;
	}
	cairn_list_del(&conn->link);
	conn->pg->nconns--;
	conn->want_out = false;
	if (cairn_rt_send_msg(to->xs, migrate_in_msg, m)) {
		free(m);
		cairn_list_add_tail(&conn->link, &conn->pg->conns);
		conn->pg->nconns++;
		conn->sess = NULL;
		iscsi_conn_close(conn, "runtime stopping");
	}
}
