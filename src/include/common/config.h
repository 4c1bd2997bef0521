/*
 * YAML configuration loaded into typed C structs through a schema table.
 *
 * A schema lists the keys a YAML mapping may hold; each field names its type, where it
 * lives in the struct (offsetof), whether it is required, and its limits. Loading walks
 * the YAML document, checks every value and writes it to the struct. Every problem is
 * reported precisely, as one line:
 *   server.yaml:12: key 'targets': 0 is out of range, expected an integer in 1..64
 *   server.yaml:3: key 'engine.log_mask': unknown key 'log_msk', expected one of: ...
 *   server.yaml:7: key 'engines': required key 'targets' missing in map (line 7)
 * Unknown keys, duplicate keys, wrong types and out-of-range values are all errors.
 *
 * Defaults: fill the struct before loading; keys absent from the file keep their
 * value. STRING and LIST members must be NULL or heap-allocated before loading (a
 * replaced value is freed); cairn_cfg_free() frees them. List elements start zeroed,
 * then schema->init(elem) runs if set.
 *
 * Storage per type (the field at `offset`):
 *   U32 uint32_t · U64 uint64_t · SIZE uint64_t bytes ("4G", "64k", see units.h) ·
 *   DURATION uint64_t nanoseconds ("10s", "500ms") · BOOL bool · STRING char * (heap) ·
 *   ENUM int (value from the enums table; YAML gives the name) ·
 *   MAP the sub-struct itself, inline (schema `sub`) ·
 *   LIST a pointer to a heap array of elements (`elem_type`; for maps `sub`), with the
 *   element count as uint32_t at `count_offset`.
 *
 * Threads: no shared state; any thread.
 */
#ifndef CAIRN_COMMON_CONFIG_H
#define CAIRN_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cairn_cfg_type {
	CAIRN_CFG_NONE = 0, /* not a valid field type; 0 catches unset types */
	CAIRN_CFG_U32,
	CAIRN_CFG_U64,
	CAIRN_CFG_SIZE,
	CAIRN_CFG_DURATION,
	CAIRN_CFG_BOOL,
	CAIRN_CFG_STRING,
	CAIRN_CFG_ENUM,
	CAIRN_CFG_MAP,
	CAIRN_CFG_LIST,
};

/** ENUM names and the int stored for each; the table ends with { NULL, 0 }. */
struct cairn_cfg_enum {
	const char *name;
	int value;
};

struct cairn_cfg_schema;

struct cairn_cfg_field {
	const char *name; /**< YAML key; NULL ends the field table */
	enum cairn_cfg_type type;
	size_t offset; /**< offsetof() the member */
	bool required; /**< error if the key is absent */
	/** U32/U64/SIZE/DURATION: allowed range (max 0 = no upper bound);
	 *  STRING: length range in bytes (max 0 = no upper bound);
	 *  LIST of scalars: the range applies to each element. */
	uint64_t min, max;
	const struct cairn_cfg_enum *enums; /**< ENUM (or LIST of ENUM) names */
	const struct cairn_cfg_schema *sub; /**< MAP, or LIST of MAP: element schema */
	enum cairn_cfg_type elem_type;      /**< LIST: element type (not LIST) */
	size_t count_offset;                /**< LIST: offsetof() the uint32_t count */
	uint32_t min_count, max_count;      /**< LIST: element count range (max 0 = any) */
};

struct cairn_cfg_schema {
	const char *name;                     /**< what the map is, for messages */
	size_t size;                          /**< sizeof the struct (list elements) */
	const struct cairn_cfg_field *fields; /**< ended by a field with name NULL */
	void (*init)(void *obj);              /**< defaults for new list elements, or NULL */
};

/**
 * Load a YAML file into obj.
 * \param[in]  path   file to read (at most 16 MiB)
 * \param[in]  schema schema of the top-level mapping
 * \param[out] obj    struct to fill (pre-filled with defaults)
 * \param[out] err    one-line message on failure (may be NULL)
 * \param[in]  errlen size of err
 * \return 0; -CAIRN_ERR_INVAL (bad content, with "path:line: ..." in err); -errno when
 *         the file cannot be read; -CAIRN_ERR_NOMEM. On failure obj may be partly
 *         filled: cairn_cfg_free() it either way.
 */
int cairn_cfg_load_file(const char *path, const struct cairn_cfg_schema *schema, void *obj,
			char *err, size_t errlen);

/**
 * Load YAML text; `name` stands in for the file name in messages. Same returns as
 * cairn_cfg_load_file().
 */
int cairn_cfg_load_string(const char *name, const char *text, size_t len,
			  const struct cairn_cfg_schema *schema, void *obj, char *err,
			  size_t errlen);

/**
 * The struct's current values as a JSON object, keys in schema order: integers and sizes
 * as numbers (bytes), durations as exact strings ("500ms", "1234ns"), enums by name,
 * maps as objects, lists as arrays; unset (NULL) strings and lists are left out. JSON is
 * YAML, so the printed result loads back with cairn_cfg_load_string() (provided the
 * defaults satisfy the schema's limits): use it to show the effective configuration.
 * \return a new reference (json_decref() it), or NULL when out of memory
 */
struct json_t *cairn_cfg_to_json(const struct cairn_cfg_schema *schema, const void *obj);

/** Free the STRING and LIST members (recursively) and set them to NULL / count 0. */
void cairn_cfg_free(const struct cairn_cfg_schema *schema, void *obj);

/**
 * Check a schema for programming errors (unknown types, LIST without count_offset,
 * ENUM without names, MAP without sub-schema, duplicate keys). Loading calls it too.
 * \return 0 or -CAIRN_ERR_INVAL with the reason in err
 */
int cairn_cfg_check_schema(const struct cairn_cfg_schema *schema, char *err, size_t errlen);

#endif /* CAIRN_COMMON_CONFIG_H */
