/*
 * Persistent reservations (SPC-4 5.9): PERSISTENT RESERVE OUT service actions
 * (REGISTER, REGISTER AND IGNORE EXISTING KEY, RESERVE, RELEASE, CLEAR, PREEMPT,
 * PREEMPT AND ABORT), PERSISTENT RESERVE IN (READ KEYS, READ RESERVATION, REPORT
 * CAPABILITIES, READ FULL STATUS) and the conflict rules of the six reservation types.
 * Pure logic over struct cairn_scsi_pr; the caller serialises access. State is not
 * persisted across restarts (APTPL is refused).
 */
#include <stdio.h>
#include <string.h>

#include "scsi_internal.h"

#define PR_OUT_REGISTER 0
#define PR_OUT_RESERVE 1
#define PR_OUT_RELEASE 2
#define PR_OUT_CLEAR 3
#define PR_OUT_PREEMPT 4
#define PR_OUT_PREEMPT_ABORT 5
#define PR_OUT_REGISTER_IGNORE 6
#define PR_OUT_REGISTER_MOVE 7

#define PR_IN_READ_KEYS 0
#define PR_IN_READ_RESERVATION 1
#define PR_IN_REPORT_CAPABILITIES 2
#define PR_IN_READ_FULL_STATUS 3

void
cairn_scsi_pr_init(struct cairn_scsi_pr *pr)
{
	memset(pr, 0, sizeof(*pr));
	pr->holder = -1;
	pr->type = CAIRN_SCSI_PR_NONE;
}

static bool
type_all_regs(enum cairn_scsi_pr_type t)
{
	return t == CAIRN_SCSI_PR_WRITE_EXCLUSIVE_ALL_REGS ||
	       t == CAIRN_SCSI_PR_EXCLUSIVE_ACCESS_ALL_REGS;
}

static bool
type_valid(unsigned t)
{
	return t == 1 || t == 3 || t == 5 || t == 6 || t == 7 || t == 8;
}

static int
find_reg(const struct cairn_scsi_pr *pr, const char *port)
{
	unsigned i;

	for (i = 0; i < pr->nregs; i++)
		if (strcmp(pr->regs[i].port, port) == 0)
			return (int)i;
	return -1;
}

static bool
is_holder(const struct cairn_scsi_pr *pr, int idx)
{
	if (pr->type == CAIRN_SCSI_PR_NONE || idx < 0)
		return false;
	if (type_all_regs(pr->type))
		return true;
	return pr->holder == idx;
}

static void
remove_reg(struct cairn_scsi_pr *pr, unsigned idx)
{
	bool was_holder = pr->type != CAIRN_SCSI_PR_NONE && !type_all_regs(pr->type) &&
			  pr->holder == (int)idx;

	if (idx + 1 < pr->nregs)
		memmove(&pr->regs[idx], &pr->regs[idx + 1],
			(pr->nregs - idx - 1) * sizeof(pr->regs[0]));
	pr->nregs--;
	if (was_holder) {
		pr->holder = -1;
		pr->type = CAIRN_SCSI_PR_NONE;
	} else if (pr->holder == (int)idx) {
		pr->holder = -1; /* all-registrants: every registrant holds it; no index */
	} else if (pr->holder > (int)idx) {
		pr->holder--;
	}
	if (pr->nregs == 0) {
		/* All-registrants reservations end with the last registrant. */
		pr->holder = -1;
		pr->type = CAIRN_SCSI_PR_NONE;
	}
}

bool
cairn_scsi_pr_conflict(const struct cairn_scsi_pr *pr, const char *port, bool write, bool read)
{
	int idx;

	if (pr->type == CAIRN_SCSI_PR_NONE || (!write && !read))
		return false;
	idx = find_reg(pr, port);
	if (is_holder(pr, idx))
		return false;
	switch (pr->type) {
	case CAIRN_SCSI_PR_WRITE_EXCLUSIVE:
		return write;
	case CAIRN_SCSI_PR_EXCLUSIVE_ACCESS:
		return true;
	case CAIRN_SCSI_PR_WRITE_EXCLUSIVE_REG_ONLY:
	case CAIRN_SCSI_PR_WRITE_EXCLUSIVE_ALL_REGS:
		return write && idx < 0;
	case CAIRN_SCSI_PR_EXCLUSIVE_ACCESS_REG_ONLY:
	case CAIRN_SCSI_PR_EXCLUSIVE_ACCESS_ALL_REGS:
		return idx < 0;
	default:
		return false;
	}
}

static uint8_t
conflict(void)
{
	return CAIRN_SCSI_STATUS_RESERVATION_CONFLICT;
}

static uint8_t
check(uint8_t *sense, uint8_t *sense_len, uint16_t asc, int field, bool cdb)
{
	*sense_len = cairn_scsi_sense_fixed(sense, CAIRN_SCSI_SK_ILLEGAL_REQUEST, asc, field, cdb,
					    -1);
	return CAIRN_SCSI_STATUS_CHECK_CONDITION;
}

uint8_t
cairn_scsi_pr_out(struct cairn_scsi_pr *pr, const char *port, uint16_t rel_tgt_port,
		  const uint8_t *cdb, const uint8_t *param, uint32_t param_len, uint8_t *sense,
		  uint8_t *sense_len)
{
	unsigned sa = cdb[1] & 0x1f;
	unsigned scope = cdb[2] >> 4;
	unsigned type = cdb[2] & 0x0f;
	uint32_t list_len = scsi_get_be32(cdb + 5);
	uint64_t key, sa_key;
	uint8_t pflags;
	int idx;
	unsigned i;
	bool removed;

	if (sa == PR_OUT_REGISTER_MOVE)
		return check(sense, sense_len, CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB, 1, true);
	if (list_len != 24 || param_len < 24)
		return check(sense, sense_len, CAIRN_SCSI_ASC_PARAM_LIST_LENGTH_ERROR, -1, false);
	key = scsi_get_be64(param);
	sa_key = scsi_get_be64(param + 8);
	pflags = param[20];
	if (pflags & 0x08) /* SPEC_I_PT */
		return check(sense, sense_len, CAIRN_SCSI_ASC_INVALID_FIELD_IN_PARAM, 20, false);
	if (pflags & 0x01) /* APTPL: we cannot persist through power loss */
		return check(sense, sense_len, CAIRN_SCSI_ASC_INVALID_FIELD_IN_PARAM, 20, false);
	idx = find_reg(pr, port);

	switch (sa) {
	case PR_OUT_REGISTER:
	case PR_OUT_REGISTER_IGNORE:
		if (idx < 0) {
			if (sa == PR_OUT_REGISTER && key != 0)
				return conflict();
			if (sa_key == 0)
				return CAIRN_SCSI_STATUS_GOOD;
			if (pr->nregs == CAIRN_SCSI_PR_MAX_REGS) {
				*sense_len = cairn_scsi_sense_fixed(
					sense, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
					CAIRN_SCSI_ASC_INSUFFICIENT_REG_RESOURCES, -1, false, -1);
				return CAIRN_SCSI_STATUS_CHECK_CONDITION;
			}
			pr->regs[pr->nregs].key = sa_key;
			pr->regs[pr->nregs].rel_tgt_port = rel_tgt_port;
			snprintf(pr->regs[pr->nregs].port, sizeof(pr->regs[0].port), "%s", port);
			pr->nregs++;
			pr->generation++;
			return CAIRN_SCSI_STATUS_GOOD;
		}
		if (sa == PR_OUT_REGISTER && key != pr->regs[idx].key)
			return conflict();
		if (sa_key == 0)
			remove_reg(pr, (unsigned)idx);
		else
			pr->regs[idx].key = sa_key;
		pr->generation++;
		return CAIRN_SCSI_STATUS_GOOD;

	case PR_OUT_RESERVE:
		if (idx < 0 || pr->regs[idx].key != key)
			return conflict();
		if (scope != 0)
			return check(sense, sense_len, CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB, 2, true);
		if (!type_valid(type))
			return check(sense, sense_len, CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB, 2, true);
		if (pr->type == CAIRN_SCSI_PR_NONE) {
			pr->type = (enum cairn_scsi_pr_type)type;
			pr->holder = idx;
			return CAIRN_SCSI_STATUS_GOOD;
		}
		if (is_holder(pr, idx) && pr->type == (enum cairn_scsi_pr_type)type)
			return CAIRN_SCSI_STATUS_GOOD;
		return conflict();

	case PR_OUT_RELEASE:
		if (idx < 0 || pr->regs[idx].key != key)
			return conflict();
		if (pr->type == CAIRN_SCSI_PR_NONE || !is_holder(pr, idx))
			return CAIRN_SCSI_STATUS_GOOD;
		if (scope != 0 || pr->type != (enum cairn_scsi_pr_type)type) {
			*sense_len = cairn_scsi_sense_fixed(sense, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
							    CAIRN_SCSI_ASC_INVALID_RELEASE_OF_PR,
							    -1, false, -1);
			return CAIRN_SCSI_STATUS_CHECK_CONDITION;
		}
		pr->type = CAIRN_SCSI_PR_NONE;
		pr->holder = -1;
		return CAIRN_SCSI_STATUS_GOOD;

	case PR_OUT_CLEAR:
		if (idx < 0 || pr->regs[idx].key != key)
			return conflict();
		pr->nregs = 0;
		pr->type = CAIRN_SCSI_PR_NONE;
		pr->holder = -1;
		pr->generation++;
		return CAIRN_SCSI_STATUS_GOOD;

	case PR_OUT_PREEMPT:
	case PR_OUT_PREEMPT_ABORT:
		if (idx < 0 || pr->regs[idx].key != key)
			return conflict();
		if (!type_valid(type) || scope != 0)
			return check(sense, sense_len, CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB, 2, true);
		if (pr->type != CAIRN_SCSI_PR_NONE && type_all_regs(pr->type) && sa_key == 0) {
			/* Preempt an all-registrants reservation: everyone else goes, the
			 * preempter holds the new reservation. */
			for (i = 0; i < pr->nregs;) {
				if ((int)i != idx) {
					remove_reg(pr, i);
					if ((int)i < idx)
						idx--;
					continue;
				}
				i++;
			}
			pr->type = (enum cairn_scsi_pr_type)type;
			pr->holder = idx;
			pr->generation++;
			return CAIRN_SCSI_STATUS_GOOD;
		}
		if (sa_key == 0)
			return check(sense, sense_len, CAIRN_SCSI_ASC_INVALID_FIELD_IN_PARAM, 8,
				     false);
		if (pr->type != CAIRN_SCSI_PR_NONE && !type_all_regs(pr->type) &&
		    pr->holder >= 0 && pr->regs[pr->holder].key == sa_key) {
			/* Preempt the holder: drop every registration with that key except
			 * ours, take the reservation with the new type. */
			char me[CAIRN_SCSI_PORT_NAME_MAX];

			snprintf(me, sizeof(me), "%s", port);
			for (i = 0; i < pr->nregs;) {
				if (pr->regs[i].key == sa_key && strcmp(pr->regs[i].port, me)) {
					/* keep the reservation while removing its holder */
					if (pr->holder == (int)i)
						pr->holder = -1;
					remove_reg(pr, i);
					continue;
				}
				i++;
			}
			idx = find_reg(pr, me);
			pr->type = (enum cairn_scsi_pr_type)type;
			pr->holder = idx;
			pr->generation++;
			return CAIRN_SCSI_STATUS_GOOD;
		}
		removed = false;
		for (i = 0; i < pr->nregs;) {
			if (pr->regs[i].key == sa_key && (int)i != idx) {
				remove_reg(pr, i);
				if ((int)i < idx)
					idx--;
				removed = true;
				continue;
			}
			i++;
		}
		if (!removed)
			return conflict();
		pr->generation++;
		return CAIRN_SCSI_STATUS_GOOD;
	}
	return check(sense, sense_len, CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB, 1, true);
}

/* iSCSI TransportID, format 01 (name + ",i,0x" + ISID), SPC-4 7.6.4.6. */
static uint32_t
put_transport_id(uint8_t *out, uint32_t cap, uint32_t off, const char *port)
{
	size_t nlen = strlen(port) + 1;
	uint32_t len = (uint32_t)((nlen + 3) & ~(size_t)3);
	uint32_t i;

	for (i = 0; i < 4 + len; i++) {
		uint8_t b = 0;

		if (i == 0)
			b = 0x40 | 0x05; /* format 01b, protocol iSCSI */
		else if (i == 2)
			b = (uint8_t)(len >> 8);
		else if (i == 3)
			b = (uint8_t)len;
		else if (i >= 4 && i - 4 < nlen - 1)
			b = (uint8_t)port[i - 4];
		if (off + i < cap)
			out[off + i] = b;
	}
	return 4 + len;
}

uint8_t
cairn_scsi_pr_in(const struct cairn_scsi_pr *pr, const uint8_t *cdb, uint8_t *out, uint32_t cap,
		 uint32_t *len, uint8_t *sense, uint8_t *sense_len)
{
	unsigned sa = cdb[1] & 0x1f;
	uint8_t tmp[32];
	uint32_t off, i;

	memset(out, 0, cap);
	switch (sa) {
	case PR_IN_READ_KEYS:
		off = 8;
		for (i = 0; i < pr->nregs; i++) {
			scsi_put_be64(tmp, pr->regs[i].key);
			if (off + 8 <= cap)
				memcpy(out + off, tmp, 8);
			off += 8;
		}
		memset(tmp, 0, 8);
		scsi_put_be32(tmp, pr->generation);
		scsi_put_be32(tmp + 4, off - 8);
		memcpy(out, tmp, cap < 8 ? cap : 8);
		*len = off;
		return CAIRN_SCSI_STATUS_GOOD;
	case PR_IN_READ_RESERVATION:
		memset(tmp, 0, sizeof(tmp));
		scsi_put_be32(tmp, pr->generation);
		if (pr->type != CAIRN_SCSI_PR_NONE) {
			scsi_put_be32(tmp + 4, 16);
			/* All-registrants: the key is 0 (SPC-4 6.16.3). */
			if (!type_all_regs(pr->type) && pr->holder >= 0)
				scsi_put_be64(tmp + 8, pr->regs[pr->holder].key);
			tmp[21] = (uint8_t)pr->type; /* scope 0 (LU) */
			*len = 24;
		} else {
			*len = 8;
		}
		memcpy(out, tmp, cap < *len ? cap : *len);
		return CAIRN_SCSI_STATUS_GOOD;
	case PR_IN_REPORT_CAPABILITIES:
		memset(tmp, 0, 8);
		scsi_put_be16(tmp, 8);
		tmp[2] = 0x00;         /* no CRH, SIP_C, ATP_C, PTPL_C */
		tmp[3] = 0x80 | 0x10;  /* TMV; ALLOW COMMANDS = 001b */
		tmp[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02; /* WE_AR EA_RO WE_RO EA WE */
		tmp[5] = 0x01;         /* EA_AR */
		*len = 8;
		memcpy(out, tmp, cap < 8 ? cap : 8);
		return CAIRN_SCSI_STATUS_GOOD;
	case PR_IN_READ_FULL_STATUS:
		off = 8;
		for (i = 0; i < pr->nregs; i++) {
			uint32_t d = off, tid;

			memset(tmp, 0, 24);
			scsi_put_be64(tmp, pr->regs[i].key);
			if (is_holder(pr, (int)i)) {
				tmp[12] = 0x01; /* R_HOLDER */
				tmp[13] = (uint8_t)pr->type;
			}
			scsi_put_be16(tmp + 18, pr->regs[i].rel_tgt_port);
			tid = put_transport_id(out, cap, d + 24, pr->regs[i].port);
			scsi_put_be32(tmp + 20, tid);
			for (off = 0; off < 24; off++)
				if (d + off < cap)
					out[d + off] = tmp[off];
			off = d + 24 + tid;
		}
		memset(tmp, 0, 8);
		scsi_put_be32(tmp, pr->generation);
		scsi_put_be32(tmp + 4, off - 8);
		memcpy(out, tmp, cap < 8 ? cap : 8);
		*len = off;
		return CAIRN_SCSI_STATUS_GOOD;
	}
	*sense_len = cairn_scsi_sense_fixed(sense, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
					    CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB, 1, true, 4);
	return CAIRN_SCSI_STATUS_CHECK_CONDITION;
}
