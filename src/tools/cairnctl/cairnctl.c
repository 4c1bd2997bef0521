/*
 * cairnctl: the administrator's CLI (DAOS dmg's role). Talks JSON-RPC 2.0 to
 * cairn-server's management API over its Unix socket (-o) or 127.0.0.1 TCP (--host).
 *   cairnctl system query|stop|start [--ranks 0,1] [--force]
 *   cairnctl storage format [--force] | storage query
 * Exit codes: 0 success; 1 the operation failed (server error, or a rank did not reach
 * the requested state); 2 bad usage; 3 cannot reach cairn-server.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <cairn/errno.h>

#include "common/json.h"
#include "common/units.h"
#include "jsonrpc/jsonrpc_client.h"

#define EXIT_OK 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_UNREACH 3
#define DEFAULT_SOCK "/var/tmp/cairn/cairn_server.sock"
#define DEFAULT_PORT 10001

struct ctl_args {
	const char *addr;
	bool json;
	bool force;
	json_t *ranks; /* array or NULL */
	unsigned timeout_ms;
	const char *size;  /* pool create -z */
	const char *label; /* pool create -l */
	const char *user;  /* pool create --user (owner) */
	const char *group; /* pool create --group (owner group) */
	json_t *entries;   /* pool update-acl -e (array) */
	const char *acl_file;  /* pool update-acl --acl-file */
	const char *principal; /* pool delete-acl -p */
};

static void
usage(FILE *f)
{
	fprintf(f,
	        "Usage: cairnctl [options] COMMAND\n\n"
	        "Commands:\n"
	        "  system query  [--ranks LIST]          ranks and their state\n"
	        "  system stop   [--ranks LIST] [--force] stop engines (force: kill)\n"
	        "  system start  [--ranks LIST]          start stopped/excluded engines\n"
	        "  storage format [--force]              format storage (force: reformat,\n"
	        "                                        destroying data)\n"
	        "  storage query                         storage of every engine\n"
	        "  pool create -z SIZE -l LABEL [--ranks LIST]\n"
	        "                                        create a pool of SIZE per target on\n"
	        "                                        the ranks (default: every joined one)\n"
	        "  pool list                             pools with their space\n"
	        "  pool query POOL                       one pool (label or uuid)\n"
	        "  pool destroy POOL [--force]           destroy (force: even if connected or a\n"
	        "                                        rank of the pool is down)\n"
	        "  pool map-bump POOL                    new pool map version (clients refresh)\n"
	        "  pool get-prop POOL                    label, owner, group, ACL, ...\n"
	        "  pool set-prop POOL NAME:VALUE...      set label:NEW, owner:USER, group:GROUP\n"
	        "  pool get-acl POOL                     the pool's ACL\n"
	        "  pool update-acl POOL -e ACE... | --acl-file FILE\n"
	        "                                        add or replace ACL entries\n"
	        "  pool delete-acl POOL -p PRINCIPAL     remove the entry of a principal\n"
	        "ACL entries (as DAOS): A:FLAGS:PRINCIPAL:PERMS, PRINCIPAL one of OWNER@, GROUP@,\n"
	        "EVERYONE@, user@, or group@ with flag G (A:G:staff@:r); PERMS letters r (connect\n"
	        "read), w (connect write), c (create container), d (delete container), t/T\n"
	        "(get/set props), a/A (get/update ACL). E.g. -e A::bob@:rw -e A:G:staff@:rc\n\n"
	        "Options:\n"
	        "  -o, --socket PATH   cairn-server API socket (default $CAIRN_SERVER_SOCKET\n"
	        "                      or %s)\n"
	        "      --host H[:P]    use TCP instead (127.0.0.1; default port %d)\n"
	        "  -r, --ranks LIST    ranks, e.g. 0,2-3\n"
	        "  -f, --force         see the commands\n"
	        "  -z, --size SIZE     pool size per target, e.g. 1G\n"
	        "  -l, --label LABEL   pool label\n"
	        "      --user USER     pool create: owner (default: the engine's user)\n"
	        "      --group GROUP   pool create: owner group\n"
	        "  -e, --entry ACE     pool update-acl: an entry (repeatable)\n"
	        "      --acl-file F    pool update-acl: entries, one per line (# comments)\n"
	        "  -p, --principal P   pool delete-acl: OWNER@, GROUP@, EVERYONE@, user@,\n"
	        "                      g:group@\n"
	        "  -j, --json          print the server's JSON result\n"
	        "  -t, --timeout SEC   wait at most SEC seconds for the server (default 60)\n"
	        "  -h, --help          this text\n\n"
	        "Exit codes: 0 success; 1 the operation failed; 2 bad usage; 3 cannot reach\n"
	        "cairn-server.\n",
	        DEFAULT_SOCK, DEFAULT_PORT);
}

/* "0,2-3" -> [0,2,3] */
static int
parse_ranks(const char *s, json_t **out)
{
	json_t *arr = json_array();
	char buf[256], *p, *next, *dash;
	uint32_t a, b, r;

	if (arr == NULL || snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		goto err;
	for (p = buf; p; p = next) {
		next = strchr(p, ',');
		if (next)
			*next++ = '\0';
		dash = strchr(p, '-');
		if (dash)
			*dash = '\0';
		if (cairn_parse_u32(p, 0, 1u << 20, &a, NULL, 0))
			goto err;
		b = a;
		if (dash && cairn_parse_u32(dash + 1, a, a + 1024, &b, NULL, 0))
			goto err;
		for (r = a; r <= b; r++)
			json_array_append_new(arr, json_integer(r));
	}
	if (json_array_size(arr) == 0)
		goto err;
	*out = arr;
	return 0;
err:
	json_decref(arr);
	return -CAIRN_ERR_INVAL;
}

static int
call(const struct ctl_args *a, const char *method, json_t *params, json_t **result)
{
	struct cairn_jsonrpc_client *cl;
	json_t *resp, *err, *res;
	const char *msg;
	int rc;

	rc = cairn_jsonrpc_client_connect(a->addr, 0, &cl);
	if (rc) {
		fprintf(stderr,
		        "cairnctl: cannot reach cairn-server at %s: %s.\n"
		        "Is it running? Start it with `cairn-server -o CONFIG start`, or point "
		        "-o/--socket or --host at its API.\n",
		        a->addr, cairn_strerror(rc));
		return EXIT_UNREACH;
	}
	rc = cairn_jsonrpc_client_call(cl, method, params, a->timeout_ms, &resp);
	cairn_jsonrpc_client_close(cl);
	if (rc) {
		fprintf(stderr, "cairnctl: %s: no valid answer from %s: %s\n", method, a->addr,
		        cairn_strerror(rc));
		return rc == -CAIRN_ERR_TIMEDOUT ? EXIT_FAILED : EXIT_UNREACH;
	}
	err = json_object_get(resp, "error");
	if (err) {
		msg = json_string_value(json_object_get(err, "message"));
		if (a->json)
			cairn_json_print(stdout, err, true);
		fprintf(stderr, "cairnctl: %s failed: %s (code %lld)\n", method,
		        msg ? msg : "unknown error",
		        (long long)json_integer_value(json_object_get(err, "code")));
		json_decref(resp);
		return EXIT_FAILED;
	}
	res = json_object_get(resp, "result");
	*result = json_incref(res);
	json_decref(resp);
	return *result ? EXIT_OK : EXIT_FAILED;
}

static const char *
jstr(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

static void
print_ranks(const json_t *res)
{
	const json_t *ranks = json_object_get(res, "ranks"), *r;
	char pid[16];
	size_t i;

	printf("System %s, uuid %s\n", jstr(res, "system", "?"), jstr(res, "uuid", "-"));
	if (!json_is_true(json_object_get(res, "formatted")))
		printf("Storage is not formatted: run `cairnctl storage format`.\n");
	printf("%-5s %-9s %-8s %-7s %-8s %-10s %s\n", "Rank", "State", "PID", "Targets", "Restarts",
	       "Last exit", "URI");
	json_array_foreach(ranks, i, r)
	{
		json_t *p = json_object_get(r, "pid");

		if (json_is_integer(p))
			snprintf(pid, sizeof(pid), "%lld", (long long)json_integer_value(p));
		else
			snprintf(pid, sizeof(pid), "-");
		printf("%-5lld %-9s %-8s %-7lld %-8lld %-10s %s\n",
		       (long long)json_integer_value(json_object_get(r, "rank")),
		       jstr(r, "state", "?"), pid,
		       (long long)json_integer_value(json_object_get(r, "targets")),
		       (long long)json_integer_value(json_object_get(r, "restarts")),
		       jstr(r, "last_exit", "-"),
		       jstr(r, "uri", "-")[0] ? jstr(r, "uri", "-") : "-");
	}
}

static const char *
fsize(const json_t *v, char *buf, size_t len)
{
	if (!json_is_integer(v))
		return "-";
	cairn_format_size((uint64_t)json_integer_value(v), buf, len);
	return buf;
}

static void
print_storage(const json_t *res)
{
	const json_t *engines = json_object_get(res, "engines"), *e, *t;
	char a[24], b[24];
	size_t i, k;

	printf("System %s\n", jstr(res, "system", "?"));
	json_array_foreach(engines, i, e)
	{
		printf("Engine %lld: %s\n",
		       (long long)json_integer_value(json_object_get(e, "engine")),
		       jstr(e, "dir", "?"));
		if (json_is_true(json_object_get(e, "formatted")))
			printf("  formatted: rank %lld, system %s, uuid %s\n",
			       (long long)json_integer_value(json_object_get(e, "rank")),
			       jstr(e, "system", "?"), jstr(e, "system_uuid", "?"));
		else if (json_object_get(e, "error"))
			printf("  unreadable superblock: %s\n", jstr(e, "error", "?"));
		else
			printf("  not formatted\n");
		printf("  file system: %s free of %s\n",
		       fsize(json_object_get(e, "fs_free"), a, sizeof(a)),
		       fsize(json_object_get(e, "fs_total"), b, sizeof(b)));
		json_array_foreach(json_object_get(e, "targets"), k, t)
		{
			char c[32], d[32];

			printf("  target %lld: %s%s%s", (long long)json_integer_value(
			                                      json_object_get(t, "target")),
			       jstr(t, "path", "?"), json_object_get(t, "device") ? " -> " : "",
			       jstr(t, "device", ""));
			if (json_object_get(t, "error")) {
				printf(", error: %s\n", jstr(t, "error", "?"));
				continue;
			}
			printf(", size %s, used by pools %s, free %s (largest extent %s)\n",
			       fsize(json_object_get(t, "size"), a, sizeof(a)),
			       fsize(json_object_get(t, "used"), b, sizeof(b)),
			       fsize(json_object_get(t, "free"), c, sizeof(c)),
			       fsize(json_object_get(t, "largest_free"), d, sizeof(d)));
			if (json_object_get(t, "warning"))
				printf("    warning: %s\n", jstr(t, "warning", "?"));
		}
	}
}

/* Did every rank in the result reach state? */
static bool
all_in_state(const json_t *res, const char *state)
{
	const json_t *r;
	size_t i;

	json_array_foreach(json_object_get(res, "ranks"), i,
	                   r) if (strcmp(jstr(r, "state", ""), state) != 0) return false;
	return true;
}

static int
cmd_system(const struct ctl_args *a, const char *sub)
{
	json_t *params = json_object(), *res = NULL;
	char method[32];
	int rc;

	if (strcmp(sub, "query") && strcmp(sub, "stop") && strcmp(sub, "start")) {
		fprintf(stderr, "cairnctl: unknown command 'system %s' (query, stop, start)\n",
		        sub);
		json_decref(params);
		return EXIT_USAGE;
	}
	if (a->force && strcmp(sub, "stop") != 0) {
		fprintf(stderr, "cairnctl: --force only applies to `system stop`\n");
		json_decref(params);
		return EXIT_USAGE;
	}
	if (a->ranks)
		json_object_set(params, "ranks", a->ranks);
	if (a->force)
		json_object_set_new(params, "force", json_true());
	snprintf(method, sizeof(method), "system_%s", sub);
	rc = call(a, method, params, &res);
	json_decref(params);
	if (rc)
		return rc;
	if (a->json)
		cairn_json_print(stdout, res, true);
	else
		print_ranks(res);
	if (strcmp(sub, "stop") == 0 && !all_in_state(res, "stopped")) {
		fprintf(stderr, "cairnctl: some ranks did not stop; see their state above\n");
		rc = EXIT_FAILED;
	} else if (strcmp(sub, "start") == 0 && !all_in_state(res, "joined")) {
		fprintf(stderr, "cairnctl: some ranks did not join; check the engine logs, "
		                "then retry `cairnctl system start`\n");
		rc = EXIT_FAILED;
	}
	json_decref(res);
	return rc;
}

static int
cmd_storage(const struct ctl_args *a, const char *sub)
{
	json_t *params = json_object(), *res = NULL;
	int rc;

	if (strcmp(sub, "format") && strcmp(sub, "query")) {
		fprintf(stderr, "cairnctl: unknown command 'storage %s' (format, query)\n", sub);
		json_decref(params);
		return EXIT_USAGE;
	}
	if (a->ranks || (a->force && strcmp(sub, "format"))) {
		fprintf(stderr, "cairnctl: `storage %s` takes %s\n", sub,
		        strcmp(sub, "format") ? "no options" : "only --force");
		json_decref(params);
		return EXIT_USAGE;
	}
	if (a->force)
		json_object_set_new(params, "force", json_true());
	rc = call(a, strcmp(sub, "format") ? "storage_query" : "storage_format", params, &res);
	json_decref(params);
	if (rc)
		return rc;
	if (a->json) {
		cairn_json_print(stdout, res, true);
	} else {
		if (strcmp(sub, "format") == 0)
			printf("Storage formatted (system uuid %s); engines are starting.\n",
			       jstr(res, "system_uuid", "?"));
		print_storage(res);
	}
	json_decref(res);
	return EXIT_OK;
}

/* One line per rank of the pool (pool query/create/list from a multi-engine service). */
static void
print_pool_ranks(const json_t *p)
{
	const json_t *r;
	char a[32], b[32], c[32];
	size_t i;

	json_array_foreach(json_object_get(p, "ranks"), i, r) {
		if (!json_is_object(r))
			continue;
		if (json_object_get(r, "error")) {
			printf("  rank %-4lld targets %lld  %s  (%s)\n",
			       (long long)json_integer_value(json_object_get(r, "rank")),
			       (long long)json_integer_value(json_object_get(r, "targets")),
			       jstr(r, "state", "?"), jstr(r, "error", "?"));
			continue;
		}
		printf("  rank %-4lld targets %lld  %s  data %s  free %s  used %s\n",
		       (long long)json_integer_value(json_object_get(r, "rank")),
		       (long long)json_integer_value(json_object_get(r, "targets")),
		       jstr(r, "state", "?"), fsize(json_object_get(r, "total"), a, sizeof(a)),
		       fsize(json_object_get(r, "free"), b, sizeof(b)),
		       fsize(json_object_get(r, "used"), c, sizeof(c)));
	}
}

static void
print_pool(const json_t *p)
{
	char a[32], b[32], c[32];

	/* "data": the value space of all shards (a shard's WAL, checkpoints and index
	 * regions come out of size/target) */
	printf("%-16s %s  targets %lld  size/target %s  data %s  free %s  map v%lld  "
	       "connections %lld\n",
	       jstr(p, "label", "?"), jstr(p, "uuid", "?"),
	       (long long)json_integer_value(json_object_get(p, "targets")),
	       fsize(json_object_get(p, "size_per_target"), a, sizeof(a)),
	       fsize(json_object_get(p, "total"), b, sizeof(b)),
	       fsize(json_object_get(p, "free"), c, sizeof(c)),
	       (long long)json_integer_value(json_object_get(p, "map_version")),
	       (long long)json_integer_value(json_object_get(p, "connections")));
	print_pool_ranks(p);
	{
		const json_t *t;
		size_t k;

		/* pool query: the space of each target of the service rank */
		json_array_foreach(json_object_get(p, "target_space"), k, t)
			printf("  rank 0 target %lld: size %s, used by pools %s, free %s\n",
			       (long long)json_integer_value(json_object_get(t, "target")),
			       fsize(json_object_get(t, "size"), a, sizeof(a)),
			       fsize(json_object_get(t, "used"), b, sizeof(b)),
			       fsize(json_object_get(t, "free"), c, sizeof(c)));
	}
}

static int
cmd_pool(const struct ctl_args *a, const char *sub, const char *pool)
{
	json_t *params = json_object(), *res = NULL, *p;
	const char *method;
	size_t i;
	int rc;

	if (strcmp(sub, "create") == 0) {
		if (pool || a->size == NULL || a->label == NULL) {
			fprintf(stderr, "cairnctl: usage: pool create -z SIZE -l LABEL\n");
			json_decref(params);
			return EXIT_USAGE;
		}
		json_object_set_new(params, "label", json_string(a->label));
		json_object_set_new(params, "size", json_string(a->size));
		if (a->user)
			json_object_set_new(params, "user", json_string(a->user));
		if (a->group)
			json_object_set_new(params, "group", json_string(a->group));
		if (a->ranks)
			json_object_set_new(params, "ranks", json_deep_copy(a->ranks));
		method = "pool_create";
	} else if (strcmp(sub, "list") == 0) {
		if (pool) {
			fprintf(stderr, "cairnctl: `pool list` takes no argument\n");
			json_decref(params);
			return EXIT_USAGE;
		}
		method = "pool_list";
	} else if (strcmp(sub, "query") == 0 || strcmp(sub, "destroy") == 0 ||
	           strcmp(sub, "map-bump") == 0) {
		if (pool == NULL) {
			fprintf(stderr, "cairnctl: usage: pool %s POOL (label or uuid)\n", sub);
			json_decref(params);
			return EXIT_USAGE;
		}
		json_object_set_new(params, "pool", json_string(pool));
		if (a->force && strcmp(sub, "destroy") == 0)
			json_object_set_new(params, "force", json_true());
		method = strcmp(sub, "query") == 0      ? "pool_query"
		         : strcmp(sub, "map-bump") == 0 ? "pool_map_bump"
		                                        : "pool_destroy";
	} else {
		fprintf(stderr, "cairnctl: unknown command 'pool %s' (create, list, query, "
		                "destroy, map-bump)\n", sub);
		json_decref(params);
		return EXIT_USAGE;
	}
	rc = call(a, method, params, &res);
	json_decref(params);
	if (rc)
		return rc;
	if (a->json) {
		cairn_json_print(stdout, res, true);
	} else if (strcmp(sub, "list") == 0) {
		if (json_array_size(json_object_get(res, "pools")) == 0)
			printf("No pools (create one with `cairnctl pool create -z 1G -l NAME`).\n");
		json_array_foreach(json_object_get(res, "pools"), i, p)
			print_pool(p);
	} else if (strcmp(sub, "destroy") == 0) {
		printf("Pool %s destroyed.\n", pool);
	} else {
		if (strcmp(sub, "create") == 0)
			printf("Pool created.\n");
		print_pool(res);
	}
	json_decref(res);
	return EXIT_OK;
}

/* Read ACEs from a file: one per line, blank lines and '#' comments ignored. */
static int
read_acl_file(const char *path, json_t *entries)
{
	char line[512];
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		fprintf(stderr, "cairnctl: --acl-file %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "cairnctl: %s:%u: line too long\n", path, lineno);
			fclose(f);
			return EXIT_USAGE;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' ||
		                   end[-1] == '\t'))
			*--end = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		json_array_append_new(entries, json_string(p));
	}
	fclose(f);
	if (json_array_size(entries) == 0) {
		fprintf(stderr, "cairnctl: --acl-file %s: no entries\n", path);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static void
print_acl(const json_t *acl)
{
	const json_t *e;
	size_t i;

	printf("# Owner: %s\n# Owner Group: %s\n# Entries:\n", jstr(acl, "owner", "?"),
	       jstr(acl, "group", "?"));
	json_array_foreach(json_object_get(acl, "entries"), i, e)
		printf("%s\n", json_string_value(e) ? json_string_value(e) : "?");
}

/* pool get-prop|set-prop|get-acl|update-acl|delete-acl POOL [NAME:VALUE...] */
static int
cmd_pool_prop(const struct ctl_args *a, const char *sub, const char *pool, char **rest,
              int nrest)
{
	json_t *params = json_object(), *res = NULL, *entries;
	const char *method;
	bool acl_out = true;
	char a1[32];
	int i, rc;

	json_object_set_new(params, "pool", json_string(pool));
	if (strcmp(sub, "get-prop") == 0 || strcmp(sub, "get-acl") == 0) {
		if (nrest) {
			fprintf(stderr, "cairnctl: usage: pool %s POOL\n", sub);
			json_decref(params);
			return EXIT_USAGE;
		}
		method = sub[4] == 'p' ? "pool_get_prop" : "pool_get_acl";
		acl_out = sub[4] == 'a';
	} else if (strcmp(sub, "set-prop") == 0) {
		acl_out = false;
		method = "pool_set_prop";
		for (i = 0; i < nrest; i++) {
			char *colon = strchr(rest[i], ':');
			static const char *const names[] = {"label", "owner", "group"};
			size_t k;

			for (k = 0; colon && k < 3; k++)
				if ((size_t)(colon - rest[i]) == strlen(names[k]) &&
				    strncmp(rest[i], names[k], strlen(names[k])) == 0)
					break;
			if (colon == NULL || k == 3 || colon[1] == '\0') {
				fprintf(stderr, "cairnctl: set-prop '%s': expected label:NEW, "
				        "owner:USER or group:GROUP\n", rest[i]);
				json_decref(params);
				return EXIT_USAGE;
			}
			json_object_set_new(params, names[k], json_string(colon + 1));
		}
		if (nrest == 0) {
			fprintf(stderr, "cairnctl: usage: pool set-prop POOL label:NEW|owner:USER|"
			                "group:GROUP...\n");
			json_decref(params);
			return EXIT_USAGE;
		}
	} else if (strcmp(sub, "update-acl") == 0) {
		method = "pool_update_acl";
		entries = a->entries ? json_deep_copy(a->entries) : json_array();
		if (a->acl_file && (rc = read_acl_file(a->acl_file, entries)) != EXIT_OK) {
			json_decref(entries);
			json_decref(params);
			return rc;
		}
		if (nrest || json_array_size(entries) == 0) {
			fprintf(stderr, "cairnctl: usage: pool update-acl POOL -e ACE [-e ACE...] | "
			                "--acl-file FILE\n");
			json_decref(entries);
			json_decref(params);
			return EXIT_USAGE;
		}
		json_object_set_new(params, "entries", entries);
	} else if (strcmp(sub, "delete-acl") == 0) {
		method = "pool_delete_acl";
		if (nrest || a->principal == NULL) {
			fprintf(stderr, "cairnctl: usage: pool delete-acl POOL -p PRINCIPAL\n");
			json_decref(params);
			return EXIT_USAGE;
		}
		json_object_set_new(params, "principal", json_string(a->principal));
	} else {
		fprintf(stderr, "cairnctl: unknown command 'pool %s' (create, list, query, destroy, "
		                "get-prop, set-prop, get-acl, update-acl, delete-acl)\n", sub);
		json_decref(params);
		return EXIT_USAGE;
	}
	rc = call(a, method, params, &res);
	json_decref(params);
	if (rc)
		return rc;
	if (a->json) {
		cairn_json_print(stdout, res, true);
	} else if (acl_out) {
		print_acl(res);
	} else {
		printf("Pool %s properties:\n", jstr(res, "label", "?"));
		printf("  %-16s %s\n", "label", jstr(res, "label", "?"));
		printf("  %-16s %s\n", "uuid", jstr(res, "uuid", "?"));
		printf("  %-16s %s\n", "owner", jstr(res, "owner", "?"));
		printf("  %-16s %s\n", "group", jstr(res, "group", "?"));
		printf("  %-16s %s\n", "size_per_target",
		       fsize(json_object_get(res, "size_per_target"), a1, sizeof(a1)));
		printf("  %-16s %lld\n", "targets",
		       (long long)json_integer_value(json_object_get(res, "targets")));
		printf("  %-16s %lld\n", "map_version",
		       (long long)json_integer_value(json_object_get(res, "map_version")));
		printf("  acl:\n");
		{
			const json_t *e;
			size_t k;

			json_array_foreach(json_object_get(json_object_get(res, "acl"), "entries"),
			                   k, e)
				printf("    %s\n", json_string_value(e) ? json_string_value(e) : "?");
		}
	}
	json_decref(res);
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
	        {"socket", required_argument, NULL, 'o'}, {"host", required_argument, NULL, 'H'},
	        {"ranks", required_argument, NULL, 'r'},  {"force", no_argument, NULL, 'f'},
	        {"json", no_argument, NULL, 'j'},         {"timeout", required_argument, NULL, 't'},
	        {"help", no_argument, NULL, 'h'},         {"size", required_argument, NULL, 'z'},
	        {"label", required_argument, NULL, 'l'},  {"user", required_argument, NULL, 'U'},
	        {"group", required_argument, NULL, 'G'},  {"entry", required_argument, NULL, 'e'},
	        {"acl-file", required_argument, NULL, 'A'},
	        {"principal", required_argument, NULL, 'p'}, {NULL, 0, NULL, 0},
	};
	struct ctl_args a = {.timeout_ms = 60000};
	static char hostbuf[128];
	uint32_t secs;
	int c, rc;

	a.addr = getenv("CAIRN_SERVER_SOCKET");
	if (a.addr == NULL)
		a.addr = DEFAULT_SOCK;
	while ((c = getopt_long(argc, argv, "o:r:fjt:hz:l:e:p:", lopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			a.addr = optarg;
			break;
		case 'H': {
			/* The API listens on 127.0.0.1 only: accept that or "localhost". */
			const char *colon = strchr(optarg, ':');
			size_t hlen = colon ? (size_t)(colon - optarg) : strlen(optarg);
			uint32_t port = DEFAULT_PORT;

			if (!((hlen == 9 && strncmp(optarg, "127.0.0.1", 9) == 0) ||
			      (hlen == 9 && strncmp(optarg, "localhost", 9) == 0)) ||
			    (colon && cairn_parse_u32(colon + 1, 1, 65535, &port, NULL, 0))) {
				fprintf(stderr,
				        "cairnctl: --host '%s': expected 127.0.0.1[:PORT] or "
				        "localhost[:PORT] (the API listens on loopback only)\n",
				        optarg);
				return EXIT_USAGE;
			}
			snprintf(hostbuf, sizeof(hostbuf), "127.0.0.1:%u", port);
			a.addr = hostbuf;
			break;
		}
		case 'r':
			json_decref(a.ranks);
			a.ranks = NULL;
			if (parse_ranks(optarg, &a.ranks)) {
				fprintf(stderr,
				        "cairnctl: --ranks '%s': expected ranks like 0,2-3\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			a.force = true;
			break;
		case 'z':
			a.size = optarg;
			break;
		case 'l':
			a.label = optarg;
			break;
		case 'U':
			a.user = optarg;
			break;
		case 'G':
			a.group = optarg;
			break;
		case 'e':
			if (a.entries == NULL)
				a.entries = json_array();
			json_array_append_new(a.entries, json_string(optarg));
			break;
		case 'A':
			a.acl_file = optarg;
			break;
		case 'p':
			a.principal = optarg;
			break;
		case 'j':
			a.json = true;
			break;
		case 't':
			if (cairn_parse_u32(optarg, 1, 3600, &secs, NULL, 0)) {
				fprintf(stderr, "cairnctl: --timeout: expected 1..3600 seconds\n");
				return EXIT_USAGE;
			}
			a.timeout_ms = secs * 1000;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind >= 3 && strcmp(argv[optind], "pool") == 0 &&
	    (strstr(argv[optind + 1], "-prop") || strstr(argv[optind + 1], "-acl"))) {
		rc = cmd_pool_prop(&a, argv[optind + 1], argv[optind + 2], argv + optind + 3,
		                   argc - optind - 3);
		json_decref(a.ranks);
		json_decref(a.entries);
		return rc;
	}
	if (argc - optind >= 2 && strcmp(argv[optind], "pool") == 0 && argc - optind <= 3) {
		rc = cmd_pool(&a, argv[optind + 1], argc - optind == 3 ? argv[optind + 2] : NULL);
		json_decref(a.ranks);
		json_decref(a.entries);
		return rc;
	}
	if (argc - optind != 2) {
		fprintf(stderr, "cairnctl: expected a command such as `system query` or "
		                "`storage format`; see --help\n");
		json_decref(a.ranks);
		json_decref(a.entries);
		return EXIT_USAGE;
	}
	if (strcmp(argv[optind], "system") == 0) {
		rc = cmd_system(&a, argv[optind + 1]);
	} else if (strcmp(argv[optind], "storage") == 0) {
		rc = cmd_storage(&a, argv[optind + 1]);
	} else {
		fprintf(stderr, "cairnctl: unknown command '%s' (system, storage, pool); see --help\n",
		        argv[optind]);
		rc = EXIT_USAGE;
	}
	json_decref(a.ranks);
	json_decref(a.entries);
	return rc;
}
