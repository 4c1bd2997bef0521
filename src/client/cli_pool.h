/*
 * Client-side pool, container and object handles (cli_pool.c, cli_cont.c, cli_obj.c).
 * Objects are reached through the handle table; a container holds a reference on its
 * pool, an object on its container.
 */
#ifndef CAIRN_CLIENT_CLI_POOL_H
#define CAIRN_CLIENT_CLI_POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cairn/cont.h"
#include "cairn/pool.h"
#include "cli_hdl.h"
#include "net/net.h"
#include "placement/placement.h"

struct cli_pool {
	pthread_mutex_t lock; /* map, map_version, space */
	uint8_t uuid[16];
	uint64_t srv_hdl; /* the pool service's connection cookie */
	char label[CAIRN_LABEL_MAX];
	struct cairn_pool_map *map;
	uint32_t map_version;
	uint32_t nr_targets;
	uint64_t total, free;
	uint32_t rank; /* rank of the pool service (rank 0 for now) */
	uint32_t flags; /* PROTO_POOL_CONNECT_* the connection was made with */
	bool g2l;       /* from global2local: disconnect is local only (cli_glob.c) */
};

struct cli_cont {
	struct cli_pool *pool;
	struct cli_href *pool_ref;
	uint8_t uuid[16];
	uint64_t srv_hdl;
	char label[CAIRN_LABEL_MAX];
	uint32_t oclass;
	uint64_t snap_epoch; /* opened at a snapshot (read-only); 0 = latest */
	pthread_mutex_t lock; /* oid range */
	uint64_t oid_next, oid_end;
	bool g2l; /* from global2local: close is local only (cli_glob.c) */
	/* fixed at create (set at open / global2local): the data path's properties */
	uint64_t chunk_size; /* bytes */
	uint32_t csum;       /* enum cairn_cont_csum: checksums on object RPCs */
	uint32_t rf;         /* classes opened must tolerate this many failures */
};

/* Look a handle up (reference in *ref on success). NULL for an unknown handle. */
struct cli_pool *cli_pool_get(uint64_t cookie, struct cli_href **ref);
struct cli_cont *cli_cont_get(uint64_t cookie, struct cli_href **ref);

/* From a ULT on the client xstream: refresh the pool map with a pool query RPC. */
int cli_pool_refresh(struct cli_pool *pool);
/* Endpoint of the pool/cont service. */
struct cairn_ep cli_pool_svc_ep(const struct cli_pool *pool);

#endif /* CAIRN_CLIENT_CLI_POOL_H */
