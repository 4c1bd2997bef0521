/**
 * \file
 * Arrays: a byte array of fixed-size cells stored in one object (DAOS daos_array's
 * role). The array is cut into chunks of `chunk_size` cells; chunk c is the dkey
 * "c as 8 big-endian bytes", its cells the records of akey "d" (cell_size bytes each,
 * local index 0 .. chunk_size - 1). The cell and chunk sizes are kept in the object
 * (dkey "cairn.array", akey "md"), so open finds them.
 *
 * Offsets and lengths are in bytes and must be multiples of the cell size. Cells never
 * written read as zeros. The size is one past the highest cell written (what
 * cairn_array_set_size() leaves): like a sparse file.
 *
 * Reads and writes are split per chunk and sent in parallel (one task per chunk under
 * one parent: the event completes when all did, with the first error).
 *
 * Every call is asynchronous with an event and synchronous with ev == NULL. Thread safe.
 * Concurrent writers of overlapping ranges: each chunk piece is atomic, the whole is not.
 */
#ifndef CAIRN_ARRAY_H
#define CAIRN_ARRAY_H

#include <stdint.h>

#include "cairn/event.h"
#include "cairn/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest cell. */
#define CAIRN_ARRAY_CELL_MAX (1u << 20)
/** Largest chunk in bytes (cell_size * chunk_size). */
#define CAIRN_ARRAY_CHUNK_BYTES_MAX (16u << 20)
/** Largest read or write of one call. */
#define CAIRN_ARRAY_IO_MAX (1ull << 30)

/**
 * Create an array in object oid of an open container.
 * The metadata is written with a conditional insert: of two racing creators of the same
 * object exactly one succeeds, the other gets -CAIRN_ERR_EXIST.
 * \param[in]  coh        container handle
 * \param[in]  oid        object id (without a class: the container's default class)
 * \param[in]  cell_size  bytes per cell (1 .. CAIRN_ARRAY_CELL_MAX)
 * \param[in]  chunk_size cells per chunk (cell_size * chunk_size <=
 *                        CAIRN_ARRAY_CHUNK_BYTES_MAX), or 0 for the container's chunk
 *                        size: its bytes / cell_size cells (bytes capped at
 *                        CAIRN_ARRAY_CHUNK_BYTES_MAX, at least one cell)
 * \param[out] oh         array handle
 * \param[in]  ev         completion event, or NULL to wait
 * \return 0; -CAIRN_ERR_INVAL (sizes, class, a class below the container's redundancy
 *         factor); -CAIRN_ERR_EXIST (the object already holds an array);
 *         -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_NOMEM; network errors
 */
int cairn_array_create(struct cairn_handle coh, struct cairn_obj_id oid, uint64_t cell_size,
                       uint64_t chunk_size, struct cairn_handle *oh, struct cairn_event *ev);

/**
 * Open an existing array; its cell and chunk sizes are read from the object.
 * \param[out] cell_size  (may be NULL) bytes per cell
 * \param[out] chunk_size (may be NULL) cells per chunk
 * \return 0; -CAIRN_ERR_NONEXIST (no array in that object); -CAIRN_ERR_PROTO (its
 *         metadata is malformed); -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_array_open(struct cairn_handle coh, struct cairn_obj_id oid, struct cairn_handle *oh,
                     uint64_t *cell_size, uint64_t *chunk_size, struct cairn_event *ev);

/** Close an array handle. \return 0 or -CAIRN_ERR_NOHANDLE */
int cairn_array_close(struct cairn_handle oh, struct cairn_event *ev);

/**
 * Destroy the array: punch the whole object (the handle stays open, the array is gone:
 * close it).
 * \return 0; -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_array_destroy(struct cairn_handle oh, struct cairn_event *ev);

/**
 * Write data->len bytes from data->buf at byte offset off. Durable when it completes
 * with 0. The buffer must stay valid until then.
 * \return 0; -CAIRN_ERR_INVAL (off or length not a multiple of the cell size, empty);
 *         -CAIRN_ERR_OVERFLOW (beyond CAIRN_ARRAY_IO_MAX or 2^64); -CAIRN_ERR_NOHANDLE;
 *         -CAIRN_ERR_NOSPACE; -CAIRN_ERR_IO; network errors
 */
int cairn_array_write(struct cairn_handle oh, uint64_t off, const struct cairn_iov *data,
                      struct cairn_event *ev);

/**
 * Read data->buf_len bytes at byte offset off into data->buf (holes and anything past
 * the end read as zeros); data->len is set to data->buf_len.
 * \return as cairn_array_write()
 */
int cairn_array_read(struct cairn_handle oh, uint64_t off, struct cairn_iov *data,
                     struct cairn_event *ev);

/**
 * Size in bytes: one past the highest cell written (or kept by set_size).
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_array_get_size(struct cairn_handle oh, uint64_t *size, struct cairn_event *ev);

/**
 * Truncate or extend to size bytes (a multiple of the cell size). Shrinking drops the
 * cells past the end (chunks punched, the last chunk cut atomically); extending makes
 * the new cells read as zeros.
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NOHANDLE; network errors
 */
int cairn_array_set_size(struct cairn_handle oh, uint64_t size, struct cairn_event *ev);

/**
 * Punch the byte range [off, off + len): it reads as zeros afterwards; the size does
 * not change. Whole chunks are punched, partial ones overwritten with zeros.
 * \return as cairn_array_write()
 */
int cairn_array_punch(struct cairn_handle oh, uint64_t off, uint64_t len, struct cairn_event *ev);

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_ARRAY_H */
