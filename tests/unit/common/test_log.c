/* Unit tests for src/common/log.c: names, mask parsing, filtering, output format, env
 * set-up, concurrent writers and rate limiting. Output is captured in a temp file. */
#define CAIRN_LOG_SS CAIRN_SS_VOS
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "common/log.h"

static char g_path[64];

static int
setup(void **state)
{
	int fd;

	snprintf(g_path, sizeof(g_path), "/tmp/cairn_test_log_XXXXXX");
	fd = mkstemp(g_path);
	if (fd < 0)
		return -1;
	close(fd);
	if (cairn_log_set_file(g_path) != 0)
		return -1;
	return cairn_log_set_mask("WARN");
}

static int
teardown(void **state)
{
	cairn_log_set_file(NULL);
	unlink(g_path);
	return 0;
}

/* Truncate the capture file (the log fd is O_APPEND, so it keeps working). */
static void
capture_reset(void)
{
	assert_int_equal(truncate(g_path, 0), 0);
}

static char *
capture_read(void)
{
	FILE *f = fopen(g_path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static int
count_lines(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void
test_names(void **state)
{
	assert_int_equal(cairn_log_level_from_name("debug"), CAIRN_LOG_DEBUG);
	assert_int_equal(cairn_log_level_from_name("ERR"), CAIRN_LOG_ERR);
	assert_int_equal(cairn_log_level_from_name("error"), CAIRN_LOG_ERR);
	assert_int_equal(cairn_log_level_from_name("Warning"), CAIRN_LOG_WARN);
	assert_int_equal(cairn_log_level_from_name("TRACE"), CAIRN_LOG_TRACE);
	assert_int_equal(cairn_log_level_from_name("verbose"), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_log_level_from_name(NULL), -CAIRN_ERR_INVAL);
	for (int l = CAIRN_LOG_FATAL; l <= CAIRN_LOG_TRACE; l++)
		assert_int_equal(cairn_log_level_from_name(cairn_log_level_name(l)), l);
	for (int s = 0; s < CAIRN_SS_MAX; s++)
		assert_int_equal(cairn_log_ss_from_name(cairn_log_ss_name(s)), s);
	assert_string_equal(cairn_log_ss_name(CAIRN_SS_ISCSI), "iscsi");
	assert_int_equal(cairn_log_ss_from_name("VOS"), CAIRN_SS_VOS);
	assert_int_equal(cairn_log_ss_from_name("nope"), -CAIRN_ERR_INVAL);
	assert_string_equal(cairn_log_ss_name(CAIRN_SS_MAX), "?");
}

static void
test_mask_parse(void **state)
{
	assert_int_equal(cairn_log_set_mask("ERR,vos=DEBUG,net=INFO"), 0);
	assert_int_equal(g_cairn_log_level[CAIRN_SS_COMMON], CAIRN_LOG_ERR);
	assert_int_equal(g_cairn_log_level[CAIRN_SS_RT], CAIRN_LOG_ERR);
	assert_int_equal(g_cairn_log_level[CAIRN_SS_VOS], CAIRN_LOG_DEBUG);
	assert_int_equal(g_cairn_log_level[CAIRN_SS_NET], CAIRN_LOG_INFO);

	/* Per-subsystem entries win over the default wherever it appears. */
	assert_int_equal(cairn_log_set_mask(" bdev = trace , note "), 0);
	assert_int_equal(g_cairn_log_level[CAIRN_SS_BDEV], CAIRN_LOG_TRACE);
	assert_int_equal(g_cairn_log_level[CAIRN_SS_VOS], CAIRN_LOG_NOTE);
	assert_int_equal(g_cairn_log_level[CAIRN_SS_TOOL], CAIRN_LOG_NOTE);

	/* Only a subsystem: the others keep their level. */
	assert_int_equal(cairn_log_set_mask("rt=DEBUG"), 0);
	assert_int_equal(g_cairn_log_level[CAIRN_SS_RT], CAIRN_LOG_DEBUG);
	assert_int_equal(g_cairn_log_level[CAIRN_SS_BDEV], CAIRN_LOG_TRACE);

	assert_int_equal(cairn_log_set_mask("all=info"), 0);
	for (int s = 0; s < CAIRN_SS_MAX; s++)
		assert_int_equal(g_cairn_log_level[s], CAIRN_LOG_INFO);
}

static void
test_mask_errors_change_nothing(void **state)
{
	static const char *const bad[] = {
		"",       "LOUD",           "ERR,foo=DEBUG", "vos=",
		"=DEBUG", "ERR,,vos=DEBUG", "vos=DEBUG=1",   "ERR,vos=LOUD",
	};
	uint8_t before[CAIRN_SS_MAX];
	char err[256];
	uint8_t levels[CAIRN_SS_MAX];

	assert_int_equal(cairn_log_set_mask("WARN,obj=DEBUG"), 0);
	memcpy(before, g_cairn_log_level, sizeof(before));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cairn_log_set_mask(bad[i]), -CAIRN_ERR_INVAL);
		assert_memory_equal(before, g_cairn_log_level, sizeof(before));
	}
	assert_int_equal(cairn_log_set_mask(NULL), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_log_parse_mask("ERR,foo=DEBUG", levels, err, sizeof(err)),
			 -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "unknown subsystem 'foo'"));
	assert_int_equal(cairn_log_parse_mask("ERR,vos=LOUD", levels, err, sizeof(err)),
			 -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "unknown level 'LOUD'"));
}

static void
test_get_mask_roundtrip(void **state)
{
	uint8_t saved[CAIRN_SS_MAX];
	char buf[512], small[8];

	assert_int_equal(cairn_log_set_mask("INFO,vos=TRACE,iscsi=FATAL"), 0);
	assert_int_equal(cairn_log_get_mask(buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "vos=TRACE"));
	assert_non_null(strstr(buf, "iscsi=FATAL"));
	memcpy(saved, g_cairn_log_level, sizeof(saved));
	assert_int_equal(cairn_log_set_mask("ERR"), 0);
	assert_int_equal(cairn_log_set_mask(buf), 0);
	assert_memory_equal(saved, g_cairn_log_level, sizeof(saved));
	assert_int_equal(cairn_log_get_mask(small, sizeof(small)), -CAIRN_ERR_TRUNC);
	assert_int_equal(cairn_log_set_level(CAIRN_SS_NET, CAIRN_LOG_DEBUG), 0);
	assert_int_equal(g_cairn_log_level[CAIRN_SS_NET], CAIRN_LOG_DEBUG);
	assert_int_equal(cairn_log_set_level(CAIRN_SS_MAX, CAIRN_LOG_DEBUG), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_log_set_level(CAIRN_SS_NET, 7), -CAIRN_ERR_INVAL);
}

static int g_evaluated;

static int
side_effect(void)
{
	return ++g_evaluated;
}

static void
test_filtering_and_format(void **state)
{
	char *out;

	assert_int_equal(cairn_log_set_mask("WARN,vos=DEBUG"), 0);
	capture_reset();
	cairn_log_set_thread_name("tgt3");
	CAIRN_DEBUG("vos debug %d", 42);            /* this file is CAIRN_SS_VOS */
	CAIRN_TRACE("vos trace %d", side_effect()); /* filtered */
	CAIRN_LOG(CAIRN_SS_NET, CAIRN_LOG_INFO, "net info %d", side_effect()); /* filtered */
	CAIRN_LOG(CAIRN_SS_NET, CAIRN_LOG_WARN, "net warn\n");
	CAIRN_LOG(CAIRN_SS_RT, CAIRN_LOG_ERR, "rt err %s", "x");
	cairn_log_set_thread_name(NULL);
	CAIRN_LOG(CAIRN_SS_RT, CAIRN_LOG_FATAL, "no name");
	assert_int_equal(g_evaluated, 0); /* disabled messages do not evaluate arguments */

	out = capture_read();
	assert_non_null(strstr(out, " tgt3/"));
	assert_non_null(strstr(out, " vos DEBUG test_log.c:"));
	assert_non_null(strstr(out, "test_filtering_and_format(): vos debug 42\n"));
	assert_null(strstr(out, "vos trace"));
	assert_null(strstr(out, "net info"));
	assert_non_null(strstr(out, " net WARN "));
	assert_non_null(strstr(out, "net warn\n")); /* caller's newline not doubled */
	assert_null(strstr(out, "net warn\n\n"));
	assert_non_null(strstr(out, " rt ERR "));
	assert_non_null(strstr(out, " -/"));
	assert_int_equal(count_lines(out, "\n"), 4);
	/* ISO-8601 UTC timestamp with microseconds at the start of a line. */
	assert_true(strlen(out) > 28 && out[4] == '-' && out[10] == 'T' && out[19] == '.' &&
		    out[26] == 'Z');
	free(out);
}

static void
test_long_message_is_one_line(void **state)
{
	char big[5000];
	char *out;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	capture_reset();
	CAIRN_ERROR("%s", big);
	out = capture_read();
	assert_int_equal(count_lines(out, "\n"), 1);
	assert_true(strlen(out) < sizeof(big));
	assert_non_null(strstr(out, "...\n"));
	free(out);
}

static void
test_init_from_env(void **state)
{
	char path2[64];
	char *out;
	FILE *f;
	int fd;

	snprintf(path2, sizeof(path2), "/tmp/cairn_test_log2_XXXXXX");
	fd = mkstemp(path2);
	assert_true(fd >= 0);
	close(fd);
	setenv("CAIRN_LOG_MASK", "ERR,pool=INFO", 1);
	setenv("CAIRN_LOG_FILE", path2, 1);
	assert_int_equal(cairn_log_init(), 0);
	assert_int_equal(g_cairn_log_level[CAIRN_SS_POOL], CAIRN_LOG_INFO);
	assert_int_equal(g_cairn_log_level[CAIRN_SS_VOS], CAIRN_LOG_ERR);
	CAIRN_LOG(CAIRN_SS_POOL, CAIRN_LOG_INFO, "to the env file");

	/* A bad mask is reported and leaves the levels alone. */
	setenv("CAIRN_LOG_MASK", "ERR,pool=CHATTY", 1);
	assert_int_equal(cairn_log_init(), -CAIRN_ERR_INVAL);
	assert_int_equal(g_cairn_log_level[CAIRN_SS_POOL], CAIRN_LOG_INFO);

	f = fopen(path2, "r");
	assert_non_null(f);
	out = calloc(1, 4096);
	assert_non_null(out);
	assert_true(fread(out, 1, 4095, f) > 0);
	fclose(f);
	assert_non_null(strstr(out, "to the env file"));
	assert_non_null(strstr(out, "CAIRN_LOG_MASK"));
	assert_non_null(strstr(out, "unknown level 'CHATTY'"));
	free(out);

	/* An unopenable file keeps stderr and reports the problem. */
	setenv("CAIRN_LOG_MASK", "WARN", 1);
	setenv("CAIRN_LOG_FILE", "/nonexistent-dir/x.log", 1);
	assert_int_equal(cairn_log_init(), -CAIRN_ERR_INVAL);
	unsetenv("CAIRN_LOG_MASK");
	unsetenv("CAIRN_LOG_FILE");
	unlink(path2);
	assert_int_equal(cairn_log_set_file(g_path), 0);
	assert_int_equal(cairn_log_set_file(""), -CAIRN_ERR_INVAL);
}

#define THREADS 4
#define LINES_PER_THREAD 2000

static void *
writer(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < LINES_PER_THREAD; i++)
		CAIRN_LOG(
			CAIRN_SS_NET, CAIRN_LOG_ERR, "writer=%ld seq=%d payload=%s", id, i,
			"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz");
	return NULL;
}

static void
test_concurrent_lines_intact(void **state)
{
	pthread_t th[THREADS];
	int seen[THREADS] = {0};
	char *out, *line, *save;

	assert_int_equal(cairn_log_set_mask("WARN"), 0);
	capture_reset();
	for (long i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, writer, (void *)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	out = capture_read();
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		long id;
		int seq;
		const char *p = strstr(line, "writer=");

		assert_non_null(p);
		assert_int_equal(sscanf(p, "writer=%ld seq=%d", &id, &seq), 2);
		assert_true(id >= 0 && id < THREADS);
		/* Per-thread order is kept and no line is torn. */
		assert_int_equal(seq, seen[id]);
		seen[id]++;
		assert_non_null(strstr(line, "uvwxyz0123456789abcdefghijklmnopqrstuvwxyz"));
		assert_int_equal(count_lines(line, " net ERR "), 1);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(seen[i], LINES_PER_THREAD);
	free(out);
}

static void
test_ratelimit(void **state)
{
	struct cairn_log_rl rl = {0};
	int passed = 0;
	char *out;

	for (int i = 0; i < 100; i++)
		passed += cairn_log_rl_pass(&rl, 5);
	/* The loop may straddle one window boundary at most: 5 or 10 pass. */
	assert_true(passed == 5 || passed == 10);

	capture_reset();
	/* One call site (the limiter is per site); a pause before the last message. */
	for (int i = 0; i <= 50; i++) {
		if (i == 50)
			usleep(1100 * 1000);
		CAIRN_LOG_RATELIMIT(CAIRN_SS_NET, CAIRN_LOG_ERR, 3, "flood %d", i);
	}
	out = capture_read();
	assert_true(count_lines(out, "flood") <= 7);
	assert_true(count_lines(out, "flood") >= 4);
	/* The message after the pause reports how many were dropped. */
	assert_non_null(strstr(out, "flood 50 ["));
	assert_non_null(strstr(out, "similar messages suppressed]"));
	free(out);
}

static void
test_fork_child_shows_its_tid(void **state)
{
	char want[32];
	char *out;
	pid_t pid;
	int status;

	assert_int_equal(cairn_log_set_mask("WARN"), 0);
	capture_reset();
	CAIRN_ERROR("parent before fork"); /* caches the parent's TID */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		CAIRN_ERROR("from the child");
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	out = capture_read();
	snprintf(want, sizeof(want), "/%d vos ERR", (int)pid);
	assert_non_null(strstr(out, want));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_mask_parse),
		cmocka_unit_test(test_mask_errors_change_nothing),
		cmocka_unit_test(test_get_mask_roundtrip),
		cmocka_unit_test(test_filtering_and_format),
		cmocka_unit_test(test_long_message_is_one_line),
		cmocka_unit_test(test_init_from_env),
		cmocka_unit_test(test_concurrent_lines_intact),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_fork_child_shows_its_tid),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
