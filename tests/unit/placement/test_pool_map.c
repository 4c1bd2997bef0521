/* Unit tests for src/placement/pool_map.c: building, states, versions, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "placement/placement.h"

static void
test_create_and_ranks(void **state)
{
	struct cairn_pool_map *map;
	struct cairn_pmap_target t;

	assert_int_equal(cairn_pmap_create(0, &map), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_pmap_create(1, NULL), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_pmap_create(1, &map), 0);
	assert_int_equal(cairn_pmap_version(map), 1);
	assert_int_equal(cairn_pmap_add_rank(map, 7, 0, 2, CAIRN_TGT_UP, false), 0);
	assert_int_equal(cairn_pmap_add_rank(map, 3, 1, 3, CAIRN_TGT_UP, false), 0);
	assert_int_equal(cairn_pmap_version(map), 1);
	assert_int_equal(cairn_pmap_rank_count(map), 2);
	assert_int_equal(cairn_pmap_target_count(map), 5);

	assert_int_equal(cairn_pmap_target(map, 0, &t), 0);
	assert_int_equal(t.rank, 7);
	assert_int_equal(t.index, 0);
	assert_int_equal(t.domain, 0);
	assert_int_equal(cairn_pmap_target(map, 4, &t), 0);
	assert_int_equal(t.rank, 3);
	assert_int_equal(t.index, 2);
	assert_int_equal(t.domain, 1);
	assert_int_equal(t.state, CAIRN_TGT_UP);
	assert_int_equal(cairn_pmap_target(map, 5, &t), -CAIRN_ERR_NONEXIST);

	/* bad input */
	assert_int_equal(cairn_pmap_add_rank(map, 7, 0, 1, CAIRN_TGT_UP, true), -CAIRN_ERR_EXIST);
	assert_int_equal(cairn_pmap_add_rank(map, 9, 0, 0, CAIRN_TGT_UP, true), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_pmap_add_rank(map, 9, 0, CAIRN_PMAP_MAX_TGTS_PER_RANK + 1,
					     CAIRN_TGT_UP, true),
			 -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_pmap_add_rank(map, 9, 0, 1, CAIRN_TGT_DOWN, true),
			 -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_pmap_version(map), 1);

	/* extending a live pool bumps the version */
	assert_int_equal(cairn_pmap_add_rank(map, 9, 2, 1, CAIRN_TGT_NEW, true), 0);
	assert_int_equal(cairn_pmap_version(map), 2);
	cairn_pmap_destroy(map);
	cairn_pmap_destroy(NULL);
}

static void
test_state_transitions(void **state)
{
	struct cairn_pool_map *map;
	struct cairn_pmap_target t;

	assert_int_equal(cairn_pmap_create(5, &map), 0);
	assert_int_equal(cairn_pmap_add_rank(map, 0, 0, 2, CAIRN_TGT_UP, false), 0);
	assert_int_equal(cairn_pmap_add_rank(map, 1, 0, 1, CAIRN_TGT_NEW, false), 0);

	/* allowed: UP->DOWN->DOWNOUT->UP, NEW->UP; each bumps the version */
	assert_int_equal(cairn_pmap_set_target_state(map, 0, CAIRN_TGT_DOWN), 0);
	assert_int_equal(cairn_pmap_version(map), 6);
	assert_int_equal(cairn_pmap_set_target_state(map, 0, CAIRN_TGT_DOWNOUT), 0);
	assert_int_equal(cairn_pmap_set_target_state(map, 0, CAIRN_TGT_UP), 0);
	assert_int_equal(cairn_pmap_set_target_state(map, 2, CAIRN_TGT_UP), 0);
	assert_int_equal(cairn_pmap_version(map), 9);
	assert_int_equal(cairn_pmap_target(map, 2, &t), 0);
	assert_int_equal(t.state, CAIRN_TGT_UP);

	/* refused, version unchanged */
	assert_int_equal(cairn_pmap_set_target_state(map, 1, CAIRN_TGT_UP), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_pmap_set_target_state(map, 1, CAIRN_TGT_DOWNOUT), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_pmap_set_target_state(map, 1, CAIRN_TGT_NEW), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_pmap_set_target_state(map, 1, CAIRN_TGT_STATE_MAX),
			 -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_pmap_set_target_state(map, 3, CAIRN_TGT_DOWN),
			 -CAIRN_ERR_NONEXIST);
	assert_int_equal(cairn_pmap_version(map), 9);
	cairn_pmap_destroy(map);
}

static void
test_version_check(void **state)
{
	struct cairn_pool_map *map;

	assert_int_equal(cairn_pmap_create(10, &map), 0);
	assert_int_equal(cairn_pmap_check_version(map, 10), 0);
	assert_int_equal(cairn_pmap_check_version(map, 9), -CAIRN_ERR_STALE);
	assert_int_equal(cairn_pmap_check_version(map, 11), -CAIRN_ERR_VERSION);
	cairn_pmap_destroy(map);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_ranks),
		cmocka_unit_test(test_state_transitions),
		cmocka_unit_test(test_version_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
