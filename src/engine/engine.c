/*
 * cairn-engine: starts the runtime (one system xstream, one main xstream per target,
 * helper xstreams), registers the built-in modules from the module table, serves dRPC on
 * the system xstream and runs until SIGTERM/SIGINT or a dRPC SHUTDOWN.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_ENGINE
#include "common/fault.h"
#include "common/log.h"
#include "drpc/drpc.h"
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
 * opens it (srv_tgt_dev.c). */
static int
engine_check_storage(const struct cairn_engine_opts *opts)
{
	char path[4096];
	struct stat st;
	unsigned i;

	if (opts->storage_dir == NULL)
		return 0;
	if (stat(opts->storage_dir, &st) < 0) {
		CAIRN_ERROR("storage dir %s: %s; run `cairn-server storage format` first",
		            opts->storage_dir, strerror(errno));
		return -CAIRN_ERR_NONEXIST;
	}
	if (!S_ISDIR(st.st_mode)) {
		CAIRN_ERROR("storage dir %s is not a directory", opts->storage_dir);
		return -CAIRN_ERR_INVAL;
	}
	for (i = 0; i < opts->targets; i++) {
		snprintf(path, sizeof(path), "%s/target-%u", opts->storage_dir, i);
		/* A file, or a block device (target-<i> is then a symlink to it). */
		if (stat(path, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
			CAIRN_ERROR("target %u storage %s is missing; format the storage with "
			            "at least %u targets (`cairn-server storage format`)",
			            i, path, opts->targets);
			return -CAIRN_ERR_NONEXIST;
		}
	}
	return 0;
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
	int rc;
};

static void
drpc_start_ult(void *arg)
{
	struct drpc_start_ctx *ctx = arg;

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
	if (opts.targets < 1 || opts.targets > ENGINE_MAX_TARGETS ||
	    opts.helpers > ENGINE_MAX_HELPERS) {
		CAIRN_ERROR("targets must be 1..%u and helpers 0..%u", ENGINE_MAX_TARGETS,
		            ENGINE_MAX_HELPERS);
		return 2;
	}
	rc = engine_check_storage(&opts);
	if (rc)
		return 1;
	/* Named fault points for crash tests (CAIRN_FAULTS, see common/fault.h). */
	if (cairn_fault_init())
		return 2;

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

	/* Block the shutdown signals before any thread exists so every xstream inherits
	 * the mask and only the main thread's sigwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);

	cairn_rt_opts_default(&ro);
	ro.nr_system = 1;
	ro.nr_main = opts.targets;
	ro.nr_helper = opts.helpers;
	ro.pin = opts.pin;
	rc = cairn_rt_init(&ro);
	if (rc) {
		CAIRN_ERROR("cannot start the runtime: %s", cairn_strerror(rc));
		goto out_sigmask;
	}
	rc = engine_modules_load();
	if (rc)
		goto out_rt;
	rc = cairn_module_setup_all();
	if (rc) {
		CAIRN_ERROR("module setup failed: %s", cairn_strerror(rc));
		goto out_modules;
	}

	sys = cairn_xs_by_role(CAIRN_XS_SYSTEM, 0);
	sctx.path = opts.drpc_path;
	sctx.rc = -CAIRN_ERR_MISC;
	rc = cairn_rt_run_sync(sys, drpc_start_ult, &sctx);
	if (rc == 0)
		rc = sctx.rc;
	if (rc) {
		CAIRN_ERROR("cannot serve dRPC on %s: %s", opts.drpc_path, cairn_strerror(rc));
		goto out_setup;
	}
	if (opts.rank >= 0) {
		/* Rank given on the command line: serve the network now rather than at
		 * SET_RANK. */
		struct net_start_ctx nctx = {.rank = (uint32_t)opts.rank, .rc = -CAIRN_ERR_MISC};

		rc = cairn_rt_run_sync(sys, net_start_ult, &nctx);
		if (rc == 0)
			rc = nctx.rc;
		if (rc) {
			CAIRN_ERROR("cannot serve the network on %s: %s", g_info.uri,
			            cairn_strerror(rc));
			goto out_drpc;
		}
	}
	cairn_rt_run_sync(sys, ready_ult, NULL);
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
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	cairn_log_fini();
	return exit_code;
}
