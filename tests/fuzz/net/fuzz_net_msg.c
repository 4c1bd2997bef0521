/*
 * libFuzzer target for the message decoder: the input is fed as a byte stream into a
 * real server context (through a socketpair adopted as a connection), so the framing
 * parser, header checks, request dispatch and body codecs (strings, bytes, iovecs,
 * arrays, bulk descriptors, collective prefixes) all see it. When the first byte is
 * odd, header CRCs are fixed up so the fuzzer gets past the CRC gate. Seeds: corpus/.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cairn/errno.h"
#include "common/log.h"
#include "net/net.h"
#include "net/wire.h"
#include "../../../src/net/net_internal.h"

struct fz_in {
	uint64_t a;
	const char *s;
	const void *b;
	uint32_t blen;
	struct iovec iov[4];
	unsigned niov;
	struct cairn_bulk_desc bd;
};

static int
fz_dec(struct cairn_dec *d, void *p)
{
	struct fz_in *in = p;
	uint32_t n, i, v;

	cairn_dec_u64(d, &in->a);
	cairn_dec_str(d, &in->s, 4096);
	cairn_dec_bytes(d, &in->b, &in->blen, 65536);
	cairn_dec_iovs(d, in->iov, 4, &in->niov);
	cairn_dec_array(d, &n, 4, 1024);
	for (i = 0; i < n; i++)
		cairn_dec_u32(d, &v);
	cairn_dec_bulk(d, &in->bd);
	return cairn_dec_rc(d);
}

static int
fz_out_enc(struct cairn_enc *e, const void *p)
{
	cairn_enc_u64(e, ((const struct fz_in *)p)->a);
	return cairn_enc_rc(e);
}

static void
fz_handler(struct cairn_rpc *rpc)
{
	struct fz_in *in = cairn_rpc_in(rpc);

	memcpy(cairn_rpc_out(rpc), in, sizeof(*in));
	cairn_rpc_reply(rpc);
}

static void
fz_oneway(struct cairn_rpc *rpc)
{
}

static const struct cairn_rpc_def g_defs[2] = {
        {.name = "fz",
         .in_size = sizeof(struct fz_in),
         .out_size = sizeof(struct fz_in),
         .in_dec = fz_dec,
         .out_enc = fz_out_enc,
         .handler = fz_handler},
        {.name = "fz1",
         .flags = CAIRN_RPC_ONEWAY,
         .in_size = sizeof(struct fz_in),
         .in_dec = fz_dec,
         .handler = fz_oneway},
};
static const struct cairn_proto g_proto = {
        .name = "fz", .base = 1, .version = 1, .count = 2, .rpcs = g_defs};

static struct cairn_net_group *g_grp;

static void
fixup(uint8_t *buf, size_t len)
{
	size_t off = 1;

	while (off + CAIRN_NET_HDR_SIZE <= len) {
		uint8_t *h = buf + off;
		uint32_t blen = cairn_get_le32(h + 40);

		cairn_put_le32(h, CAIRN_NET_MAGIC);
		h[4] = CAIRN_NET_WIRE_VERSION;
		cairn_put_le32(h + 44, cairn_net_crc32c(h, 44));
		off += CAIRN_NET_HDR_SIZE;
		if (blen > len - off)
			break;
		off += blen;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cairn_net_ctx_opts o;
	struct cairn_net_ctx *ctx;
	struct cairn_net_hdr h;
	uint8_t *buf, sink[4096];
	int sv[2], i;
	size_t off = 0;

	if (g_grp == NULL) {
		cairn_log_set_mask("FATAL");
		cairn_net_proto_register(&g_proto);
		cairn_net_group_create("fz", &g_grp);
	}
	if (size >= CAIRN_NET_HDR_SIZE)
		cairn_net_hdr_decode(data, 1u << 20, &h);
	buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	if (size && (buf[0] & 1))
		fixup(buf, size);
	cairn_net_ctx_opts_default(&o);
	o.group = g_grp;
	o.rank = 0;
	o.max_msg = 64 * 1024;
	o.listen_uri = NULL;
	o.rank = CAIRN_RANK_NONE;
	if (cairn_net_ctx_create(&o, &ctx) != 0)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
		abort();
	if (net_tcp_adopt(net_impl(ctx), sv[0]) != 0)
		abort();
	for (i = 0; off < size && i < 100000; i++) {
		ssize_t w = send(sv[1], buf + off, size - off, MSG_NOSIGNAL);

		if (w > 0)
			off += (size_t)w;
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			break; /* the server closed the connection (bad input) */
		cairn_net_progress(ctx);
		while (read(sv[1], sink, sizeof(sink)) > 0)
			;
	}
	shutdown(sv[1], SHUT_WR);
	for (i = 0; i < 4; i++) {
		cairn_net_progress(ctx);
		while (read(sv[1], sink, sizeof(sink)) > 0)
			;
	}
	cairn_net_ctx_destroy(ctx);
	close(sv[1]);
	free(buf);
	return 0;
}
