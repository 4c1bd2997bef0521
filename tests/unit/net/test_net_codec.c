/*
 * Codec and wire header: round trips, truncation at every byte, oversized lengths,
 * sticky errors, CRC and magic checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "net/codec.h"
#include "net/wire.h"

static void
encode_sample(struct cairn_enc *e)
{
	uint8_t uuid[16];
	struct iovec iov[2] = {{(void *)"abc", 3}, {(void *)"", 0}};
	struct cairn_bulk_desc bd = {.rank = 7, .tag = 3, .flags = 1, .id = 99, .len = 1u << 24};
	unsigned i;

	for (i = 0; i < 16; i++)
		uuid[i] = (uint8_t)(i * 7);
	cairn_enc_u8(e, 0xab);
	cairn_enc_u16(e, 0xbeef);
	cairn_enc_u32(e, 0xdeadbeef);
	cairn_enc_u64(e, 0x0123456789abcdefull);
	cairn_enc_i32(e, -5);
	cairn_enc_i64(e, INT64_MIN);
	cairn_enc_uuid(e, uuid);
	cairn_enc_str(e, "hello");
	cairn_enc_str(e, NULL);
	cairn_enc_bytes(e, "xyz\0w", 5);
	cairn_enc_iovs(e, iov, 2);
	cairn_enc_array(e, 3);
	for (i = 0; i < 3; i++)
		cairn_enc_u32(e, i * 10);
	cairn_enc_bulk(e, &bd);
}

/* Decode the sample; returns the decoder rc (values checked only when 0). */
static int
decode_sample(const uint8_t *buf, size_t len, bool check)
{
	struct cairn_dec d;
	uint8_t u8, uuid[16];
	uint16_t u16;
	uint32_t u32, n, i, blen;
	uint64_t u64;
	int32_t i32;
	int64_t i64;
	const char *s1, *s2;
	const void *b;
	struct iovec iov[4];
	unsigned cnt;
	struct cairn_bulk_desc bd;

	cairn_dec_init(&d, buf, len);
	cairn_dec_u8(&d, &u8);
	cairn_dec_u16(&d, &u16);
	cairn_dec_u32(&d, &u32);
	cairn_dec_u64(&d, &u64);
	cairn_dec_i32(&d, &i32);
	cairn_dec_i64(&d, &i64);
	cairn_dec_uuid(&d, uuid);
	cairn_dec_str(&d, &s1, 64);
	cairn_dec_str(&d, &s2, 64);
	cairn_dec_bytes(&d, &b, &blen, 64);
	cairn_dec_iovs(&d, iov, 4, &cnt);
	cairn_dec_array(&d, &n, 4, 16);
	for (i = 0; i < n; i++) {
		uint32_t v;

		cairn_dec_u32(&d, &v);
		if (check && d.rc == 0)
			assert_int_equal(v, i * 10);
	}
	cairn_dec_bulk(&d, &bd);
	if (cairn_dec_done(&d))
		return d.rc;
	if (check) {
		assert_int_equal(u8, 0xab);
		assert_int_equal(u16, 0xbeef);
		assert_int_equal(u32, 0xdeadbeef);
		assert_true(u64 == 0x0123456789abcdefull);
		assert_int_equal(i32, -5);
		assert_true(i64 == INT64_MIN);
		assert_int_equal(uuid[15], 15 * 7);
		assert_string_equal(s1, "hello");
		assert_string_equal(s2, "");
		assert_int_equal(blen, 5);
		assert_memory_equal(b, "xyz\0w", 5);
		assert_int_equal(cnt, 2);
		assert_int_equal(iov[0].iov_len, 3);
		assert_memory_equal(iov[0].iov_base, "abc", 3);
		assert_int_equal(iov[1].iov_len, 0);
		assert_int_equal(n, 3);
		assert_int_equal(bd.rank, 7);
		assert_int_equal(bd.tag, 3);
		assert_int_equal(bd.flags, 1);
		assert_true(bd.id == 99);
		assert_true(bd.len == 1u << 24);
	}
	return 0;
}

static void
test_round_trip(void **state)
{
	struct cairn_enc e;
	size_t len;
	uint8_t *buf;

	cairn_enc_init(&e, 0);
	encode_sample(&e);
	assert_int_equal(cairn_enc_rc(&e), 0);
	buf = cairn_enc_steal(&e, &len);
	/* Little-endian on the wire, whatever the host. */
	assert_int_equal(buf[0], 0xab);
	assert_int_equal(buf[1], 0xef);
	assert_int_equal(buf[2], 0xbe);
	assert_int_equal(buf[3], 0xef);
	assert_int_equal(buf[6], 0xde);
	assert_int_equal(decode_sample(buf, len, true), 0);
	free(buf);
	cairn_enc_fini(&e);
}

static void
test_truncation(void **state)
{
	struct cairn_enc e;
	size_t len, cut;
	uint8_t *buf, *copy;

	cairn_enc_init(&e, 0);
	encode_sample(&e);
	buf = cairn_enc_steal(&e, &len);
	/* Every strict prefix must fail cleanly (exact-size copies so ASan sees overreads). */
	for (cut = 0; cut < len; cut++) {
		copy = malloc(cut ? cut : 1);
		memcpy(copy, buf, cut);
		assert_int_equal(decode_sample(copy, cut, false), -CAIRN_ERR_PROTO);
		free(copy);
	}
	/* Trailing garbage is an error too. */
	copy = malloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = 0;
	assert_int_equal(decode_sample(copy, len + 1, false), -CAIRN_ERR_PROTO);
	free(copy);
	free(buf);
}

static void
test_oversize(void **state)
{
	uint8_t buf[64];
	struct cairn_dec d;
	const void *p;
	const char *s;
	uint32_t len, n;
	struct cairn_enc e;

	/* A length larger than the data. */
	cairn_put_le32(buf, 1000);
	cairn_dec_init(&d, buf, 8);
	cairn_dec_bytes(&d, &p, &len, 0);
	assert_int_equal(d.rc, -CAIRN_ERR_PROTO);
	assert_null(p);
	/* A length larger than the caller's maximum. */
	cairn_put_le32(buf, 10);
	cairn_dec_init(&d, buf, sizeof(buf));
	cairn_dec_bytes(&d, &p, &len, 4);
	assert_int_equal(d.rc, -CAIRN_ERR_OVERFLOW);
	/* UINT32_MAX string length. */
	cairn_put_le32(buf, UINT32_MAX);
	cairn_dec_init(&d, buf, sizeof(buf));
	cairn_dec_str(&d, &s, 0);
	assert_int_not_equal(d.rc, 0);
	/* Array count that cannot fit in the message: rejected before allocation. */
	cairn_put_le32(buf, 0x40000000);
	cairn_dec_init(&d, buf, sizeof(buf));
	cairn_dec_array(&d, &n, 4, 0);
	assert_int_equal(d.rc, -CAIRN_ERR_PROTO);
	assert_int_equal(n, 0);
	/* Strings: missing NUL, embedded NUL. */
	cairn_put_le32(buf, 3);
	memcpy(buf + 4, "abcd", 4);
	cairn_dec_init(&d, buf, 8);
	cairn_dec_str(&d, &s, 0);
	assert_int_equal(d.rc, -CAIRN_ERR_PROTO);
	memcpy(buf + 4, "a\0c\0", 4);
	cairn_dec_init(&d, buf, 8);
	cairn_dec_str(&d, &s, 0);
	assert_int_equal(d.rc, -CAIRN_ERR_PROTO);
	/* Encoder limits: fixed buffer and max size; errors are sticky. */
	cairn_enc_init_fixed(&e, buf, 6);
	cairn_enc_u32(&e, 1);
	cairn_enc_u32(&e, 2);
	assert_int_equal(cairn_enc_rc(&e), -CAIRN_ERR_OVERFLOW);
	cairn_enc_u8(&e, 1);
	assert_int_equal(e.len, 4);
	cairn_enc_init(&e, 16);
	cairn_enc_bytes(&e, buf, 13);
	assert_int_equal(cairn_enc_rc(&e), -CAIRN_ERR_OVERFLOW);
	cairn_enc_fini(&e);
}

static void
test_sticky_decoder(void **state)
{
	uint8_t buf[4] = {1, 2, 3, 4};
	struct cairn_dec d;
	uint64_t v = 5;
	uint32_t w = 7;

	cairn_dec_init(&d, buf, sizeof(buf));
	cairn_dec_u64(&d, &v);
	assert_int_equal(d.rc, -CAIRN_ERR_PROTO);
	assert_true(v == 0);
	cairn_dec_u32(&d, &w); /* would fit, but the error sticks */
	assert_int_equal(w, 0);
	assert_int_equal(cairn_dec_done(&d), -CAIRN_ERR_PROTO);
}

static void
test_header(void **state)
{
	struct cairn_net_hdr h = {.type = CAIRN_NET_MSG_REQ,
	                          .flags = CAIRN_NET_F_ONEWAY,
	                          .opcode = 0x1234501,
	                          .status = -1003,
	                          .rpc_id = 1ull << 40,
	                          .aux = 5,
	                          .aux2 = 6,
	                          .body_len = 100};
	struct cairn_net_hdr o;
	uint8_t w[CAIRN_NET_HDR_SIZE], bad[CAIRN_NET_HDR_SIZE];
	unsigned i;

	cairn_net_hdr_encode(&h, w);
	assert_int_equal(cairn_net_hdr_decode(w, 1000, &o), 0);
	assert_int_equal(o.type, h.type);
	assert_int_equal(o.flags, h.flags);
	assert_int_equal(o.opcode, h.opcode);
	assert_int_equal(o.status, h.status);
	assert_true(o.rpc_id == h.rpc_id && o.aux == h.aux && o.aux2 == h.aux2);
	assert_int_equal(o.body_len, h.body_len);
	assert_int_equal(cairn_get_le32(w), CAIRN_NET_MAGIC);
	assert_memory_equal(w, "CRN1", 4);
	/* Body over the limit. */
	assert_int_equal(cairn_net_hdr_decode(w, 99, &o), -CAIRN_ERR_OVERFLOW);
	/* Wrong magic, wrong version, any flipped bit. */
	memcpy(bad, w, sizeof(w));
	bad[0] ^= 1;
	assert_int_equal(cairn_net_hdr_decode(bad, 1000, &o), -CAIRN_ERR_PROTO);
	memcpy(bad, w, sizeof(w));
	bad[4] = 9;
	assert_int_equal(cairn_net_hdr_decode(bad, 1000, &o), -CAIRN_ERR_VERSION);
	for (i = 5 * 8; i < CAIRN_NET_HDR_SIZE * 8; i++) {
		memcpy(bad, w, sizeof(w));
		bad[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_not_equal(cairn_net_hdr_decode(bad, UINT32_MAX, &o), 0);
	}
	/* Unknown type and flags are rejected even with a valid CRC. */
	h.type = 77;
	cairn_net_hdr_encode(&h, w);
	assert_int_equal(cairn_net_hdr_decode(w, 1000, &o), -CAIRN_ERR_PROTO);
	h.type = CAIRN_NET_MSG_REPLY;
	h.flags = 0x8000;
	cairn_net_hdr_encode(&h, w);
	assert_int_equal(cairn_net_hdr_decode(w, 1000, &o), -CAIRN_ERR_PROTO);
	/* CRC32C known answer ("123456789" -> 0xe3069283). */
	assert_int_equal(cairn_net_crc32c("123456789", 9), 0xe3069283u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_truncation),
	        cmocka_unit_test(test_oversize),   cmocka_unit_test(test_sticky_decoder),
	        cmocka_unit_test(test_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
