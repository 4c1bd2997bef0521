/*
 * Messages between xstreams: each xstream owns one bounded multi-producer /
 * single-consumer ring of {fn, arg} (Concurrency Kit's ck_ring, MPSC flavour, entries
 * stored inline). The ring never grows and never drops: a full ring applies
 * back-pressure to the sender (a ULT yields, other contexts spin with backoff).
 * Remote ULT wake-ups do not use the ring (see sched.c: remote_ready), so a full ring
 * can never block a wake.
 */
#include <sched.h>

#define CAIRN_LOG_SS CAIRN_SS_RT
#include "common/log.h"
#include "rt_internal.h"

unsigned
rt_msgs_drain(struct cairn_xstream *xs, unsigned max)
{
	struct rt_msg m;
	unsigned n = 0;

	while (n < max && ck_ring_dequeue_mpsc_rt_msg(&xs->ring, xs->ring_buf, &m)) {
		m.fn(m.arg);
		n++;
	}
	if (n != 0) {
		xs->st_msgs += n;
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
	struct rt_msg m = {.fn = fn, .arg = arg};

	if (!ck_ring_enqueue_mpsc_rt_msg(&xs->ring, xs->ring_buf, &m))
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
		} else if (++spins < 64) {
			rt_cpu_relax();
		} else {
			sched_yield();
		}
	}
	return 0;
}
