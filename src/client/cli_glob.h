/*
 * Global pool and container handles (cli_glob.c, cli_pool.c, cli_cont.c): the payload
 * codec helpers, the registration of the POOL and CONT handle kinds, and a way to run a
 * network step synchronously on the client xstream.
 *
 * Payloads (inside the envelope of client.c) are little-endian and start with their own
 * u16 layout version; see src/client/README.md ("Global pool and container handles").
 * Threads: any application thread (never the client xstream itself).
 */
#ifndef CAIRN_CLIENT_CLI_GLOB_H
#define CAIRN_CLIENT_CLI_GLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cairn/types.h"

#define CLI_GLOB_POOL_LAYOUT 1
#define CLI_GLOB_CONT_LAYOUT 1

/* Bounded little-endian cursor; `err` sticks once an access would overrun. */
struct cli_gcur {
	uint8_t *p;
	size_t len, off;
	bool err;
};

static inline void
cli_gput(struct cli_gcur *c, const void *src, size_t n)
{
	if (c->err || n > c->len - c->off) {
		c->err = true;
		return;
	}
	memcpy(c->p + c->off, src, n);
	c->off += n;
}

static inline void
cli_gput_u(struct cli_gcur *c, uint64_t v, unsigned bytes)
{
	uint8_t b[8];

	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	cli_gput(c, b, bytes);
}

static inline const uint8_t *
cli_gget(struct cli_gcur *c, size_t n)
{
	const uint8_t *r;

	if (c->err || n > c->len - c->off) {
		c->err = true;
		return NULL;
	}
	r = c->p + c->off;
	c->off += n;
	return r;
}

static inline uint64_t
cli_gget_u(struct cli_gcur *c, unsigned bytes)
{
	const uint8_t *b = cli_gget(c, bytes);
	uint64_t v = 0;

	for (unsigned i = 0; b != NULL && i < bytes; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

/* Copy a u16-length-prefixed string of min..max-1 bytes without NUL into dst[max]. */
static inline bool
cli_gget_str(struct cli_gcur *c, char *dst, size_t min, size_t max)
{
	size_t n = (size_t)cli_gget_u(c, 2);
	const uint8_t *s;

	if (c->err || n < min || n >= max)
		return false;
	s = cli_gget(c, n);
	if (s == NULL || (n > 0 && memchr(s, '\0', n) != NULL))
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

static inline void
cli_gput_str(struct cli_gcur *c, const char *s)
{
	size_t n = strlen(s);

	cli_gput_u(c, n, 2);
	cli_gput(c, s, n);
}

/* Run fn(arg) in a ULT on the client xstream and wait; its return value. */
int cli_glob_net_run(int (*fn)(void *arg), void *arg);

/* The client runtime (cli_net.c): cairn_init() takes a reference, cairn_fini() drops it;
 * every attached user (cli_net_get) holds one too. In a process that already runs the
 * runtime (cairn-tgt), its first helper xstream is used and never stopped.
 * \return 0 or the runtime/network error (logged) */
int cli_net_rt_get(void);
void cli_net_rt_put(void);

/* The system URI the client network is attached to ("" when stopped), in buf. */
void cli_net_uri(char *buf, size_t len);

/* The pool handle cairn_cont_global2local() passes down to the CONT kind's unpack
 * (0 outside such a call: a container's global handle needs its pool's handle). */
uint64_t cli_glob_pool_hint(void);

/* The POOL and CONT kinds' ops, installed by cairn_init (removed by cairn_fini). */
struct cli_htype_ops;
const struct cli_htype_ops *cli_pool_glob_ops(void);
const struct cli_htype_ops *cli_cont_glob_ops(void);

#endif /* CAIRN_CLIENT_CLI_GLOB_H */
