/*
 * part bdev: a virtual bdev exposing the block range [offset, offset + size) of a base
 * bdev, like SPDK's split/part bdevs. Several parts share one base: the first part
 * opens the base for writing and claims it ("part"), the last one to go closes it, so
 * nothing but parts can write to a partitioned device. Parts of one base never overlap
 * (creation refuses it). I/O is bounds-checked, shifted by the part's offset and sent to
 * the base through the base's per-xstream channel.
 *
 * Base events: REMOVE deletes every part of the base (their users get REMOVE); a RESIZE
 * that cuts into a part deletes that part, the others keep their fixed range and see
 * nothing.
 *
 * The table of bases is guarded by g_part.lock; a part's range never changes.
 */
#define CAIRN_LOG_SS CAIRN_SS_BDEV

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../bdev_internal.h"
#include "cairn/errno.h"
#include "common/log.h"

/* One partitioned base bdev. */
struct part_base {
	struct cairn_list link;         /* g_part.bases */
	char name[CAIRN_BDEV_NAME_MAX];
	struct cairn_bdev_desc *desc;   /* write, claimed "part" */
	unsigned refs;                  /* parts (registered or being created) */
	bool removing;                  /* the base got REMOVE: no new parts */
	struct cairn_list parts;        /* struct part_disk.base_link */
};

struct part_disk {
	struct cairn_bdev *bdev;
	struct part_base *base;
	struct cairn_list base_link;    /* base->parts */
	char name[CAIRN_BDEV_NAME_MAX];
	uint64_t offset_blocks;
	uint64_t num_blocks;
	bool deleting;                  /* unregister started (under g_part.lock) */
};

struct part_ch {
	struct part_disk *pd;
	struct cairn_bdev_channel *base_ch;
};

static struct {
	pthread_mutex_t lock;
	struct cairn_list bases;
} g_part = { .lock = PTHREAD_MUTEX_INITIALIZER, .bases = CAIRN_LIST_HEAD_INIT(g_part.bases) };

const struct cairn_bdev_module g_bdev_part_module = {
	.name = "part",
	.is_virtual = true,
};

static void
part_io_done(void *arg, int rc)
{
	cairn_bdev_io_complete(arg, rc);
}

static void
part_submit(void *ch_ctx, struct cairn_bdev_io *io)
{
	struct part_ch *pch = ch_ctx;
	struct part_disk *pd = pch->pd;
	struct cairn_bdev_desc *bd = pd->base->desc;
	uint64_t off;
	int rc;

	/* The layer checks the range against our size; check again so a bug there can
	 * never reach another part's blocks. */
	if (io->offset_blocks > pd->num_blocks ||
	    io->num_blocks > pd->num_blocks - io->offset_blocks) {
		cairn_bdev_io_complete(io, -CAIRN_ERR_OVERFLOW);
		return;
	}
	off = pd->offset_blocks + io->offset_blocks;
	switch (io->type) {
	case CAIRN_BDEV_IO_READ:
		rc = cairn_bdev_readv(bd, pch->base_ch, io->iov, io->iovcnt, off, io->num_blocks,
				      part_io_done, io);
		break;
	case CAIRN_BDEV_IO_WRITE:
		rc = cairn_bdev_writev(bd, pch->base_ch, io->iov, io->iovcnt, off, io->num_blocks,
				       part_io_done, io);
		break;
	case CAIRN_BDEV_IO_FLUSH:
		rc = cairn_bdev_flush(bd, pch->base_ch, off, io->num_blocks, part_io_done, io);
		break;
	case CAIRN_BDEV_IO_UNMAP:
		rc = cairn_bdev_unmap(bd, pch->base_ch, off, io->num_blocks, part_io_done, io);
		break;
	case CAIRN_BDEV_IO_WRITE_ZEROES:
		rc = cairn_bdev_write_zeroes(bd, pch->base_ch, off, io->num_blocks, part_io_done,
					     io);
		break;
	default:
		rc = -CAIRN_ERR_NOSYS;
		break;
	}
	if (rc != 0)
		cairn_bdev_io_complete(io, rc);
}

static bool
part_io_type_supported(void *ctx, enum cairn_bdev_io_type type)
{
	struct part_disk *pd = ctx;

	return cairn_bdev_io_type_supported(cairn_bdev_desc_get_bdev(pd->base->desc), type);
}

static void *
part_get_io_channel(void *ctx)
{
	struct part_disk *pd = ctx;
	struct part_ch *pch = calloc(1, sizeof(*pch));

	if (pch == NULL)
		return NULL;
	pch->pd = pd;
	pch->base_ch = cairn_bdev_get_io_channel(pd->base->desc);
	if (pch->base_ch == NULL) {
		free(pch);
		return NULL;
	}
	return pch;
}

static void
part_put_io_channel(void *ctx, void *ch_ctx)
{
	struct part_ch *pch = ch_ctx;

	cairn_bdev_put_io_channel(pch->base_ch);
	free(pch);
}

static int
part_dump_info_json(void *ctx, struct json_t *obj)
{
	struct part_disk *pd = ctx;
	json_t *o;

	o = json_pack("{s:s, s:I, s:I}", "base_bdev", pd->base->name, "offset_blocks",
		      (json_int_t)pd->offset_blocks, "num_blocks", (json_int_t)pd->num_blocks);
	if (o == NULL || json_object_set_new(obj, "part", o) != 0)
		return -CAIRN_ERR_NOMEM;
	return 0;
}

/* Drop a part's reference on its base; close the base with the last one. Called
 * without g_part.lock. */
static void
part_base_put(struct part_base *pb)
{
	struct cairn_bdev_desc *desc = NULL;

	pthread_mutex_lock(&g_part.lock);
	if (--pb->refs == 0) {
		cairn_list_del(&pb->link);
		desc = pb->desc;
	}
	pthread_mutex_unlock(&g_part.lock);
	if (desc != NULL) {
		cairn_bdev_close(desc);
		free(pb);
	}
}

static void
part_destruct(void *ctx)
{
	struct part_disk *pd = ctx;
	struct part_base *pb = pd->base;

	pthread_mutex_lock(&g_part.lock);
	cairn_list_del(&pd->base_link);
	pthread_mutex_unlock(&g_part.lock);
	part_base_put(pb);
	free(pd);
}

static const struct cairn_bdev_fn_table g_part_fn = {
	.submit_request = part_submit,
	.io_type_supported = part_io_type_supported,
	.get_io_channel = part_get_io_channel,
	.put_io_channel = part_put_io_channel,
	.dump_info_json = part_dump_info_json,
	.destruct = part_destruct,
};

/* Delete the parts of pb that end beyond `end` blocks (all of them for 0). */
static void
part_base_cut(struct part_base *pb, uint64_t end)
{
	struct cairn_bdev *victims[64];
	struct part_disk *pd;
	unsigned n, i;
	int rc;

	/* Unregister outside the lock (it sends events); take the victims in batches. */
	do {
		n = 0;
		pthread_mutex_lock(&g_part.lock);
		cairn_list_for_each_entry(pd, &pb->parts, base_link) {
			if (pd->deleting || (end != 0 && pd->offset_blocks + pd->num_blocks <= end))
				continue;
			pd->deleting = true;
			victims[n++] = pd->bdev;
			if (n == sizeof(victims) / sizeof(victims[0]))
				break;
		}
		pthread_mutex_unlock(&g_part.lock);
		for (i = 0; i < n; i++) {
			CAIRN_WARN("part bdev %s: base %s %s, deleting the part",
				   cairn_bdev_name(victims[i]), pb->name,
				   end ? "shrank below its end" : "is being removed");
			rc = cairn_bdev_unregister(victims[i], NULL, NULL);
			if (rc != 0 && rc != -CAIRN_ERR_ALREADY)
				CAIRN_ERROR("part bdev: cannot delete %s: %s",
					    cairn_bdev_name(victims[i]), cairn_strerror(rc));
		}
	} while (n == sizeof(victims) / sizeof(victims[0]));
}

static void
part_base_event(enum cairn_bdev_event_type type, struct cairn_bdev *base, void *ctx)
{
	struct part_base *pb = ctx;

	switch (type) {
	case CAIRN_BDEV_EVENT_REMOVE:
		pthread_mutex_lock(&g_part.lock);
		pb->removing = true;
		pthread_mutex_unlock(&g_part.lock);
		part_base_cut(pb, 0);
		break;
	case CAIRN_BDEV_EVENT_RESIZE:
		part_base_cut(pb, cairn_bdev_num_blocks(base));
		break;
	}
}

/* Find or open the base (g_part.lock held); takes a reference. */
static int
part_base_get(const char *base_name, struct part_base **out)
{
	struct part_base *pb;
	int rc;

	cairn_list_for_each_entry(pb, &g_part.bases, link) {
		if (strcmp(pb->name, base_name) == 0) {
			if (pb->removing) {
				CAIRN_ERROR("bdev_part_create: base bdev %s is being deleted",
					    base_name);
				return -CAIRN_ERR_NONEXIST;
			}
			pb->refs++;
			*out = pb;
			return 0;
		}
	}
	pb = calloc(1, sizeof(*pb));
	if (pb == NULL)
		return -CAIRN_ERR_NOMEM;
	snprintf(pb->name, sizeof(pb->name), "%s", base_name);
	cairn_list_init(&pb->parts);
	rc = cairn_bdev_open(base_name, true, part_base_event, pb, &pb->desc);
	if (rc != 0) {
		CAIRN_ERROR("bdev_part_create: cannot open base bdev %s: %s", base_name,
			    cairn_strerror(rc));
		free(pb);
		return rc;
	}
	rc = cairn_bdev_claim(pb->desc, "part");
	if (rc != 0) {
		CAIRN_ERROR("bdev_part_create: base bdev %s is in use (%s): %s", base_name,
			    cairn_bdev_claimed_by(cairn_bdev_desc_get_bdev(pb->desc)) ?: "open for "
			    "writing", cairn_strerror(rc));
		cairn_bdev_close(pb->desc);
		free(pb);
		return rc == -CAIRN_ERR_BUSY ? -CAIRN_ERR_PERM : rc;
	}
	pb->refs = 1;
	cairn_list_add_tail(&pb->link, &g_part.bases);
	*out = pb;
	return 0;
}

int
cairn_bdev_part_create(const struct cairn_bdev_part_opts *opts, struct cairn_bdev **out)
{
	struct cairn_bdev_info info = { .opts_size = sizeof(info) };
	struct part_disk *pd, *o;
	struct part_base *pb;
	struct cairn_bdev *base;
	uint64_t base_nb;
	int rc;

	if (opts == NULL || out == NULL || opts->opts_size < sizeof(*opts) ||
	    !bdev_name_valid(opts->name) || opts->base_name == NULL) {
		CAIRN_ERROR("bdev_part_create: a name of 1..%d characters of [A-Za-z0-9_.:-] and "
			    "a base bdev are needed", CAIRN_BDEV_NAME_MAX - 1);
		return -CAIRN_ERR_INVAL;
	}
	if (opts->num_blocks == 0 || opts->offset_blocks > UINT64_MAX - opts->num_blocks) {
		CAIRN_ERROR("bdev_part_create %s: the size must be at least one block and "
			    "offset + size must not overflow", opts->name);
		return -CAIRN_ERR_INVAL;
	}
	pd = calloc(1, sizeof(*pd));
	if (pd == NULL)
		return -CAIRN_ERR_NOMEM;
	snprintf(pd->name, sizeof(pd->name), "%s", opts->name);
	pd->offset_blocks = opts->offset_blocks;
	pd->num_blocks = opts->num_blocks;

	pthread_mutex_lock(&g_part.lock);
	rc = part_base_get(opts->base_name, &pb);
	if (rc != 0) {
		pthread_mutex_unlock(&g_part.lock);
		free(pd);
		return rc;
	}
	pd->base = pb;
	base = cairn_bdev_desc_get_bdev(pb->desc);
	base_nb = cairn_bdev_num_blocks(base);
	if (pd->offset_blocks + pd->num_blocks > base_nb) {
		CAIRN_ERROR("bdev_part_create %s: blocks [%" PRIu64 ", +%" PRIu64 ") are beyond "
			    "the end of base %s (%" PRIu64 " blocks of %u bytes)", opts->name,
			    pd->offset_blocks, pd->num_blocks, pb->name, base_nb,
			    cairn_bdev_block_size(base));
		rc = -CAIRN_ERR_OVERFLOW;
		goto err_unlock;
	}
	cairn_list_for_each_entry(o, &pb->parts, base_link) {
		if (pd->offset_blocks < o->offset_blocks + o->num_blocks &&
		    o->offset_blocks < pd->offset_blocks + pd->num_blocks) {
			CAIRN_ERROR("bdev_part_create %s: blocks [%" PRIu64 ", +%" PRIu64 ") of %s "
				    "overlap part %s [%" PRIu64 ", +%" PRIu64 ")", opts->name,
				    pd->offset_blocks, pd->num_blocks, pb->name, o->name,
				    o->offset_blocks, o->num_blocks);
			rc = -CAIRN_ERR_BUSY;
			goto err_unlock;
		}
	}
	/* Listed before registration so a concurrent create sees the range as taken;
	 * unlisted again on failure. */
	cairn_list_add_tail(&pd->base_link, &pb->parts);
	pthread_mutex_unlock(&g_part.lock);

	info.name = pd->name;
	info.product_name = "Partition";
	info.block_size = cairn_bdev_block_size(base);
	info.num_blocks = pd->num_blocks;
	info.buf_align = cairn_bdev_buf_align(base);
	info.max_transfer_blocks = cairn_bdev_max_transfer_blocks(base);
	info.write_cache = cairn_bdev_has_write_cache(base);
	info.unmap_zeroes = cairn_bdev_unmap_zeroes(base);
	info.uuid = opts->uuid;
	rc = cairn_bdev_register(&info, &g_part_fn, &g_bdev_part_module, pd, &pd->bdev);
	if (rc != 0) {
		pthread_mutex_lock(&g_part.lock);
		cairn_list_del(&pd->base_link);
		pthread_mutex_unlock(&g_part.lock);
		part_base_put(pb);
		free(pd);
		return rc;
	}
	CAIRN_INFO("part bdev %s: blocks [%" PRIu64 ", +%" PRIu64 ") of %s", pd->name,
		   pd->offset_blocks, pd->num_blocks, pb->name);
	*out = pd->bdev;
	return 0;

err_unlock:
	pthread_mutex_unlock(&g_part.lock);
	part_base_put(pb);
	free(pd);
	return rc;
}

int
cairn_bdev_part_delete(const char *name, cairn_bdev_cb cb, void *cb_arg)
{
	return bdev_module_delete(name, &g_bdev_part_module, cb, cb_arg);
}

void
cairn_bdev_part_opts_default(struct cairn_bdev_part_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->opts_size = sizeof(*opts);
}
