/*
 * Unit tests of the engine's array-value handlers (src/engine/srv_obj_array.c) on a real
 * VOS pool (malloc bdev, real runtime, handlers called in a ULT on the target xstream,
 * inline data: no network needed): extents with holes, record-size checks, request
 * validation, akey listing with paging, the max-key query, truncation.
 */
#include "../vos/vos_test.h"

#include "engine/proto.h"

#include "srv_internal.h"

static const uint8_t g_cont[16] = {0xc0, 0x17};
static const uint8_t g_pool_uuid[16] = {0xaa, 0x01};

struct ctx {
	struct cairn_vos_pool *vp;
};

/* One handler call with inline data; out/obuf/anchor released by the caller (rel). */
struct call {
	struct obj_in in;
	struct obj_out out;
	struct proto_recx rx;
	struct proto_list_pos pos;
	void *obuf;
	struct cairn_vos_anchor *anchor;
};

static void
rel(struct call *c)
{
	free(c->obuf);
	free(c->anchor);
	c->obuf = NULL;
	c->anchor = NULL;
	memset(&c->out, 0, sizeof(c->out));
}

static int
arr(struct ctx *x, struct call *c, uint32_t opc, const void *dkey, uint32_t dkey_len,
    const char *akey, uint32_t rec_size, uint64_t idx, uint64_t nr, const void *data,
    uint32_t data_len)
{
	rel(c);
	memset(&c->in, 0, sizeof(c->in));
	c->in.oid_lo = 77;
	memcpy(c->in.cont, g_cont, 16);
	c->in.dkey = dkey;
	c->in.dkey_len = dkey_len;
	c->in.akey = akey;
	c->in.akey_len = akey ? (uint32_t)strlen(akey) : 0;
	c->rx = (struct proto_recx){.idx = idx, .nr = nr, .rec_size = rec_size};
	c->in.anchor = &c->rx;
	c->in.anchor_len = sizeof(c->rx);
	c->in.data = data;
	c->in.data_len = data_len;
	c->in.buf_size = nr * rec_size;
	return srv_obj_array_handle(NULL, opc, x->vp, &c->in, &c->out, &c->obuf, &c->anchor);
}

static void
be64(uint64_t v, uint8_t k[8])
{
	for (int i = 0; i < 8; i++)
		k[i] = (uint8_t)(v >> (56 - 8 * i));
}

static int
body_extents(void *arg)
{
	struct ctx *x = arg;
	struct call c = {0};
	uint8_t w[800], dk[8];
	const uint8_t *r;

	for (unsigned i = 0; i < sizeof(w); i++)
		w[i] = (uint8_t)(i * 7 + 1);
	be64(3, dk);
	CKRC(arr(x, &c, OBJ_RPC_ARRAY_UPDATE, dk, 8, "d", 8, 10, 100, w, 800), 0);
	CKRC(arr(x, &c, OBJ_RPC_ARRAY_UPDATE, dk, 8, "d", 8, 500, 10, w, 80), 0);
	/* more than PROTO_INLINE_MAX without bulk is refused; [0, 125) reads back with
	 * zeros in the holes and the akey's record size */
	CKRC(arr(x, &c, OBJ_RPC_ARRAY_FETCH, dk, 8, "d", 8, 0, 2000, NULL, 0), -CAIRN_ERR_INVAL);
	CKRC(arr(x, &c, OBJ_RPC_ARRAY_FETCH, dk, 8, "d", 8, 0, 1000 / 8, NULL, 0), 0);
	CK(c.out.size == 8 && c.out.data_len == 1000);
	r = c.out.data;
	for (int i = 0; i < 80; i++)
		CK(r[i] == 0);
	CK(memcmp(r + 80, w, 800) == 0);
	for (int i = 880; i < 1000; i++)
		CK(r[i] == 0);
	CKRC(arr(x, &c, OBJ_RPC_ARRAY_FETCH, dk, 8, "d", 8, 500, 10, NULL, 0), 0);
	CK(memcmp(c.out.data, w, 80) == 0);
	/* a missing akey reads as zeros with size 0 */
	CKRC(arr(x, &c, OBJ_RPC_ARRAY_FETCH, dk, 8, "nope", 4, 0, 16, NULL, 0), 0);
	CK(c.out.size == 0 && c.out.data_len == 64);
	for (int i = 0; i < 64; i++)
		CK(((const uint8_t *)c.out.data)[i] == 0);
	/* validation */
	CKRC(arr(x, &c, OBJ_RPC_ARRAY_UPDATE, dk, 8, "d", 8, 0, 10, w, 79), -CAIRN_ERR_INVAL);
	CKRC(arr(x, &c, OBJ_RPC_ARRAY_UPDATE, dk, 8, "d", 8, 0, 0, w, 0), -CAIRN_ERR_INVAL);
	CKRC(arr(x, &c, OBJ_RPC_ARRAY_UPDATE, dk, 8, "d", 0, 0, 1, w, 0), -CAIRN_ERR_INVAL);
	CKRC(arr(x, &c, OBJ_RPC_ARRAY_UPDATE, dk, 8, "d", 4, 0, 2, w, 8), -CAIRN_ERR_INVAL);
	CKRC(arr(x, &c, OBJ_RPC_ARRAY_UPDATE, dk, 8, NULL, 8, 0, 1, w, 8), -CAIRN_ERR_INVAL);
	CKRC(arr(x, &c, OBJ_RPC_ARRAY_UPDATE, dk, 8, "d", 8, UINT64_MAX - 1, 4, w, 32),
	     -CAIRN_ERR_INVAL);
	CKRC(arr(x, &c, OBJ_RPC_ARRAY_UPDATE, dk, 8, "d", 1, 0, PROTO_VALUE_MAX + 1ull, w, 0),
	     -CAIRN_ERR_OVERFLOW);
	c.in.anchor_len = 3;
	CKRC(srv_obj_array_handle(NULL, OBJ_RPC_ARRAY_FETCH, x->vp, &c.in, &c.out, &c.obuf,
	                          &c.anchor),
	     -CAIRN_ERR_INVAL);
	CKRC(srv_obj_array_handle(NULL, OBJ_RPC_COUNT, x->vp, &c.in, &c.out, &c.obuf, &c.anchor),
	     -CAIRN_ERR_NOSYS);
	rel(&c);
	return 0;
}

static int
body_akeys(void *arg)
{
	struct ctx *x = arg;
	struct call c = {0};
	uint8_t w[8] = {1}, dk[8];
	const char *names[] = {"a3", "a1", "a2"};
	char seen[16] = "";
	uint32_t len;

	be64(40, dk);
	for (int i = 0; i < 3; i++)
		CKRC(arr(x, &c, OBJ_RPC_ARRAY_UPDATE, dk, 8, names[i], 8, 0, 1, w, 8), 0);
	/* two pages of at most 2 keys: a1 a2 | a3, in key order */
	for (uint64_t skip = 0; skip < 4; skip += 2) {
		arr(x, &c, OBJ_RPC_LIST_AKEYS, dk, 8, NULL, 0, 0, 0, NULL, 0);
		c.pos = (struct proto_list_pos){.skip = skip, .max_keys = 2};
		c.in.anchor = &c.pos;
		c.in.anchor_len = sizeof(c.pos);
		c.in.buf_size = 4096;
		CKRC(srv_obj_array_handle(NULL, OBJ_RPC_LIST_AKEYS, x->vp, &c.in, &c.out, &c.obuf,
		                          &c.anchor),
		     0);
		CK(c.out.nr_keys == (skip == 0 ? 2u : 1u));
		CK(((c.out.flags & PROTO_OBJ_EOF) != 0) == (skip == 2));
		for (uint32_t k = 0, off = 0; k < c.out.nr_keys; k++) {
			memcpy(&len, (const uint8_t *)c.out.keys + off, 4);
			CK(len == 2);
			strncat(seen, (const char *)c.out.keys + off + 4, 2);
			off += 4 + len;
		}
	}
	CK(strcmp(seen, "a1a2a3") == 0);
	/* bad paging requests */
	c.pos.max_keys = 0;
	CKRC(srv_obj_array_handle(NULL, OBJ_RPC_LIST_AKEYS, x->vp, &c.in, &c.out, &c.obuf,
	                          &c.anchor),
	     -CAIRN_ERR_INVAL);
	rel(&c);
	return 0;
}

/* As arr(), on object 99 (its own dkeys, so the max-key query sees only them). */
static int
call99(struct ctx *x, struct call *c, uint32_t opc, const void *dkey, uint32_t dkey_len,
       const char *akey, uint32_t rec_size, uint64_t idx, uint64_t nr, const void *data,
       uint32_t data_len)
{
	rel(c);
	memset(&c->in, 0, sizeof(c->in));
	c->in.oid_lo = 99;
	memcpy(c->in.cont, g_cont, 16);
	c->in.dkey = dkey;
	c->in.dkey_len = dkey_len;
	c->in.akey = akey;
	c->in.akey_len = akey ? (uint32_t)strlen(akey) : 0;
	c->rx = (struct proto_recx){.idx = idx, .nr = nr, .rec_size = rec_size};
	c->in.anchor = &c->rx;
	c->in.anchor_len = sizeof(c->rx);
	c->in.data = data;
	c->in.data_len = data_len;
	c->in.buf_size = nr * rec_size;
	return srv_obj_array_handle(NULL, opc, x->vp, &c->in, &c->out, &c->obuf, &c->anchor);
}

static int
body_query_trunc99(void *arg)
{
	struct ctx *x = arg;
	struct call c = {0};
	uint8_t w[400], dk5[8], dk9[8];
	const uint8_t *r;

	memset(w, 0x5a, sizeof(w));
	be64(5, dk5);
	be64(9, dk9);
	CKRC(call99(x, &c, OBJ_RPC_QUERY_KEY, NULL, 0, "q", 0, 0, 0, NULL, 0), 0);
	CK(c.out.nr_keys == 0); /* nothing yet */
	CKRC(call99(x, &c, OBJ_RPC_ARRAY_UPDATE, dk5, 8, "q", 4, 0, 100, w, 400), 0);
	CKRC(call99(x, &c, OBJ_RPC_ARRAY_UPDATE, dk9, 8, "q", 4, 20, 30, w, 120), 0);
	CKRC(call99(x, &c, OBJ_RPC_ARRAY_UPDATE, "zzzzzzzzzz", 10, "q", 4, 0, 1, w, 4), 0);
	CKRC(call99(x, &c, OBJ_RPC_QUERY_KEY, NULL, 0, "q", 0, 0, 0, NULL, 0), 0);
	CK(c.out.nr_keys == 1 && c.out.keys_len == 8 && c.out.size == 50);
	CK(memcmp(c.out.keys, dk9, 8) == 0);
	/* cut dkey 9 to [0, 25): the kept part stays, the rest reads zeros, end = 25 */
	CKRC(call99(x, &c, OBJ_RPC_ARRAY_TRUNC, dk9, 8, "q", 4, 25, 0, NULL, 0), 0);
	CKRC(call99(x, &c, OBJ_RPC_ARRAY_FETCH, dk9, 8, "q", 4, 0, 60, NULL, 0), 0);
	r = c.out.data;
	for (int i = 0; i < 80; i++)
		CK(r[i] == 0);
	for (int i = 80; i < 100; i++)
		CK(r[i] == 0x5a);
	for (int i = 100; i < 240; i++)
		CK(r[i] == 0);
	CKRC(call99(x, &c, OBJ_RPC_QUERY_KEY, NULL, 0, "q", 0, 0, 0, NULL, 0), 0);
	CK(c.out.nr_keys == 1 && c.out.size == 25);
	/* a cut at or beyond the end changes nothing */
	CKRC(call99(x, &c, OBJ_RPC_ARRAY_TRUNC, dk9, 8, "q", 4, 1000, 0, NULL, 0), 0);
	CKRC(call99(x, &c, OBJ_RPC_QUERY_KEY, NULL, 0, "q", 0, 0, 0, NULL, 0), 0);
	CK(c.out.size == 25);
	/* cut to 0: dkey 9 holds nothing, so dkey 5 is the max */
	CKRC(call99(x, &c, OBJ_RPC_ARRAY_TRUNC, dk9, 8, "q", 4, 0, 0, NULL, 0), 0);
	CKRC(call99(x, &c, OBJ_RPC_QUERY_KEY, NULL, 0, "q", 0, 0, 0, NULL, 0), 0);
	CK(c.out.nr_keys == 1 && c.out.size == 100);
	CK(memcmp(c.out.keys, dk5, 8) == 0);
	CKRC(call99(x, &c, OBJ_RPC_ARRAY_TRUNC, dk9, 8, "q", 0, 0, 0, NULL, 0), -CAIRN_ERR_INVAL);
	CKRC(call99(x, &c, OBJ_RPC_QUERY_KEY, NULL, 0, NULL, 0, 0, 0, NULL, 0), -CAIRN_ERR_INVAL);
	rel(&c);
	return 0;
}

static struct ctx g_x;

static int
body_open(void *arg)
{
	struct ctx *x = arg;

	CKRC(cairn_vos_pool_format("arrt0", g_pool_uuid, NULL), 0);
	CKRC(cairn_vos_pool_open("arrt0", &x->vp), 0);
	CKRC(cairn_vos_cont_create(x->vp, g_cont), 0);
	return 0;
}

static int
body_close(void *arg)
{
	struct ctx *x = arg;

	CKRC(cairn_vos_pool_close(x->vp), 0);
	return 0;
}

static int
setup(void **state)
{
	struct cairn_bdev *b;

	if (vt_start() != 0)
		return -1;
	if (cairn_bdev_malloc_create("arrt0", 16384, 4096, NULL, &b) != 0)
		return -1;
	return vt_run_line(body_open, &g_x) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	int line = vt_run_line(body_close, &g_x);

	vt_stop();
	return line == 0 ? 0 : -1;
}

static void
test_extents(void **state)
{
	vt_run(body_extents, &g_x);
}

static void
test_akeys(void **state)
{
	vt_run(body_akeys, &g_x);
}

static void
test_query_trunc(void **state)
{
	vt_run(body_query_trunc99, &g_x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_extents),
	        cmocka_unit_test(test_akeys),
	        cmocka_unit_test(test_query_trunc),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
