/*
 * Object layouts by jump consistent hashing over the pool map's placement buckets
 * (algorithm in src/include/placement/placement.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "common/hash.h"
#include "placement_internal.h"

/* Rehash attempts before the linear scan. */
#define PL_REHASH_MAX 32

uint32_t
cairn_jump_hash(uint64_t key, uint32_t nbuckets)
{
	int64_t b = -1, j = 0;

	/* Lamping & Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm" (2014):
	 * a linear congruential step drives the jumps from bucket to bucket. */
	while (j < (int64_t)nbuckets) {
		b = j;
		key = key * 2862933555777941757ull + 1;
		j = (int64_t)((double)(b + 1) * ((double)(1ull << 31) / (double)((key >> 33) + 1)));
	}
	return b < 0 ? 0 : (uint32_t)b;
}

uint64_t
cairn_pl_oid_hash(struct cairn_obj_id oid)
{
	return cairn_hash_combine(cairn_hash_u64(oid.lo), oid.hi);
}

struct pl_ctx {
	const struct cairn_pool_map *map;
	const struct pl_oclass_attr *attr;
	uint8_t *used;    /* [ntgts] target holds a shard of this object */
	uint8_t *claimed; /* [ntgts] target is some shard's claim */
	uint32_t *out;    /* [nr] layout shards */
	uint32_t *claim;  /* [nr] state-blind choice of each shard */
	bool blind;       /* choosing claims: ignore target states */
};

/* Whether shard `shard` (of the group starting at grp_first) may go to tgt. Blind:
 * not claimed, rank not claimed in the group. Otherwise: UP, unused, rank not used in
 * the group. */
static bool
acceptable(const struct pl_ctx *c, uint32_t tgt, uint32_t grp_first, uint32_t shard)
{
	const struct cairn_pool_map *m = c->map;
	const uint32_t *taken = c->blind ? c->claim : c->out;

	if (c->blind ? c->claimed[tgt] != 0
		     : (m->tgts[tgt].state != CAIRN_TGT_UP || c->used[tgt] != 0))
		return false;
	if (c->attr->distinct_ranks) {
		uint32_t rank_idx = m->tgts[tgt].rank_idx;

		for (uint32_t s = grp_first; s < grp_first + c->attr->grp_size; s++) {
			if (s != shard && taken[s] != CAIRN_PL_TGT_NONE &&
			    m->tgts[taken[s]].rank_idx == rank_idx)
				return false;
		}
	}
	return true;
}

static uint32_t
home_bucket(const struct pl_ctx *c, uint64_t ohash, uint32_t shard)
{
	uint32_t n = c->map->nbuckets;

	if (c->attr->grp_nr == 0) /* SX: a rotation covers every bucket exactly once */
		return (cairn_jump_hash(ohash, n) + shard) % n;
	return cairn_jump_hash(cairn_hash_combine(ohash, shard), n);
}

/* Home first, then rehash attempts, then a scan from home: the first acceptable. */
static uint32_t
choose(struct pl_ctx *c, uint64_t ohash, uint32_t shard, uint32_t grp_first)
{
	const struct cairn_pool_map *m = c->map;
	uint64_t key = cairn_hash_combine(ohash, shard);
	uint32_t home = home_bucket(c, ohash, shard), b;

	if (acceptable(c, m->buckets[home], grp_first, shard))
		return m->buckets[home];

	if (c->attr->grp_nr != 0) {
		for (uint32_t a = 1; a <= PL_REHASH_MAX; a++) {
			b = cairn_jump_hash(cairn_hash_combine(key, a), m->nbuckets);
			if (acceptable(c, m->buckets[b], grp_first, shard))
				return m->buckets[b];
		}
	}
	for (uint32_t i = 1; i < m->nbuckets; i++) {
		b = (home + i) % m->nbuckets;
		if (acceptable(c, m->buckets[b], grp_first, shard))
			return m->buckets[b];
	}
	return CAIRN_PL_TGT_NONE;
}

/* Ranks that own at least one placement bucket. */
static uint32_t
placement_ranks(const struct cairn_pool_map *m, uint8_t *seen)
{
	uint32_t n = 0;

	memset(seen, 0, m->nranks);
	for (uint32_t i = 0; i < m->nbuckets; i++) {
		uint32_t r = m->tgts[m->buckets[i]].rank_idx;

		if (!seen[r]) {
			seen[r] = 1;
			n++;
		}
	}
	return n;
}

int
cairn_pl_obj_layout(struct cairn_pool_map *map, struct cairn_obj_id oid,
		    struct cairn_pl_layout *layout)
{
	enum cairn_oclass oc = cairn_obj_id_class(oid);
	struct pl_ctx c = { .map = map, .attr = pl_oclass_attr(oc) };
	uint32_t grp_nr, nr;
	uint64_t ohash;
	int rc = 0;

	if (layout == NULL)
		return -CAIRN_ERR_INVAL;
	memset(layout, 0, sizeof(*layout));
	if (map == NULL || c.attr == NULL)
		return -CAIRN_ERR_INVAL;

	pthread_rwlock_rdlock(&map->lock);
	if (map->nbuckets == 0) {
		rc = -CAIRN_ERR_INVAL;
		goto out_unlock;
	}
	grp_nr = c.attr->grp_nr ? c.attr->grp_nr : map->nbuckets;
	nr = grp_nr * c.attr->grp_size;
	if (nr > map->nbuckets) {
		rc = -CAIRN_ERR_INVAL;
		goto out_unlock;
	}
	c.used = calloc(map->ntgts > map->nranks ? map->ntgts : map->nranks, 1);
	c.claimed = calloc(map->ntgts, 1);
	c.out = malloc((size_t)nr * sizeof(*c.out));
	c.claim = malloc((size_t)nr * sizeof(*c.claim));
	if (c.used == NULL || c.claimed == NULL || c.out == NULL || c.claim == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto out_free;
	}
	if (c.attr->distinct_ranks && placement_ranks(map, c.used) < c.attr->grp_size) {
		rc = -CAIRN_ERR_INVAL;
		goto out_free;
	}
	memset(c.used, 0, map->ntgts);

	/*
	 * Pass 1, blind to target states: each shard, in order, claims its home or the
	 * first acceptable target of its fallback chain (not claimed, distinct rank for
	 * replicas). Claims do not depend on which targets failed.
	 * Pass 2: shards whose claim is UP are placed there.
	 * Pass 3: the others (their claim failed) walk their chain again for an UP target
	 * nobody holds. A failure therefore moves only the shards on the failed target.
	 */
	ohash = cairn_pl_oid_hash(oid);
	for (uint32_t s = 0; s < nr; s++)
		c.out[s] = c.claim[s] = CAIRN_PL_TGT_NONE;
	c.blind = true;
	for (uint32_t s = 0; s < nr; s++) {
		uint32_t t = choose(&c, ohash, s, s - s % c.attr->grp_size);

		/* nr <= nbuckets and enough ranks (checked above): always found */
		c.claim[s] = t;
		if (t != CAIRN_PL_TGT_NONE)
			c.claimed[t] = 1;
	}
	for (uint32_t s = 0; s < nr; s++) {
		uint32_t t = c.claim[s];

		if (t != CAIRN_PL_TGT_NONE && map->tgts[t].state == CAIRN_TGT_UP) {
			c.out[s] = t;
			c.used[t] = 1;
		}
	}
	c.blind = false;
	for (uint32_t s = 0; s < nr; s++) {
		uint32_t t;

		if (c.out[s] != CAIRN_PL_TGT_NONE)
			continue;
		if ((map->flags & CAIRN_PMAP_F_NO_REBUILD) && c.attr->grp_size == 1 &&
		    c.claim[s] != CAIRN_PL_TGT_NONE &&
		    map->tgts[c.claim[s]].state == CAIRN_TGT_DOWN) {
			layout->nr_degraded++; /* its data is on the DOWN target only */
			continue;
		}
		t = choose(&c, ohash, s, s - s % c.attr->grp_size);
		c.out[s] = t;
		if (t == CAIRN_PL_TGT_NONE)
			layout->nr_degraded++;
		else
			c.used[t] = 1;
	}
	layout->map_version = map->version;
	layout->oclass = oc;
	layout->grp_nr = grp_nr;
	layout->grp_size = c.attr->grp_size;
	layout->nr = nr;
	layout->shards = c.out;
	c.out = NULL;
out_free:
	free(c.used);
	free(c.claimed);
	free(c.claim);
	free(c.out);
out_unlock:
	pthread_rwlock_unlock(&map->lock);
	if (rc != 0)
		memset(layout, 0, sizeof(*layout));
	return rc;
}

void
cairn_pl_layout_fini(struct cairn_pl_layout *layout)
{
	if (layout == NULL)
		return;
	free(layout->shards);
	layout->shards = NULL;
	layout->nr = 0;
}

uint32_t
cairn_pl_dkey_group(const struct cairn_pl_layout *layout, uint64_t dkey_hash)
{
	if (layout->grp_nr <= 1)
		return 0;
	return cairn_jump_hash(cairn_hash_u64(dkey_hash), layout->grp_nr);
}

int
cairn_pl_dkey_target(struct cairn_pool_map *map, const struct cairn_pl_layout *layout,
		     uint64_t dkey_hash, uint32_t *tgt)
{
	int rc;

	if (map == NULL || layout == NULL || tgt == NULL || layout->nr == 0)
		return -CAIRN_ERR_INVAL;
	rc = cairn_pmap_check_version(map, layout->map_version);
	if (rc != 0)
		return rc;
	*tgt = layout->shards[cairn_pl_dkey_group(layout, dkey_hash) * layout->grp_size];
	return 0;
}
