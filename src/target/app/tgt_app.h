/*
 * cairn-tgt application library: everything main() needs, so the main stays a page
 * long and tests can drive the app in-process.
 */
#ifndef CAIRN_TGT_APP_H
#define CAIRN_TGT_APP_H

#include <stdbool.h>
#include <stddef.h>

struct cairn_tgt_opts {
	size_t opts_size;          /* sizeof(struct cairn_tgt_opts) */
	const char *rpc_path;      /* Unix socket; default CAIRN_JSONRPC_DEFAULT_SOCK */
	const char *rpc_tcp;       /* optional "127.0.0.1:port" */
	const char *json_config;   /* --json file replayed at start, or NULL */
	const char *cpu_list;      /* cores to run on ("0-3,6"), NULL = not pinned */
	unsigned nr_main;          /* reactor (main) xstreams, >= 1 */
	const char *log_mask;      /* -L / CAIRN_LOG_MASK style mask, or NULL */
	const char *log_file;      /* or NULL (stderr) */
};

void cairn_tgt_opts_default(struct cairn_tgt_opts *opts);

/* Parse an SPDK-style core mask ("0x3", "3", "[0,2-3]") into a cpu list "0,1" and a
 * count. 0 or -CAIRN_ERR_INVAL. */
int cairn_tgt_parse_core_mask(const char *mask, char *list, size_t list_len, unsigned *count);
/* Count the cores of a list "0-3,6" (validates it). 0 or -CAIRN_ERR_INVAL. */
int cairn_tgt_parse_core_list(const char *list, unsigned *count);

/*
 * Run the target: start the runtime and the subsystems, serve JSON-RPC, replay the
 * --json config, then wait for SIGINT/SIGTERM and shut everything down cleanly.
 * Call from main() before creating any other thread. Returns the process exit code
 * (0 clean shutdown, 1 startup failure).
 */
int cairn_tgt_run(const struct cairn_tgt_opts *opts);

/* Ask a running cairn_tgt_run() to shut down (as SIGTERM would). Any thread. */
void cairn_tgt_request_shutdown(void);

#endif /* CAIRN_TGT_APP_H */
