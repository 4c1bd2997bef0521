/*
 * Shareable I/O buffers (cairn_vos_buf_alloc/free, vos.h). A buffer is block aligned and
 * reference counted; the extent cache takes a reference to an update's value when the
 * value is such a buffer, instead of copying it (a 1 MiB copy per update was ~14% of the
 * engine's CPU). Released buffers are kept on a bounded free list and handed out again,
 * so the engine's per-RPC value buffers stop costing fresh pages per request.
 *
 * Buffers of 256 KiB .. 2 MiB (powers of two) are carved from 2 MiB chunks aligned to 2
 * MiB and advised as transparent huge pages: the socket receive into them and the
 * O_DIRECT write from them (which pins every page: get_user_pages) then walk one huge
 * page instead of 256 small ones. A chunk is freed when all its buffers are.
 *
 * Any thread may allocate, reference or release: one mutex guards the registry.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "common/log.h"
#include "vos_internal.h"
#include "vos/vos.h"

#define VOS_BUF_BUCKETS 1024u           /* registry hash buckets (power of two) */
#define VOS_BUF_FREE_MAX (64ull << 20)  /* bytes kept on the free list */
#define VOS_BUF_CHUNK (2ull << 20)      /* huge page chunk */
#define VOS_BUF_CHUNK_MIN (256ull << 10) /* smallest buffer carved from a chunk */

struct vos_buf_chunk {
	char *mem;
	uint32_t live;         /* buffers of this chunk not yet destroyed */
};

struct vos_buf {
	struct vos_buf *next;  /* registry chain or free list */
	char *data;
	uint64_t cap;
	uint32_t refs;
	struct vos_buf_chunk *chunk; /* NULL: data is its own allocation */
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

static void
buf_destroy(struct vos_buf *b)
{
	if (b->chunk == NULL) {
		vos_buf_free(b->data);
	} else if (--b->chunk->live == 0) {
		free(b->chunk->mem);
		free(b->chunk);
	}
	free(b);
}

/* New buffer(s) of cap bytes: one returned, the rest of a chunk on *spare (a list). */
static struct vos_buf *
buf_new(uint64_t cap, struct vos_buf **spare)
{
	struct vos_buf_chunk *ch;
	struct vos_buf *b;
	uint32_t n, i;

	*spare = NULL;
	if (cap < VOS_BUF_CHUNK_MIN || cap > VOS_BUF_CHUNK || (cap & (cap - 1)) != 0) {
		b = calloc(1, sizeof(*b));
		if (b == NULL)
			return NULL;
		b->data = vos_buf_alloc(cap);
		if (b->data == NULL) {
			free(b);
			return NULL;
		}
		b->cap = cap;
		return b;
	}
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL || posix_memalign((void **)&ch->mem, VOS_BUF_CHUNK, VOS_BUF_CHUNK) != 0) {
		free(ch);
		return NULL;
	}
	(void)madvise(ch->mem, VOS_BUF_CHUNK, MADV_HUGEPAGE); /* best effort */
	n = (uint32_t)(VOS_BUF_CHUNK / cap);
	b = NULL;
	for (i = 0; i < n; i++) {
		struct vos_buf *x = calloc(1, sizeof(*x));

		if (x == NULL)
			break;
		x->data = ch->mem + (uint64_t)i * cap;
		x->cap = cap;
		x->chunk = ch;
		ch->live++;
		if (b == NULL) {
			b = x;
		} else {
			x->next = *spare;
			*spare = x;
		}
	}
	if (b == NULL) {
		free(ch->mem);
		free(ch);
	}
	return b;
}

void *
cairn_vos_buf_alloc(uint64_t len)
{
	uint64_t cap = vos_round_up(len ? len : 1, VOS_BLK);
	struct vos_buf **pp, *b = NULL, *spare = NULL;

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
		b = buf_new(cap, &spare);
		if (b == NULL)
			return NULL;
	}
	b->refs = 1;
	pthread_mutex_lock(&g_buf_lock);
	pp = &g_buf_hash[buf_bucket(b->data)];
	b->next = *pp;
	*pp = b;
	while (spare != NULL) { /* the chunk's other buffers: free for the next callers */
		struct vos_buf *x = spare;

		spare = x->next;
		x->next = g_buf_free;
		g_buf_free = x;
		g_buf_free_bytes += x->cap;
	}
	pthread_mutex_unlock(&g_buf_lock);
	return b->data;
}

/* Drop one reference (locked); the last one recycles the buffer, or returns it to be
 * destroyed outside the lock (free list full). */
static struct vos_buf *
buf_unref_locked(struct vos_buf **pp)
{
	struct vos_buf *b = *pp;

	if (--b->refs > 0)
		return NULL;
	*pp = b->next;
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
	if (b == NULL)
		return;
	pthread_mutex_lock(&g_buf_lock); /* chunk counts are shared */
	buf_destroy(b);
	pthread_mutex_unlock(&g_buf_lock);
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
