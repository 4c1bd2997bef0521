/*
 * Pool map and object placement, shared by the client library and the engine.
 *
 * The pool map lists ranks (engines) with their fault domain, and each rank's targets
 * with a state. Targets have dense global ids 0..n-1 in the order they were added;
 * targets are only ever appended, so ids never change. Every change bumps the map
 * version; a layout remembers the version it was computed at, so a stale client is
 * detected (-CAIRN_ERR_STALE) and refreshes its map.
 *
 * Placement: the targets that are not NEW form the buckets of a jump consistent hash.
 * Shard s of object o has a chain of candidates: its home jump(hash(o, s), nbuckets),
 * rehashes jump(hash(o, s, attempt), nbuckets), then a linear scan from home. First,
 * ignoring target states, each shard in order claims the first candidate not claimed
 * by another shard (and, replicated classes, on a rank not claimed in its group).
 * Shards whose claim is UP go there; the others walk their chain again for an UP
 * target nobody holds, or become CAIRN_PL_TGT_NONE (the layout is degraded). So a
 * failure moves only the shards on the failed target (and, after earlier failures,
 * possibly shards those displaced), and adding targets
 * (NEW -> UP) moves only what lands on the new buckets (jump hash property).
 *
 * Threads: a map is guarded by a reader/writer lock: any thread may compute layouts
 * while another applies changes.
 */
#ifndef CAIRN_PLACEMENT_PLACEMENT_H
#define CAIRN_PLACEMENT_PLACEMENT_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/placement.h"
#include "cairn/types.h"

/** Target states (values are stable: they travel in pool map messages). */
enum cairn_tgt_state {
	CAIRN_TGT_UP = 0,      /**< serving */
	CAIRN_TGT_DOWN = 1,    /**< failed; its shards are being rebuilt elsewhere */
	CAIRN_TGT_DOWNOUT = 2, /**< failed, rebuild done; excluded */
	CAIRN_TGT_NEW = 3,     /**< added, not yet part of placement */
	CAIRN_TGT_STATE_MAX
};

#define CAIRN_PL_TGT_NONE UINT32_MAX
#define CAIRN_PMAP_MAX_TARGETS (1u << 20)
#define CAIRN_PMAP_MAX_TGTS_PER_RANK 1024u

/** One target as seen by callers. */
struct cairn_pmap_target {
	uint32_t id;     /* global target id */
	uint32_t rank;   /* engine rank */
	uint32_t index;  /* target index within its rank (the engine's xstream) */
	uint32_t domain; /* fault domain id of its rank */
	enum cairn_tgt_state state;
};

struct cairn_pool_map;

/**
 * Create an empty map.
 * \param[in]  version initial version (>= 1)
 * \param[out] out     the map
 * \return 0, -CAIRN_ERR_INVAL or -CAIRN_ERR_NOMEM
 */
int cairn_pmap_create(uint32_t version, struct cairn_pool_map **out);

/** Free a map (NULL is a no-op). */
void cairn_pmap_destroy(struct cairn_pool_map *map);

/**
 * Add a rank with `ntgts` targets in state `state` (UP when building the initial map,
 * NEW when extending a live pool, DOWN when rebuilding a map from a stored description
 * in which the rank is down). Bumps the version unless `bump` is false (used while
 * building a map).
 * \return 0; -CAIRN_ERR_INVAL (ntgts 0 or above CAIRN_PMAP_MAX_TGTS_PER_RANK, state not
 *         UP/NEW, or DOWN with bump); -CAIRN_ERR_EXIST (rank present);
 *         -CAIRN_ERR_OVERFLOW (too many targets); -CAIRN_ERR_NOMEM
 */
int cairn_pmap_add_rank(struct cairn_pool_map *map, uint32_t rank, uint32_t domain,
			uint32_t ntgts, enum cairn_tgt_state state, bool bump);

/**
 * Change a target's state; bumps the version. Allowed: UP->DOWN, DOWN->DOWNOUT,
 * DOWN/DOWNOUT->UP (reintegration), NEW->UP. A no-op change is refused.
 * \return 0; -CAIRN_ERR_NONEXIST (no such target); -CAIRN_ERR_INVAL (transition not
 *         allowed, unknown state)
 */
int cairn_pmap_set_target_state(struct cairn_pool_map *map, uint32_t tgt_id,
				enum cairn_tgt_state state);

/**
 * Map flag: the system has no rebuild, so a shard of a class without replicas (grp_size
 * 1: S1..S8, SX) whose target is DOWN is not moved to a spare (its data is not there):
 * the layout marks it CAIRN_PL_TGT_NONE (degraded) and I/O to it fails with
 * -CAIRN_ERR_UNREACH until the target is UP again. DOWNOUT targets (rebuild done) are
 * still replaced. Replicated classes are unaffected. Travels in the wire form.
 */
#define CAIRN_PMAP_F_NO_REBUILD 0x1u
#define CAIRN_PMAP_F_ALL CAIRN_PMAP_F_NO_REBUILD

/**
 * Set the map's flags (CAIRN_PMAP_F_*); does not change the version (set them when
 * building the map).
 * \return 0 or -CAIRN_ERR_INVAL (unknown flag)
 */
int cairn_pmap_set_flags(struct cairn_pool_map *map, uint32_t flags);

/** The map's flags (CAIRN_PMAP_F_*). */
uint32_t cairn_pmap_flags(struct cairn_pool_map *map);

/** Current version. */
uint32_t cairn_pmap_version(struct cairn_pool_map *map);

/** Number of targets (all states). */
uint32_t cairn_pmap_target_count(struct cairn_pool_map *map);

/** Number of ranks. */
uint32_t cairn_pmap_rank_count(struct cairn_pool_map *map);

/**
 * Look a target up by global id.
 * \return 0 or -CAIRN_ERR_NONEXIST
 */
int cairn_pmap_target(struct cairn_pool_map *map, uint32_t tgt_id, struct cairn_pmap_target *out);

/**
 * Check a version presented by a peer against the map.
 * \return 0 (same); -CAIRN_ERR_STALE (the peer's version is older: it must refresh);
 *         -CAIRN_ERR_VERSION (the peer's is newer: this map must be refreshed)
 */
int cairn_pmap_check_version(struct cairn_pool_map *map, uint32_t version);

/*
 * Wire form of a pool map (what the pool service sends a client that must refresh),
 * little-endian, CRC32C-protected; see src/placement/README.md for the layout.
 */
#define CAIRN_PMAP_WIRE_MAGIC 0x4d505243u /* "CRPM" */
#define CAIRN_PMAP_WIRE_VERSION 1u
#define CAIRN_PMAP_WIRE_HDR_SIZE 28u

/**
 * Bytes cairn_pmap_encode() needs for this map.
 */
size_t cairn_pmap_encoded_size(struct cairn_pool_map *map);

/**
 * Serialise a map.
 * \param[out] buf  destination
 * \param[in]  len  its size
 * \param[out] used bytes written
 * \return 0; -CAIRN_ERR_TRUNC (len < cairn_pmap_encoded_size()); -CAIRN_ERR_INVAL
 */
int cairn_pmap_encode(struct cairn_pool_map *map, void *buf, size_t len, size_t *used);

/**
 * Build a map from its wire form, validating everything (sizes, limits, CRC, unique
 * ranks, states, placement buckets consistent with the states).
 * \param[out] out the new map (free with cairn_pmap_destroy())
 * \return 0; -CAIRN_ERR_PROTO (malformed or inconsistent); -CAIRN_ERR_CSUM (corrupt);
 *         -CAIRN_ERR_VERSION (newer format); -CAIRN_ERR_INVAL (NULL); -CAIRN_ERR_NOMEM
 */
int cairn_pmap_decode(const void *buf, size_t len, struct cairn_pool_map **out);

/** Object layout: shard i is stored on target shards[i] (or CAIRN_PL_TGT_NONE). */
struct cairn_pl_layout {
	uint32_t map_version; /* version of the map it was computed from */
	uint32_t oclass;      /* enum cairn_oclass */
	uint32_t grp_nr;      /* dkey groups */
	uint32_t grp_size;    /* shards per group (replicas) */
	uint32_t nr_degraded; /* shards without a target */
	uint32_t nr;          /* grp_nr * grp_size */
	uint32_t *shards;     /* [nr] target ids, group-major */
};

/**
 * Compute an object's layout.
 * \param[in]  map    the pool map
 * \param[in]  oid    the object (its class is taken from the id)
 * \param[out] layout filled; free with cairn_pl_layout_fini()
 * \return 0 (possibly degraded: see nr_degraded); -CAIRN_ERR_INVAL (no or unknown class,
 *         NULL arguments, map without targets, class wider than the pool: S8 on 4
 *         targets, RP_3G1 on 2 ranks); -CAIRN_ERR_NOMEM
 */
int cairn_pl_obj_layout(struct cairn_pool_map *map, struct cairn_obj_id oid,
			struct cairn_pl_layout *layout);

/** Free a layout's shard array (safe on a zeroed or already finalised layout). */
void cairn_pl_layout_fini(struct cairn_pl_layout *layout);

/**
 * Which group of a layout holds a dkey: jump(dkey_hash, grp_nr).
 * \return the group index (0..grp_nr-1); its shards are
 *         shards[grp * grp_size .. grp * grp_size + grp_size - 1]
 */
uint32_t cairn_pl_dkey_group(const struct cairn_pl_layout *layout, uint64_t dkey_hash);

/**
 * Target of a dkey's first shard (the group leader): convenience for S classes.
 * \param[out] tgt target id (CAIRN_PL_TGT_NONE when degraded)
 * \return 0; -CAIRN_ERR_STALE (layout computed from an older map than `map`: recompute)
 */
int cairn_pl_dkey_target(struct cairn_pool_map *map, const struct cairn_pl_layout *layout,
			 uint64_t dkey_hash, uint32_t *tgt);

/**
 * Jump consistent hash (Lamping & Veach): maps key to a bucket in [0, nbuckets) so that
 * growing nbuckets by one moves only 1/(nbuckets+1) of the keys, all to the new bucket.
 * \return the bucket; 0 when nbuckets is 0.
 */
uint32_t cairn_jump_hash(uint64_t key, uint32_t nbuckets);

/** Hash of an object id (both halves), the seed of its placement. */
uint64_t cairn_pl_oid_hash(struct cairn_obj_id oid);

#endif /* CAIRN_PLACEMENT_PLACEMENT_H */
