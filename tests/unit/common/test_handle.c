/* Unit tests for src/common/handle.c: cookies, stale and foreign cookies, references and
 * free callbacks, capacity, and concurrent lookups racing removals and re-inserts. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "cairn/types.h" /* must coexist with common/handle.h (no struct name clash) */
#include "common/handle.h"
#include "common/list.h"
#include "common/time.h"

#define MAGIC_ALIVE 0xA11CEull
#define MAGIC_DEAD 0xDEADull

struct thing {
	struct cairn_hobj h;
	uint64_t magic;
	int id;
};

static uint64_t g_allocs, g_frees;

static void
thing_free(struct cairn_hobj *h)
{
	struct thing *t = cairn_container_of(h, struct thing, h);

	assert_true(t->magic == MAGIC_ALIVE);
	t->magic = MAGIC_DEAD;
	__atomic_add_fetch(&g_frees, 1, __ATOMIC_RELAXED);
	free(t);
}

static struct thing *
thing_new(int id, uint8_t type)
{
	struct thing *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->magic = MAGIC_ALIVE;
	t->id = id;
	cairn_handle_init(&t->h, type, thing_free);
	__atomic_add_fetch(&g_allocs, 1, __ATOMIC_RELAXED);
	return t;
}

static void
test_basic_and_stale(void **state)
{
	struct cairn_htab *tab;
	struct thing *a, *b;
	struct cairn_hobj *h;
	uint64_t ca, cb;

	g_allocs = g_frees = 0;
	assert_int_equal(cairn_htab_create(&tab, 0), 0);
	a = thing_new(1, 3);
	assert_int_equal(cairn_htab_insert(tab, &a->h), 0);
	ca = a->h.cookie;
	assert_true(ca != 0);
	assert_int_equal(cairn_htab_insert(tab, &a->h), -CAIRN_ERR_INVAL); /* twice */
	assert_int_equal(cairn_htab_count(tab), 1);

	h = cairn_htab_lookup(tab, ca, 3);
	assert_ptr_equal(h, &a->h);
	assert_int_equal(cairn_ref_read(&a->h.ref), 3); /* creator + table + lookup */
	cairn_handle_put(h);

	assert_null(cairn_htab_lookup(tab, ca, 4));                /* wrong type */
	assert_null(cairn_htab_lookup(tab, 0, 3));                 /* never valid */
	assert_null(cairn_htab_lookup(tab, ca + 1, 3));            /* another slot */
	assert_null(cairn_htab_lookup(tab, ca ^ (1ull << 40), 3)); /* another generation */
	assert_int_equal(cairn_htab_remove(tab, ca, 4), -CAIRN_ERR_NOHANDLE);

	assert_int_equal(cairn_htab_remove(tab, ca, 3), 0);
	assert_int_equal(cairn_htab_remove(tab, ca, 3), -CAIRN_ERR_NOHANDLE);
	assert_null(cairn_htab_lookup(tab, ca, 3)); /* stale */
	assert_int_equal(g_frees, 0);               /* the creator still holds it */

	/* The slot is reused with a new generation: the old cookie still misses. */
	b = thing_new(2, 3);
	assert_int_equal(cairn_htab_insert(tab, &b->h), 0);
	cb = b->h.cookie;
	assert_true((cb & 0xffffff) == (ca & 0xffffff));
	assert_true(cb != ca);
	assert_null(cairn_htab_lookup(tab, ca, 3));
	h = cairn_htab_lookup(tab, cb, 3);
	assert_ptr_equal(h, &b->h);
	cairn_handle_put(h);

	cairn_handle_put(&a->h); /* last reference */
	assert_int_equal(g_frees, 1);

	cairn_handle_put(&b->h); /* table still holds b */
	assert_int_equal(g_frees, 1);
	cairn_htab_destroy(tab); /* drops the table's reference: b freed */
	assert_int_equal(g_frees, 2);
	cairn_htab_destroy(NULL);
}

static void
test_capacity_and_errors(void **state)
{
	struct cairn_htab *tab;
	struct thing *t[5];
	uint64_t cookies[5];

	g_allocs = g_frees = 0;
	assert_int_equal(cairn_htab_create(NULL, 0), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_htab_create(&tab, CAIRN_HANDLE_MAX_SLOTS + 1), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_htab_create(&tab, 4), 0);
	for (int i = 0; i < 5; i++)
		t[i] = thing_new(i, 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(cairn_htab_insert(tab, &t[i]->h), 0);
		cookies[i] = t[i]->h.cookie;
	}
	assert_int_equal(cairn_htab_insert(tab, &t[4]->h), -CAIRN_ERR_NOSPACE);
	assert_int_equal(cairn_htab_remove(tab, cookies[2], 0), 0);
	assert_int_equal(cairn_htab_insert(tab, &t[4]->h), 0);
	assert_int_equal(cairn_htab_count(tab), 4);
	/* Cookies of distinct live handles differ. */
	for (int i = 0; i < 4; i++)
		assert_true(cookies[i] != t[4]->h.cookie);
	for (int i = 0; i < 5; i++)
		cairn_handle_put(&t[i]->h);
	assert_int_equal(g_frees, 1); /* t[2], removed earlier */
	cairn_htab_destroy(tab);
	assert_int_equal(g_frees, 5);
}

/* Concurrency: readers look up cookies from a shared array while writers replace the
 * objects behind them. A reader that gets an object must see it alive and matching. */
#define NOBJ 64
#define RUN_NS (700 * CAIRN_NSEC_PER_MSEC)
#define MAX_ITERS 2000000

static struct cairn_htab *g_tab;
static uint64_t g_cookies[NOBJ];
static uint64_t g_hits, g_misses, g_replaced;

static void *
reader(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg * 2654435761u + 1, deadline = cairn_now_ns() + RUN_NS;
	uint64_t hits = 0, misses = 0;

	for (int it = 0; it < MAX_ITERS && cairn_now_ns() < deadline; it++) {
		unsigned i;
		uint64_t c;
		struct cairn_hobj *h;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		i = (unsigned)(s % NOBJ);
		c = __atomic_load_n(&g_cookies[i], __ATOMIC_ACQUIRE);
		h = cairn_htab_lookup(g_tab, c, 1);
		if (h == NULL) {
			misses++;
			continue;
		}
		struct thing *t = cairn_container_of(h, struct thing, h);

		if (t->magic != MAGIC_ALIVE || h->cookie != c)
			abort();
		hits++;
		cairn_handle_put(h);
	}
	__atomic_add_fetch(&g_hits, hits, __ATOMIC_RELAXED);
	__atomic_add_fetch(&g_misses, misses, __ATOMIC_RELAXED);
	return NULL;
}

static void *
writer(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg * 40503u + 7, deadline = cairn_now_ns() + RUN_NS;
	uint64_t n = 0;

	/* Writer w owns the slots i with i % 2 == w, so cookie updates do not race. */
	for (int it = 0; it < MAX_ITERS / 10 && cairn_now_ns() < deadline; it++) {
		unsigned i;
		struct thing *t;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		i = (unsigned)((s % (NOBJ / 2)) * 2 + (uintptr_t)arg);
		if (cairn_htab_remove(g_tab, g_cookies[i], 1) != 0)
			abort();
		t = thing_new((int)i, 1);
		if (cairn_htab_insert(g_tab, &t->h) != 0)
			abort();
		__atomic_store_n(&g_cookies[i], t->h.cookie, __ATOMIC_RELEASE);
		cairn_handle_put(&t->h); /* only the table holds it now */
		n++;
	}
	__atomic_add_fetch(&g_replaced, n, __ATOMIC_RELAXED);
	return NULL;
}

static void
test_concurrent_lookup(void **state)
{
	pthread_t r[3], w[2];

	g_allocs = g_frees = g_hits = g_misses = g_replaced = 0;
	assert_int_equal(cairn_htab_create(&g_tab, 0), 0);
	for (int i = 0; i < NOBJ; i++) {
		struct thing *t = thing_new(i, 1);

		assert_int_equal(cairn_htab_insert(g_tab, &t->h), 0);
		g_cookies[i] = t->h.cookie;
		cairn_handle_put(&t->h);
	}
	for (uintptr_t i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&r[i], NULL, reader, (void *)i), 0);
	for (uintptr_t i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&w[i], NULL, writer, (void *)i), 0);
	for (int i = 0; i < 3; i++)
		pthread_join(r[i], NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(w[i], NULL);
	print_message("lookups: %llu hits, %llu stale misses; %llu replacements\n",
		      (unsigned long long)g_hits, (unsigned long long)g_misses,
		      (unsigned long long)g_replaced);
	assert_true(g_hits > 0);
	assert_true(g_replaced > 0);
	assert_int_equal(cairn_htab_count(g_tab), NOBJ);
	/* Every replaced object was freed exactly once. */
	assert_int_equal(g_frees, g_replaced);
	cairn_htab_destroy(g_tab);
	assert_int_equal(g_frees, g_allocs);
}

/* The table's objects (struct cairn_hobj) and the public handle (struct cairn_handle) live
 * side by side in one file, as in the engine and libcairn: a cookie moves from one to the
 * other and back. */
static void
test_public_handle_roundtrip(void **state)
{
	struct cairn_htab *tab;
	struct cairn_handle pub = CAIRN_HANDLE_NULL;
	struct cairn_hobj *h;
	struct thing *t;

	(void)state;
	g_allocs = g_frees = 0;
	assert_false(cairn_handle_is_valid(pub));
	assert_int_equal(cairn_htab_create(&tab, 4), 0);
	t = thing_new(7, 9);
	assert_int_equal(cairn_htab_insert(tab, &t->h), 0);
	pub.cookie = t->h.cookie;
	assert_true(cairn_handle_is_valid(pub));
	h = cairn_htab_lookup(tab, pub.cookie, 9);
	assert_ptr_equal(h, &t->h);
	cairn_handle_put(h);
	assert_int_equal(cairn_htab_remove(tab, pub.cookie, 9), 0);
	cairn_handle_put(&t->h); /* the creator's reference */
	assert_null(cairn_htab_lookup(tab, pub.cookie, 9));
	assert_int_equal(g_frees, 1);
	cairn_htab_destroy(tab);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_and_stale),
		cmocka_unit_test(test_capacity_and_errors),
		cmocka_unit_test(test_concurrent_lookup),
		cmocka_unit_test(test_public_handle_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
