/*
 * cairn-tgt <-> iSCSI target glue: start the subsystem with its defaults and register its
 * JSON-RPC methods and "iscsi" save_config writer (iscsi_rpc.c); stop in reverse order.
 */
#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_TGT
#include "common/log.h"

#include "target/iscsi.h"

#include "app_internal.h"

int
tgt_iscsi_start(void)
{
	int rc = cairn_iscsi_init(NULL);

	if (rc)
		return rc;
	rc = cairn_iscsi_rpc_register();
	if (rc) {
		CAIRN_ERROR("cannot register the iscsi_* methods: %s", cairn_strerror(rc));
		cairn_iscsi_fini();
	}
	return rc;
}

void
tgt_iscsi_stop(void)
{
	cairn_iscsi_rpc_unregister();
	cairn_iscsi_fini();
}
