/**
 * \file
 * Public types of libcairn: handles, object ids, epochs, I/O vectors and scatter/gather
 * lists, key and value descriptors, ranges. The pool, container, object, array and KV
 * APIs are all written in this vocabulary (the same one DAOS users know).
 *
 * Everything here is plain data: no function in this header allocates or locks.
 */
#ifndef CAIRN_TYPES_H
#define CAIRN_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ handles */

/**
 * An opaque handle to a library object (event queue, pool connection, container,
 * object, array...). The cookie is 0 for "no handle"; it is never a pointer, so a stale
 * or forged handle is detected (-CAIRN_ERR_NOHANDLE) instead of crashing.
 */
struct cairn_handle {
	uint64_t cookie;
};

/** The invalid handle: `struct cairn_handle h = CAIRN_HANDLE_NULL;`. */
#define CAIRN_HANDLE_NULL ((struct cairn_handle){ 0 })

/**
 * Whether a handle is set.
 * \param[in] h the handle
 * \return true when h is not the null handle (it may still be stale).
 */
static inline bool
cairn_handle_is_valid(struct cairn_handle h)
{
	return h.cookie != 0;
}

/* ------------------------------------------------------------------ object ids */

/**
 * 128-bit object id. The caller owns `lo` and the low 32 bits of `hi`; the high 32 bits
 * of `hi` are reserved for the object type and class (see cairn/placement.h:
 * cairn_obj_id_generate()).
 */
struct cairn_obj_id {
	uint64_t lo;
	uint64_t hi;
};

/** Bits of `hi` the application may use. */
#define CAIRN_OID_HI_USER_BITS 32
#define CAIRN_OID_HI_USER_MASK ((1ull << CAIRN_OID_HI_USER_BITS) - 1)

/**
 * Compare two object ids.
 * \param[in] a first id
 * \param[in] b second id
 * \return true when both halves are equal.
 */
static inline bool
cairn_obj_id_equal(struct cairn_obj_id a, struct cairn_obj_id b)
{
	return a.lo == b.lo && a.hi == b.hi;
}

/* ------------------------------------------------------------------ epochs */

/** A point in a container's version history (hybrid logical clock value). */
typedef uint64_t cairn_epoch_t;

/** The newest epoch: "read the latest committed version". */
#define CAIRN_EPOCH_MAX UINT64_MAX

/** A closed range of epochs [lo, hi]. */
struct cairn_epoch_range {
	cairn_epoch_t lo;
	cairn_epoch_t hi;
};

/* ------------------------------------------------------------------ buffers */

/**
 * One buffer. `buf_len` is the allocated size, `len` the meaningful bytes (set by the
 * library on fetch; by the caller on update). The library never frees `buf`.
 */
struct cairn_iov {
	void *buf;
	size_t buf_len;
	size_t len;
};

/**
 * Fill an iov describing `len` valid bytes in a buffer of the same size.
 * \param[out] iov the iov
 * \param[in]  buf the buffer (kept by reference)
 * \param[in]  len its size and valid length
 */
static inline void
cairn_iov_set(struct cairn_iov *iov, void *buf, size_t len)
{
	iov->buf = buf;
	iov->buf_len = len;
	iov->len = len;
}

/** A scatter/gather list: `nr` iovs, of which `nr_out` were filled by a fetch. */
struct cairn_sg_list {
	uint32_t nr;
	uint32_t nr_out;
	struct cairn_iov *iovs;
};

/**
 * Total valid bytes of a scatter/gather list.
 * \param[in] sgl the list
 * \return the sum of the `len` of its `nr` iovs.
 */
static inline size_t
cairn_sgl_len(const struct cairn_sg_list *sgl)
{
	size_t n = 0;

	for (uint32_t i = 0; i < sgl->nr; i++)
		n += sgl->iovs[i].len;
	return n;
}

/* ------------------------------------------------------------------ keys and values */

/** A range of records in an array value: `nr` records starting at `idx`. */
struct cairn_recx {
	uint64_t idx;
	uint64_t nr;
};

/** A byte range [off, off + len). */
struct cairn_range {
	uint64_t off;
	uint64_t len;
};

/** What an akey holds. */
enum cairn_iod_type {
	CAIRN_IOD_NONE = 0,   /**< not known yet (query) */
	CAIRN_IOD_SINGLE = 1, /**< one atomic value, replaced as a whole */
	CAIRN_IOD_ARRAY = 2,  /**< an array of fixed-size records, updated by extents */
};

/*
 * Keys: a distribution key (dkey) or attribute key (akey) is an opaque byte string,
 * passed as a struct cairn_iov (buf, len).
 */

/**
 * I/O descriptor: which akey, and which part of its value, an update or fetch touches.
 * For SINGLE values `recxs` is unused and `size` is the value size; for ARRAY values
 * `size` is the record size and `recxs[0..nr-1]` the extents.
 */
struct cairn_iod {
	struct cairn_iov name; /**< the akey */
	enum cairn_iod_type type;
	uint64_t size;
	uint32_t nr;
	struct cairn_recx *recxs;
};

/**
 * Key descriptor returned by enumeration: each key's length and checksum type, the keys
 * themselves packed back to back in the caller's buffer.
 */
struct cairn_key_desc {
	uint64_t key_len;
	uint32_t csum_type;
	uint16_t csum_len;
	uint16_t flags;
};

/**
 * Enumeration cursor: opaque, 128 bytes, zeroed to start. The library sets `eof` at the
 * end; pass the same anchor back to continue.
 */
struct cairn_anchor {
	uint16_t type;
	uint16_t shard;
	uint32_t flags;
	uint32_t eof;
	uint32_t reserved;
	uint8_t body[112];
};

/**
 * Whether an enumeration is finished.
 * \param[in] a the anchor
 * \return true when the anchor has reached the end.
 */
static inline bool
cairn_anchor_is_eof(const struct cairn_anchor *a)
{
	return a->eof != 0;
}

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_TYPES_H */
