/*
 * malloc bdev: a RAM disk. The data lives in an anonymous mapping (untouched pages cost
 * nothing and read as zeros); unmap and write-zeroes give whole pages back with
 * MADV_DONTNEED and zero the partial pages. Every request completes inside
 * submit_request (the core defers the user callback). Copies walk the iovec list once,
 * so vectored I/O costs no more than contiguous I/O.
 */
#define CAIRN_LOG_SS CAIRN_SS_BDEV

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>
#include <uuid/uuid.h>

#include "../bdev_internal.h"
#include "cairn/errno.h"
#include "common/log.h"

struct malloc_disk {
	struct cairn_bdev *bdev;
	char *data;
	size_t size;
	uint32_t block_size;
	uint64_t num_blocks;
	uint8_t uuid[16];
	char name[CAIRN_BDEV_NAME_MAX];
};

static size_t g_page_size;

static int
malloc_module_init(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	g_page_size = ps > 0 ? (size_t)ps : 4096;
	return 0;
}

static void
malloc_copy(struct cairn_bdev_io *io, char *base, bool to_disk)
{
	for (int i = 0; i < io->iovcnt; i++) {
		if (to_disk)
			memcpy(base, io->iov[i].iov_base, io->iov[i].iov_len);
		else
			memcpy(io->iov[i].iov_base, base, io->iov[i].iov_len);
		base += io->iov[i].iov_len;
	}
}

static void
malloc_zero(struct malloc_disk *md, size_t off, size_t len)
{
	size_t start = (off + g_page_size - 1) & ~(g_page_size - 1);
	size_t end = (off + len) & ~(g_page_size - 1);

	if (end > start) {
		memset(md->data + off, 0, start - off);
		if (madvise(md->data + start, end - start, MADV_DONTNEED) != 0)
			memset(md->data + start, 0, end - start);
		memset(md->data + end, 0, off + len - end);
	} else {
		memset(md->data + off, 0, len);
	}
}

static void
malloc_submit(void *ch_ctx, struct cairn_bdev_io *io)
{
	struct malloc_disk *md = cairn_bdev_get_ctx(io->bdev);
	size_t off = io->offset_blocks * md->block_size;
	size_t len = io->num_blocks * md->block_size;

	switch (io->type) {
	case CAIRN_BDEV_IO_READ:
		malloc_copy(io, md->data + off, false);
		break;
	case CAIRN_BDEV_IO_WRITE:
		malloc_copy(io, md->data + off, true);
		break;
	case CAIRN_BDEV_IO_UNMAP:
	case CAIRN_BDEV_IO_WRITE_ZEROES:
		malloc_zero(md, off, len);
		break;
	case CAIRN_BDEV_IO_FLUSH:
		break;
	default:
		cairn_bdev_io_complete(io, -CAIRN_ERR_NOSYS);
		return;
	}
	cairn_bdev_io_complete(io, 0);
}

static bool
malloc_io_type_supported(void *ctx, enum cairn_bdev_io_type type)
{
	return (unsigned)type < CAIRN_BDEV_IO_NTYPES;
}

/* A non-NULL channel context; the malloc disk needs no per-xstream state. */
static void *
malloc_get_io_channel(void *ctx)
{
	return ctx;
}

static int
malloc_dump_info_json(void *ctx, struct json_t *obj)
{
	struct malloc_disk *md = ctx;

	return json_object_set_new(obj, "malloc", json_pack("{s:I}", "size_bytes",
							     (json_int_t)md->size)) ? -CAIRN_ERR_NOMEM : 0;
}

static int
malloc_write_config_json(void *ctx, struct json_t *array)
{
	struct malloc_disk *md = ctx;
	char uuid[37];
	json_t *call;

	uuid_unparse_lower(md->uuid, uuid);
	call = json_pack("{s:s, s:{s:s, s:I, s:i, s:s}}", "method", "bdev_malloc_create",
			 "params", "name", md->name, "num_blocks", (json_int_t)md->num_blocks,
			 "block_size", (int)md->block_size, "uuid", uuid);
	if (call == NULL || json_array_append_new(array, call) != 0)
		return -CAIRN_ERR_NOMEM;
	return 0;
}

static void
malloc_destruct(void *ctx)
{
	struct malloc_disk *md = ctx;

	munmap(md->data, md->size);
	free(md);
}

static const struct cairn_bdev_fn_table g_malloc_fn = {
	.submit_request = malloc_submit,
	.io_type_supported = malloc_io_type_supported,
	.get_io_channel = malloc_get_io_channel,
	.dump_info_json = malloc_dump_info_json,
	.write_config_json = malloc_write_config_json,
	.destruct = malloc_destruct,
};

const struct cairn_bdev_module g_bdev_malloc_module = {
	.name = "malloc",
	.module_init = malloc_module_init,
};

int
cairn_bdev_malloc_create_ext(const struct cairn_bdev_malloc_opts *opts, struct cairn_bdev **out)
{
	struct cairn_bdev_info info = { .opts_size = sizeof(info) };
	struct malloc_disk *md;
	int rc;

	if (opts == NULL || opts->opts_size < sizeof(*opts) || out == NULL)
		return -CAIRN_ERR_INVAL;
	if (!bdev_name_valid(opts->name)) {
		CAIRN_ERROR("bdev_malloc_create: invalid name: expected 1..%d characters of "
			    "[A-Za-z0-9_.:-]", CAIRN_BDEV_NAME_MAX - 1);
		return -CAIRN_ERR_INVAL;
	}
	rc = bdev_check_geometry(opts->num_blocks, opts->block_size);
	if (rc != 0)
		return rc;
	if (opts->num_blocks > SIZE_MAX / opts->block_size)
		return -CAIRN_ERR_OVERFLOW;
	if (opts->buf_align > 1 && (opts->buf_align & (opts->buf_align - 1)) != 0)
		return -CAIRN_ERR_INVAL;

	md = calloc(1, sizeof(*md));
	if (md == NULL)
		return -CAIRN_ERR_NOMEM;
	md->block_size = opts->block_size;
	md->num_blocks = opts->num_blocks;
	md->size = opts->num_blocks * opts->block_size;
	snprintf(md->name, sizeof(md->name), "%s", opts->name);
	md->data = mmap(NULL, md->size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (md->data == MAP_FAILED) {
		CAIRN_ERROR("bdev_malloc_create %s: cannot map %zu bytes", opts->name, md->size);
		rc = -CAIRN_ERR_NOMEM;
		goto err_free;
	}
	if (opts->uuid != NULL)
		memcpy(md->uuid, opts->uuid, 16);
	else
		uuid_generate(md->uuid);

	info.name = opts->name;
	info.product_name = "Malloc disk";
	info.block_size = opts->block_size;
	info.num_blocks = opts->num_blocks;
	info.uuid = md->uuid;
	info.optimal_io_boundary = opts->optimal_io_boundary;
	info.split_on_optimal_io_boundary = opts->optimal_io_boundary != 0;
	info.max_transfer_blocks = opts->max_transfer_blocks;
	info.buf_align = opts->buf_align;
	info.write_cache = false;
	info.unmap_zeroes = true;
	rc = cairn_bdev_register(&info, &g_malloc_fn, &g_bdev_malloc_module, md, &md->bdev);
	if (rc != 0)
		goto err_unmap;
	*out = md->bdev;
	return 0;

err_unmap:
	munmap(md->data, md->size);
err_free:
	free(md);
	return rc;
}

int
cairn_bdev_malloc_create(const char *name, uint64_t num_blocks, uint32_t block_size,
			 const uint8_t *uuid, struct cairn_bdev **out)
{
	struct cairn_bdev_malloc_opts opts = {
		.opts_size = sizeof(opts),
		.name = name,
		.num_blocks = num_blocks,
		.block_size = block_size,
		.uuid = uuid,
	};

	return cairn_bdev_malloc_create_ext(&opts, out);
}

int
cairn_bdev_malloc_delete(const char *name, cairn_bdev_cb cb, void *cb_arg)
{
	return bdev_module_delete(name, &g_bdev_malloc_module, cb, cb_arg);
}
