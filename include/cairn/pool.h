/**
 * \file
 * Pools: connect to a pool of a Cairn system, query it, disconnect.
 *
 * Every call is asynchronous with an event (the result is in ev->ev_error once the
 * event completes) and synchronous with ev == NULL. Thread safe.
 */
#ifndef CAIRN_POOL_H
#define CAIRN_POOL_H

#include <stdint.h>

#include "cairn/event.h"
#include "cairn/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest pool or container label, including the NUL. */
#define CAIRN_LABEL_MAX 64

/** Connect flags: read-only (needs the pool ACL's 'r' permission). */
#define CAIRN_PC_RO 0x1u
/** Connect flags: read-write (needs 'r' and 'w'); 0 means read-write too. */
#define CAIRN_PC_RW 0x2u

/** What a pool connection knows about its pool. */
struct cairn_pool_info {
	uint8_t uuid[16];             /**< pool UUID */
	char label[CAIRN_LABEL_MAX];  /**< pool label */
	uint32_t nr_targets;          /**< targets in the pool map */
	uint32_t map_version;         /**< version of the pool map the client holds */
	uint64_t total;               /**< data bytes of all targets */
	uint64_t free;                /**< free data bytes of all targets */
};

/**
 * Connect to a pool.
 * \param[in]  pool  label or UUID text of the pool
 * \param[in]  sys   URI of the system's rank 0 engine ("tcp://127.0.0.1:10001"); NULL
 *                   reads $CAIRN_SYSTEM_URI
 * \param[in]  flags CAIRN_PC_RO or CAIRN_PC_RW (0 = CAIRN_PC_RW). The client sends the
 *                   calling process's user and group names; the pool's ACL decides
 *                   (loopback-only trust model: the engine believes the names)
 * \param[out] poh   pool handle
 * \param[out] info  pool information (may be NULL)
 * \param[in]  ev    completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_INVAL (NULL pool/poh, no URI, bad URI, flags); -CAIRN_ERR_NONEXIST
 *         (no such pool); -CAIRN_ERR_PERM (the pool ACL does not grant 'r', or 'w'
 *         for read-write; the missing permission is logged); -CAIRN_ERR_UNREACH / -CAIRN_ERR_TIMEDOUT (engine not reachable);
 *         -CAIRN_ERR_NOMEM; -CAIRN_ERR_SHUTDOWN
 */
int cairn_pool_connect(const char *pool, const char *sys, unsigned int flags,
                       struct cairn_handle *poh, struct cairn_pool_info *info,
                       struct cairn_event *ev);

/**
 * Disconnect from a pool (its containers should be closed first).
 * \param[in] poh pool handle
 * \param[in] ev  completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_NOHANDLE (unknown handle); network errors as for connect
 *         (the local handle is released regardless)
 */
int cairn_pool_disconnect(struct cairn_handle poh, struct cairn_event *ev);

/**
 * Query a pool: space and pool map (a newer map replaces the handle's).
 * \param[in]  poh  pool handle
 * \param[out] info filled
 * \param[in]  ev   completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_NONEXIST (pool destroyed);
 *         network errors
 */
int cairn_pool_query(struct cairn_handle poh, struct cairn_pool_info *info,
                     struct cairn_event *ev);

/**
 * Share a pool connection with other processes (DAOS semantics): turn the handle into
 * a global buffer (the generic envelope of cairn_handle_local2global(): magic, version,
 * kind, length, CRC32C) carrying the pool uuid, the engine's connection cookie, the
 * connect flags, the system URI and the pool map. Call with glob->buf == NULL to learn
 * the size (glob->buf_len).
 * \return 0; -CAIRN_ERR_NOHANDLE (not a pool handle); -CAIRN_ERR_TRUNC (buf_len too
 *         small, buf_len set to the size needed); -CAIRN_ERR_INVAL
 */
int cairn_pool_local2global(struct cairn_handle poh, struct cairn_iov *glob);

/**
 * Use a pool connection made by another process (or this one) from its global buffer,
 * without connecting again: starts the client network if needed, and the engine must
 * still accept the connection (checked with a pool query, which also refreshes the
 * map). Disconnecting the new handle is local only: the connection on the engine
 * belongs to the process that connected, and once it disconnects, the engine refuses
 * every handle made from it.
 * \return 0; -CAIRN_ERR_PROTO (not a global handle, truncated or malformed);
 *         -CAIRN_ERR_CSUM (corrupted); -CAIRN_ERR_VERSION (newer format);
 *         -CAIRN_ERR_INVAL (a global handle of another kind); -CAIRN_ERR_NOHANDLE (the
 *         engine no longer knows the connection); network errors
 */
int cairn_pool_global2local(const struct cairn_iov *glob, struct cairn_handle *poh);

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_POOL_H */
