/*
 * cairn bdev: a volume stored as a Cairn byte array (include/cairn/array.h), one cell
 * per block, 1 MiB chunks, in an object named after the bdev (oid = FNV-1a of the name,
 * class SX: chunks spread over every target). Block I/O becomes array reads/writes
 * launched with an event on the channel's own event queue; the channel's poller (on the
 * submitting xstream) harvests that queue and completes the requests there. While I/O
 * is in flight the xstream may sleep: the EQ's eventfd wakes it (see vol_poll). Writes
 * are durable when they complete, so FLUSH completes at once; UNMAP / WRITE_ZEROES
 * punch the range (reads zeros after).
 */
#define CAIRN_LOG_SS CAIRN_SS_BDEV

#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <jansson.h>
#include <uuid/uuid.h>

#include <cairn/array.h>
#include <cairn/cairn.h>
#include <cairn/cont.h>
#include <cairn/errno.h>
#include <cairn/event.h>
#include <cairn/placement.h>
#include <cairn/pool.h>

#include "../bdev_internal.h"
#include "bdev/bdev_cairn.h"
#include "common/log.h"
#include "rt/rt.h"

#define VOL_CHUNK_BYTES (1u << 20)
#define VOL_POLL_MAX 64
#define VOL_STR_MAX 128

struct cairn_vol {
	struct cairn_bdev *bdev;
	struct cairn_handle poh, coh, ah;
	bool connected, opened, array_open, inited;
	uint64_t size;
	uint32_t block_size;
	uint8_t uuid[16];
	char name[CAIRN_BDEV_NAME_MAX];
	char pool[VOL_STR_MAX], cont[VOL_STR_MAX], sys[VOL_STR_MAX];
};

struct vol_ch {
	struct cairn_vol *vol;
	struct cairn_handle eq;
	struct cairn_poller *poller;
	int fd;
	uint64_t inflight;
};

/* Per-I/O context (cairn_bdev_io_driver_ctx). */
struct vol_io {
	struct cairn_event ev; /* first: the EQ hands back &ev */
	struct cairn_bdev_io *io;
	struct cairn_iov iov;
	void *bounce;
};

static size_t
vol_ctx_size(void)
{
	return sizeof(struct vol_io);
}

const struct cairn_bdev_module g_bdev_cairn_module = {
        .name = "cairn",
        .get_ctx_size = vol_ctx_size,
};

static void
vol_finish(struct vol_io *vi, int rc)
{
	struct cairn_bdev_io *io = vi->io;

	if (rc == 0 && vi->bounce && io->type == CAIRN_BDEV_IO_READ) {
		size_t off = 0;

		for (int i = 0; i < io->iovcnt; i++) {
			memcpy(io->iov[i].iov_base, (char *)vi->bounce + off, io->iov[i].iov_len);
			off += io->iov[i].iov_len;
		}
	}
	free(vi->bounce);
	vi->bounce = NULL;
	cairn_bdev_io_complete(io, rc);
}

static int
vol_poll(void *arg)
{
	struct vol_ch *ch = arg;
	struct cairn_event *evs[VOL_POLL_MAX];
	int n;

	/* Polled even with nothing in flight: the poll is what makes the EQ's eventfd
	 * unreadable again, and a readable one would keep waking the xstream. */
	n = cairn_eq_poll(ch->eq, 0, CAIRN_EQ_NOWAIT, VOL_POLL_MAX, evs);
	/* Idle while I/O is in flight: an operation that completes on libcairn's network
	 * xstream makes the EQ's eventfd readable (event.h), which wakes this xstream from
	 * its sleep (cairn_rt_wake_fd_add in vol_ch_create). Without that fd, stay busy. */
	if (n <= 0)
		return ch->inflight > 0 && ch->fd < 0 ? 1 : 0;
	for (int i = 0; i < n; i++) {
		struct vol_io *vi = (struct vol_io *)evs[i];
		int rc = evs[i]->ev_error;

		cairn_event_fini(evs[i]);
		ch->inflight--;
		vol_finish(vi, rc);
	}
	return n;
}

static void
vol_submit(void *ch_ctx, struct cairn_bdev_io *io)
{
	struct vol_ch *ch = ch_ctx;
	struct cairn_vol *v = ch->vol;
	struct vol_io *vi = cairn_bdev_io_driver_ctx(io);
	uint64_t off = io->offset_blocks * v->block_size;
	uint64_t len = io->num_blocks * v->block_size;
	int rc;

	memset(vi, 0, sizeof(*vi));
	vi->io = io;
	if (io->type == CAIRN_BDEV_IO_FLUSH) {
		cairn_bdev_io_complete(io, 0); /* array writes are durable when they complete */
		return;
	}
	rc = cairn_event_init(&vi->ev, ch->eq, NULL);
	if (rc) {
		cairn_bdev_io_complete(io, rc);
		return;
	}
	switch (io->type) {
	case CAIRN_BDEV_IO_READ:
	case CAIRN_BDEV_IO_WRITE:
		if (io->iovcnt == 1) {
			cairn_iov_set(&vi->iov, io->iov[0].iov_base, len);
		} else {
			size_t o = 0;

			vi->bounce = malloc(len);
			if (vi->bounce == NULL) {
				rc = -CAIRN_ERR_NOMEM;
				break;
			}
			if (io->type == CAIRN_BDEV_IO_WRITE) {
				for (int i = 0; i < io->iovcnt; i++) {
					memcpy((char *)vi->bounce + o, io->iov[i].iov_base,
					       io->iov[i].iov_len);
					o += io->iov[i].iov_len;
				}
			}
			cairn_iov_set(&vi->iov, vi->bounce, len);
		}
		if (io->type == CAIRN_BDEV_IO_READ)
			rc = cairn_array_read(v->ah, off, &vi->iov, &vi->ev);
		else
			rc = cairn_array_write(v->ah, off, &vi->iov, &vi->ev);
		break;
	case CAIRN_BDEV_IO_UNMAP:
	case CAIRN_BDEV_IO_WRITE_ZEROES:
		rc = cairn_array_punch(v->ah, off, len, &vi->ev);
		break;
	default:
		rc = -CAIRN_ERR_NOSYS;
		break;
	}
	if (rc) {
		/* not launched: the event is still READY */
		cairn_event_fini(&vi->ev);
		free(vi->bounce);
		vi->bounce = NULL;
		cairn_bdev_io_complete(io, rc);
		return;
	}
	ch->inflight++;
}

static bool
vol_io_type_supported(void *ctx, enum cairn_bdev_io_type type)
{
	(void)ctx;
	return type == CAIRN_BDEV_IO_READ || type == CAIRN_BDEV_IO_WRITE ||
	       type == CAIRN_BDEV_IO_FLUSH || type == CAIRN_BDEV_IO_UNMAP ||
	       type == CAIRN_BDEV_IO_WRITE_ZEROES;
}

static void *
vol_get_io_channel(void *ctx)
{
	struct vol_ch *ch = calloc(1, sizeof(*ch));
	int rc;

	if (ch == NULL)
		return NULL;
	ch->vol = ctx;
	ch->fd = -1;
	rc = cairn_eq_create(&ch->eq);
	if (rc) {
		CAIRN_ERROR("cairn bdev %s: event queue: %s", ch->vol->name, cairn_strerror(rc));
		free(ch);
		return NULL;
	}
	if (cairn_eq_get_fd(ch->eq, &ch->fd) != 0 || cairn_rt_wake_fd_add(ch->fd, EPOLLIN) != 0)
		ch->fd = -1; /* the busy poller still harvests it, only no wake-up from sleep */
	ch->poller = cairn_poller_register(vol_poll, ch, 0, "bdev_cairn");
	if (ch->poller == NULL) {
		if (ch->fd >= 0)
			cairn_rt_wake_fd_del(ch->fd);
		cairn_eq_destroy(ch->eq, CAIRN_EQ_DESTROY_FORCE);
		free(ch);
		return NULL;
	}
	return ch;
}

static void
vol_put_io_channel(void *ctx, void *ch_ctx)
{
	struct vol_ch *ch = ch_ctx;

	(void)ctx;
	cairn_poller_unregister(&ch->poller);
	if (ch->fd >= 0)
		cairn_rt_wake_fd_del(ch->fd);
	cairn_eq_destroy(ch->eq, CAIRN_EQ_DESTROY_FORCE);
	free(ch);
}

static int
vol_dump_info_json(void *ctx, struct json_t *obj)
{
	struct cairn_vol *v = ctx;
	json_t *o = json_pack("{s:s, s:s, s:I}", "pool", v->pool, "container", v->cont, "size",
	                      (json_int_t)v->size);

	if (o == NULL || json_object_set_new(obj, "cairn", o) != 0)
		return -CAIRN_ERR_NOMEM;
	return 0;
}

static int
vol_write_config_json(void *ctx, struct json_t *array)
{
	struct cairn_vol *v = ctx;
	char uuid[37];
	json_t *call;

	uuid_unparse_lower(v->uuid, uuid);
	call = json_pack("{s:s, s:{s:s, s:s, s:s, s:I, s:i, s:s}}", "method", "bdev_cairn_create",
	                 "params", "name", v->name, "pool", v->pool, "container", v->cont, "size",
	                 (json_int_t)v->size, "block_size", (int)v->block_size, "uuid", uuid);
	if (call == NULL)
		return -CAIRN_ERR_NOMEM;
	if (v->sys[0] &&
	    json_object_set_new(json_object_get(call, "params"), "sys", json_string(v->sys)) != 0) {
		json_decref(call);
		return -CAIRN_ERR_NOMEM;
	}
	if (json_array_append_new(array, call) != 0)
		return -CAIRN_ERR_NOMEM;
	return 0;
}

/* Close what is open (synchronous libcairn calls). */
static void
vol_close(struct cairn_vol *v)
{
	if (v->array_open)
		cairn_array_close(v->ah, NULL);
	if (v->opened)
		cairn_cont_close(v->coh, NULL);
	if (v->connected)
		cairn_pool_disconnect(v->poh, NULL);
	if (v->inited)
		cairn_fini();
	free(v);
}

static void
vol_destruct(void *ctx)
{
	vol_close(ctx);
}

static const struct cairn_bdev_fn_table g_vol_fn = {
        .submit_request = vol_submit,
        .io_type_supported = vol_io_type_supported,
        .get_io_channel = vol_get_io_channel,
        .put_io_channel = vol_put_io_channel,
        .dump_info_json = vol_dump_info_json,
        .write_config_json = vol_write_config_json,
        .destruct = vol_destruct,
};

/* The volume's object id: FNV-1a of the bdev name (application bits), class SX. */
static int
vol_oid(const char *name, struct cairn_obj_id *oid)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = name; *p; p++) {
		h ^= (uint8_t)*p;
		h *= 0x100000001b3ull;
	}
	memset(oid, 0, sizeof(*oid));
	oid->lo = h;
	return cairn_obj_id_generate(oid, CAIRN_OT_ARRAY, CAIRN_OC_SX);
}

static bool
str_ok(const char *s)
{
	return s && s[0] && strlen(s) < VOL_STR_MAX;
}

int
cairn_bdev_cairn_create(const struct cairn_bdev_cairn_opts *opts, struct cairn_bdev **out)
{
	struct cairn_bdev_info info = {.opts_size = sizeof(info)};
	struct cairn_obj_id oid;
	struct cairn_vol *v;
	uint64_t cell = 0, chunk = 0;
	const char *sys;
	int rc;

	if (opts == NULL || opts->opts_size < sizeof(*opts) || out == NULL ||
	    !bdev_name_valid(opts->name) || !str_ok(opts->pool) || !str_ok(opts->cont))
		return -CAIRN_ERR_INVAL;
	if (opts->block_size < 512 || opts->block_size > 65536 ||
	    (opts->block_size & (opts->block_size - 1)) || opts->size == 0 ||
	    opts->size % opts->block_size)
		return -CAIRN_ERR_INVAL;
	rc = bdev_check_geometry(opts->size / opts->block_size, opts->block_size);
	if (rc)
		return rc;
	sys = opts->sys && opts->sys[0] ? opts->sys : getenv("CAIRN_SYSTEM_URI");
	if (!str_ok(sys)) {
		CAIRN_ERROR("cairn bdev %s: no system URI (give sys, or set CAIRN_SYSTEM_URI)",
		            opts->name);
		return -CAIRN_ERR_INVAL;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -CAIRN_ERR_NOMEM;
	snprintf(v->name, sizeof(v->name), "%s", opts->name);
	snprintf(v->pool, sizeof(v->pool), "%s", opts->pool);
	snprintf(v->cont, sizeof(v->cont), "%s", opts->cont);
	if (opts->sys && opts->sys[0])
		snprintf(v->sys, sizeof(v->sys), "%s", opts->sys);
	v->size = opts->size;
	v->block_size = opts->block_size;
	if (opts->uuid)
		memcpy(v->uuid, opts->uuid, 16);
	else
		uuid_generate(v->uuid);
	rc = cairn_init();
	if (rc)
		goto err;
	v->inited = true;
	rc = cairn_pool_connect(v->pool, sys, CAIRN_PC_RW, &v->poh, NULL, NULL);
	if (rc) {
		CAIRN_ERROR("cairn bdev %s: pool %s at %s: %s", v->name, v->pool, sys,
		            cairn_strerror(rc));
		goto err;
	}
	v->connected = true;
	rc = cairn_cont_open(v->poh, v->cont, 0, &v->coh, NULL, NULL);
	if (rc) {
		CAIRN_ERROR("cairn bdev %s: container %s: %s", v->name, v->cont,
		            cairn_strerror(rc));
		goto err;
	}
	v->opened = true;
	rc = vol_oid(v->name, &oid);
	if (rc)
		goto err;
	rc = cairn_array_open(v->coh, oid, &v->ah, &cell, &chunk, NULL);
	if (rc == -CAIRN_ERR_NONEXIST)
		rc = cairn_array_create(v->coh, oid, v->block_size, VOL_CHUNK_BYTES / v->block_size,
		                        &v->ah, NULL);
	else if (rc == 0 && cell != v->block_size) {
		CAIRN_ERROR("cairn bdev %s: the volume has %lu-byte blocks, not %u", v->name,
		            (unsigned long)cell, v->block_size);
		v->array_open = true;
		rc = -CAIRN_ERR_INVAL;
		goto err;
	}
	if (rc) {
		CAIRN_ERROR("cairn bdev %s: volume object: %s", v->name, cairn_strerror(rc));
		goto err;
	}
	v->array_open = true;
	info.name = v->name;
	info.product_name = "Cairn volume";
	info.block_size = v->block_size;
	info.num_blocks = v->size / v->block_size;
	info.uuid = v->uuid;
	info.max_transfer_blocks = (16u << 20) / v->block_size;
	info.unmap_zeroes = true;
	rc = cairn_bdev_register(&info, &g_vol_fn, &g_bdev_cairn_module, v, &v->bdev);
	if (rc)
		goto err;
	*out = v->bdev;
	return 0;
err:
	vol_close(v);
	return rc;
}

int
cairn_bdev_cairn_delete(const char *name, cairn_bdev_cb cb, void *cb_arg)
{
	return bdev_module_delete(name, &g_bdev_cairn_module, cb, cb_arg);
}
