/*
 * cairn-rpc sub-commands: one per method, arguments as in SPDK's rpc.py, plus the
 * client-side save_config -o, load_config and call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_cli.h"

#define POS(n, t, k, h)  { .name = n, .positional = true, .type = t, .key = k, .help = h }
#define OPOS(n, t, k, h) { .name = n, .positional = true, .optional = true, .type = t, \
			   .key = k, .help = h }
#define OPT(l, s, t, k, h) { .name = l, .short_opt = s, .type = t, .key = k, .help = h }
#define ROPT(l, s, t, k, h) { .name = l, .short_opt = s, .type = t, .key = k, .help = h, \
			      .required = true }

/* Split "a b,c" on spaces and commas into a new array of strings. */
static json_t *
split_list(const char *s)
{
	json_t *a = json_array();
	const char *p = s;

	while (a && *p) {
		size_t n;

		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, " ,");
		if (n)
			json_array_append_new(a, json_stringn(p, n));
		p += n;
	}
	return a;
}

static const char *
take_str(json_t *params, const char *key)
{
	return json_string_value(json_object_get(params, key));
}

/* ------------------------------------------------------------------ bdev */

static int
build_mem(const struct rpc_cmd *cmd, json_t *params)
{
	double mb = json_number_value(json_object_get(params, "_total_size"));
	json_int_t bs = json_integer_value(json_object_get(params, "block_size"));
	double blocks;

	if (mb <= 0 || bs <= 0) {
		fprintf(stderr, "cairn-rpc %s: total_size and block_size must be positive\n",
			cmd->name);
		return -1;
	}
	blocks = mb * 1024.0 * 1024.0 / (double)bs;
	if (blocks < 1 || blocks > 9.0e18 || blocks != (double)(json_int_t)blocks) {
		fprintf(stderr, "cairn-rpc %s: %g MiB is not a whole number of %lld-byte "
				"blocks\n", cmd->name, mb, (long long)bs);
		return -1;
	}
	json_object_del(params, "_total_size");
	json_object_set_new(params, "num_blocks", json_integer((json_int_t)blocks));
	return 0;
}

/* ------------------------------------------------------------------ iscsi */

/* "127.0.0.1:3260 [::1]:3261" -> [{"host","port"}] (port as a string, as in SPDK). */
static int
build_portal_group(const struct rpc_cmd *cmd, json_t *params)
{
	json_t *items = split_list(take_str(params, "_portals")), *portals = json_array(), *v;
	size_t i;

	json_array_foreach(items, i, v) {
		const char *s = json_string_value(v);
		const char *colon = strrchr(s, ':');
		char host[256];
		size_t hl;

		if (colon == NULL || colon == s || colon[1] == '\0') {
			fprintf(stderr, "cairn-rpc %s: portal '%s' is not HOST:PORT\n", cmd->name, s);
			goto err;
		}
		hl = (size_t)(colon - s);
		if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') { /* [v6]:port */
			s++;
			hl -= 2;
		}
		if (hl >= sizeof(host)) {
			fprintf(stderr, "cairn-rpc %s: host too long in '%s'\n", cmd->name, s);
			goto err;
		}
		memcpy(host, s, hl);
		host[hl] = '\0';
		json_array_append_new(portals, json_pack("{s:s, s:s}", "host", host, "port",
							 colon + 1));
	}
	if (json_array_size(portals) == 0) {
		fprintf(stderr, "cairn-rpc %s: no portal given\n", cmd->name);
		goto err;
	}
	json_object_del(params, "_portals");
	json_object_set_new(params, "portals", portals);
	json_decref(items);
	return 0;
err:
	json_decref(items);
	json_decref(portals);
	return -1;
}

static int
build_initiator_group(const struct rpc_cmd *cmd, json_t *params)
{
	json_object_set_new(params, "initiators", split_list(take_str(params, "_initiators")));
	json_object_set_new(params, "netmasks", split_list(take_str(params, "_netmasks")));
	json_object_del(params, "_initiators");
	json_object_del(params, "_netmasks");
	return 0;
}

/* "Malloc0:0 Malloc1:1" -> luns; "1:1 2:1" -> pg_ig_maps. */
static int
build_target_node(const struct rpc_cmd *cmd, json_t *params)
{
	json_t *luns_in = split_list(take_str(params, "_luns"));
	json_t *maps_in = split_list(take_str(params, "_maps"));
	json_t *luns = json_array(), *maps = json_array(), *v;
	size_t i;
	char *end;

	json_array_foreach(luns_in, i, v) {
		const char *s = json_string_value(v), *colon = strrchr(s, ':');
		long id;

		if (colon == NULL || colon == s) {
			fprintf(stderr, "cairn-rpc %s: LUN '%s' is not BDEV:LUN_ID\n", cmd->name, s);
			goto err;
		}
		id = strtol(colon + 1, &end, 10);
		if (*end || end == colon + 1 || id < 0 || id > 16383) {
			fprintf(stderr, "cairn-rpc %s: bad LUN id in '%s'\n", cmd->name, s);
			goto err;
		}
		json_array_append_new(luns, json_pack("{s:s%, s:i}", "bdev_name", s,
						      (size_t)(colon - s), "lun_id", (int)id));
	}
	json_array_foreach(maps_in, i, v) {
		const char *s = json_string_value(v);
		long pg, ig;

		pg = strtol(s, &end, 10);
		if (*end != ':' || end == s) {
			fprintf(stderr, "cairn-rpc %s: mapping '%s' is not PG_TAG:IG_TAG\n",
				cmd->name, s);
			goto err;
		}
		ig = strtol(end + 1, &end, 10);
		if (*end || pg < 1 || ig < 1) {
			fprintf(stderr, "cairn-rpc %s: mapping '%s' is not PG_TAG:IG_TAG\n",
				cmd->name, s);
			goto err;
		}
		json_array_append_new(maps, json_pack("{s:i, s:i}", "pg_tag", (int)pg, "ig_tag",
						      (int)ig));
	}
	json_object_del(params, "_luns");
	json_object_del(params, "_maps");
	json_object_set_new(params, "luns", luns);
	json_object_set_new(params, "pg_ig_maps", maps);
	json_decref(luns_in);
	json_decref(maps_in);
	return 0;
err:
	json_decref(luns_in);
	json_decref(maps_in);
	json_decref(luns);
	json_decref(maps);
	return -1;
}

/* "user:u secret:s muser:m msecret:ms,user:u2 secret:s2" -> secrets */
static int
build_auth_group(const struct rpc_cmd *cmd, json_t *params)
{
	const char *s = take_str(params, "_secrets");
	json_t *secrets = json_array();
	char *copy, *grp, *save;

	if (s == NULL) {
		json_object_set_new(params, "secrets", secrets);
		return 0;
	}
	copy = strdup(s);
	save = copy;
	while ((grp = strsep(&save, ",")) != NULL) {
		json_t *e;
		char *kv, *save2 = grp;

		if (*grp == '\0')
			continue;
		e = json_object();
		while ((kv = strsep(&save2, " ")) != NULL) {
			char *colon = strchr(kv, ':');

			if (*kv == '\0')
				continue;

			if (colon == NULL || (strncmp(kv, "user:", 5) && strncmp(kv, "secret:", 7) &&
					      strncmp(kv, "muser:", 6) && strncmp(kv, "msecret:", 8))) {
				fprintf(stderr, "cairn-rpc %s: '%s' is not user:, secret:, muser: or "
						"msecret:\n", cmd->name, kv);
				json_decref(e);
				goto err;
			}
			*colon = '\0';
			json_object_set_new(e, kv, json_string(colon + 1));
		}
		json_array_append_new(secrets, e);
	}
	free(copy);
	json_object_del(params, "_secrets");
	json_object_set_new(params, "secrets", secrets);
	return 0;
err:
	free(copy);
	json_decref(secrets);
	return -1;
}

/* ------------------------------------------------------------------ client side */

static int
run_save_config(const struct rpc_cmd *cmd, json_t *params)
{
	json_t *ind = json_object_get(params, "_indent");
	int indent = ind ? (int)json_integer_value(ind) : 2;

	if (indent < 0 || indent > 31) {
		fprintf(stderr, "cairn-rpc save_config: indent must be 0..31\n");
		return -1;
	}
	return rpc_call_print("save_config", NULL, take_str(params, "_file"), indent);
}

static int
load_calls(json_t *calls, const char *where)
{
	json_t *call, *result;
	size_t i;

	json_array_foreach(calls, i, call) {
		const char *m = json_string_value(json_object_get(call, "method"));

		if (m == NULL) {
			fprintf(stderr, "cairn-rpc load_config: %s[%zu]: no method\n", where, i);
			return -1;
		}
		if (rpc_call(m, json_object_get(call, "params"), &result)) {
			fprintf(stderr, "cairn-rpc load_config: %s[%zu] (%s) failed\n", where, i, m);
			return -1;
		}
		json_decref(result);
	}
	return 0;
}

static int
run_load_config(const struct rpc_cmd *cmd, json_t *params)
{
	const char *path = take_str(params, "_file");
	json_error_t err;
	json_t *doc, *subs, *sub;
	size_t i;
	int rc = 0;

	doc = path ? json_load_file(path, 0, &err) : json_loadf(stdin, 0, &err);
	if (doc == NULL) {
		fprintf(stderr, "cairn-rpc load_config: %s:%d:%d: %s\n", path ? path : "stdin",
			err.line, err.column, err.text);
		return -1;
	}
	if (json_is_array(doc)) {
		rc = load_calls(doc, "calls");
	} else if (json_is_array(subs = json_object_get(doc, "subsystems"))) {
		json_array_foreach(subs, i, sub) {
			json_t *cfg = json_object_get(sub, "config");

			if (json_is_array(cfg) && (rc = load_calls(cfg, "config")) != 0)
				break;
		}
	} else {
		fprintf(stderr, "cairn-rpc load_config: expected save_config output or an array "
				"of {method, params}\n");
		rc = -1;
	}
	json_decref(doc);
	return rc;
}

static int
run_call(const struct rpc_cmd *cmd, json_t *params)
{
	const char *text = take_str(params, "_params");
	json_t *p = NULL;
	json_error_t err;
	int rc;

	if (text) {
		p = json_loads(text, JSON_DECODE_ANY, &err);
		if (p == NULL) {
			fprintf(stderr, "cairn-rpc call: params are not JSON: %s\n", err.text);
			return -1;
		}
	}
	rc = rpc_call_print(take_str(params, "_method"), p, NULL, 2);
	json_decref(p);
	return rc;
}

/* ------------------------------------------------------------------ table */

const struct rpc_cmd g_rpc_cmds[] = {
	{ "rpc_get_methods", NULL, "list the methods the target serves",
	  { OPT("current", 0, RA_FLAG, "current", "only those allowed in the current state"),
	    OPT("include-summary", 0, RA_FLAG, "include_summary", "with one-line summaries") } },
	{ "cairn_get_version", NULL, "version of cairn-tgt", { { 0 } } },
	{ "save_config", NULL, "print (or write) the live config, reloadable with --json",
	  { OPT("filename", 'o', RA_STR, "_file", "write to this file instead of stdout"),
	    OPT("indent", 'i', RA_INT, "_indent", "indent (default 2, 0 = compact)") },
	  .run = run_save_config },
	{ "load_config", NULL, "replay a config file (save_config output) through RPC",
	  { OPT("json-config", 'j', RA_STR, "_file", "file to load (default stdin)") },
	  .run = run_load_config },
	{ "call", NULL, "send any method: call METHOD ['{\"json\": \"params\"}']",
	  { POS("method", RA_STR, "_method", "method name"),
	    OPOS("params", RA_STR, "_params", "params as JSON text") },
	  .run = run_call },
	{ "app_shutdown", NULL, "stop cairn-tgt cleanly", { { 0 } } },
	{ "log_set_level", NULL, "set the log level (FATAL..TRACE)",
	  { POS("level", RA_STR, "level", "FATAL, ERR, WARN, NOTE, INFO, DEBUG or TRACE"),
	    OPT("subsystem", 's', RA_STR, "subsystem", "only this subsystem (iscsi, bdev, ...)") } },
	{ "log_get_level", NULL, "log level of every subsystem", { { 0 } } },
	{ "log_set_flag", NULL, "debug logs for a subsystem ('all' for every one)",
	  { POS("flag", RA_STR, "flag", "subsystem name or all") } },
	{ "log_clear_flag", NULL, "back to the startup level for a subsystem",
	  { POS("flag", RA_STR, "flag", "subsystem name or all") } },
	{ "log_get_flags", NULL, "which subsystems log at debug level", { { 0 } } },

	{ "bdev_malloc_create", NULL, "create a RAM disk; prints its name",
	  { POS("total_size", RA_NUM, "_total_size", "size in MiB"),
	    POS("block_size", RA_UINT, "block_size", "block size in bytes (512..65536)"),
	    OPT("name", 'b', RA_STR, "name", "bdev name (default MallocN)"),
	    OPT("uuid", 'u', RA_STR, "uuid", "UUID (default random)"),
	    OPT("optimal-io-boundary", 'o', RA_UINT, "optimal_io_boundary",
		"split I/O at this many blocks") },
	  .build = build_mem },
	{ "bdev_malloc_delete", NULL, "delete a RAM disk",
	  { POS("name", RA_STR, "name", "bdev name") } },
	{ "bdev_null_create", NULL, "create a null bdev (discards writes, reads zeros)",
	  { POS("name", RA_STR, "name", "bdev name"),
	    POS("total_size", RA_NUM, "_total_size", "size in MiB"),
	    POS("block_size", RA_UINT, "block_size", "block size in bytes"),
	    OPT("uuid", 'u', RA_STR, "uuid", "UUID (default random)") },
	  .build = build_mem },
	{ "bdev_null_delete", NULL, "delete a null bdev",
	  { POS("name", RA_STR, "name", "bdev name") } },
	{ "bdev_uring_create", NULL, "file or block device bdev via io_uring",
	  { POS("filename", RA_STR, "filename", "existing file or device"),
	    POS("name", RA_STR, "name", "bdev name"),
	    OPOS("block_size", RA_UINT, "block_size", "block size (default: the device's)"),
	    OPT("uuid", 'u', RA_STR, "uuid", "UUID (default random)") } },
	{ "bdev_uring_delete", NULL, "delete a uring bdev",
	  { POS("name", RA_STR, "name", "bdev name") } },
	{ "bdev_aio_create", NULL, "file or block device bdev via Linux AIO",
	  { POS("filename", RA_STR, "filename", "existing file or device"),
	    POS("name", RA_STR, "name", "bdev name"),
	    OPOS("block_size", RA_UINT, "block_size", "block size (default: the device's)"),
	    OPT("uuid", 'u', RA_STR, "uuid", "UUID (default random)") } },
	{ "bdev_aio_delete", NULL, "delete an aio bdev",
	  { POS("name", RA_STR, "name", "bdev name") } },
	{ "bdev_cairn_create", NULL, "volume stored as a Cairn array object",
	  { POS("name", RA_STR, "name", "bdev name (also names the volume in the container)"),
	    POS("pool", RA_STR, "pool", "pool label or UUID"),
	    POS("container", RA_STR, "container", "container label or UUID"),
	    POS("size", RA_UINT, "size", "size in bytes (a multiple of the block size)"),
	    OPT("block-size", 'b', RA_UINT, "block_size", "block size (default 4096)"),
	    OPT("sys", 0, RA_STR, "sys", "engine URI tcp://HOST:PORT (default: the "
		"target's $CAIRN_SYSTEM_URI)"),
	    OPT("uuid", 'u', RA_STR, "uuid", "UUID (default random)") } },
	{ "bdev_cairn_delete", NULL, "delete a cairn bdev (its data stays in the container)",
	  { POS("name", RA_STR, "name", "bdev name") } },
	{ "bdev_error_create", NULL, "error-injection bdev EE_<base> over a base bdev",
	  { POS("base_name", RA_STR, "base_name", "base bdev"),
	    OPT("uuid", 'u', RA_STR, "uuid", "UUID (default random)") } },
	{ "bdev_error_delete", NULL, "delete an error bdev",
	  { POS("name", RA_STR, "name", "error bdev name (EE_...)") } },
	{ "bdev_error_inject_error", NULL, "inject failures or corruption",
	  { POS("name", RA_STR, "name", "error bdev name"),
	    POS("io_type", RA_STR, "io_type", "read, write, flush, unmap, write_zeroes, all, clear"),
	    POS("error_type", RA_STR, "error_type", "failure or corrupt_data"),
	    OPT("num", 'n', RA_UINT, "num", "how many I/Os to hit (default 1, 0 = all)"),
	    OPT("skip", 0, RA_UINT, "skip", "let this many through first"),
	    OPT("rate-ppm", 0, RA_UINT, "rate_ppm", "probability per million") } },
	{ "bdev_get_bdevs", NULL, "describe bdevs",
	  { OPT("name", 'b', RA_STR, "name", "only this bdev") } },
	{ "bdev_get_iostat", NULL, "bdev I/O statistics",
	  { OPT("name", 'b', RA_STR, "name", "only this bdev") } },

	{ "iscsi_create_portal_group", NULL, "listen addresses for targets",
	  { POS("tag", RA_UINT, "tag", "portal group tag (>= 1)"),
	    POS("portal_list", RA_STR, "_portals", "'HOST:PORT [HOST:PORT...]'") },
	  .build = build_portal_group },
	{ "iscsi_delete_portal_group", NULL, "delete a portal group",
	  { POS("tag", RA_UINT, "tag", "portal group tag") } },
	{ "iscsi_get_portal_groups", NULL, "list portal groups", { { 0 } } },
	{ "iscsi_create_initiator_group", NULL, "initiators allowed to log in",
	  { POS("tag", RA_UINT, "tag", "initiator group tag (>= 1)"),
	    POS("initiator_list", RA_STR, "_initiators", "'IQN|ANY [...]' (! negates)"),
	    POS("netmask_list", RA_STR, "_netmasks", "'127.0.0.1/32 ANY ...'") },
	  .build = build_initiator_group },
	{ "iscsi_delete_initiator_group", NULL, "delete an initiator group",
	  { POS("tag", RA_UINT, "tag", "initiator group tag") } },
	{ "iscsi_get_initiator_groups", NULL, "list initiator groups", { { 0 } } },
	{ "iscsi_create_auth_group", NULL, "CHAP secrets",
	  { POS("tag", RA_UINT, "tag", "auth group tag (>= 1)"),
	    OPT("secrets", 'c', RA_STR, "_secrets",
		"'user:U secret:S [muser:MU msecret:MS],...'") },
	  .build = build_auth_group },
	{ "iscsi_delete_auth_group", NULL, "delete an auth group",
	  { POS("tag", RA_UINT, "tag", "auth group tag") } },
	{ "iscsi_get_auth_groups", NULL, "list auth groups", { { 0 } } },
	{ "iscsi_set_discovery_auth", NULL, "CHAP for discovery sessions",
	  { OPT("disable-chap", 'd', RA_FLAG, "disable_chap", "no CHAP"),
	    OPT("require-chap", 'r', RA_FLAG, "require_chap", "CHAP required"),
	    OPT("mutual-chap", 'm', RA_FLAG, "mutual_chap", "mutual CHAP"),
	    OPT("chap-group", 'g', RA_UINT, "chap_group", "auth group tag") } },
	{ "iscsi_get_discovery_auth", NULL, "discovery CHAP settings", { { 0 } } },
	{ "iscsi_create_target_node", NULL, "create a target with LUNs",
	  { POS("name", RA_STR, "name", "target name (short names get the node base)"),
	    POS("alias_name", RA_STR, "alias_name", "alias"),
	    POS("bdev_name_id_pairs", RA_STR, "_luns", "'BDEV:LUN_ID [...]'"),
	    POS("pg_ig_mappings", RA_STR, "_maps", "'PG_TAG:IG_TAG [...]'"),
	    POS("queue_depth", RA_UINT, "queue_depth", "commands per session"),
	    OPT("chap-group", 'g', RA_UINT, "chap_group", "auth group tag"),
	    OPT("disable-chap", 'd', RA_FLAG, "disable_chap", "no CHAP"),
	    OPT("require-chap", 'r', RA_FLAG, "require_chap", "CHAP required"),
	    OPT("mutual-chap", 'm', RA_FLAG, "mutual_chap", "mutual CHAP"),
	    OPT("header-digest", 'H', RA_FLAG, "header_digest", "require header digest"),
	    OPT("data-digest", 'D', RA_FLAG, "data_digest", "require data digest") },
	  .build = build_target_node },
	{ "iscsi_target_node_add_lun", NULL, "add a LUN to a target",
	  { POS("name", RA_STR, "name", "target name"),
	    POS("bdev_name", RA_STR, "bdev_name", "bdev"),
	    OPT("lun-id", 'i', RA_INT, "lun_id", "LUN id (default: first free)") } },
	{ "iscsi_delete_target_node", NULL, "delete a target",
	  { POS("target_node_name", RA_STR, "name", "target name") } },
	{ "iscsi_get_target_nodes", NULL, "list targets", { { 0 } } },
	{ "iscsi_get_connections", NULL, "list iSCSI connections", { { 0 } } },
};

const unsigned g_nr_rpc_cmds = sizeof(g_rpc_cmds) / sizeof(g_rpc_cmds[0]);
