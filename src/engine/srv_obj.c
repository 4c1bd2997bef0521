/*
 * The engine's `obj` module: object I/O RPCs, served on each target's own xstream
 * (network tag 1 + target index) against that target's VOS shard of the pool. Values
 * are single values of (dkey, akey); up to PROTO_INLINE_MAX bytes they travel inside
 * the RPC, above by bulk (the handler GETs the update's data from the client's buffer,
 * and PUTs a fetched value into it). A client whose pool map version is older than the
 * target's gets -CAIRN_ERR_STALE and must refresh its map (pool query) and retry.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_OBJ
#include "common/log.h"
#include "engine/proto.h"
#include "net/net.h"
#include "rt/module.h"
#include "rt/rt.h"
#include "vos/vos.h"

#include "engine_internal.h"
#include "srv_internal.h"
#include "srv_obj_csum.h"
#include "srv_pool_map.h"

#define OBJ_LIST_MAX_BYTES (256u << 10)
#define OBJ_LIST_MAX_KEYS 16384u

/* Value buffers are block aligned and sized: the uring bdev then does O_DIRECT I/O
 * straight from/to them instead of allocating and copying through a bounce buffer
 * (measured: the bounce memcpy was ~11% of the engine's CPU for 1 MiB updates). */
#define SRV_OBJ_BUF_ALIGN 4096u
void *
srv_obj_buf_alloc(uint64_t len)
{
	return aligned_alloc(SRV_OBJ_BUF_ALIGN,
	                     (len + SRV_OBJ_BUF_ALIGN - 1) & ~(uint64_t)(SRV_OBJ_BUF_ALIGN - 1));
}

/* Resolve the request's pool shard and check its map version. */
static int
obj_shard(const struct obj_in *in, struct cairn_vos_pool **vp)
{
	struct cairn_uuid u;
	uint32_t ver;

	memcpy(u.b, in->pool, 16);
	*vp = srv_vos_shard(&u);
	if (*vp == NULL)
		return -CAIRN_ERR_NONEXIST;
	ver = srv_vos_shard_map_version(&u);
	/* the pool's map may have moved on since the shard was opened (srv_pool_map.h) */
	if (srv_pool_map_version_of(in->pool) > ver)
		ver = srv_pool_map_version_of(in->pool);
	if (in->map_version < ver)
		return -CAIRN_ERR_STALE;
	return 0;
}

int
srv_obj_value_recv(struct cairn_rpc *rpc, const struct obj_in *in, uint64_t len, void **buf,
                   void **val)
{
	struct cairn_bulk *local;
	struct iovec iov;
	int rc;

	*buf = NULL;
	if (len == 0 || len > PROTO_VALUE_MAX)
		return -CAIRN_ERR_INVAL;
	if (in->bulk_len == 0) {
		if (in->data_len != len)
			return -CAIRN_ERR_INVAL;
		*val = (void *)in->data;
		return 0;
	}
	if (in->data_len || in->bulk_len != len || in->bulk.len < len)
		return -CAIRN_ERR_INVAL;
	/* shareable: VOS's extent cache keeps it instead of copying the value */
	*buf = cairn_vos_buf_alloc(len);
	if (*buf == NULL)
		return -CAIRN_ERR_NOMEM;
	iov.iov_base = *buf;
	iov.iov_len = len;
	rc = cairn_bulk_create(cairn_rpc_ctx(rpc), &iov, 1, CAIRN_BULK_RW, &local);
	if (rc == 0) {
		rc = cairn_bulk_transfer_wait(rpc, CAIRN_BULK_GET, &in->bulk, 0, local, 0, len);
		cairn_bulk_free(local);
	}
	if (rc) {
		cairn_vos_buf_free(*buf);
		*buf = NULL;
		return rc;
	}
	*val = *buf;
	return 0;
}

int
srv_obj_value_send(struct cairn_rpc *rpc, const struct obj_in *in, void *buf, uint64_t len)
{
	struct cairn_bulk *local;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	int rc;

	rc = cairn_bulk_create(cairn_rpc_ctx(rpc), &iov, 1, CAIRN_BULK_RO, &local);
	if (rc)
		return rc;
	rc = cairn_bulk_transfer_wait(rpc, CAIRN_BULK_PUT, &in->bulk, 0, local, 0, len);
	cairn_bulk_free(local);
	return rc;
}

static int
obj_update(struct cairn_rpc *rpc, struct cairn_vos_pool *vp, const struct obj_in *in)
{
	struct cairn_vos_oid oid = {.hi = in->oid_hi, .lo = in->oid_lo};
	struct cairn_vos_iod iod = {0};
	void *buf;
	int rc;

	if (in->dkey_len == 0 || in->akey_len == 0)
		return -CAIRN_ERR_INVAL;
	iod.akey = in->akey;
	iod.akey_len = in->akey_len;
	iod.type = CAIRN_VOS_IOD_SINGLE;
	iod.size = in->bulk_len ? in->bulk_len : in->data_len;
	rc = srv_obj_value_recv(rpc, in, iod.size, &buf, &iod.buf);
	if (rc)
		return rc;
	rc = srv_obj_csum_verify(in, iod.buf, iod.size);
	if (rc == 0) {
		srv_obj_csum_to_iod(in, &iod);
		rc = cairn_vos_update(vp, in->cont, &oid, srv_epoch_next(), in->cond, in->dkey,
		                      in->dkey_len, 1, &iod);
	}
	cairn_vos_buf_free(buf);
	return rc;
}

static int
first_key_cb(void *arg, const void *key, uint32_t len)
{
	(void)key;
	(void)len;
	*(bool *)arg = true;
	return 1;
}

/* A fetch found no value: with COND_AKEY_FETCH that fails, with COND_DKEY_FETCH when the
 * dkey has no akey at all. */
static int
obj_fetch_cond(struct cairn_vos_pool *vp, const struct obj_in *in)
{
	struct cairn_vos_oid oid = {.hi = in->oid_hi, .lo = in->oid_lo};
	struct cairn_vos_anchor *anchor;
	bool found = false;
	int rc;

	if (in->cond & PROTO_COND_AKEY_FETCH)
		return -CAIRN_ERR_NONEXIST;
	if (!(in->cond & PROTO_COND_DKEY_FETCH))
		return 0;
	anchor = malloc(sizeof(*anchor));
	if (anchor == NULL)
		return -CAIRN_ERR_NOMEM;
	cairn_vos_anchor_init(anchor);
	rc = cairn_vos_list_akeys(vp, in->cont, &oid, in->dkey, in->dkey_len,
	                          in->epoch ? in->epoch : CAIRN_VOS_EPOCH_MAX, anchor,
	                          first_key_cb, &found);
	free(anchor);
	if (rc)
		return rc;
	return found ? 0 : -CAIRN_ERR_NONEXIST;
}

static int
obj_fetch(struct cairn_rpc *rpc, struct cairn_vos_pool *vp, const struct obj_in *in,
          struct obj_out *o, void **obuf)
{
	struct cairn_vos_oid oid = {.hi = in->oid_hi, .lo = in->oid_lo};
	struct cairn_vos_iod iod = {0};
	uint64_t room, size;
	void *vbuf = NULL;
	uint32_t crc = 0;
	int rc;

	if (in->dkey_len == 0 || in->akey_len == 0)
		return -CAIRN_ERR_INVAL;
	room = in->bulk_len ? in->bulk_len : in->buf_size;
	if (room > PROTO_VALUE_MAX)
		room = PROTO_VALUE_MAX;
	if (!in->bulk_len && room > PROTO_INLINE_MAX)
		room = PROTO_INLINE_MAX;
	if (in->bulk_len && in->bulk.len < in->bulk_len)
		return -CAIRN_ERR_INVAL;
	if (in->bulk_len) {
		/* By reference: a cached value is sent straight from VOS's extent cache (no
		 * copy); else VOS reads it into a new shareable buffer and caches that. */
		rc = cairn_vos_fetch_ref(vp, in->cont, &oid,
		                         in->epoch ? in->epoch : CAIRN_VOS_EPOCH_MAX, in->dkey,
		                         in->dkey_len, in->akey, in->akey_len, &vbuf, &size, &crc);
		if (rc)
			return rc;
		o->size = size;
		if (size == 0)
			return obj_fetch_cond(vp, in);
		if (size > room)
			o->flags |= PROTO_OBJ_TRUNC;
		else
			rc = srv_obj_csum_reply_shared(in, o, &vbuf, size, &crc);
		if (rc == 0 && size <= room)
			rc = srv_obj_value_send(rpc, in, vbuf, size);
		cairn_vos_buf_free(vbuf);
		return rc;
	}
	*obuf = srv_obj_buf_alloc(room ? room : 1);
	if (*obuf == NULL)
		return -CAIRN_ERR_NOMEM;
	iod.akey = in->akey;
	iod.akey_len = in->akey_len;
	iod.type = CAIRN_VOS_IOD_SINGLE;
	iod.buf = *obuf;
	iod.buf_size = room;
	rc = cairn_vos_fetch(vp, in->cont, &oid, in->epoch ? in->epoch : CAIRN_VOS_EPOCH_MAX,
	                     in->dkey, in->dkey_len, 1, &iod);
	if (rc == -CAIRN_ERR_TRUNC) {
		o->flags |= PROTO_OBJ_TRUNC;
		o->size = iod.size;
		return 0;
	}
	if (rc)
		return rc;
	o->size = iod.size;
	if (iod.size == 0)
		return obj_fetch_cond(vp, in);
	rc = srv_obj_csum_reply(in, o, *obuf, iod.size,
	                        (iod.flags & CAIRN_VOS_IOD_CRC_GIVEN) ? &iod.crc : NULL);
	if (rc)
		return rc;
	o->data = *obuf;
	o->data_len = (uint32_t)iod.size;
	return 0;
}

/* Enumeration resumes by position: the client says how many keys of this shard it has
 * already seen (keys come in the index's stable order) and how many it wants. */
struct key_buf {
	uint8_t *buf;
	uint32_t len, n;
	uint32_t raw; /* key bytes without their length prefixes */
	uint32_t max_keys, max_bytes;
	uint64_t skip;
	bool full;
};

static int
obj_key_cb(void *arg, const void *key, uint32_t len)
{
	struct key_buf *k = arg;

	if (k->skip > 0) {
		k->skip--;
		return 0;
	}
	if (k->n == k->max_keys || k->raw + len > k->max_bytes) {
		k->full = true;
		return 1;
	}
	memcpy(k->buf + k->len, &len, sizeof(len));
	memcpy(k->buf + k->len + sizeof(len), key, len);
	k->len += (uint32_t)sizeof(len) + len;
	k->raw += len;
	k->n++;
	return 0;
}

/* LIST_DKEYS (dkey_len 0) or LIST_AKEYS (of in->dkey): the keys after pos.skip, up to
 * pos.max_keys and in->buf_size key bytes (the reply adds a 4-byte length per key). */
int
srv_obj_list_keys(struct cairn_vos_pool *vp, const struct obj_in *in, bool akeys,
                  struct obj_out *o, void **obuf, struct cairn_vos_anchor **anchor)
{
	struct cairn_vos_oid oid = {.hi = in->oid_hi, .lo = in->oid_lo};
	uint64_t epoch = in->epoch ? in->epoch : CAIRN_VOS_EPOCH_MAX;
	struct proto_list_pos pos;
	struct key_buf k = {0};
	int rc;

	if (in->anchor_len != sizeof(pos) || (akeys && in->dkey_len == 0))
		return -CAIRN_ERR_INVAL;
	memcpy(&pos, in->anchor, sizeof(pos));
	if (pos.max_keys == 0 || in->buf_size == 0)
		return -CAIRN_ERR_INVAL;
	k.skip = pos.skip;
	k.max_keys = pos.max_keys < OBJ_LIST_MAX_KEYS ? pos.max_keys : OBJ_LIST_MAX_KEYS;
	k.max_bytes = in->buf_size < OBJ_LIST_MAX_BYTES ? (uint32_t)in->buf_size
	                                                : OBJ_LIST_MAX_BYTES;
	*anchor = malloc(sizeof(**anchor));
	k.buf = malloc(k.max_bytes + sizeof(uint32_t) * (size_t)k.max_keys);
	*obuf = k.buf;
	if (*anchor == NULL || k.buf == NULL)
		return -CAIRN_ERR_NOMEM;
	cairn_vos_anchor_init(*anchor);
	if (akeys)
		rc = cairn_vos_list_akeys(vp, in->cont, &oid, in->dkey, in->dkey_len, epoch,
		                          *anchor, obj_key_cb, &k);
	else
		rc = cairn_vos_list_dkeys(vp, in->cont, &oid, epoch, *anchor, obj_key_cb, &k);
	if (rc)
		return rc;
	o->keys = k.buf;
	o->keys_len = k.len;
	o->nr_keys = k.n;
	if (!k.full)
		o->flags |= PROTO_OBJ_EOF;
	return 0;
}

static void
rpc_obj(struct cairn_rpc *rpc)
{
	struct obj_in *in = cairn_rpc_in(rpc);
	struct obj_out *o = cairn_rpc_out(rpc);
	uint32_t idx = cairn_rpc_opc(rpc) & 0xff;
	struct cairn_vos_oid oid = {.hi = in->oid_hi, .lo = in->oid_lo};
	struct cairn_vos_anchor *anchor = NULL;
	struct cairn_vos_pool *vp;
	void *obuf = NULL;
	int rc;

	rc = obj_shard(in, &vp);
	/* in->epoch (a snapshot) is for reads only. */
	if (rc == 0 && in->epoch &&
	    (idx == OBJ_RPC_UPDATE || idx == OBJ_RPC_PUNCH || idx == OBJ_RPC_ARRAY_UPDATE ||
	     idx == OBJ_RPC_ARRAY_TRUNC))
		rc = -CAIRN_ERR_PERM;
	if (rc == 0)
		rc = srv_obj_cond_check(idx, in->cond);
	if (rc == 0) {
		switch (idx) {
		case OBJ_RPC_UPDATE:
			rc = obj_update(rpc, vp, in);
			break;
		case OBJ_RPC_FETCH:
			rc = obj_fetch(rpc, vp, in, o, &obuf);
			break;
		case OBJ_RPC_PUNCH:
			rc = cairn_vos_punch(vp, in->cont, &oid, srv_epoch_next(), in->cond,
			                     in->dkey_len ? in->dkey : NULL, in->dkey_len,
			                     in->akey_len ? in->akey : NULL, in->akey_len);
			break;
		case OBJ_RPC_LIST_DKEYS:
			rc = srv_obj_list_keys(vp, in, false, o, &obuf, &anchor);
			break;
		default:
			rc = srv_obj_array_handle(rpc, idx, vp, in, o, &obuf, &anchor);
			break;
		}
	}
	if (rc == 0 && (idx == OBJ_RPC_UPDATE || idx == OBJ_RPC_PUNCH ||
	                idx == OBJ_RPC_ARRAY_UPDATE || idx == OBJ_RPC_ARRAY_TRUNC))
		srv_vos_note_write(vp, in->cont); /* old versions get aggregated */
	if (rc)
		cairn_rpc_reply_err(rpc, rc);
	else
		cairn_rpc_reply(rpc);
	free(obuf);
	free(anchor);
}

static const struct cairn_rpc_def g_obj_rpcs[] = PROTO_OBJ_RPCS(rpc_obj);

static const struct cairn_proto g_obj_proto = {
        .name = "obj",
        .base = PROTO_OBJ_BASE,
        .version = PROTO_VERSION,
        .count = OBJ_RPC_COUNT,
        .rpcs = g_obj_rpcs,
};

struct cairn_module g_obj_srv_module = {
        .abi_version = CAIRN_MODULE_ABI_VERSION,
        .name = "obj",
        .id = ENGINE_MOD_OBJ,
        .version = 1,
        .rpc_proto = &g_obj_proto,
};
