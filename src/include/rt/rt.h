/*
 * Cairn runtime: xstreams, ULTs, scheduler, pollers, messages, idle sleep.
 *
 * This header is the contract every server-side module codes against. The
 * implementation lives in src/rt/. Rules that hold for every function here:
 *  - "xstream context": called from a ULT, a poller or a message handler running
 *    on an xstream. "any thread": also from plain pthreads (tests, main()).
 *  - Errors are 0 / negative CAIRN_ERR_* (include/cairn/errno.h).
 *  - A callback never runs inside the call that submitted the work.
 */
#ifndef CAIRN_RT_RT_H
#define CAIRN_RT_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ lifecycle */

enum cairn_xs_role {
	CAIRN_XS_SYSTEM = 0, /* management, dRPC, metadata services */
	CAIRN_XS_MAIN = 1,   /* one per target: serves that target's RPCs and storage */
	CAIRN_XS_HELPER = 2, /* checksums, EC, copies */
};
/* Role bit masks, used by TLS keys and collectives. */
#define CAIRN_XS_TAG_SYSTEM (1u << CAIRN_XS_SYSTEM)
#define CAIRN_XS_TAG_MAIN   (1u << CAIRN_XS_MAIN)
#define CAIRN_XS_TAG_HELPER (1u << CAIRN_XS_HELPER)
#define CAIRN_XS_TAG_ALL    (CAIRN_XS_TAG_SYSTEM | CAIRN_XS_TAG_MAIN | CAIRN_XS_TAG_HELPER)

#define CAIRN_RT_MAX_XSTREAMS      256
#define CAIRN_RT_MIN_STACK_SIZE    (16u * 1024)
#define CAIRN_RT_DEFAULT_STACK     (64u * 1024)

struct cairn_rt_opts {
	size_t opts_size;      /* sizeof(struct cairn_rt_opts) */
	unsigned nr_system;    /* 0 or 1 (default 1) */
	unsigned nr_main;      /* target xstreams, 0..CAIRN_RT_MAX_XSTREAMS */
	unsigned nr_helper;    /* helper xstreams */
	size_t stack_size;     /* default ULT stack size; >= CAIRN_RT_MIN_STACK_SIZE */
	unsigned msg_ring_size;/* per-xstream message ring entries (power of 2), default 4096 */
	unsigned spin_us;      /* max adaptive spin before sleeping, default 50 */
	bool pin;              /* pin xstreams to cores with hwloc (default true) */
	const char *cpu_list;  /* optional "0-3,6": cores to use, round-robin */
	/* Storage for cpu_list when it comes from cairn_rt_opts_from_yaml() (cpu_list then
	 * points here: re-point it after copying the struct). */
	char cpu_list_buf[128];
	/* Deterministic driver for unit tests (SPDK's ut_multithread idea): no threads are
	 * started; the thread that calls cairn_rt_init() runs the xstreams one loop pass at
	 * a time with cairn_rt_poll()/cairn_rt_poll_all(), and its own blocking calls
	 * (join, run_sync, collectives, eventual/mutex/cond waits, sleeps, sends to a full
	 * ring) drive the xstreams while they wait. Idle xstreams never sleep. Default false. */
	bool manual;
};

/* Fill opts with defaults (opts_size set). */
void cairn_rt_opts_default(struct cairn_rt_opts *opts);

/* Parse a YAML runtime section ("xstreams: {system: 1, main: 2, helper: 0}",
 * "stack_size: 64k", "spin_us", "pin", "cpus") from a file; errors are reported as
 * "file:line: what is wrong, what is expected" through cairn_log and returned as
 * -CAIRN_ERR_INVAL. */
int cairn_rt_opts_from_yaml(const char *path, struct cairn_rt_opts *opts);

/* Start the runtime: validates opts (impossible counts, stack below minimum ->
 * -CAIRN_ERR_INVAL with a logged reason and nothing started), creates and starts the
 * xstreams, instantiates module TLS. Any thread, once per process. */
int cairn_rt_init(const struct cairn_rt_opts *opts);
/* Stop every xstream (running ULTs get to finish; pollers unregistered), join threads,
 * free everything. Any non-xstream thread. */
void cairn_rt_fini(void);
bool cairn_rt_running(void);

struct cairn_xstream;

/* Manual mode only, from the thread that called cairn_rt_init(): run one loop pass of
 * xs (messages, timers, pollers, ready ULTs) on the calling thread. Returns the amount
 * of work done, 0 when idle (and 0, with an error logged, when not allowed). */
unsigned cairn_rt_poll(struct cairn_xstream *xs);
/* One pass over every xstream in index order; sum of the work done. */
unsigned cairn_rt_poll_all(void);
/* Poll every xstream until a whole round does nothing or max_rounds passes ran; returns
 * the number of rounds that did work. */
unsigned cairn_rt_poll_until_idle(unsigned max_rounds);

/* ------------------------------------------------------------------ xstreams */

struct cairn_xstream;

unsigned cairn_xs_count(void);
struct cairn_xstream *cairn_xs_get(unsigned idx);          /* NULL if out of range */
/* i-th xstream of a role (e.g. target 3 = cairn_xs_by_role(CAIRN_XS_MAIN, 3)). */
struct cairn_xstream *cairn_xs_by_role(enum cairn_xs_role role, unsigned i);
unsigned cairn_xs_count_role(enum cairn_xs_role role);
/* The xstream the caller runs on, NULL for a plain thread. */
struct cairn_xstream *cairn_xs_self(void);
unsigned cairn_xs_id(const struct cairn_xstream *xs);      /* global index */
unsigned cairn_xs_role_idx(const struct cairn_xstream *xs);/* index within its role */
enum cairn_xs_role cairn_xs_role(const struct cairn_xstream *xs);
const char *cairn_xs_name(const struct cairn_xstream *xs); /* "sys0", "tgt1", "hlp0" */
/* OS CPU the xstream is pinned to, -1 when unpinned. Any thread. */
int cairn_xs_cpu(const struct cairn_xstream *xs);

/* Scheduler statistics of one xstream (read racily from another thread: a snapshot for
 * monitoring, not exact). */
struct cairn_xs_stats {
	uint64_t switches;  /* ULT switches (ULT -> scheduler -> ULT counts once) */
	uint64_t msgs;      /* messages handled */
	uint64_t sleeps;    /* times the xstream slept in epoll_wait */
	uint64_t loops;     /* scheduler loop iterations */
	uint64_t kicks;     /* eventfd writes that woke it */
	unsigned live_ults; /* ULTs homed here, not finished */
};
void cairn_xs_stats(const struct cairn_xstream *xs, struct cairn_xs_stats *st);

/* ------------------------------------------------------------------ ULTs */

enum cairn_prio {
	CAIRN_PRIO_NET = 0, /* network progress / RPC handling */
	CAIRN_PRIO_IO,      /* I/O completion continuations */
	CAIRN_PRIO_GENERAL, /* everything else */
	CAIRN_PRIO_MAX
};

struct cairn_ult;
typedef void (*cairn_ult_fn)(void *arg);

struct cairn_ult_attr {
	enum cairn_prio prio; /* default CAIRN_PRIO_GENERAL */
	size_t stack_size;    /* 0 = runtime default */
	bool joinable;        /* if false the ULT is freed when fn returns */
};

/* Create a ULT on xs (NULL = current xstream). From another thread the ULT is handed
 * to xs through a lock-free list (never blocked by a full message ring); xs allocates
 * its stack when it picks it up (if that fails, join returns -CAIRN_ERR_NOMEM). With
 * joinable, *out must be joined exactly once. Errors: -CAIRN_ERR_INVAL (no fn, bad
 * attr, joinable without out, NULL xs from a plain thread), -CAIRN_ERR_NOMEM,
 * -CAIRN_ERR_SHUTDOWN (runtime not running; or stopping and xs is another xstream).
 * Any thread. */
int cairn_ult_create(struct cairn_xstream *xs, cairn_ult_fn fn, void *arg,
		     const struct cairn_ult_attr *attr, struct cairn_ult **out);
/* Wait for a joinable ULT to finish and free it. From a ULT: parks. From a plain
 * thread: blocks. Returns 0, or -CAIRN_ERR_NOMEM when a remotely created ULT could not
 * get a stack, -CAIRN_ERR_INVAL (not joinable, self-join, or from a poller/message of
 * the ULT's own xstream). */
int cairn_ult_join(struct cairn_ult *ult);
/* Give the CPU to other ready ULTs/pollers/messages on this xstream. ULT only. */
void cairn_ult_yield(void);
struct cairn_ult *cairn_ult_self(void);                    /* NULL outside a ULT */
bool cairn_in_ult(void);
/* Sleep without blocking the xstream (timer-driven). From a plain thread: nanosleep. */
void cairn_ult_sleep_us(uint64_t us);

/* Low-level park/wake, the base of every sync primitive. cairn_ult_park() suspends the
 * current ULT until cairn_ult_wake(ult) is called (from any thread; cross-xstream wakes
 * go by message). A wake that arrives before the park is remembered (one token). */
void cairn_ult_park(void);
void cairn_ult_wake(struct cairn_ult *ult);

/* ------------------------------------------------------------------ messages */

typedef void (*cairn_msg_fn)(void *arg);

/* Run fn(arg) on xs, in its scheduler loop (not in a ULT: fn must not yield; spawn a
 * ULT from it when you need to wait). Messages from one sender to one xstream run in
 * send order. The ring holds msg_ring_size messages. Ring full: from a ULT, yields until
 * space; from a plain thread or another xstream's poller/message, spins with backoff;
 * from xs's own poller/message, runs xs's oldest message first. Never drops, never
 * grows. Returns -CAIRN_ERR_SHUTDOWN when the runtime is not running or xs has left its
 * loop; -CAIRN_ERR_INVAL for NULL xs/fn. Any thread. */
int cairn_rt_send_msg(struct cairn_xstream *xs, cairn_msg_fn fn, void *arg);
/* Same, but returns -CAIRN_ERR_AGAIN at once when the ring is full. */
int cairn_rt_try_send_msg(struct cairn_xstream *xs, cairn_msg_fn fn, void *arg);
/* Run fn(arg) in a new ULT on xs and wait for it to return. Any thread (not the
 * target xstream's own scheduler context). */
int cairn_rt_run_sync(struct cairn_xstream *xs, cairn_ult_fn fn, void *arg);

/* ------------------------------------------------------------------ pollers */

struct cairn_poller;
/* Return > 0 when work was done (keeps the xstream busy), 0 when idle. */
typedef int (*cairn_poller_fn)(void *arg);

/* Register on the current xstream. period_us == 0: busy poller, runs every loop;
 * otherwise timed (timerfd drives the sleep), period at most one hour. Pollers run in
 * scheduler context, not in a ULT: they must not yield. A busy poller that returns 0
 * lets the xstream sleep after spin_us: register the fds it polls with
 * cairn_rt_wake_fd_add(). NULL on error (logged). xstream context. */
struct cairn_poller *cairn_poller_register(cairn_poller_fn fn, void *arg, uint64_t period_us,
					   const char *name);
/* Unregister (from any ULT/poller/message on the owning xstream, including from the
 * poller's own fn); *p set to NULL. */
void cairn_poller_unregister(struct cairn_poller **p);
void cairn_poller_pause(struct cairn_poller *p);
void cairn_poller_resume(struct cairn_poller *p);

/* Wake-up sources for the idle sleep. The current xstream's epoll also watches fd
 * (events: EPOLLIN/EPOLLOUT); when it fires, the xstream wakes and runs its pollers
 * (the fd's owner polls it there). xstream context. */
int cairn_rt_wake_fd_add(int fd, uint32_t events);
int cairn_rt_wake_fd_mod(int fd, uint32_t events);
int cairn_rt_wake_fd_del(int fd);
/* Tell the scheduler a reply/completion is expected within about `us` microseconds, so
 * it keeps spinning rather than sleeping (the adaptive spin honours the hint). */
void cairn_rt_expect_work(uint64_t us);

/* ------------------------------------------------------------------ sync (ULT-aware) */

/* All waits below yield when called from a ULT and block when called from a plain
 * thread. Objects may be shared across xstreams. */
struct cairn_mutex { void *impl[4]; };
int cairn_mutex_init(struct cairn_mutex *m);
void cairn_mutex_lock(struct cairn_mutex *m);
bool cairn_mutex_trylock(struct cairn_mutex *m);
void cairn_mutex_unlock(struct cairn_mutex *m);
void cairn_mutex_destroy(struct cairn_mutex *m);

struct cairn_rwlock { void *impl[6]; };
int cairn_rwlock_init(struct cairn_rwlock *l);
void cairn_rwlock_rdlock(struct cairn_rwlock *l);
void cairn_rwlock_wrlock(struct cairn_rwlock *l);
void cairn_rwlock_unlock(struct cairn_rwlock *l);
void cairn_rwlock_destroy(struct cairn_rwlock *l);

struct cairn_cond { void *impl[4]; };
int cairn_cond_init(struct cairn_cond *c);
void cairn_cond_wait(struct cairn_cond *c, struct cairn_mutex *m);
/* -CAIRN_ERR_TIMEDOUT after timeout_us. */
int cairn_cond_timedwait(struct cairn_cond *c, struct cairn_mutex *m, uint64_t timeout_us);
void cairn_cond_signal(struct cairn_cond *c);
void cairn_cond_broadcast(struct cairn_cond *c);
void cairn_cond_destroy(struct cairn_cond *c);

/* Eventual: a one-shot value. set() once from anywhere; wait() returns the value. */
struct cairn_eventual;
int cairn_eventual_create(struct cairn_eventual **ev);
void cairn_eventual_set(struct cairn_eventual *ev, int64_t value);
int64_t cairn_eventual_wait(struct cairn_eventual *ev);
/* -CAIRN_ERR_TIMEDOUT if not set within timeout_us (value untouched). */
int cairn_eventual_timedwait(struct cairn_eventual *ev, uint64_t timeout_us, int64_t *value);
bool cairn_eventual_is_set(struct cairn_eventual *ev);
void cairn_eventual_destroy(struct cairn_eventual *ev);

/* Collective: run fn on every xstream whose role is in tags (each in a ULT on its
 * xstream), in parallel; then reduce() folds each result into *acc in the caller's
 * context, one call per xstream in index order. Returns the first non-zero fn rc (all
 * still run). Any thread. */
typedef int (*cairn_coll_fn)(void *arg);
typedef void (*cairn_coll_reduce_fn)(void *acc, unsigned xs_id, int rc, void *arg);
int cairn_rt_collective(uint32_t tags, cairn_coll_fn fn, void *arg, cairn_coll_reduce_fn reduce,
			void *acc);

/* ------------------------------------------------------------------ time */

/* Monotonic clock in microseconds (CLOCK_MONOTONIC through the vDSO: tens of ns). */
uint64_t cairn_rt_now_us(void);

#endif /* CAIRN_RT_RT_H */
