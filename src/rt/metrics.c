/*
 * Metrics: descriptor table plus per-xstream value blocks (one cache-line aligned block
 * per metric and xstream, allocated on first update) and one shared block for plain
 * threads. Readers sum the blocks on demand. Values are relaxed atomics, so a reader on
 * another thread sees a consistent-enough snapshot without slowing writers.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define CAIRN_LOG_SS CAIRN_SS_RT
#include "common/log.h"
#include "rt_internal.h"
#include "rt/metrics.h"

#define NR_SLOTS (CAIRN_RT_MAX_XSTREAMS + 1) /* last: plain threads */

struct mval {
	_Atomic uint64_t v; /* counter, or gauge as two's complement */
	_Atomic uint64_t count;
	_Atomic uint64_t sum;
	_Atomic uint64_t max;
	_Atomic uint64_t buckets[CAIRN_HIST_BUCKETS];
};

static pthread_mutex_t g_m_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cairn_metric *g_m[CAIRN_METRICS_MAX];
static _Atomic(struct mval *) g_vals[CAIRN_METRICS_MAX][NR_SLOTS];

static struct cairn_metric g_rt_ults = CAIRN_METRIC_COUNTER("rt.ults_created", "ULTs created");
static struct cairn_metric g_rt_msgs = CAIRN_METRIC_COUNTER("rt.msgs", "messages handled");
static struct cairn_metric g_rt_polls =
        CAIRN_METRIC_COUNTER("rt.timed_poller_runs", "timed poller invocations");
static struct cairn_metric g_rt_sleep =
        CAIRN_METRIC_HISTOGRAM("rt.idle_sleep_ns", "time spent asleep per idle sleep");

static bool
metric_name_ok(const char *n)
{
	size_t i, len;

	if (n == NULL)
		return false;
	len = strlen(n);
	if (len == 0 || len >= CAIRN_METRIC_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = n[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
			return false;
	}
	return true;
}

int
cairn_metric_register(struct cairn_metric *m)
{
	int i, free_slot = -1;

	if (m == NULL || !metric_name_ok(m->name) || m->type < CAIRN_METRIC_T_COUNTER ||
	    m->type > CAIRN_METRIC_T_HISTOGRAM) {
		CAIRN_ERROR("metric '%s': bad descriptor (name of [a-z0-9_.], below %d chars; "
		            "type counter/gauge/histogram)",
		            m && m->name ? m->name : "?", CAIRN_METRIC_NAME_MAX);
		return -CAIRN_ERR_INVAL;
	}
	pthread_mutex_lock(&g_m_lock);
	for (i = 0; i < CAIRN_METRICS_MAX; i++) {
		if (g_m[i] == m) {
			pthread_mutex_unlock(&g_m_lock);
			return 0;
		}
		if (g_m[i] != NULL && strcmp(g_m[i]->name, m->name) == 0) {
			pthread_mutex_unlock(&g_m_lock);
			CAIRN_ERROR("metric '%s' already registered", m->name);
			return -CAIRN_ERR_EXIST;
		}
		if (g_m[i] == NULL && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0) {
		pthread_mutex_unlock(&g_m_lock);
		return -CAIRN_ERR_NOSPACE;
	}
	g_m[free_slot] = m;
	m->id = free_slot;
	pthread_mutex_unlock(&g_m_lock);
	return 0;
}

/* In a fork()ed child (xstream.c): the lock may have been held by a thread that is gone. */
void
rt_metrics_atfork_child(void)
{
	pthread_mutex_init(&g_m_lock, NULL);
}

static void
values_free(int id)
{
	unsigned s;

	for (s = 0; s < NR_SLOTS; s++)
		free(atomic_exchange(&g_vals[id][s], NULL));
}

void
cairn_metric_unregister(struct cairn_metric *m)
{
	if (m == NULL || m->id < 0 || m->id >= CAIRN_METRICS_MAX)
		return;
	pthread_mutex_lock(&g_m_lock);
	if (g_m[m->id] == m) {
		g_m[m->id] = NULL;
		values_free(m->id);
	}
	m->id = -1;
	pthread_mutex_unlock(&g_m_lock);
}

static struct mval *
slot_get(const struct cairn_metric *m)
{
	struct cairn_xstream *xs = t_rt_xs;
	unsigned s = xs != NULL ? xs->id : CAIRN_RT_MAX_XSTREAMS;
	struct mval *v, *exp = NULL;

	if (m->id < 0 || m->id >= CAIRN_METRICS_MAX)
		return NULL;
	v = atomic_load_explicit(&g_vals[m->id][s], memory_order_acquire);
	if (v != NULL)
		return v;
	v = aligned_alloc(RT_CACHELINE,
	                  (sizeof(*v) + RT_CACHELINE - 1) & ~(size_t)(RT_CACHELINE - 1));
	if (v == NULL)
		return NULL;
	memset(v, 0, sizeof(*v));
	if (!atomic_compare_exchange_strong(&g_vals[m->id][s], &exp, v)) {
		free(v);
		v = exp;
	}
	return v;
}

void
cairn_metric_inc(struct cairn_metric *m, uint64_t n)
{
	struct mval *v = slot_get(m);

	if (v != NULL)
		atomic_fetch_add_explicit(&v->v, n, memory_order_relaxed);
}

void
cairn_metric_gauge_set(struct cairn_metric *m, int64_t n)
{
	struct mval *v = slot_get(m);

	if (v != NULL)
		atomic_store_explicit(&v->v, (uint64_t)n, memory_order_relaxed);
}

void
cairn_metric_gauge_add(struct cairn_metric *m, int64_t n)
{
	struct mval *v = slot_get(m);

	if (v != NULL)
		atomic_fetch_add_explicit(&v->v, (uint64_t)n, memory_order_relaxed);
}

static unsigned
bucket_of(uint64_t ns)
{
	unsigned b;

	if (ns == 0)
		return 0;
	b = 64u - (unsigned)__builtin_clzll(ns);
	return b < CAIRN_HIST_BUCKETS ? b : CAIRN_HIST_BUCKETS - 1;
}

void
cairn_metric_observe(struct cairn_metric *m, uint64_t ns)
{
	struct mval *v = slot_get(m);
	uint64_t mx;

	if (v == NULL)
		return;
	atomic_fetch_add_explicit(&v->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&v->sum, ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&v->buckets[bucket_of(ns)], 1, memory_order_relaxed);
	mx = atomic_load_explicit(&v->max, memory_order_relaxed);
	while (ns > mx && !atomic_compare_exchange_weak(&v->max, &mx, ns))
		;
}

static void
accumulate(struct cairn_metric_value *out, struct mval *v)
{
	unsigned b;
	uint64_t mx;

	if (v == NULL)
		return;
	out->counter += atomic_load_explicit(&v->v, memory_order_relaxed);
	out->gauge += (int64_t)atomic_load_explicit(&v->v, memory_order_relaxed);
	out->count += atomic_load_explicit(&v->count, memory_order_relaxed);
	out->sum += atomic_load_explicit(&v->sum, memory_order_relaxed);
	mx = atomic_load_explicit(&v->max, memory_order_relaxed);
	if (mx > out->max)
		out->max = mx;
	for (b = 0; b < CAIRN_HIST_BUCKETS; b++)
		out->buckets[b] += atomic_load_explicit(&v->buckets[b], memory_order_relaxed);
}

int
cairn_metric_read(const struct cairn_metric *m, int xs_id, struct cairn_metric_value *out)
{
	unsigned s;

	if (m == NULL || out == NULL || m->id < 0 || m->id >= CAIRN_METRICS_MAX || g_m[m->id] != m)
		return -CAIRN_ERR_NONEXIST;
	if (xs_id >= CAIRN_RT_MAX_XSTREAMS)
		return -CAIRN_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	out->type = m->type;
	if (xs_id >= 0) {
		accumulate(out, atomic_load(&g_vals[m->id][xs_id]));
		return 0;
	}
	for (s = 0; s < NR_SLOTS; s++)
		accumulate(out, atomic_load(&g_vals[m->id][s]));
	return 0;
}

uint64_t
cairn_metric_hist_quantile(const struct cairn_metric_value *v, double q)
{
	uint64_t target, seen = 0;
	unsigned b;

	if (v->count == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	target = (uint64_t)(q * (double)v->count);
	if (target == 0)
		target = 1;
	for (b = 0; b < CAIRN_HIST_BUCKETS; b++) {
		seen += v->buckets[b];
		if (seen >= target)
			return b == 0 ? 0 : (b == CAIRN_HIST_BUCKETS - 1 ? v->max : (1ull << b));
	}
	return v->max;
}

static const char *
type_name(enum cairn_metric_type t)
{
	switch (t) {
	case CAIRN_METRIC_T_COUNTER:
		return "counter";
	case CAIRN_METRIC_T_GAUGE:
		return "gauge";
	default:
		return "histogram";
	}
}

static json_t *
value_json(const struct cairn_metric *m, const struct cairn_metric_value *v)
{
	json_t *o, *b;
	unsigned i;

	if (m->type == CAIRN_METRIC_T_COUNTER)
		return json_integer((json_int_t)v->counter);
	if (m->type == CAIRN_METRIC_T_GAUGE)
		return json_integer((json_int_t)v->gauge);
	o = json_object();
	b = json_array();
	if (o == NULL || b == NULL) {
		json_decref(o);
		json_decref(b);
		return NULL;
	}
	json_object_set_new(o, "count", json_integer((json_int_t)v->count));
	json_object_set_new(o, "sum", json_integer((json_int_t)v->sum));
	json_object_set_new(o, "max", json_integer((json_int_t)v->max));
	json_object_set_new(o, "p50", json_integer((json_int_t)cairn_metric_hist_quantile(v, 0.5)));
	json_object_set_new(o, "p99",
	                    json_integer((json_int_t)cairn_metric_hist_quantile(v, 0.99)));
	for (i = 0; i < CAIRN_HIST_BUCKETS; i++) {
		if (v->buckets[i] == 0)
			continue;
		json_array_append_new(b, json_pack("[II]", (json_int_t)(i ? (1ull << i) : 0),
		                                   (json_int_t)v->buckets[i]));
	}
	json_object_set_new(o, "buckets", b);
	return o;
}

char *
cairn_metrics_dump_json(bool per_xstream)
{
	json_t *root = json_object(), *ms = json_object();
	char *txt = NULL;
	unsigned i, x;

	if (root == NULL || ms == NULL)
		goto out;
	pthread_mutex_lock(&g_m_lock);
	for (i = 0; i < CAIRN_METRICS_MAX; i++) {
		struct cairn_metric *m = g_m[i];
		struct cairn_metric_value v;
		json_t *e;

		if (m == NULL)
			continue;
		e = json_object();
		if (e == NULL)
			continue;
		json_object_set_new(e, "type", json_string(type_name(m->type)));
		json_object_set_new(e, "help", json_string(m->help ? m->help : ""));
		cairn_metric_read(m, -1, &v);
		json_object_set_new(e, "value", value_json(m, &v));
		if (per_xstream && atomic_load(&g_rt.running)) {
			json_t *px = json_object();

			for (x = 0; px != NULL && x < g_rt.nr_xs; x++) {
				if (atomic_load(&g_vals[i][x]) == NULL)
					continue;
				cairn_metric_read(m, (int)x, &v);
				json_object_set_new(px, g_rt.xs[x]->name, value_json(m, &v));
			}
			if (px != NULL)
				json_object_set_new(e, "per_xstream", px);
		}
		json_object_set_new(ms, m->name, e);
	}
	pthread_mutex_unlock(&g_m_lock);
	json_object_set_new(root, "metrics", ms);
	ms = NULL;
	if (atomic_load(&g_rt.running)) {
		json_t *xj = json_object();

		for (x = 0; xj != NULL && x < g_rt.nr_xs; x++) {
			struct cairn_xs_stats st;

			cairn_xs_stats(g_rt.xs[x], &st);
			json_object_set_new(
			        xj, g_rt.xs[x]->name,
			        json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:i}", "cpu", g_rt.xs[x]->cpu,
			                  "switches", (json_int_t)st.switches, "msgs",
			                  (json_int_t)st.msgs, "sleeps", (json_int_t)st.sleeps,
			                  "kicks", (json_int_t)st.kicks, "loops",
			                  (json_int_t)st.loops, "live_ults", (int)st.live_ults));
		}
		if (xj != NULL)
			json_object_set_new(root, "xstreams", xj);
	}
	txt = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
out:
	json_decref(ms);
	json_decref(root);
	return txt;
}

void
cairn_metrics_reset(void)
{
	unsigned i, s;

	for (i = 0; i < CAIRN_METRICS_MAX; i++) {
		for (s = 0; s < NR_SLOTS; s++) {
			struct mval *v = atomic_load(&g_vals[i][s]);
			unsigned b;

			if (v == NULL)
				continue;
			atomic_store(&v->v, 0);
			atomic_store(&v->count, 0);
			atomic_store(&v->sum, 0);
			atomic_store(&v->max, 0);
			for (b = 0; b < CAIRN_HIST_BUCKETS; b++)
				atomic_store(&v->buckets[b], 0);
		}
	}
}

/* ------------------------------------------------------------------ runtime's own */

void
rt_metrics_register_builtin(void)
{
	cairn_metric_register(&g_rt_ults);
	cairn_metric_register(&g_rt_msgs);
	cairn_metric_register(&g_rt_polls);
	cairn_metric_register(&g_rt_sleep);
}

void
rt_metrics_free_values(void)
{
	unsigned i;

	pthread_mutex_lock(&g_m_lock);
	for (i = 0; i < CAIRN_METRICS_MAX; i++)
		values_free((int)i);
	pthread_mutex_unlock(&g_m_lock);
}

void
rt_metric_ult_created(void)
{
	cairn_metric_inc(&g_rt_ults, 1);
}

void
rt_metric_msgs(unsigned n)
{
	cairn_metric_inc(&g_rt_msgs, n);
}

void
rt_metric_sleep(uint64_t ns)
{
	cairn_metric_observe(&g_rt_sleep, ns);
}

void
rt_metric_poller_runs(unsigned n)
{
	cairn_metric_inc(&g_rt_polls, n);
}
