/*
 * cairn-rpc internals: the sub-command table (rpc_cmds.c) and the argument model the
 * driver (cairn_rpc.c) parses.
 */
#ifndef CAIRN_RPC_CLI_H
#define CAIRN_RPC_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

enum rpc_arg_type {
	RA_STR,     /* string */
	RA_INT,     /* signed integer */
	RA_UINT,    /* unsigned integer */
	RA_NUM,     /* number (e.g. a size in MiB) */
	RA_FLAG,    /* option without a value: true when present */
};

struct rpc_arg {
	const char *name;      /* positional: shown in usage; option: long name w/o "--" */
	char short_opt;        /* 0: none (options only) */
	bool positional;
	bool required;         /* positional args are required unless optional is set */
	bool optional;         /* optional positional */
	enum rpc_arg_type type;
	const char *key;       /* params key; names starting with '_' are for build() */
	const char *help;
};

#define RPC_MAX_ARGS 16

struct rpc_cmd {
	const char *name;      /* sub-command (= method unless method is set) */
	const char *method;
	const char *help;
	struct rpc_arg args[RPC_MAX_ARGS];
	/* Turn temporaries ("_x" keys) into real params; print why and return -1 on bad
	 * input. NULL: params are sent as parsed. */
	int (*build)(const struct rpc_cmd *cmd, json_t *params);
	/* Client-side commands (save_config -o, load_config, call) run here instead. */
	int (*run)(const struct rpc_cmd *cmd, json_t *params);
};

extern const struct rpc_cmd g_rpc_cmds[];
extern const unsigned g_nr_rpc_cmds;

/* Driver services for run() hooks. */
int rpc_call_print(const char *method, json_t *params, const char *out_file, int indent);
int rpc_call(const char *method, json_t *params, json_t **result);

#endif /* CAIRN_RPC_CLI_H */
