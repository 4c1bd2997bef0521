/*
 * Container user attributes and snapshots (srv_cont_prop.c), for the container service
 * (srv_cont.c). System xstream only. Records live in the metadata table
 * SRV_MD_CONT_PROPS under the key pool uuid + container uuid + kind:
 *   'a' + name          -> 'v' + value bytes (an attribute; value may be empty)
 *   's' + epoch (8, BE) -> 's' (a snapshot; the epoch is pinned in every target's VOS
 *                          container with cairn_vos_snap_create)
 */
#ifndef CAIRN_ENGINE_SRV_CONT_PROP_H
#define CAIRN_ENGINE_SRV_CONT_PROP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/uuid.h"

/* Set (create or replace); -CAIRN_ERR_INVAL (name/size), -CAIRN_ERR_OVERFLOW (too many). */
int srv_cont_attr_set(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                      const char *name, const void *val, uint32_t len);
/* *val malloc'd (NULL when len 0); -CAIRN_ERR_NONEXIST. */
int srv_cont_attr_get(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                      const char *name, void **val, uint32_t *len);
/* Names, each NUL-terminated, in *names (malloc'd); *len total bytes. */
int srv_cont_attr_list(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                       char **names, uint32_t *len);
int srv_cont_attr_del(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                      const char *name);

/* Snapshot at a fresh epoch, pinned on every target, then recorded. */
int srv_cont_snap_create(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                         uint64_t *epoch);
/* Epochs ascending, *epochs malloc'd. */
int srv_cont_snap_list(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                       uint64_t **epochs, uint32_t *nr);
int srv_cont_snap_destroy(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                          uint64_t epoch);
bool srv_cont_snap_exists(const struct cairn_uuid *pool, const struct cairn_uuid *cont,
                          uint64_t epoch);

/* Drop every attribute and snapshot record of a container (cont NULL: of every
 * container of the pool). */
void srv_cont_extra_forget(const struct cairn_uuid *pool, const struct cairn_uuid *cont);

#endif /* CAIRN_ENGINE_SRV_CONT_PROP_H */
