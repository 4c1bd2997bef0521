/*
 * Unit tests of the POOL and CONT global handle payloads: hand-made payloads in valid
 * envelopes (correct CRC), one broken field at a time, are refused with PROTO/VERSION
 * before any network use; a container buffer needs a pool handle of the same
 * connection; kinds are installed by cairn_init() and removed by cairn_fini().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cairn/cairn.h"
#include "cairn/cont.h"
#include "cairn/errno.h"
#include "cairn/pool.h"
#include "cli_pool.h"
#include "client_internal.h"
#include "common/csum.h"
#include "engine/proto.h"

static uint8_t g_buf[4096];

struct pw {
	uint8_t b[2048];
	size_t n;
};

static void
pw_u(struct pw *w, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		w->b[w->n++] = (uint8_t)(v >> (8 * i));
}

static void
pw_raw(struct pw *w, const void *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void
pw_str(struct pw *w, const char *s, size_t n)
{
	pw_u(w, n, 2);
	pw_raw(w, s, n);
}

/* Wrap payload[len] in a valid envelope of `kind` into g_buf. */
static struct cairn_iov
wrap(unsigned kind, const uint8_t *payload, size_t len)
{
	struct cairn_iov g = {g_buf, CLI_GLOB_HDR_SIZE + len, CLI_GLOB_HDR_SIZE + len};
	uint32_t crc;

	assert_true(CLI_GLOB_HDR_SIZE + len <= sizeof(g_buf));
	memset(g_buf, 0, CLI_GLOB_HDR_SIZE);
	g_buf[0] = 'C';
	g_buf[1] = 'R';
	g_buf[2] = 'N';
	g_buf[3] = 'G';
	g_buf[4] = 1; /* envelope version */
	g_buf[6] = (uint8_t)kind;
	for (int i = 0; i < 4; i++)
		g_buf[8 + i] = (uint8_t)(len >> (8 * i));
	memcpy(g_buf + CLI_GLOB_HDR_SIZE, payload, len);
	crc = cairn_crc32c(0, g_buf, CLI_GLOB_HDR_SIZE);
	crc = cairn_crc32c(crc, payload, len);
	for (int i = 0; i < 4; i++)
		g_buf[12 + i] = (uint8_t)(crc >> (8 * i));
	return g;
}

enum pool_bad {
	PB_NONE,
	PB_LAYOUT,
	PB_FLAGS,
	PB_COOKIE,
	PB_UUID,
	PB_SPACE,
	PB_LABEL_LONG,
	PB_LABEL_NUL,
	PB_URI_EMPTY,
	PB_URI_BAD,
	PB_MAP_LEN,
	PB_MAP_GARBAGE,
	PB_TRAILING,
	PB_MAX
};

/* A POOL payload with one field broken (PB_NONE: everything valid but the map, which
 * is garbage unless ...; see the callers). */
static void
pool_payload(struct pw *w, enum pool_bad bad)
{
	uint8_t uuid[16];
	char label[80];
	const char *uri = bad == PB_URI_BAD ? "http://127.0.0.1:1" : "tcp://127.0.0.1:1";
	static const uint8_t map[24] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

	memset(uuid, bad == PB_UUID ? 0 : 0xab, sizeof(uuid));
	memset(label, 'l', sizeof(label));
	if (bad == PB_LABEL_NUL)
		label[3] = '\0';
	w->n = 0;
	pw_u(w, bad == PB_LAYOUT ? 2 : 1, 2);
	pw_u(w, bad == PB_FLAGS ? 0 : PROTO_POOL_CONNECT_RW, 2);
	pw_u(w, 0, 4);
	pw_u(w, bad == PB_COOKIE ? 0 : 0x1234567, 8);
	pw_raw(w, uuid, 16);
	pw_u(w, 1000, 8);
	pw_u(w, bad == PB_SPACE ? 2000 : 500, 8);
	pw_str(w, label, bad == PB_LABEL_LONG ? 64 : 5);
	pw_str(w, uri, bad == PB_URI_EMPTY ? 0 : strlen(uri));
	pw_u(w, bad == PB_MAP_LEN ? sizeof(map) + 1 : sizeof(map), 4);
	pw_raw(w, map, sizeof(map));
	if (bad == PB_TRAILING)
		pw_u(w, 0, 1);
}

static int
setup(void **state)
{
	return cairn_init();
}

static int
teardown(void **state)
{
	return cairn_fini();
}

static size_t
d_size(void *obj)
{
	return 0;
}

static int
d_pack(void *obj, void *buf, size_t len)
{
	return 0;
}

static int
d_unpack(const void *buf, size_t len, struct cairn_handle *h)
{
	return -CAIRN_ERR_PROTO;
}

static void
test_kinds_installed(void **state)
{
	static const struct cli_htype_ops dummy = {"dummy", d_size, d_pack, d_unpack};

	/* installed by cairn_init: another registration is refused */
	assert_int_equal(cli_htype_register(CLI_HTYPE_POOL, &dummy), -CAIRN_ERR_EXIST);
	assert_int_equal(cli_htype_register(CLI_HTYPE_CONT, &dummy), -CAIRN_ERR_EXIST);
	/* removed by cairn_fini */
	assert_int_equal(cairn_fini(), 0);
	assert_int_equal(cli_htype_register(CLI_HTYPE_POOL, &dummy), 0);
	assert_int_equal(cli_htype_unregister(CLI_HTYPE_POOL), 0);
	assert_int_equal(cli_htype_register(CLI_HTYPE_CONT, &dummy), 0);
	assert_int_equal(cli_htype_unregister(CLI_HTYPE_CONT), 0);
	assert_int_equal(cairn_init(), 0);
	assert_int_equal(cli_htype_register(CLI_HTYPE_POOL, &dummy), -CAIRN_ERR_EXIST);
}

static void
test_pool_payload_fields(void **state)
{
	struct cairn_handle h = {0};
	struct pw w;
	struct cairn_iov g;
	int rc;

	for (int bad = PB_LAYOUT; bad < PB_MAX; bad++) {
		pool_payload(&w, (enum pool_bad)bad);
		g = wrap(CLI_HTYPE_POOL, w.b, w.n);
		rc = cairn_pool_global2local(&g, &h);
		assert_int_equal(rc, bad == PB_LAYOUT ? -CAIRN_ERR_VERSION : -CAIRN_ERR_PROTO);
		assert_int_equal(h.cookie, 0);
	}
	/* layout 0 is not a layout at all */
	pool_payload(&w, PB_NONE);
	w.b[0] = 0;
	g = wrap(CLI_HTYPE_POOL, w.b, w.n);
	assert_int_equal(cairn_pool_global2local(&g, &h), -CAIRN_ERR_PROTO);
	/* only the map is wrong in PB_NONE: still refused before any network use */
	pool_payload(&w, PB_NONE);
	g = wrap(CLI_HTYPE_POOL, w.b, w.n);
	assert_int_equal(cairn_pool_global2local(&g, &h), -CAIRN_ERR_PROTO);
	/* every truncation of the payload, in a valid envelope */
	for (size_t n = 0; n < w.n; n++) {
		g = wrap(CLI_HTYPE_POOL, w.b, n);
		assert_int_equal(cairn_pool_global2local(&g, &h), -CAIRN_ERR_PROTO);
	}
	/* the right kind only */
	g = wrap(CLI_HTYPE_CONT, w.b, w.n);
	assert_int_equal(cairn_pool_global2local(&g, &h), -CAIRN_ERR_INVAL);
	assert_int_equal(cli_hdl_count(), 0);
}

/* ------------------------------------------------------------------ containers */

static void
fake_pool_free(void *obj)
{
	struct cli_pool *p = obj;

	pthread_mutex_destroy(&p->lock);
	free(p);
}

static struct cairn_handle
fake_pool(void)
{
	struct cli_pool *p = calloc(1, sizeof(*p));
	struct cairn_handle h;

	assert_non_null(p);
	pthread_mutex_init(&p->lock, NULL);
	memset(p->uuid, 0xab, 16);
	p->srv_hdl = 0x1234567;
	assert_int_equal(cli_hdl_insert(p, CLI_HTYPE_POOL, fake_pool_free, NULL, &h.cookie), 0);
	return h;
}

enum cont_bad {
	CB_LAYOUT = 1,
	CB_COOKIE,
	CB_UUID,
	CB_OCLASS,
	CB_LABEL_EMPTY,
	CB_LABEL_LONG,
	CB_TRAILING,
	CB_POOL_UUID, /* another connection: INVAL */
	CB_POOL_COOKIE,
	CB_MAX
};

static void
cont_payload(struct pw *w, enum cont_bad bad)
{
	uint8_t puuid[16], cuuid[16];
	char label[80];

	memset(puuid, bad == CB_POOL_UUID ? 0xac : 0xab, 16);
	memset(cuuid, bad == CB_UUID ? 0 : 0xcd, 16);
	memset(label, 'c', sizeof(label));
	w->n = 0;
	pw_u(w, bad == CB_LAYOUT ? 9 : 1, 2);
	pw_u(w, 0, 2);
	pw_raw(w, puuid, 16);
	pw_u(w, bad == CB_POOL_COOKIE ? 0x7654321 : 0x1234567, 8);
	pw_raw(w, cuuid, 16);
	pw_u(w, bad == CB_COOKIE ? 0 : 42, 8);
	pw_u(w, bad == CB_OCLASS ? 0xfffff : 0, 4);
	pw_u(w, 0, 8);
	pw_str(w, label, bad == CB_LABEL_EMPTY ? 0 : bad == CB_LABEL_LONG ? 64 : 2);
	if (bad == CB_TRAILING)
		pw_u(w, 0, 1);
}

static void
test_cont_payload_fields(void **state)
{
	struct cairn_handle poh = fake_pool(), coh = {0};
	struct cairn_iov g;
	struct pw w;
	int rc;

	cont_payload(&w, CB_MAX);
	g = wrap(CLI_HTYPE_CONT, w.b, w.n);
	/* no pool handle: neither through the generic call nor with a bogus one */
	assert_int_equal(cairn_handle_global2local(&g, &coh), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_cont_global2local(CAIRN_HANDLE_NULL, &g, &coh),
	                 -CAIRN_ERR_NOHANDLE);
	for (int bad = CB_LAYOUT; bad < CB_MAX; bad++) {
		cont_payload(&w, (enum cont_bad)bad);
		g = wrap(CLI_HTYPE_CONT, w.b, w.n);
		rc = cairn_cont_global2local(poh, &g, &coh);
		assert_int_equal(rc, bad == CB_LAYOUT                                ? -CAIRN_ERR_VERSION
		                     : bad == CB_POOL_UUID || bad == CB_POOL_COOKIE ? -CAIRN_ERR_INVAL
		                                                                     : -CAIRN_ERR_PROTO);
		assert_int_equal(coh.cookie, 0);
	}
	cont_payload(&w, CB_MAX);
	w.b[0] = 0;
	g = wrap(CLI_HTYPE_CONT, w.b, w.n);
	assert_int_equal(cairn_cont_global2local(poh, &g, &coh), -CAIRN_ERR_PROTO);
	cont_payload(&w, CB_MAX);
	for (size_t n = 0; n < w.n; n++) {
		g = wrap(CLI_HTYPE_CONT, w.b, n);
		assert_int_equal(cairn_cont_global2local(poh, &g, &coh), -CAIRN_ERR_PROTO);
	}
	g = wrap(CLI_HTYPE_POOL, w.b, w.n);
	assert_int_equal(cairn_cont_global2local(poh, &g, &coh), -CAIRN_ERR_INVAL);
	/* a valid payload goes to the engine to be checked: with no system attached (the
	 * fake pool never connected), refused, nothing left behind */
	g = wrap(CLI_HTYPE_CONT, w.b, w.n);
	rc = cairn_cont_global2local(poh, &g, &coh);
	assert_true(rc < 0);
	assert_int_equal(coh.cookie, 0);
	assert_int_equal(cli_hdl_count(), 1); /* the fake pool only */
	/* handles of the wrong kind for local2global */
	memset(&g, 0, sizeof(g));
	assert_int_equal(cairn_cont_local2global(poh, &g), -CAIRN_ERR_NOHANDLE);
	assert_int_equal(cairn_pool_local2global(CAIRN_HANDLE_NULL, &g), -CAIRN_ERR_NOHANDLE);
	assert_int_equal(cairn_pool_global2local(NULL, &coh), -CAIRN_ERR_INVAL);
	assert_int_equal(cli_hdl_remove(poh.cookie, CLI_HTYPE_POOL), 0);
	assert_int_equal(cli_hdl_count(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kinds_installed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_payload_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cont_payload_fields, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
