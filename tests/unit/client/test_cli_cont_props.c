/*
 * Unit tests of libcairn's create-time property check (cairn_cont_props_check()): the
 * label rules (the container service's), the value ranges and the class/rf rule, each
 * refusal with a sentence that says what is allowed. No engine: the check is local.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <cairn/cont.h>
#include <cairn/errno.h>
#include <cairn/placement.h>

static int
chk(const char *label, uint32_t type, uint32_t oc, uint64_t chunk, uint32_t csum, uint32_t rf,
    char *err)
{
	struct cairn_cont_props p;

	memset(&p, 0, sizeof(p));
	snprintf(p.label, sizeof(p.label), "%s", label);
	p.type = type;
	p.oclass = oc;
	p.chunk_size = chunk;
	p.csum = csum;
	p.rf = rf;
	return cairn_cont_props_check(&p, err, 200);
}

static void
test_label(void **state)
{
	char err[200];

	(void)state;
	assert_int_equal(chk("ok-label_1.2", 0, 0, 0, 0, 0, err), 0);
	assert_int_equal(chk("", 0, 0, 0, 0, 0, err), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "1..63"));
	assert_int_equal(chk("a/b", 0, 0, 0, 0, 0, err), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "only A-Z a-z 0-9 _ . -"));
	assert_int_equal(chk("12345678-1234-1234-1234-123456789abc", 0, 0, 0, 0, 0, err),
	                 -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "UUID"));
	assert_int_equal(cairn_cont_props_check(NULL, err, sizeof(err)), -CAIRN_ERR_INVAL);
	/* err may be NULL */
	assert_int_equal(chk("a/b", 0, 0, 0, 0, 0, NULL), -CAIRN_ERR_INVAL);
}

static void
test_values(void **state)
{
	char err[200];

	(void)state;
	assert_int_equal(
	        chk("c", CAIRN_CONT_POSIX, CAIRN_OC_SX, 1 << 20, CAIRN_CONT_CSUM_CRC32C, 0, err),
	        0);
	assert_int_equal(chk("c", CAIRN_CONT_KV, CAIRN_OC_S1, 4096, CAIRN_CONT_CSUM_CRC64, 0, err),
	                 0);
	assert_int_equal(chk("c", 7, 0, 0, 0, 0, err), -CAIRN_ERR_INVAL);
	assert_int_equal(chk("c", 0, 0, 5000, 0, 0, err), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "power of two"));
	assert_int_equal(chk("c", 0, 0, 0, 3, 0, err), -CAIRN_ERR_INVAL);
	assert_int_equal(chk("c", 0, 0, 0, 0, CAIRN_CONT_RF_MAX + 1, err), -CAIRN_ERR_INVAL);
	assert_int_equal(chk("c", 0, CAIRN_OC_S4, 0, 0, 1, err), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "S4"));
	assert_non_null(strstr(err, "redundancy factor 1"));
	assert_int_equal(chk("c", 0, CAIRN_OC_RP_3G1, 0, 0, 2, err), 0);
	assert_int_equal(chk("c", 0, 0, 0, 0, 2, err), 0); /* default class: RP_3G1 */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_label),
	        cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
