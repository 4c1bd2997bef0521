/* CDB decoding and fixed-format sense data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/errno.h"
#include "scsi_internal.h"

static int
decode(const uint8_t *cdb, uint32_t len, struct cairn_scsi_cdb_info *info, uint8_t *sense)
{
	uint8_t sl = 0;
	int rc = cairn_scsi_cdb_decode(cdb, len, info, sense, &sl);

	if (rc)
		assert_int_equal(sl, 18);
	return rc;
}

static void
test_rw_decode(void **state)
{
	uint8_t cdb[16], sense[32];
	struct cairn_scsi_cdb_info info;

	(void)state;
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_OP_READ6;
	cdb[1] = 0x1f;
	cdb[2] = 0xff;
	cdb[3] = 0xfe;
	cdb[4] = 0; /* 0 means 256 blocks */
	assert_int_equal(decode(cdb, 6, &info, sense), 0);
	assert_int_equal(info.lba, 0x1ffffe);
	assert_int_equal(info.num_blocks, 256);
	assert_int_equal(info.dir, CAIRN_SCSI_DIR_FROM_DEV);
	assert_true(info.is_read);

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_OP_WRITE10;
	scsi_put_be32(cdb + 2, 0x12345678);
	scsi_put_be16(cdb + 7, 9);
	cdb[1] = 0x08; /* FUA */
	assert_int_equal(decode(cdb, 10, &info, sense), 0);
	assert_int_equal(info.lba, 0x12345678);
	assert_int_equal(info.num_blocks, 9);
	assert_int_equal(info.dir, CAIRN_SCSI_DIR_TO_DEV);
	assert_true(info.is_write);
	assert_int_equal(info.flags & 0x08, 0x08);

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_OP_READ16;
	scsi_put_be64(cdb + 2, 0x0102030405060708ull);
	scsi_put_be32(cdb + 10, 0x10000);
	assert_int_equal(decode(cdb, 16, &info, sense), 0);
	assert_int_equal(info.lba, 0x0102030405060708ull);
	assert_int_equal(info.num_blocks, 0x10000);

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_OP_WRITE12;
	scsi_put_be32(cdb + 2, 7);
	scsi_put_be32(cdb + 6, 3);
	assert_int_equal(decode(cdb, 12, &info, sense), 0);
	assert_int_equal(info.num_blocks, 3);

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_OP_COMPARE_AND_WRITE;
	scsi_put_be64(cdb + 2, 5);
	cdb[13] = 2;
	assert_int_equal(decode(cdb, 16, &info, sense), 0);
	assert_int_equal(info.num_blocks, 2);
	assert_true(info.is_read && info.is_write);
}

static void
test_invalid(void **state)
{
	uint8_t cdb[16], sense[32];
	struct cairn_scsi_cdb_info info;

	(void)state;
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0xc7; /* vendor specific: not supported */
	assert_int_equal(decode(cdb, 16, &info, sense), -CAIRN_ERR_INVAL);
	assert_int_equal(sense[0], 0x70);
	assert_int_equal(sense[2], CAIRN_SCSI_SK_ILLEGAL_REQUEST);
	assert_int_equal(sense[12], 0x20); /* INVALID COMMAND OPERATION CODE */

	/* RDPROTECT set: INVALID FIELD IN CDB, field pointer byte 1 bit 7 */
	cdb[0] = SCSI_OP_READ10;
	cdb[1] = 0x20;
	assert_int_equal(decode(cdb, 10, &info, sense), -CAIRN_ERR_INVAL);
	assert_int_equal(sense[12], 0x24);
	assert_int_equal(sense[15], 0x80 | 0x40 | 0x08 | 7);
	assert_int_equal(scsi_get_be16(sense + 16), 1);

	/* NACA in the control byte */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_OP_TEST_UNIT_READY;
	cdb[5] = 0x04;
	assert_int_equal(decode(cdb, 6, &info, sense), -CAIRN_ERR_INVAL);
	assert_int_equal(scsi_get_be16(sense + 16), 5);

	/* INQUIRY with a page code but no EVPD */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_OP_INQUIRY;
	cdb[2] = 0x80;
	assert_int_equal(decode(cdb, 6, &info, sense), -CAIRN_ERR_INVAL);
	assert_int_equal(scsi_get_be16(sense + 16), 2);

	/* a 16-byte opcode in a 10-byte CDB */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_OP_READ16;
	assert_int_equal(decode(cdb, 10, &info, sense), -CAIRN_ERR_INVAL);

	/* VERIFY with BYTCHK=11b (unsupported) */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_OP_VERIFY10;
	cdb[1] = 0x06;
	assert_int_equal(decode(cdb, 10, &info, sense), -CAIRN_ERR_INVAL);

	/* unknown service action of SERVICE ACTION IN(16) */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_OP_SERVICE_ACTION_IN16;
	cdb[1] = 0x1f;
	assert_int_equal(decode(cdb, 16, &info, sense), -CAIRN_ERR_INVAL);

	/* too short */
	assert_int_equal(decode(cdb, 3, &info, sense), -CAIRN_ERR_INVAL);
}

static void
test_lengths(void **state)
{
	uint8_t cdb[16], sense[32];
	struct cairn_scsi_cdb_info info;

	(void)state;
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_OP_REPORT_LUNS;
	scsi_put_be32(cdb + 6, 4096);
	assert_int_equal(decode(cdb, 12, &info, sense), 0);
	assert_int_equal(info.alloc_len, 4096);
	assert_int_equal(info.dir, CAIRN_SCSI_DIR_FROM_DEV);

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_OP_PR_OUT;
	cdb[1] = 1;
	scsi_put_be32(cdb + 5, 24);
	assert_int_equal(decode(cdb, 10, &info, sense), 0);
	assert_int_equal(info.alloc_len, 24);
	assert_int_equal(info.dir, CAIRN_SCSI_DIR_TO_DEV);

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_OP_WRITE_SAME16;
	cdb[1] = 0x01 | 0x08; /* NDOB + UNMAP */
	scsi_put_be32(cdb + 10, 100);
	assert_int_equal(decode(cdb, 16, &info, sense), 0);
	assert_int_equal(info.dir, CAIRN_SCSI_DIR_NONE);
	assert_int_equal(info.num_blocks, 100);
}

static void
test_sense_builders(void **state)
{
	uint8_t s[32];

	(void)state;
	assert_int_equal(cairn_scsi_sense_fixed(s, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
						CAIRN_SCSI_ASC_LBA_OUT_OF_RANGE, -1, false, -1),
			 18);
	assert_int_equal(s[0], 0x70);
	assert_int_equal(s[2], 5);
	assert_int_equal(s[7], 10);
	assert_int_equal(s[12], 0x21);
	assert_int_equal(s[13], 0);
	assert_int_equal(s[15], 0);
	cairn_scsi_sense_fixed_info(s, CAIRN_SCSI_SK_MISCOMPARE,
				    CAIRN_SCSI_ASC_MISCOMPARE_DURING_VERIFY, 0x1234);
	assert_int_equal(s[0], 0xf0);
	assert_int_equal(scsi_get_be32(s + 3), 0x1234);
	assert_int_equal(s[2], 0x0e);
	/* parameter-list field pointer: C/D clear */
	cairn_scsi_sense_fixed(s, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
			       CAIRN_SCSI_ASC_INVALID_FIELD_IN_PARAM, 20, false, -1);
	assert_int_equal(s[15], 0x80);
	assert_int_equal(scsi_get_be16(s + 16), 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rw_decode),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_sense_builders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
