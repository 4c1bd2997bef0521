/*
 * cairn-iscsi-perf: iSCSI load generator on libiscsi's asynchronous API. Random or
 * sequential reads or writes, block size, queue depth, duration; reports IOPS, MB/s and
 * latency percentiles (log-linear histogram, ~1.5% resolution), optionally as JSON.
 * (libiscsi's iscsi-perf only reads; this tool exists for the write side of
 * bench/iscsi.sh and to drive both targets identically.)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define HIST_SUB_BITS 6
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_BUCKETS  (64 * HIST_SUB)
#define MAX_QD        1024

struct perf {
	struct iscsi_context *iscsi;
	int lun;
	uint32_t block_len;
	uint64_t num_blocks;      /* LUN capacity in blocks */
	uint32_t io_blocks;
	uint32_t io_bytes;
	bool write;
	bool random;
	bool verify;              /* write a pattern over the region, then read and check */
	int phase;                /* verify: 0 writing, 1 reading */
	uint64_t region_ios;      /* verify: I/Os covering the region */
	uint64_t next_io;
	uint64_t mismatches;
	unsigned qd;
	double duration_s;
	uint64_t seed;
	uint64_t rng;
	uint64_t next_lba;        /* sequential cursor */
	unsigned char *wbuf;
	uint64_t start_ns;
	uint64_t stop_ns;
	bool stopping;
	unsigned inflight;
	uint64_t ios;
	uint64_t errors;
	uint64_t lat_sum_ns;
	uint64_t lat_max_ns;
	uint64_t hist[HIST_BUCKETS];
	char first_error[256];
};

struct io_ctx {
	struct perf *p;
	uint64_t submit_ns;
	uint64_t lba;
	unsigned char *buf;       /* verify writes: this I/O's pattern */
};

/* Verify pattern: every 8-byte word holds its byte address on the LUN mixed with the
 * seed, so misplaced, stale and torn data all show. */
static void
pattern_fill(unsigned char *buf, size_t len, uint64_t byte_off, uint64_t seed)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t v = (byte_off + i) ^ (seed * 0x9E3779B97F4A7C15ull);

		memcpy(buf + i, &v, 8);
	}
}

static bool
pattern_check(const unsigned char *buf, size_t len, uint64_t byte_off, uint64_t seed,
	      uint64_t *bad_off)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t v = (byte_off + i) ^ (seed * 0x9E3779B97F4A7C15ull), got;

		memcpy(&got, buf + i, 8);
		if (got != v) {
			*bad_off = byte_off + i;
			return false;
		}
	}
	return true;
}

static volatile sig_atomic_t g_interrupted;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Log-linear bucket: exact below 64 ns, then 64 sub-buckets per power of two. */
static unsigned
hist_idx(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	return (e - HIST_SUB_BITS + 1) * HIST_SUB + (unsigned)((v >> (e - HIST_SUB_BITS)) &
							   (HIST_SUB - 1));
}

/* Midpoint value of a bucket. */
static double
hist_val(unsigned idx)
{
	unsigned grp = idx / HIST_SUB, sub = idx % HIST_SUB, e;
	double lo, w;

	if (grp == 0)
		return idx;
	e = grp + HIST_SUB_BITS - 1;
	w = ldexp(1.0, (int)(e - HIST_SUB_BITS));
	lo = ldexp(1.0, (int)e) + sub * w;
	return lo + w / 2;
}

static double
hist_pct(const struct perf *p, double pct)
{
	uint64_t target = (uint64_t)ceil(pct / 100.0 * (double)p->ios), seen = 0;
	unsigned i;

	if (p->ios == 0)
		return 0;
	if (target == 0)
		target = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += p->hist[i];
		if (seen >= target)
			return hist_val(i);
	}
	return (double)p->lat_max_ns;
}

static int submit_one(struct perf *p);

static void
io_done(struct iscsi_context *iscsi, int status, void *command_data, void *private_data)
{
	struct io_ctx *io = private_data;
	struct scsi_task *task = command_data;
	struct perf *p = io->p;
	uint64_t lat = now_ns() - io->submit_ns;

	p->inflight--;
	if (status == SCSI_STATUS_GOOD && p->verify && p->phase == 1) {
		uint64_t bad = 0;

		if (task == NULL || task->datain.size != (int)p->io_bytes ||
		    !pattern_check(task->datain.data, p->io_bytes, io->lba * p->block_len, p->seed,
				   &bad)) {
			p->mismatches++;
			if (p->first_error[0] == '\0')
				snprintf(p->first_error, sizeof(p->first_error),
					 "data mismatch at byte %" PRIu64 " (I/O at LBA %" PRIu64
					 ", %d bytes returned)", bad, io->lba,
					 task ? task->datain.size : -1);
		}
	}
	if (status != SCSI_STATUS_GOOD) {
		p->errors++;
		if (p->first_error[0] == '\0') {
			if (status == SCSI_STATUS_CHECK_CONDITION && task)
				snprintf(p->first_error, sizeof(p->first_error),
					 "CHECK CONDITION: sense key 0x%x (%s), ASC/ASCQ 0x%04x (%s)",
					 (unsigned)task->sense.key,
					 scsi_sense_key_str(task->sense.key) ?: "?", task->sense.ascq,
					 scsi_sense_ascq_str(task->sense.ascq) ?: "?");
			else
				snprintf(p->first_error, sizeof(p->first_error), "status 0x%x: %s",
					 status, iscsi_get_error(iscsi));
		}
	} else {
		p->ios++;
		p->lat_sum_ns += lat;
		if (lat > p->lat_max_ns)
			p->lat_max_ns = lat;
		p->hist[hist_idx(lat)]++;
	}
	if (task)
		scsi_free_scsi_task(task);
	free(io->buf);
	free(io);
	if (p->verify) {
		if (p->next_io < p->region_ios) {
			submit_one(p);
		} else if (p->inflight == 0 && p->phase == 0 && p->errors == 0) {
			unsigned i;

			p->phase = 1; /* every write acknowledged: read it all back */
			p->next_io = 0;
			for (i = 0; i < p->qd && p->next_io < p->region_ios; i++)
				submit_one(p);
		}
		return;
	}
	if (!p->stopping && now_ns() < p->stop_ns && !g_interrupted)
		submit_one(p);
}

static int
submit_one(struct perf *p)
{
	uint64_t span = p->num_blocks / p->io_blocks, lba;
	struct scsi_task *task;
	struct io_ctx *io;

	if (p->verify) {
		lba = p->next_io++ * p->io_blocks;
	} else if (p->random) {
		lba = (xorshift(&p->rng) % span) * p->io_blocks;
	} else {
		lba = p->next_lba;
		p->next_lba += p->io_blocks;
		if (p->next_lba + p->io_blocks > p->num_blocks)
			p->next_lba = 0;
	}
	io = malloc(sizeof(*io));
	if (io == NULL)
		return -ENOMEM;
	io->p = p;
	io->lba = lba;
	io->buf = NULL;
	if (p->verify && p->phase == 0) {
		io->buf = malloc(p->io_bytes);
		if (io->buf == NULL) {
			free(io);
			return -ENOMEM;
		}
		pattern_fill(io->buf, p->io_bytes, lba * p->block_len, p->seed);
	}
	io->submit_ns = now_ns();
	if (p->verify && p->phase == 0)
		task = iscsi_write16_task(p->iscsi, p->lun, lba, io->buf, p->io_bytes,
					  (int)p->block_len, 0, 0, 0, 0, 0, io_done, io);
	else if (p->verify)
		task = iscsi_read16_task(p->iscsi, p->lun, lba, p->io_bytes, (int)p->block_len,
					 0, 0, 0, 0, 0, io_done, io);
	else if (p->write)
		task = iscsi_write16_task(p->iscsi, p->lun, lba, p->wbuf, p->io_bytes,
					  (int)p->block_len, 0, 0, 0, 0, 0, io_done, io);
	else
		task = iscsi_read16_task(p->iscsi, p->lun, lba, p->io_bytes, (int)p->block_len,
					 0, 0, 0, 0, 0, io_done, io);
	if (task == NULL) {
		fprintf(stderr, "cairn-iscsi-perf: cannot queue a command: %s\n",
			iscsi_get_error(p->iscsi));
		free(io->buf);
		free(io);
		return -EIO;
	}
	p->inflight++;
	return 0;
}

static void
on_sigint(int sig)
{
	(void)sig;
	g_interrupted = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: cairn-iscsi-perf [options] iscsi://[user%%pass@]HOST[:PORT]/TARGET-IQN/LUN\n"
		"iSCSI load generator (libiscsi async API).\n\n"
		"  -w, --rw MODE           randread (default), randwrite, read, write, or verify:\n"
		"                          write a pattern over the first --verify-mb MiB, read\n"
		"                          it back and compare (ignores --time); verify-read:\n"
		"                          only read and compare (data of an earlier verify)\n"
		"      --verify-mb N       region for verify (default 16, capped at the LUN)\n"
		"  -b, --block-size BYTES  I/O size (default 4096; multiple of the LUN block)\n"
		"  -q, --queue-depth N     commands in flight (default 32, max %d)\n"
		"  -t, --time SECONDS      duration (default 10)\n"
		"  -i, --initiator-name IQN  (default iqn.2016-06.io.cairn:iscsi-perf)\n"
		"  -H, --header-digest     require CRC32C header digests\n"
		"  -s, --seed N            random seed (default 1)\n"
		"  -j, --json              also print the results as one JSON line (last line)\n"
		"  -h, --help              this help\n\n"
		"CHAP: user%%password in the URL (libiscsi also reads LIBISCSI_CHAP_USERNAME,\n"
		"LIBISCSI_CHAP_PASSWORD, LIBISCSI_CHAP_TARGET_USERNAME/PASSWORD for mutual).\n",
		MAX_QD);
}

static int
parse_uint(const char *s, const char *what, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || *out == 0 || *out > max) {
		fprintf(stderr, "cairn-iscsi-perf: bad %s '%s' (1..%llu)\n", what, s, max);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "rw", required_argument, NULL, 'w' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "queue-depth", required_argument, NULL, 'q' },
		{ "time", required_argument, NULL, 't' },
		{ "initiator-name", required_argument, NULL, 'i' },
		{ "header-digest", no_argument, NULL, 'H' },
		{ "seed", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "verify-mb", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *initiator = "iqn.2016-06.io.cairn:iscsi-perf", *mode = "randread";
	unsigned long long bs = 4096, qd = 32, v, verify_mb = 16;
	struct scsi_readcapacity16 *rc16;
	struct scsi_task *task;
	struct iscsi_url *url;
	struct perf *p;
	bool json = false, hdigest = false;
	double secs, elapsed, iops, mbs;
	char *end;
	int c, ret = 1;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return 1;
	p->duration_s = 10;
	p->seed = 1;
	while ((c = getopt_long(argc, argv, "w:b:q:t:i:Hs:jh", lopts, NULL)) != -1) {
		switch (c) {
		case 'w':
			mode = optarg;
			break;
		case 'b':
			if (parse_uint(optarg, "block size", 16u << 20, &bs))
				goto out_free;
			break;
		case 'q':
			if (parse_uint(optarg, "queue depth", MAX_QD, &qd))
				goto out_free;
			break;
		case 't':
			errno = 0;
			secs = strtod(optarg, &end);
			if (errno || *end || !(secs > 0 && secs <= 86400)) {
				fprintf(stderr, "cairn-iscsi-perf: bad time '%s' (seconds)\n",
					optarg);
				goto out_free;
			}
			p->duration_s = secs;
			break;
		case 'i':
			initiator = optarg;
			break;
		case 'H':
			hdigest = true;
			break;
		case 's':
			if (parse_uint(optarg, "seed", UINT64_MAX, &v))
				goto out_free;
			p->seed = v;
			break;
		case 'j':
			json = true;
			break;
		case 'V':
			if (parse_uint(optarg, "verify size", 1u << 20, &verify_mb))
				goto out_free;
			break;
		case 'h':
			usage(stdout);
			free(p);
			return 0;
		default:
			usage(stderr);
			goto out_free;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		goto out_free;
	}
	if (!strcmp(mode, "randread")) {
		p->random = true;
	} else if (!strcmp(mode, "randwrite")) {
		p->random = p->write = true;
	} else if (!strcmp(mode, "write")) {
		p->write = true;
	} else if (!strcmp(mode, "verify")) {
		p->verify = true;
	} else if (!strcmp(mode, "verify-read")) {
		p->verify = true; /* only check what an earlier `verify` (same seed) wrote */
		p->phase = 1;
	} else if (strcmp(mode, "read")) {
		fprintf(stderr, "cairn-iscsi-perf: bad --rw '%s' (randread, randwrite, read, "
				"write, verify, verify-read)\n", mode);
		goto out_free;
	}
	p->qd = (unsigned)qd;
	p->rng = p->seed * 0x9E3779B97F4A7C15ull | 1;

	p->iscsi = iscsi_create_context(initiator);
	if (p->iscsi == NULL) {
		fprintf(stderr, "cairn-iscsi-perf: cannot create an iSCSI context\n");
		goto out_free;
	}
	url = iscsi_parse_full_url(p->iscsi, argv[optind]);
	if (url == NULL) {
		fprintf(stderr, "cairn-iscsi-perf: bad URL '%s': %s\n", argv[optind],
			iscsi_get_error(p->iscsi));
		goto out_ctx;
	}
	iscsi_set_session_type(p->iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(p->iscsi, hdigest ? ISCSI_HEADER_DIGEST_CRC32C :
				ISCSI_HEADER_DIGEST_NONE_CRC32C);
	iscsi_set_targetname(p->iscsi, url->target);
	if (url->user[0])
		iscsi_set_initiator_username_pwd(p->iscsi, url->user, url->passwd);
	if (url->target_user[0])
		iscsi_set_target_username_pwd(p->iscsi, url->target_user, url->target_passwd);
	p->lun = url->lun;
	if (iscsi_full_connect_sync(p->iscsi, url->portal, url->lun) != 0) {
		/* libiscsi's text is often about its reconnect logic, not the cause: say
		 * what to check */
		fprintf(stderr, "cairn-iscsi-perf: login to %s (%s, LUN %d) failed: %s\n"
				"Check that a target listens on %s (cairn-tgt: cairn-rpc "
				"iscsi_get_portal_groups), that the IQN and LUN exist "
				"(iscsi_get_target_nodes) and, with CHAP, the user%%password@ in "
				"the URL.\n", url->portal, url->target, url->lun,
			iscsi_get_error(p->iscsi), url->portal);
		iscsi_destroy_url(url);
		goto out_ctx;
	}
	iscsi_destroy_url(url);

	task = iscsi_readcapacity16_sync(p->iscsi, p->lun);
	if (task == NULL || task->status != SCSI_STATUS_GOOD ||
	    (rc16 = scsi_datain_unmarshall(task)) == NULL) {
		fprintf(stderr, "cairn-iscsi-perf: READ CAPACITY(16) failed: %s\n",
			iscsi_get_error(p->iscsi));
		if (task)
			scsi_free_scsi_task(task);
		goto out_logout;
	}
	p->block_len = rc16->block_length;
	p->num_blocks = rc16->returned_lba + 1;
	scsi_free_scsi_task(task);
	if (p->block_len == 0 || bs % p->block_len) {
		fprintf(stderr, "cairn-iscsi-perf: block size %llu is not a multiple of the LUN's "
				"%u-byte blocks\n", bs, p->block_len);
		goto out_logout;
	}
	p->io_blocks = (uint32_t)(bs / p->block_len);
	p->io_bytes = (uint32_t)bs;
	if (p->io_blocks > p->num_blocks) {
		fprintf(stderr, "cairn-iscsi-perf: I/O size larger than the LUN\n");
		goto out_logout;
	}
	if (p->verify) {
		uint64_t region = verify_mb << 20;

		if (region > p->num_blocks * p->block_len)
			region = p->num_blocks * p->block_len;
		p->region_ios = region / bs;
		if (p->region_ios == 0) {
			fprintf(stderr, "cairn-iscsi-perf: verify region smaller than one I/O\n");
			goto out_logout;
		}
	}
	if (p->write) {
		p->wbuf = malloc(bs);
		if (p->wbuf == NULL)
			goto out_logout;
		for (v = 0; v < bs; v++)
			p->wbuf[v] = (unsigned char)(v * 131 + 7);
	}

	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	p->start_ns = now_ns();
	p->stop_ns = p->start_ns + (uint64_t)(p->duration_s * 1e9);
	for (v = 0; v < p->qd && (!p->verify || p->next_io < p->region_ios); v++) {
		if (submit_one(p) != 0)
			goto out_logout;
	}
	while (p->inflight > 0) {
		struct pollfd pfd = {
			.fd = iscsi_get_fd(p->iscsi),
			.events = (short)iscsi_which_events(p->iscsi),
		};
		int n = poll(&pfd, 1, 100);

		if (n < 0 && errno != EINTR) {
			perror("cairn-iscsi-perf: poll");
			break;
		}
		if (iscsi_service(p->iscsi, n > 0 ? pfd.revents : 0) < 0) {
			fprintf(stderr, "cairn-iscsi-perf: connection failed: %s\n",
				iscsi_get_error(p->iscsi));
			break;
		}
		if (now_ns() > p->stop_ns + 30ull * 1000000000ull) {
			fprintf(stderr, "cairn-iscsi-perf: %u commands still pending 30 s after "
					"the end; giving up\n", p->inflight);
			break;
		}
	}
	elapsed = (double)(now_ns() - p->start_ns) / 1e9;
	iops = (double)p->ios / elapsed;
	mbs = iops * (double)bs / 1e6;
	printf("cairn-iscsi-perf: %s bs=%llu qd=%u time=%.2fs lun=%" PRIu64 "x%u\n", mode, bs,
	       p->qd, elapsed, p->num_blocks, p->block_len);
	printf("%12s %10s %10s %10s %10s %10s %10s %8s\n", "IOPS", "MB/s", "avg_us", "p50_us",
	       "p99_us", "p99.9_us", "max_us", "errors");
	printf("%12.0f %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f %8" PRIu64 "\n", iops, mbs,
	       p->ios ? (double)p->lat_sum_ns / (double)p->ios / 1e3 : 0.0,
	       hist_pct(p, 50) / 1e3, hist_pct(p, 99) / 1e3, hist_pct(p, 99.9) / 1e3,
	       (double)p->lat_max_ns / 1e3, p->errors);
	if (p->errors || p->mismatches)
		fprintf(stderr, "cairn-iscsi-perf: %" PRIu64 " failed command(s), %" PRIu64
			" data mismatch(es); first: %s\n", p->errors, p->mismatches,
			p->first_error);
	if (p->verify)
		printf("verify: %" PRIu64 " bytes written and read back, %s\n",
		       (uint64_t)(p->region_ios * bs), (p->mismatches || p->errors || p->phase != 1) ?
		       "FAILED" : "all data matches");
	if (json)
		printf("{\"mode\":\"%s\",\"block_size\":%llu,\"queue_depth\":%u,\"seconds\":%.3f,"
		       "\"ios\":%" PRIu64 ",\"iops\":%.1f,\"mb_per_s\":%.2f,\"lat_avg_us\":%.2f,"
		       "\"lat_p50_us\":%.2f,\"lat_p99_us\":%.2f,\"lat_p999_us\":%.2f,"
		       "\"lat_max_us\":%.2f,\"errors\":%" PRIu64 "}\n",
		       mode, bs, p->qd, elapsed, p->ios, iops, mbs,
		       p->ios ? (double)p->lat_sum_ns / (double)p->ios / 1e3 : 0.0,
		       hist_pct(p, 50) / 1e3, hist_pct(p, 99) / 1e3, hist_pct(p, 99.9) / 1e3,
		       (double)p->lat_max_ns / 1e3, p->errors);
	ret = (p->errors || p->inflight || p->mismatches ||
	       (p->verify && (p->phase != 1 || p->next_io < p->region_ios))) ? 1 : 0;

out_logout:
	if (p->inflight == 0)
		iscsi_logout_sync(p->iscsi);
out_ctx:
	iscsi_destroy_context(p->iscsi);
out_free:
	free(p->wbuf);
	free(p);
	return ret;
}
