/*
 * The engine's `cont` module: the container service, on the system xstream (tag 0).
 * Containers of a pool: uuid, label (unique in the pool), type (POSIX, KV, ARRAY),
 * default object class, chunk size, checksum type, redundancy factor (those three and
 * the type fixed at create), and the next unallocated object id. Records are durable in
 * the metadata store (table SRV_MD_CONTS, key = pool uuid + container uuid); every
 * target's VOS shard of the pool holds the container (created and destroyed on all targets). Open handles are
 * kept in memory: a destroy is refused while the container is open unless forced.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairn/errno.h>
#include <cairn/placement.h>

#define CAIRN_LOG_SS CAIRN_SS_CONT
#include "common/log.h"
#include "engine/proto.h"
#include "net/net.h"
#include "rt/module.h"
#include "rt/rt.h"
#include "vos/vos.h"

#include "engine_internal.h"
#include "srv_internal.h"
#include "srv_acl.h"
#include "srv_cont_prop.h"
#include "srv_pool.h"

#define CONT_MD_MAGIC 0x544e4f43u /* "CONT" */
#define CONT_MD_VERSION 1
#define SRV_MAX_CONTS 1024
#define SRV_MAX_CONT_HDLS 1024
/* Object ids below this are reserved for the system (lo of an id). */
#define CONT_OID_FIRST 1024

struct cont_md_df {
	uint32_t magic;
	uint16_t version;
	uint16_t flags;
	uint8_t pool[16];
	uint8_t uuid[16];
	char label[SRV_LABEL_MAX];
	uint32_t type;
	uint32_t oclass;
	uint64_t ctime;
	uint64_t oid_next;
	uint64_t chunk_size; /* properties (0 in records that predate them: defaults) */
	uint32_t csum;
	uint32_t rf;
	uint8_t reserved[16];
};
_Static_assert(sizeof(struct cont_md_df) == 160, "cont_md_df is 160 bytes");

struct srv_cont {
	bool used;
	struct cairn_uuid pool;
	struct cairn_uuid uuid;
	char label[SRV_LABEL_MAX];
	uint32_t type;
	uint32_t oclass;
	uint64_t ctime;
	uint64_t oid_next;
	uint64_t chunk_size; /* bytes, CONT_CHUNK_MIN..CONT_CHUNK_MAX */
	uint32_t csum;       /* enum cairn_csum_type: 0 off, 1 crc32c, 2 crc64 */
	uint32_t rf;         /* redundancy factor 0..CONT_RF_MAX */
	unsigned nr_open;
};

#define CONT_CHUNK_DEFAULT PROTO_CONT_CHUNK_DEFAULT
#define CONT_RF_MAX PROTO_CONT_RF_MAX

struct cont_hdl {
	struct srv_cont *cont; /* NULL: free */
	uint64_t cookie;
};

static struct srv_cont g_conts[SRV_MAX_CONTS];
static struct cont_hdl g_chdls[SRV_MAX_CONT_HDLS];
static struct cairn_mutex g_cont_lock;
static bool g_cont_lock_init;

/* ------------------------------------------------------------------ table */

static struct srv_cont *
cont_lookup(const struct cairn_uuid *pool, const char *id)
{
	struct cairn_uuid u;
	bool by_uuid = cairn_uuid_parse(id, &u) == 0;
	unsigned i;

	for (i = 0; i < SRV_MAX_CONTS; i++) {
		struct srv_cont *c = &g_conts[i];

		if (!c->used || !cairn_uuid_equal(&c->pool, pool))
			continue;
		if (by_uuid ? cairn_uuid_equal(&c->uuid, &u) : strcmp(c->label, id) == 0)
			return c;
	}
	return NULL;
}

static void
cont_to_df(const struct srv_cont *c, struct cont_md_df *df)
{
	memset(df, 0, sizeof(*df));
	df->magic = CONT_MD_MAGIC;
	df->version = CONT_MD_VERSION;
	memcpy(df->pool, c->pool.b, 16);
	memcpy(df->uuid, c->uuid.b, 16);
	snprintf(df->label, sizeof(df->label), "%s", c->label);
	df->type = c->type;
	df->oclass = c->oclass;
	df->ctime = c->ctime;
	df->oid_next = c->oid_next;
	df->chunk_size = c->chunk_size;
	df->csum = c->csum;
	df->rf = c->rf;
}

static int
cont_store(const struct srv_cont *c)
{
	struct cont_md_df df;
	uint8_t key[32];

	cont_to_df(c, &df);
	memcpy(key, c->pool.b, 16);
	memcpy(key + 16, c->uuid.b, 16);
	return srv_md_put(SRV_MD_CONTS, key, sizeof(key), &df, sizeof(df));
}

static int
cont_load_one(void *arg, const void *key, uint32_t klen)
{
	struct cont_md_df df;
	uint32_t len = sizeof(df);
	struct srv_cont *c = NULL;
	unsigned i;
	int rc;

	if (klen != 32)
		return 0;
	rc = srv_md_get(SRV_MD_CONTS, key, klen, &df, &len);
	if (rc == -CAIRN_ERR_NONEXIST)
		return 0;
	if (rc == 0 && (len != sizeof(df) || df.magic != CONT_MD_MAGIC ||
	                df.version != CONT_MD_VERSION ||
	                memchr(df.label, '\0', sizeof(df.label)) == NULL))
		rc = -CAIRN_ERR_CORRUPT;
	for (i = 0; rc == 0 && i < SRV_MAX_CONTS && c == NULL; i++)
		if (!g_conts[i].used)
			c = &g_conts[i];
	if (rc == 0 && c == NULL)
		rc = -CAIRN_ERR_OVERFLOW;
	if (rc) {
		CAIRN_ERROR("container record unusable: %s", cairn_strerror(rc));
		return 0;
	}
	memset(c, 0, sizeof(*c));
	memcpy(c->pool.b, df.pool, 16);
	memcpy(c->uuid.b, df.uuid, 16);
	snprintf(c->label, sizeof(c->label), "%s", df.label);
	c->type = df.type;
	c->oclass = df.oclass;
	c->ctime = df.ctime;
	c->oid_next = df.oid_next;
	c->chunk_size = df.chunk_size ? df.chunk_size : CONT_CHUNK_DEFAULT;
	c->csum = df.csum <= PROTO_CONT_CSUM_MAX ? df.csum : 1;
	c->rf = df.rf <= CONT_RF_MAX ? df.rf : CONT_RF_MAX;
	c->used = true;
	return 0;
}

/* ------------------------------------------------------------------ shards */

struct vos_cont_arg {
	struct cairn_uuid pool, cont;
	bool create;
	int rc;
};

static void
vos_cont_ult(void *arg)
{
	struct vos_cont_arg *a = arg;
	struct cairn_vos_pool *vp = srv_vos_shard(&a->pool);

	if (vp == NULL) {
		a->rc = -CAIRN_ERR_NONEXIST;
		return;
	}
	if (a->create)
		a->rc = cairn_vos_cont_create(vp, a->cont.b);
	else
		a->rc = cairn_vos_cont_exists(vp, a->cont.b) ? cairn_vos_cont_destroy(vp, a->cont.b)
		                                           : 0;
}

/* Create or destroy the container on every target's shard. */
static int
cont_shards(const struct srv_cont *c, bool create)
{
	struct vos_cont_arg a = {.pool = c->pool, .cont = c->uuid, .create = create};
	unsigned n = engine_info()->targets, i;
	int rc = 0, one;

	for (i = 0; i < n; i++) {
		a.rc = -CAIRN_ERR_MISC;
		one = cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, i), vos_cont_ult, &a);
		one = one ? one : a.rc;
		if (one && create) {
			a.create = false;
			while (i-- > 0)
				cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, i), vos_cont_ult,
				                  &a);
			return one;
		}
		if (one && rc == 0)
			rc = one;
	}
	/* the pool's other ranks (srv_pool_tgt.c); a failed create is undone here too */
	one = srv_pool_tgt_cont_fanout(&c->pool, &c->uuid,
	                               create ? PROTO_TGT_CONT_CREATE : PROTO_TGT_CONT_DESTROY, 0);
	if (one && create) {
		a.create = false;
		for (i = 0; i < n; i++)
			cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, i), vos_cont_ult, &a);
		return one;
	}
	if (one && rc == 0)
		rc = one;
	return rc;
}

/* ------------------------------------------------------------------ handlers */

/* The create's properties: a struct proto_cont_props in in->value, or (older callers)
 * label/type/oclass of cont_in with defaults for the rest. Checked here again: the
 * service never trusts the client's checks. */
static int
create_props(const struct cont_in *in, struct proto_cont_props *pp)
{
	char err[200];
	int rc;

	memset(pp, 0, sizeof(*pp));
	if (in->value_len) {
		if (in->value_len != sizeof(*pp)) {
			CAIRN_WARN("container create refused: properties of %u bytes, expected %zu",
			           in->value_len, sizeof(*pp));
			return -CAIRN_ERR_INVAL;
		}
		memcpy(pp, in->value, sizeof(*pp));
		if (memchr(pp->label, '\0', sizeof(pp->label)) == NULL) {
			CAIRN_WARN("container create refused: label not terminated");
			return -CAIRN_ERR_INVAL;
		}
	} else {
		snprintf(pp->label, sizeof(pp->label), "%s", in->label ? in->label : "");
		pp->type = in->type;
		pp->oclass = in->oclass;
		if (pp->type == 0 || pp->oclass == 0) {
			CAIRN_WARN("container create refused: no type or object class");
			return -CAIRN_ERR_INVAL;
		}
	}
	if (srv_label_check(pp->label, err, sizeof(err))) {
		CAIRN_WARN("container create refused: %s", err);
		return -CAIRN_ERR_INVAL;
	}
	rc = proto_cont_props_check(pp, 1, err, sizeof(err));
	if (rc)
		CAIRN_WARN("container %s: create refused: %s", pp->label, err);
	return rc;
}

static int
cont_create(struct srv_pool *p, const struct cont_in *in, struct cont_out *o)
{
	struct proto_cont_props pp;
	struct srv_cont *c = NULL;
	unsigned i;
	int rc;

	rc = create_props(in, &pp);
	if (rc)
		return rc;
	if (cont_lookup(&p->uuid, pp.label))
		return -CAIRN_ERR_EXIST;
	for (i = 0; i < SRV_MAX_CONTS && c == NULL; i++)
		if (!g_conts[i].used)
			c = &g_conts[i];
	if (c == NULL)
		return -CAIRN_ERR_OVERFLOW;
	memset(c, 0, sizeof(*c));
	c->pool = p->uuid;
	cairn_uuid_generate(&c->uuid);
	snprintf(c->label, sizeof(c->label), "%s", pp.label);
	c->type = pp.type;
	c->oclass = pp.oclass;
	c->ctime = (uint64_t)time(NULL);
	c->oid_next = CONT_OID_FIRST;
	c->chunk_size = pp.chunk_size;
	c->csum = pp.csum;
	c->rf = pp.rf;
	rc = cont_shards(c, true);
	if (rc)
		return rc;
	rc = cont_store(c);
	if (rc) {
		cont_shards(c, false);
		return rc;
	}
	c->used = true;
	CAIRN_NOTE("pool %s: container %s created (type %u, class %s, chunk %llu, csum %u, rf %u)",
	           p->label, c->label, c->type, cairn_oclass_name((enum cairn_oclass)c->oclass),
	           (unsigned long long)c->chunk_size, c->csum, c->rf);
	memcpy(o->uuid, c->uuid.b, 16);
	o->label = c->label;
	o->type = c->type;
	o->oclass = c->oclass;
	o->chunk_size = c->chunk_size;
	o->csum = c->csum;
	o->rf = c->rf;
	return 0;
}

static int
cont_destroy(struct srv_pool *p, const struct cont_in *in)
{
	struct srv_cont *c = cont_lookup(&p->uuid, in->cont);
	uint8_t key[32];
	unsigned i;
	int rc;

	if (c == NULL)
		return -CAIRN_ERR_NONEXIST;
	if (c->nr_open && !(in->flags & PROTO_CONT_FORCE))
		return -CAIRN_ERR_BUSY;
	memcpy(key, c->pool.b, 16);
	memcpy(key + 16, c->uuid.b, 16);
	rc = srv_md_del(SRV_MD_CONTS, key, sizeof(key));
	if (rc)
		return rc;
	c->used = false;
	srv_cont_extra_forget(&c->pool, &c->uuid);
	for (i = 0; i < SRV_MAX_CONT_HDLS; i++)
		if (g_chdls[i].cont == c)
			g_chdls[i].cont = NULL;
	rc = cont_shards(c, false);
	if (rc)
		CAIRN_WARN("container %s: some shards not destroyed: %s", c->label,
		           cairn_strerror(rc));
	CAIRN_NOTE("pool %s: container %s destroyed", p->label, c->label);
	return 0;
}

static void
cont_fill(const struct srv_cont *c, struct cont_out *o)
{
	memcpy(o->uuid, c->uuid.b, 16);
	o->label = c->label;
	o->type = c->type;
	o->oclass = c->oclass;
	o->nr_open = c->nr_open;
	o->ctime = c->ctime;
	o->oid_next = c->oid_next;
	o->chunk_size = c->chunk_size;
	o->csum = c->csum;
	o->rf = c->rf;
}

static int
cont_open(struct srv_pool *p, const struct cont_in *in, struct cont_out *o)
{
	struct srv_cont *c = cont_lookup(&p->uuid, in->cont);
	struct cairn_uuid r;
	unsigned i;

	if (c == NULL)
		return -CAIRN_ERR_NONEXIST;
	if (in->epoch && !srv_cont_snap_exists(&c->pool, &c->uuid, in->epoch))
		return -CAIRN_ERR_NONEXIST;
	for (i = 0; i < SRV_MAX_CONT_HDLS; i++) {
		if (g_chdls[i].cont)
			continue;
		cairn_uuid_generate(&r);
		memcpy(&g_chdls[i].cookie, r.b, 8);
		g_chdls[i].cookie |= 1;
		g_chdls[i].cont = c;
		c->nr_open++;
		cont_fill(c, o);
		o->hdl = g_chdls[i].cookie;
		return 0;
	}
	return -CAIRN_ERR_OVERFLOW;
}

static struct cont_hdl *
chdl_find(const struct srv_pool *p, const struct cont_in *in)
{
	unsigned i;

	for (i = 0; i < SRV_MAX_CONT_HDLS; i++) {
		struct srv_cont *c = g_chdls[i].cont;

		if (c && g_chdls[i].cookie == in->cont_hdl && cairn_uuid_equal(&c->pool, &p->uuid) &&
		    memcmp(c->uuid.b, in->uuid, 16) == 0)
			return &g_chdls[i];
	}
	return NULL;
}

static int
cont_close(struct srv_pool *p, const struct cont_in *in)
{
	struct cont_hdl *h = chdl_find(p, in);

	if (h == NULL)
		return -CAIRN_ERR_NOHANDLE;
	h->cont->nr_open--;
	h->cont = NULL;
	return 0;
}

static int
cont_oid_alloc(struct srv_pool *p, const struct cont_in *in, struct cont_out *o)
{
	struct cont_hdl *h = chdl_find(p, in);
	struct srv_cont *c;
	uint64_t start;
	int rc;

	if (h == NULL)
		return -CAIRN_ERR_NOHANDLE;
	if (in->count == 0 || in->count > PROTO_OID_ALLOC_MAX)
		return -CAIRN_ERR_INVAL;
	c = h->cont;
	if (c->oid_next > UINT64_MAX - in->count)
		return -CAIRN_ERR_OVERFLOW;
	start = c->oid_next;
	c->oid_next += in->count;
	/* Durable before the client may use the range: never hand out an id twice. */
	rc = cont_store(c);
	if (rc) {
		c->oid_next = start;
		return rc;
	}
	cont_fill(c, o);
	o->oid_next = start;
	return 0;
}

static int
cont_list(struct srv_pool *p, struct cont_out *o, char **buf)
{
	size_t cap = 4096, len = 0;
	char us[CAIRN_UUID_STR_LEN];
	unsigned i;

	*buf = malloc(cap);
	if (*buf == NULL)
		return -CAIRN_ERR_NOMEM;
	(*buf)[0] = '\0';
	for (i = 0; i < SRV_MAX_CONTS; i++) {
		struct srv_cont *c = &g_conts[i];
		size_t need;

		if (!c->used || !cairn_uuid_equal(&c->pool, &p->uuid))
			continue;
		need = len + CAIRN_UUID_STR_LEN + SRV_LABEL_MAX + 2;
		if (need > cap) {
			char *nb = realloc(*buf, cap * 2);

			if (nb == NULL) {
				free(*buf);
				return -CAIRN_ERR_NOMEM;
			}
			*buf = nb;
			cap *= 2;
		}
		cairn_uuid_unparse(&c->uuid, us);
		len += (size_t)snprintf(*buf + len, cap - len, "%s %s\n", us, c->label);
	}
	o->list = *buf;
	return 0;
}

/* ------------------------------------------------------------------ properties */

static void
props_fill(const struct srv_cont *c, struct proto_cont_props *pp)
{
	memset(pp, 0, sizeof(*pp));
	snprintf(pp->label, sizeof(pp->label), "%s", c->label);
	pp->type = c->type;
	pp->oclass = c->oclass;
	pp->csum = c->csum;
	pp->chunk_size = c->chunk_size;
	pp->rf = c->rf;
}

static int
props_set(struct srv_pool *p, struct srv_cont *c, const struct cont_in *in)
{
	struct proto_cont_props pp;
	struct srv_cont tmp = *c;
	char err[160];
	int rc;

	if (in->value_len != sizeof(pp))
		return -CAIRN_ERR_INVAL;
	memcpy(&pp, in->value, sizeof(pp));
	if (pp.mask == 0 || (pp.mask & ~(PROTO_CPROP_LABEL | PROTO_CPROP_OCLASS |
	                                 PROTO_CPROP_CHUNK | PROTO_CPROP_CSUM | PROTO_CPROP_RF)))
		return -CAIRN_ERR_INVAL;
	/* The data path depends on these: data written under one chunk size or checksum
	 * would not be found or verified under another. */
	if (pp.mask & PROTO_CPROP_IMMUTABLE) {
		CAIRN_WARN("container %s: set-prop refused: chunk size, checksum and redundancy "
		           "factor are fixed at create", c->label);
		return -CAIRN_ERR_PERM;
	}
	if (pp.mask & PROTO_CPROP_LABEL) {
		if (memchr(pp.label, '\0', sizeof(pp.label)) == NULL ||
		    srv_label_check(pp.label, err, sizeof(err))) {
			CAIRN_INFO("container set-prop refused: bad label");
			return -CAIRN_ERR_INVAL;
		}
		if (strcmp(pp.label, c->label) != 0 && cont_lookup(&p->uuid, pp.label))
			return -CAIRN_ERR_EXIST;
		snprintf(tmp.label, sizeof(tmp.label), "%s", pp.label);
	}
	if (pp.mask & PROTO_CPROP_OCLASS) {
		int orf = proto_oclass_rf(pp.oclass);

		if (orf < 0)
			return -CAIRN_ERR_INVAL;
		if ((uint32_t)orf < c->rf) {
			CAIRN_WARN("container %s: set-prop refused: class %s tolerates %d "
			           "failure(s), fewer than the redundancy factor %u", c->label,
			           cairn_oclass_name((enum cairn_oclass)pp.oclass), orf, c->rf);
			return -CAIRN_ERR_INVAL;
		}
		tmp.oclass = pp.oclass;
	}
	rc = cont_store(&tmp);
	if (rc)
		return rc;
	*c = tmp;
	CAIRN_NOTE("pool %s: container %s: properties set", p->label, c->label);
	return 0;
}

/* Properties, attributes, snapshots: on an open handle; changes need a read-write
 * connection. *buf (malloc'd) backs o->value. */
static int
cont_extra(struct srv_pool *p, uint32_t idx, const struct cont_in *in, struct cont_out *o,
           char **buf)
{
	struct cont_hdl *h = chdl_find(p, in);
	struct proto_cont_props *pp;
	struct srv_cont *c;
	uint64_t *epochs;
	uint32_t len, nr;
	void *val;
	int rc;

	if (h == NULL)
		return -CAIRN_ERR_NOHANDLE;
	c = h->cont;
	if ((idx == CONT_RPC_PROP_SET || idx == CONT_RPC_ATTR_SET || idx == CONT_RPC_ATTR_DEL ||
	     idx == CONT_RPC_SNAP_CREATE || idx == CONT_RPC_SNAP_DESTROY) &&
	    !(srv_pool_handle_perms(p, in->pool_hdl) & SRV_ACL_WRITE))
		return -CAIRN_ERR_PERM;
	switch (idx) {
	case CONT_RPC_PROP_GET:
		pp = malloc(sizeof(*pp));
		if (pp == NULL)
			return -CAIRN_ERR_NOMEM;
		props_fill(c, pp);
		*buf = (char *)pp;
		o->value = pp;
		o->value_len = sizeof(*pp);
		return 0;
	case CONT_RPC_PROP_SET:
		return props_set(p, c, in);
	case CONT_RPC_ATTR_SET:
		return srv_cont_attr_set(&c->pool, &c->uuid, in->name, in->value, in->value_len);
	case CONT_RPC_ATTR_GET:
		rc = srv_cont_attr_get(&c->pool, &c->uuid, in->name, &val, &len);
		if (rc)
			return rc;
		*buf = val;
		o->value = val;
		o->value_len = len;
		return 0;
	case CONT_RPC_ATTR_LIST:
		rc = srv_cont_attr_list(&c->pool, &c->uuid, buf, &len);
		if (rc)
			return rc;
		o->value = *buf;
		o->value_len = len;
		return 0;
	case CONT_RPC_ATTR_DEL:
		return srv_cont_attr_del(&c->pool, &c->uuid, in->name);
	case CONT_RPC_SNAP_CREATE:
		rc = srv_cont_snap_create(&c->pool, &c->uuid, &o->epoch);
		if (rc == 0)
			CAIRN_NOTE("pool %s: container %s: snapshot at epoch %llu", p->label,
			           c->label, (unsigned long long)o->epoch);
		return rc;
	case CONT_RPC_SNAP_LIST:
		rc = srv_cont_snap_list(&c->pool, &c->uuid, &epochs, &nr);
		if (rc)
			return rc;
		*buf = (char *)epochs;
		o->value = epochs;
		o->value_len = nr * 8;
		return 0;
	case CONT_RPC_SNAP_DESTROY:
		if (in->epoch == 0)
			return -CAIRN_ERR_INVAL;
		return srv_cont_snap_destroy(&c->pool, &c->uuid, in->epoch);
	default:
		return -CAIRN_ERR_NOSYS;
	}
}

static void
rpc_cont(struct cairn_rpc *rpc)
{
	struct cont_in *in = cairn_rpc_in(rpc);
	struct cont_out *o = cairn_rpc_out(rpc);
	uint32_t idx = cairn_rpc_opc(rpc) & 0xff;
	struct srv_cont *c;
	struct srv_pool *p;
	char *list = NULL;
	int rc;

	p = srv_pool_by_hdl(in->pool, in->pool_hdl, &rc);
	if (p == NULL) {
		cairn_rpc_reply_err(rpc, rc);
		return;
	}
	cairn_mutex_lock(&g_cont_lock);
	switch (idx) {
	case CONT_RPC_CREATE:
		/* The pool ACL's 'c' permission, granted at connect (srv_pool_prop.c). */
		if (!(srv_pool_handle_perms(p, in->pool_hdl) & SRV_ACL_CREATE_CONT)) {
			CAIRN_WARN("pool %s: container create refused: the connection lacks the "
			           "'c' (create container) permission", p->label);
			rc = -CAIRN_ERR_PERM;
			break;
		}
		rc = cont_create(p, in, o);
		break;
	case CONT_RPC_DESTROY:
		if (!(srv_pool_handle_perms(p, in->pool_hdl) & SRV_ACL_DEL_CONT)) {
			CAIRN_WARN("pool %s: container destroy refused: the connection lacks the "
			           "'d' (delete container) permission", p->label);
			rc = -CAIRN_ERR_PERM;
			break;
		}
		rc = cont_destroy(p, in);
		break;
	case CONT_RPC_OPEN:
		rc = cont_open(p, in, o);
		break;
	case CONT_RPC_CLOSE:
		rc = cont_close(p, in);
		break;
	case CONT_RPC_LIST:
		rc = cont_list(p, o, &list);
		break;
	case CONT_RPC_QUERY:
		c = cont_lookup(&p->uuid, in->cont);
		rc = c ? 0 : -CAIRN_ERR_NONEXIST;
		if (c)
			cont_fill(c, o);
		break;
	case CONT_RPC_OID_ALLOC:
		rc = cont_oid_alloc(p, in, o);
		break;
	case CONT_RPC_PROP_GET:
	case CONT_RPC_PROP_SET:
	case CONT_RPC_ATTR_SET:
	case CONT_RPC_ATTR_GET:
	case CONT_RPC_ATTR_LIST:
	case CONT_RPC_ATTR_DEL:
	case CONT_RPC_SNAP_CREATE:
	case CONT_RPC_SNAP_LIST:
	case CONT_RPC_SNAP_DESTROY:
		rc = cont_extra(p, idx, in, o, &list);
		break;
	default:
		rc = -CAIRN_ERR_NOSYS;
		break;
	}
	if (rc)
		cairn_rpc_reply_err(rpc, rc);
	else
		cairn_rpc_reply(rpc);
	cairn_mutex_unlock(&g_cont_lock);
	free(list);
}

static const struct cairn_rpc_def g_cont_rpcs[] = PROTO_CONT_RPCS(rpc_cont);

static const struct cairn_proto g_cont_proto = {
        .name = "cont",
        .base = PROTO_CONT_BASE,
        .version = PROTO_VERSION,
        .count = CONT_RPC_COUNT,
        .rpcs = g_cont_rpcs,
};

/* Containers of a destroyed pool go with it (called by the pool service). */
void
srv_cont_pool_destroyed(const struct cairn_uuid *pool)
{
	uint8_t key[32];
	unsigned i;

	for (i = 0; i < SRV_MAX_CONTS; i++) {
		struct srv_cont *c = &g_conts[i];

		if (!c->used || !cairn_uuid_equal(&c->pool, pool))
			continue;
		memcpy(key, c->pool.b, 16);
		memcpy(key + 16, c->uuid.b, 16);
		srv_md_del(SRV_MD_CONTS, key, sizeof(key));
		c->used = false;
	}
	srv_cont_extra_forget(pool, NULL);
	for (i = 0; i < SRV_MAX_CONT_HDLS; i++)
		if (g_chdls[i].cont && cairn_uuid_equal(&g_chdls[i].cont->pool, pool))
			g_chdls[i].cont = NULL;
}

/* ------------------------------------------------------------------ module */

static void
cont_setup_ult(void *arg)
{
	int *rc = arg;

	*rc = srv_md_ready() ? srv_md_list(SRV_MD_CONTS, cont_load_one, NULL) : 0;
}

static int
cont_mod_setup(void)
{
	int rc, arc = 0;

	rc = cairn_mutex_init(&g_cont_lock);
	if (rc)
		return rc;
	g_cont_lock_init = true;
	rc = cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0), cont_setup_ult, &arc);
	return rc ? rc : arc;
}

static int
cont_mod_cleanup(void)
{
	memset(g_conts, 0, sizeof(g_conts));
	memset(g_chdls, 0, sizeof(g_chdls));
	if (g_cont_lock_init) {
		cairn_mutex_destroy(&g_cont_lock);
		g_cont_lock_init = false;
	}
	return 0;
}

struct cairn_module g_cont_srv_module = {
        .abi_version = CAIRN_MODULE_ABI_VERSION,
        .name = "cont",
        .id = ENGINE_MOD_CONT,
        .version = 1,
        .setup = cont_mod_setup,
        .cleanup = cont_mod_cleanup,
        .rpc_proto = &g_cont_proto,
};
