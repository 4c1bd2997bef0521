/*
 * Messages between xstreams: each xstream owns one bounded multi-producer /
 * single-consumer ring of {fn, arg} cells with a sequence number per cell (D. Vyukov's
 * bounded queue, single-consumer side simplified). A producer claims a position with
 * one CAS on ring_tail, fills the cell and publishes it by storing seq; it never reads
 * the consumer's index, and its CAS is the seq_cst operation that orders the
 * publication before its read of `sleeping` (see sched.c), so no extra fence is paid.
 * We first used ck_ring's MPSC flavour: it reads the consumer index on every enqueue
 * and needs a separate full fence for the sleep handshake; measured on the 2-vCPU
 * build box with cairn-rt-bench, it gave 3.2-3.4 M msgs/s against the figures in
 * docs/performance.md for this ring.
 *
 * The ring never grows and never drops: a full ring applies back-pressure to the sender
 * (a ULT yields, other contexts spin with backoff). Remote ULT wake-ups do not use the
 * ring (sched.c: remote_ready), so a full ring can never block a wake.
 */
#include <sched.h>
#include <stdlib.h>

#define CAIRN_LOG_SS CAIRN_SS_RT
#include "common/log.h"
#include "rt_internal.h"

int
rt_ring_init(struct cairn_xstream *xs, unsigned size)
{
	uint64_t i;

	xs->ring_cells = aligned_alloc(RT_CACHELINE, (size_t)size * sizeof(struct rt_msg_cell));
	if (xs->ring_cells == NULL)
		return -CAIRN_ERR_NOMEM;
	for (i = 0; i < size; i++) {
		atomic_init(&xs->ring_cells[i].seq, i);
		xs->ring_cells[i].fn = NULL;
		xs->ring_cells[i].arg = NULL;
	}
	xs->ring_size = size;
	xs->ring_mask = size - 1;
	atomic_init(&xs->ring_tail, 0);
	xs->ring_head = 0;
	return 0;
}

void
rt_ring_fini(struct cairn_xstream *xs)
{
	free(xs->ring_cells);
	xs->ring_cells = NULL;
}

static inline bool
ring_push(struct cairn_xstream *xs, cairn_msg_fn fn, void *arg)
{
	uint64_t pos = atomic_load_explicit(&xs->ring_tail, memory_order_relaxed);
	struct rt_msg_cell *c;

	for (;;) {
		int64_t diff;

		c = &xs->ring_cells[pos & xs->ring_mask];
		diff = (int64_t)(atomic_load_explicit(&c->seq, memory_order_acquire) - pos);
		if (diff == 0) {
			if (atomic_compare_exchange_weak_explicit(&xs->ring_tail, &pos, pos + 1,
			                                          memory_order_seq_cst,
			                                          memory_order_relaxed))
				break;
		} else if (diff < 0) {
			return false; /* full: the consumer has not freed this cell yet */
		} else {
			pos = atomic_load_explicit(&xs->ring_tail, memory_order_relaxed);
		}
	}
	c->fn = fn;
	c->arg = arg;
	atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
	return true;
}

static inline bool
ring_pop(struct cairn_xstream *xs, cairn_msg_fn *fn, void **arg)
{
	struct rt_msg_cell *c = &xs->ring_cells[xs->ring_head & xs->ring_mask];

	if (atomic_load_explicit(&c->seq, memory_order_acquire) != xs->ring_head + 1)
		return false; /* empty, or claimed but not yet published */
	*fn = c->fn;
	*arg = c->arg;
	atomic_store_explicit(&c->seq, xs->ring_head + xs->ring_mask + 1, memory_order_release);
	xs->ring_head++;
	return true;
}

unsigned
rt_msgs_drain(struct cairn_xstream *xs, unsigned max)
{
	cairn_msg_fn fn;
	void *arg;
	unsigned n = 0;

	while (n < max && ring_pop(xs, &fn, &arg)) {
		fn(arg);
		n++;
	}
	if (n != 0) {
		rt_stat_add(&xs->st_msgs, n);
		rt_metric_msgs(n);
	}
	return n;
}

static int
msg_check(struct cairn_xstream *xs, cairn_msg_fn fn)
{
	if (xs == NULL || fn == NULL)
		return -CAIRN_ERR_INVAL;
	if (!atomic_load(&g_rt.running) || atomic_load(&xs->exited))
		return -CAIRN_ERR_SHUTDOWN;
	return 0;
}

static inline bool
msg_push(struct cairn_xstream *xs, cairn_msg_fn fn, void *arg)
{
	if (!ring_push(xs, fn, arg))
		return false;
	rt_xs_kick(xs);
	return true;
}

int
cairn_rt_try_send_msg(struct cairn_xstream *xs, cairn_msg_fn fn, void *arg)
{
	int rc = msg_check(xs, fn);

	if (rc != 0)
		return rc;
	return msg_push(xs, fn, arg) ? 0 : -CAIRN_ERR_AGAIN;
}

int
cairn_rt_send_msg(struct cairn_xstream *xs, cairn_msg_fn fn, void *arg)
{
	struct cairn_xstream *self = t_rt_xs;
	unsigned spins = 0;
	int rc = msg_check(xs, fn);

	if (rc != 0)
		return rc;
	while (!msg_push(xs, fn, arg)) {
		if (atomic_load(&xs->exited))
			return -CAIRN_ERR_SHUTDOWN;
		if (self != NULL && self->cur != NULL) {
			cairn_ult_yield();
		} else if (self == xs) {
			/* Scheduler context sending to its own full ring: make room by
			 * running the oldest message here, or we would wait for ourselves. */
			rt_msgs_drain(xs, 1);
		} else if (rt_manual_driver()) {
			cairn_rt_poll(xs); /* manual mode: nobody else drains it */
		} else if (++spins < 64) {
			rt_cpu_relax();
		} else {
			sched_yield();
		}
	}
	return 0;
}
