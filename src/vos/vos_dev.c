/*
 * Device I/O of a VOS pool: byte-addressed wrappers over the bdev layer's ULT-synchronous
 * calls, through the channel the pool took on its xstream at open.
 */
#define CAIRN_LOG_SS CAIRN_SS_VOS
#include <stdlib.h>

#include "bdev/bdev.h"
#include "cairn/errno.h"
#include "common/log.h"
#include "vos_internal.h"

static int
dev_range(struct vos_pool *p, uint64_t off, uint64_t len)
{
	if (off % VOS_BLK || len % VOS_BLK || len == 0 || off > p->dev_size ||
	    len > p->dev_size - off)
		return -CAIRN_ERR_INVAL;
	return 0;
}

int
vos_dev_read(struct vos_pool *p, uint64_t off, void *buf, uint64_t len)
{
	int rc = dev_range(p, off, len);

	if (rc)
		return rc;
	rc = cairn_bdev_read_sync(p->desc, p->ch, buf, off / p->dev_blk, len / p->dev_blk);
	if (rc)
		CAIRN_ERROR("%s: read of %llu bytes at %llu failed: %s", p->bdev_name,
			    (unsigned long long)len, (unsigned long long)off, cairn_strerror(rc));
	return rc;
}

int
vos_dev_write(struct vos_pool *p, uint64_t off, const void *buf, uint64_t len)
{
	int rc = dev_range(p, off, len);

	if (rc)
		return rc;
	rc = cairn_bdev_write_sync(p->desc, p->ch, buf, off / p->dev_blk, len / p->dev_blk);
	if (rc)
		CAIRN_ERROR("%s: write of %llu bytes at %llu failed: %s", p->bdev_name,
			    (unsigned long long)len, (unsigned long long)off, cairn_strerror(rc));
	return rc;
}

int
vos_dev_flush(struct vos_pool *p)
{
	int rc = cairn_bdev_flush_sync(p->desc, p->ch);

	if (rc)
		CAIRN_ERROR("%s: flush failed: %s", p->bdev_name, cairn_strerror(rc));
	return rc;
}

void *
vos_buf_alloc(uint64_t len)
{
	void *buf = NULL;

	if (len == 0)
		len = VOS_BLK;
	if (posix_memalign(&buf, VOS_BLK, vos_round_up(len, VOS_BLK)) != 0)
		return NULL;
	return buf;
}

void
vos_buf_free(void *buf)
{
	free(buf);
}
