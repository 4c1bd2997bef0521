/*
 * Wire-level tests with a minimal raw-socket initiator: data digests both ways, a
 * corrupt data digest (Reject + close of that connection only), unknown opcodes
 * (Reject, connection kept), CmdSN outside the window (dropped), data segments beyond
 * MaxRecvDataSegmentLength, a login that never completes (timeout), many idle
 * connections, NOP-Out/NOP-In, SendTargets in a normal session and ABORT TASK.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <malloc.h>
#include <unistd.h>

#include <cmocka.h>

#include "bdev/bdev.h"
#include "cairn/errno.h"
#include "common/log.h"
#include "iscsi_internal.h"
#include "rt/rt.h"
#include "target/iscsi.h"

#define TGT "iqn.2016-06.io.cairn:wire"
#define INI "iqn.2024-01.test:wire"

static uint16_t g_port;

struct ini {
	int fd;
	bool hd, dd;
	uint32_t cmdsn;
	uint32_t exp_statsn;
	uint32_t itt;
	uint16_t tsih;
	bool see_pings; /* hand target NOP-In pings to the caller instead of answering */
};

static int
setup(void **state)
{
	struct cairn_rt_opts ro;
	struct cairn_iscsi_opts io;
	struct cairn_iscsi_portal portal = {.host = "127.0.0.1", .port = "0"};
	const char *any[] = {"ANY"};
	const char *net[] = {"ANY"};
	struct cairn_iscsi_pg_ig_map map = {1, 1};
	struct cairn_iscsi_lun_map lun = {"WireMalloc", 0};
	struct cairn_iscsi_tgt_node_opts t;
	struct cairn_bdev *b;

	(void)state;
	cairn_log_init();
	cairn_rt_opts_default(&ro);
	ro.nr_main = 2;
	ro.pin = false;
	assert_int_equal(cairn_rt_init(&ro), 0);
	assert_int_equal(cairn_bdev_init(), 0);
	assert_int_equal(cairn_bdev_malloc_create("WireMalloc", 4096, 512, NULL, &b), 0);
	cairn_iscsi_opts_default(&io);
	io.login_timeout_ms = 300;
	io.first_burst = 16384;
	io.max_recv_dsl = 16384;
	io.max_queue_depth = 32;
	io.nop_in_interval_s = 1;
	io.nop_in_timeout_s = 1;
	io.task_buf_pool_bytes = 256 * 1024; /* per poll group; test_memory_budget */
	assert_int_equal(cairn_iscsi_init(&io), 0);
	assert_int_equal(cairn_iscsi_portal_grp_create(1, &portal, 1), 0);
	assert_int_equal(cairn_iscsi_init_grp_create(1, any, 1, net, 1), 0);
	memset(&t, 0, sizeof(t));
	t.opts_size = sizeof(t);
	t.name = TGT;
	t.maps = &map;
	t.nmaps = 1;
	t.luns = &lun;
	t.nluns = 1;
	assert_int_equal(cairn_iscsi_tgt_node_create(&t), 0);
	assert_int_equal(cairn_iscsi_portal_grp_port(1, 0, &g_port), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cairn_iscsi_fini();
	cairn_bdev_fini();
	cairn_rt_fini();
	return 0;
}

static int
tcp_connect(void)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(g_port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void
send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the target may have closed: the caller checks recv */
		b += w;
		n -= (size_t)w;
	}
}

/* 1: got n bytes, 0: closed, -1: timeout */
static int
recv_all(int fd, void *p, size_t n, int timeout_ms)
{
	uint8_t *b = p;

	while (n) {
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t r;

		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -1;
		r = recv(fd, b, n, 0);
		if (r == 0)
			return 0;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		b += r;
		n -= (size_t)r;
	}
	return 1;
}

static void
send_pdu(struct ini *c, uint8_t *bhs, const void *data, uint32_t len, bool corrupt_dd)
{
	uint8_t d[4], pad[3] = {0, 0, 0};
	uint32_t p = iscsi_pad4(len);

	iscsi_put_be24(bhs + 5, len);
	send_all(c->fd, bhs, ISCSI_BHS_LEN);
	if (c->hd) {
		iscsi_put_digest(d, iscsi_digest(bhs, ISCSI_BHS_LEN));
		send_all(c->fd, d, 4);
	}
	if (len) {
		send_all(c->fd, data, len);
		send_all(c->fd, pad, p);
		if (c->dd) {
			uint32_t crc = iscsi_crc32c(data, len, ISCSI_CRC32C_INIT);

			crc = iscsi_crc32c_final(iscsi_crc32c(pad, p, crc));
			iscsi_put_digest(d, corrupt_dd ? crc ^ 1 : crc);
			send_all(c->fd, d, 4);
		}
	}
}

static void send_pdu(struct ini *c, uint8_t *bhs, const void *data, uint32_t len,
		     bool corrupt_dd);

/* Receive one PDU; returns data length or -1 (closed/timeout). Verifies digests. */
static int
recv_pdu(struct ini *c, uint8_t *bhs, uint8_t *data, uint32_t cap)
{
	uint8_t d[4], pad[4];
	uint32_t len, p;

again:

	if (recv_all(c->fd, bhs, ISCSI_BHS_LEN, 5000) != 1)
		return -1;
	if (c->hd) {
		assert_int_equal(recv_all(c->fd, d, 4, 5000), 1);
		assert_int_equal(iscsi_get_digest(d), iscsi_digest(bhs, ISCSI_BHS_LEN));
	}
	len = iscsi_get_be24(bhs + 5);
	p = iscsi_pad4(len);
	assert_true(len <= cap);
	if (len) {
		assert_int_equal(recv_all(c->fd, data, len, 5000), 1);
		if (p)
			assert_int_equal(recv_all(c->fd, pad, p, 5000), 1);
		if (c->dd) {
			uint32_t crc = iscsi_crc32c(data, len, ISCSI_CRC32C_INIT);

			crc = iscsi_crc32c_final(iscsi_crc32c(pad, p, crc));
			assert_int_equal(recv_all(c->fd, d, 4, 5000), 1);
			assert_int_equal(iscsi_get_digest(d), crc);
		}
	}
	if (bhs[0] != ISCSI_OP_R2T && bhs[0] != ISCSI_OP_NOPIN &&
	    !(bhs[0] == ISCSI_OP_DATA_IN && !(bhs[1] & ISCSI_DATAIN_STATUS)))
		c->exp_statsn = iscsi_get_be32(bhs + 24) + 1;
	else if (bhs[0] == ISCSI_OP_NOPIN && iscsi_get_be32(bhs + 16) != ISCSI_RSVD_TAG)
		c->exp_statsn = iscsi_get_be32(bhs + 24) + 1;
	if (bhs[0] == ISCSI_OP_NOPIN && iscsi_get_be32(bhs + 16) == ISCSI_RSVD_TAG &&
	    !c->see_pings) {
		uint8_t out[48];

		/* keep-alive ping from the target: answer and keep waiting */
		memset(out, 0, sizeof(out));
		out[0] = ISCSI_OP_NOPOUT | ISCSI_OP_IMMEDIATE;
		out[1] = 0x80;
		iscsi_put_be32(out + 16, ISCSI_RSVD_TAG);
		memcpy(out + 20, bhs + 20, 4);
		iscsi_put_be32(out + 24, c->cmdsn);
		send_pdu(c, out, NULL, 0, false);
		goto again;
	}
	return (int)len;
}

static size_t
kv(char *b, size_t off, const char *k, const char *v)
{
	return off + (size_t)snprintf(b + off, 2048 - off, "%s=%s", k, v) + 1;
}

static uint16_t login_ex(struct ini *c, const char *target, bool hd, bool dd, const char *stype,
			 uint8_t isid, uint16_t tsih, uint16_t cid);

/* One-PDU login straight to full feature phase. Returns the login status. */
static uint16_t
login(struct ini *c, const char *target, bool hd, bool dd, const char *stype)
{
	return login_ex(c, target, hd, dd, stype, (uint8_t)rand(), 0, 0);
}

static uint16_t
login_ex(struct ini *c, const char *target, bool hd, bool dd, const char *stype, uint8_t isid,
	 uint16_t tsih, uint16_t cid)
{
	uint8_t bhs[48], rsp[48], data[8192];
	char text[2048];
	size_t n = 0;

	memset(c, 0, sizeof(*c));
	c->fd = tcp_connect();
	c->cmdsn = 10;
	c->itt = 100;
	n = kv(text, n, "InitiatorName", INI);
	n = kv(text, n, "SessionType", stype);
	if (target)
		n = kv(text, n, "TargetName", target);
	n = kv(text, n, "HeaderDigest", hd ? "CRC32C" : "None");
	n = kv(text, n, "DataDigest", dd ? "CRC32C" : "None");
	n = kv(text, n, "MaxRecvDataSegmentLength", "8192");
	n = kv(text, n, "ImmediateData", "Yes");
	n = kv(text, n, "InitialR2T", "No");
	n = kv(text, n, "FirstBurstLength", "16384");
	n = kv(text, n, "MaxBurstLength", "65536");
	n = kv(text, n, "MaxConnections", "2");
	memset(bhs, 0, sizeof(bhs));
	bhs[0] = ISCSI_OP_LOGIN_REQ | ISCSI_OP_IMMEDIATE;
	bhs[1] = ISCSI_LOGIN_TRANSIT | (1 << 2) | 3;
	bhs[8] = 0x80;
	bhs[13] = isid;
	iscsi_put_be16(bhs + 14, tsih);
	iscsi_put_be16(bhs + 20, cid);
	iscsi_put_be32(bhs + 16, c->itt++);
	iscsi_put_be32(bhs + 24, c->cmdsn);
	send_pdu(c, bhs, text, (uint32_t)n, false);
	assert_true(recv_pdu(c, rsp, data, sizeof(data)) >= 0);
	assert_int_equal(rsp[0], ISCSI_OP_LOGIN_RSP);
	if (iscsi_get_be16(rsp + 36) == 0) {
		assert_int_equal(rsp[1], ISCSI_LOGIN_TRANSIT | (1 << 2) | 3);
		c->tsih = iscsi_get_be16(rsp + 14);
		assert_int_not_equal(c->tsih, 0);
		assert_int_equal(iscsi_get_be32(rsp + 28), c->cmdsn);
		c->hd = hd;
		c->dd = dd;
	}
	return iscsi_get_be16(rsp + 36);
}

static void
scsi_cmd_bhs(struct ini *c, uint8_t *bhs, uint8_t flags, uint32_t edtl, const uint8_t *cdb,
	     bool advance)
{
	memset(bhs, 0, 48);
	bhs[0] = ISCSI_OP_SCSI_CMD;
	bhs[1] = flags;
	iscsi_put_be32(bhs + 16, c->itt++);
	iscsi_put_be32(bhs + 20, edtl);
	iscsi_put_be32(bhs + 24, c->cmdsn);
	iscsi_put_be32(bhs + 28, c->exp_statsn);
	memcpy(bhs + 32, cdb, 16);
	if (advance)
		c->cmdsn++;
}

static void
rw10(uint8_t *cdb, uint8_t op, uint32_t lba, uint16_t blocks)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	iscsi_put_be32(cdb + 2, lba);
	iscsi_put_be16(cdb + 7, blocks);
}

static void
nop_ping(struct ini *c)
{
	uint8_t bhs[48], rsp[48], data[64];

	memset(bhs, 0, sizeof(bhs));
	bhs[0] = ISCSI_OP_NOPOUT | ISCSI_OP_IMMEDIATE;
	bhs[1] = 0x80;
	iscsi_put_be32(bhs + 16, 0x4242);
	iscsi_put_be32(bhs + 20, ISCSI_RSVD_TAG);
	iscsi_put_be32(bhs + 24, c->cmdsn);
	send_pdu(c, bhs, "ping", 4, false);
	assert_int_equal(recv_pdu(c, rsp, data, sizeof(data)), 4);
	assert_int_equal(rsp[0], ISCSI_OP_NOPIN);
	assert_int_equal(iscsi_get_be32(rsp + 16), 0x4242);
	assert_memory_equal(data, "ping", 4);
}

static void
test_data_digest_io(void **state)
{
	struct ini c;
	uint8_t bhs[48], rsp[48], cdb[16], buf[8192], in[8192];
	unsigned i;
	int n;

	(void)state;
	assert_int_equal(login(&c, TGT, true, true, "Normal"), 0);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	rw10(cdb, 0x2a, 64, 16);
	scsi_cmd_bhs(&c, bhs, 0x80 | ISCSI_CMD_WRITE, 8192, cdb, true);
	send_pdu(&c, bhs, buf, 8192, false);
	assert_int_equal(recv_pdu(&c, rsp, in, sizeof(in)), 0);
	assert_int_equal(rsp[0], ISCSI_OP_SCSI_RSP);
	assert_int_equal(rsp[3], 0);
	/* read it back: Data-In carries a data digest we verify */
	rw10(cdb, 0x28, 64, 16);
	scsi_cmd_bhs(&c, bhs, 0x80 | ISCSI_CMD_READ, 8192, cdb, true);
	send_pdu(&c, bhs, NULL, 0, false);
	n = recv_pdu(&c, rsp, in, sizeof(in));
	assert_int_equal(n, 8192);
	assert_int_equal(rsp[0], ISCSI_OP_DATA_IN);
	assert_true(rsp[1] & ISCSI_DATAIN_STATUS);
	assert_memory_equal(in, buf, 8192);
	/* a write bigger than FirstBurstLength: immediate part + R2T */
	{
		static uint8_t big[32768];
		uint32_t off, got = 16384;

		for (i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)(i ^ (i >> 8));
		rw10(cdb, 0x2a, 128, 64);
		scsi_cmd_bhs(&c, bhs, 0x80 | ISCSI_CMD_WRITE, sizeof(big), cdb, true);
		send_pdu(&c, bhs, big, 8192, false); /* immediate, then no unsolicited */
		got = 8192;
		while (got < sizeof(big)) {
			uint32_t ttt, len;

			assert_int_equal(recv_pdu(&c, rsp, in, sizeof(in)), 0);
			assert_int_equal(rsp[0], ISCSI_OP_R2T);
			ttt = iscsi_get_be32(rsp + 20);
			off = iscsi_get_be32(rsp + 40);
			len = iscsi_get_be32(rsp + 44);
			assert_int_equal(off, got);
			for (uint32_t dsn = 0; len; dsn++) {
				uint32_t chunk = len < 8192 ? len : 8192;

				memset(bhs, 0, 48);
				bhs[0] = ISCSI_OP_DATA_OUT;
				bhs[1] = chunk == len ? 0x80 : 0;
				iscsi_put_be32(bhs + 16, iscsi_get_be32(rsp + 16));
				iscsi_put_be32(bhs + 20, ttt);
				iscsi_put_be32(bhs + 36, dsn);
				iscsi_put_be32(bhs + 40, off);
				send_pdu(&c, bhs, big + off, chunk, false);
				off += chunk;
				len -= chunk;
				got += chunk;
			}
		}
		assert_int_equal(recv_pdu(&c, rsp, in, sizeof(in)), 0);
		assert_int_equal(rsp[0], ISCSI_OP_SCSI_RSP);
		assert_int_equal(rsp[3], 0);
		rw10(cdb, 0x28, 128 + 16, 16);
		scsi_cmd_bhs(&c, bhs, 0x80 | ISCSI_CMD_READ, 8192, cdb, true);
		send_pdu(&c, bhs, NULL, 0, false);
		assert_int_equal(recv_pdu(&c, rsp, in, sizeof(in)), 8192);
		assert_memory_equal(in, big + 8192, 8192);
	}
	close(c.fd);
}

static void
test_bad_data_digest(void **state)
{
	struct ini c, other;
	uint8_t bhs[48], rsp[48], cdb[16], buf[4096], data[128];

	(void)state;
	assert_int_equal(login(&other, TGT, false, false, "Normal"), 0);
	assert_int_equal(login(&c, TGT, true, true, "Normal"), 0);
	memset(buf, 0x5a, sizeof(buf));
	rw10(cdb, 0x2a, 0, 8);
	scsi_cmd_bhs(&c, bhs, 0x80 | ISCSI_CMD_WRITE, 4096, cdb, true);
	send_pdu(&c, bhs, buf, 4096, true);
	assert_int_equal(recv_pdu(&c, rsp, data, sizeof(data)), 48);
	assert_int_equal(rsp[0], ISCSI_OP_REJECT);
	assert_int_equal(rsp[2], ISCSI_REJECT_DIGEST);
	assert_int_equal(recv_pdu(&c, rsp, data, sizeof(data)), -1); /* closed */
	close(c.fd);
	/* the other session is unaffected */
	nop_ping(&other);
	close(other.fd);
}

static void
test_unknown_opcode_and_window(void **state)
{
	struct ini c;
	uint8_t bhs[48], rsp[48], cdb[16], data[128];

	(void)state;
	assert_int_equal(login(&c, TGT, false, false, "Normal"), 0);
	memset(bhs, 0, sizeof(bhs));
	bhs[0] = 0x1c; /* not an initiator opcode */
	bhs[1] = 0x80;
	iscsi_put_be32(bhs + 16, 7);
	send_pdu(&c, bhs, "abcd", 4, false);
	assert_int_equal(recv_pdu(&c, rsp, data, sizeof(data)), 48);
	assert_int_equal(rsp[0], ISCSI_OP_REJECT);
	assert_int_equal(rsp[2], ISCSI_REJECT_CMD_NOT_SUPPORTED);
	assert_memory_equal(data, bhs, 4);
	nop_ping(&c); /* still serving */

	/* far outside the CmdSN window: dropped silently */
	memset(cdb, 0, sizeof(cdb));
	scsi_cmd_bhs(&c, bhs, 0x80, 0, cdb, false);
	iscsi_put_be32(bhs + 24, c.cmdsn + 100000);
	send_pdu(&c, bhs, NULL, 0, false);
	nop_ping(&c); /* the next PDU we get is the ping answer */
	/* the expected CmdSN still works */
	scsi_cmd_bhs(&c, bhs, 0x80, 0, cdb, true);
	send_pdu(&c, bhs, NULL, 0, false);
	assert_int_equal(recv_pdu(&c, rsp, data, sizeof(data)), 0);
	assert_int_equal(rsp[0], ISCSI_OP_SCSI_RSP);
	assert_int_equal(iscsi_get_be32(rsp + 28), c.cmdsn); /* ExpCmdSN advanced */

	/* a Data-Out with the wrong DataSN: rejected, the task dropped, the rest served */
	{
		uint8_t blk[512];

		memset(blk, 1, sizeof(blk));
		rw10(cdb, 0x2a, 8, 2);
		scsi_cmd_bhs(&c, bhs, ISCSI_CMD_WRITE, 1024, cdb, true); /* F=0: unsolicited */
		send_pdu(&c, bhs, NULL, 0, false);
		memset(bhs, 0, 48);
		bhs[0] = ISCSI_OP_DATA_OUT;
		iscsi_put_be32(bhs + 16, c.itt - 1);
		iscsi_put_be32(bhs + 20, ISCSI_RSVD_TAG);
		iscsi_put_be32(bhs + 36, 5);
		send_pdu(&c, bhs, blk, sizeof(blk), false);
		assert_int_equal(recv_pdu(&c, rsp, data, sizeof(data)), 48);
		assert_int_equal(rsp[0], ISCSI_OP_REJECT);
		assert_int_equal(rsp[2], ISCSI_REJECT_PROTOCOL);
		bhs[1] = 0x80; /* the rest of that sequence is discarded quietly */
		iscsi_put_be32(bhs + 36, 1);
		iscsi_put_be32(bhs + 40, 512);
		send_pdu(&c, bhs, blk, sizeof(blk), false);
		nop_ping(&c);
	}

	/* ABORT TASK of a task that does not exist */
	memset(bhs, 0, sizeof(bhs));
	bhs[0] = ISCSI_OP_TASK_REQ | ISCSI_OP_IMMEDIATE;
	bhs[1] = 0x80 | ISCSI_TMF_ABORT_TASK;
	iscsi_put_be32(bhs + 16, c.itt++);
	iscsi_put_be32(bhs + 20, 0xdead);
	iscsi_put_be32(bhs + 24, c.cmdsn);
	send_pdu(&c, bhs, NULL, 0, false);
	assert_int_equal(recv_pdu(&c, rsp, data, sizeof(data)), 0);
	assert_int_equal(rsp[0], ISCSI_OP_TASK_RSP);
	assert_int_equal(rsp[2], ISCSI_TMF_RSP_NO_TASK);
	/* LUN RESET of LUN 0 */
	bhs[1] = 0x80 | ISCSI_TMF_LUN_RESET;
	iscsi_put_be32(bhs + 16, c.itt++);
	send_pdu(&c, bhs, NULL, 0, false);
	assert_int_equal(recv_pdu(&c, rsp, data, sizeof(data)), 0);
	assert_int_equal(rsp[2], ISCSI_TMF_RSP_COMPLETE);
	close(c.fd);
}

static void
test_oversized_and_malformed(void **state)
{
	struct ini c;
	uint8_t bhs[48], rsp[48], data[128];
	static uint8_t big[20000];

	(void)state;
	/* data segment longer than our MaxRecvDataSegmentLength (16384) */
	assert_int_equal(login(&c, TGT, false, false, "Normal"), 0);
	memset(bhs, 0, sizeof(bhs));
	bhs[0] = ISCSI_OP_NOPOUT | ISCSI_OP_IMMEDIATE;
	bhs[1] = 0x80;
	iscsi_put_be32(bhs + 16, 1);
	iscsi_put_be32(bhs + 20, ISCSI_RSVD_TAG);
	send_pdu(&c, bhs, big, sizeof(big), false);
	assert_int_equal(recv_pdu(&c, rsp, data, sizeof(data)), 48);
	assert_int_equal(rsp[0], ISCSI_OP_REJECT);
	assert_int_equal(rsp[2], ISCSI_REJECT_PROTOCOL);
	assert_int_equal(recv_pdu(&c, rsp, data, sizeof(data)), -1);
	close(c.fd);

	/* a SCSI command PDU before login: connection dropped */
	c.fd = tcp_connect();
	c.hd = c.dd = false;
	memset(bhs, 0, sizeof(bhs));
	bhs[0] = ISCSI_OP_SCSI_CMD;
	bhs[1] = 0x80;
	iscsi_put_be32(bhs + 16, 1);
	send_pdu(&c, bhs, NULL, 0, false);
	assert_int_equal(recv_pdu(&c, rsp, data, sizeof(data)), -1);
	close(c.fd);

	/* truncated PDU then silence: the login timeout closes it */
	c.fd = tcp_connect();
	send_all(c.fd, bhs, 20);
	assert_int_equal(recv_all(c.fd, rsp, 1, 3000), 0);
	close(c.fd);
}

static void
test_login_errors(void **state)
{
	struct ini c;

	(void)state;
	assert_int_equal(login(&c, "iqn.2016-06.io.cairn:nothere", false, false, "Normal"),
			 ISCSI_LS_NOT_FOUND);
	close(c.fd);
	assert_int_equal(login(&c, NULL, false, false, "Normal"), ISCSI_LS_MISSING_PARAM);
	close(c.fd);
	assert_int_equal(login(&c, TGT, false, false, "Bogus"), ISCSI_LS_SESSION_TYPE_UNSUPP);
	close(c.fd);
}

static void
test_idle_connections_and_send_targets(void **state)
{
	enum { N = 300 };
	int fds[N], i;
	struct ini c;
	uint8_t bhs[48], rsp[48], data[1024];
	static const char st[] = "SendTargets=All";
	json_t *conns = NULL;

	(void)state;
	for (i = 0; i < N; i++)
		fds[i] = tcp_connect();
	/* everyone else is still served while hundreds sit idle */
	assert_int_equal(login(&c, TGT, false, false, "Normal"), 0);
	memset(bhs, 0, sizeof(bhs));
	bhs[0] = ISCSI_OP_TEXT_REQ | ISCSI_OP_IMMEDIATE;
	bhs[1] = 0x80;
	iscsi_put_be32(bhs + 16, c.itt++);
	iscsi_put_be32(bhs + 20, ISCSI_RSVD_TAG);
	iscsi_put_be32(bhs + 24, c.cmdsn);
	send_pdu(&c, bhs, st, sizeof(st), false);
	assert_true(recv_pdu(&c, rsp, data, sizeof(data)) > 0);
	assert_int_equal(rsp[0], ISCSI_OP_TEXT_RSP);
	assert_non_null(memmem(data, sizeof(data), "TargetName=" TGT, strlen("TargetName=" TGT)));
	assert_int_equal(cairn_iscsi_get_connections(&conns), 0);
	assert_true(json_array_size(conns) >= 1);
	json_decref(conns);
	close(c.fd);
	/* the idle ones are closed by the login timeout */
	for (i = 0; i < N; i++) {
		uint8_t b;

		assert_int_equal(recv_all(fds[i], &b, 1, 3000), 0);
		close(fds[i]);
	}
}


static void
tur(struct ini *c)
{
	uint8_t bhs[48], rsp[48], cdb[16], data[64];

	memset(cdb, 0, sizeof(cdb));
	scsi_cmd_bhs(c, bhs, 0x80, 0, cdb, true);
	send_pdu(c, bhs, NULL, 0, false);
	assert_int_equal(recv_pdu(c, rsp, data, sizeof(data)), 0);
	assert_int_equal(rsp[0], ISCSI_OP_SCSI_RSP);
	assert_int_equal(rsp[3], 0);
}

static void
test_mcs_and_reinstatement(void **state)
{
	struct ini a, b, c;
	uint8_t rsp[48], data[64];
	uint32_t cmdsn;

	(void)state;
	/* leading connection, then a second connection joins the session (TSIH != 0) */
	assert_int_equal(login_ex(&a, TGT, false, false, "Normal", 0x77, 0, 0), 0);
	assert_int_equal(login_ex(&b, TGT, false, false, "Normal", 0x77, a.tsih, 1), 0);
	assert_int_equal(b.tsih, a.tsih);
	/* one CmdSN sequence across both connections */
	tur(&a);
	b.cmdsn = a.cmdsn;
	tur(&b);
	a.cmdsn = b.cmdsn;
	tur(&a);
	/* a third connection exceeds MaxConnections=2 */
	assert_int_equal(login_ex(&c, TGT, false, false, "Normal", 0x77, a.tsih, 2),
			 ISCSI_LS_TOO_MANY_CONNS);
	close(c.fd);
	/* a wrong TSIH */
	assert_int_equal(login_ex(&c, TGT, false, false, "Normal", 0x77, 0x7fff, 3),
			 ISCSI_LS_NO_SESSION);
	close(c.fd);
	/* reinstatement: same ISID and TSIH 0 closes the old session's connections */
	cmdsn = a.cmdsn;
	(void)cmdsn;
	assert_int_equal(login_ex(&c, TGT, false, false, "Normal", 0x77, 0, 0), 0);
	assert_int_not_equal(c.tsih, a.tsih);
	assert_int_equal(recv_pdu(&a, rsp, data, sizeof(data)), -1);
	assert_int_equal(recv_pdu(&b, rsp, data, sizeof(data)), -1);
	tur(&c);
	close(a.fd);
	close(b.fd);

	/* ErrorRecoveryLevel 0: a failed connection takes its session down */
	assert_int_equal(login_ex(&a, TGT, false, false, "Normal", 0x78, 0, 0), 0);
	assert_int_equal(login_ex(&b, TGT, false, false, "Normal", 0x78, a.tsih, 1), 0);
	close(b.fd);
	assert_int_equal(recv_pdu(&a, rsp, data, sizeof(data)), -1);
	close(a.fd);
	close(c.fd);
}


static struct iscsi_poll_group *
sess_pg(uint16_t tsih)
{
	struct iscsi_poll_group *pg = NULL;
	struct cairn_list *it;

	pthread_mutex_lock(&g_iscsi.lock);
	cairn_list_for_each(it, &g_iscsi.sessions) {
		struct iscsi_sess *s = cairn_container_of(it, struct iscsi_sess, link);

		if (s->tsih == tsih)
			pg = s->pg;
	}
	pthread_mutex_unlock(&g_iscsi.lock);
	return pg;
}

/* Send a SCSI command without data and return its status; sense copied to sense[]. */
static uint8_t
cmd_status(struct ini *c, const uint8_t *cdb, uint8_t *sense)
{
	uint8_t bhs[48], rsp[48], data[256];
	uint32_t itt = c->itt;
	int n;

	scsi_cmd_bhs(c, bhs, 0x80, 0, cdb, true);
	send_pdu(c, bhs, NULL, 0, false);
	n = recv_pdu(c, rsp, data, sizeof(data));
	assert_true(n >= 0);
	assert_int_equal(rsp[0], ISCSI_OP_SCSI_RSP);
	assert_int_equal(iscsi_get_be32(rsp + 16), itt); /* nothing else answered before */
	if (sense && n >= 2 + 14)
		memcpy(sense, data + 2, 14);
	return rsp[3];
}

static void
tmf(struct ini *c, uint8_t fn, uint8_t expect)
{
	uint8_t bhs[48], rsp[48], data[64];

	memset(bhs, 0, sizeof(bhs));
	bhs[0] = ISCSI_OP_TASK_REQ | ISCSI_OP_IMMEDIATE;
	bhs[1] = 0x80 | fn;
	iscsi_put_be32(bhs + 16, c->itt++);
	iscsi_put_be32(bhs + 20, ISCSI_RSVD_TAG);
	iscsi_put_be32(bhs + 24, c->cmdsn);
	send_pdu(c, bhs, NULL, 0, false);
	assert_int_equal(recv_pdu(c, rsp, data, sizeof(data)), 0);
	assert_int_equal(rsp[0], ISCSI_OP_TASK_RSP);
	assert_int_equal(rsp[2], expect);
}

/* LUN RESET, TARGET WARM RESET and CLEAR TASK SET from session B abort session A's
 * task on the other poll group, and A gets the unit attention SAM-5 asks for. */
static void
test_tmf_across_sessions(void **state)
{
	static const struct {
		uint8_t fn;
		uint16_t ua;
	} cases[] = {
		{ISCSI_TMF_LUN_RESET, 0x2903},
		{ISCSI_TMF_TARGET_WARM_RESET, 0x2903},
		{ISCSI_TMF_CLEAR_TASK_SET, 0x2f00},
	};
	uint8_t bhs[48], cdb[16], blk[1024], sense[14], tur_cdb[16];
	struct ini a, b;
	unsigned k;

	(void)state;
	memset(tur_cdb, 0, sizeof(tur_cdb));
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		uint32_t w_itt;

		assert_int_equal(login_ex(&a, TGT, false, false, "Normal", (uint8_t)(0x51 + 2 * k),
					  0, 0), 0);
		assert_int_equal(login_ex(&b, TGT, false, false, "Normal", (uint8_t)(0x52 + 2 * k),
					  0, 0), 0);
		/* round-robin placement: the two sessions live on different xstreams */
		assert_ptr_not_equal(sess_pg(a.tsih), sess_pg(b.tsih));

		/* A: a WRITE waiting for its unsolicited data */
		rw10(cdb, 0x2a, 3000, 2);
		w_itt = a.itt;
		scsi_cmd_bhs(&a, bhs, ISCSI_CMD_WRITE, 1024, cdb, true); /* F=0 */
		send_pdu(&a, bhs, NULL, 0, false);
		nop_ping(&a); /* the command is in */

		tmf(&b, cases[k].fn, ISCSI_TMF_RSP_COMPLETE);

		/* A's data arrives too late: its task is gone, nothing answers it */
		memset(bhs, 0, sizeof(bhs));
		bhs[0] = ISCSI_OP_DATA_OUT;
		bhs[1] = 0x80;
		iscsi_put_be32(bhs + 16, w_itt);
		iscsi_put_be32(bhs + 20, ISCSI_RSVD_TAG);
		memset(blk, 0xa5, sizeof(blk));
		send_pdu(&a, bhs, blk, sizeof(blk), false);
		/* A's next command reports the unit attention, once */
		memset(sense, 0, sizeof(sense));
		assert_int_equal(cmd_status(&a, tur_cdb, sense), CAIRN_SCSI_STATUS_CHECK_CONDITION);
		assert_int_equal(sense[2] & 0x0f, CAIRN_SCSI_SK_UNIT_ATTENTION);
		assert_int_equal(sense[12] << 8 | sense[13], cases[k].ua);
		assert_int_equal(cmd_status(&a, tur_cdb, NULL), CAIRN_SCSI_STATUS_GOOD);
		/* the requester gets none */
		assert_int_equal(cmd_status(&b, tur_cdb, NULL), CAIRN_SCSI_STATUS_GOOD);
		close(a.fd);
		close(b.fd);
	}
}

static int g_del_done;

static void
del_done(void *arg, int rc)
{
	(void)arg;
	__atomic_store_n(&g_del_done, rc ? -1 : 1, __ATOMIC_RELEASE);
}

/* Hot-remove: deleting a bdev behind a LUN that a session did I/O to completes (the
 * connection gives its channel back, the LUN closes its descriptor); I/O to the LUN
 * then gets LOGICAL UNIT NOT SUPPORTED and REPORT LUNS no longer lists it. */
static void
test_hot_remove(void **state)
{
	uint8_t bhs[48], rsp[48], cdb[16], data[1024], sense[14];
	struct cairn_bdev *bd;
	struct ini c;
	int i, n;

	(void)state;
	assert_int_equal(cairn_bdev_malloc_create("WireHot", 256, 512, NULL, &bd), 0);
	assert_int_equal(cairn_iscsi_tgt_node_add_lun(TGT, "WireHot", 1), 0);
	assert_int_equal(login(&c, TGT, false, false, "Normal"), 0);
	/* READ(10) of LUN 1: the connection now holds the bdev's channel */
	rw10(cdb, 0x28, 0, 1);
	scsi_cmd_bhs(&c, bhs, ISCSI_CMD_READ | 0x80, 512, cdb, true);
	iscsi_put_be64(bhs + 8, 1ull << 48);
	send_pdu(&c, bhs, NULL, 0, false);
	assert_int_equal(recv_pdu(&c, rsp, data, sizeof(data)), 512);
	assert_int_equal(rsp[0], ISCSI_OP_DATA_IN);

	g_del_done = 0;
	assert_int_equal(cairn_bdev_malloc_delete("WireHot", del_done, NULL), 0);
	for (i = 0; i < 3000 && !__atomic_load_n(&g_del_done, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	assert_int_equal(__atomic_load_n(&g_del_done, __ATOMIC_ACQUIRE), 1);

	scsi_cmd_bhs(&c, bhs, ISCSI_CMD_READ | 0x80, 512, cdb, true);
	iscsi_put_be64(bhs + 8, 1ull << 48);
	send_pdu(&c, bhs, NULL, 0, false);
	n = recv_pdu(&c, rsp, data, sizeof(data));
	assert_true(n >= 16);
	assert_int_equal(rsp[0], ISCSI_OP_SCSI_RSP);
	assert_int_equal(rsp[3], CAIRN_SCSI_STATUS_CHECK_CONDITION);
	memcpy(sense, data + 2, sizeof(sense));
	assert_int_equal(sense[2] & 0x0f, CAIRN_SCSI_SK_ILLEGAL_REQUEST);
	assert_int_equal(sense[12] << 8 | sense[13], CAIRN_SCSI_ASC_LU_NOT_SUPPORTED);

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0xa0; /* REPORT LUNS */
	iscsi_put_be32(cdb + 6, 64);
	scsi_cmd_bhs(&c, bhs, ISCSI_CMD_READ | 0x80, 64, cdb, true);
	send_pdu(&c, bhs, NULL, 0, false);
	n = recv_pdu(&c, rsp, data, sizeof(data));
	assert_int_equal(n, 16);
	assert_int_equal(iscsi_get_be32(data), 8); /* LUN 0 only */
	close(c.fd);
}

/* Bytes the process heap holds (small-block arenas + mmapped blocks). */
static uint64_t
heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* Documented budgets (README "Memory"): an idle connection that has not logged in, and
 * an idle logged-in session (queue depth 32 here) after it moved 64 KiB commands:
 * its task buffers are back in the poll group's bounded cache, its staging buffer is
 * shrunk. Measured with the heap itself, so nothing the target allocates escapes. */
#define BUDGET_IDLE_CONN (16 * 1024)
#define BUDGET_IDLE_SESS (48 * 1024)

static void
test_memory_budget(void **state)
{
	enum { NC = 200, NS = 32 };
	static struct ini s[NS];
	uint8_t bhs[48], rsp[48], cdb[16], *data;
	int fds[NC], i, n;
	uint64_t base, idle, sess;

	(void)state;
	base = heap_bytes();
	data = malloc(65536);
	assert_non_null(data);
	if (heap_bytes() == base) {
		/* a sanitizer's allocator: glibc's counters do not see the heap */
		free(data);
		printf("memory: heap accounting unavailable (sanitizer build), not measured\n");
		skip();
	}
	usleep(300 * 1000); /* earlier tests' connections are gone */
	base = heap_bytes();
	for (i = 0; i < NC; i++)
		fds[i] = tcp_connect();
	usleep(300 * 1000); /* accepted and waiting for their login */
	idle = heap_bytes();
	for (i = 0; i < NC; i++)
		close(fds[i]);
	assert_true(idle <= base || (idle - base) / NC <= BUDGET_IDLE_CONN);
	usleep(400 * 1000);

	base = heap_bytes();
	for (i = 0; i < NS; i++) {
		uint32_t got = 0;

		assert_int_equal(login_ex(&s[i], TGT, false, false, "Normal", (uint8_t)(0x90 + i),
					  0, 0), 0);
		rw10(cdb, 0x28, 0, 128); /* 64 KiB READ */
		scsi_cmd_bhs(&s[i], bhs, ISCSI_CMD_READ | 0x80, 65536, cdb, true);
		send_pdu(&s[i], bhs, NULL, 0, false);
		do {
			n = recv_pdu(&s[i], rsp, data, 65536);
			assert_true(n >= 0);
			assert_int_equal(rsp[0], ISCSI_OP_DATA_IN);
			got += (uint32_t)n;
		} while (!(rsp[1] & ISCSI_DATAIN_STATUS));
		assert_int_equal(got, 65536);
	}
	usleep(1500 * 1000); /* past the idle shrink */
	sess = heap_bytes();
	printf("memory: idle connection %llu B (budget %u), idle session %llu B (budget %u)\n",
	       (unsigned long long)((idle > base ? idle - base : 0) / NC), BUDGET_IDLE_CONN,
	       (unsigned long long)((sess > base ? sess - base : 0) / NS), BUDGET_IDLE_SESS);
	for (i = 0; i < NS; i++) {
		tur(&s[i]); /* still served */
		close(s[i].fd);
	}
	free(data);
	assert_true(sess <= base || (sess - base) / NS <= BUDGET_IDLE_SESS);
}

static void
test_keepalive(void **state)
{
	struct ini c;
	uint8_t bhs[48], rsp[48], data[64];
	int i;

	(void)state;
	assert_int_equal(login(&c, TGT, true, false, "Normal"), 0);
	c.see_pings = true;
	/* idle: the target pings; we answer twice and the connection stays */
	for (i = 0; i < 2; i++) {
		assert_int_equal(recv_pdu(&c, rsp, data, sizeof(data)), 0);
		assert_int_equal(rsp[0], ISCSI_OP_NOPIN);
		assert_int_equal(iscsi_get_be32(rsp + 16), ISCSI_RSVD_TAG);
		assert_int_not_equal(iscsi_get_be32(rsp + 20), ISCSI_RSVD_TAG);
		memset(bhs, 0, sizeof(bhs));
		bhs[0] = ISCSI_OP_NOPOUT | ISCSI_OP_IMMEDIATE;
		bhs[1] = 0x80;
		iscsi_put_be32(bhs + 16, ISCSI_RSVD_TAG);
		memcpy(bhs + 20, rsp + 20, 4);
		iscsi_put_be32(bhs + 24, c.cmdsn);
		send_pdu(&c, bhs, NULL, 0, false);
	}
	tur(&c);
	/* now stay silent: one more ping, then the target gives up on us */
	assert_int_equal(recv_pdu(&c, rsp, data, sizeof(data)), 0);
	assert_int_equal(rsp[0], ISCSI_OP_NOPIN);
	assert_int_equal(recv_pdu(&c, rsp, data, sizeof(data)), -1);
	close(c.fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_digest_io),
		cmocka_unit_test(test_bad_data_digest),
		cmocka_unit_test(test_unknown_opcode_and_window),
		cmocka_unit_test(test_oversized_and_malformed),
		cmocka_unit_test(test_login_errors),
		cmocka_unit_test(test_idle_connections_and_send_targets),
		cmocka_unit_test(test_mcs_and_reinstatement),
		cmocka_unit_test(test_tmf_across_sessions),
		cmocka_unit_test(test_hot_remove),
		cmocka_unit_test(test_memory_budget),
		cmocka_unit_test(test_keepalive),
	};

	srand(1);
	return cmocka_run_group_tests(tests, setup, teardown);
}
