/*
 * bdev core on a real runtime, through the malloc and null modules: registry, geometry
 * checks, read/write patterns (contiguous, vectored, unaligned lengths rejected),
 * async submission at depth, completion never inside submit and on the submitting
 * xstream, splitting and bounce buffers, flush/unmap/write-zeroes, range and permission
 * checks, descriptors, claims, REMOVE events, channels per xstream, stats, JSON.
 */
#include "bdev_test.h"

#include <jansson.h>

#define BS 512

/* ------------------------------------------------------------------ registry */

static void
test_registry(void **state)
{
	struct cairn_bdev *b, *b2;
	struct done_wait w = DONE_WAIT_INIT;
	uint8_t uuid[16], got[16];
	unsigned before = cairn_bdev_count();

	for (int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(cairn_bdev_malloc_create("Malloc0", 128, BS, uuid, &b), 0);
	assert_ptr_equal(cairn_bdev_get_by_name("Malloc0"), b);
	assert_null(cairn_bdev_get_by_name("Malloc9"));
	assert_int_equal(cairn_bdev_count(), before + 1);
	assert_string_equal(cairn_bdev_name(b), "Malloc0");
	assert_string_equal(cairn_bdev_module_name(b), "malloc");
	assert_int_equal(cairn_bdev_block_size(b), BS);
	assert_int_equal(cairn_bdev_num_blocks(b), 128);
	cairn_bdev_uuid(b, got);
	assert_memory_equal(got, uuid, 16);
	assert_false(cairn_bdev_has_write_cache(b));
	assert_true(cairn_bdev_io_type_supported(b, CAIRN_BDEV_IO_UNMAP));

	/* duplicates and bad input */
	assert_int_equal(cairn_bdev_malloc_create("Malloc0", 8, BS, NULL, &b2), -CAIRN_ERR_EXIST);
	assert_int_equal(cairn_bdev_malloc_create("Other", 8, BS, uuid, &b2), -CAIRN_ERR_EXIST);
	assert_int_equal(cairn_bdev_malloc_create("bad name", 8, BS, NULL, &b2),
			 -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_bdev_malloc_create("", 8, BS, NULL, &b2), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_bdev_malloc_create("x", 8, 1000, NULL, &b2), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_bdev_malloc_create("x", 8, 256, NULL, &b2), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_bdev_malloc_create("x", 0, BS, NULL, &b2), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_bdev_null_create("x", UINT64_MAX / 2, 4096, NULL, &b2),
			 -CAIRN_ERR_OVERFLOW);
	assert_int_equal(cairn_bdev_count(), before + 1);

	/* delete: wrong module, unknown, then for real with nothing open */
	assert_int_equal(cairn_bdev_null_delete("Malloc0", done_cb, &w), -CAIRN_ERR_NONEXIST);
	assert_int_equal(cairn_bdev_malloc_delete("Nope", done_cb, &w), -CAIRN_ERR_NONEXIST);
	assert_int_equal(cairn_bdev_malloc_delete("Malloc0", done_cb, &w), 0);
	assert_int_equal(done_wait_for(&w, 5000), 1);
	assert_int_equal(w.rc, 0);
	assert_null(cairn_bdev_get_by_name("Malloc0"));
	assert_int_equal(cairn_bdev_count(), before);
	/* the name is free again */
	assert_int_equal(cairn_bdev_malloc_create("Malloc0", 8, BS, NULL, &b), 0);
	assert_int_equal(cairn_bdev_malloc_delete("Malloc0", NULL, NULL), 0);
}

/* ------------------------------------------------------------------ read/write */

struct rw_args {
	const char *name;
	uint32_t bs;
	uint64_t nblocks;
};

static int
rw_body(void *arg)
{
	struct rw_args *a = arg;
	struct cairn_bdev_desc *desc, *rdesc;
	struct cairn_bdev_channel *ch;
	size_t len = 16 * a->bs;
	uint8_t *w = malloc(len), *r = malloc(len);
	struct iovec wv[3], rv[4];
	int line = 0;

	CK(w != NULL && r != NULL);
	CKRC(cairn_bdev_open(a->name, true, ignore_event, NULL, &desc), 0);
	ch = cairn_bdev_get_io_channel(desc);
	CK(ch != NULL);

	/* contiguous */
	for (uint64_t off = 0; off + 16 <= a->nblocks; off += 40) {
		pattern_fill(w, len, off, a->bs, 1);
		CKRC(cairn_bdev_write_sync(desc, ch, w, off, 16), 0);
		memset(r, 0, len);
		CKRC(cairn_bdev_read_sync(desc, ch, r, off, 16), 0);
		CK(pattern_check(r, len, off, a->bs, 1));
	}
	/* vectored, with iovecs that cut blocks at odd places, read with another split */
	pattern_fill(w, len, 3, a->bs, 2);
	wv[0] = (struct iovec){ w, 100 };
	wv[1] = (struct iovec){ w + 100, a->bs * 5 - 100 + 7 };
	wv[2] = (struct iovec){ w + a->bs * 5 + 7, len - (a->bs * 5 + 7) };
	CKRC(cairn_bdev_writev_sync(desc, ch, wv, 3, 3, 16), 0);
	memset(r, 0, len);
	rv[0] = (struct iovec){ r, 1 };
	rv[1] = (struct iovec){ r + 1, 0 };
	rv[2] = (struct iovec){ r + 1, a->bs * 9 };
	rv[3] = (struct iovec){ r + 1 + a->bs * 9, len - 1 - a->bs * 9 };
	CKRC(cairn_bdev_readv_sync(desc, ch, rv, 4, 3, 16), 0);
	CK(pattern_check(r, len, 3, a->bs, 2));

	/* rejected requests: unaligned length, empty, out of range, bad iovecs */
	wv[0] = (struct iovec){ w, a->bs + 1 };
	CKRC(cairn_bdev_writev_sync(desc, ch, wv, 1, 0, 1), -CAIRN_ERR_INVAL);
	wv[0] = (struct iovec){ w, a->bs - 1 };
	CKRC(cairn_bdev_writev_sync(desc, ch, wv, 1, 0, 1), -CAIRN_ERR_INVAL);
	CKRC(cairn_bdev_writev_bytes(desc, ch, wv, 1, 3, a->bs, NULL, NULL), -CAIRN_ERR_INVAL);
	CKRC(cairn_bdev_write_sync(desc, ch, w, 0, 0), -CAIRN_ERR_INVAL);
	CKRC(cairn_bdev_write_sync(desc, ch, w, a->nblocks, 1), -CAIRN_ERR_OVERFLOW);
	CKRC(cairn_bdev_read_sync(desc, ch, r, a->nblocks - 1, 2), -CAIRN_ERR_OVERFLOW);
	CKRC(cairn_bdev_read_sync(desc, ch, r, UINT64_MAX, 1), -CAIRN_ERR_OVERFLOW);
	CKRC(cairn_bdev_unmap_sync(desc, ch, a->nblocks - 1, 2), -CAIRN_ERR_OVERFLOW);
	CKRC(cairn_bdev_write_zeroes_sync(desc, ch, 1, UINT64_MAX), -CAIRN_ERR_OVERFLOW);
	CKRC(cairn_bdev_readv_sync(desc, ch, NULL, 1, 0, 1), -CAIRN_ERR_INVAL);
	CKRC(cairn_bdev_readv_sync(desc, ch, rv, 0, 0, 1), -CAIRN_ERR_INVAL);
	CKRC(cairn_bdev_readv_sync(desc, ch, rv, CAIRN_BDEV_MAX_IOVCNT + 1, 0, 1),
	     -CAIRN_ERR_INVAL);
	/* the data is untouched by all of that */
	CKRC(cairn_bdev_read_sync(desc, ch, r, 3, 16), 0);
	CK(pattern_check(r, len, 3, a->bs, 2));

	/* a read-only descriptor cannot write, unmap or zero */
	CKRC(cairn_bdev_open(a->name, false, ignore_event, NULL, &rdesc), 0);
	CKRC(cairn_bdev_write_sync(rdesc, NULL, w, 0, 1), -CAIRN_ERR_PERM);
	CKRC(cairn_bdev_unmap_sync(rdesc, NULL, 0, 1), -CAIRN_ERR_PERM);
	CKRC(cairn_bdev_write_zeroes_sync(rdesc, NULL, 0, 1), -CAIRN_ERR_PERM);
	CKRC(cairn_bdev_read_sync(rdesc, NULL, r, 3, 16), 0);
	CK(pattern_check(r, len, 3, a->bs, 2));
	cairn_bdev_close(rdesc);

	cairn_bdev_put_io_channel(ch);
	cairn_bdev_close(desc);
	free(w);
	free(r);
	return line;
}

static void
test_malloc_rw(void **state)
{
	struct cairn_bdev *b;
	struct rw_args a = { "MallocRW", BS, 1024 };
	struct rw_args a4k = { "MallocRW4k", 4096, 256 };

	assert_int_equal(cairn_bdev_malloc_create(a.name, a.nblocks, a.bs, NULL, &b), 0);
	assert_int_equal(cairn_bdev_malloc_create(a4k.name, a4k.nblocks, a4k.bs, NULL, &b), 0);
	run_on(0, rw_body, &a);
	run_on(1, rw_body, &a4k);
	assert_int_equal(cairn_bdev_malloc_delete(a.name, NULL, NULL), 0);
	assert_int_equal(cairn_bdev_malloc_delete(a4k.name, NULL, NULL), 0);
}

/* ------------------------------------------------------------------ async depth */

struct async_state {
	struct cairn_ult *ult;
	struct cairn_xstream *xs;
	bool in_submit;
	int done;
	int errors;
	int inside_submit;   /* callbacks that ran inside a submit call: must stay 0 */
	int wrong_xstream;   /* callbacks on another xstream: must stay 0 */
	bool waiting;
};

static void
async_cb(void *arg, int rc)
{
	struct async_state *s = arg;

	if (s->in_submit)
		s->inside_submit++;
	if (cairn_xs_self() != s->xs)
		s->wrong_xstream++;
	if (rc != 0)
		s->errors++;
	s->done++;
	if (s->waiting)
		cairn_ult_wake(s->ult);
}

static int
async_wait(struct async_state *s, int target)
{
	uint64_t start = cairn_rt_now_us();

	while (s->done < target) {
		s->waiting = true;
		cairn_ult_park();
		s->waiting = false;
		CK(cairn_rt_now_us() - start < 20u * 1000 * 1000);
	}
	return 0;
}

struct async_args {
	const char *name;
	int qd;
	int rounds;
};

static int
async_body(void *arg)
{
	struct async_args *a = arg;
	struct async_state s = { .ult = cairn_ult_self(), .xs = cairn_xs_self() };
	struct cairn_bdev_desc *desc;
	struct cairn_bdev_channel *ch;
	struct cairn_bdev *bdev;
	uint32_t bs;
	uint8_t *buf;
	int submitted = 0;

	CKRC(cairn_bdev_open(a->name, true, ignore_event, NULL, &desc), 0);
	bdev = cairn_bdev_desc_get_bdev(desc);
	bs = cairn_bdev_block_size(bdev);
	ch = cairn_bdev_get_io_channel(desc);
	CK(ch != NULL);
	CK(cairn_bdev_get_io_channel(desc) == ch); /* one channel per xstream */
	cairn_bdev_put_io_channel(ch);
	buf = malloc((size_t)a->qd * 2 * bs);
	CK(buf != NULL);

	for (int round = 0; round < a->rounds; round++) {
		/* qd writes of 2 blocks each, all in flight at once */
		for (int i = 0; i < a->qd; i++) {
			uint64_t off = (uint64_t)i * 2;

			pattern_fill(buf + (size_t)i * 2 * bs, 2 * bs, off, bs, (uint32_t)round);
			s.in_submit = true;
			CKRC(cairn_bdev_write(desc, ch, buf + (size_t)i * 2 * bs, off, 2, async_cb,
					      &s), 0);
			s.in_submit = false;
			submitted++;
		}
		CKSUB(async_wait(&s, submitted));
		memset(buf, 0, (size_t)a->qd * 2 * bs);
		for (int i = 0; i < a->qd; i++) {
			s.in_submit = true;
			CKRC(cairn_bdev_read(desc, ch, buf + (size_t)i * 2 * bs, (uint64_t)i * 2, 2,
					     async_cb, &s), 0);
			s.in_submit = false;
			submitted++;
		}
		CKSUB(async_wait(&s, submitted));
		for (int i = 0; i < a->qd; i++)
			CK(pattern_check(buf + (size_t)i * 2 * bs, 2 * bs, (uint64_t)i * 2, bs,
					 (uint32_t)round));
	}
	s.in_submit = true;
	CKRC(cairn_bdev_flush(desc, ch, 0, 0, async_cb, &s), 0);
	s.in_submit = false;
	submitted++;
	CKSUB(async_wait(&s, submitted));
	CK(s.errors == 0);
	CK(s.inside_submit == 0);
	CK(s.wrong_xstream == 0);
	free(buf);
	cairn_bdev_put_io_channel(ch);
	cairn_bdev_close(desc);
	return 0;
}

static void
test_async_depth(void **state)
{
	struct cairn_bdev *b;
	struct async_args a = { "MallocQ", 64, 20 };

	assert_int_equal(cairn_bdev_malloc_create(a.name, 256, BS, NULL, &b), 0);
	run_on(0, async_body, &a);
	run_on(1, async_body, &a);
	assert_int_equal(cairn_bdev_malloc_delete(a.name, NULL, NULL), 0);
}

/* ------------------------------------------------------------------ splitting / bounce */

static int
split_body(void *arg)
{
	const char *name = arg;
	struct cairn_bdev_desc *desc;
	struct cairn_bdev_stats st;
	struct cairn_bdev *bdev;
	size_t len = 100 * BS;
	uint8_t *raw = malloc(len + 8), *w = raw + 1; /* deliberately misaligned */
	uint8_t *r = malloc(len + 8);
	struct iovec iov[5];

	CK(raw != NULL && r != NULL);
	CKRC(cairn_bdev_open(name, true, ignore_event, NULL, &desc), 0);
	bdev = cairn_bdev_desc_get_bdev(desc);
	CK(cairn_bdev_max_transfer_blocks(bdev) == 8);
	CK(cairn_bdev_optimal_io_boundary(bdev) == 16);
	cairn_bdev_reset_stats(bdev);

	/* 100 blocks at 5: crosses boundaries, exceeds max transfer, misaligned buffer */
	pattern_fill(w, len, 5, BS, 9);
	CKRC(cairn_bdev_write_sync(desc, NULL, w, 5, 100), 0);
	memset(r, 0, len + 8);
	CKRC(cairn_bdev_read_sync(desc, NULL, r + 3, 5, 100), 0);
	CK(pattern_check(r + 3, len, 5, BS, 9));
	/* vectored split read into 5 odd pieces */
	memset(r, 0, len + 8);
	iov[0] = (struct iovec){ r, 1000 };
	iov[1] = (struct iovec){ r + 1000, 24 };
	iov[2] = (struct iovec){ r + 1024, 4096 * 3 + 5 };
	iov[3] = (struct iovec){ r + 1024 + 4096 * 3 + 5, 1 };
	iov[4] = (struct iovec){ r + 1024 + 4096 * 3 + 6, len - (1024 + 4096 * 3 + 6) };
	CKRC(cairn_bdev_readv_sync(desc, NULL, iov, 5, 5, 100), 0);
	CK(pattern_check(r, len, 5, BS, 9));
	/* write zeroes over a split range, neighbours intact */
	CKRC(cairn_bdev_write_zeroes_sync(desc, NULL, 20, 50), 0);
	CKRC(cairn_bdev_read_sync(desc, NULL, r, 5, 100), 0);
	CK(pattern_check(r, 15 * BS, 5, BS, 9));
	CK(all_zero(r + 15 * BS, 50 * BS));
	CK(pattern_check(r + 65 * BS, 35 * BS, 70, BS, 9));

	CKRC(cairn_bdev_get_stats(bdev, &st), 0);
	CK(st.splits >= 3);
	CK(st.bounces >= 2);
	CK(st.op[CAIRN_BDEV_IO_WRITE].ops == 1);
	CK(st.op[CAIRN_BDEV_IO_READ].ops == 3);
	CK(st.op[CAIRN_BDEV_IO_WRITE_ZEROES].ops == 1);
	cairn_bdev_close(desc);
	free(raw);
	free(r);
	return 0;
}

static void
test_split_bounce(void **state)
{
	struct cairn_bdev_malloc_opts o = {
		.opts_size = sizeof(o),
		.name = "MallocSplit",
		.num_blocks = 512,
		.block_size = BS,
		.optimal_io_boundary = 16,
		.max_transfer_blocks = 8,
		.buf_align = 4096,
	};
	struct cairn_bdev *b;

	assert_int_equal(cairn_bdev_malloc_create_ext(&o, &b), 0);
	run_on(0, split_body, (void *)o.name);
	assert_int_equal(cairn_bdev_malloc_delete(o.name, NULL, NULL), 0);
}

/* ------------------------------------------------------------------ flush/unmap/zeroes */

static int
zero_body(void *arg)
{
	const char *name = arg;
	struct cairn_bdev_desc *desc;
	size_t len = 64 * 4096;
	uint8_t *w = malloc(len), *r = malloc(len);

	CK(w != NULL && r != NULL);
	CKRC(cairn_bdev_open(name, true, ignore_event, NULL, &desc), 0);
	pattern_fill(w, len, 0, BS, 3);
	CKRC(cairn_bdev_write_sync(desc, NULL, w, 0, len / BS), 0);
	/* unmap a range that covers whole pages and partial ones */
	CKRC(cairn_bdev_unmap_sync(desc, NULL, 3, 100), 0);
	CKRC(cairn_bdev_write_zeroes_sync(desc, NULL, 200, 17), 0);
	CKRC(cairn_bdev_flush_sync(desc, NULL), 0);
	CKRC(cairn_bdev_read_sync(desc, NULL, r, 0, len / BS), 0);
	CK(pattern_check(r, 3 * BS, 0, BS, 3));
	CK(all_zero(r + 3 * BS, 100 * BS));
	CK(memcmp(r + 103 * BS, w + 103 * BS, 97 * BS) == 0);
	CK(all_zero(r + 200 * BS, 17 * BS));
	CK(memcmp(r + 217 * BS, w + 217 * BS, len - 217 * BS) == 0);
	cairn_bdev_close(desc);

	/* the null bdev: writes vanish, reads are zeros */
	CKRC(cairn_bdev_open("Null0", true, ignore_event, NULL, &desc), 0);
	CKRC(cairn_bdev_write_sync(desc, NULL, w, 0, 8), 0);
	memset(r, 0xee, 8 * BS);
	CKRC(cairn_bdev_read_sync(desc, NULL, r, 0, 8), 0);
	CK(all_zero(r, 8 * BS));
	CKRC(cairn_bdev_unmap_sync(desc, NULL, 0, 8), 0);
	cairn_bdev_close(desc);
	free(w);
	free(r);
	return 0;
}

static void
test_unmap_zeroes(void **state)
{
	struct cairn_bdev *b;

	assert_int_equal(cairn_bdev_malloc_create("MallocZ", 64 * 8, BS, NULL, &b), 0);
	assert_int_equal(cairn_bdev_null_create("Null0", 1 << 20, BS, NULL, &b), 0);
	run_on(1, zero_body, "MallocZ");
	assert_int_equal(cairn_bdev_malloc_delete("MallocZ", NULL, NULL), 0);
	assert_int_equal(cairn_bdev_null_delete("Null0", NULL, NULL), 0);
}

/* ------------------------------------------------------------------ open / claims */

static void
test_claims(void **state)
{
	struct cairn_bdev_desc *w1, *w2, *r1;
	struct cairn_bdev *b;

	assert_int_equal(cairn_bdev_malloc_create("MallocC", 16, BS, NULL, &b), 0);
	assert_int_equal(cairn_bdev_open("MallocC", true, NULL, NULL, &w1), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_bdev_open("NoSuch", true, ignore_event, NULL, &w1),
			 -CAIRN_ERR_NONEXIST);
	assert_int_equal(cairn_bdev_open("MallocC", true, ignore_event, NULL, &w1), 0);
	assert_int_equal(cairn_bdev_open("MallocC", true, ignore_event, NULL, &w2), 0);
	assert_int_equal(cairn_bdev_open("MallocC", false, ignore_event, NULL, &r1), 0);
	/* two writers: nobody may claim; a read-only descriptor never may */
	assert_int_equal(cairn_bdev_claim(w1, "vos"), -CAIRN_ERR_BUSY);
	assert_int_equal(cairn_bdev_claim(r1, "vos"), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_bdev_claim(w1, ""), -CAIRN_ERR_INVAL);
	cairn_bdev_close(w2);
	assert_null(cairn_bdev_claimed_by(b));
	assert_int_equal(cairn_bdev_claim(w1, "vos"), 0);
	assert_int_equal(cairn_bdev_claim(w1, "vos"), 0); /* idempotent for the holder */
	assert_string_equal(cairn_bdev_claimed_by(b), "vos");
	assert_int_equal(cairn_bdev_open("MallocC", true, ignore_event, NULL, &w2),
			 -CAIRN_ERR_PERM);
	assert_int_equal(cairn_bdev_open("MallocC", false, ignore_event, NULL, &w2), 0);
	cairn_bdev_close(w2);
	cairn_bdev_release_claim(w1);
	assert_null(cairn_bdev_claimed_by(b));
	assert_int_equal(cairn_bdev_open("MallocC", true, ignore_event, NULL, &w2), 0);
	assert_int_equal(cairn_bdev_claim(w2, "other"), -CAIRN_ERR_BUSY);
	cairn_bdev_close(w1);
	assert_int_equal(cairn_bdev_claim(w2, "other"), 0);
	/* closing the holder drops the claim */
	cairn_bdev_close(w2);
	assert_null(cairn_bdev_claimed_by(b));
	cairn_bdev_close(r1);
	assert_int_equal(cairn_bdev_malloc_delete("MallocC", NULL, NULL), 0);
}

/* ------------------------------------------------------------------ remove event */

struct remove_state {
	struct cairn_bdev_desc *desc;
	struct cairn_xstream *opener;
	int events;
	int wrong_xstream;
	bool close_in_cb;
};

static void
remove_event(enum cairn_bdev_event_type type, struct cairn_bdev *bdev, void *ctx)
{
	struct remove_state *s = ctx;

	if (type != CAIRN_BDEV_EVENT_REMOVE)
		return;
	if (cairn_xs_self() != s->opener)
		s->wrong_xstream++;
	__atomic_add_fetch(&s->events, 1, __ATOMIC_SEQ_CST);
	if (s->close_in_cb) {
		cairn_bdev_close(s->desc);
		s->desc = NULL;
	}
}

static int
remove_open_body(void *arg)
{
	struct remove_state *s = arg;

	s->opener = cairn_xs_self();
	CKRC(cairn_bdev_open("MallocR", true, remove_event, s, &s->desc), 0);
	return 0;
}

static int
remove_close_body(void *arg)
{
	struct remove_state *s = arg;
	struct cairn_bdev_channel *ch = cairn_bdev_get_io_channel(s->desc);
	uint8_t buf[BS];

	/* still usable after REMOVE until closed */
	CK(ch != NULL);
	CKRC(cairn_bdev_read_sync(s->desc, ch, buf, 0, 1), 0);
	cairn_bdev_put_io_channel(ch);
	cairn_bdev_close(s->desc);
	s->desc = NULL;
	return 0;
}

static void
test_remove_event(void **state)
{
	struct remove_state s = { 0 }, s2 = { .close_in_cb = true };
	struct done_wait w = DONE_WAIT_INIT, w2 = DONE_WAIT_INIT;
	struct cairn_bdev *b;
	struct cairn_bdev_desc *d;

	/* 1: the holder closes later; deletion completes only then */
	assert_int_equal(cairn_bdev_malloc_create("MallocR", 16, BS, NULL, &b), 0);
	run_on(0, remove_open_body, &s);
	assert_int_equal(cairn_bdev_malloc_delete("MallocR", done_cb, &w), 0);
	assert_int_equal(cairn_bdev_malloc_delete("MallocR", done_cb, &w), -CAIRN_ERR_ALREADY);
	assert_int_equal(cairn_bdev_open("MallocR", false, ignore_event, NULL, &d),
			 -CAIRN_ERR_NONEXIST);
	assert_null(cairn_bdev_get_by_name("MallocR"));
	/* the name stays taken while the old bdev lingers */
	assert_int_equal(cairn_bdev_malloc_create("MallocR", 16, BS, NULL, &b),
			 -CAIRN_ERR_EXIST);
	for (int i = 0; i < 500 && __atomic_load_n(&s.events, __ATOMIC_SEQ_CST) == 0; i++)
		cairn_ult_sleep_us(2000);
	assert_int_equal(s.events, 1);
	assert_int_equal(s.wrong_xstream, 0);
	assert_int_equal(done_wait_for(&w, 100), 0); /* not before the close */
	run_on(0, remove_close_body, &s);
	assert_int_equal(done_wait_for(&w, 5000), 1);
	assert_int_equal(w.calls, 1);

	/* 2: the holder closes from the event callback itself */
	assert_int_equal(cairn_bdev_malloc_create("MallocR", 16, BS, NULL, &b), 0);
	run_on(1, remove_open_body, &s2);
	assert_int_equal(cairn_bdev_malloc_delete("MallocR", done_cb, &w2), 0);
	assert_int_equal(done_wait_for(&w2, 5000), 1);
	assert_int_equal(s2.events, 1);
	assert_int_equal(s2.wrong_xstream, 0);
	assert_null(cairn_bdev_get_by_name("MallocR"));
}

/* ------------------------------------------------------------------ channels + stats */

struct mt_args {
	struct cairn_bdev_desc *desc;
	unsigned part;
	struct cairn_bdev_channel *ch_seen;
};

static int
mt_body(void *arg)
{
	struct mt_args *a = arg;
	uint8_t buf[8 * BS];
	uint64_t base = a->part * 64;

	a->ch_seen = cairn_bdev_get_io_channel(a->desc);
	CK(a->ch_seen != NULL);
	for (uint64_t i = 0; i < 64; i += 8) {
		pattern_fill(buf, sizeof(buf), base + i, BS, a->part);
		CKRC(cairn_bdev_write_sync(a->desc, a->ch_seen, buf, base + i, 8), 0);
	}
	for (uint64_t i = 0; i < 64; i += 8) {
		CKRC(cairn_bdev_read_sync(a->desc, a->ch_seen, buf, base + i, 8), 0);
		CK(pattern_check(buf, sizeof(buf), base + i, BS, a->part));
	}
	cairn_bdev_put_io_channel(a->ch_seen);
	return 0;
}

static void
mt_ult(void *arg)
{
	struct ult_run *r = arg;

	r->line = r->fn(r->arg);
}

static void
test_channels_stats(void **state)
{
	struct cairn_bdev_desc *desc;
	struct cairn_bdev_stats st;
	struct mt_args a0, a1;
	struct cairn_ult *u0, *u1;
	struct ult_run r0, r1;
	struct cairn_ult_attr attr = { .prio = CAIRN_PRIO_GENERAL, .joinable = true };
	struct cairn_bdev *b;
	json_t *js, *rd;

	assert_int_equal(cairn_bdev_malloc_create("MallocMT", 128, BS, NULL, &b), 0);
	assert_int_equal(cairn_bdev_open("MallocMT", true, ignore_event, NULL, &desc), 0);
	/* not on an xstream: no channel */
	assert_null(cairn_bdev_get_io_channel(desc));

	a0 = (struct mt_args){ .desc = desc, .part = 0 };
	a1 = (struct mt_args){ .desc = desc, .part = 1 };
	r0 = (struct ult_run){ .fn = mt_body, .arg = &a0, .line = -1 };
	r1 = (struct ult_run){ .fn = mt_body, .arg = &a1, .line = -1 };
	assert_int_equal(cairn_ult_create(cairn_xs_by_role(CAIRN_XS_MAIN, 0), mt_ult, &r0, &attr,
					  &u0), 0);
	assert_int_equal(cairn_ult_create(cairn_xs_by_role(CAIRN_XS_MAIN, 1), mt_ult, &r1, &attr,
					  &u1), 0);
	assert_int_equal(cairn_ult_join(u0), 0);
	assert_int_equal(cairn_ult_join(u1), 0);
	assert_int_equal(r0.line, 0);
	assert_int_equal(r1.line, 0);
	assert_ptr_not_equal(a0.ch_seen, a1.ch_seen);

	assert_int_equal(cairn_bdev_get_stats(b, &st), 0);
	assert_int_equal(st.op[CAIRN_BDEV_IO_WRITE].ops, 16);
	assert_int_equal(st.op[CAIRN_BDEV_IO_READ].ops, 16);
	assert_int_equal(st.op[CAIRN_BDEV_IO_WRITE].bytes, 16 * 8 * BS);
	assert_int_equal(st.op[CAIRN_BDEV_IO_READ].bytes, 16 * 8 * BS);
	assert_int_equal(st.op[CAIRN_BDEV_IO_READ].errors, 0);
	assert_int_equal(st.op[CAIRN_BDEV_IO_FLUSH].ops, 0);
	assert_true(st.op[CAIRN_BDEV_IO_READ].lat_min_ns > 0);
	assert_true(st.op[CAIRN_BDEV_IO_READ].lat_min_ns <= st.op[CAIRN_BDEV_IO_READ].lat_max_ns);
	assert_true(st.op[CAIRN_BDEV_IO_READ].lat_sum_ns >=
		    16 * st.op[CAIRN_BDEV_IO_READ].lat_min_ns);

	assert_int_equal(cairn_bdev_stats_json(b, &js), 0);
	rd = json_object_get(js, "read");
	assert_non_null(rd);
	assert_int_equal(json_integer_value(json_object_get(rd, "ops")), 16);
	assert_int_equal(json_integer_value(json_object_get(rd, "bytes")), 16 * 8 * BS);
	assert_true(json_real_value(json_object_get(rd, "lat_avg_us")) >=
		    json_real_value(json_object_get(rd, "lat_min_us")));
	assert_true(json_real_value(json_object_get(rd, "lat_max_us")) >=
		    json_real_value(json_object_get(rd, "lat_avg_us")));
	assert_string_equal(json_string_value(json_object_get(js, "name")), "MallocMT");
	json_decref(js);

	cairn_bdev_reset_stats(b);
	assert_int_equal(cairn_bdev_get_stats(b, &st), 0);
	assert_int_equal(st.op[CAIRN_BDEV_IO_WRITE].ops, 0);
	assert_int_equal(st.op[CAIRN_BDEV_IO_READ].bytes, 0);

	cairn_bdev_close(desc);
	assert_int_equal(cairn_bdev_malloc_delete("MallocMT", NULL, NULL), 0);
}

/* ------------------------------------------------------------------ JSON */

static void
test_json(void **state)
{
	struct cairn_bdev *b, *e;
	json_t *arr, *info, *c;
	size_t i;
	bool saw_malloc = false, saw_null = false;
	int malloc_idx = -1, error_idx = -1;

	assert_int_equal(cairn_bdev_malloc_create("MallocJ", 32, 4096, NULL, &b), 0);
	assert_int_equal(cairn_bdev_null_create("NullJ", 32, 512, NULL, &b), 0);
	assert_int_equal(cairn_bdev_error_create("MallocJ", &e), 0);
	arr = json_array();
	assert_int_equal(cairn_bdev_write_config_json(arr), 0);
	json_array_foreach(arr, i, c) {
		const char *m = json_string_value(json_object_get(c, "method"));
		json_t *p = json_object_get(c, "params");

		assert_non_null(m);
		if (strcmp(m, "bdev_malloc_create") == 0 &&
		    strcmp(json_string_value(json_object_get(p, "name")), "MallocJ") == 0) {
			saw_malloc = true;
			malloc_idx = (int)i;
			assert_int_equal(json_integer_value(json_object_get(p, "block_size")), 4096);
			assert_int_equal(json_integer_value(json_object_get(p, "num_blocks")), 32);
			assert_int_equal(strlen(json_string_value(json_object_get(p, "uuid"))), 36);
		}
		if (strcmp(m, "bdev_null_create") == 0)
			saw_null = true;
		if (strcmp(m, "bdev_error_create") == 0)
			error_idx = (int)i;
	}
	assert_true(saw_malloc && saw_null);
	assert_true(error_idx > malloc_idx); /* base before virtual */
	json_decref(arr);

	assert_int_equal(cairn_bdev_info_json(b, &info), 0);
	assert_string_equal(json_string_value(json_object_get(info, "module")), "null");
	assert_int_equal(json_integer_value(json_object_get(info, "num_blocks")), 32);
	json_decref(info);
	assert_int_equal(cairn_bdev_info_json(cairn_bdev_get_by_name("MallocJ"), &info), 0);
	assert_true(json_is_true(json_object_get(info, "claimed")));
	assert_string_equal(json_string_value(json_object_get(info, "claimed_by")),
			    "error:EE_MallocJ");
	json_decref(info);

	assert_int_equal(cairn_bdev_null_delete("NullJ", NULL, NULL), 0);
	/* deleting the base takes the error bdev with it */
	assert_int_equal(cairn_bdev_malloc_delete("MallocJ", NULL, NULL), 0);
	for (int k = 0; k < 500 && cairn_bdev_get_by_name("EE_MallocJ") != NULL; k++)
		cairn_ult_sleep_us(2000);
	assert_null(cairn_bdev_get_by_name("EE_MallocJ"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_malloc_rw),
		cmocka_unit_test(test_async_depth),
		cmocka_unit_test(test_split_bounce),
		cmocka_unit_test(test_unmap_zeroes),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_remove_event),
		cmocka_unit_test(test_channels_stats),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, bdev_test_setup, bdev_test_teardown);
}
