/*
 * Engine metadata store over VOS (see srv_internal.h): a VOS pool on
 * <storage_dir>/sys.vos with one container; table t is object {0, t}; a record is dkey
 * = key, akey "v" = a single value holding the record. Updates are durable when they
 * return (VOS group-commits its WAL). Owned by the system xstream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_POOL
#include "common/log.h"
#include "rt/rt.h"
#include "vos/vos.h"

#include "engine_internal.h"
#include "srv_internal.h"

#define MD_POOL_SIZE (64ull << 20)
#define MD_BDEV "sys-md"

/* Fixed identity of the metadata pool and container. */
static const struct cairn_uuid g_md_pool_uuid = {
        {0xca, 0x19, 0x4e, 0x00, 0x5d, 0x11, 0x4d, 0x0a, 0x8e, 0x01, 0, 0, 0, 0, 0, 1}};
static const struct cairn_uuid g_md_cont_uuid = {
        {0xca, 0x19, 0x4e, 0x00, 0x5d, 0x11, 0x4d, 0x0a, 0x8e, 0x01, 0, 0, 0, 0, 0, 2}};
static const char g_akey[] = "v";

static struct cairn_vos_pool *g_md;

bool
srv_md_ready(void)
{
	return g_md != NULL;
}

int
srv_md_open(void)
{
	const char *dir = engine_info()->storage_dir;
	char path[4200];
	struct stat st;
	bool exists;
	int rc;

	if (dir == NULL)
		return -CAIRN_ERR_NOSYS;
	snprintf(path, sizeof(path), "%s/sys.vos", dir);
	exists = stat(path, &st) == 0;
	rc = srv_vos_file_open(path, MD_BDEV, exists ? 0 : MD_POOL_SIZE, &g_md_pool_uuid, &g_md);
	if (rc)
		return rc;
	if (!cairn_vos_cont_exists(g_md, g_md_cont_uuid.b)) {
		rc = cairn_vos_cont_create(g_md, g_md_cont_uuid.b);
		if (rc) {
			CAIRN_ERROR("metadata store: cannot create its container: %s",
			            cairn_strerror(rc));
			srv_vos_file_close(g_md, MD_BDEV);
			g_md = NULL;
			return rc;
		}
	}
	CAIRN_NOTE("metadata store %s %s", path, exists ? "opened" : "created");
	return 0;
}

void
srv_md_close(void)
{
	if (g_md == NULL)
		return;
	srv_vos_file_close(g_md, MD_BDEV);
	g_md = NULL;
}

static int
md_check(enum srv_md_table t, const void *key, uint32_t klen)
{
	if (g_md == NULL)
		return -CAIRN_ERR_NOSYS;
	if (t < SRV_MD_POOLS || t > SRV_MD_TABLE_LAST || key == NULL || klen == 0 ||
	    klen > CAIRN_VOS_KEY_MAX)
		return -CAIRN_ERR_INVAL;
	return 0;
}

int
srv_md_put(enum srv_md_table t, const void *key, uint32_t klen, const void *val, uint32_t vlen)
{
	struct cairn_vos_oid oid = {.hi = 0, .lo = t};
	struct cairn_vos_iod iod = {0};
	int rc = md_check(t, key, klen);

	if (rc)
		return rc;
	if (val == NULL || vlen == 0 || vlen > SRV_MD_VAL_MAX)
		return -CAIRN_ERR_INVAL;
	iod.akey = g_akey;
	iod.akey_len = 1;
	iod.type = CAIRN_VOS_IOD_SINGLE;
	iod.buf = (void *)val;
	iod.size = vlen;
	return cairn_vos_update(g_md, g_md_cont_uuid.b, &oid, srv_epoch_next(), 0, key, klen, 1,
	                        &iod);
}

int
srv_md_get(enum srv_md_table t, const void *key, uint32_t klen, void *val, uint32_t *vlen)
{
	struct cairn_vos_oid oid = {.hi = 0, .lo = t};
	struct cairn_vos_iod iod = {0};
	int rc = md_check(t, key, klen);

	if (rc)
		return rc;
	iod.akey = g_akey;
	iod.akey_len = 1;
	iod.type = CAIRN_VOS_IOD_SINGLE;
	iod.buf = val;
	iod.buf_size = *vlen;
	rc = cairn_vos_fetch(g_md, g_md_cont_uuid.b, &oid, CAIRN_VOS_EPOCH_MAX, key, klen, 1, &iod);
	if (rc)
		return rc;
	if (iod.size == 0)
		return -CAIRN_ERR_NONEXIST;
	*vlen = (uint32_t)iod.size;
	return 0;
}

int
srv_md_del(enum srv_md_table t, const void *key, uint32_t klen)
{
	struct cairn_vos_oid oid = {.hi = 0, .lo = t};
	int rc = md_check(t, key, klen);

	if (rc)
		return rc;
	return cairn_vos_punch(g_md, g_md_cont_uuid.b, &oid, srv_epoch_next(), 0, key, klen, NULL,
	                       0);
}

struct md_keys {
	uint8_t *buf;
	size_t len, cap;
	unsigned n;
};

static int
md_collect(void *arg, const void *key, uint32_t len)
{
	struct md_keys *k = arg;
	size_t need = k->len + sizeof(uint32_t) + len;

	if (need > k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 4096;
		uint8_t *nb;

		while (cap < need)
			cap *= 2;
		nb = realloc(k->buf, cap);
		if (nb == NULL)
			return -CAIRN_ERR_NOMEM;
		k->buf = nb;
		k->cap = cap;
	}
	memcpy(k->buf + k->len, &len, sizeof(len));
	memcpy(k->buf + k->len + sizeof(len), key, len);
	k->len = need;
	k->n++;
	return 0;
}

int
srv_md_list(enum srv_md_table t, srv_md_key_cb cb, void *arg)
{
	struct cairn_vos_oid oid = {.hi = 0, .lo = t};
	struct cairn_vos_anchor *anchor;
	struct md_keys k = {0};
	size_t off = 0;
	uint32_t len;
	int rc;

	if (g_md == NULL)
		return -CAIRN_ERR_NOSYS;
	anchor = malloc(sizeof(*anchor));
	if (anchor == NULL)
		return -CAIRN_ERR_NOMEM;
	cairn_vos_anchor_init(anchor);
	rc = cairn_vos_list_dkeys(g_md, g_md_cont_uuid.b, &oid, CAIRN_VOS_EPOCH_MAX, anchor,
	                          md_collect, &k);
	free(anchor);
	while (rc == 0 && off < k.len) {
		memcpy(&len, k.buf + off, sizeof(len));
		rc = cb(arg, k.buf + off + sizeof(len), len);
		off += sizeof(len) + len;
	}
	free(k.buf);
	return rc;
}
