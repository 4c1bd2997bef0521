/*
 * Little byte codec for WAL record bodies and checkpoint payloads: a growable writer and
 * a bounds-checked reader. A reader that runs past its end latches `bad` and returns
 * zeros, so decoders check once at the end instead of after every field.
 */
#ifndef CAIRN_VOS_CODEC_H
#define CAIRN_VOS_CODEC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct vos_wbuf {
	uint8_t *buf;
	uint64_t len;
	uint64_t cap;
	bool nomem;
};

static inline void
vos_wbuf_put(struct vos_wbuf *w, const void *p, uint64_t n)
{
	if (w->nomem)
		return;
	if (w->len + n > w->cap) {
		uint64_t cap = w->cap ? w->cap : 256;
		uint8_t *nb;

		while (cap < w->len + n)
			cap *= 2;
		nb = realloc(w->buf, cap);
		if (nb == NULL) {
			w->nomem = true;
			return;
		}
		w->buf = nb;
		w->cap = cap;
	}
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static inline void vos_wbuf_u8(struct vos_wbuf *w, uint8_t v) { vos_wbuf_put(w, &v, 1); }
static inline void vos_wbuf_u32(struct vos_wbuf *w, uint32_t v) { vos_wbuf_put(w, &v, 4); }
static inline void vos_wbuf_u64(struct vos_wbuf *w, uint64_t v) { vos_wbuf_put(w, &v, 8); }

struct vos_rbuf {
	const uint8_t *buf;
	uint64_t len;
	uint64_t pos;
	bool bad;
};

/* Pointer to the next n bytes (NULL and bad latched when fewer remain). */
static inline const void *
vos_rbuf_get(struct vos_rbuf *r, uint64_t n)
{
	const void *p;

	if (r->bad || n > r->len - r->pos) {
		r->bad = true;
		return NULL;
	}
	p = r->buf + r->pos;
	r->pos += n;
	return p;
}

static inline uint8_t
vos_rbuf_u8(struct vos_rbuf *r)
{
	const uint8_t *p = vos_rbuf_get(r, 1);

	return p ? *p : 0;
}

static inline uint32_t
vos_rbuf_u32(struct vos_rbuf *r)
{
	const void *p = vos_rbuf_get(r, 4);
	uint32_t v = 0;

	if (p)
		memcpy(&v, p, 4);
	return v;
}

static inline uint64_t
vos_rbuf_u64(struct vos_rbuf *r)
{
	const void *p = vos_rbuf_get(r, 8);
	uint64_t v = 0;

	if (p)
		memcpy(&v, p, 8);
	return v;
}

#endif /* CAIRN_VOS_CODEC_H */
