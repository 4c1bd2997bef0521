/*
 * Pool map wire form (encode/decode). Layout, all little-endian:
 *
 *   header (28 bytes)
 *     0  u32 magic "CRPM"        12 u32 nranks
 *     4  u16 format version (1)  16 u32 ntgts
 *     6  u16 flags (CAIRN_PMAP_F_*) 20 u32 nbuckets
 *     8  u32 map version         24 u32 CRC32C of everything, this field zero
 *   ranks[nranks]      u32 rank, u32 fault domain, u32 ntgts   (12 bytes each)
 *   states[ntgts]      u8 enum cairn_tgt_state (targets in global id order)
 *   buckets[nbuckets]  u32 target id, in placement order
 *
 * Target ids follow from the rank order (rank i's targets come after rank i-1's).
 * Decoding trusts nothing: every count, state and bucket is checked, and the buckets
 * must be exactly the targets that are not NEW.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "common/csum.h"
#include "placement_internal.h"

#define RANK_WIRE_SIZE 12u

struct pmap_hdr_wire {
	uint32_t magic;
	uint16_t format;
	uint16_t reserved;
	uint32_t version;
	uint32_t nranks;
	uint32_t ntgts;
	uint32_t nbuckets;
	uint32_t crc;
};
_Static_assert(sizeof(struct pmap_hdr_wire) == CAIRN_PMAP_WIRE_HDR_SIZE, "pool map header");

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static uint32_t
wire_crc(const uint8_t *buf, size_t len)
{
	static const uint8_t zero[4];
	uint32_t crc;

	crc = cairn_crc32c(0, buf, 24);
	crc = cairn_crc32c(crc, zero, sizeof(zero));
	return cairn_crc32c(crc, buf + CAIRN_PMAP_WIRE_HDR_SIZE, len - CAIRN_PMAP_WIRE_HDR_SIZE);
}

static size_t
encoded_size_locked(const struct cairn_pool_map *m)
{
	return CAIRN_PMAP_WIRE_HDR_SIZE + (size_t)m->nranks * RANK_WIRE_SIZE + m->ntgts +
	       (size_t)m->nbuckets * 4;
}

size_t
cairn_pmap_encoded_size(struct cairn_pool_map *map)
{
	size_t n;

	pthread_rwlock_rdlock(&map->lock);
	n = encoded_size_locked(map);
	pthread_rwlock_unlock(&map->lock);
	return n;
}

int
cairn_pmap_encode(struct cairn_pool_map *map, void *buf, size_t len, size_t *used)
{
	uint8_t *b = buf, *p;
	size_t need;
	int rc = 0;

	if (map == NULL || buf == NULL || used == NULL)
		return -CAIRN_ERR_INVAL;
	pthread_rwlock_rdlock(&map->lock);
	need = encoded_size_locked(map);
	if (len < need) {
		rc = -CAIRN_ERR_TRUNC;
		goto out;
	}
	put32(b, CAIRN_PMAP_WIRE_MAGIC);
	b[4] = (uint8_t)CAIRN_PMAP_WIRE_VERSION;
	b[5] = (uint8_t)(CAIRN_PMAP_WIRE_VERSION >> 8);
	b[6] = (uint8_t)map->flags;
	b[7] = (uint8_t)(map->flags >> 8);
	put32(b + 8, map->version);
	put32(b + 12, map->nranks);
	put32(b + 16, map->ntgts);
	put32(b + 20, map->nbuckets);
	put32(b + 24, 0);
	p = b + CAIRN_PMAP_WIRE_HDR_SIZE;
	for (uint32_t i = 0; i < map->nranks; i++, p += RANK_WIRE_SIZE) {
		put32(p, map->ranks[i].rank);
		put32(p + 4, map->ranks[i].domain);
		put32(p + 8, map->ranks[i].ntgts);
	}
	for (uint32_t i = 0; i < map->ntgts; i++)
		*p++ = (uint8_t)map->tgts[i].state;
	for (uint32_t i = 0; i < map->nbuckets; i++, p += 4)
		put32(p, map->buckets[i]);
	put32(b + 24, wire_crc(b, need));
	*used = need;
out:
	pthread_rwlock_unlock(&map->lock);
	return rc;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
cairn_pmap_decode(const void *buf, size_t len, struct cairn_pool_map **out)
{
	const uint8_t *b = buf, *p;
	struct cairn_pool_map *m = NULL;
	uint32_t version, nranks, ntgts, nbuckets, sum = 0, nplaced = 0;
	uint32_t *sorted = NULL;
	uint8_t *seen = NULL;
	uint16_t format;
	size_t need;
	int rc;

	if (buf == NULL || out == NULL)
		return -CAIRN_ERR_INVAL;
	if (len < CAIRN_PMAP_WIRE_HDR_SIZE || get32(b) != CAIRN_PMAP_WIRE_MAGIC)
		return -CAIRN_ERR_PROTO;
	format = (uint16_t)(b[4] | (b[5] << 8));
	if (format != CAIRN_PMAP_WIRE_VERSION)
		return format > CAIRN_PMAP_WIRE_VERSION ? -CAIRN_ERR_VERSION : -CAIRN_ERR_PROTO;
	version = get32(b + 8);
	nranks = get32(b + 12);
	ntgts = get32(b + 16);
	nbuckets = get32(b + 20);
	if (((uint32_t)(b[6] | (b[7] << 8)) & ~CAIRN_PMAP_F_ALL) != 0 || version == 0 ||
	    ntgts > CAIRN_PMAP_MAX_TARGETS ||
	    nranks > ntgts || nbuckets > ntgts)
		return -CAIRN_ERR_PROTO;
	need = CAIRN_PMAP_WIRE_HDR_SIZE + (size_t)nranks * RANK_WIRE_SIZE + ntgts +
	       (size_t)nbuckets * 4;
	if (len != need)
		return -CAIRN_ERR_PROTO;
	if (get32(b + 24) != wire_crc(b, len))
		return -CAIRN_ERR_CSUM;

	rc = cairn_pmap_create(version, &m);
	if (rc != 0)
		return rc;
	m->ranks = calloc(nranks ? nranks : 1, sizeof(*m->ranks));
	m->tgts = calloc(ntgts ? ntgts : 1, sizeof(*m->tgts));
	m->buckets = calloc(nbuckets ? nbuckets : 1, sizeof(*m->buckets));
	sorted = calloc(nranks ? nranks : 1, sizeof(*sorted));
	seen = calloc(ntgts ? ntgts : 1, 1);
	if (m->ranks == NULL || m->tgts == NULL || m->buckets == NULL || sorted == NULL ||
	    seen == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto err;
	}
	m->ranks_cap = nranks;
	m->tgts_cap = ntgts;
	m->flags = (uint32_t)(b[6] | (b[7] << 8));
	rc = -CAIRN_ERR_PROTO;
	p = b + CAIRN_PMAP_WIRE_HDR_SIZE;
	for (uint32_t i = 0; i < nranks; i++, p += RANK_WIRE_SIZE) {
		struct pl_rank *r = &m->ranks[i];

		r->rank = get32(p);
		r->domain = get32(p + 4);
		r->ntgts = get32(p + 8);
		if (r->ntgts == 0 || r->ntgts > CAIRN_PMAP_MAX_TGTS_PER_RANK ||
		    r->ntgts > ntgts - sum)
			goto err;
		r->first_tgt = sum;
		for (uint32_t t = 0; t < r->ntgts; t++)
			m->tgts[sum + t] = (struct pl_target){ .rank_idx = i, .index = t };
		sum += r->ntgts;
		sorted[i] = r->rank;
	}
	if (sum != ntgts)
		goto err;
	qsort(sorted, nranks, sizeof(*sorted), cmp_u32);
	for (uint32_t i = 1; i < nranks; i++) {
		if (sorted[i] == sorted[i - 1])
			goto err; /* duplicate rank */
	}
	for (uint32_t i = 0; i < ntgts; i++) {
		if (p[i] >= CAIRN_TGT_STATE_MAX)
			goto err;
		m->tgts[i].state = (enum cairn_tgt_state)p[i];
		nplaced += p[i] != CAIRN_TGT_NEW;
	}
	p += ntgts;
	if (nplaced != nbuckets)
		goto err;
	for (uint32_t i = 0; i < nbuckets; i++, p += 4) {
		uint32_t t = get32(p);

		if (t >= ntgts || seen[t] || m->tgts[t].state == CAIRN_TGT_NEW)
			goto err;
		seen[t] = 1;
		m->buckets[i] = t;
	}
	m->nranks = nranks;
	m->ntgts = ntgts;
	m->nbuckets = nbuckets;
	free(sorted);
	free(seen);
	*out = m;
	return 0;
err:
	free(sorted);
	free(seen);
	cairn_pmap_destroy(m);
	return rc;
}
