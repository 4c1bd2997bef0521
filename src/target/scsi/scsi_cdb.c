/*
 * CDB decoding (opcode table, lengths, LBA/transfer fields, reserved-bit checks) and
 * fixed-format sense data (SPC-4 4.5.3). Pure functions.
 */
#include <string.h>

#include "cairn/errno.h"
#include "scsi_internal.h"

uint8_t
cairn_scsi_sense_fixed(uint8_t *sense, uint8_t key, uint16_t asc_ascq, int field_ptr, bool cdb,
		       int bit_ptr)
{
	memset(sense, 0, 18);
	sense[0] = 0x70; /* current error, fixed format */
	sense[2] = key & 0x0f;
	sense[7] = 10;   /* additional sense length */
	sense[12] = (uint8_t)(asc_ascq >> 8);
	sense[13] = (uint8_t)asc_ascq;
	if (field_ptr >= 0) {
		sense[15] = 0x80; /* SKSV */
		if (cdb)
			sense[15] |= 0x40;
		if (bit_ptr >= 0)
			sense[15] |= 0x08 | (uint8_t)(bit_ptr & 7);
		sense[16] = (uint8_t)(field_ptr >> 8);
		sense[17] = (uint8_t)field_ptr;
	}
	return 18;
}

uint8_t
cairn_scsi_sense_fixed_info(uint8_t *sense, uint8_t key, uint16_t asc_ascq, uint32_t info)
{
	cairn_scsi_sense_fixed(sense, key, asc_ascq, -1, false, -1);
	sense[0] |= 0x80; /* VALID: INFORMATION is meaningful */
	scsi_put_be32(sense + 3, info);
	return 18;
}

static int
bad_field(uint8_t *sense, uint8_t *sense_len, int byte, int bit)
{
	*sense_len = cairn_scsi_sense_fixed(sense, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
					    CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB, byte, true, bit);
	return -CAIRN_ERR_INVAL;
}

static unsigned
cdb_group_len(uint8_t opcode)
{
	switch (opcode >> 5) {
	case 0:
		return 6;
	case 1:
	case 2:
		return 10;
	case 4:
		return 16;
	case 5:
		return 12;
	default:
		return 0;
	}
}

int
cairn_scsi_cdb_decode(const uint8_t *cdb, uint32_t cdb_len, struct cairn_scsi_cdb_info *info,
		      uint8_t *sense, uint8_t *sense_len)
{
	uint8_t op;
	unsigned need;

	memset(info, 0, sizeof(*info));
	if (cdb_len < 6) {
		*sense_len = cairn_scsi_sense_fixed(sense, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
						    CAIRN_SCSI_ASC_INVALID_OPCODE, -1, true, -1);
		return -CAIRN_ERR_INVAL;
	}
	op = cdb[0];
	info->opcode = op;
	need = cdb_group_len(op);
	if (need == 0 || need > cdb_len)
		goto invalid_opcode;
	/* Control byte: NACA and LINK are not supported. */
	if (cdb[need - 1] & 0x04)
		return bad_field(sense, sense_len, (int)need - 1, 2);
	if (cdb[need - 1] & 0x01)
		return bad_field(sense, sense_len, (int)need - 1, 0);
	info->flags = cdb[1];

	switch (op) {
	case SCSI_OP_TEST_UNIT_READY:
	case SCSI_OP_START_STOP_UNIT:
	case SCSI_OP_PREVENT_ALLOW:
		break;
	case SCSI_OP_REQUEST_SENSE:
		if (cdb[1] & 0xfe)
			return bad_field(sense, sense_len, 1, -1);
		info->alloc_len = cdb[4];
		info->dir = CAIRN_SCSI_DIR_FROM_DEV;
		break;
	case SCSI_OP_INQUIRY:
		if (cdb[1] & 0xfe)
			return bad_field(sense, sense_len, 1, -1);
		if (!(cdb[1] & 1) && cdb[2])
			return bad_field(sense, sense_len, 2, -1);
		info->alloc_len = scsi_get_be16(cdb + 3);
		info->dir = CAIRN_SCSI_DIR_FROM_DEV;
		break;
	case SCSI_OP_MODE_SENSE6:
		info->alloc_len = cdb[4];
		info->dir = CAIRN_SCSI_DIR_FROM_DEV;
		break;
	case SCSI_OP_MODE_SENSE10:
		info->alloc_len = scsi_get_be16(cdb + 7);
		info->dir = CAIRN_SCSI_DIR_FROM_DEV;
		break;
	case SCSI_OP_MODE_SELECT6:
		info->alloc_len = cdb[4];
		info->dir = CAIRN_SCSI_DIR_TO_DEV;
		break;
	case SCSI_OP_MODE_SELECT10:
		info->alloc_len = scsi_get_be16(cdb + 7);
		info->dir = CAIRN_SCSI_DIR_TO_DEV;
		break;
	case SCSI_OP_REPORT_LUNS:
		info->alloc_len = scsi_get_be32(cdb + 6);
		info->dir = CAIRN_SCSI_DIR_FROM_DEV;
		break;
	case SCSI_OP_READ_CAPACITY10:
		info->alloc_len = 8;
		info->dir = CAIRN_SCSI_DIR_FROM_DEV;
		break;
	case SCSI_OP_SERVICE_ACTION_IN16:
		info->service_action = cdb[1] & 0x1f;
		if (info->service_action != SCSI_SAI_READ_CAPACITY16 &&
		    info->service_action != SCSI_SAI_GET_LBA_STATUS)
			return bad_field(sense, sense_len, 1, 4);
		info->alloc_len = scsi_get_be32(cdb + 10);
		info->lba = scsi_get_be64(cdb + 2);
		info->dir = CAIRN_SCSI_DIR_FROM_DEV;
		break;
	case SCSI_OP_MAINTENANCE_IN:
		info->service_action = cdb[1] & 0x1f;
		if (info->service_action != SCSI_MI_REPORT_SUPPORTED_OPCODES &&
		    info->service_action != SCSI_MI_REPORT_SUPPORTED_TMFS)
			return bad_field(sense, sense_len, 1, 4);
		info->alloc_len = scsi_get_be32(cdb + 6);
		info->dir = CAIRN_SCSI_DIR_FROM_DEV;
		break;
	case SCSI_OP_PR_IN:
		info->service_action = cdb[1] & 0x1f;
		if (info->service_action > 3)
			return bad_field(sense, sense_len, 1, 4);
		info->alloc_len = scsi_get_be16(cdb + 7);
		info->dir = CAIRN_SCSI_DIR_FROM_DEV;
		break;
	case SCSI_OP_PR_OUT:
		info->service_action = cdb[1] & 0x1f;
		if (info->service_action > 7)
			return bad_field(sense, sense_len, 1, 4);
		info->alloc_len = scsi_get_be32(cdb + 5);
		info->dir = CAIRN_SCSI_DIR_TO_DEV;
		break;
	case SCSI_OP_READ6:
	case SCSI_OP_WRITE6:
		info->lba = (uint64_t)(cdb[1] & 0x1f) << 16 | scsi_get_be16(cdb + 2);
		info->num_blocks = cdb[4] ? cdb[4] : 256;
		info->flags = 0;
		info->is_rw = true;
		break;
	case SCSI_OP_READ10:
	case SCSI_OP_WRITE10:
	case SCSI_OP_VERIFY10:
	case SCSI_OP_WRITE_VERIFY10:
		info->lba = scsi_get_be32(cdb + 2);
		info->num_blocks = scsi_get_be16(cdb + 7);
		info->is_rw = true;
		break;
	case SCSI_OP_READ12:
	case SCSI_OP_WRITE12:
	case SCSI_OP_VERIFY12:
	case SCSI_OP_WRITE_VERIFY12:
		info->lba = scsi_get_be32(cdb + 2);
		info->num_blocks = scsi_get_be32(cdb + 6);
		info->is_rw = true;
		break;
	case SCSI_OP_READ16:
	case SCSI_OP_WRITE16:
	case SCSI_OP_VERIFY16:
	case SCSI_OP_WRITE_VERIFY16:
		info->lba = scsi_get_be64(cdb + 2);
		info->num_blocks = scsi_get_be32(cdb + 10);
		info->is_rw = true;
		break;
	case SCSI_OP_COMPARE_AND_WRITE:
		info->lba = scsi_get_be64(cdb + 2);
		info->num_blocks = cdb[13];
		info->is_rw = true;
		break;
	case SCSI_OP_ORWRITE16:
		info->lba = scsi_get_be64(cdb + 2);
		info->num_blocks = scsi_get_be32(cdb + 10);
		info->is_rw = true;
		break;
	case SCSI_OP_WRITE_SAME10:
		info->lba = scsi_get_be32(cdb + 2);
		info->num_blocks = scsi_get_be16(cdb + 7);
		break;
	case SCSI_OP_WRITE_SAME16:
		info->lba = scsi_get_be64(cdb + 2);
		info->num_blocks = scsi_get_be32(cdb + 10);
		break;
	case SCSI_OP_UNMAP:
		if (cdb[1] & 0x01) /* ANCHOR */
			return bad_field(sense, sense_len, 1, 0);
		info->alloc_len = scsi_get_be16(cdb + 7);
		info->dir = CAIRN_SCSI_DIR_TO_DEV;
		break;
	case SCSI_OP_SYNC_CACHE10:
		info->lba = scsi_get_be32(cdb + 2);
		info->num_blocks = scsi_get_be16(cdb + 7);
		break;
	case SCSI_OP_SYNC_CACHE16:
		info->lba = scsi_get_be64(cdb + 2);
		info->num_blocks = scsi_get_be32(cdb + 10);
		break;
	case SCSI_OP_PRE_FETCH10:
		if (cdb[1] & ~0x02) /* only IMMED */
			return bad_field(sense, sense_len, 1, -1);
		info->lba = scsi_get_be32(cdb + 2);
		info->num_blocks = scsi_get_be16(cdb + 7);
		break;
	case SCSI_OP_PRE_FETCH16:
		if (cdb[1] & ~0x02)
			return bad_field(sense, sense_len, 1, -1);
		info->lba = scsi_get_be64(cdb + 2);
		info->num_blocks = scsi_get_be32(cdb + 10);
		break;
	case SCSI_OP_RESERVE6:
	case SCSI_OP_RELEASE6:
		/* SPC-2: no third-party or extent reservations. */
		if (cdb[1] & 0x1f)
			return bad_field(sense, sense_len, 1, -1);
		break;
	case SCSI_OP_READ_DEFECT10:
		info->alloc_len = scsi_get_be16(cdb + 7);
		info->dir = CAIRN_SCSI_DIR_FROM_DEV;
		break;
	case SCSI_OP_READ_DEFECT12:
		info->alloc_len = scsi_get_be32(cdb + 6);
		info->dir = CAIRN_SCSI_DIR_FROM_DEV;
		break;
	default:
		goto invalid_opcode;
	}

	switch (op) {
	case SCSI_OP_READ6:
	case SCSI_OP_READ10:
	case SCSI_OP_READ12:
	case SCSI_OP_READ16:
		if (op != SCSI_OP_READ6 && (cdb[1] & 0xe0)) /* RDPROTECT */
			return bad_field(sense, sense_len, 1, 7);
		info->dir = CAIRN_SCSI_DIR_FROM_DEV;
		info->is_read = true;
		break;
	case SCSI_OP_WRITE6:
	case SCSI_OP_WRITE10:
	case SCSI_OP_WRITE12:
	case SCSI_OP_WRITE16:
	case SCSI_OP_WRITE_VERIFY10:
	case SCSI_OP_WRITE_VERIFY12:
	case SCSI_OP_WRITE_VERIFY16:
		if (op != SCSI_OP_WRITE6 && (cdb[1] & 0xe0)) /* WRPROTECT */
			return bad_field(sense, sense_len, 1, 7);
		info->dir = CAIRN_SCSI_DIR_TO_DEV;
		info->is_write = true;
		break;
	case SCSI_OP_VERIFY10:
	case SCSI_OP_VERIFY12:
	case SCSI_OP_VERIFY16:
		if (cdb[1] & 0xe0) /* VRPROTECT */
			return bad_field(sense, sense_len, 1, 7);
		/* BYTCHK 00: medium check only; 01: compare with Data-Out; 11: compare
		 * every block with one block of Data-Out (not supported). */
		if (((cdb[1] >> 1) & 3) == 3 || ((cdb[1] >> 1) & 3) == 2)
			return bad_field(sense, sense_len, 1, 2);
		info->dir = ((cdb[1] >> 1) & 3) ? CAIRN_SCSI_DIR_TO_DEV : CAIRN_SCSI_DIR_NONE;
		info->is_read = true;
		break;
	case SCSI_OP_ORWRITE16:
	case SCSI_OP_COMPARE_AND_WRITE:
		if (cdb[1] & 0xe0) /* WRPROTECT / ORPROTECT: no protection information */
			return bad_field(sense, sense_len, 1, 7);
		info->dir = CAIRN_SCSI_DIR_TO_DEV;
		info->is_write = true;
		info->is_read = true;
		break;
	case SCSI_OP_WRITE_SAME10:
	case SCSI_OP_WRITE_SAME16:
		if (cdb[1] & 0xe0)
			return bad_field(sense, sense_len, 1, 7);
		if (cdb[1] & 0x10) /* ANCHOR */
			return bad_field(sense, sense_len, 1, 4);
		if (op == SCSI_OP_WRITE_SAME10 && (cdb[1] & 0x01))
			return bad_field(sense, sense_len, 1, 0);
		info->dir = (op == SCSI_OP_WRITE_SAME16 && (cdb[1] & 0x01)) ?
				    CAIRN_SCSI_DIR_NONE :
				    CAIRN_SCSI_DIR_TO_DEV; /* NDOB: no data-out buffer */
		info->is_write = true;
		break;
	case SCSI_OP_UNMAP:
	case SCSI_OP_SYNC_CACHE10:
	case SCSI_OP_SYNC_CACHE16:
	case SCSI_OP_MODE_SELECT6:
	case SCSI_OP_MODE_SELECT10:
		info->is_write = true;
		break;
	default:
		break;
	}
	return 0;

invalid_opcode:
	*sense_len = cairn_scsi_sense_fixed(sense, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
					    CAIRN_SCSI_ASC_INVALID_OPCODE, 0, true, -1);
	return -CAIRN_ERR_INVAL;
}
