/* BHS validation, CRC32C digests and key=value text parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/errno.h"
#include "iscsi_internal.h"

static void
test_crc32c_vectors(void **state)
{
	uint8_t buf[32];
	unsigned i;

	(void)state;
	/* RFC 3720 B.4 */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(iscsi_digest(buf, 32), 0x8a9136aa);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(iscsi_digest(buf, 32), 0x62a8ab43);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(iscsi_digest(buf, 32), 0x46dd794e);
	/* incremental == one shot */
	assert_int_equal(iscsi_crc32c_final(iscsi_crc32c(buf + 10, 22,
							 iscsi_crc32c(buf, 10, ISCSI_CRC32C_INIT))),
			 0x46dd794e);
	iscsi_put_digest(buf, 0x11223344);
	assert_int_equal(buf[0], 0x44);
	assert_int_equal(iscsi_get_digest(buf), 0x11223344);
}

static void
bhs(uint8_t *h, uint8_t op, uint8_t flags, uint32_t dlen, uint32_t itt)
{
	memset(h, 0, ISCSI_BHS_LEN);
	h[0] = op;
	h[1] = flags;
	iscsi_put_be24(h + 5, dlen);
	iscsi_put_be32(h + 16, itt);
}

static void
test_bhs_decode(void **state)
{
	uint8_t h[ISCSI_BHS_LEN], reason;
	struct iscsi_bhs_info info;
	const char *why;

	(void)state;
	bhs(h, ISCSI_OP_SCSI_CMD, 0x80 | ISCSI_CMD_READ, 0, 7);
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), 0);
	assert_int_equal(info.opcode, ISCSI_OP_SCSI_CMD);
	assert_int_equal(info.itt, 7);
	assert_false(info.immediate);
	h[4] = 2; /* AHS allowed on a command */
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), 0);
	assert_int_equal(info.ahs_len, 8);

	bhs(h, ISCSI_OP_SCSI_CMD | ISCSI_OP_IMMEDIATE, 0x80, 9000, 1);
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), -CAIRN_ERR_PROTO);
	assert_true(info.immediate);

	bhs(h, ISCSI_OP_SCSI_CMD, 0x80, 0, ISCSI_RSVD_TAG);
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), -CAIRN_ERR_PROTO);
	bhs(h, ISCSI_OP_SCSI_CMD, 0x00, 0, 1); /* F clear without W */
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), -CAIRN_ERR_PROTO);

	bhs(h, ISCSI_OP_NOPOUT, 0x81, 0, 1);
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), -CAIRN_ERR_PROTO);
	bhs(h, ISCSI_OP_NOPOUT, 0x80, 0, ISCSI_RSVD_TAG); /* ping answer must be immediate */
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), -CAIRN_ERR_PROTO);
	h[0] |= ISCSI_OP_IMMEDIATE;
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), 0);

	bhs(h, ISCSI_OP_LOGIN_REQ, 0xc0, 0, 1); /* T and C */
	h[0] |= ISCSI_OP_IMMEDIATE;
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), -CAIRN_ERR_PROTO);
	bhs(h, ISCSI_OP_LOGIN_REQ, 0x87, 0, 1); /* no I bit */
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), -CAIRN_ERR_PROTO);

	bhs(h, ISCSI_OP_TASK_REQ, 0x81, 4, 1); /* TMF with data */
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), -CAIRN_ERR_PROTO);
	bhs(h, ISCSI_OP_LOGOUT_REQ, 0x85, 0, 1); /* bad reason */
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), -CAIRN_ERR_PROTO);
	bhs(h, ISCSI_OP_NOPOUT, 0x80, 0, 1);
	h[4] = 1; /* AHS on a NOP-Out */
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), -CAIRN_ERR_PROTO);

	bhs(h, 0x1c, 0x80, 0, 1); /* unknown opcode: rejected but recoverable */
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), -CAIRN_ERR_NOSYS);
	assert_int_equal(reason, ISCSI_REJECT_CMD_NOT_SUPPORTED);
	bhs(h, ISCSI_OP_SNACK, 0x80, 0, 1);
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), -CAIRN_ERR_NOSYS);
	assert_int_equal(reason, ISCSI_REJECT_SNACK);
	bhs(h, 0x80, 0x80, 0, 1); /* reserved top bit */
	assert_int_equal(iscsi_bhs_decode(h, 8192, &info, &reason, &why), -CAIRN_ERR_PROTO);
}

static void
test_text_parse(void **state)
{
	char buf[256];
	struct iscsi_text t;
	const char *why = NULL;
	static const char ok[] = "InitiatorName=iqn.x\0SessionType=Normal\0Empty=\0";
	static const char dup[] = "A=1\0A=2\0";
	static const char noeq[] = "Abc\0";
	static const char badkey[] = "A b=1\0";
	static const char empty[] = "\0\0";
	static const char midempty[] = "A=1\0\0B=2\0";

	(void)state;
	memcpy(buf, ok, sizeof(ok) - 1);
	assert_int_equal(iscsi_text_parse(buf, sizeof(ok) - 1, sizeof(buf), &t, &why), 0);
	assert_int_equal(t.n, 3);
	assert_string_equal(iscsi_text_get(&t, "SessionType"), "Normal");
	assert_string_equal(iscsi_text_get(&t, "Empty"), "");
	assert_null(iscsi_text_get(&t, "Missing"));

	/* no trailing NUL: accepted when there is room for one */
	memcpy(buf, "K=v", 3);
	assert_int_equal(iscsi_text_parse(buf, 3, sizeof(buf), &t, &why), 0);
	assert_string_equal(iscsi_text_get(&t, "K"), "v");
	memcpy(buf, "K=v", 3);
	assert_int_equal(iscsi_text_parse(buf, 3, 3, &t, &why), -CAIRN_ERR_PROTO);

	memcpy(buf, dup, sizeof(dup) - 1);
	assert_int_equal(iscsi_text_parse(buf, sizeof(dup) - 1, sizeof(buf), &t, &why),
			 -CAIRN_ERR_PROTO);
	memcpy(buf, noeq, sizeof(noeq) - 1);
	assert_int_equal(iscsi_text_parse(buf, sizeof(noeq) - 1, sizeof(buf), &t, &why),
			 -CAIRN_ERR_PROTO);
	memcpy(buf, badkey, sizeof(badkey) - 1);
	assert_int_equal(iscsi_text_parse(buf, sizeof(badkey) - 1, sizeof(buf), &t, &why),
			 -CAIRN_ERR_PROTO);
	memcpy(buf, empty, sizeof(empty) - 1);
	assert_int_equal(iscsi_text_parse(buf, sizeof(empty) - 1, sizeof(buf), &t, &why), 0);
	assert_int_equal(t.n, 0);
	memcpy(buf, midempty, sizeof(midempty) - 1);
	assert_int_equal(iscsi_text_parse(buf, sizeof(midempty) - 1, sizeof(buf), &t, &why),
			 -CAIRN_ERR_PROTO);

	/* 64-byte key is too long */
	memset(buf, 'k', 64);
	buf[64] = '=';
	buf[65] = 'v';
	buf[66] = '\0';
	assert_int_equal(iscsi_text_parse(buf, 67, sizeof(buf), &t, &why), -CAIRN_ERR_PROTO);
}

static void
test_textbuf_overflow(void **state)
{
	char out[16];
	struct iscsi_textbuf tb = {out, 0, sizeof(out), false};

	(void)state;
	iscsi_textbuf_add(&tb, "Key", "%s", "val");
	assert_int_equal(tb.len, 8);
	assert_memory_equal(out, "Key=val\0", 8);
	iscsi_textbuf_add(&tb, "Another", "%s", "longvalue");
	assert_true(tb.overflow);
	assert_int_equal(tb.len, 8);
}

static void
test_sn_arith(void **state)
{
	(void)state;
	assert_true(iscsi_sn_lt(1, 2));
	assert_true(iscsi_sn_lt(0xfffffff0u, 5)); /* wraps */
	assert_false(iscsi_sn_lt(5, 0xfffffff0u));
	assert_true(iscsi_sn_le(7, 7));
	assert_int_equal(iscsi_pad4(5), 3);
	assert_int_equal(iscsi_pad4(8), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_vectors), cmocka_unit_test(test_bhs_decode),
		cmocka_unit_test(test_text_parse),     cmocka_unit_test(test_textbuf_overflow),
		cmocka_unit_test(test_sn_arith),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
