/*
 * A test protocol for the net unit tests: echo, hold (no reply until the test says so),
 * bulk round trip, collective sum, one-way.
 */
#ifndef CAIRN_TEST_NET_PROTO_H
#define CAIRN_TEST_NET_PROTO_H

#include <stdint.h>

#include "net/net.h"

#define TP_BASE 0x7e57
enum { TP_ECHO = 0, TP_HOLD, TP_BULK, TP_SUM, TP_ONEWAY, TP_BULK_WAIT, TP_NESTED, TP_COUNT };
#define TP_OPC(i) CAIRN_NET_OPC(TP_BASE, i)

struct tp_echo_in {
	uint64_t seq;
	const void *data;
	uint32_t len;
};
struct tp_echo_out {
	uint64_t seq;
	const void *data;
	uint32_t len;
};
struct tp_bulk_in {
	struct cairn_bulk_desc src; /* client memory to GET */
	struct cairn_bulk_desc dst; /* client memory to PUT into (each byte + 1) */
	uint64_t len;
};
struct tp_bulk_out {
	uint32_t crc;
};
struct tp_sum_in {
	uint64_t v;
};
struct tp_sum_out {
	uint64_t sum;
	uint32_t count;
};
struct tp_nested_in {
	uint32_t rank; /* forward an echo to (rank, tag) and wait */
	uint16_t tag;
};

#define TP_MAX_HELD 64
/* Requests held by TP_HOLD (reference taken). */
extern struct cairn_rpc *g_tp_held[TP_MAX_HELD];
extern unsigned g_tp_nheld;
extern unsigned g_tp_max_held;
extern unsigned g_tp_oneway;
extern int g_tp_fail_rank;        /* TP_SUM handler replies an error on this rank (-1: none) */
extern int g_tp_prefwd_fail_rank; /* TP_SUM pre-forward hook fails on this rank */
extern unsigned g_tp_prefwd_calls;

int tp_register(void);
/* Reply to the i-th held request (out.seq = in.seq) and drop it. */
void tp_release(unsigned i);
void tp_release_all(void);

#endif
