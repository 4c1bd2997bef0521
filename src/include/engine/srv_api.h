/*
 * dRPC methods of the engine's pool service (module CAIRN_DRPC_MODULE_POOL), shared by
 * cairn-engine (src/engine/srv_pool.c) and cairn-server (src/control/ctl_pool.c).
 *
 * Bodies are JSON objects (UTF-8, no NUL), requests and replies:
 *   POOL_CREATE  {"label": str, "size": bytes per target}   -> pool object
 *   POOL_DESTROY {"pool": label|uuid, "force"?: bool}       -> (empty)
 *   POOL_LIST    {}                                         -> {"pools": [pool object]}
 *   POOL_QUERY   {"pool": label|uuid}                       -> pool object
 * pool object: {uuid, label, size_per_target, targets, map_version, connections, ctime,
 *               total, free, targets_up}
 *   POOL_GET_PROP   {"pool"}                 -> pool object + {owner, group, acl}
 *   POOL_SET_PROP   {"pool", "label"?, "owner"?, "group"?} -> as GET_PROP
 *   POOL_GET_ACL    {"pool"}                 -> acl {owner, group, entries: ["A::OWNER@:rw"]}
 *   POOL_UPDATE_ACL {"pool", "entries": [ACE text]} -> acl (entries added or replaced)
 *   POOL_DELETE_ACL {"pool", "principal": "bob@"|"g:staff@"|"OWNER@"...} -> acl
 *   POOL_CREATE also takes "user"? and "group"? (the owner; default: the engine's user)
 * ACE text and permission letters: see src/engine/srv_acl.h.
 * On failure the Response status is a negative CAIRN_ERR_* and the body a text message.
 */
#ifndef CAIRN_ENGINE_SRV_API_H
#define CAIRN_ENGINE_SRV_API_H

enum srv_drpc_pool_method {
	SRV_DRPC_POOL_CREATE = 1,
	SRV_DRPC_POOL_DESTROY = 2,
	SRV_DRPC_POOL_LIST = 3,
	SRV_DRPC_POOL_QUERY = 4,
	SRV_DRPC_POOL_GET_PROP = 5,
	SRV_DRPC_POOL_SET_PROP = 6,
	SRV_DRPC_POOL_GET_ACL = 7,
	SRV_DRPC_POOL_UPDATE_ACL = 8,
	SRV_DRPC_POOL_DELETE_ACL = 9,
	/* {"pool"} -> pool object: the pool map version + 1 (persisted); clients holding
	 * the older map get -CAIRN_ERR_STALE from the targets and refresh (tests; the
	 * stand-in for a real map change such as a target exclusion) */
	SRV_DRPC_POOL_MAP_BUMP = 10,
};

#endif /* CAIRN_ENGINE_SRV_API_H */
