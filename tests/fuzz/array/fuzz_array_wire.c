/*
 * libFuzzer target for what the array code parses off the wire: the array metadata value
 * (cli_array_md_decode, stored in the object and fetched by cairn_array_open) and a
 * QUERY_KEY reply (obj_out_dec + cli_obj_query_decode). Invariants: no crash, and a
 * decoded metadata value re-encodes to the same 24 bytes with sane sizes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/array.h>
#include <cairn/errno.h>

#include "cli_obj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t cell = 0, chunk = 0, dkey = 0, end = 0;
	struct obj_out o;
	struct cairn_dec d;
	bool found;

	if (cli_array_md_decode(data, size, &cell, &chunk) == 0) {
		if (size != 24 || cell == 0 || cell > CAIRN_ARRAY_CELL_MAX || chunk == 0 ||
		    cell * chunk > CAIRN_ARRAY_CHUNK_BYTES_MAX)
			abort();
		for (int i = 0; i < 8; i++)
			if (data[8 + i] != (uint8_t)(cell >> (8 * i)) ||
			    data[16 + i] != (uint8_t)(chunk >> (8 * i)))
				abort();
	}
	memset(&o, 0, sizeof(o));
	cairn_dec_init(&d, data, size);
	if (obj_out_dec(&d, &o) == 0 && cli_obj_query_decode(&o, &found, &dkey, &end) == 0 &&
	    found && (o.nr_keys != 1 || o.keys_len != 8 || end == 0))
		abort();
	return 0;
}
