/*
 * MD5 (RFC 1321), used only by CHAP (RFC 1994, RFC 7143 section 12.1.3). Our own
 * implementation so the target carries no crypto library dependency for a
 * 16-byte digest; verified against the RFC 1321 test suite in the unit tests.
 */
#include <string.h>

#include "iscsi_internal.h"

#define MD5_F(x, y, z) (((x) & (y)) | (~(x) & (z)))
#define MD5_G(x, y, z) (((x) & (z)) | ((y) & ~(z)))
#define MD5_H(x, y, z) ((x) ^ (y) ^ (z))
#define MD5_I(x, y, z) ((y) ^ ((x) | ~(z)))

static inline uint32_t
md5_rotl(uint32_t v, unsigned s)
{
	return (v << s) | (v >> (32 - s));
}

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

static const uint8_t g_md5_s[64] = {
	7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
	5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
	4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
	6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
};

static void
md5_block(struct iscsi_md5 *ctx, const uint8_t *p)
{
	uint32_t m[16];
	uint32_t a = ctx->h[0], b = ctx->h[1], c = ctx->h[2], d = ctx->h[3];
	unsigned i;

	for (i = 0; i < 16; i++)
		m[i] = (uint32_t)p[i * 4] | (uint32_t)p[i * 4 + 1] << 8 |
		       (uint32_t)p[i * 4 + 2] << 16 | (uint32_t)p[i * 4 + 3] << 24;
	for (i = 0; i < 64; i++) {
		uint32_t f, t;
		unsigned g;

		if (i < 16) {
			f = MD5_F(b, c, d);
			g = i;
		} else if (i < 32) {
			f = MD5_G(b, c, d);
			g = (5 * i + 1) & 15;
		} else if (i < 48) {
			f = MD5_H(b, c, d);
			g = (3 * i + 5) & 15;
		} else {
			f = MD5_I(b, c, d);
			g = (7 * i) & 15;
		}
		t = d;
		d = c;
		c = b;
		b = b + md5_rotl(a + f + g_md5_k[i] + m[g], g_md5_s[i]);
		a = t;
	}
	ctx->h[0] += a;
	ctx->h[1] += b;
	ctx->h[2] += c;
	ctx->h[3] += d;
}

void
iscsi_md5_init(struct iscsi_md5 *ctx)
{
	ctx->h[0] = 0x67452301;
	ctx->h[1] = 0xefcdab89;
	ctx->h[2] = 0x98badcfe;
	ctx->h[3] = 0x10325476;
	ctx->len = 0;
	ctx->used = 0;
}

void
iscsi_md5_update(struct iscsi_md5 *ctx, const void *data, size_t len)
{
	const uint8_t *p = data;

	ctx->len += len;
	if (ctx->used) {
		size_t n = 64 - ctx->used;

		if (n > len)
			n = len;
		memcpy(ctx->buf + ctx->used, p, n);
		ctx->used += n;
		p += n;
		len -= n;
		if (ctx->used < 64)
			return;
		md5_block(ctx, ctx->buf);
		ctx->used = 0;
	}
	while (len >= 64) {
		md5_block(ctx, p);
		p += 64;
		len -= 64;
	}
	if (len) {
		memcpy(ctx->buf, p, len);
		ctx->used = len;
	}
}

void
iscsi_md5_final(struct iscsi_md5 *ctx, uint8_t out[16])
{
	uint64_t bits = ctx->len * 8;
	uint8_t pad[72];
	size_t padlen = (ctx->used < 56) ? 56 - ctx->used : 120 - ctx->used;
	unsigned i;

	memset(pad, 0, sizeof(pad));
	pad[0] = 0x80;
	for (i = 0; i < 8; i++)
		pad[padlen + i] = (uint8_t)(bits >> (8 * i));
	/* The length was already counted; update() only adds to len, which we ignore now. */
	iscsi_md5_update(ctx, pad, padlen + 8);
	for (i = 0; i < 4; i++) {
		out[i * 4] = (uint8_t)ctx->h[i];
		out[i * 4 + 1] = (uint8_t)(ctx->h[i] >> 8);
		out[i * 4 + 2] = (uint8_t)(ctx->h[i] >> 16);
		out[i * 4 + 3] = (uint8_t)(ctx->h[i] >> 24);
	}
	memset(ctx, 0, sizeof(*ctx));
}
