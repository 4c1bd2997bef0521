/*
 * Bitmap extent allocator (see vos_alloc.h). Searches skip whole used words, so a mostly
 * full bitmap of a 1 TiB region (32 MiB of bits) is still scanned at memory speed.
 */
#define CAIRN_LOG_SS CAIRN_SS_VOS
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "common/log.h"
#include "vos_alloc.h"

static inline int
bit_get(const uint64_t *bits, uint64_t i)
{
	return (int)((bits[i >> 6] >> (i & 63)) & 1);
}

/* Set or clear bits [s, s + n). */
static void
bits_fill(uint64_t *bits, uint64_t s, uint64_t n, int val)
{
	while (n > 0) {
		uint64_t w = s >> 6, b = s & 63;
		uint64_t cnt = 64 - b < n ? 64 - b : n;
		uint64_t mask = cnt == 64 ? ~0ull : (((1ull << cnt) - 1) << b);

		if (val)
			bits[w] |= mask;
		else
			bits[w] &= ~mask;
		s += cnt;
		n -= cnt;
	}
}

/* True when every bit of [s, s + n) equals val. */
static int
bits_all(const uint64_t *bits, uint64_t s, uint64_t n, int val)
{
	while (n > 0) {
		uint64_t w = s >> 6, b = s & 63;
		uint64_t cnt = 64 - b < n ? 64 - b : n;
		uint64_t mask = cnt == 64 ? ~0ull : (((1ull << cnt) - 1) << b);
		uint64_t v = bits[w] & mask;

		if (val ? v != mask : v != 0)
			return 0;
		s += cnt;
		n -= cnt;
	}
	return 1;
}

int
vos_alloc_init(struct vos_alloc *a, uint64_t nblocks)
{
	uint64_t words = (nblocks + 63) / 64;

	memset(a, 0, sizeof(*a));
	a->bits = calloc(words ? words : 1, sizeof(uint64_t));
	if (a->bits == NULL)
		return -CAIRN_ERR_NOMEM;
	a->nblocks = nblocks;
	a->nfree = nblocks;
	/* Bits past the end are permanently "used" so searches never return them. */
	if (nblocks % 64)
		a->bits[words - 1] |= ~0ull << (nblocks % 64);
	return 0;
}

void
vos_alloc_fini(struct vos_alloc *a)
{
	free(a->bits);
	memset(a, 0, sizeof(*a));
}

/* First-fit search in [from, to) for a run of n free blocks. */
static int
alloc_search(const struct vos_alloc *a, uint64_t from, uint64_t to, uint64_t n, uint64_t *out)
{
	uint64_t i = from, run = 0, start = from;

	while (i < to) {
		if ((i & 63) == 0 && a->bits[i >> 6] == ~0ull) {
			run = 0;
			i += 64;
			start = i;
			continue;
		}
		if (bit_get(a->bits, i)) {
			run = 0;
			start = i + 1;
		} else if (++run == n) {
			*out = start;
			return 0;
		}
		i++;
	}
	return -CAIRN_ERR_NOSPACE;
}

int
vos_alloc_get(struct vos_alloc *a, uint64_t nblk, uint64_t *blk)
{
	uint64_t s;
	uint64_t to;

	if (nblk == 0)
		return -CAIRN_ERR_INVAL;
	if (nblk > a->nfree)
		return -CAIRN_ERR_NOSPACE;
	/* Next fit from the cursor; a run may not straddle the wrap, so search the head
	 * again up to cursor + nblk. */
	if (alloc_search(a, a->cursor, a->nblocks, nblk, &s) != 0) {
		to = a->cursor + nblk < a->nblocks ? a->cursor + nblk : a->nblocks;
		if (alloc_search(a, 0, to, nblk, &s) != 0)
			return -CAIRN_ERR_NOSPACE;
	}
	bits_fill(a->bits, s, nblk, 1);
	a->nfree -= nblk;
	a->cursor = s + nblk == a->nblocks ? 0 : s + nblk;
	*blk = s;
	return 0;
}

int
vos_alloc_put(struct vos_alloc *a, uint64_t blk, uint64_t nblk)
{
	if (nblk == 0 || blk >= a->nblocks || nblk > a->nblocks - blk ||
	    !bits_all(a->bits, blk, nblk, 1)) {
		CAIRN_ERROR("free of blocks [%llu, +%llu) that are not allocated",
			    (unsigned long long)blk, (unsigned long long)nblk);
		return -CAIRN_ERR_CORRUPT;
	}
	bits_fill(a->bits, blk, nblk, 0);
	a->nfree += nblk;
	return 0;
}

int
vos_alloc_mark(struct vos_alloc *a, uint64_t blk, uint64_t nblk)
{
	if (nblk == 0 || blk >= a->nblocks || nblk > a->nblocks - blk ||
	    !bits_all(a->bits, blk, nblk, 0))
		return -CAIRN_ERR_CORRUPT;
	bits_fill(a->bits, blk, nblk, 1);
	a->nfree -= nblk;
	return 0;
}
