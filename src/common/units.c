/*
 * Strict parsers and formatters for sizes, durations, integers and booleans. The parsers
 * are written by hand rather than over strtoull(), which accepts leading blanks, signs
 * on unsigned values and silently saturates. Arithmetic uses 128-bit intermediates so
 * "15.9E" or "1.5e3h"-style inputs overflow cleanly instead of wrapping.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cairn/errno.h"
#include "common/units.h"

typedef unsigned __int128 u128;

#define MAX_FRAC_DIGITS 18

static int
fail(int rc, char *err, size_t errlen, const char *s, const char *what)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "'%s': %s", s ? s : "(null)", what);
	return rc;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal number "123" or "1.25": integer part, fraction numerator and denominator.
 * Returns the end pointer or NULL (with the reason in *why). */
static const char *
parse_decimal(const char *s, uint64_t *ip, uint64_t *fnum, uint64_t *fden, const char **why)
{
	const char *p = s;
	uint64_t v = 0, num = 0, den = 1;
	int nd = 0;

	if (!is_digit(*p)) {
		*why = *p == '-' ? "negative values are not allowed" : "expected a number";
		return NULL;
	}
	for (; is_digit(*p); p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) {
			*why = "number too large";
			return NULL;
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (!is_digit(*p)) {
			*why = "expected digits after the decimal point";
			return NULL;
		}
		for (; is_digit(*p); p++) {
			if (++nd > MAX_FRAC_DIGITS) {
				*why = "too many decimal digits";
				return NULL;
			}
			num = num * 10 + (uint64_t)(*p - '0');
			den *= 10;
		}
	}
	*ip = v;
	*fnum = num;
	*fden = den;
	return p;
}

/* value = ip * mult + fnum * mult / fden, exactly. */
static int
scale(uint64_t ip, uint64_t fnum, uint64_t fden, uint64_t mult, uint64_t *out, const char **why)
{
	u128 whole = (u128)ip * mult;
	u128 frac = (u128)fnum * mult;

	if (frac % fden != 0) {
		*why = "fraction does not give a whole number";
		return -CAIRN_ERR_INVAL;
	}
	whole += frac / fden;
	if (whole > UINT64_MAX) {
		*why = "value does not fit in 64 bits";
		return -CAIRN_ERR_OVERFLOW;
	}
	*out = (uint64_t)whole;
	return 0;
}

static int
parse_hex(const char *s, uint64_t *out, const char **why)
{
	const char *p = s + 2;
	uint64_t v = 0;

	if (*p == '\0') {
		*why = "expected hex digits after 0x";
		return -CAIRN_ERR_INVAL;
	}
	for (; *p != '\0'; p++) {
		unsigned d;

		if (is_digit(*p))
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else {
			*why = "invalid hex digit";
			return -CAIRN_ERR_INVAL;
		}
		if (v >> 60) {
			*why = "value does not fit in 64 bits";
			return -CAIRN_ERR_OVERFLOW;
		}
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static bool
is_hex_prefix(const char *s)
{
	return s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

int
cairn_parse_size(const char *s, uint64_t *out, char *err, size_t errlen)
{
	static const char units[] = "KMGTPE";
	uint64_t ip, fnum, fden, mult = 1, v;
	const char *p, *why = NULL, *u;
	int rc;

	if (s == NULL || *s == '\0')
		return fail(-CAIRN_ERR_INVAL, err, errlen, s,
			    "empty size, expected e.g. 4096, "
			    "64K, 1.5G or 1MiB");
	if (is_hex_prefix(s)) {
		rc = parse_hex(s, &v, &why);
		if (rc != 0)
			return fail(rc, err, errlen, s, why);
		*out = v;
		return 0;
	}
	p = parse_decimal(s, &ip, &fnum, &fden, &why);
	if (p == NULL)
		return fail(strcmp(why, "number too large") == 0 ? -CAIRN_ERR_OVERFLOW
								 : -CAIRN_ERR_INVAL,
			    err, errlen, s, why);
	u = NULL;
	if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
		u = strchr(units, *p & ~0x20); /* upper case; letters only, never NUL */
	if (u != NULL) {
		mult = 1ull << (10 * (unsigned)(u - units + 1));
		p++;
		/* Optional "i", "iB" or "B" after the multiplier letter. */
		if (*p == 'i' || *p == 'I')
			p++;
		if (*p == 'b' || *p == 'B')
			p++;
	} else if (*p == 'b' || *p == 'B') {
		p++;
	}
	if (*p != '\0') {
		char msg[160];

		snprintf(msg, sizeof(msg),
			 "unknown size suffix '%s', expected one of B K M G T "
			 "P E (powers of 1024, optionally followed by iB or B)",
			 p);
		return fail(-CAIRN_ERR_INVAL, err, errlen, s, msg);
	}
	rc = scale(ip, fnum, fden, mult, out, &why);
	if (rc != 0)
		return fail(rc, err, errlen, s,
			    rc == -CAIRN_ERR_INVAL
				    ? "fraction does not give a whole number of bytes"
				    : why);
	return 0;
}

/* "N unit" or "N.D unit" with one decimal, rounding half up. */
static int
format_scaled(uint64_t v, uint64_t unit, const char *name, const char *sep, char *buf, size_t len)
{
	int n;

	if (v % unit == 0) {
		n = snprintf(buf, len, "%llu%s%s", (unsigned long long)(v / unit), sep, name);
	} else {
		u128 tenths = ((u128)v * 10 + unit / 2) / unit;

		n = snprintf(buf, len, "%llu.%u%s%s", (unsigned long long)(tenths / 10),
			     (unsigned)(tenths % 10), sep, name);
	}
	if (n < 0 || (size_t)n >= len)
		return -CAIRN_ERR_TRUNC;
	return 0;
}

int
cairn_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	unsigned u = 0;

	if (buf == NULL || len == 0)
		return -CAIRN_ERR_TRUNC;
	while (u < 6 && bytes >= (1ull << (10 * (u + 1))))
		u++;
	/* Rounding may reach 1024.0 of a unit: show 1.0 of the next instead. */
	if (u < 6 && bytes % (1ull << (10 * u)) != 0 &&
	    ((u128)bytes * 10 + (1ull << (10 * u)) / 2) / (1ull << (10 * u)) >= 10240)
		u++;
	return format_scaled(bytes, 1ull << (10 * u), names[u], " ", buf, len);
}

struct dur_unit {
	const char *name;
	uint64_t ns;
};

static const struct dur_unit g_dur_units[] = {
	{"ns", 1ull},
	{"us", 1000ull},
	{"ms", 1000000ull},
	{"s", 1000000000ull},
	{"m", 60ull * 1000000000ull},
	{"h", 3600ull * 1000000000ull},
};
#define DUR_UNITS (sizeof(g_dur_units) / sizeof(g_dur_units[0]))

int
cairn_parse_duration(const char *s, uint64_t *ns, char *err, size_t errlen)
{
	uint64_t ip, fnum, fden;
	const char *p, *why = NULL;
	int rc;

	if (s == NULL || *s == '\0')
		return fail(-CAIRN_ERR_INVAL, err, errlen, s,
			    "empty duration, expected e.g. "
			    "10s, 500ms or 1.5m");
	p = parse_decimal(s, &ip, &fnum, &fden, &why);
	if (p == NULL)
		return fail(strcmp(why, "number too large") == 0 ? -CAIRN_ERR_OVERFLOW
								 : -CAIRN_ERR_INVAL,
			    err, errlen, s, why);
	if (*p == '\0') {
		if (ip == 0 && fnum == 0) {
			*ns = 0;
			return 0;
		}
		return fail(-CAIRN_ERR_INVAL, err, errlen, s,
			    "missing unit, expected one of "
			    "ns us ms s m h (e.g. 10s)");
	}
	for (size_t i = 0; i < DUR_UNITS; i++) {
		if (strcasecmp(p, g_dur_units[i].name) != 0)
			continue;
		rc = scale(ip, fnum, fden, g_dur_units[i].ns, ns, &why);
		if (rc != 0)
			return fail(rc, err, errlen, s,
				    rc == -CAIRN_ERR_INVAL ? "fraction is finer than a nanosecond"
							   : why);
		return 0;
	}
	{
		char msg[128];

		snprintf(msg, sizeof(msg),
			 "unknown duration unit '%s', expected one of ns us "
			 "ms s m h",
			 p);
		return fail(-CAIRN_ERR_INVAL, err, errlen, s, msg);
	}
}

int
cairn_format_duration(uint64_t ns, char *buf, size_t len)
{
	size_t u = DUR_UNITS - 1;
	int n;

	if (buf == NULL || len == 0)
		return -CAIRN_ERR_TRUNC;
	if (ns == 0) {
		n = snprintf(buf, len, "0");
		return n < 0 || (size_t)n >= len ? -CAIRN_ERR_TRUNC : 0;
	}
	while (u > 0 && ns < g_dur_units[u].ns)
		u--;
	return format_scaled(ns, g_dur_units[u].ns, g_dur_units[u].name, "", buf, len);
}

int
cairn_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	const char *why = NULL;
	uint64_t v = 0;
	int rc;

	if (s == NULL || *s == '\0')
		return fail(-CAIRN_ERR_INVAL, err, errlen, s,
			    "empty, expected an unsigned "
			    "integer");
	if (is_hex_prefix(s)) {
		rc = parse_hex(s, &v, &why);
		if (rc != 0)
			return fail(rc, err, errlen, s, why);
	} else {
		const char *p = s;

		if (!is_digit(*p))
			return fail(-CAIRN_ERR_INVAL, err, errlen, s,
				    "expected an unsigned integer (decimal or 0x hex)");
		for (; is_digit(*p); p++) {
			if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
				return fail(-CAIRN_ERR_OVERFLOW, err, errlen, s,
					    "value does not fit in 64 bits");
			v = v * 10 + (uint64_t)(*p - '0');
		}
		if (*p != '\0')
			return fail(-CAIRN_ERR_INVAL, err, errlen, s,
				    "trailing characters after the number");
	}
	if (v < min || v > max) {
		char msg[96];

		snprintf(msg, sizeof(msg), "out of range, expected %llu..%llu",
			 (unsigned long long)min, (unsigned long long)max);
		return fail(-CAIRN_ERR_OVERFLOW, err, errlen, s, msg);
	}
	*out = v;
	return 0;
}

int
cairn_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out, char *err, size_t errlen)
{
	uint64_t v;
	int rc = cairn_parse_u64(s, min, max, &v, err, errlen);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

int
cairn_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out, char *err, size_t errlen)
{
	const char *p = s;
	bool neg = false;
	uint64_t v = 0, lim;
	int64_t r;

	if (s == NULL || *s == '\0')
		return fail(-CAIRN_ERR_INVAL, err, errlen, s, "empty, expected an integer");
	if (*p == '-') {
		neg = true;
		p++;
	}
	if (!is_digit(*p))
		return fail(-CAIRN_ERR_INVAL, err, errlen, s, "expected an integer");
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; is_digit(*p); p++) {
		if (v > (lim - (uint64_t)(*p - '0')) / 10)
			return fail(-CAIRN_ERR_OVERFLOW, err, errlen, s,
				    "value does not fit in 64 bits");
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '\0')
		return fail(-CAIRN_ERR_INVAL, err, errlen, s,
			    "trailing characters after the number");
	r = neg ? (int64_t)(0 - v) : (int64_t)v;
	if (r < min || r > max) {
		char msg[96];

		snprintf(msg, sizeof(msg), "out of range, expected %lld..%lld", (long long)min,
			 (long long)max);
		return fail(-CAIRN_ERR_OVERFLOW, err, errlen, s, msg);
	}
	*out = r;
	return 0;
}

int
cairn_parse_bool(const char *s, bool *out, char *err, size_t errlen)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	if (s != NULL) {
		for (size_t i = 0; i < 4; i++) {
			if (strcasecmp(s, yes[i]) == 0) {
				*out = true;
				return 0;
			}
			if (strcasecmp(s, no[i]) == 0) {
				*out = false;
				return 0;
			}
		}
	}
	return fail(-CAIRN_ERR_INVAL, err, errlen, s,
		    "expected a boolean: true/false, yes/no, on/off or 1/0");
}
