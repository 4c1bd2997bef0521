/*
 * A module built as a shared object, loaded by test_module with cairn_module_load().
 * Compiled twice: as libcairn_mod_rtdemo.so (right ABI) and libcairn_mod_rtold.so with
 * TEST_BAD_ABI (wrong ABI version).
 */
#include <stdlib.h>

#include "rt/module.h"
#include "rt/rt.h"

static int g_inits;

static void *
key_init(struct cairn_xstream *xs, const struct cairn_module_key *key)
{
	unsigned *v = malloc(sizeof(*v));

	if (v != NULL)
		*v = 1000 + cairn_xs_id(xs); /* calls back into the runtime */
	return v;
}

static void
key_fini(struct cairn_xstream *xs, const struct cairn_module_key *key, void *data)
{
	free(data);
}

static struct cairn_module_key g_key = {
        .tags = CAIRN_XS_TAG_MAIN,
        .init = key_init,
        .fini = key_fini,
        .index = -1,
};

static int
mod_init(void)
{
	g_inits++;
	return 0;
}

#ifdef TEST_BAD_ABI
struct cairn_module cairn_module_rtold = {
        .abi_version = CAIRN_MODULE_ABI_VERSION + 1,
        .name = "rtold",
        .id = 41,
#else
struct cairn_module cairn_module_rtdemo = {
        .abi_version = CAIRN_MODULE_ABI_VERSION,
        .name = "rtdemo",
        .id = 40,
#endif
        .version = 3,
        .init = mod_init,
        .key = &g_key,
};
