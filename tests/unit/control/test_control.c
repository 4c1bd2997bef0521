/*
 * Unit tests of the control plane's pure parts: configuration validation (file:line
 * errors, cross-field checks, defaults), superblock encoding (CRC, corruption, version),
 * and storage format (refusal without force, --force, target files and sizes).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <cairn/errno.h>

#include "control_internal.h"

static const char *g_good = "name: unit\n"
                            "mgmt_socket: /tmp/x.sock\n"
                            "engines:\n"
                            "  - targets: 3\n"
                            "    storage:\n"
                            "      dir: /tmp/a\n"
                            "      target_size: 2M\n"
                            "  - targets: 1\n"
                            "    port: 4000\n"
                            "    storage: {dir: /tmp/b}\n";

static void
test_config_good(void **state)
{
	struct ctl_config cfg;
	char err[512];

	assert_int_equal(ctl_config_load_string("good.yml", g_good, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.name, "unit");
	assert_int_equal(cfg.nr_engines, 2);
	assert_int_equal(cfg.engines[0].targets, 3);
	assert_true(cfg.engines[0].storage.target_size == 2ull << 20);
	assert_true(cfg.engines[1].storage.target_size == 64ull << 20); /* default */
	assert_string_equal(cfg.engines[1].drpc_socket, "/var/tmp/cairn/engine1.sock");
	assert_int_equal(cfg.max_restarts, 5);
	ctl_config_free(&cfg);
}

static void
expect_error(const char *text, const char *needle)
{
	struct ctl_config cfg;
	char err[512] = "";

	assert_int_equal(ctl_config_load_string("bad.yml", text, &cfg, err, sizeof(err)),
	                 -CAIRN_ERR_INVAL);
	if (strstr(err, needle) == NULL)
		fail_msg("error '%s' lacks '%s'", err, needle);
}

static void
test_config_errors(void **state)
{
	/* Schema errors carry file:line. */
	expect_error("name: x\nengines:\n  - targets: 0\n    storage: {dir: /a}\n", "bad.yml:3:");
	expect_error("name: x\nengines:\n  - targets: 1\n    storag: {dir: /a}\n", "bad.yml:4:");
	expect_error("engines:\n  - targets: 1\n    storage: {dir: /a}\n", "name");
	expect_error("name: x\nengines: []\n", "bad.yml:2:");
	expect_error("name: x\nengines:\n  - targets: 1\n    storage: {dir: /a, target_size: 4k}\n",
	             "bad.yml:4:");
	/* Cross-field checks. */
	expect_error("name: 'a b'\nengines:\n  - targets: 1\n    storage: {dir: /a}\n",
	             "may only hold");
	expect_error("name: x\nengines:\n  - targets: 1\n    storage: {dir: /a}\n"
	             "  - targets: 1\n    storage: {dir: /a}\n",
	             "its own");
	expect_error("name: x\nport: 5001\nengines:\n  - targets: 1\n    port: 5000\n"
	             "    storage: {dir: /a}\n",
	             "management port");
	expect_error("name: x\nengines:\n  - targets: 4\n    port: 6000\n    storage: {dir: /a}\n"
	             "  - targets: 1\n    port: 6004\n    storage: {dir: /b}\n",
	             "overlap");
	expect_error("name: x\nlog_mask: LOUD\nengines:\n  - targets: 1\n    storage: {dir: /a}\n",
	             "log_mask");
	expect_error("name: x\nrestart_backoff_min: 5s\nrestart_backoff_max: 1s\nengines:\n"
	             "  - targets: 1\n    storage: {dir: /a}\n",
	             "restart_backoff_min");
	/* access_points: the management API of another server, on loopback */
	expect_error("name: x\naccess_points: [\"10.0.0.1:10001\"]\nengines:\n  - targets: 1\n"
	             "    storage: {dir: /a}\n",
	             "127.0.0.1:PORT");
	expect_error("name: x\naccess_points: [\"127.0.0.1:0\"]\nengines:\n  - targets: 1\n"
	             "    storage: {dir: /a}\n",
	             "127.0.0.1:PORT");
	expect_error("name: x\naccess_points: [\"localhost:7000\"]\nengines:\n  - targets: 1\n"
	             "    storage: {dir: /a}\n",
	             "127.0.0.1:PORT");
	expect_error("name: x\naccess_points: [\"127.0.0.1\"]\nengines:\n  - targets: 1\n"
	             "    storage: {dir: /a}\n",
	             "127.0.0.1:PORT");
	expect_error("name: x\nport: 7000\naccess_points: [\"127.0.0.1:7000\"]\nengines:\n"
	             "  - targets: 1\n    storage: {dir: /a}\n",
	             "own management port");
	expect_error("name: x\naccess_points: []\nengines:\n  - targets: 1\n"
	             "    storage: {dir: /a}\n",
	             "bad.yml:2:");
	/* ... and name the line of the key they are about. */
	expect_error("# a comment\nname: 'a b'\nengines:\n  - targets: 1\n    storage: {dir: /a}\n",
	             "bad.yml:2: key 'name'");
	expect_error("name: x\nport: 5001\nengines:\n  - targets: 1\n    port: 5000\n"
	             "    storage: {dir: /a}\n",
	             "bad.yml:5: engines[0] listens");
	expect_error("name: x\nengines:\n  - targets: 4\n    port: 6000\n    storage: {dir: /a}\n"
	             "  - targets: 1\n    port: 6004\n    storage: {dir: /b}\n",
	             "bad.yml:7: engines[1] (ports");
	expect_error("name: x\nengines:\n  - targets: 1\n    storage: {dir: /a}\n"
	             "  - storage: {dir: /a}\n    targets: 1\n",
	             "bad.yml:5: engines[1].storage.dir");
	expect_error("name: x\nengines:\n  - targets: 1\n    storage: {dir: /a}\n"
	             "    log_mask: LOUD\n",
	             "bad.yml:5: key 'engines[0].log_mask'");
	expect_error("name: x\nrestart_backoff_max: 1s\nrestart_backoff_min: 5s\nengines:\n"
	             "  - targets: 1\n    storage: {dir: /a}\n",
	             "bad.yml:3: restart_backoff_min");
	/* Flow style: no line to find, the file is still named. */
	expect_error("{name: 'a b', engines: [{targets: 1, storage: {dir: /a}}]}\n",
	             "bad.yml: key 'name'");
}

static void
test_config_access_points(void **state)
{
	struct ctl_config cfg;
	char err[512];

	assert_int_equal(ctl_config_load_string("ap.yml",
	                                        "name: x\nport: 7001\n"
	                                        "access_points: [\"127.0.0.1:7000\", "
	                                        "\"127.0.0.1:7002\"]\nengines:\n"
	                                        "  - targets: 1\n    storage: {dir: /a}\n",
	                                        &cfg, err, sizeof(err)),
	                 0);
	assert_int_equal(cfg.nr_access_points, 2);
	assert_string_equal(cfg.access_points[0], "127.0.0.1:7000");
	ctl_config_free(&cfg);
}

static void
test_superblock_codec(void **state)
{
	struct ctl_superblock sb = {.rank = 7,
	                            .nr_targets = 4,
	                            .target_size = 1 << 20,
	                            .format_time = 12345},
	                      out;
	struct ctl_superblock_df df;

	cairn_uuid_generate(&sb.system_uuid);
	cairn_uuid_generate(&sb.engine_uuid);
	snprintf(sb.system, sizeof(sb.system), "sys");
	ctl_sb_encode(&sb, &df);
	assert_int_equal(ctl_sb_decode(&df, &out), 0);
	assert_int_equal(out.rank, 7);
	assert_int_equal(out.nr_targets, 4);
	assert_string_equal(out.system, "sys");
	assert_true(cairn_uuid_equal(&out.system_uuid, &sb.system_uuid));

	/* Any flipped byte is caught by the CRC. */
	for (size_t i = 0; i < sizeof(df); i += 17) {
		struct ctl_superblock_df bad = df;

		((uint8_t *)&bad)[i] ^= 0x40;
		assert_int_not_equal(ctl_sb_decode(&bad, &out), 0);
	}
}

static void
test_format(void **state)
{
	char dir[] = "/tmp/cairn-ut-ctl.XXXXXX", text[1024], err[512], path[600];
	struct ctl_superblock sb;
	struct ctl_config cfg;
	struct cairn_uuid u1, u2;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(text, sizeof(text),
	         "name: fmt\nengines:\n  - targets: 2\n    storage: {dir: %s/e0, target_size: 1M}\n"
	         "  - targets: 1\n    storage: {dir: %s/e1, target_size: 3M}\n",
	         dir, dir);
	assert_int_equal(ctl_config_load_string("f.yml", text, &cfg, err, sizeof(err)), 0);
	assert_int_equal(ctl_sb_read(cfg.engines[0].storage.dir, &sb), -ENOENT);

	assert_int_equal(ctl_storage_format(&cfg, false, &u1, err, sizeof(err)), 0);
	assert_int_equal(ctl_sb_read(cfg.engines[1].storage.dir, &sb), 0);
	assert_int_equal(sb.rank, 1);
	assert_string_equal(sb.system, "fmt");
	assert_true(cairn_uuid_equal(&sb.system_uuid, &u1));
	snprintf(path, sizeof(path), "%s/e1/target-0", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3 << 20);

	/* Refused without force, with a message that says how. */
	assert_int_equal(ctl_storage_format(&cfg, false, &u2, err, sizeof(err)), -CAIRN_ERR_EXIST);
	assert_non_null(strstr(err, "--force"));
	/* Forced: a new system UUID. */
	assert_int_equal(ctl_storage_format(&cfg, true, &u2, err, sizeof(err)), 0);
	assert_false(cairn_uuid_equal(&u1, &u2));
	assert_int_equal(ctl_sb_read(cfg.engines[0].storage.dir, &sb), 0);
	assert_true(cairn_uuid_equal(&sb.system_uuid, &u2));

	/* Stray target files alone also block an unforced format. */
	snprintf(path, sizeof(path), "%s/e0/superblock", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ctl_storage_format(&cfg, false, &u2, err, sizeof(err)), -CAIRN_ERR_EXIST);

	ctl_config_free(&cfg);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_config_good),
	        cmocka_unit_test(test_config_errors),
	        cmocka_unit_test(test_config_access_points),
	        cmocka_unit_test(test_superblock_codec),
	        cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
