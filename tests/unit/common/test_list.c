/* Unit tests for the header-only intrusive list (common/list.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/list.h"

struct item {
	int v;
	struct cairn_list link;
};

static void
check_order(struct cairn_list *h, const int *want, int n)
{
	struct item *it;
	struct cairn_list *pos;
	int i = 0;

	cairn_list_for_each_entry(it, h, link) {
		assert_true(i < n);
		assert_int_equal(it->v, want[i]);
		i++;
	}
	assert_int_equal(i, n);
	/* Backwards through prev pointers too. */
	for (pos = h->prev; pos != h; pos = pos->prev)
		assert_int_equal(cairn_list_entry(pos, struct item, link)->v, want[--i]);
	assert_int_equal(i, 0);
}

static void
test_add_del_pop(void **state)
{
	struct cairn_list h = CAIRN_LIST_HEAD_INIT(h);
	struct item a = { .v = 1 }, b = { .v = 2 }, c = { .v = 3 };
	struct cairn_list *n;

	assert_true(cairn_list_empty(&h));
	assert_null(cairn_list_first(&h, struct item, link));
	assert_null(cairn_list_pop(&h));
	cairn_list_add_tail(&a.link, &h);
	cairn_list_add_tail(&b.link, &h);
	cairn_list_add(&c.link, &h);
	check_order(&h, (int[]){ 3, 1, 2 }, 3);
	assert_ptr_equal(cairn_list_first(&h, struct item, link), &c);

	cairn_list_del(&a.link);
	check_order(&h, (int[]){ 3, 2 }, 2);
	assert_true(cairn_list_empty(&a.link)); /* re-initialised: a second del is safe */
	cairn_list_del(&a.link);
	check_order(&h, (int[]){ 3, 2 }, 2);

	n = cairn_list_pop(&h);
	assert_ptr_equal(n, &c.link);
	n = cairn_list_pop(&h);
	assert_ptr_equal(n, &b.link);
	assert_true(cairn_list_empty(&h));
}

static void
test_splice_and_safe_iteration(void **state)
{
	struct cairn_list h1, h2;
	struct item items[6], *it, *tmp;
	int kept = 0;

	cairn_list_init(&h1);
	cairn_list_init(&h2);
	for (int i = 0; i < 6; i++) {
		items[i].v = i;
		cairn_list_add_tail(&items[i].link, i < 3 ? &h1 : &h2);
	}
	cairn_list_splice_tail(&h2, &h1);
	assert_true(cairn_list_empty(&h2));
	check_order(&h1, (int[]){ 0, 1, 2, 3, 4, 5 }, 6);
	cairn_list_splice_tail(&h2, &h1); /* empty source: no change */
	check_order(&h1, (int[]){ 0, 1, 2, 3, 4, 5 }, 6);

	cairn_list_for_each_entry_safe(it, tmp, &h1, link) {
		if (it->v % 2)
			cairn_list_del(&it->link);
		else
			kept++;
	}
	assert_int_equal(kept, 3);
	check_order(&h1, (int[]){ 0, 2, 4 }, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_del_pop),
		cmocka_unit_test(test_splice_and_safe_iteration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
