/*
 * Private to src/target/app: method tables and helpers shared by app.c, app_rpc.c and
 * bdev_rpc.c.
 */
#ifndef CAIRN_TGT_APP_INTERNAL_H
#define CAIRN_TGT_APP_INTERNAL_H

#include "jsonrpc/jsonrpc.h"

/* Registration of each method group (explicit tables, no constructors). */
int tgt_app_rpc_register(void);
void tgt_app_rpc_unregister(void);
int tgt_bdev_rpc_register(void);
void tgt_bdev_rpc_unregister(void);

/* Replay a config document: either a top-level array of {"method","params"} calls or
 * SPDK's {"subsystems":[{"subsystem":..,"config":[calls]}]}. Calls go through the RPC
 * socket at addr, like any client. Errors name the failing call. */
int tgt_config_replay(const char *path, const char *addr);

/* iSCSI subsystem + its methods (app_iscsi.c, built when src/target/iscsi is). */
int tgt_iscsi_start(void);
void tgt_iscsi_stop(void);

/* Log levels at startup, restored by log_clear_flag. */
void tgt_log_snapshot(void);

#endif /* CAIRN_TGT_APP_INTERNAL_H */
