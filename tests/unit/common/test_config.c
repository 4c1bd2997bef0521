/* Unit tests for src/common/config.c: a server-like schema loaded from temp YAML files,
 * defaults, every kind of error with its line number, alias bombs, schema checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cairn/errno.h"
#include "common/config.h"
#include "common/json.h"

enum transport { TR_TCP = 1, TR_RDMA = 2 };

struct engine_cfg {
	uint32_t targets;
	uint32_t helpers;
	char *log_mask;
	uint64_t mem;
	uint64_t timeout_ns;
	int transport;
	uint32_t *cores;
	uint32_t ncores;
	bool pinned;
};

struct storage_cfg {
	char *path;
	uint64_t size;
};

struct server_cfg {
	char *name;
	uint32_t port;
	uint64_t seq;
	struct storage_cfg storage;
	struct engine_cfg *engines;
	uint32_t nengines;
	char **tags;
	uint32_t ntags;
};

static const struct cairn_cfg_enum g_transports[] = {
	{"tcp", TR_TCP},
	{"rdma", TR_RDMA},
	{NULL, 0},
};

static void
engine_init(void *p)
{
	struct engine_cfg *e = p;

	e->helpers = 2;
	e->mem = 1ull << 30; /* defaults within the limits keep dumps loadable */
	e->transport = TR_TCP;
	e->timeout_ns = 5000000000ull;
}

static const struct cairn_cfg_field g_engine_fields[] = {
	{.name = "targets",
	 .type = CAIRN_CFG_U32,
	 .offset = offsetof(struct engine_cfg, targets),
	 .required = true,
	 .min = 1,
	 .max = 64},
	{.name = "helpers",
	 .type = CAIRN_CFG_U32,
	 .offset = offsetof(struct engine_cfg, helpers),
	 .max = 16},
	{.name = "log_mask",
	 .type = CAIRN_CFG_STRING,
	 .offset = offsetof(struct engine_cfg, log_mask),
	 .min = 1,
	 .max = 128},
	{.name = "mem",
	 .type = CAIRN_CFG_SIZE,
	 .offset = offsetof(struct engine_cfg, mem),
	 .min = 1 << 20},
	{.name = "timeout",
	 .type = CAIRN_CFG_DURATION,
	 .offset = offsetof(struct engine_cfg, timeout_ns),
	 .min = 1000000,
	 .max = 60000000000ull},
	{.name = "transport",
	 .type = CAIRN_CFG_ENUM,
	 .offset = offsetof(struct engine_cfg, transport),
	 .enums = g_transports},
	{.name = "cores",
	 .type = CAIRN_CFG_LIST,
	 .offset = offsetof(struct engine_cfg, cores),
	 .elem_type = CAIRN_CFG_U32,
	 .count_offset = offsetof(struct engine_cfg, ncores),
	 .max = 1023,
	 .max_count = 8},
	{.name = "pinned", .type = CAIRN_CFG_BOOL, .offset = offsetof(struct engine_cfg, pinned)},
	{.name = NULL},
};

static const struct cairn_cfg_schema g_engine_schema = {
	.name = "engine",
	.size = sizeof(struct engine_cfg),
	.fields = g_engine_fields,
	.init = engine_init,
};

static const struct cairn_cfg_field g_storage_fields[] = {
	{.name = "path",
	 .type = CAIRN_CFG_STRING,
	 .offset = offsetof(struct storage_cfg, path),
	 .required = true,
	 .min = 1},
	{.name = "size", .type = CAIRN_CFG_SIZE, .offset = offsetof(struct storage_cfg, size)},
	{.name = NULL},
};

static const struct cairn_cfg_schema g_storage_schema = {
	.name = "storage",
	.size = sizeof(struct storage_cfg),
	.fields = g_storage_fields,
};

static const struct cairn_cfg_field g_server_fields[] = {
	{.name = "name",
	 .type = CAIRN_CFG_STRING,
	 .offset = offsetof(struct server_cfg, name),
	 .required = true,
	 .min = 1,
	 .max = 32},
	{.name = "port",
	 .type = CAIRN_CFG_U32,
	 .offset = offsetof(struct server_cfg, port),
	 .min = 1,
	 .max = 65535},
	{.name = "seq", .type = CAIRN_CFG_U64, .offset = offsetof(struct server_cfg, seq)},
	{.name = "storage",
	 .type = CAIRN_CFG_MAP,
	 .offset = offsetof(struct server_cfg, storage),
	 .sub = &g_storage_schema},
	{.name = "engines",
	 .type = CAIRN_CFG_LIST,
	 .offset = offsetof(struct server_cfg, engines),
	 .elem_type = CAIRN_CFG_MAP,
	 .sub = &g_engine_schema,
	 .count_offset = offsetof(struct server_cfg, nengines),
	 .required = true,
	 .min_count = 1,
	 .max_count = 4},
	{.name = "tags",
	 .type = CAIRN_CFG_LIST,
	 .offset = offsetof(struct server_cfg, tags),
	 .elem_type = CAIRN_CFG_STRING,
	 .count_offset = offsetof(struct server_cfg, ntags)},
	{.name = NULL},
};

static const struct cairn_cfg_schema g_server_schema = {
	.name = "server config",
	.size = sizeof(struct server_cfg),
	.fields = g_server_fields,
};

static char g_path[64];

static void
write_file(const char *text)
{
	FILE *f = fopen(g_path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	fclose(f);
}

static int
setup(void **state)
{
	int fd;

	snprintf(g_path, sizeof(g_path), "/tmp/cairn_test_cfg_XXXXXX");
	fd = mkstemp(g_path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	unlink(g_path);
	return 0;
}

static void
defaults(struct server_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->port = 10001;
	c->storage.size = 1ull << 30;
}

static const char *g_good = "# a server\n"
			    "name: node-a\n"
			    "seq: 0x10\n"
			    "storage:\n"
			    "  path: /var/cairn\n"
			    "engines:\n"
			    "  - targets: 4\n"
			    "    mem: 4G\n"
			    "    timeout: 500ms\n"
			    "    transport: rdma\n"
			    "    cores: [0, 1, 2, 3]\n"
			    "    pinned: yes\n"
			    "    log_mask: \"ERR,vos=DEBUG\"\n"
			    "  - targets: 2\n"
			    "tags: [fast, \"ssd\"]\n";

static void
test_load_good(void **state)
{
	struct server_cfg c;
	char err[512];

	write_file(g_good);
	defaults(&c);
	assert_int_equal(cairn_cfg_load_file(g_path, &g_server_schema, &c, err, sizeof(err)), 0);
	assert_string_equal(c.name, "node-a");
	assert_int_equal(c.port, 10001); /* default kept */
	assert_true(c.seq == 16);
	assert_string_equal(c.storage.path, "/var/cairn");
	assert_true(c.storage.size == 1ull << 30); /* default kept in a sub-map */
	assert_int_equal(c.nengines, 2);
	assert_int_equal(c.engines[0].targets, 4);
	assert_true(c.engines[0].mem == 4ull << 30);
	assert_true(c.engines[0].timeout_ns == 500000000ull);
	assert_int_equal(c.engines[0].transport, TR_RDMA);
	assert_int_equal(c.engines[0].ncores, 4);
	assert_int_equal(c.engines[0].cores[3], 3);
	assert_true(c.engines[0].pinned);
	assert_string_equal(c.engines[0].log_mask, "ERR,vos=DEBUG");
	assert_int_equal(c.engines[0].helpers, 2); /* element init() */
	assert_int_equal(c.engines[1].targets, 2);
	assert_int_equal(c.engines[1].transport, TR_TCP);
	assert_true(c.engines[1].timeout_ns == 5000000000ull);
	assert_null(c.engines[1].cores);
	assert_int_equal(c.ntags, 2);
	assert_string_equal(c.tags[1], "ssd");

	/* Loading again over the same struct replaces (and frees) the old values. */
	assert_int_equal(cairn_cfg_load_string("again", "name: b\nengines:\n  - targets: 1\n",
					       strlen("name: b\nengines:\n  - targets: 1\n"),
					       &g_server_schema, &c, err, sizeof(err)),
			 0);
	assert_string_equal(c.name, "b");
	assert_int_equal(c.nengines, 1);
	assert_int_equal(c.ntags, 2); /* untouched key keeps its value */
	cairn_cfg_free(&g_server_schema, &c);
	assert_null(c.name);
	assert_null(c.engines);
	assert_int_equal(c.nengines, 0);
	assert_null(c.tags);
	assert_null(c.storage.path);
}

/* Load text; expect failure whose message contains every given fragment. */
static void
expect_error(const char *text, int want_rc, const char *frag1, const char *frag2)
{
	struct server_cfg c;
	char err[512];
	int rc;

	defaults(&c);
	rc = cairn_cfg_load_string("t.yaml", text, strlen(text), &g_server_schema, &c, err,
				   sizeof(err));
	cairn_cfg_free(&g_server_schema, &c);
	if (rc != want_rc || strstr(err, frag1) == NULL ||
	    (frag2 != NULL && strstr(err, frag2) == NULL)) {
		print_error("rc %d (want %d), message: %s\nwanted: '%s' and '%s'\ntext:\n%s\n", rc,
			    want_rc, err, frag1, frag2 ? frag2 : "", text);
		fail();
	}
}

static void
test_errors_with_lines(void **state)
{
	/* Unknown key, with the valid ones listed. */
	expect_error("name: a\nengines:\n  - targets: 1\nnmae: b\n", -CAIRN_ERR_INVAL,
		     "t.yaml:4: key 'nmae': unknown key in server config",
		     "expected one of: name, port, seq, storage, engines, tags");
	/* Nested unknown key: full path. */
	expect_error("name: a\nengines:\n  - targets: 1\n  - targets: 2\n    tragets: 3\n",
		     -CAIRN_ERR_INVAL, "t.yaml:5: key 'engines[1].tragets': unknown key in engine",
		     NULL);
	/* Out of range. */
	expect_error("name: a\nengines:\n  - targets: 1\n  - targets: 65\n", -CAIRN_ERR_INVAL,
		     "t.yaml:4: key 'engines[1].targets': 65 is out of range",
		     "expected an unsigned integer in 1..64");
	expect_error("name: a\nport: 0\nengines:\n  - targets: 1\n", -CAIRN_ERR_INVAL,
		     "t.yaml:2: key 'port': 0 is out of range", "1..65535");
	/* Wrong type: not a number; a list where a scalar belongs; a scalar for a map. */
	expect_error("name: a\nport: http\nengines:\n  - targets: 1\n", -CAIRN_ERR_INVAL,
		     "t.yaml:2: key 'port': 'http' is not valid", "expected an unsigned integer");
	expect_error("name: [a, b]\nengines:\n  - targets: 1\n", -CAIRN_ERR_INVAL,
		     "t.yaml:1: key 'name': got a list, expected a string", NULL);
	expect_error("name: a\nstorage: /x\nengines:\n  - targets: 1\n", -CAIRN_ERR_INVAL,
		     "t.yaml:2: key 'storage': got a scalar, expected a mapping (storage)", NULL);
	expect_error("name: a\nengines: 3\n", -CAIRN_ERR_INVAL,
		     "t.yaml:2: key 'engines': got a scalar, expected a list", NULL);
	/* Missing required keys: reported at the map that lacks them. */
	expect_error("port: 5\nengines:\n  - targets: 1\n", -CAIRN_ERR_INVAL,
		     "t.yaml:1: key 'name': required key is missing", NULL);
	expect_error("name: a\nengines:\n  - targets: 1\n  - helpers: 1\n", -CAIRN_ERR_INVAL,
		     "t.yaml:4: key 'engines[1].targets': required key is missing from the engine",
		     "expected an unsigned integer in 1..64");
	expect_error("name: a\nstorage:\n  size: 1G\nengines:\n  - targets: 1\n", -CAIRN_ERR_INVAL,
		     "t.yaml:3: key 'storage.path': required key is missing", NULL);
	/* Duplicates. */
	expect_error("name: a\nengines:\n  - targets: 1\nname: b\n", -CAIRN_ERR_INVAL,
		     "t.yaml:4: key 'name': duplicate key (first at line 1)", NULL);
	/* Enum, size, duration, bool, string length, list counts, list elements. */
	expect_error("name: a\nengines:\n  - targets: 1\n    transport: udp\n", -CAIRN_ERR_INVAL,
		     "t.yaml:4: key 'engines[0].transport': 'udp' is not valid",
		     "expected one of: tcp rdma");
	expect_error("name: a\nengines:\n  - targets: 1\n    mem: 4X\n", -CAIRN_ERR_INVAL,
		     "t.yaml:4: key 'engines[0].mem': '4X': unknown size suffix 'X'", NULL);
	expect_error("name: a\nengines:\n  - targets: 1\n    mem: 1K\n", -CAIRN_ERR_INVAL,
		     "t.yaml:4: key 'engines[0].mem': 1K is out of range", "at least 1 MiB");
	expect_error("name: a\nengines:\n  - targets: 1\n    timeout: 2m\n", -CAIRN_ERR_INVAL,
		     "t.yaml:4: key 'engines[0].timeout': 2m is out of range", "1ms to 1m");
	expect_error("name: a\nengines:\n  - targets: 1\n    timeout: 10\n", -CAIRN_ERR_INVAL,
		     "t.yaml:4: key 'engines[0].timeout': '10': missing unit", NULL);
	expect_error("name: a\nengines:\n  - targets: 1\n    pinned: perhaps\n", -CAIRN_ERR_INVAL,
		     "'perhaps' is not valid, expected true or false", NULL);
	expect_error("name: abcdefghijabcdefghijabcdefghijabc\nengines:\n  - targets: 1\n",
		     -CAIRN_ERR_INVAL, "t.yaml:1: key 'name': string of 33 bytes",
		     "expected a string of 1..32 bytes");
	expect_error("name: a\nengines: []\n", -CAIRN_ERR_INVAL,
		     "t.yaml:2: key 'engines': list has 0 entries, expected 1..4", NULL);
	expect_error("name: a\nengines:\n  - targets: 1\n    cores: [1, 2, 3, 4, 5, 6, 7, 8, 9]\n",
		     -CAIRN_ERR_INVAL, "list has 9 entries, expected 0..8", NULL);
	expect_error("name: a\nengines:\n  - targets: 1\n    cores: [1, 2000]\n", -CAIRN_ERR_INVAL,
		     "t.yaml:4: key 'engines[0].cores[1]': 2000 is out of range", NULL);
	/* Null values. */
	expect_error("name:\nengines:\n  - targets: 1\n", -CAIRN_ERR_INVAL,
		     "t.yaml:1: key 'name': no value given, expected a string", NULL);
	expect_error("name: a\nengines:\n  - targets: ~\n", -CAIRN_ERR_INVAL,
		     "t.yaml:3: key 'engines[0].targets': no value given", NULL);
	/* Syntax errors carry the parser's line. */
	expect_error("name: a\nengines:\n  - targets: 1\n   bad: [\n", -CAIRN_ERR_INVAL,
		     "t.yaml:", "YAML syntax error");
	expect_error("name: a\n  port: 1\n", -CAIRN_ERR_INVAL, "t.yaml:2: YAML syntax error", NULL);
	/* Top level must be a mapping; an empty document lacks the required keys. */
	expect_error("- a\n- b\n", -CAIRN_ERR_INVAL,
		     "t.yaml:1: got a list, expected a mapping (server config)", NULL);
	expect_error("", -CAIRN_ERR_INVAL, "t.yaml:1: key 'name': required key is missing", NULL);
	/* Non-scalar keys. */
	expect_error("? [a]\n: 1\n", -CAIRN_ERR_INVAL, "keys must be plain names", NULL);
}

static void
test_aliases_and_nesting(void **state)
{
	static const char *text = "name: a\n"
				  "engines:\n"
				  "  - &e {targets: 3, mem: 2M}\n"
				  "  - *e\n"
				  "tags: &t [x]\n";
	struct server_cfg c;
	char err[512];

	/* Anchors and aliases are plain YAML reuse: each alias loads its own copy. */
	defaults(&c);
	assert_int_equal(cairn_cfg_load_string("t.yaml", text, strlen(text), &g_server_schema, &c,
					       err, sizeof(err)),
			 0);
	assert_int_equal(c.nengines, 2);
	assert_int_equal(c.engines[1].targets, 3);
	assert_true(c.engines[1].mem == 2ull << 20);
	cairn_cfg_free(&g_server_schema, &c);

	/* Nesting deeper than the schema is a type error at the right place. */
	expect_error("name: a\nengines:\n  - targets: 1\ntags: [ok, [[[[[x]]]]]]\n",
		     -CAIRN_ERR_INVAL, "t.yaml:4: key 'tags[1]': got a list, expected a string",
		     NULL);
	/* An alias to an unknown anchor is a YAML error. */
	expect_error("name: *nope\nengines:\n  - targets: 1\n", -CAIRN_ERR_INVAL,
		     "t.yaml:1: YAML syntax error", NULL);
	/* A NUL inside a quoted scalar is refused. */
	expect_error("name: \"a\\0b\"\nengines:\n  - targets: 1\n", -CAIRN_ERR_INVAL,
		     "t.yaml:1: key 'name': value contains a NUL character", NULL);
}

static void
test_file_errors(void **state)
{
	struct server_cfg c;
	char err[512];

	defaults(&c);
	assert_int_equal(cairn_cfg_load_file("/nonexistent/cairn.yaml", &g_server_schema, &c, err,
					     sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/cairn.yaml: cannot open"));
	assert_int_equal(cairn_cfg_load_file("/tmp", &g_server_schema, &c, err, sizeof(err)),
			 -CAIRN_ERR_INVAL);
	assert_non_null(strstr(err, "not a regular file"));
	write_file("name: a\nengines:\n  - targets: 0\n");
	assert_int_equal(cairn_cfg_load_file(g_path, &g_server_schema, &c, err, sizeof(err)),
			 -CAIRN_ERR_INVAL);
	/* The file name leads the message. */
	assert_true(strncmp(err, g_path, strlen(g_path)) == 0);
	assert_non_null(strstr(err, ":3: key 'engines[0].targets'"));
	cairn_cfg_free(&g_server_schema, &c);
}

struct bad_obj {
	uint32_t a;
	uint32_t *l;
	uint32_t n;
};

static void
test_schema_checks(void **state)
{
	static const struct cairn_cfg_field no_type[] = {
		{.name = "a", .offset = offsetof(struct bad_obj, a)},
		{.name = NULL},
	};
	static const struct cairn_cfg_field dup[] = {
		{.name = "a", .type = CAIRN_CFG_U32},
		{.name = "a", .type = CAIRN_CFG_U32},
		{.name = NULL},
	};
	static const struct cairn_cfg_field enum_no_names[] = {
		{.name = "a", .type = CAIRN_CFG_ENUM},
		{.name = NULL},
	};
	static const struct cairn_cfg_field list_no_count[] = {
		{.name = "l",
		 .type = CAIRN_CFG_LIST,
		 .offset = offsetof(struct bad_obj, l),
		 .count_offset = offsetof(struct bad_obj, l),
		 .elem_type = CAIRN_CFG_U32},
		{.name = NULL},
	};
	static const struct cairn_cfg_field map_no_sub[] = {
		{.name = "m", .type = CAIRN_CFG_MAP},
		{.name = NULL},
	};
	const struct cairn_cfg_field *bad[] = {no_type, dup, enum_no_names, list_no_count,
					       map_no_sub};
	const char *why[] = {"no valid type", "listed twice", "has no names", "count_offset",
			     "sub-schema"};
	struct bad_obj o = {0};
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cairn_cfg_schema s = {.name = "bad", .size = sizeof(o), .fields = bad[i]};

		assert_int_equal(cairn_cfg_check_schema(&s, err, sizeof(err)), -CAIRN_ERR_INVAL);
		assert_non_null(strstr(err, why[i]));
		assert_int_equal(cairn_cfg_load_string("x", "a: 1\n", 5, &s, &o, err, sizeof(err)),
				 -CAIRN_ERR_INVAL);
		assert_non_null(strstr(err, "schema error"));
	}
	assert_int_equal(cairn_cfg_check_schema(&g_server_schema, err, sizeof(err)), 0);
	assert_int_equal(cairn_cfg_check_schema(NULL, err, sizeof(err)), -CAIRN_ERR_INVAL);
}

static void
test_dump_json_roundtrip(void **state)
{
	struct server_cfg c, d;
	json_t *j1, *j2;
	char err[512], *text1, *text2;

	defaults(&c);
	assert_int_equal(cairn_cfg_load_string("t.yaml", g_good, strlen(g_good), &g_server_schema,
					       &c, err, sizeof(err)),
			 0);
	c.engines[1].timeout_ns = 1234567; /* not a round number: must stay exact */
	c.seq = UINT64_MAX;                /* beyond jansson's signed integers */
	j1 = cairn_cfg_to_json(&g_server_schema, &c);
	assert_non_null(j1);
	text1 = json_dumps(j1, JSON_PRESERVE_ORDER | JSON_COMPACT);
	assert_non_null(text1);
	assert_non_null(strstr(text1, "\"name\":\"node-a\""));
	assert_non_null(strstr(text1, "\"transport\":\"rdma\""));
	assert_non_null(strstr(text1, "\"mem\":4294967296"));
	assert_non_null(strstr(text1, "\"timeout\":\"500ms\""));
	assert_non_null(strstr(text1, "\"timeout\":\"1234567ns\""));
	assert_non_null(strstr(text1, "\"cores\":[0,1,2,3]"));
	assert_non_null(strstr(text1, "\"storage\":{\"path\":\"/var/cairn\",\"size\":1073741824}"));
	assert_null(strstr(text1, "log_mask\":null")); /* unset strings are left out */

	/* JSON is YAML: the dump loads back into an equal configuration. */
	memset(&d, 0, sizeof(d));
	if (cairn_cfg_load_string("dump", text1, strlen(text1), &g_server_schema, &d, err,
				  sizeof(err)) != 0) {
		print_error("reload failed: %s\n%s\n", err, text1);
		fail();
	}
	assert_true(d.seq == UINT64_MAX);
	assert_true(d.engines[1].timeout_ns == 1234567);
	j2 = cairn_cfg_to_json(&g_server_schema, &d);
	text2 = json_dumps(j2, JSON_PRESERVE_ORDER | JSON_COMPACT);
	assert_string_equal(text1, text2);
	free(text1);
	free(text2);
	json_decref(j1);
	json_decref(j2);
	cairn_cfg_free(&g_server_schema, &c);
	cairn_cfg_free(&g_server_schema, &d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_errors_with_lines),
		cmocka_unit_test(test_aliases_and_nesting),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_schema_checks),
		cmocka_unit_test(test_dump_json_roundtrip),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
