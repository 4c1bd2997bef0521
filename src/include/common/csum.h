/*
 * Checksums through ISA-L (SIMD: PCLMULQDQ / CRC32 instructions on x86-64, PMULL on
 * aarch64). Any thread; no state.
 *
 * Both functions use the zlib seed convention: the seed is the checksum of the data
 * before this buffer (0 to start), so checksums chain:
 *   cairn_crc32c(cairn_crc32c(0, a, la), b, lb) == cairn_crc32c(0, a||b, la + lb)
 *
 * - CRC32C: Castagnoli polynomial 0x1EDC6F41, reflected, init/xorout 0xFFFFFFFF
 *   (iSCSI, NVMe-oF data digest, ext4). Check value of "123456789": 0xE3069283.
 *   ISA-L crc32_iscsi().
 * - CRC64: ECMA-182 polynomial 0x42F0E1EBA9EA3693, reflected, init/xorout all-ones,
 *   i.e. CRC-64/XZ. Check value of "123456789": 0x995DC9BBDF1939FA. ISA-L
 *   crc64_ecma_refl().
 */
#ifndef CAIRN_COMMON_CSUM_H
#define CAIRN_COMMON_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/**
 * CRC32C of a buffer.
 * \param[in] seed checksum of the preceding data, 0 to start
 * \param[in] buf  data (may be NULL when len is 0)
 * \param[in] len  length in bytes (any size; split internally for ISA-L's int length)
 * \return the checksum
 */
uint32_t cairn_crc32c(uint32_t seed, const void *buf, size_t len);

/** CRC64 (CRC-64/XZ) of a buffer; parameters as cairn_crc32c(). */
uint64_t cairn_crc64(uint64_t seed, const void *buf, size_t len);

/** CRC32C over a scatter list, as if the segments were contiguous. */
uint32_t cairn_crc32c_iov(uint32_t seed, const struct iovec *iov, int iovcnt);

/** CRC64 over a scatter list, as if the segments were contiguous. */
uint64_t cairn_crc64_iov(uint64_t seed, const struct iovec *iov, int iovcnt);

/** Checksum kinds, for on-disk and wire formats (values are stable: stored on disk). */
enum cairn_csum_type {
	CAIRN_CSUM_NONE = 0,
	CAIRN_CSUM_CRC32C = 1,
	CAIRN_CSUM_CRC64 = 2,
};

/** Size in bytes of a checksum of the type (0 for NONE, -CAIRN_ERR_INVAL if unknown). */
int cairn_csum_size(enum cairn_csum_type type);

/** "none", "crc32c", "crc64" (NULL for an unknown type). */
const char *cairn_csum_name(enum cairn_csum_type type);

/** Type from its name (case-insensitive); type or -CAIRN_ERR_INVAL. */
int cairn_csum_from_name(const char *name);

/**
 * Checksum of the given type over a scatter list, widened to 64 bits (0 for NONE).
 * \return 0 and *out set, or -CAIRN_ERR_INVAL for an unknown type.
 */
int cairn_csum_iov(enum cairn_csum_type type, const struct iovec *iov, int iovcnt, uint64_t *out);

#endif /* CAIRN_COMMON_CSUM_H */
