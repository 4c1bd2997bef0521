/*
 * Metrics: counters, gauges and latency histograms, kept per xstream (no shared cache
 * lines on the hot path) and aggregated on demand. Plain threads update a shared slot.
 *
 * A metric is a static descriptor registered once:
 *
 *	static struct cairn_metric g_reads = CAIRN_METRIC_COUNTER("vos.reads", "reads served");
 *	cairn_metric_register(&g_reads);
 *	cairn_metric_inc(&g_reads, 1);
 *
 * Updates are single relaxed atomic operations on the calling xstream's slot; an update
 * to an unregistered metric is ignored. Dumps: cairn_metrics_dump_json().
 */
#ifndef CAIRN_RT_METRICS_H
#define CAIRN_RT_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#define CAIRN_METRICS_MAX 256
#define CAIRN_METRIC_NAME_MAX 48
#define CAIRN_HIST_BUCKETS 40 /* bucket i: values in [2^(i-1), 2^i), bucket 0: 0 */

enum cairn_metric_type {
	CAIRN_METRIC_T_COUNTER = 1, /* monotonically increasing u64; aggregate = sum */
	CAIRN_METRIC_T_GAUGE,       /* signed level; aggregate = sum */
	CAIRN_METRIC_T_HISTOGRAM,   /* latency in ns, log2 buckets; aggregate = merged */
};

struct cairn_metric {
	const char *name; /* dotted, e.g. "rt.msgs"; [a-z0-9_.] */
	const char *help;
	enum cairn_metric_type type;
	int id; /* assigned by cairn_metric_register; -1 before */
};

#define CAIRN_METRIC_COUNTER(n, h)                                                                 \
	{                                                                                          \
		.name = (n), .help = (h), .type = CAIRN_METRIC_T_COUNTER, .id = -1                 \
	}
#define CAIRN_METRIC_GAUGE(n, h)                                                                   \
	{                                                                                          \
		.name = (n), .help = (h), .type = CAIRN_METRIC_T_GAUGE, .id = -1                   \
	}
#define CAIRN_METRIC_HISTOGRAM(n, h)                                                               \
	{                                                                                          \
		.name = (n), .help = (h), .type = CAIRN_METRIC_T_HISTOGRAM, .id = -1               \
	}

/* Register (any thread). Registering the same descriptor twice is a no-op. Errors:
 * -CAIRN_ERR_INVAL (bad name/type), -CAIRN_ERR_EXIST (another descriptor has the name),
 * -CAIRN_ERR_NOSPACE (CAIRN_METRICS_MAX reached). */
int cairn_metric_register(struct cairn_metric *m);
/* Forget a descriptor (its values are dropped). */
void cairn_metric_unregister(struct cairn_metric *m);

void cairn_metric_inc(struct cairn_metric *m, uint64_t v);
void cairn_metric_gauge_set(struct cairn_metric *m, int64_t v);
void cairn_metric_gauge_add(struct cairn_metric *m, int64_t v);
void cairn_metric_observe(struct cairn_metric *m, uint64_t ns);

/* Aggregated view of one metric. For histograms, count/sum/min-bucket data. */
struct cairn_metric_value {
	enum cairn_metric_type type;
	uint64_t counter;
	int64_t gauge;
	uint64_t count; /* histogram samples */
	uint64_t sum;   /* histogram sum of values */
	uint64_t max;   /* histogram max value */
	uint64_t buckets[CAIRN_HIST_BUCKETS];
};

/* Sum over every xstream and the plain-thread slot (xs_id < 0), or one xstream's slot
 * (xs_id = cairn_xs_id()). -CAIRN_ERR_NONEXIST for an unregistered metric. */
int cairn_metric_read(const struct cairn_metric *m, int xs_id, struct cairn_metric_value *out);
/* Histogram percentile estimate (upper bound of the bucket holding quantile q, 0..1). */
uint64_t cairn_metric_hist_quantile(const struct cairn_metric_value *v, double q);

/* JSON text (caller frees with free()):
 *   {"metrics":{"rt.msgs":{"type":"counter","help":..,"value":N,
 *                "per_xstream":{"tgt0":N,...}}, "x.lat":{"type":"histogram","count":..,
 *                "sum":..,"max":..,"p50":..,"p99":..,"buckets":[[upper,count],...]}}}
 *    "xstreams":{"tgt0":{"cpu":1,"switches":..,"msgs":..,"sleeps":..,"kicks":..,
 *                "loops":..,"live_ults":..},...}}      (while the runtime runs)
 * per_xstream adds each xstream's own value. NULL on out-of-memory. Any thread. */
char *cairn_metrics_dump_json(bool per_xstream);

/* Zero every value (descriptors stay registered). Any thread; racing updates may be
 * partially kept. */
void cairn_metrics_reset(void);

#endif /* CAIRN_RT_METRICS_H */
