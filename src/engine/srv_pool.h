/*
 * Pool service internals (system xstream): the pool table and its operations, used by
 * the pool module's dRPC methods and, next, by the pool RPCs of clients.
 */
#ifndef CAIRN_ENGINE_SRV_POOL_H
#define CAIRN_ENGINE_SRV_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/uuid.h"
#include "engine/srv_api.h"
#include "srv_internal.h"

struct json_t;
struct srv_acl;
struct cairn_rpc;
struct pool_tgt_in;
struct pool_tgt_out;
struct cairn_drpc_call;

#define SRV_POOL_MAX_HANDLES 256
#define SRV_POOL_MAX_RANKS 16 /* ranks a pool spans */

/* One rank of a pool: its targets are the pool map's next nr_targets target ids. */
struct srv_pool_rank {
	uint32_t rank;
	uint16_t nr_targets;
	uint16_t down; /* 1: the rank left the system; its targets are DOWN in the map */
};

struct srv_pool {
	bool used;
	struct cairn_uuid uuid;
	char label[SRV_LABEL_MAX];
	uint64_t size_per_target;
	uint32_t nr_targets;
	uint32_t map_version;
	uint64_t ctime;
	unsigned nr_handles; /* connected clients */
	struct srv_acl *acl; /* owner, group, entries (srv_pool_prop.c); NULL: not loaded */
	uint32_t nr_ranks;   /* ranks the pool spans, ascending */
	struct srv_pool_rank ranks[SRV_POOL_MAX_RANKS];
};

/* Find by label or UUID text / by UUID; NULL when absent. */
struct srv_pool *srv_pool_lookup(const char *id);
struct srv_pool *srv_pool_lookup_uuid(const struct cairn_uuid *u);
/* 0 or -CAIRN_ERR_INVAL with the reason in err. */
int srv_label_check(const char *label, char *err, size_t errlen);
/* Create: label unique, size per target 16M..1T; err says what went wrong. */
int srv_pool_create(const char *label, uint64_t size, struct srv_pool **out, char *err,
                    size_t errlen);
/* Create with an owner user/group (NULL: the engine's own) for the default ACL. */
int srv_pool_create_owned(const char *label, uint64_t size, const char *owner,
                          const char *group, struct srv_pool **out, char *err, size_t errlen);
/* Destroy: refused with -CAIRN_ERR_BUSY while clients are connected unless force. */
int srv_pool_destroy(struct srv_pool *p, bool force, char *err, size_t errlen);
/* The pool as a JSON object (space = also query the shards). */
struct json_t *srv_pool_json(struct srv_pool *p, bool space);

/* Client connections (handles): a random cookie per connection. */
int srv_pool_handle_add(struct srv_pool *p, uint64_t *cookie);
/* -CAIRN_ERR_NOHANDLE when unknown. */
int srv_pool_handle_del(struct srv_pool *p, uint64_t cookie);
bool srv_pool_handle_valid(const struct srv_pool *p, uint64_t cookie);
void srv_pool_handles_drop(struct srv_pool *p);

/* The pool map (one rank, the pool's targets, UP) in wire form; *buf malloc'd. */
int srv_pool_map_encode(struct srv_pool *p, void **buf, uint32_t *len);
/* The pool of a connection: -CAIRN_ERR_NONEXIST (no pool) / -CAIRN_ERR_NOHANDLE in *rc. */
struct srv_pool *srv_pool_by_hdl(const uint8_t uuid[16], uint64_t hdl, int *rc);

/* The lock that serialises pool create/destroy, held by property and ACL changes too
 * (they yield on metadata I/O). */
void srv_pool_md_lock(void);
void srv_pool_md_unlock(void);
/* Rename (label checked by the caller; durable). */
int srv_pool_set_label(struct srv_pool *p, const char *label, char *err, size_t errlen);
/* Permissions of a connection (SRV_ACL_* of srv_acl.h); 0 for an unknown cookie. */
uint32_t srv_pool_handle_perms(const struct srv_pool *p, uint64_t cookie);
/* Set them (at connect). */
void srv_pool_handle_set_perms(struct srv_pool *p, uint64_t cookie, uint32_t perms);

/* ---- srv_pool_prop.c: ACLs and properties */
/* Load the pool's ACL (default ACL owned by the engine's user when there is none). */
int srv_pool_acl_load(struct srv_pool *p);
/* A new pool's default ACL, owner/group NULL = the engine's user/group (durable). */
int srv_pool_acl_init(struct srv_pool *p, const char *user, const char *group, char *err,
                      size_t errlen);
/* Free the ACL; durable: also delete its record (pool destroy). */
void srv_pool_acl_forget(struct srv_pool *p, bool durable);
/* May (user, groups) connect with flags (PROTO_POOL_CONNECT_*)? 0 or -CAIRN_ERR_PERM
 * (logged with the missing permission); *perms = what the ACL grants. */
int srv_pool_connect_check(struct srv_pool *p, uint32_t flags, const char *user,
                           const char *groups, uint32_t *perms);
int srv_pool_drpc_get_prop(const struct cairn_drpc_call *call, uint8_t **body,
                           size_t *body_len);
int srv_pool_drpc_set_prop(const struct cairn_drpc_call *call, uint8_t **body,
                           size_t *body_len);
int srv_pool_drpc_get_acl(const struct cairn_drpc_call *call, uint8_t **body,
                          size_t *body_len);
int srv_pool_drpc_update_acl(const struct cairn_drpc_call *call, uint8_t **body,
                             size_t *body_len);
int srv_pool_drpc_delete_acl(const struct cairn_drpc_call *call, uint8_t **body,
                             size_t *body_len);

/* Create the pool over the given ranks (NULL/0: every joined rank). */
int srv_pool_create_ranks(const char *label, uint64_t size, const char *owner,
                          const char *group, const uint32_t *ranks, unsigned nr_ranks,
                          struct srv_pool **out, char *err, size_t errlen);
/* Membership changed (srv_group.c): mark the targets of ranks that left DOWN and of
 * ranks that came back UP in every pool (map version bump, durable, pushed to the
 * pool's ranks). Returns at once; the work runs in a ULT of the system xstream. */
void srv_pool_group_changed(void);
/* Is this engine's own rank one of the pool's? */
bool srv_pool_has_rank(const struct srv_pool *p, uint32_t rank);

/* ---- srv_pool_tgt.c: the pool's shards on other ranks (engine to engine) */
/* Serve POOL_RPC_TGT_* (tag 0 handler). */
void srv_pool_tgt_handler(struct cairn_rpc *rpc);
/* Load this rank's target records (pools served elsewhere) at start. */
int srv_pool_tgt_load(void);
/* Forget them (module cleanup). */
void srv_pool_tgt_unload(void);
/* Does this rank hold shards of the pool for another rank's pool service? */
bool srv_pool_tgt_known(const struct cairn_uuid *pool);
/* Map version of such a pool (0: unknown). Any xstream. */
uint32_t srv_pool_tgt_map_version_of(const uint8_t uuid[16]);
/* One TGT RPC from the pool service to a rank (system xstream ULT); out may be NULL. */
int srv_pool_tgt_call(uint32_t rank, uint32_t opc, const struct pool_tgt_in *in,
                      struct pool_tgt_out *out);
/* Run a container op (PROTO_TGT_CONT_* / PROTO_TGT_SNAP_*) on every rank of the pool
 * other than this one. Create ops are undone on the ranks done when one fails; destroy
 * ops go on and return the first error. 0 for a pool this engine does not serve. */
int srv_pool_tgt_cont_fanout(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                             uint32_t op, uint64_t epoch);

/* Decode a dRPC body {pool: label-or-uuid, ...} whose keys must be among `keys` and find
 * the pool; on failure the error text is in (body, body_len) and *req is NULL. */
int srv_pool_req(const struct cairn_drpc_call *call, const char *const *keys,
                 struct json_t **req, struct srv_pool **p, uint8_t **body, size_t *body_len);
/* Reply helper: serialise o (consumed) into a malloc'd dRPC body. */
int srv_reply_json(struct json_t *o, uint8_t **body, size_t *body_len);

#endif /* CAIRN_ENGINE_SRV_POOL_H */
