/*
 * Cairn VOS: the versioned object store of one target, durable on one bdev.
 *
 * A VOS pool holds containers (UUID) -> objects (128-bit id) -> dkeys -> akeys -> values.
 * A value is a *single value* (replaced as a whole) or an *array* of fixed-size records
 * addressed by extents (partial overwrites; holes read as zeros). Every mutation carries
 * an epoch; a fetch names an epoch and sees the state as of that epoch. Punches are
 * tombstones at an epoch. Semantics are those of the index (src/vos/vos_index.h).
 *
 * Durability: an update returns only after its write-ahead-log record is on stable
 * storage (group commit: concurrent updates share one write + flush); after a crash at
 * any instant, reopening restores exactly the acknowledged updates. Data extents carry a
 * CRC32C checked on every fetch: corruption is reported as -CAIRN_ERR_CSUM, never as data.
 *
 * Threads: a pool belongs to the xstream that opened it. Every function below except
 * cairn_vos_pool_opts_default() must be called from a ULT on that xstream (they park the
 * ULT during I/O; many ULTs may call concurrently and their updates are committed
 * together). Callbacks (enumeration) run inside the call and must not call into VOS.
 *
 * Errors: 0 or negative CAIRN_ERR_* (include/cairn/errno.h), as listed per function.
 * Every function validates its arguments before changing anything: on an error return
 * nothing was changed (on disk or in memory) unless stated otherwise.
 */
#ifndef CAIRN_VOS_VOS_H
#define CAIRN_VOS_VOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ limits */

/** Longest dkey or akey in bytes (keys are 1..KEY_MAX bytes). */
#define CAIRN_VOS_KEY_MAX       4096u
/** Largest single value or array update extent (records * record size), bytes. */
#define CAIRN_VOS_VAL_MAX       (1u << 30)
/** Most I/O descriptors (akeys) in one update or fetch. */
#define CAIRN_VOS_IOD_MAX       256u
/** Most extents in one array I/O descriptor. */
#define CAIRN_VOS_RECX_MAX      256u
/** Most operations in one local transaction. */
#define CAIRN_VOS_TX_OPS_MAX    1024u
/** Epoch meaning "latest" for reads; mutations use 1..CAIRN_VOS_EPOCH_MAX-1. */
#define CAIRN_VOS_EPOCH_MAX UINT64_MAX

/* ------------------------------------------------------------------ types */

struct cairn_vos_pool;
struct cairn_vos_tx;

/* The index header (src/vos/vos_index.h) declares the same type; whichever comes first
 * wins (CAIRN_VOS_OID_DEFINED is the shared guard). */
#if !defined(CAIRN_VOS_INDEX_H) && !defined(CAIRN_VOS_OID_DEFINED)
#define CAIRN_VOS_OID_DEFINED
/** 128-bit object id (the same type as the index's). */
struct cairn_vos_oid {
	uint64_t hi;
	uint64_t lo;
};
#endif

/** Conditional flags of update / punch, evaluated at the operation's epoch against the
 *  state before the operation (for a transaction: before the whole transaction). */
enum cairn_vos_cond {
	CAIRN_VOS_COND_DKEY_INSERT = 1u << 0, /**< dkey must not exist, else -CAIRN_ERR_EXIST */
	CAIRN_VOS_COND_DKEY_UPDATE = 1u << 1, /**< dkey must exist, else -CAIRN_ERR_NONEXIST */
	CAIRN_VOS_COND_AKEY_INSERT = 1u << 2, /**< akey must not exist (each iod) */
	CAIRN_VOS_COND_AKEY_UPDATE = 1u << 3, /**< akey must exist (each iod) */
	CAIRN_VOS_COND_PUNCH = 1u << 4,       /**< punched key must exist */
};

enum cairn_vos_iod_type {
	CAIRN_VOS_IOD_SINGLE = 1,
	CAIRN_VOS_IOD_ARRAY = 2,
};

/** Extent of an array: records [idx, idx + nr). */
struct cairn_vos_recx {
	uint64_t idx;
	uint64_t nr;
};

/**
 * I/O descriptor: one akey of a dkey.
 *  - SINGLE update: buf/size = the value (size 1..VAL_MAX).
 *    SINGLE fetch: buf/buf_size = destination; on return size = the value's length
 *    (0 when there is no visible value). buf_size < size -> -CAIRN_ERR_TRUNC.
 *  - ARRAY: rec_size bytes per record (fixed per akey), recx[nr_recx] extents; buf holds
 *    the records of all extents back to back (sum(nr) * rec_size bytes; buf_size at
 *    least that). Fetch fills holes with zeros and sets size = rec_size of the akey
 *    (0 when the akey does not exist at that epoch: buf all zeros).
 */
struct cairn_vos_iod {
	const void *akey;
	uint32_t akey_len;
	uint32_t type;          /**< enum cairn_vos_iod_type */
	uint32_t rec_size;      /**< ARRAY: bytes per record */
	uint32_t nr_recx;       /**< ARRAY: extents */
	const struct cairn_vos_recx *recx;
	void *buf;
	uint64_t buf_size;      /**< bytes available at buf (fetch) */
	uint64_t size;          /**< SINGLE update: value bytes; fetch: out, see above */
	uint32_t flags;         /**< CAIRN_VOS_IOD_CRC_GIVEN (update: in; fetch: out) */
	uint32_t crc;           /**< with CRC_GIVEN: see below */
};
/** Update: iod.crc is the CRC32C (seed 0) of the value (SINGLE) or of the one extent
 *  (ARRAY with nr_recx 1), already verified by the caller: VOS keeps it as the record's
 *  media checksum instead of computing its own (the engine's end-to-end checksum).
 *  Fetch of a SINGLE value that exists: VOS sets the flag and iod.crc = the stored
 *  record's CRC32C, which the bytes returned match (VOS verified them). */
#define CAIRN_VOS_IOD_CRC_GIVEN 0x1u

/** Opaque, resumable enumeration position. Initialise with cairn_vos_anchor_init(). */
struct cairn_vos_anchor {
	uint64_t opaque[(16 + 4096) / 8];
};

/** One visible piece of an array, for extent enumeration. */
struct cairn_vos_extent {
	uint64_t idx;
	uint64_t nr;
	uint64_t epoch;  /**< epoch of the update that wrote it */
	uint32_t rec_size;
};

/** Key visitor: 0 continue, 1 stop after this key, < 0 abort with that rc. */
typedef int (*cairn_vos_key_cb)(void *arg, const void *key, uint32_t len);
typedef int (*cairn_vos_oid_cb)(void *arg, const struct cairn_vos_oid *oid);
typedef int (*cairn_vos_extent_cb)(void *arg, const struct cairn_vos_extent *ext);

/* ------------------------------------------------------------------ pool */

struct cairn_vos_pool_opts {
	size_t opts_size;     /**< sizeof(struct cairn_vos_pool_opts) */
	uint64_t wal_size;    /**< format: WAL bytes (0 = 1/8 of the device, max 256 MiB) */
	uint64_t ckpt_size;   /**< format: bytes per checkpoint slot (0 = 1/8, max 1 GiB) */
	uint32_t inline_max;  /**< format: values up to this many bytes are kept in the
			       * metadata (WAL + checkpoints), not in data extents;
			       * 0..4096, default 1024 */
	uint32_t flags;       /**< format: CAIRN_VOS_FORMAT_* */
	/** format with CAIRN_VOS_FORMAT_PREZERO: called after each chunk written, in the
	 *  formatting ULT (done == total at the end); may be NULL. */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
};

/** Format flags (struct cairn_vos_pool_opts.flags). */
enum cairn_vos_format_flags {
	/** Write zeros over the whole pool (WAL, checkpoint slots, data) with large
	 *  sequential writes before formatting. On a sparse or fallocated file every first
	 *  O_DIRECT write to a block converts an unwritten extent in the file system
	 *  (small updates measured ~15x slower until the space has been written once);
	 *  pre-zeroing pays that cost up front, like a raw device never has it. Takes
	 *  size / sequential write bandwidth. */
	CAIRN_VOS_FORMAT_PREZERO = 1u << 0,
};

/** Fill opts with defaults. Any thread. */
void cairn_vos_pool_opts_default(struct cairn_vos_pool_opts *opts);

/**
 * Format the bdev as an empty VOS pool (destroys what it held).
 * \param[in] bdev_name a registered bdev; block size must divide 4096
 * \param[in] uuid      pool UUID (16 bytes)
 * \param[in] opts      NULL for defaults
 * \return 0; -CAIRN_ERR_INVAL (bad args or block size); -CAIRN_ERR_NONEXIST (no bdev);
 *   -CAIRN_ERR_NOSPACE (device too small); -CAIRN_ERR_BUSY/-CAIRN_ERR_PERM (claimed);
 *   -CAIRN_ERR_IO; -CAIRN_ERR_NOMEM.
 */
int cairn_vos_pool_format(const char *bdev_name, const uint8_t uuid[16],
			  const struct cairn_vos_pool_opts *opts);

/**
 * Open a pool: validate the superblock, load the newest valid checkpoint, replay the WAL
 * up to the first torn or invalid frame, rebuild the space allocator. Nothing is written
 * before the superblock has been validated.
 * \return 0; -CAIRN_ERR_INVAL (not a VOS pool); -CAIRN_ERR_VERSION (newer format);
 *   -CAIRN_ERR_TRUNC (device smaller than the pool); -CAIRN_ERR_CSUM (superblocks
 *   corrupt); -CAIRN_ERR_CORRUPT (no usable checkpoint, inconsistent metadata);
 *   -CAIRN_ERR_NONEXIST; -CAIRN_ERR_BUSY; -CAIRN_ERR_IO; -CAIRN_ERR_NOMEM.
 */
int cairn_vos_pool_open(const char *bdev_name, struct cairn_vos_pool **poolp);

/** Wait for in-flight commits, checkpoint (so the next open replays nothing), release
 *  the bdev and free everything. Returns the checkpoint's error, the pool is closed
 *  regardless. */
int cairn_vos_pool_close(struct cairn_vos_pool *pool);

struct cairn_vos_pool_info {
	uint8_t uuid[16];
	uint64_t total_bytes;      /**< pool size on the device */
	uint64_t data_bytes;       /**< data region */
	uint64_t data_free;        /**< free bytes in the data region */
	uint64_t wal_bytes;        /**< WAL region */
	uint64_t wal_used;         /**< WAL bytes still needed for recovery */
	uint32_t inline_max;
	uint64_t frames;           /**< WAL frames (group commits) since open */
	uint64_t records;          /**< WAL records since open */
	uint64_t wal_written;      /**< WAL bytes written since open */
	uint64_t checkpoints;      /**< checkpoints since open */
	uint64_t replayed;         /**< records replayed by the last open */
	uint64_t data_written;     /**< data extent bytes written since open */
	uint64_t cache_bytes;      /**< DRAM extent cache capacity */
	uint64_t cache_used;
	uint64_t cache_hits, cache_misses;
	uint64_t conts, objs, dkeys, akeys, versions, extents;
};

/** \return 0 or -CAIRN_ERR_INVAL. */
int cairn_vos_pool_query(struct cairn_vos_pool *pool, struct cairn_vos_pool_info *info);

/** Size the pool's DRAM cache of data extents (default 128 MiB; 0 disables). Fetches of
 *  cached extents are served from memory; writes go through to the device as always.
 *  \return 0 or -CAIRN_ERR_INVAL. */
int cairn_vos_pool_set_cache(struct cairn_vos_pool *pool, uint64_t bytes);

/** Allocate a shareable I/O buffer: block aligned, at least len bytes, reference counted.
 *  When an update's value (a SINGLE value, or the first extent of an ARRAY iod) starts
 *  at such a buffer, or a fetch reads a whole-block extent from the device into one,
 *  the extent cache keeps a reference to it instead of copying the value; the uring
 *  bdev also does O_DIRECT I/O straight from it. The caller must not write into the
 *  buffer once it was passed to an update or fetch (only read and free it). Released
 *  buffers are recycled (a bounded free list), so no fresh pages are faulted in per
 *  request. Any thread. \return the buffer, or NULL (out of memory). */
void *cairn_vos_buf_alloc(uint64_t len);

/** Release the caller's reference to a buffer from cairn_vos_buf_alloc() (NULL: no-op;
 *  any other pointer is logged as a caller bug and ignored). */
void cairn_vos_buf_free(void *buf);

/** Write a checkpoint now (normally automatic, by WAL fill level).
 *  \return 0; -CAIRN_ERR_NOSPACE (index larger than a checkpoint slot); -CAIRN_ERR_IO. */
int cairn_vos_pool_checkpoint(struct cairn_vos_pool *pool);

/** Start a checkpoint in the background, like the automatic ones: the index is
 *  serialised a bounded slice at a time between foreground operations (a consistent cut
 *  as of the next frame boundary), then written. Returns once it started;
 *  cairn_vos_pool_query()'s checkpoints counts it when done.
 *  \return 0; -CAIRN_ERR_BUSY (a checkpoint is running); -CAIRN_ERR_NOMEM. */
int cairn_vos_pool_checkpoint_start(struct cairn_vos_pool *pool);

/**
 * Check the pool: every stored extent is read and its CRC verified, every extent lies in
 * the data region and no two overlap, and the allocator agrees with the index. Extents
 * are always read from the device, never from the DRAM extent cache (which holds the
 * bytes as written and so hides later damage on the device); the cached copy of a bad
 * extent is dropped, so fetches of it report -CAIRN_ERR_CSUM from then on.
 * \param[out] nr_bad extents whose data fails its CRC (may be NULL).
 * \return 0 when everything is consistent; -CAIRN_ERR_CSUM (some extents bad);
 *   -CAIRN_ERR_CORRUPT (metadata inconsistent); -CAIRN_ERR_IO; -CAIRN_ERR_NOMEM.
 */
int cairn_vos_pool_verify(struct cairn_vos_pool *pool, uint64_t *nr_bad);

/* ------------------------------------------------------------------ containers */

/** \return 0; -CAIRN_ERR_EXIST; -CAIRN_ERR_INVAL; -CAIRN_ERR_IO; -CAIRN_ERR_NOMEM. */
int cairn_vos_cont_create(struct cairn_vos_pool *pool, const uint8_t uuid[16]);
/** Destroy a container and reclaim all of its space.
 *  \return 0; -CAIRN_ERR_NONEXIST; -CAIRN_ERR_IO; -CAIRN_ERR_NOMEM. */
int cairn_vos_cont_destroy(struct cairn_vos_pool *pool, const uint8_t uuid[16]);
/** \return 1 exists, 0 not. */
int cairn_vos_cont_exists(struct cairn_vos_pool *pool, const uint8_t uuid[16]);

/* ------------------------------------------------------------------ I/O */

/**
 * Update akeys of one dkey at epoch, atomically (all iods or none).
 * \param[in] cond enum cairn_vos_cond flags (0 = unconditional)
 * \return 0; -CAIRN_ERR_INVAL (bad key, epoch, iod, type mismatch with the akey);
 *   -CAIRN_ERR_OVERFLOW (extent beyond 64 bits, value beyond VAL_MAX, too many iods);
 *   -CAIRN_ERR_NONEXIST (no container; or a condition); -CAIRN_ERR_EXIST (condition);
 *   -CAIRN_ERR_STALE (epoch at or below the aggregation bound); -CAIRN_ERR_NOSPACE;
 *   -CAIRN_ERR_IO; -CAIRN_ERR_NOMEM.
 */
int cairn_vos_update(struct cairn_vos_pool *pool, const uint8_t cont[16],
		     const struct cairn_vos_oid *oid, uint64_t epoch, uint32_t cond,
		     const void *dkey, uint32_t dkey_len, uint32_t nr_iods,
		     const struct cairn_vos_iod *iods);

/**
 * Fetch akeys of one dkey as of epoch (CAIRN_VOS_EPOCH_MAX = latest). See struct
 * cairn_vos_iod for what is returned.
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NONEXIST (no container); -CAIRN_ERR_TRUNC
 *   (buffer too small; size set); -CAIRN_ERR_CSUM (stored data fails its checksum);
 *   -CAIRN_ERR_IO; -CAIRN_ERR_NOMEM.
 */
int cairn_vos_fetch(struct cairn_vos_pool *pool, const uint8_t cont[16],
		    const struct cairn_vos_oid *oid, uint64_t epoch, const void *dkey,
		    uint32_t dkey_len, uint32_t nr_iods, struct cairn_vos_iod *iods);

/**
 * Fetch one single value as of epoch by reference, to send it on without copying it: on
 * success *bufp is a shareable buffer (cairn_vos_buf_alloc) holding the value's *size
 * bytes, checked against the value's CRC32C — the extent cache's own buffer when the
 * value is cached, else a new one (read from the device and then cached). Only read it;
 * release it with cairn_vos_buf_free(). A value that does not exist gives *bufp NULL and
 * *size 0. The value must be a single value (an array akey gives -CAIRN_ERR_INVAL).
 * crc (may be NULL) receives the value's stored CRC32C (the writer's, when the update
 * gave one with CAIRN_VOS_IOD_CRC_GIVEN).
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NONEXIST (no container); -CAIRN_ERR_CSUM;
 *   -CAIRN_ERR_CORRUPT; -CAIRN_ERR_IO; -CAIRN_ERR_NOMEM.
 */
int cairn_vos_fetch_ref(struct cairn_vos_pool *pool, const uint8_t cont[16],
			const struct cairn_vos_oid *oid, uint64_t epoch, const void *dkey,
			uint32_t dkey_len, const void *akey, uint32_t akey_len, void **bufp,
			uint64_t *size, uint32_t *crc);

/**
 * Punch an object (dkey NULL), a dkey (akey NULL) or an akey at epoch.
 * \param[in] cond 0 or CAIRN_VOS_COND_PUNCH
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NONEXIST (container, or COND_PUNCH);
 *   -CAIRN_ERR_STALE; -CAIRN_ERR_IO; -CAIRN_ERR_NOMEM.
 */
int cairn_vos_punch(struct cairn_vos_pool *pool, const uint8_t cont[16],
		    const struct cairn_vos_oid *oid, uint64_t epoch, uint32_t cond,
		    const void *dkey, uint32_t dkey_len, const void *akey, uint32_t akey_len);

/* ------------------------------------------------------------------ local transactions */

/**
 * Start a local transaction on one container at one epoch: updates and punches of any
 * dkeys of that container, committed atomically by cairn_vos_tx_commit() (one WAL
 * record). Nothing is visible before the commit. Conditions of all ops are evaluated
 * against the state before the transaction.
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NOMEM.
 */
int cairn_vos_tx_begin(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t epoch,
		       struct cairn_vos_tx **txp);
/** Add an update (data is written to its extents now; the buffers may be reused when
 *  this returns). Errors as cairn_vos_update(); on error the tx is unchanged. */
int cairn_vos_tx_update(struct cairn_vos_tx *tx, const struct cairn_vos_oid *oid, uint32_t cond,
			const void *dkey, uint32_t dkey_len, uint32_t nr_iods,
			const struct cairn_vos_iod *iods);
/** Add a punch. Errors as cairn_vos_punch(). */
int cairn_vos_tx_punch(struct cairn_vos_tx *tx, const struct cairn_vos_oid *oid, uint32_t cond,
		       const void *dkey, uint32_t dkey_len, const void *akey, uint32_t akey_len);
/** Commit and free tx. \return 0 or the first failing condition / error (then nothing
 *  of the transaction is applied). */
int cairn_vos_tx_commit(struct cairn_vos_tx *tx);
/** Drop tx and free the space it reserved. */
void cairn_vos_tx_abort(struct cairn_vos_tx *tx);

/* ------------------------------------------------------------------ enumeration */

void cairn_vos_anchor_init(struct cairn_vos_anchor *anchor);
bool cairn_vos_anchor_is_eof(const struct cairn_vos_anchor *anchor);

/** Visit objects / dkeys of oid / akeys of (oid, dkey) existing at epoch, in key order,
 *  resuming after the anchor (updated as keys are consumed; EOF at the end).
 *  \return 0 (stopped or EOF); a visitor's negative rc; -CAIRN_ERR_INVAL;
 *  -CAIRN_ERR_NONEXIST (no container). */
int cairn_vos_list_objs(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t epoch,
			struct cairn_vos_anchor *anchor, cairn_vos_oid_cb cb, void *arg);
int cairn_vos_list_dkeys(struct cairn_vos_pool *pool, const uint8_t cont[16],
			 const struct cairn_vos_oid *oid, uint64_t epoch,
			 struct cairn_vos_anchor *anchor, cairn_vos_key_cb cb, void *arg);
int cairn_vos_list_akeys(struct cairn_vos_pool *pool, const uint8_t cont[16],
			 const struct cairn_vos_oid *oid, const void *dkey, uint32_t dkey_len,
			 uint64_t epoch, struct cairn_vos_anchor *anchor, cairn_vos_key_cb cb,
			 void *arg);
/** Visible, non-hole extents of an array akey at epoch, in index order. */
int cairn_vos_list_extents(struct cairn_vos_pool *pool, const uint8_t cont[16],
			   const struct cairn_vos_oid *oid, const void *dkey, uint32_t dkey_len,
			   const void *akey, uint32_t akey_len, uint64_t epoch,
			   struct cairn_vos_anchor *anchor, cairn_vos_extent_cb cb, void *arg);

/* ------------------------------------------------------------------ snapshots, aggregation */

/** Pin epoch in the container (aggregation keeps what is visible at it).
 *  \return 0; -CAIRN_ERR_EXIST; -CAIRN_ERR_INVAL; -CAIRN_ERR_NONEXIST; -CAIRN_ERR_STALE;
 *  -CAIRN_ERR_OVERFLOW (too many); -CAIRN_ERR_IO. */
int cairn_vos_snap_create(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t epoch);
/** \return 0; -CAIRN_ERR_NONEXIST; -CAIRN_ERR_IO. */
int cairn_vos_snap_destroy(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t epoch);
/** Snapshots ascending. \return 0; -CAIRN_ERR_TRUNC (*nr = how many exist);
 *  -CAIRN_ERR_NONEXIST. */
int cairn_vos_snap_list(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t *epochs,
			uint32_t max, uint32_t *nr);

/**
 * Aggregate versions at or below ub (merge what no retained epoch can see, free the space),
 * one bounded step of at most `budget` dkeys. Call repeatedly (e.g. from a background ULT
 * with yields between calls) until *done; foreground I/O runs between steps.
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NONEXIST; -CAIRN_ERR_STALE (ub below the
 *   container's bound); -CAIRN_ERR_IO; -CAIRN_ERR_NOMEM.
 */
int cairn_vos_aggregate(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t ub,
			uint32_t budget, bool *done);

/**
 * Aggregate in the background: a ULT on the pool's xstream runs cairn_vos_aggregate()
 * steps of 64 dkeys up to ub, yielding to foreground I/O between steps, until the pass
 * is done (or the pool is closed, which stops it). One background pass per pool.
 * \return 0 (started); -CAIRN_ERR_BUSY (one is running); -CAIRN_ERR_INVAL;
 *   -CAIRN_ERR_NONEXIST; -CAIRN_ERR_STALE; -CAIRN_ERR_NOMEM.
 */
int cairn_vos_aggregate_start(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t ub);
/** Whether a background pass is running; *rc (may be NULL) gets the last finished
 *  pass's result (0, or the error that stopped it). */
bool cairn_vos_aggregate_running(struct cairn_vos_pool *pool, int *rc);

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_VOS_VOS_H */
