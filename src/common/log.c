/*
 * Logging: per-subsystem level table, line formatting and output.
 *
 * Each message becomes one line, formatted on the caller's stack and handed to the kernel
 * in a single write(), so lines from concurrent threads never interleave (O_APPEND for
 * files). The output fd is swapped under a rwlock so cairn_log_set_file() is safe while
 * other threads log. Line layout:
 *   2026-11-22T00:30:01.123456Z tgt1/12345 vos ERR wal.c:120 wal_commit(): message
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerrordesc_np, gettid */
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cairn/errno.h"
#include "common/log.h"

#define LOG_LINE_MAX 2048
#define LOG_DEFAULT_LEVEL CAIRN_LOG_WARN

uint8_t g_cairn_log_level[CAIRN_SS_MAX] = {
	[0 ... CAIRN_SS_MAX - 1] = LOG_DEFAULT_LEVEL,
};

static const char *const g_ss_names[CAIRN_SS_MAX] = {
	[CAIRN_SS_COMMON] = "common", [CAIRN_SS_RT] = "rt",         [CAIRN_SS_NET] = "net",
	[CAIRN_SS_BDEV] = "bdev",     [CAIRN_SS_VOS] = "vos",       [CAIRN_SS_ENGINE] = "engine",
	[CAIRN_SS_MGMT] = "mgmt",     [CAIRN_SS_POOL] = "pool",     [CAIRN_SS_CONT] = "cont",
	[CAIRN_SS_OBJ] = "obj",       [CAIRN_SS_CLIENT] = "client", [CAIRN_SS_ISCSI] = "iscsi",
	[CAIRN_SS_SCSI] = "scsi",     [CAIRN_SS_NVMF] = "nvmf",     [CAIRN_SS_TGT] = "tgt",
	[CAIRN_SS_TOOL] = "tool",
};

static const char *const g_level_names[] = {
	[CAIRN_LOG_FATAL] = "FATAL", [CAIRN_LOG_ERR] = "ERR",   [CAIRN_LOG_WARN] = "WARN",
	[CAIRN_LOG_NOTE] = "NOTE",   [CAIRN_LOG_INFO] = "INFO", [CAIRN_LOG_DEBUG] = "DEBUG",
	[CAIRN_LOG_TRACE] = "TRACE",
};
#define LEVEL_COUNT ((int)(sizeof(g_level_names) / sizeof(g_level_names[0])))

static pthread_rwlock_t g_out_lock = PTHREAD_RWLOCK_INITIALIZER;
static int g_out_fd = STDERR_FILENO; /* protected by g_out_lock */
static bool g_out_owned;             /* g_out_fd is ours to close */

static __thread char t_thread_name[16];
static __thread uint32_t t_rl_suppressed; /* handed from cairn_log_rl_pass() to emit */
static __thread pid_t t_tid;              /* cached gettid(): one syscall per thread */

const char *
cairn_log_ss_name(enum cairn_log_ss ss)
{
	if ((unsigned)ss >= CAIRN_SS_MAX)
		return "?";
	return g_ss_names[ss];
}

int
cairn_log_ss_from_name(const char *name)
{
	if (name == NULL)
		return -CAIRN_ERR_INVAL;
	for (int i = 0; i < CAIRN_SS_MAX; i++)
		if (strcasecmp(name, g_ss_names[i]) == 0)
			return i;
	return -CAIRN_ERR_INVAL;
}

const char *
cairn_log_level_name(enum cairn_log_level lvl)
{
	if ((int)lvl < 0 || (int)lvl >= LEVEL_COUNT)
		return "?";
	return g_level_names[lvl];
}

int
cairn_log_level_from_name(const char *name)
{
	if (name == NULL)
		return -CAIRN_ERR_INVAL;
	for (int i = 0; i < LEVEL_COUNT; i++)
		if (strcasecmp(name, g_level_names[i]) == 0)
			return i;
	if (strcasecmp(name, "ERROR") == 0)
		return CAIRN_LOG_ERR;
	if (strcasecmp(name, "WARNING") == 0)
		return CAIRN_LOG_WARN;
	return -CAIRN_ERR_INVAL;
}

int
cairn_log_set_level(enum cairn_log_ss ss, enum cairn_log_level lvl)
{
	if ((unsigned)ss >= CAIRN_SS_MAX || (int)lvl < 0 || (int)lvl >= LEVEL_COUNT)
		return -CAIRN_ERR_INVAL;
	__atomic_store_n(&g_cairn_log_level[ss], (uint8_t)lvl, __ATOMIC_RELAXED);
	return 0;
}

static void
trim(char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

int
cairn_log_parse_mask(const char *mask, uint8_t levels[CAIRN_SS_MAX], char *err, size_t errlen)
{
	char buf[512], tok[64];
	bool set[CAIRN_SS_MAX] = {false};
	int dflt = -1;
	char *p, *next;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (mask == NULL || mask[0] == '\0') {
		snprintf(err, errlen, "empty log mask, expected LEVEL[,subsystem=LEVEL...]");
		return -CAIRN_ERR_INVAL;
	}
	if (strlen(mask) >= sizeof(buf)) {
		snprintf(err, errlen, "log mask too long (%zu bytes, at most %zu)", strlen(mask),
			 sizeof(buf) - 1);
		return -CAIRN_ERR_INVAL;
	}
	memcpy(buf, mask, strlen(mask) + 1);
	for (int i = 0; i < CAIRN_SS_MAX; i++)
		levels[i] = __atomic_load_n(&g_cairn_log_level[i], __ATOMIC_RELAXED);

	for (p = buf; p != NULL; p = next) {
		char *comma = strchr(p, ',');
		char *eq;
		char *name = p, *lv = p;
		size_t nlen = 0, lvlen = strlen(p);
		int ss = -1, lvl;

		next = NULL;
		if (comma != NULL) {
			*comma = '\0';
			next = comma + 1;
			lvlen = strlen(p);
		}
		eq = strchr(p, '=');
		if (eq != NULL) {
			nlen = (size_t)(eq - p);
			lv = eq + 1;
			lvlen = strlen(lv);
			trim(&name, &nlen);
			if (nlen == 0 || nlen >= sizeof(tok)) {
				snprintf(err, errlen,
					 "log mask '%s': empty or overlong subsystem "
					 "name before '='",
					 mask);
				return -CAIRN_ERR_INVAL;
			}
			memcpy(tok, name, nlen);
			tok[nlen] = '\0';
			if (strcasecmp(tok, "all") != 0) {
				ss = cairn_log_ss_from_name(tok);
				if (ss < 0) {
					snprintf(err, errlen,
						 "log mask '%s': unknown subsystem '%s', expected "
						 "one of common rt net bdev vos engine mgmt pool "
						 "cont obj client iscsi scsi nvmf tgt tool all",
						 mask, tok);
					return -CAIRN_ERR_INVAL;
				}
			}
		}
		trim(&lv, &lvlen);
		if (lvlen == 0 || lvlen >= sizeof(tok)) {
			snprintf(err, errlen, "log mask '%s': missing or overlong level", mask);
			return -CAIRN_ERR_INVAL;
		}
		memcpy(tok, lv, lvlen);
		tok[lvlen] = '\0';
		lvl = cairn_log_level_from_name(tok);
		if (lvl < 0) {
			snprintf(err, errlen,
				 "log mask '%s': unknown level '%s', expected one of FATAL ERR "
				 "WARN NOTE INFO DEBUG TRACE",
				 mask, tok);
			return -CAIRN_ERR_INVAL;
		}
		if (ss < 0) {
			dflt = lvl;
		} else {
			levels[ss] = (uint8_t)lvl;
			set[ss] = true;
		}
	}
	/* Explicit per-subsystem levels win over the default wherever they appear. */
	if (dflt >= 0)
		for (int i = 0; i < CAIRN_SS_MAX; i++)
			if (!set[i])
				levels[i] = (uint8_t)dflt;
	return 0;
}

int
cairn_log_set_mask(const char *mask)
{
	uint8_t levels[CAIRN_SS_MAX];
	int rc;

	rc = cairn_log_parse_mask(mask, levels, NULL, 0);
	if (rc != 0)
		return rc;
	for (int i = 0; i < CAIRN_SS_MAX; i++)
		__atomic_store_n(&g_cairn_log_level[i], levels[i], __ATOMIC_RELAXED);
	return 0;
}

int
cairn_log_get_mask(char *buf, size_t len)
{
	size_t off = 0;
	int n;

	if (buf == NULL || len == 0)
		return -CAIRN_ERR_INVAL;
	buf[0] = '\0';
	for (int i = 0; i < CAIRN_SS_MAX; i++) {
		n = snprintf(buf + off, len - off, "%s%s=%s", i ? "," : "", g_ss_names[i],
			     cairn_log_level_name(__atomic_load_n(&g_cairn_log_level[i],
								  __ATOMIC_RELAXED)));
		if (n < 0 || (size_t)n >= len - off)
			return -CAIRN_ERR_TRUNC;
		off += (size_t)n;
	}
	return 0;
}

int
cairn_log_set_file(const char *path)
{
	int fd = STDERR_FILENO, old_fd;
	bool old_owned;

	if (path != NULL) {
		if (path[0] == '\0')
			return -CAIRN_ERR_INVAL;
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
	}
	pthread_rwlock_wrlock(&g_out_lock);
	old_fd = g_out_fd;
	old_owned = g_out_owned;
	g_out_fd = fd;
	g_out_owned = path != NULL;
	pthread_rwlock_unlock(&g_out_lock);
	if (old_owned)
		close(old_fd);
	return 0;
}

void
cairn_log_set_thread_name(const char *name)
{
	if (name == NULL) {
		t_thread_name[0] = '\0';
		return;
	}
	snprintf(t_thread_name, sizeof(t_thread_name), "%s", name);
}

int
cairn_log_init(void)
{
	const char *mask = getenv("CAIRN_LOG_MASK");
	const char *file = getenv("CAIRN_LOG_FILE");
	char err[256];
	uint8_t levels[CAIRN_SS_MAX];
	int rc = 0, rc2;

	if (file != NULL && file[0] != '\0') {
		rc2 = cairn_log_set_file(file);
		if (rc2 != 0) {
			fprintf(stderr,
				"cairn: CAIRN_LOG_FILE '%s': cannot open: %s; logging to "
				"stderr\n",
				file, cairn_strerror(rc2));
			rc = -CAIRN_ERR_INVAL;
		}
	}
	if (mask != NULL && mask[0] != '\0') {
		rc2 = cairn_log_parse_mask(mask, levels, err, sizeof(err));
		if (rc2 != 0) {
			CAIRN_LOG(CAIRN_SS_COMMON, CAIRN_LOG_ERR,
				  "CAIRN_LOG_MASK: %s; levels "
				  "unchanged",
				  err);
			/* Make sure the complaint is seen even when ERR is masked off. */
			if (!cairn_log_enabled(CAIRN_SS_COMMON, CAIRN_LOG_ERR))
				fprintf(stderr, "cairn: CAIRN_LOG_MASK: %s\n", err);
			return -CAIRN_ERR_INVAL;
		}
		for (int i = 0; i < CAIRN_SS_MAX; i++)
			__atomic_store_n(&g_cairn_log_level[i], levels[i], __ATOMIC_RELAXED);
	}
	return rc;
}

void
cairn_log_fini(void)
{
	cairn_log_set_file(NULL);
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool
cairn_log_rl_pass(struct cairn_log_rl *rl, uint32_t per_sec)
{
	uint64_t now = mono_ms();
	uint64_t start = __atomic_load_n(&rl->window_start_ms, __ATOMIC_RELAXED);

	/* First use or a new one-second window: one thread wins the CAS and resets. A racing
	 * thread may count into the old window; the limit is approximate by design. */
	if (start == 0 || now - start >= 1000) {
		if (__atomic_compare_exchange_n(&rl->window_start_ms, &start, now ? now : 1, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			__atomic_store_n(&rl->passed, 0, __ATOMIC_RELAXED);
	}
	if (__atomic_add_fetch(&rl->passed, 1, __ATOMIC_RELAXED) > per_sec) {
		__atomic_add_fetch(&rl->suppressed, 1, __ATOMIC_RELAXED);
		return false;
	}
	t_rl_suppressed = __atomic_exchange_n(&rl->suppressed, 0, __ATOMIC_RELAXED);
	return true;
}

static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

/* A forked child keeps the forking thread's TLS: forget the cached TID there. */
static void
log_atfork_child(void)
{
	t_tid = 0;
}

static void
log_register_atfork(void)
{
	pthread_atfork(NULL, NULL, log_atfork_child);
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

void
cairn_log_emit(enum cairn_log_ss ss, enum cairn_log_level lvl, const char *file, int line,
	       const char *func, const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	size_t off, cap = sizeof(buf) - 1; /* keep one byte for the newline */
	int saved_errno = errno;
	uint32_t suppressed = t_rl_suppressed;
	va_list ap;
	int n;

	t_rl_suppressed = 0;
	if (t_tid == 0) {
		pthread_once(&g_atfork_once, log_register_atfork);
		t_tid = gettid();
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %s/%d %s %s %s:%d %s(): ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts.tv_nsec / 1000, t_thread_name[0] ? t_thread_name : "-", (int)t_tid,
		     cairn_log_ss_name(ss), cairn_log_level_name(lvl), file ? base_name(file) : "?",
		     line, func ? func : "?");
	off = n < 0 ? 0 : ((size_t)n >= cap ? cap - 1 : (size_t)n);

	va_start(ap, fmt);
	errno = saved_errno; /* allow %m */
	n = vsnprintf(buf + off, cap - off, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n >= cap - off) {
		off = cap - 1;
		memcpy(buf + off - 3, "...", 3); /* show that the message was cut */
	} else if (n > 0) {
		off += (size_t)n;
	}
	if (suppressed != 0 && off < cap - 1) {
		n = snprintf(buf + off, cap - off, " [%u similar messages suppressed]", suppressed);
		if (n > 0)
			off = (size_t)n >= cap - off ? cap - 1 : off + (size_t)n;
	}
	/* Drop the caller's trailing newline(s) so each record is exactly one line. */
	while (off > 0 && buf[off - 1] == '\n')
		off--;
	buf[off++] = '\n';

	pthread_rwlock_rdlock(&g_out_lock);
	/* One write() per line; a short write to a pipe/file is not retried to avoid
	 * splitting the record across another thread's line. */
	if (write(g_out_fd, buf, off) < 0) {
		/* Nowhere left to report it. */
	}
	pthread_rwlock_unlock(&g_out_lock);
	errno = saved_errno;
}
