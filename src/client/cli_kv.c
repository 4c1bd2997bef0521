/*
 * libcairn KV objects (include/cairn/kv.h): key = dkey, value = the single value of
 * akey "kv". The calls are the object calls with that akey; get turns "no value" into
 * -CAIRN_ERR_NONEXIST in a completion callback, so it holds for async calls too.
 */
#include <stdlib.h>

#include <cairn/errno.h>
#include <cairn/kv.h>
#include <cairn/obj.h>

#include "cli_obj.h"
#include "client_internal.h"

static char g_kv_akey_bytes[] = "kv";
static const struct cairn_iov g_kv_akey = {.buf = g_kv_akey_bytes, .buf_len = 2, .len = 2};

int
cairn_kv_open(struct cairn_handle coh, struct cairn_obj_id oid, unsigned int mode,
              struct cairn_handle *oh, struct cairn_event *ev)
{
	return cairn_obj_open(coh, oid, mode, oh, ev);
}

int
cairn_kv_close(struct cairn_handle oh, struct cairn_event *ev)
{
	return cairn_obj_close(oh, ev);
}

int
cairn_kv_put(struct cairn_handle oh, const struct cairn_iov *key, const struct cairn_iov *value,
             struct cairn_event *ev)
{
	return cairn_obj_update(oh, key, &g_kv_akey, value, ev);
}

int
cairn_kv_put_cond(struct cairn_handle oh, uint32_t flags, const struct cairn_iov *key,
                  const struct cairn_iov *value, struct cairn_event *ev)
{
	uint32_t cond = 0;

	/* A key is a dkey holding one akey: its existence is the dkey's. */
	if (flags & ~(CAIRN_KV_PUT_IF_ABSENT | CAIRN_KV_PUT_IF_EXISTS) ||
	    flags == (CAIRN_KV_PUT_IF_ABSENT | CAIRN_KV_PUT_IF_EXISTS))
		return -CAIRN_ERR_INVAL;
	if (flags & CAIRN_KV_PUT_IF_ABSENT)
		cond = CAIRN_COND_DKEY_INSERT;
	if (flags & CAIRN_KV_PUT_IF_EXISTS)
		cond = CAIRN_COND_DKEY_UPDATE;
	return cairn_obj_update_cond(oh, cond, key, &g_kv_akey, value, ev);
}

/* The fetch runs as a child of an internal parent task: a missing value (size 0) is
 * NONEXIST for a KV. */
struct kv_get {
	struct cairn_handle oh;
	const struct cairn_iov *key;
	struct cairn_iov *value;
};

static int
kv_get_done(struct cli_task *task, void *arg)
{
	struct kv_get *g = arg;

	if (cli_task_rc(task) == 0 && g->value->len == 0)
		cli_task_set_rc(task, -CAIRN_ERR_NONEXIST);
	return 0;
}

int
cairn_kv_get(struct cairn_handle oh, const struct cairn_iov *key, struct cairn_iov *value,
             struct cairn_event *ev)
{
	int rc;

	if (value == NULL)
		return -CAIRN_ERR_INVAL;
	if (ev == NULL) {
		rc = cairn_obj_fetch(oh, key, &g_kv_akey, value, NULL);
		if (rc == 0 && value->len == 0)
			rc = -CAIRN_ERR_NONEXIST;
		return rc;
	}
	return cli_obj_fetch_cb(oh, key, &g_kv_akey, value, kv_get_done,
	                        &(struct kv_get){.oh = oh, .key = key, .value = value},
	                        sizeof(struct kv_get), ev);
}

int
cairn_kv_remove(struct cairn_handle oh, const struct cairn_iov *key, struct cairn_event *ev)
{
	if (key == NULL)
		return -CAIRN_ERR_INVAL; /* NULL would punch the whole object */
	return cairn_obj_punch(oh, key, ev);
}

int
cairn_kv_list(struct cairn_handle oh, struct cairn_anchor *anchor, uint32_t *nr,
              struct cairn_key_desc *kds, void *buf, size_t buf_len, struct cairn_event *ev)
{
	return cairn_obj_list_dkey(oh, anchor, nr, kds, buf, buf_len, ev);
}
