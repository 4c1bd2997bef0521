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
	uint64_t w[3 * CTL_MAX_ENGINES];
	unsigned i;

	for (i = 0; i < sys->nr_engines; i++) {
		const struct ctl_engine *e = &sys->engines[i];

		w[3 * i] = e->rank;
		w[3 * i + 1] = (uint64_t)e->state;
		w[3 * i + 2] = e->cfg->port;
	}
	return cairn_hash_bytes(w, sizeof(w[0]) * 3 * sys->nr_engines, 0x6d656d62);
}

int
ctl_group_push(struct ctl_system *sys, struct ctl_engine *e)
{
	Cairn__Mgmt__GroupUpdateReq req = CAIRN__MGMT__GROUP_UPDATE_REQ__INIT;
	Cairn__Mgmt__GroupMember mem[CTL_MAX_ENGINES], *memp[CTL_MAX_ENGINES];
	char uris[CTL_MAX_ENGINES][64];
	struct cairn_drpc_response resp;
	uint8_t buf[4096];
	size_t len;
	unsigned i;
	int rc;

	if (e->drpc == NULL)
		return -CAIRN_ERR_UNREACH;
	for (i = 0; i < sys->nr_engines; i++) {
		const struct ctl_engine *o = &sys->engines[i];

		cairn__mgmt__group_member__init(&mem[i]);
		ctl_engine_uri(o, uris[i], sizeof(uris[i]));
		mem[i].rank = o->rank;
		mem[i].uri = uris[i];
		mem[i].state = (char *)ctl_rank_state_name(o->state);
		memp[i] = &mem[i];
	}
	req.version = sys->group_version;
	req.n_members = sys->nr_engines;
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
	uint64_t sig = group_sig(sys), now = ctl_now_ms();
	unsigned i;
	int rc;

	if (sig != sys->group_sig || sys->group_version == 0) {
		sys->group_sig = sig;
		sys->group_version++;
		CAIRN_INFO("membership version %llu", (unsigned long long)sys->group_version);
	}
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
