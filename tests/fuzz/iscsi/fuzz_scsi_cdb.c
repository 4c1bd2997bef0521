/*
 * libFuzzer target for the SCSI parsers: CDB decoding and sense building, and the
 * persistent reservation state machine fed with fuzzed PR OUT/IN commands.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const g_ports[] = {"iqn.a,i,0x1", "iqn.b,i,0x2", "iqn.c,i,0x3"};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cairn_scsi_cdb_info info;
	struct cairn_scsi_pr pr;
	uint8_t sense[CAIRN_SCSI_SENSE_MAX], sl = 0, out[512];
	uint32_t len;

	if (size < 1)
		return 0;
	{
		uint8_t cdb[16];
		size_t n = size - 1 < 16 ? size - 1 : 16;

		memset(cdb, 0, sizeof(cdb));
		memcpy(cdb, data + 1, n);
		cairn_scsi_cdb_decode(cdb, (uint32_t)(data[0] % 17), &info, sense, &sl);
		if (sl > CAIRN_SCSI_SENSE_MAX)
			abort();
	}
	/* A sequence of PR commands: [port, sa, type, key(1), sakey(1)] per 5 bytes. */
	cairn_scsi_pr_init(&pr);
	while (size >= 5) {
		uint8_t cdb[10], p[24];
		const char *port = g_ports[data[0] % 3];

		memset(cdb, 0, sizeof(cdb));
		memset(p, 0, sizeof(p));
		cdb[0] = SCSI_OP_PR_OUT;
		cdb[1] = data[1] & 0x1f;
		cdb[2] = data[2];
		scsi_put_be32(cdb + 5, 24);
		scsi_put_be64(p, data[3] & 7);
		scsi_put_be64(p + 8, data[4] & 7);
		if (data[1] & 0x80) {
			cdb[0] = SCSI_OP_PR_IN;
			cdb[1] = data[1] & 3;
			cairn_scsi_pr_in(&pr, cdb, out, data[2], &len, sense, &sl);
		} else {
			cairn_scsi_pr_out(&pr, port, 1, cdb, p, 24, sense, &sl);
		}
		cairn_scsi_pr_conflict(&pr, port, data[3] & 1, data[4] & 1);
		if (pr.nregs > CAIRN_SCSI_PR_MAX_REGS ||
		    (pr.holder >= 0 && (unsigned)pr.holder >= pr.nregs))
			abort();
		data += 5;
		size -= 5;
	}
	return 0;
}
