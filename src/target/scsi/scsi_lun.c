/*
 * SCSI devices and logical units: bdev descriptors, the task entry points (prepare,
 * execute), reservation conflict checks, LUN-level reset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAIRN_LOG_SS CAIRN_SS_SCSI
#include "cairn/errno.h"
#include "common/log.h"
#include "scsi_internal.h"

int
cairn_scsi_dev_create(const char *name, struct cairn_scsi_dev **out)
{
	struct cairn_scsi_dev *dev;

	if (!name || !*name || strlen(name) >= CAIRN_SCSI_NAME_MAX || !out)
		return -CAIRN_ERR_INVAL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -CAIRN_ERR_NOMEM;
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	pthread_mutex_init(&dev->lock, NULL);
	*out = dev;
	return 0;
}

static void
lun_free(struct cairn_scsi_lun *lun)
{
	if (lun->desc && !lun->desc_closed)
		cairn_bdev_close(lun->desc);
	pthread_mutex_destroy(&lun->pr_lock);
	pthread_mutex_destroy(&lun->rl_lock);
	free(lun);
}

/* Close the descriptor of a removed LUN once no transport holds a channel: that lets
 * the bdev delete complete. rl_lock held. */
static bool
lun_close_if_idle(struct cairn_scsi_lun *lun)
{
	if (!lun->removed || lun->nchannels || lun->desc_closed || !lun->desc)
		return false;
	lun->desc_closed = true;
	return true;
}

void
cairn_scsi_dev_destroy(struct cairn_scsi_dev *dev)
{
	unsigned i;

	if (!dev)
		return;
	for (i = 0; i < CAIRN_SCSI_MAX_LUNS; i++)
		if (dev->luns[i])
			lun_free(dev->luns[i]);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

const char *
cairn_scsi_dev_name(const struct cairn_scsi_dev *dev)
{
	return dev->name;
}

static void
lun_event(enum cairn_bdev_event_type type, struct cairn_bdev *bdev, void *ctx)
{
	struct cairn_scsi_lun *lun = ctx;

	if (type == CAIRN_BDEV_EVENT_REMOVE) {
		bool close_now;

		CAIRN_WARN("LUN %u of %s: bdev %s is being removed; the LUN stops serving I/O",
			   lun->id, lun->dev->name, lun->bdev_name);
		pthread_mutex_lock(&lun->rl_lock);
		__atomic_store_n(&lun->removed, true, __ATOMIC_RELEASE);
		close_now = lun_close_if_idle(lun);
		pthread_mutex_unlock(&lun->rl_lock);
		if (close_now)
			cairn_bdev_close(lun->desc);
	} else if (type == CAIRN_BDEV_EVENT_RESIZE) {
		__atomic_store_n(&lun->num_blocks, cairn_bdev_num_blocks(bdev), __ATOMIC_RELEASE);
	}
}

int
cairn_scsi_dev_add_lun(struct cairn_scsi_dev *dev, unsigned lun_id, const char *bdev_name)
{
	struct cairn_scsi_lun *lun;
	int rc;

	if (!dev || lun_id >= CAIRN_SCSI_MAX_LUNS || !bdev_name ||
	    strlen(bdev_name) >= CAIRN_BDEV_NAME_MAX)
		return -CAIRN_ERR_INVAL;
	lun = calloc(1, sizeof(*lun));
	if (!lun)
		return -CAIRN_ERR_NOMEM;
	lun->dev = dev;
	lun->id = lun_id;
	snprintf(lun->bdev_name, sizeof(lun->bdev_name), "%s", bdev_name);
	pthread_mutex_init(&lun->pr_lock, NULL);
	pthread_mutex_init(&lun->rl_lock, NULL);
	cairn_list_init(&lun->rl_held);
	cairn_list_init(&lun->rl_wait);
	cairn_scsi_pr_init(&lun->pr);
	rc = cairn_bdev_open(bdev_name, true, lun_event, lun, &lun->desc);
	if (rc) {
		lun->desc = NULL;
		lun_free(lun);
		return rc;
	}
	lun->bdev = cairn_bdev_desc_get_bdev(lun->desc);
	lun->block_size = cairn_bdev_block_size(lun->bdev);
	lun->num_blocks = cairn_bdev_num_blocks(lun->bdev);
	cairn_bdev_uuid(lun->bdev, lun->uuid);
	lun->wce = cairn_bdev_has_write_cache(lun->bdev);

	pthread_mutex_lock(&dev->lock);
	if (dev->luns[lun_id]) {
		pthread_mutex_unlock(&dev->lock);
		lun_free(lun);
		return -CAIRN_ERR_EXIST;
	}
	dev->luns[lun_id] = lun;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

int
cairn_scsi_dev_del_lun(struct cairn_scsi_dev *dev, unsigned lun_id)
{
	struct cairn_scsi_lun *lun;

	if (!dev || lun_id >= CAIRN_SCSI_MAX_LUNS)
		return -CAIRN_ERR_INVAL;
	pthread_mutex_lock(&dev->lock);
	lun = dev->luns[lun_id];
	dev->luns[lun_id] = NULL;
	pthread_mutex_unlock(&dev->lock);
	if (!lun)
		return -CAIRN_ERR_NONEXIST;
	lun_free(lun);
	return 0;
}

struct cairn_scsi_lun *
cairn_scsi_dev_get_lun(struct cairn_scsi_dev *dev, unsigned lun_id)
{
	if (!dev || lun_id >= CAIRN_SCSI_MAX_LUNS)
		return NULL;
	return __atomic_load_n(&dev->luns[lun_id], __ATOMIC_ACQUIRE);
}

unsigned
cairn_scsi_lun_id(const struct cairn_scsi_lun *lun)
{
	return lun->id;
}

const char *
cairn_scsi_lun_bdev_name(const struct cairn_scsi_lun *lun)
{
	return lun->bdev_name;
}

struct cairn_bdev_desc *
cairn_scsi_lun_desc(struct cairn_scsi_lun *lun)
{
	return lun->desc;
}

struct cairn_bdev_channel *
cairn_scsi_lun_get_channel(struct cairn_scsi_lun *lun)
{
	struct cairn_bdev_channel *ch = NULL;

	pthread_mutex_lock(&lun->rl_lock);
	if (!lun->removed) {
		ch = cairn_bdev_get_io_channel(lun->desc);
		if (ch)
			lun->nchannels++;
	}
	pthread_mutex_unlock(&lun->rl_lock);
	return ch;
}

void
cairn_scsi_lun_put_channel(struct cairn_scsi_lun *lun, struct cairn_bdev_channel *ch)
{
	bool close_now;

	cairn_bdev_put_io_channel(ch);
	pthread_mutex_lock(&lun->rl_lock);
	lun->nchannels--;
	close_now = lun_close_if_idle(lun);
	pthread_mutex_unlock(&lun->rl_lock);
	if (close_now) {
		CAIRN_NOTE("LUN %u of %s: last channel released, bdev %s descriptor closed",
			     lun->id, lun->dev->name, lun->bdev_name);
		cairn_bdev_close(lun->desc);
	}
}

bool
cairn_scsi_lun_removed(const struct cairn_scsi_lun *lun)
{
	return __atomic_load_n(&lun->removed, __ATOMIC_ACQUIRE);
}

uint32_t
cairn_scsi_lun_inflight(const struct cairn_scsi_lun *lun)
{
	return __atomic_load_n(&lun->inflight, __ATOMIC_ACQUIRE);
}

void
cairn_scsi_lun_reset(struct cairn_scsi_lun *lun)
{
	/* SPC-4 5.9.11: persistent reservations survive a LUN reset; an SPC-2 RESERVE(6)
	 * reservation does not. Mode pages go back to their defaults. */
	pthread_mutex_lock(&lun->pr_lock);
	lun->legacy_holder[0] = '\0';
	scsi_pr_update_active(lun);
	pthread_mutex_unlock(&lun->pr_lock);
	if (!cairn_scsi_lun_removed(lun))
		__atomic_store_n(&lun->wce, cairn_bdev_has_write_cache(lun->bdev),
				 __ATOMIC_RELEASE);
}

void
cairn_scsi_lun_nexus_loss(struct cairn_scsi_lun *lun, const char *initiator_port)
{
	/* Persistent reservations and registrations survive an I_T nexus loss; the
	 * holder's SPC-2 reservation is released (SPC-2 5.5.1). */
	if (!initiator_port)
		return;
	pthread_mutex_lock(&lun->pr_lock);
	if (!strcmp(lun->legacy_holder, initiator_port)) {
		lun->legacy_holder[0] = '\0';
		scsi_pr_update_active(lun);
	}
	pthread_mutex_unlock(&lun->pr_lock);
}

void
cairn_scsi_lun_add_ua(struct cairn_scsi_lun *lun, const char *port, uint16_t asc_ascq)
{
	int i, free_slot = -1;

	if (!lun || !port || !*port)
		return;
	pthread_mutex_lock(&lun->pr_lock);
	for (i = 0; i < CAIRN_SCSI_UA_MAX; i++) {
		if (!lun->ua[i].port[0]) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (strcmp(lun->ua[i].port, port))
			continue;
		/* Already pending: a reset outranks anything else (SAM-5 5.14). */
		if ((asc_ascq >> 8) == 0x29 || (lun->ua[i].asc_ascq >> 8) != 0x29)
			lun->ua[i].asc_ascq = asc_ascq;
		pthread_mutex_unlock(&lun->pr_lock);
		return;
	}
	if (free_slot < 0) {
		pthread_mutex_unlock(&lun->pr_lock);
		CAIRN_LOG_RATELIMIT(CAIRN_SS_SCSI, CAIRN_LOG_WARN, 5,
				    "LUN %u of %s: unit attention table full, %s not notified",
				    lun->id, lun->dev->name, port);
		return;
	}
	snprintf(lun->ua[free_slot].port, sizeof(lun->ua[free_slot].port), "%s", port);
	lun->ua[free_slot].asc_ascq = asc_ascq;
	__atomic_add_fetch(&lun->ua_count, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lun->pr_lock);
}

/* Take (and clear) the unit attention pending for port; false if none. */
static bool
lun_take_ua(struct cairn_scsi_lun *lun, const char *port, uint16_t *asc_ascq)
{
	bool found = false;
	int i;

	pthread_mutex_lock(&lun->pr_lock);
	for (i = 0; i < CAIRN_SCSI_UA_MAX && !found; i++) {
		if (!lun->ua[i].port[0] || strcmp(lun->ua[i].port, port))
			continue;
		*asc_ascq = lun->ua[i].asc_ascq;
		lun->ua[i].port[0] = '\0';
		__atomic_sub_fetch(&lun->ua_count, 1, __ATOMIC_RELEASE);
		found = true;
	}
	pthread_mutex_unlock(&lun->pr_lock);
	return found;
}

void
scsi_pr_update_active(struct cairn_scsi_lun *lun)
{
	__atomic_store_n(&lun->pr_active,
			 (uint8_t)(lun->pr.nregs > 0 || lun->pr.type != CAIRN_SCSI_PR_NONE ||
				   lun->legacy_holder[0]),
			 __ATOMIC_RELEASE);
}

/* Commands another nexus may still run while an SPC-2 reservation is held (SPC-2
 * table 8: everything else conflicts; RELEASE from a non-holder is a no-op). */
static bool
legacy_allowed(uint8_t op)
{
	return op == SCSI_OP_INQUIRY || op == SCSI_OP_REPORT_LUNS ||
	       op == SCSI_OP_REQUEST_SENSE || op == SCSI_OP_RELEASE6 ||
	       op == SCSI_OP_MAINTENANCE_IN;
}

/* RESERVE(6)/RELEASE(6), SPC-2 7.21/7.16: logical-unit reservations of one nexus. */
static void
lun_reserve_release(struct cairn_scsi_task *t, const char *port)
{
	struct cairn_scsi_lun *lun = t->lun;

	pthread_mutex_lock(&lun->pr_lock);
	if (lun->pr.nregs > 0 || lun->pr.type != CAIRN_SCSI_PR_NONE) {
		/* SPC-4 5.9.3: RESERVE/RELEASE conflict with persistent reservations. */
		t->status = CAIRN_SCSI_STATUS_RESERVATION_CONFLICT;
	} else if (t->info.opcode == SCSI_OP_RESERVE6) {
		if (lun->legacy_holder[0] && strcmp(lun->legacy_holder, port))
			t->status = CAIRN_SCSI_STATUS_RESERVATION_CONFLICT;
		else
			snprintf(lun->legacy_holder, sizeof(lun->legacy_holder), "%s", port);
	} else if (!strcmp(lun->legacy_holder, port)) {
		lun->legacy_holder[0] = '\0';
	}
	scsi_pr_update_active(lun);
	pthread_mutex_unlock(&lun->pr_lock);
}

void
scsi_task_set_sense(struct cairn_scsi_task *t, uint8_t key, uint16_t asc_ascq, int field_ptr,
		    bool cdb, int bit_ptr)
{
	t->status = CAIRN_SCSI_STATUS_CHECK_CONDITION;
	t->sense_len = cairn_scsi_sense_fixed(t->sense, key, asc_ascq, field_ptr, cdb, bit_ptr);
}

void
scsi_task_copy_in(struct cairn_scsi_task *t, const void *data, uint32_t len, uint32_t alloc_len)
{
	uint32_t n = len;

	if (n > alloc_len)
		n = alloc_len;
	if (n > t->buf_len)
		n = t->buf_len;
	if (n)
		memcpy(t->buf, data, n);
	t->data_len = n;
}

static uint32_t
lun_block_size(const struct cairn_scsi_task *t)
{
	return t->lun ? t->lun->block_size : 512;
}

int
cairn_scsi_task_prepare(struct cairn_scsi_task *t)
{
	struct cairn_scsi_cdb_info *info = &t->info;
	uint64_t need;
	uint32_t bs = lun_block_size(t);

	t->status = CAIRN_SCSI_STATUS_GOOD;
	t->sense_len = 0;
	t->data_len = 0;
	t->need_len = 0;
	t->prepared = true;
	if (cairn_scsi_cdb_decode(t->cdb, t->cdb_len, info, t->sense, &t->sense_len)) {
		t->status = CAIRN_SCSI_STATUS_CHECK_CONDITION;
		return -CAIRN_ERR_INVAL;
	}
	switch (info->opcode) {
	case SCSI_OP_COMPARE_AND_WRITE:
		need = 2ull * info->num_blocks * bs;
		break;
	case SCSI_OP_WRITE_SAME10:
	case SCSI_OP_WRITE_SAME16:
		need = info->dir == CAIRN_SCSI_DIR_TO_DEV ? bs : 0;
		break;
	case SCSI_OP_SYNC_CACHE10:
	case SCSI_OP_SYNC_CACHE16:
		need = 0;
		break;
	default:
		if (info->is_rw)
			need = info->dir == CAIRN_SCSI_DIR_NONE ? 0 :
								  (uint64_t)info->num_blocks * bs;
		else
			need = info->alloc_len;
		break;
	}
	if (!info->is_rw && info->dir == CAIRN_SCSI_DIR_FROM_DEV && need > 65536)
		need = 65536; /* our responses are small: cap what the transport allocates */
	if (need > SCSI_MAX_XFER_BYTES) {
		scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
				    CAIRN_SCSI_ASC_INVALID_FIELD_IN_CDB, -1, true, -1);
		return -CAIRN_ERR_INVAL;
	}
	t->need_len = (uint32_t)need;
	return 0;
}

static bool
lun_op_allowed_without_lun(uint8_t op)
{
	return op == SCSI_OP_INQUIRY || op == SCSI_OP_REPORT_LUNS || op == SCSI_OP_REQUEST_SENSE;
}

int
cairn_scsi_task_execute(struct cairn_scsi_task *t)
{
	struct cairn_scsi_lun *lun = t->lun;
	const struct cairn_scsi_cdb_info *info = &t->info;

	if (!t->prepared && cairn_scsi_task_prepare(t))
		return CAIRN_SCSI_TASK_DONE;
	t->prepared = false;
	if (t->status != CAIRN_SCSI_STATUS_GOOD)
		return CAIRN_SCSI_TASK_DONE;
	if (!lun || cairn_scsi_lun_removed(lun)) {
		if (lun_op_allowed_without_lun(info->opcode))
			return scsi_spc_execute(t);
		scsi_task_set_sense(t, CAIRN_SCSI_SK_ILLEGAL_REQUEST,
				    CAIRN_SCSI_ASC_LU_NOT_SUPPORTED, -1, false, -1);
		return CAIRN_SCSI_TASK_DONE;
	}
	if (__atomic_load_n(&lun->ua_count, __ATOMIC_ACQUIRE) && info->opcode != SCSI_OP_INQUIRY &&
	    info->opcode != SCSI_OP_REPORT_LUNS) {
		uint16_t asc;

		if (lun_take_ua(lun, t->initiator_port ? t->initiator_port : "", &asc)) {
			if (info->opcode == SCSI_OP_REQUEST_SENSE) {
				uint8_t d[18];
				uint8_t n = cairn_scsi_sense_fixed(d, CAIRN_SCSI_SK_UNIT_ATTENTION,
								   asc, -1, false, -1);

				scsi_task_copy_in(t, d, n, info->alloc_len);
				return CAIRN_SCSI_TASK_DONE;
			}
			scsi_task_set_sense(t, CAIRN_SCSI_SK_UNIT_ATTENTION, asc, -1, false, -1);
			return CAIRN_SCSI_TASK_DONE;
		}
	}
	if (__atomic_load_n(&lun->pr_active, __ATOMIC_ACQUIRE)) {
		bool c = false;
		bool rd = info->is_read || info->opcode == SCSI_OP_MODE_SENSE6 ||
			  info->opcode == SCSI_OP_MODE_SENSE10;
		const char *port = t->initiator_port ? t->initiator_port : "";

		pthread_mutex_lock(&lun->pr_lock);
		if (lun->legacy_holder[0])
			c = strcmp(lun->legacy_holder, port) && !legacy_allowed(info->opcode);
		else if (info->opcode != SCSI_OP_PR_IN && info->opcode != SCSI_OP_PR_OUT)
			c = cairn_scsi_pr_conflict(&lun->pr, port, info->is_write, rd);
		pthread_mutex_unlock(&lun->pr_lock);
		if (c) {
			t->status = CAIRN_SCSI_STATUS_RESERVATION_CONFLICT;
			return CAIRN_SCSI_TASK_DONE;
		}
	}
	switch (info->opcode) {
	case SCSI_OP_READ6:
	case SCSI_OP_READ10:
	case SCSI_OP_READ12:
	case SCSI_OP_READ16:
	case SCSI_OP_WRITE6:
	case SCSI_OP_WRITE10:
	case SCSI_OP_WRITE12:
	case SCSI_OP_WRITE16:
	case SCSI_OP_WRITE_VERIFY10:
	case SCSI_OP_WRITE_VERIFY12:
	case SCSI_OP_WRITE_VERIFY16:
	case SCSI_OP_VERIFY10:
	case SCSI_OP_VERIFY12:
	case SCSI_OP_VERIFY16:
	case SCSI_OP_COMPARE_AND_WRITE:
	case SCSI_OP_ORWRITE16:
	case SCSI_OP_WRITE_SAME10:
	case SCSI_OP_WRITE_SAME16:
	case SCSI_OP_UNMAP:
	case SCSI_OP_SYNC_CACHE10:
	case SCSI_OP_SYNC_CACHE16:
	case SCSI_OP_PRE_FETCH10:
	case SCSI_OP_PRE_FETCH16:
		return scsi_sbc_execute(t);
	case SCSI_OP_RESERVE6:
	case SCSI_OP_RELEASE6:
		lun_reserve_release(t, t->initiator_port ? t->initiator_port : "");
		return CAIRN_SCSI_TASK_DONE;
	case SCSI_OP_PR_OUT: {
		uint32_t plen = t->xfer_len < t->buf_len ? t->xfer_len : t->buf_len;

		if (plen > info->alloc_len)
			plen = info->alloc_len;
		pthread_mutex_lock(&lun->pr_lock);
		t->status = cairn_scsi_pr_out(&lun->pr, t->initiator_port ? t->initiator_port : "",
					      t->rel_tgt_port, t->cdb, t->buf, plen, t->sense,
					      &t->sense_len);
		scsi_pr_update_active(lun);
		pthread_mutex_unlock(&lun->pr_lock);
		return CAIRN_SCSI_TASK_DONE;
	}
	default:
		return scsi_spc_execute(t);
	}
}
