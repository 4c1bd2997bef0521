/*
 * Streaming JSON writer: compact or indented output into a growable buffer.
 * Owns nothing but its buffer; structural misuse is recorded, not asserted, so a buggy
 * handler produces an -32603 reply instead of a crash.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#include "jsonrpc_internal.h"

#define JW_INIT_CAP 256

static int
jw_fail(struct cairn_json_write_ctx *w, int rc)
{
	if (w->rc == 0)
		w->rc = rc;
	return w->rc;
}

static int
jw_reserve(struct cairn_json_write_ctx *w, size_t more)
{
	size_t need, cap;
	char *nb;

	if (w->rc)
		return w->rc;
	if (more > SIZE_MAX / 2 - w->len)
		return jw_fail(w, -CAIRN_ERR_OVERFLOW);
	need = w->len + more + 1;
	if (need <= w->cap)
		return 0;
	cap = w->cap ? w->cap : JW_INIT_CAP;
	while (cap < need)
		cap *= 2;
	nb = realloc(w->buf, cap);
	if (nb == NULL)
		return jw_fail(w, -CAIRN_ERR_NOMEM);
	w->buf = nb;
	w->cap = cap;
	return 0;
}

static int
jw_raw(struct cairn_json_write_ctx *w, const char *s, size_t n)
{
	int rc = jw_reserve(w, n);

	if (rc)
		return rc;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
	return 0;
}

static int
jw_indent(struct cairn_json_write_ctx *w)
{
	unsigned i, n;
	int rc;

	if (w->indent == 0)
		return 0;
	rc = jw_raw(w, "\n", 1);
	n = w->depth * w->indent;
	for (i = 0; rc == 0 && i < n; i++)
		rc = jw_raw(w, " ", 1);
	return rc;
}

/* Called before every value: separators, and the "inside an object a name must come
 * first" rule. */
static int
jw_value_prefix(struct cairn_json_write_ctx *w)
{
	int rc;

	if (w->rc)
		return w->rc;
	if (w->depth == 0) {
		if (w->top_done)
			return jw_fail(w, -CAIRN_ERR_INVAL); /* second top-level value */
		w->top_done = true;
		return 0;
	}
	if (w->in_object[w->depth - 1]) {
		if (!w->name_pending)
			return jw_fail(w, -CAIRN_ERR_INVAL);
		w->name_pending = false;
		return 0;
	}
	if (w->first[w->depth - 1]) {
		w->first[w->depth - 1] = false;
	} else {
		rc = jw_raw(w, ",", 1);
		if (rc)
			return rc;
	}
	return jw_indent(w);
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), 0 if invalid (overlong,
 * surrogate, > U+10FFFF, truncated). */
static size_t
jw_utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];
	uint32_t cp;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	cp = c & (0x3f >> (n - 1));
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL terminator */
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static int
jw_string_body(struct cairn_json_write_ctx *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	char esc[6];
	size_t run = 0;
	int rc;

	rc = jw_raw(w, "\"", 1);
	for (; rc == 0 && p[run] != '\0';) {
		unsigned char c = p[run];

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			run++;
			continue;
		}
		if (c >= 0x80) {
			size_t n = jw_utf8_len(p + run);

			if (n > 0) {
				run += n;
				continue;
			}
		}
		rc = jw_raw(w, (const char *)p, run);
		if (rc)
			break;
		p += run;
		run = 0;
		switch (c) {
		case '"': rc = jw_raw(w, "\\\"", 2); break;
		case '\\': rc = jw_raw(w, "\\\\", 2); break;
		case '\n': rc = jw_raw(w, "\\n", 2); break;
		case '\r': rc = jw_raw(w, "\\r", 2); break;
		case '\t': rc = jw_raw(w, "\\t", 2); break;
		case '\b': rc = jw_raw(w, "\\b", 2); break;
		case '\f': rc = jw_raw(w, "\\f", 2); break;
		default:
			if (c >= 0x80) { /* invalid UTF-8: JSON text must be UTF-8 */
				rc = jw_raw(w, "\\ufffd", 6);
				break;
			}
			esc[0] = '\\';
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			rc = jw_raw(w, esc, 6);
			break;
		}
		p++;
	}
	if (rc == 0)
		rc = jw_raw(w, (const char *)p, run);
	if (rc == 0)
		rc = jw_raw(w, "\"", 1);
	return rc;
}

void
jw_init(struct cairn_json_write_ctx *w, unsigned indent)
{
	memset(w, 0, sizeof(*w));
	w->indent = indent > 8 ? 8 : indent;
}

struct cairn_json_write_ctx *
cairn_json_write_begin(unsigned indent)
{
	struct cairn_json_write_ctx *w = malloc(sizeof(*w));

	if (w == NULL)
		return NULL;
	jw_init(w, indent);
	return w;
}

int
jw_finish(struct cairn_json_write_ctx *w)
{
	if (w->rc)
		return w->rc;
	if (w->depth != 0 || !w->top_done || w->name_pending)
		return jw_fail(w, -CAIRN_ERR_INVAL);
	return jw_reserve(w, 0);
}

int
cairn_json_write_end(struct cairn_json_write_ctx *w, char **out, size_t *len)
{
	int rc;

	if (w == NULL)
		return -CAIRN_ERR_INVAL;
	rc = jw_finish(w);
	if (rc == 0 && out != NULL) {
		*out = w->buf;
		if (len)
			*len = w->len;
		w->buf = NULL;
	}
	free(w->buf);
	free(w);
	return rc;
}

static int
jw_open(struct cairn_json_write_ctx *w, char c, bool object)
{
	int rc = jw_value_prefix(w);

	if (rc)
		return rc;
	if (w->depth >= JW_MAX_DEPTH)
		return jw_fail(w, -CAIRN_ERR_OVERFLOW);
	rc = jw_raw(w, &c, 1);
	if (rc)
		return rc;
	w->in_object[w->depth] = object;
	w->first[w->depth] = true;
	w->depth++;
	return 0;
}

static int
jw_close(struct cairn_json_write_ctx *w, char c, bool object)
{
	bool empty;
	int rc;

	if (w->rc)
		return w->rc;
	if (w->depth == 0 || w->in_object[w->depth - 1] != object || w->name_pending)
		return jw_fail(w, -CAIRN_ERR_INVAL);
	empty = w->first[w->depth - 1];
	w->depth--;
	if (!empty) {
		rc = jw_indent(w);
		if (rc)
			return rc;
	}
	return jw_raw(w, &c, 1);
}

int
cairn_json_write_object_begin(struct cairn_json_write_ctx *w)
{
	return jw_open(w, '{', true);
}

int
cairn_json_write_object_end(struct cairn_json_write_ctx *w)
{
	return jw_close(w, '}', true);
}

int
cairn_json_write_array_begin(struct cairn_json_write_ctx *w)
{
	return jw_open(w, '[', false);
}

int
cairn_json_write_array_end(struct cairn_json_write_ctx *w)
{
	return jw_close(w, ']', false);
}

int
cairn_json_write_name(struct cairn_json_write_ctx *w, const char *name)
{
	int rc;

	if (w->rc)
		return w->rc;
	if (name == NULL || w->depth == 0 || !w->in_object[w->depth - 1] || w->name_pending)
		return jw_fail(w, -CAIRN_ERR_INVAL);
	if (w->first[w->depth - 1]) {
		w->first[w->depth - 1] = false;
	} else {
		rc = jw_raw(w, ",", 1);
		if (rc)
			return rc;
	}
	rc = jw_indent(w);
	if (rc == 0)
		rc = jw_string_body(w, name);
	if (rc == 0)
		rc = jw_raw(w, w->indent ? ": " : ":", w->indent ? 2 : 1);
	if (rc == 0)
		w->name_pending = true;
	return rc;
}

int
cairn_json_write_string(struct cairn_json_write_ctx *w, const char *s)
{
	int rc;

	if (s == NULL)
		return cairn_json_write_null(w);
	rc = jw_value_prefix(w);
	return rc ? rc : jw_string_body(w, s);
}

static int
jw_vstring_fmt(struct cairn_json_write_ctx *w, const char *fmt, va_list ap)
{
	char *s = NULL;
	int rc;

	if (vasprintf(&s, fmt, ap) < 0)
		return jw_fail(w, -CAIRN_ERR_NOMEM);
	rc = cairn_json_write_string(w, s);
	free(s);
	return rc;
}

int
cairn_json_write_string_fmt(struct cairn_json_write_ctx *w, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = jw_vstring_fmt(w, fmt, ap);
	va_end(ap);
	return rc;
}

static int
jw_scalar(struct cairn_json_write_ctx *w, const char *text)
{
	int rc = jw_value_prefix(w);

	return rc ? rc : jw_raw(w, text, strlen(text));
}

int
cairn_json_write_int64(struct cairn_json_write_ctx *w, int64_t v)
{
	char b[32];

	snprintf(b, sizeof(b), "%lld", (long long)v);
	return jw_scalar(w, b);
}

int
cairn_json_write_uint64(struct cairn_json_write_ctx *w, uint64_t v)
{
	char b[32];

	snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	return jw_scalar(w, b);
}

int
cairn_json_write_double(struct cairn_json_write_ctx *w, double v)
{
	char b[40];

	if (!isfinite(v)) /* JSON has no NaN/Inf */
		return cairn_json_write_null(w);
	snprintf(b, sizeof(b), "%.17g", v);
	/* Keep it a float literal so readers do not take it for an integer. */
	if (strpbrk(b, ".eE") == NULL) {
		size_t n = strlen(b);

		if (n + 3 <= sizeof(b))
			memcpy(b + n, ".0", 3);
	}
	return jw_scalar(w, b);
}

int
cairn_json_write_bool(struct cairn_json_write_ctx *w, bool v)
{
	return jw_scalar(w, v ? "true" : "false");
}

int
cairn_json_write_null(struct cairn_json_write_ctx *w)
{
	return jw_scalar(w, "null");
}

int
cairn_json_write_json(struct cairn_json_write_ctx *w, const json_t *v)
{
	const char *key;
	json_t *val;
	size_t i;
	int rc = 0;

	if (v == NULL)
		return cairn_json_write_null(w);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		rc = cairn_json_write_object_begin(w);
		json_object_foreach((json_t *)v, key, val) {
			if (rc == 0)
				rc = cairn_json_write_named_json(w, key, val);
		}
		return rc ? rc : cairn_json_write_object_end(w);
	case JSON_ARRAY:
		rc = cairn_json_write_array_begin(w);
		json_array_foreach(v, i, val) {
			if (rc == 0)
				rc = cairn_json_write_json(w, val);
		}
		return rc ? rc : cairn_json_write_array_end(w);
	case JSON_STRING:
		/* Strings with embedded NULs are cut at the NUL: our writer is C-string based. */
		return cairn_json_write_string(w, json_string_value(v));
	case JSON_INTEGER:
		return cairn_json_write_int64(w, (int64_t)json_integer_value(v));
	case JSON_REAL:
		return cairn_json_write_double(w, json_real_value(v));
	case JSON_TRUE:
		return cairn_json_write_bool(w, true);
	case JSON_FALSE:
		return cairn_json_write_bool(w, false);
	case JSON_NULL:
	default:
		return cairn_json_write_null(w);
	}
}

int
cairn_json_write_named_object_begin(struct cairn_json_write_ctx *w, const char *name)
{
	int rc = cairn_json_write_name(w, name);

	return rc ? rc : cairn_json_write_object_begin(w);
}

int
cairn_json_write_named_array_begin(struct cairn_json_write_ctx *w, const char *name)
{
	int rc = cairn_json_write_name(w, name);

	return rc ? rc : cairn_json_write_array_begin(w);
}

int
cairn_json_write_named_string(struct cairn_json_write_ctx *w, const char *name, const char *s)
{
	int rc = cairn_json_write_name(w, name);

	return rc ? rc : cairn_json_write_string(w, s);
}

int
cairn_json_write_named_string_fmt(struct cairn_json_write_ctx *w, const char *name,
				  const char *fmt, ...)
{
	va_list ap;
	int rc = cairn_json_write_name(w, name);

	if (rc)
		return rc;
	va_start(ap, fmt);
	rc = jw_vstring_fmt(w, fmt, ap);
	va_end(ap);
	return rc;
}

int
cairn_json_write_named_int64(struct cairn_json_write_ctx *w, const char *name, int64_t v)
{
	int rc = cairn_json_write_name(w, name);

	return rc ? rc : cairn_json_write_int64(w, v);
}

int
cairn_json_write_named_uint64(struct cairn_json_write_ctx *w, const char *name, uint64_t v)
{
	int rc = cairn_json_write_name(w, name);

	return rc ? rc : cairn_json_write_uint64(w, v);
}

int
cairn_json_write_named_double(struct cairn_json_write_ctx *w, const char *name, double v)
{
	int rc = cairn_json_write_name(w, name);

	return rc ? rc : cairn_json_write_double(w, v);
}

int
cairn_json_write_named_bool(struct cairn_json_write_ctx *w, const char *name, bool v)
{
	int rc = cairn_json_write_name(w, name);

	return rc ? rc : cairn_json_write_bool(w, v);
}

int
cairn_json_write_named_null(struct cairn_json_write_ctx *w, const char *name)
{
	int rc = cairn_json_write_name(w, name);

	return rc ? rc : cairn_json_write_null(w);
}

int
cairn_json_write_named_json(struct cairn_json_write_ctx *w, const char *name, const json_t *v)
{
	int rc = cairn_json_write_name(w, name);

	return rc ? rc : cairn_json_write_json(w, v);
}
