/*
 * Parsing and formatting of human quantities and strict integers. Any thread; no state.
 *
 * Every parser takes an optional error buffer (err may be NULL) that receives a
 * one-line reason such as "'4X': unknown size suffix 'X', expected one of B K M G T P E
 * (optionally followed by iB or B)". Whitespace around the value is not accepted;
 * trim first if needed.
 */
#ifndef CAIRN_COMMON_UNITS_H
#define CAIRN_COMMON_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Parse a size in bytes. A decimal number (fraction allowed: "1.5G") followed by an
 * optional suffix K, M, G, T, P, E (any case), optionally followed by "i", "iB" or "B".
 * Every suffix is a power of 1024 ("4K", "4k", "4KB", "4KiB" are all 4096), as in
 * SPDK/DAOS configs. Hex integers "0x1000" are accepted without suffix.
 * \return 0, -CAIRN_ERR_INVAL (malformed, or a fraction that is not a whole number of
 *         bytes) or -CAIRN_ERR_OVERFLOW (does not fit in 64 bits)
 */
int cairn_parse_size(const char *s, uint64_t *out, char *err, size_t errlen);

/**
 * Format a size with binary units and at most 1 decimal: "512 B", "4 KiB", "1.5 GiB".
 * Values that are not exact are rounded to one decimal ("1.3 MiB").
 * \return 0 or -CAIRN_ERR_TRUNC (buffer too small; 16 bytes always suffice)
 */
int cairn_format_size(uint64_t bytes, char *buf, size_t len);

/**
 * Parse a duration into nanoseconds: a decimal number (fraction allowed) and a unit:
 * ns, us, ms, s, m (minutes), h. A bare "0" is accepted; other numbers need a unit.
 * Examples: "10s", "500ms", "1.5s", "2m".
 * \return 0, -CAIRN_ERR_INVAL or -CAIRN_ERR_OVERFLOW
 */
int cairn_parse_duration(const char *s, uint64_t *ns, char *err, size_t errlen);

/** Format a duration: "0", "250ns", "1.5us", "20ms", "3s", "1.2s", "2m", "1.5h". */
int cairn_format_duration(uint64_t ns, char *buf, size_t len);

/**
 * Strict unsigned integer: decimal or 0x-hex, no sign, no trailing characters,
 * range-checked against [min, max].
 * \return 0, -CAIRN_ERR_INVAL or -CAIRN_ERR_OVERFLOW (out of range)
 */
int cairn_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err,
		    size_t errlen);

/** As cairn_parse_u64, for 32-bit values. */
int cairn_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out, char *err,
		    size_t errlen);

/** Strict signed integer (decimal, optional '-'), range-checked. */
int cairn_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out, char *err,
		    size_t errlen);

/** Boolean: true/false, yes/no, on/off, 1/0 (any case). \return 0 or -CAIRN_ERR_INVAL */
int cairn_parse_bool(const char *s, bool *out, char *err, size_t errlen);

#endif /* CAIRN_COMMON_UNITS_H */
