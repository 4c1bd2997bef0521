/*
 * Glue between the durable layer and the in-memory index (vos_index.h):
 *  - WAL record bodies: encoding of transactions, and vos_rec_apply(), the one function
 *    that turns a committed record into index calls (live and at replay, identically);
 *  - checkpoint payload: the index walk encoded as compact records, and its loading;
 *  - allocator rebuild from the index's locations, and the free hook.
 *
 * Every decoder treats its input as hostile (a CRC only proves the bytes are what some
 * writer wrote): lengths are checked against the body before any pointer is formed.
 */
#define CAIRN_LOG_SS CAIRN_SS_VOS
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "common/log.h"
#include "vos_internal.h"

#define VOS_IDX_PAYLOAD_MAGIC 0x58444956u /* "VIDX" */
#define VOS_IDX_PAYLOAD_VER   1u

/* ------------------------------------------------------------------ space */

void
vos_loc_free(struct vos_pool *p, uint64_t off, uint32_t len)
{
	uint64_t nblk = vos_round_up(len ? len : 1, VOS_BLK) / VOS_BLK;

	vos_cache_drop(&p->cache, off);
	if (vos_alloc_put(&p->alloc, off / VOS_BLK, nblk) != 0)
		CAIRN_ERROR("%s: freeing extent at %llu (%u bytes) that is not allocated",
			    p->bdev_name, (unsigned long long)off, len);
}

static void
glue_free_hook(void *arg, const uint8_t cont_uuid[16], const struct cairn_vos_idx_vrec *rec)
{
	struct vos_pool *p = arg;

	/* At replay the allocator does not exist yet: it is rebuilt from the final index. */
	if (p->replaying || rec->kind != CAIRN_VOS_REC_LOC)
		return;
	vos_loc_free(p, rec->off, rec->len);
}

static int
glue_idx_create(struct vos_pool *p, struct cairn_vos_idx **idx)
{
	struct cairn_vos_idx_opts o = {
		.opts_size = sizeof(o),
		.free_hook = glue_free_hook,
		.free_arg = p,
	};

	return cairn_vos_idx_create(&o, idx);
}

int
vos_idx_init(struct vos_pool *p)
{
	return glue_idx_create(p, &p->idx);
}

void
vos_idx_free(struct vos_pool *p)
{
	cairn_vos_idx_destroy(p->idx);
	p->idx = NULL;
}

static int
rebuild_cb(void *arg, const uint8_t cont_uuid[16], const struct cairn_vos_idx_vrec *rec)
{
	struct vos_pool *p = arg;
	uint64_t nblk;

	if (rec->kind != CAIRN_VOS_REC_LOC)
		return 0;
	nblk = vos_round_up(rec->len ? rec->len : 1, VOS_BLK) / VOS_BLK;
	if (rec->off % VOS_BLK || rec->off > p->sb.data_size ||
	    vos_round_up(rec->len, VOS_BLK) > p->sb.data_size - rec->off) {
		CAIRN_ERROR("%s: extent at %llu (%u bytes) lies outside the data region",
			    p->bdev_name, (unsigned long long)rec->off, rec->len);
		return -CAIRN_ERR_CORRUPT;
	}
	if (vos_alloc_mark(&p->alloc, rec->off / VOS_BLK, nblk) != 0) {
		CAIRN_ERROR("%s: extent at %llu (%u bytes) overlaps another", p->bdev_name,
			    (unsigned long long)rec->off, rec->len);
		return -CAIRN_ERR_CORRUPT;
	}
	return 0;
}

int
vos_idx_rebuild_alloc(struct vos_pool *p)
{
	int rc;

	vos_alloc_fini(&p->alloc);
	rc = vos_alloc_init(&p->alloc, p->sb.data_size / VOS_BLK);
	if (rc)
		return rc;
	return cairn_vos_idx_for_each_loc(p->idx, rebuild_cb, p);
}

/* ------------------------------------------------------------------ transactions */

void
vos_tx_encode_hdr(struct vos_wbuf *w, const uint8_t cont[16], uint64_t epoch, uint32_t nops)
{
	vos_wbuf_put(w, cont, 16);
	vos_wbuf_u64(w, epoch);
	vos_wbuf_u32(w, nops);
}

void
vos_tx_set_nops(struct vos_wbuf *w, uint32_t nops)
{
	if (!w->nomem && w->len >= 28)
		memcpy(w->buf + 24, &nops, 4);
}

void
vos_tx_encode_op(struct vos_wbuf *w, const struct vos_op *op)
{
	vos_wbuf_u8(w, op->kind);
	vos_wbuf_u8(w, op->level);
	vos_wbuf_u32(w, op->cond);
	vos_wbuf_u64(w, op->path.oid.hi);
	vos_wbuf_u64(w, op->path.oid.lo);
	vos_wbuf_u32(w, op->path.dkey_len);
	vos_wbuf_u32(w, op->path.akey_len);
	vos_wbuf_u32(w, op->rsize);
	vos_wbuf_u64(w, op->index);
	vos_wbuf_u64(w, op->count);
	vos_wbuf_u8(w, op->rec.kind);
	vos_wbuf_u32(w, op->rec.len);
	vos_wbuf_u32(w, op->rec.crc);
	if (op->rec.kind == CAIRN_VOS_REC_LOC)
		vos_wbuf_u64(w, op->rec.off);
	vos_wbuf_put(w, op->path.dkey, op->path.dkey_len);
	vos_wbuf_put(w, op->path.akey, op->path.akey_len);
	if (op->rec.kind == CAIRN_VOS_REC_INLINE)
		vos_wbuf_put(w, op->rec.inl, op->rec.len);
}

static int
tx_decode_op(struct vos_rbuf *r, struct vos_op *op)
{
	memset(op, 0, sizeof(*op));
	op->kind = vos_rbuf_u8(r);
	op->level = vos_rbuf_u8(r);
	op->cond = vos_rbuf_u32(r);
	op->path.oid.hi = vos_rbuf_u64(r);
	op->path.oid.lo = vos_rbuf_u64(r);
	op->path.dkey_len = vos_rbuf_u32(r);
	op->path.akey_len = vos_rbuf_u32(r);
	op->rsize = vos_rbuf_u32(r);
	op->index = vos_rbuf_u64(r);
	op->count = vos_rbuf_u64(r);
	op->rec.kind = vos_rbuf_u8(r);
	op->rec.len = vos_rbuf_u32(r);
	op->rec.crc = vos_rbuf_u32(r);
	if (op->rec.kind == CAIRN_VOS_REC_LOC)
		op->rec.off = vos_rbuf_u64(r);
	if (op->path.dkey_len > CAIRN_VOS_IDX_KEY_MAX || op->path.akey_len > CAIRN_VOS_IDX_KEY_MAX ||
	    op->rec.kind > CAIRN_VOS_REC_LOC || op->kind < VOS_OP_SV || op->kind > VOS_OP_PUNCH)
		return -CAIRN_ERR_CORRUPT;
	op->path.dkey = op->path.dkey_len ? vos_rbuf_get(r, op->path.dkey_len) : NULL;
	op->path.akey = op->path.akey_len ? vos_rbuf_get(r, op->path.akey_len) : NULL;
	if (op->rec.kind == CAIRN_VOS_REC_INLINE) {
		if (op->rec.len > CAIRN_VOS_IDX_INLINE_MAX)
			return -CAIRN_ERR_CORRUPT;
		op->rec.inl = vos_rbuf_get(r, op->rec.len);
	}
	return r->bad ? -CAIRN_ERR_CORRUPT : 0;
}

static bool
same_akey(const struct vos_op *a, const struct vos_op *b)
{
	return a->path.oid.hi == b->path.oid.hi && a->path.oid.lo == b->path.oid.lo &&
	       a->path.dkey_len == b->path.dkey_len && a->path.akey_len == b->path.akey_len &&
	       memcmp(a->path.dkey, b->path.dkey, a->path.dkey_len) == 0 &&
	       memcmp(a->path.akey, b->path.akey, a->path.akey_len) == 0;
}

static int
op_cond_check(struct cairn_vos_idx_cont *cont, const struct vos_op *op, uint64_t epoch)
{
	int rc;

	if (op->kind == VOS_OP_PUNCH) {
		if (!(op->cond & CAIRN_VOS_IDX_COND_PUNCH))
			return 0;
		rc = cairn_vos_idx_exists(cont, &op->path, op->level, epoch);
		return rc < 0 ? rc : rc == 0 ? -CAIRN_ERR_NONEXIST : 0;
	}
	if (op->cond & (CAIRN_VOS_IDX_COND_DKEY_INSERT | CAIRN_VOS_IDX_COND_DKEY_UPDATE)) {
		rc = cairn_vos_idx_exists(cont, &op->path, CAIRN_VOS_IDX_DKEY, epoch);
		if (rc < 0)
			return rc;
		if ((op->cond & CAIRN_VOS_IDX_COND_DKEY_INSERT) && rc == 1)
			return -CAIRN_ERR_EXIST;
		if ((op->cond & CAIRN_VOS_IDX_COND_DKEY_UPDATE) && rc == 0)
			return -CAIRN_ERR_NONEXIST;
	}
	if (op->cond & (CAIRN_VOS_IDX_COND_AKEY_INSERT | CAIRN_VOS_IDX_COND_AKEY_UPDATE)) {
		rc = cairn_vos_idx_exists(cont, &op->path, CAIRN_VOS_IDX_AKEY, epoch);
		if (rc < 0)
			return rc;
		if ((op->cond & CAIRN_VOS_IDX_COND_AKEY_INSERT) && rc == 1)
			return -CAIRN_ERR_EXIST;
		if ((op->cond & CAIRN_VOS_IDX_COND_AKEY_UPDATE) && rc == 0)
			return -CAIRN_ERR_NONEXIST;
	}
	return 0;
}

/* Everything that could make an op fail, checked before any op of the tx applies. */
static int
op_precheck(struct cairn_vos_idx_cont *cont, const struct vos_op *ops, uint32_t i,
	    uint64_t epoch)
{
	const struct vos_op *op = &ops[i];
	enum cairn_vos_idx_vtype type;
	uint32_t rsize, j;
	int rc;

	rc = op_cond_check(cont, op, epoch);
	if (rc)
		return rc;
	if (op->kind == VOS_OP_PUNCH)
		return 0;
	rc = cairn_vos_idx_akey_type(cont, &op->path, &type, &rsize);
	if (rc == 0) {
		if (op->kind == VOS_OP_SV && type != CAIRN_VOS_IDX_SINGLE)
			return -CAIRN_ERR_INVAL;
		if (op->kind == VOS_OP_ARRAY && (type != CAIRN_VOS_IDX_ARRAY || rsize != op->rsize))
			return -CAIRN_ERR_INVAL;
	} else if (rc != -CAIRN_ERR_NONEXIST) {
		return rc;
	}
	for (j = 0; j < i; j++) {
		if (ops[j].kind == VOS_OP_PUNCH || !same_akey(&ops[j], op))
			continue;
		if (ops[j].kind != op->kind || (op->kind == VOS_OP_ARRAY && ops[j].rsize != op->rsize))
			return -CAIRN_ERR_INVAL;
	}
	return 0;
}

static int
op_apply(struct cairn_vos_idx_cont *cont, const struct vos_op *op, uint64_t epoch, uint32_t cond)
{
	switch (op->kind) {
	case VOS_OP_SV:
		return cairn_vos_idx_sv_update(cont, &op->path, epoch, cond, &op->rec);
	case VOS_OP_ARRAY:
		return cairn_vos_idx_array_update(cont, &op->path, epoch, cond, op->rsize, op->index,
						  op->count, &op->rec);
	default:
		return cairn_vos_idx_punch(cont, &op->path, op->level, epoch, cond);
	}
}

static int
apply_tx(struct vos_pool *p, struct vos_rbuf *r, int *op_rc)
{
	struct cairn_vos_idx_cont *cont;
	const uint8_t *uuid = vos_rbuf_get(r, 16);
	uint64_t epoch = vos_rbuf_u64(r);
	uint32_t nops = vos_rbuf_u32(r);
	struct vos_op *ops;
	uint32_t i;
	int rc = 0;

	if (r->bad || nops == 0 || nops > (r->len - r->pos) / 16)
		return -CAIRN_ERR_CORRUPT;
	ops = calloc(nops, sizeof(*ops));
	if (ops == NULL)
		return -CAIRN_ERR_NOMEM;
	for (i = 0; i < nops; i++) {
		rc = tx_decode_op(r, &ops[i]);
		if (rc)
			goto out;
	}
	if (r->pos != r->len) {
		rc = -CAIRN_ERR_CORRUPT;
		goto out;
	}
	*op_rc = cairn_vos_idx_cont_lookup(p->idx, uuid, &cont);
	if (*op_rc)
		goto out;
	/* A checkpoint walk in progress: save what these ops may change, as of before them. */
	for (i = 0; p->ckpt_walk != NULL && i < nops; i++)
		vos_ckpt_before_change(p, cont, &ops[i].path,
				       ops[i].kind == VOS_OP_PUNCH
					       ? (enum cairn_vos_idx_level)ops[i].level
					       : CAIRN_VOS_IDX_DKEY);
	if (nops == 1) {
		/* The index checks everything and changes nothing on error. */
		*op_rc = op_apply(cont, &ops[0], epoch, ops[0].cond);
		if (*op_rc == -CAIRN_ERR_NOMEM)
			rc = *op_rc;
		goto out;
	}
	if (epoch <= cairn_vos_idx_agg_bound(cont)) {
		*op_rc = -CAIRN_ERR_STALE;
		goto out;
	}
	for (i = 0; i < nops; i++) {
		*op_rc = op_precheck(cont, ops, i, epoch);
		if (*op_rc)
			goto out;
	}
	for (i = 0; i < nops; i++) {
		int orc = op_apply(cont, &ops[i], epoch, 0);

		if (orc) {
			/* Only NOMEM is left possible: memory no longer matches the log. */
			CAIRN_ERROR("%s: op %u of a transaction failed after its checks: %s",
				    p->bdev_name, i, cairn_strerror(orc));
			*op_rc = orc;
			rc = orc;
			goto out;
		}
	}
out:
	free(ops);
	return rc;
}

int
vos_rec_apply(struct vos_pool *p, uint16_t type, const void *body, uint32_t len, void *arg,
	      int *op_rc)
{
	struct vos_rbuf r = { .buf = body, .len = len };
	struct cairn_vos_idx_cont *cont;
	const uint8_t *uuid;
	uint64_t epoch;

	*op_rc = 0;
	if (type == VOS_REC_TX)
		return apply_tx(p, &r, op_rc);
	/* Container, snapshot and aggregation records may free index entries a checkpoint
	 * walk points at: they are held back while one runs (vos_ckpt_hold); one queued
	 * before the walk started ends it (it is retried later). */
	vos_ckpt_walk_abort(p, -CAIRN_ERR_BUSY);
	uuid = vos_rbuf_get(&r, 16);
	if (r.bad)
		return -CAIRN_ERR_CORRUPT;
	switch (type) {
	case VOS_REC_CONT_CREATE:
		if (r.pos != r.len)
			return -CAIRN_ERR_CORRUPT;
		*op_rc = cairn_vos_idx_cont_create(p->idx, uuid, &cont);
		break;
	case VOS_REC_CONT_DESTROY:
		if (r.pos != r.len)
			return -CAIRN_ERR_CORRUPT;
		*op_rc = cairn_vos_idx_cont_destroy(p->idx, uuid);
		break;
	case VOS_REC_SNAP_CREATE:
	case VOS_REC_SNAP_DESTROY:
		epoch = vos_rbuf_u64(&r);
		if (r.bad || r.pos != r.len)
			return -CAIRN_ERR_CORRUPT;
		*op_rc = cairn_vos_idx_cont_lookup(p->idx, uuid, &cont);
		if (*op_rc)
			break;
		*op_rc = type == VOS_REC_SNAP_CREATE ? cairn_vos_idx_snap_create(cont, epoch)
						     : cairn_vos_idx_snap_destroy(cont, epoch);
		break;
	case VOS_REC_AGGREGATE: {
		uint32_t budget;
		bool done = false;

		epoch = vos_rbuf_u64(&r);
		budget = vos_rbuf_u32(&r);
		if (r.bad || r.pos != r.len)
			return -CAIRN_ERR_CORRUPT;
		*op_rc = cairn_vos_idx_cont_lookup(p->idx, uuid, &cont);
		if (*op_rc)
			break;
		*op_rc = cairn_vos_idx_aggregate(cont, epoch, budget, &done);
		if (*op_rc == 0 && arg != NULL)
			*(bool *)arg = done;
		break;
	}
	default:
		CAIRN_ERROR("%s: unknown WAL record type %u", p->bdev_name, type);
		return -CAIRN_ERR_CORRUPT;
	}
	return *op_rc == -CAIRN_ERR_NOMEM ? *op_rc : 0;
}

int
vos_rec_check_data(struct vos_pool *p, uint16_t type, const void *body, uint32_t len)
{
	struct vos_rbuf r = { .buf = body, .len = len };
	char *buf = NULL;
	uint64_t cap = 0;
	uint32_t nops, i;
	int rc = 0;

	if (type != VOS_REC_TX)
		return 0;
	vos_rbuf_get(&r, 16);
	vos_rbuf_u64(&r);
	nops = vos_rbuf_u32(&r);
	for (i = 0; i < nops && rc == 0; i++) {
		struct vos_op op;
		uint64_t blen;

		if (tx_decode_op(&r, &op) != 0)
			break; /* replay reports it */
		if (op.rec.kind != CAIRN_VOS_REC_LOC)
			continue;
		blen = vos_round_up(op.rec.len, VOS_BLK);
		if (op.rec.off % VOS_BLK || op.rec.off > p->sb.data_size ||
		    blen > p->sb.data_size - op.rec.off)
			return -CAIRN_ERR_CSUM;
		if (blen > cap) {
			vos_buf_free(buf);
			buf = vos_buf_alloc(blen);
			cap = buf ? blen : 0;
			if (buf == NULL)
				return -CAIRN_ERR_NOMEM;
		}
		rc = vos_dev_read(p, p->sb.data_off + op.rec.off, buf, blen);
		if (rc == 0 && vos_crc32c(0, buf, op.rec.len) != op.rec.crc)
			rc = -CAIRN_ERR_CSUM;
	}
	vos_buf_free(buf);
	return rc;
}

/* ------------------------------------------------------------------ checkpoint payload */

static void
enc_stamps(struct vos_wbuf *w, const struct cairn_vos_idx_stamp *s, uint32_t nr)
{
	uint32_t i;

	vos_wbuf_u32(w, nr);
	for (i = 0; i < nr; i++) {
		vos_wbuf_u64(w, s[i].epoch);
		vos_wbuf_u64(w, s[i].seq);
	}
}

static void
enc_vrec(struct vos_wbuf *w, const struct cairn_vos_idx_vrec *v)
{
	vos_wbuf_u8(w, v->kind);
	vos_wbuf_u32(w, v->len);
	vos_wbuf_u32(w, v->crc);
	if (v->kind == CAIRN_VOS_REC_LOC)
		vos_wbuf_u64(w, v->off);
	else if (v->kind == CAIRN_VOS_REC_INLINE)
		vos_wbuf_put(w, v->inl, v->len);
}

static int
walk_cb(void *arg, const struct cairn_vos_idx_rec *rec)
{
	struct vos_wbuf *w = arg;
	uint32_t i;

	vos_wbuf_u8(w, (uint8_t)rec->type);
	switch (rec->type) {
	case CAIRN_VOS_IDX_R_IDX:
		vos_wbuf_u64(w, rec->next_seq);
		break;
	case CAIRN_VOS_IDX_R_CONT:
		vos_wbuf_put(w, rec->key, 16);
		vos_wbuf_u32(w, rec->nr);
		for (i = 0; i < rec->nr; i++)
			vos_wbuf_u64(w, rec->snaps[i]);
		vos_wbuf_u64(w, rec->agg_ub);
		vos_wbuf_u32(w, rec->agg_active);
		vos_wbuf_u32(w, rec->cursor_oid_valid);
		vos_wbuf_put(w, rec->cursor_oid, 16);
		vos_wbuf_u32(w, rec->cursor_klen);
		vos_wbuf_put(w, rec->cursor_dkey, rec->cursor_klen);
		break;
	case CAIRN_VOS_IDX_R_OBJ:
		vos_wbuf_put(w, rec->key, 16);
		enc_stamps(w, rec->punches, rec->nr);
		break;
	case CAIRN_VOS_IDX_R_DKEY:
	case CAIRN_VOS_IDX_R_AKEY:
		vos_wbuf_u32(w, rec->klen);
		vos_wbuf_put(w, rec->key, rec->klen);
		if (rec->type == CAIRN_VOS_IDX_R_AKEY) {
			vos_wbuf_u32(w, rec->vtype);
			vos_wbuf_u32(w, rec->rsize);
		}
		enc_stamps(w, rec->punches, rec->nr);
		break;
	case CAIRN_VOS_IDX_R_SV:
	case CAIRN_VOS_IDX_R_EXT:
		vos_wbuf_u64(w, rec->stamp.epoch);
		vos_wbuf_u64(w, rec->stamp.seq);
		if (rec->type == CAIRN_VOS_IDX_R_EXT) {
			vos_wbuf_u64(w, rec->index);
			vos_wbuf_u64(w, rec->count);
		}
		enc_vrec(w, &rec->vrec);
		break;
	default:
		return -CAIRN_ERR_INVAL;
	}
	return w->nomem ? -CAIRN_ERR_NOMEM : 0;
}

int
vos_idx_serialize(struct vos_pool *p, void **buf, uint64_t *len)
{
	struct vos_wbuf w = { 0 };
	int rc;

	vos_wbuf_u32(&w, VOS_IDX_PAYLOAD_MAGIC);
	vos_wbuf_u32(&w, VOS_IDX_PAYLOAD_VER);
	rc = cairn_vos_idx_walk(p->idx, walk_cb, &w);
	if (rc == 0 && w.nomem)
		rc = -CAIRN_ERR_NOMEM;
	if (rc) {
		free(w.buf);
		return rc;
	}
	*buf = w.buf;
	*len = w.len;
	return 0;
}

/* Decode stamps into scratch (grown as needed). */
static const struct cairn_vos_idx_stamp *
dec_stamps(struct vos_rbuf *r, uint32_t *nr, struct cairn_vos_idx_stamp **scratch,
	   uint32_t *cap)
{
	uint32_t n = vos_rbuf_u32(r), i;

	if (r->bad || n > (r->len - r->pos) / 16) {
		r->bad = true;
		return NULL;
	}
	if (n > *cap) {
		struct cairn_vos_idx_stamp *s = realloc(*scratch, (size_t)n * sizeof(*s));

		if (s == NULL) {
			r->bad = true;
			return NULL;
		}
		*scratch = s;
		*cap = n;
	}
	for (i = 0; i < n; i++) {
		(*scratch)[i].epoch = vos_rbuf_u64(r);
		(*scratch)[i].seq = vos_rbuf_u64(r);
	}
	*nr = n;
	return *scratch;
}

static void
dec_vrec(struct vos_rbuf *r, struct cairn_vos_idx_vrec *v)
{
	memset(v, 0, sizeof(*v));
	v->kind = vos_rbuf_u8(r);
	v->len = vos_rbuf_u32(r);
	v->crc = vos_rbuf_u32(r);
	if (v->kind == CAIRN_VOS_REC_LOC) {
		v->off = vos_rbuf_u64(r);
	} else if (v->kind == CAIRN_VOS_REC_INLINE) {
		if (v->len > CAIRN_VOS_IDX_INLINE_MAX)
			r->bad = true;
		else
			v->inl = vos_rbuf_get(r, v->len);
	} else if (v->kind != CAIRN_VOS_REC_HOLE) {
		r->bad = true;
	}
}

static int
load_records(struct cairn_vos_idx *idx, struct vos_rbuf *r)
{
	struct cairn_vos_idx_stamp *scratch = NULL;
	uint64_t *snaps = NULL;
	uint32_t cap = 0;
	int rc = 0;

	while (r->pos < r->len) {
		struct cairn_vos_idx_rec rec;
		uint32_t i;

		memset(&rec, 0, sizeof(rec));
		rec.type = vos_rbuf_u8(r);
		switch (rec.type) {
		case CAIRN_VOS_IDX_R_IDX:
			rec.next_seq = vos_rbuf_u64(r);
			break;
		case CAIRN_VOS_IDX_R_CONT:
			rec.key = vos_rbuf_get(r, 16);
			rec.klen = 16;
			rec.nr = vos_rbuf_u32(r);
			if (r->bad || rec.nr > CAIRN_VOS_IDX_SNAP_MAX ||
			    rec.nr > (r->len - r->pos) / 8) {
				r->bad = true;
				break;
			}
			free(snaps);
			snaps = malloc(((size_t)rec.nr + 1) * sizeof(*snaps));
			if (snaps == NULL) {
				rc = -CAIRN_ERR_NOMEM;
				goto out;
			}
			for (i = 0; i < rec.nr; i++)
				snaps[i] = vos_rbuf_u64(r);
			rec.snaps = snaps;
			rec.agg_ub = vos_rbuf_u64(r);
			rec.agg_active = vos_rbuf_u32(r);
			rec.cursor_oid_valid = vos_rbuf_u32(r);
			{
				const void *co = vos_rbuf_get(r, 16);

				if (co != NULL)
					memcpy(rec.cursor_oid, co, 16);
			}
			rec.cursor_klen = vos_rbuf_u32(r);
			if (rec.cursor_klen > CAIRN_VOS_IDX_KEY_MAX)
				r->bad = true;
			else
				rec.cursor_dkey = vos_rbuf_get(r, rec.cursor_klen);
			break;
		case CAIRN_VOS_IDX_R_OBJ:
			rec.key = vos_rbuf_get(r, 16);
			rec.klen = 16;
			rec.punches = dec_stamps(r, &rec.nr, &scratch, &cap);
			break;
		case CAIRN_VOS_IDX_R_DKEY:
		case CAIRN_VOS_IDX_R_AKEY:
			rec.klen = vos_rbuf_u32(r);
			if (rec.klen > CAIRN_VOS_IDX_KEY_MAX) {
				r->bad = true;
				break;
			}
			rec.key = vos_rbuf_get(r, rec.klen);
			if (rec.type == CAIRN_VOS_IDX_R_AKEY) {
				rec.vtype = vos_rbuf_u32(r);
				rec.rsize = vos_rbuf_u32(r);
			}
			rec.punches = dec_stamps(r, &rec.nr, &scratch, &cap);
			break;
		case CAIRN_VOS_IDX_R_SV:
		case CAIRN_VOS_IDX_R_EXT:
			rec.stamp.epoch = vos_rbuf_u64(r);
			rec.stamp.seq = vos_rbuf_u64(r);
			if (rec.type == CAIRN_VOS_IDX_R_EXT) {
				rec.index = vos_rbuf_u64(r);
				rec.count = vos_rbuf_u64(r);
			}
			dec_vrec(r, &rec.vrec);
			break;
		default:
			r->bad = true;
		}
		if (r->bad) {
			rc = -CAIRN_ERR_CORRUPT;
			goto out;
		}
		rc = cairn_vos_idx_load(idx, &rec);
		if (rc)
			goto out;
	}
out:
	free(scratch);
	free(snaps);
	return rc;
}

int
vos_idx_load(struct vos_pool *p, const void *buf, uint64_t len)
{
	struct vos_rbuf r = { .buf = buf, .len = len };
	struct cairn_vos_idx *idx;
	int rc;

	if (vos_rbuf_u32(&r) != VOS_IDX_PAYLOAD_MAGIC || r.bad)
		return -CAIRN_ERR_CORRUPT;
	if (vos_rbuf_u32(&r) > VOS_IDX_PAYLOAD_VER)
		return -CAIRN_ERR_VERSION;
	rc = glue_idx_create(p, &idx);
	if (rc)
		return rc;
	rc = load_records(idx, &r);
	if (rc) {
		cairn_vos_idx_destroy(idx);
		return rc;
	}
	cairn_vos_idx_destroy(p->idx);
	p->idx = idx;
	return 0;
}

/* ------------------------------------------------------------ cooperative checkpoint walk */

/*
 * A checkpoint taken a few hundred dkeys at a time (vos_ckpt.c yields between steps)
 * while the committer goes on applying frames. The payload must still be the index as
 * of the cut (the WAL position where the walk started), because recovery loads it and
 * replays every frame after the cut. So before a record changes an object or dkey the
 * walker has not reached yet, vos_ckpt_before_change() saves its encoded pre-image (or
 * "absent" for a key created after the cut) in the stash; when the walker gets there it
 * emits the stash entry instead of the live entry. Keys the walker already passed are in
 * the payload as of the cut already. Records that would free entries (container
 * create/destroy, snapshots, aggregation) are held back while a walk runs
 * (vos_ckpt_hold()); one that slips through (queued before the cut) aborts the walk.
 */
struct stash_ent {
	struct stash_ent *next;
	uint32_t hash;
	uint32_t klen;
	uint8_t *key;     /* cont pointer, level, oid key, dkey */
	uint8_t *bytes;   /* encoded records; NULL with len 0 = absent at the cut */
	uint32_t len;
};

struct vos_ckpt_walk {
	struct vos_pool *p;
	struct cairn_vos_idx_walker *walker;
	struct vos_wbuf out;
	int rc;                  /* sticky: the walk is abandoned */
	struct stash_ent **buckets;
	uint32_t nbuckets, nstash;
	uint64_t stash_bytes;
};

/* Encode one index record (the checkpoint payload format). */
static int
rec_encode(void *arg, const struct cairn_vos_idx_rec *rec)
{
	return walk_cb(arg, rec);
}

static uint32_t
stash_key(uint8_t *key, const struct cairn_vos_idx_cont *cont, uint32_t level,
	  const uint8_t oid_key[16], const void *dkey, uint32_t dlen)
{
	memcpy(key, &cont, sizeof(cont));
	key[sizeof(cont)] = (uint8_t)level;
	memcpy(key + sizeof(cont) + 1, oid_key, 16);
	if (level == CAIRN_VOS_IDX_OBJ)
		dlen = 0;
	if (dlen)
		memcpy(key + sizeof(cont) + 17, dkey, dlen);
	return (uint32_t)sizeof(cont) + 17 + dlen;
}

#define STASH_KEY_MAX (sizeof(void *) + 17 + CAIRN_VOS_IDX_KEY_MAX)

static struct stash_ent *
stash_find(struct vos_ckpt_walk *w, const uint8_t *key, uint32_t klen, uint32_t hash)
{
	struct stash_ent *e;

	if (w->nbuckets == 0)
		return NULL;
	for (e = w->buckets[hash & (w->nbuckets - 1)]; e != NULL; e = e->next)
		if (e->hash == hash && e->klen == klen && memcmp(e->key, key, klen) == 0)
			return e;
	return NULL;
}

static int
stash_grow(struct vos_ckpt_walk *w)
{
	uint32_t nb = w->nbuckets ? w->nbuckets * 2 : 256, i;
	struct stash_ent **b = calloc(nb, sizeof(*b));

	if (b == NULL)
		return -CAIRN_ERR_NOMEM;
	for (i = 0; i < w->nbuckets; i++) {
		struct stash_ent *e, *n;

		for (e = w->buckets[i]; e != NULL; e = n) {
			n = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(w->buckets);
	w->buckets = b;
	w->nbuckets = nb;
	return 0;
}

static void
stash_free(struct vos_ckpt_walk *w)
{
	uint32_t i;

	for (i = 0; i < w->nbuckets; i++) {
		struct stash_ent *e, *n;

		for (e = w->buckets[i]; e != NULL; e = n) {
			n = e->next;
			free(e->key);
			free(e->bytes);
			free(e);
		}
	}
	free(w->buckets);
	w->buckets = NULL;
	w->nbuckets = w->nstash = 0;
}

/* Save the pre-image of one object record or dkey subtree (once). */
static int
stash_save(struct vos_ckpt_walk *w, struct cairn_vos_idx_cont *cont,
	   const struct cairn_vos_idx_path *path, uint32_t level)
{
	uint8_t key[STASH_KEY_MAX], okey[16];
	struct vos_wbuf enc = { 0 };
	struct stash_ent *e;
	uint32_t klen, hash;
	int rc;

	cairn_vos_oid_encode(&path->oid, okey);
	klen = stash_key(key, cont, level, okey, path->dkey, path->dkey_len);
	hash = vos_crc32c(0, key, klen);
	if (stash_find(w, key, klen, hash) != NULL)
		return 0;
	rc = cairn_vos_idx_walk_one(cont, path, (enum cairn_vos_idx_level)level, rec_encode, &enc);
	if (rc == -CAIRN_ERR_INVAL) {
		/* a malformed op: the index refuses it and changes nothing */
		free(enc.buf);
		return 0;
	}
	if (rc == -CAIRN_ERR_NONEXIST) {
		rc = 0;
		enc.len = 0;
	}
	if (rc == 0 && enc.nomem)
		rc = -CAIRN_ERR_NOMEM;
	if (rc == 0 && enc.len > UINT32_MAX)
		rc = -CAIRN_ERR_NOSPACE;
	if (rc == 0 && w->nstash >= w->nbuckets)
		rc = stash_grow(w);
	e = rc == 0 ? calloc(1, sizeof(*e)) : NULL;
	if (rc == 0 && e != NULL)
		e->key = malloc(klen);
	if (rc == 0 && (e == NULL || e->key == NULL)) {
		free(e);
		rc = -CAIRN_ERR_NOMEM;
	}
	if (rc) {
		free(enc.buf);
		return rc;
	}
	memcpy(e->key, key, klen);
	e->klen = klen;
	e->hash = hash;
	e->len = (uint32_t)enc.len;
	if (enc.len)
		e->bytes = enc.buf;
	else
		free(enc.buf);
	e->next = w->buckets[hash & (w->nbuckets - 1)];
	w->buckets[hash & (w->nbuckets - 1)] = e;
	w->nstash++;
	w->stash_bytes += enc.len;
	return 0;
}

/* Walker hook: emit the stashed pre-image instead of the live entry. */
static int
walk_hook(void *arg, struct cairn_vos_idx_cont *cont, uint32_t level, const uint8_t oid_key[16],
	  const void *dkey, uint32_t dlen)
{
	struct vos_ckpt_walk *w = arg;
	uint8_t key[STASH_KEY_MAX];
	struct stash_ent *e;
	uint32_t klen, hash;

	if (w->nstash == 0)
		return 0;
	klen = stash_key(key, cont, level, oid_key, dkey, dlen);
	hash = vos_crc32c(0, key, klen);
	e = stash_find(w, key, klen, hash);
	if (e == NULL)
		return 0;
	vos_wbuf_put(&w->out, e->bytes, e->len);
	return w->out.nomem ? -CAIRN_ERR_NOMEM : 1;
}

static int
walk_emit(void *arg, const struct cairn_vos_idx_rec *rec)
{
	struct vos_ckpt_walk *w = arg;

	return walk_cb(&w->out, rec);
}

int
vos_ckpt_walk_start(struct vos_pool *p, struct vos_ckpt_walk **wp)
{
	struct vos_ckpt_walk *w = calloc(1, sizeof(*w));
	int rc;

	if (w == NULL)
		return -CAIRN_ERR_NOMEM;
	w->p = p;
	vos_wbuf_u32(&w->out, VOS_IDX_PAYLOAD_MAGIC);
	vos_wbuf_u32(&w->out, VOS_IDX_PAYLOAD_VER);
	rc = cairn_vos_idx_walker_create(p->idx, walk_emit, walk_hook, w, &w->walker);
	if (rc == 0 && w->out.nomem)
		rc = -CAIRN_ERR_NOMEM;
	if (rc) {
		vos_ckpt_walk_free(w);
		return rc;
	}
	*wp = w;
	return 0;
}

int
vos_ckpt_walk_step(struct vos_ckpt_walk *w, uint32_t budget, bool *done)
{
	int rc;

	*done = false;
	if (w->rc)
		return w->rc;
	rc = cairn_vos_idx_walker_step(w->walker, budget, done);
	if (rc == 0 && w->out.nomem)
		rc = -CAIRN_ERR_NOMEM;
	if (rc)
		w->rc = rc;
	return rc;
}

void
vos_ckpt_walk_take(struct vos_ckpt_walk *w, void **buf, uint64_t *len, uint32_t *nstash)
{
	*buf = w->out.buf;
	*len = w->out.len;
	*nstash = w->nstash;
	w->out.buf = NULL;
	w->out.len = w->out.cap = 0;
}

void
vos_ckpt_walk_free(struct vos_ckpt_walk *w)
{
	if (w == NULL)
		return;
	if (w->walker != NULL)
		cairn_vos_idx_walker_destroy(w->walker);
	stash_free(w);
	free(w->out.buf);
	free(w);
}

void
vos_ckpt_walk_abort(struct vos_pool *p, int rc)
{
	if (p->ckpt_walk != NULL && p->ckpt_walk->rc == 0)
		p->ckpt_walk->rc = rc;
}

void
vos_ckpt_before_change(struct vos_pool *p, struct cairn_vos_idx_cont *cont,
		       const struct cairn_vos_idx_path *path, enum cairn_vos_idx_level level)
{
	struct vos_ckpt_walk *w = p->ckpt_walk;
	int rc = 0;

	if (w == NULL || w->rc)
		return;
	if (!cairn_vos_idx_walker_passed(w->walker, cont, path, CAIRN_VOS_IDX_OBJ))
		rc = stash_save(w, cont, path, CAIRN_VOS_IDX_OBJ);
	if (rc == 0 && level != CAIRN_VOS_IDX_OBJ &&
	    !cairn_vos_idx_walker_passed(w->walker, cont, path, CAIRN_VOS_IDX_DKEY))
		rc = stash_save(w, cont, path, CAIRN_VOS_IDX_DKEY);
	if (rc) {
		CAIRN_WARN("%s: checkpoint abandoned, cannot save a pre-image: %s", p->bdev_name,
			   cairn_strerror(rc));
		w->rc = rc;
	}
}
