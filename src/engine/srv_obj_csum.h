/*
 * End-to-end checksums and conditions of object RPCs, for srv_obj.c and srv_obj_array.c
 * (target xstreams). See srv_obj_csum.c.
 */
#ifndef CAIRN_ENGINE_SRV_OBJ_CSUM_H
#define CAIRN_ENGINE_SRV_OBJ_CSUM_H

#include <stdint.h>

#include "engine/proto.h"

/* An update's value (len bytes at buf) against the checksum the client sent with it
 * (nothing to do when in->csum_type is 0). -CAIRN_ERR_CSUM (logged): the caller stores
 * nothing. -CAIRN_ERR_INVAL: unknown checksum type. */
int srv_obj_csum_verify(const struct obj_in *in, const void *buf, uint64_t len);

struct cairn_vos_iod;

/* After srv_obj_csum_verify() succeeded: a CRC32C the client sent is the value's VOS
 * media checksum too (CAIRN_VOS_IOD_CRC_GIVEN), so VOS does not compute it again. */
void srv_obj_csum_to_iod(const struct obj_in *in, struct cairn_vos_iod *iod);

/* A fetch reply: the checksum of the len bytes at buf, of the type the client asked
 * for (in->csum_type; nothing when 0). stored: the value's stored CRC32C from VOS (a
 * single value's, CAIRN_VOS_IOD_CRC_GIVEN), used as is for a CRC32C container instead
 * of computing one (end to end: the writer's checksum comes back); NULL to compute.
 * Fault point "obj.srv.fetch.corrupt" flips a bit of buf after the checksum, as
 * corruption on the way would. */
int srv_obj_csum_reply(const struct obj_in *in, struct obj_out *o, void *buf, uint64_t len,
                       const uint32_t *stored);
/* The same for a value in VOS's shared buffer (cairn_vos_fetch_ref), which is only
 * read: *vbuf may be replaced by a private copy (the fault point's flipped bit); release
 * whatever *vbuf is afterwards with cairn_vos_buf_free(). */
int srv_obj_csum_reply_shared(const struct obj_in *in, struct obj_out *o, void **vbuf,
                              uint64_t len, const uint32_t *stored);

/* The conditional flags of a request, for the RPC (idx): -CAIRN_ERR_INVAL when it
 * carries flags that operation does not take. */
int srv_obj_cond_check(uint32_t idx, uint32_t cond);

#endif /* CAIRN_ENGINE_SRV_OBJ_CSUM_H */
