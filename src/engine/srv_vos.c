/*
 * The engine's `vos` module: one VOS pool shard per pool per target. Each target owns a
 * device (<storage_dir>/target-<i>, srv_tgt_dev.c) whose space map hands every shard an
 * extent; the shard is a part bdev "vos-<pool-uuid>.t<target>" over that extent and
 * belongs to the target's main xstream (VOS pools are owned by the xstream that opened
 * them). At engine start every target opens its device and the shards its space map
 * records, so data survives a restart; the pool service creates and destroys shards on
 * every target through srv_vos_shards_*().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_VOS
#include "bdev/bdev.h"
#include "common/log.h"
#include "rt/module.h"
#include "rt/rt.h"
#include "vos/vos.h"

#include "engine_internal.h"
#include "srv_internal.h"
#include "srv_tgt_space.h"

/* Containers written since their last aggregation pass, per shard (bounded: a container
 * that does not fit is added again by its next write after a pass). */
#define AGG_MAX_DIRTY 16
/* Aggregate up to this far behind the newest epoch: an update is stamped before it is
 * applied, and VOS refuses updates at or below a running pass's bound. */
#define AGG_LAG_NS (2ull * 1000000000ull)
#define AGG_PERIOD_US (1000u * 1000u)

struct vos_shard {
	struct cairn_uuid uuid;
	struct cairn_vos_pool *pool; /* NULL: free slot */
	uint32_t map_version;        /* the pool map version served (pools have one so far) */
	char bdev[48];
	uint8_t dirty[AGG_MAX_DIRTY][16];
	uint64_t dirty_epoch[AGG_MAX_DIRTY]; /* epoch after the container's latest write */
	unsigned nr_dirty;
};

/* Per target xstream. */
struct vos_tls {
	unsigned tgt;
	struct srv_tgt_dev *dev;         /* the target's device, NULL without storage */
	struct vos_shard shards[SRV_MAX_POOLS];
	struct cairn_poller *agg_poller; /* registered on the first write */
	uint64_t agg_passes;
};

static char g_pools_dir[4096];
static bool g_have_storage;

const char *
srv_vos_pools_dir(void)
{
	return g_have_storage ? g_pools_dir : NULL;
}

uint64_t
srv_epoch_next(void)
{
	static _Atomic uint64_t last;
	struct timespec ts;
	uint64_t now, prev;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	prev = atomic_load(&last);
	do {
		if (now <= prev)
			now = prev + 1;
	} while (!atomic_compare_exchange_weak(&last, &prev, now));
	return now;
}

/* ------------------------------------------------------------------ files */

/* Keep this much of the file system free for logs, other shards' growth and everyone
 * else: 1/64 of it, at least 64 MiB. */
static int
shard_space_check(int fd, const char *path, uint64_t size)
{
	struct statvfs sv;
	uint64_t avail, total, reserve;

	if (fstatvfs(fd, &sv) != 0)
		return 0; /* cannot tell: posix_fallocate decides */
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	total = (uint64_t)sv.f_blocks * sv.f_frsize;
	reserve = total / 64 > (64ull << 20) ? total / 64 : (64ull << 20);
	if (size > avail || avail - size < reserve) {
		CAIRN_ERROR("cannot create %s: it needs %llu MiB, the file system has %llu MiB "
		            "available and %llu MiB are kept free",
		            path, (unsigned long long)(size >> 20),
		            (unsigned long long)(avail >> 20), (unsigned long long)(reserve >> 20));
		return -CAIRN_ERR_NOSPACE;
	}
	return 0;
}


static void
bdev_deleted(void *arg, int rc)
{
	cairn_eventual_set(arg, rc);
}

int
srv_vos_file_open(const char *path, const char *bdev_name, uint64_t size,
                  const struct cairn_uuid *uuid, struct cairn_vos_pool **pool)
{
	struct cairn_vos_pool_opts po;
	struct cairn_eventual *ev;
	struct cairn_bdev *bdev;
	bool created = false;
	int fd, rc;

	if (size) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0) {
			rc = errno == EEXIST ? -CAIRN_ERR_EXIST : -errno;
			CAIRN_ERROR("cannot create %s: %s", path, strerror(errno));
			return rc;
		}
		created = true;
		/* Refuse up front what cannot fit: posix_fallocate of more than the free
		 * space may allocate blocks until the file system is full before it fails,
		 * and every other writer on it then sees ENOSPC. */
		rc = shard_space_check(fd, path, size);
		if (rc) {
			close(fd);
			goto err_unlink;
		}
		/* Reserve the space now so a full file system fails the create, not a
		 * later write. */
		rc = posix_fallocate(fd, 0, (off_t)size);
		close(fd);
		if (rc) {
			CAIRN_ERROR("cannot allocate %llu bytes for %s: %s",
			            (unsigned long long)size, path, strerror(rc));
			rc = rc == ENOSPC ? -CAIRN_ERR_NOSPACE : -rc;
			goto err_unlink;
		}
	}
	rc = cairn_bdev_uring_create(bdev_name, path, 0, NULL, &bdev);
	if (rc) {
		CAIRN_ERROR("cannot serve %s as bdev %s: %s", path, bdev_name, cairn_strerror(rc));
		goto err_unlink;
	}
	if (size) {
		cairn_vos_pool_opts_default(&po);
		/* posix_fallocate leaves unwritten extents: every first O_DIRECT write into
		 * one is an ext4 journal commit (measured 0.6-4 ms per 8 KiB write vs
		 * 27-40 us into written blocks; 4 KiB updates at depth 32 went from ~9K
		 * to ~22K IOPS, bench/system.sh). Zero the whole file once, at create. */
		po.flags |= CAIRN_VOS_FORMAT_PREZERO;
		rc = cairn_vos_pool_format(bdev_name, uuid->b, &po);
		if (rc) {
			CAIRN_ERROR("cannot format VOS pool on %s: %s", path, cairn_strerror(rc));
			goto err_bdev;
		}
	}
	rc = cairn_vos_pool_open(bdev_name, pool);
	if (rc) {
		CAIRN_ERROR("cannot open VOS pool on %s: %s", path, cairn_strerror(rc));
		goto err_bdev;
	}
	return 0;

err_bdev:
	if (cairn_eventual_create(&ev) == 0) {
		if (cairn_bdev_uring_delete(bdev_name, bdev_deleted, ev) == 0)
			cairn_eventual_wait(ev);
		cairn_eventual_destroy(ev);
	}
err_unlink:
	if (created)
		unlink(path);
	return rc;
}

int
srv_vos_file_close(struct cairn_vos_pool *pool, const char *bdev_name)
{
	struct cairn_eventual *ev;
	int rc, rc2;

	rc = cairn_vos_pool_close(pool);
	if (rc)
		CAIRN_WARN("closing VOS pool on %s: %s", bdev_name, cairn_strerror(rc));
	rc2 = cairn_eventual_create(&ev);
	if (rc2)
		return rc2;
	rc2 = cairn_bdev_uring_delete(bdev_name, bdev_deleted, ev);
	if (rc2 == 0)
		rc2 = (int)cairn_eventual_wait(ev);
	cairn_eventual_destroy(ev);
	return rc ? rc : rc2;
}

/* ------------------------------------------------------------------ per target */

static void *vos_tls_init(struct cairn_xstream *xs, const struct cairn_module_key *key);
static void vos_tls_fini(struct cairn_xstream *xs, const struct cairn_module_key *key,
                         void *data);

static struct cairn_module_key g_vos_key = {
        .tags = CAIRN_XS_TAG_MAIN,
        .init = vos_tls_init,
        .fini = vos_tls_fini,
        .index = -1,
};

static void *
vos_tls_init(struct cairn_xstream *xs, const struct cairn_module_key *key)
{
	struct vos_tls *t = calloc(1, sizeof(*t));

	if (t)
		t->tgt = cairn_xs_role_idx(xs);
	return t;
}

static void
vos_tls_fini(struct cairn_xstream *xs, const struct cairn_module_key *key, void *data)
{
	free(data);
}

static struct vos_tls *
vos_tls(void)
{
	return cairn_module_key_get(&g_vos_key);
}

static struct vos_shard *
shard_find(struct vos_tls *t, const struct cairn_uuid *uuid)
{
	unsigned i;

	for (i = 0; i < SRV_MAX_POOLS; i++)
		if (t->shards[i].pool && cairn_uuid_equal(&t->shards[i].uuid, uuid))
			return &t->shards[i];
	return NULL;
}

struct cairn_vos_pool *
srv_vos_shard(const struct cairn_uuid *pool)
{
	struct vos_tls *t = vos_tls();
	struct vos_shard *s;

	if (t == NULL)
		return NULL;
	s = shard_find(t, pool);
	return s ? s->pool : NULL;
}

/* ------------------------------------------------------------------ aggregation */

/*
 * Background aggregation: overwrites and punches leave old versions behind; without
 * merging them a pool that is overwritten in place (a volume, a KV store) fills up. Every
 * AGG_PERIOD_US a timed poller on each target xstream starts, for each shard with a
 * container written since its last pass, one VOS background pass up to now - AGG_LAG_NS.
 * VOS keeps whatever a snapshot can still see, runs the pass in bounded steps between
 * foreground I/O, and frees the space of the merged versions.
 */
static int
agg_poll(void *arg)
{
	struct vos_tls *t = arg;
	uint64_t ub;
	unsigned i, j;
	int rc, did = 0;

	for (i = 0; i < SRV_MAX_POOLS; i++) {
		struct vos_shard *s = &t->shards[i];

		if (s->pool == NULL || s->nr_dirty == 0 ||
		    cairn_vos_aggregate_running(s->pool, &rc))
			continue;
		if (rc)
			CAIRN_WARN("target %u: the last aggregation pass failed: %s", t->tgt,
			           cairn_strerror(rc));
		ub = srv_epoch_next() - AGG_LAG_NS;
		/* The pass covers writes up to ub only: a container written after ub stays
		 * dirty (a later pass merges the rest). Otherwise the last writes before the
		 * pool filled up (punches that would free it) were never aggregated. */
		j = s->nr_dirty - 1;
		rc = cairn_vos_aggregate_start(s->pool, s->dirty[j], ub);
		if (rc != 0 || s->dirty_epoch[j] <= ub)
			s->nr_dirty--;
		else if (j > 0) { /* rotate: the others get their turn first */
			uint8_t cont[16];
			uint64_t e = s->dirty_epoch[j];

			memcpy(cont, s->dirty[j], 16);
			memmove(s->dirty[1], s->dirty[0], (size_t)j * 16);
			memmove(&s->dirty_epoch[1], &s->dirty_epoch[0], (size_t)j * sizeof(e));
			memcpy(s->dirty[0], cont, 16);
			s->dirty_epoch[0] = e;
		}
		if (rc == 0) {
			t->agg_passes++;
			did = 1;
		} else if (rc != -CAIRN_ERR_NONEXIST && rc != -CAIRN_ERR_STALE &&
		           rc != -CAIRN_ERR_BUSY) {
			CAIRN_WARN("target %u: aggregation of a container failed to start: %s",
			           t->tgt, cairn_strerror(rc));
		}
	}
	return did;
}

void
srv_vos_note_write(struct cairn_vos_pool *pool, const uint8_t cont[16])
{
	struct vos_tls *t = vos_tls();
	struct vos_shard *s = NULL;
	unsigned i;

	if (t == NULL || pool == NULL)
		return;
	for (i = 0; i < SRV_MAX_POOLS && s == NULL; i++)
		if (t->shards[i].pool == pool)
			s = &t->shards[i];
	if (s == NULL)
		return;
	for (i = 0; i < s->nr_dirty; i++) {
		if (memcmp(s->dirty[i], cont, 16) == 0) {
			s->dirty_epoch[i] = srv_epoch_next();
			return;
		}
	}
	if (s->nr_dirty == AGG_MAX_DIRTY)
		return;
	s->dirty_epoch[s->nr_dirty] = srv_epoch_next();
	memcpy(s->dirty[s->nr_dirty++], cont, 16);
	if (t->agg_poller == NULL)
		t->agg_poller = cairn_poller_register(agg_poll, t, AGG_PERIOD_US, "vos_agg");
}

uint32_t
srv_vos_shard_map_version(const struct cairn_uuid *pool)
{
	struct vos_tls *t = vos_tls();
	struct vos_shard *s = t ? shard_find(t, pool) : NULL;

	return s ? s->map_version : 0;
}

static void
shard_bdev_name(const struct cairn_uuid *uuid, unsigned tgt, char *bdev, size_t blen)
{
	char us[CAIRN_UUID_STR_LEN];

	cairn_uuid_unparse(uuid, us);
	snprintf(bdev, blen, "vos-%s.t%u", us, tgt);
}

/* Open (size 0) or create one shard on the calling target xstream. */
static int
shard_open(struct vos_tls *t, const struct cairn_uuid *uuid, uint64_t size)
{
	struct vos_shard *s = NULL;
	unsigned i;
	int rc;

	if (shard_find(t, uuid))
		return size ? -CAIRN_ERR_EXIST : 0;
	if (t->dev == NULL)
		return -CAIRN_ERR_NOSYS;
	for (i = 0; i < SRV_MAX_POOLS && s == NULL; i++)
		if (t->shards[i].pool == NULL)
			s = &t->shards[i];
	if (s == NULL)
		return -CAIRN_ERR_OVERFLOW;
	shard_bdev_name(uuid, t->tgt, s->bdev, sizeof(s->bdev));
	rc = srv_tgt_dev_shard_open(t->dev, uuid, size, s->bdev, &s->pool);
	if (rc) {
		s->pool = NULL;
		return rc;
	}
	s->uuid = *uuid;
	s->map_version = 1;
	return 0;
}

/* Close this target's shard of uuid; destroy: also free its extent (also when the
 * shard is not open, e.g. it failed to open at start). */
static int
shard_close(struct vos_tls *t, const struct cairn_uuid *uuid, bool destroy)
{
	struct vos_shard *s = shard_find(t, uuid);
	char bdev[48];
	int rc;

	if (t->dev == NULL)
		return 0;
	shard_bdev_name(uuid, t->tgt, bdev, sizeof(bdev));
	/* closing the VOS pool stops a running aggregation pass */
	rc = srv_tgt_dev_shard_close(t->dev, uuid, s ? s->pool : NULL, bdev, destroy);
	if (s) {
		s->pool = NULL;
		s->nr_dirty = 0;
	}
	return rc;
}

/* Open this target's device and every shard its space map records. */
static int
shards_open_existing(struct vos_tls *t)
{
	struct cairn_uuid uuids[SRV_MAX_POOLS];
	char us[CAIRN_UUID_STR_LEN];
	unsigned n, i;
	int rc, one;

	rc = srv_tgt_dev_open(t->tgt, engine_info()->storage_dir, &t->dev);
	if (rc)
		return rc;
	n = srv_tgt_dev_pools(t->dev, uuids, SRV_MAX_POOLS);
	if (n > SRV_MAX_POOLS)
		CAIRN_ERROR("target %u: %u pool shards recorded, only %d are served", t->tgt, n,
		            SRV_MAX_POOLS);
	for (i = 0; i < n && i < SRV_MAX_POOLS; i++) {
		cairn_uuid_unparse(&uuids[i], us);
		one = shard_open(t, &uuids[i], 0);
		if (one) {
			CAIRN_ERROR("target %u: pool %s shard cannot be opened: %s", t->tgt, us,
			            cairn_strerror(one));
			rc = rc ? rc : one;
		} else {
			CAIRN_NOTE("target %u: pool %s shard opened", t->tgt, us);
		}
	}
	return rc;
}

/* ------------------------------------------------------------------ fan-out */

enum shard_op { OP_CREATE, OP_DESTROY, OP_QUERY, OP_OPEN_ALL, OP_CLOSE_ALL, OP_CHECK,
	OP_USAGE };

struct shard_arg {
	enum shard_op op;
	struct cairn_uuid uuid;
	uint64_t size;
	int rc;
	struct cairn_vos_pool_info info;
	bool present;
	bool is_file;                 /* OP_USAGE */
	struct srv_tgt_usage usage;   /* OP_USAGE */
	char err[320];                /* OP_CHECK */
};

static void
shard_op_ult(void *arg)
{
	struct shard_arg *a = arg;
	struct vos_tls *t = vos_tls();
	struct vos_shard *s;
	unsigned i;

	if (t == NULL) {
		a->rc = -CAIRN_ERR_MISC;
		return;
	}
	switch (a->op) {
	case OP_CREATE:
		a->rc = shard_open(t, &a->uuid, a->size);
		break;
	case OP_DESTROY:
		a->rc = shard_close(t, &a->uuid, true);
		break;
	case OP_QUERY:
		s = shard_find(t, &a->uuid);
		a->present = s != NULL;
		a->rc = s ? cairn_vos_pool_query(s->pool, &a->info) : 0;
		break;
	case OP_OPEN_ALL:
		a->rc = shards_open_existing(t);
		break;
	case OP_CLOSE_ALL:
		if (t->agg_poller)
			cairn_poller_unregister(&t->agg_poller);
		for (i = 0; i < SRV_MAX_POOLS; i++)
			if (t->shards[i].pool)
				shard_close(t, &t->shards[i].uuid, false);
		srv_tgt_dev_close(t->dev);
		t->dev = NULL;
		a->rc = 0;
		break;
	case OP_CHECK:
		a->rc = t->dev ? srv_tgt_dev_check(t->dev, &a->uuid, a->size, a->err,
		                                   sizeof(a->err)) : -CAIRN_ERR_NOSYS;
		break;
	case OP_USAGE:
		a->rc = t->dev ? 0 : -CAIRN_ERR_NOSYS;
		if (t->dev) {
			srv_tgt_dev_usage(t->dev, &a->usage);
			a->is_file = srv_tgt_dev_is_file(t->dev);
		}
		break;
	}
}

static int
shard_run(unsigned tgt, struct shard_arg *a)
{
	struct cairn_xstream *xs = cairn_xs_by_role(CAIRN_XS_MAIN, tgt);
	int rc;

	if (xs == NULL)
		return -CAIRN_ERR_NONEXIST;
	rc = cairn_rt_run_sync(xs, shard_op_ult, a);
	return rc ? rc : a->rc;
}

/* Keep this much of a file system that holds file targets free for logs, the metadata
 * store and everyone else: 1/64 of it, at least 64 MiB. */
static int
fs_space_check(uint64_t need, char *err, size_t errlen)
{
	const char *dir = engine_info()->storage_dir;
	uint64_t avail, total, reserve;
	struct statvfs sv;

	if (statvfs(dir, &sv) != 0)
		return 0; /* cannot tell: the writes decide */
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	total = (uint64_t)sv.f_blocks * sv.f_frsize;
	reserve = total / 64 > (64ull << 20) ? total / 64 : (64ull << 20);
	if (need > avail || avail - need < reserve) {
		snprintf(err, errlen,
		         "not enough space on the file system of %s (its target files are "
		         "sparse): the pool needs %llu MiB, %llu MiB are available and %llu MiB "
		         "are kept free",
		         dir, (unsigned long long)(need >> 20), (unsigned long long)(avail >> 20),
		         (unsigned long long)(reserve >> 20));
		return -CAIRN_ERR_NOSPACE;
	}
	return 0;
}

int
srv_vos_space_check(const struct cairn_uuid *pool, uint64_t size, char *err, size_t errlen)
{
	struct shard_arg a;
	unsigned ntgt = engine_info()->targets, i;
	uint64_t file_need = 0;
	int rc;

	if (!g_have_storage) {
		snprintf(err, errlen, "this engine has no storage");
		return -CAIRN_ERR_NOSYS;
	}
	for (i = 0; i < ntgt; i++) {
		memset(&a, 0, sizeof(a));
		a.op = OP_CHECK;
		a.uuid = *pool;
		a.size = size;
		rc = shard_run(i, &a);
		if (rc) {
			snprintf(err, errlen, "%s", a.err[0] ? a.err : cairn_strerror(rc));
			CAIRN_ERROR("pool create refused: %s", err);
			return rc;
		}
		memset(&a, 0, sizeof(a));
		a.op = OP_USAGE;
		if (shard_run(i, &a) == 0 && a.is_file)
			file_need += srv_tgt_space_round(size);
	}
	rc = file_need ? fs_space_check(file_need, err, errlen) : 0;
	if (rc)
		CAIRN_ERROR("pool create refused: %s", err);
	return rc;
}

int
srv_vos_tgt_usage(unsigned tgt, struct srv_tgt_usage *u)
{
	struct shard_arg a = {.op = OP_USAGE};
	int rc;

	if (!g_have_storage)
		return -CAIRN_ERR_NOSYS;
	rc = shard_run(tgt, &a);
	if (rc == 0)
		*u = a.usage;
	return rc;
}

void
srv_vos_tgt_space_json(struct json_t *o)
{
	json_t *arr = json_array(), *t;
	struct srv_tgt_usage u;
	unsigned i;

	if (arr == NULL)
		return;
	for (i = 0; i < engine_info()->targets; i++) {
		if (srv_vos_tgt_usage(i, &u) != 0)
			continue;
		t = json_pack("{s:i, s:I, s:I, s:I, s:I}", "target", (int)i, "size",
		              (json_int_t)u.dev_size, "used", (json_int_t)u.used, "free",
		              (json_int_t)u.free, "largest_free", (json_int_t)u.largest_free);
		if (t)
			json_array_append_new(arr, t);
	}
	json_object_set_new(o, "target_space", arr);
}

int
srv_vos_shards_create(const struct cairn_uuid *pool, uint64_t size)
{
	struct shard_arg a = {.op = OP_CREATE, .uuid = *pool, .size = size};
	unsigned ntgt = engine_info()->targets, i;
	char err[320];
	int rc = 0;

	if (!g_have_storage)
		return -CAIRN_ERR_NOSYS;
	/* Refuse what cannot fit on every target before anything is written. */
	rc = srv_vos_space_check(pool, size, err, sizeof(err));
	if (rc)
		return rc;
	for (i = 0; i < ntgt; i++) {
		rc = shard_run(i, &a);
		if (rc)
			break;
	}
	if (rc) {
		struct shard_arg d = {.op = OP_DESTROY, .uuid = *pool};

		while (i-- > 0)
			shard_run(i, &d);
	}
	return rc;
}

int
srv_vos_shards_destroy(const struct cairn_uuid *pool)
{
	struct shard_arg a = {.op = OP_DESTROY, .uuid = *pool};
	unsigned ntgt = engine_info()->targets, i;
	int rc = 0, one;

	if (!g_have_storage)
		return -CAIRN_ERR_NOSYS;
	for (i = 0; i < ntgt; i++) {
		one = shard_run(i, &a);
		if (one && rc == 0)
			rc = one;
	}
	return rc;
}

int
srv_vos_shards_query(const struct cairn_uuid *pool, struct srv_space *sp)
{
	struct shard_arg a = {.op = OP_QUERY, .uuid = *pool};
	unsigned ntgt = engine_info()->targets, i;
	int rc;

	memset(sp, 0, sizeof(*sp));
	if (!g_have_storage)
		return -CAIRN_ERR_NOSYS;
	for (i = 0; i < ntgt; i++) {
		rc = shard_run(i, &a);
		if (rc)
			return rc;
		if (a.present) {
			sp->nr_shards++;
			sp->total += a.info.data_bytes;
			sp->free += a.info.data_free;
			CAIRN_DEBUG("target %u: WAL %llu frames, %llu records, %llu checkpoints, "
			           "%llu data bytes written",
			           i, (unsigned long long)a.info.frames,
			           (unsigned long long)a.info.records,
			           (unsigned long long)a.info.checkpoints,
			           (unsigned long long)a.info.data_written);
		}
	}
	return 0;
}

struct list_arg {
	struct cairn_uuid *uuids;
	unsigned max, n;
};

/* From the space map: shards that failed to open are listed too, so that the pool
 * service can reap the orphans among them. */
static void
shard_list_ult(void *arg)
{
	struct list_arg *a = arg;
	struct vos_tls *t = vos_tls();

	if (t && t->dev)
		a->n = srv_tgt_dev_pools(t->dev, a->uuids, a->max);
}

unsigned
srv_vos_shards_list(struct cairn_uuid *uuids, unsigned max)
{
	struct list_arg a = {.uuids = uuids, .max = max};
	struct cairn_xstream *xs = cairn_xs_by_role(CAIRN_XS_MAIN, 0);

	if (!g_have_storage || xs == NULL || cairn_rt_run_sync(xs, shard_list_ult, &a))
		return 0;
	return a.n;
}

/* ------------------------------------------------------------------ module */

static int
vos_mod_init(void)
{
	return cairn_bdev_init();
}

static int
vos_mod_fini(void)
{
	cairn_bdev_fini();
	return 0;
}

static int vos_mod_cleanup(void);

/* Pool shards in the layout before space maps (<storage_dir>/pools/<uuid>.t<i> files)
 * are not migrated: refuse the storage with advice. */
static int
old_layout_check(const char *dir)
{
	char path[4200];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "%s/pools", dir);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && !found)
		found = de->d_name[0] != '.';
	closedir(d);
	if (!found)
		return 0;
	CAIRN_ERROR("storage %s holds pool shards in the old layout (%s/); this engine keeps "
	            "pools inside the target devices and does not migrate them: back the data "
	            "up and reformat (`cairn-server storage format --force`)",
	            dir, path);
	return -CAIRN_ERR_VERSION;
}

struct dev_missing_arg {
	bool missing;
};

static void
dev_missing_ult(void *arg)
{
	struct vos_tls *t = vos_tls();

	((struct dev_missing_arg *)arg)->missing = t == NULL || t->dev == NULL;
}

/* Did target i fail to open its device (as opposed to some of its shards)? */
static bool
shard_dev_missing(unsigned i)
{
	struct dev_missing_arg m = {.missing = true};
	struct cairn_xstream *xs = cairn_xs_by_role(CAIRN_XS_MAIN, i);

	if (xs == NULL || cairn_rt_run_sync(xs, dev_missing_ult, &m))
		return true;
	return m.missing;
}

static int
vos_mod_setup(void)
{
	struct engine_info *info = engine_info();
	struct shard_arg a = {.op = OP_OPEN_ALL};
	unsigned i;
	int rc;

	if (info->storage_dir == NULL) {
		CAIRN_NOTE("no storage directory: pools cannot be created on this engine");
		return 0;
	}
	rc = old_layout_check(info->storage_dir);
	if (rc)
		return rc;
	snprintf(g_pools_dir, sizeof(g_pools_dir), "%s", info->storage_dir);
	g_have_storage = true;
	for (i = 0; i < info->targets; i++) {
		rc = shard_run(i, &a);
		if (rc && shard_dev_missing(i)) {
			/* The device itself is unusable (logged with what to do): refuse to
			 * run rather than serve pools with a missing target. */
			CAIRN_ERROR("target %u: storage refused: %s", i, cairn_strerror(rc));
			vos_mod_cleanup();
			return rc;
		}
		if (rc) {
			/* A shard that cannot be opened is reported, not fatal: the other
			 * pools stay available. */
			CAIRN_ERROR("target %u: some pool shards failed to open: %s", i,
			            cairn_strerror(rc));
		}
	}
	return 0;
}

static int
vos_mod_cleanup(void)
{
	struct shard_arg a = {.op = OP_CLOSE_ALL};
	unsigned i;

	for (i = 0; i < engine_info()->targets; i++)
		shard_run(i, &a); /* closes what is open, also after a failed setup */
	g_have_storage = false;
	return 0;
}

struct cairn_module g_vos_srv_module = {
        .abi_version = CAIRN_MODULE_ABI_VERSION,
        .name = "vos",
        .id = ENGINE_MOD_VOS,
        .version = 1,
        .init = vos_mod_init,
        .fini = vos_mod_fini,
        .setup = vos_mod_setup,
        .cleanup = vos_mod_cleanup,
        .key = &g_vos_key,
};
