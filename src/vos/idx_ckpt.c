/*
 * VOS index: checkpoint walk and rebuild.
 *
 * walk() emits the index depth-first in key order as struct cairn_vos_idx_rec records;
 * vos-dur encodes them. load() takes the same records back, in the same order, and
 * rebuilds an identical index: it treats them as untrusted input (a checkpoint page can be
 * damaged in ways its CRC does not catch, or be written by a buggy older build) and checks
 * order, sizes and limits, answering -CAIRN_ERR_CORRUPT at the first bad record.
 */
#include "idx_internal.h"

#include <stdlib.h>

#include "cairn/errno.h"

enum { LOAD_EXPECT_IDX = 0, LOAD_EXPECT_CONT, LOAD_IN_CONT };

/* ---------------------------------------------------------------------- walk */

static int
walk_akey(struct cairn_vos_idx_rec *r, const struct idx_ent *ak,
          int (*cb)(void *arg, const struct cairn_vos_idx_rec *rec), void *arg)
{
	uint32_t i;
	int rc;

	memset(r, 0, sizeof(*r));
	r->type = CAIRN_VOS_IDX_R_AKEY;
	r->key = idx_ent_key(ak);
	r->klen = ak->klen;
	r->nr = idx_plog_nr(&B(ak)->punch);
	r->punches = idx_plog_v(&B(ak)->punch);
	r->vtype = B(ak)->val.vtype;
	r->rsize = B(ak)->val.rsize;
	rc = cb(arg, r);
	if (rc != 0)
		return rc;
	for (i = 0; i < B(ak)->val.nr; i++) {
		memset(r, 0, sizeof(*r));
		if (B(ak)->val.vtype == CAIRN_VOS_IDX_ARRAY) {
			const struct idx_ext *x = &((const struct idx_ext *)B(ak)->val.recs)[i];

			r->type = CAIRN_VOS_IDX_R_EXT;
			r->stamp = x->st;
			r->index = x->start;
			r->count = x->count;
			r->vrec = idx_vrec_out(&x->rec);
		} else {
			const struct idx_ver *v = &((const struct idx_ver *)B(ak)->val.recs)[i];

			r->type = CAIRN_VOS_IDX_R_SV;
			r->stamp = v->st;
			r->vrec = idx_vrec_out(&v->rec);
		}
		rc = cb(arg, r);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
walk_key(struct cairn_vos_idx_rec *r, uint32_t type, const struct idx_ent *e,
         int (*cb)(void *arg, const struct cairn_vos_idx_rec *rec), void *arg)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->key = idx_ent_key(e);
	r->klen = e->klen;
	r->nr = idx_plog_nr(&B(e)->punch);
	r->punches = idx_plog_v(&B(e)->punch);
	return cb(arg, r);
}

int
cairn_vos_idx_walk(struct cairn_vos_idx *idx,
                   int (*cb)(void *arg, const struct cairn_vos_idx_rec *rec), void *arg)
{
	struct cairn_vos_idx_rec r;
	struct cairn_vos_idx_cont *c;
	struct idx_ent *o, *d, *a;
	int rc;

	if (idx == NULL || cb == NULL)
		return -CAIRN_ERR_INVAL;
	memset(&r, 0, sizeof(r));
	r.type = CAIRN_VOS_IDX_R_IDX;
	r.next_seq = idx->next_seq;
	rc = cb(arg, &r);
	if (rc != 0)
		return rc;
	for (c = idx->conts; c != NULL; c = c->next) {
		memset(&r, 0, sizeof(r));
		r.type = CAIRN_VOS_IDX_R_CONT;
		r.key = c->uuid;
		r.klen = 16;
		r.nr = c->nsnaps;
		r.snaps = c->snaps;
		r.agg_ub = c->agg_ub;
		r.agg_active = c->agg_active;
		/* only meaningful fields are emitted, so equal indexes give equal records */
		if (c->agg_active && c->cur_oid_valid) {
			r.cursor_oid_valid = 1;
			memcpy(r.cursor_oid, c->cur_oid, 16);
			r.cursor_dkey = c->cur_klen ? c->cur_dkey : NULL;
			r.cursor_klen = c->cur_klen;
		}
		rc = cb(arg, &r);
		if (rc != 0)
			return rc;
		for (o = idx_table_first(&c->objs); o != NULL; o = idx_table_next(o)) {
			rc = walk_key(&r, CAIRN_VOS_IDX_R_OBJ, o, cb, arg);
			if (rc != 0)
				return rc;
			for (d = idx_table_first(&B(o)->child); d != NULL; d = idx_table_next(d)) {
				rc = walk_key(&r, CAIRN_VOS_IDX_R_DKEY, d, cb, arg);
				if (rc != 0)
					return rc;
				for (a = idx_table_first(&B(d)->child); a != NULL;
				     a = idx_table_next(a)) {
					rc = walk_akey(&r, a, cb, arg);
					if (rc != 0)
						return rc;
				}
			}
		}
	}
	return 0;
}

int
cairn_vos_idx_for_each_loc(struct cairn_vos_idx *idx,
                           int (*cb)(void *arg, const uint8_t cont_uuid[16],
                                     const struct cairn_vos_idx_vrec *rec),
                           void *arg)
{
	struct cairn_vos_idx_cont *c;
	struct idx_ent *o, *d, *a;
	uint32_t i;
	int rc;

	if (idx == NULL || cb == NULL)
		return -CAIRN_ERR_INVAL;
	for (c = idx->conts; c != NULL; c = c->next) {
		for (o = idx_table_first(&c->objs); o != NULL; o = idx_table_next(o)) {
			for (d = idx_table_first(&B(o)->child); d != NULL; d = idx_table_next(d)) {
				for (a = idx_table_first(&B(d)->child); a != NULL;
				     a = idx_table_next(a)) {
					bool arr = B(a)->val.vtype == CAIRN_VOS_IDX_ARRAY;

					for (i = 0; i < B(a)->val.nr; i++) {
						const struct cairn_vos_idx_vrec *v =
						        arr ? &((struct idx_ext *)B(a)->val.recs)[i]
						                        .rec
						            : &((struct idx_ver *)B(a)->val.recs)[i]
						                        .rec;

						if (v->kind != CAIRN_VOS_REC_LOC)
							continue;
						rc = cb(arg, c->uuid, v);
						if (rc != 0)
							return rc;
					}
				}
			}
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------- load */

static bool
stamp_ok(const struct cairn_vos_idx *idx, const idx_stamp_t *st)
{
	return st->epoch != 0 && st->epoch != CAIRN_VOS_EPOCH_MAX && st->seq != 0 &&
	       st->seq < idx->next_seq;
}

static int
load_punches(struct cairn_vos_idx *idx, struct idx_ent *e, const struct cairn_vos_idx_rec *r)
{
	uint32_t i;

	if (r->nr > 0 && r->punches == NULL)
		return -CAIRN_ERR_CORRUPT;
	for (i = 0; i < r->nr; i++) {
		if (!stamp_ok(idx, &r->punches[i]) ||
		    (i > 0 && idx_stamp_cmp(&r->punches[i - 1], &r->punches[i]) >= 0))
			return -CAIRN_ERR_CORRUPT;
	}
	if (r->nr == 0)
		return 0;
	B(e)->punch.b = malloc(sizeof(struct idx_plog_blk) + sizeof(idx_stamp_t) * r->nr);
	if (B(e)->punch.b == NULL)
		return -CAIRN_ERR_NOMEM;
	memcpy(B(e)->punch.b->v, r->punches, sizeof(idx_stamp_t) * r->nr);
	B(e)->punch.b->nr = B(e)->punch.b->cap = r->nr;
	idx->st.punches += r->nr;
	return 0;
}

/* Create the next key entry under table t; it must sort after prev. */
static int
load_key(struct cairn_vos_idx *idx, struct idx_table *t, struct idx_ent *prev, enum idx_level level,
         const struct cairn_vos_idx_rec *r, struct idx_ent **out)
{
	struct idx_ent *e;
	int rc;

	if (r->key == NULL || r->klen == 0 || r->klen > CAIRN_VOS_IDX_KEY_MAX ||
	    (level == IDX_L_OBJ && r->klen != 16))
		return -CAIRN_ERR_CORRUPT;
	if (prev != NULL && idx_key_cmp(idx_ent_key(prev), prev->klen, r->key, r->klen) >= 0)
		return -CAIRN_ERR_CORRUPT;
	e = idx_ent_alloc(idx, level, r->key, r->klen,
	                  level == IDX_L_AKEY && r->vtype == CAIRN_VOS_IDX_ARRAY, 0);
	if (e == NULL)
		return -CAIRN_ERR_NOMEM;
	rc = idx_table_reserve(t, e);
	if (rc == 0)
		rc = load_punches(idx, e, r);
	if (rc != 0) {
		idx_plog_free(&B(e)->punch);
		idx_ent_release(idx, e);
		return rc;
	}
	idx_table_insert(t, e);
	*out = e;
	return 0;
}

static int
load_cont(struct cairn_vos_idx *idx, const struct cairn_vos_idx_rec *r)
{
	struct cairn_vos_idx_cont *c, *last = NULL;
	uint32_t i;
	int rc;

	if (r->key == NULL || r->klen != 16 || r->nr > CAIRN_VOS_IDX_SNAP_MAX ||
	    (r->nr > 0 && r->snaps == NULL) || r->agg_active > 1 || r->cursor_oid_valid > 1 ||
	    r->cursor_klen > CAIRN_VOS_IDX_KEY_MAX ||
	    (r->cursor_klen > 0 && r->cursor_dkey == NULL) || r->agg_ub == CAIRN_VOS_EPOCH_MAX)
		return -CAIRN_ERR_CORRUPT;
	if (!r->agg_active && (r->cursor_oid_valid || r->cursor_klen))
		return -CAIRN_ERR_CORRUPT;
	for (i = 0; i < r->nr; i++) {
		if (r->snaps[i] == 0 || r->snaps[i] == CAIRN_VOS_EPOCH_MAX ||
		    (i > 0 && r->snaps[i - 1] >= r->snaps[i]))
			return -CAIRN_ERR_CORRUPT;
	}
	for (c = idx->conts; c != NULL; c = c->next)
		last = c;
	if (last != NULL && memcmp(last->uuid, r->key, 16) >= 0)
		return -CAIRN_ERR_CORRUPT;
	rc = cairn_vos_idx_cont_create(idx, r->key, &c);
	if (rc != 0)
		return rc;
	if (r->nr > 0) {
		c->snaps = malloc(sizeof(uint64_t) * r->nr);
		if (c->snaps == NULL)
			return -CAIRN_ERR_NOMEM;
		memcpy(c->snaps, r->snaps, sizeof(uint64_t) * r->nr);
		c->nsnaps = c->snapcap = r->nr;
	}
	c->agg_ub = r->agg_ub;
	c->agg_active = r->agg_active;
	if (r->agg_active) {
		c->cur_dkey = malloc(CAIRN_VOS_IDX_KEY_MAX);
		if (c->cur_dkey == NULL)
			return -CAIRN_ERR_NOMEM;
		c->cur_oid_valid = r->cursor_oid_valid;
		memcpy(c->cur_oid, r->cursor_oid, 16);
		if (r->cursor_klen > 0)
			memcpy(c->cur_dkey, r->cursor_dkey, r->cursor_klen);
		c->cur_klen = r->cursor_klen;
	}
	idx->load_cont = c;
	idx->load_obj = idx->load_dkey = idx->load_akey = NULL;
	return 0;
}

static int
load_vrec(struct cairn_vos_idx *idx, const struct cairn_vos_idx_vrec *in,
          struct cairn_vos_idx_vrec *out, bool hole_ok)
{
	memset(out, 0, sizeof(*out));
	out->kind = in->kind;
	out->len = in->len;
	out->crc = in->crc;
	switch (in->kind) {
	case CAIRN_VOS_REC_HOLE:
		return hole_ok && in->len == 0 ? 0 : -CAIRN_ERR_CORRUPT;
	case CAIRN_VOS_REC_LOC:
		out->off = in->off;
		return in->len <= CAIRN_VOS_IDX_VAL_MAX ? 0 : -CAIRN_ERR_CORRUPT;
	case CAIRN_VOS_REC_INLINE: {
		void *b;

		if (in->len > CAIRN_VOS_IDX_INLINE_MAX || (in->len > 0 && in->inl == NULL))
			return -CAIRN_ERR_CORRUPT;
		b = malloc(in->len ? in->len : 1);
		if (b == NULL)
			return -CAIRN_ERR_NOMEM;
		if (in->len > 0)
			memcpy(b, in->inl, in->len);
		out->inl = b;
		idx->st.inline_bytes += in->len;
		return 0;
	}
	default:
		return -CAIRN_ERR_CORRUPT;
	}
}

static int
load_value(struct cairn_vos_idx *idx, const struct cairn_vos_idx_rec *r)
{
	struct idx_ent *ak = idx->load_akey;
	struct idx_val *val;
	bool arr = r->type == CAIRN_VOS_IDX_R_EXT;
	size_t esz = arr ? sizeof(struct idx_ext) : sizeof(struct idx_ver);
	struct cairn_vos_idx_vrec rec;
	int rc;

	if (ak == NULL || !stamp_ok(idx, &r->stamp))
		return -CAIRN_ERR_CORRUPT;
	val = &B(ak)->val;
	if (val->vtype != (arr ? CAIRN_VOS_IDX_ARRAY : CAIRN_VOS_IDX_SINGLE))
		return -CAIRN_ERR_CORRUPT;
	if (arr) {
		const struct idx_ext *last =
		        val->nr ? &((struct idx_ext *)val->recs)[val->nr - 1] : NULL;

		if (r->count == 0 || r->count > UINT64_MAX - r->index ||
		    r->count > CAIRN_VOS_IDX_VAL_MAX / val->rsize ||
		    (last != NULL && last->start > r->index) ||
		    (r->vrec.kind != CAIRN_VOS_REC_HOLE && r->vrec.len != r->count * val->rsize))
			return -CAIRN_ERR_CORRUPT;
	} else {
		const struct idx_ver *last =
		        val->nr ? &((struct idx_ver *)val->recs)[val->nr - 1] : NULL;

		if (last != NULL && last->st.epoch >= r->stamp.epoch)
			return -CAIRN_ERR_CORRUPT;
	}
	rc = idx_val_reserve(ak, esz);
	if (rc != 0)
		return rc;
	rc = load_vrec(idx, &r->vrec, &rec, arr);
	if (rc != 0)
		return rc;
	if (arr) {
		struct idx_ext *x = &((struct idx_ext *)val->recs)[val->nr];

		x->start = r->index;
		x->count = r->count;
		x->st = r->stamp;
		x->rec = rec;
		if (r->count > val->maxcount)
			val->maxcount = r->count;
		idx->st.extents++;
	} else {
		struct idx_ver *v = &((struct idx_ver *)val->recs)[val->nr];

		v->st = r->stamp;
		v->rec = rec;
		idx->st.versions++;
	}
	val->nr++;
	return 0;
}

int
cairn_vos_idx_load(struct cairn_vos_idx *idx, const struct cairn_vos_idx_rec *r)
{
	int rc;

	if (idx == NULL || r == NULL)
		return -CAIRN_ERR_INVAL;
	switch (r->type) {
	case CAIRN_VOS_IDX_R_IDX:
		if (idx->load_state != LOAD_EXPECT_IDX || idx->conts != NULL || r->next_seq == 0)
			return -CAIRN_ERR_CORRUPT;
		idx->next_seq = r->next_seq;
		idx->load_state = LOAD_EXPECT_CONT;
		return 0;
	case CAIRN_VOS_IDX_R_CONT:
		if (idx->load_state == LOAD_EXPECT_IDX)
			return -CAIRN_ERR_CORRUPT;
		rc = load_cont(idx, r);
		if (rc == 0)
			idx->load_state = LOAD_IN_CONT;
		return rc;
	case CAIRN_VOS_IDX_R_OBJ:
		if (idx->load_state != LOAD_IN_CONT)
			return -CAIRN_ERR_CORRUPT;
		rc = load_key(idx, &idx->load_cont->objs, idx->load_obj, IDX_L_OBJ, r,
		              &idx->load_obj);
		if (rc == 0) {
			idx->st.objs++;
			idx->load_dkey = idx->load_akey = NULL;
		}
		return rc;
	case CAIRN_VOS_IDX_R_DKEY:
		if (idx->load_obj == NULL)
			return -CAIRN_ERR_CORRUPT;
		rc = load_key(idx, &B(idx->load_obj)->child, idx->load_dkey, IDX_L_DKEY, r,
		              &idx->load_dkey);
		if (rc == 0) {
			idx->st.dkeys++;
			idx->load_akey = NULL;
		}
		return rc;
	case CAIRN_VOS_IDX_R_AKEY:
		if (idx->load_dkey == NULL || r->vtype > CAIRN_VOS_IDX_ARRAY ||
		    (r->vtype == CAIRN_VOS_IDX_ARRAY &&
		     (r->rsize == 0 || r->rsize > CAIRN_VOS_IDX_VAL_MAX)) ||
		    (r->vtype != CAIRN_VOS_IDX_ARRAY && r->rsize != 0))
			return -CAIRN_ERR_CORRUPT;
		rc = load_key(idx, &B(idx->load_dkey)->child, idx->load_akey, IDX_L_AKEY, r,
		              &idx->load_akey);
		if (rc == 0) {
			B(idx->load_akey)->val.vtype = (uint8_t)r->vtype;
			B(idx->load_akey)->val.rsize = r->rsize;
			idx->st.akeys++;
		}
		return rc;
	case CAIRN_VOS_IDX_R_SV:
	case CAIRN_VOS_IDX_R_EXT:
		return load_value(idx, r);
	default:
		return -CAIRN_ERR_CORRUPT;
	}
}

/* ------------------------------------------------------------ incremental walk */

/*
 * The same records as cairn_vos_idx_walk(), produced a bounded number of dkeys at a time.
 * Between steps the index may change; the caller makes the result a consistent cut by
 * answering the hook with a pre-image for every object / dkey changed since the start
 * (see vos_index.h). The position is kept as pointers to the current container, object
 * and last dkey processed: entries are never moved, and the caller holds back everything
 * that frees them (container destroy, aggregation) while a walker exists.
 */
struct cairn_vos_idx_walker {
	struct cairn_vos_idx *idx;
	cairn_vos_idx_walk_cb cb;
	cairn_vos_idx_walk_hook hook;
	void *arg;
	int phase;                      /* 0: before the first container, 1: in c, 2: done */
	struct cairn_vos_idx_cont *c;
	struct idx_ent *o;              /* current object (its OBJ processed); NULL: none yet */
	struct idx_ent *d;              /* last dkey of o processed; NULL: none yet */
	struct cairn_vos_idx_rec r;
};

int
cairn_vos_idx_walker_create(struct cairn_vos_idx *idx, cairn_vos_idx_walk_cb cb,
                            cairn_vos_idx_walk_hook hook, void *arg,
                            struct cairn_vos_idx_walker **wp)
{
	struct cairn_vos_idx_walker *w;
	int rc;

	if (idx == NULL || cb == NULL || wp == NULL)
		return -CAIRN_ERR_INVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -CAIRN_ERR_NOMEM;
	w->idx = idx;
	w->cb = cb;
	w->hook = hook;
	w->arg = arg;
	w->r.type = CAIRN_VOS_IDX_R_IDX;
	w->r.next_seq = idx->next_seq;
	rc = cb(arg, &w->r);
	if (rc != 0) {
		free(w);
		return rc;
	}
	*wp = w;
	return 0;
}

void
cairn_vos_idx_walker_destroy(struct cairn_vos_idx_walker *w)
{
	free(w);
}

static int
walker_cont(struct cairn_vos_idx_walker *w, struct cairn_vos_idx_cont *c)
{
	struct cairn_vos_idx_rec *r = &w->r;

	memset(r, 0, sizeof(*r));
	r->type = CAIRN_VOS_IDX_R_CONT;
	r->key = c->uuid;
	r->klen = 16;
	r->nr = c->nsnaps;
	r->snaps = c->snaps;
	r->agg_ub = c->agg_ub;
	r->agg_active = c->agg_active;
	if (c->agg_active && c->cur_oid_valid) {
		r->cursor_oid_valid = 1;
		memcpy(r->cursor_oid, c->cur_oid, 16);
		r->cursor_dkey = c->cur_klen ? c->cur_dkey : NULL;
		r->cursor_klen = c->cur_klen;
	}
	return w->cb(w->arg, r);
}

/* Hook first: 1 = it emitted the pre-image (or nothing: the key is newer than the cut). */
static int
walker_hook(struct cairn_vos_idx_walker *w, uint32_t level, const struct idx_ent *o,
            const struct idx_ent *d)
{
	if (w->hook == NULL)
		return 0;
	return w->hook(w->arg, w->c, level, idx_ent_key(o), d ? idx_ent_key(d) : NULL,
	               d ? d->klen : 0);
}

int
cairn_vos_idx_walker_step(struct cairn_vos_idx_walker *w, uint32_t budget, bool *done)
{
	struct idx_ent *a, *d;
	int rc;

	*done = false;
	while (budget > 0) {
		if (w->phase == 2) {
			*done = true;
			return 0;
		}
		if (w->phase == 0) {
			w->c = w->idx->conts;
			if (w->c == NULL) {
				w->phase = 2;
				continue;
			}
			w->phase = 1;
			w->o = NULL;
			w->d = NULL;
			rc = walker_cont(w, w->c);
			if (rc != 0)
				return rc;
		}
		/* next object? */
		if (w->o == NULL || (w->d != NULL && idx_table_next(w->d) == NULL) ||
		    (w->d == NULL && idx_table_first(&B(w->o)->child) == NULL)) {
			struct idx_ent *o = w->o == NULL ? idx_table_first(&w->c->objs)
							 : idx_table_next(w->o);

			if (o == NULL) {
				w->c = w->c->next;
				w->o = NULL;
				w->d = NULL;
				if (w->c == NULL) {
					w->phase = 2;
					continue;
				}
				rc = walker_cont(w, w->c);
				if (rc != 0)
					return rc;
				continue;
			}
			w->o = o;
			w->d = NULL;
			rc = walker_hook(w, CAIRN_VOS_IDX_OBJ, o, NULL);
			if (rc < 0)
				return rc;
			if (rc == 0) {
				rc = walk_key(&w->r, CAIRN_VOS_IDX_R_OBJ, o, w->cb, w->arg);
				if (rc != 0)
					return rc;
			}
			continue;
		}
		d = w->d == NULL ? idx_table_first(&B(w->o)->child) : idx_table_next(w->d);
		rc = walker_hook(w, CAIRN_VOS_IDX_DKEY, w->o, d);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			rc = walk_key(&w->r, CAIRN_VOS_IDX_R_DKEY, d, w->cb, w->arg);
			if (rc != 0)
				return rc;
			for (a = idx_table_first(&B(d)->child); a != NULL; a = idx_table_next(a)) {
				rc = walk_akey(&w->r, a, w->cb, w->arg);
				if (rc != 0)
					return rc;
			}
		}
		w->d = d;
		budget--;
	}
	*done = w->phase == 2;
	return 0;
}

bool
cairn_vos_idx_walker_passed(const struct cairn_vos_idx_walker *w,
                            const struct cairn_vos_idx_cont *cont,
                            const struct cairn_vos_idx_path *path,
                            enum cairn_vos_idx_level level)
{
	uint8_t okey[16];
	int cmp;

	if (w->phase == 0)
		return false;
	if (w->phase == 2)
		return true;
	cmp = memcmp(cont->uuid, w->c->uuid, 16);
	if (cmp != 0)
		return cmp < 0;
	if (w->o == NULL)
		return false;
	idx_oid_key(&path->oid, okey);
	cmp = memcmp(okey, idx_ent_key(w->o), 16);
	if (cmp != 0)
		return cmp < 0;
	if (level == CAIRN_VOS_IDX_OBJ)
		return true;
	if (w->d == NULL)
		return false;
	return idx_key_cmp(path->dkey, path->dkey_len, idx_ent_key(w->d), w->d->klen) <= 0;
}

int
cairn_vos_idx_walk_one(struct cairn_vos_idx_cont *cont, const struct cairn_vos_idx_path *path,
                       enum cairn_vos_idx_level level, cairn_vos_idx_walk_cb cb, void *arg)
{
	struct cairn_vos_idx_rec r;
	struct idx_ent *o, *d, *a;
	uint8_t okey[16];
	int rc;

	if (cont == NULL || path == NULL || cb == NULL ||
	    (level != CAIRN_VOS_IDX_OBJ && level != CAIRN_VOS_IDX_DKEY) ||
	    (level == CAIRN_VOS_IDX_DKEY && (path->dkey == NULL || path->dkey_len == 0)))
		return -CAIRN_ERR_INVAL;
	idx_oid_key(&path->oid, okey);
	o = idx_table_lookup(&cont->objs, okey, 16);
	if (o == NULL)
		return -CAIRN_ERR_NONEXIST;
	if (level == CAIRN_VOS_IDX_OBJ)
		return walk_key(&r, CAIRN_VOS_IDX_R_OBJ, o, cb, arg);
	d = idx_table_lookup(&B(o)->child, path->dkey, path->dkey_len);
	if (d == NULL)
		return -CAIRN_ERR_NONEXIST;
	rc = walk_key(&r, CAIRN_VOS_IDX_R_DKEY, d, cb, arg);
	for (a = idx_table_first(&B(d)->child); rc == 0 && a != NULL; a = idx_table_next(a))
		rc = walk_akey(&r, a, cb, arg);
	return rc;
}
