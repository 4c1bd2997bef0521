/*
 * Shareable I/O buffers (cairn_vos_buf_alloc/free, vos.h). A buffer is block aligned and
 * reference counted; the extent cache takes a reference to an update's value when the
 * value is such a buffer, instead of copying it (a 1 MiB copy per update was ~14% of the
 * engine's CPU). Released buffers are kept on a bounded free list and handed out again,
 * so the engine's per-RPC value buffers stop costing a fresh mmap and page faults per
 * request. Any thread may allocate, reference or release: one mutex guards the registry.
 */
#include <pthread.h>
#include <stdlib.h>

#include "common/log.h"
#include "vos_internal.h"
#include "vos/vos.h"

#define VOS_BUF_BUCKETS 1024u           /* registry hash buckets (power of two) */
#define VOS_BUF_FREE_MAX (64ull << 20)  /* bytes kept on the free list */

struct vos_buf {
	struct vos_buf *next;  /* registry chain or free list */
	char *data;
	uint64_t cap;
	uint32_t refs;
};

static pthread_mutex_t g_buf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vos_buf *g_buf_hash[VOS_BUF_BUCKETS];
static struct vos_buf *g_buf_free;
static uint64_t g_buf_free_bytes;

static inline uint32_t
buf_bucket(const void *data)
{
	uint64_t h = ((uintptr_t)data >> 12) * 0x9E3779B97F4A7C15ull;

	return (uint32_t)(h >> 40) & (VOS_BUF_BUCKETS - 1);
}

/* Registry slot of data (locked). */
static struct vos_buf **
buf_find(const void *data)
{
	struct vos_buf **pp = &g_buf_hash[buf_bucket(data)];

	while (*pp != NULL && (*pp)->data != data)
		pp = &(*pp)->next;
	return pp;
}

void *
cairn_vos_buf_alloc(uint64_t len)
{
	uint64_t cap = vos_round_up(len ? len : 1, VOS_BLK);
	struct vos_buf **pp, *b = NULL;

	pthread_mutex_lock(&g_buf_lock);
	for (pp = &g_buf_free; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->cap == cap) {
			b = *pp;
			*pp = b->next;
			g_buf_free_bytes -= cap;
			break;
		}
	}
	pthread_mutex_unlock(&g_buf_lock);
	if (b == NULL) {
		b = malloc(sizeof(*b));
		if (b == NULL)
			return NULL;
		b->data = vos_buf_alloc(cap);
		if (b->data == NULL) {
			free(b);
			return NULL;
		}
		b->cap = cap;
	}
	b->refs = 1;
	pthread_mutex_lock(&g_buf_lock);
	pp = &g_buf_hash[buf_bucket(b->data)];
	b->next = *pp;
	*pp = b;
	pthread_mutex_unlock(&g_buf_lock);
	return b->data;
}

/* Drop one reference (locked); the last one recycles or frees the buffer. Returns the
 * buffer to free outside the lock, or NULL. */
static struct vos_buf *
buf_unref_locked(struct vos_buf **pp)
{
	struct vos_buf *b = *pp;

	if (--b->refs > 0)
		return NULL;
	*pp = b->next;
	/* keep the free list to a few distinct sizes' worth, the newest first */
	if (g_buf_free_bytes + b->cap <= VOS_BUF_FREE_MAX) {
		b->next = g_buf_free;
		g_buf_free = b;
		g_buf_free_bytes += b->cap;
		return NULL;
	}
	return b;
}

static void
buf_release(struct vos_buf *b)
{
	if (b != NULL) {
		vos_buf_free(b->data);
		free(b);
	}
}

void
cairn_vos_buf_free(void *data)
{
	struct vos_buf **pp, *dead = NULL;
	bool known;

	if (data == NULL)
		return;
	pthread_mutex_lock(&g_buf_lock);
	pp = buf_find(data);
	known = *pp != NULL;
	if (known)
		dead = buf_unref_locked(pp);
	pthread_mutex_unlock(&g_buf_lock);
	if (!known)
		CAIRN_ERROR("cairn_vos_buf_free(%p): not a buffer from cairn_vos_buf_alloc "
			    "(ignored; fix the caller)", data);
	buf_release(dead);
}

bool
vos_buf_ref(const void *data, uint64_t len)
{
	struct vos_buf *b;
	bool ok = false;

	if (data == NULL || ((uintptr_t)data & (VOS_BLK - 1)))
		return false; /* every shareable buffer is block aligned: skip the lock */
	pthread_mutex_lock(&g_buf_lock);
	b = *buf_find(data);
	if (b != NULL && len <= b->cap) {
		b->refs++;
		ok = true;
	}
	pthread_mutex_unlock(&g_buf_lock);
	return ok;
}

void
vos_buf_unref(const void *data)
{
	struct vos_buf **pp, *dead = NULL;

	pthread_mutex_lock(&g_buf_lock);
	pp = buf_find(data);
	if (*pp != NULL)
		dead = buf_unref_locked(pp);
	pthread_mutex_unlock(&g_buf_lock);
	buf_release(dead);
}
