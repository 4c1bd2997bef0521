/*
 * UUIDs (pools, containers, engines) over libuuid, with a struct type so they cannot be
 * confused with other byte arrays. Any thread.
 */
#ifndef CAIRN_COMMON_UUID_H
#define CAIRN_COMMON_UUID_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/** Length of the text form including the NUL: "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx". */
#define CAIRN_UUID_STR_LEN 37

struct cairn_uuid {
	uint8_t b[16];
};

_Static_assert(sizeof(struct cairn_uuid) == 16, "cairn_uuid must be 16 bytes");

/** New random (version 4) UUID. */
void cairn_uuid_generate(struct cairn_uuid *u);

/**
 * Parse the 36-character text form (hex case-insensitive, no braces or spaces).
 * \return 0, or -CAIRN_ERR_INVAL (NULL or malformed; *u untouched)
 */
int cairn_uuid_parse(const char *s, struct cairn_uuid *u);

/** Text form, lower case, NUL-terminated in out[CAIRN_UUID_STR_LEN]. */
void cairn_uuid_unparse(const struct cairn_uuid *u, char out[CAIRN_UUID_STR_LEN]);

/** First 8 hex digits, for log messages (like DAOS's DF_UUID). out[9]. */
void cairn_uuid_short(const struct cairn_uuid *u, char out[9]);

static inline void
cairn_uuid_clear(struct cairn_uuid *u)
{
	memset(u->b, 0, sizeof(u->b));
}

static inline bool
cairn_uuid_is_null(const struct cairn_uuid *u)
{
	static const struct cairn_uuid zero;

	return memcmp(u->b, zero.b, sizeof(u->b)) == 0;
}

/** memcmp order: <0, 0, >0. */
static inline int
cairn_uuid_compare(const struct cairn_uuid *a, const struct cairn_uuid *b)
{
	return memcmp(a->b, b->b, sizeof(a->b));
}

static inline bool
cairn_uuid_equal(const struct cairn_uuid *a, const struct cairn_uuid *b)
{
	return cairn_uuid_compare(a, b) == 0;
}

/** 64-bit hash, for hash tables keyed by UUID. */
uint64_t cairn_uuid_hash(const struct cairn_uuid *u);

#endif /* CAIRN_COMMON_UUID_H */
