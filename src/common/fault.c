/*
 * Fault injection points (see common/fault.h). Armed points live in a small list under a
 * mutex; g_cairn_fault_armed counts them so the fast path in CAIRN_FAULT() is one load
 * and one branch while nothing is armed. Each point has its own xorshift64* PRNG so a
 * run with the same seeds fires at the same hits.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#include "common/fault.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/units.h"

struct fault_point {
	struct fault_point *next;
	char name[CAIRN_FAULT_NAME_MAX + 1];
	struct cairn_fault_cfg cfg;
	uint64_t rng;
	uint64_t hits;
	uint64_t fired;
};

uint32_t g_cairn_fault_armed;

static pthread_mutex_t g_fault_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fault_point *g_points; /* protected by g_fault_lock */

static bool
name_valid(const char *name)
{
	size_t n = 0;

	if (name == NULL)
		return false;
	for (const char *p = name; *p != '\0'; p++, n++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return n > 0 && n <= CAIRN_FAULT_NAME_MAX;
}

/* Caller holds g_fault_lock. */
static struct fault_point **
find_locked(const char *name)
{
	struct fault_point **pp;

	for (pp = &g_points; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->name, name) == 0)
			return pp;
	return NULL;
}

static uint64_t
rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

bool
cairn_fault_check(const char *name)
{
	struct fault_point **pp, *pt;
	bool fire = false;

	if (name == NULL)
		return false;
	pthread_mutex_lock(&g_fault_lock);
	pp = find_locked(name);
	if (pp == NULL)
		goto out;
	pt = *pp;
	pt->hits++;
	if (pt->hits <= pt->cfg.skip)
		goto out;
	if (pt->cfg.count != 0 && pt->fired >= pt->cfg.count)
		goto out;
	if (pt->cfg.prob >= 1.0) {
		fire = true;
	} else if (pt->cfg.prob > 0.0) {
		/* 53 random bits -> uniform double in [0, 1). */
		double r = (double)(rng_next(&pt->rng) >> 11) * (1.0 / 9007199254740992.0);

		fire = r < pt->cfg.prob;
	}
	if (fire)
		pt->fired++;
out:
	pthread_mutex_unlock(&g_fault_lock);
	return fire;
}

static int
cfg_check(const char *name, const struct cairn_fault_cfg *cfg)
{
	if (!name_valid(name))
		return -CAIRN_ERR_INVAL;
	/* Written so that NaN fails too. */
	if (cfg != NULL && !(cfg->prob >= 0.0 && cfg->prob <= 1.0))
		return -CAIRN_ERR_INVAL;
	return 0;
}

static void
point_set(struct fault_point *pt, const struct cairn_fault_cfg *cfg)
{
	static const struct cairn_fault_cfg always = {.prob = 1.0};

	pt->cfg = cfg != NULL ? *cfg : always;
	pt->rng = pt->cfg.seed != 0 ? pt->cfg.seed : cairn_hash_str(pt->name);
	if (pt->rng == 0)
		pt->rng = 0x9e3779b97f4a7c15ull; /* xorshift state must not be 0 */
	pt->hits = 0;
	pt->fired = 0;
}

int
cairn_fault_arm(const char *name, const struct cairn_fault_cfg *cfg)
{
	struct fault_point **pp, *pt;
	int rc;

	rc = cfg_check(name, cfg);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&g_fault_lock);
	pp = find_locked(name);
	if (pp != NULL) {
		point_set(*pp, cfg);
		pthread_mutex_unlock(&g_fault_lock);
		return 0;
	}
	pt = calloc(1, sizeof(*pt));
	if (pt == NULL) {
		pthread_mutex_unlock(&g_fault_lock);
		return -CAIRN_ERR_NOMEM;
	}
	snprintf(pt->name, sizeof(pt->name), "%s", name);
	point_set(pt, cfg);
	pt->next = g_points;
	g_points = pt;
	__atomic_add_fetch(&g_cairn_fault_armed, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g_fault_lock);
	return 0;
}

int
cairn_fault_disarm(const char *name)
{
	struct fault_point **pp, *pt;

	if (name == NULL)
		return -CAIRN_ERR_NONEXIST;
	pthread_mutex_lock(&g_fault_lock);
	pp = find_locked(name);
	if (pp == NULL) {
		pthread_mutex_unlock(&g_fault_lock);
		return -CAIRN_ERR_NONEXIST;
	}
	pt = *pp;
	*pp = pt->next;
	__atomic_sub_fetch(&g_cairn_fault_armed, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g_fault_lock);
	free(pt);
	return 0;
}

void
cairn_fault_disarm_all(void)
{
	struct fault_point *pt, *next;

	pthread_mutex_lock(&g_fault_lock);
	pt = g_points;
	g_points = NULL;
	__atomic_store_n(&g_cairn_fault_armed, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g_fault_lock);
	for (; pt != NULL; pt = next) {
		next = pt->next;
		free(pt);
	}
}

int
cairn_fault_stats(const char *name, uint64_t *hits, uint64_t *fired)
{
	struct fault_point **pp;

	if (name == NULL)
		return -CAIRN_ERR_NONEXIST;
	pthread_mutex_lock(&g_fault_lock);
	pp = find_locked(name);
	if (pp != NULL) {
		if (hits != NULL)
			*hits = (*pp)->hits;
		if (fired != NULL)
			*fired = (*pp)->fired;
	}
	pthread_mutex_unlock(&g_fault_lock);
	return pp != NULL ? 0 : -CAIRN_ERR_NONEXIST;
}

int64_t
cairn_fault_value(const char *name, int64_t dflt)
{
	struct fault_point **pp;
	int64_t v = dflt;

	if (name == NULL)
		return dflt;
	pthread_mutex_lock(&g_fault_lock);
	pp = find_locked(name);
	if (pp != NULL)
		v = (*pp)->cfg.value;
	pthread_mutex_unlock(&g_fault_lock);
	return v;
}

/* Strict decimal probability "0", "1", "0.25", "1.0": no exponent, no sign. */
static int
parse_prob(const char *s, double *out)
{
	double v = 0.0, scale = 0.1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -CAIRN_ERR_INVAL;
	for (; *p >= '0' && *p <= '9'; p++)
		v = v * 10.0 + (*p - '0');
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -CAIRN_ERR_INVAL;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10.0)
			v += (*p - '0') * scale;
	}
	if (*p != '\0' || v > 1.0)
		return -CAIRN_ERR_INVAL;
	*out = v;
	return 0;
}

#define SPEC_MAX_POINTS 64

struct spec_entry {
	char name[CAIRN_FAULT_NAME_MAX + 1];
	struct cairn_fault_cfg cfg;
};

/* Parse one "name[:k=v,...]" (NUL-terminated, modifiable) into e. */
static int
parse_entry(char *tok, struct spec_entry *e, char *err, size_t errlen)
{
	char *colon = strchr(tok, ':'), *p, *next;
	char verr[160];

	memset(e, 0, sizeof(*e));
	e->cfg.prob = 1.0;
	if (colon != NULL)
		*colon = '\0';
	if (!name_valid(tok)) {
		snprintf(err, errlen,
			 "fault point name '%s' is invalid, expected 1..%d "
			 "characters from [A-Za-z0-9._-]",
			 tok, CAIRN_FAULT_NAME_MAX);
		return -CAIRN_ERR_INVAL;
	}
	snprintf(e->name, sizeof(e->name), "%s", tok);
	if (colon == NULL)
		return 0;
	for (p = colon + 1; p != NULL; p = next) {
		char *eq, *val;
		int rc;

		next = strchr(p, ',');
		if (next != NULL)
			*next++ = '\0';
		eq = strchr(p, '=');
		if (eq == NULL) {
			snprintf(err, errlen,
				 "fault '%s': setting '%s' has no '=', expected "
				 "prob=, skip=, count=, seed= or value=",
				 e->name, p);
			return -CAIRN_ERR_INVAL;
		}
		*eq = '\0';
		val = eq + 1;
		verr[0] = '\0';
		if (strcmp(p, "prob") == 0) {
			rc = parse_prob(val, &e->cfg.prob);
			if (rc != 0)
				snprintf(verr, sizeof(verr),
					 "'%s': expected a probability "
					 "0..1 such as 0.25",
					 val);
		} else if (strcmp(p, "skip") == 0) {
			rc = cairn_parse_u64(val, 0, UINT64_MAX, &e->cfg.skip, verr, sizeof(verr));
		} else if (strcmp(p, "count") == 0) {
			rc = cairn_parse_u64(val, 0, UINT64_MAX, &e->cfg.count, verr, sizeof(verr));
		} else if (strcmp(p, "seed") == 0) {
			rc = cairn_parse_u64(val, 0, UINT64_MAX, &e->cfg.seed, verr, sizeof(verr));
		} else if (strcmp(p, "value") == 0) {
			rc = cairn_parse_i64(val, INT64_MIN, INT64_MAX, &e->cfg.value, verr,
					     sizeof(verr));
		} else {
			snprintf(err, errlen,
				 "fault '%s': unknown setting '%s', expected prob, "
				 "skip, count, seed or value",
				 e->name, p);
			return -CAIRN_ERR_INVAL;
		}
		if (rc != 0) {
			snprintf(err, errlen, "fault '%s': %s: %s", e->name, p, verr);
			return -CAIRN_ERR_INVAL;
		}
	}
	return 0;
}

int
cairn_fault_parse(const char *spec, char *err, size_t errlen)
{
	struct spec_entry *entries;
	char *buf, *p, *next;
	int n = 0, rc = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (spec == NULL) {
		snprintf(err, errlen, "no fault spec given");
		return -CAIRN_ERR_INVAL;
	}
	buf = strdup(spec);
	entries = calloc(SPEC_MAX_POINTS, sizeof(*entries));
	if (buf == NULL || entries == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto out_free;
	}
	/* Parse everything first so that a bad entry arms nothing. */
	for (p = buf; p != NULL; p = next) {
		next = strchr(p, ';');
		if (next != NULL)
			*next++ = '\0';
		if (*p == '\0')
			continue; /* tolerate "a;b;" */
		if (n == SPEC_MAX_POINTS) {
			snprintf(err, errlen, "too many fault points in one spec (at most %d)",
				 SPEC_MAX_POINTS);
			rc = -CAIRN_ERR_INVAL;
			goto out_free;
		}
		rc = parse_entry(p, &entries[n], err, errlen);
		if (rc != 0)
			goto out_free;
		n++;
	}
	for (int i = 0; i < n; i++) {
		rc = cairn_fault_arm(entries[i].name, &entries[i].cfg);
		if (rc != 0) {
			snprintf(err, errlen, "fault '%s': cannot arm: %s", entries[i].name,
				 cairn_strerror(rc));
			for (int j = 0; j < i; j++)
				cairn_fault_disarm(entries[j].name);
			goto out_free;
		}
	}
out_free:
	free(entries);
	free(buf);
	return rc;
}

int
cairn_fault_init(void)
{
	const char *spec = getenv("CAIRN_FAULTS");
	char err[256];
	int rc;

	if (spec == NULL || spec[0] == '\0')
		return 0;
	rc = cairn_fault_parse(spec, err, sizeof(err));
	if (rc != 0) {
		CAIRN_ERROR("CAIRN_FAULTS: %s", err);
		return -CAIRN_ERR_INVAL;
	}
	CAIRN_NOTE("fault injection armed from CAIRN_FAULTS: %s", spec);
	return 0;
}

void
cairn_fault_fini(void)
{
	cairn_fault_disarm_all();
}
