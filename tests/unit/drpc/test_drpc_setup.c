/*
 * SETUP codec unit tests: a good configuration round-trips; every field out of range,
 * wrong sizes, unknown fields and garbage are refused with a message naming the field;
 * the boundary values are accepted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cairn/errno.h>

#include "drpc/setup.h"
#include "mgmt.pb-c.h"

static void
good(struct cairn_drpc_setup *s)
{
	memset(s, 0, sizeof(*s));
	s->targets = 2;
	s->helpers = 1;
	snprintf(s->storage_dir, sizeof(s->storage_dir), "/var/tmp/cairn/engine0");
	s->port = 31000;
	s->rank = 3;
	snprintf(s->system, sizeof(s->system), "cairn_sys-1.a");
	memset(s->system_uuid, 0xab, sizeof(s->system_uuid));
	snprintf(s->log_mask, sizeof(s->log_mask), "ERR,engine=INFO");
	s->pin = true;
}

/* Encode s, decode it: the status, and the message in err. */
static int
roundtrip(const struct cairn_drpc_setup *s, struct cairn_drpc_setup *out, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	int rc;

	assert_int_equal(cairn_drpc_setup_encode(s, &buf, &len), 0);
	err[0] = '\0';
	rc = cairn_drpc_setup_decode(buf, len, out, err, errlen);
	free(buf);
	return rc;
}

static void
expect_bad(const struct cairn_drpc_setup *s, const char *field)
{
	struct cairn_drpc_setup out;
	char err[512];

	assert_int_equal(roundtrip(s, &out, err, sizeof(err)), -CAIRN_ERR_INVAL);
	if (strstr(err, field) == NULL)
		fail_msg("message '%s' does not name '%s'", err, field);
}

static void
test_setup_roundtrip(void **state)
{
	struct cairn_drpc_setup s, out;
	char err[256];

	good(&s);
	assert_int_equal(roundtrip(&s, &out, err, sizeof(err)), 0);
	assert_memory_equal(&s, &out, sizeof(s));

	/* Optional fields empty: no storage, no network, keep the log mask. */
	memset(s.storage_dir, 0, sizeof(s.storage_dir));
	s.port = 0;
	memset(s.log_mask, 0, sizeof(s.log_mask));
	s.pin = false;
	assert_int_equal(roundtrip(&s, &out, err, sizeof(err)), 0);
	assert_memory_equal(&s, &out, sizeof(s));

	/* A URI instead of a port. */
	good(&s);
	snprintf(s.uri, sizeof(s.uri), "tcp://10.0.0.7:4000");
	assert_int_equal(roundtrip(&s, &out, err, sizeof(err)), 0);
	assert_string_equal(out.uri, "tcp://10.0.0.7:4000");
}

static void
test_setup_limits_accepted(void **state)
{
	struct cairn_drpc_setup s, out;
	char err[256];

	good(&s);
	s.targets = CAIRN_SETUP_MAX_TARGETS;
	s.helpers = CAIRN_SETUP_MAX_HELPERS;
	s.port = 65535 - CAIRN_SETUP_MAX_TARGETS;
	s.rank = CAIRN_SETUP_MAX_RANK;
	memset(s.system, 'x', CAIRN_SETUP_SYSTEM_MAX - 1);
	s.system[CAIRN_SETUP_SYSTEM_MAX - 1] = '\0';
	memset(s.storage_dir, 'd', CAIRN_SETUP_PATH_MAX - 1);
	s.storage_dir[0] = '/';
	s.storage_dir[CAIRN_SETUP_PATH_MAX - 1] = '\0';
	assert_int_equal(roundtrip(&s, &out, err, sizeof(err)), 0);
	assert_memory_equal(&s, &out, sizeof(s));
	s.targets = 1;
	s.helpers = 0;
	s.rank = 0;
	assert_int_equal(roundtrip(&s, &out, err, sizeof(err)), 0);
}

static void
test_setup_fields_refused(void **state)
{
	struct cairn_drpc_setup s;

	good(&s), s.targets = 0;
	expect_bad(&s, "targets");
	good(&s), s.targets = CAIRN_SETUP_MAX_TARGETS + 1;
	expect_bad(&s, "targets");
	good(&s), s.helpers = CAIRN_SETUP_MAX_HELPERS + 1;
	expect_bad(&s, "helpers");
	good(&s), snprintf(s.storage_dir, sizeof(s.storage_dir), "engine0");
	expect_bad(&s, "storage_dir");
	good(&s), snprintf(s.storage_dir, sizeof(s.storage_dir), "/var/tmp/a b");
	expect_bad(&s, "storage_dir");
	good(&s), snprintf(s.storage_dir, sizeof(s.storage_dir), "/var/tmp/\x1b[2J");
	expect_bad(&s, "storage_dir");
	good(&s), s.port = 65535 - s.targets + 1;
	expect_bad(&s, "port");
	good(&s), s.port = 65536;
	expect_bad(&s, "port");
	good(&s), s.port = UINT32_MAX;
	expect_bad(&s, "port");
	good(&s), snprintf(s.uri, sizeof(s.uri), "udp://h:1");
	expect_bad(&s, "uri");
	good(&s), snprintf(s.uri, sizeof(s.uri), "tcp://:1");
	expect_bad(&s, "uri");
	good(&s), snprintf(s.uri, sizeof(s.uri), "tcp://h:");
	expect_bad(&s, "uri");
	good(&s), snprintf(s.uri, sizeof(s.uri), "tcp://h:65536");
	expect_bad(&s, "uri");
	good(&s), snprintf(s.uri, sizeof(s.uri), "tcp://h:12x");
	expect_bad(&s, "uri");
	good(&s), snprintf(s.uri, sizeof(s.uri), "tcp://h:65535");
	expect_bad(&s, "uri"); /* + targets beyond 65535 */
	good(&s), s.rank = CAIRN_SETUP_MAX_RANK + 1;
	expect_bad(&s, "rank");
	good(&s), s.system[0] = '\0';
	expect_bad(&s, "system");
	good(&s), snprintf(s.system, sizeof(s.system), "a/b");
	expect_bad(&s, "system");
	good(&s), memset(s.system_uuid, 0, sizeof(s.system_uuid));
	expect_bad(&s, "system_uuid");
	good(&s), snprintf(s.log_mask, sizeof(s.log_mask), "nosuchsubsystem=ERR");
	expect_bad(&s, "log_mask");
	good(&s), snprintf(s.log_mask, sizeof(s.log_mask), "ERR\n");
	expect_bad(&s, "log_mask");
}

/* What the struct cannot express: lengths, sizes, unknown fields, garbage. */
static void
test_setup_wire_refused(void **state)
{
	Cairn__Mgmt__SetUpReq m = CAIRN__MGMT__SET_UP_REQ__INIT;
	struct cairn_drpc_setup out;
	static char big[4096];
	uint8_t uuid[17], buf[8192];
	char err[256];
	size_t len;

	memset(uuid, 1, sizeof(uuid));
	m.targets = 1;
	m.system = "s";
	m.system_uuid.data = uuid;
	m.system_uuid.len = 16;
	len = cairn__mgmt__set_up_req__pack(&m, buf);
	assert_int_equal(cairn_drpc_setup_decode(buf, len, &out, err, sizeof(err)), 0);

	m.system_uuid.len = 17;
	len = cairn__mgmt__set_up_req__pack(&m, buf);
	assert_int_equal(cairn_drpc_setup_decode(buf, len, &out, err, sizeof(err)),
	                 -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "system_uuid"));
	m.system_uuid.len = 0;
	len = cairn__mgmt__set_up_req__pack(&m, buf);
	assert_int_equal(cairn_drpc_setup_decode(buf, len, &out, err, sizeof(err)),
	                 -CAIRN_ERR_INVAL);
	m.system_uuid.len = 16;

	memset(big, 'a', sizeof(big) - 1);
	m.system = big;
	len = cairn__mgmt__set_up_req__pack(&m, buf);
	assert_int_equal(cairn_drpc_setup_decode(buf, len, &out, err, sizeof(err)),
	                 -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "system"));
	m.system = "s";
	m.uri = big;
	len = cairn__mgmt__set_up_req__pack(&m, buf);
	assert_int_equal(cairn_drpc_setup_decode(buf, len, &out, err, sizeof(err)),
	                 -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "uri"));
	m.uri = "";
	m.log_mask = big;
	len = cairn__mgmt__set_up_req__pack(&m, buf);
	assert_int_equal(cairn_drpc_setup_decode(buf, len, &out, err, sizeof(err)),
	                 -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "log_mask"));
	m.log_mask = "";

	/* Unknown field 100 (varint) after a valid message. */
	len = cairn__mgmt__set_up_req__pack(&m, buf);
	buf[len++] = 0xa0;
	buf[len++] = 0x06;
	buf[len++] = 0x01;
	assert_int_equal(cairn_drpc_setup_decode(buf, len, &out, err, sizeof(err)),
	                 -CAIRN_ERR_PROTO);
	assert_non_null(strstr(err, "unknown"));

	/* Garbage, truncation, empty body (all defaults: targets 0). */
	memset(buf, 0xff, 32);
	assert_int_equal(cairn_drpc_setup_decode(buf, 32, &out, err, sizeof(err)),
	                 -CAIRN_ERR_PROTO);
	len = cairn__mgmt__set_up_req__pack(&m, buf);
	assert_int_equal(cairn_drpc_setup_decode(buf, len - 1, &out, err, sizeof(err)),
	                 -CAIRN_ERR_PROTO);
	assert_int_equal(cairn_drpc_setup_decode(NULL, 0, &out, err, sizeof(err)),
	                 -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "targets"));
	assert_int_equal(cairn_drpc_setup_decode(buf, len, NULL, err, sizeof(err)),
	                 -CAIRN_ERR_INVAL);
	/* No err buffer: still refused. */
	assert_int_equal(cairn_drpc_setup_decode(buf, 32, &out, NULL, 0), -CAIRN_ERR_PROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_setup_roundtrip),
	        cmocka_unit_test(test_setup_limits_accepted),
	        cmocka_unit_test(test_setup_fields_refused),
	        cmocka_unit_test(test_setup_wire_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
