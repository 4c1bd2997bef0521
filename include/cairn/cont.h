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
#include <stddef.h>
#include <stdint.h>

#include "cairn/event.h"
#include "cairn/placement.h"
#include "cairn/pool.h"
#include "cairn/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Container types (fixed at create). */
enum cairn_cont_type {
	CAIRN_CONT_POSIX = 1, /**< POSIX namespace (cairn-fs) */
	CAIRN_CONT_KV = 2,    /**< key-value objects (cairn/kv.h) */
	CAIRN_CONT_ARRAY = 3, /**< array objects (cairn/array.h) */
};

/** End-to-end checksum of a container's values (fixed at create). */
enum cairn_cont_csum {
	CAIRN_CONT_CSUM_OFF = 0,    /**< none (VOS still keeps its own media CRC) */
	CAIRN_CONT_CSUM_CRC32C = 1, /**< CRC32C (Castagnoli) */
	CAIRN_CONT_CSUM_CRC64 = 2,  /**< CRC-64/XZ */
};

/** Largest redundancy factor: failures a container's objects must survive. */
#define CAIRN_CONT_RF_MAX 2
/** Default chunk size (bytes) of a container created without one. */
#define CAIRN_CONT_CHUNK_DEFAULT (1u << 20)

/** A container as the container service describes it. */
struct cairn_cont_info {
	uint8_t uuid[16];
	char label[CAIRN_LABEL_MAX];
	uint32_t type;      /**< enum cairn_cont_type */
	uint32_t oclass;    /**< default object class (enum cairn_oclass) */
	uint32_t nr_open;   /**< open handles (all clients) */
	uint64_t ctime;     /**< creation time, seconds since the epoch */
	uint64_t oid_next;  /**< first object id not yet allocated */
	uint64_t chunk_size; /**< bytes: the array API's default chunk */
	uint32_t csum;       /**< enum cairn_cont_csum */
	uint32_t rf;         /**< redundancy factor 0..CAIRN_CONT_RF_MAX */
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
 * \param[in]  type   CAIRN_CONT_POSIX, CAIRN_CONT_KV or CAIRN_CONT_ARRAY
 * \param[in]  oclass default object class of the container's objects (e.g. CAIRN_OC_SX);
 *                    the other properties take their defaults (see
 *                    cairn_cont_create_with_props())
 * \param[out] uuid   the new container's UUID (may be NULL)
 * \param[in]  ev     completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_INVAL (label, type, class); -CAIRN_ERR_EXIST (label taken);
 *         -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_NOSPACE; network errors
 */
int cairn_cont_create(struct cairn_handle poh, const char *label, enum cairn_cont_type type,
                      enum cairn_oclass oclass, uint8_t uuid[16], struct cairn_event *ev);

struct cairn_cont_props;

/**
 * Create a container with properties (DAOS's daos_cont_create with a prop list).
 * Zero fields take the defaults: type POSIX, chunk size CAIRN_CONT_CHUNK_DEFAULT, checksum
 * off, rf 0, object class SX (RP_2G1 when rf is 1, RP_3G1 when rf is 2). Type, chunk
 * size, checksum and rf are fixed for the container's life; label and class can change
 * (cairn_cont_set_props()). The values are checked here (cairn_cont_props_check()) and
 * again by the container service.
 * \param[in]  poh   pool handle
 * \param[in]  props label (required: 1..63 of [A-Za-z0-9_.-], not UUID-shaped), type,
 *                   oclass, chunk_size, csum, rf
 * \param[out] uuid  the new container's UUID (may be NULL)
 * \param[in]  ev    completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_INVAL (a value out of range, or a class with less redundancy
 *         than rf: see cairn_cont_props_check()); -CAIRN_ERR_EXIST (label taken);
 *         -CAIRN_ERR_PERM (the connection may not create containers);
 *         -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_NOSPACE; network errors
 */
int cairn_cont_create_with_props(struct cairn_handle poh, const struct cairn_cont_props *props,
                                 uint8_t uuid[16], struct cairn_event *ev);

/**
 * Check the properties of a create, without a pool (what cairn_cont_create_with_props()
 * checks first). Any thread; no RPC.
 * \param[in]  props  the properties (zero fields: defaults)
 * \param[out] err    a sentence saying what is wrong and what is allowed (may be NULL)
 * \param[in]  errlen room in err
 * \return 0; -CAIRN_ERR_INVAL (label; type not POSIX/KV/ARRAY; chunk size not a power of
 *         two in 4 KiB..1 GiB; checksum not off/crc32c/crc64; rf above
 *         CAIRN_CONT_RF_MAX; unknown class; a class tolerating fewer failures than rf:
 *         S* classes tolerate none, RP_2G1 one, RP_3G1 two)
 */
int cairn_cont_props_check(const struct cairn_cont_props *props, char *err, size_t errlen);

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
 * \return 0; -CAIRN_ERR_INVAL (also: a class tolerating fewer failures than the
 *         container's redundancy factor); -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_OVERFLOW;
 *         network errors
 */
int cairn_cont_alloc_oid(struct cairn_handle coh, enum cairn_otype type,
                         enum cairn_oclass oclass, struct cairn_obj_id *oid,
                         struct cairn_event *ev);

/* ------------------------------------------------------------------ properties */

/** Which properties cairn_cont_set_props() changes. */
#define CAIRN_CONT_PROP_LABEL 0x01u  /**< label (rename) */
#define CAIRN_CONT_PROP_OCLASS 0x02u /**< default object class of new objects */
#define CAIRN_CONT_PROP_CHUNK 0x04u  /**< chunk size (fixed at create: set refuses it) */
#define CAIRN_CONT_PROP_CSUM 0x08u   /**< checksum (fixed at create: set refuses it) */
#define CAIRN_CONT_PROP_RF 0x10u     /**< redundancy factor (fixed at create) */

/** Container properties (type, chunk size, checksum and rf are fixed at create). */
struct cairn_cont_props {
	char label[CAIRN_LABEL_MAX];
	uint32_t type;       /**< enum cairn_cont_type */
	uint32_t oclass;     /**< default object class (enum cairn_oclass) */
	uint64_t chunk_size; /**< bytes: power of two, 4 KiB..1 GiB (default 1 MiB) */
	uint32_t csum;       /**< enum cairn_cont_csum (default off) */
	uint32_t rf;         /**< redundancy factor 0..CAIRN_CONT_RF_MAX (default 0) */
};

/**
 * Get the properties of an open container.
 * \param[in]  coh   container handle
 * \param[out] props filled
 * \param[in]  ev    completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_cont_get_props(struct cairn_handle coh, struct cairn_cont_props *props,
                         struct cairn_event *ev);

/**
 * Set properties of an open container, durably: the label and the default object class
 * (which must tolerate the container's rf). Chunk size, checksum and rf are fixed at
 * create (cairn_cont_create_with_props()).
 * \param[in] coh   container handle (of a read-write pool connection)
 * \param[in] props new values
 * \param[in] mask  CAIRN_CONT_PROP_* bits: the fields of props to apply (not 0)
 * \param[in] ev    completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_INVAL (mask, a value out of range, bad label, a class below the
 *         rf); -CAIRN_ERR_EXIST (label taken); -CAIRN_ERR_PERM (read-only connection, or
 *         the mask names CHUNK, CSUM or RF: fixed at create); -CAIRN_ERR_NOHANDLE;
 *         network errors
 */
int cairn_cont_set_props(struct cairn_handle coh, const struct cairn_cont_props *props,
                         uint32_t mask, struct cairn_event *ev);

/* ------------------------------------------------------------------ user attributes */

/** Longest attribute name in bytes (without the NUL). */
#define CAIRN_ATTR_NAME_MAX 255
/** Largest attribute value in bytes. */
#define CAIRN_ATTR_VALUE_MAX 4000
/** Most attributes per container. */
#define CAIRN_ATTRS_MAX 64

/**
 * Set (create or replace) a user attribute, durably.
 * \param[in] coh   container handle
 * \param[in] name  1..CAIRN_ATTR_NAME_MAX bytes
 * \param[in] value bytes (may be NULL when size is 0)
 * \param[in] size  0..CAIRN_ATTR_VALUE_MAX
 * \param[in] ev    completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_OVERFLOW (CAIRN_ATTRS_MAX reached);
 *         -CAIRN_ERR_PERM (read-only connection); -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_cont_set_attr(struct cairn_handle coh, const char *name, const void *value,
                        size_t size, struct cairn_event *ev);

/**
 * Get a user attribute.
 * \param[in]     coh  container handle
 * \param[in]     name attribute name
 * \param[out]    buf  value (may be NULL to learn the size)
 * \param[in,out] size in: room in buf; out: the value's size
 * \param[in]     ev   completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_NONEXIST (no such attribute); -CAIRN_ERR_TRUNC (buf too small:
 *         *size says how much is needed); -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE
 */
int cairn_cont_get_attr(struct cairn_handle coh, const char *name, void *buf, size_t *size,
                        struct cairn_event *ev);

/**
 * List the user attribute names, each NUL-terminated, one after the other, in name order.
 * \param[in]     coh  container handle
 * \param[out]    buf  names (may be NULL to learn the size)
 * \param[in,out] size in: room in buf; out: bytes of all names
 * \param[in]     ev   completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_TRUNC (buf too small); -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE
 */
int cairn_cont_list_attrs(struct cairn_handle coh, char *buf, size_t *size,
                          struct cairn_event *ev);

/**
 * Delete a user attribute.
 * \return 0; -CAIRN_ERR_NONEXIST; -CAIRN_ERR_INVAL; -CAIRN_ERR_PERM; -CAIRN_ERR_NOHANDLE
 */
int cairn_cont_del_attr(struct cairn_handle coh, const char *name, struct cairn_event *ev);

/* ------------------------------------------------------------------ snapshots */

/** Most snapshots per container. */
#define CAIRN_SNAPS_MAX 128

/**
 * Take a snapshot: the container's state as of now (every update completed before the
 * call is in it) stays readable at the returned epoch until the snapshot is destroyed.
 * \param[in]  coh   container handle (read-write connection)
 * \param[out] epoch the snapshot's epoch
 * \param[in]  ev    completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_OVERFLOW (CAIRN_SNAPS_MAX); -CAIRN_ERR_PERM; -CAIRN_ERR_NOHANDLE;
 *         -CAIRN_ERR_NOSPACE; network errors
 */
int cairn_cont_create_snap(struct cairn_handle coh, cairn_epoch_t *epoch,
                           struct cairn_event *ev);

/**
 * List snapshot epochs, oldest first.
 * \param[in]     coh    container handle
 * \param[out]    epochs up to *nr epochs (may be NULL when *nr is 0)
 * \param[in,out] nr     in: room; out: number of snapshots
 * \param[in]     ev     completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_TRUNC (more than room: *nr says how many); -CAIRN_ERR_INVAL;
 *         -CAIRN_ERR_NOHANDLE
 */
int cairn_cont_list_snaps(struct cairn_handle coh, cairn_epoch_t *epochs, uint32_t *nr,
                          struct cairn_event *ev);

/**
 * Destroy a snapshot (its epoch is no longer readable; space may be reclaimed).
 * \return 0; -CAIRN_ERR_NONEXIST; -CAIRN_ERR_INVAL; -CAIRN_ERR_PERM; -CAIRN_ERR_NOHANDLE
 */
int cairn_cont_destroy_snap(struct cairn_handle coh, cairn_epoch_t epoch,
                            struct cairn_event *ev);

/**
 * Open a container read-only at a snapshot: objects opened through the handle read (fetch,
 * list) the state as of epoch; updates and punches fail with -CAIRN_ERR_PERM.
 * \param[in]  poh   pool handle
 * \param[in]  cont  label or UUID text
 * \param[in]  epoch a snapshot epoch of the container (cairn_cont_list_snaps())
 * \param[out] coh   container handle
 * \param[out] info  container information (may be NULL)
 * \param[in]  ev    completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_NONEXIST (no such container or snapshot); -CAIRN_ERR_INVAL;
 *         -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_cont_open_snap(struct cairn_handle poh, const char *cont, cairn_epoch_t epoch,
                         struct cairn_handle *coh, struct cairn_cont_info *info,
                         struct cairn_event *ev);

/**
 * Share an open container handle with other processes: a global buffer (as
 * cairn_pool_local2global()) with the pool and container uuids and the engine's handle
 * cookies. \return as cairn_pool_local2global() (-CAIRN_ERR_NOHANDLE: not a container)
 */
int cairn_cont_local2global(struct cairn_handle coh, struct cairn_iov *glob);

/**
 * Use an open container handle from its global buffer, on `poh`, a handle of the same
 * pool connection (typically from cairn_pool_global2local() of the same owner). The
 * engine must still know both handles. Closing the new handle is local only.
 * \return 0; -CAIRN_ERR_NOHANDLE (poh unknown, or the engine no longer knows the
 *         handle); -CAIRN_ERR_INVAL (another kind, or poh is another connection);
 *         envelope errors as cairn_pool_global2local(); network errors
 */
int cairn_cont_global2local(struct cairn_handle poh, const struct cairn_iov *glob,
                            struct cairn_handle *coh);

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_CONT_H */
