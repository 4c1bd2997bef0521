/*
 * libFuzzer target for the per-target space map decoder (src/engine/srv_tgt_space.c):
 * any bytes either are refused or decode to a map whose extents are sorted, disjoint,
 * aligned and inside the device, that re-encodes and decodes to the same map, and on
 * which allocations and frees keep those invariants. The input is also tried as the
 * pair of copies (srv_tgt_space_load).
 */
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/csum.h"
#include "srv_tgt_space.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct srv_tgt_space g_a, g_b;
static uint8_t g_buf[SRV_TGT_COPY_SIZE];

static void
check_invariants(const struct srv_tgt_space *sp)
{
	struct srv_tgt_usage u;
	uint64_t prev_end = SRV_TGT_MAP_SIZE;

	if (sp->nr > SRV_TGT_MAX_EXTENTS)
		abort();
	for (unsigned i = 0; i < sp->nr; i++) {
		const struct srv_tgt_extent *e = &sp->ext[i];

		if (e->size == 0 || e->offset % SRV_TGT_ALIGN || e->size % SRV_TGT_ALIGN ||
		    e->offset < prev_end || e->offset > sp->dev_size ||
		    e->size > sp->dev_size - e->offset)
			abort();
		prev_end = e->offset + e->size;
	}
	srv_tgt_space_usage(sp, &u);
	if (u.largest_free > u.free || u.used > u.dev_size)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srv_tgt_map_hdr_df *h = (void *)g_buf;
	char why[400], err[320];
	size_t len = size < sizeof(g_buf) ? size : sizeof(g_buf);
	bool one_bad;
	int n;

	memset(g_buf, 0, sizeof(g_buf));
	memcpy(g_buf, data, len);
	/* Often fix magic, version and CRC up so that the checks behind them run. */
	if (size > 0 && (data[0] & 2) && len >= sizeof(*h)) {
		h->magic = htole64(SRV_TGT_MAGIC);
		h->version = htole32(SRV_TGT_VERSION);
		h->hdr_size = htole32(sizeof(*h));
	}
	if (size > 0 && (data[0] & 1) && len >= sizeof(*h)) {
		uint32_t nr = le32toh(h->nr_extents);
		size_t elen = nr <= SRV_TGT_MAX_EXTENTS ? nr * sizeof(struct srv_tgt_extent_df) : 0;

		if (sizeof(*h) + elen <= len) {
			h->crc = 0;
			h->crc = htole32(cairn_crc32c(cairn_crc32c(0, h, sizeof(*h)), h + 1, elen));
		}
	}
	if (srv_tgt_space_decode(g_buf, len, &g_a, why, sizeof(why)) == 0) {
		check_invariants(&g_a);
		n = srv_tgt_space_encode(&g_a, g_a.seq, g_buf, sizeof(g_buf));
		if (n <= 0 || srv_tgt_space_decode(g_buf, (size_t)n, &g_b, why, sizeof(why)) != 0 ||
		    g_b.nr != g_a.nr || g_b.seq != g_a.seq || g_b.dev_size != g_a.dev_size ||
		    memcmp(g_b.ext, g_a.ext, g_a.nr * sizeof(g_a.ext[0])) != 0)
			abort();
		/* allocate and free with sizes taken from the input */
		for (size_t i = 0; i + 9 <= size && i < 90; i += 9) {
			struct cairn_uuid p;
			uint64_t sz;

			memset(&p, 0, sizeof(p));
			p.b[0] = 1;
			p.b[1] = data[i];
			memcpy(&sz, data + i + 1, 8);
			if (data[i] & 1)
				srv_tgt_space_free(&g_a, &p);
			else
				srv_tgt_space_alloc(&g_a, &p, sz, SRV_TGT_EXT_ACTIVE, NULL, err,
						    sizeof(err));
			check_invariants(&g_a);
		}
	}
	/* as two copies: split the input in halves */
	if (srv_tgt_space_load(data, size / 2, data + size / 2, size - size / 2, &g_a, &one_bad,
			       why, sizeof(why)) == 0)
		check_invariants(&g_a);
	return 0;
}
