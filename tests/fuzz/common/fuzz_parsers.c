/* libFuzzer target: the small text parsers of src/common (sizes, durations, integers,
 * booleans, UUIDs, log masks, fault specs). The first byte picks the parser; the rest
 * is the NUL-terminated input. Checks round-trips where the format allows. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "common/fault.h"
#include "common/log.h"
#include "common/units.h"
#include "common/uuid.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t levels[CAIRN_SS_MAX];
	struct cairn_uuid u, u2;
	char uuid_s[CAIRN_UUID_STR_LEN];
	char err[256], buf[64];
	uint64_t v, v2;
	int64_t i;
	bool b;
	char *s;

	if (size < 1)
		return 0;
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 8) {
	case 0:
		if (cairn_parse_size(s, &v, err, sizeof(err)) == 0 &&
		    cairn_format_size(v, buf, sizeof(buf)) != 0)
			__builtin_trap();
		break;
	case 1:
		if (cairn_parse_duration(s, &v, err, sizeof(err)) == 0 &&
		    cairn_format_duration(v, buf, sizeof(buf)) != 0)
			__builtin_trap();
		break;
	case 2:
		if (cairn_parse_u64(s, 0, UINT64_MAX, &v, err, sizeof(err)) == 0) {
			/* Decimal re-parse must agree. */
			snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
			if (cairn_parse_u64(buf, 0, UINT64_MAX, &v2, err, sizeof(err)) != 0 ||
			    v2 != v)
				__builtin_trap();
		}
		break;
	case 3:
		(void)cairn_parse_i64(s, INT64_MIN, INT64_MAX, &i, err, sizeof(err));
		(void)cairn_parse_bool(s, &b, err, sizeof(err));
		break;
	case 4:
		if (cairn_uuid_parse(s, &u) == 0) {
			cairn_uuid_unparse(&u, uuid_s);
			if (cairn_uuid_parse(uuid_s, &u2) != 0 || !cairn_uuid_equal(&u, &u2))
				__builtin_trap();
		}
		break;
	case 5:
		(void)cairn_log_parse_mask(s, levels, err, sizeof(err));
		break;
	case 6:
		if (cairn_fault_parse(s, err, sizeof(err)) == 0)
			cairn_fault_disarm_all();
		else if (g_cairn_fault_armed != 0)
			__builtin_trap(); /* a rejected spec arms nothing */
		break;
	default:
		if (cairn_parse_size(s, &v, err, sizeof(err)) == 0 && v % 1024 == 0) {
			/* Exact binary sizes format without a fraction and parse back. */
			if (cairn_format_size(v, buf, sizeof(buf)) != 0)
				__builtin_trap();
			if (strchr(buf, '.') == NULL) {
				char *sp = strchr(buf, ' ');

				memmove(sp, sp + 1, strlen(sp));
				if (cairn_parse_size(buf, &v2, err, sizeof(err)) != 0 || v2 != v)
					__builtin_trap();
			}
		}
		break;
	}
	free(s);
	return 0;
}
