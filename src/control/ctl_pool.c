/*
 * Pool management methods of the JSON-RPC API (pool_create, pool_destroy, pool_list,
 * pool_get_prop, pool_set_prop, pool_get_acl, pool_update_acl, pool_delete_acl,
 * pool_query): validated here, then forwarded over dRPC to the pool service of the
 * first joined engine (src/engine/srv_pool.c), whose JSON reply is returned as is.
 * Handlers run inline on the server's main thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_MGMT
#include "common/log.h"
#include "common/units.h"
#include "drpc/drpc.h"
#include "engine/srv_api.h"
#include "jsonrpc/jsonrpc.h"

#include "control_internal.h"

#define POOL_DRPC_TIMEOUT_MS 60000

static struct ctl_system *g_psys;

/* The engine that runs the pool service: the system's lowest rank (engine 0), whose
 * metadata store holds the pool records. Not another joined rank when it is down: that
 * rank has no pool records and would answer as if there were no pools. */
static struct ctl_engine *
pool_svc_engine(void)
{
	if (g_psys->nr_engines > 0 && g_psys->engines[0].state == CTL_RANK_JOINED &&
	    g_psys->engines[0].drpc)
		return &g_psys->engines[0];
	return NULL;
}

/* Forward params (a JSON object, borrowed) to the engine and answer req with its reply. */
static void
pool_forward(struct cairn_jsonrpc_request *req, uint32_t method, const json_t *params,
             const char *what)
{
	struct cairn_drpc_response resp;
	struct ctl_engine *e = pool_svc_engine();
	json_error_t je;
	json_t *res;
	char *body;
	int rc;

	if (g_psys->is_node) {
		cairn_jsonrpc_send_error(req, -CAIRN_ERR_NOSYS,
		                         "%s: this server joined the system at %s; pools are "
		                         "managed there (cairnctl --host %s)",
		                         what, g_psys->cfg->access_points[0],
		                         g_psys->cfg->access_points[0]);
		return;
	}
	if (e == NULL) {
		cairn_jsonrpc_send_error(req, -CAIRN_ERR_UNREACH,
		                         "%s: the pool service's engine (rank %u) is not joined "
		                         "(check `cairnctl system query`; start it with "
		                         "`cairnctl system start`)",
		                         what, g_psys->nr_engines ? g_psys->engines[0].rank : 0);
		return;
	}
	body = json_dumps(params, JSON_COMPACT);
	if (body == NULL) {
		cairn_jsonrpc_send_rc(req, -CAIRN_ERR_NOMEM, what);
		return;
	}
	rc = cairn_drpc_client_call(e->drpc, CAIRN_DRPC_MODULE_POOL, method, body, strlen(body),
	                            POOL_DRPC_TIMEOUT_MS, &resp);
	free(body);
	if (rc) {
		cairn_jsonrpc_send_error(req, rc, "%s: engine rank %u did not answer: %s", what,
		                         e->rank, cairn_strerror(rc));
		return;
	}
	if (resp.status) {
		cairn_jsonrpc_send_error(req, resp.status, "%s: %.*s", what, (int)resp.body_len,
		                         resp.body_len ? (const char *)resp.body
		                                       : cairn_strerror(resp.status));
		cairn_drpc_response_release(&resp);
		return;
	}
	if (resp.body_len == 0) {
		res = json_object();
	} else {
		res = json_loadb((const char *)resp.body, resp.body_len, 0, &je);
		if (res == NULL)
			CAIRN_ERROR("%s: engine reply is not JSON: %s", what, je.text);
	}
	cairn_drpc_response_release(&resp);
	if (res == NULL) {
		cairn_jsonrpc_send_rc(req, -CAIRN_ERR_PROTO, what);
		return;
	}
	cairn_jsonrpc_send_json(req, res);
}

static bool
params_object(struct cairn_jsonrpc_request *req, const json_t *params, json_t **out)
{
	if (params == NULL || json_is_null(params)) {
		*out = json_object();
		return true;
	}
	if (!json_is_object(params)) {
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
		                         "params must be an object");
		return false;
	}
	*out = json_deep_copy(params);
	return true;
}

static void
api_pool_create(struct cairn_jsonrpc_request *req, const json_t *params)
{
	json_t *p, *size;
	char err[256];
	uint64_t bytes;

	if (!params_object(req, params, &p))
		return;
	/* Accept sizes as numbers or strings like "1G"; the engine takes bytes. */
	size = json_object_get(p, "size");
	if (json_is_string(size)) {
		if (cairn_parse_size(json_string_value(size), &bytes, err, sizeof(err))) {
			cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
			                         "param 'size': %s", err);
			json_decref(p);
			return;
		}
		json_object_set_new(p, "size", json_integer((json_int_t)bytes));
	}
	pool_forward(req, SRV_DRPC_POOL_CREATE, p, "pool_create");
	json_decref(p);
}

static void
api_pool_destroy(struct cairn_jsonrpc_request *req, const json_t *params)
{
	json_t *p;

	if (!params_object(req, params, &p))
		return;
	pool_forward(req, SRV_DRPC_POOL_DESTROY, p, "pool_destroy");
	json_decref(p);
}

static void
api_pool_list(struct cairn_jsonrpc_request *req, const json_t *params)
{
	json_t *p;

	if (!params_object(req, params, &p))
		return;
	pool_forward(req, SRV_DRPC_POOL_LIST, p, "pool_list");
	json_decref(p);
}

static void
api_pool_query(struct cairn_jsonrpc_request *req, const json_t *params)
{
	json_t *p;

	if (!params_object(req, params, &p))
		return;
	pool_forward(req, SRV_DRPC_POOL_QUERY, p, "pool_query");
	json_decref(p);
}

/* Properties and ACLs (validated by the engine's pool service, srv_pool_prop.c). */
#define POOL_FORWARDER(fn, m, name)                                                           \
	static void fn(struct cairn_jsonrpc_request *req, const json_t *params)              \
	{                                                                                     \
		json_t *p;                                                                    \
                                                                                              \
		if (!params_object(req, params, &p))                                          \
			return;                                                               \
		pool_forward(req, m, p, name);                                                \
		json_decref(p);                                                               \
	}
POOL_FORWARDER(api_pool_get_prop, SRV_DRPC_POOL_GET_PROP, "pool_get_prop")
POOL_FORWARDER(api_pool_set_prop, SRV_DRPC_POOL_SET_PROP, "pool_set_prop")
POOL_FORWARDER(api_pool_get_acl, SRV_DRPC_POOL_GET_ACL, "pool_get_acl")
POOL_FORWARDER(api_pool_update_acl, SRV_DRPC_POOL_UPDATE_ACL, "pool_update_acl")
POOL_FORWARDER(api_pool_delete_acl, SRV_DRPC_POOL_DELETE_ACL, "pool_delete_acl")
POOL_FORWARDER(api_pool_map_bump, SRV_DRPC_POOL_MAP_BUMP, "pool_map_bump")

static const struct cairn_jsonrpc_method g_pool_methods[] = {
        {"pool_create", api_pool_create, CAIRN_RPC_RUNTIME,
         "create a pool: {label, size (bytes per target or \"1G\"), ranks? ([0, 1]; "
         "default every joined rank)}"},
        {"pool_destroy", api_pool_destroy, CAIRN_RPC_RUNTIME,
         "destroy a pool: {pool (label or uuid), force?} (refused while connected)"},
        {"pool_list", api_pool_list, CAIRN_RPC_RUNTIME, "pools with their space"},
        {"pool_query", api_pool_query, CAIRN_RPC_RUNTIME,
         "one pool: {pool (label or uuid)}"},
        {"pool_get_prop", api_pool_get_prop, CAIRN_RPC_RUNTIME,
         "pool properties: {pool} -> label, owner, group, acl, ..."},
        {"pool_set_prop", api_pool_set_prop, CAIRN_RPC_RUNTIME,
         "set pool properties: {pool, label?, owner?, group?}"},
        {"pool_get_acl", api_pool_get_acl, CAIRN_RPC_RUNTIME,
         "pool ACL: {pool} -> {owner, group, entries}"},
        {"pool_update_acl", api_pool_update_acl, CAIRN_RPC_RUNTIME,
         "add/replace ACL entries: {pool, entries: [\"A::user@:rw\", ...]}"},
        {"pool_delete_acl", api_pool_delete_acl, CAIRN_RPC_RUNTIME,
         "remove an ACL entry: {pool, principal: \"user@\"|\"g:group@\"|\"OWNER@\"...}"},
        {"pool_map_bump", api_pool_map_bump, CAIRN_RPC_RUNTIME,
         "move the pool map version on by one (every rank of the pool; clients holding "
         "the old map refresh): {pool}"},
};

int
ctl_pool_api_register(struct ctl_system *sys)
{
	g_psys = sys;
	return cairn_jsonrpc_register_methods(g_pool_methods,
	                                      sizeof(g_pool_methods) / sizeof(g_pool_methods[0]));
}

void
ctl_pool_api_unregister(void)
{
	cairn_jsonrpc_unregister_methods(g_pool_methods,
	                                 sizeof(g_pool_methods) / sizeof(g_pool_methods[0]));
	g_psys = NULL;
}
