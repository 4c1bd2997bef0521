/*
 * libcairn.so as an application sees it: only the public headers, only the exported
 * symbols (the link fails if the version script misses one), a small async round
 * through an EQ with the eventfd, and object ids.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cairn/cairn.h"

static void
test_public_api(void **state)
{
	struct cairn_handle eq;
	struct cairn_event parent, kid, *out[2];
	struct cairn_obj_id oid = { .lo = 1, .hi = 2 };
	struct pollfd pfd = { .events = POLLIN };
	struct cairn_iov g = { 0 };

	assert_int_equal(cairn_init(), 0);
	assert_int_equal(cairn_eq_create(&eq), 0);
	assert_int_equal(cairn_eq_get_fd(eq, &pfd.fd), 0);
	assert_int_equal(cairn_event_init(&parent, eq, NULL), 0);
	assert_int_equal(cairn_event_init(&kid, CAIRN_HANDLE_NULL, &parent), 0);
	/* no child launched: the barrier completes the parent at once, on the EQ */
	assert_int_equal(cairn_event_parent_barrier(&parent), 0);
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(cairn_eq_query(eq, CAIRN_EQR_COMPLETED, 0, NULL), 1);
	assert_int_equal(cairn_eq_poll(eq, 0, CAIRN_EQ_WAIT, 2, out), 1);
	assert_ptr_equal(out[0], &parent);
	assert_int_equal(parent.ev_error, 0);
	assert_int_equal(cairn_event_state(&parent), CAIRN_EVS_READY);
	assert_int_equal(cairn_event_abort(&parent), -CAIRN_ERR_ALREADY);
	assert_int_equal(cairn_event_fini(&parent), 0);
	assert_int_equal(cairn_handle_local2global(eq, &g), -CAIRN_ERR_NOSYS);
	assert_int_equal(cairn_eq_destroy(eq, 0), 0);

	assert_int_equal(cairn_obj_id_generate(&oid, CAIRN_OT_ARRAY, CAIRN_OC_SX), 0);
	assert_int_equal(cairn_obj_id_class(oid), CAIRN_OC_SX);
	assert_int_equal(cairn_obj_id_type(oid), CAIRN_OT_ARRAY);
	assert_string_equal(cairn_oclass_name(cairn_oclass_from_name("rp_2g1")), "RP_2G1");
	assert_string_equal(cairn_errname(-CAIRN_ERR_STALE), "CAIRN_ERR_STALE");
	assert_true(strlen(cairn_strerror(-CAIRN_ERR_BUSY)) > 0);
	assert_int_equal(cairn_fini(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
