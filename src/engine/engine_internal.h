/*
 * cairn-engine internals: options, the engine's state and its module table.
 */
#ifndef CAIRN_ENGINE_INTERNAL_H
#define CAIRN_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/uuid.h"

#define ENGINE_MAX_TARGETS 64
#define ENGINE_MAX_HELPERS 64
#define ENGINE_DEFAULT_DRPC "/var/tmp/cairn_engine.sock"
#define ENGINE_SYSTEM_MAX 64 /* system name incl. NUL */
#define ENGINE_URI_MAX 128

/* Runtime module ids of the engine's modules (struct cairn_module.id). The next modules
 * (vos, pool, cont, obj, dtx, rdb, rebuild) take the reserved ids. */
enum engine_module_id {
	ENGINE_MOD_MGMT = 1,
	ENGINE_MOD_VOS = 2,
	ENGINE_MOD_POOL = 3,
	ENGINE_MOD_CONT = 4,
	ENGINE_MOD_OBJ = 5,
	ENGINE_MOD_DTX = 6,
	ENGINE_MOD_RDB = 7,
	ENGINE_MOD_REBUILD = 8,
};

struct cairn_engine_opts {
	size_t opts_size;
	unsigned targets;        /* -t: main xstreams, 1..ENGINE_MAX_TARGETS */
	unsigned helpers;        /* -x: helper xstreams */
	const char *storage_dir; /* -s: formatted storage (target-<i> files), may be NULL */
	unsigned port;           /* -p: fabric port (0: none) */
	const char *uri;         /* --uri: overrides tcp://127.0.0.1:<port> */
	const char *drpc_path;   /* -d: dRPC socket */
	const char *log_mask;    /* --log-mask */
	const char *log_file;    /* --log-file */
	int rank;                /* -r: initial rank, -1 = assigned over dRPC */
	bool pin;                /* --pin: pin xstreams to cores */
	/* No configuration option given (only -d and the log options, as cairn-server
	 * starts it): wait up to setup_timeout_s for a dRPC SETUP carrying the whole
	 * configuration before starting anything. */
	bool wait_setup;
	unsigned setup_timeout_s; /* --setup-timeout: default ENGINE_SETUP_TIMEOUT_S */
};

#define ENGINE_SETUP_TIMEOUT_S 60
#define ENGINE_SETUP_TIMEOUT_MAX_S 3600
/* Exit code of an engine that waited for its SETUP and got none in time. */
#define ENGINE_EXIT_NO_SETUP 3

void engine_opts_default(struct cairn_engine_opts *opts);
/* Run until SIGTERM/SIGINT or a dRPC SHUTDOWN; returns the process exit code. */
int cairn_engine_run(const struct cairn_engine_opts *opts);

/* ---- state shared by the built-in modules (system xstream, except where noted) ---- */

enum engine_state {
	ENGINE_STARTING = 0,
	ENGINE_READY,
	ENGINE_STOPPING,
};

struct engine_info {
	int rank;
	char system[ENGINE_SYSTEM_MAX];
	struct cairn_uuid system_uuid;
	enum engine_state state;
	char uri[ENGINE_URI_MAX];
	uint64_t start_us;
	unsigned targets;
	unsigned helpers;
	const char *storage_dir;
};

struct engine_info *engine_info(void);
const char *engine_state_name(enum engine_state st);
/* Ask the main thread to shut the engine down (any thread). */
void engine_request_shutdown(void);
/* Names of the registered modules, for GET_INFO. */
unsigned engine_module_names(const char **names, unsigned max);

/* Built-in modules. */
extern struct cairn_module g_engine_mgmt_module;

/* ---- network (srv_net.c) ---- */

/* RPC protocol bases (struct cairn_proto.base) of the engine's modules. */
#define ENGINE_PROTO_MGMT 0x100
enum { MGMT_RPC_PING = 0 };

/* Reply of MGMT_RPC_PING. */
struct engine_ping_out {
	uint32_t rank;
	uint32_t tag;
	uint32_t xs_role; /* enum cairn_xs_role of the serving xstream */
};

struct cairn_proto;
extern const struct cairn_proto g_engine_mgmt_proto;

/* Create the rank's network contexts (tag 0 on the system xstream, 1 + i on target i);
 * a no-op without a URI or when already started. From a ULT on the system xstream. */
int engine_net_start(uint32_t rank);
/* Destroy them (any plain thread or a ULT on the system xstream). */
void engine_net_stop(void);
unsigned engine_net_contexts(void);

#endif /* CAIRN_ENGINE_INTERNAL_H */
