/* Operational key negotiation (RFC 7143 section 13). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/errno.h"
#include "iscsi_internal.h"

static char g_out[4096];
static struct iscsi_textbuf g_tb;

static const char *
neg(struct iscsi_params *p, const struct iscsi_param_limits *l, bool disc, const char *k,
    const char *v, int *rc)
{
	struct iscsi_text t;
	const char *why;

	g_tb.buf = g_out;
	g_tb.cap = sizeof(g_out);
	g_tb.len = 0;
	g_tb.overflow = false;
	*rc = iscsi_param_negotiate(p, l, disc, k, v, &g_tb);
	if (g_tb.len == 0)
		return NULL;
	assert_int_equal(iscsi_text_parse(g_out, g_tb.len, g_tb.cap, &t, &why), 0);
	return iscsi_text_get(&t, k);
}

static void
test_negotiate(void **state)
{
	struct iscsi_params p;
	struct iscsi_param_limits l;
	int rc;

	(void)state;
	iscsi_params_default(&p);
	iscsi_param_limits_default(&l);
	l.max_burst = 65536;
	l.first_burst = 16384;
	l.max_connections = 4;

	assert_string_equal(neg(&p, &l, false, "HeaderDigest", "CRC32C,None", &rc), "CRC32C");
	assert_true(p.header_digest);
	assert_string_equal(neg(&p, &l, false, "DataDigest", "None,CRC32C", &rc), "None");
	assert_false(p.data_digest);
	l.allow_digests = false;
	assert_string_equal(neg(&p, &l, false, "HeaderDigest", "CRC32C,None", &rc), "None");
	assert_string_equal(neg(&p, &l, false, "HeaderDigest", "CRC32C", &rc), "Reject");
	assert_int_equal(rc, -CAIRN_ERR_PROTO);
	l.allow_digests = true;

	assert_string_equal(neg(&p, &l, false, "MaxBurstLength", "262144", &rc), "65536");
	assert_int_equal(p.max_burst, 65536);
	assert_string_equal(neg(&p, &l, false, "FirstBurstLength", "8192", &rc), "8192");
	assert_string_equal(neg(&p, &l, false, "MaxBurstLength", "100", &rc), "Reject");
	assert_string_equal(neg(&p, &l, false, "MaxBurstLength", "abc", &rc), "Reject");
	assert_string_equal(neg(&p, &l, false, "MaxBurstLength", "16777216", &rc), "Reject");

	assert_string_equal(neg(&p, &l, false, "InitialR2T", "No", &rc), "No"); /* OR */
	l.initial_r2t = true;
	assert_string_equal(neg(&p, &l, false, "InitialR2T", "No", &rc), "Yes");
	assert_string_equal(neg(&p, &l, false, "ImmediateData", "Yes", &rc), "Yes"); /* AND */
	l.immediate_data = false;
	assert_string_equal(neg(&p, &l, false, "ImmediateData", "Yes", &rc), "No");
	assert_string_equal(neg(&p, &l, false, "ImmediateData", "Maybe", &rc), "Reject");

	assert_string_equal(neg(&p, &l, false, "MaxConnections", "8", &rc), "4");
	assert_string_equal(neg(&p, &l, false, "MaxConnections", "0", &rc), "Reject");
	assert_string_equal(neg(&p, &l, false, "ErrorRecoveryLevel", "2", &rc), "0");
	assert_string_equal(neg(&p, &l, false, "DefaultTime2Wait", "0", &rc), "2"); /* max */
	assert_string_equal(neg(&p, &l, false, "DefaultTime2Retain", "60", &rc), "20"); /* min */
	assert_string_equal(neg(&p, &l, false, "MaxOutstandingR2T", "64", &rc), "16");
	assert_string_equal(neg(&p, &l, false, "DataPDUInOrder", "No", &rc), "Yes");
	assert_string_equal(neg(&p, &l, false, "DataSequenceInOrder", "No", &rc), "Yes");
	assert_string_equal(neg(&p, &l, false, "IFMarker", "Yes", &rc), "No");

	/* declarative: the initiator's receive limit */
	assert_null(neg(&p, &l, false, "MaxRecvDataSegmentLength", "65536", &rc));
	assert_int_equal(rc, 1);
	assert_int_equal(p.max_send_dsl, 65536);
	assert_string_equal(neg(&p, &l, false, "MaxRecvDataSegmentLength", "12", &rc), "Reject");

	/* discovery sessions: burst keys are irrelevant */
	assert_string_equal(neg(&p, &l, true, "MaxBurstLength", "65536", &rc), "Irrelevant");
	assert_string_equal(neg(&p, &l, true, "MaxConnections", "4", &rc), "1");

	/* not an operational key */
	assert_null(neg(&p, &l, false, "X-com.example.Foo", "1", &rc));
	assert_int_equal(rc, 0);
}

static void
test_declare(void **state)
{
	struct iscsi_params p;
	struct iscsi_param_limits l;
	struct iscsi_text t;
	const char *why;

	(void)state;
	iscsi_params_default(&p);
	iscsi_param_limits_default(&l);
	l.max_recv_dsl = 131072;
	l.max_burst = 65536;
	l.first_burst = 4096;
	g_tb.buf = g_out;
	g_tb.cap = sizeof(g_out);
	g_tb.len = 0;
	g_tb.overflow = false;
	iscsi_param_declare(&p, &l, false, 0, &g_tb);
	assert_int_equal(iscsi_text_parse(g_out, g_tb.len, g_tb.cap, &t, &why), 0);
	assert_string_equal(iscsi_text_get(&t, "MaxRecvDataSegmentLength"), "131072");
	/* RFC defaults above our limits were not offered: we state ours */
	assert_string_equal(iscsi_text_get(&t, "FirstBurstLength"), "4096");
	assert_int_equal(p.first_burst, 4096);
	assert_string_equal(iscsi_text_get(&t, "MaxBurstLength"), "65536");
	assert_int_equal(p.max_burst, 65536);
	(void)0;
}

static void
test_numbers(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(iscsi_parse_number("0x10", 100, &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(iscsi_parse_number("-1", 100, &v), -CAIRN_ERR_INVAL);
	assert_int_equal(iscsi_parse_number("101", 100, &v), -CAIRN_ERR_INVAL);
	assert_int_equal(iscsi_parse_number("", 100, &v), -CAIRN_ERR_INVAL);
	assert_int_equal(iscsi_parse_number("12a", 100, &v), -CAIRN_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negotiate),
		cmocka_unit_test(test_declare),
		cmocka_unit_test(test_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
