/*
 * VOS in-memory versioned indexes: the interface between the index (vos-idx, idx_*.c) and
 * the durable part of VOS (vos-dur: pool format, WAL, checkpoints, allocator).
 *
 * The index holds every piece of VOS metadata in DRAM and decides all read semantics:
 *
 *   pool index ─ container (16-byte uuid)
 *                 └ object (128-bit id)
 *                    └ dkey (bytes, 1..CAIRN_VOS_IDX_KEY_MAX)
 *                       └ akey (bytes, 1..CAIRN_VOS_IDX_KEY_MAX)
 *                          └ value: SINGLE (versions by epoch) or ARRAY (extents by epoch)
 *
 * Data bytes are not stored here except small "inline" values: a value version or extent
 * is a value record (struct cairn_vos_idx_vrec) that is either inline bytes (copied into
 * the index), a location {off, len, crc} in the pool's data area (owned by vos-dur's
 * allocator), or a HOLE (array only: the range reads as zeros).
 *
 * Ownership of locations: a successful update hands the location to the index. The index
 * hands it back exactly once, through opts.free_hook, when no retained state can see it any
 * more: same-epoch overwrite of a single value, aggregation, container destroy. A failed
 * call never takes ownership. cairn_vos_idx_destroy() (pool close) frees DRAM only and
 * calls no hook.
 *
 * Epochs and ordering. Epochs are uint64 HLC values, 1..CAIRN_VOS_EPOCH_MAX-1 for
 * mutations; reads may use CAIRN_VOS_EPOCH_MAX to mean "latest". Every mutation gets a
 * stamp {epoch, seq}; seq is a per-index counter incremented by every successful mutation,
 * so operations at the same epoch are ordered by application order (last one wins). A
 * fetch at epoch e sees, per value, the newest version (by stamp) with version.epoch <= e
 * unless a punch with punch.epoch <= e and a newer stamp covers it (punch of the object,
 * its dkey, or its akey).
 *
 * Existence (used by conditional flags, exists() and enumeration): an akey exists at e if
 * a fetch at e would return something: a single value, or at least one non-hole array
 * piece (an array whose visible records are all holes does not exist). A dkey exists if
 * one of its akeys does; an object if one of its dkeys does.
 *
 * Determinism / replay: every mutating call's result and effect depend only on the index
 * state and the arguments (no clock, no randomness, no addresses). vos-dur replays logged
 * operations by calling the same functions in log order; aggregation and container
 * destroy included (they hand back the same locations again, in the same order).
 * Checkpoints: cairn_vos_idx_walk() emits the whole index as records;
 * cairn_vos_idx_load() rebuilds an identical index (seq counter and aggregation cursor
 * included) from those records fed back in the same order.
 *
 * Aggregation: per container, with an upper bound ub: for records with epoch <= ub it keeps
 * only what is visible at each retained epoch (every snapshot epoch < ub, and ub itself),
 * drops punches that no longer hide anything and keys left empty, and frees the dropped
 * locations. Fetches at snapshot epochs and at epochs >= ub are unchanged; fetches at other
 * epochs < ub may see merged state. Once a pass with ub has started, mutations at epochs
 * <= ub and snapshots at epochs < ub are refused with -CAIRN_ERR_STALE. Work per call is
 * bounded (a budget of dkeys), with a cursor kept in the container, so foreground I/O
 * never waits long. Partially covered array extents are kept whole (no data rewrite).
 *
 * Transactions: the index has no undo. vos-dur evaluates a transaction's conditions first
 * (cairn_vos_idx_exists()), then applies its operations (which can then fail only with
 * -CAIRN_ERR_NOMEM).
 *
 * Threads: the index of one VOS pool is owned by one target xstream. Every function here
 * must be called from that xstream only; there are no locks. Hooks and visitors run
 * synchronously inside the call that invokes them and must not call back into the index.
 *
 * Data structures (see README.md "Indexes"): per level a chained hash table (exact
 * lookup) plus a skip list ordered by key bytes (enumeration, anchors, aggregation
 * cursor), single-value versions in an array sorted by stamp, array extents in an array
 * sorted by start index. Fetch paths do not allocate.
 */
#ifndef CAIRN_VOS_INDEX_H
#define CAIRN_VOS_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ limits */

/** Longest dkey or akey, in bytes (keys are 1..KEY_MAX bytes). */
#define CAIRN_VOS_IDX_KEY_MAX 4096u
/** Largest single value, array extent (count * rsize) or array record size, in bytes. */
#define CAIRN_VOS_IDX_VAL_MAX (1u << 30)
/** Largest value record the index stores inline (vos-dur picks its own threshold <= this). */
#define CAIRN_VOS_IDX_INLINE_MAX 4096u
/** Largest number of snapshots per container. */
#define CAIRN_VOS_IDX_SNAP_MAX 1024u
/** Epoch meaning "latest" for reads; mutations must use 1..CAIRN_VOS_EPOCH_MAX-1. */
#define CAIRN_VOS_EPOCH_MAX UINT64_MAX

/* ------------------------------------------------------------------------- types */

struct cairn_vos_idx;      /* one pool's index */
struct cairn_vos_idx_cont; /* one container in it; pointer valid until its destroy */

#ifndef CAIRN_VOS_OID_DEFINED
#define CAIRN_VOS_OID_DEFINED
/** 128-bit object id. Objects enumerate in (hi, lo) numeric order. */
struct cairn_vos_oid {
	uint64_t hi;
	uint64_t lo;
};
#endif

/** Mutation stamp: epoch, then application order within the index. */
struct cairn_vos_idx_stamp {
	uint64_t epoch;
	uint64_t seq;
};

enum cairn_vos_idx_rec_kind {
	CAIRN_VOS_REC_HOLE = 0,   /**< array only: reads as zeros; len must be 0 */
	CAIRN_VOS_REC_INLINE = 1, /**< bytes at inl (len <= CAIRN_VOS_IDX_INLINE_MAX) */
	CAIRN_VOS_REC_LOC = 2, /**< bytes at off in the data area; owned by vos-dur's allocator */
};

/**
 * A value record. For updates, INLINE bytes are copied; crc is stored as given (the index
 * never computes or checks it). For fetches, inl points into index memory and stays valid
 * until the next mutating call on this index.
 */
struct cairn_vos_idx_vrec {
	uint8_t kind;    /**< enum cairn_vos_idx_rec_kind */
	uint8_t rsvd[3]; /**< zero */
	uint32_t len;    /**< bytes (array: count * rsize; HOLE: 0) */
	uint32_t crc;    /**< CRC32C of the bytes, as supplied by vos-dur */
	uint32_t rsvd2;  /**< zero */
	union {
		uint64_t off;    /**< LOC: byte offset in the pool's data area */
		const void *inl; /**< INLINE: the bytes */
	};
};
_Static_assert(sizeof(struct cairn_vos_idx_vrec) == 24, "vrec layout");

/** Which key a path names (punch, exists). */
enum cairn_vos_idx_level {
	CAIRN_VOS_IDX_OBJ = 1,
	CAIRN_VOS_IDX_DKEY = 2,
	CAIRN_VOS_IDX_AKEY = 3,
};

/** Object, dkey, akey. Keys may be left NULL/0 for levels above the one used. */
struct cairn_vos_idx_path {
	struct cairn_vos_oid oid;
	const void *dkey;
	uint32_t dkey_len;
	uint32_t akey_len;
	const void *akey;
};

/** Value types of an akey (fixed by its first record; see update functions). */
enum cairn_vos_idx_vtype {
	CAIRN_VOS_IDX_SINGLE = 1,
	CAIRN_VOS_IDX_ARRAY = 2,
};

/** Conditional flags, evaluated at the operation's epoch (before it applies). */
enum cairn_vos_idx_cond {
	CAIRN_VOS_IDX_COND_DKEY_INSERT = 1u << 0, /**< dkey must not exist: else -EXIST */
	CAIRN_VOS_IDX_COND_DKEY_UPDATE = 1u << 1, /**< dkey must exist: else -NONEXIST */
	CAIRN_VOS_IDX_COND_AKEY_INSERT = 1u << 2, /**< akey must not exist: else -EXIST */
	CAIRN_VOS_IDX_COND_AKEY_UPDATE = 1u << 3, /**< akey must exist: else -NONEXIST */
	CAIRN_VOS_IDX_COND_PUNCH = 1u << 4,       /**< punched key must exist: else -NONEXIST */
};

/** One piece of an array fetch or extent enumeration. */
struct cairn_vos_idx_piece {
	uint64_t index;                /**< first record of the piece */
	uint64_t count;                /**< records in the piece */
	uint64_t epoch;                /**< epoch of the extent it comes from (0 for holes) */
	uint64_t rec_off;              /**< byte offset of the piece inside rec's bytes */
	struct cairn_vos_idx_vrec rec; /**< whole record of the extent (kind HOLE for holes) */
};

/**
 * Enumeration anchor: opaque, resumable across calls, stable under concurrent inserts
 * (resumes after the last key returned, in key order; keys inserted before it are not
 * returned, keys after it are). Initialise with cairn_vos_idx_anchor_init().
 */
struct cairn_vos_idx_anchor {
	uint32_t flags; /* internal: started, eof */
	uint32_t klen;
	uint64_t index; /* extents: next record index */
	uint8_t key[CAIRN_VOS_IDX_KEY_MAX];
};

/** Key visitor: return 0 to continue, 1 to stop after this key, <0 to abort with that rc
 *  (the key is then not consumed). For objects, key is the 16-byte big-endian (hi, lo). */
typedef int (*cairn_vos_idx_key_cb)(void *arg, const void *key, uint32_t len);
/** Extent visitor, same return convention. */
typedef int (*cairn_vos_idx_piece_cb)(void *arg, const struct cairn_vos_idx_piece *piece);

/** Called once per location the index gives back (synchronously, inside the call). */
typedef void (*cairn_vos_idx_free_hook)(void *arg, const uint8_t cont_uuid[16],
                                        const struct cairn_vos_idx_vrec *rec);

struct cairn_vos_idx_opts {
	size_t opts_size;                  /**< sizeof(struct cairn_vos_idx_opts) */
	cairn_vos_idx_free_hook free_hook; /**< required */
	void *free_arg;
};

/** Counters for tools and tests. */
struct cairn_vos_idx_stats {
	uint64_t conts, objs, dkeys, akeys;
	uint64_t versions; /**< single-value versions */
	uint64_t extents;  /**< array extents (holes included) */
	uint64_t punches;  /**< punch records at all levels */
	uint64_t inline_bytes;
	uint64_t next_seq;
};

/* ------------------------------------------------------------------- lifecycle */

/**
 * Create an empty index.
 * \return 0, -CAIRN_ERR_INVAL (bad opts), -CAIRN_ERR_NOMEM.
 */
int cairn_vos_idx_create(const struct cairn_vos_idx_opts *opts, struct cairn_vos_idx **idxp);
/** Free all DRAM (no hook calls). NULL is fine. */
void cairn_vos_idx_destroy(struct cairn_vos_idx *idx);
void cairn_vos_idx_stats(const struct cairn_vos_idx *idx, struct cairn_vos_idx_stats *st);

/** \return 0, -CAIRN_ERR_EXIST, -CAIRN_ERR_NOMEM. */
int cairn_vos_idx_cont_create(struct cairn_vos_idx *idx, const uint8_t uuid[16],
                              struct cairn_vos_idx_cont **contp);
/** \return 0 or -CAIRN_ERR_NONEXIST. */
int cairn_vos_idx_cont_lookup(struct cairn_vos_idx *idx, const uint8_t uuid[16],
                              struct cairn_vos_idx_cont **contp);
/** Destroy a container, handing every location it holds to the free hook (key order).
 *  \return 0 or -CAIRN_ERR_NONEXIST. */
int cairn_vos_idx_cont_destroy(struct cairn_vos_idx *idx, const uint8_t uuid[16]);
/** uuid of a container (16 bytes, owned by the index). */
const uint8_t *cairn_vos_idx_cont_uuid(const struct cairn_vos_idx_cont *cont);

/* --------------------------------------------------------------------- updates */

/**
 * Add a single-value version at epoch. A version at the same epoch is replaced (its
 * location goes to the free hook). rec kind must be INLINE or LOC.
 * \return 0; -CAIRN_ERR_INVAL (bad key/epoch/rec, akey is an array); -CAIRN_ERR_OVERFLOW
 *   (len > VAL_MAX); -CAIRN_ERR_EXIST / -CAIRN_ERR_NONEXIST (conditions);
 *   -CAIRN_ERR_STALE (epoch <= aggregation bound); -CAIRN_ERR_NOMEM. Nothing changes on error.
 */
int cairn_vos_idx_sv_update(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                            uint64_t epoch, uint32_t cond, const struct cairn_vos_idx_vrec *rec);

/**
 * Write records [index, index+count) of an array akey at epoch. rsize is the record size
 * in bytes, fixed per akey while it has records (a different rsize -> -CAIRN_ERR_INVAL).
 * rec: INLINE or LOC with len == count * rsize, or HOLE (len 0) to remove the range.
 * \return as cairn_vos_idx_sv_update(); -CAIRN_ERR_OVERFLOW if index + count overflows
 *   64 bits or count * rsize > VAL_MAX; -CAIRN_ERR_INVAL for count 0, rsize 0, or a single-
 *   value akey.
 */
int cairn_vos_idx_array_update(struct cairn_vos_idx_cont *cont,
                               const struct cairn_vos_idx_path *path, uint64_t epoch, uint32_t cond,
                               uint32_t rsize, uint64_t index, uint64_t count,
                               const struct cairn_vos_idx_vrec *rec);

/**
 * Punch (tombstone) the object, dkey or akey named by path at epoch: everything under it
 * with an older stamp reads as absent at epochs >= epoch. Punching a key that was never
 * written succeeds (unless COND_PUNCH) and is recorded, so an update at an older epoch
 * that arrives later stays hidden from epoch on.
 * \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NONEXIST (COND_PUNCH); -CAIRN_ERR_STALE;
 *   -CAIRN_ERR_NOMEM.
 */
int cairn_vos_idx_punch(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                        enum cairn_vos_idx_level level, uint64_t epoch, uint32_t cond);

/* ----------------------------------------------------------------------- reads */

/**
 * Fetch the single value visible at epoch.
 * \param[out] rec the record (inline bytes point into the index).
 * \param[out] ver_epoch epoch of the version returned (may be NULL).
 * \return 0; -CAIRN_ERR_NONEXIST (no visible value); -CAIRN_ERR_INVAL (bad key, array akey).
 */
int cairn_vos_idx_sv_fetch(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                           uint64_t epoch, struct cairn_vos_idx_vrec *rec, uint64_t *ver_epoch);

/**
 * Fetch records [index, index+count) of an array at epoch: pieces in index order covering
 * the whole range, holes (never written, removed or punched) as kind HOLE.
 * \param[out] pieces up to max pieces. \param[out] nr pieces written (or needed, on TRUNC).
 * \param[out] rsize the akey's record size (may be NULL).
 * \return 0; -CAIRN_ERR_NONEXIST (akey does not exist at epoch); -CAIRN_ERR_TRUNC (more than
 *   max pieces; *nr says how many); -CAIRN_ERR_INVAL; -CAIRN_ERR_OVERFLOW.
 */
int cairn_vos_idx_array_fetch(struct cairn_vos_idx_cont *cont,
                              const struct cairn_vos_idx_path *path, uint64_t epoch, uint64_t index,
                              uint64_t count, struct cairn_vos_idx_piece *pieces, uint32_t max,
                              uint32_t *nr, uint32_t *rsize);

/**
 * Does the key at level exist at epoch (see "Existence" above)?
 * \return 1 yes, 0 no, -CAIRN_ERR_INVAL.
 */
int cairn_vos_idx_exists(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                         enum cairn_vos_idx_level level, uint64_t epoch);

/**
 * Type and record size of an akey (whatever epoch).
 * \return 0; -CAIRN_ERR_NONEXIST; -CAIRN_ERR_INVAL.
 */
int cairn_vos_idx_akey_type(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                            enum cairn_vos_idx_vtype *type, uint32_t *rsize);

/* ----------------------------------------------------------------- enumeration */

void cairn_vos_idx_anchor_init(struct cairn_vos_idx_anchor *anchor);
bool cairn_vos_idx_anchor_is_eof(const struct cairn_vos_idx_anchor *anchor);

/**
 * Visit objects / dkeys of path->oid / akeys of path->dkey existing at epoch, in key order,
 * starting after the anchor; the anchor is updated after each consumed key and marked EOF
 * at the end. \return 0 (stopped or EOF), a visitor's negative rc, -CAIRN_ERR_INVAL.
 */
int cairn_vos_idx_list_objs(struct cairn_vos_idx_cont *cont, uint64_t epoch,
                            struct cairn_vos_idx_anchor *anchor, cairn_vos_idx_key_cb cb,
                            void *arg);
int cairn_vos_idx_list_dkeys(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                             uint64_t epoch, struct cairn_vos_idx_anchor *anchor,
                             cairn_vos_idx_key_cb cb, void *arg);
int cairn_vos_idx_list_akeys(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                             uint64_t epoch, struct cairn_vos_idx_anchor *anchor,
                             cairn_vos_idx_key_cb cb, void *arg);
/**
 * Visit the visible, non-hole pieces of an array akey at epoch in index order, starting at
 * the anchor's index. \return as above; -CAIRN_ERR_INVAL for a single-value akey.
 */
int cairn_vos_idx_list_extents(struct cairn_vos_idx_cont *cont,
                               const struct cairn_vos_idx_path *path, uint64_t epoch,
                               struct cairn_vos_idx_anchor *anchor, cairn_vos_idx_piece_cb cb,
                               void *arg);

/** Object id <-> the 16-byte key used by list_objs (big-endian hi then lo). */
void cairn_vos_oid_encode(const struct cairn_vos_oid *oid, uint8_t out[16]);
void cairn_vos_oid_decode(const uint8_t in[16], struct cairn_vos_oid *oid);

/* ------------------------------------------------------- snapshots, aggregation */

/** \return 0; -CAIRN_ERR_EXIST; -CAIRN_ERR_INVAL (epoch 0/MAX); -CAIRN_ERR_STALE (epoch <
 *  aggregation bound); -CAIRN_ERR_OVERFLOW (SNAP_MAX snapshots); -CAIRN_ERR_NOMEM. */
int cairn_vos_idx_snap_create(struct cairn_vos_idx_cont *cont, uint64_t epoch);
/** \return 0 or -CAIRN_ERR_NONEXIST. */
int cairn_vos_idx_snap_destroy(struct cairn_vos_idx_cont *cont, uint64_t epoch);
/** Sorted ascending. \return 0 or -CAIRN_ERR_TRUNC (*nr = how many exist). */
int cairn_vos_idx_snap_list(struct cairn_vos_idx_cont *cont, uint64_t *epochs, uint32_t max,
                            uint32_t *nr);

/**
 * Run a bounded step of aggregation with upper bound ub (1..EPOCH_MAX-1). The first call
 * starts a pass; later calls with the same ub continue it; a call with a larger ub restarts
 * the pass from the beginning. budget: dkeys to process in this call (>= 1).
 * \param[out] done true when the pass has covered the whole container.
 * \return 0; -CAIRN_ERR_INVAL (bad ub/budget); -CAIRN_ERR_STALE (ub below the current bound);
 *   -CAIRN_ERR_NOMEM (the index stays consistent; call again).
 */
int cairn_vos_idx_aggregate(struct cairn_vos_idx_cont *cont, uint64_t ub, uint32_t budget,
                            bool *done);
/** Current aggregation bound of a container (0: never aggregated). */
uint64_t cairn_vos_idx_agg_bound(const struct cairn_vos_idx_cont *cont);

/* ------------------------------------------------------------------ checkpoint */

enum cairn_vos_idx_rec_type {
	CAIRN_VOS_IDX_R_IDX = 1,  /**< first: next_seq */
	CAIRN_VOS_IDX_R_CONT = 2, /**< uuid, snapshots, aggregation state */
	CAIRN_VOS_IDX_R_OBJ = 3,  /**< oid, punches */
	CAIRN_VOS_IDX_R_DKEY = 4, /**< key, punches */
	CAIRN_VOS_IDX_R_AKEY = 5, /**< key, vtype, rsize, punches */
	CAIRN_VOS_IDX_R_SV = 6,   /**< stamp, vrec: a version of the last akey */
	CAIRN_VOS_IDX_R_EXT = 7,  /**< stamp, index, count, vrec: an extent of the last akey */
};

/**
 * One checkpoint record. All pointers point into index memory (walk) or caller memory
 * (load) and are valid only during the call. Records come in depth-first key order:
 * IDX, then per container CONT, per object OBJ, per dkey DKEY, per akey AKEY followed by
 * its SV (stamp order) or EXT (index order) records.
 */
struct cairn_vos_idx_rec {
	uint32_t type; /**< enum cairn_vos_idx_rec_type */
	uint32_t nr;   /**< number of entries at punches (OBJ/DKEY/AKEY) or snaps (CONT) */
	const struct cairn_vos_idx_stamp *punches;
	const uint64_t *snaps;
	const void *key; /**< DKEY/AKEY key; CONT uuid (16); OBJ encoded oid (16) */
	uint32_t klen;
	uint32_t vtype; /**< AKEY: enum cairn_vos_idx_vtype */
	uint32_t rsize; /**< AKEY: array record size (0 for single values) */
	uint32_t rsvd;
	uint64_t next_seq; /**< IDX */
	/* CONT: aggregation state. agg_ub: bound (0 none); agg_active: a pass is running, and
	 * its cursor is (cursor_oid, cursor_dkey) = last dkey finished (cursor_klen 0: at
	 * the start of cursor_oid's dkeys; cursor_oid_valid 0: at the very start). vos-dur
	 * stores these fields as they are and hands them back on load. */
	uint64_t agg_ub;
	uint32_t agg_active;
	uint32_t cursor_oid_valid;
	uint8_t cursor_oid[16];
	const void *cursor_dkey;
	uint32_t cursor_klen;
	struct cairn_vos_idx_stamp stamp; /**< SV/EXT */
	uint64_t index, count;            /**< EXT */
	struct cairn_vos_idx_vrec vrec;   /**< SV/EXT */
};

/**
 * Emit the whole index as records. Stops at the first non-zero visitor rc and returns it.
 * \return 0 or the visitor's rc.
 */
int cairn_vos_idx_walk(struct cairn_vos_idx *idx,
                       int (*cb)(void *arg, const struct cairn_vos_idx_rec *rec), void *arg);

typedef int (*cairn_vos_idx_walk_cb)(void *arg, const struct cairn_vos_idx_rec *rec);

/**
 * Incremental walk (cooperative checkpoints): the records of cairn_vos_idx_walk(), a
 * bounded number of dkeys per step, so the owner can yield between steps while the index
 * keeps changing. create() emits the IDX record (the cut's next_seq). Before the walker
 * emits an object's OBJ record or a dkey's subtree (DKEY, AKEYs, values) it asks
 * hook(arg, cont, level, oid key, dkey, dkey_len): 0 = emit the live entry; 1 = skip it
 * (the hook emitted a pre-image itself, or nothing for a key newer than the cut); < 0 =
 * stop with that error. The caller keeps the cut consistent: before changing an object or
 * dkey for which walker_passed() is false it saves its pre-image (walk_one()), and it
 * holds back container create/destroy, snapshots and aggregation while a walker exists
 * (they would move or free entries the walker points at).
 */
struct cairn_vos_idx_walker;
typedef int (*cairn_vos_idx_walk_hook)(void *arg, struct cairn_vos_idx_cont *cont,
                                       uint32_t level, const uint8_t oid_key[16],
                                       const void *dkey, uint32_t dkey_len);

/** \return 0; -CAIRN_ERR_INVAL; -CAIRN_ERR_NOMEM; or the visitor's rc. */
int cairn_vos_idx_walker_create(struct cairn_vos_idx *idx, cairn_vos_idx_walk_cb cb,
                                cairn_vos_idx_walk_hook hook, void *arg,
                                struct cairn_vos_idx_walker **wp);
/** Process up to budget dkeys. *done once everything was emitted. \return 0 or the
 *  visitor's / hook's error (the walker must then be destroyed). */
int cairn_vos_idx_walker_step(struct cairn_vos_idx_walker *w, uint32_t budget, bool *done);
void cairn_vos_idx_walker_destroy(struct cairn_vos_idx_walker *w);
/** Has the walker already processed the OBJ record (level OBJ) or the dkey (level DKEY or
 *  AKEY) of path in cont? Then later changes to it are not part of the walk. */
bool cairn_vos_idx_walker_passed(const struct cairn_vos_idx_walker *w,
                                 const struct cairn_vos_idx_cont *cont,
                                 const struct cairn_vos_idx_path *path,
                                 enum cairn_vos_idx_level level);
/** Emit the records the walk would emit for one object's OBJ record (level OBJ) or one
 *  dkey's subtree (level DKEY). \return 0; -CAIRN_ERR_NONEXIST; -CAIRN_ERR_INVAL; or the
 *  visitor's rc. */
int cairn_vos_idx_walk_one(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                           enum cairn_vos_idx_level level, cairn_vos_idx_walk_cb cb, void *arg);

/**
 * Rebuild: feed the records of one walk, in order, into a freshly created index. Every
 * record is validated (order, sizes, sorting, limits).
 * \return 0; -CAIRN_ERR_CORRUPT (bad record or order: the index must then be destroyed);
 *   -CAIRN_ERR_NOMEM.
 */
int cairn_vos_idx_load(struct cairn_vos_idx *idx, const struct cairn_vos_idx_rec *rec);

/**
 * Visit every location the index references (allocator rebuild at open).
 * \return 0 or the visitor's rc.
 */
int cairn_vos_idx_for_each_loc(struct cairn_vos_idx *idx,
                               int (*cb)(void *arg, const uint8_t cont_uuid[16],
                                         const struct cairn_vos_idx_vrec *rec),
                               void *arg);

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_VOS_INDEX_H */
