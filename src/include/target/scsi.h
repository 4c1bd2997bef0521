/*
 * SCSI block device emulation (SPC-4 / SBC-3) over a Cairn bdev, for the iSCSI target
 * (and any other SCSI transport). Owns: CDB decoding, command execution, sense data,
 * mode pages, persistent reservations. Implementation in src/target/scsi/.
 *
 * Objects:
 *  - struct cairn_scsi_dev: one SCSI target device (an iSCSI target node): a name and
 *    up to CAIRN_SCSI_MAX_LUNS logical units.
 *  - struct cairn_scsi_lun: a logical unit backed by an open bdev descriptor. Its
 *    persistent reservation state and mode page settings are shared by every I_T nexus
 *    (guarded by a mutex; the I/O path only reads one atomic flag when no reservation
 *    is held).
 *  - struct cairn_scsi_task: one command. The transport fills the "in" fields, calls
 *    cairn_scsi_task_execute() on the xstream that owns the task's bdev channel and
 *    reads status, sense and Data-In length when it is done.
 *
 * Threads: dev/lun create/destroy from any thread while no task is running on them;
 * tasks from xstream context (the bdev channel's xstream). Errors: 0 / -CAIRN_ERR_*.
 */
#ifndef CAIRN_TARGET_SCSI_H
#define CAIRN_TARGET_SCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bdev/bdev.h"

#define CAIRN_SCSI_MAX_LUNS 64
#define CAIRN_SCSI_SENSE_MAX 32
#define CAIRN_SCSI_NAME_MAX 256
#define CAIRN_SCSI_PR_MAX_REGS 64
/* Initiator port identifier, e.g. "iqn.1994-05.com.redhat:host,i,0x23d000000001". */
#define CAIRN_SCSI_PORT_NAME_MAX 300

/* Status codes (SAM-5) */
#define CAIRN_SCSI_STATUS_GOOD 0x00
#define CAIRN_SCSI_STATUS_CHECK_CONDITION 0x02
#define CAIRN_SCSI_STATUS_CONDITION_MET 0x04
#define CAIRN_SCSI_STATUS_BUSY 0x08
#define CAIRN_SCSI_STATUS_RESERVATION_CONFLICT 0x18
#define CAIRN_SCSI_STATUS_TASK_SET_FULL 0x28
#define CAIRN_SCSI_STATUS_TASK_ABORTED 0x40

/* Sense keys */
#define CAIRN_SCSI_SK_NO_SENSE 0x0
#define CAIRN_SCSI_SK_NOT_READY 0x2
#define CAIRN_SCSI_SK_MEDIUM_ERROR 0x3
#define CAIRN_SCSI_SK_HARDWARE_ERROR 0x4
#define CAIRN_SCSI_SK_ILLEGAL_REQUEST 0x5
#define CAIRN_SCSI_SK_UNIT_ATTENTION 0x6
#define CAIRN_SCSI_SK_DATA_PROTECT 0x7
#define CAIRN_SCSI_SK_ABORTED_COMMAND 0xb
#define CAIRN_SCSI_SK_MISCOMPARE 0xe

/* ASC/ASCQ pairs we produce, as (asc << 8 | ascq) */
#define CAIRN_SCSI_ASC_NONE 0x0000
#define CAIRN_SCSI_ASC_PARAM_LIST_LENGTH_ERROR 0x1a00
#define CAIRN_SCSI_ASC_MISCOMPARE_DURING_VERIFY 0x1d00
#define CAIRN_SCSI_ASC_INVALID_OPCODE 0x2000
#define CAIRN_SCSI_ASC_LBA_OUT_OF_RANGE 0x2100
#define CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB 0x2400
#define CAIRN_SCSI_ASC_LU_NOT_SUPPORTED 0x2500
#define CAIRN_SCSI_ASC_INVALID_FIELD_IN_PARAM 0x2600
#define CAIRN_SCSI_ASC_INVALID_RELEASE_OF_PR 0x2604
#define CAIRN_SCSI_ASC_SAVING_PARAMS_UNSUPPORTED 0x3900
#define CAIRN_SCSI_ASC_POWER_ON_RESET 0x2900
#define CAIRN_SCSI_ASC_WRITE_ERROR 0x0c00
#define CAIRN_SCSI_ASC_READ_ERROR 0x1100
#define CAIRN_SCSI_ASC_INTERNAL_TARGET_FAILURE 0x4400
#define CAIRN_SCSI_ASC_INSUFFICIENT_REG_RESOURCES 0x5504
#define CAIRN_SCSI_ASC_COMMANDS_CLEARED 0x2f00 /* COMMANDS CLEARED BY ANOTHER INITIATOR */
#define CAIRN_SCSI_ASC_BUS_DEVICE_RESET 0x2903 /* BUS DEVICE RESET FUNCTION OCCURRED */
#define CAIRN_SCSI_ASC_INVALID_CDB_LEN 0x2400

enum cairn_scsi_dir {
	CAIRN_SCSI_DIR_NONE = 0,
	CAIRN_SCSI_DIR_TO_DEV,   /* Data-Out: write data, parameter lists */
	CAIRN_SCSI_DIR_FROM_DEV, /* Data-In */
};

/* ------------------------------------------------------------------ CDB decoding */

/* What the transport and the executor need to know about a CDB before any data moves. */
struct cairn_scsi_cdb_info {
	uint8_t opcode;
	uint8_t service_action;
	enum cairn_scsi_dir dir;
	bool is_rw;           /* medium read or write with lba/num_blocks below */
	bool is_write;        /* changes the medium (reservation "write" class) */
	bool is_read;         /* reads the medium (reservation "read" class) */
	uint64_t lba;
	uint32_t num_blocks;  /* transfer length in blocks for medium commands */
	uint32_t alloc_len;   /* allocation / parameter list length for other commands */
	uint8_t flags;        /* opcode-specific byte (FUA, BYTCHK, UNMAP, ...) */
};

/* Decode and check the fixed parts of a CDB: known opcode (else INVALID COMMAND
 * OPERATION CODE), length for its group, reserved/unsupported bits (INVALID FIELD IN
 * CDB with the field pointer). Does not check the LBA range (needs the LUN).
 * On failure returns -CAIRN_ERR_INVAL and fills sense/sense_len (fixed format). */
int cairn_scsi_cdb_decode(const uint8_t *cdb, uint32_t cdb_len, struct cairn_scsi_cdb_info *info,
			  uint8_t *sense, uint8_t *sense_len);

/* Build fixed-format sense data (SPC-4 4.5.3). field_ptr >= 0 adds a sense-key-specific
 * field pointer (C/D set when cdb is true; bit_ptr < 0 means none). Returns length (18). */
uint8_t cairn_scsi_sense_fixed(uint8_t *sense, uint8_t key, uint16_t asc_ascq, int field_ptr,
			       bool cdb, int bit_ptr);
/* Same with the INFORMATION field set (VALID bit), e.g. miscompare offset or bad LBA. */
uint8_t cairn_scsi_sense_fixed_info(uint8_t *sense, uint8_t key, uint16_t asc_ascq,
				    uint32_t info);

/* ------------------------------------------------------------------ devices and LUNs */

struct cairn_scsi_dev;
struct cairn_scsi_lun;

/* Create a device; name is the SCSI target name (iSCSI IQN). */
int cairn_scsi_dev_create(const char *name, struct cairn_scsi_dev **out);
/* Destroy the device and every LUN still attached (closing their bdev descriptors). */
void cairn_scsi_dev_destroy(struct cairn_scsi_dev *dev);
const char *cairn_scsi_dev_name(const struct cairn_scsi_dev *dev);

/* Open bdev_name read-write and attach it as LUN lun_id (0..CAIRN_SCSI_MAX_LUNS-1).
 * -CAIRN_ERR_EXIST (id taken), -CAIRN_ERR_NONEXIST (no bdev), -CAIRN_ERR_INVAL. */
int cairn_scsi_dev_add_lun(struct cairn_scsi_dev *dev, unsigned lun_id, const char *bdev_name);
/* Detach and close LUN lun_id. -CAIRN_ERR_NONEXIST if absent. */
int cairn_scsi_dev_del_lun(struct cairn_scsi_dev *dev, unsigned lun_id);
struct cairn_scsi_lun *cairn_scsi_dev_get_lun(struct cairn_scsi_dev *dev, unsigned lun_id);
unsigned cairn_scsi_lun_id(const struct cairn_scsi_lun *lun);
const char *cairn_scsi_lun_bdev_name(const struct cairn_scsi_lun *lun);
struct cairn_bdev_desc *cairn_scsi_lun_desc(struct cairn_scsi_lun *lun);
/* The LUN's bdev channel for the calling xstream, counted so that a hot-removed bdev's
 * descriptor is closed (letting the delete complete) once the last one is put. NULL
 * when the LUN is removed (tasks then get LOGICAL UNIT NOT SUPPORTED) or on error.
 * xstream context; put on the same xstream after the tasks using it completed. */
struct cairn_bdev_channel *cairn_scsi_lun_get_channel(struct cairn_scsi_lun *lun);
void cairn_scsi_lun_put_channel(struct cairn_scsi_lun *lun, struct cairn_bdev_channel *ch);
/* True once the bdev sent REMOVE: new tasks fail with LOGICAL UNIT NOT SUPPORTED. */
bool cairn_scsi_lun_removed(const struct cairn_scsi_lun *lun);
/* Live I/O count, for LUN RESET draining. */
uint32_t cairn_scsi_lun_inflight(const struct cairn_scsi_lun *lun);

/* ------------------------------------------------------------------ tasks */

struct cairn_scsi_task;
struct cairn_xstream;
typedef void (*cairn_scsi_task_cb)(void *cb_arg, int rc);

struct cairn_scsi_task {
	/* in: set by the transport */
	struct cairn_scsi_dev *dev;
	struct cairn_scsi_lun *lun;        /* NULL when the addressed LUN does not exist */
	struct cairn_bdev_channel *ch;     /* channel of lun's bdev on this xstream */
	uint8_t cdb[16];
	uint32_t cdb_len;
	uint64_t lun_wire;                 /* LUN field as received, for REPORT LUNS */
	const char *initiator_port;        /* I_T nexus identity for reservations */
	uint16_t rel_tgt_port;             /* relative target port (portal group tag) */
	uint8_t *buf;                      /* data buffer: Data-Out contents / Data-In space */
	uint32_t buf_len;                  /* bytes available in buf */
	uint32_t xfer_len;                 /* expected data transfer length from the CDB's
					    * transport (EDTL); Data-In is cut to it */
	cairn_scsi_task_cb cb;             /* completion for pending tasks */
	void *cb_arg;
	/* out */
	uint8_t status;
	uint8_t sense_len;
	uint8_t sense[CAIRN_SCSI_SENSE_MAX];
	uint32_t data_len;                 /* Data-In bytes produced (may exceed xfer_len:
					    * the transport reports the overflow residual) */
	uint32_t need_len;                 /* set by prepare: buffer bytes the command needs
					    * (Data-Out expected by the CDB, or Data-In) */
	/* private to the executor */
	struct cairn_scsi_cdb_info info;
	uint32_t step;
	uint64_t cursor;
	uint8_t *scratch;
	bool prepared;
	bool aborted;
	/* LUN range lock (COMPARE AND WRITE atomicity), private to the executor */
	struct cairn_list rl_link;       /* in the LUN's held or wait list */
	struct cairn_list rl_grant;      /* on a releaser's list of tasks to resume */
	struct cairn_xstream *rl_xs;     /* xstream a waiting task resumes on */
	uint64_t rl_lba;
	uint64_t rl_nblocks;
	uint8_t rl_state;                /* 0 none, 1 held, 2 waiting */
	bool rl_excl;                    /* exclusive (CAW) vs shared (writes) */
};

#define CAIRN_SCSI_TASK_DONE 0    /* completed inline: status/sense/data_len set */
#define CAIRN_SCSI_TASK_PENDING 1 /* cb(cb_arg, 0) runs later on this xstream */

/* Execute one command. Returns CAIRN_SCSI_TASK_DONE or CAIRN_SCSI_TASK_PENDING; never
 * fails otherwise (errors become CHECK CONDITION). xstream context. */
int cairn_scsi_task_execute(struct cairn_scsi_task *task);

/* Decode the CDB before any data moves: sets task->info (direction) and task->need_len
 * (buffer bytes the command will use; the transport allocates max(need_len, EDTL) up to
 * its limit). Returns 0, or -CAIRN_ERR_INVAL with status CHECK CONDITION and sense set
 * (the transport then answers without executing). Optional: execute() prepares
 * unprepared tasks itself. */
int cairn_scsi_task_prepare(struct cairn_scsi_task *task);

/* Task management: LUN RESET / TARGET WARM RESET semantics on reservations (a reset
 * does not drop persistent reservations, SPC-4 5.9.11) and mode pages. */
void cairn_scsi_lun_reset(struct cairn_scsi_lun *lun);
/* Establish a unit attention condition for the I_T nexus `port` (SAM-5 5.14): its next
 * command other than INQUIRY and REPORT LUNS gets CHECK CONDITION, UNIT ATTENTION,
 * asc_ascq (REQUEST SENSE returns it as its sense data); either way it is then cleared.
 * One condition per nexus: a reset (29h) replaces any other. Up to
 * CAIRN_SCSI_UA_MAX nexuses per LUN (more are logged and dropped). Any thread. */
#define CAIRN_SCSI_UA_MAX 64
void cairn_scsi_lun_add_ua(struct cairn_scsi_lun *lun, const char *port, uint16_t asc_ascq);
/* An I_T nexus went away (session closed): persistent reservations stay; the nexus's
 * SPC-2 RESERVE(6) reservation is released. */
void cairn_scsi_lun_nexus_loss(struct cairn_scsi_lun *lun, const char *initiator_port);

/* ------------------------------------------------------------------ persistent reservations */

/* Exposed for unit tests and for the transport's fast check. */
enum cairn_scsi_pr_type {
	CAIRN_SCSI_PR_NONE = 0,
	CAIRN_SCSI_PR_WRITE_EXCLUSIVE = 1,
	CAIRN_SCSI_PR_EXCLUSIVE_ACCESS = 3,
	CAIRN_SCSI_PR_WRITE_EXCLUSIVE_REG_ONLY = 5,
	CAIRN_SCSI_PR_EXCLUSIVE_ACCESS_REG_ONLY = 6,
	CAIRN_SCSI_PR_WRITE_EXCLUSIVE_ALL_REGS = 7,
	CAIRN_SCSI_PR_EXCLUSIVE_ACCESS_ALL_REGS = 8,
};

struct cairn_scsi_pr_reg {
	uint64_t key;
	uint16_t rel_tgt_port;
	char port[CAIRN_SCSI_PORT_NAME_MAX];
};

struct cairn_scsi_pr {
	uint32_t generation;
	unsigned nregs;
	struct cairn_scsi_pr_reg regs[CAIRN_SCSI_PR_MAX_REGS];
	int holder;            /* index in regs, -1 = no reservation (all-registrants: any) */
	enum cairn_scsi_pr_type type;
};

void cairn_scsi_pr_init(struct cairn_scsi_pr *pr);
/* PERSISTENT RESERVE OUT: cdb (10 bytes) and parameter list. Returns SCSI status; fills
 * sense for CHECK CONDITION. */
uint8_t cairn_scsi_pr_out(struct cairn_scsi_pr *pr, const char *port, uint16_t rel_tgt_port,
			  const uint8_t *cdb, const uint8_t *param, uint32_t param_len,
			  uint8_t *sense, uint8_t *sense_len);
/* PERSISTENT RESERVE IN: writes up to cap bytes to out, *len = full response length. */
uint8_t cairn_scsi_pr_in(const struct cairn_scsi_pr *pr, const uint8_t *cdb, uint8_t *out,
			 uint32_t cap, uint32_t *len, uint8_t *sense, uint8_t *sense_len);
/* Would this nexus conflict with the reservation for a read (write=false) or a
 * medium-changing command (write=true)? */
bool cairn_scsi_pr_conflict(const struct cairn_scsi_pr *pr, const char *port, bool write,
			    bool read);

#endif /* CAIRN_TARGET_SCSI_H */
