/*
 * Membership to engines: the system's rank -> URI table, with a version that moves on
 * whenever a rank's state or URI changes (join, restart, stop, exclusion), pushed to every
 * joined engine over dRPC (MGMT GROUP_UPDATE, mgmt.proto GroupUpdateReq). An engine that
 * (re)joins gets the current table on the next tick. Runs on the server's main thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_MGMT
#include "common/hash.h"
#include "common/log.h"
#include "drpc/drpc.h"
#include "mgmt.pb-c.h"

#include "control_internal.h"

#define GROUP_DRPC_TIMEOUT_MS 2000
#define GROUP_RETRY_MS 1000

void
ctl_engine_uri(const struct ctl_engine *e, char *buf, size_t len)
{
	if (e->cfg->port)
		snprintf(buf, len, "tcp://127.0.0.1:%u", e->cfg->port);
	else if (len > 0)
		buf[0] = '\0';
}

static uint64_t
group_sig(const struct ctl_system *sys)
{
	uint64_t h = 0x6d656d62;
	unsigned i;

	for (i = 0; i < sys->nr_engines; i++) {
		const struct ctl_engine *e = &sys->engines[i];
		uint64_t w[3] = {e->rank, (uint64_t)e->state, e->cfg->port};

		h = cairn_hash_bytes(w, sizeof(w), h);
	}
	for (i = 0; i < sys->nr_remote; i++) {
		const struct ctl_member *m = &sys->remote[i];

		h = cairn_hash_bytes(&m->rank, sizeof(m->rank), h);
		h = cairn_hash_bytes(m->state, strlen(m->state), h);
		h = cairn_hash_bytes(m->uri, strlen(m->uri), h);
	}
	return h;
}

void
ctl_group_refresh(struct ctl_system *sys)
{
	uint64_t sig;

	if (sys->is_node) {
		sys->group_version = sys->ms_version; /* the management service's table */
		return;
	}
	sig = group_sig(sys);
	if (sig != sys->group_sig || sys->group_version == 0) {
		sys->group_sig = sig;
		sys->group_version++;
		CAIRN_INFO("membership version %llu", (unsigned long long)sys->group_version);
	}
}

int
ctl_group_push(struct ctl_system *sys, struct ctl_engine *e)
{
	static Cairn__Mgmt__GroupMember mem[CTL_MAX_ENGINES + CTL_MAX_REMOTE];
	static Cairn__Mgmt__GroupMember *memp[CTL_MAX_ENGINES + CTL_MAX_REMOTE];
	static char uris[CTL_MAX_ENGINES][64];
	static uint8_t buf[16384];
	Cairn__Mgmt__GroupUpdateReq req = CAIRN__MGMT__GROUP_UPDATE_REQ__INIT;
	struct cairn_drpc_response resp;
	unsigned i, n = 0;
	size_t len;
	int rc;

	if (e->drpc == NULL)
		return -CAIRN_ERR_UNREACH;
	/* the management service lists its own engines, then the other servers' ranks; a
	 * node forwards the management service's table as it is */
	for (i = 0; !sys->is_node && i < sys->nr_engines; i++, n++) {
		const struct ctl_engine *o = &sys->engines[i];

		cairn__mgmt__group_member__init(&mem[n]);
		ctl_engine_uri(o, uris[i], sizeof(uris[i]));
		mem[n].rank = o->rank;
		mem[n].uri = uris[i];
		mem[n].state = (char *)ctl_rank_state_name(o->state);
		memp[n] = &mem[n];
	}
	for (i = 0; i < sys->nr_remote && n < CTL_MAX_ENGINES + CTL_MAX_REMOTE; i++, n++) {
		cairn__mgmt__group_member__init(&mem[n]);
		mem[n].rank = sys->remote[i].rank;
		mem[n].uri = sys->remote[i].uri;
		mem[n].state = sys->remote[i].state;
		memp[n] = &mem[n];
	}
	req.version = sys->group_version;
	req.n_members = n;
	req.members = memp;
	len = cairn__mgmt__group_update_req__get_packed_size(&req);
	if (len > sizeof(buf))
		return -CAIRN_ERR_OVERFLOW;
	len = cairn__mgmt__group_update_req__pack(&req, buf);
	rc = cairn_drpc_client_call(e->drpc, CAIRN_DRPC_MODULE_MGMT, CAIRN_DRPC_MGMT_GROUP_UPDATE,
	                            buf, len, GROUP_DRPC_TIMEOUT_MS, &resp);
	if (rc)
		return rc;
	rc = resp.status;
	if (rc)
		CAIRN_WARN("rank %u: membership update refused: %s: %.*s", e->rank,
		           cairn_strerror(rc), (int)resp.body_len, (const char *)resp.body);
	cairn_drpc_response_release(&resp);
	return rc;
}

void
ctl_group_sync(struct ctl_system *sys)
{
	uint64_t now = ctl_now_ms();
	unsigned i;
	int rc;

	ctl_group_refresh(sys);
	if (sys->group_version == 0)
		return; /* a node that has no table from the management service yet */
	for (i = 0; i < sys->nr_engines; i++) {
		struct ctl_engine *e = &sys->engines[i];

		if (e->state != CTL_RANK_JOINED || e->kill_sent)
			continue;
		if (e->group_pid == e->pid && e->group_sent == sys->group_version)
			continue;
		if (e->group_pid == e->pid && now < e->group_next_ms)
			continue;
		rc = ctl_group_push(sys, e);
		e->group_pid = e->pid;
		if (rc) {
			e->group_sent = 0;
			e->group_next_ms = now + GROUP_RETRY_MS;
			CAIRN_WARN("rank %u: cannot send the membership table (version %llu): %s; "
			           "retrying",
			           e->rank, (unsigned long long)sys->group_version,
			           cairn_strerror(rc));
			continue;
		}
		e->group_sent = sys->group_version;
	}
}
