/*
 * libcairn objects: open computes the layout from the pool map (no RPC); update, fetch,
 * punch and list go straight to the target that holds the dkey (placement by jump hash
 * over the pool map), on that target's own network context (tag 1 + index). Values
 * above PROTO_INLINE_MAX travel by bulk. A target that has a newer pool map answers
 * -CAIRN_ERR_STALE: the client refreshes its map, recomputes the layout and retries once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>
#include <cairn/obj.h>

#define CAIRN_LOG_SS CAIRN_SS_CLIENT
#include "common/hash.h"
#include "common/log.h"
#include "engine/proto.h"

#include "cli_net.h"
#include "cli_obj.h"
#include "cli_pool.h"
#include "client_internal.h"

_Static_assert(CAIRN_COND_DKEY_INSERT == PROTO_COND_DKEY_INSERT &&
                       CAIRN_COND_DKEY_UPDATE == PROTO_COND_DKEY_UPDATE &&
                       CAIRN_COND_AKEY_INSERT == PROTO_COND_AKEY_INSERT &&
                       CAIRN_COND_AKEY_UPDATE == PROTO_COND_AKEY_UPDATE &&
                       CAIRN_COND_PUNCH == PROTO_COND_PUNCH &&
                       CAIRN_COND_DKEY_FETCH == PROTO_COND_DKEY_FETCH &&
                       CAIRN_COND_AKEY_FETCH == PROTO_COND_AKEY_FETCH,
               "the public condition flags are the wire's");

struct cli_obj {
	struct cli_cont *cont;
	struct cli_href *cont_ref;
	struct cairn_obj_id oid;
	pthread_mutex_t lock; /* layout */
	struct cairn_pl_layout layout;
};

static void
obj_free(void *p)
{
	struct cli_obj *o = p;

	cairn_pl_layout_fini(&o->layout);
	cli_href_put(o->cont_ref);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

/* (Re)compute the layout from the pool's current map. */
static int
obj_layout(struct cli_obj *o)
{
	struct cli_pool *pool = o->cont->pool;
	struct cairn_pl_layout l = {0};
	int rc;

	pthread_mutex_lock(&pool->lock);
	rc = cairn_pl_obj_layout(pool->map, o->oid, &l);
	pthread_mutex_unlock(&pool->lock);
	if (rc)
		return rc;
	pthread_mutex_lock(&o->lock);
	cairn_pl_layout_fini(&o->layout);
	o->layout = l;
	pthread_mutex_unlock(&o->lock);
	return 0;
}

/* Endpoint of the target holding dkey (or group `grp` when dkey is NULL). */
static int
obj_ep(struct cli_obj *o, const void *dkey, size_t dkey_len, uint32_t grp, struct cairn_ep *ep,
       uint32_t *map_version)
{
	struct cli_pool *pool = o->cont->pool;
	struct cairn_pmap_target t;
	uint32_t tgt;
	int rc;

	pthread_mutex_lock(&pool->lock);
	pthread_mutex_lock(&o->lock);
	if (dkey) {
		rc = cairn_pl_dkey_target(pool->map, &o->layout, cairn_hash_bytes(dkey, dkey_len, 0),
		                          &tgt);
	} else {
		rc = grp < o->layout.grp_nr ? 0 : -CAIRN_ERR_INVAL;
		tgt = rc ? CAIRN_PL_TGT_NONE : o->layout.shards[grp * o->layout.grp_size];
	}
	if (rc == 0 && tgt == CAIRN_PL_TGT_NONE)
		rc = -CAIRN_ERR_UNREACH;
	if (rc == 0)
		rc = cairn_pmap_target(pool->map, tgt, &t);
	*map_version = pool->map_version;
	pthread_mutex_unlock(&o->lock);
	pthread_mutex_unlock(&pool->lock);
	if (rc)
		return rc;
	ep->rank = t.rank;
	ep->tag = (uint16_t)(1 + t.index);
	return 0;
}

struct obj_op {
	uint32_t rpc;
	struct cli_obj *obj;
	struct cli_href *ref;
	const struct cairn_iov *dkey, *akey;
	struct cairn_iov *value;
	/* list */
	struct cairn_anchor *anchor;
	uint32_t *nr;
	struct cairn_key_desc *kds;
	void *buf;
	size_t buf_len;
	uint32_t cond; /* PROTO_COND_* (CAIRN_COND_*) */
	uint32_t csum; /* FETCH: the checksum type asked for (0: none) */
};

/* One RPC to the dkey's target (grp for dkey-less ops); the reply is handled by `use`. */
static int
obj_rpc(struct obj_op *op, struct obj_in *in, uint32_t grp,
        int (*use)(struct obj_op *op, struct cairn_rpc *rpc), bool *stale)
{
	struct cairn_rpc *rpc;
	struct cairn_ep ep;
	int rc;

	rc = obj_ep(op->obj, in->dkey_len ? in->dkey : NULL, in->dkey_len, grp, &ep,
	            &in->map_version);
	if (rc)
		return rc;
	rc = cli_rpc(ep, CAIRN_NET_OPC(PROTO_OBJ_BASE, op->rpc), in, sizeof(*in), &rpc);
	if (rc == -CAIRN_ERR_STALE)
		*stale = true;
	if (rc)
		return rc;
	rc = use ? use(op, rpc) : 0;
	cairn_rpc_decref(rpc);
	return rc;
}

static int
fetch_use(struct obj_op *op, struct cairn_rpc *rpc)
{
	struct obj_out *o = cairn_rpc_out(rpc);
	int rc;

	op->value->len = o->size;
	if (o->flags & PROTO_OBJ_TRUNC)
		return -CAIRN_ERR_TRUNC;
	if (o->size > op->value->buf_len)
		return -CAIRN_ERR_PROTO;
	if (o->data_len) {
		if (o->data_len != o->size)
			return -CAIRN_ERR_PROTO;
		/* checked before the copy: corrupt bytes never reach the caller's buffer */
		rc = cli_csum_check(op->csum, o, o->data, o->data_len);
		if (rc) {
			op->value->len = 0;
			return rc;
		}
		memcpy(op->value->buf, o->data, o->data_len);
	} else if (o->size) {
		/* arrived by bulk, straight into the caller's buffer */
		rc = cli_csum_check(op->csum, o, op->value->buf, o->size);
		if (rc) {
			memset(op->value->buf, 0, o->size);
			op->value->len = 0;
			return rc;
		}
	}
	return 0;
}

static int
list_use(struct obj_op *op, struct cairn_rpc *rpc)
{
	struct obj_out *o = cairn_rpc_out(rpc);
	const uint8_t *p = o->keys, *end = p + o->keys_len;
	uint32_t i, n = *op->nr, len;
	size_t off = 0;
	uint64_t skip;

	/* keys already stored for this call are counted in *nr; buf is used from off */
	for (i = 0; i < n; i++)
		off += op->kds[i].key_len;
	for (i = 0; i < o->nr_keys; i++) {
		if (end - p < 4)
			return -CAIRN_ERR_PROTO;
		memcpy(&len, p, 4);
		p += 4;
		if ((size_t)(end - p) < len || off + len > op->buf_len)
			return -CAIRN_ERR_PROTO;
		memcpy((uint8_t *)op->buf + off, p, len);
		memset(&op->kds[n], 0, sizeof(op->kds[n]));
		op->kds[n].key_len = len;
		off += len;
		p += len;
		n++;
	}
	*op->nr = n;
	if (o->nr_keys == 0 && !(o->flags & PROTO_OBJ_EOF))
		return -CAIRN_ERR_TRUNC; /* the next key does not fit in what is left of buf */
	memcpy(&skip, op->anchor->body, sizeof(skip));
	skip += o->nr_keys;
	memcpy(op->anchor->body, &skip, sizeof(skip));
	if (o->flags & PROTO_OBJ_EOF) {
		/* next shard group */
		skip = 0;
		memcpy(op->anchor->body, &skip, sizeof(skip));
		op->anchor->shard++;
	}
	return 0;
}

static int
obj_net_once(struct obj_op *op, bool *stale)
{
	struct cli_obj *obj = op->obj;
	struct cli_cont *c = obj->cont;
	struct cairn_bulk *bulk = NULL;
	struct obj_in in = {0};
	struct proto_list_pos pos;
	struct iovec iov;
	uint32_t grp, want;
	void *copy = NULL;
	const void *src;
	int rc = 0;

	in.cond = op->cond;
	memcpy(in.pool, c->pool->uuid, 16);
	memcpy(in.cont, c->uuid, 16);
	in.oid_hi = obj->oid.hi;
	in.oid_lo = obj->oid.lo;
	/* A container opened at a snapshot reads at its epoch and never writes. */
	in.epoch = c->snap_epoch;
	if (in.epoch && (op->rpc == OBJ_RPC_UPDATE || op->rpc == OBJ_RPC_PUNCH))
		return -CAIRN_ERR_PERM;
	if (op->dkey) {
		in.dkey = op->dkey->buf;
		in.dkey_len = (uint32_t)op->dkey->len;
	}
	if (op->akey) {
		in.akey = op->akey->buf;
		in.akey_len = (uint32_t)op->akey->len;
	}
	switch (op->rpc) {
	case OBJ_RPC_UPDATE:
		rc = cli_csum_in(&in, c->csum, op->value->buf, op->value->len, &copy);
		if (rc)
			return rc;
		src = copy ? copy : op->value->buf;
		if (op->value->len <= PROTO_INLINE_MAX) {
			in.data = src;
			in.data_len = (uint32_t)op->value->len;
		} else {
			iov.iov_base = (void *)src;
			iov.iov_len = op->value->len;
			rc = cairn_bulk_create(cli_net_ctx(), &iov, 1, CAIRN_BULK_RO, &bulk);
			if (rc) {
				free(copy);
				return rc;
			}
			cairn_bulk_get_desc(bulk, &in.bulk);
			in.bulk_len = op->value->len;
		}
		rc = obj_rpc(op, &in, 0, NULL, stale);
		break;
	case OBJ_RPC_FETCH:
		op->csum = c->csum;
		in.csum_type = c->csum;
		in.buf_size = op->value->buf_len;
		if (op->value->buf_len > PROTO_INLINE_MAX) {
			iov.iov_base = op->value->buf;
			iov.iov_len = op->value->buf_len > PROTO_VALUE_MAX ? PROTO_VALUE_MAX
			                                                   : op->value->buf_len;
			rc = cairn_bulk_create(cli_net_ctx(), &iov, 1, CAIRN_BULK_RW, &bulk);
			if (rc)
				return rc;
			cairn_bulk_get_desc(bulk, &in.bulk);
			in.bulk_len = iov.iov_len;
		}
		rc = obj_rpc(op, &in, 0, fetch_use, stale);
		break;
	case OBJ_RPC_PUNCH:
		if (op->dkey) {
			rc = obj_rpc(op, &in, 0, NULL, stale);
			break;
		}
		/* the whole object: every group */
		for (grp = 0; rc == 0 && grp < obj->layout.grp_nr; grp++)
			rc = obj_rpc(op, &in, grp, NULL, stale);
		break;
	case OBJ_RPC_LIST_DKEYS:
		want = *op->nr;
		*op->nr = 0;
		while (rc == 0 && *op->nr < want && op->anchor->shard < obj->layout.grp_nr) {
			size_t used = 0;
			uint32_t i;

			for (i = 0; i < *op->nr; i++)
				used += op->kds[i].key_len;
			if (op->buf_len - used < CAIRN_OBJ_KEY_MAX && *op->nr > 0)
				break; /* return what we have rather than risk TRUNC */
			memcpy(&pos.skip, op->anchor->body, sizeof(pos.skip));
			pos.max_keys = want - *op->nr;
			pos.pad = 0;
			in.anchor = &pos;
			in.anchor_len = sizeof(pos);
			in.buf_size = op->buf_len - used; /* key bytes that still fit */
			rc = obj_rpc(op, &in, op->anchor->shard, list_use, stale);
		}
		if (rc == 0 && op->anchor->shard >= obj->layout.grp_nr)
			op->anchor->eof = 1;
		break;
	default:
		rc = -CAIRN_ERR_NOSYS;
	}
	if (bulk)
		cairn_bulk_free(bulk);
	free(copy);
	return rc;
}

static int
obj_net(void *arg)
{
	struct obj_op *op = arg;
	bool stale = false;
	int rc;

	rc = obj_net_once(op, &stale);
	if (rc == -CAIRN_ERR_STALE && stale) {
		CAIRN_INFO("pool map is stale: refreshing and retrying");
		rc = cli_pool_refresh(op->obj->cont->pool);
		if (rc == 0)
			rc = obj_layout(op->obj);
		if (rc == 0)
			rc = obj_net_once(op, &stale);
	}
	return rc;
}

static int
obj_body(struct cli_task *task)
{
	struct obj_op *op = *(struct obj_op **)cli_task_args(task);
	int rc = cli_net_submit(task, obj_net, op);

	if (rc)
		cli_task_complete(task, rc);
	return 0;
}

static void
obj_discard(void *arg)
{
	struct obj_op *op = arg;

	cli_href_put(op->ref);
	free(op);
}

static int
obj_done(struct cli_task *task, void *arg)
{
	(void)task;
	obj_discard(*(struct obj_op **)arg);
	return 0;
}

static int
obj_start(struct cairn_handle oh, uint32_t rpc, struct obj_op **opp)
{
	struct cli_href *ref;
	struct obj_op *op;
	void *obj;
	int rc;

	op = cli_op_new(sizeof(*op), oh.cookie, CLI_HTYPE_OBJ, &obj, &ref, &rc);
	*opp = op;
	if (op == NULL)
		return rc;
	op->obj = obj;
	op->ref = ref;
	op->rpc = rpc;
	*opp = op;
	return 0;
}

static int
obj_run(struct obj_op *op, struct cairn_event *ev)
{
	return cli_op_start(obj_body, obj_done, op, obj_discard, ev);
}

static bool
key_ok(const struct cairn_iov *k)
{
	return k && k->buf && k->len > 0 && k->len <= CAIRN_OBJ_KEY_MAX && k->len <= k->buf_len;
}

/* ------------------------------------------------------------------ API */

/* An id without a class gets the container's default class (its type bits kept); the
 * class must then tolerate the container's redundancy factor. */
static int
obj_class_resolve(struct cli_cont *c, struct cairn_obj_id *oid)
{
	uint32_t oc = (uint32_t)(oid->hi >> CAIRN_OID_CLASS_SHIFT);
	int type, orf;

	if (oc == CAIRN_OC_UNKNOWN) {
		pthread_mutex_lock(&c->lock); /* a set-prop on this handle may change it */
		oc = c->oclass;
		pthread_mutex_unlock(&c->lock);
		type = cairn_obj_id_type(*oid);
		if (type < 0 ||
		    cairn_obj_id_generate(oid, (enum cairn_otype)type, (enum cairn_oclass)oc) != 0)
			return -CAIRN_ERR_INVAL;
	}
	orf = proto_oclass_rf(oc);
	if (orf < 0)
		return -CAIRN_ERR_INVAL;
	if ((uint32_t)orf < c->rf) {
		CAIRN_ERROR("container %s has redundancy factor %u: object class %s tolerates %d "
		            "failure(s); use RP_2G1 (rf 1) or RP_3G1 (rf 2)", c->label, c->rf,
		            cairn_oclass_name((enum cairn_oclass)oc), orf);
		return -CAIRN_ERR_INVAL;
	}
	return 0;
}

/* The CAIRN_COND_* flags an operation accepts; both INSERT and UPDATE of one key level
 * cannot hold at once. */
static bool
cond_ok(uint32_t rpc, uint32_t cond)
{
	switch (rpc) {
	case OBJ_RPC_UPDATE:
		return (cond & ~PROTO_COND_UPDATE_MASK) == 0 &&
		       (cond & (PROTO_COND_DKEY_INSERT | PROTO_COND_DKEY_UPDATE)) !=
		               (PROTO_COND_DKEY_INSERT | PROTO_COND_DKEY_UPDATE) &&
		       (cond & (PROTO_COND_AKEY_INSERT | PROTO_COND_AKEY_UPDATE)) !=
		               (PROTO_COND_AKEY_INSERT | PROTO_COND_AKEY_UPDATE);
	case OBJ_RPC_FETCH:
		return (cond & ~PROTO_COND_FETCH_MASK) == 0;
	case OBJ_RPC_PUNCH:
		return (cond & ~PROTO_COND_PUNCH) == 0;
	default:
		return cond == 0;
	}
}

static int
open_body(struct cli_task *task)
{
	cli_task_complete(task, 0);
	return 0;
}

int
cairn_obj_open(struct cairn_handle coh, struct cairn_obj_id oid, unsigned int mode,
               struct cairn_handle *oh, struct cairn_event *ev)
{
	struct cli_task *task;
	struct cli_obj *o;
	uint64_t cookie;
	int rc;

	if (!cli_initialized() || oh == NULL || mode != 0)
		return -CAIRN_ERR_INVAL;
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return -CAIRN_ERR_NOMEM;
	o->cont = cli_cont_get(coh.cookie, &o->cont_ref);
	if (o->cont == NULL) {
		free(o);
		return -CAIRN_ERR_NOHANDLE;
	}
	pthread_mutex_init(&o->lock, NULL);
	rc = obj_class_resolve(o->cont, &oid);
	if (rc) {
		cli_href_put(o->cont_ref);
		pthread_mutex_destroy(&o->lock);
		free(o);
		return rc;
	}
	o->oid = oid;
	rc = obj_layout(o);
	if (rc == -CAIRN_ERR_INVAL)
		CAIRN_ERROR("object class %s does not fit the pool (S2/S4/S8 need that many "
		            "targets, RP_2G1/RP_3G1 their replicas on distinct ranks)",
		            cairn_oclass_name(cairn_obj_id_class(oid)) ?: "?");
	if (rc == 0)
		rc = cli_hdl_insert(o, CLI_HTYPE_OBJ, obj_free, NULL, &cookie);
	if (rc) {
		obj_free(o);
		return rc;
	}
	oh->cookie = cookie;
	/* Local only, but an event still completes through the usual path. */
	rc = cli_task_create(open_body, cli_ev2sched(ev), &task);
	if (rc) {
		cli_hdl_remove(cookie, CLI_HTYPE_OBJ);
		return rc;
	}
	return cli_task_run(task, ev);
}

int
cairn_obj_close(struct cairn_handle oh, struct cairn_event *ev)
{
	struct cli_task *task;
	int rc;

	if (!cli_initialized())
		return -CAIRN_ERR_INVAL;
	rc = cli_hdl_remove(oh.cookie, CLI_HTYPE_OBJ);
	if (rc)
		return rc;
	rc = cli_task_create(open_body, cli_ev2sched(ev), &task);
	return rc ? rc : cli_task_run(task, ev);
}

int
cairn_obj_update(struct cairn_handle oh, const struct cairn_iov *dkey,
                 const struct cairn_iov *akey, const struct cairn_iov *value,
                 struct cairn_event *ev)
{
	return cairn_obj_update_cond(oh, 0, dkey, akey, value, ev);
}

int
cairn_obj_update_cond(struct cairn_handle oh, uint32_t flags, const struct cairn_iov *dkey,
                      const struct cairn_iov *akey, const struct cairn_iov *value,
                      struct cairn_event *ev)
{
	struct obj_op *op;
	int rc;

	if (!key_ok(dkey) || !key_ok(akey) || value == NULL || value->buf == NULL ||
	    value->len == 0 || value->len > value->buf_len || !cond_ok(OBJ_RPC_UPDATE, flags))
		return -CAIRN_ERR_INVAL;
	if (value->len > CAIRN_OBJ_VALUE_MAX)
		return -CAIRN_ERR_OVERFLOW;
	rc = obj_start(oh, OBJ_RPC_UPDATE, &op);
	if (rc)
		return rc;
	op->dkey = dkey;
	op->akey = akey;
	op->value = (struct cairn_iov *)value;
	op->cond = flags;
	return obj_run(op, ev);
}

int
cairn_obj_fetch(struct cairn_handle oh, const struct cairn_iov *dkey,
                const struct cairn_iov *akey, struct cairn_iov *value, struct cairn_event *ev)
{
	return cairn_obj_fetch_cond(oh, 0, dkey, akey, value, ev);
}

int
cairn_obj_fetch_cond(struct cairn_handle oh, uint32_t flags, const struct cairn_iov *dkey,
                     const struct cairn_iov *akey, struct cairn_iov *value,
                     struct cairn_event *ev)
{
	struct obj_op *op;
	int rc;

	if (!key_ok(dkey) || !key_ok(akey) || value == NULL ||
	    (value->buf == NULL && value->buf_len > 0) || !cond_ok(OBJ_RPC_FETCH, flags))
		return -CAIRN_ERR_INVAL;
	rc = obj_start(oh, OBJ_RPC_FETCH, &op);
	if (rc)
		return rc;
	op->dkey = dkey;
	op->akey = akey;
	op->value = value;
	op->cond = flags;
	return obj_run(op, ev);
}

int
cairn_obj_punch(struct cairn_handle oh, const struct cairn_iov *dkey, struct cairn_event *ev)
{
	struct obj_op *op;
	int rc;

	if (dkey && !key_ok(dkey))
		return -CAIRN_ERR_INVAL;
	rc = obj_start(oh, OBJ_RPC_PUNCH, &op);
	if (rc)
		return rc;
	op->dkey = dkey;
	return obj_run(op, ev);
}

int
cairn_obj_punch_cond(struct cairn_handle oh, uint32_t flags, const struct cairn_iov *dkey,
                     const struct cairn_iov *akey, struct cairn_event *ev)
{
	struct obj_op *op;
	int rc;

	/* a conditional punch names one key: the whole object spans every shard */
	if (!key_ok(dkey) || (akey && !key_ok(akey)) || !cond_ok(OBJ_RPC_PUNCH, flags))
		return -CAIRN_ERR_INVAL;
	rc = obj_start(oh, OBJ_RPC_PUNCH, &op);
	if (rc)
		return rc;
	op->dkey = dkey;
	op->akey = akey;
	op->cond = flags;
	return obj_run(op, ev);
}

int
cairn_obj_list_dkey(struct cairn_handle oh, struct cairn_anchor *anchor, uint32_t *nr,
                    struct cairn_key_desc *kds, void *buf, size_t buf_len,
                    struct cairn_event *ev)
{
	struct obj_op *op;
	int rc;

	if (anchor == NULL || nr == NULL || *nr == 0 || kds == NULL || buf == NULL ||
	    buf_len == 0)
		return -CAIRN_ERR_INVAL;
	rc = obj_start(oh, OBJ_RPC_LIST_DKEYS, &op);
	if (rc)
		return rc;
	op->anchor = anchor;
	op->nr = nr;
	op->kds = kds;
	op->buf = buf;
	op->buf_len = buf_len;
	return obj_run(op, ev);
}

/* ------------------------------------------------------------------ internal (cli_obj.h) */

struct cli_obj *
cli_obj_get(uint64_t cookie, struct cli_href **ref)
{
	return cli_hdl_lookup(cookie, CLI_HTYPE_OBJ, ref);
}

uint32_t
cli_obj_grp_nr(struct cli_obj *obj)
{
	uint32_t n;

	pthread_mutex_lock(&obj->lock);
	n = obj->layout.grp_nr;
	pthread_mutex_unlock(&obj->lock);
	return n;
}

static int
obj_call_once(struct cli_obj *obj, uint32_t opc, struct obj_in *in, uint32_t grp,
              int (*use)(void *arg, struct cairn_rpc *rpc), void *arg, bool *stale)
{
	struct cairn_rpc *rpc;
	struct cairn_ep ep;
	int rc;

	memcpy(in->pool, obj->cont->pool->uuid, 16);
	memcpy(in->cont, obj->cont->uuid, 16);
	in->oid_hi = obj->oid.hi;
	in->oid_lo = obj->oid.lo;
	/* A container opened at a snapshot reads at its epoch and never writes. */
	in->epoch = obj->cont->snap_epoch;
	if (in->epoch && (opc == OBJ_RPC_UPDATE || opc == OBJ_RPC_PUNCH ||
	                  opc == OBJ_RPC_ARRAY_UPDATE || opc == OBJ_RPC_ARRAY_TRUNC))
		return -CAIRN_ERR_PERM;
	rc = obj_ep(obj, in->dkey_len ? in->dkey : NULL, in->dkey_len, grp, &ep,
	            &in->map_version);
	if (rc)
		return rc;
	rc = cli_rpc(ep, CAIRN_NET_OPC(PROTO_OBJ_BASE, opc), in, sizeof(*in), &rpc);
	if (rc == -CAIRN_ERR_STALE)
		*stale = true;
	if (rc)
		return rc;
	if (in->csum_type && (opc == OBJ_RPC_FETCH || opc == OBJ_RPC_ARRAY_FETCH)) {
		const struct obj_out *o = cairn_rpc_out(rpc);

		/* inline data is checked before `use` copies it anywhere */
		if (o->data_len && !(o->flags & PROTO_OBJ_TRUNC))
			rc = cli_csum_check(in->csum_type, o, o->data, o->data_len);
	}
	if (rc == 0)
		rc = use ? use(arg, rpc) : 0;
	cairn_rpc_decref(rpc);
	return rc;
}

/* One call, and on STALE a map refresh and one retry. */
static int
obj_call_retry(struct cli_obj *obj, uint32_t opc, struct obj_in *in, uint32_t grp,
               int (*use)(void *arg, struct cairn_rpc *rpc), void *arg)
{
	bool stale = false;
	int rc;

	rc = obj_call_once(obj, opc, in, grp, use, arg, &stale);
	if (rc == -CAIRN_ERR_STALE && stale) {
		CAIRN_INFO("pool map is stale: refreshing and retrying");
		rc = cli_pool_refresh(obj->cont->pool);
		if (rc == 0)
			rc = obj_layout(obj);
		if (rc == 0)
			rc = obj_call_once(obj, opc, in, grp, use, arg, &stale);
	}
	return rc;
}

uint32_t
cli_obj_csum(struct cli_obj *obj)
{
	return obj->cont->csum;
}

int
cli_obj_call(struct cli_obj *obj, uint32_t opc, struct obj_in *in, uint32_t grp,
             int (*use)(void *arg, struct cairn_rpc *rpc), void *arg)
{
	uint32_t cs = obj->cont->csum;
	void *copy = NULL;
	int rc;

	/* Inline values are checksummed here; callers sending by bulk did it already
	 * (cli_obj_array.c), and check bulk fetches themselves. */
	if (cs && (opc == OBJ_RPC_UPDATE || opc == OBJ_RPC_ARRAY_UPDATE) && in->csum_type == 0 &&
	    in->bulk_len == 0 && in->data_len) {
		rc = cli_csum_in(in, cs, in->data, in->data_len, &copy);
		if (rc)
			return rc;
		if (copy)
			in->data = copy;
	}
	if (opc == OBJ_RPC_FETCH || opc == OBJ_RPC_ARRAY_FETCH)
		in->csum_type = cs;
	rc = obj_call_retry(obj, opc, in, grp, use, arg);
	free(copy);
	return rc;
}

int
cli_obj_fetch_cb(struct cairn_handle oh, const struct cairn_iov *dkey,
                 const struct cairn_iov *akey, struct cairn_iov *value, cli_task_cb_t cb,
                 const void *arg, size_t arg_size, struct cairn_event *ev)
{
	struct obj_op *op;
	int rc;

	if (!key_ok(dkey) || !key_ok(akey) || value == NULL ||
	    (value->buf == NULL && value->buf_len > 0))
		return -CAIRN_ERR_INVAL;
	rc = obj_start(oh, OBJ_RPC_FETCH, &op);
	if (rc)
		return rc;
	op->dkey = dkey;
	op->akey = akey;
	op->value = value;
	return cli_op_start_cb(obj_body, obj_done, op, obj_discard, cb, arg, arg_size, ev);
}
