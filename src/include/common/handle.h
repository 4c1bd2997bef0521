/*
 * Handle table: maps 64-bit cookies to reference-counted objects, so that handles can
 * be given to clients (over the network or the public API) without trusting them.
 *
 * Cookie layout (never 0):
 *   bits  0..23  slot index + 1 (up to 16M live handles per table)
 *   bits 24..31  object type (caller-defined, 0..255), checked on lookup
 *   bits 32..63  slot generation, bumped when the slot is freed
 * A cookie that was removed, or whose slot was reused, or of another type, misses.
 *
 * Objects embed a struct cairn_hobj and give a free callback, run when the last
 * reference goes. The table holds one reference from insert until remove.
 *
 * Threads: every function may be called from any thread. Lookups take a shared lock
 * and an atomic reference; insert/remove take the exclusive lock briefly.
 */
#ifndef CAIRN_COMMON_HANDLE_H
#define CAIRN_COMMON_HANDLE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/ref.h"

#define CAIRN_HANDLE_TYPE_MAX 255u
#define CAIRN_HANDLE_MAX_SLOTS ((1u << 24) - 1)

struct cairn_hobj;

/** Called once, when the last reference is dropped: free the containing object. */
typedef void (*cairn_hobj_free_cb)(struct cairn_hobj *h);

struct cairn_hobj {
	uint64_t cookie; /* 0 until inserted; kept after removal for messages */
	struct cairn_ref ref;
	uint8_t type;
	cairn_hobj_free_cb free_cb;
};

struct cairn_htab;

/**
 * Create a table.
 * \param[out] out      the new table
 * \param[in]  max_slots most live handles (1..CAIRN_HANDLE_MAX_SLOTS; 0 = the maximum)
 * \return 0, -CAIRN_ERR_INVAL or -CAIRN_ERR_NOMEM
 */
int cairn_htab_create(struct cairn_htab **out, uint32_t max_slots);

/**
 * Destroy a table. Handles still inserted are removed (the table's reference dropped,
 * so objects nobody else holds are freed). NULL is a no-op.
 */
void cairn_htab_destroy(struct cairn_htab *tab);

/**
 * Prepare an object's handle with one reference (the caller's).
 * \param[in] type    0..255, compared on lookup
 * \param[in] free_cb called when the count reaches zero (required)
 */
void cairn_handle_init(struct cairn_hobj *h, uint8_t type, cairn_hobj_free_cb free_cb);

/**
 * Insert: assign h->cookie and make it findable; the table takes its own reference.
 * \return 0, -CAIRN_ERR_INVAL (already inserted / bad handle), -CAIRN_ERR_NOSPACE (table
 *         full) or -CAIRN_ERR_NOMEM
 */
int cairn_htab_insert(struct cairn_htab *tab, struct cairn_hobj *h);

/**
 * Find the object for a cookie and take a reference on it (release with
 * cairn_handle_put()).
 * \return the handle, or NULL if the cookie is 0, stale, removed or of another type.
 */
struct cairn_hobj *cairn_htab_lookup(struct cairn_htab *tab, uint64_t cookie, uint8_t type);

/**
 * Remove by cookie: later lookups miss; drops the table's reference (the object lives
 * on while others hold references).
 * \return 0 or -CAIRN_ERR_NOHANDLE (unknown or stale cookie, or wrong type)
 */
int cairn_htab_remove(struct cairn_htab *tab, uint64_t cookie, uint8_t type);

/** Number of handles currently inserted. */
uint32_t cairn_htab_count(struct cairn_htab *tab);

/** Take another reference on an object the caller already holds. */
static inline void
cairn_handle_get(struct cairn_hobj *h)
{
	cairn_ref_get(&h->ref);
}

/** Drop a reference; the last one calls free_cb. */
static inline void
cairn_handle_put(struct cairn_hobj *h)
{
	if (cairn_ref_put(&h->ref))
		h->free_cb(h);
}

#endif /* CAIRN_COMMON_HANDLE_H */
