/*
 * libcairn end-to-end checksums of object values (container property `csum`): the
 * client computes the checksum of every value it sends (single values and array
 * extents) and puts it in the object RPC; the engine verifies it before writing
 * (srv_obj.c). On fetch the engine returns the checksum of the bytes it sends and the
 * client verifies what arrived before the caller sees it. Called from ULTs on the client
 * xstream (cli_obj.c, cli_obj_array.c).
 *
 * Fault injection (CAIRN_FAULTS, read once at the first checksummed update):
 * "obj.cli.update.corrupt" sends a copy of the value with one bit flipped, after the
 * checksum was computed over the original; the engine must refuse it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_CLIENT
#include "common/csum.h"
#include "common/fault.h"
#include "common/log.h"
#include "engine/proto.h"

#include "cli_obj.h"

static pthread_once_t g_csum_fault_once = PTHREAD_ONCE_INIT;

static void
csum_fault_init(void)
{
	/* The client has no other use for fault points yet: arm them here, once. */
	(void)cairn_fault_init();
}

int
cli_csum_value(uint32_t type, const void *buf, uint64_t len, uint64_t *out)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};

	*out = 0;
	if (type == CAIRN_CSUM_NONE)
		return 0;
	return cairn_csum_iov((enum cairn_csum_type)type, &iov, 1, out);
}

int
cli_csum_in(struct obj_in *in, uint32_t type, const void *buf, uint64_t len, void **copy)
{
	uint8_t *c;
	int rc;

	*copy = NULL;
	in->csum_type = 0;
	in->csum = 0;
	if (type == CAIRN_CSUM_NONE)
		return 0;
	pthread_once(&g_csum_fault_once, csum_fault_init);
	rc = cli_csum_value(type, buf, len, &in->csum);
	if (rc)
		return rc;
	in->csum_type = type;
	if (len > 0 && CAIRN_FAULT("obj.cli.update.corrupt")) {
		c = malloc(len);
		if (c == NULL)
			return -CAIRN_ERR_NOMEM;
		memcpy(c, buf, len);
		c[len / 2] ^= 0x10;
		CAIRN_WARN("fault obj.cli.update.corrupt: sending a value with a flipped bit");
		*copy = c;
	}
	return 0;
}

int
cli_csum_check(uint32_t type, const struct obj_out *o, const void *buf, uint64_t len)
{
	uint64_t got;
	int rc;

	if (type == CAIRN_CSUM_NONE)
		return 0;
	if (o->csum_type != type) {
		CAIRN_ERROR("fetch reply carries checksum type %u, the container uses %u",
		            o->csum_type, type);
		return -CAIRN_ERR_PROTO;
	}
	rc = cli_csum_value(type, buf, len, &got);
	if (rc)
		return rc;
	if (got != o->csum) {
		CAIRN_ERROR("fetched value of %llu bytes fails its %s checksum (got %llx, engine "
		            "sent %llx): data corrupted on the way; not returned",
		            (unsigned long long)len, cairn_csum_name((enum cairn_csum_type)type),
		            (unsigned long long)got, (unsigned long long)o->csum);
		return -CAIRN_ERR_CSUM;
	}
	return 0;
}
