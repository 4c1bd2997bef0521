/*
 * Wire codec: little-endian encoders into a bounded growable buffer and bounds-checked
 * decoders over a received message. Errors are sticky. See src/include/net/codec.h.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "net/codec.h"

void
cairn_enc_init(struct cairn_enc *e, size_t max)
{
	memset(e, 0, sizeof(*e));
	e->max = max ? max : CAIRN_ENC_DEFAULT_MAX;
	e->owned = true;
}

void
cairn_enc_init_fixed(struct cairn_enc *e, void *buf, size_t cap)
{
	memset(e, 0, sizeof(*e));
	e->buf = buf;
	e->cap = cap;
	e->max = cap;
	e->owned = false;
}

void
cairn_enc_fini(struct cairn_enc *e)
{
	if (e->owned)
		free(e->buf);
	e->buf = NULL;
	e->len = e->cap = 0;
}

uint8_t *
cairn_enc_steal(struct cairn_enc *e, size_t *len)
{
	uint8_t *b = e->buf;

	*len = e->len;
	e->buf = NULL;
	e->len = e->cap = 0;
	return b;
}

uint8_t *
cairn_enc_reserve(struct cairn_enc *e, size_t n)
{
	uint8_t *p;

	if (e->rc)
		return NULL;
	if (n > e->max || e->len > e->max - n) {
		e->rc = -CAIRN_ERR_OVERFLOW;
		return NULL;
	}
	if (e->len + n > e->cap) {
		size_t ncap = e->cap ? e->cap : 256; /* most RPC bodies: one allocation */
		uint8_t *nb;

		if (!e->owned) {
			e->rc = -CAIRN_ERR_OVERFLOW;
			return NULL;
		}
		while (ncap < e->len + n)
			ncap *= 2;
		if (ncap > e->max)
			ncap = e->max;
		nb = realloc(e->buf, ncap);
		if (nb == NULL) {
			e->rc = -CAIRN_ERR_NOMEM;
			return NULL;
		}
		e->buf = nb;
		e->cap = ncap;
	}
	p = e->buf + e->len;
	e->len += n;
	return p;
}

void
cairn_enc_u8(struct cairn_enc *e, uint8_t v)
{
	uint8_t *p = cairn_enc_reserve(e, 1);

	if (p)
		*p = v;
}

void
cairn_enc_u16(struct cairn_enc *e, uint16_t v)
{
	uint8_t *p = cairn_enc_reserve(e, 2);

	if (p)
		cairn_put_le16(p, v);
}

void
cairn_enc_u32(struct cairn_enc *e, uint32_t v)
{
	uint8_t *p = cairn_enc_reserve(e, 4);

	if (p)
		cairn_put_le32(p, v);
}

void
cairn_enc_u64(struct cairn_enc *e, uint64_t v)
{
	uint8_t *p = cairn_enc_reserve(e, 8);

	if (p)
		cairn_put_le64(p, v);
}

void
cairn_enc_i32(struct cairn_enc *e, int32_t v)
{
	cairn_enc_u32(e, (uint32_t)v);
}

void
cairn_enc_i64(struct cairn_enc *e, int64_t v)
{
	cairn_enc_u64(e, (uint64_t)v);
}

void
cairn_enc_uuid(struct cairn_enc *e, const uint8_t uuid[16])
{
	uint8_t *p = cairn_enc_reserve(e, 16);

	if (p)
		memcpy(p, uuid, 16);
}

void
cairn_enc_bytes(struct cairn_enc *e, const void *src, size_t len)
{
	uint8_t *p;

	if (len > UINT32_MAX) {
		if (!e->rc)
			e->rc = -CAIRN_ERR_OVERFLOW;
		return;
	}
	cairn_enc_u32(e, (uint32_t)len);
	p = cairn_enc_reserve(e, len);
	if (p && len)
		memcpy(p, src, len);
}

void
cairn_enc_str(struct cairn_enc *e, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	uint8_t *p;

	if (len >= UINT32_MAX) {
		if (!e->rc)
			e->rc = -CAIRN_ERR_OVERFLOW;
		return;
	}
	cairn_enc_u32(e, (uint32_t)len);
	p = cairn_enc_reserve(e, len + 1);
	if (p) {
		if (len)
			memcpy(p, s, len);
		p[len] = 0;
	}
}

void
cairn_enc_iovs(struct cairn_enc *e, const struct iovec *iov, unsigned cnt)
{
	unsigned i;

	cairn_enc_u32(e, cnt);
	for (i = 0; i < cnt; i++)
		cairn_enc_bytes(e, iov[i].iov_base, iov[i].iov_len);
}

void
cairn_enc_array(struct cairn_enc *e, uint32_t count)
{
	cairn_enc_u32(e, count);
}

void
cairn_enc_bulk(struct cairn_enc *e, const struct cairn_bulk_desc *bd)
{
	cairn_enc_u32(e, bd->rank);
	cairn_enc_u16(e, bd->tag);
	cairn_enc_u16(e, bd->flags);
	cairn_enc_u64(e, bd->id);
	cairn_enc_u64(e, bd->len);
}

/* ------------------------------------------------------------------ decoder */

void
cairn_dec_init(struct cairn_dec *d, const void *buf, size_t len)
{
	d->buf = buf;
	d->len = buf ? len : 0;
	d->off = 0;
	d->rc = 0;
}

int
cairn_dec_done(struct cairn_dec *d)
{
	if (d->rc)
		return d->rc;
	if (d->off != d->len)
		d->rc = -CAIRN_ERR_PROTO;
	return d->rc;
}

const uint8_t *
cairn_dec_take(struct cairn_dec *d, size_t n)
{
	const uint8_t *p;

	if (d->rc)
		return NULL;
	if (n > d->len - d->off) {
		d->rc = -CAIRN_ERR_PROTO;
		return NULL;
	}
	p = d->buf + d->off;
	d->off += n;
	return p;
}

void
cairn_dec_u8(struct cairn_dec *d, uint8_t *v)
{
	const uint8_t *p = cairn_dec_take(d, 1);

	*v = p ? *p : 0;
}

void
cairn_dec_u16(struct cairn_dec *d, uint16_t *v)
{
	const uint8_t *p = cairn_dec_take(d, 2);

	*v = p ? cairn_get_le16(p) : 0;
}

void
cairn_dec_u32(struct cairn_dec *d, uint32_t *v)
{
	const uint8_t *p = cairn_dec_take(d, 4);

	*v = p ? cairn_get_le32(p) : 0;
}

void
cairn_dec_u64(struct cairn_dec *d, uint64_t *v)
{
	const uint8_t *p = cairn_dec_take(d, 8);

	*v = p ? cairn_get_le64(p) : 0;
}

void
cairn_dec_i32(struct cairn_dec *d, int32_t *v)
{
	uint32_t u;

	cairn_dec_u32(d, &u);
	*v = (int32_t)u;
}

void
cairn_dec_i64(struct cairn_dec *d, int64_t *v)
{
	uint64_t u;

	cairn_dec_u64(d, &u);
	*v = (int64_t)u;
}

void
cairn_dec_uuid(struct cairn_dec *d, uint8_t uuid[16])
{
	const uint8_t *p = cairn_dec_take(d, 16);

	if (p)
		memcpy(uuid, p, 16);
	else
		memset(uuid, 0, 16);
}

void
cairn_dec_bytes(struct cairn_dec *d, const void **out, uint32_t *len, uint32_t max)
{
	uint32_t n;
	const uint8_t *p;

	*out = NULL;
	*len = 0;
	cairn_dec_u32(d, &n);
	if (d->rc)
		return;
	if (max && n > max) {
		d->rc = -CAIRN_ERR_OVERFLOW;
		return;
	}
	p = cairn_dec_take(d, n);
	if (p == NULL)
		return;
	*out = p;
	*len = n;
}

void
cairn_dec_str(struct cairn_dec *d, const char **s, uint32_t max)
{
	uint32_t n;
	const uint8_t *p;

	*s = NULL;
	cairn_dec_u32(d, &n);
	if (d->rc)
		return;
	if ((max && n > max) || n == UINT32_MAX) {
		d->rc = -CAIRN_ERR_OVERFLOW;
		return;
	}
	p = cairn_dec_take(d, (size_t)n + 1);
	if (p == NULL)
		return;
	if (p[n] != 0 || memchr(p, 0, n) != NULL) {
		d->rc = -CAIRN_ERR_PROTO;
		return;
	}
	*s = (const char *)p;
}

void
cairn_dec_iovs(struct cairn_dec *d, struct iovec *iov, unsigned max_cnt, unsigned *cnt)
{
	uint32_t n, i, len;
	const void *p;

	*cnt = 0;
	cairn_dec_array(d, &n, 4, 0);
	if (d->rc)
		return;
	if (n > max_cnt) {
		d->rc = -CAIRN_ERR_OVERFLOW;
		return;
	}
	for (i = 0; i < n; i++) {
		cairn_dec_bytes(d, &p, &len, 0);
		if (d->rc) {
			*cnt = 0;
			return;
		}
		iov[i].iov_base = (void *)(uintptr_t)p;
		iov[i].iov_len = len;
	}
	*cnt = n;
}

void
cairn_dec_array(struct cairn_dec *d, uint32_t *count, size_t min_elem, uint32_t max)
{
	uint32_t n;

	*count = 0;
	cairn_dec_u32(d, &n);
	if (d->rc)
		return;
	if (max && n > max) {
		d->rc = -CAIRN_ERR_OVERFLOW;
		return;
	}
	if (min_elem && (uint64_t)n * min_elem > cairn_dec_left(d)) {
		d->rc = -CAIRN_ERR_PROTO;
		return;
	}
	*count = n;
}

void
cairn_dec_bulk(struct cairn_dec *d, struct cairn_bulk_desc *bd)
{
	cairn_dec_u32(d, &bd->rank);
	cairn_dec_u16(d, &bd->tag);
	cairn_dec_u16(d, &bd->flags);
	cairn_dec_u64(d, &bd->id);
	cairn_dec_u64(d, &bd->len);
}
