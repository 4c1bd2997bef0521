/*
 * libFuzzer target for the on-disk superblock decoder (src/control/storage.c): any 256
 * bytes either decode to a superblock with sane fields that re-encodes to the same
 * bytes, or are refused.
 */
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_superblock_df df, df2;
	struct ctl_superblock sb;

	memset(&df, 0, sizeof(df));
	memcpy(&df, data, size < sizeof(df) ? size : sizeof(df));
	/* Often fix magic, version and CRC up so the field checks behind them run. */
	if (size > 0 && (data[0] & 2)) {
		df.magic = htole64(CTL_SB_MAGIC);
		df.version = htole32(CTL_SB_VERSION);
	}
	if (size > 0 && (data[0] & 1))
		ctl_sb_encode_crc(&df);
	if (ctl_sb_decode(&df, &sb) != 0)
		return 0;
	if (sb.nr_targets == 0 || sb.nr_targets > CTL_MAX_TARGETS || sb.system[0] == '\0' ||
	    memchr(sb.system, '\0', sizeof(sb.system)) == NULL)
		abort();
	ctl_sb_encode(&sb, &df2);
	if (ctl_sb_decode(&df2, &sb) != 0)
		abort();
	return 0;
}
