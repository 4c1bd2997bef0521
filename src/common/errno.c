/*
 * Error code names and descriptions for the single Cairn error space: 0, -CAIRN_ERR_* and
 * -errno. Strings are static so callers may keep them; no locale or buffer involved.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerrordesc_np, gettid */
#endif
#include <errno.h>
#include <string.h>

#include "cairn/errno.h"

struct err_desc {
	const char *name;
	const char *desc;
};

/* Indexed by (code - CAIRN_ERR_BASE); the _Static_assert keeps it in step with errno.h. */
static const struct err_desc g_err_tab[] = {
	{"CAIRN_ERR_INVAL", "invalid argument or input"},
	{"CAIRN_ERR_NOMEM", "out of memory"},
	{"CAIRN_ERR_NOSPACE", "no space left in storage"},
	{"CAIRN_ERR_EXIST", "already exists"},
	{"CAIRN_ERR_NONEXIST", "does not exist"},
	{"CAIRN_ERR_BUSY", "resource busy"},
	{"CAIRN_ERR_AGAIN", "resource temporarily unavailable, try again"},
	{"CAIRN_ERR_TIMEDOUT", "operation timed out"},
	{"CAIRN_ERR_CANCELED", "operation canceled"},
	{"CAIRN_ERR_UNREACH", "peer unreachable"},
	{"CAIRN_ERR_PROTO", "protocol error (malformed message)"},
	{"CAIRN_ERR_CSUM", "checksum mismatch (data corrupt)"},
	{"CAIRN_ERR_IO", "I/O error"},
	{"CAIRN_ERR_NOSYS", "operation not supported"},
	{"CAIRN_ERR_PERM", "permission denied"},
	{"CAIRN_ERR_OVERFLOW", "value or range too large"},
	{"CAIRN_ERR_TRUNC", "buffer too small, result truncated"},
	{"CAIRN_ERR_VERSION", "incompatible format or ABI version"},
	{"CAIRN_ERR_SHUTDOWN", "service shutting down"},
	{"CAIRN_ERR_STALE", "stale handle or map version"},
	{"CAIRN_ERR_NOTLEADER", "not the service leader"},
	{"CAIRN_ERR_CORRUPT", "on-disk structure corrupt"},
	{"CAIRN_ERR_NOHANDLE", "handle not found"},
	{"CAIRN_ERR_ALREADY", "operation already done or in progress"},
	{"CAIRN_ERR_MISC", "unclassified failure"},
};

_Static_assert(sizeof(g_err_tab) / sizeof(g_err_tab[0]) == CAIRN_ERR_LAST - CAIRN_ERR_BASE,
	       "g_err_tab out of step with enum cairn_err");

static unsigned
err_abs(int rc)
{
	/* INT_MIN has no positive counterpart; unsigned negation handles it. */
	return rc < 0 ? 0u - (unsigned)rc : (unsigned)rc;
}

const char *
cairn_strerror(int rc)
{
	unsigned code = err_abs(rc);
	const char *s;

	if (code == 0)
		return "success";
	if (code >= CAIRN_ERR_BASE && code < CAIRN_ERR_LAST)
		return g_err_tab[code - CAIRN_ERR_BASE].desc;
	if (code < CAIRN_ERR_BASE) {
		s = strerrordesc_np((int)code);
		if (s != NULL)
			return s;
	}
	return "unknown error";
}

const char *
cairn_errname(int rc)
{
	unsigned code = err_abs(rc);
	const char *s;

	if (code == 0)
		return "OK";
	if (code >= CAIRN_ERR_BASE && code < CAIRN_ERR_LAST)
		return g_err_tab[code - CAIRN_ERR_BASE].name;
	if (code < CAIRN_ERR_BASE) {
		s = strerrorname_np((int)code);
		if (s != NULL)
			return s;
	}
	return "EUNKNOWN";
}
