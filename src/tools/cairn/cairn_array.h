/* `cairn array ...` (cairn_array.c), called by cairn.c with the container open. */
#ifndef CAIRN_TOOLS_CAIRN_ARRAY_H
#define CAIRN_TOOLS_CAIRN_ARRAY_H

#include <stddef.h>

#include <cairn/placement.h>
#include <cairn/types.h>

struct cairn_cli_array_opts {
	const char *in_file;  /* write: -i FILE */
	const char *value;    /* write: -v VALUE */
	const char *out_file; /* read: -O FILE (stdout by default) */
	enum cairn_oclass oclass;
	/* reads a whole file ('-' = stdin); prints its own error; 0 or nonzero */
	int (*read_file)(const char *path, void **buf, size_t *len);
};

/* argv: OID [OFFSET [LENGTH]]. \return the process exit code (0, 1, 2 usage, 3). */
int cairn_cli_array(const char *sub, struct cairn_handle coh, char **argv, int argc,
                    const struct cairn_cli_array_opts *o);

#endif /* CAIRN_TOOLS_CAIRN_ARRAY_H */
