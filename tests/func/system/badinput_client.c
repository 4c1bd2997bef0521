/*
 * Functional client of badinput_func.sh (libcairn against a real engine on loopback):
 *   badinput-client URI POOL CONT lib
 *     unknown pool/container names, over-long and malformed labels, keys and values
 *     beyond their limits, empty keys/values, attribute limits: each refused with the
 *     documented code; a reference value written first still reads back after each.
 *   badinput-client URI POOL CONT hold
 *     connect + open + write, print "holding", wait for a line on stdin (the pool is
 *     force-destroyed meanwhile), then I/O and close must fail cleanly (no hang, no
 *     crash) and disconnect must return; exit 0 when every error was a sane one.
 *   badinput-client URI POOL CONT fill
 *     write 1 MiB values until -CAIRN_ERR_NOSPACE, verify every acknowledged value,
 *     punch all but two, then write again until the space comes back (aggregation
 *     frees the punched versions; bounded retries) and on until NOSPACE again; verify
 *     the kept and new values and that punched ones read as empty.
 * Exit 0 on success; every failure says what differed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cairn/cairn.h>
#include <cairn/cont.h>
#include <cairn/errno.h>
#include <cairn/obj.h>
#include <cairn/pool.h>

#define FUNC_CLIENT_NAME "badinput-client"
#include "func_client.h"
/* EXPECT also logs what was refused */
#undef EXPECT
#define EXPECT(expr, want, what)                                                                   \
	do {                                                                                       \
		int rc_ = (expr);                                                                  \
		if (rc_ != (want))                                                                 \
			FAIL("%s: got %s, expected %s", what, cairn_strerror(rc_),                \
			      cairn_strerror(want));                                               \
		printf("refused: %-40s %s\n", what, cairn_strerror(rc_));                          \
	} while (0)

static const char g_ref[] = "reference value written before the bad input";

static int
put(struct cairn_handle oh, const char *dkey, const void *val, size_t len)
{
	struct cairn_iov dk, ak, v;

	cairn_iov_set(&dk, (void *)dkey, strlen(dkey));
	cairn_iov_set(&ak, "a", 1);
	cairn_iov_set(&v, (void *)val, len);
	return cairn_obj_update(oh, &dk, &ak, &v, NULL);
}

/* Fetch dkey into buf (room len); *got = its size. */
static int
get(struct cairn_handle oh, const char *dkey, void *buf, size_t len, size_t *got)
{
	struct cairn_iov dk, ak, v;
	int rc;

	cairn_iov_set(&dk, (void *)dkey, strlen(dkey));
	cairn_iov_set(&ak, "a", 1);
	cairn_iov_set(&v, buf, len);
	v.len = 0;
	rc = cairn_obj_fetch(oh, &dk, &ak, &v, NULL);
	*got = v.len;
	return rc;
}

static int
check_ref(struct cairn_handle oh, const char *after)
{
	char buf[128];
	size_t n;

	CHECK(get(oh, "ref", buf, sizeof(buf), &n), "read the reference value");
	if (n != sizeof(g_ref) || memcmp(buf, g_ref, n) != 0)
		FAIL("after %s: the reference value changed", after);
	return 0;
}

static int
lib(const char *uri, const char *pool, const char *cont)
{
	struct cairn_handle poh, coh, coh2, oh;
	struct cairn_obj_id oid;
	struct cairn_iov dk, ak, v;
	char label[80], *big, buf[64];
	size_t n;

	CHECK(cairn_init(), "init");
	/* Pools that do not exist, names that cannot be pools. */
	EXPECT(cairn_pool_connect("nosuchpool", uri, CAIRN_PC_RW, &poh, NULL, NULL),
	       -CAIRN_ERR_NONEXIST, "connect to an unknown pool label");
	EXPECT(cairn_pool_connect("00000000-0000-4000-8000-000000000001", uri, CAIRN_PC_RW, &poh,
	                          NULL, NULL),
	       -CAIRN_ERR_NONEXIST, "connect to an unknown pool UUID");
	memset(label, 'p', 70);
	label[70] = '\0';
	/* No pool can have such a label: "does not exist" (the documented code). */
	EXPECT(cairn_pool_connect(label, uri, CAIRN_PC_RW, &poh, NULL, NULL), -CAIRN_ERR_NONEXIST,
	       "connect with a 70-byte label");
	EXPECT(cairn_pool_connect("", uri, CAIRN_PC_RW, &poh, NULL, NULL), -CAIRN_ERR_INVAL,
	       "connect with an empty label");
	EXPECT(cairn_pool_connect(NULL, uri, CAIRN_PC_RW, &poh, NULL, NULL), -CAIRN_ERR_INVAL,
	       "connect with a NULL label");
	EXPECT(cairn_pool_connect(pool, uri, 0x80, &poh, NULL, NULL), -CAIRN_ERR_INVAL,
	       "connect with unknown flags");
	EXPECT(cairn_pool_connect(pool, "tcp://127.0.0.1", CAIRN_PC_RW, &poh, NULL, NULL),
	       -CAIRN_ERR_INVAL, "connect with a URI without a port");

	CHECK(cairn_pool_connect(pool, uri, CAIRN_PC_RW, &poh, NULL, NULL), "connect");
	EXPECT(cairn_cont_open(poh, "nosuchcont", 0, &coh, NULL, NULL), -CAIRN_ERR_NONEXIST,
	       "open an unknown container label");
	EXPECT(cairn_cont_open(poh, label, 0, &coh, NULL, NULL), -CAIRN_ERR_NONEXIST,
	       "open a 70-byte container label");
	EXPECT(cairn_cont_create(poh, label, CAIRN_CONT_POSIX, CAIRN_OC_UNKNOWN, NULL, NULL),
	       -CAIRN_ERR_INVAL, "create a 70-byte container label");
	EXPECT(cairn_cont_create(poh, "no/slash", CAIRN_CONT_POSIX, CAIRN_OC_UNKNOWN, NULL, NULL),
	       -CAIRN_ERR_INVAL, "create a label with '/'");
	EXPECT(cairn_cont_destroy(poh, "nosuchcont", false, NULL), -CAIRN_ERR_NONEXIST,
	       "destroy an unknown container");

	CHECK(cairn_cont_open(poh, cont, 0, &coh, NULL, NULL), "open");
	CHECK(cairn_cont_alloc_oid(coh, CAIRN_OT_MULTI, CAIRN_OC_UNKNOWN, &oid, NULL), "oid");
	CHECK(cairn_obj_open(coh, oid, 0, &oh, NULL), "obj open");
	CHECK(put(oh, "ref", g_ref, sizeof(g_ref)), "write the reference value");

	/* Keys and values beyond their limits. */
	big = calloc(1, (size_t)CAIRN_OBJ_VALUE_MAX + 1);
	if (big == NULL)
		FAIL("out of memory");
	memset(big, 'k', CAIRN_OBJ_KEY_MAX + 1);
	cairn_iov_set(&ak, "a", 1);
	cairn_iov_set(&v, "x", 1);
	cairn_iov_set(&dk, big, CAIRN_OBJ_KEY_MAX + 1);
	EXPECT(cairn_obj_update(oh, &dk, &ak, &v, NULL), -CAIRN_ERR_INVAL,
	       "update a 4097-byte dkey");
	EXPECT(cairn_obj_fetch(oh, &dk, &ak, &v, NULL), -CAIRN_ERR_INVAL, "fetch a 4097-byte dkey");
	cairn_iov_set(&dk, "d", 1);
	cairn_iov_set(&ak, big, CAIRN_OBJ_KEY_MAX + 1);
	EXPECT(cairn_obj_update(oh, &dk, &ak, &v, NULL), -CAIRN_ERR_INVAL,
	       "update a 4097-byte akey");
	cairn_iov_set(&ak, "a", 1);
	cairn_iov_set(&dk, big, 0);
	EXPECT(cairn_obj_update(oh, &dk, &ak, &v, NULL), -CAIRN_ERR_INVAL, "update an empty dkey");
	cairn_iov_set(&dk, "d", 1);
	cairn_iov_set(&v, big, 0);
	EXPECT(cairn_obj_update(oh, &dk, &ak, &v, NULL), -CAIRN_ERR_INVAL, "update an empty value");
	cairn_iov_set(&v, big, (size_t)CAIRN_OBJ_VALUE_MAX + 1);
	EXPECT(cairn_obj_update(oh, &dk, &ak, &v, NULL), -CAIRN_ERR_OVERFLOW,
	       "update a 64 MiB + 1 value");
	cairn_iov_set(&v, NULL, 10);
	EXPECT(cairn_obj_update(oh, &dk, &ak, &v, NULL), -CAIRN_ERR_INVAL,
	       "update a NULL value buffer");
	EXPECT(cairn_obj_update(oh, NULL, &ak, &v, NULL), -CAIRN_ERR_INVAL, "update a NULL dkey");
	/* A key at the limit works. */
	memset(big, 'k', CAIRN_OBJ_KEY_MAX);
	cairn_iov_set(&dk, big, CAIRN_OBJ_KEY_MAX);
	cairn_iov_set(&v, "limit", 5);
	CHECK(cairn_obj_update(oh, &dk, &ak, &v, NULL), "update a 4096-byte dkey");
	cairn_iov_set(&v, buf, sizeof(buf));
	v.len = 0;
	CHECK(cairn_obj_fetch(oh, &dk, &ak, &v, NULL), "fetch a 4096-byte dkey");
	if (v.len != 5 || memcmp(buf, "limit", 5) != 0)
		FAIL("the 4096-byte dkey read back wrong");
	/* A buffer too small: TRUNC with the size needed. */
	cairn_iov_set(&v, buf, 2);
	v.len = 0;
	EXPECT(cairn_obj_fetch(oh, &dk, &ak, &v, NULL), -CAIRN_ERR_TRUNC, "fetch into 2 bytes");
	if (v.len != 5)
		FAIL("TRUNC reported %zu bytes needed, expected 5", v.len);

	/* Attributes beyond their limits. */
	memset(big, 'n', CAIRN_ATTR_NAME_MAX + 1);
	big[CAIRN_ATTR_NAME_MAX + 1] = '\0';
	EXPECT(cairn_cont_set_attr(coh, big, "v", 1, NULL), -CAIRN_ERR_INVAL,
	       "set a 256-byte attribute name");
	EXPECT(cairn_cont_set_attr(coh, "a", big, CAIRN_ATTR_VALUE_MAX + 1, NULL), -CAIRN_ERR_INVAL,
	       "set a 4001-byte attribute value");
	EXPECT(cairn_cont_set_attr(coh, "", "v", 1, NULL), -CAIRN_ERR_INVAL,
	       "set an empty attribute name");
	free(big);

	/* Destroying an open container without force is refused; the data stays. */
	EXPECT(cairn_cont_destroy(poh, cont, false, NULL), -CAIRN_ERR_BUSY,
	       "destroy an open container");
	CHECK(check_ref(oh, "the bad input"), "reference");
	CHECK(get(oh, "ref", buf, sizeof(buf), &n), "read again");

	/* Opening twice works; the handles are independent. */
	CHECK(cairn_cont_open(poh, cont, 0, &coh2, NULL, NULL), "second open");
	CHECK(cairn_cont_close(coh2, NULL), "second close");
	EXPECT(cairn_cont_close(coh2, NULL), -CAIRN_ERR_NOHANDLE, "close a closed handle");
	CHECK(cairn_obj_close(oh, NULL), "obj close");
	CHECK(cairn_cont_close(coh, NULL), "close");
	CHECK(cairn_pool_disconnect(poh, NULL), "disconnect");
	EXPECT(cairn_pool_disconnect(poh, NULL), -CAIRN_ERR_NOHANDLE, "disconnect twice");
	CHECK(cairn_fini(), "fini");
	printf("lib: every bad input refused; reference value intact\n");
	return 0;
}

/* An error a client may see once its pool was destroyed under it. */
static bool
gone_error(int rc)
{
	return rc == -CAIRN_ERR_NONEXIST || rc == -CAIRN_ERR_NOHANDLE || rc == -CAIRN_ERR_PERM ||
	       rc == -CAIRN_ERR_STALE;
}

static int
hold(const char *uri, const char *pool, const char *cont)
{
	struct cairn_handle poh, coh, oh;
	struct cairn_obj_id oid;
	char line[16], buf[128];
	size_t n;
	int rc;

	CHECK(cairn_init(), "init");
	CHECK(cairn_pool_connect(pool, uri, CAIRN_PC_RW, &poh, NULL, NULL), "connect");
	CHECK(cairn_cont_open(poh, cont, 0, &coh, NULL, NULL), "open");
	CHECK(cairn_cont_alloc_oid(coh, CAIRN_OT_MULTI, CAIRN_OC_UNKNOWN, &oid, NULL), "oid");
	CHECK(cairn_obj_open(coh, oid, 0, &oh, NULL), "obj open");
	CHECK(put(oh, "ref", g_ref, sizeof(g_ref)), "write");
	printf("holding\n");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		FAIL("no line on stdin");
	/* The pool was destroyed with --force under this connection. */
	rc = put(oh, "after", g_ref, sizeof(g_ref));
	if (!gone_error(rc))
		FAIL("write into a destroyed pool: %s", cairn_strerror(rc));
	printf("write after the forced destroy: %s\n", cairn_strerror(rc));
	rc = get(oh, "ref", buf, sizeof(buf), &n);
	if (!gone_error(rc))
		FAIL("read from a destroyed pool: %s", cairn_strerror(rc));
	printf("read after the forced destroy: %s\n", cairn_strerror(rc));
	cairn_obj_close(oh, NULL);
	rc = cairn_cont_close(coh, NULL);
	if (rc && !gone_error(rc))
		FAIL("close in a destroyed pool: %s", cairn_strerror(rc));
	rc = cairn_pool_disconnect(poh, NULL);
	if (rc && !gone_error(rc))
		FAIL("disconnect from a destroyed pool: %s", cairn_strerror(rc));
	CHECK(cairn_fini(), "fini");
	printf("hold: clean errors after the forced destroy\n");
	return 0;
}

#define FILL_VAL (1u << 20)
#define FILL_MAX 200

static void
fill_pattern(char *b, unsigned i)
{
	uint64_t x = 0x2545f4914f6cdd1dull * (i + 1);
	size_t k;

	for (k = 0; k < FILL_VAL; k += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(b + k, &x, 8);
	}
}

static int
fill(const char *uri, const char *pool, const char *cont)
{
	static bool acked[FILL_MAX];
	struct cairn_handle poh, coh, oh;
	struct cairn_obj_id oid;
	struct cairn_iov dk;
	unsigned i, nr_acked = 0, kept = 0, tries, first_fail = FILL_MAX;
	unsigned nr_punched = 0, nr_again;
	char key[32], *want, *got;
	size_t n;
	int rc;

	want = malloc(FILL_VAL);
	got = malloc(FILL_VAL);
	if (want == NULL || got == NULL)
		FAIL("out of memory");
	CHECK(cairn_init(), "init");
	CHECK(cairn_pool_connect(pool, uri, CAIRN_PC_RW, &poh, NULL, NULL), "connect");
	CHECK(cairn_cont_open(poh, cont, 0, &coh, NULL, NULL), "open");
	CHECK(cairn_cont_alloc_oid(coh, CAIRN_OT_MULTI, CAIRN_OC_UNKNOWN, &oid, NULL), "oid");
	CHECK(cairn_obj_open(coh, oid, 0, &oh, NULL), "obj open");

	/* Write until NOSPACE, then 8 more keys (they may land on a target with room). */
	for (i = 0; i < FILL_MAX; i++) {
		snprintf(key, sizeof(key), "k%03u", i);
		fill_pattern(want, i);
		rc = put(oh, key, want, FILL_VAL);
		if (rc == 0) {
			acked[i] = true;
			nr_acked++;
		} else if (rc == -CAIRN_ERR_NOSPACE) {
			if (first_fail == FILL_MAX)
				first_fail = i;
		} else {
			FAIL("write %s: %s (expected success or NOSPACE)", key,
			      cairn_strerror(rc));
		}
		if (first_fail != FILL_MAX && i >= first_fail + 8)
			break;
	}
	if (first_fail == FILL_MAX)
		FAIL("%u MiB fit in the pool without NOSPACE", FILL_MAX);
	printf("fill: NOSPACE at write %u; %u writes of 1 MiB acknowledged\n", first_fail,
	       nr_acked);
	/* Nothing acknowledged is lost. */
	for (i = 0; i < FILL_MAX; i++) {
		if (!acked[i])
			continue;
		snprintf(key, sizeof(key), "k%03u", i);
		fill_pattern(want, i);
		CHECK(get(oh, key, got, FILL_VAL, &n), "read back a value written before NOSPACE");
		if (n != FILL_VAL || memcmp(got, want, FILL_VAL) != 0)
			FAIL("%s: acknowledged value differs after NOSPACE", key);
	}
	/* Punch all acknowledged keys but the first two. */
	for (i = 0; i < FILL_MAX; i++) {
		if (!acked[i])
			continue;
		if (kept < 2) {
			kept++;
			continue;
		}
		snprintf(key, sizeof(key), "k%03u", i);
		cairn_iov_set(&dk, key, strlen(key));
		CHECK(cairn_obj_punch(oh, &dk, NULL), "punch in a full pool");
		acked[i] = false;
		nr_punched++;
	}
	/* The space comes back once aggregation drops the punched versions: retry the
	 * write that failed first (bounded: 600 x 100 ms). */
	snprintf(key, sizeof(key), "k%03u", first_fail);
	fill_pattern(want, first_fail);
	for (tries = 1; tries <= 600; tries++) {
		rc = put(oh, key, want, FILL_VAL);
		if (rc == 0)
			break;
		if (rc != -CAIRN_ERR_NOSPACE)
			FAIL("write after punching: %s", cairn_strerror(rc));
		usleep(100000);
	}
	if (rc)
		FAIL("still NOSPACE after punching and %u retries", tries - 1);
	acked[first_fail] = true;
	printf("fill: the write that hit NOSPACE succeeded after punching (try %u)\n", tries);
	/* And more, until NOSPACE again (each key retried while aggregation may still be
	 * freeing): at least a quarter of what was punched must fit again (dkeys hash to
	 * the two targets unevenly, so one target may fill up first). */
	for (nr_again = 0; nr_again < FILL_MAX; nr_again++) {
		snprintf(key, sizeof(key), "again%03u", nr_again);
		fill_pattern(want, 1000 + nr_again);
		rc = put(oh, key, want, FILL_VAL);
		for (tries = 0; rc == -CAIRN_ERR_NOSPACE && tries < 30; tries++) {
			usleep(100000);
			rc = put(oh, key, want, FILL_VAL);
		}
		if (rc == -CAIRN_ERR_NOSPACE)
			break;
		if (rc)
			FAIL("write %s after punching: %s", key, cairn_strerror(rc));
	}
	if (nr_again < nr_punched / 4)
		FAIL("only %u values of 1 MiB fit after punching %u", nr_again, nr_punched);
	/* Kept values intact, punched ones gone, new ones there. */
	for (i = 0; i < FILL_MAX; i++) {
		snprintf(key, sizeof(key), "k%03u", i);
		rc = get(oh, key, got, FILL_VAL, &n);
		if (rc)
			FAIL("read %s: %s", key, cairn_strerror(rc));
		if (acked[i]) {
			fill_pattern(want, i);
			if (n != FILL_VAL || memcmp(got, want, FILL_VAL) != 0)
				FAIL("%s: kept value differs", key);
		} else if (n != 0) {
			FAIL("%s: punched or never written, yet %zu bytes read", key, n);
		}
	}
	for (i = 0; i < nr_again; i++) {
		snprintf(key, sizeof(key), "again%03u", i);
		fill_pattern(want, 1000 + i);
		CHECK(get(oh, key, got, FILL_VAL, &n), "read a value written after punching");
		if (n != FILL_VAL || memcmp(got, want, FILL_VAL) != 0)
			FAIL("%s differs", key);
	}
	printf("fill: punched %u, then %u values of 1 MiB written until NOSPACE again; all "
	       "verified\n",
	       nr_punched, nr_again);
	CHECK(cairn_obj_close(oh, NULL), "obj close");
	CHECK(cairn_cont_close(coh, NULL), "close");
	CHECK(cairn_pool_disconnect(poh, NULL), "disconnect");
	CHECK(cairn_fini(), "fini");
	free(want);
	free(got);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[4], "lib") == 0)
		return lib(argv[1], argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[4], "hold") == 0)
		return hold(argv[1], argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[4], "fill") == 0)
		return fill(argv[1], argv[2], argv[3]);
	fprintf(stderr, "usage: badinput-client URI POOL CONT lib|hold|fill\n");
	return 2;
}
