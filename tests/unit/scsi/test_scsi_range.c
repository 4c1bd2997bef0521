/*
 * COMPARE AND WRITE atomicity against writes from another xstream (another session):
 * the LUN's LBA range lock (scsi_range.c). A small "gate" bdev module holds one write
 * back until the test releases it, so the window between CAW's read and its write is
 * wide open and deterministic: an overlapping WRITE from xstream 1 must wait for the CAW
 * on xstream 0, a non-overlapping one must not.
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

#define NB 1024
#define BS 512

/* ------------------------------------------------------------------ gate bdev */

static uint8_t *g_gate_data;
static int g_gate_armed;                    /* next WRITE is held */
static struct cairn_bdev_io *g_gate_io;     /* the held write */
static struct cairn_xstream *g_gate_xs;     /* its xstream */

static void
gate_do(struct cairn_bdev_io *io)
{
	uint64_t off = io->offset_blocks * BS;
	int i;

	for (i = 0; i < io->iovcnt; i++) {
		if (io->type == CAIRN_BDEV_IO_WRITE)
			memcpy(g_gate_data + off, io->iov[i].iov_base, io->iov[i].iov_len);
		else
			memcpy(io->iov[i].iov_base, g_gate_data + off, io->iov[i].iov_len);
		off += io->iov[i].iov_len;
	}
	cairn_bdev_io_complete(io, 0);
}

static void
gate_submit(void *ch_ctx, struct cairn_bdev_io *io)
{
	(void)ch_ctx;
	if (io->type == CAIRN_BDEV_IO_WRITE &&
	    __atomic_exchange_n(&g_gate_armed, 0, __ATOMIC_SEQ_CST)) {
		g_gate_xs = cairn_xs_self();
		__atomic_store_n(&g_gate_io, io, __ATOMIC_RELEASE);
		return;
	}
	gate_do(io);
}

static void *
gate_get_channel(void *ctx)
{
	return ctx;
}

static void
gate_destruct(void *ctx)
{
	(void)ctx;
	free(g_gate_data);
	g_gate_data = NULL;
}

static const struct cairn_bdev_fn_table g_gate_fn = {
	.submit_request = gate_submit,
	.get_io_channel = gate_get_channel,
	.destruct = gate_destruct,
};

static const struct cairn_bdev_module g_gate_module = {
	.name = "ut_gate",
};

static void
gate_release_msg(void *arg)
{
	gate_do(arg);
}

/* ------------------------------------------------------------------ async tasks */

static struct cairn_scsi_dev *g_dev;

struct atask {
	uint8_t cdb[16];
	uint8_t buf[2 * BS];
	uint32_t len;
	const char *port;
	struct cairn_scsi_task task;
	struct cairn_bdev_channel *ch;
	struct cairn_scsi_lun *lun;
	int done;
};

static void
atask_done(void *arg, int rc)
{
	struct atask *a = arg;

	(void)rc;
	cairn_scsi_lun_put_channel(a->lun, a->ch);
	__atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
}

static void
atask_start_msg(void *arg)
{
	struct atask *a = arg;
	struct cairn_scsi_task *t = &a->task;

	a->lun = cairn_scsi_dev_get_lun(g_dev, 0);
	a->ch = cairn_scsi_lun_get_channel(a->lun);
	assert_non_null(a->ch);
	memset(t, 0, sizeof(*t));
	t->dev = g_dev;
	t->lun = a->lun;
	t->ch = a->ch;
	memcpy(t->cdb, a->cdb, 16);
	t->cdb_len = 16;
	t->initiator_port = a->port;
	t->rel_tgt_port = 1;
	t->buf = a->buf;
	t->buf_len = sizeof(a->buf);
	t->xfer_len = a->len;
	t->cb = atask_done;
	t->cb_arg = a;
	if (cairn_scsi_task_execute(t) == CAIRN_SCSI_TASK_DONE)
		atask_done(a, 0);
}

static void
atask_start(struct atask *a, unsigned xs)
{
	__atomic_store_n(&a->done, 0, __ATOMIC_RELEASE);
	assert_int_equal(cairn_rt_send_msg(cairn_xs_by_role(CAIRN_XS_MAIN, xs), atask_start_msg, a),
			 0);
}

/* Wait up to ms for *flag; returns whether it became true. */
static bool
wait_flag(int *flag, unsigned ms)
{
	unsigned i;

	for (i = 0; i < ms; i++) {
		if (__atomic_load_n(flag, __ATOMIC_ACQUIRE))
			return true;
		usleep(1000);
	}
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

static bool
wait_gate(unsigned ms)
{
	unsigned i;

	for (i = 0; i < ms; i++) {
		if (__atomic_load_n(&g_gate_io, __ATOMIC_ACQUIRE))
			return true;
		usleep(1000);
	}
	return false;
}

static void
set_write10(struct atask *a, uint32_t lba, uint8_t fill, const char *port)
{
	memset(a, 0, sizeof(*a));
	a->cdb[0] = SCSI_OP_WRITE10;
	scsi_put_be32(a->cdb + 2, lba);
	scsi_put_be16(a->cdb + 7, 1);
	memset(a->buf, fill, BS);
	a->len = BS;
	a->port = port;
}

static void
set_caw(struct atask *a, uint64_t lba, uint8_t cmp, uint8_t wr, const char *port)
{
	memset(a, 0, sizeof(*a));
	a->cdb[0] = SCSI_OP_COMPARE_AND_WRITE;
	scsi_put_be64(a->cdb + 2, lba);
	a->cdb[13] = 1;
	memset(a->buf, cmp, BS);
	memset(a->buf + BS, wr, BS);
	a->len = 2 * BS;
	a->port = port;
}

static int
setup(void **state)
{
	struct cairn_rt_opts ro;
	struct cairn_bdev_info info;
	struct cairn_bdev *b;

	(void)state;
	cairn_log_init();
	cairn_rt_opts_default(&ro);
	ro.nr_main = 2;
	ro.pin = false;
	assert_int_equal(cairn_rt_init(&ro), 0);
	assert_int_equal(cairn_bdev_module_register(&g_gate_module), 0);
	assert_int_equal(cairn_bdev_init(), 0);
	g_gate_data = calloc(NB, BS);
	assert_non_null(g_gate_data);
	memset(&info, 0, sizeof(info));
	info.opts_size = sizeof(info);
	info.name = "Gate0";
	info.product_name = "Gate disk";
	info.block_size = BS;
	info.num_blocks = NB;
	assert_int_equal(cairn_bdev_register(&info, &g_gate_fn, &g_gate_module, g_gate_data, &b),
			 0);
	assert_int_equal(cairn_scsi_dev_create("iqn.2016-06.io.cairn:range", &g_dev), 0);
	assert_int_equal(cairn_scsi_dev_add_lun(g_dev, 0, "Gate0"), 0);
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
test_caw_atomic_vs_other_xstream(void **state)
{
	struct atask seed, caw, w_over, w_other, rd;

	(void)state;
	/* LBA 10 holds 'O' */
	set_write10(&seed, 10, 'O', "iqn.a,i,0x1");
	atask_start(&seed, 0);
	assert_true(wait_flag(&seed.done, 5000));
	assert_int_equal(seed.task.status, CAIRN_SCSI_STATUS_GOOD);

	/* CAW 'O' -> 'C' from session A on xstream 0; its write is held by the gate. */
	__atomic_store_n(&g_gate_io, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&g_gate_armed, 1, __ATOMIC_SEQ_CST);
	set_caw(&caw, 10, 'O', 'C', "iqn.a,i,0x1");
	atask_start(&caw, 0);
	assert_true(wait_gate(5000));
	assert_false(__atomic_load_n(&caw.done, __ATOMIC_ACQUIRE));

	/* Session B on xstream 1: a write elsewhere proceeds ... */
	set_write10(&w_other, 20, 'X', "iqn.b,i,0x2");
	atask_start(&w_other, 1);
	assert_true(wait_flag(&w_other.done, 5000));
	assert_int_equal(w_other.task.status, CAIRN_SCSI_STATUS_GOOD);

	/* ... an overlapping one waits until the CAW is over. */
	set_write10(&w_over, 10, 'W', "iqn.b,i,0x2");
	atask_start(&w_over, 1);
	assert_false(wait_flag(&w_over.done, 200));
	assert_false(__atomic_load_n(&caw.done, __ATOMIC_ACQUIRE));

	assert_int_equal(cairn_rt_send_msg(g_gate_xs, gate_release_msg,
					   __atomic_exchange_n(&g_gate_io, NULL, __ATOMIC_SEQ_CST)),
			 0);
	assert_true(wait_flag(&caw.done, 5000));
	assert_int_equal(caw.task.status, CAIRN_SCSI_STATUS_GOOD);
	assert_true(wait_flag(&w_over.done, 5000));
	assert_int_equal(w_over.task.status, CAIRN_SCSI_STATUS_GOOD);

	/* Serial order CAW then WRITE: the medium holds 'W'. */
	memset(&rd, 0, sizeof(rd));
	rd.cdb[0] = SCSI_OP_READ10;
	scsi_put_be32(rd.cdb + 2, 10);
	scsi_put_be16(rd.cdb + 7, 1);
	rd.len = BS;
	rd.port = "iqn.a,i,0x1";
	atask_start(&rd, 1);
	assert_true(wait_flag(&rd.done, 5000));
	assert_int_equal(rd.task.status, CAIRN_SCSI_STATUS_GOOD);
	assert_int_equal(rd.buf[0], 'W');
	assert_int_equal(rd.buf[BS - 1], 'W');
}

/* A CAW that arrives while a write holds an overlapping range waits for it, then
 * compares against what that write stored (miscompare here), from the other xstream. */
static void
test_caw_waits_for_write(void **state)
{
	struct atask w, caw;

	(void)state;
	__atomic_store_n(&g_gate_io, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&g_gate_armed, 1, __ATOMIC_SEQ_CST);
	set_write10(&w, 30, 'N', "iqn.b,i,0x2");
	atask_start(&w, 1);
	assert_true(wait_gate(5000));

	/* The medium still holds zeros: without the lock this CAW would succeed. */
	set_caw(&caw, 30, 0, 'C', "iqn.a,i,0x1");
	atask_start(&caw, 0);
	assert_false(wait_flag(&caw.done, 200));

	assert_int_equal(cairn_rt_send_msg(g_gate_xs, gate_release_msg,
					   __atomic_exchange_n(&g_gate_io, NULL, __ATOMIC_SEQ_CST)),
			 0);
	assert_true(wait_flag(&w.done, 5000));
	assert_true(wait_flag(&caw.done, 5000));
	assert_int_equal(caw.task.status, CAIRN_SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(caw.task.sense[2] & 0x0f, CAIRN_SCSI_SK_MISCOMPARE);
	assert_int_equal(g_gate_data[30 * BS], 'N');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caw_atomic_vs_other_xstream),
		cmocka_unit_test(test_caw_waits_for_write),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
