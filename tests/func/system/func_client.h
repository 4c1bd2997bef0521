/*
 * Checks shared by the functional test clients in this folder (glob, multi, dpath,
 * badinput). Before including, a client may define:
 *   FUNC_CLIENT_NAME   its name, the prefix of every failure line (default "client")
 *   FUNC_FAIL_RETURN   what a failed check does: `return 1` (default) or `exit(1)`
 * FAIL(fmt, ...) prints the failure with the source line; CHECK(expr, what) fails when
 * expr is non-zero; EXPECT(expr, want, what) fails unless expr == want.
 */
#ifndef CAIRN_TESTS_FUNC_CLIENT_H
#define CAIRN_TESTS_FUNC_CLIENT_H

#include <stdio.h>
#include <stdlib.h>

#include <cairn/errno.h>

#ifndef FUNC_CLIENT_NAME
#define FUNC_CLIENT_NAME "client"
#endif
#ifndef FUNC_FAIL_RETURN
#define FUNC_FAIL_RETURN return 1
#endif

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, FUNC_CLIENT_NAME ": ");                                            \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fprintf(stderr, " (line %d)\n", __LINE__);                                         \
		FUNC_FAIL_RETURN;                                                                  \
	} while (0)
#define CHECK(expr, what)                                                                          \
	do {                                                                                       \
		int rc_ = (expr);                                                                  \
		if (rc_)                                                                           \
			FAIL("%s: %s", what, cairn_strerror(rc_));                                 \
	} while (0)
#define EXPECT(expr, want, what)                                                                   \
	do {                                                                                       \
		int rc_ = (expr);                                                                  \
		if (rc_ != (want))                                                                 \
			FAIL("%s: got %s, expected %s", what, cairn_strerror(rc_),                 \
			     cairn_strerror(want));                                                \
	} while (0)

#endif /* CAIRN_TESTS_FUNC_CLIENT_H */
