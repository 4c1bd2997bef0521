/*
 * The `cairn` volume bdev (src/bdev/cairn): a block device stored as a Cairn array
 * object, through libcairn (like SPDK's bdev_daos / tgt's rbd backing store). Library
 * `cairn_bdev_cairn`, linked by cairn-tgt only (it pulls in libcairn).
 *
 * The process must run the runtime with at least one helper xstream: libcairn's network
 * runs there (cli_net.c's embedded mode). Create/delete do synchronous libcairn calls:
 * call them from a plain thread or an xstream other than that helper.
 */
#ifndef CAIRN_BDEV_BDEV_CAIRN_H
#define CAIRN_BDEV_BDEV_CAIRN_H

#include <stdint.h>

#include "bdev/bdev.h"

/** The module; register it (cairn_bdev_module_register) before cairn_bdev_init(). */
extern const struct cairn_bdev_module g_bdev_cairn_module;

/** Parameters of a cairn volume bdev. */
struct cairn_bdev_cairn_opts {
	size_t opts_size;    /**< sizeof(struct cairn_bdev_cairn_opts) */
	const char *name;    /**< bdev name; also names the volume's object in the container */
	const char *pool;    /**< pool label or uuid */
	const char *cont;    /**< container label or uuid */
	const char *sys;     /**< engine URI (tcp://HOST:PORT); NULL: $CAIRN_SYSTEM_URI */
	uint64_t size;       /**< bytes (a multiple of block_size) */
	uint32_t block_size; /**< 512 .. 65536, power of two */
	const uint8_t *uuid; /**< 16 bytes or NULL = random */
};

/**
 * Connect to the pool, open the container and the volume's array (created on first use:
 * cell = block_size, chunk = 1 MiB), register the bdev. Data written before (by an
 * earlier bdev of the same name in that container) is there again.
 * \return 0; -CAIRN_ERR_INVAL (name, geometry, an existing volume with another block
 *         size); -CAIRN_ERR_EXIST (bdev name taken); -CAIRN_ERR_NONEXIST (pool or
 *         container); libcairn/network errors
 */
int cairn_bdev_cairn_create(const struct cairn_bdev_cairn_opts *opts, struct cairn_bdev **out);

/** Delete a cairn bdev (the volume's data stays in the container). */
int cairn_bdev_cairn_delete(const char *name, cairn_bdev_cb cb, void *cb_arg);

#endif /* CAIRN_BDEV_BDEV_CAIRN_H */
