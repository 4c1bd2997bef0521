/*
 * PDU header decoding and validation, CRC32C digests, and the key=value text format
 * (RFC 7143 sections 11 and 6). Pure functions: no connection state.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include <isa-l/crc.h>

#include "cairn/errno.h"
#include "iscsi_internal.h"

uint32_t
iscsi_crc32c(const void *buf, size_t len, uint32_t crc)
{
	return crc32_iscsi((unsigned char *)(uintptr_t)buf, (int)len, crc);
}

uint32_t
iscsi_digest(const void *buf, size_t len)
{
	return iscsi_crc32c_final(iscsi_crc32c(buf, len, ISCSI_CRC32C_INIT));
}

int
iscsi_bhs_decode(const uint8_t bhs[ISCSI_BHS_LEN], uint32_t max_data,
		 struct iscsi_bhs_info *info, uint8_t *reject_reason, const char **why)
{
	uint8_t op = bhs[0];

	info->opcode = op & ISCSI_OPCODE_MASK;
	info->immediate = (op & ISCSI_OP_IMMEDIATE) != 0;
	info->flags = bhs[1];
	info->ahs_len = (uint16_t)(bhs[4] * 4);
	info->data_len = iscsi_get_be24(bhs + 5);
	info->itt = iscsi_get_be32(bhs + 16);
	*reject_reason = ISCSI_REJECT_PROTOCOL;

	if (op & 0x80) {
		*why = "bit 0 of the opcode byte is reserved";
		return -CAIRN_ERR_PROTO;
	}
	if (bhs[4] != 0) {
		/* Only the SCSI command may carry AHS (extended CDB, bidi read length). */
		if (info->opcode != ISCSI_OP_SCSI_CMD) {
			*why = "AHS on a PDU that cannot carry one";
			return -CAIRN_ERR_PROTO;
		}
	}
	if (info->data_len > max_data) {
		*why = "data segment longer than MaxRecvDataSegmentLength";
		return -CAIRN_ERR_PROTO;
	}

	switch (info->opcode) {
	case ISCSI_OP_NOPOUT:
		if (!(info->flags & ISCSI_FLAG_FINAL) || (info->flags & 0x7f)) {
			*why = "NOP-Out flags must be 0x80";
			return -CAIRN_ERR_PROTO;
		}
		if (info->itt == ISCSI_RSVD_TAG && !info->immediate) {
			*why = "NOP-Out without ITT must be immediate";
			return -CAIRN_ERR_PROTO;
		}
		break;
	case ISCSI_OP_SCSI_CMD:
		if ((info->flags & 0x18) != 0) {
			*why = "reserved bits set in SCSI command flags";
			return -CAIRN_ERR_PROTO;
		}
		if (!(info->flags & ISCSI_FLAG_FINAL) && !(info->flags & ISCSI_CMD_WRITE)) {
			*why = "F bit clear on a command without write data";
			return -CAIRN_ERR_PROTO;
		}
		if (info->itt == ISCSI_RSVD_TAG) {
			*why = "SCSI command with the reserved ITT";
			return -CAIRN_ERR_PROTO;
		}
		break;
	case ISCSI_OP_TASK_REQ:
		if (!(info->flags & ISCSI_FLAG_FINAL)) {
			*why = "task management request without F bit";
			return -CAIRN_ERR_PROTO;
		}
		if (info->data_len) {
			*why = "task management request with data";
			return -CAIRN_ERR_PROTO;
		}
		break;
	case ISCSI_OP_LOGIN_REQ:
		if (!info->immediate) {
			*why = "login request without immediate bit";
			return -CAIRN_ERR_PROTO;
		}
		if ((info->flags & ISCSI_LOGIN_TRANSIT) && (info->flags & ISCSI_LOGIN_CONTINUE)) {
			*why = "login request with both T and C bits";
			return -CAIRN_ERR_PROTO;
		}
		break;
	case ISCSI_OP_TEXT_REQ:
		if ((info->flags & ISCSI_FLAG_FINAL) && (info->flags & ISCSI_TEXT_CONTINUE)) {
			*why = "text request with both F and C bits";
			return -CAIRN_ERR_PROTO;
		}
		if (info->itt == ISCSI_RSVD_TAG) {
			*why = "text request with the reserved ITT";
			return -CAIRN_ERR_PROTO;
		}
		break;
	case ISCSI_OP_DATA_OUT:
		if (info->flags & 0x7f) {
			*why = "reserved bits set in Data-Out flags";
			return -CAIRN_ERR_PROTO;
		}
		break;
	case ISCSI_OP_LOGOUT_REQ:
		if (!(info->flags & ISCSI_FLAG_FINAL) || (info->flags & 0x7f) > 2) {
			*why = "logout request with bad flags or reason";
			return -CAIRN_ERR_PROTO;
		}
		if (info->data_len) {
			*why = "logout request with data";
			return -CAIRN_ERR_PROTO;
		}
		break;
	case ISCSI_OP_SNACK:
		*reject_reason = ISCSI_REJECT_SNACK;
		*why = "SNACK is not supported at ErrorRecoveryLevel 0";
		return -CAIRN_ERR_NOSYS;
	default:
		*reject_reason = ISCSI_REJECT_CMD_NOT_SUPPORTED;
		*why = "unknown opcode";
		return -CAIRN_ERR_NOSYS;
	}
	return 0;
}

/* ------------------------------------------------------------------ text keys */

static bool
key_char_ok(char c)
{
	/* RFC 7143 6.1: a-z, A-Z, 0-9, '.', '-', '+', '@', '_' */
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '+' || c == '@' ||
	       c == '_';
}

int
iscsi_text_parse(char *buf, size_t len, size_t cap, struct iscsi_text *out, const char **why)
{
	size_t pos = 0;

	out->n = 0;
	if (len && buf[len - 1] != '\0') {
		if (len >= cap) {
			*why = "text data not NUL terminated";
			return -CAIRN_ERR_PROTO;
		}
		buf[len++] = '\0';
	}
	while (pos < len) {
		char *pair = buf + pos;
		size_t plen = strnlen(pair, len - pos);
		char *eq;
		size_t klen, vlen;
		unsigned i;

		if (plen == 0) {
			/* Some initiators pad with extra NULs; tolerate trailing zeros only. */
			while (pos < len && buf[pos] == '\0')
				pos++;
			if (pos < len) {
				*why = "empty key=value pair";
				return -CAIRN_ERR_PROTO;
			}
			break;
		}
		eq = memchr(pair, '=', plen);
		if (!eq) {
			*why = "key without '='";
			return -CAIRN_ERR_PROTO;
		}
		klen = (size_t)(eq - pair);
		vlen = plen - klen - 1;
		if (klen == 0 || klen > ISCSI_KEY_MAX) {
			*why = "key empty or longer than 63 bytes";
			return -CAIRN_ERR_PROTO;
		}
		if (vlen > ISCSI_VALUE_MAX) {
			*why = "value longer than 8192 bytes";
			return -CAIRN_ERR_PROTO;
		}
		for (i = 0; i < klen; i++) {
			if (!key_char_ok(pair[i])) {
				*why = "invalid character in key";
				return -CAIRN_ERR_PROTO;
			}
		}
		*eq = '\0';
		for (i = 0; i < out->n; i++) {
			if (strcmp(out->kv[i].key, pair) == 0) {
				*why = "key sent twice";
				return -CAIRN_ERR_PROTO;
			}
		}
		if (out->n == ISCSI_TEXT_MAX_PAIRS) {
			*why = "too many keys";
			return -CAIRN_ERR_PROTO;
		}
		out->kv[out->n].key = pair;
		out->kv[out->n].val = eq + 1;
		out->n++;
		pos += plen + 1;
	}
	return 0;
}

const char *
iscsi_text_get(const struct iscsi_text *t, const char *key)
{
	unsigned i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->kv[i].key, key) == 0)
			return t->kv[i].val;
	return NULL;
}

void
iscsi_textbuf_add(struct iscsi_textbuf *tb, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n, m;
	size_t room;

	if (tb->overflow)
		return;
	room = tb->cap - tb->len;
	n = snprintf(tb->buf + tb->len, room, "%s=", key);
	if (n < 0 || (size_t)n >= room) {
		tb->overflow = true;
		return;
	}
	va_start(ap, fmt);
	m = vsnprintf(tb->buf + tb->len + n, room - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)(n + m) + 1 > room) {
		tb->overflow = true;
		return;
	}
	tb->len += (size_t)(n + m) + 1; /* keep the NUL */
}
