/*
 * Write-ahead log with group commit, and its replay.
 *
 * Every ULT that wants a record made durable queues a struct vos_commit. The first one to
 * find no committer becomes the committer: it packs every queued record into one frame,
 * writes it at the WAL tail, flushes the device, applies the records to the index in
 * order and wakes their owners, then loops while more records arrived during the I/O.
 * So N concurrent updates share one write + flush, and records are applied in exactly the
 * order replay will apply them.
 *
 * A failed frame write or flush fails that frame's records (not acknowledged) and every
 * record queued behind them, and makes the pool refuse mutations until it is reopened:
 * part or all of the failed frame may be on disk, and only recovery can tell (it replays
 * the frame if it is whole, drops it if torn). Continuing to write after it could leave
 * a stale copy of that sequence number where replay would find it.
 */
#define CAIRN_LOG_SS CAIRN_SS_VOS
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "common/log.h"
#include "rt/rt.h"
#include "vos_internal.h"

static inline uint64_t
rec_span(uint32_t len)
{
	return sizeof(struct vos_wal_rec_df) + vos_round_up(len, 8);
}

/* Make room for a frame of `span` bytes at the tail; returns the physical offset inside
 * the WAL region and the lsn advance (skip + span) through *adv. */
static int
wal_reserve(struct vos_pool *p, uint64_t span, uint64_t *phys, uint64_t *adv)
{
	uint64_t wal_size = p->sb.wal_size;
	int tries = 0;
	int rc;

	for (;;) {
		uint64_t pos = p->wal_tail % wal_size;
		uint64_t skip = pos + span > wal_size ? wal_size - pos : 0;

		if (p->wal_tail + skip + span - p->wal_head <= wal_size) {
			*phys = skip ? 0 : pos;
			*adv = skip + span;
			return 0;
		}
		/* Full: a checkpoint moves the head forward (twice at most: the first may
		 * only release the space up to the previous checkpoint). One being written
		 * in the background is waited for first. */
		if (p->ckpt_running) {
			vos_ckpt_wait(p);
			continue;
		}
		if (tries++ == 2) {
			CAIRN_ERROR("%s: WAL full after checkpoints", p->bdev_name);
			return -CAIRN_ERR_NOSPACE;
		}
		rc = vos_ckpt_write(p);
		if (rc)
			return rc;
	}
}

/* Write one frame made of the commits in `batch`. */
static int
wal_write_frame(struct vos_pool *p, struct cairn_list *batch, uint32_t payload, uint32_t nrec,
		bool *attempted)
{
	char *frame = p->wal_buf;
	uint32_t pos = sizeof(struct vos_wal_frame_df);
	uint64_t span = vos_wal_frame_span(payload);
	uint64_t phys, adv;
	struct cairn_list *it;
	int rc;

	rc = wal_reserve(p, span, &phys, &adv);
	if (rc)
		return rc;
	for (it = batch->next; it != batch; it = it->next) {
		struct vos_commit *c = cairn_container_of(it, struct vos_commit, link);
		struct vos_wal_rec_df *r = (void *)(frame + pos);

		r->type = c->type;
		r->flags = 0;
		r->len = c->len;
		memcpy(r + 1, c->body, c->len);
		memset((char *)(r + 1) + c->len, 0, vos_round_up(c->len, 8) - c->len);
		pos += (uint32_t)rec_span(c->len);
	}
	vos_wal_frame_seal(frame, p->sb.wal_tag, p->wal_seq, payload, nrec);
	*attempted = true;
	rc = vos_dev_write(p, p->sb.wal_off + phys, frame, span);
	if (rc == 0)
		rc = vos_dev_flush(p);
	if (rc)
		return rc;
	p->wal_tail += adv;
	p->wal_seq++;
	p->stats.frames++;
	p->stats.records += nrec;
	p->stats.wal_bytes += span;
	return 0;
}

/* Returns true when another ULT was woken. */
static bool
commit_finish(struct vos_commit *c, int rc)
{
	struct cairn_ult *w = c->waiter;

	c->rc = rc;
	c->done = true;
	if (w != NULL && w != cairn_ult_self()) {
		cairn_ult_wake(w);
		return true;
	}
	return false;
}

/* Write frames while records are queued. The committer is the ULT `self` (NULL: a
 * checkpoint caller with no record); once its own record is done it hands the role to
 * the owner of the oldest queued record, so no ULT commits for the others forever. On
 * return p->committing is false, or true with the role handed off. */
static void
wal_commit_loop(struct vos_pool *p, struct vos_commit *self)
{
	const uint32_t max_payload = VOS_WAL_FRAME_MAX - sizeof(struct vos_wal_frame_df);
	bool woke = false;

	for (;;) {
		struct cairn_list batch;
		uint32_t payload = 0, nrec = 0;
		struct vos_commit *c;
		bool attempted = false;
		int rc;

		/* Let the owners of the frame just committed run first: most of them come
		 * straight back with their next update, and it should ride in this frame
		 * rather than the one after (otherwise the ULTs split into two groups that
		 * alternate, each frame carrying half of them). */
		if (woke) {
			cairn_ult_yield();
			woke = false;
		}
		if (cairn_list_empty(&p->pending)) {
			p->committing = false;
			return;
		}
		if (self == NULL || self->done) {
			c = cairn_container_of(p->pending.next, struct vos_commit, link);
			c->leader = true;
			cairn_ult_wake(c->waiter);
			return;
		}
		if (p->preparing > 0) {
			uint64_t t0 = cairn_rt_now_us();

			while (p->preparing > 0 &&
			       p->preparing_bytes <= (uint64_t)VOS_GC_LINGER_MAX_AVG_BYTES * p->preparing &&
			       cairn_rt_now_us() - t0 < VOS_GC_LINGER_US)
				cairn_ult_yield();
		}
		cairn_list_init(&batch);
		while (!cairn_list_empty(&p->pending)) {
			c = cairn_container_of(p->pending.next, struct vos_commit, link);
			if (payload + rec_span(c->len) > max_payload)
				break;
			payload += (uint32_t)rec_span(c->len);
			nrec++;
			cairn_list_del(&c->link);
			cairn_list_add_tail(&c->link, &batch);
		}
		rc = p->failed ? p->failed
			       : wal_write_frame(p, &batch, payload, nrec, &attempted);
		if (rc && attempted && !p->failed) {
			CAIRN_ERROR("%s: WAL write failed (%s): pool refuses updates until reopened",
				    p->bdev_name, cairn_strerror(rc));
			p->failed = rc;
		}
		while (!cairn_list_empty(&batch)) {
			c = cairn_container_of(cairn_list_pop(&batch), struct vos_commit, link);
			if (rc == 0) {
				int op_rc = 0;
				int arc = vos_rec_apply(p, c->type, c->body, c->len,
							c->apply_arg, &op_rc);

				if (arc) {
					/* Durable but not applied: memory and disk differ. */
					CAIRN_ERROR("%s: committed record not applied: %s",
						    p->bdev_name, cairn_strerror(arc));
					p->failed = arc;
					op_rc = arc;
				}
				woke |= commit_finish(c, op_rc);
			} else {
				c->wal_failed = true;
				woke |= commit_finish(c, rc);
			}
		}
		/* Bound replay time: checkpoint once enough WAL accumulated. Every frame
		 * written so far is applied and none is in flight: a consistent point. */
		if (rc == 0 && !p->ckpt_running &&
		    (p->ckpt_request ||
		     p->wal_tail - p->wal_ckpt_lsn > p->sb.wal_size / VOS_CKPT_TRIGGER_DIV)) {
			bool req = p->ckpt_request;

			p->ckpt_request = false;
			rc = vos_ckpt_start(p);
			if (req)
				p->ckpt_request_rc = rc;
			if (rc)
				CAIRN_WARN("%s: checkpoint failed (%s); will retry",
					   p->bdev_name, cairn_strerror(rc));
		}
	}
}

int
vos_wal_commit(struct vos_pool *p, struct vos_commit *c)
{
	if (!cairn_in_ult())
		return -CAIRN_ERR_INVAL; /* waiting for the commit needs a ULT */
	if (rec_span(c->len) > VOS_WAL_FRAME_MAX - sizeof(struct vos_wal_frame_df))
		return -CAIRN_ERR_OVERFLOW;
	c->waiter = cairn_ult_self();
	c->done = false;
	c->wal_failed = false;
	c->rc = 0;
	c->leader = false;
	cairn_list_add_tail(&c->link, &p->pending);
	if (!p->committing) {
		p->committing = true;
		wal_commit_loop(p, c);
	}
	while (!c->done) {
		cairn_ult_park();
		if (c->leader && !c->done) {
			c->leader = false;
			wal_commit_loop(p, c);
		}
	}
	if (c->leader) {
		/* Handed the role after our record was already done (cannot happen: the
		 * committer only hands off to queued records), pass it on. */
		c->leader = false;
		wal_commit_loop(p, NULL);
	}
	return c->rc;
}

void
vos_wal_drain(struct vos_pool *p)
{
	while (p->committing || !cairn_list_empty(&p->pending))
		cairn_ult_sleep_us(50);
	vos_ckpt_wait(p);
}

int
vos_wal_checkpoint(struct vos_pool *p)
{
	int rc;

	while (p->committing)
		cairn_ult_sleep_us(50);
	p->committing = true;
	vos_ckpt_wait(p);
	rc = vos_ckpt_write(p);
	wal_commit_loop(p, NULL);
	return rc;
}

int
vos_wal_checkpoint_start(struct vos_pool *p)
{
	int rc;

	if (p->ckpt_running || p->ckpt_request)
		return -CAIRN_ERR_BUSY;
	/* Under load the committer role never falls free: ask the committer to start it
	 * after its current frame (a consistent point), and wait until it did. */
	p->ckpt_request = true;
	p->ckpt_request_rc = 0;
	while (p->committing && p->ckpt_request)
		cairn_ult_sleep_us(50);
	if (!p->ckpt_request)
		return p->ckpt_request_rc;
	p->ckpt_request = false;
	if (p->ckpt_running)
		return -CAIRN_ERR_BUSY;
	p->committing = true;
	rc = vos_ckpt_start(p);
	wal_commit_loop(p, NULL);
	return rc;
}

/* ------------------------------------------------------------------ replay */

/* Read and verify the frame with sequence seq at physical position phys into buf.
 * Returns the frame span, or 0 when there is no valid frame there. */
static uint64_t
wal_read_frame(struct vos_pool *p, uint64_t phys, uint64_t seq, void *buf)
{
	const struct vos_wal_frame_df *f = buf;
	uint64_t room = p->sb.wal_size - phys;
	uint64_t span;

	if (room > VOS_WAL_FRAME_MAX + VOS_BLK)
		room = VOS_WAL_FRAME_MAX + VOS_BLK;
	if (vos_dev_read(p, p->sb.wal_off + phys, buf, VOS_BLK) != 0)
		return 0;
	if (!vos_wal_frame_hdr_ok(f, p->sb.wal_tag, seq, room))
		return 0;
	span = vos_wal_frame_span(f->len);
	if (span > VOS_BLK &&
	    vos_dev_read(p, p->sb.wal_off + phys + VOS_BLK, (char *)buf + VOS_BLK,
			 span - VOS_BLK) != 0)
		return 0;
	if (!vos_wal_frame_verify(buf)) {
		CAIRN_NOTE("%s: WAL frame %llu at %llu fails its checksum: end of log",
			   p->bdev_name, (unsigned long long)seq, (unsigned long long)phys);
		return 0;
	}
	return span;
}

/* Find frame seq at logical position *lsn (or at the start of the region, where the
 * writer puts a frame that does not fit the end; *lsn then moves past the skip). Frames
 * ending more than a WAL size after the replay start (start) are refused: the writer
 * never gets that far ahead of the newest checkpoint, so it would mean a loop. */
static uint64_t
wal_find_frame(struct vos_pool *p, uint64_t *lsn, uint64_t seq, void *buf, uint64_t start)
{
	uint64_t wal_size = p->sb.wal_size;
	uint64_t phys = *lsn % wal_size;
	uint64_t at = *lsn;
	uint64_t span = wal_read_frame(p, phys, seq, buf);

	if (span == 0 && phys != 0) {
		span = wal_read_frame(p, 0, seq, buf);
		at = *lsn + (wal_size - phys);
	}
	if (span == 0 || at + span - start > wal_size)
		return 0;
	*lsn = at;
	return span;
}

static int
wal_apply_frame(struct vos_pool *p, const void *buf, uint64_t seq, uint64_t *n)
{
	const struct vos_wal_frame_df *f = buf;
	const struct vos_wal_rec_df *rec;
	const void *body;
	uint32_t pos = 0;
	int rc, op_rc;

	while ((rc = vos_wal_rec_next(f + 1, f->len, &pos, &rec, &body)) == 1) {
		rc = vos_rec_apply(p, rec->type, body, rec->len, NULL, &op_rc);
		if (rc) {
			CAIRN_ERROR("%s: replay of record type %u in frame %llu failed: %s",
				    p->bdev_name, rec->type, (unsigned long long)seq,
				    cairn_strerror(rc));
			return rc;
		}
		(*n)++;
	}
	if (rc < 0) {
		/* CRC matched but the records do not parse: written by a broken writer, not
		 * torn. Refuse rather than guess. */
		CAIRN_ERROR("%s: WAL frame %llu is malformed", p->bdev_name,
			    (unsigned long long)seq);
		return -CAIRN_ERR_CORRUPT;
	}
	return 0;
}

/* The last frame of the log is the only one whose flush may not have completed: on a
 * device with a volatile cache its data extents may be missing even though the frame
 * made it. Such a frame was never acknowledged; check its data before replaying it. */
static int
wal_frame_data_ok(struct vos_pool *p, const void *buf)
{
	const struct vos_wal_frame_df *f = buf;
	const struct vos_wal_rec_df *rec;
	const void *body;
	uint32_t pos = 0;
	int rc;

	while ((rc = vos_wal_rec_next(f + 1, f->len, &pos, &rec, &body)) == 1) {
		rc = vos_rec_check_data(p, rec->type, body, rec->len);
		if (rc)
			return rc;
	}
	return 0;
}

int
vos_wal_replay(struct vos_pool *p, uint64_t seq, uint64_t lsn)
{
	void *bufs[2] = { p->wal_buf, vos_buf_alloc(VOS_WAL_FRAME_MAX + VOS_BLK) };
	uint64_t n = 0, span, start = lsn;
	int cur = 0, rc = 0;

	if (bufs[1] == NULL)
		return -CAIRN_ERR_NOMEM;
	p->replaying = true;
	span = wal_find_frame(p, &lsn, seq, bufs[cur], start);
	while (span != 0) {
		uint64_t nlsn = lsn + span;
		uint64_t nspan = wal_find_frame(p, &nlsn, seq + 1, bufs[1 - cur], start);

		if (nspan == 0) {
			rc = wal_frame_data_ok(p, bufs[cur]);
			if (rc == -CAIRN_ERR_CSUM) {
				CAIRN_WARN("%s: last WAL frame %llu references data that never "
					   "reached the disk: dropped (it was not acknowledged)",
					   p->bdev_name, (unsigned long long)seq);
				rc = 0;
				break;
			}
			if (rc)
				goto out;
		}
		rc = wal_apply_frame(p, bufs[cur], seq, &n);
		if (rc)
			goto out;
		seq++;
		if (nspan == 0) {
			lsn += span;
			break;
		}
		lsn = nlsn;
		span = nspan;
		cur = 1 - cur;
	}
	p->wal_seq = seq;
	p->wal_tail = lsn;
	p->stats.replayed = n;
	/* The older checkpoint is a fallback only while the WAL back to it is intact. Its
	 * header may still look valid while a newer checkpoint was being written over its
	 * pages and the WAL behind it reused: then it is no fallback. */
	if (p->wal_tail - p->wal_head > p->sb.wal_size) {
		int old = p->ckpt_lsn[0] == p->wal_head && p->ckpt_gen[0] != 0 ? 0 : 1;

		p->ckpt_gen[old] = 0;
		p->wal_head = p->wal_ckpt_lsn;
	}
	CAIRN_INFO("%s: replayed %llu records, WAL tail at seq %llu", p->bdev_name,
		   (unsigned long long)n, (unsigned long long)seq);
out:
	p->replaying = false;
	vos_buf_free(bufs[1]);
	return rc;
}
