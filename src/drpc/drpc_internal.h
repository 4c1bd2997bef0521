/* Private to src/drpc. */
#ifndef CAIRN_DRPC_INTERNAL_H
#define CAIRN_DRPC_INTERNAL_H

#include "drpc/drpc.h"

/* Find the handler of (module, method); NULL with *why = "unknown module"/"unknown
 * method" when there is none. Any thread. */
cairn_drpc_handler_fn drpc_lookup(uint32_t module, uint32_t method, const char **why);

#endif /* CAIRN_DRPC_INTERNAL_H */
