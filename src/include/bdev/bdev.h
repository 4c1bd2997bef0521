/*
 * Cairn block device layer (bdev): the contract for bdev users (VOS, the iSCSI/NVMe-oF
 * targets, tools) and for bdev modules (malloc, null, uring, aio, error, ...).
 *
 * Model (SPDK-like):
 *  - A *bdev* is a named block device in a process-wide registry. It has a block size,
 *    a block count, a UUID and a few I/O hints. A *module* creates bdevs and gives each
 *    one a per-instance function table.
 *  - Users *open* a bdev and get a *descriptor* (read-only or read-write). While a bdev
 *    is open it cannot disappear; deleting it sends CAIRN_BDEV_EVENT_REMOVE to every
 *    descriptor, and the bdev is destroyed when the last descriptor is closed.
 *  - A descriptor may take an *exclusive write claim* (VOS claims its pool's bdev; the
 *    error bdev claims its base): no other descriptor may then open it for writing.
 *  - I/O goes through a per-xstream *I/O channel*: cairn_bdev_get_io_channel(desc) on
 *    the xstream that will submit. The channel is not locked; it must only be used on
 *    the xstream that got it.
 *  - Completion callbacks run on the submitting xstream, never inside the submit call.
 *    Callback shape, as everywhere in Cairn: void (*cb)(void *cb_arg, int rc), with rc 0
 *    on success or a negative CAIRN_ERR_* / -errno. A submit function that returns an
 *    error does not call its callback. The I/O object is freed by the layer after the
 *    callback returns; users never see it.
 *  - The layer splits I/O at the module's limits (max transfer size, optimal I/O
 *    boundary) and bounces buffers that do not meet the module's buffer alignment, so
 *    callers may use any buffer; cairn_bdev_dma_alloc() gives buffers that avoid the
 *    bounce copy.
 *  - Per-bdev statistics (ops, bytes, errors, latency min/avg/max per I/O type) are
 *    kept per channel without locks and summed on query.
 *
 * Threads: "any thread" = any xstream, ULT or plain pthread. "xstream context" = a ULT,
 * poller or message handler on a runtime xstream (src/include/rt/rt.h). "ULT" = only
 * from a ULT (the function parks the ULT while waiting).
 *
 * Errors: 0 or negative CAIRN_ERR_* (include/cairn/errno.h) / -errno.
 */
#ifndef CAIRN_BDEV_BDEV_H
#define CAIRN_BDEV_BDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/list.h"

#ifdef __cplusplus
extern "C" {
#endif

/* jansson's json_t is `struct json_t`; declared here so users need not include jansson.h
 * unless they call the JSON functions. */
struct json_t;

struct cairn_bdev;         /* a registered block device (opaque) */
struct cairn_bdev_desc;    /* an open descriptor (opaque) */
struct cairn_bdev_channel; /* a per-xstream I/O channel (opaque) */
struct cairn_bdev_io;      /* one I/O request (module-facing, see below) */

#define CAIRN_BDEV_NAME_MAX   64    /* including the NUL */
#define CAIRN_BDEV_MAX_IOVCNT 1024  /* per request */

/** Generic completion callback (same shape as everywhere in Cairn). */
typedef void (*cairn_bdev_cb)(void *cb_arg, int rc);

/* ================================================================== subsystem */

/**
 * Initialise the bdev layer and every built-in module (malloc, null, uring, aio, error).
 * Does not need the runtime, but I/O does. Idempotent (counted). Any thread.
 * \return 0, or the first module init error.
 */
int cairn_bdev_init(void);

/**
 * Delete every remaining bdev (virtual bdevs first) and finalise the modules. All
 * descriptors must be closed. Any non-xstream thread (it may wait for deletions).
 */
void cairn_bdev_fini(void);

/* ================================================================== registry */

/** Find a bdev by name. Any thread. NULL if none. The pointer is only guaranteed valid
 * while the caller holds an open descriptor on it (use cairn_bdev_open to pin it). */
struct cairn_bdev *cairn_bdev_get_by_name(const char *name);

/**
 * Call fn(bdev, arg) for each bdev that is registered and not being deleted when the call
 * starts, in registration order. The set is a snapshot: bdevs registered during the walk
 * are not visited; one whose deletion starts during the walk is still visited.
 * Each bdev is pinned by a reference (not a descriptor) from the snapshot until its call
 * returns, and the registry lock is not held while fn runs, so fn may call any bdev
 * function (create, delete, open, info...). When the walk drops the last reference of a
 * bdev deleted meanwhile, that bdev is destroyed from this call (its module destruct
 * runs here; the delete callback goes to the deleter's xstream when it has one).
 * Any thread.
 * \return 0, the first non-zero value fn returned (the walk stops there), -CAIRN_ERR_INVAL
 *         (fn NULL) or -CAIRN_ERR_NOMEM.
 */
int cairn_bdev_foreach(int (*fn)(struct cairn_bdev *bdev, void *arg), void *arg);

/** Number of registered bdevs. Any thread. */
unsigned cairn_bdev_count(void);

/* ================================================================== properties */

enum cairn_bdev_io_type {
	CAIRN_BDEV_IO_READ = 0,
	CAIRN_BDEV_IO_WRITE,
	CAIRN_BDEV_IO_FLUSH,
	CAIRN_BDEV_IO_UNMAP,        /* discard; modules with unmap_zeroes read zeros after */
	CAIRN_BDEV_IO_WRITE_ZEROES, /* emulated with writes when the module lacks it */
	CAIRN_BDEV_IO_NTYPES
};
/** "read", "write", "flush", "unmap", "write_zeroes"; "?" if out of range. */
const char *cairn_bdev_io_type_name(enum cairn_bdev_io_type t);

/* Getters: any thread, on a bdev pinned by an open descriptor. */
const char *cairn_bdev_name(const struct cairn_bdev *bdev);
const char *cairn_bdev_product_name(const struct cairn_bdev *bdev); /* "Malloc disk", ... */
const char *cairn_bdev_module_name(const struct cairn_bdev *bdev);  /* "malloc", ... */
uint32_t cairn_bdev_block_size(const struct cairn_bdev *bdev);      /* bytes, power of 2 */
uint64_t cairn_bdev_num_blocks(const struct cairn_bdev *bdev);
/** 16 raw bytes (RFC 4122 byte order). */
void cairn_bdev_uuid(const struct cairn_bdev *bdev, uint8_t uuid[16]);
/** Preferred I/O boundary in blocks (0 = none): I/O crossing it is split when the module
 * asks for it; users should avoid crossing it (e.g. stripe or erase-unit size). */
uint32_t cairn_bdev_optimal_io_boundary(const struct cairn_bdev *bdev);
/** Largest single request the module accepts, in blocks (0 = unlimited). Larger user
 * requests are split by the layer; this is a hint. */
uint32_t cairn_bdev_max_transfer_blocks(const struct cairn_bdev *bdev);
/** True when the device has a volatile write cache: a write is durable only after a
 * successful flush. */
bool cairn_bdev_has_write_cache(const struct cairn_bdev *bdev);
/** Buffer alignment (bytes, power of 2) the module needs to avoid a bounce copy
 * (4096 for O_DIRECT files, 1 for RAM). Any buffer works. */
size_t cairn_bdev_buf_align(const struct cairn_bdev *bdev);
/** Separate per-block metadata bytes. Always 0 today (no DIF/DIX support). */
uint32_t cairn_bdev_md_size(const struct cairn_bdev *bdev);
/** True when reading unmapped blocks returns zeros. */
bool cairn_bdev_unmap_zeroes(const struct cairn_bdev *bdev);
/** Whether the bdev serves this I/O type natively (WRITE_ZEROES is always accepted:
 * emulated otherwise; FLUSH is always accepted: a no-op without a write cache). */
bool cairn_bdev_io_type_supported(const struct cairn_bdev *bdev, enum cairn_bdev_io_type t);
/** Name of the claim holder, NULL if unclaimed. */
const char *cairn_bdev_claimed_by(const struct cairn_bdev *bdev);

/** Allocate / free an I/O buffer aligned for the bdev (no bounce copy). Any thread. */
void *cairn_bdev_dma_alloc(const struct cairn_bdev *bdev, size_t size);
void cairn_bdev_dma_free(void *buf);

/* ================================================================== open / claim */

enum cairn_bdev_event_type {
	CAIRN_BDEV_EVENT_REMOVE = 0, /* the bdev is being deleted: close the descriptor */
	CAIRN_BDEV_EVENT_RESIZE,     /* num_blocks changed (read it again) */
};

/** Event callback of a descriptor. Runs on the xstream that opened the descriptor (by
 * message); for a descriptor opened from a plain thread, on the thread that caused the
 * event. It may close the descriptor. */
typedef void (*cairn_bdev_event_cb)(enum cairn_bdev_event_type type, struct cairn_bdev *bdev,
				    void *event_ctx);

/**
 * Open a bdev by name. Any thread.
 * \param[in] name      bdev name
 * \param[in] write     open for writing
 * \param[in] event_cb  required: receives REMOVE and RESIZE
 * \param[in] event_ctx passed to event_cb
 * \param[out] desc     the descriptor
 * \return 0; -CAIRN_ERR_INVAL (NULL args), -CAIRN_ERR_NONEXIST (no such bdev, or being
 *         deleted), -CAIRN_ERR_PERM (write open of a bdev claimed by another descriptor),
 *         -CAIRN_ERR_NOMEM.
 */
int cairn_bdev_open(const char *name, bool write, cairn_bdev_event_cb event_cb,
		    void *event_ctx, struct cairn_bdev_desc **desc);

/**
 * Close a descriptor (releases its claim). Every channel got through it must have been
 * put and its I/O completed. Any thread. If the bdev is being deleted and this was the
 * last reference, the bdev is destroyed here and the deleter's callback is scheduled.
 */
void cairn_bdev_close(struct cairn_bdev_desc *desc);

/** The bdev of a descriptor. */
struct cairn_bdev *cairn_bdev_desc_get_bdev(struct cairn_bdev_desc *desc);

/**
 * Take the exclusive write claim through a write descriptor: afterwards only this
 * descriptor may write; write opens by others fail with -CAIRN_ERR_PERM.
 * \param[in] owner short name of the claimer, for listings ("vos", "error:EE0").
 * \return 0; -CAIRN_ERR_INVAL (read-only descriptor or bad owner); -CAIRN_ERR_BUSY
 *         (already claimed, or another descriptor is open for writing).
 */
int cairn_bdev_claim(struct cairn_bdev_desc *desc, const char *owner);
/** Drop this descriptor's claim (no-op if it has none). Any thread. */
void cairn_bdev_release_claim(struct cairn_bdev_desc *desc);

/* ================================================================== channels */

/**
 * Get (create or take a reference on) the bdev's I/O channel for the current xstream.
 * xstream context. NULL when called outside an xstream or when the module cannot create
 * its channel (logged). Balance with cairn_bdev_put_io_channel() on the same xstream.
 */
struct cairn_bdev_channel *cairn_bdev_get_io_channel(struct cairn_bdev_desc *desc);
void cairn_bdev_put_io_channel(struct cairn_bdev_channel *ch);

/* ================================================================== async I/O */

/*
 * All submit functions: xstream context, on the channel's xstream.
 *  - offset_blocks/num_blocks in blocks; the iovecs must hold exactly
 *    num_blocks * block_size bytes (any split between iovecs, any buffer alignment).
 *    The iovec array is copied: it may be reused at once; the buffers must stay valid
 *    until the callback.
 *  - After a REMOVE event, I/O on the descriptor still works until it is closed (so a
 *    user can flush and drain); close it promptly.
 *  - Return 0 when accepted: cb(cb_arg, rc) then runs exactly once, later, on this
 *    xstream. Errors (no callback): -CAIRN_ERR_INVAL (num_blocks 0, length mismatch,
 *    iovcnt 0 or > CAIRN_BDEV_MAX_IOVCNT, NULL buffer, channel of another xstream or
 *    bdev), -CAIRN_ERR_OVERFLOW (range beyond the end of the bdev),
 *    -CAIRN_ERR_PERM (write through a read-only descriptor), -CAIRN_ERR_NOSYS (unmap
 *    on a bdev without it), -CAIRN_ERR_NOMEM.
 *  - rc in the callback: 0, -CAIRN_ERR_IO, -errno from the device, or what an error
 *    bdev injects.
 */
int cairn_bdev_readv(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		     const struct iovec *iov, int iovcnt, uint64_t offset_blocks,
		     uint64_t num_blocks, cairn_bdev_cb cb, void *cb_arg);
int cairn_bdev_writev(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		      const struct iovec *iov, int iovcnt, uint64_t offset_blocks,
		      uint64_t num_blocks, cairn_bdev_cb cb, void *cb_arg);
int cairn_bdev_read(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch, void *buf,
		    uint64_t offset_blocks, uint64_t num_blocks, cairn_bdev_cb cb, void *cb_arg);
int cairn_bdev_write(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		     const void *buf, uint64_t offset_blocks, uint64_t num_blocks,
		     cairn_bdev_cb cb, void *cb_arg);
/** Make every completed write durable (whole device; the range is accepted for SCSI
 * SYNCHRONIZE CACHE and must be in bounds, num_blocks 0 allowed). */
int cairn_bdev_flush(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		     uint64_t offset_blocks, uint64_t num_blocks, cairn_bdev_cb cb, void *cb_arg);
int cairn_bdev_unmap(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		     uint64_t offset_blocks, uint64_t num_blocks, cairn_bdev_cb cb, void *cb_arg);
int cairn_bdev_write_zeroes(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
			    uint64_t offset_blocks, uint64_t num_blocks, cairn_bdev_cb cb,
			    void *cb_arg);

/* Byte-addressed variants: offset and nbytes must be multiples of the block size
 * (-CAIRN_ERR_INVAL otherwise); otherwise identical to the block variants. */
int cairn_bdev_readv_bytes(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
			   const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t nbytes,
			   cairn_bdev_cb cb, void *cb_arg);
int cairn_bdev_writev_bytes(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
			    const struct iovec *iov, int iovcnt, uint64_t offset,
			    uint64_t nbytes, cairn_bdev_cb cb, void *cb_arg);

/* ================================================================== sync I/O (ULT) */

/*
 * Synchronous convenience layer for ULT callers (VOS): submit, park the ULT until the
 * completion, return its rc (or the submit error). ch may be NULL: a channel for the
 * current xstream is got and put around the call (cheap when the caller, or anybody on
 * this xstream, already holds one; for uring/aio a new channel means a new ring, so
 * hot paths should keep a channel). From a plain thread (tests, tools, pool creation
 * before the engine runs): ch must be NULL and the request runs in a ULT on target
 * xstream 0 (or xstream 0) while the thread blocks; needs a running runtime.
 * From a poller or message handler (cannot wait): -CAIRN_ERR_INVAL.
 */
int cairn_bdev_readv_sync(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
			  const struct iovec *iov, int iovcnt, uint64_t offset_blocks,
			  uint64_t num_blocks);
int cairn_bdev_writev_sync(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
			   const struct iovec *iov, int iovcnt, uint64_t offset_blocks,
			   uint64_t num_blocks);
int cairn_bdev_read_sync(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
			 void *buf, uint64_t offset_blocks, uint64_t num_blocks);
int cairn_bdev_write_sync(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
			  const void *buf, uint64_t offset_blocks, uint64_t num_blocks);
int cairn_bdev_flush_sync(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch);
int cairn_bdev_unmap_sync(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
			  uint64_t offset_blocks, uint64_t num_blocks);
int cairn_bdev_write_zeroes_sync(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
				 uint64_t offset_blocks, uint64_t num_blocks);

/* ================================================================== statistics */

struct cairn_bdev_op_stats {
	uint64_t ops;        /* completed requests (user level, not split children) */
	uint64_t bytes;      /* bytes of successful requests */
	uint64_t errors;     /* requests completed with rc != 0 */
	uint64_t lat_min_ns; /* submit -> completion callback; 0 when ops == 0 */
	uint64_t lat_max_ns;
	uint64_t lat_sum_ns; /* avg = lat_sum_ns / ops */
};

struct cairn_bdev_stats {
	struct cairn_bdev_op_stats op[CAIRN_BDEV_IO_NTYPES];
	uint64_t splits;  /* user requests that were split */
	uint64_t bounces; /* user requests that used a bounce buffer */
};

/** Sum of every channel's counters (current and destroyed) since creation or the last
 * reset. Any thread; concurrent I/O may or may not be counted. */
int cairn_bdev_get_stats(struct cairn_bdev *bdev, struct cairn_bdev_stats *st);
/** Zero the counters (best effort against concurrent I/O). Any thread. */
void cairn_bdev_reset_stats(struct cairn_bdev *bdev);
/**
 * Stats as a new JSON object:
 * {"name":..., "num_blocks":..., "block_size":..., "splits":..., "bounces":...,
 *  "read":{"ops","bytes","errors","lat_min_us","lat_avg_us","lat_max_us"}, "write":{...},
 *  "flush":{...}, "unmap":{...}, "write_zeroes":{...}}  (latencies as doubles).
 * \return 0 or -CAIRN_ERR_NOMEM; *out is a new reference (json_decref it).
 */
int cairn_bdev_stats_json(struct cairn_bdev *bdev, struct json_t **out);
/** Description as JSON (name, product, module, sizes, uuid, claim, module "driver"
 * info from dump_info_json). New reference in *out. */
int cairn_bdev_info_json(struct cairn_bdev *bdev, struct json_t **out);
/** Append to *array the JSON-RPC calls ({"method":"bdev_malloc_create","params":{..}})
 * that recreate every bdev, base bdevs before virtual ones. Any thread. */
int cairn_bdev_write_config_json(struct json_t *array);

/* ================================================================== module creators */

/*
 * Creation functions: any thread; the new bdev is registered when they return.
 * name: 1..CAIRN_BDEV_NAME_MAX-1 chars of [A-Za-z0-9_.:-]; uuid: 16 bytes or NULL for
 * a random one. Errors: -CAIRN_ERR_INVAL (bad name, block size not a power of two in
 * 512..65536, 0 blocks, size overflow), -CAIRN_ERR_EXIST (name or uuid taken),
 * -CAIRN_ERR_NOMEM, -errno from open/ioctl for file-backed bdevs.
 *
 * Deletion functions: any thread. They send REMOVE to every descriptor; cb(cb_arg, rc)
 * runs once the bdev is destroyed (after the last close), on the caller's xstream (or on
 * a runtime xstream / a helper thread for plain-thread callers), never inside the call.
 * Errors (no callback): -CAIRN_ERR_NONEXIST (no such bdev of this module),
 * -CAIRN_ERR_ALREADY (deletion already in progress).
 */

/** RAM disk. */
int cairn_bdev_malloc_create(const char *name, uint64_t num_blocks, uint32_t block_size,
			     const uint8_t *uuid, struct cairn_bdev **out);
int cairn_bdev_malloc_delete(const char *name, cairn_bdev_cb cb, void *cb_arg);

/** Extended malloc options (tests and tuning): I/O limits that exercise the layer's
 * splitting and bounce paths as a real device would. */
struct cairn_bdev_malloc_opts {
	size_t opts_size;              /* sizeof(struct cairn_bdev_malloc_opts) */
	const char *name;
	uint64_t num_blocks;
	uint32_t block_size;
	const uint8_t *uuid;           /* NULL = random */
	uint32_t optimal_io_boundary;  /* blocks, 0 = none; requests are split on it */
	uint32_t max_transfer_blocks;  /* 0 = unlimited */
	size_t buf_align;              /* 0/1 = any; else a power of two */
};
int cairn_bdev_malloc_create_ext(const struct cairn_bdev_malloc_opts *opts,
				 struct cairn_bdev **out);

/** Discards writes, reads return zeros (benchmarks of the layer itself). */
int cairn_bdev_null_create(const char *name, uint64_t num_blocks, uint32_t block_size,
			   const uint8_t *uuid, struct cairn_bdev **out);
int cairn_bdev_null_delete(const char *name, cairn_bdev_cb cb, void *cb_arg);

/**
 * File or block device through io_uring. The file must exist; its size (rounded down to
 * the block size) gives the block count. O_DIRECT when the file system accepts it, else
 * buffered I/O with fdatasync on flush (and write cache reported on). block_size 0 = the
 * device's logical block size (512 for files).
 */
int cairn_bdev_uring_create(const char *name, const char *filename, uint32_t block_size,
			    const uint8_t *uuid, struct cairn_bdev **out);
int cairn_bdev_uring_delete(const char *name, cairn_bdev_cb cb, void *cb_arg);
/** Re-read the file size; on change, update num_blocks and send RESIZE. Any thread. */
int cairn_bdev_uring_rescan(const char *name);

/** Same through Linux AIO (libaio + eventfd), for kernels without io_uring. */
int cairn_bdev_aio_create(const char *name, const char *filename, uint32_t block_size,
			  const uint8_t *uuid, struct cairn_bdev **out);
int cairn_bdev_aio_delete(const char *name, cairn_bdev_cb cb, void *cb_arg);
int cairn_bdev_aio_rescan(const char *name);

/**
 * Error-injection virtual bdev "EE_<base_name>" over base_name (which it claims as
 * "error:EE_<base>"). Passes I/O through until errors are injected. The base cannot be
 * deleted while the error bdev exists (its REMOVE event deletes the error bdev).
 * cairn_bdev_error_create() gives it a random uuid; cairn_bdev_error_create_uuid() takes
 * one (16 bytes, or NULL = random) so that a saved configuration (which records it)
 * recreates the same bdev. Errors: as the other creators, plus -CAIRN_ERR_NONEXIST (no
 * base) and -CAIRN_ERR_PERM (base already claimed).
 */
int cairn_bdev_error_create(const char *base_name, struct cairn_bdev **out);
int cairn_bdev_error_create_uuid(const char *base_name, const uint8_t *uuid,
				 struct cairn_bdev **out);
int cairn_bdev_error_delete(const char *name, cairn_bdev_cb cb, void *cb_arg);

enum cairn_bdev_error_mode {
	CAIRN_BDEV_ERROR_FAIL = 0,  /* complete with error_rc, the base sees nothing */
	CAIRN_BDEV_ERROR_CORRUPT,   /* reads: done, then one byte per block flipped;
				     * writes: one byte per block flipped in a copy written
				     * to the base; other types: as FAIL */
};

struct cairn_bdev_error_opts {
	size_t opts_size;      /* sizeof(struct cairn_bdev_error_opts) */
	uint32_t io_type_mask; /* 1u << CAIRN_BDEV_IO_* of the types hit; 0 = all */
	enum cairn_bdev_error_mode mode;
	uint32_t skip;         /* let this many matching I/Os through first */
	uint32_t count;        /* then hit at most this many (0 = no limit) */
	uint32_t rate_ppm;     /* probability per million of hitting a matching I/O once
				* past skip (0 treated as 1000000 = every one) */
	int error_rc;          /* FAIL rc, negative; 0 = -CAIRN_ERR_IO */
	uint64_t seed;         /* PRNG seed for rate_ppm (reproducible per xstream) */
};
void cairn_bdev_error_opts_default(struct cairn_bdev_error_opts *opts);
/** Replace the injection config of error bdev `name`. Any thread. Counters restart. */
int cairn_bdev_error_inject(const char *name, const struct cairn_bdev_error_opts *opts);
/** Stop injecting. */
int cairn_bdev_error_clear(const char *name);
/** I/Os hit so far by the current config. */
int cairn_bdev_error_hits(const char *name, uint64_t *hits);

/**
 * Partition (part) virtual bdev: blocks [offset_blocks, offset_blocks + num_blocks) of a
 * base bdev, shown as a bdev of num_blocks blocks (same block size, alignment and write
 * cache as the base). Several parts may share a base; their ranges may not overlap. The
 * first part opens the base for writing and claims it as "part" (other writers are then
 * refused), the last part deleted releases it. A REMOVE of the base deletes its parts; a
 * base RESIZE deletes the parts that no longer fit (the others are unchanged).
 * Not replayed by cairn_bdev_write_config_json() (no JSON-RPC method creates parts).
 */
struct cairn_bdev_part_opts {
	size_t opts_size;       /* sizeof(struct cairn_bdev_part_opts) */
	const char *name;       /* the part's bdev name */
	const char *base_name;  /* the base bdev */
	uint64_t offset_blocks; /* first block of the base, in base blocks */
	uint64_t num_blocks;    /* size, >= 1 */
	const uint8_t *uuid;    /* 16 bytes or NULL = random */
};
/** Fill opts with zeros and its size. */
void cairn_bdev_part_opts_default(struct cairn_bdev_part_opts *opts);
/**
 * Create a part bdev. Any thread.
 * \param[in]  opts the name, base and range
 * \param[out] out  the new bdev
 * \return 0; -CAIRN_ERR_INVAL (bad name, 0 blocks, range overflow), -CAIRN_ERR_NONEXIST (no
 *         base), -CAIRN_ERR_PERM (base claimed or open for writing by a non-part user),
 *         -CAIRN_ERR_OVERFLOW (range beyond the end of the base), -CAIRN_ERR_BUSY (range
 *         overlaps another part of the base), -CAIRN_ERR_EXIST (name or uuid taken),
 *         -CAIRN_ERR_NOMEM. Each error is logged with the offending values.
 */
int cairn_bdev_part_create(const struct cairn_bdev_part_opts *opts, struct cairn_bdev **out);
/** Delete a part bdev (see "Deletion functions" above); the base closes with its last
 * part. */
int cairn_bdev_part_delete(const char *name, cairn_bdev_cb cb, void *cb_arg);

/* ================================================================== module interface */

/*
 * A module: lifecycle ops, separate from the per-bdev function table. Built-in modules
 * are listed in an explicit table in src/bdev/bdev.c; others call
 * cairn_bdev_module_register() before cairn_bdev_init().
 */
struct cairn_bdev_module {
	const char *name;                /* "malloc" */
	int (*module_init)(void);        /* optional; at cairn_bdev_init() */
	void (*module_fini)(void);       /* optional; after every bdev is deleted */
	/* Bytes of per-I/O driver context (cairn_bdev_io_driver_ctx()), may be 0. */
	size_t (*get_ctx_size)(void);
	/* Virtual modules (error) are deleted before base modules at fini. */
	bool is_virtual;
};
int cairn_bdev_module_register(const struct cairn_bdev_module *module);

/*
 * Per-bdev function table. `ctx` is the module's instance pointer given at
 * registration; `ch_ctx` the module's per-xstream channel context.
 */
struct cairn_bdev_fn_table {
	/* Start io (xstream context, on the channel's xstream). Must eventually call
	 * cairn_bdev_io_complete(io, rc) once, from any context on that xstream (completing
	 * inside submit_request is allowed: the layer defers the user callback). Requests
	 * never exceed the module's max_transfer_blocks nor cross a boundary it asked to
	 * be split on; buffers meet buf_align (in address and length). */
	void (*submit_request)(void *ch_ctx, struct cairn_bdev_io *io);
	/* Optional: native support of a type; NULL = READ and WRITE only. */
	bool (*io_type_supported)(void *ctx, enum cairn_bdev_io_type type);
	/* Create the module's channel context on the current xstream (NULL on failure).
	 * Called once per xstream and bdev, when the first user channel is got there. */
	void *(*get_io_channel)(void *ctx);
	/* Destroy it, on the same xstream, after its last I/O completed. Optional. */
	void (*put_io_channel)(void *ctx, void *ch_ctx);
	/* Optional: add module-specific fields to obj (a JSON object). */
	int (*dump_info_json)(void *ctx, struct json_t *obj);
	/* Optional: append the JSON-RPC call(s) that recreate this bdev to array. */
	int (*write_config_json)(void *ctx, struct json_t *array);
	/* Free the instance: all descriptors closed and channels destroyed. Any thread. */
	void (*destruct)(void *ctx);
};

/* What a module tells the layer about a new bdev. */
struct cairn_bdev_info {
	size_t opts_size;              /* sizeof(struct cairn_bdev_info) */
	const char *name;
	const char *product_name;      /* e.g. "Malloc disk" */
	uint32_t block_size;
	uint64_t num_blocks;
	const uint8_t *uuid;           /* 16 bytes or NULL = random */
	uint32_t optimal_io_boundary;  /* blocks, 0 = none */
	bool split_on_optimal_io_boundary;
	uint32_t max_transfer_blocks;  /* 0 = unlimited */
	size_t buf_align;              /* 0/1 = any */
	bool write_cache;
	bool unmap_zeroes;
};

/**
 * Register a bdev. Any thread. On success *out is the bdev and the layer owns ctx (it
 * calls fn->destruct(ctx) when the bdev is destroyed). On error nothing is kept.
 * \return 0, -CAIRN_ERR_INVAL, -CAIRN_ERR_EXIST, -CAIRN_ERR_NOMEM.
 */
int cairn_bdev_register(const struct cairn_bdev_info *info, const struct cairn_bdev_fn_table *fn,
			const struct cairn_bdev_module *module, void *ctx,
			struct cairn_bdev **out);
/** Start deleting a bdev (see "Deletion functions" above). */
int cairn_bdev_unregister(struct cairn_bdev *bdev, cairn_bdev_cb cb, void *cb_arg);
/** Find a bdev of a given module by name (NULL if none or other module). */
struct cairn_bdev *cairn_bdev_get_by_name_module(const char *name,
						 const struct cairn_bdev_module *module);
/** The module instance pointer. */
void *cairn_bdev_get_ctx(const struct cairn_bdev *bdev);
/** Change the block count and send RESIZE to every descriptor. Any thread. */
int cairn_bdev_notify_blockcnt_change(struct cairn_bdev *bdev, uint64_t num_blocks);

/* The request a module sees. Fields are read-only for the module. */
struct cairn_bdev_io {
	struct cairn_bdev *bdev;
	enum cairn_bdev_io_type type;
	struct iovec *iov;       /* READ/WRITE: the buffers (total = num_blocks*block_size) */
	int iovcnt;
	uint64_t offset_blocks;
	uint64_t num_blocks;
	/* Module scratch: a list link and a word, free for the module while it owns io. */
	struct cairn_list module_link;
	uint64_t module_word;
};
/** Complete io (rc 0 or negative). Exactly once, on the io's xstream. */
void cairn_bdev_io_complete(struct cairn_bdev_io *io, int rc);
/** Per-I/O driver context of get_ctx_size() bytes, aligned to 16. */
void *cairn_bdev_io_driver_ctx(struct cairn_bdev_io *io);

/** Submit io to another bdev through desc/ch, for virtual bdevs (error): the child
 * request reuses io's buffers and range; cb(cb_arg, rc) follows the usual rules. */
int cairn_bdev_io_passthru(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
			   struct cairn_bdev_io *io, cairn_bdev_cb cb, void *cb_arg);

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_BDEV_BDEV_H */
