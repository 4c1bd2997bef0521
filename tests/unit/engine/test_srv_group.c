/*
 * Unit tests of the engine's membership table (src/engine/srv_group.c): the checks of a
 * pushed table (nothing changes on error), versions (older tables ignored), joined ranks
 * and URIs, and the protobuf body form the control plane sends (mgmt.proto
 * GroupUpdateReq).
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

#include "mgmt.pb-c.h"
#include "srv_group.h"

static int
reset(void **state)
{
	srv_group_reset();
	return 0;
}

static struct srv_group_member
mem(uint32_t rank, enum srv_rank_state st, const char *uri)
{
	struct srv_group_member m = {.rank = rank, .state = st};

	snprintf(m.uri, sizeof(m.uri), "%s", uri);
	return m;
}

static void
test_update_and_query(void **state)
{
	struct srv_group_member m[3] = {
	        mem(1, SRV_RANK_JOINED, "tcp://127.0.0.1:2000"),
	        mem(0, SRV_RANK_JOINED, "tcp://127.0.0.1:1000"),
	        mem(2, SRV_RANK_STOPPED, "tcp://127.0.0.1:3000"),
	};
	uint32_t ranks[4];
	char uri[SRV_GROUP_URI_MAX], err[256];

	assert_int_equal(srv_group_version(), 0);
	assert_int_equal(srv_group_update(5, m, 3, err, sizeof(err)), 0);
	assert_int_equal(srv_group_version(), 5);
	assert_int_equal(srv_group_joined(ranks, 4), 2);
	assert_int_equal(ranks[0], 0); /* ascending */
	assert_int_equal(ranks[1], 1);
	assert_int_equal(srv_group_joined(ranks, 1), 2); /* how many, even past max */
	assert_true(srv_group_rank_joined(1));
	assert_false(srv_group_rank_joined(2));
	assert_false(srv_group_rank_joined(9));
	assert_int_equal(srv_group_rank_uri(2, uri, sizeof(uri)), 0);
	assert_string_equal(uri, "tcp://127.0.0.1:3000");
	assert_int_equal(srv_group_rank_uri(9, uri, sizeof(uri)), -CAIRN_ERR_NONEXIST);

	/* an older or equal version is ignored, a newer one replaces the table */
	m[0].state = SRV_RANK_EXCLUDED;
	assert_int_equal(srv_group_update(5, m, 3, err, sizeof(err)), 0);
	assert_true(srv_group_rank_joined(1));
	assert_int_equal(srv_group_update(4, m, 3, err, sizeof(err)), 0);
	assert_true(srv_group_rank_joined(1));
	assert_int_equal(srv_group_update(6, m, 3, err, sizeof(err)), 0);
	assert_false(srv_group_rank_joined(1));
	assert_int_equal(srv_group_joined(ranks, 4), 1);
}

static void
test_bad_tables(void **state)
{
	struct srv_group_member ok = mem(0, SRV_RANK_JOINED, "tcp://127.0.0.1:1000");
	struct srv_group_member m[2];
	char err[256];

	m[0] = ok;
	m[1] = mem(0, SRV_RANK_JOINED, "tcp://127.0.0.1:1001");
	assert_int_equal(srv_group_update(1, m, 2, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "twice"));
	m[1] = mem(1, SRV_RANK_JOINED, "udp://x:1");
	assert_int_equal(srv_group_update(1, m, 2, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "tcp://HOST:PORT"));
	m[1] = mem(1u << 20, SRV_RANK_JOINED, "");
	assert_int_equal(srv_group_update(1, m, 2, err, sizeof(err)), -CAIRN_ERR_INVAL);
	m[1] = mem(1, SRV_RANK_UNKNOWN, "");
	assert_int_equal(srv_group_update(1, m, 2, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_int_equal(srv_group_update(0, m, 1, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_int_equal(srv_group_update(1, m, SRV_GROUP_MAX + 1, err, sizeof(err)),
	                 -CAIRN_ERR_INVAL);
	/* nothing was installed by the refused tables */
	assert_int_equal(srv_group_version(), 0);
	/* a member without a URI (no fabric port) is fine */
	m[1] = mem(1, SRV_RANK_JOINED, "");
	assert_int_equal(srv_group_update(1, m, 2, err, sizeof(err)), 0);
	assert_int_equal(srv_group_version(), 1);
}

static size_t
pack(uint64_t version, Cairn__Mgmt__GroupMember **mp, size_t n, uint8_t *buf, size_t len)
{
	Cairn__Mgmt__GroupUpdateReq req = CAIRN__MGMT__GROUP_UPDATE_REQ__INIT;

	req.version = version;
	req.n_members = n;
	req.members = mp;
	assert_true(cairn__mgmt__group_update_req__get_packed_size(&req) <= len);
	return cairn__mgmt__group_update_req__pack(&req, buf);
}

static void
test_body(void **state)
{
	Cairn__Mgmt__GroupMember a = CAIRN__MGMT__GROUP_MEMBER__INIT;
	Cairn__Mgmt__GroupMember b = CAIRN__MGMT__GROUP_MEMBER__INIT;
	Cairn__Mgmt__GroupMember *mp[2] = {&a, &b};
	uint8_t buf[512];
	char err[256];
	size_t len;

	a.rank = 0;
	a.uri = "tcp://127.0.0.1:1000";
	a.state = "joined";
	b.rank = 1;
	b.uri = "tcp://127.0.0.1:2000";
	b.state = "starting";
	len = pack(3, mp, 2, buf, sizeof(buf));
	assert_int_equal(srv_group_update_body(buf, len, err, sizeof(err)), 0);
	assert_int_equal(srv_group_version(), 3);
	assert_true(srv_group_rank_joined(0));
	assert_false(srv_group_rank_joined(1));

	b.state = "sleeping";
	len = pack(4, mp, 2, buf, sizeof(buf));
	assert_int_equal(srv_group_update_body(buf, len, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "member 1"));
	assert_int_equal(srv_group_version(), 3);
	buf[0] = 0xff; /* not a protobuf message */
	assert_int_equal(srv_group_update_body(buf, len, err, sizeof(err)), -CAIRN_ERR_PROTO);
	assert_int_equal(srv_group_update_body(NULL, 0, err, sizeof(err)), -CAIRN_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_update_and_query, reset),
	        cmocka_unit_test_setup(test_bad_tables, reset),
	        cmocka_unit_test_setup(test_body, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
