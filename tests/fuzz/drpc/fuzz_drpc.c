/*
 * libFuzzer target for the dRPC decoders: every input is tried as a Call and as a
 * Response. A decoded message must satisfy the validation contract (module in range,
 * body within the limit, status not positive) and re-encode to a message that decodes
 * to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drpc/drpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cairn_drpc_response r, r2;
	struct cairn_drpc_call c, c2;
	uint8_t *buf;
	size_t len;

	if (cairn_drpc_call_decode(data, size, &c) == 0) {
		if (c.module >= CAIRN_DRPC_MODULE_MAX || c.body_len > CAIRN_DRPC_MAX_BODY)
			abort();
		if (cairn_drpc_call_encode(c.module, c.method, c.sequence, c.body, c.body_len, &buf,
		                           &len) != 0)
			abort();
		if (cairn_drpc_call_decode(buf, len, &c2) != 0 || c2.module != c.module ||
		    c2.method != c.method || c2.sequence != c.sequence ||
		    c2.body_len != c.body_len ||
		    (c.body_len && memcmp(c2.body, c.body, c.body_len) != 0))
			abort();
		cairn_drpc_call_release(&c2);
		free(buf);
		cairn_drpc_call_release(&c);
	}
	if (cairn_drpc_response_decode(data, size, &r) == 0) {
		if (r.status > 0 || r.body_len > CAIRN_DRPC_MAX_BODY)
			abort();
		if (cairn_drpc_response_encode(r.sequence, r.status, r.body, r.body_len, &buf,
		                               &len) != 0)
			abort();
		if (cairn_drpc_response_decode(buf, len, &r2) != 0 || r2.status != r.status ||
		    r2.sequence != r.sequence || r2.body_len != r.body_len)
			abort();
		cairn_drpc_response_release(&r2);
		free(buf);
		cairn_drpc_response_release(&r);
	}
	return 0;
}
