/*
 * cairn-rpc: command-line JSON-RPC client for cairn-tgt (the role of SPDK's rpc.py).
 * One sub-command per method (table in rpc_cmds.c), SPDK-compatible arguments, JSON
 * output, clear errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#include "jsonrpc/jsonrpc.h"
#include "jsonrpc/jsonrpc_client.h"
#include "rpc_cli.h"

static const char *g_server = CAIRN_JSONRPC_DEFAULT_SOCK;
static unsigned g_timeout_ms = 60000;
static bool g_verbose;
static bool g_dry_run;
static struct cairn_jsonrpc_client *g_cl;

static void
usage(FILE *f)
{
	unsigned i;

	fprintf(f,
		"Usage: cairn-rpc [-s SOCKET|ADDR] [-p PORT] [-t SECONDS] [-v] COMMAND [args]\n"
		"JSON-RPC client for cairn-tgt. Results are printed as JSON on stdout.\n\n"
		"  -s, --server ADDR   Unix socket path or IPv4 address (default %s)\n"
		"  -p, --port PORT     TCP port, when -s is an IPv4 address\n"
		"  -t, --timeout SEC   reply timeout (default 60)\n"
		"  -v, --verbose       print the request and the raw reply on stderr\n"
		"      --dry-run       print the request(s) on stdout and send nothing\n"
		"  -h, --help          this help; COMMAND --help for a command's arguments\n\n"
		"Commands:\n", CAIRN_JSONRPC_DEFAULT_SOCK);
	for (i = 0; i < g_nr_rpc_cmds; i++)
		fprintf(f, "  %-30s %s\n", g_rpc_cmds[i].name, g_rpc_cmds[i].help);
}

static void
cmd_usage(FILE *f, const struct rpc_cmd *c)
{
	const struct rpc_arg *a;
	const char *tn[] = { "STR", "INT", "UINT", "NUM", "" };

	fprintf(f, "Usage: cairn-rpc %s", c->name);
	for (a = c->args; a->name; a++) {
		if (a->positional)
			fprintf(f, a->optional ? " [%s]" : " %s", a->name);
	}
	for (a = c->args; a->name; a++) {
		if (!a->positional)
			fprintf(f, " [--%s%s%s]", a->name, a->type == RA_FLAG ? "" : " ",
				tn[a->type]);
	}
	fprintf(f, "\n%s\n", c->help);
	if (c->args[0].name)
		fprintf(f, "\n");
	for (a = c->args; a->name; a++) {
		char flag[64];

		if (a->positional)
			snprintf(flag, sizeof(flag), "%s", a->name);
		else if (a->short_opt)
			snprintf(flag, sizeof(flag), "-%c, --%s", a->short_opt, a->name);
		else
			snprintf(flag, sizeof(flag), "    --%s", a->name);
		fprintf(f, "  %-28s %s%s\n", flag, a->help,
			!a->positional && a->required ? " (required)" : "");
	}
	fprintf(f, "\nSends method \"%s\".\n", c->method ? c->method : c->name);
}

/* ------------------------------------------------------------------ connection */

static int
connect_server(void)
{
	int rc;

	if (g_cl)
		return 0;
	rc = cairn_jsonrpc_client_connect(g_server, 0, &g_cl);
	if (rc == 0)
		return 0;
	fprintf(stderr, "cairn-rpc: cannot connect to %s: %s\n", g_server,
		rc == -CAIRN_ERR_INVAL ? "bad address (a socket path, or IPv4 with -p PORT)" :
		cairn_strerror(rc));
	if (rc == -ENOENT || rc == -ECONNREFUSED)
		fprintf(stderr, "Is cairn-tgt running? Start it with:\n"
				"  cairn-tgt -r %s\n"
				"or point cairn-rpc at its socket with -s PATH.\n", g_server);
	return -1;
}

/* Call and return the result (new ref); errors printed. 0 / -1. */
int
rpc_call(const char *method, json_t *params, json_t **result)
{
	json_t *resp = NULL, *err;
	char *text;
	int rc;

	if (g_dry_run || g_verbose) {
		json_t *req = json_pack("{s:s, s:s, s:i}", "jsonrpc", "2.0", "method", method,
					"id", 1);

		if (params)
			json_object_set(req, "params", params);
		text = json_dumps(req, JSON_INDENT(2));
		if (g_dry_run)
			printf("%s\n", text ? text : "?");
		else
			fprintf(stderr, "request:\n%s\n", text ? text : "?");
		free(text);
		json_decref(req);
		if (g_dry_run) {
			*result = json_null();
			return 0;
		}
	}
	if (connect_server())
		return -1;
	rc = cairn_jsonrpc_client_call(g_cl, method, params, g_timeout_ms, &resp);
	if (rc) {
		fprintf(stderr, "cairn-rpc: %s: %s\n", method,
			rc == -CAIRN_ERR_TIMEDOUT ? "no reply (timed out; raise -t)" :
			rc == -ECONNRESET ? "the server closed the connection" :
			cairn_strerror(rc));
		return -1;
	}
	if (g_verbose) {
		text = json_dumps(resp, JSON_INDENT(2));
		fprintf(stderr, "response:\n%s\n", text ? text : "?");
		free(text);
	}
	err = json_object_get(resp, "error");
	if (err) {
		text = json_dumps(err, JSON_INDENT(2));
		fprintf(stderr, "cairn-rpc: %s failed: %s\n%s\n", method,
			json_string_value(json_object_get(err, "message")) ?: "?",
			text ? text : "");
		free(text);
		json_decref(resp);
		return -1;
	}
	*result = json_incref(json_object_get(resp, "result"));
	json_decref(resp);
	if (*result == NULL) {
		fprintf(stderr, "cairn-rpc: %s: reply has neither result nor error\n", method);
		return -1;
	}
	return 0;
}

static int
print_json(FILE *f, json_t *v, int indent)
{
	char *text;

	if (json_is_string(v)) { /* plain strings print bare, like rpc.py */
		fprintf(f, "%s\n", json_string_value(v));
		return 0;
	}
	text = json_dumps(v, JSON_ENCODE_ANY | (indent > 0 ? JSON_INDENT(indent) : JSON_COMPACT));
	if (text == NULL)
		return -1;
	fprintf(f, "%s\n", text);
	free(text);
	return 0;
}

int
rpc_call_print(const char *method, json_t *params, const char *out_file, int indent)
{
	json_t *result = NULL;
	FILE *f = stdout;
	int rc;

	if (rpc_call(method, params, &result))
		return -1;
	if (g_dry_run) {
		json_decref(result);
		return 0;
	}
	if (out_file) {
		f = fopen(out_file, "w");
		if (f == NULL) {
			fprintf(stderr, "cairn-rpc: cannot write %s: %s\n", out_file,
				strerror(errno));
			json_decref(result);
			return -1;
		}
	}
	rc = print_json(f, result, indent);
	if (f != stdout && fclose(f) != 0)
		rc = -1;
	json_decref(result);
	return rc;
}

/* ------------------------------------------------------------------ argument parsing */

static int
parse_value(const struct rpc_cmd *c, const struct rpc_arg *a, const char *s, json_t *params)
{
	json_t *v = NULL;
	char *end;

	errno = 0;
	switch (a->type) {
	case RA_STR:
		v = json_string(s);
		break;
	case RA_INT: {
		long long x = strtoll(s, &end, 0);

		if (errno == 0 && end != s && *end == '\0')
			v = json_integer(x);
		break;
	}
	case RA_UINT: {
		unsigned long long x;

		if (s[0] == '-')
			break;
		x = strtoull(s, &end, 0);
		if (errno == 0 && end != s && *end == '\0' && x <= (unsigned long long)INT64_MAX)
			v = json_integer((json_int_t)x);
		break;
	}
	case RA_NUM: {
		double x = strtod(s, &end);

		if (errno == 0 && end != s && *end == '\0')
			v = json_real(x);
		break;
	}
	case RA_FLAG:
		v = json_true();
		break;
	}
	if (v == NULL) {
		fprintf(stderr, "cairn-rpc %s: %s: '%s' is not %s\n", c->name, a->name, s,
			a->type == RA_NUM ? "a number" : a->type == RA_UINT ?
			"a non-negative integer" : "an integer");
		return -1;
	}
	json_object_set_new(params, a->key, v);
	return 0;
}

static const struct rpc_arg *
find_opt(const struct rpc_cmd *c, const char *arg)
{
	const struct rpc_arg *a;

	for (a = c->args; a->name; a++) {
		if (a->positional)
			continue;
		if (arg[1] == '-' && strcmp(arg + 2, a->name) == 0)
			return a;
		if (arg[1] != '-' && a->short_opt && arg[1] == a->short_opt && arg[2] == '\0')
			return a;
	}
	return NULL;
}

static bool
is_option(const char *s)
{
	/* "-5" is a negative number, not an option */
	return s[0] == '-' && s[1] != '\0' && !(s[1] >= '0' && s[1] <= '9');
}

static int
run_cmd(const struct rpc_cmd *c, int argc, char **argv)
{
	const struct rpc_arg *a, *pos = c->args;
	json_t *params = json_object();
	bool only_pos = false;
	int i, rc = -1;

	for (i = 0; i < argc; i++) {
		if (!only_pos && strcmp(argv[i], "--") == 0) {
			only_pos = true;
			continue;
		}
		if (!only_pos && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
			cmd_usage(stdout, c);
			rc = 0;
			goto out;
		}
		if (!only_pos && is_option(argv[i])) {
			a = find_opt(c, argv[i]);
			if (a == NULL) {
				fprintf(stderr, "cairn-rpc %s: unknown option %s (see cairn-rpc %s "
						"--help)\n", c->name, argv[i], c->name);
				goto out;
			}
			if (a->type == RA_FLAG) {
				json_object_set_new(params, a->key, json_true());
				continue;
			}
			if (i + 1 >= argc) {
				fprintf(stderr, "cairn-rpc %s: option %s needs a value\n", c->name,
					argv[i]);
				goto out;
			}
			if (parse_value(c, a, argv[++i], params))
				goto out;
			continue;
		}
		while (pos->name && !pos->positional)
			pos++;
		if (pos->name == NULL) {
			fprintf(stderr, "cairn-rpc %s: unexpected argument '%s' (see cairn-rpc %s "
					"--help)\n", c->name, argv[i], c->name);
			goto out;
		}
		if (parse_value(c, pos, argv[i], params))
			goto out;
		pos++;
	}
	for (a = c->args; a->name; a++) {
		if ((a->positional && !a->optional) || (!a->positional && a->required)) {
			if (json_object_get(params, a->key) == NULL) {
				fprintf(stderr, "cairn-rpc %s: missing %s%s (see cairn-rpc %s "
						"--help)\n", c->name, a->positional ? "" : "--",
					a->name, c->name);
				goto out;
			}
		}
	}
	if (c->build && c->build(c, params))
		goto out;
	if (c->run)
		rc = c->run(c, params);
	else
		rc = rpc_call_print(c->method ? c->method : c->name,
				    json_object_size(params) ? params : NULL, NULL, 2);
out:
	json_decref(params);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *port = NULL;
	static char addr[300];
	unsigned i;
	int ai, rc;
	char *end;

	for (ai = 1; ai < argc && is_option(argv[ai]); ai++) {
		const char *o = argv[ai];

		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(o, "-v") || !strcmp(o, "--verbose")) {
			g_verbose = true;
		} else if (!strcmp(o, "--dry-run")) {
			g_dry_run = true;
		} else if ((!strcmp(o, "-s") || !strcmp(o, "--server")) && ai + 1 < argc) {
			g_server = argv[++ai];
		} else if ((!strcmp(o, "-p") || !strcmp(o, "--port")) && ai + 1 < argc) {
			port = argv[++ai];
		} else if ((!strcmp(o, "-t") || !strcmp(o, "--timeout")) && ai + 1 < argc) {
			double t = strtod(argv[++ai], &end);

			if (*end || t <= 0 || t > 86400) {
				fprintf(stderr, "cairn-rpc: bad timeout '%s' (seconds)\n", argv[ai]);
				return 2;
			}
			g_timeout_ms = (unsigned)(t * 1000);
		} else {
			fprintf(stderr, "cairn-rpc: unknown or incomplete option %s\n", o);
			usage(stderr);
			return 2;
		}
	}
	if (port) {
		snprintf(addr, sizeof(addr), "%s:%s", g_server, port);
		g_server = addr;
	}
	if (ai >= argc) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < g_nr_rpc_cmds; i++) {
		if (strcmp(g_rpc_cmds[i].name, argv[ai]) == 0)
			break;
	}
	if (i == g_nr_rpc_cmds) {
		fprintf(stderr, "cairn-rpc: unknown command '%s' (cairn-rpc --help lists them; "
				"'cairn-rpc call METHOD [JSON]' sends any method)\n", argv[ai]);
		return 2;
	}
	rc = run_cmd(&g_rpc_cmds[i], argc - ai - 1, argv + ai + 1);
	cairn_jsonrpc_client_close(g_cl);
	return rc == 0 ? 0 : 1;
}
