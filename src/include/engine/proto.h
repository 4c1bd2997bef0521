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
#include <stdio.h>
#include <string.h>

#include <cairn/errno.h>
#include <cairn/placement.h>

#include "net/codec.h"
#include "net/net.h"

#define PROTO_POOL_BASE 0x101
#define PROTO_CONT_BASE 0x102
#define PROTO_OBJ_BASE 0x103
#define PROTO_VERSION 1

/* One RPC of a protocol table whose request and reply are struct <pfx>_in / <pfx>_out,
 * coded by <pfx>_in_enc/_dec and <pfx>_out_enc/_dec (defined below in this file). */
#define PROTO_RPC(nm, pfx, h)                                                                 \
	{                                                                                     \
		.name = nm, .in_size = sizeof(struct pfx##_in),                               \
		.out_size = sizeof(struct pfx##_out), .in_enc = pfx##_in_enc,                 \
		.in_dec = pfx##_in_dec, .out_enc = pfx##_out_enc, .out_dec = pfx##_out_dec,   \
		.handler = h                                                                  \
	}

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

enum {
	POOL_RPC_CONNECT = 0,
	POOL_RPC_DISCONNECT,
	POOL_RPC_QUERY,
	/* engine to engine (the pool service to a rank of the pool, tag 0 of that rank):
	 * struct pool_tgt_in / pool_tgt_out, served on its system xstream (srv_pool_tgt.c) */
	POOL_RPC_TGT_CREATE,  /* create the pool's shard on every target of the rank */
	POOL_RPC_TGT_DESTROY, /* remove them (nothing there is not an error) */
	POOL_RPC_TGT_QUERY,   /* space of the rank's shards */
	POOL_RPC_TGT_UPDATE,  /* new pool map version (durable on the rank) */
	POOL_RPC_TGT_CONT,    /* container `cont` on the rank's shards: op PROTO_TGT_CONT_* */
	POOL_RPC_COUNT
};
enum {
	CONT_RPC_CREATE = 0,
	CONT_RPC_DESTROY,
	CONT_RPC_OPEN,
	CONT_RPC_CLOSE,
	CONT_RPC_LIST,
	CONT_RPC_QUERY,
	CONT_RPC_OID_ALLOC,
	/* properties, user attributes, snapshots (srv_cont_prop.c); on an open handle
	 * (cont_in.uuid + cont_hdl) */
	CONT_RPC_PROP_GET,  /* out.value = struct proto_cont_props */
	CONT_RPC_PROP_SET,  /* in.value = struct proto_cont_props (mask says which) */
	CONT_RPC_ATTR_SET,  /* in.name, in.value */
	CONT_RPC_ATTR_GET,  /* in.name -> out.value */
	CONT_RPC_ATTR_LIST, /* out.value = names, each NUL-terminated */
	CONT_RPC_ATTR_DEL,  /* in.name */
	CONT_RPC_SNAP_CREATE,  /* -> out.epoch */
	CONT_RPC_SNAP_LIST,    /* out.value = u64 epochs (host order), ascending */
	CONT_RPC_SNAP_DESTROY, /* in.epoch */
	CONT_RPC_COUNT
};
enum {
	OBJ_RPC_UPDATE = 0,
	OBJ_RPC_FETCH,
	OBJ_RPC_PUNCH,
	OBJ_RPC_LIST_DKEYS,
	/* array values (src/engine/srv_obj_array.c): obj_in.anchor is a struct proto_recx */
	OBJ_RPC_ARRAY_UPDATE,
	OBJ_RPC_ARRAY_FETCH,
	OBJ_RPC_LIST_AKEYS,  /* anchor: struct proto_list_pos, as LIST_DKEYS */
	OBJ_RPC_QUERY_KEY,   /* max u64 dkey and max extent end of akey (see below) */
	OBJ_RPC_ARRAY_TRUNC, /* keep records [0, recx.idx) of (dkey, akey), drop the rest */
	OBJ_RPC_LIST_RECX,   /* extents of (dkey, akey): anchor struct proto_list_pos; out.keys
	                      * = nr_keys x (u64 idx, u64 nr), little-endian, index order */
	OBJ_RPC_COUNT
};

/* obj_in.anchor of the ARRAY_* RPCs (host order, both ends are this code): one extent of
 * records [idx, idx + nr), rec_size bytes each. UPDATE carries nr * rec_size bytes
 * (inline or bulk); FETCH returns them (holes as zeros) inline or by bulk. */
struct proto_recx {
	uint64_t idx;
	uint64_t nr;
	uint32_t rec_size;
	uint32_t pad;
};
/* QUERY_KEY: among this shard's dkeys of exactly 8 bytes (big-endian u64, as the array
 * API writes them) whose akey has visible extents, the largest: obj_out.keys = its 8
 * bytes (nr_keys 1; 0 when none), obj_out.size = its akey's max extent end (records). */

/* Container types (the values of enum cairn_cont_type). */
enum { PROTO_CONT_POSIX = 1, PROTO_CONT_KV = 2, PROTO_CONT_ARRAY = 3, PROTO_CONT_TYPE_MAX };
/* Container user attributes and snapshots: bounds. */
#define PROTO_ATTR_NAME_MAX 255u   /* bytes, excl. NUL */
#define PROTO_ATTR_VALUE_MAX 4000u /* bytes */
#define PROTO_ATTRS_MAX 64u        /* attributes per container */
#define PROTO_SNAPS_MAX 128u       /* snapshots per container */
#define PROTO_CONT_VALUE_MAX (64u << 10)
/* Container properties in cont_in/out.value (host order, both ends are this code). */
#define PROTO_CPROP_LABEL 0x01u
#define PROTO_CPROP_OCLASS 0x02u
#define PROTO_CPROP_CHUNK 0x04u
#define PROTO_CPROP_CSUM 0x08u
#define PROTO_CPROP_RF 0x10u
struct proto_cont_props {
	char label[PROTO_LABEL_MAX];
	uint32_t mask; /* PROP_SET: PROTO_CPROP_* to change */
	uint32_t type;
	uint32_t oclass;
	uint32_t csum; /* enum cairn_csum_type: 0 off, 1 crc32c, 2 crc64 */
	uint64_t chunk_size;
	uint32_t rf; /* redundancy factor 0..PROTO_CONT_RF_MAX */
	uint32_t pad;
};
/* CONT_RPC_CREATE may carry a struct proto_cont_props in cont_in.value (the label, type
 * and class fields of cont_in are then ignored); zero fields take the defaults. */
#define PROTO_CONT_CHUNK_DEFAULT (1ull << 20)
#define PROTO_CONT_CHUNK_MIN 4096ull
#define PROTO_CONT_CHUNK_MAX (1ull << 30)
#define PROTO_CONT_RF_MAX 2u
#define PROTO_CONT_CSUM_MAX 2u
/* Properties fixed at create: set-prop refuses them (-CAIRN_ERR_PERM). */
#define PROTO_CPROP_IMMUTABLE (PROTO_CPROP_CHUNK | PROTO_CPROP_CSUM | PROTO_CPROP_RF)

/* Failures an object class tolerates: S* none, RP_2G1 one, RP_3G1 two (-1: unknown). */
static inline int
proto_oclass_rf(uint32_t oclass)
{
	switch (oclass) {
	case CAIRN_OC_S1:
	case CAIRN_OC_S2:
	case CAIRN_OC_S4:
	case CAIRN_OC_S8:
	case CAIRN_OC_SX:
		return 0;
	case CAIRN_OC_RP_2G1:
		return 1;
	case CAIRN_OC_RP_3G1:
		return 2;
	default:
		return -1;
	}
}

/* Check the values of a create (mask ignored: every field) or of the mask's fields of a
 * set-prop, against each other where both are given. Zero type/oclass/chunk/csum/rf at
 * create mean the default (filled in here: POSIX, SX, 1 MiB, off, 0). The label is
 * checked by the caller (client and service have their own rules for it).
 * \return 0, or -CAIRN_ERR_INVAL with a sentence in err. */
static inline int
proto_cont_props_check(struct proto_cont_props *pp, int create, char *err, size_t errlen)
{
	uint32_t m = create ? ~0u : pp->mask;
	int orf;

	err[0] = '\0';
	if (create) {
		if (pp->type == 0)
			pp->type = PROTO_CONT_POSIX;
		if (pp->oclass == 0)
			pp->oclass = pp->rf == 0   ? CAIRN_OC_SX
			             : pp->rf == 1 ? CAIRN_OC_RP_2G1
			                           : CAIRN_OC_RP_3G1;
		if (pp->chunk_size == 0)
			pp->chunk_size = PROTO_CONT_CHUNK_DEFAULT;
		if (pp->type >= PROTO_CONT_TYPE_MAX) {
			snprintf(err, errlen, "unknown container type %u (POSIX, KV or ARRAY)",
			         pp->type);
			return -CAIRN_ERR_INVAL;
		}
	}
	if ((m & PROTO_CPROP_CHUNK) &&
	    (pp->chunk_size < PROTO_CONT_CHUNK_MIN || pp->chunk_size > PROTO_CONT_CHUNK_MAX ||
	     (pp->chunk_size & (pp->chunk_size - 1)))) {
		snprintf(err, errlen, "chunk size %llu out of range: a power of two, 4 KiB..1 GiB",
		         (unsigned long long)pp->chunk_size);
		return -CAIRN_ERR_INVAL;
	}
	if ((m & PROTO_CPROP_CSUM) && pp->csum > PROTO_CONT_CSUM_MAX) {
		snprintf(err, errlen, "unknown checksum type %u (off, crc32c or crc64)", pp->csum);
		return -CAIRN_ERR_INVAL;
	}
	if ((m & PROTO_CPROP_RF) && pp->rf > PROTO_CONT_RF_MAX) {
		snprintf(err, errlen, "redundancy factor %u out of range 0..%u", pp->rf,
		         PROTO_CONT_RF_MAX);
		return -CAIRN_ERR_INVAL;
	}
	if (m & PROTO_CPROP_OCLASS) {
		orf = proto_oclass_rf(pp->oclass);
		if (orf < 0) {
			snprintf(err, errlen, "unknown object class %u", pp->oclass);
			return -CAIRN_ERR_INVAL;
		}
		if (create && (uint32_t)orf < pp->rf) {
			snprintf(err, errlen,
			         "object class %s tolerates %d failure(s), fewer than the redundancy "
			         "factor %u: use an RP class (RP_2G1 for rf 1, RP_3G1 for rf 2)",
			         cairn_oclass_name((enum cairn_oclass)pp->oclass), orf, pp->rf);
			return -CAIRN_ERR_INVAL;
		}
	}
	return 0;
}
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

/* pool_in.flags of CONNECT (0 = read-write, for callers predating ACLs). */
#define PROTO_POOL_CONNECT_RO 0x1u
#define PROTO_POOL_CONNECT_RW 0x2u
#define PROTO_USER_MAX 64u    /* user name incl. NUL */
#define PROTO_GROUPS_MAX 1024u /* "g1,g2,..." incl. NUL */

struct pool_in {
	const char *pool; /* CONNECT: label or uuid */
	uint8_t uuid[16]; /* DISCONNECT / QUERY */
	uint64_t hdl;
	uint32_t flags;     /* CONNECT: PROTO_POOL_CONNECT_* */
	const char *user;   /* CONNECT: the client's user name (trusted: loopback only) */
	const char *groups; /* CONNECT: its group names, primary first, comma separated */
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
	/* the URIs of the map's ranks: "RANK URI\n" lines (libcairn adds them to its
	 * network group); empty from an engine that has no membership table */
	const char *uris;
};
#define PROTO_URIS_MAX (64u << 10)

static inline int
pool_in_enc(struct cairn_enc *e, const void *p)
{
	const struct pool_in *i = p;

	cairn_enc_str(e, i->pool);
	cairn_enc_uuid(e, i->uuid);
	cairn_enc_u64(e, i->hdl);
	cairn_enc_u32(e, i->flags);
	cairn_enc_str(e, i->user);
	cairn_enc_str(e, i->groups);
	return cairn_enc_rc(e);
}

static inline int
pool_in_dec(struct cairn_dec *d, void *p)
{
	struct pool_in *i = p;

	cairn_dec_str(d, &i->pool, PROTO_LABEL_MAX + 40);
	cairn_dec_uuid(d, i->uuid);
	cairn_dec_u64(d, &i->hdl);
	cairn_dec_u32(d, &i->flags);
	cairn_dec_str(d, &i->user, PROTO_USER_MAX - 1);
	cairn_dec_str(d, &i->groups, PROTO_GROUPS_MAX - 1);
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
	cairn_enc_str(e, o->uris);
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
	cairn_dec_str(d, &o->uris, PROTO_URIS_MAX);
	return cairn_dec_rc(d);
}

/* Engine to engine: the pool service asks a rank of the pool to act on its shards. */
enum {
	PROTO_TGT_CONT_CREATE = 1,  /* create the VOS container on every shard */
	PROTO_TGT_CONT_DESTROY,     /* destroy it (absent is not an error) */
	PROTO_TGT_SNAP_CREATE,      /* pin snapshot `epoch` (aggregation keeps it) */
	PROTO_TGT_SNAP_DESTROY,     /* unpin it */
	PROTO_TGT_CONT_OP_MAX = PROTO_TGT_SNAP_DESTROY
};
struct pool_tgt_in {
	uint8_t uuid[16];      /* the pool */
	uint64_t size;         /* TGT_CREATE: bytes per target */
	uint32_t map_version;  /* TGT_CREATE / TGT_UPDATE */
	uint32_t svc_rank;     /* the pool service's rank */
	uint32_t op;           /* TGT_CONT: PROTO_TGT_CONT_* / PROTO_TGT_SNAP_* */
	uint8_t cont[16];      /* TGT_CONT */
	uint64_t epoch;        /* TGT_CONT snapshots */
};

struct pool_tgt_out {
	uint32_t targets;  /* the rank's targets */
	uint32_t shards;   /* shards of the pool it holds */
	uint64_t total;    /* TGT_QUERY: bytes over its shards */
	uint64_t free;
};

static inline int
pool_tgt_in_enc(struct cairn_enc *e, const void *p)
{
	const struct pool_tgt_in *i = p;

	cairn_enc_uuid(e, i->uuid);
	cairn_enc_u64(e, i->size);
	cairn_enc_u32(e, i->map_version);
	cairn_enc_u32(e, i->svc_rank);
	cairn_enc_u32(e, i->op);
	cairn_enc_uuid(e, i->cont);
	cairn_enc_u64(e, i->epoch);
	return cairn_enc_rc(e);
}

static inline int
pool_tgt_in_dec(struct cairn_dec *d, void *p)
{
	struct pool_tgt_in *i = p;

	cairn_dec_uuid(d, i->uuid);
	cairn_dec_u64(d, &i->size);
	cairn_dec_u32(d, &i->map_version);
	cairn_dec_u32(d, &i->svc_rank);
	cairn_dec_u32(d, &i->op);
	cairn_dec_uuid(d, i->cont);
	cairn_dec_u64(d, &i->epoch);
	return cairn_dec_rc(d);
}

static inline int
pool_tgt_out_enc(struct cairn_enc *e, const void *p)
{
	const struct pool_tgt_out *o = p;

	cairn_enc_u32(e, o->targets);
	cairn_enc_u32(e, o->shards);
	cairn_enc_u64(e, o->total);
	cairn_enc_u64(e, o->free);
	return cairn_enc_rc(e);
}

static inline int
pool_tgt_out_dec(struct cairn_dec *d, void *p)
{
	struct pool_tgt_out *o = p;

	cairn_dec_u32(d, &o->targets);
	cairn_dec_u32(d, &o->shards);
	cairn_dec_u64(d, &o->total);
	cairn_dec_u64(d, &o->free);
	return cairn_dec_rc(d);
}

#define PROTO_POOL_TGT_RPC(nm, h) PROTO_RPC(nm, pool_tgt, h)

#define PROTO_POOL_RPCS(h_connect, h_disconnect, h_query, h_tgt)                              \
	{                                                                                     \
		[POOL_RPC_CONNECT] = PROTO_RPC("pool_connect", pool, h_connect),              \
		[POOL_RPC_DISCONNECT] = {.name = "pool_disconnect",                           \
		                         .in_size = sizeof(struct pool_in),                   \
		                         .in_enc = pool_in_enc,                               \
		                         .in_dec = pool_in_dec,                               \
		                         .handler = h_disconnect},                            \
		[POOL_RPC_QUERY] = PROTO_RPC("pool_query", pool, h_query),                    \
		[POOL_RPC_TGT_CREATE] = PROTO_POOL_TGT_RPC("pool_tgt_create", h_tgt),         \
		[POOL_RPC_TGT_DESTROY] = PROTO_POOL_TGT_RPC("pool_tgt_destroy", h_tgt),       \
		[POOL_RPC_TGT_QUERY] = PROTO_POOL_TGT_RPC("pool_tgt_query", h_tgt),           \
		[POOL_RPC_TGT_UPDATE] = PROTO_POOL_TGT_RPC("pool_tgt_update", h_tgt),         \
		[POOL_RPC_TGT_CONT] = PROTO_POOL_TGT_RPC("pool_tgt_cont", h_tgt),             \
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
	const char *name;  /* ATTR_*: attribute name */
	const void *value; /* ATTR_SET, PROP_SET */
	uint32_t value_len;
	uint64_t epoch; /* SNAP_DESTROY; OPEN: open at this snapshot (0 = latest) */
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
	const void *value;  /* PROP_GET, ATTR_GET, ATTR_LIST, SNAP_LIST */
	uint32_t value_len;
	uint64_t epoch; /* SNAP_CREATE */
	/* OPEN, QUERY, CREATE: the properties the data path uses */
	uint64_t chunk_size;
	uint32_t csum; /* enum cairn_csum_type */
	uint32_t rf;
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
	cairn_enc_str(e, i->name);
	cairn_enc_bytes(e, i->value, i->value_len);
	cairn_enc_u64(e, i->epoch);
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
	cairn_dec_str(d, &i->name, PROTO_ATTR_NAME_MAX);
	cairn_dec_bytes(d, &i->value, &i->value_len, PROTO_ATTR_VALUE_MAX);
	cairn_dec_u64(d, &i->epoch);
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
	cairn_enc_bytes(e, o->value, o->value_len);
	cairn_enc_u64(e, o->epoch);
	cairn_enc_u64(e, o->chunk_size);
	cairn_enc_u32(e, o->csum);
	cairn_enc_u32(e, o->rf);
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
	cairn_dec_bytes(d, &o->value, &o->value_len, PROTO_CONT_VALUE_MAX);
	cairn_dec_u64(d, &o->epoch);
	cairn_dec_u64(d, &o->chunk_size);
	cairn_dec_u32(d, &o->csum);
	cairn_dec_u32(d, &o->rf);
	return cairn_dec_rc(d);
}

#define PROTO_CONT_RPC(nm, h) PROTO_RPC(nm, cont, h)
#define PROTO_CONT_RPCS(h)                                                                    \
	{                                                                                     \
		[CONT_RPC_CREATE] = PROTO_CONT_RPC("cont_create", h),                         \
		[CONT_RPC_DESTROY] = PROTO_CONT_RPC("cont_destroy", h),                       \
		[CONT_RPC_OPEN] = PROTO_CONT_RPC("cont_open", h),                             \
		[CONT_RPC_CLOSE] = PROTO_CONT_RPC("cont_close", h),                           \
		[CONT_RPC_LIST] = PROTO_CONT_RPC("cont_list", h),                             \
		[CONT_RPC_QUERY] = PROTO_CONT_RPC("cont_query", h),                           \
		[CONT_RPC_OID_ALLOC] = PROTO_CONT_RPC("cont_oid_alloc", h),                   \
		[CONT_RPC_PROP_GET] = PROTO_CONT_RPC("cont_prop_get", h),                     \
		[CONT_RPC_PROP_SET] = PROTO_CONT_RPC("cont_prop_set", h),                     \
		[CONT_RPC_ATTR_SET] = PROTO_CONT_RPC("cont_attr_set", h),                     \
		[CONT_RPC_ATTR_GET] = PROTO_CONT_RPC("cont_attr_get", h),                     \
		[CONT_RPC_ATTR_LIST] = PROTO_CONT_RPC("cont_attr_list", h),                   \
		[CONT_RPC_ATTR_DEL] = PROTO_CONT_RPC("cont_attr_del", h),                     \
		[CONT_RPC_SNAP_CREATE] = PROTO_CONT_RPC("cont_snap_create", h),               \
		[CONT_RPC_SNAP_LIST] = PROTO_CONT_RPC("cont_snap_list", h),                   \
		[CONT_RPC_SNAP_DESTROY] = PROTO_CONT_RPC("cont_snap_destroy", h),             \
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
	uint64_t epoch; /* reads (FETCH, LIST_*): at this snapshot epoch; 0 = latest */
	uint32_t cond;      /* UPDATE, ARRAY_UPDATE, PUNCH, FETCH: PROTO_COND_* */
	uint32_t csum_type; /* enum cairn_csum_type; UPDATE/ARRAY_UPDATE: of csum; FETCH/
	                     * ARRAY_FETCH: the checksum wanted in obj_out (0: none) */
	uint64_t csum;      /* UPDATE/ARRAY_UPDATE: checksum of the value (all its bytes) */
};
/* obj_in.cond: the values of CAIRN_COND_* (include/cairn/obj.h); the update/punch bits
 * are those of enum cairn_vos_cond. */
#define PROTO_COND_DKEY_INSERT 0x01u
#define PROTO_COND_DKEY_UPDATE 0x02u
#define PROTO_COND_AKEY_INSERT 0x04u
#define PROTO_COND_AKEY_UPDATE 0x08u
#define PROTO_COND_PUNCH 0x10u
#define PROTO_COND_DKEY_FETCH 0x20u
#define PROTO_COND_AKEY_FETCH 0x40u
#define PROTO_COND_UPDATE_MASK 0x0fu
#define PROTO_COND_FETCH_MASK 0x60u

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
	uint32_t csum_type; /* FETCH/ARRAY_FETCH: of csum (0: none) */
	uint64_t csum;      /* of the value's bytes returned (size for single values) */
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
	cairn_enc_u64(e, i->epoch);
	cairn_enc_u32(e, i->cond);
	cairn_enc_u32(e, i->csum_type);
	cairn_enc_u64(e, i->csum);
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
	cairn_dec_u64(d, &i->epoch);
	cairn_dec_u32(d, &i->cond);
	cairn_dec_u32(d, &i->csum_type);
	cairn_dec_u64(d, &i->csum);
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
	cairn_enc_u32(e, o->csum_type);
	cairn_enc_u64(e, o->csum);
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
	cairn_dec_u32(d, &o->csum_type);
	cairn_dec_u64(d, &o->csum);
	return cairn_dec_rc(d);
}

#define PROTO_OBJ_RPC(nm, h) PROTO_RPC(nm, obj, h)
#define PROTO_OBJ_RPCS(h)                                                                     \
	{                                                                                     \
		[OBJ_RPC_UPDATE] = PROTO_OBJ_RPC("obj_update", h),                            \
		[OBJ_RPC_FETCH] = PROTO_OBJ_RPC("obj_fetch", h),                              \
		[OBJ_RPC_PUNCH] = PROTO_OBJ_RPC("obj_punch", h),                              \
		[OBJ_RPC_LIST_DKEYS] = PROTO_OBJ_RPC("obj_list_dkeys", h),                    \
		[OBJ_RPC_ARRAY_UPDATE] = PROTO_OBJ_RPC("obj_array_update", h),                \
		[OBJ_RPC_ARRAY_FETCH] = PROTO_OBJ_RPC("obj_array_fetch", h),                  \
		[OBJ_RPC_LIST_AKEYS] = PROTO_OBJ_RPC("obj_list_akeys", h),                    \
		[OBJ_RPC_QUERY_KEY] = PROTO_OBJ_RPC("obj_query_key", h),                      \
		[OBJ_RPC_ARRAY_TRUNC] = PROTO_OBJ_RPC("obj_array_trunc", h),                  \
		[OBJ_RPC_LIST_RECX] = PROTO_OBJ_RPC("obj_list_recx", h),                      \
	}

#endif /* CAIRN_ENGINE_PROTO_H */
