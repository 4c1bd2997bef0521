/*
 * The management API: JSON-RPC 2.0 methods served by cairn-server (on its Unix socket
 * and on 127.0.0.1:<port>) for cairnctl: system_query, system_stop, system_start,
 * storage_query, storage_format. Handlers run inline on the server's main thread.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_MGMT
#include "common/log.h"
#include "jsonrpc/jsonrpc.h"

#include "control_internal.h"

static struct ctl_system *g_sys;

struct ranks_req {
	json_t *ranks;
	bool force;
};

static const struct cairn_json_decoder g_ranks_dec[] = {
        {"ranks", CAIRN_JSON_ARRAY, offsetof(struct ranks_req, ranks), true},
        {"force", CAIRN_JSON_BOOL, offsetof(struct ranks_req, force), true},
};
#define NR_RANKS_DEC (sizeof(g_ranks_dec) / sizeof(g_ranks_dec[0]))

/* Decode {ranks?: [..], force?: bool} into an engine mask; answers the request and
 * returns non-zero on bad params. allow_force: whether "force" is a valid key. */
static int
decode_ranks(struct cairn_jsonrpc_request *req, const json_t *params, bool allow_force,
             uint32_t *mask, bool *force)
{
	struct ranks_req r = {0};
	size_t i, j;
	json_t *v;

	if (cairn_jsonrpc_decode_params(req, params, g_ranks_dec, allow_force ? NR_RANKS_DEC : 1,
	                                &r))
		return -CAIRN_ERR_INVAL;
	*force = r.force;
	if (r.ranks == NULL) {
		*mask = (1u << g_sys->nr_engines) - 1;
		return 0;
	}
	*mask = 0;
	json_array_foreach(r.ranks, i, v)
	{
		json_int_t rank = json_is_integer(v) ? json_integer_value(v) : -1;

		for (j = 0; j < g_sys->nr_engines; j++)
			if ((json_int_t)g_sys->engines[j].rank == rank)
				break;
		if (j == g_sys->nr_engines) {
			cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
			                         "param 'ranks': element %zu is not a rank of this "
			                         "server (ranks 0..%u)",
			                         i, g_sys->nr_engines - 1);
			json_decref(r.ranks);
			return -CAIRN_ERR_INVAL;
		}
		*mask |= 1u << j;
	}
	json_decref(r.ranks);
	return 0;
}

static void
api_system_query(struct cairn_jsonrpc_request *req, const json_t *params)
{
	uint32_t mask;
	bool force;
	json_t *res;

	if (decode_ranks(req, params, false, &mask, &force))
		return;
	res = ctl_system_query_json(g_sys, mask);
	if (res == NULL) {
		cairn_jsonrpc_send_rc(req, -CAIRN_ERR_NOMEM, "system_query");
		return;
	}
	if (params == NULL || json_object_get(params, "ranks") == NULL)
		ctl_ms_query_json(g_sys, json_object_get(res, "ranks")); /* other servers' */
	cairn_jsonrpc_send_json(req, res);
}

static void
api_system_stop(struct cairn_jsonrpc_request *req, const json_t *params)
{
	uint32_t mask;
	bool force;
	json_t *res;

	if (decode_ranks(req, params, true, &mask, &force))
		return;
	CAIRN_NOTE("system_stop: ranks mask 0x%x%s", mask, force ? " (force)" : "");
	ctl_system_stop(g_sys, mask, force);
	res = ctl_system_query_json(g_sys, mask);
	if (res == NULL) {
		cairn_jsonrpc_send_rc(req, -CAIRN_ERR_NOMEM, "system_stop");
		return;
	}
	cairn_jsonrpc_send_json(req, res);
}

static void
api_system_start(struct cairn_jsonrpc_request *req, const json_t *params)
{
	uint32_t mask;
	bool force;
	json_t *res;

	if (decode_ranks(req, params, false, &mask, &force))
		return;
	if (!g_sys->formatted) {
		cairn_jsonrpc_send_error(req, -CAIRN_ERR_NONEXIST,
		                         "storage is not formatted: "
		                         "run `cairnctl storage format` first");
		return;
	}
	CAIRN_NOTE("system_start: ranks mask 0x%x", mask);
	ctl_system_start(g_sys, mask);
	ctl_system_wait_joined(g_sys, mask, 15000);
	res = ctl_system_query_json(g_sys, mask);
	if (res == NULL) {
		cairn_jsonrpc_send_rc(req, -CAIRN_ERR_NOMEM, "system_start");
		return;
	}
	cairn_jsonrpc_send_json(req, res);
}

static void
api_storage_query(struct cairn_jsonrpc_request *req, const json_t *params)
{
	json_t *res;

	if (cairn_jsonrpc_decode_params(req, params, NULL, 0, NULL))
		return;
	res = ctl_storage_query_json(g_sys->cfg);
	if (res == NULL) {
		cairn_jsonrpc_send_rc(req, -CAIRN_ERR_NOMEM, "storage_query");
		return;
	}
	cairn_jsonrpc_send_json(req, res);
}

struct format_req {
	bool force;
};

static const struct cairn_json_decoder g_format_dec[] = {
        {"force", CAIRN_JSON_BOOL, offsetof(struct format_req, force), true},
};

static void
api_storage_format(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct format_req r = {0};
	struct cairn_uuid uuid;
	char err[512], us[CAIRN_UUID_STR_LEN];
	json_t *res;
	int rc;

	if (cairn_jsonrpc_decode_params(req, params, g_format_dec, 1, &r))
		return;
	if (ctl_system_any_running(g_sys)) {
		cairn_jsonrpc_send_error(req, -CAIRN_ERR_BUSY,
		                         "engines are running: stop them "
		                         "first (cairnctl system stop)");
		return;
	}
	rc = ctl_storage_format(g_sys->cfg, r.force, &uuid, err, sizeof(err));
	if (rc) {
		cairn_jsonrpc_send_error(req, rc, "%s", err);
		return;
	}
	ctl_system_refresh_storage(g_sys);
	cairn_uuid_unparse(&uuid, us);
	CAIRN_NOTE("storage formatted: system %s uuid %s", g_sys->cfg->name, us);
	/* Engines that want to run (all, on a first format) start now. */
	ctl_system_tick(g_sys);
	res = ctl_storage_query_json(g_sys->cfg);
	if (res == NULL) {
		cairn_jsonrpc_send_rc(req, -CAIRN_ERR_NOMEM, "storage_format");
		return;
	}
	json_object_set_new(res, "system_uuid", json_string(us));
	cairn_jsonrpc_send_json(req, res);
}

static const struct cairn_jsonrpc_method g_ctl_methods[] = {
        {"system_query", api_system_query, CAIRN_RPC_RUNTIME,
         "ranks with their state (joined, stopped, excluded, ...)"},
        {"system_stop", api_system_stop, CAIRN_RPC_RUNTIME,
         "stop engines cleanly (force: SIGKILL); they are not restarted"},
        {"system_start", api_system_start, CAIRN_RPC_RUNTIME,
         "start stopped or excluded engines and wait for them to join"},
        {"storage_query", api_storage_query, CAIRN_RPC_RUNTIME,
         "superblocks, target files and free space of every engine's storage"},
        {"storage_format", api_storage_format, CAIRN_RPC_RUNTIME,
         "format every engine's storage (force: reformat, destroying data)"},
};

int
ctl_api_register(struct ctl_system *sys)
{
	int rc;

	g_sys = sys;
	rc = cairn_jsonrpc_register_methods(g_ctl_methods,
	                                    sizeof(g_ctl_methods) / sizeof(g_ctl_methods[0]));
	if (rc == 0) {
		rc = ctl_pool_api_register(sys);
		if (rc == 0) {
			rc = ctl_ms_api_register(sys);
			if (rc)
				ctl_pool_api_unregister();
		}
		if (rc)
			cairn_jsonrpc_unregister_methods(
			        g_ctl_methods, sizeof(g_ctl_methods) / sizeof(g_ctl_methods[0]));
	}
	return rc;
}

void
ctl_api_unregister(void)
{
	ctl_ms_api_unregister();
	ctl_pool_api_unregister();
	cairn_jsonrpc_unregister_methods(g_ctl_methods,
	                                 sizeof(g_ctl_methods) / sizeof(g_ctl_methods[0]));
	g_sys = NULL;
}
