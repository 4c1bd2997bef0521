/*
 * DRAM cache of data extents (write-through, LRU, bounded in bytes). Fetches of recently
 * written or read extents are served from memory instead of the device, the role the OS
 * page cache plays for LMDB or RocksDB. An entry is keyed by the extent's offset and
 * only matches a record with the same length and CRC; freeing an extent drops its entry,
 * so a reused extent never serves stale bytes. Owned by the pool's xstream, no locks.
 */
#ifndef CAIRN_VOS_CACHE_H
#define CAIRN_VOS_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/list.h"

struct vos_cache_ent;

struct vos_cache {
	uint64_t cap;                 /* bytes of data allowed (0 = disabled) */
	uint64_t used;
	uint32_t max_val;             /* larger extents are not cached */
	uint32_t nbuckets;            /* power of two */
	struct vos_cache_ent **buckets;
	struct cairn_list lru;        /* head = most recent */
	uint64_t hits, misses;
};

int vos_cache_init(struct vos_cache *c, uint64_t cap);
void vos_cache_fini(struct vos_cache *c);
/* Change the capacity (evicts as needed; 0 empties and disables). */
int vos_cache_resize(struct vos_cache *c, uint64_t cap);
/* Cache len bytes of extent off (CRC crc), replacing any older entry. Best effort. A
 * buffer from cairn_vos_buf_alloc() is referenced (it must not change afterwards), any
 * other is copied. */
void vos_cache_put(struct vos_cache *c, uint64_t off, uint32_t len, uint32_t crc,
		   const void *data);
/* The cached bytes of (off, len, crc), or NULL. Valid until the next cache call. */
const void *vos_cache_get(struct vos_cache *c, uint64_t off, uint32_t len, uint32_t crc);
void vos_cache_drop(struct vos_cache *c, uint64_t off);

#endif /* CAIRN_VOS_CACHE_H */
