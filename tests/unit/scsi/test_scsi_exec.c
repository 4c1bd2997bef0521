/*
 * SCSI command execution over a real malloc bdev on the runtime: MODE SELECT/SENSE,
 * REPORT SUPPORTED OPERATION CODES, WRITE SAME with a pattern (chunked), UNMAP
 * parameter checks, READ CAPACITY, GET LBA STATUS, REQUEST SENSE, INQUIRY on a missing
 * LUN and reservation conflicts seen through cairn_scsi_task_execute().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/errno.h"
#include "common/log.h"
#include "rt/rt.h"
#include "scsi_internal.h"

#define NB 4096
#define BS 512

static struct cairn_scsi_dev *g_dev;

struct run {
	uint8_t cdb[16];
	uint8_t *buf;
	uint32_t buf_len;
	uint32_t xfer_len;
	const char *port;
	bool no_lun;
	unsigned lun_id;
	struct cairn_scsi_task task;
	struct cairn_eventual *ev;
};

static void
run_done(void *arg, int rc)
{
	struct run *r = arg;

	cairn_eventual_set(r->ev, rc);
}

static void
run_ult(void *arg)
{
	struct run *r = arg;
	struct cairn_scsi_task *t = &r->task;
	struct cairn_scsi_lun *lun = cairn_scsi_dev_get_lun(g_dev, r->lun_id);
	/* A hot-removed LUN has no channel any more: the task then runs without one. */
	struct cairn_bdev_channel *ch = lun ? cairn_scsi_lun_get_channel(lun) : NULL;

	if (lun && !cairn_scsi_lun_removed(lun))
		assert_non_null(ch);
	memset(t, 0, sizeof(*t));
	t->dev = g_dev;
	t->lun = r->no_lun ? NULL : lun;
	t->ch = ch;
	memcpy(t->cdb, r->cdb, 16);
	t->cdb_len = 16;
	t->initiator_port = r->port ? r->port : "iqn.x,i,0x1";
	t->rel_tgt_port = 1;
	t->buf = r->buf;
	t->buf_len = r->buf_len;
	t->xfer_len = r->xfer_len;
	t->cb = run_done;
	t->cb_arg = r;
	assert_int_equal(cairn_eventual_create(&r->ev), 0);
	if (cairn_scsi_task_execute(t) == CAIRN_SCSI_TASK_PENDING)
		cairn_eventual_wait(r->ev);
	cairn_eventual_destroy(r->ev);
	if (ch)
		cairn_scsi_lun_put_channel(lun, ch);
}

/* Execute a CDB; returns the SCSI status. */
static uint8_t
run(struct run *r)
{
	assert_int_equal(cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, 0), run_ult, r), 0);
	return r->task.status;
}

static int
setup(void **state)
{
	struct cairn_rt_opts ro;
	struct cairn_bdev *b;

	(void)state;
	cairn_log_init();
	cairn_rt_opts_default(&ro);
	ro.nr_main = 1;
	ro.pin = false;
	assert_int_equal(cairn_rt_init(&ro), 0);
	assert_int_equal(cairn_bdev_init(), 0);
	assert_int_equal(cairn_bdev_malloc_create("ScsiMalloc", NB, BS, NULL, &b), 0);
	assert_int_equal(cairn_scsi_dev_create("iqn.2016-06.io.cairn:exec", &g_dev), 0);
	assert_int_equal(cairn_scsi_dev_add_lun(g_dev, 0, "ScsiMalloc"), 0);
	assert_int_equal(cairn_scsi_dev_add_lun(g_dev, 0, "ScsiMalloc"), -CAIRN_ERR_EXIST);
	assert_int_equal(cairn_scsi_dev_add_lun(g_dev, 1, "NoSuch"), -CAIRN_ERR_NONEXIST);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cairn_scsi_dev_destroy(g_dev);
	cairn_bdev_fini();
	cairn_rt_fini();
	return 0;
}

static void
test_mode_pages(void **state)
{
	uint8_t buf[256];
	struct run r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.buf = buf;
	r.buf_len = r.xfer_len = sizeof(buf);
	/* MODE SENSE(10), caching page, DBD */
	r.cdb[0] = SCSI_OP_MODE_SENSE10;
	r.cdb[1] = 0x08;
	r.cdb[2] = 0x08;
	scsi_put_be16(r.cdb + 7, sizeof(buf));
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(r.task.data_len, 8 + 20);
	assert_int_equal(buf[8], 0x08);
	assert_int_equal(buf[8 + 2] & 0x04, 0); /* malloc: no write cache */

	/* MODE SELECT(6): turn WCE on */
	{
		uint8_t p[4 + 20];

		memset(p, 0, sizeof(p));
		memcpy(p + 4, buf + 8, 20);
		p[4 + 2] |= 0x04;
		memset(&r, 0, sizeof(r));
		r.buf = p;
		r.buf_len = r.xfer_len = sizeof(p);
		r.cdb[0] = SCSI_OP_MODE_SELECT6;
		r.cdb[1] = 0x10; /* PF */
		r.cdb[4] = sizeof(p);
		assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
		/* a field that is not changeable */
		p[4 + 3] ^= 0x01;
		assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
		assert_int_equal(r.task.sense[12], 0x26);
		p[4 + 3] ^= 0x01;
		/* SP: saving not supported */
		r.cdb[1] = 0x11;
		assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
		assert_int_equal(r.task.sense[12], 0x24);
		/* parameter list longer than what was sent */
		r.cdb[1] = 0x10;
		r.xfer_len = 10;
		assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
		assert_int_equal(r.task.sense[12], 0x1a);
	}
	memset(&r, 0, sizeof(r));
	r.buf = buf;
	r.buf_len = r.xfer_len = sizeof(buf);
	r.cdb[0] = SCSI_OP_MODE_SENSE6;
	r.cdb[2] = 0x08;
	r.cdb[4] = 255;
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(buf[3], 8);             /* block descriptor */
	assert_int_equal(buf[4 + 8 + 2] & 0x04, 0x04); /* WCE now on */
	assert_int_equal(buf[4 + 6] << 8 | buf[4 + 7], BS);
	/* unknown page */
	r.cdb[2] = 0x1b;
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
	/* a LUN reset restores the defaults */
	cairn_scsi_lun_reset(cairn_scsi_dev_get_lun(g_dev, 0));
	r.cdb[2] = 0x08;
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(buf[4 + 8 + 2] & 0x04, 0);
}

static void
test_report_and_capacity(void **state)
{
	uint8_t buf[2048];
	struct run r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.buf = buf;
	r.buf_len = r.xfer_len = sizeof(buf);
	r.cdb[0] = SCSI_OP_MAINTENANCE_IN;
	r.cdb[1] = SCSI_MI_REPORT_SUPPORTED_OPCODES;
	scsi_put_be32(r.cdb + 6, sizeof(buf));
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_true(scsi_get_be32(buf) >= 40 * 8);
	/* one command: READ(16) is supported, 0xc7 is not */
	r.cdb[2] = 1;
	r.cdb[3] = SCSI_OP_READ16;
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(buf[1] & 7, 3);
	assert_int_equal(scsi_get_be16(buf + 2), 16);
	r.cdb[3] = 0xc7;
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(buf[1] & 7, 1);

	memset(&r, 0, sizeof(r));
	r.buf = buf;
	r.buf_len = r.xfer_len = sizeof(buf);
	r.cdb[0] = SCSI_OP_READ_CAPACITY10;
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(scsi_get_be32(buf), NB - 1);
	assert_int_equal(scsi_get_be32(buf + 4), BS);

	memset(r.cdb, 0, 16);
	r.cdb[0] = SCSI_OP_SERVICE_ACTION_IN16;
	r.cdb[1] = SCSI_SAI_GET_LBA_STATUS;
	scsi_put_be64(r.cdb + 2, 100);
	scsi_put_be32(r.cdb + 10, 24);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(scsi_get_be64(buf + 8), 100);
	assert_int_equal(scsi_get_be32(buf + 16), NB - 100);
	scsi_put_be64(r.cdb + 2, NB);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);

	memset(r.cdb, 0, 16);
	r.cdb[0] = SCSI_OP_REQUEST_SENSE;
	r.cdb[4] = 18;
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(r.task.data_len, 18);
	assert_int_equal(buf[0], 0x70);
	assert_int_equal(buf[2], 0);

	/* no LUN: INQUIRY answers with qualifier 011b, others fail */
	memset(r.cdb, 0, 16);
	r.cdb[0] = SCSI_OP_INQUIRY;
	r.cdb[4] = 96;
	r.no_lun = true;
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(buf[0], 0x7f);
	memset(r.cdb, 0, 16);
	r.cdb[0] = SCSI_OP_TEST_UNIT_READY;
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.task.sense[12], 0x25);
}

static void
test_write_same_and_unmap(void **state)
{
	uint8_t pat[BS], *big;
	struct run r;
	uint32_t i;

	(void)state;
	for (i = 0; i < BS; i++)
		pat[i] = (uint8_t)(i * 7 + 1);
	memset(&r, 0, sizeof(r));
	r.buf = pat;
	r.buf_len = r.xfer_len = BS;
	r.cdb[0] = SCSI_OP_WRITE_SAME16;
	scsi_put_be64(r.cdb + 2, 100);
	scsi_put_be32(r.cdb + 10, 1500); /* several 256 KiB chunks */
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	big = malloc(1500 * BS);
	assert_non_null(big);
	memset(&r, 0, sizeof(r));
	r.buf = big;
	r.buf_len = r.xfer_len = 1500 * BS;
	r.cdb[0] = SCSI_OP_READ16;
	scsi_put_be64(r.cdb + 2, 100);
	scsi_put_be32(r.cdb + 10, 1500);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	for (i = 0; i < 1500; i++)
		assert_memory_equal(big + (size_t)i * BS, pat, BS);
	free(big);
	/* 0 blocks (WSNZ=0) writes up to the last LBA; at the end it is out of range */
	memset(&r, 0, sizeof(r));
	r.buf = pat;
	r.buf_len = r.xfer_len = BS;
	r.cdb[0] = SCSI_OP_WRITE_SAME10;
	scsi_put_be32(r.cdb + 2, NB - 3);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	{
		uint8_t tail[3 * BS];
		struct run rd;

		memset(&rd, 0, sizeof(rd));
		rd.buf = tail;
		rd.buf_len = rd.xfer_len = sizeof(tail);
		rd.cdb[0] = SCSI_OP_READ10;
		scsi_put_be32(rd.cdb + 2, NB - 3);
		scsi_put_be16(rd.cdb + 7, 3);
		assert_int_equal(run(&rd), CAIRN_SCSI_STATUS_GOOD);
		for (i = 0; i < 3; i++)
			assert_memory_equal(tail + i * BS, pat, BS);
	}
	scsi_put_be32(r.cdb + 2, NB);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.task.sense[12], 0x21);
	scsi_put_be32(r.cdb + 2, NB - 1);
	scsi_put_be16(r.cdb + 7, 2);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.task.sense[12], 0x21);

	/* UNMAP parameter list checks */
	{
		uint8_t p[8 + 32];

		memset(p, 0, sizeof(p));
		scsi_put_be16(p, 6 + 32);
		scsi_put_be16(p + 2, 32);
		scsi_put_be64(p + 8, 10);
		scsi_put_be32(p + 16, 5);
		scsi_put_be64(p + 24, 200);
		scsi_put_be32(p + 32, 0);
		memset(&r, 0, sizeof(r));
		r.buf = p;
		r.buf_len = r.xfer_len = sizeof(p);
		r.cdb[0] = SCSI_OP_UNMAP;
		scsi_put_be16(r.cdb + 7, sizeof(p));
		assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
		scsi_put_be16(p + 2, 33); /* not a multiple of 16 */
		assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
		assert_int_equal(r.task.sense[12], 0x1a);
		scsi_put_be16(p + 2, 32);
		scsi_put_be64(p + 24, NB); /* beyond the end */
		scsi_put_be32(p + 32, 1);
		assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
		assert_int_equal(r.task.sense[12], 0x21);
	}
}

static void
test_reservation_conflict(void **state)
{
	uint8_t p[24], buf[BS];
	struct run r;

	(void)state;
	memset(p, 0, sizeof(p));
	memset(&r, 0, sizeof(r));
	r.buf = p;
	r.buf_len = r.xfer_len = sizeof(p);
	r.port = "iqn.owner,i,0x1";
	r.cdb[0] = SCSI_OP_PR_OUT;
	r.cdb[1] = 0; /* REGISTER */
	scsi_put_be32(r.cdb + 5, 24);
	scsi_put_be64(p + 8, 0xabc);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	r.cdb[1] = 1; /* RESERVE, Exclusive Access */
	r.cdb[2] = CAIRN_SCSI_PR_EXCLUSIVE_ACCESS;
	scsi_put_be64(p, 0xabc);
	scsi_put_be64(p + 8, 0);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);

	memset(&r, 0, sizeof(r));
	r.buf = buf;
	r.buf_len = r.xfer_len = BS;
	r.port = "iqn.other,i,0x2";
	r.cdb[0] = SCSI_OP_READ10;
	scsi_put_be16(r.cdb + 7, 1);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_RESERVATION_CONFLICT);
	r.port = "iqn.owner,i,0x1";
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	/* INQUIRY is allowed for everyone */
	memset(r.cdb, 0, 16);
	r.cdb[0] = SCSI_OP_INQUIRY;
	r.cdb[4] = 36;
	r.port = "iqn.other,i,0x2";
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);

	/* clean up: CLEAR */
	memset(&r, 0, sizeof(r));
	r.buf = p;
	r.buf_len = r.xfer_len = sizeof(p);
	r.port = "iqn.owner,i,0x1";
	r.cdb[0] = SCSI_OP_PR_OUT;
	r.cdb[1] = 3;
	scsi_put_be32(r.cdb + 5, 24);
	scsi_put_be64(p, 0xabc);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
}

/* ------------------------------------------------------------------ added commands */

static void
cdb_simple(struct run *r, uint8_t op, const char *port)
{
	memset(r->cdb, 0, 16);
	r->cdb[0] = op;
	r->port = port;
}

static void
test_reserve_release6(void **state)
{
	static const char *a = "iqn.a,i,0x1", *b = "iqn.b,i,0x2";
	uint8_t buf[64];
	struct run r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.buf = buf;
	r.buf_len = r.xfer_len = sizeof(buf);
	cdb_simple(&r, SCSI_OP_RESERVE6, a);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD); /* holder may reserve again */
	cdb_simple(&r, SCSI_OP_TEST_UNIT_READY, b);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_RESERVATION_CONFLICT);
	cdb_simple(&r, SCSI_OP_RESERVE6, b);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_RESERVATION_CONFLICT);
	cdb_simple(&r, SCSI_OP_INQUIRY, b);
	r.cdb[4] = 36;
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	/* RELEASE by a non-holder: GOOD, reservation stays */
	cdb_simple(&r, SCSI_OP_RELEASE6, b);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	cdb_simple(&r, SCSI_OP_TEST_UNIT_READY, b);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_RESERVATION_CONFLICT);
	cdb_simple(&r, SCSI_OP_TEST_UNIT_READY, a);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	/* third-party bit: not supported */
	cdb_simple(&r, SCSI_OP_RESERVE6, a);
	r.cdb[1] = 0x10;
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.task.sense[12], 0x24);
	cdb_simple(&r, SCSI_OP_RELEASE6, a);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	cdb_simple(&r, SCSI_OP_TEST_UNIT_READY, b);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);

	/* a LUN reset and the holder's nexus loss both release it */
	cdb_simple(&r, SCSI_OP_RESERVE6, a);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	cairn_scsi_lun_reset(cairn_scsi_dev_get_lun(g_dev, 0));
	cdb_simple(&r, SCSI_OP_TEST_UNIT_READY, b);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	cdb_simple(&r, SCSI_OP_RESERVE6, a);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	cairn_scsi_lun_nexus_loss(cairn_scsi_dev_get_lun(g_dev, 0), b);
	cdb_simple(&r, SCSI_OP_TEST_UNIT_READY, b);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_RESERVATION_CONFLICT);
	cairn_scsi_lun_nexus_loss(cairn_scsi_dev_get_lun(g_dev, 0), a);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);

	/* with a persistent registration, RESERVE(6) conflicts (SPC-4 5.9.3) */
	{
		uint8_t p[24];

		memset(&r, 0, sizeof(r));
		memset(p, 0, sizeof(p));
		r.buf = p;
		r.buf_len = r.xfer_len = sizeof(p);
		cdb_simple(&r, SCSI_OP_PR_OUT, a);
		scsi_put_be32(r.cdb + 5, 24);
		scsi_put_be64(p + 8, 0x77);
		assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
		cdb_simple(&r, SCSI_OP_RESERVE6, a);
		assert_int_equal(run(&r), CAIRN_SCSI_STATUS_RESERVATION_CONFLICT);
		cdb_simple(&r, SCSI_OP_PR_OUT, a); /* unregister: REGISTER with key 0 */
		scsi_put_be32(r.cdb + 5, 24);
		scsi_put_be64(p, 0x77);
		scsi_put_be64(p + 8, 0);
		assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
		cdb_simple(&r, SCSI_OP_RESERVE6, a);
		assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
		/* and a PR command from another nexus conflicts with RESERVE(6) */
		cdb_simple(&r, SCSI_OP_PR_OUT, b);
		scsi_put_be32(r.cdb + 5, 24);
		memset(p, 0, sizeof(p));
		scsi_put_be64(p + 8, 0x88);
		assert_int_equal(run(&r), CAIRN_SCSI_STATUS_RESERVATION_CONFLICT);
		cdb_simple(&r, SCSI_OP_RELEASE6, a);
		assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	}
}

static void
test_prefetch_and_defects(void **state)
{
	uint8_t buf[64];
	struct run r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.buf = buf;
	r.buf_len = r.xfer_len = sizeof(buf);
	cdb_simple(&r, SCSI_OP_PRE_FETCH10, NULL);
	scsi_put_be32(r.cdb + 2, 8);
	scsi_put_be16(r.cdb + 7, 1024); /* more than one prefetch chunk */
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CONDITION_MET);
	r.cdb[1] = 0x02; /* IMMED */
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CONDITION_MET);
	r.cdb[1] = 0x04; /* reserved bit */
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.task.sense[12], 0x24);
	r.cdb[1] = 0;
	scsi_put_be32(r.cdb + 2, NB - 1);
	scsi_put_be16(r.cdb + 7, 2);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.task.sense[12], 0x21); /* LBA OUT OF RANGE */
	cdb_simple(&r, SCSI_OP_PRE_FETCH16, NULL);
	scsi_put_be64(r.cdb + 2, NB - 4);
	scsi_put_be32(r.cdb + 10, 4);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CONDITION_MET);
	scsi_put_be64(r.cdb + 2, NB);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);

	/* READ DEFECT DATA: an empty list with the header the initiator asked for */
	memset(buf, 0xee, sizeof(buf));
	cdb_simple(&r, SCSI_OP_READ_DEFECT10, NULL);
	r.cdb[2] = 0x18 | 0x05; /* PLIST, GLIST, physical sector format */
	scsi_put_be16(r.cdb + 7, sizeof(buf));
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(r.task.data_len, 4);
	assert_int_equal(buf[1], 0x1d);
	assert_int_equal(buf[2] | buf[3], 0);
	cdb_simple(&r, SCSI_OP_READ_DEFECT12, NULL);
	r.cdb[1] = 0x08 | 0x04;
	scsi_put_be32(r.cdb + 6, sizeof(buf));
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(r.task.data_len, 8);
	assert_int_equal(buf[1], 0x0c);
	assert_int_equal(scsi_get_be32(buf + 4), 0);
}

/* REPORT SUPPORTED OPERATION CODES, all commands with timeouts (RCTD): the longest
 * response we build; the added opcodes are listed. */
static void
test_report_all_opcodes_rctd(void **state)
{
	static const uint8_t want[] = {SCSI_OP_RESERVE6, SCSI_OP_RELEASE6, SCSI_OP_PRE_FETCH10,
				       SCSI_OP_PRE_FETCH16, SCSI_OP_READ_DEFECT10,
				       SCSI_OP_READ_DEFECT12, SCSI_OP_ORWRITE16};
	uint8_t *buf = malloc(4096);
	uint32_t len, off, k;
	struct run r;

	(void)state;
	assert_non_null(buf);
	memset(&r, 0, sizeof(r));
	r.buf = buf;
	r.buf_len = r.xfer_len = 4096;
	cdb_simple(&r, SCSI_OP_MAINTENANCE_IN, NULL);
	r.cdb[1] = SCSI_MI_REPORT_SUPPORTED_OPCODES;
	r.cdb[2] = 0x80; /* RCTD, all commands */
	scsi_put_be32(r.cdb + 6, 4096);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	len = scsi_get_be32(buf);
	assert_int_equal(r.task.data_len, len + 4);
	assert_int_equal(len % 20, 0);
	for (k = 0; k < sizeof(want); k++) {
		bool seen = false;

		for (off = 4; off < len + 4; off += 20)
			seen |= buf[off] == want[k];
		assert_true(seen);
	}
	free(buf);
}

/* ORWRITE(16): the medium becomes old | data, in place. */
static void
test_orwrite(void **state)
{
	uint8_t buf[2 * BS];
	struct run r;
	unsigned i;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.buf = buf;
	r.buf_len = r.xfer_len = sizeof(buf);
	memset(buf, 0x0f, sizeof(buf));
	cdb_simple(&r, SCSI_OP_WRITE10, NULL);
	scsi_put_be32(r.cdb + 2, 50);
	scsi_put_be16(r.cdb + 7, 2);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i & 0xf0);
	cdb_simple(&r, SCSI_OP_ORWRITE16, NULL);
	r.cdb[1] = 0x08; /* FUA is accepted */
	scsi_put_be64(r.cdb + 2, 50);
	scsi_put_be32(r.cdb + 10, 2);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	memset(buf, 0, sizeof(buf));
	cdb_simple(&r, SCSI_OP_READ10, NULL);
	scsi_put_be32(r.cdb + 2, 50);
	scsi_put_be16(r.cdb + 7, 2);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], (uint8_t)((i & 0xf0) | 0x0f));
	/* ORPROTECT: no protection information */
	cdb_simple(&r, SCSI_OP_ORWRITE16, NULL);
	r.cdb[1] = 0x20;
	scsi_put_be64(r.cdb + 2, 50);
	scsi_put_be32(r.cdb + 10, 1);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.task.sense[12], 0x24);
	/* beyond the end; 0 blocks is a no-op */
	r.cdb[1] = 0;
	scsi_put_be64(r.cdb + 2, NB - 1);
	scsi_put_be32(r.cdb + 10, 2);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.task.sense[12], 0x21);
	scsi_put_be32(r.cdb + 10, 0);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
}

/* REPORT CAPABILITIES advertises exactly the types a RESERVE accepts. */
static void
test_pr_types_match_capabilities(void **state)
{
	static const char *a = "iqn.a,i,0x1";
	uint8_t caps[8], p[24];
	uint16_t mask;
	unsigned type;
	struct run r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.buf = caps;
	r.buf_len = r.xfer_len = sizeof(caps);
	cdb_simple(&r, SCSI_OP_PR_IN, a);
	r.cdb[1] = 2; /* REPORT CAPABILITIES */
	scsi_put_be16(r.cdb + 7, sizeof(caps));
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(scsi_get_be16(caps), 8);
	assert_true(caps[3] & 0x80); /* TMV */
	mask = (uint16_t)(caps[4] << 8 | caps[5]);
	/* the set: WE, EA, WE_RO, EA_RO (and the all-registrants variants) */
	assert_int_equal(mask & 0x6a00, 0x6a00);

	memset(&r, 0, sizeof(r));
	r.buf = p;
	r.buf_len = r.xfer_len = sizeof(p);
	memset(p, 0, sizeof(p));
	cdb_simple(&r, SCSI_OP_PR_OUT, a);
	scsi_put_be32(r.cdb + 5, 24);
	scsi_put_be64(p + 8, 0x55);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	for (type = 0; type < 16; type++) {
		/* bit of type t in the mask: WE(1)=bit 9, EA(3)=bit 11, WE_RO(5)=bit 13,
		 * EA_RO(6)=bit 14, WE_AR(7)=bit 15, EA_AR(8)=bit 0 */
		static const int bit[16] = {-1, 9, -1, 11, -1, 13, 14, 15, 0,
					    -1, -1, -1, -1, -1, -1, -1};
		bool adv = bit[type] >= 0 && (mask & (1u << bit[type]));

		memset(p, 0, sizeof(p));
		scsi_put_be64(p, 0x55);
		cdb_simple(&r, SCSI_OP_PR_OUT, a);
		r.cdb[1] = 1; /* RESERVE */
		r.cdb[2] = (uint8_t)type;
		scsi_put_be32(r.cdb + 5, 24);
		assert_int_equal(run(&r), adv ? CAIRN_SCSI_STATUS_GOOD :
						 CAIRN_SCSI_STATUS_CHECK_CONDITION);
		if (!adv)
			continue;
		cdb_simple(&r, SCSI_OP_PR_OUT, a);
		r.cdb[1] = 2; /* RELEASE */
		r.cdb[2] = (uint8_t)type;
		scsi_put_be32(r.cdb + 5, 24);
		assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	}
	cdb_simple(&r, SCSI_OP_PR_OUT, a);
	r.cdb[1] = 3; /* CLEAR */
	scsi_put_be32(r.cdb + 5, 24);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
}

/* ------------------------------------------------------------------ hot-remove */

static int g_del_done;
static int g_del_rc;

static void
del_done(void *arg, int rc)
{
	(void)arg;
	g_del_rc = rc;
	__atomic_store_n(&g_del_done, 1, __ATOMIC_RELEASE);
}

struct chan_arg {
	struct cairn_scsi_lun *lun;
	struct cairn_bdev_channel *ch;
};

static void
chan_get_ult(void *arg)
{
	struct chan_arg *c = arg;

	c->ch = cairn_scsi_lun_get_channel(c->lun);
}

static void
chan_put_ult(void *arg)
{
	struct chan_arg *c = arg;

	cairn_scsi_lun_put_channel(c->lun, c->ch);
}

static bool
wait_del(unsigned ms)
{
	unsigned i;

	for (i = 0; i < ms && !__atomic_load_n(&g_del_done, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	return __atomic_load_n(&g_del_done, __ATOMIC_ACQUIRE);
}

static void
test_hot_remove(void **state)
{
	struct cairn_xstream *xs = cairn_xs_by_role(CAIRN_XS_MAIN, 0);
	struct cairn_bdev *b;
	struct chan_arg c;
	uint8_t buf[512];
	struct run r;
	unsigned i;

	(void)state;
	assert_int_equal(cairn_bdev_malloc_create("HotRm", 64, BS, NULL, &b), 0);
	assert_int_equal(cairn_scsi_dev_add_lun(g_dev, 2, "HotRm"), 0);
	c.lun = cairn_scsi_dev_get_lun(g_dev, 2);
	/* a transport holds a channel, as a connection that did I/O to the LUN does */
	assert_int_equal(cairn_rt_run_sync(xs, chan_get_ult, &c), 0);
	assert_non_null(c.ch);

	g_del_done = 0;
	assert_int_equal(cairn_bdev_malloc_delete("HotRm", del_done, NULL), 0);
	assert_true(cairn_scsi_lun_removed(c.lun));
	/* the delete waits for the descriptor, which waits for the channel */
	assert_false(wait_del(100));

	memset(&r, 0, sizeof(r));
	r.buf = buf;
	r.buf_len = r.xfer_len = sizeof(buf);
	r.lun_id = 2;
	cdb_simple(&r, SCSI_OP_READ10, NULL);
	scsi_put_be16(r.cdb + 7, 1);
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.task.sense[2] & 0x0f, CAIRN_SCSI_SK_ILLEGAL_REQUEST);
	assert_int_equal(scsi_get_be16(r.task.sense + 12), CAIRN_SCSI_ASC_LU_NOT_SUPPORTED);

	assert_int_equal(cairn_rt_run_sync(xs, chan_put_ult, &c), 0);
	assert_true(wait_del(5000));
	assert_int_equal(g_del_rc, 0);

	/* after the delete: still a clean answer, INQUIRY says "no LU here", and REPORT
	 * LUNS lists only LUN 0 */
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(scsi_get_be16(r.task.sense + 12), CAIRN_SCSI_ASC_LU_NOT_SUPPORTED);
	cdb_simple(&r, SCSI_OP_INQUIRY, NULL);
	r.cdb[4] = 36;
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(buf[0], 0x7f);
	r.lun_id = 0;
	cdb_simple(&r, SCSI_OP_REPORT_LUNS, NULL);
	scsi_put_be32(r.cdb + 6, sizeof(buf));
	assert_int_equal(run(&r), CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(scsi_get_be32(buf), 8);
	for (i = 8; i < 16; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(cairn_scsi_dev_del_lun(g_dev, 2), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_pages),
		cmocka_unit_test(test_report_and_capacity),
		cmocka_unit_test(test_write_same_and_unmap),
		cmocka_unit_test(test_reservation_conflict),
		cmocka_unit_test(test_reserve_release6),
		cmocka_unit_test(test_prefetch_and_defects),
		cmocka_unit_test(test_orwrite),
		cmocka_unit_test(test_report_all_opcodes_rctd),
		cmocka_unit_test(test_pr_types_match_capabilities),
		cmocka_unit_test(test_hot_remove),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
