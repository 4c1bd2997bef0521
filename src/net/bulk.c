/*
 * Bulk: registered memory (scatter-gather lists with ids) and transfers started from a
 * handler. Data moves on the request's connection as segments of up to NET_SEG_SIZE:
 *   GET: server -> BULK_GET(xfer, bulk id, offset, length); client -> BULK_GET_DATA
 *        segments straight from its registered iovecs (writev); the server reads them
 *        straight into its local bulk (readv).
 *   PUT: server -> BULK_PUT_DATA segments (LAST on the final one); client reads them into
 *        its registered iovecs and answers BULK_PUT_ACK(status).
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#define CAIRN_LOG_SS CAIRN_SS_NET
#include "common/log.h"
#include "net_internal.h"
#include "rt/rt.h"

int
cairn_bulk_create(struct cairn_net_ctx *c, const struct iovec *iov, unsigned cnt, uint16_t perm,
                  struct cairn_bulk **out)
{
	struct net_ctx_impl *ctx = net_impl(c);
	struct cairn_bulk *b;
	uint64_t len = 0;
	unsigned i;

	if (ctx == NULL || out == NULL || cnt > CAIRN_BULK_MAX_IOV || (cnt && iov == NULL) ||
	    (perm != CAIRN_BULK_RO && perm != CAIRN_BULK_RW) ||
	    !net_ctx_on_owner(ctx, "cairn_bulk_create"))
		return -CAIRN_ERR_INVAL;
	for (i = 0; i < cnt; i++) {
		if (iov[i].iov_len && iov[i].iov_base == NULL)
			return -CAIRN_ERR_INVAL;
		len += iov[i].iov_len;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -CAIRN_ERR_NOMEM;
	b->iov = calloc(cnt ? cnt : 1, sizeof(*iov));
	if (b->iov == NULL) {
		free(b);
		return -CAIRN_ERR_NOMEM;
	}
	if (cnt)
		memcpy(b->iov, iov, cnt * sizeof(*iov));
	b->cnt = cnt;
	b->len = len;
	b->perm = perm;
	b->refs = 1;
	b->ctx = ctx;
	/* Unique low half (hash key), random high half: a peer cannot reach memory whose
	 * descriptor it was never sent by guessing ids. */
	ctx->rng ^= ctx->rng << 13;
	ctx->rng ^= ctx->rng >> 7;
	ctx->rng ^= ctx->rng << 17;
	b->id = (ctx->rng & 0xffffffff00000000ull) | (ctx->next_id++ & 0xffffffffull);
	cairn_list_add(&b->hlink, &ctx->bulk_hash[b->id & 255]);
	net_ctx_addref(ctx);
	*out = b;
	return 0;
}

void
net_bulk_put(struct cairn_bulk *b)
{
	struct net_ctx_impl *ctx = b->ctx;

	if (--b->refs > 0)
		return;
	free(b->iov);
	free(b);
	net_ctx_decref(ctx);
}

void
cairn_bulk_free(struct cairn_bulk *b)
{
	if (b == NULL || b->freed)
		return;
	b->freed = true;
	cairn_list_del(&b->hlink);
	net_bulk_put(b);
}

void
cairn_bulk_get_desc(const struct cairn_bulk *b, struct cairn_bulk_desc *d)
{
	d->rank = b->ctx->rank;
	d->tag = b->ctx->tag;
	d->flags = b->perm;
	d->id = b->id;
	d->len = b->len;
}

uint64_t
cairn_bulk_len(const struct cairn_bulk *b)
{
	return b->len;
}

static struct cairn_bulk *
bulk_find(struct net_ctx_impl *ctx, uint64_t id)
{
	struct cairn_list *h = &ctx->bulk_hash[id & 255], *l;

	for (l = h->next; l != h; l = l->next) {
		struct cairn_bulk *b = cairn_container_of(l, struct cairn_bulk, hlink);

		if (b->id == id)
			return b;
	}
	return NULL;
}

static struct net_xfer *
xfer_find(struct net_ctx_impl *ctx, uint64_t id)
{
	struct cairn_list *h = &ctx->xfer_hash[id & 255], *l;

	for (l = h->next; l != h; l = l->next) {
		struct net_xfer *x = cairn_container_of(l, struct net_xfer, hlink);

		if (x->id == id)
			return x;
	}
	return NULL;
}

unsigned
net_bulk_map(const struct cairn_bulk *b, uint64_t off, uint64_t len, struct iovec *dst,
             unsigned max, uint64_t *mapped)
{
	unsigned i, n = 0;

	*mapped = 0;
	for (i = 0; i < b->cnt && len > 0 && n < max; i++) {
		uint64_t l = b->iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		dst[n].iov_base = (uint8_t *)b->iov[i].iov_base + off;
		dst[n].iov_len = (size_t)(l - off < len ? l - off : len);
		len -= dst[n].iov_len;
		*mapped += dst[n].iov_len;
		off = 0;
		n++;
	}
	return n;
}

/* The vectors covering [off, off+len) of b; -1 if more than max are needed. */
static int
iov_slice(const struct cairn_bulk *b, uint64_t off, uint64_t len, struct iovec *dst, unsigned max)
{
	unsigned i, n = 0;

	for (i = 0; i < b->cnt && len > 0; i++) {
		uint64_t l = b->iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		if (n == max)
			return -1;
		dst[n].iov_base = (uint8_t *)b->iov[i].iov_base + off;
		dst[n].iov_len = (size_t)(l - off < len ? l - off : len);
		len -= dst[n].iov_len;
		off = 0;
		n++;
	}
	return (int)n;
}

static unsigned
iov_count(const struct cairn_bulk *b, uint64_t off, uint64_t len)
{
	unsigned i, n = 0;

	for (i = 0; i < b->cnt && len > 0; i++) {
		uint64_t l = b->iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		len -= l - off < len ? l - off : len;
		off = 0;
		n++;
	}
	return n;
}

/* Queue data segments of b[off, off+len) with the given header template. */
static int
send_segments(struct net_conn *conn, struct cairn_bulk *b, uint64_t off, uint64_t len,
              struct cairn_net_hdr *h)
{
	uint64_t done = 0;
	uint64_t base = h->aux2;

	do {
		uint64_t seg = len - done < NET_SEG_SIZE ? len - done : NET_SEG_SIZE;
		unsigned cnt = iov_count(b, off + done, seg);
		struct net_tx_msg *m;

		h->aux2 = base + done;
		h->body_len = (uint32_t)seg;
		h->flags = done + seg == len ? CAIRN_NET_F_LAST : 0;
		m = net_msg_alloc(h, NULL, 0);
		if (m == NULL)
			return -CAIRN_ERR_NOMEM;
		if (cnt > 2) {
			m->data = calloc(cnt, sizeof(struct iovec));
			if (m->data == NULL) {
				free(m);
				return -CAIRN_ERR_NOMEM;
			}
		} else {
			m->data = m->inl;
		}
		m->data_cnt = (unsigned)iov_slice(b, off + done, seg, m->data, cnt ? cnt : 1);
		m->bulk = b;
		b->refs++;
		conn->ctx->tp->send(conn, m);
		conn->ctx->st.bulk_bytes_out += seg;
		done += seg;
	} while (done < len);
	return 0;
}

static void
xfer_finish(struct net_xfer *x, int rc)
{
	if (x->finished)
		return;
	x->finished = true;
	x->rc = rc;
	/* Data for this transfer still arriving must not land in memory the handler may
	 * reuse once it sees the error: discard the rest of the segment. */
	if (x->conn && x->conn->rx_xfer == x) {
		x->conn->rx_xfer = NULL;
		x->conn->rx_dst = NULL;
		x->conn->rx_iov_cnt = x->conn->rx_iov_idx = 0;
		if (x->conn->rx_state == RX_DATA)
			x->conn->rx_state = RX_DISCARD;
	}
	cairn_list_del(&x->link);
	cairn_list_del(&x->hlink);
	cairn_list_del(&x->tlink);
	cairn_list_add_tail(&x->dlink, &x->ctx->xdone);
}

void
net_xfer_run_done(struct net_ctx_impl *ctx)
{
	struct cairn_list *l;

	while ((l = cairn_list_pop(&ctx->xdone)) != NULL) {
		struct net_xfer *x = cairn_container_of(l, struct net_xfer, dlink);

		if (x->cb)
			x->cb(x->cb_arg, x->rc);
		net_bulk_put(x->local);
		free(x);
	}
}

unsigned
net_xfer_timeouts(struct net_ctx_impl *ctx, uint64_t now)
{
	struct cairn_list *l, *next;
	unsigned n = 0;

	for (l = ctx->xfers.next; l != &ctx->xfers; l = next) {
		struct net_xfer *x = cairn_container_of(l, struct net_xfer, tlink);

		next = l->next;
		if (x->deadline <= now) {
			ctx->st.timeouts++;
			xfer_finish(x, -CAIRN_ERR_TIMEDOUT);
			n++;
		}
	}
	return n;
}

void
net_xfer_fail_conn(struct net_conn *conn, int rc)
{
	while (!cairn_list_empty(&conn->xfers))
		xfer_finish(cairn_container_of(conn->xfers.next, struct net_xfer, link), rc);
	conn->rx_dst = NULL;
	if (conn->rx_bulk) {
		net_bulk_put(conn->rx_bulk);
		conn->rx_bulk = NULL;
	}
	conn->rx_xfer = NULL;
}

int
cairn_bulk_transfer(struct cairn_rpc *rpc, enum cairn_bulk_op op,
                    const struct cairn_bulk_desc *remote, uint64_t roff, struct cairn_bulk *local,
                    uint64_t loff, uint64_t len, cairn_net_cb cb, void *cb_arg)
{
	struct net_ctx_impl *ctx;
	struct net_xfer *x;
	struct cairn_net_hdr h;
	int rc;

	if (rpc == NULL || !rpc->server || remote == NULL || local == NULL ||
	    (op != CAIRN_BULK_GET && op != CAIRN_BULK_PUT))
		return -CAIRN_ERR_INVAL;
	ctx = rpc->ctx;
	if (local->ctx != ctx || local->freed || !net_ctx_on_owner(ctx, "cairn_bulk_transfer"))
		return -CAIRN_ERR_INVAL;
	if (loff > local->len || len > local->len - loff || roff > remote->len ||
	    len > remote->len - roff)
		return -CAIRN_ERR_OVERFLOW;
	if (op == CAIRN_BULK_PUT && (remote->flags & CAIRN_BULK_RW) != CAIRN_BULK_RW)
		return -CAIRN_ERR_PERM;
	if (rpc->conn == NULL || rpc->conn->closed)
		return -CAIRN_ERR_UNREACH;
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -CAIRN_ERR_NOMEM;
	x->ctx = ctx;
	x->id = ctx->next_id++;
	x->op = op;
	x->conn = rpc->conn;
	x->local = local;
	local->refs++;
	x->loff = loff;
	x->len = len;
	x->cb = cb;
	x->cb_arg = cb_arg;
	cairn_list_add_tail(&x->link, &rpc->conn->xfers);
	cairn_list_add(&x->hlink, &ctx->xfer_hash[x->id & 255]);
	cairn_list_init(&x->dlink);
	x->deadline = cairn_rt_now_us() + (rpc->timeout_us && rpc->timeout_us < ctx->opts.timeout_us
	                                           ? rpc->timeout_us
	                                           : ctx->opts.timeout_us);
	cairn_list_add_tail(&x->tlink, &ctx->xfers);
	net_tmo_arm(ctx);
	if (len == 0) {
		xfer_finish(x, 0);
		return 0;
	}
	memset(&h, 0, sizeof(h));
	h.rpc_id = x->id;
	h.aux = remote->id;
	h.aux2 = roff;
	if (op == CAIRN_BULK_GET) {
		uint8_t *body = malloc(8);
		struct net_tx_msg *m;

		if (body == NULL) {
			rc = -CAIRN_ERR_NOMEM;
			goto err;
		}
		cairn_put_le64(body, len);
		h.type = CAIRN_NET_MSG_BULK_GET;
		h.body_len = 8;
		m = net_msg_alloc(&h, body, 8);
		if (m == NULL) {
			free(body);
			rc = -CAIRN_ERR_NOMEM;
			goto err;
		}
		ctx->tp->send(rpc->conn, m);
		return 0;
	}
	h.type = CAIRN_NET_MSG_BULK_PUT_DATA;
	rc = send_segments(rpc->conn, local, loff, len, &h);
	if (rc) {
		/* Segments already queued would leave the peer waiting for LAST: drop the
		 * connection rather than leave it inconsistent. */
		ctx->tp->close(rpc->conn, -CAIRN_ERR_NOMEM);
		return rc;
	}
	return 0;
err:
	cairn_list_del(&x->link);
	cairn_list_del(&x->hlink);
	cairn_list_del(&x->tlink);
	net_bulk_put(local);
	free(x);
	return rc;
}

struct xfer_waiter {
	volatile bool done;
	int rc;
	struct cairn_ult *ult;
};

static void
xfer_wait_cb(void *arg, int rc)
{
	struct xfer_waiter *w = arg;

	w->rc = rc;
	w->done = true;
	if (w->ult)
		cairn_ult_wake(w->ult);
}

int
cairn_bulk_transfer_wait(struct cairn_rpc *rpc, enum cairn_bulk_op op,
                         const struct cairn_bulk_desc *remote, uint64_t roff,
                         struct cairn_bulk *local, uint64_t loff, uint64_t len)
{
	struct xfer_waiter w = {.done = false, .rc = 0, .ult = NULL};
	int rc;

	if (rpc == NULL)
		return -CAIRN_ERR_INVAL;
	if (!rpc->ctx->manual) {
		w.ult = cairn_ult_self();
		if (w.ult == NULL)
			return -CAIRN_ERR_INVAL;
	}
	rc = cairn_bulk_transfer(rpc, op, remote, roff, local, loff, len, xfer_wait_cb, &w);
	if (rc)
		return rc;
	net_wait_flag(rpc->ctx, &w.done);
	return w.rc;
}

/* ------------------------------------------------------------------ receive side */

static void
send_simple(struct net_conn *conn, uint8_t type, uint64_t id, int status, uint16_t flags)
{
	struct cairn_net_hdr h = {.type = type, .rpc_id = id, .status = status, .flags = flags};
	struct net_tx_msg *m = net_msg_alloc(&h, NULL, 0);

	if (m)
		conn->ctx->tp->send(conn, m);
}

/* BULK_GET and BULK_PUT_ACK (messages with a small body). */
void
net_bulk_msg(struct net_conn *conn, const struct cairn_net_hdr *h, uint8_t *body)
{
	struct net_ctx_impl *ctx = conn->ctx;

	if (h->type == CAIRN_NET_MSG_BULK_GET) {
		struct cairn_bulk *b = bulk_find(ctx, h->aux);
		uint64_t len = 0;
		struct cairn_net_hdr d;
		int rc = 0;

		if (h->body_len != 8)
			rc = -CAIRN_ERR_PROTO;
		else
			len = cairn_get_le64(body);
		free(body);
		if (rc == 0 && b == NULL)
			rc = -CAIRN_ERR_NONEXIST;
		if (rc == 0 && (h->aux2 > b->len || len > b->len - h->aux2))
			rc = -CAIRN_ERR_OVERFLOW;
		if (rc == 0 && len == 0)
			rc = -CAIRN_ERR_PROTO;
		if (rc) {
			CAIRN_LOG_RATELIMIT(CAIRN_SS_NET, CAIRN_LOG_WARN, 5,
			                    "%s: bulk GET of bulk %lu: %s", conn->name,
			                    (unsigned long)h->aux, cairn_strerror(rc));
			send_simple(conn, CAIRN_NET_MSG_BULK_GET_DATA, h->rpc_id, rc,
			            CAIRN_NET_F_LAST);
			return;
		}
		memset(&d, 0, sizeof(d));
		d.type = CAIRN_NET_MSG_BULK_GET_DATA;
		d.rpc_id = h->rpc_id;
		d.aux = h->aux;
		d.aux2 = 0; /* offsets in GET_DATA are relative to the transfer */
		if (send_segments(conn, b, h->aux2, len, &d) != 0)
			ctx->tp->close(conn, -CAIRN_ERR_NOMEM);
		return;
	}
	if (h->type == CAIRN_NET_MSG_BULK_PUT_ACK) {
		struct net_xfer *x = xfer_find(ctx, h->rpc_id);

		free(body);
		if (x == NULL || x->conn != conn || x->op != CAIRN_BULK_PUT) {
			ctx->st.proto_errors++;
			return;
		}
		xfer_finish(x, h->status > 0 ? -CAIRN_ERR_PROTO : h->status);
		return;
	}
	free(body);
	ctx->st.proto_errors++;
	CAIRN_LOG_RATELIMIT(CAIRN_SS_NET, CAIRN_LOG_WARN, 5, "%s: unexpected message type %u",
	                    conn->name, h->type);
}

int
net_on_data_hdr(struct net_conn *conn, const struct cairn_net_hdr *h)
{
	struct net_ctx_impl *ctx = conn->ctx;
	if (h->type == CAIRN_NET_MSG_BULK_GET_DATA) {
		struct net_xfer *x = xfer_find(ctx, h->rpc_id);

		conn->rx_xfer = NULL;
		if (x == NULL || x->conn != conn || x->op != CAIRN_BULK_GET)
			return -CAIRN_ERR_NONEXIST;
		conn->rx_xfer = x;
		if (h->status != 0)
			return h->status > 0 ? -CAIRN_ERR_PROTO : h->status;
		if (h->aux2 != x->done_bytes || h->body_len > x->len - x->done_bytes)
			return -CAIRN_ERR_PROTO;
		conn->rx_dst = x->local;
		conn->rx_dst_off = x->loff + h->aux2;
		conn->rx_dst_end = conn->rx_dst_off + h->body_len;
		return 0;
	}
	/* PUT_DATA */
	{
		struct cairn_bulk *b = bulk_find(ctx, h->aux);
		int rc = 0;

		if (b == NULL)
			rc = -CAIRN_ERR_NONEXIST;
		else if ((b->perm & CAIRN_BULK_RW) != CAIRN_BULK_RW)
			rc = -CAIRN_ERR_PERM;
		else if (h->aux2 > b->len || h->body_len > b->len - h->aux2)
			rc = -CAIRN_ERR_OVERFLOW;
		if (rc) {
			if (conn->rx_status == 0)
				conn->rx_status = rc;
			return rc;
		}
		b->refs++;
		conn->rx_bulk = b;
		conn->rx_dst = b;
		conn->rx_dst_off = h->aux2;
		conn->rx_dst_end = h->aux2 + h->body_len;
		return 0;
	}
}

void
net_on_data_done(struct net_conn *conn, const struct cairn_net_hdr *h)
{
	if (h->type == CAIRN_NET_MSG_BULK_GET_DATA) {
		struct net_xfer *x = conn->rx_xfer;

		conn->rx_xfer = NULL;
		if (x == NULL || x->finished)
			return;
		if (h->status != 0) {
			xfer_finish(x, h->status > 0 ? -CAIRN_ERR_PROTO : h->status);
			return;
		}
		if (conn->rx_dst == NULL && h->body_len) {
			xfer_finish(x, -CAIRN_ERR_PROTO);
			return;
		}
		conn->rx_dst = NULL;
		x->done_bytes += h->body_len;
		conn->ctx->st.bulk_bytes_in += h->body_len;
		if (x->done_bytes == x->len)
			xfer_finish(x, 0);
		else if (h->flags & CAIRN_NET_F_LAST)
			xfer_finish(x, -CAIRN_ERR_PROTO);
		return;
	}
	conn->rx_dst = NULL;
	if (conn->rx_bulk) {
		net_bulk_put(conn->rx_bulk);
		conn->rx_bulk = NULL;
	}
	if (h->flags & CAIRN_NET_F_LAST) {
		send_simple(conn, CAIRN_NET_MSG_BULK_PUT_ACK, h->rpc_id, conn->rx_status, 0);
		conn->rx_status = 0;
	}
}
