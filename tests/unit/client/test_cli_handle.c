/*
 * Unit tests for handles and local2global/global2local (src/client/client.c,
 * cli_hdl.c): a fake "pool connection" kind registers pack/unpack, its global form is
 * turned back into a handle by another process, and every kind of damage to the bytes
 * is rejected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cairn/cairn.h"
#include "client_internal.h"
#include "common/csum.h"

/* ------------------------------------------------------------------ fake pool kind */

#define FAKE_VERSION 1
#define FAKE_FIXED 32 /* u16 version, u16 label len, u32 map version, u64 capas, 16 uuid */

struct fake_pool {
	uint8_t uuid[16];
	uint32_t map_version;
	uint64_t capas;
	char label[64];
};

static int g_fake_frees;

static void
fake_free(void *obj)
{
	g_fake_frees++;
	free(obj);
}

static size_t
fake_pack_size(void *obj)
{
	return FAKE_FIXED + strlen(((struct fake_pool *)obj)->label);
}

static void
le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
unle(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int
fake_pack(void *obj, void *buf, size_t len)
{
	struct fake_pool *p = obj;
	size_t ll = strlen(p->label);
	uint8_t *b = buf;

	if (len != FAKE_FIXED + ll)
		return -CAIRN_ERR_INVAL;
	le(b, FAKE_VERSION, 2);
	le(b + 2, ll, 2);
	le(b + 4, p->map_version, 4);
	le(b + 8, p->capas, 8);
	memcpy(b + 16, p->uuid, 16);
	memcpy(b + FAKE_FIXED, p->label, ll);
	return 0;
}

static int
fake_unpack(const void *buf, size_t len, struct cairn_handle *h)
{
	const uint8_t *b = buf;
	struct fake_pool *p;
	size_t ll;
	int rc;

	if (len < FAKE_FIXED || unle(b, 2) != FAKE_VERSION)
		return -CAIRN_ERR_PROTO;
	ll = unle(b + 2, 2);
	if (ll >= sizeof(p->label) || len != FAKE_FIXED + ll)
		return -CAIRN_ERR_PROTO;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -CAIRN_ERR_NOMEM;
	p->map_version = (uint32_t)unle(b + 4, 4);
	p->capas = unle(b + 8, 8);
	memcpy(p->uuid, b + 16, 16);
	memcpy(p->label, b + FAKE_FIXED, ll);
	rc = cli_hdl_insert(p, CLI_HTYPE_TEST, fake_free, NULL, &h->cookie);
	if (rc != 0)
		free(p);
	return rc;
}

static const struct cli_htype_ops g_fake_ops = {
	.name = "fake-pool",
	.pack_size = fake_pack_size,
	.pack = fake_pack,
	.unpack = fake_unpack,
};

static struct cairn_handle
fake_connect(const char *label, uint32_t ver, uint64_t capas)
{
	struct fake_pool *p = calloc(1, sizeof(*p));
	struct cairn_handle h;

	assert_non_null(p);
	for (int i = 0; i < 16; i++)
		p->uuid[i] = (uint8_t)(0xa0 + i);
	p->map_version = ver;
	p->capas = capas;
	snprintf(p->label, sizeof(p->label), "%s", label);
	assert_int_equal(cli_hdl_insert(p, CLI_HTYPE_TEST, fake_free, NULL, &h.cookie), 0);
	return h;
}

static void
fake_disconnect(struct cairn_handle h)
{
	assert_int_equal(cli_hdl_remove(h.cookie, CLI_HTYPE_TEST), 0);
}

static int
setup(void **state)
{
	if (cairn_init() != 0)
		return -1;
	return cli_htype_register(CLI_HTYPE_TEST, &g_fake_ops);
}

static int
teardown(void **state)
{
	cli_htype_unregister(CLI_HTYPE_TEST);
	return cairn_fini();
}

/* Make a global handle in a malloc'ed buffer. */
static struct cairn_iov
to_global(struct cairn_handle h)
{
	struct cairn_iov g = { 0 };

	assert_int_equal(cairn_handle_local2global(h, &g), 0);
	assert_true(g.buf_len > CLI_GLOB_HDR_SIZE);
	g.buf = malloc(g.buf_len);
	assert_non_null(g.buf);
	assert_int_equal(cairn_handle_local2global(h, &g), 0);
	assert_int_equal(g.len, g.buf_len);
	return g;
}

static void
check_same(struct cairn_handle a, struct cairn_handle b)
{
	struct cli_href *ra, *rb;
	struct fake_pool *pa = cli_hdl_lookup(a.cookie, CLI_HTYPE_TEST, &ra);
	struct fake_pool *pb = cli_hdl_lookup(b.cookie, CLI_HTYPE_TEST, &rb);

	assert_non_null(pa);
	assert_non_null(pb);
	assert_ptr_not_equal(pa, pb);
	assert_memory_equal(pa->uuid, pb->uuid, 16);
	assert_int_equal(pa->map_version, pb->map_version);
	assert_true(pa->capas == pb->capas);
	assert_string_equal(pa->label, pb->label);
	cli_href_put(ra);
	cli_href_put(rb);
}

static void
test_registry(void **state)
{
	assert_int_equal(cli_htype_register(CLI_HTYPE_TEST, &g_fake_ops), -CAIRN_ERR_EXIST);
	assert_int_equal(cli_htype_register(CLI_HTYPE_EQ, &g_fake_ops), -CAIRN_ERR_INVAL);
	assert_int_equal(cli_htype_register(0, &g_fake_ops), -CAIRN_ERR_INVAL);
	assert_int_equal(cli_htype_register(CLI_HTYPE_POOL, NULL), -CAIRN_ERR_INVAL);
	assert_int_equal(cli_htype_unregister(CLI_HTYPE_KV), -CAIRN_ERR_NONEXIST);
}

static void
test_roundtrip_same_process(void **state)
{
	struct cairn_handle h = fake_connect("tank", 42, 0x1234), h2;
	struct cairn_iov g = to_global(h);

	assert_int_equal(cairn_handle_global2local(&g, &h2), 0);
	assert_true(h2.cookie != h.cookie);
	check_same(h, h2);
	fake_disconnect(h);
	fake_disconnect(h2);
	free(g.buf);
}

static void
test_roundtrip_other_process(void **state)
{
	struct cairn_handle h = fake_connect("shared-by-mpi", 7, 0xfeedull);
	struct cairn_iov g = to_global(h);
	int pfd[2], status;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Child: a fresh library state, then only the bytes from the pipe. */
		uint8_t buf[512];
		struct cairn_iov cg = { .buf = buf, .buf_len = sizeof(buf) };
		struct cairn_handle ch;
		struct cli_href *ref;
		struct fake_pool *p;
		ssize_t n;
		int ok;

		close(pfd[1]);
		if (cairn_fini() != 0 || cairn_init() != 0)
			_exit(10);
		if (cli_hdl_count() != 0)
			_exit(11);
		n = read(pfd[0], buf, sizeof(buf));
		if (n <= 0)
			_exit(12);
		cg.len = (size_t)n;
		if (cairn_handle_global2local(&cg, &ch) != 0)
			_exit(13);
		p = cli_hdl_lookup(ch.cookie, CLI_HTYPE_TEST, &ref);
		if (p == NULL)
			_exit(14);
		ok = p->map_version == 7 && p->capas == 0xfeedull &&
		     strcmp(p->label, "shared-by-mpi") == 0 && p->uuid[15] == 0xaf;
		cli_href_put(ref);
		_exit(ok ? 0 : 15);
	}
	close(pfd[0]);
	assert_int_equal(write(pfd[1], g.buf, g.len), (ssize_t)g.len);
	close(pfd[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	fake_disconnect(h);
	free(g.buf);
}

static void
test_corruption_rejected(void **state)
{
	struct cairn_handle h = fake_connect("corrupt-me", 3, 99), out;
	struct cairn_iov g = to_global(h), bad;
	uint8_t *copy = malloc(g.len + 8);
	uint32_t before = cli_hdl_count();

	assert_non_null(copy);
	/* every single-bit flip of every byte is caught */
	for (size_t i = 0; i < g.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			int rc;

			memcpy(copy, g.buf, g.len);
			copy[i] ^= (uint8_t)(1u << bit);
			bad = (struct cairn_iov){ .buf = copy, .buf_len = g.len, .len = g.len };
			rc = cairn_handle_global2local(&bad, &out);
			assert_true(rc == -CAIRN_ERR_CSUM || rc == -CAIRN_ERR_PROTO ||
				    rc == -CAIRN_ERR_VERSION);
		}
	}
	/* truncation at every length, and trailing bytes */
	for (size_t n = 0; n < g.len; n++) {
		bad = (struct cairn_iov){ .buf = g.buf, .buf_len = g.len, .len = n };
		assert_int_equal(cairn_handle_global2local(&bad, &out), -CAIRN_ERR_PROTO);
	}
	memcpy(copy, g.buf, g.len);
	memset(copy + g.len, 0, 8);
	bad = (struct cairn_iov){ .buf = copy, .buf_len = g.len + 8, .len = g.len + 8 };
	assert_int_equal(cairn_handle_global2local(&bad, &out), -CAIRN_ERR_PROTO);
	/* len beyond the buffer */
	bad = (struct cairn_iov){ .buf = g.buf, .buf_len = g.len - 1, .len = g.len };
	assert_int_equal(cairn_handle_global2local(&bad, &out), -CAIRN_ERR_PROTO);
	/* nothing was inserted by any of these */
	assert_int_equal(cli_hdl_count(), before);
	free(copy);
	free(g.buf);
	fake_disconnect(h);
}

/* Re-seal a modified envelope so that only the targeted check can fail. */
static void
reseal(uint8_t *b, size_t len)
{
	uint32_t crc;

	memset(b + 12, 0, 4);
	crc = cairn_crc32c(0, b, len);
	le(b + 12, crc, 4);
}

static void
test_well_formed_but_refused(void **state)
{
	struct cairn_handle h = fake_connect("x", 1, 1), out;
	struct cairn_iov g = to_global(h), bad;
	uint8_t *b = malloc(g.len);

	assert_non_null(b);
	bad = (struct cairn_iov){ .buf = b, .buf_len = g.len, .len = g.len };
	/* a newer envelope version */
	memcpy(b, g.buf, g.len);
	le(b + 4, CLI_GLOB_VERSION + 1, 2);
	reseal(b, g.len);
	assert_int_equal(cairn_handle_global2local(&bad, &out), -CAIRN_ERR_VERSION);
	/* a kind this process does not know, or that cannot be shared */
	memcpy(b, g.buf, g.len);
	le(b + 6, CLI_HTYPE_KV, 2);
	reseal(b, g.len);
	assert_int_equal(cairn_handle_global2local(&bad, &out), -CAIRN_ERR_NOSYS);
	le(b + 6, CLI_HTYPE_EQ, 2);
	reseal(b, g.len);
	assert_int_equal(cairn_handle_global2local(&bad, &out), -CAIRN_ERR_NOSYS);
	/* a valid envelope around a payload the kind rejects */
	memcpy(b, g.buf, g.len);
	le(b + CLI_GLOB_HDR_SIZE, 9, 2); /* payload version */
	reseal(b, g.len);
	assert_int_equal(cairn_handle_global2local(&bad, &out), -CAIRN_ERR_PROTO);
	free(b);
	free(g.buf);
	fake_disconnect(h);
}

static void
test_local2global_errors(void **state)
{
	struct cairn_handle h = fake_connect("abc", 1, 1), eq;
	struct cairn_iov g = { 0 };
	uint8_t small[8];

	assert_int_equal(cairn_handle_local2global(h, NULL), -CAIRN_ERR_INVAL);
	/* too small: TRUNC and the size needed */
	g = (struct cairn_iov){ .buf = small, .buf_len = sizeof(small) };
	assert_int_equal(cairn_handle_local2global(h, &g), -CAIRN_ERR_TRUNC);
	assert_int_equal(g.buf_len, CLI_GLOB_HDR_SIZE + FAKE_FIXED + 3);
	/* an EQ cannot be shared */
	assert_int_equal(cairn_eq_create(&eq), 0);
	g = (struct cairn_iov){ 0 };
	assert_int_equal(cairn_handle_local2global(eq, &g), -CAIRN_ERR_NOSYS);
	assert_int_equal(cairn_eq_destroy(eq, 0), 0);
	/* stale and null handles */
	fake_disconnect(h);
	assert_int_equal(cairn_handle_local2global(h, &g), -CAIRN_ERR_NOHANDLE);
	assert_int_equal(cairn_handle_local2global(CAIRN_HANDLE_NULL, &g), -CAIRN_ERR_NOHANDLE);
	assert_int_equal(cairn_handle_global2local(NULL, &h), -CAIRN_ERR_INVAL);
}

static void
test_handle_lifetime(void **state)
{
	struct cairn_handle h;
	struct cli_href *ref, *other;
	void *obj;

	g_fake_frees = 0;
	h = fake_connect("life", 1, 1);
	obj = cli_hdl_lookup(h.cookie, CLI_HTYPE_TEST, &ref);
	assert_non_null(obj);
	/* wrong kind misses */
	assert_null(cli_hdl_lookup(h.cookie, CLI_HTYPE_POOL, &other));
	fake_disconnect(h);
	assert_int_equal(g_fake_frees, 0); /* our lookup reference keeps it */
	assert_null(cli_hdl_lookup(h.cookie, CLI_HTYPE_TEST, &ref));
	cli_href_put(ref);
	assert_int_equal(g_fake_frees, 1);
	assert_int_equal(cli_hdl_remove(h.cookie, CLI_HTYPE_TEST), -CAIRN_ERR_NOHANDLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_same_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_other_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corruption_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_well_formed_but_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local2global_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handle_lifetime, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
