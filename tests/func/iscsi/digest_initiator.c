/*
 * Minimal independent iSCSI initiator for the functional tests, written from RFC 7143
 * because libiscsi always offers DataDigest=None: CHAP (MD5) login with
 * HeaderDigest=CRC32C and DataDigest=CRC32C, then WRITE(10) (immediate + unsolicited +
 * R2T-solicited Data-Out) and READ(10) (Data-In) of a pattern, every digest checked.
 * With --bad-digest it sends one WRITE whose data digest is wrong and expects a Reject
 * or the connection to be closed (not a GOOD status).
 *
 * Usage: digest_initiator HOST PORT TARGET_IQN USER SECRET [--bad-digest] [--kib N]
 * Exit 0 on success; 1 with a message naming the failed step.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BHS 48
#define IO_TIMEOUT_MS 10000

static int g_fd = -1;
static bool g_hd, g_dd;
static uint32_t g_itt = 1, g_cmdsn = 1, g_expstatsn;

static void
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "digest_initiator: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

/* ------------------------------------------------------------------ CRC32C, MD5 */

static uint32_t g_crc_tab[256];

static void
crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (c & 1 ? 0x82F63B78u : 0);
		g_crc_tab[i] = c;
	}
}

static uint32_t
crc32c(const void *buf, size_t len, uint32_t crc)
{
	const uint8_t *p = buf;

	while (len--)
		crc = g_crc_tab[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

/* iSCSI digest: CRC32C (init ~0, final ~0), sent least significant byte first. */
static void
digest_put(uint8_t out[4], uint32_t crc)
{
	crc = ~crc;
	out[0] = crc & 0xff;
	out[1] = (crc >> 8) & 0xff;
	out[2] = (crc >> 16) & 0xff;
	out[3] = crc >> 24;
}

struct md5 {
	uint32_t h[4];
	uint64_t len;
	uint8_t buf[64];
};

static const uint32_t g_md5_k[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
	0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
	0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
	0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
	0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
	0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
	0xeb86d391,
};
static const uint8_t g_md5_r[64] = {
	7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20,
	5, 9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
	6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
};

static void
md5_block(struct md5 *m, const uint8_t *b)
{
	uint32_t w[16], a = m->h[0], bb = m->h[1], c = m->h[2], d = m->h[3], f, g, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)b[i * 4] | (uint32_t)b[i * 4 + 1] << 8 |
		       (uint32_t)b[i * 4 + 2] << 16 | (uint32_t)b[i * 4 + 3] << 24;
	for (i = 0; i < 64; i++) {
		if (i < 16) {
			f = (bb & c) | (~bb & d);
			g = (uint32_t)i;
		} else if (i < 32) {
			f = (d & bb) | (~d & c);
			g = (5u * (uint32_t)i + 1) % 16;
		} else if (i < 48) {
			f = bb ^ c ^ d;
			g = (3u * (uint32_t)i + 5) % 16;
		} else {
			f = c ^ (bb | ~d);
			g = (7u * (uint32_t)i) % 16;
		}
		t = d;
		d = c;
		c = bb;
		f = a + f + g_md5_k[i] + w[g];
		bb = bb + ((f << g_md5_r[i]) | (f >> (32 - g_md5_r[i])));
		a = t;
	}
	m->h[0] += a;
	m->h[1] += bb;
	m->h[2] += c;
	m->h[3] += d;
}

static void
md5_init(struct md5 *m)
{
	m->h[0] = 0x67452301;
	m->h[1] = 0xefcdab89;
	m->h[2] = 0x98badcfe;
	m->h[3] = 0x10325476;
	m->len = 0;
}

static void
md5_update(struct md5 *m, const void *data, size_t n)
{
	const uint8_t *p = data;

	while (n--) {
		m->buf[m->len % 64] = *p++;
		m->len++;
		if (m->len % 64 == 0)
			md5_block(m, m->buf);
	}
}

static void
md5_final(struct md5 *m, uint8_t out[16])
{
	uint64_t bits = m->len * 8;
	uint8_t pad = 0x80, zero = 0, lenb[8];
	int i;

	md5_update(m, &pad, 1);
	while (m->len % 64 != 56)
		md5_update(m, &zero, 1);
	for (i = 0; i < 8; i++)
		lenb[i] = (uint8_t)(bits >> (8 * i));
	md5_update(m, lenb, 8);
	for (i = 0; i < 16; i++)
		out[i] = (uint8_t)(m->h[i / 4] >> (8 * (i % 4)));
}

/* ------------------------------------------------------------------ socket I/O */

static void
io_all(bool wr, void *buf, size_t len, const char *what)
{
	uint8_t *p = buf;
	struct pollfd pfd = { .fd = g_fd, .events = wr ? POLLOUT : POLLIN };
	ssize_t n;

	while (len > 0) {
		if (poll(&pfd, 1, IO_TIMEOUT_MS) <= 0)
			fail("%s: timed out", what);
		n = wr ? send(g_fd, p, len, MSG_NOSIGNAL) : recv(g_fd, p, len, 0);
		if (n == 0)
			fail("%s: connection closed by the target", what);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fail("%s: %s", what, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Send BHS + data (padded), with digests as negotiated (corrupt_dd flips the data
 * digest). */
static void
send_pdu(uint8_t *bhs, const void *data, uint32_t len, bool corrupt_dd)
{
	static const uint8_t zeros[4];
	uint8_t dg[4];
	uint32_t pad = (4 - len % 4) % 4, crc;

	bhs[5] = (uint8_t)(len >> 16);
	bhs[6] = (uint8_t)(len >> 8);
	bhs[7] = (uint8_t)len;
	io_all(true, bhs, BHS, "send header");
	if (g_hd) {
		digest_put(dg, crc32c(bhs, BHS, ~0u));
		io_all(true, dg, 4, "send header digest");
	}
	if (len == 0)
		return;
	io_all(true, (void *)data, len, "send data");
	if (pad)
		io_all(true, (void *)zeros, pad, "send padding");
	if (g_dd) {
		crc = crc32c(data, len, ~0u);
		crc = crc32c(zeros, pad, crc);
		digest_put(dg, crc);
		if (corrupt_dd)
			dg[0] ^= 0x5a;
		io_all(true, dg, 4, "send data digest");
	}
}

struct pdu {
	uint8_t bhs[BHS];
	uint8_t *data;
	uint32_t len;
};

static void
recv_pdu(struct pdu *p)
{
	uint8_t dg[4], want[4], ahs[1024];
	uint32_t ahs_len, pad, crc;

	io_all(false, p->bhs, BHS, "receive header");
	ahs_len = p->bhs[4] * 4u;
	crc = crc32c(p->bhs, BHS, ~0u);
	if (ahs_len) {
		io_all(false, ahs, ahs_len, "receive AHS");
		crc = crc32c(ahs, ahs_len, crc);
	}
	if (g_hd) {
		io_all(false, dg, 4, "receive header digest");
		digest_put(want, crc);
		if (memcmp(dg, want, 4))
			fail("header digest mismatch on a PDU with opcode 0x%02x", p->bhs[0] & 0x3f);
	}
	p->len = (uint32_t)p->bhs[5] << 16 | (uint32_t)p->bhs[6] << 8 | p->bhs[7];
	pad = (4 - p->len % 4) % 4;
	p->data = malloc(p->len + pad + 1);
	if (p->data == NULL)
		fail("out of memory");
	if (p->len + pad)
		io_all(false, p->data, p->len + pad, "receive data");
	p->data[p->len + pad] = 0;
	if (g_dd && p->len) {
		io_all(false, dg, 4, "receive data digest");
		digest_put(want, crc32c(p->data, p->len + pad, ~0u));
		if (memcmp(dg, want, 4))
			fail("data digest mismatch on a PDU with opcode 0x%02x", p->bhs[0] & 0x3f);
	}
}

/* ------------------------------------------------------------------ login */

struct neg {
	uint32_t mrdsl;   /* target's MaxRecvDataSegmentLength */
	uint32_t first_burst;
	uint32_t max_burst;
	bool immediate;
	bool initial_r2t;
	char hd[16], dd[16];
};

static const char *
key(const struct pdu *p, const char *k)
{
	size_t kl = strlen(k), off = 0;

	while (off < p->len) {
		const char *kv = (const char *)p->data + off;

		if (strncmp(kv, k, kl) == 0 && kv[kl] == '=')
			return kv + kl + 1;
		off += strlen(kv) + 1;
	}
	return NULL;
}

static size_t
addkv(char *buf, size_t off, size_t cap, const char *k, const char *v)
{
	int n = snprintf(buf + off, cap - off, "%s=%s", k, v);

	if (n < 0 || (size_t)n + 1 >= cap - off)
		fail("login text too long");
	return off + (size_t)n + 1;
}

static void
login_pdu(uint8_t csg, uint8_t nsg, bool transit, const char *text, size_t len, struct pdu *rsp)
{
	uint8_t bhs[BHS] = { 0 };
	static const uint8_t isid[6] = { 0x80, 0x00, 0x13, 0x37, 0x00, 0x01 };

	bhs[0] = 0x43; /* Login Request, immediate */
	bhs[1] = (uint8_t)((transit ? 0x80 : 0) | (csg << 2) | nsg);
	memcpy(bhs + 8, isid, 6);
	put32(bhs + 16, g_itt);
	put32(bhs + 24, g_cmdsn);
	put32(bhs + 28, g_expstatsn);
	/* digests apply only after the login completes */
	send_pdu(bhs, text, (uint32_t)len, false);
	recv_pdu(rsp);
	if ((rsp->bhs[0] & 0x3f) != 0x23)
		fail("login: expected a Login Response, got opcode 0x%02x", rsp->bhs[0] & 0x3f);
	if (rsp->bhs[36] != 0)
		fail("login refused: status class 0x%02x detail 0x%02x", rsp->bhs[36], rsp->bhs[37]);
	g_expstatsn = get32(rsp->bhs + 24) + 1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
login(const char *iqn, const char *user, const char *secret, struct neg *n)
{
	char text[2048], hex[40];
	uint8_t chal[1024], md[16], id;
	struct pdu rsp;
	struct md5 m;
	const char *c, *v;
	size_t off = 0, cl = 0;
	int i, tries;

	off = addkv(text, off, sizeof(text), "InitiatorName",
		    "iqn.2016-06.io.cairn:digest-initiator");
	off = addkv(text, off, sizeof(text), "SessionType", "Normal");
	off = addkv(text, off, sizeof(text), "TargetName", iqn);
	off = addkv(text, off, sizeof(text), "AuthMethod", "CHAP");
	login_pdu(0, 1, false, text, off, &rsp);
	v = key(&rsp, "AuthMethod");
	if (v == NULL || strcmp(v, "CHAP"))
		fail("login: target did not choose AuthMethod=CHAP (got %s)", v ? v : "nothing");
	free(rsp.data);

	off = addkv(text, 0, sizeof(text), "CHAP_A", "5");
	login_pdu(0, 1, false, text, off, &rsp);
	v = key(&rsp, "CHAP_I");
	c = key(&rsp, "CHAP_C");
	if (v == NULL || c == NULL || key(&rsp, "CHAP_A") == NULL || strcmp(key(&rsp, "CHAP_A"), "5"))
		fail("login: no CHAP_A=5 / CHAP_I / CHAP_C from the target");
	id = (uint8_t)strtoul(v, NULL, 0);
	if (c[0] != '0' || (c[1] != 'x' && c[1] != 'X'))
		fail("login: CHAP_C not in hex: %s", c);
	for (c += 2; c[0] && c[1] && cl < sizeof(chal); c += 2) {
		if (hexval(c[0]) < 0 || hexval(c[1]) < 0)
			fail("login: bad CHAP_C");
		chal[cl++] = (uint8_t)(hexval(c[0]) << 4 | hexval(c[1]));
	}
	free(rsp.data);
	md5_init(&m);
	md5_update(&m, &id, 1);
	md5_update(&m, secret, strlen(secret));
	md5_update(&m, chal, cl);
	md5_final(&m, md);
	hex[0] = '0';
	hex[1] = 'x';
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 + i * 2, 3, "%02x", md[i]);
	off = addkv(text, 0, sizeof(text), "CHAP_N", user);
	off = addkv(text, off, sizeof(text), "CHAP_R", hex);
	login_pdu(0, 1, true, text, off, &rsp);
	free(rsp.data);

	off = addkv(text, 0, sizeof(text), "HeaderDigest", "CRC32C");
	off = addkv(text, off, sizeof(text), "DataDigest", "CRC32C");
	off = addkv(text, off, sizeof(text), "MaxRecvDataSegmentLength", "65536");
	off = addkv(text, off, sizeof(text), "ImmediateData", "Yes");
	off = addkv(text, off, sizeof(text), "InitialR2T", "No");
	off = addkv(text, off, sizeof(text), "FirstBurstLength", "65536");
	off = addkv(text, off, sizeof(text), "MaxBurstLength", "262144");
	off = addkv(text, off, sizeof(text), "ErrorRecoveryLevel", "0");
	off = addkv(text, off, sizeof(text), "MaxConnections", "1");
	off = addkv(text, off, sizeof(text), "DataPDUInOrder", "Yes");
	off = addkv(text, off, sizeof(text), "DataSequenceInOrder", "Yes");
	memset(n, 0, sizeof(*n));
	n->mrdsl = 8192; /* defaults (RFC 7143) until the target declares */
	n->first_burst = 65536;
	n->max_burst = 262144;
	n->immediate = true;
	n->initial_r2t = true;
	for (tries = 0; tries < 4; tries++) {
		login_pdu(1, 3, true, text, off, &rsp);
		if ((v = key(&rsp, "MaxRecvDataSegmentLength")))
			n->mrdsl = (uint32_t)strtoul(v, NULL, 10);
		if ((v = key(&rsp, "FirstBurstLength")))
			n->first_burst = (uint32_t)strtoul(v, NULL, 10);
		if ((v = key(&rsp, "MaxBurstLength")))
			n->max_burst = (uint32_t)strtoul(v, NULL, 10);
		if ((v = key(&rsp, "ImmediateData")))
			n->immediate = !strcmp(v, "Yes");
		if ((v = key(&rsp, "InitialR2T")))
			n->initial_r2t = !strcmp(v, "Yes");
		if ((v = key(&rsp, "HeaderDigest")))
			snprintf(n->hd, sizeof(n->hd), "%s", v);
		if ((v = key(&rsp, "DataDigest")))
			snprintf(n->dd, sizeof(n->dd), "%s", v);
		if ((rsp.bhs[1] & 0x80) && (rsp.bhs[1] & 0x3) == 3) {
			free(rsp.data);
			break;
		}
		free(rsp.data);
		off = 0; /* target wants another round: answer with nothing new */
	}
	if (tries == 4)
		fail("login: target never moved to full feature phase");
	if (strcmp(n->hd, "CRC32C") || strcmp(n->dd, "CRC32C"))
		fail("login: digests not negotiated (HeaderDigest=%s DataDigest=%s)", n->hd, n->dd);
	if (n->mrdsl == 0 || n->mrdsl > (16u << 20))
		fail("login: bad MaxRecvDataSegmentLength from the target");
	g_hd = g_dd = true;
}

/* ------------------------------------------------------------------ SCSI */

static void
scsi_cmd_bhs(uint8_t *bhs, bool write, uint32_t lba, uint32_t len)
{
	uint32_t blocks = len / 512;

	memset(bhs, 0, BHS);
	bhs[0] = 0x01;
	bhs[1] = (uint8_t)(0x80 | (write ? 0x20 : 0x40) | 0x01); /* F, W/R, simple */
	put32(bhs + 16, ++g_itt);
	put32(bhs + 20, len);
	put32(bhs + 24, g_cmdsn++);
	put32(bhs + 28, g_expstatsn);
	bhs[32] = write ? 0x2a : 0x28; /* WRITE(10) / READ(10) */
	put32(bhs + 34, lba);
	bhs[39] = (uint8_t)(blocks >> 8);
	bhs[40] = (uint8_t)blocks;
}

static void
data_out(uint32_t ttt, const uint8_t *buf, uint32_t off, uint32_t len, uint32_t mrdsl)
{
	uint8_t bhs[BHS];
	uint32_t sn = 0, n;

	while (len > 0) {
		n = len < mrdsl ? len : mrdsl;
		memset(bhs, 0, BHS);
		bhs[0] = 0x05;
		bhs[1] = n == len ? 0x80 : 0;
		put32(bhs + 16, g_itt);
		put32(bhs + 20, ttt);
		put32(bhs + 28, g_expstatsn);
		put32(bhs + 36, sn++);
		put32(bhs + 40, off);
		send_pdu(bhs, buf + off, n, false);
		off += n;
		len -= n;
	}
}

/* Wait for the SCSI Response of the current command, serving R2Ts. */
static void
wait_status(const uint8_t *wbuf, uint8_t *rbuf, uint32_t len, const struct neg *n)
{
	struct pdu p;
	uint32_t got = 0;

	for (;;) {
		recv_pdu(&p);
		switch (p.bhs[0] & 0x3f) {
		case 0x31: /* R2T */
			if (wbuf == NULL || get32(p.bhs + 40) + get32(p.bhs + 44) > len)
				fail("R2T outside the write");
			data_out(get32(p.bhs + 20), wbuf, get32(p.bhs + 40), get32(p.bhs + 44),
				 n->mrdsl);
			break;
		case 0x25: /* Data-In */
			if (rbuf == NULL || get32(p.bhs + 40) + p.len > len)
				fail("Data-In outside the read");
			memcpy(rbuf + get32(p.bhs + 40), p.data, p.len);
			got += p.len;
			if (p.bhs[1] & 0x01) { /* status in the last Data-In */
				g_expstatsn = get32(p.bhs + 24) + 1;
				if (p.bhs[3] != 0)
					fail("READ status 0x%02x", p.bhs[3]);
				if (got != len)
					fail("READ returned %u of %u bytes", got, len);
				free(p.data);
				return;
			}
			break;
		case 0x21: /* SCSI Response */
			g_expstatsn = get32(p.bhs + 24) + 1;
			if (p.bhs[2] != 0 || p.bhs[3] != 0)
				fail("command failed: response 0x%02x status 0x%02x", p.bhs[2], p.bhs[3]);
			if (rbuf && got != len)
				fail("READ returned %u of %u bytes", got, len);
			free(p.data);
			return;
		case 0x20: /* NOP-In: a target ping would need an answer; ours are too short */
			break;
		case 0x3f:
			fail("target sent Reject (reason 0x%02x)", p.bhs[2]);
			break;
		default:
			fail("unexpected PDU opcode 0x%02x", p.bhs[0] & 0x3f);
		}
		free(p.data);
	}
}

static void
do_write(const uint8_t *buf, uint32_t lba, uint32_t len, const struct neg *n, bool bad_dd)
{
	uint8_t bhs[BHS];
	uint32_t imm = 0, unsol;

	scsi_cmd_bhs(bhs, true, lba, len);
	if (n->immediate) {
		imm = len < n->first_burst ? len : n->first_burst;
		if (imm > n->mrdsl)
			imm = n->mrdsl;
	}
	send_pdu(bhs, buf, imm, bad_dd);
	if (bad_dd)
		return;
	unsol = n->initial_r2t ? imm : (len < n->first_burst ? len : n->first_burst);
	if (unsol > imm)
		data_out(0xffffffffu, buf, imm, unsol - imm, n->mrdsl);
	wait_status(buf, NULL, len, n);
}

static void
do_read(uint8_t *buf, uint32_t lba, uint32_t len, const struct neg *n)
{
	uint8_t bhs[BHS];

	scsi_cmd_bhs(bhs, false, lba, len);
	send_pdu(bhs, NULL, 0, false);
	wait_status(NULL, buf, len, n);
}

static void
do_logout(void)
{
	uint8_t bhs[BHS] = { 0 };
	struct pdu p;

	bhs[0] = 0x46;
	bhs[1] = 0x80; /* close the session */
	put32(bhs + 16, ++g_itt);
	put32(bhs + 24, g_cmdsn);
	put32(bhs + 28, g_expstatsn);
	send_pdu(bhs, NULL, 0, false);
	recv_pdu(&p);
	if ((p.bhs[0] & 0x3f) != 0x26 || p.bhs[2] != 0)
		fail("logout: no successful Logout Response");
	free(p.data);
}

static void
connect_to(const char *host, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1;

	char *end;
	unsigned long pn = strtoul(port, &end, 10);

	if (*end || pn == 0 || pn > 65535)
		fail("bad port %s", port);
	sa.sin_port = htons((uint16_t)pn);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		fail("bad IPv4 address %s", host);
	g_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (g_fd < 0 || connect(g_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail("connect %s:%s: %s", host, port, strerror(errno));
	setsockopt(g_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int
main(int argc, char **argv)
{
	uint32_t kib = 512, len, i;
	bool bad = false;
	uint8_t *w, *r;
	struct neg n;
	int a;

	if (argc < 6) {
		fprintf(stderr, "usage: %s HOST PORT TARGET_IQN USER SECRET [--bad-digest] "
				"[--kib N]\n", argv[0]);
		return 2;
	}
	for (a = 6; a < argc; a++) {
		if (!strcmp(argv[a], "--bad-digest"))
			bad = true;
		else if (!strcmp(argv[a], "--kib") && a + 1 < argc)
			kib = (uint32_t)strtoul(argv[++a], NULL, 10);
		else
			fail("unknown argument %s", argv[a]);
	}
	if (kib == 0 || kib > 16384)
		fail("--kib must be 1..16384");
	crc_init();
	{
		/* self-check against the RFC 3720 B.4 vector: 32 bytes of zeros */
		uint8_t z[32] = { 0 }, d[4];

		digest_put(d, crc32c(z, 32, ~0u));
		struct md5 m;
		uint8_t h[16];
		static const uint8_t abc[16] = { 0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0,
						 0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1, 0x7f, 0x72 };

		if (d[0] != 0xaa || d[1] != 0x36 || d[2] != 0x91 || d[3] != 0x8a)
			fail("CRC32C self-check");
		md5_init(&m);
		md5_update(&m, "abc", 3);
		md5_final(&m, h);
		if (memcmp(h, abc, 16))
			fail("MD5 self-check");
	}
	connect_to(argv[1], argv[2]);
	login(argv[3], argv[4], argv[5], &n);
	len = kib * 1024;
	w = malloc(len);
	r = malloc(len);
	if (w == NULL || r == NULL)
		fail("out of memory");
	for (i = 0; i < len; i++)
		w[i] = (uint8_t)(i * 2654435761u >> 13) ^ (uint8_t)(i >> 9);
	if (bad) {
		struct pdu p = { .data = NULL };
		const char *verdict = NULL;

		do_write(w, 0, 4096, &n, true);
		/* Expect a Reject, or the connection closed; anything saying GOOD is a bug. */
		{
			struct pollfd pfd = { .fd = g_fd, .events = POLLIN };
			uint8_t hdr[BHS];
			ssize_t got;

			if (poll(&pfd, 1, IO_TIMEOUT_MS) <= 0)
				fail("no reaction to a bad data digest within %d ms", IO_TIMEOUT_MS);
			got = recv(g_fd, hdr, 1, MSG_PEEK);
			if (got <= 0) {
				verdict = "connection closed";
			} else {
				recv_pdu(&p);
				if ((p.bhs[0] & 0x3f) == 0x3f)
					verdict = "Reject";
				else if ((p.bhs[0] & 0x3f) == 0x21 && p.bhs[3] != 0)
					verdict = "CHECK CONDITION";
			}
			if (verdict == NULL)
				fail("bad data digest answered with opcode 0x%02x status 0x%02x",
				     p.bhs[0] & 0x3f, p.bhs[3]);
			printf("digest_initiator: bad data digest -> %s (ok)\n", verdict);
			free(p.data);
			free(w);
			free(r);
			close(g_fd);
			return 0;
		}
	}
	/* One large write: immediate data, unsolicited Data-Out up to FirstBurstLength,
	 * then R2T-solicited Data-Out for the rest; then read it back in one READ. */
	do_write(w, 16, len, &n, false);
	memset(r, 0, len);
	do_read(r, 16, len, &n);
	if (memcmp(w, r, len))
		fail("data read back differs from data written");
	do_logout();
	printf("digest_initiator: CHAP + HeaderDigest/DataDigest CRC32C, %u KiB written and read "
	       "back (target MRDSL %u, FirstBurst %u, ImmediateData %s, InitialR2T %s): ok\n",
	       kib, n.mrdsl, n.first_burst, n.immediate ? "Yes" : "No",
	       n.initial_r2t ? "Yes" : "No");
	free(w);
	free(r);
	close(g_fd);
	return 0;
}
