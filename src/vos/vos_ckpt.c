/*
 * Checkpoints: the whole index serialised into one of two alternating slots, so WAL replay
 * at open is bounded by the WAL written since the last checkpoint.
 *
 * Writing (into the slot holding the older generation): take the cut at a frame boundary
 * (every written frame applied, none in flight), serialise the index as of the cut, write
 * the pages, flush, then write the header block and flush again. A crash at any point
 * leaves the other slot valid. The WAL is kept back to the older retained checkpoint, so
 * if the newest one is later found corrupt, recovery falls back to the older one and
 * still replays everything.
 *
 * Background checkpoints (automatic, cairn_vos_pool_checkpoint_start) are cooperative:
 * a ULT of their own walks the index VOS_CKPT_STEP_DKEYS dkeys per step and yields
 * between steps (one step per turn while foreground work is in flight, slices of
 * VOS_CKPT_SLICE_US when idle or when the WAL is half full), while the committer goes on
 * committing and applying frames; the pre-images saved by vos_ckpt_before_change()
 * (vos_glue.c) keep the payload exactly the index at the cut. Then the same ULT writes
 * it, computing the payload CRC and returning the payload's memory chunk by chunk. Close
 * and a full WAL write a checkpoint synchronously (whole serialisation at the cut).
 */
#define CAIRN_LOG_SS CAIRN_SS_VOS
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cairn/errno.h"
#include "common/fault.h"
#include "common/log.h"
#include "rt/rt.h"
#include "vos_internal.h"

#define CKPT_CHUNK_PAGES 64u /* pages per device write */
/* Cooperative walk: dkeys per step call, and the time after which the walk yields. */
#define VOS_CKPT_STEP_DKEYS 16u
#define VOS_CKPT_SLICE_US   50u

/* Give the memory of payload bytes [from, to) back to the kernel (whole pages inside the
 * range), so the final free of a large payload costs nothing: unmapping tens of MiB in
 * one go stalls the xstream for a millisecond or more. The bytes are not read again. */
static void
ckpt_release(const void *payload, uint64_t from, uint64_t to)
{
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t a, b;

	if (pg <= 0)
		return;
	a = ((uintptr_t)payload + from + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
	b = ((uintptr_t)payload + to) & ~((uintptr_t)pg - 1);
	if (b > a)
		(void)madvise((void *)a, b - a, MADV_DONTNEED);
}

/* Write payload into slot: pages, flush, header, flush. The payload CRC is computed
 * chunk by chunk between the writes (no long stretch without a yield); with release, the
 * payload's memory is returned as it is written (the caller only frees it afterwards). */
static int
ckpt_write_slot(struct vos_pool *p, int slot, uint64_t gen, uint64_t seq, uint64_t lsn,
		const void *payload, uint64_t len, bool release)
{
	uint64_t npages = vos_ckpt_npages(len);
	uint64_t base = p->sb.ckpt_off[slot];
	struct vos_ckpt_hdr_df *h;
	uint64_t done = 0;          /* payload bytes covered by the pages written */
	uint32_t crc = 0;
	char *buf;
	uint64_t i;
	int rc;

	if (npages + 1 > p->sb.ckpt_size / VOS_BLK) {
		CAIRN_ERROR("%s: checkpoint of %llu bytes does not fit its %llu byte slot",
			    p->bdev_name, (unsigned long long)len,
			    (unsigned long long)p->sb.ckpt_size);
		return -CAIRN_ERR_NOSPACE;
	}
	buf = vos_buf_alloc((uint64_t)CKPT_CHUNK_PAGES * VOS_BLK);
	if (buf == NULL)
		return -CAIRN_ERR_NOMEM;
	for (i = 0; i < npages; i += CKPT_CHUNK_PAGES) {
		uint64_t n = npages - i < CKPT_CHUNK_PAGES ? npages - i : CKPT_CHUNK_PAGES;
		uint64_t j;

		for (j = 0; j < n; j++)
			vos_ckpt_page_build(buf + j * VOS_BLK, gen, (uint32_t)(i + j), payload,
					    len);
		rc = vos_dev_write(p, base + (1 + i) * VOS_BLK, buf, n * VOS_BLK);
		if (rc)
			goto out;
		{
			uint64_t end = (i + n) * VOS_CPAGE_DATA < len ? (i + n) * VOS_CPAGE_DATA
								       : len;

			crc = vos_crc32c(crc, (const char *)payload + done, end - done);
			if (release)
				ckpt_release(payload, done, end);
			done = end;
		}
	}
	rc = vos_dev_flush(p);
	if (rc)
		goto out;
	/* Test hook: fail after the pages, before the header (as a crash would). */
	if (CAIRN_FAULT("vos.ckpt.header")) {
		rc = -CAIRN_ERR_IO;
		goto out;
	}
	memset(buf, 0, VOS_BLK);
	h = (void *)buf;
	h->magic = VOS_CKPT_MAGIC;
	h->version = VOS_FORMAT_VER;
	h->gen = gen;
	h->tag = p->sb.wal_tag;
	h->wal_seq = seq;
	h->wal_lsn = lsn;
	h->wal_pos = lsn % p->sb.wal_size;
	h->payload_len = len;
	h->npages = (uint32_t)npages;
	h->payload_crc = crc;
	vos_ckpt_hdr_seal(h);
	rc = vos_dev_write(p, base, buf, VOS_BLK);
	if (rc == 0)
		rc = vos_dev_flush(p);
out:
	vos_buf_free(buf);
	return rc;
}

/* A checkpoint being written: a consistent cut of the index taken at (seq, lsn). */
struct ckpt_job {
	struct vos_pool *p;
	int slot;
	uint64_t gen, seq, lsn;
	void *payload;
	uint64_t len;
	uint64_t cut_us, start_us; /* time to take the cut; when writing started */
	struct vos_ckpt_walk *walk; /* cooperative: the walk still to finish */
	uint64_t walk_us, steps;   /* cooperative: walk time, steps (yields) */
	uint32_t nstash;
};

/* Finish a cooperative walk: steps of at most VOS_CKPT_SLICE_US with a yield between
 * them, so updates and fetches run while the checkpoint is serialised. */
static int
ckpt_walk_run(struct ckpt_job *j, bool yield)
{
	struct vos_pool *p = j->p;
	uint64_t t0 = cairn_rt_now_us();
	bool done = false;
	int rc = 0;

	while (!done) {
		uint64_t s0 = cairn_rt_now_us();
		/* Foreground work in flight (a frame being committed, records queued, data
		 * being written): take one small step per turn, so an update waits at most a
		 * few microseconds per scheduling round for the walk. Idle, or once the WAL
		 * is half full (a full WAL would stall every update until the checkpoint
		 * ends): whole slices. */
		bool fg = p->committing || p->preparing > 0 || !cairn_list_empty(&p->pending);
		bool urgent = p->wal_tail - p->wal_head > p->sb.wal_size / 2;

		if (fg && !urgent && yield) {
			rc = vos_ckpt_walk_step(j->walk, VOS_CKPT_STEP_DKEYS, &done);
		} else {
			do {
				rc = vos_ckpt_walk_step(j->walk, VOS_CKPT_STEP_DKEYS, &done);
			} while (rc == 0 && !done &&
				 cairn_rt_now_us() - s0 < VOS_CKPT_SLICE_US);
		}
		if (rc)
			break;
		j->steps++;
		if (!done && yield)
			cairn_ult_yield();
	}
	p->ckpt_walk = NULL;
	p->ckpt_walk_steps = j->steps;
	if (rc == 0)
		vos_ckpt_walk_take(j->walk, &j->payload, &j->len, &j->nstash);
	vos_ckpt_walk_free(j->walk);
	j->walk = NULL;
	j->walk_us = cairn_rt_now_us() - t0;
	if (rc) {
		CAIRN_WARN("%s: checkpoint %llu abandoned during its walk: %s", p->bdev_name,
			   (unsigned long long)j->gen, cairn_strerror(rc));
		p->ckpt_running = false;
	}
	return rc;
}

void
vos_ckpt_hold(struct vos_pool *p)
{
	while (p->ckpt_walk != NULL)
		cairn_ult_sleep_us(100);
}

/* Take the cut (no yield: every written frame is applied, none in flight) and claim the
 * older slot. Whole serialises the index here; otherwise the cut is the start of a
 * cooperative walk (j->walk) that ckpt_walk_run() completes. */
static int
ckpt_prepare(struct vos_pool *p, struct ckpt_job *j, bool whole)
{
	int other;
	int rc;

	if (p->ckpt_running)
		return -CAIRN_ERR_BUSY;
	memset(j, 0, sizeof(*j));
	j->p = p;
	j->slot = p->ckpt_gen[0] <= p->ckpt_gen[1] ? 0 : 1;
	j->gen = (p->ckpt_gen[0] > p->ckpt_gen[1] ? p->ckpt_gen[0] : p->ckpt_gen[1]) + 1;
	j->seq = p->wal_seq;
	j->lsn = p->wal_tail;
	j->start_us = cairn_rt_now_us();
	if (whole)
		rc = vos_idx_serialize(p, &j->payload, &j->len);
	else
		rc = vos_ckpt_walk_start(p, &j->walk);
	if (rc)
		return rc;
	j->cut_us = cairn_rt_now_us() - j->start_us;
	p->ckpt_running = true;
	p->ckpt_walk = j->walk;
	/* The slot we overwrite stops being a fallback from now on: the WAL only needs to
	 * go back to the other one. */
	other = 1 - j->slot;
	p->ckpt_gen[j->slot] = 0;
	if (p->ckpt_gen[other] != 0)
		p->wal_head = p->ckpt_lsn[other];
	return 0;
}

/* Write the cut out and make it the newest checkpoint. Yields (device I/O). */
static int
ckpt_finish(struct ckpt_job *j)
{
	struct vos_pool *p = j->p;
	int other = 1 - j->slot;
	int rc;

	rc = ckpt_write_slot(p, j->slot, j->gen, j->seq, j->lsn, j->payload, j->len, true);
	if (rc) {
		CAIRN_ERROR("%s: checkpoint %llu failed: %s", p->bdev_name,
			    (unsigned long long)j->gen, cairn_strerror(rc));
	} else {
		p->ckpt_gen[j->slot] = j->gen;
		p->ckpt_lsn[j->slot] = j->lsn;
		p->ckpt_seq[j->slot] = j->seq;
		p->wal_ckpt_lsn = j->lsn;
		if (p->ckpt_gen[other] == 0)
			p->wal_head = j->lsn;
		p->stats.checkpoints++;
		CAIRN_INFO("%s: checkpoint %llu: %llu bytes, replay from seq %llu; cut %llu us, "
			   "walk %llu us in %llu steps (%u pre-images), written in %llu us",
			   p->bdev_name, (unsigned long long)j->gen,
			   (unsigned long long)j->len, (unsigned long long)j->seq,
			   (unsigned long long)j->cut_us, (unsigned long long)j->walk_us,
			   (unsigned long long)j->steps, j->nstash,
			   (unsigned long long)(cairn_rt_now_us() - j->start_us - j->cut_us -
						j->walk_us));
	}
	free(j->payload);
	j->payload = NULL;
	p->ckpt_running = false;
	return rc;
}

int
vos_ckpt_write(struct vos_pool *p)
{
	struct ckpt_job j;
	int rc = ckpt_prepare(p, &j, true);

	if (rc)
		return rc;
	return ckpt_finish(&j);
}

static void
ckpt_ult(void *arg)
{
	struct ckpt_job *j = arg;

	if (j->walk == NULL || ckpt_walk_run(j, true) == 0)
		ckpt_finish(j);
	free(j);
}

int
vos_ckpt_start(struct vos_pool *p)
{
	/* General priority: the walk yields to the updates it runs beside as often as
	 * they run (I/O priority would give it two slices per round). */
	struct cairn_ult_attr attr = { .prio = CAIRN_PRIO_GENERAL, .joinable = false };
	struct ckpt_job *j = malloc(sizeof(*j));
	int rc;

	if (j == NULL)
		return -CAIRN_ERR_NOMEM;
	rc = ckpt_prepare(p, j, p->ckpt_whole);
	if (rc) {
		free(j);
		return rc;
	}
	rc = cairn_ult_create(NULL, ckpt_ult, j, &attr, NULL);
	if (rc) {
		/* No ULT: walk and write it here instead. */
		rc = j->walk != NULL ? ckpt_walk_run(j, false) : 0;
		if (rc == 0)
			rc = ckpt_finish(j);
		free(j);
	}
	return rc;
}

void
vos_ckpt_wait(struct vos_pool *p)
{
	while (p->ckpt_running)
		cairn_ult_sleep_us(100);
}

/* Read and verify the whole payload of a slot whose header passed its checks. */
static int
ckpt_read_payload(struct vos_pool *p, int slot, const struct vos_ckpt_hdr_df *h, void **out)
{
	uint64_t base = p->sb.ckpt_off[slot];
	char *payload, *buf;
	uint64_t i;
	int rc = 0;

	payload = malloc(h->payload_len ? h->payload_len : 1);
	buf = vos_buf_alloc((uint64_t)CKPT_CHUNK_PAGES * VOS_BLK);
	if (payload == NULL || buf == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto err;
	}
	for (i = 0; i < h->npages; i += CKPT_CHUNK_PAGES) {
		uint64_t n = h->npages - i < CKPT_CHUNK_PAGES ? h->npages - i : CKPT_CHUNK_PAGES;
		uint64_t j;

		rc = vos_dev_read(p, base + (1 + i) * VOS_BLK, buf, n * VOS_BLK);
		if (rc)
			goto err;
		for (j = 0; j < n; j++) {
			rc = vos_ckpt_page_load(buf + j * VOS_BLK, h->gen, (uint32_t)(i + j),
						payload, h->payload_len);
			if (rc) {
				CAIRN_WARN("%s: checkpoint %llu page %llu is bad: %s",
					   p->bdev_name, (unsigned long long)h->gen,
					   (unsigned long long)(i + j), cairn_strerror(rc));
				goto err;
			}
		}
	}
	if (vos_crc32c(0, payload, h->payload_len) != h->payload_crc) {
		rc = -CAIRN_ERR_CSUM;
		goto err;
	}
	vos_buf_free(buf);
	*out = payload;
	return 0;
err:
	vos_buf_free(buf);
	free(payload);
	return rc;
}

int
vos_ckpt_load(struct vos_pool *p, uint64_t *seq, uint64_t *lsn)
{
	struct vos_ckpt_hdr_df hdr[2];
	bool valid[2] = { false, false };
	char *blk;
	int order[2];
	int i, rc;

	blk = vos_buf_alloc(VOS_BLK);
	if (blk == NULL)
		return -CAIRN_ERR_NOMEM;
	for (i = 0; i < 2; i++) {
		rc = vos_dev_read(p, p->sb.ckpt_off[i], blk, VOS_BLK);
		if (rc) {
			vos_buf_free(blk);
			return rc;
		}
		memcpy(&hdr[i], blk, sizeof(hdr[i]));
		rc = vos_ckpt_hdr_check(&hdr[i], &p->sb);
		valid[i] = rc == 0;
		if (rc && rc != -CAIRN_ERR_NONEXIST)
			CAIRN_WARN("%s: checkpoint slot %d header is bad: %s", p->bdev_name, i,
				   cairn_strerror(rc));
	}
	vos_buf_free(blk);
	order[0] = valid[1] && (!valid[0] || hdr[1].gen > hdr[0].gen) ? 1 : 0;
	order[1] = 1 - order[0];
	p->ckpt_gen[0] = p->ckpt_gen[1] = 0;
	for (i = 0; i < 2; i++) {
		int s = order[i];
		void *payload = NULL;

		if (!valid[s])
			continue;
		rc = ckpt_read_payload(p, s, &hdr[s], &payload);
		if (rc) {
			valid[s] = false;
			continue;
		}
		rc = vos_idx_load(p, payload, hdr[s].payload_len);
		free(payload);
		if (rc) {
			CAIRN_ERROR("%s: checkpoint %llu does not load: %s", p->bdev_name,
				    (unsigned long long)hdr[s].gen, cairn_strerror(rc));
			valid[s] = false;
			continue;
		}
		p->ckpt_gen[s] = hdr[s].gen;
		p->ckpt_lsn[s] = hdr[s].wal_lsn;
		p->ckpt_seq[s] = hdr[s].wal_seq;
		*seq = hdr[s].wal_seq;
		*lsn = hdr[s].wal_lsn;
		p->wal_ckpt_lsn = *lsn;
		p->wal_head = *lsn;
		/* The other slot is a fallback only if it is older and its header is
		 * valid; keep the WAL back to it. */
		if (valid[1 - s] && hdr[1 - s].gen < hdr[s].gen &&
		    hdr[1 - s].wal_lsn <= hdr[s].wal_lsn) {
			p->ckpt_gen[1 - s] = hdr[1 - s].gen;
			p->ckpt_lsn[1 - s] = hdr[1 - s].wal_lsn;
			p->ckpt_seq[1 - s] = hdr[1 - s].wal_seq;
			p->wal_head = hdr[1 - s].wal_lsn;
		}
		if (i == 1)
			CAIRN_WARN("%s: newest checkpoint unusable, recovered from the older one",
				   p->bdev_name);
		return 0;
	}
	CAIRN_ERROR("%s: no valid checkpoint in the pool", p->bdev_name);
	return -CAIRN_ERR_CORRUPT;
}

int
vos_ckpt_format(struct vos_pool *p)
{
	void *payload = NULL;
	uint64_t len = 0;
	char *blk;
	int rc;

	blk = vos_buf_alloc(VOS_BLK);
	if (blk == NULL)
		return -CAIRN_ERR_NOMEM;
	memset(blk, 0, VOS_BLK);
	/* Slot 1 and the first WAL block: no stale header may survive a re-format. */
	rc = vos_dev_write(p, p->sb.ckpt_off[1], blk, VOS_BLK);
	if (rc == 0)
		rc = vos_dev_write(p, p->sb.wal_off, blk, VOS_BLK);
	vos_buf_free(blk);
	if (rc)
		return rc;
	rc = vos_idx_serialize(p, &payload, &len);
	if (rc)
		return rc;
	rc = ckpt_write_slot(p, 0, 1, 1, 0, payload, len, false);
	free(payload);
	return rc;
}
