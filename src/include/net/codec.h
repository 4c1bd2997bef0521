/*
 * Cairn wire codec: explicit little-endian encoding of integers, UUIDs, strings, byte
 * buffers, iovec lists, variable arrays and bulk descriptors.
 *
 * Encoder: a growable buffer with a hard size limit; errors are sticky (the first failing
 * call records rc, later calls do nothing), so a caller encodes a whole struct and checks
 * cairn_enc_rc() once. Decoder: a cursor over a received message; every length is checked
 * against the bytes that remain, errors are sticky too. Decoded strings and byte buffers
 * point into the message (zero copy): they live as long as the message buffer.
 *
 * Formats (all little-endian):
 *   u8/u16/u32/u64/i32/i64   fixed width
 *   uuid                     16 raw bytes
 *   bytes                    u32 length, then the bytes
 *   string                   u32 length (without NUL), the bytes, one NUL byte; no NUL inside
 *   iov list                 u32 count, then count x bytes
 *   array                    u32 count, then the elements (caller encodes them)
 *   bulk descriptor          u32 rank, u16 tag, u16 flags, u64 id, u64 length
 *
 * Any thread; no shared state.
 */
#ifndef CAIRN_NET_CODEC_H
#define CAIRN_NET_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define CAIRN_ENC_DEFAULT_MAX (64u << 20)

struct cairn_enc {
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t max; /* hard limit: exceeding it -> -CAIRN_ERR_OVERFLOW */
	int rc;
	bool owned; /* buf is malloc'd by the encoder (growable) */
};

struct cairn_dec {
	const uint8_t *buf;
	size_t len;
	size_t off;
	int rc;
};

/* Growable encoder, at most `max` bytes (0 = CAIRN_ENC_DEFAULT_MAX). */
void cairn_enc_init(struct cairn_enc *e, size_t max);
/* Encoder over caller memory (never grows): overflow -> -CAIRN_ERR_OVERFLOW. */
void cairn_enc_init_fixed(struct cairn_enc *e, void *buf, size_t cap);
/* Free an owned buffer. */
void cairn_enc_fini(struct cairn_enc *e);
/* Hand the owned buffer to the caller (who frees it); the encoder is left empty. */
uint8_t *cairn_enc_steal(struct cairn_enc *e, size_t *len);
static inline int
cairn_enc_rc(const struct cairn_enc *e)
{
	return e->rc;
}
/* Reserve n bytes and return a pointer to them (NULL on error; rc set). */
uint8_t *cairn_enc_reserve(struct cairn_enc *e, size_t n);

void cairn_enc_u8(struct cairn_enc *e, uint8_t v);
void cairn_enc_u16(struct cairn_enc *e, uint16_t v);
void cairn_enc_u32(struct cairn_enc *e, uint32_t v);
void cairn_enc_u64(struct cairn_enc *e, uint64_t v);
void cairn_enc_i32(struct cairn_enc *e, int32_t v);
void cairn_enc_i64(struct cairn_enc *e, int64_t v);
void cairn_enc_uuid(struct cairn_enc *e, const uint8_t uuid[16]);
void cairn_enc_bytes(struct cairn_enc *e, const void *p, size_t len);
/* NULL encodes as the empty string. */
void cairn_enc_str(struct cairn_enc *e, const char *s);
void cairn_enc_iovs(struct cairn_enc *e, const struct iovec *iov, unsigned cnt);
void cairn_enc_array(struct cairn_enc *e, uint32_t count);

struct cairn_bulk_desc {
	uint32_t rank;  /* owner of the registered memory */
	uint16_t tag;   /* owner's context */
	uint16_t flags; /* CAIRN_BULK_RO / CAIRN_BULK_RW */
	uint64_t id;    /* bulk id within that context */
	uint64_t len;   /* bytes registered */
};
#define CAIRN_BULK_DESC_WIRE_SIZE 24u
void cairn_enc_bulk(struct cairn_enc *e, const struct cairn_bulk_desc *bd);

void cairn_dec_init(struct cairn_dec *d, const void *buf, size_t len);
static inline int
cairn_dec_rc(const struct cairn_dec *d)
{
	return d->rc;
}
static inline size_t
cairn_dec_left(const struct cairn_dec *d)
{
	return d->len - d->off;
}
/* 0 if no error and every byte was consumed; trailing bytes -> -CAIRN_ERR_PROTO. */
int cairn_dec_done(struct cairn_dec *d);
/* Pointer to the next n bytes, advancing (NULL + rc on truncation). */
const uint8_t *cairn_dec_take(struct cairn_dec *d, size_t n);

/* On error the output is set to 0 / NULL / empty. */
void cairn_dec_u8(struct cairn_dec *d, uint8_t *v);
void cairn_dec_u16(struct cairn_dec *d, uint16_t *v);
void cairn_dec_u32(struct cairn_dec *d, uint32_t *v);
void cairn_dec_u64(struct cairn_dec *d, uint64_t *v);
void cairn_dec_i32(struct cairn_dec *d, int32_t *v);
void cairn_dec_i64(struct cairn_dec *d, int64_t *v);
void cairn_dec_uuid(struct cairn_dec *d, uint8_t uuid[16]);
/* *p points into the message; at most `max` bytes accepted (0 = no limit). */
void cairn_dec_bytes(struct cairn_dec *d, const void **p, uint32_t *len, uint32_t max);
/* NUL-terminated string inside the message; at most max bytes (0 = no limit). */
void cairn_dec_str(struct cairn_dec *d, const char **s, uint32_t max);
/* Fill up to max_cnt iovecs pointing into the message; more -> -CAIRN_ERR_OVERFLOW. */
void cairn_dec_iovs(struct cairn_dec *d, struct iovec *iov, unsigned max_cnt, unsigned *cnt);
/* Element count of an array whose elements take at least min_elem bytes each: a count
 * that could not fit in the remaining bytes is rejected before anyone allocates. */
void cairn_dec_array(struct cairn_dec *d, uint32_t *count, size_t min_elem, uint32_t max);
void cairn_dec_bulk(struct cairn_dec *d, struct cairn_bulk_desc *bd);

/* Raw little-endian helpers. */
static inline void
cairn_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void
cairn_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}
static inline void
cairn_put_le64(uint8_t *p, uint64_t v)
{
	cairn_put_le32(p, (uint32_t)v);
	cairn_put_le32(p + 4, (uint32_t)(v >> 32));
}
static inline uint16_t
cairn_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t
cairn_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}
static inline uint64_t
cairn_get_le64(const uint8_t *p)
{
	return (uint64_t)cairn_get_le32(p) | ((uint64_t)cairn_get_le32(p + 4) << 32);
}

#endif /* CAIRN_NET_CODEC_H */
