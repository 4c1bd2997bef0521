/* Unit tests for src/common/hash.c: randomized stress of the table against a reference
 * (a flag array), iteration with removal, resizing, degenerate hashes, hash quality. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "common/hash.h"
#include "common/list.h"

struct obj {
	uint64_t key;
	struct cairn_hlink link;
	int visits;
	bool in;
};

static uint64_t
key_hash(const void *key)
{
	return cairn_hash_u64(*(const uint64_t *)key);
}

static uint64_t
bad_hash(const void *key)
{
	return 42; /* every key collides */
}

static bool
key_eq(const struct cairn_hlink *l, const void *key)
{
	return cairn_container_of(l, struct obj, link)->key == *(const uint64_t *)key;
}

static const struct cairn_htable_ops g_ops = {.key_hash = key_hash, .key_eq = key_eq};
static const struct cairn_htable_ops g_bad_ops = {.key_hash = bad_hash, .key_eq = key_eq};

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
check_against_reference(struct cairn_htable *ht, struct obj *objs, size_t n)
{
	struct cairn_htable_iter it;
	struct cairn_hlink *l;
	uint64_t present = 0;

	for (size_t i = 0; i < n; i++) {
		objs[i].visits = 0;
		present += objs[i].in;
		l = cairn_htable_lookup(ht, &objs[i].key);
		if (objs[i].in)
			assert_ptr_equal(l, &objs[i].link);
		else
			assert_null(l);
	}
	assert_int_equal(cairn_htable_count(ht), present);
	cairn_htable_iter_init(&it, ht);
	while ((l = cairn_htable_iter_next(&it)) != NULL)
		cairn_container_of(l, struct obj, link)->visits++;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(objs[i].visits, objs[i].in ? 1 : 0);
}

static void
run_stress(const struct cairn_htable_ops *ops, size_t nkeys, unsigned rounds, uint64_t seed)
{
	struct cairn_htable ht;
	struct obj *objs = calloc(nkeys, sizeof(*objs));
	uint64_t s = seed;

	assert_non_null(objs);
	for (size_t i = 0; i < nkeys; i++)
		objs[i].key = i * 0x100000001ull + 7; /* spread keys, not 0..n */
	assert_int_equal(cairn_htable_init(&ht, ops, 0), 0);
	for (unsigned r = 0; r < rounds; r++) {
		size_t i = xorshift(&s) % nkeys;
		unsigned op = (unsigned)(xorshift(&s) % 4);
		int rc;

		switch (op) {
		case 0:
		case 1:
			rc = cairn_htable_insert(&ht, &objs[i].key, &objs[i].link);
			if (objs[i].in) {
				assert_int_equal(rc, -CAIRN_ERR_EXIST);
			} else {
				assert_int_equal(rc, 0);
				objs[i].in = true;
			}
			break;
		case 2:
			if (objs[i].in) {
				assert_int_equal(cairn_htable_remove(&ht, &objs[i].link), 0);
				objs[i].in = false;
			}
			break;
		case 3:
			assert_ptr_equal(cairn_htable_remove_key(&ht, &objs[i].key),
					 objs[i].in ? &objs[i].link : NULL);
			objs[i].in = false;
			break;
		}
		if (r % 4096 == 0)
			check_against_reference(&ht, objs, nkeys);
	}
	check_against_reference(&ht, objs, nkeys);
	/* Load factor stays at most 1 after growth. */
	assert_true(cairn_htable_count(&ht) <= cairn_htable_buckets(&ht));
	cairn_htable_fini(&ht);
	free(objs);
}

static void
test_stress_vs_reference(void **state)
{
	uint64_t seed = (uint64_t)time(NULL) | 1;

	print_message("hash stress seed %llu\n", (unsigned long long)seed);
	run_stress(&g_ops, 20000, 200000, seed);
	run_stress(&g_ops, 64, 20000, seed + 2);
}

static void
test_degenerate_hash(void **state)
{
	run_stress(&g_bad_ops, 300, 20000, 99);
}

static int
remove_odd(struct cairn_hlink *l, void *arg)
{
	struct obj *o = cairn_container_of(l, struct obj, link);

	if (o->key & 1) {
		assert_int_equal(cairn_htable_remove(arg, l), 0);
		o->in = false;
	}
	return 0;
}

static int
stop_at_3(struct cairn_hlink *l, void *arg)
{
	int *n = arg;

	return ++*n == 3 ? 77 : 0;
}

static void
test_iterate_remove_resize_pop(void **state)
{
	struct cairn_htable ht;
	struct obj objs[1000];
	struct cairn_hlink *l;
	int n = 0, popped = 0;

	memset(objs, 0, sizeof(objs));
	assert_int_equal(cairn_htable_init(&ht, &g_ops, 1000), 0);
	assert_int_equal(cairn_htable_buckets(&ht), 1024);
	for (int i = 0; i < 1000; i++) {
		objs[i].key = (uint64_t)i;
		assert_int_equal(cairn_htable_insert(&ht, &objs[i].key, &objs[i].link), 0);
		objs[i].in = true;
	}
	assert_int_equal(cairn_htable_for_each(&ht, remove_odd, &ht), 0);
	check_against_reference(&ht, objs, 1000);
	assert_int_equal(cairn_htable_count(&ht), 500);
	assert_int_equal(cairn_htable_for_each(&ht, stop_at_3, &n), 77);
	assert_int_equal(n, 3);

	/* Never below the size hint; grows back on request. */
	assert_int_equal(cairn_htable_resize(&ht, 0), 0);
	assert_int_equal(cairn_htable_buckets(&ht), 1024);
	assert_int_equal(cairn_htable_resize(&ht, 5000), 0);
	assert_int_equal(cairn_htable_buckets(&ht), 8192);
	check_against_reference(&ht, objs, 1000);

	/* Removing something not in the table is refused. */
	assert_int_equal(cairn_htable_remove(&ht, &objs[1].link), -CAIRN_ERR_NONEXIST);

	while ((l = cairn_htable_pop(&ht)) != NULL) {
		struct obj *o = cairn_container_of(l, struct obj, link);

		assert_true(o->in);
		o->in = false;
		popped++;
	}
	assert_int_equal(popped, 500);
	assert_int_equal(cairn_htable_count(&ht), 0);
	cairn_htable_fini(&ht);
}

static void
test_init_errors(void **state)
{
	struct cairn_htable ht;
	struct cairn_htable_ops no_eq = {.key_hash = key_hash};

	assert_int_equal(cairn_htable_init(&ht, NULL, 0), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_htable_init(&ht, &no_eq, 0), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_htable_init(&ht, &g_ops, UINT64_MAX), -CAIRN_ERR_INVAL);
	/* Grow from the smallest table through many doublings. */
	assert_int_equal(cairn_htable_init(&ht, &g_ops, 0), 0);
	assert_int_equal(cairn_htable_buckets(&ht), 16);
	cairn_htable_fini(&ht);
}

static void
test_hash_functions(void **state)
{
	unsigned buckets[256] = {0};
	uint8_t buf[64];
	double chi = 0;
	const int n = 256 * 400;

	/* Sequential keys spread evenly over 256 buckets (chi-square, 255 dof; the 99.99%
	 * quantile is about 340, a bad mix of sequential keys gives thousands). */
	for (int i = 0; i < n; i++)
		buckets[cairn_hash_u64((uint64_t)i) & 255]++;
	for (int b = 0; b < 256; b++)
		chi += (buckets[b] - 400.0) * (buckets[b] - 400.0) / 400.0;
	assert_true(chi < 340.0);
	memset(buckets, 0, sizeof(buckets));
	chi = 0;
	for (int i = 0; i < n; i++) {
		uint32_t v = (uint32_t)i;

		buckets[cairn_hash_bytes(&v, sizeof(v), 0) >> 56]++;
	}
	for (int b = 0; b < 256; b++)
		chi += (buckets[b] - 400.0) * (buckets[b] - 400.0) / 400.0;
	assert_true(chi < 340.0);

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	/* Every length and seed gives a distinct value; one flipped bit changes the hash. */
	for (size_t len = 1; len < sizeof(buf); len++) {
		uint64_t h = cairn_hash_bytes(buf, len, 0);

		assert_true(h != cairn_hash_bytes(buf, len - 1, 0));
		assert_true(h != cairn_hash_bytes(buf, len, 1));
		assert_true(h == cairn_hash_bytes(buf, len, 0));
		buf[len - 1] ^= 1;
		assert_true(h != cairn_hash_bytes(buf, len, 0));
		buf[len - 1] ^= 1;
	}
	assert_true(cairn_hash_str("vos") != cairn_hash_str("vo"));
	assert_true(cairn_hash_str("") == cairn_hash_bytes("", 0, 0));
	assert_true(cairn_hash_combine(1, 2) != cairn_hash_combine(2, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_vs_reference),
		cmocka_unit_test(test_degenerate_hash),
		cmocka_unit_test(test_iterate_remove_resize_pop),
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_hash_functions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
