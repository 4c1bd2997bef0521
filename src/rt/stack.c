/*
 * ULT stacks and initial context frames.
 *
 * Stacks are mmap'd with one PROT_NONE guard page below them (a stack overflow faults
 * instead of corrupting a neighbour) and cached in a per-xstream pool, so creating a
 * ULT costs no system call in steady state. Only the owning xstream touches its pool.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdlib.h>

#define CAIRN_LOG_SS CAIRN_SS_RT
#include "common/log.h"
#include "rt_internal.h"

static _Atomic size_t g_page_size; /* read by every xstream; set by whichever is first */

size_t
rt_page_size(void)
{
	size_t ps = atomic_load_explicit(&g_page_size, memory_order_relaxed);

	if (ps == 0) {
		long v = sysconf(_SC_PAGESIZE);

		ps = v > 0 ? (size_t)v : 4096;
		atomic_store_explicit(&g_page_size, ps, memory_order_relaxed);
	}
	return ps;
}

void *
rt_ctx_make(void *stack_top, void (*entry)(void *), void *arg)
{
	uintptr_t top = (uintptr_t)stack_top & ~(uintptr_t)15;
#if defined(__x86_64__)
	uint64_t *f = (uint64_t *)(top - 64);
	uint32_t mxcsr;
	uint16_t cw;

	__asm__ __volatile__("stmxcsr %0" : "=m"(mxcsr));
	__asm__ __volatile__("fnstcw %0" : "=m"(cw));
	memset(f, 0, 64);
	f[0] = (uint64_t)mxcsr | ((uint64_t)cw << 32);
	f[1] = 0;                          /* r15 */
	f[2] = 0;                          /* r14 */
	f[3] = (uint64_t)(uintptr_t)arg;   /* r13 */
	f[4] = (uint64_t)(uintptr_t)entry; /* r12 */
	f[5] = 0;                          /* rbx */
	f[6] = 0;                          /* rbp */
	f[7] = (uint64_t)(uintptr_t)cairn_rt_ctx_trampoline;
	return f;
#elif defined(__aarch64__)
	uint64_t *f = (uint64_t *)(top - 176);
	uint64_t fpcr;

	__asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
	memset(f, 0, 176);
	f[0] = (uint64_t)(uintptr_t)entry;                    /* x19 */
	f[1] = (uint64_t)(uintptr_t)arg;                      /* x20 */
	f[10] = 0;                                            /* x29 */
	f[11] = (uint64_t)(uintptr_t)cairn_rt_ctx_trampoline; /* x30 */
	f[20] = fpcr;
	return f;
#else
#error "cairn runtime: no context switch for this architecture"
#endif
}

void
rt_stack_pool_init(struct rt_stack_pool *p, size_t size, unsigned max_free)
{
	cairn_list_init(&p->free);
	p->nr_free = 0;
	p->max_free = max_free;
	p->size = size;
}

static struct rt_stack *
stack_alloc(size_t size)
{
	size_t ps = rt_page_size();
	struct rt_stack *s;
	void *base;

	size = (size + ps - 1) & ~(ps - 1);
	s = malloc(sizeof(*s));
	if (s == NULL)
		return NULL;
	base = mmap(NULL, size + ps, PROT_READ | PROT_WRITE,
	            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (base == MAP_FAILED) {
		CAIRN_ERROR("mmap of a %zu-byte ULT stack failed", size + ps);
		free(s);
		return NULL;
	}
	if (mprotect(base, ps, PROT_NONE) != 0) {
		CAIRN_ERROR("mprotect of a ULT stack guard page failed");
		munmap(base, size + ps);
		free(s);
		return NULL;
	}
	cairn_list_init(&s->link);
	s->base = base;
	s->size = size;
	return s;
}

static void
stack_free(struct rt_stack *s)
{
	munmap(s->base, s->size + rt_page_size());
	free(s);
}

struct rt_stack *
rt_stack_get(struct rt_stack_pool *p, size_t size)
{
	struct cairn_list *n;

	if (size == 0 || size == p->size) {
		n = cairn_list_pop(&p->free);
		if (n != NULL) {
			p->nr_free--;
			return cairn_container_of(n, struct rt_stack, link);
		}
		size = p->size;
	}
	return stack_alloc(size);
}

void
rt_stack_put(struct rt_stack_pool *p, struct rt_stack *s)
{
#ifdef RT_ASAN
	/* Frames of the finished ULT never returned: clear their stale redzones. */
	ASAN_UNPOISON_MEMORY_REGION(rt_stack_bottom(s), s->size);
#endif
	if (s->size == p->size && p->nr_free < p->max_free) {
		cairn_list_add(&s->link, &p->free);
		p->nr_free++;
		return;
	}
	stack_free(s);
}

void
rt_stack_pool_fini(struct rt_stack_pool *p)
{
	struct cairn_list *n;

	while ((n = cairn_list_pop(&p->free)) != NULL)
		stack_free(cairn_container_of(n, struct rt_stack, link));
	p->nr_free = 0;
}
