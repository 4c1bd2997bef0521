/*
 * JSON-RPC 2.0 request side: stream framing (scanner), validation of single and batch
 * requests, dispatch to registered handlers, and building the replies. Independent of
 * sockets so the fuzz target drives it directly.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_TGT
#include "common/log.h"

#include "jsonrpc_internal.h"

#define JR_MAX_BATCH 1024

struct jr_batch {
	struct jr_conn *conn;
	atomic_uint remaining;
	unsigned n;
	char **slots;        /* response text per element, NULL = no reply (notification) */
	size_t *lens;
};

struct cairn_jsonrpc_request {
	struct jr_conn *conn;
	struct jr_batch *batch;
	unsigned slot;
	json_t *root;        /* the request object (holds method, params, id) */
	json_t *id;          /* borrowed from root; NULL for a notification */
	const char *method;  /* borrowed from root */
	json_t *params;      /* borrowed from root, NULL when absent */
	const struct cairn_jsonrpc_method *m;
	struct cairn_json_write_ctx w;
};

/* ------------------------------------------------------------------ scanner */

void
jr_scan_reset(struct jr_scanner *s)
{
	memset(s, 0, sizeof(*s));
}

static bool
jr_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
jr_is_delim(char c)
{
	return jr_is_ws(c) || c == '{' || c == '}' || c == '[' || c == ']' || c == ',' ||
	       c == ':' || c == '"';
}

enum jr_scan_result
jr_scan(struct jr_scanner *s, const char *buf, size_t len, size_t *start, size_t *end)
{
	size_t i = s->pos;

	if (!s->started) {
		while (i < len && jr_is_ws(buf[i]))
			i++;
		s->pos = i;
		s->start = i;
		*start = i;
		if (i == len)
			return JR_SCAN_NEED_MORE;
		s->started = true;
		switch (buf[i]) {
		case '{':
		case '[':
			s->depth = 1;
			break;
		case '"':
			s->in_string = true;
			break;
		case '}':
		case ']':
			return JR_SCAN_ERROR;
		default:
			s->scalar = true;
			break;
		}
		i++;
	}
	*start = s->start;
	for (; i < len; i++) {
		char c = buf[i];

		if (s->scalar) {
			if (jr_is_delim(c)) {
				*end = i;
				return JR_SCAN_COMPLETE;
			}
			continue;
		}
		if (s->in_string) {
			if (s->escape)
				s->escape = false;
			else if (c == '\\')
				s->escape = true;
			else if (c == '"') {
				s->in_string = false;
				if (s->depth == 0) {
					*end = i + 1;
					return JR_SCAN_COMPLETE;
				}
			}
			continue;
		}
		switch (c) {
		case '"':
			s->in_string = true;
			break;
		case '{':
		case '[':
			if (++s->depth > CAIRN_JSONRPC_MAX_DEPTH) {
				s->pos = i;
				return JR_SCAN_ERROR;
			}
			break;
		case '}':
		case ']':
			if (--s->depth == 0) {
				*end = i + 1;
				return JR_SCAN_COMPLETE;
			}
			break;
		default:
			break;
		}
	}
	s->pos = i;
	return JR_SCAN_NEED_MORE;
}

/* ------------------------------------------------------------------ replies */

/* Header of every response: {"jsonrpc":"2.0","id":<id>, */
static int
jr_write_head(struct cairn_json_write_ctx *w, const json_t *id)
{
	int rc = cairn_json_write_object_begin(w);

	if (rc == 0)
		rc = cairn_json_write_named_string(w, "jsonrpc", "2.0");
	if (rc == 0)
		rc = cairn_json_write_named_json(w, "id", id); /* NULL -> null */
	return rc;
}

/* Build an error response text (malloc'd) or NULL on allocation failure. */
static char *
jr_error_text(const json_t *id, int code, const char *msg, size_t *len)
{
	struct cairn_json_write_ctx w;
	int rc;

	jw_init(&w, 0);
	rc = jr_write_head(&w, id);
	if (rc == 0)
		rc = cairn_json_write_named_object_begin(&w, "error");
	if (rc == 0)
		rc = cairn_json_write_named_int64(&w, "code", code);
	if (rc == 0)
		rc = cairn_json_write_named_string(&w, "message", msg);
	if (rc == 0)
		rc = cairn_json_write_object_end(&w);
	if (rc == 0)
		rc = cairn_json_write_object_end(&w);
	if (rc == 0)
		rc = jw_finish(&w);
	if (rc) {
		free(w.buf);
		return NULL;
	}
	*len = w.len;
	return w.buf;
}

static void
jr_batch_free(struct jr_batch *b)
{
	unsigned i;

	for (i = 0; i < b->n; i++)
		free(b->slots[i]);
	free(b->slots);
	free(b->lens);
	free(b);
}

/* Drop one count; the last one sends the array of replies and frees the batch. */
static void
jr_batch_put(struct jr_batch *b)
{
	struct jr_conn *conn = b->conn;
	size_t total = 2, off;
	unsigned i, nr = 0;
	char *out;

	if (atomic_fetch_sub(&b->remaining, 1) != 1)
		return;
	/* Every element answered: no other thread touches b any more. */
	for (i = 0; i < b->n; i++) {
		if (b->slots[i]) {
			total += b->lens[i] + 1;
			nr++;
		}
	}
	if (nr > 0) {
		out = malloc(total + 1);
		if (out == NULL) {
			CAIRN_LOG_RATELIMIT(CAIRN_SS_TGT, CAIRN_LOG_ERR, 5,
					    "out of memory building a batch reply");
		} else {
			off = 0;
			out[off++] = '[';
			for (i = 0; i < b->n; i++) {
				if (!b->slots[i])
					continue;
				if (off > 1)
					out[off++] = ',';
				memcpy(out + off, b->slots[i], b->lens[i]);
				off += b->lens[i];
			}
			out[off++] = ']';
			jr_conn_send(conn, out, off);
			free(out);
		}
	}
	jr_batch_free(b);
	jr_conn_put(conn);
}

/* A batch element is done (text may be NULL: no reply). */
static void
jr_batch_complete(struct jr_batch *b, unsigned slot, char *text, size_t len)
{
	b->slots[slot] = text;
	b->lens[slot] = len;
	jr_batch_put(b);
}

/* Deliver one reply (or none for a notification) and release what the request held. */
static void
jr_request_finish(struct cairn_jsonrpc_request *req, char *text, size_t len)
{
	struct jr_conn *conn = req->conn;

	if (req->id == NULL) {
		free(text);
		text = NULL;
	}
	if (req->batch) {
		jr_batch_complete(req->batch, req->slot, text, len);
	} else if (text) {
		jr_conn_send(conn, text, len);
		free(text);
	}
	json_decref(req->root);
	free(req->w.buf);
	atomic_fetch_sub(&conn->outstanding, 1);
	free(req);
	jr_conn_put(conn);
}

const char *
cairn_jsonrpc_request_method(const struct cairn_jsonrpc_request *req)
{
	return req->method;
}

struct cairn_json_write_ctx *
cairn_jsonrpc_begin_result(struct cairn_jsonrpc_request *req)
{
	struct cairn_json_write_ctx *w = &req->w;
	int rc;

	jw_init(w, 0);
	rc = jr_write_head(w, req->id);
	if (rc == 0)
		rc = cairn_json_write_name(w, "result");
	if (rc) {
		free(w->buf);
		jw_init(w, 0);
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INTERNAL_ERROR,
					 "out of memory");
		return NULL;
	}
	return w;
}

void
cairn_jsonrpc_end_result(struct cairn_jsonrpc_request *req, struct cairn_json_write_ctx *w)
{
	char *text;
	size_t len;
	int rc;

	rc = cairn_json_write_object_end(w);
	if (rc == 0)
		rc = jw_finish(w);
	if (rc) {
		CAIRN_ERROR("method %s wrote an invalid result: %s", req->method,
			    cairn_strerror(rc));
		free(w->buf);
		jw_init(w, 0);
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INTERNAL_ERROR,
					 "internal error: method produced an invalid result");
		return;
	}
	text = w->buf;
	len = w->len;
	w->buf = NULL;
	jr_request_finish(req, text, len);
}

void
cairn_jsonrpc_send_bool(struct cairn_jsonrpc_request *req, bool value)
{
	struct cairn_json_write_ctx *w = cairn_jsonrpc_begin_result(req);

	if (w == NULL)
		return;
	cairn_json_write_bool(w, value);
	cairn_jsonrpc_end_result(req, w);
}

void
cairn_jsonrpc_send_json(struct cairn_jsonrpc_request *req, json_t *result)
{
	struct cairn_json_write_ctx *w = cairn_jsonrpc_begin_result(req);

	if (w != NULL) {
		cairn_json_write_json(w, result);
		cairn_jsonrpc_end_result(req, w);
	}
	json_decref(result);
}

static void
jr_vsend_error(struct cairn_jsonrpc_request *req, int code, const char *fmt, va_list ap)
{
	char msg[512];
	char *text;
	size_t len = 0;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	text = jr_error_text(req->id, code, msg, &len);
	if (text == NULL)
		CAIRN_LOG_RATELIMIT(CAIRN_SS_TGT, CAIRN_LOG_ERR, 5, "out of memory for a reply");
	jr_request_finish(req, text, len);
}

void
cairn_jsonrpc_send_error(struct cairn_jsonrpc_request *req, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jr_vsend_error(req, code, fmt, ap);
	va_end(ap);
}

void
cairn_jsonrpc_send_rc(struct cairn_jsonrpc_request *req, int rc, const char *prefix)
{
	int code = rc == -CAIRN_ERR_INVAL ? CAIRN_JSONRPC_ERROR_INVALID_PARAMS : rc;

	if (rc >= 0)
		code = CAIRN_JSONRPC_ERROR_INTERNAL_ERROR;
	if (prefix)
		cairn_jsonrpc_send_error(req, code, "%s: %s", prefix, cairn_strerror(rc));
	else
		cairn_jsonrpc_send_error(req, code, "%s", cairn_strerror(rc));
}

int
cairn_jsonrpc_decode_params(struct cairn_jsonrpc_request *req, const json_t *params,
			    const struct cairn_json_decoder *table, size_t n, void *out)
{
	char err[256];
	int rc;

	if (params != NULL && json_is_array(params) && json_array_size(params) == 0)
		params = NULL; /* "params": [] is how some clients say "none" */
	if (params != NULL && !json_is_object(params)) {
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
					 "params must be an object of named params");
		return -CAIRN_ERR_INVAL;
	}
	rc = cairn_json_decode_object(params, table, n, out, err, sizeof(err));
	if (rc) {
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS, "%s", err);
		return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ dispatch */

static void
jr_run(void *arg)
{
	struct cairn_jsonrpc_request *req = arg;

	req->m->handler(req, req->params);
}

/* Immediate error for an element that never reached a handler. */
static void
jr_reply_now(struct jr_conn *conn, struct jr_batch *b, unsigned slot, const json_t *id,
	     bool reply, int code, const char *msg)
{
	char *text = NULL;
	size_t len = 0;

	if (reply)
		text = jr_error_text(id, code, msg, &len);
	if (b) {
		jr_batch_complete(b, slot, text, len);
		return;
	}
	if (text) {
		jr_conn_send(conn, text, len);
		free(text);
	}
}

static void
jr_handle_one(struct jr_conn *conn, json_t *obj, struct jr_batch *b, unsigned slot)
{
	struct cairn_jsonrpc_request *req;
	json_t *id = NULL, *ver, *method, *params, *val;
	const struct cairn_jsonrpc_method *m;
	char msg[256];
	const char *key;
	int rc;

	if (!json_is_object(obj)) {
		jr_reply_now(conn, b, slot, NULL, true, CAIRN_JSONRPC_ERROR_INVALID_REQUEST,
			     "Invalid request: a request must be an object");
		return;
	}
	id = json_object_get(obj, "id");
	if (id != NULL && !json_is_string(id) && !json_is_number(id) && !json_is_null(id)) {
		jr_reply_now(conn, b, slot, NULL, true, CAIRN_JSONRPC_ERROR_INVALID_REQUEST,
			     "Invalid request: 'id' must be a string, a number or null");
		return;
	}
	ver = json_object_get(obj, "jsonrpc");
	if (ver == NULL || !json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0) {
		jr_reply_now(conn, b, slot, id, true, CAIRN_JSONRPC_ERROR_INVALID_REQUEST,
			     "Invalid request: 'jsonrpc' must be \"2.0\"");
		return;
	}
	method = json_object_get(obj, "method");
	if (method == NULL || !json_is_string(method) ||
	    strlen(json_string_value(method)) != json_string_length(method)) {
		jr_reply_now(conn, b, slot, id, true, CAIRN_JSONRPC_ERROR_INVALID_REQUEST,
			     "Invalid request: 'method' must be a string");
		return;
	}
	params = json_object_get(obj, "params");
	if (params != NULL && !json_is_object(params) && !json_is_array(params)) {
		jr_reply_now(conn, b, slot, id, true, CAIRN_JSONRPC_ERROR_INVALID_REQUEST,
			     "Invalid request: 'params' must be an object or an array");
		return;
	}
	json_object_foreach(obj, key, val) {
		if (strcmp(key, "jsonrpc") && strcmp(key, "method") && strcmp(key, "params") &&
		    strcmp(key, "id")) {
			snprintf(msg, sizeof(msg), "Invalid request: unknown member '%.64s'", key);
			jr_reply_now(conn, b, slot, id, true,
				     CAIRN_JSONRPC_ERROR_INVALID_REQUEST, msg);
			return;
		}
	}
	m = cairn_jsonrpc_find_method(json_string_value(method));
	if (m == NULL) {
		snprintf(msg, sizeof(msg), "Method not found: %.128s", json_string_value(method));
		jr_reply_now(conn, b, slot, id, id != NULL, CAIRN_JSONRPC_ERROR_METHOD_NOT_FOUND,
			     msg);
		return;
	}
	if ((m->state_mask & cairn_jsonrpc_get_state()) == 0) {
		snprintf(msg, sizeof(msg), "Method %.128s is not allowed %s", m->name,
			 cairn_jsonrpc_get_state() == CAIRN_RPC_STARTUP ?
				 "during startup (config replay)" :
				 "at runtime (only in the --json startup config)");
		jr_reply_now(conn, b, slot, id, id != NULL, CAIRN_JSONRPC_ERROR_INVALID_STATE, msg);
		return;
	}
	req = calloc(1, sizeof(*req));
	if (req == NULL) {
		jr_reply_now(conn, b, slot, id, id != NULL, CAIRN_JSONRPC_ERROR_INTERNAL_ERROR,
			     "out of memory");
		return;
	}
	req->conn = conn;
	req->batch = b;
	req->slot = slot;
	req->root = json_incref(obj);
	req->id = id;
	req->method = json_string_value(method);
	req->params = params;
	req->m = m;
	jr_conn_get(conn);
	atomic_fetch_add(&conn->outstanding, 1);
	if (conn->spawn) {
		rc = conn->spawn(jr_run, req);
		if (rc) {
			CAIRN_LOG_RATELIMIT(CAIRN_SS_TGT, CAIRN_LOG_ERR, 5,
					    "cannot start a ULT for %s: %s", req->method,
					    cairn_strerror(rc));
			cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INTERNAL_ERROR,
						 "cannot run method: %s", cairn_strerror(rc));
		}
		return;
	}
	jr_run(req);
}

int
jr_handle_value(struct jr_conn *conn, const char *text, size_t len)
{
	struct jr_batch *b;
	json_error_t jerr;
	json_t *root;
	size_t i, n;
	char msg[256];

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		snprintf(msg, sizeof(msg), "Parse error: %s (line %d, column %d)", jerr.text,
			 jerr.line, jerr.column);
		jr_reply_now(conn, NULL, 0, NULL, true, CAIRN_JSONRPC_ERROR_PARSE_ERROR, msg);
		return -CAIRN_ERR_PROTO;
	}
	if (!json_is_array(root)) {
		jr_handle_one(conn, root, NULL, 0);
		json_decref(root);
		return 0;
	}
	n = json_array_size(root);
	if (n == 0 || n > JR_MAX_BATCH) {
		jr_reply_now(conn, NULL, 0, NULL, true, CAIRN_JSONRPC_ERROR_INVALID_REQUEST,
			     n == 0 ? "Invalid request: empty batch" :
				      "Invalid request: batch has more than 1024 requests");
		json_decref(root);
		return 0;
	}
	b = calloc(1, sizeof(*b));
	if (b)
		b->slots = calloc(n, sizeof(*b->slots));
	if (b)
		b->lens = calloc(n, sizeof(*b->lens));
	if (b == NULL || b->slots == NULL || b->lens == NULL) {
		if (b) {
			free(b->slots);
			free(b->lens);
			free(b);
		}
		jr_reply_now(conn, NULL, 0, NULL, true, CAIRN_JSONRPC_ERROR_INTERNAL_ERROR,
			     "out of memory");
		json_decref(root);
		return 0;
	}
	b->conn = conn;
	b->n = (unsigned)n;
	/* One extra count held while dispatching so a fast answer cannot finish the batch
	 * before every element was handed out. */
	atomic_init(&b->remaining, (unsigned)n + 1);
	jr_conn_get(conn);
	for (i = 0; i < n; i++)
		jr_handle_one(conn, json_array_get(root, i), b, (unsigned)i);
	jr_batch_put(b);
	json_decref(root);
	return 0;
}
