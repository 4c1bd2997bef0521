/*
 * Generic cairn-tgt JSON-RPC methods: rpc_get_methods, cairn_get_version, save_config,
 * log_set_level, log_get_level, log_set_flag, log_clear_flag, log_get_flags,
 * app_shutdown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_TGT
#include "common/log.h"

#include "app_internal.h"
#include "tgt_app.h"

#ifndef CAIRN_VERSION_STRING
#define CAIRN_VERSION_STRING "0.1.0"
#endif

static uint8_t g_log_startup[CAIRN_SS_MAX];

/* Levels change at run time (log_set_level from any connection): read them atomically. */
static uint8_t
log_level_of(int ss)
{
	return __atomic_load_n(&g_cairn_log_level[ss], __ATOMIC_RELAXED);
}

void
tgt_log_snapshot(void)
{
	for (int ss = 0; ss < CAIRN_SS_MAX; ss++)
		g_log_startup[ss] = log_level_of(ss);
}

/* ------------------------------------------------------------------ rpc_get_methods */

struct get_methods_req {
	bool current;
	bool include_summary;
};

static const struct cairn_json_decoder g_get_methods_dec[] = {
	{ "current", CAIRN_JSON_BOOL, offsetof(struct get_methods_req, current), true },
	{ "include_summary", CAIRN_JSON_BOOL, offsetof(struct get_methods_req, include_summary),
	  true },
};

struct get_methods_ctx {
	struct cairn_json_write_ctx *w;
	struct get_methods_req *req;
};

static void
get_methods_one(const struct cairn_jsonrpc_method *m, void *arg)
{
	struct get_methods_ctx *ctx = arg;

	if (ctx->req->current && (m->state_mask & cairn_jsonrpc_get_state()) == 0)
		return;
	if (!ctx->req->include_summary) {
		cairn_json_write_string(ctx->w, m->name);
		return;
	}
	cairn_json_write_object_begin(ctx->w);
	cairn_json_write_named_string(ctx->w, "name", m->name);
	cairn_json_write_named_string(ctx->w, "summary", m->summary ? m->summary : "");
	cairn_json_write_named_bool(ctx->w, "startup", m->state_mask & CAIRN_RPC_STARTUP);
	cairn_json_write_named_bool(ctx->w, "runtime", m->state_mask & CAIRN_RPC_RUNTIME);
	cairn_json_write_object_end(ctx->w);
}

static void
rpc_get_methods(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct get_methods_req r = { 0 };
	struct get_methods_ctx ctx = { .req = &r };

	if (cairn_jsonrpc_decode_params(req, params, g_get_methods_dec, 2, &r))
		return;
	ctx.w = cairn_jsonrpc_begin_result(req);
	if (ctx.w == NULL)
		return;
	cairn_json_write_array_begin(ctx.w);
	cairn_jsonrpc_foreach_method(get_methods_one, &ctx);
	cairn_json_write_array_end(ctx.w);
	cairn_jsonrpc_end_result(req, ctx.w);
}

/* ------------------------------------------------------------------ cairn_get_version */

static void
rpc_cairn_get_version(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct cairn_json_write_ctx *w;
	unsigned maj = 0, min = 0, pat = 0;

	if (cairn_jsonrpc_decode_params(req, params, NULL, 0, NULL))
		return;
	sscanf(CAIRN_VERSION_STRING, "%u.%u.%u", &maj, &min, &pat);
	w = cairn_jsonrpc_begin_result(req);
	if (w == NULL)
		return;
	cairn_json_write_object_begin(w);
	cairn_json_write_named_string(w, "version", "cairn v" CAIRN_VERSION_STRING);
	cairn_json_write_named_object_begin(w, "fields");
	cairn_json_write_named_uint64(w, "major", maj);
	cairn_json_write_named_uint64(w, "minor", min);
	cairn_json_write_named_uint64(w, "patch", pat);
	cairn_json_write_named_string(w, "suffix", "");
	cairn_json_write_object_end(w);
	cairn_json_write_object_end(w);
	cairn_jsonrpc_end_result(req, w);
}

/* ------------------------------------------------------------------ save_config */

static void
rpc_save_config(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct cairn_json_write_ctx *w, *tmp;
	json_t *doc;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (cairn_jsonrpc_decode_params(req, params, NULL, 0, NULL))
		return;
	/* Build it aside first: a subsystem failing half-way must not leave a half-written
	 * result in the reply. */
	tmp = cairn_json_write_begin(0);
	if (tmp == NULL) {
		cairn_jsonrpc_send_rc(req, -CAIRN_ERR_NOMEM, "save_config");
		return;
	}
	rc = cairn_jsonrpc_write_config(tmp);
	if (rc) {
		cairn_json_write_end(tmp, NULL, NULL);
		cairn_jsonrpc_send_rc(req, rc, "save_config: a subsystem failed to dump");
		return;
	}
	rc = cairn_json_write_end(tmp, &text, &len);
	if (rc) {
		cairn_jsonrpc_send_rc(req, rc, "save_config");
		return;
	}
	doc = json_loadb(text, len, 0, NULL);
	free(text);
	if (doc == NULL) {
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INTERNAL_ERROR,
					 "save_config: invalid JSON from a subsystem");
		return;
	}
	w = cairn_jsonrpc_begin_result(req);
	if (w != NULL) {
		cairn_json_write_json(w, doc);
		cairn_jsonrpc_end_result(req, w);
	}
	json_decref(doc);
}

/* ------------------------------------------------------------------ logging */

struct log_level_req {
	char *level;
	char *subsystem;
};

static const struct cairn_json_decoder g_log_level_dec[] = {
	{ "level", CAIRN_JSON_STRING, offsetof(struct log_level_req, level), false },
	{ "subsystem", CAIRN_JSON_STRING, offsetof(struct log_level_req, subsystem), true },
};

static void
rpc_log_set_level(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct log_level_req r = { 0 };
	char mask[128];
	int rc;

	if (cairn_jsonrpc_decode_params(req, params, g_log_level_dec, 2, &r))
		return;
	if (cairn_log_level_from_name(r.level) < 0) {
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
					 "param 'level': unknown level '%.32s' (FATAL, ERR, WARN, "
					 "NOTE, INFO, DEBUG, TRACE)", r.level);
		goto out;
	}
	if (r.subsystem && cairn_log_ss_from_name(r.subsystem) < 0) {
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
					 "param 'subsystem': unknown subsystem '%.32s'",
					 r.subsystem);
		goto out;
	}
	if (r.subsystem)
		snprintf(mask, sizeof(mask), "%s=%s", r.subsystem, r.level);
	else
		snprintf(mask, sizeof(mask), "%s", r.level);
	rc = cairn_log_set_mask(mask);
	if (rc) {
		cairn_jsonrpc_send_rc(req, rc, "log_set_level");
		goto out;
	}
	cairn_jsonrpc_send_bool(req, true);
out:
	cairn_json_decode_free(g_log_level_dec, 2, &r);
}

static void
rpc_log_get_level(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct cairn_json_write_ctx *w;
	int ss;

	if (cairn_jsonrpc_decode_params(req, params, NULL, 0, NULL))
		return;
	w = cairn_jsonrpc_begin_result(req);
	if (w == NULL)
		return;
	cairn_json_write_object_begin(w);
	for (ss = 0; ss < CAIRN_SS_MAX; ss++)
		cairn_json_write_named_string(w, cairn_log_ss_name(ss),
					      cairn_log_level_name(log_level_of(ss)));
	cairn_json_write_object_end(w);
	cairn_jsonrpc_end_result(req, w);
}

struct log_flag_req {
	char *flag;
};

static const struct cairn_json_decoder g_log_flag_dec[] = {
	{ "flag", CAIRN_JSON_STRING, offsetof(struct log_flag_req, flag), false },
};

/* SPDK's log flags turn on debug logs of one component; ours are the subsystems, and
 * "all" means every one. Setting a flag raises it to DEBUG; clearing restores the level
 * it had at startup. */
static void
log_flag(struct cairn_jsonrpc_request *req, const json_t *params, bool set)
{
	struct log_flag_req r = { 0 };
	char mask[64];
	int ss, lo, hi, rc = 0;

	if (cairn_jsonrpc_decode_params(req, params, g_log_flag_dec, 1, &r))
		return;
	if (strcmp(r.flag, "all") == 0) {
		lo = 0;
		hi = CAIRN_SS_MAX - 1;
	} else {
		lo = hi = cairn_log_ss_from_name(r.flag);
		if (lo < 0) {
			cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
						 "param 'flag': unknown flag '%.32s' (see "
						 "log_get_flags)", r.flag);
			goto out;
		}
	}
	for (ss = lo; rc == 0 && ss <= hi; ss++) {
		snprintf(mask, sizeof(mask), "%s=%s", cairn_log_ss_name(ss),
			 cairn_log_level_name(set ? CAIRN_LOG_DEBUG : g_log_startup[ss]));
		rc = cairn_log_set_mask(mask);
	}
	if (rc)
		cairn_jsonrpc_send_rc(req, rc, set ? "log_set_flag" : "log_clear_flag");
	else
		cairn_jsonrpc_send_bool(req, true);
out:
	cairn_json_decode_free(g_log_flag_dec, 1, &r);
}

static void
rpc_log_set_flag(struct cairn_jsonrpc_request *req, const json_t *params)
{
	log_flag(req, params, true);
}

static void
rpc_log_clear_flag(struct cairn_jsonrpc_request *req, const json_t *params)
{
	log_flag(req, params, false);
}

static void
rpc_log_get_flags(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct cairn_json_write_ctx *w;
	int ss;

	if (cairn_jsonrpc_decode_params(req, params, NULL, 0, NULL))
		return;
	w = cairn_jsonrpc_begin_result(req);
	if (w == NULL)
		return;
	cairn_json_write_object_begin(w);
	for (ss = 0; ss < CAIRN_SS_MAX; ss++)
		cairn_json_write_named_bool(w, cairn_log_ss_name(ss),
					    log_level_of(ss) >= CAIRN_LOG_DEBUG);
	cairn_json_write_object_end(w);
	cairn_jsonrpc_end_result(req, w);
}

/* ------------------------------------------------------------------ shutdown */

static void
rpc_app_shutdown(struct cairn_jsonrpc_request *req, const json_t *params)
{
	if (cairn_jsonrpc_decode_params(req, params, NULL, 0, NULL))
		return;
	cairn_jsonrpc_send_bool(req, true);
	cairn_tgt_request_shutdown();
}

static const struct cairn_jsonrpc_method g_app_methods[] = {
	{ "rpc_get_methods", rpc_get_methods, CAIRN_RPC_STARTUP | CAIRN_RPC_RUNTIME,
	  "list the methods (current: only those allowed now)" },
	{ "cairn_get_version", rpc_cairn_get_version, CAIRN_RPC_STARTUP | CAIRN_RPC_RUNTIME,
	  "version of cairn-tgt" },
	{ "save_config", rpc_save_config, CAIRN_RPC_RUNTIME,
	  "live configuration as JSON that --json reloads" },
	{ "log_set_level", rpc_log_set_level, CAIRN_RPC_STARTUP | CAIRN_RPC_RUNTIME,
	  "set the log level (of one subsystem)" },
	{ "log_get_level", rpc_log_get_level, CAIRN_RPC_STARTUP | CAIRN_RPC_RUNTIME,
	  "log level of every subsystem" },
	{ "log_set_flag", rpc_log_set_flag, CAIRN_RPC_STARTUP | CAIRN_RPC_RUNTIME,
	  "enable debug logs of a subsystem ('all' for every one)" },
	{ "log_clear_flag", rpc_log_clear_flag, CAIRN_RPC_STARTUP | CAIRN_RPC_RUNTIME,
	  "restore a subsystem's startup log level" },
	{ "log_get_flags", rpc_log_get_flags, CAIRN_RPC_STARTUP | CAIRN_RPC_RUNTIME,
	  "which subsystems log at debug level" },
	{ "app_shutdown", rpc_app_shutdown, CAIRN_RPC_RUNTIME, "stop cairn-tgt cleanly" },
};

int
tgt_app_rpc_register(void)
{
	return cairn_jsonrpc_register_methods(g_app_methods,
					      sizeof(g_app_methods) / sizeof(g_app_methods[0]));
}

void
tgt_app_rpc_unregister(void)
{
	cairn_jsonrpc_unregister_methods(g_app_methods,
					 sizeof(g_app_methods) / sizeof(g_app_methods[0]));
}
