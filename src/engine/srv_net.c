/*
 * The engine's network: once the control plane has given the engine its rank
 * (SET_RANK), one RPC context per xstream that serves RPCs: tag 0 on the system xstream
 * (metadata services), tag 1 + i on target i's main xstream (that target's object I/O).
 * Tag t listens on the engine's URI port + t. Modules bring their RPC protocols through
 * cairn_module.rpc_proto (registered by the engine's module table); the mgmt module's
 * protocol has MGMT_RPC_PING, which answers with the serving rank, tag and xstream role.
 */
#include <stdio.h>
#include <string.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_ENGINE
#include "common/log.h"
#include "net/net.h"
#include "rt/rt.h"

#include "engine_internal.h"
#include "srv_group.h"

static struct cairn_net_group *g_group;
static struct cairn_net_ctx *g_ctx[1 + ENGINE_MAX_TARGETS];
static unsigned g_nr_ctx;

/* ------------------------------------------------------------------ mgmt protocol */

static int
ping_out_enc(struct cairn_enc *e, const void *p)
{
	const struct engine_ping_out *o = p;

	cairn_enc_u32(e, o->rank);
	cairn_enc_u32(e, o->tag);
	cairn_enc_u32(e, o->xs_role);
	return cairn_enc_rc(e);
}

static int
ping_out_dec(struct cairn_dec *d, void *p)
{
	struct engine_ping_out *o = p;

	cairn_dec_u32(d, &o->rank);
	cairn_dec_u32(d, &o->tag);
	cairn_dec_u32(d, &o->xs_role);
	return cairn_dec_rc(d);
}

static void
ping_handler(struct cairn_rpc *rpc)
{
	struct engine_ping_out *o = cairn_rpc_out(rpc);
	struct cairn_net_ctx *ctx = cairn_rpc_ctx(rpc);

	o->rank = cairn_net_ctx_rank(ctx);
	o->tag = cairn_net_ctx_tag(ctx);
	o->xs_role = (uint32_t)cairn_xs_role(cairn_xs_self());
	cairn_rpc_reply(rpc);
}

static const struct cairn_rpc_def g_mgmt_rpcs[] = {
        [MGMT_RPC_PING] =
                {
                        .name = "mgmt_ping",
                        .flags = CAIRN_RPC_QUEUE_FRONT,
                        .in_size = 0,
                        .out_size = sizeof(struct engine_ping_out),
                        .out_enc = ping_out_enc,
                        .out_dec = ping_out_dec,
                        .handler = ping_handler,
                },
};

const struct cairn_proto g_engine_mgmt_proto = {
        .name = "mgmt",
        .base = ENGINE_PROTO_MGMT,
        .version = 1,
        .count = sizeof(g_mgmt_rpcs) / sizeof(g_mgmt_rpcs[0]),
        .rpcs = g_mgmt_rpcs,
};

/* ------------------------------------------------------------------ contexts */

struct ctx_arg {
	uint32_t rank;
	uint16_t tag;
	int rc;
};

static void
ctx_create_ult(void *arg)
{
	struct ctx_arg *a = arg;
	struct cairn_net_ctx_opts o;

	cairn_net_ctx_opts_default(&o);
	o.group = g_group;
	o.rank = a->rank;
	o.tag = a->tag;
	a->rc = cairn_net_ctx_create(&o, &g_ctx[a->tag]);
}

static void
ctx_destroy_ult(void *arg)
{
	struct cairn_net_ctx **ctx = arg;

	cairn_net_ctx_destroy(*ctx);
	*ctx = NULL;
}

static struct cairn_xstream *
tag_xs(unsigned tag)
{
	return tag == 0 ? cairn_xs_by_role(CAIRN_XS_SYSTEM, 0)
	                : cairn_xs_by_role(CAIRN_XS_MAIN, tag - 1);
}

int
engine_net_start(uint32_t rank)
{
	struct engine_info *info = engine_info();
	struct ctx_arg a = {.rank = rank};
	unsigned tag, n = 1 + info->targets;
	int rc;

	if (g_group != NULL)
		return 0;
	if (info->uri[0] == '\0')
		return 0; /* no fabric port configured: management only */
	rc = cairn_net_group_create("cairn", &g_group);
	if (rc)
		return rc;
	rc = cairn_net_group_rank_add(g_group, rank, info->uri);
	if (rc) {
		CAIRN_ERROR("network: bad URI %s: %s", info->uri, cairn_strerror(rc));
		goto err_group;
	}
	for (tag = 0; tag < n; tag++) {
		a.tag = (uint16_t)tag;
		a.rc = -CAIRN_ERR_MISC;
		if (tag_xs(tag) == cairn_xs_self())
			ctx_create_ult(&a);
		else if ((rc = cairn_rt_run_sync(tag_xs(tag), ctx_create_ult, &a)) != 0)
			a.rc = rc;
		if (a.rc) {
			rc = a.rc;
			CAIRN_ERROR("network: cannot create context %u (%s + %u): %s", tag,
			            info->uri, tag, cairn_strerror(rc));
			goto err_ctx;
		}
		g_nr_ctx = tag + 1;
	}
	CAIRN_NOTE("network: rank %u serves %s with %u context(s) (tag 0 system, 1..%u "
	           "targets)",
	           rank, info->uri, n, n - 1);
	return 0;

err_ctx:
	engine_net_stop();
	return rc;
err_group:
	cairn_net_group_destroy(g_group);
	g_group = NULL;
	return rc;
}

void
engine_net_stop(void)
{
	unsigned tag;

	for (tag = g_nr_ctx; tag-- > 0;) {
		if (g_ctx[tag] == NULL)
			continue;
		if (tag_xs(tag) == cairn_xs_self())
			ctx_destroy_ult(&g_ctx[tag]);
		else
			cairn_rt_run_sync(tag_xs(tag), ctx_destroy_ult, &g_ctx[tag]);
	}
	g_nr_ctx = 0;
	if (g_group) {
		cairn_net_group_destroy(g_group);
		g_group = NULL;
	}
}

unsigned
engine_net_contexts(void)
{
	return g_nr_ctx;
}

struct cairn_net_group *
engine_net_group(void)
{
	return g_group;
}

struct cairn_net_ctx *
engine_net_sys_ctx(void)
{
	return g_nr_ctx > 0 ? g_ctx[0] : NULL;
}
