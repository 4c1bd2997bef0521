/**
 * \file
 * libcairn: the Cairn client library. Include this one header.
 *
 * Call cairn_init() before anything else and cairn_fini() once per successful
 * cairn_init(). Every other function may be called from any thread.
 *
 * fork(): a child forked after cairn_init() (even with connections open) inherits an
 * initialised library without the parent's runtime threads; its first network use
 * (cairn_pool_global2local() of the parent's global handles, or cairn_pool_connect())
 * starts a runtime of its own. It holds the parent's cairn_init() references: call
 * cairn_fini() as the parent would. Convert the parent's handles with global handles
 * rather than using the inherited local ones, and fork while no other thread is inside
 * libcairn.
 */
#ifndef CAIRN_CAIRN_H
#define CAIRN_CAIRN_H

#include "cairn/errno.h"
#include "cairn/event.h"
#include "cairn/placement.h"
#include "cairn/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Library version: major, minor, patch. */
#define CAIRN_VERSION_MAJOR 0
#define CAIRN_VERSION_MINOR 1
#define CAIRN_VERSION_PATCH 0

/**
 * Initialise the library. Reference counted: each successful call must be matched by
 * one cairn_fini(); only the first initialises and the last tears down. Thread safe.
 * Honours CAIRN_LOG_MASK and CAIRN_LOG_FILE from the environment.
 * \return 0; -CAIRN_ERR_NOMEM; -CAIRN_ERR_OVERFLOW (too many nested inits).
 */
int cairn_init(void);

/**
 * Drop one cairn_init() reference; the last one frees the library's state (handles
 * still open are closed: their objects are freed when their last reference goes).
 * \return 0; -CAIRN_ERR_INVAL (not initialised); -CAIRN_ERR_BUSY (last reference, but
 *         event queues still exist, or synchronous calls are still running in other
 *         threads: finish those first; the library stays initialised).
 */
int cairn_fini(void);

/**
 * Convert a local handle into a global one: an opaque, versioned, checksummed byte
 * string that another process (after cairn_init()) turns back into an equivalent
 * handle with cairn_handle_global2local(), e.g. to share one pool connection among the
 * ranks of an MPI job. Call first with glob->buf == NULL to learn the size in
 * glob->buf_len.
 * \param[in]     h    a handle of a type that supports conversion (pool, container...)
 * \param[in,out] glob buffer (buf, buf_len); on success len is the bytes written
 * \return 0; -CAIRN_ERR_NOHANDLE (unknown or stale handle); -CAIRN_ERR_NOSYS (this kind
 *         of handle cannot be shared); -CAIRN_ERR_TRUNC (buffer too small: buf_len is set
 *         to the size needed); -CAIRN_ERR_INVAL (glob NULL).
 */
int cairn_handle_local2global(struct cairn_handle h, struct cairn_iov *glob);

/**
 * Turn a global handle made by cairn_handle_local2global() (in this or another
 * process) into a new local handle, to be closed like any handle of its kind.
 * \param[in]  glob the bytes (buf, len)
 * \param[out] h    the new handle
 * \return 0; -CAIRN_ERR_INVAL (NULL arguments, not initialised); -CAIRN_ERR_PROTO
 *         (not a global handle, or truncated); -CAIRN_ERR_CSUM (corrupted);
 *         -CAIRN_ERR_VERSION (format from a newer library); -CAIRN_ERR_NOSYS (kind of
 *         handle unknown to this process); or the kind's own unpack error.
 */
int cairn_handle_global2local(const struct cairn_iov *glob, struct cairn_handle *h);

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_CAIRN_H */
