/*
 * VOS index: snapshots and aggregation.
 *
 * A pass with bound ub walks the container in key order, one dkey per unit of budget,
 * with its cursor (object key, last dkey finished) kept in the container so it survives
 * between calls and checkpoints. For every
 * value, records with epoch <= ub are kept only if visible at a retained epoch (each
 * snapshot below ub, and ub); array holes are kept only if they still hide older data;
 * punches are kept only if an older record remains under them; empty keys go away.
 * Mutations at epochs <= ub are refused from the start of the pass on (vos_index.h), so
 * everything the pass looks at (records and punches <= ub) is frozen.
 */
#include "idx_internal.h"

#include <stdlib.h>

#include "cairn/errno.h"

/* ---------------------------------------------------------------- snapshots */

int
cairn_vos_idx_snap_create(struct cairn_vos_idx_cont *cont, uint64_t epoch)
{
	uint32_t i;

	if (cont == NULL || epoch == 0 || epoch == CAIRN_VOS_EPOCH_MAX)
		return -CAIRN_ERR_INVAL;
	if (epoch < cont->agg_ub)
		return -CAIRN_ERR_STALE;
	for (i = 0; i < cont->nsnaps && cont->snaps[i] < epoch; i++)
		;
	if (i < cont->nsnaps && cont->snaps[i] == epoch)
		return -CAIRN_ERR_EXIST;
	if (cont->nsnaps >= CAIRN_VOS_IDX_SNAP_MAX)
		return -CAIRN_ERR_OVERFLOW;
	if (cont->nsnaps == cont->snapcap) {
		uint32_t cap = cont->snapcap ? cont->snapcap * 2 : 4;
		uint64_t *s = realloc(cont->snaps, sizeof(*s) * cap);

		if (s == NULL)
			return -CAIRN_ERR_NOMEM;
		cont->snaps = s;
		cont->snapcap = cap;
	}
	memmove(&cont->snaps[i + 1], &cont->snaps[i], sizeof(uint64_t) * (cont->nsnaps - i));
	cont->snaps[i] = epoch;
	cont->nsnaps++;
	return 0;
}

int
cairn_vos_idx_snap_destroy(struct cairn_vos_idx_cont *cont, uint64_t epoch)
{
	uint32_t i;

	if (cont == NULL)
		return -CAIRN_ERR_INVAL;
	for (i = 0; i < cont->nsnaps; i++) {
		if (cont->snaps[i] == epoch) {
			memmove(&cont->snaps[i], &cont->snaps[i + 1],
			        sizeof(uint64_t) * (cont->nsnaps - i - 1));
			cont->nsnaps--;
			return 0;
		}
	}
	return -CAIRN_ERR_NONEXIST;
}

int
cairn_vos_idx_snap_list(struct cairn_vos_idx_cont *cont, uint64_t *epochs, uint32_t max,
                        uint32_t *nr)
{
	if (cont == NULL || nr == NULL || (epochs == NULL && max > 0))
		return -CAIRN_ERR_INVAL;
	*nr = cont->nsnaps;
	if (cont->nsnaps > 0 && max > 0)
		memcpy(epochs, cont->snaps,
		       sizeof(uint64_t) * (cont->nsnaps < max ? cont->nsnaps : max));
	return cont->nsnaps > max ? -CAIRN_ERR_TRUNC : 0;
}

uint64_t
cairn_vos_idx_agg_bound(const struct cairn_vos_idx_cont *cont)
{
	return cont->agg_ub;
}

/* -------------------------------------------------------------- aggregation */

struct agg_ctx {
	struct cairn_vos_idx_cont *cont;
	uint64_t ub;
	uint32_t nret; /* retained epochs: snaps[0..nret-1] (all < ub), then ub */
	const struct idx_ent *obj, *dkey;
};

static inline uint64_t
agg_ret(const struct agg_ctx *a, uint32_t k)
{
	return k < a->nret ? a->cont->snaps[k] : a->ub;
}

static void
min_merge(idx_stamp_t *min, bool *has, const idx_stamp_t *st)
{
	if (!*has || idx_stamp_cmp(st, min) < 0) {
		*min = *st;
		*has = true;
	}
}

/* Drop punches with epoch <= ub that hide no remaining record (oldest: min). */
static void
agg_punches(struct agg_ctx *a, struct idx_plog *pl, const idx_stamp_t *min, bool has)
{
	struct idx_plog_blk *b = pl->b;
	uint32_t i, j = 0;

	if (b == NULL)
		return;
	for (i = 0; i < b->nr; i++) {
		if (b->v[i].epoch > a->ub || (has && idx_stamp_cmp(min, &b->v[i]) < 0))
			b->v[j++] = b->v[i];
	}
	a->cont->idx->st.punches -= b->nr - j;
	b->nr = j;
	if (j == 0)
		idx_plog_free(pl);
}

static void
agg_pb(const struct agg_ctx *a, const struct idx_ent *ak, uint64_t r, idx_stamp_t *pb)
{
	pb->epoch = pb->seq = 0;
	idx_plog_bound(&B(a->obj)->punch, r, pb);
	idx_plog_bound(&B(a->dkey)->punch, r, pb);
	idx_plog_bound(&B(ak)->punch, r, pb);
}

static void
agg_mark_sv(struct agg_ctx *a, struct idx_ent *ak, uint8_t *mark)
{
	const struct idx_ver *v = B(ak)->val.recs;
	uint32_t n = B(ak)->val.nr, i, k;

	for (i = 0; i < n; i++)
		mark[i] = v[i].st.epoch > a->ub;
	for (k = 0; k <= a->nret; k++) {
		uint64_t r = agg_ret(a, k);
		uint32_t lo = 0, hi = n;
		idx_stamp_t pb;

		while (lo < hi) { /* first version with epoch > r */
			uint32_t m = lo + (hi - lo) / 2;

			if (v[m].st.epoch <= r)
				lo = m + 1;
			else
				hi = m;
		}
		if (lo == 0)
			continue;
		agg_pb(a, ak, r, &pb);
		if (idx_stamp_cmp(&v[lo - 1].st, &pb) > 0)
			mark[lo - 1] = 1;
	}
}

static int
agg_mark_array(struct agg_ctx *a, struct idx_ent *ak, uint8_t *mark)
{
	struct cairn_vos_idx *idx = a->cont->idx;
	const struct idx_ext *x = B(ak)->val.recs;
	uint32_t n = B(ak)->val.nr, i, j, k;
	uint64_t end = 0;

	for (i = 0; i < n; i++) {
		mark[i] = x[i].st.epoch > a->ub;
		if (x[i].start + x[i].count > end)
			end = x[i].start + x[i].count;
	}
	for (k = 0; k <= a->nret; k++) {
		idx_stamp_t pb;
		int nsp, s;

		agg_pb(a, ak, agg_ret(a, k), &pb);
		nsp = idx_paint(idx, ak, agg_ret(a, k), &pb, 0, end, NULL);
		if (nsp < 0)
			return nsp;
		for (s = 0; s < nsp; s++) {
			if (idx->sp[s].src >= 0)
				mark[idx->cand[idx->sp[s].src] - x] = 1;
		}
	}
	/* a kept hole matters only while it hides a kept, older data extent */
	for (i = 0; i < n; i++) {
		bool needed = false;

		if (!mark[i] || x[i].rec.kind != CAIRN_VOS_REC_HOLE || x[i].st.epoch > a->ub)
			continue;
		for (j = 0; j < n && !needed; j++) {
			needed = mark[j] && x[j].rec.kind != CAIRN_VOS_REC_HOLE &&
			         idx_stamp_cmp(&x[j].st, &x[i].st) < 0 &&
			         x[j].start < x[i].start + x[i].count &&
			         x[i].start < x[j].start + x[j].count;
		}
		mark[i] = needed;
	}
	return 0;
}

/* Aggregate one akey; min and has get the oldest remaining record stamp. The akey may be
 * freed (*gone). */
static int
agg_akey(struct agg_ctx *a, struct idx_ent *dk, struct idx_ent *ak, idx_stamp_t *min, bool *has,
         bool *gone)
{
	struct cairn_vos_idx_cont *c = a->cont;
	struct cairn_vos_idx *idx = c->idx;
	bool arr = B(ak)->val.vtype == CAIRN_VOS_IDX_ARRAY;
	size_t esz = arr ? sizeof(struct idx_ext) : sizeof(struct idx_ver);
	uint8_t *base = B(ak)->val.recs;
	uint32_t n = B(ak)->val.nr, i, j = 0;
	idx_stamp_t amin = {0, 0};
	bool ahas = false;
	int rc;

	*gone = false;
	rc = idx_scratch_mark(idx, n);
	if (rc != 0)
		return rc;
	if (n > 0) {
		if (arr)
			rc = agg_mark_array(a, ak, idx->mark);
		else
			agg_mark_sv(a, ak, idx->mark);
		if (rc != 0)
			return rc;
	}
	B(ak)->val.maxcount = 0;
	for (i = 0; i < n; i++) {
		struct idx_ext *x = (struct idx_ext *)(base + i * esz);
		struct idx_ver *v = (struct idx_ver *)(base + i * esz);
		const idx_stamp_t *st = arr ? &x->st : &v->st;

		if (!idx->mark[i]) {
			idx_rec_release(c, arr ? &x->rec : &v->rec, true);
			continue;
		}
		min_merge(&amin, &ahas, st);
		if (arr && x->count > B(ak)->val.maxcount)
			B(ak)->val.maxcount = x->count;
		if (i != j)
			memcpy(base + j * esz, base + i * esz, esz);
		j++;
	}
	if (arr)
		idx->st.extents -= n - j;
	else
		idx->st.versions -= n - j;
	B(ak)->val.nr = j;
	agg_punches(a, &B(ak)->punch, &amin, ahas);
	if (ahas)
		min_merge(min, has, &amin);
	if (B(ak)->val.nr == 0 && idx_plog_nr(&B(ak)->punch) == 0) {
		idx_table_remove(&B(dk)->child, ak);
		idx_ent_free(c, ak, true);
		*gone = true;
	}
	return 0;
}

/* Aggregate one dkey of a->obj. The dkey may be freed. */
static int
agg_dkey(struct agg_ctx *a, struct idx_ent *obj, struct idx_ent *dk)
{
	idx_stamp_t dmin = {0, 0};
	bool dhas = false, gone;
	struct idx_ent *ak, *next;
	int rc;

	a->dkey = dk;
	for (ak = idx_table_first(&B(dk)->child); ak != NULL; ak = next) {
		next = idx_table_next(ak);
		rc = agg_akey(a, dk, ak, &dmin, &dhas, &gone);
		if (rc != 0)
			return rc;
	}
	agg_punches(a, &B(dk)->punch, &dmin, dhas);
	if (B(dk)->child.nr == 0 && idx_plog_nr(&B(dk)->punch) == 0) {
		idx_table_remove(&B(obj)->child, dk);
		idx_ent_free(a->cont, dk, true);
	}
	return 0;
}

/* Oldest record stamp under obj, scanning only until it is older than stop. */
static void
obj_min(const struct idx_ent *obj, const idx_stamp_t *stop, idx_stamp_t *min, bool *has)
{
	const struct idx_ent *d, *ak;
	uint32_t i;

	for (d = idx_table_first(&B(obj)->child); d != NULL; d = idx_table_next(d)) {
		for (ak = idx_table_first(&B(d)->child); ak != NULL; ak = idx_table_next(ak)) {
			bool arr = B(ak)->val.vtype == CAIRN_VOS_IDX_ARRAY;

			for (i = 0; i < B(ak)->val.nr; i++) {
				const idx_stamp_t *st =
				        arr ? &((struct idx_ext *)B(ak)->val.recs)[i].st
				            : &((struct idx_ver *)B(ak)->val.recs)[i].st;

				min_merge(min, has, st);
			}
			if (*has && idx_stamp_cmp(min, stop) < 0)
				return;
		}
	}
}

/*
 * Object punches are decided once all its dkeys are done. The oldest remaining record is
 * found by a scan of the object, paid only by objects that have punches within the bound
 * (rare: object deletion) and stopped as soon as every such punch is known to be needed.
 * Keeping no per-pass state for this makes a checkpoint taken mid-pass carry just the
 * cursor keys.
 */
static void
agg_obj_punches(struct agg_ctx *a, struct idx_ent *obj)
{
	idx_stamp_t min = {0, 0};
	bool has = false;

	const idx_stamp_t *oldest = idx_plog_v(&B(obj)->punch);

	if (oldest == NULL || idx_plog_nr(&B(obj)->punch) == 0 || oldest->epoch > a->ub)
		return;
	obj_min(obj, oldest, &min, &has);
	agg_punches(a, &B(obj)->punch, &min, has);
}

static void
cursor_reset(struct cairn_vos_idx_cont *c)
{
	c->cur_oid_valid = false;
	c->cur_klen = 0;
}

int
cairn_vos_idx_aggregate(struct cairn_vos_idx_cont *cont, uint64_t ub, uint32_t budget, bool *done)
{
	struct agg_ctx a;
	int rc;

	if (cont == NULL || done == NULL || budget == 0 || ub == 0 || ub == CAIRN_VOS_EPOCH_MAX)
		return -CAIRN_ERR_INVAL;
	if (ub < cont->agg_ub)
		return -CAIRN_ERR_STALE;
	*done = false;
	if (cont->cur_dkey == NULL) {
		cont->cur_dkey = malloc(CAIRN_VOS_IDX_KEY_MAX);
		if (cont->cur_dkey == NULL)
			return -CAIRN_ERR_NOMEM;
	}
	if (!cont->agg_active || ub != cont->agg_ub) {
		cont->agg_ub = ub;
		cont->agg_active = true;
		cursor_reset(cont);
	}
	memset(&a, 0, sizeof(a));
	a.cont = cont;
	a.ub = ub;
	while (a.nret < cont->nsnaps && cont->snaps[a.nret] < ub)
		a.nret++;

	while (budget > 0) {
		struct idx_ent *obj, *dk;

		if (cont->cur_oid_valid)
			obj = idx_table_seek(&cont->objs, cont->cur_oid, 16, true);
		else
			obj = idx_table_first(&cont->objs);
		if (obj == NULL) {
			cont->agg_active = false;
			cursor_reset(cont);
			*done = true;
			return 0;
		}
		if (!cont->cur_oid_valid || memcmp(idx_ent_key(obj), cont->cur_oid, 16) != 0) {
			memcpy(cont->cur_oid, idx_ent_key(obj), 16);
			cont->cur_oid_valid = true;
			cont->cur_klen = 0;
		}
		a.obj = obj;
		if (cont->cur_klen > 0)
			dk = idx_table_seek(&B(obj)->child, cont->cur_dkey, cont->cur_klen, false);
		else
			dk = idx_table_first(&B(obj)->child);
		budget--;
		if (dk != NULL) {
			/* copy the key first: the dkey may be freed. On failure the cursor
			 * stays put; redoing a dkey is harmless (aggregation is idempotent). */
			uint32_t klen = dk->klen;

			memcpy(cont->cur_dkey, idx_ent_key(dk), klen);
			rc = agg_dkey(&a, obj, dk);
			if (rc != 0)
				return rc;
			cont->cur_klen = klen;
			continue;
		}
		/* all dkeys of obj done: its punches, then the next object */
		agg_obj_punches(&a, obj);
		dk = idx_table_next(obj);
		if (dk != NULL) {
			memcpy(cont->cur_oid, idx_ent_key(dk), 16);
			cont->cur_klen = 0;
		}
		if (B(obj)->child.nr == 0 && idx_plog_nr(&B(obj)->punch) == 0) {
			idx_table_remove(&cont->objs, obj);
			idx_ent_free(cont, obj, true);
		}
		if (dk == NULL) {
			cont->agg_active = false;
			cursor_reset(cont);
			*done = true;
			return 0;
		}
	}
	return 0;
}
