/*
 * iscsi_* JSON-RPC methods (SPDK rpc.py names and parameters) over the API in
 * target/iscsi.h, and the "iscsi" section of save_config.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAIRN_LOG_SS CAIRN_SS_ISCSI
#include "cairn/errno.h"
#include "common/log.h"
#include "jsonrpc/jsonrpc.h"
#include "target/iscsi.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
send_list(struct cairn_jsonrpc_request *req, int (*fn)(json_t **))
{
	json_t *v = NULL;
	int rc = fn(&v);

	if (rc) {
		cairn_jsonrpc_send_rc(req, rc, NULL);
		return;
	}
	cairn_jsonrpc_send_json(req, v);
}

static void
reply_rc(struct cairn_jsonrpc_request *req, int rc, const char *what)
{
	if (rc)
		cairn_jsonrpc_send_rc(req, rc, what);
	else
		cairn_jsonrpc_send_bool(req, true);
}

/* ------------------------------------------------------------------ portal groups */

struct rpc_pg {
	uint32_t tag;
	json_t *portals;
};

static const struct cairn_json_decoder g_pg_dec[] = {
	{"tag", CAIRN_JSON_UINT32, offsetof(struct rpc_pg, tag), false, NULL, NULL},
	{"portals", CAIRN_JSON_ARRAY, offsetof(struct rpc_pg, portals), false, NULL, NULL},
};

static void
rpc_create_portal_group(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct rpc_pg r = {0, NULL};
	struct cairn_iscsi_portal portals[CAIRN_ISCSI_MAX_PORTALS];
	size_t i, n;
	int rc;

	if (cairn_jsonrpc_decode_params(req, params, g_pg_dec, NELEM(g_pg_dec), &r))
		return;
	n = json_array_size(r.portals);
	if (n < 1 || n > CAIRN_ISCSI_MAX_PORTALS) {
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
					 "param 'portals': 1 to %d entries expected",
					 CAIRN_ISCSI_MAX_PORTALS);
		goto out;
	}
	memset(portals, 0, sizeof(portals));
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(r.portals, i);
		const char *host = json_string_value(json_object_get(e, "host"));
		json_t *pj = json_object_get(e, "port");
		const char *port = json_string_value(pj);
		char pbuf[16];

		if (json_is_integer(pj)) {
			snprintf(pbuf, sizeof(pbuf), "%lld", (long long)json_integer_value(pj));
			port = pbuf;
		}
		if (!host || !port || strlen(host) >= sizeof(portals[i].host) ||
		    strlen(port) >= sizeof(portals[i].port)) {
			cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
						 "param 'portals[%zu]': expected {\"host\": string, "
						 "\"port\": string or number}", i);
			goto out;
		}
		snprintf(portals[i].host, sizeof(portals[i].host), "%s", host);
		snprintf(portals[i].port, sizeof(portals[i].port), "%s", port);
	}
	rc = cairn_iscsi_portal_grp_create(r.tag, portals, (unsigned)n);
	reply_rc(req, rc, "iscsi_create_portal_group");
out:
	cairn_json_decode_free(g_pg_dec, NELEM(g_pg_dec), &r);
}

struct rpc_tag {
	uint32_t tag;
};

static const struct cairn_json_decoder g_tag_dec[] = {
	{"tag", CAIRN_JSON_UINT32, offsetof(struct rpc_tag, tag), false, NULL, NULL},
};

static void
rpc_delete_portal_group(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct rpc_tag r = {0};

	if (cairn_jsonrpc_decode_params(req, params, g_tag_dec, NELEM(g_tag_dec), &r))
		return;
	reply_rc(req, cairn_iscsi_portal_grp_delete(r.tag), "iscsi_delete_portal_group");
}

static void
rpc_get_portal_groups(struct cairn_jsonrpc_request *req, const json_t *params)
{
	(void)params;
	send_list(req, cairn_iscsi_get_portal_groups);
}

/* ------------------------------------------------------------------ initiator groups */

struct rpc_ig {
	uint32_t tag;
	json_t *initiators;
	json_t *netmasks;
};

static const struct cairn_json_decoder g_ig_dec[] = {
	{"tag", CAIRN_JSON_UINT32, offsetof(struct rpc_ig, tag), false, NULL, NULL},
	{"initiators", CAIRN_JSON_ARRAY, offsetof(struct rpc_ig, initiators), false, NULL, NULL},
	{"netmasks", CAIRN_JSON_ARRAY, offsetof(struct rpc_ig, netmasks), false, NULL, NULL},
};

static int
string_array(const json_t *a, const char **out, size_t max, size_t *n)
{
	size_t i;

	*n = json_array_size(a);
	if (*n < 1 || *n > max)
		return -1;
	for (i = 0; i < *n; i++) {
		out[i] = json_string_value(json_array_get(a, i));
		if (!out[i])
			return -1;
	}
	return 0;
}

static void
rpc_create_initiator_group(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct rpc_ig r = {0, NULL, NULL};
	const char *ini[CAIRN_ISCSI_MAX_IG_ENTRIES], *net[CAIRN_ISCSI_MAX_IG_ENTRIES];
	size_t ni, nn;

	if (cairn_jsonrpc_decode_params(req, params, g_ig_dec, NELEM(g_ig_dec), &r))
		return;
	if (string_array(r.initiators, ini, CAIRN_ISCSI_MAX_IG_ENTRIES, &ni) ||
	    string_array(r.netmasks, net, CAIRN_ISCSI_MAX_IG_ENTRIES, &nn)) {
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
					 "params 'initiators' and 'netmasks': 1 to %d strings each",
					 CAIRN_ISCSI_MAX_IG_ENTRIES);
		goto out;
	}
	reply_rc(req, cairn_iscsi_init_grp_create(r.tag, ini, (unsigned)ni, net, (unsigned)nn),
		 "iscsi_create_initiator_group");
out:
	cairn_json_decode_free(g_ig_dec, NELEM(g_ig_dec), &r);
}

static void
rpc_delete_initiator_group(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct rpc_tag r = {0};

	if (cairn_jsonrpc_decode_params(req, params, g_tag_dec, NELEM(g_tag_dec), &r))
		return;
	reply_rc(req, cairn_iscsi_init_grp_delete(r.tag), "iscsi_delete_initiator_group");
}

static void
rpc_get_initiator_groups(struct cairn_jsonrpc_request *req, const json_t *params)
{
	(void)params;
	send_list(req, cairn_iscsi_get_initiator_groups);
}

/* ------------------------------------------------------------------ auth */

struct rpc_ag {
	uint32_t tag;
	json_t *secrets;
};

static const struct cairn_json_decoder g_ag_dec[] = {
	{"tag", CAIRN_JSON_UINT32, offsetof(struct rpc_ag, tag), false, NULL, NULL},
	{"secrets", CAIRN_JSON_ARRAY, offsetof(struct rpc_ag, secrets), true, NULL, NULL},
};

static void
rpc_create_auth_group(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct rpc_ag r = {0, NULL};
	struct cairn_iscsi_chap_secret sec[CAIRN_ISCSI_MAX_SECRETS];
	size_t i, n;

	if (cairn_jsonrpc_decode_params(req, params, g_ag_dec, NELEM(g_ag_dec), &r))
		return;
	n = r.secrets ? json_array_size(r.secrets) : 0;
	if (n > CAIRN_ISCSI_MAX_SECRETS) {
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
					 "param 'secrets': at most %d entries",
					 CAIRN_ISCSI_MAX_SECRETS);
		goto out;
	}
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(r.secrets, i);

		sec[i].user = json_string_value(json_object_get(e, "user"));
		sec[i].secret = json_string_value(json_object_get(e, "secret"));
		sec[i].muser = json_string_value(json_object_get(e, "muser"));
		sec[i].msecret = json_string_value(json_object_get(e, "msecret"));
		if (!sec[i].user || !sec[i].secret) {
			cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
						 "param 'secrets[%zu]': 'user' and 'secret' strings "
						 "are required", i);
			goto out;
		}
	}
	reply_rc(req, cairn_iscsi_auth_group_create(r.tag, sec, (unsigned)n),
		 "iscsi_create_auth_group");
out:
	cairn_json_decode_free(g_ag_dec, NELEM(g_ag_dec), &r);
}

static void
rpc_delete_auth_group(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct rpc_tag r = {0};

	if (cairn_jsonrpc_decode_params(req, params, g_tag_dec, NELEM(g_tag_dec), &r))
		return;
	reply_rc(req, cairn_iscsi_auth_group_delete(r.tag), "iscsi_delete_auth_group");
}

static void
rpc_get_auth_groups(struct cairn_jsonrpc_request *req, const json_t *params)
{
	(void)params;
	send_list(req, cairn_iscsi_get_auth_groups);
}

struct rpc_disc {
	bool disable_chap, require_chap, mutual_chap;
	uint32_t chap_group;
};

static const struct cairn_json_decoder g_disc_dec[] = {
	{"disable_chap", CAIRN_JSON_BOOL, offsetof(struct rpc_disc, disable_chap), true, NULL,
	 NULL},
	{"require_chap", CAIRN_JSON_BOOL, offsetof(struct rpc_disc, require_chap), true, NULL,
	 NULL},
	{"mutual_chap", CAIRN_JSON_BOOL, offsetof(struct rpc_disc, mutual_chap), true, NULL,
	 NULL},
	{"chap_group", CAIRN_JSON_UINT32, offsetof(struct rpc_disc, chap_group), true, NULL,
	 NULL},
};

static void
rpc_set_discovery_auth(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct rpc_disc r = {false, false, false, 0};

	if (cairn_jsonrpc_decode_params(req, params, g_disc_dec, NELEM(g_disc_dec), &r))
		return;
	reply_rc(req, cairn_iscsi_set_discovery_auth(r.disable_chap, r.require_chap,
						     r.mutual_chap, r.chap_group),
		 "iscsi_set_discovery_auth");
}

static void
rpc_get_discovery_auth(struct cairn_jsonrpc_request *req, const json_t *params)
{
	(void)params;
	send_list(req, cairn_iscsi_get_discovery_auth);
}

/* ------------------------------------------------------------------ target nodes */

struct rpc_tn {
	char *name;
	char *alias_name;
	json_t *pg_ig_maps;
	json_t *luns;
	uint32_t queue_depth;
	bool disable_chap, require_chap, mutual_chap;
	uint32_t chap_group;
	bool header_digest, data_digest;
};

static const struct cairn_json_decoder g_tn_dec[] = {
	{"name", CAIRN_JSON_STRING, offsetof(struct rpc_tn, name), false, NULL, NULL},
	{"alias_name", CAIRN_JSON_STRING, offsetof(struct rpc_tn, alias_name), true, NULL, NULL},
	{"pg_ig_maps", CAIRN_JSON_ARRAY, offsetof(struct rpc_tn, pg_ig_maps), false, NULL, NULL},
	{"luns", CAIRN_JSON_ARRAY, offsetof(struct rpc_tn, luns), false, NULL, NULL},
	{"queue_depth", CAIRN_JSON_UINT32, offsetof(struct rpc_tn, queue_depth), true, NULL, NULL},
	{"disable_chap", CAIRN_JSON_BOOL, offsetof(struct rpc_tn, disable_chap), true, NULL, NULL},
	{"require_chap", CAIRN_JSON_BOOL, offsetof(struct rpc_tn, require_chap), true, NULL, NULL},
	{"mutual_chap", CAIRN_JSON_BOOL, offsetof(struct rpc_tn, mutual_chap), true, NULL, NULL},
	{"chap_group", CAIRN_JSON_UINT32, offsetof(struct rpc_tn, chap_group), true, NULL, NULL},
	{"header_digest", CAIRN_JSON_BOOL, offsetof(struct rpc_tn, header_digest), true, NULL,
	 NULL},
	{"data_digest", CAIRN_JSON_BOOL, offsetof(struct rpc_tn, data_digest), true, NULL, NULL},
};

static bool
json_uint(const json_t *v, int64_t max, int64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return false;
	*out = json_integer_value(v);
	return true;
}

static void
rpc_create_target_node(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct rpc_tn r;
	struct cairn_iscsi_pg_ig_map maps[CAIRN_ISCSI_MAX_PG_IG_MAPS];
	struct cairn_iscsi_lun_map luns[CAIRN_ISCSI_MAX_LUNS];
	struct cairn_iscsi_tgt_node_opts o;
	size_t i, nm, nl;
	int64_t a, b;

	memset(&r, 0, sizeof(r));
	if (cairn_jsonrpc_decode_params(req, params, g_tn_dec, NELEM(g_tn_dec), &r))
		return;
	nm = json_array_size(r.pg_ig_maps);
	nl = json_array_size(r.luns);
	if (nm < 1 || nm > CAIRN_ISCSI_MAX_PG_IG_MAPS || nl < 1 || nl > CAIRN_ISCSI_MAX_LUNS) {
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
					 "params 'pg_ig_maps' (1..%d) and 'luns' (1..%d) must not "
					 "be empty", CAIRN_ISCSI_MAX_PG_IG_MAPS,
					 CAIRN_ISCSI_MAX_LUNS);
		goto out;
	}
	for (i = 0; i < nm; i++) {
		json_t *e = json_array_get(r.pg_ig_maps, i);

		if (!json_uint(json_object_get(e, "pg_tag"), 65535, &a) ||
		    !json_uint(json_object_get(e, "ig_tag"), 65535, &b)) {
			cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
						 "param 'pg_ig_maps[%zu]': expected {\"pg_tag\": "
						 "1..65535, \"ig_tag\": 1..65535}", i);
			goto out;
		}
		maps[i].pg_tag = (uint32_t)a;
		maps[i].ig_tag = (uint32_t)b;
	}
	for (i = 0; i < nl; i++) {
		json_t *e = json_array_get(r.luns, i);
		json_t *id = json_object_get(e, "lun_id");

		luns[i].bdev_name = json_string_value(json_object_get(e, "bdev_name"));
		luns[i].lun_id = -1;
		if (id && json_uint(id, CAIRN_ISCSI_MAX_LUNS - 1, &a))
			luns[i].lun_id = (int)a;
		else if (id)
			luns[i].bdev_name = NULL;
		if (!luns[i].bdev_name) {
			cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
						 "param 'luns[%zu]': expected {\"bdev_name\": string, "
						 "\"lun_id\": 0..%d}", i, CAIRN_ISCSI_MAX_LUNS - 1);
			goto out;
		}
	}
	memset(&o, 0, sizeof(o));
	o.opts_size = sizeof(o);
	o.name = r.name;
	o.alias = r.alias_name;
	o.maps = maps;
	o.nmaps = (unsigned)nm;
	o.luns = luns;
	o.nluns = (unsigned)nl;
	o.queue_depth = r.queue_depth;
	o.disable_chap = r.disable_chap;
	o.require_chap = r.require_chap;
	o.mutual_chap = r.mutual_chap;
	o.chap_group = r.chap_group;
	o.header_digest = r.header_digest;
	o.data_digest = r.data_digest;
	reply_rc(req, cairn_iscsi_tgt_node_create(&o), "iscsi_create_target_node");
out:
	cairn_json_decode_free(g_tn_dec, NELEM(g_tn_dec), &r);
}

struct rpc_add_lun {
	char *name;
	char *bdev_name;
	int32_t lun_id;
};

static const struct cairn_json_decoder g_add_lun_dec[] = {
	{"name", CAIRN_JSON_STRING, offsetof(struct rpc_add_lun, name), false, NULL, NULL},
	{"bdev_name", CAIRN_JSON_STRING, offsetof(struct rpc_add_lun, bdev_name), false, NULL,
	 NULL},
	{"lun_id", CAIRN_JSON_INT32, offsetof(struct rpc_add_lun, lun_id), true, NULL, NULL},
};

static void
rpc_target_node_add_lun(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct rpc_add_lun r = {NULL, NULL, -1};

	if (cairn_jsonrpc_decode_params(req, params, g_add_lun_dec, NELEM(g_add_lun_dec), &r))
		return;
	if (r.lun_id < -1 || r.lun_id >= CAIRN_ISCSI_MAX_LUNS) {
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
					 "param 'lun_id': 0..%d", CAIRN_ISCSI_MAX_LUNS - 1);
		goto out;
	}
	reply_rc(req, cairn_iscsi_tgt_node_add_lun(r.name, r.bdev_name, r.lun_id),
		 "iscsi_target_node_add_lun");
out:
	cairn_json_decode_free(g_add_lun_dec, NELEM(g_add_lun_dec), &r);
}

struct rpc_name {
	char *name;
};

static const struct cairn_json_decoder g_name_dec[] = {
	{"name", CAIRN_JSON_STRING, offsetof(struct rpc_name, name), false, NULL, NULL},
};

static void
rpc_delete_target_node(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct rpc_name r = {NULL};

	if (cairn_jsonrpc_decode_params(req, params, g_name_dec, NELEM(g_name_dec), &r))
		return;
	reply_rc(req, cairn_iscsi_tgt_node_delete(r.name), "iscsi_delete_target_node");
	cairn_json_decode_free(g_name_dec, NELEM(g_name_dec), &r);
}

static void
rpc_get_target_nodes(struct cairn_jsonrpc_request *req, const json_t *params)
{
	(void)params;
	send_list(req, cairn_iscsi_get_target_nodes);
}

static void
rpc_get_connections(struct cairn_jsonrpc_request *req, const json_t *params)
{
	(void)params;
	send_list(req, cairn_iscsi_get_connections);
}

/* ------------------------------------------------------------------ registration */

#define RPC_BOTH (CAIRN_RPC_STARTUP | CAIRN_RPC_RUNTIME)

static const struct cairn_jsonrpc_method g_iscsi_methods[] = {
	{"iscsi_create_portal_group", rpc_create_portal_group, RPC_BOTH,
	 "create a portal group: tag, portals [{host, port}]"},
	{"iscsi_delete_portal_group", rpc_delete_portal_group, RPC_BOTH, "delete a portal group"},
	{"iscsi_get_portal_groups", rpc_get_portal_groups, RPC_BOTH, "list portal groups"},
	{"iscsi_create_initiator_group", rpc_create_initiator_group, RPC_BOTH,
	 "create an initiator group: tag, initiators, netmasks"},
	{"iscsi_delete_initiator_group", rpc_delete_initiator_group, RPC_BOTH,
	 "delete an initiator group"},
	{"iscsi_get_initiator_groups", rpc_get_initiator_groups, RPC_BOTH,
	 "list initiator groups"},
	{"iscsi_create_auth_group", rpc_create_auth_group, RPC_BOTH,
	 "create a CHAP auth group: tag, secrets [{user, secret, muser, msecret}]"},
	{"iscsi_delete_auth_group", rpc_delete_auth_group, RPC_BOTH, "delete an auth group"},
	{"iscsi_get_auth_groups", rpc_get_auth_groups, RPC_BOTH, "list auth groups"},
	{"iscsi_set_discovery_auth", rpc_set_discovery_auth, RPC_BOTH,
	 "discovery CHAP: disable_chap, require_chap, mutual_chap, chap_group"},
	{"iscsi_get_discovery_auth", rpc_get_discovery_auth, RPC_BOTH, "show discovery auth"},
	{"iscsi_create_target_node", rpc_create_target_node, RPC_BOTH,
	 "create a target node: name, pg_ig_maps, luns, queue_depth, CHAP and digest options"},
	{"iscsi_target_node_add_lun", rpc_target_node_add_lun, RPC_BOTH,
	 "add a LUN: name, bdev_name, lun_id"},
	{"iscsi_delete_target_node", rpc_delete_target_node, RPC_BOTH,
	 "delete a target node (closes its sessions)"},
	{"iscsi_get_target_nodes", rpc_get_target_nodes, RPC_BOTH, "list target nodes"},
	{"iscsi_get_connections", rpc_get_connections, CAIRN_RPC_RUNTIME, "list iSCSI connections"},
};

static int
iscsi_config_writer(struct cairn_json_write_ctx *w, void *arg)
{
	json_t *a = json_array();
	size_t i;
	int rc;

	(void)arg;
	if (!a)
		return -CAIRN_ERR_NOMEM;
	rc = cairn_iscsi_write_config_json(a);
	for (i = 0; rc == 0 && i < json_array_size(a); i++)
		rc = cairn_json_write_json(w, json_array_get(a, i));
	json_decref(a);
	return rc;
}

int
cairn_iscsi_rpc_register(void)
{
	int rc = cairn_jsonrpc_register_methods(g_iscsi_methods, NELEM(g_iscsi_methods));

	if (rc)
		return rc;
	rc = cairn_jsonrpc_register_config("iscsi", 20, iscsi_config_writer, NULL);
	if (rc)
		cairn_jsonrpc_unregister_methods(g_iscsi_methods, NELEM(g_iscsi_methods));
	return rc;
}

void
cairn_iscsi_rpc_unregister(void)
{
	cairn_jsonrpc_unregister_config("iscsi");
	cairn_jsonrpc_unregister_methods(g_iscsi_methods, NELEM(g_iscsi_methods));
}
