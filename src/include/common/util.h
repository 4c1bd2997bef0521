/*
 * Small macros used everywhere: array size, min/max, alignment, branch hints.
 */
#ifndef CAIRN_COMMON_UTIL_H
#define CAIRN_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define CAIRN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define cairn_likely(x) __builtin_expect(!!(x), 1)
#define cairn_unlikely(x) __builtin_expect(!!(x), 0)

#define CAIRN_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CAIRN_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Round x up/down to a power-of-two alignment a. */
#define CAIRN_ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define CAIRN_ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define CAIRN_IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)
#define CAIRN_IS_POW2(x) ((x) != 0 && ((x) & ((x)-1)) == 0)

#define CAIRN_CACHELINE 64

/* Smallest power of two >= x (x <= 2^63; 1 for 0). */
static inline uint64_t
cairn_roundup_pow2(uint64_t x)
{
	return x <= 1 ? 1 : 1ull << (64 - __builtin_clzll(x - 1));
}

#endif /* CAIRN_COMMON_UTIL_H */
