/*
 * Helpers for engine unit tests that run the vos module on a storage directory: format
 * target devices (sparse files with an empty space map, as `cairn-server storage format`
 * does) and look pool shards up in a target's space map.
 */
#ifndef CAIRN_TEST_TGT_H
#define CAIRN_TEST_TGT_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "srv_tgt_space.h"

/* Create <dir>/target-0..ntgt-1 of size bytes, each with an empty space map. */
static inline int
tgt_test_format(const char *dir, unsigned ntgt, uint64_t size)
{
	struct srv_tgt_space *sp = malloc(sizeof(*sp));
	uint8_t *buf = calloc(1, SRV_TGT_MAP_SIZE);
	char path[512];
	int rc = -1, fd;
	unsigned i;

	if (sp == NULL || buf == NULL)
		goto out;
	for (i = 0; i < ntgt; i++) {
		if (srv_tgt_space_init(sp, i, NULL, NULL, size, 0) != 0 ||
		    srv_tgt_space_encode(sp, 1, buf, SRV_TGT_COPY_SIZE) <= 0)
			goto out;
		snprintf(path, sizeof(path), "%s/target-%u", dir, i);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			goto out;
		if (ftruncate(fd, (off_t)size) != 0 ||
		    pwrite(fd, buf, SRV_TGT_MAP_SIZE, 0) != (ssize_t)SRV_TGT_MAP_SIZE) {
			close(fd);
			goto out;
		}
		close(fd);
	}
	rc = 0;
out:
	free(buf);
	free(sp);
	return rc;
}

/* Does target tgt's space map hold an ACTIVE extent for pool uuid (text form)? */
static inline bool
tgt_test_has_shard(const char *dir, unsigned tgt, const char *uuid)
{
	struct srv_tgt_space *sp = malloc(sizeof(*sp));
	uint8_t *buf = malloc(SRV_TGT_MAP_SIZE);
	struct srv_tgt_extent *e;
	struct cairn_uuid u;
	char path[512], why[400];
	bool one_bad, found = false;
	int fd;

	snprintf(path, sizeof(path), "%s/target-%u", dir, tgt);
	fd = open(path, O_RDONLY);
	if (sp && buf && fd >= 0 && cairn_uuid_parse(uuid, &u) == 0 &&
	    pread(fd, buf, SRV_TGT_MAP_SIZE, 0) == (ssize_t)SRV_TGT_MAP_SIZE &&
	    srv_tgt_space_load(buf, SRV_TGT_COPY_SIZE, buf + SRV_TGT_COPY_SIZE,
			       SRV_TGT_COPY_SIZE, sp, &one_bad, why, sizeof(why)) == 0) {
		e = srv_tgt_space_find(sp, &u);
		found = e != NULL && e->state == SRV_TGT_EXT_ACTIVE;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	free(sp);
	return found;
}

#endif /* CAIRN_TEST_TGT_H */
