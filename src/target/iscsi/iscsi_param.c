/*
 * Operational text-key negotiation (RFC 7143 section 13): each key's result function
 * (boolean AND/OR, numerical min/max, list selection, declarations).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "cairn/errno.h"
#include "iscsi_internal.h"

void
iscsi_params_default(struct iscsi_params *p)
{
	/* RFC 7143 defaults, in force until negotiated otherwise. */
	p->header_digest = false;
	p->data_digest = false;
	p->max_recv_dsl = 8192;
	p->max_send_dsl = 8192;
	p->first_burst = 65536;
	p->max_burst = 262144;
	p->immediate_data = true;
	p->initial_r2t = true;
	p->max_outstanding_r2t = 1;
	p->data_pdu_in_order = true;
	p->data_seq_in_order = true;
	p->erl = 0;
	p->time2wait = 2;
	p->time2retain = 20;
	p->max_connections = 1;
}

void
iscsi_param_limits_default(struct iscsi_param_limits *l)
{
	l->max_recv_dsl = 262144;
	l->first_burst = 65536;
	l->max_burst = 1048576;
	l->immediate_data = true;
	l->initial_r2t = false;
	l->max_outstanding_r2t = 16;
	l->time2wait = 2;
	l->time2retain = 20;
	l->max_connections = 4;
	l->allow_digests = true;
}

int
iscsi_parse_number(const char *val, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!val || !*val || *val == '-' || *val == '+' || *val == ' ')
		return -CAIRN_ERR_INVAL;
	errno = 0;
	if (val[0] == '0' && (val[1] == 'x' || val[1] == 'X'))
		v = strtoull(val + 2, &end, 16);
	else
		v = strtoull(val, &end, 10);
	if (errno || *end || end == val || v > max)
		return -CAIRN_ERR_INVAL;
	*out = v;
	return 0;
}

static int
parse_bool(const char *val, bool *out)
{
	if (strcmp(val, "Yes") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(val, "No") == 0) {
		*out = false;
		return 0;
	}
	return -CAIRN_ERR_INVAL;
}

static const char *
yes_no(bool b)
{
	return b ? "Yes" : "No";
}

/* Pick from a comma list of "CRC32C"/"None": the first value we support. */
static int
negotiate_digest(const char *val, bool allow, bool *out)
{
	const char *tok = val;

	while (*tok) {
		const char *end = strchr(tok, ',');
		size_t len = end ? (size_t)(end - tok) : strlen(tok);

		if (len == 6 && strncmp(tok, "CRC32C", 6) == 0 && allow) {
			*out = true;
			return 0;
		}
		if (len == 4 && strncmp(tok, "None", 4) == 0) {
			*out = false;
			return 0;
		}
		if (!end)
			break;
		tok = end + 1;
	}
	return -CAIRN_ERR_INVAL;
}

enum {
	KB_HEADER_DIGEST = 1u << 0,
	KB_DATA_DIGEST = 1u << 1,
	KB_MRDSL = 1u << 2,
	KB_FIRST_BURST = 1u << 3,
	KB_MAX_BURST = 1u << 4,
	KB_IMMEDIATE = 1u << 5,
	KB_INITIAL_R2T = 1u << 6,
	KB_MAX_R2T = 1u << 7,
	KB_PDU_ORDER = 1u << 8,
	KB_SEQ_ORDER = 1u << 9,
	KB_ERL = 1u << 10,
	KB_T2W = 1u << 11,
	KB_T2R = 1u << 12,
	KB_MAX_CONNS = 1u << 13,
};

static const struct {
	const char *name;
	uint32_t bit;
} g_key_bits[] = {
	{"HeaderDigest", KB_HEADER_DIGEST},
	{"DataDigest", KB_DATA_DIGEST},
	{"MaxRecvDataSegmentLength", KB_MRDSL},
	{"FirstBurstLength", KB_FIRST_BURST},
	{"MaxBurstLength", KB_MAX_BURST},
	{"ImmediateData", KB_IMMEDIATE},
	{"InitialR2T", KB_INITIAL_R2T},
	{"MaxOutstandingR2T", KB_MAX_R2T},
	{"DataPDUInOrder", KB_PDU_ORDER},
	{"DataSequenceInOrder", KB_SEQ_ORDER},
	{"ErrorRecoveryLevel", KB_ERL},
	{"DefaultTime2Wait", KB_T2W},
	{"DefaultTime2Retain", KB_T2R},
	{"MaxConnections", KB_MAX_CONNS},
};

uint32_t
iscsi_param_key_bit(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(g_key_bits) / sizeof(g_key_bits[0]); i++)
		if (strcmp(g_key_bits[i].name, key) == 0)
			return g_key_bits[i].bit;
	return 0;
}

static uint32_t
min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

int
iscsi_param_negotiate(struct iscsi_params *p, const struct iscsi_param_limits *lim,
		      bool discovery, const char *key, const char *val,
		      struct iscsi_textbuf *tb)
{
	uint64_t n;
	bool b;

	if (strcmp(key, "HeaderDigest") == 0 || strcmp(key, "DataDigest") == 0) {
		bool *dst = key[0] == 'H' ? &p->header_digest : &p->data_digest;

		if (negotiate_digest(val, lim->allow_digests, dst)) {
			iscsi_textbuf_add(tb, key, "Reject");
			return -CAIRN_ERR_PROTO;
		}
		iscsi_textbuf_add(tb, key, "%s", *dst ? "CRC32C" : "None");
		return 1;
	}
	if (strcmp(key, "MaxRecvDataSegmentLength") == 0) {
		/* Declarative: the initiator's receive limit bounds what we send. */
		if (iscsi_parse_number(val, 16777215, &n) || n < 512) {
			iscsi_textbuf_add(tb, key, "Reject");
			return -CAIRN_ERR_PROTO;
		}
		p->max_send_dsl = (uint32_t)n;
		/* Our own value is declared by iscsi_param_declare(). */
		return 1;
	}
	if (strcmp(key, "MaxConnections") == 0) {
		if (iscsi_parse_number(val, 65535, &n) || n < 1) {
			iscsi_textbuf_add(tb, key, "Reject");
			return -CAIRN_ERR_PROTO;
		}
		p->max_connections = discovery ? 1 : min32((uint32_t)n, lim->max_connections);
		iscsi_textbuf_add(tb, key, "%u", p->max_connections);
		return 1;
	}
	if (strcmp(key, "ErrorRecoveryLevel") == 0) {
		if (iscsi_parse_number(val, 2, &n)) {
			iscsi_textbuf_add(tb, key, "Reject");
			return -CAIRN_ERR_PROTO;
		}
		p->erl = 0; /* min(offer, 0) */
		iscsi_textbuf_add(tb, key, "0");
		return 1;
	}
	if (strcmp(key, "DefaultTime2Wait") == 0 || strcmp(key, "DefaultTime2Retain") == 0) {
		bool wait = strcmp(key, "DefaultTime2Wait") == 0;

		if (iscsi_parse_number(val, 3600, &n)) {
			iscsi_textbuf_add(tb, key, "Reject");
			return -CAIRN_ERR_PROTO;
		}
		if (wait) {
			/* max() */
			p->time2wait = (uint32_t)n > lim->time2wait ? (uint32_t)n : lim->time2wait;
			iscsi_textbuf_add(tb, key, "%u", p->time2wait);
		} else {
			p->time2retain = min32((uint32_t)n, lim->time2retain);
			iscsi_textbuf_add(tb, key, "%u", p->time2retain);
		}
		return 1;
	}
	if (strcmp(key, "DataPDUInOrder") == 0 || strcmp(key, "DataSequenceInOrder") == 0) {
		if (parse_bool(val, &b)) {
			iscsi_textbuf_add(tb, key, "Reject");
			return -CAIRN_ERR_PROTO;
		}
		/* OR with our Yes: always Yes. */
		if (key[4] == 'P')
			p->data_pdu_in_order = true;
		else
			p->data_seq_in_order = true;
		iscsi_textbuf_add(tb, key, "Yes");
		return 1;
	}
	if (discovery &&
	    (strcmp(key, "InitialR2T") == 0 || strcmp(key, "ImmediateData") == 0 ||
	     strcmp(key, "MaxBurstLength") == 0 || strcmp(key, "FirstBurstLength") == 0 ||
	     strcmp(key, "MaxOutstandingR2T") == 0)) {
		iscsi_textbuf_add(tb, key, "Irrelevant");
		return 1;
	}
	if (strcmp(key, "InitialR2T") == 0) {
		if (parse_bool(val, &b)) {
			iscsi_textbuf_add(tb, key, "Reject");
			return -CAIRN_ERR_PROTO;
		}
		p->initial_r2t = b || lim->initial_r2t;
		iscsi_textbuf_add(tb, key, "%s", yes_no(p->initial_r2t));
		return 1;
	}
	if (strcmp(key, "ImmediateData") == 0) {
		if (parse_bool(val, &b)) {
			iscsi_textbuf_add(tb, key, "Reject");
			return -CAIRN_ERR_PROTO;
		}
		p->immediate_data = b && lim->immediate_data;
		iscsi_textbuf_add(tb, key, "%s", yes_no(p->immediate_data));
		return 1;
	}
	if (strcmp(key, "MaxBurstLength") == 0 || strcmp(key, "FirstBurstLength") == 0) {
		bool first = key[0] == 'F';

		if (iscsi_parse_number(val, 16777215, &n) || n < 512) {
			iscsi_textbuf_add(tb, key, "Reject");
			return -CAIRN_ERR_PROTO;
		}
		if (first) {
			p->first_burst = min32((uint32_t)n, lim->first_burst);
			iscsi_textbuf_add(tb, key, "%u", p->first_burst);
		} else {
			p->max_burst = min32((uint32_t)n, lim->max_burst);
			iscsi_textbuf_add(tb, key, "%u", p->max_burst);
		}
		return 1;
	}
	if (strcmp(key, "MaxOutstandingR2T") == 0) {
		if (iscsi_parse_number(val, 65535, &n) || n < 1) {
			iscsi_textbuf_add(tb, key, "Reject");
			return -CAIRN_ERR_PROTO;
		}
		p->max_outstanding_r2t = min32((uint32_t)n, lim->max_outstanding_r2t);
		iscsi_textbuf_add(tb, key, "%u", p->max_outstanding_r2t);
		return 1;
	}
	if (strcmp(key, "IFMarker") == 0 || strcmp(key, "OFMarker") == 0) {
		iscsi_textbuf_add(tb, key, "No");
		return 1;
	}
	if (strcmp(key, "IFMarkInt") == 0 || strcmp(key, "OFMarkInt") == 0) {
		iscsi_textbuf_add(tb, key, "Irrelevant");
		return 1;
	}
	return 0;
}

void
iscsi_param_declare(struct iscsi_params *p, const struct iscsi_param_limits *lim,
		    bool discovery, uint32_t offered_mask, struct iscsi_textbuf *tb)
{
	p->max_recv_dsl = lim->max_recv_dsl;
	iscsi_textbuf_add(tb, "MaxRecvDataSegmentLength", "%u", p->max_recv_dsl);
	if (p->first_burst > p->max_burst)
		p->first_burst = p->max_burst;
	if (discovery)
		return;
	/* If the initiator did not offer a key its RFC default stands, and for keys where
	 * our limit is stricter than that default we must say so ourselves. */
	if (!(offered_mask & KB_MAX_BURST) && p->max_burst > lim->max_burst) {
		p->max_burst = lim->max_burst;
		iscsi_textbuf_add(tb, "MaxBurstLength", "%u", p->max_burst);
	}
	if (!(offered_mask & KB_FIRST_BURST) && p->first_burst > lim->first_burst) {
		p->first_burst = lim->first_burst;
		iscsi_textbuf_add(tb, "FirstBurstLength", "%u", p->first_burst);
	}
	if (!(offered_mask & KB_IMMEDIATE) && !lim->immediate_data) {
		p->immediate_data = false;
		iscsi_textbuf_add(tb, "ImmediateData", "No");
	}
}
