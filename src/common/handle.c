/*
 * Handle table (see common/handle.h): a growable slot array indexed by the low bits of
 * the cookie, with a per-slot generation in the high bits. A free list threads the empty
 * slots. A rwlock guards the array: lookups share it, insert/remove/grow take it
 * exclusively. References are dropped outside the lock, so free callbacks may use the
 * table.
 */
#include <pthread.h>
#include <stdlib.h>

#include "cairn/errno.h"
#include "common/handle.h"

#define SLOT_NONE UINT32_MAX
#define IDX_BITS 24
#define IDX_MASK ((1ull << IDX_BITS) - 1)
#define TYPE_SHIFT IDX_BITS
#define GEN_SHIFT 32
#define INITIAL_SLOTS 64u

struct htab_slot {
	struct cairn_hobj *h; /* NULL when free */
	uint32_t gen;
	uint32_t next_free;
};

struct cairn_htab {
	pthread_rwlock_t lock;
	struct htab_slot *slots;
	uint32_t nslots;
	uint32_t max_slots;
	uint32_t free_head;
	uint32_t count;
};

int
cairn_htab_create(struct cairn_htab **out, uint32_t max_slots)
{
	struct cairn_htab *tab;

	if (out == NULL || max_slots > CAIRN_HANDLE_MAX_SLOTS)
		return -CAIRN_ERR_INVAL;
	tab = calloc(1, sizeof(*tab));
	if (tab == NULL)
		return -CAIRN_ERR_NOMEM;
	if (pthread_rwlock_init(&tab->lock, NULL) != 0) {
		free(tab);
		return -CAIRN_ERR_NOMEM;
	}
	tab->max_slots = max_slots ? max_slots : CAIRN_HANDLE_MAX_SLOTS;
	tab->free_head = SLOT_NONE;
	*out = tab;
	return 0;
}

void
cairn_htab_destroy(struct cairn_htab *tab)
{
	if (tab == NULL)
		return;
	for (uint32_t i = 0; i < tab->nslots; i++) {
		struct cairn_hobj *h = tab->slots[i].h;

		if (h != NULL) {
			tab->slots[i].h = NULL;
			cairn_handle_put(h);
		}
	}
	pthread_rwlock_destroy(&tab->lock);
	free(tab->slots);
	free(tab);
}

void
cairn_handle_init(struct cairn_hobj *h, uint8_t type, cairn_hobj_free_cb free_cb)
{
	h->cookie = 0;
	h->type = type;
	h->free_cb = free_cb;
	cairn_ref_init(&h->ref, 1);
}

/* Caller holds the write lock. */
static int
htab_grow(struct cairn_htab *tab)
{
	uint32_t n = tab->nslots ? tab->nslots * 2 : INITIAL_SLOTS;
	struct htab_slot *s;

	if (tab->nslots >= tab->max_slots)
		return -CAIRN_ERR_NOSPACE;
	if (n > tab->max_slots || n < tab->nslots)
		n = tab->max_slots;
	s = realloc(tab->slots, (size_t)n * sizeof(*s));
	if (s == NULL)
		return -CAIRN_ERR_NOMEM;
	/* Thread the new slots onto the free list in index order. */
	for (uint32_t i = tab->nslots; i < n; i++) {
		s[i].h = NULL;
		s[i].gen = 1;
		s[i].next_free = i + 1 < n ? i + 1 : tab->free_head;
	}
	tab->free_head = tab->nslots;
	tab->slots = s;
	tab->nslots = n;
	return 0;
}

int
cairn_htab_insert(struct cairn_htab *tab, struct cairn_hobj *h)
{
	struct htab_slot *slot;
	uint32_t idx;
	int rc;

	if (tab == NULL || h == NULL || h->free_cb == NULL || h->cookie != 0)
		return -CAIRN_ERR_INVAL;
	pthread_rwlock_wrlock(&tab->lock);
	if (tab->free_head == SLOT_NONE) {
		rc = htab_grow(tab);
		if (rc != 0) {
			pthread_rwlock_unlock(&tab->lock);
			return rc;
		}
	}
	idx = tab->free_head;
	slot = &tab->slots[idx];
	tab->free_head = slot->next_free;
	slot->next_free = SLOT_NONE;
	cairn_handle_get(h); /* the table's reference */
	slot->h = h;
	h->cookie = ((uint64_t)slot->gen << GEN_SHIFT) | ((uint64_t)h->type << TYPE_SHIFT) |
		    (uint64_t)(idx + 1);
	tab->count++;
	pthread_rwlock_unlock(&tab->lock);
	return 0;
}

/* Caller holds the lock. Returns the slot that cookie names, or NULL if it misses. */
static struct htab_slot *
htab_slot_of(struct cairn_htab *tab, uint64_t cookie, uint8_t type)
{
	uint64_t idx1 = cookie & IDX_MASK;
	struct htab_slot *slot;

	if (idx1 == 0 || idx1 > tab->nslots)
		return NULL;
	if (((cookie >> TYPE_SHIFT) & 0xff) != type)
		return NULL;
	slot = &tab->slots[idx1 - 1];
	if (slot->h == NULL || slot->gen != (uint32_t)(cookie >> GEN_SHIFT))
		return NULL;
	return slot;
}

struct cairn_hobj *
cairn_htab_lookup(struct cairn_htab *tab, uint64_t cookie, uint8_t type)
{
	struct htab_slot *slot;
	struct cairn_hobj *h = NULL;

	if (tab == NULL)
		return NULL;
	pthread_rwlock_rdlock(&tab->lock);
	slot = htab_slot_of(tab, cookie, type);
	if (slot != NULL) {
		h = slot->h;
		/* The table's reference keeps the count above zero while we hold the lock. */
		cairn_handle_get(h);
	}
	pthread_rwlock_unlock(&tab->lock);
	return h;
}

int
cairn_htab_remove(struct cairn_htab *tab, uint64_t cookie, uint8_t type)
{
	struct htab_slot *slot;
	struct cairn_hobj *h;

	if (tab == NULL)
		return -CAIRN_ERR_INVAL;
	pthread_rwlock_wrlock(&tab->lock);
	slot = htab_slot_of(tab, cookie, type);
	if (slot == NULL) {
		pthread_rwlock_unlock(&tab->lock);
		return -CAIRN_ERR_NOHANDLE;
	}
	h = slot->h;
	slot->h = NULL;
	slot->gen++; /* the old cookie is now stale */
	slot->next_free = tab->free_head;
	tab->free_head = (uint32_t)(slot - tab->slots);
	tab->count--;
	pthread_rwlock_unlock(&tab->lock);
	cairn_handle_put(h);
	return 0;
}

uint32_t
cairn_htab_count(struct cairn_htab *tab)
{
	uint32_t n;

	pthread_rwlock_rdlock(&tab->lock);
	n = tab->count;
	pthread_rwlock_unlock(&tab->lock);
	return n;
}
