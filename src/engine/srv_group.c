/*
 * Membership as pushed by the control plane (srv_group.h): a versioned rank -> URI table.
 * Owned by the system xstream. Joined ranks go into the network group so the pool service
 * can reach other engines; the pool service hears of every change (targets of ranks that
 * left go DOWN in its pool maps, and come back UP when the rank rejoins).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_MGMT
#include "common/log.h"
#include "net/net.h"

#include "engine_internal.h"
#include "mgmt.pb-c.h"
#include "srv_group.h"
#include "srv_pool.h"

#define GROUP_MAX_RANK (1u << 20)

static struct srv_group_member g_members[SRV_GROUP_MAX]; /* sorted by rank */
static unsigned g_nr;
static uint64_t g_version;

static const char *const g_state_names[] = {
        [SRV_RANK_UNKNOWN] = "unknown",   [SRV_RANK_JOINED] = "joined",
        [SRV_RANK_STARTING] = "starting", [SRV_RANK_STOPPED] = "stopped",
        [SRV_RANK_STOPPING] = "stopping", [SRV_RANK_EXCLUDED] = "excluded",
};

enum srv_rank_state
srv_rank_state_parse(const char *s)
{
	unsigned i;

	for (i = SRV_RANK_JOINED; s && i < sizeof(g_state_names) / sizeof(g_state_names[0]); i++)
		if (strcmp(s, g_state_names[i]) == 0)
			return (enum srv_rank_state)i;
	return SRV_RANK_UNKNOWN;
}

const char *
srv_rank_state_name(enum srv_rank_state st)
{
	return (unsigned)st < sizeof(g_state_names) / sizeof(g_state_names[0]) ? g_state_names[st]
	                                                                     : "unknown";
}

static int
member_cmp(const void *a, const void *b)
{
	const struct srv_group_member *x = a, *y = b;

	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

int
srv_group_update(uint64_t version, const struct srv_group_member *m, unsigned n, char *err,
                 size_t errlen)
{
	static struct srv_group_member tmp[SRV_GROUP_MAX];
	struct cairn_net_group *grp = engine_net_group();
	char host[128];
	uint16_t port;
	unsigned i;
	int rc;

	if (version == 0) {
		snprintf(err, errlen, "group version must be > 0");
		return -CAIRN_ERR_INVAL;
	}
	if (n > SRV_GROUP_MAX) {
		snprintf(err, errlen, "%u ranks: at most %d in a system", n, SRV_GROUP_MAX);
		return -CAIRN_ERR_INVAL;
	}
	if (version <= g_version) {
		CAIRN_INFO("group version %llu ignored (have %llu)", (unsigned long long)version,
		           (unsigned long long)g_version);
		return 0;
	}
	memcpy(tmp, m, n * sizeof(*m));
	qsort(tmp, n, sizeof(tmp[0]), member_cmp);
	for (i = 0; i < n; i++) {
		if (tmp[i].rank >= GROUP_MAX_RANK) {
			snprintf(err, errlen, "rank %u: ranks must be < %u", tmp[i].rank,
			         GROUP_MAX_RANK);
			return -CAIRN_ERR_INVAL;
		}
		if (i > 0 && tmp[i].rank == tmp[i - 1].rank) {
			snprintf(err, errlen, "rank %u listed twice", tmp[i].rank);
			return -CAIRN_ERR_INVAL;
		}
		if (tmp[i].state == SRV_RANK_UNKNOWN) {
			snprintf(err, errlen, "rank %u: unknown state", tmp[i].rank);
			return -CAIRN_ERR_INVAL;
		}
		if (memchr(tmp[i].uri, '\0', sizeof(tmp[i].uri)) == NULL ||
		    (tmp[i].uri[0] != '\0' &&
		     cairn_net_uri_parse(tmp[i].uri, host, sizeof(host), &port) != 0)) {
			snprintf(err, errlen, "rank %u: URI is not tcp://HOST:PORT", tmp[i].rank);
			return -CAIRN_ERR_INVAL;
		}
	}
	/* A rank that keeps its URI is not touched in the network group (connections
	 * stay); a new or moved one is set, so the next RPC connects to where it is now. */
	for (i = 0; grp && i < n; i++) {
		if (tmp[i].state != SRV_RANK_JOINED || tmp[i].uri[0] == '\0')
			continue;
		rc = cairn_net_group_rank_set(grp, tmp[i].rank, tmp[i].uri);
		if (rc)
			CAIRN_ERROR("rank %u: cannot add %s to the network group: %s", tmp[i].rank,
			            tmp[i].uri, cairn_strerror(rc));
	}
	memcpy(g_members, tmp, n * sizeof(tmp[0]));
	g_nr = n;
	g_version = version;
	CAIRN_NOTE("membership version %llu: %u rank(s)", (unsigned long long)version, n);
	srv_pool_group_changed();
	return 0;
}

int
srv_group_update_body(const uint8_t *body, size_t len, char *err, size_t errlen)
{
	static struct srv_group_member m[SRV_GROUP_MAX];
	Cairn__Mgmt__GroupUpdateReq *req;
	size_t i;
	int rc;

	req = cairn__mgmt__group_update_req__unpack(NULL, len, body);
	if (req == NULL || req->base.n_unknown_fields) {
		snprintf(err, errlen, "malformed GroupUpdateReq body");
		rc = -CAIRN_ERR_PROTO;
		goto out;
	}
	if (req->n_members > SRV_GROUP_MAX) {
		snprintf(err, errlen, "%zu ranks, at most %d", req->n_members, SRV_GROUP_MAX);
		rc = -CAIRN_ERR_INVAL;
		goto out;
	}
	for (i = 0; i < req->n_members; i++) {
		const Cairn__Mgmt__GroupMember *gm = req->members[i];

		if (gm == NULL || strlen(gm->uri) >= SRV_GROUP_URI_MAX ||
		    srv_rank_state_parse(gm->state) == SRV_RANK_UNKNOWN) {
			snprintf(err, errlen,
			         "member %zu: URI longer than %d bytes or state not one of "
			         "joined/starting/stopped/stopping/excluded",
			         i, SRV_GROUP_URI_MAX - 1);
			rc = -CAIRN_ERR_INVAL;
			goto out;
		}
		m[i].rank = gm->rank;
		m[i].state = srv_rank_state_parse(gm->state);
		snprintf(m[i].uri, sizeof(m[i].uri), "%s", gm->uri);
	}
	rc = srv_group_update(req->version, m, (unsigned)req->n_members, err, errlen);
out:
	if (req)
		cairn__mgmt__group_update_req__free_unpacked(req, NULL);
	return rc;
}

uint64_t
srv_group_version(void)
{
	return g_version;
}

static const struct srv_group_member *
member_find(uint32_t rank)
{
	unsigned i;

	for (i = 0; i < g_nr; i++)
		if (g_members[i].rank == rank)
			return &g_members[i];
	return NULL;
}

int
srv_group_rank_uri(uint32_t rank, char *buf, size_t len)
{
	const struct srv_group_member *m = member_find(rank);

	if (m == NULL) {
		if (g_version == 0 && engine_info()->rank >= 0 &&
		    (uint32_t)engine_info()->rank == rank) {
			snprintf(buf, len, "%s", engine_info()->uri);
			return 0;
		}
		return -CAIRN_ERR_NONEXIST;
	}
	snprintf(buf, len, "%s", m->uri);
	return 0;
}

bool
srv_group_rank_joined(uint32_t rank)
{
	const struct srv_group_member *m;

	if (g_version == 0)
		return engine_info()->rank >= 0 && (uint32_t)engine_info()->rank == rank;
	m = member_find(rank);
	return m != NULL && m->state == SRV_RANK_JOINED;
}

unsigned
srv_group_joined(uint32_t *ranks, unsigned max)
{
	unsigned i, n = 0;

	if (g_version == 0) {
		if (engine_info()->rank < 0)
			return 0;
		if (max > 0)
			ranks[0] = (uint32_t)engine_info()->rank;
		return 1;
	}
	for (i = 0; i < g_nr; i++) {
		if (g_members[i].state != SRV_RANK_JOINED)
			continue;
		if (n < max)
			ranks[n] = g_members[i].rank;
		n++;
	}
	return n;
}

void
srv_group_reset(void)
{
	g_nr = 0;
	g_version = 0;
}
