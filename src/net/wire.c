/*
 * Wire header encode/decode with magic, version, type, length and CRC32C checks.
 */
#include <isa-l/crc.h>
#include <string.h>

#include "cairn/errno.h"
#include "net/codec.h"
#include "net/wire.h"

uint32_t
cairn_net_crc32c(const void *buf, size_t len)
{
	return ~crc32_iscsi((unsigned char *)(uintptr_t)buf, (int)len, 0xffffffffu);
}

void
cairn_net_hdr_encode(const struct cairn_net_hdr *h, uint8_t out[CAIRN_NET_HDR_SIZE])
{
	cairn_put_le32(out + 0, CAIRN_NET_MAGIC);
	out[4] = CAIRN_NET_WIRE_VERSION;
	out[5] = h->type;
	cairn_put_le16(out + 6, h->flags);
	cairn_put_le32(out + 8, h->opcode);
	cairn_put_le32(out + 12, (uint32_t)h->status);
	cairn_put_le64(out + 16, h->rpc_id);
	cairn_put_le64(out + 24, h->aux);
	cairn_put_le64(out + 32, h->aux2);
	cairn_put_le32(out + 40, h->body_len);
	cairn_put_le32(out + 44, cairn_net_crc32c(out, 44));
}

int
cairn_net_hdr_decode(const uint8_t in[CAIRN_NET_HDR_SIZE], uint32_t max_body,
                     struct cairn_net_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (cairn_get_le32(in) != CAIRN_NET_MAGIC)
		return -CAIRN_ERR_PROTO;
	if (in[4] != CAIRN_NET_WIRE_VERSION)
		return -CAIRN_ERR_VERSION;
	if (cairn_get_le32(in + 44) != cairn_net_crc32c(in, 44))
		return -CAIRN_ERR_CSUM;
	h->type = in[5];
	h->flags = cairn_get_le16(in + 6);
	h->opcode = cairn_get_le32(in + 8);
	h->status = (int32_t)cairn_get_le32(in + 12);
	h->rpc_id = cairn_get_le64(in + 16);
	h->aux = cairn_get_le64(in + 24);
	h->aux2 = cairn_get_le64(in + 32);
	h->body_len = cairn_get_le32(in + 40);
	if (h->type == 0 || h->type >= CAIRN_NET_MSG_TYPE_MAX)
		return -CAIRN_ERR_PROTO;
	if (h->flags & ~CAIRN_NET_F_ALL)
		return -CAIRN_ERR_PROTO;
	if (h->body_len > max_body)
		return -CAIRN_ERR_OVERFLOW;
	return 0;
}
