/*
 * VOS index core: containers, updates, punches, fetches and existence.
 *
 * Visibility rule (see vos_index.h): a record with stamp s is visible at epoch e if
 * s.epoch <= e, no newer record of the same value hides it at e, and the newest punch
 * (object, dkey or akey) with epoch <= e has an older stamp than s. Every mutation is
 * prepared first (allocations, conditions) and applied only when nothing can fail any
 * more, so an error leaves the index unchanged.
 */
#include "idx_internal.h"

#include <stdlib.h>

#include "cairn/errno.h"

/* ------------------------------------------------------------------ punch logs */

void
idx_plog_bound(const struct idx_plog *pl, uint64_t e, idx_stamp_t *best)
{
	uint32_t i;

	if (pl->b == NULL)
		return;
	/* sorted ascending: the newest with epoch <= e is the last such one */
	i = pl->b->nr;
	while (i > 0 && pl->b->v[i - 1].epoch > e)
		i--;
	if (i > 0 && idx_stamp_cmp(&pl->b->v[i - 1], best) > 0)
		*best = pl->b->v[i - 1];
}

static int
plog_reserve(struct idx_plog *pl)
{
	struct idx_plog_blk *b;
	uint32_t cap;

	if (pl->b != NULL && pl->b->nr < pl->b->cap)
		return 0;
	cap = pl->b != NULL ? pl->b->cap * 2 : 1;
	b = realloc(pl->b, sizeof(*b) + sizeof(idx_stamp_t) * cap);
	if (b == NULL)
		return -CAIRN_ERR_NOMEM;
	if (pl->b == NULL)
		b->nr = 0;
	b->cap = cap;
	pl->b = b;
	return 0;
}

static void
plog_insert(struct idx_plog *pl, const idx_stamp_t *st)
{
	struct idx_plog_blk *b = pl->b;
	uint32_t i = b->nr;

	while (i > 0 && idx_stamp_cmp(&b->v[i - 1], st) > 0)
		i--;
	memmove(&b->v[i + 1], &b->v[i], sizeof(*st) * (b->nr - i));
	b->v[i] = *st;
	b->nr++;
}

int
idx_plog_add(struct idx_plog *pl, const idx_stamp_t *st)
{
	int rc = plog_reserve(pl);

	if (rc == 0)
		plog_insert(pl, st);
	return rc;
}

void
idx_plog_free(struct idx_plog *pl)
{
	free(pl->b);
	pl->b = NULL;
}

/* ----------------------------------------------------------------- lifecycle */

int
cairn_vos_idx_create(const struct cairn_vos_idx_opts *opts, struct cairn_vos_idx **idxp)
{
	struct cairn_vos_idx *idx;

	if (opts == NULL || idxp == NULL || opts->opts_size < sizeof(*opts) ||
	    opts->free_hook == NULL)
		return -CAIRN_ERR_INVAL;
	idx = calloc(1, sizeof(*idx));
	if (idx == NULL)
		return -CAIRN_ERR_NOMEM;
	idx->opts = *opts;
	idx->opts.opts_size = sizeof(idx->opts);
	idx->next_seq = 1;
	*idxp = idx;
	return 0;
}

static void
cont_free(struct cairn_vos_idx_cont *c, bool hook)
{
	struct idx_ent *e, *n;

	for (e = idx_table_first(&c->objs); e != NULL; e = n) {
		n = idx_table_next(e);
		idx_ent_free(c, e, hook);
	}
	idx_table_fini(&c->objs);
	free(c->snaps);
	free(c->cur_dkey);
	c->idx->st.conts--;
	free(c);
}

void
cairn_vos_idx_destroy(struct cairn_vos_idx *idx)
{
	struct cairn_vos_idx_cont *c, *n;

	if (idx == NULL)
		return;
	for (c = idx->conts; c != NULL; c = n) {
		n = c->next;
		cont_free(c, false);
	}
	free(idx->cand);
	free(idx->sp);
	free(idx->mark);
	free(idx);
}

void
cairn_vos_idx_stats(const struct cairn_vos_idx *idx, struct cairn_vos_idx_stats *st)
{
	*st = idx->st;
	st->next_seq = idx->next_seq;
}

/* ---------------------------------------------------------------- containers */

int
cairn_vos_idx_cont_create(struct cairn_vos_idx *idx, const uint8_t uuid[16],
                          struct cairn_vos_idx_cont **contp)
{
	struct cairn_vos_idx_cont **pp, *c;
	int cmp = 1;

	if (idx == NULL || uuid == NULL)
		return -CAIRN_ERR_INVAL;
	for (pp = &idx->conts; *pp != NULL; pp = &(*pp)->next) {
		cmp = memcmp((*pp)->uuid, uuid, 16);
		if (cmp >= 0)
			break;
	}
	if (*pp != NULL && cmp == 0)
		return -CAIRN_ERR_EXIST;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -CAIRN_ERR_NOMEM;
	c->idx = idx;
	memcpy(c->uuid, uuid, 16);
	idx_table_init(&c->objs);
	c->next = *pp;
	*pp = c;
	idx->st.conts++;
	if (contp != NULL)
		*contp = c;
	return 0;
}

int
cairn_vos_idx_cont_lookup(struct cairn_vos_idx *idx, const uint8_t uuid[16],
                          struct cairn_vos_idx_cont **contp)
{
	struct cairn_vos_idx_cont *c;

	if (idx == NULL || uuid == NULL)
		return -CAIRN_ERR_INVAL;
	for (c = idx->conts; c != NULL; c = c->next) {
		if (memcmp(c->uuid, uuid, 16) == 0) {
			if (contp != NULL)
				*contp = c;
			return 0;
		}
	}
	return -CAIRN_ERR_NONEXIST;
}

int
cairn_vos_idx_cont_destroy(struct cairn_vos_idx *idx, const uint8_t uuid[16])
{
	struct cairn_vos_idx_cont **pp, *c;

	if (idx == NULL || uuid == NULL)
		return -CAIRN_ERR_INVAL;
	for (pp = &idx->conts; *pp != NULL; pp = &(*pp)->next) {
		if (memcmp((*pp)->uuid, uuid, 16) == 0) {
			c = *pp;
			*pp = c->next;
			cont_free(c, true);
			return 0;
		}
	}
	return -CAIRN_ERR_NONEXIST;
}

const uint8_t *
cairn_vos_idx_cont_uuid(const struct cairn_vos_idx_cont *cont)
{
	return cont->uuid;
}

/* ------------------------------------------------------------------ helpers */

void
idx_oid_key(const struct cairn_vos_oid *oid, uint8_t out[16])
{
	int i;

	for (i = 0; i < 8; i++) {
		out[i] = (uint8_t)(oid->hi >> (56 - 8 * i));
		out[8 + i] = (uint8_t)(oid->lo >> (56 - 8 * i));
	}
}

void
cairn_vos_oid_encode(const struct cairn_vos_oid *oid, uint8_t out[16])
{
	idx_oid_key(oid, out);
}

void
cairn_vos_oid_decode(const uint8_t in[16], struct cairn_vos_oid *oid)
{
	int i;

	oid->hi = oid->lo = 0;
	for (i = 0; i < 8; i++) {
		oid->hi = (oid->hi << 8) | in[i];
		oid->lo = (oid->lo << 8) | in[8 + i];
	}
}

void
idx_rec_release(struct cairn_vos_idx_cont *cont, struct cairn_vos_idx_vrec *rec, bool hook)
{
	struct cairn_vos_idx *idx = cont->idx;

	if (rec->kind == CAIRN_VOS_REC_INLINE) {
		if (rec->rsvd[0] != IDX_VREC_EMBEDDED)
			free((void *)rec->inl);
		rec->inl = NULL;
		idx->st.inline_bytes -= rec->len;
	} else if (rec->kind == CAIRN_VOS_REC_LOC && hook) {
		idx->opts.free_hook(idx->opts.free_arg, cont->uuid, rec);
	}
}

void
idx_ent_free(struct cairn_vos_idx_cont *cont, struct idx_ent *e, bool hook)
{
	struct cairn_vos_idx *idx = cont->idx;
	struct idx_ent *c, *n;
	uint32_t i;

	if (e->level == IDX_L_AKEY) {
		if (B(e)->val.vtype == CAIRN_VOS_IDX_ARRAY) {
			struct idx_ext *x = B(e)->val.recs;

			for (i = 0; i < B(e)->val.nr; i++)
				idx_rec_release(cont, &x[i].rec, hook);
			idx->st.extents -= B(e)->val.nr;
		} else {
			struct idx_ver *v = B(e)->val.recs;

			for (i = 0; i < B(e)->val.nr; i++)
				idx_rec_release(cont, &v[i].rec, hook);
			idx->st.versions -= B(e)->val.nr;
		}
		idx_val_free(e);
		idx->st.akeys--;
	} else {
		for (c = idx_table_first(&B(e)->child); c != NULL; c = n) {
			n = idx_table_next(c);
			idx_ent_free(cont, c, hook);
		}
		idx_table_fini(&B(e)->child);
		if (cont->last_obj == e)
			cont->last_obj = NULL;
		if (e->level == IDX_L_OBJ)
			idx->st.objs--;
		else
			idx->st.dkeys--;
	}
	idx->st.punches -= idx_plog_nr(&B(e)->punch);
	idx_plog_free(&B(e)->punch);
	idx_ent_release(idx, e);
}

int
idx_scratch_cand(struct cairn_vos_idx *idx, uint32_t n)
{
	if (n > idx->cand_cap) {
		uint32_t cap = n < 16 ? 16 : n + n / 2;
		const struct idx_ext **c = realloc(idx->cand, sizeof(*c) * cap);

		if (c == NULL)
			return -CAIRN_ERR_NOMEM;
		idx->cand = c;
		idx->cand_cap = cap;
	}
	if (2 * (uint64_t)n + 1 > idx->sp_cap) {
		uint32_t cap = 2 * n + 1 < 32 ? 32 : 3 * n + 1;
		struct idx_spiece *s = realloc(idx->sp, sizeof(*s) * cap);

		if (s == NULL)
			return -CAIRN_ERR_NOMEM;
		idx->sp = s;
		idx->sp_cap = cap;
	}
	return 0;
}

int
idx_scratch_mark(struct cairn_vos_idx *idx, uint32_t n)
{
	if (n > idx->mark_cap) {
		uint32_t cap = n < 64 ? 64 : n + n / 2;
		uint8_t *m = realloc(idx->mark, cap);

		if (m == NULL)
			return -CAIRN_ERR_NOMEM;
		idx->mark = m;
		idx->mark_cap = cap;
	}
	if (n > 0)
		memset(idx->mark, 0, n);
	return 0;
}

static int
cand_cmp_desc(const void *a, const void *b)
{
	const struct idx_ext *x = *(const struct idx_ext *const *)a;
	const struct idx_ext *y = *(const struct idx_ext *const *)b;

	return -idx_stamp_cmp(&x->st, &y->st);
}

/* First extent index whose start >= lo. */
static uint32_t
ext_lower(const struct idx_ext *x, uint32_t n, uint64_t lo)
{
	uint32_t a = 0, b = n;

	while (a < b) {
		uint32_t m = a + (b - a) / 2;

		if (x[m].start < lo)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

int
idx_paint(struct cairn_vos_idx *idx, const struct idx_ent *a, uint64_t e, const idx_stamp_t *pb,
          uint64_t lo, uint64_t hi, uint32_t *ncand)
{
	const struct idx_ext *x = B(a)->val.recs;
	uint32_t n = B(a)->val.nr, i, j, nc = 0, nsp;
	uint64_t from = lo > B(a)->val.maxcount ? lo - B(a)->val.maxcount : 0;
	int rc;

	i = ext_lower(x, n, from);
	/* count first, then fill: the scratch must be sized before use */
	for (j = i; j < n && x[j].start < hi; j++) {
		if (x[j].start + x[j].count > lo && x[j].st.epoch <= e &&
		    idx_stamp_cmp(&x[j].st, pb) > 0)
			nc++;
	}
	rc = idx_scratch_cand(idx, nc);
	if (rc != 0)
		return rc;
	nc = 0;
	for (j = i; j < n && x[j].start < hi; j++) {
		if (x[j].start + x[j].count > lo && x[j].st.epoch <= e &&
		    idx_stamp_cmp(&x[j].st, pb) > 0)
			idx->cand[nc++] = &x[j];
	}
	if (nc > 1)
		qsort(idx->cand, nc, sizeof(idx->cand[0]), cand_cmp_desc);
	idx->sp[0].start = lo;
	idx->sp[0].end = hi;
	idx->sp[0].src = -1;
	nsp = 1;
	for (i = 0; i < nc; i++) {
		uint64_t cs = idx->cand[i]->start, ce = cs + idx->cand[i]->count;

		for (j = 0; j < nsp; j++) {
			struct idx_spiece p = idx->sp[j];
			uint64_t s, t;
			uint32_t nl, nr;

			if (p.start >= ce)
				break;
			if (p.src != -1 || p.end <= cs)
				continue;
			s = p.start > cs ? p.start : cs;
			t = p.end < ce ? p.end : ce;
			nl = p.start < s;
			nr = t < p.end;
			memmove(&idx->sp[j + 1 + nl + nr], &idx->sp[j + 1],
			        sizeof(p) * (nsp - j - 1));
			if (nl) {
				idx->sp[j].start = p.start;
				idx->sp[j].end = s;
				idx->sp[j].src = -1;
			}
			idx->sp[j + nl].start = s;
			idx->sp[j + nl].end = t;
			idx->sp[j + nl].src = (int32_t)i;
			if (nr) {
				idx->sp[j + nl + 1].start = t;
				idx->sp[j + nl + 1].end = p.end;
				idx->sp[j + nl + 1].src = -1;
			}
			nsp += nl + nr;
			j += nl + nr;
		}
	}
	if (ncand != NULL)
		*ncand = nc;
	return (int)nsp;
}

static uint64_t
ext_max_end(const struct idx_ent *a)
{
	const struct idx_ext *x = B(a)->val.recs;
	uint64_t m = 0;
	uint32_t i;

	for (i = 0; i < B(a)->val.nr; i++) {
		if (x[i].start + x[i].count > m)
			m = x[i].start + x[i].count;
	}
	return m;
}

int
idx_akey_exists(struct cairn_vos_idx *idx, const struct idx_ent *a, uint64_t e,
                const idx_stamp_t *pb)
{
	const struct idx_ext *x;
	const struct idx_ext *newest_data = NULL;
	bool newer_hole = false;
	uint32_t i;
	int nsp, k;

	if (B(a)->val.nr == 0)
		return 0;
	if (B(a)->val.vtype == CAIRN_VOS_IDX_SINGLE) {
		const struct idx_ver *v = B(a)->val.recs;

		i = B(a)->val.nr;
		while (i > 0 && v[i - 1].st.epoch > e)
			i--;
		return i > 0 && idx_stamp_cmp(&v[i - 1].st, pb) > 0;
	}
	/* The newest visible data extent is visible unless a newer hole covers it. */
	x = B(a)->val.recs;
	for (i = 0; i < B(a)->val.nr; i++) {
		if (x[i].st.epoch > e || idx_stamp_cmp(&x[i].st, pb) <= 0 ||
		    x[i].rec.kind == CAIRN_VOS_REC_HOLE)
			continue;
		if (newest_data == NULL || idx_stamp_cmp(&x[i].st, &newest_data->st) > 0)
			newest_data = &x[i];
	}
	if (newest_data == NULL)
		return 0;
	for (i = 0; i < B(a)->val.nr && !newer_hole; i++) {
		newer_hole = x[i].rec.kind == CAIRN_VOS_REC_HOLE && x[i].st.epoch <= e &&
		             idx_stamp_cmp(&x[i].st, &newest_data->st) > 0;
	}
	if (!newer_hole)
		return 1;
	nsp = idx_paint(idx, a, e, pb, 0, ext_max_end(a), NULL);
	if (nsp < 0)
		return nsp;
	for (k = 0; k < nsp; k++) {
		if (idx->sp[k].src >= 0 &&
		    idx->cand[idx->sp[k].src]->rec.kind != CAIRN_VOS_REC_HOLE)
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------- path lookups */

static bool
key_ok(const void *key, uint32_t len)
{
	return key != NULL && len >= 1 && len <= CAIRN_VOS_IDX_KEY_MAX;
}

static int
path_check(const struct cairn_vos_idx_cont *c, const struct cairn_vos_idx_path *p, int level)
{
	if (c == NULL || p == NULL)
		return -CAIRN_ERR_INVAL;
	if (level < CAIRN_VOS_IDX_OBJ || level > CAIRN_VOS_IDX_AKEY)
		return -CAIRN_ERR_INVAL;
	if (level >= CAIRN_VOS_IDX_DKEY && !key_ok(p->dkey, p->dkey_len))
		return -CAIRN_ERR_INVAL;
	if (level >= CAIRN_VOS_IDX_AKEY && !key_ok(p->akey, p->akey_len))
		return -CAIRN_ERR_INVAL;
	return 0;
}

struct idx_found {
	struct idx_ent *obj, *dkey, *akey;
};

static void
path_find(struct cairn_vos_idx_cont *c, const struct cairn_vos_idx_path *p, int level,
          struct idx_found *f)
{
	uint8_t ok[16];

	memset(f, 0, sizeof(*f));
	/* consecutive operations usually address the same object */
	if (c->last_obj != NULL && c->last_oid.hi == p->oid.hi && c->last_oid.lo == p->oid.lo) {
		f->obj = c->last_obj;
	} else {
		idx_oid_key(&p->oid, ok);
		f->obj = idx_table_lookup(&c->objs, ok, 16);
		if (f->obj != NULL) {
			c->last_obj = f->obj;
			c->last_oid = p->oid;
		}
	}
	if (f->obj == NULL || level < CAIRN_VOS_IDX_DKEY)
		return;
	f->dkey = idx_table_lookup(&B(f->obj)->child, p->dkey, p->dkey_len);
	if (f->dkey == NULL || level < CAIRN_VOS_IDX_AKEY)
		return;
	f->akey = idx_table_lookup(&B(f->dkey)->child, p->akey, p->akey_len);
}

static int
dkey_exists(struct cairn_vos_idx *idx, const struct idx_ent *obj, const struct idx_ent *d,
            uint64_t e)
{
	idx_stamp_t pb0 = {0, 0};
	struct idx_ent *a;

	idx_plog_bound(&B(obj)->punch, e, &pb0);
	idx_plog_bound(&B(d)->punch, e, &pb0);
	for (a = idx_table_first(&B(d)->child); a != NULL; a = idx_table_next(a)) {
		idx_stamp_t pb = pb0;
		int rc;

		idx_plog_bound(&B(a)->punch, e, &pb);
		rc = idx_akey_exists(idx, a, e, &pb);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
obj_exists(struct cairn_vos_idx *idx, const struct idx_ent *obj, uint64_t e)
{
	struct idx_ent *d;

	for (d = idx_table_first(&B(obj)->child); d != NULL; d = idx_table_next(d)) {
		int rc = dkey_exists(idx, obj, d, e);

		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
found_exists(struct cairn_vos_idx *idx, const struct idx_found *f, int level, uint64_t e)
{
	idx_stamp_t pb = {0, 0};

	switch (level) {
	case CAIRN_VOS_IDX_OBJ:
		return f->obj ? obj_exists(idx, f->obj, e) : 0;
	case CAIRN_VOS_IDX_DKEY:
		return f->dkey ? dkey_exists(idx, f->obj, f->dkey, e) : 0;
	default:
		if (f->akey == NULL)
			return 0;
		idx_plog_bound(&B(f->obj)->punch, e, &pb);
		idx_plog_bound(&B(f->dkey)->punch, e, &pb);
		idx_plog_bound(&B(f->akey)->punch, e, &pb);
		return idx_akey_exists(idx, f->akey, e, &pb);
	}
}

int
cairn_vos_idx_exists(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                     enum cairn_vos_idx_level level, uint64_t epoch)
{
	struct idx_found f;
	int rc = path_check(cont, path, level);

	if (rc != 0)
		return rc;
	path_find(cont, path, level, &f);
	return found_exists(cont->idx, &f, level, epoch);
}

int
cairn_vos_idx_akey_type(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                        enum cairn_vos_idx_vtype *type, uint32_t *rsize)
{
	struct idx_found f;
	int rc = path_check(cont, path, CAIRN_VOS_IDX_AKEY);

	if (rc != 0)
		return rc;
	path_find(cont, path, CAIRN_VOS_IDX_AKEY, &f);
	if (f.akey == NULL || B(f.akey)->val.vtype == 0)
		return -CAIRN_ERR_NONEXIST;
	if (type != NULL)
		*type = B(f.akey)->val.vtype;
	if (rsize != NULL)
		*rsize = B(f.akey)->val.rsize;
	return 0;
}

/* --------------------------------------------------------- mutation prepare */

/* Entries of a mutation's path; new ones are allocated but not linked until apply. */
struct idx_upath {
	struct idx_found f;
	bool new_obj, new_dkey, new_akey;
};

static void
upath_abort(struct cairn_vos_idx *idx, struct idx_upath *u)
{
	if (u->new_akey)
		idx_ent_release(idx, u->f.akey);
	if (u->new_dkey) {
		idx_table_fini(&B(u->f.dkey)->child);
		idx_ent_release(idx, u->f.dkey);
	}
	if (u->new_obj) {
		idx_table_fini(&B(u->f.obj)->child);
		idx_ent_release(idx, u->f.obj);
	}
}

static int
upath_prepare(struct cairn_vos_idx_cont *c, const struct cairn_vos_idx_path *p, int level,
              struct idx_upath *u, bool big, uint32_t emb_len)
{
	uint8_t ok[16];
	int rc = -CAIRN_ERR_NOMEM;

	if (u->f.obj == NULL) {
		idx_oid_key(&p->oid, ok);
		u->f.obj = idx_ent_alloc(c->idx, IDX_L_OBJ, ok, 16, false, 0);
		if (u->f.obj == NULL)
			goto err;
		u->new_obj = true;
		rc = idx_table_reserve(&c->objs, u->f.obj);
		if (rc != 0)
			goto err;
	}
	if (level >= CAIRN_VOS_IDX_AKEY && u->f.dkey == NULL) {
		/* new dkey with its first akey: one block */
		rc = idx_ent_alloc_pair(c->idx, p->dkey, p->dkey_len, p->akey, p->akey_len, big,
		                        emb_len, &u->f.dkey, &u->f.akey);
		if (rc != 0)
			goto err;
		u->new_dkey = true;
		u->new_akey = true;
		rc = idx_table_reserve(&B(u->f.obj)->child, u->f.dkey);
		if (rc == 0)
			rc = idx_table_reserve(&B(u->f.dkey)->child, u->f.akey);
		if (rc != 0)
			goto err;
		return 0;
	}
	if (level >= CAIRN_VOS_IDX_DKEY && u->f.dkey == NULL) {
		u->f.dkey = idx_ent_alloc(c->idx, IDX_L_DKEY, p->dkey, p->dkey_len, false, 0);
		if (u->f.dkey == NULL)
			goto err;
		u->new_dkey = true;
		rc = idx_table_reserve(&B(u->f.obj)->child, u->f.dkey);
		if (rc != 0)
			goto err;
	}
	if (level >= CAIRN_VOS_IDX_AKEY && u->f.akey == NULL) {
		u->f.akey = idx_ent_alloc(c->idx, IDX_L_AKEY, p->akey, p->akey_len, big, emb_len);
		if (u->f.akey == NULL)
			goto err;
		u->new_akey = true;
		rc = idx_table_reserve(&B(u->f.dkey)->child, u->f.akey);
		if (rc != 0)
			goto err;
	}
	return 0;
err:
	upath_abort(c->idx, u);
	return -CAIRN_ERR_NOMEM;
}

static void
upath_link(struct cairn_vos_idx_cont *c, struct idx_upath *u)
{
	struct cairn_vos_idx *idx = c->idx;

	if (u->new_akey) {
		idx_table_insert(&B(u->f.dkey)->child, u->f.akey);
		idx->st.akeys++;
	}
	if (u->new_dkey) {
		idx_table_insert(&B(u->f.obj)->child, u->f.dkey);
		idx->st.dkeys++;
	}
	if (u->new_obj) {
		idx_table_insert(&c->objs, u->f.obj);
		idx->st.objs++;
	}
}

static int
epoch_check(const struct cairn_vos_idx_cont *c, uint64_t epoch)
{
	if (epoch == 0 || epoch == CAIRN_VOS_EPOCH_MAX)
		return -CAIRN_ERR_INVAL;
	if (epoch <= c->agg_ub)
		return -CAIRN_ERR_STALE;
	return 0;
}

/* Conditions of an update, at epoch, on the entries that exist now. */
static int
update_cond(struct cairn_vos_idx *idx, const struct idx_found *f, uint64_t e, uint32_t cond)
{
	int ex;

	if (cond & (CAIRN_VOS_IDX_COND_DKEY_INSERT | CAIRN_VOS_IDX_COND_DKEY_UPDATE)) {
		ex = found_exists(idx, f, CAIRN_VOS_IDX_DKEY, e);
		if (ex < 0)
			return ex;
		if (ex && (cond & CAIRN_VOS_IDX_COND_DKEY_INSERT))
			return -CAIRN_ERR_EXIST;
		if (!ex && (cond & CAIRN_VOS_IDX_COND_DKEY_UPDATE))
			return -CAIRN_ERR_NONEXIST;
	}
	if (cond & (CAIRN_VOS_IDX_COND_AKEY_INSERT | CAIRN_VOS_IDX_COND_AKEY_UPDATE)) {
		ex = found_exists(idx, f, CAIRN_VOS_IDX_AKEY, e);
		if (ex < 0)
			return ex;
		if (ex && (cond & CAIRN_VOS_IDX_COND_AKEY_INSERT))
			return -CAIRN_ERR_EXIST;
		if (!ex && (cond & CAIRN_VOS_IDX_COND_AKEY_UPDATE))
			return -CAIRN_ERR_NONEXIST;
	}
	return 0;
}

#define IDX_COND_UPDATE_MASK                                                                       \
	(CAIRN_VOS_IDX_COND_DKEY_INSERT | CAIRN_VOS_IDX_COND_DKEY_UPDATE |                         \
	 CAIRN_VOS_IDX_COND_AKEY_INSERT | CAIRN_VOS_IDX_COND_AKEY_UPDATE)

static int
vrec_check(const struct cairn_vos_idx_vrec *rec, bool hole_ok)
{
	if (rec == NULL)
		return -CAIRN_ERR_INVAL;
	switch (rec->kind) {
	case CAIRN_VOS_REC_HOLE:
		return hole_ok && rec->len == 0 ? 0 : -CAIRN_ERR_INVAL;
	case CAIRN_VOS_REC_INLINE:
		if (rec->len > CAIRN_VOS_IDX_INLINE_MAX)
			return -CAIRN_ERR_OVERFLOW;
		return rec->len > 0 && rec->inl == NULL ? -CAIRN_ERR_INVAL : 0;
	case CAIRN_VOS_REC_LOC:
		return rec->len > CAIRN_VOS_IDX_VAL_MAX ? -CAIRN_ERR_OVERFLOW : 0;
	default:
		return -CAIRN_ERR_INVAL;
	}
}

/* Copy of rec for the index (inline bytes duplicated into emb when given, else malloc). */
static int
vrec_dup(struct cairn_vos_idx *idx, const struct cairn_vos_idx_vrec *in,
         struct cairn_vos_idx_vrec *out, uint8_t *emb)
{
	memset(out, 0, sizeof(*out));
	out->kind = in->kind;
	out->len = in->len;
	out->crc = in->crc;
	if (in->kind == CAIRN_VOS_REC_LOC) {
		out->off = in->off;
	} else if (in->kind == CAIRN_VOS_REC_INLINE) {
		void *b = emb != NULL ? emb : malloc(in->len ? in->len : 1);

		if (b == NULL)
			return -CAIRN_ERR_NOMEM;
		if (emb != NULL)
			out->rsvd[0] = IDX_VREC_EMBEDDED;
		if (in->len > 0)
			memcpy(b, in->inl, in->len);
		out->inl = b;
		idx->st.inline_bytes += in->len;
	}
	return 0;
}

/* A new akey embeds the inline bytes of the value it is created with. */
static uint32_t
emb_len(const struct cairn_vos_idx_vrec *rec)
{
	return rec->kind == CAIRN_VOS_REC_INLINE ? rec->len : 0;
}

static uint8_t *
emb_of(const struct idx_upath *u, const struct cairn_vos_idx_vrec *rec)
{
	return u->new_akey && rec->kind == CAIRN_VOS_REC_INLINE ? idx_ent_emb(u->f.akey) : NULL;
}

/* ------------------------------------------------------------------ updates */

int
cairn_vos_idx_sv_update(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                        uint64_t epoch, uint32_t cond, const struct cairn_vos_idx_vrec *rec)
{
	struct cairn_vos_idx *idx;
	struct idx_upath u = {0};
	struct cairn_vos_idx_vrec nrec;
	struct idx_ver *v;
	struct idx_val *val;
	uint32_t i;
	int rc;

	rc = path_check(cont, path, CAIRN_VOS_IDX_AKEY);
	if (rc == 0)
		rc = vrec_check(rec, false);
	if (rc == 0 && (cond & ~IDX_COND_UPDATE_MASK))
		rc = -CAIRN_ERR_INVAL;
	if (rc == 0)
		rc = epoch_check(cont, epoch);
	if (rc != 0)
		return rc;
	idx = cont->idx;
	path_find(cont, path, CAIRN_VOS_IDX_AKEY, &u.f);
	if (u.f.akey != NULL && B(u.f.akey)->val.nr > 0 &&
	    B(u.f.akey)->val.vtype != CAIRN_VOS_IDX_SINGLE)
		return -CAIRN_ERR_INVAL;
	rc = update_cond(idx, &u.f, epoch, cond);
	if (rc != 0)
		return rc;
	rc = upath_prepare(cont, path, CAIRN_VOS_IDX_AKEY, &u, false, emb_len(rec));
	if (rc != 0)
		return rc;
	val = &B(u.f.akey)->val;
	rc = idx_val_reserve(u.f.akey, sizeof(struct idx_ver));
	if (rc != 0)
		goto err_path;
	rc = vrec_dup(idx, rec, &nrec, emb_of(&u, rec));
	if (rc != 0)
		goto err_path;

	/* apply: nothing below can fail */
	upath_link(cont, &u);
	if (val->nr == 0) {
		val->vtype = CAIRN_VOS_IDX_SINGLE;
		val->rsize = 0;
	}
	v = val->recs;
	i = val->nr;
	while (i > 0 && v[i - 1].st.epoch > epoch)
		i--;
	if (i > 0 && v[i - 1].st.epoch == epoch) {
		/* same epoch: the new version hides the old one at every epoch */
		idx_rec_release(cont, &v[i - 1].rec, true);
		v[i - 1].rec = nrec;
		v[i - 1].st.seq = idx->next_seq++;
		return 0;
	}
	memmove(&v[i + 1], &v[i], sizeof(*v) * (val->nr - i));
	v[i].st.epoch = epoch;
	v[i].st.seq = idx->next_seq++;
	v[i].rec = nrec;
	val->nr++;
	idx->st.versions++;
	return 0;

err_path:
	if (u.new_akey)
		idx_val_free(u.f.akey);
	upath_abort(idx, &u);
	return rc;
}

int
cairn_vos_idx_array_update(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                           uint64_t epoch, uint32_t cond, uint32_t rsize, uint64_t index,
                           uint64_t count, const struct cairn_vos_idx_vrec *rec)
{
	struct cairn_vos_idx *idx;
	struct idx_upath u = {0};
	struct cairn_vos_idx_vrec nrec;
	struct idx_ext *x;
	struct idx_val *val;
	uint32_t i;
	int rc;

	rc = path_check(cont, path, CAIRN_VOS_IDX_AKEY);
	if (rc == 0)
		rc = vrec_check(rec, true);
	if (rc == 0 && ((cond & ~IDX_COND_UPDATE_MASK) || rsize == 0 || count == 0))
		rc = -CAIRN_ERR_INVAL;
	if (rc == 0 && (rsize > CAIRN_VOS_IDX_VAL_MAX || count > UINT64_MAX - index ||
	                count > CAIRN_VOS_IDX_VAL_MAX / rsize))
		rc = -CAIRN_ERR_OVERFLOW;
	if (rc == 0 && rec->kind != CAIRN_VOS_REC_HOLE && rec->len != count * rsize)
		rc = -CAIRN_ERR_INVAL;
	if (rc == 0)
		rc = epoch_check(cont, epoch);
	if (rc != 0)
		return rc;
	idx = cont->idx;
	path_find(cont, path, CAIRN_VOS_IDX_AKEY, &u.f);
	if (u.f.akey != NULL && B(u.f.akey)->val.nr > 0 &&
	    (B(u.f.akey)->val.vtype != CAIRN_VOS_IDX_ARRAY || B(u.f.akey)->val.rsize != rsize))
		return -CAIRN_ERR_INVAL;
	rc = update_cond(idx, &u.f, epoch, cond);
	if (rc != 0)
		return rc;
	rc = upath_prepare(cont, path, CAIRN_VOS_IDX_AKEY, &u, true, emb_len(rec));
	if (rc != 0)
		return rc;
	val = &B(u.f.akey)->val;
	rc = idx_val_reserve(u.f.akey, sizeof(struct idx_ext));
	if (rc != 0)
		goto err_path;
	rc = vrec_dup(idx, rec, &nrec, emb_of(&u, rec));
	if (rc != 0)
		goto err_path;

	upath_link(cont, &u);
	if (val->nr == 0) {
		val->vtype = CAIRN_VOS_IDX_ARRAY;
		val->rsize = rsize;
		val->maxcount = 0;
	}
	x = val->recs;
	i = ext_lower(x, val->nr, index);
	while (i < val->nr && x[i].start == index)
		i++;
	memmove(&x[i + 1], &x[i], sizeof(*x) * (val->nr - i));
	x[i].start = index;
	x[i].count = count;
	x[i].st.epoch = epoch;
	x[i].st.seq = idx->next_seq++;
	x[i].rec = nrec;
	val->nr++;
	if (count > val->maxcount)
		val->maxcount = count;
	idx->st.extents++;
	return 0;

err_path:
	if (u.new_akey)
		idx_val_free(u.f.akey);
	upath_abort(idx, &u);
	return rc;
}

int
cairn_vos_idx_punch(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                    enum cairn_vos_idx_level level, uint64_t epoch, uint32_t cond)
{
	struct cairn_vos_idx *idx;
	struct idx_upath u = {0};
	struct idx_ent *target;
	idx_stamp_t st;
	int rc;

	rc = path_check(cont, path, level);
	if (rc == 0 && (cond & ~(uint32_t)CAIRN_VOS_IDX_COND_PUNCH))
		rc = -CAIRN_ERR_INVAL;
	if (rc == 0)
		rc = epoch_check(cont, epoch);
	if (rc != 0)
		return rc;
	idx = cont->idx;
	path_find(cont, path, level, &u.f);
	if (cond & CAIRN_VOS_IDX_COND_PUNCH) {
		rc = found_exists(idx, &u.f, level, epoch);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return -CAIRN_ERR_NONEXIST;
	}
	/* A punch of an absent key is recorded too: a later-arriving update at an older
	 * epoch must still read as punched. */
	rc = upath_prepare(cont, path, level, &u, false, 0);
	if (rc != 0)
		return rc;
	target = level == CAIRN_VOS_IDX_OBJ    ? u.f.obj
	         : level == CAIRN_VOS_IDX_DKEY ? u.f.dkey
	                                       : u.f.akey;
	rc = plog_reserve(&B(target)->punch);
	if (rc != 0) {
		upath_abort(idx, &u);
		return rc;
	}
	upath_link(cont, &u);
	st.epoch = epoch;
	st.seq = idx->next_seq++;
	plog_insert(&B(target)->punch, &st);
	idx->st.punches++;
	return 0;
}

/* -------------------------------------------------------------------- fetch */

int
cairn_vos_idx_sv_fetch(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                       uint64_t epoch, struct cairn_vos_idx_vrec *rec, uint64_t *ver_epoch)
{
	struct idx_found f;
	idx_stamp_t pb = {0, 0};
	const struct idx_ver *v;
	uint32_t i;
	int rc = path_check(cont, path, CAIRN_VOS_IDX_AKEY);

	if (rc != 0 || rec == NULL)
		return -CAIRN_ERR_INVAL;
	path_find(cont, path, CAIRN_VOS_IDX_AKEY, &f);
	if (f.akey == NULL || B(f.akey)->val.nr == 0)
		return -CAIRN_ERR_NONEXIST;
	if (B(f.akey)->val.vtype != CAIRN_VOS_IDX_SINGLE)
		return -CAIRN_ERR_INVAL;
	v = B(f.akey)->val.recs;
	i = B(f.akey)->val.nr;
	while (i > 0 && v[i - 1].st.epoch > epoch)
		i--;
	if (i == 0)
		return -CAIRN_ERR_NONEXIST;
	idx_plog_bound(&B(f.obj)->punch, epoch, &pb);
	idx_plog_bound(&B(f.dkey)->punch, epoch, &pb);
	idx_plog_bound(&B(f.akey)->punch, epoch, &pb);
	if (idx_stamp_cmp(&v[i - 1].st, &pb) <= 0)
		return -CAIRN_ERR_NONEXIST;
	*rec = idx_vrec_out(&v[i - 1].rec);
	if (ver_epoch != NULL)
		*ver_epoch = v[i - 1].st.epoch;
	return 0;
}

/* Turn paint piece k into a public piece. */
static void
piece_of(const struct cairn_vos_idx *idx, const struct idx_ent *a, int k,
         struct cairn_vos_idx_piece *out)
{
	const struct idx_spiece *s = &idx->sp[k];

	memset(out, 0, sizeof(*out));
	out->index = s->start;
	out->count = s->end - s->start;
	if (s->src >= 0 && idx->cand[s->src]->rec.kind != CAIRN_VOS_REC_HOLE) {
		const struct idx_ext *x = idx->cand[s->src];

		out->epoch = x->st.epoch;
		out->rec = idx_vrec_out(&x->rec);
		out->rec_off = (s->start - x->start) * B(a)->val.rsize;
	} else {
		out->rec.kind = CAIRN_VOS_REC_HOLE;
	}
}

int
cairn_vos_idx_array_fetch(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                          uint64_t epoch, uint64_t index, uint64_t count,
                          struct cairn_vos_idx_piece *pieces, uint32_t max, uint32_t *nr,
                          uint32_t *rsize)
{
	struct cairn_vos_idx *idx;
	struct idx_found f;
	idx_stamp_t pb = {0, 0};
	struct cairn_vos_idx_piece cur;
	uint32_t n = 0;
	int rc, nsp, k;
	bool have = false;

	rc = path_check(cont, path, CAIRN_VOS_IDX_AKEY);
	if (rc != 0 || nr == NULL || (pieces == NULL && max > 0) || count == 0)
		return -CAIRN_ERR_INVAL;
	if (count > UINT64_MAX - index)
		return -CAIRN_ERR_OVERFLOW;
	idx = cont->idx;
	path_find(cont, path, CAIRN_VOS_IDX_AKEY, &f);
	if (f.akey == NULL || B(f.akey)->val.nr == 0)
		return -CAIRN_ERR_NONEXIST;
	if (B(f.akey)->val.vtype != CAIRN_VOS_IDX_ARRAY)
		return -CAIRN_ERR_INVAL;
	idx_plog_bound(&B(f.obj)->punch, epoch, &pb);
	idx_plog_bound(&B(f.dkey)->punch, epoch, &pb);
	idx_plog_bound(&B(f.akey)->punch, epoch, &pb);
	nsp = idx_paint(idx, f.akey, epoch, &pb, index, index + count, NULL);
	if (nsp < 0)
		return nsp;
	for (k = 0; k < nsp && !have; k++)
		have = idx->sp[k].src >= 0 &&
		       idx->cand[idx->sp[k].src]->rec.kind != CAIRN_VOS_REC_HOLE;
	if (!have) {
		/* Only holes here: the akey may still exist elsewhere (checked only now, as
		 * it looks at every extent and reuses the paint scratch). */
		rc = idx_akey_exists(idx, f.akey, epoch, &pb);
		if (rc <= 0)
			return rc < 0 ? rc : -CAIRN_ERR_NONEXIST;
		idx->sp[0].start = index;
		idx->sp[0].end = index + count;
		idx->sp[0].src = -1;
		nsp = 1;
	}
	have = false;
	for (k = 0; k < nsp; k++) {
		struct cairn_vos_idx_piece p;

		piece_of(idx, f.akey, k, &p);
		if (have && p.rec.kind == CAIRN_VOS_REC_HOLE &&
		    cur.rec.kind == CAIRN_VOS_REC_HOLE) {
			cur.count += p.count;
			continue;
		}
		if (have) {
			if (n < max)
				pieces[n] = cur;
			n++;
		}
		cur = p;
		have = true;
	}
	if (n < max)
		pieces[n] = cur;
	n++;
	*nr = n;
	if (rsize != NULL)
		*rsize = B(f.akey)->val.rsize;
	return n > max ? -CAIRN_ERR_TRUNC : 0;
}

/* ---------------------------------------------------------------- enumeration */

#define ANCHOR_STARTED 1u
#define ANCHOR_EOF 2u

void
cairn_vos_idx_anchor_init(struct cairn_vos_idx_anchor *anchor)
{
	anchor->flags = 0;
	anchor->klen = 0;
	anchor->index = 0;
}

bool
cairn_vos_idx_anchor_is_eof(const struct cairn_vos_idx_anchor *anchor)
{
	return (anchor->flags & ANCHOR_EOF) != 0;
}

static int
anchor_check(const struct cairn_vos_idx_anchor *a)
{
	if (a == NULL || (a->flags & ~(ANCHOR_STARTED | ANCHOR_EOF)) ||
	    a->klen > CAIRN_VOS_IDX_KEY_MAX)
		return -CAIRN_ERR_INVAL;
	return 0;
}

enum { LIST_OBJS, LIST_DKEYS, LIST_AKEYS };

/* Shared loop over one table; exists is evaluated per entry. */
static int
list_table(struct cairn_vos_idx *idx, const struct idx_table *t, int what,
           const struct idx_ent *obj, const struct idx_ent *dkey, uint64_t e,
           struct cairn_vos_idx_anchor *anchor, cairn_vos_idx_key_cb cb, void *arg)
{
	struct idx_ent *ent;

	if (anchor->flags & ANCHOR_STARTED)
		ent = idx_table_seek(t, anchor->key, anchor->klen, false);
	else
		ent = idx_table_first(t);
	for (; ent != NULL; ent = idx_table_next(ent)) {
		int ex, rc;

		if (what == LIST_OBJS) {
			ex = obj_exists(idx, ent, e);
		} else if (what == LIST_DKEYS) {
			ex = dkey_exists(idx, obj, ent, e);
		} else {
			idx_stamp_t pb = {0, 0};

			idx_plog_bound(&B(obj)->punch, e, &pb);
			idx_plog_bound(&B(dkey)->punch, e, &pb);
			idx_plog_bound(&B(ent)->punch, e, &pb);
			ex = idx_akey_exists(idx, ent, e, &pb);
		}
		if (ex < 0)
			return ex;
		if (ex == 0)
			continue;
		rc = cb(arg, idx_ent_key(ent), ent->klen);
		if (rc < 0)
			return rc;
		anchor->flags |= ANCHOR_STARTED;
		anchor->klen = ent->klen;
		memcpy(anchor->key, idx_ent_key(ent), ent->klen);
		if (rc > 0)
			return 0;
	}
	anchor->flags |= ANCHOR_EOF;
	return 0;
}

int
cairn_vos_idx_list_objs(struct cairn_vos_idx_cont *cont, uint64_t epoch,
                        struct cairn_vos_idx_anchor *anchor, cairn_vos_idx_key_cb cb, void *arg)
{
	if (cont == NULL || cb == NULL || anchor_check(anchor) != 0)
		return -CAIRN_ERR_INVAL;
	if (anchor->flags & ANCHOR_EOF)
		return 0;
	return list_table(cont->idx, &cont->objs, LIST_OBJS, NULL, NULL, epoch, anchor, cb, arg);
}

int
cairn_vos_idx_list_dkeys(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                         uint64_t epoch, struct cairn_vos_idx_anchor *anchor,
                         cairn_vos_idx_key_cb cb, void *arg)
{
	struct idx_found f;

	if (path_check(cont, path, CAIRN_VOS_IDX_OBJ) != 0 || cb == NULL ||
	    anchor_check(anchor) != 0)
		return -CAIRN_ERR_INVAL;
	if (anchor->flags & ANCHOR_EOF)
		return 0;
	path_find(cont, path, CAIRN_VOS_IDX_OBJ, &f);
	if (f.obj == NULL) {
		anchor->flags |= ANCHOR_EOF;
		return 0;
	}
	return list_table(cont->idx, &B(f.obj)->child, LIST_DKEYS, f.obj, NULL, epoch, anchor, cb,
	                  arg);
}

int
cairn_vos_idx_list_akeys(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                         uint64_t epoch, struct cairn_vos_idx_anchor *anchor,
                         cairn_vos_idx_key_cb cb, void *arg)
{
	struct idx_found f;

	if (path_check(cont, path, CAIRN_VOS_IDX_DKEY) != 0 || cb == NULL ||
	    anchor_check(anchor) != 0)
		return -CAIRN_ERR_INVAL;
	if (anchor->flags & ANCHOR_EOF)
		return 0;
	path_find(cont, path, CAIRN_VOS_IDX_DKEY, &f);
	if (f.dkey == NULL) {
		anchor->flags |= ANCHOR_EOF;
		return 0;
	}
	return list_table(cont->idx, &B(f.dkey)->child, LIST_AKEYS, f.obj, f.dkey, epoch, anchor,
	                  cb, arg);
}

int
cairn_vos_idx_list_extents(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                           uint64_t epoch, struct cairn_vos_idx_anchor *anchor,
                           cairn_vos_idx_piece_cb cb, void *arg)
{
	struct cairn_vos_idx *idx;
	struct idx_found f;
	idx_stamp_t pb = {0, 0};
	uint64_t end;
	int nsp, k;

	if (path_check(cont, path, CAIRN_VOS_IDX_AKEY) != 0 || cb == NULL ||
	    anchor_check(anchor) != 0)
		return -CAIRN_ERR_INVAL;
	if (anchor->flags & ANCHOR_EOF)
		return 0;
	idx = cont->idx;
	path_find(cont, path, CAIRN_VOS_IDX_AKEY, &f);
	if (f.akey != NULL && B(f.akey)->val.nr > 0 && B(f.akey)->val.vtype != CAIRN_VOS_IDX_ARRAY)
		return -CAIRN_ERR_INVAL;
	end = f.akey != NULL ? ext_max_end(f.akey) : 0;
	if (f.akey == NULL || anchor->index >= end) {
		anchor->flags |= ANCHOR_EOF;
		return 0;
	}
	idx_plog_bound(&B(f.obj)->punch, epoch, &pb);
	idx_plog_bound(&B(f.dkey)->punch, epoch, &pb);
	idx_plog_bound(&B(f.akey)->punch, epoch, &pb);
	nsp = idx_paint(idx, f.akey, epoch, &pb, anchor->index, end, NULL);
	if (nsp < 0)
		return nsp;
	for (k = 0; k < nsp; k++) {
		struct cairn_vos_idx_piece p;
		int rc;

		piece_of(idx, f.akey, k, &p);
		if (p.rec.kind == CAIRN_VOS_REC_HOLE)
			continue;
		rc = cb(arg, &p);
		if (rc < 0)
			return rc;
		anchor->flags |= ANCHOR_STARTED;
		anchor->index = p.index + p.count;
		if (rc > 0)
			return 0;
	}
	anchor->flags |= ANCHOR_EOF;
	return 0;
}
