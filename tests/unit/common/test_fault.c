/* Unit tests for src/common/fault.c: off by default, always/count/skip/probability,
 * reproducible seeds, spec parsing (all or nothing), environment, threads. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "common/fault.h"

static int g_name_calls;

static const char *
name_with_side_effect(void)
{
	g_name_calls++;
	return "x.y";
}

static int
reset(void **state)
{
	cairn_fault_disarm_all();
	return 0;
}

static void
test_off_by_default(void **state)
{
	int fired = 0;

	assert_int_equal(g_cairn_fault_armed, 0);
	for (int i = 0; i < 1000; i++)
		fired += CAIRN_FAULT("vos.wal.write");
	assert_int_equal(fired, 0);
	/* With nothing armed, the macro does not even evaluate its argument. */
	assert_false(CAIRN_FAULT(name_with_side_effect()));
	assert_int_equal(g_name_calls, 0);
	assert_int_equal(cairn_fault_stats("vos.wal.write", NULL, NULL), -CAIRN_ERR_NONEXIST);
	assert_int_equal(cairn_fault_value("vos.wal.write", -7), -7);
}

static void
test_always_and_disarm(void **state)
{
	uint64_t hits, fired;

	assert_int_equal(cairn_fault_arm("vos.wal.write", NULL), 0);
	assert_int_equal(g_cairn_fault_armed, 1);
	assert_true(CAIRN_FAULT("vos.wal.write"));
	assert_true(CAIRN_FAULT("vos.wal.write"));
	assert_false(CAIRN_FAULT("vos.wal.read")); /* other points stay quiet */
	assert_int_equal(cairn_fault_stats("vos.wal.write", &hits, &fired), 0);
	assert_true(hits == 2 && fired == 2);
	assert_int_equal(cairn_fault_disarm("vos.wal.write"), 0);
	assert_int_equal(cairn_fault_disarm("vos.wal.write"), -CAIRN_ERR_NONEXIST);
	assert_int_equal(g_cairn_fault_armed, 0);
	assert_false(CAIRN_FAULT("vos.wal.write"));
}

static void
test_count_and_skip(void **state)
{
	struct cairn_fault_cfg cfg = {.prob = 1.0, .count = 3};
	int fired = 0;
	uint64_t hits, nf;

	assert_int_equal(cairn_fault_arm("net.send", &cfg), 0);
	for (int i = 0; i < 100; i++)
		fired += CAIRN_FAULT("net.send");
	assert_int_equal(fired, 3);

	cfg = (struct cairn_fault_cfg){.prob = 1.0, .skip = 5, .count = 2};
	assert_int_equal(cairn_fault_arm("net.send", &cfg), 0); /* re-arm resets counters */
	for (int i = 1; i <= 20; i++) {
		bool f = CAIRN_FAULT("net.send");

		assert_int_equal(f, i == 6 || i == 7);
	}
	assert_int_equal(cairn_fault_stats("net.send", &hits, &nf), 0);
	assert_true(hits == 20 && nf == 2);
}

static void
test_probability_reproducible(void **state)
{
	struct cairn_fault_cfg cfg = {.prob = 0.25, .seed = 1234};
	uint8_t first[10000];
	int fired = 0, same = 0;

	assert_int_equal(cairn_fault_arm("bdev.io", &cfg), 0);
	for (int i = 0; i < 10000; i++) {
		first[i] = CAIRN_FAULT("bdev.io");
		fired += first[i];
	}
	/* Binomial(10000, 0.25): sd 43; +-300 is 7 sd. */
	assert_true(fired > 2200 && fired < 2800);
	assert_int_equal(cairn_fault_arm("bdev.io", &cfg), 0);
	for (int i = 0; i < 10000; i++)
		same += first[i] == CAIRN_FAULT("bdev.io");
	assert_int_equal(same, 10000); /* same seed, same sequence */
	cfg.seed = 99;
	assert_int_equal(cairn_fault_arm("bdev.io", &cfg), 0);
	same = 0;
	for (int i = 0; i < 10000; i++)
		same += first[i] == CAIRN_FAULT("bdev.io");
	assert_true(same < 10000);

	cfg = (struct cairn_fault_cfg){.prob = 0.0};
	assert_int_equal(cairn_fault_arm("bdev.io", &cfg), 0);
	fired = 0;
	for (int i = 0; i < 1000; i++)
		fired += CAIRN_FAULT("bdev.io");
	assert_int_equal(fired, 0);

	cfg.prob = 1.5;
	assert_int_equal(cairn_fault_arm("bdev.io", &cfg), -CAIRN_ERR_INVAL);
	cfg.prob = -0.1;
	assert_int_equal(cairn_fault_arm("bdev.io", &cfg), -CAIRN_ERR_INVAL);
	cfg.prob = NAN;
	assert_int_equal(cairn_fault_arm("bdev.io", &cfg), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_fault_arm("bad name", NULL), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_fault_arm("", NULL), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_fault_arm(NULL, NULL), -CAIRN_ERR_INVAL);
	assert_int_equal(
		cairn_fault_arm("a234567890123456789012345678901234567890123456789012345678901234",
				NULL),
		-CAIRN_ERR_INVAL);
}

static void
test_parse_spec(void **state)
{
	char err[256];
	uint64_t hits;
	int fired = 0;

	assert_int_equal(cairn_fault_parse("vos.wal.write:prob=0.5,count=3,seed=7;net.send;"
					   "bdev.err:value=-1005",
					   err, sizeof(err)),
			 0);
	assert_int_equal(g_cairn_fault_armed, 3);
	assert_true(CAIRN_FAULT("net.send"));
	assert_int_equal(cairn_fault_value("bdev.err", 0), -1005);
	for (int i = 0; i < 200; i++)
		fired += CAIRN_FAULT("vos.wal.write");
	assert_int_equal(fired, 3);
	assert_int_equal(cairn_fault_stats("vos.wal.write", &hits, NULL), 0);
	assert_true(hits == 200);
	cairn_fault_disarm_all();

	static const struct {
		const char *spec;
		const char *msg;
	} bad[] = {
		{"a:prob=2", "expected a probability 0..1"},
		{"a:prob=0.5x", "expected a probability"},
		{"a:count=-1", "count"},
		{"a:count", "has no '='"},
		{"a:often=1", "unknown setting 'often'"},
		{"ok;b c", "name 'b c' is invalid"},
		{"ok:skip=1;:count=1", "name '' is invalid"},
		{"a:skip=99999999999999999999", "64 bits"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cairn_fault_parse(bad[i].spec, err, sizeof(err)),
				 -CAIRN_ERR_INVAL);
		if (strstr(err, bad[i].msg) == NULL) {
			print_error("spec '%s': '%s' lacks '%s'\n", bad[i].spec, err, bad[i].msg);
			fail();
		}
		assert_int_equal(g_cairn_fault_armed, 0); /* all or nothing */
	}
	assert_int_equal(cairn_fault_parse(NULL, err, sizeof(err)), -CAIRN_ERR_INVAL);
}

static void
test_env(void **state)
{
	setenv("CAIRN_FAULTS", "rt.msg.full:count=1", 1);
	assert_int_equal(cairn_fault_init(), 0);
	assert_true(CAIRN_FAULT("rt.msg.full"));
	assert_false(CAIRN_FAULT("rt.msg.full"));
	cairn_fault_fini();
	assert_int_equal(g_cairn_fault_armed, 0);
	setenv("CAIRN_FAULTS", "rt.msg.full:prob=x", 1);
	assert_int_equal(cairn_fault_init(), -CAIRN_ERR_INVAL);
	assert_int_equal(g_cairn_fault_armed, 0);
	unsetenv("CAIRN_FAULTS");
	assert_int_equal(cairn_fault_init(), 0);
}

static uint64_t g_thread_fired;

static void *
hammer(void *arg)
{
	uint64_t n = 0;

	for (int i = 0; i < 20000; i++)
		n += CAIRN_FAULT("mt.point");
	__atomic_add_fetch(&g_thread_fired, n, __ATOMIC_RELAXED);
	return NULL;
}

static void
test_threads(void **state)
{
	struct cairn_fault_cfg cfg = {.prob = 1.0, .count = 1000};
	pthread_t th[4];
	uint64_t hits, fired;

	assert_int_equal(cairn_fault_arm("mt.point", &cfg), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(cairn_fault_stats("mt.point", &hits, &fired), 0);
	assert_true(hits == 80000);
	assert_true(fired == 1000);
	assert_true(g_thread_fired == 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_off_by_default, reset),
		cmocka_unit_test_teardown(test_always_and_disarm, reset),
		cmocka_unit_test_teardown(test_count_and_skip, reset),
		cmocka_unit_test_teardown(test_probability_reproducible, reset),
		cmocka_unit_test_teardown(test_parse_spec, reset),
		cmocka_unit_test_teardown(test_env, reset),
		cmocka_unit_test_teardown(test_threads, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
