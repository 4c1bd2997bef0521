/*
 * Options and bad input: YAML runtime sections (good ones and every kind of mistake,
 * with the line number checked in the logged message), impossible xstream counts,
 * stack below the minimum, bad rings and cpu lists -> -CAIRN_ERR_INVAL and nothing
 * started; pin=false and a cpu list work.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_test.h"
#include "common/log.h"

static char g_dir[256];
static char g_logpath[512];

static int
setup(void **state)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/cairn-rt-cfg-XXXXXX");
	assert_non_null(mkdtemp(g_dir));
	snprintf(g_logpath, sizeof(g_logpath), "%s/log", g_dir);
	return 0;
}

static int
teardown(void **state)
{
	char p[600];

	cairn_log_set_file(NULL);
	snprintf(p, sizeof(p), "%s/log", g_dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/c.yaml", g_dir);
	unlink(p);
	rmdir(g_dir);
	return 0;
}

static const char *
write_yaml(const char *text)
{
	static char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/c.yaml", g_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Parse text; expect rc, and when rc != 0 a logged "c.yaml:<line>:" plus `what`. */
static void
expect_yaml(const char *text, int rc, int line, const char *what)
{
	struct cairn_rt_opts o;
	char buf[4096], needle[64];
	FILE *f;
	size_t n;

	unlink(g_logpath);
	assert_int_equal(cairn_log_set_file(g_logpath), 0);
	assert_int_equal(cairn_rt_opts_from_yaml(write_yaml(text), &o), rc);
	cairn_log_set_file(NULL);
	if (rc == 0)
		return;
	f = fopen(g_logpath, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	snprintf(needle, sizeof(needle), "c.yaml:%d:", line);
	if (strstr(buf, needle) == NULL || strstr(buf, what) == NULL)
		fail_msg("expected '%s' and '%s' in: %s", needle, what, buf);
}

static void
test_yaml_good(void **state)
{
	struct cairn_rt_opts o;

	assert_int_equal(
	        cairn_rt_opts_from_yaml(write_yaml("# engine config\n"
	                                           "runtime:\n"
	                                           "  xstreams: {system: 1, main: 3, helper: 2}\n"
	                                           "  stack_size: 128k\n"
	                                           "  msg_ring_size: 1024\n"
	                                           "  spin_us: 0\n"
	                                           "  pin: false\n"
	                                           "  cpus: \"0\"\n"
	                                           "network: {ignored: true}\n"),
	                                &o),
	        0);
	assert_int_equal(o.nr_system, 1);
	assert_int_equal(o.nr_main, 3);
	assert_int_equal(o.nr_helper, 2);
	assert_int_equal(o.stack_size, 128 * 1024);
	assert_int_equal(o.msg_ring_size, 1024);
	assert_int_equal(o.spin_us, 0);
	assert_false(o.pin);
	assert_string_equal(o.cpu_list, "0");
	/* It really starts; with pin: false the cpus list is validated but not used. */
	assert_int_equal(cairn_rt_init(&o), 0);
	assert_int_equal(cairn_xs_count(), 6);
	assert_int_equal(cairn_xs_cpu(cairn_xs_get(0)), -1);
	cairn_rt_fini();

	/* Top-level form, with defaults for the rest. */
	assert_int_equal(cairn_rt_opts_from_yaml(write_yaml("xstreams:\n  main: 2\n"), &o), 0);
	assert_int_equal(o.nr_system, 1);
	assert_int_equal(o.nr_main, 2);
	assert_int_equal(o.stack_size, CAIRN_RT_DEFAULT_STACK);
	assert_true(o.pin);
}

static void
test_yaml_bad(void **state)
{
	expect_yaml("runtime:\n  xstreams: {system: 2}\n", -CAIRN_ERR_INVAL, 2, "out of range");
	expect_yaml("runtime:\n  xstreams: {main: -1}\n", -CAIRN_ERR_INVAL, 2,
	            "not an unsigned integer");
	expect_yaml("runtime:\n  xstreams: {main: 300}\n", -CAIRN_ERR_INVAL, 2, "out of range");
	expect_yaml("runtime:\n  xstreams: {system: 0, main: 0}\n", -CAIRN_ERR_INVAL, 2,
	            "expected 1..256");
	expect_yaml("runtime:\n  xstreams: {cores: 1}\n", -CAIRN_ERR_INVAL, 2,
	            "unknown key 'xstreams.cores'");
	expect_yaml("runtime:\n  xstreams: 4\n", -CAIRN_ERR_INVAL, 2, "expected a mapping");
	expect_yaml("runtime:\n  pin: true\n  stack_size: 4k\n", -CAIRN_ERR_INVAL, 3,
	            "out of range");
	expect_yaml("runtime:\n  stack_size: 64q\n", -CAIRN_ERR_INVAL, 2, "is not a size");
	expect_yaml("runtime:\n  stack_size: 99999999999999999999999\n", -CAIRN_ERR_INVAL, 2,
	            "is not a size");
	expect_yaml("runtime:\n  msg_ring_size: 1000\n", -CAIRN_ERR_INVAL, 2, "power of two");
	expect_yaml("runtime:\n  spin_us: 2000000\n", -CAIRN_ERR_INVAL, 2, "out of range");
	expect_yaml("runtime:\n  pin: maybe\n", -CAIRN_ERR_INVAL, 2, "not a boolean");
	expect_yaml("runtime:\n  colour: blue\n", -CAIRN_ERR_INVAL, 2, "unknown key 'colour'");
	expect_yaml("colour: blue\n", -CAIRN_ERR_INVAL, 1, "unknown key 'colour'");
	expect_yaml("runtime: [1, 2]\n", -CAIRN_ERR_INVAL, 1, "expected a mapping");
	expect_yaml("runtime:\n  xstreams: {main: 1\n", -CAIRN_ERR_INVAL, 3, "YAML syntax error");
	expect_yaml("- a\n- b\n", -CAIRN_ERR_INVAL, 1, "expected a mapping");
	expect_yaml("runtime:\n  cpus: [0, 1]\n", -CAIRN_ERR_INVAL, 2, "expected a scalar");
	{
		struct cairn_rt_opts o;

		assert_int_equal(cairn_rt_opts_from_yaml("/nonexistent/x.yaml", &o), -ENOENT);
		assert_int_equal(cairn_rt_opts_from_yaml(NULL, &o), -CAIRN_ERR_INVAL);
	}
}

static void
expect_init_fails(struct cairn_rt_opts *o)
{
	assert_int_equal(cairn_rt_init(o), -CAIRN_ERR_INVAL);
	assert_false(cairn_rt_running());
	assert_int_equal(cairn_xs_count(), 0);
	assert_null(cairn_xs_get(0));
}

static void
test_bad_opts(void **state)
{
	struct cairn_rt_opts o;

	cairn_rt_opts_default(&o);
	o.nr_system = 2;
	expect_init_fails(&o);
	cairn_rt_opts_default(&o);
	o.nr_system = 0;
	o.nr_main = 0;
	expect_init_fails(&o);
	cairn_rt_opts_default(&o);
	o.nr_main = CAIRN_RT_MAX_XSTREAMS;
	o.nr_helper = 1;
	expect_init_fails(&o);
	cairn_rt_opts_default(&o);
	o.nr_main = 100000;
	expect_init_fails(&o);
	cairn_rt_opts_default(&o);
	o.stack_size = CAIRN_RT_MIN_STACK_SIZE - 1;
	expect_init_fails(&o);
	cairn_rt_opts_default(&o);
	o.msg_ring_size = 1000;
	expect_init_fails(&o);
	cairn_rt_opts_default(&o);
	o.opts_size = 0;
	expect_init_fails(&o);
	cairn_rt_opts_default(&o);
	o.cpu_list = "0-";
	expect_init_fails(&o);
	cairn_rt_opts_default(&o);
	o.cpu_list = "3-1";
	expect_init_fails(&o);
	cairn_rt_opts_default(&o);
	o.cpu_list = "4095"; /* not on this machine */
	expect_init_fails(&o);
	cairn_rt_opts_default(&o);
	o.spin_us = 5000000;
	expect_init_fails(&o);
}

static void
test_pin(void **state)
{
	struct cairn_rt_opts o;
	unsigned i;

	/* Pinned over CPU 0 only: every xstream on CPU 0 (they share it). */
	cairn_rt_opts_default(&o);
	o.nr_main = 3;
	o.cpu_list = "0";
	assert_int_equal(cairn_rt_init(&o), 0);
	assert_int_equal(cairn_rt_init(&o), -CAIRN_ERR_ALREADY);
	for (i = 0; i < cairn_xs_count(); i++)
		assert_int_equal(cairn_xs_cpu(cairn_xs_get(i)), 0);
	cairn_rt_fini();
	/* Default: pinned round robin over the cores, more xstreams than cores is fine. */
	cairn_rt_opts_default(&o);
	o.nr_main = 5;
	assert_int_equal(cairn_rt_init(&o), 0);
	assert_int_equal(cairn_xs_count(), 6);
	for (i = 0; i < cairn_xs_count(); i++)
		assert_true(cairn_xs_cpu(cairn_xs_get(i)) >= -1);
	cairn_rt_fini();
	cairn_rt_fini(); /* twice is harmless */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_yaml_good),
	        cmocka_unit_test(test_yaml_bad),
	        cmocka_unit_test(test_bad_opts),
	        cmocka_unit_test(test_pin),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
