/*
 * Full feature phase: SCSI commands with immediate/unsolicited/solicited (R2T) data,
 * Data-In with phase-collapsed status, SCSI Response with sense and residuals, CmdSN
 * window and ordering, NOP-Out/NOP-In (answers and keep-alive pings), Task Management,
 * Text (SendTargets, with continuation), Logout, Reject. Runs on the session's xstream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define CAIRN_LOG_SS CAIRN_SS_ISCSI
#include "cairn/errno.h"
#include "common/log.h"
#include "iscsi_internal.h"
#include "rt/rt.h"

#define TASK_BUF_KEEP (ISCSI_BUF_MIN << (ISCSI_BUF_CLASSES - 1)) /* 256 KiB: larger
								      * buffers are freed */
#define TASK_BUF_MAX (32u * 1024 * 1024 + 4096)
/* All task buffers above TASK_BUF_KEEP together, process-wide: beyond this, commands
 * get BUSY so a few initiators cannot pin unbounded memory. */
#define TASK_BIG_BUDGET (1024ull * 1024 * 1024)

static uint64_t g_big_bytes;
#define TEXT_RSP_MAX (64u * 1024)

static void task_execute(struct iscsi_task *t);
static void task_buf_free(struct iscsi_task *t);
static void task_respond(struct iscsi_task *t);
static void tmf_task_done(struct iscsi_task *t);

/* ------------------------------------------------------------------ sequence numbers */

static uint32_t
sess_max_cmdsn(const struct iscsi_sess *s)
{
	uint32_t room = s->active < s->queue_depth ? s->queue_depth - s->active : 0;

	return s->exp_cmdsn + room - 1;
}

void
iscsi_fill_sn(struct iscsi_conn *conn, uint8_t *h, bool advance)
{
	struct iscsi_sess *s = conn->sess;

	iscsi_put_be32(h + 24, advance ? conn->stat_sn++ : conn->stat_sn);
	if (s) {
		iscsi_put_be32(h + 28, s->exp_cmdsn);
		iscsi_put_be32(h + 32, sess_max_cmdsn(s));
	}
}

void
iscsi_send_reject(struct iscsi_conn *conn, uint8_t reason, const uint8_t *bhs)
{
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc(conn);
	uint8_t *copy;

	if (!pdu) {
		iscsi_conn_close(conn, "tx queue full");
		return;
	}
	copy = malloc(ISCSI_BHS_LEN);
	if (!copy) {
		iscsi_conn_close(conn, "out of memory");
		return;
	}
	memcpy(copy, bhs, ISCSI_BHS_LEN);
	pdu->hdr[0] = ISCSI_OP_REJECT;
	pdu->hdr[1] = ISCSI_FLAG_FINAL;
	pdu->hdr[2] = reason;
	iscsi_put_be24(pdu->hdr + 5, ISCSI_BHS_LEN);
	iscsi_put_be32(pdu->hdr + 16, ISCSI_RSVD_TAG);
	iscsi_fill_sn(conn, pdu->hdr, true);
	pdu->data = copy;
	pdu->data_len = ISCSI_BHS_LEN;
	pdu->owns_data = true;
	iscsi_tx_queue(conn, pdu);
}

void
iscsi_send_nopin_ping(struct iscsi_conn *conn)
{
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc(conn);

	if (!pdu)
		return;
	pdu->hdr[0] = ISCSI_OP_NOPIN;
	pdu->hdr[1] = ISCSI_FLAG_FINAL;
	iscsi_put_be32(pdu->hdr + 16, ISCSI_RSVD_TAG);
	conn->nop_ttt = (conn->nop_ttt + 1) & 0x7fffffff;
	iscsi_put_be32(pdu->hdr + 20, conn->nop_ttt | 0x80000000u);
	iscsi_fill_sn(conn, pdu->hdr, false);
	iscsi_tx_queue(conn, pdu);
}

/* ------------------------------------------------------------------ tasks */

static struct iscsi_task *
task_get(struct iscsi_conn *conn)
{
	struct iscsi_task *t;

	if (!conn->nfree)
		return NULL;
	t = &conn->tasks[conn->task_free[--conn->nfree]];
	t->state = ISCSI_TASK_DATA_OUT;
	t->gen++;
	t->refs = 1;
	t->aborted = false;
	t->windowed = false;
	t->final_seen = false;
	t->delivered = false;
	t->failed = false;
	t->tmf = NULL;
	t->data_rcvd = 0;
	t->r2t_offset = 0;
	t->r2t_outstanding = 0;
	t->r2tsn = 0;
	t->datasn = 0;
	t->burst_rcvd = 0;
	t->exp_datasn = 0;
	memset(&t->scsi, 0, offsetof(struct cairn_scsi_task, info));
	t->scsi.prepared = false;
	t->scsi.aborted = false;
	t->scsi.scratch = NULL;
	cairn_list_init(&t->link);
	return t;
}

static void
task_unwindow(struct iscsi_task *t)
{
	if (t->windowed && t->conn->sess) {
		t->windowed = false;
		t->conn->sess->active--;
	}
}

void
iscsi_task_release(struct iscsi_task *t)
{
	struct iscsi_conn *conn = t->conn;

	if (--t->refs)
		return;
	task_unwindow(t);
	cairn_list_del(&t->link);
	t->state = ISCSI_TASK_FREE;
	task_buf_free(t); /* back to the poll group's cache: idle tasks hold no buffer */
	conn->task_free[conn->nfree++] = t->idx;
}

static unsigned
buf_class(uint32_t len)
{
	unsigned c = 0;

	while ((ISCSI_BUF_MIN << c) < len)
		c++;
	return c;
}

static void *
pool_get(struct iscsi_poll_group *pg, unsigned c)
{
	struct cairn_list *n = cairn_list_pop(&pg->buf_pool[c]);

	if (n)
		pg->pool_bytes -= ISCSI_BUF_MIN << c;
	return n;
}

static bool
pool_put(struct iscsi_poll_group *pg, void *buf, unsigned c)
{
	uint32_t size = ISCSI_BUF_MIN << c;

	if (pg->pool_bytes + size > g_iscsi.opts.task_buf_pool_bytes)
		return false;
	cairn_list_add((struct cairn_list *)buf, &pg->buf_pool[c]);
	pg->pool_bytes += size;
	return true;
}

void
iscsi_pg_pool_fini(struct iscsi_poll_group *pg)
{
	struct cairn_list *n;
	unsigned c;

	for (c = 0; c < ISCSI_BUF_CLASSES; c++)
		while ((n = cairn_list_pop(&pg->buf_pool[c])))
			free(n);
	pg->pool_bytes = 0;
}

static void
task_buf_free(struct iscsi_task *t)
{
	if (!t->buf)
		return;
	if (t->buf_cap > TASK_BUF_KEEP) {
		__atomic_sub_fetch(&g_big_bytes, t->buf_cap, __ATOMIC_RELAXED);
		free(t->buf);
	} else if (!t->conn->pg || !pool_put(t->conn->pg, t->buf, buf_class(t->buf_cap))) {
		free(t->buf);
	}
	t->buf = NULL;
	t->buf_cap = 0;
}

static int
task_buf(struct iscsi_task *t, uint32_t len)
{
	uint32_t cap = (len + 4095) & ~4095u;
	void *p;

	if (len <= t->buf_cap)
		return 0;
	task_buf_free(t);
	if (len <= TASK_BUF_KEEP) {
		unsigned c = buf_class(len);

		p = pool_get(t->conn->pg, c);
		if (!p && posix_memalign(&p, 4096, ISCSI_BUF_MIN << c))
			return -CAIRN_ERR_NOMEM;
		t->buf = p;
		t->buf_cap = ISCSI_BUF_MIN << c;
		return 0;
	}
	if (__atomic_add_fetch(&g_big_bytes, cap, __ATOMIC_RELAXED) > TASK_BIG_BUDGET) {
		__atomic_sub_fetch(&g_big_bytes, cap, __ATOMIC_RELAXED);
		return -CAIRN_ERR_AGAIN;
	}
	if (posix_memalign(&p, 4096, cap)) {
		__atomic_sub_fetch(&g_big_bytes, cap, __ATOMIC_RELAXED);
		return -CAIRN_ERR_NOMEM;
	}
	t->buf = p;
	t->buf_cap = cap;
	return 0;
}

void
iscsi_task_buf_free(struct iscsi_task *t)
{
	task_buf_free(t);
}

static struct iscsi_task *
task_find_itt(struct iscsi_conn *conn, uint32_t itt)
{
	uint32_t i;

	for (i = 0; i < conn->ntasks; i++) {
		struct iscsi_task *t = &conn->tasks[i];

		if (t->state != ISCSI_TASK_FREE && t->itt == itt && !t->aborted)
			return t;
	}
	return NULL;
}

static struct cairn_bdev_channel *
conn_channel(struct iscsi_conn *conn, struct cairn_scsi_lun *lun)
{
	unsigned id = cairn_scsi_lun_id(lun);

	if (!conn->ch[id]) {
		conn->ch[id] = cairn_scsi_lun_get_channel(lun);
		conn->ch_lun[id] = conn->ch[id] ? lun : NULL;
	}
	return conn->ch[id];
}

static unsigned
lun_from_wire(uint64_t lun)
{
	uint8_t method = (uint8_t)(lun >> 62);

	if (method == 0)
		return (unsigned)((lun >> 48) & 0xff);
	if (method == 1)
		return (unsigned)((lun >> 48) & 0x3fff);
	return 0xffff;
}

/* ------------------------------------------------------------------ responses */

static void
send_scsi_rsp(struct iscsi_task *t)
{
	struct iscsi_conn *conn = t->conn;
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc(conn);
	struct cairn_scsi_task *st = &t->scsi;
	uint8_t *h;
	uint32_t expected, done;

	if (!pdu) {
		iscsi_conn_close(conn, "tx queue full");
		return;
	}
	h = pdu->hdr;
	h[0] = ISCSI_OP_SCSI_RSP;
	h[1] = ISCSI_FLAG_FINAL;
	h[2] = 0; /* command completed at target */
	h[3] = st->status;
	iscsi_put_be32(h + 16, t->itt);
	task_unwindow(t);
	iscsi_fill_sn(conn, h, true);
	iscsi_put_be32(h + 36, t->read ? t->datasn : 0);
	/* Residuals against the expected data transfer length. */
	if (t->read) {
		expected = st->data_len;
		done = expected < t->edtl ? expected : t->edtl;
	} else if (t->write) {
		expected = st->need_len;
		done = t->data_rcvd;
	} else {
		expected = 0;
		done = 0;
	}
	(void)done;
	if (st->status == CAIRN_SCSI_STATUS_GOOD || t->read || t->write) {
		if (expected < t->edtl) {
			h[1] |= ISCSI_RSP_UNDERFLOW;
			iscsi_put_be32(h + 44, t->edtl - expected);
		} else if (expected > t->edtl) {
			h[1] |= ISCSI_RSP_OVERFLOW;
			iscsi_put_be32(h + 44, expected - t->edtl);
		}
	}
	if (st->status == CAIRN_SCSI_STATUS_CHECK_CONDITION && st->sense_len) {
		uint8_t *d = malloc(2u + st->sense_len);

		if (d) {
			iscsi_put_be16(d, st->sense_len);
			memcpy(d + 2, st->sense, st->sense_len);
			pdu->data = d;
			pdu->data_len = 2u + st->sense_len;
			pdu->owns_data = true;
		}
	}
	iscsi_put_be24(h + 5, pdu->data_len);
	pdu->task = t;
	t->refs++;
	iscsi_tx_queue(conn, pdu);
}

static void
send_data_in(struct iscsi_task *t)
{
	struct iscsi_conn *conn = t->conn;
	struct cairn_scsi_task *st = &t->scsi;
	uint32_t total = st->data_len < t->edtl ? st->data_len : t->edtl;
	uint32_t max = conn->params.max_send_dsl;
	uint32_t off = 0;

	if (max > conn->params.max_burst && conn->params.max_burst)
		max = conn->params.max_burst;
	while (off < total) {
		struct iscsi_tx_pdu *pdu = iscsi_tx_alloc(conn);
		uint32_t len = total - off < max ? total - off : max;
		bool last = off + len == total;
		uint8_t *h;

		if (!pdu) {
			iscsi_conn_close(conn, "tx queue full");
			return;
		}
		h = pdu->hdr;
		h[0] = ISCSI_OP_DATA_IN;
		iscsi_put_be64(h + 8, t->lun_wire);
		iscsi_put_be32(h + 16, t->itt);
		iscsi_put_be32(h + 20, ISCSI_RSVD_TAG);
		iscsi_put_be32(h + 36, t->datasn++);
		iscsi_put_be32(h + 40, off);
		if (last) {
			h[1] = ISCSI_FLAG_FINAL | ISCSI_DATAIN_STATUS;
			h[3] = st->status;
			task_unwindow(t);
			iscsi_fill_sn(conn, h, true);
			if (st->data_len < t->edtl) {
				h[1] |= ISCSI_DATAIN_UNDERFLOW;
				iscsi_put_be32(h + 44, t->edtl - st->data_len);
			} else if (st->data_len > t->edtl) {
				h[1] |= ISCSI_DATAIN_OVERFLOW;
				iscsi_put_be32(h + 44, st->data_len - t->edtl);
			}
		} else {
			iscsi_fill_sn(conn, h, false);
			iscsi_put_be32(h + 24, 0);
		}
		iscsi_put_be24(h + 5, len);
		pdu->data = t->buf + off;
		pdu->data_len = len;
		pdu->task = t;
		t->refs++;
		iscsi_tx_queue(conn, pdu);
		off += len;
	}
}

static void
task_respond(struct iscsi_task *t)
{
	t->state = ISCSI_TASK_TX;
	CAIRN_TRACE("conn %u: respond itt 0x%x status 0x%02x data %u%s", t->conn->id, t->itt,
		    t->scsi.status, t->scsi.data_len, t->aborted ? " (aborted)" : "");
	if (t->aborted) {
		tmf_task_done(t);
		iscsi_task_release(t);
		return;
	}
	if (t->read && t->scsi.status == CAIRN_SCSI_STATUS_GOOD && t->scsi.data_len && t->edtl)
		send_data_in(t);
	else
		send_scsi_rsp(t);
	iscsi_task_release(t); /* the executor's reference */
}

static void
task_exec_done(void *arg, int rc)
{
	struct iscsi_task *t = arg;
	struct iscsi_conn *conn = t->conn;

	(void)rc;
	conn->inflight_exec--;
	if (conn->state >= ISCSI_CONN_CLOSING) {
		t->aborted = true;
		tmf_task_done(t);
		iscsi_task_release(t);
		return;
	}
	task_respond(t);
}

static void
task_execute(struct iscsi_task *t)
{
	struct cairn_scsi_task *st = &t->scsi;

	t->state = ISCSI_TASK_EXEC;
	CAIRN_TRACE("conn %u: execute itt 0x%x op 0x%02x edtl %u rcvd %u%s", t->conn->id, t->itt,
		    t->scsi.cdb[0], t->edtl, t->data_rcvd, t->failed ? " (failed)" : "");
	if (t->failed) {
		task_respond(t);
		return;
	}
	st->buf = t->buf;
	st->buf_len = t->buf_cap;
	st->xfer_len = t->edtl;
	st->cb = task_exec_done;
	st->cb_arg = t;
	if (cairn_scsi_task_execute(st) == CAIRN_SCSI_TASK_PENDING) {
		t->conn->inflight_exec++;
		return;
	}
	task_respond(t);
}

/* ------------------------------------------------------------------ R2T / Data-Out */

static void
send_r2ts(struct iscsi_task *t)
{
	struct iscsi_conn *conn = t->conn;

	while (t->r2t_outstanding < conn->params.max_outstanding_r2t && t->r2t_offset < t->edtl) {
		struct iscsi_tx_pdu *pdu = iscsi_tx_alloc(conn);
		uint32_t len = t->edtl - t->r2t_offset;
		uint8_t *h;

		if (!pdu) {
			iscsi_conn_close(conn, "tx queue full");
			return;
		}
		if (len > conn->params.max_burst)
			len = conn->params.max_burst;
		h = pdu->hdr;
		h[0] = ISCSI_OP_R2T;
		h[1] = ISCSI_FLAG_FINAL;
		iscsi_put_be64(h + 8, t->lun_wire);
		iscsi_put_be32(h + 16, t->itt);
		iscsi_put_be32(h + 20, (uint32_t)t->gen << 16 | t->idx);
		iscsi_fill_sn(conn, h, false);
		iscsi_put_be32(h + 36, t->r2tsn++);
		iscsi_put_be32(h + 40, t->r2t_offset);
		iscsi_put_be32(h + 44, len);
		iscsi_tx_queue(conn, pdu);
		t->r2t_offset += len;
		t->r2t_outstanding++;
	}
}

/* Data phase progress for a delivered task. */
static void
task_data_progress(struct iscsi_task *t)
{
	if (!t->delivered || t->state != ISCSI_TASK_DATA_OUT)
		return;
	if (t->data_rcvd >= t->edtl || !t->write || t->failed_nodata) {
		task_execute(t);
		return;
	}
	if (t->final_seen)
		send_r2ts(t);
}

/* ------------------------------------------------------------------ CmdSN ordering */

static void
task_deliver(struct iscsi_task *t)
{
	t->delivered = true;
	if (t->aborted) {
		iscsi_task_release(t);
		return;
	}
	cairn_list_del(&t->link);
	cairn_list_add_tail(&t->link, &t->conn->active);
	task_data_progress(t);
}

static void
sess_drain_pending(struct iscsi_sess *s)
{
	bool progress = true;

	while (progress) {
		struct cairn_list *it;

		progress = false;
		for (it = s->pending.next; it != &s->pending; it = it->next) {
			struct iscsi_task *t = cairn_container_of(it, struct iscsi_task, link);

			if (t->cmdsn == s->exp_cmdsn) {
				s->exp_cmdsn++;
				s->npending--;
				task_deliver(t);
				progress = true;
				break;
			}
		}
	}
}

/* Non-task PDUs that carry a CmdSN (NOP-Out, Text, Logout, TMF without I bit). */
static void
sess_consume_cmdsn(struct iscsi_conn *conn, bool immediate, uint32_t cmdsn)
{
	struct iscsi_sess *s = conn->sess;

	if (immediate || !s)
		return;
	if (cmdsn == s->exp_cmdsn) {
		s->exp_cmdsn++;
		sess_drain_pending(s);
	}
}

static bool
cmdsn_in_window(struct iscsi_sess *s, uint32_t cmdsn)
{
	return iscsi_sn_le(s->exp_cmdsn, cmdsn) && iscsi_sn_le(cmdsn, sess_max_cmdsn(s));
}

/* ------------------------------------------------------------------ SCSI command */

static void
task_fail_sense(struct iscsi_task *t, uint8_t key, uint16_t asc, int field)
{
	t->failed = true;
	t->scsi.status = CAIRN_SCSI_STATUS_CHECK_CONDITION;
	t->scsi.sense_len = cairn_scsi_sense_fixed(t->scsi.sense, key, asc, field, field >= 0, -1);
}

static int
rx_scsi_cmd_hdr(struct iscsi_conn *conn)
{
	struct iscsi_sess *s = conn->sess;
	const uint8_t *h = conn->bhs;
	struct iscsi_bhs_info *info = &conn->info;
	uint32_t cmdsn = iscsi_get_be32(h + 24), edtl = iscsi_get_be32(h + 20);
	bool final = h[1] & ISCSI_FLAG_FINAL, rd = h[1] & ISCSI_CMD_READ,
	     wr = h[1] & ISCSI_CMD_WRITE;
	struct iscsi_task *t;
	uint32_t need, cap;
	unsigned lun_id;

	if (s->discovery) {
		iscsi_send_reject(conn, ISCSI_REJECT_PROTOCOL, h);
		conn->rx_dst = NULL;
		info->opcode = 0xfe; /* discard */
		return 0;
	}
	if (!info->immediate && !cmdsn_in_window(s, cmdsn)) {
		CAIRN_LOG_RATELIMIT(CAIRN_SS_ISCSI, CAIRN_LOG_WARN, 5,
				    "connection %u: CmdSN %u outside window [%u, %u]: dropped",
				    conn->id, cmdsn, s->exp_cmdsn, sess_max_cmdsn(s));
		conn->rx_dst = NULL;
		info->opcode = 0xfe;
		return 0;
	}
	if ((info->data_len && (!wr || !conn->params.immediate_data)) ||
	    info->data_len > conn->params.first_burst || info->data_len > edtl ||
	    (!final && (conn->params.initial_r2t || !wr)) || (wr && edtl == 0 && info->data_len)) {
		iscsi_send_reject(conn, ISCSI_REJECT_PROTOCOL, h);
		conn->state = ISCSI_CONN_LOGOUT;
		return -CAIRN_ERR_PROTO;
	}
	t = task_get(conn);
	if (!t) {
		iscsi_send_reject(conn, ISCSI_REJECT_PROTOCOL, h);
		conn->state = ISCSI_CONN_LOGOUT;
		return -CAIRN_ERR_AGAIN;
	}
	memcpy(t->bhs, h, ISCSI_BHS_LEN);
	t->itt = info->itt;
	t->cmdsn = cmdsn;
	t->edtl = edtl;
	t->read = rd;
	t->write = wr;
	t->lun_wire = iscsi_get_be64(h + 8);
	t->final_seen = final;
	t->unsol_expected = final ? info->data_len :
				    (edtl < conn->params.first_burst ? edtl : conn->params.first_burst);
	t->r2t_offset = t->unsol_expected;
	t->failed_nodata = false;
	if (!info->immediate) {
		t->windowed = true;
		s->active++;
	}
	lun_id = lun_from_wire(t->lun_wire);
	t->scsi.dev = s->node->dev;
	t->scsi.lun = lun_id < CAIRN_SCSI_MAX_LUNS ? cairn_scsi_dev_get_lun(s->node->dev, lun_id) :
						    NULL;
	memcpy(t->scsi.cdb, h + 32, 16);
	t->scsi.cdb_len = 16;
	t->scsi.lun_wire = t->lun_wire;
	t->scsi.initiator_port = conn->initiator_port;
	t->scsi.rel_tgt_port = (uint16_t)conn->pg_tag;
	if (t->scsi.lun && !cairn_scsi_lun_removed(t->scsi.lun)) {
		t->scsi.ch = conn_channel(conn, t->scsi.lun);
		/* No channel because the bdev went away meanwhile: execute() answers
		 * LOGICAL UNIT NOT SUPPORTED. */
		if (!t->scsi.ch && !cairn_scsi_lun_removed(t->scsi.lun))
			task_fail_sense(t, CAIRN_SCSI_SK_HARDWARE_ERROR,
					CAIRN_SCSI_ASC_INTERNAL_TARGET_FAILURE, -1);
	}
	if (!t->failed && cairn_scsi_task_prepare(&t->scsi))
		t->failed = true;
	need = t->scsi.need_len;
	if (rd && wr) {
		task_fail_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST, CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB,
				-1);
	}
	cap = wr ? edtl : need;
	if (wr && need > cap)
		cap = need;
	if (cap > TASK_BUF_MAX) {
		task_fail_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST, CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB,
				-1);
		cap = 0;
	}
	if (cap < 64)
		cap = 64;
	if (!t->failed || info->data_len) {
		int brc = task_buf(t, t->failed ? info->data_len : cap);

		if (brc == -CAIRN_ERR_AGAIN) {
			/* Over the memory budget for large buffers: ask for a retry. */
			t->failed = true;
			t->scsi.status = CAIRN_SCSI_STATUS_BUSY;
			t->scsi.sense_len = 0;
		} else if (brc) {
			task_fail_sense(t, CAIRN_SCSI_SK_HARDWARE_ERROR,
					CAIRN_SCSI_ASC_INTERNAL_TARGET_FAILURE, -1);
		}
	}
	if (t->failed) {
		/* Answer after the unsolicited data; ask for nothing more. */
		t->failed_nodata = true;
		t->r2t_offset = edtl;
	}
	conn->rx_task = t;
	conn->rx_dst = info->data_len && t->buf_cap >= info->data_len ? t->buf : NULL;
	return 0;
}

static void
rx_scsi_cmd_done(struct iscsi_conn *conn)
{
	struct iscsi_sess *s = conn->sess;
	struct iscsi_task *t = conn->rx_task;

	conn->rx_task = NULL;
	if (!t)
		return;
	t->data_rcvd = conn->info.data_len;
	CAIRN_TRACE("conn %u: command itt 0x%x cmdsn %u (exp %u) op 0x%02x edtl %u imm %u%s",
		    conn->id, t->itt, t->cmdsn, s->exp_cmdsn, t->scsi.cdb[0], t->edtl,
		    conn->info.data_len, t->final_seen ? " F" : "");
	if (conn->info.immediate) {
		task_deliver(t);
		return;
	}
	if (t->cmdsn == s->exp_cmdsn) {
		s->exp_cmdsn++;
		task_deliver(t);
		sess_drain_pending(s);
		return;
	}
	/* Ahead of ExpCmdSN (another connection's command is missing): hold it. */
	t->state = ISCSI_TASK_DATA_OUT;
	cairn_list_add_tail(&t->link, &s->pending);
	s->npending++;
}

static int
rx_data_out_hdr(struct iscsi_conn *conn)
{
	const uint8_t *h = conn->bhs;
	uint32_t ttt = iscsi_get_be32(h + 20);
	uint32_t off = iscsi_get_be32(h + 40);
	uint32_t len = conn->info.data_len;
	struct iscsi_task *t = NULL;

	if (ttt == ISCSI_RSVD_TAG) {
		t = task_find_itt(conn, conn->info.itt);
		if (t && (t->final_seen || off + len > t->unsol_expected)) {
			iscsi_send_reject(conn, ISCSI_REJECT_PROTOCOL, h);
			conn->state = ISCSI_CONN_LOGOUT;
			return -CAIRN_ERR_PROTO;
		}
	} else {
		uint32_t idx = ttt & 0xffff;

		if (idx < conn->ntasks && conn->tasks[idx].state != ISCSI_TASK_FREE &&
		    conn->tasks[idx].gen == (uint16_t)(ttt >> 16) &&
		    conn->tasks[idx].itt == conn->info.itt)
			t = &conn->tasks[idx];
	}
	conn->rx_task = NULL;
	conn->rx_dst = NULL;
	if (!t || t->aborted || t->state != ISCSI_TASK_DATA_OUT) {
		/* Late data for an aborted or finished task: discard it quietly. */
		CAIRN_LOG_RATELIMIT(CAIRN_SS_ISCSI, CAIRN_LOG_DEBUG, 5,
				    "connection %u: Data-Out for unknown task 0x%x", conn->id,
				    conn->info.itt);
		return 0;
	}
	if (off != t->data_rcvd || off + len > t->edtl || len == 0 ||
	    iscsi_get_be32(h + 36) != t->exp_datasn) {
		/* Out of sequence: Reject the PDU (the initiator fails the command on it),
		 * drop the task without a response and discard the data; the connection
		 * and the other tasks carry on. Later Data-Out of this task is discarded. */
		CAIRN_LOG_RATELIMIT(CAIRN_SS_ISCSI, CAIRN_LOG_WARN, 5,
				    "connection %u: Data-Out DataSN %u offset %u length %u, "
				    "expected DataSN %u offset %u (EDTL %u): rejected", conn->id,
				    iscsi_get_be32(h + 36), off, len, t->exp_datasn, t->data_rcvd,
				    t->edtl);
		iscsi_send_reject(conn, ISCSI_REJECT_PROTOCOL, h);
		if (t->delivered) {
			t->aborted = true;
			iscsi_task_release(t);
		} else {
			t->aborted = true; /* placeholder for its CmdSN, dropped on delivery */
		}
		return 0;
	}
	conn->rx_task = t;
	conn->rx_task_off = off;
	if (!t->failed_nodata || t->buf_cap >= off + len)
		conn->rx_dst = t->buf_cap >= off + len ? t->buf + off : NULL;
	return 0;
}

static void
rx_data_out_done(struct iscsi_conn *conn)
{
	struct iscsi_task *t = conn->rx_task;
	bool final = conn->bhs[1] & ISCSI_FLAG_FINAL;
	bool solicited = iscsi_get_be32(conn->bhs + 20) != ISCSI_RSVD_TAG;

	conn->rx_task = NULL;
	if (!t)
		return;
	t->data_rcvd += conn->info.data_len;
	t->exp_datasn++;
	if (final) {
		t->exp_datasn = 0; /* each sequence (R2T or unsolicited burst) restarts */
		if (solicited) {
			if (t->r2t_outstanding)
				t->r2t_outstanding--;
		} else {
			t->final_seen = true;
		}
	}
	task_data_progress(t);
}

/* ------------------------------------------------------------------ NOP, text, logout */

static void
rx_nopout(struct iscsi_conn *conn, const uint8_t *data, uint32_t len)
{
	const uint8_t *h = conn->bhs;
	uint32_t ttt = iscsi_get_be32(h + 20);
	struct iscsi_tx_pdu *pdu;

	sess_consume_cmdsn(conn, conn->info.immediate, iscsi_get_be32(h + 24));
	if (ttt != ISCSI_RSVD_TAG) {
		conn->nop_sent_us = 0; /* answer to our ping */
		return;
	}
	if (conn->info.itt == ISCSI_RSVD_TAG)
		return;
	pdu = iscsi_tx_alloc(conn);
	if (!pdu) {
		iscsi_conn_close(conn, "tx queue full");
		return;
	}
	pdu->hdr[0] = ISCSI_OP_NOPIN;
	pdu->hdr[1] = ISCSI_FLAG_FINAL;
	memcpy(pdu->hdr + 8, h + 8, 8);
	iscsi_put_be32(pdu->hdr + 16, conn->info.itt);
	iscsi_put_be32(pdu->hdr + 20, ISCSI_RSVD_TAG);
	iscsi_fill_sn(conn, pdu->hdr, true);
	if (len && data) {
		uint32_t n = len < conn->params.max_send_dsl ? len : conn->params.max_send_dsl;
		uint8_t *copy = malloc(n);

		if (copy) {
			memcpy(copy, data, n);
			pdu->data = copy;
			pdu->data_len = n;
			pdu->owns_data = true;
		}
	}
	iscsi_put_be24(pdu->hdr + 5, pdu->data_len);
	iscsi_tx_queue(conn, pdu);
}

static void
text_send_chunk(struct iscsi_conn *conn, uint32_t itt)
{
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc(conn);
	uint32_t left = conn->text_rsp_len - conn->text_rsp_off;
	uint32_t n = left < conn->params.max_send_dsl ? left : conn->params.max_send_dsl;
	bool last = n == left;
	uint8_t *copy;

	if (!pdu) {
		iscsi_conn_close(conn, "tx queue full");
		return;
	}
	pdu->hdr[0] = ISCSI_OP_TEXT_RSP;
	pdu->hdr[1] = last ? ISCSI_FLAG_FINAL : ISCSI_TEXT_CONTINUE;
	iscsi_put_be32(pdu->hdr + 16, itt);
	if (!last)
		conn->text_ttt = (conn->text_ttt + 1) & 0x7fffffff;
	iscsi_put_be32(pdu->hdr + 20, last ? ISCSI_RSVD_TAG : conn->text_ttt);
	iscsi_fill_sn(conn, pdu->hdr, true);
	if (n) {
		copy = malloc(n);
		if (copy) {
			memcpy(copy, conn->text_rsp + conn->text_rsp_off, n);
			pdu->data = copy;
			pdu->data_len = n;
			pdu->owns_data = true;
		}
	}
	iscsi_put_be24(pdu->hdr + 5, pdu->data_len);
	conn->text_rsp_off += n;
	if (last) {
		free(conn->text_rsp);
		conn->text_rsp = NULL;
		conn->text_rsp_len = conn->text_rsp_off = 0;
	}
	iscsi_tx_queue(conn, pdu);
}

static void
rx_text(struct iscsi_conn *conn, uint8_t *data, uint32_t len)
{
	const uint8_t *h = conn->bhs;
	uint32_t ttt = iscsi_get_be32(h + 20);
	struct iscsi_text text;
	struct iscsi_textbuf tb;
	const char *why = NULL;
	unsigned i;

	sess_consume_cmdsn(conn, conn->info.immediate, iscsi_get_be32(h + 24));
	if (ttt != ISCSI_RSVD_TAG) {
		if (conn->text_rsp && ttt == conn->text_ttt) {
			text_send_chunk(conn, conn->info.itt);
			return;
		}
		iscsi_send_reject(conn, ISCSI_REJECT_INVALID_FIELD, h);
		return;
	}
	if (h[1] & ISCSI_TEXT_CONTINUE) {
		iscsi_send_reject(conn, ISCSI_REJECT_CMD_NOT_SUPPORTED, h);
		return;
	}
	free(conn->text_rsp);
	conn->text_rsp = NULL;
	if (len && data && data == conn->rx_data && len < conn->rx_data_cap) {
		if (iscsi_text_parse((char *)data, len, conn->rx_data_cap, &text, &why)) {
			iscsi_send_reject(conn, ISCSI_REJECT_PROTOCOL, h);
			return;
		}
	} else {
		text.n = 0;
	}
	tb.buf = malloc(TEXT_RSP_MAX);
	tb.cap = TEXT_RSP_MAX;
	tb.len = 0;
	tb.overflow = false;
	if (!tb.buf) {
		iscsi_conn_close(conn, "out of memory");
		return;
	}
	for (i = 0; i < text.n; i++) {
		const char *k = text.kv[i].key, *v = text.kv[i].val;

		if (strcmp(k, "SendTargets") == 0) {
			const char *only = NULL;

			if (strcmp(v, "All") == 0) {
				only = NULL;
			} else if (*v) {
				only = v;
			} else if (!conn->sess->discovery && conn->sess->node) {
				only = conn->sess->node->name;
			} else {
				iscsi_textbuf_add(&tb, k, "Reject");
				continue;
			}
			if (!conn->sess->discovery && !only && conn->sess->node)
				only = NULL;
			iscsi_send_targets(conn->sess->initiator_name, &conn->peer, &conn->local,
					   conn->pg_tag, only, &tb);
		} else {
			iscsi_textbuf_add(&tb, k, "NotUnderstood");
		}
	}
	conn->text_rsp = tb.buf;
	conn->text_rsp_len = (uint32_t)tb.len;
	conn->text_rsp_off = 0;
	text_send_chunk(conn, conn->info.itt);
}

static void
rx_logout(struct iscsi_conn *conn)
{
	const uint8_t *h = conn->bhs;
	uint8_t reason = h[1] & 0x7f;
	uint16_t cid = iscsi_get_be16(h + 20);
	struct iscsi_tx_pdu *pdu;
	uint8_t response = ISCSI_LOGOUT_RSP_OK;
	struct iscsi_conn *target = NULL;
	struct cairn_list *it;

	sess_consume_cmdsn(conn, conn->info.immediate, iscsi_get_be32(h + 24));
	if (reason == ISCSI_LOGOUT_CLOSE_CONN) {
		for (it = conn->sess->conns.next; it != &conn->sess->conns; it = it->next) {
			struct iscsi_conn *c = cairn_container_of(it, struct iscsi_conn, sess_link);

			if (c->cid == cid)
				target = c;
		}
		if (!target)
			response = ISCSI_LOGOUT_RSP_CID_NOT_FOUND;
	} else if (reason == ISCSI_LOGOUT_REMOVE_CONN) {
		response = ISCSI_LOGOUT_RSP_RECOVERY_UNSUPP;
	}
	pdu = iscsi_tx_alloc(conn);
	if (!pdu) {
		iscsi_conn_close(conn, "tx queue full");
		return;
	}
	pdu->hdr[0] = ISCSI_OP_LOGOUT_RSP;
	pdu->hdr[1] = ISCSI_FLAG_FINAL;
	pdu->hdr[2] = response;
	iscsi_put_be32(pdu->hdr + 16, conn->info.itt);
	iscsi_fill_sn(conn, pdu->hdr, true);
	iscsi_put_be16(pdu->hdr + 40, (uint16_t)conn->sess->params.time2wait);
	iscsi_put_be16(pdu->hdr + 42, (uint16_t)conn->sess->params.time2retain);
	iscsi_tx_queue(conn, pdu);
	if (response != ISCSI_LOGOUT_RSP_OK)
		return;
	if (reason == ISCSI_LOGOUT_CLOSE_SESSION) {
		for (it = conn->sess->conns.next; it != &conn->sess->conns;) {
			struct iscsi_conn *c = cairn_container_of(it, struct iscsi_conn, sess_link);

			it = it->next;
			if (c != conn)
				iscsi_conn_close(c, "session logged out");
		}
		conn->state = ISCSI_CONN_LOGOUT;
	} else if (target == conn) {
		conn->state = ISCSI_CONN_LOGOUT;
	} else {
		iscsi_conn_close(target, "logged out by another connection");
	}
}

/* ------------------------------------------------------------------ task management */

static void
tmf_send(struct iscsi_conn *conn, const uint8_t *req, uint8_t response)
{
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc(conn);

	if (!pdu) {
		iscsi_conn_close(conn, "tx queue full");
		return;
	}
	pdu->hdr[0] = ISCSI_OP_TASK_RSP;
	pdu->hdr[1] = ISCSI_FLAG_FINAL;
	pdu->hdr[2] = response;
	iscsi_put_be32(pdu->hdr + 16, iscsi_get_be32(req + 16));
	iscsi_fill_sn(conn, pdu->hdr, true);
	iscsi_tx_queue(conn, pdu);
}

static void
tmf_finish(struct iscsi_tmf *tmf)
{
	struct cairn_list *it;

	cairn_list_for_each(it, &tmf->pg->conns) {
		struct iscsi_conn *c = cairn_container_of(it, struct iscsi_conn, link);

		if (c->id == tmf->conn_id) {
			if (c->state == ISCSI_CONN_FFP)
				tmf_send(c, tmf->bhs, tmf->response);
			break;
		}
	}
	free(tmf);
}

static void
tmf_finish_msg(void *arg)
{
	tmf_finish(arg);
}

/* Drop one reference; the last answers on the requester's poll group. Any xstream. */
static void
tmf_put(struct iscsi_tmf *tmf)
{
	if (__atomic_sub_fetch(&tmf->waiting, 1, __ATOMIC_ACQ_REL))
		return;
	if (cairn_xs_self() == tmf->pg->xs)
		tmf_finish(tmf);
	else if (cairn_rt_send_msg(tmf->pg->xs, tmf_finish_msg, tmf))
		free(tmf); /* shutting down: nobody to answer */
}

static void
tmf_task_done(struct iscsi_task *t)
{
	struct iscsi_tmf *tmf = t->tmf;

	t->tmf = NULL;
	if (tmf)
		tmf_put(tmf);
}

/* Abort one task; returns true when the TMF must wait for it. */
static bool
task_abort(struct iscsi_task *t, struct iscsi_tmf *tmf)
{
	struct iscsi_conn *conn = t->conn;

	if (t->aborted || t->state == ISCSI_TASK_TX || t->state == ISCSI_TASK_FREE)
		return false;
	t->aborted = true;
	t->scsi.aborted = true;
	if (t->state == ISCSI_TASK_EXEC) {
		t->tmf = tmf;
		if (tmf)
			__atomic_add_fetch(&tmf->waiting, 1, __ATOMIC_ACQ_REL);
		return tmf != NULL;
	}
	/* Held for CmdSN order: it stays in the queue as a placeholder so ExpCmdSN still
	 * moves past its CmdSN; task_deliver() drops it without a response. */
	if (!t->delivered)
		return false;
	/* Waiting for data: drop it now, no response (RFC 7143 4.2.3.3). */
	if (conn->rx_task == t)
		conn->rx_task = NULL;
	iscsi_task_release(t);
	return false;
}

static void
sess_abort_tasks(struct iscsi_sess *s, int lun_id, struct iscsi_tmf *tmf, uint32_t only_itt,
		 bool by_itt)
{
	struct cairn_list *it;

	for (it = s->conns.next; it != &s->conns; it = it->next) {
		struct iscsi_conn *c = cairn_container_of(it, struct iscsi_conn, sess_link);
		uint32_t i;

		for (i = 0; i < c->ntasks; i++) {
			struct iscsi_task *t = &c->tasks[i];

			if (t->state == ISCSI_TASK_FREE)
				continue;
			if (by_itt && t->itt != only_itt)
				continue;
			if (lun_id >= 0 && lun_from_wire(t->lun_wire) != (unsigned)lun_id)
				continue;
			task_abort(t, tmf);
		}
	}
}

/* Task set scope across sessions (SAM-5 7.4-7.6): CLEAR TASK SET, LUN RESET and TARGET
 * WARM RESET abort the tasks of every I_T nexus of the target, and the other nexuses
 * get a unit attention. Sessions live on their poll groups' xstreams, so each poll
 * group scans its own connections, by message. */
struct tmf_scan {
	struct iscsi_tmf *tmf;
	const struct iscsi_tgt_node *node;  /* compared, never dereferenced remotely */
	const struct iscsi_sess *except;    /* the requester's session: compared only */
	struct cairn_scsi_dev *dev;
	int lun_id;                         /* -1: every LUN */
	uint16_t ua;                        /* unit attention for the other nexuses */
	bool ua_if_aborted;                 /* only nexuses that lost tasks (CLEAR TASK SET) */
};

static void
tmf_scan_pg(struct iscsi_poll_group *pg, const struct tmf_scan *sc)
{
	struct cairn_list *it;
	unsigned i;

	cairn_list_for_each(it, &pg->conns) {
		struct iscsi_conn *c = cairn_container_of(it, struct iscsi_conn, link);
		bool lost = false;
		uint32_t j;

		if (c->state != ISCSI_CONN_FFP || !c->sess || c->sess == sc->except ||
		    c->sess->discovery || c->sess->node != sc->node)
			continue;
		for (j = 0; j < c->ntasks; j++) {
			struct iscsi_task *t = &c->tasks[j];

			if (t->state == ISCSI_TASK_FREE || t->state == ISCSI_TASK_TX || t->aborted)
				continue;
			if (sc->lun_id >= 0 && lun_from_wire(t->lun_wire) != (unsigned)sc->lun_id)
				continue;
			lost = true;
			task_abort(t, sc->tmf);
		}
		if (sc->ua_if_aborted && !lost)
			continue;
		for (i = 0; i < CAIRN_SCSI_MAX_LUNS; i++) {
			if (sc->lun_id >= 0 && (unsigned)sc->lun_id != i)
				continue;
			cairn_scsi_lun_add_ua(cairn_scsi_dev_get_lun(sc->dev, i), c->initiator_port,
					      sc->ua);
		}
	}
}

static void
tmf_scan_msg(void *arg)
{
	struct tmf_scan *sc = arg;
	struct iscsi_poll_group *pg = NULL;
	unsigned i;

	for (i = 0; i < g_iscsi.npg; i++)
		if (g_iscsi.pgs[i].xs == cairn_xs_self())
			pg = &g_iscsi.pgs[i];
	if (pg)
		tmf_scan_pg(pg, sc);
	tmf_put(sc->tmf);
	free(sc);
}

static void
tmf_scan_all(struct iscsi_conn *conn, struct iscsi_tmf *tmf, int lun_id, uint16_t ua,
	     bool ua_if_aborted)
{
	struct tmf_scan local = {
		.tmf = tmf,
		.node = conn->sess->node,
		.except = conn->sess,
		.dev = conn->sess->node->dev,
		.lun_id = lun_id,
		.ua = ua,
		.ua_if_aborted = ua_if_aborted,
	};
	unsigned i;

	for (i = 0; i < g_iscsi.npg; i++) {
		struct iscsi_poll_group *pg = &g_iscsi.pgs[i];
		struct tmf_scan *sc;

		if (pg == conn->pg)
			continue;
		sc = malloc(sizeof(*sc));
		if (!sc) {
			tmf->response = ISCSI_TMF_RSP_REJECTED;
			continue;
		}
		*sc = local;
		__atomic_add_fetch(&tmf->waiting, 1, __ATOMIC_ACQ_REL);
		if (cairn_rt_send_msg(pg->xs, tmf_scan_msg, sc)) {
			__atomic_sub_fetch(&tmf->waiting, 1, __ATOMIC_ACQ_REL);
			free(sc);
		}
	}
	tmf_scan_pg(conn->pg, &local);
}

static void
rx_tmf(struct iscsi_conn *conn)
{
	struct iscsi_sess *s = conn->sess;
	const uint8_t *h = conn->bhs;
	uint8_t fn = h[1] & 0x7f;
	uint64_t lun_wire = iscsi_get_be64(h + 8);
	unsigned lun_id = lun_from_wire(lun_wire);
	uint32_t rtt = iscsi_get_be32(h + 20);
	struct cairn_scsi_lun *lun = NULL;
	struct iscsi_tmf *tmf;
	unsigned i;

	sess_consume_cmdsn(conn, conn->info.immediate, iscsi_get_be32(h + 24));
	if (s->discovery) {
		tmf_send(conn, h, ISCSI_TMF_RSP_REJECTED);
		return;
	}
	if (lun_id < CAIRN_SCSI_MAX_LUNS)
		lun = cairn_scsi_dev_get_lun(s->node->dev, lun_id);
	tmf = calloc(1, sizeof(*tmf));
	if (!tmf) {
		tmf_send(conn, h, ISCSI_TMF_RSP_REJECTED);
		return;
	}
	memcpy(tmf->bhs, h, ISCSI_BHS_LEN);
	tmf->waiting = 1; /* our own reference until the scan is over */
	tmf->conn_id = conn->id;
	tmf->pg = conn->pg;
	tmf->response = ISCSI_TMF_RSP_COMPLETE;
	switch (fn) {
	case ISCSI_TMF_ABORT_TASK: {
		bool found = false;
		struct cairn_list *it;

		for (it = s->conns.next; it != &s->conns; it = it->next) {
			struct iscsi_conn *c = cairn_container_of(it, struct iscsi_conn, sess_link);

			for (i = 0; i < c->ntasks; i++) {
				struct iscsi_task *t = &c->tasks[i];

				/* A task whose response is already queued has completed. */
				if (t->state != ISCSI_TASK_FREE && t->state != ISCSI_TASK_TX &&
				    t->itt == rtt && !t->aborted) {
					found = true;
					task_abort(t, tmf);
				}
			}
		}
		if (!found)
			tmf->response = ISCSI_TMF_RSP_NO_TASK;
		break;
	}
	case ISCSI_TMF_ABORT_TASK_SET:
		/* SAM-5 7.3: only the tasks received on this I_T nexus. */
		if (!lun) {
			tmf->response = ISCSI_TMF_RSP_NO_LUN;
			break;
		}
		sess_abort_tasks(s, (int)lun_id, tmf, 0, false);
		break;
	case ISCSI_TMF_CLEAR_TASK_SET:
		/* SAM-5 7.4: the whole (shared) task set; with TAS=0 the nexuses that lost
		 * tasks get COMMANDS CLEARED BY ANOTHER INITIATOR. */
		if (!lun) {
			tmf->response = ISCSI_TMF_RSP_NO_LUN;
			break;
		}
		sess_abort_tasks(s, (int)lun_id, tmf, 0, false);
		tmf_scan_all(conn, tmf, (int)lun_id, CAIRN_SCSI_ASC_COMMANDS_CLEARED, true);
		break;
	case ISCSI_TMF_LUN_RESET:
		/* SAM-5 7.7: every task on the LUN; the other nexuses get BUS DEVICE RESET
		 * FUNCTION OCCURRED. */
		if (!lun) {
			tmf->response = ISCSI_TMF_RSP_NO_LUN;
			break;
		}
		sess_abort_tasks(s, (int)lun_id, tmf, 0, false);
		tmf_scan_all(conn, tmf, (int)lun_id, CAIRN_SCSI_ASC_BUS_DEVICE_RESET, false);
		cairn_scsi_lun_reset(lun);
		break;
	case ISCSI_TMF_TARGET_WARM_RESET:
		sess_abort_tasks(s, -1, tmf, 0, false);
		tmf_scan_all(conn, tmf, -1, CAIRN_SCSI_ASC_BUS_DEVICE_RESET, false);
		for (i = 0; i < CAIRN_SCSI_MAX_LUNS; i++) {
			struct cairn_scsi_lun *l = cairn_scsi_dev_get_lun(s->node->dev, i);

			if (l)
				cairn_scsi_lun_reset(l);
		}
		break;
	case ISCSI_TMF_TASK_REASSIGN:
		tmf->response = ISCSI_TMF_RSP_REASSIGN_UNSUPP;
		break;
	default: /* CLEAR ACA, TARGET COLD RESET, unknown */
		tmf->response = ISCSI_TMF_RSP_NOT_SUPPORTED;
		break;
	}
	tmf_put(tmf);
}

/* ------------------------------------------------------------------ dispatch */

int
iscsi_ffp_rx_hdr(struct iscsi_conn *conn)
{
	struct iscsi_bhs_info *info = &conn->info;
	int rc;

	conn->rx_task = NULL;
	conn->rx_dst = NULL;
	switch (info->opcode) {
	case ISCSI_OP_SCSI_CMD:
		return rx_scsi_cmd_hdr(conn);
	case ISCSI_OP_DATA_OUT:
		if (conn->sess->discovery)
			break;
		return rx_data_out_hdr(conn);
	case ISCSI_OP_LOGIN_REQ:
		iscsi_send_reject(conn, ISCSI_REJECT_PROTOCOL, conn->bhs);
		conn->state = ISCSI_CONN_LOGOUT;
		return -CAIRN_ERR_PROTO;
	default:
		break;
	}
	if (info->data_len) {
		rc = 0;
		if (info->data_len + 4 > conn->rx_data_cap) {
			free(conn->rx_data);
			conn->rx_data_cap = 0;
			conn->rx_data = malloc(info->data_len + 4);
			if (!conn->rx_data)
				rc = -CAIRN_ERR_NOMEM;
			else
				conn->rx_data_cap = info->data_len + 4;
		}
		if (rc) {
			iscsi_conn_close(conn, "out of memory");
			return rc;
		}
		conn->rx_dst = conn->rx_data;
	}
	return 0;
}

int
iscsi_ffp_rx_done(struct iscsi_conn *conn, const uint8_t *data, uint32_t len)
{
	switch (conn->info.opcode) {
	case ISCSI_OP_SCSI_CMD:
		rx_scsi_cmd_done(conn);
		break;
	case ISCSI_OP_DATA_OUT:
		if (!conn->sess->discovery)
			rx_data_out_done(conn);
		else
			iscsi_send_reject(conn, ISCSI_REJECT_PROTOCOL, conn->bhs);
		break;
	case ISCSI_OP_NOPOUT:
		rx_nopout(conn, data, len);
		break;
	case ISCSI_OP_TEXT_REQ:
		rx_text(conn, (uint8_t *)(uintptr_t)data, len);
		break;
	case ISCSI_OP_LOGOUT_REQ:
		rx_logout(conn);
		break;
	case ISCSI_OP_TASK_REQ:
		rx_tmf(conn);
		break;
	case 0xfe: /* dropped (out of window) */
		break;
	default:
		iscsi_send_reject(conn, ISCSI_REJECT_CMD_NOT_SUPPORTED, conn->bhs);
		break;
	}
	return 0;
}

/* ------------------------------------------------------------------ sessions */

static void
sess_free(struct iscsi_sess *s)
{
	pthread_mutex_lock(&g_iscsi.lock);
	cairn_list_del(&s->link);
	g_iscsi.nr_sessions--;
	pthread_mutex_unlock(&g_iscsi.lock);
	if (s->node && !s->discovery) {
		unsigned i;

		/* I_T nexus loss: drops this nexus's RESERVE(6) reservations (SPC-2). */
		for (i = 0; i < CAIRN_SCSI_MAX_LUNS; i++) {
			struct cairn_scsi_lun *l = cairn_scsi_dev_get_lun(s->node->dev, i);

			if (l)
				cairn_scsi_lun_nexus_loss(l, s->initiator_port);
		}
	}
	if (s->node)
		iscsi_tgt_node_put(s->node);
	free(s);
}

void
iscsi_sess_conn_gone(struct iscsi_conn *conn)
{
	struct iscsi_sess *s = conn->sess;
	struct cairn_list *it, *next;
	uint32_t i;

	if (!s)
		return;
	/* Tasks of this connection: held ones and those waiting for data go now; those in
	 * the SCSI layer are released when they complete. */
	for (it = s->pending.next; it != &s->pending; it = next) {
		struct iscsi_task *t = cairn_container_of(it, struct iscsi_task, link);

		next = it->next;
		if (t->conn == conn)
			s->npending--;
	}
	for (i = 0; i < conn->ntasks; i++) {
		struct iscsi_task *t = &conn->tasks[i];

		if (t->state == ISCSI_TASK_FREE || t->state == ISCSI_TASK_EXEC)
			continue;
		task_unwindow(t);
		t->refs = 1;
		t->tmf = NULL;
		iscsi_task_release(t);
	}
	for (i = 0; i < conn->ntasks; i++) {
		struct iscsi_task *t = &conn->tasks[i];

		if (t->state == ISCSI_TASK_EXEC) {
			t->aborted = true;
			t->scsi.aborted = true;
			task_unwindow(t);
		}
	}
	if (!cairn_list_empty(&conn->sess_link)) {
		cairn_list_del(&conn->sess_link);
		if (__atomic_sub_fetch(&s->nconns, 1, __ATOMIC_ACQ_REL) == 0)
			sess_free(s);
	}
	conn->sess = NULL;
}

void
iscsi_sess_close(struct iscsi_sess *s, const char *why)
{
	struct cairn_list *it;

	__atomic_store_n(&s->closing, true, __ATOMIC_RELEASE);
	while (!cairn_list_empty(&s->conns)) {
		bool last = __atomic_load_n(&s->nconns, __ATOMIC_ACQUIRE) == 1;

		it = s->conns.next;
		iscsi_conn_close(cairn_container_of(it, struct iscsi_conn, sess_link), why);
		if (last)
			break; /* s is freed */
	}
}
