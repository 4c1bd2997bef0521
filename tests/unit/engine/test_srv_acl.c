/*
 * Unit tests of pool ACLs (src/engine/srv_acl.c): entry parsing and formatting, every
 * malformed entry rejected with a reason, update/delete, DAOS-style evaluation order
 * (owner, named user, groups union, everyone) and the JSON round trip. Also the wire
 * fields the ACL/property/attribute/snapshot work added to proto.h (connect principal,
 * container name/value/epoch, object read epoch): round trips, every truncation and
 * every oversized field rejected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <cairn/errno.h>

#include "engine/proto.h"
#include "srv_acl.h"

static void
test_parse_format(void **state)
{
	static const char *const ok[] = {"A::OWNER@:rwcdtTaA", "A::GROUP@:rw", "A::EVERYONE@:r",
	                                 "A::bob@:rc", "A:G:staff@:d", "A::a.b-c_d@:t"};
	char buf[128], err[256];
	struct srv_ace e;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(srv_ace_parse(ok[i], &e, err, sizeof(err)), 0);
		srv_ace_format(&e, buf, sizeof(buf));
		assert_string_equal(buf, ok[i]);
	}
	/* Letters in any order and repeated are normalised. */
	assert_int_equal(srv_ace_parse("A::bob@:wrw", &e, err, sizeof(err)), 0);
	assert_int_equal(e.perms, SRV_ACL_READ | SRV_ACL_WRITE);
	srv_ace_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "A::bob@:rw");
	assert_int_equal(e.kind, SRV_ACE_USER);
	assert_int_equal(srv_ace_parse("A:G:staff@:r", &e, err, sizeof(err)), 0);
	assert_int_equal(e.kind, SRV_ACE_NGROUP);
	assert_string_equal(e.name, "staff@");
}

static void
test_parse_bad(void **state)
{
	static const struct {
		const char *s, *why;
	} bad[] = {
	        {"", "expected TYPE"},          {"A::bob@", "expected TYPE"},
	        {"A::bob@:r:x", "expected TYPE"}, {"D::bob@:r", "only type A"},
	        {"AA::bob@:r", "only type A"},  {"A:X:bob@:r", "unknown flag"},
	        {"A::bob:r", "must end with '@'"}, {"A::@:r", "must end with '@'"},
	        {"A::bob@:", "no permissions"}, {"A::bob@:rz", "unknown permission 'z'"},
	        {"A:G:OWNER@:r", "flag G"},     {"A::b ob@:r", "not a letter"},
	        {"A::-x@:r", "cannot start"},
	        {"A::aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@:r",
	         "1..62"},
	};
	char err[256];
	struct srv_ace e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(srv_ace_parse(bad[i].s, &e, err, sizeof(err)), -CAIRN_ERR_INVAL);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("'%s': error '%s' lacks '%s'", bad[i].s, err, bad[i].why);
	}
}

static void
test_names(void **state)
{
	char out[SRV_ACL_NAME_MAX], err[256];

	assert_int_equal(srv_acl_name_norm("alice", out, err, sizeof(err)), 0);
	assert_string_equal(out, "alice@");
	assert_int_equal(srv_acl_name_norm("alice@", out, err, sizeof(err)), 0);
	assert_string_equal(out, "alice@");
	assert_int_equal(srv_acl_name_norm("EVERY", out, err, sizeof(err)), 0);
	assert_int_equal(srv_acl_name_norm("OWNER", out, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_int_equal(srv_acl_name_norm("EVERYONE@", out, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_int_equal(srv_acl_name_norm("", out, err, sizeof(err)), -CAIRN_ERR_INVAL);
	assert_int_equal(srv_acl_name_norm("a/b", out, err, sizeof(err)), -CAIRN_ERR_INVAL);
}

static void
add(struct srv_acl *acl, const char *s)
{
	char err[256];
	struct srv_ace e;

	assert_int_equal(srv_ace_parse(s, &e, err, sizeof(err)), 0);
	assert_int_equal(srv_acl_update(acl, &e), 0);
}

static void
test_eval(void **state)
{
	struct srv_acl acl;
	struct srv_ace p;
	char err[256];

	srv_acl_default(&acl, "alice@", "staff@");
	assert_int_equal(srv_acl_perms(&acl, "alice", "other"), SRV_ACL_ALL);
	/* GROUP@ applies to members of the owner group only. */
	assert_true(srv_acl_perms(&acl, "bob", "users,staff") & SRV_ACL_WRITE);
	assert_false(srv_acl_perms(&acl, "bob", "users,staff") & SRV_ACL_SET_ACL);
	assert_int_equal(srv_acl_perms(&acl, "bob", "users,staffer"), 0);
	assert_int_equal(srv_acl_perms(&acl, "bob", NULL), 0);
	assert_int_equal(srv_acl_perms(&acl, NULL, ""), 0);
	/* EVERYONE@ is the fallback. */
	add(&acl, "A::EVERYONE@:r");
	assert_int_equal(srv_acl_perms(&acl, "carol", "x"), SRV_ACL_READ);
	/* A named user entry wins over groups and everyone. */
	add(&acl, "A::bob@:c");
	assert_int_equal(srv_acl_perms(&acl, "bob", "staff"), SRV_ACL_CREATE_CONT);
	/* Groups are a union. */
	add(&acl, "A:G:users@:d");
	assert_int_equal(srv_acl_perms(&acl, "dave", "users,staff"),
	                 srv_acl_perms(&acl, "dave", "staff") | SRV_ACL_DEL_CONT);
	assert_int_equal(srv_acl_perms(&acl, "dave", "users"), SRV_ACL_DEL_CONT);
	/* Replace, not duplicate. */
	add(&acl, "A::bob@:rw");
	assert_int_equal(acl.nr, 5);
	assert_int_equal(srv_acl_perms(&acl, "bob", ""), SRV_ACL_READ | SRV_ACL_WRITE);
	/* The owner without an OWNER@ entry is evaluated as anyone else. */
	assert_int_equal(srv_acl_principal_parse("OWNER@", &p, err, sizeof(err)), 0);
	assert_int_equal(srv_acl_delete(&acl, &p), 0);
	assert_int_equal(srv_acl_delete(&acl, &p), -CAIRN_ERR_NONEXIST);
	assert_int_equal(srv_acl_perms(&acl, "alice", "none"), SRV_ACL_READ);
	assert_int_equal(srv_acl_principal_parse("g:users@", &p, err, sizeof(err)), 0);
	assert_int_equal(srv_acl_delete(&acl, &p), 0);
	assert_int_equal(srv_acl_perms(&acl, "dave", "users"), SRV_ACL_READ);
	/* users@ as a user principal is a different entry from the group. */
	assert_int_equal(srv_acl_principal_parse("users@", &p, err, sizeof(err)), 0);
	assert_int_equal(p.kind, SRV_ACE_USER);
	assert_int_equal(srv_acl_delete(&acl, &p), -CAIRN_ERR_NONEXIST);
}

static void
test_full(void **state)
{
	struct srv_acl acl;
	char s[64], err[256];
	struct srv_ace e;
	unsigned i;

	srv_acl_default(&acl, "a@", "g@");
	for (i = acl.nr; i < SRV_ACL_MAX_ENTRIES; i++) {
		snprintf(s, sizeof(s), "A::u%u@:r", i);
		add(&acl, s);
	}
	assert_int_equal(srv_ace_parse("A::extra@:r", &e, err, sizeof(err)), 0);
	assert_int_equal(srv_acl_update(&acl, &e), -CAIRN_ERR_OVERFLOW);
	/* Replacing an existing one still works when full. */
	assert_int_equal(srv_ace_parse("A::u5@:rw", &e, err, sizeof(err)), 0);
	assert_int_equal(srv_acl_update(&acl, &e), 0);
}

static void
test_json(void **state)
{
	struct srv_acl acl, back;
	char err[256];
	json_t *j;

	srv_acl_default(&acl, "alice@", "staff@");
	add(&acl, "A:G:ops@:rwcd");
	add(&acl, "A::EVERYONE@:r");
	j = srv_acl_json(&acl);
	assert_non_null(j);
	assert_int_equal(srv_acl_from_json(j, &back, err, sizeof(err)), 0);
	assert_string_equal(back.owner, "alice@");
	assert_string_equal(back.group, "staff@");
	assert_int_equal(back.nr, acl.nr);
	assert_memory_equal(back.ent, acl.ent, acl.nr * sizeof(acl.ent[0]));
	/* A corrupt record is refused, not half loaded. */
	json_array_append_new(json_object_get(j, "entries"), json_string("A::x"));
	assert_int_equal(srv_acl_from_json(j, &back, err, sizeof(err)), -CAIRN_ERR_INVAL);
	json_object_del(j, "owner");
	assert_int_equal(srv_acl_from_json(j, &back, err, sizeof(err)), -CAIRN_ERR_CORRUPT);
	json_decref(j);
}

typedef int (*enc_fn)(struct cairn_enc *e, const void *p);
typedef int (*dec_fn)(struct cairn_dec *d, void *p);

/* Encode in; decode into out (0 expected or not); every strict prefix fails. */
static uint8_t *
wire(enc_fn enc, dec_fn dec, const void *in, void *out, size_t out_size, int want)
{
	struct cairn_enc e;
	struct cairn_dec d;
	uint8_t *buf;
	size_t len, n;
	void *tmp = malloc(out_size);

	cairn_enc_init(&e, 0);
	assert_int_equal(enc(&e, in), 0);
	buf = cairn_enc_steal(&e, &len);
	cairn_dec_init(&d, buf, len);
	if (want == 0) {
		assert_int_equal(dec(&d, out), 0);
		assert_int_equal(cairn_dec_done(&d), 0);
	} else {
		assert_int_equal(dec(&d, out), want);
	}
	for (n = 0; n < len; n++) {
		cairn_dec_init(&d, buf, n);
		assert_int_not_equal(dec(&d, tmp) == 0 && cairn_dec_done(&d) == 0, 1);
	}
	free(tmp);
	return buf;
}

static void
test_wire(void **state)
{
	char user[PROTO_USER_MAX + 1], groups[PROTO_GROUPS_MAX + 1], name[PROTO_ATTR_NAME_MAX + 2];
	static uint8_t val[PROTO_ATTR_VALUE_MAX + 1];
	struct pool_in pi = {.pool = "p", .flags = PROTO_POOL_CONNECT_RO, .user = "bob",
	                     .groups = "staff,users"}, pi2;
	struct cont_in ci = {.cont = "c", .name = "attr.x", .value = "v\0w", .value_len = 3,
	                     .epoch = 1234}, ci2;
	struct cont_out co = {.label = "c", .value = "abc", .value_len = 3, .epoch = 99}, co2;
	struct obj_in oi = {.dkey = "d", .dkey_len = 1, .epoch = 777}, oi2;
	uint8_t *buf;

	buf = wire(pool_in_enc, pool_in_dec, &pi, &pi2, sizeof(pi2), 0);
	assert_int_equal(pi2.flags, PROTO_POOL_CONNECT_RO);
	assert_string_equal(pi2.user, "bob");
	assert_string_equal(pi2.groups, "staff,users");
	free(buf);
	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	pi.user = user; /* PROTO_USER_MAX characters: one too many */
	free(wire(pool_in_enc, pool_in_dec, &pi, &pi2, sizeof(pi2), -CAIRN_ERR_OVERFLOW));
	pi.user = "bob";
	memset(groups, 'g', sizeof(groups) - 1);
	groups[sizeof(groups) - 1] = '\0';
	pi.groups = groups;
	free(wire(pool_in_enc, pool_in_dec, &pi, &pi2, sizeof(pi2), -CAIRN_ERR_OVERFLOW));

	buf = wire(cont_in_enc, cont_in_dec, &ci, &ci2, sizeof(ci2), 0);
	assert_string_equal(ci2.name, "attr.x");
	assert_int_equal(ci2.value_len, 3);
	assert_memory_equal(ci2.value, "v\0w", 3);
	assert_int_equal(ci2.epoch, 1234);
	free(buf);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ci.name = name;
	free(wire(cont_in_enc, cont_in_dec, &ci, &ci2, sizeof(ci2), -CAIRN_ERR_OVERFLOW));
	ci.name = "ok";
	ci.value = val;
	ci.value_len = sizeof(val);
	free(wire(cont_in_enc, cont_in_dec, &ci, &ci2, sizeof(ci2), -CAIRN_ERR_OVERFLOW));

	buf = wire(cont_out_enc, cont_out_dec, &co, &co2, sizeof(co2), 0);
	assert_int_equal(co2.value_len, 3);
	assert_memory_equal(co2.value, "abc", 3);
	assert_int_equal(co2.epoch, 99);
	free(buf);

	buf = wire(obj_in_enc, obj_in_dec, &oi, &oi2, sizeof(oi2), 0);
	assert_int_equal(oi2.epoch, 777);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_format), cmocka_unit_test(test_parse_bad),
	        cmocka_unit_test(test_names),        cmocka_unit_test(test_eval),
	        cmocka_unit_test(test_full),         cmocka_unit_test(test_json),
	        cmocka_unit_test(test_wire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
