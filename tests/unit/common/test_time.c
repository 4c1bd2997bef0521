/* Unit tests for the inline helpers of common/time.h and common/ref.h and common/util.h
 * (header-only, so they share one test file). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "common/ref.h"
#include "common/time.h"
#include "common/util.h"

static void
test_clocks_and_sleep(void **state)
{
	uint64_t t0 = cairn_now_ns(), t1, w0 = cairn_wall_ns();
	struct timespec ts;

	cairn_sleep_ms(20);
	t1 = cairn_now_ns();
	assert_true(t1 - t0 >= 20 * CAIRN_NSEC_PER_MSEC);
	assert_true(t1 - t0 < 5 * CAIRN_NSEC_PER_SEC); /* a sanity bound, not a timing test */
	assert_true(cairn_wall_ns() >= w0);
	assert_true(w0 > 1600000000ull * CAIRN_NSEC_PER_SEC); /* after 2020 */
	assert_true(cairn_now_us() >= t1 / 1000);
	assert_true(cairn_now_ms() >= t1 / 1000000);
	assert_true(cairn_now_ms_coarse() + 50 >= t1 / 1000000);
	ts = cairn_ns_to_timespec(3 * CAIRN_NSEC_PER_SEC + 7);
	assert_int_equal(ts.tv_sec, 3);
	assert_int_equal(ts.tv_nsec, 7);
	assert_true(cairn_timespec_to_ns(&ts) == 3 * CAIRN_NSEC_PER_SEC + 7);
	ts = cairn_deadline_realtime(CAIRN_NSEC_PER_SEC);
	assert_true(cairn_timespec_to_ns(&ts) > w0);
	t0 = cairn_now_ns();
	cairn_sleep_us(1000);
	assert_true(cairn_now_ns() - t0 >= 1000 * CAIRN_NSEC_PER_USEC);
}

static struct cairn_ref g_ref;

static void *
getput(void *arg)
{
	for (int i = 0; i < 100000; i++) {
		cairn_ref_get(&g_ref);
		if (cairn_ref_put(&g_ref))
			abort(); /* never the last: main holds one */
	}
	return NULL;
}

static void
test_ref(void **state)
{
	pthread_t th[4];

	cairn_ref_init(&g_ref, 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, getput, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(cairn_ref_read(&g_ref), 1);
	assert_true(cairn_ref_get_unless_zero(&g_ref));
	assert_false(cairn_ref_put(&g_ref));
	assert_true(cairn_ref_put(&g_ref));
	assert_false(cairn_ref_get_unless_zero(&g_ref));
	assert_int_equal(cairn_ref_read(&g_ref), 0);
}

static void
test_util(void **state)
{
	int a[7];

	assert_int_equal(CAIRN_ARRAY_SIZE(a), 7);
	assert_int_equal(CAIRN_ALIGN_UP(13u, 8u), 16);
	assert_int_equal(CAIRN_ALIGN_UP(16u, 8u), 16);
	assert_int_equal(CAIRN_ALIGN_DOWN(13u, 8u), 8);
	assert_true(CAIRN_IS_ALIGNED(4096ull, 512));
	assert_false(CAIRN_IS_ALIGNED(4097ull, 512));
	assert_true(CAIRN_IS_POW2(64));
	assert_false(CAIRN_IS_POW2(0));
	assert_false(CAIRN_IS_POW2(96));
	assert_true(cairn_roundup_pow2(0) == 1);
	assert_true(cairn_roundup_pow2(1) == 1);
	assert_true(cairn_roundup_pow2(5) == 8);
	assert_true(cairn_roundup_pow2(1ull << 40) == 1ull << 40);
	assert_true(cairn_roundup_pow2((1ull << 40) + 1) == 1ull << 41);
	assert_int_equal(CAIRN_MIN(3, 4), 3);
	assert_int_equal(CAIRN_MAX(3, 4), 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clocks_and_sleep),
		cmocka_unit_test(test_ref),
		cmocka_unit_test(test_util),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
