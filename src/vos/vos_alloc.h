/*
 * Extent allocator for the VOS data region: a bitmap of 4 KiB blocks with a next-fit
 * cursor. Its state is never written on its own: at open it is rebuilt from the index
 * (every live extent is marked used), so it cannot disagree with the metadata.
 * Single-threaded: owned by the pool's xstream.
 */
#ifndef CAIRN_VOS_ALLOC_H
#define CAIRN_VOS_ALLOC_H

#include <stdint.h>

struct vos_alloc {
	uint64_t *bits;    /* 1 = block in use */
	uint64_t nblocks;  /* blocks managed */
	uint64_t nfree;    /* free blocks */
	uint64_t cursor;   /* next-fit start */
};

int vos_alloc_init(struct vos_alloc *a, uint64_t nblocks);
void vos_alloc_fini(struct vos_alloc *a);
/* Allocate nblk contiguous blocks; *blk = first block. -CAIRN_ERR_NOSPACE when no run
 * is long enough (the state is unchanged), -CAIRN_ERR_INVAL for nblk == 0. */
int vos_alloc_get(struct vos_alloc *a, uint64_t nblk, uint64_t *blk);
/* Free a run previously allocated. -CAIRN_ERR_CORRUPT (nothing changed) if any block of
 * it is out of range or already free. */
int vos_alloc_put(struct vos_alloc *a, uint64_t blk, uint64_t nblk);
/* Mark a run used (index rebuild). -CAIRN_ERR_CORRUPT (nothing changed) if any block is
 * out of range or already used: two live extents may never overlap. */
int vos_alloc_mark(struct vos_alloc *a, uint64_t blk, uint64_t nblk);

#endif /* CAIRN_VOS_ALLOC_H */
