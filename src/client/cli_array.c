/*
 * libcairn arrays (include/cairn/array.h): byte arrays of fixed-size cells chunked over
 * the dkeys of one object. Chunk c = dkey BE64(c), akey "d", records = cells at local
 * index 0 .. chunk_size - 1. Metadata: dkey "cairn.array", akey "md", a single value
 * (struct array_md_wire below).
 *
 * Reads and writes fan out: the parent task's body cuts the range into per-chunk pieces
 * and starts up to ARR_FANOUT child tasks (each runs its share of the pieces in a ULT on
 * the client xstream, one RPC per piece) and a join task that depends on all of them
 * and completes the parent with the first child error. Size, truncate, punch, create
 * and open are short sequential ULTs.
 */
#include <stdlib.h>
#include <string.h>

#include <cairn/array.h>
#include <cairn/cont.h>
#include <cairn/errno.h>
#include <cairn/obj.h>

#define CAIRN_LOG_SS CAIRN_SS_CLIENT
#include "common/log.h"
#include "engine/proto.h"

#include "cli_net.h"
#include "cli_obj.h"
#include "cli_pool.h"
#include "client_internal.h"

#define ARR_FANOUT 32u
#define ARR_MD_MAGIC 0x414e5243u /* "CRNA" */
#define ARR_MD_VERSION 1u
#define ARR_MD_SIZE 24u

static const char g_md_dkey[] = "cairn.array"; /* 11 bytes: never a chunk dkey */
static const char g_md_akey[] = "md";
static const char g_data_akey[] = "d";

/* Metadata value, little-endian: u32 magic, u16 version, u16 0, u64 cell, u64 chunk. */
struct array_md_wire {
	uint8_t b[ARR_MD_SIZE];
};
_Static_assert(sizeof(struct array_md_wire) == ARR_MD_SIZE, "array md size");

struct cli_array {
	uint64_t obj_cookie;
	struct cli_obj *obj;
	struct cli_href *obj_ref;
	uint64_t cell, chunk;
};

static void
put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
chunk_dkey(uint64_t c, uint8_t key[8])
{
	for (int i = 0; i < 8; i++)
		key[i] = (uint8_t)(c >> (56 - 8 * i));
}

static bool
sizes_ok(uint64_t cell, uint64_t chunk)
{
	return cell > 0 && cell <= CAIRN_ARRAY_CELL_MAX && chunk > 0 &&
	       chunk <= CAIRN_ARRAY_CHUNK_BYTES_MAX / cell;
}

static void
array_free(void *p)
{
	struct cli_array *a = p;

	/* (may run under the handle table's lock at cairn_fini: the object's own handle is
	 * removed by cairn_array_close(), or by the table's teardown) */
	if (a->obj_ref)
		cli_href_put(a->obj_ref);
	free(a);
}

/* Drop an array that never got a handle of its own, with its object handle. */
static void
array_drop(struct cli_array *a)
{
	uint64_t oc = a->obj_cookie;

	array_free(a);
	if (oc)
		cli_hdl_remove(oc, CLI_HTYPE_OBJ);
}

/* ------------------------------------------------------------------ operations */

enum arr_kind {
	ARR_CREATE,
	ARR_OPEN,
	ARR_DESTROY,
	ARR_WRITE,
	ARR_READ,
	ARR_GET_SIZE,
	ARR_SET_SIZE,
	ARR_PUNCH,
};

struct arr_piece {
	uint64_t chunk, idx, nr; /* cells [idx, idx + nr) of the chunk */
	uint8_t *buf;
};

struct arr_op {
	enum arr_kind kind;
	struct cli_array *arr;
	struct cli_href *ref; /* on the array handle (NULL for create/open) */
	uint64_t off, len;    /* bytes */
	struct cairn_iov *data;
	uint64_t *size_out, *cell_out, *chunk_out;
	uint64_t size;
	uint32_t npieces;
	struct arr_piece *pieces;
	struct cli_task *parent;
};

struct arr_child {
	struct arr_op *op;
	uint32_t first; /* pieces first, first + ARR_FANOUT, ... */
};

int
cli_array_md_decode(const void *buf, size_t len, uint64_t *cell, uint64_t *chunk)
{
	const uint8_t *p = buf;

	if (buf == NULL || len != ARR_MD_SIZE)
		return -CAIRN_ERR_PROTO;
	if (get_le(p, 4) != ARR_MD_MAGIC || get_le(p + 6, 2) != 0)
		return -CAIRN_ERR_PROTO;
	if (get_le(p + 4, 2) != ARR_MD_VERSION)
		return -CAIRN_ERR_VERSION;
	*cell = get_le(p + 8, 8);
	*chunk = get_le(p + 16, 8);
	if (!sizes_ok(*cell, *chunk))
		return -CAIRN_ERR_PROTO;
	return 0;
}

static int
md_fetch_use(void *arg, struct cairn_rpc *rpc)
{
	struct obj_out *o = cairn_rpc_out(rpc);
	struct cli_array *a = arg;

	if (o->size == 0)
		return -CAIRN_ERR_NONEXIST;
	if ((o->flags & PROTO_OBJ_TRUNC) || o->size != o->data_len)
		return -CAIRN_ERR_PROTO;
	return cli_array_md_decode(o->data, o->data_len, &a->cell, &a->chunk);
}

static int
md_read(struct cli_array *a)
{
	struct obj_in in = {0};

	in.dkey = g_md_dkey;
	in.dkey_len = sizeof(g_md_dkey) - 1;
	in.akey = g_md_akey;
	in.akey_len = sizeof(g_md_akey) - 1;
	in.buf_size = 256; /* room for a malformed, longer value to be reported, not cut */
	return cli_obj_call(a->obj, OBJ_RPC_FETCH, &in, 0, md_fetch_use, a);
}

/* Written once, by create, as a conditional insert of the metadata dkey: of two racing
 * creators exactly one succeeds, the other gets -CAIRN_ERR_EXIST (the target serves both
 * on one xstream and VOS evaluates the condition atomically with the insert). */
static int
md_write(struct cli_array *a)
{
	struct array_md_wire w;
	struct obj_in in = {0};

	memset(&w, 0, sizeof(w));
	put_le(w.b, ARR_MD_MAGIC, 4);
	put_le(w.b + 4, ARR_MD_VERSION, 2);
	put_le(w.b + 8, a->cell, 8);
	put_le(w.b + 16, a->chunk, 8);
	in.dkey = g_md_dkey;
	in.dkey_len = sizeof(g_md_dkey) - 1;
	in.akey = g_md_akey;
	in.akey_len = sizeof(g_md_akey) - 1;
	in.data = w.b;
	in.data_len = sizeof(w.b);
	in.cond = PROTO_COND_DKEY_INSERT;
	return cli_obj_call(a->obj, OBJ_RPC_UPDATE, &in, 0, NULL, NULL);
}

/* Size in cells. */
static int
arr_size_cells(struct cli_array *a, uint64_t *cells)
{
	uint64_t dk, end;
	bool found;
	int rc;

	rc = cli_obj_arr_query(a->obj, g_data_akey, 1, &found, &dk, &end);
	if (rc)
		return rc;
	*cells = found ? dk * a->chunk + end : 0;
	return 0;
}

static int
arr_zero(struct cli_array *a, uint64_t c, uint64_t idx, uint64_t nr)
{
	uint8_t key[8];
	void *z = calloc(nr, a->cell);
	int rc;

	if (z == NULL)
		return -CAIRN_ERR_NOMEM;
	chunk_dkey(c, key);
	rc = cli_obj_arr_update(a->obj, key, 8, g_data_akey, 1, (uint32_t)a->cell, idx, nr, z);
	free(z);
	return rc;
}

static int
arr_set_size(struct cli_array *a, uint64_t n)
{
	uint64_t cur, dk, end;
	uint8_t key[8];
	bool found;
	int rc;

	rc = arr_size_cells(a, &cur);
	if (rc)
		return rc;
	if (n > cur)
		return arr_zero(a, (n - 1) / a->chunk, (n - 1) % a->chunk, 1);
	/* Shrink: drop the highest chunks one by one, then cut the one that straddles n.
	 * Bounded by the number of chunks written past n. */
	for (;;) {
		rc = cli_obj_arr_query(a->obj, g_data_akey, 1, &found, &dk, &end);
		if (rc)
			return rc;
		if (!found)
			break;
		chunk_dkey(dk, key);
		if (dk * a->chunk >= n) {
			rc = cli_obj_punch_dkey(a->obj, key, 8);
			if (rc)
				return rc;
			continue;
		}
		/* the cut keeps [0, n) of that chunk whole (holes rewritten as zeros), so
		 * the size is n afterwards */
		if (dk * a->chunk + end > n)
			return cli_obj_arr_trunc(a->obj, key, 8, g_data_akey, 1, (uint32_t)a->cell,
			                         n - dk * a->chunk);
		if (dk * a->chunk + end == n)
			return 0;
		break;
	}
	/* what is left ends below n: mark the last cell so the size is n */
	return n ? arr_zero(a, (n - 1) / a->chunk, (n - 1) % a->chunk, 1) : 0;
}

static int
arr_punch(struct cli_array *a, uint64_t first, uint64_t nr)
{
	uint64_t size, after, c, lo, hi, end;
	uint8_t key[8];
	int rc;

	rc = arr_size_cells(a, &size);
	if (rc)
		return rc;
	/* nothing to punch past the end: zeroing there would grow the array */
	end = first + nr < size ? first + nr : size;
	for (uint64_t cell = first; cell < end; cell = hi) {
		c = cell / a->chunk;
		lo = cell - c * a->chunk;
		hi = (c + 1) * a->chunk < end ? (c + 1) * a->chunk : end;
		if (lo == 0 && hi - c * a->chunk == a->chunk) {
			chunk_dkey(c, key);
			rc = cli_obj_punch_dkey(a->obj, key, 8);
		} else {
			rc = arr_zero(a, c, lo, hi - cell);
		}
		if (rc)
			return rc;
	}
	/* the size does not change: re-mark the last cell if its chunk went away */
	rc = arr_size_cells(a, &after);
	if (rc == 0 && after < size)
		rc = arr_zero(a, (size - 1) / a->chunk, (size - 1) % a->chunk, 1);
	return rc;
}

static int
arr_net(void *arg)
{
	struct arr_op *op = arg;
	struct cli_array *a = op->arr;
	struct obj_in in = {0};
	uint64_t cells;
	int rc;

	switch (op->kind) {
	case ARR_CREATE:
		return md_write(a);
	case ARR_OPEN:
		return md_read(a);
	case ARR_DESTROY:
		rc = 0;
		for (uint32_t g = 0; rc == 0 && g < cli_obj_grp_nr(a->obj); g++)
			rc = cli_obj_call(a->obj, OBJ_RPC_PUNCH, &in, g, NULL, NULL);
		return rc;
	case ARR_GET_SIZE:
		rc = arr_size_cells(a, &cells);
		if (rc == 0)
			*op->size_out = cells * a->cell;
		return rc;
	case ARR_SET_SIZE:
		return arr_set_size(a, op->size / a->cell);
	case ARR_PUNCH:
		return arr_punch(a, op->off / a->cell, op->len / a->cell);
	default:
		return -CAIRN_ERR_NOSYS;
	}
}

/* One child: its share of the pieces, one RPC each, in order. */
static int
child_net(void *arg)
{
	struct arr_child *ch = arg;
	struct arr_op *op = ch->op;
	struct cli_array *a = op->arr;
	uint8_t key[8];
	int rc = 0;

	for (uint32_t i = ch->first; rc == 0 && i < op->npieces; i += ARR_FANOUT) {
		struct arr_piece *p = &op->pieces[i];

		chunk_dkey(p->chunk, key);
		if (op->kind == ARR_WRITE)
			rc = cli_obj_arr_update(a->obj, key, 8, g_data_akey, 1, (uint32_t)a->cell,
			                        p->idx, p->nr, p->buf);
		else
			rc = cli_obj_arr_fetch(a->obj, key, 8, g_data_akey, 1, (uint32_t)a->cell,
			                       p->idx, p->nr, p->buf, NULL);
	}
	return rc;
}

static int
child_body(struct cli_task *task)
{
	struct arr_child *ch = cli_task_args(task);
	int rc = cli_net_submit(task, child_net, ch);

	if (rc)
		cli_task_complete(task, rc);
	return 0;
}

static int
join_body(struct cli_task *task)
{
	struct arr_op *op = *(struct arr_op **)cli_task_args(task);
	struct cli_task *parent = op->parent;
	int rc = cli_task_dep_rc(task);

	cli_task_complete(task, rc);
	cli_task_complete(parent, rc); /* may free op: not touched after this */
	return 0;
}

/* Parent of a read or write: start the children and the join. */
static int
io_body(struct cli_task *task)
{
	struct arr_op *op = *(struct arr_op **)cli_task_args(task);
	struct cli_sched *s = cli_task2sched(task);
	uint32_t n = op->npieces < ARR_FANOUT ? op->npieces : ARR_FANOUT;
	struct cli_task *kids[ARR_FANOUT], *join = NULL;
	uint32_t made = 0;
	int rc;

	op->parent = task;
	for (; made < n; made++) {
		struct arr_child *ch;

		rc = cli_task_create(child_body, s, &kids[made]);
		if (rc)
			goto err;
		ch = cli_task_args(kids[made]);
		ch->op = op;
		ch->first = made;
	}
	rc = cli_task_create(join_body, s, &join);
	if (rc)
		goto err;
	*(struct arr_op **)cli_task_args(join) = op;
	cli_task_set_flags(join, CLI_TASK_RUN_ON_DEP_ERR);
	rc = cli_task_register_deps(join, (int)n, kids);
	if (rc)
		goto err;
	rc = cli_task_schedule(join, false);
	if (rc)
		goto err;
	for (uint32_t i = 0; i < n; i++)
		cli_task_schedule(kids[i], true);
	return 0;
err:
	if (join)
		cli_task_destroy(join);
	while (made > 0)
		cli_task_destroy(kids[--made]);
	cli_task_complete(task, rc);
	return 0;
}

static int
seq_body(struct cli_task *task)
{
	struct arr_op *op = *(struct arr_op **)cli_task_args(task);
	int rc = cli_net_submit(task, arr_net, op);

	if (rc)
		cli_task_complete(task, rc);
	return 0;
}

static int
op_done(struct cli_task *task, void *arg)
{
	struct arr_op *op = *(struct arr_op **)arg;

	if (op->ref)
		cli_href_put(op->ref);
	free(op->pieces);
	free(op);
	(void)task;
	return 0;
}

/* create/open completion: publish the handle or drop the array. */
static int
open_done(struct cli_task *task, void *arg)
{
	struct arr_op *op = *(struct arr_op **)arg;
	struct cli_array *a = op->arr;
	struct cairn_handle *oh = (struct cairn_handle *)op->data;
	uint64_t cookie;
	int rc = cli_task_rc(task);

	if (rc == 0) {
		rc = cli_hdl_insert(a, CLI_HTYPE_ARRAY, array_free, NULL, &cookie);
		if (rc == 0) {
			oh->cookie = cookie;
			if (op->cell_out)
				*op->cell_out = a->cell;
			if (op->chunk_out)
				*op->chunk_out = a->chunk;
			a = NULL;
		}
		cli_task_set_rc(task, rc);
	}
	if (a)
		array_drop(a);
	free(op);
	return 0;
}

static int
op_new(struct cairn_handle oh, enum arr_kind kind, struct arr_op **opp)
{
	struct cli_href *ref;
	struct arr_op *op;
	void *arr;
	int rc;

	op = cli_op_new(sizeof(*op), oh.cookie, CLI_HTYPE_ARRAY, &arr, &ref, &rc);
	*opp = op;
	if (op == NULL)
		return rc;
	op->arr = arr;
	op->ref = ref;
	op->kind = kind;
	*opp = op;
	return 0;
}

/* An op whose task never ran. */
static void
op_discard(void *arg)
{
	struct arr_op *op = arg;

	if (op->kind == ARR_CREATE || op->kind == ARR_OPEN)
		array_drop(op->arr);
	else if (op->ref)
		cli_href_put(op->ref);
	free(op->pieces);
	free(op);
}

static int
op_run(struct arr_op *op, cli_task_func_t body, cli_task_cb_t done, struct cairn_event *ev)
{
	return cli_op_start(body, done, op, op_discard, ev);
}

static int
open_common(struct cairn_handle coh, struct cairn_obj_id oid, enum arr_kind kind, uint64_t cell,
            uint64_t chunk, struct cairn_handle *oh, uint64_t *cell_out, uint64_t *chunk_out,
            struct cairn_event *ev)
{
	struct cairn_handle objh;
	struct cli_array *a;
	struct arr_op *op;
	int rc;

	if (!cli_initialized() || oh == NULL)
		return -CAIRN_ERR_INVAL;
	a = calloc(1, sizeof(*a));
	op = calloc(1, sizeof(*op));
	if (a == NULL || op == NULL) {
		free(a);
		free(op);
		return -CAIRN_ERR_NOMEM;
	}
	/* local only (layout from the pool map): fine to wait here */
	rc = cairn_obj_open(coh, oid, 0, &objh, NULL);
	if (rc) {
		free(a);
		free(op);
		return rc;
	}
	a->obj_cookie = objh.cookie;
	a->obj = cli_obj_get(objh.cookie, &a->obj_ref);
	if (a->obj == NULL) {
		array_drop(a);
		free(op);
		return -CAIRN_ERR_NOHANDLE;
	}
	a->cell = cell;
	a->chunk = chunk;
	op->kind = kind;
	op->arr = a;
	op->data = (struct cairn_iov *)oh; /* where open_done publishes the handle */
	op->cell_out = cell_out;
	op->chunk_out = chunk_out;
	return op_run(op, seq_body, open_done, ev);
}

/* ------------------------------------------------------------------ API */

/* Cells per chunk from the container's chunk size (bytes), capped at the array's
 * largest chunk; at least one cell. */
static int
cont_chunk_cells(struct cairn_handle coh, uint64_t cell, uint64_t *chunk)
{
	struct cli_href *ref;
	struct cli_cont *c;
	uint64_t bytes;

	if (cell == 0 || cell > CAIRN_ARRAY_CELL_MAX)
		return -CAIRN_ERR_INVAL;
	c = cli_cont_get(coh.cookie, &ref);
	if (c == NULL)
		return -CAIRN_ERR_NOHANDLE;
	bytes = c->chunk_size ? c->chunk_size : CAIRN_CONT_CHUNK_DEFAULT;
	cli_href_put(ref);
	if (bytes > CAIRN_ARRAY_CHUNK_BYTES_MAX)
		bytes = CAIRN_ARRAY_CHUNK_BYTES_MAX;
	*chunk = bytes / cell ? bytes / cell : 1;
	return 0;
}

int
cairn_array_create(struct cairn_handle coh, struct cairn_obj_id oid, uint64_t cell_size,
                   uint64_t chunk_size, struct cairn_handle *oh, struct cairn_event *ev)
{
	int rc;

	if (chunk_size == 0) {
		rc = cont_chunk_cells(coh, cell_size, &chunk_size);
		if (rc)
			return rc;
	}
	if (!sizes_ok(cell_size, chunk_size))
		return -CAIRN_ERR_INVAL;
	return open_common(coh, oid, ARR_CREATE, cell_size, chunk_size, oh, NULL, NULL, ev);
}

int
cairn_array_open(struct cairn_handle coh, struct cairn_obj_id oid, struct cairn_handle *oh,
                 uint64_t *cell_size, uint64_t *chunk_size, struct cairn_event *ev)
{
	return open_common(coh, oid, ARR_OPEN, 0, 0, oh, cell_size, chunk_size, ev);
}

static int
close_body(struct cli_task *task)
{
	cli_task_complete(task, 0);
	return 0;
}

int
cairn_array_close(struct cairn_handle oh, struct cairn_event *ev)
{
	struct cli_task *task;
	int rc;

	struct cli_href *ref;
	struct cli_array *a;

	if (!cli_initialized())
		return -CAIRN_ERR_INVAL;
	a = cli_hdl_lookup(oh.cookie, CLI_HTYPE_ARRAY, &ref);
	if (a == NULL)
		return -CAIRN_ERR_NOHANDLE;
	rc = cli_hdl_remove(oh.cookie, CLI_HTYPE_ARRAY);
	if (rc == 0)
		cli_hdl_remove(a->obj_cookie, CLI_HTYPE_OBJ);
	cli_href_put(ref);
	if (rc)
		return rc;
	rc = cli_task_create(close_body, cli_ev2sched(ev), &task);
	return rc ? rc : cli_task_run(task, ev);
}

int
cairn_array_destroy(struct cairn_handle oh, struct cairn_event *ev)
{
	struct arr_op *op;
	int rc;

	rc = op_new(oh, ARR_DESTROY, &op);
	return rc ? rc : op_run(op, seq_body, op_done, ev);
}

/* Validate a byte range against the cell size. */
static int
range_ok(const struct cli_array *a, uint64_t off, uint64_t len)
{
	if (len == 0 || off % a->cell || len % a->cell)
		return -CAIRN_ERR_INVAL;
	if (len > CAIRN_ARRAY_IO_MAX || off + len < off)
		return -CAIRN_ERR_OVERFLOW;
	return 0;
}

static int
io_start(struct cairn_handle oh, enum arr_kind kind, uint64_t off, struct cairn_iov *data,
         uint64_t len, struct cairn_event *ev)
{
	struct cli_array *a;
	struct arr_op *op;
	uint64_t cell, end, c, i = 0;
	int rc;

	rc = op_new(oh, kind, &op);
	if (rc)
		return rc;
	a = op->arr;
	rc = range_ok(a, off, len);
	if (rc)
		goto err;
	cell = off / a->cell;
	end = cell + len / a->cell;
	op->npieces = (uint32_t)((end - 1) / a->chunk - cell / a->chunk + 1);
	op->pieces = calloc(op->npieces, sizeof(*op->pieces));
	if (op->pieces == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto err;
	}
	for (; cell < end; i++) {
		struct arr_piece *p = &op->pieces[i];
		uint64_t hi;

		c = cell / a->chunk;
		hi = (c + 1) * a->chunk < end ? (c + 1) * a->chunk : end;
		p->chunk = c;
		p->idx = cell - c * a->chunk;
		p->nr = hi - cell;
		p->buf = (uint8_t *)data->buf + (cell * a->cell - off);
		cell = hi;
	}
	op->data = data;
	op->off = off;
	op->len = len;
	return op_run(op, io_body, op_done, ev);
err:
	cli_href_put(op->ref);
	free(op);
	return rc;
}

int
cairn_array_write(struct cairn_handle oh, uint64_t off, const struct cairn_iov *data,
                  struct cairn_event *ev)
{
	if (data == NULL || data->buf == NULL || data->len > data->buf_len)
		return -CAIRN_ERR_INVAL;
	return io_start(oh, ARR_WRITE, off, (struct cairn_iov *)data, data->len, ev);
}

int
cairn_array_read(struct cairn_handle oh, uint64_t off, struct cairn_iov *data,
                 struct cairn_event *ev)
{
	if (data == NULL || data->buf == NULL)
		return -CAIRN_ERR_INVAL;
	data->len = data->buf_len; /* holes are zeros: every byte asked for is returned */
	return io_start(oh, ARR_READ, off, data, data->buf_len, ev);
}

int
cairn_array_get_size(struct cairn_handle oh, uint64_t *size, struct cairn_event *ev)
{
	struct arr_op *op;
	int rc;

	if (size == NULL)
		return -CAIRN_ERR_INVAL;
	rc = op_new(oh, ARR_GET_SIZE, &op);
	if (rc)
		return rc;
	op->size_out = size;
	return op_run(op, seq_body, op_done, ev);
}

int
cairn_array_set_size(struct cairn_handle oh, uint64_t size, struct cairn_event *ev)
{
	struct arr_op *op;
	int rc;

	rc = op_new(oh, ARR_SET_SIZE, &op);
	if (rc)
		return rc;
	if (size % op->arr->cell) {
		cli_href_put(op->ref);
		free(op);
		return -CAIRN_ERR_INVAL;
	}
	op->size = size;
	return op_run(op, seq_body, op_done, ev);
}

int
cairn_array_punch(struct cairn_handle oh, uint64_t off, uint64_t len, struct cairn_event *ev)
{
	struct arr_op *op;
	int rc;

	rc = op_new(oh, ARR_PUNCH, &op);
	if (rc)
		return rc;
	if (len == 0 || off % op->arr->cell || len % op->arr->cell || off + len < off) {
		cli_href_put(op->ref);
		free(op);
		return -CAIRN_ERR_INVAL;
	}
	op->off = off;
	op->len = len;
	return op_run(op, seq_body, op_done, ev);
}
