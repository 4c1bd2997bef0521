/*
 * The engine's mgmt module: dRPC methods the control plane uses to supervise an engine
 * (ping, get_info, set_rank, prep_shutdown, shutdown). Handlers run in ULTs on the
 * system xstream, which owns struct engine_info.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_MGMT
#include "common/log.h"
#include "drpc/drpc.h"
#include "drpc/setup.h"
#include "rt/module.h"
#include "rt/rt.h"

#include "engine_internal.h"
#include "srv_group.h"
#include "mgmt.pb-c.h"

#define MGMT_MAX_RANK (1u << 20)

/* Pack a protobuf-c message into a malloc'd body. */
static int
mgmt_pack(const ProtobufCMessage *m, uint8_t **body, size_t *body_len)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);

	if (buf == NULL)
		return -CAIRN_ERR_NOMEM;
	*body_len = protobuf_c_message_pack(m, buf);
	*body = buf;
	return 0;
}

static int
mgmt_ping(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	Cairn__Mgmt__PingResp r = CAIRN__MGMT__PING_RESP__INIT;

	r.uptime_us = cairn_rt_now_us() - engine_info()->start_us;
	return mgmt_pack(&r.base, body, body_len);
}

/* Bytes of a target's storage: a file's size, or a block device's (seek to its end). */
static uint64_t
target_size(const char *path, struct stat *st)
{
	off_t end;
	int fd;

	if (stat(path, st) != 0)
		return 0;
	if (!S_ISBLK(st->st_mode))
		return (uint64_t)st->st_size;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	end = lseek(fd, 0, SEEK_END);
	close(fd);
	return end > 0 ? (uint64_t)end : 0;
}

static int
mgmt_get_info(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	Cairn__Mgmt__GetInfoResp r = CAIRN__MGMT__GET_INFO_RESP__INIT;
	Cairn__Mgmt__TargetInfo ti[ENGINE_MAX_TARGETS], *tip[ENGINE_MAX_TARGETS];
	char paths[ENGINE_MAX_TARGETS][256];
	const char *mods[32];
	struct engine_info *info = engine_info();
	struct stat st;
	unsigned i, n;

	r.rank = info->rank;
	r.targets = info->targets;
	r.helpers = info->helpers;
	r.uri = info->uri;
	r.pid = (uint32_t)getpid();
	r.system = info->system;
	r.state = (char *)engine_state_name(info->state);
	r.uptime_us = cairn_rt_now_us() - info->start_us;
	n = engine_module_names(mods, 32);
	r.n_modules = n;
	r.modules = (char **)mods;
	r.storage_dir = (char *)(info->storage_dir ? info->storage_dir : "");
	r.net_contexts = engine_net_contexts();
	if (info->storage_dir) {
		for (i = 0; i < info->targets && i < ENGINE_MAX_TARGETS; i++) {
			cairn__mgmt__target_info__init(&ti[i]);
			snprintf(paths[i], sizeof(paths[i]), "%s/target-%u", info->storage_dir, i);
			ti[i].idx = i;
			ti[i].path = paths[i];
			ti[i].size = target_size(paths[i], &st);
			tip[i] = &ti[i];
		}
		r.n_target_info = i;
		r.target_info = tip;
	}
	return mgmt_pack(&r.base, body, body_len);
}

static int
mgmt_set_rank(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	struct engine_info *info = engine_info();
	Cairn__Mgmt__SetRankReq *req;
	size_t slen;
	int rc = 0;

	req = cairn__mgmt__set_rank_req__unpack(NULL, call->body_len, call->body);
	if (req == NULL || req->base.n_unknown_fields) {
		cairn_drpc_errmsg(body, body_len, "SET_RANK: malformed SetRankReq body");
		rc = -CAIRN_ERR_PROTO;
		goto out;
	}
	slen = strlen(req->system);
	if (req->rank >= MGMT_MAX_RANK || slen == 0 || slen >= ENGINE_SYSTEM_MAX ||
	    (req->system_uuid.len != 0 && req->system_uuid.len != 16)) {
		cairn_drpc_errmsg(body, body_len,
		                  "SET_RANK: rank must be < %u, system name "
		                  "1..%d bytes, system_uuid 16 bytes",
		                  MGMT_MAX_RANK, ENGINE_SYSTEM_MAX - 1);
		rc = -CAIRN_ERR_INVAL;
		goto out;
	}
	if (info->rank >= 0 && (uint32_t)info->rank != req->rank) {
		cairn_drpc_errmsg(body, body_len, "SET_RANK: engine already has rank %d",
		                  info->rank);
		rc = -CAIRN_ERR_BUSY;
		goto out;
	}
	if (info->rank < 0) {
		rc = engine_net_start(req->rank);
		if (rc) {
			cairn_drpc_errmsg(body, body_len,
			                  "SET_RANK: cannot serve the network on "
			                  "%s: %s",
			                  info->uri, cairn_strerror(rc));
			goto out;
		}
	}
	info->rank = (int)req->rank;
	memcpy(info->system, req->system, slen + 1);
	if (req->system_uuid.len == 16)
		memcpy(info->system_uuid.b, req->system_uuid.data, 16);
	CAIRN_NOTE("rank %u in system %s", req->rank, info->system);
out:
	if (req)
		cairn__mgmt__set_rank_req__free_unpacked(req, NULL);
	return rc;
}

static int
mgmt_prep_shutdown(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	engine_info()->state = ENGINE_STOPPING;
	CAIRN_NOTE("preparing to shut down");
	return 0;
}

static int
mgmt_shutdown(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	engine_info()->state = ENGINE_STOPPING;
	/* The main thread stops the dRPC server, which first lets this call's Response go
	 * out (the server waits for calls in flight). */
	engine_request_shutdown();
	return 0;
}

/* Membership push from the control plane (srv_group.h). */
static int
mgmt_group_update(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	char err[256];
	int rc;

	if (engine_info()->rank < 0) {
		cairn_drpc_errmsg(body, body_len, "GROUP_UPDATE: engine has no rank yet (SET_RANK "
		                                  "first)");
		return -CAIRN_ERR_BUSY;
	}
	rc = srv_group_update_body(call->body, call->body_len, err, sizeof(err));
	if (rc)
		cairn_drpc_errmsg(body, body_len, "GROUP_UPDATE: %s", err);
	return rc;
}

/*
 * SETUP on an engine that already runs (the waiting phase in engine.c answers the first
 * one): the control plane repeats it when its first call timed out. The same
 * configuration is acknowledged; a different one is refused (restart the engine).
 */
static int
mgmt_setup(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	struct engine_info *info = engine_info();
	struct cairn_drpc_setup *s;
	const char *dir;
	char err[512];
	int rc;

	s = malloc(sizeof(*s));
	if (s == NULL)
		return -CAIRN_ERR_NOMEM;
	rc = cairn_drpc_setup_decode(call->body, call->body_len, s, err, sizeof(err));
	if (rc) {
		cairn_drpc_errmsg(body, body_len, "SETUP refused: %s", err);
		goto out;
	}
	dir = info->storage_dir ? info->storage_dir : "";
	if (s->targets != info->targets || s->helpers != info->helpers ||
	    strcmp(s->storage_dir, dir) != 0 || info->rank < 0 || s->rank != (uint32_t)info->rank ||
	    strcmp(s->system, info->system) != 0) {
		cairn_drpc_errmsg(body, body_len,
		                  "SETUP refused: the engine already runs as rank %d of '%s' "
		                  "with %u target(s) on '%s'; restart it to change its "
		                  "configuration",
		                  info->rank, info->system, info->targets, dir);
		rc = -CAIRN_ERR_BUSY;
	}
out:
	free(s);
	return rc;
}

static const struct cairn_drpc_method g_mgmt_methods[] = {
        {CAIRN_DRPC_MGMT_SETUP, "setup", mgmt_setup},
        {CAIRN_DRPC_MGMT_PING, "ping", mgmt_ping},
        {CAIRN_DRPC_MGMT_GET_INFO, "get_info", mgmt_get_info},
        {CAIRN_DRPC_MGMT_SET_RANK, "set_rank", mgmt_set_rank},
        {CAIRN_DRPC_MGMT_PREP_SHUTDOWN, "prep_shutdown", mgmt_prep_shutdown},
        {CAIRN_DRPC_MGMT_SHUTDOWN, "shutdown", mgmt_shutdown},
        {CAIRN_DRPC_MGMT_GROUP_UPDATE, "group_update", mgmt_group_update},
};

static const struct cairn_drpc_handler_table g_mgmt_drpc = {
        .module = CAIRN_DRPC_MODULE_MGMT,
        .name = "mgmt",
        .methods = g_mgmt_methods,
        .nr_methods = sizeof(g_mgmt_methods) / sizeof(g_mgmt_methods[0]),
};

struct cairn_module g_engine_mgmt_module = {
        .abi_version = CAIRN_MODULE_ABI_VERSION,
        .name = "mgmt",
        .id = ENGINE_MOD_MGMT,
        .version = 1,
        .drpc_handlers = &g_mgmt_drpc,
        .rpc_proto = &g_engine_mgmt_proto,
};
