/*
 * SETUP codec: encode the engine's configuration (control plane) and decode + validate
 * it (engine). Every field is checked here so the engine refuses a bad value with a
 * message naming the field instead of failing somewhere in its start-up.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#include "common/log.h"
#include "drpc/setup.h"
#include "mgmt.pb-c.h"

static int __attribute__((format(printf, 4, 5)))
setup_err(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Printable ASCII without spaces: paths, URIs and masks go into logs and argv-like
 * places; control characters there are always a mistake. */
static bool
setup_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static bool
setup_name_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* "tcp://HOST:PORT" with a non-empty host and PORT 1..65535; *port gets PORT. */
static bool
setup_uri_ok(const char *uri, uint32_t *port)
{
	const char *host = uri + 6, *colon;
	unsigned long v;
	char *end;

	if (strncmp(uri, "tcp://", 6) != 0)
		return false;
	colon = strrchr(host, ':');
	if (colon == NULL || colon == host || colon[1] < '0' || colon[1] > '9')
		return false;
	v = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535)
		return false;
	*port = (uint32_t)v;
	return true;
}

static int
setup_validate(const Cairn__Mgmt__SetUpReq *m, struct cairn_drpc_setup *s, char *err, size_t errlen)
{
	uint8_t levels[CAIRN_SS_MAX];
	char why[160];
	uint32_t uri_port;
	size_t n;
	unsigned i;

	memset(s, 0, sizeof(*s));
	if (m->targets < 1 || m->targets > CAIRN_SETUP_MAX_TARGETS)
		return setup_err(-CAIRN_ERR_INVAL, err, errlen,
		                 "targets: %u is out of range 1..%u; fix `targets` of this "
		                 "engine in the server config",
		                 m->targets, CAIRN_SETUP_MAX_TARGETS);
	s->targets = m->targets;
	if (m->helpers > CAIRN_SETUP_MAX_HELPERS)
		return setup_err(-CAIRN_ERR_INVAL, err, errlen,
		                 "helpers: %u is out of range 0..%u; fix `helpers` of this "
		                 "engine in the server config",
		                 m->helpers, CAIRN_SETUP_MAX_HELPERS);
	s->helpers = m->helpers;

	n = strlen(m->storage_dir);
	if (n >= CAIRN_SETUP_PATH_MAX)
		return setup_err(-CAIRN_ERR_INVAL, err, errlen,
		                 "storage_dir: %zu bytes, longer than %d; use a shorter path", n,
		                 CAIRN_SETUP_PATH_MAX - 1);
	if (n && (m->storage_dir[0] != '/' || !setup_printable(m->storage_dir)))
		return setup_err(-CAIRN_ERR_INVAL, err, errlen,
		                 "storage_dir: '%.64s' must be an absolute path of printable "
		                 "characters without spaces",
		                 m->storage_dir);
	memcpy(s->storage_dir, m->storage_dir, n + 1);

	if (m->port > 65535 || (m->port && m->port + m->targets > 65535))
		return setup_err(-CAIRN_ERR_INVAL, err, errlen,
		                 "port: %u (+%u targets) is beyond 65535; the engine listens on "
		                 "port..port+targets, pick a lower `port`",
		                 m->port, m->targets);
	s->port = m->port;
	n = strlen(m->uri);
	if (n >= CAIRN_SETUP_URI_MAX)
		return setup_err(-CAIRN_ERR_INVAL, err, errlen, "uri: %zu bytes, longer than %d", n,
		                 CAIRN_SETUP_URI_MAX - 1);
	if (n) {
		if (!setup_printable(m->uri) || !setup_uri_ok(m->uri, &uri_port))
			return setup_err(-CAIRN_ERR_INVAL, err, errlen,
			                 "uri: '%.64s' is not tcp://HOST:PORT with PORT 1..65535",
			                 m->uri);
		if (uri_port + m->targets > 65535)
			return setup_err(-CAIRN_ERR_INVAL, err, errlen,
			                 "uri: port %u + %u targets is beyond 65535", uri_port,
			                 m->targets);
		memcpy(s->uri, m->uri, n + 1);
	}

	if (m->rank > CAIRN_SETUP_MAX_RANK)
		return setup_err(-CAIRN_ERR_INVAL, err, errlen, "rank: %u is beyond %u", m->rank,
		                 CAIRN_SETUP_MAX_RANK);
	s->rank = m->rank;
	n = strlen(m->system);
	if (n == 0 || n >= CAIRN_SETUP_SYSTEM_MAX || !setup_name_ok(m->system))
		return setup_err(-CAIRN_ERR_INVAL, err, errlen,
		                 "system: name must be 1..%d characters of [A-Za-z0-9_.-] "
		                 "(got %zu bytes); fix `name` in the server config",
		                 CAIRN_SETUP_SYSTEM_MAX - 1, n);
	memcpy(s->system, m->system, n + 1);
	if (m->system_uuid.len != 16)
		return setup_err(-CAIRN_ERR_INVAL, err, errlen,
		                 "system_uuid: %zu bytes, expected 16", m->system_uuid.len);
	for (i = 0; i < 16 && m->system_uuid.data[i] == 0; i++)
		;
	if (i == 16)
		return setup_err(-CAIRN_ERR_INVAL, err, errlen,
		                 "system_uuid: all zero; format the storage first "
		                 "(`cairn-server storage format`)");
	memcpy(s->system_uuid, m->system_uuid.data, 16);

	n = strlen(m->log_mask);
	if (n >= CAIRN_SETUP_LOG_MASK_MAX)
		return setup_err(-CAIRN_ERR_INVAL, err, errlen,
		                 "log_mask: %zu bytes, longer than %d", n,
		                 CAIRN_SETUP_LOG_MASK_MAX - 1);
	if (n) {
		memset(levels, 0, sizeof(levels));
		if (!setup_printable(m->log_mask) ||
		    cairn_log_parse_mask(m->log_mask, levels, why, sizeof(why)) != 0)
			return setup_err(-CAIRN_ERR_INVAL, err, errlen,
			                 "log_mask: '%.64s' is not a log mask (%s); e.g. "
			                 "ERR,engine=INFO",
			                 m->log_mask,
			                 setup_printable(m->log_mask)
			                         ? why
			                         : "control characters or spaces");
		memcpy(s->log_mask, m->log_mask, n + 1);
	}
	s->pin = m->pin;
	return 0;
}

int
cairn_drpc_setup_decode(const void *buf, size_t len, struct cairn_drpc_setup *out, char *err,
                        size_t errlen)
{
	Cairn__Mgmt__SetUpReq *m;
	int rc;

	if (out == NULL || (buf == NULL && len))
		return setup_err(-CAIRN_ERR_INVAL, err, errlen, "no SetUpReq body");
	m = cairn__mgmt__set_up_req__unpack(NULL, len, buf);
	if (m == NULL)
		return setup_err(-CAIRN_ERR_PROTO, err, errlen,
		                 "SetUpReq: undecodable protobuf body (%zu bytes)", len);
	if (m->base.n_unknown_fields) {
		rc = setup_err(-CAIRN_ERR_PROTO, err, errlen,
		               "SetUpReq: %u unknown field(s); engine and server versions differ",
		               m->base.n_unknown_fields);
		goto out;
	}
	rc = setup_validate(m, out, err, errlen);
out:
	cairn__mgmt__set_up_req__free_unpacked(m, NULL);
	return rc;
}

int
cairn_drpc_setup_encode(const struct cairn_drpc_setup *s, uint8_t **out, size_t *out_len)
{
	Cairn__Mgmt__SetUpReq m = CAIRN__MGMT__SET_UP_REQ__INIT;
	uint8_t *buf;
	size_t len;

	m.targets = s->targets;
	m.helpers = s->helpers;
	m.storage_dir = (char *)s->storage_dir;
	m.port = s->port;
	m.uri = (char *)s->uri;
	m.rank = s->rank;
	m.system = (char *)s->system;
	m.system_uuid.data = (uint8_t *)s->system_uuid;
	m.system_uuid.len = sizeof(s->system_uuid);
	m.log_mask = (char *)s->log_mask;
	m.pin = s->pin;
	len = cairn__mgmt__set_up_req__get_packed_size(&m);
	buf = malloc(len ? len : 1);
	if (buf == NULL)
		return -CAIRN_ERR_NOMEM;
	*out_len = cairn__mgmt__set_up_req__pack(&m, buf);
	*out = buf;
	return 0;
}
