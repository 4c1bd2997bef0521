/*
 * VOS durability layer, private to src/vos: the pool object, the WAL with group commit,
 * checkpoints and the glue to the in-memory index (vos_index.h, owned by vos-idx).
 *
 * Threads: a pool belongs to the xstream that opened it; every function here runs in a
 * ULT on that xstream (the I/O parks the ULT). No locks: ULTs of one xstream are
 * cooperative, so state only changes at yield points (the I/O calls).
 */
#ifndef CAIRN_VOS_INTERNAL_H
#define CAIRN_VOS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/list.h"
#include "vos_alloc.h"
#include "vos_cache.h"
#include "vos_codec.h"
#include "vos_index.h"
#include "vos_layout.h"

struct cairn_bdev_desc;
struct cairn_bdev_channel;
struct cairn_ult;
struct cairn_xstream;

/* Largest frame (one group commit) we build: bounds memory and the size of one write. */
#define VOS_WAL_FRAME_MAX (1u << 20)
/* Default DRAM cache of data extents per pool (cairn_vos_pool_set_cache changes it). */
#define VOS_CACHE_DEFAULT (128ull << 20)
/* Before sealing a frame, the committer waits up to this long for ULTs that are still
 * writing their data extents, so they join this frame instead of the next one. */
#define VOS_GC_LINGER_US 300
/* ...but not for data writes averaging more than this: a 1 MiB write takes longer than
 * the flush the wait would save (the frame goes now, they ride the next one). */
#define VOS_GC_LINGER_MAX_AVG_BYTES (128u << 10)
/* Start a checkpoint once the WAL written since the newest checkpoint exceeds
 * wal_size / VOS_CKPT_TRIGGER_DIV. */
#define VOS_CKPT_TRIGGER_DIV 4

/* One transaction waiting for its group commit. The record bytes (one WAL record, whose
 * body may hold several ops) stay owned by the caller until done. */
struct vos_commit {
	struct cairn_list link;
	uint16_t type;      /* enum vos_wal_rec_type */
	const void *body;
	uint32_t len;
	struct cairn_ult *waiter;
	bool done;
	int rc;             /* WAL write result; then the apply result */
	bool wal_failed;    /* rc comes from a failed frame write/flush */
	bool leader;        /* handed the committer role while queued */
	void *apply_arg;    /* handed to vos_rec_apply() (results for the caller) */
};

struct vos_pool_stats {
	uint64_t frames;      /* WAL frames written */
	uint64_t records;     /* records committed */
	uint64_t wal_bytes;   /* bytes of WAL written (whole blocks) */
	uint64_t checkpoints;
	uint64_t replayed;    /* records replayed at the last open */
	uint64_t data_bytes;  /* bytes of data extents written */
};

/* WAL record types (struct vos_wal_rec_df.type). Bodies are encoded by vos_glue.c. */
enum vos_wal_rec_type {
	VOS_REC_CONT_CREATE = 1,  /* uuid */
	VOS_REC_CONT_DESTROY = 2, /* uuid */
	VOS_REC_TX = 3,           /* uuid, epoch, ops: updates and punches, atomic */
	VOS_REC_SNAP_CREATE = 4,  /* uuid, epoch */
	VOS_REC_SNAP_DESTROY = 5, /* uuid, epoch */
	VOS_REC_AGGREGATE = 6,    /* uuid, ub, budget */
};

/* One operation of a VOS_REC_TX record (decoded form; pointers into the body or into
 * the caller's buffers when encoding). */
enum vos_op_kind {
	VOS_OP_SV = 1,
	VOS_OP_ARRAY = 2,
	VOS_OP_PUNCH = 3,
};

struct vos_op {
	uint8_t kind;                      /* enum vos_op_kind */
	uint8_t level;                     /* PUNCH: enum cairn_vos_idx_level */
	uint32_t cond;                     /* enum cairn_vos_idx_cond flags */
	struct cairn_vos_idx_path path;
	uint32_t rsize;                    /* ARRAY */
	uint64_t index, count;             /* ARRAY */
	struct cairn_vos_idx_vrec rec;     /* SV / ARRAY */
};

/* Encode a transaction header then its ops (vos_glue.c). */
void vos_tx_encode_hdr(struct vos_wbuf *w, const uint8_t cont[16], uint64_t epoch,
		       uint32_t nops);
void vos_tx_encode_op(struct vos_wbuf *w, const struct vos_op *op);
/* Patch the op count of an encoded transaction. */
void vos_tx_set_nops(struct vos_wbuf *w, uint32_t nops);

struct vos_pool {
	struct cairn_bdev_desc *desc;
	struct cairn_bdev_channel *ch;
	struct cairn_xstream *xs;     /* owning xstream */
	char bdev_name[64];
	uint32_t dev_blk;             /* bdev block size (divides VOS_BLK) */
	uint64_t dev_size;            /* bytes */
	struct vos_sb_df sb;

	/* WAL: positions are logical byte offsets (lsn) that only grow; the physical
	 * position is lsn % wal_size, frames never straddle the end (a skip is counted). */
	uint64_t wal_seq;             /* next frame sequence */
	uint64_t wal_tail;            /* lsn where the next frame goes */
	uint64_t wal_head;            /* lsn of the oldest frame still needed */
	uint64_t wal_ckpt_lsn;        /* lsn of the newest checkpoint */
	void *wal_buf;                /* VOS_WAL_FRAME_MAX + header, block aligned */
	struct cairn_list pending;    /* struct vos_commit waiting for a frame */
	bool committing;              /* a ULT is writing frames */
	uint32_t busy;                /* API calls in progress (close waits for them) */
	uint32_t preparing;           /* ULTs writing data extents, about to commit */
	uint64_t preparing_bytes;     /* bytes those ULTs are writing */
	int failed;                   /* sticky error after a failed WAL write or apply:
				       * the pool refuses further mutations until reopened
				       * (recovery then decides what the disk holds) */

	/* Checkpoints. */
	uint64_t ckpt_gen[2];         /* generation in each slot (0 = none valid) */
	uint64_t ckpt_lsn[2];
	uint64_t ckpt_seq[2];
	bool ckpt_running;
	struct vos_ckpt_walk *ckpt_walk; /* a cooperative checkpoint walk in progress */
	uint64_t ckpt_walk_steps;     /* steps of the last walk (tests, logs) */
	bool ckpt_request;            /* cairn_vos_pool_checkpoint_start(): the committer
				       * starts one after its current frame ... */
	int ckpt_request_rc;          /* ... and leaves the result here */
	bool ckpt_whole;              /* env CAIRN_VOS_CKPT_WHOLE=1: background checkpoints
				       * serialise the whole index at the cut, in one go (the
				       * pre-cooperative behaviour; for comparisons) */

	/* Background aggregation (cairn_vos_aggregate_start). */
	bool agg_running, agg_stop;
	int agg_rc;
	uint8_t agg_cont[16];
	uint64_t agg_ub;

	struct vos_alloc alloc;
	struct vos_cache cache;
	struct cairn_vos_idx *idx;
	struct vos_pool_stats stats;
	bool replaying;
};

/* The public handle is the pool itself. */
struct cairn_vos_pool {
	struct vos_pool p;
};

/* Stop a background aggregation pass and wait for its ULT (close). */
void vos_agg_stop(struct vos_pool *p);

/* Tests: drop the pool as a crash would (no drain, no checkpoint, nothing written). */
void vos_pool_crash(struct cairn_vos_pool *pool);

/* Log one record and apply it (container, snapshot, aggregation records). */
int vos_pool_log(struct vos_pool *p, uint16_t type, const void *body, uint32_t len, void *arg);

/* ------------------------------------------------------------------ device I/O */

/* Byte-addressed sync I/O (off and len multiples of VOS_BLK; buf any alignment). */
int vos_dev_read(struct vos_pool *p, uint64_t off, void *buf, uint64_t len);
int vos_dev_write(struct vos_pool *p, uint64_t off, const void *buf, uint64_t len);
int vos_dev_flush(struct vos_pool *p);
void *vos_buf_alloc(uint64_t len);   /* block aligned, len rounded up; NULL on ENOMEM */
void vos_buf_free(void *buf);
/* Shareable buffers (vos_buf.c): take a reference to data if it is the start of a buffer
 * from cairn_vos_buf_alloc() holding at least len bytes (false: not one, copy instead);
 * vos_buf_unref() drops it. */
bool vos_buf_ref(const void *data, uint64_t len);
void vos_buf_unref(const void *data);

/* ------------------------------------------------------------------ WAL */

/* Queue c and return once its frame is durable and the record applied (c->rc). */
int vos_wal_commit(struct vos_pool *p, struct vos_commit *c);
/* Replay frames from the newest checkpoint's position until the first invalid one;
 * leaves wal_seq/wal_tail after the last valid frame. */
int vos_wal_replay(struct vos_pool *p, uint64_t seq, uint64_t lsn);
/* Wait until no frame is being written (close). */
void vos_wal_drain(struct vos_pool *p);
/* Checkpoint now, between frames (API, close). */
int vos_wal_checkpoint(struct vos_pool *p);
/* Start a cooperative checkpoint between frames (API); -CAIRN_ERR_BUSY if one runs. */
int vos_wal_checkpoint_start(struct vos_pool *p);

/* ------------------------------------------------------------------ checkpoints */

/* Write a checkpoint of the current index into the older slot. Call only when every
 * committed frame has been applied and none is in flight (the committer, or after a
 * drain). -CAIRN_ERR_BUSY if one is being written. */
int vos_ckpt_write(struct vos_pool *p);
/* Same cut, but written by a new ULT; returns once the cut is taken. */
int vos_ckpt_start(struct vos_pool *p);
/* Wait until no checkpoint is being written. */
void vos_ckpt_wait(struct vos_pool *p);
/* Cooperative checkpoints (vos_glue.c): the walk of the index at the cut, a bounded
 * number of dkeys per step; the pre-images of what changes meanwhile keep it exact. */
struct vos_ckpt_walk;
int vos_ckpt_walk_start(struct vos_pool *p, struct vos_ckpt_walk **wp);
int vos_ckpt_walk_step(struct vos_ckpt_walk *w, uint32_t budget, bool *done);
/* Hand over the payload (malloc'd); nstash: pre-images that were needed. */
void vos_ckpt_walk_take(struct vos_ckpt_walk *w, void **buf, uint64_t *len, uint32_t *nstash);
void vos_ckpt_walk_free(struct vos_ckpt_walk *w);
/* End the running walk with rc (no-op without one). */
void vos_ckpt_walk_abort(struct vos_pool *p, int rc);
/* Before a record changes path (at level OBJ: only the object record; else the dkey). */
void vos_ckpt_before_change(struct vos_pool *p, struct cairn_vos_idx_cont *cont,
			    const struct cairn_vos_idx_path *path, enum cairn_vos_idx_level level);
/* Wait while a walk runs (records that free index entries call this first). */
void vos_ckpt_hold(struct vos_pool *p);

/* At open: pick the newest valid checkpoint, load it into the index. Sets ckpt_* and
 * returns the replay start through seq/lsn. */
int vos_ckpt_load(struct vos_pool *p, uint64_t *seq, uint64_t *lsn);
/* At format: write an empty checkpoint (gen 1) into slot 0 and invalidate slot 1. */
int vos_ckpt_format(struct vos_pool *p);

/* ------------------------------------------------------------------ index glue */

/* Apply one committed WAL record to the index (and free the space the index releases).
 * Called by the committer (arg from the vos_commit) and by recovery (arg NULL). *op_rc is
 * the op's own result (a failed conditional op is a result, deterministic on replay);
 * the return value is non-zero only when the record cannot be applied at all (malformed
 * body, no memory): the pool is then inconsistent. */
int vos_rec_apply(struct vos_pool *p, uint16_t type, const void *body, uint32_t len,
		  void *arg, int *op_rc);
/* Check the CRC of every data extent a record references: 0, -CAIRN_ERR_CSUM, or an I/O
 * error. Record bodies are trusted to parse (their frame CRC matched). */
int vos_rec_check_data(struct vos_pool *p, uint16_t type, const void *body, uint32_t len);
/* Serialise the whole index into a new malloc'd buffer. */
int vos_idx_serialize(struct vos_pool *p, void **buf, uint64_t *len);
/* Replace the index by the one in buf (an empty index for len 0). */
int vos_idx_load(struct vos_pool *p, const void *buf, uint64_t len);
/* Rebuild the allocator from every extent the index references. */
int vos_idx_rebuild_alloc(struct vos_pool *p);
/* Create the pool's empty index (format, open). */
int vos_idx_init(struct vos_pool *p);
void vos_idx_free(struct vos_pool *p);
/* Give a data extent back to the allocator (op failed, tx aborted, index free hook). */
void vos_loc_free(struct vos_pool *p, uint64_t off, uint32_t len);

#endif /* CAIRN_VOS_INTERNAL_H */
