/*
 * cairn-bdev-perf: measure a bdev like SPDK's bdevperf. One job per target xstream keeps
 * `-q` I/Os of `-o` bytes in flight for `-t` seconds with the chosen workload, resubmitting
 * from the completion callback. Prints a table and, last, one JSON object (or only the
 * JSON with --json).
 *
 *   cairn-bdev-perf --bdev malloc:256M -q 32 -o 4k -w randread -t 5
 *   cairn-bdev-perf --bdev uring:/tmp/f --size 1G -q 64 -o 4k -w randwrite -t 10 -x 2
 */
#define CAIRN_LOG_SS CAIRN_SS_TOOL

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bdev/bdev.h"
#include "cairn/errno.h"
#include "common/log.h"
#include "common/units.h"
#include "rt/rt.h"

enum workload { W_READ, W_WRITE, W_RANDREAD, W_RANDWRITE, W_RANDRW };
static const char *const g_wl_names[] = { "read", "write", "randread", "randwrite", "randrw" };

struct perf_opts {
	const char *bdev_spec;
	uint64_t file_size;
	uint32_t block_size;
	uint32_t qd;
	uint64_t io_size;
	enum workload wl;
	uint64_t seconds;
	unsigned xstreams;
	bool json_only;
	bool pin;
};

struct job;

struct task {
	struct job *job;
	void *buf;
	uint64_t start_ns;
};

struct job {
	const struct perf_opts *o;
	struct cairn_bdev_desc *desc;
	struct cairn_bdev_channel *ch;
	struct cairn_ult *ult;
	struct task *tasks;
	uint64_t io_blocks, span, seq_next, rng;
	uint64_t end_us;
	unsigned inflight;
	bool waiting;
	int rc;
	/* results */
	uint64_t ops, errors, lat_sum, lat_min, lat_max;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void task_done(void *arg, int rc);

static int
task_submit(struct task *t)
{
	struct job *j = t->job;
	uint64_t slot;
	bool write;

	switch (j->o->wl) {
	case W_READ:
	case W_WRITE:
		slot = j->seq_next++ % j->span;
		break;
	default:
		slot = rng_next(&j->rng) % j->span;
		break;
	}
	write = j->o->wl == W_WRITE || j->o->wl == W_RANDWRITE ||
		(j->o->wl == W_RANDRW && (rng_next(&j->rng) & 1));
	t->start_ns = now_ns();
	if (write)
		return cairn_bdev_write(j->desc, j->ch, t->buf, slot * j->io_blocks, j->io_blocks,
					task_done, t);
	return cairn_bdev_read(j->desc, j->ch, t->buf, slot * j->io_blocks, j->io_blocks,
			       task_done, t);
}

static void
task_done(void *arg, int rc)
{
	struct task *t = arg;
	struct job *j = t->job;
	uint64_t lat = now_ns() - t->start_ns;

	j->ops++;
	if (rc != 0)
		j->errors++;
	j->lat_sum += lat;
	if (lat < j->lat_min)
		j->lat_min = lat;
	if (lat > j->lat_max)
		j->lat_max = lat;
	if (j->rc == 0 && cairn_rt_now_us() < j->end_us) {
		rc = task_submit(t);
		if (rc == 0)
			return;
		j->rc = rc;
	}
	if (--j->inflight == 0 && j->waiting)
		cairn_ult_wake(j->ult);
}

static void
job_run(void *arg)
{
	struct job *j = arg;
	struct cairn_bdev *bdev = cairn_bdev_desc_get_bdev(j->desc);
	unsigned i;

	j->ult = cairn_ult_self();
	j->lat_min = UINT64_MAX;
	j->ch = cairn_bdev_get_io_channel(j->desc);
	if (j->ch == NULL) {
		j->rc = -CAIRN_ERR_NOMEM;
		return;
	}
	j->tasks = calloc(j->o->qd, sizeof(*j->tasks));
	if (j->tasks == NULL) {
		j->rc = -CAIRN_ERR_NOMEM;
		goto out_put;
	}
	for (i = 0; i < j->o->qd; i++) {
		j->tasks[i].job = j;
		j->tasks[i].buf = cairn_bdev_dma_alloc(bdev, j->o->io_size);
		if (j->tasks[i].buf == NULL) {
			j->rc = -CAIRN_ERR_NOMEM;
			goto out_free;
		}
		memset(j->tasks[i].buf, (int)(0x5a + i), j->o->io_size);
	}
	j->end_us = cairn_rt_now_us() + j->o->seconds * 1000000ull;
	for (i = 0; i < j->o->qd; i++) {
		int rc = task_submit(&j->tasks[i]);

		if (rc != 0) {
			j->rc = rc;
			break;
		}
		j->inflight++;
	}
	while (j->inflight > 0) {
		j->waiting = true;
		cairn_ult_park();
		j->waiting = false;
	}
out_free:
	for (i = 0; i < j->o->qd; i++)
		cairn_bdev_dma_free(j->tasks[i].buf);
	free(j->tasks);
out_put:
	cairn_bdev_put_io_channel(j->ch);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: cairn-bdev-perf --bdev SPEC [options]\n"
		"  --bdev SPEC       malloc:SIZE | null:SIZE | uring:PATH | aio:PATH\n"
		"  --size SIZE       create/extend the file to SIZE (uring, aio)\n"
		"  --bs N            block size (default 4096 for malloc/null, the device's for files)\n"
		"  -q N              queue depth per xstream (1..4096, default 32)\n"
		"  -o SIZE           I/O size, a multiple of the block size (default 4k)\n"
		"  -w WORKLOAD       read | write | randread | randwrite | randrw (default randread)\n"
		"  -t SECONDS        run time (1..3600, default 5)\n"
		"  -x N              target xstreams, one job each (1..64, default 1)\n"
		"  --pin             pin xstreams to cores\n"
		"  -j, --json        print only the JSON result line\n"
		"  -h, --help        this text\n");
}

static int
parse_args(int argc, char **argv, struct perf_opts *o)
{
	static const struct option lopts[] = {
		{ "bdev", required_argument, NULL, 'b' }, { "size", required_argument, NULL, 's' },
		{ "bs", required_argument, NULL, 'B' },   { "json", no_argument, NULL, 'j' },
		{ "pin", no_argument, NULL, 'p' },        { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[256];
	uint64_t v;
	int c, rc = 0;

	*o = (struct perf_opts){ .qd = 32, .io_size = 4096, .wl = W_RANDREAD, .seconds = 5,
				 .xstreams = 1 };
	while ((c = getopt_long(argc, argv, "q:o:w:t:x:hj", lopts, NULL)) != -1) {
		err[0] = '\0';
		switch (c) {
		case 'b':
			o->bdev_spec = optarg;
			break;
		case 's':
			rc = cairn_parse_size(optarg, &o->file_size, err, sizeof(err));
			break;
		case 'B':
			rc = cairn_parse_u32(optarg, 512, 65536, &o->block_size, err, sizeof(err));
			break;
		case 'q':
			rc = cairn_parse_u32(optarg, 1, 4096, &o->qd, err, sizeof(err));
			break;
		case 'o':
			rc = cairn_parse_size(optarg, &o->io_size, err, sizeof(err));
			break;
		case 't':
			rc = cairn_parse_u64(optarg, 1, 3600, &o->seconds, err, sizeof(err));
			break;
		case 'x':
			rc = cairn_parse_u64(optarg, 1, 64, &v, err, sizeof(err));
			o->xstreams = (unsigned)v;
			break;
		case 'w':
			rc = -CAIRN_ERR_INVAL;
			for (unsigned i = 0; i < sizeof(g_wl_names) / sizeof(g_wl_names[0]); i++) {
				if (strcmp(optarg, g_wl_names[i]) == 0) {
					o->wl = (enum workload)i;
					rc = 0;
				}
			}
			if (rc != 0)
				snprintf(err, sizeof(err), "unknown workload '%s'", optarg);
			break;
		case 'j':
			o->json_only = true;
			break;
		case 'p':
			o->pin = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -CAIRN_ERR_INVAL;
		}
		if (rc != 0) {
			fprintf(stderr, "cairn-bdev-perf: -%c %s: %s\n", c < 128 ? c : '-', optarg,
				err[0] ? err : cairn_strerror(rc));
			return rc;
		}
	}
	if (o->bdev_spec == NULL || optind != argc) {
		if (optind != argc)
			fprintf(stderr, "cairn-bdev-perf: unexpected argument '%s'\n", argv[optind]);
		else
			fprintf(stderr, "cairn-bdev-perf: --bdev SPEC is required "
					"(e.g. --bdev malloc:256M)\n");
		usage(stderr);
		return -CAIRN_ERR_INVAL;
	}
	if (o->io_size == 0 || o->io_size > (64u << 20)) {
		fprintf(stderr, "cairn-bdev-perf: -o must be in 1..64M\n");
		return -CAIRN_ERR_INVAL;
	}
	return 0;
}

static int
create_bdev(const struct perf_opts *o, struct cairn_bdev **out)
{
	const char *colon = strchr(o->bdev_spec, ':');
	const char *arg = colon ? colon + 1 : "";
	size_t tlen = colon ? (size_t)(colon - o->bdev_spec) : strlen(o->bdev_spec);
	uint32_t bs = o->block_size ? o->block_size : 4096;
	char err[256];
	uint64_t size;
	int rc;

	if ((tlen == 6 && strncmp(o->bdev_spec, "malloc", 6) == 0) ||
	    (tlen == 4 && strncmp(o->bdev_spec, "null", 4) == 0)) {
		rc = cairn_parse_size(arg, &size, err, sizeof(err));
		if (rc != 0 || size < bs) {
			fprintf(stderr, "cairn-bdev-perf: bad size in --bdev %s: %s\n",
				o->bdev_spec, rc ? err : "smaller than one block");
			return -CAIRN_ERR_INVAL;
		}
		if (tlen == 6)
			return cairn_bdev_malloc_create("Perf0", size / bs, bs, NULL, out);
		return cairn_bdev_null_create("Perf0", size / bs, bs, NULL, out);
	}
	if ((tlen == 5 && strncmp(o->bdev_spec, "uring", 5) == 0) ||
	    (tlen == 3 && strncmp(o->bdev_spec, "aio", 3) == 0)) {
		if (o->file_size != 0) {
			int fd = open(arg, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
			struct stat sb;

			if (fd < 0 || fstat(fd, &sb) != 0) {
				fprintf(stderr, "cairn-bdev-perf: %s: %s\n", arg, strerror(errno));
				if (fd >= 0)
					close(fd);
				return -errno;
			}
			if ((uint64_t)sb.st_size < o->file_size &&
			    (fallocate(fd, 0, 0, (off_t)o->file_size) != 0 &&
			     ftruncate(fd, (off_t)o->file_size) != 0)) {
				fprintf(stderr, "cairn-bdev-perf: cannot size %s: %s\n", arg,
					strerror(errno));
				close(fd);
				return -CAIRN_ERR_INVAL;
			}
			close(fd);
		}
		if (tlen == 5)
			return cairn_bdev_uring_create("Perf0", arg, o->block_size, NULL, out);
		return cairn_bdev_aio_create("Perf0", arg, o->block_size, NULL, out);
	}
	fprintf(stderr, "cairn-bdev-perf: unknown bdev type in '%s' (malloc, null, uring, aio)\n",
		o->bdev_spec);
	return -CAIRN_ERR_INVAL;
}

static void
ignore_event(enum cairn_bdev_event_type type, struct cairn_bdev *bdev, void *ctx)
{
}

int
main(int argc, char **argv)
{
	struct perf_opts o;
	struct cairn_rt_opts ro;
	struct cairn_bdev *bdev;
	struct cairn_bdev_desc *desc;
	struct cairn_ult_attr attr = { .prio = CAIRN_PRIO_IO, .joinable = true };
	struct job *jobs = NULL;
	uint64_t ops = 0, errors = 0, lat_sum = 0, lat_min = UINT64_MAX, lat_max = 0;
	uint64_t t0, t1, nb;
	double secs, iops, mibs;
	json_t *res;
	char *js;
	int rc, ret = 1;
	unsigned i;

	cairn_log_init();
	if (parse_args(argc, argv, &o) != 0)
		return 2;
	cairn_rt_opts_default(&ro);
	ro.nr_system = 0;
	ro.nr_main = o.xstreams;
	ro.pin = o.pin;
	rc = cairn_rt_init(&ro);
	if (rc != 0) {
		fprintf(stderr, "cairn-bdev-perf: runtime: %s\n", cairn_strerror(rc));
		return 1;
	}
	rc = cairn_bdev_init();
	if (rc != 0)
		goto out_rt;
	rc = create_bdev(&o, &bdev);
	if (rc != 0) {
		fprintf(stderr, "cairn-bdev-perf: cannot create bdev %s: %s\n", o.bdev_spec,
			cairn_strerror(rc));
		goto out_bdev;
	}
	if (o.io_size % cairn_bdev_block_size(bdev) != 0) {
		fprintf(stderr, "cairn-bdev-perf: -o %" PRIu64 " is not a multiple of the block "
			"size %u\n", o.io_size, cairn_bdev_block_size(bdev));
		goto out_bdev;
	}
	nb = cairn_bdev_num_blocks(bdev);
	if (nb < o.io_size / cairn_bdev_block_size(bdev)) {
		fprintf(stderr, "cairn-bdev-perf: the bdev is smaller than one I/O\n");
		goto out_bdev;
	}
	rc = cairn_bdev_open("Perf0", true, ignore_event, NULL, &desc);
	if (rc != 0)
		goto out_bdev;
	jobs = calloc(o.xstreams, sizeof(*jobs));
	if (jobs == NULL)
		goto out_close;
	for (i = 0; i < o.xstreams; i++) {
		jobs[i].o = &o;
		jobs[i].desc = desc;
		jobs[i].io_blocks = o.io_size / cairn_bdev_block_size(bdev);
		jobs[i].span = nb / jobs[i].io_blocks;
		jobs[i].seq_next = i * (jobs[i].span / o.xstreams);
		jobs[i].rng = 0x1234567ull + i;
	}
	t0 = now_ns();
	for (i = 0; i < o.xstreams; i++) {
		rc = cairn_ult_create(cairn_xs_by_role(CAIRN_XS_MAIN, i), job_run, &jobs[i], &attr,
				      &jobs[i].ult);
		if (rc != 0) {
			fprintf(stderr, "cairn-bdev-perf: cannot start job %u: %s\n", i,
				cairn_strerror(rc));
			o.xstreams = i;
			break;
		}
	}
	for (i = 0; i < o.xstreams; i++) {
		cairn_ult_join(jobs[i].ult);
		if (jobs[i].rc != 0)
			fprintf(stderr, "cairn-bdev-perf: job %u: %s\n", i, cairn_strerror(jobs[i].rc));
		ops += jobs[i].ops;
		errors += jobs[i].errors;
		lat_sum += jobs[i].lat_sum;
		if (jobs[i].ops && jobs[i].lat_min < lat_min)
			lat_min = jobs[i].lat_min;
		if (jobs[i].lat_max > lat_max)
			lat_max = jobs[i].lat_max;
	}
	t1 = now_ns();
	if (ops == 0 || rc != 0)
		goto out_free;
	secs = (double)(t1 - t0) / 1e9;
	iops = (double)ops / secs;
	mibs = iops * (double)o.io_size / (1024.0 * 1024.0);
	if (!o.json_only) {
		printf("%-8s %-10s %5s %8s %4s %7s %12s %10s %10s %10s %10s %7s\n", "module",
		       "workload", "qd", "io_size", "xs", "seconds", "IOPS", "MiB/s", "avg_us",
		       "min_us", "max_us", "errors");
		printf("%-8s %-10s %5u %8" PRIu64 " %4u %7.2f %12.0f %10.1f %10.2f %10.2f %10.2f "
		       "%7" PRIu64 "\n", cairn_bdev_module_name(bdev), g_wl_names[o.wl], o.qd,
		       o.io_size, o.xstreams, secs, iops, mibs,
		       (double)lat_sum / (double)ops / 1000.0, (double)lat_min / 1000.0,
		       (double)lat_max / 1000.0, errors);
	}
	res = json_pack("{s:s, s:s, s:i, s:I, s:i, s:f, s:I, s:f, s:f, s:f, s:f, s:f, s:I}",
			"module", cairn_bdev_module_name(bdev), "workload", g_wl_names[o.wl],
			"qd", (int)o.qd, "io_size", (json_int_t)o.io_size, "xstreams",
			(int)o.xstreams, "seconds", secs, "ops", (json_int_t)ops, "iops", iops,
			"mib_s", mibs, "lat_avg_us", (double)lat_sum / (double)ops / 1000.0,
			"lat_min_us", (double)lat_min / 1000.0, "lat_max_us",
			(double)lat_max / 1000.0, "errors", (json_int_t)errors);
	js = res ? json_dumps(res, JSON_COMPACT) : NULL;
	if (js != NULL) {
		printf("%s\n", js);
		free(js);
		ret = errors ? 1 : 0;
	}
	json_decref(res);
out_free:
	free(jobs);
out_close:
	cairn_bdev_close(desc);
out_bdev:
	cairn_bdev_fini();
out_rt:
	cairn_rt_fini();
	return ret;
}
