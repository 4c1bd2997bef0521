/*
 * Runtime lifecycle and xstreams: option validation, creation of every xstream's
 * resources before any thread starts, the start handshake (pinning and module TLS on
 * each thread; any failure stops all of them again), and the clean stop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

#include <hwloc.h>

#define CAIRN_LOG_SS CAIRN_SS_RT
#include "common/log.h"
#include "rt_internal.h"
#include "rt/metrics.h"

struct rt_global g_rt;

static const char *const g_role_prefix[3] = {"sys", "tgt", "hlp"};

/* Start handshake between cairn_rt_init() and the xstream threads. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned ready;
	int rc; /* first failure of a thread */
	int go; /* 1: run, -1: abort */
} g_start = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};

static hwloc_topology_t g_topo;
static int *g_cpus;
static unsigned g_nr_cpus;
static pthread_mutex_t g_init_lock = PTHREAD_MUTEX_INITIALIZER;

void
cairn_rt_opts_default(struct cairn_rt_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->opts_size = sizeof(*opts);
	opts->nr_system = 1;
	opts->nr_main = 1;
	opts->nr_helper = 0;
	opts->stack_size = CAIRN_RT_DEFAULT_STACK;
	opts->msg_ring_size = 4096;
	opts->spin_us = 50;
	opts->pin = true;
	opts->cpu_list = NULL;
}

/* "0-3,6" -> OS PU indexes. */
static int
parse_cpu_list(const char *s, int **out, unsigned *nr)
{
	int *v = NULL;
	unsigned n = 0, cap = 0;
	const char *p = s;

	while (*p != '\0') {
		char *end;
		unsigned long a, b;

		if (*p < '0' || *p > '9')
			goto err_syntax;
		a = strtoul(p, &end, 10);
		b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (*p < '0' || *p > '9')
				goto err_syntax;
			b = strtoul(p, &end, 10);
			p = end;
		}
		if (a > b || b >= 4096)
			goto err_range;
		for (; a <= b; a++) {
			if (n == cap) {
				int *nv;

				cap = cap ? cap * 2 : 16;
				nv = realloc(v, cap * sizeof(*v));
				if (nv == NULL) {
					free(v);
					return -CAIRN_ERR_NOMEM;
				}
				v = nv;
			}
			v[n++] = (int)a;
		}
		if (*p == ',')
			p++;
		else if (*p != '\0')
			goto err_syntax;
	}
	if (n == 0)
		goto err_syntax;
	*out = v;
	*nr = n;
	return 0;
err_range:
	CAIRN_ERROR("cpu list '%s': bad range near '%s', expected ascending CPU numbers < 4096", s,
	            p);
	free(v);
	return -CAIRN_ERR_INVAL;
err_syntax:
	CAIRN_ERROR("cpu list '%s': syntax error near '%s', expected e.g. \"0-3,6\"", s, p);
	free(v);
	return -CAIRN_ERR_INVAL;
}

static int
opts_validate(const struct cairn_rt_opts *in, struct cairn_rt_opts *o)
{
	unsigned total;

	cairn_rt_opts_default(o);
	if (in != NULL) {
		if (in->opts_size == 0 || in->opts_size > sizeof(*o)) {
			CAIRN_ERROR("runtime options: opts_size %zu, expected %zu (set it with "
			            "cairn_rt_opts_default())",
			            in->opts_size, sizeof(*o));
			return -CAIRN_ERR_INVAL;
		}
		memcpy(o, in, in->opts_size);
		o->opts_size = sizeof(*o);
	}
	if (o->nr_system > 1) {
		CAIRN_ERROR("runtime options: %u system xstreams, expected 0 or 1", o->nr_system);
		return -CAIRN_ERR_INVAL;
	}
	if (o->nr_main > CAIRN_RT_MAX_XSTREAMS || o->nr_helper > CAIRN_RT_MAX_XSTREAMS) {
		CAIRN_ERROR("runtime options: %u main / %u helper xstreams, at most %u in total",
		            o->nr_main, o->nr_helper, CAIRN_RT_MAX_XSTREAMS);
		return -CAIRN_ERR_INVAL;
	}
	total = o->nr_system + o->nr_main + o->nr_helper;
	if (total == 0 || total > CAIRN_RT_MAX_XSTREAMS) {
		CAIRN_ERROR("runtime options: %u xstreams in total, expected 1..%u", total,
		            CAIRN_RT_MAX_XSTREAMS);
		return -CAIRN_ERR_INVAL;
	}
	if (o->stack_size < CAIRN_RT_MIN_STACK_SIZE || o->stack_size > (1ul << 30)) {
		CAIRN_ERROR("runtime options: ULT stack size %zu bytes, expected %u..%lu",
		            o->stack_size, CAIRN_RT_MIN_STACK_SIZE, 1ul << 30);
		return -CAIRN_ERR_INVAL;
	}
	if (o->msg_ring_size < 4 || o->msg_ring_size > (1u << 24) ||
	    (o->msg_ring_size & (o->msg_ring_size - 1)) != 0) {
		CAIRN_ERROR("runtime options: message ring of %u entries, expected a power of "
		            "two in 4..16777216",
		            o->msg_ring_size);
		return -CAIRN_ERR_INVAL;
	}
	if (o->spin_us > 1000000) {
		CAIRN_ERROR("runtime options: spin_us %u, expected at most 1000000", o->spin_us);
		return -CAIRN_ERR_INVAL;
	}
	return 0;
}

static int
topo_setup(const struct cairn_rt_opts *o)
{
	hwloc_const_cpuset_t allowed;
	int rc, i, n;

	if (hwloc_topology_init(&g_topo) != 0 || hwloc_topology_load(g_topo) != 0) {
		CAIRN_ERROR("hwloc: cannot load the CPU topology");
		if (g_topo != NULL)
			hwloc_topology_destroy(g_topo);
		g_topo = NULL;
		return -CAIRN_ERR_MISC;
	}
	allowed = hwloc_topology_get_allowed_cpuset(g_topo);
	if (o->cpu_list != NULL && o->cpu_list[0] != '\0') {
		unsigned k;

		rc = parse_cpu_list(o->cpu_list, &g_cpus, &g_nr_cpus);
		if (rc != 0)
			goto err_topo;
		for (k = 0; k < g_nr_cpus; k++) {
			if (!hwloc_bitmap_isset(allowed, (unsigned)g_cpus[k])) {
				CAIRN_ERROR("cpu list '%s': CPU %d is not available to this "
				            "process (see the cpuset / `nproc`)",
				            o->cpu_list, g_cpus[k]);
				rc = -CAIRN_ERR_INVAL;
				goto err_cpus;
			}
		}
		return 0;
	}
	/* One PU per core, in topology order; xstreams are spread round robin. */
	n = hwloc_get_nbobjs_by_type(g_topo, HWLOC_OBJ_CORE);
	g_cpus = calloc(n > 0 ? (size_t)n : 1, sizeof(*g_cpus));
	if (g_cpus == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto err_topo;
	}
	g_nr_cpus = 0;
	for (i = 0; i < n; i++) {
		hwloc_obj_t core = hwloc_get_obj_by_type(g_topo, HWLOC_OBJ_CORE, (unsigned)i);
		hwloc_bitmap_t set;
		int pu;

		if (core == NULL || core->cpuset == NULL)
			continue;
		set = hwloc_bitmap_dup(core->cpuset);
		if (set == NULL)
			continue;
		hwloc_bitmap_and(set, set, allowed);
		pu = hwloc_bitmap_first(set);
		hwloc_bitmap_free(set);
		if (pu >= 0)
			g_cpus[g_nr_cpus++] = pu;
	}
	return 0;
err_cpus:
	free(g_cpus);
	g_cpus = NULL;
	g_nr_cpus = 0;
err_topo:
	hwloc_topology_destroy(g_topo);
	g_topo = NULL;
	return rc;
}

static void
topo_teardown(void)
{
	free(g_cpus);
	g_cpus = NULL;
	g_nr_cpus = 0;
	if (g_topo != NULL)
		hwloc_topology_destroy(g_topo);
	g_topo = NULL;
}

static void
xs_destroy(struct cairn_xstream *xs)
{
	if (xs == NULL)
		return;
	if (xs->epfd >= 0)
		close(xs->epfd);
	if (xs->evfd >= 0)
		close(xs->evfd);
	if (xs->tfd >= 0)
		close(xs->tfd);
	rt_timer_heap_fini(&xs->timers);
	rt_stack_pool_fini(&xs->stacks);
	rt_ring_fini(xs);
	free(xs);
}

static struct cairn_xstream *
xs_create(unsigned id, enum cairn_xs_role role, unsigned role_idx, const struct cairn_rt_opts *o)
{
	struct cairn_xstream *xs;
	struct epoll_event ev;
	unsigned i;

	xs = aligned_alloc(RT_CACHELINE,
	                   (sizeof(*xs) + RT_CACHELINE - 1) & ~(size_t)(RT_CACHELINE - 1));
	if (xs == NULL)
		return NULL;
	memset(xs, 0, sizeof(*xs));
	xs->epfd = xs->evfd = xs->tfd = -1;
	xs->id = id;
	xs->role = role;
	xs->role_idx = role_idx;
	xs->cpu = -1;
	snprintf(xs->name, sizeof(xs->name), "%s%u", g_role_prefix[role], role_idx);
	for (i = 0; i < CAIRN_PRIO_MAX; i++)
		cairn_list_init(&xs->ready[i]);
	cairn_list_init(&xs->pollers);
	cairn_list_init(&xs->timed_pollers);
	rt_sched_xs_init(xs);
	xs->stack_size = o->stack_size;
	xs->spin_us = o->spin_us;
	rt_stack_pool_init(&xs->stacks, o->stack_size, 256);

	if (rt_ring_init(xs, o->msg_ring_size) != 0)
		goto err;

	xs->timers.v = malloc(256 * sizeof(*xs->timers.v));
	if (xs->timers.v == NULL)
		goto err;
	xs->timers.cap = 256;

	xs->epfd = epoll_create1(EPOLL_CLOEXEC);
	xs->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	xs->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (xs->epfd < 0 || xs->evfd < 0 || xs->tfd < 0) {
		CAIRN_ERROR("%s: cannot create epoll/eventfd/timerfd: %s", xs->name,
		            strerror(errno));
		goto err;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = xs->evfd;
	if (epoll_ctl(xs->epfd, EPOLL_CTL_ADD, xs->evfd, &ev) != 0)
		goto err;
	ev.data.fd = xs->tfd;
	if (epoll_ctl(xs->epfd, EPOLL_CTL_ADD, xs->tfd, &ev) != 0)
		goto err;
	return xs;
err:
	xs_destroy(xs);
	return NULL;
}

static void
xs_pin(struct cairn_xstream *xs)
{
	hwloc_bitmap_t set;
	int cpu;

	if (g_topo == NULL || g_nr_cpus == 0)
		return;
	cpu = g_cpus[xs->id % g_nr_cpus];
	set = hwloc_bitmap_alloc();
	if (set == NULL)
		return;
	hwloc_bitmap_only(set, (unsigned)cpu);
	if (hwloc_set_cpubind(g_topo, set, HWLOC_CPUBIND_THREAD) != 0)
		CAIRN_WARN("%s: cannot pin to CPU %d (%s); running unpinned", xs->name, cpu,
		           strerror(errno));
	else
		xs->cpu = cpu;
	hwloc_bitmap_free(set);
}

/* The scheduler context of xs runs on the calling thread's stack: tell ASan where it is
 * (ULTs switching back name it). */
static void
xs_sched_stack_is_mine(struct cairn_xstream *xs)
{
#ifdef RT_ASAN
	pthread_attr_t pa;
	void *addr;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &pa) == 0) {
		if (pthread_attr_getstack(&pa, &addr, &size) == 0) {
			xs->sched_stack_bottom = addr;
			xs->sched_stack_size = size;
		}
		pthread_attr_destroy(&pa);
	}
#else
	(void)xs;
#endif
}

/* After the loop: late messages, pollers, TLS, stacks. On xs's thread (t_rt_xs == xs). */
static void
xs_cleanup(struct cairn_xstream *xs, bool tls)
{
	atomic_store(&xs->exited, true);
	/* Messages that raced with the stop are run here rather than lost. */
	while (rt_msgs_drain(xs, 64) != 0)
		;
	rt_pollers_fini(xs);
	if (tls)
		rt_module_xs_fini(xs);
	rt_stack_pool_fini(&xs->stacks);
}

static void *
xs_main(void *arg)
{
	struct cairn_xstream *xs = arg;
	char tname[16];
	int rc, go;

	t_rt_xs = xs;
	xs_sched_stack_is_mine(xs);
	snprintf(tname, sizeof(tname), "cairn-%.9s", xs->name);
	pthread_setname_np(pthread_self(), tname);
	cairn_log_set_thread_name(xs->name);
	if (g_rt.opts.pin)
		xs_pin(xs);
	rc = rt_module_xs_init(xs);

	pthread_mutex_lock(&g_start.lock);
	if (rc != 0 && g_start.rc == 0)
		g_start.rc = rc;
	g_start.ready++;
	pthread_cond_broadcast(&g_start.cond);
	while (g_start.go == 0)
		pthread_cond_wait(&g_start.cond, &g_start.lock);
	go = g_start.go;
	pthread_mutex_unlock(&g_start.lock);

	if (go > 0)
		rt_sched_loop(xs);
	xs_cleanup(xs, rc == 0); /* on failure rt_module_xs_init() already undid its work */
	cairn_log_set_thread_name(NULL);
	t_rt_xs = NULL;
	return NULL;
}

static void
rt_teardown(unsigned nr_created)
{
	unsigned i;

	for (i = 0; i < nr_created; i++)
		xs_destroy(g_rt.xs[i]);
	free(g_rt.xs);
	g_rt.xs = NULL;
	g_rt.nr_xs = 0;
	memset(g_rt.nr_role, 0, sizeof(g_rt.nr_role));
	topo_teardown();
}

/* Manual mode: no threads; module TLS is created here, on the driving thread. */
static int
manual_start(void)
{
	unsigned i;
	int rc = 0;

	g_rt.driver = pthread_self();
	atomic_store(&g_rt.running, true);
	for (i = 0; i < g_rt.nr_xs; i++) {
		t_rt_xs = g_rt.xs[i];
		xs_sched_stack_is_mine(g_rt.xs[i]);
		rc = rt_module_xs_init(g_rt.xs[i]);
		t_rt_xs = NULL;
		if (rc != 0)
			break;
	}
	if (rc != 0) {
		CAIRN_ERROR("runtime start failed (%s); nothing left running", cairn_strerror(rc));
		while (i-- > 0) {
			t_rt_xs = g_rt.xs[i];
			rt_module_xs_fini(g_rt.xs[i]);
			t_rt_xs = NULL;
		}
		atomic_store(&g_rt.running, false);
		g_rt.manual = false;
		rt_teardown(g_rt.nr_xs);
		return rc;
	}
	CAIRN_INFO("runtime started in manual mode: %u xstreams driven by the caller", g_rt.nr_xs);
	return 0;
}

static void
manual_stop(void)
{
	uint64_t warn = rt_clock_us() + 5000000u;
	unsigned i;
	bool done = false;

	while (!done) {
		done = true;
		if (cairn_rt_poll_all() != 0)
			done = false;
		for (i = 0; i < g_rt.nr_xs && done; i++)
			done = rt_sched_may_exit(g_rt.xs[i]);
		if (!done && rt_clock_us() > warn) {
			CAIRN_WARN("stopping, still waiting for %u ULT(s) in the runtime",
			           (unsigned)atomic_load(&g_rt.live_ults));
			warn = rt_clock_us() + 5000000u;
		}
	}
	for (i = 0; i < g_rt.nr_xs; i++) {
		t_rt_xs = g_rt.xs[i];
		xs_cleanup(g_rt.xs[i], true);
		t_rt_xs = NULL;
	}
}

unsigned
cairn_rt_poll(struct cairn_xstream *xs)
{
	if (xs == NULL || !g_rt.manual || !atomic_load(&g_rt.running) || t_rt_xs != NULL ||
	    !pthread_equal(pthread_self(), g_rt.driver)) {
		CAIRN_ERROR("cairn_rt_poll: only in manual mode, from the thread that started "
		            "the runtime, outside any xstream");
		return 0;
	}
	return rt_sched_poll(xs);
}

unsigned
cairn_rt_poll_all(void)
{
	unsigned i, work = 0;

	if (!g_rt.manual || !atomic_load(&g_rt.running)) {
		CAIRN_ERROR("cairn_rt_poll_all: only in manual mode");
		return 0;
	}
	for (i = 0; i < g_rt.nr_xs; i++)
		work += cairn_rt_poll(g_rt.xs[i]);
	return work;
}

unsigned
cairn_rt_poll_until_idle(unsigned max_rounds)
{
	unsigned r;

	for (r = 0; r < max_rounds; r++) {
		if (cairn_rt_poll_all() == 0)
			break;
	}
	return r;
}

/*
 * fork(): the child has only the forking thread; the runtime's xstream threads are gone.
 * Forget the runtime there, so the child may start one of its own (a forked libcairn
 * user, an MPI rank): its memory and fds are leaked on purpose, since freeing them would
 * wait for threads that do not exist. Locks another thread may have held are reset.
 */
static void
rt_atfork_child(void)
{
	pthread_mutex_init(&g_init_lock, NULL);
	pthread_mutex_init(&g_start.lock, NULL);
	pthread_cond_init(&g_start.cond, NULL);
	rt_metrics_atfork_child();
	t_rt_xs = NULL;
	if (!atomic_load(&g_rt.running))
		return;
	g_rt.xs = NULL;
	g_rt.nr_xs = 0;
	memset(g_rt.nr_role, 0, sizeof(g_rt.nr_role));
	memset(g_rt.first_role, 0, sizeof(g_rt.first_role));
	g_rt.manual = false;
	atomic_store(&g_rt.live_ults, 0);
	atomic_store(&g_rt.stopping, false);
	atomic_store(&g_rt.running, false);
	g_topo = NULL;
	g_cpus = NULL;
	g_nr_cpus = 0;
}

static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

static void
rt_atfork_register(void)
{
	(void)pthread_atfork(NULL, NULL, rt_atfork_child);
}

int
cairn_rt_init(const struct cairn_rt_opts *opts)
{
	struct cairn_rt_opts o;
	unsigned i, started = 0, role, idx, id;
	int rc;

	pthread_once(&g_atfork_once, rt_atfork_register);
	pthread_mutex_lock(&g_init_lock);
	if (atomic_load(&g_rt.running)) {
		CAIRN_ERROR("runtime already running");
		rc = -CAIRN_ERR_ALREADY;
		goto out_unlock;
	}
	rc = opts_validate(opts, &o);
	if (rc != 0)
		goto out_unlock;
	rc = topo_setup(&o);
	if (rc != 0)
		goto out_unlock;
	rt_metrics_register_builtin();

	g_rt.opts = o;
	g_rt.opts.cpu_list = NULL; /* not owned */
	g_rt.nr_xs = o.nr_system + o.nr_main + o.nr_helper;
	g_rt.nr_role[CAIRN_XS_SYSTEM] = o.nr_system;
	g_rt.nr_role[CAIRN_XS_MAIN] = o.nr_main;
	g_rt.nr_role[CAIRN_XS_HELPER] = o.nr_helper;
	g_rt.first_role[CAIRN_XS_SYSTEM] = 0;
	g_rt.first_role[CAIRN_XS_MAIN] = o.nr_system;
	g_rt.first_role[CAIRN_XS_HELPER] = o.nr_system + o.nr_main;
	atomic_store(&g_rt.live_ults, 0);
	atomic_store(&g_rt.stopping, false);
	g_rt.xs = calloc(g_rt.nr_xs, sizeof(*g_rt.xs));
	if (g_rt.xs == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		rt_teardown(0);
		goto out_unlock;
	}
	id = 0;
	for (role = 0; role < 3; role++) {
		for (idx = 0; idx < g_rt.nr_role[role]; idx++, id++) {
			g_rt.xs[id] = xs_create(id, (enum cairn_xs_role)role, idx, &o);
			if (g_rt.xs[id] == NULL) {
				CAIRN_ERROR("cannot create xstream %u of %u", id, g_rt.nr_xs);
				rc = -CAIRN_ERR_NOMEM;
				rt_teardown(id);
				goto out_unlock;
			}
		}
	}

	g_rt.manual = o.manual;
	if (o.manual) {
		rc = manual_start();
		goto out_unlock;
	}
	g_start.ready = 0;
	g_start.rc = 0;
	g_start.go = 0;
	atomic_store(&g_rt.running, true); /* xstreams may create ULTs from module init */
	for (i = 0; i < g_rt.nr_xs; i++) {
		rc = pthread_create(&g_rt.xs[i]->thread, NULL, xs_main, g_rt.xs[i]);
		if (rc != 0) {
			CAIRN_ERROR("cannot start xstream thread %s: %s", g_rt.xs[i]->name,
			            strerror(rc));
			rc = -rc;
			break;
		}
		g_rt.xs[i]->started = true;
		started++;
	}
	pthread_mutex_lock(&g_start.lock);
	while (g_start.ready < started)
		pthread_cond_wait(&g_start.cond, &g_start.lock);
	if (rc == 0)
		rc = g_start.rc;
	g_start.go = rc == 0 ? 1 : -1;
	pthread_cond_broadcast(&g_start.cond);
	pthread_mutex_unlock(&g_start.lock);

	if (rc != 0) {
		CAIRN_ERROR("runtime start failed (%s); every xstream stopped again",
		            cairn_strerror(rc));
		atomic_store(&g_rt.stopping, true);
		for (i = 0; i < started; i++)
			pthread_join(g_rt.xs[i]->thread, NULL);
		atomic_store(&g_rt.running, false);
		rt_teardown(g_rt.nr_xs);
		goto out_unlock;
	}
	CAIRN_INFO("runtime started: %u xstreams (system %u, main %u, helper %u), stack %zu, "
	           "ring %u, spin %u us, %s",
	           g_rt.nr_xs, o.nr_system, o.nr_main, o.nr_helper, o.stack_size, o.msg_ring_size,
	           o.spin_us, o.pin ? "pinned" : "unpinned");
out_unlock:
	pthread_mutex_unlock(&g_init_lock);
	return rc;
}

void
cairn_rt_fini(void)
{
	unsigned i;

	if (t_rt_xs != NULL) {
		CAIRN_ERROR("cairn_rt_fini() called from xstream %s; ignored", t_rt_xs->name);
		return;
	}
	pthread_mutex_lock(&g_init_lock);
	if (!atomic_load(&g_rt.running)) {
		pthread_mutex_unlock(&g_init_lock);
		return;
	}
	if (g_rt.manual && !pthread_equal(pthread_self(), g_rt.driver)) {
		pthread_mutex_unlock(&g_init_lock);
		CAIRN_ERROR("cairn_rt_fini: a manual runtime stops from its driving thread");
		return;
	}
	atomic_store(&g_rt.stopping, true);
	for (i = 0; i < g_rt.nr_xs; i++) {
		atomic_store(&g_rt.xs[i]->stop, true);
		rt_xs_kick(g_rt.xs[i]);
	}
	if (g_rt.manual) {
		manual_stop();
	} else {
		for (i = 0; i < g_rt.nr_xs; i++)
			pthread_join(g_rt.xs[i]->thread, NULL);
	}
	atomic_store(&g_rt.running, false);
	g_rt.manual = false;
	rt_teardown(g_rt.nr_xs);
	rt_metrics_free_values();
	atomic_store(&g_rt.stopping, false);
	CAIRN_INFO("runtime stopped");
	pthread_mutex_unlock(&g_init_lock);
}

bool
cairn_rt_running(void)
{
	return atomic_load(&g_rt.running) && !atomic_load(&g_rt.stopping);
}

/* ------------------------------------------------------------------ getters */

unsigned
cairn_xs_count(void)
{
	return atomic_load(&g_rt.running) ? g_rt.nr_xs : 0;
}

struct cairn_xstream *
cairn_xs_get(unsigned idx)
{
	if (!atomic_load(&g_rt.running) || idx >= g_rt.nr_xs)
		return NULL;
	return g_rt.xs[idx];
}

struct cairn_xstream *
cairn_xs_by_role(enum cairn_xs_role role, unsigned i)
{
	if (!atomic_load(&g_rt.running) || (unsigned)role > CAIRN_XS_HELPER ||
	    i >= g_rt.nr_role[role])
		return NULL;
	return g_rt.xs[g_rt.first_role[role] + i];
}

unsigned
cairn_xs_count_role(enum cairn_xs_role role)
{
	if (!atomic_load(&g_rt.running) || (unsigned)role > CAIRN_XS_HELPER)
		return 0;
	return g_rt.nr_role[role];
}

struct cairn_xstream *
cairn_xs_self(void)
{
	return t_rt_xs;
}

unsigned
cairn_xs_id(const struct cairn_xstream *xs)
{
	return xs->id;
}

unsigned
cairn_xs_role_idx(const struct cairn_xstream *xs)
{
	return xs->role_idx;
}

enum cairn_xs_role
cairn_xs_role(const struct cairn_xstream *xs)
{
	return xs->role;
}

const char *
cairn_xs_name(const struct cairn_xstream *xs)
{
	return xs->name;
}

int
cairn_xs_cpu(const struct cairn_xstream *xs)
{
	return xs->cpu;
}

void
cairn_xs_stats(const struct cairn_xstream *xs, struct cairn_xs_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->switches = atomic_load_explicit(&xs->st_switches, memory_order_relaxed);
	st->msgs = atomic_load_explicit(&xs->st_msgs, memory_order_relaxed);
	st->sleeps = atomic_load_explicit(&xs->st_sleeps, memory_order_relaxed);
	st->loops = atomic_load_explicit(&xs->st_loops, memory_order_relaxed);
	st->kicks = atomic_load(&xs->kicks);
	st->live_ults = atomic_load(&xs->nr_ults);
}

/* ------------------------------------------------------------------ run_sync */

int
cairn_rt_run_sync(struct cairn_xstream *xs, cairn_ult_fn fn, void *arg)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	struct cairn_ult *ult;
	int rc;

	if (xs == NULL || fn == NULL)
		return -CAIRN_ERR_INVAL;
	if (t_rt_xs == xs && xs->cur == NULL) {
		CAIRN_ERROR("%s: run_sync from its own scheduler context would deadlock", xs->name);
		return -CAIRN_ERR_INVAL;
	}
	rc = cairn_ult_create(xs, fn, arg, &attr, &ult);
	if (rc != 0)
		return rc;
	return cairn_ult_join(ult);
}
