/*
 * error bdev: a virtual bdev "EE_<base>" over a base bdev (claimed), passing I/O through
 * until errors are injected. An injection config chooses I/O types, a number of
 * matching I/Os to let through first (skip), a number to hit (count) and a hit
 * probability (rate_ppm, seeded PRNG per channel), and what a hit does: fail with a
 * chosen rc without touching the base, or corrupt the data (one byte per block) on the
 * way in (writes) or out (reads). For crash, retry and checksum tests.
 *
 * The config is shared by every xstream and guarded by a small mutex; the PRNG state is
 * per channel so runs are reproducible per xstream.
 */
#define CAIRN_LOG_SS CAIRN_SS_BDEV

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uuid/uuid.h>

#include "../bdev_internal.h"
#include "cairn/errno.h"
#include "common/log.h"

#define ERROR_PREFIX "EE_"
#define PPM          1000000u

struct error_disk {
	struct cairn_bdev *bdev;
	struct cairn_bdev_desc *base_desc;
	char name[CAIRN_BDEV_NAME_MAX];
	char base_name[CAIRN_BDEV_NAME_MAX];
	pthread_mutex_t lock;        /* guards everything below */
	bool active;
	struct cairn_bdev_error_opts cfg;
	uint64_t gen;                /* bumped by every inject/clear */
	uint64_t seen;               /* matching I/Os since the config was set */
	uint64_t hits;
};

struct error_ch {
	struct error_disk *ed;
	struct cairn_bdev_channel *base_ch;
	uint64_t rng;
	uint64_t gen;
};

static uint64_t
rng_next(uint64_t *s)
{
	/* splitmix64: tiny, good enough for fault injection, reproducible */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Decide whether io is hit; returns the mode through *mode and the rc through *rc. */
static bool
error_decide(struct error_ch *ech, enum cairn_bdev_io_type type,
	     enum cairn_bdev_error_mode *mode, int *rc)
{
	struct error_disk *ed = ech->ed;
	uint32_t mask;
	bool hit = false;

	pthread_mutex_lock(&ed->lock);
	if (!ed->active)
		goto out;
	mask = ed->cfg.io_type_mask ? ed->cfg.io_type_mask : ~0u;
	if (!(mask & (1u << type)))
		goto out;
	if (ech->gen != ed->gen) {
		ech->gen = ed->gen;
		ech->rng = ed->cfg.seed ^ ((uint64_t)(cairn_xs_id(cairn_xs_self()) + 1) *
					   0x2545f4914f6cdd1dull);
	}
	if (++ed->seen <= ed->cfg.skip)
		goto out;
	if (ed->cfg.count != 0 && ed->hits >= ed->cfg.count)
		goto out;
	if (ed->cfg.rate_ppm != 0 && ed->cfg.rate_ppm < PPM &&
	    rng_next(&ech->rng) % PPM >= ed->cfg.rate_ppm)
		goto out;
	ed->hits++;
	hit = true;
	*mode = ed->cfg.mode;
	*rc = ed->cfg.error_rc ? ed->cfg.error_rc : -CAIRN_ERR_IO;
out:
	pthread_mutex_unlock(&ed->lock);
	return hit;
}

static void
corrupt_blocks(const struct iovec *iov, int iovcnt, uint64_t num_blocks, uint32_t bs)
{
	/* flip the middle byte of every block */
	for (uint64_t b = 0; b < num_blocks; b++) {
		uint64_t pos = b * bs + bs / 2;

		for (int i = 0; i < iovcnt; i++) {
			if (pos < iov[i].iov_len) {
				((uint8_t *)iov[i].iov_base)[pos] ^= 0xff;
				break;
			}
			pos -= iov[i].iov_len;
		}
	}
}

static void
error_passthru_done(void *arg, int rc)
{
	cairn_bdev_io_complete(arg, rc);
}

static void
error_corrupt_read_done(void *arg, int rc)
{
	struct cairn_bdev_io *io = arg;

	if (rc == 0)
		corrupt_blocks(io->iov, io->iovcnt, io->num_blocks, io->bdev->block_size);
	cairn_bdev_io_complete(io, rc);
}

static void
error_corrupt_write_done(void *arg, int rc)
{
	struct cairn_bdev_io *io = arg;

	cairn_bdev_dma_free((void *)(uintptr_t)io->module_word);
	io->module_word = 0;
	cairn_bdev_io_complete(io, rc);
}

static int
error_corrupt_write(struct error_ch *ech, struct cairn_bdev_io *io)
{
	size_t len = io->num_blocks * io->bdev->block_size;
	struct iovec iov;
	char *copy, *p;
	int rc;

	copy = cairn_bdev_dma_alloc(io->bdev, len);
	if (copy == NULL)
		return -CAIRN_ERR_NOMEM;
	p = copy;
	for (int i = 0; i < io->iovcnt; i++) {
		memcpy(p, io->iov[i].iov_base, io->iov[i].iov_len);
		p += io->iov[i].iov_len;
	}
	iov.iov_base = copy;
	iov.iov_len = len;
	corrupt_blocks(&iov, 1, io->num_blocks, io->bdev->block_size);
	io->module_word = (uint64_t)(uintptr_t)copy;
	rc = cairn_bdev_writev(ech->ed->base_desc, ech->base_ch, &iov, 1, io->offset_blocks,
			       io->num_blocks, error_corrupt_write_done, io);
	if (rc != 0) {
		io->module_word = 0;
		cairn_bdev_dma_free(copy);
	}
	return rc;
}

static void
error_submit(void *ch_ctx, struct cairn_bdev_io *io)
{
	struct error_ch *ech = ch_ctx;
	enum cairn_bdev_error_mode mode;
	int rc;

	if (error_decide(ech, io->type, &mode, &rc)) {
		if (mode == CAIRN_BDEV_ERROR_CORRUPT && io->type == CAIRN_BDEV_IO_READ) {
			rc = cairn_bdev_io_passthru(ech->ed->base_desc, ech->base_ch, io,
						    error_corrupt_read_done, io);
		} else if (mode == CAIRN_BDEV_ERROR_CORRUPT && io->type == CAIRN_BDEV_IO_WRITE) {
			rc = error_corrupt_write(ech, io);
		}
		if (rc != 0)
			cairn_bdev_io_complete(io, rc);
		return;
	}
	rc = cairn_bdev_io_passthru(ech->ed->base_desc, ech->base_ch, io, error_passthru_done,
				    io);
	if (rc != 0)
		cairn_bdev_io_complete(io, rc);
}

static bool
error_io_type_supported(void *ctx, enum cairn_bdev_io_type type)
{
	struct error_disk *ed = ctx;

	return cairn_bdev_io_type_supported(cairn_bdev_desc_get_bdev(ed->base_desc), type);
}

static void *
error_get_io_channel(void *ctx)
{
	struct error_disk *ed = ctx;
	struct error_ch *ech = calloc(1, sizeof(*ech));

	if (ech == NULL)
		return NULL;
	ech->ed = ed;
	ech->gen = UINT64_MAX;
	ech->base_ch = cairn_bdev_get_io_channel(ed->base_desc);
	if (ech->base_ch == NULL) {
		free(ech);
		return NULL;
	}
	return ech;
}

static void
error_put_io_channel(void *ctx, void *ch_ctx)
{
	struct error_ch *ech = ch_ctx;

	cairn_bdev_put_io_channel(ech->base_ch);
	free(ech);
}

static int
error_dump_info_json(void *ctx, struct json_t *obj)
{
	struct error_disk *ed = ctx;
	json_t *o;

	pthread_mutex_lock(&ed->lock);
	o = json_pack("{s:s, s:b, s:i, s:i, s:i, s:i, s:i, s:i, s:I}", "base_bdev",
		      ed->base_name, "active", ed->active, "io_type_mask",
		      (int)ed->cfg.io_type_mask, "mode", (int)ed->cfg.mode, "skip",
		      (int)ed->cfg.skip, "count", (int)ed->cfg.count, "rate_ppm",
		      (int)ed->cfg.rate_ppm, "error_rc", ed->cfg.error_rc, "hits",
		      (json_int_t)ed->hits);
	pthread_mutex_unlock(&ed->lock);
	if (o == NULL || json_object_set_new(obj, "error", o) != 0)
		return -CAIRN_ERR_NOMEM;
	return 0;
}

static int
error_write_config_json(void *ctx, struct json_t *array)
{
	struct error_disk *ed = ctx;
	uint8_t uuid[16];
	char uuid_str[37];
	json_t *call;

	/* the uuid too, so a replayed configuration gives the same bdev identity */
	cairn_bdev_uuid(ed->bdev, uuid);
	uuid_unparse_lower(uuid, uuid_str);
	call = json_pack("{s:s, s:{s:s, s:s}}", "method", "bdev_error_create", "params",
			 "base_name", ed->base_name, "uuid", uuid_str);

	if (call == NULL || json_array_append_new(array, call) != 0)
		return -CAIRN_ERR_NOMEM;
	return 0;
}

static void
error_destruct(void *ctx)
{
	struct error_disk *ed = ctx;

	cairn_bdev_close(ed->base_desc);
	pthread_mutex_destroy(&ed->lock);
	free(ed);
}

static const struct cairn_bdev_fn_table g_error_fn = {
	.submit_request = error_submit,
	.io_type_supported = error_io_type_supported,
	.get_io_channel = error_get_io_channel,
	.put_io_channel = error_put_io_channel,
	.dump_info_json = error_dump_info_json,
	.write_config_json = error_write_config_json,
	.destruct = error_destruct,
};

const struct cairn_bdev_module g_bdev_error_module = {
	.name = "error",
	.is_virtual = true,
};

static void
error_base_event(enum cairn_bdev_event_type type, struct cairn_bdev *base, void *ctx)
{
	struct error_disk *ed = ctx;
	int rc;

	switch (type) {
	case CAIRN_BDEV_EVENT_REMOVE:
		/* the base goes away: so do we (destruct closes the base descriptor) */
		rc = cairn_bdev_unregister(ed->bdev, NULL, NULL);
		if (rc != 0 && rc != -CAIRN_ERR_ALREADY)
			CAIRN_ERROR("error bdev %s: cannot delete after base removal: %s",
				    ed->name, cairn_strerror(rc));
		break;
	case CAIRN_BDEV_EVENT_RESIZE:
		cairn_bdev_notify_blockcnt_change(ed->bdev, cairn_bdev_num_blocks(base));
		break;
	}
}

int
cairn_bdev_error_create(const char *base_name, struct cairn_bdev **out)
{
	return cairn_bdev_error_create_uuid(base_name, NULL, out);
}

int
cairn_bdev_error_create_uuid(const char *base_name, const uint8_t *uuid, struct cairn_bdev **out)
{
	struct cairn_bdev_info info = { .opts_size = sizeof(info) };
	struct cairn_bdev *base;
	struct error_disk *ed;
	char owner[BDEV_OWNER_MAX];
	int rc;

	if (out == NULL || !bdev_name_valid(base_name) ||
	    strlen(base_name) + strlen(ERROR_PREFIX) >= CAIRN_BDEV_NAME_MAX) {
		CAIRN_ERROR("bdev_error_create: invalid base name (at most %zu characters of "
			    "[A-Za-z0-9_.:-])", CAIRN_BDEV_NAME_MAX - 1 - strlen(ERROR_PREFIX));
		return -CAIRN_ERR_INVAL;
	}
	ed = calloc(1, sizeof(*ed));
	if (ed == NULL)
		return -CAIRN_ERR_NOMEM;
	pthread_mutex_init(&ed->lock, NULL);
	snprintf(ed->name, sizeof(ed->name), ERROR_PREFIX "%s", base_name);
	snprintf(ed->base_name, sizeof(ed->base_name), "%s", base_name);
	rc = cairn_bdev_open(base_name, true, error_base_event, ed, &ed->base_desc);
	if (rc != 0) {
		CAIRN_ERROR("bdev_error_create: cannot open base bdev %s: %s", base_name,
			    cairn_strerror(rc));
		goto err_free;
	}
	snprintf(owner, sizeof(owner), "error:%s", ed->name);
	rc = cairn_bdev_claim(ed->base_desc, owner);
	if (rc != 0)
		goto err_close;
	base = cairn_bdev_desc_get_bdev(ed->base_desc);

	info.name = ed->name;
	info.product_name = "Error injection disk";
	info.block_size = cairn_bdev_block_size(base);
	info.num_blocks = cairn_bdev_num_blocks(base);
	info.buf_align = cairn_bdev_buf_align(base);
	info.write_cache = cairn_bdev_has_write_cache(base);
	info.unmap_zeroes = cairn_bdev_unmap_zeroes(base);
	info.uuid = uuid; /* NULL: a virtual bdev gets its own */
	rc = cairn_bdev_register(&info, &g_error_fn, &g_bdev_error_module, ed, &ed->bdev);
	if (rc != 0)
		goto err_close;
	*out = ed->bdev;
	return 0;

err_close:
	cairn_bdev_close(ed->base_desc);
err_free:
	pthread_mutex_destroy(&ed->lock);
	free(ed);
	return rc;
}

int
cairn_bdev_error_delete(const char *name, cairn_bdev_cb cb, void *cb_arg)
{
	return bdev_module_delete(name, &g_bdev_error_module, cb, cb_arg);
}

void
cairn_bdev_error_opts_default(struct cairn_bdev_error_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->opts_size = sizeof(*opts);
	opts->mode = CAIRN_BDEV_ERROR_FAIL;
	opts->rate_ppm = PPM;
	opts->error_rc = -CAIRN_ERR_IO;
}

static void
error_base_event_noop_(enum cairn_bdev_event_type type, struct cairn_bdev *bdev, void *ctx)
{
	/* the descriptor only pins the bdev for the duration of a config call */
}

/* Pin error bdev `name` by a descriptor and hand its context to fn. */
static int
error_with_disk(const char *name, int (*fn)(struct error_disk *ed, void *arg), void *arg)
{
	struct cairn_bdev_desc *desc;
	struct cairn_bdev *bdev;
	int rc;

	rc = cairn_bdev_open(name, false, error_base_event_noop_, NULL, &desc);
	if (rc != 0)
		return rc;
	bdev = cairn_bdev_desc_get_bdev(desc);
	if (strcmp(cairn_bdev_module_name(bdev), g_bdev_error_module.name) != 0)
		rc = -CAIRN_ERR_NONEXIST;
	else
		rc = fn(cairn_bdev_get_ctx(bdev), arg);
	cairn_bdev_close(desc);
	return rc;
}

static int
error_set_cfg(struct error_disk *ed, void *arg)
{
	const struct cairn_bdev_error_opts *opts = arg;

	pthread_mutex_lock(&ed->lock);
	if (opts != NULL) {
		ed->cfg = *opts;
		ed->active = true;
	} else {
		ed->active = false;
	}
	ed->gen++;
	ed->seen = 0;
	ed->hits = 0;
	pthread_mutex_unlock(&ed->lock);
	CAIRN_INFO("error bdev %s: injection %s", ed->name, opts ? "armed" : "cleared");
	return 0;
}

int
cairn_bdev_error_inject(const char *name, const struct cairn_bdev_error_opts *opts)
{
	if (opts == NULL || opts->opts_size < sizeof(*opts))
		return -CAIRN_ERR_INVAL;
	if (opts->mode != CAIRN_BDEV_ERROR_FAIL && opts->mode != CAIRN_BDEV_ERROR_CORRUPT) {
		CAIRN_ERROR("error bdev %s: unknown mode %d", name ? name : "?", (int)opts->mode);
		return -CAIRN_ERR_INVAL;
	}
	if (opts->rate_ppm > PPM || opts->error_rc > 0 ||
	    (opts->io_type_mask >> CAIRN_BDEV_IO_NTYPES) != 0) {
		CAIRN_ERROR("error bdev %s: invalid config (rate_ppm <= %u, error_rc <= 0, "
			    "io_type_mask of %d bits expected)", name ? name : "?", PPM,
			    CAIRN_BDEV_IO_NTYPES);
		return -CAIRN_ERR_INVAL;
	}
	return error_with_disk(name, error_set_cfg, (void *)(uintptr_t)opts);
}

int
cairn_bdev_error_clear(const char *name)
{
	return error_with_disk(name, error_set_cfg, NULL);
}

static int
error_get_hits(struct error_disk *ed, void *arg)
{
	pthread_mutex_lock(&ed->lock);
	*(uint64_t *)arg = ed->hits;
	pthread_mutex_unlock(&ed->lock);
	return 0;
}

int
cairn_bdev_error_hits(const char *name, uint64_t *hits)
{
	if (hits == NULL)
		return -CAIRN_ERR_INVAL;
	return error_with_disk(name, error_get_hits, hits);
}
