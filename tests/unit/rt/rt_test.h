/* Helpers shared by the runtime unit tests. */
#ifndef CAIRN_TEST_RT_H
#define CAIRN_TEST_RT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "rt/rt.h"

/* Start a runtime with nr_main target xstreams (no system/helper), unpinned so tests
 * sharing a small box do not fight over cores. */
static inline void
rt_test_start(unsigned nr_main, unsigned spin_us)
{
	struct cairn_rt_opts o;

	cairn_rt_opts_default(&o);
	o.nr_system = 0;
	o.nr_main = nr_main;
	o.pin = false;
	o.spin_us = spin_us;
	assert_int_equal(cairn_rt_init(&o), 0);
}

/* Run fn in a ULT on main xstream i and wait. */
static inline void
rt_test_run(unsigned i, void (*fn)(void *), void *arg)
{
	assert_int_equal(cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, i), fn, arg), 0);
}

#endif
