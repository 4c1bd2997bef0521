/*
 * Per-target space map: which part of a target's device belongs to which pool shard.
 *
 * A target device (<storage_dir>/target-<i>: a file or a block device) starts with a
 * SRV_TGT_MAP_SIZE region holding the map, in two copies (copy 0 at offset 0, copy 1 at
 * SRV_TGT_COPY_SIZE). Each copy is a header (magic, version, sequence number, target
 * index, system and engine uuids, device size) and a table of extents (pool uuid, offset,
 * size, state), sorted by offset and protected by one CRC32C. An update writes the copy
 * that does not hold the newest sequence, with sequence + 1, and flushes it: a crash in
 * the middle leaves the other copy, the previous state, valid. The rest of the device is
 * handed out in SRV_TGT_ALIGN units, first fit; free space is what no extent covers, so
 * freeing an extent coalesces it with its free neighbours by construction.
 *
 * This file is shared by the engine (srv_tgt_dev.c does the I/O) and the control plane
 * (storage format writes the first map, storage query reads it). Nothing here does I/O
 * or keeps global state: callers own a struct srv_tgt_space and serialise access to it.
 */
#ifndef CAIRN_ENGINE_SRV_TGT_SPACE_H
#define CAIRN_ENGINE_SRV_TGT_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/uuid.h"

#define SRV_TGT_MAP_SIZE    (1ull << 20)          /* map region at the device start */
#define SRV_TGT_COPY_SIZE   (SRV_TGT_MAP_SIZE / 2) /* room for one copy */
#define SRV_TGT_ALIGN       (1ull << 20)          /* extent offset/size unit */
#define SRV_TGT_MAX_EXTENTS 1024
#define SRV_TGT_IO_ALIGN    4096                  /* encoded copies are padded to this */
#define SRV_TGT_MAGIC       0x50414d5354524343ull /* "CCRTSMAP" little-endian */
#define SRV_TGT_VERSION     1

enum srv_tgt_extent_state {
	SRV_TGT_EXT_CREATING = 1, /* allocated, shard being formatted: freed at the next start */
	SRV_TGT_EXT_ACTIVE = 2,   /* holds a formatted VOS pool shard */
};

/* On disk, little-endian. */
struct srv_tgt_map_hdr_df {
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;      /* sizeof(struct srv_tgt_map_hdr_df) */
	uint64_t seq;           /* newer copy has the larger one */
	uint32_t tgt_idx;
	uint32_t nr_extents;
	uint8_t system_uuid[16];
	uint8_t engine_uuid[16];
	uint64_t dev_size;      /* bytes of the device the map describes */
	uint64_t data_start;    /* SRV_TGT_MAP_SIZE */
	uint64_t format_time;   /* seconds since the epoch */
	uint32_t crc;           /* CRC32C of header (crc = 0) and extent table */
	uint32_t reserved0;
	uint8_t reserved[32];
};
_Static_assert(sizeof(struct srv_tgt_map_hdr_df) == 128, "space map header size");

struct srv_tgt_extent_df {
	uint8_t pool[16];
	uint64_t offset;        /* bytes from the device start, SRV_TGT_ALIGN aligned */
	uint64_t size;          /* bytes, SRV_TGT_ALIGN aligned, > 0 */
	uint32_t state;         /* enum srv_tgt_extent_state */
	uint32_t flags;         /* 0 */
	uint64_t reserved;
};
_Static_assert(sizeof(struct srv_tgt_extent_df) == 48, "space map extent size");
_Static_assert(sizeof(struct srv_tgt_map_hdr_df) +
		       SRV_TGT_MAX_EXTENTS * sizeof(struct srv_tgt_extent_df) <=
	       SRV_TGT_COPY_SIZE, "a space map copy must fit its slot");

struct srv_tgt_extent {
	struct cairn_uuid pool;
	uint64_t offset;
	uint64_t size;
	uint32_t state;
};

/* In memory. ext[] is sorted by offset and never overlaps. */
struct srv_tgt_space {
	uint32_t tgt_idx;
	struct cairn_uuid system_uuid;
	struct cairn_uuid engine_uuid;
	uint64_t dev_size;
	uint64_t format_time;
	uint64_t seq;           /* of the newest copy on disk (0: none written yet) */
	unsigned cur_copy;      /* copy holding seq; the next update writes the other */
	unsigned nr;
	struct srv_tgt_extent ext[SRV_TGT_MAX_EXTENTS];
};

/* Usage of a target. */
struct srv_tgt_usage {
	uint64_t dev_size;      /* the whole device */
	uint64_t capacity;      /* what pools can use: device minus the map, in units */
	uint64_t used;          /* sum of extents */
	uint64_t free;          /* capacity - used */
	uint64_t largest_free;  /* largest single free extent */
	unsigned nr_extents;
};

/* A new, empty map for a device of dev_size bytes (seq 0: copy 0 is written first).
 * -CAIRN_ERR_INVAL when the device is smaller than the map region. */
int srv_tgt_space_init(struct srv_tgt_space *sp, uint32_t tgt_idx,
		       const struct cairn_uuid *system_uuid,
		       const struct cairn_uuid *engine_uuid, uint64_t dev_size,
		       uint64_t format_time);

/* Encode sp with sequence `seq` into buf (len >= SRV_TGT_COPY_SIZE is always enough);
 * returns the bytes to write (a multiple of SRV_TGT_IO_ALIGN, zero padded) or
 * -CAIRN_ERR_TRUNC when buf is too small. */
int srv_tgt_space_encode(const struct srv_tgt_space *sp, uint64_t seq, void *buf, size_t len);

/* Decode and validate one copy (buf of len bytes, at most a copy). On error `why` says
 * what is wrong (for the log). -CAIRN_ERR_CORRUPT (bad magic, CRC, sizes, extents out
 * of range, misaligned, overlapping or duplicated, unknown state), -CAIRN_ERR_VERSION
 * (a format this code does not know), -CAIRN_ERR_NONEXIST (all zeros: never written). */
int srv_tgt_space_decode(const void *buf, size_t len, struct srv_tgt_space *sp, char *why,
			 size_t whylen);

/* Choose the newest valid of the two copies (each SRV_TGT_COPY_SIZE bytes, or less),
 * fill sp (cur_copy, seq). 0 when at least one copy is valid (*one_bad tells whether the
 * other was damaged, not merely older or unwritten); otherwise the error of copy 0
 * (-CAIRN_ERR_CORRUPT / -CAIRN_ERR_VERSION / -CAIRN_ERR_NONEXIST) and why. */
int srv_tgt_space_load(const void *copy0, size_t len0, const void *copy1, size_t len1,
		       struct srv_tgt_space *sp, bool *one_bad, char *why, size_t whylen);

/* Byte offset of copy c (0 or 1) on the device. */
static inline uint64_t
srv_tgt_space_copy_offset(unsigned c)
{
	return c ? SRV_TGT_COPY_SIZE : 0;
}

/* The extent of pool, NULL if none. */
struct srv_tgt_extent *srv_tgt_space_find(struct srv_tgt_space *sp,
					  const struct cairn_uuid *pool);

/* Bytes an allocation of `size` takes (rounded up to SRV_TGT_ALIGN); 0 on overflow. */
uint64_t srv_tgt_space_round(uint64_t size);

/* Can `size` bytes be allocated? 0, or -CAIRN_ERR_NOSPACE with err naming the target,
 * what was asked, what is free and the largest free extent. */
int srv_tgt_space_check(const struct srv_tgt_space *sp, uint64_t size, char *err,
			size_t errlen);

/* Allocate (first fit) an extent of srv_tgt_space_round(size) bytes for pool in state.
 * 0 and *ext; -CAIRN_ERR_EXIST (pool has one), -CAIRN_ERR_INVAL (size 0 / bad state),
 * -CAIRN_ERR_NOSPACE (message in err as srv_tgt_space_check), -CAIRN_ERR_OVERFLOW (table
 * full). Only memory changes: the caller persists. */
int srv_tgt_space_alloc(struct srv_tgt_space *sp, const struct cairn_uuid *pool,
			uint64_t size, uint32_t state, struct srv_tgt_extent *ext, char *err,
			size_t errlen);

/* Free pool's extent. -CAIRN_ERR_NONEXIST if none. Memory only. */
int srv_tgt_space_free(struct srv_tgt_space *sp, const struct cairn_uuid *pool);

/* Totals of sp. */
void srv_tgt_space_usage(const struct srv_tgt_space *sp, struct srv_tgt_usage *u);

/* ------------------------------------------------ engine side (srv_tgt_dev.c)
 * A target's open device. Every function: from a ULT on the target's main xstream. */
struct srv_tgt_dev;
struct cairn_vos_pool;

/* Open <dir>/target-<tgt> through a uring bdev, read and validate its space map and
 * free the extents of interrupted shard creates. -CAIRN_ERR_CORRUPT / -CAIRN_ERR_VERSION
 * (logged with "restore or reformat" advice) when the map is unusable. */
int srv_tgt_dev_open(unsigned tgt, const char *dir, struct srv_tgt_dev **dev);
/* Close the device (every shard must be closed). */
void srv_tgt_dev_close(struct srv_tgt_dev *dev);
/* Could a shard of `size` bytes for pool be created? 0, -CAIRN_ERR_EXIST or
 * -CAIRN_ERR_NOSPACE with the message in err. Nothing is written. */
int srv_tgt_dev_check(struct srv_tgt_dev *dev, const struct cairn_uuid *pool, uint64_t size,
		      char *err, size_t errlen);
/* size > 0: allocate an extent (recorded CREATING), put part bdev bdev_name over it,
 * format and open VOS on it, record it ACTIVE; undone on failure. size == 0: open the
 * ACTIVE shard of pool recorded in the map (-CAIRN_ERR_NONEXIST if none). */
int srv_tgt_dev_shard_open(struct srv_tgt_dev *dev, const struct cairn_uuid *pool,
			   uint64_t size, const char *bdev_name, struct cairn_vos_pool **vp);
/* Close shard vp (may be NULL: not open) and delete its part bdev; destroy: also free
 * its extent (recorded) and discard its blocks. */
int srv_tgt_dev_shard_close(struct srv_tgt_dev *dev, const struct cairn_uuid *pool,
			    struct cairn_vos_pool *vp, const char *bdev_name, bool destroy);
/* Pools with an ACTIVE extent (up to max written; returns how many there are). */
unsigned srv_tgt_dev_pools(struct srv_tgt_dev *dev, struct cairn_uuid *pools, unsigned max);
void srv_tgt_dev_usage(struct srv_tgt_dev *dev, struct srv_tgt_usage *u);
/* Is the device a regular file (its blocks come from a file system)? */
bool srv_tgt_dev_is_file(struct srv_tgt_dev *dev);

#endif /* CAIRN_ENGINE_SRV_TGT_SPACE_H */
