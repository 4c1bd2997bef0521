/*
 * The engine's half of end-to-end checksums (container property `csum`, client half in
 * src/client/cli_csum.c): an update carries the checksum of its value, verified here
 * before VOS writes anything; a fetch asks for one, computed here over the bytes sent
 * (after VOS verified its own media CRC of them). And the check of the conditional
 * flags each object RPC accepts. Target xstreams; no state but the fault points.
 *
 * Fault point (CAIRN_FAULTS in the engine's environment, armed at the first checksummed
 * request): "obj.srv.fetch.corrupt[:value=OID_LO]" flips a bit of a fetched value after
 * its checksum was computed (only for the object whose id's lo is OID_LO, when given).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_OBJ
#include "common/csum.h"
#include "common/fault.h"
#include "common/log.h"
#include "engine/proto.h"
#include "vos/vos.h"

#include "srv_obj_csum.h"

_Static_assert(PROTO_COND_DKEY_INSERT == CAIRN_VOS_COND_DKEY_INSERT &&
                       PROTO_COND_DKEY_UPDATE == CAIRN_VOS_COND_DKEY_UPDATE &&
                       PROTO_COND_AKEY_INSERT == CAIRN_VOS_COND_AKEY_INSERT &&
                       PROTO_COND_AKEY_UPDATE == CAIRN_VOS_COND_AKEY_UPDATE &&
                       PROTO_COND_PUNCH == CAIRN_VOS_COND_PUNCH,
               "update/punch conditions go to VOS as they are");

static pthread_once_t g_fault_once = PTHREAD_ONCE_INIT;

static void
fault_init(void)
{
	/* arm CAIRN_FAULTS points (the engine reads them nowhere else yet) */
	(void)cairn_fault_init();
}

/* A fault point limited to one object: its `value` is the object id's lo (0: any). */
static bool
fault_fires(const char *name, uint64_t oid_lo)
{
	int64_t v;

	if (__atomic_load_n(&g_cairn_fault_armed, __ATOMIC_RELAXED) == 0)
		return false;
	v = cairn_fault_value(name, -1);
	if (v < 0 || (v != 0 && (uint64_t)v != oid_lo))
		return false;
	return cairn_fault_check(name);
}

static int
csum_of(uint32_t type, const void *buf, uint64_t len, uint64_t *out)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};

	if (type == CAIRN_CSUM_NONE || type > PROTO_CONT_CSUM_MAX)
		return -CAIRN_ERR_INVAL;
	pthread_once(&g_fault_once, fault_init);
	return cairn_csum_iov((enum cairn_csum_type)type, &iov, 1, out);
}

int
srv_obj_csum_verify(const struct obj_in *in, const void *buf, uint64_t len)
{
	uint64_t got;
	int rc;

	if (in->csum_type == CAIRN_CSUM_NONE)
		return 0;
	rc = csum_of(in->csum_type, buf, len, &got);
	if (rc)
		return rc;
	if (got != in->csum) {
		CAIRN_ERROR("object %llx.%llx: update of %llu bytes fails its %s checksum (client "
		            "sent %llx, data gives %llx): corrupted on the way, not stored",
		            (unsigned long long)in->oid_hi, (unsigned long long)in->oid_lo,
		            (unsigned long long)len,
		            cairn_csum_name((enum cairn_csum_type)in->csum_type),
		            (unsigned long long)in->csum, (unsigned long long)got);
		return -CAIRN_ERR_CSUM;
	}
	return 0;
}

void
srv_obj_csum_to_iod(const struct obj_in *in, struct cairn_vos_iod *iod)
{
	/* VOS's media checksum is CRC32C with seed 0, as cairn_crc32c() */
	if (in->csum_type == CAIRN_CSUM_CRC32C) {
		iod->flags |= CAIRN_VOS_IOD_CRC_GIVEN;
		iod->crc = (uint32_t)in->csum;
	}
}

/* The reply's checksum (no fault point). */
static int
csum_fill(const struct obj_in *in, struct obj_out *o, const void *buf, uint64_t len,
          const uint32_t *stored)
{
	int rc;

	if (stored && in->csum_type == CAIRN_CSUM_CRC32C) {
		pthread_once(&g_fault_once, fault_init);
		o->csum = *stored;
	} else {
		rc = csum_of(in->csum_type, buf, len, &o->csum);
		if (rc)
			return rc;
	}
	o->csum_type = in->csum_type;
	return 0;
}

int
srv_obj_csum_reply(const struct obj_in *in, struct obj_out *o, void *buf, uint64_t len,
                   const uint32_t *stored)
{
	int rc;

	if (in->csum_type == CAIRN_CSUM_NONE)
		return 0;
	rc = csum_fill(in, o, buf, len, stored);
	if (rc)
		return rc;
	if (len > 0 && fault_fires("obj.srv.fetch.corrupt", in->oid_lo)) {
		((uint8_t *)buf)[len / 2] ^= 0x10;
		CAIRN_WARN("fault obj.srv.fetch.corrupt: sending a value with a flipped bit");
	}
	return 0;
}

int
srv_obj_csum_reply_shared(const struct obj_in *in, struct obj_out *o, void **vbuf,
                          uint64_t len, const uint32_t *stored)
{
	void *copy;
	int rc;

	if (in->csum_type == CAIRN_CSUM_NONE)
		return 0;
	/* the value must not change in VOS's cache: checksum it there, and let the fault
	 * point (if armed) flip its bit in a private copy */
	rc = csum_fill(in, o, *vbuf, len, stored);
	if (rc)
		return rc;
	if (len > 0 && fault_fires("obj.srv.fetch.corrupt", in->oid_lo)) {
		copy = cairn_vos_buf_alloc(len);
		if (copy == NULL)
			return -CAIRN_ERR_NOMEM;
		memcpy(copy, *vbuf, len);
		((uint8_t *)copy)[len / 2] ^= 0x10;
		cairn_vos_buf_free(*vbuf);
		*vbuf = copy;
		CAIRN_WARN("fault obj.srv.fetch.corrupt: sending a value with a flipped bit");
	}
	return 0;
}

int
srv_obj_cond_check(uint32_t idx, uint32_t cond)
{
	uint32_t ok;

	switch (idx) {
	case OBJ_RPC_UPDATE:
	case OBJ_RPC_ARRAY_UPDATE:
		ok = PROTO_COND_UPDATE_MASK;
		break;
	case OBJ_RPC_FETCH:
		ok = PROTO_COND_FETCH_MASK;
		break;
	case OBJ_RPC_PUNCH:
		ok = PROTO_COND_PUNCH;
		break;
	default:
		ok = 0;
		break;
	}
	if (cond & ~ok) {
		CAIRN_WARN("object RPC %u: conditional flags %#x not accepted (allowed %#x)", idx,
		           cond, ok);
		return -CAIRN_ERR_INVAL;
	}
	return 0;
}
