/*
 * Private to src/net: context, peer, connection, RPC, bulk and transfer structures and
 * the narrow transport interface (listen, connect, send message, receive upcalls).
 */
#ifndef CAIRN_NET_INTERNAL_H
#define CAIRN_NET_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/list.h"
#include "net/net.h"
#include "net/wire.h"

#define NET_HASH_BUCKETS 1024u
#define NET_RXBUF_SIZE (32u * 1024)
#define NET_SEG_SIZE (1u << 20) /* bulk data segment */
#define NET_MAX_WRITEV 64
#define NET_HOST_LEN 256
#define NET_TX_HIGH (32ull << 20) /* stop reading a peer that does not read replies */

struct net_conn;
struct net_peer;

/* ------------------------------------------------------------------ tx messages */

struct net_tx_msg {
	struct cairn_list link;
	uint8_t hdr[CAIRN_NET_HDR_SIZE];
	uint8_t *body; /* owned, freed after send (may be NULL) */
	uint32_t body_len;
	struct iovec *data; /* borrowed data (bulk), after body */
	unsigned data_cnt;
	struct cairn_bulk *bulk; /* reference held while data is queued */
	size_t total;
	size_t sent;
	struct iovec inl[2]; /* small data vectors without allocation */
};

/* ------------------------------------------------------------------ connections */

enum net_rx_state {
	RX_HDR = 0,
	RX_BODY,    /* request/reply body into a malloc'd buffer */
	RX_DATA,    /* bulk data straight into registered iovecs */
	RX_DISCARD, /* bulk data nobody wants */
};

struct net_conn {
	struct net_ctx_impl *ctx;
	int fd;
	bool connecting;
	bool closed;
	bool want_out;          /* EPOLLOUT registered */
	bool tx_dirty;          /* on ctx->dirty list */
	struct net_peer *peer;  /* outgoing connection of this peer, NULL if accepted */
	struct cairn_list link; /* ctx->conns */
	struct cairn_list dirty_link;
	struct cairn_list txq;      /* struct net_tx_msg */
	uint64_t tx_owned;          /* bytes of copied bodies queued (bounded: NET_TX_HIGH) */
	struct cairn_list srv_rpcs; /* requests received here whose reply is pending */
	struct cairn_list xfers;    /* bulk transfers using this connection */
	/* rx */
	uint8_t *rxbuf;
	uint32_t rx_start, rx_end;
	enum net_rx_state rx_state;
	struct cairn_net_hdr rx_hdr;
	uint8_t *rx_body;
	uint32_t rx_got;         /* bytes of body/data received */
	uint64_t last_rx_us;     /* last time bytes arrived */
	struct iovec rx_iov[64]; /* RX_DATA destination: next vectors of rx_dst */
	unsigned rx_iov_cnt;
	unsigned rx_iov_idx;
	struct cairn_bulk *rx_dst; /* RX_DATA destination bulk (mapped 64 vectors at a time) */
	uint64_t rx_dst_off;       /* first byte of rx_dst not yet mapped into rx_iov */
	uint64_t rx_dst_end;
	struct net_xfer *rx_xfer;
	struct cairn_bulk *rx_bulk; /* PUT_DATA destination */
	int rx_status;              /* PUT_DATA: error to ack with */
	char name[64];
};

/* ------------------------------------------------------------------ peers */

enum net_peer_state {
	PEER_IDLE = 0,
	PEER_CONNECTING,
	PEER_UP,
	PEER_BACKOFF,
};

struct net_peer {
	struct cairn_ep ep;
	enum net_peer_state state;
	struct net_conn *conn;
	uint64_t backoff_us;
	uint64_t retry_at;
	uint32_t inflight;       /* credits in use */
	struct cairn_list link;  /* hash bucket */
	struct cairn_list waitq; /* RPCs waiting for a credit or the connection */
	struct cairn_list sent;  /* RPCs in flight on conn */
};

/* ------------------------------------------------------------------ RPCs */

enum net_rpc_state {
	RPC_CREATED = 0,
	RPC_QUEUED,  /* waiting for credit / connection */
	RPC_SENT,    /* on the wire, reply pending */
	RPC_DONE,    /* completed (exactly once) */
	RPC_SERVING, /* server side: handler running */
	RPC_REPLIED, /* server side: reply sent */
};

struct coll_state;

struct cairn_rpc {
	struct net_ctx_impl *ctx;
	const struct cairn_rpc_def *def;
	uint32_t opc;
	uint16_t proto_ver;
	uint32_t refs;
	enum net_rpc_state state;
	bool server;
	bool oneway;
	struct cairn_ep ep;
	uint64_t id;
	uint64_t timeout_us;
	uint64_t deadline;
	int rc;
	cairn_net_cb cb;
	void *cb_arg;
	struct net_peer *peer;
	struct net_conn *conn;   /* server side: where the request came from */
	struct cairn_list link;  /* peer->waitq / peer->sent / conn->srv_rpcs */
	struct cairn_list hlink; /* ctx id hash (client) */
	struct cairn_list tlink; /* ctx->pending (timeouts) */
	struct cairn_list dlink; /* ctx->done */
	uint8_t *req_body;       /* client: encoded request until it is queued */
	uint32_t req_len;
	uint8_t *in_body;   /* received request body (server) */
	uint8_t *out_body;  /* received reply body (client) */
	uint8_t *coll_body; /* client: encoded coll prefix before send */
	struct coll_state *coll;
	void *in;
	void *out;
};

/* ------------------------------------------------------------------ bulk */

struct cairn_bulk {
	struct net_ctx_impl *ctx;
	uint64_t id;
	uint16_t perm;
	uint32_t refs;
	bool freed;
	uint64_t len;
	unsigned cnt;
	struct cairn_list hlink;
	struct iovec *iov;
};

struct net_xfer {
	struct net_ctx_impl *ctx;
	uint64_t id;
	enum cairn_bulk_op op;
	struct net_conn *conn;
	struct cairn_bulk *local;
	uint64_t loff;
	uint64_t len;
	uint64_t done_bytes;
	int rc;
	bool finished;
	cairn_net_cb cb;
	void *cb_arg;
	struct cairn_list link;  /* conn->xfers */
	struct cairn_list hlink; /* ctx xfer hash */
	struct cairn_list dlink; /* ctx->xdone */
	struct cairn_list tlink; /* ctx->xfers (timeouts) */
	uint64_t deadline;
};

/* ------------------------------------------------------------------ context */

struct cairn_poller;
struct cairn_xstream;

struct net_ctx_impl {
	struct cairn_net_ctx_opts opts;
	struct cairn_net_group *grp;
	uint32_t rank;
	uint16_t tag;
	uint16_t port;
	int epfd;
	int lfd;
	const struct net_transport_ops *tp;
	struct cairn_xstream *xs;
	struct cairn_poller *poller;
	struct cairn_poller *tmo_poller; /* timed (1 ms): wakes a sleeping xstream for
	                                  * timeouts and reconnects; registered while RPCs
	                                  * pend, dropped after 10 ms without any */
	uint64_t last_pending_us;
	bool manual;
	bool dying;
	pthread_t owner; /* manual contexts: the creating thread */
	uint32_t refs;
	uint64_t next_id;
	uint64_t rng; /* xorshift state: random high halves of bulk ids */
	uint64_t last_tmo_check;
	uint64_t last_work_us; /* last progress pass that did work */
	uint64_t last_stall_scan;
	uint32_t poll_tick;
	uint64_t rx_reads; /* successful reads (progress accounting) */
	uint32_t nconns_accepted;
	struct cairn_list conns;
	struct cairn_list dirty;
	struct cairn_list zombies; /* closed connections, freed after the poll pass */
	struct cairn_list pending; /* client RPCs not yet completed (timeouts) */
	struct cairn_list done;    /* completed RPCs whose callback has to run */
	struct cairn_list xdone;   /* finished transfers whose callback has to run */
	struct cairn_list xfers;   /* transfers in progress (timeouts) */
	struct cairn_list peers[256];
	struct cairn_list rpc_hash[NET_HASH_BUCKETS];
	struct cairn_list bulk_hash[256];
	struct cairn_list xfer_hash[256];
	struct cairn_net_stats st;
};

static inline struct net_ctx_impl *
net_impl(struct cairn_net_ctx *ctx)
{
	return (struct net_ctx_impl *)(void *)ctx;
}

/* The transport interface: what the RPC layer needs from a wire, kept narrow so a
 * libfabric transport (verbs, tcp;ofi_rxm) can sit beside TCP. Messages are a header plus
 * an owned body and/or borrowed data vectors (struct net_tx_msg); receives come back as
 * upcalls (net_on_msg, net_on_data_hdr/done, net_on_connected, net_on_close). */
struct net_transport_ops {
	const char *name;
	int (*listen)(struct net_ctx_impl *ctx, const char *host, uint16_t port);
	int (*connect)(struct net_ctx_impl *ctx, struct net_peer *peer, const char *host,
	               uint16_t port, struct net_conn **out);
	void (*send)(struct net_conn *conn, struct net_tx_msg *msg); /* queue */
	/* write now if msg is all that is queued: the latency path for a lone request/reply */
	void (*kick)(struct net_conn *conn);
	void (*close)(struct net_conn *conn, int reason);
	int (*poll)(struct net_ctx_impl *ctx);   /* receive: > 0 if work done */
	void (*flush)(struct net_ctx_impl *ctx); /* write what was queued */
	void (*fini)(struct net_ctx_impl *ctx);  /* close everything */
	unsigned (*close_stalled)(struct net_ctx_impl *ctx, uint64_t now);
};
extern const struct net_transport_ops g_net_tcp_ops;

/* tcp.c */
int net_tcp_listen(struct net_ctx_impl *ctx, const char *host, uint16_t port);
int net_tcp_connect(struct net_ctx_impl *ctx, struct net_peer *peer, const char *host,
                    uint16_t port, struct net_conn **out);
/* Serve an already connected socket as if accepted (tests, fuzzing). */
int net_tcp_adopt(struct net_ctx_impl *ctx, int fd);
void net_tcp_send(struct net_conn *conn, struct net_tx_msg *msg);
void net_tcp_close(struct net_conn *conn, int reason);
void net_tcp_kick(struct net_conn *conn);
int net_tcp_poll(struct net_ctx_impl *ctx);
void net_tcp_flush_all(struct net_ctx_impl *ctx);
void net_tcp_fini(struct net_ctx_impl *ctx);
/* Close accepted connections stuck mid-message for longer than opts.rx_stall_us. */
unsigned net_tcp_close_stalled(struct net_ctx_impl *ctx, uint64_t now);
struct net_tx_msg *net_msg_alloc(const struct cairn_net_hdr *h, uint8_t *body, uint32_t body_len);

/* Upcalls from the transport into the RPC layer (rpc.c / bulk.c). */
void net_on_connected(struct net_conn *conn, int rc);
void net_on_msg(struct net_conn *conn, const struct cairn_net_hdr *h, uint8_t *body);
/* Map up to max vectors of b[off, off+len) into dst; returns the count, *mapped the bytes. */
unsigned net_bulk_map(const struct cairn_bulk *b, uint64_t off, uint64_t len, struct iovec *dst,
                      unsigned max, uint64_t *mapped);
/* A bulk data header arrived: set conn->rx_dst range (net_bulk_map) or return an error so
 * the data is discarded. */
int net_on_data_hdr(struct net_conn *conn, const struct cairn_net_hdr *h);
void net_on_data_done(struct net_conn *conn, const struct cairn_net_hdr *h);
void net_on_close(struct net_conn *conn, int reason);

/* rpc.c */
/* false (and an error logged) when called from a thread that does not own ctx */
bool net_ctx_on_owner(struct net_ctx_impl *ctx, const char *what);
void net_rpc_complete(struct cairn_rpc *rpc, int rc);
void net_ctx_addref(struct net_ctx_impl *ctx);
void net_ctx_decref(struct net_ctx_impl *ctx);
const struct cairn_rpc_def *net_proto_lookup(uint32_t opc, uint16_t *ver, int *rc);
struct cairn_rpc *net_rpc_alloc(struct net_ctx_impl *ctx, const struct cairn_rpc_def *def,
                                uint32_t opc, uint16_t ver);
void net_rpc_dispatch(struct cairn_rpc *rpc);
int net_send_reply(struct cairn_rpc *rpc, int status, uint8_t *body, uint32_t len, uint16_t flags);
void net_wait_flag(struct net_ctx_impl *ctx, volatile bool *flag);

/* bulk.c */
void net_bulk_msg(struct net_conn *conn, const struct cairn_net_hdr *h, uint8_t *body);
void net_xfer_fail_conn(struct net_conn *conn, int rc);
void net_xfer_run_done(struct net_ctx_impl *ctx);
/* Time out transfers past their deadline; returns how many. */
unsigned net_xfer_timeouts(struct net_ctx_impl *ctx, uint64_t now);
void net_tmo_arm(struct net_ctx_impl *ctx);
void net_bulk_put(struct cairn_bulk *b);

/* coll.c */
int net_coll_server_start(struct cairn_rpc *rpc, struct cairn_dec *d);
void net_coll_forward(struct cairn_rpc *rpc);
int net_coll_reply_local(struct cairn_rpc *rpc, int status);
int net_coll_client_dec(struct cairn_rpc *rpc, struct cairn_dec *d);
int net_coll_client_enc(struct cairn_rpc *rpc, struct cairn_enc *e);
void net_coll_free(struct cairn_rpc *rpc);

/* group.c */
int net_group_lookup(struct cairn_net_group *grp, uint32_t rank, char *host, size_t hlen,
                     uint16_t *port);

#define NET_LOG_SS CAIRN_SS_NET

#endif /* CAIRN_NET_INTERNAL_H */
