/* Unit tests for src/client/client.c: cairn_init/fini reference counting and threads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cairn/cairn.h"
#include "client_internal.h"

static void
test_refcount(void **state)
{
	struct cairn_handle eq;

	assert_int_equal(cairn_fini(), -CAIRN_ERR_INVAL);
	assert_false(cli_initialized());
	assert_int_equal(cairn_eq_create(&eq), -CAIRN_ERR_INVAL);

	assert_int_equal(cairn_init(), 0);
	assert_int_equal(cairn_init(), 0);
	assert_true(cli_initialized());
	assert_int_equal(cairn_fini(), 0);
	assert_true(cli_initialized()); /* one reference left */
	assert_int_equal(cairn_eq_create(&eq), 0);
	/* the last fini refuses while an EQ exists, and the library stays usable */
	assert_int_equal(cairn_fini(), -CAIRN_ERR_BUSY);
	assert_true(cli_initialized());
	assert_int_equal(cairn_eq_destroy(eq, 0), 0);
	assert_int_equal(cairn_fini(), 0);
	assert_false(cli_initialized());
	assert_int_equal(cairn_fini(), -CAIRN_ERR_INVAL);
	/* and it can start again */
	assert_int_equal(cairn_init(), 0);
	assert_int_equal(cairn_fini(), 0);
}

#define NTHREADS 4
#define ROUNDS 500

static void *
init_fini_thread(void *arg)
{
	intptr_t bad = 0;

	for (int i = 0; i < ROUNDS; i++) {
		struct cairn_handle eq;

		if (cairn_init() != 0)
			bad++;
		/* while we hold a reference the library must be usable */
		if (cairn_eq_create(&eq) != 0 || cairn_eq_destroy(eq, 0) != 0)
			bad++;
		if (cairn_fini() != 0)
			bad++;
	}
	return (void *)bad;
}

static void
test_threads(void **state)
{
	pthread_t th[NTHREADS];

	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, init_fini_thread, NULL), 0);
	for (int i = 0; i < NTHREADS; i++) {
		void *bad;

		pthread_join(th[i], &bad);
		assert_int_equal((intptr_t)bad, 0);
	}
	assert_false(cli_initialized());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
