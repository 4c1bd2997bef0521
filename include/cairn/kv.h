/**
 * \file
 * Key-value objects (DAOS daos_kv's role): a flat map of byte-string keys to values in
 * one object. Each key is a dkey of the object holding one single value under the akey
 * "kv", so keys spread over the object's shards like any dkeys (class SX: every target).
 * A KV handle is an object handle (cairn_kv_open() is cairn_obj_open()).
 *
 * Every call is asynchronous with an event and synchronous with ev == NULL; the key and
 * value iovs (and the memory they point to) must stay valid until the call completes.
 * Thread safe.
 */
#ifndef CAIRN_KV_H
#define CAIRN_KV_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/event.h"
#include "cairn/obj.h"
#include "cairn/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Open a KV object (local: no RPC).
 * \return as cairn_obj_open()
 */
int cairn_kv_open(struct cairn_handle coh, struct cairn_obj_id oid, unsigned int mode,
                  struct cairn_handle *oh, struct cairn_event *ev);

/** Close a KV handle. \return 0 or -CAIRN_ERR_NOHANDLE */
int cairn_kv_close(struct cairn_handle oh, struct cairn_event *ev);

/**
 * Set key to value (value->len bytes, 1 .. CAIRN_OBJ_VALUE_MAX), replacing any value.
 * \param[in] key   the key (1 .. CAIRN_OBJ_KEY_MAX bytes)
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_OVERFLOW; -CAIRN_ERR_NOHANDLE;
 *         -CAIRN_ERR_NOSPACE; -CAIRN_ERR_IO; network errors
 */
int cairn_kv_put(struct cairn_handle oh, const struct cairn_iov *key, const struct cairn_iov *value,
                 struct cairn_event *ev);

/** cairn_kv_put_cond() flags. */
#define CAIRN_KV_PUT_IF_ABSENT 0x1u /**< only if the key does not exist, else -CAIRN_ERR_EXIST */
#define CAIRN_KV_PUT_IF_EXISTS 0x2u /**< only if the key exists, else -CAIRN_ERR_NONEXIST */

/**
 * Set key to value conditionally, atomically with the check (the key's target serves
 * both): put-if-absent or update-only. flags 0 is cairn_kv_put().
 * \param[in] oh    KV handle
 * \param[in] flags 0, CAIRN_KV_PUT_IF_ABSENT or CAIRN_KV_PUT_IF_EXISTS
 * \param[in] key   the key (1 .. CAIRN_OBJ_KEY_MAX bytes)
 * \param[in] value 1 .. CAIRN_OBJ_VALUE_MAX bytes
 * \param[in] ev    completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_EXIST (IF_ABSENT and the key exists); -CAIRN_ERR_NONEXIST
 *         (IF_EXISTS and it does not); otherwise as cairn_kv_put() (-CAIRN_ERR_INVAL also
 *         for unknown or both flags)
 */
int cairn_kv_put_cond(struct cairn_handle oh, uint32_t flags, const struct cairn_iov *key,
                      const struct cairn_iov *value, struct cairn_event *ev);

/**
 * Read key's value into value->buf (value->buf_len bytes of room); value->len is set
 * to the value's size.
 * \return 0; -CAIRN_ERR_NONEXIST (no such key); -CAIRN_ERR_TRUNC (buffer too small:
 *         value->len says how much is needed); -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE;
 *         network errors
 */
int cairn_kv_get(struct cairn_handle oh, const struct cairn_iov *key, struct cairn_iov *value,
                 struct cairn_event *ev);

/**
 * Remove key (removing a missing key succeeds).
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_kv_remove(struct cairn_handle oh, const struct cairn_iov *key, struct cairn_event *ev);

/**
 * List keys, resuming at *anchor; same contract as cairn_obj_list_dkey().
 * \return as cairn_obj_list_dkey()
 */
int cairn_kv_list(struct cairn_handle oh, struct cairn_anchor *anchor, uint32_t *nr,
                  struct cairn_key_desc *kds, void *buf, size_t buf_len, struct cairn_event *ev);

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_KV_H */
