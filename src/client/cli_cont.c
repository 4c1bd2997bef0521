/*
 * libcairn containers: create, destroy, open, close, query, list, and object id
 * allocation from ranges cached per open handle. The network part runs in a ULT on the
 * client xstream against the container service (the pool service's rank, tag 0).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/cont.h>
#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_CLIENT
#include "common/log.h"
#include "common/uuid.h"
#include "engine/proto.h"

#include "cli_glob.h"
#include "cli_net.h"
#include "cli_pool.h"
#include "client_internal.h"

/* Object ids fetched per range. */
#define CONT_OID_BATCH 1024

struct cli_cont *
cli_cont_get(uint64_t cookie, struct cli_href **ref)
{
	return cli_hdl_lookup(cookie, CLI_HTYPE_CONT, ref);
}

static void
cont_free(void *obj)
{
	struct cli_cont *c = obj;

	cli_href_put(c->pool_ref);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void
info_from_out(const struct cont_out *o, struct cairn_cont_info *info)
{
	memcpy(info->uuid, o->uuid, 16);
	snprintf(info->label, sizeof(info->label), "%s", o->label);
	info->type = o->type;
	info->oclass = o->oclass;
	info->nr_open = o->nr_open;
	info->ctime = o->ctime;
	info->oid_next = o->oid_next;
	info->chunk_size = o->chunk_size;
	info->csum = o->csum;
	info->rf = o->rf;
}

/* The open reply's data-path properties, checked: the engine is trusted to send sane
 * values, but a bad one must not turn into a division by zero or a silent no-checksum. */
static int
cont_props_from_out(struct cli_cont *c, const struct cont_out *o)
{
	if (o->chunk_size < PROTO_CONT_CHUNK_MIN || o->chunk_size > PROTO_CONT_CHUNK_MAX ||
	    o->csum > PROTO_CONT_CSUM_MAX || o->rf > PROTO_CONT_RF_MAX)
		return -CAIRN_ERR_PROTO;
	c->chunk_size = o->chunk_size;
	c->csum = o->csum;
	c->rf = o->rf;
	return 0;
}

/* One operation of any kind; fields used per kind. */
struct cont_op {
	uint32_t rpc;
	struct cli_pool *pool;
	struct cli_href *pool_ref;
	struct cli_cont *cont; /* OPEN: new; CLOSE/OID_ALLOC: existing */
	struct cli_href *cont_ref;
	uint64_t cont_cookie;
	struct cont_in in;
	char *cont_id;
	char *label;
	/* outputs */
	uint8_t *uuid_out;
	struct cairn_cont_info *info;
	struct cairn_handle *coh;
	struct cairn_cont_entry *ents;
	uint32_t *nr;
	uint32_t room;
	struct cairn_obj_id *oid;
	uint32_t otype, oclass;
	bool need_range;
	uint64_t range_start;
};

/* Parse "uuid label\n" lines into the caller's entries. */
static int
list_parse(const char *s, struct cont_op *op)
{
	uint32_t n = 0;
	const char *p = s;

	while (*p) {
		const char *nl = strchr(p, '\n');
		const char *sp = strchr(p, ' ');
		char us[CAIRN_UUID_STR_LEN];
		struct cairn_uuid u;
		size_t llen;

		if (nl == NULL || sp == NULL || sp > nl || (size_t)(sp - p) != CAIRN_UUID_STR_LEN - 1)
			return -CAIRN_ERR_PROTO;
		memcpy(us, p, CAIRN_UUID_STR_LEN - 1);
		us[CAIRN_UUID_STR_LEN - 1] = '\0';
		llen = (size_t)(nl - sp - 1);
		if (cairn_uuid_parse(us, &u) || llen == 0 || llen >= CAIRN_LABEL_MAX)
			return -CAIRN_ERR_PROTO;
		if (n < op->room) {
			memcpy(op->ents[n].uuid, u.b, 16);
			memcpy(op->ents[n].label, sp + 1, llen);
			op->ents[n].label[llen] = '\0';
		}
		n++;
		p = nl + 1;
	}
	*op->nr = n;
	return n > op->room ? -CAIRN_ERR_TRUNC : 0;
}

static int
cont_net(void *arg)
{
	struct cont_op *op = arg;
	struct cairn_rpc *rpc;
	struct cont_out *o;
	int rc;

	memcpy(op->in.pool, op->pool->uuid, 16);
	op->in.pool_hdl = op->pool->srv_hdl;
	rc = cli_rpc(cli_pool_svc_ep(op->pool), CAIRN_NET_OPC(PROTO_CONT_BASE, op->rpc), &op->in,
	             sizeof(op->in), &rpc);
	if (rc)
		return rc;
	o = cairn_rpc_out(rpc);
	switch (op->rpc) {
	case CONT_RPC_CREATE:
		if (op->uuid_out)
			memcpy(op->uuid_out, o->uuid, 16);
		break;
	case CONT_RPC_OPEN:
		memcpy(op->cont->uuid, o->uuid, 16);
		op->cont->srv_hdl = o->hdl;
		snprintf(op->cont->label, sizeof(op->cont->label), "%s", o->label);
		op->cont->oclass = o->oclass;
		rc = cont_props_from_out(op->cont, o);
		if (rc)
			break;
		/* fall through */
	case CONT_RPC_QUERY:
		if (op->info)
			info_from_out(o, op->info);
		break;
	case CONT_RPC_LIST:
		rc = list_parse(o->list ? o->list : "", op);
		break;
	case CONT_RPC_OID_ALLOC:
		op->range_start = o->oid_next;
		break;
	default:
		break;
	}
	cairn_rpc_decref(rpc);
	return rc;
}

static int
cont_body(struct cli_task *task)
{
	struct cont_op *op = *(struct cont_op **)cli_task_args(task);
	int rc;

	if ((op->rpc == CONT_RPC_OID_ALLOC && !op->need_range) ||
	    (op->rpc == CONT_RPC_CLOSE && op->cont->g2l)) {
		/* a shared (global2local) handle is closed on the engine by its owner only */
		cli_task_complete(task, 0);
		return 0;
	}
	rc = cli_net_submit(task, cont_net, op);
	if (rc)
		cli_task_complete(task, rc);
	return 0;
}

static void
cont_op_free(struct cont_op *op)
{
	if (op->cont_ref)
		cli_href_put(op->cont_ref);
	if (op->pool_ref)
		cli_href_put(op->pool_ref);
	free(op->cont_id);
	free(op->label);
	free(op);
}

/* Take an id from the handle's cached range; false when it is empty. */
static bool
oid_take(struct cli_cont *c, struct cont_op *op)
{
	uint32_t oc = op->oclass;
	bool ok = false;
	int rc;

	pthread_mutex_lock(&c->lock);
	if (c->oid_next < c->oid_end) {
		op->oid->lo = c->oid_next++;
		op->oid->hi = 0;
		ok = true;
	}
	if (oc == 0)
		oc = c->oclass; /* (under the lock: a set-prop on this handle may change it) */
	pthread_mutex_unlock(&c->lock);
	if (ok) {
		rc = cairn_obj_id_generate(op->oid, (enum cairn_otype)op->otype,
		                           (enum cairn_oclass)oc);
		if (rc)
			return false;
	}
	return ok;
}

static int
cont_done(struct cli_task *task, void *arg)
{
	struct cont_op *op = *(struct cont_op **)arg;
	int rc = cli_task_rc(task);
	uint64_t cookie;

	switch (op->rpc) {
	case CONT_RPC_OPEN:
		if (rc == 0) {
			/* The container keeps the pool reference. */
			op->cont->pool = op->pool;
			op->cont->pool_ref = op->pool_ref;
			rc = cli_hdl_insert(op->cont, CLI_HTYPE_CONT, cont_free, NULL, &cookie);
			if (rc == 0) {
				op->pool_ref = NULL;
				op->coh->cookie = cookie;
				op->cont = NULL;
			} else {
				op->cont->pool_ref = NULL;
				cli_task_set_rc(task, rc);
			}
		}
		if (op->cont) {
			pthread_mutex_destroy(&op->cont->lock);
			free(op->cont);
		}
		break;
	case CONT_RPC_CLOSE:
		cli_hdl_remove(op->cont_cookie, CLI_HTYPE_CONT);
		break;
	case CONT_RPC_OID_ALLOC:
		if (rc == 0 && op->need_range) {
			pthread_mutex_lock(&op->cont->lock);
			op->cont->oid_next = op->range_start;
			op->cont->oid_end = op->range_start + CONT_OID_BATCH;
			pthread_mutex_unlock(&op->cont->lock);
		}
		if (rc == 0 && !oid_take(op->cont, op))
			cli_task_set_rc(task, -CAIRN_ERR_INVAL);
		break;
	default:
		break;
	}
	cont_op_free(op);
	return 0;
}

/* An op whose task never ran (nothing was sent). */
static void
cont_discard(void *arg)
{
	struct cont_op *op = arg;

	if (op->rpc == CONT_RPC_OPEN && op->cont) {
		pthread_mutex_destroy(&op->cont->lock);
		free(op->cont);
	}
	cont_op_free(op);
}

static int
cont_start(struct cont_op *op, struct cairn_event *ev)
{
	return cli_op_start(cont_body, cont_done, op, cont_discard, ev);
}

/* A new op on a pool handle; NULL with *rc set on error. */
static struct cont_op *
pool_op_new(struct cairn_handle poh, uint32_t rpc, int *rc)
{
	struct cli_href *ref;
	struct cont_op *op;
	void *pool;

	op = cli_op_new(sizeof(*op), poh.cookie, CLI_HTYPE_POOL, &pool, &ref, rc);
	if (op == NULL)
		return NULL;
	op->rpc = rpc;
	op->pool = pool;
	op->pool_ref = ref;
	return op;
}

static bool
id_ok(const char *s)
{
	return s != NULL && s[0] != '\0' && strlen(s) < PROTO_LABEL_MAX + 40;
}

/* The client's label rule: what the service's srv_label_check() accepts. */
static int
label_check(const char *l, char *err, size_t errlen)
{
	size_t n = strnlen(l, CAIRN_LABEL_MAX), i;
	struct cairn_uuid u;

	if (n == 0 || n >= CAIRN_LABEL_MAX) {
		snprintf(err, errlen, "a label has 1..%d characters", CAIRN_LABEL_MAX - 1);
		return -CAIRN_ERR_INVAL;
	}
	for (i = 0; i < n; i++) {
		char ch = l[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-')) {
			snprintf(err, errlen, "label '%s': only A-Z a-z 0-9 _ . - are allowed", l);
			return -CAIRN_ERR_INVAL;
		}
	}
	if (cairn_uuid_parse(l, &u) == 0) {
		snprintf(err, errlen, "label '%s' looks like a UUID: pick another", l);
		return -CAIRN_ERR_INVAL;
	}
	return 0;
}

static void
props_to_proto(const struct cairn_cont_props *p, struct proto_cont_props *pp)
{
	memset(pp, 0, sizeof(*pp));
	memcpy(pp->label, p->label, sizeof(pp->label));
	pp->label[sizeof(pp->label) - 1] = '\0';
	pp->type = p->type;
	pp->oclass = p->oclass;
	pp->chunk_size = p->chunk_size;
	pp->csum = p->csum;
	pp->rf = p->rf;
}

int
cairn_cont_props_check(const struct cairn_cont_props *props, char *err, size_t errlen)
{
	struct proto_cont_props pp;
	char tmp[200];
	int rc;

	if (err == NULL || errlen == 0) {
		err = tmp;
		errlen = sizeof(tmp);
	}
	err[0] = '\0';
	if (props == NULL) {
		snprintf(err, errlen, "no properties");
		return -CAIRN_ERR_INVAL;
	}
	if (memchr(props->label, '\0', sizeof(props->label)) == NULL) {
		snprintf(err, errlen, "label not NUL-terminated");
		return -CAIRN_ERR_INVAL;
	}
	rc = label_check(props->label, err, errlen);
	if (rc)
		return rc;
	props_to_proto(props, &pp);
	return proto_cont_props_check(&pp, 1, err, errlen);
}

int
cairn_cont_create_with_props(struct cairn_handle poh, const struct cairn_cont_props *props,
                             uint8_t uuid[16], struct cairn_event *ev)
{
	struct proto_cont_props *pp;
	struct cont_op *op;
	char err[200];
	int rc;

	rc = cairn_cont_props_check(props, err, sizeof(err));
	if (rc) {
		CAIRN_ERROR("container create: %s", err);
		return rc;
	}
	op = pool_op_new(poh, CONT_RPC_CREATE, &rc);
	if (op == NULL)
		return rc;
	pp = calloc(1, sizeof(*pp));
	op->label = (char *)pp; /* freed with the op */
	if (pp == NULL) {
		cont_op_free(op);
		return -CAIRN_ERR_NOMEM;
	}
	props_to_proto(props, pp);
	op->in.label = pp->label;
	op->in.type = pp->type;
	op->in.oclass = pp->oclass;
	op->in.value = pp;
	op->in.value_len = sizeof(*pp);
	op->uuid_out = uuid;
	return cont_start(op, ev);
}

int
cairn_cont_create(struct cairn_handle poh, const char *label, enum cairn_cont_type type,
                  enum cairn_oclass oclass, uint8_t uuid[16], struct cairn_event *ev)
{
	struct cairn_cont_props p = {.type = (uint32_t)type, .oclass = (uint32_t)oclass};

	if (!id_ok(label) || strlen(label) >= CAIRN_LABEL_MAX || type == 0 ||
	    cairn_oclass_name(oclass) == NULL)
		return -CAIRN_ERR_INVAL;
	snprintf(p.label, sizeof(p.label), "%s", label);
	return cairn_cont_create_with_props(poh, &p, uuid, ev);
}

int
cairn_cont_destroy(struct cairn_handle poh, const char *cont, bool force, struct cairn_event *ev)
{
	struct cont_op *op;
	int rc;

	if (!id_ok(cont))
		return -CAIRN_ERR_INVAL;
	op = pool_op_new(poh, CONT_RPC_DESTROY, &rc);
	if (op == NULL)
		return rc;
	op->cont_id = strdup(cont);
	if (op->cont_id == NULL) {
		cont_op_free(op);
		return -CAIRN_ERR_NOMEM;
	}
	op->in.cont = op->cont_id;
	op->in.flags = force ? PROTO_CONT_FORCE : 0;
	return cont_start(op, ev);
}

int
cairn_cont_open(struct cairn_handle poh, const char *cont, unsigned int flags,
                struct cairn_handle *coh, struct cairn_cont_info *info, struct cairn_event *ev)
{
	struct cont_op *op;
	int rc;

	if (!id_ok(cont) || coh == NULL || flags != 0)
		return -CAIRN_ERR_INVAL;
	op = pool_op_new(poh, CONT_RPC_OPEN, &rc);
	if (op == NULL)
		return rc;
	op->cont_id = strdup(cont);
	op->cont = calloc(1, sizeof(*op->cont));
	if (op->cont_id == NULL || op->cont == NULL) {
		free(op->cont);
		op->cont = NULL;
		cont_op_free(op);
		return -CAIRN_ERR_NOMEM;
	}
	pthread_mutex_init(&op->cont->lock, NULL);
	op->in.cont = op->cont_id;
	op->coh = coh;
	op->info = info;
	return cont_start(op, ev);
}

int
cairn_cont_open_snap(struct cairn_handle poh, const char *cont, cairn_epoch_t epoch,
                     struct cairn_handle *coh, struct cairn_cont_info *info,
                     struct cairn_event *ev)
{
	struct cont_op *op;
	int rc;

	if (!id_ok(cont) || coh == NULL || epoch == 0 || epoch == CAIRN_EPOCH_MAX)
		return -CAIRN_ERR_INVAL;
	op = pool_op_new(poh, CONT_RPC_OPEN, &rc);
	if (op == NULL)
		return rc;
	op->cont_id = strdup(cont);
	op->cont = calloc(1, sizeof(*op->cont));
	if (op->cont_id == NULL || op->cont == NULL) {
		free(op->cont);
		op->cont = NULL;
		cont_op_free(op);
		return -CAIRN_ERR_NOMEM;
	}
	pthread_mutex_init(&op->cont->lock, NULL);
	op->cont->snap_epoch = epoch;
	op->in.cont = op->cont_id;
	op->in.epoch = epoch;
	op->coh = coh;
	op->info = info;
	return cont_start(op, ev);
}

int
cairn_cont_query(struct cairn_handle poh, const char *cont, struct cairn_cont_info *info,
                 struct cairn_event *ev)
{
	struct cont_op *op;
	int rc;

	if (!id_ok(cont) || info == NULL)
		return -CAIRN_ERR_INVAL;
	op = pool_op_new(poh, CONT_RPC_QUERY, &rc);
	if (op == NULL)
		return rc;
	op->cont_id = strdup(cont);
	if (op->cont_id == NULL) {
		cont_op_free(op);
		return -CAIRN_ERR_NOMEM;
	}
	op->in.cont = op->cont_id;
	op->info = info;
	return cont_start(op, ev);
}

int
cairn_cont_list(struct cairn_handle poh, struct cairn_cont_entry *ents, uint32_t *nr,
                struct cairn_event *ev)
{
	struct cont_op *op;
	int rc;

	if (nr == NULL || (ents == NULL && *nr > 0))
		return -CAIRN_ERR_INVAL;
	op = pool_op_new(poh, CONT_RPC_LIST, &rc);
	if (op == NULL)
		return rc;
	op->ents = ents;
	op->nr = nr;
	op->room = *nr;
	return cont_start(op, ev);
}

/* An op on a container handle. */
static struct cont_op *
cont_op_new(struct cairn_handle coh, uint32_t rpc, int *rc)
{
	struct cli_href *ref;
	struct cont_op *op;
	void *cont;

	op = cli_op_new(sizeof(*op), coh.cookie, CLI_HTYPE_CONT, &cont, &ref, rc);
	if (op == NULL)
		return NULL;
	op->rpc = rpc;
	op->cont = cont;
	op->cont_ref = ref;
	op->cont_cookie = coh.cookie;
	op->pool = op->cont->pool;
	memcpy(op->in.uuid, op->cont->uuid, 16);
	op->in.cont_hdl = op->cont->srv_hdl;
	return op;
}

int
cairn_cont_close(struct cairn_handle coh, struct cairn_event *ev)
{
	struct cont_op *op;
	int rc;

	op = cont_op_new(coh, CONT_RPC_CLOSE, &rc);
	if (op == NULL)
		return rc;
	return cont_start(op, ev);
}

int
cairn_cont_alloc_oid(struct cairn_handle coh, enum cairn_otype type, enum cairn_oclass oclass,
                     struct cairn_obj_id *oid, struct cairn_event *ev)
{
	struct cont_op *op;
	int rc;

	if (oid == NULL || (int)type < 0 || type >= CAIRN_OT_MAX ||
	    (oclass != CAIRN_OC_UNKNOWN && cairn_oclass_name(oclass) == NULL))
		return -CAIRN_ERR_INVAL;
	op = cont_op_new(coh, CONT_RPC_OID_ALLOC, &rc);
	if (op == NULL)
		return rc;
	if (oclass != CAIRN_OC_UNKNOWN && (uint32_t)proto_oclass_rf(oclass) < op->cont->rf) {
		CAIRN_ERROR("container %s has redundancy factor %u: object class %s tolerates %d "
		            "failure(s); use RP_2G1 (rf 1) or RP_3G1 (rf 2)", op->cont->label,
		            op->cont->rf, cairn_oclass_name(oclass), proto_oclass_rf(oclass));
		cont_op_free(op);
		return -CAIRN_ERR_INVAL;
	}
	op->oid = oid;
	op->otype = (uint32_t)type;
	op->oclass = (uint32_t)oclass;
	op->in.count = CONT_OID_BATCH;
	pthread_mutex_lock(&op->cont->lock);
	op->need_range = op->cont->oid_next >= op->cont->oid_end;
	pthread_mutex_unlock(&op->cont->lock);
	return cont_start(op, ev);
}

/* ------------------------------------------------------------------ global handles */

/*
 * CONT payload, layout 1 (little-endian):
 *   u16 layout | u16 0 | pool uuid[16] | u64 pool connection cookie |
 *   cont uuid[16] | u64 cont handle cookie on the engine | u32 oclass |
 *   u64 snapshot epoch (0 = latest) | u16 n + label (1..63 bytes)
 * Unpacked only under cairn_cont_global2local(), onto the caller's pool handle, which
 * must be the same connection (pool uuid and cookie).
 */
static size_t
cont_pack_size(void *obj)
{
	struct cli_cont *c = obj;

	return 2 + 2 + 16 + 8 + 16 + 8 + 4 + 8 + 2 + strlen(c->label);
}

static int
cont_pack(void *obj, void *buf, size_t len)
{
	struct cli_cont *c = obj;
	struct cli_gcur g = {.p = buf, .len = len};

	cli_gput_u(&g, CLI_GLOB_CONT_LAYOUT, 2);
	cli_gput_u(&g, 0, 2);
	cli_gput(&g, c->pool->uuid, 16);
	cli_gput_u(&g, c->pool->srv_hdl, 8);
	cli_gput(&g, c->uuid, 16);
	cli_gput_u(&g, c->srv_hdl, 8);
	pthread_mutex_lock(&c->lock);
	cli_gput_u(&g, c->oclass, 4);
	pthread_mutex_unlock(&c->lock);
	cli_gput_u(&g, c->snap_epoch, 8);
	cli_gput_str(&g, c->label);
	return g.err || g.off != len ? -CAIRN_ERR_TRUNC : 0;
}

/* The engine must still know both handles: a property get on the container handle. */
static int
cont_verify_net(void *arg)
{
	struct cli_cont *c = arg;
	struct cont_in in = {.pool_hdl = c->pool->srv_hdl, .cont_hdl = c->srv_hdl};
	struct cairn_rpc *rpc;
	int rc;

	memcpy(in.pool, c->pool->uuid, 16);
	memcpy(in.uuid, c->uuid, 16);
	rc = cli_rpc(cli_pool_svc_ep(c->pool), CAIRN_NET_OPC(PROTO_CONT_BASE, CONT_RPC_PROP_GET),
	             &in, sizeof(in), &rpc);
	if (rc == 0) {
		/* the data path's properties are not in the global form: take them here */
		const struct cont_out *o = cairn_rpc_out(rpc);
		struct proto_cont_props pp;

		if (o->value_len != sizeof(pp)) {
			rc = -CAIRN_ERR_PROTO;
		} else {
			struct cont_out po = {0};

			memcpy(&pp, o->value, sizeof(pp));
			po.chunk_size = pp.chunk_size;
			po.csum = pp.csum;
			po.rf = pp.rf;
			rc = cont_props_from_out(c, &po);
		}
		cairn_rpc_decref(rpc);
	}
	return rc;
}

static int
cont_unpack(const void *buf, size_t len, struct cairn_handle *h)
{
	struct cli_gcur g = {.p = (uint8_t *)buf, .len = len};
	uint8_t puuid[16];
	struct cairn_uuid u;
	struct cli_cont *c;
	const uint8_t *b;
	uint64_t phdl, cookie, layout;
	int rc;

	if (cli_glob_pool_hint() == 0) {
		CAIRN_ERROR("a container's global handle needs its pool handle: use "
		            "cairn_cont_global2local()");
		return -CAIRN_ERR_INVAL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -CAIRN_ERR_NOMEM;
	pthread_mutex_init(&c->lock, NULL);
	layout = cli_gget_u(&g, 2);
	if (layout != CLI_GLOB_CONT_LAYOUT) {
		/* a newer layout: VERSION; anything else is not ours */
		rc = !g.err && layout > CLI_GLOB_CONT_LAYOUT ? -CAIRN_ERR_VERSION : -CAIRN_ERR_PROTO;
		goto err;
	}
	rc = -CAIRN_ERR_PROTO;
	(void)cli_gget_u(&g, 2);
	b = cli_gget(&g, 16);
	if (b != NULL)
		memcpy(puuid, b, 16);
	phdl = cli_gget_u(&g, 8);
	b = cli_gget(&g, 16);
	if (b != NULL)
		memcpy(c->uuid, b, 16);
	c->srv_hdl = cli_gget_u(&g, 8);
	c->oclass = (uint32_t)cli_gget_u(&g, 4);
	c->snap_epoch = cli_gget_u(&g, 8);
	if (!cli_gget_str(&g, c->label, 1, sizeof(c->label)) || g.err || g.off != len ||
	    c->srv_hdl == 0)
		goto err;
	memcpy(u.b, c->uuid, 16);
	if (cairn_uuid_is_null(&u) ||
	    (c->oclass != CAIRN_OC_UNKNOWN && cairn_oclass_name((enum cairn_oclass)c->oclass) == NULL))
		goto err;
	c->pool = cli_pool_get(cli_glob_pool_hint(), &c->pool_ref);
	if (c->pool == NULL) {
		rc = -CAIRN_ERR_NOHANDLE;
		goto err;
	}
	if (memcmp(c->pool->uuid, puuid, 16) != 0 || c->pool->srv_hdl != phdl) {
		CAIRN_ERROR("container %s: its global handle belongs to another pool connection "
		            "than the pool handle given", c->label);
		rc = -CAIRN_ERR_INVAL;
		goto err;
	}
	c->g2l = true;
	rc = cli_glob_net_run(cont_verify_net, c);
	if (rc) {
		CAIRN_ERROR("container %s: the engine did not accept the shared handle: %s", c->label,
		            cairn_strerror(rc));
		goto err;
	}
	rc = cli_hdl_insert(c, CLI_HTYPE_CONT, cont_free, NULL, &cookie);
	if (rc)
		goto err;
	h->cookie = cookie;
	return 0;
err:
	if (c->pool_ref)
		cli_href_put(c->pool_ref);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return rc;
}

static const struct cli_htype_ops g_cont_glob_ops = {
	.name = "cont",
	.pack_size = cont_pack_size,
	.pack = cont_pack,
	.unpack = cont_unpack,
};

const struct cli_htype_ops *
cli_cont_glob_ops(void)
{
	return &g_cont_glob_ops;
}
