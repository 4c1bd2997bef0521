/*
 * cairn-server internals: configuration, storage format (superblock), engine
 * supervision and the management API.
 */
#ifndef CAIRN_CONTROL_INTERNAL_H
#define CAIRN_CONTROL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/uuid.h"

#define CTL_MAX_ENGINES 8
#define CTL_MAX_ACCESS_POINTS 4
#define CTL_MAX_REMOTE 56 /* ranks of other servers the management service tracks */
#define CTL_MAX_TARGETS 64
#define CTL_NAME_MAX 64       /* system name incl. NUL */
#define CTL_SOCK_PATH_MAX 108 /* sun_path */
#define CTL_DEFAULT_CONFIG "/etc/cairn/cairn_server.yml"
#define CTL_DEFAULT_MGMT_SOCK "/var/tmp/cairn_server.sock"

/* ------------------------------------------------------------------ config */

struct ctl_storage_cfg {
	char *dir;            /* engine's storage directory (superblock + target files) */
	uint64_t target_size; /* bytes per target file */
	char **devices;       /* or one block device (or existing file) per target */
	uint32_t nr_devices;
};

struct ctl_engine_cfg {
	uint32_t targets;
	uint32_t helpers;
	uint32_t port; /* fabric port, 0 = none */
	struct ctl_storage_cfg storage;
	char *log_file;    /* engine log (default: the server's stderr) */
	char *log_mask;    /* engine log mask */
	char *drpc_socket; /* default <socket_dir>/engine<i>.sock */
};

struct ctl_config {
	char *path;        /* file it came from (not in the schema) */
	char *name;        /* system name */
	uint32_t port;     /* management API TCP port on 127.0.0.1, 0 = none */
	char *mgmt_socket; /* management API Unix socket */
	char *socket_dir;  /* where engines' dRPC sockets go */
	char *log_file;    /* control plane log (default stderr) */
	char *log_mask;
	char *engine_bin;             /* default: cairn-engine next to cairn-server */
	uint64_t restart_backoff_min; /* ns */
	uint64_t restart_backoff_max; /* ns */
	uint32_t max_restarts;        /* crashes in a row before a rank is excluded */
	uint64_t stop_timeout;        /* ns: clean stop before SIGKILL */
	struct ctl_engine_cfg *engines;
	uint32_t nr_engines;
	/* "127.0.0.1:PORT" of the management service (the first server) this server joins;
	 * none: this server is the management service */
	char **access_points;
	uint32_t nr_access_points;
};

/* Load and validate; on failure a one-line reason ("file:line: ...") is in err. */
int ctl_config_load(const char *path, struct ctl_config *cfg, char *err, size_t errlen);
/* Same from text (tests). */
int ctl_config_load_string(const char *name, const char *text, struct ctl_config *cfg, char *err,
                           size_t errlen);
void ctl_config_free(struct ctl_config *cfg);

/* ------------------------------------------------------------------ superblock */

#define CTL_SB_MAGIC 0x4b4c4253524e4143ull /* "CARNSBLK" little-endian */
#define CTL_SB_VERSION 1
#define CTL_SB_FILE "superblock"

/* On disk: little-endian, 256 bytes, CRC32C over the bytes before `crc`. */
struct ctl_superblock_df {
	uint64_t magic;
	uint32_t version;
	uint32_t rank;
	uint8_t system_uuid[16];
	uint8_t engine_uuid[16];
	char system[CTL_NAME_MAX];
	uint32_t nr_targets;
	uint32_t flags;
	uint64_t target_size;
	uint64_t format_time; /* seconds since the epoch */
	uint8_t reserved[116];
	uint32_t crc;
};
_Static_assert(sizeof(struct ctl_superblock_df) == 256, "superblock is 256 bytes");

/* Decoded superblock. */
struct ctl_superblock {
	uint32_t version;
	uint32_t rank;
	struct cairn_uuid system_uuid;
	struct cairn_uuid engine_uuid;
	char system[CTL_NAME_MAX];
	uint32_t nr_targets;
	uint64_t target_size;
	uint64_t format_time;
};

void ctl_sb_encode(const struct ctl_superblock *sb, struct ctl_superblock_df *df);
/* Recompute df->crc over its current bytes (tests and fuzzing). */
void ctl_sb_encode_crc(struct ctl_superblock_df *df);
/* -CAIRN_ERR_CORRUPT (bad magic/CRC/fields), -CAIRN_ERR_VERSION. */
int ctl_sb_decode(const struct ctl_superblock_df *df, struct ctl_superblock *sb);
/* Read <dir>/superblock: 0, -ENOENT (not formatted), -CAIRN_ERR_CORRUPT, -errno. */
int ctl_sb_read(const char *dir, struct ctl_superblock *sb);

/*
 * Format every engine's storage: superblock (system name, rank = engine index, one
 * system UUID) and target-<i> files of the configured size. Without force, refuses
 * (-CAIRN_ERR_EXIST) when any engine's storage holds a superblock (or any file). err
 * says what to do.
 */
int ctl_storage_format(const struct ctl_config *cfg, bool force, struct cairn_uuid *sys_uuid,
                       char *err, size_t errlen);

/*
 * Exclusive use of every engine's storage dir (flock on <dir>/lock, dirs created if
 * needed): a running cairn-server holds it, so neither a second server nor
 * `cairn-server storage format` can touch storage in use. fds[] receives the lock fds.
 * -CAIRN_ERR_BUSY (held elsewhere, err says by whom) or -errno.
 */
int ctl_storage_lock(const struct ctl_config *cfg, int fds[CTL_MAX_ENGINES], char *err,
                     size_t errlen);
void ctl_storage_unlock(const struct ctl_config *cfg, int fds[CTL_MAX_ENGINES]);

struct json_t;
/* Describe every engine's storage (formatted or not, targets, sizes, free space). */
struct json_t *ctl_storage_query_json(const struct ctl_config *cfg);

/* ------------------------------------------------------------------ engines */

enum ctl_rank_state {
	CTL_RANK_STOPPED = 0,
	CTL_RANK_STARTING,
	CTL_RANK_JOINED,
	CTL_RANK_STOPPING,
	CTL_RANK_EXCLUDED,
};
const char *ctl_rank_state_name(enum ctl_rank_state st);

struct cairn_drpc_client;

struct ctl_engine {
	unsigned idx;
	uint32_t rank;
	const struct ctl_engine_cfg *cfg;
	char drpc_path[CTL_SOCK_PATH_MAX];
	enum ctl_rank_state state;
	bool want_running; /* admin intent: restart on crash */
	bool formatted;
	bool setup_done; /* this engine process accepted its SETUP (config over dRPC) */
	pid_t pid;
	struct cairn_drpc_client *drpc;
	uint64_t started_ms;
	uint64_t joined_ms;
	uint64_t start_deadline_ms;
	uint64_t next_start_ms;
	uint64_t backoff_ms;
	uint64_t last_ping_ms;
	unsigned restarts; /* total restarts after crashes */
	unsigned crashes_in_row;
	bool kill_sent;     /* SIGKILL sent to a stuck engine; waiting to reap it */
	char last_exit[64]; /* "exit 0", "signal 9", "" */
	/* membership push (ctl_group.c) */
	uint64_t group_sent;    /* table version this engine process has */
	pid_t group_pid;        /* the process it was sent to */
	uint64_t group_next_ms; /* retry time after a failed push */
};

/* A rank as the membership table lists it. */
struct ctl_member {
	uint32_t rank;
	char state[16];       /* ctl_rank_state_name() */
	char uri[64];         /* tcp://127.0.0.1:PORT or "" */
	uint32_t targets;
	struct cairn_uuid engine_uuid; /* MS: the engine's (from its superblock) */
	uint64_t last_ms;              /* MS: last report from its server */
	pid_t pid;
};

struct ctl_system {
	struct ctl_config *cfg;
	struct ctl_engine engines[CTL_MAX_ENGINES];
	unsigned nr_engines;
	struct cairn_uuid uuid;
	bool formatted;
	char engine_bin[4096];
	int lock_fds[CTL_MAX_ENGINES];
	uint64_t group_version; /* membership table version (ctl_group.c) */
	uint64_t group_sig;     /* what it was computed from */
	/* several servers (ctl_ms.c) */
	bool is_node;     /* has access_points: joins the management service there */
	bool ranks_ready; /* engines may start: ranks known (always, on the MS) */
	struct ctl_member *remote; /* MS: ranks of other servers; node: the MS's table */
	unsigned nr_remote;
	uint64_t ms_version;     /* node: the MS's table version */
	uint64_t next_report_ms; /* node: next report to the MS */
	bool ms_unreachable;     /* node: last report failed (logged once) */
};

int ctl_system_init(struct ctl_system *sys, struct ctl_config *cfg);
void ctl_system_fini(struct ctl_system *sys);
/* Re-read superblocks (after format). */
void ctl_system_refresh_storage(struct ctl_system *sys);
/* Reap exited engines and drive state machines (start, join, restart with backoff).
 * Called from the server loop every ~100 ms and after SIGCHLD. */
void ctl_system_tick(struct ctl_system *sys);
/* Ask ranks (mask of engine indexes) to run / stop; stop waits for the processes. */
void ctl_system_start(struct ctl_system *sys, uint32_t mask);
void ctl_system_stop(struct ctl_system *sys, uint32_t mask, bool force);
/* Wait (driving tick) until every rank in mask is joined or excluded, up to timeout. */
bool ctl_system_wait_joined(struct ctl_system *sys, uint32_t mask, unsigned timeout_ms);
bool ctl_system_any_running(const struct ctl_system *sys);
struct json_t *ctl_system_query_json(struct ctl_system *sys, uint32_t mask);
uint64_t ctl_now_ms(void);

/* ------------------------------------------------------------------ membership (ctl_group.c) */

/* The fabric URI of an engine ("" without a port). */
void ctl_engine_uri(const struct ctl_engine *e, char *buf, size_t len);
/* Move the membership table version on when any rank's state or URI changed, and push
 * the table (MGMT GROUP_UPDATE) to every joined engine that does not have it yet. Called
 * at the end of every ctl_system_tick(). */
void ctl_group_sync(struct ctl_system *sys);
/* Move the version on if the table changed (MS), or take the MS's version (node). */
void ctl_group_refresh(struct ctl_system *sys);
/* Send one engine the table now (0, or the dRPC error). */
int ctl_group_push(struct ctl_system *sys, struct ctl_engine *e);

/* ------------------------------------------------------------------ several servers (ctl_ms.c) */

/* Set up from the config (is_node, ranks_ready); 0 or -CAIRN_ERR_NOMEM. */
int ctl_ms_init(struct ctl_system *sys);
void ctl_ms_fini(struct ctl_system *sys);
/* Node: report this server's engines to the management service and take the ranks it
 * assigns and its membership table. MS: ranks of servers that stopped reporting are
 * marked stopped. Called from every ctl_system_tick(). */
void ctl_ms_tick(struct ctl_system *sys);
/* MS: append the other servers' ranks to a system_query "ranks" array. */
void ctl_ms_query_json(struct ctl_system *sys, struct json_t *ranks);
/* JSON-RPC method system_report (MS side); registered by ctl_api_register(). */
int ctl_ms_api_register(struct ctl_system *sys);
void ctl_ms_api_unregister(void);

/* ------------------------------------------------------------------ management API */

int ctl_api_register(struct ctl_system *sys);
void ctl_api_unregister(void);
/* pool_* methods (ctl_pool.c), forwarded to the engine's pool service; registered by
 * ctl_api_register(). */
int ctl_pool_api_register(struct ctl_system *sys);
void ctl_pool_api_unregister(void);

/* Run the server until SIGTERM/SIGINT. Exit code. */
int ctl_server_run(struct ctl_config *cfg);

#endif /* CAIRN_CONTROL_INTERNAL_H */
