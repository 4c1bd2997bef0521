/**
 * \file
 * Containers: create, open, close, destroy, list and query the containers of a pool;
 * allocate object ids.
 *
 * Every call is asynchronous with an event and synchronous with ev == NULL. Thread safe.
 */
#ifndef CAIRN_CONT_H
#define CAIRN_CONT_H

#include <stdbool.h>
#include <stdint.h>

#include "cairn/event.h"
#include "cairn/placement.h"
#include "cairn/pool.h"
#include "cairn/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Container types. */
enum cairn_cont_type {
	CAIRN_CONT_POSIX = 1, /**< POSIX namespace (cairn-fs) */
};

/** A container as the container service describes it. */
struct cairn_cont_info {
	uint8_t uuid[16];
	char label[CAIRN_LABEL_MAX];
	uint32_t type;      /**< enum cairn_cont_type */
	uint32_t oclass;    /**< default object class (enum cairn_oclass) */
	uint32_t nr_open;   /**< open handles (all clients) */
	uint64_t ctime;     /**< creation time, seconds since the epoch */
	uint64_t oid_next;  /**< first object id not yet allocated */
};

/** One entry of cairn_cont_list(). */
struct cairn_cont_entry {
	uint8_t uuid[16];
	char label[CAIRN_LABEL_MAX];
};

/**
 * Create a container.
 * \param[in]  poh    pool handle
 * \param[in]  label  unique in the pool: 1..63 of [A-Za-z0-9_.-], not UUID-shaped
 * \param[in]  type   CAIRN_CONT_POSIX
 * \param[in]  oclass default object class of the container's objects (e.g. CAIRN_OC_SX)
 * \param[out] uuid   the new container's UUID (may be NULL)
 * \param[in]  ev     completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_INVAL (label, type, class); -CAIRN_ERR_EXIST (label taken);
 *         -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_NOSPACE; network errors
 */
int cairn_cont_create(struct cairn_handle poh, const char *label, enum cairn_cont_type type,
                      enum cairn_oclass oclass, uint8_t uuid[16], struct cairn_event *ev);

/**
 * Destroy a container and its data.
 * \param[in] poh   pool handle
 * \param[in] cont  label or UUID text
 * \param[in] force destroy even while open (open handles become invalid)
 * \param[in] ev    completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_NONEXIST; -CAIRN_ERR_BUSY (open, without force);
 *         -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_cont_destroy(struct cairn_handle poh, const char *cont, bool force,
                       struct cairn_event *ev);

/**
 * Open a container.
 * \param[in]  poh   pool handle
 * \param[in]  cont  label or UUID text
 * \param[in]  flags 0 (reserved)
 * \param[out] coh   container handle
 * \param[out] info  container information (may be NULL)
 * \param[in]  ev    completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NONEXIST; -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_cont_open(struct cairn_handle poh, const char *cont, unsigned int flags,
                    struct cairn_handle *coh, struct cairn_cont_info *info,
                    struct cairn_event *ev);

/**
 * Close a container handle (the local handle is released regardless of the result).
 * \return 0; -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_cont_close(struct cairn_handle coh, struct cairn_event *ev);

/**
 * Query a container by label or UUID.
 * \param[in]  poh  pool handle
 * \param[in]  cont label or UUID text
 * \param[out] info filled
 * \param[in]  ev   completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NONEXIST; -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_cont_query(struct cairn_handle poh, const char *cont, struct cairn_cont_info *info,
                     struct cairn_event *ev);

/**
 * List the containers of a pool.
 * \param[in]     poh  pool handle
 * \param[out]    ents up to *nr entries
 * \param[in,out] nr   in: room in ents; out: number of containers
 * \param[in]     ev   completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_TRUNC (more containers than room: *nr says how many);
 *         -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_cont_list(struct cairn_handle poh, struct cairn_cont_entry *ents, uint32_t *nr,
                    struct cairn_event *ev);

/**
 * Allocate a new object id in an open container: unique in the container, stamped with
 * type and class (CAIRN_OC_UNKNOWN = the container's default). Ids come from a range
 * the handle caches; a new range is asked from the container service when it runs out.
 * \param[in]  coh    container handle
 * \param[in]  type   object type
 * \param[in]  oclass object class, or CAIRN_OC_UNKNOWN
 * \param[out] oid    the id
 * \param[in]  ev     completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_OVERFLOW; network errors
 */
int cairn_cont_alloc_oid(struct cairn_handle coh, enum cairn_otype type,
                         enum cairn_oclass oclass, struct cairn_obj_id *oid,
                         struct cairn_event *ev);

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_CONT_H */
