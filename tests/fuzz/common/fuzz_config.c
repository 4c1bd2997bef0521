/* libFuzzer target: YAML config loading (src/common/config.c) with a schema that uses
 * every field type, nested maps and lists. Any input must give 0 or a clean error, with
 * no leak after cairn_cfg_free(). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/config.h"

struct fz_item {
	uint32_t id;
	char *label;
	uint64_t *sizes;
	uint32_t nsizes;
};

struct fz_sub {
	bool flag;
	uint64_t dur;
};

struct fz_cfg {
	char *name;
	uint32_t u32;
	uint64_t u64;
	uint64_t size;
	int mode;
	struct fz_sub sub;
	struct fz_item *items;
	uint32_t nitems;
	char **tags;
	uint32_t ntags;
};

static const struct cairn_cfg_enum g_modes[] = {{"a", 1}, {"b", 2}, {NULL, 0}};

static const struct cairn_cfg_field g_item_fields[] = {
	{.name = "id",
	 .type = CAIRN_CFG_U32,
	 .offset = offsetof(struct fz_item, id),
	 .required = true,
	 .max = 100},
	{.name = "label",
	 .type = CAIRN_CFG_STRING,
	 .offset = offsetof(struct fz_item, label),
	 .max = 16},
	{.name = "sizes",
	 .type = CAIRN_CFG_LIST,
	 .offset = offsetof(struct fz_item, sizes),
	 .elem_type = CAIRN_CFG_SIZE,
	 .count_offset = offsetof(struct fz_item, nsizes)},
	{.name = NULL},
};
static const struct cairn_cfg_schema g_item = {
	.name = "item", .size = sizeof(struct fz_item), .fields = g_item_fields};

static const struct cairn_cfg_field g_sub_fields[] = {
	{.name = "flag", .type = CAIRN_CFG_BOOL, .offset = offsetof(struct fz_sub, flag)},
	{.name = "dur", .type = CAIRN_CFG_DURATION, .offset = offsetof(struct fz_sub, dur)},
	{.name = NULL},
};
static const struct cairn_cfg_schema g_sub = {
	.name = "sub", .size = sizeof(struct fz_sub), .fields = g_sub_fields};

static const struct cairn_cfg_field g_fields[] = {
	{.name = "name", .type = CAIRN_CFG_STRING, .offset = offsetof(struct fz_cfg, name)},
	{.name = "u32", .type = CAIRN_CFG_U32, .offset = offsetof(struct fz_cfg, u32), .min = 1},
	{.name = "u64", .type = CAIRN_CFG_U64, .offset = offsetof(struct fz_cfg, u64)},
	{.name = "size", .type = CAIRN_CFG_SIZE, .offset = offsetof(struct fz_cfg, size)},
	{.name = "mode",
	 .type = CAIRN_CFG_ENUM,
	 .offset = offsetof(struct fz_cfg, mode),
	 .enums = g_modes},
	{.name = "sub",
	 .type = CAIRN_CFG_MAP,
	 .offset = offsetof(struct fz_cfg, sub),
	 .sub = &g_sub},
	{.name = "items",
	 .type = CAIRN_CFG_LIST,
	 .offset = offsetof(struct fz_cfg, items),
	 .elem_type = CAIRN_CFG_MAP,
	 .sub = &g_item,
	 .count_offset = offsetof(struct fz_cfg, nitems),
	 .max_count = 64},
	{.name = "tags",
	 .type = CAIRN_CFG_LIST,
	 .offset = offsetof(struct fz_cfg, tags),
	 .elem_type = CAIRN_CFG_STRING,
	 .count_offset = offsetof(struct fz_cfg, ntags)},
	{.name = NULL},
};
static const struct cairn_cfg_schema g_schema = {
	.name = "fuzz config", .size = sizeof(struct fz_cfg), .fields = g_fields};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_cfg cfg;
	char err[512];
	json_t *j;

	memset(&cfg, 0, sizeof(cfg));
	cfg.u32 = 1; /* defaults within limits, so a dump of a loaded config reloads */
	cfg.mode = 1;
	if (cairn_cfg_load_string("fuzz.yaml", (const char *)data, size, &g_schema, &cfg, err,
				  sizeof(err)) == 0) {
		struct fz_cfg again;
		char *text;

		j = cairn_cfg_to_json(&g_schema, &cfg);
		text = j != NULL ? json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
		if (text != NULL) {
			memset(&again, 0, sizeof(again));
			again.u32 = 1;
			again.mode = 1;
			if (cairn_cfg_load_string("dump", text, strlen(text), &g_schema, &again,
						  err, sizeof(err)) != 0)
				__builtin_trap(); /* our own dump must load back */
			cairn_cfg_free(&g_schema, &again);
		}
		free(text);
		json_decref(j);
	}
	if (memchr(err, '\0', sizeof(err)) == NULL)
		__builtin_trap(); /* the message must always be terminated */
	cairn_cfg_free(&g_schema, &cfg);
	return 0;
}
