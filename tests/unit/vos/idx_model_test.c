/*
 * Randomized model test of the VOS index (src/vos/idx_*.c).
 *
 * Thousands of seeded operations (single-value and array updates with overlaps and holes,
 * punches at every level, conditional ops, snapshots, incremental aggregation, checkpoint
 * walk + reload) are applied both to the index and to a brute-force reference model kept
 * here: a flat list of every record and punch, where visibility is recomputed from scratch
 * for each question. After every read-type operation the two must agree.
 *
 * Aggregation is checked by its contract: reads at snapshot epochs and at epochs >= the
 * aggregation bound stay exact; every location handed to the free hook must be invisible
 * at all of those epochs; at container destroy every location is handed back exactly once.
 *
 * CAIRN_SEED=<n> replays one seed; CAIRN_MODEL_OPS=<n> changes the ops per seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cairn/errno.h"
#include "vos_index.h"

/* -------------------------------------------------------------------- setup */

#define NOBJ 3
#define MAX_DKEY 64 /* the wide run uses this many dkeys (hash buckets, tall skip lists) */
#define NAKEY 4     /* 0,1 single value; 2,3 array */
#define ARR_SPAN 48
#define MAX_RECS 20000
#define MAX_IDS 20000

static uint64_t g_seed;
static uint64_t g_rng;
static unsigned g_op;

static uint64_t
rnd(void)
{
	uint64_t x = g_rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	g_rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint64_t
rn(uint64_t n)
{
	return n ? rnd() % n : 0;
}

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr,                                                            \
			        "FAILED seed=%llu op=%u: %s:%d: %s: ", (unsigned long long)g_seed, \
			        g_op, __FILE__, __LINE__, #cond);                                  \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n(replay: CAIRN_SEED=%llu)\n",                           \
			        (unsigned long long)g_seed);                                       \
			fail();                                                                    \
		}                                                                                  \
	} while (0)

/* Key bytes: varied lengths, so ordering by bytes differs from ordering by number. */
static unsigned g_ndkey = 5; /* dkeys in use this run */
static char g_dkeys[MAX_DKEY][24] = {"b", "a-long-dkey", "ab", "z", "a"};

static void
make_dkeys(unsigned n)
{
	unsigned i;

	g_ndkey = n;
	for (i = 5; i < n; i++) /* varied lengths and shared prefixes */
		snprintf(g_dkeys[i], sizeof(g_dkeys[i]), "%c%u%.*s", 'a' + (int)(i % 7), i,
		         (int)(i * 7 % 11), "xxxxxxxxxxx");
}
static const char *g_akeys[NAKEY] = {"sv0", "s", "arr", "arr-big"};
static const uint32_t g_rsize[NAKEY] = {0, 0, 8, 16};
static const uint64_t g_oid_hi[NOBJ] = {7, 1, 7};
static const uint64_t g_oid_lo[NOBJ] = {1, 99, 0};

/* ------------------------------------------------------------ reference model */

enum { M_SV, M_EXT, M_PUNCH };

struct mrec {
	int kind;
	int level; /* punch */
	int o, d, a;
	uint64_t epoch, seq;
	uint64_t start, count;
	uint64_t id; /* 0: hole */
	int loc;     /* LOC (1) or INLINE (0) */
	int alive;
};

struct model {
	struct mrec *r;
	uint32_t nr;
	uint64_t seq;
	uint64_t agg_ub;
	uint64_t snaps[64];
	uint32_t nsnaps;
	uint64_t clock;
	uint64_t max_epoch; /* largest record epoch */
};

static struct model g_m;

/* Per-key indexes into g_m.r so each question scans only what can matter. */
struct mlist {
	uint32_t *v;
	uint32_t n, cap;
};
static struct mlist g_ak[NOBJ][MAX_DKEY][NAKEY]; /* SV/EXT records */
static struct mlist g_po[NOBJ], g_pd[NOBJ][MAX_DKEY], g_pa[NOBJ][MAX_DKEY][NAKEY]; /* punches */
static uint64_t g_pending[4096]; /* ids freed during the current op, checked after it */
static uint32_t g_npending;
static int g_pass_done = 1;
static int g_snap_dropped; /* a snapshot was destroyed since the pass started */

/* What a run exercised (printed, so a run that tests nothing shows). */
static struct {
	unsigned upd_ok, upd_rej, punch_ok, punch_rej, fetch_hit, fetch_miss, pieces, frees, lists,
	        keys_listed, ckpts, passes, snaps;
} g_cnt;

static void
ml_add(struct mlist *l, uint32_t i)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = realloc(l->v, sizeof(*l->v) * l->cap);
		assert_non_null(l->v);
	}
	l->v[l->n++] = i;
}

static void
ml_reset_all(void)
{
	int o, d, a;

	for (o = 0; o < NOBJ; o++) {
		free(g_po[o].v);
		for (d = 0; d < (int)g_ndkey; d++) {
			free(g_pd[o][d].v);
			for (a = 0; a < NAKEY; a++) {
				free(g_ak[o][d][a].v);
				free(g_pa[o][d][a].v);
			}
		}
	}
	memset(g_ak, 0, sizeof(g_ak));
	memset(g_po, 0, sizeof(g_po));
	memset(g_pd, 0, sizeof(g_pd));
	memset(g_pa, 0, sizeof(g_pa));
}
static uint8_t g_freed[MAX_IDS];  /* per id: times freed by the hook */
static uint8_t g_stored[MAX_IDS]; /* per id: 1 LOC stored */
static uint64_t g_next_id;
static struct cairn_vos_idx *g_idx;
static struct cairn_vos_idx_cont *g_cont;
static const uint8_t g_uuid[16] = {0xca, 0x11, 0x2, 0x3};

static int m_sv_visible(int o, int d, int a, uint64_t e, const struct mrec **out);
static uint64_t m_ext_at(int o, int d, int a, uint64_t e, uint64_t pos, const struct mrec **out);

static void
pb_scan(const struct mlist *l, uint64_t e, uint64_t *pe, uint64_t *ps)
{
	uint32_t i;

	for (i = 0; i < l->n; i++) {
		const struct mrec *p = &g_m.r[l->v[i]];

		if (p->epoch > e)
			continue;
		if (p->epoch > *pe || (p->epoch == *pe && p->seq > *ps)) {
			*pe = p->epoch;
			*ps = p->seq;
		}
	}
}

static void
m_pb(int o, int d, int a, uint64_t e, uint64_t *pe, uint64_t *ps)
{
	*pe = *ps = 0;
	pb_scan(&g_po[o], e, pe, ps);
	pb_scan(&g_pd[o][d], e, pe, ps);
	pb_scan(&g_pa[o][d][a], e, pe, ps);
}

static int
newer(uint64_t e1, uint64_t s1, uint64_t e2, uint64_t s2)
{
	return e1 > e2 || (e1 == e2 && s1 > s2);
}

static int
m_sv_visible(int o, int d, int a, uint64_t e, const struct mrec **out)
{
	const struct mrec *best = NULL;
	const struct mlist *l = &g_ak[o][d][a];
	uint64_t pe, ps;
	uint32_t i;

	for (i = 0; i < l->n; i++) {
		const struct mrec *r = &g_m.r[l->v[i]];

		if (!r->alive || r->kind != M_SV || r->epoch > e)
			continue;
		if (best == NULL || newer(r->epoch, r->seq, best->epoch, best->seq))
			best = r;
	}
	if (best == NULL)
		return 0;
	m_pb(o, d, a, e, &pe, &ps);
	if (!newer(best->epoch, best->seq, pe, ps))
		return 0;
	*out = best;
	return 1;
}

/* Visible extent record at one array position: returns id (0 hole/none). */
static uint64_t
m_ext_at(int o, int d, int a, uint64_t e, uint64_t pos, const struct mrec **out)
{
	const struct mrec *best = NULL;
	const struct mlist *l = &g_ak[o][d][a];
	uint64_t pe, ps;
	uint32_t i;

	m_pb(o, d, a, e, &pe, &ps);
	for (i = 0; i < l->n; i++) {
		const struct mrec *r = &g_m.r[l->v[i]];

		if (!r->alive || r->kind != M_EXT || r->epoch > e || pos < r->start ||
		    pos >= r->start + r->count)
			continue;
		if (!newer(r->epoch, r->seq, pe, ps))
			continue;
		if (best == NULL || newer(r->epoch, r->seq, best->epoch, best->seq))
			best = r;
	}
	*out = best;
	return best ? best->id : 0;
}

static int
m_akey_exists(int o, int d, int a, uint64_t e)
{
	const struct mrec *r;
	uint64_t pos;

	if (a < 2)
		return m_sv_visible(o, d, a, e, &r);
	for (pos = 0; pos < ARR_SPAN; pos++) {
		if (m_ext_at(o, d, a, e, pos, &r) != 0)
			return 1;
	}
	return 0;
}

static int
m_dkey_exists(int o, int d, uint64_t e)
{
	int a;

	for (a = 0; a < NAKEY; a++)
		if (m_akey_exists(o, d, a, e))
			return 1;
	return 0;
}

static int
m_obj_exists(int o, uint64_t e)
{
	int d;

	for (d = 0; d < (int)g_ndkey; d++)
		if (m_dkey_exists(o, d, e))
			return 1;
	return 0;
}

static struct mrec *
m_add(int kind, int o, int d, int a, uint64_t epoch)
{
	struct mrec *r;

	assert_true(g_m.nr < MAX_RECS);
	r = &g_m.r[g_m.nr++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->o = o;
	r->d = d;
	r->a = a;
	r->epoch = epoch;
	r->seq = g_m.seq++;
	r->alive = 1;
	if (epoch > g_m.max_epoch)
		g_m.max_epoch = epoch;
	if (kind != M_PUNCH)
		ml_add(&g_ak[o][d][a], g_m.nr - 1);
	return r;
}

/* Is record r visible at epoch e (for the free-hook check)? */
static int
m_rec_visible(const struct mrec *r, uint64_t e)
{
	const struct mrec *v;
	uint64_t pos;

	if (r->kind == M_SV)
		return m_sv_visible(r->o, r->d, r->a, e, &v) && v == r;
	for (pos = r->start; pos < r->start + r->count; pos++) {
		m_ext_at(r->o, r->d, r->a, e, pos, &v);
		if (v == r)
			return 1;
	}
	return 0;
}

/* Epochs whose reads must be exact: snapshots and everything >= the aggregation bound. */
static uint64_t
m_protected_epoch(void)
{
	uint64_t lo = g_m.agg_ub ? g_m.agg_ub : 1;
	uint64_t k = rn(10);

	if (k == 0 && g_m.nsnaps > 0)
		return g_m.snaps[rn(g_m.nsnaps)];
	if (k == 1)
		return CAIRN_VOS_EPOCH_MAX;
	return lo + rn(g_m.clock + 6 - lo);
}

/* ------------------------------------------------------------------ hooks */

static void
free_hook(void *arg, const uint8_t uuid[16], const struct cairn_vos_idx_vrec *rec)
{
	uint64_t id = rec->off / 4096;

	(void)arg;
	CHECK(memcmp(uuid, g_uuid, 16) == 0, "free hook: wrong container");
	CHECK(rec->kind == CAIRN_VOS_REC_LOC, "free hook: kind %u", rec->kind);
	CHECK(id > 0 && id < MAX_IDS && g_stored[id], "free hook: unknown id %llu",
	      (unsigned long long)id);
	CHECK(g_freed[id] == 0, "free hook: id %llu freed twice", (unsigned long long)id);
	g_freed[id]++;
	g_cnt.frees++;
	if (g_cont == NULL)
		return; /* container destroy */
	CHECK(g_npending < 4096, "too many frees in one op");
	g_pending[g_npending++] = id;
}

static void
check_epochs(const struct mrec *r, const struct mlist *l)
{
	uint32_t k;

	for (k = 0; k < l->n; k++) {
		uint64_t e = g_m.r[l->v[k]].epoch;

		if (e >= g_m.agg_ub)
			CHECK(!m_rec_visible(r, e), "freed id %llu visible at %llu",
			      (unsigned long long)r->id, (unsigned long long)e);
	}
}

/* Locations freed by the last op must be invisible at every protected epoch. */
static void
check_pending(void)
{
	uint32_t i, k;

	for (i = 0; i < g_npending; i++) {
		uint64_t id = g_pending[i];

		for (k = 0; k < g_m.nr; k++) {
			struct mrec *r = &g_m.r[k];

			if (r->id != id || r->kind == M_PUNCH)
				continue;
			for (uint32_t s = 0; s < g_m.nsnaps; s++)
				CHECK(!m_rec_visible(r, g_m.snaps[s]),
				      "freed id %llu visible at snap %llu", (unsigned long long)id,
				      (unsigned long long)g_m.snaps[s]);
			CHECK(!m_rec_visible(r, g_m.agg_ub ? g_m.agg_ub : 1),
			      "freed id %llu visible at the bound", (unsigned long long)id);
			CHECK(!m_rec_visible(r, CAIRN_VOS_EPOCH_MAX), "freed id %llu visible now",
			      (unsigned long long)id);
			check_epochs(r, &g_ak[r->o][r->d][r->a]);
			check_epochs(r, &g_po[r->o]);
			check_epochs(r, &g_pd[r->o][r->d]);
			check_epochs(r, &g_pa[r->o][r->d][r->a]);
			r->alive = 0;
		}
	}
	g_npending = 0;
}

static struct cairn_vos_idx *
new_index(void)
{
	struct cairn_vos_idx_opts o = {
	        .opts_size = sizeof(o), .free_hook = free_hook, .free_arg = NULL};
	struct cairn_vos_idx *idx = NULL;

	assert_int_equal(cairn_vos_idx_create(&o, &idx), 0);
	return idx;
}

static void
set_path(struct cairn_vos_idx_path *p, int o, int d, int a)
{
	memset(p, 0, sizeof(*p));
	p->oid.hi = g_oid_hi[o];
	p->oid.lo = g_oid_lo[o];
	if (d >= 0) {
		p->dkey = g_dkeys[d];
		p->dkey_len = (uint32_t)strlen(g_dkeys[d]);
	}
	if (a >= 0) {
		p->akey = g_akeys[a];
		p->akey_len = (uint32_t)strlen(g_akeys[a]);
	}
}

/* ------------------------------------------------------------------ ops */

static uint64_t
op_epoch(void)
{
	uint64_t back = rn(20);

	return g_m.clock > back ? g_m.clock - back : 1;
}

static uint32_t
op_cond_update(void)
{
	static const uint32_t c[] = {CAIRN_VOS_IDX_COND_DKEY_INSERT, CAIRN_VOS_IDX_COND_DKEY_UPDATE,
	                             CAIRN_VOS_IDX_COND_AKEY_INSERT,
	                             CAIRN_VOS_IDX_COND_AKEY_UPDATE};

	return rn(6) == 0 ? c[rn(4)] : 0;
}

/* Expected rc of an update's conditions. */
static int
m_update_cond(int o, int d, int a, uint64_t e, uint32_t cond)
{
	if ((cond & CAIRN_VOS_IDX_COND_DKEY_INSERT) && m_dkey_exists(o, d, e))
		return -CAIRN_ERR_EXIST;
	if ((cond & CAIRN_VOS_IDX_COND_DKEY_UPDATE) && !m_dkey_exists(o, d, e))
		return -CAIRN_ERR_NONEXIST;
	if ((cond & CAIRN_VOS_IDX_COND_AKEY_INSERT) && m_akey_exists(o, d, a, e))
		return -CAIRN_ERR_EXIST;
	if ((cond & CAIRN_VOS_IDX_COND_AKEY_UPDATE) && !m_akey_exists(o, d, a, e))
		return -CAIRN_ERR_NONEXIST;
	return 0;
}

static void
make_rec(struct cairn_vos_idx_vrec *v, uint64_t id, uint32_t len, int loc, uint8_t *buf)
{
	memset(v, 0, sizeof(*v));
	v->len = len;
	v->crc = (uint32_t)id;
	if (loc) {
		v->kind = CAIRN_VOS_REC_LOC;
		v->off = id * 4096;
	} else {
		v->kind = CAIRN_VOS_REC_INLINE;
		memset(buf, 0xa5, len);
		memcpy(buf, &id, len < 8 ? len : 8);
		v->inl = buf;
	}
}

static uint64_t
rec_id(const struct cairn_vos_idx_vrec *v)
{
	uint64_t id = 0;

	if (v->kind == CAIRN_VOS_REC_LOC)
		return v->off / 4096;
	if (v->kind == CAIRN_VOS_REC_INLINE)
		memcpy(&id, v->inl, v->len < 8 ? v->len : 8);
	return id;
}

static void
op_sv_update(void)
{
	int o = (int)rn(NOBJ), d = (int)rn(g_ndkey), a = (int)rn(2);
	uint64_t e = op_epoch(), id = g_next_id++;
	uint32_t cond = op_cond_update(), len = 8 + (uint32_t)rn(40);
	int loc = (int)rn(2), want, rc;
	struct cairn_vos_idx_path p;
	struct cairn_vos_idx_vrec v;
	uint8_t buf[64];

	set_path(&p, o, d, a);
	make_rec(&v, id, len, loc, buf);
	want = e <= g_m.agg_ub ? -CAIRN_ERR_STALE : m_update_cond(o, d, a, e, cond);
	rc = cairn_vos_idx_sv_update(g_cont, &p, e, cond, &v);
	CHECK(rc == want, "sv_update o%d d%d a%d e%llu cond %x: rc %d want %d", o, d, a,
	      (unsigned long long)e, cond, rc, want);
	g_cnt.upd_ok += rc == 0;
	g_cnt.upd_rej += rc != 0;
	if (rc == 0) {
		struct mrec *r = m_add(M_SV, o, d, a, e);

		r->id = id;
		r->loc = loc;
		g_stored[id] = (uint8_t)loc;
	}
}

static void
op_array_update(void)
{
	int o = (int)rn(NOBJ), d = (int)rn(g_ndkey), a = 2 + (int)rn(2);
	uint64_t e = op_epoch(), id = g_next_id++;
	uint64_t start = rn(ARR_SPAN - 12), count = 1 + rn(12);
	uint32_t cond = op_cond_update();
	int loc = (int)rn(2), hole = rn(7) == 0, want, rc;
	struct cairn_vos_idx_path p;
	struct cairn_vos_idx_vrec v;
	uint8_t buf[16 * 12];

	set_path(&p, o, d, a);
	if (hole) {
		memset(&v, 0, sizeof(v));
		v.kind = CAIRN_VOS_REC_HOLE;
	} else {
		make_rec(&v, id, (uint32_t)count * g_rsize[a], loc, buf);
	}
	want = e <= g_m.agg_ub ? -CAIRN_ERR_STALE : m_update_cond(o, d, a, e, cond);
	rc = cairn_vos_idx_array_update(g_cont, &p, e, cond, g_rsize[a], start, count, &v);
	CHECK(rc == want, "array_update o%d d%d a%d e%llu [%llu,+%llu): rc %d want %d", o, d, a,
	      (unsigned long long)e, (unsigned long long)start, (unsigned long long)count, rc,
	      want);
	g_cnt.upd_ok += rc == 0;
	g_cnt.upd_rej += rc != 0;
	if (rc == 0) {
		struct mrec *r = m_add(M_EXT, o, d, a, e);

		r->start = start;
		r->count = count;
		r->id = hole ? 0 : id;
		r->loc = !hole && loc;
		if (!hole)
			g_stored[id] = (uint8_t)loc;
	}
}

static void
op_punch(void)
{
	uint64_t lr = rn(20);
	int level = lr < 3 ? 1 : lr < 10 ? 2 : 3; /* object punches wipe a lot: rarer */
	int o = (int)rn(NOBJ), d = (int)rn(g_ndkey), a = (int)rn(NAKEY);
	uint64_t e = op_epoch();
	uint32_t cond = rn(4) == 0 ? CAIRN_VOS_IDX_COND_PUNCH : 0;
	struct cairn_vos_idx_path p;
	int want = 0, ex, rc;

	set_path(&p, o, level >= 2 ? d : -1, level >= 3 ? a : -1);
	if (e <= g_m.agg_ub) {
		want = -CAIRN_ERR_STALE;
	} else if (cond) {
		ex = level == 1   ? m_obj_exists(o, e)
		     : level == 2 ? m_dkey_exists(o, d, e)
		                  : m_akey_exists(o, d, a, e);
		want = ex ? 0 : -CAIRN_ERR_NONEXIST;
	}
	rc = cairn_vos_idx_punch(g_cont, &p, level, e, cond);
	CHECK(rc == want, "punch L%d o%d d%d a%d e%llu: rc %d want %d", level, o, d, a,
	      (unsigned long long)e, rc, want);
	g_cnt.punch_ok += rc == 0;
	g_cnt.punch_rej += rc != 0;
	if (rc == 0) {
		struct mrec *r = m_add(M_PUNCH, o, d, a, e);

		r->level = level;
		if (level == 1)
			ml_add(&g_po[o], g_m.nr - 1);
		else if (level == 2)
			ml_add(&g_pd[o][d], g_m.nr - 1);
		else
			ml_add(&g_pa[o][d][a], g_m.nr - 1);
	}
}

static void
op_fetch(void)
{
	int o = (int)rn(NOBJ), d = (int)rn(g_ndkey), a = (int)rn(NAKEY), rc;
	uint64_t e = m_protected_epoch();
	struct cairn_vos_idx_path p;
	const struct mrec *mr;

	set_path(&p, o, d, a);
	if (a < 2) {
		struct cairn_vos_idx_vrec v;
		uint64_t ve = 0;
		int vis = m_sv_visible(o, d, a, e, &mr);

		rc = cairn_vos_idx_sv_fetch(g_cont, &p, e, &v, &ve);
		CHECK(rc == (vis ? 0 : -CAIRN_ERR_NONEXIST),
		      "sv_fetch o%d d%d a%d e%llu: rc %d vis %d", o, d, a, (unsigned long long)e,
		      rc, vis);
		g_cnt.fetch_hit += vis;
		g_cnt.fetch_miss += !vis;
		if (vis) {
			CHECK(rec_id(&v) == mr->id && ve == mr->epoch,
			      "sv_fetch o%d d%d a%d e%llu: id %llu@%llu want %llu@%llu", o, d, a,
			      (unsigned long long)e, (unsigned long long)rec_id(&v),
			      (unsigned long long)ve, (unsigned long long)mr->id,
			      (unsigned long long)mr->epoch);
		}
	} else {
		struct cairn_vos_idx_piece pc[64];
		uint64_t lo = rn(ARR_SPAN), cnt = 1 + rn(ARR_SPAN - lo), pos;
		uint32_t n = 0, k, rsz = 0;
		int ex = m_akey_exists(o, d, a, e);

		rc = cairn_vos_idx_array_fetch(g_cont, &p, e, lo, cnt, pc, 64, &n, &rsz);
		CHECK(rc == (ex ? 0 : -CAIRN_ERR_NONEXIST),
		      "array_fetch o%d d%d a%d e%llu: rc %d ex %d", o, d, a, (unsigned long long)e,
		      rc, ex);
		g_cnt.fetch_hit += rc == 0;
		g_cnt.fetch_miss += rc != 0;
		if (rc != 0)
			return;
		g_cnt.pieces += n;
		CHECK(rsz == g_rsize[a], "rsize %u", rsz);
		pos = lo;
		for (k = 0; k < n; k++) {
			uint64_t q;

			CHECK(pc[k].index == pos && pc[k].count > 0, "piece %u at %llu, want %llu",
			      k, (unsigned long long)pc[k].index, (unsigned long long)pos);
			if (k > 0 && pc[k].rec.kind == CAIRN_VOS_REC_HOLE)
				CHECK(pc[k - 1].rec.kind != CAIRN_VOS_REC_HOLE, "adjacent holes");
			for (q = pc[k].index; q < pc[k].index + pc[k].count; q++) {
				uint64_t want = m_ext_at(o, d, a, e, q, &mr);
				uint64_t got = pc[k].rec.kind == CAIRN_VOS_REC_HOLE
				                       ? 0
				                       : rec_id(&pc[k].rec);

				CHECK(got == want,
				      "array o%d d%d a%d e%llu pos %llu: id %llu want %llu", o, d,
				      a, (unsigned long long)e, (unsigned long long)q,
				      (unsigned long long)got, (unsigned long long)want);
				if (want != 0) {
					CHECK(pc[k].epoch == mr->epoch, "piece epoch");
					CHECK(pc[k].rec_off ==
					              (pc[k].index - mr->start) * g_rsize[a],
					      "rec_off %llu", (unsigned long long)pc[k].rec_off);
				}
			}
			pos += pc[k].count;
		}
		CHECK(pos == lo + cnt, "pieces end at %llu, want %llu", (unsigned long long)pos,
		      (unsigned long long)(lo + cnt));
	}
}

static void
op_exists(void)
{
	int level = 1 + (int)rn(3), o = (int)rn(NOBJ), d = (int)rn(g_ndkey), a = (int)rn(NAKEY);
	uint64_t e = m_protected_epoch();
	struct cairn_vos_idx_path p;
	int want, rc;

	set_path(&p, o, d, a);
	want = level == 1   ? m_obj_exists(o, e)
	       : level == 2 ? m_dkey_exists(o, d, e)
	                    : m_akey_exists(o, d, a, e);
	rc = cairn_vos_idx_exists(g_cont, &p, level, e);
	CHECK(rc == want, "exists L%d o%d d%d a%d e%llu: %d want %d", level, o, d, a,
	      (unsigned long long)e, rc, want);
}

/* enumeration: collect everything with random page sizes */
struct lister {
	char keys[MAX_DKEY][64];
	uint32_t klen[MAX_DKEY];
	uint32_t n, page, in_page;
};

static int
list_cb(void *arg, const void *key, uint32_t len)
{
	struct lister *l = arg;

	CHECK(l->n < MAX_DKEY && len < 64, "too many keys");
	memcpy(l->keys[l->n], key, len);
	l->klen[l->n] = len;
	l->n++;
	return ++l->in_page >= l->page ? 1 : 0;
}

static int
key_sort_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
op_list(void)
{
	int what = (int)rn(3), o = (int)rn(NOBJ), d = (int)rn(g_ndkey), i, rc;
	uint64_t e = m_protected_epoch();
	struct cairn_vos_idx_anchor *anc = malloc(sizeof(*anc));
	struct cairn_vos_idx_path p;
	struct lister l = {.page = 1 + (uint32_t)rn(4)};
	const char *want[MAX_DKEY];
	uint8_t okey[NOBJ][16];
	int nwant = 0, guard = 0;

	assert_non_null(anc);
	set_path(&p, o, d, -1);
	cairn_vos_idx_anchor_init(anc);
	while (!cairn_vos_idx_anchor_is_eof(anc)) {
		CHECK(guard++ < 2 * MAX_DKEY + 2, "enumeration does not end");
		l.in_page = 0;
		if (what == 0)
			rc = cairn_vos_idx_list_objs(g_cont, e, anc, list_cb, &l);
		else if (what == 1)
			rc = cairn_vos_idx_list_dkeys(g_cont, &p, e, anc, list_cb, &l);
		else
			rc = cairn_vos_idx_list_akeys(g_cont, &p, e, anc, list_cb, &l);
		CHECK(rc == 0, "list rc %d", rc);
	}
	g_cnt.lists++;
	g_cnt.keys_listed += l.n;
	if (what == 0) {
		/* objects come in (hi, lo) order */
		struct cairn_vos_oid prev = {0, 0};

		for (i = 0; i < NOBJ; i++) {
			struct cairn_vos_oid oid = {g_oid_hi[i], g_oid_lo[i]};

			cairn_vos_oid_encode(&oid, okey[i]);
			if (m_obj_exists(i, e))
				nwant++;
		}
		CHECK((int)l.n == nwant, "objs: %u want %d at e%llu", l.n, nwant,
		      (unsigned long long)e);
		for (i = 0; i < (int)l.n; i++) {
			struct cairn_vos_oid oid;
			int j, found = 0;

			CHECK(l.klen[i] == 16, "oid key len");
			cairn_vos_oid_decode((const uint8_t *)l.keys[i], &oid);
			CHECK(i == 0 || oid.hi > prev.hi || (oid.hi == prev.hi && oid.lo > prev.lo),
			      "objs out of order");
			prev = oid;
			for (j = 0; j < NOBJ; j++)
				found |= oid.hi == g_oid_hi[j] && oid.lo == g_oid_lo[j] &&
				         m_obj_exists(j, e);
			CHECK(found, "listed object does not exist");
		}
		goto out;
	}
	for (i = 0; i < (what == 1 ? (int)g_ndkey : NAKEY); i++) {
		int ex = what == 1 ? m_dkey_exists(o, i, e) : m_akey_exists(o, d, i, e);

		if (ex)
			want[nwant++] = what == 1 ? g_dkeys[i] : g_akeys[i];
	}
	qsort(want, nwant, sizeof(want[0]), key_sort_cmp);
	CHECK((int)l.n == nwant, "%s: %u keys, want %d (o%d d%d e%llu)",
	      what == 1 ? "dkeys" : "akeys", l.n, nwant, o, d, (unsigned long long)e);
	for (i = 0; i < nwant; i++)
		CHECK(l.klen[i] == strlen(want[i]) && memcmp(l.keys[i], want[i], l.klen[i]) == 0,
		      "key %d: got %.*s want %s", i, (int)l.klen[i], l.keys[i], want[i]);
out:
	free(anc);
}

struct xlister {
	uint64_t pos[ARR_SPAN + 1];
	uint64_t id[ARR_SPAN + 1];
	uint32_t n, page, in_page;
	uint64_t last_end;
};

static int
xlist_cb(void *arg, const struct cairn_vos_idx_piece *pc)
{
	struct xlister *l = arg;
	uint64_t q;

	CHECK(pc->rec.kind != CAIRN_VOS_REC_HOLE, "hole listed");
	CHECK(pc->index >= l->last_end, "pieces out of order");
	l->last_end = pc->index + pc->count;
	for (q = pc->index; q < pc->index + pc->count && l->n <= ARR_SPAN; q++) {
		l->pos[l->n] = q;
		l->id[l->n++] = rec_id(&pc->rec);
	}
	return ++l->in_page >= l->page ? 1 : 0;
}

static void
op_list_extents(void)
{
	int o = (int)rn(NOBJ), d = (int)rn(g_ndkey), a = 2 + (int)rn(2), rc, guard = 0;
	uint64_t e = m_protected_epoch(), q;
	struct cairn_vos_idx_anchor *anc = malloc(sizeof(*anc));
	struct cairn_vos_idx_path p;
	struct xlister l = {.page = 1 + (uint32_t)rn(3)};
	const struct mrec *mr;
	uint32_t k = 0;

	assert_non_null(anc);
	set_path(&p, o, d, a);
	cairn_vos_idx_anchor_init(anc);
	while (!cairn_vos_idx_anchor_is_eof(anc)) {
		CHECK(guard++ < 200, "extent enumeration does not end");
		l.in_page = 0;
		rc = cairn_vos_idx_list_extents(g_cont, &p, e, anc, xlist_cb, &l);
		CHECK(rc == 0, "list_extents rc %d", rc);
	}
	for (q = 0; q < ARR_SPAN; q++) {
		uint64_t want = m_ext_at(o, d, a, e, q, &mr);

		if (want == 0)
			continue;
		CHECK(k < l.n && l.pos[k] == q && l.id[k] == want,
		      "extents o%d d%d a%d e%llu: pos %llu want id %llu", o, d, a,
		      (unsigned long long)e, (unsigned long long)q, (unsigned long long)want);
		k++;
	}
	CHECK(k == l.n, "extra extent pieces listed");
	free(anc);
}

static void
op_snap(void)
{
	uint64_t e;
	uint32_t i;
	int rc, want;

	if (g_m.nsnaps > 0 && rn(3) == 0) {
		i = (uint32_t)rn(g_m.nsnaps);
		e = g_m.snaps[i];
		rc = cairn_vos_idx_snap_destroy(g_cont, e);
		CHECK(rc == 0, "snap_destroy %d", rc);
		memmove(&g_m.snaps[i], &g_m.snaps[i + 1], sizeof(uint64_t) * (g_m.nsnaps - i - 1));
		g_m.nsnaps--;
		g_snap_dropped = 1;
		return;
	}
	if (g_m.nsnaps >= 64)
		return;
	e = op_epoch();
	want = e < g_m.agg_ub ? -CAIRN_ERR_STALE : 0;
	for (i = 0; i < g_m.nsnaps; i++)
		if (g_m.snaps[i] == e && want == 0)
			want = -CAIRN_ERR_EXIST;
	rc = cairn_vos_idx_snap_create(g_cont, e);
	CHECK(rc == want, "snap_create %llu: %d want %d", (unsigned long long)e, rc, want);
	g_cnt.snaps += rc == 0;
	if (rc == 0) {
		for (i = g_m.nsnaps; i > 0 && g_m.snaps[i - 1] > e; i--)
			g_m.snaps[i] = g_m.snaps[i - 1];
		g_m.snaps[i] = e;
		g_m.nsnaps++;
	}
}

/* After a complete pass, every location left with epoch <= ub must still be visible at a
 * retained epoch: aggregation must not keep what nobody can read. */
static void
check_no_leak(void)
{
	uint32_t i, k;

	if (g_snap_dropped)
		return;
	for (i = 0; i < g_m.nr; i++) {
		const struct mrec *r = &g_m.r[i];
		int vis;

		if (!r->alive || !r->loc || r->epoch > g_m.agg_ub || g_freed[r->id])
			continue;
		vis = m_rec_visible(r, g_m.agg_ub);
		for (k = 0; k < g_m.nsnaps && !vis; k++)
			vis = g_m.snaps[k] < g_m.agg_ub && m_rec_visible(r, g_m.snaps[k]);
		CHECK(vis, "id %llu (epoch %llu) kept by aggregation to %llu but invisible",
		      (unsigned long long)r->id, (unsigned long long)r->epoch,
		      (unsigned long long)g_m.agg_ub);
	}
}

static void
op_aggregate(void)
{
	uint64_t ub = g_m.clock > 25 ? g_m.clock - 25 : 1;
	bool done = false;
	int rc;

	if (ub < g_m.agg_ub)
		ub = g_m.agg_ub;
	/* usually continue the running pass, sometimes restart with a newer bound */
	if (g_m.agg_ub != 0 && rn(3) != 0)
		ub = g_m.agg_ub;
	if (ub != g_m.agg_ub || g_pass_done)
		g_snap_dropped = 0; /* a new pass starts */
	g_m.agg_ub = ub;            /* reads below are checked against the new bound from now on */
	rc = cairn_vos_idx_aggregate(g_cont, ub, 1 + (uint32_t)rn(6), &done);
	CHECK(rc == 0, "aggregate rc %d", rc);
	g_cnt.passes += done;
	g_pass_done = done;
	if (done) {
		check_pending();
		check_no_leak();
	}
	CHECK(cairn_vos_idx_agg_bound(g_cont) == ub, "agg bound");
	if (ub > 1)
		CHECK(cairn_vos_idx_aggregate(g_cont, ub - 1, 1, &done) == -CAIRN_ERR_STALE,
		      "lower bound accepted");
}

/* ------------------------------------------------------ checkpoint round trip */

struct ckpt {
	struct cairn_vos_idx_rec *r;
	uint32_t n, cap;
};

static void *
dupmem(const void *p, size_t n)
{
	void *q;

	if (p == NULL || n == 0)
		return NULL;
	q = malloc(n);
	assert_non_null(q);
	memcpy(q, p, n);
	return q;
}

static int
ckpt_cb(void *arg, const struct cairn_vos_idx_rec *rec)
{
	struct ckpt *c = arg;
	struct cairn_vos_idx_rec *r;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->r = realloc(c->r, sizeof(*c->r) * c->cap);
		assert_non_null(c->r);
	}
	r = &c->r[c->n++];
	*r = *rec;
	r->punches = dupmem(rec->punches, sizeof(*rec->punches) * (rec->snaps ? 0 : rec->nr));
	r->snaps = dupmem(rec->snaps, sizeof(uint64_t) * rec->nr);
	r->key = dupmem(rec->key, rec->klen);
	r->cursor_dkey = dupmem(rec->cursor_dkey, rec->cursor_klen);
	if (rec->vrec.kind == CAIRN_VOS_REC_INLINE)
		r->vrec.inl = dupmem(rec->vrec.inl, rec->vrec.len);
	return 0;
}

static void
ckpt_free(struct ckpt *c)
{
	uint32_t i;

	for (i = 0; i < c->n; i++) {
		free((void *)c->r[i].punches);
		free((void *)c->r[i].snaps);
		free((void *)c->r[i].key);
		free((void *)c->r[i].cursor_dkey);
		if (c->r[i].vrec.kind == CAIRN_VOS_REC_INLINE)
			free((void *)c->r[i].vrec.inl);
	}
	free(c->r);
	memset(c, 0, sizeof(*c));
}

static int
mem_eq(const void *a, const void *b, size_t n)
{
	return n == 0 || (a != NULL && b != NULL && memcmp(a, b, n) == 0);
}

static void
ckpt_compare(const struct ckpt *x, const struct ckpt *y)
{
	uint32_t i;

	CHECK(x->n == y->n, "checkpoint record count %u vs %u", x->n, y->n);
	for (i = 0; i < x->n; i++) {
		const struct cairn_vos_idx_rec *a = &x->r[i], *b = &y->r[i];

		CHECK(a->type == b->type && a->nr == b->nr && a->klen == b->klen &&
		              a->vtype == b->vtype && a->rsize == b->rsize &&
		              a->next_seq == b->next_seq && a->agg_ub == b->agg_ub &&
		              a->agg_active == b->agg_active &&
		              a->cursor_oid_valid == b->cursor_oid_valid &&
		              memcmp(a->cursor_oid, b->cursor_oid, 16) == 0 &&
		              a->cursor_klen == b->cursor_klen &&
		              memcmp(&a->stamp, &b->stamp, sizeof(a->stamp)) == 0 &&
		              a->index == b->index && a->count == b->count,
		      "checkpoint record %u differs (type %u)", i, a->type);
		CHECK(mem_eq(a->key, b->key, a->klen) &&
		              mem_eq(a->cursor_dkey, b->cursor_dkey, a->cursor_klen),
		      "record %u keys differ", i);
		if (a->type == CAIRN_VOS_IDX_R_CONT)
			CHECK(mem_eq(a->snaps, b->snaps, sizeof(uint64_t) * a->nr), "snaps differ");
		else
			CHECK(mem_eq(a->punches, b->punches, sizeof(*a->punches) * a->nr),
			      "punches differ");
		CHECK(a->vrec.kind == b->vrec.kind && a->vrec.len == b->vrec.len &&
		              a->vrec.crc == b->vrec.crc,
		      "vrec differs");
		if (a->vrec.kind == CAIRN_VOS_REC_INLINE)
			CHECK(mem_eq(a->vrec.inl, b->vrec.inl, a->vrec.len), "inline differs");
		else if (a->vrec.kind == CAIRN_VOS_REC_LOC)
			CHECK(a->vrec.off == b->vrec.off, "loc differs");
	}
}

static void
op_checkpoint(void)
{
	struct ckpt c1 = {0}, c2 = {0};
	struct cairn_vos_idx *nidx = new_index();
	struct cairn_vos_idx_stats s1, s2;
	uint32_t i;
	int rc;

	assert_int_equal(cairn_vos_idx_walk(g_idx, ckpt_cb, &c1), 0);
	for (i = 0; i < c1.n; i++) {
		rc = cairn_vos_idx_load(nidx, &c1.r[i]);
		CHECK(rc == 0, "load record %u (type %u): %d", i, c1.r[i].type, rc);
	}
	assert_int_equal(cairn_vos_idx_walk(nidx, ckpt_cb, &c2), 0);
	ckpt_compare(&c1, &c2);
	cairn_vos_idx_stats(g_idx, &s1);
	cairn_vos_idx_stats(nidx, &s2);
	CHECK(memcmp(&s1, &s2, sizeof(s1)) == 0, "stats differ after reload");
	ckpt_free(&c1);
	ckpt_free(&c2);
	g_cnt.ckpts++;
	/* continue on the reloaded index */
	cairn_vos_idx_destroy(g_idx);
	g_idx = nidx;
	assert_int_equal(cairn_vos_idx_cont_lookup(g_idx, g_uuid, &g_cont), 0);
}

/* ------------------------------------------------------------------ driver */

static unsigned
env_u(const char *name, unsigned def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0')
		return def;
	v = strtoull(s, &end, 0);
	return *end == '\0' ? (unsigned)v : def;
}

static void
run_seed(uint64_t seed, unsigned nops)
{
	uint32_t i;

	g_seed = seed;
	g_rng = seed * 0x9e3779b97f4a7c15ull + 1;
	memset(&g_m, 0, sizeof(g_m));
	g_m.r = calloc(MAX_RECS, sizeof(*g_m.r));
	assert_non_null(g_m.r);
	g_m.seq = 1;
	g_m.clock = 1;
	memset(g_freed, 0, sizeof(g_freed));
	memset(g_stored, 0, sizeof(g_stored));
	g_next_id = 1;
	g_npending = 0;
	g_pass_done = 1;
	g_snap_dropped = 0;
	g_idx = new_index();
	assert_int_equal(cairn_vos_idx_cont_create(g_idx, g_uuid, &g_cont), 0);

	for (g_op = 0; g_op < nops && g_next_id < MAX_IDS - 2; g_op++) {
		uint64_t k = rn(100);

		g_m.clock += rn(3);
		if (k < 28)
			op_sv_update();
		else if (k < 52)
			op_array_update();
		else if (k < 62)
			op_punch();
		else if (k < 77)
			op_fetch();
		else if (k < 82)
			op_exists();
		else if (k < 87)
			op_list();
		else if (k < 90)
			op_list_extents();
		else if (k < 93)
			op_snap();
		else if (k < 99)
			op_aggregate();
		else
			op_checkpoint();
		check_pending();
	}
	/* finish the pass, check everything once more, then destroy */
	if (g_m.agg_ub) {
		bool done = false;
		int guard = 0;

		while (!done) {
			CHECK(guard++ < 100000, "aggregation does not finish");
			assert_int_equal(cairn_vos_idx_aggregate(g_cont, g_m.agg_ub, 3, &done), 0);
			check_pending();
		}
		check_no_leak();
	}
	for (i = 0; i < 200; i++) {
		op_fetch();
		op_exists();
	}
	g_cont = NULL;
	assert_int_equal(cairn_vos_idx_cont_destroy(g_idx, g_uuid), 0);
	for (i = 1; i < g_next_id; i++)
		CHECK(g_freed[i] == g_stored[i], "id %u stored %u freed %u times", i, g_stored[i],
		      g_freed[i]);
	{
		struct cairn_vos_idx_stats st;

		cairn_vos_idx_stats(g_idx, &st);
		CHECK(st.conts == 0 && st.objs == 0 && st.dkeys == 0 && st.akeys == 0 &&
		              st.versions == 0 && st.extents == 0 && st.punches == 0 &&
		              st.inline_bytes == 0,
		      "stats not zero after destroy");
	}
	cairn_vos_idx_destroy(g_idx);
	g_idx = NULL;
	free(g_m.r);
	ml_reset_all();
}

static void
run_model(unsigned ndkey, unsigned def_ops, unsigned def_seeds)
{
	unsigned nops = env_u("CAIRN_MODEL_OPS", def_ops);
	unsigned rounds = env_u("CAIRN_MODEL_SEEDS", def_seeds), i;
	const char *s = getenv("CAIRN_SEED");
	uint64_t base;
	time_t t0 = time(NULL);

	make_dkeys(ndkey);
	memset(&g_cnt, 0, sizeof(g_cnt));
	if (s != NULL && *s != '\0') {
		run_seed(strtoull(s, NULL, 0), nops);
		return;
	}
	base = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
	for (i = 0; i < rounds; i++) {
		/* bounded in count and in time */
		if (time(NULL) - t0 > 8)
			break;
		run_seed(base + i, nops);
	}
	printf("model test (%u dkeys): %u seeds from %llu, %u ops each\n", ndkey, i,
	       (unsigned long long)base, nops);
	printf("  updates ok %u rejected %u, punches ok %u rejected %u, fetch hit %u miss %u "
	       "(array pieces %u), frees %u, lists %u (%u keys), checkpoints %u, agg passes %u, "
	       "snapshots %u\n",
	       g_cnt.upd_ok, g_cnt.upd_rej, g_cnt.punch_ok, g_cnt.punch_rej, g_cnt.fetch_hit,
	       g_cnt.fetch_miss, g_cnt.pieces, g_cnt.frees, g_cnt.lists, g_cnt.keys_listed,
	       g_cnt.ckpts, g_cnt.passes, g_cnt.snaps);
}

/* few keys: dense histories per key (overlaps, punches, same epochs) */
static void
test_model(void **state)
{
	(void)state;
	run_model(5, 4000, 50);
}

/* many dkeys: hash buckets, skip-list heights, removal by aggregation at scale */
static void
test_model_wide(void **state)
{
	(void)state;
	run_model(MAX_DKEY, 6000, 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_model),
	        cmocka_unit_test(test_model_wide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
