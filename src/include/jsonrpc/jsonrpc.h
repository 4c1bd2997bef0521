/*
 * JSON-RPC 2.0 server library (cairn-tgt management plane; SPDK rpc.py compatible).
 *
 * Three parts:
 *  1. A process-wide METHOD REGISTRY: modules register explicit tables of
 *     struct cairn_jsonrpc_method (no constructors, so static linking needs no tricks).
 *     Each method has a state mask: STARTUP methods may run while the --json config is
 *     being replayed, RUNTIME methods once the app is up (most methods allow both).
 *  2. A SERVER: Unix socket (and optional TCP on 127.0.0.1) listener. The owner calls
 *     cairn_jsonrpc_server_poll() from a poller on the system xstream (cairn-tgt does)
 *     or from a plain thread (tests). Framing: a stream of JSON values, concatenated or
 *     newline-delimited; a value is an object (one request) or an array (a batch).
 *     Errors: -32700 parse error (the connection is closed after the reply, since the
 *     stream cannot be resynchronised), -32600 invalid request, -32601 method not
 *     found, -32602 invalid params (the message names the param), -32603 internal,
 *     -32001 method not allowed in the current state. See src/jsonrpc/README.md.
 *  3. Helpers for handlers: a params DECODE TABLE (name, type, offset, optional) and a
 *     streaming JSON WRITER for results.
 *
 * Threads: the registries are mutex-protected (any thread). Handlers run on the thread
 * that polls the server, through the server's spawn hook: cairn-tgt runs each request in
 * its own ULT on the system xstream, so a handler may wait by yielding
 * (cairn_eventual_wait). A handler answers EXACTLY ONCE, either before returning or
 * later from any thread (after an async callback); the answer frees the request, so
 * neither req nor params may be touched after it.
 * Notifications (requests without "id") are run but get no reply; the handler still
 * calls a send function (it is discarded).
 *
 * Errors are 0 / negative CAIRN_ERR_* (include/cairn/errno.h).
 * Link with the CMake target `cairn_jsonrpc` (static library; brings jansson).
 */
#ifndef CAIRN_JSONRPC_JSONRPC_H
#define CAIRN_JSONRPC_JSONRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* ------------------------------------------------------------------ error codes */

#define CAIRN_JSONRPC_ERROR_PARSE_ERROR      (-32700)
#define CAIRN_JSONRPC_ERROR_INVALID_REQUEST  (-32600)
#define CAIRN_JSONRPC_ERROR_METHOD_NOT_FOUND (-32601)
#define CAIRN_JSONRPC_ERROR_INVALID_PARAMS   (-32602)
#define CAIRN_JSONRPC_ERROR_INTERNAL_ERROR   (-32603)
/* Server-defined range: method exists but is not allowed in the current state. */
#define CAIRN_JSONRPC_ERROR_INVALID_STATE    (-32001)

/* ------------------------------------------------------------------ JSON writer */

/*
 * Streaming writer producing compact JSON into a growable buffer. Inside an object,
 * write a name before each value, or use the cairn_json_write_named_*() helpers.
 * Misuse (value without a name inside an object, unbalanced end) is recorded and makes
 * cairn_json_write_end() fail with -CAIRN_ERR_INVAL; allocation failure with
 * -CAIRN_ERR_NOMEM. Functions return 0 or the first recorded error. Not thread-safe:
 * one writer, one thread at a time.
 */
struct cairn_json_write_ctx;

/* Standalone writer (for config files, tests). Pretty-prints with indent > 0. */
struct cairn_json_write_ctx *cairn_json_write_begin(unsigned indent);
/* Finish: on success *out is a NUL-terminated malloc'd string (caller frees) and *len
 * its length. The writer is freed in every case. */
int cairn_json_write_end(struct cairn_json_write_ctx *w, char **out, size_t *len);

int cairn_json_write_object_begin(struct cairn_json_write_ctx *w);
int cairn_json_write_object_end(struct cairn_json_write_ctx *w);
int cairn_json_write_array_begin(struct cairn_json_write_ctx *w);
int cairn_json_write_array_end(struct cairn_json_write_ctx *w);
int cairn_json_write_name(struct cairn_json_write_ctx *w, const char *name);
int cairn_json_write_string(struct cairn_json_write_ctx *w, const char *s); /* NULL -> null */
int cairn_json_write_string_fmt(struct cairn_json_write_ctx *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cairn_json_write_int64(struct cairn_json_write_ctx *w, int64_t v);
int cairn_json_write_uint64(struct cairn_json_write_ctx *w, uint64_t v);
int cairn_json_write_double(struct cairn_json_write_ctx *w, double v);
int cairn_json_write_bool(struct cairn_json_write_ctx *w, bool v);
int cairn_json_write_null(struct cairn_json_write_ctx *w);
/* Write a jansson value (any type) as the next value. */
int cairn_json_write_json(struct cairn_json_write_ctx *w, const json_t *v);

int cairn_json_write_named_object_begin(struct cairn_json_write_ctx *w, const char *name);
int cairn_json_write_named_array_begin(struct cairn_json_write_ctx *w, const char *name);
int cairn_json_write_named_string(struct cairn_json_write_ctx *w, const char *name,
				  const char *s);
int cairn_json_write_named_string_fmt(struct cairn_json_write_ctx *w, const char *name,
				      const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cairn_json_write_named_int64(struct cairn_json_write_ctx *w, const char *name, int64_t v);
int cairn_json_write_named_uint64(struct cairn_json_write_ctx *w, const char *name, uint64_t v);
int cairn_json_write_named_double(struct cairn_json_write_ctx *w, const char *name, double v);
int cairn_json_write_named_bool(struct cairn_json_write_ctx *w, const char *name, bool v);
int cairn_json_write_named_null(struct cairn_json_write_ctx *w, const char *name);
int cairn_json_write_named_json(struct cairn_json_write_ctx *w, const char *name,
				const json_t *v);

/* ------------------------------------------------------------------ params decoding */

enum cairn_json_type {
	CAIRN_JSON_STRING = 1, /* char *: malloc'd copy (free with cairn_json_decode_free) */
	CAIRN_JSON_BOOL,       /* bool */
	CAIRN_JSON_INT32,      /* int32_t, range-checked */
	CAIRN_JSON_UINT32,     /* uint32_t, range-checked, negative rejected */
	CAIRN_JSON_INT64,      /* int64_t */
	CAIRN_JSON_UINT64,     /* uint64_t, negative rejected */
	CAIRN_JSON_UINT16,     /* uint16_t, range-checked */
	CAIRN_JSON_DOUBLE,     /* double (integers accepted) */
	CAIRN_JSON_OBJECT,     /* json_t *: new reference to an object */
	CAIRN_JSON_ARRAY,      /* json_t *: new reference to an array */
	CAIRN_JSON_ANY,        /* json_t *: new reference to any value */
	CAIRN_JSON_CUSTOM,     /* decode(value, field_ptr, err, errlen) */
};

/* Custom decoder: fill *out from val; on failure write a reason (without the param name,
 * which the caller prepends) to err and return -CAIRN_ERR_INVAL. */
typedef int (*cairn_json_decode_fn)(const json_t *val, void *out, char *err, size_t errlen);

struct cairn_json_decoder {
	const char *name;           /* key in the params object */
	enum cairn_json_type type;
	size_t offset;              /* offsetof(struct my_req, field) */
	bool optional;              /* missing keys keep the field's prior value (STRING and
				     * json_t * fields must start NULL or own heap memory) */
	cairn_json_decode_fn decode;/* CAIRN_JSON_CUSTOM only */
	void (*free_fn)(void *field);/* CAIRN_JSON_CUSTOM only, optional: releases *field */
};

/*
 * Decode a params object through a table into `out` (a struct whose fields the table
 * points at). Unknown keys, missing required keys, wrong types and out-of-range numbers
 * fail with -CAIRN_ERR_INVAL and a message naming the param in err (e.g. "param
 * 'block_size': expected an unsigned 32-bit integer, got string"). params may be NULL
 * (treated as an empty object). On failure, fields already decoded are released.
 */
int cairn_json_decode_object(const json_t *params, const struct cairn_json_decoder *table,
			     size_t n, void *out, char *err, size_t errlen);
/* Release what decoding allocated (strings, json refs, custom free_fn); sets them NULL. */
void cairn_json_decode_free(const struct cairn_json_decoder *table, size_t n, void *out);

/* ------------------------------------------------------------------ requests and methods */

struct cairn_jsonrpc_request;

/* params: the request's "params" value (object or array) or NULL when absent. Valid until
 * the request is answered. */
typedef void (*cairn_jsonrpc_handler_fn)(struct cairn_jsonrpc_request *req,
					 const json_t *params);

#define CAIRN_RPC_STARTUP 0x1u /* allowed while the --json config is replayed */
#define CAIRN_RPC_RUNTIME 0x2u /* allowed once the application runs */

struct cairn_jsonrpc_method {
	const char *name;                 /* noun_verb, e.g. "bdev_malloc_create" */
	cairn_jsonrpc_handler_fn handler;
	uint32_t state_mask;              /* CAIRN_RPC_STARTUP | CAIRN_RPC_RUNTIME */
	const char *summary;              /* one line for rpc_get_methods --verbose; may be NULL */
};

/* Register a table (pointer kept: the table must outlive the registry, i.e. be static).
 * Duplicate names -> -CAIRN_ERR_EXIST and nothing from the table is registered. */
int cairn_jsonrpc_register_methods(const struct cairn_jsonrpc_method *table, size_t n);
/* Remove every method of a table previously registered (no-op for unknown entries). */
void cairn_jsonrpc_unregister_methods(const struct cairn_jsonrpc_method *table, size_t n);
/* Look a method up (NULL if unknown). */
const struct cairn_jsonrpc_method *cairn_jsonrpc_find_method(const char *name);
/* Iterate: call fn for each registered method, in name order. */
void cairn_jsonrpc_foreach_method(void (*fn)(const struct cairn_jsonrpc_method *m, void *arg),
				  void *arg);
/* Current state (one of CAIRN_RPC_STARTUP / CAIRN_RPC_RUNTIME; default RUNTIME). */
void cairn_jsonrpc_set_state(uint32_t state);
uint32_t cairn_jsonrpc_get_state(void);

/* ------------------------------------------------------------------ answering */

/* Start a result: returns a writer positioned where the "result" value goes; write
 * exactly one value, then call cairn_jsonrpc_end_result(). Returns NULL on allocation
 * failure (the request is then answered with -32603 and must not be touched again). */
struct cairn_json_write_ctx *cairn_jsonrpc_begin_result(struct cairn_jsonrpc_request *req);
void cairn_jsonrpc_end_result(struct cairn_jsonrpc_request *req, struct cairn_json_write_ctx *w);
/* Shorthands: result true/false, or a jansson value (reference stolen). */
void cairn_jsonrpc_send_bool(struct cairn_jsonrpc_request *req, bool value);
void cairn_jsonrpc_send_json(struct cairn_jsonrpc_request *req, json_t *result);
/* Error reply with a JSON-RPC code and a message. */
void cairn_jsonrpc_send_error(struct cairn_jsonrpc_request *req, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Error reply from a Cairn rc: -CAIRN_ERR_INVAL -> -32602, others keep rc as the code;
 * message "<prefix>: <cairn_strerror(rc)>" (prefix may be NULL). */
void cairn_jsonrpc_send_rc(struct cairn_jsonrpc_request *req, int rc, const char *prefix);

/*
 * Decode params through a table; on failure answers the request with -32602 and the
 * message naming the param, and returns -CAIRN_ERR_INVAL (the handler just returns).
 * Positional (array) params are rejected: Cairn methods take named params.
 */
int cairn_jsonrpc_decode_params(struct cairn_jsonrpc_request *req, const json_t *params,
				const struct cairn_json_decoder *table, size_t n, void *out);

/* The request's method name (valid until answered). */
const char *cairn_jsonrpc_request_method(const struct cairn_jsonrpc_request *req);

/* ------------------------------------------------------------------ server */

#define CAIRN_JSONRPC_DEFAULT_SOCK       "/var/tmp/cairn-tgt.sock"
#define CAIRN_JSONRPC_DEFAULT_MAX_REQ    (1u << 20)  /* bytes of one request value */
#define CAIRN_JSONRPC_DEFAULT_MAX_CONNS  64
#define CAIRN_JSONRPC_MAX_DEPTH          64          /* nesting limit of a request */

struct cairn_jsonrpc_server_opts {
	size_t opts_size;        /* sizeof(struct cairn_jsonrpc_server_opts) */
	const char *unix_path;   /* NULL: no Unix listener */
	const char *tcp_addr;    /* "127.0.0.1:5260" or NULL: no TCP listener */
	size_t max_request_size; /* default CAIRN_JSONRPC_DEFAULT_MAX_REQ */
	unsigned max_conns;      /* default CAIRN_JSONRPC_DEFAULT_MAX_CONNS; extra accepts
				  * are closed at once */
	/* How to run a request's handler. NULL: inline, in the poll call. cairn-tgt passes a
	 * function that starts a ULT on the current xstream so handlers may yield; it returns
	 * 0 or a negative error (the request is then answered with -32603). */
	int (*spawn)(void (*fn)(void *arg), void *arg);
};

struct cairn_jsonrpc_server;

void cairn_jsonrpc_server_opts_default(struct cairn_jsonrpc_server_opts *opts);
/*
 * Create the listeners. A stale Unix socket file (nobody listening) is replaced; a live
 * one gives -CAIRN_ERR_BUSY ("another process serves <path>"). At least one listener is
 * required (-CAIRN_ERR_INVAL). Any thread; the server is then owned by the thread that
 * polls it.
 */
int cairn_jsonrpc_server_start(const struct cairn_jsonrpc_server_opts *opts,
			       struct cairn_jsonrpc_server **out);
/* Accept, read, dispatch, write. Never blocks. Returns > 0 when work was done (poller
 * convention). Owning thread only. */
int cairn_jsonrpc_server_poll(struct cairn_jsonrpc_server *srv);
/* An epoll fd that becomes readable when the server has work (a new connection, client
 * input, or a reply queued by another thread): add it to the owner's idle wake set
 * (cairn_rt_wake_fd_add) so a sleeping xstream wakes up for it. */
int cairn_jsonrpc_server_fd(const struct cairn_jsonrpc_server *srv);
/* Close listeners and connections, unlink the Unix socket. Requests still being handled
 * keep their memory until answered (answers are then dropped). Owning thread. */
void cairn_jsonrpc_server_stop(struct cairn_jsonrpc_server *srv);
/* Number of open client connections (tests, stats). */
unsigned cairn_jsonrpc_server_nr_conns(const struct cairn_jsonrpc_server *srv);
/* The TCP listener's port (useful with port 0), or -CAIRN_ERR_NONEXIST without one. */
int cairn_jsonrpc_server_tcp_port(const struct cairn_jsonrpc_server *srv);

/* ------------------------------------------------------------------ config dump (save_config) */

/*
 * Subsystems (bdev, iscsi, ...) register a config writer: it writes, as ARRAY ELEMENTS
 * into w, the replayable calls that recreate its live state, each an object
 * {"method": "...", "params": {...}}. save_config emits
 *   {"subsystems": [{"subsystem": name, "config": [ ...calls... ]}, ...]}
 * in ascending `order` (bdev 10 before iscsi 20), the format --json reloads.
 * Runs on the server's thread (system xstream in cairn-tgt).
 */
typedef int (*cairn_jsonrpc_config_fn)(struct cairn_json_write_ctx *w, void *arg);
int cairn_jsonrpc_register_config(const char *subsystem, unsigned order,
				  cairn_jsonrpc_config_fn fn, void *arg);
void cairn_jsonrpc_unregister_config(const char *subsystem);
/* Write the whole {"subsystems": [...]} document (used by save_config). */
int cairn_jsonrpc_write_config(struct cairn_json_write_ctx *w);

#endif /* CAIRN_JSONRPC_JSONRPC_H */
