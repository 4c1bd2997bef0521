/*
 * Per-target space map: encoding, validation, copy selection and the first-fit extent
 * allocator (see srv_tgt_space.h for the layout). Pure functions over caller-owned
 * memory, shared by the engine and the control plane, and fuzzed (fuzz_tgt_space).
 */
#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <cairn/errno.h>

#include "common/csum.h"

#include "srv_tgt_space.h"

#define MIB(x) ((unsigned long long)((x) >> 20))

int
srv_tgt_space_init(struct srv_tgt_space *sp, uint32_t tgt_idx,
		   const struct cairn_uuid *system_uuid, const struct cairn_uuid *engine_uuid,
		   uint64_t dev_size, uint64_t format_time)
{
	if (dev_size < SRV_TGT_MAP_SIZE)
		return -CAIRN_ERR_INVAL;
	memset(sp, 0, sizeof(*sp));
	sp->tgt_idx = tgt_idx;
	if (system_uuid)
		sp->system_uuid = *system_uuid;
	if (engine_uuid)
		sp->engine_uuid = *engine_uuid;
	sp->dev_size = dev_size;
	sp->format_time = format_time;
	sp->cur_copy = 1; /* so that the first map written is copy 0 */
	return 0;
}

static uint32_t
map_crc(const struct srv_tgt_map_hdr_df *hdr, const void *ext, size_t ext_len)
{
	struct srv_tgt_map_hdr_df h = *hdr;

	h.crc = 0;
	return cairn_crc32c(cairn_crc32c(0, &h, sizeof(h)), ext, ext_len);
}

int
srv_tgt_space_encode(const struct srv_tgt_space *sp, uint64_t seq, void *buf, size_t len)
{
	struct srv_tgt_map_hdr_df *h = buf;
	struct srv_tgt_extent_df *e;
	size_t need, io;
	unsigned i;

	need = sizeof(*h) + (size_t)sp->nr * sizeof(*e);
	io = (need + SRV_TGT_IO_ALIGN - 1) / SRV_TGT_IO_ALIGN * SRV_TGT_IO_ALIGN;
	if (sp->nr > SRV_TGT_MAX_EXTENTS || len < io)
		return -CAIRN_ERR_TRUNC;
	memset(buf, 0, io);
	h->magic = htole64(SRV_TGT_MAGIC);
	h->version = htole32(SRV_TGT_VERSION);
	h->hdr_size = htole32(sizeof(*h));
	h->seq = htole64(seq);
	h->tgt_idx = htole32(sp->tgt_idx);
	h->nr_extents = htole32(sp->nr);
	memcpy(h->system_uuid, sp->system_uuid.b, 16);
	memcpy(h->engine_uuid, sp->engine_uuid.b, 16);
	h->dev_size = htole64(sp->dev_size);
	h->data_start = htole64(SRV_TGT_MAP_SIZE);
	h->format_time = htole64(sp->format_time);
	e = (struct srv_tgt_extent_df *)(h + 1);
	for (i = 0; i < sp->nr; i++) {
		memcpy(e[i].pool, sp->ext[i].pool.b, 16);
		e[i].offset = htole64(sp->ext[i].offset);
		e[i].size = htole64(sp->ext[i].size);
		e[i].state = htole32(sp->ext[i].state);
	}
	h->crc = htole32(map_crc(h, e, (size_t)sp->nr * sizeof(*e)));
	return (int)io;
}

static bool
all_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

int
srv_tgt_space_decode(const void *buf, size_t len, struct srv_tgt_space *sp, char *why,
		     size_t whylen)
{
	/* buf may be any bytes at any alignment (a fuzzer, a misaligned read): copy the
	 * header and each extent out before looking at them. */
	struct srv_tgt_map_hdr_df hdr, *h = &hdr;
	struct srv_tgt_extent_df ext, *e = &ext;
	const uint8_t *etab;
	uint64_t prev_end, off, size;
	uint32_t nr, crc;
	unsigned i, j;

	if (len < sizeof(*h)) {
		snprintf(why, whylen, "%zu bytes, shorter than the %zu-byte header", len,
			 sizeof(*h));
		return -CAIRN_ERR_CORRUPT;
	}
	memcpy(&hdr, buf, sizeof(hdr));
	if (le64toh(h->magic) != SRV_TGT_MAGIC) {
		if (all_zero(buf, sizeof(*h))) {
			snprintf(why, whylen, "never written (all zeros)");
			return -CAIRN_ERR_NONEXIST;
		}
		snprintf(why, whylen, "bad magic %#" PRIx64 " (not a Cairn target)",
			 le64toh(h->magic));
		return -CAIRN_ERR_CORRUPT;
	}
	if (le32toh(h->version) != SRV_TGT_VERSION) {
		snprintf(why, whylen, "format version %u, this engine knows %u",
			 le32toh(h->version), SRV_TGT_VERSION);
		return -CAIRN_ERR_VERSION;
	}
	nr = le32toh(h->nr_extents);
	if (le32toh(h->hdr_size) != sizeof(*h) || nr > SRV_TGT_MAX_EXTENTS ||
	    sizeof(*h) + (size_t)nr * sizeof(*e) > len) {
		snprintf(why, whylen, "header size %u / %u extents do not fit a %zu-byte copy",
			 le32toh(h->hdr_size), nr, len);
		return -CAIRN_ERR_CORRUPT;
	}
	etab = (const uint8_t *)buf + sizeof(*h);
	crc = map_crc(h, etab, (size_t)nr * sizeof(*e));
	if (crc != le32toh(h->crc)) {
		snprintf(why, whylen, "CRC mismatch (stored %#x, computed %#x)", le32toh(h->crc),
			 crc);
		return -CAIRN_ERR_CORRUPT;
	}
	memset(sp, 0, offsetof(struct srv_tgt_space, ext));
	sp->seq = le64toh(h->seq);
	sp->tgt_idx = le32toh(h->tgt_idx);
	memcpy(sp->system_uuid.b, h->system_uuid, 16);
	memcpy(sp->engine_uuid.b, h->engine_uuid, 16);
	sp->dev_size = le64toh(h->dev_size);
	sp->format_time = le64toh(h->format_time);
	if (le64toh(h->data_start) != SRV_TGT_MAP_SIZE || sp->dev_size < SRV_TGT_MAP_SIZE ||
	    sp->seq == 0) {
		snprintf(why, whylen, "data start %" PRIu64 ", device size %" PRIu64 ", seq %" PRIu64
			 ": expected %llu, >= that, >= 1", le64toh(h->data_start), sp->dev_size,
			 sp->seq, (unsigned long long)SRV_TGT_MAP_SIZE);
		return -CAIRN_ERR_CORRUPT;
	}
	prev_end = SRV_TGT_MAP_SIZE;
	for (i = 0; i < nr; i++) {
		memcpy(&ext, etab + (size_t)i * sizeof(ext), sizeof(ext));
		off = le64toh(e->offset);
		size = le64toh(e->size);
		if (size == 0 || off % SRV_TGT_ALIGN || size % SRV_TGT_ALIGN) {
			snprintf(why, whylen, "extent %u [%" PRIu64 ", +%" PRIu64 ") is empty or not "
				 "aligned to %llu bytes", i, off, size, (unsigned long long)SRV_TGT_ALIGN);
			return -CAIRN_ERR_CORRUPT;
		}
		if (off < prev_end) {
			snprintf(why, whylen, "extent %u at %" PRIu64 " overlaps the map or the "
				 "previous extent (ends at %" PRIu64 ")", i, off, prev_end);
			return -CAIRN_ERR_CORRUPT;
		}
		if (off > sp->dev_size || size > sp->dev_size - off) {
			snprintf(why, whylen, "extent %u [%" PRIu64 ", +%" PRIu64 ") is beyond the "
				 "device end %" PRIu64, i, off, size, sp->dev_size);
			return -CAIRN_ERR_CORRUPT;
		}
		if (le32toh(e->state) != SRV_TGT_EXT_CREATING &&
		    le32toh(e->state) != SRV_TGT_EXT_ACTIVE) {
			snprintf(why, whylen, "extent %u has unknown state %u", i,
				 le32toh(e->state));
			return -CAIRN_ERR_CORRUPT;
		}
		memcpy(sp->ext[i].pool.b, e->pool, 16);
		if (cairn_uuid_is_null(&sp->ext[i].pool)) {
			snprintf(why, whylen, "extent %u has no pool uuid", i);
			return -CAIRN_ERR_CORRUPT;
		}
		for (j = 0; j < i; j++) {
			if (cairn_uuid_equal(&sp->ext[j].pool, &sp->ext[i].pool)) {
				snprintf(why, whylen, "extents %u and %u belong to the same pool",
					 j, i);
				return -CAIRN_ERR_CORRUPT;
			}
		}
		sp->ext[i].offset = off;
		sp->ext[i].size = size;
		sp->ext[i].state = le32toh(e->state);
		prev_end = off + size;
	}
	sp->nr = nr;
	return 0;
}

int
srv_tgt_space_load(const void *copy0, size_t len0, const void *copy1, size_t len1,
		   struct srv_tgt_space *sp, bool *one_bad, char *why, size_t whylen)
{
	/* Decode copy 1, remember its sequence, then copy 0 over it; copy 1 is decoded
	 * again only when it wins (sp is large: no second copy of it is kept). */
	char why0[160] = "", why1[160] = "";
	uint64_t seq1 = 0;
	int rc0, rc1;

	*one_bad = false;
	rc1 = srv_tgt_space_decode(copy1, len1, sp, why1, sizeof(why1));
	if (rc1 == 0)
		seq1 = sp->seq;
	rc0 = srv_tgt_space_decode(copy0, len0, sp, why0, sizeof(why0));
	if (rc0 == 0 && (rc1 != 0 || sp->seq > seq1)) {
		sp->cur_copy = 0;
		*one_bad = rc1 != 0 && rc1 != -CAIRN_ERR_NONEXIST;
		if (*one_bad)
			snprintf(why, whylen, "copy 1: %s", why1);
		return 0;
	}
	if (rc1 == 0) {
		/* copy 1 wins: decode it again (sp was overwritten by copy 0's attempt) */
		rc1 = srv_tgt_space_decode(copy1, len1, sp, why1, sizeof(why1));
		sp->cur_copy = 1;
		*one_bad = rc0 != 0 && rc0 != -CAIRN_ERR_NONEXIST;
		if (*one_bad)
			snprintf(why, whylen, "copy 0: %s", why0);
		return rc1;
	}
	snprintf(why, whylen, "copy 0: %s; copy 1: %s", why0, why1);
	return rc0 == -CAIRN_ERR_NONEXIST ? rc1 == -CAIRN_ERR_NONEXIST ? rc0 : rc1 : rc0;
}

struct srv_tgt_extent *
srv_tgt_space_find(struct srv_tgt_space *sp, const struct cairn_uuid *pool)
{
	for (unsigned i = 0; i < sp->nr; i++)
		if (cairn_uuid_equal(&sp->ext[i].pool, pool))
			return &sp->ext[i];
	return NULL;
}

uint64_t
srv_tgt_space_round(uint64_t size)
{
	if (size > UINT64_MAX - (SRV_TGT_ALIGN - 1))
		return 0;
	return (size + SRV_TGT_ALIGN - 1) & ~(SRV_TGT_ALIGN - 1);
}

/* Usable end of the device (the last partial unit is not handed out). */
static uint64_t
space_end(const struct srv_tgt_space *sp)
{
	return sp->dev_size & ~(SRV_TGT_ALIGN - 1);
}

/* First gap of at least `need` bytes: index to insert at and offset; false if none. */
static bool
first_fit(const struct srv_tgt_space *sp, uint64_t need, unsigned *idx, uint64_t *off)
{
	uint64_t start = SRV_TGT_MAP_SIZE, end = space_end(sp);
	unsigned i;

	for (i = 0; i <= sp->nr; i++) {
		uint64_t gap_end = i < sp->nr ? sp->ext[i].offset : end;

		if (gap_end > start && gap_end - start >= need) {
			*idx = i;
			*off = start;
			return true;
		}
		if (i < sp->nr)
			start = sp->ext[i].offset + sp->ext[i].size;
	}
	return false;
}

void
srv_tgt_space_usage(const struct srv_tgt_space *sp, struct srv_tgt_usage *u)
{
	uint64_t start = SRV_TGT_MAP_SIZE, end = space_end(sp);
	unsigned i;

	memset(u, 0, sizeof(*u));
	u->dev_size = sp->dev_size;
	u->capacity = end > SRV_TGT_MAP_SIZE ? end - SRV_TGT_MAP_SIZE : 0;
	u->nr_extents = sp->nr;
	for (i = 0; i <= sp->nr; i++) {
		uint64_t gap_end = i < sp->nr ? sp->ext[i].offset : end;

		if (gap_end > start && gap_end - start > u->largest_free)
			u->largest_free = gap_end - start;
		if (i < sp->nr) {
			u->used += sp->ext[i].size;
			start = sp->ext[i].offset + sp->ext[i].size;
		}
	}
	u->free = u->capacity > u->used ? u->capacity - u->used : 0;
}

int
srv_tgt_space_check(const struct srv_tgt_space *sp, uint64_t size, char *err, size_t errlen)
{
	struct srv_tgt_usage u;
	uint64_t need = srv_tgt_space_round(size);
	unsigned idx;
	uint64_t off;

	if (need != 0 && first_fit(sp, need, &idx, &off))
		return 0;
	srv_tgt_space_usage(sp, &u);
	snprintf(err, errlen,
		 "not enough space on target %u: %llu MiB asked, %llu MiB free of %llu MiB, "
		 "largest free extent %llu MiB; create a smaller pool, destroy one, or format "
		 "larger targets", sp->tgt_idx, MIB(need ? need : size), MIB(u.free),
		 MIB(u.capacity), MIB(u.largest_free));
	return -CAIRN_ERR_NOSPACE;
}

int
srv_tgt_space_alloc(struct srv_tgt_space *sp, const struct cairn_uuid *pool, uint64_t size,
		    uint32_t state, struct srv_tgt_extent *ext, char *err, size_t errlen)
{
	uint64_t need = srv_tgt_space_round(size), off;
	unsigned idx;
	int rc;

	if (size == 0 || (state != SRV_TGT_EXT_CREATING && state != SRV_TGT_EXT_ACTIVE) ||
	    cairn_uuid_is_null(pool)) {
		snprintf(err, errlen, "invalid allocation (size %llu, state %u)",
			 (unsigned long long)size, state);
		return -CAIRN_ERR_INVAL;
	}
	if (srv_tgt_space_find(sp, pool)) {
		snprintf(err, errlen, "target %u already has an extent for this pool",
			 sp->tgt_idx);
		return -CAIRN_ERR_EXIST;
	}
	if (sp->nr == SRV_TGT_MAX_EXTENTS) {
		snprintf(err, errlen, "target %u holds %u extents, the most a space map can",
			 sp->tgt_idx, SRV_TGT_MAX_EXTENTS);
		return -CAIRN_ERR_OVERFLOW;
	}
	rc = srv_tgt_space_check(sp, size, err, errlen);
	if (rc)
		return rc;
	first_fit(sp, need, &idx, &off);
	memmove(&sp->ext[idx + 1], &sp->ext[idx], (sp->nr - idx) * sizeof(sp->ext[0]));
	sp->ext[idx].pool = *pool;
	sp->ext[idx].offset = off;
	sp->ext[idx].size = need;
	sp->ext[idx].state = state;
	sp->nr++;
	if (ext)
		*ext = sp->ext[idx];
	return 0;
}

int
srv_tgt_space_free(struct srv_tgt_space *sp, const struct cairn_uuid *pool)
{
	struct srv_tgt_extent *e = srv_tgt_space_find(sp, pool);
	unsigned idx;

	if (e == NULL)
		return -CAIRN_ERR_NONEXIST;
	idx = (unsigned)(e - sp->ext);
	memmove(e, e + 1, (sp->nr - idx - 1) * sizeof(*e));
	sp->nr--;
	return 0;
}
