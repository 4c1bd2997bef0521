/*
 * The client task scheduler (DAOS TSE's role): tasks with a body, stacked completion
 * callbacks that may re-run the body, dependencies with result propagation,
 * cancellation, and binding to events.
 *
 * A task goes INIT -> (schedule) WAITING (deps pending) -> READY -> RUNNING (body
 * called) -> COMPLETING (cli_task_complete(): queued for its callbacks) -> FINISHED.
 * Bodies and callbacks run in whichever thread calls cli_sched_progress() (or, for an
 * orphaned scheduler, in the completing thread); cli_task_complete() may come from any
 * thread. One mutex per scheduler guards every task's state and lists; bodies and
 * callbacks run without it.
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "client_internal.h"
#include "cli_hdl.h"

#define CAIRN_LOG_SS CAIRN_SS_CLIENT
#include "common/log.h"

enum task_state {
	T_INIT = 0,
	T_WAITING,
	T_READY,
	T_RUNNING,
	T_COMPLETING,
	T_FINISHED,
};

struct task_cb {
	struct cairn_list link;
	cli_task_cb_t cb;
	alignas(16) unsigned char arg[];
};

struct cli_task {
	struct cli_sched *sched;
	cli_task_func_t func;
	enum task_state state;
	int rc;
	int dep_rc;
	int cancel_rc;
	unsigned int flags;
	bool canceled;
	bool reinit; /* set by cli_task_reinit() from a callback */
	uint32_t refs;
	uint32_t ndeps_pending;
	uint32_t ndependents, dependents_cap;
	struct cli_task **dependents; /* each holds a reference */
	struct cairn_list cbs;        /* stack: newest first */
	struct cairn_list link;       /* sched->ready or sched->done */
	struct cairn_list alink;      /* sched->all */
	void (*cancel_cb)(struct cli_task *task);
	struct cairn_event *ev;
	void *priv;
	alignas(16) unsigned char args[CLI_TASK_ARGS_SIZE];
};

static void task_process_completion(struct cli_task *t);

int
cli_sched_init(struct cli_sched *sched, void (*wake_fn)(void *arg), void *wake_arg)
{
	memset(sched, 0, sizeof(*sched));
	if (pthread_mutex_init(&sched->lock, NULL) != 0)
		return -CAIRN_ERR_NOMEM;
	cairn_list_init(&sched->all);
	cairn_list_init(&sched->ready);
	cairn_list_init(&sched->done);
	sched->wake_fn = wake_fn;
	sched->wake_arg = wake_arg;
	return 0;
}

static void
sched_wake(struct cli_sched *s)
{
	if (s->wake_fn != NULL)
		s->wake_fn(s->wake_arg);
}

int
cli_task_create(cli_task_func_t func, struct cli_sched *sched, struct cli_task **out)
{
	struct cli_task *t;

	if (func == NULL || sched == NULL || out == NULL)
		return -CAIRN_ERR_INVAL;
	t = aligned_alloc(16, (sizeof(*t) + 15) & ~(size_t)15);
	if (t == NULL)
		return -CAIRN_ERR_NOMEM;
	memset(t, 0, sizeof(*t));
	t->sched = sched;
	t->func = func;
	t->refs = 1;
	cairn_list_init(&t->cbs);
	cairn_list_init(&t->link);
	pthread_mutex_lock(&sched->lock);
	cairn_list_add_tail(&t->alink, &sched->all);
	sched->ntasks++;
	pthread_mutex_unlock(&sched->lock);
	*out = t;
	return 0;
}

static void
task_free(struct cli_task *t)
{
	struct cli_sched *s = t->sched;
	struct cairn_list *n;

	pthread_mutex_lock(&s->lock);
	cairn_list_del(&t->alink);
	s->ntasks--;
	pthread_mutex_unlock(&s->lock);
	while ((n = cairn_list_pop(&t->cbs)) != NULL)
		free(cairn_list_entry(n, struct task_cb, link));
	free(t->dependents);
	free(t);
}

void
cli_task_addref(struct cli_task *t)
{
	__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
}

void
cli_task_decref(struct cli_task *t)
{
	if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0)
		task_free(t);
}

void
cli_task_destroy(struct cli_task *t)
{
	struct cli_task **deps;
	uint32_t n;

	if (t == NULL)
		return;
	if (t->state != T_INIT) {
		CAIRN_ERROR("task %p destroyed after being scheduled; ignored", (void *)t);
		return;
	}
	/* It may already be registered as a dependent of others: they hold references
	 * that go when they finish. Drop what it holds and its own reference. */
	pthread_mutex_lock(&t->sched->lock);
	deps = t->dependents;
	n = t->ndependents;
	t->dependents = NULL;
	t->ndependents = 0;
	t->state = T_FINISHED;
	pthread_mutex_unlock(&t->sched->lock);
	for (uint32_t i = 0; i < n; i++)
		cli_task_decref(deps[i]);
	free(deps);
	cli_task_decref(t);
}

void *
cli_task_args(struct cli_task *t)
{
	return t->args;
}

void
cli_task_set_priv(struct cli_task *t, void *priv)
{
	t->priv = priv;
}

void *
cli_task_get_priv(struct cli_task *t)
{
	return t->priv;
}

void
cli_task_set_flags(struct cli_task *t, unsigned int flags)
{
	t->flags = flags;
}

struct cli_sched *
cli_task2sched(struct cli_task *t)
{
	return t->sched;
}

int
cli_task_rc(struct cli_task *t)
{
	return __atomic_load_n(&t->rc, __ATOMIC_ACQUIRE);
}

int
cli_task_dep_rc(struct cli_task *t)
{
	return t->dep_rc;
}

void
cli_task_set_rc(struct cli_task *t, int rc)
{
	__atomic_store_n(&t->rc, rc, __ATOMIC_RELEASE);
}

bool
cli_task_canceled(struct cli_task *t)
{
	return __atomic_load_n(&t->canceled, __ATOMIC_ACQUIRE);
}

void
cli_task_set_cancel_cb(struct cli_task *t, void (*cb)(struct cli_task *task))
{
	pthread_mutex_lock(&t->sched->lock);
	t->cancel_cb = cb;
	pthread_mutex_unlock(&t->sched->lock);
}

int
cli_task_register_deps(struct cli_task *t, int n, struct cli_task **deps)
{
	struct cli_sched *s;
	int rc = 0;

	if (t == NULL || n < 0 || (n > 0 && deps == NULL))
		return -CAIRN_ERR_INVAL;
	s = t->sched;
	for (int i = 0; i < n; i++) {
		if (deps[i] == NULL || deps[i] == t || deps[i]->sched != s)
			return -CAIRN_ERR_INVAL;
	}
	pthread_mutex_lock(&s->lock);
	if (t->state != T_INIT) {
		rc = -CAIRN_ERR_INVAL;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		struct cli_task *d = deps[i];

		if (d->state == T_FINISHED) {
			if (d->rc != 0 && t->dep_rc == 0)
				t->dep_rc = d->rc;
			continue;
		}
		if (d->ndependents == d->dependents_cap) {
			uint32_t cap = d->dependents_cap ? d->dependents_cap * 2 : 4;
			struct cli_task **a = realloc(d->dependents, cap * sizeof(*a));

			if (a == NULL) {
				rc = -CAIRN_ERR_NOMEM;
				goto out;
			}
			d->dependents = a;
			d->dependents_cap = cap;
		}
		d->dependents[d->ndependents++] = t;
		cli_task_addref(t);
		t->ndeps_pending++;
	}
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
cli_task_register_comp_cb(struct cli_task *t, cli_task_cb_t cb, const void *arg, size_t arg_size)
{
	struct task_cb *c;

	if (t == NULL || cb == NULL || (arg_size > 0 && arg == NULL) || arg_size > (1u << 20))
		return -CAIRN_ERR_INVAL;
	c = malloc(sizeof(*c) + arg_size);
	if (c == NULL)
		return -CAIRN_ERR_NOMEM;
	c->cb = cb;
	if (arg_size > 0)
		memcpy(c->arg, arg, arg_size);
	pthread_mutex_lock(&t->sched->lock);
	cairn_list_add(&c->link, &t->cbs);
	pthread_mutex_unlock(&t->sched->lock);
	return 0;
}

/* Under the lock: queue a task for its completion callbacks. */
static void
task_to_done_locked(struct cli_task *t, int rc)
{
	cairn_list_del(&t->link);
	t->rc = rc;
	t->state = T_COMPLETING;
	cairn_list_add_tail(&t->link, &t->sched->done);
}

static void
task_run_body(struct cli_task *t)
{
	if (t->dep_rc != 0 && !(t->flags & CLI_TASK_RUN_ON_DEP_ERR)) {
		cli_task_complete(t, t->dep_rc);
		return;
	}
	t->func(t);
}

/* Under the lock, state INIT: enqueue according to deps and cancellation.
 * \return true when the body should run now (instant). */
static bool
task_enqueue_locked(struct cli_task *t, bool instant)
{
	struct cli_sched *s = t->sched;

	if (t->canceled) {
		task_to_done_locked(t, t->cancel_rc);
	} else if (t->ndeps_pending > 0) {
		t->state = T_WAITING;
	} else if (instant) {
		t->state = T_RUNNING;
		return true;
	} else {
		t->state = T_READY;
		cairn_list_add_tail(&t->link, &s->ready);
	}
	return false;
}

int
cli_task_schedule(struct cli_task *t, bool instant)
{
	struct cli_sched *s;
	bool run, orphan;

	if (t == NULL)
		return -CAIRN_ERR_INVAL;
	s = t->sched;
	pthread_mutex_lock(&s->lock);
	if (t->state != T_INIT) {
		pthread_mutex_unlock(&s->lock);
		return -CAIRN_ERR_INVAL;
	}
	s->ninflight++;
	run = task_enqueue_locked(t, instant);
	orphan = s->orphaned;
	pthread_mutex_unlock(&s->lock);
	if (run)
		task_run_body(t);
	else if (orphan)
		cli_sched_progress(s);
	else
		sched_wake(s);
	return 0;
}

void
cli_task_complete(struct cli_task *t, int rc)
{
	struct cli_sched *s = t->sched;
	bool orphan;

	pthread_mutex_lock(&s->lock);
	if (t->state != T_RUNNING) {
		pthread_mutex_unlock(&s->lock);
		CAIRN_ERROR("task %p completed in state %d; ignored", (void *)t, (int)t->state);
		return;
	}
	task_to_done_locked(t, t->canceled ? t->cancel_rc : rc);
	orphan = s->orphaned;
	pthread_mutex_unlock(&s->lock);
	if (orphan)
		cli_sched_progress(s);
	else
		sched_wake(s);
}

int
cli_task_reinit(struct cli_task *t, cli_task_func_t func)
{
	int rc = 0;

	pthread_mutex_lock(&t->sched->lock);
	if (t->state != T_COMPLETING || t->reinit) {
		rc = -CAIRN_ERR_INVAL;
	} else {
		t->reinit = true;
		t->state = T_INIT; /* so deps may be registered from the callback */
		t->rc = 0;
		t->dep_rc = 0;
		t->canceled = false;
		if (func != NULL)
			t->func = func;
	}
	pthread_mutex_unlock(&t->sched->lock);
	return rc;
}

/* Internal: cancel; `wake` false when the caller holds an event lock (the wake hook
 * may take it) and wakes waiters itself. */
static int
task_cancel(struct cli_task *t, int rc, bool wake)
{
	struct cli_sched *s = t->sched;
	void (*cb)(struct cli_task *) = NULL;
	bool queued = false;
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	if (t->canceled) {
		ret = -CAIRN_ERR_ALREADY;
		goto out;
	}
	switch (t->state) {
	case T_INIT:
		t->canceled = true;
		t->cancel_rc = rc;
		break;
	case T_WAITING:
	case T_READY:
		t->canceled = true;
		t->cancel_rc = rc;
		task_to_done_locked(t, rc);
		queued = true;
		break;
	case T_RUNNING:
		t->canceled = true;
		t->cancel_rc = rc;
		cb = t->cancel_cb;
		if (cb != NULL)
			cli_task_addref(t);
		break;
	default:
		ret = -CAIRN_ERR_ALREADY;
		break;
	}
out:
	pthread_mutex_unlock(&s->lock);
	if (cb != NULL) {
		cb(t);
		cli_task_decref(t);
	}
	if (queued && wake) {
		if (s->orphaned)
			cli_sched_progress(s);
		else
			sched_wake(s);
	}
	return ret;
}

int
cli_task_cancel(struct cli_task *t, int rc)
{
	if (t == NULL)
		return -CAIRN_ERR_INVAL;
	return task_cancel(t, rc, true);
}

static void
task_ev_abort(void *arg)
{
	/* Called by cairn_event_abort() under the event's lock: no wake (it wakes). */
	task_cancel(arg, -CAIRN_ERR_CANCELED, false);
}

int
cli_task_bind_event(struct cli_task *t, struct cairn_event *ev)
{
	if (t == NULL || ev == NULL || t->state != T_INIT)
		return -CAIRN_ERR_INVAL;
	t->ev = ev;
	cli_ev_set_abort_cb(ev, task_ev_abort, t);
	return 0;
}

/* Run a completed task's callbacks, then finish it or start its next round. */
static void
task_process_completion(struct cli_task *t)
{
	struct cli_sched *s = t->sched;
	struct cli_task **deps;
	struct cairn_event *ev;
	uint32_t ndeps;

	for (;;) {
		struct cairn_list *n;
		struct task_cb *c;

		pthread_mutex_lock(&s->lock);
		n = cairn_list_pop(&t->cbs);
		pthread_mutex_unlock(&s->lock);
		if (n == NULL)
			break;
		c = cairn_list_entry(n, struct task_cb, link);
		c->cb(t, c->arg);
		free(c);
		if (t->reinit) {
			pthread_mutex_lock(&s->lock);
			t->reinit = false;
			task_enqueue_locked(t, false); /* never instant: returns false */
			pthread_mutex_unlock(&s->lock);
			return;
		}
	}

	pthread_mutex_lock(&s->lock);
	t->state = T_FINISHED;
	deps = t->dependents;
	ndeps = t->ndependents;
	t->dependents = NULL;
	t->ndependents = t->dependents_cap = 0;
	for (uint32_t i = 0; i < ndeps; i++) {
		struct cli_task *d = deps[i];

		if (t->rc != 0 && d->dep_rc == 0)
			d->dep_rc = t->rc;
		if (d->ndeps_pending > 0)
			d->ndeps_pending--;
		/* picked up by the progress loop that is running us */
		if (d->ndeps_pending == 0 && d->state == T_WAITING) {
			d->state = T_READY;
			cairn_list_add_tail(&d->link, &s->ready);
		}
	}
	s->ninflight--;
	ev = t->ev;
	t->ev = NULL;
	pthread_mutex_unlock(&s->lock);

	for (uint32_t i = 0; i < ndeps; i++)
		cli_task_decref(deps[i]);
	free(deps);
	if (ev != NULL)
		cli_ev_complete(ev, t->rc);
	cli_task_decref(t);
}

int
cli_sched_progress(struct cli_sched *s)
{
	int n = 0;

	for (;;) {
		struct cairn_list *l;
		struct cli_task *t;

		pthread_mutex_lock(&s->lock);
		l = cairn_list_pop(&s->done);
		if (l != NULL) {
			pthread_mutex_unlock(&s->lock);
			task_process_completion(cairn_list_entry(l, struct cli_task, link));
			n++;
			continue;
		}
		l = cairn_list_pop(&s->ready);
		if (l == NULL) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		t = cairn_list_entry(l, struct cli_task, link);
		t->state = T_RUNNING;
		pthread_mutex_unlock(&s->lock);
		task_run_body(t);
		n++;
	}
	return n;
}

void
cli_sched_cancel_all(struct cli_sched *s, int rc)
{
	for (;;) {
		struct cli_task *victim = NULL;
		struct cairn_list *l;

		pthread_mutex_lock(&s->lock);
		cairn_list_for_each(l, &s->all) {
			struct cli_task *t = cairn_list_entry(l, struct cli_task, alink);

			if (!t->canceled && t->state >= T_WAITING && t->state <= T_RUNNING) {
				victim = t;
				cli_task_addref(t);
				break;
			}
		}
		pthread_mutex_unlock(&s->lock);
		if (victim == NULL)
			break;
		task_cancel(victim, rc, true);
		cli_task_decref(victim);
	}
}

void
cli_sched_orphan(struct cli_sched *s)
{
	pthread_mutex_lock(&s->lock);
	s->orphaned = true;
	pthread_mutex_unlock(&s->lock);
	cli_sched_progress(s);
}

uint64_t
cli_sched_inflight(struct cli_sched *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->ninflight;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int
cli_sched_fini(struct cli_sched *s)
{
	uint64_t inflight;

	cli_sched_cancel_all(s, -CAIRN_ERR_CANCELED);
	cli_sched_progress(s);
	pthread_mutex_lock(&s->lock);
	inflight = s->ninflight;
	pthread_mutex_unlock(&s->lock);
	if (inflight > 0)
		return -CAIRN_ERR_BUSY;
	if (s->ntasks > 0)
		CAIRN_WARN("scheduler finalised with %lu task(s) created and never scheduled",
			   (unsigned long)s->ntasks);
	pthread_mutex_destroy(&s->lock);
	return 0;
}

/* cli_task_run(); *scheduled says whether the task got to its scheduler (then its
 * completion callbacks run; otherwise it was destroyed without running them). */
static int
task_run(struct cli_task *t, struct cairn_event *ev, bool *scheduled)
{
	struct cairn_event sync_ev;
	bool done = false;
	int rc;

	*scheduled = false;
	if (t == NULL)
		return -CAIRN_ERR_INVAL;
	if (cli_task2sched(t) != cli_ev2sched(ev)) {
		CAIRN_ERROR("task %p was created on another scheduler than its event's",
			    (void *)t);
		cli_task_destroy(t);
		return -CAIRN_ERR_INVAL;
	}
	if (ev != NULL) {
		rc = cli_ev_launch(ev);
		if (rc != 0) {
			cli_task_destroy(t);
			return rc;
		}
		cli_task_bind_event(t, ev);
		/* The body starts now (an RPC goes out at once); its completion callbacks and
		 * the event's completion still happen in progress, never in this call. */
		*scheduled = true;
		return cli_task_schedule(t, true);
	}

	rc = cairn_event_init(&sync_ev, CAIRN_HANDLE_NULL, NULL);
	if (rc != 0) {
		cli_task_destroy(t);
		return rc;
	}
	rc = cli_ev_launch(&sync_ev);
	if (rc != 0) {
		cli_task_destroy(t);
		cairn_event_fini(&sync_ev);
		return rc;
	}
	cli_task_bind_event(t, &sync_ev);
	*scheduled = true;
	cli_task_schedule(t, true);
	while (!done) {
		rc = cairn_event_test(&sync_ev, CAIRN_EQ_WAIT, &done);
		if (rc != 0)
			break;
	}
	rc = rc != 0 ? rc : sync_ev.ev_error;
	cairn_event_fini(&sync_ev);
	return rc;
}

int
cli_task_run(struct cli_task *t, struct cairn_event *ev)
{
	bool scheduled;

	return task_run(t, ev, &scheduled);
}

int
cli_op_start_cb(cli_task_func_t body, cli_task_cb_t done, void *op, void (*discard)(void *op),
                cli_task_cb_t extra, const void *extra_arg, size_t extra_size,
                struct cairn_event *ev)
{
	struct cli_task *task;
	bool scheduled = false;
	int rc;

	rc = cli_task_create(body, cli_ev2sched(ev), &task);
	if (rc == 0) {
		*(void **)cli_task_args(task) = op;
		rc = cli_task_register_comp_cb(task, done, &op, sizeof(op));
		if (rc == 0 && extra != NULL)
			rc = cli_task_register_comp_cb(task, extra, extra_arg, extra_size);
		if (rc)
			cli_task_destroy(task);
		else
			rc = task_run(task, ev, &scheduled);
	}
	/* a task that never reached its scheduler ran no callback: op is still ours */
	if (!scheduled)
		discard(op);
	return rc;
}

int
cli_op_start(cli_task_func_t body, cli_task_cb_t done, void *op, void (*discard)(void *op),
             struct cairn_event *ev)
{
	return cli_op_start_cb(body, done, op, discard, NULL, NULL, 0, ev);
}

void *
cli_op_new(size_t size, uint64_t cookie, uint8_t type, void **obj, struct cli_href **ref, int *rc)
{
	void *op;

	if (!cli_initialized()) {
		*rc = -CAIRN_ERR_INVAL;
		return NULL;
	}
	op = calloc(1, size);
	if (op == NULL) {
		*rc = -CAIRN_ERR_NOMEM;
		return NULL;
	}
	*obj = cli_hdl_lookup(cookie, type, ref);
	if (*obj == NULL) {
		free(op);
		*rc = -CAIRN_ERR_NOHANDLE;
		return NULL;
	}
	return op;
}
