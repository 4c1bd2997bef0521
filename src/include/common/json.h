/*
 * Small helpers over jansson for --json output and for validating JSON-RPC params.
 * Any thread.
 *
 * The getters report precise errors ("key 'size': expected an unsigned integer in
 * 1..4096, got -3"). When the key is absent and not required they return 0 and leave
 * *out untouched (so it keeps its default).
 */
#ifndef CAIRN_COMMON_JSON_H
#define CAIRN_COMMON_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/**
 * Print a JSON value followed by a newline: compact on one line (for a benchmark's
 * last line), or indented by 2 with pretty. Keys keep insertion order.
 * \return 0, or -errno / -CAIRN_ERR_NOMEM
 */
int cairn_json_print(FILE *f, const json_t *j, bool pretty);

/** \return 0, -CAIRN_ERR_INVAL (missing when required / wrong type) or
 * -CAIRN_ERR_OVERFLOW (out of [min, max]). */
int cairn_json_get_u64(const json_t *obj, const char *key, bool required, uint64_t min,
		       uint64_t max, uint64_t *out, char *err, size_t errlen);
int cairn_json_get_u32(const json_t *obj, const char *key, bool required, uint32_t min,
		       uint32_t max, uint32_t *out, char *err, size_t errlen);
int cairn_json_get_bool(const json_t *obj, const char *key, bool required, bool *out, char *err,
			size_t errlen);
/** *out points into obj (valid while obj lives); max_len 0 = no limit. */
int cairn_json_get_str(const json_t *obj, const char *key, bool required, size_t max_len,
		       const char **out, char *err, size_t errlen);

/**
 * Reject keys not in `allowed` (NULL-terminated) and non-object values.
 * \return 0 or -CAIRN_ERR_INVAL ("unknown key 'x', expected one of: a, b")
 */
int cairn_json_check_keys(const json_t *obj, const char *const *allowed, char *err, size_t errlen);

#endif /* CAIRN_COMMON_JSON_H */
