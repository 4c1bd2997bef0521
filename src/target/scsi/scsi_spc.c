/*
 * Primary commands (SPC-4) and the non-medium SBC-3 ones: INQUIRY and its VPD pages,
 * REPORT LUNS, REQUEST SENSE, READ CAPACITY, MODE SENSE/SELECT (caching, control,
 * read-write error recovery pages), TEST UNIT READY, START STOP UNIT, PREVENT ALLOW
 * MEDIUM REMOVAL, PERSISTENT RESERVE IN, REPORT SUPPORTED OPERATION CODES / TMFs,
 * GET LBA STATUS. Everything completes inline.
 */
#include <stdio.h>
#include <string.h>

#include "cairn/errno.h"
#include "scsi_internal.h"

#define SCSI_VENDOR "CAIRN   "
#define SCSI_REVISION "0001"
/* NAA 6 designator company id (locally administered prefix for Cairn). */
#define SCSI_NAA_COMPANY 0x0c4a1eu

static void
pad_copy(uint8_t *dst, const char *src, size_t n)
{
	size_t l = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, l < n ? l : n);
}

static void
invalid_cdb(struct cairn_scsi_task *t, int byte, int bit)
{
	scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST, CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB,
			    byte, true, bit);
}

static void
invalid_param(struct cairn_scsi_task *t, int byte)
{
	scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
			    CAIRN_SCSI_ASC_INVALID_FIELD_IN_PARAM, byte, false, -1);
}

static int
inquiry_std(struct cairn_scsi_task *t, uint8_t *d)
{
	struct cairn_scsi_lun *lun = t->lun;
	const char *product =
		lun && !cairn_scsi_lun_removed(lun) ? cairn_bdev_product_name(lun->bdev) : "Cairn";

	memset(d, 0, 66);
	if (!lun || cairn_scsi_lun_removed(lun))
		d[0] = 0x7f; /* qualifier 011b: no LU at this LUN; type 1Fh */
	d[2] = 0x06;        /* SPC-4 */
	d[3] = 0x02 | 0x10; /* response data format 2, HISUP */
	d[4] = 66 - 5;
	d[7] = 0x02;        /* CMDQUE */
	pad_copy(d + 8, SCSI_VENDOR, 8);
	pad_copy(d + 16, product ? product : "Cairn", 16);
	pad_copy(d + 32, SCSI_REVISION, 4);
	scsi_put_be16(d + 58, 0x00c0); /* SAM-5 */
	scsi_put_be16(d + 60, 0x0960); /* iSCSI */
	scsi_put_be16(d + 62, 0x0460); /* SPC-4 */
	scsi_put_be16(d + 64, 0x04c0); /* SBC-3 */
	return 66;
}

static int
vpd_device_id(struct cairn_scsi_task *t, uint8_t *d, uint32_t cap)
{
	struct cairn_scsi_lun *lun = t->lun;
	uint32_t off = 4;
	size_t nlen;
	char name[CAIRN_SCSI_NAME_MAX + 8];
	unsigned i;

	/* NAA IEEE Registered Extended (NAA 6): company id + 100 bits from the UUID. */
	d[off] = 0x01; /* protocol 0, code set binary */
	d[off + 1] = 0x03; /* association LU, type NAA */
	d[off + 3] = 16;
	d[off + 4] = (uint8_t)(0x60 | (SCSI_NAA_COMPANY >> 20));
	d[off + 5] = (uint8_t)(SCSI_NAA_COMPANY >> 12);
	d[off + 6] = (uint8_t)(SCSI_NAA_COMPANY >> 4);
	d[off + 7] = (uint8_t)((SCSI_NAA_COMPANY & 0xf) << 4 | (lun->uuid[0] & 0x0f));
	memcpy(d + off + 8, lun->uuid + 1, 12);
	off += 20;

	/* T10 vendor id: vendor + UUID in hex. */
	d[off] = 0x02; /* code set ASCII */
	d[off + 1] = 0x01; /* association LU, type T10 vendor id */
	d[off + 3] = 8 + 32;
	pad_copy(d + off + 4, SCSI_VENDOR, 8);
	for (i = 0; i < 16; i++)
		snprintf((char *)d + off + 12 + 2 * i, 3, "%02x", lun->uuid[i]);
	off += 4 + 8 + 32;

	/* Relative target port (association: target port). */
	d[off] = 0x61; /* protocol iSCSI (5), PIV, code set binary */
	d[off + 1] = 0x80 | 0x10 | 0x04; /* PIV, association port, type 4 */
	d[off + 3] = 4;
	scsi_put_be16(d + off + 6, t->rel_tgt_port ? t->rel_tgt_port : 1);
	off += 8;

	/* SCSI name string of the target device (UTF-8, NUL padded to 4). */
	snprintf(name, sizeof(name), "%s", lun->dev->name);
	nlen = (strlen(name) + 1 + 3) & ~(size_t)3;
	if (off + 4 + nlen <= cap) {
		d[off] = 0x53;  /* iSCSI, UTF-8 */
		d[off + 1] = 0x80 | 0x20 | 0x08; /* PIV, association target device, type 8 */
		d[off + 3] = (uint8_t)nlen;
		memset(d + off + 4, 0, nlen);
		memcpy(d + off + 4, name, strlen(name));
		off += 4 + (uint32_t)nlen;
	}
	scsi_put_be16(d + 2, (uint16_t)(off - 4));
	return (int)off;
}

static int
inquiry_vpd(struct cairn_scsi_task *t, uint8_t *d, uint32_t cap)
{
	struct cairn_scsi_lun *lun = t->lun;
	uint8_t page = t->cdb[2];
	uint32_t bs = lun->block_size;
	bool unmap = cairn_bdev_io_type_supported(lun->bdev, CAIRN_BDEV_IO_UNMAP);
	unsigned i;

	memset(d, 0, cap);
	d[1] = page;
	switch (page) {
	case 0x00: {
		static const uint8_t pages[] = {0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2};

		memcpy(d + 4, pages, sizeof(pages));
		d[3] = sizeof(pages);
		return 4 + (int)sizeof(pages);
	}
	case 0x80:
		d[3] = 32;
		for (i = 0; i < 16; i++)
			snprintf((char *)d + 4 + 2 * i, 3, "%02x", lun->uuid[i]);
		return 36;
	case 0x83:
		return vpd_device_id(t, d, cap);
	case 0xb0:
		d[3] = 0x3c;
		d[4] = 0x00;                       /* WSNZ=0: 0 blocks = to the end */
		d[5] = SCSI_MAX_CAW_BLOCKS;         /* MAXIMUM COMPARE AND WRITE LENGTH */
		scsi_put_be16(d + 6, 1);            /* optimal transfer length granularity */
		scsi_put_be32(d + 8, SCSI_MAX_XFER_BYTES / bs);
		scsi_put_be32(d + 12, (128u * 1024) / bs);
		if (unmap) {
			scsi_put_be32(d + 20, 0xffffffffu);          /* max unmap LBA count */
			scsi_put_be32(d + 24, SCSI_MAX_UNMAP_DESCS); /* max descriptors */
			scsi_put_be32(d + 28, 1);                    /* optimal granularity */
		}
		scsi_put_be64(d + 36, SCSI_MAX_WRITE_SAME_BLOCKS);
		return 64;
	case 0xb1:
		d[3] = 0x3c;
		scsi_put_be16(d + 4, 1); /* non-rotating medium */
		return 64;
	case 0xb2:
		d[3] = 4;
		if (unmap) {
			d[5] = 0x80 | 0x40 | 0x20; /* LBPU, LBPWS, LBPWS10 */
			if (cairn_bdev_unmap_zeroes(lun->bdev))
				d[5] |= 0x04;      /* LBPRZ */
			d[6] = 0x02;               /* thin provisioned */
		}
		return 8;
	default:
		invalid_cdb(t, 2, -1);
		return -1;
	}
}

static void
do_inquiry(struct cairn_scsi_task *t)
{
	uint8_t d[512];
	int n;

	if (t->cdb[1] & 1) {
		if (!t->lun || cairn_scsi_lun_removed(t->lun)) {
			scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
					    CAIRN_SCSI_ASC_LU_NOT_SUPPORTED, -1, false, -1);
			return;
		}
		n = inquiry_vpd(t, d, sizeof(d));
	} else {
		n = inquiry_std(t, d);
	}
	if (n >= 0)
		scsi_task_copy_in(t, d, (uint32_t)n, t->info.alloc_len);
}

static void
do_report_luns(struct cairn_scsi_task *t)
{
	uint8_t d[8 + 8 * CAIRN_SCSI_MAX_LUNS];
	uint32_t off = 8;
	unsigned i;

	if (t->cdb[2] > 2) {
		invalid_cdb(t, 2, -1);
		return;
	}
	if (t->info.alloc_len < 16) {
		invalid_cdb(t, 6, -1);
		return;
	}
	memset(d, 0, sizeof(d));
	for (i = 0; i < CAIRN_SCSI_MAX_LUNS; i++) {
		struct cairn_scsi_lun *l = cairn_scsi_dev_get_lun(t->dev, i);

		if (!l || cairn_scsi_lun_removed(l))
			continue; /* hot-removed LUNs are gone from the inventory */
		/* Peripheral device addressing, single level. */
		d[off + 1] = (uint8_t)i;
		off += 8;
	}
	scsi_put_be32(d, off - 8);
	scsi_task_copy_in(t, d, off, t->info.alloc_len);
}

static void
do_request_sense(struct cairn_scsi_task *t)
{
	uint8_t d[18];
	uint32_t n;

	memset(d, 0, sizeof(d));
	if (!t->lun || cairn_scsi_lun_removed(t->lun)) {
		n = cairn_scsi_sense_fixed(d, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
					   CAIRN_SCSI_ASC_LU_NOT_SUPPORTED, -1, false, -1);
	} else if (t->cdb[1] & 1) {
		d[0] = 0x72; /* descriptor format, NO SENSE */
		n = 8;
	} else {
		n = cairn_scsi_sense_fixed(d, CAIRN_SCSI_SK_NO_SENSE, CAIRN_SCSI_ASC_NONE, -1,
					   false, -1);
	}
	scsi_task_copy_in(t, d, n, t->info.alloc_len);
}

static void
do_read_capacity(struct cairn_scsi_task *t)
{
	struct cairn_scsi_lun *lun = t->lun;
	uint64_t nb = __atomic_load_n(&lun->num_blocks, __ATOMIC_ACQUIRE);
	uint8_t d[32];

	memset(d, 0, sizeof(d));
	if (t->info.opcode == SCSI_OP_READ_CAPACITY10) {
		if (t->cdb[8] & 1) { /* PMI is obsolete */
			invalid_cdb(t, 8, 0);
			return;
		}
		scsi_put_be32(d, nb - 1 > 0xffffffffull ? 0xffffffffu : (uint32_t)(nb - 1));
		scsi_put_be32(d + 4, lun->block_size);
		scsi_task_copy_in(t, d, 8, 8);
		return;
	}
	scsi_put_be64(d, nb - 1);
	scsi_put_be32(d + 8, lun->block_size);
	if (cairn_bdev_io_type_supported(lun->bdev, CAIRN_BDEV_IO_UNMAP)) {
		d[14] = 0x80; /* LBPME */
		if (cairn_bdev_unmap_zeroes(lun->bdev))
			d[14] |= 0x40; /* LBPRZ */
	}
	scsi_task_copy_in(t, d, 32, t->info.alloc_len);
}

static void
do_get_lba_status(struct cairn_scsi_task *t)
{
	struct cairn_scsi_lun *lun = t->lun;
	uint64_t nb = __atomic_load_n(&lun->num_blocks, __ATOMIC_ACQUIRE);
	uint64_t lba = t->info.lba, left;
	uint8_t d[24];

	if (lba >= nb) {
		scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
				    CAIRN_SCSI_ASC_LBA_OUT_OF_RANGE, -1, false, -1);
		return;
	}
	left = nb - lba;
	memset(d, 0, sizeof(d));
	scsi_put_be32(d, 20);
	scsi_put_be64(d + 8, lba);
	scsi_put_be32(d + 16, left > 0xffffffffull ? 0xffffffffu : (uint32_t)left);
	d[20] = 0; /* mapped (we do not track allocation) */
	scsi_task_copy_in(t, d, 24, t->info.alloc_len);
}

/* ------------------------------------------------------------------ mode pages */

#define MODE_PAGE_RW_RECOVERY 0x01
#define MODE_PAGE_CACHING 0x08
#define MODE_PAGE_CONTROL 0x0a
#define MODE_PAGE_ALL 0x3f

/* pc: 0 current, 1 changeable, 2 default */
static uint32_t
mode_page(struct cairn_scsi_lun *lun, uint8_t page, unsigned pc, uint8_t *d)
{
	switch (page) {
	case MODE_PAGE_RW_RECOVERY:
		memset(d, 0, 12);
		d[0] = MODE_PAGE_RW_RECOVERY;
		d[1] = 0x0a;
		return 12;
	case MODE_PAGE_CACHING:
		memset(d, 0, 20);
		d[0] = MODE_PAGE_CACHING;
		d[1] = 0x12;
		if (pc == 1)
			d[2] = 0x04; /* WCE changeable */
		else if (pc == 2)
			d[2] = cairn_bdev_has_write_cache(lun->bdev) ? 0x04 : 0;
		else
			d[2] = __atomic_load_n(&lun->wce, __ATOMIC_ACQUIRE) ? 0x04 : 0;
		return 20;
	case MODE_PAGE_CONTROL:
		memset(d, 0, 12);
		d[0] = MODE_PAGE_CONTROL;
		d[1] = 0x0a;
		if (pc != 1) {
			d[3] = 0x10;  /* queue algorithm modifier 1: unrestricted reordering */
			scsi_put_be16(d + 8, 0xffff); /* busy timeout: unlimited */
		}
		return 12;
	default:
		return 0;
	}
}

static void
do_mode_sense(struct cairn_scsi_task *t)
{
	struct cairn_scsi_lun *lun = t->lun;
	bool ten = t->info.opcode == SCSI_OP_MODE_SENSE10;
	bool dbd = t->cdb[1] & 0x08;
	bool llbaa = ten && (t->cdb[1] & 0x10);
	unsigned pc = t->cdb[2] >> 6;
	uint8_t page = t->cdb[2] & 0x3f;
	uint8_t sub = t->cdb[3];
	uint8_t d[256];
	uint32_t hdr = ten ? 8 : 4, off, bdl = 0;
	uint64_t nb = __atomic_load_n(&lun->num_blocks, __ATOMIC_ACQUIRE);

	if (pc == 3) {
		scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
				    CAIRN_SCSI_ASC_SAVING_PARAMS_UNSUPPORTED, -1, false, -1);
		return;
	}
	if (sub != 0 && !(page == MODE_PAGE_ALL && sub == 0xff)) {
		invalid_cdb(t, 3, -1);
		return;
	}
	memset(d, 0, sizeof(d));
	off = hdr;
	if (!dbd) {
		bdl = llbaa ? 16 : 8;
		if (llbaa) {
			scsi_put_be64(d + off, nb);
			scsi_put_be32(d + off + 12, lun->block_size);
		} else {
			scsi_put_be32(d + off, nb > 0xffffffffull ? 0xffffffffu : (uint32_t)nb);
			d[off + 5] = (uint8_t)(lun->block_size >> 16);
			d[off + 6] = (uint8_t)(lun->block_size >> 8);
			d[off + 7] = (uint8_t)lun->block_size;
		}
		off += bdl;
	}
	if (page == MODE_PAGE_ALL) {
		off += mode_page(lun, MODE_PAGE_RW_RECOVERY, pc, d + off);
		off += mode_page(lun, MODE_PAGE_CACHING, pc, d + off);
		off += mode_page(lun, MODE_PAGE_CONTROL, pc, d + off);
	} else {
		uint32_t n = mode_page(lun, page, pc, d + off);

		if (!n) {
			invalid_cdb(t, 2, 5);
			return;
		}
		off += n;
	}
	if (ten) {
		scsi_put_be16(d, (uint16_t)(off - 2));
		d[3] = 0x10; /* DPOFUA */
		d[4] = llbaa ? 1 : 0;
		scsi_put_be16(d + 6, (uint16_t)bdl);
	} else {
		d[0] = (uint8_t)(off - 1);
		d[2] = 0x10; /* DPOFUA */
		d[3] = (uint8_t)bdl;
	}
	scsi_task_copy_in(t, d, off, t->info.alloc_len);
}

static void
do_mode_select(struct cairn_scsi_task *t)
{
	struct cairn_scsi_lun *lun = t->lun;
	bool ten = t->info.opcode == SCSI_OP_MODE_SELECT10;
	uint32_t len = t->info.alloc_len, hdr = ten ? 8 : 4, bdl, off;
	const uint8_t *p = t->buf;

	if (!(t->cdb[1] & 0x10) && len) { /* PF: only the standard page format */
		invalid_cdb(t, 1, 4);
		return;
	}
	if (t->cdb[1] & 0x01) { /* SP: cannot save */
		invalid_cdb(t, 1, 0);
		return;
	}
	if (len == 0)
		return;
	if (len > t->xfer_len || len > t->buf_len || len < hdr) {
		scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
				    CAIRN_SCSI_ASC_PARAM_LIST_LENGTH_ERROR, -1, false, -1);
		return;
	}
	bdl = ten ? scsi_get_be16(p + 6) : p[3];
	if (bdl && bdl != 8 && bdl != 16) {
		invalid_param(t, ten ? 6 : 3);
		return;
	}
	off = hdr + bdl;
	if (off > len) {
		scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
				    CAIRN_SCSI_ASC_PARAM_LIST_LENGTH_ERROR, -1, false, -1);
		return;
	}
	if (bdl == 8 && (uint32_t)(p[hdr + 5] << 16 | p[hdr + 6] << 8 | p[hdr + 7]) !=
				lun->block_size) {
		invalid_param(t, (int)hdr + 5);
		return;
	}
	while (off < len) {
		uint8_t page = p[off] & 0x3f, cur[32];
		uint32_t plen, n;
		bool spf = p[off] & 0x40;

		if (spf || off + 2 > len) {
			invalid_param(t, (int)off);
			return;
		}
		plen = (uint32_t)p[off + 1] + 2;
		if (off + plen > len) {
			scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
					    CAIRN_SCSI_ASC_PARAM_LIST_LENGTH_ERROR, -1, false, -1);
			return;
		}
		n = mode_page(lun, page, 0, cur);
		if (!n || n != plen) {
			invalid_param(t, (int)off);
			return;
		}
		if (page == MODE_PAGE_CACHING) {
			uint8_t want = p[off + 2];
			unsigned i;

			/* Only WCE may change; everything else must equal the current page. */
			if ((want & ~0x04) != (cur[2] & ~0x04)) {
				invalid_param(t, (int)off + 2);
				return;
			}
			for (i = 3; i < plen; i++) {
				if (p[off + i] != cur[i]) {
					invalid_param(t, (int)(off + i));
					return;
				}
			}
			__atomic_store_n(&lun->wce, (uint8_t)((want & 0x04) != 0),
					 __ATOMIC_RELEASE);
		} else {
			unsigned i;

			for (i = 2; i < plen; i++) {
				if (p[off + i] != cur[i]) {
					invalid_param(t, (int)(off + i));
					return;
				}
			}
		}
		off += plen;
	}
}

/* ------------------------------------------------------------------ supported opcodes */

static const struct {
	uint8_t op;
	uint16_t sa;
	bool has_sa;
	uint8_t len;
} g_opcodes[] = {
	{SCSI_OP_TEST_UNIT_READY, 0, false, 6},  {SCSI_OP_REQUEST_SENSE, 0, false, 6},
	{SCSI_OP_READ6, 0, false, 6},            {SCSI_OP_WRITE6, 0, false, 6},
	{SCSI_OP_INQUIRY, 0, false, 6},          {SCSI_OP_MODE_SELECT6, 0, false, 6},
	{SCSI_OP_MODE_SENSE6, 0, false, 6},      {SCSI_OP_START_STOP_UNIT, 0, false, 6},
	{SCSI_OP_PREVENT_ALLOW, 0, false, 6},    {SCSI_OP_READ_CAPACITY10, 0, false, 10},
	{SCSI_OP_READ10, 0, false, 10},          {SCSI_OP_WRITE10, 0, false, 10},
	{SCSI_OP_WRITE_VERIFY10, 0, false, 10},  {SCSI_OP_VERIFY10, 0, false, 10},
	{SCSI_OP_SYNC_CACHE10, 0, false, 10},    {SCSI_OP_WRITE_SAME10, 0, false, 10},
	{SCSI_OP_UNMAP, 0, false, 10},           {SCSI_OP_MODE_SELECT10, 0, false, 10},
	{SCSI_OP_MODE_SENSE10, 0, false, 10},    {SCSI_OP_PR_IN, 0, true, 10},
	{SCSI_OP_PR_IN, 1, true, 10},            {SCSI_OP_PR_IN, 2, true, 10},
	{SCSI_OP_PR_IN, 3, true, 10},            {SCSI_OP_PR_OUT, 0, true, 10},
	{SCSI_OP_PR_OUT, 1, true, 10},           {SCSI_OP_PR_OUT, 2, true, 10},
	{SCSI_OP_PR_OUT, 3, true, 10},           {SCSI_OP_PR_OUT, 4, true, 10},
	{SCSI_OP_PR_OUT, 5, true, 10},           {SCSI_OP_PR_OUT, 6, true, 10},
	{SCSI_OP_READ16, 0, false, 16},          {SCSI_OP_COMPARE_AND_WRITE, 0, false, 16},
	{SCSI_OP_WRITE16, 0, false, 16},         {SCSI_OP_WRITE_VERIFY16, 0, false, 16},
	{SCSI_OP_VERIFY16, 0, false, 16},        {SCSI_OP_SYNC_CACHE16, 0, false, 16},
	{SCSI_OP_WRITE_SAME16, 0, false, 16},    {SCSI_OP_SERVICE_ACTION_IN16, 0x10, true, 16},
	{SCSI_OP_SERVICE_ACTION_IN16, 0x12, true, 16},
	{SCSI_OP_REPORT_LUNS, 0, false, 12},     {SCSI_OP_MAINTENANCE_IN, 0x0c, true, 12},
	{SCSI_OP_MAINTENANCE_IN, 0x0d, true, 12},
	{SCSI_OP_READ12, 0, false, 12},          {SCSI_OP_WRITE12, 0, false, 12},
	{SCSI_OP_WRITE_VERIFY12, 0, false, 12},  {SCSI_OP_VERIFY12, 0, false, 12},
	{SCSI_OP_RESERVE6, 0, false, 6},         {SCSI_OP_RELEASE6, 0, false, 6},
	{SCSI_OP_PRE_FETCH10, 0, false, 10},     {SCSI_OP_PRE_FETCH16, 0, false, 16},
	{SCSI_OP_READ_DEFECT10, 0, false, 10},   {SCSI_OP_READ_DEFECT12, 0, false, 12},
	{SCSI_OP_ORWRITE16, 0, false, 16},
};

#define NR_OPCODES (sizeof(g_opcodes) / sizeof(g_opcodes[0]))

static void
do_report_opcodes(struct cairn_scsi_task *t)
{
	/* all_commands with RCTD: 4-byte header, 8-byte descriptor + 12-byte timeouts */
	uint8_t d[4 + 20 * NR_OPCODES];
	unsigned opts = t->cdb[2] & 0x07;
	bool rctd = t->cdb[2] & 0x80;
	uint8_t op = t->cdb[3];
	uint16_t sa = scsi_get_be16(t->cdb + 4);
	uint32_t off = 0, i;

	memset(d, 0, sizeof(d));
	if (opts == 0) {
		off = 4;
		for (i = 0; i < sizeof(g_opcodes) / sizeof(g_opcodes[0]); i++) {
			d[off] = g_opcodes[i].op;
			scsi_put_be16(d + off + 2, g_opcodes[i].sa);
			d[off + 5] = (g_opcodes[i].has_sa ? 0x01 : 0) | (rctd ? 0x02 : 0);
			scsi_put_be16(d + off + 6, g_opcodes[i].len);
			off += 8;
			if (rctd) {
				scsi_put_be16(d + off, 0x0a);
				off += 12;
			}
		}
		scsi_put_be32(d, off - 4);
	} else if (opts == 1 || opts == 2) {
		int found = -1;
		bool any_sa = false;

		for (i = 0; i < sizeof(g_opcodes) / sizeof(g_opcodes[0]); i++) {
			if (g_opcodes[i].op != op)
				continue;
			any_sa |= g_opcodes[i].has_sa;
			if (opts == 1 || g_opcodes[i].sa == sa)
				found = (int)i;
		}
		if ((opts == 1 && any_sa) || (opts == 2 && found >= 0 && !any_sa)) {
			invalid_cdb(t, 2, 0);
			return;
		}
		if (found < 0) {
			d[1] = 0x01; /* not supported */
			off = 4;
		} else {
			uint8_t len = g_opcodes[found].len;

			d[1] = 0x03 | (rctd ? 0x80 : 0); /* supported per standard, CTDP */
			scsi_put_be16(d + 2, len);
			d[4] = op;
			memset(d + 5, 0xff, (size_t)len - 2);
			d[4 + len - 1] = 0x00; /* control byte: no NACA/LINK */
			off = 4 + len;
			if (rctd) {
				scsi_put_be16(d + off, 0x0a);
				off += 12;
			}
		}
	} else {
		invalid_cdb(t, 2, 2);
		return;
	}
	scsi_task_copy_in(t, d, off, t->info.alloc_len);
}

static void
do_report_tmfs(struct cairn_scsi_task *t)
{
	uint8_t d[16];

	memset(d, 0, sizeof(d));
	/* ABORT TASK, ABORT TASK SET, CLEAR TASK SET, LUN RESET, TARGET RESET */
	d[0] = 0x80 | 0x40 | 0x10 | 0x08 | 0x02;
	scsi_task_copy_in(t, d, 4, t->info.alloc_len);
}

static void
do_pr_in(struct cairn_scsi_task *t)
{
	struct cairn_scsi_lun *lun = t->lun;
	uint8_t d[8192];
	uint32_t len = 0;

	pthread_mutex_lock(&lun->pr_lock);
	t->status = cairn_scsi_pr_in(&lun->pr, t->cdb, d, sizeof(d), &len, t->sense,
				     &t->sense_len);
	pthread_mutex_unlock(&lun->pr_lock);
	if (t->status == CAIRN_SCSI_STATUS_GOOD)
		scsi_task_copy_in(t, d, len < sizeof(d) ? len : sizeof(d), t->info.alloc_len);
}

/* READ DEFECT DATA (SBC-3 5.11/5.12): a virtual medium has no defects. The header
 * echoes the lists asked for (PLIST/GLIST) and the format, with an empty list. */
static void
do_read_defect(struct cairn_scsi_task *t)
{
	uint8_t d[8];
	uint32_t n;

	memset(d, 0, sizeof(d));
	d[1] = t->cdb[t->info.opcode == SCSI_OP_READ_DEFECT10 ? 2 : 1] & 0x1f;
	n = t->info.opcode == SCSI_OP_READ_DEFECT10 ? 4 : 8;
	scsi_task_copy_in(t, d, n, t->info.alloc_len);
}

int
scsi_spc_execute(struct cairn_scsi_task *t)
{
	switch (t->info.opcode) {
	case SCSI_OP_INQUIRY:
		do_inquiry(t);
		break;
	case SCSI_OP_REPORT_LUNS:
		do_report_luns(t);
		break;
	case SCSI_OP_REQUEST_SENSE:
		do_request_sense(t);
		break;
	case SCSI_OP_TEST_UNIT_READY:
		break;
	case SCSI_OP_START_STOP_UNIT:
		/* No medium to load or eject: accepted (power conditions ignored). */
		if (t->cdb[4] & 0x02 && !(t->cdb[4] & 0x01)) {
			/* LOEJ without START: eject of a non-removable medium */
			invalid_cdb(t, 4, 1);
		}
		break;
	case SCSI_OP_PREVENT_ALLOW:
		if ((t->cdb[4] & 0x03) > 1) /* only "prevent"/"allow" of the medium */
			invalid_cdb(t, 4, 1);
		break;
	case SCSI_OP_READ_CAPACITY10:
		do_read_capacity(t);
		break;
	case SCSI_OP_SERVICE_ACTION_IN16:
		if (t->info.service_action == SCSI_SAI_READ_CAPACITY16)
			do_read_capacity(t);
		else
			do_get_lba_status(t);
		break;
	case SCSI_OP_MODE_SENSE6:
	case SCSI_OP_MODE_SENSE10:
		do_mode_sense(t);
		break;
	case SCSI_OP_MODE_SELECT6:
	case SCSI_OP_MODE_SELECT10:
		do_mode_select(t);
		break;
	case SCSI_OP_MAINTENANCE_IN:
		if (t->info.service_action == SCSI_MI_REPORT_SUPPORTED_OPCODES)
			do_report_opcodes(t);
		else
			do_report_tmfs(t);
		break;
	case SCSI_OP_PR_IN:
		do_pr_in(t);
		break;
	case SCSI_OP_READ_DEFECT10:
	case SCSI_OP_READ_DEFECT12:
		do_read_defect(t);
		break;
	default:
		scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST, CAIRN_SCSI_ASC_INVALID_OPCODE,
				    0, true, -1);
		break;
	}
	return CAIRN_SCSI_TASK_DONE;
}
