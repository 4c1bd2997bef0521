/* Private to src/placement. */
#ifndef CAIRN_PLACEMENT_INTERNAL_H
#define CAIRN_PLACEMENT_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "placement/placement.h"

struct pl_oclass_attr {
	const char *name;
	uint32_t grp_nr;   /* 0: one group per placement bucket (SX) */
	uint32_t grp_size; /* replicas per group */
	bool distinct_ranks;
};

/* Attributes of a valid class, NULL otherwise. */
const struct pl_oclass_attr *pl_oclass_attr(enum cairn_oclass oc);

struct pl_rank {
	uint32_t rank;
	uint32_t domain;
	uint32_t first_tgt; /* global id of its first target */
	uint32_t ntgts;
};

struct pl_target {
	uint32_t rank_idx; /* index into map->ranks */
	uint32_t index;    /* within the rank */
	enum cairn_tgt_state state;
};

struct cairn_pool_map {
	pthread_rwlock_t lock;
	uint32_t version;
	uint32_t nranks, ranks_cap;
	struct pl_rank *ranks;
	uint32_t ntgts, tgts_cap;
	struct pl_target *tgts;
	/* Placement buckets: ids of the targets that are not NEW, ascending. */
	uint32_t nbuckets;
	uint32_t *buckets;
	uint32_t flags; /* CAIRN_PMAP_F_* */
};

#endif /* CAIRN_PLACEMENT_INTERNAL_H */
