/*
 * cairn-server configuration: the YAML schema (etc/cairn_server.yml documents it),
 * defaults, and the checks the schema cannot express (names, distinct directories,
 * sockets and ports, log masks).
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#include "common/config.h"
#include "common/log.h"
#include "common/units.h"

#include "control_internal.h"

#define CTL_CONFIG_TEXT_MAX (1u << 20) /* read for line numbers only */

#define NS_PER_MS 1000000ull

static void
engine_init(void *obj)
{
	struct ctl_engine_cfg *e = obj;

	e->targets = 1;
	e->storage.target_size = 64ull << 20;
}

static const struct cairn_cfg_field g_storage_fields[] = {
        {.name = "dir",
         .type = CAIRN_CFG_STRING,
         .offset = offsetof(struct ctl_storage_cfg, dir),
         .required = true,
         .min = 1,
         .max = 4000},
        {.name = "target_size",
         .type = CAIRN_CFG_SIZE,
         .offset = offsetof(struct ctl_storage_cfg, target_size),
         .min = 1ull << 20,
         .max = 1ull << 50},
        /* One block device (or existing file) per target instead of target_size files;
         * storage format checks and records them (storage.c). */
        {.name = "devices",
         .type = CAIRN_CFG_LIST,
         .offset = offsetof(struct ctl_storage_cfg, devices),
         .elem_type = CAIRN_CFG_STRING,
         .count_offset = offsetof(struct ctl_storage_cfg, nr_devices),
         .min = 1,
         .max = 4000,
         .min_count = 1,
         .max_count = CTL_MAX_TARGETS},
        {.name = NULL},
};

static const struct cairn_cfg_schema g_storage_schema = {
        .name = "storage",
        .size = sizeof(struct ctl_storage_cfg),
        .fields = g_storage_fields,
};

static const struct cairn_cfg_field g_engine_fields[] = {
        {.name = "targets",
         .type = CAIRN_CFG_U32,
         .offset = offsetof(struct ctl_engine_cfg, targets),
         .required = true,
         .min = 1,
         .max = CTL_MAX_TARGETS},
        {.name = "helpers",
         .type = CAIRN_CFG_U32,
         .offset = offsetof(struct ctl_engine_cfg, helpers),
         .max = 64},
        {.name = "port",
         .type = CAIRN_CFG_U32,
         .offset = offsetof(struct ctl_engine_cfg, port),
         .min = 1,
         .max = 65535},
        {.name = "storage",
         .type = CAIRN_CFG_MAP,
         .offset = offsetof(struct ctl_engine_cfg, storage),
         .required = true,
         .sub = &g_storage_schema},
        {.name = "log_file",
         .type = CAIRN_CFG_STRING,
         .offset = offsetof(struct ctl_engine_cfg, log_file),
         .min = 1,
         .max = 4000},
        {.name = "log_mask",
         .type = CAIRN_CFG_STRING,
         .offset = offsetof(struct ctl_engine_cfg, log_mask),
         .min = 1,
         .max = 256},
        {.name = "drpc_socket",
         .type = CAIRN_CFG_STRING,
         .offset = offsetof(struct ctl_engine_cfg, drpc_socket),
         .min = 1,
         .max = CTL_SOCK_PATH_MAX - 1},
        {.name = NULL},
};

static const struct cairn_cfg_schema g_engine_schema = {
        .name = "engine",
        .size = sizeof(struct ctl_engine_cfg),
        .fields = g_engine_fields,
        .init = engine_init,
};

static const struct cairn_cfg_field g_server_fields[] = {
        {.name = "name",
         .type = CAIRN_CFG_STRING,
         .offset = offsetof(struct ctl_config, name),
         .required = true,
         .min = 1,
         .max = CTL_NAME_MAX - 1},
        {.name = "port",
         .type = CAIRN_CFG_U32,
         .offset = offsetof(struct ctl_config, port),
         .max = 65535},
        {.name = "mgmt_socket",
         .type = CAIRN_CFG_STRING,
         .offset = offsetof(struct ctl_config, mgmt_socket),
         .min = 1,
         .max = CTL_SOCK_PATH_MAX - 1},
        {.name = "socket_dir",
         .type = CAIRN_CFG_STRING,
         .offset = offsetof(struct ctl_config, socket_dir),
         .min = 1,
         .max = 80},
        {.name = "log_file",
         .type = CAIRN_CFG_STRING,
         .offset = offsetof(struct ctl_config, log_file),
         .min = 1,
         .max = 4000},
        {.name = "log_mask",
         .type = CAIRN_CFG_STRING,
         .offset = offsetof(struct ctl_config, log_mask),
         .min = 1,
         .max = 256},
        {.name = "engine_bin",
         .type = CAIRN_CFG_STRING,
         .offset = offsetof(struct ctl_config, engine_bin),
         .min = 1,
         .max = 4000},
        {.name = "restart_backoff_min",
         .type = CAIRN_CFG_DURATION,
         .offset = offsetof(struct ctl_config, restart_backoff_min),
         .min = 10 * NS_PER_MS,
         .max = 3600000 * NS_PER_MS},
        {.name = "restart_backoff_max",
         .type = CAIRN_CFG_DURATION,
         .offset = offsetof(struct ctl_config, restart_backoff_max),
         .min = 10 * NS_PER_MS,
         .max = 3600000 * NS_PER_MS},
        {.name = "max_restarts",
         .type = CAIRN_CFG_U32,
         .offset = offsetof(struct ctl_config, max_restarts),
         .min = 1,
         .max = 1000},
        {.name = "stop_timeout",
         .type = CAIRN_CFG_DURATION,
         .offset = offsetof(struct ctl_config, stop_timeout),
         .min = 100 * NS_PER_MS,
         .max = 600000 * NS_PER_MS},
        {.name = "engines",
         .type = CAIRN_CFG_LIST,
         .offset = offsetof(struct ctl_config, engines),
         .elem_type = CAIRN_CFG_MAP,
         .sub = &g_engine_schema,
         .count_offset = offsetof(struct ctl_config, nr_engines),
         .required = true,
         .min_count = 1,
         .max_count = CTL_MAX_ENGINES},
        {.name = "access_points",
         .type = CAIRN_CFG_LIST,
         .offset = offsetof(struct ctl_config, access_points),
         .elem_type = CAIRN_CFG_STRING,
         .count_offset = offsetof(struct ctl_config, nr_access_points),
         .min = 3,
         .max = 64,
         .min_count = 1,
         .max_count = CTL_MAX_ACCESS_POINTS},
        {.name = NULL},
};

static const struct cairn_cfg_schema g_server_schema = {
        .name = "server",
        .size = sizeof(struct ctl_config),
        .fields = g_server_fields,
};

static int
set_default_str(char **field, const char *value)
{
	*field = strdup(value);
	return *field ? 0 : -CAIRN_ERR_NOMEM;
}

static int
config_defaults(struct ctl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->restart_backoff_min = 250 * NS_PER_MS;
	cfg->restart_backoff_max = 10000 * NS_PER_MS;
	cfg->max_restarts = 5;
	cfg->stop_timeout = 5000 * NS_PER_MS;
	if (set_default_str(&cfg->mgmt_socket, CTL_DEFAULT_MGMT_SOCK) ||
	    set_default_str(&cfg->socket_dir, "/var/tmp/cairn"))
		return -CAIRN_ERR_NOMEM;
	return 0;
}

static bool
name_ok(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

/*
 * Line (1-based) of `key` at the top level (engine < 0) or inside the list item
 * engines[engine] of a block-style YAML text, for the "file:line:" of the checks below
 * (the schema loader reports its own errors with lines; these run after it). In an
 * engine, a key not found gives the line of the engine's "- " item; 0 when even that is
 * not found (flow style): the message then names the file only.
 */
static unsigned
key_line(const char *text, int engine, const char *key)
{
	const char *p = text, *q, *end, *eol;
	size_t klen = strlen(key);
	unsigned line = 1, item_line = 0;
	bool in_engines = false;
	int item = -1;

	while (p != NULL && *p != '\0') {
		eol = strchr(p, '\n');
		end = eol ? eol : p + strlen(p);
		for (q = p; q < end && *q == ' '; q++)
			;
		if (q < end && *q != '#') {
			if (q == p) {
				in_engines = strncmp(q, "engines:", 8) == 0;
				if (engine < 0 && (size_t)(end - q) > klen &&
				    strncmp(q, key, klen) == 0 && q[klen] == ':')
					return line;
			} else if (in_engines && engine >= 0) {
				if (*q == '-' && (q + 1 == end || q[1] == ' ')) {
					if (++item == engine)
						item_line = line;
					for (q++; q < end && *q == ' '; q++)
						;
				}
				if (item == engine && (size_t)(end - q) > klen &&
				    strncmp(q, key, klen) == 0 && q[klen] == ':')
					return line;
			}
		}
		p = eol ? eol + 1 : NULL;
		line++;
	}
	return item_line;
}

/* "src:LINE" (or "src" when the line is unknown) of a key, for messages. */
static const char *
key_where(char *buf, size_t len, const char *src, const char *text, int engine, const char *key)
{
	unsigned line = text ? key_line(text, engine, key) : 0;

	if (line)
		snprintf(buf, len, "%s:%u", src, line);
	else
		snprintf(buf, len, "%s", src);
	return buf;
}

/* Checks across fields; the schema loader already checked types and ranges. text is
 * the YAML (may be NULL), for the line numbers of the messages. */
static int
config_check(const char *src, const char *text, struct ctl_config *cfg, char *err, size_t errlen)
{
	uint8_t levels[CAIRN_SS_MAX];
	char why[200], path[CTL_SOCK_PATH_MAX + 16], at[PATH_MAX + 16];
	unsigned i, j;
	int n;

	if (!name_ok(cfg->name)) {
		snprintf(err, errlen,
		         "%s: key 'name': '%s' may only hold letters, digits, "
		         "'-', '_' and '.'",
		         key_where(at, sizeof(at), src, text, -1, "name"), cfg->name);
		return -CAIRN_ERR_INVAL;
	}
	for (i = 0; i < cfg->nr_access_points; i++) {
		const char *ap = cfg->access_points[i], *colon = strrchr(ap, ':');
		uint32_t port;

		if (colon == NULL || colon - ap != 9 || strncmp(ap, "127.0.0.1", 9) != 0 ||
		    cairn_parse_u32(colon + 1, 1, 65535, &port, NULL, 0) != 0) {
			snprintf(err, errlen,
			         "%s: key 'access_points[%u]': '%s' is not 127.0.0.1:PORT (the "
			         "management API TCP port of the first server; loopback only)",
			         src, i, ap);
			return -CAIRN_ERR_INVAL;
		}
		if (port == cfg->port) {
			snprintf(err, errlen,
			         "%s: key 'access_points[%u]': port %u is this server's own "
			         "management port; the first server of a system has no "
			         "access_points",
			         src, i, port);
			return -CAIRN_ERR_INVAL;
		}
	}
	if (cfg->restart_backoff_min > cfg->restart_backoff_max) {
		snprintf(err, errlen,
		         "%s: restart_backoff_min is larger than "
		         "restart_backoff_max",
		         key_where(at, sizeof(at), src, text, -1, "restart_backoff_min"));
		return -CAIRN_ERR_INVAL;
	}
	if (cfg->log_mask && cairn_log_parse_mask(cfg->log_mask, levels, why, sizeof(why))) {
		snprintf(err, errlen, "%s: key 'log_mask': %s",
		         key_where(at, sizeof(at), src, text, -1, "log_mask"), why);
		return -CAIRN_ERR_INVAL;
	}
	for (i = 0; i < cfg->nr_engines; i++) {
		struct ctl_engine_cfg *e = &cfg->engines[i];

		if (e->log_mask && cairn_log_parse_mask(e->log_mask, levels, why, sizeof(why))) {
			snprintf(err, errlen, "%s: key 'engines[%u].log_mask': %s",
			         key_where(at, sizeof(at), src, text, (int)i, "log_mask"), i, why);
			return -CAIRN_ERR_INVAL;
		}
		if (e->drpc_socket == NULL) {
			n = snprintf(path, sizeof(path), "%s/engine%u.sock", cfg->socket_dir, i);
			if (n < 0 || (size_t)n >= CTL_SOCK_PATH_MAX) {
				snprintf(err, errlen,
				         "%s: key 'socket_dir': too long for a socket "
				         "path",
				         key_where(at, sizeof(at), src, text, -1, "socket_dir"));
				return -CAIRN_ERR_INVAL;
			}
			if (set_default_str(&e->drpc_socket, path))
				return -CAIRN_ERR_NOMEM;
		}
		/* An engine listens on port .. port + targets (one per RPC context). */
		if (e->port && e->port + e->targets > 65535) {
			snprintf(err, errlen, "%s: engines[%u]: port %u + %u targets passes 65535",
			         key_where(at, sizeof(at), src, text, (int)i, "port"), i, e->port,
			         e->targets);
			return -CAIRN_ERR_INVAL;
		}
		if (e->port && cfg->port >= e->port && cfg->port <= e->port + e->targets) {
			snprintf(err, errlen,
			         "%s: engines[%u] listens on ports %u-%u, which "
			         "include the management port %u",
			         key_where(at, sizeof(at), src, text, (int)i, "port"), i, e->port,
			         e->port + e->targets, cfg->port);
			return -CAIRN_ERR_INVAL;
		}
		for (j = 0; j < i; j++) {
			struct ctl_engine_cfg *o = &cfg->engines[j];

			if (strcmp(o->storage.dir, e->storage.dir) == 0) {
				snprintf(err, errlen,
				         "%s: engines[%u].storage.dir is the same as "
				         "engines[%u]'s (%s): each engine needs its own",
				         key_where(at, sizeof(at), src, text, (int)i, "storage"), i,
				         j, e->storage.dir);
				return -CAIRN_ERR_INVAL;
			}
			if (strcmp(o->drpc_socket, e->drpc_socket) == 0) {
				snprintf(
				        err, errlen,
				        "%s: engines[%u] and engines[%u] share the "
				        "dRPC socket %s",
				        key_where(at, sizeof(at), src, text, (int)i, "drpc_socket"),
				        i, j, e->drpc_socket);
				return -CAIRN_ERR_INVAL;
			}
			if (e->port && o->port && e->port <= o->port + o->targets &&
			    o->port <= e->port + e->targets) {
				snprintf(err, errlen,
				         "%s: engines[%u] (ports %u-%u) and engines[%u] "
				         "(ports %u-%u) overlap: each engine uses port .. port + "
				         "targets",
				         key_where(at, sizeof(at), src, text, (int)i, "port"), i,
				         e->port, e->port + e->targets, j, o->port,
				         o->port + o->targets);
				return -CAIRN_ERR_INVAL;
			}
		}
	}
	return 0;
}

/* The file's text for key_line() (NULL if it cannot be read: no line numbers then). */
static char *
config_slurp(const char *path)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return NULL;
	buf = malloc(CTL_CONFIG_TEXT_MAX + 1);
	if (buf != NULL) {
		n = fread(buf, 1, CTL_CONFIG_TEXT_MAX, f);
		buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

static int
config_finish(const char *src, const char *text, int rc, struct ctl_config *cfg, char *err,
              size_t errlen)
{
	if (rc == 0)
		rc = config_check(src, text, cfg, err, errlen);
	if (rc == 0) {
		cfg->path = strdup(src);
		if (cfg->path == NULL)
			rc = -CAIRN_ERR_NOMEM;
	}
	if (rc)
		ctl_config_free(cfg);
	return rc;
}

int
ctl_config_load(const char *path, struct ctl_config *cfg, char *err, size_t errlen)
{
	int rc = config_defaults(cfg);
	char *text;

	if (rc == 0)
		rc = cairn_cfg_load_file(path, &g_server_schema, cfg, err, errlen);

	if (rc && rc != -CAIRN_ERR_INVAL && rc != -CAIRN_ERR_NOMEM)
		snprintf(err, errlen, "%s: cannot read: %s", path, cairn_strerror(rc));
	text = rc == 0 ? config_slurp(path) : NULL;
	rc = config_finish(path, text, rc, cfg, err, errlen);
	free(text);
	return rc;
}

int
ctl_config_load_string(const char *name, const char *text, struct ctl_config *cfg, char *err,
                       size_t errlen)
{
	int rc = config_defaults(cfg);

	if (rc == 0)
		rc = cairn_cfg_load_string(name, text, strlen(text), &g_server_schema, cfg, err,
		                           errlen);
	return config_finish(name, text, rc, cfg, err, errlen);
}

void
ctl_config_free(struct ctl_config *cfg)
{
	cairn_cfg_free(&g_server_schema, cfg);
	free(cfg->path);
	cfg->path = NULL;
}
