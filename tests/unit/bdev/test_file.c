/*
 * File-backed bdevs (uring and aio) on a temporary file: creation errors, 64 ULTs
 * writing and verifying concurrently on two xstreams, an async queue depth of 64,
 * misaligned buffers (bounce under O_DIRECT), unmap/write-zeroes, flush, range checks,
 * data verified after delete + re-create and with pread on the file itself, and the
 * RESIZE event after the file grows.
 */
#include "bdev_test.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_SIZE (16u << 20) /* 4096 blocks of 4 KiB, 32768 of 512 B */
#define ULTS_PER_XS 32
#define ULT_BLOCKS  32   /* each ULT owns 32 blocks = 16 KiB */

struct file_mod {
	const char *name;
	int (*create)(const char *, const char *, uint32_t, const uint8_t *, struct cairn_bdev **);
	int (*del)(const char *, cairn_bdev_cb, void *);
	int (*rescan)(const char *);
};

static const struct file_mod g_mods[] = {
	{ "uring", cairn_bdev_uring_create, cairn_bdev_uring_delete, cairn_bdev_uring_rescan },
	{ "aio", cairn_bdev_aio_create, cairn_bdev_aio_delete, cairn_bdev_aio_rescan },
};

static char g_path[256];

static void
make_file(uint64_t size)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(g_path, sizeof(g_path), "%s/cairn-bdev-test-XXXXXX", dir ? dir : "/tmp");
	fd = mkstemp(g_path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

struct wr_args {
	struct cairn_bdev_desc *desc;
	unsigned idx;      /* global ULT index */
	uint32_t seed;
	int line;
};

/* One ULT: write its region in 4-block I/Os (sync), then read back and verify. */
static void
wr_ult(void *arg)
{
	struct wr_args *a = arg;
	uint32_t bs = cairn_bdev_block_size(cairn_bdev_desc_get_bdev(a->desc));
	uint64_t base = (uint64_t)a->idx * ULT_BLOCKS;
	size_t len = 4 * bs;
	uint8_t *buf = malloc(len);
	struct cairn_bdev_channel *ch = cairn_bdev_get_io_channel(a->desc);
	int rc;

	a->line = 0;
	if (buf == NULL || ch == NULL) {
		a->line = __LINE__;
		goto out;
	}
	for (uint64_t off = 0; off < ULT_BLOCKS; off += 4) {
		pattern_fill(buf, len, base + off, bs, a->seed);
		rc = cairn_bdev_write_sync(a->desc, ch, buf, base + off, 4);
		if (rc != 0) {
			fprintf(stderr, "ult %u write at %" PRIu64 ": %s\n", a->idx, base + off,
				cairn_strerror(rc));
			a->line = __LINE__;
			goto out;
		}
	}
	for (uint64_t off = 0; off < ULT_BLOCKS; off += 4) {
		memset(buf, 0, len);
		rc = cairn_bdev_read_sync(a->desc, ch, buf, base + off, 4);
		if (rc != 0 || !pattern_check(buf, len, base + off, bs, a->seed)) {
			a->line = __LINE__;
			goto out;
		}
	}
out:
	if (ch != NULL)
		cairn_bdev_put_io_channel(ch);
	free(buf);
}

/* 64 ULTs over two xstreams, all writing at once. */
static void
many_ults(struct cairn_bdev_desc *desc, uint32_t seed)
{
	struct cairn_ult_attr attr = { .prio = CAIRN_PRIO_GENERAL, .joinable = true };
	struct wr_args args[2 * ULTS_PER_XS];
	struct cairn_ult *u[2 * ULTS_PER_XS];

	for (unsigned i = 0; i < 2 * ULTS_PER_XS; i++) {
		args[i] = (struct wr_args){ .desc = desc, .idx = i, .seed = seed, .line = -1 };
		assert_int_equal(cairn_ult_create(cairn_xs_by_role(CAIRN_XS_MAIN, i % 2), wr_ult,
						  &args[i], &attr, &u[i]), 0);
	}
	for (unsigned i = 0; i < 2 * ULTS_PER_XS; i++) {
		assert_int_equal(cairn_ult_join(u[i]), 0);
		if (args[i].line != 0)
			fail_msg("ULT %u failed at line %d", i, args[i].line);
	}
}

/* Async queue depth 64 from one ULT, all outstanding together. */
struct qd_state {
	struct cairn_ult *ult;
	int done, errors;
	bool waiting, in_submit;
	int inside_submit;
};

static void
qd_cb(void *arg, int rc)
{
	struct qd_state *s = arg;

	s->inside_submit += s->in_submit;
	s->errors += rc != 0;
	s->done++;
	if (s->waiting)
		cairn_ult_wake(s->ult);
}

static int
qd_wait(struct qd_state *s, int target)
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

static int
qd_body(void *arg)
{
	struct cairn_bdev_desc *desc = arg;
	struct qd_state s = { .ult = cairn_ult_self() };
	struct cairn_bdev_channel *ch = cairn_bdev_get_io_channel(desc);
	struct cairn_bdev *bdev = cairn_bdev_desc_get_bdev(desc);
	uint32_t bs = cairn_bdev_block_size(bdev);
	uint64_t region = 2 * ULTS_PER_XS * ULT_BLOCKS; /* after the ULT regions */
	uint8_t *buf = cairn_bdev_dma_alloc(bdev, 64 * (size_t)bs);
	uint8_t *raw = malloc(3 * (size_t)bs + 1), *odd = raw + 1;

	CK(ch != NULL && buf != NULL && raw != NULL);
	for (int i = 0; i < 64; i++) {
		pattern_fill(buf + (size_t)i * bs, bs, region + (uint64_t)i * 7, bs, 77);
		s.in_submit = true;
		CKRC(cairn_bdev_write(desc, ch, buf + (size_t)i * bs, region + (uint64_t)i * 7, 1,
				      qd_cb, &s), 0);
		s.in_submit = false;
	}
	CKSUB(qd_wait(&s, 64));
	memset(buf, 0, 64 * (size_t)bs);
	for (int i = 0; i < 64; i++) {
		s.in_submit = true;
		CKRC(cairn_bdev_read(desc, ch, buf + (size_t)i * bs, region + (uint64_t)i * 7, 1,
				     qd_cb, &s), 0);
		s.in_submit = false;
	}
	CKSUB(qd_wait(&s, 128));
	CK(s.errors == 0 && s.inside_submit == 0);
	for (int i = 0; i < 64; i++)
		CK(pattern_check(buf + (size_t)i * bs, bs, region + (uint64_t)i * 7, bs, 77));

	/* misaligned buffer: bounced under O_DIRECT, plain otherwise */
	pattern_fill(odd, 3 * (size_t)bs, 3000, bs, 5);
	CKRC(cairn_bdev_write_sync(desc, ch, odd, 3000, 3), 0);
	memset(raw, 0, 3 * (size_t)bs + 1);
	CKRC(cairn_bdev_read_sync(desc, ch, odd, 3000, 3), 0);
	CK(pattern_check(odd, 3 * (size_t)bs, 3000, bs, 5));

	/* a big request split at the module's max transfer */
	free(raw);
	raw = cairn_bdev_dma_alloc(bdev, 2u << 20);
	CK(raw != NULL);
	pattern_fill(raw, 2u << 20, 0, bs, 6);
	CKRC(cairn_bdev_write_sync(desc, ch, raw, 0, (2u << 20) / bs), 0);
	memset(raw, 0, 2u << 20);
	CKRC(cairn_bdev_read_sync(desc, ch, raw, 0, (2u << 20) / bs), 0);
	CK(pattern_check(raw, 2u << 20, 0, bs, 6));

	/* a burst deeper than the module's submission queue: requests wait and go later */
	{
		uint64_t first = 64, cnt = (2u << 20) / bs - first;

		if (cnt > 600)
			cnt = 600;
		memset(raw, 0, 2u << 20);
		s.done = 0;
		for (uint64_t i = 0; i < cnt; i++) {
			s.in_submit = true;
			CKRC(cairn_bdev_read(desc, ch, raw + (first + i) * bs, first + i, 1, qd_cb,
					     &s), 0);
			s.in_submit = false;
		}
		CKSUB(qd_wait(&s, (int)cnt));
		CK(s.errors == 0 && s.inside_submit == 0);
		CK(pattern_check(raw + first * bs, cnt * bs, first, bs, 6));
	}

	/* unmap and write-zeroes read back zeros; neighbours intact */
	CKRC(cairn_bdev_unmap_sync(desc, ch, 16, 16), 0);
	CKRC(cairn_bdev_write_zeroes_sync(desc, ch, 40, 8), 0);
	CKRC(cairn_bdev_flush_sync(desc, ch), 0);
	CKRC(cairn_bdev_read_sync(desc, ch, raw, 0, 64), 0);
	CK(pattern_check(raw, 16 * (size_t)bs, 0, bs, 6));
	CK(all_zero(raw + 16 * (size_t)bs, 16 * (size_t)bs));
	CK(pattern_check(raw + 32 * (size_t)bs, 8 * (size_t)bs, 32, bs, 6));
	CK(all_zero(raw + 40 * (size_t)bs, 8 * (size_t)bs));
	CK(pattern_check(raw + 48 * (size_t)bs, 16 * (size_t)bs, 48, bs, 6));

	/* out of range */
	CKRC(cairn_bdev_read_sync(desc, ch, raw, cairn_bdev_num_blocks(bdev), 1),
	     -CAIRN_ERR_OVERFLOW);
	CKRC(cairn_bdev_write_sync(desc, ch, raw, cairn_bdev_num_blocks(bdev) - 1, 2),
	     -CAIRN_ERR_OVERFLOW);
	cairn_bdev_dma_free(raw);
	cairn_bdev_dma_free(buf);
	cairn_bdev_put_io_channel(ch);
	return 0;
}

struct verify_args {
	struct cairn_bdev_desc *desc;
	uint32_t seed;
};

static int
verify_body(void *arg)
{
	struct verify_args *a = arg;
	uint32_t bs = cairn_bdev_block_size(cairn_bdev_desc_get_bdev(a->desc));
	size_t len = (size_t)ULT_BLOCKS * bs;
	uint8_t *buf = malloc(len);

	CK(buf != NULL);
	/* the regions written by the 64 ULTs (after qd_body's whole-device write) */
	for (unsigned i = 0; i < 2 * ULTS_PER_XS; i++) {
		uint64_t base = (uint64_t)i * ULT_BLOCKS;

		CKRC(cairn_bdev_read_sync(a->desc, NULL, buf, base, ULT_BLOCKS), 0);
		CK(pattern_check(buf, len, base, bs, a->seed));
	}
	free(buf);
	return 0;
}

struct resize_state {
	int resizes;
};

static void
resize_event(enum cairn_bdev_event_type type, struct cairn_bdev *bdev, void *ctx)
{
	struct resize_state *s = ctx;

	if (type == CAIRN_BDEV_EVENT_RESIZE)
		__atomic_add_fetch(&s->resizes, 1, __ATOMIC_SEQ_CST);
}

static void
file_module_test(const struct file_mod *m)
{
	struct cairn_bdev *b, *b2;
	struct cairn_bdev_desc *desc;
	struct done_wait w = DONE_WAIT_INIT;
	struct resize_state rs = { 0 };
	struct verify_args va;
	uint64_t nb;
	json_t *info;
	uint8_t *fbuf;
	uint32_t bs;
	int fd;

	make_file(FILE_SIZE);
	/* creation errors */
	assert_int_equal(m->create("F0", "/nonexistent/cairn/file", 0, NULL, &b), -ENOENT);
	assert_int_equal(m->create("F0", "/tmp", 0, NULL, &b), -EISDIR);
	assert_int_equal(m->create("F0", g_path, 1000, NULL, &b), -CAIRN_ERR_INVAL);
	assert_int_equal(m->create("F0", "", 0, NULL, &b), -CAIRN_ERR_INVAL);
	assert_int_equal(m->create("F0", g_path, 0, NULL, &b), 0);
	assert_int_equal(m->create("F0", g_path, 0, NULL, &b2), -CAIRN_ERR_EXIST);
	bs = cairn_bdev_block_size(b);
	nb = cairn_bdev_num_blocks(b);
	assert_int_equal(nb, (uint64_t)FILE_SIZE / bs);
	assert_true(cairn_bdev_has_write_cache(b));
	assert_int_equal(cairn_bdev_info_json(b, &info), 0);
	fprintf(stderr, "# %s bdev: block size %u, buf_align %zu, direct_io %s\n", m->name, bs,
		cairn_bdev_buf_align(b),
		json_is_true(json_object_get(json_object_get(json_object_get(info,
				"driver_specific"), m->name), "direct_io")) ? "yes" : "no");
	json_decref(info);

	assert_int_equal(cairn_bdev_open("F0", true, resize_event, &rs, &desc), 0);
	run_on(0, qd_body, desc);
	many_ults(desc, 11);
	va = (struct verify_args){ .desc = desc, .seed = 11 };
	run_on(1, verify_body, &va);
	cairn_bdev_close(desc);

	/* delete, then check the bytes on the file and through a new bdev */
	assert_int_equal(m->del("F0", done_cb, &w), 0);
	assert_int_equal(done_wait_for(&w, 5000), 1);
	fbuf = malloc((size_t)ULT_BLOCKS * bs);
	assert_non_null(fbuf);
	fd = open(g_path, O_RDONLY);
	assert_true(fd >= 0);
	for (unsigned i = 0; i < 2 * ULTS_PER_XS; i += 7) {
		off_t off = (off_t)i * ULT_BLOCKS * bs;

		assert_int_equal(pread(fd, fbuf, (size_t)ULT_BLOCKS * bs, off),
				 (ssize_t)ULT_BLOCKS * bs);
		assert_true(pattern_check(fbuf, (size_t)ULT_BLOCKS * bs, (uint64_t)i * ULT_BLOCKS,
					  bs, 11));
	}
	close(fd);
	free(fbuf);

	assert_int_equal(m->create("F1", g_path, bs, NULL, &b), 0);
	assert_int_equal(cairn_bdev_open("F1", false, resize_event, &rs, &desc), 0);
	va.desc = desc;
	run_on(1, verify_body, &va);

	/* grow the file: rescan sends RESIZE */
	assert_int_equal(truncate(g_path, (off_t)FILE_SIZE * 2), 0);
	assert_int_equal(m->rescan("F1"), 0);
	assert_int_equal(cairn_bdev_num_blocks(b), 2 * nb);
	for (int i = 0; i < 500 && __atomic_load_n(&rs.resizes, __ATOMIC_SEQ_CST) == 0; i++)
		cairn_ult_sleep_us(2000);
	assert_int_equal(rs.resizes, 1);
	assert_int_equal(m->rescan("F1"), 0); /* unchanged: no event */
	assert_int_equal(m->rescan("Nope"), -CAIRN_ERR_NONEXIST);
	cairn_bdev_close(desc);
	assert_int_equal(m->del("F1", NULL, NULL), 0);

	/* 512-byte blocks: below the direct-I/O alignment of some file systems (tmpfs,
	 * 4K-sector disks), where the bdev must fall back to buffered I/O */
	assert_int_equal(m->create("F2", g_path, 512, NULL, &b), 0);
	assert_int_equal(cairn_bdev_info_json(b, &info), 0);
	fprintf(stderr, "# %s bdev with 512-byte blocks: direct_io %s\n", m->name,
		json_is_true(json_object_get(json_object_get(json_object_get(info,
				"driver_specific"), m->name), "direct_io")) ? "yes" : "no");
	json_decref(info);
	assert_int_equal(cairn_bdev_open("F2", true, ignore_event, NULL, &desc), 0);
	run_on(0, qd_body, desc);
	cairn_bdev_close(desc);
	assert_int_equal(m->del("F2", NULL, NULL), 0);
	unlink(g_path);
}

static void
test_uring(void **state)
{
	file_module_test(&g_mods[0]);
}

static void
test_aio(void **state)
{
	file_module_test(&g_mods[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uring),
		cmocka_unit_test(test_aio),
	};

	return cmocka_run_group_tests(tests, bdev_test_setup, bdev_test_teardown);
}
