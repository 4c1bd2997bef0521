/*
 * libFuzzer: the POOL and CONT global handle payload parsers (cli_pool.c, cli_cont.c).
 * The input's first byte picks the kind; the rest is the payload, wrapped in a valid
 * envelope (right CRC) so every input reaches the parser. CONT payloads are unpacked
 * onto a fake pool handle (a valid one then fails to reach an engine: no system is
 * attached, nothing goes on the wire). POOL inputs containing "tcp://" are skipped, so
 * no payload can pass the URI check and make the library connect anywhere.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/cairn.h"
#include "cairn/cont.h"
#include "cairn/errno.h"
#include "cairn/pool.h"
#include "cli_pool.h"
#include "client_internal.h"
#include "common/csum.h"

static struct cairn_handle g_poh;

static void
fake_pool_free(void *obj)
{
	struct cli_pool *p = obj;

	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void
init_once(void)
{
	struct cli_pool *p;

	if (cairn_init() != 0)
		abort();
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		abort();
	pthread_mutex_init(&p->lock, NULL);
	memset(p->uuid, 0xab, 16);
	p->srv_hdl = 0x1234567;
	if (cli_hdl_insert(p, CLI_HTYPE_POOL, fake_pool_free, NULL, &g_poh.cookie) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialized;
	struct cairn_handle h = {0};
	struct cairn_iov g;
	uint8_t *buf;
	uint32_t crc, len;
	bool pool;
	int rc;

	if (!initialized) {
		init_once();
		initialized = 1;
	}
	if (size < 1 || size > 4096)
		return 0;
	pool = data[0] & 1;
	if (pool && memmem(data, size, "tcp://", 6) != NULL)
		return 0;
	len = (uint32_t)(size - 1);
	buf = malloc(CLI_GLOB_HDR_SIZE + len); /* exact size: ASan sees any over-read */
	if (buf == NULL)
		return 0;
	memset(buf, 0, CLI_GLOB_HDR_SIZE);
	memcpy(buf, "CRNG", 4);
	buf[4] = 1;
	buf[6] = pool ? CLI_HTYPE_POOL : CLI_HTYPE_CONT;
	for (int i = 0; i < 4; i++)
		buf[8 + i] = (uint8_t)(len >> (8 * i));
	memcpy(buf + CLI_GLOB_HDR_SIZE, data + 1, len);
	crc = cairn_crc32c(0, buf, CLI_GLOB_HDR_SIZE);
	crc = cairn_crc32c(crc, buf + CLI_GLOB_HDR_SIZE, len);
	for (int i = 0; i < 4; i++)
		buf[12 + i] = (uint8_t)(crc >> (8 * i));
	g = (struct cairn_iov){buf, CLI_GLOB_HDR_SIZE + len, CLI_GLOB_HDR_SIZE + len};
	rc = pool ? cairn_pool_global2local(&g, &h) : cairn_cont_global2local(g_poh, &g, &h);
	if (rc == 0)
		abort(); /* no engine: nothing can be accepted */
	if (h.cookie != 0)
		abort();
	free(buf);
	return 0;
}
