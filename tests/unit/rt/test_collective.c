/*
 * Collectives: fn runs once on every xstream of the selected roles, in a ULT on that
 * xstream, in parallel; reduce sees every result in xstream order; first error is
 * returned while all still run; callable from a plain thread and from a ULT.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "rt_test.h"

static int
setup(void **state)
{
	struct cairn_rt_opts o;

	cairn_rt_opts_default(&o);
	o.nr_system = 1;
	o.nr_main = 3;
	o.nr_helper = 2;
	o.pin = false;
	o.spin_us = 10;
	assert_int_equal(cairn_rt_init(&o), 0);
	return 0;
}

static int
teardown(void **state)
{
	cairn_rt_fini();
	return 0;
}

struct coll {
	atomic_int calls;
	int hits[8];
	int fail_on; /* xstream id whose fn fails, -1 none */
	atomic_int arrived;
	int parallel_ok;
};

static int
coll_fn(void *arg)
{
	struct coll *c = arg;
	unsigned id = cairn_xs_id(cairn_xs_self());
	int i;

	assert_true(cairn_in_ult());
	atomic_fetch_add(&c->calls, 1);
	c->hits[id]++;
	/* Parallel: every participant arrives before any leaves (bounded wait). */
	atomic_fetch_add(&c->arrived, 1);
	for (i = 0; i < 200000 && atomic_load(&c->arrived) < c->parallel_ok; i++)
		cairn_ult_yield();
	return (int)id == c->fail_on ? -CAIRN_ERR_IO : (int)id * 10;
}

struct acc {
	unsigned order[8];
	int rcs[8];
	unsigned n;
};

static void
coll_reduce(void *accp, unsigned xs_id, int rc, void *arg)
{
	struct acc *a = accp;

	a->order[a->n] = xs_id;
	a->rcs[a->n] = rc;
	a->n++;
}

static void
test_all_and_roles(void **state)
{
	struct coll c;
	struct acc a;
	unsigned i;

	memset(&c, 0, sizeof(c));
	memset(&a, 0, sizeof(a));
	c.fail_on = -1;
	c.parallel_ok = 6;
	/* Every role: ids 0..5; rc = 10*id except xs 0 (rc 0). First non-zero is 10. */
	assert_int_equal(cairn_rt_collective(CAIRN_XS_TAG_ALL, coll_fn, &c, coll_reduce, &a), 10);
	assert_int_equal(atomic_load(&c.calls), 6);
	assert_int_equal(a.n, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(a.order[i], i);
		assert_int_equal(a.rcs[i], (int)i * 10);
		assert_int_equal(c.hits[i], 1);
	}

	memset(&c, 0, sizeof(c));
	memset(&a, 0, sizeof(a));
	c.fail_on = 2;
	c.parallel_ok = 3;
	/* Main xstreams only (ids 1..3); xs 2 fails, the others still run. */
	assert_int_equal(cairn_rt_collective(CAIRN_XS_TAG_MAIN, coll_fn, &c, coll_reduce, &a), 10);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.order[0], 1);
	assert_int_equal(a.rcs[1], -CAIRN_ERR_IO);
	assert_int_equal(c.hits[0] + c.hits[4] + c.hits[5], 0);
	assert_int_equal(c.hits[1] + c.hits[2] + c.hits[3], 3);

	assert_int_equal(cairn_rt_collective(0, coll_fn, &c, NULL, NULL), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_rt_collective(CAIRN_XS_TAG_ALL, NULL, &c, NULL, NULL),
	                 -CAIRN_ERR_INVAL);
}

static int
sum_fn(void *arg)
{
	return 0;
}

static void
sum_reduce(void *accp, unsigned xs_id, int rc, void *arg)
{
	*(unsigned *)accp += xs_id + 1;
}

struct nested {
	unsigned sum;
	int rc;
};

static void
nested_ult(void *arg)
{
	struct nested *n = arg;

	/* From a ULT on a helper xstream, including its own xstream. */
	n->rc = cairn_rt_collective(CAIRN_XS_TAG_HELPER | CAIRN_XS_TAG_SYSTEM, sum_fn, NULL,
	                            sum_reduce, &n->sum);
}

static void
test_from_ult(void **state)
{
	struct nested n = {0};

	assert_int_equal(cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_HELPER, 0), nested_ult, &n),
	                 0);
	assert_int_equal(n.rc, 0);
	assert_int_equal(n.sum, 1 + 5 + 6);
}

static void
test_repeat(void **state)
{
	int i;

	for (i = 0; i < 300; i++) {
		unsigned sum = 0;

		assert_int_equal(
		        cairn_rt_collective(CAIRN_XS_TAG_ALL, sum_fn, NULL, sum_reduce, &sum), 0);
		assert_int_equal(sum, 21);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_all_and_roles),
	        cmocka_unit_test(test_from_ult),
	        cmocka_unit_test(test_repeat),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
