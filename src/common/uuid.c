/*
 * UUID helpers over libuuid. The parser checks the exact 8-4-4-4-12 shape itself so that
 * the error contract does not depend on libuuid's leniency.
 */
#include <stdio.h>
#include <uuid/uuid.h>

#include "cairn/errno.h"
#include "common/hash.h"
#include "common/uuid.h"

_Static_assert(sizeof(uuid_t) == sizeof(struct cairn_uuid), "uuid_t size");

void
cairn_uuid_generate(struct cairn_uuid *u)
{
	uuid_generate_random(u->b);
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

int
cairn_uuid_parse(const char *s, struct cairn_uuid *u)
{
	struct cairn_uuid tmp;
	int nb = 0;

	if (s == NULL || u == NULL)
		return -CAIRN_ERR_INVAL;
	for (int i = 0; i < CAIRN_UUID_STR_LEN - 1; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -CAIRN_ERR_INVAL;
			continue;
		}
		hi = hexval(s[i]);
		if (hi < 0)
			return -CAIRN_ERR_INVAL; /* also catches a short string's NUL */
		lo = hexval(s[i + 1]);
		if (lo < 0)
			return -CAIRN_ERR_INVAL;
		tmp.b[nb++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	if (s[CAIRN_UUID_STR_LEN - 1] != '\0')
		return -CAIRN_ERR_INVAL;
	*u = tmp;
	return 0;
}

void
cairn_uuid_unparse(const struct cairn_uuid *u, char out[CAIRN_UUID_STR_LEN])
{
	uuid_unparse_lower(u->b, out);
}

void
cairn_uuid_short(const struct cairn_uuid *u, char out[9])
{
	snprintf(out, 9, "%02x%02x%02x%02x", u->b[0], u->b[1], u->b[2], u->b[3]);
}

uint64_t
cairn_uuid_hash(const struct cairn_uuid *u)
{
	return cairn_hash_bytes(u->b, sizeof(u->b), 0);
}
