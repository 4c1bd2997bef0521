/*
 * cairn-engine: starts the runtime (one system xstream, one main xstream per target,
 * helper xstreams), registers the built-in modules from the module table, serves dRPC on
 * the system xstream and runs until SIGTERM/SIGINT or a dRPC SHUTDOWN.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_ENGINE
#include "common/fault.h"
#include "common/log.h"
#include "drpc/drpc.h"
#include "drpc/setup.h"
#include "mgmt.pb-c.h"
#include "net/net.h"
#include "rt/module.h"
#include "rt/rt.h"

#include "engine_internal.h"
#include "srv_internal.h"

/*
 * The module table: every module the engine runs, in load order (setup runs in this
 * order, cleanup in reverse). A module's dRPC handlers hang off
 * cairn_module.drpc_handlers (a struct cairn_drpc_handler_table) and are registered with
 * dRPC here. The next modules plug in by adding a line:
 *     &g_vos_srv_module, &g_pool_srv_module, &g_cont_srv_module, &g_obj_srv_module,
 */
static struct cairn_module *const g_engine_modules[] = {
        &g_engine_mgmt_module,
        &g_vos_srv_module,
        &g_pool_srv_module,
        &g_cont_srv_module,
        &g_obj_srv_module,
};
#define ENGINE_NR_MODULES (sizeof(g_engine_modules) / sizeof(g_engine_modules[0]))

static struct engine_info g_info;
static pthread_t g_main_thread;
static volatile sig_atomic_t g_shutdown_requested;
static struct cairn_drpc_server *g_drpc_srv;

struct engine_info *
engine_info(void)
{
	return &g_info;
}

const char *
engine_state_name(enum engine_state st)
{
	switch (st) {
	case ENGINE_STARTING:
		return "starting";
	case ENGINE_READY:
		return "ready";
	case ENGINE_STOPPING:
		return "stopping";
	}
	return "unknown";
}

void
engine_request_shutdown(void)
{
	g_shutdown_requested = 1;
	pthread_kill(g_main_thread, SIGTERM);
}

unsigned
engine_module_names(const char **names, unsigned max)
{
	unsigned i, n = 0;

	for (i = 0; i < ENGINE_NR_MODULES && n < max; i++)
		names[n++] = g_engine_modules[i]->name;
	return n;
}

void
engine_opts_default(struct cairn_engine_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->opts_size = sizeof(*opts);
	opts->targets = 1;
	opts->drpc_path = ENGINE_DEFAULT_DRPC;
	opts->rank = -1;
}

/* Each target's storage (a file or a block device) must exist when a storage dir is given:
 * the control plane set it up at format time. Its space map is checked when the vos module
 * opens it (srv_tgt_dev.c). Logs the reason and leaves it in err. */
static int
engine_check_storage(const char *dir, unsigned targets, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;
	unsigned i;

	if (dir == NULL)
		return 0;
	if (stat(dir, &st) < 0) {
		snprintf(err, errlen,
		         "storage dir %.300s: %s; run `cairn-server storage format` first", dir,
		         strerror(errno));
		CAIRN_ERROR("%s", err);
		return -CAIRN_ERR_NONEXIST;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "storage dir %.300s is not a directory", dir);
		CAIRN_ERROR("%s", err);
		return -CAIRN_ERR_INVAL;
	}
	for (i = 0; i < targets; i++) {
		snprintf(path, sizeof(path), "%s/target-%u", dir, i);
		/* A file, or a block device (target-<i> is then a symlink to it). */
		if (stat(path, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
			snprintf(err, errlen,
			         "target %u storage %.300s is missing; format the storage with at "
			         "least %u targets (`cairn-server storage format`)",
			         i, path, targets);
			CAIRN_ERROR("%s", err);
			return -CAIRN_ERR_NONEXIST;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ SETUP wait */

/*
 * An engine started without configuration options (by cairn-server) serves a minimal
 * dRPC on its socket from the main thread, before any runtime exists: PING,
 * PREP_SHUTDOWN/SHUTDOWN and SETUP. A SETUP whose fields validate ends the wait; the
 * listener and the connections are then handed to the real dRPC server and the SETUP
 * is answered once the engine is ready (or failed to start).
 */
#define BOOT_MAX_CONNS 8

struct engine_boot {
	int listen_fd;
	int conns[BOOT_MAX_CONNS];
	unsigned nr_conns;
	int setup_fd;       /* connection whose SETUP was accepted */
	uint64_t setup_seq; /* its sequence, for the deferred Response */
	struct cairn_drpc_setup setup;
	uint8_t *rxbuf;
};

static volatile sig_atomic_t g_boot_signal;

static void
boot_on_signal(int sig)
{
	g_boot_signal = sig;
}

/* Send one Response on a (blocking or not) SEQPACKET socket, waiting up to 2 s. */
static int
boot_reply(int fd, uint64_t seq, int status, const void *body, size_t len)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	uint8_t *buf;
	size_t blen;
	ssize_t n;
	int rc;

	rc = cairn_drpc_response_encode(seq, status, body, len, &buf, &blen);
	if (rc)
		return rc;
	for (;;) {
		n = send(fd, buf, blen, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			break;
		if (poll(&pfd, 1, 2000) <= 0)
			break;
	}
	rc = n == (ssize_t)blen ? 0 : -CAIRN_ERR_UNREACH;
	free(buf);
	return rc;
}

static int
boot_reply_msg(int fd, uint64_t seq, int status, const char *msg)
{
	return boot_reply(fd, seq, status, msg, strlen(msg));
}

static void
boot_close_conn(struct engine_boot *b, unsigned i)
{
	close(b->conns[i]);
	b->conns[i] = b->conns[--b->nr_conns];
}

static void
boot_close_all(struct engine_boot *b)
{
	while (b->nr_conns)
		boot_close_conn(b, 0);
	if (b->listen_fd >= 0) {
		close(b->listen_fd);
		b->listen_fd = -1;
	}
	free(b->rxbuf);
	b->rxbuf = NULL;
}

enum boot_verdict {
	BOOT_WAIT = 0, /* keep waiting */
	BOOT_SETUP,    /* a valid SETUP arrived: b->setup, b->setup_fd */
	BOOT_SHUTDOWN, /* SHUTDOWN asked */
};

static enum boot_verdict
boot_handle(struct engine_boot *b, int fd, size_t len, uint64_t start_us)
{
	Cairn__Mgmt__PingResp pr = CAIRN__MGMT__PING_RESP__INIT;
	struct cairn_drpc_call call;
	char err[512], serr[600];
	uint8_t pbuf[32];
	size_t plen;
	int rc;

	if (len > CAIRN_DRPC_MAX_MSG) {
		boot_reply_msg(fd, 0, -CAIRN_ERR_OVERFLOW, "dRPC message larger than 128 KiB");
		return BOOT_WAIT;
	}
	rc = cairn_drpc_call_decode(b->rxbuf, len, &call);
	if (rc) {
		boot_reply_msg(fd, 0, rc, "undecodable dRPC Call");
		return BOOT_WAIT;
	}
	if (call.module != CAIRN_DRPC_MODULE_MGMT) {
		boot_reply_msg(fd, call.sequence, -CAIRN_ERR_AGAIN,
		               "engine waits for its SETUP; only mgmt ping, setup and "
		               "shutdown are served until then");
		cairn_drpc_call_release(&call);
		return BOOT_WAIT;
	}
	switch (call.method) {
	case CAIRN_DRPC_MGMT_PING:
		pr.uptime_us = cairn_rt_now_us() - start_us;
		plen = cairn__mgmt__ping_resp__pack(&pr, pbuf);
		boot_reply(fd, call.sequence, 0, pbuf, plen);
		break;
	case CAIRN_DRPC_MGMT_PREP_SHUTDOWN:
		boot_reply(fd, call.sequence, 0, NULL, 0);
		break;
	case CAIRN_DRPC_MGMT_SHUTDOWN:
		boot_reply(fd, call.sequence, 0, NULL, 0);
		cairn_drpc_call_release(&call);
		return BOOT_SHUTDOWN;
	case CAIRN_DRPC_MGMT_SETUP:
		rc = cairn_drpc_setup_decode(call.body, call.body_len, &b->setup, err, sizeof(err));
		if (rc == 0)
			rc = engine_check_storage(b->setup.storage_dir[0] ? b->setup.storage_dir
			                                                  : NULL,
			                          b->setup.targets, err, sizeof(err));
		if (rc) {
			snprintf(serr, sizeof(serr), "SETUP refused: %s", err);
			CAIRN_ERROR("%s; still waiting for a valid SETUP", serr);
			boot_reply_msg(fd, call.sequence, rc, serr);
			break;
		}
		b->setup_fd = fd;
		b->setup_seq = call.sequence;
		cairn_drpc_call_release(&call);
		return BOOT_SETUP;
	default:
		boot_reply_msg(fd, call.sequence, -CAIRN_ERR_AGAIN,
		               "engine waits for its SETUP; only mgmt ping, setup and "
		               "shutdown are served until then");
		break;
	}
	cairn_drpc_call_release(&call);
	return BOOT_WAIT;
}

/*
 * Wait for a valid SETUP on path. 0 (b->setup filled; b holds the listener and the
 * connections), or an exit code: 0 after a SHUTDOWN or a signal, 1 on a socket error,
 * ENGINE_EXIT_NO_SETUP after timeout_s without a valid SETUP.
 */
static int
engine_wait_setup(const char *path, unsigned timeout_s, struct engine_boot *b, int *exit_code)
{
	struct pollfd pfds[1 + BOOT_MAX_CONNS];
	uint64_t start_us = cairn_rt_now_us(), deadline_us = start_us + timeout_s * 1000000ull;
	struct sigaction sa = {.sa_handler = boot_on_signal}, old_int, old_term;
	sigset_t waitmask;
	struct timespec ts;
	uint64_t now;
	unsigned i, nfds;
	ssize_t n;
	int rc, fd, done = -1;

	memset(b, 0, sizeof(*b));
	b->listen_fd = -1;
	b->setup_fd = -1;
	b->rxbuf = malloc(CAIRN_DRPC_MAX_MSG + 1);
	if (b->rxbuf == NULL) {
		*exit_code = 1;
		return -CAIRN_ERR_NOMEM;
	}
	rc = cairn_drpc_listen(path, &b->listen_fd);
	if (rc) {
		CAIRN_ERROR("cannot serve dRPC on %s: %s", path, cairn_strerror(rc));
		boot_close_all(b);
		*exit_code = 1;
		return rc;
	}
	/* SIGINT/SIGTERM are blocked (see cairn_engine_run); ppoll unblocks them. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	pthread_sigmask(SIG_SETMASK, NULL, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	g_boot_signal = 0;
	CAIRN_NOTE("waiting up to %u s for SETUP (the engine's configuration) on dRPC %s",
	           timeout_s, path);
	printf("cairn-engine: waiting for SETUP, pid %d, drpc %s\n", (int)getpid(), path);
	fflush(stdout);

	while (done < 0) {
		now = cairn_rt_now_us();
		if (now >= deadline_us) {
			CAIRN_ERROR("no valid SETUP on %s within %u s; exiting with code %d. An "
			            "engine started without -t/-s/-p options waits to be "
			            "configured by cairn-server; start it from cairn-server or "
			            "give its options on the command line",
			            path, timeout_s, ENGINE_EXIT_NO_SETUP);
			*exit_code = ENGINE_EXIT_NO_SETUP;
			done = 1;
			break;
		}
		pfds[0].fd = b->listen_fd;
		pfds[0].events = POLLIN;
		for (i = 0; i < b->nr_conns; i++) {
			pfds[1 + i].fd = b->conns[i];
			pfds[1 + i].events = POLLIN;
		}
		nfds = 1 + b->nr_conns;
		ts.tv_sec = (time_t)((deadline_us - now) / 1000000);
		ts.tv_nsec = (long)((deadline_us - now) % 1000000) * 1000;
		rc = ppoll(pfds, nfds, &ts, &waitmask);
		if (g_boot_signal) {
			CAIRN_NOTE("%s while waiting for SETUP: exiting",
			           g_boot_signal == SIGINT ? "SIGINT" : "SIGTERM");
			*exit_code = 0;
			done = 1;
			break;
		}
		if (rc <= 0)
			continue;
		/* Connections first (their indexes shift when one closes), newest last. */
		for (i = nfds - 1; i >= 1 && done < 0; i--) {
			if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			fd = pfds[i].fd;
			n = recv(fd, b->rxbuf, CAIRN_DRPC_MAX_MSG + 1, MSG_DONTWAIT | MSG_TRUNC);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0) {
				boot_close_conn(b, i - 1);
				continue;
			}
			switch (boot_handle(b, fd, (size_t)n, start_us)) {
			case BOOT_SETUP:
				done = 0;
				break;
			case BOOT_SHUTDOWN:
				CAIRN_NOTE("dRPC shutdown while waiting for SETUP: exiting");
				*exit_code = 0;
				done = 1;
				break;
			case BOOT_WAIT:
				break;
			}
		}
		if (done < 0 && (pfds[0].revents & POLLIN)) {
			fd = accept4(b->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd >= 0 && b->nr_conns < BOOT_MAX_CONNS)
				b->conns[b->nr_conns++] = fd;
			else if (fd >= 0)
				close(fd);
		}
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (done) {
		boot_close_all(b);
		unlink(path);
		return -CAIRN_ERR_SHUTDOWN;
	}
	return 0;
}

/* Hand the waiting connections to the real dRPC server (ULT on the system xstream). */
static void
drpc_adopt_ult(void *arg)
{
	struct engine_boot *b = arg;

	while (b->nr_conns) {
		if (cairn_drpc_server_adopt(g_drpc_srv, b->conns[b->nr_conns - 1]) != 0)
			close(b->conns[b->nr_conns - 1]);
		b->nr_conns--;
	}
}

/* ------------------------------------------------------------------ modules */

static void
engine_modules_unload(unsigned n)
{
	const struct cairn_drpc_handler_table *t;
	const struct cairn_proto *p;

	while (n-- > 0) {
		t = g_engine_modules[n]->drpc_handlers;
		if (t)
			cairn_drpc_unregister(t->module);
		p = g_engine_modules[n]->rpc_proto;
		if (p)
			cairn_net_proto_unregister(p->base);
		cairn_module_unload(g_engine_modules[n]->name);
	}
}

static int
engine_modules_load(void)
{
	const struct cairn_drpc_handler_table *t;
	const struct cairn_proto *p;
	unsigned i;
	int rc;

	for (i = 0; i < ENGINE_NR_MODULES; i++) {
		rc = cairn_module_register(g_engine_modules[i]);
		if (rc) {
			CAIRN_ERROR("module %s: cannot register: %s", g_engine_modules[i]->name,
			            cairn_strerror(rc));
			goto err;
		}
		p = g_engine_modules[i]->rpc_proto;
		if (p) {
			rc = cairn_net_proto_register(p);
			if (rc) {
				CAIRN_ERROR("module %s: cannot register RPC protocol %s: %s",
				            g_engine_modules[i]->name, p->name, cairn_strerror(rc));
				cairn_module_unload(g_engine_modules[i]->name);
				goto err;
			}
		}
		t = g_engine_modules[i]->drpc_handlers;
		if (t) {
			rc = cairn_drpc_register(t);
			if (rc) {
				CAIRN_ERROR("module %s: cannot register dRPC handlers: %s",
				            g_engine_modules[i]->name, cairn_strerror(rc));
				if (p)
					cairn_net_proto_unregister(p->base);
				cairn_module_unload(g_engine_modules[i]->name);
				goto err;
			}
		}
	}
	return 0;
err:
	engine_modules_unload(i);
	return rc;
}

/* ------------------------------------------------------------------ dRPC on sys0 */

struct drpc_start_ctx {
	const char *path;
	int listen_fd; /* from the SETUP wait, or -1 */
	int rc;
};

static void
drpc_start_ult(void *arg)
{
	struct drpc_start_ctx *ctx = arg;

	if (ctx->listen_fd >= 0)
		ctx->rc = cairn_drpc_server_start_fd(ctx->path, ctx->listen_fd, 0, &g_drpc_srv);
	else
		ctx->rc = cairn_drpc_server_start(ctx->path, 0, &g_drpc_srv);
}

static void
drpc_stop_ult(void *arg)
{
	cairn_drpc_server_stop(g_drpc_srv, 5000000);
	g_drpc_srv = NULL;
}

struct net_start_ctx {
	uint32_t rank;
	int rc;
};

static void
net_start_ult(void *arg)
{
	struct net_start_ctx *ctx = arg;

	ctx->rc = engine_net_start(ctx->rank);
}

static void
ready_ult(void *arg)
{
	g_info.state = ENGINE_READY;
}

static void
stopping_ult(void *arg)
{
	g_info.state = ENGINE_STOPPING;
}

/* ------------------------------------------------------------------ run */

int
cairn_engine_run(const struct cairn_engine_opts *user_opts)
{
	struct cairn_engine_opts opts;
	struct drpc_start_ctx sctx;
	struct cairn_rt_opts ro;
	struct cairn_xstream *sys;
	struct engine_boot boot = {.listen_fd = -1, .setup_fd = -1};
	bool booted = false;
	char err[512];
	sigset_t set, old;
	int rc, sig = 0, exit_code = 1;

	engine_opts_default(&opts);
	memcpy(&opts, user_opts,
	       user_opts->opts_size < sizeof(opts) ? user_opts->opts_size : sizeof(opts));
	g_main_thread = pthread_self();

	rc = cairn_log_init();
	if (rc == 0 && opts.log_mask)
		rc = cairn_log_set_mask(opts.log_mask);
	if (rc == 0 && opts.log_file)
		rc = cairn_log_set_file(opts.log_file);
	if (rc) {
		fprintf(stderr, "cairn-engine: bad log settings: %s\n", cairn_strerror(rc));
		return 2;
	}

	/* Block the shutdown signals before any thread exists so every xstream inherits
	 * the mask and only the main thread's sigwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);

	if (opts.wait_setup) {
		rc = engine_wait_setup(opts.drpc_path,
		                       opts.setup_timeout_s ? opts.setup_timeout_s
		                                            : ENGINE_SETUP_TIMEOUT_S,
		                       &boot, &exit_code);
		if (rc)
			goto out_sigmask;
		booted = true;
		opts.targets = boot.setup.targets;
		opts.helpers = boot.setup.helpers;
		opts.storage_dir = boot.setup.storage_dir[0] ? boot.setup.storage_dir : NULL;
		opts.port = boot.setup.port;
		opts.uri = boot.setup.uri[0] ? boot.setup.uri : NULL;
		opts.rank = (int)boot.setup.rank;
		opts.pin = boot.setup.pin;
		if (boot.setup.log_mask[0])
			cairn_log_set_mask(boot.setup.log_mask); /* validated by the decoder */
		CAIRN_NOTE("SETUP accepted: rank %u of system %s, %u target(s), %u helper(s), "
		           "storage %s",
		           boot.setup.rank, boot.setup.system, opts.targets, opts.helpers,
		           opts.storage_dir ? opts.storage_dir : "(none)");
	}
	err[0] = '\0';
	if (opts.targets < 1 || opts.targets > ENGINE_MAX_TARGETS ||
	    opts.helpers > ENGINE_MAX_HELPERS) {
		CAIRN_ERROR("targets must be 1..%u and helpers 0..%u", ENGINE_MAX_TARGETS,
		            ENGINE_MAX_HELPERS);
		exit_code = 2;
		goto out_sigmask;
	}
	rc = engine_check_storage(opts.storage_dir, opts.targets, err, sizeof(err));
	if (rc)
		goto out_sigmask;
	/* Named fault points for crash tests (CAIRN_FAULTS, see common/fault.h). */
	if (cairn_fault_init()) {
		exit_code = 2;
		goto out_sigmask;
	}

	memset(&g_info, 0, sizeof(g_info));
	g_info.rank = opts.rank;
	g_info.state = ENGINE_STARTING;
	g_info.targets = opts.targets;
	g_info.helpers = opts.helpers;
	g_info.storage_dir = opts.storage_dir;
	g_info.start_us = cairn_rt_now_us();
	if (opts.uri)
		snprintf(g_info.uri, sizeof(g_info.uri), "%s", opts.uri);
	else if (opts.port)
		snprintf(g_info.uri, sizeof(g_info.uri), "tcp://127.0.0.1:%u", opts.port);
	if (booted) {
		snprintf(g_info.system, sizeof(g_info.system), "%s", boot.setup.system);
		memcpy(g_info.system_uuid.b, boot.setup.system_uuid, 16);
	}

	cairn_rt_opts_default(&ro);
	ro.nr_system = 1;
	ro.nr_main = opts.targets;
	ro.nr_helper = opts.helpers;
	ro.pin = opts.pin;
	rc = cairn_rt_init(&ro);
	if (rc) {
		CAIRN_ERROR("cannot start the runtime: %s", cairn_strerror(rc));
		snprintf(err, sizeof(err), "cannot start the runtime (%u targets, %u helpers): %s",
		         opts.targets, opts.helpers, cairn_strerror(rc));
		goto out_sigmask;
	}
	rc = engine_modules_load();
	if (rc) {
		snprintf(err, sizeof(err), "cannot load the modules: %s", cairn_strerror(rc));
		goto out_rt;
	}
	rc = cairn_module_setup_all();
	if (rc) {
		CAIRN_ERROR("module setup failed: %s", cairn_strerror(rc));
		snprintf(err, sizeof(err), "module setup failed: %s (see the engine log)",
		         cairn_strerror(rc));
		goto out_modules;
	}

	sys = cairn_xs_by_role(CAIRN_XS_SYSTEM, 0);
	sctx.path = opts.drpc_path;
	sctx.listen_fd = boot.listen_fd;
	sctx.rc = -CAIRN_ERR_MISC;
	rc = cairn_rt_run_sync(sys, drpc_start_ult, &sctx);
	if (rc == 0)
		rc = sctx.rc;
	if (rc) {
		CAIRN_ERROR("cannot serve dRPC on %s: %s", opts.drpc_path, cairn_strerror(rc));
		snprintf(err, sizeof(err), "cannot serve dRPC on %s: %s", opts.drpc_path,
		         cairn_strerror(rc));
		goto out_setup;
	}
	boot.listen_fd = -1; /* the dRPC server owns it now */
	if (opts.rank >= 0) {
		/* Rank given on the command line or by SETUP: serve the network now rather
		 * than at SET_RANK. */
		struct net_start_ctx nctx = {.rank = (uint32_t)opts.rank, .rc = -CAIRN_ERR_MISC};

		rc = cairn_rt_run_sync(sys, net_start_ult, &nctx);
		if (rc == 0)
			rc = nctx.rc;
		if (rc) {
			CAIRN_ERROR("cannot serve the network on %s: %s", g_info.uri,
			            cairn_strerror(rc));
			snprintf(err, sizeof(err),
			         "cannot serve the network on %s (ports %u..%u): %s; is another "
			         "process using them? pick another `port`",
			         g_info.uri, opts.port, opts.port + opts.targets,
			         cairn_strerror(rc));
			goto out_drpc;
		}
	}
	cairn_rt_run_sync(sys, ready_ult, NULL);
	if (booted) {
		/* Answer the SETUP now that everything runs, then let the dRPC server serve
		 * the connections that waited with it. */
		boot_reply(boot.setup_fd, boot.setup_seq, 0, NULL, 0);
		cairn_rt_run_sync(sys, drpc_adopt_ult, &boot);
		boot_close_all(&boot);
	}
	CAIRN_NOTE("cairn-engine ready: pid %d, %u target(s), %u helper(s), dRPC %s", (int)getpid(),
	           opts.targets, opts.helpers, opts.drpc_path);
	/* Tests and the control plane's logs look for this line. */
	printf("cairn-engine: ready, pid %d, drpc %s\n", (int)getpid(), opts.drpc_path);
	fflush(stdout);

	while (sigwait(&set, &sig) != 0)
		;
	CAIRN_NOTE("%s: shutting down", g_shutdown_requested ? "dRPC shutdown"
	                                : sig == SIGINT      ? "SIGINT"
	                                                     : "SIGTERM");
	cairn_rt_run_sync(sys, stopping_ult, NULL);
	exit_code = 0;

out_drpc:
	cairn_rt_run_sync(sys, drpc_stop_ult, NULL);
	engine_net_stop();
out_setup:
	cairn_module_cleanup_all();
out_modules:
	engine_modules_unload(ENGINE_NR_MODULES);
out_rt:
	cairn_rt_fini();
out_sigmask:
	if (booted && boot.setup_fd >= 0 && exit_code != 0) {
		/* The SETUP was valid but the engine could not start: say why, then exit
		 * (cairn-server restarts it with backoff). */
		char msg[600];

		snprintf(msg, sizeof(msg), "engine start-up failed: %s",
		         err[0] ? err : "see the engine log");
		boot_reply_msg(boot.setup_fd, boot.setup_seq, rc ? rc : -CAIRN_ERR_MISC, msg);
	}
	if (booted) {
		/* A listener the dRPC server never took: its socket file is ours to remove. */
		bool unlink_path = boot.listen_fd >= 0;

		boot_close_all(&boot);
		if (unlink_path)
			unlink(opts.drpc_path);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	cairn_log_fini();
	return exit_code;
}
