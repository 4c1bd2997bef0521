/*
 * ULT-aware synchronisation usable from ULTs (they park) and plain threads (they
 * block on a futex), across xstreams: mutex, rwlock, condition, eventual.
 *
 * Every primitive is a short spinlock-protected state plus FIFO queues of rt_waiter
 * entries living on the waiters' stacks. Wakers hand ownership over directly (a woken
 * mutex waiter already owns the mutex), so there is no thundering herd or barging.
 * Must not be used from pollers/message handlers when that could wait on work of the
 * same xstream (a scheduler context cannot park).
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CAIRN_LOG_SS CAIRN_SS_RT
#include "common/log.h"
#include "rt_internal.h"

void
rt_spin_lock_slow(struct rt_spin *s)
{
	unsigned n = 0;

	for (;;) {
		while (atomic_load_explicit(&s->v, memory_order_relaxed) != 0) {
			if (++n < 128)
				rt_cpu_relax();
			else
				sched_yield(); /* holder's thread may have been preempted */
		}
		if (atomic_exchange_explicit(&s->v, 1, memory_order_acquire) == 0)
			return;
	}
}

int
rt_futex_wait(atomic_uint *addr, unsigned val, uint64_t deadline_us)
{
	struct timespec ts, *tsp = NULL;
	long rc;

	if (deadline_us != 0) {
		uint64_t now = rt_clock_us();

		if (now >= deadline_us)
			return -CAIRN_ERR_TIMEDOUT;
		ts.tv_sec = (time_t)((deadline_us - now) / 1000000u);
		ts.tv_nsec = (long)((deadline_us - now) % 1000000u) * 1000;
		tsp = &ts;
	}
	rc = syscall(SYS_futex, (unsigned *)addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
	if (rc != 0 && errno == ETIMEDOUT)
		return -CAIRN_ERR_TIMEDOUT;
	return 0;
}

void
rt_futex_wake(atomic_uint *addr, int n)
{
	syscall(SYS_futex, (unsigned *)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* ------------------------------------------------------------------ waiters */

void
rt_waiter_init(struct rt_waiter *w)
{
	cairn_list_init(&w->link);
	w->ult = cairn_ult_self();
	atomic_init(&w->woken, 0);
}

struct wait_timer {
	struct rt_timer t;
	struct cairn_ult *ult;
	bool fired;
};

static void
wait_timer_fire(struct rt_timer *t)
{
	struct wait_timer *wt = cairn_container_of(t, struct wait_timer, t);

	wt->fired = true;
	cairn_ult_wake(wt->ult);
}

int
rt_waiter_wait(struct rt_waiter *w, struct rt_spin *lock, uint64_t deadline_us)
{
	rt_spin_unlock(lock);
	if (w->ult != NULL) {
		struct cairn_xstream *xs = t_rt_xs;
		struct wait_timer wt = {.t = {.idx = -1, .fn = wait_timer_fire}, .ult = w->ult};
		bool timed = deadline_us != 0 && rt_timer_arm(xs, &wt.t, deadline_us) == 0;

		while (!atomic_load_explicit(&w->woken, memory_order_acquire)) {
			if (deadline_us != 0 &&
			    (wt.fired || (!timed && rt_clock_us() >= deadline_us)))
				return -CAIRN_ERR_TIMEDOUT;
			if (deadline_us != 0 && !timed)
				cairn_ult_yield(); /* timer heap out of memory: poll */
			else
				cairn_ult_park();
		}
		if (timed)
			rt_timer_cancel(xs, &wt.t);
		return 0;
	}
	if (rt_manual_driver()) {
		/* Nobody else runs the xstreams: drive them until the wake arrives. */
		while (!atomic_load_explicit(&w->woken, memory_order_acquire)) {
			if (deadline_us != 0 && rt_clock_us() >= deadline_us)
				return -CAIRN_ERR_TIMEDOUT;
			if (cairn_rt_poll_all() == 0)
				rt_cpu_relax();
		}
		return 0;
	}
	while (!atomic_load_explicit(&w->woken, memory_order_acquire)) {
		if (rt_futex_wait(&w->woken, 0, deadline_us) == -CAIRN_ERR_TIMEDOUT &&
		    !atomic_load_explicit(&w->woken, memory_order_acquire))
			return -CAIRN_ERR_TIMEDOUT;
	}
	return 0;
}

void
rt_waiter_wake(struct rt_waiter *w)
{
	atomic_store_explicit(&w->woken, 1, memory_order_release);
	if (w->ult != NULL)
		cairn_ult_wake(w->ult);
	else
		rt_futex_wake(&w->woken, 1);
}

static struct rt_waiter *
waitq_pop(struct cairn_list *q)
{
	struct cairn_list *n = cairn_list_pop(q);

	return n != NULL ? cairn_container_of(n, struct rt_waiter, link) : NULL;
}

/* Block on queue q (lock held on entry, released on return). */
static int
waitq_wait(struct cairn_list *q, struct rt_spin *lock, struct rt_waiter *w, uint64_t deadline)
{
	int rc;

	cairn_list_add_tail(&w->link, q);
	rc = rt_waiter_wait(w, lock, deadline);
	rt_spin_lock(lock);
	if (rc == -CAIRN_ERR_TIMEDOUT) {
		if (atomic_load(&w->woken))
			rc = 0; /* woken while timing out: the hand-over happened */
		else
			cairn_list_del(&w->link);
	}
	rt_spin_unlock(lock);
	return rc;
}

/* ------------------------------------------------------------------ mutex */

struct rt_mutex {
	struct rt_spin lock;
	unsigned locked;
	struct cairn_list waiters;
};
_Static_assert(sizeof(struct rt_mutex) <= sizeof(struct cairn_mutex), "cairn_mutex too small");

int
cairn_mutex_init(struct cairn_mutex *m)
{
	struct rt_mutex *mx = (struct rt_mutex *)m;

	if (m == NULL)
		return -CAIRN_ERR_INVAL;
	atomic_init(&mx->lock.v, 0);
	mx->locked = 0;
	cairn_list_init(&mx->waiters);
	return 0;
}

void
cairn_mutex_lock(struct cairn_mutex *m)
{
	struct rt_mutex *mx = (struct rt_mutex *)m;
	struct rt_waiter w;

	rt_spin_lock(&mx->lock);
	if (!mx->locked) {
		mx->locked = 1;
		rt_spin_unlock(&mx->lock);
		return;
	}
	rt_waiter_init(&w);
	waitq_wait(&mx->waiters, &mx->lock, &w, 0); /* owner on return */
}

bool
cairn_mutex_trylock(struct cairn_mutex *m)
{
	struct rt_mutex *mx = (struct rt_mutex *)m;
	bool ok;

	rt_spin_lock(&mx->lock);
	ok = !mx->locked;
	mx->locked = 1;
	rt_spin_unlock(&mx->lock);
	return ok;
}

void
cairn_mutex_unlock(struct cairn_mutex *m)
{
	struct rt_mutex *mx = (struct rt_mutex *)m;
	struct rt_waiter *w;

	rt_spin_lock(&mx->lock);
	w = waitq_pop(&mx->waiters);
	if (w != NULL)
		rt_waiter_wake(w); /* ownership passes to w; locked stays set */
	else
		mx->locked = 0;
	rt_spin_unlock(&mx->lock);
}

void
cairn_mutex_destroy(struct cairn_mutex *m)
{
	struct rt_mutex *mx = (struct rt_mutex *)m;

	if (mx != NULL && (mx->locked || !cairn_list_empty(&mx->waiters)))
		CAIRN_ERROR("destroying a mutex that is held or waited on");
}

/* ------------------------------------------------------------------ rwlock */

/* state: 0 free, > 0 readers, -1 writer. Writers waiting block new readers. */
struct rt_rwlock {
	struct rt_spin lock;
	int state;
	struct cairn_list rwait;
	struct cairn_list wwait;
};
_Static_assert(sizeof(struct rt_rwlock) <= sizeof(struct cairn_rwlock), "cairn_rwlock too small");

int
cairn_rwlock_init(struct cairn_rwlock *l)
{
	struct rt_rwlock *rw = (struct rt_rwlock *)l;

	if (l == NULL)
		return -CAIRN_ERR_INVAL;
	atomic_init(&rw->lock.v, 0);
	rw->state = 0;
	cairn_list_init(&rw->rwait);
	cairn_list_init(&rw->wwait);
	return 0;
}

void
cairn_rwlock_rdlock(struct cairn_rwlock *l)
{
	struct rt_rwlock *rw = (struct rt_rwlock *)l;
	struct rt_waiter w;

	rt_spin_lock(&rw->lock);
	if (rw->state >= 0 && cairn_list_empty(&rw->wwait)) {
		rw->state++;
		rt_spin_unlock(&rw->lock);
		return;
	}
	rt_waiter_init(&w);
	waitq_wait(&rw->rwait, &rw->lock, &w, 0); /* counted as reader by the waker */
}

void
cairn_rwlock_wrlock(struct cairn_rwlock *l)
{
	struct rt_rwlock *rw = (struct rt_rwlock *)l;
	struct rt_waiter w;

	rt_spin_lock(&rw->lock);
	if (rw->state == 0) {
		rw->state = -1;
		rt_spin_unlock(&rw->lock);
		return;
	}
	rt_waiter_init(&w);
	waitq_wait(&rw->wwait, &rw->lock, &w, 0); /* owner on return */
}

void
cairn_rwlock_unlock(struct cairn_rwlock *l)
{
	struct rt_rwlock *rw = (struct rt_rwlock *)l;
	struct rt_waiter *w;

	rt_spin_lock(&rw->lock);
	if (rw->state > 0)
		rw->state--;
	else if (rw->state == -1)
		rw->state = 0;
	else
		CAIRN_ERROR("rwlock unlock of an unlocked rwlock");
	if (rw->state == 0) {
		/* Alternate: a writer first if one waits, else every waiting reader. */
		w = waitq_pop(&rw->wwait);
		if (w != NULL) {
			rw->state = -1;
			rt_waiter_wake(w);
		} else {
			while ((w = waitq_pop(&rw->rwait)) != NULL) {
				rw->state++;
				rt_waiter_wake(w);
			}
		}
	}
	rt_spin_unlock(&rw->lock);
}

void
cairn_rwlock_destroy(struct cairn_rwlock *l)
{
	struct rt_rwlock *rw = (struct rt_rwlock *)l;

	if (rw != NULL && rw->state != 0)
		CAIRN_ERROR("destroying a rwlock that is held");
}

/* ------------------------------------------------------------------ condition */

struct rt_cond {
	struct rt_spin lock;
	struct cairn_list waiters;
};
_Static_assert(sizeof(struct rt_cond) <= sizeof(struct cairn_cond), "cairn_cond too small");

int
cairn_cond_init(struct cairn_cond *c)
{
	struct rt_cond *cv = (struct rt_cond *)c;

	if (c == NULL)
		return -CAIRN_ERR_INVAL;
	atomic_init(&cv->lock.v, 0);
	cairn_list_init(&cv->waiters);
	return 0;
}

/* deadline 0: none */
static int
cond_wait_until(struct cairn_cond *c, struct cairn_mutex *m, uint64_t deadline)
{
	struct rt_cond *cv = (struct rt_cond *)c;
	struct rt_waiter w;
	int rc;

	rt_waiter_init(&w);
	rt_spin_lock(&cv->lock);
	/* Queued before the mutex is released: a signal after unlock cannot be missed. */
	cairn_mutex_unlock(m);
	rc = waitq_wait(&cv->waiters, &cv->lock, &w, deadline);
	cairn_mutex_lock(m);
	return rc;
}

int
cairn_cond_timedwait(struct cairn_cond *c, struct cairn_mutex *m, uint64_t timeout_us)
{
	return cond_wait_until(c, m, rt_clock_us() + timeout_us);
}

void
cairn_cond_wait(struct cairn_cond *c, struct cairn_mutex *m)
{
	cond_wait_until(c, m, 0);
}

void
cairn_cond_signal(struct cairn_cond *c)
{
	struct rt_cond *cv = (struct rt_cond *)c;
	struct rt_waiter *w;

	rt_spin_lock(&cv->lock);
	w = waitq_pop(&cv->waiters);
	if (w != NULL)
		rt_waiter_wake(w);
	rt_spin_unlock(&cv->lock);
}

void
cairn_cond_broadcast(struct cairn_cond *c)
{
	struct rt_cond *cv = (struct rt_cond *)c;
	struct rt_waiter *w;

	rt_spin_lock(&cv->lock);
	while ((w = waitq_pop(&cv->waiters)) != NULL)
		rt_waiter_wake(w);
	rt_spin_unlock(&cv->lock);
}

void
cairn_cond_destroy(struct cairn_cond *c)
{
	struct rt_cond *cv = (struct rt_cond *)c;

	if (cv != NULL && !cairn_list_empty(&cv->waiters))
		CAIRN_ERROR("destroying a condition that has waiters");
}

/* ------------------------------------------------------------------ eventual */

struct cairn_eventual {
	struct rt_spin lock;
	bool set;
	int64_t value;
	struct cairn_list waiters;
};

int
cairn_eventual_create(struct cairn_eventual **ev)
{
	struct cairn_eventual *e;

	if (ev == NULL)
		return -CAIRN_ERR_INVAL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -CAIRN_ERR_NOMEM;
	cairn_list_init(&e->waiters);
	*ev = e;
	return 0;
}

void
cairn_eventual_set(struct cairn_eventual *ev, int64_t value)
{
	struct rt_waiter *w;

	rt_spin_lock(&ev->lock);
	if (ev->set) {
		rt_spin_unlock(&ev->lock);
		CAIRN_ERROR("eventual set twice (value %lld ignored)", (long long)value);
		return;
	}
	ev->value = value;
	ev->set = true;
	while ((w = waitq_pop(&ev->waiters)) != NULL)
		rt_waiter_wake(w);
	rt_spin_unlock(&ev->lock);
}

/* deadline 0: none */
static int
eventual_wait_until(struct cairn_eventual *ev, uint64_t deadline, int64_t *value)
{
	struct rt_waiter w;
	int rc = 0;

	rt_spin_lock(&ev->lock);
	if (!ev->set) {
		rt_waiter_init(&w);
		rc = waitq_wait(&ev->waiters, &ev->lock, &w, deadline);
		if (rc != 0)
			return rc;
		rt_spin_lock(&ev->lock);
	}
	if (value != NULL)
		*value = ev->value;
	rt_spin_unlock(&ev->lock);
	return 0;
}

int
cairn_eventual_timedwait(struct cairn_eventual *ev, uint64_t timeout_us, int64_t *value)
{
	return eventual_wait_until(ev, rt_clock_us() + timeout_us, value);
}

int64_t
cairn_eventual_wait(struct cairn_eventual *ev)
{
	int64_t v = 0;

	eventual_wait_until(ev, 0, &v);
	return v;
}

bool
cairn_eventual_is_set(struct cairn_eventual *ev)
{
	bool set;

	rt_spin_lock(&ev->lock);
	set = ev->set;
	rt_spin_unlock(&ev->lock);
	return set;
}

void
cairn_eventual_destroy(struct cairn_eventual *ev)
{
	if (ev == NULL)
		return;
	if (!cairn_list_empty(&ev->waiters))
		CAIRN_ERROR("destroying an eventual that has waiters");
	free(ev);
}
