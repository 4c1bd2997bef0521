/*
 * bdev JSON-RPC methods (SPDK names and params): bdev_malloc_create|delete,
 * bdev_null_create|delete, bdev_uring_create|delete, bdev_aio_create|delete,
 * bdev_error_create|delete, bdev_error_inject_error, bdev_get_bdevs, bdev_get_iostat;
 * and the "bdev" config writer for save_config.
 *
 * Handlers run in ULTs on the system xstream: deletions wait for the bdev layer's
 * callback by parking on an eventual.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uuid/uuid.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_TGT
#include "common/log.h"

#include "bdev/bdev.h"
#ifdef CAIRN_TGT_HAVE_CAIRN_BDEV
#include "bdev/bdev_cairn.h"
#endif
#include "rt/rt.h"

#include "app_internal.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Custom decoder: a UUID string into 16 bytes + a "present" flag in front. */
struct rpc_uuid {
	bool set;
	uint8_t bytes[16];
};

static int
decode_uuid(const json_t *v, void *out, char *err, size_t errlen)
{
	struct rpc_uuid *u = out;

	if (!json_is_string(v) || uuid_parse(json_string_value(v), u->bytes) != 0) {
		snprintf(err, errlen, "expected a UUID string like "
				      "\"5f9c1c2e-2d6a-4f7e-9b3c-1a2b3c4d5e6f\"");
		return -CAIRN_ERR_INVAL;
	}
	u->set = true;
	return 0;
}

static void
send_name(struct cairn_jsonrpc_request *req, struct cairn_bdev *bdev)
{
	struct cairn_json_write_ctx *w = cairn_jsonrpc_begin_result(req);

	if (w == NULL)
		return;
	cairn_json_write_string(w, cairn_bdev_name(bdev));
	cairn_jsonrpc_end_result(req, w);
}

/* ------------------------------------------------------------------ malloc / null */

struct create_mem_req {
	char *name;
	uint64_t num_blocks;
	uint32_t block_size;
	struct rpc_uuid uuid;
	uint32_t optimal_io_boundary;
};

static const struct cairn_json_decoder g_create_mem_dec[] = {
	{ "name", CAIRN_JSON_STRING, offsetof(struct create_mem_req, name), true },
	{ "num_blocks", CAIRN_JSON_UINT64, offsetof(struct create_mem_req, num_blocks), false },
	{ "block_size", CAIRN_JSON_UINT32, offsetof(struct create_mem_req, block_size), false },
	{ "uuid", CAIRN_JSON_CUSTOM, offsetof(struct create_mem_req, uuid), true, decode_uuid },
	{ "optimal_io_boundary", CAIRN_JSON_UINT32,
	  offsetof(struct create_mem_req, optimal_io_boundary), true },
};

static void
create_mem(struct cairn_jsonrpc_request *req, const json_t *params, bool is_malloc)
{
	struct create_mem_req r = { 0 };
	struct cairn_bdev *bdev = NULL;
	const uint8_t *uuid;
	size_t n = is_malloc ? NELEM(g_create_mem_dec) : NELEM(g_create_mem_dec) - 1;
	int rc;

	if (cairn_jsonrpc_decode_params(req, params, g_create_mem_dec, n, &r))
		return;
	uuid = r.uuid.set ? r.uuid.bytes : NULL;
	if (r.name == NULL && !is_malloc) {
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
					 "missing required param 'name'");
		goto out;
	}
	if (r.name == NULL) {
		/* SPDK names anonymous RAM disks MallocN: take the first free N. */
		char auto_name[CAIRN_BDEV_NAME_MAX];
		unsigned i;

		for (i = 0; i < 65536; i++) {
			snprintf(auto_name, sizeof(auto_name), "Malloc%u", i);
			if (cairn_bdev_get_by_name(auto_name) == NULL)
				break;
		}
		r.name = strdup(auto_name);
		if (r.name == NULL) {
			cairn_jsonrpc_send_rc(req, -CAIRN_ERR_NOMEM, NULL);
			goto out;
		}
	}
	if (is_malloc) {
		struct cairn_bdev_malloc_opts o = {
			.opts_size = sizeof(o),
			.name = r.name,
			.num_blocks = r.num_blocks,
			.block_size = r.block_size,
			.uuid = uuid,
			.optimal_io_boundary = r.optimal_io_boundary,
		};

		rc = cairn_bdev_malloc_create_ext(&o, &bdev);
	} else {
		rc = cairn_bdev_null_create(r.name, r.num_blocks, r.block_size, uuid, &bdev);
	}
	if (rc) {
		cairn_jsonrpc_send_error(req, rc == -CAIRN_ERR_INVAL ?
					 CAIRN_JSONRPC_ERROR_INVALID_PARAMS : rc,
					 "cannot create bdev '%.64s': %s%s", r.name,
					 cairn_strerror(rc),
					 rc == -CAIRN_ERR_INVAL ? " (name: [A-Za-z0-9_.:-]; "
					 "block_size: power of 2 in 512..65536; num_blocks > 0)" :
					 "");
	} else {
		send_name(req, bdev);
	}
out:
	cairn_json_decode_free(g_create_mem_dec, n, &r);
}

static void
rpc_bdev_malloc_create(struct cairn_jsonrpc_request *req, const json_t *params)
{
	create_mem(req, params, true);
}

static void
rpc_bdev_null_create(struct cairn_jsonrpc_request *req, const json_t *params)
{
	create_mem(req, params, false);
}

/* ------------------------------------------------------------------ file backed */

struct create_file_req {
	char *name;
	char *filename;
	uint32_t block_size;
	struct rpc_uuid uuid;
};

static const struct cairn_json_decoder g_create_file_dec[] = {
	{ "name", CAIRN_JSON_STRING, offsetof(struct create_file_req, name), false },
	{ "filename", CAIRN_JSON_STRING, offsetof(struct create_file_req, filename), false },
	{ "block_size", CAIRN_JSON_UINT32, offsetof(struct create_file_req, block_size), true },
	{ "uuid", CAIRN_JSON_CUSTOM, offsetof(struct create_file_req, uuid), true, decode_uuid },
};

static void
create_file(struct cairn_jsonrpc_request *req, const json_t *params, bool uring)
{
	struct create_file_req r = { 0 };
	struct cairn_bdev *bdev = NULL;
	const uint8_t *uuid;
	int rc;

	if (cairn_jsonrpc_decode_params(req, params, g_create_file_dec,
					NELEM(g_create_file_dec), &r))
		return;
	uuid = r.uuid.set ? r.uuid.bytes : NULL;
	if (uring)
		rc = cairn_bdev_uring_create(r.name, r.filename, r.block_size, uuid, &bdev);
	else
		rc = cairn_bdev_aio_create(r.name, r.filename, r.block_size, uuid, &bdev);
	if (rc)
		cairn_jsonrpc_send_error(req, rc == -CAIRN_ERR_INVAL ?
					 CAIRN_JSONRPC_ERROR_INVALID_PARAMS : rc,
					 "cannot create bdev '%.64s' on '%.200s': %s", r.name,
					 r.filename, cairn_strerror(rc));
	else
		send_name(req, bdev);
	cairn_json_decode_free(g_create_file_dec, NELEM(g_create_file_dec), &r);
}

static void
rpc_bdev_uring_create(struct cairn_jsonrpc_request *req, const json_t *params)
{
	create_file(req, params, true);
}

static void
rpc_bdev_aio_create(struct cairn_jsonrpc_request *req, const json_t *params)
{
	create_file(req, params, false);
}

/* ------------------------------------------------------------------ error bdev */

struct error_create_req {
	char *base_name;
	struct rpc_uuid uuid;
};

static const struct cairn_json_decoder g_error_create_dec[] = {
	{ "base_name", CAIRN_JSON_STRING, offsetof(struct error_create_req, base_name), false },
	{ "uuid", CAIRN_JSON_CUSTOM, offsetof(struct error_create_req, uuid), true, decode_uuid },
};

static void
rpc_bdev_error_create(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct error_create_req r = { 0 };
	struct cairn_bdev *bdev = NULL;
	int rc;

	if (cairn_jsonrpc_decode_params(req, params, g_error_create_dec, 2, &r))
		return;
	rc = cairn_bdev_error_create_uuid(r.base_name, r.uuid.set ? r.uuid.bytes : NULL, &bdev);
	if (rc)
		cairn_jsonrpc_send_error(req, rc == -CAIRN_ERR_INVAL ?
					 CAIRN_JSONRPC_ERROR_INVALID_PARAMS : rc,
					 "cannot create error bdev over '%.64s': %s", r.base_name,
					 cairn_strerror(rc));
	else
		send_name(req, bdev);
	cairn_json_decode_free(g_error_create_dec, 2, &r);
}

struct inject_req {
	char *name;
	char *io_type;
	char *error_type;
	uint32_t num;
	uint32_t skip;
	uint32_t rate_ppm;
};

static const struct cairn_json_decoder g_inject_dec[] = {
	{ "name", CAIRN_JSON_STRING, offsetof(struct inject_req, name), false },
	{ "io_type", CAIRN_JSON_STRING, offsetof(struct inject_req, io_type), false },
	{ "error_type", CAIRN_JSON_STRING, offsetof(struct inject_req, error_type), false },
	{ "num", CAIRN_JSON_UINT32, offsetof(struct inject_req, num), true },
	{ "skip", CAIRN_JSON_UINT32, offsetof(struct inject_req, skip), true },
	{ "rate_ppm", CAIRN_JSON_UINT32, offsetof(struct inject_req, rate_ppm), true },
};

/* SPDK: io_type in {read, write, flush, unmap, write_zeroes, all, clear};
 * error_type in {failure, corrupt_data}. */
static void
rpc_bdev_error_inject_error(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct inject_req r = { .num = 1 };
	struct cairn_bdev_error_opts o;
	int t, rc;

	if (cairn_jsonrpc_decode_params(req, params, g_inject_dec, NELEM(g_inject_dec), &r))
		return;
	cairn_bdev_error_opts_default(&o);
	if (strcmp(r.io_type, "clear") == 0) {
		rc = cairn_bdev_error_clear(r.name);
		goto reply;
	}
	if (strcmp(r.io_type, "all") == 0) {
		o.io_type_mask = 0;
	} else {
		for (t = 0; t < CAIRN_BDEV_IO_NTYPES; t++) {
			if (strcmp(r.io_type, cairn_bdev_io_type_name(t)) == 0)
				break;
		}
		if (t == CAIRN_BDEV_IO_NTYPES) {
			cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
						 "param 'io_type': expected read, write, flush, "
						 "unmap, write_zeroes, all or clear");
			goto out;
		}
		o.io_type_mask = 1u << t;
	}
	if (strcmp(r.error_type, "failure") == 0) {
		o.mode = CAIRN_BDEV_ERROR_FAIL;
	} else if (strcmp(r.error_type, "corrupt_data") == 0) {
		o.mode = CAIRN_BDEV_ERROR_CORRUPT;
	} else {
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
					 "param 'error_type': expected failure or corrupt_data");
		goto out;
	}
	o.count = r.num;
	o.skip = r.skip;
	o.rate_ppm = r.rate_ppm;
	rc = cairn_bdev_error_inject(r.name, &o);
reply:
	if (rc)
		cairn_jsonrpc_send_error(req, rc == -CAIRN_ERR_INVAL ?
					 CAIRN_JSONRPC_ERROR_INVALID_PARAMS : rc,
					 "cannot inject into '%.64s': %s", r.name,
					 cairn_strerror(rc));
	else
		cairn_jsonrpc_send_bool(req, true);
out:
	cairn_json_decode_free(g_inject_dec, NELEM(g_inject_dec), &r);
}

/* ------------------------------------------------------------------ deletes */

struct delete_req {
	char *name;
};

static const struct cairn_json_decoder g_delete_dec[] = {
	{ "name", CAIRN_JSON_STRING, offsetof(struct delete_req, name), false },
};

static void
delete_done(void *cb_arg, int rc)
{
	cairn_eventual_set(cb_arg, rc);
}

static void
bdev_delete(struct cairn_jsonrpc_request *req, const json_t *params,
	    int (*del)(const char *name, cairn_bdev_cb cb, void *cb_arg), const char *what)
{
	struct delete_req r = { 0 };
	struct cairn_eventual *ev = NULL;
	int rc;

	if (cairn_jsonrpc_decode_params(req, params, g_delete_dec, 1, &r))
		return;
	if (!cairn_in_ult()) {
		/* Handlers run in ULTs in cairn-tgt; anything else is a wiring bug. */
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INTERNAL_ERROR,
					 "%s must run in a ULT", what);
		goto out;
	}
	rc = cairn_eventual_create(&ev);
	if (rc == 0) {
		rc = del(r.name, delete_done, ev);
		if (rc == 0)
			rc = (int)cairn_eventual_wait(ev);
		cairn_eventual_destroy(ev);
	}
	if (rc)
		cairn_jsonrpc_send_error(req, rc, "cannot delete %s '%.64s': %s", what, r.name,
					 cairn_strerror(rc));
	else
		cairn_jsonrpc_send_bool(req, true);
out:
	cairn_json_decode_free(g_delete_dec, 1, &r);
}

static void
rpc_bdev_malloc_delete(struct cairn_jsonrpc_request *req, const json_t *params)
{
	bdev_delete(req, params, cairn_bdev_malloc_delete, "malloc bdev");
}

static void
rpc_bdev_null_delete(struct cairn_jsonrpc_request *req, const json_t *params)
{
	bdev_delete(req, params, cairn_bdev_null_delete, "null bdev");
}

static void
rpc_bdev_uring_delete(struct cairn_jsonrpc_request *req, const json_t *params)
{
	bdev_delete(req, params, cairn_bdev_uring_delete, "uring bdev");
}

static void
rpc_bdev_aio_delete(struct cairn_jsonrpc_request *req, const json_t *params)
{
	bdev_delete(req, params, cairn_bdev_aio_delete, "aio bdev");
}

static void
rpc_bdev_error_delete(struct cairn_jsonrpc_request *req, const json_t *params)
{
	bdev_delete(req, params, cairn_bdev_error_delete, "error bdev");
}

/* ------------------------------------------------------------------ listings */

struct get_req {
	char *name;
};

static const struct cairn_json_decoder g_get_dec[] = {
	{ "name", CAIRN_JSON_STRING, offsetof(struct get_req, name), true },
};

struct names_ctx {
	char **names;
	size_t n;
	size_t cap;
	int rc;
};

/* Runs under the bdev registry lock: only copy names (the describing functions take
 * locks of their own, so they run after the walk, each on a pinned bdev). */
static int
collect_name(struct cairn_bdev *bdev, void *arg)
{
	struct names_ctx *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		char **nn = realloc(c->names, cap * sizeof(*nn));

		if (nn == NULL)
			return c->rc = -CAIRN_ERR_NOMEM;
		c->names = nn;
		c->cap = cap;
	}
	c->names[c->n] = strdup(cairn_bdev_name(bdev));
	if (c->names[c->n] == NULL)
		return c->rc = -CAIRN_ERR_NOMEM;
	c->n++;
	return 0;
}

static void
pin_event(enum cairn_bdev_event_type type, struct cairn_bdev *bdev, void *ctx)
{
	/* The descriptor lives only for the duration of one listing; nothing to do. */
}

/* Describe one bdev by name into array. A bdev deleted meanwhile is skipped unless it
 * was asked for by name (must_exist). */
static int
describe(const char *name, bool stats, bool must_exist, json_t *array)
{
	struct cairn_bdev_desc *desc = NULL;
	json_t *j = NULL;
	int rc;

	rc = cairn_bdev_open(name, false, pin_event, NULL, &desc);
	if (rc)
		return (rc == -CAIRN_ERR_NONEXIST && !must_exist) ? 0 : rc;
	if (stats)
		rc = cairn_bdev_stats_json(cairn_bdev_desc_get_bdev(desc), &j);
	else
		rc = cairn_bdev_info_json(cairn_bdev_desc_get_bdev(desc), &j);
	cairn_bdev_close(desc);
	if (rc)
		return rc;
	return json_array_append_new(array, j) ? -CAIRN_ERR_NOMEM : 0;
}

static void
bdev_list(struct cairn_jsonrpc_request *req, const json_t *params, bool stats)
{
	struct get_req r = { 0 };
	struct names_ctx nc = { 0 };
	json_t *array, *result;
	size_t i;
	int rc = 0;

	if (cairn_jsonrpc_decode_params(req, params, g_get_dec, 1, &r))
		return;
	array = json_array();
	if (array == NULL) {
		cairn_jsonrpc_send_rc(req, -CAIRN_ERR_NOMEM, NULL);
		goto out;
	}
	if (r.name) {
		rc = describe(r.name, stats, true, array);
		if (rc) {
			json_decref(array);
			cairn_jsonrpc_send_error(req, rc == -CAIRN_ERR_NONEXIST ?
						 CAIRN_JSONRPC_ERROR_INVALID_PARAMS : rc,
						 "bdev '%.64s': %s", r.name, cairn_strerror(rc));
			goto out;
		}
	} else {
		rc = cairn_bdev_foreach(collect_name, &nc);
		if (rc == 0)
			rc = nc.rc;
		for (i = 0; rc == 0 && i < nc.n; i++)
			rc = describe(nc.names[i], stats, false, array);
	}
	if (rc) {
		json_decref(array);
		cairn_jsonrpc_send_rc(req, rc, stats ? "bdev_get_iostat" : "bdev_get_bdevs");
		goto out;
	}
	if (stats) {
		result = json_pack("{s:o, s:I}", "bdevs", array, "ticks",
				   (json_int_t)cairn_rt_now_us());
		if (result == NULL) {
			cairn_jsonrpc_send_rc(req, -CAIRN_ERR_NOMEM, NULL);
			goto out;
		}
	} else {
		result = array;
	}
	cairn_jsonrpc_send_json(req, result);
out:
	for (i = 0; i < nc.n; i++)
		free(nc.names[i]);
	free(nc.names);
	cairn_json_decode_free(g_get_dec, 1, &r);
}

static void
rpc_bdev_get_bdevs(struct cairn_jsonrpc_request *req, const json_t *params)
{
	bdev_list(req, params, false);
}

static void
rpc_bdev_get_iostat(struct cairn_jsonrpc_request *req, const json_t *params)
{
	bdev_list(req, params, true);
}

/* ------------------------------------------------------------------ save_config */

static int
bdev_config(struct cairn_json_write_ctx *w, void *arg)
{
	json_t *calls = json_array(), *v;
	size_t i;
	int rc;

	if (calls == NULL)
		return -CAIRN_ERR_NOMEM;
	rc = cairn_bdev_write_config_json(calls);
	json_array_foreach(calls, i, v) {
		if (rc == 0)
			rc = cairn_json_write_json(w, v);
	}
	json_decref(calls);
	return rc;
}

#ifdef CAIRN_TGT_HAVE_CAIRN_BDEV
/* ------------------------------------------------------------------ cairn volumes */

struct create_cairn_req {
	char *name;
	char *pool;
	char *container;
	char *sys;
	uint64_t size;
	uint32_t block_size;
	struct rpc_uuid uuid;
};

static const struct cairn_json_decoder g_create_cairn_dec[] = {
	{ "name", CAIRN_JSON_STRING, offsetof(struct create_cairn_req, name), false },
	{ "pool", CAIRN_JSON_STRING, offsetof(struct create_cairn_req, pool), false },
	{ "container", CAIRN_JSON_STRING, offsetof(struct create_cairn_req, container), false },
	{ "size", CAIRN_JSON_UINT64, offsetof(struct create_cairn_req, size), false },
	{ "block_size", CAIRN_JSON_UINT32, offsetof(struct create_cairn_req, block_size), true },
	{ "sys", CAIRN_JSON_STRING, offsetof(struct create_cairn_req, sys), true },
	{ "uuid", CAIRN_JSON_CUSTOM, offsetof(struct create_cairn_req, uuid), true, decode_uuid },
};

/* Synchronous libcairn calls in this system-xstream ULT: libcairn's network runs on the
 * helper xstream (cli_net.c embedded mode), so waiting here does not block it. */
static void
rpc_bdev_cairn_create(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct create_cairn_req r = { .block_size = 4096 };
	struct cairn_bdev *bdev = NULL;
	int rc;

	if (cairn_jsonrpc_decode_params(req, params, g_create_cairn_dec,
					NELEM(g_create_cairn_dec), &r))
		return;
	struct cairn_bdev_cairn_opts o = {
		.opts_size = sizeof(o),
		.name = r.name,
		.pool = r.pool,
		.cont = r.container,
		.sys = r.sys,
		.size = r.size,
		.block_size = r.block_size,
		.uuid = r.uuid.set ? r.uuid.bytes : NULL,
	};

	rc = cairn_bdev_cairn_create(&o, &bdev);
	if (rc)
		cairn_jsonrpc_send_error(req, rc == -CAIRN_ERR_INVAL ?
					 CAIRN_JSONRPC_ERROR_INVALID_PARAMS : rc,
					 "cannot create cairn bdev '%.64s' on pool '%.64s' container "
					 "'%.64s': %s%s", r.name, r.pool, r.container,
					 cairn_strerror(rc),
					 rc == -CAIRN_ERR_INVAL ? " (size: a multiple of block_size; "
					 "block_size: power of 2 in 512..65536; the system URI: sys or "
					 "$CAIRN_SYSTEM_URI)" : "");
	else
		send_name(req, bdev);
	cairn_json_decode_free(g_create_cairn_dec, NELEM(g_create_cairn_dec), &r);
}

static void
rpc_bdev_cairn_delete(struct cairn_jsonrpc_request *req, const json_t *params)
{
	bdev_delete(req, params, cairn_bdev_cairn_delete, "cairn bdev");
}
#endif

#define BOTH (CAIRN_RPC_STARTUP | CAIRN_RPC_RUNTIME)

static const struct cairn_jsonrpc_method g_bdev_methods[] = {
	{ "bdev_malloc_create", rpc_bdev_malloc_create, BOTH, "create a RAM disk" },
	{ "bdev_malloc_delete", rpc_bdev_malloc_delete, BOTH, "delete a RAM disk" },
	{ "bdev_null_create", rpc_bdev_null_create, BOTH, "create a null bdev" },
	{ "bdev_null_delete", rpc_bdev_null_delete, BOTH, "delete a null bdev" },
	{ "bdev_uring_create", rpc_bdev_uring_create, BOTH, "file/device bdev via io_uring" },
	{ "bdev_uring_delete", rpc_bdev_uring_delete, BOTH, "delete a uring bdev" },
	{ "bdev_aio_create", rpc_bdev_aio_create, BOTH, "file/device bdev via Linux AIO" },
	{ "bdev_aio_delete", rpc_bdev_aio_delete, BOTH, "delete an aio bdev" },
	{ "bdev_error_create", rpc_bdev_error_create, BOTH, "error-injection bdev over a base" },
	{ "bdev_error_delete", rpc_bdev_error_delete, BOTH, "delete an error bdev" },
	{ "bdev_error_inject_error", rpc_bdev_error_inject_error, BOTH,
	  "inject failures or corruption into an error bdev" },
	{ "bdev_get_bdevs", rpc_bdev_get_bdevs, BOTH, "describe bdevs" },
	{ "bdev_get_iostat", rpc_bdev_get_iostat, BOTH, "bdev I/O statistics" },
#ifdef CAIRN_TGT_HAVE_CAIRN_BDEV
	{ "bdev_cairn_create", rpc_bdev_cairn_create, BOTH,
	  "volume stored as a Cairn array (pool, container, size)" },
	{ "bdev_cairn_delete", rpc_bdev_cairn_delete, BOTH, "delete a cairn bdev (data kept)" },
#endif
};

int
tgt_bdev_rpc_register(void)
{
	int rc = cairn_jsonrpc_register_methods(g_bdev_methods, NELEM(g_bdev_methods));

	if (rc)
		return rc;
	rc = cairn_jsonrpc_register_config("bdev", 10, bdev_config, NULL);
	if (rc)
		cairn_jsonrpc_unregister_methods(g_bdev_methods, NELEM(g_bdev_methods));
	return rc;
}

void
tgt_bdev_rpc_unregister(void)
{
	cairn_jsonrpc_unregister_config("bdev");
	cairn_jsonrpc_unregister_methods(g_bdev_methods, NELEM(g_bdev_methods));
}
