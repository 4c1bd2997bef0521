/*
 * Runtime options from YAML (libyaml document API). Accepted shapes:
 *
 *   runtime:                       # or the same keys at the top level
 *     xstreams: {system: 1, main: 2, helper: 0}
 *     stack_size: 64k              # bytes, or k/m/g (KiB/MiB/GiB) suffixes
 *     msg_ring_size: 4096
 *     spin_us: 50
 *     pin: true
 *     cpus: "0-3,6"
 *
 * Other top-level keys are ignored only when a `runtime:` section is present (an engine
 * config file has more sections); unknown keys inside the section are errors. Every
 * error names file:line, what is wrong and what is expected.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#define CAIRN_LOG_SS CAIRN_SS_RT
#include "common/log.h"
#include "rt_internal.h"

struct ycfg {
	const char *path;
	yaml_document_t *doc;
};

#define YERR(c, node, fmt, ...)                                                                    \
	CAIRN_ERROR("%s:%zu: " fmt, (c)->path, (size_t)(node)->start_mark.line + 1, ##__VA_ARGS__)

static int
y_scalar(struct ycfg *c, yaml_node_t *n, const char *key, const char **out)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE) {
		YERR(c, n, "key '%s': expected a scalar value", key);
		return -CAIRN_ERR_INVAL;
	}
	*out = (const char *)n->data.scalar.value;
	return 0;
}

static int
y_u64(struct ycfg *c, yaml_node_t *n, const char *key, uint64_t min, uint64_t max, bool size_suffix,
      uint64_t *out)
{
	const char *s;
	char *end;
	unsigned long long v;
	uint64_t mul = 1;
	int rc = y_scalar(c, n, key, &s);

	if (rc != 0)
		return rc;
	if (s[0] < '0' || s[0] > '9')
		goto err;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0)
		goto err;
	if (*end != '\0') {
		if (!size_suffix)
			goto err;
		if (strcasecmp(end, "k") == 0 || strcasecmp(end, "kb") == 0 ||
		    strcasecmp(end, "kib") == 0)
			mul = 1ull << 10;
		else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mb") == 0 ||
		         strcasecmp(end, "mib") == 0)
			mul = 1ull << 20;
		else if (strcasecmp(end, "g") == 0 || strcasecmp(end, "gb") == 0 ||
		         strcasecmp(end, "gib") == 0)
			mul = 1ull << 30;
		else
			goto err;
	}
	if (v > max / mul || v * mul < min || v * mul > max) {
		YERR(c, n, "key '%s': value %s out of range, expected %llu..%llu", key, s,
		     (unsigned long long)min, (unsigned long long)max);
		return -CAIRN_ERR_INVAL;
	}
	*out = v * mul;
	return 0;
err:
	YERR(c, n, "key '%s': '%s' is not %s", key, s,
	     size_suffix ? "a size (e.g. 65536, 64k, 1m)" : "an unsigned integer");
	return -CAIRN_ERR_INVAL;
}

static int
y_bool(struct ycfg *c, yaml_node_t *n, const char *key, bool *out)
{
	const char *s;
	int rc = y_scalar(c, n, key, &s);

	if (rc != 0)
		return rc;
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcmp(s, "1") == 0 ||
	    strcasecmp(s, "on") == 0)
		*out = true;
	else if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 || strcmp(s, "0") == 0 ||
	         strcasecmp(s, "off") == 0)
		*out = false;
	else {
		YERR(c, n, "key '%s': '%s' is not a boolean, expected true or false", key, s);
		return -CAIRN_ERR_INVAL;
	}
	return 0;
}

static int
parse_xstreams(struct ycfg *c, yaml_node_t *m, struct cairn_rt_opts *o)
{
	yaml_node_pair_t *p;
	uint64_t v;
	int rc;

	if (m->type != YAML_MAPPING_NODE) {
		YERR(c, m, "key 'xstreams': expected a mapping {system: N, main: N, helper: N}");
		return -CAIRN_ERR_INVAL;
	}
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *val = yaml_document_get_node(c->doc, p->value);
		const char *key;

		rc = y_scalar(c, k, "xstreams", &key);
		if (rc != 0)
			return rc;
		if (strcmp(key, "system") == 0) {
			rc = y_u64(c, val, "xstreams.system", 0, 1, false, &v);
			o->nr_system = (unsigned)v;
		} else if (strcmp(key, "main") == 0) {
			rc = y_u64(c, val, "xstreams.main", 0, CAIRN_RT_MAX_XSTREAMS, false, &v);
			o->nr_main = (unsigned)v;
		} else if (strcmp(key, "helper") == 0) {
			rc = y_u64(c, val, "xstreams.helper", 0, CAIRN_RT_MAX_XSTREAMS, false, &v);
			o->nr_helper = (unsigned)v;
		} else {
			YERR(c, k, "unknown key 'xstreams.%s', expected system, main or helper",
			     key);
			return -CAIRN_ERR_INVAL;
		}
		if (rc != 0)
			return rc;
	}
	if (o->nr_system + o->nr_main + o->nr_helper == 0 ||
	    o->nr_system + o->nr_main + o->nr_helper > CAIRN_RT_MAX_XSTREAMS) {
		YERR(c, m, "key 'xstreams': %u xstreams in total, expected 1..%u",
		     o->nr_system + o->nr_main + o->nr_helper, CAIRN_RT_MAX_XSTREAMS);
		return -CAIRN_ERR_INVAL;
	}
	return 0;
}

static int
parse_section(struct ycfg *c, yaml_node_t *m, struct cairn_rt_opts *o, bool top_level)
{
	yaml_node_pair_t *p;
	uint64_t v;
	int rc = 0;

	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *val = yaml_document_get_node(c->doc, p->value);
		const char *key;

		rc = y_scalar(c, k, "runtime", &key);
		if (rc != 0)
			return rc;
		if (strcmp(key, "xstreams") == 0) {
			rc = parse_xstreams(c, val, o);
		} else if (strcmp(key, "stack_size") == 0) {
			rc = y_u64(c, val, key, CAIRN_RT_MIN_STACK_SIZE, 1ull << 30, true, &v);
			o->stack_size = (size_t)v;
		} else if (strcmp(key, "msg_ring_size") == 0) {
			rc = y_u64(c, val, key, 4, 1u << 24, false, &v);
			if (rc == 0 && (v & (v - 1)) != 0) {
				YERR(c, val, "key 'msg_ring_size': %llu is not a power of two",
				     (unsigned long long)v);
				rc = -CAIRN_ERR_INVAL;
			}
			o->msg_ring_size = (unsigned)v;
		} else if (strcmp(key, "spin_us") == 0) {
			rc = y_u64(c, val, key, 0, 1000000, false, &v);
			o->spin_us = (unsigned)v;
		} else if (strcmp(key, "pin") == 0) {
			rc = y_bool(c, val, key, &o->pin);
		} else if (strcmp(key, "cpus") == 0) {
			const char *s;

			rc = y_scalar(c, val, key, &s);
			if (rc == 0 && strlen(s) >= sizeof(o->cpu_list_buf)) {
				YERR(c, val, "key 'cpus': list longer than %zu characters",
				     sizeof(o->cpu_list_buf) - 1);
				rc = -CAIRN_ERR_INVAL;
			}
			if (rc == 0) {
				snprintf(o->cpu_list_buf, sizeof(o->cpu_list_buf), "%s", s);
				o->cpu_list = o->cpu_list_buf;
			}
		} else {
			YERR(c, k,
			     "unknown key '%s'%s, expected xstreams, stack_size, "
			     "msg_ring_size, spin_us, pin or cpus",
			     key, top_level ? " (no 'runtime:' section)" : " in 'runtime'");
			return -CAIRN_ERR_INVAL;
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
cairn_rt_opts_from_yaml(const char *path, struct cairn_rt_opts *opts)
{
	struct cairn_rt_opts o;
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *sect = NULL;
	struct ycfg c = {.path = path, .doc = &doc};
	yaml_node_pair_t *p;
	FILE *f;
	int rc;

	if (path == NULL || opts == NULL)
		return -CAIRN_ERR_INVAL;
	f = fopen(path, "r");
	if (f == NULL) {
		rc = -errno;
		CAIRN_ERROR("%s: cannot open: %s", path, strerror(errno));
		return rc;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return -CAIRN_ERR_NOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		CAIRN_ERROR("%s:%zu: YAML syntax error: %s", path,
		            (size_t)parser.problem_mark.line + 1,
		            parser.problem ? parser.problem : "unknown");
		yaml_parser_delete(&parser);
		fclose(f);
		return -CAIRN_ERR_INVAL;
	}
	cairn_rt_opts_default(&o);
	root = yaml_document_get_root_node(&doc);
	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		CAIRN_ERROR("%s:%zu: expected a mapping with the runtime settings", path,
		            root ? (size_t)root->start_mark.line + 1 : (size_t)1);
		rc = -CAIRN_ERR_INVAL;
		goto out;
	}
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key);

		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, "runtime") == 0)
			sect = yaml_document_get_node(&doc, p->value);
	}
	if (sect != NULL) {
		if (sect->type != YAML_MAPPING_NODE) {
			YERR(&c, sect, "key 'runtime': expected a mapping");
			rc = -CAIRN_ERR_INVAL;
			goto out;
		}
		rc = parse_section(&c, sect, &o, false);
	} else {
		rc = parse_section(&c, root, &o, true);
	}
	if (rc == 0) {
		*opts = o;
		if (o.cpu_list == o.cpu_list_buf)
			opts->cpu_list = opts->cpu_list_buf;
	}
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}
