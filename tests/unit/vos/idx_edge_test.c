/*
 * Targeted tests of the VOS index (src/vos/idx_*.c): one test per semantic edge — limits
 * and bad input, same-epoch ordering, punches of absent keys, conditional flags, type and
 * record-size rules, array holes, anchors under concurrent inserts, snapshots and
 * aggregation bounds, checkpoint load validation, container destroy, large tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/errno.h"
#include "vos_index.h"

#define MAXFREED 70000

struct env {
	struct cairn_vos_idx *idx;
	struct cairn_vos_idx_cont *cont;
	uint64_t freed[MAXFREED];
	uint32_t nfreed;
};

static const uint8_t g_uuid[16] = {1, 2, 3, 4};

static void
hook(void *arg, const uint8_t uuid[16], const struct cairn_vos_idx_vrec *rec)
{
	struct env *env = arg;

	assert_int_equal(rec->kind, CAIRN_VOS_REC_LOC);
	assert_true(env->nfreed < MAXFREED);
	env->freed[env->nfreed++] = rec->off;
}

static int
setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	struct cairn_vos_idx_opts o = {.opts_size = sizeof(o), .free_hook = hook};

	assert_non_null(env);
	o.free_arg = env;
	assert_int_equal(cairn_vos_idx_create(&o, &env->idx), 0);
	assert_int_equal(cairn_vos_idx_cont_create(env->idx, g_uuid, &env->cont), 0);
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env *env = *state;

	cairn_vos_idx_destroy(env->idx);
	free(env);
	return 0;
}

static struct cairn_vos_idx_path
P(uint64_t oid, const char *dkey, const char *akey) {
	struct cairn_vos_idx_path p = {.oid = {0, oid}};

	if (dkey) {
		p.dkey = dkey;
		p.dkey_len = (uint32_t)strlen(dkey);
	}
	if (akey) {
		p.akey = akey;
		p.akey_len = (uint32_t)strlen(akey);
	}
	return p;
}

static struct cairn_vos_idx_vrec
LOC(uint64_t off, uint32_t len) {
	struct cairn_vos_idx_vrec v = {.kind = CAIRN_VOS_REC_LOC, .len = len};

	v.off = off;
	return v;
}

static struct cairn_vos_idx_vrec
INL(const char *s) {
	struct cairn_vos_idx_vrec v = {.kind = CAIRN_VOS_REC_INLINE, .len = (uint32_t)strlen(s)};

	v.inl = s;
	return v;
}

static const struct cairn_vos_idx_vrec HOLE = {.kind = CAIRN_VOS_REC_HOLE};

/* single value visible at e: its offset, or -1 for none */
static int64_t
sv_at(struct env *env, struct cairn_vos_idx_path *p, uint64_t e)
{
	struct cairn_vos_idx_vrec v;
	int rc = cairn_vos_idx_sv_fetch(env->cont, p, e, &v, NULL);

	if (rc == -CAIRN_ERR_NONEXIST)
		return -1;
	assert_int_equal(rc, 0);
	return (int64_t)v.off;
}

static void
test_limits(void **state)
{
	struct env *env = *state;
	struct cairn_vos_idx_path p = P(1, "d", "a");
	struct cairn_vos_idx_vrec v = LOC(4096, 10), big = LOC(0, CAIRN_VOS_IDX_VAL_MAX + 1u);
	char *key = malloc(CAIRN_VOS_IDX_KEY_MAX + 1);
	char inl[CAIRN_VOS_IDX_INLINE_MAX + 1];
	struct cairn_vos_idx_stats st;

	assert_non_null(key);
	memset(key, 'k', CAIRN_VOS_IDX_KEY_MAX + 1);
	/* epochs */
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 0, 0, &v), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, CAIRN_VOS_EPOCH_MAX, 0, &v),
	                 -CAIRN_ERR_INVAL);
	/* keys */
	p.dkey_len = 0;
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 5, 0, &v), -CAIRN_ERR_INVAL);
	p.dkey = key;
	p.dkey_len = CAIRN_VOS_IDX_KEY_MAX + 1;
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 5, 0, &v), -CAIRN_ERR_INVAL);
	p.dkey_len = CAIRN_VOS_IDX_KEY_MAX; /* the maximum is fine */
	p.akey = key;
	p.akey_len = CAIRN_VOS_IDX_KEY_MAX;
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 5, 0, &v), 0);
	assert_int_equal(sv_at(env, &p, 5), 4096);
	p = P(1, "d", "a");
	p.akey = NULL;
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 5, 0, &v), -CAIRN_ERR_INVAL);
	p = P(1, "d", "a");
	/* values */
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 5, 0, &big), -CAIRN_ERR_OVERFLOW);
	memset(inl, 'x', sizeof(inl));
	v.kind = CAIRN_VOS_REC_INLINE;
	v.inl = inl;
	v.len = CAIRN_VOS_IDX_INLINE_MAX + 1;
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 5, 0, &v), -CAIRN_ERR_OVERFLOW);
	v.inl = NULL;
	v.len = 3;
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 5, 0, &v), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 5, 0, &HOLE), -CAIRN_ERR_INVAL);
	v.kind = 9;
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 5, 0, &v), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 5, 1u << 20, &v), -CAIRN_ERR_INVAL);
	/* arrays: overflow of index + count, count * rsize, zero sizes */
	v = LOC(0, 8);
	assert_int_equal(cairn_vos_idx_array_update(env->cont, &p, 5, 0, 8, UINT64_MAX, 1, &v),
	                 -CAIRN_ERR_OVERFLOW);
	assert_int_equal(cairn_vos_idx_array_update(env->cont, &p, 5, 0, 8, UINT64_MAX - 1, 1, &v),
	                 0);
	assert_int_equal(cairn_vos_idx_array_update(env->cont, &p, 5, 0, 8, 0, 1ull << 40, &HOLE),
	                 -CAIRN_ERR_OVERFLOW);
	assert_int_equal(cairn_vos_idx_array_update(env->cont, &p, 5, 0, 8, 0, 0, &v),
	                 -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_vos_idx_array_update(env->cont, &p, 5, 0, 0, 0, 1, &v),
	                 -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_vos_idx_array_update(env->cont, &p, 5, 0, 8, 0, 2, &v),
	                 -CAIRN_ERR_INVAL); /* len != count * rsize */
	{
		struct cairn_vos_idx_piece pc[2];
		uint32_t n;

		assert_int_equal(
		        cairn_vos_idx_array_fetch(env->cont, &p, 9, UINT64_MAX, 2, pc, 2, &n, NULL),
		        -CAIRN_ERR_OVERFLOW);
		assert_int_equal(cairn_vos_idx_array_fetch(env->cont, &p, 9, UINT64_MAX - 1, 1, pc,
		                                           2, &n, NULL),
		                 0);
		assert_int_equal(n, 1);
		assert_int_equal(pc[0].rec.kind, CAIRN_VOS_REC_LOC);
	}
	/* nothing of the failures above left a trace */
	cairn_vos_idx_stats(env->idx, &st);
	assert_int_equal(st.versions, 1);
	assert_int_equal(st.extents, 1);
	assert_int_equal(st.objs, 1);
	assert_int_equal(st.dkeys, 2);
	assert_int_equal(st.akeys, 2);
	assert_int_equal(st.next_seq, 3);
	/* bad options */
	{
		struct cairn_vos_idx_opts o = {.opts_size = 1, .free_hook = hook};
		struct cairn_vos_idx *x;

		assert_int_equal(cairn_vos_idx_create(&o, &x), -CAIRN_ERR_INVAL);
		o.opts_size = sizeof(o);
		o.free_hook = NULL;
		assert_int_equal(cairn_vos_idx_create(&o, &x), -CAIRN_ERR_INVAL);
	}
	free(key);
}

static void
test_mvcc_and_same_epoch(void **state)
{
	struct env *env = *state;
	struct cairn_vos_idx_path p = P(1, "d", "a");
	struct cairn_vos_idx_vrec v;
	uint64_t ve;

	v = LOC(100, 1);
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 10, 0, &v), 0);
	v = LOC(200, 1);
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 20, 0, &v), 0);
	v = LOC(150, 1); /* arrives late, older epoch */
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 15, 0, &v), 0);
	assert_int_equal(sv_at(env, &p, 9), -1);
	assert_int_equal(sv_at(env, &p, 10), 100);
	assert_int_equal(sv_at(env, &p, 14), 100);
	assert_int_equal(sv_at(env, &p, 15), 150);
	assert_int_equal(sv_at(env, &p, 19), 150);
	assert_int_equal(sv_at(env, &p, CAIRN_VOS_EPOCH_MAX), 200);
	/* same epoch: last one wins and the old location is handed back at once */
	v = LOC(151, 1);
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 15, 0, &v), 0);
	assert_int_equal(sv_at(env, &p, 15), 151);
	assert_int_equal(env->nfreed, 1);
	assert_int_equal(env->freed[0], 150);
	/* punch and update at the same epoch: application order decides */
	assert_int_equal(cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_AKEY, 30, 0), 0);
	assert_int_equal(sv_at(env, &p, 30), -1);
	v = LOC(300, 1);
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 30, 0, &v), 0);
	assert_int_equal(sv_at(env, &p, 30), 300);
	assert_int_equal(cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_DKEY, 30, 0), 0);
	assert_int_equal(sv_at(env, &p, 30), -1);
	assert_int_equal(sv_at(env, &p, 29), 200);
	/* inline bytes come back */
	v = INL("hello");
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 40, 0, &v), 0);
	assert_int_equal(cairn_vos_idx_sv_fetch(env->cont, &p, 41, &v, &ve), 0);
	assert_int_equal(v.kind, CAIRN_VOS_REC_INLINE);
	assert_int_equal(v.len, 5);
	assert_memory_equal(v.inl, "hello", 5);
	assert_int_equal(ve, 40);
}

static void
test_punch_absent_then_late_update(void **state)
{
	struct env *env = *state;
	struct cairn_vos_idx_path p = P(7, "d", "a");
	struct cairn_vos_idx_vrec v = LOC(4096, 1);

	/* punching something that was never written is recorded */
	assert_int_equal(cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_OBJ, 50, 0), 0);
	assert_int_equal(
	        cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_OBJ, 60, CAIRN_VOS_IDX_COND_PUNCH),
	        -CAIRN_ERR_NONEXIST);
	/* an update at an older epoch arrives after the punch: hidden from 50 on */
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 40, 0, &v), 0);
	assert_int_equal(sv_at(env, &p, 45), 4096);
	assert_int_equal(sv_at(env, &p, 50), -1);
	assert_int_equal(cairn_vos_idx_exists(env->cont, &p, CAIRN_VOS_IDX_OBJ, 45), 1);
	assert_int_equal(cairn_vos_idx_exists(env->cont, &p, CAIRN_VOS_IDX_OBJ, 55), 0);
	assert_int_equal(cairn_vos_idx_exists(env->cont, &p, CAIRN_VOS_IDX_DKEY, 55), 0);
	assert_int_equal(
	        cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_OBJ, 45, CAIRN_VOS_IDX_COND_PUNCH),
	        0);
	assert_int_equal(sv_at(env, &p, 45), -1);
	assert_int_equal(sv_at(env, &p, 44), 4096);
}

static void
test_conditional(void **state)
{
	struct env *env = *state;
	struct cairn_vos_idx_path p = P(1, "d", "a"), q = P(1, "d", "b");
	struct cairn_vos_idx_vrec v = LOC(4096, 1);

	assert_int_equal(
	        cairn_vos_idx_sv_update(env->cont, &p, 10, CAIRN_VOS_IDX_COND_AKEY_UPDATE, &v),
	        -CAIRN_ERR_NONEXIST);
	assert_int_equal(
	        cairn_vos_idx_sv_update(env->cont, &p, 10, CAIRN_VOS_IDX_COND_DKEY_UPDATE, &v),
	        -CAIRN_ERR_NONEXIST);
	assert_int_equal(
	        cairn_vos_idx_sv_update(env->cont, &p, 10, CAIRN_VOS_IDX_COND_AKEY_INSERT, &v), 0);
	assert_int_equal(
	        cairn_vos_idx_sv_update(env->cont, &p, 11, CAIRN_VOS_IDX_COND_AKEY_INSERT, &v),
	        -CAIRN_ERR_EXIST);
	/* evaluated at the op's epoch: before 10 the akey does not exist */
	v.off = 8192;
	assert_int_equal(
	        cairn_vos_idx_sv_update(env->cont, &p, 5, CAIRN_VOS_IDX_COND_AKEY_INSERT, &v), 0);
	assert_int_equal(
	        cairn_vos_idx_sv_update(env->cont, &q, 12, CAIRN_VOS_IDX_COND_DKEY_INSERT, &v),
	        -CAIRN_ERR_EXIST);
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &q, 12,
	                                         CAIRN_VOS_IDX_COND_DKEY_UPDATE |
	                                                 CAIRN_VOS_IDX_COND_AKEY_INSERT,
	                                         &v),
	                 0);
	/* after a punch the key is absent again */
	assert_int_equal(cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_AKEY, 20,
	                                     CAIRN_VOS_IDX_COND_PUNCH),
	                 0);
	assert_int_equal(cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_AKEY, 21,
	                                     CAIRN_VOS_IDX_COND_PUNCH),
	                 -CAIRN_ERR_NONEXIST);
	assert_int_equal(
	        cairn_vos_idx_sv_update(env->cont, &p, 22, CAIRN_VOS_IDX_COND_AKEY_INSERT, &v), 0);
	assert_int_equal(cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_AKEY, 21,
	                                     CAIRN_VOS_IDX_COND_PUNCH | 0x100),
	                 -CAIRN_ERR_INVAL);
}

static void
test_types_and_rsize(void **state)
{
	struct env *env = *state;
	struct cairn_vos_idx_path p = P(1, "d", "a");
	struct cairn_vos_idx_vrec v = LOC(4096, 16);
	enum cairn_vos_idx_vtype t;
	uint32_t rs;
	bool done;

	assert_int_equal(cairn_vos_idx_akey_type(env->cont, &p, &t, &rs), -CAIRN_ERR_NONEXIST);
	assert_int_equal(cairn_vos_idx_array_update(env->cont, &p, 10, 0, 4, 0, 4, &v), 0);
	assert_int_equal(cairn_vos_idx_akey_type(env->cont, &p, &t, &rs), 0);
	assert_int_equal(t, CAIRN_VOS_IDX_ARRAY);
	assert_int_equal(rs, 4);
	v.len = 8;
	assert_int_equal(cairn_vos_idx_array_update(env->cont, &p, 11, 0, 8, 0, 1, &v),
	                 -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 11, 0, &v), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_vos_idx_sv_fetch(env->cont, &p, 11, &v, NULL), -CAIRN_ERR_INVAL);
	/* once punched and aggregated away, the akey may change type */
	assert_int_equal(cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_AKEY, 12, 0), 0);
	assert_int_equal(cairn_vos_idx_aggregate(env->cont, 13, 100, &done), 0);
	assert_true(done);
	assert_int_equal(env->nfreed, 1);
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 14, 0, &v), 0);
	assert_int_equal(cairn_vos_idx_akey_type(env->cont, &p, &t, &rs), 0);
	assert_int_equal(t, CAIRN_VOS_IDX_SINGLE);
	assert_int_equal(rs, 0);
}

/* An akey emptied by aggregation but kept alive by a newer punch may change type; its
 * record array was sized for the other record kind (ASan checks the reuse). */
static void
test_type_change_after_empty(void **state)
{
	struct env *env = *state;
	struct cairn_vos_idx_path p = P(1, "d", "a");
	struct cairn_vos_idx_vrec v;
	struct cairn_vos_idx_stats st;
	uint32_t i;
	bool done;

	for (i = 0; i < 5; i++) {
		v = LOC((i + 1) * 4096, 4);
		assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 10 + i, 0, &v), 0);
	}
	assert_int_equal(cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_AKEY, 20, 0), 0);
	assert_int_equal(cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_AKEY, 100, 0), 0);
	assert_int_equal(cairn_vos_idx_aggregate(env->cont, 50, 10, &done), 0);
	assert_true(done);
	assert_int_equal(env->nfreed, 5);
	cairn_vos_idx_stats(env->idx, &st);
	assert_int_equal(st.akeys, 1); /* kept by the punch at 100 */
	assert_int_equal(st.versions, 0);
	for (i = 0; i < 9; i++) {
		v = LOC((10 + i) * 4096, 4 * 3);
		assert_int_equal(
		        cairn_vos_idx_array_update(env->cont, &p, 60 + i, 0, 4, i * 2, 3, &v), 0);
	}
	{
		struct cairn_vos_idx_piece pc[16];
		uint32_t n;

		assert_int_equal(
		        cairn_vos_idx_array_fetch(env->cont, &p, 99, 0, 20, pc, 16, &n, NULL), 0);
		assert_int_equal(pc[0].rec.off, 10 * 4096);
		assert_int_equal(
		        cairn_vos_idx_array_fetch(env->cont, &p, 100, 0, 20, pc, 16, &n, NULL),
		        -CAIRN_ERR_NONEXIST);
	}
	/* and back: punch everything again, aggregate, become a single value */
	assert_int_equal(cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_AKEY, 200, 0), 0);
	assert_int_equal(cairn_vos_idx_aggregate(env->cont, 150, 10, &done), 0);
	assert_true(done);
	assert_int_equal(env->nfreed, 14);
	v = INL("sv-again");
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 201, 0, &v), 0);
	v = INL("sv-again-2");
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 202, 0, &v), 0);
	assert_int_equal(cairn_vos_idx_sv_fetch(env->cont, &p, 300, &v, NULL), 0);
	assert_memory_equal(v.inl, "sv-again-2", 10);
}

/* The container remembers the last object looked up: it must forget it when aggregation
 * frees that object (ASan checks the access). */
static void
test_obj_removed_after_lookup(void **state)
{
	struct env *env = *state;
	struct cairn_vos_idx_path p = P(9, "d", "a");
	struct cairn_vos_idx_vrec v = LOC(4096, 1);
	bool done;

	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 10, 0, &v), 0);
	assert_int_equal(cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_OBJ, 20, 0), 0);
	assert_int_equal(sv_at(env, &p, 15), 4096); /* object 9 is now the remembered one */
	assert_int_equal(cairn_vos_idx_aggregate(env->cont, 30, 10, &done), 0);
	assert_true(done);
	assert_int_equal(env->nfreed, 1);
	assert_int_equal(sv_at(env, &p, 40), -1);
	assert_int_equal(cairn_vos_idx_exists(env->cont, &p, CAIRN_VOS_IDX_OBJ, 40), 0);
	v.off = 8192;
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 50, 0, &v), 0);
	assert_int_equal(sv_at(env, &p, 50), 8192);
}

static void
test_array_pieces(void **state)
{
	struct env *env = *state;
	struct cairn_vos_idx_path p = P(1, "d", "arr");
	struct cairn_vos_idx_vrec v;
	struct cairn_vos_idx_piece pc[8];
	uint32_t n, rs;

	/* [0,10)@10 off 1000, [4,6)@20 off 2000, hole [8,12)@30 */
	v = LOC(1000, 10 * 512);
	assert_int_equal(cairn_vos_idx_array_update(env->cont, &p, 10, 0, 512, 0, 10, &v), 0);
	v = LOC(2000, 2 * 512);
	assert_int_equal(cairn_vos_idx_array_update(env->cont, &p, 20, 0, 512, 4, 2, &v), 0);
	assert_int_equal(cairn_vos_idx_array_update(env->cont, &p, 30, 0, 512, 8, 4, &HOLE), 0);
	assert_int_equal(cairn_vos_idx_array_fetch(env->cont, &p, 40, 2, 12, pc, 8, &n, &rs), 0);
	assert_int_equal(rs, 512);
	assert_int_equal(n, 4);
	assert_int_equal(pc[0].index, 2);
	assert_int_equal(pc[0].count, 2);
	assert_int_equal(pc[0].rec.off, 1000);
	assert_int_equal(pc[0].rec_off, 2 * 512);
	assert_int_equal(pc[0].epoch, 10);
	assert_int_equal(pc[1].index, 4);
	assert_int_equal(pc[1].count, 2);
	assert_int_equal(pc[1].rec.off, 2000);
	assert_int_equal(pc[1].rec_off, 0);
	assert_int_equal(pc[2].index, 6);
	assert_int_equal(pc[2].count, 2);
	assert_int_equal(pc[2].rec_off, 6 * 512);
	/* hole from the removal and the never-written tail merge into one piece */
	assert_int_equal(pc[3].index, 8);
	assert_int_equal(pc[3].count, 6);
	assert_int_equal(pc[3].rec.kind, CAIRN_VOS_REC_HOLE);
	/* at epoch 25 the removal is not there yet */
	assert_int_equal(cairn_vos_idx_array_fetch(env->cont, &p, 25, 8, 2, pc, 8, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pc[0].rec.off, 1000);
	/* TRUNC says how many pieces are needed */
	assert_int_equal(cairn_vos_idx_array_fetch(env->cont, &p, 40, 0, 14, pc, 2, &n, NULL),
	                 -CAIRN_ERR_TRUNC);
	assert_int_equal(n, 4);
	/* before the first write the akey does not exist */
	assert_int_equal(cairn_vos_idx_array_fetch(env->cont, &p, 5, 0, 1, pc, 8, &n, NULL),
	                 -CAIRN_ERR_NONEXIST);
	/* an array whose visible records are all holes does not exist */
	assert_int_equal(cairn_vos_idx_array_update(env->cont, &p, 50, 0, 512, 0, 8, &HOLE), 0);
	assert_int_equal(cairn_vos_idx_exists(env->cont, &p, CAIRN_VOS_IDX_AKEY, 50), 0);
	assert_int_equal(cairn_vos_idx_exists(env->cont, &p, CAIRN_VOS_IDX_AKEY, 49), 1);
	assert_int_equal(cairn_vos_idx_array_fetch(env->cont, &p, 50, 0, 1, pc, 8, &n, NULL),
	                 -CAIRN_ERR_NONEXIST);
}

struct collect {
	char keys[64][16];
	uint32_t n;
	uint32_t stop_after;
	struct env *env;
	int insert_during; /* insert keys while enumerating */
};

static int
collect_cb(void *arg, const void *key, uint32_t len)
{
	struct collect *c = arg;

	assert_true(len < 16 && c->n < 64);
	memcpy(c->keys[c->n], key, len);
	c->keys[c->n][len] = '\0';
	c->n++;
	return c->stop_after && c->n % c->stop_after == 0 ? 1 : 0;
}

static void
test_anchor_concurrent_insert(void **state)
{
	struct env *env = *state;
	struct cairn_vos_idx_anchor *a = malloc(sizeof(*a));
	struct collect c = {.stop_after = 2};
	struct cairn_vos_idx_vrec v = LOC(4096, 1);
	const char *initial[] = {"b", "d", "f", "h", "j"};
	struct cairn_vos_idx_path p;
	uint32_t i;
	int rounds = 0;

	assert_non_null(a);
	for (i = 0; i < 5; i++) {
		p = P(1, initial[i], "a");
		assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 10, 0, &v), 0);
	}
	p = P(1, NULL, NULL);
	cairn_vos_idx_anchor_init(a);
	while (!cairn_vos_idx_anchor_is_eof(a)) {
		assert_int_equal(cairn_vos_idx_list_dkeys(env->cont, &p, 100, a, collect_cb, &c),
		                 0);
		if (rounds++ == 0) {
			/* after "b","d" were returned: one key before, one after the anchor */
			struct cairn_vos_idx_path q = P(1, "a", "a"), r = P(1, "e", "a");

			assert_int_equal(cairn_vos_idx_sv_update(env->cont, &q, 11, 0, &v), 0);
			assert_int_equal(cairn_vos_idx_sv_update(env->cont, &r, 11, 0, &v), 0);
		}
	}
	/* every key that existed throughout once, in order; the later one after the anchor too */
	assert_int_equal(c.n, 6);
	assert_string_equal(c.keys[0], "b");
	assert_string_equal(c.keys[1], "d");
	assert_string_equal(c.keys[2], "e");
	assert_string_equal(c.keys[3], "f");
	assert_string_equal(c.keys[5], "j");
	/* eof anchor stays eof; a corrupt anchor is refused */
	assert_int_equal(cairn_vos_idx_list_dkeys(env->cont, &p, 100, a, collect_cb, &c), 0);
	assert_int_equal(c.n, 6);
	cairn_vos_idx_anchor_init(a);
	a->klen = CAIRN_VOS_IDX_KEY_MAX + 1;
	assert_int_equal(cairn_vos_idx_list_dkeys(env->cont, &p, 100, a, collect_cb, &c),
	                 -CAIRN_ERR_INVAL);
	/* epoch filter: at 10 "a" and "e" did not exist */
	c.n = 0;
	c.stop_after = 0;
	cairn_vos_idx_anchor_init(a);
	assert_int_equal(cairn_vos_idx_list_dkeys(env->cont, &p, 10, a, collect_cb, &c), 0);
	assert_int_equal(c.n, 5);
	free(a);
}

static void
test_snapshots_and_bounds(void **state)
{
	struct env *env = *state;
	struct cairn_vos_idx_path p = P(1, "d", "a");
	struct cairn_vos_idx_vrec v;
	uint64_t snaps[4];
	uint32_t n, i;
	bool done;

	for (i = 1; i <= 6; i++) {
		v = LOC(i * 4096, 1);
		assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, i * 10, 0, &v), 0);
	}
	assert_int_equal(cairn_vos_idx_snap_create(env->cont, 25), 0);
	assert_int_equal(cairn_vos_idx_snap_create(env->cont, 15), 0);
	assert_int_equal(cairn_vos_idx_snap_create(env->cont, 25), -CAIRN_ERR_EXIST);
	assert_int_equal(cairn_vos_idx_snap_create(env->cont, 0), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_vos_idx_snap_list(env->cont, snaps, 1, &n), -CAIRN_ERR_TRUNC);
	assert_int_equal(n, 2);
	assert_int_equal(cairn_vos_idx_snap_list(env->cont, snaps, 4, &n), 0);
	assert_int_equal(snaps[0], 15);
	assert_int_equal(snaps[1], 25);
	/* aggregate to 45: keep the versions seen at 15 (10), 25 (20) and 45 (40) */
	assert_int_equal(cairn_vos_idx_aggregate(env->cont, 45, 10, &done), 0);
	assert_true(done);
	assert_int_equal(env->nfreed, 1);
	assert_int_equal(env->freed[0], 3 * 4096);
	assert_int_equal(sv_at(env, &p, 15), 4096);
	assert_int_equal(sv_at(env, &p, 25), 2 * 4096);
	assert_int_equal(sv_at(env, &p, 45), 4 * 4096);
	assert_int_equal(sv_at(env, &p, 55), 5 * 4096);
	/* below the bound: refused */
	v = LOC(99 * 4096, 1);
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 45, 0, &v), -CAIRN_ERR_STALE);
	assert_int_equal(cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_OBJ, 30, 0),
	                 -CAIRN_ERR_STALE);
	assert_int_equal(cairn_vos_idx_snap_create(env->cont, 44), -CAIRN_ERR_STALE);
	assert_int_equal(cairn_vos_idx_snap_create(env->cont, 45), 0);
	assert_int_equal(cairn_vos_idx_aggregate(env->cont, 44, 10, &done), -CAIRN_ERR_STALE);
	assert_int_equal(cairn_vos_idx_aggregate(env->cont, 45, 0, &done), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_vos_idx_agg_bound(env->cont), 45);
	/* drop the snapshots: the next pass merges what only they could see */
	assert_int_equal(cairn_vos_idx_snap_destroy(env->cont, 15), 0);
	assert_int_equal(cairn_vos_idx_snap_destroy(env->cont, 25), 0);
	assert_int_equal(cairn_vos_idx_snap_destroy(env->cont, 25), -CAIRN_ERR_NONEXIST);
	assert_int_equal(cairn_vos_idx_aggregate(env->cont, 100, 10, &done), 0);
	assert_true(done);
	assert_int_equal(env->nfreed, 4); /* 10, 20 and 50; 40 stays for the snapshot at 45 */
	assert_int_equal(sv_at(env, &p, 45), 4 * 4096);
	assert_int_equal(sv_at(env, &p, 100), 6 * 4096);
}

static void
test_aggregate_incremental(void **state)
{
	struct env *env = *state;
	struct cairn_vos_idx_vrec v;
	struct cairn_vos_idx_stats st;
	char dk[16];
	uint32_t i, calls = 0;
	bool done = false;

	/* 100 dkeys, 3 versions each, all punched at the object level at 50 */
	for (i = 0; i < 100; i++) {
		struct cairn_vos_idx_path p;

		snprintf(dk, sizeof(dk), "k%03u", i);
		p = P(3, dk, "a");
		for (uint32_t e = 1; e <= 3; e++) {
			v = LOC((i * 3 + e) * 4096, 1);
			assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 10 * e, 0, &v), 0);
		}
	}
	{
		struct cairn_vos_idx_path p = P(3, NULL, NULL);

		assert_int_equal(cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_OBJ, 50, 0), 0);
	}
	while (!done) {
		uint32_t before = env->nfreed;

		assert_int_equal(cairn_vos_idx_aggregate(env->cont, 60, 7, &done), 0);
		/* bounded: at most 7 dkeys (3 locations each) per call */
		assert_true(env->nfreed - before <= 21);
		calls++;
		assert_true(calls < 100);
		/* between calls, foreground updates above the bound go on */
		{
			struct cairn_vos_idx_path p = P(4, "x", "a");

			v = LOC((1000 + calls) * 4096, 1);
			assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 60 + calls, 0, &v),
			                 0);
		}
	}
	assert_true(calls >= 15);
	assert_int_equal(env->nfreed, 300);
	cairn_vos_idx_stats(env->idx, &st);
	/* object 3 is gone entirely (punch included); object 4's versions are above the bound */
	assert_int_equal(st.objs, 1);
	assert_int_equal(st.dkeys, 1);
	assert_int_equal(st.punches, 0);
	assert_int_equal(st.versions, calls);
}

static void
test_containers_and_destroy(void **state)
{
	struct env *env = *state;
	struct cairn_vos_idx_cont *c2, *c3;
	const uint8_t u2[16] = {9}, u0[16] = {0};
	struct cairn_vos_idx_path p = P(1, "d", "a");
	struct cairn_vos_idx_vrec v;
	uint32_t i;

	assert_int_equal(cairn_vos_idx_cont_create(env->idx, g_uuid, NULL), -CAIRN_ERR_EXIST);
	assert_int_equal(cairn_vos_idx_cont_create(env->idx, u2, &c2), 0);
	assert_int_equal(cairn_vos_idx_cont_create(env->idx, u0, NULL), 0);
	assert_int_equal(cairn_vos_idx_cont_lookup(env->idx, u2, &c3), 0);
	assert_ptr_equal(c2, c3);
	assert_memory_equal(cairn_vos_idx_cont_uuid(c2), u2, 16);
	for (i = 0; i < 50; i++) {
		v = LOC(i * 4096, 1);
		assert_int_equal(cairn_vos_idx_sv_update(c2, &p, i + 1, 0, &v), 0);
		v = LOC((100 + i) * 4096, 4);
		assert_int_equal(cairn_vos_idx_array_update(c2, &p, i + 1, 0, 4, i, 1, &v),
		                 -CAIRN_ERR_INVAL); /* same akey is single-value */
	}
	v = INL("abc");
	assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 1, 0, &v), 0);
	assert_int_equal(cairn_vos_idx_cont_destroy(env->idx, u2), 0);
	assert_int_equal(env->nfreed, 50);
	for (i = 0; i < 50; i++)
		assert_int_equal(env->freed[i], i * 4096);
	assert_int_equal(cairn_vos_idx_cont_destroy(env->idx, u2), -CAIRN_ERR_NONEXIST);
	assert_int_equal(cairn_vos_idx_cont_lookup(env->idx, u2, &c3), -CAIRN_ERR_NONEXIST);
	/* the other container is untouched */
	assert_int_equal(cairn_vos_idx_sv_fetch(env->cont, &p, 5, &v, NULL), 0);
	assert_memory_equal(v.inl, "abc", 3);
}

static int
loc_cb(void *arg, const uint8_t uuid[16], const struct cairn_vos_idx_vrec *rec)
{
	(*(uint64_t *)arg) += rec->len;
	return 0;
}

static void
test_large_tables(void **state)
{
	struct env *env = *state;
	struct cairn_vos_idx_vrec v;
	struct cairn_vos_idx_path p;
	struct cairn_vos_idx_stats st;
	char dk[32];
	uint64_t total = 0;
	uint32_t i, n = 20000;

	/* many dkeys in one object (hash rehash, tall skip lists), then delete half */
	for (i = 0; i < n; i++) {
		snprintf(dk, sizeof(dk), "key-%u", i * 7919u % 100003u);
		p = P(5, dk, "a");
		v = LOC((uint64_t)i * 4096, 3);
		assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 10, 0, &v), 0);
	}
	for (i = 0; i < n; i++) {
		snprintf(dk, sizeof(dk), "key-%u", i * 7919u % 100003u);
		p = P(5, dk, "a");
		assert_int_equal(sv_at(env, &p, 10), (int64_t)i * 4096);
		if (i % 2)
			assert_int_equal(
			        cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_DKEY, 20, 0), 0);
	}
	{
		bool done = false;

		while (!done)
			assert_int_equal(cairn_vos_idx_aggregate(env->cont, 30, 1000, &done), 0);
	}
	cairn_vos_idx_stats(env->idx, &st);
	assert_int_equal(st.dkeys, n / 2);
	assert_int_equal(env->nfreed, n / 2);
	for (i = 0; i < n; i++) {
		snprintf(dk, sizeof(dk), "key-%u", i * 7919u % 100003u);
		p = P(5, dk, "a");
		assert_int_equal(sv_at(env, &p, 40), i % 2 ? -1 : (int64_t)i * 4096);
	}
	assert_int_equal(cairn_vos_idx_for_each_loc(env->idx, loc_cb, &total), 0);
	assert_int_equal(total, 3ull * n / 2);
}

/* ------------------------------------------------------------ incremental walk */

struct rbuf {
	uint8_t b[1 << 20];
	size_t n;
	uint32_t recs;
};

static void
rput(struct rbuf *r, const void *p, size_t n)
{
	assert_true(r->n + n <= sizeof(r->b));
	if (n == 0) /* empty fields may come with a NULL pointer */
		return;
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

/* A byte signature of every field a checkpoint keeps. */
static int
rec_sig(void *arg, const struct cairn_vos_idx_rec *rec)
{
	struct rbuf *r = arg;

	rput(r, &rec->type, sizeof(rec->type));
	rput(r, &rec->nr, sizeof(rec->nr));
	if (rec->key != NULL)
		rput(r, rec->key, rec->klen);
	if (rec->type == CAIRN_VOS_IDX_R_OBJ || rec->type == CAIRN_VOS_IDX_R_DKEY ||
	    rec->type == CAIRN_VOS_IDX_R_AKEY)
		rput(r, rec->punches, rec->nr * sizeof(*rec->punches));
	rput(r, &rec->stamp, sizeof(rec->stamp));
	rput(r, &rec->index, sizeof(rec->index));
	rput(r, &rec->count, sizeof(rec->count));
	rput(r, &rec->vrec.kind, sizeof(rec->vrec.kind));
	rput(r, &rec->vrec.off, sizeof(rec->vrec.off));
	rput(r, &rec->next_seq, sizeof(rec->next_seq));
	r->recs++;
	return 0;
}

struct skip_one {
	const char *dkey;
	uint32_t calls;
};

/* Hook: skip one dkey (as if its pre-image said "absent"), emit the rest live. */
static int
skip_hook(void *arg, struct cairn_vos_idx_cont *cont, uint32_t level, const uint8_t oid[16],
          const void *dkey, uint32_t dlen)
{
	struct skip_one *s = arg;

	(void)cont;
	(void)oid;
	s->calls++;
	return level == CAIRN_VOS_IDX_DKEY && dlen == strlen(s->dkey) &&
	       memcmp(dkey, s->dkey, dlen) == 0;
}

static struct skip_one *g_skip;

static int
skip_hook_g(void *arg, struct cairn_vos_idx_cont *cont, uint32_t level, const uint8_t oid[16],
            const void *dkey, uint32_t dlen)
{
	(void)arg;
	return skip_hook(g_skip, cont, level, oid, dkey, dlen);
}

static void
test_walker_steps(void **state)
{
	struct env *env = *state;
	static struct rbuf full, part, one;
	static const uint8_t uuid2[16] = {9, 9};
	struct cairn_vos_idx_cont *c2;
	struct cairn_vos_idx_walker *w;
	struct cairn_vos_idx_path p;
	struct cairn_vos_idx_vrec v;
	struct skip_one sk = {.dkey = "d07"};
	char dk[16];
	uint32_t o, d, budget, full_recs;
	bool done;

	assert_int_equal(cairn_vos_idx_cont_create(env->idx, uuid2, &c2), 0);
	for (o = 1; o <= 3; o++) {
		for (d = 0; d < 20; d++) {
			snprintf(dk, sizeof(dk), "d%02u", d);
			p = P(o, dk, "a");
			v = LOC((o * 100 + d) * 4096, 10);
			assert_int_equal(cairn_vos_idx_sv_update(env->cont, &p, 5, 0, &v), 0);
			p = P(o, dk, "b");
			v = INL("xy");
			assert_int_equal(cairn_vos_idx_sv_update(o == 2 ? c2 : env->cont, &p, 6, 0,
			                                         &v), 0);
		}
		p = P(o, NULL, NULL);
		assert_int_equal(cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_OBJ, 7, 0), 0);
	}
	p = P(9, NULL, NULL); /* an object with no dkeys (punched, never written) */
	assert_int_equal(cairn_vos_idx_punch(env->cont, &p, CAIRN_VOS_IDX_OBJ, 3, 0), 0);
	assert_int_equal(cairn_vos_idx_walk(env->idx, rec_sig, &full), 0);
	full_recs = full.recs;

	/* Any step size emits exactly what the one-shot walk emits. */
	for (budget = 1; budget <= 64; budget = budget * 3 + 1) {
		memset(&part, 0, sizeof(part));
		assert_int_equal(cairn_vos_idx_walker_create(env->idx, rec_sig, NULL, &part, &w), 0);
		p = P(1, "d00", NULL);
		assert_false(cairn_vos_idx_walker_passed(w, env->cont, &p, CAIRN_VOS_IDX_OBJ));
		done = false;
		while (!done) {
			assert_int_equal(cairn_vos_idx_walker_step(w, budget, &done), 0);
			if (budget == 1 && part.recs > 3 && part.recs < 10) {
				/* one dkey of object 1 done: it is passed, the next one is not */
				p = P(1, "d00", NULL);
				assert_true(cairn_vos_idx_walker_passed(w, env->cont, &p,
				                                        CAIRN_VOS_IDX_DKEY));
				p = P(1, "d01", NULL);
				assert_false(cairn_vos_idx_walker_passed(w, env->cont, &p,
				                                         CAIRN_VOS_IDX_DKEY));
				assert_true(cairn_vos_idx_walker_passed(w, env->cont, &p,
				                                        CAIRN_VOS_IDX_OBJ));
				p = P(2, "d00", NULL);
				assert_false(cairn_vos_idx_walker_passed(w, env->cont, &p,
				                                         CAIRN_VOS_IDX_OBJ));
				assert_false(cairn_vos_idx_walker_passed(w, c2, &p,
				                                         CAIRN_VOS_IDX_DKEY));
			}
		}
		p = P(2, "d19", NULL);
		assert_true(cairn_vos_idx_walker_passed(w, c2, &p, CAIRN_VOS_IDX_DKEY));
		cairn_vos_idx_walker_destroy(w);
		assert_int_equal(part.n, full.n);
		assert_memory_equal(part.b, full.b, full.n);
	}

	/* The hook replaces a dkey's subtree: skipping "d07" drops its DKEY + 2 AKEY + 2 SV
	 * records in objects 1 and 3 (cont 1) and DKEY + 1 AKEY + 1 SV in object 2 (and
	 * the cont 2 copies), and it is asked once per object and per dkey. */
	memset(&one, 0, sizeof(one));
	g_skip = &sk;
	assert_int_equal(cairn_vos_idx_walker_create(env->idx, rec_sig, skip_hook_g, &one, &w), 0);
	done = false;
	while (!done)
		assert_int_equal(cairn_vos_idx_walker_step(w, 5, &done), 0);
	cairn_vos_idx_walker_destroy(w);
	assert_int_equal(one.recs, full_recs - 5 - 3 - 5 - 3);
	assert_int_equal(sk.calls, 4 + 3 * 20 + 1 + 20);

	/* walk_one: the records of one dkey subtree / one object record */
	memset(&one, 0, sizeof(one));
	p = P(1, "d03", NULL);
	assert_int_equal(cairn_vos_idx_walk_one(env->cont, &p, CAIRN_VOS_IDX_DKEY, rec_sig, &one),
	                 0);
	assert_int_equal(one.recs, 5);
	memset(&one, 0, sizeof(one));
	assert_int_equal(cairn_vos_idx_walk_one(env->cont, &p, CAIRN_VOS_IDX_OBJ, rec_sig, &one),
	                 0);
	assert_int_equal(one.recs, 1);
	p = P(1, "zz", NULL);
	assert_int_equal(cairn_vos_idx_walk_one(env->cont, &p, CAIRN_VOS_IDX_DKEY, rec_sig, &one),
	                 -CAIRN_ERR_NONEXIST);
	p = P(42, "d03", NULL);
	assert_int_equal(cairn_vos_idx_walk_one(env->cont, &p, CAIRN_VOS_IDX_OBJ, rec_sig, &one),
	                 -CAIRN_ERR_NONEXIST);
	p = P(1, NULL, NULL);
	assert_int_equal(cairn_vos_idx_walk_one(env->cont, &p, CAIRN_VOS_IDX_DKEY, rec_sig, &one),
	                 -CAIRN_ERR_INVAL);
}

/* ------------------------------------------------------------ checkpoint load */

static struct cairn_vos_idx *
fresh(struct env *env)
{
	struct cairn_vos_idx_opts o = {.opts_size = sizeof(o), .free_hook = hook, .free_arg = env};
	struct cairn_vos_idx *x;

	assert_int_equal(cairn_vos_idx_create(&o, &x), 0);
	return x;
}

static void
test_load_rejects(void **state)
{
	struct env *env = *state;
	struct cairn_vos_idx *x;
	struct cairn_vos_idx_rec idxr = {.type = CAIRN_VOS_IDX_R_IDX, .next_seq = 10};
	struct cairn_vos_idx_rec cont = {.type = CAIRN_VOS_IDX_R_CONT, .key = g_uuid, .klen = 16};
	uint8_t ok[16] = {0};
	struct cairn_vos_idx_rec obj = {.type = CAIRN_VOS_IDX_R_OBJ, .key = ok, .klen = 16};
	struct cairn_vos_idx_rec dk = {.type = CAIRN_VOS_IDX_R_DKEY, .key = "d", .klen = 1};
	struct cairn_vos_idx_rec ak = {
	        .type = CAIRN_VOS_IDX_R_AKEY, .key = "a", .klen = 1, .vtype = CAIRN_VOS_IDX_SINGLE};
	struct cairn_vos_idx_rec sv = {.type = CAIRN_VOS_IDX_R_SV, .stamp = {5, 3}};
	struct cairn_vos_idx_rec bad;
	struct cairn_vos_idx_stamp punches[2] = {{7, 4}, {6, 5}};
	uint64_t snaps[2] = {9, 9};

	sv.vrec.kind = CAIRN_VOS_REC_LOC;
	sv.vrec.len = 1;
	/* order: IDX first */
	x = fresh(env);
	assert_int_equal(cairn_vos_idx_load(x, &cont), -CAIRN_ERR_CORRUPT);
	cairn_vos_idx_destroy(x);
	x = fresh(env);
	assert_int_equal(cairn_vos_idx_load(x, &obj), -CAIRN_ERR_CORRUPT);
	cairn_vos_idx_destroy(x);
	/* a good sequence loads */
	x = fresh(env);
	assert_int_equal(cairn_vos_idx_load(x, &idxr), 0);
	assert_int_equal(cairn_vos_idx_load(x, &idxr), -CAIRN_ERR_CORRUPT);
	assert_int_equal(cairn_vos_idx_load(x, &cont), 0);
	assert_int_equal(cairn_vos_idx_load(x, &cont), -CAIRN_ERR_CORRUPT); /* not ascending */
	assert_int_equal(cairn_vos_idx_load(x, &dk), -CAIRN_ERR_CORRUPT);   /* no object yet */
	assert_int_equal(cairn_vos_idx_load(x, &obj), 0);
	assert_int_equal(cairn_vos_idx_load(x, &obj), -CAIRN_ERR_CORRUPT); /* duplicate */
	assert_int_equal(cairn_vos_idx_load(x, &sv), -CAIRN_ERR_CORRUPT);  /* no akey */
	assert_int_equal(cairn_vos_idx_load(x, &dk), 0);
	bad = ak;
	bad.vtype = 7;
	assert_int_equal(cairn_vos_idx_load(x, &bad), -CAIRN_ERR_CORRUPT);
	bad = ak;
	bad.klen = CAIRN_VOS_IDX_KEY_MAX + 1;
	assert_int_equal(cairn_vos_idx_load(x, &bad), -CAIRN_ERR_CORRUPT);
	bad = ak;
	bad.nr = 2;
	bad.punches = punches; /* not sorted */
	assert_int_equal(cairn_vos_idx_load(x, &bad), -CAIRN_ERR_CORRUPT);
	assert_int_equal(cairn_vos_idx_load(x, &ak), 0);
	bad = sv;
	bad.stamp.seq = 10; /* >= next_seq */
	assert_int_equal(cairn_vos_idx_load(x, &bad), -CAIRN_ERR_CORRUPT);
	bad = sv;
	bad.vrec.kind = CAIRN_VOS_REC_HOLE;
	assert_int_equal(cairn_vos_idx_load(x, &bad), -CAIRN_ERR_CORRUPT);
	bad = sv;
	bad.type = CAIRN_VOS_IDX_R_EXT;
	assert_int_equal(cairn_vos_idx_load(x, &bad), -CAIRN_ERR_CORRUPT);
	assert_int_equal(cairn_vos_idx_load(x, &sv), 0);
	assert_int_equal(cairn_vos_idx_load(x, &sv), -CAIRN_ERR_CORRUPT); /* same epoch twice */
	bad = sv;
	bad.type = 99;
	assert_int_equal(cairn_vos_idx_load(x, &bad), -CAIRN_ERR_CORRUPT);
	{
		struct cairn_vos_idx_cont *c;
		struct cairn_vos_idx_path p = P(0, "d", "a");

		assert_int_equal(cairn_vos_idx_cont_lookup(x, g_uuid, &c), 0);
		assert_int_equal(sv_at(&(struct env){.cont = c}, &p, 5), 0);
	}
	cairn_vos_idx_destroy(x);
	/* container records: duplicate snapshots, cursor without a pass */
	x = fresh(env);
	assert_int_equal(cairn_vos_idx_load(x, &idxr), 0);
	bad = cont;
	bad.nr = 2;
	bad.snaps = snaps;
	assert_int_equal(cairn_vos_idx_load(x, &bad), -CAIRN_ERR_CORRUPT);
	bad = cont;
	bad.cursor_oid_valid = 1;
	assert_int_equal(cairn_vos_idx_load(x, &bad), -CAIRN_ERR_CORRUPT);
	bad = cont;
	bad.agg_active = 1;
	bad.cursor_klen = 3;
	assert_int_equal(cairn_vos_idx_load(x, &bad), -CAIRN_ERR_CORRUPT); /* NULL cursor key */
	cairn_vos_idx_destroy(x);
	/* an array extent overflowing 64 bits */
	x = fresh(env);
	assert_int_equal(cairn_vos_idx_load(x, &idxr), 0);
	assert_int_equal(cairn_vos_idx_load(x, &cont), 0);
	assert_int_equal(cairn_vos_idx_load(x, &obj), 0);
	assert_int_equal(cairn_vos_idx_load(x, &dk), 0);
	bad = ak;
	bad.vtype = CAIRN_VOS_IDX_ARRAY;
	bad.rsize = 0;
	assert_int_equal(cairn_vos_idx_load(x, &bad), -CAIRN_ERR_CORRUPT);
	bad.rsize = 1;
	assert_int_equal(cairn_vos_idx_load(x, &bad), 0);
	bad = sv;
	bad.type = CAIRN_VOS_IDX_R_EXT;
	bad.index = UINT64_MAX;
	bad.count = 1;
	assert_int_equal(cairn_vos_idx_load(x, &bad), -CAIRN_ERR_CORRUPT);
	cairn_vos_idx_destroy(x);
	assert_int_equal(env->nfreed, 0); /* destroy never calls the hook */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_mvcc_and_same_epoch, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_punch_absent_then_late_update, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_conditional, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_types_and_rsize, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_type_change_after_empty, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_obj_removed_after_lookup, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_array_pieces, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_anchor_concurrent_insert, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_snapshots_and_bounds, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_aggregate_incremental, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_containers_and_destroy, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_large_tables, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_load_rejects, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_walker_steps, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
