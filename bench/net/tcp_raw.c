/*
 * cairn-tcp-raw: the best raw TCP can do on loopback, as the baseline for bench/net.sh.
 * Two threads pinned to different cores, non-blocking sockets, busy polling (no wake-ups).
 *
 *   cairn-tcp-raw pingpong [--size 64] [--iters 100000] [--cpus 0,1]
 *   cairn-tcp-raw stream [--chunk 1m] [--bytes 2g] [--cpus 0,1] [--buffers 1]
 *
 * --buffers N (stream): both sides cycle through N chunk-sized buffers instead of reusing
 * one (one 1 MiB buffer stays in the CPU caches; a store's client and engine move N
 * distinct values in flight, so this is the like-for-like data footprint).
 *
 * Prints one JSON line: pingpong -> rtt_us (mean) and p50_us/p99_us; stream -> gbps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct cfg {
	int stream;
	size_t size;
	uint64_t nbufs;
	uint64_t iters;
	uint64_t bytes;
	int cpu[2];
	int lfd;
	uint16_t port;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		fprintf(stderr, "cairn-tcp-raw: cannot pin to cpu %d\n", cpu);
}

static void
tune(int fd)
{
	int one = 1, sz = 4 << 20;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

/* Busy-poll until len bytes moved. */
static int
xfer(int fd, uint8_t *buf, size_t len, int wr)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = wr ? send(fd, buf + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL)
		               : recv(fd, buf + done, len - done, MSG_DONTWAIT);

		if (n > 0)
			done += (size_t)n;
		else if (n == 0)
			return -1;
		else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -1;
	}
	return 0;
}

static void *
server(void *arg)
{
	struct cfg *c = arg;
	uint8_t *buf = malloc(c->stream ? c->size * c->nbufs : c->size + 1);
	int fd;
	uint64_t i, got = 0, k = 0;
	size_t off = 0;

	pin(c->cpu[1]);
	fd = accept(c->lfd, NULL, NULL);
	if (fd < 0 || buf == NULL)
		return NULL;
	tune(fd);
	if (c->stream) {
		while (got < c->bytes) {
			ssize_t n = recv(fd, buf + k * c->size + off, c->size - off, MSG_DONTWAIT);

			if (n > 0) {
				got += (uint64_t)n;
				off += (size_t)n;
				if (off == c->size) {
					off = 0;
					k = (k + 1) % c->nbufs;
				}
			}
			else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				break;
		}
		if (got < c->bytes)
			fprintf(stderr, "cairn-tcp-raw: reader stopped after %lu bytes\n",
			        (unsigned long)got);
		buf[0] = 1;
		xfer(fd, buf, 1, 1); /* done marker */
	} else {
		for (i = 0; i < c->iters; i++) {
			if (xfer(fd, buf, c->size, 0) || xfer(fd, buf, c->size, 1))
				break;
		}
	}
	close(fd);
	free(buf);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end == 'k')
		*v <<= 10, end++;
	else if (*end == 'm')
		*v <<= 20, end++;
	else if (*end == 'g')
		*v <<= 30, end++;
	return *end ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct cfg c = {.size = 64, .nbufs = 1, .iters = 100000, .bytes = 2ull << 30,
	                .cpu = {0, 1}};
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	pthread_t th;
	uint8_t *buf;
	uint64_t *lat = NULL, t0, t1, v;
	int fd, i, one = 1;

	if (argc < 2 || (strcmp(argv[1], "pingpong") && strcmp(argv[1], "stream"))) {
		fprintf(stderr, "usage: cairn-tcp-raw pingpong|stream [--size N] [--chunk N] "
		                "[--iters N] [--bytes N] [--cpus A,B] [--buffers N]\n");
		return 2;
	}
	c.stream = strcmp(argv[1], "stream") == 0;
	if (c.stream)
		c.size = 1 << 20;
	for (i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--size") == 0 || strcmp(argv[i], "--chunk") == 0) {
			if (parse_u64(argv[i + 1], &v) || v == 0 || v > (64u << 20))
				goto bad;
			c.size = v;
		} else if (strcmp(argv[i], "--iters") == 0) {
			if (parse_u64(argv[i + 1], &c.iters) || c.iters == 0 || c.iters > 100000000)
				goto bad;
		} else if (strcmp(argv[i], "--bytes") == 0) {
			if (parse_u64(argv[i + 1], &c.bytes) || c.bytes == 0)
				goto bad;
		} else if (strcmp(argv[i], "--buffers") == 0) {
			if (parse_u64(argv[i + 1], &c.nbufs) || c.nbufs == 0 || c.nbufs > 64)
				goto bad;
		} else if (strcmp(argv[i], "--cpus") == 0) {
			if (sscanf(argv[i + 1], "%d,%d", &c.cpu[0], &c.cpu[1]) != 2)
				goto bad;
		} else {
			goto bad;
		}
	}
	if (i != argc)
		goto bad;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c.lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(c.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(c.lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(c.lfd, 1) ||
	    getsockname(c.lfd, (struct sockaddr *)&sa, &sl)) {
		perror("cairn-tcp-raw: listen");
		return 1;
	}
	pthread_create(&th, NULL, server, &c);
	pin(c.cpu[0]);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	tune(fd);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("cairn-tcp-raw: connect");
		return 1;
	}
	buf = calloc(1, c.stream ? c.size * c.nbufs : c.size + 1);
	if (!c.stream) {
		lat = calloc(c.iters, sizeof(*lat));
		/* warm-up */
		t0 = now_ns();
		for (v = 0; v < c.iters; v++) {
			uint64_t t = now_ns();

			if (xfer(fd, buf, c.size, 1) || xfer(fd, buf, c.size, 0)) {
				fprintf(stderr, "cairn-tcp-raw: connection lost\n");
				return 1;
			}
			lat[v] = now_ns() - t;
		}
		t1 = now_ns();
		qsort(lat, c.iters, sizeof(*lat), cmp_u64);
		printf("{\"mode\":\"pingpong\",\"size\":%zu,\"iters\":%lu,\"rtt_us\":%.3f,"
		       "\"p50_us\":%.3f,\"p99_us\":%.3f}\n",
		       c.size, (unsigned long)c.iters, (double)(t1 - t0) / c.iters / 1000.0,
		       lat[c.iters / 2] / 1000.0, lat[c.iters * 99 / 100] / 1000.0);
	} else {
		uint64_t sent = 0, k = 0;

		if (c.size * c.nbufs > (256u << 20)) {
			fprintf(stderr, "cairn-tcp-raw: --chunk x --buffers above 256 MiB\n");
			return 2;
		}
		t0 = now_ns();
		while (sent < c.bytes) {
			size_t n = c.bytes - sent < c.size ? (size_t)(c.bytes - sent) : c.size;

			if (xfer(fd, buf + k * c.size, n, 1)) {
				fprintf(stderr, "cairn-tcp-raw: connection lost\n");
				return 1;
			}
			sent += n;
			k = (k + 1) % c.nbufs;
		}
		xfer(fd, buf, 1, 0); /* wait until the reader has everything */
		t1 = now_ns();
		printf("{\"mode\":\"stream\",\"chunk\":%zu,\"buffers\":%lu,\"bytes\":%lu,"
		       "\"gbps\":%.3f}\n", c.size, (unsigned long)c.nbufs, (unsigned long)c.bytes,
		       (double)c.bytes * 8 / ((double)(t1 - t0)));
	}
	pthread_join(th, NULL);
	close(fd);
	close(c.lfd);
	free(buf);
	free(lat);
	return 0;
bad:
	fprintf(stderr, "cairn-tcp-raw: bad arguments\n");
	return 2;
}
