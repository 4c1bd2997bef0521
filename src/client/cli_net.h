/*
 * libcairn's network: a private runtime (one unpinned xstream) that owns the client's
 * RPC context and runs every operation's network part in a ULT there (straight-line
 * code that waits by yielding). Started by the first pool connection, stopped with the
 * last. Operations are tasks: their body hands a function to the xstream with
 * cli_net_submit(), which completes the task with the function's result.
 */
#ifndef CAIRN_CLIENT_CLI_NET_H
#define CAIRN_CLIENT_CLI_NET_H

#include <stddef.h>
#include <stdint.h>

#include "net/net.h"

struct cli_task;

/* Take a reference on the network of the system at uri (starting it on first use).
 * Plain threads only. -CAIRN_ERR_INVAL (bad URI, or another system already in use). */
int cli_net_get(const char *uri);
/* Drop it; the last reference stops the runtime. Plain threads only. */
void cli_net_put(void);

/* Run fn(arg) in a ULT on the client xstream and complete task with its return value.
 * On error the task is not completed. */
int cli_net_submit(struct cli_task *task, int (*fn)(void *arg), void *arg);

/* From a ULT on the client xstream: send a request (in copied, in_size bytes) and wait.
 * On 0 *rpc holds the reply (cairn_rpc_out); the caller decrefs it. On error no RPC is
 * returned. */
int cli_rpc(struct cairn_ep ep, uint32_t opc, const void *in, size_t in_size,
            struct cairn_rpc **rpc);

/* Add or update an engine rank's URI in the client's group (from a pool connect/query
 * reply: the pool map's ranks). Any thread. -CAIRN_ERR_INVAL for a bad URI. */
int cli_net_rank_set(uint32_t rank, const char *uri);

/* The client's context (client xstream only). */
struct cairn_net_ctx *cli_net_ctx(void);

/* Register the client protocols (pool, cont, obj); idempotent, any thread. */
int cli_net_protos(void);

#endif /* CAIRN_CLIENT_CLI_NET_H */
