/*
 * The engine's `pool` module: the pool service, on the system xstream. It owns the pool
 * table (uuid, label, size per target, target count, map version), keeps it durable in
 * the metadata store (srv_md.c) and creates/destroys the pools' VOS shards on every
 * target (srv_vos.c). Reached over dRPC (CAIRN_DRPC_MODULE_POOL) from cairn-server;
 * request and reply bodies are JSON objects (see README.md).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_POOL
#include "common/json.h"
#include "common/log.h"
#include "drpc/drpc.h"
#include "engine/proto.h"
#include "placement/placement.h"
#include "rt/module.h"
#include "rt/rt.h"

#include "engine_internal.h"
#include "srv_acl.h"
#include "srv_group.h"
#include "srv_internal.h"
#include "srv_pool.h"
#include "srv_pool_map.h"

/* Durable pool record (little-endian host layout; version bumps on change). */
#define POOL_MD_MAGIC 0x4c4f4f50u /* "POOL" */
#define POOL_MD_VERSION 2 /* 1: one rank (144 bytes, no rank table) */
#define POOL_MD_V1_SIZE 144
struct pool_md_rank_df {
	uint32_t rank;
	uint16_t nr_targets;
	uint16_t down;
};
struct pool_md_df {
	uint32_t magic;
	uint16_t version;
	uint16_t flags;
	uint8_t uuid[16];
	char label[SRV_LABEL_MAX];
	uint64_t size_per_target;
	uint32_t nr_targets;
	uint32_t map_version;
	uint64_t ctime;
	uint8_t reserved[28];
	uint32_t nr_ranks; /* v2: ranks[] below */
	struct pool_md_rank_df ranks[SRV_POOL_MAX_RANKS];
};
_Static_assert(sizeof(struct pool_md_df) == POOL_MD_V1_SIZE + 8 * SRV_POOL_MAX_RANKS,
               "pool_md_df is 272 bytes");

static struct srv_pool g_pools[SRV_MAX_POOLS];

/* Pools destroyed (forced) while some of their ranks were down: those ranks still hold
 * shards and a target record; they are told to remove them when they rejoin. */
#define POOL_GONE_MAGIC 0x454e4f47u /* "GONE" */
struct pool_gone_df {
	uint32_t magic;
	uint32_t nr_ranks;
	uint8_t uuid[16];
	uint32_t ranks[SRV_POOL_MAX_RANKS];
};
_Static_assert(sizeof(struct pool_gone_df) == 24 + 4 * SRV_POOL_MAX_RANKS, "pool_gone_df");
static struct pool_gone_df g_gone[SRV_MAX_POOLS]; /* nr_ranks 0: free */
static struct cairn_mutex g_pool_lock; /* serialises create/destroy (they yield) */
static bool g_pool_lock_init;

/* Map versions for any xstream (srv_pool_map.h): entry i follows g_pools[i]; `ver` is
 * published last (release) and 0 means unused. */
static struct {
	uint64_t uuid[2];
	uint32_t ver;
} g_map_vers[SRV_MAX_POOLS];

static void
pool_map_ver_publish(const struct srv_pool *p)
{
	unsigned i = (unsigned)(p - g_pools);
	uint64_t w[2];

	memcpy(w, p->uuid.b, 16);
	__atomic_store_n(&g_map_vers[i].ver, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&g_map_vers[i].uuid[0], w[0], __ATOMIC_RELAXED);
	__atomic_store_n(&g_map_vers[i].uuid[1], w[1], __ATOMIC_RELAXED);
	__atomic_store_n(&g_map_vers[i].ver, p->used ? p->map_version : 0, __ATOMIC_RELEASE);
}

uint32_t
srv_pool_map_version_of(const uint8_t uuid[16])
{
	uint64_t w[2];
	unsigned i;

	memcpy(w, uuid, 16);
	for (i = 0; i < SRV_MAX_POOLS; i++) {
		uint32_t v = __atomic_load_n(&g_map_vers[i].ver, __ATOMIC_ACQUIRE);

		if (v != 0 && __atomic_load_n(&g_map_vers[i].uuid[0], __ATOMIC_RELAXED) == w[0] &&
		    __atomic_load_n(&g_map_vers[i].uuid[1], __ATOMIC_RELAXED) == w[1] &&
		    __atomic_load_n(&g_map_vers[i].ver, __ATOMIC_ACQUIRE) == v)
			return v;
	}
	return srv_pool_tgt_map_version_of(uuid); /* shards held for another rank's service */
}

/* ------------------------------------------------------------------ table */

void
srv_pool_md_lock(void)
{
	cairn_mutex_lock(&g_pool_lock);
}

void
srv_pool_md_unlock(void)
{
	cairn_mutex_unlock(&g_pool_lock);
}

struct srv_pool *
srv_pool_lookup(const char *id)
{
	struct cairn_uuid u;
	unsigned i;
	bool by_uuid = cairn_uuid_parse(id, &u) == 0;

	for (i = 0; i < SRV_MAX_POOLS; i++) {
		struct srv_pool *p = &g_pools[i];

		if (!p->used)
			continue;
		if (by_uuid ? cairn_uuid_equal(&p->uuid, &u) : strcmp(p->label, id) == 0)
			return p;
	}
	return NULL;
}

struct srv_pool *
srv_pool_lookup_uuid(const struct cairn_uuid *u)
{
	unsigned i;

	for (i = 0; i < SRV_MAX_POOLS; i++)
		if (g_pools[i].used && cairn_uuid_equal(&g_pools[i].uuid, u))
			return &g_pools[i];
	return NULL;
}

int
srv_label_check(const char *label, char *err, size_t errlen)
{
	struct cairn_uuid u;
	size_t i, n = strlen(label);

	if (n == 0 || n >= SRV_LABEL_MAX) {
		snprintf(err, errlen, "label must be 1..%d characters", SRV_LABEL_MAX - 1);
		return -CAIRN_ERR_INVAL;
	}
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)label[i]) && label[i] != '_' && label[i] != '-' &&
		    label[i] != '.') {
			snprintf(err, errlen,
			         "label '%s': character %zu is not a letter, digit, '_', '-' or '.'",
			         label, i);
			return -CAIRN_ERR_INVAL;
		}
	}
	if (cairn_uuid_parse(label, &u) == 0) {
		snprintf(err, errlen, "a label cannot look like a UUID");
		return -CAIRN_ERR_INVAL;
	}
	return 0;
}

static void
pool_to_df(const struct srv_pool *p, struct pool_md_df *df)
{
	memset(df, 0, sizeof(*df));
	df->magic = POOL_MD_MAGIC;
	df->version = POOL_MD_VERSION;
	memcpy(df->uuid, p->uuid.b, 16);
	snprintf(df->label, sizeof(df->label), "%s", p->label);
	df->size_per_target = p->size_per_target;
	df->nr_targets = p->nr_targets;
	df->map_version = p->map_version;
	df->ctime = p->ctime;
	df->nr_ranks = p->nr_ranks;
	for (unsigned i = 0; i < p->nr_ranks && i < SRV_POOL_MAX_RANKS; i++) {
		df->ranks[i].rank = p->ranks[i].rank;
		df->ranks[i].nr_targets = p->ranks[i].nr_targets;
		df->ranks[i].down = p->ranks[i].down;
	}
}

static int
pool_from_df(const struct pool_md_df *df, uint32_t len, struct srv_pool *p)
{
	uint32_t sum = 0;
	unsigned i;
	bool v1 = len == POOL_MD_V1_SIZE && df->version == 1;

	if ((!v1 && (len != sizeof(*df) || df->version != POOL_MD_VERSION)) ||
	    df->magic != POOL_MD_MAGIC || memchr(df->label, '\0', sizeof(df->label)) == NULL ||
	    df->nr_targets == 0 || df->nr_targets > SRV_POOL_MAX_RANKS * ENGINE_MAX_TARGETS)
		return -CAIRN_ERR_CORRUPT;
	if (v1 && df->nr_targets > ENGINE_MAX_TARGETS)
		return -CAIRN_ERR_CORRUPT;
	if (!v1) {
		if (df->nr_ranks == 0 || df->nr_ranks > SRV_POOL_MAX_RANKS)
			return -CAIRN_ERR_CORRUPT;
		for (i = 0; i < df->nr_ranks; i++) {
			if (df->ranks[i].nr_targets == 0 ||
			    df->ranks[i].nr_targets > ENGINE_MAX_TARGETS || df->ranks[i].down > 1 ||
			    (i > 0 && df->ranks[i].rank <= df->ranks[i - 1].rank))
				return -CAIRN_ERR_CORRUPT;
			sum += df->ranks[i].nr_targets;
		}
		if (sum != df->nr_targets)
			return -CAIRN_ERR_CORRUPT;
	}
	memset(p, 0, sizeof(*p));
	memcpy(p->uuid.b, df->uuid, 16);
	snprintf(p->label, sizeof(p->label), "%s", df->label);
	p->size_per_target = df->size_per_target;
	p->nr_targets = df->nr_targets;
	p->map_version = df->map_version;
	p->ctime = df->ctime;
	if (v1) {
		/* a record from before multi-rank pools: all targets on this engine */
		p->nr_ranks = 1;
		p->ranks[0].rank = engine_info()->rank < 0 ? 0 : (uint32_t)engine_info()->rank;
		p->ranks[0].nr_targets = (uint16_t)df->nr_targets;
	} else {
		p->nr_ranks = df->nr_ranks;
		for (i = 0; i < df->nr_ranks; i++) {
			p->ranks[i].rank = df->ranks[i].rank;
			p->ranks[i].nr_targets = df->ranks[i].nr_targets;
			p->ranks[i].down = df->ranks[i].down;
		}
	}
	p->used = true;
	return 0;
}

bool
srv_pool_has_rank(const struct srv_pool *p, uint32_t rank)
{
	unsigned i;

	for (i = 0; i < p->nr_ranks; i++)
		if (p->ranks[i].rank == rank)
			return true;
	return false;
}

static uint32_t
self_rank(void)
{
	return engine_info()->rank < 0 ? 0 : (uint32_t)engine_info()->rank;
}

static int
pool_load_one(void *arg, const void *key, uint32_t klen)
{
	struct pool_md_df df;
	uint32_t len = sizeof(df);
	struct srv_pool *slot = NULL;
	char us[CAIRN_UUID_STR_LEN];
	unsigned i;
	int rc;

	if (klen != 16)
		return 0;
	rc = srv_md_get(SRV_MD_POOLS, key, klen, &df, &len);
	if (rc == -CAIRN_ERR_NONEXIST)
		return 0;
	for (i = 0; i < SRV_MAX_POOLS && slot == NULL; i++)
		if (!g_pools[i].used)
			slot = &g_pools[i];
	if (rc == 0 && slot == NULL)
		rc = -CAIRN_ERR_OVERFLOW;
	if (rc == 0)
		rc = pool_from_df(&df, len, slot);
	if (rc) {
		cairn_uuid_unparse(key, us);
		CAIRN_ERROR("pool %s: metadata record unusable: %s", us, cairn_strerror(rc));
		return 0;
	}
	cairn_uuid_unparse(&slot->uuid, us);
	rc = srv_pool_acl_load(slot);
	if (rc) {
		CAIRN_ERROR("pool %s: cannot load its ACL: %s", us, cairn_strerror(rc));
		return rc;
	}
	pool_map_ver_publish(slot);
	CAIRN_NOTE("pool %s (%s) loaded", us, slot->label);
	return 0;
}

/* ------------------------------------------------------------------ handles */

struct pool_hdl {
	struct srv_pool *pool; /* NULL: free */
	uint64_t cookie;
	uint32_t perms; /* SRV_ACL_* granted at connect */
};
static struct pool_hdl g_hdls[SRV_POOL_MAX_HANDLES];

int
srv_pool_handle_add(struct srv_pool *p, uint64_t *cookie)
{
	struct cairn_uuid r;
	unsigned i;

	for (i = 0; i < SRV_POOL_MAX_HANDLES; i++) {
		if (g_hdls[i].pool)
			continue;
		cairn_uuid_generate(&r); /* random bits for the cookie */
		memcpy(&g_hdls[i].cookie, r.b, sizeof(uint64_t));
		g_hdls[i].cookie |= 1; /* never 0 */
		g_hdls[i].pool = p;
		g_hdls[i].perms = SRV_ACL_ALL;
		p->nr_handles++;
		*cookie = g_hdls[i].cookie;
		return 0;
	}
	return -CAIRN_ERR_OVERFLOW;
}

int
srv_pool_handle_del(struct srv_pool *p, uint64_t cookie)
{
	unsigned i;

	for (i = 0; i < SRV_POOL_MAX_HANDLES; i++) {
		if (g_hdls[i].pool == p && g_hdls[i].cookie == cookie) {
			g_hdls[i].pool = NULL;
			p->nr_handles--;
			return 0;
		}
	}
	return -CAIRN_ERR_NOHANDLE;
}

bool
srv_pool_handle_valid(const struct srv_pool *p, uint64_t cookie)
{
	unsigned i;

	for (i = 0; i < SRV_POOL_MAX_HANDLES; i++)
		if (g_hdls[i].pool == p && g_hdls[i].cookie == cookie)
			return true;
	return false;
}

uint32_t
srv_pool_handle_perms(const struct srv_pool *p, uint64_t cookie)
{
	unsigned i;

	for (i = 0; i < SRV_POOL_MAX_HANDLES; i++)
		if (g_hdls[i].pool == p && g_hdls[i].cookie == cookie)
			return g_hdls[i].perms;
	return 0;
}

void
srv_pool_handle_set_perms(struct srv_pool *p, uint64_t cookie, uint32_t perms)
{
	unsigned i;

	for (i = 0; i < SRV_POOL_MAX_HANDLES; i++)
		if (g_hdls[i].pool == p && g_hdls[i].cookie == cookie)
			g_hdls[i].perms = perms;
}

void
srv_pool_handles_drop(struct srv_pool *p)
{
	unsigned i;

	for (i = 0; i < SRV_POOL_MAX_HANDLES; i++)
		if (g_hdls[i].pool == p)
			g_hdls[i].pool = NULL;
	p->nr_handles = 0;
}

/* ------------------------------------------------------------------ operations */

int
srv_pool_create(const char *label, uint64_t size, struct srv_pool **out, char *err,
                size_t errlen)
{
	return srv_pool_create_owned(label, size, NULL, NULL, out, err, errlen);
}

int
srv_pool_create_owned(const char *label, uint64_t size, const char *owner, const char *group,
                      struct srv_pool **out, char *err, size_t errlen)
{
	return srv_pool_create_ranks(label, size, owner, group, NULL, 0, out, err, errlen);
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The pool's ranks: the ones asked (checked: joined, distinct) or every joined rank. */
static int
pool_pick_ranks(const uint32_t *want, unsigned n, uint32_t *ranks, unsigned *nr, char *err,
                size_t errlen)
{
	unsigned i;

	if ((want == NULL || n == 0) && srv_group_version() == 0) {
		ranks[0] = self_rank(); /* no membership table: a one-engine system */
		n = 1;
	} else if (want == NULL || n == 0) {
		n = srv_group_joined(ranks, SRV_POOL_MAX_RANKS);
		if (n == 0) {
			snprintf(err, errlen, "no joined rank to create the pool on");
			return -CAIRN_ERR_UNREACH;
		}
		if (n > SRV_POOL_MAX_RANKS) {
			snprintf(err, errlen, "%u joined ranks; a pool spans at most %d: give "
			         "the ranks (--ranks)", n, SRV_POOL_MAX_RANKS);
			return -CAIRN_ERR_INVAL;
		}
	} else {
		if (n > SRV_POOL_MAX_RANKS) {
			snprintf(err, errlen, "%u ranks given; a pool spans at most %d", n,
			         SRV_POOL_MAX_RANKS);
			return -CAIRN_ERR_INVAL;
		}
		memcpy(ranks, want, n * sizeof(*ranks));
		qsort(ranks, n, sizeof(*ranks), u32_cmp);
		for (i = 0; i < n; i++) {
			if (i > 0 && ranks[i] == ranks[i - 1]) {
				snprintf(err, errlen, "rank %u given twice", ranks[i]);
				return -CAIRN_ERR_INVAL;
			}
			if (ranks[i] != self_rank() && !srv_group_rank_joined(ranks[i])) {
				snprintf(err, errlen, "rank %u is not joined (see `cairnctl system "
				         "query`)", ranks[i]);
				return -CAIRN_ERR_UNREACH;
			}
		}
	}
	/* Container metadata and the local halves of container operations live with the
	 * pool service, so its own rank holds shards of every pool. */
	for (i = 0; i < n && ranks[i] != self_rank(); i++)
		;
	if (i == n) {
		snprintf(err, errlen, "the ranks must include rank %u, which runs the pool "
		         "service", self_rank());
		return -CAIRN_ERR_INVAL;
	}
	*nr = n;
	return 0;
}

/* Remove the pool's shards from ranks[0..n) (remote ones over the network). */
static int
pool_shards_destroy(const struct cairn_uuid *uuid, const struct srv_pool_rank *ranks,
                    unsigned n, bool quiet)
{
	struct pool_tgt_in in = {0};
	unsigned i;
	int rc = 0, one;

	memcpy(in.uuid, uuid->b, 16);
	for (i = 0; i < n; i++) {
		if (ranks[i].rank == self_rank())
			one = srv_vos_shards_destroy(uuid);
		else
			one = srv_pool_tgt_call(ranks[i].rank, POOL_RPC_TGT_DESTROY, &in, NULL);
		if (one && !quiet)
			CAIRN_WARN("rank %u: cannot remove the pool's shards: %s", ranks[i].rank,
			           cairn_strerror(one));
		if (one && rc == 0)
			rc = one;
	}
	return rc;
}

/* Create the shards on every rank; on failure those made are removed again. */
static int
pool_shards_create(struct srv_pool *p, const uint32_t *ranks, unsigned n, char *err,
                   size_t errlen)
{
	struct pool_tgt_in in = {.size = p->size_per_target, .map_version = p->map_version};
	struct pool_tgt_out o;
	unsigned i;
	int rc = 0;

	memcpy(in.uuid, p->uuid.b, 16);
	p->nr_ranks = 0;
	p->nr_targets = 0;
	for (i = 0; i < n; i++) {
		memset(&o, 0, sizeof(o));
		if (ranks[i] == self_rank()) {
			rc = srv_vos_shards_create(&p->uuid, p->size_per_target);
			o.targets = engine_info()->targets;
		} else {
			rc = srv_pool_tgt_call(ranks[i], POOL_RPC_TGT_CREATE, &in, &o);
			if (rc == 0 && (o.targets == 0 || o.targets > ENGINE_MAX_TARGETS))
				rc = -CAIRN_ERR_PROTO;
		}
		if (rc && ranks[i] != self_rank() && rc != -CAIRN_ERR_EXIST) {
			/* it may have made them and the answer got lost: remove, quietly */
			struct srv_pool_rank r = {.rank = ranks[i]};

			pool_shards_destroy(&p->uuid, &r, 1, true);
		}
		if (rc) {
			snprintf(err, errlen, "cannot create the pool's shards on rank %u: %s%s",
			         ranks[i], cairn_strerror(rc),
			         rc == -CAIRN_ERR_NOSPACE ? " (not enough space on the storage)"
			         : rc == -CAIRN_ERR_UNREACH ? " (is the rank joined?)" : "");
			break;
		}
		p->ranks[i].rank = ranks[i];
		p->ranks[i].nr_targets = (uint16_t)o.targets;
		p->ranks[i].down = 0;
		p->nr_ranks = i + 1;
		p->nr_targets += o.targets;
	}
	if (rc) {
		pool_shards_destroy(&p->uuid, p->ranks, p->nr_ranks, false);
		p->nr_ranks = 0;
	}
	return rc;
}

int
srv_pool_create_ranks(const char *label, uint64_t size, const char *owner, const char *group,
                      const uint32_t *want, unsigned nr_want, struct srv_pool **out,
                      char *err, size_t errlen)
{
	uint32_t ranks[SRV_POOL_MAX_RANKS];
	struct srv_pool *p = NULL;
	struct pool_md_df df;
	unsigned i, nr = 0;
	int rc;

	if (!srv_md_ready() || srv_vos_pools_dir() == NULL) {
		snprintf(err, errlen, "this engine has no storage (start it with -s DIR)");
		return -CAIRN_ERR_NOSYS;
	}
	rc = srv_label_check(label, err, errlen);
	if (rc)
		return rc;
	if (owner || group) {
		char tmp[SRV_ACL_NAME_MAX];

		if ((owner && (rc = srv_acl_name_norm(owner, tmp, err, errlen)) != 0) ||
		    (group && (rc = srv_acl_name_norm(group, tmp, err, errlen)) != 0))
			return rc;
	}
	if (size < SRV_SHARD_MIN_SIZE || size > SRV_SHARD_MAX_SIZE) {
		snprintf(err, errlen, "size per target must be 16M..1T, got %llu bytes",
		         (unsigned long long)size);
		return -CAIRN_ERR_INVAL;
	}
	size &= ~4095ull;
	cairn_mutex_lock(&g_pool_lock);
	rc = pool_pick_ranks(want, nr_want, ranks, &nr, err, errlen);
	if (rc)
		goto out;
	if (srv_pool_lookup(label)) {
		snprintf(err, errlen, "a pool labelled '%s' exists", label);
		rc = -CAIRN_ERR_EXIST;
		goto out;
	}
	for (i = 0; i < SRV_MAX_POOLS && p == NULL; i++)
		if (!g_pools[i].used)
			p = &g_pools[i];
	if (p == NULL) {
		snprintf(err, errlen, "too many pools (at most %d)", SRV_MAX_POOLS);
		rc = -CAIRN_ERR_OVERFLOW;
		goto out;
	}
	memset(p, 0, sizeof(*p));
	cairn_uuid_generate(&p->uuid);
	snprintf(p->label, sizeof(p->label), "%s", label);
	p->size_per_target = size;
	p->map_version = 1;
	p->ctime = (uint64_t)time(NULL);
	/* This engine's targets: each one's free space (and the largest free extent) in
	 * the error, not just NOSPACE, before anything is written. Other ranks check
	 * their own when asked to create their shards. */
	rc = srv_vos_space_check(&p->uuid, size, err, errlen);
	if (rc)
		goto out;
	rc = pool_shards_create(p, ranks, nr, err, errlen);
	if (rc)
		goto out;
	pool_to_df(p, &df);
	rc = srv_md_put(SRV_MD_POOLS, p->uuid.b, 16, &df, sizeof(df));
	if (rc) {
		snprintf(err, errlen, "cannot record the pool: %s", cairn_strerror(rc));
		pool_shards_destroy(&p->uuid, p->ranks, p->nr_ranks, false);
		goto out;
	}
	rc = srv_pool_acl_init(p, owner, group, err, errlen);
	if (rc) {
		srv_md_del(SRV_MD_POOLS, p->uuid.b, 16);
		pool_shards_destroy(&p->uuid, p->ranks, p->nr_ranks, false);
		goto out;
	}
	p->used = true;
	pool_map_ver_publish(p);
	*out = p;
out:
	cairn_mutex_unlock(&g_pool_lock);
	return rc;
}

int
srv_pool_destroy(struct srv_pool *p, bool force, char *err, size_t errlen)
{
	char us[CAIRN_UUID_STR_LEN];
	struct pool_gone_df gone;
	unsigned i;
	int rc;

	cairn_uuid_unparse(&p->uuid, us);
	cairn_mutex_lock(&g_pool_lock);
	if (!p->used) {
		snprintf(err, errlen, "pool %s does not exist", us);
		rc = -CAIRN_ERR_NONEXIST;
		goto out;
	}
	if (p->nr_handles > 0 && !force) {
		snprintf(err, errlen, "pool %s (%s) has %u connection(s); disconnect them or use "
		         "force", p->label, us, p->nr_handles);
		rc = -CAIRN_ERR_BUSY;
		goto out;
	}
	/* A rank that is down cannot remove its shards now: refuse unless forced; then
	 * a durable tombstone lists it and its shards go when it rejoins. */
	memset(&gone, 0, sizeof(gone));
	for (i = 0; i < p->nr_ranks; i++) {
		if (p->ranks[i].rank == self_rank() || srv_group_rank_joined(p->ranks[i].rank))
			continue;
		if (!force) {
			snprintf(err, errlen, "pool %s (%s): rank %u is not joined, its shards "
			         "cannot be removed now; start it (cairnctl system start) or "
			         "use force (its shards are then removed when it rejoins)",
			         p->label, us, p->ranks[i].rank);
			rc = -CAIRN_ERR_UNREACH;
			goto out;
		}
		gone.ranks[gone.nr_ranks++] = p->ranks[i].rank;
	}
	if (gone.nr_ranks) {
		for (i = 0; i < SRV_MAX_POOLS && g_gone[i].nr_ranks; i++)
			;
		if (i == SRV_MAX_POOLS) {
			snprintf(err, errlen, "too many destroyed pools waiting for ranks to "
			         "return; start the ranks that are down first");
			rc = -CAIRN_ERR_OVERFLOW;
			goto out;
		}
		gone.magic = POOL_GONE_MAGIC;
		memcpy(gone.uuid, p->uuid.b, 16);
		rc = srv_md_put(SRV_MD_POOL_GONE, gone.uuid, 16, &gone, sizeof(gone));
		if (rc) {
			snprintf(err, errlen, "cannot record the pool's down ranks: %s",
			         cairn_strerror(rc));
			goto out;
		}
		g_gone[i] = gone;
	}
	/* Forget the record first: a crash in the middle leaves orphan shard files, which
	 * the next start removes, never a pool whose shards are half gone. */
	rc = srv_md_del(SRV_MD_POOLS, p->uuid.b, 16);
	if (rc) {
		snprintf(err, errlen, "cannot remove the pool's record: %s", cairn_strerror(rc));
		goto out;
	}
	p->used = false;
	pool_map_ver_publish(p);
	srv_pool_acl_forget(p, true);
	srv_pool_handles_drop(p);
	srv_cont_pool_destroyed(&p->uuid);
	for (i = 0; i < p->nr_ranks; i++) {
		if (p->ranks[i].rank != self_rank() && !srv_group_rank_joined(p->ranks[i].rank))
			continue; /* in the tombstone */
		rc = pool_shards_destroy(&p->uuid, &p->ranks[i], 1, false);
		if (rc)
			CAIRN_WARN("pool %s: some shards on rank %u could not be removed: %s", us,
			           p->ranks[i].rank, cairn_strerror(rc));
	}
	rc = 0;
	CAIRN_NOTE("pool %s (%s) destroyed%s%s", us, p->label, force ? " (forced)" : "",
	           gone.nr_ranks ? "; ranks that are down are cleaned when they rejoin" : "");
out:
	cairn_mutex_unlock(&g_pool_lock);
	return rc;
}

int
srv_pool_set_label(struct srv_pool *p, const char *label, char *err, size_t errlen)
{
	struct srv_pool tmp = *p;
	struct pool_md_df df;
	int rc;

	snprintf(tmp.label, sizeof(tmp.label), "%s", label);
	pool_to_df(&tmp, &df);
	rc = srv_md_put(SRV_MD_POOLS, p->uuid.b, 16, &df, sizeof(df));
	if (rc) {
		snprintf(err, errlen, "cannot record the new label: %s", cairn_strerror(rc));
		return rc;
	}
	CAIRN_NOTE("pool %s renamed %s", p->label, label);
	snprintf(p->label, sizeof(p->label), "%s", label);
	return 0;
}

/* Space of the pool's shards on one rank (remote ranks over the network). */
static int
pool_rank_space(struct srv_pool *p, const struct srv_pool_rank *r, struct srv_space *sp)
{
	struct pool_tgt_in in = {0};
	struct pool_tgt_out o = {0};
	int rc;

	memset(sp, 0, sizeof(*sp));
	if (r->rank == self_rank())
		return srv_vos_shards_query(&p->uuid, sp);
	memcpy(in.uuid, p->uuid.b, 16);
	rc = srv_pool_tgt_call(r->rank, POOL_RPC_TGT_QUERY, &in, &o);
	if (rc)
		return rc;
	sp->total = o.total;
	sp->free = o.free;
	sp->nr_shards = o.shards;
	return 0;
}

/* Sum over the ranks; per-rank entries appended to `ranks` when not NULL. Ranks that do
 * not answer count for nothing (their entry says why). */
static void
pool_space(struct srv_pool *p, struct srv_space *sum, json_t *ranks)
{
	struct srv_space sp;
	unsigned i;
	int rc;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < p->nr_ranks; i++) {
		const struct srv_pool_rank *r = &p->ranks[i];
		json_t *o = ranks ? json_object() : NULL;

		rc = pool_rank_space(p, r, &sp);
		if (rc == 0) {
			sum->total += sp.total;
			sum->free += sp.free;
			sum->nr_shards += sp.nr_shards;
		}
		if (o == NULL)
			continue;
		json_object_set_new(o, "rank", json_integer(r->rank));
		json_object_set_new(o, "targets", json_integer(r->nr_targets));
		json_object_set_new(o, "state", json_string(r->down ? "down" : "up"));
		if (rc == 0) {
			json_object_set_new(o, "total", json_integer((json_int_t)sp.total));
			json_object_set_new(o, "free", json_integer((json_int_t)sp.free));
			json_object_set_new(o, "used",
			                    json_integer((json_int_t)(sp.total - sp.free)));
			json_object_set_new(o, "targets_up", json_integer(sp.nr_shards));
		} else {
			json_object_set_new(o, "error", json_string(cairn_strerror(rc)));
		}
		json_array_append_new(ranks, o);
	}
}

json_t *
srv_pool_json(struct srv_pool *p, bool space)
{
	char us[CAIRN_UUID_STR_LEN];
	struct srv_space sp;
	json_t *o = json_object(), *ranks;

	if (o == NULL)
		return NULL;
	cairn_uuid_unparse(&p->uuid, us);
	json_object_set_new(o, "uuid", json_string(us));
	json_object_set_new(o, "label", json_string(p->label));
	json_object_set_new(o, "size_per_target", json_integer((json_int_t)p->size_per_target));
	json_object_set_new(o, "targets", json_integer(p->nr_targets));
	json_object_set_new(o, "map_version", json_integer(p->map_version));
	json_object_set_new(o, "connections", json_integer(p->nr_handles));
	json_object_set_new(o, "ctime", json_integer((json_int_t)p->ctime));
	if (space) {
		ranks = json_array();
		pool_space(p, &sp, ranks);
		json_object_set_new(o, "total", json_integer((json_int_t)sp.total));
		json_object_set_new(o, "free", json_integer((json_int_t)sp.free));
		json_object_set_new(o, "targets_up", json_integer(sp.nr_shards));
		json_object_set_new(o, "ranks", ranks ? ranks : json_array());
		/* "target_space": size/used/free of each target of this engine (the
		 * service rank); other ranks' totals are in "ranks" */
		srv_vos_tgt_space_json(o);
	} else {
		ranks = json_array();
		for (unsigned i = 0; ranks && i < p->nr_ranks; i++) {
			json_t *r = json_object();

			if (r == NULL)
				break;
			json_object_set_new(r, "rank", json_integer(p->ranks[i].rank));
			json_object_set_new(r, "targets", json_integer(p->ranks[i].nr_targets));
			json_object_set_new(r, "state",
			                    json_string(p->ranks[i].down ? "down" : "up"));
			json_array_append_new(ranks, r);
		}
		json_object_set_new(o, "ranks", ranks ? ranks : json_array());
	}
	return o;
}

/* ------------------------------------------------------------------ dRPC (JSON bodies) */

static int
body_json(const struct cairn_drpc_call *call, json_t **out, uint8_t **body, size_t *body_len)
{
	json_error_t je;

	if (call->body_len == 0) {
		*out = json_object();
		return *out ? 0 : -CAIRN_ERR_NOMEM;
	}
	*out = json_loadb((const char *)call->body, call->body_len, JSON_REJECT_DUPLICATES, &je);
	if (*out == NULL || !json_is_object(*out)) {
		cairn_drpc_errmsg(body, body_len, "request body is not a JSON object: %s",
		                  *out ? "wrong type" : je.text);
		json_decref(*out);
		*out = NULL;
		return -CAIRN_ERR_PROTO;
	}
	return 0;
}

int
srv_reply_json(json_t *o, uint8_t **body, size_t *body_len)
{
	char *s;

	if (o == NULL)
		return -CAIRN_ERR_NOMEM;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		return -CAIRN_ERR_NOMEM;
	*body = (uint8_t *)s;
	*body_len = strlen(s);
	return 0;
}

static int
drpc_pool_create(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	static const char *const keys[] = {"label", "size", "user", "group", "ranks", NULL};
	const char *label, *owner = NULL, *group = NULL;
	uint32_t ranks[SRV_POOL_MAX_RANKS];
	unsigned nr_ranks = 0;
	struct srv_pool *p;
	char err[256];
	uint64_t size;
	json_t *req, *jr;
	int rc;

	rc = body_json(call, &req, body, body_len);
	if (rc)
		return rc;
	rc = cairn_json_check_keys(req, keys, err, sizeof(err));
	if (rc == 0)
		rc = cairn_json_get_str(req, "label", true, 0, &label, err, sizeof(err));
	if (rc == 0)
		rc = cairn_json_get_u64(req, "size", true, 0, UINT64_MAX, &size, err, sizeof(err));
	if (rc == 0)
		rc = cairn_json_get_str(req, "user", false, 0, &owner, err, sizeof(err));
	if (rc == 0)
		rc = cairn_json_get_str(req, "group", false, 0, &group, err, sizeof(err));
	jr = json_object_get(req, "ranks");
	if (rc == 0 && jr != NULL) {
		size_t i;
		json_t *v;

		if (!json_is_array(jr) || json_array_size(jr) == 0 ||
		    json_array_size(jr) > SRV_POOL_MAX_RANKS) {
			snprintf(err, sizeof(err), "'ranks' must be an array of 1..%d rank numbers",
			         SRV_POOL_MAX_RANKS);
			rc = -CAIRN_ERR_INVAL;
		}
		json_array_foreach(jr, i, v) {
			if (rc)
				break;
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) >= (1 << 20)) {
				snprintf(err, sizeof(err), "'ranks'[%zu] is not a rank number", i);
				rc = -CAIRN_ERR_INVAL;
				break;
			}
			ranks[nr_ranks++] = (uint32_t)json_integer_value(v);
		}
	}
	if (rc == 0)
		rc = srv_pool_create_ranks(label, size, owner, group, nr_ranks ? ranks : NULL,
		                           nr_ranks, &p, err, sizeof(err));
	json_decref(req);
	if (rc) {
		cairn_drpc_errmsg(body, body_len, "%s", err);
		return rc;
	}
	CAIRN_NOTE("pool %s created: %llu bytes on each of %u target(s) on %u rank(s)",
	           p->label, (unsigned long long)p->size_per_target, p->nr_targets, p->nr_ranks);
	return srv_reply_json(srv_pool_json(p, true), body, body_len);
}

int
srv_pool_req(const struct cairn_drpc_call *call, const char *const *keys, json_t **req,
         struct srv_pool **p, uint8_t **body, size_t *body_len)
{
	const char *id;
	char err[256];
	int rc;

	rc = body_json(call, req, body, body_len);
	if (rc)
		return rc;
	rc = cairn_json_check_keys(*req, keys, err, sizeof(err));
	if (rc == 0)
		rc = cairn_json_get_str(*req, "pool", true, 0, &id, err, sizeof(err));
	if (rc == 0) {
		*p = srv_pool_lookup(id);
		if (*p == NULL) {
			snprintf(err, sizeof(err), "no pool '%s' (see `cairnctl pool list`)", id);
			rc = -CAIRN_ERR_NONEXIST;
		}
	}
	if (rc) {
		cairn_drpc_errmsg(body, body_len, "%s", err);
		json_decref(*req);
		*req = NULL;
	}
	return rc;
}

static int
drpc_pool_destroy(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	static const char *const keys[] = {"pool", "force", NULL};
	struct srv_pool *p;
	bool force = false;
	char err[256];
	json_t *req;
	int rc;

	rc = srv_pool_req(call, keys, &req, &p, body, body_len);
	if (rc)
		return rc;
	rc = cairn_json_get_bool(req, "force", false, &force, err, sizeof(err));
	if (rc == 0)
		rc = srv_pool_destroy(p, force, err, sizeof(err));
	json_decref(req);
	if (rc) {
		cairn_drpc_errmsg(body, body_len, "%s", err);
		return rc;
	}
	return 0;
}

static int
drpc_pool_query(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	static const char *const keys[] = {"pool", NULL};
	struct srv_pool *p;
	json_t *req;
	int rc;

	rc = srv_pool_req(call, keys, &req, &p, body, body_len);
	if (rc)
		return rc;
	json_decref(req);
	return srv_reply_json(srv_pool_json(p, true), body, body_len);
}

static int
drpc_pool_list(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	static const char *const keys[] = {NULL};
	json_t *req, *res, *arr;
	char err[256];
	unsigned i;
	int rc;

	rc = body_json(call, &req, body, body_len);
	if (rc)
		return rc;
	rc = cairn_json_check_keys(req, keys, err, sizeof(err));
	json_decref(req);
	if (rc) {
		cairn_drpc_errmsg(body, body_len, "%s", err);
		return rc;
	}
	res = json_object();
	arr = json_array();
	if (res == NULL || arr == NULL) {
		json_decref(res);
		json_decref(arr);
		return -CAIRN_ERR_NOMEM;
	}
	for (i = 0; i < SRV_MAX_POOLS; i++)
		if (g_pools[i].used)
			json_array_append_new(arr, srv_pool_json(&g_pools[i], true));
	json_object_set_new(res, "pools", arr);
	return srv_reply_json(res, body, body_len);
}

/* Tell the pool's other joined ranks its map version (they check object RPCs against
 * it). A rank that is down gets it when it rejoins (srv_pool_group_changed()). */
static void
pool_map_push(struct srv_pool *p)
{
	struct pool_tgt_in in = {.map_version = p->map_version};
	unsigned i;
	int rc;

	memcpy(in.uuid, p->uuid.b, 16);
	for (i = 0; i < p->nr_ranks; i++) {
		if (p->ranks[i].rank == self_rank() || !srv_group_rank_joined(p->ranks[i].rank))
			continue;
		rc = srv_pool_tgt_call(p->ranks[i].rank, POOL_RPC_TGT_UPDATE, &in, NULL);
		if (rc)
			CAIRN_WARN("pool %s: rank %u did not take map version %u: %s", p->label,
			           p->ranks[i].rank, p->map_version, cairn_strerror(rc));
	}
}

/* Record `tmp` (p with a new map version and rank states), then apply and publish it:
 * requests with an older version now fail with STALE until the client refreshes its
 * map. Caller holds g_pool_lock. */
static int
pool_map_commit(struct srv_pool *p, const struct srv_pool *tmp)
{
	struct pool_md_df df;
	int rc;

	pool_to_df(tmp, &df);
	rc = srv_md_put(SRV_MD_POOLS, p->uuid.b, 16, &df, sizeof(df));
	if (rc)
		return rc;
	p->map_version = tmp->map_version;
	memcpy(p->ranks, tmp->ranks, sizeof(p->ranks));
	pool_map_ver_publish(p);
	pool_map_push(p);
	return 0;
}

static int
drpc_pool_map_bump(const struct cairn_drpc_call *call, uint8_t **body, size_t *body_len)
{
	static const char *const keys[] = {"pool", NULL};
	struct srv_pool *p, tmp;
	json_t *req;
	int rc;

	rc = srv_pool_req(call, keys, &req, &p, body, body_len);
	if (rc)
		return rc;
	json_decref(req);
	cairn_mutex_lock(&g_pool_lock);
	if (!p->used || p->map_version == UINT32_MAX) {
		cairn_mutex_unlock(&g_pool_lock);
		cairn_drpc_errmsg(body, body_len, "pool %s: %s", p->label,
		                  p->used ? "map version at its maximum" : "destroyed");
		return p->used ? -CAIRN_ERR_OVERFLOW : -CAIRN_ERR_NONEXIST;
	}
	tmp = *p;
	tmp.map_version++;
	rc = pool_map_commit(p, &tmp);
	cairn_mutex_unlock(&g_pool_lock);
	if (rc) {
		cairn_drpc_errmsg(body, body_len, "pool %s: cannot record the new map version: %s",
		                  p->label, cairn_strerror(rc));
		return rc;
	}
	CAIRN_NOTE("pool %s: pool map version now %u", p->label, p->map_version);
	return srv_reply_json(srv_pool_json(p, true), body, body_len);
}

/* Membership changed: targets of pool ranks that left go DOWN, of those back UP (one map
 * version per change, durable, pushed to the pool's ranks); a rank that rejoined also
 * gets the current map version even when its state did not change here. */
/* Tombstones: remove the shards of destroyed pools from ranks that are back. */
static void
pool_gone_sweep(void)
{
	char us[CAIRN_UUID_STR_LEN];
	struct pool_gone_df g;
	struct pool_tgt_in in = {0};
	struct cairn_uuid u;
	unsigned i, r, keep;
	int rc;

	for (i = 0; i < SRV_MAX_POOLS; i++) {
		if (g_gone[i].nr_ranks == 0)
			continue;
		g = g_gone[i];
		memcpy(in.uuid, g.uuid, 16);
		memcpy(u.b, g.uuid, 16);
		cairn_uuid_unparse(&u, us);
		for (r = 0, keep = 0; r < g_gone[i].nr_ranks; r++) {
			uint32_t rank = g_gone[i].ranks[r];

			rc = -CAIRN_ERR_UNREACH;
			if (srv_group_rank_joined(rank))
				rc = srv_pool_tgt_call(rank, POOL_RPC_TGT_DESTROY, &in, NULL);
			if (rc == 0)
				CAIRN_NOTE("pool %s (destroyed): shards on rank %u removed", us,
				           g_gone[i].ranks[r]);
			else
				g.ranks[keep++] = g_gone[i].ranks[r];
		}
		if (keep == g_gone[i].nr_ranks)
			continue;
		g.nr_ranks = keep;
		rc = keep ? srv_md_put(SRV_MD_POOL_GONE, g.uuid, 16, &g, sizeof(g))
		          : srv_md_del(SRV_MD_POOL_GONE, g.uuid, 16);
		if (rc)
			CAIRN_WARN("pool %s (destroyed): cannot update its tombstone: %s", us,
			           cairn_strerror(rc));
		else
			g_gone[i] = g;
	}
}

static int
pool_gone_load_one(void *arg, const void *key, uint32_t klen)
{
	struct pool_gone_df g;
	uint32_t len = sizeof(g);
	unsigned i;

	if (klen != 16 || srv_md_get(SRV_MD_POOL_GONE, key, klen, &g, &len) != 0)
		return 0;
	if (len != sizeof(g) || g.magic != POOL_GONE_MAGIC || g.nr_ranks == 0 ||
	    g.nr_ranks > SRV_POOL_MAX_RANKS || memcmp(g.uuid, key, 16) != 0) {
		CAIRN_ERROR("a destroyed pool's tombstone is unusable: dropping it");
		srv_md_del(SRV_MD_POOL_GONE, key, klen);
		return 0;
	}
	for (i = 0; i < SRV_MAX_POOLS && g_gone[i].nr_ranks; i++)
		;
	if (i < SRV_MAX_POOLS)
		g_gone[i] = g;
	return 0;
}

static void
pool_group_ult(void *arg)
{
	unsigned i, r;
	int rc;

	cairn_mutex_lock(&g_pool_lock);
	pool_gone_sweep();
	for (i = 0; i < SRV_MAX_POOLS; i++) {
		struct srv_pool *p = &g_pools[i], tmp;
		bool changed = false;

		if (!p->used)
			continue;
		tmp = *p;
		for (r = 0; r < p->nr_ranks; r++) {
			uint16_t down;

			if (p->ranks[r].rank == self_rank())
				continue;
			down = srv_group_rank_joined(p->ranks[r].rank) ? 0 : 1;
			if (down != p->ranks[r].down) {
				tmp.ranks[r].down = down;
				changed = true;
				CAIRN_NOTE("pool %s: rank %u %s", p->label, p->ranks[r].rank,
				           down ? "left: its targets are DOWN"
				                : "is back: its targets are UP");
			}
		}
		if (!changed) {
			pool_map_push(p); /* idempotent: brings a restarted rank up to date */
			continue;
		}
		if (tmp.map_version == UINT32_MAX)
			continue;
		tmp.map_version++;
		rc = pool_map_commit(p, &tmp);
		if (rc)
			CAIRN_ERROR("pool %s: cannot record the new map: %s", p->label,
			            cairn_strerror(rc));
		else
			CAIRN_NOTE("pool %s: pool map version now %u", p->label, p->map_version);
	}
	cairn_mutex_unlock(&g_pool_lock);
}

void
srv_pool_group_changed(void)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = false};
	int rc;

	if (!g_pool_lock_init || !srv_md_ready())
		return;
	rc = cairn_ult_create(cairn_xs_self(), pool_group_ult, NULL, &attr, NULL);
	if (rc)
		CAIRN_ERROR("pool service: cannot apply the membership change: %s",
		            cairn_strerror(rc));
}

static const struct cairn_drpc_method g_pool_drpc_methods[] = {
        {SRV_DRPC_POOL_CREATE, "pool_create", drpc_pool_create},
        {SRV_DRPC_POOL_DESTROY, "pool_destroy", drpc_pool_destroy},
        {SRV_DRPC_POOL_LIST, "pool_list", drpc_pool_list},
        {SRV_DRPC_POOL_QUERY, "pool_query", drpc_pool_query},
        {SRV_DRPC_POOL_GET_PROP, "pool_get_prop", srv_pool_drpc_get_prop},
        {SRV_DRPC_POOL_SET_PROP, "pool_set_prop", srv_pool_drpc_set_prop},
        {SRV_DRPC_POOL_GET_ACL, "pool_get_acl", srv_pool_drpc_get_acl},
        {SRV_DRPC_POOL_UPDATE_ACL, "pool_update_acl", srv_pool_drpc_update_acl},
        {SRV_DRPC_POOL_DELETE_ACL, "pool_delete_acl", srv_pool_drpc_delete_acl},
        {SRV_DRPC_POOL_MAP_BUMP, "pool_map_bump", drpc_pool_map_bump},
};

static const struct cairn_drpc_handler_table g_pool_drpc = {
        .module = CAIRN_DRPC_MODULE_POOL,
        .name = "pool",
        .methods = g_pool_drpc_methods,
        .nr_methods = sizeof(g_pool_drpc_methods) / sizeof(g_pool_drpc_methods[0]),
};

/* ------------------------------------------------------------------ RPCs (tag 0) */

int
srv_pool_map_encode(struct srv_pool *p, void **buf, uint32_t *len)
{
	struct cairn_pool_map *map;
	size_t need, used;
	int rc;

	rc = cairn_pmap_create(p->map_version, &map);
	if (rc)
		return rc;
	/* no rebuild yet: objects without replicas stay where their data is */
	rc = cairn_pmap_set_flags(map, CAIRN_PMAP_F_NO_REBUILD);
	if (rc)
		goto out;
	for (unsigned i = 0; i < p->nr_ranks; i++) {
		/* one fault domain per rank (each engine is its own failure unit) */
		rc = cairn_pmap_add_rank(map, p->ranks[i].rank, p->ranks[i].rank,
		                         p->ranks[i].nr_targets,
		                         p->ranks[i].down ? CAIRN_TGT_DOWN : CAIRN_TGT_UP, false);
		if (rc)
			goto out;
	}
	need = cairn_pmap_encoded_size(map);
	*buf = malloc(need);
	if (*buf == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto out;
	}
	rc = cairn_pmap_encode(map, *buf, need, &used);
	if (rc) {
		free(*buf);
		*buf = NULL;
		goto out;
	}
	*len = (uint32_t)used;
out:
	cairn_pmap_destroy(map);
	return rc;
}

struct srv_pool *
srv_pool_by_hdl(const uint8_t uuid[16], uint64_t hdl, int *rc)
{
	struct cairn_uuid u;
	struct srv_pool *p;

	memcpy(u.b, uuid, 16);
	p = srv_pool_lookup_uuid(&u);
	if (p == NULL) {
		*rc = -CAIRN_ERR_NONEXIST;
		return NULL;
	}
	if (!srv_pool_handle_valid(p, hdl)) {
		*rc = -CAIRN_ERR_NOHANDLE;
		return NULL;
	}
	*rc = 0;
	return p;
}

/* "RANK URI\n" for every rank of the pool the membership table knows; malloc'd. */
static char *
pool_uris(const struct srv_pool *p)
{
	size_t cap = (size_t)p->nr_ranks * (SRV_GROUP_URI_MAX + 16) + 1, off = 0;
	char *s = malloc(cap), uri[SRV_GROUP_URI_MAX];
	unsigned i;

	if (s == NULL)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < p->nr_ranks; i++) {
		if (srv_group_rank_uri(p->ranks[i].rank, uri, sizeof(uri)) != 0 || uri[0] == '\0')
			continue;
		off += (size_t)snprintf(s + off, cap - off, "%u %s\n", p->ranks[i].rank, uri);
	}
	return s;
}

/* Fill a connect/query reply; *map and *uris must be freed after the reply. */
static int
pool_out_fill(struct srv_pool *p, struct pool_out *o, void **map, char **uris)
{
	struct srv_space sp;
	int rc;

	rc = srv_pool_map_encode(p, map, &o->map_len);
	if (rc)
		return rc;
	*uris = pool_uris(p);
	if (*uris == NULL) {
		free(*map);
		*map = NULL;
		return -CAIRN_ERR_NOMEM;
	}
	o->uris = *uris;
	o->map = *map;
	memcpy(o->uuid, p->uuid.b, 16);
	o->map_version = p->map_version;
	o->nr_targets = p->nr_targets;
	o->label = p->label;
	pool_space(p, &sp, NULL);
	o->total = sp.total;
	o->free = sp.free;
	return 0;
}

static void
rpc_pool_connect(struct cairn_rpc *rpc)
{
	struct pool_in *in = cairn_rpc_in(rpc);
	struct pool_out *o = cairn_rpc_out(rpc);
	struct srv_pool *p;
	void *map = NULL;
	char *uris = NULL;
	int rc;

	uint32_t perms;

	p = srv_pool_lookup(in->pool);
	if (p == NULL) {
		cairn_rpc_reply_err(rpc, -CAIRN_ERR_NONEXIST);
		return;
	}
	if ((in->flags & ~(PROTO_POOL_CONNECT_RO | PROTO_POOL_CONNECT_RW)) != 0 ||
	    in->flags == (PROTO_POOL_CONNECT_RO | PROTO_POOL_CONNECT_RW)) {
		cairn_rpc_reply_err(rpc, -CAIRN_ERR_INVAL);
		return;
	}
	rc = srv_pool_connect_check(p, in->flags ? in->flags : PROTO_POOL_CONNECT_RW, in->user,
	                            in->groups, &perms);
	if (rc) {
		cairn_rpc_reply_err(rpc, rc);
		return;
	}
	if (in->flags & PROTO_POOL_CONNECT_RO)
		perms &= ~(uint32_t)SRV_ACL_WRITE;
	rc = srv_pool_handle_add(p, &o->hdl);
	if (rc == 0)
		srv_pool_handle_set_perms(p, o->hdl, perms);
	if (rc == 0) {
		rc = pool_out_fill(p, o, &map, &uris);
		if (rc)
			srv_pool_handle_del(p, o->hdl);
	}
	if (rc) {
		cairn_rpc_reply_err(rpc, rc);
		return;
	}
	CAIRN_INFO("pool %s: client connected (%u connection(s))", p->label, p->nr_handles);
	cairn_rpc_reply(rpc);
	free(map);
	free(uris);
}

static void
rpc_pool_disconnect(struct cairn_rpc *rpc)
{
	struct pool_in *in = cairn_rpc_in(rpc);
	struct srv_pool *p;
	int rc;

	p = srv_pool_by_hdl(in->uuid, in->hdl, &rc);
	if (p)
		rc = srv_pool_handle_del(p, in->hdl);
	if (rc)
		cairn_rpc_reply_err(rpc, rc);
	else
		cairn_rpc_reply(rpc);
}

static void
rpc_pool_query(struct cairn_rpc *rpc)
{
	struct pool_in *in = cairn_rpc_in(rpc);
	struct pool_out *o = cairn_rpc_out(rpc);
	struct srv_pool *p;
	void *map = NULL;
	char *uris = NULL;
	int rc;

	p = srv_pool_by_hdl(in->uuid, in->hdl, &rc);
	if (p) {
		o->hdl = in->hdl;
		rc = pool_out_fill(p, o, &map, &uris);
	}
	if (rc) {
		cairn_rpc_reply_err(rpc, rc);
		return;
	}
	cairn_rpc_reply(rpc);
	free(map);
	free(uris);
}

static const struct cairn_rpc_def g_pool_rpcs[] =
        PROTO_POOL_RPCS(rpc_pool_connect, rpc_pool_disconnect, rpc_pool_query,
                        srv_pool_tgt_handler);

static const struct cairn_proto g_pool_proto = {
        .name = "pool",
        .base = PROTO_POOL_BASE,
        .version = PROTO_VERSION,
        .count = POOL_RPC_COUNT,
        .rpcs = g_pool_rpcs,
};

/* ------------------------------------------------------------------ module */

struct setup_arg {
	int rc;
};

/* Drop shard files of pools that have no record (a create or destroy cut short). */
static void
pool_reap_orphans(void)
{
	struct cairn_uuid uuids[SRV_MAX_POOLS];
	char us[CAIRN_UUID_STR_LEN];
	unsigned n, i;

	n = srv_vos_shards_list(uuids, SRV_MAX_POOLS);
	for (i = 0; i < n && i < SRV_MAX_POOLS; i++) {
		if (srv_pool_lookup_uuid(&uuids[i]) || srv_pool_tgt_known(&uuids[i]))
			continue;
		cairn_uuid_unparse(&uuids[i], us);
		CAIRN_WARN("pool %s: shards without a pool record (interrupted create or "
		           "destroy): removing them",
		           us);
		srv_vos_shards_destroy(&uuids[i]);
	}
}

static void
pool_setup_ult(void *arg)
{
	struct setup_arg *a = arg;

	a->rc = srv_md_open();
	if (a->rc)
		return;
	a->rc = srv_md_list(SRV_MD_POOLS, pool_load_one, NULL);
	if (a->rc == 0)
		a->rc = srv_pool_tgt_load();
	if (a->rc == 0)
		a->rc = srv_md_list(SRV_MD_POOL_GONE, pool_gone_load_one, NULL);
	if (a->rc == 0)
		pool_reap_orphans();
}

static void
pool_cleanup_ult(void *arg)
{
	srv_md_close();
}

static int
pool_mod_setup(void)
{
	struct setup_arg a = {0};
	int rc;

	rc = cairn_mutex_init(&g_pool_lock);
	if (rc)
		return rc;
	g_pool_lock_init = true;
	if (engine_info()->storage_dir == NULL)
		return 0;
	rc = cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0), pool_setup_ult, &a);
	rc = rc ? rc : a.rc;
	if (rc)
		CAIRN_ERROR("pool service: cannot load its metadata: %s", cairn_strerror(rc));
	return rc;
}

static int
pool_mod_cleanup(void)
{
	if (engine_info()->storage_dir)
		cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_SYSTEM, 0), pool_cleanup_ult, NULL);
	for (unsigned i = 0; i < SRV_MAX_POOLS; i++)
		srv_pool_acl_forget(&g_pools[i], false);
	memset(g_pools, 0, sizeof(g_pools));
	memset(g_map_vers, 0, sizeof(g_map_vers));
	memset(g_gone, 0, sizeof(g_gone));
	srv_pool_tgt_unload();
	if (g_pool_lock_init) {
		cairn_mutex_destroy(&g_pool_lock);
		g_pool_lock_init = false;
	}
	return 0;
}

struct cairn_module g_pool_srv_module = {
        .abi_version = CAIRN_MODULE_ABI_VERSION,
        .name = "pool",
        .id = ENGINE_MOD_POOL,
        .version = 1,
        .setup = pool_mod_setup,
        .cleanup = pool_mod_cleanup,
        .drpc_handlers = &g_pool_drpc,
        .rpc_proto = &g_pool_proto,
};
