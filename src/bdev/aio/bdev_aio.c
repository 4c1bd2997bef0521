/*
 * aio bdev: a file or block device through Linux native AIO (libaio), the fallback
 * for kernels without io_uring.
 *
 * One io_context and one eventfd per channel. submit_request queues iocbs; the channel
 * poller submits the queue with one io_submit (batching) and reaps with a zero-timeout
 * io_getevents. The eventfd is an xstream wake-up source. Linux AIO has no useful
 * fsync or fallocate commands, so flush (fdatasync), unmap and write-zeroes
 * (fallocate) run synchronously in submit_request: acceptable for a fallback.
 */
#define CAIRN_LOG_SS CAIRN_SS_BDEV

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <jansson.h>
#include <libaio.h>
#include <uuid/uuid.h>

#include "../bdev_internal.h"
#include "cairn/errno.h"
#include "common/log.h"

#define AIO_QD       128
#define AIO_REAP_MAX 64

struct aio_disk {
	struct cairn_bdev *bdev;
	struct bdev_file file;
	uint8_t uuid[16];
	char name[CAIRN_BDEV_NAME_MAX];
};

struct aio_ch {
	struct aio_disk *disk;
	io_context_t ctx;
	int efd;
	struct cairn_poller *poller;
	struct iocb *queue[AIO_QD]; /* prepared, not yet submitted */
	unsigned queued;
	unsigned inflight;
	struct cairn_list overflow;  /* waiting for a queue slot */
	bool wake_registered;
};

static size_t
aio_get_ctx_size(void)
{
	return sizeof(struct iocb);
}

static void
aio_queue(struct aio_ch *ach, struct cairn_bdev_io *io)
{
	struct iocb *iocb = cairn_bdev_io_driver_ctx(io);
	struct aio_disk *ad = ach->disk;
	long long off = (long long)(io->offset_blocks * ad->file.block_size);

	if (io->type == CAIRN_BDEV_IO_READ)
		io_prep_preadv(iocb, ad->file.fd, io->iov, io->iovcnt, off);
	else
		io_prep_pwritev(iocb, ad->file.fd, io->iov, io->iovcnt, off);
	io_set_eventfd(iocb, ach->efd);
	iocb->data = io;
	ach->queue[ach->queued++] = iocb;
}

static void
aio_submit(void *ch_ctx, struct cairn_bdev_io *io)
{
	struct aio_ch *ach = ch_ctx;
	struct aio_disk *ad = ach->disk;
	uint64_t off = io->offset_blocks * ad->file.block_size;
	uint64_t len = io->num_blocks * ad->file.block_size;
	int rc;

	switch (io->type) {
	case CAIRN_BDEV_IO_READ:
	case CAIRN_BDEV_IO_WRITE:
		if (cairn_list_empty(&ach->overflow) && ach->queued + ach->inflight < AIO_QD)
			aio_queue(ach, io);
		else
			cairn_list_add_tail(&io->module_link, &ach->overflow);
		return;
	case CAIRN_BDEV_IO_FLUSH:
		rc = fdatasync(ad->file.fd) == 0 ? 0 : -errno;
		break;
	case CAIRN_BDEV_IO_UNMAP:
		rc = bdev_file_deallocate(&ad->file, false, off, len);
		break;
	case CAIRN_BDEV_IO_WRITE_ZEROES:
		rc = bdev_file_deallocate(&ad->file, true, off, len);
		break;
	default:
		rc = -CAIRN_ERR_NOSYS;
		break;
	}
	if (rc != 0)
		CAIRN_ERROR("bdev %s: %s failed: %s", ad->name, cairn_bdev_io_type_name(io->type),
			    cairn_strerror(rc));
	cairn_bdev_io_complete(io, rc);
}

static int
aio_poll(void *arg)
{
	struct aio_ch *ach = arg;
	struct io_event events[AIO_REAP_MAX];
	struct timespec zero = { 0, 0 };
	uint64_t cnt;
	int work = 0, n;

	while (!cairn_list_empty(&ach->overflow) && ach->queued + ach->inflight < AIO_QD) {
		struct cairn_list *l = cairn_list_pop(&ach->overflow);

		aio_queue(ach, cairn_list_entry(l, struct cairn_bdev_io, module_link));
	}
	if (ach->queued > 0) {
		int ret = io_submit(ach->ctx, (long)ach->queued, ach->queue);

		if (ret > 0) {
			memmove(ach->queue, ach->queue + ret,
				sizeof(ach->queue[0]) * (ach->queued - (unsigned)ret));
			ach->queued -= (unsigned)ret;
			ach->inflight += (unsigned)ret;
			work += ret;
		} else if (ret < 0 && ret != -EAGAIN) {
			/* fail the first request so that the queue keeps moving */
			struct cairn_bdev_io *io = ach->queue[0]->data;

			CAIRN_LOG_RATELIMIT(CAIRN_SS_BDEV, CAIRN_LOG_ERR, 10,
					    "bdev %s: io_submit failed: %s", ach->disk->name,
					    strerror(-ret));
			memmove(ach->queue, ach->queue + 1,
				sizeof(ach->queue[0]) * (ach->queued - 1));
			ach->queued--;
			cairn_bdev_io_complete(io, ret);
			work++;
		}
	}
	if (ach->inflight == 0)
		return work;
	if (read(ach->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		CAIRN_LOG_RATELIMIT(CAIRN_SS_BDEV, CAIRN_LOG_WARN, 1, "eventfd read: %s",
				    strerror(errno));
	n = io_getevents(ach->ctx, 0, AIO_REAP_MAX, events, &zero);
	if (n <= 0)
		return work;
	ach->inflight -= (unsigned)n;
	for (int i = 0; i < n; i++) {
		struct cairn_bdev_io *io = events[i].data;
		long res = (long)events[i].res;
		uint64_t want = io->num_blocks * ach->disk->file.block_size;
		int rc = 0;

		if (res < 0) {
			rc = (int)res;
			CAIRN_LOG_RATELIMIT(CAIRN_SS_BDEV, CAIRN_LOG_ERR, 10,
					    "bdev %s: %s at block %" PRIu64 " failed: %s",
					    ach->disk->name, cairn_bdev_io_type_name(io->type),
					    io->offset_blocks, strerror((int)-res));
		} else if ((uint64_t)res != want) {
			rc = -CAIRN_ERR_IO;
			CAIRN_LOG_RATELIMIT(CAIRN_SS_BDEV, CAIRN_LOG_ERR, 10,
					    "bdev %s: short %s (%ld of %" PRIu64 " bytes)",
					    ach->disk->name, cairn_bdev_io_type_name(io->type), res,
					    want);
		}
		cairn_bdev_io_complete(io, rc);
	}
	return work + n;
}

static void *
aio_get_io_channel(void *ctx)
{
	struct aio_ch *ach;
	int rc;

	ach = calloc(1, sizeof(*ach));
	if (ach == NULL)
		return NULL;
	ach->disk = ctx;
	cairn_list_init(&ach->overflow);
	ach->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ach->efd < 0) {
		CAIRN_ERROR("bdev %s: eventfd: %s", ach->disk->name, strerror(errno));
		goto err_free;
	}
	rc = io_setup(AIO_QD, &ach->ctx);
	if (rc != 0) {
		CAIRN_ERROR("bdev %s: io_setup(%d) failed: %s (see /proc/sys/fs/aio-max-nr)",
			    ach->disk->name, AIO_QD, strerror(-rc));
		goto err_close;
	}
	ach->poller = cairn_poller_register(aio_poll, ach, 0, "bdev_aio");
	if (ach->poller == NULL)
		goto err_destroy;
	if (cairn_rt_wake_fd_add(ach->efd, EPOLLIN) == 0)
		ach->wake_registered = true;
	else
		CAIRN_WARN("bdev %s: cannot register the eventfd for idle wake-ups",
			   ach->disk->name);
	return ach;

err_destroy:
	io_destroy(ach->ctx);
err_close:
	close(ach->efd);
err_free:
	free(ach);
	return NULL;
}

static void
aio_put_io_channel(void *ctx, void *ch_ctx)
{
	struct aio_ch *ach = ch_ctx;

	if (ach->inflight > 0 || ach->queued > 0 || !cairn_list_empty(&ach->overflow))
		CAIRN_ERROR("bdev %s: channel destroyed with I/O in flight", ach->disk->name);
	if (ach->wake_registered)
		cairn_rt_wake_fd_del(ach->efd);
	cairn_poller_unregister(&ach->poller);
	io_destroy(ach->ctx);
	close(ach->efd);
	free(ach);
}

static bool
aio_io_type_supported(void *ctx, enum cairn_bdev_io_type type)
{
	return (unsigned)type < CAIRN_BDEV_IO_NTYPES;
}

static int
aio_dump_info_json(void *ctx, struct json_t *obj)
{
	struct aio_disk *ad = ctx;
	json_t *o = json_pack("{s:s, s:b, s:b}", "filename", ad->file.filename, "direct_io",
			      ad->file.direct, "block_device", ad->file.blockdev);

	if (o == NULL || json_object_set_new(obj, "aio", o) != 0)
		return -CAIRN_ERR_NOMEM;
	return 0;
}

static int
aio_write_config_json(void *ctx, struct json_t *array)
{
	struct aio_disk *ad = ctx;
	char uuid[37];
	json_t *call;

	uuid_unparse_lower(ad->uuid, uuid);
	call = json_pack("{s:s, s:{s:s, s:s, s:i, s:s}}", "method", "bdev_aio_create", "params",
			 "name", ad->name, "filename", ad->file.filename, "block_size",
			 (int)ad->file.block_size, "uuid", uuid);
	if (call == NULL || json_array_append_new(array, call) != 0)
		return -CAIRN_ERR_NOMEM;
	return 0;
}

static void
aio_destruct(void *ctx)
{
	struct aio_disk *ad = ctx;

	bdev_file_close(&ad->file);
	free(ad);
}

static const struct cairn_bdev_fn_table g_aio_fn = {
	.submit_request = aio_submit,
	.io_type_supported = aio_io_type_supported,
	.get_io_channel = aio_get_io_channel,
	.put_io_channel = aio_put_io_channel,
	.dump_info_json = aio_dump_info_json,
	.write_config_json = aio_write_config_json,
	.destruct = aio_destruct,
};

const struct cairn_bdev_module g_bdev_aio_module = {
	.name = "aio",
	.get_ctx_size = aio_get_ctx_size,
};

int
cairn_bdev_aio_create(const char *name, const char *filename, uint32_t block_size,
		      const uint8_t *uuid, struct cairn_bdev **out)
{
	struct cairn_bdev_info info = { .opts_size = sizeof(info) };
	struct aio_disk *ad;
	int rc;

	if (out == NULL || !bdev_name_valid(name)) {
		CAIRN_ERROR("bdev_aio_create: invalid name: expected 1..%d characters of "
			    "[A-Za-z0-9_.:-]", CAIRN_BDEV_NAME_MAX - 1);
		return -CAIRN_ERR_INVAL;
	}
	ad = calloc(1, sizeof(*ad));
	if (ad == NULL)
		return -CAIRN_ERR_NOMEM;
	snprintf(ad->name, sizeof(ad->name), "%s", name);
	rc = bdev_file_open(filename, block_size, &ad->file);
	if (rc != 0)
		goto err_free;
	if (uuid != NULL)
		memcpy(ad->uuid, uuid, 16);
	else
		uuid_generate(ad->uuid);
	info.name = name;
	info.product_name = "AIO disk";
	info.block_size = ad->file.block_size;
	info.num_blocks = ad->file.num_blocks;
	info.uuid = ad->uuid;
	info.buf_align = ad->file.buf_align;
	info.max_transfer_blocks = (uint32_t)((1u << 20) / ad->file.block_size);
	info.write_cache = true;
	info.unmap_zeroes = !ad->file.blockdev;
	rc = cairn_bdev_register(&info, &g_aio_fn, &g_bdev_aio_module, ad, &ad->bdev);
	if (rc != 0)
		goto err_close;
	*out = ad->bdev;
	return 0;

err_close:
	bdev_file_close(&ad->file);
err_free:
	free(ad);
	return rc;
}

int
cairn_bdev_aio_delete(const char *name, cairn_bdev_cb cb, void *cb_arg)
{
	return bdev_module_delete(name, &g_bdev_aio_module, cb, cb_arg);
}

static int
aio_get_num_blocks(void *ctx, uint64_t *num_blocks)
{
	struct aio_disk *ad = ctx;

	return bdev_file_num_blocks(&ad->file, num_blocks);
}

int
cairn_bdev_aio_rescan(const char *name)
{
	return bdev_module_rescan(name, &g_bdev_aio_module, aio_get_num_blocks);
}
