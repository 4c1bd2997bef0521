/*
 * Helpers for the VOS durability tests: a real runtime (one target xstream, unpinned)
 * and the bdev layer; test bodies run in a ULT on that xstream and report the failing
 * line (cmocka's longjmp must not cross a ULT stack, so assertions happen on the main
 * thread); pool files on /tmp through the uring bdev.
 */
#ifndef CAIRN_TEST_VOS_H
#define CAIRN_TEST_VOS_H

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bdev/bdev.h"
#include "cairn/errno.h"
#include "common/log.h"
#include "rt/rt.h"
#include "vos/vos.h"

#define CK(c)                                                                              \
	do {                                                                               \
		if (!(c)) {                                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
			return __LINE__;                                                   \
		}                                                                          \
	} while (0)

#define CKRC(expr, want)                                                                   \
	do {                                                                               \
		int _r = (expr), _w = (want);                                              \
		if (_r != _w) {                                                            \
			fprintf(stderr, "%s:%d: %s = %d (%s), expected %d (%s)\n", __FILE__,   \
				__LINE__, #expr, _r, cairn_strerror(_r), _w,               \
				cairn_strerror(_w));                                       \
			return __LINE__;                                                   \
		}                                                                          \
	} while (0)

struct vt_run {
	int (*fn)(void *arg);
	void *arg;
	int line;
};

static void
vt_trampoline(void *arg)
{
	struct vt_run *r = arg;

	r->line = r->fn(r->arg);
}

/* Run fn in a ULT on the target xstream; returns its line (0 = passed). */
static inline int
vt_run_line(int (*fn)(void *), void *arg)
{
	struct vt_run r = { .fn = fn, .arg = arg, .line = -1 };

	if (cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, 0), vt_trampoline, &r) != 0)
		return -2;
	return r.line;
}

static inline void
vt_run(int (*fn)(void *), void *arg)
{
	int line = vt_run_line(fn, arg);

	if (line != 0)
		fail_msg("check failed at line %d (see stderr)", line);
}

static inline int
vt_start(void)
{
	struct cairn_rt_opts o;

	cairn_log_init();
	cairn_rt_opts_default(&o);
	o.nr_system = 0;
	o.nr_main = 1;
	o.nr_helper = 0;
	o.pin = false;
	o.stack_size = 256 * 1024;
	if (cairn_rt_init(&o) != 0)
		return -1;
	if (cairn_bdev_init() != 0)
		return -1;
	return 0;
}

static inline void
vt_stop(void)
{
	cairn_bdev_fini();
	cairn_rt_fini();
}

/* Create (or resize) a file of size bytes, zero-filled. */
static inline int
vt_file(const char *path, uint64_t size)
{
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* pread/pwrite helpers on the backing file (pool closed). */
static inline int
vt_file_io(const char *path, bool wr, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDWR);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = wr ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);
	if (wr)
		fsync(fd);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* Deterministic value bytes for (key, epoch). */
static inline void
vt_fill(void *buf, size_t len, uint64_t key, uint64_t epoch)
{
	uint8_t *p = buf;
	uint64_t x = key * 0x9E3779B97F4A7C15ull ^ epoch * 0xC2B2AE3D27D4EB4Full;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

#endif /* CAIRN_TEST_VOS_H */
