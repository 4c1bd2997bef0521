/*
 * Unit tests of the membership version (src/control/ctl_group.c): it moves on exactly when
 * a rank's state or URI changes; a joined engine that cannot be reached is retried later,
 * not on every tick. (The push itself is exercised with real engines by func_multi.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cairn/errno.h>

#include "control_internal.h"

static struct ctl_engine_cfg g_cfg[2] = {{.targets = 2, .port = 10010},
                                         {.targets = 2, .port = 10020}};

static void
sys_make(struct ctl_system *sys)
{
	memset(sys, 0, sizeof(*sys));
	sys->nr_engines = 2;
	for (unsigned i = 0; i < 2; i++) {
		sys->engines[i].idx = i;
		sys->engines[i].rank = i;
		sys->engines[i].cfg = &g_cfg[i];
		sys->engines[i].state = CTL_RANK_STOPPED;
	}
}

static void
test_version_moves_on_change(void **state)
{
	struct ctl_system sys;

	sys_make(&sys);
	ctl_group_sync(&sys);
	assert_int_equal(sys.group_version, 1);
	ctl_group_sync(&sys); /* nothing changed */
	assert_int_equal(sys.group_version, 1);
	sys.engines[1].state = CTL_RANK_STARTING;
	ctl_group_sync(&sys);
	assert_int_equal(sys.group_version, 2);
	sys.engines[1].state = CTL_RANK_EXCLUDED;
	ctl_group_sync(&sys);
	assert_int_equal(sys.group_version, 3);
	g_cfg[1].port = 10030; /* a rank on a new port */
	ctl_group_sync(&sys);
	assert_int_equal(sys.group_version, 4);
	g_cfg[1].port = 10020;
	ctl_group_sync(&sys);
	assert_int_equal(sys.group_version, 5);
	ctl_group_sync(&sys);
	assert_int_equal(sys.group_version, 5);
}

static void
test_unreachable_engine_retried_later(void **state)
{
	struct ctl_system sys;
	uint64_t next;

	sys_make(&sys);
	sys.engines[0].state = CTL_RANK_JOINED; /* joined, but no dRPC connection */
	sys.engines[0].pid = 4242;
	assert_int_equal(ctl_group_push(&sys, &sys.engines[0]), -CAIRN_ERR_UNREACH);
	ctl_group_sync(&sys);
	assert_int_equal(sys.engines[0].group_sent, 0);
	assert_int_equal(sys.engines[0].group_pid, 4242);
	assert_int_not_equal(sys.engines[0].group_next_ms, 0);
	sys.engines[0].group_next_ms = UINT64_MAX; /* not due yet: not retried */
	ctl_group_sync(&sys);
	assert_true(sys.engines[0].group_next_ms == UINT64_MAX);
	sys.engines[0].group_next_ms = 0; /* due: retried (and failed again) */
	ctl_group_sync(&sys);
	next = sys.engines[0].group_next_ms;
	assert_true(next != 0 && next != UINT64_MAX);
	/* a new process of the rank is tried at once */
	sys.engines[0].pid = 4343;
	ctl_group_sync(&sys);
	assert_int_equal(sys.engines[0].group_pid, 4343);
}

static void
test_engine_uri(void **state)
{
	struct ctl_system sys;
	char uri[64];

	sys_make(&sys);
	ctl_engine_uri(&sys.engines[1], uri, sizeof(uri));
	assert_string_equal(uri, "tcp://127.0.0.1:10020");
	g_cfg[0].port = 0;
	ctl_engine_uri(&sys.engines[0], uri, sizeof(uri));
	assert_string_equal(uri, "");
	g_cfg[0].port = 10010;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_version_moves_on_change),
	        cmocka_unit_test(test_unreachable_engine_retried_later),
	        cmocka_unit_test(test_engine_uri),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
