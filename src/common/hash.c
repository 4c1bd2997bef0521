/*
 * Hash functions and the intrusive chained hash table (see common/hash.h).
 *
 * Each entry caches its full 64-bit hash, so lookups compare hashes before calling
 * key_eq, and resizing never calls key_hash again.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "common/hash.h"
#include "common/util.h"

#define HT_MIN_BITS 4  /* 16 buckets */
#define HT_MAX_BITS 40 /* 2^40 buckets: far beyond memory; guards the shift */

#define HK1 0x87c37b91114253d5ull
#define HK2 0x4cf5ad432745937full
#define HK3 0x52dce729ull

static inline uint64_t
rotl64(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t
load_le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline uint64_t
mix_block(uint64_t k)
{
	k *= HK1;
	k = rotl64(k, 31);
	return k * HK2;
}

uint64_t
cairn_hash_bytes(const void *buf, size_t len, uint64_t seed)
{
	const unsigned char *p = buf;
	uint64_t h = seed ^ ((uint64_t)len * HK2);
	uint64_t tail = 0;
	size_t n = len;

	while (n >= 8) {
		h ^= mix_block(load_le64(p));
		h = rotl64(h, 27) * 5 + HK3;
		p += 8;
		n -= 8;
	}
	for (size_t i = 0; i < n; i++)
		tail |= (uint64_t)p[i] << (8 * i);
	if (n > 0)
		h ^= mix_block(tail);
	return cairn_hash_u64(h ^ (uint64_t)len);
}

uint64_t
cairn_hash_str(const char *s)
{
	return cairn_hash_bytes(s, strlen(s), 0);
}

static unsigned
bits_for(uint64_t n)
{
	unsigned bits = HT_MIN_BITS;

	while (bits < HT_MAX_BITS && (1ull << bits) < n)
		bits++;
	return bits;
}

int
cairn_htable_init(struct cairn_htable *ht, const struct cairn_htable_ops *ops, uint64_t size_hint)
{
	unsigned bits;

	memset(ht, 0, sizeof(*ht));
	if (ops == NULL || ops->key_hash == NULL || ops->key_eq == NULL ||
	    size_hint > (1ull << HT_MAX_BITS))
		return -CAIRN_ERR_INVAL;
	bits = bits_for(size_hint);
	ht->buckets = calloc((size_t)1 << bits, sizeof(*ht->buckets));
	if (ht->buckets == NULL)
		return -CAIRN_ERR_NOMEM;
	ht->mask = (1ull << bits) - 1;
	ht->min_bits = bits;
	ht->ops = ops;
	return 0;
}

void
cairn_htable_fini(struct cairn_htable *ht)
{
	free(ht->buckets);
	ht->buckets = NULL;
	ht->mask = 0;
	ht->count = 0;
}

int
cairn_htable_resize(struct cairn_htable *ht, uint64_t nbuckets)
{
	struct cairn_hlink **nb;
	uint64_t want = CAIRN_MAX(nbuckets, ht->count);
	unsigned bits = bits_for(want);
	uint64_t nmask, i;

	if (bits < ht->min_bits)
		bits = ht->min_bits;
	nmask = (1ull << bits) - 1;
	if (nmask == ht->mask)
		return 0;
	nb = calloc((size_t)nmask + 1, sizeof(*nb));
	if (nb == NULL)
		return -CAIRN_ERR_NOMEM;
	for (i = 0; i <= ht->mask; i++) {
		struct cairn_hlink *l = ht->buckets[i], *next;

		for (; l != NULL; l = next) {
			next = l->next;
			l->next = nb[l->hash & nmask];
			nb[l->hash & nmask] = l;
		}
	}
	free(ht->buckets);
	ht->buckets = nb;
	ht->mask = nmask;
	return 0;
}

static void
ht_link(struct cairn_htable *ht, struct cairn_hlink *link, uint64_t hash)
{
	struct cairn_hlink **b = &ht->buckets[hash & ht->mask];

	link->hash = hash;
	link->next = *b;
	*b = link;
	ht->count++;
	/* Load factor 1: double. If the allocation fails we simply stay denser. */
	if (ht->count > ht->mask + 1 && ht->mask + 1 < (1ull << HT_MAX_BITS))
		(void)cairn_htable_resize(ht, (ht->mask + 1) * 2);
}

void
cairn_htable_insert_dup(struct cairn_htable *ht, const void *key, struct cairn_hlink *link)
{
	ht_link(ht, link, ht->ops->key_hash(key));
}

static struct cairn_hlink **
ht_find(const struct cairn_htable *ht, const void *key, uint64_t hash)
{
	struct cairn_hlink **pp = &ht->buckets[hash & ht->mask];

	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->hash == hash && ht->ops->key_eq(*pp, key))
			return pp;
	return NULL;
}

int
cairn_htable_insert(struct cairn_htable *ht, const void *key, struct cairn_hlink *link)
{
	uint64_t hash = ht->ops->key_hash(key);

	if (ht_find(ht, key, hash) != NULL)
		return -CAIRN_ERR_EXIST;
	ht_link(ht, link, hash);
	return 0;
}

struct cairn_hlink *
cairn_htable_lookup(const struct cairn_htable *ht, const void *key)
{
	struct cairn_hlink **pp = ht_find(ht, key, ht->ops->key_hash(key));

	return pp != NULL ? *pp : NULL;
}

int
cairn_htable_remove(struct cairn_htable *ht, struct cairn_hlink *link)
{
	struct cairn_hlink **pp = &ht->buckets[link->hash & ht->mask];

	for (; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == link) {
			*pp = link->next;
			link->next = NULL;
			ht->count--;
			return 0;
		}
	}
	return -CAIRN_ERR_NONEXIST;
}

struct cairn_hlink *
cairn_htable_remove_key(struct cairn_htable *ht, const void *key)
{
	struct cairn_hlink **pp = ht_find(ht, key, ht->ops->key_hash(key));
	struct cairn_hlink *l;

	if (pp == NULL)
		return NULL;
	l = *pp;
	*pp = l->next;
	l->next = NULL;
	ht->count--;
	return l;
}

struct cairn_hlink *
cairn_htable_pop(struct cairn_htable *ht)
{
	struct cairn_hlink *l;

	if (ht->count == 0)
		return NULL;
	for (uint64_t i = 0; i <= ht->mask; i++) {
		l = ht->buckets[i];
		if (l != NULL) {
			ht->buckets[i] = l->next;
			l->next = NULL;
			ht->count--;
			return l;
		}
	}
	return NULL;
}

void
cairn_htable_iter_init(struct cairn_htable_iter *it, struct cairn_htable *ht)
{
	it->ht = ht;
	it->bucket = 0;
	it->next = ht->count > 0 ? ht->buckets[0] : NULL;
}

struct cairn_hlink *
cairn_htable_iter_next(struct cairn_htable_iter *it)
{
	struct cairn_hlink *l;

	while (it->next == NULL) {
		if (it->ht->count == 0 || it->bucket >= it->ht->mask)
			return NULL;
		it->bucket++;
		it->next = it->ht->buckets[it->bucket];
	}
	l = it->next;
	/* Saved before returning, so the caller may remove l. */
	it->next = l->next;
	return l;
}

int
cairn_htable_for_each(struct cairn_htable *ht, int (*cb)(struct cairn_hlink *link, void *arg),
		      void *arg)
{
	struct cairn_htable_iter it;
	struct cairn_hlink *l;
	int rc;

	cairn_htable_iter_init(&it, ht);
	while ((l = cairn_htable_iter_next(&it)) != NULL) {
		rc = cb(l, arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}
