/*
 * Private to src/client: what the array-value, array and KV files (cli_obj_array.c,
 * cli_array.c, cli_kv.c) use of cli_obj.c's object handles.
 */
#ifndef CAIRN_CLIENT_CLI_OBJ_H
#define CAIRN_CLIENT_CLI_OBJ_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/proto.h"

#include "client_internal.h"

struct cli_obj;

/* Object behind a handle cookie, with a reference (cli_href_put() it); NULL if none. */
struct cli_obj *cli_obj_get(uint64_t cookie, struct cli_href **ref);
/* Number of redundancy groups (shards) of the object's layout. */
uint32_t cli_obj_grp_nr(struct cli_obj *obj);
/* From a ULT on the client xstream: send object RPC `opc` with `in` (pool, cont, oid
 * and map version are filled here) to the target of in->dkey (or of group `grp` when
 * in->dkey_len is 0), hand the reply to use(arg, rpc); on STALE refresh the pool map
 * and retry once. */
int cli_obj_call(struct cli_obj *obj, uint32_t opc, struct obj_in *in, uint32_t grp,
                 int (*use)(void *arg, struct cairn_rpc *rpc), void *arg);

/* Array values (cli_obj_array.c), from a ULT on the client xstream. One extent
 * [idx, idx + nr) of rec_size-byte records; buf holds nr * rec_size bytes. */
int cli_obj_arr_update(struct cli_obj *obj, const void *dkey, uint32_t dkey_len, const void *akey,
                       uint32_t akey_len, uint32_t rec_size, uint64_t idx, uint64_t nr,
                       const void *buf);
/* Holes read as zeros; *akey_rec_size (may be NULL) = the akey's record size, 0 when the
 * akey does not exist. */
int cli_obj_arr_fetch(struct cli_obj *obj, const void *dkey, uint32_t dkey_len, const void *akey,
                      uint32_t akey_len, uint32_t rec_size, uint64_t idx, uint64_t nr, void *buf,
                      uint64_t *akey_rec_size);
/* Keep records [0, keep) of (dkey, akey). */
int cli_obj_arr_trunc(struct cli_obj *obj, const void *dkey, uint32_t dkey_len, const void *akey,
                      uint32_t akey_len, uint32_t rec_size, uint64_t keep);
/* Largest 8-byte big-endian dkey (over every shard) whose akey holds records, and that
 * akey's max extent end. *found = false when there is none. */
int cli_obj_arr_query(struct cli_obj *obj, const void *akey, uint32_t akey_len, bool *found,
                      uint64_t *max_dkey, uint64_t *max_end);
/* Punch one dkey. */
int cli_obj_punch_dkey(struct cli_obj *obj, const void *dkey, uint32_t dkey_len);

/* cairn_obj_fetch() with one more completion callback (run first; it may
 * cli_task_set_rc()), e.g. to give "no value" a meaning. */
int cli_obj_fetch_cb(struct cairn_handle oh, const struct cairn_iov *dkey,
                     const struct cairn_iov *akey, struct cairn_iov *value, cli_task_cb_t cb,
                     const void *arg, size_t arg_size, struct cairn_event *ev);
/* The object's container's checksum type (enum cairn_cont_csum; 0 = off). */
uint32_t cli_obj_csum(struct cli_obj *obj);

/* End-to-end checksums (cli_csum.c). cli_csum_in(): set in->csum_type/csum for a value
 * of len bytes at buf (nothing for type 0); *copy is non-NULL when fault injection wants
 * a corrupted copy sent instead (the caller sends and frees it). cli_csum_check(): the
 * fetch reply's checksum against the len bytes that arrived at buf: -CAIRN_ERR_CSUM on a
 * mismatch (the caller then zeroes what it copied: corrupt bytes are never returned). */
int cli_csum_value(uint32_t type, const void *buf, uint64_t len, uint64_t *out);
int cli_csum_in(struct obj_in *in, uint32_t type, const void *buf, uint64_t len, void **copy);
int cli_csum_check(uint32_t type, const struct obj_out *o, const void *buf, uint64_t len);

/* Wire decoders, kept apart for the fuzz target (tests/fuzz/array):
 * the array metadata value (cli_array.c) and a QUERY_KEY reply (cli_obj_array.c).
 * \return 0, -CAIRN_ERR_PROTO (malformed), -CAIRN_ERR_VERSION (newer metadata) */
int cli_array_md_decode(const void *buf, size_t len, uint64_t *cell, uint64_t *chunk);
int cli_obj_query_decode(const struct obj_out *o, bool *found, uint64_t *dkey, uint64_t *end);

#endif /* CAIRN_CLIENT_CLI_OBJ_H */
