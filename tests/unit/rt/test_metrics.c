/*
 * Metrics: counters/gauges/histograms updated from several xstreams and a plain
 * thread, aggregated on demand, per-xstream values, quantiles, JSON dump parsed back
 * with jansson, registration errors, the runtime's own metrics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rt_test.h"
#include "rt/metrics.h"

static struct cairn_metric g_ops = CAIRN_METRIC_COUNTER("test.ops", "operations");
static struct cairn_metric g_depth = CAIRN_METRIC_GAUGE("test.depth", "queue depth");
static struct cairn_metric g_lat = CAIRN_METRIC_HISTOGRAM("test.lat_ns", "latency");

static int
setup(void **state)
{
	rt_test_start(3, 10);
	assert_int_equal(cairn_metric_register(&g_ops), 0);
	assert_int_equal(cairn_metric_register(&g_depth), 0);
	assert_int_equal(cairn_metric_register(&g_lat), 0);
	return 0;
}

static int
teardown(void **state)
{
	cairn_rt_fini();
	cairn_metric_unregister(&g_ops);
	cairn_metric_unregister(&g_depth);
	cairn_metric_unregister(&g_lat);
	return 0;
}

static void
work_ult(void *arg)
{
	unsigned id = cairn_xs_id(cairn_xs_self()), i;

	for (i = 0; i < 1000 * (id + 1); i++)
		cairn_metric_inc(&g_ops, 1);
	cairn_metric_gauge_set(&g_depth, (int64_t)id * 10);
	cairn_metric_gauge_add(&g_depth, 1);
	for (i = 0; i < 100; i++)
		cairn_metric_observe(&g_lat, 1000); /* bucket [512, 1024) -> upper 1024 */
	cairn_metric_observe(&g_lat, 1u << 20);
}

static void
test_aggregate(void **state)
{
	struct cairn_metric_value v;
	unsigned i;

	cairn_metrics_reset();
	for (i = 0; i < 3; i++)
		rt_test_run(i, work_ult, NULL);
	cairn_metric_inc(&g_ops, 5); /* plain-thread slot */
	assert_int_equal(cairn_metric_read(&g_ops, -1, &v), 0);
	assert_int_equal(v.counter, 1000 + 2000 + 3000 + 5);
	assert_int_equal(cairn_metric_read(&g_ops, 1, &v), 0);
	assert_int_equal(v.counter, 2000);
	assert_int_equal(cairn_metric_read(&g_depth, -1, &v), 0);
	assert_int_equal(v.gauge, 0 + 10 + 20 + 3);
	assert_int_equal(cairn_metric_read(&g_lat, -1, &v), 0);
	assert_int_equal(v.count, 303);
	assert_int_equal(v.sum, 300 * 1000 + 3 * (1u << 20));
	assert_int_equal(v.max, 1u << 20);
	assert_int_equal(cairn_metric_hist_quantile(&v, 0.5), 1024);
	assert_int_equal(cairn_metric_hist_quantile(&v, 1.0), 1u << 21);
	assert_int_equal(cairn_metric_read(&g_ops, CAIRN_RT_MAX_XSTREAMS, &v), -CAIRN_ERR_INVAL);
}

static void
test_json(void **state)
{
	json_error_t err;
	json_t *root, *m, *ops, *lat, *px;
	char *txt;
	unsigned i;

	cairn_metrics_reset();
	for (i = 0; i < 3; i++)
		rt_test_run(i, work_ult, NULL);
	txt = cairn_metrics_dump_json(true);
	assert_non_null(txt);
	root = json_loads(txt, 0, &err);
	free(txt);
	assert_non_null(root);
	m = json_object_get(root, "metrics");
	assert_non_null(m);
	ops = json_object_get(m, "test.ops");
	assert_string_equal(json_string_value(json_object_get(ops, "type")), "counter");
	assert_int_equal(json_integer_value(json_object_get(ops, "value")), 6000);
	px = json_object_get(ops, "per_xstream");
	assert_int_equal(json_integer_value(json_object_get(px, "tgt2")), 3000);
	lat = json_object_get(json_object_get(m, "test.lat_ns"), "value");
	assert_int_equal(json_integer_value(json_object_get(lat, "count")), 303);
	assert_int_equal(json_integer_value(json_object_get(lat, "p50")), 1024);
	assert_int_equal(json_array_size(json_object_get(lat, "buckets")), 2);
	/* Scheduler stats of every xstream. */
	assert_true(json_integer_value(json_object_get(
	                    json_object_get(json_object_get(root, "xstreams"), "tgt1"),
	                    "switches")) >= 1);
	assert_int_equal(json_object_size(json_object_get(root, "xstreams")), 3);
	/* The runtime's own counters are there and moved. */
	assert_true(json_integer_value(
	                    json_object_get(json_object_get(m, "rt.ults_created"), "value")) >= 3);
	json_decref(root);
}

static void
test_register_errors(void **state)
{
	struct cairn_metric dup = CAIRN_METRIC_COUNTER("test.ops", "again");
	struct cairn_metric bad = CAIRN_METRIC_COUNTER("Bad Name", "x");
	struct cairn_metric badt = {.name = "test.t", .type = 0, .id = -1};
	struct cairn_metric unreg = CAIRN_METRIC_COUNTER("test.unreg", "x");
	struct cairn_metric_value v;

	assert_int_equal(cairn_metric_register(&g_ops), 0); /* same descriptor: no-op */
	assert_int_equal(cairn_metric_register(&dup), -CAIRN_ERR_EXIST);
	assert_int_equal(cairn_metric_register(&bad), -CAIRN_ERR_INVAL);
	assert_int_equal(cairn_metric_register(&badt), -CAIRN_ERR_INVAL);
	cairn_metric_inc(&unreg, 1); /* ignored */
	assert_int_equal(cairn_metric_read(&unreg, -1, &v), -CAIRN_ERR_NONEXIST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_aggregate),
	        cmocka_unit_test(test_json),
	        cmocka_unit_test(test_register_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
