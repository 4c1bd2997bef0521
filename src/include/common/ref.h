/*
 * Atomic reference counts. A count starts at the value given to cairn_ref_init() (normally
 * 1, the creator's reference); whoever drops it to zero frees the object.
 * Any thread may call any of these.
 */
#ifndef CAIRN_COMMON_REF_H
#define CAIRN_COMMON_REF_H

#include <stdbool.h>
#include <stdint.h>

struct cairn_ref {
	uint32_t count;
};

/** Set the count (no other thread may see the object yet). */
static inline void
cairn_ref_init(struct cairn_ref *r, uint32_t n)
{
	__atomic_store_n(&r->count, n, __ATOMIC_RELAXED);
}

/** Take a reference; the caller must already hold one (count > 0). */
static inline void
cairn_ref_get(struct cairn_ref *r)
{
	__atomic_add_fetch(&r->count, 1, __ATOMIC_RELAXED);
}

/**
 * Take a reference only if the count is not zero (the object is not being freed).
 * \return true when a reference was taken.
 */
static inline bool
cairn_ref_get_unless_zero(struct cairn_ref *r)
{
	uint32_t c = __atomic_load_n(&r->count, __ATOMIC_RELAXED);

	while (c != 0) {
		if (__atomic_compare_exchange_n(&r->count, &c, c + 1, true, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
	}
	return false;
}

/**
 * Drop a reference.
 * \return true when this was the last one: the caller must now free the object.
 */
static inline bool
cairn_ref_put(struct cairn_ref *r)
{
	/* Release so our writes to the object happen before the freeing thread's reads;
	 * acquire on the last put so the freer sees everyone's writes. */
	return __atomic_sub_fetch(&r->count, 1, __ATOMIC_ACQ_REL) == 0;
}

/** Current count (a snapshot; only meaningful for asserts and debugging). */
static inline uint32_t
cairn_ref_read(const struct cairn_ref *r)
{
	return __atomic_load_n(&r->count, __ATOMIC_RELAXED);
}

#endif /* CAIRN_COMMON_REF_H */
