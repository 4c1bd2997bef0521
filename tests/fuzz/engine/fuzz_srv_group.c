/*
 * libFuzzer target: the membership table the control plane pushes to an engine (mgmt
 * GROUP_UPDATE, a GroupUpdateReq protobuf body) through the engine's checks
 * (srv_group_update_body). A table that is accepted must be readable back: its version
 * held, every joined rank reported joined, with the URI it came with.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "srv_group.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t ranks[SRV_GROUP_MAX];
	char err[256], uri[SRV_GROUP_URI_MAX];
	unsigned n, i;

	srv_group_reset();
	if (srv_group_update_body(data, size, err, sizeof(err)) != 0) {
		if (srv_group_version() != 0)
			abort(); /* a refused table must change nothing */
		return 0;
	}
	n = srv_group_joined(ranks, SRV_GROUP_MAX);
	for (i = 0; i < n && i < SRV_GROUP_MAX; i++) {
		if (!srv_group_rank_joined(ranks[i]) ||
		    srv_group_rank_uri(ranks[i], uri, sizeof(uri)) != 0)
			abort();
		if (i > 0 && ranks[i] <= ranks[i - 1])
			abort(); /* ascending, distinct */
	}
	srv_group_reset();
	return 0;
}
