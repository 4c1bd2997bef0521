/*
 * cairn-tgt application lifecycle: runtime xstreams, bdev layer, iSCSI target, JSON-RPC
 * server polled on the system xstream (each request in its own ULT there), --json
 * config replay (through the RPC socket, as SPDK does), signal-driven clean shutdown.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_TGT
#include "common/log.h"

#include "bdev/bdev.h"
#ifdef CAIRN_TGT_HAVE_CAIRN_BDEV
#include "bdev/bdev_cairn.h"
#endif
#include "jsonrpc/jsonrpc.h"
#include "rt/rt.h"
#ifdef CAIRN_TGT_HAVE_ISCSI
#include "target/iscsi.h"
#endif

#include "app_internal.h"
#include "tgt_app.h"

/* Busy poller: it reports "no work" when idle, so the xstream still sleeps, in epoll on
 * the server's fd (added to the wake set below); a request or a queued reply wakes it at
 * once. A timed poller would add up to a period of latency and wake the idle xstream
 * every period (plus its adaptive spin). */
#define RPC_POLL_PERIOD_US 0

static struct cairn_jsonrpc_server *g_rpc_srv;
static struct cairn_poller *g_rpc_poller;
static pthread_t g_main_thread;
static volatile sig_atomic_t g_shutdown_requested;

void
cairn_tgt_opts_default(struct cairn_tgt_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->opts_size = sizeof(*opts);
	opts->rpc_path = CAIRN_JSONRPC_DEFAULT_SOCK;
	opts->nr_main = 1;
}

/* ------------------------------------------------------------------ core masks */

int
cairn_tgt_parse_core_list(const char *list, unsigned *count)
{
	const char *p = list;
	unsigned n = 0;
	char *end;

	if (list == NULL || *list == '\0')
		return -CAIRN_ERR_INVAL;
	while (*p) {
		unsigned long lo, hi;

		errno = 0;
		lo = strtoul(p, &end, 10);
		if (errno || end == p || lo >= 1024)
			return -CAIRN_ERR_INVAL;
		hi = lo;
		p = end;
		if (*p == '-') {
			p++;
			hi = strtoul(p, &end, 10);
			if (errno || end == p || hi >= 1024 || hi < lo)
				return -CAIRN_ERR_INVAL;
			p = end;
		}
		n += (unsigned)(hi - lo + 1);
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return -CAIRN_ERR_INVAL;
	}
	*count = n;
	return 0;
}

int
cairn_tgt_parse_core_mask(const char *mask, char *list, size_t list_len, unsigned *count)
{
	unsigned long long m;
	size_t off = 0, len;
	unsigned i, n = 0;
	char *end;
	int w;

	if (mask == NULL || list == NULL || list_len == 0)
		return -CAIRN_ERR_INVAL;
	if (mask[0] == '[') { /* "[0,2-3]": a core list in brackets */
		len = strlen(mask);
		if (len < 3 || mask[len - 1] != ']' || len - 2 >= list_len)
			return -CAIRN_ERR_INVAL;
		memcpy(list, mask + 1, len - 2);
		list[len - 2] = '\0';
		return cairn_tgt_parse_core_list(list, count);
	}
	errno = 0;
	m = strtoull(mask, &end, 16); /* SPDK masks are hex, with or without 0x */
	if (errno || end == mask || *end != '\0' || m == 0)
		return -CAIRN_ERR_INVAL;
	list[0] = '\0';
	for (i = 0; i < 64; i++) {
		if (!(m & (1ull << i)))
			continue;
		w = snprintf(list + off, list_len - off, "%s%u", n ? "," : "", i);
		if (w < 0 || (size_t)w >= list_len - off)
			return -CAIRN_ERR_INVAL;
		off += (size_t)w;
		n++;
	}
	*count = n;
	return 0;
}

/* ------------------------------------------------------------------ RPC server on sys0 */

static int
rpc_spawn(void (*fn)(void *arg), void *arg)
{
	struct cairn_ult_attr attr = {
		.prio = CAIRN_PRIO_GENERAL,
		.stack_size = 256 * 1024, /* handlers format JSON and decode on the stack */
		.joinable = false,
	};

	return cairn_ult_create(NULL, fn, arg, &attr, NULL);
}

static int
rpc_poll(void *arg)
{
	return cairn_jsonrpc_server_poll(g_rpc_srv);
}

struct rpc_start_ctx {
	const struct cairn_tgt_opts *opts;
	int rc;
};

static void
rpc_start_ult(void *arg)
{
	struct rpc_start_ctx *ctx = arg;
	struct cairn_jsonrpc_server_opts so;
	int rc;

	cairn_jsonrpc_server_opts_default(&so);
	so.unix_path = ctx->opts->rpc_path;
	so.tcp_addr = ctx->opts->rpc_tcp;
	so.spawn = rpc_spawn;
	rc = cairn_jsonrpc_server_start(&so, &g_rpc_srv);
	if (rc) {
		ctx->rc = rc;
		return;
	}
	g_rpc_poller = cairn_poller_register(rpc_poll, NULL, RPC_POLL_PERIOD_US, "jsonrpc");
	if (g_rpc_poller == NULL) {
		cairn_jsonrpc_server_stop(g_rpc_srv);
		g_rpc_srv = NULL;
		ctx->rc = -CAIRN_ERR_NOMEM;
		return;
	}
	rc = cairn_rt_wake_fd_add(cairn_jsonrpc_server_fd(g_rpc_srv), EPOLLIN);
	if (rc) {
		/* Without the wake fd a sleeping sys0 would not see requests. */
		CAIRN_ERROR("cannot watch the RPC socket: %s", cairn_strerror(rc));
		cairn_poller_unregister(&g_rpc_poller);
		cairn_jsonrpc_server_stop(g_rpc_srv);
		g_rpc_srv = NULL;
		ctx->rc = rc;
		return;
	}
	ctx->rc = 0;
}

static void
rpc_stop_ult(void *arg)
{
	if (g_rpc_srv == NULL)
		return;
	cairn_rt_wake_fd_del(cairn_jsonrpc_server_fd(g_rpc_srv));
	cairn_poller_unregister(&g_rpc_poller);
	cairn_jsonrpc_server_stop(g_rpc_srv);
	g_rpc_srv = NULL;
}

/* ------------------------------------------------------------------ shutdown */

void
cairn_tgt_request_shutdown(void)
{
	g_shutdown_requested = 1;
	pthread_kill(g_main_thread, SIGTERM);
}

/* Wait for SIGINT/SIGTERM (blocked in every thread, so only this sigwait sees them). */
static int
wait_for_signal(const sigset_t *set)
{
	int sig = 0;

	while (sigwait(set, &sig) != 0)
		;
	return sig;
}

/* ------------------------------------------------------------------ run */

int
cairn_tgt_run(const struct cairn_tgt_opts *user_opts)
{
	struct cairn_tgt_opts opts;
	struct cairn_rt_opts ro;
	struct rpc_start_ctx sctx;
	struct cairn_xstream *sys;
	sigset_t set, old;
	int rc, sig, exit_code = 1;
	const char *addr;

	cairn_tgt_opts_default(&opts);
	memcpy(&opts, user_opts,
	       user_opts->opts_size < sizeof(opts) ? user_opts->opts_size : sizeof(opts));
	g_main_thread = pthread_self();

	rc = cairn_log_init();
	if (rc == 0 && opts.log_mask)
		rc = cairn_log_set_mask(opts.log_mask);
	if (rc == 0 && opts.log_file)
		rc = cairn_log_set_file(opts.log_file);
	if (rc) {
		fprintf(stderr, "cairn-tgt: bad log settings: %s\n", cairn_strerror(rc));
		return 1;
	}
	tgt_log_snapshot();

	/* Block the shutdown signals before any thread exists so every xstream inherits
	 * the mask and only the main thread's sigwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);

	cairn_rt_opts_default(&ro);
	ro.nr_system = 1;
	ro.nr_main = opts.nr_main ? opts.nr_main : 1;
	ro.nr_helper = 0;
#ifdef CAIRN_TGT_HAVE_CAIRN_BDEV
	ro.nr_helper = 1; /* libcairn's network (cairn volume bdevs) */
	cairn_bdev_module_register(&g_bdev_cairn_module);
#endif
	ro.pin = opts.cpu_list != NULL;
	ro.cpu_list = opts.cpu_list;
	rc = cairn_rt_init(&ro);
	if (rc) {
		CAIRN_ERROR("cannot start the runtime: %s", cairn_strerror(rc));
		goto out_sigmask;
	}
	rc = cairn_bdev_init();
	if (rc) {
		CAIRN_ERROR("cannot initialise the bdev layer: %s", cairn_strerror(rc));
		goto out_rt;
	}
#ifdef CAIRN_TGT_HAVE_ISCSI
	rc = tgt_iscsi_start();
	if (rc) {
		CAIRN_ERROR("cannot initialise the iSCSI target: %s", cairn_strerror(rc));
		goto out_bdev;
	}
#endif
	rc = tgt_app_rpc_register();
	if (rc == 0)
		rc = tgt_bdev_rpc_register();
	if (rc) {
		CAIRN_ERROR("cannot register JSON-RPC methods: %s", cairn_strerror(rc));
		goto out_methods;
	}

	cairn_jsonrpc_set_state(opts.json_config ? CAIRN_RPC_STARTUP : CAIRN_RPC_RUNTIME);
	sys = cairn_xs_by_role(CAIRN_XS_SYSTEM, 0);
	sctx.opts = &opts;
	sctx.rc = -CAIRN_ERR_MISC;
	rc = cairn_rt_run_sync(sys, rpc_start_ult, &sctx);
	if (rc == 0)
		rc = sctx.rc;
	if (rc) {
		CAIRN_ERROR("cannot serve JSON-RPC on %s: %s", opts.rpc_path ? opts.rpc_path :
			    opts.rpc_tcp, cairn_strerror(rc));
		goto out_methods;
	}
	addr = opts.rpc_path && opts.rpc_path[0] ? opts.rpc_path : opts.rpc_tcp;

	if (opts.json_config) {
		rc = tgt_config_replay(opts.json_config, addr);
		if (rc) {
			CAIRN_ERROR("loading %s failed; stopping", opts.json_config);
			goto out_rpc;
		}
	}
	cairn_jsonrpc_set_state(CAIRN_RPC_RUNTIME);
	CAIRN_NOTE("cairn-tgt ready: JSON-RPC on %s%s%s, %u reactor xstream(s)", addr,
		   opts.rpc_tcp && addr != opts.rpc_tcp ? " and " : "",
		   opts.rpc_tcp && addr != opts.rpc_tcp ? opts.rpc_tcp : "", ro.nr_main);
	/* Tests and scripts wait for this line on stdout. */
	printf("cairn-tgt: ready, rpc %s\n", addr);
	fflush(stdout);

	sig = wait_for_signal(&set);
	CAIRN_NOTE("%s: shutting down", g_shutdown_requested ? "app_shutdown" :
		   sig == SIGINT ? "SIGINT" : "SIGTERM");
	exit_code = 0;

out_rpc:
	cairn_rt_run_sync(sys, rpc_stop_ult, NULL);
out_methods:
	tgt_bdev_rpc_unregister();
	tgt_app_rpc_unregister();
#ifdef CAIRN_TGT_HAVE_ISCSI
	tgt_iscsi_stop();
out_bdev:
#endif
	cairn_bdev_fini();
out_rt:
	cairn_rt_fini();
out_sigmask:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	cairn_log_fini();
	return exit_code;
}
