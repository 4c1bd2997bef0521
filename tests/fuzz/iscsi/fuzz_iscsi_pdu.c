/*
 * libFuzzer target for the iSCSI wire parsers: BHS validation, key=value text parsing,
 * operational key negotiation and CHAP binary value decoding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_bhs_info info;
	struct iscsi_params p;
	struct iscsi_param_limits l;
	struct iscsi_text t;
	struct iscsi_textbuf tb;
	char out[4096];
	uint8_t bin[1024], reason;
	const char *why;
	char *text;
	size_t tlen;
	unsigned i;

	if (size >= ISCSI_BHS_LEN) {
		uint32_t max = (uint32_t)(data[0] << 8 | data[1]) * 64;

		iscsi_bhs_decode(data, max, &info, &reason, &why);
		data += ISCSI_BHS_LEN;
		size -= ISCSI_BHS_LEN;
	}
	/* The rest is a login/text data segment. */
	tlen = size;
	text = malloc(tlen + 1);
	if (!text)
		return 0;
	if (tlen)
		memcpy(text, data, tlen);
	if (iscsi_text_parse(text, tlen, tlen + 1, &t, &why) == 0) {
		iscsi_params_default(&p);
		iscsi_param_limits_default(&l);
		tb.buf = out;
		tb.cap = sizeof(out);
		tb.len = 0;
		tb.overflow = false;
		for (i = 0; i < t.n; i++) {
			if (iscsi_param_negotiate(&p, &l, tlen & 1, t.kv[i].key, t.kv[i].val,
						  &tb) == 0)
				iscsi_bin_decode(t.kv[i].val, bin, sizeof(bin));
		}
		iscsi_param_declare(&p, &l, false, 0, &tb);
		if (tb.len > tb.cap)
			abort();
	}
	free(text);
	return 0;
}
