/*
 * Engine services shared between the vos, pool, cont and obj modules: per-target VOS
 * pool shards (srv_vos.c), the pool service and its metadata store (srv_pool.c).
 */
#ifndef CAIRN_ENGINE_SRV_INTERNAL_H
#define CAIRN_ENGINE_SRV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/uuid.h"

struct cairn_vos_pool;
struct cairn_module;

extern struct cairn_module g_vos_srv_module;
extern struct cairn_module g_pool_srv_module;
extern struct cairn_module g_cont_srv_module;
extern struct cairn_module g_obj_srv_module;

/* The containers of a destroyed pool are forgotten (srv_cont.c; system xstream). */
void srv_cont_pool_destroyed(const struct cairn_uuid *pool);

/* Smallest / largest VOS pool shard per target. */
#define SRV_SHARD_MIN_SIZE (16ull << 20)
#define SRV_SHARD_MAX_SIZE (1ull << 40)
/* Most pools an engine serves. */
#define SRV_MAX_POOLS 64
#define SRV_LABEL_MAX 64 /* incl. NUL */

/* ---------------------------------------------------------------- srv_vos.c */

/* The storage directory when this engine has storage (its target devices are open),
 * NULL without. (Pool shards live inside the target devices, srv_tgt_dev.c.) */
const char *srv_vos_pools_dir(void);

/*
 * Create (size > 0: the file is created at that size and formatted; it must not exist)
 * or open (size == 0) a VOS pool on a file through a uring bdev named bdev_name. From a
 * ULT on the xstream that will own the pool.
 */
int srv_vos_file_open(const char *path, const char *bdev_name, uint64_t size,
                      const struct cairn_uuid *uuid, struct cairn_vos_pool **pool);
/* Close the pool and delete its bdev (waiting for the deletion). Same xstream. */
int srv_vos_file_close(struct cairn_vos_pool *pool, const char *bdev_name);

/* This target's shard of a pool, NULL when absent. From a ULT on a target xstream. */
struct cairn_vos_pool *srv_vos_shard(const struct cairn_uuid *pool);
/* An update or punch reached container `cont` of this shard: schedule it for background
 * aggregation. Target xstream. */
void srv_vos_note_write(struct cairn_vos_pool *pool, const uint8_t cont[16]);
/* A value buffer for object I/O: 4 KiB aligned and sized, so the bdev does direct I/O
 * from it without a bounce copy. free() it. */
void *srv_obj_buf_alloc(uint64_t len);
/* Pool map version this target serves the pool at (0 when absent). Same xstream. */
uint32_t srv_vos_shard_map_version(const struct cairn_uuid *pool);

/* Create one shard of `size` bytes per target for pool (undone on failure). From a ULT
 * on the system xstream. -CAIRN_ERR_EXIST, -CAIRN_ERR_NOSPACE, -CAIRN_ERR_IO, ... */
int srv_vos_shards_create(const struct cairn_uuid *pool, uint64_t size);
/* Would a shard of `size` bytes per target for pool fit on every target (and on the file
 * system of file targets)? 0, or -CAIRN_ERR_NOSPACE / -CAIRN_ERR_EXIST with a message
 * naming the target, what was asked, what is free and the largest free extent in err.
 * Nothing is written. From a ULT on the system xstream. */
int srv_vos_space_check(const struct cairn_uuid *pool, uint64_t size, char *err,
                        size_t errlen);
/* Space of target tgt's device (size, used by pools, free). -CAIRN_ERR_NOSYS without
 * storage. From a ULT. */
struct srv_tgt_usage;
int srv_vos_tgt_usage(unsigned tgt, struct srv_tgt_usage *u);
/* Add "target_space": [{target, size, used, free, largest_free}] (this engine's targets,
 * from their space maps) to JSON object o. From a ULT. */
struct json_t;
void srv_vos_tgt_space_json(struct json_t *o);
/* Close and delete every target's shard of pool (missing shards are skipped). */
int srv_vos_shards_destroy(const struct cairn_uuid *pool);
/* Space of a pool summed over targets. nr_shards = how many targets hold a shard. */
struct srv_space {
	uint64_t total;
	uint64_t free;
	uint32_t nr_shards;
};
int srv_vos_shards_query(const struct cairn_uuid *pool, struct srv_space *sp);
/* Uuids of the pools that have a shard on target 0 (max entries). */
unsigned srv_vos_shards_list(struct cairn_uuid *uuids, unsigned max);

/* A fresh epoch for an update: wall-clock nanoseconds, strictly increasing per
 * process. Any thread. */
uint64_t srv_epoch_next(void);

/* Array-value object RPCs (srv_obj_array.c), dispatched by srv_obj.c's handler. */
struct cairn_rpc;
struct obj_in;
struct obj_out;
struct cairn_vos_pool;
struct cairn_vos_anchor;
/* The value of an update, len bytes: inline (in->data) or fetched by bulk GET into a
 * shareable VOS buffer (*buf, NULL when inline; release with cairn_vos_buf_free()).
 * *val points at it. -CAIRN_ERR_INVAL when the request's sizes disagree with len. */
int srv_obj_value_recv(struct cairn_rpc *rpc, const struct obj_in *in, uint64_t len, void **buf,
                       void **val);
/* A fetched value of len bytes to the client's buffer (bulk PUT into in->bulk). */
int srv_obj_value_send(struct cairn_rpc *rpc, const struct obj_in *in, void *buf, uint64_t len);
/* LIST_DKEYS / LIST_AKEYS (akeys: of in->dkey) for both handlers (srv_obj.c). */
int srv_obj_list_keys(struct cairn_vos_pool *vp, const struct obj_in *in, bool akeys,
                      struct obj_out *o, void **obuf, struct cairn_vos_anchor **anchor);
int srv_obj_array_handle(struct cairn_rpc *rpc, uint32_t idx, struct cairn_vos_pool *vp,
                         const struct obj_in *in, struct obj_out *o, void **obuf,
                         struct cairn_vos_anchor **anchor);


/* ---------------------------------------------------------------- srv_md.c */

/*
 * The engine's metadata store: small keyed records in tables, durable through a VOS
 * pool of the engine's own (<storage_dir>/sys.vos, owned by the system xstream). The
 * pool and container services keep their state here only through this interface, so
 * raft replication can later sit underneath without changing them. Every function is
 * called from a ULT on the system xstream.
 */
enum srv_md_table {
	SRV_MD_POOLS = 1, /* key: pool uuid (16 bytes), value: struct pool_md_df */
	SRV_MD_CONTS = 2, /* key: pool uuid + cont uuid (32 bytes), value: struct cont_md_df */
	SRV_MD_COUNTERS = 3,
	SRV_MD_POOL_PROPS = 4, /* key: pool uuid, value: JSON {owner, group, entries} (acl) */
	SRV_MD_CONT_PROPS = 5, /* key: pool uuid + cont uuid + 'a' name | 's' epoch: container
	                        * attributes and snapshots (srv_cont_prop.h) */
	SRV_MD_POOL_TGTS = 6, /* key: pool uuid, value: struct pool_tgt_df (srv_pool_tgt.c):
	                       * this rank holds shards of a pool served by another rank */
	SRV_MD_POOL_GONE = 7, /* key: pool uuid, value: struct pool_gone_df (srv_pool.c): a
	                       * pool destroyed while ranks of it were down; their shards
	                       * are removed when they rejoin */
	SRV_MD_TABLE_LAST = SRV_MD_POOL_GONE,
};
#define SRV_MD_VAL_MAX 4096u

int srv_md_open(void);
void srv_md_close(void);
bool srv_md_ready(void);
int srv_md_put(enum srv_md_table t, const void *key, uint32_t klen, const void *val,
               uint32_t vlen);
/* -CAIRN_ERR_NONEXIST when absent; *vlen in: buffer size, out: value size. */
int srv_md_get(enum srv_md_table t, const void *key, uint32_t klen, void *val, uint32_t *vlen);
int srv_md_del(enum srv_md_table t, const void *key, uint32_t klen);
/* Visit every key of a table in key order (cb returns 0 to go on, < 0 to abort). Keys are
 * collected first, so cb may call srv_md_get/put/del. */
typedef int (*srv_md_key_cb)(void *arg, const void *key, uint32_t klen);
int srv_md_list(enum srv_md_table t, srv_md_key_cb cb, void *arg);

#endif /* CAIRN_ENGINE_SRV_INTERNAL_H */
