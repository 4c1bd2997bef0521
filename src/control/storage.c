/*
 * Storage format and query: each engine's directory holds a CRC-protected superblock
 * (system name, rank, system and engine UUIDs, target count and size) and one device per
 * target (target-<i>: a sparse file of the configured size). Format writes each target's
 * empty space map (src/engine/srv_tgt_space.h) at the start of its device; the engine
 * carves pool shards out of the rest; query reads the maps back for size/used/free.
 * The superblock is written to a temporary file, fsync'd and renamed, so a crash during
 * format leaves either no superblock or a complete one.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <cairn/errno.h>

#define CAIRN_LOG_SS CAIRN_SS_MGMT
#include "common/csum.h"
#include "common/log.h"

#include "control_internal.h"
#include "srv_tgt_space.h"

void
ctl_sb_encode(const struct ctl_superblock *sb, struct ctl_superblock_df *df)
{
	memset(df, 0, sizeof(*df));
	df->magic = htole64(CTL_SB_MAGIC);
	df->version = htole32(CTL_SB_VERSION);
	df->rank = htole32(sb->rank);
	memcpy(df->system_uuid, sb->system_uuid.b, 16);
	memcpy(df->engine_uuid, sb->engine_uuid.b, 16);
	snprintf(df->system, sizeof(df->system), "%s", sb->system);
	df->nr_targets = htole32(sb->nr_targets);
	df->target_size = htole64(sb->target_size);
	df->format_time = htole64(sb->format_time);
	ctl_sb_encode_crc(df);
}

void
ctl_sb_encode_crc(struct ctl_superblock_df *df)
{
	df->crc = htole32(cairn_crc32c(0, df, offsetof(struct ctl_superblock_df, crc)));
}

int
ctl_sb_decode(const struct ctl_superblock_df *df, struct ctl_superblock *sb)
{
	uint32_t crc = cairn_crc32c(0, df, offsetof(struct ctl_superblock_df, crc));

	if (le64toh(df->magic) != CTL_SB_MAGIC || le32toh(df->crc) != crc)
		return -CAIRN_ERR_CORRUPT;
	if (le32toh(df->version) != CTL_SB_VERSION)
		return -CAIRN_ERR_VERSION;
	memset(sb, 0, sizeof(*sb));
	sb->version = le32toh(df->version);
	sb->rank = le32toh(df->rank);
	memcpy(sb->system_uuid.b, df->system_uuid, 16);
	memcpy(sb->engine_uuid.b, df->engine_uuid, 16);
	if (memchr(df->system, '\0', sizeof(df->system)) == NULL || df->system[0] == '\0')
		return -CAIRN_ERR_CORRUPT;
	memcpy(sb->system, df->system, sizeof(sb->system));
	sb->nr_targets = le32toh(df->nr_targets);
	sb->target_size = le64toh(df->target_size);
	sb->format_time = le64toh(df->format_time);
	if (sb->nr_targets == 0 || sb->nr_targets > CTL_MAX_TARGETS)
		return -CAIRN_ERR_CORRUPT;
	return 0;
}

int
ctl_sb_read(const char *dir, struct ctl_superblock *sb)
{
	struct ctl_superblock_df df;
	char path[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, CTL_SB_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, &df, sizeof(df), 0);
	close(fd);
	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(df))
		return -CAIRN_ERR_CORRUPT;
	return ctl_sb_decode(&df, sb);
}

static int
mkdir_p(const char *dir)
{
	char buf[4096], *p;

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Does dir hold anything Cairn would overwrite? */
static bool
dir_in_use(const char *dir, char *what, size_t len)
{
	struct ctl_superblock sb;
	struct dirent *de;
	DIR *d;
	int rc;

	rc = ctl_sb_read(dir, &sb);
	if (rc == 0) {
		snprintf(what, len, "it is formatted (system %s, rank %u, %u targets)", sb.system,
		         sb.rank, sb.nr_targets);
		return true;
	}
	if (rc != -ENOENT) {
		snprintf(what, len, "it holds a superblock that cannot be read (%s)",
		         cairn_strerror(rc));
		return true;
	}
	d = opendir(dir);
	if (d == NULL)
		return false;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "target-", 7) == 0) {
			snprintf(what, len, "it holds target files (%.40s)", de->d_name);
			closedir(d);
			return true;
		}
	}
	closedir(d);
	return false;
}

/* Remove target files beyond the new count (left from an earlier, larger format). */
static void
remove_stale_targets(const char *dir, unsigned keep)
{
	char path[4096];
	struct dirent *de;
	unsigned long idx;
	char *end;
	DIR *d;

	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "target-", 7) != 0)
			continue;
		idx = strtoul(de->d_name + 7, &end, 10);
		if (*end != '\0' || idx < keep)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

/* Write an empty space map (copy 0, seq 1; copy 1 zeroed) at the start of fd. */
static int
write_space_map(int fd, unsigned i, const struct ctl_superblock *sb, uint64_t size)
{
	struct srv_tgt_space *sp;
	uint8_t *buf;
	int n, rc = 0;

	sp = malloc(sizeof(*sp));
	buf = calloc(1, SRV_TGT_MAP_SIZE);
	if (sp == NULL || buf == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto out;
	}
	rc = srv_tgt_space_init(sp, i, &sb->system_uuid, &sb->engine_uuid, size,
	                        sb->format_time);
	if (rc)
		goto out;
	n = srv_tgt_space_encode(sp, 1, buf, SRV_TGT_COPY_SIZE);
	if (n < 0) {
		rc = n;
		goto out;
	}
	if (pwrite(fd, buf, SRV_TGT_MAP_SIZE, 0) != (ssize_t)SRV_TGT_MAP_SIZE || fdatasync(fd) < 0)
		rc = errno ? -errno : -CAIRN_ERR_IO;
out:
	free(buf);
	free(sp);
	return rc;
}

static int
create_target(const char *dir, unsigned i, uint64_t size, const struct ctl_superblock *sb)
{
	char path[4096];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/target-%u", dir, i);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* Sparse: blocks are allocated as pools are created; the size is the target's
	 * capacity, the space map at its start says who owns which part. */
	if (ftruncate(fd, (off_t)size) < 0)
		rc = -errno;
	if (rc == 0)
		rc = write_space_map(fd, i, sb, size);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Pool shard files of the layout before space maps (<dir>/pools/): their data is gone
 * with the reformat, and the engine refuses storage that still has them. */
static void
remove_old_pools(const char *dir)
{
	char path[4096], f[4400];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/pools", dir);
	d = opendir(path);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
		unlink(f);
	}
	closedir(d);
	rmdir(path);
}

static int
write_superblock(const char *dir, const struct ctl_superblock *sb)
{
	struct ctl_superblock_df df;
	char tmp[4096], path[4096];
	int fd, rc = 0;

	ctl_sb_encode(sb, &df);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, CTL_SB_FILE);
	snprintf(path, sizeof(path), "%s/%s", dir, CTL_SB_FILE);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, &df, sizeof(df)) != (ssize_t)sizeof(df) || fsync(fd) < 0)
		rc = errno ? -errno : -CAIRN_ERR_IO;
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

/* ------------------------------------------------------------------ devices */

/* Smallest device a target accepts: the space map and one smallest pool shard. */
#define CTL_DEV_MIN_SIZE (SRV_TGT_MAP_SIZE + (16ull << 20))

/* Size of a block device or regular file open as fd. */
static int
dev_size(int fd, const struct stat *st, uint64_t *size)
{
	if (S_ISBLK(st->st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	*size = (uint64_t)st->st_size;
	return 0;
}

/*
 * Check devices[t] of engine rank for format: a block device that nobody holds (an
 * exclusive open fails while it is mounted, part of a RAID/LVM or used by another
 * program) or an existing regular file standing in for one, large enough, not given
 * twice, and (unless force) not already holding a Cairn target.
 */
static int
check_device(const struct ctl_config *cfg, unsigned rank, unsigned t, bool force, char *err,
             size_t errlen)
{
	const char *dev = cfg->engines[rank].storage.devices[t];
	char real[PATH_MAX], other[PATH_MAX];
	struct srv_tgt_space *sp = NULL;
	uint8_t *buf = NULL;
	struct stat st;
	uint64_t size = 0;
	unsigned r, k;
	char why[400];
	bool one_bad;
	int fd, rc = 0;

	if (dev[0] != '/' || realpath(dev, real) == NULL || stat(real, &st) < 0) {
		snprintf(err, errlen, "engines[%u].storage.devices[%u] %s: %s; give the absolute "
		         "path of a block device or of an existing file", rank, t, dev,
		         dev[0] != '/' ? "not an absolute path" : strerror(errno));
		return -CAIRN_ERR_INVAL;
	}
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "engines[%u].storage.devices[%u] %s is neither a block "
		         "device nor a regular file", rank, t, dev);
		return -CAIRN_ERR_INVAL;
	}
	for (r = 0; r <= rank; r++) {
		const struct ctl_storage_cfg *o = &cfg->engines[r].storage;

		for (k = 0; k < o->nr_devices && (r < rank || k < t); k++) {
			if (realpath(o->devices[k], other) && strcmp(other, real) == 0) {
				snprintf(err, errlen, "engines[%u].storage.devices[%u] %s is also "
				         "engines[%u].storage.devices[%u]: give each target its own "
				         "device", rank, t, dev, r, k);
				return -CAIRN_ERR_INVAL;
			}
		}
	}
	fd = open(real, O_RDWR | O_CLOEXEC | (S_ISBLK(st.st_mode) ? O_EXCL : 0));
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "engines[%u].storage.devices[%u] %s %s", rank, t, dev,
		         errno == EBUSY ? "is in use (mounted, or held by another program or "
		                          "device mapper); free it first" : strerror(errno));
		return rc;
	}
	rc = dev_size(fd, &st, &size);
	if (rc == 0 && size < CTL_DEV_MIN_SIZE) {
		snprintf(err, errlen, "engines[%u].storage.devices[%u] %s has %llu bytes; a target "
		         "needs at least %llu", rank, t, dev, (unsigned long long)size,
		         (unsigned long long)CTL_DEV_MIN_SIZE);
		rc = -CAIRN_ERR_INVAL;
		goto out;
	}
	if (rc) {
		snprintf(err, errlen, "cannot get the size of %s: %s", dev, cairn_strerror(rc));
		goto out;
	}
	if (force)
		goto out;
	sp = malloc(sizeof(*sp));
	buf = malloc(SRV_TGT_MAP_SIZE);
	if (sp == NULL || buf == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto out;
	}
	if (pread(fd, buf, SRV_TGT_MAP_SIZE, 0) == (ssize_t)SRV_TGT_MAP_SIZE &&
	    srv_tgt_space_load(buf, SRV_TGT_COPY_SIZE, buf + SRV_TGT_COPY_SIZE, SRV_TGT_COPY_SIZE,
	                       sp, &one_bad, why, sizeof(why)) == 0) {
		snprintf(err, errlen, "engines[%u].storage.devices[%u] %s already holds a Cairn "
		         "target (target %u, %u pool shard(s)); reformat with --force (destroys "
		         "its data)", rank, t, dev, sp->tgt_idx, sp->nr);
		rc = -CAIRN_ERR_EXIST;
	}
out:
	free(buf);
	free(sp);
	close(fd);
	return rc;
}

/* Record device dev as target t of dir (target-<t> -> its real path) and write its space
 * map; *size is its size. */
static int
create_device_target(const char *dir, unsigned t, const char *dev,
                     const struct ctl_superblock *sb, uint64_t *size)
{
	char path[4096], real[PATH_MAX];
	struct stat st;
	int fd, rc;

	if (realpath(dev, real) == NULL)
		return -errno;
	snprintf(path, sizeof(path), "%s/target-%u", dir, t);
	if (symlink(real, path) < 0)
		return -errno;
	fd = open(real, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = fstat(fd, &st) < 0 ? -errno : dev_size(fd, &st, size);
	if (rc == 0)
		rc = write_space_map(fd, t, sb, *size);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int
ctl_storage_format(const struct ctl_config *cfg, bool force, struct cairn_uuid *sys_uuid, char *err,
                   size_t errlen)
{
	struct ctl_superblock sb;
	char what[200];
	unsigned i, t;
	int rc;

	if (!force) {
		for (i = 0; i < cfg->nr_engines; i++) {
			if (dir_in_use(cfg->engines[i].storage.dir, what, sizeof(what))) {
				snprintf(err, errlen,
				         "storage %s of rank %u is already in use: "
				         "%s; reformat with --force (destroys its data)",
				         cfg->engines[i].storage.dir, i, what);
				return -CAIRN_ERR_EXIST;
			}
		}
	}
	/* Every device is checked before anything is written. */
	for (i = 0; i < cfg->nr_engines; i++) {
		const struct ctl_engine_cfg *e = &cfg->engines[i];

		if (e->storage.nr_devices == 0)
			continue;
		if (e->storage.nr_devices != e->targets) {
			snprintf(err, errlen, "engines[%u] has %u targets but %u storage devices: "
			         "give one device per target", i, e->targets,
			         e->storage.nr_devices);
			return -CAIRN_ERR_INVAL;
		}
		for (t = 0; t < e->targets; t++) {
			rc = check_device(cfg, i, t, force, err, errlen);
			if (rc)
				return rc;
		}
	}
	cairn_uuid_generate(sys_uuid);
	for (i = 0; i < cfg->nr_engines; i++) {
		const struct ctl_engine_cfg *e = &cfg->engines[i];
		uint64_t size, min_size = UINT64_MAX;
		char path[4096];

		rc = mkdir_p(e->storage.dir);
		if (rc) {
			snprintf(err, errlen, "cannot create storage dir %s: %s", e->storage.dir,
			         cairn_strerror(rc));
			return rc;
		}
		/* Invalidate first, so an interrupted reformat is not mistaken for the old
		 * system. */
		snprintf(path, sizeof(path), "%s/%s", e->storage.dir, CTL_SB_FILE);
		if (unlink(path) < 0 && errno != ENOENT) {
			rc = -errno;
			snprintf(err, errlen, "cannot remove old superblock %s: %s", path,
			         cairn_strerror(rc));
			return rc;
		}
		remove_stale_targets(e->storage.dir, 0);
		remove_old_pools(e->storage.dir);
		memset(&sb, 0, sizeof(sb));
		sb.rank = i;
		sb.system_uuid = *sys_uuid;
		cairn_uuid_generate(&sb.engine_uuid);
		snprintf(sb.system, sizeof(sb.system), "%s", cfg->name);
		sb.nr_targets = e->targets;
		sb.target_size = e->storage.target_size;
		sb.format_time = (uint64_t)time(NULL);
		for (t = 0; t < e->targets; t++) {
			if (e->storage.nr_devices) {
				rc = create_device_target(e->storage.dir, t, e->storage.devices[t],
				                          &sb, &size);
				min_size = size < min_size ? size : min_size;
			} else {
				rc = create_target(e->storage.dir, t, e->storage.target_size, &sb);
			}
			if (rc) {
				snprintf(err, errlen, "cannot create target %u in %s%s%s: %s", t,
				         e->storage.dir, e->storage.nr_devices ? " on " : "",
				         e->storage.nr_devices ? e->storage.devices[t] : "",
				         cairn_strerror(rc));
				return rc;
			}
		}
		if (e->storage.nr_devices)
			sb.target_size = min_size; /* the smallest device */
		rc = write_superblock(e->storage.dir, &sb);
		if (rc) {
			snprintf(err, errlen, "cannot write the superblock in %s: %s",
			         e->storage.dir, cairn_strerror(rc));
			return rc;
		}
		CAIRN_NOTE("formatted %s: rank %u, %u target(s) of %s%llu bytes", e->storage.dir, i,
		           e->targets, e->storage.nr_devices ? "devices of at least " : "",
		           (unsigned long long)sb.target_size);
	}
	return 0;
}

#define CTL_LOCK_FILE "lock"

int
ctl_storage_lock(const struct ctl_config *cfg, int fds[CTL_MAX_ENGINES], char *err, size_t errlen)
{
	char path[4096], owner[32];
	unsigned i;
	ssize_t n;
	int rc;

	for (i = 0; i < CTL_MAX_ENGINES; i++)
		fds[i] = -1;
	for (i = 0; i < cfg->nr_engines; i++) {
		const char *dir = cfg->engines[i].storage.dir;

		rc = mkdir_p(dir);
		if (rc) {
			snprintf(err, errlen, "cannot create storage dir %s: %s", dir,
			         cairn_strerror(rc));
			goto err;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, CTL_LOCK_FILE);
		fds[i] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fds[i] < 0) {
			rc = -errno;
			snprintf(err, errlen, "cannot open %s: %s", path, cairn_strerror(rc));
			goto err;
		}
		if (flock(fds[i], LOCK_EX | LOCK_NB) < 0) {
			rc = errno == EWOULDBLOCK ? -CAIRN_ERR_BUSY : -errno;
			n = pread(fds[i], owner, sizeof(owner) - 1, 0);
			owner[n > 0 ? n : 0] = '\0';
			owner[strcspn(owner, "\n")] = '\0';
			snprintf(err, errlen,
			         "storage %s is in use by another cairn-server (pid "
			         "%s); stop it first",
			         dir, owner[0] ? owner : "?");
			goto err;
		}
		n = snprintf(owner, sizeof(owner), "%d\n", (int)getpid());
		if (ftruncate(fds[i], 0) < 0 || pwrite(fds[i], owner, (size_t)n, 0) != n)
			CAIRN_WARN("cannot record our pid in %s", path);
	}
	return 0;
err:
	ctl_storage_unlock(cfg, fds);
	return rc;
}

void
ctl_storage_unlock(const struct ctl_config *cfg, int fds[CTL_MAX_ENGINES])
{
	unsigned i;

	for (i = 0; i < CTL_MAX_ENGINES; i++) {
		if (fds[i] >= 0)
			close(fds[i]); /* releases the flock */
		fds[i] = -1;
	}
}

/* Size, used by pools and free space of one target from its space map. */
static void
target_space_json(const char *path, const struct stat *st, json_t *to)
{
	struct srv_tgt_space *sp = malloc(sizeof(*sp));
	uint8_t *buf = malloc(SRV_TGT_MAP_SIZE);
	struct srv_tgt_usage u;
	char why[400], dev[4096];
	bool one_bad;
	ssize_t n;
	int fd, rc;

	if (S_ISBLK(st->st_mode) && realpath(path, dev) != NULL)
		json_object_set_new(to, "device", json_string(dev));
	if (sp == NULL || buf == NULL) {
		json_object_set_new(to, "error", json_string("out of memory"));
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		json_object_set_new(to, "error", json_string(strerror(errno)));
		goto out;
	}
	n = pread(fd, buf, SRV_TGT_MAP_SIZE, 0);
	close(fd);
	if (n != (ssize_t)SRV_TGT_MAP_SIZE) {
		json_object_set_new(to, "error", json_string("too small to hold a space map"));
		goto out;
	}
	rc = srv_tgt_space_load(buf, SRV_TGT_COPY_SIZE, buf + SRV_TGT_COPY_SIZE,
	                        SRV_TGT_COPY_SIZE, sp, &one_bad, why, sizeof(why));
	if (rc) {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s: no valid space map (%s); restore or reformat",
		         cairn_strerror(rc), why);
		json_object_set_new(to, "error", json_string(msg));
		goto out;
	}
	if (one_bad)
		json_object_set_new(to, "warning", json_string(why));
	srv_tgt_space_usage(sp, &u);
	json_object_set_new(to, "size", json_integer((json_int_t)u.dev_size));
	json_object_set_new(to, "capacity", json_integer((json_int_t)u.capacity));
	json_object_set_new(to, "used", json_integer((json_int_t)u.used));
	json_object_set_new(to, "free", json_integer((json_int_t)u.free));
	json_object_set_new(to, "largest_free", json_integer((json_int_t)u.largest_free));
	json_object_set_new(to, "shards", json_integer(u.nr_extents));
	json_object_set_new(to, "map_seq", json_integer((json_int_t)sp->seq));
	{
		/* which pools hold a shard here (uuid, size, state) */
		json_t *pools = json_array();
		char us[CAIRN_UUID_STR_LEN];
		unsigned k;

		for (k = 0; pools != NULL && k < sp->nr; k++) {
			json_t *x = json_object();

			if (x == NULL)
				break;
			cairn_uuid_unparse(&sp->ext[k].pool, us);
			json_object_set_new(x, "pool", json_string(us));
			json_object_set_new(x, "size", json_integer((json_int_t)sp->ext[k].size));
			json_object_set_new(x, "state",
			                    json_string(sp->ext[k].state == SRV_TGT_EXT_ACTIVE
			                                        ? "active"
			                                        : "creating"));
			json_array_append_new(pools, x);
		}
		if (pools != NULL)
			json_object_set_new(to, "pools", pools);
	}
	/* what the file system holds for the target (sparse files) */
	if (S_ISREG(st->st_mode))
		json_object_set_new(to, "allocated", json_integer((json_int_t)st->st_blocks * 512));
out:
	free(buf);
	free(sp);
}

json_t *
ctl_storage_query_json(const struct ctl_config *cfg)
{
	json_t *res = json_object(), *arr = json_array();
	char uuid[CAIRN_UUID_STR_LEN], path[4096];
	struct ctl_superblock sb;
	struct statvfs vfs;
	struct stat st;
	unsigned i, t;
	int rc;

	if (res == NULL || arr == NULL)
		goto err;
	json_object_set_new(res, "system", json_string(cfg->name));
	for (i = 0; i < cfg->nr_engines; i++) {
		const struct ctl_engine_cfg *e = &cfg->engines[i];
		json_t *o = json_object(), *ts = json_array();

		if (o == NULL || ts == NULL) {
			json_decref(o);
			json_decref(ts);
			goto err;
		}
		json_object_set_new(o, "engine", json_integer(i));
		json_object_set_new(o, "dir", json_string(e->storage.dir));
		rc = ctl_sb_read(e->storage.dir, &sb);
		json_object_set_new(o, "formatted", json_boolean(rc == 0));
		if (rc == 0) {
			cairn_uuid_unparse(&sb.system_uuid, uuid);
			json_object_set_new(o, "rank", json_integer(sb.rank));
			json_object_set_new(o, "system", json_string(sb.system));
			json_object_set_new(o, "system_uuid", json_string(uuid));
			json_object_set_new(o, "format_time",
			                    json_integer((json_int_t)sb.format_time));
			for (t = 0; t < sb.nr_targets; t++) {
				json_t *to = json_object();

				snprintf(path, sizeof(path), "%s/target-%u", e->storage.dir, t);
				json_object_set_new(to, "target", json_integer(t));
				json_object_set_new(to, "path", json_string(path));
				if (stat(path, &st) == 0)
					target_space_json(path, &st, to);
				else
					json_object_set_new(to, "error",
					                    json_string(strerror(errno)));
				json_array_append_new(ts, to);
			}
		} else if (rc != -ENOENT) {
			json_object_set_new(o, "error", json_string(cairn_strerror(rc)));
		}
		json_object_set_new(o, "targets", ts);
		if (statvfs(e->storage.dir, &vfs) == 0) {
			json_object_set_new(
			        o, "fs_total",
			        json_integer((json_int_t)(vfs.f_blocks * vfs.f_frsize)));
			json_object_set_new(
			        o, "fs_free",
			        json_integer((json_int_t)(vfs.f_bavail * vfs.f_frsize)));
		}
		json_array_append_new(arr, o);
	}
	json_object_set_new(res, "engines", arr);
	return res;
err:
	json_decref(res);
	json_decref(arr);
	return NULL;
}
