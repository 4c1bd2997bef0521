/*
 * libFuzzer target for the SETUP decoder (the engine's whole configuration over dRPC):
 * a body that decodes must satisfy every range the validator promises, and re-encode to
 * a body that decodes to the same configuration.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drpc/setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cairn_drpc_setup s, s2;
	char err[256];
	uint8_t *buf;
	size_t len;
	unsigned i;

	if (cairn_drpc_setup_decode(data, size, &s, err, sizeof(err)) != 0) {
		if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			abort(); /* a refusal always says why */
		return 0;
	}
	if (s.targets < 1 || s.targets > CAIRN_SETUP_MAX_TARGETS ||
	    s.helpers > CAIRN_SETUP_MAX_HELPERS || s.rank > CAIRN_SETUP_MAX_RANK ||
	    s.port + s.targets > 65535 + (s.port == 0 ? s.targets : 0))
		abort();
	if (memchr(s.storage_dir, '\0', sizeof(s.storage_dir)) == NULL ||
	    (s.storage_dir[0] && s.storage_dir[0] != '/') ||
	    memchr(s.uri, '\0', sizeof(s.uri)) == NULL ||
	    (s.uri[0] && strncmp(s.uri, "tcp://", 6) != 0) ||
	    memchr(s.log_mask, '\0', sizeof(s.log_mask)) == NULL || s.system[0] == '\0' ||
	    memchr(s.system, '\0', sizeof(s.system)) == NULL)
		abort();
	for (i = 0; i < 16 && s.system_uuid[i] == 0; i++)
		;
	if (i == 16)
		abort();
	if (cairn_drpc_setup_encode(&s, &buf, &len) != 0)
		abort();
	if (cairn_drpc_setup_decode(buf, len, &s2, err, sizeof(err)) != 0 ||
	    memcmp(&s, &s2, sizeof(s)) != 0)
		abort();
	free(buf);
	return 0;
}
