/*
 * Helpers for the net unit tests (see net_test_util.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn/errno.h"
#include "net_test_util.h"
#include "test_proto.h"

void
tu_done_cb(void *arg, int rc)
{
	struct tu_done *d = arg;

	d->calls++;
	d->rc = rc;
}

uint64_t
tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool
tu_pump(struct cairn_net_ctx **ctx, unsigned n, const volatile int *calls, int want,
        uint64_t max_ms)
{
	uint64_t end = tu_now_ms() + max_ms;
	unsigned i;

	while (*calls < want) {
		int work = 0;

		if (tu_now_ms() > end)
			return false;
		for (i = 0; i < n; i++)
			work += cairn_net_progress(ctx[i]);
		if (!work)
			usleep(50);
	}
	return true;
}

bool
tu_pump_until_u(struct cairn_net_ctx **ctx, unsigned n, const volatile unsigned *v, unsigned want,
                uint64_t max_ms)
{
	uint64_t end = tu_now_ms() + max_ms;
	unsigned i;

	while (*v < want) {
		int work = 0;

		if (tu_now_ms() > end)
			return false;
		for (i = 0; i < n; i++)
			work += cairn_net_progress(ctx[i]);
		if (!work)
			usleep(50);
	}
	return true;
}

void
tu_pump_ms(struct cairn_net_ctx **ctx, unsigned n, uint64_t ms)
{
	static const int never = 0;

	tu_pump(ctx, n, &never, 1, ms);
}

struct cairn_net_ctx *
tu_server(struct cairn_net_group *grp, uint32_t rank, unsigned max_conns)
{
	struct cairn_net_ctx_opts o;
	struct cairn_net_ctx *ctx = NULL;

	cairn_net_ctx_opts_default(&o);
	o.group = grp;
	o.rank = rank;
	o.listen_uri = "tcp://127.0.0.1:0";
	if (max_conns)
		o.max_conns = max_conns;
	o.max_msg = 256 * 1024;
	if (cairn_net_ctx_create(&o, &ctx) != 0)
		return NULL;
	return ctx;
}

struct cairn_net_ctx *
tu_client(struct cairn_net_group *grp, uint32_t credits, uint64_t timeout_us)
{
	struct cairn_net_ctx_opts o;
	struct cairn_net_ctx *ctx = NULL;

	cairn_net_ctx_opts_default(&o);
	o.group = grp;
	if (credits)
		o.credits = credits;
	if (timeout_us)
		o.timeout_us = timeout_us;
	o.backoff_min_us = 1000;
	o.backoff_max_us = 20000;
	if (cairn_net_ctx_create(&o, &ctx) != 0)
		return NULL;
	return ctx;
}

void
tu_free_ports(uint16_t *ports, unsigned n)
{
	int fds[64];
	unsigned i;

	for (i = 0; i < n && i < 64; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		socklen_t sl = sizeof(sa);

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		bind(fds[i], (struct sockaddr *)&sa, sizeof(sa));
		getsockname(fds[i], (struct sockaddr *)&sa, &sl);
		ports[i] = ntohs(sa.sin_port);
	}
	for (i = 0; i < n && i < 64; i++)
		close(fds[i]);
}

static void
child_serve(const uint16_t *all_ports, unsigned ntotal, uint32_t first, unsigned count,
            uint16_t fixed_port, int wfd, int rfd)
{
	struct cairn_net_group *grp;
	struct cairn_net_ctx *ctx[16];
	char uri[64];
	uint64_t end = tu_now_ms() + 30000;
	unsigned i;
	uint16_t port;

	if (tp_register() != 0 || cairn_net_group_create("child", &grp) != 0)
		_exit(2);
	for (i = 0; i < ntotal && all_ports; i++) {
		snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%u", all_ports[i]);
		cairn_net_group_rank_set(grp, i, uri);
	}
	for (i = 0; i < count && i < 16; i++) {
		struct cairn_net_ctx_opts o;

		cairn_net_ctx_opts_default(&o);
		o.group = grp;
		o.rank = first + i;
		if (all_ports == NULL) {
			snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%u", fixed_port);
			o.listen_uri = uri;
		}
		if (cairn_net_ctx_create(&o, &ctx[i]) != 0)
			_exit(3);
	}
	port = cairn_net_ctx_port(ctx[0]);
	if (write(wfd, &port, sizeof(port)) != sizeof(port))
		_exit(4);
	while (tu_now_ms() < end) {
		char c;
		int work = 0;

		for (i = 0; i < count; i++)
			work += cairn_net_progress(ctx[i]);
		if (read(rfd, &c, 1) == 0)
			break;
		if (!work)
			usleep(20);
	}
	_exit(0);
}

pid_t
tu_fork_server(const uint16_t *all_ports, unsigned ntotal, uint32_t first, unsigned count,
               uint16_t fixed_port, uint16_t *port_out, int *ctl_fd)
{
	int up[2], ctl[2];
	pid_t pid;
	uint16_t port = 0;

	if (pipe(up) != 0 || pipe2(ctl, O_NONBLOCK) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(up[0]);
		close(ctl[1]);
		child_serve(all_ports, ntotal, first, count, fixed_port, up[1], ctl[0]);
	}
	close(up[1]);
	close(ctl[0]);
	if (read(up[0], &port, sizeof(port)) != sizeof(port)) {
		close(up[0]);
		close(ctl[1]);
		waitpid(pid, NULL, 0);
		return -1;
	}
	close(up[0]);
	*port_out = port;
	*ctl_fd = ctl[1];
	return pid;
}

void
tu_kill(pid_t pid, int ctl_fd)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(ctl_fd);
}
