/*
 * --json config replay. Accepts SPDK's save_config format
 *   {"subsystems":[{"subsystem":"bdev","config":[{"method":..,"params":{..}},..]},..]}
 * and a plain array of {"method","params"} calls. Each call goes through the RPC socket
 * like any client's (SPDK does the same), so replay exercises exactly the runtime path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_TGT
#include "common/log.h"

#include "jsonrpc/jsonrpc_client.h"

#include "app_internal.h"

#define REPLAY_TIMEOUT_MS 60000

static int
replay_call(struct cairn_jsonrpc_client *cl, const char *path, const char *where, size_t idx,
	    json_t *call)
{
	json_t *method, *params, *resp = NULL, *err;
	const char *key;
	json_t *val;
	int rc;

	if (!json_is_object(call)) {
		CAIRN_ERROR("%s: %s[%zu]: expected an object {\"method\": ..., \"params\": ...}",
			    path, where, idx);
		return -CAIRN_ERR_INVAL;
	}
	json_object_foreach(call, key, val) {
		if (strcmp(key, "method") && strcmp(key, "params")) {
			CAIRN_ERROR("%s: %s[%zu]: unknown member '%s' (only method, params)",
				    path, where, idx, key);
			return -CAIRN_ERR_INVAL;
		}
	}
	method = json_object_get(call, "method");
	params = json_object_get(call, "params");
	if (!json_is_string(method)) {
		CAIRN_ERROR("%s: %s[%zu]: 'method' must be a string", path, where, idx);
		return -CAIRN_ERR_INVAL;
	}
	rc = cairn_jsonrpc_client_call(cl, json_string_value(method), params, REPLAY_TIMEOUT_MS,
				       &resp);
	if (rc) {
		CAIRN_ERROR("%s: %s[%zu] %s: no reply: %s", path, where, idx,
			    json_string_value(method), cairn_strerror(rc));
		return rc;
	}
	err = json_object_get(resp, "error");
	if (err) {
		CAIRN_ERROR("%s: %s[%zu] %s failed: %s (code %lld)", path, where, idx,
			    json_string_value(method),
			    json_string_value(json_object_get(err, "message")) ?: "?",
			    (long long)json_integer_value(json_object_get(err, "code")));
		json_decref(resp);
		return -CAIRN_ERR_INVAL;
	}
	json_decref(resp);
	return 0;
}

static int
replay_array(struct cairn_jsonrpc_client *cl, const char *path, const char *where,
	     json_t *calls, unsigned *count)
{
	json_t *call;
	size_t i;
	int rc;

	json_array_foreach(calls, i, call) {
		rc = replay_call(cl, path, where, i, call);
		if (rc)
			return rc;
		(*count)++;
	}
	return 0;
}

int
tgt_config_replay(const char *path, const char *addr)
{
	struct cairn_jsonrpc_client *cl = NULL;
	json_t *doc, *subs, *sub, *cfg;
	json_error_t jerr;
	unsigned count = 0;
	char where[96];
	size_t i;
	int rc;

	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL) {
		CAIRN_ERROR("%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		return -CAIRN_ERR_INVAL;
	}
	rc = cairn_jsonrpc_client_connect(addr, 5000, &cl);
	if (rc) {
		CAIRN_ERROR("cannot connect to our own RPC socket %s: %s", addr,
			    cairn_strerror(rc));
		goto out;
	}
	if (json_is_array(doc)) {
		rc = replay_array(cl, path, "calls", doc, &count);
		goto out;
	}
	subs = json_is_object(doc) ? json_object_get(doc, "subsystems") : NULL;
	if (!json_is_array(subs)) {
		CAIRN_ERROR("%s: expected {\"subsystems\": [...]} (save_config output) or an "
			    "array of {\"method\", \"params\"} calls", path);
		rc = -CAIRN_ERR_INVAL;
		goto out;
	}
	json_array_foreach(subs, i, sub) {
		json_t *name = json_object_get(sub, "subsystem");

		cfg = json_object_get(sub, "config");
		if (!json_is_string(name) || !(json_is_array(cfg) || json_is_null(cfg))) {
			CAIRN_ERROR("%s: subsystems[%zu]: expected {\"subsystem\": name, "
				    "\"config\": [calls]}", path, i);
			rc = -CAIRN_ERR_INVAL;
			goto out;
		}
		if (json_is_null(cfg))
			continue;
		snprintf(where, sizeof(where), "%.40s.config", json_string_value(name));
		rc = replay_array(cl, path, where, cfg, &count);
		if (rc)
			goto out;
	}
out:
	if (rc == 0)
		CAIRN_NOTE("%s: replayed %u call(s)", path, count);
	cairn_jsonrpc_client_close(cl);
	json_decref(doc);
	return rc;
}
