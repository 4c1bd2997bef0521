/*
 * jansson helpers: printing and strict getters for validating JSON-RPC params.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "common/json.h"

int
cairn_json_print(FILE *f, const json_t *j, bool pretty)
{
	size_t flags = JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | (pretty ? JSON_INDENT(2) : 0);
	char *s;
	int rc = 0;

	if (f == NULL || j == NULL)
		return -CAIRN_ERR_INVAL;
	if (!pretty)
		flags |= JSON_COMPACT;
	s = json_dumps(j, flags);
	if (s == NULL)
		return -CAIRN_ERR_NOMEM;
	if (fputs(s, f) == EOF || fputc('\n', f) == EOF || fflush(f) == EOF)
		rc = errno ? -errno : -CAIRN_ERR_IO;
	free(s);
	return rc;
}

/* Fetch key; returns 1 when absent and optional, 0 when present, <0 on error. */
static int
get_member(const json_t *obj, const char *key, bool required, const json_t **v, char *err,
	   size_t errlen)
{
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "expected a JSON object holding key '%s'", key);
		return -CAIRN_ERR_INVAL;
	}
	*v = json_object_get(obj, key);
	if (*v == NULL || json_is_null(*v)) {
		if (!required)
			return 1;
		snprintf(err, errlen, "key '%s': missing, it is required", key);
		return -CAIRN_ERR_INVAL;
	}
	return 0;
}

int
cairn_json_get_u64(const json_t *obj, const char *key, bool required, uint64_t min, uint64_t max,
		   uint64_t *out, char *err, size_t errlen)
{
	const json_t *v;
	json_int_t i;
	int rc = get_member(obj, key, required, &v, err, errlen);

	if (rc != 0)
		return rc > 0 ? 0 : rc;
	/* jansson integers are signed 64-bit: values above INT64_MAX cannot arrive. */
	if (!json_is_integer(v) || (i = json_integer_value(v)) < 0) {
		snprintf(err, errlen, "key '%s': expected an unsigned integer in %llu..%llu", key,
			 (unsigned long long)min, (unsigned long long)max);
		return -CAIRN_ERR_INVAL;
	}
	if ((uint64_t)i < min || (uint64_t)i > max) {
		snprintf(err, errlen, "key '%s': %lld is out of range, expected %llu..%llu", key,
			 (long long)i, (unsigned long long)min, (unsigned long long)max);
		return -CAIRN_ERR_OVERFLOW;
	}
	*out = (uint64_t)i;
	return 0;
}

int
cairn_json_get_u32(const json_t *obj, const char *key, bool required, uint32_t min, uint32_t max,
		   uint32_t *out, char *err, size_t errlen)
{
	uint64_t v = 0;
	const json_t *m;
	int rc;

	rc = cairn_json_get_u64(obj, key, required, min, max, &v, err, errlen);
	if (rc == 0 && json_is_object(obj) && (m = json_object_get(obj, key)) != NULL &&
	    !json_is_null(m))
		*out = (uint32_t)v;
	return rc;
}

int
cairn_json_get_bool(const json_t *obj, const char *key, bool required, bool *out, char *err,
		    size_t errlen)
{
	const json_t *v;
	int rc = get_member(obj, key, required, &v, err, errlen);

	if (rc != 0)
		return rc > 0 ? 0 : rc;
	if (!json_is_boolean(v)) {
		snprintf(err, errlen, "key '%s': expected true or false", key);
		return -CAIRN_ERR_INVAL;
	}
	*out = json_is_true(v);
	return 0;
}

int
cairn_json_get_str(const json_t *obj, const char *key, bool required, size_t max_len,
		   const char **out, char *err, size_t errlen)
{
	const json_t *v;
	int rc = get_member(obj, key, required, &v, err, errlen);

	if (rc != 0)
		return rc > 0 ? 0 : rc;
	if (!json_is_string(v)) {
		snprintf(err, errlen, "key '%s': expected a string", key);
		return -CAIRN_ERR_INVAL;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "key '%s': string contains a NUL character", key);
		return -CAIRN_ERR_INVAL;
	}
	if (max_len != 0 && json_string_length(v) > max_len) {
		snprintf(err, errlen,
			 "key '%s': string of %zu bytes is too long, expected at "
			 "most %zu",
			 key, json_string_length(v), max_len);
		return -CAIRN_ERR_INVAL;
	}
	*out = json_string_value(v);
	return 0;
}

int
cairn_json_check_keys(const json_t *obj, const char *const *allowed, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj)) {
		snprintf(err, errlen, "expected a JSON object");
		return -CAIRN_ERR_INVAL;
	}
	json_object_foreach((json_t *)obj, key, v)
	{
		bool ok = false;
		size_t off;
		int n;

		for (size_t i = 0; allowed != NULL && allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				ok = true;
		if (ok)
			continue;
		n = snprintf(err, errlen, "unknown key '%s', expected one of:", key);
		off = n < 0 ? 0 : (size_t)n;
		for (size_t i = 0; allowed != NULL && allowed[i] != NULL && off < errlen; i++) {
			n = snprintf(err + off, errlen - off, "%s %s", i ? "," : "", allowed[i]);
			off += n < 0 ? 0 : (size_t)n;
		}
		return -CAIRN_ERR_INVAL;
	}
	return 0;
}
