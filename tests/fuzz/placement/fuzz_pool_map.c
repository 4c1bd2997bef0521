/*
 * libFuzzer target: cairn_pmap_decode() on arbitrary bytes. A map that decodes must be
 * internally consistent: it re-encodes to the same bytes, and layouts computed from it
 * stay within its targets.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "placement/placement.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cairn_pool_map *m;
	uint8_t *copy = malloc(size ? size : 1), *again;
	size_t used;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (cairn_pmap_decode(copy, size, &m) != 0) {
		free(copy);
		return 0;
	}
	again = malloc(size ? size : 1);
	if (again == NULL || cairn_pmap_encode(m, again, size, &used) != 0 || used != size ||
	    memcmp(again, copy, size) != 0)
		abort();
	for (int oc = CAIRN_OC_S1; oc < CAIRN_OC_MAX; oc++) {
		struct cairn_obj_id oid = { .lo = size, .hi = 0 };
		struct cairn_pl_layout l;

		cairn_obj_id_generate(&oid, CAIRN_OT_MULTI, oc);
		if (cairn_pl_obj_layout(m, oid, &l) != 0)
			continue;
		for (uint32_t s = 0; s < l.nr; s++) {
			if (l.shards[s] != CAIRN_PL_TGT_NONE &&
			    l.shards[s] >= cairn_pmap_target_count(m))
				abort();
		}
		cairn_pl_layout_fini(&l);
	}
	free(again);
	free(copy);
	cairn_pmap_destroy(m);
	return 0;
}
