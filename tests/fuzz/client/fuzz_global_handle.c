/*
 * libFuzzer target: cairn_handle_global2local() on arbitrary bytes. The envelope
 * checks (magic, version, length, CRC32C) must reject everything malformed; inputs
 * that carry a valid envelope reach a registered test kind whose unpack validates its
 * payload, and a handle made from them is removed again (no leak).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/cairn.h"
#include "client_internal.h"

struct fz_obj {
	size_t len;
};

static void
fz_free(void *obj)
{
	free(obj);
}

static size_t
fz_pack_size(void *obj)
{
	return ((struct fz_obj *)obj)->len;
}

static int
fz_pack(void *obj, void *buf, size_t len)
{
	memset(buf, 0, len);
	return 0;
}

static int
fz_unpack(const void *buf, size_t len, struct cairn_handle *h)
{
	struct fz_obj *o;
	int rc;

	if (len < 4 || memcmp(buf, "FZ01", 4) != 0)
		return -CAIRN_ERR_PROTO;
	o = malloc(sizeof(*o));
	if (o == NULL)
		return -CAIRN_ERR_NOMEM;
	o->len = len;
	rc = cli_hdl_insert(o, CLI_HTYPE_TEST, fz_free, NULL, &h->cookie);
	if (rc != 0)
		free(o);
	return rc;
}

static const struct cli_htype_ops g_fz_ops = {
	.name = "fuzz",
	.pack_size = fz_pack_size,
	.pack = fz_pack,
	.unpack = fz_unpack,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialized;
	struct cairn_iov g;
	struct cairn_handle h;
	uint8_t *copy;

	if (!initialized) {
		if (cairn_init() != 0 || cli_htype_register(CLI_HTYPE_TEST, &g_fz_ops) != 0)
			abort();
		initialized = 1;
	}
	/* an exact-size heap copy, so ASan sees any over-read */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	g = (struct cairn_iov){ .buf = copy, .buf_len = size, .len = size };
	if (cairn_handle_global2local(&g, &h) == 0) {
		if (cli_hdl_remove(h.cookie, CLI_HTYPE_TEST) != 0)
			abort();
	}
	free(copy);
	return 0;
}
