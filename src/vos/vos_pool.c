/*
 * VOS pool lifecycle: format, open (validation + recovery), close, query, checkpoint and
 * verify, plus container create/destroy. See README.md for the layout and the recovery
 * procedure.
 */
#define CAIRN_LOG_SS CAIRN_SS_VOS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "bdev/bdev.h"
#include "cairn/errno.h"
#include "common/log.h"
#include "rt/rt.h"
#include "vos_internal.h"
#include "vos/vos.h"

void
cairn_vos_pool_opts_default(struct cairn_vos_pool_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->opts_size = sizeof(*opts);
	opts->inline_max = 1024;
}

static void
pool_bdev_event(enum cairn_bdev_event_type type, struct cairn_bdev *bdev, void *ctx)
{
	struct vos_pool *p = ctx;

	/* The pool keeps its descriptor until close; a removed device fails the I/O. */
	CAIRN_WARN("%s: bdev event %d while the VOS pool is open", p->bdev_name, (int)type);
}

static void
pool_dev_close(struct vos_pool *p)
{
	if (p->ch != NULL)
		cairn_bdev_put_io_channel(p->ch);
	p->ch = NULL;
	if (p->desc != NULL) {
		cairn_bdev_release_claim(p->desc);
		cairn_bdev_close(p->desc);
	}
	p->desc = NULL;
}

static int
pool_dev_open(struct vos_pool *p, const char *name)
{
	struct cairn_bdev *bdev;
	uint32_t bs;
	int rc;

	if (name == NULL || strlen(name) == 0 || strlen(name) >= sizeof(p->bdev_name))
		return -CAIRN_ERR_INVAL;
	if (cairn_xs_self() == NULL || !cairn_in_ult()) {
		CAIRN_ERROR("VOS pools are used from a ULT on an xstream");
		return -CAIRN_ERR_INVAL;
	}
	snprintf(p->bdev_name, sizeof(p->bdev_name), "%s", name);
	cairn_list_init(&p->pending);
	rc = cairn_bdev_open(name, true, pool_bdev_event, p, &p->desc);
	if (rc) {
		CAIRN_ERROR("%s: cannot open the bdev: %s", name, cairn_strerror(rc));
		return rc;
	}
	rc = cairn_bdev_claim(p->desc, "vos");
	if (rc) {
		CAIRN_ERROR("%s: cannot claim the bdev: %s", name, cairn_strerror(rc));
		goto err;
	}
	bdev = cairn_bdev_desc_get_bdev(p->desc);
	bs = cairn_bdev_block_size(bdev);
	if (bs == 0 || bs > VOS_BLK || VOS_BLK % bs) {
		CAIRN_ERROR("%s: block size %u does not divide %u", name, bs, VOS_BLK);
		rc = -CAIRN_ERR_INVAL;
		goto err;
	}
	p->dev_blk = bs;
	p->dev_size = cairn_bdev_num_blocks(bdev) * bs / VOS_BLK * VOS_BLK;
	p->ch = cairn_bdev_get_io_channel(p->desc);
	if (p->ch == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto err;
	}
	p->xs = cairn_xs_self();
	return 0;
err:
	pool_dev_close(p);
	return rc;
}

static void
pool_free(struct vos_pool *p)
{
	pool_dev_close(p);
	vos_idx_free(p);
	vos_alloc_fini(&p->alloc);
	vos_cache_fini(&p->cache);
	vos_buf_free(p->wal_buf);
	free(p);
}

static struct vos_pool *
pool_alloc(void)
{
	struct vos_pool *p = calloc(1, sizeof(struct cairn_vos_pool));

	if (p == NULL)
		return NULL;
	cairn_list_init(&p->pending);
	p->wal_buf = vos_buf_alloc(VOS_WAL_FRAME_MAX + VOS_BLK);
	if (p->wal_buf == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

/* Write zeros over everything after the superblocks, in large sequential writes, so no
 * later write lands on never-written (sparse / unwritten) file space. */
#define VOS_PREZERO_CHUNK (4ull << 20)

static int
pool_prezero(struct vos_pool *p, const struct cairn_vos_pool_opts *o)
{
	uint64_t start = 2 * VOS_BLK, end = p->sb.total_size, off;
	char *buf = vos_buf_alloc(VOS_PREZERO_CHUNK);
	int rc = 0;

	if (buf == NULL)
		return -CAIRN_ERR_NOMEM;
	memset(buf, 0, VOS_PREZERO_CHUNK);
	for (off = start; off < end && rc == 0; off += VOS_PREZERO_CHUNK) {
		uint64_t n = end - off < VOS_PREZERO_CHUNK ? end - off : VOS_PREZERO_CHUNK;

		rc = vos_dev_write(p, off, buf, n);
		if (rc == 0 && o->progress != NULL)
			o->progress(o->progress_arg, off + n - start, end - start);
	}
	if (rc == 0)
		rc = vos_dev_flush(p);
	vos_buf_free(buf);
	return rc;
}

int
cairn_vos_pool_format(const char *bdev_name, const uint8_t uuid[16],
		      const struct cairn_vos_pool_opts *opts)
{
	struct cairn_vos_pool_opts o;
	struct vos_pool *p;
	char *blk;
	int rc;

	cairn_vos_pool_opts_default(&o);
	if (opts != NULL) {
		if (opts->opts_size < offsetof(struct cairn_vos_pool_opts, inline_max) +
					      sizeof(opts->inline_max))
			return -CAIRN_ERR_INVAL;
		o.wal_size = opts->wal_size;
		o.ckpt_size = opts->ckpt_size;
		o.inline_max = opts->inline_max;
		/* fields added later: only when the caller's struct has them */
		if (opts->opts_size >= offsetof(struct cairn_vos_pool_opts, progress_arg) +
					       sizeof(opts->progress_arg)) {
			o.flags = opts->flags;
			o.progress = opts->progress;
			o.progress_arg = opts->progress_arg;
		}
	}
	if (uuid == NULL || o.inline_max > CAIRN_VOS_IDX_INLINE_MAX ||
	    (o.flags & ~(uint32_t)CAIRN_VOS_FORMAT_PREZERO) != 0)
		return -CAIRN_ERR_INVAL;
	p = pool_alloc();
	if (p == NULL)
		return -CAIRN_ERR_NOMEM;
	rc = pool_dev_open(p, bdev_name);
	if (rc)
		goto out;
	rc = vos_sb_init(&p->sb, uuid, p->dev_size, o.wal_size, o.ckpt_size, o.inline_max);
	if (rc)
		goto out;
	if (getrandom(&p->sb.wal_tag, sizeof(p->sb.wal_tag), 0) != sizeof(p->sb.wal_tag))
		p->sb.wal_tag = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)p << 16);
	p->sb.format_time = (uint64_t)time(NULL);
	vos_sb_seal(&p->sb);
	rc = vos_idx_init(p);
	if (rc)
		goto out;
	/* Invalidate the superblocks first, so a format interrupted half-way never looks
	 * like a pool; write them last, after the checkpoint is durable. */
	blk = vos_buf_alloc(2 * VOS_BLK);
	if (blk == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto out;
	}
	memset(blk, 0, 2 * VOS_BLK);
	rc = vos_dev_write(p, 0, blk, 2 * VOS_BLK);
	if (rc == 0 && (o.flags & CAIRN_VOS_FORMAT_PREZERO))
		rc = pool_prezero(p, &o);
	if (rc == 0)
		rc = vos_ckpt_format(p);
	if (rc == 0) {
		memcpy(blk, &p->sb, sizeof(p->sb));
		memcpy(blk + VOS_BLK, &p->sb, sizeof(p->sb));
		rc = vos_dev_write(p, 0, blk, 2 * VOS_BLK);
	}
	if (rc == 0)
		rc = vos_dev_flush(p);
	vos_buf_free(blk);
	if (rc == 0)
		CAIRN_INFO("%s: formatted VOS pool: %llu bytes, WAL %llu, checkpoint slots %llu, "
			   "data %llu", p->bdev_name, (unsigned long long)p->sb.total_size,
			   (unsigned long long)p->sb.wal_size, (unsigned long long)p->sb.ckpt_size,
			   (unsigned long long)p->sb.data_size);
out:
	pool_free(p);
	return rc;
}

/* Read and pick a valid superblock copy. Only reads. */
static int
pool_read_sb(struct vos_pool *p)
{
	struct vos_sb_df sb[2];
	int rc[2] = { -CAIRN_ERR_INVAL, -CAIRN_ERR_INVAL };
	uint64_t n = p->dev_size >= 2 * VOS_BLK ? 2 : 1;
	char *blk;
	int i, r;

	if (p->dev_size < VOS_BLK) {
		CAIRN_ERROR("%s: %llu bytes: too small to be a VOS pool", p->bdev_name,
			    (unsigned long long)p->dev_size);
		return -CAIRN_ERR_INVAL;
	}
	blk = vos_buf_alloc(2 * VOS_BLK);
	if (blk == NULL)
		return -CAIRN_ERR_NOMEM;
	r = vos_dev_read(p, 0, blk, n * VOS_BLK);
	if (r) {
		vos_buf_free(blk);
		return r;
	}
	for (i = 0; i < (int)n; i++) {
		memcpy(&sb[i], blk + i * VOS_BLK, sizeof(sb[i]));
		rc[i] = vos_sb_check(&sb[i], p->dev_size);
	}
	vos_buf_free(blk);
	for (i = 0; i < 2; i++) {
		if (rc[i] == 0) {
			if (i == 1)
				CAIRN_WARN("%s: superblock A is bad (%s), using copy B", p->bdev_name,
					   cairn_strerror(rc[0]));
			p->sb = sb[i];
			return 0;
		}
	}
	/* Report the most telling reason. */
	for (i = 0; i < 2; i++) {
		if (rc[i] == -CAIRN_ERR_VERSION) {
			CAIRN_ERROR("%s: VOS pool format version %u is newer than this software "
				    "(%u)", p->bdev_name, sb[i].version, VOS_FORMAT_VER);
			return rc[i];
		}
	}
	for (i = 0; i < 2; i++) {
		if (rc[i] == -CAIRN_ERR_TRUNC) {
			CAIRN_ERROR("%s: device has %llu bytes but the VOS pool needs %llu: "
				    "truncated", p->bdev_name, (unsigned long long)p->dev_size,
				    (unsigned long long)sb[i].total_size);
			return rc[i];
		}
	}
	if (rc[0] == -CAIRN_ERR_INVAL && rc[1] == -CAIRN_ERR_INVAL) {
		CAIRN_ERROR("%s: not a VOS pool (no superblock magic)", p->bdev_name);
		return -CAIRN_ERR_INVAL;
	}
	CAIRN_ERROR("%s: VOS superblocks are damaged (%s / %s)", p->bdev_name,
		    cairn_strerror(rc[0]), cairn_strerror(rc[1]));
	return rc[0] == -CAIRN_ERR_CSUM || rc[1] == -CAIRN_ERR_CSUM ? -CAIRN_ERR_CSUM
								     : -CAIRN_ERR_CORRUPT;
}

int
cairn_vos_pool_open(const char *bdev_name, struct cairn_vos_pool **poolp)
{
	struct vos_pool *p;
	uint64_t seq = 0, lsn = 0;
	int rc;

	if (poolp == NULL)
		return -CAIRN_ERR_INVAL;
	p = pool_alloc();
	if (p == NULL)
		return -CAIRN_ERR_NOMEM;
	rc = pool_dev_open(p, bdev_name);
	if (rc)
		goto err;
	rc = pool_read_sb(p);
	if (rc)
		goto err;
	rc = vos_idx_init(p);
	if (rc)
		goto err;
	rc = vos_ckpt_load(p, &seq, &lsn);
	if (rc)
		goto err;
	rc = vos_wal_replay(p, seq, lsn);
	if (rc)
		goto err;
	rc = vos_idx_rebuild_alloc(p);
	if (rc) {
		CAIRN_ERROR("%s: space map cannot be rebuilt: %s", p->bdev_name,
			    cairn_strerror(rc));
		goto err;
	}
	rc = vos_cache_init(&p->cache, VOS_CACHE_DEFAULT);
	if (rc)
		goto err;
	{
		const char *whole = getenv("CAIRN_VOS_CKPT_WHOLE");

		p->ckpt_whole = whole != NULL && strcmp(whole, "1") == 0;
	}
	*poolp = (struct cairn_vos_pool *)p;
	return 0;
err:
	pool_free(p);
	return rc;
}

int
cairn_vos_pool_close(struct cairn_vos_pool *pool)
{
	struct vos_pool *p;
	int rc = 0;

	if (pool == NULL)
		return -CAIRN_ERR_INVAL;
	p = &pool->p;
	vos_agg_stop(p);
	while (p->busy > 0)
		cairn_ult_sleep_us(100);
	vos_wal_drain(p);
	/* A clean close leaves nothing to replay; a failed pool is left to recovery. */
	if (!p->failed)
		rc = vos_wal_checkpoint(p);
	pool_free(p);
	return rc;
}

void
vos_pool_crash(struct cairn_vos_pool *pool)
{
	/* A background checkpoint still holds the pool: let it end (its outcome, written
	 * or not, is one a crash could leave too). */
	vos_agg_stop(&pool->p);
	vos_ckpt_wait(&pool->p);
	pool_free(&pool->p);
}

int
cairn_vos_pool_query(struct cairn_vos_pool *pool, struct cairn_vos_pool_info *info)
{
	struct vos_pool *p;
	struct cairn_vos_idx_stats st;

	if (pool == NULL || info == NULL)
		return -CAIRN_ERR_INVAL;
	p = &pool->p;
	memset(info, 0, sizeof(*info));
	memcpy(info->uuid, p->sb.uuid, 16);
	info->total_bytes = p->sb.total_size;
	info->data_bytes = p->sb.data_size;
	info->data_free = p->alloc.nfree * VOS_BLK;
	info->wal_bytes = p->sb.wal_size;
	info->wal_used = p->wal_tail - p->wal_head;
	info->inline_max = p->sb.inline_max;
	info->frames = p->stats.frames;
	info->records = p->stats.records;
	info->wal_written = p->stats.wal_bytes;
	info->checkpoints = p->stats.checkpoints;
	info->replayed = p->stats.replayed;
	info->data_written = p->stats.data_bytes;
	info->cache_bytes = p->cache.cap;
	info->cache_used = p->cache.used;
	info->cache_hits = p->cache.hits;
	info->cache_misses = p->cache.misses;
	cairn_vos_idx_stats(p->idx, &st);
	info->conts = st.conts;
	info->objs = st.objs;
	info->dkeys = st.dkeys;
	info->akeys = st.akeys;
	info->versions = st.versions;
	info->extents = st.extents;
	return 0;
}

int
cairn_vos_pool_set_cache(struct cairn_vos_pool *pool, uint64_t bytes)
{
	if (pool == NULL)
		return -CAIRN_ERR_INVAL;
	return vos_cache_resize(&pool->p.cache, bytes);
}

int
cairn_vos_pool_checkpoint(struct cairn_vos_pool *pool)
{
	if (pool == NULL)
		return -CAIRN_ERR_INVAL;
	if (pool->p.failed)
		return pool->p.failed;
	return vos_wal_checkpoint(&pool->p);
}

int
cairn_vos_pool_checkpoint_start(struct cairn_vos_pool *pool)
{
	if (pool == NULL)
		return -CAIRN_ERR_INVAL;
	if (pool->p.failed)
		return pool->p.failed;
	return vos_wal_checkpoint_start(&pool->p);
}

/* ------------------------------------------------------------------ verify */

struct verify_ctx {
	struct vos_pool *p;
	struct vos_alloc fresh;
	struct cairn_vos_idx_vrec *recs;
	uint64_t nr, cap;
	int rc;
};

static int
verify_collect(void *arg, const uint8_t cont_uuid[16], const struct cairn_vos_idx_vrec *rec)
{
	struct verify_ctx *v = arg;
	uint64_t nblk;

	if (rec->kind != CAIRN_VOS_REC_LOC)
		return 0;
	nblk = vos_round_up(rec->len ? rec->len : 1, VOS_BLK) / VOS_BLK;
	if (rec->off % VOS_BLK || rec->off > v->p->sb.data_size ||
	    vos_round_up(rec->len, VOS_BLK) > v->p->sb.data_size - rec->off ||
	    vos_alloc_mark(&v->fresh, rec->off / VOS_BLK, nblk) != 0) {
		CAIRN_ERROR("%s: extent at %llu (%u bytes) is outside the data region or "
			    "overlaps another", v->p->bdev_name, (unsigned long long)rec->off,
			    rec->len);
		v->rc = -CAIRN_ERR_CORRUPT;
		return 0;
	}
	if (v->nr == v->cap) {
		uint64_t cap = v->cap ? v->cap * 2 : 256;
		struct cairn_vos_idx_vrec *n = realloc(v->recs, cap * sizeof(*n));

		if (n == NULL)
			return -CAIRN_ERR_NOMEM;
		v->recs = n;
		v->cap = cap;
	}
	v->recs[v->nr++] = *rec;
	return 0;
}

int
cairn_vos_pool_verify(struct cairn_vos_pool *pool, uint64_t *nr_bad)
{
	struct verify_ctx v = { 0 };
	struct vos_pool *p;
	uint64_t i, bad = 0, words;
	char *buf = NULL;
	uint64_t buf_len = 0;
	int rc;

	if (pool == NULL)
		return -CAIRN_ERR_INVAL;
	p = &pool->p;
	v.p = p;
	rc = vos_alloc_init(&v.fresh, p->sb.data_size / VOS_BLK);
	if (rc)
		return rc;
	/* Collect first: the reads below yield, and the index may change meanwhile. */
	rc = cairn_vos_idx_for_each_loc(p->idx, verify_collect, &v);
	if (rc == 0)
		rc = v.rc;
	if (rc)
		goto out;
	words = (v.fresh.nblocks + 63) / 64;
	if (v.fresh.nfree != p->alloc.nfree ||
	    memcmp(v.fresh.bits, p->alloc.bits, words * sizeof(uint64_t)) != 0) {
		CAIRN_ERROR("%s: space map disagrees with the index (%llu free vs %llu)",
			    p->bdev_name, (unsigned long long)p->alloc.nfree,
			    (unsigned long long)v.fresh.nfree);
		rc = -CAIRN_ERR_CORRUPT;
		goto out;
	}
	/* Always from the device, never from the extent cache: the cache holds what was
	 * written, so it would hide damage on the device. */
	for (i = 0; i < v.nr; i++) {
		uint64_t len = vos_round_up(v.recs[i].len, VOS_BLK);

		if (len > buf_len) {
			vos_buf_free(buf);
			buf = vos_buf_alloc(len);
			buf_len = buf ? len : 0;
			if (buf == NULL) {
				rc = -CAIRN_ERR_NOMEM;
				goto out;
			}
		}
		rc = vos_dev_read(p, p->sb.data_off + v.recs[i].off, buf, len);
		if (rc)
			goto out;
		if (vos_crc32c(0, buf, v.recs[i].len) != v.recs[i].crc) {
			CAIRN_ERROR("%s: extent at %llu (%u bytes) fails its checksum",
				    p->bdev_name, (unsigned long long)v.recs[i].off, v.recs[i].len);
			/* The DRAM cache may still hold the bytes as written, and would go on
			 * serving them: drop them, so fetches report the damage from now on. */
			vos_cache_drop(&p->cache, v.recs[i].off);
			bad++;
		}
	}
	if (bad)
		rc = -CAIRN_ERR_CSUM;
out:
	if (nr_bad != NULL)
		*nr_bad = bad;
	vos_buf_free(buf);
	free(v.recs);
	vos_alloc_fini(&v.fresh);
	return rc;
}

/* ------------------------------------------------------------------ containers */

static int
pool_log_simple(struct vos_pool *p, uint16_t type, const void *body, uint32_t len, void *arg)
{
	struct vos_commit c = { .type = type, .body = body, .len = len, .apply_arg = arg };

	if (p->failed)
		return p->failed;
	vos_ckpt_hold(p);
	if (p->failed)
		return p->failed;
	return vos_wal_commit(p, &c);
}

int
vos_pool_log(struct vos_pool *p, uint16_t type, const void *body, uint32_t len, void *arg)
{
	return pool_log_simple(p, type, body, len, arg);
}

int
cairn_vos_cont_create(struct cairn_vos_pool *pool, const uint8_t uuid[16])
{
	struct cairn_vos_idx_cont *cont;

	if (pool == NULL || uuid == NULL)
		return -CAIRN_ERR_INVAL;
	if (cairn_vos_idx_cont_lookup(pool->p.idx, uuid, &cont) == 0)
		return -CAIRN_ERR_EXIST;
	return pool_log_simple(&pool->p, VOS_REC_CONT_CREATE, uuid, 16, NULL);
}

int
cairn_vos_cont_destroy(struct cairn_vos_pool *pool, const uint8_t uuid[16])
{
	struct cairn_vos_idx_cont *cont;

	if (pool == NULL || uuid == NULL)
		return -CAIRN_ERR_INVAL;
	if (cairn_vos_idx_cont_lookup(pool->p.idx, uuid, &cont) != 0)
		return -CAIRN_ERR_NONEXIST;
	return pool_log_simple(&pool->p, VOS_REC_CONT_DESTROY, uuid, 16, NULL);
}

int
cairn_vos_cont_exists(struct cairn_vos_pool *pool, const uint8_t uuid[16])
{
	struct cairn_vos_idx_cont *cont;

	if (pool == NULL || uuid == NULL)
		return 0;
	return cairn_vos_idx_cont_lookup(pool->p.idx, uuid, &cont) == 0;
}
