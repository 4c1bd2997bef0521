/*
 * Functional client of the array/KV test, on libcairn (real engine over loopback):
 *   array-client URI POOL CONT io SEED      array, array-value and KV workload, verified
 *   array-client URI POOL CONT verify SEED  reopen what `io SEED` left and verify it
 *   array-client URI POOL CONT perf SEED    64 MiB in 1 MiB async writes then verified
 *                                           reads, 8 in flight: prints MiB/s
 * The array workload: random writes and reads (offsets and lengths across chunk
 * boundaries, sync and async through an EQ) checked against a local model, sparse holes,
 * get_size, set_size shrink and extend, punch, create-exists / bad arguments; the object
 * array-value calls (update/fetch extents, list akeys, query max); KV put/get/list/remove.
 * Randomized with SEED (printed on failure); bounded in operations and time.
 * Exit 0 on success; each failure prints what differed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairn/array.h>
#include <cairn/cairn.h>
#include <cairn/cont.h>
#include <cairn/errno.h>
#include <cairn/event.h>
#include <cairn/kv.h>
#include <cairn/obj.h>
#include <cairn/pool.h>

#define MODEL (3u << 20) /* bytes of array A modelled */
#define CHUNK 10007u     /* cells per chunk of A (odd: boundaries fall anywhere) */
#define CELL_B 4u        /* array B: 4-byte cells */
#define CHUNK_B 1000u
#define NOPS 120u
#define NKV 40u
#define TIME_LIMIT 60.0

static unsigned g_seed;
static struct timespec g_t0;

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "array-client (seed %u): ", g_seed);                               \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fprintf(stderr, "\n");                                                             \
		return 1;                                                                          \
	} while (0)
#define CHECK(expr, what)                                                                          \
	do {                                                                                       \
		int rc_ = (expr);                                                                  \
		if (rc_)                                                                           \
			FAIL("%s: %s (line %d)", what, cairn_strerror(rc_), __LINE__);             \
	} while (0)
#define EXPECT_RC(expr, want, what)                                                                \
	do {                                                                                       \
		int rc_ = (expr);                                                                  \
		if (rc_ != (want))                                                                 \
			FAIL("%s: got %s, want %s", what, cairn_strerror(rc_),                     \
			     cairn_strerror(want));                                                \
	} while (0)

static uint64_t g_rng;

static uint64_t
rnd(void)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return g_rng;
}

static double
elapsed(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - g_t0.tv_sec) + (double)(t.tv_nsec - g_t0.tv_nsec) / 1e9;
}

static void
pattern(unsigned char *b, size_t n, uint64_t tag)
{
	uint64_t x = tag * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] = (unsigned char)(x >> 24);
	}
}

/* ------------------------------------------------------------------ array A model */

struct model {
	unsigned char *m;
	uint64_t size;
};

enum { OP_WRITE, OP_READ, OP_SHRINK, OP_EXTEND, OP_PUNCH };

struct op {
	int kind;
	uint64_t off, len;
};

/* The op sequence is a function of the seed only; `verify` replays it on the model. */
static struct op
next_op(const struct model *md)
{
	struct op o = {0};
	uint64_t r = rnd() % 100;

	o.off = rnd() % MODEL;
	o.len = 1 + rnd() % (r < 20 ? 300000 : 40000);
	if (o.off + o.len > MODEL)
		o.len = MODEL - o.off;
	if (r < 55)
		o.kind = OP_WRITE;
	else if (r < 85)
		o.kind = OP_READ;
	else if (r < 90) {
		o.kind = OP_SHRINK;
		o.off = md->size ? rnd() % md->size : 0;
	} else if (r < 94) {
		o.kind = OP_EXTEND;
		o.off = md->size + rnd() % 50000;
		if (o.off > MODEL)
			o.off = MODEL;
	} else {
		o.kind = OP_PUNCH;
	}
	return o;
}

static void
model_apply(struct model *md, const struct op *o, unsigned char *data, unsigned i)
{
	switch (o->kind) {
	case OP_WRITE:
		pattern(data, o->len, g_seed * 100000ull + i);
		memcpy(md->m + o->off, data, o->len);
		if (o->off + o->len > md->size)
			md->size = o->off + o->len;
		break;
	case OP_SHRINK:
		if (o->off < md->size)
			memset(md->m + o->off, 0, md->size - o->off);
		md->size = o->off;
		break;
	case OP_EXTEND:
		if (o->off > md->size)
			md->size = o->off;
		break;
	case OP_PUNCH:
		memset(md->m + o->off, 0, o->len);
		break;
	}
}

static int
check_range(struct cairn_handle ah, const struct model *md, uint64_t off, uint64_t len,
            const char *what)
{
	unsigned char *buf = malloc(len);
	struct cairn_iov iov;

	if (buf == NULL)
		FAIL("no memory");
	memset(buf, 0xa5, len);
	cairn_iov_set(&iov, buf, len);
	iov.len = 0;
	if (cairn_array_read(ah, off, &iov, NULL) != 0 || iov.len != len) {
		free(buf);
		FAIL("%s: read %lu+%lu failed", what, (unsigned long)off, (unsigned long)len);
	}
	for (uint64_t k = 0; k < len; k++) {
		if (buf[k] != md->m[off + k]) {
			unsigned got = buf[k], want = md->m[off + k];

			free(buf);
			FAIL("%s: byte %lu: got 0x%02x want 0x%02x", what, (unsigned long)(off + k),
			     got, want);
		}
	}
	free(buf);
	return 0;
}

static int
check_all(struct cairn_handle ah, const struct model *md, const char *what)
{
	uint64_t size = 0;

	CHECK(cairn_array_get_size(ah, &size, NULL), "get_size");
	if (size != md->size)
		FAIL("%s: size %lu, model %lu", what, (unsigned long)size, (unsigned long)md->size);
	return check_range(ah, md, 0, MODEL, what);
}

static struct cairn_obj_id
oid_of(uint64_t lo, enum cairn_otype t, enum cairn_oclass oc)
{
	struct cairn_obj_id oid = {.lo = lo};

	cairn_obj_id_generate(&oid, t, oc);
	return oid;
}

static int
array_a(struct cairn_handle coh, struct cairn_handle eq, bool write)
{
	struct cairn_obj_id oid = oid_of(1000 + g_seed, CAIRN_OT_ARRAY_BYTE, CAIRN_OC_SX);
	struct model md = {0};
	struct cairn_handle ah, ah2;
	uint64_t cell = 0, chunk = 0;
	unsigned char *data;
	unsigned nw = 0, nr = 0, ns = 0, ne = 0, np = 0, na = 0;
	int ret = 1;

	md.m = calloc(1, MODEL);
	data = malloc(MODEL);
	if (md.m == NULL || data == NULL)
		FAIL("no memory");
	if (write) {
		CHECK(cairn_array_create(coh, oid, 1, CHUNK, &ah, NULL), "array create");
		EXPECT_RC(cairn_array_create(coh, oid, 1, CHUNK, &ah2, NULL), -CAIRN_ERR_EXIST,
		          "create of an existing array");
		EXPECT_RC(cairn_array_create(coh, oid, 0, CHUNK, &ah2, NULL), -CAIRN_ERR_INVAL,
		          "create with cell size 0");
	} else {
		CHECK(cairn_array_open(coh, oid, &ah, &cell, &chunk, NULL), "array open");
		if (cell != 1 || chunk != CHUNK)
			FAIL("open: cell %lu chunk %lu", (unsigned long)cell, (unsigned long)chunk);
	}
	for (unsigned i = 0; i < NOPS; i++) {
		struct op o = next_op(&md);
		struct cairn_iov iov;

		model_apply(&md, &o, data, i);
		if (getenv("ARRAY_CLIENT_TRACE"))
			fprintf(stderr, "op %u: kind %d off %lu len %lu -> model size %lu\n", i,
			        o.kind, (unsigned long)o.off, (unsigned long)o.len,
			        (unsigned long)md.size);
		if (!write)
			continue;
		switch (o.kind) {
		case OP_WRITE:
			cairn_iov_set(&iov, data, o.len);
			if (i % 3 == 0) { /* async through the EQ */
				struct cairn_event ev, *done;

				CHECK(cairn_event_init(&ev, eq, NULL), "event init");
				CHECK(cairn_array_write(ah, o.off, &iov, &ev),
				      "async write launch");
				if (cairn_eq_poll(eq, 1, 30000000, 1, &done) != 1 || done != &ev)
					FAIL("async write: no completion");
				CHECK(ev.ev_error, "async write");
				cairn_event_fini(&ev);
				na++;
			} else {
				CHECK(cairn_array_write(ah, o.off, &iov, NULL), "write");
			}
			nw++;
			break;
		case OP_READ:
			if (check_range(ah, &md, o.off, o.len, "random read"))
				goto out;
			nr++;
			break;
		case OP_SHRINK:
		case OP_EXTEND:
			CHECK(cairn_array_set_size(ah, o.off, NULL), "set_size");
			o.kind == OP_SHRINK ? ns++ : ne++;
			break;
		case OP_PUNCH:
			CHECK(cairn_array_punch(ah, o.off, o.len, NULL), "punch");
			np++;
			break;
		}
		if (i % 20 == 19 && check_all(ah, &md, "periodic full check"))
			goto out;
	}
	if (check_all(ah, &md, write ? "final check" : "after restart"))
		goto out;
	if (write) {
		printf("array A: %u writes (%u async), %u reads, %u shrinks, %u extends, %u "
		       "punches; size %lu verified\n",
		       nw, na, nr, ns, ne, np, (unsigned long)md.size);
		EXPECT_RC(cairn_array_write(ah, 0, &(struct cairn_iov){data, 0, 0}, NULL),
		          -CAIRN_ERR_INVAL, "empty write");
	}
	CHECK(cairn_array_close(ah, NULL), "array close");
	EXPECT_RC(cairn_array_close(ah, NULL), -CAIRN_ERR_NOHANDLE, "double close");
	ret = 0;
out:
	free(md.m);
	free(data);
	return ret;
}

/* Array B: 4-byte cells, sparse far writes, parallel async writes, destroy. */
static int
array_b(struct cairn_handle coh, struct cairn_handle eq, bool write)
{
	struct cairn_obj_id oid = oid_of(2000 + g_seed, CAIRN_OT_ARRAY, CAIRN_OC_SX);
	const uint64_t far = 40ull << 30; /* 40 GiB: a sparse hole before it */
	unsigned char w[8192], r[8192];
	struct cairn_event evs[8], *done[8];
	struct cairn_handle ah;
	struct cairn_iov iov;
	uint64_t size = 0, cell, chunk;
	int n, got = 0;

	pattern(w, sizeof(w), g_seed + 7);
	if (!write) {
		CHECK(cairn_array_open(coh, oid, &ah, &cell, &chunk, NULL), "array B open");
		if (cell != CELL_B || chunk != CHUNK_B)
			FAIL("B open: cell %lu chunk %lu", (unsigned long)cell,
			     (unsigned long)chunk);
		goto check;
	}
	CHECK(cairn_array_create(coh, oid, CELL_B, CHUNK_B, &ah, NULL), "array B create");
	cairn_iov_set(&iov, w, 6);
	EXPECT_RC(cairn_array_write(ah, 0, &iov, NULL), -CAIRN_ERR_INVAL,
	          "length not a multiple of the cell");
	cairn_iov_set(&iov, w, 8);
	EXPECT_RC(cairn_array_write(ah, 2, &iov, NULL), -CAIRN_ERR_INVAL,
	          "offset not a multiple of the cell");
	/* 8 parallel async writes of 8 KiB, each across a chunk boundary (4000 B chunks) */
	for (int i = 0; i < 8; i++) {
		static struct cairn_iov ivs[8];

		cairn_iov_set(&ivs[i], w, sizeof(w));
		CHECK(cairn_event_init(&evs[i], eq, NULL), "event init");
		CHECK(cairn_array_write(ah, 100000ull * i + 3996, &ivs[i], &evs[i]),
		      "B async write");
	}
	/* an event still in use (running, or completed and not yet polled) is refused,
	 * with nothing started and nothing leaked */
	cairn_iov_set(&iov, w, 8);
	if (cairn_array_write(ah, 0, &iov, &evs[0]) == 0 ||
	    cairn_array_get_size(ah, &size, &evs[1]) == 0)
		FAIL("an event in use was accepted");
	while (got < 8) {
		n = cairn_eq_poll(eq, 1, 30000000, 8, done);
		if (n <= 0)
			FAIL("B poll: %d", n);
		for (int k = 0; k < n; k++)
			CHECK(done[k]->ev_error, "B async write");
		got += n;
	}
	for (int i = 0; i < 8; i++)
		cairn_event_fini(&evs[i]);
	cairn_iov_set(&iov, w, sizeof(w));
	CHECK(cairn_array_write(ah, far, &iov, NULL), "far write");
check:
	CHECK(cairn_array_get_size(ah, &size, NULL), "B get_size");
	if (size != far + sizeof(w))
		FAIL("B size %lu, want %lu", (unsigned long)size, (unsigned long)(far + sizeof(w)));
	for (int i = 0; i < 8; i++) {
		cairn_iov_set(&iov, r, sizeof(r));
		CHECK(cairn_array_read(ah, 100000ull * i + 3996, &iov, NULL), "B read");
		if (memcmp(r, w, sizeof(w)))
			FAIL("B piece %d differs", i);
	}
	cairn_iov_set(&iov, r, sizeof(r));
	CHECK(cairn_array_read(ah, far / 2, &iov, NULL), "hole read");
	for (size_t k = 0; k < sizeof(r); k++)
		if (r[k])
			FAIL("hole at %lu is not zero", (unsigned long)(far / 2 + k));
	cairn_iov_set(&iov, r, sizeof(r));
	CHECK(cairn_array_read(ah, far, &iov, NULL), "far read");
	if (memcmp(r, w, sizeof(w)))
		FAIL("far data differs");
	if (write) {
		/* shrink into the middle of the far chunk's range, extend again: zeros */
		CHECK(cairn_array_set_size(ah, far + 4000, NULL), "B shrink");
		CHECK(cairn_array_get_size(ah, &size, NULL), "B get_size");
		if (size != far + 4000)
			FAIL("B size after shrink %lu", (unsigned long)size);
		CHECK(cairn_array_set_size(ah, far + sizeof(w), NULL), "B extend");
		cairn_iov_set(&iov, r, sizeof(r));
		CHECK(cairn_array_read(ah, far, &iov, NULL), "B read after shrink+extend");
		if (memcmp(r, w, 4000))
			FAIL("kept part differs after shrink");
		for (size_t k = 4000; k < sizeof(r); k++)
			if (r[k])
				FAIL("truncated byte %lu is not zero after extend",
				     (unsigned long)k);
		CHECK(cairn_array_write(ah, far, &iov, NULL), "B rewrite");
		cairn_iov_set(&iov, w, sizeof(w));
		CHECK(cairn_array_write(ah, far, &iov, NULL), "B restore");
		/* a scratch array: destroy makes it unopenable */
		struct cairn_handle sh;
		struct cairn_obj_id soid = oid_of(3000 + g_seed, CAIRN_OT_ARRAY, CAIRN_OC_S1);

		CHECK(cairn_array_create(coh, soid, 1, 100, &sh, NULL), "scratch create");
		CHECK(cairn_array_write(sh, 50, &iov, NULL), "scratch write");
		CHECK(cairn_array_destroy(sh, NULL), "scratch destroy");
		CHECK(cairn_array_close(sh, NULL), "scratch close");
		EXPECT_RC(cairn_array_open(coh, soid, &sh, NULL, NULL, NULL), -CAIRN_ERR_NONEXIST,
		          "open of a destroyed array");
		printf("array B: parallel async writes, 40 GiB sparse hole, shrink/extend, destroy "
		       "ok\n");
	}
	CHECK(cairn_array_close(ah, NULL), "array B close");
	return 0;
}

/* The object array-value calls directly. */
static int
obj_values(struct cairn_handle coh, bool write)
{
	struct cairn_obj_id oid = oid_of(4000 + g_seed, CAIRN_OT_MULTI, CAIRN_OC_S1);
	unsigned char w[20000], r[20000];
	struct cairn_iov dk, ak, v;
	struct cairn_recx rx;
	struct cairn_key_desc kds[8];
	struct cairn_anchor anchor;
	struct cairn_handle oh;
	uint64_t mdk, mend;
	uint8_t be[8] = {0, 0, 0, 0, 0, 0, 0, 5};
	char kbuf[64];
	uint32_t nr;

	CHECK(cairn_obj_open(coh, oid, 0, &oh, NULL), "obj open");
	pattern(w, sizeof(w), g_seed + 11);
	cairn_iov_set(&dk, be, 8);
	if (write) {
		/* 8-byte records: 100 inline, then 2500 by bulk, leaving a hole between */
		rx = (struct cairn_recx){.idx = 10, .nr = 100};
		cairn_iov_set(&ak, "a1", 2);
		cairn_iov_set(&v, w, 800);
		CHECK(cairn_obj_update_recx(oh, &dk, &ak, 8, &rx, &v, NULL), "update_recx inline");
		rx = (struct cairn_recx){.idx = 500, .nr = 2500};
		cairn_iov_set(&v, w, 20000);
		CHECK(cairn_obj_update_recx(oh, &dk, &ak, 8, &rx, &v, NULL), "update_recx bulk");
		cairn_iov_set(&ak, "a2", 2);
		rx = (struct cairn_recx){.idx = 0, .nr = 1};
		cairn_iov_set(&v, w, 8);
		CHECK(cairn_obj_update_recx(oh, &dk, &ak, 8, &rx, &v, NULL), "update_recx a2");
		cairn_iov_set(&v, w, 7);
		EXPECT_RC(cairn_obj_update_recx(oh, &dk, &ak, 8, &rx, &v, NULL), -CAIRN_ERR_INVAL,
		          "update_recx length mismatch");
	}
	cairn_iov_set(&ak, "a1", 2);
	rx = (struct cairn_recx){.idx = 0, .nr = 2500};
	cairn_iov_set(&v, r, 20000);
	CHECK(cairn_obj_fetch_recx(oh, &dk, &ak, 8, &rx, &v, NULL), "fetch_recx");
	for (int k = 0; k < 80; k++)
		if (r[k])
			FAIL("recx hole byte %d not zero", k);
	if (memcmp(r + 80, w, 800))
		FAIL("recx inline extent differs");
	for (int k = 880; k < 4000; k++)
		if (r[k])
			FAIL("recx hole byte %d not zero", k);
	if (memcmp(r + 4000, w, 16000))
		FAIL("recx bulk extent differs");
	cairn_iov_set(&ak, "a1", 2);
	CHECK(cairn_obj_query_max(oh, &ak, &mdk, &mend, NULL), "query_max");
	if (mdk != 5 || mend != 3000)
		FAIL("query_max: dkey %lu end %lu", (unsigned long)mdk, (unsigned long)mend);
	memset(&anchor, 0, sizeof(anchor));
	nr = 8;
	CHECK(cairn_obj_list_akey(oh, &dk, &anchor, &nr, kds, kbuf, sizeof(kbuf), NULL),
	      "list_akey");
	if (nr != 2 || !cairn_anchor_is_eof(&anchor) || kds[0].key_len != 2 ||
	    kds[1].key_len != 2 || memcmp(kbuf, "a1a2", 4))
		FAIL("list_akey: %u keys '%.*s'", nr, 4, kbuf);
	CHECK(cairn_obj_close(oh, NULL), "obj close");
	if (write)
		printf("object array values: inline/bulk extents, holes, query_max, list_akey "
		       "ok\n");
	return 0;
}

static size_t
kv_len(unsigned i)
{
	return i % 5 == 4 ? 20000 + i : 1 + i * 37; /* some by bulk */
}

static int
kv(struct cairn_handle coh, struct cairn_handle eq, bool write)
{
	struct cairn_obj_id oid = oid_of(5000 + g_seed, CAIRN_OT_KV, CAIRN_OC_SX);
	static unsigned char w[NKV][21000], r[21000];
	struct cairn_key_desc kds[NKV];
	char keys[NKV][16], kbuf[NKV * 16];
	struct cairn_iov key, v;
	struct cairn_anchor anchor;
	struct cairn_handle oh;
	unsigned seen[NKV] = {0}, total = 0;
	uint32_t nr;
	size_t off;

	CHECK(cairn_kv_open(coh, oid, 0, &oh, NULL), "kv open");
	for (unsigned i = 0; i < NKV; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%u", i);
		pattern(w[i], kv_len(i), g_seed * 131 + i);
		if (write) {
			cairn_iov_set(&key, keys[i], strlen(keys[i]));
			cairn_iov_set(&v, w[i], kv_len(i));
			CHECK(cairn_kv_put(oh, &key, &v, NULL), "kv put");
		}
	}
	if (write) {
		for (unsigned i = 0; i < NKV; i += 4) {
			cairn_iov_set(&key, keys[i], strlen(keys[i]));
			CHECK(cairn_kv_remove(oh, &key, NULL), "kv remove");
		}
	}
	for (unsigned i = 0; i < NKV; i++) {
		struct cairn_event ev, *done;
		int rc;

		cairn_iov_set(&key, keys[i], strlen(keys[i]));
		cairn_iov_set(&v, r, sizeof(r));
		v.len = 0;
		CHECK(cairn_event_init(&ev, eq, NULL), "event init");
		CHECK(cairn_kv_get(oh, &key, &v, &ev), "kv get launch");
		if (cairn_eq_poll(eq, 1, 30000000, 1, &done) != 1)
			FAIL("kv get: no completion");
		rc = ev.ev_error;
		cairn_event_fini(&ev);
		if (i % 4 == 0) {
			if (rc != -CAIRN_ERR_NONEXIST)
				FAIL("removed key %s: %s", keys[i], cairn_strerror(rc));
			continue;
		}
		CHECK(rc, "kv get");
		if (v.len != kv_len(i) || memcmp(r, w[i], v.len))
			FAIL("kv value of %s differs (len %zu)", keys[i], v.len);
	}
	cairn_iov_set(&key, keys[1], strlen(keys[1]));
	cairn_iov_set(&v, r, 3);
	EXPECT_RC(cairn_kv_get(oh, &key, &v, NULL), -CAIRN_ERR_TRUNC, "kv get small buffer");
	if (v.len != kv_len(1))
		FAIL("TRUNC did not report the size: %zu", v.len);
	memset(&anchor, 0, sizeof(anchor));
	while (!cairn_anchor_is_eof(&anchor)) {
		nr = NKV;
		CHECK(cairn_kv_list(oh, &anchor, &nr, kds, kbuf, sizeof(kbuf), NULL), "kv list");
		off = 0;
		for (uint32_t k = 0; k < nr; k++) {
			unsigned idx;
			char tmp[16];

			if (kds[k].key_len >= sizeof(tmp) || kbuf[off] != 'k')
				FAIL("kv list: bad key");
			memcpy(tmp, kbuf + off + 1, kds[k].key_len - 1);
			tmp[kds[k].key_len - 1] = '\0';
			idx = (unsigned)strtoul(tmp, NULL, 10);
			if (idx >= NKV || idx % 4 == 0 || seen[idx]++)
				FAIL("kv list: unexpected or repeated key k%u", idx);
			off += kds[k].key_len;
			total++;
		}
		if (elapsed() > TIME_LIMIT)
			FAIL("kv list does not end");
	}
	if (total != NKV - NKV / 4)
		FAIL("kv list: %u keys, want %u", total, NKV - NKV / 4);
	CHECK(cairn_kv_close(oh, NULL), "kv close");
	if (write)
		printf("kv: %u puts, %u removes, async gets verified, TRUNC, list of %u ok\n", NKV,
		       NKV / 4, total);
	return 0;
}

/* perf: 64 MiB through one array (256 KiB chunks over both targets) in 1 MiB writes
 * then reads, 8 in flight through the EQ; every read verified. Prints MiB/s. */
#define PERF_IO (1u << 20)
#define PERF_NR 64u
#define PERF_QD 8u

static int
perf_pass(struct cairn_handle ah, struct cairn_handle eq, bool wr, unsigned char *bufs,
          double *secs)
{
	static struct cairn_event evs[PERF_QD];
	static struct cairn_iov iovs[PERF_QD];
	struct cairn_event *done[PERF_QD];
	unsigned next = 0, fin = 0, slot_io[PERF_QD];
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned q = 0; q < PERF_QD; q++) {
		CHECK(cairn_event_init(&evs[q], eq, NULL), "event init");
		slot_io[q] = next;
		cairn_iov_set(&iovs[q], bufs + (size_t)q * PERF_IO, PERF_IO);
		if (wr)
			pattern(iovs[q].buf, PERF_IO, g_seed + next);
		CHECK(wr ? cairn_array_write(ah, (uint64_t)next * PERF_IO, &iovs[q], &evs[q])
		         : cairn_array_read(ah, (uint64_t)next * PERF_IO, &iovs[q], &evs[q]),
		      "perf launch");
		next++;
	}
	while (fin < PERF_NR) {
		int n = cairn_eq_poll(eq, 1, 30000000, PERF_QD, done);

		if (n <= 0)
			FAIL("perf poll: %d", n);
		for (int k = 0; k < n; k++) {
			unsigned q = (unsigned)(done[k] - evs);

			CHECK(done[k]->ev_error, wr ? "perf write" : "perf read");
			if (!wr) {
				unsigned char *want = bufs + (size_t)PERF_QD * PERF_IO;

				pattern(want, PERF_IO, g_seed + slot_io[q]);
				if (memcmp(want, iovs[q].buf, PERF_IO))
					FAIL("perf read of MiB %u differs", slot_io[q]);
			}
			fin++;
			if (next < PERF_NR) {
				slot_io[q] = next;
				cairn_iov_set(&iovs[q], bufs + (size_t)q * PERF_IO, PERF_IO);
				if (wr)
					pattern(iovs[q].buf, PERF_IO, g_seed + next);
				CHECK(wr ? cairn_array_write(ah, (uint64_t)next * PERF_IO, &iovs[q],
				                             &evs[q])
				         : cairn_array_read(ah, (uint64_t)next * PERF_IO, &iovs[q],
				                            &evs[q]),
				      "perf launch");
				next++;
			}
		}
	}
	for (unsigned q = 0; q < PERF_QD; q++)
		cairn_event_fini(&evs[q]);
	clock_gettime(CLOCK_MONOTONIC, &b);
	*secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	return 0;
}

static int
perf(struct cairn_handle coh, struct cairn_handle eq)
{
	struct cairn_obj_id oid = oid_of(6000 + g_seed, CAIRN_OT_ARRAY_BYTE, CAIRN_OC_SX);
	unsigned char *bufs = malloc((size_t)(PERF_QD + 1) * PERF_IO);
	struct cairn_handle ah;
	double tw, tr;

	if (bufs == NULL)
		FAIL("no memory");
	CHECK(cairn_array_create(coh, oid, 1, 256u << 10, &ah, NULL), "perf array create");
	if (perf_pass(ah, eq, true, bufs, &tw) || perf_pass(ah, eq, false, bufs, &tr)) {
		free(bufs);
		return 1;
	}
	printf("array 1 MiB writes, depth %u: %8.1f MiB/s (%u MiB in %.2f s)\n", PERF_QD,
	       PERF_NR / tw, PERF_NR, tw);
	printf("array 1 MiB reads,  depth %u: %8.1f MiB/s (%u MiB in %.2f s, verified)\n", PERF_QD,
	       PERF_NR / tr, PERF_NR, tr);
	CHECK(cairn_array_destroy(ah, NULL), "perf array destroy");
	CHECK(cairn_array_close(ah, NULL), "perf array close");
	free(bufs);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cairn_handle poh, coh, eq;
	struct cairn_pool_info pi;
	struct cairn_cont_info ci;
	bool write;
	int rc;

	if (argc != 6 ||
	    (strcmp(argv[4], "io") && strcmp(argv[4], "verify") && strcmp(argv[4], "perf"))) {
		fprintf(stderr, "usage: array-client URI POOL CONT io|verify|perf SEED\n");
		return 2;
	}
	write = strcmp(argv[4], "io") == 0;
	g_seed = (unsigned)strtoul(argv[5], NULL, 10);
	g_rng = g_seed * 2654435761ull + 88172645463325252ull;
	clock_gettime(CLOCK_MONOTONIC, &g_t0);
	CHECK(cairn_init(), "init");
	CHECK(cairn_pool_connect(argv[2], argv[1], 0, &poh, &pi, NULL), "pool connect");
	CHECK(cairn_cont_open(poh, argv[3], 0, &coh, &ci, NULL), "cont open");
	CHECK(cairn_eq_create(&eq), "eq create");
	if (strcmp(argv[4], "perf") == 0)
		rc = perf(coh, eq);
	else
		rc = array_a(coh, eq, write);
	if (rc == 0 && strcmp(argv[4], "perf") != 0)
		rc = array_b(coh, eq, write);
	if (rc == 0 && strcmp(argv[4], "perf") != 0)
		rc = obj_values(coh, write);
	if (rc == 0 && strcmp(argv[4], "perf") != 0)
		rc = kv(coh, eq, write);
	CHECK(cairn_eq_destroy(eq, 0), "eq destroy");
	CHECK(cairn_cont_close(coh, NULL), "cont close");
	CHECK(cairn_pool_disconnect(poh, NULL), "pool disconnect");
	CHECK(cairn_fini(), "fini");
	if (rc == 0)
		printf("ok (%.1f s)\n", elapsed());
	return rc;
}
