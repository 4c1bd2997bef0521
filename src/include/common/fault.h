/*
 * Fault injection points, by name (DAOS's DAOS_FAIL_CHECK idea):
 *
 *   if (CAIRN_FAULT("vos.wal.write"))
 *           return -CAIRN_ERR_IO;
 *
 * Points are compiled in always. While no point is armed, CAIRN_FAULT() is one load and
 * one well-predicted branch; it does not evaluate anything else. Arm points at run time
 * with cairn_fault_arm(), or from the environment at cairn_fault_init():
 *
 *   CAIRN_FAULTS="vos.wal.write:prob=0.1,count=3;net.send:skip=5,count=1"
 *
 * Per point: prob (0..1, default 1), skip (first N hits never fire, default 0), count
 * (fire at most N times, 0 = unlimited, default 0), seed (of the point's own PRNG, so a
 * run is reproducible; default derived from the name), value (an integer the code at
 * the point may read with cairn_fault_value(), e.g. an error code). A bare name arms the
 * point to fire on every hit.
 *
 * Names: 1..63 characters from [A-Za-z0-9._-]. Threads: any thread; the slow path (some
 * point armed) takes a mutex.
 */
#ifndef CAIRN_COMMON_FAULT_H
#define CAIRN_COMMON_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAIRN_FAULT_NAME_MAX 63

struct cairn_fault_cfg {
	double prob;    /**< probability of firing on an eligible hit, 0..1 */
	uint64_t skip;  /**< hits that pass before any may fire */
	uint64_t count; /**< most fires (0 = unlimited) */
	uint64_t seed;  /**< PRNG seed (0 = derived from the name) */
	int64_t value;  /**< payload for cairn_fault_value() */
};

/** Number of armed points; written only by fault.c. */
extern uint32_t g_cairn_fault_armed;

/** Slow path of CAIRN_FAULT(): whether the named point fires on this hit. */
bool cairn_fault_check(const char *name);

#define CAIRN_FAULT(name)                                                                          \
	(__builtin_expect(__atomic_load_n(&g_cairn_fault_armed, __ATOMIC_RELAXED) != 0, 0) &&      \
	 cairn_fault_check(name))

/**
 * Arm (or re-arm, resetting its counters) a point.
 * \param[in] cfg settings, or NULL to fire on every hit
 * \return 0 or -CAIRN_ERR_INVAL (bad name, prob outside 0..1), -CAIRN_ERR_NOMEM
 */
int cairn_fault_arm(const char *name, const struct cairn_fault_cfg *cfg);

/** Disarm a point. \return 0 or -CAIRN_ERR_NONEXIST (not armed) */
int cairn_fault_disarm(const char *name);

/** Disarm every point and free their state. */
void cairn_fault_disarm_all(void);

/**
 * Arm the points of a spec string ("name[:k=v[,k=v...]][;name...]"); all or nothing.
 * \return 0 or -CAIRN_ERR_INVAL with the reason in err
 */
int cairn_fault_parse(const char *spec, char *err, size_t errlen);

/** Arm points from CAIRN_FAULTS if set; logs and returns -CAIRN_ERR_INVAL if bad. */
int cairn_fault_init(void);

/** Disarm everything (same as cairn_fault_disarm_all()). */
void cairn_fault_fini(void);

/**
 * Counters of an armed point.
 * \param[out] hits  times the point was checked while armed (may be NULL)
 * \param[out] fired times it fired (may be NULL)
 * \return 0 or -CAIRN_ERR_NONEXIST
 */
int cairn_fault_stats(const char *name, uint64_t *hits, uint64_t *fired);

/** The armed point's `value`, or `dflt` when it is not armed. */
int64_t cairn_fault_value(const char *name, int64_t dflt);

#endif /* CAIRN_COMMON_FAULT_H */
