/*
 * dRPC: the local RPC channel between cairn-server (control plane) and cairn-engine (data
 * plane), in the role of DAOS's dRPC.
 *
 * Transport: a Unix SEQPACKET socket; one packet carries one protobuf-c message
 * (src/drpc/drpc.proto): `Call {module, method, sequence, body}` from the client,
 * `Response {sequence, status, body}` from the server. A packet larger than
 * CAIRN_DRPC_MAX_MSG is refused. Module bodies are their own protobuf messages
 * (src/drpc/mgmt.proto for the mgmt module).
 *
 * Status: 0, or a negative CAIRN_ERR_* / -errno. Errors produced by dRPC itself:
 *   -CAIRN_ERR_PROTO     the Call could not be decoded (sequence 0 in the Response)
 *   -CAIRN_ERR_OVERFLOW  the Call was larger than CAIRN_DRPC_MAX_MSG
 *   -CAIRN_ERR_NOSYS     no handler for the module or the method
 *   -CAIRN_ERR_SHUTDOWN  the server is stopping
 * On failure the Response body holds a UTF-8 message saying what was wrong.
 *
 * Server side (engine): runs on the runtime. cairn_drpc_server_start() is called from
 * the system xstream (a ULT there); a poller on that xstream accepts connections and
 * reads packets; each Call is handled in its own ULT on that xstream, so handlers may
 * yield (sleep, wait on an eventual). Handlers are registered per module id in tables.
 *
 * Client side (control plane, tools, tests): plain threads, blocking with timeouts; a
 * client may be shared by threads (calls are serialised).
 */
#ifndef CAIRN_DRPC_DRPC_H
#define CAIRN_DRPC_DRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest packet (Call or Response) in bytes: a bound so a receiver can allocate once. */
#define CAIRN_DRPC_MAX_MSG (1u << 17)
/* Largest body: leaves room for the envelope. */
#define CAIRN_DRPC_MAX_BODY (CAIRN_DRPC_MAX_MSG - 64)

/* Module ids (stable: they are on the wire). */
enum cairn_drpc_module {
	CAIRN_DRPC_MODULE_TEST = 0, /* reserved for tests */
	CAIRN_DRPC_MODULE_MGMT = 1, /* engine management: ping, info, rank, shutdown */
	CAIRN_DRPC_MODULE_SRV = 2,  /* reserved: engine -> server notifications */
	CAIRN_DRPC_MODULE_VOS = 3,  /* reserved for the next modules */
	CAIRN_DRPC_MODULE_POOL = 4,
	CAIRN_DRPC_MODULE_CONT = 5,
	CAIRN_DRPC_MODULE_OBJ = 6,
	CAIRN_DRPC_MODULE_MAX = 64
};

/* Methods of CAIRN_DRPC_MODULE_MGMT (bodies in mgmt.proto). */
enum cairn_drpc_mgmt_method {
	CAIRN_DRPC_MGMT_PING = 1,
	CAIRN_DRPC_MGMT_GET_INFO = 2,
	CAIRN_DRPC_MGMT_SET_RANK = 3,
	CAIRN_DRPC_MGMT_PREP_SHUTDOWN = 4,
	CAIRN_DRPC_MGMT_SHUTDOWN = 5,
	CAIRN_DRPC_MGMT_SETUP = 6,        /* SetUpReq: the engine's whole configuration */
	CAIRN_DRPC_MGMT_GROUP_UPDATE = 7, /* GroupUpdateReq: membership push */
};

/* ------------------------------------------------------------------ codec */

/* A decoded Call. body points into memory owned by the call (priv): release it with
 * cairn_drpc_call_release(). */
struct cairn_drpc_call {
	uint32_t module;
	uint32_t method;
	uint64_t sequence;
	const uint8_t *body;
	size_t body_len;
	void *priv;
};

/* A decoded Response (same ownership rule). */
struct cairn_drpc_response {
	uint64_t sequence;
	int32_t status;
	const uint8_t *body;
	size_t body_len;
	void *priv;
};

/*
 * Decode and validate one packet. Refused (-CAIRN_ERR_PROTO): not a valid protobuf
 * message, unknown fields, module >= CAIRN_DRPC_MODULE_MAX, body larger than
 * CAIRN_DRPC_MAX_BODY. Larger than CAIRN_DRPC_MAX_MSG: -CAIRN_ERR_OVERFLOW.
 * -CAIRN_ERR_NOMEM. Any thread.
 */
int cairn_drpc_call_decode(const void *buf, size_t len, struct cairn_drpc_call *call);
void cairn_drpc_call_release(struct cairn_drpc_call *call);
/* Responses: status must be 0 or negative, body bounded as above. */
int cairn_drpc_response_decode(const void *buf, size_t len, struct cairn_drpc_response *resp);
void cairn_drpc_response_release(struct cairn_drpc_response *resp);

/* Encode into a malloc'd buffer *out of *out_len bytes. -CAIRN_ERR_INVAL (module out of range,
 * positive status, body too large), -CAIRN_ERR_NOMEM. Any thread. */
int cairn_drpc_call_encode(uint32_t module, uint32_t method, uint64_t sequence, const void *body,
                           size_t body_len, uint8_t **out, size_t *out_len);
int cairn_drpc_response_encode(uint64_t sequence, int32_t status, const void *body, size_t body_len,
                               uint8_t **out, size_t *out_len);

/* ------------------------------------------------------------------ handlers */

/*
 * A method handler, run in a ULT on the server's xstream. On success return 0 and
 * optionally set *body and *body_len to a malloc'd reply message (dRPC frees it). On failure
 * return a negative code; a malloc'd UTF-8 message may be left in *body to explain it.
 */
typedef int (*cairn_drpc_handler_fn)(const struct cairn_drpc_call *call, uint8_t **body,
                                     size_t *body_len);

struct cairn_drpc_method {
	uint32_t method;
	const char *name;
	cairn_drpc_handler_fn handler;
};

/* One module's table: this is what `struct cairn_module.drpc_handlers` points at. */
struct cairn_drpc_handler_table {
	uint32_t module; /* CAIRN_DRPC_MODULE_* */
	const char *name;
	const struct cairn_drpc_method *methods;
	size_t nr_methods;
};

/* Register a table (kept by pointer: it must stay valid until unregistered). Errors:
 * -CAIRN_ERR_INVAL (module out of range, no methods, NULL handler, duplicate method
 * ids), -CAIRN_ERR_EXIST (module already has a table). Any thread. */
int cairn_drpc_register(const struct cairn_drpc_handler_table *table);
/* Remove the table of a module (no-op when absent). Any thread; do it only once no
 * server dispatches to it any more. */
void cairn_drpc_unregister(uint32_t module);

/* Helper for handlers: a malloc'd printf-formatted error text for *body. */
void cairn_drpc_errmsg(uint8_t **body, size_t *body_len, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------ server */

struct cairn_drpc_server;

#define CAIRN_DRPC_DEFAULT_MAX_CONNS 16

/*
 * Listen on path (mode 0600). A stale socket file (nobody listening) is replaced; a live
 * one gives -CAIRN_ERR_BUSY; a path that exists and is not a socket gives -EEXIST.
 * Registers a poller and a wake fd on the CURRENT xstream, which then owns the server:
 * call from a ULT on the system xstream (cairn_rt_run_sync). max_conns 0 = default;
 * extra connections are closed at once.
 */
int cairn_drpc_server_start(const char *path, unsigned max_conns, struct cairn_drpc_server **out);
/*
 * Listen on path exactly as cairn_drpc_server_start() does (same checks, mode 0600,
 * non-blocking) without serving it: an engine waiting for its SETUP answers on this
 * listener before its runtime exists, then hands it to cairn_drpc_server_start_fd().
 * 0 or the errors of cairn_drpc_server_start(). Any thread.
 */
int cairn_drpc_listen(const char *path, int *listen_fd);
/*
 * As cairn_drpc_server_start(), serving listen_fd (from cairn_drpc_listen(path)) instead
 * of opening one: the server owns it on success (closes it and unlinks path at stop); on
 * failure it stays the caller's. From a ULT on the owning xstream.
 */
int cairn_drpc_server_start_fd(const char *path, int listen_fd, unsigned max_conns,
                               struct cairn_drpc_server **out);
/*
 * Serve an already connected socket (accepted before the server existed) as if the
 * server had accepted it; the server owns fd on success. -CAIRN_ERR_INVAL,
 * -CAIRN_ERR_BUSY (max_conns reached), -errno. From a ULT on the owning xstream.
 */
int cairn_drpc_server_adopt(struct cairn_drpc_server *srv, int fd);
/*
 * Stop: close the listener, answer nothing new, wait (yielding, up to timeout_us) for
 * calls being handled to send their Responses, close connections, unlink the socket and
 * free the server. From a ULT on the owning xstream.
 */
void cairn_drpc_server_stop(struct cairn_drpc_server *srv, uint64_t timeout_us);

struct cairn_drpc_server_stats {
	uint64_t calls;    /* Calls dispatched to a handler */
	uint64_t errors;   /* Calls answered with a non-zero status */
	uint64_t bad_msgs; /* packets that could not be decoded (or were too large) */
	unsigned conns;    /* open connections */
	unsigned inflight; /* Calls being handled */
};
/* Statistics snapshot (owning xstream, or racy from elsewhere). */
void cairn_drpc_server_stats(const struct cairn_drpc_server *srv,
                             struct cairn_drpc_server_stats *st);

/* ------------------------------------------------------------------ client */

struct cairn_drpc_client;

/*
 * Connect to a dRPC socket, retrying while it is absent or refused for up to timeout_ms
 * (0 = one attempt). 0; -ENOENT / -ECONNREFUSED (nobody serves path), -CAIRN_ERR_INVAL
 * (path too long), -CAIRN_ERR_NOMEM. Any plain thread.
 */
int cairn_drpc_client_connect(const char *path, unsigned timeout_ms,
                              struct cairn_drpc_client **out);
/*
 * Send a Call and wait up to timeout_ms for its Response (Responses to earlier, timed
 * out calls are skipped by sequence). On 0, *resp is filled (release it with
 * cairn_drpc_response_release()); resp->status is the handler's status. Errors:
 * -CAIRN_ERR_TIMEDOUT, -CAIRN_ERR_UNREACH (server closed the connection), -CAIRN_ERR_PROTO
 * (undecodable Response), -CAIRN_ERR_INVAL (bad arguments), -CAIRN_ERR_NOMEM.
 */
int cairn_drpc_client_call(struct cairn_drpc_client *cl, uint32_t module, uint32_t method,
                           const void *body, size_t body_len, unsigned timeout_ms,
                           struct cairn_drpc_response *resp);
/* Send raw bytes as one packet (tests of the server's validation). */
int cairn_drpc_client_send_raw(struct cairn_drpc_client *cl, const void *buf, size_t len);
/* Receive the next Response, whatever its sequence (tests). */
int cairn_drpc_client_recv(struct cairn_drpc_client *cl, unsigned timeout_ms,
                           struct cairn_drpc_response *resp);
void cairn_drpc_client_close(struct cairn_drpc_client *cl);

#endif /* CAIRN_DRPC_DRPC_H */
