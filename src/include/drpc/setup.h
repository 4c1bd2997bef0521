/*
 * SETUP: the engine's whole configuration, sent by cairn-server over dRPC to an engine it
 * started with only its dRPC socket and log settings (the way DAOS's control plane
 * configures its engines). Body: `cairn.mgmt.SetUpReq` (src/drpc/mgmt.proto); reply
 * status 0 once the engine runs its targets, network and modules, or a negative
 * CAIRN_ERR_* with a UTF-8 message saying which field is wrong and what to do.
 *
 * This header is the runtime-independent codec (library cairn_drpc_client): the control
 * plane encodes, the engine decodes and validates every field.
 */
#ifndef CAIRN_DRPC_SETUP_H
#define CAIRN_DRPC_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The method id, CAIRN_DRPC_MGMT_SETUP, is in drpc.h with the other mgmt methods. */

/* Limits checked by cairn_drpc_setup_decode(). */
#define CAIRN_SETUP_MAX_TARGETS 64
#define CAIRN_SETUP_MAX_HELPERS 64
#define CAIRN_SETUP_MAX_RANK ((1u << 20) - 1)
#define CAIRN_SETUP_PATH_MAX 1024 /* storage_dir incl. NUL */
#define CAIRN_SETUP_URI_MAX 128   /* incl. NUL */
#define CAIRN_SETUP_SYSTEM_MAX 64 /* system name incl. NUL */
#define CAIRN_SETUP_LOG_MASK_MAX 256

/* A decoded, validated SetUpReq (fixed-size copies: no ownership to manage). */
struct cairn_drpc_setup {
	uint32_t targets;                        /* 1..CAIRN_SETUP_MAX_TARGETS */
	uint32_t helpers;                        /* 0..CAIRN_SETUP_MAX_HELPERS */
	char storage_dir[CAIRN_SETUP_PATH_MAX];  /* absolute; "" = no storage */
	uint32_t port;                           /* fabric port on 127.0.0.1, 0 = see uri */
	char uri[CAIRN_SETUP_URI_MAX];           /* "" = tcp://127.0.0.1:<port> (or none) */
	uint32_t rank;                           /* 0..CAIRN_SETUP_MAX_RANK */
	char system[CAIRN_SETUP_SYSTEM_MAX];     /* [A-Za-z0-9_.-], 1..63 bytes */
	uint8_t system_uuid[16];                 /* not all zero */
	char log_mask[CAIRN_SETUP_LOG_MASK_MAX]; /* "" = keep the engine's mask */
	bool pin;                                /* pin xstreams to cores */
};

/*
 * Decode a SetUpReq body and validate every field. 0, or -CAIRN_ERR_PROTO (undecodable,
 * unknown fields) / -CAIRN_ERR_INVAL (a field out of range) with a one-line reason naming
 * the field in err (errlen > 0). Any thread; no runtime needed.
 */
int cairn_drpc_setup_decode(const void *buf, size_t len, struct cairn_drpc_setup *out, char *err,
                            size_t errlen);

/*
 * Encode s as a SetUpReq into a malloc'd buffer (*out, *out_len; free() it). The fields
 * are not validated here (the engine does it, so a bad config reaches it and is refused
 * with a message). 0 or -CAIRN_ERR_NOMEM.
 */
int cairn_drpc_setup_encode(const struct cairn_drpc_setup *s, uint8_t **out, size_t *out_len);

#endif /* CAIRN_DRPC_SETUP_H */
