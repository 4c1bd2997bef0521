/*
 * Wire protocols between libcairn and the engine's pool, cont and obj services (the
 * src/net RPC layer), shared by src/engine/srv_{pool,cont,obj}.c and
 * src/client/cli_{pool,cont,obj}.c. Codecs are static here so each side links nothing
 * of the other; the RPC tables take the handlers (NULL on the client).
 *
 * Endpoints: pool and cont RPCs go to (rank, tag 0), the system xstream; obj RPCs go to
 * (rank, 1 + target index), the target's own xstream.
 * Encoding: src/net codec (explicit little-endian); strings/bytes point into the message.
 */
#ifndef CAIRN_ENGINE_PROTO_H
#define CAIRN_ENGINE_PROTO_H

#include <stdint.h>
#include <string.h>

#include "net/codec.h"
#include "net/net.h"

#define PROTO_POOL_BASE 0x101
#define PROTO_CONT_BASE 0x102
#define PROTO_OBJ_BASE 0x103
#define PROTO_VERSION 1

/* Values up to this size travel inside the RPC; larger ones by bulk. */
#define PROTO_INLINE_MAX 8192u
/* Largest single value a client may write or read in one RPC. */
#define PROTO_VALUE_MAX (64u << 20)
#define PROTO_LABEL_MAX 64u /* incl. NUL */
#define PROTO_KEY_MAX 4096u
#define PROTO_MAP_MAX (1u << 20)
#define PROTO_ANCHOR_MAX 8192u
/* Object ids the container service hands out per request at most. */
#define PROTO_OID_ALLOC_MAX (1u << 20)

enum { POOL_RPC_CONNECT = 0, POOL_RPC_DISCONNECT, POOL_RPC_QUERY, POOL_RPC_COUNT };
enum {
	CONT_RPC_CREATE = 0,
	CONT_RPC_DESTROY,
	CONT_RPC_OPEN,
	CONT_RPC_CLOSE,
	CONT_RPC_LIST,
	CONT_RPC_QUERY,
	CONT_RPC_OID_ALLOC,
	CONT_RPC_COUNT
};
enum { OBJ_RPC_UPDATE = 0, OBJ_RPC_FETCH, OBJ_RPC_PUNCH, OBJ_RPC_LIST_DKEYS, OBJ_RPC_COUNT };

/* Container types. */
enum { PROTO_CONT_POSIX = 1 };
/* cont_in.flags */
#define PROTO_CONT_FORCE 0x1u
/* obj_out.flags */
#define PROTO_OBJ_TRUNC 0x1u /* fetch: buffer too small, size says how much is needed */
#define PROTO_OBJ_EOF 0x2u   /* list: this shard has no more keys */

/* obj_in.anchor of LIST_DKEYS (host order, both ends are this code): skip the first
 * `skip` keys of the shard, return at most max_keys (and at most buf_size bytes). */
struct proto_list_pos {
	uint64_t skip;
	uint32_t max_keys;
	uint32_t pad;
};

/* ------------------------------------------------------------------ pool */

struct pool_in {
	const char *pool; /* CONNECT: label or uuid */
	uint8_t uuid[16]; /* DISCONNECT / QUERY */
	uint64_t hdl;
};

struct pool_out {
	uint8_t uuid[16];
	uint64_t hdl;
	uint32_t map_version;
	uint32_t nr_targets;
	uint64_t total;
	uint64_t free;
	const char *label;
	const void *map; /* cairn_pmap_encode() form */
	uint32_t map_len;
};

static inline int
pool_in_enc(struct cairn_enc *e, const void *p)
{
	const struct pool_in *i = p;

	cairn_enc_str(e, i->pool);
	cairn_enc_uuid(e, i->uuid);
	cairn_enc_u64(e, i->hdl);
	return cairn_enc_rc(e);
}

static inline int
pool_in_dec(struct cairn_dec *d, void *p)
{
	struct pool_in *i = p;

	cairn_dec_str(d, &i->pool, PROTO_LABEL_MAX + 40);
	cairn_dec_uuid(d, i->uuid);
	cairn_dec_u64(d, &i->hdl);
	return cairn_dec_rc(d);
}

static inline int
pool_out_enc(struct cairn_enc *e, const void *p)
{
	const struct pool_out *o = p;

	cairn_enc_uuid(e, o->uuid);
	cairn_enc_u64(e, o->hdl);
	cairn_enc_u32(e, o->map_version);
	cairn_enc_u32(e, o->nr_targets);
	cairn_enc_u64(e, o->total);
	cairn_enc_u64(e, o->free);
	cairn_enc_str(e, o->label);
	cairn_enc_bytes(e, o->map, o->map_len);
	return cairn_enc_rc(e);
}

static inline int
pool_out_dec(struct cairn_dec *d, void *p)
{
	struct pool_out *o = p;

	cairn_dec_uuid(d, o->uuid);
	cairn_dec_u64(d, &o->hdl);
	cairn_dec_u32(d, &o->map_version);
	cairn_dec_u32(d, &o->nr_targets);
	cairn_dec_u64(d, &o->total);
	cairn_dec_u64(d, &o->free);
	cairn_dec_str(d, &o->label, PROTO_LABEL_MAX);
	cairn_dec_bytes(d, &o->map, &o->map_len, PROTO_MAP_MAX);
	return cairn_dec_rc(d);
}

#define PROTO_POOL_RPCS(h_connect, h_disconnect, h_query)                                     \
	{                                                                                     \
		[POOL_RPC_CONNECT] = {.name = "pool_connect",                                 \
		                      .in_size = sizeof(struct pool_in),                      \
		                      .out_size = sizeof(struct pool_out),                    \
		                      .in_enc = pool_in_enc,                                  \
		                      .in_dec = pool_in_dec,                                  \
		                      .out_enc = pool_out_enc,                                \
		                      .out_dec = pool_out_dec,                                \
		                      .handler = h_connect},                                  \
		[POOL_RPC_DISCONNECT] = {.name = "pool_disconnect",                           \
		                         .in_size = sizeof(struct pool_in),                   \
		                         .in_enc = pool_in_enc,                               \
		                         .in_dec = pool_in_dec,                               \
		                         .handler = h_disconnect},                            \
		[POOL_RPC_QUERY] = {.name = "pool_query",                                     \
		                    .in_size = sizeof(struct pool_in),                        \
		                    .out_size = sizeof(struct pool_out),                      \
		                    .in_enc = pool_in_enc,                                    \
		                    .in_dec = pool_in_dec,                                    \
		                    .out_enc = pool_out_enc,                                  \
		                    .out_dec = pool_out_dec,                                  \
		                    .handler = h_query},                                      \
	}

/* ------------------------------------------------------------------ cont */

/* One request shape for every container RPC (unused fields zero/empty). */
struct cont_in {
	uint8_t pool[16];
	uint64_t pool_hdl;
	const char *cont;  /* DESTROY/OPEN/QUERY: label or uuid */
	const char *label; /* CREATE */
	uint32_t type;     /* CREATE: PROTO_CONT_* */
	uint32_t oclass;   /* CREATE: default object class */
	uint32_t flags;    /* PROTO_CONT_FORCE */
	uint8_t uuid[16];  /* CLOSE / OID_ALLOC */
	uint64_t cont_hdl; /* CLOSE / OID_ALLOC */
	uint64_t count;    /* OID_ALLOC */
};

struct cont_out {
	uint8_t uuid[16];
	uint64_t hdl;
	const char *label;
	uint32_t type;
	uint32_t oclass;
	uint32_t nr_open;
	uint64_t ctime;
	uint64_t oid_next;  /* QUERY: next unallocated id; OID_ALLOC: first of the range */
	const char *list;   /* LIST: "uuid label\n" lines */
};

static inline int
cont_in_enc(struct cairn_enc *e, const void *p)
{
	const struct cont_in *i = p;

	cairn_enc_uuid(e, i->pool);
	cairn_enc_u64(e, i->pool_hdl);
	cairn_enc_str(e, i->cont);
	cairn_enc_str(e, i->label);
	cairn_enc_u32(e, i->type);
	cairn_enc_u32(e, i->oclass);
	cairn_enc_u32(e, i->flags);
	cairn_enc_uuid(e, i->uuid);
	cairn_enc_u64(e, i->cont_hdl);
	cairn_enc_u64(e, i->count);
	return cairn_enc_rc(e);
}

static inline int
cont_in_dec(struct cairn_dec *d, void *p)
{
	struct cont_in *i = p;

	cairn_dec_uuid(d, i->pool);
	cairn_dec_u64(d, &i->pool_hdl);
	cairn_dec_str(d, &i->cont, PROTO_LABEL_MAX + 40);
	cairn_dec_str(d, &i->label, PROTO_LABEL_MAX + 40);
	cairn_dec_u32(d, &i->type);
	cairn_dec_u32(d, &i->oclass);
	cairn_dec_u32(d, &i->flags);
	cairn_dec_uuid(d, i->uuid);
	cairn_dec_u64(d, &i->cont_hdl);
	cairn_dec_u64(d, &i->count);
	return cairn_dec_rc(d);
}

static inline int
cont_out_enc(struct cairn_enc *e, const void *p)
{
	const struct cont_out *o = p;

	cairn_enc_uuid(e, o->uuid);
	cairn_enc_u64(e, o->hdl);
	cairn_enc_str(e, o->label);
	cairn_enc_u32(e, o->type);
	cairn_enc_u32(e, o->oclass);
	cairn_enc_u32(e, o->nr_open);
	cairn_enc_u64(e, o->ctime);
	cairn_enc_u64(e, o->oid_next);
	cairn_enc_str(e, o->list);
	return cairn_enc_rc(e);
}

static inline int
cont_out_dec(struct cairn_dec *d, void *p)
{
	struct cont_out *o = p;

	cairn_dec_uuid(d, o->uuid);
	cairn_dec_u64(d, &o->hdl);
	cairn_dec_str(d, &o->label, PROTO_LABEL_MAX);
	cairn_dec_u32(d, &o->type);
	cairn_dec_u32(d, &o->oclass);
	cairn_dec_u32(d, &o->nr_open);
	cairn_dec_u64(d, &o->ctime);
	cairn_dec_u64(d, &o->oid_next);
	cairn_dec_str(d, &o->list, 1u << 20);
	return cairn_dec_rc(d);
}

#define PROTO_CONT_RPC(nm, h)                                                                 \
	{                                                                                     \
		.name = nm, .in_size = sizeof(struct cont_in), .out_size = sizeof(struct cont_out), \
		.in_enc = cont_in_enc, .in_dec = cont_in_dec, .out_enc = cont_out_enc,        \
		.out_dec = cont_out_dec, .handler = h                                         \
	}
#define PROTO_CONT_RPCS(h)                                                                    \
	{                                                                                     \
		[CONT_RPC_CREATE] = PROTO_CONT_RPC("cont_create", h),                         \
		[CONT_RPC_DESTROY] = PROTO_CONT_RPC("cont_destroy", h),                       \
		[CONT_RPC_OPEN] = PROTO_CONT_RPC("cont_open", h),                             \
		[CONT_RPC_CLOSE] = PROTO_CONT_RPC("cont_close", h),                           \
		[CONT_RPC_LIST] = PROTO_CONT_RPC("cont_list", h),                             \
		[CONT_RPC_QUERY] = PROTO_CONT_RPC("cont_query", h),                           \
		[CONT_RPC_OID_ALLOC] = PROTO_CONT_RPC("cont_oid_alloc", h),                   \
	}

/* ------------------------------------------------------------------ obj */

struct obj_in {
	uint8_t pool[16];
	uint8_t cont[16];
	uint32_t map_version;
	uint32_t flags;
	uint64_t oid_hi, oid_lo;
	const void *dkey; /* PUNCH: empty = the whole object */
	uint32_t dkey_len;
	const void *akey;
	uint32_t akey_len;
	const void *data; /* UPDATE: inline value */
	uint32_t data_len;
	uint64_t bulk_len; /* UPDATE: value by bulk GET; FETCH: bulk PUT target; 0 = none */
	struct cairn_bulk_desc bulk;
	uint64_t buf_size; /* FETCH: room the client has */
	const void *anchor; /* LIST_DKEYS: struct proto_list_pos */
	uint32_t anchor_len;
};

struct obj_out {
	uint32_t flags; /* PROTO_OBJ_* */
	uint32_t nr_keys;
	uint64_t size;    /* FETCH: value size (0 = none) */
	const void *data; /* FETCH: inline value (when not sent by bulk) */
	uint32_t data_len;
	const void *keys; /* LIST_DKEYS: nr_keys x (u32 len, bytes) */
	uint32_t keys_len;
	const void *anchor; /* unused (empty) */
	uint32_t anchor_len;
};

static inline int
obj_in_enc(struct cairn_enc *e, const void *p)
{
	const struct obj_in *i = p;

	cairn_enc_uuid(e, i->pool);
	cairn_enc_uuid(e, i->cont);
	cairn_enc_u32(e, i->map_version);
	cairn_enc_u32(e, i->flags);
	cairn_enc_u64(e, i->oid_hi);
	cairn_enc_u64(e, i->oid_lo);
	cairn_enc_bytes(e, i->dkey, i->dkey_len);
	cairn_enc_bytes(e, i->akey, i->akey_len);
	cairn_enc_bytes(e, i->data, i->data_len);
	cairn_enc_u64(e, i->bulk_len);
	cairn_enc_bulk(e, &i->bulk);
	cairn_enc_u64(e, i->buf_size);
	cairn_enc_bytes(e, i->anchor, i->anchor_len);
	return cairn_enc_rc(e);
}

static inline int
obj_in_dec(struct cairn_dec *d, void *p)
{
	struct obj_in *i = p;

	cairn_dec_uuid(d, i->pool);
	cairn_dec_uuid(d, i->cont);
	cairn_dec_u32(d, &i->map_version);
	cairn_dec_u32(d, &i->flags);
	cairn_dec_u64(d, &i->oid_hi);
	cairn_dec_u64(d, &i->oid_lo);
	cairn_dec_bytes(d, &i->dkey, &i->dkey_len, PROTO_KEY_MAX);
	cairn_dec_bytes(d, &i->akey, &i->akey_len, PROTO_KEY_MAX);
	cairn_dec_bytes(d, &i->data, &i->data_len, PROTO_INLINE_MAX);
	cairn_dec_u64(d, &i->bulk_len);
	cairn_dec_bulk(d, &i->bulk);
	cairn_dec_u64(d, &i->buf_size);
	cairn_dec_bytes(d, &i->anchor, &i->anchor_len, PROTO_ANCHOR_MAX);
	return cairn_dec_rc(d);
}

static inline int
obj_out_enc(struct cairn_enc *e, const void *p)
{
	const struct obj_out *o = p;

	cairn_enc_u32(e, o->flags);
	cairn_enc_u32(e, o->nr_keys);
	cairn_enc_u64(e, o->size);
	cairn_enc_bytes(e, o->data, o->data_len);
	cairn_enc_bytes(e, o->keys, o->keys_len);
	cairn_enc_bytes(e, o->anchor, o->anchor_len);
	return cairn_enc_rc(e);
}

static inline int
obj_out_dec(struct cairn_dec *d, void *p)
{
	struct obj_out *o = p;

	cairn_dec_u32(d, &o->flags);
	cairn_dec_u32(d, &o->nr_keys);
	cairn_dec_u64(d, &o->size);
	cairn_dec_bytes(d, &o->data, &o->data_len, PROTO_INLINE_MAX);
	cairn_dec_bytes(d, &o->keys, &o->keys_len, 1u << 20);
	cairn_dec_bytes(d, &o->anchor, &o->anchor_len, PROTO_ANCHOR_MAX);
	return cairn_dec_rc(d);
}

#define PROTO_OBJ_RPC(nm, h)                                                                  \
	{                                                                                     \
		.name = nm, .in_size = sizeof(struct obj_in), .out_size = sizeof(struct obj_out), \
		.in_enc = obj_in_enc, .in_dec = obj_in_dec, .out_enc = obj_out_enc,           \
		.out_dec = obj_out_dec, .handler = h                                          \
	}
#define PROTO_OBJ_RPCS(h)                                                                     \
	{                                                                                     \
		[OBJ_RPC_UPDATE] = PROTO_OBJ_RPC("obj_update", h),                            \
		[OBJ_RPC_FETCH] = PROTO_OBJ_RPC("obj_fetch", h),                              \
		[OBJ_RPC_PUNCH] = PROTO_OBJ_RPC("obj_punch", h),                              \
		[OBJ_RPC_LIST_DKEYS] = PROTO_OBJ_RPC("obj_list_dkeys", h),                    \
	}

#endif /* CAIRN_ENGINE_PROTO_H */
