/*
 * libFuzzer: open a corrupted VOS pool image; it must fail cleanly or open into a
 * consistent pool (then fetch, verify and close it), never crash, hang or leak.
 *
 * The base image is a real pool (made at start-up: superblocks, a checkpoint holding a
 * container and values, WAL frames still to replay after a simulated crash). Input:
 *   byte 0 even: the rest overwrites the image from offset 0 (superblock parser);
 *   byte 0 odd:  the rest is patches {u32 offset, u8 len, len bytes} applied anywhere
 *                in the image (WAL frames, checkpoint pages, records, data).
 * The image lives in a malloc bdev, written through the real bdev layer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bdev/bdev.h"
#include "cairn/errno.h"
#include "common/log.h"
#include "rt/rt.h"
#include "vos_internal.h"
#include "vos/vos.h"

#define IMG_BLOCKS 128u /* 512 KiB */
#define IMG_SIZE   ((size_t)IMG_BLOCKS * 4096)

static uint8_t *g_base, *g_img;
static const uint8_t g_cont[16] = { 0xf0, 0x0d };

struct img_io {
	bool write;
	int rc;
};

static void
noop_event(enum cairn_bdev_event_type type, struct cairn_bdev *bdev, void *ctx)
{
}

static void
img_io_ult(void *arg)
{
	struct img_io *io = arg;
	struct cairn_bdev_desc *desc;

	io->rc = cairn_bdev_open("fz0", true, noop_event, NULL, &desc);
	if (io->rc)
		return;
	io->rc = io->write ? cairn_bdev_write_sync(desc, NULL, g_img, 0, IMG_BLOCKS)
			   : cairn_bdev_read_sync(desc, NULL, g_base, 0, IMG_BLOCKS);
	cairn_bdev_close(desc);
}

static int
put(struct cairn_vos_pool *p, const char *dkey, uint64_t epoch, const void *v, uint64_t len)
{
	struct cairn_vos_oid oid = { 0, 1 };
	struct cairn_vos_iod iod = { .akey = "a", .akey_len = 1, .type = CAIRN_VOS_IOD_SINGLE,
				     .buf = (void *)v, .size = len };

	return cairn_vos_update(p, g_cont, &oid, epoch, 0, dkey, (uint32_t)strlen(dkey), 1, &iod);
}

static void
build_base_ult(void *arg)
{
	static char big[6000];
	struct cairn_vos_pool *p;
	struct cairn_vos_oid oid = { 0, 1 };
	struct cairn_vos_recx rx = { 5, 4 };
	struct cairn_vos_iod aiod = { .akey = "arr", .akey_len = 3, .type = CAIRN_VOS_IOD_ARRAY,
				      .rec_size = 4, .nr_recx = 1, .recx = &rx, .buf = big,
				      .buf_size = 16 };
	int *rc = arg;

	memset(big, 'b', sizeof(big));
	*rc = cairn_vos_pool_format("fz0", (const uint8_t *)"fuzz-pool-uuid!!", NULL);
	if (*rc == 0)
		*rc = cairn_vos_pool_open("fz0", &p);
	if (*rc)
		return;
	cairn_vos_cont_create(p, g_cont);
	put(p, "one", 1, "small value", 12);
	put(p, "two", 2, big, sizeof(big));
	cairn_vos_snap_create(p, g_cont, 2);
	cairn_vos_pool_checkpoint(p); /* the above goes into the checkpoint... */
	put(p, "three", 3, "after the checkpoint", 21); /* ...these stay in the WAL */
	put(p, "four", 4, big, 5000);
	cairn_vos_update(p, g_cont, &oid, 5, 0, "arr", 3, 1, &aiod);
	cairn_vos_punch(p, g_cont, &oid, 6, 0, "one", 3, NULL, 0);
	vos_pool_crash(p);
}

struct fz_arg {
	int rc;
};

static void
open_ult(void *arg)
{
	static char buf[8192];
	static const char *keys[] = { "one", "two", "three", "four" };
	struct cairn_vos_pool *p;
	struct cairn_vos_oid oid = { 0, 1 };
	uint64_t bad;

	if (cairn_vos_pool_open("fz0", &p) != 0)
		return;
	for (unsigned i = 0; i < 4; i++) {
		struct cairn_vos_iod iod = { .akey = "a", .akey_len = 1,
					     .type = CAIRN_VOS_IOD_SINGLE, .buf = buf,
					     .buf_size = sizeof(buf) };

		cairn_vos_fetch(p, g_cont, &oid, CAIRN_VOS_EPOCH_MAX, keys[i],
				(uint32_t)strlen(keys[i]), 1, &iod);
	}
	cairn_vos_pool_verify(p, &bad);
	put(p, "new", 10, "written after recovery", 23);
	cairn_vos_pool_close(p);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct cairn_rt_opts o;
	struct cairn_bdev *b;
	struct img_io io = { .write = false };
	int rc = -1;

	setenv("CAIRN_LOG_MASK", "FATAL", 0);
	cairn_log_init();
	cairn_rt_opts_default(&o);
	o.nr_system = 0;
	o.nr_main = 1;
	o.pin = false;
	o.stack_size = 256 * 1024;
	if (cairn_rt_init(&o) != 0 || cairn_bdev_init() != 0 ||
	    cairn_bdev_malloc_create("fz0", IMG_BLOCKS, 4096, NULL, &b) != 0)
		abort();
	g_base = malloc(IMG_SIZE);
	g_img = malloc(IMG_SIZE);
	if (g_base == NULL || g_img == NULL)
		abort();
	if (cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, 0), build_base_ult, &rc) != 0 ||
	    rc != 0)
		abort();
	if (cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, 0), img_io_ult, &io) != 0 ||
	    io.rc != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_io io = { .write = true };
	struct fz_arg fa = { 0 };

	if (size < 1)
		return 0;
	memcpy(g_img, g_base, IMG_SIZE);
	if ((data[0] & 1) == 0) {
		size_t n = size - 1 < IMG_SIZE ? size - 1 : IMG_SIZE;

		memcpy(g_img, data + 1, n);
	} else {
		size_t pos = 1;

		while (pos + 5 <= size) {
			uint32_t off;
			uint8_t len;

			memcpy(&off, data + pos, 4);
			len = data[pos + 4];
			pos += 5;
			if (len > size - pos)
				len = (uint8_t)(size - pos);
			off %= IMG_SIZE;
			if (len > IMG_SIZE - off)
				len = (uint8_t)(IMG_SIZE - off);
			memcpy(g_img + off, data + pos, len);
			pos += len;
		}
	}
	if (cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, 0), img_io_ult, &io) != 0 ||
	    io.rc != 0)
		abort();
	if (cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, 0), open_ult, &fa) != 0)
		abort();
	return 0;
}
