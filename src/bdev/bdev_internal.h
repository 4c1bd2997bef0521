/*
 * Private to src/bdev: the bdev, descriptor, channel and request structures shared by
 * bdev.c (registry, descriptors, claims, deletion, JSON) and bdev_io.c (channels,
 * submission, splitting, bounce buffers, completion, stats, sync layer), and the file
 * helpers used by the uring and aio modules (bdev_file.c).
 */
#ifndef CAIRN_BDEV_INTERNAL_H
#define CAIRN_BDEV_INTERNAL_H

#include <pthread.h>

#include "bdev/bdev.h"
#include "common/list.h"
#include "rt/rt.h"

#define BDEV_PRODUCT_MAX   64
#define BDEV_OWNER_MAX     80
#define BDEV_INLINE_IOV    4
#define BDEV_SPLIT_DEPTH   32   /* children of one split request in flight */
#define BDEV_IO_CACHE_MAX  256  /* free requests kept per channel */
#define BDEV_ZERO_BUF_SIZE (1u << 20)
#define BDEV_ZERO_BUF_ALIGN 65536

struct cairn_bdev {
	char name[CAIRN_BDEV_NAME_MAX];
	char product[BDEV_PRODUCT_MAX];
	const struct cairn_bdev_module *module;
	const struct cairn_bdev_fn_table *fn;
	void *ctx;
	uint32_t block_size;
	uint64_t num_blocks;           /* __atomic: resize may change it */
	uint8_t uuid[16];
	uint32_t optimal_io_boundary;
	bool split_on_boundary;
	uint32_t max_transfer_blocks;
	size_t buf_align;
	bool write_cache;
	bool unmap_zeroes;
	bool native[CAIRN_BDEV_IO_NTYPES];
	size_t req_size;               /* sizeof(struct bdev_req) + driver ctx */

	/* Everything below is under g_bdev.lock. */
	struct cairn_list link;        /* g_bdev.bdevs */
	struct cairn_list descs;
	unsigned refs;                 /* open descriptors + live channels */
	unsigned nr_write_descs;
	struct cairn_bdev_desc *claim_desc;
	char claim_owner[BDEV_OWNER_MAX];
	bool removing;
	cairn_bdev_cb unreg_cb;
	void *unreg_arg;
	struct cairn_xstream *unreg_xs;
	/* channel of each xstream; a slot is written only by its xstream (under the lock)
	 * and read by stats readers under the lock */
	struct cairn_bdev_channel *ch[CAIRN_RT_MAX_XSTREAMS];
	struct cairn_bdev_stats dead_stats; /* folded in from destroyed channels */
	uint64_t stats_gen;                 /* __atomic; bumped by reset */
};

struct cairn_bdev_desc {
	struct cairn_bdev *bdev;
	bool write;
	bool closed;                   /* under g_bdev.lock */
	unsigned pending_events;       /* under g_bdev.lock */
	cairn_bdev_event_cb event_cb;
	void *event_ctx;
	struct cairn_xstream *xs;      /* opener, NULL for a plain thread */
	struct cairn_list link;        /* bdev->descs */
};

struct cairn_bdev_channel {
	struct cairn_bdev *bdev;
	struct cairn_xstream *xs;
	unsigned xs_id;
	unsigned refs;                 /* owner xstream only */
	bool dying;                    /* refs reached 0 with I/O outstanding */
	bool destroy_pending;          /* a destroy message is queued */
	void *mod_ch;
	struct cairn_poller *poller;   /* drains `deferred` */
	struct cairn_list deferred;    /* requests completed inside their submit call */
	struct cairn_list free_reqs;
	unsigned nr_free;
	unsigned outstanding;          /* requests allocated from this channel */
	uint64_t stats_gen;
	struct cairn_bdev_stats stats; /* written by the owner with relaxed atomics */
};

/* One request: a user request (parent) or a child sent to the module. */
struct bdev_req {
	struct cairn_bdev_io io;       /* what the module sees */
	struct cairn_bdev_channel *ch;
	struct cairn_bdev_desc *desc;
	cairn_bdev_cb cb;
	void *cb_arg;
	struct bdev_req *parent;       /* set for children */
	struct cairn_list link;        /* deferred / free list */
	uint64_t start_ns;
	int rc;
	bool in_submit;
	bool to_module;                /* io handed to the module (vs. split parent) */
	enum cairn_bdev_io_type child_type;
	struct iovec *iov_alloc;       /* when iovcnt > BDEV_INLINE_IOV */
	struct iovec *user_iov;        /* copy of the caller's iovecs (inline or iov_alloc) */
	int user_iovcnt;
	void *bounce;                  /* aligned copy when the buffers do not meet buf_align */
	struct iovec bounce_iov;
	/* split state (parent only) */
	uint64_t split_next;           /* next block offset, relative to io.offset_blocks */
	unsigned split_outstanding;
	int split_iov_idx;
	size_t split_iov_off;
	bool zero_emulation;
	bool user_submit_done;         /* parent: the submit call has returned */
	struct iovec inline_iov[BDEV_INLINE_IOV];
	/* followed by the driver context, aligned 16 */
} __attribute__((aligned(16)));

/* ------------------------------------------------------------------ bdev.c */

struct bdev_globals {
	pthread_mutex_t lock;
	pthread_cond_t cond;           /* signalled whenever a bdev is destroyed */
	struct cairn_list bdevs;
	unsigned init_count;
	void *zero_buf;                /* BDEV_ZERO_BUF_SIZE zeros, BDEV_ZERO_BUF_ALIGN */
};
extern struct bdev_globals g_bdev;

/* Drop one reference (a descriptor or a channel); destroys the bdev when it was the
 * last one of a bdev being deleted. Called without the lock. */
void bdev_put_ref(struct cairn_bdev *bdev);
uint64_t bdev_now_ns(void);

/* ------------------------------------------------------------------ bdev_io.c */

/* Fold a channel's stats into dst (stats_gen filtering done by caller). */
void bdev_stats_add(struct cairn_bdev_stats *dst, const struct cairn_bdev_stats *src);
void bdev_stats_read(struct cairn_bdev_stats *dst, const struct cairn_bdev_stats *src);

/* ------------------------------------------------------------------ bdev_file.c */

struct bdev_file {
	int fd;
	bool direct;       /* opened with O_DIRECT */
	bool blockdev;
	uint32_t block_size;
	uint64_t num_blocks;
	size_t buf_align;
	char *filename;
};

/* Open filename for the uring/aio modules: O_DIRECT when possible, block size from
 * the device or 512, size from st_size / BLKGETSIZE64. Logs a clear message on error. */
int bdev_file_open(const char *filename, uint32_t block_size, struct bdev_file *f);
void bdev_file_close(struct bdev_file *f);
/* Current size in blocks (for rescan). */
int bdev_file_num_blocks(const struct bdev_file *f, uint64_t *num_blocks);
/* Synchronous unmap / write-zeroes with fallocate (PUNCH_HOLE / ZERO_RANGE, falling
 * back to PUNCH_HOLE), for files and block devices. Returns 0 or -errno. */
int bdev_file_deallocate(const struct bdev_file *f, bool zeroes, uint64_t off, uint64_t len);

/* Built-in modules (src/bdev/<name>/). */
extern const struct cairn_bdev_module g_bdev_malloc_module;
extern const struct cairn_bdev_module g_bdev_null_module;
extern const struct cairn_bdev_module g_bdev_uring_module;
extern const struct cairn_bdev_module g_bdev_aio_module;
extern const struct cairn_bdev_module g_bdev_error_module;
extern const struct cairn_bdev_module g_bdev_part_module;

/* Validate a bdev name ([A-Za-z0-9_.:-], 1..CAIRN_BDEV_NAME_MAX-1). */
bool bdev_name_valid(const char *name);
/* Common checks for create functions. */
int bdev_check_geometry(uint64_t num_blocks, uint32_t block_size);
/* Deletion helper for modules: find `name` of `module` and unregister it. */
int bdev_module_delete(const char *name, const struct cairn_bdev_module *module,
		       cairn_bdev_cb cb, void *cb_arg);

/* Rescan helper for modules: pin `name` of `module`, ask get_nb(ctx) for the current
 * block count and notify a change. */
int bdev_module_rescan(const char *name, const struct cairn_bdev_module *module,
		       int (*get_nb)(void *ctx, uint64_t *num_blocks));

#endif /* CAIRN_BDEV_INTERNAL_H */
