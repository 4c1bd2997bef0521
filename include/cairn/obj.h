/**
 * \file
 * Objects: open an object of an open container and update, fetch, punch and list its
 * values. A value is a single value addressed by (dkey, akey), replaced as a whole.
 * Placement: the object's class (in its id) and the pool map decide which target holds
 * each dkey (S1: one target; SX: dkeys spread over all targets by jump hash).
 *
 * Every call is asynchronous with an event and synchronous with ev == NULL. Thread safe.
 */
#ifndef CAIRN_OBJ_H
#define CAIRN_OBJ_H

#include <stdint.h>

#include "cairn/event.h"
#include "cairn/placement.h"
#include "cairn/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest single value of one update or fetch. */
#define CAIRN_OBJ_VALUE_MAX (64u << 20)
/** Longest dkey or akey. */
#define CAIRN_OBJ_KEY_MAX 4096u

/**
 * Open an object (local: computes its layout from the pool map; no RPC).
 * \param[in]  coh  container handle
 * \param[in]  oid  object id (with a class, see cairn_obj_id_generate())
 * \param[in]  mode 0 (reserved)
 * \param[out] oh   object handle
 * \param[in]  ev   completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_INVAL (no class, class wider than the pool, bad mode);
 *         -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_NOMEM
 */
int cairn_obj_open(struct cairn_handle coh, struct cairn_obj_id oid, unsigned int mode,
                   struct cairn_handle *oh, struct cairn_event *ev);

/** Close an object handle. \return 0 or -CAIRN_ERR_NOHANDLE */
int cairn_obj_close(struct cairn_handle oh, struct cairn_event *ev);

/**
 * Write the single value of (dkey, akey): value->len bytes at value->buf (1..VALUE_MAX).
 * Durable when it completes with 0.
 * \return 0; -CAIRN_ERR_INVAL (empty or long keys, empty value); -CAIRN_ERR_OVERFLOW
 *         (value too large); -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_NONEXIST (container gone);
 *         -CAIRN_ERR_NOSPACE; -CAIRN_ERR_IO; network errors
 */
int cairn_obj_update(struct cairn_handle oh, const struct cairn_iov *dkey,
                     const struct cairn_iov *akey, const struct cairn_iov *value,
                     struct cairn_event *ev);

/**
 * Read the single value of (dkey, akey) into value->buf (value->buf_len bytes of room).
 * On return value->len is the value's size (0 when there is none).
 * \return 0; -CAIRN_ERR_TRUNC (buffer too small: value->len says how much is needed);
 *         -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_NONEXIST (container gone);
 *         -CAIRN_ERR_CSUM (stored data corrupt); network errors
 */
int cairn_obj_fetch(struct cairn_handle oh, const struct cairn_iov *dkey,
                    const struct cairn_iov *akey, struct cairn_iov *value,
                    struct cairn_event *ev);

/**
 * Punch a dkey (with all its akeys), or the whole object when dkey is NULL.
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_obj_punch(struct cairn_handle oh, const struct cairn_iov *dkey,
                    struct cairn_event *ev);

/**
 * List dkeys, resuming at *anchor (zero it to start; cairn_anchor_is_eof() at the end).
 * Keys are stored back to back in buf; kds[i].key_len gives their lengths.
 * \param[in]     oh      object handle
 * \param[in,out] anchor  position
 * \param[in,out] nr      in: room in kds; out: keys returned
 * \param[out]    kds     key lengths
 * \param[out]    buf     key bytes
 * \param[in]     buf_len room in buf (at least CAIRN_OBJ_KEY_MAX recommended)
 * \param[in]     ev      completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_TRUNC (the next key does not fit in buf: nothing more was
 *         returned); -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_obj_list_dkey(struct cairn_handle oh, struct cairn_anchor *anchor, uint32_t *nr,
                        struct cairn_key_desc *kds, void *buf, size_t buf_len,
                        struct cairn_event *ev);

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_OBJ_H */
