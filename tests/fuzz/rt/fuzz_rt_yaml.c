/*
 * libFuzzer target: the runtime's YAML section parser (cairn_rt_opts_from_yaml) on
 * arbitrary bytes. Whatever it accepts must pass the runtime's own option checks
 * (cairn_rt_init's validation is re-run without starting threads: counts, stack, ring).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cairn/errno.h"
#include "common/log.h"
#include "rt/rt.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct cairn_rt_opts o;
	char path[64];

	if (fd < 0) {
		cairn_log_set_mask("FATAL"); /* every bad input logs an error otherwise */
		fd = memfd_create("fuzz-rt-yaml", 0);
		if (fd < 0)
			abort();
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (cairn_rt_opts_from_yaml(path, &o) == 0) {
		unsigned total = o.nr_system + o.nr_main + o.nr_helper;

		if (o.nr_system > 1 || total == 0 || total > CAIRN_RT_MAX_XSTREAMS ||
		    o.stack_size < CAIRN_RT_MIN_STACK_SIZE || o.msg_ring_size < 4 ||
		    (o.msg_ring_size & (o.msg_ring_size - 1)) != 0 || o.spin_us > 1000000)
			abort(); /* accepted something cairn_rt_init would refuse */
	}
	return 0;
}
