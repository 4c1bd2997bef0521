/*
 * CHAP authentication (RFC 1994 with MD5, RFC 7143 section 12.1.3), one-way and
 * mutual, target side. Binary values in "0x" hex or "0b" base64 form.
 */
#include <stdio.h>
#include <sys/random.h>

#include "cairn/errno.h"
#include "iscsi_internal.h"

void
iscsi_chap_response(uint8_t id, const char *secret, const uint8_t *challenge,
		    size_t challenge_len, uint8_t out[16])
{
	struct iscsi_md5 ctx;

	iscsi_md5_init(&ctx);
	iscsi_md5_update(&ctx, &id, 1);
	iscsi_md5_update(&ctx, secret, strlen(secret));
	iscsi_md5_update(&ctx, challenge, challenge_len);
	iscsi_md5_final(&ctx, out);
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

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
iscsi_bin_decode(const char *val, uint8_t *out, size_t cap)
{
	size_t len = strlen(val), i, n = 0;

	if (len < 3 || val[0] != '0')
		return -CAIRN_ERR_INVAL;
	if (val[1] == 'x' || val[1] == 'X') {
		const char *h = val + 2;
		size_t hl = len - 2;
		bool odd = hl & 1;

		if ((hl + 1) / 2 > cap)
			return -CAIRN_ERR_OVERFLOW;
		for (i = 0; i < hl;) {
			int hi = 0, lo;

			if (odd && i == 0) {
				lo = hexval(h[0]);
				i = 1;
			} else {
				hi = hexval(h[i]);
				lo = hexval(h[i + 1]);
				i += 2;
			}
			if (hi < 0 || lo < 0)
				return -CAIRN_ERR_INVAL;
			out[n++] = (uint8_t)(hi << 4 | lo);
		}
		return (int)n;
	}
	if (val[1] == 'b' || val[1] == 'B') {
		const char *b = val + 2;
		size_t bl = len - 2;
		uint32_t acc = 0;
		unsigned bits = 0;

		for (i = 0; i < bl; i++) {
			int v;

			if (b[i] == '=') {
				/* only padding may follow */
				for (; i < bl; i++)
					if (b[i] != '=')
						return -CAIRN_ERR_INVAL;
				break;
			}
			v = b64val(b[i]);
			if (v < 0)
				return -CAIRN_ERR_INVAL;
			acc = (acc << 6) | (uint32_t)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (n >= cap)
					return -CAIRN_ERR_OVERFLOW;
				out[n++] = (uint8_t)(acc >> bits);
			}
		}
		return n ? (int)n : -CAIRN_ERR_INVAL;
	}
	return -CAIRN_ERR_INVAL;
}

int
iscsi_bin_encode_hex(const uint8_t *in, size_t len, char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (cap < 2 * len + 3)
		return -CAIRN_ERR_TRUNC;
	out[0] = '0';
	out[1] = 'x';
	for (i = 0; i < len; i++) {
		out[2 + 2 * i] = digits[in[i] >> 4];
		out[3 + 2 * i] = digits[in[i] & 15];
	}
	out[2 + 2 * len] = '\0';
	return 0;
}

static bool
ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static bool
list_has(const char *list, const char *item)
{
	size_t il = strlen(item);
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == il && strncmp(p, item, il) == 0)
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

int
iscsi_chap_step(struct iscsi_chap *chap, const struct iscsi_text *req,
		iscsi_chap_lookup_fn lookup, void *lookup_arg, struct iscsi_textbuf *tb,
		const char **why)
{
	const char *a, *n, *r, *ci, *cc;
	char hex[2 * ISCSI_CHAP_CHALLENGE_LEN + 3];
	struct iscsi_chap_secret sec;
	uint8_t resp[ISCSI_CHAP_MAX_BIN];
	uint8_t expect[16];
	int len;

	switch (chap->state) {
	case ISCSI_CHAP_NONE:
	case ISCSI_CHAP_WAIT_A:
		a = iscsi_text_get(req, "CHAP_A");
		if (!a) {
			/* AuthMethod chosen this PDU; CHAP_A may come in the next one. */
			chap->state = ISCSI_CHAP_WAIT_A;
			return 0;
		}
		if (!list_has(a, "5")) {
			iscsi_textbuf_add(tb, "CHAP_A", "Reject");
			*why = "initiator offers no CHAP algorithm we support (MD5=5)";
			return -CAIRN_ERR_PERM;
		}
		if (getrandom(chap->challenge, sizeof(chap->challenge), 0) !=
		    (ssize_t)sizeof(chap->challenge)) {
			*why = "no entropy for the CHAP challenge";
			return -CAIRN_ERR_PERM;
		}
		if (getrandom(&chap->id, 1, 0) != 1)
			chap->id = (uint8_t)(uintptr_t)chap;
		iscsi_bin_encode_hex(chap->challenge, sizeof(chap->challenge), hex, sizeof(hex));
		iscsi_textbuf_add(tb, "CHAP_A", "5");
		iscsi_textbuf_add(tb, "CHAP_I", "%u", chap->id);
		iscsi_textbuf_add(tb, "CHAP_C", "%s", hex);
		chap->state = ISCSI_CHAP_WAIT_NR;
		return 0;
	case ISCSI_CHAP_WAIT_NR:
		n = iscsi_text_get(req, "CHAP_N");
		r = iscsi_text_get(req, "CHAP_R");
		if (!n || !r) {
			*why = "CHAP_N or CHAP_R missing";
			return -CAIRN_ERR_PROTO;
		}
		if (lookup(lookup_arg, n, &sec) != 0) {
			*why = "unknown CHAP user";
			return -CAIRN_ERR_PERM;
		}
		len = iscsi_bin_decode(r, resp, sizeof(resp));
		if (len != 16) {
			*why = "CHAP_R is not a 16-byte MD5 digest";
			return -CAIRN_ERR_PERM;
		}
		iscsi_chap_response(chap->id, sec.secret, chap->challenge, sizeof(chap->challenge),
				    expect);
		if (!ct_equal(expect, resp, 16)) {
			*why = "CHAP response does not match";
			return -CAIRN_ERR_PERM;
		}
		ci = iscsi_text_get(req, "CHAP_I");
		cc = iscsi_text_get(req, "CHAP_C");
		if (ci || cc) {
			uint64_t id;
			char rhex[2 * 16 + 3];

			if (!ci || !cc || iscsi_parse_number(ci, 255, &id)) {
				*why = "mutual CHAP needs both CHAP_I (0-255) and CHAP_C";
				return -CAIRN_ERR_PERM;
			}
			if (!sec.muser[0] || !sec.msecret[0]) {
				*why = "initiator asks for mutual CHAP but no mutual secret is set";
				return -CAIRN_ERR_PERM;
			}
			len = iscsi_bin_decode(cc, resp, sizeof(resp));
			if (len < 1) {
				*why = "malformed CHAP_C";
				return -CAIRN_ERR_PERM;
			}
			/* A reflected challenge would let the initiator use us as an oracle. */
			if ((size_t)len == sizeof(chap->challenge) &&
			    memcmp(resp, chap->challenge, sizeof(chap->challenge)) == 0) {
				*why = "initiator reflected our CHAP challenge";
				return -CAIRN_ERR_PERM;
			}
			if (strcmp(sec.msecret, sec.secret) == 0) {
				*why = "mutual CHAP secret equals the initiator secret";
				return -CAIRN_ERR_PERM;
			}
			iscsi_chap_response((uint8_t)id, sec.msecret, resp, (size_t)len, expect);
			iscsi_bin_encode_hex(expect, 16, rhex, sizeof(rhex));
			iscsi_textbuf_add(tb, "CHAP_N", "%s", sec.muser);
			iscsi_textbuf_add(tb, "CHAP_R", "%s", rhex);
		} else if (chap->mutual_required) {
			*why = "mutual CHAP required but the initiator did not challenge us";
			return -CAIRN_ERR_PERM;
		}
		chap->state = ISCSI_CHAP_DONE;
		return 1;
	case ISCSI_CHAP_DONE:
		return 1;
	}
	return -CAIRN_ERR_PROTO;
}
