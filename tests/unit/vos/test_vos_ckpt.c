/*
 * Cooperative checkpoints (vos_ckpt.c / vos_glue.c): the index is walked a few dkeys per
 * step while updates go on, and the payload must still be exactly the index at the cut.
 *
 *  - progress: updates complete while the walk runs (the old whole-index serialisation
 *    held the xstream for the whole cut: none could);
 *  - exact cut: after the checkpoint, with the WAL wiped, the pool reopens to exactly
 *    the index serialised at the cut (byte for byte), although hundreds of updates,
 *    punches, new objects/dkeys and transactions changed keys ahead of and behind the
 *    walker meanwhile;
 *  - replay: with the WAL intact, reopening gives exactly the index before the crash.
 *
 * CAIRN_TEST_SEED picks the mutation stream (default 1).
 */
#include "vos_internal.h"
#include "vos_test.h"

#define POOL_SIZE (64ull << 20)
#define NOBJ      4
#define NDKEY     6000 /* per object */

static const char *g_bdev = "vc0";
static uint8_t g_pool_uuid[16] = { 0xab, 1, 2, 3 };
static uint8_t g_cont[16] = { 0xc1, 1 };
static uint64_t g_seed = 1;

static int
setup(void **state)
{
	struct cairn_bdev *b;
	const char *s = getenv("CAIRN_TEST_SEED");

	(void)state;
	if (s != NULL)
		g_seed = strtoull(s, NULL, 0);
	/* RAM: the updates must interleave with the walk; on a file each waits for a sync
	 * long enough for the whole walk to run in the gap. */
	if (vt_start() != 0)
		return -1;
	return cairn_bdev_malloc_create(g_bdev, POOL_SIZE / 4096, 4096, NULL, &b);
}

static int
teardown(void **state)
{
	(void)state;
	vt_stop();
	return 0;
}

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static int
serialize(struct cairn_vos_pool *p, void **buf, uint64_t *len)
{
	return vos_idx_serialize(&p->p, buf, len);
}

/* Populate NOBJ x NDKEY dkeys: small inline values, some extents and arrays, in
 * transactions of 500 ops. */
static int
populate(struct cairn_vos_pool *p)
{
	static char big[6000];
	uint64_t rec[4] = { 1, 2, 3, 4 };
	struct cairn_vos_recx rx = { 0, 4 };
	uint32_t o, d;

	for (o = 0; o < NOBJ; o++) {
		struct cairn_vos_oid oid = { 7, o * 2 }; /* odd ids stay free for new objects */
		struct cairn_vos_tx *tx = NULL;

		for (d = 0; d < NDKEY; d++) {
			char dkey[32], val[64];
			struct cairn_vos_iod iod[2] = {
				{ .akey = "a", .akey_len = 1, .type = CAIRN_VOS_IOD_SINGLE },
				{ .akey = "arr", .akey_len = 3, .type = CAIRN_VOS_IOD_ARRAY,
				  .rec_size = 8, .nr_recx = 1, .recx = &rx, .buf = rec,
				  .buf_size = sizeof(rec) },
			};
			uint32_t dlen = (uint32_t)snprintf(dkey, sizeof(dkey), "dk%06u", d);
			int rc;

			if (tx == NULL) {
				rc = cairn_vos_tx_begin(p, g_cont, 1, &tx);
				if (rc)
					return rc;
			}
			if (d % 500 == 7) {
				vt_fill(big, sizeof(big), d, 1);
				iod[0].buf = big;
				iod[0].size = sizeof(big);
			} else {
				vt_fill(val, sizeof(val), d, 1);
				iod[0].buf = val;
				iod[0].size = sizeof(val);
			}
			rc = cairn_vos_tx_update(tx, &oid, 0, dkey, dlen, d % 3 == 0 ? 2 : 1, iod);
			if (rc == 0 && (d % 500 == 499 || d == NDKEY - 1)) {
				rc = cairn_vos_tx_commit(tx);
				tx = NULL;
			}
			if (rc) {
				if (tx != NULL)
					cairn_vos_tx_abort(tx);
				return rc;
			}
		}
	}
	return 0;
}

/* One random mutation at epoch e, anywhere in the key space (existing and new objects
 * and dkeys, ahead of and behind the walker). */
static int
mutate(struct cairn_vos_pool *p, uint64_t *x, uint64_t e)
{
	static char big[5000];
	uint64_t r = rnd(x);
	struct cairn_vos_oid oid = { 7, r % (2 * NOBJ + 2) };
	uint32_t d = (uint32_t)((r >> 8) % (NDKEY + 200));
	char dkey[32], dkey2[32], val[64];
	uint32_t dlen = (uint32_t)snprintf(dkey, sizeof(dkey), "dk%06u", d);
	uint32_t dlen2 = (uint32_t)snprintf(dkey2, sizeof(dkey2), "dk%06u",
					    (uint32_t)((r >> 24) % NDKEY));
	struct cairn_vos_iod iod = { .akey = "a", .akey_len = 1, .type = CAIRN_VOS_IOD_SINGLE,
				     .buf = val, .size = sizeof(val) };
	struct cairn_vos_tx *tx;
	int rc;

	vt_fill(val, sizeof(val), r, e);
	switch ((r >> 40) % 16) {
	case 0: /* object punch (dkeys of the object are elsewhere in the walk) */
		if (oid.lo % 3 != 0)
			oid.lo = 1 + 2 * (oid.lo % NOBJ);
		return cairn_vos_punch(p, g_cont, &oid, e, 0, NULL, 0, NULL, 0);
	case 1:
		return cairn_vos_punch(p, g_cont, &oid, e, 0, dkey, dlen, NULL, 0);
	case 2:
		return cairn_vos_punch(p, g_cont, &oid, e, 0, dkey, dlen, "a", 1);
	case 3: /* a transaction over two dkeys, one maybe conditional and failing */
		rc = cairn_vos_tx_begin(p, g_cont, e, &tx);
		if (rc)
			return rc;
		rc = cairn_vos_tx_update(tx, &oid, 0, dkey, dlen, 1, &iod);
		if (rc == 0)
			rc = cairn_vos_tx_update(tx, &oid, r & 1 ? CAIRN_VOS_COND_DKEY_INSERT : 0,
						 dkey2, dlen2, 1, &iod);
		if (rc) {
			cairn_vos_tx_abort(tx);
			return rc;
		}
		rc = cairn_vos_tx_commit(tx);
		return rc == -CAIRN_ERR_EXIST ? 0 : rc;
	case 4: /* an extent value */
		vt_fill(big, sizeof(big), r, e);
		iod.buf = big;
		iod.size = sizeof(big);
		return cairn_vos_update(p, g_cont, &oid, e, 0, dkey, dlen, 1, &iod);
	case 5: { /* array overwrite */
		uint64_t rec[2] = { r, e };
		struct cairn_vos_recx rx = { r % 6, 2 };
		struct cairn_vos_iod a = { .akey = "arr", .akey_len = 3,
					   .type = CAIRN_VOS_IOD_ARRAY, .rec_size = 8,
					   .nr_recx = 1, .recx = &rx, .buf = rec,
					   .buf_size = sizeof(rec) };

		rc = cairn_vos_update(p, g_cont, &oid, e, 0, dkey, dlen, 1, &a);
		return rc == -CAIRN_ERR_INVAL ? 0 : rc; /* "arr" may be a single value here */
	}
	default:
		rc = cairn_vos_update(p, g_cont, &oid, e, 0, dkey, dlen, 1, &iod);
		return rc == -CAIRN_ERR_INVAL ? 0 : rc; /* "a" may be an array here */
	}
}

static int
wait_ckpt(struct cairn_vos_pool *p, uint64_t want)
{
	struct cairn_vos_pool_info info;
	int i;

	for (i = 0; i < 200000; i++) {
		if (cairn_vos_pool_query(p, &info) != 0)
			return -1;
		if (info.checkpoints >= want)
			return 0;
		cairn_ult_sleep_us(50);
	}
	return -1;
}

static int
body_coop(void *arg)
{
	struct cairn_vos_pool *p;
	struct cairn_vos_pool_info info;
	void *cut = NULL, *final = NULL, *got = NULL;
	uint64_t cut_len, final_len, got_len, x = g_seed * 0x9E3779B97F4A7C15ull + 1;
	uint64_t e = 10, during = 0, after;
	struct cairn_vos_pool_opts o;
	static char zero[1 << 20];

	(void)arg;
	cairn_vos_pool_opts_default(&o);
	o.wal_size = 8ull << 20;
	o.ckpt_size = 8ull << 20;
	CKRC(cairn_vos_pool_format(g_bdev, g_pool_uuid, &o), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	CKRC(populate(p), 0);
	vos_ckpt_wait(&p->p); /* an automatic one may be running */
	CKRC(cairn_vos_pool_query(p, &info), 0);
	after = info.checkpoints;

	/* The cut: the pool is idle, so the checkpoint starts right here. */
	CKRC(cairn_vos_pool_checkpoint_start(p), 0);
	CK(p->p.ckpt_running);
	CKRC(serialize(p, &cut, &cut_len), 0);
	CKRC(cairn_vos_pool_checkpoint_start(p), -CAIRN_ERR_BUSY);
	while (p->p.ckpt_walk != NULL && during < 20000) {
		CKRC(mutate(p, &x, e++), 0);
		during++;
	}
	/* Updates ran while the index was being walked (a whole-index cut: none). */
	fprintf(stderr, "%llu mutations during the walk (%llu steps)\n",
		(unsigned long long)during, (unsigned long long)p->p.ckpt_walk_steps);
	CK(during >= 20);
	CK(p->p.ckpt_walk == NULL);
	/* Records that free entries wait for the walk: a snapshot now is fine. */
	CKRC(cairn_vos_snap_create(p, g_cont, e - 1), 0);
	CKRC(wait_ckpt(p, after + 1), 0);
	for (int i = 0; i < 50; i++)
		CKRC(mutate(p, &x, e++), 0);
	CKRC(serialize(p, &final, &final_len), 0);
	vos_pool_crash(p);

	/* Replay from the cut over the checkpoint: exactly the index before the crash. */
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(serialize(p, &got, &got_len), 0);
	CK(got_len == final_len && memcmp(got, final, got_len) == 0);
	free(got);
	got = NULL;
	CKRC(cairn_vos_pool_verify(p, NULL), 0);

	/* Without the WAL: exactly the index at the cut. (Recovery wrote nothing, so
	 * wiping the WAL now is wiping it at the crash.) */
	for (uint64_t off = 0; off < p->p.sb.wal_size; off += sizeof(zero))
		CKRC(vos_dev_write(&p->p, p->p.sb.wal_off + off, zero, sizeof(zero)), 0);
	CKRC(vos_dev_flush(&p->p), 0);
	vos_pool_crash(p);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_pool_query(p, &info), 0);
	CK(info.replayed == 0);
	CKRC(serialize(p, &got, &got_len), 0);
	CK(got_len == cut_len && memcmp(got, cut, got_len) == 0);
	CKRC(cairn_vos_pool_close(p), 0);
	free(got);
	free(cut);
	free(final);
	return 0;
}

static void
test_coop(void **state)
{
	(void)state;
	vt_run(body_coop, NULL);
}

/* Automatic checkpoints under concurrent updaters (several per run), then crash and
 * replay: the index comes back exactly. */
struct upd_arg {
	struct cairn_vos_pool *p;
	uint64_t seed, e0, n;
	int rc;
};

static void
upd_ult(void *arg)
{
	struct upd_arg *a = arg;
	uint64_t x = a->seed;

	for (uint64_t i = 0; i < a->n && a->rc == 0; i++)
		a->rc = mutate(a->p, &x, a->e0 + i);
}

static int
body_auto(void *arg)
{
	struct cairn_ult_attr attr = { .prio = CAIRN_PRIO_GENERAL, .joinable = true };
	struct cairn_vos_pool *p;
	struct cairn_vos_pool_info info;
	struct cairn_vos_pool_opts o;
	struct upd_arg ua[8];
	struct cairn_ult *u[8];
	void *final = NULL, *got = NULL;
	uint64_t final_len, got_len;
	int i;

	(void)arg;
	cairn_vos_pool_opts_default(&o);
	o.wal_size = 2ull << 20; /* a checkpoint every ~512 KiB of WAL */
	o.ckpt_size = 8ull << 20;
	CKRC(cairn_vos_pool_format(g_bdev, g_pool_uuid, &o), 0);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(cairn_vos_cont_create(p, g_cont), 0);
	CKRC(populate(p), 0);
	for (i = 0; i < 8; i++) {
		/* disjoint epoch ranges: the outcome does not depend on the interleaving
		 * for the checks below (they compare against the live index anyway) */
		ua[i] = (struct upd_arg){ .p = p, .seed = g_seed * 31 + (uint64_t)i + 1,
					  .e0 = 100 + (uint64_t)i * 100000, .n = 600 };
		CKRC(cairn_ult_create(NULL, upd_ult, &ua[i], &attr, &u[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		cairn_ult_join(u[i]);
		CKRC(ua[i].rc, 0);
	}
	CKRC(cairn_vos_pool_query(p, &info), 0);
	fprintf(stderr, "%llu checkpoints, %llu frames\n", (unsigned long long)info.checkpoints,
		(unsigned long long)info.frames);
	CK(info.checkpoints >= 2);
	vos_ckpt_wait(&p->p);
	CKRC(serialize(p, &final, &final_len), 0);
	vos_pool_crash(p);
	CKRC(cairn_vos_pool_open(g_bdev, &p), 0);
	CKRC(serialize(p, &got, &got_len), 0);
	CK(got_len == final_len && memcmp(got, final, got_len) == 0);
	CKRC(cairn_vos_pool_verify(p, NULL), 0);
	CKRC(cairn_vos_pool_close(p), 0);
	free(got);
	free(final);
	return 0;
}

static void
test_auto(void **state)
{
	(void)state;
	vt_run(body_auto, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coop),
		cmocka_unit_test(test_auto),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
