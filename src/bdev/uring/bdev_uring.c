/*
 * uring bdev: a file or block device through io_uring (liburing).
 *
 * One ring per channel (so per xstream and bdev), no locks. submit_request only
 * prepares SQEs; the channel poller submits everything prepared since its last run in
 * one io_uring_enter (batching) and reaps completions. When the ring's submission queue
 * is full, requests wait on an overflow list. The ring fd is registered as an xstream
 * wake-up source, so an idle xstream sleeps in epoll until a completion arrives.
 * Unmap and write-zeroes are fallocate operations (ZERO_RANGE, else PUNCH_HOLE); flush
 * is fdatasync.
 */
#define CAIRN_LOG_SS CAIRN_SS_BDEV

#include <errno.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <jansson.h>
#include <liburing.h>
#include <uuid/uuid.h>

#include "../bdev_internal.h"
#include "cairn/errno.h"
#include "common/log.h"

#define URING_QD        256
#define URING_REAP_MAX  64
#define URING_SPIN_HINT_US 20

/* module_word flags */
#define URING_WZ_PUNCH 1u /* write-zeroes retried as PUNCH_HOLE */

struct uring_disk {
	struct cairn_bdev *bdev;
	struct bdev_file file;
	uint8_t uuid[16];
	char name[CAIRN_BDEV_NAME_MAX];
};

struct uring_ch {
	struct uring_disk *disk;
	struct io_uring ring;
	struct cairn_poller *poller;
	struct cairn_list overflow; /* requests waiting for an SQE */
	unsigned prepared;          /* SQEs not yet submitted */
	unsigned inflight;          /* submitted, not completed */
	bool wake_registered;
};

static bool
uring_prep(struct uring_ch *uch, struct cairn_bdev_io *io)
{
	struct uring_disk *ud = uch->disk;
	uint32_t bs = ud->file.block_size;
	off_t off = (off_t)(io->offset_blocks * bs);
	off_t len = (off_t)(io->num_blocks * bs);
	struct io_uring_sqe *sqe = io_uring_get_sqe(&uch->ring);

	if (sqe == NULL)
		return false;
	switch (io->type) {
	case CAIRN_BDEV_IO_READ:
		io_uring_prep_readv(sqe, ud->file.fd, io->iov, (unsigned)io->iovcnt, (uint64_t)off);
		break;
	case CAIRN_BDEV_IO_WRITE:
		io_uring_prep_writev(sqe, ud->file.fd, io->iov, (unsigned)io->iovcnt,
				     (uint64_t)off);
		break;
	case CAIRN_BDEV_IO_FLUSH:
		io_uring_prep_fsync(sqe, ud->file.fd, IORING_FSYNC_DATASYNC);
		break;
	case CAIRN_BDEV_IO_UNMAP:
		io_uring_prep_fallocate(sqe, ud->file.fd,
					FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
		break;
	case CAIRN_BDEV_IO_WRITE_ZEROES:
		io_uring_prep_fallocate(sqe, ud->file.fd,
					((io->module_word & URING_WZ_PUNCH) ? FALLOC_FL_PUNCH_HOLE
									    : FALLOC_FL_ZERO_RANGE) |
						FALLOC_FL_KEEP_SIZE,
					off, len);
		break;
	default:
		io_uring_prep_nop(sqe);
		io->module_word = UINT64_MAX; /* marks an invalid type */
		break;
	}
	io_uring_sqe_set_data(sqe, io);
	uch->prepared++;
	return true;
}

static void
uring_enqueue(struct uring_ch *uch, struct cairn_bdev_io *io)
{
	if (!cairn_list_empty(&uch->overflow) || !uring_prep(uch, io))
		cairn_list_add_tail(&io->module_link, &uch->overflow);
}

static void
uring_submit(void *ch_ctx, struct cairn_bdev_io *io)
{
	io->module_word = 0;
	uring_enqueue(ch_ctx, io);
}

static void
uring_io_done(struct uring_ch *uch, struct cairn_bdev_io *io, int res)
{
	int rc = 0;

	if (io->module_word == UINT64_MAX) {
		rc = -CAIRN_ERR_NOSYS;
	} else if (res < 0) {
		if (io->type == CAIRN_BDEV_IO_WRITE_ZEROES && res == -EOPNOTSUPP &&
		    !(io->module_word & URING_WZ_PUNCH)) {
			/* file system without ZERO_RANGE: a punched hole reads as zeros */
			io->module_word |= URING_WZ_PUNCH;
			uring_enqueue(uch, io);
			return;
		}
		rc = res;
		CAIRN_LOG_RATELIMIT(CAIRN_SS_BDEV, CAIRN_LOG_ERR, 10,
				    "bdev %s: %s of %" PRIu64 " blocks at %" PRIu64 " failed: %s",
				    uch->disk->name, cairn_bdev_io_type_name(io->type),
				    io->num_blocks, io->offset_blocks, strerror(-res));
	} else if ((io->type == CAIRN_BDEV_IO_READ || io->type == CAIRN_BDEV_IO_WRITE) &&
		   (uint64_t)res != io->num_blocks * uch->disk->file.block_size) {
		rc = -CAIRN_ERR_IO;
		CAIRN_LOG_RATELIMIT(CAIRN_SS_BDEV, CAIRN_LOG_ERR, 10,
				    "bdev %s: short %s (%d of %" PRIu64 " bytes) at block %" PRIu64,
				    uch->disk->name, cairn_bdev_io_type_name(io->type), res,
				    io->num_blocks * uch->disk->file.block_size, io->offset_blocks);
	}
	cairn_bdev_io_complete(io, rc);
}

static int
uring_poll(void *arg)
{
	struct uring_ch *uch = arg;
	struct io_uring_cqe *cqes[URING_REAP_MAX];
	struct cairn_bdev_io *ios[URING_REAP_MAX];
	int res[URING_REAP_MAX];
	unsigned n, i;
	int work = 0;

	while (!cairn_list_empty(&uch->overflow)) {
		struct cairn_bdev_io *io =
			cairn_list_entry(uch->overflow.next, struct cairn_bdev_io, module_link);

		if (!uring_prep(uch, io))
			break;
		cairn_list_del(&io->module_link);
	}
	if (uch->prepared > 0) {
		int ret = io_uring_submit(&uch->ring);

		if (ret > 0) {
			uch->prepared -= (unsigned)ret < uch->prepared ? (unsigned)ret
								       : uch->prepared;
			uch->inflight += (unsigned)ret;
			work += ret;
			/* spin briefly for fast devices; then sleep until the ring fd fires */
			cairn_rt_expect_work(URING_SPIN_HINT_US);
		} else if (ret < 0 && ret != -EAGAIN && ret != -EBUSY && ret != -EINTR) {
			CAIRN_LOG_RATELIMIT(CAIRN_SS_BDEV, CAIRN_LOG_ERR, 1,
					    "bdev %s: io_uring_submit failed: %s",
					    uch->disk->name, strerror(-ret));
		}
	}
	if (uch->inflight == 0)
		return work;

	n = io_uring_peek_batch_cqe(&uch->ring, cqes, URING_REAP_MAX);
	for (i = 0; i < n; i++) {
		ios[i] = io_uring_cqe_get_data(cqes[i]);
		res[i] = cqes[i]->res;
	}
	if (n > 0)
		io_uring_cq_advance(&uch->ring, n);
	uch->inflight -= n;
	/* Completions may submit more I/O on this channel: the CQ is already advanced. */
	for (i = 0; i < n; i++)
		uring_io_done(uch, ios[i], res[i]);
	return work + (int)n;
}

static void *
uring_get_io_channel(void *ctx)
{
	struct uring_ch *uch;
	int rc;

	uch = calloc(1, sizeof(*uch));
	if (uch == NULL)
		return NULL;
	uch->disk = ctx;
	cairn_list_init(&uch->overflow);
	rc = io_uring_queue_init(URING_QD, &uch->ring, 0);
	if (rc != 0) {
		CAIRN_ERROR("bdev %s: io_uring_queue_init failed: %s", uch->disk->name,
			    strerror(-rc));
		goto err_free;
	}
	uch->poller = cairn_poller_register(uring_poll, uch, 0, "bdev_uring");
	if (uch->poller == NULL)
		goto err_exit_ring;
	rc = cairn_rt_wake_fd_add(uch->ring.ring_fd, EPOLLIN);
	if (rc != 0)
		CAIRN_WARN("bdev %s: cannot register the ring fd for idle wake-ups (%s); the "
			   "xstream will rely on polling", uch->disk->name, cairn_strerror(rc));
	else
		uch->wake_registered = true;
	return uch;

err_exit_ring:
	io_uring_queue_exit(&uch->ring);
err_free:
	free(uch);
	return NULL;
}

static void
uring_put_io_channel(void *ctx, void *ch_ctx)
{
	struct uring_ch *uch = ch_ctx;

	if (uch->inflight > 0 || uch->prepared > 0 || !cairn_list_empty(&uch->overflow))
		CAIRN_ERROR("bdev %s: channel destroyed with I/O in flight", uch->disk->name);
	if (uch->wake_registered)
		cairn_rt_wake_fd_del(uch->ring.ring_fd);
	cairn_poller_unregister(&uch->poller);
	io_uring_queue_exit(&uch->ring);
	free(uch);
}

static bool
uring_io_type_supported(void *ctx, enum cairn_bdev_io_type type)
{
	switch (type) {
	case CAIRN_BDEV_IO_READ:
	case CAIRN_BDEV_IO_WRITE:
	case CAIRN_BDEV_IO_FLUSH:
	case CAIRN_BDEV_IO_WRITE_ZEROES:
		return true;
	case CAIRN_BDEV_IO_UNMAP:
		return true;
	default:
		return false;
	}
}

static int
uring_dump_info_json(void *ctx, struct json_t *obj)
{
	struct uring_disk *ud = ctx;
	json_t *o = json_pack("{s:s, s:b, s:b}", "filename", ud->file.filename, "direct_io",
			      ud->file.direct, "block_device", ud->file.blockdev);

	if (o == NULL || json_object_set_new(obj, "uring", o) != 0)
		return -CAIRN_ERR_NOMEM;
	return 0;
}

static int
uring_write_config_json(void *ctx, struct json_t *array)
{
	struct uring_disk *ud = ctx;
	char uuid[37];
	json_t *call;

	uuid_unparse_lower(ud->uuid, uuid);
	call = json_pack("{s:s, s:{s:s, s:s, s:i, s:s}}", "method", "bdev_uring_create",
			 "params", "name", ud->name, "filename", ud->file.filename, "block_size",
			 (int)ud->file.block_size, "uuid", uuid);
	if (call == NULL || json_array_append_new(array, call) != 0)
		return -CAIRN_ERR_NOMEM;
	return 0;
}

static void
uring_destruct(void *ctx)
{
	struct uring_disk *ud = ctx;

	bdev_file_close(&ud->file);
	free(ud);
}

static const struct cairn_bdev_fn_table g_uring_fn = {
	.submit_request = uring_submit,
	.io_type_supported = uring_io_type_supported,
	.get_io_channel = uring_get_io_channel,
	.put_io_channel = uring_put_io_channel,
	.dump_info_json = uring_dump_info_json,
	.write_config_json = uring_write_config_json,
	.destruct = uring_destruct,
};

const struct cairn_bdev_module g_bdev_uring_module = {
	.name = "uring",
};

int
cairn_bdev_uring_create(const char *name, const char *filename, uint32_t block_size,
			const uint8_t *uuid, struct cairn_bdev **out)
{
	struct cairn_bdev_info info = { .opts_size = sizeof(info) };
	struct uring_disk *ud;
	int rc;

	if (out == NULL || !bdev_name_valid(name)) {
		CAIRN_ERROR("bdev_uring_create: invalid name: expected 1..%d characters of "
			    "[A-Za-z0-9_.:-]", CAIRN_BDEV_NAME_MAX - 1);
		return -CAIRN_ERR_INVAL;
	}
	/* fail here, with a useful message, rather than at the first channel */
	{
		struct io_uring probe;

		rc = io_uring_queue_init(2, &probe, 0);
		if (rc != 0) {
			CAIRN_ERROR("bdev_uring_create %s: io_uring is not available (%s); use "
				    "bdev_aio_create instead", name, strerror(-rc));
			return rc;
		}
		io_uring_queue_exit(&probe);
	}
	ud = calloc(1, sizeof(*ud));
	if (ud == NULL)
		return -CAIRN_ERR_NOMEM;
	snprintf(ud->name, sizeof(ud->name), "%s", name);
	rc = bdev_file_open(filename, block_size, &ud->file);
	if (rc != 0)
		goto err_free;
	if (uuid != NULL)
		memcpy(ud->uuid, uuid, 16);
	else
		uuid_generate(ud->uuid);
	info.name = name;
	info.product_name = "io_uring disk";
	info.block_size = ud->file.block_size;
	info.num_blocks = ud->file.num_blocks;
	info.uuid = ud->uuid;
	info.buf_align = ud->file.buf_align;
	info.max_transfer_blocks = (uint32_t)((1u << 20) / ud->file.block_size);
	info.write_cache = true;
	info.unmap_zeroes = !ud->file.blockdev;
	rc = cairn_bdev_register(&info, &g_uring_fn, &g_bdev_uring_module, ud, &ud->bdev);
	if (rc != 0)
		goto err_close;
	*out = ud->bdev;
	return 0;

err_close:
	bdev_file_close(&ud->file);
err_free:
	free(ud);
	return rc;
}

int
cairn_bdev_uring_delete(const char *name, cairn_bdev_cb cb, void *cb_arg)
{
	return bdev_module_delete(name, &g_bdev_uring_module, cb, cb_arg);
}

static int
uring_get_num_blocks(void *ctx, uint64_t *num_blocks)
{
	struct uring_disk *ud = ctx;

	return bdev_file_num_blocks(&ud->file, num_blocks);
}

int
cairn_bdev_uring_rescan(const char *name)
{
	return bdev_module_rescan(name, &g_bdev_uring_module, uring_get_num_blocks);
}
