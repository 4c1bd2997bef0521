/*
 * The system's membership as this engine knows it (srv_group.c): the rank -> URI table the
 * control plane pushes over dRPC (MGMT GROUP_UPDATE, mgmt.proto GroupUpdateReq) whenever
 * a rank joins, restarts, stops or is excluded. Joined ranks are added to (or updated in)
 * the engine's network group, so engine code reaches any rank by (rank, tag).
 *
 * Threads: every function runs on the system xstream (dRPC handlers, pool service).
 */
#ifndef CAIRN_ENGINE_SRV_GROUP_H
#define CAIRN_ENGINE_SRV_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_GROUP_MAX 64          /* ranks in a system */
#define SRV_GROUP_URI_MAX 256     /* incl. NUL */

enum srv_rank_state {
	SRV_RANK_UNKNOWN = 0,
	SRV_RANK_JOINED,
	SRV_RANK_STARTING,
	SRV_RANK_STOPPED,
	SRV_RANK_STOPPING,
	SRV_RANK_EXCLUDED,
};

struct srv_group_member {
	uint32_t rank;
	enum srv_rank_state state;
	char uri[SRV_GROUP_URI_MAX];
};

/* Parse a state name of GroupMember.state; SRV_RANK_UNKNOWN when not one. */
enum srv_rank_state srv_rank_state_parse(const char *s);
const char *srv_rank_state_name(enum srv_rank_state st);

/*
 * Install a new table (version must be newer than the current one; an older or equal
 * one is ignored with 0). Checks every member (rank < 2^20, no duplicates, a joined rank
 * with a URI must have a valid tcp://HOST:PORT URI) before changing anything: on error
 * nothing changed and err says why (-CAIRN_ERR_INVAL). Then sets the joined ranks' URIs in
 * the network group and tells the pool service (srv_pool_group_changed()).
 */
int srv_group_update(uint64_t version, const struct srv_group_member *m, unsigned n,
                     char *err, size_t errlen);
/* The same from a GroupUpdateReq protobuf body (mgmt.proto), checked fully first:
 * -CAIRN_ERR_PROTO (malformed) or -CAIRN_ERR_INVAL, err says why. */
int srv_group_update_body(const uint8_t *body, size_t len, char *err, size_t errlen);
/* Version of the table held (0: none received yet). */
uint64_t srv_group_version(void);
/* URI of a rank; -CAIRN_ERR_NONEXIST if the table does not list it. */
int srv_group_rank_uri(uint32_t rank, char *buf, size_t len);
/* Is the rank joined? Without any table only this engine's own rank is. */
bool srv_group_rank_joined(uint32_t rank);
/* The joined ranks, ascending (this engine's own rank when no table was received);
 * returns how many there are (may exceed max; only max are written). */
unsigned srv_group_joined(uint32_t *ranks, unsigned max);
/* Forget the table (engine stop, unit tests). */
void srv_group_reset(void);

/* ---- srv_net.c: the engine's network group and its system (tag 0) context; NULL until
 * the network is started (SET_RANK with a URI). */
struct cairn_net_group;
struct cairn_net_ctx;
struct cairn_net_group *engine_net_group(void);
struct cairn_net_ctx *engine_net_sys_ctx(void);

#endif /* CAIRN_ENGINE_SRV_GROUP_H */
