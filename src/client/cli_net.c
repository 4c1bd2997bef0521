/*
 * libcairn's network (see cli_net.h): runtime with one xstream, one RPC context on it,
 * the engine group, and the submit/RPC helpers every operation uses.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_CLIENT
#include "common/log.h"
#include "engine/proto.h"
#include "net/net.h"
#include "rt/rt.h"

#include "cli_glob.h"
#include "cli_net.h"
#include "client_internal.h"

static pthread_mutex_t g_net_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned g_net_refs;
static char g_net_uri[128];
static struct cairn_net_group *g_group;
static struct cairn_net_ctx *g_ctx;
static struct cairn_xstream *g_xs;
static bool g_protos;
static bool g_embedded; /* g_xs belongs to the host process's runtime */
static bool g_own_rt;   /* we started the runtime (cairn_rt_init) */
/* Number of fork()s this process's libcairn network was forgotten in (see
 * net_atfork_child); for logs. */
static unsigned g_forks;

static const struct cairn_rpc_def g_cli_pool_rpcs[] = PROTO_POOL_RPCS(NULL, NULL, NULL, NULL);
static const struct cairn_rpc_def g_cli_cont_rpcs[] = PROTO_CONT_RPCS(NULL);
static const struct cairn_rpc_def g_cli_obj_rpcs[] = PROTO_OBJ_RPCS(NULL);
static const struct cairn_proto g_cli_protos[] = {
        {"pool", PROTO_POOL_BASE, PROTO_VERSION, POOL_RPC_COUNT, g_cli_pool_rpcs},
        {"cont", PROTO_CONT_BASE, PROTO_VERSION, CONT_RPC_COUNT, g_cli_cont_rpcs},
        {"obj", PROTO_OBJ_BASE, PROTO_VERSION, OBJ_RPC_COUNT, g_cli_obj_rpcs},
};

int
cli_net_protos(void)
{
	unsigned i;
	int rc;

	if (g_protos)
		return 0;
	for (i = 0; i < sizeof(g_cli_protos) / sizeof(g_cli_protos[0]); i++) {
		rc = cairn_net_proto_register(&g_cli_protos[i]);
		if (rc && rc != -CAIRN_ERR_EXIST) {
			while (i-- > 0)
				cairn_net_proto_unregister(g_cli_protos[i].base);
			return rc;
		}
	}
	g_protos = true;
	return 0;
}

struct ctx_arg {
	int rc;
};

static void
ctx_create_ult(void *arg)
{
	struct ctx_arg *a = arg;
	struct cairn_net_ctx_opts o;

	cairn_net_ctx_opts_default(&o);
	o.group = g_group;
	o.rank = CAIRN_RANK_NONE;
	o.tag = 0;
	o.timeout_us = 30000000;
	o.max_msg = 2u << 20;
	/* No busy-wait hint while RPCs are pending: storage RPCs take 100s of us, and a
	 * client xstream spinning on them took the CPU the engine needs (2-core VM,
	 * bench/system.sh: 4 KiB updates at depth 32 went from 11-17K to 51-57K IOPS,
	 * client CPU from 26-42 to ~3 us per update; depth-1 p50 unchanged, ~95 us). The
	 * runtime's adaptive idle spin still applies. */
	o.spin_hint_us = 0;
	a->rc = cairn_net_ctx_create(&o, &g_ctx);
}

static void
ctx_destroy_ult(void *arg)
{
	cairn_net_ctx_destroy(g_ctx);
	g_ctx = NULL;
}

static void
net_stop_locked(void)
{
	if (g_ctx)
		cairn_rt_run_sync(g_xs, ctx_destroy_ult, NULL);
	if (g_own_rt)
		cairn_rt_fini();
	g_own_rt = false;
	g_embedded = false;
	if (g_group)
		cairn_net_group_destroy(g_group);
	g_group = NULL;
	g_xs = NULL;
	g_net_uri[0] = '\0';
}

/* Start the runtime, its xstream, the (empty) engine group and the RPC context. */
static int
net_start_locked(void)
{
	struct cairn_rt_opts ro;
	struct ctx_arg a = {-CAIRN_ERR_MISC};
	int rc;

	rc = cli_net_protos();
	if (rc)
		return rc;
	rc = cairn_net_group_create("cairn", &g_group);
	if (rc)
		return rc;
	if (cairn_rt_running()) {
		/* Embedded in a process that runs the runtime itself (cairn-tgt's cairn
		 * bdev): the network lives on its first helper xstream, which it keeps. */
		g_embedded = true; /* never stop a runtime we did not start */
		g_xs = cairn_xs_by_role(CAIRN_XS_HELPER, 0);
		if (g_xs == NULL) {
			CAIRN_ERROR("libcairn inside a runtime needs a helper xstream for its "
			            "network");
			rc = -CAIRN_ERR_INVAL;
			goto err;
		}
	} else {
		cairn_rt_opts_default(&ro);
		ro.nr_system = 0;
		ro.nr_main = 1;
		ro.nr_helper = 0;
		ro.pin = false;
		rc = cairn_rt_init(&ro);
		if (rc) {
			CAIRN_ERROR("cannot start the client runtime: %s", cairn_strerror(rc));
			goto err;
		}
		g_own_rt = true;
		g_xs = cairn_xs_by_role(CAIRN_XS_MAIN, 0);
	}
	rc = cairn_rt_run_sync(g_xs, ctx_create_ult, &a);
	rc = rc ? rc : a.rc;
	if (rc) {
		CAIRN_ERROR("cannot create the client network context: %s", cairn_strerror(rc));
		goto err;
	}
	return 0;
err:
	net_stop_locked();
	return rc;
}

/* Runtime references: cairn_init's, and one per attached user (cli_net_get). */
static unsigned g_rt_refs;

static void
net_atfork_prepare(void)
{
	pthread_mutex_lock(&g_net_lock);
}

static void
net_atfork_parent(void)
{
	pthread_mutex_unlock(&g_net_lock);
}

/*
 * In the child only the forking thread exists: the runtime's xstream, the RPC context and
 * its connections belong to the parent. Forget them (their memory and fds are leaked on
 * purpose: touching them would wait for threads that are gone, or talk on the parent's
 * sockets); the runtime forgets itself (src/rt's own atfork handler). The next user
 * (cairn_pool_connect, cairn_pool_global2local, cairn_init after cairn_fini) starts a
 * fresh runtime and context of the child's own. The cairn_init() references the parent
 * held stay (the child inherits an initialised library); those of the parent's attached
 * users (its pool connections) go, as those users do not exist here.
 */
static void
net_atfork_child(void)
{
	pthread_mutex_init(&g_net_lock, NULL);
	if (g_ctx == NULL && g_xs == NULL && g_group == NULL)
		return;
	g_forks++;
	g_ctx = NULL;
	g_xs = NULL;
	g_group = NULL;
	g_own_rt = false;
	g_embedded = false;
	g_rt_refs = g_rt_refs >= g_net_refs ? g_rt_refs - g_net_refs : 0;
	g_net_refs = 0;
	g_net_uri[0] = '\0';
}

static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

static void
net_atfork_register(void)
{
	(void)pthread_atfork(net_atfork_prepare, net_atfork_parent, net_atfork_child);
}

int
cli_net_rt_get(void)
{
	int rc = 0;

	pthread_once(&g_atfork_once, net_atfork_register);
	pthread_mutex_lock(&g_net_lock);
	/* Not running: the first reference, or a fork()ed child whose inherited runtime was
	 * forgotten (net_atfork_child). */
	if (g_ctx == NULL)
		rc = net_start_locked();
	if (rc == 0)
		g_rt_refs++;
	pthread_mutex_unlock(&g_net_lock);
	return rc;
}

static void
rt_put_locked(void)
{
	if (g_rt_refs > 0 && --g_rt_refs == 0)
		net_stop_locked();
}

void
cli_net_rt_put(void)
{
	pthread_mutex_lock(&g_net_lock);
	rt_put_locked();
	pthread_mutex_unlock(&g_net_lock);
}

int
cli_net_get(const char *uri)
{
	char host[64];
	uint16_t port;
	int rc = 0;

	if (uri == NULL || strlen(uri) >= sizeof(g_net_uri) ||
	    cairn_net_uri_parse(uri, host, sizeof(host), &port)) {
		CAIRN_ERROR("bad system URI '%s': expected tcp://HOST:PORT", uri ? uri : "(null)");
		return -CAIRN_ERR_INVAL;
	}
	pthread_once(&g_atfork_once, net_atfork_register);
	pthread_mutex_lock(&g_net_lock);
	if (g_net_refs > 0) {
		if (strcmp(g_net_uri, uri) != 0) {
			CAIRN_ERROR("already connected to the system at %s; one system per "
			            "process (asked for %s)",
			            g_net_uri, uri);
			rc = -CAIRN_ERR_INVAL;
		} else {
			g_net_refs++;
			g_rt_refs++;
		}
		pthread_mutex_unlock(&g_net_lock);
		return rc;
	}
	/* Normally up since cairn_init(); started here if that could not (then stopped
	 * with the last user). */
	if (g_ctx == NULL) {
		rc = net_start_locked();
		if (rc == 0 && g_forks)
			CAIRN_INFO("fork()ed child (pid %d): started a runtime of its own",
			           (int)getpid());
	}
	if (rc)
		goto out;
	g_rt_refs++;
	/* rank 0 of the engine group: added, or changed since the last system used */
	rc = cairn_net_group_rank_set(g_group, 0, uri);
	if (rc) {
		CAIRN_ERROR("cannot attach to the system at %s: %s", uri, cairn_strerror(rc));
		rt_put_locked();
		goto out;
	}
	snprintf(g_net_uri, sizeof(g_net_uri), "%s", uri);
	g_net_refs = 1;
out:
	pthread_mutex_unlock(&g_net_lock);
	return rc;
}

void
cli_net_put(void)
{
	pthread_mutex_lock(&g_net_lock);
	if (g_net_refs > 0) {
		if (--g_net_refs == 0)
			g_net_uri[0] = '\0'; /* the next user may attach to another system */
		rt_put_locked();
	}
	pthread_mutex_unlock(&g_net_lock);
}

int
cli_net_rank_set(uint32_t rank, const char *uri)
{
	int rc = -CAIRN_ERR_SHUTDOWN;

	pthread_mutex_lock(&g_net_lock);
	if (g_group)
		rc = cairn_net_group_rank_set(g_group, rank, uri);
	pthread_mutex_unlock(&g_net_lock);
	return rc;
}

/* Declared in cli_glob.h (global handles carry the system URI). */
void
cli_net_uri(char *buf, size_t len)
{
	pthread_mutex_lock(&g_net_lock);
	snprintf(buf, len, "%s", g_net_uri);
	pthread_mutex_unlock(&g_net_lock);
}

struct cairn_net_ctx *
cli_net_ctx(void)
{
	return g_ctx;
}

struct submit {
	struct cli_task *task;
	int (*fn)(void *arg);
	void *arg;
};

static void
submit_ult(void *arg)
{
	struct submit s = *(struct submit *)arg;

	free(arg);
	cli_task_complete(s.task, s.fn(s.arg));
}

int
cli_net_submit(struct cli_task *task, int (*fn)(void *arg), void *arg)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = false};
	struct submit *s;
	int rc;

	if (g_xs == NULL)
		return -CAIRN_ERR_SHUTDOWN;
	s = malloc(sizeof(*s));
	if (s == NULL)
		return -CAIRN_ERR_NOMEM;
	s->task = task;
	s->fn = fn;
	s->arg = arg;
	rc = cairn_ult_create(g_xs, submit_ult, s, &attr, NULL);
	if (rc)
		free(s);
	return rc;
}

int
cli_rpc(struct cairn_ep ep, uint32_t opc, const void *in, size_t in_size, struct cairn_rpc **rpc)
{
	struct cairn_rpc *r;
	int rc;

	if (g_ctx == NULL)
		return -CAIRN_ERR_SHUTDOWN;
	rc = cairn_rpc_create(g_ctx, ep, opc, &r);
	if (rc)
		return rc;
	memcpy(cairn_rpc_in(r), in, in_size);
	rc = cairn_rpc_send_wait(r);
	if (rc) {
		cairn_rpc_decref(r);
		return rc;
	}
	*rpc = r;
	return 0;
}
