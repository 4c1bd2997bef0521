/*
 * The system a client tool attaches to (see sys_locate.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <cairn/errno.h>

#include "jsonrpc/jsonrpc_client.h"

#include "sys_locate.h"

int
tool_sys_locate(const char *prog, const char **sys, const char **sock, const char *def_sock,
                char *buf, size_t len)
{
	struct cairn_jsonrpc_client *cl;
	json_t *resp = NULL, *r;
	const char *uri, *state;
	size_t i;
	int rc;

	if (*sys)
		return 0;
	*sys = getenv("CAIRN_SYSTEM_URI");
	if (*sys)
		return 0;
	if (*sock == NULL)
		*sock = getenv("CAIRN_SERVER_SOCKET");
	if (*sock == NULL)
		*sock = def_sock;
	rc = cairn_jsonrpc_client_connect(*sock, 0, &cl);
	if (rc) {
		fprintf(stderr,
		        "%s: cannot find the system: no --sys, no $CAIRN_SYSTEM_URI, and "
		        "cairn-server is not reachable at %s (%s)\n",
		        prog, *sock, cairn_strerror(rc));
		return -1;
	}
	rc = cairn_jsonrpc_client_call(cl, "system_query", NULL, 10000, &resp);
	cairn_jsonrpc_client_close(cl);
	if (rc) {
		fprintf(stderr, "%s: system_query at %s: %s\n", prog, *sock, cairn_strerror(rc));
		return -1;
	}
	json_array_foreach(json_object_get(json_object_get(resp, "result"), "ranks"), i, r)
	{
		uri = json_string_value(json_object_get(r, "uri"));
		state = json_string_value(json_object_get(r, "state"));
		if (uri && uri[0] && json_integer_value(json_object_get(r, "rank")) == 0 &&
		    state && strcmp(state, "joined") == 0) {
			snprintf(buf, len, "%s", uri);
			*sys = buf;
			break;
		}
	}
	json_decref(resp);
	if (*sys == NULL) {
		fprintf(stderr, "%s: rank 0 is not running (see `cairnctl system query`)\n", prog);
		return -1;
	}
	return 0;
}
