/*
 * The per-xstream scheduler loop, ULTs (create/join/yield/park/wake/sleep) and the
 * idle sleep.
 *
 * One loop iteration: take ULTs woken by other threads (a lock-free stack), drain up to
 * 64 messages, fire due timers (timed pollers, sleeps, timeouts), run busy pollers, then
 * run the ULTs that were ready at that point, picked by weighted round robin over the
 * three priority queues (NET 4 : IO 2 : GENERAL 1 per cycle, so no class starves).
 * A ULT runs until it yields, parks or returns; parking and returning always switch
 * back to the scheduler context.
 *
 * Idle: with nothing done for spin_us (or until a cairn_rt_expect_work() deadline) the
 * xstream sets `sleeping`, re-checks its inputs and sleeps in epoll_wait on its eventfd
 * (messages, remote wakes), its timerfd (earliest timer) and registered fds. Producers
 * publish with a seq_cst atomic (the ring CAS), then read `sleeping` (seq_cst) and write
 * the eventfd only if it is set; the sleeper stores `sleeping` (seq_cst) before
 * re-checking its inputs with seq_cst loads. In the single total order of seq_cst
 * operations one of the two sees the other, so no wake-up is lost.
 *
 * Yield fast path: when other ULTs are ready and the loop iteration still has slices
 * left (yield_budget), a yielding ULT switches straight to the next ULT picked by WRR,
 * skipping the round trip through the scheduler context.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>

#define CAIRN_LOG_SS CAIRN_SS_RT
#include "common/log.h"
#include "rt_internal.h"
#include "rt/metrics.h"

__thread struct cairn_xstream *t_rt_xs;

#define RT_SLICES_MIN 16
#define RT_CONTENDED_RATE 50   /* involuntary context switches per second: contended */
#define RT_CONTENDED_US 200000 /* then do not spin for this long */

static const unsigned g_wrr_weight[CAIRN_PRIO_MAX] = {RT_WRR_NET, RT_WRR_IO, RT_WRR_GENERAL};

uint64_t
rt_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
cairn_rt_now_us(void)
{
	return rt_clock_us();
}

/* Called after a seq_cst publication (ring CAS, remote_ready CAS, stop store). */
void
rt_xs_kick(struct cairn_xstream *xs)
{
	uint64_t one = 1;

	if (atomic_load(&xs->sleeping) == 0)
		return;
	/* Only one producer pays for the write. */
	if (atomic_exchange(&xs->sleeping, 0) == 0)
		return;
	atomic_fetch_add_explicit(&xs->kicks, 1, memory_order_relaxed);
	if (write(xs->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		CAIRN_ERROR("%s: eventfd write failed: %s", xs->name, strerror(errno));
}

/* ------------------------------------------------------------------ ULT switching */

static inline void
ready_push(struct cairn_xstream *xs, struct cairn_ult *ult)
{
	ult->state = RT_ULT_READY;
	cairn_list_add_tail(&ult->link, &xs->ready[ult->prio]);
	xs->nr_ready++;
}

static struct cairn_ult *
ready_pick(struct cairn_xstream *xs)
{
	int round, p;

	if (xs->nr_ready == 0)
		return NULL;
	for (round = 0; round < 2; round++) {
		for (p = 0; p < CAIRN_PRIO_MAX; p++) {
			if (xs->wrr_credit[p] > 0 && !cairn_list_empty(&xs->ready[p])) {
				struct cairn_list *n = cairn_list_pop(&xs->ready[p]);

				xs->wrr_credit[p]--;
				xs->nr_ready--;
				return cairn_container_of(n, struct cairn_ult, link);
			}
		}
		/* Every class with credit left is empty: new cycle. */
		for (p = 0; p < CAIRN_PRIO_MAX; p++)
			xs->wrr_credit[p] = g_wrr_weight[p];
	}
	return NULL;
}

/* From a ULT back to its scheduler. */
static inline void
ult_to_sched(struct cairn_xstream *xs, struct cairn_ult *ult)
{
#ifdef RT_ASAN
	__sanitizer_start_switch_fiber(ult->reason == RT_YIELD_EXIT ? NULL : &ult->asan_fake,
	                               xs->sched_stack_bottom, xs->sched_stack_size);
#endif
#ifdef RT_TSAN
	__tsan_switch_to_fiber(xs->tsan_sched_fiber, 0);
#endif
	cairn_rt_ctx_switch(&ult->sp, xs->sched_sp);
#ifdef RT_ASAN
	__sanitizer_finish_switch_fiber(ult->asan_fake, NULL, NULL);
#endif
}

static void
ult_entry(void *arg)
{
	struct cairn_ult *ult = arg;
	struct cairn_xstream *xs = ult->xs;

#ifdef RT_ASAN
	__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
	ult->fn(ult->arg);
	ult->reason = RT_YIELD_EXIT;
	ult_to_sched(xs, ult);
	abort(); /* a finished ULT is never resumed */
}

/* One ULT less in the runtime; the last one of a stopping runtime lets every xstream
 * exit its loop. */
static void
live_put(void)
{
	unsigned i;

	if (atomic_fetch_sub(&g_rt.live_ults, 1) == 1 && atomic_load(&g_rt.stopping)) {
		for (i = 0; i < g_rt.nr_xs; i++)
			rt_xs_kick(g_rt.xs[i]);
	}
}

static void
ult_finish(struct cairn_xstream *xs, struct cairn_ult *ult, int rc)
{
	struct cairn_list *n;

	if (ult->stack != NULL) {
		rt_stack_put(&xs->stacks, ult->stack);
		ult->stack = NULL;
	}
#ifdef RT_TSAN
	if (ult->tsan_fiber != NULL) /* switched out for good: not the current fiber */
		__tsan_destroy_fiber(ult->tsan_fiber);
	ult->tsan_fiber = NULL;
#endif
	ult->state = RT_ULT_DONE;
	atomic_fetch_sub(&xs->nr_ults, 1);
	live_put();
	if (!ult->joinable) {
		free(ult);
		return;
	}
	rt_spin_lock(&ult->join_lock);
	ult->rc = rc;
	ult->done = true;
	while ((n = cairn_list_pop(&ult->joiners)) != NULL)
		rt_waiter_wake(cairn_container_of(n, struct rt_waiter, link));
	rt_spin_unlock(&ult->join_lock); /* last touch: a joiner may free ult now */
}

static void
ult_run(struct cairn_xstream *xs, struct cairn_ult *ult)
{
	int exp;

	xs->cur = ult;
	ult->state = RT_ULT_RUNNING;
#ifdef RT_ASAN
	__sanitizer_start_switch_fiber(&xs->sched_fake, rt_stack_bottom(ult->stack),
	                               ult->stack->size);
#endif
#ifdef RT_TSAN
	xs->tsan_sched_fiber = __tsan_get_current_fiber();
	__tsan_switch_to_fiber(ult->tsan_fiber, 0);
#endif
	cairn_rt_ctx_switch(&xs->sched_sp, ult->sp);
#ifdef RT_ASAN
	__sanitizer_finish_switch_fiber(xs->sched_fake, NULL, NULL);
#endif
	/* Not necessarily the ULT we started: yields may have switched ULT to ULT. */
	ult = xs->cur;
	xs->cur = NULL;
	rt_stat_add(&xs->st_switches, 1);
	switch (ult->reason) {
	case RT_YIELD_YIELD:
		ready_push(xs, ult);
		break;
	case RT_YIELD_PARK:
		ult->state = RT_ULT_BLOCKED;
		exp = RT_PARK_NONE;
		if (!atomic_compare_exchange_strong(&ult->park, &exp, RT_PARK_PARKED)) {
			/* A wake raced with the park: consume the token, stay runnable. */
			atomic_store(&ult->park, RT_PARK_NONE);
			ready_push(xs, ult);
		}
		break;
	case RT_YIELD_EXIT:
		ult_finish(xs, ult, 0);
		break;
	}
}

static int
ult_prepare(struct cairn_xstream *xs, struct cairn_ult *ult)
{
	ult->stack = rt_stack_get(&xs->stacks, ult->stack_size);
	if (ult->stack == NULL)
		return -CAIRN_ERR_NOMEM;
	ult->sp = rt_ctx_make(rt_stack_top(ult->stack), ult_entry, ult);
#ifdef RT_TSAN
	ult->tsan_fiber = __tsan_create_fiber(0);
#endif
	return 0;
}

static unsigned
remote_drain(struct cairn_xstream *xs)
{
	struct cairn_ult *l, *rev = NULL;
	unsigned n = 0;

	l = atomic_exchange_explicit(&xs->remote_ready, NULL, memory_order_acquire);
	while (l != NULL) { /* LIFO stack -> FIFO order */
		struct cairn_ult *next = l->remote_next;

		l->remote_next = rev;
		rev = l;
		l = next;
	}
	while (rev != NULL) {
		struct cairn_ult *ult = rev;

		rev = rev->remote_next;
		ult->remote_next = NULL;
		if (ult->state == RT_ULT_NEW && ult_prepare(xs, ult) != 0) {
			CAIRN_ERROR("%s: no memory for the stack of a ULT created remotely",
			            xs->name);
			ult_finish(xs, ult, -CAIRN_ERR_NOMEM);
			continue;
		}
		ready_push(xs, ult);
		n++;
	}
	return n;
}

void
rt_ult_make_ready(struct cairn_ult *ult)
{
	struct cairn_xstream *xs = ult->xs;
	struct cairn_ult *head;

	if (t_rt_xs == xs) {
		ready_push(xs, ult);
		return;
	}
	head = atomic_load_explicit(&xs->remote_ready, memory_order_relaxed);
	do {
		ult->remote_next = head;
	} while (!atomic_compare_exchange_weak_explicit(
	        &xs->remote_ready, &head, ult, memory_order_seq_cst, memory_order_relaxed));
	rt_xs_kick(xs);
}

/* ------------------------------------------------------------------ ULT API */

struct cairn_ult *
cairn_ult_self(void)
{
	struct cairn_xstream *xs = t_rt_xs;

	return xs != NULL ? xs->cur : NULL;
}

bool
cairn_in_ult(void)
{
	return cairn_ult_self() != NULL;
}

int
cairn_ult_create(struct cairn_xstream *xs, cairn_ult_fn fn, void *arg,
                 const struct cairn_ult_attr *attr, struct cairn_ult **out)
{
	struct cairn_xstream *self = t_rt_xs;
	struct cairn_ult *ult;
	int rc;

	if (fn == NULL)
		return -CAIRN_ERR_INVAL;
	if (attr != NULL &&
	    ((unsigned)attr->prio >= CAIRN_PRIO_MAX ||
	     (attr->stack_size != 0 &&
	      (attr->stack_size < CAIRN_RT_MIN_STACK_SIZE || attr->stack_size > (1ul << 30))))) {
		CAIRN_ERROR("bad ULT attributes (prio %d, stack %zu; minimum stack %u)",
		            (int)attr->prio, attr->stack_size, CAIRN_RT_MIN_STACK_SIZE);
		return -CAIRN_ERR_INVAL;
	}
	if (attr != NULL && attr->joinable && out == NULL)
		return -CAIRN_ERR_INVAL;
	if (xs == NULL)
		xs = self;
	if (xs == NULL)
		return -CAIRN_ERR_INVAL;
	if (!atomic_load(&g_rt.running))
		return -CAIRN_ERR_SHUTDOWN;
	/* Count the ULT before looking at `stopping`: a stopping xstream exits only when
	 * it sees no live ULT after `stopping` was set, so it either sees this one or we
	 * see `stopping` (seq_cst on both sides). */
	atomic_fetch_add(&g_rt.live_ults, 1);
	if (xs != self && atomic_load(&g_rt.stopping)) {
		rc = -CAIRN_ERR_SHUTDOWN;
		goto err_live;
	}
	ult = calloc(1, sizeof(*ult));
	if (ult == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto err_live;
	}
	cairn_list_init(&ult->link);
	cairn_list_init(&ult->joiners);
	ult->xs = xs;
	ult->fn = fn;
	ult->arg = arg;
	ult->prio = attr != NULL ? attr->prio : CAIRN_PRIO_GENERAL;
	ult->stack_size = attr != NULL && attr->stack_size ? attr->stack_size : xs->stack_size;
	ult->joinable = attr != NULL && attr->joinable;
	ult->state = RT_ULT_NEW;
	atomic_init(&ult->park, RT_PARK_NONE);

	if (xs == self) {
		rc = ult_prepare(xs, ult);
		if (rc != 0) {
			free(ult);
			goto err_live;
		}
	}
	atomic_fetch_add(&xs->nr_ults, 1);
	if (out != NULL)
		*out = ult->joinable ? ult : NULL;
	if (xs == self)
		ready_push(xs, ult);
	else /* the stack comes from the target's own pool when it picks the ULT up */
		rt_ult_make_ready(ult);
	rt_metric_ult_created();
	return 0;
err_live:
	live_put();
	if (out != NULL)
		*out = NULL;
	return rc;
}

int
cairn_ult_join(struct cairn_ult *ult)
{
	struct rt_waiter w;
	int rc;

	if (ult == NULL || !ult->joinable)
		return -CAIRN_ERR_INVAL;
	if (ult == cairn_ult_self()) {
		CAIRN_ERROR("a ULT cannot join itself");
		return -CAIRN_ERR_INVAL;
	}
	if (t_rt_xs != NULL && t_rt_xs->cur == NULL && t_rt_xs == ult->xs) {
		CAIRN_ERROR("%s: join from a poller/message of the ULT's own xstream would "
		            "deadlock",
		            t_rt_xs->name);
		return -CAIRN_ERR_INVAL;
	}
	rt_spin_lock(&ult->join_lock);
	if (!ult->done) {
		rt_waiter_init(&w);
		cairn_list_add_tail(&w.link, &ult->joiners);
		rt_waiter_wait(&w, &ult->join_lock, 0);
		rt_spin_lock(&ult->join_lock); /* the waker is done with ult once we get it */
	}
	rt_spin_unlock(&ult->join_lock);
	rc = ult->rc;
	free(ult);
	return rc;
}

void
cairn_ult_yield(void)
{
	struct cairn_xstream *xs = t_rt_xs;
	struct cairn_ult *ult = xs != NULL ? xs->cur : NULL;

	if (ult == NULL) {
		if (rt_manual_driver())
			cairn_rt_poll_all(); /* the driver's yield lets the xstreams run */
		else if (xs == NULL)
			sched_yield();
		return;
	}
	if (xs->yield_budget > 0 && xs->nr_ready > 0 &&
	    !atomic_load_explicit(&xs->stop, memory_order_relaxed)) {
		struct cairn_ult *next;

		xs->yield_budget--;
		ready_push(xs, ult);
		next = ready_pick(xs);
		if (next == ult) { /* WRR picked us again */
			ult->state = RT_ULT_RUNNING;
			return;
		}
		xs->cur = next;
		next->state = RT_ULT_RUNNING;
		rt_stat_add(&xs->st_switches, 1);
#ifdef RT_ASAN
		__sanitizer_start_switch_fiber(&ult->asan_fake, rt_stack_bottom(next->stack),
		                               next->stack->size);
#endif
#ifdef RT_TSAN
		__tsan_switch_to_fiber(next->tsan_fiber, 0);
#endif
		cairn_rt_ctx_switch(&ult->sp, next->sp);
#ifdef RT_ASAN
		__sanitizer_finish_switch_fiber(ult->asan_fake, NULL, NULL);
#endif
		return;
	}
	ult->reason = RT_YIELD_YIELD;
	ult_to_sched(xs, ult);
}

void
cairn_ult_park(void)
{
	struct cairn_xstream *xs = t_rt_xs;
	struct cairn_ult *ult = xs != NULL ? xs->cur : NULL;
	int exp = RT_PARK_TOKEN;

	if (ult == NULL) {
		CAIRN_ERROR("cairn_ult_park() outside a ULT");
		return;
	}
	if (atomic_compare_exchange_strong(&ult->park, &exp, RT_PARK_NONE))
		return; /* the wake came first */
	ult->reason = RT_YIELD_PARK;
	ult_to_sched(xs, ult);
}

void
cairn_ult_wake(struct cairn_ult *ult)
{
	int s;

	if (ult == NULL)
		return;
	for (;;) {
		s = atomic_load(&ult->park);
		if (s == RT_PARK_TOKEN)
			return;
		if (s == RT_PARK_PARKED) {
			if (atomic_compare_exchange_strong(&ult->park, &s, RT_PARK_NONE)) {
				rt_ult_make_ready(ult);
				return;
			}
			continue;
		}
		if (atomic_compare_exchange_strong(&ult->park, &s, RT_PARK_TOKEN))
			return;
	}
}

struct sleep_timer {
	struct rt_timer t;
	struct cairn_ult *ult;
	bool fired;
};

static void
sleep_timer_fire(struct rt_timer *t)
{
	struct sleep_timer *st = cairn_container_of(t, struct sleep_timer, t);

	st->fired = true;
	cairn_ult_wake(st->ult);
}

void
cairn_ult_sleep_us(uint64_t us)
{
	struct cairn_xstream *xs = t_rt_xs;
	struct cairn_ult *ult = xs != NULL ? xs->cur : NULL;
	struct sleep_timer st;
	uint64_t deadline;

	if (ult == NULL && rt_manual_driver()) {
		deadline = rt_clock_us() + us;
		while (rt_clock_us() < deadline) {
			if (cairn_rt_poll_all() == 0)
				rt_cpu_relax();
		}
		return;
	}
	if (ult == NULL) {
		struct timespec ts = {.tv_sec = (time_t)(us / 1000000u),
		                      .tv_nsec = (long)(us % 1000000u) * 1000};

		if (xs != NULL)
			CAIRN_WARN("%s: sleep from a poller/message blocks the xstream", xs->name);
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		return;
	}
	deadline = rt_clock_us() + us;
	st.t.idx = -1;
	st.t.fn = sleep_timer_fire;
	st.ult = ult;
	st.fired = false;
	if (rt_timer_arm(xs, &st.t, deadline) != 0) {
		while (rt_clock_us() < deadline) /* no memory for the heap: poll */
			cairn_ult_yield();
		return;
	}
	while (!st.fired)
		cairn_ult_park();
}

/* ------------------------------------------------------------------ loop */

void
cairn_rt_expect_work(uint64_t us)
{
	struct cairn_xstream *xs = t_rt_xs;
	uint64_t until;

	if (xs == NULL)
		return;
	until = rt_clock_us() + us;
	if (until > xs->expect_until)
		xs->expect_until = until;
}

/* seq_cst loads: paired with the seq_cst store to `sleeping` in idle_sleep() and the
 * producers' seq_cst CAS on ring_tail / remote_ready followed by their seq_cst load of
 * `sleeping` in rt_xs_kick(). A claimed-but-unpublished message counts as pending. */
static bool
inputs_pending(struct cairn_xstream *xs)
{
	return atomic_load(&xs->remote_ready) != NULL ||
	       atomic_load(&xs->ring_tail) != xs->ring_head;
}

/* Preempted since the last check (involuntary context switches)? Then the CPU is shared
 * with other busy threads: spinning only burns the CPU share that the kernel's wake-up
 * preemption rewards a sleeper for, and delays whoever would send us work. Stop spinning
 * for a while. One getrusage() per sleep, and per ~512 empty spin loops. */
static void
contention_check(struct cairn_xstream *xs)
{
	struct rusage ru;
	uint64_t now, n;

	if (xs->spin_us == 0 || getrusage(RUSAGE_THREAD, &ru) != 0)
		return;
	now = rt_clock_us();
	n = (uint64_t)ru.ru_nivcsw - xs->nivcsw;
	/* A kworker now and then is noise; a busy CPU preempts us every few ms. */
	if (n >= 2 && n * 1000000u >= RT_CONTENDED_RATE * (now - xs->nivcsw_at + 1))
		xs->contended_until = now + RT_CONTENDED_US;
	xs->nivcsw = (uint64_t)ru.ru_nivcsw;
	xs->nivcsw_at = now;
}

static void
idle_sleep(struct cairn_xstream *xs)
{
	struct epoll_event evs[16];
	uint64_t deadline = xs->timers.nr ? xs->timers.v[0]->deadline_us : 0, t0;
	int n, i;

	contention_check(xs);

	if (deadline != xs->tfd_armed) {
		struct itimerspec its;

		memset(&its, 0, sizeof(its));
		if (deadline != 0) {
			its.it_value.tv_sec = (time_t)(deadline / 1000000u);
			its.it_value.tv_nsec = (long)(deadline % 1000000u) * 1000;
		}
		if (timerfd_settime(xs->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
			CAIRN_ERROR("%s: timerfd_settime: %s", xs->name, strerror(errno));
		xs->tfd_armed = deadline;
	}
	atomic_store(&xs->sleeping, 1);
	if (inputs_pending(xs) || atomic_load(&xs->stop)) {
		atomic_store(&xs->sleeping, 0);
		return;
	}
	rt_stat_add(&xs->st_sleeps, 1);
	t0 = rt_clock_us();
	n = epoll_wait(xs->epfd, evs, 16, -1);
	atomic_store(&xs->sleeping, 0);
	rt_metric_sleep((rt_clock_us() - t0) * 1000u);
	for (i = 0; i < n; i++) {
		uint64_t v;

		if (evs[i].data.fd == xs->evfd) {
			if (read(xs->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				CAIRN_ERROR("%s: eventfd read: %s", xs->name, strerror(errno));
		} else if (evs[i].data.fd == xs->tfd) {
			if (read(xs->tfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				CAIRN_ERROR("%s: timerfd read: %s", xs->name, strerror(errno));
			xs->tfd_armed = 0;
		}
	}
}

static bool
may_exit(struct cairn_xstream *xs)
{
	return atomic_load(&xs->stop) && atomic_load(&g_rt.live_ults) == 0 && !inputs_pending(xs) &&
	       xs->nr_ready == 0;
}

void
rt_sched_xs_init(struct cairn_xstream *xs)
{
	unsigned i;

	for (i = 0; i < CAIRN_PRIO_MAX; i++)
		xs->wrr_credit[i] = g_wrr_weight[i];
}

bool
rt_sched_may_exit(struct cairn_xstream *xs)
{
	return may_exit(xs);
}

/* One pass over every input; returns how much was done (0: idle). */
static inline unsigned
sched_once(struct cairn_xstream *xs)
{
	unsigned work = 0, n;

	rt_stat_add(&xs->st_loops, 1);
	if (atomic_load_explicit(&xs->remote_ready, memory_order_relaxed) != NULL)
		work += remote_drain(xs);
	work += rt_msgs_drain(xs, 64);
	if (xs->timers.nr > 0) {
		xs->now_us = rt_clock_us();
		work += rt_timers_run(xs, xs->now_us);
	}
	if (xs->nr_busy_pollers > 0)
		work += rt_pollers_run(xs);
	n = xs->nr_ready;
	/* Slices before the loop looks at messages and pollers again. */
	xs->yield_budget = n > RT_SLICES_MIN ? n : RT_SLICES_MIN;
	while (xs->yield_budget > 0) {
		struct cairn_ult *ult = ready_pick(xs);

		if (ult == NULL)
			break;
		xs->yield_budget--;
		ult_run(xs, ult);
	}
	xs->yield_budget = 0;
	return work + n;
}

unsigned
rt_sched_poll(struct cairn_xstream *xs)
{
	unsigned work;

	t_rt_xs = xs;
	work = sched_once(xs);
	t_rt_xs = NULL;
	return work;
}

void
rt_sched_loop(struct cairn_xstream *xs)
{
	uint64_t idle_since = 0, stop_warn = 0;
	unsigned spins = 0, spin;

	for (;;) {
		unsigned work = sched_once(xs);

		if (work != 0) {
			idle_since = 0;
			continue;
		}
		if (may_exit(xs))
			break;
		if (idle_since != 0 && (++spins & 31) != 0) {
			rt_cpu_relax(); /* read the clock only every 32 empty loops */
			continue;
		}
		xs->now_us = rt_clock_us();
		if (atomic_load(&xs->stop)) {
			if (stop_warn == 0)
				stop_warn = xs->now_us + 5000000u;
			else if (xs->now_us > stop_warn) {
				CAIRN_WARN(
				        "%s: stopping, still waiting for %u ULT(s) in the runtime",
				        xs->name, (unsigned)atomic_load(&g_rt.live_ults));
				stop_warn = xs->now_us + 5000000u;
			}
		}
		if ((spins & 511) == 0)
			contention_check(xs);
		if (idle_since == 0)
			idle_since = xs->now_us;
		/* No spin on a contended CPU (measured: even a 5 us spin per message made the
		 * ping-pong RTT 4-6x worse there), but an explicit cairn_rt_expect_work()
		 * hint still wins. */
		spin = xs->now_us < xs->contended_until ? 0 : xs->spin_us;
		if (xs->now_us < xs->expect_until || xs->now_us - idle_since < spin) {
			rt_cpu_relax();
			continue;
		}
		idle_sleep(xs);
		idle_since = 0;
	}
}
