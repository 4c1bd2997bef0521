/*
 * Unit tests of the per-target space map (srv_tgt_space.c): first-fit allocation with
 * 1 MiB units, free and coalescing, the NOSPACE message, encode/decode round trip, the
 * choice between the two copies (a crash between them, a torn or corrupt copy), and the
 * decoder refusing bad magic, CRC, overlapping, misaligned, out-of-range and duplicated
 * extents. A seeded random alloc/free run checks the invariants (print the seed on
 * failure; CAIRN_TEST_SEED replays it).
 */
#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <cairn/errno.h>

#include "common/csum.h"
#include "srv_tgt_space.h"

#define MiB (1ull << 20)

static struct srv_tgt_space g_sp, g_sp2;
static uint8_t g_copy[2][SRV_TGT_COPY_SIZE];

static struct cairn_uuid
pool_id(unsigned n)
{
	struct cairn_uuid u;

	memset(&u, 0, sizeof(u));
	u.b[0] = 0xa0;
	u.b[15] = (uint8_t)n;
	u.b[14] = (uint8_t)(n >> 8);
	return u;
}

static void
fresh(uint64_t dev_size)
{
	struct cairn_uuid s = pool_id(900), e = pool_id(901);

	assert_int_equal(srv_tgt_space_init(&g_sp, 3, &s, &e, dev_size, 1234), 0);
}

static void
test_alloc_free(void **state)
{
	struct srv_tgt_extent x;
	struct srv_tgt_usage u;
	struct cairn_uuid a = pool_id(1), b = pool_id(2), c = pool_id(3), d = pool_id(4);
	char err[256];

	(void)state;
	assert_int_equal(srv_tgt_space_init(&g_sp, 0, NULL, NULL, MiB - 1, 0), -CAIRN_ERR_INVAL);
	/* 1 MiB map + 10 MiB + a partial MiB that is never handed out */
	fresh(11 * MiB + 4096);
	srv_tgt_space_usage(&g_sp, &u);
	assert_int_equal(u.capacity, 10 * MiB);
	assert_int_equal(u.free, 10 * MiB);
	assert_int_equal(u.largest_free, 10 * MiB);

	/* rounded up to 1 MiB, first fit from the end of the map */
	assert_int_equal(srv_tgt_space_alloc(&g_sp, &a, 1, SRV_TGT_EXT_ACTIVE, &x, err,
					     sizeof(err)), 0);
	assert_int_equal(x.offset, MiB);
	assert_int_equal(x.size, MiB);
	assert_int_equal(srv_tgt_space_alloc(&g_sp, &b, 3 * MiB, SRV_TGT_EXT_CREATING, &x, err,
					     sizeof(err)), 0);
	assert_int_equal(x.offset, 2 * MiB);
	assert_int_equal(srv_tgt_space_alloc(&g_sp, &c, 2 * MiB, SRV_TGT_EXT_ACTIVE, &x, err,
					     sizeof(err)), 0);
	assert_int_equal(x.offset, 5 * MiB);
	/* duplicates, bad arguments */
	assert_int_equal(srv_tgt_space_alloc(&g_sp, &a, MiB, SRV_TGT_EXT_ACTIVE, &x, err,
					     sizeof(err)), -CAIRN_ERR_EXIST);
	assert_int_equal(srv_tgt_space_alloc(&g_sp, &d, 0, SRV_TGT_EXT_ACTIVE, &x, err,
					     sizeof(err)), -CAIRN_ERR_INVAL);
	assert_int_equal(srv_tgt_space_alloc(&g_sp, &d, MiB, 7, &x, err, sizeof(err)),
			 -CAIRN_ERR_INVAL);
	srv_tgt_space_usage(&g_sp, &u);
	assert_int_equal(u.used, 6 * MiB);
	assert_int_equal(u.free, 4 * MiB);
	assert_int_equal(u.largest_free, 4 * MiB);

	/* 5 MiB does not fit: the message names the target, what was asked and is free */
	assert_int_equal(srv_tgt_space_alloc(&g_sp, &d, 5 * MiB, SRV_TGT_EXT_ACTIVE, &x, err,
					     sizeof(err)), -CAIRN_ERR_NOSPACE);
	assert_non_null(strstr(err, "target 3"));
	assert_non_null(strstr(err, "5 MiB asked"));
	assert_non_null(strstr(err, "4 MiB free of 10 MiB"));
	assert_non_null(strstr(err, "largest free extent 4 MiB"));
	assert_non_null(strstr(err, "not enough space"));
	assert_int_equal(srv_tgt_space_check(&g_sp, 4 * MiB, err, sizeof(err)), 0);

	/* free a then b: they coalesce into one 4 MiB hole at the start */
	assert_int_equal(srv_tgt_space_free(&g_sp, &a), 0);
	assert_int_equal(srv_tgt_space_free(&g_sp, &a), -CAIRN_ERR_NONEXIST);
	srv_tgt_space_usage(&g_sp, &u);
	assert_int_equal(u.largest_free, 4 * MiB);
	assert_int_equal(srv_tgt_space_free(&g_sp, &b), 0);
	srv_tgt_space_usage(&g_sp, &u);
	assert_int_equal(u.free, 8 * MiB);
	assert_int_equal(u.largest_free, 4 * MiB); /* [1,5) and [7,11) */
	assert_int_equal(srv_tgt_space_alloc(&g_sp, &d, 4 * MiB, SRV_TGT_EXT_ACTIVE, &x, err,
					     sizeof(err)), 0);
	assert_int_equal(x.offset, MiB);
	/* 8 MiB free in two holes is still NOSPACE for 5 MiB */
	assert_int_equal(srv_tgt_space_free(&g_sp, &d), 0);
	assert_int_equal(srv_tgt_space_check(&g_sp, 5 * MiB, err, sizeof(err)),
			 -CAIRN_ERR_NOSPACE);
	assert_non_null(strstr(err, "8 MiB free"));
	assert_int_equal(srv_tgt_space_free(&g_sp, &c), 0);
	assert_int_equal(srv_tgt_space_check(&g_sp, 10 * MiB, err, sizeof(err)), 0);
	assert_int_equal(srv_tgt_space_check(&g_sp, 10 * MiB + 1, err, sizeof(err)),
			 -CAIRN_ERR_NOSPACE);
	assert_int_equal(srv_tgt_space_check(&g_sp, UINT64_MAX, err, sizeof(err)),
			 -CAIRN_ERR_NOSPACE);
}

/* Write the map to copy (seq = current + 1) the way the engine does. */
static void
persist(struct srv_tgt_space *sp)
{
	unsigned next = sp->cur_copy ^ 1;
	int n;

	memset(g_copy[next], 0xee, sizeof(g_copy[next])); /* stale bytes past the end */
	n = srv_tgt_space_encode(sp, sp->seq + 1, g_copy[next], sizeof(g_copy[next]));
	assert_true(n > 0 && n % SRV_TGT_IO_ALIGN == 0);
	sp->seq++;
	sp->cur_copy = next;
}

static int
load(bool *one_bad, char *why, size_t len)
{
	return srv_tgt_space_load(g_copy[0], sizeof(g_copy[0]), g_copy[1], sizeof(g_copy[1]),
				  &g_sp2, one_bad, why, len);
}

static void
test_copies(void **state)
{
	struct cairn_uuid a = pool_id(1), b = pool_id(2);
	struct srv_tgt_extent x;
	char err[256], why[400];
	bool bad;

	(void)state;
	memset(g_copy, 0, sizeof(g_copy));
	/* nothing written: NONEXIST */
	assert_int_equal(load(&bad, why, sizeof(why)), -CAIRN_ERR_NONEXIST);
	fresh(64 * MiB);
	persist(&g_sp); /* what format writes: copy 0, seq 1 */
	assert_int_equal(g_sp.cur_copy, 0);
	assert_int_equal(load(&bad, why, sizeof(why)), 0);
	assert_false(bad);
	assert_int_equal(g_sp2.cur_copy, 0);
	assert_int_equal(g_sp2.seq, 1);
	assert_int_equal(g_sp2.tgt_idx, 3);
	assert_int_equal(g_sp2.dev_size, 64 * MiB);
	assert_int_equal(g_sp2.format_time, 1234);
	assert_memory_equal(&g_sp2.engine_uuid, &g_sp.engine_uuid, 16);

	assert_int_equal(srv_tgt_space_alloc(&g_sp, &a, 8 * MiB, SRV_TGT_EXT_CREATING, &x, err,
					     sizeof(err)), 0);
	persist(&g_sp); /* copy 1, seq 2 */
	srv_tgt_space_find(&g_sp, &a)->state = SRV_TGT_EXT_ACTIVE;
	assert_int_equal(srv_tgt_space_alloc(&g_sp, &b, 4 * MiB, SRV_TGT_EXT_ACTIVE, &x, err,
					     sizeof(err)), 0);
	persist(&g_sp); /* copy 0, seq 3 */
	assert_int_equal(load(&bad, why, sizeof(why)), 0);
	assert_int_equal(g_sp2.seq, 3);
	assert_int_equal(g_sp2.cur_copy, 0);
	assert_int_equal(g_sp2.nr, 2);
	assert_int_equal(srv_tgt_space_find(&g_sp2, &a)->state, SRV_TGT_EXT_ACTIVE);
	assert_int_equal(srv_tgt_space_find(&g_sp2, &b)->offset, 9 * MiB);

	/* a crash in the middle of writing seq 4 to copy 1: torn (first half new, the
	 * rest old) -> copy 0 (seq 3) is used and copy 1 reported damaged */
	{
		uint8_t old[SRV_TGT_COPY_SIZE];
		struct srv_tgt_space saved = g_sp;

		memcpy(old, g_copy[1], sizeof(old));
		assert_int_equal(srv_tgt_space_free(&g_sp, &a), 0);
		persist(&g_sp);
		memcpy(g_copy[1] + 64, old + 64, sizeof(old) - 64);
		assert_int_equal(load(&bad, why, sizeof(why)), 0);
		assert_true(bad);
		assert_non_null(strstr(why, "copy 1"));
		assert_int_equal(g_sp2.seq, 3);
		assert_int_equal(g_sp2.cur_copy, 0);
		assert_int_equal(g_sp2.nr, 2);
		/* the next update overwrites the damaged copy and wins */
		g_sp = g_sp2;
		persist(&g_sp);
		assert_int_equal(g_sp.cur_copy, 1);
		assert_int_equal(load(&bad, why, sizeof(why)), 0);
		assert_false(bad);
		assert_int_equal(g_sp2.seq, 4);
		(void)saved;
	}

	/* a crash before the new copy's write reached the device: the old one stays */
	assert_int_equal(load(&bad, why, sizeof(why)), 0);
	assert_int_equal(g_sp2.seq, 4);

	/* newest copy corrupt (a flipped bit): the older one is used */
	g_copy[1][200] ^= 1;
	assert_int_equal(load(&bad, why, sizeof(why)), 0);
	assert_true(bad);
	assert_int_equal(g_sp2.seq, 3);
	assert_non_null(strstr(why, "CRC"));
	/* both corrupt: CORRUPT with both reasons */
	memcpy(g_copy[0], "garbage!", 8);
	assert_int_equal(load(&bad, why, sizeof(why)), -CAIRN_ERR_CORRUPT);
	assert_non_null(strstr(why, "copy 0: bad magic"));
	assert_non_null(strstr(why, "copy 1: CRC"));
}

/* Encode g_sp, let fix() damage the extent table, re-CRC, and expect decode to fail. */
static void
expect_bad(void (*fix)(struct srv_tgt_map_hdr_df *h, struct srv_tgt_extent_df *e),
	   const char *what)
{
	struct srv_tgt_map_hdr_df *h = (void *)g_copy[0];
	struct srv_tgt_extent_df *e = (void *)(h + 1);
	char why[256];
	int n;

	n = srv_tgt_space_encode(&g_sp, 5, g_copy[0], sizeof(g_copy[0]));
	assert_true(n > 0);
	assert_int_equal(srv_tgt_space_decode(g_copy[0], (size_t)n, &g_sp2, why, sizeof(why)),
			 0);
	fix(h, e);
	h->crc = 0;
	h->crc = htole32(cairn_crc32c(cairn_crc32c(0, h, sizeof(*h)), e,
				      le32toh(h->nr_extents) <= SRV_TGT_MAX_EXTENTS ?
					      le32toh(h->nr_extents) * sizeof(*e) : 0));
	assert_int_equal(srv_tgt_space_decode(g_copy[0], (size_t)n, &g_sp2, why, sizeof(why)),
			 -CAIRN_ERR_CORRUPT);
	if (strstr(why, what) == NULL)
		fail_msg("decoder said '%s', expected '%s'", why, what);
}

static void fix_overlap(struct srv_tgt_map_hdr_df *h, struct srv_tgt_extent_df *e)
{
	e[1].offset = htole64(le64toh(e[0].offset) + MiB);
}
static void fix_into_map(struct srv_tgt_map_hdr_df *h, struct srv_tgt_extent_df *e)
{
	e[0].offset = 0;
}
static void fix_beyond(struct srv_tgt_map_hdr_df *h, struct srv_tgt_extent_df *e)
{
	e[1].size = htole64(1ull << 62);
}
static void fix_wrap(struct srv_tgt_map_hdr_df *h, struct srv_tgt_extent_df *e)
{
	e[1].size = htole64(0ull - (2 * MiB)); /* offset + size wraps */
}
static void fix_align(struct srv_tgt_map_hdr_df *h, struct srv_tgt_extent_df *e)
{
	e[0].size = htole64(le64toh(e[0].size) - 4096);
}
static void fix_empty(struct srv_tgt_map_hdr_df *h, struct srv_tgt_extent_df *e)
{
	e[0].size = 0;
}
static void fix_dup(struct srv_tgt_map_hdr_df *h, struct srv_tgt_extent_df *e)
{
	memcpy(e[1].pool, e[0].pool, 16);
}
static void fix_state(struct srv_tgt_map_hdr_df *h, struct srv_tgt_extent_df *e)
{
	e[1].state = htole32(9);
}
static void fix_count(struct srv_tgt_map_hdr_df *h, struct srv_tgt_extent_df *e)
{
	h->nr_extents = htole32(SRV_TGT_MAX_EXTENTS + 1);
}
static void fix_nullpool(struct srv_tgt_map_hdr_df *h, struct srv_tgt_extent_df *e)
{
	memset(e[0].pool, 0, 16);
}
static void fix_devsize(struct srv_tgt_map_hdr_df *h, struct srv_tgt_extent_df *e)
{
	h->dev_size = htole64(4096);
}
static void fix_unsorted(struct srv_tgt_map_hdr_df *h, struct srv_tgt_extent_df *e)
{
	struct srv_tgt_extent_df t = e[0];

	e[0] = e[1];
	e[1] = t;
}

static void
test_decode_refuses(void **state)
{
	struct cairn_uuid a = pool_id(1), b = pool_id(2);
	struct srv_tgt_map_hdr_df *h = (void *)g_copy[0];
	char err[256], why[256];
	int n;

	(void)state;
	fresh(64 * MiB);
	assert_int_equal(srv_tgt_space_alloc(&g_sp, &a, 3 * MiB, SRV_TGT_EXT_ACTIVE, NULL, err,
					     sizeof(err)), 0);
	assert_int_equal(srv_tgt_space_alloc(&g_sp, &b, 5 * MiB, SRV_TGT_EXT_ACTIVE, NULL, err,
					     sizeof(err)), 0);
	expect_bad(fix_overlap, "overlaps");
	expect_bad(fix_into_map, "overlaps the map");
	expect_bad(fix_beyond, "beyond the device end");
	expect_bad(fix_wrap, "beyond the device end");
	expect_bad(fix_align, "aligned");
	expect_bad(fix_empty, "empty");
	expect_bad(fix_dup, "same pool");
	expect_bad(fix_state, "unknown state");
	expect_bad(fix_count, "do not fit");
	expect_bad(fix_nullpool, "no pool uuid");
	expect_bad(fix_devsize, "device size");
	expect_bad(fix_unsorted, "overlaps");

	/* version, CRC, short buffer, truncated encode */
	n = srv_tgt_space_encode(&g_sp, 1, g_copy[0], sizeof(g_copy[0]));
	h->version = htole32(2);
	assert_int_equal(srv_tgt_space_decode(g_copy[0], (size_t)n, &g_sp2, why, sizeof(why)),
			 -CAIRN_ERR_VERSION);
	n = srv_tgt_space_encode(&g_sp, 1, g_copy[0], sizeof(g_copy[0]));
	g_copy[0][sizeof(*h) + 20] ^= 0x80;
	assert_int_equal(srv_tgt_space_decode(g_copy[0], (size_t)n, &g_sp2, why, sizeof(why)),
			 -CAIRN_ERR_CORRUPT);
	assert_non_null(strstr(why, "CRC"));
	assert_int_equal(srv_tgt_space_decode(g_copy[0], 100, &g_sp2, why, sizeof(why)),
			 -CAIRN_ERR_CORRUPT);
	assert_int_equal(srv_tgt_space_encode(&g_sp, 1, g_copy[0], 4095), -CAIRN_ERR_TRUNC);
	/* seq 0 is never written */
	n = srv_tgt_space_encode(&g_sp, 0, g_copy[0], sizeof(g_copy[0]));
	assert_int_equal(srv_tgt_space_decode(g_copy[0], (size_t)n, &g_sp2, why, sizeof(why)),
			 -CAIRN_ERR_CORRUPT);
}

/* Random allocations and frees: extents stay sorted, disjoint, aligned and in range;
 * used + free == capacity; everything survives an encode/decode round trip. */
static void
test_random(void **state)
{
	const char *env = getenv("CAIRN_TEST_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 0) : (unsigned)time(NULL);
	struct srv_tgt_usage u;
	char err[256], why[256];
	unsigned i, k;
	int n, rc;

	(void)state;
	srand(seed);
	fresh(200 * MiB + 12345);
	for (i = 0; i < 3000; i++) {
		struct cairn_uuid p = pool_id((unsigned)rand() % 300 + 1);

		if (rand() % 3) {
			rc = srv_tgt_space_alloc(&g_sp, &p, (uint64_t)(rand() % (12 * MiB)) + 1,
						 SRV_TGT_EXT_ACTIVE, NULL, err, sizeof(err));
			if (rc != 0 && rc != -CAIRN_ERR_EXIST && rc != -CAIRN_ERR_NOSPACE)
				fail_msg("seed %u: alloc rc %d", seed, rc);
		} else {
			srv_tgt_space_free(&g_sp, &p);
		}
		srv_tgt_space_usage(&g_sp, &u);
		if (u.used + u.free != u.capacity || u.largest_free > u.free)
			fail_msg("seed %u step %u: used %llu free %llu capacity %llu", seed, i,
				 (unsigned long long)u.used, (unsigned long long)u.free,
				 (unsigned long long)u.capacity);
		for (k = 0; k < g_sp.nr; k++) {
			const struct srv_tgt_extent *e = &g_sp.ext[k];

			if (e->offset % MiB || e->size % MiB || e->offset < MiB ||
			    e->offset + e->size > 200 * MiB ||
			    (k && g_sp.ext[k - 1].offset + g_sp.ext[k - 1].size > e->offset))
				fail_msg("seed %u step %u: bad extent %u", seed, i, k);
		}
		if (i % 97 == 0) {
			n = srv_tgt_space_encode(&g_sp, i + 1, g_copy[0], sizeof(g_copy[0]));
			assert_true(n > 0);
			if (srv_tgt_space_decode(g_copy[0], (size_t)n, &g_sp2, why, sizeof(why)))
				fail_msg("seed %u step %u: round trip: %s", seed, i, why);
			assert_int_equal(g_sp2.nr, g_sp.nr);
			assert_memory_equal(g_sp2.ext, g_sp.ext, g_sp.nr * sizeof(g_sp.ext[0]));
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_free),
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_decode_refuses),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
