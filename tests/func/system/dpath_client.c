/*
 * Functional client of the data-path properties test (dpath_func.sh), on libcairn against
 * a real engine over loopback:
 *   dpath-client URI POOL props                 create-time properties: defaults, bad
 *                                               values, rf vs class, immutables
 *   dpath-client URI POOL CONT chunk            arrays take the container's chunk size:
 *                                               the dkeys written are those it implies
 *   dpath-client URI POOL CONT cond             conditional update/fetch/punch, KV flags
 *   dpath-client URI POOL CONT race BASE N up|down READY GO  create arrays
 *                                               BASE..BASE+N-1 in that order (two at
 *                                               once: each creates file READY,
 *                                               then starts when file GO exists):
 *                                               prints "wins W exists E"
 *   dpath-client URI POOL CONT csum-ok          values and extents, inline and by bulk,
 *                                               written and read back verified
 *   dpath-client URI POOL CONT csum-client      with CAIRN_FAULTS=obj.cli.update.corrupt:
 *                                               skip=2,count=2: corrupt updates refused
 *   dpath-client URI POOL CONT csum-engine OID  the engine corrupts fetches of OID (its
 *                                               CAIRN_FAULTS): -CAIRN_ERR_CSUM, zeroes
 *   dpath-client URI POOL CONT csum-off OID     as csum-ok on object OID (a container
 *                                               without checksums reads it fine)
 * Bounded in operations. Exit 0 on success; each failure prints what differed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cairn/array.h>
#include <cairn/cairn.h>
#include <cairn/cont.h>
#include <cairn/errno.h>
#include <cairn/kv.h>
#include <cairn/obj.h>
#include <cairn/pool.h>

#define FUNC_CLIENT_NAME "dpath-client"
#include "func_client.h"

static struct cairn_iov
iov(void *buf, size_t len)
{
	struct cairn_iov v;

	cairn_iov_set(&v, buf, len);
	return v;
}

static struct cairn_obj_id
oid_of(uint64_t lo, enum cairn_otype t, enum cairn_oclass oc)
{
	struct cairn_obj_id oid = {.lo = lo};

	cairn_obj_id_generate(&oid, t, oc);
	return oid;
}

/* ------------------------------------------------------------------ props */

static int
props(struct cairn_handle poh)
{
	struct cairn_cont_props p, q;
	struct cairn_cont_info ci;
	struct cairn_handle coh, oh;
	char err[200];

	memset(&p, 0, sizeof(p));
	snprintf(p.label, sizeof(p.label), "lc1");
	/* bad values, refused by the client with a sentence */
	p.chunk_size = 3000;
	EXPECT(cairn_cont_props_check(&p, err, sizeof(err)), -CAIRN_ERR_INVAL, "chunk 3000");
	if (strstr(err, "power of two") == NULL)
		FAIL("chunk message: %s", err);
	EXPECT(cairn_cont_create_with_props(poh, &p, NULL, NULL), -CAIRN_ERR_INVAL,
	       "create chunk 3000");
	p.chunk_size = 0;
	p.csum = 3;
	EXPECT(cairn_cont_create_with_props(poh, &p, NULL, NULL), -CAIRN_ERR_INVAL, "csum 3");
	p.csum = 0;
	p.rf = 3;
	EXPECT(cairn_cont_create_with_props(poh, &p, NULL, NULL), -CAIRN_ERR_INVAL, "rf 3");
	p.rf = 1;
	p.oclass = CAIRN_OC_SX;
	EXPECT(cairn_cont_props_check(&p, err, sizeof(err)), -CAIRN_ERR_INVAL, "rf 1 with SX");
	if (strstr(err, "SX") == NULL || strstr(err, "redundancy factor 1") == NULL)
		FAIL("rf message does not name class and rf: %s", err);
	p.type = 9;
	p.rf = 0;
	EXPECT(cairn_cont_create_with_props(poh, &p, NULL, NULL), -CAIRN_ERR_INVAL, "type 9");
	snprintf(p.label, sizeof(p.label), "bad/label");
	p.type = 0;
	EXPECT(cairn_cont_create_with_props(poh, &p, NULL, NULL), -CAIRN_ERR_INVAL, "label");

	/* a KV container with crc64, 64 KiB chunks, class S1 */
	memset(&p, 0, sizeof(p));
	snprintf(p.label, sizeof(p.label), "lc1");
	p.type = CAIRN_CONT_KV;
	p.oclass = CAIRN_OC_S1;
	p.chunk_size = 64 << 10;
	p.csum = CAIRN_CONT_CSUM_CRC64;
	CHECK(cairn_cont_create_with_props(poh, &p, NULL, NULL), "create lc1");
	EXPECT(cairn_cont_create_with_props(poh, &p, NULL, NULL), -CAIRN_ERR_EXIST, "lc1 again");
	CHECK(cairn_cont_query(poh, "lc1", &ci, NULL), "query lc1");
	if (ci.type != CAIRN_CONT_KV || ci.oclass != CAIRN_OC_S1 || ci.chunk_size != 64 << 10 ||
	    ci.csum != CAIRN_CONT_CSUM_CRC64 || ci.rf != 0)
		FAIL("lc1 query: type %u class %u chunk %llu csum %u rf %u", ci.type, ci.oclass,
		     (unsigned long long)ci.chunk_size, ci.csum, ci.rf);
	CHECK(cairn_cont_open(poh, "lc1", 0, &coh, NULL, NULL), "open lc1");
	CHECK(cairn_cont_get_props(coh, &q, NULL), "get props");
	if (q.chunk_size != 64 << 10 || q.csum != CAIRN_CONT_CSUM_CRC64 || q.type != CAIRN_CONT_KV)
		FAIL("get props: chunk %llu csum %u type %u", (unsigned long long)q.chunk_size,
		     q.csum, q.type);
	/* fixed at create */
	q.chunk_size = 128 << 10;
	EXPECT(cairn_cont_set_props(coh, &q, CAIRN_CONT_PROP_CHUNK, NULL), -CAIRN_ERR_PERM,
	       "set chunk");
	q.csum = 0;
	EXPECT(cairn_cont_set_props(coh, &q, CAIRN_CONT_PROP_CSUM, NULL), -CAIRN_ERR_PERM,
	       "set csum");
	q.rf = 1;
	EXPECT(cairn_cont_set_props(coh, &q, CAIRN_CONT_PROP_RF, NULL), -CAIRN_ERR_PERM, "set rf");
	q.oclass = CAIRN_OC_SX;
	CHECK(cairn_cont_set_props(coh, &q, CAIRN_CONT_PROP_OCLASS, NULL), "set oclass");
	CHECK(cairn_cont_get_props(coh, &q, NULL), "get props 2");
	if (q.oclass != CAIRN_OC_SX || q.chunk_size != 64 << 10 || q.csum != CAIRN_CONT_CSUM_CRC64)
		FAIL("after set oclass: class %u chunk %llu csum %u", q.oclass,
		     (unsigned long long)q.chunk_size, q.csum);
	/* an id without a class takes the default (now SX) */
	{
		struct cairn_obj_id bare = {.lo = 5};
		char v[] = "x", b[8];
		struct cairn_iov dk = iov("d", 1), ak = iov("a", 1), val = iov(v, 1), out;

		CHECK(cairn_obj_open(coh, bare, 0, &oh, NULL), "open a class-less id");
		CHECK(cairn_obj_update(oh, &dk, &ak, &val, NULL), "update class-less");
		CHECK(cairn_obj_close(oh, NULL), "close");
		CHECK(cairn_obj_open(coh, oid_of(5, CAIRN_OT_MULTI, CAIRN_OC_SX), 0, &oh, NULL),
		      "open as SX");
		out = iov(b, sizeof(b));
		CHECK(cairn_obj_fetch(oh, &dk, &ak, &out, NULL), "fetch as SX");
		if (out.len != 1 || b[0] != 'x')
			FAIL("class-less id did not land as the default class SX");
		CHECK(cairn_obj_close(oh, NULL), "close");
	}
	CHECK(cairn_cont_close(coh, NULL), "close lc1");

	/* rf 1: the default class is RP_2G1; S* classes are refused at open */
	memset(&p, 0, sizeof(p));
	snprintf(p.label, sizeof(p.label), "lc-rf1");
	p.rf = 1;
	CHECK(cairn_cont_create_with_props(poh, &p, NULL, NULL), "create rf 1");
	CHECK(cairn_cont_open(poh, "lc-rf1", 0, &coh, &ci, NULL), "open rf 1");
	if (ci.rf != 1 || ci.oclass != CAIRN_OC_RP_2G1)
		FAIL("rf 1 container: rf %u class %u", ci.rf, ci.oclass);
	EXPECT(cairn_obj_open(coh, oid_of(9, CAIRN_OT_MULTI, CAIRN_OC_SX), 0, &oh, NULL),
	       -CAIRN_ERR_INVAL, "SX object in an rf 1 container");
	{
		struct cairn_obj_id a;

		EXPECT(cairn_cont_alloc_oid(coh, CAIRN_OT_MULTI, CAIRN_OC_S1, &a, NULL),
		       -CAIRN_ERR_INVAL, "alloc an S1 id in an rf 1 container");
		CHECK(cairn_cont_alloc_oid(coh, CAIRN_OT_MULTI, CAIRN_OC_UNKNOWN, &a, NULL),
		      "alloc a default-class id in an rf 1 container");
		if (cairn_obj_id_class(a) != CAIRN_OC_RP_2G1)
			FAIL("rf 1 default-class id has class %d", (int)cairn_obj_id_class(a));
	}
	EXPECT(cairn_array_create(coh, oid_of(9, CAIRN_OT_ARRAY, CAIRN_OC_S1), 1, 0, &oh, NULL),
	       -CAIRN_ERR_INVAL, "S1 array in an rf 1 container");
	q.oclass = CAIRN_OC_S2;
	EXPECT(cairn_cont_set_props(coh, &q, CAIRN_CONT_PROP_OCLASS, NULL), -CAIRN_ERR_INVAL,
	       "default class S2 under rf 1");
	CHECK(cairn_cont_close(coh, NULL), "close rf 1");
	printf("props ok\n");
	return 0;
}

/* ------------------------------------------------------------------ chunk */

struct dkeys {
	unsigned n_chunks;
	uint64_t max_chunk;
	int md;
};

static int
list_dkeys(struct cairn_handle coh, struct cairn_obj_id oid, struct dkeys *d)
{
	struct cairn_key_desc kds[64];
	static char buf[64 * 1024];
	struct cairn_anchor anchor;
	struct cairn_handle oh;
	uint32_t nr, i, k;
	size_t off;

	memset(d, 0, sizeof(*d));
	memset(&anchor, 0, sizeof(anchor));
	CHECK(cairn_obj_open(coh, oid, 0, &oh, NULL), "open for list");
	while (!cairn_anchor_is_eof(&anchor)) {
		nr = 64;
		CHECK(cairn_obj_list_dkey(oh, &anchor, &nr, kds, buf, sizeof(buf), NULL), "list");
		for (i = 0, off = 0; i < nr; off += kds[i].key_len, i++) {
			uint64_t c = 0;

			if (kds[i].key_len == 11 && memcmp(buf + off, "cairn.array", 11) == 0) {
				d->md++;
				continue;
			}
			if (kds[i].key_len != 8)
				FAIL("unexpected dkey of %u bytes", (unsigned)kds[i].key_len);
			for (k = 0; k < 8; k++)
				c = (c << 8) | (uint8_t)buf[off + k];
			d->n_chunks++;
			if (c > d->max_chunk)
				d->max_chunk = c;
		}
	}
	CHECK(cairn_obj_close(oh, NULL), "close list");
	return 0;
}

static int
chunk(struct cairn_handle coh)
{
	struct cairn_cont_info ci;
	struct cairn_handle ah;
	struct cairn_obj_id oid;
	uint64_t cell, chunk_cells, cs;
	struct cairn_iov data;
	struct dkeys d;
	char *buf, *back;
	size_t len = 200000;
	size_t i;

	(void)ci;
	buf = malloc(len);
	back = malloc(len);
	if (buf == NULL || back == NULL)
		FAIL("no memory");
	for (i = 0; i < len; i++)
		buf[i] = (char)(i * 31 + 7);
	/* 1-byte cells: 65536 cells per chunk; 200000 bytes -> chunks 0..3 */
	oid = oid_of(100, CAIRN_OT_ARRAY_BYTE, CAIRN_OC_SX);
	CHECK(cairn_array_create(coh, oid, 1, 0, &ah, NULL), "array create chunk 0");
	data = iov(buf, len);
	CHECK(cairn_array_write(ah, 0, &data, NULL), "array write");
	CHECK(cairn_array_close(ah, NULL), "array close");
	CHECK(cairn_array_open(coh, oid, &ah, &cell, &chunk_cells, NULL), "array open");
	if (cell != 1 || chunk_cells != 65536)
		FAIL("array of a 64 KiB container: cell %llu chunk %llu cells, want 1, 65536",
		     (unsigned long long)cell, (unsigned long long)chunk_cells);
	data = iov(back, len);
	CHECK(cairn_array_read(ah, 0, &data, NULL), "array read");
	if (memcmp(buf, back, len) != 0)
		FAIL("array read back differs");
	CHECK(cairn_array_close(ah, NULL), "array close 2");
	if (list_dkeys(coh, oid, &d))
		return 1;
	if (d.md != 1 || d.n_chunks != 4 || d.max_chunk != 3)
		FAIL("dkeys: md %d, %u chunks, max %llu; want 1, 4 (0..3)", d.md, d.n_chunks,
		     (unsigned long long)d.max_chunk);
	/* 8-byte cells: 8192 cells per chunk (still 64 KiB) */
	oid = oid_of(101, CAIRN_OT_ARRAY, CAIRN_OC_SX);
	CHECK(cairn_array_create(coh, oid, 8, 0, &ah, NULL), "array create cell 8");
	data = iov(buf, 8 * 8192 + 8);
	CHECK(cairn_array_write(ah, 0, &data, NULL), "array write 2");
	CHECK(cairn_array_close(ah, NULL), "array close 3");
	CHECK(cairn_array_open(coh, oid, &ah, &cell, &cs, NULL), "array open 2");
	CHECK(cairn_array_close(ah, NULL), "array close 4");
	if (cell != 8 || cs != 8192)
		FAIL("cell 8 array: chunk %llu cells, want 8192", (unsigned long long)cs);
	if (list_dkeys(coh, oid, &d))
		return 1;
	if (d.n_chunks != 2 || d.max_chunk != 1)
		FAIL("cell 8 dkeys: %u chunks max %llu; want 2 (0..1)", d.n_chunks,
		     (unsigned long long)d.max_chunk);
	free(buf);
	free(back);
	printf("chunk ok\n");
	return 0;
}

/* ------------------------------------------------------------------ cond */

static int
cond(struct cairn_handle coh)
{
	struct cairn_iov dk = iov("k1", 2), dk2 = iov("k2", 2), ak = iov("a", 1), ak2 = iov("b", 1);
	char v1[] = "one", v2[] = "two", b[16];
	struct cairn_iov val1 = iov(v1, 3), val2 = iov(v2, 3), out;
	struct cairn_handle oh, kh;

	CHECK(cairn_obj_open(coh, oid_of(200, CAIRN_OT_MULTI, CAIRN_OC_SX), 0, &oh, NULL), "open");
	/* bad flag combinations */
	EXPECT(cairn_obj_update_cond(oh, CAIRN_COND_DKEY_INSERT | CAIRN_COND_DKEY_UPDATE, &dk, &ak,
	                             &val1, NULL),
	       -CAIRN_ERR_INVAL, "insert+update");
	EXPECT(cairn_obj_update_cond(oh, CAIRN_COND_PUNCH, &dk, &ak, &val1, NULL), -CAIRN_ERR_INVAL,
	       "punch flag on update");
	/* dkey update-only on a missing dkey; insert; insert again */
	EXPECT(cairn_obj_update_cond(oh, CAIRN_COND_DKEY_UPDATE, &dk, &ak, &val1, NULL),
	       -CAIRN_ERR_NONEXIST, "DKEY_UPDATE of a missing dkey");
	CHECK(cairn_obj_update_cond(oh, CAIRN_COND_DKEY_INSERT, &dk, &ak, &val1, NULL),
	      "DKEY_INSERT");
	EXPECT(cairn_obj_update_cond(oh, CAIRN_COND_DKEY_INSERT, &dk, &ak, &val2, NULL),
	       -CAIRN_ERR_EXIST, "DKEY_INSERT again");
	out = iov(b, sizeof(b));
	CHECK(cairn_obj_fetch(oh, &dk, &ak, &out, NULL), "fetch");
	if (out.len != 3 || memcmp(b, "one", 3) != 0)
		FAIL("a refused insert changed the value");
	/* akey conditions within an existing dkey */
	EXPECT(cairn_obj_update_cond(oh, CAIRN_COND_AKEY_UPDATE, &dk, &ak2, &val2, NULL),
	       -CAIRN_ERR_NONEXIST, "AKEY_UPDATE of a missing akey");
	CHECK(cairn_obj_update_cond(oh, CAIRN_COND_DKEY_UPDATE | CAIRN_COND_AKEY_INSERT, &dk, &ak2,
	                            &val2, NULL),
	      "DKEY_UPDATE|AKEY_INSERT");
	EXPECT(cairn_obj_update_cond(oh, CAIRN_COND_AKEY_INSERT, &dk, &ak2, &val1, NULL),
	       -CAIRN_ERR_EXIST, "AKEY_INSERT of an existing akey");
	CHECK(cairn_obj_update_cond(oh, CAIRN_COND_AKEY_UPDATE, &dk, &ak, &val2, NULL),
	      "AKEY_UPDATE");
	out = iov(b, sizeof(b));
	CHECK(cairn_obj_fetch(oh, &dk, &ak, &out, NULL), "fetch 2");
	if (out.len != 3 || memcmp(b, "two", 3) != 0)
		FAIL("AKEY_UPDATE did not replace the value");
	/* conditional fetch */
	out = iov(b, sizeof(b));
	EXPECT(cairn_obj_fetch_cond(oh, CAIRN_COND_DKEY_FETCH, &dk2, &ak, &out, NULL),
	       -CAIRN_ERR_NONEXIST, "DKEY_FETCH of a missing dkey");
	out = iov(b, sizeof(b));
	CHECK(cairn_obj_fetch(oh, &dk2, &ak, &out, NULL), "plain fetch of a missing dkey");
	if (out.len != 0)
		FAIL("missing dkey fetched %zu bytes", out.len);
	out = iov(b, sizeof(b));
	EXPECT(cairn_obj_fetch_cond(oh, CAIRN_COND_AKEY_FETCH, &dk, &dk2, &out, NULL),
	       -CAIRN_ERR_NONEXIST, "AKEY_FETCH of a missing akey");
	out = iov(b, sizeof(b));
	CHECK(cairn_obj_fetch_cond(oh, CAIRN_COND_DKEY_FETCH, &dk, &dk2, &out, NULL),
	      "DKEY_FETCH: dkey exists, akey does not");
	out = iov(b, sizeof(b));
	CHECK(cairn_obj_fetch_cond(oh, CAIRN_COND_DKEY_FETCH | CAIRN_COND_AKEY_FETCH, &dk, &ak,
	                           &out, NULL),
	      "DKEY_FETCH|AKEY_FETCH of a value");
	/* conditional punch */
	EXPECT(cairn_obj_punch_cond(oh, CAIRN_COND_PUNCH, &dk2, NULL, NULL), -CAIRN_ERR_NONEXIST,
	       "COND_PUNCH of a missing dkey");
	EXPECT(cairn_obj_punch_cond(oh, CAIRN_COND_PUNCH, NULL, NULL, NULL), -CAIRN_ERR_INVAL,
	       "COND_PUNCH without a dkey");
	CHECK(cairn_obj_punch_cond(oh, CAIRN_COND_PUNCH, &dk, &ak2, NULL), "COND_PUNCH of an akey");
	EXPECT(cairn_obj_punch_cond(oh, CAIRN_COND_PUNCH, &dk, &ak2, NULL), -CAIRN_ERR_NONEXIST,
	       "COND_PUNCH of a punched akey");
	CHECK(cairn_obj_punch_cond(oh, CAIRN_COND_PUNCH, &dk, NULL, NULL), "COND_PUNCH of a dkey");
	/* a punched dkey can be inserted again */
	CHECK(cairn_obj_update_cond(oh, CAIRN_COND_DKEY_INSERT, &dk, &ak, &val1, NULL),
	      "DKEY_INSERT after punch");
	CHECK(cairn_obj_close(oh, NULL), "close");

	/* KV: put-if-absent, update-only */
	CHECK(cairn_kv_open(coh, oid_of(201, CAIRN_OT_KV, CAIRN_OC_SX), 0, &kh, NULL), "kv open");
	EXPECT(cairn_kv_put_cond(kh, CAIRN_KV_PUT_IF_ABSENT | CAIRN_KV_PUT_IF_EXISTS, &dk, &val1,
	                         NULL),
	       -CAIRN_ERR_INVAL, "both kv flags");
	EXPECT(cairn_kv_put_cond(kh, CAIRN_KV_PUT_IF_EXISTS, &dk, &val1, NULL), -CAIRN_ERR_NONEXIST,
	       "kv update-only of a missing key");
	CHECK(cairn_kv_put_cond(kh, CAIRN_KV_PUT_IF_ABSENT, &dk, &val1, NULL), "kv put-if-absent");
	EXPECT(cairn_kv_put_cond(kh, CAIRN_KV_PUT_IF_ABSENT, &dk, &val2, NULL), -CAIRN_ERR_EXIST,
	       "kv put-if-absent of an existing key");
	CHECK(cairn_kv_put_cond(kh, CAIRN_KV_PUT_IF_EXISTS, &dk, &val2, NULL), "kv update-only");
	out = iov(b, sizeof(b));
	CHECK(cairn_kv_get(kh, &dk, &out, NULL), "kv get");
	if (out.len != 3 || memcmp(b, "two", 3) != 0)
		FAIL("kv value after update-only");
	CHECK(cairn_kv_remove(kh, &dk, NULL), "kv remove");
	CHECK(cairn_kv_put_cond(kh, CAIRN_KV_PUT_IF_ABSENT, &dk, &val1, NULL),
	      "kv put-if-absent after remove");
	CHECK(cairn_kv_close(kh, NULL), "kv close");
	printf("cond ok\n");
	return 0;
}

/* ------------------------------------------------------------------ extents */

/* cairn_obj_list_recx: three extents listed in index order, two calls of room 2 (the
 * anchor resumes, eof on the second), holes not listed, nothing after a punch. */
static int
recx(struct cairn_handle coh)
{
	struct cairn_iov dk = iov("d", 1), ak = iov("a", 1), data;
	static const struct cairn_recx w[] = {{100, 50}, {0, 10}, {20, 5}};
	static const struct cairn_recx want[] = {{0, 10}, {20, 5}, {100, 50}};
	struct cairn_recx got[4];
	struct cairn_anchor anchor;
	struct cairn_handle oh;
	char buf[64] = {0};
	uint32_t nr, total = 0;

	CHECK(cairn_obj_open(coh, oid_of(500, CAIRN_OT_MULTI, CAIRN_OC_SX), 0, &oh, NULL),
	      "open");
	for (unsigned i = 0; i < 3; i++) {
		data = iov(buf, w[i].nr);
		CHECK(cairn_obj_update_recx(oh, &dk, &ak, 1, &w[i], &data, NULL), "update recx");
	}
	memset(&anchor, 0, sizeof(anchor));
	while (!anchor.eof) {
		nr = 2;
		CHECK(cairn_obj_list_recx(oh, &dk, &ak, &anchor, &nr, got + total, NULL),
		      "list recx");
		if (nr > 2 || total + nr > 3)
			FAIL("list recx returned %u extents (total %u)", nr, total + nr);
		total += nr;
		if (total < 3 && anchor.eof)
			FAIL("eof after %u of 3 extents", total);
	}
	if (total != 3)
		FAIL("listed %u extents, want 3", total);
	for (unsigned i = 0; i < 3; i++)
		if (got[i].idx != want[i].idx || got[i].nr != want[i].nr)
			FAIL("extent %u: [%llu, +%llu), want [%llu, +%llu)", i,
			     (unsigned long long)got[i].idx, (unsigned long long)got[i].nr,
			     (unsigned long long)want[i].idx, (unsigned long long)want[i].nr);
	nr = 0;
	memset(&anchor, 0, sizeof(anchor));
	EXPECT(cairn_obj_list_recx(oh, &dk, &ak, &anchor, &nr, got, NULL), -CAIRN_ERR_INVAL,
	       "list recx with no room");
	CHECK(cairn_obj_punch_cond(oh, 0, &dk, &ak, NULL), "punch akey");
	nr = 4;
	CHECK(cairn_obj_list_recx(oh, &dk, &ak, &anchor, &nr, got, NULL), "list after punch");
	if (nr != 0 || !anchor.eof)
		FAIL("after punch: %u extents, eof %d", nr, anchor.eof);
	CHECK(cairn_obj_close(oh, NULL), "close");
	printf("recx ok\n");
	return 0;
}

/* ------------------------------------------------------------------ race */

/* Start line: say we are ready (create `ready`), then wait (bounded) for `go` to exist,
 * so both racers start creating at the same moment. */
static int
race_start(const char *ready, const char *go)
{
	struct timespec ts = {.tv_nsec = 1000000};
	FILE *f = fopen(ready, "w");
	int i;

	if (f == NULL)
		FAIL("cannot create %s", ready);
	fclose(f);
	for (i = 0; i < 30000 && access(go, F_OK) != 0; i++)
		nanosleep(&ts, NULL);
	if (access(go, F_OK) != 0)
		FAIL("no start signal (%s) within 30 s", go);
	return 0;
}

static int
race(struct cairn_handle coh, uint64_t base, uint64_t n, bool down, const char *ready,
     const char *go)
{
	unsigned wins = 0, exists = 0;
	struct cairn_handle ah;
	uint64_t i;
	int rc;

	if (race_start(ready, go))
		return 1;
	for (i = 0; i < n; i++) {
		uint64_t lo = down ? base + n - 1 - i : base + i;

		rc = cairn_array_create(coh, oid_of(lo, CAIRN_OT_ARRAY, CAIRN_OC_SX), 1, 4096, &ah,
		                        NULL);
		if (rc == 0) {
			wins++;
			CHECK(cairn_array_close(ah, NULL), "close");
		} else if (rc == -CAIRN_ERR_EXIST) {
			exists++;
		} else {
			FAIL("array create %llu: %s", (unsigned long long)lo, cairn_strerror(rc));
		}
	}
	printf("wins %u exists %u\n", wins, exists);
	return 0;
}

/* ------------------------------------------------------------------ checksums */

#define BIG (100u << 10) /* by bulk */

static void
fill(char *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (char)(i * 131 + seed);
}

static int
all_zero(const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Write single values (inline and by bulk) and array extents (inline and by bulk) of
 * objects with id lo (a MULTI and an ARRAY object), all expected to succeed, then read
 * them back through the same handles, each read expected to return want_read: 0 (and the
 * data) or -CAIRN_ERR_CSUM (and a buffer left without the corrupt bytes). */
static int
csum_io(struct cairn_handle coh, uint64_t lo, unsigned seed, int want_read)
{
	struct cairn_iov dk = iov("d", 1), dk2 = iov("D", 1), ak = iov("v", 1), val;
	struct cairn_handle oh, ah;
	char *b = malloc(BIG), *r = malloc(BIG);

	if (b == NULL || r == NULL)
		FAIL("no memory");
	fill(b, BIG, seed);
	CHECK(cairn_obj_open(coh, oid_of(lo, CAIRN_OT_MULTI, CAIRN_OC_SX), 0, &oh, NULL), "open");
	val = iov(b, 100);
	CHECK(cairn_obj_update(oh, &dk, &ak, &val, NULL), "inline update");
	val = iov(b, BIG);
	CHECK(cairn_obj_update(oh, &dk2, &ak, &val, NULL), "bulk update");
	/* (create writes the metadata, reads nothing: the handle stays usable when the
	 * engine corrupts this object's fetches) */
	CHECK(cairn_array_create(coh, oid_of(lo, CAIRN_OT_ARRAY, CAIRN_OC_SX), 1, 0, &ah, NULL),
	      "array create");
	val = iov(b, 1000);
	CHECK(cairn_array_write(ah, 0, &val, NULL), "inline array write");
	val = iov(b, BIG);
	CHECK(cairn_array_write(ah, 4096, &val, NULL), "bulk array write");

	memset(r, 0x5a, BIG);
	val = iov(r, 100);
	EXPECT(cairn_obj_fetch(oh, &dk, &ak, &val, NULL), want_read, "inline fetch");
	if (want_read == 0 && (val.len != 100 || memcmp(r, b, 100) != 0))
		FAIL("inline value differs");
	if (want_read && memcmp(r, b, 100) == 0)
		FAIL("corrupt inline value reached the buffer");
	memset(r, 0x5a, BIG);
	val = iov(r, BIG);
	EXPECT(cairn_obj_fetch(oh, &dk2, &ak, &val, NULL), want_read, "bulk fetch");
	if (want_read == 0 && (val.len != BIG || memcmp(r, b, BIG) != 0))
		FAIL("bulk value differs");
	if (want_read && !all_zero(r, BIG))
		FAIL("corrupt bulk value left in the buffer");
	memset(r, 0x5a, BIG);
	val = iov(r, 1000);
	EXPECT(cairn_array_read(ah, 0, &val, NULL), want_read, "inline array read");
	if (want_read == 0 && memcmp(r, b, 1000) != 0)
		FAIL("inline extent differs");
	if (want_read && memcmp(r, b, 1000) == 0)
		FAIL("corrupt inline extent reached the buffer");
	memset(r, 0x5a, BIG);
	val = iov(r, BIG);
	EXPECT(cairn_array_read(ah, 4096, &val, NULL), want_read, "bulk array read");
	if (want_read == 0 && memcmp(r, b, BIG) != 0)
		FAIL("bulk extent differs");
	if (want_read && !all_zero(r, BIG))
		FAIL("corrupt bulk extent left in the buffer");
	CHECK(cairn_array_close(ah, NULL), "array close");
	CHECK(cairn_obj_close(oh, NULL), "close");
	free(b);
	free(r);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cairn_handle poh, coh;
	const char *mode;
	int rc = 2;

	if (argc < 4) {
		fprintf(stderr, "usage: dpath-client URI POOL props | URI POOL CONT MODE ...\n");
		return 2;
	}
	mode = argc == 4 ? argv[3] : argv[4];
	CHECK(cairn_init(), "init");
	CHECK(cairn_pool_connect(argv[2], argv[1], 0, &poh, NULL, NULL), "pool connect");
	if (argc == 4) {
		rc = strcmp(mode, "props") == 0 ? props(poh) : 2;
		goto out;
	}
	CHECK(cairn_cont_open(poh, argv[3], 0, &coh, NULL, NULL), "cont open");
	if (strcmp(mode, "chunk") == 0) {
		rc = chunk(coh);
	} else if (strcmp(mode, "cond") == 0) {
		rc = cond(coh);
	} else if (strcmp(mode, "recx") == 0) {
		rc = recx(coh);
	} else if (strcmp(mode, "race") == 0 && argc == 10) {
		rc = race(coh, strtoull(argv[5], NULL, 10), strtoull(argv[6], NULL, 10),
		          strcmp(argv[7], "down") == 0, argv[8], argv[9]);
	} else if (strcmp(mode, "csum-ok") == 0) {
		rc = csum_io(coh, 300, 1, 0);
		if (rc == 0)
			printf("csum-ok ok\n");
	} else if (strcmp(mode, "csum-client") == 0) {
		/* skip=2,count=2: the array's metadata and the first update go through, the
		 * next two (an inline value, a bulk extent) are corrupted on the way */
		struct cairn_iov dk = iov("d", 1), ak = iov("v", 1), val;
		struct cairn_handle oh, ah;
		char good[] = "good", bad[] = "bad!", b[8];

		rc = 1;
		CHECK(cairn_array_create(coh, oid_of(401, CAIRN_OT_ARRAY, CAIRN_OC_SX), 1, 0, &ah,
		                         NULL),
		      "array create");
		CHECK(cairn_obj_open(coh, oid_of(400, CAIRN_OT_MULTI, CAIRN_OC_SX), 0, &oh, NULL),
		      "open");
		val = iov(good, 4);
		CHECK(cairn_obj_update(oh, &dk, &ak, &val, NULL), "first update");
		val = iov(bad, 4);
		EXPECT(cairn_obj_update(oh, &dk, &ak, &val, NULL), -CAIRN_ERR_CSUM,
		       "corrupted inline update");
		{
			char *big = calloc(1, BIG);

			if (big == NULL)
				FAIL("no memory");
			/* one chunk of the 64 KiB container, by bulk (array writes are atomic per
			 * chunk only) */
			memset(big, 7, BIG);
			val = iov(big, 60000);
			EXPECT(cairn_array_write(ah, 0, &val, NULL), -CAIRN_ERR_CSUM,
			       "corrupted bulk extent");
			memset(big, 0x5a, BIG);
			CHECK(cairn_array_read(ah, 0, &val, NULL), "array read");
			if (!all_zero(big, 60000)) {
				size_t i = 0;

				while (i < 60000 && big[i] == 0)
					i++;
				FAIL("a refused extent was stored: byte %zu is %#x", i,
				     (unsigned)(uint8_t)big[i]);
			}
			CHECK(cairn_array_close(ah, NULL), "array close");
			free(big);
		}
		val = iov(b, sizeof(b));
		CHECK(cairn_obj_fetch(oh, &dk, &ak, &val, NULL), "fetch");
		if (val.len != 4 || memcmp(b, "good", 4) != 0)
			FAIL("a refused update was stored: %.*s", (int)val.len, b);
		val = iov(bad, 4);
		CHECK(cairn_obj_update(oh, &dk, &ak, &val, NULL), "update after the faults");
		CHECK(cairn_obj_close(oh, NULL), "close");
		rc = 0;
		printf("csum-client ok\n");
	} else if (strcmp(mode, "csum-off") == 0 && argc == 6) {
		/* a container without checksums: the engine's fault point is never reached */
		rc = csum_io(coh, strtoull(argv[5], NULL, 10), 5, 0);
		if (rc == 0)
			printf("csum-off ok\n");
	} else if (strcmp(mode, "csum-engine") == 0 && argc == 6) {
		uint64_t lo = strtoull(argv[5], NULL, 10);

		rc = csum_io(coh, lo, 3, -CAIRN_ERR_CSUM);
		/* another object of the same container reads fine */
		if (rc == 0)
			rc = csum_io(coh, lo + 1, 4, 0);
		if (rc == 0)
			printf("csum-engine ok\n");
	}
	CHECK(cairn_cont_close(coh, NULL), "cont close");
out:
	CHECK(cairn_pool_disconnect(poh, NULL), "pool disconnect");
	CHECK(cairn_fini(), "fini");
	return rc;
}
