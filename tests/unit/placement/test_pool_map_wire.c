/*
 * Unit tests for src/placement/pool_map_wire.c: round trip (same layouts on both
 * sides), corruption and truncation rejected, well-formed but inconsistent maps
 * rejected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "common/csum.h"
#include "placement/placement.h"

static struct cairn_pool_map *
sample_map(void)
{
	struct cairn_pool_map *m;

	assert_int_equal(cairn_pmap_create(3, &m), 0);
	assert_int_equal(cairn_pmap_add_rank(m, 10, 0, 4, CAIRN_TGT_UP, false), 0);
	assert_int_equal(cairn_pmap_add_rank(m, 2, 1, 3, CAIRN_TGT_UP, false), 0);
	assert_int_equal(cairn_pmap_add_rank(m, 7, 1, 2, CAIRN_TGT_NEW, true), 0);
	assert_int_equal(cairn_pmap_set_target_state(m, 8, CAIRN_TGT_UP), 0); /* NEW->UP */
	assert_int_equal(cairn_pmap_set_target_state(m, 1, CAIRN_TGT_DOWN), 0);
	assert_int_equal(cairn_pmap_set_target_state(m, 5, CAIRN_TGT_DOWN), 0);
	assert_int_equal(cairn_pmap_set_target_state(m, 5, CAIRN_TGT_DOWNOUT), 0);
	return m;
}

static uint8_t *
encode(struct cairn_pool_map *m, size_t *len)
{
	size_t n = cairn_pmap_encoded_size(m), used = 0;
	uint8_t *buf = malloc(n);

	assert_non_null(buf);
	assert_int_equal(cairn_pmap_encode(m, buf, n - 1, &used), -CAIRN_ERR_TRUNC);
	assert_int_equal(cairn_pmap_encode(m, buf, n, &used), 0);
	assert_int_equal(used, n);
	*len = n;
	return buf;
}

/* Map flags travel; unknown flag bits are refused. */
static void
test_flags(void **state)
{
	struct cairn_pool_map *m = sample_map(), *d;
	size_t len;
	uint8_t *buf;

	assert_int_equal(cairn_pmap_set_flags(m, CAIRN_PMAP_F_NO_REBUILD), 0);
	buf = encode(m, &len);
	assert_int_equal(cairn_pmap_decode(buf, len, &d), 0);
	assert_int_equal(cairn_pmap_flags(d), CAIRN_PMAP_F_NO_REBUILD);
	cairn_pmap_destroy(d);
	buf[6] |= 0x80; /* unknown flag, CRC recomputed */
	buf[24] = buf[25] = buf[26] = buf[27] = 0;
	{
		uint32_t crc = cairn_crc32c(0, buf, len);

		buf[24] = (uint8_t)crc;
		buf[25] = (uint8_t)(crc >> 8);
		buf[26] = (uint8_t)(crc >> 16);
		buf[27] = (uint8_t)(crc >> 24);
	}
	assert_int_equal(cairn_pmap_decode(buf, len, &d), -CAIRN_ERR_PROTO);
	free(buf);
	cairn_pmap_destroy(m);
}

static void
test_roundtrip(void **state)
{
	struct cairn_pool_map *m = sample_map(), *d;
	size_t len;
	uint8_t *buf = encode(m, &len);

	assert_int_equal(cairn_pmap_decode(buf, len, &d), 0);
	assert_int_equal(cairn_pmap_version(d), cairn_pmap_version(m));
	assert_int_equal(cairn_pmap_target_count(d), 9);
	assert_int_equal(cairn_pmap_rank_count(d), 3);
	for (uint32_t t = 0; t < 9; t++) {
		struct cairn_pmap_target a, b;

		assert_int_equal(cairn_pmap_target(m, t, &a), 0);
		assert_int_equal(cairn_pmap_target(d, t, &b), 0);
		assert_memory_equal(&a, &b, sizeof(a));
	}
	/* the decoded map places every object exactly like the original (S8 and SX use
	 * all 8 buckets, two of them failed: degraded the same way) */
	for (uint64_t i = 0; i < 2000; i++) {
		for (int oc = CAIRN_OC_S1; oc < CAIRN_OC_MAX; oc++) {
			struct cairn_obj_id oid = { .lo = i * 0x9e3779b97f4a7c15ull, .hi = i };
			struct cairn_pl_layout la, lb;

			assert_int_equal(cairn_obj_id_generate(&oid, CAIRN_OT_MULTI, oc), 0);
			assert_int_equal(cairn_pl_obj_layout(m, oid, &la), 0);
			assert_int_equal(cairn_pl_obj_layout(d, oid, &lb), 0);
			assert_int_equal(la.nr, lb.nr);
			assert_memory_equal(la.shards, lb.shards, la.nr * sizeof(uint32_t));
			cairn_pl_layout_fini(&la);
			cairn_pl_layout_fini(&lb);
		}
	}
	/* and evolves the same way: the remaining NEW target joins at the end */
	assert_int_equal(cairn_pmap_set_target_state(d, 7, CAIRN_TGT_UP), 0);
	assert_int_equal(cairn_pmap_version(d), cairn_pmap_version(m) + 1);
	free(buf);
	cairn_pmap_destroy(m);
	cairn_pmap_destroy(d);
}

static void
test_corruption(void **state)
{
	struct cairn_pool_map *m = sample_map(), *d;
	size_t len;
	uint8_t *buf = encode(m, &len), *c = malloc(len + 4);

	assert_non_null(c);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			int rc;

			memcpy(c, buf, len);
			c[i] ^= (uint8_t)(1u << bit);
			rc = cairn_pmap_decode(c, len, &d);
			assert_true(rc == -CAIRN_ERR_CSUM || rc == -CAIRN_ERR_PROTO ||
				    rc == -CAIRN_ERR_VERSION);
		}
	}
	for (size_t n = 0; n < len; n++)
		assert_int_equal(cairn_pmap_decode(buf, n, &d), -CAIRN_ERR_PROTO);
	memcpy(c, buf, len);
	memset(c + len, 0, 4);
	assert_int_equal(cairn_pmap_decode(c, len + 4, &d), -CAIRN_ERR_PROTO);
	assert_int_equal(cairn_pmap_decode(NULL, len, &d), -CAIRN_ERR_INVAL);
	free(c);
	free(buf);
	cairn_pmap_destroy(m);
}

/* Overwrite a u32 and fix the CRC, so only the semantic checks can object. */
static int
decode_patched(const uint8_t *buf, size_t len, size_t off, uint32_t v, size_t width)
{
	struct cairn_pool_map *d = NULL;
	uint8_t *c = malloc(len);
	uint32_t crc;
	int rc;

	assert_non_null(c);
	memcpy(c, buf, len);
	for (size_t i = 0; i < width; i++)
		c[off + i] = (uint8_t)(v >> (8 * i));
	memset(c + 24, 0, 4);
	crc = cairn_crc32c(0, c, len);
	for (int i = 0; i < 4; i++)
		c[24 + i] = (uint8_t)(crc >> (8 * i));
	rc = cairn_pmap_decode(c, len, &d);
	if (rc == 0)
		cairn_pmap_destroy(d);
	free(c);
	return rc;
}

static void
test_inconsistent(void **state)
{
	struct cairn_pool_map *m = sample_map();
	size_t len;
	uint8_t *buf = encode(m, &len);
	const size_t ranks = CAIRN_PMAP_WIRE_HDR_SIZE, states = ranks + 3 * 12,
		     buckets = states + 9;

	/* the patch helper itself yields a valid map when nothing changes */
	assert_int_equal(decode_patched(buf, len, ranks, 10, 4), 0);
	/* duplicate rank */
	assert_int_equal(decode_patched(buf, len, ranks + 12, 10, 4), -CAIRN_ERR_PROTO);
	/* rank with 0 targets; target counts not adding up */
	assert_int_equal(decode_patched(buf, len, ranks + 8, 0, 4), -CAIRN_ERR_PROTO);
	assert_int_equal(decode_patched(buf, len, ranks + 8, 5, 4), -CAIRN_ERR_PROTO);
	/* unknown state */
	assert_int_equal(decode_patched(buf, len, states, 9, 1), -CAIRN_ERR_PROTO);
	/* a placed target turned NEW (bucket set no longer matches) */
	assert_int_equal(decode_patched(buf, len, states, CAIRN_TGT_NEW, 1), -CAIRN_ERR_PROTO);
	/* bucket out of range, duplicate bucket */
	assert_int_equal(decode_patched(buf, len, buckets, 99, 4), -CAIRN_ERR_PROTO);
	assert_int_equal(decode_patched(buf, len, buckets, buf[buckets + 4], 4),
			 -CAIRN_ERR_PROTO);
	/* header: version 0, newer format, huge counts */
	assert_int_equal(decode_patched(buf, len, 8, 0, 4), -CAIRN_ERR_PROTO);
	assert_int_equal(decode_patched(buf, len, 4, 2, 2), -CAIRN_ERR_VERSION);
	assert_int_equal(decode_patched(buf, len, 16, 0xffffffffu, 4), -CAIRN_ERR_PROTO);
	free(buf);
	cairn_pmap_destroy(m);
}

/* The encoding of sample_map(), computed independently from the format description
 * (a Python script following src/placement/README.md): pins the wire format. */
static const uint8_t g_golden[] = {
	0x43, 0x52, 0x50, 0x4d, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
	0x03, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
	0x87, 0xdd, 0x08, 0xca, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x04, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x03, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x03,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
	0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00,
	0x00, 0x06, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
};

static void
test_golden_bytes(void **state)
{
	struct cairn_pool_map *m = sample_map(), *d;
	size_t len;
	uint8_t *buf = encode(m, &len);

	assert_int_equal(len, sizeof(g_golden));
	assert_memory_equal(buf, g_golden, len);
	assert_int_equal(cairn_pmap_decode(g_golden, sizeof(g_golden), &d), 0);
	assert_int_equal(cairn_pmap_version(d), 8);
	free(buf);
	cairn_pmap_destroy(m);
	cairn_pmap_destroy(d);
}

static void
test_empty_map(void **state)
{
	struct cairn_pool_map *m, *d;
	size_t len;
	uint8_t *buf;

	assert_int_equal(cairn_pmap_create(1, &m), 0);
	buf = encode(m, &len);
	assert_int_equal(len, CAIRN_PMAP_WIRE_HDR_SIZE);
	assert_int_equal(cairn_pmap_decode(buf, len, &d), 0);
	assert_int_equal(cairn_pmap_target_count(d), 0);
	assert_int_equal(cairn_pmap_add_rank(d, 1, 0, 2, CAIRN_TGT_UP, true), 0);
	free(buf);
	cairn_pmap_destroy(m);
	cairn_pmap_destroy(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_corruption),
		cmocka_unit_test(test_inconsistent),
		cmocka_unit_test(test_golden_bytes),
		cmocka_unit_test(test_empty_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
