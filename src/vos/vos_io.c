/*
 * The public VOS I/O API: update / fetch / punch, local transactions, enumeration,
 * snapshots and aggregation, over the WAL (vos_wal.c) and the index (vos_index.h).
 *
 * Update path: validate everything -> for each value: inline (small) or reserve an extent
 * and write the data with its CRC32C -> encode one VOS_REC_TX record -> group commit ->
 * the committer applies it to the index -> return. Data is on the device before the
 * record that points at it (the commit's flush covers both).
 */
#define CAIRN_LOG_SS CAIRN_SS_VOS
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "common/log.h"
#include "rt/rt.h"
#include "vos_internal.h"
#include "vos/vos.h"

_Static_assert((unsigned)CAIRN_VOS_COND_DKEY_INSERT == CAIRN_VOS_IDX_COND_DKEY_INSERT &&
		       (unsigned)CAIRN_VOS_COND_DKEY_UPDATE == CAIRN_VOS_IDX_COND_DKEY_UPDATE &&
		       (unsigned)CAIRN_VOS_COND_AKEY_INSERT == CAIRN_VOS_IDX_COND_AKEY_INSERT &&
		       (unsigned)CAIRN_VOS_COND_AKEY_UPDATE == CAIRN_VOS_IDX_COND_AKEY_UPDATE &&
		       (unsigned)CAIRN_VOS_COND_PUNCH == CAIRN_VOS_IDX_COND_PUNCH,
	       "public and index condition flags are the same bits");
_Static_assert(sizeof(struct cairn_vos_anchor) >= sizeof(struct cairn_vos_idx_anchor),
	       "public anchor holds the index anchor");
_Static_assert(CAIRN_VOS_KEY_MAX == CAIRN_VOS_IDX_KEY_MAX, "key limits agree");
_Static_assert(CAIRN_VOS_VAL_MAX <= CAIRN_VOS_IDX_VAL_MAX, "value limits agree");

#define ALL_UPDATE_CONDS                                                                   \
	(CAIRN_VOS_COND_DKEY_INSERT | CAIRN_VOS_COND_DKEY_UPDATE | CAIRN_VOS_COND_AKEY_INSERT | \
	 CAIRN_VOS_COND_AKEY_UPDATE)

struct cairn_vos_tx {
	struct vos_pool *p;
	uint8_t cont[16];
	uint64_t epoch;
	struct vos_wbuf w;
	uint32_t nops;
	uint64_t *locs; /* reserved extents (off, len) pairs, freed if the tx fails */
	uint32_t nlocs, cap;
};

static int
key_ok(const void *key, uint32_t len)
{
	return key != NULL && len >= 1 && len <= CAIRN_VOS_KEY_MAX;
}

static int
pool_cont(struct cairn_vos_pool *pool, const uint8_t cont[16], struct cairn_vos_idx_cont **c)
{
	if (pool == NULL || cont == NULL)
		return -CAIRN_ERR_INVAL;
	return cairn_vos_idx_cont_lookup(pool->p.idx, cont, c);
}

/* ------------------------------------------------------------------ transactions */

static void
tx_free_locs(struct cairn_vos_tx *tx, uint32_t from)
{
	while (tx->nlocs > from) {
		tx->nlocs--;
		vos_loc_free(tx->p, tx->locs[2 * tx->nlocs], (uint32_t)tx->locs[2 * tx->nlocs + 1]);
	}
}

static void
tx_release(struct cairn_vos_tx *tx, bool free_space)
{
	if (free_space)
		tx_free_locs(tx, 0);
	free(tx->locs);
	free(tx->w.buf);
}

static void
tx_init(struct cairn_vos_tx *tx, struct vos_pool *p, const uint8_t cont[16], uint64_t epoch)
{
	memset(tx, 0, sizeof(*tx));
	tx->p = p;
	memcpy(tx->cont, cont, 16);
	tx->epoch = epoch;
	vos_tx_encode_hdr(&tx->w, cont, epoch, 0);
}

/* Store one value: inline, or in a new extent written now. crc: its CRC32C when the
 * caller has it (CAIRN_VOS_IOD_CRC_GIVEN), else NULL. */
static int
tx_put_value(struct cairn_vos_tx *tx, const void *data, uint64_t len, const uint32_t *crc,
	     struct cairn_vos_idx_vrec *rec)
{
	struct vos_pool *p = tx->p;
	uint64_t nblk = vos_round_up(len, VOS_BLK) / VOS_BLK;
	uint64_t blk;
	int rc;

	memset(rec, 0, sizeof(*rec));
	rec->len = (uint32_t)len;
	rec->crc = crc ? *crc : vos_crc32c(0, data, len);
	if (len <= p->sb.inline_max) {
		rec->kind = CAIRN_VOS_REC_INLINE;
		rec->inl = data;
		return 0;
	}
	if (tx->nlocs == tx->cap) {
		uint32_t cap = tx->cap ? tx->cap * 2 : 8;
		uint64_t *l = realloc(tx->locs, (size_t)cap * 2 * sizeof(*l));

		if (l == NULL)
			return -CAIRN_ERR_NOMEM;
		tx->locs = l;
		tx->cap = cap;
	}
	rc = vos_alloc_get(&p->alloc, nblk, &blk);
	if (rc)
		return rc;
	rec->kind = CAIRN_VOS_REC_LOC;
	rec->off = blk * VOS_BLK;
	tx->locs[2 * tx->nlocs] = rec->off;
	tx->locs[2 * tx->nlocs + 1] = len;
	tx->nlocs++;
	p->preparing++;
	p->preparing_bytes += len;
	if (len % VOS_BLK == 0) {
		rc = vos_dev_write(p, p->sb.data_off + rec->off, data, len);
	} else {
		char *b = vos_buf_alloc(nblk * VOS_BLK);

		if (b == NULL) {
			p->preparing--;
			p->preparing_bytes -= len;
			return -CAIRN_ERR_NOMEM;
		}
		memcpy(b, data, len);
		memset(b + len, 0, nblk * VOS_BLK - len);
		rc = vos_dev_write(p, p->sb.data_off + rec->off, b, nblk * VOS_BLK);
		vos_buf_free(b);
	}
	p->preparing--;
	p->preparing_bytes -= len;
	if (rc == 0) {
		p->stats.data_bytes += len;
		vos_cache_put(&p->cache, rec->off, rec->len, rec->crc, data);
	}
	return rc;
}

/* Validate an iod for update; *bytes = data bytes it carries. */
static int
iod_check(const struct cairn_vos_iod *iod, bool update, uint64_t *bytes)
{
	uint64_t total = 0;
	uint32_t i;

	if (!key_ok(iod->akey, iod->akey_len))
		return -CAIRN_ERR_INVAL;
	if (iod->type == CAIRN_VOS_IOD_SINGLE) {
		if (update) {
			if (iod->size == 0 || iod->buf == NULL)
				return -CAIRN_ERR_INVAL;
			if (iod->size > CAIRN_VOS_VAL_MAX)
				return -CAIRN_ERR_OVERFLOW;
		} else if (iod->buf == NULL && iod->buf_size > 0) {
			return -CAIRN_ERR_INVAL;
		}
		*bytes = update ? iod->size : 0;
		return 0;
	}
	if (iod->type != CAIRN_VOS_IOD_ARRAY || iod->rec_size == 0 || iod->nr_recx == 0 ||
	    iod->recx == NULL || iod->buf == NULL)
		return -CAIRN_ERR_INVAL;
	if (iod->nr_recx > CAIRN_VOS_RECX_MAX)
		return -CAIRN_ERR_OVERFLOW;
	for (i = 0; i < iod->nr_recx; i++) {
		const struct cairn_vos_recx *x = &iod->recx[i];

		if (x->nr == 0)
			return -CAIRN_ERR_INVAL;
		if (x->nr > UINT64_MAX - x->idx || x->nr > CAIRN_VOS_VAL_MAX / iod->rec_size)
			return -CAIRN_ERR_OVERFLOW;
		total += x->nr * iod->rec_size;
		if (total > (uint64_t)CAIRN_VOS_VAL_MAX * CAIRN_VOS_RECX_MAX)
			return -CAIRN_ERR_OVERFLOW;
	}
	if (iod->buf_size < total)
		return -CAIRN_ERR_INVAL;
	*bytes = total;
	return 0;
}

static int
tx_add_update(struct cairn_vos_tx *tx, const struct cairn_vos_oid *oid, uint32_t cond,
	      const void *dkey, uint32_t dkey_len, uint32_t nr_iods,
	      const struct cairn_vos_iod *iods)
{
	uint64_t wmark = tx->w.len, bytes;
	uint32_t lmark = tx->nlocs, nmark = tx->nops;
	uint32_t i, j;
	int rc;

	if (oid == NULL || !key_ok(dkey, dkey_len) || iods == NULL || nr_iods == 0 ||
	    (cond & ~ALL_UPDATE_CONDS))
		return -CAIRN_ERR_INVAL;
	if (nr_iods > CAIRN_VOS_IOD_MAX)
		return -CAIRN_ERR_OVERFLOW;
	for (i = 0; i < nr_iods; i++) {
		rc = iod_check(&iods[i], true, &bytes);
		if (rc)
			return rc;
	}
	for (i = 0; i < nr_iods; i++) {
		const struct cairn_vos_iod *iod = &iods[i];
		struct vos_op op = {
			.cond = cond,
			.path = { .oid = *oid, .dkey = dkey, .dkey_len = dkey_len,
				  .akey = iod->akey, .akey_len = iod->akey_len },
		};
		const char *data = iod->buf;

		if (tx->nops >= CAIRN_VOS_TX_OPS_MAX) {
			rc = -CAIRN_ERR_OVERFLOW;
			goto rollback;
		}
		if (iod->type == CAIRN_VOS_IOD_SINGLE) {
			op.kind = VOS_OP_SV;
			rc = tx_put_value(tx, data, iod->size,
					  (iod->flags & CAIRN_VOS_IOD_CRC_GIVEN) ? &iod->crc : NULL,
					  &op.rec);
			if (rc)
				goto rollback;
			vos_tx_encode_op(&tx->w, &op);
			tx->nops++;
			continue;
		}
		op.kind = VOS_OP_ARRAY;
		op.rsize = iod->rec_size;
		for (j = 0; j < iod->nr_recx; j++) {
			uint64_t len = iod->recx[j].nr * iod->rec_size;

			if (tx->nops >= CAIRN_VOS_TX_OPS_MAX) {
				rc = -CAIRN_ERR_OVERFLOW;
				goto rollback;
			}
			op.index = iod->recx[j].idx;
			op.count = iod->recx[j].nr;
			rc = tx_put_value(tx, data, len,
					  (iod->flags & CAIRN_VOS_IOD_CRC_GIVEN) && iod->nr_recx == 1
						  ? &iod->crc : NULL,
					  &op.rec);
			if (rc)
				goto rollback;
			vos_tx_encode_op(&tx->w, &op);
			tx->nops++;
			data += len;
		}
	}
	if (tx->w.nomem) {
		rc = -CAIRN_ERR_NOMEM;
		goto rollback;
	}
	return 0;
rollback:
	tx_free_locs(tx, lmark);
	tx->w.len = wmark;
	tx->w.nomem = false;
	tx->nops = nmark;
	return rc;
}

static int
tx_add_punch(struct cairn_vos_tx *tx, const struct cairn_vos_oid *oid, uint32_t cond,
	     const void *dkey, uint32_t dkey_len, const void *akey, uint32_t akey_len)
{
	struct vos_op op = { .kind = VOS_OP_PUNCH, .cond = cond };

	if (oid == NULL || (cond & ~(uint32_t)CAIRN_VOS_COND_PUNCH))
		return -CAIRN_ERR_INVAL;
	if (tx->nops >= CAIRN_VOS_TX_OPS_MAX)
		return -CAIRN_ERR_OVERFLOW;
	op.path.oid = *oid;
	op.level = CAIRN_VOS_IDX_OBJ;
	if (dkey != NULL || dkey_len != 0) {
		if (!key_ok(dkey, dkey_len))
			return -CAIRN_ERR_INVAL;
		op.path.dkey = dkey;
		op.path.dkey_len = dkey_len;
		op.level = CAIRN_VOS_IDX_DKEY;
		if (akey != NULL || akey_len != 0) {
			if (!key_ok(akey, akey_len))
				return -CAIRN_ERR_INVAL;
			op.path.akey = akey;
			op.path.akey_len = akey_len;
			op.level = CAIRN_VOS_IDX_AKEY;
		}
	} else if (akey != NULL || akey_len != 0) {
		return -CAIRN_ERR_INVAL;
	}
	vos_tx_encode_op(&tx->w, &op);
	if (tx->w.nomem)
		return -CAIRN_ERR_NOMEM;
	tx->nops++;
	return 0;
}

static int
tx_commit(struct cairn_vos_tx *tx)
{
	struct vos_pool *p = tx->p;
	struct vos_commit c = { .type = VOS_REC_TX };
	int rc;

	if (tx->nops == 0) {
		tx_release(tx, true);
		return 0;
	}
	if (p->failed) {
		tx_release(tx, true);
		return p->failed;
	}
	vos_tx_set_nops(&tx->w, tx->nops);
	c.body = tx->w.buf;
	c.len = (uint32_t)tx->w.len;
	if (tx->w.len > UINT32_MAX)
		rc = -CAIRN_ERR_OVERFLOW;
	else
		rc = vos_wal_commit(p, &c);
	/* On success the index owns the extents. On failure they are free again, unless
	 * the pool failed: then it must be reopened and recovery rebuilds the space map. */
	tx_release(tx, rc != 0 && !p->failed);
	return rc;
}

static int
tx_check_open(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t epoch)
{
	struct cairn_vos_idx_cont *c;
	int rc;

	if (epoch == 0 || epoch >= CAIRN_VOS_EPOCH_MAX)
		return -CAIRN_ERR_INVAL;
	rc = pool_cont(pool, cont, &c);
	if (rc)
		return rc;
	if (pool->p.failed)
		return pool->p.failed;
	return 0;
}

int
cairn_vos_update(struct cairn_vos_pool *pool, const uint8_t cont[16],
		 const struct cairn_vos_oid *oid, uint64_t epoch, uint32_t cond, const void *dkey,
		 uint32_t dkey_len, uint32_t nr_iods, const struct cairn_vos_iod *iods)
{
	struct cairn_vos_tx tx;
	int rc = tx_check_open(pool, cont, epoch);

	if (rc)
		return rc;
	pool->p.busy++;
	tx_init(&tx, &pool->p, cont, epoch);
	rc = tx_add_update(&tx, oid, cond, dkey, dkey_len, nr_iods, iods);
	if (rc)
		tx_release(&tx, true);
	else
		rc = tx_commit(&tx);
	pool->p.busy--;
	return rc;
}

int
cairn_vos_punch(struct cairn_vos_pool *pool, const uint8_t cont[16],
		const struct cairn_vos_oid *oid, uint64_t epoch, uint32_t cond, const void *dkey,
		uint32_t dkey_len, const void *akey, uint32_t akey_len)
{
	struct cairn_vos_tx tx;
	int rc = tx_check_open(pool, cont, epoch);

	if (rc)
		return rc;
	pool->p.busy++;
	tx_init(&tx, &pool->p, cont, epoch);
	rc = tx_add_punch(&tx, oid, cond, dkey, dkey_len, akey, akey_len);
	if (rc)
		tx_release(&tx, true);
	else
		rc = tx_commit(&tx);
	pool->p.busy--;
	return rc;
}

int
cairn_vos_tx_begin(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t epoch,
		   struct cairn_vos_tx **txp)
{
	struct cairn_vos_tx *tx;
	int rc;

	if (txp == NULL)
		return -CAIRN_ERR_INVAL;
	rc = tx_check_open(pool, cont, epoch);
	if (rc)
		return rc;
	tx = malloc(sizeof(*tx));
	if (tx == NULL)
		return -CAIRN_ERR_NOMEM;
	tx_init(tx, &pool->p, cont, epoch);
	*txp = tx;
	return 0;
}

int
cairn_vos_tx_update(struct cairn_vos_tx *tx, const struct cairn_vos_oid *oid, uint32_t cond,
		    const void *dkey, uint32_t dkey_len, uint32_t nr_iods,
		    const struct cairn_vos_iod *iods)
{
	int rc;

	if (tx == NULL)
		return -CAIRN_ERR_INVAL;
	tx->p->busy++;
	rc = tx_add_update(tx, oid, cond, dkey, dkey_len, nr_iods, iods);
	tx->p->busy--;
	return rc;
}

int
cairn_vos_tx_punch(struct cairn_vos_tx *tx, const struct cairn_vos_oid *oid, uint32_t cond,
		   const void *dkey, uint32_t dkey_len, const void *akey, uint32_t akey_len)
{
	if (tx == NULL)
		return -CAIRN_ERR_INVAL;
	return tx_add_punch(tx, oid, cond, dkey, dkey_len, akey, akey_len);
}

int
cairn_vos_tx_commit(struct cairn_vos_tx *tx)
{
	int rc;

	struct vos_pool *p;

	if (tx == NULL)
		return -CAIRN_ERR_INVAL;
	p = tx->p;
	p->busy++;
	rc = tx_commit(tx);
	p->busy--;
	free(tx);
	return rc;
}

void
cairn_vos_tx_abort(struct cairn_vos_tx *tx)
{
	if (tx == NULL)
		return;
	tx_release(tx, true);
	free(tx);
}

/* ------------------------------------------------------------------ fetch */

/* Bytes of a stored record, verified. For LOC records the data is read into *buf (grown
 * as needed); inline bytes are returned in place. */
static int
rec_bytes(struct vos_pool *p, const struct cairn_vos_idx_vrec *rec, char **buf, uint64_t *cap,
	  const char **out)
{
	uint64_t len = vos_round_up(rec->len, VOS_BLK);
	int rc;

	if (rec->kind == CAIRN_VOS_REC_INLINE) {
		if (vos_crc32c(0, rec->inl, rec->len) != rec->crc)
			return -CAIRN_ERR_CSUM;
		*out = rec->inl;
		return 0;
	}
	if (rec->kind != CAIRN_VOS_REC_LOC || rec->off % VOS_BLK || rec->off > p->sb.data_size ||
	    len > p->sb.data_size - rec->off)
		return -CAIRN_ERR_CORRUPT;
	*out = vos_cache_get(&p->cache, rec->off, rec->len, rec->crc);
	if (*out != NULL)
		return 0;
	if (len > *cap) {
		vos_buf_free(*buf);
		*buf = vos_buf_alloc(len);
		*cap = *buf ? len : 0;
		if (*buf == NULL)
			return -CAIRN_ERR_NOMEM;
	}
	rc = vos_dev_read(p, p->sb.data_off + rec->off, *buf, len);
	if (rc)
		return rc;
	if (vos_crc32c(0, *buf, rec->len) != rec->crc) {
		CAIRN_ERROR("%s: data extent at %llu (%u bytes) fails its checksum",
			    p->bdev_name, (unsigned long long)rec->off, rec->len);
		return -CAIRN_ERR_CSUM;
	}
	vos_cache_put(&p->cache, rec->off, rec->len, rec->crc, *buf);
	*out = *buf;
	return 0;
}

struct fetch_scratch {
	char *buf;
	uint64_t cap;
	struct cairn_vos_idx_piece *pieces;
	uint32_t npieces;
};

static int
fetch_single(struct vos_pool *p, struct cairn_vos_idx_cont *cont,
	     const struct cairn_vos_idx_path *path, uint64_t epoch, struct cairn_vos_iod *iod,
	     struct fetch_scratch *s)
{
	struct cairn_vos_idx_vrec rec;
	const char *bytes;
	int rc;

	rc = cairn_vos_idx_sv_fetch(cont, path, epoch, &rec, NULL);
	if (rc == -CAIRN_ERR_NONEXIST) {
		iod->size = 0;
		return 0;
	}
	if (rc)
		return rc;
	iod->size = rec.len;
	/* the record's media checksum (the writer's end-to-end CRC32C when it gave one) */
	iod->crc = rec.crc;
	iod->flags |= CAIRN_VOS_IOD_CRC_GIVEN;
	if (iod->buf_size < rec.len)
		return -CAIRN_ERR_TRUNC;
	if (rec.kind == CAIRN_VOS_REC_LOC) {
		bytes = vos_cache_get(&p->cache, rec.off, rec.len, rec.crc);
		if (bytes != NULL) {
			memcpy(iod->buf, bytes, rec.len);
			return 0;
		}
	}
	/* Straight into the caller's buffer when it is whole blocks (no bounce copy). */
	if (rec.kind == CAIRN_VOS_REC_LOC && rec.len % VOS_BLK == 0) {
		rc = vos_dev_read(p, p->sb.data_off + rec.off, iod->buf, rec.len);
		if (rc)
			return rc;
		if (vos_crc32c(0, iod->buf, rec.len) != rec.crc) {
			memset(iod->buf, 0, rec.len);
			CAIRN_ERROR("%s: data extent at %llu (%u bytes) fails its checksum",
				    p->bdev_name, (unsigned long long)rec.off, rec.len);
			return -CAIRN_ERR_CSUM;
		}
		vos_cache_put(&p->cache, rec.off, rec.len, rec.crc, iod->buf);
		return 0;
	}
	rc = rec_bytes(p, &rec, &s->buf, &s->cap, &bytes);
	if (rc)
		return rc;
	memcpy(iod->buf, bytes, rec.len);
	return 0;
}

static int
fetch_array(struct vos_pool *p, struct cairn_vos_idx_cont *cont,
	    const struct cairn_vos_idx_path *path, uint64_t epoch, struct cairn_vos_iod *iod,
	    struct fetch_scratch *s)
{
	char *dst = iod->buf;
	uint32_t rsize = 0, i, k, nr;
	int rc;

	iod->size = 0;
	for (i = 0; i < iod->nr_recx; i++) {
		const struct cairn_vos_recx *x = &iod->recx[i];
		uint64_t xlen = x->nr * iod->rec_size;
		bool pass_loc;

		for (;;) {
			rc = cairn_vos_idx_array_fetch(cont, path, epoch, x->idx, x->nr, s->pieces,
						       s->npieces, &nr, &rsize);
			if (rc != -CAIRN_ERR_TRUNC)
				break;
			free(s->pieces);
			s->npieces = nr + 16;
			s->pieces = malloc((size_t)s->npieces * sizeof(*s->pieces));
			if (s->pieces == NULL) {
				s->npieces = 0;
				return -CAIRN_ERR_NOMEM;
			}
		}
		if (rc == -CAIRN_ERR_NONEXIST) {
			memset(dst, 0, xlen);
			dst += xlen;
			continue;
		}
		if (rc)
			return rc;
		if (rsize != iod->rec_size)
			return -CAIRN_ERR_INVAL;
		iod->size = rsize;
		/* Holes and inline pieces first: their bytes live in index memory that a
		 * mutation during a device read could free. Then the extents. */
		for (pass_loc = false;; pass_loc = true) {
			for (k = 0; k < nr; k++) {
				const struct cairn_vos_idx_piece *pc = &s->pieces[k];
				uint64_t doff = (pc->index - x->idx) * rsize;
				uint64_t n = pc->count * rsize;
				const char *bytes;

				if ((pc->rec.kind == CAIRN_VOS_REC_LOC) != pass_loc)
					continue;
				if (doff > xlen || n > xlen - doff)
					return -CAIRN_ERR_CORRUPT;
				if (pc->rec.kind == CAIRN_VOS_REC_HOLE) {
					memset(dst + doff, 0, n);
					continue;
				}
				if (pc->rec_off > pc->rec.len || n > pc->rec.len - pc->rec_off)
					return -CAIRN_ERR_CORRUPT;
				rc = rec_bytes(p, &pc->rec, &s->buf, &s->cap, &bytes);
				if (rc)
					return rc;
				memcpy(dst + doff, bytes + pc->rec_off, n);
			}
			if (pass_loc)
				break;
		}
		dst += xlen;
	}
	return 0;
}

int
cairn_vos_fetch(struct cairn_vos_pool *pool, const uint8_t cont[16],
		const struct cairn_vos_oid *oid, uint64_t epoch, const void *dkey,
		uint32_t dkey_len, uint32_t nr_iods, struct cairn_vos_iod *iods)
{
	struct fetch_scratch s = { 0 };
	struct cairn_vos_idx_cont *c;
	uint32_t i;
	uint64_t bytes;
	int rc, ret = 0;

	if (oid == NULL || !key_ok(dkey, dkey_len) || iods == NULL || nr_iods == 0 || epoch == 0)
		return -CAIRN_ERR_INVAL;
	if (nr_iods > CAIRN_VOS_IOD_MAX)
		return -CAIRN_ERR_OVERFLOW;
	for (i = 0; i < nr_iods; i++) {
		rc = iod_check(&iods[i], false, &bytes);
		if (rc)
			return rc;
	}
	rc = pool_cont(pool, cont, &c);
	if (rc)
		return rc;
	pool->p.busy++;
	for (i = 0; i < nr_iods; i++) {
		struct cairn_vos_iod *iod = &iods[i];
		struct cairn_vos_idx_path path = {
			.oid = *oid, .dkey = dkey, .dkey_len = dkey_len,
			.akey = iod->akey, .akey_len = iod->akey_len,
		};
		int tries;

		/* A checksum failure may be a race: the extent was freed (same-epoch
		 * overwrite, aggregation) and reused while we read it. Look it up again;
		 * real corruption fails every time. */
		for (tries = 0; tries < 3; tries++) {
			if (iod->type == CAIRN_VOS_IOD_SINGLE)
				rc = fetch_single(&pool->p, c, &path, epoch, iod, &s);
			else
				rc = fetch_array(&pool->p, c, &path, epoch, iod, &s);
			if (rc != -CAIRN_ERR_CSUM)
				break;
			if (pool_cont(pool, cont, &c) != 0) {
				rc = -CAIRN_ERR_NONEXIST;
				break;
			}
		}
		if (rc == -CAIRN_ERR_TRUNC) {
			ret = rc; /* report, but fill the other iods' sizes */
			continue;
		}
		if (rc) {
			ret = rc;
			break;
		}
	}
	pool->p.busy--;
	vos_buf_free(s.buf);
	free(s.pieces);
	return ret;
}

/* One value by reference (cairn_vos_fetch_ref): the cache's shared buffer, or a new
 * shareable buffer filled from the cache's copy, the device (then cached by reference)
 * or the inline bytes. */
static int
fetch_ref_once(struct vos_pool *p, struct cairn_vos_idx_cont *c,
	       const struct cairn_vos_idx_path *path, uint64_t epoch, void **bufp,
	       uint64_t *size, uint32_t *crc)
{
	struct cairn_vos_idx_vrec rec;
	const char *bytes = NULL;
	uint64_t len;
	char *b;
	int rc;

	rc = cairn_vos_idx_sv_fetch(c, path, epoch, &rec, NULL);
	if (rc == -CAIRN_ERR_NONEXIST)
		return 0;
	if (rc)
		return rc;
	*crc = rec.crc;
	if (rec.kind == CAIRN_VOS_REC_LOC) {
		len = vos_round_up(rec.len, VOS_BLK);
		if (rec.off % VOS_BLK || rec.off > p->sb.data_size ||
		    len > p->sb.data_size - rec.off)
			return -CAIRN_ERR_CORRUPT;
		bytes = vos_cache_get(&p->cache, rec.off, rec.len, rec.crc);
		if (bytes != NULL && vos_buf_ref(bytes, rec.len)) {
			*bufp = (void *)bytes;
			*size = rec.len;
			return 0;
		}
	} else if (rec.kind != CAIRN_VOS_REC_INLINE) {
		return -CAIRN_ERR_CORRUPT;
	}
	b = cairn_vos_buf_alloc(rec.len);
	if (b == NULL)
		return -CAIRN_ERR_NOMEM;
	if (rec.kind == CAIRN_VOS_REC_INLINE) {
		if (vos_crc32c(0, rec.inl, rec.len) != rec.crc) {
			cairn_vos_buf_free(b);
			return -CAIRN_ERR_CSUM;
		}
		memcpy(b, rec.inl, rec.len);
	} else if (bytes != NULL) {
		memcpy(b, bytes, rec.len); /* a copied (unshared) cache entry */
	} else {
		rc = vos_dev_read(p, p->sb.data_off + rec.off, b, vos_round_up(rec.len, VOS_BLK));
		if (rc == 0 && vos_crc32c(0, b, rec.len) != rec.crc) {
			CAIRN_ERROR("%s: data extent at %llu (%u bytes) fails its checksum",
				    p->bdev_name, (unsigned long long)rec.off, rec.len);
			rc = -CAIRN_ERR_CSUM;
		}
		if (rc) {
			cairn_vos_buf_free(b);
			return rc;
		}
		vos_cache_put(&p->cache, rec.off, rec.len, rec.crc, b);
	}
	*bufp = b;
	*size = rec.len;
	return 0;
}

int
cairn_vos_fetch_ref(struct cairn_vos_pool *pool, const uint8_t cont[16],
		    const struct cairn_vos_oid *oid, uint64_t epoch, const void *dkey,
		    uint32_t dkey_len, const void *akey, uint32_t akey_len, void **bufp,
		    uint64_t *size, uint32_t *crc)
{
	struct cairn_vos_idx_path path;
	struct cairn_vos_idx_cont *c;
	uint32_t crc_local;
	int rc, tries;

	if (bufp == NULL || size == NULL)
		return -CAIRN_ERR_INVAL;
	*bufp = NULL;
	*size = 0;
	if (oid == NULL || !key_ok(dkey, dkey_len) || !key_ok(akey, akey_len) || epoch == 0)
		return -CAIRN_ERR_INVAL;
	rc = pool_cont(pool, cont, &c);
	if (rc)
		return rc;
	path = (struct cairn_vos_idx_path){ .oid = *oid, .dkey = dkey, .dkey_len = dkey_len,
					    .akey = akey, .akey_len = akey_len };
	pool->p.busy++;
	/* as cairn_vos_fetch: a checksum failure may be an extent reused during the read */
	for (tries = 0; tries < 3; tries++) {
		rc = fetch_ref_once(&pool->p, c, &path, epoch, bufp, size,
				    crc ? crc : &crc_local);
		if (rc != -CAIRN_ERR_CSUM)
			break;
		if (pool_cont(pool, cont, &c) != 0) {
			rc = -CAIRN_ERR_NONEXIST;
			break;
		}
	}
	pool->p.busy--;
	return rc;
}

/* ------------------------------------------------------------------ enumeration */

void
cairn_vos_anchor_init(struct cairn_vos_anchor *anchor)
{
	memset(anchor, 0, sizeof(*anchor));
	cairn_vos_idx_anchor_init((struct cairn_vos_idx_anchor *)anchor);
}

bool
cairn_vos_anchor_is_eof(const struct cairn_vos_anchor *anchor)
{
	return cairn_vos_idx_anchor_is_eof((const struct cairn_vos_idx_anchor *)anchor);
}

struct oid_visit {
	cairn_vos_oid_cb cb;
	void *arg;
};

static int
oid_visit_cb(void *arg, const void *key, uint32_t len)
{
	struct oid_visit *v = arg;
	struct cairn_vos_oid oid;

	if (len != 16)
		return -CAIRN_ERR_CORRUPT;
	cairn_vos_oid_decode(key, &oid);
	return v->cb(v->arg, &oid);
}

int
cairn_vos_list_objs(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t epoch,
		    struct cairn_vos_anchor *anchor, cairn_vos_oid_cb cb, void *arg)
{
	struct oid_visit v = { .cb = cb, .arg = arg };
	struct cairn_vos_idx_cont *c;
	int rc;

	if (anchor == NULL || cb == NULL || epoch == 0)
		return -CAIRN_ERR_INVAL;
	rc = pool_cont(pool, cont, &c);
	if (rc)
		return rc;
	return cairn_vos_idx_list_objs(c, epoch, (struct cairn_vos_idx_anchor *)anchor,
				       oid_visit_cb, &v);
}

int
cairn_vos_list_dkeys(struct cairn_vos_pool *pool, const uint8_t cont[16],
		     const struct cairn_vos_oid *oid, uint64_t epoch,
		     struct cairn_vos_anchor *anchor, cairn_vos_key_cb cb, void *arg)
{
	struct cairn_vos_idx_cont *c;
	struct cairn_vos_idx_path path = { 0 };
	int rc;

	if (oid == NULL || anchor == NULL || cb == NULL || epoch == 0)
		return -CAIRN_ERR_INVAL;
	rc = pool_cont(pool, cont, &c);
	if (rc)
		return rc;
	path.oid = *oid;
	return cairn_vos_idx_list_dkeys(c, &path, epoch, (struct cairn_vos_idx_anchor *)anchor,
					cb, arg);
}

int
cairn_vos_list_akeys(struct cairn_vos_pool *pool, const uint8_t cont[16],
		     const struct cairn_vos_oid *oid, const void *dkey, uint32_t dkey_len,
		     uint64_t epoch, struct cairn_vos_anchor *anchor, cairn_vos_key_cb cb, void *arg)
{
	struct cairn_vos_idx_cont *c;
	struct cairn_vos_idx_path path = { 0 };
	int rc;

	if (oid == NULL || !key_ok(dkey, dkey_len) || anchor == NULL || cb == NULL || epoch == 0)
		return -CAIRN_ERR_INVAL;
	rc = pool_cont(pool, cont, &c);
	if (rc)
		return rc;
	path.oid = *oid;
	path.dkey = dkey;
	path.dkey_len = dkey_len;
	return cairn_vos_idx_list_akeys(c, &path, epoch, (struct cairn_vos_idx_anchor *)anchor,
					cb, arg);
}

struct ext_visit {
	cairn_vos_extent_cb cb;
	void *arg;
	uint32_t rsize;
};

static int
ext_visit_cb(void *arg, const struct cairn_vos_idx_piece *pc)
{
	struct ext_visit *v = arg;
	struct cairn_vos_extent e = {
		.idx = pc->index, .nr = pc->count, .epoch = pc->epoch, .rec_size = v->rsize,
	};

	return v->cb(v->arg, &e);
}

int
cairn_vos_list_extents(struct cairn_vos_pool *pool, const uint8_t cont[16],
		       const struct cairn_vos_oid *oid, const void *dkey, uint32_t dkey_len,
		       const void *akey, uint32_t akey_len, uint64_t epoch,
		       struct cairn_vos_anchor *anchor, cairn_vos_extent_cb cb, void *arg)
{
	struct ext_visit v = { .cb = cb, .arg = arg };
	struct cairn_vos_idx_cont *c;
	struct cairn_vos_idx_path path = { 0 };
	enum cairn_vos_idx_vtype type;
	int rc;

	if (oid == NULL || !key_ok(dkey, dkey_len) || !key_ok(akey, akey_len) || anchor == NULL ||
	    cb == NULL || epoch == 0)
		return -CAIRN_ERR_INVAL;
	rc = pool_cont(pool, cont, &c);
	if (rc)
		return rc;
	path.oid = *oid;
	path.dkey = dkey;
	path.dkey_len = dkey_len;
	path.akey = akey;
	path.akey_len = akey_len;
	rc = cairn_vos_idx_akey_type(c, &path, &type, &v.rsize);
	if (rc && rc != -CAIRN_ERR_NONEXIST)
		return rc;
	return cairn_vos_idx_list_extents(c, &path, epoch, (struct cairn_vos_idx_anchor *)anchor,
					  ext_visit_cb, &v);
}

/* ------------------------------------------------------------------ snapshots, aggregation */

static int
snap_log(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t epoch, uint16_t type)
{
	struct cairn_vos_idx_cont *c;
	uint8_t body[24];
	int rc;

	rc = pool_cont(pool, cont, &c);
	if (rc)
		return rc;
	if (epoch == 0 || epoch >= CAIRN_VOS_EPOCH_MAX)
		return -CAIRN_ERR_INVAL;
	memcpy(body, cont, 16);
	memcpy(body + 16, &epoch, 8);
	return vos_pool_log(&pool->p, type, body, sizeof(body), NULL);
}

int
cairn_vos_snap_create(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t epoch)
{
	return snap_log(pool, cont, epoch, VOS_REC_SNAP_CREATE);
}

int
cairn_vos_snap_destroy(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t epoch)
{
	return snap_log(pool, cont, epoch, VOS_REC_SNAP_DESTROY);
}

int
cairn_vos_snap_list(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t *epochs,
		    uint32_t max, uint32_t *nr)
{
	struct cairn_vos_idx_cont *c;
	int rc;

	if (nr == NULL || (epochs == NULL && max > 0))
		return -CAIRN_ERR_INVAL;
	rc = pool_cont(pool, cont, &c);
	if (rc)
		return rc;
	return cairn_vos_idx_snap_list(c, epochs, max, nr);
}

int
cairn_vos_aggregate(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t ub,
		    uint32_t budget, bool *done)
{
	struct cairn_vos_idx_cont *c;
	uint8_t body[28];
	bool d = false;
	int rc;

	if (done == NULL || budget == 0 || ub == 0 || ub >= CAIRN_VOS_EPOCH_MAX)
		return -CAIRN_ERR_INVAL;
	rc = pool_cont(pool, cont, &c);
	if (rc)
		return rc;
	if (ub < cairn_vos_idx_agg_bound(c))
		return -CAIRN_ERR_STALE;
	memcpy(body, cont, 16);
	memcpy(body + 16, &ub, 8);
	memcpy(body + 24, &budget, 4);
	rc = vos_pool_log(&pool->p, VOS_REC_AGGREGATE, body, sizeof(body), &d);
	*done = d;
	return rc;
}

#define VOS_AGG_BG_BUDGET 64

static void
agg_ult(void *arg)
{
	struct cairn_vos_pool *pool = arg;
	struct vos_pool *p = &pool->p;
	bool done = false;
	int rc = 0;

	while (!p->agg_stop && !done) {
		rc = cairn_vos_aggregate(pool, p->agg_cont, p->agg_ub, VOS_AGG_BG_BUDGET, &done);
		if (rc)
			break;
		cairn_ult_yield();
	}
	p->agg_rc = rc;
	p->agg_running = false;
}

int
cairn_vos_aggregate_start(struct cairn_vos_pool *pool, const uint8_t cont[16], uint64_t ub)
{
	struct cairn_ult_attr attr = { .prio = CAIRN_PRIO_GENERAL, .joinable = false };
	struct cairn_vos_idx_cont *c;
	int rc;

	if (ub == 0 || ub >= CAIRN_VOS_EPOCH_MAX)
		return -CAIRN_ERR_INVAL;
	rc = pool_cont(pool, cont, &c);
	if (rc)
		return rc;
	if (ub < cairn_vos_idx_agg_bound(c))
		return -CAIRN_ERR_STALE;
	if (pool->p.agg_running)
		return -CAIRN_ERR_BUSY;
	memcpy(pool->p.agg_cont, cont, 16);
	pool->p.agg_ub = ub;
	pool->p.agg_stop = false;
	pool->p.agg_rc = 0;
	pool->p.agg_running = true;
	rc = cairn_ult_create(NULL, agg_ult, pool, &attr, NULL);
	if (rc)
		pool->p.agg_running = false;
	return rc;
}

bool
cairn_vos_aggregate_running(struct cairn_vos_pool *pool, int *rc)
{
	if (pool == NULL)
		return false;
	if (rc != NULL)
		*rc = pool->p.agg_rc;
	return pool->p.agg_running;
}

void
vos_agg_stop(struct vos_pool *p)
{
	p->agg_stop = true;
	while (p->agg_running)
		cairn_ult_sleep_us(100);
}
