/*
 * libcairn container properties, user attributes and snapshots (include/cairn/cont.h).
 * Each call is one container-service RPC (CONT_RPC_PROP_* / ATTR_* / SNAP_*) on an open
 * container handle, sent from a ULT on the client xstream; outputs are written there
 * into the caller's memory before the task completes.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/cont.h>
#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_CLIENT
#include "common/log.h"
#include "engine/proto.h"

#include "cli_net.h"
#include "cli_pool.h"
#include "client_internal.h"

_Static_assert(CAIRN_ATTR_NAME_MAX == PROTO_ATTR_NAME_MAX, "attr name bound");
_Static_assert(CAIRN_ATTR_VALUE_MAX == PROTO_ATTR_VALUE_MAX, "attr value bound");
_Static_assert(CAIRN_ATTRS_MAX == PROTO_ATTRS_MAX, "attr count bound");
_Static_assert(CAIRN_SNAPS_MAX == PROTO_SNAPS_MAX, "snapshot bound");
_Static_assert(CAIRN_LABEL_MAX == PROTO_LABEL_MAX, "label bound");
_Static_assert(CAIRN_CONT_PROP_LABEL == PROTO_CPROP_LABEL &&
               CAIRN_CONT_PROP_OCLASS == PROTO_CPROP_OCLASS &&
               CAIRN_CONT_PROP_CHUNK == PROTO_CPROP_CHUNK &&
               CAIRN_CONT_PROP_CSUM == PROTO_CPROP_CSUM && CAIRN_CONT_PROP_RF == PROTO_CPROP_RF,
               "property bits");

struct cprop_op {
	uint32_t rpc;
	struct cli_cont *cont;
	struct cli_href *ref;
	struct cont_in in;
	char *name;
	void *val; /* ATTR_SET value / PROP_SET props copy */
	/* outputs */
	struct cairn_cont_props *props;
	void *buf;
	size_t *size;
	cairn_epoch_t *epoch;
	cairn_epoch_t *epochs;
	uint32_t *nr;
};

static void
cprop_free(struct cprop_op *op)
{
	if (op->ref)
		cli_href_put(op->ref);
	free(op->name);
	free(op->val);
	free(op);
}

/* Copy a reply value into (buf, *size): TRUNC when it does not fit. */
static int
out_bytes(struct cprop_op *op, const struct cont_out *o)
{
	size_t room = *op->size;

	*op->size = o->value_len;
	if (o->value_len > room || (o->value_len && op->buf == NULL))
		return -CAIRN_ERR_TRUNC;
	if (o->value_len)
		memcpy(op->buf, o->value, o->value_len);
	return 0;
}

static int
cprop_net(void *arg)
{
	struct cprop_op *op = arg;
	struct cli_cont *c = op->cont;
	struct proto_cont_props pp;
	struct cairn_rpc *rpc;
	struct cont_out *o;
	uint32_t i, n;
	int rc;

	memcpy(op->in.pool, c->pool->uuid, 16);
	op->in.pool_hdl = c->pool->srv_hdl;
	memcpy(op->in.uuid, c->uuid, 16);
	op->in.cont_hdl = c->srv_hdl;
	rc = cli_rpc(cli_pool_svc_ep(c->pool), CAIRN_NET_OPC(PROTO_CONT_BASE, op->rpc), &op->in,
	             sizeof(op->in), &rpc);
	if (rc)
		return rc;
	o = cairn_rpc_out(rpc);
	switch (op->rpc) {
	case CONT_RPC_PROP_GET:
		if (o->value_len != sizeof(pp)) {
			rc = -CAIRN_ERR_PROTO;
			break;
		}
		memcpy(&pp, o->value, sizeof(pp));
		if (memchr(pp.label, '\0', sizeof(pp.label)) == NULL) {
			rc = -CAIRN_ERR_PROTO;
			break;
		}
		memset(op->props, 0, sizeof(*op->props));
		snprintf(op->props->label, sizeof(op->props->label), "%s", pp.label);
		op->props->type = pp.type;
		op->props->oclass = pp.oclass;
		op->props->chunk_size = pp.chunk_size;
		op->props->csum = pp.csum;
		op->props->rf = pp.rf;
		break;
	case CONT_RPC_PROP_SET:
		/* this handle's ids without a class take the new default from now on */
		pp = *(const struct proto_cont_props *)op->val;
		if (pp.mask & PROTO_CPROP_OCLASS) {
			pthread_mutex_lock(&c->lock);
			c->oclass = pp.oclass;
			pthread_mutex_unlock(&c->lock);
		}
		break;
	case CONT_RPC_ATTR_GET:
		rc = out_bytes(op, o);
		break;
	case CONT_RPC_ATTR_LIST:
		if (o->value_len && ((const char *)o->value)[o->value_len - 1] != '\0') {
			rc = -CAIRN_ERR_PROTO;
			break;
		}
		rc = out_bytes(op, o);
		break;
	case CONT_RPC_SNAP_CREATE:
		*op->epoch = o->epoch;
		break;
	case CONT_RPC_SNAP_LIST:
		if (o->value_len % 8) {
			rc = -CAIRN_ERR_PROTO;
			break;
		}
		n = o->value_len / 8;
		for (i = 0; i < n && i < *op->nr; i++)
			memcpy(&op->epochs[i], (const uint8_t *)o->value + 8 * i, 8);
		rc = n > *op->nr ? -CAIRN_ERR_TRUNC : 0;
		*op->nr = n;
		break;
	default:
		break;
	}
	cairn_rpc_decref(rpc);
	return rc;
}

static int
cprop_body(struct cli_task *task)
{
	struct cprop_op *op = *(struct cprop_op **)cli_task_args(task);
	int rc = cli_net_submit(task, cprop_net, op);

	if (rc)
		cli_task_complete(task, rc);
	return 0;
}

static int
cprop_done(struct cli_task *task, void *arg)
{
	cprop_free(*(struct cprop_op **)arg);
	return 0;
}

static struct cprop_op *
cprop_new(struct cairn_handle coh, uint32_t rpc, int *rc)
{
	struct cli_href *ref;
	struct cprop_op *op;
	void *cont;

	op = cli_op_new(sizeof(*op), coh.cookie, CLI_HTYPE_CONT, &cont, &ref, rc);
	if (op == NULL)
		return NULL;
	op->rpc = rpc;
	op->cont = cont;
	op->ref = ref;
	return op;
}

static void
cprop_discard(void *op)
{
	cprop_free(op);
}

static int
cprop_run(struct cprop_op *op, struct cairn_event *ev)
{
	return cli_op_start(cprop_body, cprop_done, op, cprop_discard, ev);
}

static bool
name_ok(const char *name)
{
	return name && name[0] && strlen(name) <= CAIRN_ATTR_NAME_MAX;
}

static int
name_op(struct cairn_handle coh, uint32_t rpc, const char *name, struct cprop_op **opp)
{
	struct cprop_op *op;
	int rc;

	if (!name_ok(name))
		return -CAIRN_ERR_INVAL;
	op = cprop_new(coh, rpc, &rc);
	if (op == NULL)
		return rc;
	op->name = strdup(name);
	if (op->name == NULL) {
		cprop_free(op);
		return -CAIRN_ERR_NOMEM;
	}
	op->in.name = op->name;
	*opp = op;
	return 0;
}

int
cairn_cont_get_props(struct cairn_handle coh, struct cairn_cont_props *props,
                     struct cairn_event *ev)
{
	struct cprop_op *op;
	int rc;

	if (props == NULL)
		return -CAIRN_ERR_INVAL;
	op = cprop_new(coh, CONT_RPC_PROP_GET, &rc);
	if (op == NULL)
		return rc;
	op->props = props;
	return cprop_run(op, ev);
}

int
cairn_cont_set_props(struct cairn_handle coh, const struct cairn_cont_props *props,
                     uint32_t mask, struct cairn_event *ev)
{
	const uint32_t all = CAIRN_CONT_PROP_LABEL | CAIRN_CONT_PROP_OCLASS |
	                     CAIRN_CONT_PROP_CHUNK | CAIRN_CONT_PROP_CSUM | CAIRN_CONT_PROP_RF;
	struct proto_cont_props *pp;
	struct cprop_op *op;
	int rc;

	if (props == NULL || mask == 0 || (mask & ~all) ||
	    ((mask & CAIRN_CONT_PROP_LABEL) &&
	     (memchr(props->label, '\0', sizeof(props->label)) == NULL || props->label[0] == '\0')))
		return -CAIRN_ERR_INVAL;
	op = cprop_new(coh, CONT_RPC_PROP_SET, &rc);
	if (op == NULL)
		return rc;
	pp = calloc(1, sizeof(*pp));
	if (pp == NULL) {
		cprop_free(op);
		return -CAIRN_ERR_NOMEM;
	}
	/* The CAIRN_CONT_PROP_* bits are the PROTO_CPROP_* bits. */
	pp->mask = mask;
	snprintf(pp->label, sizeof(pp->label), "%s", props->label);
	pp->type = props->type;
	pp->oclass = props->oclass;
	pp->chunk_size = props->chunk_size;
	pp->csum = props->csum;
	pp->rf = props->rf;
	op->val = pp;
	op->in.value = pp;
	op->in.value_len = sizeof(*pp);
	return cprop_run(op, ev);
}

int
cairn_cont_set_attr(struct cairn_handle coh, const char *name, const void *value, size_t size,
                    struct cairn_event *ev)
{
	struct cprop_op *op;
	int rc;

	if (size > CAIRN_ATTR_VALUE_MAX || (size && value == NULL))
		return -CAIRN_ERR_INVAL;
	rc = name_op(coh, CONT_RPC_ATTR_SET, name, &op);
	if (rc)
		return rc;
	if (size) {
		op->val = malloc(size);
		if (op->val == NULL) {
			cprop_free(op);
			return -CAIRN_ERR_NOMEM;
		}
		memcpy(op->val, value, size);
	}
	op->in.value = op->val;
	op->in.value_len = (uint32_t)size;
	return cprop_run(op, ev);
}

int
cairn_cont_get_attr(struct cairn_handle coh, const char *name, void *buf, size_t *size,
                    struct cairn_event *ev)
{
	struct cprop_op *op;
	int rc;

	if (size == NULL || (buf == NULL && *size > 0))
		return -CAIRN_ERR_INVAL;
	rc = name_op(coh, CONT_RPC_ATTR_GET, name, &op);
	if (rc)
		return rc;
	op->buf = buf;
	op->size = size;
	return cprop_run(op, ev);
}

int
cairn_cont_list_attrs(struct cairn_handle coh, char *buf, size_t *size, struct cairn_event *ev)
{
	struct cprop_op *op;
	int rc;

	if (size == NULL || (buf == NULL && *size > 0))
		return -CAIRN_ERR_INVAL;
	op = cprop_new(coh, CONT_RPC_ATTR_LIST, &rc);
	if (op == NULL)
		return rc;
	op->buf = buf;
	op->size = size;
	return cprop_run(op, ev);
}

int
cairn_cont_del_attr(struct cairn_handle coh, const char *name, struct cairn_event *ev)
{
	struct cprop_op *op;
	int rc;

	rc = name_op(coh, CONT_RPC_ATTR_DEL, name, &op);
	if (rc)
		return rc;
	return cprop_run(op, ev);
}

int
cairn_cont_create_snap(struct cairn_handle coh, cairn_epoch_t *epoch, struct cairn_event *ev)
{
	struct cprop_op *op;
	int rc;

	if (epoch == NULL)
		return -CAIRN_ERR_INVAL;
	op = cprop_new(coh, CONT_RPC_SNAP_CREATE, &rc);
	if (op == NULL)
		return rc;
	op->epoch = epoch;
	return cprop_run(op, ev);
}

int
cairn_cont_list_snaps(struct cairn_handle coh, cairn_epoch_t *epochs, uint32_t *nr,
                      struct cairn_event *ev)
{
	struct cprop_op *op;
	int rc;

	if (nr == NULL || (epochs == NULL && *nr > 0))
		return -CAIRN_ERR_INVAL;
	op = cprop_new(coh, CONT_RPC_SNAP_LIST, &rc);
	if (op == NULL)
		return rc;
	op->epochs = epochs;
	op->nr = nr;
	return cprop_run(op, ev);
}

int
cairn_cont_destroy_snap(struct cairn_handle coh, cairn_epoch_t epoch, struct cairn_event *ev)
{
	struct cprop_op *op;
	int rc;

	if (epoch == 0 || epoch == CAIRN_EPOCH_MAX)
		return -CAIRN_ERR_INVAL;
	op = cprop_new(coh, CONT_RPC_SNAP_DESTROY, &rc);
	if (op == NULL)
		return rc;
	op->in.epoch = epoch;
	return cprop_run(op, ev);
}
