/*
 * Cairn RPC wire header. Every message on a connection is one 48-byte header followed by
 * body_len bytes (request/reply body, or bulk data). All fields little-endian; the header
 * CRC32C (ISA-L crc32_iscsi) covers bytes 0..43.
 *
 *   off size field
 *    0   4   magic      CAIRN_NET_MAGIC ("CRN1" read as LE u32)
 *    4   1   version    CAIRN_NET_WIRE_VERSION
 *    5   1   type       enum cairn_net_msg_type
 *    6   2   flags      CAIRN_NET_F_*
 *    8   4   opcode     RPC opcode (base << 8 | index); 0 for bulk messages
 *   12   4   status     reply / bulk status (0 or -CAIRN_ERR_*); proto version in requests
 *   16   8   rpc_id     request id (REQ/REPLY) or transfer id (BULK_*)
 *   24   8   aux        bulk id (BULK_GET_REQ, BULK_PUT_DATA), timeout_us in REQ
 *   32   8   aux2       byte offset within the bulk (BULK_*), length in BULK_GET_REQ
 *   40   4   body_len   bytes following the header
 *   44   4   hdr_crc    CRC32C of bytes 0..43
 */
#ifndef CAIRN_NET_WIRE_H
#define CAIRN_NET_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define CAIRN_NET_MAGIC 0x314e5243u /* "CRN1" */
#define CAIRN_NET_WIRE_VERSION 1u
#define CAIRN_NET_HDR_SIZE 48u

enum cairn_net_msg_type {
	CAIRN_NET_MSG_REQ = 1,           /* request: opcode, rpc_id, body = encoded input */
	CAIRN_NET_MSG_REPLY = 2,         /* reply: rpc_id, status, body = encoded output */
	CAIRN_NET_MSG_BULK_GET = 3,      /* pull: xfer id, bulk id (aux), offset, length (aux2=off,
	                                  * body = u64 length) */
	CAIRN_NET_MSG_BULK_GET_DATA = 4, /* answer to BULK_GET: data segment at offset aux2 */
	CAIRN_NET_MSG_BULK_PUT_DATA = 5, /* push: data segment for bulk aux at offset aux2 */
	CAIRN_NET_MSG_BULK_PUT_ACK = 6,  /* end of a push: status */
	CAIRN_NET_MSG_TYPE_MAX
};

#define CAIRN_NET_F_ONEWAY 0x0001u /* REQ: no reply expected */
#define CAIRN_NET_F_LAST 0x0002u   /* BULK_*_DATA: last segment of the transfer */
#define CAIRN_NET_F_COLL 0x0004u   /* REQ/REPLY: collective (body starts with coll header) */
#define CAIRN_NET_F_ALL 0x0007u

/* Byte layout, for documentation and the size assert; encode/decode go field by field. */
struct cairn_net_hdr_wire {
	uint32_t magic;
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint32_t opcode;
	int32_t status;
	uint64_t rpc_id;
	uint64_t aux;
	uint64_t aux2;
	uint32_t body_len;
	uint32_t hdr_crc;
};
_Static_assert(sizeof(struct cairn_net_hdr_wire) == CAIRN_NET_HDR_SIZE, "wire header size");
_Static_assert(offsetof(struct cairn_net_hdr_wire, hdr_crc) == 44, "wire header crc offset");

/* Host form of the header. */
struct cairn_net_hdr {
	uint8_t type;
	uint16_t flags;
	uint32_t opcode;
	int32_t status;
	uint64_t rpc_id;
	uint64_t aux;
	uint64_t aux2;
	uint32_t body_len;
};

/* Serialize (magic, version and CRC filled in). */
void cairn_net_hdr_encode(const struct cairn_net_hdr *h, uint8_t out[CAIRN_NET_HDR_SIZE]);
/* Parse and validate: magic, version, CRC, type, flags and body_len <= max_body.
 * Returns 0, -CAIRN_ERR_PROTO (garbage), -CAIRN_ERR_VERSION, -CAIRN_ERR_CSUM or
 * -CAIRN_ERR_OVERFLOW (body too large). */
int cairn_net_hdr_decode(const uint8_t in[CAIRN_NET_HDR_SIZE], uint32_t max_body,
                         struct cairn_net_hdr *h);
uint32_t cairn_net_crc32c(const void *buf, size_t len);

#endif /* CAIRN_NET_WIRE_H */
