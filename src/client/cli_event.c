/*
 * Event queues and events (include/cairn/event.h).
 *
 * An event's private state (struct evx) lives inside the caller's struct cairn_event.
 * Locking: an EQ's mutex guards its lists and all its events (children included);
 * events without an EQ share one library-wide mutex. Lock order: event lock, then a
 * scheduler's lock (abort hooks cancel tasks); never the reverse.
 *
 * Waiting: pollers sleep on the EQ's condition variable. Completed events are queued
 * and signalled under the EQ lock; task completions from other threads go through the
 * scheduler's wake hook, which bumps `wake_seq` under the same lock, so no wake-up is
 * lost between "nothing to do" and sleeping.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cairn/errno.h"
#include "client_internal.h"
#include "common/time.h"

#define CAIRN_LOG_SS CAIRN_SS_CLIENT
#include "common/log.h"

#define EVX_MAGIC 0xca1e7e57u

struct cli_eq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct cairn_list running; /* launched top-level events */
	struct cairn_list comp;    /* completed, not harvested, oldest first */
	uint32_t n_running, n_comp;
	uint64_t wake_seq;
	int efd;
	bool efd_set;     /* the eventfd is readable (mirrors its counter != 0) */
	bool unprocessed; /* a task completed (any thread) since the last poll's progress */
	bool destroyed;
	struct cli_sched sched;
	uint64_t cookie;
};

struct evx {
	uint32_t magic;
	uint8_t state;
	bool is_child;
	bool own_launched; /* the event's own operation was launched */
	bool own_done;     /* ... and completed */
	bool barrier;
	int own_rc;
	int child_err;
	uint32_t nchild;
	uint32_t nchild_running;
	struct cairn_list link;     /* eq->running or eq->comp (top-level events) */
	struct cairn_list children; /* parent: its children */
	struct cairn_list sibling;  /* child: in the parent's list */
	struct cairn_event *parent;
	struct cli_eq *eq;          /* NULL: no EQ */
	struct cli_href *eqref;
	void (*abort_cb)(void *arg);
	void *abort_arg;
};

_Static_assert(sizeof(struct evx) <= sizeof(((struct cairn_event *)0)->ev_private),
	       "struct evx must fit in cairn_event.ev_private");

/* Events without an EQ. */
static pthread_mutex_t g_noeq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_noeq_cond;
static uint64_t g_noeq_wake_seq;
static struct cli_sched g_lib_sched;
static bool g_lib_sched_ready;
static uint32_t g_neq; /* EQs created and not destroyed */

static cli_progress_fn g_net_progress;
static void *g_net_progress_arg;

static inline struct evx *
ev2evx(struct cairn_event *ev)
{
	return (struct evx *)(void *)ev->ev_private;
}

static inline struct cairn_event *
evx2ev(struct evx *x)
{
	return cairn_container_of((void *)x, struct cairn_event, ev_private);
}

static pthread_mutex_t *
evx_lock(struct evx *x)
{
	return x->eq != NULL ? &x->eq->lock : &g_noeq_lock;
}

static pthread_cond_t *
evx_cond(struct evx *x)
{
	return x->eq != NULL ? &x->eq->cond : &g_noeq_cond;
}

static int
cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t a;
	int rc;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	rc = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return rc == 0 ? 0 : -CAIRN_ERR_NOMEM;
}

/* Wait on c until the monotonic deadline (UINT64_MAX: forever). */
static void
cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, uint64_t deadline_ns)
{
	struct timespec ts;

	if (deadline_ns == UINT64_MAX) {
		pthread_cond_wait(c, m);
		return;
	}
	ts = cairn_ns_to_timespec(deadline_ns);
	pthread_cond_timedwait(c, m, &ts);
}

static uint64_t
deadline_of(int64_t timeout_us)
{
	if (timeout_us < 0)
		return UINT64_MAX;
	return cairn_now_ns() + (uint64_t)timeout_us * CAIRN_NSEC_PER_USEC;
}

/* ------------------------------------------------------------------ progress */

void
cli_set_net_progress(cli_progress_fn fn, void *arg)
{
	pthread_mutex_lock(&g_noeq_lock);
	g_net_progress = fn;
	g_net_progress_arg = arg;
	pthread_mutex_unlock(&g_noeq_lock);
}

int
cli_net_progress(uint64_t timeout_us)
{
	cli_progress_fn fn;
	void *arg;

	pthread_mutex_lock(&g_noeq_lock);
	fn = g_net_progress;
	arg = g_net_progress_arg;
	pthread_mutex_unlock(&g_noeq_lock);
	return fn == NULL ? 0 : fn(arg, timeout_us);
}

/*
 * Under eq->lock: keep the eventfd readable exactly while completed events wait to be
 * polled or operations completed since the last poll progressed the EQ (their events
 * complete in the next cairn_eq_poll()).
 */
static void
eq_efd_update(struct cli_eq *eq)
{
	bool want = !eq->destroyed && (eq->n_comp > 0 || eq->unprocessed);
	uint64_t v = 1;

	if (want == eq->efd_set)
		return;
	if (want) {
		if (write(eq->efd, &v, sizeof(v)) != (ssize_t)sizeof(v)) {
			CAIRN_ERROR("EQ eventfd write failed: %s", strerror(errno));
			return;
		}
	} else if (read(eq->efd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
		CAIRN_ERROR("EQ eventfd read failed: %s", strerror(errno));
		return;
	}
	eq->efd_set = want;
}

static void
noeq_wake(void *arg)
{
	pthread_mutex_lock(&g_noeq_lock);
	g_noeq_wake_seq++;
	pthread_cond_broadcast(&g_noeq_cond);
	pthread_mutex_unlock(&g_noeq_lock);
}

static void
eq_wake(void *arg)
{
	struct cli_eq *eq = arg;

	pthread_mutex_lock(&eq->lock);
	eq->wake_seq++;
	/* An operation finished, maybe on another thread (libcairn's network xstream): its
	 * event completes when a poller progresses the scheduler, so make the eventfd
	 * readable now, for applications sleeping in epoll on it. */
	eq->unprocessed = true;
	eq_efd_update(eq);
	pthread_cond_broadcast(&eq->cond);
	pthread_mutex_unlock(&eq->lock);
}

/* ------------------------------------------------------------------ library state */

int
cli_ev_lib_init(void)
{
	int rc;

	rc = cond_init_monotonic(&g_noeq_cond);
	if (rc != 0)
		return rc;
	rc = cli_sched_init(&g_lib_sched, noeq_wake, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&g_noeq_cond);
		return rc;
	}
	g_lib_sched_ready = true;
	return 0;
}

int
cli_ev_lib_fini(void)
{
	int rc;

	pthread_mutex_lock(&g_noeq_lock);
	rc = g_neq > 0 ? -CAIRN_ERR_BUSY : 0;
	pthread_mutex_unlock(&g_noeq_lock);
	if (rc != 0)
		return rc;
	rc = cli_sched_fini(&g_lib_sched);
	if (rc != 0)
		return rc;
	g_lib_sched_ready = false;
	pthread_cond_destroy(&g_noeq_cond);
	return 0;
}

struct cli_sched *
cli_lib_sched(void)
{
	return g_lib_sched_ready ? &g_lib_sched : NULL;
}

struct cli_sched *
cli_ev2sched(struct cairn_event *ev)
{
	struct evx *x;

	if (ev == NULL)
		return cli_lib_sched();
	x = ev2evx(ev);
	if (x->magic != EVX_MAGIC)
		return NULL;
	return x->eq != NULL ? &x->eq->sched : cli_lib_sched();
}

/* ------------------------------------------------------------------ event queues */

static void
eq_free(void *obj)
{
	struct cli_eq *eq = obj;

	if (cli_sched_fini(&eq->sched) != 0)
		CAIRN_ERROR("EQ freed with tasks still running; their scheduler is leaked");
	close(eq->efd);
	pthread_cond_destroy(&eq->cond);
	pthread_mutex_destroy(&eq->lock);
	free(eq);
}

int
cairn_eq_create(struct cairn_handle *eqh)
{
	struct cli_eq *eq;
	struct cairn_handle h;
	int rc;

	if (eqh == NULL || !cli_initialized())
		return -CAIRN_ERR_INVAL;
	eq = calloc(1, sizeof(*eq));
	if (eq == NULL)
		return -CAIRN_ERR_NOMEM;
	cairn_list_init(&eq->running);
	cairn_list_init(&eq->comp);
	eq->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (eq->efd < 0) {
		rc = -errno;
		goto err_free;
	}
	if (pthread_mutex_init(&eq->lock, NULL) != 0) {
		rc = -CAIRN_ERR_NOMEM;
		goto err_close;
	}
	rc = cond_init_monotonic(&eq->cond);
	if (rc != 0)
		goto err_mutex;
	rc = cli_sched_init(&eq->sched, eq_wake, eq);
	if (rc != 0)
		goto err_cond;
	rc = cli_hdl_insert(eq, CLI_HTYPE_EQ, eq_free, NULL, &h.cookie);
	if (rc != 0)
		goto err_sched;
	eq->cookie = h.cookie;
	pthread_mutex_lock(&g_noeq_lock);
	g_neq++;
	pthread_mutex_unlock(&g_noeq_lock);
	*eqh = h;
	return 0;

err_sched:
	cli_sched_fini(&eq->sched);
err_cond:
	pthread_cond_destroy(&eq->cond);
err_mutex:
	pthread_mutex_destroy(&eq->lock);
err_close:
	close(eq->efd);
err_free:
	free(eq);
	return rc;
}

static struct cli_eq *
eq_lookup(struct cairn_handle eqh, struct cli_href **ref)
{
	return cli_hdl_lookup(eqh.cookie, CLI_HTYPE_EQ, ref);
}


int
cairn_eq_destroy(struct cairn_handle eqh, unsigned int flags)
{
	struct cli_href *ref;
	struct cli_eq *eq;
	struct cairn_list *l;
	int rc = 0;

	if (flags & ~CAIRN_EQ_DESTROY_FORCE)
		return -CAIRN_ERR_INVAL;
	eq = eq_lookup(eqh, &ref);
	if (eq == NULL)
		return -CAIRN_ERR_NOHANDLE;
	pthread_mutex_lock(&eq->lock);
	if (eq->destroyed) {
		rc = -CAIRN_ERR_NOHANDLE;
		goto out_unlock;
	}
	if ((eq->n_running > 0 || eq->n_comp > 0) && !(flags & CAIRN_EQ_DESTROY_FORCE)) {
		rc = -CAIRN_ERR_BUSY;
		goto out_unlock;
	}
	eq->destroyed = true;
	/* Completed events are dropped; running ones are aborted: they complete later
	 * (state COMPLETED, -CAIRN_ERR_CANCELED) without being queued. */
	while ((l = cairn_list_pop(&eq->comp)) != NULL) {
		struct evx *x = cairn_container_of(l, struct evx, link);

		x->state = CAIRN_EVS_READY;
	}
	eq->n_comp = 0;
	eq->unprocessed = false;
	eq_efd_update(eq);
	cairn_list_for_each(l, &eq->running) {
		struct evx *x = cairn_container_of(l, struct evx, link);

		if (x->state == CAIRN_EVS_RUNNING)
			x->state = CAIRN_EVS_ABORTED;
		if (x->abort_cb != NULL)
			x->abort_cb(x->abort_arg);
		x->abort_cb = NULL;
	}
	pthread_cond_broadcast(&eq->cond);
out_unlock:
	pthread_mutex_unlock(&eq->lock);
	if (rc == 0) {
		cli_sched_cancel_all(&eq->sched, -CAIRN_ERR_CANCELED);
		/* Nobody will poll this EQ again. */
		cli_sched_orphan(&eq->sched);
		cli_hdl_remove(eqh.cookie, CLI_HTYPE_EQ);
		pthread_mutex_lock(&g_noeq_lock);
		g_neq--;
		pthread_mutex_unlock(&g_noeq_lock);
	}
	cli_href_put(ref);
	return rc;
}

/* Under the lock: take a completed top-level event off the EQ; it and its completed
 * children become READY. */
static void
evx_harvest_locked(struct evx *x)
{
	struct cairn_list *l;

	if (x->eq != NULL && !x->eq->destroyed) {
		cairn_list_del(&x->link);
		x->eq->n_comp--;
		eq_efd_update(x->eq);
	}
	x->state = CAIRN_EVS_READY;
	cairn_list_for_each(l, &x->children) {
		struct evx *c = cairn_container_of(l, struct evx, sibling);

		if (c->state == CAIRN_EVS_COMPLETED)
			c->state = CAIRN_EVS_READY;
	}
}

int
cairn_eq_poll(struct cairn_handle eqh, int wait_running, int64_t timeout_us,
	      unsigned int nevents, struct cairn_event **events)
{
	struct cli_href *ref;
	struct cli_eq *eq;
	uint64_t deadline, seq;
	int n = 0;

	if (nevents == 0 || events == NULL || timeout_us < -1)
		return -CAIRN_ERR_INVAL;
	eq = eq_lookup(eqh, &ref);
	if (eq == NULL)
		return -CAIRN_ERR_NOHANDLE;
	deadline = deadline_of(timeout_us);

	pthread_mutex_lock(&eq->lock);
	for (;;) {
		if (eq->destroyed) {
			n = -CAIRN_ERR_NOHANDLE;
			break;
		}
		if (eq->n_comp > 0) {
			while (n < (int)nevents && eq->n_comp > 0) {
				struct evx *x = cairn_list_first(&eq->comp, struct evx, link);

				evx_harvest_locked(x);
				events[n++] = evx2ev(x);
			}
			break;
		}
		if (wait_running && eq->n_running == 0)
			break;
		seq = eq->wake_seq;
		/* this progress processes every completion signalled so far */
		eq->unprocessed = false;
		eq_efd_update(eq);
		pthread_mutex_unlock(&eq->lock);
		cli_sched_progress(&eq->sched);
		cli_net_progress(0);
		pthread_mutex_lock(&eq->lock);
		if (eq->n_comp > 0 || eq->wake_seq != seq)
			continue;
		if (timeout_us == 0 || cairn_now_ns() >= deadline)
			break;
		cond_wait_until(&eq->cond, &eq->lock, deadline);
	}
	pthread_mutex_unlock(&eq->lock);
	cli_href_put(ref);
	return n;
}

int
cairn_eq_query(struct cairn_handle eqh, unsigned int query, unsigned int nevents,
	       struct cairn_event **events)
{
	struct cli_href *ref;
	struct cli_eq *eq;
	struct cairn_list *l;
	int n = 0;

	if ((query & CAIRN_EQR_ALL) == 0 || (query & ~CAIRN_EQR_ALL) ||
	    (nevents > 0 && events == NULL))
		return -CAIRN_ERR_INVAL;
	eq = eq_lookup(eqh, &ref);
	if (eq == NULL)
		return -CAIRN_ERR_NOHANDLE;
	pthread_mutex_lock(&eq->lock);
	if (query & CAIRN_EQR_COMPLETED) {
		cairn_list_for_each(l, &eq->comp) {
			if ((unsigned int)n < nevents)
				events[n] = evx2ev(cairn_container_of(l, struct evx, link));
			n++;
		}
	}
	if (query & CAIRN_EQR_WAITING) {
		cairn_list_for_each(l, &eq->running) {
			if ((unsigned int)n < nevents)
				events[n] = evx2ev(cairn_container_of(l, struct evx, link));
			n++;
		}
	}
	pthread_mutex_unlock(&eq->lock);
	cli_href_put(ref);
	return n;
}

int
cairn_eq_get_fd(struct cairn_handle eqh, int *fd)
{
	struct cli_href *ref;
	struct cli_eq *eq;

	if (fd == NULL)
		return -CAIRN_ERR_INVAL;
	eq = eq_lookup(eqh, &ref);
	if (eq == NULL)
		return -CAIRN_ERR_NOHANDLE;
	*fd = eq->efd;
	cli_href_put(ref);
	return 0;
}

/* ------------------------------------------------------------------ events */

int
cairn_event_init(struct cairn_event *ev, struct cairn_handle eqh, struct cairn_event *parent)
{
	struct cli_href *ref = NULL;
	struct cli_eq *eq = NULL;
	struct evx *x, *px = NULL;
	int rc = 0;

	if (ev == NULL || !cli_initialized() || ev == parent)
		return -CAIRN_ERR_INVAL;
	if (parent != NULL) {
		px = ev2evx(parent);
		if (px->magic != EVX_MAGIC || px->is_child)
			return -CAIRN_ERR_INVAL;
		eq = px->eq;
	} else if (cairn_handle_is_valid(eqh)) {
		eq = eq_lookup(eqh, &ref);
		if (eq == NULL)
			return -CAIRN_ERR_NOHANDLE;
	}

	memset(ev, 0, sizeof(*ev));
	x = ev2evx(ev);
	x->state = CAIRN_EVS_READY;
	cairn_list_init(&x->link);
	cairn_list_init(&x->children);
	cairn_list_init(&x->sibling);
	x->eq = eq;
	if (px != NULL) {
		pthread_mutex_t *lock = evx_lock(px);

		pthread_mutex_lock(lock);
		if (px->state != CAIRN_EVS_READY) {
			rc = -CAIRN_ERR_INVAL;
		} else {
			x->is_child = true;
			x->parent = parent;
			px->nchild++;
			cairn_list_add_tail(&x->sibling, &px->children);
			x->magic = EVX_MAGIC;
		}
		pthread_mutex_unlock(lock);
		if (rc != 0)
			memset(ev, 0, sizeof(*ev));
		return rc;
	}
	x->eqref = ref; /* the event keeps its EQ's memory alive until fini */
	x->magic = EVX_MAGIC;
	return 0;
}

int
cairn_event_fini(struct cairn_event *ev)
{
	struct cli_href *eqref;
	pthread_mutex_t *lock;
	struct cairn_list *l;
	struct evx *x;

	if (ev == NULL || ev2evx(ev)->magic != EVX_MAGIC)
		return -CAIRN_ERR_INVAL;
	x = ev2evx(ev);
	lock = evx_lock(x);
	pthread_mutex_lock(lock);
	if (x->state != CAIRN_EVS_READY) {
		pthread_mutex_unlock(lock);
		return -CAIRN_ERR_BUSY;
	}
	cairn_list_for_each(l, &x->children) {
		struct evx *c = cairn_container_of(l, struct evx, sibling);

		if (c->state != CAIRN_EVS_READY && c->state != CAIRN_EVS_COMPLETED) {
			pthread_mutex_unlock(lock);
			return -CAIRN_ERR_BUSY;
		}
	}
	while ((l = cairn_list_pop(&x->children)) != NULL) {
		struct evx *c = cairn_container_of(l, struct evx, sibling);

		c->magic = 0;
		c->state = CAIRN_EVS_INIT;
		c->parent = NULL;
	}
	if (x->is_child) {
		struct evx *px = ev2evx(x->parent);

		cairn_list_del(&x->sibling);
		px->nchild--;
	}
	eqref = x->eqref;
	x->magic = 0;
	x->state = CAIRN_EVS_INIT;
	x->eqref = NULL;
	pthread_mutex_unlock(lock);
	if (eqref != NULL)
		cli_href_put(eqref);
	return 0;
}

/* Under the lock: complete a top-level event if its operation and children are done. */
static void
evx_maybe_complete_locked(struct evx *x)
{
	struct cli_eq *eq = x->eq;

	if (!(x->own_done || x->barrier) || x->nchild_running > 0)
		return;
	if (x->state != CAIRN_EVS_RUNNING && x->state != CAIRN_EVS_ABORTED)
		return;
	if (x->state == CAIRN_EVS_ABORTED)
		evx2ev(x)->ev_error = -CAIRN_ERR_CANCELED;
	else
		evx2ev(x)->ev_error = x->own_rc != 0 ? x->own_rc : x->child_err;
	x->state = CAIRN_EVS_COMPLETED;
	x->abort_cb = NULL;
	if (eq != NULL) {
		cairn_list_del(&x->link);
		eq->n_running--;
		if (!eq->destroyed) {
			cairn_list_add_tail(&x->link, &eq->comp);
			eq->n_comp++;
			eq_efd_update(eq);
		}
	} else {
		g_noeq_wake_seq++;
	}
	pthread_cond_broadcast(evx_cond(x));
}

/* Under the lock: a top-level event starts running. */
static void
evx_start_locked(struct evx *x)
{
	x->state = CAIRN_EVS_RUNNING;
	x->own_launched = false;
	x->own_done = false;
	x->barrier = false;
	x->own_rc = 0;
	x->child_err = 0;
	evx2ev(x)->ev_error = 0;
	if (x->eq != NULL) {
		cairn_list_add_tail(&x->link, &x->eq->running);
		x->eq->n_running++;
	}
}

int
cli_ev_launch(struct cairn_event *ev)
{
	pthread_mutex_t *lock;
	struct evx *x;
	int rc = 0;

	if (ev == NULL || ev2evx(ev)->magic != EVX_MAGIC)
		return -CAIRN_ERR_INVAL;
	x = ev2evx(ev);
	lock = evx_lock(x);
	pthread_mutex_lock(lock);
	if (x->eq != NULL && x->eq->destroyed) {
		rc = -CAIRN_ERR_NOHANDLE;
		goto out;
	}
	if (x->is_child) {
		struct evx *px = ev2evx(x->parent);

		if (x->state != CAIRN_EVS_READY ||
		    (px->state != CAIRN_EVS_READY && px->state != CAIRN_EVS_RUNNING) ||
		    (px->state == CAIRN_EVS_RUNNING && (px->own_done || px->barrier))) {
			rc = -CAIRN_ERR_INVAL;
			goto out;
		}
		if (px->state == CAIRN_EVS_READY)
			evx_start_locked(px);
		px->nchild_running++;
		x->state = CAIRN_EVS_RUNNING;
		ev->ev_error = 0;
		x->own_done = false;
		x->abort_cb = NULL;
		goto out;
	}
	if (x->state == CAIRN_EVS_READY) {
		evx_start_locked(x);
	} else if (x->state != CAIRN_EVS_RUNNING || x->own_launched || x->barrier) {
		rc = -CAIRN_ERR_INVAL;
		goto out;
	}
	x->own_launched = true;
	x->abort_cb = NULL;
out:
	pthread_mutex_unlock(lock);
	return rc;
}

void
cli_ev_complete(struct cairn_event *ev, int rc)
{
	pthread_mutex_t *lock;
	struct evx *x = ev2evx(ev);

	lock = evx_lock(x);
	pthread_mutex_lock(lock);
	if (x->magic != EVX_MAGIC ||
	    (x->state != CAIRN_EVS_RUNNING && x->state != CAIRN_EVS_ABORTED) ||
	    (!x->is_child && (!x->own_launched || x->own_done))) {
		pthread_mutex_unlock(lock);
		CAIRN_ERROR("event %p completed in state %d; ignored", (void *)ev,
			    (int)x->state);
		return;
	}
	if (x->state == CAIRN_EVS_ABORTED)
		rc = -CAIRN_ERR_CANCELED;
	x->abort_cb = NULL;
	if (x->is_child) {
		struct evx *px = ev2evx(x->parent);

		x->state = CAIRN_EVS_COMPLETED;
		ev->ev_error = rc;
		px->nchild_running--;
		if (rc != 0 && px->child_err == 0)
			px->child_err = rc;
		evx_maybe_complete_locked(px);
	} else {
		x->own_done = true;
		x->own_rc = rc;
		evx_maybe_complete_locked(x);
	}
	pthread_mutex_unlock(lock);
}

void
cli_ev_set_abort_cb(struct cairn_event *ev, void (*cb)(void *arg), void *arg)
{
	struct evx *x = ev2evx(ev);
	pthread_mutex_t *lock = evx_lock(x);

	pthread_mutex_lock(lock);
	x->abort_cb = cb;
	x->abort_arg = arg;
	pthread_mutex_unlock(lock);
}

int
cairn_event_test(struct cairn_event *ev, int64_t timeout_us, bool *flag)
{
	struct cli_sched *sched;
	pthread_mutex_t *lock;
	pthread_cond_t *cond;
	uint64_t deadline, seq;
	uint64_t *wake_seq;
	struct evx *x;

	if (ev == NULL || flag == NULL || timeout_us < -1)
		return -CAIRN_ERR_INVAL;
	x = ev2evx(ev);
	if (x->magic != EVX_MAGIC || x->is_child)
		return -CAIRN_ERR_INVAL;
	*flag = false;
	lock = evx_lock(x);
	cond = evx_cond(x);
	wake_seq = x->eq != NULL ? &x->eq->wake_seq : &g_noeq_wake_seq;
	sched = cli_ev2sched(ev);
	deadline = deadline_of(timeout_us);

	pthread_mutex_lock(lock);
	for (;;) {
		if (x->state == CAIRN_EVS_COMPLETED) {
			evx_harvest_locked(x);
			*flag = true;
			break;
		}
		if (x->state != CAIRN_EVS_RUNNING && x->state != CAIRN_EVS_ABORTED)
			break; /* nothing launched: nothing to wait for */
		seq = *wake_seq;
		pthread_mutex_unlock(lock);
		if (sched != NULL)
			cli_sched_progress(sched);
		cli_net_progress(0);
		pthread_mutex_lock(lock);
		if (x->state == CAIRN_EVS_COMPLETED || *wake_seq != seq)
			continue;
		if (timeout_us == 0 || cairn_now_ns() >= deadline)
			break;
		cond_wait_until(cond, lock, deadline);
	}
	pthread_mutex_unlock(lock);
	return 0;
}

int
cairn_event_parent_barrier(struct cairn_event *ev)
{
	pthread_mutex_t *lock;
	struct evx *x;
	int rc = 0;

	if (ev == NULL || ev2evx(ev)->magic != EVX_MAGIC)
		return -CAIRN_ERR_INVAL;
	x = ev2evx(ev);
	if (x->is_child)
		return -CAIRN_ERR_INVAL;
	lock = evx_lock(x);
	pthread_mutex_lock(lock);
	if (x->nchild == 0) {
		rc = -CAIRN_ERR_INVAL;
		goto out;
	}
	if (x->state == CAIRN_EVS_READY) {
		evx_start_locked(x);
	} else if (x->state != CAIRN_EVS_RUNNING && x->state != CAIRN_EVS_ABORTED) {
		rc = -CAIRN_ERR_INVAL;
		goto out;
	} else if (x->barrier) {
		rc = -CAIRN_ERR_ALREADY;
		goto out;
	} else if (x->own_launched) {
		rc = -CAIRN_ERR_INVAL;
		goto out;
	}
	x->barrier = true;
	evx_maybe_complete_locked(x);
out:
	pthread_mutex_unlock(lock);
	return rc;
}

int
cairn_event_abort(struct cairn_event *ev)
{
	pthread_mutex_t *lock;
	struct cairn_list *l;
	struct evx *x;
	int rc = 0;

	if (ev == NULL || ev2evx(ev)->magic != EVX_MAGIC)
		return -CAIRN_ERR_INVAL;
	x = ev2evx(ev);
	lock = evx_lock(x);
	pthread_mutex_lock(lock);
	if (x->state != CAIRN_EVS_RUNNING) {
		rc = -CAIRN_ERR_ALREADY;
		goto out;
	}
	x->state = CAIRN_EVS_ABORTED;
	if (x->abort_cb != NULL) {
		x->abort_cb(x->abort_arg);
		x->abort_cb = NULL;
	}
	cairn_list_for_each(l, &x->children) {
		struct evx *c = cairn_container_of(l, struct evx, sibling);

		if (c->state != CAIRN_EVS_RUNNING)
			continue;
		c->state = CAIRN_EVS_ABORTED;
		if (c->abort_cb != NULL) {
			c->abort_cb(c->abort_arg);
			c->abort_cb = NULL;
		}
	}
	/* A parent running only for its children has no operation to wait for: it
	 * completes once they do (now, if none is running). */
	if (!x->own_launched)
		x->barrier = true;
	evx_maybe_complete_locked(x);
	if (x->eq != NULL)
		x->eq->wake_seq++;
	else
		g_noeq_wake_seq++;
	pthread_cond_broadcast(evx_cond(x));
out:
	pthread_mutex_unlock(lock);
	return rc;
}

enum cairn_ev_state
cairn_event_state(struct cairn_event *ev)
{
	enum cairn_ev_state s;
	pthread_mutex_t *lock;
	struct evx *x;

	if (ev == NULL || ev2evx(ev)->magic != EVX_MAGIC)
		return CAIRN_EVS_INIT;
	x = ev2evx(ev);
	lock = evx_lock(x);
	pthread_mutex_lock(lock);
	s = (enum cairn_ev_state)x->state;
	pthread_mutex_unlock(lock);
	return s;
}
