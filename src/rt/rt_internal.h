/*
 * Private to src/rt: the xstream, ULT, timer and waiter structures shared by the
 * runtime's source files. Nothing outside src/rt includes this.
 */
#ifndef CAIRN_RT_INTERNAL_H
#define CAIRN_RT_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include "cairn/errno.h"
#include "common/list.h"
#include "rt/rt.h"
#include "rt/module.h"

#if defined(CAIRN_SANITIZE) && (defined(__SANITIZE_ADDRESS__) || defined(__has_feature))
#if defined(__SANITIZE_ADDRESS__)
#define RT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_ASAN 1
#endif
#endif
#endif

#ifdef RT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

/* ThreadSanitizer: every ULT is a TSan fiber, switched to right before each context
 * switch, so TSan follows ULTs across stacks (CAIRN_SANITIZE=thread builds). */
#if defined(__SANITIZE_THREAD__)
#define RT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RT_TSAN 1
#endif
#endif
#ifdef RT_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#define RT_CACHELINE 64

/* ------------------------------------------------------------------ context switch */

/* Save callee-saved registers, FP control words and the stack pointer of the current
 * context into *from_sp, then resume the context whose saved stack pointer is to_sp. */
void cairn_rt_ctx_switch(void **from_sp, void *to_sp);
/* First instruction of every new context: calls entry(arg), which must never return. */
void cairn_rt_ctx_trampoline(void);
/* Build the initial frame on a fresh stack so that switching to it runs entry(arg). */
void *rt_ctx_make(void *stack_top, void (*entry)(void *), void *arg);

/* ------------------------------------------------------------------ spinlock */

struct rt_spin {
	atomic_uint v;
};

void rt_spin_lock_slow(struct rt_spin *s);

static inline void
rt_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static inline void
rt_spin_lock(struct rt_spin *s)
{
	if (atomic_exchange_explicit(&s->v, 1, memory_order_acquire) == 0)
		return;
	rt_spin_lock_slow(s);
}

static inline void
rt_spin_unlock(struct rt_spin *s)
{
	atomic_store_explicit(&s->v, 0, memory_order_release);
}

/* ------------------------------------------------------------------ waiters */

/* One blocked waiter: a ULT (parks) or a plain thread (futex on `woken`). Lives on the
 * waiter's stack. The waker sets `woken` and wakes while holding the lock protecting
 * the wait queue; the waiter takes that lock once after seeing `woken`, so the waker is
 * done with the entry (and the lock) before the waiter returns. */
struct rt_waiter {
	struct cairn_list link;
	struct cairn_ult *ult; /* NULL: plain thread */
	atomic_uint woken;
};

void rt_waiter_init(struct rt_waiter *w);
/* Wait until w->woken, releasing `lock` first. deadline_us == 0: no timeout. Returns 0
 * when woken, -CAIRN_ERR_TIMEDOUT on timeout (then the caller must remove w from its
 * queue under the lock; if woken meanwhile, treat as woken). Retakes no lock. */
int rt_waiter_wait(struct rt_waiter *w, struct rt_spin *lock, uint64_t deadline_us);
/* Called with the queue lock held, after removing w from the queue. */
void rt_waiter_wake(struct rt_waiter *w);

/* ------------------------------------------------------------------ timers */

struct rt_timer;
typedef void (*rt_timer_fn)(struct rt_timer *t);

struct rt_timer {
	uint64_t deadline_us;
	int idx; /* position in the heap, -1 when not armed */
	rt_timer_fn fn;
	void *arg;
};

struct rt_timer_heap {
	struct rt_timer **v;
	unsigned nr;
	unsigned cap;
};

int rt_timer_arm(struct cairn_xstream *xs, struct rt_timer *t, uint64_t deadline_us);
void rt_timer_cancel(struct cairn_xstream *xs, struct rt_timer *t);
/* Fire every timer due at `now`; returns how many fired. */
unsigned rt_timers_run(struct cairn_xstream *xs, uint64_t now);
void rt_timer_heap_fini(struct rt_timer_heap *h);

/* ------------------------------------------------------------------ stacks */

struct rt_stack {
	struct cairn_list link;
	void *base;  /* mmap base: the guard page */
	size_t size; /* usable bytes above the guard page */
};

struct rt_stack_pool {
	struct cairn_list free;
	unsigned nr_free;
	unsigned max_free;
	size_t size; /* pooled stack size */
};

void rt_stack_pool_init(struct rt_stack_pool *p, size_t size, unsigned max_free);
void rt_stack_pool_fini(struct rt_stack_pool *p);
struct rt_stack *rt_stack_get(struct rt_stack_pool *p, size_t size);
void rt_stack_put(struct rt_stack_pool *p, struct rt_stack *s);
size_t rt_page_size(void);

static inline void *
rt_stack_top(const struct rt_stack *s)
{
	return (char *)s->base + rt_page_size() + s->size;
}

static inline void *
rt_stack_bottom(const struct rt_stack *s)
{
	return (char *)s->base + rt_page_size();
}

/* ------------------------------------------------------------------ ULTs */

enum rt_ult_state {
	RT_ULT_NEW = 0, /* created remotely: no stack yet */
	RT_ULT_READY,
	RT_ULT_RUNNING,
	RT_ULT_BLOCKED, /* parked */
	RT_ULT_DONE,
};

/* Park token states (cairn_ult_park/wake). */
enum {
	RT_PARK_NONE = 0,
	RT_PARK_TOKEN = 1,  /* a wake arrived while not parked */
	RT_PARK_PARKED = 2, /* switched out, waiting for a wake */
};

/* Why a ULT gave the CPU back to its scheduler. */
enum rt_yield_reason {
	RT_YIELD_YIELD = 0,
	RT_YIELD_PARK,
	RT_YIELD_EXIT,
};

struct cairn_ult {
	void *sp; /* saved stack pointer: first member (used from assembly by offset 0) */
	struct cairn_list link;        /* ready queue */
	struct cairn_ult *remote_next; /* remote-ready stack */
	struct cairn_xstream *xs;
	struct rt_stack *stack;
	size_t stack_size;
	cairn_ult_fn fn;
	void *arg;
	enum cairn_prio prio;
	enum rt_ult_state state;
	enum rt_yield_reason reason;
	atomic_int park;
	bool joinable;
	/* join */
	struct rt_spin join_lock;
	bool done;
	int rc; /* 0, or -CAIRN_ERR_NOMEM when a remotely created ULT could not start */
	struct cairn_list joiners;
#ifdef RT_ASAN
	void *asan_fake;
#endif
#ifdef RT_TSAN
	void *tsan_fiber;
#endif
};

/* ------------------------------------------------------------------ messages */

/* One slot of the bounded MPSC message ring (Vyukov's sequence-per-cell design): seq ==
 * pos means free for the producer claiming position pos, seq == pos + 1 means published
 * for the consumer. 32 bytes: two cells per cache line. */
struct rt_msg_cell {
	_Atomic uint64_t seq;
	cairn_msg_fn fn;
	void *arg;
	uint64_t pad;
};

int rt_ring_init(struct cairn_xstream *xs, unsigned size);
void rt_ring_fini(struct cairn_xstream *xs);

/* ------------------------------------------------------------------ pollers */

struct cairn_poller {
	struct cairn_list link;
	struct cairn_xstream *xs;
	cairn_poller_fn fn;
	void *arg;
	uint64_t period_us;
	struct rt_timer timer;
	bool paused;
	bool unregistered;
	bool running;
	char name[32];
	uint64_t runs;
	uint64_t busy_runs;
};

/* ------------------------------------------------------------------ xstream */

#define RT_WRR_NET 4
#define RT_WRR_IO 2
#define RT_WRR_GENERAL 1

struct cairn_xstream {
	/* --- shared with other threads; each group on its own cache line --- */
	/* 1 while in (or about to enter) epoll_wait; written by the sleeper and a kicker */
	_Alignas(RT_CACHELINE) atomic_int sleeping;
	atomic_uint_fast64_t kicks; /* eventfd writes (stats) */
	/* message ring: producers claim positions here (CAS) */
	_Alignas(RT_CACHELINE) _Atomic uint64_t ring_tail;
	/* read-mostly for producers */
	_Alignas(RT_CACHELINE) struct rt_msg_cell *ring_cells;
	uint64_t ring_mask;
	unsigned ring_size;
	int evfd;
	atomic_bool stop;   /* set by cairn_rt_fini */
	atomic_bool exited; /* the loop has returned: messages can no longer be taken */
	/* ULTs made ready by other threads (lock-free LIFO stack) */
	_Alignas(RT_CACHELINE) _Atomic(struct cairn_ult *) remote_ready;

	/* --- owned by the xstream thread --- */
	_Alignas(RT_CACHELINE) uint64_t ring_head;
	unsigned id;
	unsigned role_idx;
	enum cairn_xs_role role;
	char name[16];
	pthread_t thread;
	int cpu; /* OS PU index pinned to, -1 if not pinned */
	int epfd;
	int tfd;
	uint64_t tfd_armed; /* deadline the timerfd is armed for, 0 = disarmed */
	bool started;
	unsigned yield_budget; /* ULT slices left in this loop iteration */

	struct cairn_list ready[CAIRN_PRIO_MAX];
	unsigned nr_ready;
	unsigned wrr_credit[CAIRN_PRIO_MAX];
	unsigned wrr_cursor;
	atomic_uint nr_ults; /* live ULTs homed here (incl. remote-created not yet started) */

	struct cairn_ult *cur; /* running ULT, NULL in scheduler context */
	void *sched_sp;
#ifdef RT_ASAN
	const void *sched_stack_bottom;
	size_t sched_stack_size;
	void *sched_fake;
#endif
#ifdef RT_TSAN
	void *tsan_sched_fiber;
#endif
	struct rt_stack_pool stacks;
	size_t stack_size;

	struct cairn_list pollers;       /* busy pollers */
	struct cairn_list timed_pollers; /* all timed pollers (for teardown) */
	unsigned nr_busy_pollers;
	struct rt_timer_heap timers;

	uint64_t now_us;          /* cached per loop */
	uint64_t expect_until;    /* spin at least until then (cairn_rt_expect_work) */
	uint64_t contended_until; /* CPU found contended: sleep instead of spinning */
	uint64_t nivcsw;          /* involuntary context switches at the last check */
	uint64_t nivcsw_at;       /* time of that check */
	unsigned spin_us;
	unsigned nr_wake_fds;

	void *tls[CAIRN_MODULE_MAX_KEYS];

	/* stats: written by the owning thread only (rt_stat_add), read by anyone */
	_Atomic uint64_t st_switches;
	_Atomic uint64_t st_msgs;
	_Atomic uint64_t st_sleeps;
	_Atomic uint64_t st_loops;
};

struct rt_global {
	struct cairn_xstream **xs;
	unsigned nr_xs;
	unsigned nr_role[3];
	unsigned first_role[3];
	struct cairn_rt_opts opts;
	atomic_bool running;
	atomic_bool stopping;
	atomic_uint live_ults; /* ULTs created and not finished, all xstreams */
	bool manual;           /* no threads: `driver` runs the loops (cairn_rt_poll) */
	pthread_t driver;
};

extern struct rt_global g_rt;

/* Single-writer counter: a plain load and store (no locked RMW), still race-free for
 * readers on other threads. */
static inline void
rt_stat_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
	                      memory_order_relaxed);
}
extern __thread struct cairn_xstream *t_rt_xs;

/* Manual mode and the caller is the driving thread outside any poll: waits must drive
 * the xstreams themselves instead of blocking. */
static inline bool
rt_manual_driver(void)
{
	return g_rt.manual && t_rt_xs == NULL && atomic_load(&g_rt.running) &&
	       pthread_equal(pthread_self(), g_rt.driver);
}

uint64_t rt_clock_us(void);
/* Make xs run its loop soon: write its eventfd when it sleeps. */
void rt_xs_kick(struct cairn_xstream *xs);
/* Queue a ready ULT on its home xstream (local or remote). */
void rt_ult_make_ready(struct cairn_ult *ult);
void rt_sched_xs_init(struct cairn_xstream *xs);
void rt_sched_loop(struct cairn_xstream *xs);
unsigned rt_sched_poll(struct cairn_xstream *xs);
bool rt_sched_may_exit(struct cairn_xstream *xs);
void rt_sched_fini(struct cairn_xstream *xs);
unsigned rt_msgs_drain(struct cairn_xstream *xs, unsigned max);
unsigned rt_pollers_run(struct cairn_xstream *xs);
void rt_pollers_fini(struct cairn_xstream *xs);

/* module.c: per-xstream TLS */
int rt_module_xs_init(struct cairn_xstream *xs);
void rt_module_xs_fini(struct cairn_xstream *xs);

/* metrics.c: runtime's own metrics */
void rt_metrics_register_builtin(void);
/* fork() child: reset the registry lock (xstream.c's atfork handler). */
void rt_metrics_atfork_child(void);
void rt_metrics_free_values(void);
void rt_metric_ult_created(void);
void rt_metric_msgs(unsigned n);
void rt_metric_sleep(uint64_t ns);
void rt_metric_poller_runs(unsigned n);

/* futex helpers (sync.c) */
int rt_futex_wait(atomic_uint *addr, unsigned val, uint64_t deadline_us);
void rt_futex_wake(atomic_uint *addr, int n);

#endif /* CAIRN_RT_INTERNAL_H */
