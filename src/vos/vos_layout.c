/*
 * Encode, seal and validate the VOS pool's on-disk structures (see vos_layout.h). Every
 * check here treats the bytes as hostile: they may come from a torn write, a flipped bit,
 * a file that was never a pool, or a fuzzer.
 */
#define CAIRN_LOG_SS CAIRN_SS_VOS
#include <string.h>

#include "cairn/errno.h"
#include "common/csum.h"
#include "common/log.h"
#include "vos_layout.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "on-disk format is little-endian");

uint32_t
vos_crc32c(uint32_t seed, const void *buf, size_t len)
{
	return cairn_crc32c(seed, buf, len);
}

/* ------------------------------------------------------------------ superblock */

int
vos_sb_init(struct vos_sb_df *sb, const uint8_t uuid[16], uint64_t dev_size, uint64_t wal_size,
	    uint64_t ckpt_size, uint32_t inline_max)
{
	uint64_t blocks = dev_size / VOS_BLK;
	uint64_t meta;

	if (dev_size < VOS_MIN_POOL_SIZE) {
		CAIRN_ERROR("device of %llu bytes is too small for a VOS pool (minimum %llu)",
			    (unsigned long long)dev_size, (unsigned long long)VOS_MIN_POOL_SIZE);
		return -CAIRN_ERR_NOSPACE;
	}
	if (wal_size == 0) {
		wal_size = blocks * VOS_BLK / 8;
		if (wal_size > (256ull << 20))
			wal_size = 256ull << 20;
	}
	if (ckpt_size == 0) {
		ckpt_size = blocks * VOS_BLK / 8;
		if (ckpt_size > (1ull << 30))
			ckpt_size = 1ull << 30;
	}
	wal_size = vos_round_up(wal_size, VOS_BLK);
	ckpt_size = vos_round_up(ckpt_size, VOS_BLK);
	if (wal_size < 16 * VOS_BLK)
		wal_size = 16 * VOS_BLK;
	if (ckpt_size < 4 * VOS_BLK)
		ckpt_size = 4 * VOS_BLK;
	if (inline_max > VOS_BLK) {
		CAIRN_ERROR("inline_max %u is above the limit %u", inline_max, VOS_BLK);
		return -CAIRN_ERR_INVAL;
	}
	if (wal_size > dev_size || ckpt_size > dev_size)
		goto too_small;
	meta = 2ull * VOS_BLK + wal_size + 2 * ckpt_size;
	if (meta + 16ull * VOS_BLK > blocks * VOS_BLK)
		goto too_small;

	memset(sb, 0, sizeof(*sb));
	sb->magic = VOS_SB_MAGIC;
	sb->version = VOS_FORMAT_VER;
	sb->sb_size = sizeof(*sb);
	memcpy(sb->uuid, uuid, 16);
	sb->total_size = blocks * VOS_BLK;
	sb->blk_size = VOS_BLK;
	sb->inline_max = inline_max;
	sb->wal_off = 2ull * VOS_BLK;
	sb->wal_size = wal_size;
	sb->ckpt_off[0] = sb->wal_off + wal_size;
	sb->ckpt_off[1] = sb->ckpt_off[0] + ckpt_size;
	sb->ckpt_size = ckpt_size;
	sb->data_off = sb->ckpt_off[1] + ckpt_size;
	sb->data_size = sb->total_size - sb->data_off;
	return 0;

too_small:
	CAIRN_ERROR("device of %llu bytes cannot hold a WAL of %llu and two checkpoints of %llu "
		    "bytes plus data", (unsigned long long)dev_size,
		    (unsigned long long)wal_size, (unsigned long long)ckpt_size);
	return -CAIRN_ERR_NOSPACE;
}

void
vos_sb_seal(struct vos_sb_df *sb)
{
	sb->crc = 0;
	sb->crc = vos_crc32c(0, sb, sizeof(*sb));
}

static bool
region_ok(uint64_t off, uint64_t size, uint64_t lo, uint64_t hi)
{
	return off % VOS_BLK == 0 && size % VOS_BLK == 0 && size > 0 && off >= lo && off <= hi &&
	       size <= hi - off;
}

int
vos_sb_check(const struct vos_sb_df *sb, uint64_t dev_size)
{
	struct vos_sb_df tmp;
	uint64_t end;

	if (sb->magic != VOS_SB_MAGIC)
		return -CAIRN_ERR_INVAL;
	memcpy(&tmp, sb, sizeof(tmp));
	tmp.crc = 0;
	if (vos_crc32c(0, &tmp, sizeof(tmp)) != sb->crc)
		return -CAIRN_ERR_CSUM;
	if (sb->version > VOS_FORMAT_VER)
		return -CAIRN_ERR_VERSION;
	if (sb->version == 0 || sb->sb_size != sizeof(*sb) || sb->blk_size != VOS_BLK ||
	    sb->inline_max > VOS_BLK)
		return -CAIRN_ERR_CORRUPT;
	if (sb->total_size % VOS_BLK || sb->total_size < VOS_MIN_POOL_SIZE)
		return -CAIRN_ERR_CORRUPT;
	end = sb->total_size;
	/* The regions must tile the pool in order without overlap. */
	if (!region_ok(sb->wal_off, sb->wal_size, 2ull * VOS_BLK, end) ||
	    sb->wal_size < 16 * VOS_BLK ||
	    !region_ok(sb->ckpt_off[0], sb->ckpt_size, sb->wal_off + sb->wal_size, end) ||
	    !region_ok(sb->ckpt_off[1], sb->ckpt_size, sb->ckpt_off[0] + sb->ckpt_size, end) ||
	    sb->ckpt_size < 4 * VOS_BLK ||
	    !region_ok(sb->data_off, sb->data_size, sb->ckpt_off[1] + sb->ckpt_size, end))
		return -CAIRN_ERR_CORRUPT;
	if (dev_size < sb->total_size)
		return -CAIRN_ERR_TRUNC;
	return 0;
}

/* ------------------------------------------------------------------ WAL frames */

bool
vos_wal_frame_hdr_ok(const struct vos_wal_frame_df *f, uint64_t tag, uint64_t seq,
		     uint64_t max_span)
{
	if (f->magic != VOS_WAL_MAGIC || f->tag != tag || f->seq != seq)
		return false;
	if ((uint64_t)f->len > max_span || vos_wal_frame_span(f->len) > max_span)
		return false;
	return true;
}

bool
vos_wal_frame_verify(const void *frame)
{
	struct vos_wal_frame_df h;
	uint32_t crc;

	memcpy(&h, frame, sizeof(h));
	h.crc = 0;
	crc = vos_crc32c(0, &h, sizeof(h));
	crc = vos_crc32c(crc, (const char *)frame + sizeof(h), h.len);
	return crc == ((const struct vos_wal_frame_df *)frame)->crc;
}

void
vos_wal_frame_seal(void *frame, uint64_t tag, uint64_t seq, uint32_t len, uint32_t nrec)
{
	struct vos_wal_frame_df *f = frame;
	size_t span = vos_wal_frame_span(len);

	f->magic = VOS_WAL_MAGIC;
	f->crc = 0;
	f->seq = seq;
	f->tag = tag;
	f->len = len;
	f->nrec = nrec;
	/* Zero the padding so stale bytes never reach the disk (and the image is stable). */
	memset((char *)frame + sizeof(*f) + len, 0, span - sizeof(*f) - len);
	f->crc = vos_crc32c(0, f, sizeof(*f));
	f->crc = vos_crc32c(f->crc, (char *)frame + sizeof(*f), len);
}

int
vos_wal_rec_next(const void *payload, uint32_t len, uint32_t *pos,
		 const struct vos_wal_rec_df **rec, const void **body)
{
	const struct vos_wal_rec_df *r;
	uint64_t end;

	if (*pos == len)
		return 0;
	if (*pos > len || len - *pos < sizeof(*r))
		return -CAIRN_ERR_CORRUPT;
	r = (const void *)((const char *)payload + *pos);
	end = (uint64_t)*pos + sizeof(*r) + vos_round_up(r->len, 8);
	if (end > len)
		return -CAIRN_ERR_CORRUPT;
	*rec = r;
	*body = r + 1;
	*pos = (uint32_t)end;
	return 1;
}

/* ------------------------------------------------------------------ checkpoints */

void
vos_ckpt_hdr_seal(struct vos_ckpt_hdr_df *h)
{
	h->crc = 0;
	h->crc = vos_crc32c(0, h, sizeof(*h));
}

int
vos_ckpt_hdr_check(const struct vos_ckpt_hdr_df *h, const struct vos_sb_df *sb)
{
	struct vos_ckpt_hdr_df tmp;

	if (h->magic != VOS_CKPT_MAGIC)
		return -CAIRN_ERR_NONEXIST;
	memcpy(&tmp, h, sizeof(tmp));
	tmp.crc = 0;
	if (vos_crc32c(0, &tmp, sizeof(tmp)) != h->crc)
		return -CAIRN_ERR_CSUM;
	if (h->version > VOS_FORMAT_VER)
		return -CAIRN_ERR_VERSION;
	if (h->tag != sb->wal_tag || h->gen == 0)
		return -CAIRN_ERR_NONEXIST;
	if (h->wal_pos % VOS_BLK || h->wal_pos >= sb->wal_size ||
	    h->wal_pos != h->wal_lsn % sb->wal_size || h->wal_seq == 0)
		return -CAIRN_ERR_CORRUPT;
	if (h->npages != vos_ckpt_npages(h->payload_len) ||
	    (uint64_t)h->npages + 1 > sb->ckpt_size / VOS_BLK)
		return -CAIRN_ERR_CORRUPT;
	return 0;
}

void
vos_ckpt_page_build(void *blk, uint64_t gen, uint32_t idx, const void *payload,
		    uint64_t payload_len)
{
	struct vos_ckpt_page_df *p = blk;
	uint64_t off = (uint64_t)idx * VOS_CPAGE_DATA;
	uint64_t n = payload_len - off < VOS_CPAGE_DATA ? payload_len - off : VOS_CPAGE_DATA;

	memset(blk, 0, VOS_BLK);
	p->magic = VOS_CPAGE_MAGIC;
	p->gen = gen;
	p->idx = idx;
	p->used = (uint32_t)n;
	memcpy(p + 1, (const char *)payload + off, n);
	p->crc = vos_crc32c(0, blk, VOS_BLK);
}

int
vos_ckpt_page_load(const void *blk, uint64_t gen, uint32_t idx, void *payload,
		   uint64_t payload_len)
{
	struct vos_ckpt_page_df p;
	uint64_t off = (uint64_t)idx * VOS_CPAGE_DATA;
	uint64_t want;
	uint32_t crc;

	if (off >= payload_len)
		return -CAIRN_ERR_CORRUPT;
	want = payload_len - off < VOS_CPAGE_DATA ? payload_len - off : VOS_CPAGE_DATA;
	memcpy(&p, blk, sizeof(p));
	if (p.magic != VOS_CPAGE_MAGIC || p.gen != gen || p.idx != idx || p.used != want)
		return -CAIRN_ERR_CORRUPT;
	p.crc = 0;
	crc = vos_crc32c(0, &p, sizeof(p));
	crc = vos_crc32c(crc, (const char *)blk + sizeof(p), VOS_BLK - sizeof(p));
	if (crc != ((const struct vos_ckpt_page_df *)blk)->crc)
		return -CAIRN_ERR_CSUM;
	memcpy((char *)payload + off, (const char *)blk + sizeof(p), want);
	return 0;
}
