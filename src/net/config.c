/*
 * The "net" configuration section (YAML, through common/config.h): defaults for new
 * contexts, e.g.
 *
 *   max_msg: 1M        # largest request/reply body
 *   credits: 256       # RPCs in flight per endpoint
 *   timeout: 60s       # default RPC timeout
 *   max_conns: 1024    # accepted connections per context
 *   backoff_min: 1ms   # reconnect backoff, doubling ...
 *   backoff_max: 1s    # ... up to this
 *   spin_hint: 200us   # keep the xstream spinning this long while replies are due
 *   rx_stall: 10s      # close a connection stuck mid-message this long
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cairn/errno.h"
#include "common/config.h"
#include "net/net.h"

struct net_cfg {
	uint64_t max_msg;
	uint32_t credits;
	uint64_t timeout_ns;
	uint32_t max_conns;
	uint64_t backoff_min_ns;
	uint64_t backoff_max_ns;
	uint64_t spin_hint_ns;
	uint64_t rx_stall_ns;
};

#define NS_US 1000ull
#define NS_S (1000ull * 1000 * 1000)

static const struct cairn_cfg_field g_net_cfg_fields[] = {
        {.name = "max_msg",
         .type = CAIRN_CFG_SIZE,
         .offset = offsetof(struct net_cfg, max_msg),
         .min = 64,
         .max = 256ull << 20},
        {.name = "credits",
         .type = CAIRN_CFG_U32,
         .offset = offsetof(struct net_cfg, credits),
         .min = 1,
         .max = 1u << 20},
        {.name = "timeout",
         .type = CAIRN_CFG_DURATION,
         .offset = offsetof(struct net_cfg, timeout_ns),
         .min = NS_US,
         .max = 24 * 3600 * NS_S},
        {.name = "max_conns",
         .type = CAIRN_CFG_U32,
         .offset = offsetof(struct net_cfg, max_conns),
         .min = 1,
         .max = 1u << 20},
        {.name = "backoff_min",
         .type = CAIRN_CFG_DURATION,
         .offset = offsetof(struct net_cfg, backoff_min_ns),
         .min = NS_US,
         .max = 3600 * NS_S},
        {.name = "backoff_max",
         .type = CAIRN_CFG_DURATION,
         .offset = offsetof(struct net_cfg, backoff_max_ns),
         .min = NS_US,
         .max = 3600 * NS_S},
        {.name = "spin_hint",
         .type = CAIRN_CFG_DURATION,
         .offset = offsetof(struct net_cfg, spin_hint_ns),
         .min = 0,
         .max = NS_S},
        {.name = "rx_stall",
         .type = CAIRN_CFG_DURATION,
         .offset = offsetof(struct net_cfg, rx_stall_ns),
         .min = 1000 * NS_US,
         .max = 3600 * NS_S},
        {.name = NULL},
};

static const struct cairn_cfg_schema g_net_cfg_schema = {
        .name = "net",
        .size = sizeof(struct net_cfg),
        .fields = g_net_cfg_fields,
};

static void
to_cfg(const struct cairn_net_ctx_opts *o, struct net_cfg *c)
{
	c->max_msg = o->max_msg;
	c->credits = o->credits;
	c->timeout_ns = o->timeout_us * NS_US;
	c->max_conns = o->max_conns;
	c->backoff_min_ns = o->backoff_min_us * NS_US;
	c->backoff_max_ns = o->backoff_max_us * NS_US;
	c->spin_hint_ns = o->spin_hint_us * NS_US;
	c->rx_stall_ns = o->rx_stall_us * NS_US;
}

static int
from_cfg(const struct net_cfg *c, struct cairn_net_ctx_opts *o, char *err, size_t errlen)
{
	if (c->backoff_max_ns < c->backoff_min_ns) {
		if (err)
			snprintf(err, errlen, "net: backoff_max is below backoff_min");
		return -CAIRN_ERR_INVAL;
	}
	o->max_msg = (uint32_t)c->max_msg;
	o->credits = c->credits;
	o->timeout_us = c->timeout_ns / NS_US;
	o->max_conns = c->max_conns;
	o->backoff_min_us = c->backoff_min_ns / NS_US;
	o->backoff_max_us = c->backoff_max_ns / NS_US;
	o->spin_hint_us = c->spin_hint_ns / NS_US;
	o->rx_stall_us = c->rx_stall_ns / NS_US;
	return 0;
}

int
cairn_net_opts_from_yaml(const char *name, const char *text, size_t len,
                         struct cairn_net_ctx_opts *opts, char *err, size_t errlen)
{
	struct net_cfg c;
	int rc;

	to_cfg(opts, &c);
	rc = cairn_cfg_load_string(name, text, len, &g_net_cfg_schema, &c, err, errlen);
	cairn_cfg_free(&g_net_cfg_schema, &c);
	if (rc)
		return rc;
	return from_cfg(&c, opts, err, errlen);
}

int
cairn_net_opts_from_yaml_file(const char *path, struct cairn_net_ctx_opts *opts, char *err,
                              size_t errlen)
{
	struct net_cfg c;
	int rc;

	to_cfg(opts, &c);
	rc = cairn_cfg_load_file(path, &g_net_cfg_schema, &c, err, errlen);
	cairn_cfg_free(&g_net_cfg_schema, &c);
	if (rc)
		return rc;
	return from_cfg(&c, opts, err, errlen);
}

struct json_t *
cairn_net_opts_to_json(const struct cairn_net_ctx_opts *opts)
{
	struct net_cfg c;

	to_cfg(opts, &c);
	return cairn_cfg_to_json(&g_net_cfg_schema, &c);
}
