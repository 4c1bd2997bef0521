/*
 * engine-ping: functional-test client that sends the mgmt protocol's PING RPC to every
 * RPC context of an engine (rank R at URI, tags 0..N-1) from a plain-thread network
 * context, and checks each answer names the right rank, tag and xstream role (tag 0 on
 * the system xstream, the others on target xstreams).
 *   engine-ping URI RANK NR_TAGS      exit 0 when every context answered correctly
 */
#include <stdio.h>
#include <stdlib.h>

#include <cairn/errno.h>

#include "common/units.h"
#include "net/net.h"
#include "rt/rt.h"

#include "engine_internal.h"

int
main(int argc, char **argv)
{
	struct cairn_net_ctx_opts o;
	struct cairn_net_group *grp;
	struct cairn_net_ctx *ctx;
	struct engine_ping_out *out;
	struct cairn_rpc *rpc;
	uint32_t rank, n, tag;
	int rc, bad = 0;

	if (argc != 4 || cairn_parse_u32(argv[2], 0, 1u << 20, &rank, NULL, 0) ||
	    cairn_parse_u32(argv[3], 1, 65, &n, NULL, 0)) {
		fprintf(stderr, "usage: engine-ping URI RANK NR_TAGS\n");
		return 2;
	}
	if (cairn_net_proto_register(&g_engine_mgmt_proto) ||
	    cairn_net_group_create("cairn", &grp) || cairn_net_group_rank_add(grp, rank, argv[1])) {
		fprintf(stderr, "engine-ping: bad URI %s\n", argv[1]);
		return 2;
	}
	cairn_net_ctx_opts_default(&o);
	o.group = grp;
	o.rank = CAIRN_RANK_NONE;
	rc = cairn_net_ctx_create(&o, &ctx);
	if (rc) {
		fprintf(stderr, "engine-ping: context: %s\n", cairn_strerror(rc));
		return 1;
	}
	for (tag = 0; tag < n; tag++) {
		struct cairn_ep ep = {.rank = rank, .tag = (uint16_t)tag};

		rc = cairn_rpc_create(ctx, ep, CAIRN_NET_OPC(ENGINE_PROTO_MGMT, MGMT_RPC_PING),
		                      &rpc);
		if (rc) {
			fprintf(stderr, "engine-ping: create: %s\n", cairn_strerror(rc));
			bad++;
			continue;
		}
		cairn_rpc_set_timeout(rpc, 3000000);
		rc = cairn_rpc_send_wait(rpc);
		out = cairn_rpc_out(rpc);
		if (rc) {
			fprintf(stderr, "engine-ping: tag %u: %s\n", tag, cairn_strerror(rc));
			bad++;
		} else if (out->rank != rank || out->tag != tag ||
		           out->xs_role != (tag == 0 ? CAIRN_XS_SYSTEM : CAIRN_XS_MAIN)) {
			fprintf(stderr, "engine-ping: tag %u answered rank %u tag %u role %u\n",
			        tag, out->rank, out->tag, out->xs_role);
			bad++;
		} else {
			printf("rank %u tag %u: ok (%s xstream)\n", rank, tag,
			       tag == 0 ? "system" : "target");
		}
		cairn_rpc_decref(rpc);
	}
	cairn_net_ctx_destroy(ctx);
	cairn_net_group_destroy(grp);
	cairn_net_proto_unregister(ENGINE_PROTO_MGMT);
	return bad ? 1 : 0;
}
