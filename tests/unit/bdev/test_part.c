/*
 * The part bdev over a malloc base: creation checks (bounds, overflow, overlap, claim of
 * the base), data lands at the right base offset, two parts do not see each other's
 * blocks, out-of-range I/O is refused, the base is released with its last part, and a
 * base resize / removal deletes the parts that no longer fit.
 */
#include "bdev_test.h"

#define BS 512
#define NB 1024

struct part_ctx {
	const char *name;
	uint64_t base_off; /* blocks of the base where the part starts */
	uint64_t nb;       /* blocks of the part */
	uint32_t seed;
};

/* Write a pattern through the part, read it back through the part and the base. */
static int
part_io_body(void *arg)
{
	struct part_ctx *pc = arg;
	struct cairn_bdev_desc *pd, *bd;
	struct cairn_bdev_channel *pch;
	uint8_t w[4 * BS], r[4 * BS];

	CKRC(cairn_bdev_open(pc->name, true, ignore_event, NULL, &pd), 0);
	CKRC(cairn_bdev_open("MallocP", false, ignore_event, NULL, &bd), 0);
	pch = cairn_bdev_get_io_channel(pd);
	CK(pch != NULL);
	/* first and last blocks of the part */
	pattern_fill(w, sizeof(w), 0, BS, pc->seed);
	CKRC(cairn_bdev_write_sync(pd, pch, w, 0, 4), 0);
	pattern_fill(w, sizeof(w), pc->nb - 4, BS, pc->seed);
	CKRC(cairn_bdev_write_sync(pd, pch, w, pc->nb - 4, 4), 0);
	CKRC(cairn_bdev_flush_sync(pd, pch), 0);
	/* seen at the part's offset in the base */
	CKRC(cairn_bdev_read_sync(bd, NULL, r, pc->base_off, 4), 0);
	CK(pattern_check(r, sizeof(r), 0, BS, pc->seed));
	CKRC(cairn_bdev_read_sync(bd, NULL, r, pc->base_off + pc->nb - 4, 4), 0);
	CK(pattern_check(r, sizeof(r), pc->nb - 4, BS, pc->seed));
	CKRC(cairn_bdev_read_sync(pd, pch, r, pc->nb - 4, 4), 0);
	CK(pattern_check(r, sizeof(r), pc->nb - 4, BS, pc->seed));
	/* bounds: one block past the end, a range crossing the end */
	CKRC(cairn_bdev_read_sync(pd, pch, r, pc->nb, 1), -CAIRN_ERR_OVERFLOW);
	CKRC(cairn_bdev_write_sync(pd, pch, w, pc->nb - 1, 2), -CAIRN_ERR_OVERFLOW);
	/* write-zeroes and unmap are offset too */
	CKRC(cairn_bdev_write_zeroes_sync(pd, pch, 1, 1), 0);
	CKRC(cairn_bdev_read_sync(bd, NULL, r, pc->base_off + 1, 1), 0);
	CK(all_zero(r, BS));
	CKRC(cairn_bdev_read_sync(bd, NULL, r, pc->base_off, 1), 0);
	CK(pattern_check(r, BS, 0, BS, pc->seed));
	cairn_bdev_put_io_channel(pch);
	cairn_bdev_close(pd);
	cairn_bdev_close(bd);
	return 0;
}

/* Blocks of part A are untouched by writes through part B. */
static int
part_isolation_body(void *arg)
{
	struct cairn_bdev_desc *a;
	uint8_t r[4 * BS];

	(void)arg;
	CKRC(cairn_bdev_open("P0", false, ignore_event, NULL, &a), 0);
	CKRC(cairn_bdev_read_sync(a, NULL, r, 0, 1), 0); /* block 1 was zeroed */
	CK(pattern_check(r, BS, 0, BS, 1));
	CKRC(cairn_bdev_read_sync(a, NULL, r, 256 - 4, 4), 0);
	CK(pattern_check(r, sizeof(r), 256 - 4, BS, 1));
	cairn_bdev_close(a);
	return 0;
}

static int
mk(const char *name, const char *base, uint64_t off, uint64_t nb, struct cairn_bdev **out)
{
	struct cairn_bdev_part_opts o;

	cairn_bdev_part_opts_default(&o);
	o.name = name;
	o.base_name = base;
	o.offset_blocks = off;
	o.num_blocks = nb;
	return cairn_bdev_part_create(&o, out);
}

static void
del_wait(int (*del)(const char *, cairn_bdev_cb, void *), const char *name)
{
	struct done_wait w = DONE_WAIT_INIT;

	assert_int_equal(del(name, done_cb, &w), 0);
	assert_int_equal(done_wait_for(&w, 5000), 1);
	assert_int_equal(w.rc, 0);
}

static void
test_part_create_checks(void **state)
{
	struct cairn_bdev_part_opts o;
	struct cairn_bdev *b, *p;
	struct cairn_bdev_desc *d;

	(void)state;
	assert_int_equal(cairn_bdev_malloc_create("MallocP", NB, BS, NULL, &b), 0);
	/* no base, bad name, 0 blocks, overflow, beyond the end */
	assert_int_equal(mk("X", "NoSuch", 0, 8, &p), -CAIRN_ERR_NONEXIST);
	assert_int_equal(mk("bad name", "MallocP", 0, 8, &p), -CAIRN_ERR_INVAL);
	assert_int_equal(mk("X", "MallocP", 0, 0, &p), -CAIRN_ERR_INVAL);
	assert_int_equal(mk("X", "MallocP", UINT64_MAX - 1, 8, &p), -CAIRN_ERR_INVAL);
	assert_int_equal(mk("X", "MallocP", NB - 7, 8, &p), -CAIRN_ERR_OVERFLOW);
	cairn_bdev_part_opts_default(&o);
	o.opts_size = 1;
	assert_int_equal(cairn_bdev_part_create(&o, &p), -CAIRN_ERR_INVAL);
	/* failures left the base unclaimed */
	assert_null(cairn_bdev_claimed_by(b));

	/* exactly to the end is fine; it claims the base */
	assert_int_equal(mk("Pend", "MallocP", NB - 8, 8, &p), 0);
	assert_int_equal(cairn_bdev_num_blocks(p), 8);
	assert_int_equal(cairn_bdev_block_size(p), BS);
	assert_string_equal(cairn_bdev_claimed_by(b), "part");
	assert_string_equal(cairn_bdev_module_name(p), "part");
	assert_int_equal(cairn_bdev_open("MallocP", true, ignore_event, NULL, &d),
			 -CAIRN_ERR_PERM);
	/* overlap with it, at either side */
	assert_int_equal(mk("X", "MallocP", NB - 9, 2, &p), -CAIRN_ERR_BUSY);
	assert_int_equal(mk("X", "MallocP", NB - 1, 1, &p), -CAIRN_ERR_BUSY);
	assert_int_equal(mk("Pend", "MallocP", 0, 1, &p), -CAIRN_ERR_EXIST);
	/* adjacent is fine */
	assert_int_equal(mk("Pnext", "MallocP", NB - 9, 1, &p), 0);
	del_wait(cairn_bdev_part_delete, "Pnext");
	assert_int_equal(cairn_bdev_part_delete("MallocP", NULL, NULL), -CAIRN_ERR_NONEXIST);
	del_wait(cairn_bdev_part_delete, "Pend");
	/* the last part released the base */
	assert_null(cairn_bdev_claimed_by(b));
	assert_int_equal(cairn_bdev_open("MallocP", true, ignore_event, NULL, &d), 0);
	/* a base open for writing by someone else cannot be partitioned */
	assert_int_equal(mk("X", "MallocP", 0, 8, &p), -CAIRN_ERR_PERM);
	cairn_bdev_close(d);
	del_wait(cairn_bdev_malloc_delete, "MallocP");
}

static void
test_part_io(void **state)
{
	struct part_ctx p0 = { "P0", 0, 256, 1 }, p1 = { "P1", 256, 512, 2 };
	struct part_ctx p2 = { "P2", 1000, 24, 3 };
	struct cairn_bdev *b, *p;

	(void)state;
	assert_int_equal(cairn_bdev_malloc_create("MallocP", NB, BS, NULL, &b), 0);
	assert_int_equal(mk("P0", "MallocP", 0, 256, &p), 0);
	assert_int_equal(mk("P1", "MallocP", 256, 512, &p), 0);
	assert_int_equal(mk("P2", "MallocP", 1000, 24, &p), 0);
	run_on(0, part_io_body, &p0);
	run_on(1, part_io_body, &p1); /* another xstream, its own channels */
	run_on(0, part_io_body, &p2);
	run_on(1, part_isolation_body, NULL);

	/* shrinking the base below P2's end deletes P2 only */
	assert_int_equal(cairn_bdev_notify_blockcnt_change(b, 900), 0);
	for (int i = 0; i < 500 && cairn_bdev_get_by_name("P2") != NULL; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	assert_null(cairn_bdev_get_by_name("P2"));
	assert_non_null(cairn_bdev_get_by_name("P1"));
	/* removing the base deletes the remaining parts, then the base */
	del_wait(cairn_bdev_malloc_delete, "MallocP");
	assert_null(cairn_bdev_get_by_name("P0"));
	assert_null(cairn_bdev_get_by_name("P1"));
	assert_int_equal(cairn_bdev_count(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_part_create_checks),
		cmocka_unit_test(test_part_io),
	};

	return cmocka_run_group_tests(tests, bdev_test_setup, bdev_test_teardown);
}
