/*
 * libcairn pools: connect (pool map from the pool service), query (refreshes the map),
 * disconnect. The network part of each call runs in a ULT on the client xstream
 * (cli_net.c); results are handed to the caller's thread in task completion callbacks.
 */
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>
#include <cairn/pool.h>

#define CAIRN_LOG_SS CAIRN_SS_CLIENT
#include "common/log.h"
#include "common/uuid.h"
#include "engine/proto.h"

#include "cli_glob.h"
#include "cli_net.h"
#include "cli_pool.h"
#include "client_internal.h"

struct cli_pool *
cli_pool_get(uint64_t cookie, struct cli_href **ref)
{
	return cli_hdl_lookup(cookie, CLI_HTYPE_POOL, ref);
}

struct cairn_ep
cli_pool_svc_ep(const struct cli_pool *pool)
{
	struct cairn_ep ep = {.rank = pool->rank, .tag = 0};

	return ep;
}

static void
pool_free(void *obj)
{
	struct cli_pool *p = obj;

	cairn_pmap_destroy(p->map);
	pthread_mutex_destroy(&p->lock);
	free(p);
	cli_net_put();
}

static void
pool_info_fill(struct cli_pool *p, struct cairn_pool_info *info)
{
	pthread_mutex_lock(&p->lock);
	memcpy(info->uuid, p->uuid, 16);
	snprintf(info->label, sizeof(info->label), "%s", p->label);
	info->nr_targets = p->nr_targets;
	info->map_version = p->map_version;
	info->total = p->total;
	info->free = p->free;
	pthread_mutex_unlock(&p->lock);
}

/* "RANK URI\n" lines of a connect/query reply into the client's network group, so
 * object RPCs reach every rank of the pool map. Checked before anything is set. */
static int
pool_uris_apply(const char *label, const char *uris)
{
	const char *line = uris, *nl;
	char buf[320], *sp, *end;
	unsigned long rank;
	char host[128];
	uint16_t port;
	int pass, rc;

	if (uris == NULL)
		return 0;
	for (pass = 0; pass < 2; pass++) {
		for (line = uris; *line != '\0'; line = nl + 1) {
			nl = strchr(line, '\n');
			if (nl == NULL || (size_t)(nl - line) >= sizeof(buf))
				goto bad;
			memcpy(buf, line, (size_t)(nl - line));
			buf[nl - line] = '\0';
			sp = strchr(buf, ' ');
			if (sp == NULL || sp == buf)
				goto bad;
			*sp = '\0';
			rank = strtoul(buf, &end, 10);
			if (*end != '\0' || rank >= (1ul << 20) ||
			    cairn_net_uri_parse(sp + 1, host, sizeof(host), &port) != 0)
				goto bad;
			if (pass == 0)
				continue;
			rc = cli_net_rank_set((uint32_t)rank, sp + 1);
			if (rc) {
				CAIRN_ERROR("pool %s: cannot add rank %lu (%s): %s", label, rank,
				            sp + 1, cairn_strerror(rc));
				return rc;
			}
		}
	}
	return 0;
bad:
	CAIRN_ERROR("pool %s: the engine sent a malformed rank URI list", label);
	return -CAIRN_ERR_PROTO;
}

/* Apply a connect/query reply (map decoded and validated). */
static int
pool_apply(struct cli_pool *p, const struct pool_out *o)
{
	struct cairn_pool_map *map, *old = NULL;
	int rc;

	rc = pool_uris_apply(o->label, o->uris);
	if (rc)
		return rc;

	rc = cairn_pmap_decode(o->map, o->map_len, &map);
	if (rc) {
		CAIRN_ERROR("pool %s: the pool map received is invalid: %s", o->label,
		            cairn_strerror(rc));
		return rc;
	}
	pthread_mutex_lock(&p->lock);
	if (p->map == NULL || cairn_pmap_version(map) >= p->map_version) {
		old = p->map;
		p->map = map;
		p->map_version = cairn_pmap_version(map);
		p->nr_targets = cairn_pmap_target_count(map);
	} else {
		old = map; /* older than ours: keep ours */
	}
	memcpy(p->uuid, o->uuid, 16);
	snprintf(p->label, sizeof(p->label), "%s", o->label);
	p->total = o->total;
	p->free = o->free;
	pthread_mutex_unlock(&p->lock);
	cairn_pmap_destroy(old);
	return 0;
}

int
cli_pool_refresh(struct cli_pool *p)
{
	struct pool_in in = {.hdl = p->srv_hdl};
	struct cairn_rpc *rpc;
	int rc;

	memcpy(in.uuid, p->uuid, 16);
	rc = cli_rpc(cli_pool_svc_ep(p), CAIRN_NET_OPC(PROTO_POOL_BASE, POOL_RPC_QUERY), &in,
	             sizeof(in), &rpc);
	if (rc)
		return rc;
	rc = pool_apply(p, cairn_rpc_out(rpc));
	cairn_rpc_decref(rpc);
	return rc;
}

/* ------------------------------------------------------------------ connect */

/* The calling process's user name and group names (effective gid first), as the pool
 * ACL sees them; numeric fallbacks ("uid1000") for ids without a name. */
static void
cli_principal(char *user, size_t ulen, char *groups, size_t glen)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	gid_t gids[64];
	char buf[4096];
	size_t n = 0;
	int i, nr;

	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &pwp) == 0 && pwp &&
	    strlen(pw.pw_name) < ulen && strlen(pw.pw_name) < PROTO_USER_MAX)
		snprintf(user, ulen, "%s", pw.pw_name);
	else
		snprintf(user, ulen, "uid%u", (unsigned)geteuid());
	groups[0] = '\0';
	gids[0] = getegid();
	nr = getgroups(63, gids + 1);
	nr = nr < 0 ? 1 : nr + 1;
	for (i = 0; i < nr; i++) {
		char name[80];
		int w;

		if (i > 0 && gids[i] == gids[0])
			continue;
		if (getgrgid_r(gids[i], &gr, buf, sizeof(buf), &grp) == 0 && grp &&
		    strlen(gr.gr_name) < sizeof(name))
			snprintf(name, sizeof(name), "%s", gr.gr_name);
		else
			snprintf(name, sizeof(name), "gid%u", (unsigned)gids[i]);
		w = snprintf(groups + n, glen - n, "%s%s", n ? "," : "", name);
		if (w < 0 || (size_t)w >= glen - n) {
			groups[n] = '\0'; /* the list is bounded: drop what does not fit */
			break;
		}
		n += (size_t)w;
	}
}

struct connect_op {
	char user[PROTO_USER_MAX];
	char groups[PROTO_GROUPS_MAX];
	unsigned int flags;
	char *pool_id;
	char *uri;
	struct cli_pool *pool;
	struct cairn_handle *poh;
	struct cairn_pool_info *info;
	bool net_ref;
};

static int
connect_net(void *arg)
{
	struct connect_op *op = arg;
	struct pool_in in = {.pool = op->pool_id, .flags = op->flags, .user = op->user,
	                     .groups = op->groups};
	struct cairn_ep ep = {.rank = 0, .tag = 0};
	struct cairn_rpc *rpc;
	struct pool_out *o;
	int rc;

	rc = cli_rpc(ep, CAIRN_NET_OPC(PROTO_POOL_BASE, POOL_RPC_CONNECT), &in, sizeof(in), &rpc);
	if (rc == -CAIRN_ERR_PERM)
		CAIRN_ERROR("pool %s: permission denied: connecting %s needs the '%s' "
		            "permission in the pool's ACL for user %s (groups %s); see `cairnctl "
		            "pool get-acl`", op->pool_id,
		            op->flags == PROTO_POOL_CONNECT_RO ? "read-only" : "read-write",
		            op->flags == PROTO_POOL_CONNECT_RO ? "r" : "rw", op->user, op->groups);
	if (rc)
		return rc;
	o = cairn_rpc_out(rpc);
	op->pool->srv_hdl = o->hdl;
	op->pool->flags = op->flags;
	rc = pool_apply(op->pool, o);
	cairn_rpc_decref(rpc);
	if (rc) {
		/* Do not leave a connection behind on the service. */
		struct pool_in din = {.hdl = op->pool->srv_hdl};

		memcpy(din.uuid, op->pool->uuid, 16);
		if (cli_rpc(ep, CAIRN_NET_OPC(PROTO_POOL_BASE, POOL_RPC_DISCONNECT), &din,
		            sizeof(din), &rpc) == 0)
			cairn_rpc_decref(rpc);
	}
	return rc;
}

static int
connect_body(struct cli_task *task)
{
	struct connect_op *op = *(struct connect_op **)cli_task_args(task);
	int rc;

	rc = cli_net_get(op->uri);
	if (rc == 0) {
		op->net_ref = true;
		rc = cli_net_submit(task, connect_net, op);
	}
	if (rc)
		cli_task_complete(task, rc);
	return 0;
}

static void
connect_op_free(struct connect_op *op)
{
	free(op->pool_id);
	free(op->uri);
	free(op);
}

static int
connect_done(struct cli_task *task, void *arg)
{
	struct connect_op *op = *(struct connect_op **)arg;
	struct cli_pool *p = op->pool;
	uint64_t cookie;
	int rc = cli_task_rc(task);

	if (rc == 0) {
		/* The pool object owns the network reference from here on. */
		rc = cli_hdl_insert(p, CLI_HTYPE_POOL, pool_free, NULL, &cookie);
		if (rc == 0) {
			op->poh->cookie = cookie;
			if (op->info)
				pool_info_fill(p, op->info);
			connect_op_free(op);
			return 0;
		}
		cli_task_set_rc(task, rc);
	}
	cairn_pmap_destroy(p->map);
	pthread_mutex_destroy(&p->lock);
	free(p);
	if (op->net_ref)
		cli_net_put();
	connect_op_free(op);
	return 0;
}

/* A connect whose task never ran. */
static void
connect_discard(void *arg)
{
	struct connect_op *op = arg;

	pthread_mutex_destroy(&op->pool->lock);
	free(op->pool);
	connect_op_free(op);
}

int
cairn_pool_connect(const char *pool, const char *sys, unsigned int flags,
                   struct cairn_handle *poh, struct cairn_pool_info *info,
                   struct cairn_event *ev)
{
	struct connect_op *op;

	if (!cli_initialized())
		return -CAIRN_ERR_INVAL;
	if (pool == NULL || poh == NULL || (flags & ~(CAIRN_PC_RO | CAIRN_PC_RW)) != 0 ||
	    flags == (CAIRN_PC_RO | CAIRN_PC_RW) || pool[0] == '\0' ||
	    strlen(pool) >= PROTO_LABEL_MAX + 40)
		return -CAIRN_ERR_INVAL;
	if (sys == NULL)
		sys = getenv("CAIRN_SYSTEM_URI");
	if (sys == NULL) {
		CAIRN_ERROR("no system URI: pass one or set CAIRN_SYSTEM_URI");
		return -CAIRN_ERR_INVAL;
	}
	op = calloc(1, sizeof(*op));
	if (op == NULL)
		return -CAIRN_ERR_NOMEM;
	op->pool_id = strdup(pool);
	op->uri = strdup(sys);
	op->pool = calloc(1, sizeof(*op->pool));
	if (op->pool_id == NULL || op->uri == NULL || op->pool == NULL) {
		free(op->pool);
		connect_op_free(op);
		return -CAIRN_ERR_NOMEM;
	}
	pthread_mutex_init(&op->pool->lock, NULL);
	op->flags = flags == CAIRN_PC_RO ? PROTO_POOL_CONNECT_RO : PROTO_POOL_CONNECT_RW;
	cli_principal(op->user, sizeof(op->user), op->groups, sizeof(op->groups));
	op->poh = poh;
	op->info = info;
	return cli_op_start(connect_body, connect_done, op, connect_discard, ev);
}

/* ------------------------------------------------------------------ disconnect, query */

struct pool_op {
	struct cli_pool *pool;
	struct cli_href *ref;
	uint64_t cookie;
	struct cairn_pool_info *info;
	bool disconnect;
};

static int
pool_op_net(void *arg)
{
	struct pool_op *op = arg;
	struct pool_in in = {.hdl = op->pool->srv_hdl};
	struct cairn_rpc *rpc;
	int rc;

	if (!op->disconnect)
		return cli_pool_refresh(op->pool);
	if (op->pool->g2l)
		return 0; /* a shared connection: only its owner ends it on the engine */
	memcpy(in.uuid, op->pool->uuid, 16);
	rc = cli_rpc(cli_pool_svc_ep(op->pool),
	             CAIRN_NET_OPC(PROTO_POOL_BASE, POOL_RPC_DISCONNECT), &in, sizeof(in), &rpc);
	if (rc == 0)
		cairn_rpc_decref(rpc);
	return rc;
}

static int
pool_op_body(struct cli_task *task)
{
	struct pool_op *op = *(struct pool_op **)cli_task_args(task);
	int rc = cli_net_submit(task, pool_op_net, op);

	if (rc)
		cli_task_complete(task, rc);
	return 0;
}

static int
pool_op_done(struct cli_task *task, void *arg)
{
	struct pool_op *op = *(struct pool_op **)arg;

	if (op->disconnect)
		cli_hdl_remove(op->cookie, CLI_HTYPE_POOL);
	else if (cli_task_rc(task) == 0 && op->info)
		pool_info_fill(op->pool, op->info);
	cli_href_put(op->ref); /* the last one frees the pool (and the network) */
	free(op);
	return 0;
}

static void
pool_op_discard(void *arg)
{
	struct pool_op *op = arg;

	cli_href_put(op->ref);
	free(op);
}

static int
pool_op_start(struct cairn_handle poh, bool disconnect, struct cairn_pool_info *info,
              struct cairn_event *ev)
{
	struct cli_href *ref;
	struct pool_op *op;
	void *pool;
	int rc;

	op = cli_op_new(sizeof(*op), poh.cookie, CLI_HTYPE_POOL, &pool, &ref, &rc);
	if (op == NULL)
		return rc;
	op->pool = pool;
	op->ref = ref;
	op->cookie = poh.cookie;
	op->info = info;
	op->disconnect = disconnect;
	return cli_op_start(pool_op_body, pool_op_done, op, pool_op_discard, ev);
}

int
cairn_pool_disconnect(struct cairn_handle poh, struct cairn_event *ev)
{
	return pool_op_start(poh, true, NULL, ev);
}

int
cairn_pool_query(struct cairn_handle poh, struct cairn_pool_info *info, struct cairn_event *ev)
{
	if (info == NULL)
		return -CAIRN_ERR_INVAL;
	return pool_op_start(poh, false, info, ev);
}

/* ------------------------------------------------------------------ global handles */

/*
 * POOL payload, layout 1 (little-endian):
 *   u16 layout | u16 connect flags (PROTO_POOL_CONNECT_*) | u32 service rank |
 *   u64 connection cookie on the engine | uuid[16] | u64 total | u64 free |
 *   u16 n + label (0..63 bytes) | u16 n + system URI (1..127 bytes) |
 *   u32 n + pool map (cairn_pmap_encode)
 */
#define POOL_GLOB_URI_MAX 128

static size_t
pool_pack_size(void *obj)
{
	struct cli_pool *p = obj;
	char uri[POOL_GLOB_URI_MAX];
	size_t n;

	cli_net_uri(uri, sizeof(uri));
	pthread_mutex_lock(&p->lock);
	n = 2 + 2 + 4 + 8 + 16 + 8 + 8 + 2 + strlen(p->label) + 2 + strlen(uri) + 4 +
	    cairn_pmap_encoded_size(p->map);
	pthread_mutex_unlock(&p->lock);
	return n;
}

static int
pool_pack(void *obj, void *buf, size_t len)
{
	struct cli_pool *p = obj;
	struct cli_gcur c = {.p = buf, .len = len};
	char uri[POOL_GLOB_URI_MAX];
	size_t msize, used = 0;
	int rc;

	cli_net_uri(uri, sizeof(uri));
	if (uri[0] == '\0')
		return -CAIRN_ERR_SHUTDOWN;
	pthread_mutex_lock(&p->lock);
	cli_gput_u(&c, CLI_GLOB_POOL_LAYOUT, 2);
	cli_gput_u(&c, p->flags, 2);
	cli_gput_u(&c, p->rank, 4);
	cli_gput_u(&c, p->srv_hdl, 8);
	cli_gput(&c, p->uuid, 16);
	cli_gput_u(&c, p->total, 8);
	cli_gput_u(&c, p->free, 8);
	cli_gput_str(&c, p->label);
	cli_gput_str(&c, uri);
	msize = cairn_pmap_encoded_size(p->map);
	cli_gput_u(&c, msize, 4);
	rc = c.err || msize > len - c.off ? -CAIRN_ERR_TRUNC
	                                  : cairn_pmap_encode(p->map, c.p + c.off, msize, &used);
	pthread_mutex_unlock(&p->lock);
	if (rc == 0 && (used != msize || c.off + used != len))
		rc = -CAIRN_ERR_TRUNC; /* the map changed size between pack_size and pack */
	return rc;
}

/* The engine must still know the connection: a pool query on it (refreshes the map). */
static int
pool_verify_net(void *arg)
{
	return cli_pool_refresh(arg);
}

static int
pool_unpack(const void *buf, size_t len, struct cairn_handle *h)
{
	struct cli_gcur c = {.p = (uint8_t *)buf, .len = len};
	char uri[POOL_GLOB_URI_MAX], host[64];
	struct cairn_uuid u;
	struct cli_pool *p;
	const uint8_t *mp;
	uint16_t port;
	uint32_t mlen;
	uint64_t cookie, layout;
	int rc;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -CAIRN_ERR_NOMEM;
	pthread_mutex_init(&p->lock, NULL);
	layout = cli_gget_u(&c, 2);
	if (layout != CLI_GLOB_POOL_LAYOUT) {
		/* a newer layout: VERSION; anything else is not ours */
		rc = !c.err && layout > CLI_GLOB_POOL_LAYOUT ? -CAIRN_ERR_VERSION : -CAIRN_ERR_PROTO;
		goto err;
	}
	rc = -CAIRN_ERR_PROTO;
	p->flags = (uint32_t)cli_gget_u(&c, 2);
	p->rank = (uint32_t)cli_gget_u(&c, 4);
	p->srv_hdl = cli_gget_u(&c, 8);
	mp = cli_gget(&c, 16);
	if (mp != NULL)
		memcpy(p->uuid, mp, 16);
	p->total = cli_gget_u(&c, 8);
	p->free = cli_gget_u(&c, 8);
	if (!cli_gget_str(&c, p->label, 0, sizeof(p->label)) ||
	    !cli_gget_str(&c, uri, 1, sizeof(uri)))
		goto err;
	mlen = (uint32_t)cli_gget_u(&c, 4);
	mp = cli_gget(&c, mlen);
	memcpy(u.b, p->uuid, 16);
	if (c.err || mp == NULL || c.off != len || p->srv_hdl == 0 || cairn_uuid_is_null(&u) ||
	    (p->flags != PROTO_POOL_CONNECT_RO && p->flags != PROTO_POOL_CONNECT_RW) ||
	    p->free > p->total || cairn_net_uri_parse(uri, host, sizeof(host), &port) != 0)
		goto err;
	if (cairn_pmap_decode(mp, mlen, &p->map) != 0)
		goto err;
	p->map_version = cairn_pmap_version(p->map);
	p->nr_targets = cairn_pmap_target_count(p->map);
	p->g2l = true;
	rc = cli_net_get(uri);
	if (rc)
		goto err;
	rc = cli_glob_net_run(pool_verify_net, p);
	if (rc) {
		CAIRN_ERROR("pool %s: the engine did not accept the shared connection: %s", p->label,
		            cairn_strerror(rc));
		pool_free(p); /* drops the network reference */
		return rc;
	}
	rc = cli_hdl_insert(p, CLI_HTYPE_POOL, pool_free, NULL, &cookie);
	if (rc) {
		pool_free(p);
		return rc;
	}
	h->cookie = cookie;
	return 0;
err:
	cairn_pmap_destroy(p->map);
	pthread_mutex_destroy(&p->lock);
	free(p);
	return rc;
}

static const struct cli_htype_ops g_pool_glob_ops = {
	.name = "pool",
	.pack_size = pool_pack_size,
	.pack = pool_pack,
	.unpack = pool_unpack,
};

const struct cli_htype_ops *
cli_pool_glob_ops(void)
{
	return &g_pool_glob_ops;
}
