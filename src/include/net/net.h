/*
 * Cairn network RPC layer (CaRT's role): groups of ranks with URIs, one context per
 * xstream, protocols of RPCs with codecs and handlers, requests with timeouts, cancel and
 * per-endpoint credits, bulk transfers and k-nomial collectives, over TCP.
 *
 * Threads: a context is owned by the xstream that created it (or, when created from a
 * plain thread, by that thread, which drives it with cairn_net_progress()). Every function
 * taking a context, RPC or bulk must be called from the owning xstream/thread. Groups and
 * the protocol registry are shared by all contexts and may be used from any thread.
 *
 * Errors: 0 or negative CAIRN_ERR_* / -errno. Callbacks have the shape
 * void cb(void *cb_arg, int rc) and never run inside the call that submitted the work.
 */
#ifndef CAIRN_NET_NET_H
#define CAIRN_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "net/codec.h"

#define CAIRN_RANK_NONE UINT32_MAX

typedef void (*cairn_net_cb)(void *cb_arg, int rc);

/* Endpoint: (rank, tag). Tag t of a rank listens on the rank's URI port + t. */
struct cairn_ep {
	uint32_t rank;
	uint16_t tag;
};

/* ------------------------------------------------------------------ groups */

struct cairn_net_group;

/* A group of ranks (engines) and their URIs ("tcp://host:port"). Any thread. */
int cairn_net_group_create(const char *name, struct cairn_net_group **grp);
void cairn_net_group_destroy(struct cairn_net_group *grp);
/* -CAIRN_ERR_EXIST if the rank is present, -CAIRN_ERR_INVAL for a bad URI. */
int cairn_net_group_rank_add(struct cairn_net_group *grp, uint32_t rank, const char *uri);
/* -CAIRN_ERR_NONEXIST if absent. */
int cairn_net_group_rank_remove(struct cairn_net_group *grp, uint32_t rank);
/* Add or change a rank's URI (a replaced engine); contexts reconnect to the new URI. */
int cairn_net_group_rank_set(struct cairn_net_group *grp, uint32_t rank, const char *uri);
/* Client attach: ranks 0..n-1 get uris[0..n-1]. */
int cairn_net_group_attach(struct cairn_net_group *grp, const char *const *uris, unsigned n);
unsigned cairn_net_group_size(struct cairn_net_group *grp);
/* Sorted rank list; returns the number of ranks (may exceed max: only max written). */
unsigned cairn_net_group_ranks(struct cairn_net_group *grp, uint32_t *ranks, unsigned max);
int cairn_net_group_uri(struct cairn_net_group *grp, uint32_t rank, char *buf, size_t len);
/* Parse "tcp://host:port" (host: IPv4 literal, "localhost" or a resolvable name). */
int cairn_net_uri_parse(const char *uri, char *host, size_t host_len, uint16_t *port);

/* ------------------------------------------------------------------ contexts */

struct cairn_net_ctx;

struct cairn_net_ctx_opts {
	size_t opts_size;              /* sizeof(struct cairn_net_ctx_opts) */
	struct cairn_net_group *group; /* required */
	uint32_t rank;                 /* own rank, or CAIRN_RANK_NONE for a pure client */
	uint16_t tag;                  /* context index within the rank */
	const char *listen_uri;        /* bind here instead of the group's URI (port 0 = any);
	                                * with tag 0 the group entry is set to the bound URI */
	uint32_t max_msg;              /* max request/reply body, default 1 MiB */
	uint32_t credits;              /* max RPCs in flight per endpoint, default 256 */
	uint64_t timeout_us;           /* default RPC timeout, default 60 s */
	uint32_t max_conns;            /* accepted connections, default 1024 */
	uint64_t backoff_min_us;       /* reconnect backoff, default 1 ms */
	uint64_t backoff_max_us;       /* cap, default 1 s */
	uint64_t spin_hint_us;         /* cairn_rt_expect_work() while RPCs wait, default 200 */
	uint64_t rx_stall_us;          /* close an accepted connection stuck this long in the
	                                * middle of a message (slowloris), default 10 s */
};
void cairn_net_ctx_opts_default(struct cairn_net_ctx_opts *opts);

/* The "net" YAML section (keys max_msg, credits, timeout, max_conns, backoff_min,
 * backoff_max, spin_hint, rx_stall; sizes like "1M", durations like "500ms") applied on
 * top of *opts. Errors: -CAIRN_ERR_INVAL with "name:line: what is wrong" in err, -errno
 * when the file cannot be read. Any thread. */
int cairn_net_opts_from_yaml(const char *name, const char *text, size_t len,
                             struct cairn_net_ctx_opts *opts, char *err, size_t errlen);
int cairn_net_opts_from_yaml_file(const char *path, struct cairn_net_ctx_opts *opts, char *err,
                                  size_t errlen);
/* The effective options as a JSON object (loads back as YAML); NULL when out of memory. */
struct json_t *cairn_net_opts_to_json(const struct cairn_net_ctx_opts *opts);

/* Create a context. From an xstream: a busy poller and the context's epoll fd are
 * registered on that xstream. From a plain thread: the caller drives it with
 * cairn_net_progress(); handlers then run inline in progress. */
int cairn_net_ctx_create(const struct cairn_net_ctx_opts *opts, struct cairn_net_ctx **ctx);
/* Close every connection; RPCs still pending complete with -CAIRN_ERR_SHUTDOWN (their
 * callbacks run inside this call). */
void cairn_net_ctx_destroy(struct cairn_net_ctx *ctx);
/* One progress pass: accept, read, dispatch, write, timeouts. Returns > 0 if work done. */
int cairn_net_progress(struct cairn_net_ctx *ctx);
uint16_t cairn_net_ctx_port(const struct cairn_net_ctx *ctx); /* bound port, 0 if none */
uint32_t cairn_net_ctx_rank(const struct cairn_net_ctx *ctx);
uint16_t cairn_net_ctx_tag(const struct cairn_net_ctx *ctx);

struct cairn_net_stats {
	uint64_t req_sent, req_recv, reply_sent, reply_recv;
	uint64_t timeouts, cancels, unreach, proto_errors, conns_accepted, conns_rejected;
	uint64_t conns_closed, connects, late_replies, bulk_bytes_in, bulk_bytes_out;
	uint64_t rx_paused; /* reads skipped: the peer is not reading what we queued */
	uint64_t stalled;   /* connections closed for stalling mid-message */
	uint32_t inflight, conns;
};
void cairn_net_ctx_stats(const struct cairn_net_ctx *ctx, struct cairn_net_stats *st);

/* ------------------------------------------------------------------ protocols */

struct cairn_rpc;

/* Per-RPC flags. */
#define CAIRN_RPC_ONEWAY 0x1u      /* no reply; completes once sent */
#define CAIRN_RPC_QUEUE_FRONT 0x2u /* handler ULT gets network priority */

struct cairn_rpc_def {
	const char *name;
	uint32_t flags;
	size_t in_size;  /* size of the decoded request struct */
	size_t out_size; /* size of the decoded reply struct */
	/* Codecs: return 0 or the enc/dec rc. NULL = empty body. Decoders may keep pointers
	 * into the message (valid while the RPC lives). */
	int (*in_enc)(struct cairn_enc *e, const void *in);
	int (*in_dec)(struct cairn_dec *d, void *in);
	int (*out_enc)(struct cairn_enc *e, const void *out);
	int (*out_dec)(struct cairn_dec *d, void *out);
	/* Runs in a ULT on the serving context's xstream; must end with cairn_rpc_reply()
	 * (unless one-way). May send RPCs and wait. */
	void (*handler)(struct cairn_rpc *rpc);
	/* Collectives: before forwarding to children (may edit the input; non-zero rc stops
	 * the forward and fails this subtree) and for folding a child's output into ours
	 * (called after the local handler replied, once per answering child, in order). Both
	 * run in the progress context: they must not wait. */
	int (*co_pre_forward)(struct cairn_rpc *rpc);
	int (*co_aggregate)(struct cairn_rpc *rpc, const void *child_out);
};

struct cairn_proto {
	const char *name;
	uint32_t base; /* < 2^24; opcode = base << 8 | index */
	uint16_t version;
	unsigned count; /* <= 256 */
	const struct cairn_rpc_def *rpcs;
};
#define CAIRN_NET_OPC(base, idx) (((uint32_t)(base) << 8) | (uint32_t)(idx))

/* Register a protocol (the struct must outlive the registration). Duplicate base ->
 * -CAIRN_ERR_EXIST. Any thread. */
int cairn_net_proto_register(const struct cairn_proto *proto);
int cairn_net_proto_unregister(uint32_t base);

/* ------------------------------------------------------------------ requests */

/* Create a request to ep (refcount 1). Unknown opcode -> -CAIRN_ERR_NONEXIST. */
int cairn_rpc_create(struct cairn_net_ctx *ctx, struct cairn_ep ep, uint32_t opc,
                     struct cairn_rpc **rpc);
void cairn_rpc_addref(struct cairn_rpc *rpc);
void cairn_rpc_decref(struct cairn_rpc *rpc);
void *cairn_rpc_in(struct cairn_rpc *rpc);
void *cairn_rpc_out(struct cairn_rpc *rpc);
uint32_t cairn_rpc_opc(const struct cairn_rpc *rpc);
struct cairn_net_ctx *cairn_rpc_ctx(const struct cairn_rpc *rpc);
/* Timeout in us (0 = context default). Before send. */
void cairn_rpc_set_timeout(struct cairn_rpc *rpc, uint64_t timeout_us);
/* Send; cb(cb_arg, rc) runs exactly once from progress with 0 (reply decoded into out),
 * the handler's error, -CAIRN_ERR_TIMEDOUT, -CAIRN_ERR_CANCELED, -CAIRN_ERR_UNREACH or
 * -CAIRN_ERR_PROTO. The RPC holds its own reference while in flight. On error return
 * the callback is not called. */
int cairn_rpc_send(struct cairn_rpc *rpc, cairn_net_cb cb, void *cb_arg);
/* Send and wait: parks the calling ULT (or, for a context driven by a plain thread,
 * progresses it) until completion. Returns the completion rc. */
int cairn_rpc_send_wait(struct cairn_rpc *rpc);
/* Cancel an RPC in flight: it completes with -CAIRN_ERR_CANCELED (callback from
 * progress). -CAIRN_ERR_ALREADY if it already completed or was never sent. */
int cairn_rpc_cancel(struct cairn_rpc *rpc);

/* True for a collective request (client side) or a member's part of one (server side). */
bool cairn_rpc_is_coll(const struct cairn_rpc *rpc);
/* Send the reply (out encoded with the RPC's codec). Once per request. */
int cairn_rpc_reply(struct cairn_rpc *rpc);
/* Reply with an error status and no body. */
int cairn_rpc_reply_err(struct cairn_rpc *rpc, int status);

/* ------------------------------------------------------------------ bulk */

#define CAIRN_BULK_RO 0x1u /* the peer may GET from it */
#define CAIRN_BULK_RW 0x3u /* the peer may GET and PUT */

enum cairn_bulk_op {
	CAIRN_BULK_GET = 0, /* remote -> local */
	CAIRN_BULK_PUT = 1, /* local -> remote */
};

struct cairn_bulk;
/* Register memory (the iovec array is copied). The memory must stay valid until the RPCs
 * that carry its descriptor have completed and cairn_bulk_free() was called: a transfer
 * already on the wire finishes into it. Up to CAIRN_BULK_MAX_IOV entries. Bulk ids are
 * per context, with a random high half (not guessable by a peer). */
#define CAIRN_BULK_MAX_IOV 1024
int cairn_bulk_create(struct cairn_net_ctx *ctx, const struct iovec *iov, unsigned cnt,
                      uint16_t perm, struct cairn_bulk **bulk);
void cairn_bulk_free(struct cairn_bulk *bulk);
void cairn_bulk_get_desc(const struct cairn_bulk *bulk, struct cairn_bulk_desc *desc);
uint64_t cairn_bulk_len(const struct cairn_bulk *bulk);
/* From a handler: move len bytes between the requester's bulk `remote` (at roff) and
 * our `local` (at loff) on the request's connection. cb(cb_arg, rc) once. */
int cairn_bulk_transfer(struct cairn_rpc *rpc, enum cairn_bulk_op op,
                        const struct cairn_bulk_desc *remote, uint64_t roff,
                        struct cairn_bulk *local, uint64_t loff, uint64_t len, cairn_net_cb cb,
                        void *cb_arg);
/* Same, waiting in the calling ULT (or progressing a plain-thread context). */
int cairn_bulk_transfer_wait(struct cairn_rpc *rpc, enum cairn_bulk_op op,
                             const struct cairn_bulk_desc *remote, uint64_t roff,
                             struct cairn_bulk *local, uint64_t loff, uint64_t len);

/* ------------------------------------------------------------------ collectives */

#define CAIRN_COLL_MAX_RANKS 65536
#define CAIRN_COLL_MAX_RATIO 64

/* A collective request over ranks[0..n-1] (rank ranks[0] is the tree root; the request
 * is sent to (ranks[0], tag)). Each member runs the handler and forwards to its children
 * in a k-nomial tree of the given branch ratio (>= 2); replies are folded with the RPC's
 * co_aggregate hook. Send it with cairn_rpc_send / cairn_rpc_send_wait. */
int cairn_coll_create(struct cairn_net_ctx *ctx, const uint32_t *ranks, unsigned n, uint16_t tag,
                      uint32_t opc, unsigned ratio, struct cairn_rpc **rpc);
/* After completion: ranks that failed or could not be reached (pointer valid while the
 * RPC lives). */
void cairn_coll_failed(const struct cairn_rpc *rpc, const uint32_t **ranks, unsigned *n);
/* k-nomial tree over positions 0..n-1 rooted at 0: children of pos (up to max) and
 * parent (-1 for the root). */
unsigned cairn_knomial_children(unsigned n, unsigned ratio, unsigned pos, unsigned *out,
                                unsigned max);
int cairn_knomial_parent(unsigned n, unsigned ratio, unsigned pos);

#endif /* CAIRN_NET_NET_H */
