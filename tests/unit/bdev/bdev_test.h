/*
 * Helpers for the bdev unit tests: a real runtime (2 target xstreams, unpinned), test
 * bodies that run in a ULT and report the failing line (cmocka's longjmp must not cross
 * a ULT stack, so assertions happen on the main thread), data patterns and a waiter
 * for deletion callbacks.
 */
#ifndef CAIRN_TEST_BDEV_H
#define CAIRN_TEST_BDEV_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "bdev/bdev.h"
#include "cairn/errno.h"
#include "common/log.h"
#include "rt/rt.h"

#define CK(c)                                                                              \
	do {                                                                               \
		if (!(c)) {                                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
			return __LINE__;                                                   \
		}                                                                          \
	} while (0)

#define CKRC(expr, want)                                                                   \
	do {                                                                               \
		int _r = (expr), _w = (want);                                              \
		if (_r != _w) {                                                            \
			fprintf(stderr, "%s:%d: %s = %d (%s), expected %d (%s)\n", __FILE__,   \
				__LINE__, #expr, _r, cairn_strerror(_r), _w,               \
				cairn_strerror(_w));                                       \
			return __LINE__;                                                   \
		}                                                                          \
	} while (0)

/* Propagate a failing sub-check. */
#define CKSUB(expr)                                                                        \
	do {                                                                               \
		int _l = (expr);                                                           \
		if (_l != 0)                                                               \
			return _l;                                                         \
	} while (0)

struct ult_run {
	int (*fn)(void *arg);
	void *arg;
	int line;
};

static void
ult_trampoline(void *arg)
{
	struct ult_run *r = arg;

	r->line = r->fn(r->arg);
}

/* Run fn in a ULT on target xstream i; fail the cmocka test with the line it reports. */
static inline void
run_on(unsigned i, int (*fn)(void *), void *arg)
{
	struct ult_run r = { .fn = fn, .arg = arg, .line = -1 };

	assert_int_equal(cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, i), ult_trampoline,
					   &r), 0);
	if (r.line != 0)
		fail_msg("check failed at line %d (see stderr)", r.line);
}

static inline int
bdev_test_setup(void **state)
{
	struct cairn_rt_opts o;

	cairn_log_init();
	cairn_rt_opts_default(&o);
	o.nr_system = 0;
	o.nr_main = 2;
	o.nr_helper = 0;
	o.pin = false;
	o.stack_size = 256 * 1024;
	if (cairn_rt_init(&o) != 0)
		return -1;
	if (cairn_bdev_init() != 0)
		return -1;
	return 0;
}

static inline int
bdev_test_teardown(void **state)
{
	cairn_bdev_fini();
	cairn_rt_fini();
	return 0;
}

/* Deterministic pattern: byte i of block b under seed s. */
static inline void
pattern_fill(void *buf, size_t len, uint64_t first_block, uint32_t bs, uint32_t seed)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((first_block + i / bs) * 131u + (i % bs) * 7u + seed * 17u + 1u);
}

static inline bool
pattern_check(const void *buf, size_t len, uint64_t first_block, uint32_t bs, uint32_t seed)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		if (p[i] != (uint8_t)((first_block + i / bs) * 131u + (i % bs) * 7u + seed * 17u + 1u))
			return false;
	}
	return true;
}

static inline bool
all_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		if (p[i] != 0)
			return false;
	}
	return true;
}

/* Waiter for deletion callbacks (which may run on an xstream or a helper thread). */
struct done_wait {
	pthread_mutex_t m;
	pthread_cond_t c;
	int calls;
	int rc;
};
#define DONE_WAIT_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 }

static inline void
done_cb(void *arg, int rc)
{
	struct done_wait *w = arg;

	pthread_mutex_lock(&w->m);
	w->calls++;
	w->rc = rc;
	pthread_cond_broadcast(&w->c);
	pthread_mutex_unlock(&w->m);
}

/* Wait up to ms for at least one call; returns the number of calls. */
static inline int
done_wait_for(struct done_wait *w, unsigned ms)
{
	struct timespec dl;
	int calls;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->m);
	while (w->calls == 0) {
		if (pthread_cond_timedwait(&w->c, &w->m, &dl) != 0)
			break;
	}
	calls = w->calls;
	pthread_mutex_unlock(&w->m);
	return calls;
}

static inline void
ignore_event(enum cairn_bdev_event_type type, struct cairn_bdev *bdev, void *ctx)
{
}

#endif /* CAIRN_TEST_BDEV_H */
