/*
 * VOS index: the keyed table used at every level (objects, dkeys, akeys).
 *
 * Exact lookups go through hash chains (built once a table outgrows IDX_SMALL_TABLE);
 * ordered iteration, seeks and anchors go through a skip list threaded through the same
 * entries. A node's height comes from its key's hash, not from a random generator, so the
 * structure is a pure function of the keys (replay and checkpoint reload rebuild it
 * identically) and an entry is one allocation: header, forward pointers, key bytes.
 */
#include "idx_internal.h"

#include <stdlib.h>

#include "cairn/errno.h"

uint64_t
idx_hash(const void *key, uint32_t len)
{
	const uint8_t *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		p += 8;
		len -= 8;
	}
	w = 0;
	memcpy(&w, p, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 32;
	return h;
}

int
idx_key_cmp(const void *a, uint32_t alen, const void *b, uint32_t blen)
{
	uint32_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;

	if (c != 0)
		return c;
	return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

static inline int
ent_cmp(const struct idx_ent *e, const void *key, uint32_t klen)
{
	return idx_key_cmp(idx_ent_key(e), e->klen, key, klen);
}

void
idx_table_init(struct idx_table *t)
{
	memset(t, 0, sizeof(*t));
}

struct idx_ent *
idx_ent_alloc(enum idx_level level, const void *key, uint32_t klen)
{
	uint64_t h = idx_hash(key, klen);
	uint32_t x = (uint32_t)(h >> 32);
	uint8_t height = 1;
	struct idx_ent *e;

	/* p = 1/4 per level */
	while ((x & 3) == 0 && height < 17) {
		height++;
		x >>= 2;
	}
	e = calloc(1, sizeof(*e) + height * sizeof(struct idx_ent *) + klen);
	if (e == NULL)
		return NULL;
	e->hash = (uint32_t)h;
	e->klen = (uint16_t)klen;
	e->height = height;
	e->level = (uint8_t)level;
	memcpy((uint8_t *)&e->fwd[height], key, klen);
	if (level != IDX_L_AKEY)
		idx_table_init(&e->child);
	return e;
}

/* Walk down; preds[l] (if given) gets the slot pointing at the first entry >= key (or >
 * key when strict) on level l. Returns that entry on level 0. */
static struct idx_ent *
table_find(const struct idx_table *t, const void *key, uint32_t klen, bool strict,
	   struct idx_ent ***preds)
{
	struct idx_ent **next = t->head;
	int l;

	if (t->hcap == 0)
		return NULL;
	for (l = t->height - 1; l >= 0; l--) {
		while (next[l] != NULL) {
			int c = ent_cmp(next[l], key, klen);

			if (c > 0 || (c == 0 && !strict))
				break;
			next = next[l]->fwd;
		}
		if (preds != NULL)
			preds[l] = &next[l];
	}
	return t->height ? next[0] : NULL;
}

struct idx_ent *
idx_table_lookup(const struct idx_table *t, const void *key, uint32_t klen)
{
	struct idx_ent *e;

	if (t->buckets != NULL) {
		uint32_t h = (uint32_t)idx_hash(key, klen);

		for (e = t->buckets[h & t->mask]; e != NULL; e = e->hnext) {
			if (e->hash == h && e->klen == klen &&
			    memcmp(idx_ent_key(e), key, klen) == 0)
				return e;
		}
		return NULL;
	}
	e = table_find(t, key, klen, false, NULL);
	if (e != NULL && ent_cmp(e, key, klen) == 0)
		return e;
	return NULL;
}

struct idx_ent *
idx_table_seek(const struct idx_table *t, const void *key, uint32_t klen, bool incl)
{
	if (key == NULL)
		return idx_table_first(t);
	return table_find(t, key, klen, !incl, NULL);
}

int
idx_table_reserve(struct idx_table *t, const struct idx_ent *e)
{
	struct idx_ent **h;

	if (e->height <= t->hcap)
		return 0;
	h = realloc(t->head, sizeof(*h) * e->height);
	if (h == NULL)
		return -CAIRN_ERR_NOMEM;
	memset(h + t->hcap, 0, sizeof(*h) * (e->height - t->hcap));
	t->head = h;
	t->hcap = e->height;
	return 0;
}

/* (Re)build the bucket array with n slots from the ordered list. Failure keeps the old
 * array (chains just get longer) or none (lookups use the skip list). */
static void
table_rehash(struct idx_table *t, uint32_t n)
{
	struct idx_ent **b = calloc(n, sizeof(*b));
	struct idx_ent *e;

	if (b == NULL)
		return;
	for (e = idx_table_first(t); e != NULL; e = e->fwd[0]) {
		uint32_t i = e->hash & (n - 1);

		e->hnext = b[i];
		b[i] = e;
	}
	free(t->buckets);
	t->buckets = b;
	t->mask = n - 1;
}

void
idx_table_insert(struct idx_table *t, struct idx_ent *e)
{
	struct idx_ent **preds[IDX_MAX_HEIGHT];
	int l;

	table_find(t, idx_ent_key(e), e->klen, false, preds);
	for (l = t->height; l < e->height; l++)
		preds[l] = &t->head[l];
	for (l = 0; l < e->height; l++) {
		e->fwd[l] = *preds[l];
		*preds[l] = e;
	}
	if (e->height > t->height)
		t->height = e->height;
	t->nr++;
	if (t->buckets != NULL) {
		uint32_t i = e->hash & t->mask;

		e->hnext = t->buckets[i];
		t->buckets[i] = e;
		if (t->nr > t->mask + 1 && t->mask < (1u << 30))
			table_rehash(t, (t->mask + 1) * 2);
	} else if (t->nr > IDX_SMALL_TABLE) {
		table_rehash(t, 32);
	}
}

void
idx_table_remove(struct idx_table *t, struct idx_ent *e)
{
	struct idx_ent **preds[IDX_MAX_HEIGHT];
	int l;

	table_find(t, idx_ent_key(e), e->klen, false, preds);
	for (l = 0; l < e->height; l++) {
		if (*preds[l] == e)
			*preds[l] = e->fwd[l];
	}
	while (t->height > 0 && t->head[t->height - 1] == NULL)
		t->height--;
	if (t->buckets != NULL) {
		struct idx_ent **pp = &t->buckets[e->hash & t->mask];

		while (*pp != NULL && *pp != e)
			pp = &(*pp)->hnext;
		if (*pp == e)
			*pp = e->hnext;
	}
	e->hnext = NULL;
	t->nr--;
}

void
idx_table_fini(struct idx_table *t)
{
	free(t->buckets);
	free(t->head);
	idx_table_init(t);
}
