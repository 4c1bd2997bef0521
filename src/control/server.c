/*
 * cairn-server's main loop (one thread): a signalfd for SIGTERM/SIGINT/SIGCHLD, the
 * JSON-RPC management server (Unix socket + 127.0.0.1 TCP), and a 100 ms tick that
 * drives engine supervision.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_MGMT
#include "common/log.h"
#include "jsonrpc/jsonrpc.h"

#include "control_internal.h"

#define TICK_MS 100

static int
mkdir_parent(const char *path)
{
	char dir[4096], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int
ctl_server_run(struct ctl_config *cfg)
{
	struct cairn_jsonrpc_server_opts so;
	struct cairn_jsonrpc_server *srv = NULL;
	struct signalfd_siginfo si;
	struct ctl_system sys;
	struct pollfd pfd[2];
	char tcp[32];
	sigset_t set, old;
	int rc, sfd, exit_code = 1;
	bool stop = false;
	unsigned i;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		CAIRN_ERROR("signalfd: %s", strerror(errno));
		goto out_mask;
	}
	rc = ctl_system_init(&sys, cfg);
	if (rc)
		goto out_sfd;
	for (i = 0; i < cfg->nr_engines; i++)
		mkdir_parent(cfg->engines[i].drpc_socket);
	mkdir_parent(cfg->mgmt_socket);

	rc = ctl_api_register(&sys);
	if (rc) {
		CAIRN_ERROR("cannot register the management methods: %s", cairn_strerror(rc));
		goto out_sys;
	}
	cairn_jsonrpc_server_opts_default(&so);
	so.unix_path = cfg->mgmt_socket;
	if (cfg->port) {
		snprintf(tcp, sizeof(tcp), "127.0.0.1:%u", cfg->port);
		so.tcp_addr = tcp;
	}
	rc = cairn_jsonrpc_server_start(&so, &srv);
	if (rc) {
		CAIRN_ERROR("cannot serve the management API on %s%s%s: %s", cfg->mgmt_socket,
		            cfg->port ? " and " : "", cfg->port ? tcp : "", cairn_strerror(rc));
		goto out_api;
	}
	if (!sys.formatted)
		CAIRN_NOTE("storage is not formatted: waiting for `cairnctl storage format` "
		           "(or run `cairn-server storage format`)");
	CAIRN_NOTE("cairn-server ready: system %s, %u engine(s), API on %s%s%s", cfg->name,
	           sys.nr_engines, cfg->mgmt_socket, cfg->port ? " and " : "",
	           cfg->port ? tcp : "");
	printf("cairn-server: ready, api %s\n", cfg->mgmt_socket);
	fflush(stdout);

	pfd[0].fd = sfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = cairn_jsonrpc_server_fd(srv);
	pfd[1].events = POLLIN;
	while (!stop) {
		rc = poll(pfd, 2, TICK_MS);
		if (rc < 0 && errno != EINTR) {
			CAIRN_ERROR("poll: %s", strerror(errno));
			break;
		}
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
				CAIRN_NOTE("%s: stopping engines and exiting",
				           si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
				stop = true;
			}
		}
		if (stop)
			break;
		cairn_jsonrpc_server_poll(srv);
		ctl_system_tick(&sys);
	}
	exit_code = 0;
	ctl_system_stop(&sys, (1u << sys.nr_engines) - 1, false);
	cairn_jsonrpc_server_stop(srv);
out_api:
	ctl_api_unregister();
out_sys:
	ctl_system_fini(&sys);
out_sfd:
	close(sfd);
out_mask:
	sigprocmask(SIG_SETMASK, &old, NULL);
	return exit_code;
}
