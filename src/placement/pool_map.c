/*
 * Pool map: ranks, their targets and states, fault domains, versions.
 *
 * Placement buckets are appended when a target joins placement (added UP, or NEW->UP)
 * and never removed or reordered, so a target keeps its bucket for life and jump
 * hashing moves only what lands on new buckets.
 */
#include <stdlib.h>

#include "cairn/errno.h"
#include "placement_internal.h"

int
cairn_pmap_create(uint32_t version, struct cairn_pool_map **out)
{
	struct cairn_pool_map *map;

	if (out == NULL || version == 0)
		return -CAIRN_ERR_INVAL;
	map = calloc(1, sizeof(*map));
	if (map == NULL)
		return -CAIRN_ERR_NOMEM;
	if (pthread_rwlock_init(&map->lock, NULL) != 0) {
		free(map);
		return -CAIRN_ERR_NOMEM;
	}
	map->version = version;
	*out = map;
	return 0;
}

int
cairn_pmap_set_flags(struct cairn_pool_map *map, uint32_t flags)
{
	if (map == NULL || (flags & ~CAIRN_PMAP_F_ALL) != 0)
		return -CAIRN_ERR_INVAL;
	pthread_rwlock_wrlock(&map->lock);
	map->flags = flags;
	pthread_rwlock_unlock(&map->lock);
	return 0;
}

uint32_t
cairn_pmap_flags(struct cairn_pool_map *map)
{
	uint32_t f;

	pthread_rwlock_rdlock(&map->lock);
	f = map->flags;
	pthread_rwlock_unlock(&map->lock);
	return f;
}

void
cairn_pmap_destroy(struct cairn_pool_map *map)
{
	if (map == NULL)
		return;
	pthread_rwlock_destroy(&map->lock);
	free(map->ranks);
	free(map->tgts);
	free(map->buckets);
	free(map);
}

static int
grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 8;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, (size_t)ncap * elem);
	if (p == NULL)
		return -CAIRN_ERR_NOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int
cairn_pmap_add_rank(struct cairn_pool_map *map, uint32_t rank, uint32_t domain, uint32_t ntgts,
		    enum cairn_tgt_state state, bool bump)
{
	uint32_t bcap;
	int rc;

	/* DOWN only while building a map from a stored description (no bump) */
	if (map == NULL || ntgts == 0 || ntgts > CAIRN_PMAP_MAX_TGTS_PER_RANK ||
	    (state != CAIRN_TGT_UP && state != CAIRN_TGT_NEW &&
	     !(state == CAIRN_TGT_DOWN && !bump)))
		return -CAIRN_ERR_INVAL;
	pthread_rwlock_wrlock(&map->lock);
	for (uint32_t i = 0; i < map->nranks; i++) {
		if (map->ranks[i].rank == rank) {
			rc = -CAIRN_ERR_EXIST;
			goto out;
		}
	}
	if (map->ntgts + ntgts > CAIRN_PMAP_MAX_TARGETS || (bump && map->version == UINT32_MAX)) {
		rc = -CAIRN_ERR_OVERFLOW;
		goto out;
	}
	rc = grow((void **)&map->ranks, &map->ranks_cap, map->nranks + 1, sizeof(*map->ranks));
	if (rc != 0)
		goto out;
	rc = grow((void **)&map->tgts, &map->tgts_cap, map->ntgts + ntgts, sizeof(*map->tgts));
	if (rc != 0)
		goto out;
	/* buckets never outnumber targets: size them alongside */
	bcap = map->nbuckets;
	if (state != CAIRN_TGT_NEW) {
		uint32_t *b = realloc(map->buckets, (size_t)(bcap + ntgts) * sizeof(*b));

		if (b == NULL) {
			rc = -CAIRN_ERR_NOMEM;
			goto out;
		}
		map->buckets = b;
	}
	map->ranks[map->nranks] = (struct pl_rank){
		.rank = rank, .domain = domain, .first_tgt = map->ntgts, .ntgts = ntgts
	};
	for (uint32_t i = 0; i < ntgts; i++) {
		map->tgts[map->ntgts + i] = (struct pl_target){
			.rank_idx = map->nranks, .index = i, .state = state
		};
		if (state != CAIRN_TGT_NEW)
			map->buckets[map->nbuckets++] = map->ntgts + i;
	}
	map->nranks++;
	map->ntgts += ntgts;
	if (bump)
		map->version++;
out:
	pthread_rwlock_unlock(&map->lock);
	return rc;
}

static bool
transition_ok(enum cairn_tgt_state from, enum cairn_tgt_state to)
{
	switch (to) {
	case CAIRN_TGT_DOWN:
		return from == CAIRN_TGT_UP;
	case CAIRN_TGT_DOWNOUT:
		return from == CAIRN_TGT_DOWN;
	case CAIRN_TGT_UP:
		return from == CAIRN_TGT_DOWN || from == CAIRN_TGT_DOWNOUT ||
		       from == CAIRN_TGT_NEW;
	default:
		return false;
	}
}

int
cairn_pmap_set_target_state(struct cairn_pool_map *map, uint32_t tgt_id,
			    enum cairn_tgt_state state)
{
	struct pl_target *t;
	int rc = 0;

	if (map == NULL || (int)state < 0 || state >= CAIRN_TGT_STATE_MAX)
		return -CAIRN_ERR_INVAL;
	pthread_rwlock_wrlock(&map->lock);
	if (tgt_id >= map->ntgts) {
		rc = -CAIRN_ERR_NONEXIST;
		goto out;
	}
	t = &map->tgts[tgt_id];
	if (!transition_ok(t->state, state) || map->version == UINT32_MAX) {
		rc = -CAIRN_ERR_INVAL;
		goto out;
	}
	if (t->state == CAIRN_TGT_NEW) {
		uint32_t *b = realloc(map->buckets, (size_t)(map->nbuckets + 1) * sizeof(*b));

		if (b == NULL) {
			rc = -CAIRN_ERR_NOMEM;
			goto out;
		}
		map->buckets = b;
		map->buckets[map->nbuckets++] = tgt_id;
	}
	t->state = state;
	map->version++;
out:
	pthread_rwlock_unlock(&map->lock);
	return rc;
}

uint32_t
cairn_pmap_version(struct cairn_pool_map *map)
{
	uint32_t v;

	pthread_rwlock_rdlock(&map->lock);
	v = map->version;
	pthread_rwlock_unlock(&map->lock);
	return v;
}

uint32_t
cairn_pmap_target_count(struct cairn_pool_map *map)
{
	uint32_t n;

	pthread_rwlock_rdlock(&map->lock);
	n = map->ntgts;
	pthread_rwlock_unlock(&map->lock);
	return n;
}

uint32_t
cairn_pmap_rank_count(struct cairn_pool_map *map)
{
	uint32_t n;

	pthread_rwlock_rdlock(&map->lock);
	n = map->nranks;
	pthread_rwlock_unlock(&map->lock);
	return n;
}

int
cairn_pmap_target(struct cairn_pool_map *map, uint32_t tgt_id, struct cairn_pmap_target *out)
{
	const struct pl_target *t;
	const struct pl_rank *r;
	int rc = 0;

	if (map == NULL || out == NULL)
		return -CAIRN_ERR_INVAL;
	pthread_rwlock_rdlock(&map->lock);
	if (tgt_id >= map->ntgts) {
		rc = -CAIRN_ERR_NONEXIST;
	} else {
		t = &map->tgts[tgt_id];
		r = &map->ranks[t->rank_idx];
		*out = (struct cairn_pmap_target){
			.id = tgt_id, .rank = r->rank, .index = t->index, .domain = r->domain,
			.state = t->state,
		};
	}
	pthread_rwlock_unlock(&map->lock);
	return rc;
}

int
cairn_pmap_check_version(struct cairn_pool_map *map, uint32_t version)
{
	uint32_t cur = cairn_pmap_version(map);

	if (version == cur)
		return 0;
	return version < cur ? -CAIRN_ERR_STALE : -CAIRN_ERR_VERSION;
}
