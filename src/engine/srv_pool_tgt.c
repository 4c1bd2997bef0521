/*
 * A pool's shards on ranks other than the pool service's (engine to engine, over the pool
 * protocol's TGT_* opcodes on tag 0, so on the system xstream of both ends).
 *
 * Rank side: TGT_CREATE makes the pool's shard on every target of this engine and records
 * the pool in metadata table SRV_MD_POOL_TGTS (struct pool_tgt_df: uuid, size, map version,
 * service rank), so the shards survive a restart (orphan reaping keeps them) and object
 * RPCs are checked against the pool's map version here too (srv_pool_map.h). TGT_DESTROY
 * forgets the record first, then removes the shards. TGT_UPDATE moves the map version on;
 * TGT_CONT creates/destroys a container or pins/unpins a snapshot on every target (pushed
 * by the service rank on change, so aggregation here respects the container's snapshots).
 *
 * Service side: srv_pool_tgt_call() sends one such RPC and waits (the calling ULT yields).
 */
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_POOL
#include "common/log.h"
#include "engine/proto.h"
#include "net/net.h"
#include "rt/rt.h"
#include "vos/vos.h"

#include "engine_internal.h"
#include "srv_group.h"
#include "srv_internal.h"
#include "srv_pool.h"

#define POOL_TGT_MAGIC 0x54474c50u /* "PLGT" */
#define POOL_TGT_VERSION 1
struct pool_tgt_df {
	uint32_t magic;
	uint16_t version;
	uint16_t flags;
	uint8_t uuid[16];
	uint64_t size_per_target;
	uint32_t map_version;
	uint32_t svc_rank;
	uint8_t reserved[24];
};
_Static_assert(sizeof(struct pool_tgt_df) == 64, "pool_tgt_df is 64 bytes");

/* Shard create/destroy may take a while (fallocate of every target's file); queries and
 * map updates are quick, and a pool connect/query waits on them. */
#define TGT_RPC_TIMEOUT_US (60ull * 1000 * 1000)
#define TGT_RPC_QUICK_TIMEOUT_US (5ull * 1000 * 1000)

/* Pools this rank holds shards of: `ver` published last (release), 0 = unused; read
 * from any xstream (srv_obj.c's stale-map check), written on the system xstream. */
static struct {
	uint64_t uuid[2];
	uint32_t ver;
} g_tgt_vers[SRV_MAX_POOLS];

static int
tgt_slot(const uint8_t uuid[16], bool alloc)
{
	uint64_t w[2];
	unsigned i;
	int free_slot = -1;

	memcpy(w, uuid, 16);
	for (i = 0; i < SRV_MAX_POOLS; i++) {
		uint32_t v = __atomic_load_n(&g_tgt_vers[i].ver, __ATOMIC_ACQUIRE);

		if (v == 0) {
			if (free_slot < 0)
				free_slot = (int)i;
			continue;
		}
		if (g_tgt_vers[i].uuid[0] == w[0] && g_tgt_vers[i].uuid[1] == w[1])
			return (int)i;
	}
	return alloc ? free_slot : -1;
}

static void
tgt_publish(const uint8_t uuid[16], uint32_t ver)
{
	int i = tgt_slot(uuid, ver != 0);
	uint64_t w[2];

	if (i < 0)
		return;
	memcpy(w, uuid, 16);
	__atomic_store_n(&g_tgt_vers[i].ver, 0, __ATOMIC_RELEASE);
	if (ver == 0)
		return;
	__atomic_store_n(&g_tgt_vers[i].uuid[0], w[0], __ATOMIC_RELAXED);
	__atomic_store_n(&g_tgt_vers[i].uuid[1], w[1], __ATOMIC_RELAXED);
	__atomic_store_n(&g_tgt_vers[i].ver, ver, __ATOMIC_RELEASE);
}

uint32_t
srv_pool_tgt_map_version_of(const uint8_t uuid[16])
{
	uint64_t w[2];
	unsigned i;

	memcpy(w, uuid, 16);
	for (i = 0; i < SRV_MAX_POOLS; i++) {
		uint32_t v = __atomic_load_n(&g_tgt_vers[i].ver, __ATOMIC_ACQUIRE);

		if (v != 0 && __atomic_load_n(&g_tgt_vers[i].uuid[0], __ATOMIC_RELAXED) == w[0] &&
		    __atomic_load_n(&g_tgt_vers[i].uuid[1], __ATOMIC_RELAXED) == w[1] &&
		    __atomic_load_n(&g_tgt_vers[i].ver, __ATOMIC_ACQUIRE) == v)
			return v;
	}
	return 0;
}

bool
srv_pool_tgt_known(const struct cairn_uuid *pool)
{
	return srv_pool_tgt_map_version_of(pool->b) != 0;
}

static int
tgt_load_one(void *arg, const void *key, uint32_t klen)
{
	struct pool_tgt_df df;
	uint32_t len = sizeof(df);
	char us[CAIRN_UUID_STR_LEN];
	int rc;

	if (klen != 16)
		return 0;
	rc = srv_md_get(SRV_MD_POOL_TGTS, key, klen, &df, &len);
	if (rc == -CAIRN_ERR_NONEXIST)
		return 0;
	cairn_uuid_unparse(key, us);
	if (rc == 0 && (len != sizeof(df) || df.magic != POOL_TGT_MAGIC ||
	                df.version != POOL_TGT_VERSION || df.map_version == 0 ||
	                memcmp(df.uuid, key, 16) != 0))
		rc = -CAIRN_ERR_CORRUPT;
	if (rc) {
		CAIRN_ERROR("pool %s: target record unusable: %s", us, cairn_strerror(rc));
		return 0;
	}
	if (tgt_slot(df.uuid, true) < 0) {
		CAIRN_ERROR("pool %s: too many pools (at most %d)", us, SRV_MAX_POOLS);
		return 0;
	}
	tgt_publish(df.uuid, df.map_version);
	CAIRN_NOTE("pool %s: shards held for the pool service on rank %u (map version %u)", us,
	           df.svc_rank, df.map_version);
	return 0;
}

int
srv_pool_tgt_load(void)
{
	return srv_md_list(SRV_MD_POOL_TGTS, tgt_load_one, NULL);
}

void
srv_pool_tgt_unload(void)
{
	memset(g_tgt_vers, 0, sizeof(g_tgt_vers));
}

/* ------------------------------------------------------------------ rank side */

struct tgt_cont_arg {
	struct cairn_uuid pool;
	uint8_t cont[16];
	uint32_t op;
	uint64_t epoch;
	int rc;
};

static void
tgt_cont_ult(void *arg)
{
	struct tgt_cont_arg *a = arg;
	struct cairn_vos_pool *vp = srv_vos_shard(&a->pool);

	if (vp == NULL) {
		a->rc = -CAIRN_ERR_NONEXIST;
		return;
	}
	switch (a->op) {
	case PROTO_TGT_CONT_CREATE:
		a->rc = cairn_vos_cont_exists(vp, a->cont) ? 0 : cairn_vos_cont_create(vp, a->cont);
		break;
	case PROTO_TGT_CONT_DESTROY:
		a->rc = cairn_vos_cont_exists(vp, a->cont) ? cairn_vos_cont_destroy(vp, a->cont)
		                                           : 0;
		break;
	case PROTO_TGT_SNAP_CREATE:
		a->rc = cairn_vos_snap_create(vp, a->cont, a->epoch);
		break;
	case PROTO_TGT_SNAP_DESTROY:
		a->rc = cairn_vos_snap_destroy(vp, a->cont, a->epoch);
		if (a->rc == -CAIRN_ERR_NONEXIST)
			a->rc = 0;
		break;
	default:
		a->rc = -CAIRN_ERR_INVAL;
	}
}

static uint32_t
undo_op(uint32_t op)
{
	return op == PROTO_TGT_CONT_CREATE ? PROTO_TGT_CONT_DESTROY
	       : op == PROTO_TGT_SNAP_CREATE ? PROTO_TGT_SNAP_DESTROY
	                                     : 0;
}

/* The op on every target of this engine; a create is undone on the targets done. */
static int
tgt_cont_local(const struct pool_tgt_in *in)
{
	struct tgt_cont_arg a = {.op = in->op, .epoch = in->epoch};
	unsigned n = engine_info()->targets, i;
	int rc = 0, one;

	memcpy(a.pool.b, in->uuid, 16);
	memcpy(a.cont, in->cont, 16);
	for (i = 0; i < n; i++) {
		a.rc = -CAIRN_ERR_MISC;
		one = cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, i), tgt_cont_ult, &a);
		one = one ? one : a.rc;
		if (one && undo_op(in->op)) {
			a.op = undo_op(in->op);
			while (i-- > 0)
				cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, i), tgt_cont_ult,
				                  &a);
			return one;
		}
		if (one && rc == 0)
			rc = one;
	}
	return rc;
}

static int
tgt_record(const struct pool_tgt_in *in, uint64_t size)
{
	struct pool_tgt_df df;

	memset(&df, 0, sizeof(df));
	df.magic = POOL_TGT_MAGIC;
	df.version = POOL_TGT_VERSION;
	memcpy(df.uuid, in->uuid, 16);
	df.size_per_target = size;
	df.map_version = in->map_version;
	df.svc_rank = in->svc_rank;
	return srv_md_put(SRV_MD_POOL_TGTS, in->uuid, 16, &df, sizeof(df));
}

static int
tgt_create(const struct pool_tgt_in *in, struct pool_tgt_out *o)
{
	struct cairn_uuid u;
	int rc;

	memcpy(u.b, in->uuid, 16);
	if (in->size < SRV_SHARD_MIN_SIZE || in->size > SRV_SHARD_MAX_SIZE ||
	    in->map_version == 0)
		return -CAIRN_ERR_INVAL;
	if (srv_pool_lookup_uuid(&u) || srv_pool_tgt_known(&u))
		return -CAIRN_ERR_EXIST;
	if (tgt_slot(in->uuid, true) < 0)
		return -CAIRN_ERR_OVERFLOW;
	rc = srv_vos_shards_create(&u, in->size & ~4095ull);
	if (rc)
		return rc;
	rc = tgt_record(in, in->size & ~4095ull);
	if (rc) {
		srv_vos_shards_destroy(&u);
		return rc;
	}
	tgt_publish(in->uuid, in->map_version);
	o->targets = engine_info()->targets;
	o->shards = engine_info()->targets;
	CAIRN_NOTE("pool %02x%02x%02x%02x...: shards created on %u target(s) for the pool "
	           "service on rank %u",
	           in->uuid[0], in->uuid[1], in->uuid[2], in->uuid[3], o->targets, in->svc_rank);
	return 0;
}

static int
tgt_destroy(const struct pool_tgt_in *in)
{
	struct cairn_uuid u;
	int rc;

	memcpy(u.b, in->uuid, 16);
	if (srv_pool_lookup_uuid(&u))
		return -CAIRN_ERR_BUSY; /* this rank serves the pool itself: not through here */
	/* record first: a crash in between leaves orphan shards, reaped at the next start */
	rc = srv_md_del(SRV_MD_POOL_TGTS, in->uuid, 16);
	if (rc && rc != -CAIRN_ERR_NONEXIST)
		return rc;
	tgt_publish(in->uuid, 0);
	rc = srv_vos_shards_destroy(&u);
	if (rc)
		CAIRN_WARN("pool %02x%02x%02x%02x...: some shards could not be removed: %s",
		           in->uuid[0], in->uuid[1], in->uuid[2], in->uuid[3], cairn_strerror(rc));
	return 0;
}

static int
tgt_update(const struct pool_tgt_in *in)
{
	struct pool_tgt_df df;
	uint32_t len = sizeof(df);
	int rc;

	if (in->map_version == 0)
		return -CAIRN_ERR_INVAL;
	rc = srv_md_get(SRV_MD_POOL_TGTS, in->uuid, 16, &df, &len);
	if (rc)
		return rc;
	if (len != sizeof(df) || df.magic != POOL_TGT_MAGIC)
		return -CAIRN_ERR_CORRUPT;
	if (in->map_version <= df.map_version)
		return 0;
	rc = tgt_record(in, df.size_per_target);
	if (rc)
		return rc;
	tgt_publish(in->uuid, in->map_version);
	return 0;
}

void
srv_pool_tgt_handler(struct cairn_rpc *rpc)
{
	const struct pool_tgt_in *in = cairn_rpc_in(rpc);
	struct pool_tgt_out *o = cairn_rpc_out(rpc);
	uint32_t opc = cairn_rpc_opc(rpc) & 0xff;
	struct srv_space sp;
	struct cairn_uuid u;
	int rc;

	memcpy(u.b, in->uuid, 16);
	o->targets = engine_info()->targets;
	if (!srv_md_ready() || srv_vos_pools_dir() == NULL) {
		rc = -CAIRN_ERR_NOSYS;
		goto out;
	}
	switch (opc) {
	case POOL_RPC_TGT_CREATE:
		rc = tgt_create(in, o);
		break;
	case POOL_RPC_TGT_DESTROY:
		rc = tgt_destroy(in);
		break;
	case POOL_RPC_TGT_QUERY:
		rc = srv_vos_shards_query(&u, &sp);
		if (rc == 0) {
			o->shards = sp.nr_shards;
			o->total = sp.total;
			o->free = sp.free;
		}
		break;
	case POOL_RPC_TGT_UPDATE:
		rc = tgt_update(in);
		break;
	case POOL_RPC_TGT_CONT:
		if (in->op == 0 || in->op > PROTO_TGT_CONT_OP_MAX)
			rc = -CAIRN_ERR_INVAL;
		else if (!srv_pool_tgt_known(&u) && srv_pool_lookup_uuid(&u) == NULL)
			rc = -CAIRN_ERR_NONEXIST;
		else
			rc = tgt_cont_local(in);
		break;
	default:
		rc = -CAIRN_ERR_NOSYS;
	}
out:
	if (rc) {
		CAIRN_INFO("pool target RPC %u from rank %u: %s", opc, in->svc_rank,
		           cairn_strerror(rc));
		cairn_rpc_reply_err(rpc, rc);
		return;
	}
	cairn_rpc_reply(rpc);
}

/* ------------------------------------------------------------------ service side */

int
srv_pool_tgt_call(uint32_t rank, uint32_t opc, const struct pool_tgt_in *in,
                  struct pool_tgt_out *out)
{
	struct cairn_net_ctx *ctx = engine_net_sys_ctx();
	struct cairn_ep ep = {.rank = rank, .tag = 0};
	struct cairn_rpc *rpc;
	int rc;

	if (ctx == NULL)
		return -CAIRN_ERR_UNREACH; /* no network: a one-engine system */
	if (!srv_group_rank_joined(rank))
		return -CAIRN_ERR_UNREACH;
	rc = cairn_rpc_create(ctx, ep, CAIRN_NET_OPC(PROTO_POOL_BASE, opc), &rpc);
	if (rc)
		return rc;
	memcpy(cairn_rpc_in(rpc), in, sizeof(*in));
	((struct pool_tgt_in *)cairn_rpc_in(rpc))->svc_rank = (uint32_t)engine_info()->rank;
	cairn_rpc_set_timeout(rpc, opc == POOL_RPC_TGT_QUERY || opc == POOL_RPC_TGT_UPDATE
	                                   ? TGT_RPC_QUICK_TIMEOUT_US
	                                   : TGT_RPC_TIMEOUT_US);
	rc = cairn_rpc_send_wait(rpc);
	if (rc == 0 && out)
		*out = *(struct pool_tgt_out *)cairn_rpc_out(rpc);
	cairn_rpc_decref(rpc);
	return rc;
}

int
srv_pool_tgt_cont_fanout(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                         uint32_t op, uint64_t epoch)
{
	struct pool_tgt_in in = {.op = op, .epoch = epoch};
	struct srv_pool *p = srv_pool_lookup_uuid(pool);
	uint32_t self = (uint32_t)engine_info()->rank;
	unsigned i;
	int rc = 0, one;

	if (p == NULL)
		return 0;
	memcpy(in.uuid, pool->b, 16);
	memcpy(in.cont, cont->b, 16);
	for (i = 0; i < p->nr_ranks; i++) {
		if (p->ranks[i].rank == self)
			continue;
		one = srv_pool_tgt_call(p->ranks[i].rank, POOL_RPC_TGT_CONT, &in, NULL);
		if (one == 0)
			continue;
		CAIRN_WARN("pool %s: container op %u on rank %u failed: %s", p->label, op,
		           p->ranks[i].rank, cairn_strerror(one));
		if (undo_op(op)) {
			in.op = undo_op(op);
			while (i-- > 0)
				if (p->ranks[i].rank != self)
					srv_pool_tgt_call(p->ranks[i].rank, POOL_RPC_TGT_CONT, &in,
					                  NULL);
			return one;
		}
		if (rc == 0)
			rc = one;
	}
	return rc;
}
