/*
 * VOS pool on-disk layout: superblock, WAL frames, checkpoint pages, and the CRC32C helper.
 * Pure encode/decode/validate on memory buffers: no I/O here, so every parser can be unit
 * tested and fuzzed on plain buffers. All multi-byte fields are little-endian (the only
 * hosts we build for are little-endian; a _Static_assert in vos_layout.c keeps it honest).
 *
 * Pool layout (byte offsets; everything aligned to VOS_BLK = 4 KiB):
 *   [0, 4K)           superblock copy A
 *   [4K, 8K)          superblock copy B (identical; either one suffices)
 *   [wal_off, +wal_size)        WAL: circular sequence of frames, each a whole number of
 *                               blocks starting on a block boundary
 *   [ckpt_off[0], +ckpt_size)   checkpoint slot 0 (header block, then pages)
 *   [ckpt_off[1], +ckpt_size)   checkpoint slot 1 (alternates with slot 0)
 *   [data_off, +data_size)      data region: extents handed out by the allocator
 */
#ifndef CAIRN_VOS_LAYOUT_H
#define CAIRN_VOS_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VOS_BLK          4096u
#define VOS_BLK_SHIFT    12
#define VOS_SB_MAGIC     0x534f564e52494143ull /* "CAIRNVOS" */
#define VOS_FORMAT_VER   1u
#define VOS_WAL_MAGIC    0x4c415756u /* "VWAL" */
#define VOS_CKPT_MAGIC   0x54504b43u /* "CKPT" */
#define VOS_CPAGE_MAGIC  0x45474150u /* "PAGE" */

/* Smallest device we format (256 KiB): superblocks, 16 WAL blocks, two checkpoint slots
 * of at least 4 blocks, and some data blocks. */
#define VOS_MIN_POOL_SIZE (64ull * VOS_BLK)

static inline uint64_t
vos_round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* CRC32C (Castagnoli, iSCSI polynomial) via ISA-L; seed 0 for a fresh checksum. */
uint32_t vos_crc32c(uint32_t seed, const void *buf, size_t len);

/* ------------------------------------------------------------------ superblock */

struct vos_sb_df {
	uint64_t magic;      /* VOS_SB_MAGIC */
	uint32_t version;    /* VOS_FORMAT_VER */
	uint32_t sb_size;    /* sizeof(struct vos_sb_df) */
	uint8_t uuid[16];    /* pool UUID */
	uint64_t total_size; /* bytes of the device the pool was formatted on */
	uint32_t blk_size;   /* VOS_BLK */
	uint32_t inline_max; /* values up to this size live in the WAL / checkpoint */
	uint64_t wal_off;
	uint64_t wal_size;
	uint64_t ckpt_off[2];
	uint64_t ckpt_size;
	uint64_t data_off;
	uint64_t data_size;
	uint64_t wal_tag;    /* stamped in every WAL frame: frames of an older format of the
			      * same device never replay into this one */
	uint64_t format_time;
	uint32_t reserved[9];
	uint32_t crc;        /* CRC32C of the struct with crc = 0 */
};
_Static_assert(sizeof(struct vos_sb_df) == 160, "vos_sb_df size is part of the format");

/* Sizes a new pool: fills every region field of sb from the device size and the wanted
 * WAL/checkpoint sizes (0 = defaults). Returns 0 or -CAIRN_ERR_INVAL / -CAIRN_ERR_NOSPACE
 * (device too small) with a logged reason. */
int vos_sb_init(struct vos_sb_df *sb, const uint8_t uuid[16], uint64_t dev_size,
		uint64_t wal_size, uint64_t ckpt_size, uint32_t inline_max);
void vos_sb_seal(struct vos_sb_df *sb);
/* Validate one superblock copy read from a device of dev_size bytes.
 * -CAIRN_ERR_INVAL: not a VOS pool (bad magic), -CAIRN_ERR_VERSION: newer format,
 * -CAIRN_ERR_CSUM: checksum mismatch, -CAIRN_ERR_CORRUPT: fields inconsistent,
 * -CAIRN_ERR_TRUNC: the device is smaller than the pool. */
int vos_sb_check(const struct vos_sb_df *sb, uint64_t dev_size);

/* ------------------------------------------------------------------ WAL frames */

/* A frame is one group commit: a header followed by records, padded to whole blocks. */
struct vos_wal_frame_df {
	uint32_t magic;   /* VOS_WAL_MAGIC */
	uint32_t crc;     /* CRC32C over header (crc = 0) + payload */
	uint64_t seq;     /* frame sequence number, +1 per frame, never reused */
	uint64_t tag;     /* sb.wal_tag */
	uint32_t len;     /* payload bytes following the header */
	uint32_t nrec;    /* records in the payload */
};
_Static_assert(sizeof(struct vos_wal_frame_df) == 32, "wal frame header size is on disk");

/* One record inside a frame payload; body follows, padded to 8 bytes. */
struct vos_wal_rec_df {
	uint16_t type;    /* enum vos_wal_rec_type */
	uint16_t flags;
	uint32_t len;     /* body bytes */
};
_Static_assert(sizeof(struct vos_wal_rec_df) == 8, "wal record header size is on disk");

/* Bytes a frame with payload_len occupies on disk. */
static inline uint64_t
vos_wal_frame_span(uint64_t payload_len)
{
	return vos_round_up(sizeof(struct vos_wal_frame_df) + payload_len, VOS_BLK);
}

/* Check a frame header found at a WAL position: magic, tag, expected seq, sane length
 * (header + len must fit in max_span bytes). Returns true when the header matches; the
 * payload CRC is checked separately with vos_wal_frame_verify(). */
bool vos_wal_frame_hdr_ok(const struct vos_wal_frame_df *f, uint64_t tag, uint64_t seq,
			  uint64_t max_span);
/* Verify the CRC of a complete frame (header + f->len payload bytes, contiguous). */
bool vos_wal_frame_verify(const void *frame);
/* Seal a frame in place: fills magic/tag/seq/len/nrec and the CRC. */
void vos_wal_frame_seal(void *frame, uint64_t tag, uint64_t seq, uint32_t len, uint32_t nrec);

/* Walk the records of a verified payload. *pos starts at 0. Returns 1 with rec/body set,
 * 0 at the end, -CAIRN_ERR_CORRUPT when a record overflows the payload. */
int vos_wal_rec_next(const void *payload, uint32_t len, uint32_t *pos,
		     const struct vos_wal_rec_df **rec, const void **body);

/* ------------------------------------------------------------------ checkpoints */

/* Block 0 of a checkpoint slot. Written last, after every page is durable. */
struct vos_ckpt_hdr_df {
	uint32_t magic;       /* VOS_CKPT_MAGIC */
	uint32_t version;     /* VOS_FORMAT_VER */
	uint64_t gen;         /* checkpoint generation, +1 per checkpoint; 0 = never written */
	uint64_t tag;         /* sb.wal_tag */
	uint64_t wal_seq;     /* first WAL frame sequence to replay after loading */
	uint64_t wal_lsn;     /* its logical WAL offset (grows forever) */
	uint64_t wal_pos;     /* its byte position inside the WAL region (lsn % wal_size) */
	uint64_t payload_len; /* bytes of checkpoint payload in the pages */
	uint32_t npages;      /* pages after the header block */
	uint32_t payload_crc; /* CRC32C of the whole payload */
	uint32_t reserved;
	uint32_t crc;         /* CRC32C of this struct with crc = 0 */
};
_Static_assert(sizeof(struct vos_ckpt_hdr_df) == 72, "checkpoint header size is on disk");

/* Header of each checkpoint page (one block); VOS_CPAGE_DATA payload bytes follow. */
struct vos_ckpt_page_df {
	uint32_t magic;   /* VOS_CPAGE_MAGIC */
	uint32_t crc;     /* CRC32C of the whole block with crc = 0 */
	uint64_t gen;     /* checkpoint generation this page belongs to */
	uint32_t idx;     /* page index */
	uint32_t used;    /* payload bytes used in this page */
};
_Static_assert(sizeof(struct vos_ckpt_page_df) == 24, "checkpoint page header size is on disk");
#define VOS_CPAGE_DATA (VOS_BLK - sizeof(struct vos_ckpt_page_df))

/* Pages needed for a payload of len bytes. */
static inline uint64_t
vos_ckpt_npages(uint64_t len)
{
	return (len + VOS_CPAGE_DATA - 1) / VOS_CPAGE_DATA;
}

void vos_ckpt_hdr_seal(struct vos_ckpt_hdr_df *h);
/* 0, or -CAIRN_ERR_CSUM / -CAIRN_ERR_CORRUPT / -CAIRN_ERR_VERSION / -CAIRN_ERR_NONEXIST
 * (slot never written). Checks fields against the superblock (sizes, tag). */
int vos_ckpt_hdr_check(const struct vos_ckpt_hdr_df *h, const struct vos_sb_df *sb);
/* Build page idx of a payload into blk (VOS_BLK bytes). */
void vos_ckpt_page_build(void *blk, uint64_t gen, uint32_t idx, const void *payload,
			 uint64_t payload_len);
/* Validate page idx of generation gen; on success copies its bytes into payload
 * (payload_len = total length). 0 or -CAIRN_ERR_CSUM / -CAIRN_ERR_CORRUPT. */
int vos_ckpt_page_load(const void *blk, uint64_t gen, uint32_t idx, void *payload,
		       uint64_t payload_len);

#endif /* CAIRN_VOS_LAYOUT_H */
