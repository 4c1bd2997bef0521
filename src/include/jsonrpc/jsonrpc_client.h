/*
 * Minimal blocking JSON-RPC 2.0 client (cairn-rpc, cairn-tgt's --json replay, tests).
 * One outstanding call at a time per client. Any thread (blocks it; not for ULTs).
 * Link with `cairn_jsonrpc`.
 */
#ifndef CAIRN_JSONRPC_CLIENT_H
#define CAIRN_JSONRPC_CLIENT_H

#include <jansson.h>

struct cairn_jsonrpc_client;

/*
 * Connect to addr: "IPv4:port" (e.g. 127.0.0.1:5260) for TCP, anything else is a Unix
 * socket path. Retries refused/absent sockets until timeout_ms (0 = one attempt).
 * \return 0; -ENOENT / -ECONNREFUSED (nobody serves addr), -CAIRN_ERR_INVAL (bad addr),
 *         -CAIRN_ERR_NOMEM.
 */
int cairn_jsonrpc_client_connect(const char *addr, unsigned timeout_ms,
				 struct cairn_jsonrpc_client **out);

/*
 * Send {"jsonrpc":"2.0","method":method,"params":params,"id":N} (params borrowed, may be
 * NULL) and wait for the reply with that id.
 * \return 0 and *response = the whole reply object (new reference: check "error" vs
 *         "result"); -CAIRN_ERR_TIMEDOUT, -CAIRN_ERR_PROTO (malformed reply, or the
 *         server closed the connection: -EPIPE/-ECONNRESET), -CAIRN_ERR_NOMEM.
 */
int cairn_jsonrpc_client_call(struct cairn_jsonrpc_client *cl, const char *method,
			      const json_t *params, unsigned timeout_ms, json_t **response);

/* Send raw bytes (tests of the server's input validation). */
int cairn_jsonrpc_client_send_raw(struct cairn_jsonrpc_client *cl, const char *buf, size_t len);
/* Receive the next complete JSON value, whatever it is. Same errors as _call(). */
int cairn_jsonrpc_client_recv(struct cairn_jsonrpc_client *cl, unsigned timeout_ms,
			      json_t **value);

void cairn_jsonrpc_client_close(struct cairn_jsonrpc_client *cl);

#endif /* CAIRN_JSONRPC_CLIENT_H */
