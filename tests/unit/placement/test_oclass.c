/* Unit tests for src/placement/oclass.c: object ids carry type and class; names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "cairn/placement.h"

static void
test_generate_and_read_back(void **state)
{
	for (int oc = CAIRN_OC_S1; oc < CAIRN_OC_MAX; oc++) {
		for (int t = 0; t < CAIRN_OT_MAX; t++) {
			struct cairn_obj_id oid = { .lo = 0x1234567890abcdefull,
						    .hi = 0xdeadbeefull };

			assert_int_equal(cairn_obj_id_generate(&oid, t, oc), 0);
			assert_int_equal(cairn_obj_id_class(oid), oc);
			assert_int_equal(cairn_obj_id_type(oid), t);
			/* the application's bits are untouched */
			assert_true(oid.lo == 0x1234567890abcdefull);
			assert_true((oid.hi & CAIRN_OID_HI_USER_MASK) == 0xdeadbeefull);
		}
	}
}

static void
test_generate_rejects(void **state)
{
	struct cairn_obj_id oid = { .lo = 1, .hi = 1ull << 40 };

	assert_int_equal(cairn_obj_id_generate(&oid, CAIRN_OT_KV, CAIRN_OC_S1), -CAIRN_ERR_INVAL);
	oid.hi = 0;
	assert_int_equal(cairn_obj_id_generate(&oid, CAIRN_OT_KV, CAIRN_OC_UNKNOWN),
			 -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_obj_id_generate(&oid, CAIRN_OT_KV, CAIRN_OC_MAX), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_obj_id_generate(&oid, CAIRN_OT_MAX, CAIRN_OC_S1), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_obj_id_generate(NULL, CAIRN_OT_KV, CAIRN_OC_S1), -CAIRN_ERR_INVAL);
	/* a failed generate leaves the id alone */
	assert_true(oid.hi == 0 && oid.lo == 1);
	/* a second stamp collides with the reserved bits */
	assert_int_equal(cairn_obj_id_generate(&oid, CAIRN_OT_KV, CAIRN_OC_S1), 0);
	assert_int_equal(cairn_obj_id_generate(&oid, CAIRN_OT_KV, CAIRN_OC_S2), -CAIRN_ERR_INVAL);
}

static void
test_unknown_class_in_id(void **state)
{
	struct cairn_obj_id oid = { .lo = 1, .hi = 0 };

	assert_int_equal(cairn_obj_id_class(oid), CAIRN_OC_UNKNOWN);
	oid.hi = (uint64_t)200 << CAIRN_OID_CLASS_SHIFT;
	assert_int_equal(cairn_obj_id_class(oid), CAIRN_OC_UNKNOWN);
	oid.hi = (uint64_t)77 << CAIRN_OID_TYPE_SHIFT;
	assert_int_equal(cairn_obj_id_type(oid), -CAIRN_ERR_INVAL);
}

static void
test_names(void **state)
{
	for (int oc = CAIRN_OC_S1; oc < CAIRN_OC_MAX; oc++) {
		const char *n = cairn_oclass_name(oc);

		assert_non_null(n);
		assert_int_equal(cairn_oclass_from_name(n), oc);
	}
	assert_int_equal(cairn_oclass_from_name("sx"), CAIRN_OC_SX);
	assert_int_equal(cairn_oclass_from_name("rp_3g1"), CAIRN_OC_RP_3G1);
	assert_string_equal(cairn_oclass_name(CAIRN_OC_RP_2G1), "RP_2G1");
	assert_null(cairn_oclass_name(CAIRN_OC_UNKNOWN));
	assert_null(cairn_oclass_name(CAIRN_OC_MAX));
	assert_int_equal(cairn_oclass_from_name("S3"), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_oclass_from_name(""), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_oclass_from_name(NULL), -CAIRN_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_and_read_back),
		cmocka_unit_test(test_generate_rejects),
		cmocka_unit_test(test_unknown_class_in_id),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
