/*
 * libcairn array values: one extent of (dkey, akey) per RPC to the dkey's target
 * (OBJ_RPC_ARRAY_*, src/include/engine/proto.h), inline up to PROTO_INLINE_MAX bytes,
 * by bulk above; akey listing; the max-key query the array API's get_size uses. The
 * cli_obj_arr_*() helpers run in ULTs on the client xstream (cli_array.c fans them out);
 * the public cairn_obj_*_recx() calls wrap them in a task.
 */
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>
#include <cairn/obj.h>

#define CAIRN_LOG_SS CAIRN_SS_CLIENT
#include "common/log.h"
#include "engine/proto.h"

#include "cli_net.h"
#include "cli_obj.h"
#include "client_internal.h"

static void
arr_in(struct obj_in *in, struct proto_recx *rx, const void *dkey, uint32_t dkey_len,
       const void *akey, uint32_t akey_len, uint32_t rec_size, uint64_t idx, uint64_t nr)
{
	memset(in, 0, sizeof(*in));
	memset(rx, 0, sizeof(*rx));
	in->dkey = dkey;
	in->dkey_len = dkey_len;
	in->akey = akey;
	in->akey_len = akey_len;
	rx->idx = idx;
	rx->nr = nr;
	rx->rec_size = rec_size;
	in->anchor = rx;
	in->anchor_len = sizeof(*rx);
}

int
cli_obj_arr_update(struct cli_obj *obj, const void *dkey, uint32_t dkey_len, const void *akey,
                   uint32_t akey_len, uint32_t rec_size, uint64_t idx, uint64_t nr, const void *buf)
{
	struct cairn_bulk *bulk = NULL;
	struct proto_recx rx;
	struct obj_in in;
	struct iovec iov;
	uint64_t bytes;
	void *copy = NULL;
	int rc;

	if (rec_size == 0 || nr == 0 || nr > PROTO_VALUE_MAX / rec_size)
		return -CAIRN_ERR_INVAL;
	bytes = nr * rec_size;
	arr_in(&in, &rx, dkey, dkey_len, akey, akey_len, rec_size, idx, nr);
	/* the extent's checksum (container property csum), over the bytes sent */
	rc = cli_csum_in(&in, cli_obj_csum(obj), buf, bytes, &copy);
	if (rc)
		return rc;
	if (copy)
		buf = copy;
	if (bytes <= PROTO_INLINE_MAX) {
		in.data = buf;
		in.data_len = (uint32_t)bytes;
	} else {
		iov.iov_base = (void *)buf;
		iov.iov_len = bytes;
		rc = cairn_bulk_create(cli_net_ctx(), &iov, 1, CAIRN_BULK_RO, &bulk);
		if (rc)
			goto out;
		cairn_bulk_get_desc(bulk, &in.bulk);
		in.bulk_len = bytes;
	}
	rc = cli_obj_call(obj, OBJ_RPC_ARRAY_UPDATE, &in, 0, NULL, NULL);
	if (bulk)
		cairn_bulk_free(bulk);
out:
	free(copy);
	return rc;
}

struct arr_fetch_arg {
	void *buf;
	uint64_t bytes;
	uint64_t rec_size;
	uint32_t csum; /* checksum type asked for */
};

static int
arr_fetch_use(void *arg, struct cairn_rpc *rpc)
{
	struct arr_fetch_arg *a = arg;
	struct obj_out *o = cairn_rpc_out(rpc);
	int rc;

	a->rec_size = o->size;
	if (o->data_len) {
		/* (inline data was checked against its checksum by cli_obj_call) */
		if (o->data_len != a->bytes)
			return -CAIRN_ERR_PROTO;
		memcpy(a->buf, o->data, o->data_len);
	} else if (a->csum) {
		/* arrived by bulk, straight into the caller's buffer */
		rc = cli_csum_check(a->csum, o, a->buf, a->bytes);
		if (rc) {
			memset(a->buf, 0, a->bytes);
			return rc;
		}
	}
	return 0;
}

int
cli_obj_arr_fetch(struct cli_obj *obj, const void *dkey, uint32_t dkey_len, const void *akey,
                  uint32_t akey_len, uint32_t rec_size, uint64_t idx, uint64_t nr, void *buf,
                  uint64_t *akey_rec_size)
{
	struct arr_fetch_arg a = {.buf = buf, .csum = cli_obj_csum(obj)};
	struct cairn_bulk *bulk = NULL;
	struct proto_recx rx;
	struct obj_in in;
	struct iovec iov;
	int rc;

	if (rec_size == 0 || nr == 0 || nr > PROTO_VALUE_MAX / rec_size)
		return -CAIRN_ERR_INVAL;
	a.bytes = nr * rec_size;
	arr_in(&in, &rx, dkey, dkey_len, akey, akey_len, rec_size, idx, nr);
	in.buf_size = a.bytes;
	if (a.bytes > PROTO_INLINE_MAX) {
		iov.iov_base = buf;
		iov.iov_len = a.bytes;
		rc = cairn_bulk_create(cli_net_ctx(), &iov, 1, CAIRN_BULK_RW, &bulk);
		if (rc)
			return rc;
		cairn_bulk_get_desc(bulk, &in.bulk);
		in.bulk_len = a.bytes;
	}
	rc = cli_obj_call(obj, OBJ_RPC_ARRAY_FETCH, &in, 0, arr_fetch_use, &a);
	if (bulk)
		cairn_bulk_free(bulk);
	if (rc == 0 && akey_rec_size)
		*akey_rec_size = a.rec_size;
	return rc;
}

int
cli_obj_arr_trunc(struct cli_obj *obj, const void *dkey, uint32_t dkey_len, const void *akey,
                  uint32_t akey_len, uint32_t rec_size, uint64_t keep)
{
	struct proto_recx rx;
	struct obj_in in;

	if (rec_size == 0)
		return -CAIRN_ERR_INVAL;
	arr_in(&in, &rx, dkey, dkey_len, akey, akey_len, rec_size, keep, 0);
	return cli_obj_call(obj, OBJ_RPC_ARRAY_TRUNC, &in, 0, NULL, NULL);
}

int
cli_obj_punch_dkey(struct cli_obj *obj, const void *dkey, uint32_t dkey_len)
{
	struct obj_in in = {0};

	if (dkey_len == 0)
		return -CAIRN_ERR_INVAL;
	in.dkey = dkey;
	in.dkey_len = dkey_len;
	return cli_obj_call(obj, OBJ_RPC_PUNCH, &in, 0, NULL, NULL);
}

struct arr_query_arg {
	bool found;
	uint64_t dkey, end;
};

int
cli_obj_query_decode(const struct obj_out *o, bool *found, uint64_t *dkey, uint64_t *end)
{
	const uint8_t *k = o->keys;
	uint64_t d = 0;

	*found = false;
	if (o->nr_keys == 0)
		return o->keys_len == 0 ? 0 : -CAIRN_ERR_PROTO;
	if (o->nr_keys != 1 || o->keys_len != 8 || k == NULL || o->size == 0)
		return -CAIRN_ERR_PROTO;
	for (int i = 0; i < 8; i++)
		d = (d << 8) | k[i];
	*found = true;
	*dkey = d;
	*end = o->size;
	return 0;
}

static int
arr_query_use(void *arg, struct cairn_rpc *rpc)
{
	struct arr_query_arg *a = arg;
	uint64_t d = 0, end = 0;
	bool found;
	int rc;

	rc = cli_obj_query_decode(cairn_rpc_out(rpc), &found, &d, &end);
	if (rc || !found)
		return rc;
	if (!a->found || d > a->dkey) {
		a->found = true;
		a->dkey = d;
		a->end = end;
	}
	return 0;
}

int
cli_obj_arr_query(struct cli_obj *obj, const void *akey, uint32_t akey_len, bool *found,
                  uint64_t *max_dkey, uint64_t *max_end)
{
	struct arr_query_arg a = {0};
	uint32_t grp, nr = cli_obj_grp_nr(obj);
	int rc = 0;

	for (grp = 0; rc == 0 && grp < nr; grp++) {
		struct obj_in in = {0};

		in.akey = akey;
		in.akey_len = akey_len;
		rc = cli_obj_call(obj, OBJ_RPC_QUERY_KEY, &in, grp, arr_query_use, &a);
	}
	if (rc)
		return rc;
	*found = a.found;
	*max_dkey = a.found ? a.dkey : 0;
	*max_end = a.found ? a.end : 0;
	return 0;
}

/* ------------------------------------------------------------------ list akeys */

struct arr_list {
	struct cairn_anchor *anchor;
	uint32_t *nr;
	uint32_t want;
	struct cairn_key_desc *kds;
	void *buf;
	size_t buf_len, used;
	bool eof;
};

static int
arr_list_use(void *arg, struct cairn_rpc *rpc)
{
	struct arr_list *l = arg;
	struct obj_out *o = cairn_rpc_out(rpc);
	const uint8_t *p = o->keys, *end = p + o->keys_len;
	uint64_t skip;
	uint32_t len;

	if (o->nr_keys > l->want - *l->nr)
		return -CAIRN_ERR_PROTO;
	for (uint32_t i = 0; i < o->nr_keys; i++) {
		if (end - p < 4)
			return -CAIRN_ERR_PROTO;
		memcpy(&len, p, 4);
		p += 4;
		if ((size_t)(end - p) < len || l->used + len > l->buf_len)
			return -CAIRN_ERR_PROTO;
		memcpy((uint8_t *)l->buf + l->used, p, len);
		memset(&l->kds[*l->nr], 0, sizeof(l->kds[0]));
		l->kds[*l->nr].key_len = len;
		l->used += len;
		p += len;
		(*l->nr)++;
	}
	if (o->nr_keys == 0 && !(o->flags & PROTO_OBJ_EOF))
		return -CAIRN_ERR_TRUNC;
	memcpy(&skip, l->anchor->body, sizeof(skip));
	skip += o->nr_keys;
	memcpy(l->anchor->body, &skip, sizeof(skip));
	l->eof = (o->flags & PROTO_OBJ_EOF) != 0;
	return 0;
}

/* Extents listed by OBJ_RPC_LIST_RECX, into the caller's array. */
struct arr_recx_list {
	struct cairn_anchor *anchor;
	uint32_t *nr;
	uint32_t want;
	struct cairn_recx *recxs;
	bool eof;
};

static uint64_t
get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int
arr_recx_use(void *arg, struct cairn_rpc *rpc)
{
	struct arr_recx_list *l = arg;
	struct obj_out *o = cairn_rpc_out(rpc);
	const uint8_t *p = o->keys;
	uint64_t skip;

	if (o->nr_keys > l->want - *l->nr || o->keys_len != 16ull * o->nr_keys)
		return -CAIRN_ERR_PROTO;
	for (uint32_t i = 0; i < o->nr_keys; i++, p += 16) {
		l->recxs[*l->nr].idx = get_le64(p);
		l->recxs[*l->nr].nr = get_le64(p + 8);
		if (l->recxs[*l->nr].nr == 0)
			return -CAIRN_ERR_PROTO;
		(*l->nr)++;
	}
	if (o->nr_keys == 0 && !(o->flags & PROTO_OBJ_EOF))
		return -CAIRN_ERR_PROTO;
	memcpy(&skip, l->anchor->body, sizeof(skip));
	skip += o->nr_keys;
	memcpy(l->anchor->body, &skip, sizeof(skip));
	l->eof = (o->flags & PROTO_OBJ_EOF) != 0;
	return 0;
}

/* ------------------------------------------------------------------ public calls */

struct recx_op {
	uint32_t rpc;
	struct cli_obj *obj;
	struct cli_href *ref;
	const struct cairn_iov *dkey, *akey;
	uint32_t rec_size;
	struct cairn_recx recx;
	struct cairn_iov *data;
	struct arr_list list;
	struct arr_recx_list rlist;
	uint64_t *max_dkey, *max_end;
};

static int
recx_net(void *arg)
{
	struct recx_op *op = arg;
	struct proto_list_pos pos;
	struct obj_in in;
	bool found;
	int rc = 0;

	switch (op->rpc) {
	case OBJ_RPC_ARRAY_UPDATE:
		return cli_obj_arr_update(op->obj, op->dkey->buf, (uint32_t)op->dkey->len,
		                          op->akey->buf, (uint32_t)op->akey->len, op->rec_size,
		                          op->recx.idx, op->recx.nr, op->data->buf);
	case OBJ_RPC_ARRAY_FETCH:
		rc = cli_obj_arr_fetch(op->obj, op->dkey->buf, (uint32_t)op->dkey->len,
		                       op->akey->buf, (uint32_t)op->akey->len, op->rec_size,
		                       op->recx.idx, op->recx.nr, op->data->buf, NULL);
		if (rc == 0)
			op->data->len = op->recx.nr * op->rec_size;
		return rc;
	case OBJ_RPC_QUERY_KEY:
		return cli_obj_arr_query(op->obj, op->akey->buf, (uint32_t)op->akey->len, &found,
		                         op->max_dkey, op->max_end);
	case OBJ_RPC_LIST_AKEYS:
		*op->list.nr = 0;
		while (rc == 0 && !op->list.eof && *op->list.nr < op->list.want) {
			if (op->list.buf_len - op->list.used<CAIRN_OBJ_KEY_MAX && * op->list.nr> 0)
				break;
			memset(&in, 0, sizeof(in));
			in.dkey = op->dkey->buf;
			in.dkey_len = (uint32_t)op->dkey->len;
			memcpy(&pos.skip, op->list.anchor->body, sizeof(pos.skip));
			pos.max_keys = op->list.want - *op->list.nr;
			pos.pad = 0;
			in.anchor = &pos;
			in.anchor_len = sizeof(pos);
			in.buf_size = op->list.buf_len - op->list.used;
			rc = cli_obj_call(op->obj, OBJ_RPC_LIST_AKEYS, &in, 0, arr_list_use,
			                  &op->list);
		}
		if (rc == 0 && op->list.eof)
			op->list.anchor->eof = 1;
		return rc;
	case OBJ_RPC_LIST_RECX:
		*op->rlist.nr = 0;
		while (rc == 0 && !op->rlist.eof && *op->rlist.nr < op->rlist.want) {
			memset(&in, 0, sizeof(in));
			in.dkey = op->dkey->buf;
			in.dkey_len = (uint32_t)op->dkey->len;
			in.akey = op->akey->buf;
			in.akey_len = (uint32_t)op->akey->len;
			memcpy(&pos.skip, op->rlist.anchor->body, sizeof(pos.skip));
			pos.max_keys = op->rlist.want - *op->rlist.nr;
			pos.pad = 0;
			in.anchor = &pos;
			in.anchor_len = sizeof(pos);
			rc = cli_obj_call(op->obj, OBJ_RPC_LIST_RECX, &in, 0, arr_recx_use,
			                  &op->rlist);
		}
		if (rc == 0 && op->rlist.eof)
			op->rlist.anchor->eof = 1;
		return rc;
	default:
		return -CAIRN_ERR_NOSYS;
	}
}

static int
recx_body(struct cli_task *task)
{
	struct recx_op *op = *(struct recx_op **)cli_task_args(task);
	int rc = cli_net_submit(task, recx_net, op);

	if (rc)
		cli_task_complete(task, rc);
	return 0;
}

static void
recx_discard(void *arg)
{
	struct recx_op *op = arg;

	cli_href_put(op->ref);
	free(op);
}

static int
recx_done(struct cli_task *task, void *arg)
{
	(void)task;
	recx_discard(*(struct recx_op **)arg);
	return 0;
}

static int
recx_start(struct cairn_handle oh, uint32_t rpc, struct recx_op **opp)
{
	struct cli_href *ref;
	struct recx_op *op;
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
recx_run(struct recx_op *op, struct cairn_event *ev)
{
	return cli_op_start(recx_body, recx_done, op, recx_discard, ev);
}

static bool
key_ok(const struct cairn_iov *k)
{
	return k && k->buf && k->len > 0 && k->len <= CAIRN_OBJ_KEY_MAX && k->len <= k->buf_len;
}

static int
recx_check(const struct cairn_iov *dkey, const struct cairn_iov *akey, uint32_t rec_size,
           const struct cairn_recx *recx, const struct cairn_iov *data)
{
	if (!key_ok(dkey) || !key_ok(akey) || rec_size == 0 || recx == NULL || recx->nr == 0 ||
	    data == NULL || data->buf == NULL || recx->idx + recx->nr < recx->idx)
		return -CAIRN_ERR_INVAL;
	if (recx->nr > CAIRN_OBJ_VALUE_MAX / rec_size)
		return -CAIRN_ERR_OVERFLOW;
	return 0;
}

int
cairn_obj_update_recx(struct cairn_handle oh, const struct cairn_iov *dkey,
                      const struct cairn_iov *akey, uint32_t rec_size,
                      const struct cairn_recx *recx, const struct cairn_iov *data,
                      struct cairn_event *ev)
{
	struct recx_op *op;
	int rc;

	rc = recx_check(dkey, akey, rec_size, recx, data);
	if (rc)
		return rc;
	if (data->len != recx->nr * rec_size || data->len > data->buf_len)
		return -CAIRN_ERR_INVAL;
	rc = recx_start(oh, OBJ_RPC_ARRAY_UPDATE, &op);
	if (rc)
		return rc;
	op->dkey = dkey;
	op->akey = akey;
	op->rec_size = rec_size;
	op->recx = *recx;
	op->data = (struct cairn_iov *)data;
	return recx_run(op, ev);
}

int
cairn_obj_fetch_recx(struct cairn_handle oh, const struct cairn_iov *dkey,
                     const struct cairn_iov *akey, uint32_t rec_size, const struct cairn_recx *recx,
                     struct cairn_iov *data, struct cairn_event *ev)
{
	struct recx_op *op;
	int rc;

	rc = recx_check(dkey, akey, rec_size, recx, data);
	if (rc)
		return rc;
	if (data->buf_len < recx->nr * rec_size)
		return -CAIRN_ERR_INVAL;
	rc = recx_start(oh, OBJ_RPC_ARRAY_FETCH, &op);
	if (rc)
		return rc;
	op->dkey = dkey;
	op->akey = akey;
	op->rec_size = rec_size;
	op->recx = *recx;
	op->data = data;
	return recx_run(op, ev);
}

int
cairn_obj_list_akey(struct cairn_handle oh, const struct cairn_iov *dkey,
                    struct cairn_anchor *anchor, uint32_t *nr, struct cairn_key_desc *kds,
                    void *buf, size_t buf_len, struct cairn_event *ev)
{
	struct recx_op *op;
	int rc;

	if (!key_ok(dkey) || anchor == NULL || nr == NULL || *nr == 0 || kds == NULL ||
	    buf == NULL || buf_len == 0)
		return -CAIRN_ERR_INVAL;
	rc = recx_start(oh, OBJ_RPC_LIST_AKEYS, &op);
	if (rc)
		return rc;
	op->dkey = dkey;
	op->list.anchor = anchor;
	op->list.nr = nr;
	op->list.want = *nr;
	op->list.kds = kds;
	op->list.buf = buf;
	op->list.buf_len = buf_len;
	op->list.eof = anchor->eof != 0;
	return recx_run(op, ev);
}

int
cairn_obj_list_recx(struct cairn_handle oh, const struct cairn_iov *dkey,
                    const struct cairn_iov *akey, struct cairn_anchor *anchor, uint32_t *nr,
                    struct cairn_recx *recxs, struct cairn_event *ev)
{
	struct recx_op *op;
	int rc;

	if (!key_ok(dkey) || !key_ok(akey) || anchor == NULL || nr == NULL || *nr == 0 ||
	    recxs == NULL)
		return -CAIRN_ERR_INVAL;
	rc = recx_start(oh, OBJ_RPC_LIST_RECX, &op);
	if (rc)
		return rc;
	op->dkey = dkey;
	op->akey = akey;
	op->rlist.anchor = anchor;
	op->rlist.nr = nr;
	op->rlist.want = *nr;
	op->rlist.recxs = recxs;
	op->rlist.eof = anchor->eof != 0;
	return recx_run(op, ev);
}

int
cairn_obj_query_max(struct cairn_handle oh, const struct cairn_iov *akey, uint64_t *max_dkey,
                    uint64_t *max_end, struct cairn_event *ev)
{
	struct recx_op *op;
	int rc;

	if (!key_ok(akey) || max_dkey == NULL || max_end == NULL)
		return -CAIRN_ERR_INVAL;
	rc = recx_start(oh, OBJ_RPC_QUERY_KEY, &op);
	if (rc)
		return rc;
	op->akey = akey;
	op->max_dkey = max_dkey;
	op->max_end = max_end;
	return recx_run(op, ev);
}
