/*
 * Fuzz the JSON-RPC request path: the stream scanner frames the input into values the
 * way a connection would (any split), each value goes through parsing, validation,
 * method lookup, params decoding and reply building. Methods are registered so valid
 * requests reach decoders and writers. Replies must themselves be valid JSON.
 *
 * Run: build-<you>-fuzz/fuzz/fuzz_jsonrpc_request -max_total_time=60 [corpus_dir]
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#include "jsonrpc/jsonrpc.h"
#include "jsonrpc_internal.h"

struct fz_req {
	char *name;
	uint64_t num_blocks;
	uint32_t block_size;
	int32_t i32;
	uint16_t port;
	bool flag;
	double d;
	json_t *obj;
	json_t *arr;
	json_t *any;
};

static const struct cairn_json_decoder g_fz_dec[] = {
	{ "name", CAIRN_JSON_STRING, offsetof(struct fz_req, name), false },
	{ "num_blocks", CAIRN_JSON_UINT64, offsetof(struct fz_req, num_blocks), true },
	{ "block_size", CAIRN_JSON_UINT32, offsetof(struct fz_req, block_size), true },
	{ "i32", CAIRN_JSON_INT32, offsetof(struct fz_req, i32), true },
	{ "port", CAIRN_JSON_UINT16, offsetof(struct fz_req, port), true },
	{ "flag", CAIRN_JSON_BOOL, offsetof(struct fz_req, flag), true },
	{ "d", CAIRN_JSON_DOUBLE, offsetof(struct fz_req, d), true },
	{ "obj", CAIRN_JSON_OBJECT, offsetof(struct fz_req, obj), true },
	{ "arr", CAIRN_JSON_ARRAY, offsetof(struct fz_req, arr), true },
	{ "any", CAIRN_JSON_ANY, offsetof(struct fz_req, any), true },
};

static void
fz_create(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct fz_req r = { 0 };
	struct cairn_json_write_ctx *w;

	if (cairn_jsonrpc_decode_params(req, params, g_fz_dec, 10, &r))
		return;
	w = cairn_jsonrpc_begin_result(req);
	if (w) {
		cairn_json_write_object_begin(w);
		cairn_json_write_named_string(w, "name", r.name);
		cairn_json_write_named_uint64(w, "num_blocks", r.num_blocks);
		cairn_json_write_named_double(w, "d", r.d);
		cairn_json_write_named_json(w, "any", r.any);
		cairn_json_write_object_end(w);
		cairn_jsonrpc_end_result(req, w);
	}
	cairn_json_decode_free(g_fz_dec, 10, &r);
}

static void
fz_echo(struct cairn_jsonrpc_request *req, const json_t *params)
{
	cairn_jsonrpc_send_json(req, params ? json_deep_copy(params) : json_null());
}

static void
fz_fail(struct cairn_jsonrpc_request *req, const json_t *params)
{
	cairn_jsonrpc_send_rc(req, -CAIRN_ERR_NONEXIST, "thing");
}

static const struct cairn_jsonrpc_method g_fz_methods[] = {
	{ "bdev_malloc_create", fz_create, CAIRN_RPC_RUNTIME, NULL },
	{ "echo", fz_echo, CAIRN_RPC_RUNTIME, NULL },
	{ "fail", fz_fail, CAIRN_RPC_RUNTIME, NULL },
	{ "startup_only", fz_echo, CAIRN_RPC_STARTUP, NULL },
};

static void
fz_sink(void *arg, const char *text, size_t len)
{
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY, NULL);

	/* Every reply we produce must be valid JSON. */
	if (v == NULL)
		abort();
	json_decref(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int registered;
	struct jr_scanner sc;
	struct jr_conn *c;
	size_t start, end, off = 0;

	if (!registered) {
		cairn_jsonrpc_register_methods(g_fz_methods, 4);
		registered = 1;
	}
	c = jr_conn_detached(fz_sink, NULL);
	if (c == NULL)
		return 0;
	jr_scan_reset(&sc);
	while (off < size) {
		enum jr_scan_result r = jr_scan(&sc, (const char *)data + off, size - off, &start,
						&end);

		if (r != JR_SCAN_COMPLETE)
			break;
		if (jr_handle_value(c, (const char *)data + off + start, end - start) != 0)
			break; /* parse error: the server closes the connection here */
		off += end;
		jr_scan_reset(&sc);
	}
	jr_conn_detached_free(c);
	return 0;
}
