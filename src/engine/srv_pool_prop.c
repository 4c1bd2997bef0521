/*
 * Pool properties and ACLs (the pool service, system xstream). The ACL of a pool (owner,
 * owner group, entries) is one record of the metadata table SRV_MD_POOL_PROPS (key: pool
 * uuid, value: JSON {owner, group, entries}); the label lives in the pool record itself
 * (srv_pool.c). dRPC methods (srv_api.h): POOL_GET_PROP, POOL_SET_PROP, POOL_GET_ACL,
 * POOL_UPDATE_ACL, POOL_DELETE_ACL. Connections are checked against the ACL at connect
 * (srv_pool_connect_check), container create/destroy against the connection's
 * permissions (srv_cont.c).
 */
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_POOL
#include "common/json.h"
#include "common/log.h"
#include "drpc/drpc.h"
#include "engine/proto.h"

#include "srv_acl.h"
#include "srv_internal.h"
#include "srv_pool.h"

/* The engine process's own user and group names ("name@"), the default pool owner. */
static void
self_names(char user[SRV_ACL_NAME_MAX], char group[SRV_ACL_NAME_MAX])
{
	char err[128];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	char buf[4096];

	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL ||
	    srv_acl_name_norm(pw.pw_name, user, err, sizeof(err)) != 0)
		snprintf(user, SRV_ACL_NAME_MAX, "uid%u@", (unsigned)geteuid());
	if (getgrgid_r(getegid(), &gr, buf, sizeof(buf), &grp) != 0 || grp == NULL ||
	    srv_acl_name_norm(gr.gr_name, group, err, sizeof(err)) != 0)
		snprintf(group, SRV_ACL_NAME_MAX, "gid%u@", (unsigned)getegid());
}

static int
acl_store(struct srv_pool *p, const struct srv_acl *acl, char *err, size_t errlen)
{
	json_t *j = srv_acl_json(acl);
	char *s;
	int rc;

	if (j == NULL)
		return -CAIRN_ERR_NOMEM;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL)
		return -CAIRN_ERR_NOMEM;
	if (strlen(s) > SRV_MD_VAL_MAX) {
		snprintf(err, errlen, "the ACL is too large to store (%zu bytes, at most %u)",
		         strlen(s), SRV_MD_VAL_MAX);
		free(s);
		return -CAIRN_ERR_OVERFLOW;
	}
	rc = srv_md_put(SRV_MD_POOL_PROPS, p->uuid.b, 16, s, (uint32_t)strlen(s));
	free(s);
	if (rc)
		snprintf(err, errlen, "cannot store the pool's ACL: %s", cairn_strerror(rc));
	return rc;
}

/* Replace the pool's ACL by *acl, durably first. */
static int
acl_commit(struct srv_pool *p, const struct srv_acl *acl, char *err, size_t errlen)
{
	int rc = acl_store(p, acl, err, errlen);

	if (rc == 0)
		*p->acl = *acl;
	return rc;
}

int
srv_pool_acl_load(struct srv_pool *p)
{
	char buf[SRV_MD_VAL_MAX + 1], us[CAIRN_UUID_STR_LEN], err[256];
	char user[SRV_ACL_NAME_MAX], group[SRV_ACL_NAME_MAX];
	uint32_t len = SRV_MD_VAL_MAX;
	json_error_t je;
	json_t *j;
	int rc;

	if (p->acl == NULL) {
		p->acl = calloc(1, sizeof(*p->acl));
		if (p->acl == NULL)
			return -CAIRN_ERR_NOMEM;
	}
	cairn_uuid_unparse(&p->uuid, us);
	rc = srv_md_get(SRV_MD_POOL_PROPS, p->uuid.b, 16, buf, &len);
	if (rc == 0) {
		buf[len] = '\0';
		j = json_loads(buf, JSON_REJECT_DUPLICATES, &je);
		rc = j ? srv_acl_from_json(j, p->acl, err, sizeof(err)) : -CAIRN_ERR_CORRUPT;
		if (j == NULL)
			snprintf(err, sizeof(err), "%s", je.text);
		json_decref(j);
		if (rc == 0)
			return 0;
		CAIRN_ERROR("pool %s: ACL record unusable (%s): using the default ACL", us, err);
	} else if (rc != -CAIRN_ERR_NONEXIST) {
		CAIRN_ERROR("pool %s: cannot read its ACL: %s", us, cairn_strerror(rc));
		return rc;
	}
	/* No record (pool created before ACLs, or a crash right after create). */
	self_names(user, group);
	srv_acl_default(p->acl, user, group);
	return 0;
}

int
srv_pool_acl_init(struct srv_pool *p, const char *user, const char *group, char *err,
                  size_t errlen)
{
	char u[SRV_ACL_NAME_MAX], g[SRV_ACL_NAME_MAX];
	struct srv_acl *acl;
	int rc;

	self_names(u, g);
	if (user && (rc = srv_acl_name_norm(user, u, err, errlen)) != 0)
		return rc;
	if (group && (rc = srv_acl_name_norm(group, g, err, errlen)) != 0)
		return rc;
	acl = calloc(1, sizeof(*acl));
	if (acl == NULL)
		return -CAIRN_ERR_NOMEM;
	srv_acl_default(acl, u, g);
	rc = acl_store(p, acl, err, errlen);
	if (rc) {
		free(acl);
		return rc;
	}
	free(p->acl);
	p->acl = acl;
	return 0;
}

void
srv_pool_acl_forget(struct srv_pool *p, bool durable)
{
	if (durable)
		srv_md_del(SRV_MD_POOL_PROPS, p->uuid.b, 16);
	free(p->acl);
	p->acl = NULL;
}

int
srv_pool_connect_check(struct srv_pool *p, uint32_t flags, const char *user,
                       const char *groups, uint32_t *perms)
{
	uint32_t need = SRV_ACL_READ, have;
	char hs[16], ns[16];

	if (flags & PROTO_POOL_CONNECT_RW)
		need |= SRV_ACL_WRITE;
	have = p->acl ? srv_acl_perms(p->acl, user, groups) : SRV_ACL_ALL;
	*perms = have;
	if ((have & need) == need)
		return 0;
	srv_acl_perms_str(have, hs, sizeof(hs));
	srv_acl_perms_str(need & ~have, ns, sizeof(ns));
	CAIRN_WARN("pool %s: connect %s by user '%s' refused: the ACL grants '%s', missing "
	           "'%s'", p->label, (flags & PROTO_POOL_CONNECT_RW) ? "read-write" : "read-only",
	           user ? user : "", hs, ns);
	return -CAIRN_ERR_PERM;
}

/* ------------------------------------------------------------------ dRPC (JSON) */

/* srv_pool_req() for the ACL and property methods: the pool's ACL must be loaded. */
static int
prop_req(const struct cairn_drpc_call *call, const char *const *keys, json_t **req,
         struct srv_pool **p, uint8_t **body, size_t *body_len)
{
	int rc;

	if (call->body_len == 0) {
		cairn_drpc_errmsg(body, body_len, "request body is not a JSON object: empty");
		*req = NULL;
		return -CAIRN_ERR_PROTO;
	}
	rc = srv_pool_req(call, keys, req, p, body, body_len);
	if (rc == 0 && (*p)->acl == NULL) {
		cairn_drpc_errmsg(body, body_len, "pool '%s' has no ACL loaded", (*p)->label);
		json_decref(*req);
		*req = NULL;
		rc = -CAIRN_ERR_NOSYS;
	}
	return rc;
}

static json_t *
prop_json(struct srv_pool *p)
{
	json_t *o = srv_pool_json(p, false);

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "owner", json_string(p->acl->owner));
	json_object_set_new(o, "group", json_string(p->acl->group));
	json_object_set_new(o, "acl", srv_acl_json(p->acl));
	return o;
}

int
srv_pool_drpc_get_prop(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	static const char *const keys[] = {"pool", NULL};
	struct srv_pool *p;
	json_t *req;
	int rc;

	rc = prop_req(call, keys, &req, &p, body, body_len);
	if (rc)
		return rc;
	json_decref(req);
	return srv_reply_json(prop_json(p), body, body_len);
}

static int
srv_pool_drpc_set_prop_locked(const struct cairn_drpc_call *call, uint8_t **body,
                              size_t *body_len)
{
	static const char *const keys[] = {"pool", "label", "owner", "group", NULL};
	const char *label = NULL, *owner = NULL, *group = NULL;
	struct srv_pool *p;
	struct srv_acl acl;
	char err[256] = "";
	json_t *req;
	int rc;

	rc = prop_req(call, keys, &req, &p, body, body_len);
	if (rc)
		return rc;
	rc = cairn_json_get_str(req, "label", false, 0, &label, err, sizeof(err));
	if (rc == 0)
		rc = cairn_json_get_str(req, "owner", false, 0, &owner, err, sizeof(err));
	if (rc == 0)
		rc = cairn_json_get_str(req, "group", false, 0, &group, err, sizeof(err));
	if (rc == 0 && !label && !owner && !group) {
		snprintf(err, sizeof(err), "nothing to set: give label, owner and/or group");
		rc = -CAIRN_ERR_INVAL;
	}
	acl = *p->acl;
	if (rc == 0 && owner)
		rc = srv_acl_name_norm(owner, acl.owner, err, sizeof(err));
	if (rc == 0 && group)
		rc = srv_acl_name_norm(group, acl.group, err, sizeof(err));
	if (rc == 0 && label)
		rc = srv_label_check(label, err, sizeof(err));
	if (rc == 0 && label && strcmp(label, p->label) != 0 && srv_pool_lookup(label)) {
		snprintf(err, sizeof(err), "a pool labelled '%s' exists", label);
		rc = -CAIRN_ERR_EXIST;
	}
	if (rc == 0 && (owner || group))
		rc = acl_commit(p, &acl, err, sizeof(err));
	if (rc == 0 && label)
		rc = srv_pool_set_label(p, label, err, sizeof(err));
	json_decref(req);
	if (rc) {
		cairn_drpc_errmsg(body, body_len, "%s", err);
		return rc;
	}
	CAIRN_NOTE("pool %s: properties set", p->label);
	return srv_reply_json(prop_json(p), body, body_len);
}

int
srv_pool_drpc_get_acl(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	static const char *const keys[] = {"pool", NULL};
	struct srv_pool *p;
	json_t *req;
	int rc;

	rc = prop_req(call, keys, &req, &p, body, body_len);
	if (rc)
		return rc;
	json_decref(req);
	return srv_reply_json(srv_acl_json(p->acl), body, body_len);
}

static int
srv_pool_drpc_update_acl_locked(const struct cairn_drpc_call *call, uint8_t **body,
                                size_t *body_len)
{
	static const char *const keys[] = {"pool", "entries", NULL};
	struct srv_pool *p;
	struct srv_acl acl;
	struct srv_ace e;
	char err[256] = "";
	json_t *req, *arr, *v;
	size_t i;
	int rc;

	rc = prop_req(call, keys, &req, &p, body, body_len);
	if (rc)
		return rc;
	acl = *p->acl;
	arr = json_object_get(req, "entries");
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > SRV_ACL_MAX_ENTRIES) {
		snprintf(err, sizeof(err), "'entries' must be an array of 1..%d ACL entries",
		         SRV_ACL_MAX_ENTRIES);
		rc = -CAIRN_ERR_INVAL;
	}
	json_array_foreach(arr, i, v) {
		if (rc)
			break;
		if (!json_is_string(v)) {
			snprintf(err, sizeof(err), "entry %zu is not a string", i);
			rc = -CAIRN_ERR_INVAL;
			break;
		}
		rc = srv_ace_parse(json_string_value(v), &e, err, sizeof(err));
		if (rc == 0 && srv_acl_update(&acl, &e) != 0) {
			snprintf(err, sizeof(err), "an ACL holds at most %d entries",
			         SRV_ACL_MAX_ENTRIES);
			rc = -CAIRN_ERR_OVERFLOW;
		}
	}
	if (rc == 0)
		rc = acl_commit(p, &acl, err, sizeof(err));
	json_decref(req);
	if (rc) {
		cairn_drpc_errmsg(body, body_len, "%s", err);
		return rc;
	}
	CAIRN_NOTE("pool %s: ACL updated (%u entries)", p->label, p->acl->nr);
	return srv_reply_json(srv_acl_json(p->acl), body, body_len);
}

static int
srv_pool_drpc_delete_acl_locked(const struct cairn_drpc_call *call, uint8_t **body,
                                size_t *body_len)
{
	static const char *const keys[] = {"pool", "principal", NULL};
	const char *principal = NULL;
	struct srv_pool *p;
	struct srv_acl acl;
	struct srv_ace e;
	char err[256] = "";
	json_t *req;
	int rc;

	rc = prop_req(call, keys, &req, &p, body, body_len);
	if (rc)
		return rc;
	acl = *p->acl;
	rc = cairn_json_get_str(req, "principal", true, 0, &principal, err, sizeof(err));
	if (rc == 0)
		rc = srv_acl_principal_parse(principal, &e, err, sizeof(err));
	if (rc == 0 && srv_acl_delete(&acl, &e) != 0) {
		snprintf(err, sizeof(err), "the ACL has no entry for '%s' (see `cairnctl pool "
		         "get-acl`)", principal);
		rc = -CAIRN_ERR_NONEXIST;
	}
	if (rc == 0)
		rc = acl_commit(p, &acl, err, sizeof(err));
	json_decref(req);
	if (rc) {
		cairn_drpc_errmsg(body, body_len, "%s", err);
		return rc;
	}
	CAIRN_NOTE("pool %s: ACL entry removed", p->label);
	return srv_reply_json(srv_acl_json(p->acl), body, body_len);
}

int
srv_pool_drpc_set_prop(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	int rc;

	/* Serialised with pool create/destroy and other changes: they all yield. */
	srv_pool_md_lock();
	rc = srv_pool_drpc_set_prop_locked(call, body, body_len);
	srv_pool_md_unlock();
	return rc;
}

int
srv_pool_drpc_update_acl(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	int rc;

	/* Serialised with pool create/destroy and other changes: they all yield. */
	srv_pool_md_lock();
	rc = srv_pool_drpc_update_acl_locked(call, body, body_len);
	srv_pool_md_unlock();
	return rc;
}

int
srv_pool_drpc_delete_acl(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	int rc;

	/* Serialised with pool create/destroy and other changes: they all yield. */
	srv_pool_md_lock();
	rc = srv_pool_drpc_delete_acl_locked(call, body, body_len);
	srv_pool_md_unlock();
	return rc;
}
