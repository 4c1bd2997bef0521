/*
 * libFuzzer target for the VOS index (src/vos/idx_*.c): the input is a program of index
 * operations with arbitrary arguments (keys, epochs near the limits, extents near 2^64,
 * conditional flags, anchors, aggregation bounds), plus checkpoint records built from raw
 * bytes fed to cairn_vos_idx_load(). Nothing may crash or leak, a checkpoint round trip
 * must reproduce the index, and at container destroy every location handed to the index
 * must have come back exactly once.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "vos_index.h"

#define MAX_LOCS 4096

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t g_given[MAX_LOCS], g_back[MAX_LOCS];
static uint32_t g_nloc;

static uint64_t
take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < bytes && in->n > 0; i++, in->p++, in->n--)
		v |= (uint64_t)in->p[0] << (8 * i);
	return v;
}

static void
hook(void *arg, const uint8_t uuid[16], const struct cairn_vos_idx_vrec *rec)
{
	uint64_t id = rec->off;

	(void)arg;
	(void)uuid;
	if (rec->kind != CAIRN_VOS_REC_LOC || id >= MAX_LOCS || !g_given[id] || g_back[id])
		abort();
	g_back[id] = 1;
}

static const char *const g_keys[] = {"a", "b", "ab", "key-long-enough-to-matter", "z"};

static void
path_from(struct input *in, struct cairn_vos_idx_path *p, uint8_t *kbuf)
{
	uint8_t sel = (uint8_t)take(in, 1);

	memset(p, 0, sizeof(*p));
	p->oid.lo = sel & 3;
	p->oid.hi = (sel & 4) ? UINT64_MAX : 0;
	p->dkey = g_keys[(sel >> 3) % 5];
	p->dkey_len = (uint32_t)strlen(p->dkey);
	p->akey = g_keys[(sel >> 5) % 5];
	p->akey_len = (uint32_t)strlen(p->akey);
	if ((sel & 0xc0) == 0xc0) {
		/* raw key of a fuzzed length (limits) */
		uint32_t len = (uint32_t)take(in, 2) % (CAIRN_VOS_IDX_KEY_MAX + 2);

		memset(kbuf, 'k', len);
		p->dkey = kbuf;
		p->dkey_len = len;
	}
}

static uint64_t
epoch_from(struct input *in)
{
	uint8_t e = (uint8_t)take(in, 1);

	if (e == 0xff)
		return take(in, 8);
	return e;
}

static void
vrec_from(struct input *in, struct cairn_vos_idx_vrec *v, uint32_t len, uint8_t *buf)
{
	uint8_t k = (uint8_t)take(in, 1);

	memset(v, 0, sizeof(*v));
	v->len = len;
	switch (k % 4) {
	case 0:
		v->kind = CAIRN_VOS_REC_HOLE;
		break;
	case 1:
		v->kind = CAIRN_VOS_REC_INLINE;
		v->inl = buf;
		if (len > CAIRN_VOS_IDX_INLINE_MAX)
			v->len = CAIRN_VOS_IDX_INLINE_MAX + (k >> 7);
		break;
	case 2:
		v->kind = CAIRN_VOS_REC_LOC;
		v->off = g_nloc < MAX_LOCS ? g_nloc : MAX_LOCS; /* id; given[] set on success */
		break;
	default:
		v->kind = k; /* invalid kinds */
		break;
	}
}

static void
loc_taken(const struct cairn_vos_idx_vrec *v, int rc)
{
	if (rc == 0 && v->kind == CAIRN_VOS_REC_LOC) {
		if (v->off >= MAX_LOCS)
			abort(); /* the driver never hands out more */
		g_given[v->off] = 1;
		g_nloc++;
	}
}

static int
key_cb(void *arg, const void *key, uint32_t len)
{
	uint32_t *left = arg;

	(void)key;
	if (len == 0 || len > CAIRN_VOS_IDX_KEY_MAX)
		abort();
	return --(*left) == 0 ? 1 : 0;
}

static int
piece_cb(void *arg, const struct cairn_vos_idx_piece *pc)
{
	uint32_t *left = arg;

	if (pc->count == 0 || pc->rec.kind == CAIRN_VOS_REC_HOLE)
		abort();
	return --(*left) == 0 ? 1 : 0;
}

/* checkpoint round trip: walk into a fresh index, walk again, same number of records */
struct rt {
	struct cairn_vos_idx *dst;
	uint32_t n;
	int rc;
};

static int
rt_cb(void *arg, const struct cairn_vos_idx_rec *r)
{
	struct rt *t = arg;

	t->n++;
	if (t->dst != NULL && t->rc == 0)
		t->rc = cairn_vos_idx_load(t->dst, r);
	return 0;
}

static void
roundtrip(struct cairn_vos_idx *idx, const struct cairn_vos_idx_opts *o)
{
	struct rt a = {0}, b = {0};
	struct cairn_vos_idx_stats s1, s2;

	if (cairn_vos_idx_create(o, &a.dst) != 0)
		return;
	cairn_vos_idx_walk(idx, rt_cb, &a);
	if (a.rc != 0 && a.rc != -CAIRN_ERR_NOMEM)
		abort(); /* our own walk must always load */
	if (a.rc == 0) {
		cairn_vos_idx_walk(a.dst, rt_cb, &b);
		cairn_vos_idx_stats(idx, &s1);
		cairn_vos_idx_stats(a.dst, &s2);
		if (a.n != b.n || memcmp(&s1, &s2, sizeof(s1)) != 0)
			abort();
	}
	cairn_vos_idx_destroy(a.dst); /* no hooks */
}

/* Arbitrary records into a fresh index: must fail cleanly or load. */
static void
load_raw(struct input *in, const struct cairn_vos_idx_opts *o)
{
	struct cairn_vos_idx *x;
	struct cairn_vos_idx_stamp st[8];
	uint64_t snaps[8];
	uint8_t key[64];
	int i, nrec = (int)take(in, 1) % 16;

	if (cairn_vos_idx_create(o, &x) != 0)
		return;
	for (i = 0; i < nrec && in->n > 0; i++) {
		struct cairn_vos_idx_rec r;
		uint32_t k;

		memset(&r, 0, sizeof(r));
		r.type = (uint32_t)take(in, 1) % 9;
		r.nr = (uint32_t)take(in, 1) % 9;
		for (k = 0; k < 8; k++) {
			st[k].epoch = take(in, 1);
			st[k].seq = take(in, 1);
			snaps[k] = take(in, 1);
		}
		r.punches = r.nr ? st : NULL;
		r.snaps = r.nr ? snaps : NULL;
		r.klen = (uint32_t)take(in, 1) % 40;
		memset(key, (int)take(in, 1), sizeof(key));
		r.key = key;
		r.vtype = (uint32_t)take(in, 1) % 4;
		r.rsize = (uint32_t)take(in, 1);
		r.next_seq = take(in, 1);
		r.agg_ub = take(in, 1);
		r.agg_active = (uint32_t)take(in, 1) % 3;
		r.stamp.epoch = take(in, 1);
		r.stamp.seq = take(in, 1);
		r.index = take(in, 8);
		r.count = take(in, 2);
		r.vrec.kind = (uint8_t)(take(in, 1) % 4);
		r.vrec.len = (uint32_t)take(in, 2);
		if (r.vrec.kind == CAIRN_VOS_REC_INLINE) {
			r.vrec.inl = key;
			if (r.vrec.len > sizeof(key))
				r.vrec.len = sizeof(key);
		}
		if (cairn_vos_idx_load(x, &r) != 0)
			break;
	}
	cairn_vos_idx_destroy(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t kbuf[CAIRN_VOS_IDX_KEY_MAX + 2], vbuf[CAIRN_VOS_IDX_INLINE_MAX + 2];
	struct cairn_vos_idx_opts o = {.opts_size = sizeof(o), .free_hook = hook};
	struct input in = {data, size};
	struct cairn_vos_idx *idx;
	struct cairn_vos_idx_cont *cont;
	struct cairn_vos_idx_anchor *anc = malloc(sizeof(*anc));
	const uint8_t uuid[16] = {7};
	uint32_t i;
	int steps = 0;

	if (anc == NULL)
		return 0;
	memset(g_given, 0, sizeof(g_given));
	memset(g_back, 0, sizeof(g_back));
	g_nloc = 0;
	if (cairn_vos_idx_create(&o, &idx) != 0 || cairn_vos_idx_cont_create(idx, uuid, &cont)) {
		free(anc);
		return 0;
	}
	while (in.n > 0 && steps++ < 2000) {
		struct cairn_vos_idx_path p;
		struct cairn_vos_idx_vrec v;
		struct cairn_vos_idx_piece pc[8];
		uint32_t n, left, cond;
		uint64_t e, idx64, cnt;
		bool done;
		int rc;

		switch (take(&in, 1) % 14) {
		case 0:
			path_from(&in, &p, kbuf);
			e = epoch_from(&in);
			cond = (uint32_t)take(&in, 1) & 0x3f;
			vrec_from(&in, &v, (uint32_t)take(&in, 2), vbuf);
			rc = cairn_vos_idx_sv_update(cont, &p, e, cond, &v);
			loc_taken(&v, rc);
			break;
		case 1: {
			uint32_t rsize = (uint32_t)take(&in, 1);

			path_from(&in, &p, kbuf);
			e = epoch_from(&in);
			cond = (uint32_t)take(&in, 1) & 0x3f;
			idx64 = take(&in, 1) == 0xff ? take(&in, 8) : take(&in, 1);
			cnt = take(&in, 1) == 0xff ? take(&in, 8) : take(&in, 1);
			vrec_from(&in, &v, (uint32_t)(cnt * rsize), vbuf);
			rc = cairn_vos_idx_array_update(cont, &p, e, cond, rsize, idx64, cnt, &v);
			loc_taken(&v, rc);
			break;
		}
		case 2:
			path_from(&in, &p, kbuf);
			cairn_vos_idx_punch(cont, &p, (int)take(&in, 1) % 5, epoch_from(&in),
			                    (uint32_t)take(&in, 1) & 0x30);
			break;
		case 3:
			path_from(&in, &p, kbuf);
			cairn_vos_idx_sv_fetch(cont, &p, epoch_from(&in), &v, NULL);
			break;
		case 4:
			path_from(&in, &p, kbuf);
			e = epoch_from(&in);
			idx64 = take(&in, 1) == 0xff ? take(&in, 8) : take(&in, 1);
			cnt = take(&in, 1) == 0xff ? take(&in, 8) : take(&in, 1);
			rc = cairn_vos_idx_array_fetch(cont, &p, e, idx64, cnt, pc, 8, &n, NULL);
			if (rc == 0 && (n == 0 || n > 8 || pc[0].index != idx64))
				abort();
			break;
		case 5:
			path_from(&in, &p, kbuf);
			cairn_vos_idx_exists(cont, &p, (int)take(&in, 1) % 5, epoch_from(&in));
			break;
		case 6:
			path_from(&in, &p, kbuf);
			e = epoch_from(&in);
			cairn_vos_idx_anchor_init(anc);
			for (i = 0; i < 64 && !cairn_vos_idx_anchor_is_eof(anc); i++) {
				left = 1 + (uint32_t)take(&in, 1) % 3;
				switch (i % 3) {
				case 0:
					rc = cairn_vos_idx_list_objs(cont, e, anc, key_cb, &left);
					break;
				case 1:
					rc = cairn_vos_idx_list_dkeys(cont, &p, e, anc, key_cb,
					                              &left);
					break;
				default:
					rc = cairn_vos_idx_list_akeys(cont, &p, e, anc, key_cb,
					                              &left);
					break;
				}
				if (rc != 0)
					break;
			}
			break;
		case 7:
			path_from(&in, &p, kbuf);
			e = epoch_from(&in);
			cairn_vos_idx_anchor_init(anc);
			anc->index = take(&in, 1) == 0xff ? take(&in, 8) : 0;
			for (i = 0; i < 64 && !cairn_vos_idx_anchor_is_eof(anc); i++) {
				left = 1 + (uint32_t)take(&in, 1) % 3;
				if (cairn_vos_idx_list_extents(cont, &p, e, anc, piece_cb, &left) !=
				    0)
					break;
			}
			break;
		case 8:
			cairn_vos_idx_snap_create(cont, epoch_from(&in));
			break;
		case 9:
			cairn_vos_idx_snap_destroy(cont, epoch_from(&in));
			break;
		case 10:
			cairn_vos_idx_aggregate(cont, epoch_from(&in), (uint32_t)take(&in, 1),
			                        &done);
			break;
		case 11:
			roundtrip(idx, &o);
			break;
		case 12:
			load_raw(&in, &o);
			break;
		default: {
			/* a second container, destroyed at once */
			uint8_t u2[16] = {(uint8_t)take(&in, 1)};
			struct cairn_vos_idx_cont *c2;

			if (memcmp(u2, uuid, 16) != 0 &&
			    cairn_vos_idx_cont_create(idx, u2, &c2) == 0) {
				path_from(&in, &p, kbuf);
				cairn_vos_idx_punch(c2, &p, CAIRN_VOS_IDX_OBJ, 5, 0);
				cairn_vos_idx_cont_destroy(idx, u2);
			}
			break;
		}
		}
	}
	if (cairn_vos_idx_cont_destroy(idx, uuid) != 0)
		abort();
	for (i = 0; i < MAX_LOCS; i++) {
		if (g_given[i] != g_back[i])
			abort(); /* a location lost or freed twice */
	}
	cairn_vos_idx_destroy(idx);
	free(anc);
	return 0;
}
