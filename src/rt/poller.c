/*
 * Pollers: busy pollers run once per scheduler loop; timed pollers sit in the
 * xstream's timer heap and run when due (the timerfd wakes a sleeping xstream).
 * Pollers run in scheduler context. Unregistering is allowed from anywhere on the
 * owning xstream, including the poller's own function and other pollers: a poller that
 * is running or inside the busy-list walk is only marked, and freed by the walker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#define CAIRN_LOG_SS CAIRN_SS_RT
#include "common/log.h"
#include "rt_internal.h"

static __thread bool t_in_busy_walk;

static void
poller_free(struct cairn_poller *p)
{
	cairn_list_del(&p->link);
	if (p->period_us == 0)
		p->xs->nr_busy_pollers--;
	rt_timer_cancel(p->xs, &p->timer);
	free(p);
}

static void
poller_timer_fire(struct rt_timer *t)
{
	struct cairn_poller *p = cairn_container_of(t, struct cairn_poller, timer);
	struct cairn_xstream *xs = p->xs;
	uint64_t next;

	if (!p->paused) {
		p->running = true;
		if (p->fn(p->arg) > 0)
			p->busy_runs++;
		p->running = false;
		p->runs++;
		rt_metric_poller_runs(1);
	}
	if (p->unregistered) {
		poller_free(p);
		return;
	}
	next = t->deadline_us + p->period_us;
	if (next <= xs->now_us) /* fell behind: don't fire a burst to catch up */
		next = xs->now_us + p->period_us;
	if (rt_timer_arm(xs, t, next) != 0)
		CAIRN_ERROR("%s: poller %s: cannot re-arm (no memory); it stops", xs->name,
		            p->name);
}

unsigned
rt_pollers_run(struct cairn_xstream *xs)
{
	struct cairn_poller *p, *tmp;
	unsigned work = 0, runs = 0;
	bool dead = false;

	t_in_busy_walk = true;
	cairn_list_for_each_entry(p, &xs->pollers, link)
	{
		if (p->paused || p->unregistered) {
			dead |= p->unregistered;
			continue;
		}
		p->running = true;
		if (p->fn(p->arg) > 0) {
			work++;
			p->busy_runs++;
		}
		p->running = false;
		p->runs++;
		runs++;
		dead |= p->unregistered;
	}
	t_in_busy_walk = false;
	if (dead) {
		cairn_list_for_each_entry_safe(p, tmp, &xs->pollers, link)
		{
			if (p->unregistered)
				poller_free(p);
		}
	}
	(void)runs;
	return work;
}

struct cairn_poller *
cairn_poller_register(cairn_poller_fn fn, void *arg, uint64_t period_us, const char *name)
{
	struct cairn_xstream *xs = t_rt_xs;
	struct cairn_poller *p;

	if (xs == NULL || fn == NULL) {
		CAIRN_ERROR("poller %s: register needs a function and xstream context",
		            name ? name : "?");
		return NULL;
	}
	if (period_us > 3600ull * 1000000u) {
		CAIRN_ERROR("poller %s: period %llu us is over an hour", name ? name : "?",
		            (unsigned long long)period_us);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->xs = xs;
	p->fn = fn;
	p->arg = arg;
	p->period_us = period_us;
	p->timer.idx = -1;
	p->timer.fn = poller_timer_fire;
	snprintf(p->name, sizeof(p->name), "%s", name ? name : "poller");
	if (period_us == 0) {
		cairn_list_add_tail(&p->link, &xs->pollers);
		xs->nr_busy_pollers++;
	} else {
		xs->now_us = rt_clock_us();
		if (rt_timer_arm(xs, &p->timer, xs->now_us + period_us) != 0) {
			free(p);
			return NULL;
		}
		cairn_list_add_tail(&p->link, &xs->timed_pollers);
	}
	return p;
}

void
cairn_poller_unregister(struct cairn_poller **pp)
{
	struct cairn_poller *p;

	if (pp == NULL || *pp == NULL)
		return;
	p = *pp;
	*pp = NULL;
	if (p->xs != t_rt_xs) {
		CAIRN_ERROR("poller %s: unregister from another thread than its xstream %s",
		            p->name, p->xs->name);
		return;
	}
	p->unregistered = true;
	if (p->running || (t_in_busy_walk && p->period_us == 0))
		return; /* freed by the walker after fn returns */
	poller_free(p);
}

void
cairn_poller_pause(struct cairn_poller *p)
{
	if (p != NULL)
		p->paused = true;
}

void
cairn_poller_resume(struct cairn_poller *p)
{
	if (p != NULL)
		p->paused = false;
}

void
rt_pollers_fini(struct cairn_xstream *xs)
{
	struct cairn_poller *p, *tmp;

	cairn_list_for_each_entry_safe(p, tmp, &xs->pollers, link) poller_free(p);
	cairn_list_for_each_entry_safe(p, tmp, &xs->timed_pollers, link) poller_free(p);
}

/* ------------------------------------------------------------------ wake fds */

static int
wake_fd_ctl(int op, int fd, uint32_t events)
{
	struct cairn_xstream *xs = t_rt_xs;
	struct epoll_event ev;

	if (xs == NULL) {
		CAIRN_ERROR("wake fd %d: needs xstream context", fd);
		return -CAIRN_ERR_INVAL;
	}
	if (fd < 0 || fd == xs->evfd || fd == xs->tfd || fd == xs->epfd)
		return -CAIRN_ERR_INVAL;
	if (op != EPOLL_CTL_DEL &&
	    (events & ~(uint32_t)(EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP | EPOLLPRI)) != 0)
		return -CAIRN_ERR_INVAL;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.fd = fd;
	if (epoll_ctl(xs->epfd, op, fd, &ev) != 0) {
		int rc = -errno;

		CAIRN_ERROR("%s: epoll_ctl(%d) on fd %d: %s", xs->name, op, fd, cairn_strerror(rc));
		return rc;
	}
	if (op == EPOLL_CTL_ADD)
		xs->nr_wake_fds++;
	else if (op == EPOLL_CTL_DEL)
		xs->nr_wake_fds--;
	return 0;
}

int
cairn_rt_wake_fd_add(int fd, uint32_t events)
{
	return wake_fd_ctl(EPOLL_CTL_ADD, fd, events);
}

int
cairn_rt_wake_fd_mod(int fd, uint32_t events)
{
	return wake_fd_ctl(EPOLL_CTL_MOD, fd, events);
}

int
cairn_rt_wake_fd_del(int fd)
{
	return wake_fd_ctl(EPOLL_CTL_DEL, fd, 0);
}
