/*
 * VOS index: the keyed table used at every level (objects, dkeys, akeys).
 *
 * Exact lookups go through hash chains (built once a table outgrows IDX_SMALL_TABLE);
 * ordered iteration, seeks and anchors go through a skip list threaded through the same
 * entries. A node's height comes from its key's hash, not from a random generator, so the
 * structure is a pure function of the keys (replay and checkpoint reload rebuild it
 * identically). An entry is one allocation: header, key bytes, body (see idx_internal.h).
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

/* Equality of two keys of length n; short keys without a libc call. */
static inline bool
key_eq(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	uint64_t x, y;

	if (n > 16)
		return memcmp(a, b, n) == 0;
	while (n >= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return false;
		a += 8;
		b += 8;
		n -= 8;
	}
	while (n-- > 0) {
		if (*a++ != *b++)
			return false;
	}
	return true;
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

static size_t
ent_size(enum idx_level level, const void *key, uint32_t klen, bool big, uint32_t extra,
         uint64_t *h, uint8_t *height)
{
	uint32_t x;
	size_t size;

	*h = idx_hash(key, klen);
	x = (uint32_t)(*h >> 32);
	*height = 1;
	/* p = 1/4 per level */
	while ((x & 3) == 0 && *height < 17) {
		(*height)++;
		x >>= 2;
	}
	size = idx_body_off(klen) + sizeof(struct idx_body) + *height * sizeof(struct idx_ent *);
	if (level == IDX_L_AKEY)
		size += idx_slot_size(big) + extra;
	return size;
}

static void
ent_init(struct idx_ent *e, enum idx_level level, const void *key, uint32_t klen, uint64_t h,
         uint8_t height, bool big)
{
	e->hash = (uint32_t)h;
	e->klen = (uint16_t)klen;
	e->height = height;
	e->level = (uint8_t)level;
	memcpy(e->key, key, klen);
	if (level != IDX_L_AKEY)
		idx_table_init(&B(e)->child);
	else
		B(e)->val.bigslot = big;
}

struct idx_ent *
idx_ent_alloc(struct cairn_vos_idx *idx, enum idx_level level, const void *key, uint32_t klen,
              bool bigslot, uint32_t extra)
{
	struct idx_ent *e;
	uint8_t height;
	uint64_t h;
	size_t size = ent_size(level, key, klen, bigslot, extra, &h, &height);

	(void)idx;
	e = calloc(1, size);
	if (e != NULL)
		ent_init(e, level, key, klen, h, height, bigslot);
	return e;
}

int
idx_ent_alloc_pair(struct cairn_vos_idx *idx, const void *dkey, uint32_t dlen, const void *akey,
                   uint32_t alen, bool bigslot, uint32_t extra, struct idx_ent **dk,
                   struct idx_ent **ak)
{
	uint8_t dh, ah;
	uint64_t dhash, ahash;
	size_t dsz = ent_size(IDX_L_DKEY, dkey, dlen, false, 0, &dhash, &dh);
	size_t asz = ent_size(IDX_L_AKEY, akey, alen, bigslot, extra, &ahash, &ah);
	uint8_t *m;

	(void)idx;
	dsz = (dsz + 15) & ~(size_t)15;
	m = calloc(1, dsz + asz);
	if (m == NULL)
		return -CAIRN_ERR_NOMEM;
	*dk = (struct idx_ent *)m;
	*ak = (struct idx_ent *)(m + dsz);
	ent_init(*dk, IDX_L_DKEY, dkey, dlen, dhash, dh, false);
	ent_init(*ak, IDX_L_AKEY, akey, alen, ahash, ah, bigslot);
	(*ak)->inner = 1;
	return 0;
}

void
idx_ent_release(struct cairn_vos_idx *idx, struct idx_ent *e)
{
	(void)idx;
	if (!e->inner)
		free(e);
}

static inline struct idx_ent **
head_slot(const struct idx_table *t, int l)
{
	return l == 0 ? (struct idx_ent **)&t->first : &t->head[l - 1];
}

/* Walk down; preds[l] (if given) gets the slot pointing at the first entry >= key (or >
 * key when strict) on level l. Returns that entry on level 0. */
static struct idx_ent *
table_find(const struct idx_table *t, const void *key, uint32_t klen, bool strict,
           struct idx_ent ***preds)
{
	struct idx_ent *cur = NULL;
	struct idx_ent **slot = head_slot(t, 0);
	int l;

	for (l = t->height - 1; l >= 0; l--) {
		slot = cur != NULL ? &B(cur)->fwd[l] : head_slot(t, l);
		while (*slot != NULL) {
			int c = ent_cmp(*slot, key, klen);

			if (c > 0 || (c == 0 && !strict))
				break;
			cur = *slot;
			slot = &B(cur)->fwd[l];
		}
		if (preds != NULL)
			preds[l] = slot;
	}
	return *slot;
}

struct idx_ent *
idx_table_lookup(const struct idx_table *t, const void *key, uint32_t klen)
{
	struct idx_ent *e;

	if (t->buckets != NULL) {
		uint32_t h = (uint32_t)idx_hash(key, klen);

		for (e = t->buckets[h & ((1u << t->bshift) - 1)]; e != NULL; e = e->hnext) {
			if (e->hash != h)
				continue;
			/* likely the one: its body, first child and value follow in the next
			 * lines (see idx_ent_alloc_pair); fetch them in parallel */
			__builtin_prefetch((const uint8_t *)e + 64);
			__builtin_prefetch((const uint8_t *)e + 128);
			__builtin_prefetch((const uint8_t *)e + 192);
			if (e->klen == klen && key_eq(idx_ent_key(e), key, klen))
				return e;
		}
		return NULL;
	}
	/* small: the ordered list, from the inline first pointer */
	for (e = t->first; e != NULL; e = B(e)->fwd[0]) {
		if (e->klen == klen && key_eq(idx_ent_key(e), key, klen))
			return e;
	}
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
	uint8_t have = t->hcap ? t->hcap : 1; /* level 0 is t->first */
	struct idx_ent **h;

	if (e->height <= have)
		return 0;
	h = realloc(t->head, sizeof(*h) * (e->height - 1));
	if (h == NULL)
		return -CAIRN_ERR_NOMEM;
	memset(h + (have - 1), 0, sizeof(*h) * (e->height - have));
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
	for (e = idx_table_first(t); e != NULL; e = B(e)->fwd[0]) {
		uint32_t i = e->hash & (n - 1);

		e->hnext = b[i];
		b[i] = e;
	}
	free(t->buckets);
	t->buckets = b;
	t->bshift = (uint8_t)__builtin_ctz(n);
}

void
idx_table_insert(struct idx_table *t, struct idx_ent *e)
{
	struct idx_ent **preds[IDX_MAX_HEIGHT];
	int l;

	table_find(t, idx_ent_key(e), e->klen, false, preds);
	for (l = t->height; l < e->height; l++)
		preds[l] = head_slot(t, l);
	for (l = 0; l < e->height; l++) {
		B(e)->fwd[l] = *preds[l];
		*preds[l] = e;
	}
	if (e->height > t->height)
		t->height = e->height;
	t->nr++;
	if (t->buckets != NULL) {
		uint32_t n = 1u << t->bshift, i = e->hash & (n - 1);

		e->hnext = t->buckets[i];
		t->buckets[i] = e;
		if (t->nr > n && n < (1u << 30))
			table_rehash(t, n * 2);
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
			*preds[l] = B(e)->fwd[l];
	}
	while (t->height > 0 && *head_slot(t, t->height - 1) == NULL)
		t->height--;
	if (t->buckets != NULL) {
		struct idx_ent **pp = &t->buckets[e->hash & ((1u << t->bshift) - 1)];

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

int
idx_val_reserve(struct idx_ent *a, size_t esz)
{
	struct idx_val *v = &B(a)->val;
	void *slot = idx_ent_slot(a), *r;
	uint32_t cap;

	if (v->nr == 0 && v->cap > 0 && v->vtype != 0 &&
	    esz != (v->vtype == CAIRN_VOS_IDX_ARRAY ? sizeof(struct idx_ext)
	                                            : sizeof(struct idx_ver))) {
		/* an emptied akey changing type: its array was sized for the other record */
		idx_val_free(a);
	}
	if (v->nr < v->cap)
		return 0;
	if (v->cap == 0 && esz <= idx_slot_size(v->bigslot)) {
		v->recs = slot;
		v->cap = 1;
		return 0;
	}
	cap = v->cap ? v->cap * 2 : 2;
	if (v->recs == slot) {
		r = malloc(esz * cap);
		if (r != NULL)
			memcpy(r, slot, esz * v->nr);
	} else {
		r = realloc(v->recs, esz * cap);
	}
	if (r == NULL)
		return -CAIRN_ERR_NOMEM;
	v->recs = r;
	v->cap = cap;
	return 0;
}

void
idx_val_free(struct idx_ent *a)
{
	if (B(a)->val.recs != idx_ent_slot(a))
		free(B(a)->val.recs);
	B(a)->val.recs = NULL;
	B(a)->val.nr = B(a)->val.cap = 0;
}
