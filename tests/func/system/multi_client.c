/*
 * Functional client of a 2-engine system (multi_func.sh): KV objects of class SX in a
 * pool spanning rank 0 and rank 1 (2 targets each). The client computes where each key
 * lives with the placement library on a map built like the pool service's (ranks 0 and
 * 1, 2 targets each, one fault domain per rank, no rebuild), so the test knows which
 * keys are on rank 1 without asking the engines.
 *   multi-client URI POOL CONT OID fill N       put k0..kN-1 (values "v<i>-<oid>"), check
 *                                               they landed on both ranks, read them back
 *   multi-client URI POOL CONT OID check N      every key reads back right
 *   multi-client URI POOL CONT OID down N       (rank 1 stopped) keys on rank 0 read back,
 *                                               keys on rank 1 fail with UNREACH, fast
 *   multi-client URI POOL CONT OID stale SOCK   put rank-1 keys with map v, bump the map
 *                                               (pool service dRPC SOCK), put rank-1 keys
 *                                               again: STALE from rank 1, refresh, success
 *   multi-client URI POOL CONT OID writer FILE STOPFILE
 *                                               put w0, w1, ... one at a time until
 *                                               STOPFILE exists; each acknowledged key is
 *                                               appended to FILE; failures are counted
 *                                               and the writer goes on
 *   multi-client URI POOL CONT OID verify FILE  every key in FILE reads back right
 * Exit 0 on success; every failure says what differed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cairn/cairn.h>
#include <cairn/cont.h>
#include <cairn/errno.h>
#include <cairn/kv.h>
#include <cairn/pool.h>

#include "common/hash.h"
#include "drpc/drpc.h"
#include "engine/srv_api.h"
#include "placement/placement.h"

#define FUNC_CLIENT_NAME "multi-client"
#define FUNC_FAIL_RETURN exit(1)
#include "func_client.h"

#define NR_RANKS 2
#define TGTS_PER_RANK 2

static struct cairn_handle g_poh, g_coh, g_oh;
static struct cairn_obj_id g_oid;
static unsigned long g_oid_lo;

static void
open_all(const char *uri, const char *pool, const char *cont, const char *oid)
{
	char *end;
	int rc;

	errno = 0;
	g_oid_lo = strtoul(oid, &end, 10);
	if (errno || *end != '\0' || g_oid_lo == 0)
		FAIL("OID '%s' is not a positive number", oid);
	g_oid.lo = g_oid_lo;
	g_oid.hi = 0;
	CHECK(cairn_obj_id_generate(&g_oid, CAIRN_OT_KV, CAIRN_OC_SX), "oid");
	CHECK(cairn_init(), "init");
	CHECK(cairn_pool_connect(pool, uri, CAIRN_PC_RW, &g_poh, NULL, NULL), "pool connect");
	rc = cairn_cont_open(g_poh, cont, 0, &g_coh, NULL, NULL);
	if (rc) {
		cairn_pool_disconnect(g_poh, NULL); /* leave no connection behind */
		FAIL("cont open %s: %s", cont, cairn_strerror(rc));
	}
	CHECK(cairn_kv_open(g_coh, g_oid, 0, &g_oh, NULL), "kv open");
}

static void
close_all(void)
{
	CHECK(cairn_kv_close(g_oh, NULL), "kv close");
	CHECK(cairn_cont_close(g_coh, NULL), "cont close");
	CHECK(cairn_pool_disconnect(g_poh, NULL), "pool disconnect");
	CHECK(cairn_fini(), "fini");
}

/* The rank holding key, from a map built the way the pool service builds it. */
static uint32_t
key_rank(const char *key)
{
	struct cairn_pool_map *map;
	struct cairn_pl_layout l;
	struct cairn_pmap_target t;
	uint32_t tgt;

	CHECK(cairn_pmap_create(1, &map), "pmap create");
	for (uint32_t r = 0; r < NR_RANKS; r++)
		CHECK(cairn_pmap_add_rank(map, r, r, TGTS_PER_RANK, CAIRN_TGT_UP, false),
		      "pmap add rank");
	CHECK(cairn_pmap_set_flags(map, CAIRN_PMAP_F_NO_REBUILD), "pmap flags");
	CHECK(cairn_pl_obj_layout(map, g_oid, &l), "layout");
	CHECK(cairn_pl_dkey_target(map, &l, cairn_hash_bytes(key, strlen(key), 0), &tgt),
	      "dkey target");
	CHECK(cairn_pmap_target(map, tgt, &t), "target");
	cairn_pl_layout_fini(&l);
	cairn_pmap_destroy(map);
	return t.rank;
}

static void
value_of(const char *key, char *buf, size_t len)
{
	snprintf(buf, len, "%s-value-of-oid-%lu", key, g_oid_lo);
}

static int
put(const char *key)
{
	char val[128];
	struct cairn_iov k = {(void *)key, strlen(key), strlen(key)};
	struct cairn_iov v = {val, 0, 0};

	value_of(key, val, sizeof(val));
	v.buf_len = v.len = strlen(val);
	return cairn_kv_put(g_oh, &k, &v, NULL);
}

/* 0 when the value reads back right, 1 on a mismatch, else the error. */
static int
get_check(const char *key)
{
	char want[128], got[256];
	struct cairn_iov k = {(void *)key, strlen(key), strlen(key)};
	struct cairn_iov v = {got, sizeof(got) - 1, 0};
	int rc;

	value_of(key, want, sizeof(want));
	rc = cairn_kv_get(g_oh, &k, &v, NULL);
	if (rc)
		return rc;
	if (v.len != strlen(want) || memcmp(got, want, v.len) != 0)
		return 1;
	return 0;
}

static unsigned
parse_n(const char *s)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end != '\0' || n == 0 || n > 100000)
		FAIL("N '%s' must be 1..100000", s);
	return (unsigned)n;
}

static int
fill(unsigned n)
{
	unsigned on[NR_RANKS] = {0}, i;
	char key[32];
	int rc;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		CHECK(put(key), key);
		on[key_rank(key)]++;
	}
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		rc = get_check(key);
		if (rc)
			FAIL("%s: %s", key, rc == 1 ? "value mismatch" : cairn_strerror(rc));
	}
	if (on[0] == 0 || on[1] == 0)
		FAIL("keys on rank 0: %u, on rank 1: %u: expected both", on[0], on[1]);
	printf("fill: %u keys, %u on rank 0, %u on rank 1, all read back\n", n, on[0], on[1]);
	return 0;
}

static int
check(unsigned n)
{
	char key[32];
	unsigned i;
	int rc;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		rc = get_check(key);
		if (rc)
			FAIL("%s: %s", key, rc == 1 ? "value mismatch" : cairn_strerror(rc));
	}
	printf("check: %u keys read back\n", n);
	return 0;
}

static int
down(unsigned n)
{
	unsigned ok = 0, unreach = 0, i;
	char key[32];
	int rc;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		rc = get_check(key);
		if (key_rank(key) == 0) {
			if (rc)
				FAIL("%s (rank 0): %s", key,
				      rc == 1 ? "value mismatch" : cairn_strerror(rc));
			ok++;
		} else {
			if (rc != -CAIRN_ERR_UNREACH)
				FAIL("%s (rank 1, down): got %s, expected UNREACH", key,
				      rc == 1 ? "a wrong value" : cairn_strerror(rc));
			unreach++;
		}
	}
	/* a write to a key on the down rank fails the same way */
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		if (key_rank(key) != 1)
			continue;
		rc = put(key);
		if (rc != -CAIRN_ERR_UNREACH)
			FAIL("put %s (rank 1, down): got %s, expected UNREACH", key,
			      cairn_strerror(rc));
		break;
	}
	printf("down: %u keys on rank 0 read back, %u on rank 1 UNREACH\n", ok, unreach);
	return 0;
}

/* Bump the pool map through the pool service's dRPC socket; the new version. */
static uint32_t
map_bump(const char *sock, const char *pool)
{
	struct cairn_drpc_response resp;
	struct cairn_drpc_client *cl;
	char body[256], *txt;
	const char *v;
	uint32_t ver = 0;

	snprintf(body, sizeof(body), "{\"pool\": \"%s\"}", pool);
	CHECK(cairn_drpc_client_connect(sock, 5000, &cl), "dRPC connect");
	CHECK(cairn_drpc_client_call(cl, CAIRN_DRPC_MODULE_POOL, SRV_DRPC_POOL_MAP_BUMP, body,
	                             strlen(body), 30000, &resp),
	      "pool_map_bump");
	cairn_drpc_client_close(cl);
	if (resp.status)
		FAIL("pool_map_bump: %s: %.*s", cairn_strerror(resp.status), (int)resp.body_len,
		      (const char *)resp.body);
	txt = strndup((const char *)resp.body, resp.body_len);
	v = txt ? strstr(txt, "\"map_version\":") : NULL;
	if (v == NULL || sscanf(v + strlen("\"map_version\":"), " %u", &ver) != 1)
		FAIL("pool_map_bump: no map_version in the reply");
	free(txt);
	cairn_drpc_response_release(&resp);
	return ver;
}

static int
stale(const char *pool, const char *sock)
{
	struct cairn_pool_info info, info2;
	char key[32];
	unsigned i, n = 0;
	uint32_t ver;
	int rc;

	CHECK(cairn_pool_query(g_poh, &info, NULL), "query");
	for (i = 0; n < 8 && i < 1000; i++) {
		snprintf(key, sizeof(key), "s%u", i);
		if (key_rank(key) != 1)
			continue;
		CHECK(put(key), "put before the bump");
		n++;
	}
	ver = map_bump(sock, pool);
	if (ver != info.map_version + 1)
		FAIL("map version after the bump: %u, expected %u", ver, info.map_version + 1);
	printf("stale: client holds map v%u, pool service moved to v%u\n", info.map_version,
	       ver);
	fflush(stdout);
	/* Only keys on rank 1 from here: the STALE answer can only come from rank 1. */
	for (i = 0, n = 0; n < 8 && i < 1000; i++) {
		snprintf(key, sizeof(key), "s%u", i);
		if (key_rank(key) != 1)
			continue;
		CHECK(put(key), "put on rank 1 with the old map");
		rc = get_check(key);
		if (rc)
			FAIL("%s: %s", key, rc == 1 ? "value mismatch" : cairn_strerror(rc));
		n++;
	}
	CHECK(cairn_pool_query(g_poh, &info2, NULL), "query after");
	if (info2.map_version != ver)
		FAIL("client map v%u after the refresh, pool at v%u", info2.map_version, ver);
	printf("stale: refreshed to v%u by rank 1 and retried\n", ver);
	return 0;
}

static int
writer(const char *file, const char *stopfile)
{
	unsigned i, acked = 0, failed = 0;
	char key[32];
	FILE *f = fopen(file, "a");
	int rc;

	if (f == NULL)
		FAIL("%s: %s", file, strerror(errno));
	for (i = 0; i < 1000000 && access(stopfile, F_OK) != 0; i++) {
		snprintf(key, sizeof(key), "w%u", i);
		rc = put(key);
		if (rc) {
			if (failed++ < 5 || failed % 100 == 0)
				fprintf(stderr, "multi-client: writer: put %s: %s (%u failed)\n",
				        key, cairn_strerror(rc), failed);
			usleep(20000);
			continue;
		}
		fprintf(f, "%s\n", key);
		fflush(f);
		acked++;
		usleep(2000);
	}
	fclose(f);
	printf("writer: %u acknowledged, %u failed\n", acked, failed);
	return 0;
}

static int
verify(const char *file)
{
	char line[64];
	unsigned n = 0, on1 = 0;
	FILE *f = fopen(file, "r");
	int rc;

	if (f == NULL)
		FAIL("%s: %s", file, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		rc = get_check(line);
		if (rc)
			FAIL("acknowledged %s: %s", line,
			      rc == 1 ? "value mismatch" : cairn_strerror(rc));
		n++;
		on1 += key_rank(line) == 1;
	}
	fclose(f);
	if (n == 0)
		FAIL("no acknowledged write in %s", file);
	printf("verify: %u acknowledged writes read back (%u on rank 1)\n", n, on1);
	return 0;
}

int
main(int argc, char **argv)
{
	int rc;

	if (argc < 7) {
		fprintf(stderr, "usage: multi-client URI POOL CONT OID fill|check|down N | stale "
		                "SOCK | writer FILE STOPFILE | verify FILE\n");
		return 2;
	}
	open_all(argv[1], argv[2], argv[3], argv[4]);
	if (strcmp(argv[5], "fill") == 0)
		rc = fill(parse_n(argv[6]));
	else if (strcmp(argv[5], "check") == 0)
		rc = check(parse_n(argv[6]));
	else if (strcmp(argv[5], "down") == 0)
		rc = down(parse_n(argv[6]));
	else if (strcmp(argv[5], "stale") == 0)
		rc = stale(argv[2], argv[6]);
	else if (strcmp(argv[5], "writer") == 0 && argc == 8)
		rc = writer(argv[6], argv[7]);
	else if (strcmp(argv[5], "verify") == 0)
		rc = verify(argv[6]);
	else
		FAIL("unknown mode '%s'", argv[5]);
	close_all();
	return rc;
}
