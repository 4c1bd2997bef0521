/*
 * RPC engine: contexts (one per xstream, a busy poller over the context's epoll set),
 * the protocol registry, peers with lazy connect / capped-backoff reconnect / credits,
 * and the request state machine:
 *
 *   client:  CREATED -send-> QUEUED -credit+conn-> SENT -reply|timeout|cancel|death-> DONE
 *            (QUEUED -timeout|cancel|connect failure-> DONE)
 *   server:  SERVING (handler ULT) -reply-> REPLIED
 *
 * net_rpc_complete() is the only way into DONE and does nothing for an RPC already DONE,
 * so whichever of reply / timeout / cancel / peer death comes first wins and the others
 * are no-ops; the reply of a completed RPC is no longer in the id hash and is dropped.
 * Callbacks run from the context's done list in progress, never inside a submit call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "cairn/errno.h"
#define CAIRN_LOG_SS CAIRN_SS_NET
#include "common/log.h"
#include "net_internal.h"
#include "rt/rt.h"

#define MAX_PROTOS 256
#define TMO_CHECK_US 1000

static pthread_rwlock_t g_proto_lock = PTHREAD_RWLOCK_INITIALIZER;
static const struct cairn_proto *g_protos[MAX_PROTOS];
static unsigned g_nprotos;

/* ------------------------------------------------------------------ protocols */

int
cairn_net_proto_register(const struct cairn_proto *p)
{
	unsigned i;
	int rc = 0;

	if (p == NULL || p->base >= (1u << 24) || p->base == 0 || p->count == 0 || p->count > 256 ||
	    p->rpcs == NULL) {
		CAIRN_ERROR("protocol %s: invalid (base must be 1..2^24-1, 1..256 RPCs)",
		            p && p->name ? p->name : "?");
		return -CAIRN_ERR_INVAL;
	}
	pthread_rwlock_wrlock(&g_proto_lock);
	for (i = 0; i < g_nprotos; i++) {
		if (g_protos[i]->base == p->base) {
			CAIRN_ERROR("protocol %s: base opcode %#x already registered by %s",
			            p->name, p->base, g_protos[i]->name);
			rc = -CAIRN_ERR_EXIST;
			goto out;
		}
	}
	if (g_nprotos == MAX_PROTOS) {
		rc = -CAIRN_ERR_NOSPACE;
		goto out;
	}
	g_protos[g_nprotos++] = p;
out:
	pthread_rwlock_unlock(&g_proto_lock);
	return rc;
}

int
cairn_net_proto_unregister(uint32_t base)
{
	unsigned i;
	int rc = -CAIRN_ERR_NONEXIST;

	pthread_rwlock_wrlock(&g_proto_lock);
	for (i = 0; i < g_nprotos; i++) {
		if (g_protos[i]->base == base) {
			g_protos[i] = g_protos[--g_nprotos];
			rc = 0;
			break;
		}
	}
	pthread_rwlock_unlock(&g_proto_lock);
	return rc;
}

const struct cairn_rpc_def *
net_proto_lookup(uint32_t opc, uint16_t *ver, int *rc)
{
	const struct cairn_rpc_def *def = NULL;
	uint32_t base = opc >> 8, idx = opc & 0xff;
	unsigned i;

	*rc = -CAIRN_ERR_NOSYS;
	pthread_rwlock_rdlock(&g_proto_lock);
	for (i = 0; i < g_nprotos; i++) {
		if (g_protos[i]->base != base)
			continue;
		if (idx < g_protos[i]->count) {
			def = &g_protos[i]->rpcs[idx];
			*ver = g_protos[i]->version;
			*rc = 0;
		}
		break;
	}
	pthread_rwlock_unlock(&g_proto_lock);
	return def;
}

/* ------------------------------------------------------------------ contexts */

void
cairn_net_ctx_opts_default(struct cairn_net_ctx_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->opts_size = sizeof(*o);
	o->rank = CAIRN_RANK_NONE;
	o->max_msg = 1u << 20;
	o->credits = 256;
	o->timeout_us = 60ull * 1000 * 1000;
	o->max_conns = 1024;
	o->backoff_min_us = 1000;
	o->backoff_max_us = 1000 * 1000;
	o->spin_hint_us = 200;
	o->rx_stall_us = 10ull * 1000 * 1000;
}

static int
ctx_poller(void *arg)
{
	return cairn_net_progress(arg);
}

/* The busy poller does the work; this timed one only guarantees that an xstream that fell
 * asleep (its spin ran out, or it was preempted past the expect_work hint) still wakes up
 * to time out RPCs and retry connections. It goes away once nothing has been pending for
 * TMO_IDLE_US, so an idle context does not wake its xstream every millisecond. */
#define TMO_IDLE_US 10000

static int
ctx_tmo_poller(void *arg)
{
	struct net_ctx_impl *ctx = arg;
	int work = cairn_net_progress((struct cairn_net_ctx *)(void *)ctx);

	if (cairn_list_empty(&ctx->pending) && cairn_list_empty(&ctx->xfers) &&
	    cairn_rt_now_us() - ctx->last_pending_us > TMO_IDLE_US)
		cairn_poller_unregister(&ctx->tmo_poller);
	return work;
}

void
net_tmo_arm(struct net_ctx_impl *ctx)
{
	if (ctx->manual || ctx->tmo_poller != NULL)
		return;
	ctx->last_pending_us = cairn_rt_now_us();
	ctx->tmo_poller = cairn_poller_register(ctx_tmo_poller, ctx, TMO_CHECK_US, "net-timeout");
	if (ctx->tmo_poller == NULL)
		CAIRN_LOG_RATELIMIT(CAIRN_SS_NET, CAIRN_LOG_ERR, 1,
		                    "cannot register the timeout poller: timeouts rely on "
		                    "traffic and spinning");
}

int
cairn_net_ctx_create(const struct cairn_net_ctx_opts *in, struct cairn_net_ctx **out)
{
	struct net_ctx_impl *ctx;
	char host[NET_HOST_LEN];
	uint16_t port = 0;
	unsigned i;
	int rc;

	if (in == NULL || in->group == NULL || in->opts_size == 0 || in->opts_size > sizeof(*in)) {
		CAIRN_ERROR("net context: options missing, or no group");
		return -CAIRN_ERR_INVAL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return -CAIRN_ERR_NOMEM;
	cairn_net_ctx_opts_default(&ctx->opts);
	memcpy(&ctx->opts, in, in->opts_size);
	ctx->opts.opts_size = sizeof(ctx->opts);
	if (ctx->opts.max_msg == 0 || ctx->opts.max_msg > (256u << 20) || ctx->opts.credits == 0 ||
	    ctx->opts.timeout_us == 0 || ctx->opts.backoff_min_us == 0 ||
	    ctx->opts.rx_stall_us == 0 || ctx->opts.backoff_max_us < ctx->opts.backoff_min_us) {
		CAIRN_ERROR("net context: bad option (max_msg 1..256M; credits, timeout, backoff "
		            "and rx_stall > 0)");
		free(ctx);
		return -CAIRN_ERR_INVAL;
	}
	ctx->tp = &g_net_tcp_ops;
	ctx->grp = in->group;
	ctx->rank = in->rank;
	ctx->tag = in->tag;
	ctx->lfd = -1;
	ctx->refs = 1;
	ctx->next_id = 1;
	if (getrandom(&ctx->rng, sizeof(ctx->rng), 0) != sizeof(ctx->rng) || ctx->rng == 0)
		ctx->rng = (uint64_t)cairn_rt_now_us() * 0x9e3779b97f4a7c15ull | 1;
	cairn_list_init(&ctx->conns);
	cairn_list_init(&ctx->dirty);
	cairn_list_init(&ctx->zombies);
	cairn_list_init(&ctx->pending);
	cairn_list_init(&ctx->done);
	cairn_list_init(&ctx->xdone);
	cairn_list_init(&ctx->xfers);
	for (i = 0; i < 256; i++) {
		cairn_list_init(&ctx->peers[i]);
		cairn_list_init(&ctx->bulk_hash[i]);
		cairn_list_init(&ctx->xfer_hash[i]);
	}
	for (i = 0; i < NET_HASH_BUCKETS; i++)
		cairn_list_init(&ctx->rpc_hash[i]);
	ctx->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctx->epfd < 0) {
		rc = -errno;
		goto err_free;
	}
	if (in->listen_uri) {
		rc = cairn_net_uri_parse(in->listen_uri, host, sizeof(host), &port);
		if (rc) {
			CAIRN_ERROR("net context: bad listen URI '%s' (expected tcp://host:port)",
			            in->listen_uri);
			goto err_ep;
		}
	} else if (in->rank != CAIRN_RANK_NONE) {
		rc = net_group_lookup(ctx->grp, in->rank, host, sizeof(host), &port);
		if (rc) {
			CAIRN_ERROR("net context: rank %u has no URI in the group", in->rank);
			goto err_ep;
		}
		if ((uint32_t)port + in->tag > 65535) {
			rc = -CAIRN_ERR_INVAL;
			goto err_ep;
		}
		if (port)
			port = (uint16_t)(port + in->tag);
	}
	if (in->listen_uri || in->rank != CAIRN_RANK_NONE) {
		rc = ctx->tp->listen(ctx, host, port);
		if (rc)
			goto err_ep;
		if (in->listen_uri && in->rank != CAIRN_RANK_NONE && in->tag == 0) {
			char uri[NET_HOST_LEN + 16];

			snprintf(uri, sizeof(uri), "tcp://%s:%u",
			         host[0] && strcmp(host, "0.0.0.0") ? host : "127.0.0.1",
			         ctx->port);
			rc = cairn_net_group_rank_set(ctx->grp, in->rank, uri);
			if (rc)
				goto err_listen;
		}
	}
	ctx->xs = cairn_xs_self();
	ctx->manual = ctx->xs == NULL;
	ctx->owner = pthread_self();
	if (!ctx->manual) {
		ctx->poller = cairn_poller_register(ctx_poller, ctx, 0, "net");
		if (ctx->poller == NULL) {
			rc = -CAIRN_ERR_NOMEM;
			goto err_listen;
		}

		rc = cairn_rt_wake_fd_add(ctx->epfd, EPOLLIN);
		if (rc) {
			cairn_poller_unregister(&ctx->poller);
			goto err_listen;
		}
	}
	CAIRN_DEBUG("net context rank %u tag %u port %u (%s)", ctx->rank, ctx->tag, ctx->port,
	            ctx->manual ? "manual progress" : cairn_xs_name(ctx->xs));
	*out = (struct cairn_net_ctx *)(void *)ctx;
	return 0;

err_listen:
	ctx->tp->fini(ctx);
err_ep:
	close(ctx->epfd);
err_free:
	free(ctx);
	return rc;
}

bool
net_ctx_on_owner(struct net_ctx_impl *ctx, const char *what)
{
	bool ok = ctx->manual ? pthread_equal(ctx->owner, pthread_self()) != 0
	                      : cairn_xs_self() == ctx->xs;

	if (!ok)
		CAIRN_LOG_RATELIMIT(CAIRN_SS_NET, CAIRN_LOG_ERR, 1,
		                    "%s: called outside the context's owning %s", what,
		                    ctx->manual ? "thread" : "xstream");
	return ok;
}

void
net_ctx_addref(struct net_ctx_impl *ctx)
{
	ctx->refs++;
}

void
net_ctx_decref(struct net_ctx_impl *ctx)
{
	if (--ctx->refs > 0)
		return;
	close(ctx->epfd);
	free(ctx);
}

static void run_done(struct net_ctx_impl *ctx);

void
cairn_net_ctx_destroy(struct cairn_net_ctx *c)
{
	struct net_ctx_impl *ctx = net_impl(c);
	struct cairn_list *l;
	unsigned i;

	if (ctx == NULL || !net_ctx_on_owner(ctx, "cairn_net_ctx_destroy"))
		return;
	ctx->dying = true;
	while (!cairn_list_empty(&ctx->pending))
		net_rpc_complete(cairn_container_of(ctx->pending.next, struct cairn_rpc, tlink),
		                 -CAIRN_ERR_SHUTDOWN);
	run_done(ctx);
	ctx->tp->fini(ctx);
	net_xfer_run_done(ctx);
	for (i = 0; i < 256; i++) {
		while ((l = cairn_list_pop(&ctx->peers[i])) != NULL)
			free(cairn_container_of(l, struct net_peer, link));
	}
	if (ctx->poller) {
		cairn_rt_wake_fd_del(ctx->epfd);
		cairn_poller_unregister(&ctx->poller);
	}
	if (ctx->tmo_poller) {
		cairn_poller_unregister(&ctx->tmo_poller);
	}
	net_ctx_decref(ctx);
}

uint16_t
cairn_net_ctx_port(const struct cairn_net_ctx *c)
{
	return ((const struct net_ctx_impl *)(const void *)c)->port;
}

uint32_t
cairn_net_ctx_rank(const struct cairn_net_ctx *c)
{
	return ((const struct net_ctx_impl *)(const void *)c)->rank;
}

uint16_t
cairn_net_ctx_tag(const struct cairn_net_ctx *c)
{
	return ((const struct net_ctx_impl *)(const void *)c)->tag;
}

void
cairn_net_ctx_stats(const struct cairn_net_ctx *c, struct cairn_net_stats *st)
{
	const struct net_ctx_impl *ctx = (const void *)c;
	const struct cairn_list *l;

	*st = ctx->st;
	st->inflight = 0;
	for (l = ctx->pending.next; l != &ctx->pending; l = l->next)
		st->inflight++;
}

/* ------------------------------------------------------------------ peers */

static struct net_peer *
peer_get(struct net_ctx_impl *ctx, struct cairn_ep ep)
{
	struct cairn_list *b = &ctx->peers[(ep.rank * 31u + ep.tag) & 255u];
	struct cairn_list *l;
	struct net_peer *p;

	for (l = b->next; l != b; l = l->next) {
		p = cairn_container_of(l, struct net_peer, link);
		if (p->ep.rank == ep.rank && p->ep.tag == ep.tag)
			return p;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->ep = ep;
	p->backoff_us = ctx->opts.backoff_min_us;
	cairn_list_init(&p->waitq);
	cairn_list_init(&p->sent);
	cairn_list_add(&p->link, b);
	return p;
}

static void
peer_fail_waitq(struct net_peer *p, int rc)
{
	while (!cairn_list_empty(&p->waitq)) {
		struct cairn_rpc *rpc = cairn_container_of(p->waitq.next, struct cairn_rpc, link);

		rpc->ctx->st.unreach++;
		net_rpc_complete(rpc, rc);
	}
}

static void
peer_backoff(struct net_ctx_impl *ctx, struct net_peer *p)
{
	p->state = PEER_BACKOFF;
	p->retry_at = cairn_rt_now_us() + p->backoff_us;
	p->backoff_us *= 2;
	if (p->backoff_us > ctx->opts.backoff_max_us)
		p->backoff_us = ctx->opts.backoff_max_us;
}

static void rpc_transmit(struct net_peer *p, struct cairn_rpc *rpc);

static void
peer_kick(struct net_ctx_impl *ctx, struct net_peer *p)
{
	if (cairn_list_empty(&p->waitq))
		return;
	if (p->state == PEER_IDLE ||
	    (p->state == PEER_BACKOFF && cairn_rt_now_us() >= p->retry_at)) {
		char host[NET_HOST_LEN];
		uint16_t port;
		int rc;

		rc = net_group_lookup(ctx->grp, p->ep.rank, host, sizeof(host), &port);
		if (rc == 0 && (uint32_t)port + p->ep.tag > 65535)
			rc = -CAIRN_ERR_INVAL;
		if (rc == 0)
			rc = ctx->tp->connect(ctx, p, host, (uint16_t)(port + p->ep.tag), &p->conn);
		if (rc) {
			CAIRN_LOG_RATELIMIT(CAIRN_SS_NET, CAIRN_LOG_INFO, 5,
			                    "cannot connect to rank %u tag %u: %s", p->ep.rank,
			                    p->ep.tag, cairn_strerror(rc));
			p->conn = NULL;
			peer_backoff(ctx, p);
			peer_fail_waitq(p, -CAIRN_ERR_UNREACH);
			return;
		}
		p->state = p->conn->connecting ? PEER_CONNECTING : PEER_UP;
		if (p->state == PEER_UP)
			p->backoff_us = ctx->opts.backoff_min_us;
	}
	if (p->state != PEER_UP)
		return;
	while (!cairn_list_empty(&p->waitq) && p->inflight < ctx->opts.credits) {
		struct cairn_rpc *rpc = cairn_container_of(p->waitq.next, struct cairn_rpc, link);

		cairn_list_del(&rpc->link);
		rpc_transmit(p, rpc);
	}
}

void
net_on_connected(struct net_conn *conn, int rc)
{
	struct net_peer *p = conn->peer;

	if (p == NULL)
		return;
	p->state = PEER_UP;
	p->backoff_us = conn->ctx->opts.backoff_min_us;
	peer_kick(conn->ctx, p);
}

void
net_on_close(struct net_conn *conn, int reason)
{
	struct net_ctx_impl *ctx = conn->ctx;
	struct net_peer *p = conn->peer;

	while (!cairn_list_empty(&conn->srv_rpcs)) {
		struct cairn_rpc *rpc =
		        cairn_container_of(conn->srv_rpcs.next, struct cairn_rpc, link);

		cairn_list_del(&rpc->link);
		rpc->conn = NULL;
	}
	net_xfer_fail_conn(conn, -CAIRN_ERR_UNREACH);
	if (p == NULL || p->conn != conn)
		return;
	p->conn = NULL;
	if (p->state == PEER_CONNECTING) {
		peer_backoff(ctx, p);
		peer_fail_waitq(p, -CAIRN_ERR_UNREACH);
	} else {
		p->state = ctx->dying ? PEER_BACKOFF : PEER_IDLE;
	}
	while (!cairn_list_empty(&p->sent)) {
		struct cairn_rpc *rpc = cairn_container_of(p->sent.next, struct cairn_rpc, link);

		ctx->st.unreach++;
		net_rpc_complete(rpc, reason == -CAIRN_ERR_SHUTDOWN ? reason : -CAIRN_ERR_UNREACH);
	}
	p->inflight = 0;
	/* RPCs still queued get a fresh connection (which fails fast if the peer is gone). */
	if (!ctx->dying && p->state == PEER_IDLE)
		peer_kick(ctx, p);
}

/* ------------------------------------------------------------------ RPC objects */

struct cairn_rpc *
net_rpc_alloc(struct net_ctx_impl *ctx, const struct cairn_rpc_def *def, uint32_t opc, uint16_t ver)
{
	size_t in_sz = (def->in_size + 15) & ~(size_t)15;
	size_t rpc_sz = (sizeof(struct cairn_rpc) + 15) & ~(size_t)15;
	struct cairn_rpc *rpc = calloc(1, rpc_sz + in_sz + def->out_size);

	if (rpc == NULL)
		return NULL;
	rpc->ctx = ctx;
	rpc->def = def;
	rpc->opc = opc;
	rpc->proto_ver = ver;
	rpc->refs = 1;
	rpc->state = RPC_CREATED;
	rpc->oneway = (def->flags & CAIRN_RPC_ONEWAY) != 0;
	rpc->in = (uint8_t *)rpc + rpc_sz;
	rpc->out = (uint8_t *)rpc + rpc_sz + in_sz;
	cairn_list_init(&rpc->link);
	cairn_list_init(&rpc->hlink);
	cairn_list_init(&rpc->tlink);
	cairn_list_init(&rpc->dlink);
	net_ctx_addref(ctx);
	return rpc;
}

int
cairn_rpc_create(struct cairn_net_ctx *c, struct cairn_ep ep, uint32_t opc, struct cairn_rpc **out)
{
	struct net_ctx_impl *ctx = net_impl(c);
	const struct cairn_rpc_def *def;
	struct cairn_rpc *rpc;
	uint16_t ver = 0;
	int rc;

	if (ctx == NULL || out == NULL || ep.rank == CAIRN_RANK_NONE)
		return -CAIRN_ERR_INVAL;
	if (!net_ctx_on_owner(ctx, "cairn_rpc_create"))
		return -CAIRN_ERR_INVAL;
	if (ctx->dying)
		return -CAIRN_ERR_SHUTDOWN;
	def = net_proto_lookup(opc, &ver, &rc);
	if (def == NULL)
		return -CAIRN_ERR_NONEXIST;
	rpc = net_rpc_alloc(ctx, def, opc, ver);
	if (rpc == NULL)
		return -CAIRN_ERR_NOMEM;
	rpc->ep = ep;
	*out = rpc;
	return 0;
}

void
cairn_rpc_addref(struct cairn_rpc *rpc)
{
	rpc->refs++;
}

void
cairn_rpc_decref(struct cairn_rpc *rpc)
{
	struct net_ctx_impl *ctx;

	if (rpc == NULL || --rpc->refs > 0)
		return;
	ctx = rpc->ctx;
	cairn_list_del(&rpc->link);
	cairn_list_del(&rpc->hlink);
	cairn_list_del(&rpc->tlink);
	free(rpc->req_body);
	free(rpc->in_body);
	free(rpc->out_body);
	net_coll_free(rpc);
	free(rpc);
	net_ctx_decref(ctx);
}

void *
cairn_rpc_in(struct cairn_rpc *rpc)
{
	return rpc->in;
}

void *
cairn_rpc_out(struct cairn_rpc *rpc)
{
	return rpc->out;
}

uint32_t
cairn_rpc_opc(const struct cairn_rpc *rpc)
{
	return rpc->opc;
}

struct cairn_net_ctx *
cairn_rpc_ctx(const struct cairn_rpc *rpc)
{
	return (struct cairn_net_ctx *)(void *)rpc->ctx;
}

void
cairn_rpc_set_timeout(struct cairn_rpc *rpc, uint64_t timeout_us)
{
	rpc->timeout_us = timeout_us;
}

bool
cairn_rpc_is_coll(const struct cairn_rpc *rpc)
{
	return rpc->coll != NULL;
}

/* ------------------------------------------------------------------ client side */

static void
rpc_transmit(struct net_peer *p, struct cairn_rpc *rpc)
{
	struct net_ctx_impl *ctx = rpc->ctx;
	struct cairn_net_hdr h = {
	        .type = CAIRN_NET_MSG_REQ,
	        .flags = (uint16_t)((rpc->oneway ? CAIRN_NET_F_ONEWAY : 0) |
	                            (rpc->coll ? CAIRN_NET_F_COLL : 0)),
	        .opcode = rpc->opc,
	        .status = rpc->proto_ver,
	        .rpc_id = rpc->id,
	        .aux = rpc->timeout_us,
	        .body_len = rpc->req_len,
	};
	struct net_tx_msg *m = net_msg_alloc(&h, rpc->req_body, rpc->req_len);

	if (m == NULL) {
		net_rpc_complete(rpc, -CAIRN_ERR_NOMEM);
		return;
	}
	rpc->req_body = NULL;
	rpc->req_len = 0;
	ctx->tp->send(p->conn, m);
	ctx->st.req_sent++;
	if (rpc->oneway) {
		rpc->state = RPC_QUEUED; /* not counted against credits */
		net_rpc_complete(rpc, 0);
		return;
	}
	rpc->state = RPC_SENT;
	p->inflight++;
	cairn_list_add_tail(&rpc->link, &p->sent);
	if (p->inflight == 1)
		ctx->tp->kick(p->conn);
}

int
cairn_rpc_send(struct cairn_rpc *rpc, cairn_net_cb cb, void *cb_arg)
{
	struct net_ctx_impl *ctx;
	struct cairn_enc e;
	struct net_peer *p;
	int rc = 0;

	if (rpc == NULL || rpc->server)
		return -CAIRN_ERR_INVAL;
	ctx = rpc->ctx;
	if (!net_ctx_on_owner(ctx, "cairn_rpc_send"))
		return -CAIRN_ERR_INVAL;
	if (rpc->state != RPC_CREATED)
		return -CAIRN_ERR_ALREADY;
	if (ctx->dying)
		return -CAIRN_ERR_SHUTDOWN;
	cairn_enc_init(&e, ctx->opts.max_msg);
	if (rpc->coll)
		rc = net_coll_client_enc(rpc, &e);
	if (rc == 0 && rpc->def->in_enc)
		rc = rpc->def->in_enc(&e, rpc->in);
	if (rc == 0)
		rc = cairn_enc_rc(&e);
	if (rc) {
		CAIRN_DEBUG("%s: cannot encode the request: %s", rpc->def->name,
		            cairn_strerror(rc));
		cairn_enc_fini(&e);
		return rc;
	}
	p = peer_get(ctx, rpc->ep);
	if (p == NULL) {
		cairn_enc_fini(&e);
		return -CAIRN_ERR_NOMEM;
	}
	{
		size_t len;

		rpc->req_body = cairn_enc_steal(&e, &len);
		rpc->req_len = (uint32_t)len;
	}
	rpc->cb = cb;
	rpc->cb_arg = cb_arg;
	rpc->peer = p;
	rpc->id = ctx->next_id++;
	if (rpc->timeout_us == 0)
		rpc->timeout_us = ctx->opts.timeout_us;
	rpc->deadline = cairn_rt_now_us() + rpc->timeout_us;
	rpc->state = RPC_QUEUED;
	rpc->refs++; /* held while in flight, dropped after the callback */
	cairn_list_add_tail(&rpc->tlink, &ctx->pending);
	cairn_list_add(&rpc->hlink, &ctx->rpc_hash[rpc->id & (NET_HASH_BUCKETS - 1)]);
	cairn_list_add_tail(&rpc->link, &p->waitq);
	peer_kick(ctx, p);
	net_tmo_arm(ctx);
	return 0;
}

void
net_rpc_complete(struct cairn_rpc *rpc, int rc)
{
	struct net_ctx_impl *ctx = rpc->ctx;
	enum net_rpc_state prev = rpc->state;

	if (prev != RPC_QUEUED && prev != RPC_SENT)
		return; /* already completed: the loser of a race does nothing */
	rpc->state = RPC_DONE;
	rpc->rc = rc;
	cairn_list_del(&rpc->link);
	cairn_list_del(&rpc->hlink);
	cairn_list_del(&rpc->tlink);
	cairn_list_add_tail(&rpc->dlink, &ctx->done);
	if (prev == RPC_SENT && rpc->peer) {
		if (rpc->peer->inflight > 0)
			rpc->peer->inflight--;
		if (rpc->peer->state == PEER_UP)
			peer_kick(ctx, rpc->peer);
	}
}

int
cairn_rpc_cancel(struct cairn_rpc *rpc)
{
	if (!net_ctx_on_owner(rpc->ctx, "cairn_rpc_cancel"))
		return -CAIRN_ERR_INVAL;
	if (rpc->state != RPC_QUEUED && rpc->state != RPC_SENT)
		return -CAIRN_ERR_ALREADY;
	rpc->ctx->st.cancels++;
	net_rpc_complete(rpc, -CAIRN_ERR_CANCELED);
	return 0;
}

struct net_waiter {
	volatile bool done;
	int rc;
	struct cairn_ult *ult;
};

static void
waiter_cb(void *arg, int rc)
{
	struct net_waiter *w = arg;

	w->rc = rc;
	w->done = true;
	if (w->ult)
		cairn_ult_wake(w->ult);
}

void
net_wait_flag(struct net_ctx_impl *ctx, volatile bool *flag)
{
	if (ctx->manual) {
		while (!*flag)
			cairn_net_progress((struct cairn_net_ctx *)(void *)ctx);
		return;
	}
	while (!*flag)
		cairn_ult_park();
}

int
cairn_rpc_send_wait(struct cairn_rpc *rpc)
{
	struct net_waiter w = {.done = false, .rc = 0, .ult = NULL};
	int rc;

	if (rpc == NULL)
		return -CAIRN_ERR_INVAL;
	if (!rpc->ctx->manual) {
		w.ult = cairn_ult_self();
		if (w.ult == NULL) {
			CAIRN_ERROR("send_wait on an xstream context outside a ULT");
			return -CAIRN_ERR_INVAL;
		}
	}
	rc = cairn_rpc_send(rpc, waiter_cb, &w);
	if (rc)
		return rc;
	net_wait_flag(rpc->ctx, &w.done);
	return w.rc;
}

static unsigned
check_timeouts(struct net_ctx_impl *ctx, uint64_t now)
{
	struct cairn_list *l, *next;
	unsigned n = 0, i;

	for (l = ctx->pending.next; l != &ctx->pending; l = next) {
		struct cairn_rpc *rpc = cairn_container_of(l, struct cairn_rpc, tlink);

		next = l->next;
		if (rpc->deadline <= now) {
			ctx->st.timeouts++;
			CAIRN_DEBUG("%s id %lu to %u:%u timed out", rpc->def->name,
			            (unsigned long)rpc->id, rpc->ep.rank, rpc->ep.tag);
			net_rpc_complete(rpc, -CAIRN_ERR_TIMEDOUT);
			n++;
		}
	}
	if (!cairn_list_empty(&ctx->xfers))
		n += net_xfer_timeouts(ctx, now);
	/* Peers in backoff with queued RPCs retry when their time comes. */
	for (i = 0; i < 256; i++) {
		for (l = ctx->peers[i].next; l != &ctx->peers[i]; l = l->next) {
			struct net_peer *p = cairn_container_of(l, struct net_peer, link);

			if (p->state == PEER_BACKOFF && !cairn_list_empty(&p->waitq) &&
			    now >= p->retry_at)
				peer_kick(ctx, p);
		}
	}
	return n;
}

static void
run_done(struct net_ctx_impl *ctx)
{
	struct cairn_list *l;

	while ((l = cairn_list_pop(&ctx->done)) != NULL) {
		struct cairn_rpc *rpc = cairn_container_of(l, struct cairn_rpc, dlink);

		if (rpc->cb)
			rpc->cb(rpc->cb_arg, rpc->rc);
		cairn_rpc_decref(rpc);
	}
}

int
cairn_net_progress(struct cairn_net_ctx *c)
{
	struct net_ctx_impl *ctx = net_impl(c);
	int work;
	uint64_t now;

	/* Replies queued by handler ULTs since the last pass go out before we poll. */
	work = 0;
	if (!cairn_list_empty(&ctx->dirty)) {
		ctx->tp->flush(ctx);
		work++;
	}
	work += ctx->tp->poll(ctx);
	now = cairn_rt_now_us();
	if (now - ctx->last_tmo_check >= TMO_CHECK_US) {
		ctx->last_tmo_check = now;
		work += (int)check_timeouts(ctx, now);
		if (now - ctx->last_stall_scan >= 1000 * 1000 ||
		    now - ctx->last_stall_scan >= ctx->opts.rx_stall_us) {
			ctx->last_stall_scan = now;
			work += (int)ctx->tp->close_stalled(ctx, now);
		}
	}
	if (!cairn_list_empty(&ctx->done)) {
		run_done(ctx);
		work++;
	}
	if (!cairn_list_empty(&ctx->xdone)) {
		net_xfer_run_done(ctx);
		work++;
	}
	if (!cairn_list_empty(&ctx->dirty)) {
		ctx->tp->flush(ctx);
		work++;
	}
	if (work > 0)
		ctx->last_work_us = now;
	if (!ctx->manual && !cairn_list_empty(&ctx->pending)) {
		ctx->last_pending_us = now;
		cairn_rt_expect_work(ctx->opts.spin_hint_us);
		net_tmo_arm(ctx);
	} else if (!ctx->manual && !cairn_list_empty(&ctx->xfers)) {
		ctx->last_pending_us = now;
		net_tmo_arm(ctx);
	}
	return work;
}

/* ------------------------------------------------------------------ server side */

int
net_send_reply(struct cairn_rpc *rpc, int status, uint8_t *body, uint32_t len, uint16_t flags)
{
	struct cairn_net_hdr h = {
	        .type = CAIRN_NET_MSG_REPLY,
	        .flags = flags,
	        .opcode = rpc->opc,
	        .status = status,
	        .rpc_id = rpc->id,
	        .body_len = len,
	};
	struct net_tx_msg *m;
	struct net_conn *conn;

	rpc->state = RPC_REPLIED;
	if (rpc->oneway) {
		free(body);
		return 0;
	}
	if (rpc->conn == NULL || rpc->conn->closed) {
		free(body);
		return -CAIRN_ERR_UNREACH;
	}
	m = net_msg_alloc(&h, body, len);
	if (m == NULL) {
		free(body);
		return -CAIRN_ERR_NOMEM;
	}
	cairn_list_del(&rpc->link);
	conn = rpc->conn;
	rpc->conn = NULL; /* replied: the request no longer needs its connection */
	rpc->ctx->tp->send(conn, m);
	rpc->ctx->st.reply_sent++;
	if (cairn_list_empty(&conn->srv_rpcs))
		rpc->ctx->tp->kick(conn);
	return 0;
}

/* Reply to a request we cannot serve (no RPC object). */
static void
reply_error(struct net_conn *conn, const struct cairn_net_hdr *req, int status)
{
	struct cairn_net_hdr h = {
	        .type = CAIRN_NET_MSG_REPLY,
	        .opcode = req->opcode,
	        .status = status,
	        .rpc_id = req->rpc_id,
	};
	struct net_tx_msg *m;

	if (req->flags & CAIRN_NET_F_ONEWAY)
		return;
	m = net_msg_alloc(&h, NULL, 0);
	if (m)
		conn->ctx->tp->send(conn, m);
}

int
cairn_rpc_reply(struct cairn_rpc *rpc)
{
	struct cairn_enc e;
	size_t len;
	int rc = 0;

	if (rpc == NULL || !rpc->server || !net_ctx_on_owner(rpc->ctx, "cairn_rpc_reply"))
		return -CAIRN_ERR_INVAL;
	if (rpc->state != RPC_SERVING)
		return -CAIRN_ERR_ALREADY;
	if (rpc->coll)
		return net_coll_reply_local(rpc, 0);
	cairn_enc_init(&e, rpc->ctx->opts.max_msg);
	if (rpc->def->out_enc)
		rc = rpc->def->out_enc(&e, rpc->out);
	if (rc == 0)
		rc = cairn_enc_rc(&e);
	if (rc) {
		CAIRN_ERROR("%s: cannot encode the reply: %s", rpc->def->name, cairn_strerror(rc));
		cairn_enc_fini(&e);
		net_send_reply(rpc, -CAIRN_ERR_PROTO, NULL, 0, 0);
		return rc;
	}
	{
		uint8_t *body = cairn_enc_steal(&e, &len);

		return net_send_reply(rpc, 0, body, (uint32_t)len, 0);
	}
}

int
cairn_rpc_reply_err(struct cairn_rpc *rpc, int status)
{
	if (rpc == NULL || !rpc->server || status >= 0 ||
	    !net_ctx_on_owner(rpc->ctx, "cairn_rpc_reply_err"))
		return -CAIRN_ERR_INVAL;
	if (rpc->state != RPC_SERVING)
		return -CAIRN_ERR_ALREADY;
	if (rpc->coll)
		return net_coll_reply_local(rpc, status);
	return net_send_reply(rpc, status, NULL, 0, 0);
}

static void
handler_ult(void *arg)
{
	struct cairn_rpc *rpc = arg;

	rpc->def->handler(rpc);
	cairn_rpc_decref(rpc);
}

void
net_rpc_dispatch(struct cairn_rpc *rpc)
{
	struct cairn_ult_attr attr = {
	        .prio = (rpc->def->flags & CAIRN_RPC_QUEUE_FRONT) ? CAIRN_PRIO_NET
	                                                          : CAIRN_PRIO_GENERAL,
	        .stack_size = 0,
	        .joinable = false,
	};
	int rc;

	if (rpc->def->handler == NULL) {
		net_send_reply(rpc, -CAIRN_ERR_NOSYS, NULL, 0, 0);
		cairn_rpc_decref(rpc);
		return;
	}
	if (rpc->ctx->manual) {
		handler_ult(rpc);
		return;
	}
	rc = cairn_ult_create(NULL, handler_ult, rpc, &attr, NULL);
	if (rc) {
		CAIRN_LOG_RATELIMIT(CAIRN_SS_NET, CAIRN_LOG_ERR, 1, "%s: cannot start handler: %s",
		                    rpc->def->name, cairn_strerror(rc));
		if (rpc->coll)
			net_coll_reply_local(rpc, rc);
		else
			net_send_reply(rpc, rc, NULL, 0, 0);
		cairn_rpc_decref(rpc);
	}
}

static void
on_request(struct net_conn *conn, const struct cairn_net_hdr *h, uint8_t *body)
{
	struct net_ctx_impl *ctx = conn->ctx;
	const struct cairn_rpc_def *def;
	struct cairn_rpc *rpc;
	struct cairn_dec d;
	uint16_t ver = 0;
	int rc;

	ctx->st.req_recv++;
	def = net_proto_lookup(h->opcode, &ver, &rc);
	if (def == NULL || (uint32_t)h->status != ver) {
		rc = def == NULL ? rc : -CAIRN_ERR_VERSION;
		CAIRN_LOG_RATELIMIT(CAIRN_SS_NET, CAIRN_LOG_WARN, 5,
		                    "%s: request opcode %#x version %d: %s", conn->name, h->opcode,
		                    h->status, cairn_strerror(rc));
		free(body);
		reply_error(conn, h, rc);
		return;
	}
	if (((h->flags & CAIRN_NET_F_ONEWAY) != 0) != ((def->flags & CAIRN_RPC_ONEWAY) != 0)) {
		free(body);
		reply_error(conn, h, -CAIRN_ERR_PROTO);
		return;
	}
	rpc = net_rpc_alloc(ctx, def, h->opcode, ver);
	if (rpc == NULL) {
		free(body);
		reply_error(conn, h, -CAIRN_ERR_NOMEM);
		return;
	}
	rpc->server = true;
	rpc->state = RPC_SERVING;
	rpc->id = h->rpc_id;
	rpc->conn = conn;
	rpc->in_body = body;
	rpc->timeout_us = h->aux;
	cairn_list_add_tail(&rpc->link, &conn->srv_rpcs);
	cairn_dec_init(&d, body, h->body_len);
	rc = 0;
	if (h->flags & CAIRN_NET_F_COLL)
		rc = net_coll_server_start(rpc, &d);
	if (rc == 0 && def->in_dec)
		rc = def->in_dec(&d, rpc->in);
	if (rc == 0)
		rc = cairn_dec_done(&d);
	if (rc) {
		ctx->st.proto_errors++;
		CAIRN_LOG_RATELIMIT(CAIRN_SS_NET, CAIRN_LOG_WARN, 5, "%s: %s: bad request body: %s",
		                    conn->name, def->name, cairn_strerror(rc));
		net_coll_free(rpc);
		net_send_reply(rpc, -CAIRN_ERR_PROTO, NULL, 0, 0);
		cairn_rpc_decref(rpc);
		return;
	}
	if (rpc->coll)
		net_coll_forward(rpc);
	net_rpc_dispatch(rpc);
}

static void
on_reply(struct net_conn *conn, const struct cairn_net_hdr *h, uint8_t *body)
{
	struct net_ctx_impl *ctx = conn->ctx;
	struct cairn_list *b = &ctx->rpc_hash[h->rpc_id & (NET_HASH_BUCKETS - 1)];
	struct cairn_rpc *rpc = NULL;
	struct cairn_list *l;
	struct cairn_dec d;
	int rc;

	for (l = b->next; l != b; l = l->next) {
		struct cairn_rpc *r = cairn_container_of(l, struct cairn_rpc, hlink);

		if (r->id == h->rpc_id) {
			rpc = r;
			break;
		}
	}
	if (rpc == NULL || rpc->state != RPC_SENT || rpc->peer == NULL || rpc->peer->conn != conn) {
		/* Completed already (timeout, cancel): the loser does nothing. */
		ctx->st.late_replies++;
		CAIRN_DEBUG("%s: reply for unknown/completed rpc id %lu dropped", conn->name,
		            (unsigned long)h->rpc_id);
		free(body);
		return;
	}
	ctx->st.reply_recv++;
	if (h->status > 0) {
		free(body);
		net_rpc_complete(rpc, -CAIRN_ERR_PROTO);
		return;
	}
	if (h->status < 0 && !(h->flags & CAIRN_NET_F_COLL)) {
		free(body);
		net_rpc_complete(rpc, h->status);
		return;
	}
	rpc->out_body = body;
	cairn_dec_init(&d, body, h->body_len);
	rc = 0;
	if (h->flags & CAIRN_NET_F_COLL) {
		if (rpc->coll == NULL)
			rc = -CAIRN_ERR_PROTO;
		else
			rc = net_coll_client_dec(rpc, &d);
	}
	if (rc == 0 && h->status == 0 && rpc->def->out_dec)
		rc = rpc->def->out_dec(&d, rpc->out);
	if (rc == 0 && h->status == 0)
		rc = cairn_dec_done(&d);
	if (rc) {
		ctx->st.proto_errors++;
		CAIRN_LOG_RATELIMIT(CAIRN_SS_NET, CAIRN_LOG_WARN, 5, "%s: %s: bad reply body: %s",
		                    conn->name, rpc->def->name, cairn_strerror(rc));
		rc = -CAIRN_ERR_PROTO;
	}
	net_rpc_complete(rpc, rc ? rc : h->status);
}

void
net_on_msg(struct net_conn *conn, const struct cairn_net_hdr *h, uint8_t *body)
{
	switch (h->type) {
	case CAIRN_NET_MSG_REQ:
		on_request(conn, h, body);
		break;
	case CAIRN_NET_MSG_REPLY:
		on_reply(conn, h, body);
		break;
	default:
		net_bulk_msg(conn, h, body);
		break;
	}
}
