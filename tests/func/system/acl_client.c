/*
 * Functional client of acl_func.sh, on libcairn against a real engine over loopback:
 *   acl-client URI POOL CONT
 * exercises the container property, attribute and snapshot API asynchronously (events on
 * an EQ) and synchronously: attributes set/get/list/del (TRUNC and size discovery),
 * properties get/set (bad masks refused), snapshot create/list/destroy, a container
 * opened at a snapshot reading the old value and refusing writes, and a read-only pool
 * connection refused changes. Exit 0 on success; each failure prints what differed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/cairn.h>
#include <cairn/cont.h>
#include <cairn/errno.h>
#include <cairn/event.h>
#include <cairn/obj.h>
#include <cairn/pool.h>

#define NR 8

#define CHECK(expr, what)                                                                     \
	do {                                                                                  \
		int rc_ = (expr);                                                             \
		if (rc_) {                                                                    \
			fprintf(stderr, "acl-client: %s: %s\n", what, cairn_strerror(rc_));   \
			return 1;                                                             \
		}                                                                             \
	} while (0)
#define EXPECT(expr, want, what)                                                              \
	do {                                                                                  \
		int rc_ = (expr);                                                             \
		if (rc_ != (want)) {                                                          \
			fprintf(stderr, "acl-client: %s: got %s, expected %s\n", what,        \
			        cairn_strerror(rc_), cairn_strerror(want));                   \
			return 1;                                                             \
		}                                                                             \
	} while (0)

/* Wait for n events of eq; every one must have succeeded. */
static int
wait_all(struct cairn_handle eq, int n, const char *what)
{
	struct cairn_event *done[NR];
	int got = 0, k, i;

	while (got < n) {
		k = cairn_eq_poll(eq, 1, 30000000, NR, done);
		if (k <= 0) {
			fprintf(stderr, "acl-client: %s: poll returned %d\n", what, k);
			return 1;
		}
		for (i = 0; i < k; i++)
			CHECK(done[i]->ev_error, what);
		got += k;
	}
	return 0;
}

static int
fetch_str(struct cairn_handle oh, const char *dkey, char *buf, size_t len)
{
	struct cairn_iov dk, ak, val;
	int rc;

	cairn_iov_set(&dk, (void *)dkey, strlen(dkey));
	cairn_iov_set(&ak, "data", 4);
	val.buf = buf;
	val.buf_len = len - 1;
	val.len = 0;
	rc = cairn_obj_fetch(oh, &dk, &ak, &val, NULL);
	if (rc == 0)
		buf[val.len] = '\0';
	return rc;
}

static int
put_str(struct cairn_handle oh, const char *dkey, const char *v)
{
	struct cairn_iov dk, ak, val;

	cairn_iov_set(&dk, (void *)dkey, strlen(dkey));
	cairn_iov_set(&ak, "data", 4);
	cairn_iov_set(&val, (void *)v, strlen(v));
	return cairn_obj_update(oh, &dk, &ak, &val, NULL);
}

static int
attrs(struct cairn_handle coh, struct cairn_handle eq)
{
	static struct cairn_event evs[NR];
	char names[NR][16], vals[NR][32], got[NR][64], list[NR * 16 + 64];
	size_t sizes[NR], size;
	int i, n = 0;

	for (i = 0; i < NR; i++) {
		snprintf(names[i], sizeof(names[i]), "k%d", i);
		snprintf(vals[i], sizeof(vals[i]), "value-%d-%.*s", i, i, "xxxxxxxx");
		CHECK(cairn_event_init(&evs[i], eq, NULL), "event init");
		CHECK(cairn_cont_set_attr(coh, names[i], vals[i], strlen(vals[i]), &evs[i]),
		      "set_attr launch");
	}
	if (wait_all(eq, NR, "set_attr"))
		return 1;
	for (i = 0; i < NR; i++) {
		sizes[i] = sizeof(got[i]);
		CHECK(cairn_cont_get_attr(coh, names[i], got[i], &sizes[i], &evs[i]),
		      "get_attr launch");
	}
	if (wait_all(eq, NR, "get_attr"))
		return 1;
	for (i = 0; i < NR; i++) {
		if (sizes[i] != strlen(vals[i]) || memcmp(got[i], vals[i], sizes[i]) != 0) {
			fprintf(stderr, "acl-client: attribute %s: got %zu bytes '%.*s'\n", names[i],
			        sizes[i], (int)sizes[i], got[i]);
			return 1;
		}
		cairn_event_fini(&evs[i]);
	}
	/* size discovery and a too-small buffer */
	size = 0;
	EXPECT(cairn_cont_get_attr(coh, "k7", NULL, &size, NULL), -CAIRN_ERR_TRUNC, "size probe");
	if (size != strlen(vals[7])) {
		fprintf(stderr, "acl-client: size probe said %zu\n", size);
		return 1;
	}
	size = 3;
	EXPECT(cairn_cont_get_attr(coh, "k7", got[0], &size, NULL), -CAIRN_ERR_TRUNC, "small buf");
	EXPECT(cairn_cont_get_attr(coh, "nope", got[0], &size, NULL), -CAIRN_ERR_NONEXIST,
	       "missing attr");
	EXPECT(cairn_cont_set_attr(coh, "", "x", 1, NULL), -CAIRN_ERR_INVAL, "empty name");
	EXPECT(cairn_cont_set_attr(coh, "big", list, CAIRN_ATTR_VALUE_MAX + 1, NULL),
	       -CAIRN_ERR_INVAL, "value too big");
	/* list: every name once */
	size = sizeof(list);
	CHECK(cairn_cont_list_attrs(coh, list, &size, NULL), "list_attrs");
	for (size_t off = 0; off < size; off += strlen(list + off) + 1)
		if (list[off] == 'k' && strlen(list + off) == 2)
			n++;
	if (n != NR) {
		fprintf(stderr, "acl-client: list_attrs found %d of %d names\n", n, NR);
		return 1;
	}
	size = 1;
	EXPECT(cairn_cont_list_attrs(coh, list, &size, NULL), -CAIRN_ERR_TRUNC, "list small");
	for (i = 0; i < NR; i++)
		CHECK(cairn_cont_del_attr(coh, names[i], NULL), "del_attr");
	EXPECT(cairn_cont_del_attr(coh, "k0", NULL), -CAIRN_ERR_NONEXIST, "del twice");
	return 0;
}

static int
props(struct cairn_handle coh, struct cairn_handle eq)
{
	struct cairn_cont_props p, q;
	struct cairn_event ev;

	CHECK(cairn_event_init(&ev, eq, NULL), "event init");
	CHECK(cairn_cont_get_props(coh, &p, &ev), "get_props launch");
	if (wait_all(eq, 1, "get_props"))
		return 1;
	EXPECT(cairn_cont_set_props(coh, &p, 0, NULL), -CAIRN_ERR_INVAL, "mask 0");
	EXPECT(cairn_cont_set_props(coh, &p, 0x100, NULL), -CAIRN_ERR_INVAL, "unknown bit");
	/* chunk size, checksum and rf are fixed at create */
	p.chunk_size = 128 << 10;
	EXPECT(cairn_cont_set_props(coh, &p, CAIRN_CONT_PROP_CHUNK, NULL), -CAIRN_ERR_PERM,
	       "chunk size is immutable");
	EXPECT(cairn_cont_set_props(coh, &p, CAIRN_CONT_PROP_RF | CAIRN_CONT_PROP_OCLASS, NULL),
	       -CAIRN_ERR_PERM, "rf is immutable");
	p.oclass = CAIRN_OC_S1;
	p.type = 99; /* read-only: ignored */
	CHECK(cairn_cont_set_props(coh, &p, CAIRN_CONT_PROP_OCLASS, &ev), "set_props launch");
	if (wait_all(eq, 1, "set_props"))
		return 1;
	CHECK(cairn_cont_get_props(coh, &q, NULL), "get_props");
	if (q.chunk_size != 1 << 20 || q.rf != 0 || q.oclass != CAIRN_OC_S1 ||
	    q.type != CAIRN_CONT_POSIX || strcmp(q.label, p.label) != 0) {
		fprintf(stderr, "acl-client: props after set: chunk %llu rf %u type %u label %s\n",
		        (unsigned long long)q.chunk_size, q.rf, q.type, q.label);
		return 1;
	}
	cairn_event_fini(&ev);
	return 0;
}

static int
snaps(struct cairn_handle poh, struct cairn_handle coh, const char *cont,
      struct cairn_handle eq)
{
	struct cairn_obj_id oid = {.lo = 77};
	struct cairn_handle oh, soh, scoh;
	cairn_epoch_t e1 = 0, list[CAIRN_SNAPS_MAX];
	struct cairn_event ev;
	uint32_t nr, i;
	char buf[64];
	bool found = false;

	CHECK(cairn_obj_id_generate(&oid, CAIRN_OT_MULTI, CAIRN_OC_SX), "oid");
	CHECK(cairn_obj_open(coh, oid, 0, &oh, NULL), "obj open");
	CHECK(put_str(oh, "d", "before"), "put before");
	CHECK(cairn_event_init(&ev, eq, NULL), "event init");
	CHECK(cairn_cont_create_snap(coh, &e1, &ev), "create_snap launch");
	if (wait_all(eq, 1, "create_snap"))
		return 1;
	CHECK(put_str(oh, "d", "after"), "put after");
	nr = 0;
	EXPECT(cairn_cont_list_snaps(coh, NULL, &nr, NULL), -CAIRN_ERR_TRUNC, "list_snaps probe");
	if (nr < 1) {
		fprintf(stderr, "acl-client: list_snaps probe said %u\n", nr);
		return 1;
	}
	nr = CAIRN_SNAPS_MAX;
	CHECK(cairn_cont_list_snaps(coh, list, &nr, &ev), "list_snaps launch");
	if (wait_all(eq, 1, "list_snaps"))
		return 1;
	for (i = 0; i < nr; i++)
		found |= list[i] == e1;
	if (!found) {
		fprintf(stderr, "acl-client: snapshot %llu not listed\n", (unsigned long long)e1);
		return 1;
	}
	CHECK(cairn_cont_open_snap(poh, cont, e1, &scoh, NULL, NULL), "open_snap");
	CHECK(cairn_obj_open(scoh, oid, 0, &soh, NULL), "obj open at snapshot");
	CHECK(fetch_str(soh, "d", buf, sizeof(buf)), "fetch at snapshot");
	if (strcmp(buf, "before") != 0) {
		fprintf(stderr, "acl-client: snapshot read '%s', expected 'before'\n", buf);
		return 1;
	}
	EXPECT(put_str(soh, "d", "x"), -CAIRN_ERR_PERM, "write at snapshot");
	CHECK(fetch_str(oh, "d", buf, sizeof(buf)), "fetch latest");
	if (strcmp(buf, "after") != 0) {
		fprintf(stderr, "acl-client: latest read '%s', expected 'after'\n", buf);
		return 1;
	}
	cairn_obj_close(soh, NULL);
	CHECK(cairn_cont_close(scoh, NULL), "close snapshot handle");
	CHECK(cairn_cont_destroy_snap(coh, e1, &ev), "destroy_snap launch");
	if (wait_all(eq, 1, "destroy_snap"))
		return 1;
	EXPECT(cairn_cont_destroy_snap(coh, e1, NULL), -CAIRN_ERR_NONEXIST, "destroy twice");
	EXPECT(cairn_cont_open_snap(poh, cont, e1, &scoh, NULL, NULL), -CAIRN_ERR_NONEXIST,
	       "open destroyed snapshot");
	EXPECT(cairn_cont_open_snap(poh, cont, 0, &scoh, NULL, NULL), -CAIRN_ERR_INVAL,
	       "open_snap epoch 0");
	cairn_event_fini(&ev);
	cairn_obj_close(oh, NULL);
	return 0;
}

static int
read_only(const char *uri, const char *pool, const char *cont)
{
	struct cairn_handle poh, coh;
	cairn_epoch_t e;
	size_t size = 0;

	CHECK(cairn_pool_connect(pool, uri, CAIRN_PC_RO, &poh, NULL, NULL), "connect RO");
	CHECK(cairn_cont_open(poh, cont, 0, &coh, NULL, NULL), "open RO");
	EXPECT(cairn_cont_set_attr(coh, "ro", "x", 1, NULL), -CAIRN_ERR_PERM, "set_attr RO");
	EXPECT(cairn_cont_create_snap(coh, &e, NULL), -CAIRN_ERR_PERM, "create_snap RO");
	CHECK(cairn_cont_list_attrs(coh, NULL, &size, NULL), "list_attrs RO");
	EXPECT(cairn_pool_connect(pool, uri, CAIRN_PC_RO | CAIRN_PC_RW, &poh, NULL, NULL),
	       -CAIRN_ERR_INVAL, "connect RO|RW");
	CHECK(cairn_cont_close(coh, NULL), "close RO");
	CHECK(cairn_pool_disconnect(poh, NULL), "disconnect RO");
	return 0;
}

int
main(int argc, char **argv)
{
	struct cairn_handle poh, coh, eq;
	int ret;

	if (argc != 4) {
		fprintf(stderr, "usage: acl-client URI POOL CONT\n");
		return 2;
	}
	CHECK(cairn_init(), "init");
	CHECK(cairn_pool_connect(argv[2], argv[1], CAIRN_PC_RW, &poh, NULL, NULL), "connect");
	CHECK(cairn_cont_open(poh, argv[3], 0, &coh, NULL, NULL), "open");
	CHECK(cairn_eq_create(&eq), "eq create");
	ret = attrs(coh, eq) || props(coh, eq) || snaps(poh, coh, argv[3], eq) ||
	      read_only(argv[1], argv[2], argv[3]);
	CHECK(cairn_eq_destroy(eq, 0), "eq destroy");
	CHECK(cairn_cont_close(coh, NULL), "close");
	CHECK(cairn_pool_disconnect(poh, NULL), "disconnect");
	cairn_fini();
	if (ret == 0)
		printf("acl-client: OK\n");
	return ret;
}
