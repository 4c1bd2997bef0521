/*
 * Container user attributes and snapshots (see srv_cont_prop.h for the record layout).
 * Runs on the system xstream, under the container service's lock (srv_cont.c); the
 * snapshot pins run on each target's own xstream (cairn_rt_run_sync).
 */
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_CONT
#include "common/log.h"
#include "engine/proto.h"
#include "rt/rt.h"
#include "vos/vos.h"

#include "engine_internal.h"
#include "srv_cont_prop.h"
#include "srv_internal.h"
#include "srv_pool.h"

#define KEY_HDR 33 /* pool uuid + cont uuid + kind */

static uint32_t
key_make(uint8_t *key, const struct cairn_uuid *pool, const struct cairn_uuid *cont, char kind,
         const void *rest, uint32_t rest_len)
{
	memcpy(key, pool->b, 16);
	memcpy(key + 16, cont->b, 16);
	key[32] = (uint8_t)kind;
	if (rest_len)
		memcpy(key + KEY_HDR, rest, rest_len);
	return KEY_HDR + rest_len;
}

static int
name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n > 0 && n <= PROTO_ATTR_NAME_MAX;
}

/* ------------------------------------------------------------------ key scans */

struct scan {
	const uint8_t *prefix; /* KEY_HDR bytes, or 16 (pool only) */
	uint32_t prefix_len;
	char kind; /* 0 = any */
	/* collect */
	uint8_t *buf;
	uint32_t len, cap;
	uint32_t count;
	bool del;
	int rc;
};

static int
scan_cb(void *arg, const void *key, uint32_t klen)
{
	struct scan *s = arg;
	const uint8_t *k = key;
	uint32_t need;
	void *nb;

	if (klen < KEY_HDR || memcmp(k, s->prefix, s->prefix_len) != 0 ||
	    (s->kind && k[32] != (uint8_t)s->kind))
		return 0;
	s->count++;
	if (s->del) {
		srv_md_del(SRV_MD_CONT_PROPS, key, klen);
		return 0;
	}
	/* collect the part after the header, NUL-terminated (names) or 8 bytes (epochs) */
	need = klen - KEY_HDR + (s->kind == 'a' ? 1 : 0);
	if (s->len + need > s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 1024;

		while (cap < s->len + need)
			cap *= 2;
		nb = realloc(s->buf, cap);
		if (nb == NULL) {
			s->rc = -CAIRN_ERR_NOMEM;
			return -CAIRN_ERR_NOMEM;
		}
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, k + KEY_HDR, klen - KEY_HDR);
	s->len += klen - KEY_HDR;
	if (s->kind == 'a')
		s->buf[s->len++] = '\0';
	return 0;
}

static int
scan_run(struct scan *s)
{
	int rc = srv_md_list(SRV_MD_CONT_PROPS, scan_cb, s);

	if (rc == 0)
		rc = s->rc;
	if (rc) {
		free(s->buf);
		s->buf = NULL;
	}
	return rc;
}

/* ------------------------------------------------------------------ attributes */

int
srv_cont_attr_set(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                  const char *name, const void *val, uint32_t len)
{
	uint8_t key[KEY_HDR + PROTO_ATTR_NAME_MAX], hdr[KEY_HDR], *rec;
	struct scan s = {.prefix = hdr, .prefix_len = KEY_HDR, .kind = 'a'};
	uint32_t klen, tmp = 1;
	uint8_t probe;
	int rc;

	if (!name_ok(name) || len > PROTO_ATTR_VALUE_MAX || (len && val == NULL))
		return -CAIRN_ERR_INVAL;
	klen = key_make(key, pool, cont, 'a', name, (uint32_t)strlen(name));
	rc = srv_md_get(SRV_MD_CONT_PROPS, key, klen, &probe, &tmp);
	if (rc == -CAIRN_ERR_NONEXIST) {
		/* a new name: bounded count */
		key_make(hdr, pool, cont, 'a', NULL, 0);
		rc = scan_run(&s);
		free(s.buf);
		if (rc)
			return rc;
		if (s.count >= PROTO_ATTRS_MAX)
			return -CAIRN_ERR_OVERFLOW;
	} else if (rc && rc != -CAIRN_ERR_TRUNC) {
		return rc;
	}
	rec = malloc(len + 1);
	if (rec == NULL)
		return -CAIRN_ERR_NOMEM;
	rec[0] = 'v';
	if (len)
		memcpy(rec + 1, val, len);
	rc = srv_md_put(SRV_MD_CONT_PROPS, key, klen, rec, len + 1);
	free(rec);
	return rc;
}

int
srv_cont_attr_get(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                  const char *name, void **val, uint32_t *len)
{
	uint8_t key[KEY_HDR + PROTO_ATTR_NAME_MAX];
	uint8_t rec[PROTO_ATTR_VALUE_MAX + 1];
	uint32_t klen, rlen = sizeof(rec);
	int rc;

	*val = NULL;
	*len = 0;
	if (!name_ok(name))
		return -CAIRN_ERR_INVAL;
	klen = key_make(key, pool, cont, 'a', name, (uint32_t)strlen(name));
	rc = srv_md_get(SRV_MD_CONT_PROPS, key, klen, rec, &rlen);
	if (rc)
		return rc;
	if (rlen < 1 || rec[0] != 'v')
		return -CAIRN_ERR_CORRUPT;
	if (rlen > 1) {
		*val = malloc(rlen - 1);
		if (*val == NULL)
			return -CAIRN_ERR_NOMEM;
		memcpy(*val, rec + 1, rlen - 1);
	}
	*len = rlen - 1;
	return 0;
}

int
srv_cont_attr_list(const struct cairn_uuid *pool, const struct cairn_uuid *cont, char **names,
                   uint32_t *len)
{
	uint8_t hdr[KEY_HDR];
	struct scan s = {.prefix = hdr, .prefix_len = KEY_HDR, .kind = 'a'};
	int rc;

	key_make(hdr, pool, cont, 'a', NULL, 0);
	rc = scan_run(&s);
	if (rc)
		return rc;
	*names = (char *)s.buf;
	*len = s.len;
	return 0;
}

int
srv_cont_attr_del(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                  const char *name)
{
	uint8_t key[KEY_HDR + PROTO_ATTR_NAME_MAX];
	uint32_t klen, tmp = 1;
	uint8_t probe;
	int rc;

	if (!name_ok(name))
		return -CAIRN_ERR_INVAL;
	klen = key_make(key, pool, cont, 'a', name, (uint32_t)strlen(name));
	rc = srv_md_get(SRV_MD_CONT_PROPS, key, klen, &probe, &tmp);
	if (rc == -CAIRN_ERR_NONEXIST)
		return rc;
	return srv_md_del(SRV_MD_CONT_PROPS, key, klen);
}

/* ------------------------------------------------------------------ snapshots */

struct snap_arg {
	struct cairn_uuid pool, cont;
	uint64_t epoch;
	bool create;
	int rc;
};

static void
snap_ult(void *arg)
{
	struct snap_arg *a = arg;
	struct cairn_vos_pool *vp = srv_vos_shard(&a->pool);

	if (vp == NULL) {
		a->rc = -CAIRN_ERR_NONEXIST;
		return;
	}
	a->rc = a->create ? cairn_vos_snap_create(vp, a->cont.b, a->epoch)
	                  : cairn_vos_snap_destroy(vp, a->cont.b, a->epoch);
}

/* Pin (create) or unpin the epoch on every target; a failed create is undone. */
static int
snap_targets(const struct cairn_uuid *pool, const struct cairn_uuid *cont, uint64_t epoch,
             bool create)
{
	struct snap_arg a = {.pool = *pool, .cont = *cont, .epoch = epoch, .create = create};
	unsigned n = engine_info()->targets, i;
	int rc = 0, one;

	for (i = 0; i < n; i++) {
		a.rc = -CAIRN_ERR_MISC;
		one = cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, i), snap_ult, &a);
		one = one ? one : a.rc;
		if (one && create) {
			a.create = false;
			while (i-- > 0)
				cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, i), snap_ult, &a);
			return one;
		}
		if (one && rc == 0 && one != -CAIRN_ERR_NONEXIST)
			rc = one;
	}
	/* pushed to the pool's other ranks, whose aggregation must keep the snapshot too */
	one = srv_pool_tgt_cont_fanout(pool, cont,
	                               create ? PROTO_TGT_SNAP_CREATE : PROTO_TGT_SNAP_DESTROY,
	                               epoch);
	if (one && create) {
		a.create = false;
		for (i = 0; i < n; i++)
			cairn_rt_run_sync(cairn_xs_by_role(CAIRN_XS_MAIN, i), snap_ult, &a);
		return one;
	}
	if (one && rc == 0)
		rc = one;
	return rc;
}

static uint32_t
snap_key(uint8_t *key, const struct cairn_uuid *pool, const struct cairn_uuid *cont,
         uint64_t epoch)
{
	uint8_t be[8];
	int i;

	for (i = 0; i < 8; i++)
		be[i] = (uint8_t)(epoch >> (56 - 8 * i));
	return key_make(key, pool, cont, 's', be, 8);
}

bool
srv_cont_snap_exists(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                     uint64_t epoch)
{
	uint8_t key[KEY_HDR + 8], v;
	uint32_t klen = snap_key(key, pool, cont, epoch), len = 1;

	return srv_md_get(SRV_MD_CONT_PROPS, key, klen, &v, &len) == 0;
}

int
srv_cont_snap_create(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                     uint64_t *epoch)
{
	uint8_t key[KEY_HDR + 8], hdr[KEY_HDR];
	struct scan s = {.prefix = hdr, .prefix_len = KEY_HDR, .kind = 's'};
	uint32_t klen;
	uint64_t e;
	int rc;

	key_make(hdr, pool, cont, 's', NULL, 0);
	rc = scan_run(&s);
	free(s.buf);
	if (rc)
		return rc;
	if (s.count >= PROTO_SNAPS_MAX)
		return -CAIRN_ERR_OVERFLOW;
	/* Every update acknowledged before this call has a smaller epoch. */
	e = srv_epoch_next();
	rc = snap_targets(pool, cont, e, true);
	if (rc)
		return rc;
	klen = snap_key(key, pool, cont, e);
	rc = srv_md_put(SRV_MD_CONT_PROPS, key, klen, "s", 1);
	if (rc) {
		snap_targets(pool, cont, e, false);
		return rc;
	}
	*epoch = e;
	return 0;
}

int
srv_cont_snap_list(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                   uint64_t **epochs, uint32_t *nr)
{
	uint8_t hdr[KEY_HDR];
	struct scan s = {.prefix = hdr, .prefix_len = KEY_HDR, .kind = 's'};
	uint64_t *out;
	uint32_t i, k;
	int rc;

	key_make(hdr, pool, cont, 's', NULL, 0);
	rc = scan_run(&s);
	if (rc)
		return rc;
	if (s.len % 8) {
		free(s.buf);
		return -CAIRN_ERR_CORRUPT;
	}
	out = malloc(s.len ? s.len : 1);
	if (out == NULL) {
		free(s.buf);
		return -CAIRN_ERR_NOMEM;
	}
	/* keys are big-endian, so key order is epoch order */
	for (i = 0; i < s.len / 8; i++) {
		uint64_t e = 0;

		for (k = 0; k < 8; k++)
			e = (e << 8) | s.buf[i * 8 + k];
		out[i] = e;
	}
	free(s.buf);
	*epochs = out;
	*nr = s.len / 8;
	return 0;
}

int
srv_cont_snap_destroy(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                      uint64_t epoch)
{
	uint8_t key[KEY_HDR + 8];
	uint32_t klen = snap_key(key, pool, cont, epoch);
	int rc;

	if (!srv_cont_snap_exists(pool, cont, epoch))
		return -CAIRN_ERR_NONEXIST;
	/* Forget the record first: a crash leaves at worst a pin nobody lists. */
	rc = srv_md_del(SRV_MD_CONT_PROPS, key, klen);
	if (rc)
		return rc;
	rc = snap_targets(pool, cont, epoch, false);
	if (rc)
		CAIRN_WARN("snapshot %llu: some targets did not unpin it: %s",
		           (unsigned long long)epoch, cairn_strerror(rc));
	return 0;
}

void
srv_cont_extra_forget(const struct cairn_uuid *pool, const struct cairn_uuid *cont)
{
	uint8_t hdr[KEY_HDR];
	struct scan s = {.prefix = hdr, .del = true};

	memcpy(hdr, pool->b, 16);
	s.prefix_len = 16;
	if (cont) {
		memcpy(hdr + 16, cont->b, 16);
		s.prefix_len = 32;
	}
	scan_run(&s);
	free(s.buf);
}
