/* Persistent reservations: PR OUT service actions, PR IN reports, conflict rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/errno.h"
#include "scsi_internal.h"

#define A "iqn.a,i,0x000000000001"
#define B "iqn.b,i,0x000000000002"
#define C "iqn.c,i,0x000000000003"

static uint8_t g_sense[32], g_sl;

static uint8_t
prout(struct cairn_scsi_pr *pr, const char *port, unsigned sa, unsigned type, uint64_t key,
      uint64_t sakey)
{
	uint8_t cdb[10], p[24];

	memset(cdb, 0, sizeof(cdb));
	memset(p, 0, sizeof(p));
	cdb[0] = SCSI_OP_PR_OUT;
	cdb[1] = (uint8_t)sa;
	cdb[2] = (uint8_t)type;
	scsi_put_be32(cdb + 5, 24);
	scsi_put_be64(p, key);
	scsi_put_be64(p + 8, sakey);
	return cairn_scsi_pr_out(pr, port, 1, cdb, p, 24, g_sense, &g_sl);
}

static uint32_t
prin(struct cairn_scsi_pr *pr, unsigned sa, uint8_t *out, uint32_t cap)
{
	uint8_t cdb[10];
	uint32_t len = 0;

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_OP_PR_IN;
	cdb[1] = (uint8_t)sa;
	assert_int_equal(cairn_scsi_pr_in(pr, cdb, out, cap, &len, g_sense, &g_sl),
			 CAIRN_SCSI_STATUS_GOOD);
	return len;
}

#define GOOD CAIRN_SCSI_STATUS_GOOD
#define CONFLICT CAIRN_SCSI_STATUS_RESERVATION_CONFLICT
#define CHECK CAIRN_SCSI_STATUS_CHECK_CONDITION

static void
test_register_reserve_release(void **state)
{
	struct cairn_scsi_pr pr;
	uint8_t d[256];

	(void)state;
	cairn_scsi_pr_init(&pr);
	assert_int_equal(prout(&pr, A, 0, 0, 0, 0xaa), GOOD);
	assert_int_equal(prout(&pr, B, 0, 0, 0, 0xbb), GOOD);
	/* registering again with a wrong key conflicts */
	assert_int_equal(prout(&pr, A, 0, 0, 0x1, 0xab), CONFLICT);
	assert_int_equal(prin(&pr, 0, d, sizeof(d)), 8 + 16);
	assert_int_equal(scsi_get_be32(d), 2); /* generation */
	assert_int_equal(scsi_get_be64(d + 8), 0xaa);
	assert_int_equal(scsi_get_be64(d + 16), 0xbb);

	/* not registered: reserve conflicts */
	assert_int_equal(prout(&pr, C, 1, 1, 0xcc, 0), CONFLICT);
	/* invalid type */
	assert_int_equal(prout(&pr, A, 1, 2, 0xaa, 0), CHECK);
	/* A reserves Write Exclusive */
	assert_int_equal(prout(&pr, A, 1, CAIRN_SCSI_PR_WRITE_EXCLUSIVE, 0xaa, 0), GOOD);
	assert_int_equal(prout(&pr, A, 1, CAIRN_SCSI_PR_WRITE_EXCLUSIVE, 0xaa, 0), GOOD);
	assert_int_equal(prout(&pr, B, 1, CAIRN_SCSI_PR_WRITE_EXCLUSIVE, 0xbb, 0), CONFLICT);
	assert_int_equal(prin(&pr, 1, d, sizeof(d)), 24);
	assert_int_equal(scsi_get_be64(d + 8), 0xaa);
	assert_int_equal(d[21], CAIRN_SCSI_PR_WRITE_EXCLUSIVE);

	/* Write Exclusive: others read, but cannot write */
	assert_false(cairn_scsi_pr_conflict(&pr, B, false, true));
	assert_true(cairn_scsi_pr_conflict(&pr, B, true, false));
	assert_true(cairn_scsi_pr_conflict(&pr, C, true, false));
	assert_false(cairn_scsi_pr_conflict(&pr, A, true, true));

	/* release by a non-holder: no effect; wrong type by the holder: error */
	assert_int_equal(prout(&pr, B, 2, CAIRN_SCSI_PR_WRITE_EXCLUSIVE, 0xbb, 0), GOOD);
	assert_int_equal(pr.type, CAIRN_SCSI_PR_WRITE_EXCLUSIVE);
	assert_int_equal(prout(&pr, A, 2, CAIRN_SCSI_PR_EXCLUSIVE_ACCESS, 0xaa, 0), CHECK);
	assert_int_equal(g_sense[12], 0x26);
	assert_int_equal(g_sense[13], 0x04);
	assert_int_equal(prout(&pr, A, 2, CAIRN_SCSI_PR_WRITE_EXCLUSIVE, 0xaa, 0), GOOD);
	assert_int_equal(pr.type, CAIRN_SCSI_PR_NONE);
	assert_false(cairn_scsi_pr_conflict(&pr, C, true, true));
}

static void
test_exclusive_access_and_unregister(void **state)
{
	struct cairn_scsi_pr pr;

	(void)state;
	cairn_scsi_pr_init(&pr);
	assert_int_equal(prout(&pr, A, 0, 0, 0, 1), GOOD);
	assert_int_equal(prout(&pr, B, 0, 0, 0, 2), GOOD);
	assert_int_equal(prout(&pr, A, 1, CAIRN_SCSI_PR_EXCLUSIVE_ACCESS, 1, 0), GOOD);
	assert_true(cairn_scsi_pr_conflict(&pr, B, false, true));
	assert_true(cairn_scsi_pr_conflict(&pr, B, true, false));
	/* holder unregisters: the reservation goes with it */
	assert_int_equal(prout(&pr, A, 0, 0, 1, 0), GOOD);
	assert_int_equal(pr.type, CAIRN_SCSI_PR_NONE);
	assert_int_equal(pr.nregs, 1);
	/* register-and-ignore replaces a key without knowing it */
	assert_int_equal(prout(&pr, B, 6, 0, 0x999, 3), GOOD);
	assert_int_equal(pr.regs[0].key, 3);
}

static void
test_registrants_only_and_all(void **state)
{
	struct cairn_scsi_pr pr;
	uint8_t d[512];
	uint32_t len;

	(void)state;
	cairn_scsi_pr_init(&pr);
	assert_int_equal(prout(&pr, A, 0, 0, 0, 1), GOOD);
	assert_int_equal(prout(&pr, B, 0, 0, 0, 2), GOOD);
	assert_int_equal(prout(&pr, A, 1, CAIRN_SCSI_PR_EXCLUSIVE_ACCESS_REG_ONLY, 1, 0), GOOD);
	assert_false(cairn_scsi_pr_conflict(&pr, B, true, true)); /* registrant */
	assert_true(cairn_scsi_pr_conflict(&pr, C, false, true));  /* not registered */
	assert_int_equal(prout(&pr, A, 2, CAIRN_SCSI_PR_EXCLUSIVE_ACCESS_REG_ONLY, 1, 0), GOOD);

	assert_int_equal(prout(&pr, B, 1, CAIRN_SCSI_PR_WRITE_EXCLUSIVE_ALL_REGS, 2, 0), GOOD);
	assert_false(cairn_scsi_pr_conflict(&pr, A, true, false));
	assert_true(cairn_scsi_pr_conflict(&pr, C, true, false));
	assert_false(cairn_scsi_pr_conflict(&pr, C, false, true));
	len = prin(&pr, 1, d, sizeof(d));
	assert_int_equal(len, 24);
	assert_int_equal(scsi_get_be64(d + 8), 0); /* all-registrants: key 0 */
	/* full status lists both as holders, with iSCSI transport ids */
	len = prin(&pr, 3, d, sizeof(d));
	assert_true(len > 8 + 2 * 24);
	assert_int_equal(d[8 + 12] & 1, 1);
	assert_int_equal(d[8 + 24], 0x45);
	assert_memory_equal(d + 8 + 24 + 4, A, strlen(A));
	/* the reserving registrant leaves: an all-registrants reservation stays */
	assert_int_equal(prout(&pr, B, 0, 0, 2, 0), GOOD);
	assert_int_equal(pr.type, CAIRN_SCSI_PR_WRITE_EXCLUSIVE_ALL_REGS);
	assert_true(pr.holder < 0 || (unsigned)pr.holder < pr.nregs);
	assert_false(cairn_scsi_pr_conflict(&pr, A, true, false));
	assert_true(cairn_scsi_pr_conflict(&pr, B, true, false));
	/* ... until the last registrant goes */
	assert_int_equal(prout(&pr, A, 0, 0, 1, 0), GOOD);
	assert_int_equal(pr.type, CAIRN_SCSI_PR_NONE);
	assert_int_equal(prout(&pr, A, 0, 0, 0, 1), GOOD);
	/* capabilities */
	len = prin(&pr, 2, d, sizeof(d));
	assert_int_equal(len, 8);
	assert_int_equal(d[5] & 1, 1);
}

static void
test_preempt_and_clear(void **state)
{
	struct cairn_scsi_pr pr;

	(void)state;
	cairn_scsi_pr_init(&pr);
	assert_int_equal(prout(&pr, A, 0, 0, 0, 1), GOOD);
	assert_int_equal(prout(&pr, B, 0, 0, 0, 2), GOOD);
	assert_int_equal(prout(&pr, C, 0, 0, 0, 3), GOOD);
	assert_int_equal(prout(&pr, A, 1, CAIRN_SCSI_PR_WRITE_EXCLUSIVE, 1, 0), GOOD);
	/* B preempts the holder A: A is unregistered, B holds with the new type */
	assert_int_equal(prout(&pr, B, 4, CAIRN_SCSI_PR_EXCLUSIVE_ACCESS, 2, 1), GOOD);
	assert_int_equal(pr.type, CAIRN_SCSI_PR_EXCLUSIVE_ACCESS);
	assert_int_equal(pr.nregs, 2);
	assert_true(cairn_scsi_pr_conflict(&pr, A, false, true));
	assert_false(cairn_scsi_pr_conflict(&pr, B, true, true));
	/* preempting a key nobody has: conflict; key 0 without all-regs: check */
	assert_int_equal(prout(&pr, B, 4, CAIRN_SCSI_PR_EXCLUSIVE_ACCESS, 2, 77), CONFLICT);
	assert_int_equal(prout(&pr, B, 4, CAIRN_SCSI_PR_EXCLUSIVE_ACCESS, 2, 0), CHECK);
	/* preempt a non-holder registrant: removed, reservation unchanged */
	assert_int_equal(prout(&pr, B, 5, CAIRN_SCSI_PR_EXCLUSIVE_ACCESS, 2, 3), GOOD);
	assert_int_equal(pr.nregs, 1);
	assert_int_equal(pr.type, CAIRN_SCSI_PR_EXCLUSIVE_ACCESS);
	/* clear needs a registered key */
	assert_int_equal(prout(&pr, C, 3, 0, 3, 0), CONFLICT);
	assert_int_equal(prout(&pr, B, 3, 0, 2, 0), GOOD);
	assert_int_equal(pr.nregs, 0);
	assert_int_equal(pr.type, CAIRN_SCSI_PR_NONE);
}

static void
test_bad_parameters(void **state)
{
	struct cairn_scsi_pr pr;
	uint8_t cdb[10], p[24];

	(void)state;
	cairn_scsi_pr_init(&pr);
	memset(cdb, 0, sizeof(cdb));
	memset(p, 0, sizeof(p));
	cdb[0] = SCSI_OP_PR_OUT;
	scsi_put_be32(cdb + 5, 20); /* wrong list length */
	assert_int_equal(cairn_scsi_pr_out(&pr, A, 1, cdb, p, 24, g_sense, &g_sl), CHECK);
	assert_int_equal(g_sense[12], 0x1a);
	scsi_put_be32(cdb + 5, 24);
	p[20] = 0x01; /* APTPL */
	assert_int_equal(cairn_scsi_pr_out(&pr, A, 1, cdb, p, 24, g_sense, &g_sl), CHECK);
	assert_int_equal(g_sense[12], 0x26);
	p[20] = 0;
	cdb[1] = 7; /* REGISTER AND MOVE */
	assert_int_equal(cairn_scsi_pr_out(&pr, A, 1, cdb, p, 24, g_sense, &g_sl), CHECK);
	/* truncated parameter data */
	cdb[1] = 0;
	assert_int_equal(cairn_scsi_pr_out(&pr, A, 1, cdb, p, 10, g_sense, &g_sl), CHECK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_reserve_release),
		cmocka_unit_test(test_exclusive_access_and_unregister),
		cmocka_unit_test(test_registrants_only_and_all),
		cmocka_unit_test(test_preempt_and_clear),
		cmocka_unit_test(test_bad_parameters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
