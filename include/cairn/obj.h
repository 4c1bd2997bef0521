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

/** Conditional flags (DAOS's DAOS_COND_*), checked by the target atomically with the
 *  operation. Update: at most one of DKEY_INSERT/DKEY_UPDATE and one of AKEY_INSERT/
 *  AKEY_UPDATE. Fetch: DKEY_FETCH, AKEY_FETCH. Punch: PUNCH. */
#define CAIRN_COND_DKEY_INSERT 0x01u /**< update: the dkey must not exist (-CAIRN_ERR_EXIST) */
#define CAIRN_COND_DKEY_UPDATE 0x02u /**< update: the dkey must exist (-CAIRN_ERR_NONEXIST) */
#define CAIRN_COND_AKEY_INSERT 0x04u /**< update: the akey must not exist (-CAIRN_ERR_EXIST) */
#define CAIRN_COND_AKEY_UPDATE 0x08u /**< update: the akey must exist (-CAIRN_ERR_NONEXIST) */
#define CAIRN_COND_PUNCH 0x10u       /**< punch: the key must exist (-CAIRN_ERR_NONEXIST) */
#define CAIRN_COND_DKEY_FETCH 0x20u  /**< fetch: the dkey must exist (-CAIRN_ERR_NONEXIST) */
#define CAIRN_COND_AKEY_FETCH 0x40u  /**< fetch: the value must exist (-CAIRN_ERR_NONEXIST) */

/**
 * Open an object (local: computes its layout from the pool map; no RPC).
 * An id without a class (cairn_obj_id_class() is CAIRN_OC_UNKNOWN) gets the container's
 * default class (as of cairn_cont_open(), or of a cairn_cont_set_props() on the same
 * handle) at open, its type bits kept: objects opened that way must be opened under the
 * same default, so prefer ids stamped by cairn_cont_alloc_oid() or
 * cairn_obj_id_generate() for objects that outlive a change of the default.
 * The class must tolerate the container's redundancy factor (S* classes tolerate no
 * failure, RP_2G1 one, RP_3G1 two); RP classes need targets on distinct ranks and their
 * I/O goes to the first replica only (replication is not implemented yet).
 * \param[in]  coh  container handle
 * \param[in]  oid  object id (see cairn_obj_id_generate())
 * \param[in]  mode 0 (reserved)
 * \param[out] oh   object handle
 * \param[in]  ev   completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_INVAL (class wider than the pool, class below the container's
 *         redundancy factor, bad mode); -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_NOMEM
 */
int cairn_obj_open(struct cairn_handle coh, struct cairn_obj_id oid, unsigned int mode,
                   struct cairn_handle *oh, struct cairn_event *ev);

/** Close an object handle. \return 0 or -CAIRN_ERR_NOHANDLE */
int cairn_obj_close(struct cairn_handle oh, struct cairn_event *ev);

/**
 * Write the single value of (dkey, akey): value->len bytes at value->buf (1..VALUE_MAX).
 * Durable when it completes with 0. With the container's checksum on, the value's
 * checksum travels with it and the target verifies it before writing (-CAIRN_ERR_CSUM).
 * \return 0; -CAIRN_ERR_INVAL (empty or long keys, empty value); -CAIRN_ERR_OVERFLOW
 *         (value too large); -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_NONEXIST (container gone);
 *         -CAIRN_ERR_NOSPACE; -CAIRN_ERR_IO; network errors
 */
int cairn_obj_update(struct cairn_handle oh, const struct cairn_iov *dkey,
                     const struct cairn_iov *akey, const struct cairn_iov *value,
                     struct cairn_event *ev);

/**
 * cairn_obj_update() with conditions, checked atomically with the write.
 * \param[in] flags 0 or CAIRN_COND_DKEY_INSERT / _DKEY_UPDATE / _AKEY_INSERT /
 *                  _AKEY_UPDATE (at most one of each pair)
 * \return as cairn_obj_update(); -CAIRN_ERR_EXIST (an INSERT condition failed: nothing
 *         written); -CAIRN_ERR_NONEXIST (an UPDATE condition failed); -CAIRN_ERR_CSUM
 *         (the container checksums values and the target received a value that does
 *         not match its checksum: nothing written)
 */
int cairn_obj_update_cond(struct cairn_handle oh, uint32_t flags, const struct cairn_iov *dkey,
                          const struct cairn_iov *akey, const struct cairn_iov *value,
                          struct cairn_event *ev);

/**
 * Read the single value of (dkey, akey) into value->buf (value->buf_len bytes of room).
 * On return value->len is the value's size (0 when there is none).
 * \return 0; -CAIRN_ERR_TRUNC (buffer too small: value->len says how much is needed);
 *         -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_NONEXIST (container gone);
 *         -CAIRN_ERR_CSUM (stored data corrupt, or, with the container's checksum on,
 *         the data received does not match the checksum the engine sent: the buffer
 *         is zeroed, never left with corrupt bytes); network errors
 */
int cairn_obj_fetch(struct cairn_handle oh, const struct cairn_iov *dkey,
                    const struct cairn_iov *akey, struct cairn_iov *value,
                    struct cairn_event *ev);

/**
 * cairn_obj_fetch() with conditions: instead of value->len 0, a missing key fails.
 * \param[in] flags 0, CAIRN_COND_DKEY_FETCH and/or CAIRN_COND_AKEY_FETCH
 * \return as cairn_obj_fetch(); -CAIRN_ERR_NONEXIST (DKEY_FETCH: no such dkey;
 *         AKEY_FETCH: no value under the akey)
 */
int cairn_obj_fetch_cond(struct cairn_handle oh, uint32_t flags, const struct cairn_iov *dkey,
                         const struct cairn_iov *akey, struct cairn_iov *value,
                         struct cairn_event *ev);

/**
 * Punch a dkey (with all its akeys), or the whole object when dkey is NULL.
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_obj_punch(struct cairn_handle oh, const struct cairn_iov *dkey,
                    struct cairn_event *ev);

/**
 * Punch a dkey, or one akey of it, with conditions.
 * \param[in] flags 0 or CAIRN_COND_PUNCH (the key must exist)
 * \param[in] dkey  the dkey (required)
 * \param[in] akey  an akey of it, or NULL for the whole dkey
 * \return 0; -CAIRN_ERR_NONEXIST (COND_PUNCH and the key does not exist);
 *         -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_obj_punch_cond(struct cairn_handle oh, uint32_t flags, const struct cairn_iov *dkey,
                         const struct cairn_iov *akey, struct cairn_event *ev);

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

/* ------------------------------------------------------------------ array values */

/**
 * Write one extent of the array value of (dkey, akey): records [recx->idx, recx->idx +
 * recx->nr) of rec_size bytes each, taken from data->buf (data->len must be
 * recx->nr * rec_size, at most CAIRN_OBJ_VALUE_MAX). An akey keeps the record size of
 * its first write. Durable when it completes with 0.
 * \return 0; -CAIRN_ERR_INVAL (keys, empty extent, length mismatch, record size differs
 *         from the akey's); -CAIRN_ERR_OVERFLOW; -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_NOSPACE;
 *         -CAIRN_ERR_IO; network errors
 */
int cairn_obj_update_recx(struct cairn_handle oh, const struct cairn_iov *dkey,
                          const struct cairn_iov *akey, uint32_t rec_size,
                          const struct cairn_recx *recx, const struct cairn_iov *data,
                          struct cairn_event *ev);

/**
 * Read one extent of the array value of (dkey, akey) into data->buf (buf_len at least
 * recx->nr * rec_size). Records never written (holes) read as zeros; on success
 * data->len = recx->nr * rec_size.
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_OVERFLOW; -CAIRN_ERR_NOHANDLE;
 *         -CAIRN_ERR_CSUM; network errors
 */
int cairn_obj_fetch_recx(struct cairn_handle oh, const struct cairn_iov *dkey,
                         const struct cairn_iov *akey, uint32_t rec_size,
                         const struct cairn_recx *recx, struct cairn_iov *data,
                         struct cairn_event *ev);

/**
 * List the akeys of one dkey; same contract as cairn_obj_list_dkey().
 * \return as cairn_obj_list_dkey()
 */
int cairn_obj_list_akey(struct cairn_handle oh, const struct cairn_iov *dkey,
                        struct cairn_anchor *anchor, uint32_t *nr, struct cairn_key_desc *kds,
                        void *buf, size_t buf_len, struct cairn_event *ev);

/**
 * List the extents (record ranges written and not punched) of an array value, in index
 * order, as of the container handle's epoch (the latest, or its snapshot). Adjacent
 * writes are listed as the separate extents they were written as; holes are not listed.
 * \param[in]     oh     object handle
 * \param[in]     dkey   the dkey
 * \param[in]     akey   the akey of the array value
 * \param[in,out] anchor zeroed before the first call; where the next call resumes;
 *                       anchor->eof set once the last extent has been returned
 * \param[in,out] nr     in: room in recxs (> 0); out: extents returned
 * \param[out]    recxs  the extents ({idx, nr} in records)
 * \param[in]     ev     event for an asynchronous call, NULL to wait
 * \return 0; -CAIRN_ERR_INVAL (bad argument); -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_PROTO (a
 *         malformed reply); network errors
 */
int cairn_obj_list_recx(struct cairn_handle oh, const struct cairn_iov *dkey,
                        const struct cairn_iov *akey, struct cairn_anchor *anchor, uint32_t *nr,
                        struct cairn_recx *recxs, struct cairn_event *ev);

/**
 * Query key: among the object's dkeys of 8 bytes (big-endian integers, as the array API
 * names its chunks) whose array akey holds records, the largest, and the end (last
 * index + 1) of that akey's highest extent.
 * \param[out] max_dkey the largest such dkey (0 when none)
 * \param[out] max_end  its akey's max extent end in records (0 when none)
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_obj_query_max(struct cairn_handle oh, const struct cairn_iov *akey,
                        uint64_t *max_dkey, uint64_t *max_end, struct cairn_event *ev);

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_OBJ_H */
