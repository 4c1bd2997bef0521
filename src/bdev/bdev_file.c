/*
 * File and block-device helpers shared by the uring and aio modules: opening with
 * O_DIRECT when the file system supports it (falling back to buffered I/O), the
 * geometry (block size, block count, DMA alignment) and fallocate-based unmap and
 * write-zeroes.
 */
#define CAIRN_LOG_SS CAIRN_SS_BDEV

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bdev_internal.h"
#include "cairn/errno.h"
#include "common/log.h"

#define BDEV_FILE_DEFAULT_ALIGN 4096

/* Direct-I/O alignment of an open file (statx STATX_DIOALIGN, else a safe guess). */
static void
file_dio_align(int fd, bool blockdev, uint32_t *mem_align, uint32_t *off_align)
{
	struct statx stx;

	*mem_align = BDEV_FILE_DEFAULT_ALIGN;
	*off_align = BDEV_FILE_DEFAULT_ALIGN;
	if (blockdev) {
		int lbs = 0;

		if (ioctl(fd, BLKSSZGET, &lbs) == 0 && lbs > 0) {
			*mem_align = (uint32_t)lbs;
			*off_align = (uint32_t)lbs;
		}
		return;
	}
	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) != 0 && stx.stx_dio_offset_align != 0) {
		*mem_align = stx.stx_dio_mem_align ? stx.stx_dio_mem_align : 1;
		*off_align = stx.stx_dio_offset_align;
	}
}

int
bdev_file_num_blocks(const struct bdev_file *f, uint64_t *num_blocks)
{
	struct stat sb;
	uint64_t size;

	if (fstat(f->fd, &sb) != 0)
		return -errno;
	if (f->blockdev) {
		if (ioctl(f->fd, BLKGETSIZE64, &size) != 0)
			return -errno;
	} else {
		size = (uint64_t)sb.st_size;
	}
	*num_blocks = size / f->block_size;
	return 0;
}

int
bdev_file_open(const char *filename, uint32_t block_size, struct bdev_file *f)
{
	uint32_t mem_align, off_align;
	struct stat sb;
	int rc, fd;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (filename == NULL || filename[0] == '\0') {
		CAIRN_ERROR("file bdev: a file name is required");
		return -CAIRN_ERR_INVAL;
	}
	fd = open(filename, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd >= 0) {
		f->direct = true;
	} else {
		fd = open(filename, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
			CAIRN_ERROR("cannot open %s for the bdev: %s", filename, strerror(-rc));
			return rc;
		}
		CAIRN_NOTE("%s: O_DIRECT not supported, using buffered I/O", filename);
	}
	f->fd = fd;
	if (fstat(fd, &sb) != 0) {
		rc = -errno;
		goto err_close;
	}
	if (S_ISBLK(sb.st_mode)) {
		f->blockdev = true;
	} else if (!S_ISREG(sb.st_mode)) {
		CAIRN_ERROR("%s is neither a regular file nor a block device", filename);
		rc = -CAIRN_ERR_INVAL;
		goto err_close;
	}
	file_dio_align(fd, f->blockdev, &mem_align, &off_align);
	if (block_size == 0)
		block_size = off_align > 512 ? off_align : 512;
	if (block_size < 512 || block_size > 65536 || (block_size & (block_size - 1)) != 0) {
		CAIRN_ERROR("%s: invalid block size %" PRIu32 ": expected a power of two in "
			    "512..65536", filename, block_size);
		rc = -CAIRN_ERR_INVAL;
		goto err_close;
	}
	f->block_size = block_size;
	if (f->direct && block_size < off_align) {
		/* the device cannot do direct I/O at this granularity: buffered it is */
		CAIRN_NOTE("%s: block size %" PRIu32 " below the direct I/O alignment %" PRIu32
			   ", using buffered I/O", filename, block_size, off_align);
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_DIRECT) != 0) {
			rc = -errno;
			goto err_close;
		}
		f->direct = false;
	}
	f->buf_align = f->direct ? (mem_align > 1 ? mem_align : 1) : 1;
	rc = bdev_file_num_blocks(f, &f->num_blocks);
	if (rc != 0)
		goto err_close;
	if (f->num_blocks == 0) {
		CAIRN_ERROR("%s is smaller than one block of %" PRIu32 " bytes", filename,
			    block_size);
		rc = -CAIRN_ERR_INVAL;
		goto err_close;
	}
	f->filename = strdup(filename);
	if (f->filename == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto err_close;
	}
	return 0;

err_close:
	close(fd);
	f->fd = -1;
	return rc;
}

void
bdev_file_close(struct bdev_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->filename);
	f->filename = NULL;
}

int
bdev_file_deallocate(const struct bdev_file *f, bool zeroes, uint64_t off, uint64_t len)
{
	int mode;

	if (zeroes) {
		if (fallocate(f->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			      (off_t)len) == 0)
			return 0;
		if (errno != EOPNOTSUPP)
			return -errno;
	}
	mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	if (fallocate(f->fd, mode, (off_t)off, (off_t)len) != 0)
		return -errno;
	return 0;
}
