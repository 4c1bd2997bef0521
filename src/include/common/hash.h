/*
 * Hash functions and an intrusive chained hash table.
 *
 * The table stores `struct cairn_hlink` nodes embedded in the caller's objects (no
 * allocation per entry); the caller supplies the key hash and key comparison. The
 * bucket count is a power of two and doubles when the load factor passes 1, so lookups
 * stay O(1) on average; cairn_htable_resize() can also shrink it.
 *
 * Threads: a table is NOT internally locked. Use it from one thread or xstream, or
 * guard it with your own lock.
 */
#ifndef CAIRN_COMMON_HASH_H
#define CAIRN_COMMON_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ hash functions */

/** Mix a 64-bit value into a well-distributed 64-bit hash (bijective; fast). */
static inline uint64_t
cairn_hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/** Combine two hashes (order matters), e.g. for a (container, object) key. */
static inline uint64_t
cairn_hash_combine(uint64_t h, uint64_t v)
{
	return cairn_hash_u64(h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2)));
}

/** 64-bit hash of a byte string with a seed. Not cryptographic. */
uint64_t cairn_hash_bytes(const void *buf, size_t len, uint64_t seed);

/** Hash of a NUL-terminated string. */
uint64_t cairn_hash_str(const char *s);

/* ------------------------------------------------------------------ hash table */

/** Embed in the object; the table sets the fields. */
struct cairn_hlink {
	struct cairn_hlink *next;
	uint64_t hash;
};

struct cairn_htable_ops {
	/** Hash of a key. */
	uint64_t (*key_hash)(const void *key);
	/** Whether the object owning `link` has key `key`. */
	bool (*key_eq)(const struct cairn_hlink *link, const void *key);
};

struct cairn_htable {
	struct cairn_hlink **buckets;
	uint64_t mask;  /* nbuckets - 1 */
	uint64_t count; /* entries */
	uint32_t min_bits;
	const struct cairn_htable_ops *ops;
};

/**
 * Initialise a table.
 * \param[in] ht        table
 * \param[in] ops       key callbacks (kept by reference; must outlive the table)
 * \param[in] size_hint expected entries (0 for a small default); the table never
 *                      shrinks below this
 * \return 0, -CAIRN_ERR_INVAL (NULL ops/callbacks or absurd hint) or -CAIRN_ERR_NOMEM
 */
int cairn_htable_init(struct cairn_htable *ht, const struct cairn_htable_ops *ops,
		      uint64_t size_hint);

/** Free the bucket array. Entries are not touched; empty the table first if they must
 * be freed (see cairn_htable_pop()). */
void cairn_htable_fini(struct cairn_htable *ht);

/**
 * Insert `link` under `key` unless the key is present.
 * \return 0, -CAIRN_ERR_EXIST (key present; nothing inserted). Growing may fail to
 *         allocate: the entry is still inserted and the table keeps its size.
 */
int cairn_htable_insert(struct cairn_htable *ht, const void *key, struct cairn_hlink *link);

/** Insert without checking for duplicates (caller knows the key is new). */
void cairn_htable_insert_dup(struct cairn_htable *ht, const void *key, struct cairn_hlink *link);

/** Find the entry with `key`; NULL if absent. */
struct cairn_hlink *cairn_htable_lookup(const struct cairn_htable *ht, const void *key);

/** Unlink a given entry. \return 0 or -CAIRN_ERR_NONEXIST (not in the table). */
int cairn_htable_remove(struct cairn_htable *ht, struct cairn_hlink *link);

/** Find and unlink the entry with `key`; returns it or NULL. */
struct cairn_hlink *cairn_htable_remove_key(struct cairn_htable *ht, const void *key);

/** Unlink and return any one entry, NULL when empty (to drain and free). */
struct cairn_hlink *cairn_htable_pop(struct cairn_htable *ht);

static inline uint64_t
cairn_htable_count(const struct cairn_htable *ht)
{
	return ht->count;
}

static inline uint64_t
cairn_htable_buckets(const struct cairn_htable *ht)
{
	return ht->mask + 1;
}

/**
 * Rehash into the smallest power of two >= max(nbuckets, count, size_hint).
 * \return 0 or -CAIRN_ERR_NOMEM (table unchanged)
 */
int cairn_htable_resize(struct cairn_htable *ht, uint64_t nbuckets);

/**
 * Call cb on every entry until it returns non-zero (that value is returned). The
 * callback may remove the entry it was given (not others) and must not insert.
 */
int cairn_htable_for_each(struct cairn_htable *ht, int (*cb)(struct cairn_hlink *link, void *arg),
			  void *arg);

/** Cursor for iterating without a callback. Same rules as for_each. */
struct cairn_htable_iter {
	struct cairn_htable *ht;
	uint64_t bucket;
	struct cairn_hlink *next;
};

void cairn_htable_iter_init(struct cairn_htable_iter *it, struct cairn_htable *ht);
/** Next entry or NULL at the end. */
struct cairn_hlink *cairn_htable_iter_next(struct cairn_htable_iter *it);

#endif /* CAIRN_COMMON_HASH_H */
