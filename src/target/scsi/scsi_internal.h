/*
 * Private to src/target/scsi: opcodes, byte helpers, device and LUN structures.
 */
#ifndef CAIRN_SCSI_INTERNAL_H
#define CAIRN_SCSI_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "target/scsi.h"

#define SCSI_OP_TEST_UNIT_READY 0x00
#define SCSI_OP_REQUEST_SENSE 0x03
#define SCSI_OP_READ6 0x08
#define SCSI_OP_WRITE6 0x0a
#define SCSI_OP_INQUIRY 0x12
#define SCSI_OP_MODE_SELECT6 0x15
#define SCSI_OP_RESERVE6 0x16
#define SCSI_OP_RELEASE6 0x17
#define SCSI_OP_MODE_SENSE6 0x1a
#define SCSI_OP_START_STOP_UNIT 0x1b
#define SCSI_OP_PREVENT_ALLOW 0x1e
#define SCSI_OP_READ_CAPACITY10 0x25
#define SCSI_OP_READ10 0x28
#define SCSI_OP_WRITE10 0x2a
#define SCSI_OP_WRITE_VERIFY10 0x2e
#define SCSI_OP_VERIFY10 0x2f
#define SCSI_OP_PRE_FETCH10 0x34
#define SCSI_OP_SYNC_CACHE10 0x35
#define SCSI_OP_READ_DEFECT10 0x37
#define SCSI_OP_WRITE_SAME10 0x41
#define SCSI_OP_UNMAP 0x42
#define SCSI_OP_MODE_SELECT10 0x55
#define SCSI_OP_MODE_SENSE10 0x5a
#define SCSI_OP_PR_IN 0x5e
#define SCSI_OP_PR_OUT 0x5f
#define SCSI_OP_READ16 0x88
#define SCSI_OP_COMPARE_AND_WRITE 0x89
#define SCSI_OP_WRITE16 0x8a
#define SCSI_OP_ORWRITE16 0x8b
#define SCSI_OP_WRITE_VERIFY16 0x8e
#define SCSI_OP_VERIFY16 0x8f
#define SCSI_OP_PRE_FETCH16 0x90
#define SCSI_OP_SYNC_CACHE16 0x91
#define SCSI_OP_WRITE_SAME16 0x93
#define SCSI_OP_SERVICE_ACTION_IN16 0x9e
#define SCSI_OP_REPORT_LUNS 0xa0
#define SCSI_OP_MAINTENANCE_IN 0xa3
#define SCSI_OP_READ12 0xa8
#define SCSI_OP_WRITE12 0xaa
#define SCSI_OP_WRITE_VERIFY12 0xae
#define SCSI_OP_VERIFY12 0xaf
#define SCSI_OP_READ_DEFECT12 0xb7

#define SCSI_SAI_READ_CAPACITY16 0x10
#define SCSI_SAI_GET_LBA_STATUS 0x12
#define SCSI_MI_REPORT_SUPPORTED_OPCODES 0x0c
#define SCSI_MI_REPORT_SUPPORTED_TMFS 0x0d

/* Largest transfer we accept in one command (bytes); also reported in VPD B0. */
#define SCSI_MAX_XFER_BYTES (32u * 1024 * 1024)
#define SCSI_MAX_UNMAP_DESCS 256
#define SCSI_MAX_WRITE_SAME_BLOCKS (1u << 22)
#define SCSI_MAX_CAW_BLOCKS 255

static inline uint16_t
scsi_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
scsi_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
scsi_get_be64(const uint8_t *p)
{
	return (uint64_t)scsi_get_be32(p) << 32 | scsi_get_be32(p + 4);
}

static inline void
scsi_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
scsi_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
scsi_put_be64(uint8_t *p, uint64_t v)
{
	scsi_put_be32(p, (uint32_t)(v >> 32));
	scsi_put_be32(p + 4, (uint32_t)v);
}

struct cairn_scsi_lun {
	struct cairn_scsi_dev *dev;
	unsigned id;
	char bdev_name[CAIRN_BDEV_NAME_MAX];
	struct cairn_bdev_desc *desc;
	struct cairn_bdev *bdev;
	uint32_t block_size;
	uint64_t num_blocks;   /* re-read on RESIZE */
	uint8_t uuid[16];
	bool removed;
	uint32_t inflight;     /* atomic */
	/* Mode page state (shared): write cache enable; caching page may be changed by
	 * MODE SELECT. Atomic byte. */
	uint8_t wce;
	/* Persistent reservations: mutex-guarded, pr_active read lock-free. */
	pthread_mutex_t pr_lock;
	struct cairn_scsi_pr pr;
	uint8_t pr_active;     /* atomic: a reservation or registration exists */
	/* Pending unit attentions per I_T nexus (guarded by pr_lock; ua_count atomic so
	 * the I/O path only loads it). */
	uint32_t ua_count;
	struct {
		char port[CAIRN_SCSI_PORT_NAME_MAX];
		uint16_t asc_ascq;
	} ua[CAIRN_SCSI_UA_MAX];
	/* SPC-2 RESERVE(6)/RELEASE(6) holder (guarded by pr_lock; "" = none) */
	char legacy_holder[CAIRN_SCSI_PORT_NAME_MAX];
	/* LBA range lock: medium writes hold shared ranges, COMPARE AND WRITE an exclusive
	 * one; conflicting tasks wait in FIFO order and resume on their own xstream by
	 * message (scsi_range.c). */
	pthread_mutex_t rl_lock;
	struct cairn_list rl_held;
	struct cairn_list rl_wait;
	/* Hot-remove: bdev channels the transport holds; the descriptor is closed on
	 * REMOVE once none is held (guarded by rl_lock). */
	uint32_t nchannels;
	bool desc_closed;
};

struct cairn_scsi_dev {
	char name[CAIRN_SCSI_NAME_MAX];
	pthread_mutex_t lock;
	struct cairn_scsi_lun *luns[CAIRN_SCSI_MAX_LUNS];
};

/* scsi_spc.c */
int scsi_spc_execute(struct cairn_scsi_task *t);
void scsi_task_set_sense(struct cairn_scsi_task *t, uint8_t key, uint16_t asc_ascq,
			 int field_ptr, bool cdb, int bit_ptr);
void scsi_task_copy_in(struct cairn_scsi_task *t, const void *data, uint32_t len,
		       uint32_t alloc_len);
/* scsi_sbc.c */
int scsi_sbc_execute(struct cairn_scsi_task *t);
/* A task that waited for its LBA range got it: submit (runs on t->rl_xs by message). */
void scsi_sbc_resume(void *arg);
/* scsi_range.c: 0 = range held, 1 = queued (scsi_sbc_resume runs when granted). */
int scsi_range_acquire(struct cairn_scsi_task *t, bool excl, uint64_t lba, uint64_t nblocks);
void scsi_range_release(struct cairn_scsi_task *t);
/* Set pr_active from the PR state and the SPC-2 reservation (pr_lock held). */
void scsi_pr_update_active(struct cairn_scsi_lun *lun);

#endif /* CAIRN_SCSI_INTERNAL_H */
