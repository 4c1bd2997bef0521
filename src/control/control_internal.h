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
#define CTL_MAX_TARGETS 64
#define CTL_NAME_MAX 64       /* system name incl. NUL */
#define CTL_SOCK_PATH_MAX 108 /* sun_path */
#define CTL_DEFAULT_CONFIG "/etc/cairn/cairn_server.yml"
#define CTL_DEFAULT_MGMT_SOCK "/var/tmp/cairn_server.sock"

/* ------------------------------------------------------------------ config */

struct ctl_storage_cfg {
	char *dir;            /* engine's storage directory (superblock + target files) */
	uint64_t target_size; /* bytes per target file */
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
};

struct ctl_system {
	struct ctl_config *cfg;
	struct ctl_engine engines[CTL_MAX_ENGINES];
	unsigned nr_engines;
	struct cairn_uuid uuid;
	bool formatted;
	char engine_bin[4096];
	int lock_fds[CTL_MAX_ENGINES];
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
