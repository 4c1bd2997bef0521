/*
 * VOS on-disk formats and the allocator, on plain buffers (no runtime, no device):
 * superblock sizing and validation, WAL frame sealing/verification/record walking,
 * checkpoint pages, the extent allocator (randomised against a reference bitmap).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "vos_alloc.h"
#include "vos_codec.h"
#include "vos_layout.h"

static const uint8_t g_uuid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static void
test_sb(void **state)
{
	struct vos_sb_df sb, bad;
	uint64_t dev = 64ull << 20;

	assert_int_equal(vos_sb_init(&sb, g_uuid, dev, 0, 0, 1024), 0);
	sb.wal_tag = 42;
	vos_sb_seal(&sb);
	assert_int_equal(vos_sb_check(&sb, dev), 0);
	/* Regions tile the device in order. */
	assert_int_equal(sb.wal_off, 2 * VOS_BLK);
	assert_int_equal(sb.ckpt_off[0], sb.wal_off + sb.wal_size);
	assert_int_equal(sb.ckpt_off[1], sb.ckpt_off[0] + sb.ckpt_size);
	assert_int_equal(sb.data_off + sb.data_size, sb.total_size);
	assert_true(sb.total_size <= dev);

	/* Device smaller than the pool: truncated. */
	assert_int_equal(vos_sb_check(&sb, dev - VOS_BLK), -CAIRN_ERR_TRUNC);
	/* Bad magic: not a pool. */
	bad = sb;
	bad.magic ^= 1;
	assert_int_equal(vos_sb_check(&bad, dev), -CAIRN_ERR_INVAL);
	/* Flipped byte: checksum. */
	bad = sb;
	bad.data_size ^= 0x100;
	assert_int_equal(vos_sb_check(&bad, dev), -CAIRN_ERR_CSUM);
	/* Newer version, correctly sealed. */
	bad = sb;
	bad.version = VOS_FORMAT_VER + 1;
	vos_sb_seal(&bad);
	assert_int_equal(vos_sb_check(&bad, dev), -CAIRN_ERR_VERSION);
	/* Overlapping regions, correctly sealed. */
	bad = sb;
	bad.ckpt_off[0] = bad.wal_off;
	vos_sb_seal(&bad);
	assert_int_equal(vos_sb_check(&bad, dev), -CAIRN_ERR_CORRUPT);
	bad = sb;
	bad.data_size = UINT64_MAX - bad.data_off + VOS_BLK;
	vos_sb_seal(&bad);
	assert_int_equal(vos_sb_check(&bad, dev), -CAIRN_ERR_CORRUPT);

	/* Too small a device, impossible sizes. */
	assert_int_equal(vos_sb_init(&sb, g_uuid, VOS_MIN_POOL_SIZE - 1, 0, 0, 0),
			 -CAIRN_ERR_NOSPACE);
	assert_int_equal(vos_sb_init(&sb, g_uuid, dev, dev, 0, 0), -CAIRN_ERR_NOSPACE);
	assert_int_equal(vos_sb_init(&sb, g_uuid, dev, 0, 0, 5 * VOS_BLK), -CAIRN_ERR_INVAL);
	assert_int_equal(vos_sb_init(&sb, g_uuid, VOS_MIN_POOL_SIZE, 0, 0, 0), 0);
}

static void
test_wal_frame(void **state)
{
	char *frame = aligned_alloc(VOS_BLK, 4 * VOS_BLK);
	struct vos_wal_frame_df *f = (void *)frame;
	struct vos_wbuf w = { 0 };
	const struct vos_wal_rec_df *rec;
	const void *body;
	uint32_t pos = 0, n = 0;
	int i, rc;

	/* Three records of 5, 0 and 100 bytes. */
	for (i = 0; i < 3; i++) {
		uint32_t len = i == 0 ? 5 : i == 1 ? 0 : 100;
		struct vos_wal_rec_df r = { .type = (uint16_t)(i + 1), .len = len };
		char body_bytes[104];

		memset(body_bytes, 'a' + i, sizeof(body_bytes));
		vos_wbuf_put(&w, &r, sizeof(r));
		vos_wbuf_put(&w, body_bytes, vos_round_up(len, 8));
	}
	assert_false(w.nomem);
	memset(frame, 0x5a, 4 * VOS_BLK);
	memcpy(frame + sizeof(*f), w.buf, w.len);
	vos_wal_frame_seal(frame, 7, 99, (uint32_t)w.len, 3);
	assert_int_equal(vos_wal_frame_span(w.len), VOS_BLK);
	assert_true(vos_wal_frame_hdr_ok(f, 7, 99, 4 * VOS_BLK));
	assert_false(vos_wal_frame_hdr_ok(f, 8, 99, 4 * VOS_BLK));  /* other pool */
	assert_false(vos_wal_frame_hdr_ok(f, 7, 100, 4 * VOS_BLK)); /* stale seq */
	assert_true(vos_wal_frame_verify(frame));
	while ((rc = vos_wal_rec_next(f + 1, f->len, &pos, &rec, &body)) == 1) {
		assert_int_equal(rec->type, n + 1);
		if (rec->len)
			assert_int_equal(((const char *)body)[0], 'a' + (int)n);
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 3);

	/* Any flipped payload bit breaks the CRC (torn or corrupt frame). */
	frame[sizeof(*f) + 10] ^= 0x10;
	assert_false(vos_wal_frame_verify(frame));
	frame[sizeof(*f) + 10] ^= 0x10;
	assert_true(vos_wal_frame_verify(frame));

	/* A record claiming more than the payload is rejected, not followed. */
	{
		struct vos_wal_rec_df *r0 = (void *)(frame + sizeof(*f));

		r0->len = 1u << 30;
		pos = 0;
		assert_int_equal(vos_wal_rec_next(f + 1, f->len, &pos, &rec, &body),
				 -CAIRN_ERR_CORRUPT);
	}
	/* A frame claiming a length bigger than the space left is not a frame. */
	f->len = 3 * VOS_BLK;
	assert_false(vos_wal_frame_hdr_ok(f, 7, 99, 2 * VOS_BLK));
	free(w.buf);
	free(frame);
}

static void
test_ckpt_pages(void **state)
{
	struct vos_sb_df sb;
	struct vos_ckpt_hdr_df h;
	uint64_t len = 3 * VOS_CPAGE_DATA + 77;
	char *payload = malloc(len), *back = calloc(1, len);
	char *blk = aligned_alloc(VOS_BLK, VOS_BLK);
	uint32_t i, np = (uint32_t)vos_ckpt_npages(len);

	assert_int_equal(vos_sb_init(&sb, g_uuid, 64ull << 20, 0, 0, 0), 0);
	sb.wal_tag = 5;
	for (uint64_t k = 0; k < len; k++)
		payload[k] = (char)(k * 31 + 7);
	assert_int_equal(np, 4);
	for (i = 0; i < np; i++) {
		vos_ckpt_page_build(blk, 3, i, payload, len);
		assert_int_equal(vos_ckpt_page_load(blk, 3, i, back, len), 0);
		/* Wrong generation or index: a stale page from an older checkpoint. */
		assert_int_equal(vos_ckpt_page_load(blk, 4, i, back, len), -CAIRN_ERR_CORRUPT);
		assert_int_equal(vos_ckpt_page_load(blk, 3, i + 1, back, len), -CAIRN_ERR_CORRUPT);
		blk[100] ^= 1;
		assert_int_equal(vos_ckpt_page_load(blk, 3, i, back, len), -CAIRN_ERR_CSUM);
	}
	assert_memory_equal(payload, back, len);

	memset(&h, 0, sizeof(h));
	h.magic = VOS_CKPT_MAGIC;
	h.version = VOS_FORMAT_VER;
	h.gen = 3;
	h.tag = 5;
	h.wal_seq = 1;
	h.payload_len = len;
	h.npages = np;
	vos_ckpt_hdr_seal(&h);
	assert_int_equal(vos_ckpt_hdr_check(&h, &sb), 0);
	h.npages++;
	assert_int_equal(vos_ckpt_hdr_check(&h, &sb), -CAIRN_ERR_CSUM);
	vos_ckpt_hdr_seal(&h);
	assert_int_equal(vos_ckpt_hdr_check(&h, &sb), -CAIRN_ERR_CORRUPT);
	h.npages--;
	h.payload_len = sb.ckpt_size * 2; /* larger than the slot */
	h.npages = (uint32_t)vos_ckpt_npages(h.payload_len);
	vos_ckpt_hdr_seal(&h);
	assert_int_equal(vos_ckpt_hdr_check(&h, &sb), -CAIRN_ERR_CORRUPT);
	h.payload_len = len;
	h.npages = np;
	h.tag = 6; /* written by an older format of the device */
	vos_ckpt_hdr_seal(&h);
	assert_int_equal(vos_ckpt_hdr_check(&h, &sb), -CAIRN_ERR_NONEXIST);
	free(payload);
	free(back);
	free(blk);
}

static void
test_alloc_basic(void **state)
{
	struct vos_alloc a;
	uint64_t b1, b2, b3;

	assert_int_equal(vos_alloc_init(&a, 100), 0);
	assert_int_equal(vos_alloc_get(&a, 0, &b1), -CAIRN_ERR_INVAL);
	assert_int_equal(vos_alloc_get(&a, 101, &b1), -CAIRN_ERR_NOSPACE);
	assert_int_equal(vos_alloc_get(&a, 60, &b1), 0);
	assert_int_equal(vos_alloc_get(&a, 40, &b2), 0);
	assert_int_equal(a.nfree, 0);
	assert_int_equal(vos_alloc_get(&a, 1, &b3), -CAIRN_ERR_NOSPACE);
	assert_int_equal(vos_alloc_put(&a, b1 + 10, 5), 0);
	assert_int_equal(vos_alloc_put(&a, b1 + 10, 5), -CAIRN_ERR_CORRUPT); /* double free */
	assert_int_equal(vos_alloc_get(&a, 6, &b3), -CAIRN_ERR_NOSPACE);     /* fragmented */
	assert_int_equal(vos_alloc_get(&a, 5, &b3), 0);
	assert_int_equal(b3, b1 + 10);
	assert_int_equal(vos_alloc_put(&a, 99, 2), -CAIRN_ERR_CORRUPT);      /* past the end */
	assert_int_equal(vos_alloc_mark(&a, 0, 1), -CAIRN_ERR_CORRUPT);      /* overlap */
	vos_alloc_fini(&a);
}

/* Random get/put against a byte-per-block reference; checks no overlap and accounting. */
static void
test_alloc_random(void **state)
{
	unsigned seed = (unsigned)time(NULL);
	const uint64_t nb = 1000;
	uint8_t ref[1000];
	struct { uint64_t b, n; } live[400];
	unsigned nlive = 0, i;
	struct vos_alloc a;

	printf("seed %u\n", seed);
	srand(seed);
	memset(ref, 0, sizeof(ref));
	assert_int_equal(vos_alloc_init(&a, nb), 0);
	for (i = 0; i < 20000; i++) {
		if (nlive < 400 && (rand() % 3 != 0 || nlive == 0)) {
			uint64_t n = 1 + (uint64_t)(rand() % 17), b, k;
			int rc = vos_alloc_get(&a, n, &b);

			if (rc == -CAIRN_ERR_NOSPACE)
				continue;
			assert_int_equal(rc, 0);
			assert_true(b + n <= nb);
			for (k = b; k < b + n; k++) {
				assert_int_equal(ref[k], 0);
				ref[k] = 1;
			}
			live[nlive].b = b;
			live[nlive].n = n;
			nlive++;
		} else {
			unsigned j = (unsigned)rand() % nlive;
			uint64_t k;

			assert_int_equal(vos_alloc_put(&a, live[j].b, live[j].n), 0);
			for (k = live[j].b; k < live[j].b + live[j].n; k++)
				ref[k] = 0;
			live[j] = live[--nlive];
		}
		{
			uint64_t used = 0, k;

			for (k = 0; k < nb; k++)
				used += ref[k];
			assert_int_equal(a.nfree, nb - used);
		}
	}
	vos_alloc_fini(&a);
}

static void
test_codec(void **state)
{
	struct vos_wbuf w = { 0 };
	struct vos_rbuf r;

	vos_wbuf_u8(&w, 1);
	vos_wbuf_u32(&w, 0xdeadbeef);
	vos_wbuf_u64(&w, 1ull << 60);
	r = (struct vos_rbuf){ .buf = w.buf, .len = w.len };
	assert_int_equal(vos_rbuf_u8(&r), 1);
	assert_int_equal(vos_rbuf_u32(&r), 0xdeadbeef);
	assert_int_equal(vos_rbuf_u64(&r), 1ull << 60);
	assert_false(r.bad);
	/* Past the end: zeros and latched. */
	assert_int_equal(vos_rbuf_u32(&r), 0);
	assert_true(r.bad);
	assert_null(vos_rbuf_get(&r, 1));
	free(w.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sb),
		cmocka_unit_test(test_wal_frame),
		cmocka_unit_test(test_ckpt_pages),
		cmocka_unit_test(test_alloc_basic),
		cmocka_unit_test(test_alloc_random),
		cmocka_unit_test(test_codec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
