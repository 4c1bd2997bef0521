/*
 * The error bdev over a malloc base: pass-through, claim of the base, FAIL injection
 * by type with skip/count, seeded rate (reproducible), CORRUPT on reads and writes,
 * stats of failed I/O, config validation, and cleanup.
 */
#include <jansson.h>
#include <uuid/uuid.h>

#include "bdev_test.h"

#define BS 512
#define NB 256

static int
err_body(void *arg)
{
	struct cairn_bdev_error_opts o;
	struct cairn_bdev_desc *desc, *base;
	struct cairn_bdev_channel *ch;
	struct cairn_bdev_stats st;
	uint8_t w[4 * BS], r[4 * BS], expect[BS];
	uint64_t hits;
	int fails, round_hits[2] = { 0, 0 };
	uint8_t seq[2][200];

	CKRC(cairn_bdev_open("EE_MallocE", true, ignore_event, NULL, &desc), 0);
	ch = cairn_bdev_get_io_channel(desc);
	CK(ch != NULL);
	cairn_bdev_reset_stats(cairn_bdev_desc_get_bdev(desc));

	/* pass-through */
	pattern_fill(w, sizeof(w), 10, BS, 1);
	CKRC(cairn_bdev_write_sync(desc, ch, w, 10, 4), 0);
	CKRC(cairn_bdev_read_sync(desc, ch, r, 10, 4), 0);
	CK(pattern_check(r, sizeof(r), 10, BS, 1));

	/* FAIL the next 3 writes, nothing else */
	cairn_bdev_error_opts_default(&o);
	o.io_type_mask = 1u << CAIRN_BDEV_IO_WRITE;
	o.count = 3;
	CKRC(cairn_bdev_error_inject("EE_MallocE", &o), 0);
	pattern_fill(w, sizeof(w), 10, BS, 2);
	for (int i = 0; i < 3; i++)
		CKRC(cairn_bdev_write_sync(desc, ch, w, 10, 4), -CAIRN_ERR_IO);
	CKRC(cairn_bdev_read_sync(desc, ch, r, 10, 4), 0);
	CK(pattern_check(r, sizeof(r), 10, BS, 1)); /* failed writes changed nothing */
	CKRC(cairn_bdev_write_sync(desc, ch, w, 10, 4), 0);
	CKRC(cairn_bdev_read_sync(desc, ch, r, 10, 4), 0);
	CK(pattern_check(r, sizeof(r), 10, BS, 2));
	CKRC(cairn_bdev_error_hits("EE_MallocE", &hits), 0);
	CK(hits == 3);
	CKRC(cairn_bdev_get_stats(cairn_bdev_desc_get_bdev(desc), &st), 0);
	CK(st.op[CAIRN_BDEV_IO_WRITE].errors == 3);
	CK(st.op[CAIRN_BDEV_IO_WRITE].ops == 5);
	CK(st.op[CAIRN_BDEV_IO_WRITE].bytes == 2 * sizeof(w));

	/* skip 2 reads, then fail one with a chosen rc */
	cairn_bdev_error_opts_default(&o);
	o.io_type_mask = 1u << CAIRN_BDEV_IO_READ;
	o.skip = 2;
	o.count = 1;
	o.error_rc = -5;
	CKRC(cairn_bdev_error_inject("EE_MallocE", &o), 0);
	CKRC(cairn_bdev_read_sync(desc, ch, r, 0, 1), 0);
	CKRC(cairn_bdev_read_sync(desc, ch, r, 0, 1), 0);
	CKRC(cairn_bdev_read_sync(desc, ch, r, 0, 1), -5);
	CKRC(cairn_bdev_read_sync(desc, ch, r, 0, 1), 0);
	CKRC(cairn_bdev_write_sync(desc, ch, w, 0, 1), 0);

	/* flush and unmap can be hit too */
	cairn_bdev_error_opts_default(&o);
	o.io_type_mask = (1u << CAIRN_BDEV_IO_UNMAP) | (1u << CAIRN_BDEV_IO_WRITE_ZEROES);
	CKRC(cairn_bdev_error_inject("EE_MallocE", &o), 0);
	CKRC(cairn_bdev_unmap_sync(desc, ch, 0, 1), -CAIRN_ERR_IO);
	CKRC(cairn_bdev_write_zeroes_sync(desc, ch, 0, 1), -CAIRN_ERR_IO);
	CKRC(cairn_bdev_read_sync(desc, ch, r, 10, 4), 0);
	CK(pattern_check(r, sizeof(r), 10, BS, 2));

	/* a seeded rate: about half, and the same sequence for the same seed */
	for (int round = 0; round < 2; round++) {
		cairn_bdev_error_opts_default(&o);
		o.io_type_mask = 1u << CAIRN_BDEV_IO_READ;
		o.rate_ppm = 500000;
		o.seed = 42;
		CKRC(cairn_bdev_error_inject("EE_MallocE", &o), 0);
		for (int i = 0; i < 200; i++) {
			int rc = cairn_bdev_read_sync(desc, ch, r, (uint64_t)i, 1);

			CK(rc == 0 || rc == -CAIRN_ERR_IO);
			seq[round][i] = rc != 0;
			round_hits[round] += rc != 0;
		}
	}
	CK(round_hits[0] > 60 && round_hits[0] < 140);
	CK(memcmp(seq[0], seq[1], sizeof(seq[0])) == 0);
	CKRC(cairn_bdev_error_hits("EE_MallocE", &hits), 0);
	CK(hits == (uint64_t)round_hits[1]);

	/* CORRUPT on read: one byte per block flipped, the base untouched */
	cairn_bdev_error_opts_default(&o);
	o.io_type_mask = 1u << CAIRN_BDEV_IO_READ;
	o.mode = CAIRN_BDEV_ERROR_CORRUPT;
	o.count = 1;
	CKRC(cairn_bdev_error_inject("EE_MallocE", &o), 0);
	CKRC(cairn_bdev_read_sync(desc, ch, r, 10, 4), 0);
	CK(!pattern_check(r, sizeof(r), 10, BS, 2));
	pattern_fill(w, sizeof(w), 10, BS, 2);
	fails = 0;
	for (size_t i = 0; i < sizeof(r); i++)
		fails += r[i] != w[i];
	CK(fails == 4);
	CKRC(cairn_bdev_read_sync(desc, ch, r, 10, 4), 0); /* count exhausted */
	CK(pattern_check(r, sizeof(r), 10, BS, 2));

	/* CORRUPT on write: the base holds the damaged block; the caller's buffer is intact */
	cairn_bdev_error_opts_default(&o);
	o.io_type_mask = 1u << CAIRN_BDEV_IO_WRITE;
	o.mode = CAIRN_BDEV_ERROR_CORRUPT;
	CKRC(cairn_bdev_error_inject("EE_MallocE", &o), 0);
	pattern_fill(w, BS, 50, BS, 5);
	memcpy(expect, w, BS);
	CKRC(cairn_bdev_write_sync(desc, ch, w, 50, 1), 0);
	CK(memcmp(w, expect, BS) == 0);
	CKRC(cairn_bdev_error_clear("EE_MallocE"), 0);
	CKRC(cairn_bdev_read_sync(desc, ch, r, 50, 1), 0);
	CK((r[BS / 2] ^ expect[BS / 2]) == 0xff);
	r[BS / 2] ^= 0xff;
	CK(memcmp(r, expect, BS) == 0);

	/* the base, opened read-only beside the claim, sees the same bytes */
	CKRC(cairn_bdev_open("MallocE", false, ignore_event, NULL, &base), 0);
	CKRC(cairn_bdev_read_sync(base, NULL, r, 10, 4), 0);
	CK(pattern_check(r, sizeof(r), 10, BS, 2));
	cairn_bdev_close(base);

	cairn_bdev_put_io_channel(ch);
	cairn_bdev_close(desc);
	return 0;
}

static void
test_error_bdev(void **state)
{
	struct cairn_bdev_error_opts o;
	struct cairn_bdev_desc *d;
	struct cairn_bdev *b, *e, *e2;
	struct done_wait w = DONE_WAIT_INIT;

	assert_int_equal(cairn_bdev_malloc_create("MallocE", NB, BS, NULL, &b), 0);
	assert_int_equal(cairn_bdev_error_create("NoBase", &e), -CAIRN_ERR_NONEXIST);
	assert_int_equal(cairn_bdev_error_create("MallocE", &e), 0);
	assert_string_equal(cairn_bdev_name(e), "EE_MallocE");
	assert_int_equal(cairn_bdev_num_blocks(e), NB);
	assert_int_equal(cairn_bdev_block_size(e), BS);
	assert_string_equal(cairn_bdev_claimed_by(b), "error:EE_MallocE");
	assert_int_equal(cairn_bdev_open("MallocE", true, ignore_event, NULL, &d), -CAIRN_ERR_PERM);
	assert_int_equal(cairn_bdev_error_create("MallocE", &e2), -CAIRN_ERR_PERM);

	cairn_bdev_error_opts_default(&o);
	o.rate_ppm = 1000001;
	assert_int_equal(cairn_bdev_error_inject("EE_MallocE", &o), -CAIRN_ERR_INVAL);
	cairn_bdev_error_opts_default(&o);
	o.mode = (enum cairn_bdev_error_mode)7;
	assert_int_equal(cairn_bdev_error_inject("EE_MallocE", &o), -CAIRN_ERR_INVAL);
	cairn_bdev_error_opts_default(&o);
	o.error_rc = 5;
	assert_int_equal(cairn_bdev_error_inject("EE_MallocE", &o), -CAIRN_ERR_INVAL);
	cairn_bdev_error_opts_default(&o);
	assert_int_equal(cairn_bdev_error_inject("MallocE", &o), -CAIRN_ERR_NONEXIST);
	assert_int_equal(cairn_bdev_error_inject("Nope", &o), -CAIRN_ERR_NONEXIST);

	run_on(0, err_body, NULL);

	/* deleting the error bdev releases the base's claim */
	assert_int_equal(cairn_bdev_error_delete("MallocE", done_cb, &w), -CAIRN_ERR_NONEXIST);
	assert_int_equal(cairn_bdev_error_delete("EE_MallocE", done_cb, &w), 0);
	assert_int_equal(done_wait_for(&w, 5000), 1);
	assert_null(cairn_bdev_claimed_by(b));
	assert_int_equal(cairn_bdev_open("MallocE", true, ignore_event, NULL, &d), 0);
	cairn_bdev_close(d);
	assert_int_equal(cairn_bdev_malloc_delete("MallocE", NULL, NULL), 0);
}

/* The uuid given at creation is kept, saved in the replayable configuration and restored
 * by replaying it; a taken uuid fails cleanly and leaves the base unclaimed. */
static void
test_error_uuid(void **state)
{
	static const uint8_t want[16] = { 0x5f, 0x9c, 0x1c, 0x2e, 0x2d, 0x6a, 0x4f, 0x7e,
					  0x9b, 0x3c, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f };
	struct done_wait w = DONE_WAIT_INIT, w2 = DONE_WAIT_INIT, w3 = DONE_WAIT_INIT;
	struct cairn_bdev *b, *b2, *e;
	uint8_t got[16], parsed[16];
	const char *saved = NULL;
	json_t *arr, *c;
	size_t i;

	(void)state;
	assert_int_equal(cairn_bdev_malloc_create("MallocU", NB, BS, NULL, &b), 0);
	assert_int_equal(cairn_bdev_error_create_uuid("MallocU", want, &e), 0);
	cairn_bdev_uuid(e, got);
	assert_memory_equal(got, want, 16);

	arr = json_array();
	assert_int_equal(cairn_bdev_write_config_json(arr), 0);
	json_array_foreach(arr, i, c) {
		json_t *p = json_object_get(c, "params");

		if (strcmp(json_string_value(json_object_get(c, "method")), "bdev_error_create") == 0 &&
		    strcmp(json_string_value(json_object_get(p, "base_name")), "MallocU") == 0)
			saved = json_string_value(json_object_get(p, "uuid"));
	}
	assert_non_null(saved);
	assert_string_equal(saved, "5f9c1c2e-2d6a-4f7e-9b3c-1a2b3c4d5e6f");
	assert_int_equal(uuid_parse(saved, parsed), 0);
	json_decref(arr);

	/* the same uuid on a second error bdev is taken; its base must stay usable */
	assert_int_equal(cairn_bdev_malloc_create("MallocU2", NB, BS, NULL, &b2), 0);
	assert_int_equal(cairn_bdev_error_create_uuid("MallocU2", want, &e), -CAIRN_ERR_EXIST);
	assert_null(cairn_bdev_claimed_by(b2));
	assert_int_equal(cairn_bdev_malloc_delete("MallocU2", NULL, NULL), 0);

	/* delete and replay: the bdev comes back with the saved identity */
	assert_int_equal(cairn_bdev_error_delete("EE_MallocU", done_cb, &w), 0);
	assert_int_equal(done_wait_for(&w, 5000), 1);
	assert_int_equal(cairn_bdev_error_create_uuid("MallocU", parsed, &e), 0);
	cairn_bdev_uuid(e, got);
	assert_memory_equal(got, want, 16);
	/* NULL: a fresh random one */
	assert_int_equal(cairn_bdev_error_delete("EE_MallocU", done_cb, &w2), 0);
	assert_int_equal(done_wait_for(&w2, 5000), 1);
	assert_int_equal(cairn_bdev_error_create_uuid("MallocU", NULL, &e), 0);
	cairn_bdev_uuid(e, got);
	assert_memory_not_equal(got, want, 16);
	assert_int_equal(cairn_bdev_error_delete("EE_MallocU", done_cb, &w3), 0);
	assert_int_equal(done_wait_for(&w3, 5000), 1);
	assert_int_equal(cairn_bdev_malloc_delete("MallocU", NULL, NULL), 0);
	(void)b;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_bdev),
		cmocka_unit_test(test_error_uuid),
	};

	return cmocka_run_group_tests(tests, bdev_test_setup, bdev_test_teardown);
}
