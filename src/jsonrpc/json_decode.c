/*
 * Params decoding through a table (name, type, offset, optional). Strict: unknown keys
 * and wrong types are errors whose message names the param, so a cairn-rpc user sees
 * exactly what to fix.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#include "jsonrpc_internal.h"

static const char *
jd_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	default: return "unknown";
	}
}

static const char *
jd_expected(enum cairn_json_type t)
{
	switch (t) {
	case CAIRN_JSON_STRING: return "a string";
	case CAIRN_JSON_BOOL: return "a boolean";
	case CAIRN_JSON_INT32: return "a signed 32-bit integer";
	case CAIRN_JSON_UINT32: return "an unsigned 32-bit integer";
	case CAIRN_JSON_INT64: return "a signed 64-bit integer";
	case CAIRN_JSON_UINT64: return "an unsigned 64-bit integer";
	case CAIRN_JSON_UINT16: return "an unsigned 16-bit integer";
	case CAIRN_JSON_DOUBLE: return "a number";
	case CAIRN_JSON_OBJECT: return "an object";
	case CAIRN_JSON_ARRAY: return "an array";
	default: return "a value";
	}
}

static void
jd_free_field(const struct cairn_json_decoder *d, void *out)
{
	void *field = (char *)out + d->offset;

	switch (d->type) {
	case CAIRN_JSON_STRING: {
		char **sp = field;

		free(*sp);
		*sp = NULL;
		break;
	}
	case CAIRN_JSON_OBJECT:
	case CAIRN_JSON_ARRAY:
	case CAIRN_JSON_ANY: {
		json_t **jp = field;

		json_decref(*jp);
		*jp = NULL;
		break;
	}
	case CAIRN_JSON_CUSTOM:
		if (d->free_fn)
			d->free_fn(field);
		break;
	default:
		break;
	}
}

/* Integers: jansson's json_int_t is long long, so uint64 values above INT64_MAX arrive
 * as reals (or fail to parse); accept exact reals in range for the unsigned 64 case. */
static int
jd_integer(const json_t *v, long long lo, unsigned long long hi, bool is_signed,
	   unsigned long long *uout, long long *sout)
{
	if (json_is_integer(v)) {
		long long x = json_integer_value(v);

		if (x < lo || (x >= 0 && (unsigned long long)x > hi))
			return -CAIRN_ERR_OVERFLOW;
		if (is_signed)
			*sout = x;
		else
			*uout = (unsigned long long)x;
		return 0;
	}
	if (json_is_real(v) && !is_signed) {
		double d = json_real_value(v);

		/* 2^64 is exactly representable; anything >= it overflows. */
		if (d >= 9223372036854775808.0 && d < 18446744073709551616.0 && d == floor(d) &&
		    hi == UINT64_MAX) {
			*uout = (unsigned long long)d;
			return 0;
		}
	}
	return -CAIRN_ERR_INVAL;
}

static int
jd_field(const struct cairn_json_decoder *d, const json_t *v, void *out, char *err,
	 size_t errlen)
{
	void *field = (char *)out + d->offset;
	unsigned long long u = 0;
	long long s = 0;
	char why[160];
	int rc;

	switch (d->type) {
	case CAIRN_JSON_STRING: {
		char **sp = field;
		char *copy;
		size_t n;

		if (!json_is_string(v))
			goto err_type;
		n = json_string_length(v);
		if (strlen(json_string_value(v)) != n) {
			snprintf(err, errlen, "param '%s': string contains a NUL byte", d->name);
			return -CAIRN_ERR_INVAL;
		}
		copy = strndup(json_string_value(v), n);
		if (copy == NULL) {
			snprintf(err, errlen, "param '%s': out of memory", d->name);
			return -CAIRN_ERR_NOMEM;
		}
		free(*sp);
		*sp = copy;
		return 0;
	}
	case CAIRN_JSON_BOOL:
		if (!json_is_boolean(v))
			goto err_type;
		*(bool *)field = json_is_true(v);
		return 0;
	case CAIRN_JSON_INT32:
		rc = jd_integer(v, INT32_MIN, INT32_MAX, true, &u, &s);
		if (rc == 0)
			*(int32_t *)field = (int32_t)s;
		break;
	case CAIRN_JSON_INT64:
		rc = jd_integer(v, INT64_MIN, INT64_MAX, true, &u, &s);
		if (rc == 0)
			*(int64_t *)field = (int64_t)s;
		break;
	case CAIRN_JSON_UINT16:
		rc = jd_integer(v, 0, UINT16_MAX, false, &u, &s);
		if (rc == 0)
			*(uint16_t *)field = (uint16_t)u;
		break;
	case CAIRN_JSON_UINT32:
		rc = jd_integer(v, 0, UINT32_MAX, false, &u, &s);
		if (rc == 0)
			*(uint32_t *)field = (uint32_t)u;
		break;
	case CAIRN_JSON_UINT64:
		rc = jd_integer(v, 0, UINT64_MAX, false, &u, &s);
		if (rc == 0)
			*(uint64_t *)field = (uint64_t)u;
		break;
	case CAIRN_JSON_DOUBLE:
		if (!json_is_number(v))
			goto err_type;
		*(double *)field = json_number_value(v);
		return 0;
	case CAIRN_JSON_OBJECT:
	case CAIRN_JSON_ARRAY:
	case CAIRN_JSON_ANY: {
		json_t **jp = field;

		if ((d->type == CAIRN_JSON_OBJECT && !json_is_object(v)) ||
		    (d->type == CAIRN_JSON_ARRAY && !json_is_array(v)))
			goto err_type;
		json_decref(*jp);
		*jp = json_incref((json_t *)v);
		return 0;
	}
	case CAIRN_JSON_CUSTOM:
		if (d->decode == NULL) {
			snprintf(err, errlen, "param '%s': no decoder", d->name);
			return -CAIRN_ERR_INVAL;
		}
		why[0] = '\0';
		rc = d->decode(v, field, why, sizeof(why));
		if (rc) {
			snprintf(err, errlen, "param '%s': %s", d->name,
				 why[0] ? why : "invalid value");
			return rc < 0 ? rc : -CAIRN_ERR_INVAL;
		}
		return 0;
	default:
		snprintf(err, errlen, "param '%s': bad decoder type %d", d->name, (int)d->type);
		return -CAIRN_ERR_INVAL;
	}
	if (rc == -CAIRN_ERR_OVERFLOW) {
		snprintf(err, errlen, "param '%s': value out of range for %s", d->name,
			 jd_expected(d->type));
		return -CAIRN_ERR_INVAL;
	}
	if (rc == 0)
		return 0;
err_type:
	snprintf(err, errlen, "param '%s': expected %s, got %s", d->name, jd_expected(d->type),
		 jd_type_name(v));
	return -CAIRN_ERR_INVAL;
}

int
cairn_json_decode_object(const json_t *params, const struct cairn_json_decoder *table,
			 size_t n, void *out, char *err, size_t errlen)
{
	char dummy[8];
	const char *key;
	json_t *val;
	size_t i;
	int rc;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (params != NULL && !json_is_object(params)) {
		snprintf(err, errlen, "params: expected an object, got %s", jd_type_name(params));
		return -CAIRN_ERR_INVAL;
	}
	if (params != NULL) {
		json_object_foreach((json_t *)params, key, val) {
			for (i = 0; i < n; i++) {
				if (strcmp(table[i].name, key) == 0)
					break;
			}
			if (i == n) {
				snprintf(err, errlen, "unknown param '%s'", key);
				return -CAIRN_ERR_INVAL;
			}
		}
	}
	for (i = 0; i < n; i++) {
		val = params ? json_object_get(params, table[i].name) : NULL;
		if (val == NULL) {
			if (table[i].optional)
				continue;
			snprintf(err, errlen, "missing required param '%s'", table[i].name);
			rc = -CAIRN_ERR_INVAL;
			goto err_free;
		}
		rc = jd_field(&table[i], val, out, err, errlen);
		if (rc)
			goto err_free;
	}
	return 0;

err_free:
	/* Release only what this call decoded (fields before i that were present). */
	while (i-- > 0) {
		if (params && json_object_get(params, table[i].name))
			jd_free_field(&table[i], out);
	}
	return rc;
}

void
cairn_json_decode_free(const struct cairn_json_decoder *table, size_t n, void *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		jd_free_field(&table[i], out);
}
