/*
 * The engine's `pool` module: the pool service, on the system xstream. It owns the pool
 * table (uuid, label, size per target, target count, map version), keeps it durable in
 * the metadata store (srv_md.c) and creates/destroys the pools' VOS shards on every
 * target (srv_vos.c). Reached over dRPC (CAIRN_DRPC_MODULE_POOL) from cairn-server;
 * request and reply bodies are JSON objects (see README.md).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_POOL
#include "common/json.h"
#include "common/log.h"
#include "drpc/drpc.h"
#include "engine/proto.h"
#include "placement/placement.h"
#include "rt/module.h"
#include "rt/rt.h"

#include "engine_internal.h"
#include "srv_acl.h"
#include "srv_internal.h"
#include "srv_pool.h"
#include "srv_pool_map.h"

/* Durable pool record (little-endian host layout; version bumps on change). */
#define POOL_MD_MAGIC 0x4c4f4f50u /* "POOL" */
#define POOL_MD_VERSION 1
struct pool_md_df {
	uint32_t magic;
	uint16_t version;
	uint16_t flags;
	uint8_t uuid[16];
	char label[SRV_LABEL_MAX];
	uint64_t size_per_target;
	uint32_t nr_targets;
	uint32_t map_version;
	uint64_t ctime;
	uint8_t reserved[32];
};
_Static_assert(sizeof(struct pool_md_df) == 144, "pool_md_df is 144 bytes");

static struct srv_pool g_pools[SRV_MAX_POOLS];
static struct cairn_mutex g_pool_lock; /* serialises create/destroy (they yield) */
static bool g_pool_lock_init;

/* Map versions for any xstream (srv_pool_map.h): entry i follows g_pools[i]; `ver` is
 * published last (release) and 0 means unused. */
static struct {
	uint64_t uuid[2];
	uint32_t ver;
} g_map_vers[SRV_MAX_POOLS];

static void
pool_map_ver_publish(const struct srv_pool *p)
{
	unsigned i = (unsigned)(p - g_pools);
	uint64_t w[2];

	memcpy(w, p->uuid.b, 16);
	__atomic_store_n(&g_map_vers[i].ver, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&g_map_vers[i].uuid[0], w[0], __ATOMIC_RELAXED);
	__atomic_store_n(&g_map_vers[i].uuid[1], w[1], __ATOMIC_RELAXED);
	__atomic_store_n(&g_map_vers[i].ver, p->used ? p->map_version : 0, __ATOMIC_RELEASE);
}

uint32_t
srv_pool_map_version_of(const uint8_t uuid[16])
{
	uint64_t w[2];
	unsigned i;

	memcpy(w, uuid, 16);
	for (i = 0; i < SRV_MAX_POOLS; i++) {
		uint32_t v = __atomic_load_n(&g_map_vers[i].ver, __ATOMIC_ACQUIRE);

		if (v != 0 && __atomic_load_n(&g_map_vers[i].uuid[0], __ATOMIC_RELAXED) == w[0] &&
		    __atomic_load_n(&g_map_vers[i].uuid[1], __ATOMIC_RELAXED) == w[1] &&
		    __atomic_load_n(&g_map_vers[i].ver, __ATOMIC_ACQUIRE) == v)
			return v;
	}
	return 0;
}

/* ------------------------------------------------------------------ table */

void
srv_pool_md_lock(void)
{
	cairn_mutex_lock(&g_pool_lock);
}

void
srv_pool_md_unlock(void)
{
	cairn_mutex_unlock(&g_pool_lock);
}

struct srv_pool *
srv_pool_lookup(const char *id)
{
	struct cairn_uuid u;
	unsigned i;
	bool by_uuid = cairn_uuid_parse(id, &u) == 0;

	for (i = 0; i < SRV_MAX_POOLS; i++) {
		struct srv_pool *p = &g_pools[i];

		if (!p->used)
			continue;
		if (by_uuid ? cairn_uuid_equal(&p->uuid, &u) : strcmp(p->label, id) == 0)
			return p;
	}
	return NULL;
}

struct srv_pool *
srv_pool_lookup_uuid(const struct cairn_uuid *u)
{
	unsigned i;

	for (i = 0; i < SRV_MAX_POOLS; i++)
		if (g_pools[i].used && cairn_uuid_equal(&g_pools[i].uuid, u))
			return &g_pools[i];
	return NULL;
}

int
srv_label_check(const char *label, char *err, size_t errlen)
{
	struct cairn_uuid u;
	size_t i, n = strlen(label);

	if (n == 0 || n >= SRV_LABEL_MAX) {
		snprintf(err, errlen, "label must be 1..%d characters", SRV_LABEL_MAX - 1);
		return -CAIRN_ERR_INVAL;
	}
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)label[i]) && label[i] != '_' && label[i] != '-' &&
		    label[i] != '.') {
			snprintf(err, errlen,
			         "label '%s': character %zu is not a letter, digit, '_', '-' or '.'",
			         label, i);
			return -CAIRN_ERR_INVAL;
		}
	}
	if (cairn_uuid_parse(label, &u) == 0) {
		snprintf(err, errlen, "a label cannot look like a UUID");
		return -CAIRN_ERR_INVAL;
	}
	return 0;
}

static void
pool_to_df(const struct srv_pool *p, struct pool_md_df *df)
{
	memset(df, 0, sizeof(*df));
	df->magic = POOL_MD_MAGIC;
	df->version = POOL_MD_VERSION;
	memcpy(df->uuid, p->uuid.b, 16);
	snprintf(df->label, sizeof(df->label), "%s", p->label);
	df->size_per_target = p->size_per_target;
	df->nr_targets = p->nr_targets;
	df->map_version = p->map_version;
	df->ctime = p->ctime;
}

static int
pool_from_df(const struct pool_md_df *df, uint32_t len, struct srv_pool *p)
{
	if (len != sizeof(*df) || df->magic != POOL_MD_MAGIC || df->version != POOL_MD_VERSION ||
	    memchr(df->label, '\0', sizeof(df->label)) == NULL || df->nr_targets == 0 ||
	    df->nr_targets > ENGINE_MAX_TARGETS)
		return -CAIRN_ERR_CORRUPT;
	memset(p, 0, sizeof(*p));
	memcpy(p->uuid.b, df->uuid, 16);
	snprintf(p->label, sizeof(p->label), "%s", df->label);
	p->size_per_target = df->size_per_target;
	p->nr_targets = df->nr_targets;
	p->map_version = df->map_version;
	p->ctime = df->ctime;
	p->used = true;
	return 0;
}

static int
pool_load_one(void *arg, const void *key, uint32_t klen)
{
	struct pool_md_df df;
	uint32_t len = sizeof(df);
	struct srv_pool *slot = NULL;
	char us[CAIRN_UUID_STR_LEN];
	unsigned i;
	int rc;

	if (klen != 16)
		return 0;
	rc = srv_md_get(SRV_MD_POOLS, key, klen, &df, &len);
	if (rc == -CAIRN_ERR_NONEXIST)
		return 0;
	for (i = 0; i < SRV_MAX_POOLS && slot == NULL; i++)
		if (!g_pools[i].used)
			slot = &g_pools[i];
	if (rc == 0 && slot == NULL)
		rc = -CAIRN_ERR_OVERFLOW;
	if (rc == 0)
		rc = pool_from_df(&df, len, slot);
	if (rc) {
		cairn_uuid_unparse(key, us);
		CAIRN_ERROR("pool %s: metadata record unusable: %s", us, cairn_strerror(rc));
		return 0;
	}
	cairn_uuid_unparse(&slot->uuid, us);
	rc = srv_pool_acl_load(slot);
	if (rc) {
		CAIRN_ERROR("pool %s: cannot load its ACL: %s", us, cairn_strerror(rc));
		return rc;
	}
	pool_map_ver_publish(slot);
	CAIRN_NOTE("pool %s (%s) loaded", us, slot->label);
	return 0;
}

/* ------------------------------------------------------------------ handles */

struct pool_hdl {
	struct srv_pool *pool; /* NULL: free */
	uint64_t cookie;
	uint32_t perms; /* SRV_ACL_* granted at connect */
};
static struct pool_hdl g_hdls[SRV_POOL_MAX_HANDLES];

int
srv_pool_handle_add(struct srv_pool *p, uint64_t *cookie)
{
	struct cairn_uuid r;
	unsigned i;

	for (i = 0; i < SRV_POOL_MAX_HANDLES; i++) {
		if (g_hdls[i].pool)
			continue;
		cairn_uuid_generate(&r); /* random bits for the cookie */
		memcpy(&g_hdls[i].cookie, r.b, sizeof(uint64_t));
		g_hdls[i].cookie |= 1; /* never 0 */
		g_hdls[i].pool = p;
		g_hdls[i].perms = SRV_ACL_ALL;
		p->nr_handles++;
		*cookie = g_hdls[i].cookie;
		return 0;
	}
	return -CAIRN_ERR_OVERFLOW;
}

int
srv_pool_handle_del(struct srv_pool *p, uint64_t cookie)
{
	unsigned i;

	for (i = 0; i < SRV_POOL_MAX_HANDLES; i++) {
		if (g_hdls[i].pool == p && g_hdls[i].cookie == cookie) {
			g_hdls[i].pool = NULL;
			p->nr_handles--;
			return 0;
		}
	}
	return -CAIRN_ERR_NOHANDLE;
}

bool
srv_pool_handle_valid(const struct srv_pool *p, uint64_t cookie)
{
	unsigned i;

	for (i = 0; i < SRV_POOL_MAX_HANDLES; i++)
		if (g_hdls[i].pool == p && g_hdls[i].cookie == cookie)
			return true;
	return false;
}

uint32_t
srv_pool_handle_perms(const struct srv_pool *p, uint64_t cookie)
{
	unsigned i;

	for (i = 0; i < SRV_POOL_MAX_HANDLES; i++)
		if (g_hdls[i].pool == p && g_hdls[i].cookie == cookie)
			return g_hdls[i].perms;
	return 0;
}

void
srv_pool_handle_set_perms(struct srv_pool *p, uint64_t cookie, uint32_t perms)
{
	unsigned i;

	for (i = 0; i < SRV_POOL_MAX_HANDLES; i++)
		if (g_hdls[i].pool == p && g_hdls[i].cookie == cookie)
			g_hdls[i].perms = perms;
}

void
srv_pool_handles_drop(struct srv_pool *p)
{
	unsigned i;

	for (i = 0; i < SRV_POOL_MAX_HANDLES; i++)
		if (g_hdls[i].pool == p)
			g_hdls[i].pool = NULL;
	p->nr_handles = 0;
}

/* ------------------------------------------------------------------ operations */

int
srv_pool_create(const char *label, uint64_t size, struct srv_pool **out, char *err,
                size_t errlen)
{
	return srv_pool_create_owned(label, size, NULL, NULL, out, err, errlen);
}

int
srv_pool_create_owned(const char *label, uint64_t size, const char *owner, const char *group,
                      struct srv_pool **out, char *err, size_t errlen)
{
	struct srv_pool *p = NULL;
	struct pool_md_df df;
	unsigned i;
	int rc;

	if (!srv_md_ready() || srv_vos_pools_dir() == NULL) {
		snprintf(err, errlen, "this engine has no storage (start it with -s DIR)");
		return -CAIRN_ERR_NOSYS;
	}
	rc = srv_label_check(label, err, errlen);
	if (rc)
		return rc;
	if (owner || group) {
		char tmp[SRV_ACL_NAME_MAX];

		if ((owner && (rc = srv_acl_name_norm(owner, tmp, err, errlen)) != 0) ||
		    (group && (rc = srv_acl_name_norm(group, tmp, err, errlen)) != 0))
			return rc;
	}
	if (size < SRV_SHARD_MIN_SIZE || size > SRV_SHARD_MAX_SIZE) {
		snprintf(err, errlen, "size per target must be 16M..1T, got %llu bytes",
		         (unsigned long long)size);
		return -CAIRN_ERR_INVAL;
	}
	size &= ~4095ull;
	cairn_mutex_lock(&g_pool_lock);
	if (srv_pool_lookup(label)) {
		snprintf(err, errlen, "a pool labelled '%s' exists", label);
		rc = -CAIRN_ERR_EXIST;
		goto out;
	}
	for (i = 0; i < SRV_MAX_POOLS && p == NULL; i++)
		if (!g_pools[i].used)
			p = &g_pools[i];
	if (p == NULL) {
		snprintf(err, errlen, "too many pools (at most %d)", SRV_MAX_POOLS);
		rc = -CAIRN_ERR_OVERFLOW;
		goto out;
	}
	memset(p, 0, sizeof(*p));
	cairn_uuid_generate(&p->uuid);
	snprintf(p->label, sizeof(p->label), "%s", label);
	p->size_per_target = size;
	p->nr_targets = engine_info()->targets;
	p->map_version = 1;
	p->ctime = (uint64_t)time(NULL);
	/* Each target's free space (and the largest free extent) in the error, not just
	 * NOSPACE: nothing is written when a target is too full. */
	rc = srv_vos_space_check(&p->uuid, size, err, errlen);
	if (rc)
		goto out;
	rc = srv_vos_shards_create(&p->uuid, size);
	if (rc) {
		snprintf(err, errlen, "cannot create the pool's shards: %s%s", cairn_strerror(rc),
		         rc == -CAIRN_ERR_NOSPACE ? " (not enough space on the storage)" : "");
		goto out;
	}
	pool_to_df(p, &df);
	rc = srv_md_put(SRV_MD_POOLS, p->uuid.b, 16, &df, sizeof(df));
	if (rc) {
		snprintf(err, errlen, "cannot record the pool: %s", cairn_strerror(rc));
		srv_vos_shards_destroy(&p->uuid);
		goto out;
	}
	rc = srv_pool_acl_init(p, owner, group, err, errlen);
	if (rc) {
		srv_md_del(SRV_MD_POOLS, p->uuid.b, 16);
		srv_vos_shards_destroy(&p->uuid);
		goto out;
	}
	p->used = true;
	pool_map_ver_publish(p);
	*out = p;
out:
	cairn_mutex_unlock(&g_pool_lock);
	return rc;
}

int
srv_pool_destroy(struct srv_pool *p, bool force, char *err, size_t errlen)
{
	char us[CAIRN_UUID_STR_LEN];
	int rc;

	cairn_uuid_unparse(&p->uuid, us);
	cairn_mutex_lock(&g_pool_lock);
	if (!p->used) {
		snprintf(err, errlen, "pool %s does not exist", us);
		rc = -CAIRN_ERR_NONEXIST;
		goto out;
	}
	if (p->nr_handles > 0 && !force) {
		snprintf(err, errlen, "pool %s (%s) has %u connection(s); disconnect them or use "
		         "force", p->label, us, p->nr_handles);
		rc = -CAIRN_ERR_BUSY;
		goto out;
	}
	/* Forget the record first: a crash in the middle leaves orphan shard files, which
	 * the next start removes, never a pool whose shards are half gone. */
	rc = srv_md_del(SRV_MD_POOLS, p->uuid.b, 16);
	if (rc) {
		snprintf(err, errlen, "cannot remove the pool's record: %s", cairn_strerror(rc));
		goto out;
	}
	p->used = false;
	pool_map_ver_publish(p);
	srv_pool_acl_forget(p, true);
	srv_pool_handles_drop(p);
	srv_cont_pool_destroyed(&p->uuid);
	rc = srv_vos_shards_destroy(&p->uuid);
	if (rc)
		CAIRN_WARN("pool %s: some shards could not be removed: %s", us, cairn_strerror(rc));
	rc = 0;
	CAIRN_NOTE("pool %s (%s) destroyed%s", us, p->label, force ? " (forced)" : "");
out:
	cairn_mutex_unlock(&g_pool_lock);
	return rc;
}

int
srv_pool_set_label(struct srv_pool *p, const char *label, char *err, size_t errlen)
{
	struct srv_pool tmp = *p;
	struct pool_md_df df;
	int rc;

	snprintf(tmp.label, sizeof(tmp.label), "%s", label);
	pool_to_df(&tmp, &df);
	rc = srv_md_put(SRV_MD_POOLS, p->uuid.b, 16, &df, sizeof(df));
	if (rc) {
		snprintf(err, errlen, "cannot record the new label: %s", cairn_strerror(rc));
		return rc;
	}
	CAIRN_NOTE("pool %s renamed %s", p->label, label);
	snprintf(p->label, sizeof(p->label), "%s", label);
	return 0;
}

json_t *
srv_pool_json(struct srv_pool *p, bool space)
{
	char us[CAIRN_UUID_STR_LEN];
	struct srv_space sp;
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	cairn_uuid_unparse(&p->uuid, us);
	json_object_set_new(o, "uuid", json_string(us));
	json_object_set_new(o, "label", json_string(p->label));
	json_object_set_new(o, "size_per_target", json_integer((json_int_t)p->size_per_target));
	json_object_set_new(o, "targets", json_integer(p->nr_targets));
	json_object_set_new(o, "map_version", json_integer(p->map_version));
	json_object_set_new(o, "connections", json_integer(p->nr_handles));
	json_object_set_new(o, "ctime", json_integer((json_int_t)p->ctime));
	if (space && srv_vos_shards_query(&p->uuid, &sp) == 0) {
		json_object_set_new(o, "total", json_integer((json_int_t)sp.total));
		json_object_set_new(o, "free", json_integer((json_int_t)sp.free));
		json_object_set_new(o, "targets_up", json_integer(sp.nr_shards));
		srv_vos_tgt_space_json(o); /* "target_space": per target size/used/free */
	}
	return o;
}

/* ------------------------------------------------------------------ dRPC (JSON bodies) */

static int
body_json(const struct cairn_drpc_call *call, json_t **out, uint8_t **body, size_t *body_len)
{
	json_error_t je;

	if (call->body_len == 0) {
		*out = json_object();
		return *out ? 0 : -CAIRN_ERR_NOMEM;
	}
	*out = json_loadb((const char *)call->body, call->body_len, JSON_REJECT_DUPLICATES, &je);
	if (*out == NULL || !json_is_object(*out)) {
		cairn_drpc_errmsg(body, body_len, "request body is not a JSON object: %s",
		                  *out ? "wrong type" : je.text);
		json_decref(*out);
		*out = NULL;
		return -CAIRN_ERR_PROTO;
	}
	return 0;
}

int
srv_reply_json(json_t *o, uint8_t **body, size_t *body_len)
{
	char *s;

	if (o == NULL)
		return -CAIRN_ERR_NOMEM;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		return -CAIRN_ERR_NOMEM;
	*body = (uint8_t *)s;
	*body_len = strlen(s);
	return 0;
}

static int
drpc_pool_create(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	static const char *const keys[] = {"label", "size", "user", "group", NULL};
	const char *label, *owner = NULL, *group = NULL;
	struct srv_pool *p;
	char err[256];
	uint64_t size;
	json_t *req;
	int rc;

	rc = body_json(call, &req, body, body_len);
	if (rc)
		return rc;
	rc = cairn_json_check_keys(req, keys, err, sizeof(err));
	if (rc == 0)
		rc = cairn_json_get_str(req, "label", true, 0, &label, err, sizeof(err));
	if (rc == 0)
		rc = cairn_json_get_u64(req, "size", true, 0, UINT64_MAX, &size, err, sizeof(err));
	if (rc == 0)
		rc = cairn_json_get_str(req, "user", false, 0, &owner, err, sizeof(err));
	if (rc == 0)
		rc = cairn_json_get_str(req, "group", false, 0, &group, err, sizeof(err));
	if (rc == 0)
		rc = srv_pool_create_owned(label, size, owner, group, &p, err, sizeof(err));
	json_decref(req);
	if (rc) {
		cairn_drpc_errmsg(body, body_len, "%s", err);
		return rc;
	}
	CAIRN_NOTE("pool %s created: %llu bytes on each of %u target(s)", p->label,
	           (unsigned long long)p->size_per_target, p->nr_targets);
	return srv_reply_json(srv_pool_json(p, true), body, body_len);
}

/* Decode {pool: label-or-uuid, ...} and find the pool. */
static int
req_pool(const struct cairn_drpc_call *call, const char *const *keys, json_t **req,
         struct srv_pool **p, uint8_t **body, size_t *body_len)
{
	const char *id;
	char err[256];
	int rc;

	rc = body_json(call, req, body, body_len);
	if (rc)
		return rc;
	rc = cairn_json_check_keys(*req, keys, err, sizeof(err));
	if (rc == 0)
		rc = cairn_json_get_str(*req, "pool", true, 0, &id, err, sizeof(err));
	if (rc == 0) {
		*p = srv_pool_lookup(id);
		if (*p == NULL) {
			snprintf(err, sizeof(err), "no pool '%s' (see `cairnctl pool list`)", id);
			rc = -CAIRN_ERR_NONEXIST;
		}
	}
	if (rc) {
		cairn_drpc_errmsg(body, body_len, "%s", err);
		json_decref(*req);
		*req = NULL;
	}
	return rc;
}

static int
drpc_pool_destroy(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	static const char *const keys[] = {"pool", "force", NULL};
	struct srv_pool *p;
	bool force = false;
	char err[256];
	json_t *req;
	int rc;

	rc = req_pool(call, keys, &req, &p, body, body_len);
	if (rc)
		return rc;
	rc = cairn_json_get_bool(req, "force", false, &force, err, sizeof(err));
	if (rc == 0)
		rc = srv_pool_destroy(p, force, err, sizeof(err));
	json_decref(req);
	if (rc) {
		cairn_drpc_errmsg(body, body_len, "%s", err);
		return rc;
	}
	return 0;
}

static int
drpc_pool_query(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	static const char *const keys[] = {"pool", NULL};
	struct srv_pool *p;
	json_t *req;
	int rc;

	rc = req_pool(call, keys, &req, &p, body, body_len);
	if (rc)
		return rc;
	json_decref(req);
	return srv_reply_json(srv_pool_json(p, true), body, body_len);
}

static int
drpc_pool_list(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	static const char *const keys[] = {NULL};
	json_t *req, *res, *arr;
	char err[256];
	unsigned i;
	int rc;

	rc = body_json(call, &req, body, body_len);
	if (rc)
		return rc;
	rc = cairn_json_check_keys(req, keys, err, sizeof(err));
	json_decref(req);
	if (rc) {
		cairn_drpc_errmsg(body, body_len, "%s", err);
		return rc;
	}
	res = json_object();
	arr = json_array();
	if (res == NULL || arr == NULL) {
		json_decref(res);
		json_decref(arr);
		return -CAIRN_ERR_NOMEM;
	}
	for (i = 0; i < SRV_MAX_POOLS; i++)
		if (g_pools[i].used)
			json_array_append_new(arr, srv_pool_json(&g_pools[i], true));
	json_object_set_new(res, "pools", arr);
	return srv_reply_json(res, body, body_len);
}

/* A new pool map version: recorded, then published to the targets, whose requests
 * with an older version now fail with STALE until the client refreshes its map. */
static int
drpc_pool_map_bump(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	static const char *const keys[] = {"pool", NULL};
	struct pool_md_df df;
	struct srv_pool *p, tmp;
	json_t *req;
	int rc;

	rc = req_pool(call, keys, &req, &p, body, body_len);
	if (rc)
		return rc;
	json_decref(req);
	cairn_mutex_lock(&g_pool_lock);
	if (!p->used || p->map_version == UINT32_MAX) {
		cairn_mutex_unlock(&g_pool_lock);
		cairn_drpc_errmsg(body, body_len, "pool %s: %s", p->label,
		                  p->used ? "map version at its maximum" : "destroyed");
		return p->used ? -CAIRN_ERR_OVERFLOW : -CAIRN_ERR_NONEXIST;
	}
	tmp = *p;
	tmp.map_version++;
	pool_to_df(&tmp, &df);
	rc = srv_md_put(SRV_MD_POOLS, p->uuid.b, 16, &df, sizeof(df));
	if (rc) {
		cairn_mutex_unlock(&g_pool_lock);
		cairn_drpc_errmsg(body, body_len, "pool %s: cannot record the new map version: %s",
		                  p->label, cairn_strerror(rc));
		return rc;
	}
	p->map_version = tmp.map_version;
	pool_map_ver_publish(p);
	cairn_mutex_unlock(&g_pool_lock);
	CAIRN_NOTE("pool %s: pool map version now %u", p->label, p->map_version);
	return srv_reply_json(srv_pool_json(p, true), body, body_len);
}

static const struct cairn_drpc_method g_pool_drpc_methods[] = {
        {SRV_DRPC_POOL_CREATE, "pool_create", drpc_pool_create},
        {SRV_DRPC_POOL_DESTROY, "pool_destroy", drpc_pool_destroy},
        {SRV_DRPC_POOL_LIST, "pool_list", drpc_pool_list},
        {SRV_DRPC_POOL_QUERY, "pool_query", drpc_pool_query},
        {SRV_DRPC_POOL_GET_PROP, "pool_get_prop", srv_pool_drpc_get_prop},
        {SRV_DRPC_POOL_SET_PROP, "pool_set_prop", srv_pool_drpc_set_prop},
        {SRV_DRPC_POOL_GET_ACL, "pool_get_acl", srv_pool_drpc_get_acl},
        {SRV_DRPC_POOL_UPDATE_ACL, "pool_update_acl", srv_pool_drpc_update_acl},
        {SRV_DRPC_POOL_DELETE_ACL, "pool_delete_acl", srv_pool_drpc_delete_acl},
        {SRV_DRPC_POOL_MAP_BUMP, "pool_map_bump", drpc_pool_map_bump},
};

static const struct cairn_drpc_handler_table g_pool_drpc = {
        .module = CAIRN_DRPC_MODULE_POOL,
        .name = "pool",
        .methods = g_pool_drpc_methods,
        .nr_methods = sizeof(g_pool_drpc_methods) / sizeof(g_pool_drpc_methods[0]),
};

/* ------------------------------------------------------------------ RPCs (tag 0) */

int
srv_pool_map_encode(struct srv_pool *p, void **buf, uint32_t *len)
{
	struct cairn_pool_map *map;
	size_t need, used;
	int rank = engine_info()->rank;
	int rc;

	rc = cairn_pmap_create(p->map_version, &map);
	if (rc)
		return rc;
	rc = cairn_pmap_add_rank(map, rank < 0 ? 0 : (uint32_t)rank, 0, p->nr_targets,
	                         CAIRN_TGT_UP, false);
	if (rc)
		goto out;
	need = cairn_pmap_encoded_size(map);
	*buf = malloc(need);
	if (*buf == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto out;
	}
	rc = cairn_pmap_encode(map, *buf, need, &used);
	if (rc) {
		free(*buf);
		*buf = NULL;
		goto out;
	}
	*len = (uint32_t)used;
out:
	cairn_pmap_destroy(map);
	return rc;
}

struct srv_pool *
srv_pool_by_hdl(const uint8_t uuid[16], uint64_t hdl, int *rc)
{
	struct cairn_uuid u;
	struct srv_pool *p;

	memcpy(u.b, uuid, 16);
	p = srv_pool_lookup_uuid(&u);
	if (p == NULL) {
		*rc = -CAIRN_ERR_NONEXIST;
		return NULL;
	}
	if (!srv_pool_handle_valid(p, hdl)) {
		*rc = -CAIRN_ERR_NOHANDLE;
		return NULL;
	}
	*rc = 0;
	return p;
}

/* Fill a connect/query reply; *map must be freed after the reply. */
static int
pool_out_fill(struct srv_pool *p, struct pool_out *o, void **map)
{
	struct srv_space sp;
	int rc;

	rc = srv_pool_map_encode(p, map, &o->map_len);
	if (rc)
		return rc;
	o->map = *map;
	memcpy(o->uuid, p->uuid.b, 16);
	o->map_version = p->map_version;
	o->nr_targets = p->nr_targets;
	o->label = p->label;
	if (srv_vos_shards_query(&p->uuid, &sp) == 0) {
		o->total = sp.total;
		o->free = sp.free;
	}
	return 0;
}

static void
rpc_pool_connect(struct cairn_rpc *rpc)
{
	struct pool_in *in = cairn_rpc_in(rpc);
	struct pool_out *o = cairn_rpc_out(rpc);
	struct srv_pool *p;
	void *map = NULL;
	int rc;

	uint32_t perms;

	p = srv_pool_lookup(in->pool);
	if (p == NULL) {
		cairn_rpc_reply_err(rpc, -CAIRN_ERR_NONEXIST);
		return;
	}
	if ((in->flags & ~(PROTO_POOL_CONNECT_RO | PROTO_POOL_CONNECT_RW)) != 0 ||
	    in->flags == (PROTO_POOL_CONNECT_RO | PROTO_POOL_CONNECT_RW)) {
		cairn_rpc_reply_err(rpc, -CAIRN_ERR_INVAL);
		return;
	}
	rc = srv_pool_connect_check(p, in->flags ? in->flags : PROTO_POOL_CONNECT_RW, in->user,
	                            in->groups, &perms);
	if (rc) {
		cairn_rpc_reply_err(rpc, rc);
		return;
	}
	if (in->flags & PROTO_POOL_CONNECT_RO)
		perms &= ~(uint32_t)SRV_ACL_WRITE;
	rc = srv_pool_handle_add(p, &o->hdl);
	if (rc == 0)
		srv_pool_handle_set_perms(p, o->hdl, perms);
	if (rc == 0) {
		rc = pool_out_fill(p, o, &map);
		if (rc)
			srv_pool_handle_del(p, o->hdl);
	}
	if (rc) {
		cairn_rpc_reply_err(rpc, rc);
		return;
	}
	CAIRN_INFO("pool %s: client connected (%u connection(s))", p->label, p->nr_handles);
	cairn_rpc_reply(rpc);
	free(map);
}

static void
rpc_pool_disconnect(struct cairn_rpc *rpc)
{
	struct pool_in *in = cairn_rpc_in(rpc);
	struct srv_pool *p;
	int rc;

	p = srv_pool_by_hdl(in->uuid, in->hdl, &rc);
	if (p)
		rc = srv_pool_handle_del(p, in->hdl);
	if (rc)
		cairn_rpc_reply_err(rpc, rc);
	else
		cairn_rpc_reply(rpc);
}

static void
rpc_pool_query(struct cairn_rpc *rpc)
{
	struct pool_in *in = cairn_rpc_in(rpc);
	struct pool_out *o = cairn_rpc_out(rpc);
	struct srv_pool *p;
	void *map = NULL;
	int rc;

	p = srv_pool_by_hdl(in->uuid, in->hdl, &rc);
	if (p) {
		o->hdl = in->hdl;
		rc = pool_out_fill(p, o, &map);
	}
	if (rc) {
		cairn_rpc_reply_err(rpc, rc);
		return;
	}
	cairn_rpc_reply(rpc);
	free(map);
}

static const struct cairn_rpc_def g_pool_rpcs[] =
        PROTO_POOL_RPCS(rpc_pool_connect, rpc_pool_disconnect, rpc_pool_query);

static const struct cairn_proto g_pool_proto = {
        .name = "pool",
        .base = PROTO_POOL_BASE,
        .version = PROTO_VERSION,
        .count = POOL_RPC_COUNT,
        .rpcs = g_pool_rpcs,
};

/* ------------------------------------------------------------------ module */

struct setup_arg {
	int rc;
};

/* Drop shard files of pools that have no record (a create or destroy cut short). */
static void
pool_reap_orphans(void)
{
	struct cairn_uuid uuids[SRV_MAX_POOLS];
	char us[CAIRN_UUID_STR_LEN];
	unsigned n, i;

	n = srv_vos_shards_list(uuids, SRV_MAX_POOLS);
	for (i = 0; i < n && i < SRV_MAX_POOLS; i++) {
		if (srv_pool_lookup_uuid(&uuids[i]))
			continue;
		cairn_uuid_unparse(&uuids[i], us);
		CAIRN_WARN("pool %s: shards without a pool record (interrupted create or "
		           "destroy): removing them",
		           us);
		srv_vos_shards_destroy(&uuids[i]);
	}
}

static void
pool_setup_ult(void *arg)
{
	struct setup_arg *a = arg;

	a->rc = srv_md_open();
	if (a->rc)
		return;
	a->rc = srv_md_list(SRV_MD_POOLS, pool_load_one, NULL);
	if (a->rc == 0)
		pool_reap_orphans();
}

static void
pool_cleanup_ult(void *arg)
{
	srv_md_close();
}

static int
pool_mod_setup(void)
{
	struct setup_arg a = {0};
	int rc;

	rc = cairn_mutex_init(&g_pool_lock);
	if (rc)
		return rc;
	g_pool_lock_init = true;
	if (engine_info()->storage_dir == NULL)
		return 0;
	rc = cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0), pool_setup_ult, &a);
	rc = rc ? rc : a.rc;
	if (rc)
		CAIRN_ERROR("pool service: cannot load its metadata: %s", cairn_strerror(rc));
	return rc;
}

static int
pool_mod_cleanup(void)
{
	if (engine_info()->storage_dir)
		cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0), pool_cleanup_ult, NULL);
	for (unsigned i = 0; i < SRV_MAX_POOLS; i++)
		srv_pool_acl_forget(&g_pools[i], false);
	memset(g_pools, 0, sizeof(g_pools));
	if (g_pool_lock_init) {
		cairn_mutex_destroy(&g_pool_lock);
		g_pool_lock_init = false;
	}
	return 0;
}

struct cairn_module g_pool_srv_module = {
        .abi_version = CAIRN_MODULE_ABI_VERSION,
        .name = "pool",
        .id = ENGINE_MOD_POOL,
        .version = 1,
        .setup = pool_mod_setup,
        .cleanup = pool_mod_cleanup,
        .drpc_handlers = &g_pool_drpc,
        .rpc_proto = &g_pool_proto,
};
