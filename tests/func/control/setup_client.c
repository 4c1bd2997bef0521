/*
 * setup-client: functional-test client of an engine waiting for its SETUP (started as
 * `cairn-engine -d SOCK`). Sends bad SetUpReqs (each must be refused with a message that
 * names the field, the engine still answering PING afterwards), then a good one, checks
 * the engine runs it (GET_INFO), that a repeated SETUP is acknowledged and a different
 * one refused, and finally shuts the engine down over dRPC.
 *   setup-client SOCK STORAGE_DIR PORT TARGETS     exit 0 when every check passed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#include "common/units.h"
#include "drpc/drpc.h"
#include "drpc/setup.h"
#include "mgmt.pb-c.h"

static struct cairn_drpc_client *g_cl;
static int g_bad;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "setup-client: FAIL: " __VA_ARGS__);                       \
			fprintf(stderr, "\n");                                                     \
			g_bad++;                                                                   \
		}                                                                                  \
	} while (0)

/* One call; status (or transport error) returned, reply text copied into msg. */
static int
call(uint32_t method, const void *body, size_t len, char *msg, size_t msglen,
     struct cairn_drpc_response *keep)
{
	struct cairn_drpc_response r;
	int rc;

	rc = cairn_drpc_client_call(g_cl, CAIRN_DRPC_MODULE_MGMT, method, body, len, 20000, &r);
	if (rc) {
		snprintf(msg, msglen, "(transport: %s)", cairn_strerror(rc));
		return rc;
	}
	snprintf(msg, msglen, "%.*s", (int)r.body_len, (const char *)r.body);
	rc = r.status;
	if (keep)
		*keep = r;
	else
		cairn_drpc_response_release(&r);
	return rc;
}

static void
good_setup(struct cairn_drpc_setup *s, const char *dir, uint32_t port, uint32_t targets)
{
	memset(s, 0, sizeof(*s));
	s->targets = targets;
	s->helpers = 1;
	snprintf(s->storage_dir, sizeof(s->storage_dir), "%s", dir);
	s->port = port;
	s->rank = 0;
	snprintf(s->system, sizeof(s->system), "setuptest");
	memset(s->system_uuid, 0x5a, sizeof(s->system_uuid));
	snprintf(s->log_mask, sizeof(s->log_mask), "NOTE");
}

static int
send_setup(const struct cairn_drpc_setup *s, char *msg, size_t msglen)
{
	uint8_t *body;
	size_t len;
	int rc;

	if (cairn_drpc_setup_encode(s, &body, &len)) {
		snprintf(msg, msglen, "encode failed");
		return -CAIRN_ERR_NOMEM;
	}
	rc = call(CAIRN_DRPC_MGMT_SETUP, body, len, msg, msglen, NULL);
	free(body);
	return rc;
}

/* A refused SETUP: non-zero status, message naming `field`, engine still answers. */
static void
expect_refused(const char *what, const void *body, size_t len, const char *field)
{
	char msg[1024];
	int rc;

	rc = call(CAIRN_DRPC_MGMT_SETUP, body, len, msg, sizeof(msg), NULL);
	CHECK(rc == -CAIRN_ERR_INVAL || rc == -CAIRN_ERR_PROTO || rc == -CAIRN_ERR_NONEXIST,
	      "%s: status %d (%s), expected a refusal", what, rc, msg);
	CHECK(strstr(msg, field) != NULL, "%s: message '%s' does not name '%s'", what, msg, field);
	printf("refused %-28s %s\n", what, msg);
	rc = call(CAIRN_DRPC_MGMT_PING, NULL, 0, msg, sizeof(msg), NULL);
	CHECK(rc == 0, "%s: PING after the refusal: %d %s", what, rc, msg);
}

static void
expect_refused_setup(const char *what, const struct cairn_drpc_setup *s, const char *field)
{
	uint8_t *body;
	size_t len;

	if (cairn_drpc_setup_encode(s, &body, &len)) {
		g_bad++;
		return;
	}
	expect_refused(what, body, len, field);
	free(body);
}

int
main(int argc, char **argv)
{
	Cairn__Mgmt__SetUpReq m = CAIRN__MGMT__SET_UP_REQ__INIT;
	struct cairn_drpc_response resp;
	Cairn__Mgmt__GetInfoResp *info;
	struct cairn_drpc_setup s, good;
	uint32_t port, targets;
	uint8_t raw[2048];
	char msg[1024], longdir[CAIRN_SETUP_PATH_MAX + 16];
	size_t len;
	int rc;

	if (argc != 5 || cairn_parse_u32(argv[3], 1, 65000, &port, NULL, 0) ||
	    cairn_parse_u32(argv[4], 1, CAIRN_SETUP_MAX_TARGETS, &targets, NULL, 0)) {
		fprintf(stderr, "usage: setup-client SOCK STORAGE_DIR PORT TARGETS\n");
		return 2;
	}
	rc = cairn_drpc_client_connect(argv[1], 10000, &g_cl);
	if (rc) {
		fprintf(stderr, "setup-client: cannot connect to %s: %s\n", argv[1],
		        cairn_strerror(rc));
		return 1;
	}
	good_setup(&good, argv[2], port, targets);

	rc = call(CAIRN_DRPC_MGMT_PING, NULL, 0, msg, sizeof(msg), NULL);
	CHECK(rc == 0, "PING while waiting: %d %s", rc, msg);
	rc = call(CAIRN_DRPC_MGMT_GET_INFO, NULL, 0, msg, sizeof(msg), NULL);
	CHECK(rc == -CAIRN_ERR_AGAIN && strstr(msg, "SETUP"),
	      "GET_INFO before SETUP: %d '%s', expected -CAIRN_ERR_AGAIN", rc, msg);

	/* Every field out of range, one at a time. */
	s = good, s.targets = 0;
	expect_refused_setup("targets 0", &s, "targets");
	s = good, s.targets = CAIRN_SETUP_MAX_TARGETS + 1;
	expect_refused_setup("targets 65", &s, "targets");
	s = good, s.helpers = CAIRN_SETUP_MAX_HELPERS + 1;
	expect_refused_setup("helpers 65", &s, "helpers");
	s = good, snprintf(s.storage_dir, sizeof(s.storage_dir), "relative/dir");
	expect_refused_setup("relative storage_dir", &s, "storage_dir");
	s = good, snprintf(s.storage_dir, sizeof(s.storage_dir), "%s/nowhere", argv[2]);
	expect_refused_setup("missing storage_dir", &s, "storage format");
	s = good, s.targets = targets + 1;
	expect_refused_setup("more targets than formatted", &s, "storage format");
	s = good, s.port = 65535;
	expect_refused_setup("port 65535", &s, "port");
	s = good, s.port = 70000;
	expect_refused_setup("port 70000", &s, "port");
	s = good, snprintf(s.uri, sizeof(s.uri), "http://127.0.0.1:80");
	expect_refused_setup("uri scheme", &s, "uri");
	s = good, snprintf(s.uri, sizeof(s.uri), "tcp://127.0.0.1:0");
	expect_refused_setup("uri port 0", &s, "uri");
	s = good, s.rank = CAIRN_SETUP_MAX_RANK + 1;
	expect_refused_setup("rank 2^20", &s, "rank");
	s = good, s.system[0] = '\0';
	expect_refused_setup("empty system", &s, "system");
	s = good, snprintf(s.system, sizeof(s.system), "bad name!");
	expect_refused_setup("system with spaces", &s, "system");
	s = good, memset(s.system_uuid, 0, sizeof(s.system_uuid));
	expect_refused_setup("zero system_uuid", &s, "system_uuid");
	s = good, snprintf(s.log_mask, sizeof(s.log_mask), "engine=LOUD");
	expect_refused_setup("bad log_mask", &s, "log_mask");

	/* Fields the struct cannot express: too long, wrong sizes, garbage, unknown. */
	cairn__mgmt__set_up_req__init(&m);
	m.targets = targets;
	m.storage_dir = argv[2];
	m.system = "setuptest";
	m.system_uuid.data = good.system_uuid;
	m.system_uuid.len = 15;
	len = cairn__mgmt__set_up_req__pack(&m, raw);
	expect_refused("15-byte system_uuid", raw, len, "system_uuid");
	m.system_uuid.len = 16;
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	m.storage_dir = longdir;
	len = cairn__mgmt__set_up_req__pack(&m, raw);
	expect_refused("storage_dir over 1023 bytes", raw, len, "storage_dir");
	m.storage_dir = argv[2];
	len = cairn__mgmt__set_up_req__pack(&m, raw);
	raw[len++] = 0xf8; /* field 127, varint: unknown to the engine */
	raw[len++] = 0x07;
	raw[len++] = 0x01;
	expect_refused("unknown field", raw, len, "unknown field");
	memset(raw, 0xff, 64);
	expect_refused("garbage body", raw, 64, "undecodable");

	/* The good one: the engine starts and answers with 0 once it runs. */
	rc = send_setup(&good, msg, sizeof(msg));
	CHECK(rc == 0, "good SETUP: %d %s", rc, msg);
	rc = call(CAIRN_DRPC_MGMT_GET_INFO, NULL, 0, msg, sizeof(msg), &resp);
	CHECK(rc == 0, "GET_INFO after SETUP: %d %s", rc, msg);
	if (rc == 0) {
		info = cairn__mgmt__get_info_resp__unpack(NULL, resp.body_len, resp.body);
		CHECK(info != NULL, "GET_INFO: undecodable reply");
		if (info) {
			printf("engine: rank %d system %s state %s targets %u helpers %u "
			       "net_contexts %u storage %s\n",
			       info->rank, info->system, info->state, info->targets, info->helpers,
			       info->net_contexts, info->storage_dir);
			CHECK(strcmp(info->state, "ready") == 0, "state %s", info->state);
			CHECK(info->rank == 0 && strcmp(info->system, "setuptest") == 0,
			      "rank %d system %s", info->rank, info->system);
			CHECK(info->targets == targets && info->helpers == 1,
			      "targets %u helpers %u", info->targets, info->helpers);
			CHECK(info->net_contexts == targets + 1, "net_contexts %u",
			      info->net_contexts);
			CHECK(strcmp(info->storage_dir, argv[2]) == 0, "storage_dir %s",
			      info->storage_dir);
			cairn__mgmt__get_info_resp__free_unpacked(info, NULL);
		}
		cairn_drpc_response_release(&resp);
	}
	rc = send_setup(&good, msg, sizeof(msg));
	CHECK(rc == 0, "repeated identical SETUP: %d %s", rc, msg);
	s = good, s.helpers = 0;
	rc = send_setup(&s, msg, sizeof(msg));
	CHECK(rc == -CAIRN_ERR_BUSY && strstr(msg, "restart"),
	      "different SETUP on a running engine: %d '%s', expected -CAIRN_ERR_BUSY", rc, msg);
	s = good, s.targets = 0;
	rc = send_setup(&s, msg, sizeof(msg));
	CHECK(rc == -CAIRN_ERR_INVAL, "bad SETUP on a running engine: %d '%s'", rc, msg);

	rc = call(CAIRN_DRPC_MGMT_SHUTDOWN, NULL, 0, msg, sizeof(msg), NULL);
	CHECK(rc == 0, "SHUTDOWN: %d %s", rc, msg);
	cairn_drpc_client_close(g_cl);
	if (g_bad)
		fprintf(stderr, "setup-client: %d check(s) failed\n", g_bad);
	else
		printf("setup-client: all checks passed\n");
	return g_bad ? 1 : 0;
}
