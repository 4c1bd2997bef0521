/*
 * Shared set-up of the engine unit tests that run the vos, pool and cont modules on a
 * real runtime (1 system + 2 target xstreams) over a formatted storage directory.
 */
#ifndef CAIRN_TEST_ENGINE_H
#define CAIRN_TEST_ENGINE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt/module.h"
#include "rt/rt.h"

#include "engine_internal.h"
#include "srv_internal.h"
#include "tgt_test.h"

/* The storage directory of the running test. */
static char g_dir[256];

/* Register and set up the vos, pool and cont modules (again, after modules_stop(): a
 * restart of the services over the same storage). 0 or -1. */
static inline int
modules_start(void)
{
	if (cairn_module_register(&g_vos_srv_module) || cairn_module_register(&g_pool_srv_module) ||
	    cairn_module_register(&g_cont_srv_module))
		return -1;
	return cairn_module_setup_all();
}

static inline void
modules_stop(void)
{
	cairn_module_cleanup_all();
	cairn_module_unload("cont");
	cairn_module_unload("pool");
	cairn_module_unload("vos");
}

/* Format /tmp/cairn-test-<name>-<pid> with 2 targets of 1 GiB, start the runtime and
 * the vos, pool and cont modules as rank 0. 0 or -1. */
static inline int
engine_test_start(const char *name)
{
	struct engine_info *info = engine_info();
	struct cairn_rt_opts o;

	snprintf(g_dir, sizeof(g_dir), "/tmp/cairn-test-%s-%d", name, (int)getpid());
	if (mkdir(g_dir, 0700) < 0 || tgt_test_format(g_dir, 2, 1ull << 30) != 0)
		return -1;
	memset(info, 0, sizeof(*info));
	info->rank = 0;
	info->targets = 2;
	info->storage_dir = g_dir;
	cairn_rt_opts_default(&o);
	o.nr_system = 1;
	o.nr_main = 2;
	o.pin = false;
	if (cairn_rt_init(&o))
		return -1;
	return modules_start();
}

/* Stop the modules and the runtime, remove the storage directory. 0 or -1. */
static inline int
engine_test_stop(void)
{
	char cmd[300];

	modules_stop();
	cairn_rt_fini();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The system xstream (pool and container services run there). */
static inline struct cairn_xstream *
sys_xs(void)
{
	return cairn_xs_by_role(CAIRN_XS_SYSTEM, 0);
}

#endif /* CAIRN_TEST_ENGINE_H */
