/*
 * Several cairn-server processes forming one system. The first server is the management
 * service (MS): it owns the membership. A server configured with `access_points:` is a
 * node: every REPORT_MS it reports its engines (engine UUID from the superblock, URI,
 * targets, state) to the MS with the JSON-RPC method `system_report`; the MS assigns each
 * new engine the next free rank (kept in <engine 0 storage>/ms_ranks, so a rank survives
 * restarts of either server), records the states, and answers with the system UUID, the
 * ranks and the whole membership table (version + members). The node starts its engines
 * only once it knows their ranks, and pushes the MS's table to them (ctl_group.c); the MS
 * pushes the same table, with the other servers' ranks, to its own engines. A node that
 * stops reporting for EXPIRE_MS has its ranks marked stopped.
 * Everything runs on the server's main thread; a node's report blocks it at most
 * REPORT_TIMEOUT_MS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_MGMT
#include "common/log.h"
#include "jsonrpc/jsonrpc.h"
#include "jsonrpc/jsonrpc_client.h"

#include "control_internal.h"

#define REPORT_MS 500
#define REPORT_RETRY_MS 1000
#define REPORT_TIMEOUT_MS 2000
#define EXPIRE_MS 3000
#define MS_RANKS_FILE "ms_ranks"

static struct ctl_system *g_ms;

static bool
state_ok(const char *s)
{
	static const char *const names[] = {"stopped", "starting", "joined", "stopping",
	                                    "excluded"};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

static bool
uri_ok(const char *s)
{
	unsigned long port;
	char *end;

	if (s[0] == '\0')
		return true;
	if (strncmp(s, "tcp://127.0.0.1:", 16) != 0 || strlen(s) >= 64)
		return false;
	errno = 0;
	port = strtoul(s + 16, &end, 10);
	return errno == 0 && *end == '\0' && port > 0 && port < 65536;
}

/* ------------------------------------------------------------------ MS: rank table */

static void
ms_ranks_path(const struct ctl_system *sys, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", sys->cfg->engines[0].storage.dir, MS_RANKS_FILE);
}

/* Write "ENGINE_UUID RANK" lines: tmp file, fsync, rename. */
static int
ms_ranks_save(const struct ctl_system *sys)
{
	char path[4200], tmp[4300], us[CAIRN_UUID_STR_LEN];
	FILE *f;
	unsigned i;
	int rc = 0;

	ms_ranks_path(sys, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return -errno;
	for (i = 0; i < sys->nr_remote; i++) {
		cairn_uuid_unparse(&sys->remote[i].engine_uuid, us);
		fprintf(f, "%s %u\n", us, sys->remote[i].rank);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

static void
ms_ranks_load(struct ctl_system *sys)
{
	char path[4200], line[128], us[64];
	struct ctl_member *m;
	unsigned rank;
	FILE *f;

	ms_ranks_path(sys, path, sizeof(path));
	f = fopen(path, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) && sys->nr_remote < CTL_MAX_REMOTE) {
		m = &sys->remote[sys->nr_remote];
		memset(m, 0, sizeof(*m));
		if (sscanf(line, "%63s %u", us, &rank) != 2 ||
		    cairn_uuid_parse(us, &m->engine_uuid) != 0 || rank < sys->nr_engines ||
		    rank >= (1u << 20)) {
			CAIRN_ERROR("%s: bad line '%.60s': ignored", path, line);
			continue;
		}
		m->rank = rank;
		snprintf(m->state, sizeof(m->state), "stopped");
		sys->nr_remote++;
	}
	fclose(f);
	if (sys->nr_remote)
		CAIRN_NOTE("management service: %u rank(s) of other servers known", sys->nr_remote);
}

static struct ctl_member *
ms_member_for(struct ctl_system *sys, const struct cairn_uuid *engine_uuid, bool *added)
{
	uint32_t next = sys->nr_engines;
	unsigned i;

	*added = false;
	for (i = 0; i < sys->nr_remote; i++) {
		if (cairn_uuid_equal(&sys->remote[i].engine_uuid, engine_uuid))
			return &sys->remote[i];
		if (sys->remote[i].rank >= next)
			next = sys->remote[i].rank + 1;
	}
	for (i = 0; i < sys->nr_engines; i++)
		if (sys->engines[i].rank >= next)
			next = sys->engines[i].rank + 1;
	if (sys->nr_remote == CTL_MAX_REMOTE)
		return NULL;
	memset(&sys->remote[sys->nr_remote], 0, sizeof(sys->remote[0]));
	sys->remote[sys->nr_remote].engine_uuid = *engine_uuid;
	sys->remote[sys->nr_remote].rank = next;
	snprintf(sys->remote[sys->nr_remote].state, sizeof(sys->remote[0].state), "stopped");
	*added = true;
	return &sys->remote[sys->nr_remote++];
}

/* The whole membership table as JSON members (local engines, then other servers'). */
static json_t *
ms_members_json(struct ctl_system *sys)
{
	json_t *arr = json_array();
	char uri[64];
	unsigned i;

	for (i = 0; arr && i < sys->nr_engines; i++) {
		ctl_engine_uri(&sys->engines[i], uri, sizeof(uri));
		json_array_append_new(
		        arr, json_pack("{s:i, s:s, s:s}", "rank", (json_int_t)sys->engines[i].rank,
		                       "uri", uri, "state",
		                       ctl_rank_state_name(sys->engines[i].state)));
	}
	for (i = 0; arr && i < sys->nr_remote; i++)
		json_array_append_new(arr, json_pack("{s:i, s:s, s:s}", "rank",
		                                     (json_int_t)sys->remote[i].rank, "uri",
		                                     sys->remote[i].uri, "state",
		                                     sys->remote[i].state));
	return arr;
}

/*
 * system_report {system, engines: [{uuid, uri, targets, state, pid?}]}
 *   -> {uuid, ranks: [...], version, members: [{rank, uri, state}]}
 */
static void
api_system_report(struct cairn_jsonrpc_request *req, const json_t *params)
{
	struct ctl_system *sys = g_ms;
	struct cairn_uuid eu[CTL_MAX_ENGINES];
	struct ctl_member *m[CTL_MAX_ENGINES];
	const char *name, *us, *uri, *state;
	json_t *engines, *e, *ranks, *res;
	char sus[CAIRN_UUID_STR_LEN];
	json_int_t targets, pid;
	bool added, save = false;
	size_t i, n;

	if (sys == NULL || sys->is_node) {
		cairn_jsonrpc_send_error(req, -CAIRN_ERR_NOSYS,
		                         "system_report: this server is not the management "
		                         "service of its system");
		return;
	}
	if (!json_is_object(params) ||
	    json_unpack((json_t *)params, "{s:s, s:o}", "system", &name, "engines", &engines) ||
	    !json_is_array(engines) || json_array_size(engines) == 0 ||
	    json_array_size(engines) > CTL_MAX_ENGINES) {
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
		                         "system_report: expected {system, engines: [1..%d "
		                         "{uuid, uri, targets, state}]}",
		                         CTL_MAX_ENGINES);
		return;
	}
	if (strcmp(name, sys->cfg->name) != 0) {
		cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
		                         "system_report: this is system '%s', not '%s': give the "
		                         "joining server the same name",
		                         sys->cfg->name, name);
		return;
	}
	if (!sys->formatted) {
		cairn_jsonrpc_send_error(req, -CAIRN_ERR_AGAIN,
		                         "system_report: the management service's storage is not "
		                         "formatted yet");
		return;
	}
	n = json_array_size(engines);
	/* check everything before changing anything */
	json_array_foreach(engines, i, e) {
		pid = 0;
		if (!json_is_object(e) ||
		    json_unpack(e, "{s:s, s:s, s:I, s:s, s?:I}", "uuid", &us, "uri", &uri,
		                "targets", &targets, "state", &state, "pid", &pid) ||
		    cairn_uuid_parse(us, &eu[i]) != 0 || !uri_ok(uri) || targets < 1 ||
		    targets > CTL_MAX_TARGETS || !state_ok(state) || pid < 0 || pid > INT32_MAX) {
			cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
			                         "system_report: engines[%zu]: needs uuid, uri "
			                         "(tcp://127.0.0.1:PORT or \"\"), targets 1..%d, "
			                         "state",
			                         i, CTL_MAX_TARGETS);
			return;
		}
		for (size_t j = 0; j < i; j++) {
			if (cairn_uuid_equal(&eu[i], &eu[j])) {
				cairn_jsonrpc_send_error(req, CAIRN_JSONRPC_ERROR_INVALID_PARAMS,
				                         "system_report: engines[%zu]: uuid twice",
				                         i);
				return;
			}
		}
	}
	json_array_foreach(engines, i, e) {
		json_unpack(e, "{s:s, s:s, s:I, s:s}", "uuid", &us, "uri", &uri, "targets",
		            &targets, "state", &state);
		m[i] = ms_member_for(sys, &eu[i], &added);
		if (m[i] == NULL) {
			cairn_jsonrpc_send_error(req, -CAIRN_ERR_OVERFLOW,
			                         "system_report: the system has no room for more "
			                         "ranks (%d at most from other servers)",
			                         CTL_MAX_REMOTE);
			return;
		}
		if (added) {
			save = true;
			CAIRN_NOTE("management service: engine %s gets rank %u", us, m[i]->rank);
		}
		if (strcmp(m[i]->state, state) != 0 || strcmp(m[i]->uri, uri) != 0)
			CAIRN_NOTE("rank %u (other server): %s %s", m[i]->rank, state, uri);
		snprintf(m[i]->uri, sizeof(m[i]->uri), "%s", uri);
		snprintf(m[i]->state, sizeof(m[i]->state), "%s", state);
		m[i]->targets = (uint32_t)targets;
		m[i]->last_ms = ctl_now_ms();
		if (json_unpack(e, "{s:I}", "pid", &pid) == 0)
			m[i]->pid = (pid_t)pid;
	}
	if (save && ms_ranks_save(sys) != 0)
		CAIRN_ERROR("management service: cannot save the rank table in %s",
		            sys->cfg->engines[0].storage.dir);
	ctl_group_refresh(sys);
	ranks = json_array();
	for (i = 0; ranks && i < n; i++)
		json_array_append_new(ranks, json_integer(m[i]->rank));
	cairn_uuid_unparse(&sys->uuid, sus);
	res = json_pack("{s:s, s:o, s:I, s:o}", "uuid", sus, "ranks", ranks ? ranks : json_array(),
	                "version", (json_int_t)sys->group_version, "members",
	                ms_members_json(sys));
	if (res == NULL) {
		cairn_jsonrpc_send_rc(req, -CAIRN_ERR_NOMEM, "system_report");
		return;
	}
	cairn_jsonrpc_send_json(req, res);
}

static const struct cairn_jsonrpc_method g_ms_methods[] = {
        {"system_report", api_system_report, CAIRN_RPC_RUNTIME,
         "(between servers) a server's engines -> their ranks and the membership table"},
};

int
ctl_ms_api_register(struct ctl_system *sys)
{
	g_ms = sys;
	return cairn_jsonrpc_register_methods(g_ms_methods,
	                                      sizeof(g_ms_methods) / sizeof(g_ms_methods[0]));
}

void
ctl_ms_api_unregister(void)
{
	cairn_jsonrpc_unregister_methods(g_ms_methods,
	                                 sizeof(g_ms_methods) / sizeof(g_ms_methods[0]));
	g_ms = NULL;
}

void
ctl_ms_query_json(struct ctl_system *sys, json_t *ranks)
{
	unsigned i;

	if (sys->is_node || ranks == NULL)
		return;
	for (i = 0; i < sys->nr_remote; i++) {
		const struct ctl_member *m = &sys->remote[i];

		json_array_append_new(
		        ranks, json_pack("{s:i, s:s, s:o, s:i, s:s, s:s}", "rank", (json_int_t)m->rank,
		                         "state", m->state, "pid",
		                         m->pid > 0 ? json_integer(m->pid) : json_null(), "targets",
		                         (json_int_t)m->targets, "uri", m->uri, "server",
		                         "other"));
	}
}

/* ------------------------------------------------------------------ node side */

/* Apply the MS's answer: checked fully first. */
static int
node_apply(struct ctl_system *sys, const json_t *res, const unsigned *idx, unsigned n)
{
	static struct ctl_member tab[CTL_MAX_ENGINES + CTL_MAX_REMOTE];
	const char *us, *uri, *state;
	json_t *ranks, *members, *v;
	json_int_t version, rank;
	struct cairn_uuid su;
	size_t i, nm;

	if (json_unpack((json_t *)res, "{s:s, s:o, s:I, s:o}", "uuid", &us, "ranks", &ranks,
	                "version", &version, "members", &members) ||
	    cairn_uuid_parse(us, &su) != 0 || !json_is_array(ranks) ||
	    json_array_size(ranks) != n || version <= 0 || !json_is_array(members) ||
	    json_array_size(members) > CTL_MAX_ENGINES + CTL_MAX_REMOTE)
		return -CAIRN_ERR_PROTO;
	json_array_foreach(ranks, i, v)
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) >= (1 << 20))
			return -CAIRN_ERR_PROTO;
	nm = json_array_size(members);
	json_array_foreach(members, i, v) {
		if (json_unpack(v, "{s:I, s:s, s:s}", "rank", &rank, "uri", &uri, "state",
		                &state) ||
		    rank < 0 || rank >= (1 << 20) || !uri_ok(uri) || !state_ok(state))
			return -CAIRN_ERR_PROTO;
		memset(&tab[i], 0, sizeof(tab[i]));
		tab[i].rank = (uint32_t)rank;
		snprintf(tab[i].uri, sizeof(tab[i].uri), "%s", uri);
		snprintf(tab[i].state, sizeof(tab[i].state), "%s", state);
	}
	for (i = 0; i < n; i++) {
		struct ctl_engine *e = &sys->engines[idx[i]];
		uint32_t r = (uint32_t)json_integer_value(json_array_get(ranks, i));

		if (e->rank != r && e->pid > 0) {
			/* a running engine keeps its rank; the MS moved it (its table was
			 * lost): restart the engine under the new rank */
			CAIRN_WARN("rank %u: the management service now says rank %u; "
			           "restarting the engine",
			           e->rank, r);
			ctl_system_stop(sys, 1u << idx[i], false);
			e->want_running = true;
		}
		if (e->rank != r)
			CAIRN_NOTE("engine %u: rank %u assigned by the management service", idx[i],
			           r);
		e->rank = r;
	}
	sys->uuid = su;
	memcpy(sys->remote, tab, nm * sizeof(tab[0]));
	sys->nr_remote = (unsigned)nm;
	sys->ms_version = (uint64_t)version;
	if (!sys->ranks_ready)
		CAIRN_NOTE("joined system %s through %s: %u engine(s) have their ranks",
		           sys->cfg->name, sys->cfg->access_points[0], n);
	sys->ranks_ready = true;
	return 0;
}

static void
node_report(struct ctl_system *sys)
{
	struct cairn_jsonrpc_client *cl = NULL;
	struct ctl_superblock sb;
	json_t *params, *engines, *resp = NULL, *err;
	char us[CAIRN_UUID_STR_LEN], uri[64];
	unsigned idx[CTL_MAX_ENGINES], n = 0, i, ap;
	int rc = -CAIRN_ERR_UNREACH;

	engines = json_array();
	for (i = 0; engines && i < sys->nr_engines; i++) {
		struct ctl_engine *e = &sys->engines[i];

		if (!e->formatted || ctl_sb_read(e->cfg->storage.dir, &sb) != 0)
			continue;
		cairn_uuid_unparse(&sb.engine_uuid, us);
		ctl_engine_uri(e, uri, sizeof(uri));
		json_array_append_new(
		        engines, json_pack("{s:s, s:s, s:i, s:s, s:i}", "uuid", us, "uri", uri,
		                           "targets", (json_int_t)e->cfg->targets, "state",
		                           ctl_rank_state_name(e->state), "pid",
		                           (json_int_t)(e->pid > 0 ? e->pid : 0)));
		idx[n++] = i;
	}
	if (engines == NULL || n == 0) {
		json_decref(engines);
		return; /* nothing formatted yet */
	}
	params = json_pack("{s:s, s:o}", "system", sys->cfg->name, "engines", engines);
	for (ap = 0; params && ap < sys->cfg->nr_access_points && rc; ap++) {
		rc = cairn_jsonrpc_client_connect(sys->cfg->access_points[ap], 0, &cl);
		if (rc)
			continue;
		rc = cairn_jsonrpc_client_call(cl, "system_report", params, REPORT_TIMEOUT_MS,
		                               &resp);
		cairn_jsonrpc_client_close(cl);
		if (rc)
			continue;
		err = json_object_get(resp, "error");
		if (err) {
			CAIRN_ERROR("management service at %s refused this server: %s",
			            sys->cfg->access_points[ap],
			            json_string_value(json_object_get(err, "message")) ?: "?");
			rc = -CAIRN_ERR_PERM;
		} else {
			rc = node_apply(sys, json_object_get(resp, "result"), idx, n);
			if (rc)
				CAIRN_ERROR("management service at %s: malformed answer",
				            sys->cfg->access_points[ap]);
		}
		json_decref(resp);
		resp = NULL;
	}
	json_decref(params);
	if (rc) {
		if (!sys->ms_unreachable)
			CAIRN_WARN("cannot report to the management service (%s%s): %s; "
			           "retrying",
			           sys->cfg->access_points[0],
			           sys->cfg->nr_access_points > 1 ? ", ..." : "", cairn_strerror(rc));
		sys->ms_unreachable = true;
		sys->next_report_ms = ctl_now_ms() + REPORT_RETRY_MS;
		return;
	}
	if (sys->ms_unreachable)
		CAIRN_NOTE("management service reachable again");
	sys->ms_unreachable = false;
	sys->next_report_ms = ctl_now_ms() + REPORT_MS;
}

void
ctl_ms_tick(struct ctl_system *sys)
{
	uint64_t now = ctl_now_ms();
	unsigned i;

	if (sys->is_node) {
		if (now >= sys->next_report_ms)
			node_report(sys);
		return;
	}
	for (i = 0; i < sys->nr_remote; i++) {
		struct ctl_member *m = &sys->remote[i];

		if (strcmp(m->state, "stopped") == 0 || strcmp(m->state, "excluded") == 0 ||
		    now - m->last_ms < EXPIRE_MS)
			continue;
		CAIRN_WARN("rank %u: its server stopped reporting; rank stopped", m->rank);
		snprintf(m->state, sizeof(m->state), "stopped");
		m->pid = 0;
	}
}

int
ctl_ms_init(struct ctl_system *sys)
{
	sys->is_node = sys->cfg->nr_access_points > 0;
	sys->ranks_ready = !sys->is_node;
	sys->remote = calloc(CTL_MAX_ENGINES + CTL_MAX_REMOTE, sizeof(*sys->remote));
	if (sys->remote == NULL)
		return -CAIRN_ERR_NOMEM;
	if (!sys->is_node)
		ms_ranks_load(sys);
	return 0;
}

void
ctl_ms_fini(struct ctl_system *sys)
{
	free(sys->remote);
	sys->remote = NULL;
	sys->nr_remote = 0;
}
