/*
 * Unit tests of the container properties and object-RPC data-path checks: the shared
 * validation of create/set-prop values (proto_cont_props_check(), used by libcairn and
 * the container service), the redundancy of each class, the wire fields they added
 * (obj_in cond/checksum, obj_out checksum, cont_out properties) with every truncation
 * rejected, and the engine's checksum verification and conditional-flag checks
 * (srv_obj_csum.c), including the fetch-corruption fault point.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cairn/errno.h>
#include <cairn/placement.h>

#include "common/csum.h"
#include "common/fault.h"
#include "engine/proto.h"
#include "srv_obj_csum.h"

static struct proto_cont_props
props(uint32_t type, uint32_t oclass, uint64_t chunk, uint32_t csum, uint32_t rf)
{
	struct proto_cont_props p;

	memset(&p, 0, sizeof(p));
	p.type = type;
	p.oclass = oclass;
	p.chunk_size = chunk;
	p.csum = csum;
	p.rf = rf;
	return p;
}

static int
check(struct proto_cont_props p, int create, char *err)
{
	return proto_cont_props_check(&p, create, err, 200);
}

static void
test_defaults(void **state)
{
	struct proto_cont_props p = props(0, 0, 0, 0, 0);
	char err[200];

	(void)state;
	assert_int_equal(proto_cont_props_check(&p, 1, err, sizeof(err)), 0);
	assert_int_equal(p.type, PROTO_CONT_POSIX);
	assert_int_equal(p.oclass, CAIRN_OC_SX);
	assert_int_equal(p.chunk_size, 1u << 20);
	assert_int_equal(p.csum, 0);
	assert_int_equal(p.rf, 0);
	/* the default class follows rf */
	p = props(0, 0, 0, 0, 1);
	assert_int_equal(proto_cont_props_check(&p, 1, err, sizeof(err)), 0);
	assert_int_equal(p.oclass, CAIRN_OC_RP_2G1);
	p = props(0, 0, 0, 0, 2);
	assert_int_equal(proto_cont_props_check(&p, 1, err, sizeof(err)), 0);
	assert_int_equal(p.oclass, CAIRN_OC_RP_3G1);
}

static void
test_ranges(void **state)
{
	char err[200];

	(void)state;
	/* chunk size: powers of two in 4 KiB .. 1 GiB */
	assert_int_equal(check(props(1, 5, 4096, 0, 0), 1, err), 0);
	assert_int_equal(check(props(1, 5, 1ull << 30, 0, 0), 1, err), 0);
	assert_int_equal(check(props(1, 5, 2048, 0, 0), 1, err), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "power of two, 4 KiB..1 GiB"));
	assert_int_equal(check(props(1, 5, 3000, 0, 0), 1, err), -CAIRN_ERR_INVAL);
	assert_int_equal(check(props(1, 5, 3 << 12, 0, 0), 1, err), -CAIRN_ERR_INVAL);
	assert_int_equal(check(props(1, 5, 2ull << 30, 0, 0), 1, err), -CAIRN_ERR_INVAL);
	/* checksum: off, crc32c, crc64 */
	assert_int_equal(check(props(1, 5, 0, CAIRN_CSUM_CRC32C, 0), 1, err), 0);
	assert_int_equal(check(props(1, 5, 0, CAIRN_CSUM_CRC64, 0), 1, err), 0);
	assert_int_equal(check(props(1, 5, 0, 3, 0), 1, err), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "off, crc32c or crc64"));
	/* rf 0..2 */
	assert_int_equal(check(props(1, 0, 0, 0, 3), 1, err), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "0..2"));
	/* types POSIX, KV, ARRAY */
	assert_int_equal(check(props(PROTO_CONT_KV, 5, 0, 0, 0), 1, err), 0);
	assert_int_equal(check(props(PROTO_CONT_ARRAY, 5, 0, 0, 0), 1, err), 0);
	assert_int_equal(check(props(4, 5, 0, 0, 0), 1, err), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "POSIX, KV or ARRAY"));
	/* classes */
	assert_int_equal(check(props(1, CAIRN_OC_MAX, 0, 0, 0), 1, err), -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "unknown object class"));
}

static void
test_rf_class(void **state)
{
	char err[200];

	(void)state;
	assert_int_equal(proto_oclass_rf(CAIRN_OC_S1), 0);
	assert_int_equal(proto_oclass_rf(CAIRN_OC_SX), 0);
	assert_int_equal(proto_oclass_rf(CAIRN_OC_RP_2G1), 1);
	assert_int_equal(proto_oclass_rf(CAIRN_OC_RP_3G1), 2);
	assert_int_equal(proto_oclass_rf(CAIRN_OC_UNKNOWN), -1);
	assert_int_equal(proto_oclass_rf(99), -1);
	assert_int_equal(check(props(1, CAIRN_OC_SX, 0, 0, 1), 1, err), -CAIRN_ERR_INVAL);
	/* the message names the class and the rf, and what to use */
	assert_non_null(strstr(err, "SX"));
	assert_non_null(strstr(err, "redundancy factor 1"));
	assert_non_null(strstr(err, "RP_2G1"));
	assert_int_equal(check(props(1, CAIRN_OC_RP_2G1, 0, 0, 1), 1, err), 0);
	assert_int_equal(check(props(1, CAIRN_OC_RP_2G1, 0, 0, 2), 1, err), -CAIRN_ERR_INVAL);
	assert_int_equal(check(props(1, CAIRN_OC_RP_3G1, 0, 0, 2), 1, err), 0);
	assert_int_equal(check(props(1, CAIRN_OC_RP_3G1, 0, 0, 1), 1, err), 0);
}

static void
test_set_mask(void **state)
{
	struct proto_cont_props p = props(0, 0, 3000, 9, 9);
	char err[200];

	(void)state;
	/* set-prop checks only the fields of the mask (the rest are not applied) */
	p.mask = PROTO_CPROP_LABEL;
	assert_int_equal(proto_cont_props_check(&p, 0, err, sizeof(err)), 0);
	assert_int_equal(p.type, 0); /* no defaults filled outside create */
	p.mask = PROTO_CPROP_CHUNK;
	assert_int_equal(proto_cont_props_check(&p, 0, err, sizeof(err)), -CAIRN_ERR_INVAL);
	p.mask = PROTO_CPROP_OCLASS;
	p.oclass = CAIRN_OC_S1;
	assert_int_equal(proto_cont_props_check(&p, 0, err, sizeof(err)), 0);
	/* the immutables are exactly chunk size, checksum and rf */
	assert_int_equal(PROTO_CPROP_IMMUTABLE,
	                 PROTO_CPROP_CHUNK | PROTO_CPROP_CSUM | PROTO_CPROP_RF);
}

typedef int (*enc_fn)(struct cairn_enc *e, const void *p);
typedef int (*dec_fn)(struct cairn_dec *d, void *p);

static uint8_t *
round_trip(enc_fn enc, dec_fn dec, const void *in, void *out, size_t out_size)
{
	struct cairn_enc e;
	struct cairn_dec d;
	uint8_t *buf;
	size_t n, len;
	void *tmp = malloc(out_size);

	cairn_enc_init(&e, 0);
	assert_int_equal(enc(&e, in), 0);
	buf = cairn_enc_steal(&e, &len);
	cairn_dec_init(&d, buf, len);
	assert_int_equal(dec(&d, out), 0);
	assert_int_equal(cairn_dec_done(&d), 0);
	for (n = 0; n < len; n++) {
		cairn_dec_init(&d, buf, n);
		memset(tmp, 0, out_size);
		assert_int_not_equal(dec(&d, tmp) == 0 && cairn_dec_done(&d) == 0, 1);
	}
	free(tmp);
	return buf;
}

static void
test_wire(void **state)
{
	struct obj_in i = {.oid_lo = 3,
	                   .dkey = "d",
	                   .dkey_len = 1,
	                   .akey = "a",
	                   .akey_len = 1,
	                   .cond = PROTO_COND_DKEY_INSERT | PROTO_COND_AKEY_UPDATE,
	                   .csum_type = CAIRN_CSUM_CRC64,
	                   .csum = 0x0123456789abcdefull},
	              i2;
	struct obj_out o = {.size = 4,
	                    .data = "abcd",
	                    .data_len = 4,
	                    .csum_type = CAIRN_CSUM_CRC32C,
	                    .csum = 0xe3069283u},
	               o2;
	struct cont_out c = {.label = "x", .chunk_size = 65536, .csum = 2, .rf = 1}, c2;
	uint8_t *buf;

	(void)state;
	buf = round_trip(obj_in_enc, obj_in_dec, &i, &i2, sizeof(i2));
	assert_int_equal(i2.cond, PROTO_COND_DKEY_INSERT | PROTO_COND_AKEY_UPDATE);
	assert_int_equal(i2.csum_type, CAIRN_CSUM_CRC64);
	assert_true(i2.csum == 0x0123456789abcdefull);
	free(buf);
	buf = round_trip(obj_out_enc, obj_out_dec, &o, &o2, sizeof(o2));
	assert_int_equal(o2.csum_type, CAIRN_CSUM_CRC32C);
	assert_true(o2.csum == 0xe3069283u);
	free(buf);
	buf = round_trip(cont_out_enc, cont_out_dec, &c, &c2, sizeof(c2));
	assert_int_equal(c2.chunk_size, 65536);
	assert_int_equal(c2.csum, 2);
	assert_int_equal(c2.rf, 1);
	free(buf);
	/* the public condition bits are the VOS ones for update and punch */
	assert_int_equal(PROTO_COND_UPDATE_MASK | PROTO_COND_PUNCH, 0x1f);
}

static void
test_engine_csum(void **state)
{
	static const char data[] = "123456789";
	struct obj_in in = {.oid_lo = 7, .csum_type = CAIRN_CSUM_CRC32C, .csum = 0xe3069283u};
	struct obj_out o;
	char buf[9];

	(void)state;
	/* verification of an update */
	assert_int_equal(srv_obj_csum_verify(&in, data, 9), 0);
	in.csum ^= 1;
	assert_int_equal(srv_obj_csum_verify(&in, data, 9), -CAIRN_ERR_CSUM);
	in.csum_type = CAIRN_CSUM_CRC64;
	in.csum = 0x995DC9BBDF1939FAull;
	assert_int_equal(srv_obj_csum_verify(&in, data, 9), 0);
	in.csum_type = 9;
	assert_int_equal(srv_obj_csum_verify(&in, data, 9), -CAIRN_ERR_INVAL);
	in.csum_type = 0; /* off: nothing to check */
	assert_int_equal(srv_obj_csum_verify(&in, data, 9), 0);

	/* a fetch reply carries the checksum of what is sent */
	memset(&o, 0, sizeof(o));
	in.csum_type = CAIRN_CSUM_CRC32C;
	memcpy(buf, data, 9);
	assert_int_equal(srv_obj_csum_reply(&in, &o, buf, 9, NULL), 0);
	assert_int_equal(o.csum_type, CAIRN_CSUM_CRC32C);
	assert_true(o.csum == 0xe3069283u);
	memset(&o, 0, sizeof(o));
	in.csum_type = 0;
	assert_int_equal(srv_obj_csum_reply(&in, &o, buf, 9, NULL), 0);
	assert_int_equal(o.csum_type, 0);
	/* a stored CRC32C is returned as is (not recomputed) for CRC32C, ignored for CRC64 */
	{
		uint32_t stored = 0xdeadbeef;

		in.csum_type = CAIRN_CSUM_CRC32C;
		assert_int_equal(srv_obj_csum_reply(&in, &o, buf, 9, &stored), 0);
		assert_true(o.csum == 0xdeadbeef);
		in.csum_type = CAIRN_CSUM_CRC64;
		assert_int_equal(srv_obj_csum_reply(&in, &o, buf, 9, &stored), 0);
		assert_true(o.csum == 0x995DC9BBDF1939FAull);
	}

	/* the fault point corrupts after the checksum, only for its object */
	struct cairn_fault_cfg cfg = {.prob = 1, .value = 8};

	assert_int_equal(cairn_fault_arm("obj.srv.fetch.corrupt", &cfg), 0);
	in.csum_type = CAIRN_CSUM_CRC32C;
	assert_int_equal(srv_obj_csum_reply(&in, &o, buf, 9, NULL), 0); /* object 7: untouched */
	assert_memory_equal(buf, data, 9);
	in.oid_lo = 8;
	assert_int_equal(srv_obj_csum_reply(&in, &o, buf, 9, NULL), 0);
	assert_true(o.csum == 0xe3069283u);
	assert_memory_not_equal(buf, data, 9);
	assert_true(cairn_crc32c(0, buf, 9) != o.csum);
	cairn_fault_disarm_all();
}

static void
test_cond(void **state)
{
	(void)state;
	assert_int_equal(srv_obj_cond_check(OBJ_RPC_UPDATE, PROTO_COND_UPDATE_MASK), 0);
	assert_int_equal(srv_obj_cond_check(OBJ_RPC_ARRAY_UPDATE, PROTO_COND_DKEY_INSERT), 0);
	assert_int_equal(srv_obj_cond_check(OBJ_RPC_UPDATE, PROTO_COND_PUNCH), -CAIRN_ERR_INVAL);
	assert_int_equal(srv_obj_cond_check(OBJ_RPC_UPDATE, PROTO_COND_DKEY_FETCH),
	                 -CAIRN_ERR_INVAL);
	assert_int_equal(srv_obj_cond_check(OBJ_RPC_FETCH, PROTO_COND_FETCH_MASK), 0);
	assert_int_equal(srv_obj_cond_check(OBJ_RPC_FETCH, PROTO_COND_AKEY_INSERT),
	                 -CAIRN_ERR_INVAL);
	assert_int_equal(srv_obj_cond_check(OBJ_RPC_PUNCH, PROTO_COND_PUNCH), 0);
	assert_int_equal(srv_obj_cond_check(OBJ_RPC_PUNCH, PROTO_COND_DKEY_INSERT),
	                 -CAIRN_ERR_INVAL);
	assert_int_equal(srv_obj_cond_check(OBJ_RPC_LIST_DKEYS, PROTO_COND_PUNCH),
	                 -CAIRN_ERR_INVAL);
	assert_int_equal(srv_obj_cond_check(OBJ_RPC_ARRAY_FETCH, 0), 0);
	assert_int_equal(srv_obj_cond_check(OBJ_RPC_UPDATE, 0x80), -CAIRN_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_defaults), cmocka_unit_test(test_ranges),
	        cmocka_unit_test(test_rf_class), cmocka_unit_test(test_set_mask),
	        cmocka_unit_test(test_wire),     cmocka_unit_test(test_engine_csum),
	        cmocka_unit_test(test_cond),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
