/*
 * The engine's `obj` module, array part: the ARRAY_UPDATE / ARRAY_FETCH / LIST_AKEYS /
 * QUERY_KEY / ARRAY_TRUNC RPCs (src/include/engine/proto.h), served on the target's own
 * xstream against its VOS shard, called from srv_obj.c's dispatcher. One extent per RPC
 * (the array API splits I/O per chunk dkey anyway); data inline up to PROTO_INLINE_MAX,
 * by bulk above, exactly like single values. Holes read as zeros (VOS paints them).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_OBJ
#include "common/log.h"
#include "engine/proto.h"
#include "net/net.h"
#include "rt/rt.h"
#include "vos/vos.h"

#include "srv_internal.h"
#include "srv_obj_csum.h"

#define ARR_LIST_MAX_BYTES (256u << 10)

/* Decode and check the request's extent; *bytes = nr * rec_size. */
/* Reads see the snapshot epoch the container handle was opened at (0 = latest); writes
 * carrying an epoch are refused before they get here (srv_obj.c). */
static inline uint64_t
arr_read_epoch(const struct obj_in *in)
{
	return in->epoch ? in->epoch : CAIRN_VOS_EPOCH_MAX;
}

static int
arr_recx(const struct obj_in *in, struct proto_recx *rx, uint64_t *bytes)
{
	if (in->dkey_len == 0 || in->akey_len == 0 || in->anchor_len != sizeof(*rx))
		return -CAIRN_ERR_INVAL;
	memcpy(rx, in->anchor, sizeof(*rx));
	if (rx->nr == 0 || rx->rec_size == 0 || rx->idx + rx->nr < rx->idx)
		return -CAIRN_ERR_INVAL;
	if (rx->nr > PROTO_VALUE_MAX / rx->rec_size)
		return -CAIRN_ERR_OVERFLOW;
	*bytes = rx->nr * rx->rec_size;
	return 0;
}

static int
arr_update(struct cairn_rpc *rpc, struct cairn_vos_pool *vp, const struct obj_in *in)
{
	struct cairn_vos_oid oid = {.hi = in->oid_hi, .lo = in->oid_lo};
	struct cairn_vos_iod iod = {0};
	struct cairn_vos_recx vr;
	struct proto_recx rx;
	uint64_t bytes;
	void *buf = NULL;
	int rc;

	rc = arr_recx(in, &rx, &bytes);
	if (rc)
		return rc;
	rc = srv_obj_value_recv(rpc, in, bytes, &buf, &iod.buf);
	if (rc)
		return rc;
	vr.idx = rx.idx;
	vr.nr = rx.nr;
	iod.akey = in->akey;
	iod.akey_len = in->akey_len;
	iod.type = CAIRN_VOS_IOD_ARRAY;
	iod.rec_size = rx.rec_size;
	iod.nr_recx = 1;
	iod.recx = &vr;
	iod.buf_size = bytes;
	rc = srv_obj_csum_verify(in, iod.buf, bytes);
	if (rc == 0) {
		srv_obj_csum_to_iod(in, &iod);
		rc = cairn_vos_update(vp, in->cont, &oid, srv_epoch_next(), in->cond, in->dkey,
		                      in->dkey_len, 1, &iod);
	}
	cairn_vos_buf_free(buf);
	return rc;
}

static int
arr_fetch(struct cairn_rpc *rpc, struct cairn_vos_pool *vp, const struct obj_in *in,
          struct obj_out *o, void **obuf)
{
	struct cairn_vos_oid oid = {.hi = in->oid_hi, .lo = in->oid_lo};
	struct cairn_vos_iod iod = {0};
	struct cairn_vos_recx vr;
	struct proto_recx rx;
	uint64_t bytes;
	int rc;

	rc = arr_recx(in, &rx, &bytes);
	if (rc)
		return rc;
	if (in->bulk_len ? (in->bulk_len < bytes || in->bulk.len < bytes)
	                 : bytes > PROTO_INLINE_MAX)
		return -CAIRN_ERR_INVAL;
	*obuf = srv_obj_buf_alloc(bytes);
	if (*obuf == NULL)
		return -CAIRN_ERR_NOMEM;
	vr.idx = rx.idx;
	vr.nr = rx.nr;
	iod.akey = in->akey;
	iod.akey_len = in->akey_len;
	iod.type = CAIRN_VOS_IOD_ARRAY;
	iod.rec_size = rx.rec_size;
	iod.nr_recx = 1;
	iod.recx = &vr;
	iod.buf = *obuf;
	iod.buf_size = bytes;
	rc = cairn_vos_fetch(vp, in->cont, &oid, arr_read_epoch(in), in->dkey, in->dkey_len, 1,
	                     &iod);
	if (rc)
		return rc;
	o->size = iod.size; /* the akey's record size; 0: no such akey (all zeros) */
	rc = srv_obj_csum_reply(in, o, *obuf, bytes, NULL); /* extents may be cut: computed */
	if (rc)
		return rc;
	if (in->bulk_len)
		return srv_obj_value_send(rpc, in, *obuf, bytes);
	o->data = *obuf;
	o->data_len = (uint32_t)bytes;
	return 0;
}

/* ------------------------------------------------------------------ list extents */

struct arr_recxs {
	uint8_t *buf;
	uint32_t n, max;
	uint64_t skip;
	bool full;
};

static void
put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int
arr_recx_cb(void *arg, const struct cairn_vos_extent *ext)
{
	struct arr_recxs *r = arg;

	if (r->skip > 0) {
		r->skip--;
		return 0;
	}
	if (r->n == r->max) {
		r->full = true;
		return 1;
	}
	put_le64(r->buf + 16 * (size_t)r->n, ext->idx);
	put_le64(r->buf + 16 * (size_t)r->n + 8, ext->nr);
	r->n++;
	return 0;
}

/* The visible extents of (dkey, akey), resuming after the pos.skip first ones. */
static int
arr_list_recx(struct cairn_vos_pool *vp, const struct obj_in *in, struct obj_out *o,
              void **obuf)
{
	struct cairn_vos_oid oid = {.hi = in->oid_hi, .lo = in->oid_lo};
	struct cairn_vos_anchor *anchor;
	struct proto_list_pos pos;
	struct arr_recxs r = {0};
	int rc;

	if (in->dkey_len == 0 || in->akey_len == 0 || in->anchor_len != sizeof(pos))
		return -CAIRN_ERR_INVAL;
	memcpy(&pos, in->anchor, sizeof(pos));
	if (pos.max_keys == 0)
		return -CAIRN_ERR_INVAL;
	r.skip = pos.skip;
	r.max = pos.max_keys < ARR_LIST_MAX_BYTES / 16 ? pos.max_keys : ARR_LIST_MAX_BYTES / 16;
	anchor = malloc(sizeof(*anchor));
	r.buf = malloc(16 * (size_t)r.max);
	*obuf = r.buf;
	if (anchor == NULL || r.buf == NULL) {
		free(anchor);
		return -CAIRN_ERR_NOMEM;
	}
	cairn_vos_anchor_init(anchor);
	rc = cairn_vos_list_extents(vp, in->cont, &oid, in->dkey, in->dkey_len, in->akey,
	                            in->akey_len, arr_read_epoch(in), anchor, arr_recx_cb, &r);
	free(anchor);
	if (rc)
		return rc;
	o->keys = r.buf;
	o->keys_len = 16 * r.n;
	o->nr_keys = r.n;
	if (!r.full)
		o->flags |= PROTO_OBJ_EOF;
	return 0;
}

/* ------------------------------------------------------------------ query key */

struct arr_u64s {
	uint64_t *v;
	uint32_t n, cap;
	int rc;
};

static int
arr_u64_cb(void *arg, const void *key, uint32_t len)
{
	struct arr_u64s *a = arg;
	const uint8_t *p = key;
	uint64_t x = 0;

	if (len != 8)
		return 0;
	for (int i = 0; i < 8; i++)
		x = (x << 8) | p[i];
	if (a->n == a->cap) {
		uint32_t cap = a->cap ? a->cap * 2 : 64;
		uint64_t *nv = realloc(a->v, cap * sizeof(*nv));

		if (nv == NULL) {
			a->rc = -CAIRN_ERR_NOMEM;
			return 1;
		}
		a->v = nv;
		a->cap = cap;
	}
	a->v[a->n++] = x;
	return 0;
}

static int
arr_ext_cb(void *arg, const struct cairn_vos_extent *ext)
{
	uint64_t *end = arg;

	if (ext->idx + ext->nr > *end)
		*end = ext->idx + ext->nr;
	return 0;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Max extent end of (dkey, akey), records; 0 when it has none. */
static int
arr_max_end(struct cairn_vos_pool *vp, const struct obj_in *in, const void *dkey, uint64_t *end)
{
	struct cairn_vos_oid oid = {.hi = in->oid_hi, .lo = in->oid_lo};
	struct cairn_vos_anchor *anchor = malloc(sizeof(*anchor));
	int rc;

	if (anchor == NULL)
		return -CAIRN_ERR_NOMEM;
	*end = 0;
	cairn_vos_anchor_init(anchor);
	rc = cairn_vos_list_extents(vp, in->cont, &oid, dkey, 8, in->akey, in->akey_len,
	                            arr_read_epoch(in), anchor, arr_ext_cb, end);
	free(anchor);
	return rc;
}

static int
arr_query_key(struct cairn_vos_pool *vp, const struct obj_in *in, struct obj_out *o, void **obuf)
{
	struct cairn_vos_oid oid = {.hi = in->oid_hi, .lo = in->oid_lo};
	struct cairn_vos_anchor *anchor;
	struct arr_u64s a = {0};
	uint64_t end = 0;
	uint8_t *key;
	int rc;

	if (in->akey_len == 0)
		return -CAIRN_ERR_INVAL;
	anchor = malloc(sizeof(*anchor));
	key = malloc(8);
	*obuf = key;
	if (anchor == NULL || key == NULL) {
		free(anchor);
		return -CAIRN_ERR_NOMEM;
	}
	cairn_vos_anchor_init(anchor);
	rc = cairn_vos_list_dkeys(vp, in->cont, &oid, arr_read_epoch(in), anchor, arr_u64_cb, &a);
	free(anchor);
	if (rc == 0)
		rc = a.rc;
	if (rc)
		goto out;
	if (a.n > 1)
		qsort(a.v, a.n, sizeof(*a.v), u64_cmp);
	/* largest first; a dkey whose akey holds nothing (truncated away) does not count */
	for (uint32_t i = a.n; i-- > 0;) {
		for (int b = 0; b < 8; b++)
			key[b] = (uint8_t)(a.v[i] >> (56 - 8 * b));
		rc = arr_max_end(vp, in, key, &end);
		if (rc)
			goto out;
		if (end > 0) {
			o->keys = key;
			o->keys_len = 8;
			o->nr_keys = 1;
			o->size = end;
			break;
		}
	}
out:
	free(a.v);
	return rc;
}

/* ------------------------------------------------------------------ truncate */

/* Keep records [0, recx.idx) of (dkey, akey), atomically: one local transaction punches
 * the akey and rewrites what is kept (same epoch: the later op wins, see vos README). */
static int
arr_trunc(struct cairn_vos_pool *vp, const struct obj_in *in)
{
	struct cairn_vos_oid oid = {.hi = in->oid_hi, .lo = in->oid_lo};
	struct cairn_vos_anchor *anchor;
	struct cairn_vos_iod iod = {0};
	struct cairn_vos_recx vr;
	struct cairn_vos_tx *tx;
	struct proto_recx rx;
	uint64_t end = 0, keep;
	void *buf = NULL;
	int rc;

	if (in->dkey_len == 0 || in->akey_len == 0 || in->anchor_len != sizeof(rx))
		return -CAIRN_ERR_INVAL;
	memcpy(&rx, in->anchor, sizeof(rx));
	if (rx.rec_size == 0)
		return -CAIRN_ERR_INVAL;
	anchor = malloc(sizeof(*anchor));
	if (anchor == NULL)
		return -CAIRN_ERR_NOMEM;
	cairn_vos_anchor_init(anchor);
	rc = cairn_vos_list_extents(vp, in->cont, &oid, in->dkey, in->dkey_len, in->akey,
	                            in->akey_len, arr_read_epoch(in), anchor, arr_ext_cb, &end);
	free(anchor);
	if (rc)
		return rc;
	if (end <= rx.idx)
		return 0; /* nothing beyond the new end */
	keep = rx.idx;
	if (keep > PROTO_VALUE_MAX / rx.rec_size)
		return -CAIRN_ERR_OVERFLOW;
	if (keep > 0) {
		buf = malloc(keep * rx.rec_size);
		if (buf == NULL)
			return -CAIRN_ERR_NOMEM;
		vr.idx = 0;
		vr.nr = keep;
		iod.akey = in->akey;
		iod.akey_len = in->akey_len;
		iod.type = CAIRN_VOS_IOD_ARRAY;
		iod.rec_size = rx.rec_size;
		iod.nr_recx = 1;
		iod.recx = &vr;
		iod.buf = buf;
		iod.buf_size = keep * rx.rec_size;
		rc = cairn_vos_fetch(vp, in->cont, &oid, arr_read_epoch(in), in->dkey,
		                     in->dkey_len, 1, &iod);
		if (rc)
			goto out;
		if (iod.size != 0 && iod.size != rx.rec_size) {
			rc = -CAIRN_ERR_INVAL;
			goto out;
		}
	}
	rc = cairn_vos_tx_begin(vp, in->cont, srv_epoch_next(), &tx);
	if (rc)
		goto out;
	rc = cairn_vos_tx_punch(tx, &oid, 0, in->dkey, in->dkey_len, in->akey, in->akey_len);
	if (rc == 0 && keep > 0)
		rc = cairn_vos_tx_update(tx, &oid, 0, in->dkey, in->dkey_len, 1, &iod);
	if (rc) {
		cairn_vos_tx_abort(tx);
		goto out;
	}
	rc = cairn_vos_tx_commit(tx);
out:
	free(buf);
	return rc;
}

int
srv_obj_array_handle(struct cairn_rpc *rpc, uint32_t idx, struct cairn_vos_pool *vp,
                     const struct obj_in *in, struct obj_out *o, void **obuf,
                     struct cairn_vos_anchor **anchor)
{
	switch (idx) {
	case OBJ_RPC_ARRAY_UPDATE:
		return arr_update(rpc, vp, in);
	case OBJ_RPC_ARRAY_FETCH:
		return arr_fetch(rpc, vp, in, o, obuf);
	case OBJ_RPC_LIST_AKEYS:
		return srv_obj_list_keys(vp, in, true, o, obuf, anchor);
	case OBJ_RPC_QUERY_KEY:
		return arr_query_key(vp, in, o, obuf);
	case OBJ_RPC_ARRAY_TRUNC:
		return arr_trunc(vp, in);
	case OBJ_RPC_LIST_RECX:
		return arr_list_recx(vp, in, o, obuf);
	default:
		return -CAIRN_ERR_NOSYS;
	}
}
