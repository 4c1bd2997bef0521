/*
 * Pool map versions readable from any xstream (srv_pool.c keeps them; srv_obj.c checks
 * requests against them): the version a pool's map has moved to since its shards were
 * opened (SRV_DRPC_POOL_MAP_BUMP, or loaded from the pool record at start).
 * Lock-free reads; writes on the system xstream.
 */
#ifndef CAIRN_ENGINE_SRV_POOL_MAP_H
#define CAIRN_ENGINE_SRV_POOL_MAP_H

#include <stdint.h>

/* The pool's current map version, 0 if this table does not know the pool (then the
 * shard's own version applies). Any xstream. */
uint32_t srv_pool_map_version_of(const uint8_t uuid[16]);

#endif /* CAIRN_ENGINE_SRV_POOL_MAP_H */
