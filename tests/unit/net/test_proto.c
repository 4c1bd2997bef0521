/*
 * Test protocol handlers (see test_proto.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "net/wire.h"
#include "test_proto.h"

struct cairn_rpc *g_tp_held[TP_MAX_HELD];
unsigned g_tp_nheld;
unsigned g_tp_max_held;
unsigned g_tp_oneway;
int g_tp_fail_rank = -1;
int g_tp_prefwd_fail_rank = -1;
unsigned g_tp_prefwd_calls;

static int
echo_in_enc(struct cairn_enc *e, const void *p)
{
	const struct tp_echo_in *in = p;

	cairn_enc_u64(e, in->seq);
	cairn_enc_bytes(e, in->data, in->len);
	return cairn_enc_rc(e);
}

static int
echo_in_dec(struct cairn_dec *d, void *p)
{
	struct tp_echo_in *in = p;

	cairn_dec_u64(d, &in->seq);
	cairn_dec_bytes(d, &in->data, &in->len, 0);
	return cairn_dec_rc(d);
}

static void
echo_handler(struct cairn_rpc *rpc)
{
	struct tp_echo_in *in = cairn_rpc_in(rpc);
	struct tp_echo_out *out = cairn_rpc_out(rpc);

	out->seq = in->seq;
	out->data = in->data;
	out->len = in->len;
	cairn_rpc_reply(rpc);
}

static void
hold_handler(struct cairn_rpc *rpc)
{
	if (g_tp_nheld == TP_MAX_HELD) {
		cairn_rpc_reply_err(rpc, -CAIRN_ERR_BUSY);
		return;
	}
	cairn_rpc_addref(rpc);
	g_tp_held[g_tp_nheld++] = rpc;
	if (g_tp_nheld > g_tp_max_held)
		g_tp_max_held = g_tp_nheld;
}

void
tp_release(unsigned i)
{
	struct cairn_rpc *rpc = g_tp_held[i];
	struct tp_echo_in *in = cairn_rpc_in(rpc);
	struct tp_echo_out *out = cairn_rpc_out(rpc);

	out->seq = in->seq;
	out->data = NULL;
	out->len = 0;
	cairn_rpc_reply(rpc);
	cairn_rpc_decref(rpc);
	g_tp_held[i] = g_tp_held[--g_tp_nheld];
}

void
tp_release_all(void)
{
	while (g_tp_nheld)
		tp_release(0);
}

static int
bulk_in_enc(struct cairn_enc *e, const void *p)
{
	const struct tp_bulk_in *in = p;

	cairn_enc_bulk(e, &in->src);
	cairn_enc_bulk(e, &in->dst);
	cairn_enc_u64(e, in->len);
	return cairn_enc_rc(e);
}

static int
bulk_in_dec(struct cairn_dec *d, void *p)
{
	struct tp_bulk_in *in = p;

	cairn_dec_bulk(d, &in->src);
	cairn_dec_bulk(d, &in->dst);
	cairn_dec_u64(d, &in->len);
	return cairn_dec_rc(d);
}

static int
bulk_out_enc(struct cairn_enc *e, const void *p)
{
	cairn_enc_u32(e, ((const struct tp_bulk_out *)p)->crc);
	return cairn_enc_rc(e);
}

static int
bulk_out_dec(struct cairn_dec *d, void *p)
{
	cairn_dec_u32(d, &((struct tp_bulk_out *)p)->crc);
	return cairn_dec_rc(d);
}

/* Asynchronous bulk handler: GET -> crc, +1 -> PUT -> reply. */
struct bulk_job {
	struct cairn_rpc *rpc;
	uint8_t *buf;
	struct cairn_bulk *local;
};

static void
bulk_job_end(struct bulk_job *j, int rc)
{
	if (rc)
		cairn_rpc_reply_err(j->rpc, rc);
	else
		cairn_rpc_reply(j->rpc);
	if (j->local)
		cairn_bulk_free(j->local);
	cairn_rpc_decref(j->rpc);
	free(j->buf);
	free(j);
}

static void
bulk_put_done(void *arg, int rc)
{
	bulk_job_end(arg, rc);
}

static void
bulk_get_done(void *arg, int rc)
{
	struct bulk_job *j = arg;
	struct tp_bulk_in *in = cairn_rpc_in(j->rpc);
	struct tp_bulk_out *out = cairn_rpc_out(j->rpc);
	uint64_t i;

	if (rc) {
		bulk_job_end(j, rc);
		return;
	}
	out->crc = cairn_net_crc32c(j->buf, in->len);
	for (i = 0; i < in->len; i++)
		j->buf[i]++;
	rc = cairn_bulk_transfer(j->rpc, CAIRN_BULK_PUT, &in->dst, 0, j->local, 0, in->len,
	                         bulk_put_done, j);
	if (rc)
		bulk_job_end(j, rc);
}

static void
bulk_handler(struct cairn_rpc *rpc)
{
	struct tp_bulk_in *in = cairn_rpc_in(rpc);
	struct bulk_job *j = calloc(1, sizeof(*j));
	struct iovec iov;
	int rc;

	if (j == NULL || in->len > (64u << 20)) {
		free(j);
		cairn_rpc_reply_err(rpc, -CAIRN_ERR_INVAL);
		return;
	}
	j->rpc = rpc;
	cairn_rpc_addref(rpc);
	j->buf = malloc(in->len ? in->len : 1);
	iov.iov_base = j->buf;
	iov.iov_len = in->len;
	rc = cairn_bulk_create(cairn_rpc_ctx(rpc), &iov, 1, CAIRN_BULK_RW, &j->local);
	if (rc == 0)
		rc = cairn_bulk_transfer(rpc, CAIRN_BULK_GET, &in->src, 0, j->local, 0, in->len,
		                         bulk_get_done, j);
	if (rc)
		bulk_job_end(j, rc);
}

/* Same in straight-line ULT style. */
static void
bulk_wait_handler(struct cairn_rpc *rpc)
{
	struct tp_bulk_in *in = cairn_rpc_in(rpc);
	struct tp_bulk_out *out = cairn_rpc_out(rpc);
	struct cairn_bulk *local = NULL;
	struct iovec iov;
	uint8_t *buf = malloc(in->len ? in->len : 1);
	uint64_t i;
	int rc;

	iov.iov_base = buf;
	iov.iov_len = in->len;
	rc = cairn_bulk_create(cairn_rpc_ctx(rpc), &iov, 1, CAIRN_BULK_RW, &local);
	if (rc == 0)
		rc = cairn_bulk_transfer_wait(rpc, CAIRN_BULK_GET, &in->src, 0, local, 0, in->len);
	if (rc == 0) {
		out->crc = cairn_net_crc32c(buf, in->len);
		for (i = 0; i < in->len; i++)
			buf[i]++;
		rc = cairn_bulk_transfer_wait(rpc, CAIRN_BULK_PUT, &in->dst, 0, local, 0, in->len);
	}
	if (rc)
		cairn_rpc_reply_err(rpc, rc);
	else
		cairn_rpc_reply(rpc);
	cairn_bulk_free(local);
	free(buf);
}

static int
sum_in_enc(struct cairn_enc *e, const void *p)
{
	cairn_enc_u64(e, ((const struct tp_sum_in *)p)->v);
	return cairn_enc_rc(e);
}

static int
sum_in_dec(struct cairn_dec *d, void *p)
{
	cairn_dec_u64(d, &((struct tp_sum_in *)p)->v);
	return cairn_dec_rc(d);
}

static int
sum_out_enc(struct cairn_enc *e, const void *p)
{
	const struct tp_sum_out *o = p;

	cairn_enc_u64(e, o->sum);
	cairn_enc_u32(e, o->count);
	return cairn_enc_rc(e);
}

static int
sum_out_dec(struct cairn_dec *d, void *p)
{
	struct tp_sum_out *o = p;

	cairn_dec_u64(d, &o->sum);
	cairn_dec_u32(d, &o->count);
	return cairn_dec_rc(d);
}

static void
sum_handler(struct cairn_rpc *rpc)
{
	struct tp_sum_in *in = cairn_rpc_in(rpc);
	struct tp_sum_out *out = cairn_rpc_out(rpc);
	uint32_t rank = cairn_net_ctx_rank(cairn_rpc_ctx(rpc));

	if ((int)rank == g_tp_fail_rank) {
		cairn_rpc_reply_err(rpc, -CAIRN_ERR_IO);
		return;
	}
	out->sum += in->v + rank;
	out->count += 1;
	cairn_rpc_reply(rpc);
}

static int
sum_pre_forward(struct cairn_rpc *rpc)
{
	g_tp_prefwd_calls++;
	if ((int)cairn_net_ctx_rank(cairn_rpc_ctx(rpc)) == g_tp_prefwd_fail_rank)
		return -CAIRN_ERR_BUSY;
	return 0;
}

static int
sum_aggregate(struct cairn_rpc *rpc, const void *child_out)
{
	struct tp_sum_out *out = cairn_rpc_out(rpc);
	const struct tp_sum_out *c = child_out;

	out->sum += c->sum;
	out->count += c->count;
	return 0;
}

static void
oneway_handler(struct cairn_rpc *rpc)
{
	g_tp_oneway++;
}

static int
nested_in_enc(struct cairn_enc *e, const void *p)
{
	const struct tp_nested_in *in = p;

	cairn_enc_u32(e, in->rank);
	cairn_enc_u16(e, in->tag);
	return cairn_enc_rc(e);
}

static int
nested_in_dec(struct cairn_dec *d, void *p)
{
	struct tp_nested_in *in = p;

	cairn_dec_u32(d, &in->rank);
	cairn_dec_u16(d, &in->tag);
	return cairn_dec_rc(d);
}

/* A handler that sends an RPC itself and waits for it (ULT only). */
static void
nested_handler(struct cairn_rpc *rpc)
{
	struct tp_nested_in *in = cairn_rpc_in(rpc);
	struct tp_echo_out *out = cairn_rpc_out(rpc);
	struct cairn_ep ep = {.rank = in->rank, .tag = in->tag};
	struct cairn_rpc *fwd;
	struct tp_echo_in *fin;
	int rc;

	rc = cairn_rpc_create(cairn_rpc_ctx(rpc), ep, TP_OPC(TP_ECHO), &fwd);
	if (rc) {
		cairn_rpc_reply_err(rpc, rc);
		return;
	}
	fin = cairn_rpc_in(fwd);
	fin->seq = 4242;
	rc = cairn_rpc_send_wait(fwd);
	if (rc == 0)
		out->seq = ((struct tp_echo_out *)cairn_rpc_out(fwd))->seq + 1;
	cairn_rpc_decref(fwd);
	if (rc)
		cairn_rpc_reply_err(rpc, rc);
	else
		cairn_rpc_reply(rpc);
}

static const struct cairn_rpc_def g_tp_rpcs[TP_COUNT] = {
        [TP_ECHO] = {.name = "tp_echo",
                     .in_size = sizeof(struct tp_echo_in),
                     .out_size = sizeof(struct tp_echo_out),
                     .in_enc = echo_in_enc,
                     .in_dec = echo_in_dec,
                     .out_enc = echo_in_enc,
                     .out_dec = echo_in_dec,
                     .handler = echo_handler},
        [TP_HOLD] = {.name = "tp_hold",
                     .in_size = sizeof(struct tp_echo_in),
                     .out_size = sizeof(struct tp_echo_out),
                     .in_enc = echo_in_enc,
                     .in_dec = echo_in_dec,
                     .out_enc = echo_in_enc,
                     .out_dec = echo_in_dec,
                     .handler = hold_handler},
        [TP_BULK] = {.name = "tp_bulk",
                     .in_size = sizeof(struct tp_bulk_in),
                     .out_size = sizeof(struct tp_bulk_out),
                     .in_enc = bulk_in_enc,
                     .in_dec = bulk_in_dec,
                     .out_enc = bulk_out_enc,
                     .out_dec = bulk_out_dec,
                     .handler = bulk_handler},
        [TP_SUM] = {.name = "tp_sum",
                    .in_size = sizeof(struct tp_sum_in),
                    .out_size = sizeof(struct tp_sum_out),
                    .in_enc = sum_in_enc,
                    .in_dec = sum_in_dec,
                    .out_enc = sum_out_enc,
                    .out_dec = sum_out_dec,
                    .handler = sum_handler,
                    .co_aggregate = sum_aggregate,
                    .co_pre_forward = sum_pre_forward},
        [TP_ONEWAY] = {.name = "tp_oneway",
                       .flags = CAIRN_RPC_ONEWAY,
                       .in_size = sizeof(struct tp_sum_in),
                       .in_enc = sum_in_enc,
                       .in_dec = sum_in_dec,
                       .handler = oneway_handler},
        [TP_BULK_WAIT] = {.name = "tp_bulk_wait",
                          .in_size = sizeof(struct tp_bulk_in),
                          .out_size = sizeof(struct tp_bulk_out),
                          .in_enc = bulk_in_enc,
                          .in_dec = bulk_in_dec,
                          .out_enc = bulk_out_enc,
                          .out_dec = bulk_out_dec,
                          .handler = bulk_wait_handler},
        [TP_NESTED] = {.name = "tp_nested",
                       .in_size = sizeof(struct tp_nested_in),
                       .out_size = sizeof(struct tp_echo_out),
                       .in_enc = nested_in_enc,
                       .in_dec = nested_in_dec,
                       .out_enc = echo_in_enc,
                       .out_dec = echo_in_dec,
                       .handler = nested_handler},
};

static const struct cairn_proto g_tp_proto = {
        .name = "test",
        .base = TP_BASE,
        .version = 3,
        .count = TP_COUNT,
        .rpcs = g_tp_rpcs,
};

int
tp_register(void)
{
	static bool done;
	int rc;

	if (done)
		return 0;
	rc = cairn_net_proto_register(&g_tp_proto);
	done = rc == 0;
	return rc;
}
