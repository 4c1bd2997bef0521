/*
 * Engine supervision: launch cairn-engine processes (fork/exec), join them over dRPC
 * (ping, SET_RANK), restart a crashed engine after a capped exponential backoff, exclude
 * a rank that keeps crashing, and stop engines cleanly (PREP_SHUTDOWN + SHUTDOWN, then
 * SIGKILL after stop_timeout). Everything runs on the server's main thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_MGMT
#include "common/log.h"
#include "drpc/drpc.h"
#include "drpc/setup.h"
#include "mgmt.pb-c.h"

#include "control_internal.h"

#define JOIN_TIMEOUT_MS 15000 /* from fork to joined */
#define DRPC_TIMEOUT_MS 2000
#define SETUP_TIMEOUT_MS 10000 /* SETUP returns once the engine's targets run */
#define STABLE_MS 30000 /* up this long: the crash streak is over */
#define PING_PERIOD_MS 2000

uint64_t
ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *
ctl_rank_state_name(enum ctl_rank_state st)
{
	switch (st) {
	case CTL_RANK_STOPPED:
		return "stopped";
	case CTL_RANK_STARTING:
		return "starting";
	case CTL_RANK_JOINED:
		return "joined";
	case CTL_RANK_STOPPING:
		return "stopping";
	case CTL_RANK_EXCLUDED:
		return "excluded";
	}
	return "unknown";
}

static uint64_t
backoff_min_ms(const struct ctl_system *sys)
{
	return sys->cfg->restart_backoff_min / 1000000;
}

void
ctl_system_refresh_storage(struct ctl_system *sys)
{
	struct ctl_superblock sb;
	unsigned i;

	sys->formatted = true;
	for (i = 0; i < sys->nr_engines; i++) {
		struct ctl_engine *e = &sys->engines[i];
		int rc = ctl_sb_read(e->cfg->storage.dir, &sb);

		e->formatted = rc == 0 && sb.nr_targets >= e->cfg->targets;
		if (rc == 0) {
			e->rank = sb.rank;
			sys->uuid = sb.system_uuid;
		} else {
			sys->formatted = false;
		}
		if (rc == 0 && sb.nr_targets < e->cfg->targets)
			CAIRN_ERROR("rank %u: storage %s has %u targets, config asks for %u; "
			            "reformat (cairnctl storage format --force)",
			            sb.rank, e->cfg->storage.dir, sb.nr_targets, e->cfg->targets);
	}
}

int
ctl_system_init(struct ctl_system *sys, struct ctl_config *cfg)
{
	char self[4096], err[512];
	ssize_t n;
	unsigned i;
	int rc;

	memset(sys, 0, sizeof(*sys));
	sys->cfg = cfg;
	for (i = 0; i < CTL_MAX_ENGINES; i++)
		sys->lock_fds[i] = -1;
	sys->nr_engines = cfg->nr_engines;
	if (cfg->engine_bin) {
		snprintf(sys->engine_bin, sizeof(sys->engine_bin), "%s", cfg->engine_bin);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0)
			return -errno;
		self[n] = '\0';
		snprintf(sys->engine_bin, sizeof(sys->engine_bin), "%s/cairn-engine",
		         dirname(self));
	}
	if (access(sys->engine_bin, X_OK) < 0) {
		CAIRN_ERROR("engine binary %s: %s (set engine_bin in the config)", sys->engine_bin,
		            strerror(errno));
		return -CAIRN_ERR_NONEXIST;
	}
	rc = ctl_storage_lock(cfg, sys->lock_fds, err, sizeof(err));
	if (rc) {
		CAIRN_ERROR("%s", err);
		return rc;
	}
	for (i = 0; i < sys->nr_engines; i++) {
		struct ctl_engine *e = &sys->engines[i];

		e->idx = i;
		e->rank = i;
		e->cfg = &cfg->engines[i];
		snprintf(e->drpc_path, sizeof(e->drpc_path), "%s", e->cfg->drpc_socket);
		e->state = CTL_RANK_STOPPED;
		e->want_running = true;
		e->backoff_ms = backoff_min_ms(sys);
	}
	ctl_system_refresh_storage(sys);
	rc = ctl_ms_init(sys);
	if (rc)
		ctl_storage_unlock(cfg, sys->lock_fds);
	return rc;
}

static void
engine_drpc_close(struct ctl_engine *e)
{
	cairn_drpc_client_close(e->drpc);
	e->drpc = NULL;
}

/* One dRPC call; resp released by the caller on 0. status folded into rc. */
static int
engine_call(struct ctl_engine *e, uint32_t method, const void *body, size_t len,
            struct cairn_drpc_response *resp)
{
	int rc;

	if (e->drpc == NULL)
		return -CAIRN_ERR_UNREACH;
	rc = cairn_drpc_client_call(e->drpc, CAIRN_DRPC_MODULE_MGMT, method, body, len,
	                            DRPC_TIMEOUT_MS, resp);
	if (rc)
		return rc;
	if (resp->status) {
		CAIRN_WARN("rank %u: dRPC method %u failed: %s: %.*s", e->rank, method,
		           cairn_strerror(resp->status), (int)resp->body_len,
		           (const char *)resp->body);
		rc = resp->status;
		cairn_drpc_response_release(resp);
	}
	return rc;
}

static int
engine_simple_call(struct ctl_engine *e, uint32_t method)
{
	struct cairn_drpc_response resp;
	int rc = engine_call(e, method, NULL, 0, &resp);

	if (rc == 0)
		cairn_drpc_response_release(&resp);
	return rc;
}

static int
engine_launch(struct ctl_system *sys, struct ctl_engine *e)
{
	const char *argv[12];
	sigset_t all;
	unsigned a = 0;
	pid_t pid;
	int fd;

	/* Only what the engine needs to open its dRPC socket and log its start-up; the
	 * rest of its configuration goes over dRPC in a SETUP (engine_send_setup). */
	argv[a++] = "cairn-engine";
	argv[a++] = "-d";
	argv[a++] = e->drpc_path;
	if (e->cfg->log_mask) {
		argv[a++] = "--log-mask";
		argv[a++] = e->cfg->log_mask;
	}
	if (e->cfg->log_file) {
		argv[a++] = "--log-file";
		argv[a++] = e->cfg->log_file;
	}
	argv[a] = NULL;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Child: the server blocks signals for its signalfd; the engine must not
		 * inherit that. Die with the server rather than linger as an orphan. */
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO); /* the "ready" line; logs go to stderr/file */
			if (fd > STDERR_FILENO)
				close(fd);
		}
		execv(sys->engine_bin, (char *const *)argv);
		fprintf(stderr, "cairn-server: cannot exec %s: %s\n", sys->engine_bin,
		        strerror(errno));
		_exit(127);
	}
	e->pid = pid;
	e->kill_sent = false;
	e->setup_done = false;
	e->state = CTL_RANK_STARTING;
	e->started_ms = ctl_now_ms();
	e->start_deadline_ms = e->started_ms + JOIN_TIMEOUT_MS;
	CAIRN_NOTE("rank %u: started engine pid %d (%u targets, dRPC %s)", e->rank, (int)pid,
	           e->cfg->targets, e->drpc_path);
	return 0;
}

/* The engine's whole configuration, as the SETUP body. */
static int
engine_setup_fill(struct ctl_system *sys, struct ctl_engine *e, struct cairn_drpc_setup *s)
{
	char dir[PATH_MAX];
	size_t n;

	memset(s, 0, sizeof(*s));
	s->targets = e->cfg->targets;
	s->helpers = e->cfg->helpers;
	/* The engine wants an absolute path; the server's cwd is not its business. */
	if (realpath(e->cfg->storage.dir, dir) == NULL)
		snprintf(dir, sizeof(dir), "%s", e->cfg->storage.dir);
	n = strlen(dir);
	if (n >= sizeof(s->storage_dir)) {
		CAIRN_ERROR("rank %u: storage dir %.64s... is %zu bytes, longer than %zu; use a "
		            "shorter path",
		            e->rank, dir, n, sizeof(s->storage_dir) - 1);
		return -CAIRN_ERR_INVAL;
	}
	memcpy(s->storage_dir, dir, n + 1);
	s->port = e->cfg->port;
	s->rank = e->rank;
	snprintf(s->system, sizeof(s->system), "%s", sys->cfg->name);
	memcpy(s->system_uuid, sys->uuid.b, sizeof(s->system_uuid));
	if (e->cfg->log_mask) {
		n = strlen(e->cfg->log_mask);
		if (n >= sizeof(s->log_mask)) {
			CAIRN_ERROR("rank %u: log_mask is %zu bytes, longer than %zu", e->rank, n,
			            sizeof(s->log_mask) - 1);
			return -CAIRN_ERR_INVAL;
		}
		memcpy(s->log_mask, e->cfg->log_mask, n + 1);
	}
	return 0;
}

/* Send SETUP; the engine answers once its targets, network and modules run (or with a
 * message saying which value it refuses). -CAIRN_ERR_TIMEDOUT: ask again later (an
 * engine already set up answers a repeated identical SETUP with 0). */
static int
engine_send_setup(struct ctl_system *sys, struct ctl_engine *e)
{
	struct cairn_drpc_response resp;
	struct cairn_drpc_setup s;
	uint8_t *body;
	size_t len;
	int rc;

	rc = engine_setup_fill(sys, e, &s);
	if (rc == 0)
		rc = cairn_drpc_setup_encode(&s, &body, &len);
	if (rc)
		return rc;
	rc = cairn_drpc_client_call(e->drpc, CAIRN_DRPC_MODULE_MGMT, CAIRN_DRPC_MGMT_SETUP, body,
	                            len, SETUP_TIMEOUT_MS, &resp);
	free(body);
	if (rc)
		return rc;
	rc = resp.status;
	if (rc)
		CAIRN_ERROR("rank %u: the engine refused its configuration: %.*s", e->rank,
		            (int)resp.body_len, (const char *)resp.body);
	else
		e->setup_done = true;
	cairn_drpc_response_release(&resp);
	return rc;
}

/* STARTING: connect, SETUP, ping, set rank. 0 when joined, -CAIRN_ERR_AGAIN to retry. */
static int
engine_try_join(struct ctl_system *sys, struct ctl_engine *e)
{
	Cairn__Mgmt__SetRankReq req = CAIRN__MGMT__SET_RANK_REQ__INIT;
	struct cairn_drpc_response resp;
	uint8_t buf[256];
	size_t len;
	int rc;

	if (e->drpc == NULL) {
		rc = cairn_drpc_client_connect(e->drpc_path, 0, &e->drpc);
		if (rc)
			return -CAIRN_ERR_AGAIN; /* not listening yet */
	}
	if (!e->setup_done) {
		rc = engine_send_setup(sys, e);
		if (rc)
			return rc;
	}
	rc = engine_simple_call(e, CAIRN_DRPC_MGMT_PING);
	if (rc)
		return rc;
	req.rank = e->rank;
	req.system = sys->cfg->name;
	req.system_uuid.data = sys->uuid.b;
	req.system_uuid.len = 16;
	len = cairn__mgmt__set_rank_req__get_packed_size(&req);
	if (len > sizeof(buf))
		return -CAIRN_ERR_OVERFLOW;
	len = cairn__mgmt__set_rank_req__pack(&req, buf);
	rc = engine_call(e, CAIRN_DRPC_MGMT_SET_RANK, buf, len, &resp);
	if (rc)
		return rc;
	cairn_drpc_response_release(&resp);
	return 0;
}

static void
engine_exited(struct ctl_system *sys, struct ctl_engine *e, int status)
{
	uint64_t now = ctl_now_ms(), max = sys->cfg->restart_backoff_max / 1000000;
	bool clean = e->state == CTL_RANK_STOPPING || !e->want_running;

	if (WIFSIGNALED(status))
		snprintf(e->last_exit, sizeof(e->last_exit), "signal %d", WTERMSIG(status));
	else
		snprintf(e->last_exit, sizeof(e->last_exit), "exit %d", WEXITSTATUS(status));
	engine_drpc_close(e);
	e->pid = 0;
	if (clean) {
		e->state = CTL_RANK_STOPPED;
		CAIRN_NOTE("rank %u: engine stopped (%s)", e->rank, e->last_exit);
		return;
	}
	e->crashes_in_row++;
	if (e->crashes_in_row > sys->cfg->max_restarts) {
		e->state = CTL_RANK_EXCLUDED;
		e->want_running = false;
		CAIRN_ERROR("rank %u: engine died (%s) %u times in a row; rank excluded. Check "
		            "its log, then `cairnctl system start --ranks %u`",
		            e->rank, e->last_exit, e->crashes_in_row, e->rank);
		return;
	}
	e->state = CTL_RANK_STOPPED;
	e->restarts++;
	e->next_start_ms = now + e->backoff_ms;
	CAIRN_ERROR("rank %u: engine died (%s); restarting in %llu ms", e->rank, e->last_exit,
	            (unsigned long long)e->backoff_ms);
	e->backoff_ms = e->backoff_ms * 2 > max ? max : e->backoff_ms * 2;
}

static void
reap(struct ctl_system *sys)
{
	unsigned i;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < sys->nr_engines; i++) {
			if (sys->engines[i].pid == pid) {
				engine_exited(sys, &sys->engines[i], status);
				break;
			}
		}
	}
}

void
ctl_system_tick(struct ctl_system *sys)
{
	uint64_t now;
	unsigned i;
	int rc;

	reap(sys);
	now = ctl_now_ms();
	for (i = 0; i < sys->nr_engines; i++) {
		struct ctl_engine *e = &sys->engines[i];

		switch (e->state) {
		case CTL_RANK_STOPPED:
			if (!e->want_running || !e->formatted || now < e->next_start_ms ||
			    !sys->ranks_ready)
				break;
			rc = engine_launch(sys, e);
			if (rc) {
				CAIRN_ERROR("rank %u: cannot start the engine: %s", e->rank,
				            cairn_strerror(rc));
				e->next_start_ms = now + e->backoff_ms;
			}
			break;
		case CTL_RANK_STARTING:
			if (e->kill_sent)
				break; /* reaped as a crash: backoff applies */
			rc = engine_try_join(sys, e);
			if (rc == 0) {
				e->state = CTL_RANK_JOINED;
				e->joined_ms = e->last_ping_ms = ctl_now_ms();
				CAIRN_NOTE("rank %u: joined (pid %d, %llu ms after start)", e->rank,
				           (int)e->pid,
				           (unsigned long long)(e->joined_ms - e->started_ms));
			} else if (now > e->start_deadline_ms ||
			           (rc != -CAIRN_ERR_AGAIN && rc != -CAIRN_ERR_TIMEDOUT)) {
				CAIRN_ERROR("rank %u: engine pid %d did not join (%s); killing it",
				            e->rank, (int)e->pid, cairn_strerror(rc));
				kill(e->pid, SIGKILL);
				e->kill_sent = true;
			}
			break;
		case CTL_RANK_JOINED:
			if (now - e->joined_ms >= STABLE_MS && e->crashes_in_row) {
				e->crashes_in_row = 0;
				e->backoff_ms = backoff_min_ms(sys);
			}
			if (!e->kill_sent && now - e->last_ping_ms >= PING_PERIOD_MS) {
				e->last_ping_ms = now;
				rc = engine_simple_call(e, CAIRN_DRPC_MGMT_PING);
				if (rc == -CAIRN_ERR_TIMEDOUT) {
					CAIRN_ERROR("rank %u: engine pid %d does not answer pings; "
					            "killing it",
					            e->rank, (int)e->pid);
					kill(e->pid, SIGKILL);
					e->kill_sent = true;
				}
			}
			break;
		case CTL_RANK_STOPPING:
		case CTL_RANK_EXCLUDED:
			break;
		}
	}
	ctl_ms_tick(sys);
	ctl_group_sync(sys);
}

void
ctl_system_start(struct ctl_system *sys, uint32_t mask)
{
	unsigned i;

	for (i = 0; i < sys->nr_engines; i++) {
		struct ctl_engine *e = &sys->engines[i];

		if (!(mask & (1u << i)))
			continue;
		e->want_running = true;
		if (e->state == CTL_RANK_EXCLUDED)
			e->state = CTL_RANK_STOPPED;
		if (e->state == CTL_RANK_STOPPED) {
			e->crashes_in_row = 0;
			e->backoff_ms = backoff_min_ms(sys);
			e->next_start_ms = 0;
		}
	}
	ctl_system_tick(sys);
}

bool
ctl_system_wait_joined(struct ctl_system *sys, uint32_t mask, unsigned timeout_ms)
{
	uint64_t deadline = ctl_now_ms() + timeout_ms;
	bool done;
	unsigned i;

	for (;;) {
		done = true;
		for (i = 0; i < sys->nr_engines; i++)
			if ((mask & (1u << i)) && sys->engines[i].state != CTL_RANK_JOINED &&
			    sys->engines[i].state != CTL_RANK_EXCLUDED)
				done = false;
		if (done || ctl_now_ms() >= deadline)
			return done;
		usleep(20000);
		ctl_system_tick(sys);
	}
}

/* Wait for one engine process to exit, up to timeout_ms. */
static bool
wait_exit(struct ctl_system *sys, struct ctl_engine *e, uint64_t timeout_ms)
{
	uint64_t deadline = ctl_now_ms() + timeout_ms;
	int status;
	pid_t pid;

	for (;;) {
		pid = waitpid(e->pid, &status, WNOHANG);
		if (pid == e->pid) {
			engine_exited(sys, e, status);
			return true;
		}
		if (pid < 0 && errno == ECHILD) {
			engine_exited(sys, e, 0);
			return true;
		}
		if (ctl_now_ms() >= deadline)
			return false;
		usleep(10000);
	}
}

void
ctl_system_stop(struct ctl_system *sys, uint32_t mask, bool force)
{
	uint64_t timeout = sys->cfg->stop_timeout / 1000000;
	unsigned i;
	int rc;

	for (i = 0; i < sys->nr_engines; i++) {
		struct ctl_engine *e = &sys->engines[i];

		if (!(mask & (1u << i)))
			continue;
		e->want_running = false;
		if (e->pid <= 0) {
			if (e->state != CTL_RANK_EXCLUDED)
				e->state = CTL_RANK_STOPPED;
			continue;
		}
		e->state = CTL_RANK_STOPPING;
		if (force) {
			kill(e->pid, SIGKILL);
			continue;
		}
		rc = engine_simple_call(e, CAIRN_DRPC_MGMT_PREP_SHUTDOWN);
		if (rc == 0)
			rc = engine_simple_call(e, CAIRN_DRPC_MGMT_SHUTDOWN);
		if (rc) {
			CAIRN_WARN("rank %u: dRPC shutdown failed (%s); sending SIGTERM", e->rank,
			           cairn_strerror(rc));
			kill(e->pid, SIGTERM);
		}
	}
	for (i = 0; i < sys->nr_engines; i++) {
		struct ctl_engine *e = &sys->engines[i];

		if (!(mask & (1u << i)) || e->pid <= 0)
			continue;
		if (!wait_exit(sys, e, timeout)) {
			CAIRN_ERROR("rank %u: engine pid %d did not stop within %llu ms; killing "
			            "it",
			            e->rank, (int)e->pid, (unsigned long long)timeout);
			kill(e->pid, SIGKILL);
			wait_exit(sys, e, 5000);
		}
	}
}

bool
ctl_system_any_running(const struct ctl_system *sys)
{
	unsigned i;

	for (i = 0; i < sys->nr_engines; i++)
		if (sys->engines[i].pid > 0)
			return true;
	return false;
}

/* Live details from the engine itself. */
static void
engine_info_json(struct ctl_engine *e, json_t *o)
{
	struct cairn_drpc_response resp;
	Cairn__Mgmt__GetInfoResp *info;
	int rc;

	rc = engine_call(e, CAIRN_DRPC_MGMT_GET_INFO, NULL, 0, &resp);
	if (rc) {
		json_object_set_new(o, "info_error", json_string(cairn_strerror(rc)));
		return;
	}
	info = cairn__mgmt__get_info_resp__unpack(NULL, resp.body_len, resp.body);
	cairn_drpc_response_release(&resp);
	if (info == NULL) {
		json_object_set_new(o, "info_error", json_string("malformed GetInfoResp"));
		return;
	}
	json_object_set_new(o, "engine_rank", json_integer(info->rank));
	json_object_set_new(o, "engine_state", json_string(info->state));
	json_object_set_new(o, "uri", json_string(info->uri));
	json_object_set_new(o, "uptime_s", json_real((double)info->uptime_us / 1e6));
	json_object_set_new(o, "net_contexts", json_integer(info->net_contexts));
	cairn__mgmt__get_info_resp__free_unpacked(info, NULL);
}

json_t *
ctl_system_query_json(struct ctl_system *sys, uint32_t mask)
{
	char uuid[CAIRN_UUID_STR_LEN];
	json_t *res = json_object(), *ranks = json_array();
	unsigned i;

	if (res == NULL || ranks == NULL) {
		json_decref(res);
		json_decref(ranks);
		return NULL;
	}
	cairn_uuid_unparse(&sys->uuid, uuid);
	json_object_set_new(res, "system", json_string(sys->cfg->name));
	json_object_set_new(res, "uuid", sys->formatted ? json_string(uuid) : json_null());
	json_object_set_new(res, "formatted", json_boolean(sys->formatted));
	for (i = 0; i < sys->nr_engines; i++) {
		struct ctl_engine *e = &sys->engines[i];
		json_t *o;

		if (!(mask & (1u << i)))
			continue;
		o = json_object();
		if (o == NULL)
			break;
		json_object_set_new(o, "rank", json_integer(e->rank));
		json_object_set_new(o, "state", json_string(ctl_rank_state_name(e->state)));
		json_object_set_new(o, "pid", e->pid > 0 ? json_integer(e->pid) : json_null());
		json_object_set_new(o, "targets", json_integer(e->cfg->targets));
		json_object_set_new(o, "helpers", json_integer(e->cfg->helpers));
		json_object_set_new(o, "storage", json_string(e->cfg->storage.dir));
		json_object_set_new(o, "formatted", json_boolean(e->formatted));
		json_object_set_new(o, "restarts", json_integer(e->restarts));
		json_object_set_new(o, "last_exit",
		                    e->last_exit[0] ? json_string(e->last_exit) : json_null());
		if (e->state == CTL_RANK_JOINED)
			engine_info_json(e, o);
		json_array_append_new(ranks, o);
	}
	json_object_set_new(res, "ranks", ranks);
	return res;
}

void
ctl_system_fini(struct ctl_system *sys)
{
	unsigned i;

	for (i = 0; i < sys->nr_engines; i++)
		engine_drpc_close(&sys->engines[i]);
	ctl_ms_fini(sys);
	ctl_storage_unlock(sys->cfg, sys->lock_fds);
}
