/*
 * Medium commands (SBC-3) over the bdev: READ/WRITE(6/10/12/16), WRITE AND VERIFY,
 * VERIFY (with BYTCHK compare), COMPARE AND WRITE, WRITE SAME (with UNMAP), UNMAP,
 * SYNCHRONIZE CACHE. Zero-copy: the bdev reads into and writes from the task buffer
 * the transport filled. Multi-step commands advance t->step from bdev completions.
 */
#include <stdlib.h>
#include <string.h>

#define CAIRN_LOG_SS CAIRN_SS_SCSI
#include "cairn/errno.h"
#include "common/log.h"
#include "scsi_internal.h"

enum {
	STEP_NONE = 0,
	STEP_READ,
	STEP_WRITE,
	STEP_WRITE_FUA_FLUSH,
	STEP_VERIFY_READ,
	STEP_CAW_READ,
	STEP_CAW_WRITE,
	STEP_WS_CHUNK,
	STEP_UNMAP_DESC,
	STEP_FLUSH,
	STEP_WS_UNMAP,
	STEP_PREFETCH,
	STEP_OR_READ,
	STEP_OR_WRITE,
};

#define WS_CHUNK_BYTES (256u * 1024)

static void sbc_io_done(void *arg, int rc);

static void
lba_out_of_range(struct cairn_scsi_task *t)
{
	scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST, CAIRN_SCSI_ASC_LBA_OUT_OF_RANGE, -1,
			    false, -1);
}

static void
io_error(struct cairn_scsi_task *t, int rc, bool write)
{
	CAIRN_LOG_RATELIMIT(CAIRN_SS_SCSI, CAIRN_LOG_ERR, 5,
			    "LUN %u (%s): %s at LBA %llu failed: %s", t->lun->id,
			    t->lun->bdev_name, write ? "write" : "read",
			    (unsigned long long)t->info.lba, cairn_strerror(rc));
	scsi_task_set_sense(t, CAIRN_SCSI_SK_MEDIUM_ERROR,
			    write ? CAIRN_SCSI_ASC_WRITE_ERROR : CAIRN_SCSI_ASC_READ_ERROR, -1,
			    false, -1);
}

static bool
range_ok(struct cairn_scsi_task *t, uint64_t lba, uint64_t n)
{
	uint64_t nb = __atomic_load_n(&t->lun->num_blocks, __ATOMIC_ACQUIRE);

	return lba <= nb && n <= nb - lba;
}

static void
task_finish_async(struct cairn_scsi_task *t)
{
	scsi_range_release(t);
	free(t->scratch);
	t->scratch = NULL;
	__atomic_sub_fetch(&t->lun->inflight, 1, __ATOMIC_RELEASE);
	t->cb(t->cb_arg, 0);
}

#define PREFETCH_CHUNK_BYTES (256u * 1024)

static uint64_t
prefetch_chunk(const struct cairn_scsi_task *t)
{
	uint64_t per = PREFETCH_CHUNK_BYTES / t->lun->block_size;
	uint64_t left = t->info.num_blocks - t->cursor;

	return per < left ? per : left;
}

/* Submit the bdev operation for the current step. Returns 0 when submitted. */
static int
sbc_submit(struct cairn_scsi_task *t)
{
	struct cairn_scsi_lun *lun = t->lun;
	uint32_t bs = lun->block_size;
	const struct cairn_scsi_cdb_info *info = &t->info;

	switch (t->step) {
	case STEP_READ:
		return cairn_bdev_read(lun->desc, t->ch, t->buf, info->lba, info->num_blocks,
				       sbc_io_done, t);
	case STEP_WRITE:
		return cairn_bdev_write(lun->desc, t->ch, t->buf, info->lba, info->num_blocks,
					sbc_io_done, t);
	case STEP_VERIFY_READ:
	case STEP_CAW_READ:
		return cairn_bdev_read(lun->desc, t->ch, t->scratch, info->lba, info->num_blocks,
				       sbc_io_done, t);
	case STEP_CAW_WRITE:
		return cairn_bdev_write(lun->desc, t->ch, t->buf + (size_t)info->num_blocks * bs,
					info->lba, info->num_blocks, sbc_io_done, t);
	case STEP_WRITE_FUA_FLUSH:
	case STEP_FLUSH:
		return cairn_bdev_flush(lun->desc, t->ch, 0, 0, sbc_io_done, t);
	case STEP_OR_READ:
		return cairn_bdev_read(lun->desc, t->ch, t->scratch, info->lba, info->num_blocks,
				       sbc_io_done, t);
	case STEP_OR_WRITE:
		return cairn_bdev_write(lun->desc, t->ch, t->scratch, info->lba, info->num_blocks,
					sbc_io_done, t);
	case STEP_WS_UNMAP:
		return cairn_bdev_unmap(lun->desc, t->ch, info->lba, info->num_blocks,
					sbc_io_done, t);
	case STEP_PREFETCH:
		/* Read into the task's scratch (bounded chunks) so the next read hits any
		 * cache the bdev keeps; RAM-backed bdevs make this cheap. */
		return cairn_bdev_read(lun->desc, t->ch, t->scratch, info->lba + t->cursor,
				       prefetch_chunk(t), sbc_io_done, t);
	case STEP_WS_CHUNK: {
		uint64_t done = t->cursor;
		uint64_t left = info->num_blocks - done;
		uint64_t per = WS_CHUNK_BYTES / bs;

		if (!t->scratch) /* all-zero pattern */
			return cairn_bdev_write_zeroes(lun->desc, t->ch, info->lba,
						       info->num_blocks, sbc_io_done, t);
		if (per > left)
			per = left;
		t->cursor += per;
		return cairn_bdev_write(lun->desc, t->ch, t->scratch, info->lba + done, per,
					sbc_io_done, t);
	}
	case STEP_UNMAP_DESC: {
		const uint8_t *d = t->buf + 8 + 16 * t->cursor;

		return cairn_bdev_unmap(lun->desc, t->ch, scsi_get_be64(d), scsi_get_be32(d + 8),
					sbc_io_done, t);
	}
	}
	return -CAIRN_ERR_INVAL;
}

static uint32_t
first_mismatch(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return i;
	return n;
}

/* Next unmap descriptor with a non-zero count, or false when done. */
static bool
unmap_next(struct cairn_scsi_task *t, uint32_t ndesc)
{
	while (t->cursor < ndesc) {
		const uint8_t *d = t->buf + 8 + 16 * t->cursor;

		if (scsi_get_be32(d + 8))
			return true;
		t->cursor++;
	}
	return false;
}

static void
sbc_io_done(void *arg, int rc)
{
	struct cairn_scsi_task *t = arg;
	const struct cairn_scsi_cdb_info *info = &t->info;
	uint32_t bs = t->lun->block_size;
	uint32_t bytes = info->num_blocks * bs, mis;
	int src;

	if (rc) {
		io_error(t, rc, t->step != STEP_READ && t->step != STEP_VERIFY_READ &&
					t->step != STEP_CAW_READ && t->step != STEP_PREFETCH &&
					t->step != STEP_OR_READ);
		task_finish_async(t);
		return;
	}
	if (t->aborted && t->step != STEP_READ) {
		/* Aborted by task management: stop after the I/O in flight. */
		t->status = CAIRN_SCSI_STATUS_TASK_ABORTED;
		task_finish_async(t);
		return;
	}
	switch (t->step) {
	case STEP_READ:
		t->data_len = bytes;
		task_finish_async(t);
		return;
	case STEP_WRITE:
		if ((info->flags & 0x08) && __atomic_load_n(&t->lun->wce, __ATOMIC_ACQUIRE)) {
			t->step = STEP_WRITE_FUA_FLUSH; /* FUA with a write cache */
			break;
		}
		task_finish_async(t);
		return;
	case STEP_VERIFY_READ:
		mis = first_mismatch(t->scratch, t->buf, bytes);
		if (mis < bytes) {
			t->sense_len = cairn_scsi_sense_fixed_info(
				t->sense, CAIRN_SCSI_SK_MISCOMPARE,
				CAIRN_SCSI_ASC_MISCOMPARE_DURING_VERIFY, mis);
			t->status = CAIRN_SCSI_STATUS_CHECK_CONDITION;
		}
		task_finish_async(t);
		return;
	case STEP_CAW_READ:
		mis = first_mismatch(t->scratch, t->buf, bytes);
		if (mis < bytes) {
			t->sense_len = cairn_scsi_sense_fixed_info(
				t->sense, CAIRN_SCSI_SK_MISCOMPARE,
				CAIRN_SCSI_ASC_MISCOMPARE_DURING_VERIFY, mis);
			t->status = CAIRN_SCSI_STATUS_CHECK_CONDITION;
			task_finish_async(t);
			return;
		}
		t->step = STEP_CAW_WRITE;
		break;
	case STEP_OR_READ: {
		uint32_t i;

		for (i = 0; i < bytes; i++)
			t->scratch[i] |= t->buf[i];
		t->step = STEP_OR_WRITE;
		break;
	}
	case STEP_OR_WRITE:
		if ((info->flags & 0x08) && __atomic_load_n(&t->lun->wce, __ATOMIC_ACQUIRE)) {
			t->step = STEP_WRITE_FUA_FLUSH;
			break;
		}
		task_finish_async(t);
		return;
	case STEP_PREFETCH:
		t->cursor += prefetch_chunk(t);
		if (t->cursor >= info->num_blocks) {
			/* SBC-3 5.10: the whole range is now in the (bdev) cache. */
			t->status = CAIRN_SCSI_STATUS_CONDITION_MET;
			task_finish_async(t);
			return;
		}
		break;
	case STEP_WS_CHUNK:
		if (!t->scratch || t->cursor >= info->num_blocks) {
			task_finish_async(t);
			return;
		}
		break;
	case STEP_UNMAP_DESC:
		t->cursor++;
		if (!unmap_next(t, (scsi_get_be16(t->buf + 2)) / 16)) {
			task_finish_async(t);
			return;
		}
		break;
	default: /* CAW_WRITE, flushes */
		task_finish_async(t);
		return;
	}
	src = sbc_submit(t);
	if (src) {
		io_error(t, src, true);
		task_finish_async(t);
	}
}

void
scsi_sbc_resume(void *arg)
{
	struct cairn_scsi_task *t = arg;
	int rc;

	if (t->aborted) {
		t->status = CAIRN_SCSI_STATUS_TASK_ABORTED;
		task_finish_async(t);
		return;
	}
	rc = sbc_submit(t);
	if (rc) {
		if (rc == -CAIRN_ERR_OVERFLOW)
			lba_out_of_range(t);
		else
			io_error(t, rc, t->step != STEP_READ);
		task_finish_async(t);
	}
}

static bool
all_zero(const uint8_t *p, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Validate UNMAP's parameter list; returns number of descriptors or -1 (sense set). */
static int
unmap_check(struct cairn_scsi_task *t)
{
	uint32_t plen = t->info.alloc_len, dlen, n, i;

	if (plen > t->xfer_len)
		plen = t->xfer_len;
	if (plen > t->buf_len)
		plen = t->buf_len;
	if (plen == 0)
		return 0;
	if (plen < 8) {
		scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
				    CAIRN_SCSI_ASC_PARAM_LIST_LENGTH_ERROR, -1, false, -1);
		return -1;
	}
	dlen = scsi_get_be16(t->buf + 2);
	if (scsi_get_be16(t->buf) + 2u < 8 || dlen % 16 || dlen + 8 > plen) {
		scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
				    CAIRN_SCSI_ASC_PARAM_LIST_LENGTH_ERROR, -1, false, -1);
		return -1;
	}
	n = dlen / 16;
	if (n > SCSI_MAX_UNMAP_DESCS) {
		scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
				    CAIRN_SCSI_ASC_INVALID_FIELD_IN_PARAM, 2, false, -1);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const uint8_t *d = t->buf + 8 + 16 * i;

		if (!range_ok(t, scsi_get_be64(d), scsi_get_be32(d + 8))) {
			lba_out_of_range(t);
			return -1;
		}
	}
	return (int)n;
}

int
scsi_sbc_execute(struct cairn_scsi_task *t)
{
	struct cairn_scsi_lun *lun = t->lun;
	const struct cairn_scsi_cdb_info *info = &t->info;
	uint32_t bs = lun->block_size;
	uint64_t bytes = (uint64_t)info->num_blocks * bs;
	uint8_t op = info->opcode;
	int rc, n;

	t->cursor = 0;
	t->scratch = NULL;
	t->rl_state = 0;
	if (!range_ok(t, info->lba, info->num_blocks)) {
		lba_out_of_range(t);
		return CAIRN_SCSI_TASK_DONE;
	}
	switch (op) {
	case SCSI_OP_READ6:
	case SCSI_OP_READ10:
	case SCSI_OP_READ12:
	case SCSI_OP_READ16:
		if (info->num_blocks == 0)
			return CAIRN_SCSI_TASK_DONE;
		if (bytes > t->buf_len)
			goto bad_len;
		t->step = STEP_READ;
		break;
	case SCSI_OP_WRITE6:
	case SCSI_OP_WRITE10:
	case SCSI_OP_WRITE12:
	case SCSI_OP_WRITE16:
	case SCSI_OP_WRITE_VERIFY10:
	case SCSI_OP_WRITE_VERIFY12:
	case SCSI_OP_WRITE_VERIFY16:
		if (bytes > t->xfer_len) {
			/* The transport moved less than the CDB asks (EDTL < transfer
			 * length): write what arrived, in whole blocks; the transport
			 * reports the overflow residual. */
			t->info.num_blocks = t->xfer_len / bs;
			bytes = (uint64_t)t->info.num_blocks * bs;
		}
		if (info->num_blocks == 0)
			return CAIRN_SCSI_TASK_DONE;
		if (bytes > t->buf_len)
			goto bad_len;
		t->step = STEP_WRITE;
		break;
	case SCSI_OP_VERIFY10:
	case SCSI_OP_VERIFY12:
	case SCSI_OP_VERIFY16:
		if (info->num_blocks == 0 || info->dir == CAIRN_SCSI_DIR_NONE)
			return CAIRN_SCSI_TASK_DONE; /* medium verification: nothing to check */
		if (bytes > t->buf_len || bytes > t->xfer_len)
			goto bad_len;
		t->scratch = malloc(bytes);
		if (!t->scratch)
			goto no_mem;
		t->step = STEP_VERIFY_READ;
		break;
	case SCSI_OP_COMPARE_AND_WRITE:
		if (2 * bytes != t->xfer_len) {
			/* Verify and write halves must both be there (a 256-block request
			 * wraps the 8-bit field to 0 and shows up here). */
			scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
					    CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB, 13, true, -1);
			return CAIRN_SCSI_TASK_DONE;
		}
		if (info->num_blocks == 0)
			return CAIRN_SCSI_TASK_DONE;
		if (info->num_blocks > SCSI_MAX_CAW_BLOCKS) {
			scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
					    CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB, 13, true, -1);
			return CAIRN_SCSI_TASK_DONE;
		}
		if (2 * bytes > t->buf_len || 2 * bytes > t->xfer_len)
			goto bad_len;
		t->scratch = malloc(bytes);
		if (!t->scratch)
			goto no_mem;
		t->step = STEP_CAW_READ;
		break;
	case SCSI_OP_ORWRITE16:
		/* SBC-3 5.8: OR the Data-Out into the medium, atomically (exclusive range). */
		if (info->num_blocks == 0)
			return CAIRN_SCSI_TASK_DONE;
		if (bytes > t->buf_len || bytes > t->xfer_len)
			goto bad_len;
		t->scratch = malloc(bytes);
		if (!t->scratch)
			goto no_mem;
		t->step = STEP_OR_READ;
		break;
	case SCSI_OP_WRITE_SAME10:
	case SCSI_OP_WRITE_SAME16: {
		bool ndob = info->dir == CAIRN_SCSI_DIR_NONE;
		bool unmap = info->flags & 0x08;
		bool zero;

		if (info->num_blocks == 0) {
			/* WSNZ=0 (VPD B0): zero blocks means up to the last LBA. */
			uint64_t left = __atomic_load_n(&lun->num_blocks, __ATOMIC_ACQUIRE) - info->lba;

			if (left == 0) {
				lba_out_of_range(t);
				return CAIRN_SCSI_TASK_DONE;
			}
			if (left <= SCSI_MAX_WRITE_SAME_BLOCKS)
				t->info.num_blocks = (uint32_t)left;
		}
		if (info->num_blocks == 0 || info->num_blocks > SCSI_MAX_WRITE_SAME_BLOCKS) {
			scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
					    CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB,
					    op == SCSI_OP_WRITE_SAME10 ? 7 : 10, true, -1);
			return CAIRN_SCSI_TASK_DONE;
		}
		if (!ndob && (bs > t->buf_len || bs > t->xfer_len))
			goto bad_len;
		zero = ndob || all_zero(t->buf, bs);
		if (unmap && cairn_bdev_io_type_supported(lun->bdev, CAIRN_BDEV_IO_UNMAP) &&
		    cairn_bdev_unmap_zeroes(lun->bdev)) {
			/* UNMAP=1 asks to deallocate the range (SBC-3 4.7.3.4, as LIO does);
			 * with LBPRZ the blocks then read back as zeros whatever the Data-Out
			 * pattern was. Without unmap support the pattern is written. */
			t->step = STEP_WS_UNMAP; /* completion just finishes */
			break;
		}
		t->step = STEP_WS_CHUNK;
		if (!zero) {
			uint64_t chunk = (uint64_t)WS_CHUNK_BYTES / bs;
			uint64_t i;

			if (chunk > info->num_blocks)
				chunk = info->num_blocks;
			t->scratch = malloc(chunk * bs);
			if (!t->scratch)
				goto no_mem;
			for (i = 0; i < chunk; i++)
				memcpy(t->scratch + i * bs, t->buf, bs);
		}
		break;
	}
	case SCSI_OP_UNMAP:
		n = unmap_check(t);
		if (n <= 0)
			return CAIRN_SCSI_TASK_DONE;
		if (!cairn_bdev_io_type_supported(lun->bdev, CAIRN_BDEV_IO_UNMAP))
			return CAIRN_SCSI_TASK_DONE; /* advisory: nothing deallocated */
		if (!unmap_next(t, (uint32_t)n))
			return CAIRN_SCSI_TASK_DONE;
		t->step = STEP_UNMAP_DESC;
		break;
	case SCSI_OP_SYNC_CACHE10:
	case SCSI_OP_SYNC_CACHE16:
		t->step = STEP_FLUSH;
		break;
	case SCSI_OP_PRE_FETCH10:
	case SCSI_OP_PRE_FETCH16:
		if (info->num_blocks == 0 || (info->flags & 0x02)) {
			/* 0 = to the end of the medium; IMMED: status now. Either way the
			 * blocks are already where a read finds them fastest. */
			t->status = CAIRN_SCSI_STATUS_CONDITION_MET;
			return CAIRN_SCSI_TASK_DONE;
		}
		if (bytes > SCSI_MAX_XFER_BYTES)
			return CAIRN_SCSI_TASK_DONE; /* GOOD: more than a cache would hold */
		t->scratch = malloc(bytes < PREFETCH_CHUNK_BYTES ? bytes : PREFETCH_CHUNK_BYTES);
		if (!t->scratch)
			goto no_mem;
		t->step = STEP_PREFETCH;
		break;
	default:
		scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST, CAIRN_SCSI_ASC_INVALID_OPCODE,
				    0, true, -1);
		return CAIRN_SCSI_TASK_DONE;
	}
	if (t->step == STEP_CAW_READ || t->step == STEP_OR_READ || t->step == STEP_WRITE ||
	    t->step == STEP_WS_CHUNK || t->step == STEP_WS_UNMAP || t->step == STEP_UNMAP_DESC) {
		/* Medium changes take the LUN's range lock: shared for writes, exclusive
		 * for COMPARE AND WRITE, so its read-compare-write is atomic against every
		 * session. UNMAP lists arbitrary ranges: it locks the whole LUN shared. */
		bool caw = t->step == STEP_CAW_READ || t->step == STEP_OR_READ;
		bool um = t->step == STEP_UNMAP_DESC;

		if (scsi_range_acquire(t, caw, um ? 0 : info->lba,
				       um ? UINT64_MAX : info->num_blocks)) {
			__atomic_add_fetch(&lun->inflight, 1, __ATOMIC_RELEASE);
			return CAIRN_SCSI_TASK_PENDING;
		}
	}
	rc = sbc_submit(t);
	if (rc) {
		scsi_range_release(t);
		free(t->scratch);
		t->scratch = NULL;
		if (rc == -CAIRN_ERR_OVERFLOW)
			lba_out_of_range(t);
		else
			io_error(t, rc, t->step != STEP_READ);
		return CAIRN_SCSI_TASK_DONE;
	}
	__atomic_add_fetch(&lun->inflight, 1, __ATOMIC_RELEASE);
	return CAIRN_SCSI_TASK_PENDING;

bad_len:
	/* The transport's buffer (EDTL) cannot hold what the CDB asks to move. */
	scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST, CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB,
			    -1, true, -1);
	return CAIRN_SCSI_TASK_DONE;
no_mem:
	scsi_task_set_sense(t, CAIRN_SCSI_SK_HARDWARE_ERROR, CAIRN_SCSI_ASC_INTERNAL_TARGET_FAILURE,
			    -1, false, -1);
	return CAIRN_SCSI_TASK_DONE;
}
