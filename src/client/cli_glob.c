/*
 * Global pool and container handles: the public cairn_{pool,cont}_{local2global,
 * global2local} on top of the generic envelope (client.c), and the synchronous network
 * step the kinds' unpack uses to have the engine accept the shared connection.
 * The kinds' pack/unpack live next to their objects (cli_pool.c, cli_cont.c).
 */
#include <stdlib.h>

#include <cairn/cairn.h>
#include <cairn/cont.h>
#include <cairn/errno.h>
#include <cairn/pool.h>

#include "cli_glob.h"
#include "cli_hdl.h"
#include "cli_net.h"
#include "client_internal.h"

struct glob_run {
	int (*fn)(void *arg);
	void *arg;
};

static int
glob_run_body(struct cli_task *task)
{
	struct glob_run *r = cli_task_args(task);
	int rc = cli_net_submit(task, r->fn, r->arg);

	if (rc)
		cli_task_complete(task, rc);
	return 0;
}

int
cli_glob_net_run(int (*fn)(void *arg), void *arg)
{
	struct cli_task *task;
	struct glob_run *r;
	int rc;

	rc = cli_task_create(glob_run_body, cli_ev2sched(NULL), &task);
	if (rc)
		return rc;
	r = cli_task_args(task);
	r->fn = fn;
	r->arg = arg;
	return cli_task_run(task, NULL);
}

static __thread uint64_t t_pool_hint;

uint64_t
cli_glob_pool_hint(void)
{
	return t_pool_hint;
}

/* The handle kind a global buffer claims (0 when it is too short to say). */
static unsigned
glob_kind(const struct cairn_iov *glob)
{
	const uint8_t *b;

	if (glob == NULL || glob->buf == NULL || glob->len < CLI_GLOB_HDR_SIZE ||
	    glob->len > glob->buf_len)
		return 0;
	b = glob->buf;
	return (unsigned)(b[6] | (b[7] << 8));
}

int
cairn_pool_local2global(struct cairn_handle poh, struct cairn_iov *glob)
{
	if (!cli_initialized())
		return -CAIRN_ERR_INVAL;
	if (cli_hdl_cookie_type(poh.cookie) != CLI_HTYPE_POOL)
		return -CAIRN_ERR_NOHANDLE;
	return cairn_handle_local2global(poh, glob);
}

int
cairn_pool_global2local(const struct cairn_iov *glob, struct cairn_handle *poh)
{
	unsigned kind;

	if (!cli_initialized() || glob == NULL || poh == NULL)
		return -CAIRN_ERR_INVAL;
	kind = glob_kind(glob);
	if (kind != 0 && kind != CLI_HTYPE_POOL)
		return -CAIRN_ERR_INVAL; /* a valid envelope of another kind */
	return cairn_handle_global2local(glob, poh);
}

int
cairn_cont_local2global(struct cairn_handle coh, struct cairn_iov *glob)
{
	if (!cli_initialized())
		return -CAIRN_ERR_INVAL;
	if (cli_hdl_cookie_type(coh.cookie) != CLI_HTYPE_CONT)
		return -CAIRN_ERR_NOHANDLE;
	return cairn_handle_local2global(coh, glob);
}

int
cairn_cont_global2local(struct cairn_handle poh, const struct cairn_iov *glob,
                        struct cairn_handle *coh)
{
	unsigned kind;
	int rc;

	if (!cli_initialized() || glob == NULL || coh == NULL)
		return -CAIRN_ERR_INVAL;
	if (cli_hdl_cookie_type(poh.cookie) != CLI_HTYPE_POOL)
		return -CAIRN_ERR_NOHANDLE;
	kind = glob_kind(glob);
	if (kind != 0 && kind != CLI_HTYPE_CONT)
		return -CAIRN_ERR_INVAL;
	t_pool_hint = poh.cookie;
	rc = cairn_handle_global2local(glob, coh);
	t_pool_hint = 0;
	return rc;
}
