/*
 * cairn-common-bench: micro-benchmarks of src/common — checksum throughput (ISA-L vs a
 * table-free bitwise CRC, the measured reason we use ISA-L), hash table and handle table
 * operations, and the cost of disabled log statements and disarmed fault points.
 * Prints a readable table, then one JSON object as the very last line.
 *
 * Usage: cairn-common-bench [--quick]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/csum.h"
#include "common/fault.h"
#include "common/handle.h"
#include "common/hash.h"
#include "common/json.h"
#include "common/list.h"
#include "common/log.h"
#include "common/time.h"
#include "common/units.h"

static volatile uint64_t g_sink;

static uint32_t
bitwise_crc32c(uint32_t seed, const uint8_t *p, size_t len)
{
	uint32_t crc = ~seed;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* Bytes per second of fn over buf, running for about `budget_ns`. */
#define THROUGHPUT(expr, len, budget_ns, out_gbps)                                                 \
	do {                                                                                       \
		uint64_t _t0 = cairn_now_ns(), _n = 0, _t;                                         \
		do {                                                                               \
			g_sink += (expr);                                                          \
			_n++;                                                                      \
		} while ((_t = cairn_now_ns()) - _t0 < (budget_ns));                               \
		(out_gbps) = (double)_n * (double)(len) / (double)(_t - _t0);                      \
	} while (0)

struct kobj {
	uint64_t key;
	struct cairn_hlink link;
};

static uint64_t
k_hash(const void *key)
{
	return cairn_hash_u64(*(const uint64_t *)key);
}

static bool
k_eq(const struct cairn_hlink *l, const void *key)
{
	return cairn_container_of(l, struct kobj, link)->key == *(const uint64_t *)key;
}

static const struct cairn_htable_ops g_kops = {.key_hash = k_hash, .key_eq = k_eq};

struct hobj {
	struct cairn_hobj h;
};

static void
hobj_free(struct cairn_hobj *h)
{
	free(cairn_container_of(h, struct hobj, h));
}

int
main(int argc, char **argv)
{
	bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	uint64_t budget = quick ? 50 * CAIRN_NSEC_PER_MSEC : 300 * CAIRN_NSEC_PER_MSEC;
	size_t nkeys = quick ? 100000 : 1000000;
	double crc32c_gbps, crc64_gbps, bitwise_gbps, crc32c_4k_gbps;
	double ins_ns, hit_ns, miss_ns, hlookup_ns, log_off_ns, fault_off_ns, fault_other_ns;
	double size_parse_ns;
	size_t buflen = 1 << 20;
	uint8_t *buf = malloc(buflen);
	struct kobj *objs = calloc(nkeys, sizeof(*objs));
	struct cairn_htable ht;
	struct cairn_htab *tab;
	uint64_t *cookies;
	uint64_t t0, n;
	json_t *j;

	if (buf == NULL || objs == NULL) {
		fprintf(stderr, "cairn-common-bench: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < buflen; i++)
		buf[i] = (uint8_t)(i * 131 + 7);

	/* Checksums. */
	THROUGHPUT(cairn_crc32c(0, buf, buflen), buflen, budget, crc32c_gbps);
	THROUGHPUT(cairn_crc32c(0, buf, 4096), 4096, budget, crc32c_4k_gbps);
	THROUGHPUT(cairn_crc64(0, buf, buflen), buflen, budget, crc64_gbps);
	THROUGHPUT(bitwise_crc32c(0, buf, 65536), 65536, budget, bitwise_gbps);
	if (cairn_crc32c(0, buf, 65536) != bitwise_crc32c(0, buf, 65536)) {
		fprintf(stderr, "cairn-common-bench: CRC32C mismatch against the reference\n");
		return 1;
	}

	/* Hash table: insert nkeys, look each up, then look up absent keys. */
	if (cairn_htable_init(&ht, &g_kops, 0) != 0)
		return 1;
	for (size_t i = 0; i < nkeys; i++)
		objs[i].key = cairn_hash_u64(i + 1);
	t0 = cairn_now_ns();
	for (size_t i = 0; i < nkeys; i++)
		(void)cairn_htable_insert(&ht, &objs[i].key, &objs[i].link);
	ins_ns = (double)(cairn_now_ns() - t0) / (double)nkeys;
	t0 = cairn_now_ns();
	for (size_t i = 0; i < nkeys; i++)
		g_sink += (uintptr_t)cairn_htable_lookup(&ht, &objs[(i * 7919) % nkeys].key);
	hit_ns = (double)(cairn_now_ns() - t0) / (double)nkeys;
	t0 = cairn_now_ns();
	for (size_t i = 0; i < nkeys; i++) {
		uint64_t k = cairn_hash_u64(i + nkeys + 1);

		g_sink += (uintptr_t)cairn_htable_lookup(&ht, &k);
	}
	miss_ns = (double)(cairn_now_ns() - t0) / (double)nkeys;
	cairn_htable_fini(&ht);

	/* Handle table: lookup + put of 1024 live handles, single thread. */
	if (cairn_htab_create(&tab, 0) != 0)
		return 1;
	cookies = calloc(1024, sizeof(*cookies));
	for (int i = 0; i < 1024; i++) {
		struct hobj *o = calloc(1, sizeof(*o));

		if (o == NULL || cookies == NULL)
			return 1;
		cairn_handle_init(&o->h, 1, hobj_free);
		(void)cairn_htab_insert(tab, &o->h);
		cookies[i] = o->h.cookie;
		cairn_handle_put(&o->h);
	}
	n = 0;
	t0 = cairn_now_ns();
	do {
		for (int i = 0; i < 1024; i++) {
			struct cairn_hobj *h = cairn_htab_lookup(tab, cookies[i], 1);

			cairn_handle_put(h);
		}
		n += 1024;
	} while (cairn_now_ns() - t0 < budget);
	hlookup_ns = (double)(cairn_now_ns() - t0) / (double)n;
	cairn_htab_destroy(tab);
	free(cookies);

	/* A disabled log statement, and a fault point while nothing / another is armed. */
	cairn_log_set_mask("ERR");
	n = 10000000;
	t0 = cairn_now_ns();
	for (uint64_t i = 0; i < n; i++)
		CAIRN_LOG(CAIRN_SS_VOS, CAIRN_LOG_DEBUG, "value %llu", (unsigned long long)i);
	log_off_ns = (double)(cairn_now_ns() - t0) / (double)n;
	t0 = cairn_now_ns();
	for (uint64_t i = 0; i < n; i++)
		g_sink += CAIRN_FAULT("bench.point");
	fault_off_ns = (double)(cairn_now_ns() - t0) / (double)n;
	(void)cairn_fault_arm("bench.other", NULL);
	t0 = cairn_now_ns();
	for (uint64_t i = 0; i < n / 100; i++)
		g_sink += CAIRN_FAULT("bench.point");
	fault_other_ns = (double)(cairn_now_ns() - t0) / (double)(n / 100);
	cairn_fault_disarm_all();

	t0 = cairn_now_ns();
	for (uint64_t i = 0; i < n / 10; i++) {
		uint64_t v;

		(void)cairn_parse_size("1.5GiB", &v, NULL, 0);
		g_sink += v;
	}
	size_parse_ns = (double)(cairn_now_ns() - t0) / (double)(n / 10);

	printf("%-40s %12s\n", "benchmark", "result");
	printf("%-40s %9.2f GB/s\n", "crc32c (ISA-L), 1 MiB buffers", crc32c_gbps);
	printf("%-40s %9.2f GB/s\n", "crc32c (ISA-L), 4 KiB buffers", crc32c_4k_gbps);
	printf("%-40s %9.2f GB/s\n", "crc64 (ISA-L), 1 MiB buffers", crc64_gbps);
	printf("%-40s %9.3f GB/s\n", "crc32c bitwise reference, 64 KiB", bitwise_gbps);
	printf("%-40s %9.0f x\n", "ISA-L / bitwise crc32c", crc32c_gbps / bitwise_gbps);
	printf("%-40s %9.1f ns\n", "hash table insert (grow included)", ins_ns);
	printf("%-40s %9.1f ns\n", "hash table lookup, hit", hit_ns);
	printf("%-40s %9.1f ns\n", "hash table lookup, miss", miss_ns);
	printf("%-40s %9zu\n", "hash table keys", nkeys);
	printf("%-40s %9.1f ns\n", "handle lookup + put", hlookup_ns);
	printf("%-40s %9.2f ns\n", "disabled log statement", log_off_ns);
	printf("%-40s %9.2f ns\n", "fault point, nothing armed", fault_off_ns);
	printf("%-40s %9.1f ns\n", "fault point, another point armed", fault_other_ns);
	printf("%-40s %9.1f ns\n", "parse_size(\"1.5GiB\")", size_parse_ns);

	j = json_pack("{s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:f, s:f, s:f, s:f, s:f}",
		      "bench", "common", "crc32c_gbps", crc32c_gbps, "crc32c_4k_gbps",
		      crc32c_4k_gbps, "crc64_gbps", crc64_gbps, "crc32c_bitwise_gbps", bitwise_gbps,
		      "crc32c_isal_vs_bitwise_ratio", crc32c_gbps / bitwise_gbps,
		      "htable_insert_ns", ins_ns, "htable_hit_ns", hit_ns, "htable_miss_ns",
		      miss_ns, "htable_keys", (json_int_t)nkeys, "handle_lookup_put_ns", hlookup_ns,
		      "log_disabled_ns", log_off_ns, "fault_disarmed_ns", fault_off_ns,
		      "fault_other_armed_ns", fault_other_ns, "parse_size_ns", size_parse_ns);
	if (j == NULL || cairn_json_print(stdout, j, false) != 0)
		return 1;
	json_decref(j);
	free(objs);
	free(buf);
	return (int)(g_sink & 0); /* keep g_sink alive */
}
