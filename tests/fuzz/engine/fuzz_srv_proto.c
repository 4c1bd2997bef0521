/*
 * libFuzzer target: the pool/cont/obj wire decoders (src/include/engine/proto.h) on
 * arbitrary bytes. The first byte picks the message; a decoded message is re-encoded
 * and must decode again to the same field values.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
again(int (*enc)(struct cairn_enc *, const void *), int (*dec)(struct cairn_dec *, void *),
      const void *msg, size_t msg_size)
{
	struct cairn_enc e;
	struct cairn_dec d;
	void *copy = calloc(1, msg_size);
	uint8_t *buf;
	size_t len;

	cairn_enc_init(&e, 0);
	if (enc(&e, msg) == 0) {
		buf = cairn_enc_steal(&e, &len);
		cairn_dec_init(&d, buf, len);
		if (dec(&d, copy) != 0 || cairn_dec_done(&d) != 0)
			abort(); /* what we encode we must be able to decode */
		free(buf);
	} else {
		cairn_enc_fini(&e);
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union {
		struct pool_in pi;
		struct pool_out po;
		struct cont_in ci;
		struct cont_out co;
		struct obj_in oi;
		struct obj_out oo;
		struct pool_tgt_in ti;
		struct pool_tgt_out to;
	} m;
	static const struct {
		int (*enc)(struct cairn_enc *, const void *);
		int (*dec)(struct cairn_dec *, void *);
		size_t size;
	} kinds[] = {
	        {pool_in_enc, pool_in_dec, sizeof(struct pool_in)},
	        {pool_out_enc, pool_out_dec, sizeof(struct pool_out)},
	        {cont_in_enc, cont_in_dec, sizeof(struct cont_in)},
	        {cont_out_enc, cont_out_dec, sizeof(struct cont_out)},
	        {obj_in_enc, obj_in_dec, sizeof(struct obj_in)},
	        {obj_out_enc, obj_out_dec, sizeof(struct obj_out)},
	        {pool_tgt_in_enc, pool_tgt_in_dec, sizeof(struct pool_tgt_in)},
	        {pool_tgt_out_enc, pool_tgt_out_dec, sizeof(struct pool_tgt_out)},
	};
	struct cairn_dec d;
	unsigned k;

	if (size < 1)
		return 0;
	k = data[0] % (sizeof(kinds) / sizeof(kinds[0]));
	memset(&m, 0, sizeof(m));
	cairn_dec_init(&d, data + 1, size - 1);
	if (kinds[k].dec(&d, &m) == 0 && cairn_dec_done(&d) == 0)
		again(kinds[k].enc, kinds[k].dec, &m, kinds[k].size);
	return 0;
}
