/*
 * Per-xstream timer heap (binary min-heap on the deadline). Drives timed pollers,
 * sleeping ULTs and timed waits; the earliest deadline arms the xstream's timerfd
 * before it sleeps. Owning xstream only.
 */
#include <stdlib.h>

#include "rt_internal.h"

static void
heap_swap(struct rt_timer_heap *h, unsigned a, unsigned b)
{
	struct rt_timer *t = h->v[a];

	h->v[a] = h->v[b];
	h->v[b] = t;
	h->v[a]->idx = (int)a;
	h->v[b]->idx = (int)b;
}

static void
heap_up(struct rt_timer_heap *h, unsigned i)
{
	while (i > 0) {
		unsigned p = (i - 1) / 2;

		if (h->v[p]->deadline_us <= h->v[i]->deadline_us)
			break;
		heap_swap(h, i, p);
		i = p;
	}
}

static void
heap_down(struct rt_timer_heap *h, unsigned i)
{
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->nr && h->v[l]->deadline_us < h->v[m]->deadline_us)
			m = l;
		if (r < h->nr && h->v[r]->deadline_us < h->v[m]->deadline_us)
			m = r;
		if (m == i)
			break;
		heap_swap(h, i, m);
		i = m;
	}
}

static void
heap_remove(struct rt_timer_heap *h, unsigned i)
{
	struct rt_timer *t = h->v[i];
	unsigned last = h->nr - 1;

	if (i != last) {
		heap_swap(h, i, last);
		h->nr--;
		heap_down(h, i);
		heap_up(h, i);
	} else {
		h->nr--;
	}
	t->idx = -1;
}

int
rt_timer_arm(struct cairn_xstream *xs, struct rt_timer *t, uint64_t deadline_us)
{
	struct rt_timer_heap *h = &xs->timers;

	if (t->idx >= 0)
		heap_remove(h, (unsigned)t->idx);
	if (h->nr == h->cap) {
		unsigned cap = h->cap ? h->cap * 2 : 64;
		struct rt_timer **v = realloc(h->v, cap * sizeof(*v));

		if (v == NULL)
			return -CAIRN_ERR_NOMEM;
		h->v = v;
		h->cap = cap;
	}
	t->deadline_us = deadline_us;
	t->idx = (int)h->nr;
	h->v[h->nr++] = t;
	heap_up(h, (unsigned)t->idx);
	return 0;
}

void
rt_timer_cancel(struct cairn_xstream *xs, struct rt_timer *t)
{
	if (t->idx >= 0)
		heap_remove(&xs->timers, (unsigned)t->idx);
}

unsigned
rt_timers_run(struct cairn_xstream *xs, uint64_t now)
{
	struct rt_timer_heap *h = &xs->timers;
	unsigned n = 0;

	/* Bounded so a callback re-arming at "now" cannot starve the loop. */
	while (h->nr > 0 && h->v[0]->deadline_us <= now && n < 1024) {
		struct rt_timer *t = h->v[0];

		heap_remove(h, 0);
		t->fn(t);
		n++;
	}
	return n;
}

void
rt_timer_heap_fini(struct rt_timer_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->nr = h->cap = 0;
}
