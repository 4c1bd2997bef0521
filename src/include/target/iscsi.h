/*
 * Cairn iSCSI target (RFC 7143) — the API cairn-tgt and its JSON-RPC methods call.
 * Implementation: src/target/iscsi/ (PDUs, login, CHAP, sessions, connections) over the
 * SCSI emulation in src/target/scsi/ and the bdev layer.
 *
 * Threads: every function here is for a plain thread or a ULT on the system xstream
 * (what JSON-RPC handlers run in); none may be called from a poll group's xstream.
 * cairn_iscsi_init() needs the runtime running (it registers one poll group per main
 * xstream and an acceptor on the first). Configuration objects live in one registry
 * under a mutex; connections and sessions live on their poll group's xstream.
 *
 * Errors: 0 or negative CAIRN_ERR_*: -CAIRN_ERR_INVAL (bad argument, message logged),
 * -CAIRN_ERR_EXIST (tag or name taken), -CAIRN_ERR_NONEXIST (unknown tag/name/bdev),
 * -CAIRN_ERR_BUSY (object in use), -CAIRN_ERR_NOMEM, -errno from socket calls.
 */
#ifndef CAIRN_TARGET_ISCSI_H
#define CAIRN_TARGET_ISCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CAIRN_ISCSI_NAME_MAX 224          /* iSCSI names: 223 bytes + NUL */
#define CAIRN_ISCSI_MAX_PORTALS 16        /* per portal group */
#define CAIRN_ISCSI_MAX_IG_ENTRIES 64     /* initiators or netmasks per initiator group */
#define CAIRN_ISCSI_MAX_PG_IG_MAPS 16     /* per target node */
#define CAIRN_ISCSI_MAX_SECRETS 64        /* per auth group */
#define CAIRN_ISCSI_MAX_LUNS 64           /* per target node (LUN ids 0..63) */

/** Global options. */
struct cairn_iscsi_opts {
	size_t opts_size;             /**< sizeof(struct cairn_iscsi_opts) */
	const char *node_base;        /**< prefix for short target names
				       *   (default "iqn.2016-06.io.cairn") */
	uint32_t max_sessions;        /**< default 1024 */
	uint32_t max_connections;     /**< total connections incl. logging in, default 16384 */
	uint32_t max_conns_per_session;/**< MaxConnections we accept, default 4 */
	uint32_t max_queue_depth;     /**< CmdSN window per session, default 128 */
	uint32_t max_recv_dsl;        /**< our MaxRecvDataSegmentLength, default 262144 */
	uint32_t first_burst;         /**< default 65536 */
	uint32_t max_burst;           /**< default 1048576 */
	uint32_t max_r2t;             /**< MaxOutstandingR2T we accept, default 16 */
	bool immediate_data;          /**< default true */
	bool initial_r2t;             /**< default false (unsolicited data allowed) */
	bool allow_digests;           /**< accept CRC32C digests, default true */
	uint32_t login_timeout_ms;    /**< a login that does not complete is closed, 15000 */
	uint32_t nop_in_interval_s;   /**< idle time before a NOP-In ping, default 30 */
	uint32_t nop_in_timeout_s;    /**< no answer to the ping: close, default 30 */
	uint32_t default_time2wait;   /**< default 2 */
	uint32_t default_time2retain; /**< default 20 */
	unsigned nr_poll_groups;      /**< 0 = one per main xstream */
	/** Task data buffers of up to 256 KiB go back to a per-poll-group cache when a
	 *  command completes (idle sessions hold none); the cache keeps at most this
	 *  many bytes per poll group, the rest is freed. Default 8 MiB. */
	uint64_t task_buf_pool_bytes;
};

/** Fill opts with the defaults above. */
void cairn_iscsi_opts_default(struct cairn_iscsi_opts *opts);

/**
 * Start the iSCSI subsystem: poll groups and the acceptor.
 * \param[in] opts NULL for defaults.
 * \return 0, -CAIRN_ERR_INVAL (bad opts, runtime not running), -CAIRN_ERR_ALREADY,
 *         -CAIRN_ERR_NOMEM.
 */
int cairn_iscsi_init(const struct cairn_iscsi_opts *opts);

/** Close every connection and listener, delete every object, stop the poll groups.
 * Plain thread or system-xstream ULT; waits for the poll groups. */
void cairn_iscsi_fini(void);

/* ------------------------------------------------------------------ portal groups */

struct cairn_iscsi_portal {
	char host[64]; /**< IPv4/IPv6 literal or "0.0.0.0"/"[::]" */
	char port[8];  /**< decimal; "0" picks a free port (see get_portal_groups) */
};

/**
 * Create portal group `tag` (1..65535) listening on every portal.
 * \return 0, -CAIRN_ERR_EXIST, -CAIRN_ERR_INVAL, -errno (bind/listen).
 */
int cairn_iscsi_portal_grp_create(uint32_t tag, const struct cairn_iscsi_portal *portals,
				  unsigned n);
/** Delete it: listeners close; existing connections stay. -CAIRN_ERR_BUSY if a target
 * node maps it. */
int cairn_iscsi_portal_grp_delete(uint32_t tag);
/** Actual listening port of portal `idx` of group `tag` (after port "0"). */
int cairn_iscsi_portal_grp_port(uint32_t tag, unsigned idx, uint16_t *port);

/* ------------------------------------------------------------------ initiator groups */

/**
 * Create initiator group `tag`: initiators are "ANY", exact names, "prefix*" patterns
 * or "!name" (deny); netmasks are "ANY", an address, or "addr/prefixlen" (IPv4/IPv6).
 */
int cairn_iscsi_init_grp_create(uint32_t tag, const char *const *initiators, unsigned ni,
				const char *const *netmasks, unsigned nn);
int cairn_iscsi_init_grp_delete(uint32_t tag);

/* ------------------------------------------------------------------ CHAP */

struct cairn_iscsi_chap_secret {
	const char *user;    /**< initiator's CHAP name */
	const char *secret;  /**< initiator's secret (12..255 chars recommended) */
	const char *muser;   /**< mutual: target's CHAP name, NULL for one-way */
	const char *msecret; /**< mutual: target's secret */
};

/** Create auth group `tag` (1..65535) with CHAP secrets (users unique). */
int cairn_iscsi_auth_group_create(uint32_t tag, const struct cairn_iscsi_chap_secret *secrets,
				  unsigned n);
/** -CAIRN_ERR_BUSY while a target node or discovery auth uses it. */
int cairn_iscsi_auth_group_delete(uint32_t tag);

/**
 * Authentication of discovery sessions. require_chap and disable_chap are exclusive;
 * mutual_chap needs require_chap; chap_group 0 = none (then require_chap fails).
 */
int cairn_iscsi_set_discovery_auth(bool disable_chap, bool require_chap, bool mutual_chap,
				   uint32_t chap_group);

/* ------------------------------------------------------------------ target nodes */

struct cairn_iscsi_pg_ig_map {
	uint32_t pg_tag;
	uint32_t ig_tag;
};

struct cairn_iscsi_lun_map {
	const char *bdev_name;
	int lun_id; /**< 0..63, or -1 for the lowest free id */
};

struct cairn_iscsi_tgt_node_opts {
	size_t opts_size;        /**< sizeof(struct cairn_iscsi_tgt_node_opts) */
	const char *name;        /**< full IQN/EUI/NAA name, or a short name that gets
				  *   node_base + ":" prepended */
	const char *alias;       /**< TargetAlias, may be NULL */
	const struct cairn_iscsi_pg_ig_map *maps;
	unsigned nmaps;          /**< >= 1 */
	const struct cairn_iscsi_lun_map *luns;
	unsigned nluns;          /**< >= 1 */
	uint32_t queue_depth;    /**< CmdSN window, 1..max_queue_depth (0 = max) */
	bool disable_chap;
	bool require_chap;
	bool mutual_chap;
	uint32_t chap_group;     /**< auth group tag, 0 = none */
	bool header_digest;      /**< require CRC32C header digests */
	bool data_digest;        /**< require CRC32C data digests */
};

/** Create a target node (names unique). */
int cairn_iscsi_tgt_node_create(const struct cairn_iscsi_tgt_node_opts *opts);
/** Add a LUN (lun_id -1: lowest free). Live sessions see it at once. */
int cairn_iscsi_tgt_node_add_lun(const char *name, const char *bdev_name, int lun_id);
/** Delete the node: its sessions are closed; returns once none uses it. */
int cairn_iscsi_tgt_node_delete(const char *name);

/* ------------------------------------------------------------------ listings / config */

/* Each returns a new jansson reference in *out (json_decref it), 0 or -CAIRN_ERR_NOMEM. */
/** [{"tag", "portals":[{"host","port"}]}] */
int cairn_iscsi_get_portal_groups(json_t **out);
/** [{"tag", "initiators":[...], "netmasks":[...]}] */
int cairn_iscsi_get_initiator_groups(json_t **out);
/** [{"tag", "secrets":[{"user","secret","muser","msecret"}]}] */
int cairn_iscsi_get_auth_groups(json_t **out);
/** [{"name","alias_name","pg_ig_maps":[...],"luns":[{"bdev_name","lun_id"}],
 *    "queue_depth","disable_chap","require_chap","mutual_chap","chap_group",
 *    "header_digest","data_digest"}] */
int cairn_iscsi_get_target_nodes(json_t **out);
/** [{"id","cid","tsih","initiator_name","initiator_addr","target_addr","target_node_name",
 *    "state","xstream","header_digest","data_digest","max_recv_data_segment_length",
 *    "session_type"}] */
int cairn_iscsi_get_connections(json_t **out);
/** {"disable_chap","require_chap","mutual_chap","chap_group"} */
int cairn_iscsi_get_discovery_auth(json_t **out);
/**
 * Append the replayable JSON-RPC calls recreating the live configuration to `array`:
 * iscsi_create_auth_group, iscsi_set_discovery_auth, iscsi_create_portal_group,
 * iscsi_create_initiator_group, iscsi_create_target_node (with its LUNs), in that order.
 */
int cairn_iscsi_write_config_json(json_t *array);

/**
 * Register the iscsi_* JSON-RPC methods (src/target/iscsi/iscsi_rpc.c) and the "iscsi"
 * save_config writer with the JSON-RPC library. Call once before serving requests.
 */
int cairn_iscsi_rpc_register(void);
void cairn_iscsi_rpc_unregister(void);

#endif /* CAIRN_TARGET_ISCSI_H */
