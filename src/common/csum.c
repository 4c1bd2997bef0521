/*
 * CRC32C and CRC64 through ISA-L. ISA-L takes an int length and, for CRC32C, works on the
 * raw (non-inverted) register, so this file adapts both to the zlib seed convention and
 * to size_t lengths. See common/csum.h for the exact CRC parameters.
 */
#include <limits.h>
#include <strings.h>

#include <isa-l/crc.h>
#include <isa-l/crc64.h>

#include "cairn/errno.h"
#include "common/csum.h"

/* Largest chunk handed to ISA-L in one call (its length parameters are int / uint64). */
#define CSUM_CHUNK ((size_t)1 << 30)

uint32_t
cairn_crc32c(uint32_t seed, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t crc = ~seed; /* back to the raw register */

	while (len > 0) {
		size_t n = len < CSUM_CHUNK ? len : CSUM_CHUNK;

		/* ISA-L's prototype lacks const; it does not write the buffer. */
		crc = crc32_iscsi((unsigned char *)(uintptr_t)p, (int)n, crc);
		p += n;
		len -= n;
	}
	return ~crc;
}

uint64_t
cairn_crc64(uint64_t seed, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t crc = seed;

	/* crc64_ecma_refl() inverts on entry and exit itself: seed is the previous CRC. */
	while (len > 0) {
		size_t n = len < CSUM_CHUNK ? len : CSUM_CHUNK;

		crc = crc64_ecma_refl(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

uint32_t
cairn_crc32c_iov(uint32_t seed, const struct iovec *iov, int iovcnt)
{
	for (int i = 0; i < iovcnt; i++)
		seed = cairn_crc32c(seed, iov[i].iov_base, iov[i].iov_len);
	return seed;
}

uint64_t
cairn_crc64_iov(uint64_t seed, const struct iovec *iov, int iovcnt)
{
	for (int i = 0; i < iovcnt; i++)
		seed = cairn_crc64(seed, iov[i].iov_base, iov[i].iov_len);
	return seed;
}

int
cairn_csum_size(enum cairn_csum_type type)
{
	switch (type) {
	case CAIRN_CSUM_NONE:
		return 0;
	case CAIRN_CSUM_CRC32C:
		return 4;
	case CAIRN_CSUM_CRC64:
		return 8;
	}
	return -CAIRN_ERR_INVAL;
}

const char *
cairn_csum_name(enum cairn_csum_type type)
{
	switch (type) {
	case CAIRN_CSUM_NONE:
		return "none";
	case CAIRN_CSUM_CRC32C:
		return "crc32c";
	case CAIRN_CSUM_CRC64:
		return "crc64";
	}
	return NULL;
}

int
cairn_csum_from_name(const char *name)
{
	static const enum cairn_csum_type types[] = {CAIRN_CSUM_NONE, CAIRN_CSUM_CRC32C,
						     CAIRN_CSUM_CRC64};

	if (name == NULL)
		return -CAIRN_ERR_INVAL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(name, cairn_csum_name(types[i])) == 0)
			return (int)types[i];
	return -CAIRN_ERR_INVAL;
}

int
cairn_csum_iov(enum cairn_csum_type type, const struct iovec *iov, int iovcnt, uint64_t *out)
{
	switch (type) {
	case CAIRN_CSUM_NONE:
		*out = 0;
		return 0;
	case CAIRN_CSUM_CRC32C:
		*out = cairn_crc32c_iov(0, iov, iovcnt);
		return 0;
	case CAIRN_CSUM_CRC64:
		*out = cairn_crc64_iov(0, iov, iovcnt);
		return 0;
	}
	return -CAIRN_ERR_INVAL;
}
