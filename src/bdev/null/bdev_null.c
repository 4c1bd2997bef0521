/*
 * null bdev: no storage. Writes, unmaps and write-zeroes are dropped, reads return
 * zeros. Used to measure the bdev layer itself (bdevperf) and as a sink in tests.
 */
#define CAIRN_LOG_SS CAIRN_SS_BDEV

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uuid/uuid.h>

#include "../bdev_internal.h"
#include "cairn/errno.h"
#include "common/log.h"

struct null_disk {
	struct cairn_bdev *bdev;
	uint32_t block_size;
	uint64_t num_blocks;
	uint8_t uuid[16];
	char name[CAIRN_BDEV_NAME_MAX];
};

static void
null_submit(void *ch_ctx, struct cairn_bdev_io *io)
{
	if (io->type == CAIRN_BDEV_IO_READ) {
		for (int i = 0; i < io->iovcnt; i++)
			memset(io->iov[i].iov_base, 0, io->iov[i].iov_len);
	}
	cairn_bdev_io_complete(io, 0);
}

static bool
null_io_type_supported(void *ctx, enum cairn_bdev_io_type type)
{
	return (unsigned)type < CAIRN_BDEV_IO_NTYPES;
}

static void *
null_get_io_channel(void *ctx)
{
	return ctx;
}

static int
null_write_config_json(void *ctx, struct json_t *array)
{
	struct null_disk *nd = ctx;
	char uuid[37];
	json_t *call;

	uuid_unparse_lower(nd->uuid, uuid);
	call = json_pack("{s:s, s:{s:s, s:I, s:i, s:s}}", "method", "bdev_null_create", "params",
			 "name", nd->name, "num_blocks", (json_int_t)nd->num_blocks, "block_size",
			 (int)nd->block_size, "uuid", uuid);
	if (call == NULL || json_array_append_new(array, call) != 0)
		return -CAIRN_ERR_NOMEM;
	return 0;
}

static void
null_destruct(void *ctx)
{
	free(ctx);
}

static const struct cairn_bdev_fn_table g_null_fn = {
	.submit_request = null_submit,
	.io_type_supported = null_io_type_supported,
	.get_io_channel = null_get_io_channel,
	.write_config_json = null_write_config_json,
	.destruct = null_destruct,
};

const struct cairn_bdev_module g_bdev_null_module = {
	.name = "null",
};

int
cairn_bdev_null_create(const char *name, uint64_t num_blocks, uint32_t block_size,
		       const uint8_t *uuid, struct cairn_bdev **out)
{
	struct cairn_bdev_info info = { .opts_size = sizeof(info) };
	struct null_disk *nd;
	int rc;

	if (out == NULL || !bdev_name_valid(name))
		return -CAIRN_ERR_INVAL;
	rc = bdev_check_geometry(num_blocks, block_size);
	if (rc != 0)
		return rc;
	nd = calloc(1, sizeof(*nd));
	if (nd == NULL)
		return -CAIRN_ERR_NOMEM;
	nd->block_size = block_size;
	nd->num_blocks = num_blocks;
	snprintf(nd->name, sizeof(nd->name), "%s", name);
	if (uuid != NULL)
		memcpy(nd->uuid, uuid, 16);
	else
		uuid_generate(nd->uuid);
	info.name = name;
	info.product_name = "Null disk";
	info.block_size = block_size;
	info.num_blocks = num_blocks;
	info.uuid = nd->uuid;
	info.unmap_zeroes = true;
	rc = cairn_bdev_register(&info, &g_null_fn, &g_bdev_null_module, nd, &nd->bdev);
	if (rc != 0) {
		free(nd);
		return rc;
	}
	*out = nd->bdev;
	return 0;
}

int
cairn_bdev_null_delete(const char *name, cairn_bdev_cb cb, void *cb_arg)
{
	return bdev_module_delete(name, &g_bdev_null_module, cb, cb_arg);
}
