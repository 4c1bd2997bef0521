/*
 * VOS pool durability tests on a real runtime and a real file (uring bdev): format, open,
 * close and reopen; bad input (not a pool, newer version, truncated, limits, 64-bit
 * extent overflow) with no change to the data; corruption of data extents and WAL pages;
 * NOSPACE then reclaim; group commit; WAL wrap-around with checkpoints and crash-reopen;
 * local transactions.
 */
#include <sys/stat.h>
#include <time.h>

/* vos_internal.h (vos_index.h) first: it defines struct cairn_vos_oid, which vos.h then
 * skips. */
#include "vos_internal.h"
#include "vos_test.h"
#include "common/csum.h"
#include "common/fault.h"

#define POOL_SIZE (32ull << 20)

static char g_path[128];
static const char *g_bdev = "vt0";
static uint8_t g_pool_uuid[16] = { 0xaa, 1, 2, 3 };
static uint8_t g_cont[16] = { 0xc0, 1 };
static uint8_t g_cont2[16] = { 0xc0, 2 };

static int
setup(void **state)
{
	struct cairn_bdev *b;

	snprintf(g_path, sizeof(g_path), "/tmp/cairn-vostest-%d.pool", (int)getpid());
	if (vt_start() != 0 || vt_file(g_path, POOL_SIZE) != 0)
		return -1;
	return cairn_bdev_uring_create(g_bdev, g_path, 4096, NULL, &b);
}

static int
teardown(void **state)
{
	vt_stop();
	unlink(g_path);
	return 0;
}

static int
format_small(uint64_t wal, uint64_t ckpt, uint32_t inl)
{
	struct cairn_vos_pool_opts o;

	cairn_vos_pool_opts_default(&o);
	o.wal_size = wal;
	o.ckpt_size = ckpt;
	o.inline_max = inl;
	return cairn_vos_pool_format(g_bdev, g_pool_uuid, &o);
}

static int
sv_put(struct cairn_vos_pool *p, const uint8_t *cont, uint64_t oid_lo, const char *dkey,
       const char *akey, uint64_t epoch, const void *buf, uint64_t len)
{
	struct cairn_vos_oid oid = { 1, oid_lo };
	struct cairn_vos_iod iod = {
		.akey = akey, .akey_len = (uint32_t)strlen(akey), .type = CAIRN_VOS_IOD_SINGLE,
		.buf = (void *)buf, .size = len,
	};

	return cairn_vos_update(p, cont, &oid, epoch, 0, dkey, (uint32_t)strlen(dkey), 1, &iod);
}

static int
sv_get(struct cairn_vos_pool *p, const uint8_t *cont, uint64_t oid_lo, const char *dkey,
       const char *akey, uint64_t epoch, void *buf, uint64_t cap, uint64_t *len)
{
	struct cairn_vos_oid oid = { 1, oid_lo };
	struct cairn_vos_iod iod = {
		.akey = akey, .akey_len = (uint32_t)strlen(akey), .type = CAIRN_VOS_IOD_SINGLE,
		.buf = buf, .buf_size = cap,
	};
	int rc = cairn_vos_fetch(p, cont, &oid, epoch, dkey, (uint32_t)strlen(dkey), 1, &iod);

	*len = iod.size;
	return rc;
}

/* ------------------------------------------------------------------ basic */

static int
body_basic(void *arg)
{
	struct cairn_vos_pool *p;
	struct cairn_vos_pool_info info;
	static char big[10000], got[10000], small[64];
	struct cairn_vos_recx rx[2] = { { 10, 3 }, { 100, 2 } };
	char arr[5 * 8], arr_got[5 * 8 + 8 * 8];
	struct cairn_vos_recx rx_get[2] = { { 8, 7 }, { 100, 1 } };
	struct cairn_vos_oid oid = { 1, 7 };
	struct cairn_vos_iod aiod = {
		.akey = "arr", .akey_len = 3, .type = CAIRN_VOS_IOD_ARRAY, .rec_size = 8,
		.nr_recx = 2, .recx = rx, .buf = arr, .buf_size = sizeof(arr),
	};
	uint64_t len;
	int i;

	CKRC(format_small(0, 0, 1024), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(memcmp(info.uuid, g_pool_uuid, 16) == 0);
	CK(info.data_free == info.data_bytes);
	CK(info.total_bytes <= POOL_SIZE);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), -CAIRN_ERR_EXIST);
	vt_fill(big, sizeof(big), 1, 1);
	vt_fill(small, sizeof(small), 2, 1);
	CKRC(sv_put(p, g_cont, 7, "d", "big", 1, big, sizeof(big)), 0);
	CKRC(sv_put(p, g_cont, 7, "d", "small", 1, small, sizeof(small)), 0);
	for (i = 0; i < 5 * 8; i++)
		arr[i] = (char)(i + 1);
	CKRC(cairn_vos_update(p, g_cont, &oid, 2, 0, "d", 1, 1, &aiod), 0);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.data_free == info.data_bytes - 3 * 4096); /* only "big" needs an extent */

	for (int round = 0; round < 2; round++) {
		CKRC(sv_get(p, g_cont, 7, "d", "big", CAIRN_VOS_EPOCH_MAX, got, sizeof(got), &len),
		     0);
		CK(len == sizeof(big) && memcmp(got, big, len) == 0);
		CKRC(sv_get(p, g_cont, 7, "d", "small", 5, got, sizeof(got), &len), 0);
		CK(len == sizeof(small) && memcmp(got, small, len) == 0);
		/* Before the epoch of the update: nothing. */
		CKRC(sv_get(p, g_cont, 7, "d", "small", 0 + 1, got, sizeof(got), &len), 0);
		CK(len == sizeof(small));
		CKRC(sv_get(p, g_cont, 7, "d", "nope", 5, got, sizeof(got), &len), 0);
		CK(len == 0);
		/* Too small a buffer. */
		CKRC(sv_get(p, g_cont, 7, "d", "big", 5, got, 10, &len), -CAIRN_ERR_TRUNC);
		CK(len == sizeof(big));
		/* Array: records 8..14 and 100: 8,9 holes; 10..12 data; 13,14 holes; 100. */
		memset(arr_got, 0x77, sizeof(arr_got));
		aiod.recx = rx_get;
		aiod.buf = arr_got;
		aiod.buf_size = 8 * 8;
		CKRC(cairn_vos_fetch(p, g_cont, &oid, 2, "d", 1, 1, &aiod), 0);
		CK(aiod.size == 8);
		for (i = 0; i < 16; i++)
			CK(arr_got[i] == 0);
		CK(memcmp(arr_got + 16, arr, 24) == 0);
		for (i = 40; i < 56; i++)
			CK(arr_got[i] == 0);
		CK(memcmp(arr_got + 56, arr + 24, 8) == 0);
		/* At epoch 1 the array did not exist. */
		CKRC(cairn_vos_fetch(p, g_cont, &oid, 1, "d", 1, 1, &aiod), 0);
		CK(aiod.size == 0);
		aiod.recx = rx;
		aiod.buf = arr;
		aiod.buf_size = sizeof(arr);
		CKRC(cairn_vos_pool_verify(p, NULL), 0);
		/* Reopen: a clean close then a crash-style drop (WAL replay). */
		if (round == 0) {
			CKRC(cairn_vos_pool_close(p), 0);
		} else {
			break;
		}
		CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
		CKRC(cairn_vos_pool_query(p, &info), 0);
		CK(info.replayed == 0); /* clean close checkpointed */
		CK(info.data_free == info.data_bytes - 3 * 4096);
	}
	/* Updates after the reopen, then drop without close: replay restores them. */
	vt_fill(big, sizeof(big), 1, 3);
	CKRC(sv_put(p, g_cont, 7, "d", "big", 3, big, sizeof(big)), 0);
	CKRC(cairn_vos_punch(p, g_cont, &oid, 4, 0, "d", 1, "small", 5), 0);
	vos_pool_crash(p);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.replayed == 2);
	CKRC(sv_get(p, g_cont, 7, "d", "big", 3, got, sizeof(got), &len), 0);
	CK(len == sizeof(big) && memcmp(got, big, len) == 0);
	vt_fill(big, sizeof(big), 1, 1);
	CKRC(sv_get(p, g_cont, 7, "d", "big", 2, got, sizeof(got), &len), 0);
	CK(len == sizeof(big) && memcmp(got, big, len) == 0);
	CKRC(sv_get(p, g_cont, 7, "d", "small", 4, got, sizeof(got), &len), 0);
	CK(len == 0);
	CKRC(sv_get(p, g_cont, 7, "d", "small", 3, got, sizeof(got), &len), 0);
	CK(len == sizeof(small));
	CKRC(cairn_vos_pool_verify(p, NULL), 0);
	CKRC(cairn_vos_pool_close(p), 0);
	return 0;
}

static void
test_basic(void **state)
{
	vt_run(body_basic, NULL);
}

/* ------------------------------------------------------------------ bad input */

static int
count_cb(void *arg, const void *key, uint32_t len)
{
	(*(int *)arg)++;
	return 0;
}

static int
body_limits(void *arg)
{
	struct cairn_vos_pool *p;
	struct cairn_vos_pool_info before, after;
	static char key[CAIRN_VOS_KEY_MAX + 2];
	char v[16] = "value";
	struct cairn_vos_oid oid = { 1, 1 };
	struct cairn_vos_recx rx = { UINT64_MAX - 2, 5 };
	struct cairn_vos_iod iod = {
		.akey = "a", .akey_len = 1, .type = CAIRN_VOS_IOD_ARRAY, .rec_size = 1,
		.nr_recx = 1, .recx = &rx, .buf = v, .buf_size = sizeof(v),
	};
	struct cairn_vos_anchor anchor;
	uint64_t len;
	int n = 0;

	memset(key, 'k', sizeof(key));
	key[CAIRN_VOS_KEY_MAX + 1] = 0; /* one byte over the limit */
	CKRC(format_small(0, 0, 1024), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	CKRC(sv_put(p, g_cont, 1, "d", "a", 1, v, sizeof(v)), 0);
	CKRC(cairn_vos_pool_query(p, &before), 0);

	/* Extent overflowing 64 bits. */
	CKRC(cairn_vos_update(p, g_cont, &oid, 2, 0, "d", 1, 1, &iod), -CAIRN_ERR_OVERFLOW);
	rx.idx = UINT64_MAX;
	rx.nr = 1;
	CKRC(cairn_vos_update(p, g_cont, &oid, 2, 0, "d", 1, 1, &iod), -CAIRN_ERR_OVERFLOW);
	rx.idx = 0;
	rx.nr = 0;
	CKRC(cairn_vos_update(p, g_cont, &oid, 2, 0, "d", 1, 1, &iod), -CAIRN_ERR_INVAL);
	rx.nr = 17; /* more than the buffer holds */
	CKRC(cairn_vos_update(p, g_cont, &oid, 2, 0, "d", 1, 1, &iod), -CAIRN_ERR_INVAL);
	/* Keys: too long, empty. */
	CKRC(sv_put(p, g_cont, 1, key, "a", 2, v, sizeof(v)), -CAIRN_ERR_INVAL);
	key[CAIRN_VOS_KEY_MAX] = 0;
	CKRC(sv_put(p, g_cont, 1, "d", key, 2, v, sizeof(v)), 0); /* exactly the limit */
	CKRC(sv_put(p, g_cont, 1, "", "a", 2, v, sizeof(v)), -CAIRN_ERR_INVAL);
	/* Values: empty, beyond the limit. */
	CKRC(sv_put(p, g_cont, 1, "d", "a", 2, v, 0), -CAIRN_ERR_INVAL);
	CKRC(sv_put(p, g_cont, 1, "d", "a", 2, v, (uint64_t)CAIRN_VOS_VAL_MAX + 1),
	     -CAIRN_ERR_OVERFLOW);
	/* Epochs 0 and MAX are not for mutations. */
	CKRC(sv_put(p, g_cont, 1, "d", "a", 0, v, sizeof(v)), -CAIRN_ERR_INVAL);
	CKRC(sv_put(p, g_cont, 1, "d", "a", CAIRN_VOS_EPOCH_MAX, v, sizeof(v)), -CAIRN_ERR_INVAL);
	/* Unknown container, type mismatch (single then array on one akey). */
	CKRC(sv_put(p, g_cont2, 1, "d", "a", 2, v, sizeof(v)), -CAIRN_ERR_NONEXIST);
	rx.idx = 0;
	rx.nr = 2;
	CKRC(cairn_vos_update(p, g_cont, &oid, 3, 0, "d", 1, 1, &iod), -CAIRN_ERR_INVAL);

	/* Nothing changed but the one valid update at the key limit. */
	CKRC(cairn_vos_pool_query(p, &after), 0);
	CK(after.records == before.records + 2); /* the key-limit update + the mismatch (no-op) */
	CK(after.data_free == before.data_free);
	CKRC(sv_get(p, g_cont, 1, "d", "a", CAIRN_VOS_EPOCH_MAX, v, sizeof(v), &len), 0);
	CK(len == sizeof(v) && strcmp(v, "value") == 0);
	cairn_vos_anchor_init(&anchor);
	CKRC(cairn_vos_list_akeys(p, g_cont, &oid, "d", 1, CAIRN_VOS_EPOCH_MAX, &anchor, count_cb,
				  &n), 0);
	CK(n == 2);
	CKRC(cairn_vos_pool_close(p), 0);
	return 0;
}

static void
test_limits(void **state)
{
	vt_run(body_limits, NULL);
}

static int
body_open_errors(void *arg)
{
	struct cairn_vos_pool *p = NULL;
	static char blk[2 * 4096], save[2 * 4096];
	struct vos_sb_df sb;
	char v[100] = "persist";
	uint64_t len;

	/* Zeros: not a pool, and open wrote nothing. */
	CK(vt_file_io(g_path, true, 0, memset(blk, 0, sizeof(blk)), sizeof(blk)) == 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), -CAIRN_ERR_INVAL);
	CK(vt_file_io(g_path, false, 0, blk, sizeof(blk)) == 0);
	for (size_t i = 0; i < sizeof(blk); i++)
		CK(blk[i] == 0);
	CKRC(cairn_vos_pool_open("no-such-bdev", &p), -CAIRN_ERR_NONEXIST);

	/* A real pool with one value. */
	CKRC(format_small(0, 0, 1024), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	CKRC(sv_put(p, g_cont, 1, "d", "a", 1, v, sizeof(v)), 0);
	CKRC(cairn_vos_pool_close(p), 0);

	/* Newer format version in both superblocks (correctly sealed). */
	CK(vt_file_io(g_path, false, 0, save, sizeof(save)) == 0);
	memcpy(blk, save, sizeof(blk));
	for (int i = 0; i < 2; i++) {
		memcpy(&sb, blk + i * 4096, sizeof(sb));
		sb.version = VOS_FORMAT_VER + 1;
		vos_sb_seal(&sb);
		memcpy(blk + i * 4096, &sb, sizeof(sb));
	}
	CK(vt_file_io(g_path, true, 0, blk, sizeof(blk)) == 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), -CAIRN_ERR_VERSION);
	CK(vt_file_io(g_path, false, 0, blk, sizeof(blk)) == 0);
	memcpy(&sb, blk, sizeof(sb));
	CK(sb.version == VOS_FORMAT_VER + 1); /* untouched */

	/* Superblock A corrupt: copy B is used. */
	memcpy(blk, save, sizeof(blk));
	blk[20] ^= 0x40;
	CK(vt_file_io(g_path, true, 0, blk, sizeof(blk)) == 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	memset(v, 0, sizeof(v));
	CKRC(sv_get(p, g_cont, 1, "d", "a", 1, v, sizeof(v), &len), 0);
	CK(len == sizeof(v) && strcmp(v, "persist") == 0);
	CKRC(cairn_vos_pool_close(p), 0);
	/* Both corrupt: checksum error. */
	blk[4096 + 20] ^= 0x40;
	CK(vt_file_io(g_path, true, 0, blk, sizeof(blk)) == 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), -CAIRN_ERR_CSUM);
	CK(vt_file_io(g_path, true, 0, save, sizeof(save)) == 0);

	/* Truncated: the device is smaller than the pool. */
	CK(truncate(g_path, POOL_SIZE / 2) == 0);
	CKRC(cairn_bdev_uring_rescan(g_bdev), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), -CAIRN_ERR_TRUNC);
	CK(truncate(g_path, POOL_SIZE) == 0);
	CKRC(cairn_bdev_uring_rescan(g_bdev), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(sv_get(p, g_cont, 1, "d", "a", 1, v, sizeof(v), &len), 0);
	CK(len == sizeof(v) && strcmp(v, "persist") == 0);
	CKRC(cairn_vos_pool_close(p), 0);
	return 0;
}

static void
test_open_errors(void **state)
{
	vt_run(body_open_errors, NULL);
}

/* ------------------------------------------------------------------ corruption */

static int
body_corrupt_data(void *arg)
{
	struct cairn_vos_pool *p;
	static char big[3 * 4096], got[3 * 4096];
	struct vos_sb_df sb;
	uint64_t len, bad = 0;
	char c;

	CKRC(format_small(0, 0, 1024), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	vt_fill(big, sizeof(big), 9, 1);
	CKRC(sv_put(p, g_cont, 1, "d", "big", 1, big, sizeof(big)), 0);
	vt_fill(big, 5000, 9, 2);
	CKRC(sv_put(p, g_cont, 1, "d", "other", 1, big, 5000), 0);
	CKRC(cairn_vos_pool_close(p), 0);

	/* The first extent of a fresh pool is at the start of the data region. */
	CK(vt_file_io(g_path, false, 0, &sb, sizeof(sb)) == 0);
	CK(vt_file_io(g_path, false, sb.data_off + 4096 + 17, &c, 1) == 0);
	c ^= 0x01;
	CK(vt_file_io(g_path, true, sb.data_off + 4096 + 17, &c, 1) == 0);

	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	memset(got, 0, sizeof(got));
	CKRC(sv_get(p, g_cont, 1, "d", "big", 1, got, sizeof(got), &len), -CAIRN_ERR_CSUM);
	for (size_t i = 0; i < sizeof(got); i++)
		CK(got[i] == 0); /* never returned as data */
	/* The other value is intact. */
	CKRC(sv_get(p, g_cont, 1, "d", "other", 1, got, sizeof(got), &len), 0);
	CK(len == 5000 && memcmp(got, big, 5000) == 0);
	CKRC(cairn_vos_pool_verify(p, &bad), -CAIRN_ERR_CSUM);
	CK(bad == 1);
	/* Overwriting the damaged value repairs it. */
	vt_fill(big, sizeof(big), 9, 3);
	CKRC(sv_put(p, g_cont, 1, "d", "big", 2, big, sizeof(big)), 0);
	CKRC(sv_get(p, g_cont, 1, "d", "big", 2, got, sizeof(got), &len), 0);
	CK(len == sizeof(big) && memcmp(got, big, len) == 0);
	CKRC(cairn_vos_pool_close(p), 0);
	return 0;
}

static void
test_corrupt_data(void **state)
{
	vt_run(body_corrupt_data, NULL);
}

/* Three updates, one WAL frame each; a flipped byte in frame `victim` drops it and
 * everything after it (the log is a chain), never anything before, never wrong data. */
static int
body_corrupt_wal(void *arg)
{
	int victim = *(int *)arg;
	struct cairn_vos_pool *p;
	struct cairn_vos_pool_info info;
	struct vos_sb_df sb;
	char v[64], got[64];
	uint64_t len;
	char c;
	int i;

	CKRC(format_small(0, 0, 1024), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0); /* frame 0 */
	for (i = 1; i <= 3; i++) {
		vt_fill(v, sizeof(v), 5, (uint64_t)i);
		CKRC(sv_put(p, g_cont, 1, "d", "a", (uint64_t)i, v, sizeof(v)), 0);
	}
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.frames == 4);
	vos_pool_crash(p);

	CK(vt_file_io(g_path, false, 0, &sb, sizeof(sb)) == 0);
	CK(vt_file_io(g_path, false, sb.wal_off + (uint64_t)victim * 4096 + 40, &c, 1) == 0);
	c ^= 0x20;
	CK(vt_file_io(g_path, true, sb.wal_off + (uint64_t)victim * 4096 + 40, &c, 1) == 0);

	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.replayed == (uint64_t)victim);
	for (i = 1; i <= 3; i++) {
		CKRC(sv_get(p, g_cont, 1, "d", "a", (uint64_t)i, got, sizeof(got), &len), 0);
		if (i < victim) {
			vt_fill(v, sizeof(v), 5, (uint64_t)i);
			CK(len == sizeof(v) && memcmp(got, v, len) == 0);
		} else {
			/* dropped: the newest surviving version is visible instead */
			vt_fill(v, sizeof(v), 5, (uint64_t)(victim - 1));
			CK(victim == 1 || (len == sizeof(v) && memcmp(got, v, len) == 0));
		}
	}
	/* The pool keeps working and the dropped frame's place is reused. */
	vt_fill(v, sizeof(v), 5, 10);
	CKRC(sv_put(p, g_cont, 1, "d", "a", 10, v, sizeof(v)), 0);
	vos_pool_crash(p);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(sv_get(p, g_cont, 1, "d", "a", 10, got, sizeof(got), &len), 0);
	CK(len == sizeof(v) && memcmp(got, v, len) == 0);
	CKRC(cairn_vos_pool_close(p), 0);
	return 0;
}

static void
test_corrupt_wal(void **state)
{
	for (int victim = 1; victim <= 3; victim++)
		vt_run(body_corrupt_wal, &victim);
}

/* Data of a record in the last WAL frame missing (a power loss on a device with a
 * volatile cache can persist the frame but not the data written just before it): that
 * frame was never acknowledged, so recovery drops it. In any earlier frame the flush
 * that acknowledged it made the data durable, so damage there is media corruption and
 * is reported by fetch as CAIRN_ERR_CSUM. */
static int
body_last_frame_data(void *arg)
{
	struct cairn_vos_pool *p;
	struct cairn_vos_pool_info info;
	static char big[8192], got[8192];
	struct vos_sb_df sb;
	uint64_t len;
	char c;

	for (int last = 0; last < 2; last++) {
		CKRC(format_small(0, 0, 1024), 0);
		CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
		CKRC(cairn_vos_cont_create(p, g_cont), 0);
		CKRC(cairn_vos_pool_checkpoint(p), 0);
		vt_fill(big, sizeof(big), 3, 1);
		CKRC(sv_put(p, g_cont, 1, "d", "big", 1, big, sizeof(big)), 0);
		if (!last)
			CKRC(sv_put(p, g_cont, 1, "d", "small", 2, "s", 1), 0);
		vos_pool_crash(p);
		CK(vt_file_io(g_path, false, 0, &sb, sizeof(sb)) == 0);
		CK(vt_file_io(g_path, false, sb.data_off + 8, &c, 1) == 0);
		c ^= 0x04;
		CK(vt_file_io(g_path, true, sb.data_off + 8, &c, 1) == 0);
		CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
		CKRC(cairn_vos_pool_query(p, &info), 0);
		if (last) {
			CK(info.replayed == 0);
			CKRC(sv_get(p, g_cont, 1, "d", "big", 1, got, sizeof(got), &len), 0);
			CK(len == 0);
			CK(info.data_free == info.data_bytes);
		} else {
			CK(info.replayed == 2);
			CKRC(sv_get(p, g_cont, 1, "d", "big", 1, got, sizeof(got), &len),
			     -CAIRN_ERR_CSUM);
		}
		CKRC(cairn_vos_pool_close(p), 0);
	}
	return 0;
}

static void
test_last_frame_data(void **state)
{
	vt_run(body_last_frame_data, NULL);
}

/* The DRAM extent cache: bounded, coherent with same-epoch overwrites (the old extent
 * is freed and may be reused), and bypassed when disabled (then device corruption is
 * seen as CAIRN_ERR_CSUM). */
static int
body_cache(void *arg)
{
	struct cairn_vos_pool *p;
	struct cairn_vos_pool_info info;
	static char v[8192], got[8192];
	struct vos_sb_df sb;
	char key[16], c;
	uint64_t len, nbad = 0;
	int i;

	CKRC(format_small(0, 0, 1024), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_pool_set_cache(p, 3 * sizeof(v)), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		vt_fill(v, sizeof(v), (uint64_t)i, 1);
		CKRC(sv_put(p, g_cont, 1, key, "a", 1, v, sizeof(v)), 0);
	}
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.cache_used <= 3 * sizeof(v));
	for (int round = 0; round < 2; round++) {
		for (i = 0; i < 10; i++) {
			snprintf(key, sizeof(key), "k%d", i);
			vt_fill(v, sizeof(v), (uint64_t)i, 1);
			CKRC(sv_get(p, g_cont, 1, key, "a", 1, got, sizeof(got), &len), 0);
			CK(len == sizeof(v) && memcmp(got, v, len) == 0);
		}
	}
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.cache_misses >= 7);
	/* Same-epoch overwrites: the replaced extent is freed (and its entry dropped); the
	 * next update may take that very extent. */
	for (i = 2; i < 6; i++) {
		vt_fill(v, sizeof(v), 100, (uint64_t)i);
		CKRC(sv_put(p, g_cont, 1, "k0", "a", 1, v, sizeof(v)), 0);
		CKRC(sv_get(p, g_cont, 1, "k0", "a", 1, got, sizeof(got), &len), 0);
		CK(len == sizeof(v) && memcmp(got, v, len) == 0);
	}
	/* k9 was written last: cached. Corrupt it on the device: the cache still serves
	 * the bytes that were written; with the cache off the damage is reported. */
	CK(vt_file_io(g_path, false, 0, &sb, sizeof(sb)) == 0);
	CK(vt_file_io(g_path, false, sb.data_off + 9 * sizeof(v) + 5, &c, 1) == 0);
	c ^= 0x08;
	CK(vt_file_io(g_path, true, sb.data_off + 9 * sizeof(v) + 5, &c, 1) == 0);
	vt_fill(v, sizeof(v), 9, 1);
	CKRC(sv_get(p, g_cont, 1, "k9", "a", 1, got, sizeof(got), &len), 0);
	CK(len == sizeof(v) && memcmp(got, v, len) == 0);
	/* Verify reads the device, not the cache: it finds the damage, and drops the
	 * cached copy, so fetches report it from then on, cache or not. */
	CKRC(cairn_vos_pool_verify(p, &nbad), -CAIRN_ERR_CSUM);
	CK(nbad == 1);
	CKRC(sv_get(p, g_cont, 1, "k9", "a", 1, got, sizeof(got), &len), -CAIRN_ERR_CSUM);
	CKRC(cairn_vos_pool_set_cache(p, 0), 0);
	CKRC(sv_get(p, g_cont, 1, "k9", "a", 1, got, sizeof(got), &len), -CAIRN_ERR_CSUM);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.cache_used == 0);
	CKRC(cairn_vos_pool_close(p), 0);
	return 0;
}

static void
test_cache(void **state)
{
	vt_run(body_cache, NULL);
}

/* Enumeration through the public API, snapshots and aggregation, and that all of it
 * survives a crash (replay of snapshot and aggregation records). */
struct oid_list {
	struct cairn_vos_oid oids[8];
	int n;
};

static int
oid_cb(void *arg, const struct cairn_vos_oid *oid)
{
	struct oid_list *l = arg;

	if (l->n < 8)
		l->oids[l->n] = *oid;
	l->n++;
	return 0;
}

static int
ext_cb(void *arg, const struct cairn_vos_extent *e)
{
	uint64_t *sum = arg;

	*sum += e->nr;
	return e->rec_size == 4 ? 0 : -CAIRN_ERR_INVAL;
}

static int
stop_after_one(void *arg, const void *key, uint32_t len)
{
	(*(int *)arg)++;
	return 1;
}

static int
body_enum_snap(void *arg)
{
	struct cairn_vos_pool *p;
	struct cairn_vos_anchor anchor;
	struct oid_list ol = { .n = 0 };
	struct cairn_vos_oid oid = { 1, 2 };
	struct cairn_vos_recx rx = { 100, 10 };
	char arr[40], v[8], got[8];
	struct cairn_vos_iod aiod = { .akey = "x", .akey_len = 1, .type = CAIRN_VOS_IOD_ARRAY,
				      .rec_size = 4, .nr_recx = 1, .recx = &rx, .buf = arr,
				      .buf_size = sizeof(arr) };
	uint64_t snaps[4], sum = 0, len;
	uint32_t nsnap;
	bool done = false;
	int n = 0, steps = 0;

	CKRC(format_small(0, 0, 1024), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	for (uint64_t e = 1; e <= 5; e++) {
		snprintf(v, sizeof(v), "v%llu", (unsigned long long)e);
		CKRC(sv_put(p, g_cont, 2, "d1", "a", e, v, sizeof(v)), 0);
		CKRC(sv_put(p, g_cont, 2, "d2", "a", e, v, sizeof(v)), 0);
		CKRC(sv_put(p, g_cont, 3, "d1", "a", e, v, sizeof(v)), 0);
	}
	memset(arr, 7, sizeof(arr));
	CKRC(cairn_vos_update(p, g_cont, &oid, 6, 0, "d3", 2, 1, &aiod), 0);
	CKRC(cairn_vos_snap_create(p, g_cont, 2), 0);
	CKRC(cairn_vos_snap_create(p, g_cont, 2), -CAIRN_ERR_EXIST);
	CKRC(cairn_vos_snap_create(p, g_cont, 0), -CAIRN_ERR_INVAL);
	/* Aggregate up to 4: epoch 2 (snapshot) and 4 stay readable, 1 and 3 merge. */
	while (!done && steps++ < 1000)
		CKRC(cairn_vos_aggregate(p, g_cont, 4, 1, &done), 0);
	CK(done);
	CKRC(sv_put(p, g_cont, 2, "d1", "a", 4, v, sizeof(v)), -CAIRN_ERR_STALE);
	vos_pool_crash(p);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);

	CKRC(cairn_vos_snap_list(p, g_cont, snaps, 4, &nsnap), 0);
	CK(nsnap == 1 && snaps[0] == 2);
	CKRC(sv_get(p, g_cont, 2, "d1", "a", 2, got, sizeof(got), &len), 0);
	CK(len == sizeof(got) && strcmp(got, "v2") == 0);
	CKRC(sv_get(p, g_cont, 2, "d1", "a", 4, got, sizeof(got), &len), 0);
	CK(len == sizeof(got) && strcmp(got, "v4") == 0);
	CKRC(sv_get(p, g_cont, 2, "d1", "a", 5, got, sizeof(got), &len), 0);
	CK(len == sizeof(got) && strcmp(got, "v5") == 0);
	CKRC(sv_put(p, g_cont, 2, "d1", "a", 4, v, sizeof(v)), -CAIRN_ERR_STALE);

	cairn_vos_anchor_init(&anchor);
	CKRC(cairn_vos_list_objs(p, g_cont, CAIRN_VOS_EPOCH_MAX, &anchor, oid_cb, &ol), 0);
	CK(ol.n == 2 && ol.oids[0].lo == 2 && ol.oids[1].lo == 3);
	CK(cairn_vos_anchor_is_eof(&anchor));
	/* dkeys of object 2, one per call through the anchor. */
	cairn_vos_anchor_init(&anchor);
	while (!cairn_vos_anchor_is_eof(&anchor) && n < 10)
		CKRC(cairn_vos_list_dkeys(p, g_cont, &oid, CAIRN_VOS_EPOCH_MAX, &anchor,
					  stop_after_one, &n), 0);
	CK(n == 3 || n == 4); /* d1 d2 d3 (a final call may find EOF without a key) */
	cairn_vos_anchor_init(&anchor);
	CKRC(cairn_vos_list_extents(p, g_cont, &oid, "d3", 2, "x", 1, CAIRN_VOS_EPOCH_MAX,
				    &anchor, ext_cb, &sum), 0);
	CK(sum == 10);
	/* Before the array update, d3 does not exist. */
	n = 0;
	cairn_vos_anchor_init(&anchor);
	CKRC(cairn_vos_list_dkeys(p, g_cont, &oid, 5, &anchor, count_cb, &n), 0);
	CK(n == 2);
	CKRC(cairn_vos_snap_destroy(p, g_cont, 2), 0);
	CKRC(cairn_vos_snap_destroy(p, g_cont, 2), -CAIRN_ERR_NONEXIST);
	CKRC(cairn_vos_pool_verify(p, NULL), 0);
	/* Closing stops a background pass. */
	CKRC(cairn_vos_aggregate_start(p, g_cont, 5), 0);
	CKRC(cairn_vos_pool_close(p), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(sv_get(p, g_cont, 2, "d1", "a", 5, got, sizeof(got), &len), 0);
	CK(len == sizeof(got) && strcmp(got, "v5") == 0);
	CKRC(cairn_vos_pool_close(p), 0);
	return 0;
}

static void
test_enum_snap(void **state)
{
	vt_run(body_enum_snap, NULL);
}

/* A checkpoint that wrote its pages over the older slot but not its header leaves that
 * slot's old header looking valid; meanwhile the WAL behind it is reused. Recovery must
 * replay from the newest checkpoint up to the true end of the log and not treat the
 * stale slot as a limit or a fallback. */
static int
body_stale_fallback(void *arg)
{
	struct cairn_vos_pool *p;
	struct cairn_vos_pool_info info;
	char v[64], got[64], key[16];
	uint64_t len;
	int n, i, rc = 0;

	CKRC(format_small(16 * 4096, 0, 1024), 0);           /* 64 KiB of WAL */
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	CKRC(cairn_vos_pool_checkpoint(p), 0);               /* slot 1, gen 2 */
	CKRC(cairn_fault_arm("vos.ckpt.header", NULL), 0);   /* every later one fails */
	for (n = 0; n < 64; n++) {
		snprintf(key, sizeof(key), "k%d", n);
		vt_fill(v, sizeof(v), (uint64_t)n, 1);
		rc = sv_put(p, g_cont, 1, key, "a", 1, v, sizeof(v));
		if (rc)
			break;
	}
	cairn_fault_disarm("vos.ckpt.header");
	CK(rc == -CAIRN_ERR_IO || rc == -CAIRN_ERR_NOSPACE); /* WAL full, no checkpoint */
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.frames >= 17);                               /* beyond one WAL from lsn 0 */
	vos_pool_crash(p);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		vt_fill(v, sizeof(v), (uint64_t)i, 1);
		CKRC(sv_get(p, g_cont, 1, key, "a", 1, got, sizeof(got), &len), 0);
		CK(len == sizeof(v) && memcmp(got, v, len) == 0);
	}
	/* And the pool goes on: checkpoints work again, the WAL is reused. */
	for (i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "m%d", i);
		CKRC(sv_put(p, g_cont, 1, key, "a", 2, v, sizeof(v)), 0);
	}
	CKRC(cairn_vos_pool_close(p), 0);
	return 0;
}

static void
test_stale_fallback(void **state)
{
	vt_run(body_stale_fallback, NULL);
}

/* ------------------------------------------------------------------ space */

static int
body_nospace(void *arg)
{
	struct cairn_vos_pool *p;
	struct cairn_vos_pool_info info, full;
	static char v[64 * 1024];
	struct cairn_vos_oid oid = { 1, 1 };
	uint64_t len, n = 0, e;
	char key[32];
	bool done = false;
	int rc = 0, steps = 0;

	CKRC(format_small(1 << 20, 1 << 20, 1024), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	CKRC(cairn_vos_cont_create(p, g_cont2), 0);
	/* Fill: half the values in each container. */
	for (n = 0; n < 100000; n++) {
		snprintf(key, sizeof(key), "k%llu", (unsigned long long)n);
		vt_fill(v, sizeof(v), n, 1);
		rc = sv_put(p, n % 2 ? g_cont2 : g_cont, 1, key, "a", 1, v, sizeof(v));
		if (rc)
			break;
	}
	CKRC(rc, -CAIRN_ERR_NOSPACE);
	CK(n > 100);
	CKRC(cairn_vos_pool_query(p, &full), 0);
	CK(full.data_free < sizeof(v));
	/* Still usable: reads, small (inline) updates. */
	CKRC(sv_get(p, g_cont, 1, "k0", "a", 1, v, sizeof(v), &len), 0);
	CK(len == sizeof(v));
	CKRC(sv_put(p, g_cont, 1, "k0", "small", 2, "x", 1), 0);
	/* Punch + aggregation in container 1 frees its space... */
	for (e = 0; e < n; e += 2) {
		snprintf(key, sizeof(key), "k%llu", (unsigned long long)e);
		CKRC(cairn_vos_punch(p, g_cont, &oid, 3, 0, key, (uint32_t)strlen(key), NULL, 0), 0);
	}
	/* In the background, while foreground updates go on. */
	CKRC(cairn_vos_aggregate_start(p, g_cont, 4), 0);
	CKRC(cairn_vos_aggregate_start(p, g_cont, 4), -CAIRN_ERR_BUSY);
	while (cairn_vos_aggregate_running(p, &rc) && steps < 100000) {
		snprintf(key, sizeof(key), "fg%d", steps++);
		CKRC(sv_put(p, g_cont, 1, key, "a", 5, "fg", 2), 0);
	}
	CKRC(rc, 0);
	printf("background aggregation: %d foreground updates meanwhile\n", steps);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.data_free >= full.data_free + (n / 2) * sizeof(v));
	/* A pass with the same bound finds nothing more to do. */
	CKRC(cairn_vos_aggregate(p, g_cont, 4, 1000000, &done), 0);
	CK(done);
	/* ... and destroying container 2 frees the rest. */
	CKRC(cairn_vos_cont_destroy(p, g_cont2), 0);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.data_free == info.data_bytes);
	CKRC(sv_put(p, g_cont, 1, "again", "a", 5, v, sizeof(v)), 0);
	CKRC(cairn_vos_pool_verify(p, NULL), 0);
	/* The freed space stays free after recovery (replay of destroy + aggregation). */
	vos_pool_crash(p);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.data_free == info.data_bytes - sizeof(v));
	CKRC(cairn_vos_pool_verify(p, NULL), 0);
	CKRC(cairn_vos_pool_close(p), 0);
	return 0;
}

static void
test_nospace(void **state)
{
	vt_run(body_nospace, NULL);
}

/* ------------------------------------------------------------------ group commit */

struct gc_arg {
	struct cairn_vos_pool *p;
	unsigned id;
	int fails;
};

static void
gc_worker(void *arg)
{
	struct gc_arg *a = arg;
	char v[200], key[32];

	for (unsigned i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "w%u-%u", a->id, i);
		vt_fill(v, sizeof(v), a->id * 1000 + i, 1);
		if (sv_put(a->p, g_cont, a->id, key, "a", 1, v, sizeof(v)) != 0)
			a->fails++;
	}
}

static int
body_group_commit(void *arg)
{
	enum { NW = 32 };
	struct cairn_vos_pool *p;
	struct cairn_vos_pool_info info;
	struct cairn_ult *ults[NW];
	struct gc_arg args[NW];
	struct cairn_ult_attr attr = { .prio = CAIRN_PRIO_GENERAL, .joinable = true };
	char v[200], got[200], key[32];
	uint64_t len, frames0;

	CKRC(format_small(0, 0, 1024), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	frames0 = info.frames;
	for (unsigned i = 0; i < NW; i++) {
		args[i] = (struct gc_arg){ .p = p, .id = i };
		CKRC(cairn_ult_create(NULL, gc_worker, &args[i], &attr, &ults[i]), 0);
	}
	for (unsigned i = 0; i < NW; i++) {
		CKRC(cairn_ult_join(ults[i]), 0);
		CK(args[i].fails == 0);
	}
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.records == 1 + NW * 20);
	/* Concurrent updates shared frames. */
	CK(info.frames - frames0 < NW * 20 / 2);
	printf("group commit: %llu records in %llu frames\n",
	       (unsigned long long)(info.records - 1), (unsigned long long)(info.frames - frames0));
	vos_pool_crash(p);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	for (unsigned id = 0; id < NW; id++) {
		for (unsigned i = 0; i < 20; i++) {
			snprintf(key, sizeof(key), "w%u-%u", id, i);
			vt_fill(v, sizeof(v), id * 1000 + i, 1);
			CKRC(sv_get(p, g_cont, id, key, "a", 1, got, sizeof(got), &len), 0);
			CK(len == sizeof(v) && memcmp(got, v, len) == 0);
		}
	}
	CKRC(cairn_vos_pool_close(p), 0);
	return 0;
}

static void
test_group_commit(void **state)
{
	vt_run(body_group_commit, NULL);
}

/* ------------------------------------------------------------------ WAL wrap */

static int
body_wal_wrap(void *arg)
{
	struct cairn_vos_pool *p;
	struct cairn_vos_pool_info info;
	char v[300], got[300], key[32];
	uint64_t len;
	unsigned n = 3000, i;

	/* 64 KiB of WAL: 3000 updates of ~330 bytes wrap it many times. */
	CKRC(format_small(64 << 10, 1 << 20, 1024), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%u", i % 500);
		vt_fill(v, sizeof(v), i % 500, i + 1);
		CKRC(sv_put(p, g_cont, 1, key, "a", i + 1, v, sizeof(v)), 0);
	}
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.checkpoints > 5);
	CK(info.wal_written > 10 * info.wal_bytes);
	CK(info.wal_used <= info.wal_bytes);
	vos_pool_crash(p);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	/* Replay is bounded by the checkpoint interval, not by the history. */
	CK(info.replayed < 200);
	for (i = n - 500; i < n; i++) {
		snprintf(key, sizeof(key), "k%u", i % 500);
		vt_fill(v, sizeof(v), i % 500, i + 1);
		CKRC(sv_get(p, g_cont, 1, key, "a", CAIRN_VOS_EPOCH_MAX, got, sizeof(got), &len), 0);
		CK(len == sizeof(v) && memcmp(got, v, len) == 0);
	}
	/* Old versions are still there too (no aggregation ran). */
	vt_fill(v, sizeof(v), 7, 8);
	CKRC(sv_get(p, g_cont, 1, "k7", "a", 8, got, sizeof(got), &len), 0);
	CK(len == sizeof(v) && memcmp(got, v, len) == 0);
	CKRC(cairn_vos_pool_close(p), 0);
	return 0;
}

static void
test_wal_wrap(void **state)
{
	vt_run(body_wal_wrap, NULL);
}

/* ------------------------------------------------------------------ transactions */

static int
body_tx(void *arg)
{
	struct cairn_vos_pool *p;
	struct cairn_vos_pool_info info, before;
	struct cairn_vos_tx *tx;
	static char big[8192];
	char v[32], got[8192];
	struct cairn_vos_oid oid = { 1, 1 };
	struct cairn_vos_iod iod = { .akey = "a", .akey_len = 1, .type = CAIRN_VOS_IOD_SINGLE };
	uint64_t len;

	CKRC(format_small(0, 0, 1024), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	CKRC(sv_put(p, g_cont, 1, "x", "a", 1, "old", 4), 0);

	/* Updates across dkeys and a punch, one record. */
	CKRC(cairn_vos_tx_begin(p, g_cont, 5, &tx), 0);
	iod.buf = v;
	iod.size = sizeof(v);
	memset(v, 'A', sizeof(v));
	CKRC(cairn_vos_tx_update(tx, &oid, 0, "d1", 2, 1, &iod), 0);
	iod.buf = big;
	iod.size = sizeof(big);
	vt_fill(big, sizeof(big), 1, 5);
	CKRC(cairn_vos_tx_update(tx, &oid, 0, "d2", 2, 1, &iod), 0);
	CKRC(cairn_vos_tx_punch(tx, &oid, 0, "x", 1, NULL, 0), 0);
	CKRC(cairn_vos_pool_query(p, &before), 0);
	/* Nothing visible before the commit. */
	CKRC(sv_get(p, g_cont, 1, "d1", "a", 5, got, sizeof(got), &len), 0);
	CK(len == 0);
	CKRC(cairn_vos_tx_commit(tx), 0);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.records == before.records + 1);
	CKRC(sv_get(p, g_cont, 1, "d1", "a", 5, got, sizeof(got), &len), 0);
	CK(len == sizeof(v) && got[0] == 'A');
	CKRC(sv_get(p, g_cont, 1, "d2", "a", 5, got, sizeof(got), &len), 0);
	CK(len == sizeof(big) && memcmp(got, big, len) == 0);
	CKRC(sv_get(p, g_cont, 1, "x", "a", 5, got, sizeof(got), &len), 0);
	CK(len == 0);

	/* A failing condition in the second op: nothing of the tx applies, space freed. */
	CKRC(cairn_vos_pool_query(p, &before), 0);
	CKRC(cairn_vos_tx_begin(p, g_cont, 6, &tx), 0);
	CKRC(cairn_vos_tx_update(tx, &oid, 0, "d3", 2, 1, &iod), 0);
	CKRC(cairn_vos_tx_update(tx, &oid, CAIRN_VOS_COND_DKEY_INSERT, "d1", 2, 1, &iod), 0);
	CKRC(cairn_vos_tx_commit(tx), -CAIRN_ERR_EXIST);
	CKRC(sv_get(p, g_cont, 1, "d3", "a", 6, got, sizeof(got), &len), 0);
	CK(len == 0);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.data_free == before.data_free);
	/* Abort frees reserved space too. */
	CKRC(cairn_vos_tx_begin(p, g_cont, 7, &tx), 0);
	CKRC(cairn_vos_tx_update(tx, &oid, 0, "d4", 2, 1, &iod), 0);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.data_free < before.data_free);
	cairn_vos_tx_abort(tx);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.data_free == before.data_free);
	/* Conditional single update. */
	iod.buf = v;
	iod.size = sizeof(v);
	CKRC(cairn_vos_update(p, g_cont, &oid, 8, CAIRN_VOS_COND_DKEY_UPDATE, "nokey", 5, 1, &iod),
	     -CAIRN_ERR_NONEXIST);
	CKRC(cairn_vos_update(p, g_cont, &oid, 8, CAIRN_VOS_COND_AKEY_UPDATE, "d1", 2, 1, &iod), 0);

	/* Replay gives the same outcome for all of it. */
	vos_pool_crash(p);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(sv_get(p, g_cont, 1, "d2", "a", 5, got, sizeof(got), &len), 0);
	CK(len == sizeof(big) && memcmp(got, big, len) == 0);
	CKRC(sv_get(p, g_cont, 1, "d3", "a", 9, got, sizeof(got), &len), 0);
	CK(len == 0);
	CKRC(sv_get(p, g_cont, 1, "x", "a", 5, got, sizeof(got), &len), 0);
	CK(len == 0);
	CKRC(sv_get(p, g_cont, 1, "x", "a", 4, got, sizeof(got), &len), 0);
	CK(len == 4);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.data_free == before.data_free);
	CKRC(cairn_vos_pool_verify(p, NULL), 0);
	CKRC(cairn_vos_pool_close(p), 0);
	return 0;
}

static void
test_tx(void **state)
{
	vt_run(body_tx, NULL);
}

/* ------------------------------------------------------------------ pre-zeroing */

struct zprog {
	uint64_t calls, last, total;
	bool backwards;
};

static void
zprog_cb(void *arg, uint64_t done, uint64_t total)
{
	struct zprog *z = arg;

	if (done < z->last || done > total)
		z->backwards = true;
	z->calls++;
	z->last = done;
	z->total = total;
}

static uint64_t
file_alloc(void)
{
	struct stat st;

	return stat(g_path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

static int
body_prezero(void *arg)
{
	struct cairn_vos_pool_opts o;
	struct cairn_vos_pool *p;
	struct zprog z = { 0 };
	static char v[8192], got[8192];
	uint64_t len;

	/* A sparse file: a plain format allocates only what it writes. */
	CK(vt_file(g_path, POOL_SIZE) == 0);
	CKRC(format_small(0, 0, 1024), 0);
	CK(file_alloc() < POOL_SIZE / 2);
	/* Pre-zeroed: every block of the pool has been written (st_blocks counts them). */
	CK(vt_file(g_path, POOL_SIZE) == 0);
	cairn_vos_pool_opts_default(&o);
	o.flags = CAIRN_VOS_FORMAT_PREZERO;
	o.progress = zprog_cb;
	o.progress_arg = &z;
	CKRC(cairn_vos_pool_format(g_bdev, g_pool_uuid, &o), 0);
	CK(file_alloc() >= POOL_SIZE);
	CK(z.calls >= 2 && !z.backwards && z.last == z.total && z.total == POOL_SIZE - 8192);
	/* and it is an ordinary pool */
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	vt_fill(v, sizeof(v), 3, 1);
	CKRC(sv_put(p, g_cont, 1, "k", "a", 1, v, sizeof(v)), 0);
	CKRC(sv_get(p, g_cont, 1, "k", "a", 1, got, sizeof(got), &len), 0);
	CK(len == sizeof(v) && memcmp(got, v, len) == 0);
	CKRC(cairn_vos_pool_close(p), 0);
	/* unknown flags are refused, nothing written */
	o.flags = 1u << 7;
	CKRC(cairn_vos_pool_format(g_bdev, g_pool_uuid, &o), -CAIRN_ERR_INVAL);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(sv_get(p, g_cont, 1, "k", "a", 1, got, sizeof(got), &len), 0);
	CK(len == sizeof(v));
	CKRC(cairn_vos_pool_close(p), 0);
	return 0;
}

static void
test_prezero(void **state)
{
	vt_run(body_prezero, NULL);
}

/* Shareable buffers (cairn_vos_buf_alloc): the extent cache keeps a reference to an
 * update's buffer instead of copying it, so the caller's free must not recycle it while
 * it is cached; buffers nobody references are handed out again; a fetch from the device
 * into one is cached by reference too; other sizes and plain buffers still work. */
static int
body_shared_buf(void *arg)
{
	const uint64_t sz = 1u << 20, odd = 300000;
	struct cairn_vos_pool *p;
	struct cairn_vos_pool_info info;
	struct cairn_vos_oid oid = { 1, 1 };
	char *a, *b, *c, *d, *want, *got;
	uint64_t len, hits;
	uint32_t crc = 0;
	void *r;

	want = malloc(sz);
	got = malloc(sz);
	CK(want != NULL && got != NULL);
	cairn_vos_buf_free(NULL);
	CKRC(format_small(0, 0, 1024), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_pool_set_cache(p, 4 * sz), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	a = cairn_vos_buf_alloc(sz);
	CK(a != NULL && ((uintptr_t)a % 4096) == 0);
	vt_fill(a, sz, 1, 1);
	memcpy(want, a, sz);
	CKRC(sv_put(p, g_cont, 1, "s", "a", 1, a, sz), 0);
	cairn_vos_buf_free(a);
	/* a is held by the cache: the next buffer is another one, and scribbling over it
	 * changes nothing that is stored or cached */
	b = cairn_vos_buf_alloc(sz);
	CK(b != NULL && b != a);
	memset(b, 0x5a, sz);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	hits = info.cache_hits;
	CKRC(sv_get(p, g_cont, 1, "s", "a", 1, got, sz, &len), 0);
	CK(len == sz && memcmp(got, want, sz) == 0);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.cache_hits == hits + 1 && info.cache_used == sz);
	/* b was never shared: once freed it is handed out again */
	cairn_vos_buf_free(b);
	c = cairn_vos_buf_alloc(sz);
	CK(c == b);
	cairn_vos_buf_free(c);
	/* emptying the cache releases a: recycled, and the value now comes from the device */
	CKRC(cairn_vos_pool_set_cache(p, 0), 0);
	c = cairn_vos_buf_alloc(sz);
	CK(c == a);
	memset(c, 0, sz);
	CKRC(sv_get(p, g_cont, 1, "s", "a", 1, got, sz, &len), 0);
	CK(len == sz && memcmp(got, want, sz) == 0);
	/* a device read into a shareable buffer is cached by reference */
	CKRC(cairn_vos_pool_set_cache(p, 4 * sz), 0);
	CKRC(sv_get(p, g_cont, 1, "s", "a", 1, c, sz, &len), 0);
	CK(len == sz && memcmp(c, want, sz) == 0);
	cairn_vos_buf_free(c);
	d = cairn_vos_buf_alloc(sz);
	CK(d != NULL && d != c);
	memset(d, 0x33, sz);
	CKRC(sv_get(p, g_cont, 1, "s", "a", 1, got, sz, &len), 0);
	CK(len == sz && memcmp(got, want, sz) == 0);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.cache_hits == hits + 2);
	cairn_vos_buf_free(d);
	/* by reference: the cache's buffer itself (c), no copy; missing and inline values;
	 * from the device with the cache off */
	CKRC(cairn_vos_fetch_ref(p, g_cont, &oid, 1, "s", 1, "a", 1, &r, &len, &crc), 0);
	CK(r == c && len == sz && memcmp(r, want, sz) == 0);
	CK(crc == cairn_crc32c(0, want, sz)); /* the stored CRC32C comes back */
	cairn_vos_buf_free(r);
	CKRC(cairn_vos_fetch_ref(p, g_cont, &oid, 1, "none", 4, "a", 1, &r, &len, NULL), 0);
	CK(r == NULL && len == 0);
	CKRC(sv_put(p, g_cont, 1, "t", "a", 1, want, 100), 0);
	CKRC(cairn_vos_fetch_ref(p, g_cont, &oid, 1, "t", 1, "a", 1, &r, &len, NULL), 0);
	CK(r != NULL && len == 100 && memcmp(r, want, 100) == 0);
	cairn_vos_buf_free(r);
	CKRC(cairn_vos_fetch_ref(p, g_cont, &oid, 1, "s", 1, "a", 1, NULL, &len, NULL),
	     -CAIRN_ERR_INVAL);
	CKRC(cairn_vos_fetch_ref(p, g_cont, &oid, 0, "s", 1, "a", 1, &r, &len, NULL),
	     -CAIRN_ERR_INVAL);
	CKRC(cairn_vos_pool_set_cache(p, 0), 0);
	CKRC(cairn_vos_fetch_ref(p, g_cont, &oid, 1, "s", 1, "a", 1, &r, &len, NULL), 0);
	CK(r != NULL && len == sz && memcmp(r, want, sz) == 0);
	cairn_vos_buf_free(r);
	/* a size that is not a power of two nor whole blocks */
	d = cairn_vos_buf_alloc(odd);
	CK(d != NULL && ((uintptr_t)d % 4096) == 0);
	vt_fill(d, odd, 2, 1);
	memcpy(want, d, odd);
	CKRC(sv_put(p, g_cont, 1, "o", "a", 1, d, odd), 0);
	cairn_vos_buf_free(d);
	CKRC(sv_get(p, g_cont, 1, "o", "a", 1, got, sz, &len), 0);
	CK(len == odd && memcmp(got, want, odd) == 0);
	/* closing drops the cache's references (no leak: ASan checks) */
	CKRC(cairn_vos_pool_close(p), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(sv_get(p, g_cont, 1, "o", "a", 1, got, sz, &len), 0);
	CK(len == odd && memcmp(got, want, odd) == 0);
	CKRC(cairn_vos_pool_close(p), 0);
	free(want);
	free(got);
	return 0;
}

static void
test_shared_buf(void **state)
{
	vt_run(body_shared_buf, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_corrupt_data),
		cmocka_unit_test(test_corrupt_wal),
		cmocka_unit_test(test_last_frame_data),
		cmocka_unit_test(test_stale_fallback),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_enum_snap),
		cmocka_unit_test(test_nospace),
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_wal_wrap),
		cmocka_unit_test(test_tx),
		cmocka_unit_test(test_prezero),
		cmocka_unit_test(test_shared_buf),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
