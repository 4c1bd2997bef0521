/*
 * Schema-driven YAML loading (see common/config.h). libyaml builds the document tree; we
 * walk it against the schema, so every error knows its line. Aliases are followed, with a
 * cap on depth and on visited nodes so an alias "billion laughs" file cannot blow up.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <jansson.h>
#include <yaml.h>

#include "cairn/errno.h"
#include "common/config.h"
#include "common/units.h"

#define CFG_MAX_DEPTH 32
#define CFG_MAX_VISITS 1000000u
#define CFG_MAX_FILE (16u << 20)
#define CFG_PATH_MAX 256

struct cfg_ctx {
	const char *name;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
	unsigned depth;
	unsigned visits;
	char path[CFG_PATH_MAX];
	size_t pathlen;
};

static unsigned
node_line(const yaml_node_t *n)
{
	return n != NULL ? (unsigned)n->start_mark.line + 1 : 1;
}

static int __attribute__((format(printf, 4, 5)))
cfg_err(struct cfg_ctx *c, unsigned line, int rc, const char *fmt, ...)
{
	va_list ap;
	int n;
	size_t off;

	if (c->err == NULL || c->errlen == 0)
		return rc;
	if (c->pathlen > 0)
		n = snprintf(c->err, c->errlen, "%s:%u: key '%s': ", c->name, line, c->path);
	else
		n = snprintf(c->err, c->errlen, "%s:%u: ", c->name, line);
	off = n < 0 ? 0 : (size_t)n;
	if (off >= c->errlen)
		return rc;
	va_start(ap, fmt);
	vsnprintf(c->err + off, c->errlen - off, fmt, ap);
	va_end(ap);
	return rc;
}

/* Append ".name" or "[i]" to the key path; returns the old length for path_pop. */
static size_t
path_push(struct cfg_ctx *c, const char *name, long idx)
{
	size_t old = c->pathlen;
	int n;

	if (name != NULL)
		n = snprintf(c->path + old, sizeof(c->path) - old, "%s%s", old ? "." : "", name);
	else
		n = snprintf(c->path + old, sizeof(c->path) - old, "[%ld]", idx);
	if (n > 0)
		c->pathlen =
			old + (size_t)n < sizeof(c->path) ? old + (size_t)n : sizeof(c->path) - 1;
	return old;
}

static void
path_pop(struct cfg_ctx *c, size_t old)
{
	c->pathlen = old;
	c->path[old] = '\0';
}

static const char *
node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* Human description of what a field accepts, for "expected ..." */
static void
describe(const struct cairn_cfg_field *f, enum cairn_cfg_type type, char *buf, size_t len)
{
	char a[32], b[32];
	size_t off;
	int n;

	switch (type) {
	case CAIRN_CFG_U32:
	case CAIRN_CFG_U64:
		snprintf(buf, len, "an unsigned integer in %llu..%llu", (unsigned long long)f->min,
			 (unsigned long long)(f->max                  ? f->max
					      : type == CAIRN_CFG_U32 ? UINT32_MAX
								      : UINT64_MAX));
		break;
	case CAIRN_CFG_SIZE:
	case CAIRN_CFG_DURATION: {
		const char *what = type == CAIRN_CFG_SIZE ? "a size such as 4096, 64K or 1.5G"
							  : "a duration such as 500ms or 10s";

		if (type == CAIRN_CFG_SIZE) {
			cairn_format_size(f->min, a, sizeof(a));
			cairn_format_size(f->max, b, sizeof(b));
		} else {
			cairn_format_duration(f->min, a, sizeof(a));
			cairn_format_duration(f->max, b, sizeof(b));
		}
		if (f->max)
			snprintf(buf, len, "%s, from %s to %s", what, a, b);
		else if (f->min)
			snprintf(buf, len, "%s, at least %s", what, a);
		else
			snprintf(buf, len, "%s", what);
		break;
	}
	case CAIRN_CFG_BOOL:
		snprintf(buf, len, "true or false");
		break;
	case CAIRN_CFG_STRING:
		if (f->max)
			snprintf(buf, len, "a string of %llu..%llu bytes",
				 (unsigned long long)f->min, (unsigned long long)f->max);
		else if (f->min)
			snprintf(buf, len, "a string of at least %llu bytes",
				 (unsigned long long)f->min);
		else
			snprintf(buf, len, "a string");
		break;
	case CAIRN_CFG_ENUM:
		n = snprintf(buf, len, "one of:");
		off = n < 0 ? 0 : (size_t)n;
		for (const struct cairn_cfg_enum *e = f->enums; e && e->name && off < len; e++) {
			n = snprintf(buf + off, len - off, " %s", e->name);
			off += n < 0 ? 0 : (size_t)n;
		}
		break;
	case CAIRN_CFG_MAP:
		snprintf(buf, len, "a mapping (%s)", f->sub ? f->sub->name : "?");
		break;
	case CAIRN_CFG_LIST:
		snprintf(buf, len, "a list");
		break;
	default:
		snprintf(buf, len, "?");
	}
}

static bool
scalar_is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static int
check_range(struct cfg_ctx *c, const struct cairn_cfg_field *f, enum cairn_cfg_type type,
	    const yaml_node_t *n, uint64_t v)
{
	char exp[256];

	if (v >= f->min && (f->max == 0 || v <= f->max))
		return 0;
	describe(f, type, exp, sizeof(exp));
	return cfg_err(c, node_line(n), -CAIRN_ERR_INVAL, "%s is out of range, expected %s",
		       (const char *)n->data.scalar.value, exp);
}

/* Store one scalar of the given type at dst. */
static int
load_scalar(struct cfg_ctx *c, const struct cairn_cfg_field *f, enum cairn_cfg_type type,
	    const yaml_node_t *n, void *dst)
{
	char exp[256], why[192];
	const char *s;
	uint64_t v = 0;
	int rc;

	describe(f, type, exp, sizeof(exp));
	if (n->type != YAML_SCALAR_NODE)
		return cfg_err(c, node_line(n), -CAIRN_ERR_INVAL, "got %s, expected %s",
			       node_kind(n), exp);
	s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length)
		return cfg_err(c, node_line(n), -CAIRN_ERR_INVAL,
			       "value contains a NUL character, expected %s", exp);
	if (scalar_is_null(n))
		return cfg_err(c, node_line(n), -CAIRN_ERR_INVAL, "no value given, expected %s",
			       exp);

	switch (type) {
	case CAIRN_CFG_U32:
	case CAIRN_CFG_U64:
		rc = cairn_parse_u64(s, 0, UINT64_MAX, &v, why, sizeof(why));
		if (rc == 0 && type == CAIRN_CFG_U32 && v > UINT32_MAX)
			rc = -CAIRN_ERR_OVERFLOW;
		if (rc != 0)
			return cfg_err(c, node_line(n), -CAIRN_ERR_INVAL,
				       "'%s' is not valid, "
				       "expected %s",
				       s, exp);
		rc = check_range(c, f, type, n, v);
		if (rc != 0)
			return rc;
		if (type == CAIRN_CFG_U32)
			*(uint32_t *)dst = (uint32_t)v;
		else
			*(uint64_t *)dst = v;
		return 0;
	case CAIRN_CFG_SIZE:
	case CAIRN_CFG_DURATION:
		rc = type == CAIRN_CFG_SIZE ? cairn_parse_size(s, &v, why, sizeof(why))
					    : cairn_parse_duration(s, &v, why, sizeof(why));
		if (rc != 0) {
			/* Keep the parser's diagnosis; our "expected" replaces its own. */
			char *cut = strstr(why, ", expected");

			if (cut != NULL)
				*cut = '\0';
			return cfg_err(c, node_line(n), -CAIRN_ERR_INVAL, "%s, expected %s", why,
				       exp);
		}
		rc = check_range(c, f, type, n, v);
		if (rc != 0)
			return rc;
		*(uint64_t *)dst = v;
		return 0;
	case CAIRN_CFG_BOOL:
		rc = cairn_parse_bool(s, (bool *)dst, why, sizeof(why));
		if (rc != 0)
			return cfg_err(c, node_line(n), -CAIRN_ERR_INVAL,
				       "'%s' is not valid, "
				       "expected %s",
				       s, exp);
		return 0;
	case CAIRN_CFG_STRING: {
		size_t len = n->data.scalar.length;
		char *dup;

		if (len < f->min || (f->max != 0 && len > f->max))
			return cfg_err(c, node_line(n), -CAIRN_ERR_INVAL,
				       "string of %zu bytes "
				       "has the wrong length, expected %s",
				       len, exp);
		dup = strdup(s);
		if (dup == NULL)
			return cfg_err(c, node_line(n), -CAIRN_ERR_NOMEM, "out of memory");
		free(*(char **)dst);
		*(char **)dst = dup;
		return 0;
	}
	case CAIRN_CFG_ENUM:
		for (const struct cairn_cfg_enum *e = f->enums; e && e->name; e++) {
			if (strcasecmp(e->name, s) == 0) {
				*(int *)dst = e->value;
				return 0;
			}
		}
		return cfg_err(c, node_line(n), -CAIRN_ERR_INVAL,
			       "'%s' is not valid, expected "
			       "%s",
			       s, exp);
	default:
		return cfg_err(c, node_line(n), -CAIRN_ERR_INVAL, "schema error: bad type %d",
			       (int)type);
	}
}

static size_t
elem_size(const struct cairn_cfg_field *f)
{
	switch (f->elem_type) {
	case CAIRN_CFG_U32:
		return sizeof(uint32_t);
	case CAIRN_CFG_U64:
	case CAIRN_CFG_SIZE:
	case CAIRN_CFG_DURATION:
		return sizeof(uint64_t);
	case CAIRN_CFG_BOOL:
		return sizeof(bool);
	case CAIRN_CFG_STRING:
		return sizeof(char *);
	case CAIRN_CFG_ENUM:
		return sizeof(int);
	case CAIRN_CFG_MAP:
		return f->sub != NULL ? f->sub->size : 0;
	default:
		return 0;
	}
}

static void free_list(const struct cairn_cfg_field *f, void *arr, uint32_t count);

static int load_map(struct cfg_ctx *c, const struct cairn_cfg_schema *schema, const yaml_node_t *n,
		    void *obj);

static int
enter(struct cfg_ctx *c, const yaml_node_t *n)
{
	if (++c->visits > CFG_MAX_VISITS || c->depth >= CFG_MAX_DEPTH)
		return cfg_err(c, node_line(n), -CAIRN_ERR_INVAL,
			       "document too deep or too "
			       "large (aliases?), expected at most %d levels",
			       CFG_MAX_DEPTH);
	c->depth++;
	return 0;
}

static int
load_list(struct cfg_ctx *c, const struct cairn_cfg_field *f, const yaml_node_t *n, void *obj)
{
	void **arrp = (void **)((char *)obj + f->offset);
	uint32_t *countp = (uint32_t *)((char *)obj + f->count_offset);
	size_t esz = elem_size(f);
	size_t count;
	char *arr;
	int rc = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return cfg_err(c, node_line(n), -CAIRN_ERR_INVAL, "got %s, expected a list",
			       node_kind(n));
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count < f->min_count || (f->max_count != 0 && count > f->max_count)) {
		if (f->max_count != 0)
			return cfg_err(c, node_line(n), -CAIRN_ERR_INVAL,
				       "list has %zu "
				       "entries, expected %u..%u",
				       count, f->min_count, f->max_count);
		return cfg_err(c, node_line(n), -CAIRN_ERR_INVAL,
			       "list has %zu entries, "
			       "expected at least %u",
			       count, f->min_count);
	}
	if (count > UINT32_MAX)
		return cfg_err(c, node_line(n), -CAIRN_ERR_INVAL, "list too long");
	free_list(f, *arrp, *countp);
	*arrp = NULL;
	*countp = 0;
	if (count == 0)
		return 0;
	arr = calloc(count, esz);
	if (arr == NULL)
		return cfg_err(c, node_line(n), -CAIRN_ERR_NOMEM, "out of memory");
	/* Publish at once: elements are zeroed, so cairn_cfg_free() is safe on any error. */
	*arrp = arr;
	*countp = (uint32_t)count;
	for (size_t i = 0; i < count && rc == 0; i++) {
		const yaml_node_t *item =
			yaml_document_get_node(c->doc, n->data.sequence.items.start[i]);
		size_t old = path_push(c, NULL, (long)i);

		if (f->elem_type == CAIRN_CFG_MAP) {
			if (f->sub->init != NULL)
				f->sub->init(arr + i * esz);
			rc = load_map(c, f->sub, item, arr + i * esz);
		} else {
			rc = enter(c, item);
			if (rc == 0) {
				rc = load_scalar(c, f, f->elem_type, item, arr + i * esz);
				c->depth--;
			}
		}
		path_pop(c, old);
	}
	return rc;
}

static int
load_field(struct cfg_ctx *c, const struct cairn_cfg_field *f, const yaml_node_t *n, void *obj)
{
	int rc;

	rc = enter(c, n);
	if (rc != 0)
		return rc;
	switch (f->type) {
	case CAIRN_CFG_MAP:
		c->depth--; /* load_map counts its own level */
		return load_map(c, f->sub, n, (char *)obj + f->offset);
	case CAIRN_CFG_LIST:
		rc = load_list(c, f, n, obj);
		break;
	default:
		rc = load_scalar(c, f, f->type, n, (char *)obj + f->offset);
		break;
	}
	c->depth--;
	return rc;
}

static int
unknown_key(struct cfg_ctx *c, const struct cairn_cfg_schema *schema, const yaml_node_t *k)
{
	char list[512];
	size_t off = 0;
	int n;

	list[0] = '\0';
	for (const struct cairn_cfg_field *f = schema->fields; f->name && off < sizeof(list); f++) {
		n = snprintf(list + off, sizeof(list) - off, "%s%s", off ? ", " : "", f->name);
		off += n < 0 ? 0 : (size_t)n;
	}
	return cfg_err(c, node_line(k), -CAIRN_ERR_INVAL,
		       "unknown key in %s, expected one of: "
		       "%s",
		       schema->name, list);
}

static int
load_map(struct cfg_ctx *c, const struct cairn_cfg_schema *schema, const yaml_node_t *n, void *obj)
{
	const yaml_node_pair_t *pair;
	unsigned nfields = 0;
	unsigned *seen_line;
	int rc;

	rc = enter(c, n);
	if (rc != 0)
		return rc;
	if (n->type != YAML_MAPPING_NODE) {
		rc = cfg_err(c, node_line(n), -CAIRN_ERR_INVAL, "got %s, expected a mapping (%s)",
			     node_kind(n), schema->name);
		goto out;
	}
	while (schema->fields[nfields].name != NULL)
		nfields++;
	seen_line = calloc(nfields + 1, sizeof(*seen_line));
	if (seen_line == NULL) {
		rc = cfg_err(c, node_line(n), -CAIRN_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k = yaml_document_get_node(c->doc, pair->key);
		const yaml_node_t *v = yaml_document_get_node(c->doc, pair->value);
		const char *key;
		unsigned i;
		size_t old;

		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE) {
			rc = cfg_err(c, node_line(k ? k : n), -CAIRN_ERR_INVAL,
				     "keys must be plain names, expected a key of %s",
				     schema->name);
			break;
		}
		key = (const char *)k->data.scalar.value;
		old = path_push(c, key, 0);
		for (i = 0; i < nfields; i++)
			if (strcmp(schema->fields[i].name, key) == 0)
				break;
		if (i == nfields) {
			rc = unknown_key(c, schema, k);
		} else if (seen_line[i] != 0) {
			rc = cfg_err(c, node_line(k), -CAIRN_ERR_INVAL,
				     "duplicate key (first at "
				     "line %u), expected each key once",
				     seen_line[i]);
		} else {
			seen_line[i] = node_line(k);
			rc = load_field(c, &schema->fields[i], v, obj);
		}
		path_pop(c, old);
		if (rc != 0)
			break;
	}
	for (unsigned i = 0; rc == 0 && i < nfields; i++) {
		const struct cairn_cfg_field *f = &schema->fields[i];
		char exp[256];
		size_t old;

		if (!f->required || seen_line[i] != 0)
			continue;
		describe(f, f->type, exp, sizeof(exp));
		old = path_push(c, f->name, 0);
		rc = cfg_err(c, node_line(n), -CAIRN_ERR_INVAL,
			     "required key is missing from "
			     "the %s at line %u, expected %s",
			     schema->name, node_line(n), exp);
		path_pop(c, old);
	}
	free(seen_line);
out:
	c->depth--;
	return rc;
}

static int
schema_check(const struct cairn_cfg_schema *s, unsigned depth, char *err, size_t errlen)
{
	if (s == NULL || s->fields == NULL || s->name == NULL) {
		snprintf(err, errlen, "schema error: NULL schema, name or field table");
		return -CAIRN_ERR_INVAL;
	}
	if (depth > 16) /* self-referencing schemas stop being checked here */
		return 0;
	for (const struct cairn_cfg_field *f = s->fields; f->name != NULL; f++) {
		enum cairn_cfg_type t = f->type == CAIRN_CFG_LIST ? f->elem_type : f->type;

		for (const struct cairn_cfg_field *g = s->fields; g < f; g++) {
			if (strcmp(g->name, f->name) == 0) {
				snprintf(err, errlen, "schema error: %s: key '%s' listed twice",
					 s->name, f->name);
				return -CAIRN_ERR_INVAL;
			}
		}
		if (f->type == CAIRN_CFG_LIST &&
		    (f->count_offset == f->offset || f->elem_type == CAIRN_CFG_LIST)) {
			snprintf(err, errlen,
				 "schema error: %s: list '%s' needs count_offset and "
				 "a non-list elem_type",
				 s->name, f->name);
			return -CAIRN_ERR_INVAL;
		}
		if (t <= CAIRN_CFG_NONE || t > CAIRN_CFG_LIST) {
			snprintf(err, errlen, "schema error: %s: key '%s' has no valid type",
				 s->name, f->name);
			return -CAIRN_ERR_INVAL;
		}
		if (t == CAIRN_CFG_ENUM && (f->enums == NULL || f->enums[0].name == NULL)) {
			snprintf(err, errlen, "schema error: %s: enum '%s' has no names", s->name,
				 f->name);
			return -CAIRN_ERR_INVAL;
		}
		if (t == CAIRN_CFG_MAP) {
			int rc;

			if (f->sub == NULL || (f->type == CAIRN_CFG_LIST && f->sub->size == 0)) {
				snprintf(err, errlen,
					 "schema error: %s: map '%s' needs a sub-schema "
					 "(with size, for lists)",
					 s->name, f->name);
				return -CAIRN_ERR_INVAL;
			}
			rc = schema_check(f->sub, depth + 1, err, errlen);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

int
cairn_cfg_check_schema(const struct cairn_cfg_schema *schema, char *err, size_t errlen)
{
	return schema_check(schema, 0, err, errlen);
}

int
cairn_cfg_load_string(const char *name, const char *text, size_t len,
		      const struct cairn_cfg_schema *schema, void *obj, char *err, size_t errlen)
{
	struct cfg_ctx c = {.name = name ? name : "<config>", .err = err, .errlen = errlen};
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL || obj == NULL)
		return cfg_err(&c, 1, -CAIRN_ERR_INVAL, "no text or no object to fill");
	rc = cairn_cfg_check_schema(schema, err, errlen);
	if (rc != 0)
		return rc;
	if (!yaml_parser_initialize(&parser))
		return cfg_err(&c, 1, -CAIRN_ERR_NOMEM, "cannot initialise the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = cfg_err(&c, (unsigned)parser.problem_mark.line + 1, -CAIRN_ERR_INVAL,
			     "YAML syntax error: %s%s%s, expected well-formed YAML",
			     parser.problem ? parser.problem : "unknown problem",
			     parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return rc;
	}
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		/* Empty document: an empty mapping, so required keys are still reported. */
		yaml_node_t empty = {.type = YAML_MAPPING_NODE};

		rc = load_map(&c, schema, &empty, obj);
	} else {
		rc = load_map(&c, schema, root, obj);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int
cairn_cfg_load_file(const char *path, const struct cairn_cfg_schema *schema, void *obj, char *err,
		    size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (path == NULL) {
		snprintf(err, errlen, "no config file given");
		return -CAIRN_ERR_INVAL;
	}
	f = fopen(path, "re");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, cairn_strerror(rc));
		return rc;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CFG_MAX_FILE) {
		snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path,
			 CFG_MAX_FILE);
		rc = -CAIRN_ERR_INVAL;
		goto out_close;
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out_close;
	}
	len = fread(text, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		rc = -CAIRN_ERR_IO;
		snprintf(err, errlen, "%s: read error", path);
		goto out_free;
	}
	text[len] = '\0';
	rc = cairn_cfg_load_string(path, text, len, schema, obj, err, errlen);
out_free:
	free(text);
out_close:
	fclose(f);
	return rc;
}

static void
free_map(const struct cairn_cfg_schema *schema, void *obj)
{
	for (const struct cairn_cfg_field *f = schema->fields; f->name != NULL; f++) {
		char *p = (char *)obj + f->offset;

		switch (f->type) {
		case CAIRN_CFG_STRING:
			free(*(char **)p);
			*(char **)p = NULL;
			break;
		case CAIRN_CFG_MAP:
			free_map(f->sub, p);
			break;
		case CAIRN_CFG_LIST: {
			uint32_t *countp = (uint32_t *)((char *)obj + f->count_offset);

			free_list(f, *(void **)p, *countp);
			*(void **)p = NULL;
			*countp = 0;
			break;
		}
		default:
			break;
		}
	}
}

static void
free_list(const struct cairn_cfg_field *f, void *arr, uint32_t count)
{
	size_t esz = elem_size(f);

	if (arr == NULL)
		return;
	for (uint32_t i = 0; i < count; i++) {
		char *e = (char *)arr + i * esz;

		if (f->elem_type == CAIRN_CFG_STRING)
			free(*(char **)e);
		else if (f->elem_type == CAIRN_CFG_MAP)
			free_map(f->sub, e);
	}
	free(arr);
}

void
cairn_cfg_free(const struct cairn_cfg_schema *schema, void *obj)
{
	if (schema == NULL || schema->fields == NULL || obj == NULL)
		return;
	free_map(schema, obj);
}

static json_t *scalar_to_json(const struct cairn_cfg_field *f, enum cairn_cfg_type type,
			      const void *p);
static json_t *map_to_json(const struct cairn_cfg_schema *schema, const void *obj);

static json_t *
scalar_to_json(const struct cairn_cfg_field *f, enum cairn_cfg_type type, const void *p)
{
	char buf[48];

	switch (type) {
	case CAIRN_CFG_U32:
		return json_integer(*(const uint32_t *)p);
	case CAIRN_CFG_U64:
	case CAIRN_CFG_SIZE:
		/* jansson integers are signed: values above INT64_MAX go out as strings, which
		 * the loader parses back just the same. */
		if (*(const uint64_t *)p > INT64_MAX) {
			snprintf(buf, sizeof(buf), "%llu",
				 (unsigned long long)*(const uint64_t *)p);
			return json_string(buf);
		}
		return json_integer((json_int_t) * (const uint64_t *)p);
	case CAIRN_CFG_DURATION: {
		uint64_t ns = *(const uint64_t *)p;

		cairn_format_duration(ns, buf, sizeof(buf));
		if (strchr(buf, '.') != NULL) /* rounded: give the exact value */
			snprintf(buf, sizeof(buf), "%lluns", (unsigned long long)ns);
		return json_string(buf);
	}
	case CAIRN_CFG_BOOL:
		return json_boolean(*(const bool *)p);
	case CAIRN_CFG_STRING:
		return *(char *const *)p != NULL ? json_string(*(char *const *)p) : json_null();
	case CAIRN_CFG_ENUM:
		for (const struct cairn_cfg_enum *e = f->enums; e && e->name; e++)
			if (e->value == *(const int *)p)
				return json_string(e->name);
		return json_integer(*(const int *)p); /* not a valid name: show the number */
	case CAIRN_CFG_MAP:
		return map_to_json(f->sub, p);
	default:
		return json_null();
	}
}

static json_t *
map_to_json(const struct cairn_cfg_schema *schema, const void *obj)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	for (const struct cairn_cfg_field *f = schema->fields; f->name != NULL; f++) {
		const char *p = (const char *)obj + f->offset;
		json_t *v;

		/* Unset strings and lists are left out, so the dump loads back. */
		if ((f->type == CAIRN_CFG_STRING || f->type == CAIRN_CFG_LIST) &&
		    *(char *const *)p == NULL)
			continue;
		if (f->type == CAIRN_CFG_LIST) {
			const char *arr = *(char *const *)p;
			uint32_t count = *(const uint32_t *)((const char *)obj + f->count_offset);
			size_t esz = elem_size(f);

			v = json_array();
			for (uint32_t i = 0; v != NULL && arr != NULL && i < count; i++) {
				if (json_array_append_new(v, scalar_to_json(f, f->elem_type,
									    arr + i * esz)) != 0) {
					json_decref(v);
					v = NULL;
				}
			}
		} else {
			v = scalar_to_json(f, f->type, p);
		}
		if (v == NULL || json_object_set_new(o, f->name, v) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

struct json_t *
cairn_cfg_to_json(const struct cairn_cfg_schema *schema, const void *obj)
{
	if (schema == NULL || schema->fields == NULL || obj == NULL)
		return NULL;
	return map_to_json(schema, obj);
}
