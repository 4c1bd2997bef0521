/*
 * Per-LUN LBA range lock: makes COMPARE AND WRITE atomic against medium writes coming
 * from any xstream (any session). Medium writes hold shared ranges, COMPARE AND WRITE
 * an exclusive one. The lock is a short mutex around two lists; a task that conflicts
 * with a held range, or with an earlier waiter (FIFO, so CAW cannot starve), waits and
 * is resumed by message on the xstream it was submitted from — never inside the call
 * that released the range.
 */
#include <stdint.h>

#define CAIRN_LOG_SS CAIRN_SS_SCSI
#include "cairn/errno.h"
#include "common/log.h"
#include "rt/rt.h"
#include "scsi_internal.h"

enum { RL_NONE = 0, RL_HELD, RL_WAITING };

static bool
rl_overlap(const struct cairn_scsi_task *a, const struct cairn_scsi_task *b)
{
	uint64_t a_last = a->rl_lba + (a->rl_nblocks - 1);
	uint64_t b_last = b->rl_lba + (b->rl_nblocks - 1);

	return a->rl_lba <= b_last && b->rl_lba <= a_last;
}

static bool
rl_conflict(const struct cairn_scsi_task *a, const struct cairn_scsi_task *b)
{
	return (a->rl_excl || b->rl_excl) && rl_overlap(a, b);
}

/* Does t conflict with any task on list h, stopping at stop (exclusive)? */
static bool
rl_conflicts_list(const struct cairn_scsi_task *t, struct cairn_list *h,
		  const struct cairn_list *stop)
{
	struct cairn_list *pos;

	cairn_list_for_each(pos, h) {
		if (pos == stop)
			break;
		if (rl_conflict(t, cairn_list_entry(pos, struct cairn_scsi_task, rl_link)))
			return true;
	}
	return false;
}

int
scsi_range_acquire(struct cairn_scsi_task *t, bool excl, uint64_t lba, uint64_t nblocks)
{
	struct cairn_scsi_lun *lun = t->lun;
	int rc = 0;

	t->rl_excl = excl;
	t->rl_lba = lba;
	t->rl_nblocks = nblocks ? nblocks : 1;
	if (t->rl_lba + (t->rl_nblocks - 1) < t->rl_lba) /* clamp at the end of the space */
		t->rl_nblocks = UINT64_MAX - t->rl_lba;
	pthread_mutex_lock(&lun->rl_lock);
	if (rl_conflicts_list(t, &lun->rl_held, NULL) ||
	    rl_conflicts_list(t, &lun->rl_wait, NULL)) {
		t->rl_state = RL_WAITING;
		t->rl_xs = cairn_xs_self();
		cairn_list_add_tail(&t->rl_link, &lun->rl_wait);
		rc = 1;
	} else {
		t->rl_state = RL_HELD;
		cairn_list_add_tail(&t->rl_link, &lun->rl_held);
	}
	pthread_mutex_unlock(&lun->rl_lock);
	return rc;
}

void
scsi_range_release(struct cairn_scsi_task *t)
{
	struct cairn_scsi_lun *lun = t->lun;
	struct cairn_list grant, *pos, *tmp;
	int rc;

	if (t->rl_state != RL_HELD)
		return;
	cairn_list_init(&grant);
	pthread_mutex_lock(&lun->rl_lock);
	cairn_list_del(&t->rl_link);
	t->rl_state = RL_NONE;
	cairn_list_for_each_safe(pos, tmp, &lun->rl_wait) {
		struct cairn_scsi_task *w = cairn_list_entry(pos, struct cairn_scsi_task, rl_link);

		if (rl_conflicts_list(w, &lun->rl_held, NULL) ||
		    rl_conflicts_list(w, &lun->rl_wait, pos))
			continue;
		cairn_list_del(&w->rl_link);
		w->rl_state = RL_HELD;
		cairn_list_add_tail(&w->rl_link, &lun->rl_held);
		/* Resumed after the unlock (the message may run at once elsewhere). */
		cairn_list_add_tail(&w->rl_grant, &grant);
	}
	pthread_mutex_unlock(&lun->rl_lock);
	cairn_list_for_each_safe(pos, tmp, &grant) {
		struct cairn_scsi_task *w = cairn_list_entry(pos, struct cairn_scsi_task, rl_grant);

		cairn_list_del(pos);
		rc = cairn_rt_send_msg(w->rl_xs, scsi_sbc_resume, w);
		if (rc) {
			CAIRN_ERROR("LUN %u: cannot resume a task waiting for its LBA range: %s",
				    lun->id, cairn_strerror(rc));
			scsi_sbc_resume(w);
		}
	}
}
