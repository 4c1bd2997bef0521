/*
 * DRAM extent cache (see vos_cache.h): chained hash on the extent offset plus an LRU
 * list; evicts from the tail until the data fits the capacity.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "vos_cache.h"
#include "vos_internal.h"

struct vos_cache_ent {
	struct cairn_list lru;
	struct vos_cache_ent *next;   /* hash chain */
	uint64_t off;
	uint32_t len;
	uint32_t crc;
	const char *data;     /* inl, or a shared buffer (vos_buf.c) we hold a reference to */
	bool shared;
	char inl[];
};

static inline uint32_t
cache_bucket(const struct vos_cache *c, uint64_t off)
{
	uint64_t h = (off >> 12) * 0x9E3779B97F4A7C15ull;

	return (uint32_t)(h >> 32) & (c->nbuckets - 1);
}

int
vos_cache_init(struct vos_cache *c, uint64_t cap)
{
	memset(c, 0, sizeof(*c));
	cairn_list_init(&c->lru);
	c->max_val = 1u << 20;
	c->nbuckets = 1u << 16;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (c->buckets == NULL)
		return -CAIRN_ERR_NOMEM;
	c->cap = cap;
	return 0;
}

static struct vos_cache_ent **
cache_find(struct vos_cache *c, uint64_t off)
{
	struct vos_cache_ent **pp = &c->buckets[cache_bucket(c, off)];

	while (*pp != NULL && (*pp)->off != off)
		pp = &(*pp)->next;
	return pp;
}

static void
cache_unlink(struct vos_cache *c, struct vos_cache_ent **pp)
{
	struct vos_cache_ent *e = *pp;

	*pp = e->next;
	cairn_list_del(&e->lru);
	c->used -= e->len;
	if (e->shared)
		vos_buf_unref(e->data);
	free(e);
}

static void
cache_evict(struct vos_cache *c, uint64_t want)
{
	while (c->used + want > c->cap && !cairn_list_empty(&c->lru)) {
		struct vos_cache_ent *e =
			cairn_container_of(c->lru.prev, struct vos_cache_ent, lru);

		cache_unlink(c, cache_find(c, e->off));
	}
}

void
vos_cache_fini(struct vos_cache *c)
{
	if (c->buckets != NULL) {
		c->cap = 0;
		cache_evict(c, 0);
	}
	free(c->buckets);
	memset(c, 0, sizeof(*c));
}

int
vos_cache_resize(struct vos_cache *c, uint64_t cap)
{
	c->cap = cap;
	cache_evict(c, 0);
	return 0;
}

void
vos_cache_put(struct vos_cache *c, uint64_t off, uint32_t len, uint32_t crc, const void *data)
{
	struct vos_cache_ent **pp, *e;
	bool shared;

	if (c->buckets == NULL || len == 0 || len > c->max_val || len > c->cap)
		return;
	pp = cache_find(c, off);
	if (*pp != NULL)
		cache_unlink(c, pp);
	cache_evict(c, len);
	/* A shareable buffer is referenced, not copied (the caller no longer writes it). */
	shared = vos_buf_ref(data, len);
	e = malloc(sizeof(*e) + (shared ? 0 : len));
	if (e == NULL) {
		if (shared)
			vos_buf_unref(data);
		return;
	}
	e->off = off;
	e->len = len;
	e->crc = crc;
	e->shared = shared;
	if (shared) {
		e->data = data;
	} else {
		memcpy(e->inl, data, len);
		e->data = e->inl;
	}
	pp = &c->buckets[cache_bucket(c, off)];
	e->next = *pp;
	*pp = e;
	cairn_list_add(&e->lru, &c->lru);
	c->used += len;
}

const void *
vos_cache_get(struct vos_cache *c, uint64_t off, uint32_t len, uint32_t crc)
{
	struct vos_cache_ent *e;

	if (c->buckets == NULL || c->cap == 0)
		return NULL;
	e = *cache_find(c, off);
	if (e == NULL || e->len != len || e->crc != crc) {
		c->misses++;
		return NULL;
	}
	c->hits++;
	cairn_list_del(&e->lru);
	cairn_list_add(&e->lru, &c->lru);
	return e->data;
}

void
vos_cache_drop(struct vos_cache *c, uint64_t off)
{
	struct vos_cache_ent **pp;

	if (c->buckets == NULL)
		return;
	pp = cache_find(c, off);
	if (*pp != NULL)
		cache_unlink(c, pp);
}
