/*
 * A target's device in the engine: <storage_dir>/target-<i> (a file or, through a
 * symlink, a block device) served by a uring bdev "target-<i>" (O_DIRECT when the file
 * system allows it), split by part bdevs: "target-<i>.map" over the space map region and
 * one "vos-<pool>.t<i>" per pool shard over the extent the space map gives it. The
 * space map (srv_tgt_space.c) is read at start and rewritten, alternating copies,
 * through the map part with a flush after each update.
 *
 * Everything here runs in ULTs on the target's main xstream, which owns the device.
 *
 * Crash consistency of a shard create: the extent is recorded CREATING before the shard
 * is formatted and ACTIVE after; the next start frees CREATING extents (the shard never
 * became usable), so a crash leaks nothing. A crash after ACTIVE but before the pool
 * service recorded the pool leaves an orphan shard that the pool service destroys at
 * start (srv_pool.c pool_reap_orphans), freeing its extent.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_VOS
#include "bdev/bdev.h"
#include "common/fault.h"
#include "common/log.h"
#include "rt/rt.h"
#include "vos/vos.h"

#include "srv_tgt_space.h"

struct srv_tgt_dev {
	unsigned tgt;
	char path[4096];
	char base[48];                 /* uring bdev over the device */
	char map[56];                  /* part bdev over the map region */
	struct cairn_bdev_desc *map_desc;
	uint32_t block_size;
	void *io_buf;                  /* SRV_TGT_COPY_SIZE, DMA aligned */
	struct srv_tgt_space sp;
};

static void
dev_deleted(void *arg, int rc)
{
	cairn_eventual_set(arg, rc);
}

/* Delete a bdev and wait for it to be gone (ULT). */
static int
dev_bdev_delete(int (*del)(const char *, cairn_bdev_cb, void *), const char *name)
{
	struct cairn_eventual *ev;
	int rc;

	rc = cairn_eventual_create(&ev);
	if (rc)
		return rc;
	rc = del(name, dev_deleted, ev);
	if (rc == 0)
		rc = (int)cairn_eventual_wait(ev);
	cairn_eventual_destroy(ev);
	return rc;
}

static void
dev_event_noop(enum cairn_bdev_event_type type, struct cairn_bdev *bdev, void *ctx)
{
	/* the descriptor lives only for one call */
}

static void
dev_map_event(enum cairn_bdev_event_type type, struct cairn_bdev *bdev, void *ctx)
{
	struct srv_tgt_dev *dev = ctx;

	if (type == CAIRN_BDEV_EVENT_REMOVE)
		CAIRN_ERROR("target %u: the space map bdev %s is going away", dev->tgt, dev->map);
}

/* Write the map with the next sequence into the copy that does not hold the newest. */
static int
dev_persist(struct srv_tgt_dev *dev)
{
	unsigned next = dev->sp.cur_copy ^ 1;
	int n, rc;

	n = srv_tgt_space_encode(&dev->sp, dev->sp.seq + 1, dev->io_buf, SRV_TGT_COPY_SIZE);
	if (n < 0)
		return n;
	rc = cairn_bdev_write_sync(dev->map_desc, NULL, dev->io_buf,
				   srv_tgt_space_copy_offset(next) / dev->block_size,
				   (uint64_t)n / dev->block_size);
	if (rc == 0)
		rc = cairn_bdev_flush_sync(dev->map_desc, NULL);
	if (rc) {
		CAIRN_ERROR("target %u: cannot write space map copy %u to %s: %s", dev->tgt, next,
			    dev->path, cairn_strerror(rc));
		return rc;
	}
	dev->sp.seq++;
	dev->sp.cur_copy = next;
	return 0;
}

/* Free CREATING extents: shard creates cut short by a crash. */
static int
dev_reclaim(struct srv_tgt_dev *dev)
{
	char us[CAIRN_UUID_STR_LEN];
	unsigned i = 0, n = 0;

	while (i < dev->sp.nr) {
		struct srv_tgt_extent *e = &dev->sp.ext[i];

		if (e->state != SRV_TGT_EXT_CREATING) {
			i++;
			continue;
		}
		cairn_uuid_unparse(&e->pool, us);
		CAIRN_WARN("target %u: reclaiming %" PRIu64 " MiB at %" PRIu64 " MiB of pool %s "
			   "(its shard create was interrupted)", dev->tgt, e->size >> 20,
			   e->offset >> 20, us);
		srv_tgt_space_free(&dev->sp, &e->pool);
		n++;
	}
	return n ? dev_persist(dev) : 0;
}

static int
dev_load(struct srv_tgt_dev *dev, uint64_t dev_bytes)
{
	uint8_t *c1 = NULL;
	char why[400];
	bool one_bad;
	uint64_t nb = SRV_TGT_COPY_SIZE / dev->block_size;
	int rc;

	c1 = cairn_bdev_dma_alloc(cairn_bdev_desc_get_bdev(dev->map_desc), SRV_TGT_COPY_SIZE);
	if (c1 == NULL)
		return -CAIRN_ERR_NOMEM;
	rc = cairn_bdev_read_sync(dev->map_desc, NULL, dev->io_buf, 0, nb);
	if (rc == 0)
		rc = cairn_bdev_read_sync(dev->map_desc, NULL, c1, nb, nb);
	if (rc) {
		CAIRN_ERROR("target %u: cannot read the space map of %s: %s", dev->tgt, dev->path,
			    cairn_strerror(rc));
		goto out;
	}
	rc = srv_tgt_space_load(dev->io_buf, SRV_TGT_COPY_SIZE, c1, SRV_TGT_COPY_SIZE, &dev->sp,
				&one_bad, why, sizeof(why));
	if (rc) {
		CAIRN_ERROR("target %u: %s has no valid space map (%s): the target is refused; "
			    "restore the device or reformat the storage (`cairn-server storage "
			    "format --force`, destroys its pools)", dev->tgt, dev->path, why);
		rc = rc == -CAIRN_ERR_VERSION ? rc : -CAIRN_ERR_CORRUPT;
		goto out;
	}
	if (one_bad)
		CAIRN_WARN("target %u: space map of %s: %s; using the other copy (seq %" PRIu64
			   "), the next update rewrites the damaged one", dev->tgt, dev->path, why,
			   dev->sp.seq);
	if (dev->sp.tgt_idx != dev->tgt) {
		CAIRN_ERROR("target %u: %s holds the space map of target %u (devices swapped?): "
			    "the target is refused; put the devices back or reformat", dev->tgt,
			    dev->path, dev->sp.tgt_idx);
		rc = -CAIRN_ERR_CORRUPT;
		goto out;
	}
	if (dev->sp.dev_size > dev_bytes) {
		CAIRN_ERROR("target %u: %s is %" PRIu64 " bytes but its space map describes %" PRIu64
			    " (truncated or replaced?): the target is refused; restore the device "
			    "or reformat", dev->tgt, dev->path, dev_bytes, dev->sp.dev_size);
		rc = -CAIRN_ERR_CORRUPT;
		goto out;
	}
	rc = dev_reclaim(dev);
out:
	cairn_bdev_dma_free(c1);
	return rc;
}

int
srv_tgt_dev_open(unsigned tgt, const char *dir, struct srv_tgt_dev **out)
{
	struct cairn_bdev_part_opts po;
	struct srv_tgt_dev *dev;
	struct cairn_bdev *bdev, *part;
	uint64_t dev_bytes;
	int rc;

	dev = calloc(1, sizeof(*dev));
	if (dev == NULL)
		return -CAIRN_ERR_NOMEM;
	dev->tgt = tgt;
	snprintf(dev->path, sizeof(dev->path), "%s/target-%u", dir, tgt);
	snprintf(dev->base, sizeof(dev->base), "target-%u", tgt);
	snprintf(dev->map, sizeof(dev->map), "target-%u.map", tgt);
	rc = cairn_bdev_uring_create(dev->base, dev->path, 0, NULL, &bdev);
	if (rc) {
		CAIRN_ERROR("target %u: cannot open %s: %s", tgt, dev->path, cairn_strerror(rc));
		goto err_free;
	}
	dev->block_size = cairn_bdev_block_size(bdev);
	dev_bytes = cairn_bdev_num_blocks(bdev) * dev->block_size;
	if (dev_bytes < SRV_TGT_MAP_SIZE || SRV_TGT_COPY_SIZE % dev->block_size) {
		CAIRN_ERROR("target %u: %s is %" PRIu64 " bytes (block size %u); a target needs at "
			    "least %llu bytes: reformat with a larger target_size", tgt, dev->path,
			    dev_bytes, dev->block_size, (unsigned long long)SRV_TGT_MAP_SIZE);
		rc = -CAIRN_ERR_CORRUPT;
		goto err_base;
	}
	cairn_bdev_part_opts_default(&po);
	po.name = dev->map;
	po.base_name = dev->base;
	po.offset_blocks = 0;
	po.num_blocks = SRV_TGT_MAP_SIZE / dev->block_size;
	rc = cairn_bdev_part_create(&po, &part);
	if (rc)
		goto err_base;
	rc = cairn_bdev_open(dev->map, true, dev_map_event, dev, &dev->map_desc);
	if (rc)
		goto err_part;
	dev->io_buf = cairn_bdev_dma_alloc(part, SRV_TGT_COPY_SIZE);
	if (dev->io_buf == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto err_close;
	}
	rc = dev_load(dev, dev_bytes);
	if (rc)
		goto err_buf;
	CAIRN_NOTE("target %u: %s, %" PRIu64 " MiB, %u pool shard(s), space map seq %" PRIu64,
		   tgt, dev->path, dev->sp.dev_size >> 20, dev->sp.nr, dev->sp.seq);
	*out = dev;
	return 0;

err_buf:
	cairn_bdev_dma_free(dev->io_buf);
err_close:
	cairn_bdev_close(dev->map_desc);
err_part:
	dev_bdev_delete(cairn_bdev_part_delete, dev->map);
err_base:
	dev_bdev_delete(cairn_bdev_uring_delete, dev->base);
err_free:
	free(dev);
	return rc;
}

void
srv_tgt_dev_close(struct srv_tgt_dev *dev)
{
	if (dev == NULL)
		return;
	cairn_bdev_dma_free(dev->io_buf);
	cairn_bdev_close(dev->map_desc);
	dev_bdev_delete(cairn_bdev_part_delete, dev->map);
	/* the base closes with its last part; then it can be deleted */
	dev_bdev_delete(cairn_bdev_uring_delete, dev->base);
	free(dev);
}

int
srv_tgt_dev_check(struct srv_tgt_dev *dev, const struct cairn_uuid *pool, uint64_t size,
		  char *err, size_t errlen)
{
	if (srv_tgt_space_find(&dev->sp, pool)) {
		snprintf(err, errlen, "target %u already holds a shard of this pool", dev->tgt);
		return -CAIRN_ERR_EXIST;
	}
	return srv_tgt_space_check(&dev->sp, size, err, errlen);
}

static int
dev_part_create(struct srv_tgt_dev *dev, const struct srv_tgt_extent *e, const char *name)
{
	struct cairn_bdev_part_opts po;
	struct cairn_bdev *part;

	cairn_bdev_part_opts_default(&po);
	po.name = name;
	po.base_name = dev->base;
	po.offset_blocks = e->offset / dev->block_size;
	po.num_blocks = e->size / dev->block_size;
	po.uuid = NULL;
	return cairn_bdev_part_create(&po, &part);
}

/* Give the extent's space back to the file system (sparse files) or device (discard). */
static void
dev_discard(const char *bdev_name)
{
	struct cairn_bdev_desc *d;
	struct cairn_bdev *b;

	if (cairn_bdev_open(bdev_name, true, dev_event_noop, NULL, &d) != 0)
		return;
	b = cairn_bdev_desc_get_bdev(d);
	if (cairn_bdev_io_type_supported(b, CAIRN_BDEV_IO_UNMAP))
		cairn_bdev_unmap_sync(d, NULL, 0, cairn_bdev_num_blocks(b));
	cairn_bdev_close(d);
}

int
srv_tgt_dev_shard_open(struct srv_tgt_dev *dev, const struct cairn_uuid *pool, uint64_t size,
		       const char *bdev_name, struct cairn_vos_pool **vp)
{
	struct cairn_vos_pool_opts vo;
	struct srv_tgt_extent *e, ext;
	char err[256], us[CAIRN_UUID_STR_LEN];
	int rc;

	cairn_uuid_unparse(pool, us);
	if (size == 0) {
		e = srv_tgt_space_find(&dev->sp, pool);
		if (e == NULL || e->state != SRV_TGT_EXT_ACTIVE)
			return -CAIRN_ERR_NONEXIST;
		ext = *e;
	} else {
		rc = srv_tgt_space_alloc(&dev->sp, pool, size, SRV_TGT_EXT_CREATING, &ext, err,
					 sizeof(err));
		if (rc) {
			CAIRN_ERROR("pool %s: %s", us, err);
			return rc;
		}
		rc = dev_persist(dev);
		if (rc) {
			srv_tgt_space_free(&dev->sp, pool);
			return rc;
		}
		/* Crash tests: die with the extent recorded CREATING. */
		if (CAIRN_FAULT("tgt.create.crash")) {
			CAIRN_ERROR("target %u: fault tgt.create.crash: exiting in the middle of "
				    "creating pool %s", dev->tgt, us);
			_exit(9);
		}
	}
	rc = dev_part_create(dev, &ext, bdev_name);
	if (rc) {
		CAIRN_ERROR("target %u: pool %s: cannot create its part bdev: %s", dev->tgt, us,
			    cairn_strerror(rc));
		goto err_extent;
	}
	if (size) {
		cairn_vos_pool_opts_default(&vo);
		/* Zero the whole extent once: a sparse file or unwritten extent makes every
		 * first O_DIRECT write into it a file system journal commit (see bench/). */
		vo.flags |= CAIRN_VOS_FORMAT_PREZERO;
		rc = cairn_vos_pool_format(bdev_name, pool->b, &vo);
		if (rc) {
			CAIRN_ERROR("target %u: cannot format VOS pool %s: %s", dev->tgt, us,
				    cairn_strerror(rc));
			goto err_part;
		}
	}
	rc = cairn_vos_pool_open(bdev_name, vp);
	if (rc) {
		CAIRN_ERROR("target %u: cannot open VOS pool %s: %s", dev->tgt, us,
			    cairn_strerror(rc));
		goto err_part;
	}
	if (size) {
		srv_tgt_space_find(&dev->sp, pool)->state = SRV_TGT_EXT_ACTIVE;
		rc = dev_persist(dev);
		if (rc) {
			/* Still CREATING on disk: reclaimed at the next start. */
			srv_tgt_space_find(&dev->sp, pool)->state = SRV_TGT_EXT_CREATING;
			cairn_vos_pool_close(*vp);
			*vp = NULL;
			goto err_part;
		}
	}
	return 0;

err_part:
	dev_bdev_delete(cairn_bdev_part_delete, bdev_name);
err_extent:
	if (size) {
		srv_tgt_space_free(&dev->sp, pool);
		if (dev_persist(dev))
			CAIRN_WARN("target %u: pool %s: its extent stays recorded as being "
				   "created and is reclaimed at the next start", dev->tgt, us);
	}
	return rc;
}

int
srv_tgt_dev_shard_close(struct srv_tgt_dev *dev, const struct cairn_uuid *pool,
			struct cairn_vos_pool *vp, const char *bdev_name, bool destroy)
{
	char us[CAIRN_UUID_STR_LEN];
	bool freed = false;
	int rc = 0, rc2;

	cairn_uuid_unparse(pool, us);
	if (vp) {
		rc = cairn_vos_pool_close(vp);
		if (rc)
			CAIRN_WARN("target %u: closing VOS pool %s: %s", dev->tgt, us,
				   cairn_strerror(rc));
	}
	/* Record the free first: a crash after it leaves stale bytes in free space, never
	 * an extent whose shard is gone. */
	if (destroy && srv_tgt_space_find(&dev->sp, pool) != NULL) {
		srv_tgt_space_free(&dev->sp, pool);
		rc2 = dev_persist(dev);
		if (rc2) {
			CAIRN_ERROR("target %u: pool %s: the freed extent could not be recorded: "
				    "%s", dev->tgt, us, cairn_strerror(rc2));
			if (rc == 0)
				rc = rc2;
		} else {
			freed = true;
		}
	}
	if (vp) {
		if (freed)
			dev_discard(bdev_name);
		rc2 = dev_bdev_delete(cairn_bdev_part_delete, bdev_name);
		if (rc2 && rc == 0)
			rc = rc2;
	}
	return rc;
}

unsigned
srv_tgt_dev_pools(struct srv_tgt_dev *dev, struct cairn_uuid *pools, unsigned max)
{
	unsigned i, n = 0;

	for (i = 0; i < dev->sp.nr; i++) {
		if (dev->sp.ext[i].state != SRV_TGT_EXT_ACTIVE)
			continue;
		if (n < max)
			pools[n] = dev->sp.ext[i].pool;
		n++;
	}
	return n;
}

void
srv_tgt_dev_usage(struct srv_tgt_dev *dev, struct srv_tgt_usage *u)
{
	srv_tgt_space_usage(&dev->sp, u);
}

bool
srv_tgt_dev_is_file(struct srv_tgt_dev *dev)
{
	struct stat st;

	return stat(dev->path, &st) == 0 && S_ISREG(st.st_mode);
}
