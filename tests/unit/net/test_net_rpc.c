/*
 * RPC engine on loopback, driven single-threaded (contexts created from a plain thread,
 * progressed by the test): echo, one-way, registration, timeout racing a late reply,
 * cancel, credits, bulk 0..16 MiB, collectives over 1..16 ranks, bad input, peer killed
 * mid-RPC (forked server + SIGKILL), reconnect after a server restart, and collectives
 * across processes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "common/log.h"
#include "net/wire.h"
#include "net_test_util.h"
#include "test_proto.h"

struct fx {
	struct cairn_net_group *grp;
	struct cairn_net_ctx *srv;
	struct cairn_net_ctx *cli;
	struct cairn_net_ctx *both[2];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_int_equal(tp_register(), 0);
	assert_int_equal(cairn_net_group_create("t", &f->grp), 0);
	f->srv = tu_server(f->grp, 0, 8);
	assert_non_null(f->srv);
	f->cli = tu_client(f->grp, 4, 30 * 1000 * 1000);
	assert_non_null(f->cli);
	f->both[0] = f->cli;
	f->both[1] = f->srv;
	g_tp_nheld = g_tp_max_held = 0;
	g_tp_fail_rank = -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tp_release_all();
	cairn_net_ctx_destroy(f->cli);
	cairn_net_ctx_destroy(f->srv);
	cairn_net_group_destroy(f->grp);
	free(f);
	return 0;
}

static struct cairn_ep g_ep0 = {.rank = 0, .tag = 0};

static void
test_echo(void **state)
{
	struct fx *f = *state;
	static uint8_t data[200000];
	size_t sizes[] = {0, 1, 100, 4096, 65536, 200000};
	unsigned i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	for (i = 0; i < 6; i++) {
		struct cairn_rpc *rpc;
		struct tp_echo_in *in;
		struct tp_echo_out *out;
		struct tu_done d = {0};

		assert_int_equal(cairn_rpc_create(f->cli, g_ep0, TP_OPC(TP_ECHO), &rpc), 0);
		in = cairn_rpc_in(rpc);
		in->seq = 1000 + i;
		in->data = data;
		in->len = (uint32_t)sizes[i];
		assert_int_equal(cairn_rpc_send(rpc, tu_done_cb, &d), 0);
		assert_int_equal(d.calls, 0); /* never inside the submit call */
		assert_int_equal(cairn_rpc_send(rpc, tu_done_cb, &d), -CAIRN_ERR_ALREADY);
		assert_true(tu_pump(f->both, 2, &d.calls, 1, 5000));
		assert_int_equal(d.rc, 0);
		out = cairn_rpc_out(rpc);
		assert_true(out->seq == 1000 + i);
		assert_int_equal(out->len, sizes[i]);
		if (sizes[i])
			assert_memory_equal(out->data, data, sizes[i]);
		cairn_rpc_decref(rpc);
	}
	/* A request body over the context's max_msg is refused at encode time. */
	{
		struct cairn_rpc *rpc;
		static uint8_t big[2 << 20];
		struct tp_echo_in *in;
		struct tu_done d = {0};

		assert_int_equal(cairn_rpc_create(f->cli, g_ep0, TP_OPC(TP_ECHO), &rpc), 0);
		in = cairn_rpc_in(rpc);
		in->data = big;
		in->len = sizeof(big);
		assert_int_equal(cairn_rpc_send(rpc, tu_done_cb, &d), -CAIRN_ERR_OVERFLOW);
		cairn_rpc_decref(rpc);
	}
	/* One-way: completes once queued, the server handler runs. */
	{
		struct cairn_rpc *rpc;
		struct tu_done d = {0};
		unsigned before = g_tp_oneway;

		assert_int_equal(cairn_rpc_create(f->cli, g_ep0, TP_OPC(TP_ONEWAY), &rpc), 0);
		assert_int_equal(cairn_rpc_send(rpc, tu_done_cb, &d), 0);
		assert_true(tu_pump(f->both, 2, &d.calls, 1, 5000));
		assert_int_equal(d.rc, 0);
		cairn_rpc_decref(rpc);
		assert_true(tu_pump_until_u(f->both, 2, &g_tp_oneway, before + 1, 5000));
		tu_pump_ms(f->both, 2, 20);
		assert_int_equal(g_tp_oneway, before + 1);
	}
}

static void
test_register(void **state)
{
	struct fx *f = *state;
	static const struct cairn_rpc_def defs[1] = {{.name = "dup"}};
	struct cairn_proto dup = {
	        .name = "dup", .base = TP_BASE, .version = 1, .count = 1, .rpcs = defs};
	struct cairn_proto bad = {.name = "bad", .base = 1u << 24, .count = 1, .rpcs = defs};
	struct cairn_rpc *rpc;

	cairn_log_set_mask("FATAL"); /* the errors below are expected */
	assert_int_equal(cairn_net_proto_register(&dup), -CAIRN_ERR_EXIST);
	assert_int_equal(cairn_net_proto_register(&bad), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_rpc_create(f->cli, g_ep0, CAIRN_NET_OPC(0x55, 0), &rpc),
	                 -CAIRN_ERR_NONEXIST);
	assert_int_equal(cairn_rpc_create(f->cli, g_ep0, TP_OPC(200), &rpc), -CAIRN_ERR_NONEXIST);
	cairn_log_set_mask("ERR");
}

static void
test_timeout_late_reply(void **state)
{
	struct fx *f = *state;
	struct cairn_rpc *rpc;
	struct tu_done d = {0};
	struct cairn_net_stats st;

	assert_int_equal(cairn_rpc_create(f->cli, g_ep0, TP_OPC(TP_HOLD), &rpc), 0);
	cairn_rpc_set_timeout(rpc, 50 * 1000);
	assert_int_equal(cairn_rpc_send(rpc, tu_done_cb, &d), 0);
	assert_true(tu_pump(f->both, 2, &d.calls, 1, 5000));
	assert_int_equal(d.rc, -CAIRN_ERR_TIMEDOUT);
	assert_int_equal(g_tp_nheld, 1);
	/* The reply arrives after the timeout: dropped, no second completion. */
	tp_release_all();
	tu_pump_ms(f->both, 2, 100);
	assert_int_equal(d.calls, 1);
	cairn_net_ctx_stats(f->cli, &st);
	assert_true(st.late_replies == 1);
	assert_true(st.timeouts == 1);
	assert_int_equal(cairn_rpc_cancel(rpc), -CAIRN_ERR_ALREADY);
	cairn_rpc_decref(rpc);
}

static void
test_cancel(void **state)
{
	struct fx *f = *state;
	struct cairn_rpc *rpc, *never;
	struct tu_done d = {0};

	assert_int_equal(cairn_rpc_create(f->cli, g_ep0, TP_OPC(TP_HOLD), &never), 0);
	assert_int_equal(cairn_rpc_cancel(never), -CAIRN_ERR_ALREADY); /* never sent */
	cairn_rpc_decref(never);
	assert_int_equal(cairn_rpc_create(f->cli, g_ep0, TP_OPC(TP_HOLD), &rpc), 0);
	assert_int_equal(cairn_rpc_send(rpc, tu_done_cb, &d), 0);
	assert_true(tu_pump_until_u(f->both, 2, &g_tp_nheld, 1, 5000));
	assert_int_equal(cairn_rpc_cancel(rpc), 0);
	assert_int_equal(d.calls, 0); /* the callback runs from progress */
	assert_int_equal(cairn_rpc_cancel(rpc), -CAIRN_ERR_ALREADY);
	assert_true(tu_pump(f->both, 2, &d.calls, 1, 1000));
	assert_int_equal(d.rc, -CAIRN_ERR_CANCELED);
	tp_release_all();
	tu_pump_ms(f->both, 2, 100);
	assert_int_equal(d.calls, 1);
	cairn_rpc_decref(rpc);
}

/* Reply and timeout due in the same progress pass: still exactly one completion. */
static void
test_race_reply_timeout(void **state)
{
	struct fx *f = *state;
	struct tu_done d[20];
	struct cairn_rpc *rpc[20];
	unsigned i;
	int total = 0;

	memset(d, 0, sizeof(d));
	for (i = 0; i < 20; i++) {
		assert_int_equal(cairn_rpc_create(f->cli, g_ep0, TP_OPC(TP_HOLD), &rpc[i]), 0);
		cairn_rpc_set_timeout(rpc[i], 1000 + i * 300);
		assert_int_equal(cairn_rpc_send(rpc[i], tu_done_cb, &d[i]), 0);
	}
	/* Let the server hold them, then release everything while timeouts fire. */
	for (i = 0; i < 6; i++)
		cairn_net_progress(f->cli), cairn_net_progress(f->srv);
	usleep(3000);
	tp_release_all();
	tu_pump_ms(f->both, 2, 200);
	tp_release_all();
	tu_pump_ms(f->both, 2, 100);
	for (i = 0; i < 20; i++) {
		assert_int_equal(d[i].calls, 1);
		assert_true(d[i].rc == 0 || d[i].rc == -CAIRN_ERR_TIMEDOUT);
		total += d[i].calls;
		cairn_rpc_decref(rpc[i]);
	}
	assert_int_equal(total, 20);
}

static void
test_credits(void **state)
{
	struct fx *f = *state;
	struct cairn_net_ctx *cli = tu_client(f->grp, 2, 0);
	struct cairn_net_ctx *both[2] = {cli, f->srv};
	struct cairn_rpc *rpc[10];
	struct tu_done d[10];
	unsigned i, done;
	uint64_t end;

	assert_non_null(cli);
	memset(d, 0, sizeof(d));
	for (i = 0; i < 10; i++) {
		assert_int_equal(cairn_rpc_create(cli, g_ep0, TP_OPC(TP_HOLD), &rpc[i]), 0);
		((struct tp_echo_in *)cairn_rpc_in(rpc[i]))->seq = i;
		assert_int_equal(cairn_rpc_send(rpc[i], tu_done_cb, &d[i]), 0);
	}
	assert_true(tu_pump_until_u(both, 2, &g_tp_nheld, 2, 5000));
	tu_pump_ms(both, 2, 50); /* the other 8 wait for credits */
	assert_int_equal(g_tp_nheld, 2);
	end = tu_now_ms() + 5000;
	do {
		if (g_tp_nheld)
			tp_release(0);
		tu_pump_ms(both, 2, 5);
		for (done = 0, i = 0; i < 10; i++)
			done += d[i].calls;
	} while (done < 10 && tu_now_ms() < end);
	assert_int_equal(done, 10);
	assert_int_equal(g_tp_max_held, 2);
	for (i = 0; i < 10; i++) {
		assert_int_equal(d[i].rc, 0);
		/* FIFO: each reply carries its own request's sequence. */
		assert_true(((struct tp_echo_out *)cairn_rpc_out(rpc[i]))->seq == i);
		cairn_rpc_decref(rpc[i]);
	}
	cairn_net_ctx_destroy(cli);
}

static void
run_bulk(struct fx *f, size_t len, uint32_t opc)
{
	uint8_t *src = malloc(len + 1), *dst = malloc(len + 1);
	struct iovec siov[3], diov[2];
	struct cairn_bulk *sb, *db;
	struct cairn_rpc *rpc;
	struct tp_bulk_in *in;
	struct tu_done d = {0};
	size_t a = len / 3, b = len / 2, i;

	for (i = 0; i < len; i++)
		src[i] = (uint8_t)(i * 31 + (i >> 11));
	memset(dst, 0, len + 1);
	siov[0].iov_base = src;
	siov[0].iov_len = a;
	siov[1].iov_base = src + a;
	siov[1].iov_len = b - a;
	siov[2].iov_base = src + b;
	siov[2].iov_len = len - b;
	diov[0].iov_base = dst;
	diov[0].iov_len = b;
	diov[1].iov_base = dst + b;
	diov[1].iov_len = len - b;
	assert_int_equal(cairn_bulk_create(f->cli, siov, 3, CAIRN_BULK_RO, &sb), 0);
	assert_int_equal(cairn_bulk_create(f->cli, diov, 2, CAIRN_BULK_RW, &db), 0);
	assert_true(cairn_bulk_len(sb) == len);
	assert_int_equal(cairn_rpc_create(f->cli, g_ep0, opc, &rpc), 0);
	in = cairn_rpc_in(rpc);
	cairn_bulk_get_desc(sb, &in->src);
	cairn_bulk_get_desc(db, &in->dst);
	in->len = len;
	assert_int_equal(cairn_rpc_send(rpc, tu_done_cb, &d), 0);
	assert_true(tu_pump(f->both, 2, &d.calls, 1, 40000));
	assert_int_equal(d.rc, 0);
	assert_int_equal(((struct tp_bulk_out *)cairn_rpc_out(rpc))->crc,
	                 cairn_net_crc32c(src, len));
	for (i = 0; i < len; i++)
		if (dst[i] != (uint8_t)(src[i] + 1))
			fail_msg("bulk of %zu: byte %zu is %u, want %u", len, i, dst[i],
			         (uint8_t)(src[i] + 1));
	cairn_rpc_decref(rpc);
	cairn_bulk_free(sb);
	cairn_bulk_free(db);
	free(src);
	free(dst);
}

static void
test_bulk(void **state)
{
	struct fx *f = *state;
	size_t sizes[] = {0, 1, 4095, 4096, 65537, (1u << 20) + 3, 16u << 20};
	unsigned i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		run_bulk(f, sizes[i], TP_OPC(TP_BULK));
}

/* Registered memory in 1000 uneven pieces: segments span far more than the 64 vectors
 * a connection maps at a time. */
static void
test_bulk_many_iov(void **state)
{
	struct fx *f = *state;
	enum { NV = 1000 };
	struct iovec siov[NV], diov[NV];
	uint8_t *src, *dst;
	struct cairn_bulk *sb, *db;
	struct cairn_rpc *rpc;
	struct tp_bulk_in *in;
	struct tu_done d = {0};
	size_t len = 0, off = 0, i;

	for (i = 0; i < NV; i++)
		len += 1000 + (i % 7) * 300;
	src = malloc(len);
	dst = calloc(1, len);
	for (i = 0; i < len; i++)
		src[i] = (uint8_t)(i * 7 + 3);
	for (i = 0; i < NV; i++) {
		size_t l = 1000 + (i % 7) * 300;

		siov[i].iov_base = src + off;
		siov[i].iov_len = l;
		/* The destination is cut differently from the source. */
		diov[NV - 1 - i].iov_len = l;
		off += l;
	}
	for (off = 0, i = 0; i < NV; i++) {
		diov[i].iov_base = dst + off;
		off += diov[i].iov_len;
	}
	assert_int_equal(cairn_bulk_create(f->cli, siov, NV, CAIRN_BULK_RO, &sb), 0);
	assert_int_equal(cairn_bulk_create(f->cli, diov, NV, CAIRN_BULK_RW, &db), 0);
	assert_int_equal(cairn_rpc_create(f->cli, g_ep0, TP_OPC(TP_BULK), &rpc), 0);
	in = cairn_rpc_in(rpc);
	cairn_bulk_get_desc(sb, &in->src);
	cairn_bulk_get_desc(db, &in->dst);
	in->len = len;
	assert_int_equal(cairn_rpc_send(rpc, tu_done_cb, &d), 0);
	assert_true(tu_pump(f->both, 2, &d.calls, 1, 40000));
	assert_int_equal(d.rc, 0);
	assert_int_equal(((struct tp_bulk_out *)cairn_rpc_out(rpc))->crc,
	                 cairn_net_crc32c(src, len));
	for (i = 0; i < len; i++)
		if (dst[i] != (uint8_t)(src[i] + 1))
			fail_msg("byte %zu is %u, want %u", i, dst[i], (uint8_t)(src[i] + 1));
	cairn_rpc_decref(rpc);
	cairn_bulk_free(sb);
	cairn_bulk_free(db);
	free(src);
	free(dst);
}

static int
echo_once_ctx(struct cairn_net_ctx **both, uint64_t seq)
{
	struct cairn_rpc *rpc;
	struct tu_done d = {0};
	int rc;

	rc = cairn_rpc_create(both[0], g_ep0, TP_OPC(TP_ECHO), &rpc);
	if (rc)
		return rc;
	((struct tp_echo_in *)cairn_rpc_in(rpc))->seq = seq;
	rc = cairn_rpc_send(rpc, tu_done_cb, &d);
	if (rc == 0)
		rc = tu_pump(both, 2, &d.calls, 1, 5000) ? d.rc : -CAIRN_ERR_TIMEDOUT;
	if (rc == 0 && ((struct tp_echo_out *)cairn_rpc_out(rpc))->seq != seq)
		rc = -CAIRN_ERR_MISC;
	cairn_rpc_decref(rpc);
	return rc;
}

/* A bulk GET whose owner does not answer in time: the transfer times out (the handler
 * sees TIMEDOUT and replies it), the data arriving later is discarded, and the
 * connection stays usable. */
static void
test_bulk_timeout(void **state)
{
	struct cairn_net_group *grp;
	struct cairn_net_ctx_opts o;
	struct cairn_net_ctx *srv, *cli, *both[2];
	struct cairn_net_stats st;
	struct cairn_bulk *sb;
	struct cairn_rpc *rpc;
	struct tp_bulk_in *in;
	struct tu_done d = {0};
	size_t len = 1u << 20;
	uint8_t *src = calloc(1, len);
	struct iovec iov = {src, len};
	uint64_t end;

	assert_int_equal(cairn_net_group_create("bt", &grp), 0);
	cairn_net_ctx_opts_default(&o);
	o.group = grp;
	o.rank = 0;
	o.listen_uri = "tcp://127.0.0.1:0";
	o.timeout_us = 100 * 1000;
	assert_int_equal(cairn_net_ctx_create(&o, &srv), 0);
	cli = tu_client(grp, 0, 30 * 1000 * 1000);
	both[0] = cli;
	both[1] = srv;
	assert_int_equal(cairn_bulk_create(cli, &iov, 1, CAIRN_BULK_RW, &sb), 0);
	assert_int_equal(cairn_rpc_create(cli, g_ep0, TP_OPC(TP_BULK), &rpc), 0);
	in = cairn_rpc_in(rpc);
	cairn_bulk_get_desc(sb, &in->src);
	cairn_bulk_get_desc(sb, &in->dst);
	in->len = len;
	assert_int_equal(cairn_rpc_send(rpc, tu_done_cb, &d), 0);
	/* The request leaves the client; then only the server runs. */
	end = tu_now_ms() + 5000;
	do {
		cairn_net_progress(cli);
		cairn_net_ctx_stats(cli, &st);
	} while (st.req_sent < 1 && tu_now_ms() < end);
	cairn_net_progress(cli);
	tu_pump_ms(&srv, 1, 400);
	cairn_net_ctx_stats(srv, &st);
	assert_true(st.timeouts == 1);
	assert_int_equal(d.calls, 0);
	/* Now the client answers the stale GET and gets the handler's error. */
	assert_true(tu_pump(both, 2, &d.calls, 1, 10000));
	assert_int_equal(d.rc, -CAIRN_ERR_TIMEDOUT);
	cairn_rpc_decref(rpc);
	assert_int_equal(echo_once_ctx(both, 77), 0);
	cairn_bulk_free(sb);
	cairn_net_ctx_destroy(cli);
	cairn_net_ctx_destroy(srv);
	cairn_net_group_destroy(grp);
	free(src);
}

static void
test_bulk_errors(void **state)
{
	struct fx *f = *state;
	uint8_t buf[64];
	struct iovec iov = {buf, sizeof(buf)};
	struct cairn_bulk *ro;
	struct cairn_rpc *rpc;
	struct tp_bulk_in *in;
	struct tu_done d = {0};

	cairn_log_set_mask("FATAL"); /* the errors below are expected */
	/* PUT into read-only memory: refused, the handler's error comes back. */
	assert_int_equal(cairn_bulk_create(f->cli, &iov, 1, CAIRN_BULK_RO, &ro), 0);
	assert_int_equal(cairn_rpc_create(f->cli, g_ep0, TP_OPC(TP_BULK), &rpc), 0);
	in = cairn_rpc_in(rpc);
	cairn_bulk_get_desc(ro, &in->src);
	cairn_bulk_get_desc(ro, &in->dst);
	in->len = sizeof(buf);
	assert_int_equal(cairn_rpc_send(rpc, tu_done_cb, &d), 0);
	assert_true(tu_pump(f->both, 2, &d.calls, 1, 5000));
	assert_int_equal(d.rc, -CAIRN_ERR_PERM);
	cairn_rpc_decref(rpc);
	/* GET of a bulk that was freed: the client answers NONEXIST. */
	memset(&d, 0, sizeof(d));
	assert_int_equal(cairn_rpc_create(f->cli, g_ep0, TP_OPC(TP_BULK), &rpc), 0);
	in = cairn_rpc_in(rpc);
	cairn_bulk_get_desc(ro, &in->src);
	in->dst = in->src;
	in->len = sizeof(buf);
	cairn_bulk_free(ro);
	assert_int_equal(cairn_rpc_send(rpc, tu_done_cb, &d), 0);
	assert_true(tu_pump(f->both, 2, &d.calls, 1, 5000));
	assert_int_equal(d.rc, -CAIRN_ERR_NONEXIST);
	cairn_rpc_decref(rpc);
	/* Length beyond the descriptor. */
	assert_int_equal(cairn_bulk_create(f->cli, &iov, 1, CAIRN_BULK_RW, &ro), 0);
	memset(&d, 0, sizeof(d));
	assert_int_equal(cairn_rpc_create(f->cli, g_ep0, TP_OPC(TP_BULK), &rpc), 0);
	in = cairn_rpc_in(rpc);
	cairn_bulk_get_desc(ro, &in->src);
	cairn_bulk_get_desc(ro, &in->dst);
	in->len = sizeof(buf) + 1;
	assert_int_equal(cairn_rpc_send(rpc, tu_done_cb, &d), 0);
	assert_true(tu_pump(f->both, 2, &d.calls, 1, 5000));
	assert_int_equal(d.rc, -CAIRN_ERR_OVERFLOW);
	cairn_rpc_decref(rpc);
	cairn_bulk_free(ro);
	assert_int_equal(cairn_bulk_create(f->cli, &iov, 1, 0x7, &ro), -CAIRN_ERR_INVAL);
	cairn_log_set_mask("ERR");
}

/* ------------------------------------------------------------------ collectives */

static void
test_knomial(void **state)
{
	unsigned n, k, pos, kids[64], nk, i, seen[64];

	for (k = 2; k <= 5; k++) {
		for (n = 1; n <= 40; n++) {
			memset(seen, 0, sizeof(seen));
			for (pos = 0; pos < n; pos++) {
				nk = cairn_knomial_children(n, k, pos, kids, 64);
				for (i = 0; i < nk; i++) {
					assert_true(kids[i] < n);
					assert_int_equal(cairn_knomial_parent(n, k, kids[i]),
					                 (int)pos);
					seen[kids[i]]++;
				}
			}
			/* Every non-root position has exactly one parent. */
			assert_int_equal(seen[0], 0);
			for (pos = 1; pos < n; pos++)
				assert_int_equal(seen[pos], 1);
		}
	}
	nk = cairn_knomial_children(8, 2, 0, kids, 64);
	assert_int_equal(nk, 3);
	assert_int_equal(kids[0], 1);
	assert_int_equal(kids[1], 2);
	assert_int_equal(kids[2], 4);
	assert_int_equal(cairn_knomial_parent(8, 2, 6), 4);
	assert_int_equal(cairn_knomial_parent(8, 2, 0), -1);
}

static int
run_coll(struct cairn_net_ctx **all, unsigned nall, struct cairn_net_ctx *cli,
         const uint32_t *ranks, unsigned n, unsigned ratio, uint64_t v, uint64_t *sum,
         uint32_t *count, uint32_t *failed, unsigned *nfailed)
{
	struct cairn_rpc *rpc;
	struct tu_done d = {0};
	const uint32_t *fr;
	unsigned nf, i;
	int rc;

	rc = cairn_coll_create(cli, ranks, n, 0, TP_OPC(TP_SUM), ratio, &rpc);
	if (rc)
		return rc;
	((struct tp_sum_in *)cairn_rpc_in(rpc))->v = v;
	cairn_rpc_set_timeout(rpc, 2 * 1000 * 1000);
	assert_int_equal(cairn_rpc_send(rpc, tu_done_cb, &d), 0);
	assert_true(tu_pump(all, nall, &d.calls, 1, 10000));
	if (d.rc == 0) {
		*sum = ((struct tp_sum_out *)cairn_rpc_out(rpc))->sum;
		*count = ((struct tp_sum_out *)cairn_rpc_out(rpc))->count;
		cairn_coll_failed(rpc, &fr, &nf);
		for (i = 0; i < nf; i++)
			failed[i] = fr[i];
		*nfailed = nf;
	}
	cairn_rpc_decref(rpc);
	return d.rc;
}

static void
test_coll_inproc(void **state)
{
	struct cairn_net_group *grp;
	struct cairn_net_ctx *all[17];
	uint32_t ranks[16], failed[16];
	unsigned n, r, ratio, nf, i;
	uint64_t sum;
	uint32_t count;

	assert_int_equal(cairn_net_group_create("coll", &grp), 0);
	for (r = 0; r < 16; r++) {
		all[r] = tu_server(grp, r, 0);
		assert_non_null(all[r]);
	}
	all[16] = tu_client(grp, 0, 0);
	assert_int_equal(cairn_net_group_size(grp), 16);
	for (ratio = 2; ratio <= 4; ratio++) {
		for (n = 1; n <= 16; n++) {
			uint64_t want = 0;

			/* A shuffled member list (i*7+r mod 16 is a permutation): the tree is
			 * over list positions, not rank numbers. */
			for (i = 0; i < n; i++)
				ranks[i] = (i * 7 + ratio) % 16;
			for (i = 0; i < n; i++)
				want += 100 + ranks[i];
			assert_int_equal(run_coll(all, 17, all[16], ranks, n, ratio, 100, &sum,
			                          &count, failed, &nf),
			                 0);
			assert_int_equal(nf, 0);
			assert_int_equal(count, n);
			assert_true(sum == want);
		}
	}
	/* Pre-forward runs on every member with children (8 of 16 in a binomial tree); when
	 * it fails on rank 8, 8's subtree (9..15) is reported and 8 itself still answers. */
	for (i = 0; i < 16; i++)
		ranks[i] = i;
	g_tp_prefwd_calls = 0;
	assert_int_equal(run_coll(all, 17, all[16], ranks, 16, 2, 1, &sum, &count, failed, &nf), 0);
	assert_int_equal(g_tp_prefwd_calls, 8);
	g_tp_prefwd_fail_rank = 8;
	assert_int_equal(run_coll(all, 17, all[16], ranks, 16, 2, 1, &sum, &count, failed, &nf), 0);
	g_tp_prefwd_fail_rank = -1;
	assert_int_equal(nf, 7);
	assert_int_equal(count, 9);
	for (i = 0; i < nf; i++)
		assert_true(failed[i] >= 9 && failed[i] <= 15);
	/* A member whose handler fails is reported; the others still count. */
	for (i = 0; i < 16; i++)
		ranks[i] = i;
	g_tp_fail_rank = 5;
	assert_int_equal(run_coll(all, 17, all[16], ranks, 16, 2, 1, &sum, &count, failed, &nf), 0);
	g_tp_fail_rank = -1;
	assert_int_equal(nf, 1);
	assert_int_equal(failed[0], 5);
	assert_int_equal(count, 15);
	/* A dead member: it and its subtree (4: {4,5,6,7} with ratio 2) are reported. */
	cairn_net_ctx_destroy(all[4]);
	all[4] = all[16];
	assert_int_equal(run_coll(all, 16, all[16], ranks, 16, 2, 1, &sum, &count, failed, &nf), 0);
	assert_int_equal(nf, 4);
	assert_int_equal(count, 12);
	for (i = 0; i < nf; i++)
		assert_true(failed[i] >= 4 && failed[i] <= 7);
	/* Bad arguments. */
	ranks[1] = ranks[0];
	assert_int_equal(run_coll(all, 16, all[16], ranks, 3, 2, 1, &sum, &count, failed, &nf),
	                 -CAIRN_ERR_INVAL);
	assert_int_equal(run_coll(all, 16, all[16], ranks, 3, 1, 1, &sum, &count, failed, &nf),
	                 -CAIRN_ERR_INVAL);
	for (r = 0; r < 16; r++)
		cairn_net_ctx_destroy(all[r]);
	cairn_net_group_destroy(grp);
}

static void
test_coll_multiproc(void **state)
{
	struct cairn_net_group *grp;
	struct cairn_net_ctx *cli;
	uint16_t ports[16], p;
	uint32_t ranks[16], failed[16], count;
	pid_t pid[4];
	int ctl[4];
	unsigned i, nf;
	uint64_t sum, want = 0;
	char uri[64];

	tu_free_ports(ports, 16);
	assert_int_equal(cairn_net_group_create("mp", &grp), 0);
	for (i = 0; i < 16; i++) {
		snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%u", ports[i]);
		assert_int_equal(cairn_net_group_rank_add(grp, i, uri), 0);
		ranks[i] = i;
		want += 7 + i;
	}
	for (i = 0; i < 4; i++) {
		pid[i] = tu_fork_server(ports, 16, i * 4, 4, 0, &p, &ctl[i]);
		assert_true(pid[i] > 0);
	}
	cli = tu_client(grp, 0, 0);
	assert_int_equal(run_coll(&cli, 1, cli, ranks, 16, 2, 7, &sum, &count, failed, &nf), 0);
	assert_int_equal(count, 16);
	assert_int_equal(nf, 0);
	assert_true(sum == want);
	assert_int_equal(run_coll(&cli, 1, cli, ranks, 16, 4, 7, &sum, &count, failed, &nf), 0);
	assert_int_equal(count, 16);
	/* Kill the process hosting ranks 12..15. */
	tu_kill(pid[3], ctl[3]);
	assert_int_equal(run_coll(&cli, 1, cli, ranks, 16, 2, 7, &sum, &count, failed, &nf), 0);
	assert_int_equal(count, 12);
	assert_int_equal(nf, 4);
	for (i = 0; i < 3; i++)
		tu_kill(pid[i], ctl[i]);
	cairn_net_ctx_destroy(cli);
	cairn_net_group_destroy(grp);
}

/* ------------------------------------------------------------------ failures */

static void
test_peer_killed(void **state)
{
	struct cairn_net_group *grp;
	struct cairn_net_ctx *cli;
	struct cairn_rpc *rpc, *rpc2;
	struct tu_done d = {0}, d2 = {0};
	struct cairn_net_stats st;
	uint16_t port;
	pid_t pid;
	int ctl;
	char uri[64];
	uint64_t end;

	assert_int_equal(cairn_net_group_create("kill", &grp), 0);
	pid = tu_fork_server(NULL, 0, 0, 1, 0, &port, &ctl);
	assert_true(pid > 0);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%u", port);
	assert_int_equal(cairn_net_group_rank_add(grp, 0, uri), 0);
	cli = tu_client(grp, 0, 30 * 1000 * 1000);
	assert_int_equal(cairn_rpc_create(cli, g_ep0, TP_OPC(TP_HOLD), &rpc), 0);
	assert_int_equal(cairn_rpc_send(rpc, tu_done_cb, &d), 0);
	assert_int_equal(cairn_rpc_create(cli, g_ep0, TP_OPC(TP_HOLD), &rpc2), 0);
	assert_int_equal(cairn_rpc_send(rpc2, tu_done_cb, &d2), 0);
	end = tu_now_ms() + 5000;
	do {
		tu_pump_ms(&cli, 1, 10);
		cairn_net_ctx_stats(cli, &st);
	} while (st.req_sent < 2 && tu_now_ms() < end);
	tu_pump_ms(&cli, 1, 50); /* the server holds both now */
	assert_int_equal(d.calls, 0);
	tu_kill(pid, ctl);
	/* Death is noticed long before the 30 s timeout. */
	assert_true(tu_pump(&cli, 1, &d.calls, 1, 5000));
	assert_true(tu_pump(&cli, 1, &d2.calls, 1, 5000));
	assert_int_equal(d.rc, -CAIRN_ERR_UNREACH);
	assert_int_equal(d2.rc, -CAIRN_ERR_UNREACH);
	cairn_rpc_decref(rpc);
	cairn_rpc_decref(rpc2);
	cairn_net_ctx_destroy(cli);
	cairn_net_group_destroy(grp);
}

static int
echo_once(struct cairn_net_ctx *cli, uint64_t seq)
{
	struct cairn_rpc *rpc;
	struct tu_done d = {0};
	int rc;

	rc = cairn_rpc_create(cli, g_ep0, TP_OPC(TP_ECHO), &rpc);
	if (rc)
		return rc;
	((struct tp_echo_in *)cairn_rpc_in(rpc))->seq = seq;
	cairn_rpc_set_timeout(rpc, 1000 * 1000);
	rc = cairn_rpc_send(rpc, tu_done_cb, &d);
	if (rc == 0) {
		if (!tu_pump(&cli, 1, &d.calls, 1, 5000))
			rc = -CAIRN_ERR_TIMEDOUT;
		else
			rc = d.rc;
	}
	if (rc == 0 && ((struct tp_echo_out *)cairn_rpc_out(rpc))->seq != seq)
		rc = -CAIRN_ERR_MISC;
	cairn_rpc_decref(rpc);
	return rc;
}

static void
test_reconnect(void **state)
{
	struct cairn_net_group *grp;
	struct cairn_net_ctx *cli;
	struct cairn_net_stats st;
	uint16_t port, port2;
	pid_t pid;
	int ctl, rc, tries;
	char uri[64];

	assert_int_equal(cairn_net_group_create("re", &grp), 0);
	pid = tu_fork_server(NULL, 0, 0, 1, 0, &port, &ctl);
	assert_true(pid > 0);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%u", port);
	assert_int_equal(cairn_net_group_rank_add(grp, 0, uri), 0);
	cli = tu_client(grp, 0, 0);
	assert_int_equal(echo_once(cli, 1), 0);
	tu_kill(pid, ctl);
	rc = echo_once(cli, 2);
	assert_int_equal(rc, -CAIRN_ERR_UNREACH);
	/* While the server is down, sends fail fast (refused connects, capped backoff). */
	assert_int_equal(echo_once(cli, 3), -CAIRN_ERR_UNREACH);
	/* Restart on the same port: the client reconnects by itself. */
	pid = tu_fork_server(NULL, 0, 0, 1, port, &port2, &ctl);
	assert_true(pid > 0);
	assert_int_equal(port2, port);
	for (tries = 0; tries < 100; tries++) {
		rc = echo_once(cli, 100 + (uint64_t)tries);
		if (rc == 0)
			break;
		tu_pump_ms(&cli, 1, 20);
	}
	assert_int_equal(rc, 0);
	cairn_net_ctx_stats(cli, &st);
	assert_true(st.connects >= 2);
	tu_kill(pid, ctl);
	/* The rank is replaced by an engine at another address: update the group and the
	 * client follows it on its next connect. */
	pid = tu_fork_server(NULL, 0, 0, 1, 0, &port2, &ctl);
	assert_true(pid > 0);
	assert_int_not_equal(port2, port);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%u", port2);
	assert_int_equal(cairn_net_group_rank_set(grp, 0, uri), 0);
	for (tries = 0; tries < 100; tries++) {
		rc = echo_once(cli, 1000 + (uint64_t)tries);
		if (rc == 0)
			break;
		tu_pump_ms(&cli, 1, 20);
	}
	assert_int_equal(rc, 0);
	tu_kill(pid, ctl);
	cairn_net_ctx_destroy(cli);
	cairn_net_group_destroy(grp);
}

/* ------------------------------------------------------------------ bad input */

static int
raw_connect(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Pump the server until fd is closed by it (read returns 0 / ECONNRESET). */
static bool
raw_closed(struct fx *f, int fd)
{
	uint64_t end = tu_now_ms() + 3000;
	char buf[256];

	while (tu_now_ms() < end) {
		ssize_t r;

		cairn_net_progress(f->srv);
		r = read(fd, buf, sizeof(buf));
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
		usleep(100);
	}
	return false;
}

/* Pump until a 48-byte reply header arrives on fd. */
static int
raw_reply(struct fx *f, int fd, struct cairn_net_hdr *h)
{
	uint8_t buf[CAIRN_NET_HDR_SIZE];
	size_t got = 0;
	uint64_t end = tu_now_ms() + 3000;

	while (got < sizeof(buf) && tu_now_ms() < end) {
		ssize_t r;

		cairn_net_progress(f->srv);
		r = read(fd, buf + got, sizeof(buf) - got);
		if (r > 0)
			got += (size_t)r;
		else if (r == 0)
			return -1;
		else
			usleep(100);
	}
	if (got < sizeof(buf))
		return -1;
	return cairn_net_hdr_decode(buf, UINT32_MAX, h);
}

static void
send_hdr(int fd, struct cairn_net_hdr *h)
{
	uint8_t w[CAIRN_NET_HDR_SIZE];

	cairn_net_hdr_encode(h, w);
	assert_int_equal(write(fd, w, sizeof(w)), sizeof(w));
}

static void
test_bad_input(void **state)
{
	struct fx *f = *state;
	uint16_t port = cairn_net_ctx_port(f->srv);
	struct cairn_net_hdr h, r;
	struct cairn_net_stats st;
	int fd, fds[20], i, closed = 0;
	uint8_t junk[300];

	cairn_log_set_mask("FATAL"); /* the warnings below are expected */
	/* Garbage. */
	for (i = 0; i < (int)sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 77 + 1);
	fd = raw_connect(port);
	assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
	assert_true(raw_closed(f, fd));
	close(fd);
	/* Wrong magic. */
	fd = raw_connect(port);
	memset(&h, 0, sizeof(h));
	h.type = CAIRN_NET_MSG_REQ;
	cairn_net_hdr_encode(&h, junk);
	junk[0] = 'X';
	assert_int_equal(write(fd, junk, CAIRN_NET_HDR_SIZE), CAIRN_NET_HDR_SIZE);
	assert_true(raw_closed(f, fd));
	close(fd);
	/* A valid header announcing more than max_msg. */
	fd = raw_connect(port);
	h.opcode = TP_OPC(TP_ECHO);
	h.status = 3;
	h.body_len = 100u << 20;
	send_hdr(fd, &h);
	assert_true(raw_closed(f, fd));
	close(fd);
	/* A body shorter than announced, then close: nothing leaks, server lives. */
	fd = raw_connect(port);
	h.body_len = 1000;
	send_hdr(fd, &h);
	assert_int_equal(write(fd, junk, 10), 10);
	tu_pump_ms(&f->srv, 1, 20);
	close(fd);
	tu_pump_ms(&f->srv, 1, 20);
	/* Unknown opcode and wrong protocol version get error replies. */
	fd = raw_connect(port);
	h.body_len = 0;
	h.opcode = CAIRN_NET_OPC(0x4242, 1);
	h.rpc_id = 77;
	send_hdr(fd, &h);
	assert_int_equal(raw_reply(f, fd, &r), 0);
	assert_int_equal(r.type, CAIRN_NET_MSG_REPLY);
	assert_true(r.rpc_id == 77);
	assert_int_equal(r.status, -CAIRN_ERR_NOSYS);
	h.opcode = TP_OPC(TP_ECHO);
	h.status = 9;
	send_hdr(fd, &h);
	assert_int_equal(raw_reply(f, fd, &r), 0);
	assert_int_equal(r.status, -CAIRN_ERR_VERSION);
	/* A request body that does not decode: error reply, connection kept. */
	h.status = 3;
	h.body_len = 3;
	send_hdr(fd, &h);
	assert_int_equal(write(fd, junk, 3), 3);
	assert_int_equal(raw_reply(f, fd, &r), 0);
	assert_int_equal(r.status, -CAIRN_ERR_PROTO);
	close(fd);
	/* Connection flood beyond max_conns (8): extra connections are closed. */
	for (i = 0; i < 20; i++)
		fds[i] = raw_connect(port);
	{
		bool gone[20] = {false};
		uint64_t end = tu_now_ms() + 5000;

		while (closed < 12 && tu_now_ms() < end) {
			tu_pump_ms(&f->srv, 1, 10);
			for (i = 0; i < 20; i++) {
				char c;
				ssize_t n;

				if (gone[i])
					continue;
				n = read(fds[i], &c, 1);
				if (n == 0 || (n < 0 && errno == ECONNRESET)) {
					gone[i] = true;
					closed++;
				}
			}
		}
	}
	assert_true(closed >= 12);
	for (i = 0; i < 20; i++)
		close(fds[i]);
	tu_pump_ms(&f->srv, 1, 20);
	cairn_net_ctx_stats(f->srv, &st);
	assert_true(st.proto_errors >= 4);
	assert_true(st.conns_rejected >= 12);
	assert_int_equal(st.conns, 0);
	cairn_log_set_mask("ERR");
	/* Everyone else is still served. */
	{
		struct cairn_rpc *rpc;
		struct tu_done d = {0};

		assert_int_equal(cairn_rpc_create(f->cli, g_ep0, TP_OPC(TP_ECHO), &rpc), 0);
		assert_int_equal(cairn_rpc_send(rpc, tu_done_cb, &d), 0);
		assert_true(tu_pump(f->both, 2, &d.calls, 1, 5000));
		assert_int_equal(d.rc, 0);
		cairn_rpc_decref(rpc);
	}
}

/* A client that sends requests but never reads the replies: the server stops reading
 * it once 32 MiB of replies are queued (bounded memory), and frees it all on close. */
static void
test_backpressure(void **state)
{
	struct fx *f = *state;
	enum { PAYLOAD = 64 * 1024 };
	uint8_t *msg = calloc(1, CAIRN_NET_HDR_SIZE + 12 + PAYLOAD);
	struct cairn_net_hdr h = {.type = CAIRN_NET_MSG_REQ,
	                          .opcode = TP_OPC(TP_ECHO),
	                          .status = 3,
	                          .body_len = 12 + PAYLOAD};
	struct cairn_net_stats st;
	size_t len = CAIRN_NET_HDR_SIZE + 12 + PAYLOAD, off = 0;
	uint64_t sent = 0, stuck_since = 0;
	int fd = raw_connect(cairn_net_ctx_port(f->srv));

	cairn_put_le32(msg + CAIRN_NET_HDR_SIZE + 8, PAYLOAD);
	cairn_net_hdr_encode(&h, msg);
	while (sent < (200ull << 20)) {
		ssize_t w = send(fd, msg + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w > 0) {
			off += (size_t)w;
			sent += (uint64_t)w;
			stuck_since = 0;
			if (off == len)
				off = 0;
		} else {
			if (stuck_since == 0)
				stuck_since = tu_now_ms();
			else if (tu_now_ms() - stuck_since > 300)
				break;
		}
		cairn_net_progress(f->srv);
	}
	cairn_net_ctx_stats(f->srv, &st);
	assert_true(st.rx_paused > 0);
	/* The server stopped well before taking everything we had to send. */
	assert_true(sent < (200ull << 20));
	close(fd);
	tu_pump_ms(&f->srv, 1, 50);
	cairn_net_ctx_stats(f->srv, &st);
	assert_int_equal(st.conns, 0);
	free(msg);
}

/* Slowloris: half a header, then silence. The stalled connection is closed, an idle
 * one (between messages) is kept, and at max_conns a stalled one makes room. */
static void
test_stalled(void **state)
{
	struct cairn_net_group *grp;
	struct cairn_net_ctx_opts o;
	struct cairn_net_ctx *srv;
	struct cairn_net_stats st;
	struct fx fx;
	int idle, stuck, extra;
	uint8_t hdr[CAIRN_NET_HDR_SIZE];
	struct cairn_net_hdr h = {
	        .type = CAIRN_NET_MSG_REQ, .opcode = TP_OPC(TP_ECHO), .status = 3, .body_len = 100};
	char c;

	assert_int_equal(cairn_net_group_create("stall", &grp), 0);
	cairn_net_ctx_opts_default(&o);
	o.group = grp;
	o.rank = 0;
	o.listen_uri = "tcp://127.0.0.1:0";
	o.rx_stall_us = 100 * 1000;
	o.max_conns = 2;
	assert_int_equal(cairn_net_ctx_create(&o, &srv), 0);
	fx.srv = srv;
	cairn_log_set_mask("FATAL");
	idle = raw_connect(cairn_net_ctx_port(srv));
	stuck = raw_connect(cairn_net_ctx_port(srv));
	cairn_net_hdr_encode(&h, hdr);
	assert_int_equal(write(stuck, hdr, 20), 20);
	{
		uint64_t end = tu_now_ms() + 5000;

		do {
			tu_pump_ms(&srv, 1, 5);
			cairn_net_ctx_stats(srv, &st);
		} while (st.conns_accepted < 2 && tu_now_ms() < end);
	}
	assert_int_equal(st.conns, 2);
	assert_true(raw_closed(&fx, stuck));
	cairn_net_ctx_stats(srv, &st);
	assert_true(st.stalled == 1);
	assert_int_equal(st.conns, 1);
	assert_int_equal(read(idle, &c, 1), -1); /* still open: EAGAIN */
	assert_int_equal(errno, EAGAIN);
	/* Full house (idle + a new stuck one); one more client gets in once the stuck one
	 * has stalled long enough. */
	close(stuck);
	stuck = raw_connect(cairn_net_ctx_port(srv));
	assert_int_equal(write(stuck, hdr, 47), 47);
	tu_pump_ms(&srv, 1, 150);
	extra = raw_connect(cairn_net_ctx_port(srv));
	{
		uint64_t end = tu_now_ms() + 5000;

		do {
			tu_pump_ms(&srv, 1, 10);
			cairn_net_ctx_stats(srv, &st);
		} while ((st.stalled < 2 || st.conns_accepted < 4) && tu_now_ms() < end);
	}
	cairn_net_ctx_stats(srv, &st);
	assert_true(st.stalled == 2);
	assert_int_equal(st.conns, 2);
	assert_true(st.conns_rejected == 0);
	cairn_log_set_mask("ERR");
	close(idle);
	close(stuck);
	close(extra);
	cairn_net_ctx_destroy(srv);
	cairn_net_group_destroy(grp);
}

static void
test_group(void **state)
{
	struct cairn_net_group *g;
	char buf[64], host[64];
	uint32_t ranks[4];
	uint16_t port;
	const char *uris[] = {"tcp://127.0.0.1:1000", "tcp://localhost:2000"};

	cairn_log_set_mask("FATAL"); /* the errors below are expected */
	assert_int_equal(cairn_net_group_create("g", &g), 0);
	assert_int_equal(cairn_net_group_attach(g, uris, 2), 0);
	assert_int_equal(cairn_net_group_rank_add(g, 1, "tcp://h:1"), -CAIRN_ERR_EXIST);
	assert_int_equal(cairn_net_group_rank_add(g, 9, "http://h:1"), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_net_group_rank_add(g, 9, "tcp://h:70000"), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_net_group_rank_add(g, 9, "tcp://h:"), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_net_group_rank_add(g, 9, "tcp://:5"), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_net_group_rank_add(g, 5, "tcp://10.0.0.1:5"), 0);
	assert_int_equal(cairn_net_group_ranks(g, ranks, 4), 3);
	assert_int_equal(ranks[2], 5);
	assert_int_equal(cairn_net_group_rank_set(g, 1, "tcp://10.0.0.2:7"), 0);
	assert_int_equal(cairn_net_group_uri(g, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "tcp://10.0.0.2:7");
	assert_int_equal(cairn_net_group_uri(g, 1, buf, 5), -CAIRN_ERR_TRUNC);
	assert_int_equal(cairn_net_group_rank_remove(g, 1), 0);
	assert_int_equal(cairn_net_group_rank_remove(g, 1), -CAIRN_ERR_NONEXIST);
	assert_int_equal(cairn_net_group_size(g), 2);
	assert_int_equal(cairn_net_uri_parse("tcp://a.b:80", host, sizeof(host), &port), 0);
	assert_string_equal(host, "a.b");
	assert_int_equal(port, 80);
	cairn_net_group_destroy(g);
	cairn_log_set_mask("ERR");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_group),
	        cmocka_unit_test(test_knomial),
	        cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_register, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_timeout_late_reply, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_race_reply_timeout, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_credits, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bulk, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bulk_many_iov, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bulk_errors, setup, teardown),
	        cmocka_unit_test(test_bulk_timeout),
	        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
	        cmocka_unit_test(test_stalled),
	        cmocka_unit_test(test_coll_inproc),
	        cmocka_unit_test(test_coll_multiproc),
	        cmocka_unit_test(test_peer_killed),
	        cmocka_unit_test(test_reconnect),
	};

	signal(SIGPIPE, SIG_IGN);
	cairn_log_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
