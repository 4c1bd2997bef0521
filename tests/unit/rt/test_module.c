/*
 * Modules: built-in registration with a TLS key per tag (system/main/helper), keys
 * registered before and after the runtime starts, setup/cleanup order, dlopen loading
 * of a test module (.so) by name and by path, wrong ABI, missing module, bad
 * descriptors, and a key whose init fails making cairn_rt_init fail cleanly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_test.h"
#include "rt/module.h"

#ifndef TEST_MODULE_DIR
#error "TEST_MODULE_DIR must point at the directory of libcairn_mod_rtdemo.so"
#endif

static char g_log[64];
static unsigned g_log_n;

static void
logc(char c)
{
	if (g_log_n + 1 < sizeof(g_log)) {
		g_log[g_log_n++] = c;
		g_log[g_log_n] = '\0';
	}
}

/* ---- one built-in module per tag ---- */

struct tls {
	unsigned magic;
	unsigned xs_id;
};

static void *
tls_init(struct cairn_xstream *xs, const struct cairn_module_key *key)
{
	struct tls *t = malloc(sizeof(*t));

	if (t == NULL)
		return NULL;
	assert_ptr_equal(cairn_xs_self(), xs); /* created on the xstream's own thread */
	t->magic = key->tags;
	t->xs_id = cairn_xs_id(xs);
	return t;
}

static void
tls_fini(struct cairn_xstream *xs, const struct cairn_module_key *key, void *data)
{
	assert_ptr_equal(cairn_xs_self(), xs);
	free(data);
}

static struct cairn_module_key g_key_sys = {
        .tags = CAIRN_XS_TAG_SYSTEM, .init = tls_init, .fini = tls_fini, .index = -1};
static struct cairn_module_key g_key_main = {
        .tags = CAIRN_XS_TAG_MAIN, .init = tls_init, .fini = tls_fini, .index = -1};
static struct cairn_module_key g_key_hlp = {.tags = CAIRN_XS_TAG_HELPER | CAIRN_XS_TAG_MAIN,
                                            .init = tls_init,
                                            .fini = tls_fini,
                                            .index = -1};

static int
a_init(void)
{
	logc('i');
	return 0;
}
static int
a_fini(void)
{
	logc('f');
	return 0;
}
static int
a_setup(void)
{
	logc('S');
	return 0;
}
static int
a_cleanup(void)
{
	logc('C');
	return 0;
}
static int
b_setup(void)
{
	logc('s');
	return 0;
}
static int
b_cleanup(void)
{
	logc('c');
	return 0;
}

static struct cairn_module g_mod_a = {.abi_version = CAIRN_MODULE_ABI_VERSION,
                                      .name = "alpha",
                                      .id = 1,
                                      .version = 1,
                                      .init = a_init,
                                      .fini = a_fini,
                                      .setup = a_setup,
                                      .cleanup = a_cleanup,
                                      .key = &g_key_sys};
static struct cairn_module g_mod_b = {.abi_version = CAIRN_MODULE_ABI_VERSION,
                                      .name = "beta",
                                      .id = 2,
                                      .version = 1,
                                      .setup = b_setup,
                                      .cleanup = b_cleanup,
                                      .key = &g_key_main};
static struct cairn_module g_mod_c = {.abi_version = CAIRN_MODULE_ABI_VERSION,
                                      .name = "gamma",
                                      .id = 3,
                                      .version = 1,
                                      .key = &g_key_hlp};

static void
start_rt(void)
{
	struct cairn_rt_opts o;

	cairn_rt_opts_default(&o);
	o.nr_system = 1;
	o.nr_main = 2;
	o.nr_helper = 1;
	o.pin = false;
	o.spin_us = 10;
	assert_int_equal(cairn_rt_init(&o), 0);
}

struct probe {
	const struct cairn_module_key *key;
	void *got;
};

static void
probe_ult(void *arg)
{
	struct probe *p = arg;

	p->got = cairn_module_key_get(p->key);
}

static void
check_key(const struct cairn_module_key *key)
{
	unsigned i;

	for (i = 0; i < cairn_xs_count(); i++) {
		struct cairn_xstream *xs = cairn_xs_get(i);
		struct probe p = {.key = key};
		bool want = (key->tags & (1u << cairn_xs_role(xs))) != 0;

		assert_int_equal(cairn_rt_run_sync(xs, probe_ult, &p), 0);
		if (want) {
			struct tls *t = p.got;

			assert_non_null(t);
			assert_int_equal(t->magic, key->tags);
			assert_int_equal(t->xs_id, i);
			assert_ptr_equal(cairn_module_key_get_xs(key, xs), t);
		} else {
			assert_null(p.got);
		}
	}
	assert_null(cairn_module_key_get(key)); /* plain thread */
}

static void
test_builtin_tls(void **state)
{
	g_log_n = 0;
	g_log[0] = '\0';
	/* alpha and beta before the runtime starts, gamma after. */
	assert_int_equal(cairn_module_register(&g_mod_a), 0);
	assert_int_equal(cairn_module_register(&g_mod_b), 0);
	start_rt();
	assert_int_equal(cairn_module_register(&g_mod_c), 0);
	assert_int_equal(cairn_module_count(), 3);
	check_key(&g_key_sys);
	check_key(&g_key_main);
	check_key(&g_key_hlp);
	assert_ptr_equal(cairn_module_find("beta"), &g_mod_b);
	assert_null(cairn_module_find("delta"));

	assert_int_equal(cairn_module_setup_all(), 0);
	cairn_module_cleanup_all();
	/* Duplicate name or id. */
	assert_int_equal(cairn_module_register(&g_mod_a), -CAIRN_ERR_EXIST);

	/* Restart: keys are instantiated again on the new xstreams. */
	cairn_rt_fini();
	start_rt();
	check_key(&g_key_main);
	cairn_rt_fini();

	cairn_module_fini_all();
	assert_int_equal(cairn_module_count(), 0);
	assert_int_equal(g_key_main.index, -1);
	assert_string_equal(g_log, "iSscCf");
}

/* ---- dlopen ---- */

static void
test_dlopen(void **state)
{
	char path[1024];
	struct cairn_module *m;
	unsigned i;

	start_rt();
	setenv("CAIRN_MODULE_PATH", "/nonexistent:" TEST_MODULE_DIR, 1);
	assert_int_equal(cairn_module_load("rtdemo"), 0);
	m = cairn_module_find("rtdemo");
	assert_non_null(m);
	assert_int_equal(m->version, 3);
	/* Its key lives on main xstreams only and was made by the module's code. */
	for (i = 0; i < cairn_xs_count(); i++) {
		unsigned *v = cairn_module_key_get_xs(m->key, cairn_xs_get(i));

		if (cairn_xs_role(cairn_xs_get(i)) == CAIRN_XS_MAIN) {
			assert_non_null(v);
			assert_int_equal(*v, 1000 + i);
		} else {
			assert_null(v);
		}
	}
	assert_int_equal(cairn_module_load("rtdemo"), -CAIRN_ERR_EXIST);
	assert_int_equal(cairn_module_unload("rtdemo"), 0);
	assert_null(cairn_module_find("rtdemo"));
	assert_int_equal(cairn_module_unload("rtdemo"), -CAIRN_ERR_NONEXIST);

	/* By path. */
	snprintf(path, sizeof(path), "%s/libcairn_mod_rtdemo.so", TEST_MODULE_DIR);
	assert_int_equal(cairn_module_load(path), 0);
	assert_int_equal(cairn_module_unload("rtdemo"), 0);

	/* Wrong ABI: refused, nothing registered. */
	assert_int_equal(cairn_module_load("rtold"), -CAIRN_ERR_VERSION);
	assert_null(cairn_module_find("rtold"));
	/* Missing module, bad names. */
	assert_int_equal(cairn_module_load("nosuchmodule"), -CAIRN_ERR_NONEXIST);
	assert_int_equal(cairn_module_load("/nonexistent/libcairn_mod_name.so"),
	                 -CAIRN_ERR_NONEXIST);
	assert_int_equal(cairn_module_load("/tmp/lib-bad-name.so"), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_module_load("bad name"), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_module_load(""), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_module_count(), 0);
	cairn_rt_fini();
	unsetenv("CAIRN_MODULE_PATH");
}

/* ---- bad descriptors ---- */

static void
test_bad_descriptors(void **state)
{
	struct cairn_module bad_abi = {.abi_version = 0, .name = "x", .id = 5};
	struct cairn_module bad_name = {
	        .abi_version = CAIRN_MODULE_ABI_VERSION, .name = "a-b", .id = 5};
	struct cairn_module bad_id = {
	        .abi_version = CAIRN_MODULE_ABI_VERSION, .name = "ok", .id = CAIRN_MODULE_MAX};
	struct cairn_module_key k = {.tags = 0, .index = -1};
	struct cairn_module bad_key = {
	        .abi_version = CAIRN_MODULE_ABI_VERSION, .name = "ok", .id = 5, .key = &k};

	assert_int_equal(cairn_module_register(NULL), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_module_register(&bad_abi), -CAIRN_ERR_VERSION);
	assert_int_equal(cairn_module_register(&bad_name), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_module_register(&bad_id), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_module_register(&bad_key), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_module_count(), 0);
}

/* ---- a failing key init makes the runtime start fail, nothing left running ---- */

static void *
failing_init(struct cairn_xstream *xs, const struct cairn_module_key *key)
{
	return NULL;
}

static struct cairn_module_key g_key_fail = {
        .tags = CAIRN_XS_TAG_HELPER, .init = failing_init, .index = -1};
static struct cairn_module g_mod_fail = {
        .abi_version = CAIRN_MODULE_ABI_VERSION, .name = "failing", .id = 9, .key = &g_key_fail};

static void
test_failing_key(void **state)
{
	struct cairn_rt_opts o;

	assert_int_equal(cairn_module_register(&g_mod_b), 0);
	assert_int_equal(cairn_module_register(&g_mod_fail), 0);
	cairn_rt_opts_default(&o);
	o.nr_main = 2;
	o.nr_helper = 1;
	o.pin = false;
	assert_int_equal(cairn_rt_init(&o), -CAIRN_ERR_NOMEM);
	assert_false(cairn_rt_running());
	assert_int_equal(cairn_xs_count(), 0);
	/* Fixed: it starts. (ASan checks the main-key instances were freed.) */
	assert_int_equal(cairn_module_unload("failing"), 0);
	assert_int_equal(cairn_rt_init(&o), 0);
	check_key(&g_key_main);
	/* Loading a module whose key fails on a running runtime fails cleanly too. */
	assert_int_equal(cairn_module_register(&g_mod_fail), -CAIRN_ERR_NOMEM);
	assert_null(cairn_module_find("failing"));
	cairn_rt_fini();
	cairn_module_fini_all();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_builtin_tls),
	        cmocka_unit_test(test_dlopen),
	        cmocka_unit_test(test_bad_descriptors),
	        cmocka_unit_test(test_failing_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
