/*
 * Loopback tests of the iSCSI target with a real initiator (libiscsi): a target
 * started in this process on 127.0.0.1 over a malloc bdev; login with and without
 * CHAP (one-way and mutual), header digests, discovery, writes of several sizes (the
 * immediate, unsolicited and R2T paths) read back and compared, and SCSI basics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "bdev/bdev.h"
#include "cairn/errno.h"
#include "common/log.h"
#include "rt/rt.h"
#include "target/iscsi.h"

#define TGT_PLAIN "iqn.2016-06.io.cairn:plain"
#define TGT_CHAP "iqn.2016-06.io.cairn:chap"
#define TGT_MUTUAL "iqn.2016-06.io.cairn:mutual"
#define INITIATOR "iqn.2024-01.test:client"
#define BLOCKS 8192
#define BS 512

static char g_portal[64];

static int
setup(void **state)
{
	struct cairn_rt_opts ro;
	struct cairn_iscsi_opts io;
	struct cairn_iscsi_portal portal = {.host = "127.0.0.1", .port = "0"};
	const char *any[] = {"ANY"};
	const char *net[] = {"127.0.0.1/8"};
	struct cairn_iscsi_pg_ig_map map = {1, 1};
	struct cairn_iscsi_lun_map lun0 = {"Malloc0", 0};
	struct cairn_iscsi_lun_map lun1 = {"Malloc1", 0};
	struct cairn_iscsi_lun_map lun2 = {"Malloc2", 0};
	struct cairn_iscsi_chap_secret secrets[] = {
		{"alice", "alice-secret-123", NULL, NULL},
		{"bob", "bob-secret-4567", "target-bob", "target-secret-89"},
	};
	struct cairn_iscsi_tgt_node_opts t;
	struct cairn_bdev *b;
	uint16_t port;

	(void)state;
	cairn_log_init();
	cairn_rt_opts_default(&ro);
	ro.nr_main = 2;
	ro.pin = false;
	assert_int_equal(cairn_rt_init(&ro), 0);
	assert_int_equal(cairn_bdev_init(), 0);
	assert_int_equal(cairn_bdev_malloc_create("Malloc0", BLOCKS, BS, NULL, &b), 0);
	assert_int_equal(cairn_bdev_malloc_create("Malloc1", BLOCKS, BS, NULL, &b), 0);
	assert_int_equal(cairn_bdev_malloc_create("Malloc2", BLOCKS, 4096, NULL, &b), 0);
	cairn_iscsi_opts_default(&io);
	io.first_burst = 16384;
	io.max_burst = 65536;
	assert_int_equal(cairn_iscsi_init(&io), 0);
	assert_int_equal(cairn_iscsi_portal_grp_create(1, &portal, 1), 0);
	assert_int_equal(cairn_iscsi_init_grp_create(1, any, 1, net, 1), 0);
	assert_int_equal(cairn_iscsi_auth_group_create(1, secrets, 2), 0);
	memset(&t, 0, sizeof(t));
	t.opts_size = sizeof(t);
	t.name = "plain";
	t.maps = &map;
	t.nmaps = 1;
	t.luns = &lun0;
	t.nluns = 1;
	assert_int_equal(cairn_iscsi_tgt_node_create(&t), 0);
	t.name = TGT_CHAP;
	t.luns = &lun1;
	t.require_chap = true;
	t.chap_group = 1;
	assert_int_equal(cairn_iscsi_tgt_node_create(&t), 0);
	t.name = TGT_MUTUAL;
	t.luns = &lun2;
	t.mutual_chap = true;
	assert_int_equal(cairn_iscsi_tgt_node_create(&t), 0);
	/* duplicates and bad references are refused */
	assert_int_equal(cairn_iscsi_tgt_node_create(&t), -CAIRN_ERR_EXIST);
	assert_int_equal(cairn_iscsi_portal_grp_port(1, 0, &port), 0);
	snprintf(g_portal, sizeof(g_portal), "127.0.0.1:%u", port);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_int_equal(cairn_iscsi_tgt_node_delete(TGT_PLAIN), 0);
	cairn_iscsi_fini();
	cairn_bdev_fini();
	cairn_rt_fini();
	return 0;
}

static struct iscsi_context *
connect_to(const char *target, const char *user, const char *pwd, const char *tuser,
	   const char *tpwd, enum iscsi_header_digest hd)
{
	struct iscsi_context *iscsi = iscsi_create_context(INITIATOR);

	assert_non_null(iscsi);
	iscsi_set_targetname(iscsi, target);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(iscsi, hd);
	iscsi_set_timeout(iscsi, 10);
	if (user)
		iscsi_set_initiator_username_pwd(iscsi, user, pwd);
	if (tuser)
		iscsi_set_target_username_pwd(iscsi, tuser, tpwd);
	if (iscsi_full_connect_sync(iscsi, g_portal, 0) != 0) {
		print_message("login to %s: %s\n", target, iscsi_get_error(iscsi));
		iscsi_destroy_context(iscsi);
		return NULL;
	}
	return iscsi;
}

static void
disconnect(struct iscsi_context *iscsi)
{
	iscsi_logout_sync(iscsi);
	iscsi_destroy_context(iscsi);
}

static void
write_read_verify(struct iscsi_context *iscsi, uint32_t bs, uint64_t lba, uint32_t len,
		  uint8_t seed)
{
	uint8_t *buf = malloc(len);
	struct scsi_task *task;
	uint32_t i;

	assert_non_null(buf);
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7 + (i >> 9));
	task = iscsi_write16_sync(iscsi, 0, lba, buf, len, (int)bs, 0, 0, 0, 0, 0);
	assert_non_null(task);
	assert_int_equal(task->status, SCSI_STATUS_GOOD);
	scsi_free_scsi_task(task);
	task = iscsi_read16_sync(iscsi, 0, lba, len, (int)bs, 0, 0, 0, 0, 0);
	assert_non_null(task);
	assert_int_equal(task->status, SCSI_STATUS_GOOD);
	assert_int_equal(task->datain.size, (int)len);
	assert_memory_equal(task->datain.data, buf, len);
	scsi_free_scsi_task(task);
	free(buf);
}

static void
test_plain_io(void **state)
{
	struct iscsi_context *iscsi;
	struct scsi_task *task;
	struct scsi_readcapacity16 *rc16;

	(void)state;
	iscsi = connect_to(TGT_PLAIN, NULL, NULL, NULL, NULL, ISCSI_HEADER_DIGEST_NONE);
	assert_non_null(iscsi);
	task = iscsi_testunitready_sync(iscsi, 0);
	assert_non_null(task);
	assert_int_equal(task->status, SCSI_STATUS_GOOD);
	scsi_free_scsi_task(task);
	task = iscsi_readcapacity16_sync(iscsi, 0);
	assert_non_null(task);
	assert_int_equal(task->status, SCSI_STATUS_GOOD);
	rc16 = scsi_datain_unmarshall(task);
	assert_non_null(rc16);
	assert_int_equal(rc16->returned_lba, BLOCKS - 1);
	assert_int_equal(rc16->block_length, BS);
	scsi_free_scsi_task(task);
	/* immediate only, immediate + unsolicited, and R2T-driven writes */
	write_read_verify(iscsi, BS, 0, 4096, 1);
	write_read_verify(iscsi, BS, 100, 16384, 2);
	write_read_verify(iscsi, BS, 300, 65536, 3);
	write_read_verify(iscsi, BS, 1000, 1024 * 1024, 4);
	/* LBA beyond capacity: CHECK CONDITION, ILLEGAL REQUEST, LBA OUT OF RANGE */
	task = iscsi_read16_sync(iscsi, 0, BLOCKS - 1, 2 * BS, BS, 0, 0, 0, 0, 0);
	assert_non_null(task);
	assert_int_equal(task->status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(task->sense.key, SCSI_SENSE_ILLEGAL_REQUEST);
	assert_int_equal(task->sense.ascq, SCSI_SENSE_ASCQ_LBA_OUT_OF_RANGE);
	scsi_free_scsi_task(task);
	/* a missing LUN */
	task = iscsi_testunitready_sync(iscsi, 5);
	assert_non_null(task);
	assert_int_equal(task->status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(task->sense.key, SCSI_SENSE_ILLEGAL_REQUEST);
	scsi_free_scsi_task(task);
	disconnect(iscsi);
}

static void
test_header_digest(void **state)
{
	struct iscsi_context *iscsi;

	(void)state;
	iscsi = connect_to(TGT_PLAIN, NULL, NULL, NULL, NULL, ISCSI_HEADER_DIGEST_CRC32C);
	assert_non_null(iscsi);
	write_read_verify(iscsi, BS, 2000, 4096, 9);
	write_read_verify(iscsi, BS, 3000, 300 * 1024, 10);
	disconnect(iscsi);
}

static void
test_chap_one_way(void **state)
{
	struct iscsi_context *iscsi;

	(void)state;
	/* no credentials, wrong secret, unknown user: refused */
	assert_null(connect_to(TGT_CHAP, NULL, NULL, NULL, NULL, ISCSI_HEADER_DIGEST_NONE));
	assert_null(connect_to(TGT_CHAP, "alice", "wrong-secret-xx", NULL, NULL,
			       ISCSI_HEADER_DIGEST_NONE));
	assert_null(connect_to(TGT_CHAP, "mallory", "alice-secret-123", NULL, NULL,
			       ISCSI_HEADER_DIGEST_NONE));
	iscsi = connect_to(TGT_CHAP, "alice", "alice-secret-123", NULL, NULL,
			   ISCSI_HEADER_DIGEST_CRC32C);
	assert_non_null(iscsi);
	write_read_verify(iscsi, BS, 10, 8192, 5);
	disconnect(iscsi);
}

static void
test_chap_mutual(void **state)
{
	struct iscsi_context *iscsi;

	(void)state;
	/* mutual required: one-way login refused */
	assert_null(connect_to(TGT_MUTUAL, "bob", "bob-secret-4567", NULL, NULL,
			       ISCSI_HEADER_DIGEST_NONE));
	iscsi = connect_to(TGT_MUTUAL, "bob", "bob-secret-4567", "target-bob",
			   "target-secret-89", ISCSI_HEADER_DIGEST_CRC32C);
	assert_non_null(iscsi);
	write_read_verify(iscsi, 4096, 7, 128 * 1024, 6);
	disconnect(iscsi);
	/* the initiator checks our answer: a wrong expected secret fails the login */
	assert_null(connect_to(TGT_MUTUAL, "bob", "bob-secret-4567", "target-bob",
			       "not-the-secret-1", ISCSI_HEADER_DIGEST_NONE));
}

static void
test_discovery(void **state)
{
	struct iscsi_context *iscsi = iscsi_create_context(INITIATOR);
	struct iscsi_discovery_address *da, *it;
	int n = 0;
	bool plain = false;

	(void)state;
	assert_non_null(iscsi);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_DISCOVERY);
	iscsi_set_timeout(iscsi, 10);
	assert_int_equal(iscsi_connect_sync(iscsi, g_portal), 0);
	assert_int_equal(iscsi_login_sync(iscsi), 0);
	da = iscsi_discovery_sync(iscsi);
	assert_non_null(da);
	for (it = da; it; it = it->next) {
		n++;
		if (strcmp(it->target_name, TGT_PLAIN) == 0) {
			plain = true;
			assert_non_null(it->portals);
			assert_non_null(strstr(it->portals->portal, "127.0.0.1:"));
		}
	}
	assert_int_equal(n, 3);
	assert_true(plain);
	iscsi_free_discovery_data(iscsi, da);
	disconnect(iscsi);

	/* discovery with CHAP required: refused without credentials, works with them */
	assert_int_equal(cairn_iscsi_set_discovery_auth(false, true, false, 1), 0);
	iscsi = iscsi_create_context(INITIATOR);
	assert_non_null(iscsi);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_DISCOVERY);
	iscsi_set_timeout(iscsi, 10);
	assert_int_equal(iscsi_connect_sync(iscsi, g_portal), 0);
	assert_int_not_equal(iscsi_login_sync(iscsi), 0);
	iscsi_destroy_context(iscsi);
	iscsi = iscsi_create_context(INITIATOR);
	assert_non_null(iscsi);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_DISCOVERY);
	iscsi_set_timeout(iscsi, 10);
	iscsi_set_initiator_username_pwd(iscsi, "alice", "alice-secret-123");
	assert_int_equal(iscsi_connect_sync(iscsi, g_portal), 0);
	assert_int_equal(iscsi_login_sync(iscsi), 0);
	da = iscsi_discovery_sync(iscsi);
	assert_non_null(da);
	iscsi_free_discovery_data(iscsi, da);
	disconnect(iscsi);
	assert_int_equal(cairn_iscsi_set_discovery_auth(false, false, false, 0), 0);
}


static void
expect_status(struct scsi_task *task, int status, int key)
{
	assert_non_null(task);
	assert_int_equal(task->status, status);
	if (status == SCSI_STATUS_CHECK_CONDITION)
		assert_int_equal(task->sense.key, key);
	scsi_free_scsi_task(task);
}

static void
test_scsi_commands(void **state)
{
	struct iscsi_context *a, *b;
	struct scsi_task *task;
	struct scsi_persistent_reserve_out_basic po;
	struct unmap_list ul[2] = {{4000, 8}, {4100, 16}};
	uint8_t blk[2 * BS], data[4 * BS];
	unsigned i;

	(void)state;
	a = connect_to(TGT_PLAIN, NULL, NULL, NULL, NULL, ISCSI_HEADER_DIGEST_NONE);
	assert_non_null(a);
	/* INQUIRY: standard and every VPD page we list */
	task = iscsi_inquiry_sync(a, 0, 0, 0, 255);
	assert_non_null(task);
	assert_int_equal(task->status, SCSI_STATUS_GOOD);
	assert_true(task->datain.size >= 36);
	assert_memory_equal(task->datain.data + 8, "CAIRN   ", 8);
	scsi_free_scsi_task(task);
	{
		static const int pages[] = {0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2};

		for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
			task = iscsi_inquiry_sync(a, 0, 1, pages[i], 255);
			assert_non_null(task);
			assert_int_equal(task->status, SCSI_STATUS_GOOD);
			assert_int_equal(task->datain.data[1], pages[i]);
			scsi_free_scsi_task(task);
		}
	}
	expect_status(iscsi_inquiry_sync(a, 0, 1, 0x99, 255), SCSI_STATUS_CHECK_CONDITION,
		      SCSI_SENSE_ILLEGAL_REQUEST);
	/* REPORT LUNS, MODE SENSE (all pages), START STOP, PREVENT ALLOW, SYNC CACHE */
	task = iscsi_reportluns_sync(a, 0, 64);
	assert_non_null(task);
	assert_int_equal(task->status, SCSI_STATUS_GOOD);
	assert_int_equal(task->datain.data[3], 8); /* one LUN */
	scsi_free_scsi_task(task);
	task = iscsi_modesense6_sync(a, 0, 0, SCSI_MODESENSE_PC_CURRENT,
				     SCSI_MODEPAGE_RETURN_ALL_PAGES, 0, 255);
	assert_non_null(task);
	assert_int_equal(task->status, SCSI_STATUS_GOOD);
	assert_int_equal(task->datain.data[3], 8); /* block descriptor */
	scsi_free_scsi_task(task);
	expect_status(iscsi_modesense6_sync(a, 0, 0, SCSI_MODESENSE_PC_SAVED, 0x08, 0, 255),
		      SCSI_STATUS_CHECK_CONDITION, SCSI_SENSE_ILLEGAL_REQUEST);
	expect_status(iscsi_startstopunit_sync(a, 0, 0, 0, 0, 0, 0, 1), SCSI_STATUS_GOOD, 0);
	expect_status(iscsi_preventallow_sync(a, 0, 0), SCSI_STATUS_GOOD, 0);
	expect_status(iscsi_synchronizecache10_sync(a, 0, 0, 8, 0, 0), SCSI_STATUS_GOOD, 0);
	expect_status(iscsi_synchronizecache16_sync(a, 0, BLOCKS, 8, 0, 0),
		      SCSI_STATUS_CHECK_CONDITION, SCSI_SENSE_ILLEGAL_REQUEST);

	/* WRITE10/READ6/READ10/READ12 agree */
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 3);
	expect_status(iscsi_write10_sync(a, 0, 50, data, sizeof(data), BS, 0, 0, 0, 0, 0),
		      SCSI_STATUS_GOOD, 0);
	task = iscsi_read6_sync(a, 0, 50, sizeof(data), BS);
	assert_non_null(task);
	assert_int_equal(task->status, SCSI_STATUS_GOOD);
	assert_memory_equal(task->datain.data, data, sizeof(data));
	scsi_free_scsi_task(task);
	task = iscsi_read12_sync(a, 0, 51, BS, BS, 0, 0, 0, 0, 0);
	assert_non_null(task);
	assert_memory_equal(task->datain.data, data + BS, BS);
	scsi_free_scsi_task(task);

	/* VERIFY with BYTCHK: match, then miscompare */
	expect_status(iscsi_verify10_sync(a, 0, data, sizeof(data), 50, 0, 0, 1, BS),
		      SCSI_STATUS_GOOD, 0);
	data[700] ^= 1;
	expect_status(iscsi_verify10_sync(a, 0, data, sizeof(data), 50, 0, 0, 1, BS),
		      SCSI_STATUS_CHECK_CONDITION, SCSI_SENSE_MISCOMPARE);
	data[700] ^= 1;

	/* COMPARE AND WRITE: compare block 50 with its content, write new data */
	memcpy(blk, data, BS);
	memset(blk + BS, 0xee, BS);
	expect_status(iscsi_compareandwrite_sync(a, 0, 50, blk, sizeof(blk), BS, 0, 0, 0, 0, 0),
		      SCSI_STATUS_GOOD, 0);
	/* again: the compare half no longer matches */
	expect_status(iscsi_compareandwrite_sync(a, 0, 50, blk, sizeof(blk), BS, 0, 0, 0, 0, 0),
		      SCSI_STATUS_CHECK_CONDITION, SCSI_SENSE_MISCOMPARE);
	task = iscsi_read10_sync(a, 0, 50, BS, BS, 0, 0, 0, 0, 0);
	assert_non_null(task);
	assert_memory_equal(task->datain.data, blk + BS, BS);
	scsi_free_scsi_task(task);

	/* WRITE SAME with a pattern, then with UNMAP of zeros, and UNMAP */
	memset(blk, 0xab, BS);
	expect_status(iscsi_writesame16_sync(a, 0, 3000, blk, BS, 600, 0, 0, 0, 0),
		      SCSI_STATUS_GOOD, 0);
	task = iscsi_read16_sync(a, 0, 3599, BS, BS, 0, 0, 0, 0, 0);
	assert_non_null(task);
	assert_memory_equal(task->datain.data, blk, BS);
	scsi_free_scsi_task(task);
	memset(blk, 0, BS);
	expect_status(iscsi_writesame16_sync(a, 0, 3000, blk, BS, 600, 0, 1, 0, 0),
		      SCSI_STATUS_GOOD, 0);
	task = iscsi_read16_sync(a, 0, 3599, BS, BS, 0, 0, 0, 0, 0);
	assert_non_null(task);
	assert_memory_equal(task->datain.data, blk, BS);
	scsi_free_scsi_task(task);
	expect_status(iscsi_writesame16_sync(a, 0, BLOCKS - 1, blk, BS, 2, 0, 0, 0, 0),
		      SCSI_STATUS_CHECK_CONDITION, SCSI_SENSE_ILLEGAL_REQUEST);
	expect_status(iscsi_unmap_sync(a, 0, 0, 0, ul, 2), SCSI_STATUS_GOOD, 0);
	ul[1].lba = BLOCKS;
	expect_status(iscsi_unmap_sync(a, 0, 0, 0, ul, 2), SCSI_STATUS_CHECK_CONDITION,
		      SCSI_SENSE_ILLEGAL_REQUEST);

	/* Persistent reservations across two sessions (two I_T nexuses) */
	b = connect_to(TGT_PLAIN, NULL, NULL, NULL, NULL, ISCSI_HEADER_DIGEST_NONE);
	assert_non_null(b);
	memset(&po, 0, sizeof(po));
	po.service_action_reservation_key = 0x1111;
	expect_status(iscsi_persistent_reserve_out_sync(a, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0,
							0, &po),
		      SCSI_STATUS_GOOD, 0);
	po.service_action_reservation_key = 0x2222;
	expect_status(iscsi_persistent_reserve_out_sync(b, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0,
							0, &po),
		      SCSI_STATUS_GOOD, 0);
	po.reservation_key = 0x1111;
	po.service_action_reservation_key = 0;
	expect_status(iscsi_persistent_reserve_out_sync(
			      a, 0, SCSI_PERSISTENT_RESERVE_RESERVE, 0,
			      SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE, &po),
		      SCSI_STATUS_GOOD, 0);
	task = iscsi_persistent_reserve_in_sync(b, 0, SCSI_PERSISTENT_RESERVE_READ_KEYS, 256);
	assert_non_null(task);
	assert_int_equal(task->status, SCSI_STATUS_GOOD);
	assert_int_equal(task->datain.data[7], 16); /* two keys */
	scsi_free_scsi_task(task);
	/* b may read but not write; a may write */
	task = iscsi_read10_sync(b, 0, 0, BS, BS, 0, 0, 0, 0, 0);
	expect_status(task, SCSI_STATUS_GOOD, 0);
	expect_status(iscsi_write10_sync(b, 0, 0, data, BS, BS, 0, 0, 0, 0, 0),
		      SCSI_STATUS_RESERVATION_CONFLICT, 0);
	expect_status(iscsi_write10_sync(a, 0, 0, data, BS, BS, 0, 0, 0, 0, 0),
		      SCSI_STATUS_GOOD, 0);
	/* release, then b writes again; clear everything */
	expect_status(iscsi_persistent_reserve_out_sync(
			      a, 0, SCSI_PERSISTENT_RESERVE_RELEASE, 0,
			      SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE, &po),
		      SCSI_STATUS_GOOD, 0);
	expect_status(iscsi_write10_sync(b, 0, 0, data, BS, BS, 0, 0, 0, 0, 0),
		      SCSI_STATUS_GOOD, 0);
	expect_status(iscsi_persistent_reserve_out_sync(a, 0, SCSI_PERSISTENT_RESERVE_CLEAR, 0,
							0, &po),
		      SCSI_STATUS_GOOD, 0);
	disconnect(b);
	disconnect(a);
}


static void
test_config_objects(void **state)
{
	json_t *a = json_array(), *v = NULL;
	const char *bad_net[] = {"300.1.2.3/8"};
	const char *any[] = {"ANY"};
	const char *net[] = {"10.0.0.0/8", "[::1]/128"};
	struct cairn_iscsi_pg_ig_map map = {1, 1};
	struct cairn_iscsi_lun_map lun = {"Malloc0", 1};
	struct cairn_iscsi_tgt_node_opts t;
	struct cairn_iscsi_portal bad_portal = {.host = "not-an-ip", .port = "3260"};
	size_t i;
	bool seen_pg = false, seen_node = false;

	(void)state;
	/* replayable config: auth groups, discovery auth (may name a group), portals,
	 * initiators, targets */
	assert_int_equal(cairn_iscsi_write_config_json(a), 0);
	bool seen_disc = false, seen_auth = false;
	for (i = 0; i < json_array_size(a); i++) {
		json_t *call = json_array_get(a, i);
		const char *m = json_string_value(json_object_get(call, "method"));
		json_t *p = json_object_get(call, "params");

		if (strcmp(m, "iscsi_create_auth_group") == 0) {
			assert_false(seen_disc); /* groups before the discovery auth naming them */
			seen_auth = true;
		}
		if (strcmp(m, "iscsi_set_discovery_auth") == 0)
			seen_disc = true;
		if (strcmp(m, "iscsi_create_portal_group") == 0)
			seen_pg = true;
		if (strcmp(m, "iscsi_create_target_node") == 0) {
			assert_true(seen_pg); /* portals come first */
			if (strcmp(json_string_value(json_object_get(p, "name")), TGT_CHAP) == 0) {
				seen_node = true;
				assert_true(json_is_true(json_object_get(p, "require_chap")));
				assert_int_equal(json_integer_value(json_object_get(p, "chap_group")),
						 1);
			}
		}
	}
	assert_true(seen_node);
	assert_true(seen_auth);
	assert_true(seen_disc);
	json_decref(a);
	assert_int_equal(cairn_iscsi_get_target_nodes(&v), 0);
	assert_int_equal(json_array_size(v), 3);
	json_decref(v);
	assert_int_equal(cairn_iscsi_get_auth_groups(&v), 0);
	assert_int_equal(json_array_size(json_object_get(json_array_get(v, 0), "secrets")), 2);
	json_decref(v);

	/* in use: refused */
	assert_int_equal(cairn_iscsi_portal_grp_delete(1), -CAIRN_ERR_BUSY);
	assert_int_equal(cairn_iscsi_init_grp_delete(1), -CAIRN_ERR_BUSY);
	assert_int_equal(cairn_iscsi_auth_group_delete(1), -CAIRN_ERR_BUSY);
	assert_int_equal(cairn_iscsi_portal_grp_delete(9), -CAIRN_ERR_NONEXIST);
	/* validation */
	assert_int_equal(cairn_iscsi_init_grp_create(5, any, 1, bad_net, 1), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_iscsi_init_grp_create(5, any, 1, net, 2), 0);
	assert_int_equal(cairn_iscsi_init_grp_create(5, any, 1, net, 2), -CAIRN_ERR_EXIST);
	assert_int_equal(cairn_iscsi_init_grp_delete(5), 0);
	assert_int_equal(cairn_iscsi_portal_grp_create(7, &bad_portal, 1), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_iscsi_set_discovery_auth(true, true, false, 0), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_iscsi_set_discovery_auth(false, false, false, 42),
			 -CAIRN_ERR_NONEXIST);
	memset(&t, 0, sizeof(t));
	t.opts_size = sizeof(t);
	t.maps = &map;
	t.nmaps = 1;
	t.luns = &lun;
	t.nluns = 1;
	t.name = "iqn.bad name";
	assert_int_equal(cairn_iscsi_tgt_node_create(&t), -CAIRN_ERR_INVAL);
	t.name = "nobdev";
	lun.bdev_name = "NoSuchBdev";
	assert_int_not_equal(cairn_iscsi_tgt_node_create(&t), 0);
	/* add a LUN to a live target: REPORT LUNS sees it */
	assert_int_equal(cairn_bdev_malloc_create("Extra", 64, 512, NULL,
						  &(struct cairn_bdev *){NULL}), 0);
	assert_int_equal(cairn_iscsi_tgt_node_add_lun(TGT_PLAIN, "Extra", 3), 0);
	assert_int_equal(cairn_iscsi_tgt_node_add_lun(TGT_PLAIN, "Extra", 3), -CAIRN_ERR_EXIST);
	{
		struct iscsi_context *iscsi =
			connect_to(TGT_PLAIN, NULL, NULL, NULL, NULL, ISCSI_HEADER_DIGEST_NONE);
		struct scsi_task *task;

		assert_non_null(iscsi);
		task = iscsi_reportluns_sync(iscsi, 0, 64);
		assert_non_null(task);
		assert_int_equal(task->datain.data[3], 16); /* LUN 0 and LUN 3 */
		scsi_free_scsi_task(task);
		disconnect(iscsi);
	}
}

static void
test_unknown_target(void **state)
{
	(void)state;
	assert_null(connect_to("iqn.2016-06.io.cairn:nope", NULL, NULL, NULL, NULL,
			       ISCSI_HEADER_DIGEST_NONE));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_io),      cmocka_unit_test(test_header_digest),
		cmocka_unit_test(test_chap_one_way),  cmocka_unit_test(test_chap_mutual),
		cmocka_unit_test(test_discovery),     cmocka_unit_test(test_unknown_target),
		cmocka_unit_test(test_scsi_commands),
		cmocka_unit_test(test_config_objects),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
