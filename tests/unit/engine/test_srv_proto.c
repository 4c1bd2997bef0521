/*
 * Unit tests of the pool/cont/obj wire codecs (src/include/engine/proto.h): every
 * message round-trips, and every truncation of an encoded message is rejected (never
 * read past the end), as are oversized fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cairn/errno.h>

#include "engine/proto.h"

typedef int (*enc_fn)(struct cairn_enc *e, const void *p);
typedef int (*dec_fn)(struct cairn_dec *d, void *p);

/* Encode, decode back into out, and check every strict prefix fails. */
static uint8_t *
round_trip(enc_fn enc, dec_fn dec, const void *in, void *out, size_t out_size, size_t *len)
{
	struct cairn_enc e;
	struct cairn_dec d;
	uint8_t *buf;
	size_t n;
	void *tmp = malloc(out_size);

	cairn_enc_init(&e, 0);
	assert_int_equal(enc(&e, in), 0);
	buf = cairn_enc_steal(&e, len);
	cairn_dec_init(&d, buf, *len);
	assert_int_equal(dec(&d, out), 0);
	assert_int_equal(cairn_dec_done(&d), 0);
	for (n = 0; n < *len; n++) {
		cairn_dec_init(&d, buf, n);
		memset(tmp, 0, out_size);
		assert_int_not_equal(dec(&d, tmp) == 0 && cairn_dec_done(&d) == 0, 1);
	}
	free(tmp);
	return buf; /* out points into it */
}

static void
test_pool(void **state)
{
	struct pool_out o = {.hdl = 77, .map_version = 3, .nr_targets = 2, .total = 1 << 20,
	                     .free = 1000, .label = "demo", .map = "MAPBYTES", .map_len = 8,
	                     .uris = "0 tcp://127.0.0.1:1000\n1 tcp://127.0.0.1:2000\n"};
	struct pool_in i = {.pool = "demo", .hdl = 5}, i2;
	struct pool_out o2;
	uint8_t *buf;
	size_t len;

	memset(o.uuid, 0xab, 16);
	memset(i.uuid, 0xcd, 16);
	buf = round_trip(pool_in_enc, pool_in_dec, &i, &i2, sizeof(i2), &len);
	assert_string_equal(i2.pool, "demo");
	assert_int_equal(i2.hdl, 5);
	assert_memory_equal(i2.uuid, i.uuid, 16);
	free(buf);
	buf = round_trip(pool_out_enc, pool_out_dec, &o, &o2, sizeof(o2), &len);
	assert_int_equal(o2.hdl, 77);
	assert_int_equal(o2.map_version, 3);
	assert_int_equal(o2.total, 1 << 20);
	assert_string_equal(o2.label, "demo");
	assert_int_equal(o2.map_len, 8);
	assert_memory_equal(o2.map, "MAPBYTES", 8);
	assert_string_equal(o2.uris, o.uris);
	free(buf);
	/* no URI list (an engine without a membership table) decodes as "" */
	o.uris = NULL;
	buf = round_trip(pool_out_enc, pool_out_dec, &o, &o2, sizeof(o2), &len);
	assert_string_equal(o2.uris, "");
	free(buf);
}

/* Engine-to-engine pool target messages (srv_pool_tgt.c). */
static void
test_pool_tgt(void **state)
{
	struct pool_tgt_in i = {.size = 64ull << 20, .map_version = 9, .svc_rank = 3,
	                        .op = PROTO_TGT_SNAP_CREATE, .epoch = 123456789ull}, i2;
	struct pool_tgt_out o = {.targets = 4, .shards = 4, .total = 1ull << 30,
	                         .free = 12345}, o2;
	uint8_t *buf;
	size_t len;

	memset(i.uuid, 0x5a, 16);
	memset(i.cont, 0xa5, 16);
	buf = round_trip(pool_tgt_in_enc, pool_tgt_in_dec, &i, &i2, sizeof(i2), &len);
	assert_memory_equal(i2.uuid, i.uuid, 16);
	assert_memory_equal(i2.cont, i.cont, 16);
	assert_int_equal(i2.size, 64ull << 20);
	assert_int_equal(i2.map_version, 9);
	assert_int_equal(i2.svc_rank, 3);
	assert_int_equal(i2.op, PROTO_TGT_SNAP_CREATE);
	assert_int_equal(i2.epoch, 123456789ull);
	free(buf);
	buf = round_trip(pool_tgt_out_enc, pool_tgt_out_dec, &o, &o2, sizeof(o2), &len);
	assert_int_equal(o2.targets, 4);
	assert_int_equal(o2.shards, 4);
	assert_int_equal(o2.total, 1ull << 30);
	assert_int_equal(o2.free, 12345);
	free(buf);
}

static void
test_cont(void **state)
{
	struct cont_in i = {.pool_hdl = 9, .cont = "c1", .label = "lbl", .type = 1, .oclass = 5,
	                    .flags = PROTO_CONT_FORCE, .cont_hdl = 11, .count = 1024}, i2;
	struct cont_out o = {.hdl = 3, .label = "c1", .type = 1, .oclass = 5, .nr_open = 2,
	                     .ctime = 99, .oid_next = 2048, .list = "a b\n"}, o2;
	uint8_t *buf;
	size_t len;

	buf = round_trip(cont_in_enc, cont_in_dec, &i, &i2, sizeof(i2), &len);
	assert_string_equal(i2.cont, "c1");
	assert_string_equal(i2.label, "lbl");
	assert_int_equal(i2.count, 1024);
	assert_int_equal(i2.flags, PROTO_CONT_FORCE);
	free(buf);
	buf = round_trip(cont_out_enc, cont_out_dec, &o, &o2, sizeof(o2), &len);
	assert_int_equal(o2.oid_next, 2048);
	assert_string_equal(o2.list, "a b\n");
	free(buf);
}

static void
test_obj(void **state)
{
	struct proto_list_pos pos = {.skip = 4, .max_keys = 8};
	struct obj_in i = {.map_version = 1, .oid_hi = 1ull << 48, .oid_lo = 42, .dkey = "dk",
	                   .dkey_len = 2, .akey = "data", .akey_len = 4, .data = "hello",
	                   .data_len = 5, .bulk_len = 0, .buf_size = 100, .anchor = &pos,
	                   .anchor_len = sizeof(pos)}, i2;
	struct obj_out o = {.flags = PROTO_OBJ_EOF, .nr_keys = 1, .size = 5, .data = "hello",
	                    .data_len = 5, .keys = "\x02\0\0\0dk", .keys_len = 6}, o2;
	struct cairn_enc e;
	struct cairn_dec d;
	uint8_t *buf, big[PROTO_INLINE_MAX + 1];
	size_t len;

	buf = round_trip(obj_in_enc, obj_in_dec, &i, &i2, sizeof(i2), &len);
	assert_int_equal(i2.oid_lo, 42);
	assert_int_equal(i2.dkey_len, 2);
	assert_memory_equal(i2.data, "hello", 5);
	assert_int_equal(i2.anchor_len, sizeof(pos));
	free(buf);
	buf = round_trip(obj_out_enc, obj_out_dec, &o, &o2, sizeof(o2), &len);
	assert_int_equal(o2.flags, PROTO_OBJ_EOF);
	assert_int_equal(o2.keys_len, 6);
	free(buf);

	/* inline data above the threshold is refused by the decoder */
	memset(big, 'x', sizeof(big));
	i.data = big;
	i.data_len = sizeof(big);
	cairn_enc_init(&e, 0);
	assert_int_equal(obj_in_enc(&e, &i), 0);
	buf = cairn_enc_steal(&e, &len);
	cairn_dec_init(&d, buf, len);
	assert_int_not_equal(obj_in_dec(&d, &i2), 0);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_pool),
	        cmocka_unit_test(test_pool_tgt),
	        cmocka_unit_test(test_cont),
	        cmocka_unit_test(test_obj),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
