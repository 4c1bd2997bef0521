/*
 * bdev core, management side: the module table, the registry of named bdevs,
 * descriptors and their events, exclusive claims, deletion (deferred until the last
 * descriptor and channel are gone), properties and JSON descriptions.
 *
 * One process-wide mutex (g_bdev.lock) guards the registry and every bdev's descriptor
 * list, refcount, claim and channel table. It is held only for short, non-blocking
 * sections (never across a module call or a user callback), so ULTs may take it.
 */
#define CAIRN_LOG_SS CAIRN_SS_BDEV

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <uuid/uuid.h>

#include "bdev_internal.h"
#include "cairn/errno.h"
#include "common/log.h"

struct bdev_globals g_bdev = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.bdevs = CAIRN_LIST_HEAD_INIT(g_bdev.bdevs),
};

#define BDEV_MAX_MODULES 16

/* Built-in modules first (explicit table: static linking needs no constructor tricks);
 * cairn_bdev_module_register() appends others. */
static const struct cairn_bdev_module *g_modules[BDEV_MAX_MODULES] = {
	&g_bdev_malloc_module, &g_bdev_null_module, &g_bdev_uring_module,
	&g_bdev_aio_module,    &g_bdev_error_module, &g_bdev_part_module,
};
static unsigned g_nr_modules = 6;

static const char *const g_io_type_names[CAIRN_BDEV_IO_NTYPES] = {
	"read", "write", "flush", "unmap", "write_zeroes",
};

uint64_t
bdev_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *
cairn_bdev_io_type_name(enum cairn_bdev_io_type t)
{
	if ((unsigned)t >= CAIRN_BDEV_IO_NTYPES)
		return "?";
	return g_io_type_names[t];
}

/* ------------------------------------------------------------------ subsystem */

int
cairn_bdev_module_register(const struct cairn_bdev_module *module)
{
	int rc = 0;

	if (module == NULL || module->name == NULL)
		return -CAIRN_ERR_INVAL;
	pthread_mutex_lock(&g_bdev.lock);
	for (unsigned i = 0; i < g_nr_modules; i++) {
		if (g_modules[i] == module || strcmp(g_modules[i]->name, module->name) == 0) {
			rc = -CAIRN_ERR_EXIST;
			goto out;
		}
	}
	if (g_nr_modules == BDEV_MAX_MODULES) {
		rc = -CAIRN_ERR_NOSPACE;
		goto out;
	}
	g_modules[g_nr_modules++] = module;
out:
	pthread_mutex_unlock(&g_bdev.lock);
	return rc;
}

int
cairn_bdev_init(void)
{
	unsigned i;
	int rc;

	pthread_mutex_lock(&g_bdev.lock);
	if (g_bdev.init_count++ > 0) {
		pthread_mutex_unlock(&g_bdev.lock);
		return 0;
	}
	pthread_mutex_unlock(&g_bdev.lock);

	g_bdev.zero_buf = aligned_alloc(BDEV_ZERO_BUF_ALIGN, BDEV_ZERO_BUF_SIZE);
	if (g_bdev.zero_buf == NULL) {
		rc = -CAIRN_ERR_NOMEM;
		goto err_count;
	}
	memset(g_bdev.zero_buf, 0, BDEV_ZERO_BUF_SIZE);

	for (i = 0; i < g_nr_modules; i++) {
		if (g_modules[i]->module_init == NULL)
			continue;
		rc = g_modules[i]->module_init();
		if (rc != 0) {
			CAIRN_ERROR("bdev module %s failed to initialise: %s", g_modules[i]->name,
				    cairn_strerror(rc));
			goto err_fini_modules;
		}
	}
	CAIRN_DEBUG("bdev layer initialised with %u modules", g_nr_modules);
	return 0;

err_fini_modules:
	while (i-- > 0) {
		if (g_modules[i]->module_fini != NULL)
			g_modules[i]->module_fini();
	}
	free(g_bdev.zero_buf);
	g_bdev.zero_buf = NULL;
err_count:
	pthread_mutex_lock(&g_bdev.lock);
	g_bdev.init_count--;
	pthread_mutex_unlock(&g_bdev.lock);
	return rc;
}

static int bdev_unregister_start_locked(struct cairn_bdev *bdev, cairn_bdev_cb cb,
					void *cb_arg);
static void bdev_unregister_finish(struct cairn_bdev *bdev);

/* Unregister every bdev of the given kind (virtual or not) and wait, bounded. */
static void
bdev_delete_all(bool is_virtual)
{
	struct cairn_bdev *bdev;
	struct timespec deadline;
	bool found;

	do {
		found = false;
		pthread_mutex_lock(&g_bdev.lock);
		cairn_list_for_each_entry(bdev, &g_bdev.bdevs, link) {
			if (bdev->module->is_virtual == is_virtual &&
			    bdev_unregister_start_locked(bdev, NULL, NULL) == 0) {
				found = true;
				break;
			}
		}
		pthread_mutex_unlock(&g_bdev.lock);
		if (found)
			bdev_unregister_finish(bdev);
	} while (found);

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	pthread_mutex_lock(&g_bdev.lock);
	for (;;) {
		found = false;
		cairn_list_for_each_entry(bdev, &g_bdev.bdevs, link) {
			if (bdev->module->is_virtual == is_virtual)
				found = true;
		}
		if (!found)
			break;
		if (pthread_cond_timedwait(&g_bdev.cond, &g_bdev.lock, &deadline) == ETIMEDOUT) {
			cairn_list_for_each_entry(bdev, &g_bdev.bdevs, link) {
				CAIRN_ERROR("bdev %s still open at bdev fini (%u references): "
					    "leaked", bdev->name, bdev->refs);
			}
			break;
		}
	}
	pthread_mutex_unlock(&g_bdev.lock);
}

void
cairn_bdev_fini(void)
{
	pthread_mutex_lock(&g_bdev.lock);
	if (g_bdev.init_count == 0 || --g_bdev.init_count > 0) {
		pthread_mutex_unlock(&g_bdev.lock);
		return;
	}
	pthread_mutex_unlock(&g_bdev.lock);

	bdev_delete_all(true);
	bdev_delete_all(false);
	for (unsigned i = g_nr_modules; i-- > 0;) {
		if (g_modules[i]->module_fini != NULL)
			g_modules[i]->module_fini();
	}
	free(g_bdev.zero_buf);
	g_bdev.zero_buf = NULL;
}

/* ------------------------------------------------------------------ registry */

bool
bdev_name_valid(const char *name)
{
	size_t len;

	if (name == NULL)
		return false;
	len = strnlen(name, CAIRN_BDEV_NAME_MAX);
	if (len == 0 || len >= CAIRN_BDEV_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

int
bdev_check_geometry(uint64_t num_blocks, uint32_t block_size)
{
	if (block_size < 512 || block_size > 65536 || (block_size & (block_size - 1)) != 0) {
		CAIRN_ERROR("invalid block size %" PRIu32 ": expected a power of two in 512..65536",
			    block_size);
		return -CAIRN_ERR_INVAL;
	}
	if (num_blocks == 0) {
		CAIRN_ERROR("invalid block count 0: a bdev needs at least one block");
		return -CAIRN_ERR_INVAL;
	}
	if (num_blocks > UINT64_MAX / block_size) {
		CAIRN_ERROR("%" PRIu64 " blocks of %" PRIu32 " bytes overflow 64 bits",
			    num_blocks, block_size);
		return -CAIRN_ERR_OVERFLOW;
	}
	return 0;
}

/* Lock held. */
static struct cairn_bdev *
bdev_find_locked(const char *name)
{
	struct cairn_bdev *bdev;

	cairn_list_for_each_entry(bdev, &g_bdev.bdevs, link) {
		if (strcmp(bdev->name, name) == 0)
			return bdev;
	}
	return NULL;
}

struct cairn_bdev *
cairn_bdev_get_by_name(const char *name)
{
	struct cairn_bdev *bdev;

	if (name == NULL)
		return NULL;
	pthread_mutex_lock(&g_bdev.lock);
	bdev = bdev_find_locked(name);
	if (bdev != NULL && bdev->removing)
		bdev = NULL;
	pthread_mutex_unlock(&g_bdev.lock);
	return bdev;
}

struct cairn_bdev *
cairn_bdev_get_by_name_module(const char *name, const struct cairn_bdev_module *module)
{
	struct cairn_bdev *bdev = cairn_bdev_get_by_name(name);

	if (bdev != NULL && bdev->module != module)
		return NULL;
	return bdev;
}

int
cairn_bdev_foreach(int (*fn)(struct cairn_bdev *bdev, void *arg), void *arg)
{
	struct cairn_bdev *bdev, **pinned;
	unsigned n = 0, i;
	int rc = 0;

	if (fn == NULL)
		return -CAIRN_ERR_INVAL;
	/* Pin a snapshot, then call fn without the lock: fn may use any bdev function. */
	pthread_mutex_lock(&g_bdev.lock);
	cairn_list_for_each_entry(bdev, &g_bdev.bdevs, link)
		n++;
	pinned = n ? malloc(sizeof(*pinned) * n) : NULL;
	if (n > 0 && pinned == NULL) {
		pthread_mutex_unlock(&g_bdev.lock);
		return -CAIRN_ERR_NOMEM;
	}
	n = 0;
	cairn_list_for_each_entry(bdev, &g_bdev.bdevs, link) {
		if (bdev->removing)
			continue;
		bdev->refs++;
		pinned[n++] = bdev;
	}
	pthread_mutex_unlock(&g_bdev.lock);

	for (i = 0; i < n; i++) {
		if (rc == 0)
			rc = fn(pinned[i], arg);
		bdev_put_ref(pinned[i]);
	}
	free(pinned);
	return rc;
}

unsigned
cairn_bdev_count(void)
{
	struct cairn_bdev *bdev;
	unsigned n = 0;

	pthread_mutex_lock(&g_bdev.lock);
	cairn_list_for_each_entry(bdev, &g_bdev.bdevs, link) {
		if (!bdev->removing)
			n++;
	}
	pthread_mutex_unlock(&g_bdev.lock);
	return n;
}

int
cairn_bdev_register(const struct cairn_bdev_info *info, const struct cairn_bdev_fn_table *fn,
		    const struct cairn_bdev_module *module, void *ctx, struct cairn_bdev **out)
{
	struct cairn_bdev *bdev, *other;
	size_t drv = 0;
	int rc;

	if (info == NULL || fn == NULL || module == NULL || fn->submit_request == NULL ||
	    fn->destruct == NULL || out == NULL)
		return -CAIRN_ERR_INVAL;
	if (!bdev_name_valid(info->name)) {
		CAIRN_ERROR("invalid bdev name '%.80s': expected 1..%d characters of "
			    "[A-Za-z0-9_.:-]", info->name ? info->name : "(null)",
			    CAIRN_BDEV_NAME_MAX - 1);
		return -CAIRN_ERR_INVAL;
	}
	rc = bdev_check_geometry(info->num_blocks, info->block_size);
	if (rc != 0)
		return rc;
	if (info->buf_align > 1 && (info->buf_align & (info->buf_align - 1)) != 0)
		return -CAIRN_ERR_INVAL;

	bdev = calloc(1, sizeof(*bdev));
	if (bdev == NULL)
		return -CAIRN_ERR_NOMEM;
	snprintf(bdev->name, sizeof(bdev->name), "%s", info->name);
	snprintf(bdev->product, sizeof(bdev->product), "%s",
		 info->product_name ? info->product_name : module->name);
	bdev->module = module;
	bdev->fn = fn;
	bdev->ctx = ctx;
	bdev->block_size = info->block_size;
	bdev->num_blocks = info->num_blocks;
	if (info->uuid != NULL)
		memcpy(bdev->uuid, info->uuid, 16);
	else
		uuid_generate(bdev->uuid);
	bdev->optimal_io_boundary = info->optimal_io_boundary;
	bdev->split_on_boundary = info->split_on_optimal_io_boundary &&
				  info->optimal_io_boundary != 0;
	bdev->max_transfer_blocks = info->max_transfer_blocks;
	bdev->buf_align = info->buf_align > 1 ? info->buf_align : 1;
	bdev->write_cache = info->write_cache;
	bdev->unmap_zeroes = info->unmap_zeroes;
	for (int t = 0; t < CAIRN_BDEV_IO_NTYPES; t++) {
		if (fn->io_type_supported != NULL)
			bdev->native[t] = fn->io_type_supported(ctx, (enum cairn_bdev_io_type)t);
		else
			bdev->native[t] = t == CAIRN_BDEV_IO_READ || t == CAIRN_BDEV_IO_WRITE;
	}
	if (module->get_ctx_size != NULL)
		drv = module->get_ctx_size();
	bdev->req_size = sizeof(struct bdev_req) + ((drv + 15) & ~(size_t)15);
	cairn_list_init(&bdev->descs);

	pthread_mutex_lock(&g_bdev.lock);
	cairn_list_for_each_entry(other, &g_bdev.bdevs, link) {
		if (strcmp(other->name, bdev->name) == 0) {
			CAIRN_ERROR("bdev name '%s' already in use", bdev->name);
			rc = -CAIRN_ERR_EXIST;
			goto err_unlock;
		}
		if (memcmp(other->uuid, bdev->uuid, 16) == 0) {
			CAIRN_ERROR("bdev %s: uuid already used by bdev %s", bdev->name,
				    other->name);
			rc = -CAIRN_ERR_EXIST;
			goto err_unlock;
		}
	}
	cairn_list_add_tail(&bdev->link, &g_bdev.bdevs);
	pthread_mutex_unlock(&g_bdev.lock);
	CAIRN_INFO("bdev %s registered: module %s, %" PRIu64 " blocks of %" PRIu32 " bytes",
		   bdev->name, module->name, bdev->num_blocks, bdev->block_size);
	*out = bdev;
	return 0;

err_unlock:
	pthread_mutex_unlock(&g_bdev.lock);
	free(bdev);
	return rc;
}

/* ------------------------------------------------------------------ properties */

const char *cairn_bdev_name(const struct cairn_bdev *bdev) { return bdev->name; }
const char *cairn_bdev_product_name(const struct cairn_bdev *bdev) { return bdev->product; }
const char *cairn_bdev_module_name(const struct cairn_bdev *bdev) { return bdev->module->name; }
uint32_t cairn_bdev_block_size(const struct cairn_bdev *bdev) { return bdev->block_size; }
uint32_t cairn_bdev_md_size(const struct cairn_bdev *bdev) { return 0; }
size_t cairn_bdev_buf_align(const struct cairn_bdev *bdev) { return bdev->buf_align; }
bool cairn_bdev_has_write_cache(const struct cairn_bdev *bdev) { return bdev->write_cache; }
bool cairn_bdev_unmap_zeroes(const struct cairn_bdev *bdev) { return bdev->unmap_zeroes; }
void *cairn_bdev_get_ctx(const struct cairn_bdev *bdev) { return bdev->ctx; }

uint64_t
cairn_bdev_num_blocks(const struct cairn_bdev *bdev)
{
	return __atomic_load_n(&bdev->num_blocks, __ATOMIC_ACQUIRE);
}

void
cairn_bdev_uuid(const struct cairn_bdev *bdev, uint8_t uuid[16])
{
	memcpy(uuid, bdev->uuid, 16);
}

uint32_t
cairn_bdev_optimal_io_boundary(const struct cairn_bdev *bdev)
{
	return bdev->optimal_io_boundary;
}

uint32_t
cairn_bdev_max_transfer_blocks(const struct cairn_bdev *bdev)
{
	return bdev->max_transfer_blocks;
}

bool
cairn_bdev_io_type_supported(const struct cairn_bdev *bdev, enum cairn_bdev_io_type t)
{
	if ((unsigned)t >= CAIRN_BDEV_IO_NTYPES)
		return false;
	return bdev->native[t];
}

const char *
cairn_bdev_claimed_by(const struct cairn_bdev *bdev)
{
	const char *owner;

	pthread_mutex_lock(&g_bdev.lock);
	owner = bdev->claim_desc != NULL ? bdev->claim_owner : NULL;
	pthread_mutex_unlock(&g_bdev.lock);
	return owner;
}

void *
cairn_bdev_dma_alloc(const struct cairn_bdev *bdev, size_t size)
{
	size_t align = bdev->buf_align < 64 ? 64 : bdev->buf_align;

	if (size == 0 || size > SIZE_MAX - align)
		return NULL;
	return aligned_alloc(align, (size + align - 1) & ~(align - 1));
}

void
cairn_bdev_dma_free(void *buf)
{
	free(buf);
}

/* ------------------------------------------------------------------ events */

struct bdev_event_msg {
	struct cairn_bdev_desc *desc;
	enum cairn_bdev_event_type type;
};

static void
desc_free(struct cairn_bdev_desc *desc)
{
	free(desc);
}

static void
bdev_event_deliver(void *arg)
{
	struct bdev_event_msg *m = arg;
	struct cairn_bdev_desc *desc = m->desc;
	bool closed, free_it;

	pthread_mutex_lock(&g_bdev.lock);
	closed = desc->closed;
	pthread_mutex_unlock(&g_bdev.lock);
	if (!closed)
		desc->event_cb(m->type, desc->bdev, desc->event_ctx);
	pthread_mutex_lock(&g_bdev.lock);
	desc->pending_events--;
	free_it = desc->closed && desc->pending_events == 0;
	pthread_mutex_unlock(&g_bdev.lock);
	if (free_it)
		desc_free(desc);
	free(m);
}

/* Send `type` to every open descriptor of bdev. Called without the lock. */
static void
bdev_send_event(struct cairn_bdev *bdev, enum cairn_bdev_event_type type)
{
	struct cairn_bdev_desc *desc;
	struct bdev_event_msg **msgs = NULL;
	unsigned n = 0, cap = 0, i;

	pthread_mutex_lock(&g_bdev.lock);
	cairn_list_for_each_entry(desc, &bdev->descs, link)
		cap++;
	if (cap > 0)
		msgs = calloc(cap, sizeof(*msgs));
	cairn_list_for_each_entry(desc, &bdev->descs, link) {
		struct bdev_event_msg *m;

		if (msgs == NULL || (m = malloc(sizeof(*m))) == NULL) {
			CAIRN_ERROR("bdev %s: out of memory delivering %s event", bdev->name,
				    type == CAIRN_BDEV_EVENT_REMOVE ? "remove" : "resize");
			continue;
		}
		m->desc = desc;
		m->type = type;
		desc->pending_events++;
		msgs[n++] = m;
	}
	pthread_mutex_unlock(&g_bdev.lock);

	for (i = 0; i < n; i++) {
		struct cairn_xstream *xs = msgs[i]->desc->xs;

		if (xs != NULL && cairn_rt_running() &&
		    cairn_rt_send_msg(xs, bdev_event_deliver, msgs[i]) == 0)
			continue;
		bdev_event_deliver(msgs[i]);
	}
	free(msgs);
}

int
cairn_bdev_notify_blockcnt_change(struct cairn_bdev *bdev, uint64_t num_blocks)
{
	if (bdev == NULL || num_blocks == 0 || num_blocks > UINT64_MAX / bdev->block_size)
		return -CAIRN_ERR_INVAL;
	if (__atomic_exchange_n(&bdev->num_blocks, num_blocks, __ATOMIC_ACQ_REL) == num_blocks)
		return 0;
	CAIRN_INFO("bdev %s resized to %" PRIu64 " blocks", bdev->name, num_blocks);
	bdev_send_event(bdev, CAIRN_BDEV_EVENT_RESIZE);
	return 0;
}

/* ------------------------------------------------------------------ open / close */

int
cairn_bdev_open(const char *name, bool write, cairn_bdev_event_cb event_cb, void *event_ctx,
		struct cairn_bdev_desc **out)
{
	struct cairn_bdev_desc *desc;
	struct cairn_bdev *bdev;
	int rc;

	if (name == NULL || event_cb == NULL || out == NULL)
		return -CAIRN_ERR_INVAL;
	desc = calloc(1, sizeof(*desc));
	if (desc == NULL)
		return -CAIRN_ERR_NOMEM;
	desc->write = write;
	desc->event_cb = event_cb;
	desc->event_ctx = event_ctx;
	desc->xs = cairn_xs_self();

	pthread_mutex_lock(&g_bdev.lock);
	bdev = bdev_find_locked(name);
	if (bdev == NULL || bdev->removing) {
		rc = -CAIRN_ERR_NONEXIST;
		goto err_unlock;
	}
	if (write && bdev->claim_desc != NULL) {
		CAIRN_ERROR("bdev %s is claimed by %s: cannot open it for writing", bdev->name,
			    bdev->claim_owner);
		rc = -CAIRN_ERR_PERM;
		goto err_unlock;
	}
	desc->bdev = bdev;
	cairn_list_add_tail(&desc->link, &bdev->descs);
	bdev->refs++;
	if (write)
		bdev->nr_write_descs++;
	pthread_mutex_unlock(&g_bdev.lock);
	*out = desc;
	return 0;

err_unlock:
	pthread_mutex_unlock(&g_bdev.lock);
	free(desc);
	return rc;
}

void
cairn_bdev_close(struct cairn_bdev_desc *desc)
{
	struct cairn_bdev *bdev;
	bool free_it;

	if (desc == NULL)
		return;
	bdev = desc->bdev;
	pthread_mutex_lock(&g_bdev.lock);
	if (bdev->claim_desc == desc)
		bdev->claim_desc = NULL;
	if (desc->write)
		bdev->nr_write_descs--;
	cairn_list_del(&desc->link);
	desc->closed = true;
	free_it = desc->pending_events == 0;
	pthread_mutex_unlock(&g_bdev.lock);
	if (free_it)
		desc_free(desc);
	bdev_put_ref(bdev);
}

struct cairn_bdev *
cairn_bdev_desc_get_bdev(struct cairn_bdev_desc *desc)
{
	return desc->bdev;
}

int
cairn_bdev_claim(struct cairn_bdev_desc *desc, const char *owner)
{
	struct cairn_bdev *bdev;
	int rc = 0;

	if (desc == NULL || !desc->write || owner == NULL || owner[0] == '\0' ||
	    strnlen(owner, BDEV_OWNER_MAX) >= BDEV_OWNER_MAX)
		return -CAIRN_ERR_INVAL;
	bdev = desc->bdev;
	pthread_mutex_lock(&g_bdev.lock);
	if (bdev->claim_desc == desc)
		goto out;
	if (bdev->claim_desc != NULL) {
		CAIRN_ERROR("bdev %s already claimed by %s (claim by %s refused)", bdev->name,
			    bdev->claim_owner, owner);
		rc = -CAIRN_ERR_BUSY;
		goto out;
	}
	if (bdev->nr_write_descs > 1) {
		CAIRN_ERROR("bdev %s has %u other writers: claim by %s refused", bdev->name,
			    bdev->nr_write_descs - 1, owner);
		rc = -CAIRN_ERR_BUSY;
		goto out;
	}
	bdev->claim_desc = desc;
	snprintf(bdev->claim_owner, sizeof(bdev->claim_owner), "%s", owner);
out:
	pthread_mutex_unlock(&g_bdev.lock);
	return rc;
}

void
cairn_bdev_release_claim(struct cairn_bdev_desc *desc)
{
	if (desc == NULL)
		return;
	pthread_mutex_lock(&g_bdev.lock);
	if (desc->bdev->claim_desc == desc)
		desc->bdev->claim_desc = NULL;
	pthread_mutex_unlock(&g_bdev.lock);
}

/* ------------------------------------------------------------------ deletion */

struct bdev_unreg_done {
	cairn_bdev_cb cb;
	void *cb_arg;
};

static void
bdev_unreg_done_msg(void *arg)
{
	struct bdev_unreg_done *d = arg;

	d->cb(d->cb_arg, 0);
	free(d);
}

static void *
bdev_unreg_done_thread(void *arg)
{
	bdev_unreg_done_msg(arg);
	return NULL;
}

/* Run the deleter's callback: on its xstream, else in a helper thread (when `inline_ok`
 * is false, i.e. we are still inside cairn_bdev_unregister), else right here. */
static void
bdev_unreg_complete(cairn_bdev_cb cb, void *cb_arg, struct cairn_xstream *xs, bool inline_ok)
{
	struct bdev_unreg_done *d;
	pthread_attr_t attr;
	pthread_t tid;

	if (cb == NULL)
		return;
	d = malloc(sizeof(*d));
	if (d == NULL) {
		CAIRN_ERROR("out of memory scheduling a bdev deletion callback; calling it inline");
		cb(cb_arg, 0);
		return;
	}
	d->cb = cb;
	d->cb_arg = cb_arg;
	if (xs != NULL && cairn_rt_running() && cairn_rt_send_msg(xs, bdev_unreg_done_msg, d) == 0)
		return;
	if (inline_ok) {
		bdev_unreg_done_msg(d);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, bdev_unreg_done_thread, d) != 0) {
		CAIRN_ERROR("cannot start a thread for a bdev deletion callback; calling inline");
		bdev_unreg_done_msg(d);
	}
	pthread_attr_destroy(&attr);
}

/* Last reference gone on a bdev being deleted: unlink, destruct, notify. */
static void
bdev_destroy(struct cairn_bdev *bdev, bool inside_unregister)
{
	cairn_bdev_cb cb = bdev->unreg_cb;
	void *cb_arg = bdev->unreg_arg;
	struct cairn_xstream *xs = bdev->unreg_xs;

	CAIRN_INFO("bdev %s destroyed", bdev->name);
	bdev->fn->destruct(bdev->ctx);
	free(bdev);
	pthread_mutex_lock(&g_bdev.lock);
	pthread_cond_broadcast(&g_bdev.cond);
	pthread_mutex_unlock(&g_bdev.lock);
	bdev_unreg_complete(cb, cb_arg, xs, !inside_unregister);
}

void
bdev_put_ref(struct cairn_bdev *bdev)
{
	bool destroy;

	pthread_mutex_lock(&g_bdev.lock);
	destroy = --bdev->refs == 0 && bdev->removing;
	if (destroy)
		cairn_list_del(&bdev->link);
	pthread_mutex_unlock(&g_bdev.lock);
	if (destroy)
		bdev_destroy(bdev, false);
}

/* Mark bdev as being deleted. Lock held. Takes a reference that
 * bdev_unregister_finish() drops. */
static int
bdev_unregister_start_locked(struct cairn_bdev *bdev, cairn_bdev_cb cb, void *cb_arg)
{
	if (bdev->removing)
		return -CAIRN_ERR_ALREADY;
	bdev->removing = true;
	bdev->unreg_cb = cb;
	bdev->unreg_arg = cb_arg;
	bdev->unreg_xs = cairn_xs_self();
	/* held while events go out, so a close from an event callback cannot destroy the
	 * bdev under us */
	bdev->refs++;
	return 0;
}

static void
bdev_unregister_finish(struct cairn_bdev *bdev)
{
	bool destroy;

	CAIRN_INFO("bdev %s: deletion requested", bdev->name);
	bdev_send_event(bdev, CAIRN_BDEV_EVENT_REMOVE);

	pthread_mutex_lock(&g_bdev.lock);
	destroy = --bdev->refs == 0;
	if (destroy)
		cairn_list_del(&bdev->link);
	pthread_mutex_unlock(&g_bdev.lock);
	if (destroy)
		bdev_destroy(bdev, true);
}

int
cairn_bdev_unregister(struct cairn_bdev *bdev, cairn_bdev_cb cb, void *cb_arg)
{
	int rc;

	if (bdev == NULL)
		return -CAIRN_ERR_INVAL;
	pthread_mutex_lock(&g_bdev.lock);
	rc = bdev_unregister_start_locked(bdev, cb, cb_arg);
	pthread_mutex_unlock(&g_bdev.lock);
	if (rc == 0)
		bdev_unregister_finish(bdev);
	return rc;
}

int
bdev_module_delete(const char *name, const struct cairn_bdev_module *module, cairn_bdev_cb cb,
		   void *cb_arg)
{
	struct cairn_bdev *bdev;
	int rc;

	if (name == NULL)
		return -CAIRN_ERR_INVAL;
	/* find and mark under one lock hold: a concurrent deleter cannot free it between */
	pthread_mutex_lock(&g_bdev.lock);
	bdev = bdev_find_locked(name);
	if (bdev == NULL || bdev->module != module)
		rc = -CAIRN_ERR_NONEXIST;
	else
		rc = bdev_unregister_start_locked(bdev, cb, cb_arg);
	pthread_mutex_unlock(&g_bdev.lock);
	if (rc == 0)
		bdev_unregister_finish(bdev);
	return rc;
}

static void
bdev_rescan_event(enum cairn_bdev_event_type type, struct cairn_bdev *bdev, void *ctx)
{
	/* the descriptor lives only for the duration of the rescan */
}

int
bdev_module_rescan(const char *name, const struct cairn_bdev_module *module,
		   int (*get_nb)(void *ctx, uint64_t *num_blocks))
{
	struct cairn_bdev_desc *desc;
	struct cairn_bdev *bdev;
	uint64_t nb;
	int rc;

	rc = cairn_bdev_open(name, false, bdev_rescan_event, NULL, &desc);
	if (rc != 0)
		return rc;
	bdev = desc->bdev;
	if (bdev->module != module) {
		rc = -CAIRN_ERR_NONEXIST;
		goto out;
	}
	rc = get_nb(bdev->ctx, &nb);
	if (rc != 0)
		goto out;
	if (nb == 0) {
		CAIRN_ERROR("bdev %s: rescan found less than one block", bdev->name);
		rc = -CAIRN_ERR_INVAL;
		goto out;
	}
	rc = cairn_bdev_notify_blockcnt_change(bdev, nb);
out:
	cairn_bdev_close(desc);
	return rc;
}

/* ------------------------------------------------------------------ JSON */

int
cairn_bdev_info_json(struct cairn_bdev *bdev, struct json_t **out)
{
	char uuid_str[37];
	json_t *o, *drv;
	const char *owner;
	int rc = 0;

	if (bdev == NULL || out == NULL)
		return -CAIRN_ERR_INVAL;
	o = json_object();
	if (o == NULL)
		return -CAIRN_ERR_NOMEM;
	uuid_unparse_lower(bdev->uuid, uuid_str);
	owner = cairn_bdev_claimed_by(bdev);
	if (json_object_set_new(o, "name", json_string(bdev->name)) ||
	    json_object_set_new(o, "product_name", json_string(bdev->product)) ||
	    json_object_set_new(o, "module", json_string(bdev->module->name)) ||
	    json_object_set_new(o, "block_size", json_integer(bdev->block_size)) ||
	    json_object_set_new(o, "num_blocks",
				json_integer((json_int_t)cairn_bdev_num_blocks(bdev))) ||
	    json_object_set_new(o, "uuid", json_string(uuid_str)) ||
	    json_object_set_new(o, "optimal_io_boundary",
				json_integer(bdev->optimal_io_boundary)) ||
	    json_object_set_new(o, "max_transfer_blocks",
				json_integer(bdev->max_transfer_blocks)) ||
	    json_object_set_new(o, "buf_align", json_integer((json_int_t)bdev->buf_align)) ||
	    json_object_set_new(o, "write_cache", json_boolean(bdev->write_cache)) ||
	    json_object_set_new(o, "claimed", json_boolean(owner != NULL)) ||
	    json_object_set_new(o, "claimed_by", owner ? json_string(owner) : json_null())) {
		rc = -CAIRN_ERR_NOMEM;
		goto err_free;
	}
	drv = json_object();
	if (drv == NULL || json_object_set_new(o, "driver_specific", drv)) {
		rc = -CAIRN_ERR_NOMEM;
		goto err_free;
	}
	if (bdev->fn->dump_info_json != NULL) {
		rc = bdev->fn->dump_info_json(bdev->ctx, drv);
		if (rc != 0)
			goto err_free;
	}
	*out = o;
	return 0;

err_free:
	json_decref(o);
	return rc;
}

static int
bdev_config_one(struct cairn_bdev *bdev, void *arg)
{
	if (bdev->fn->write_config_json == NULL)
		return 0;
	return bdev->fn->write_config_json(bdev->ctx, arg);
}

static int
bdev_config_virtual(struct cairn_bdev *bdev, void *arg)
{
	return bdev->module->is_virtual ? bdev_config_one(bdev, arg) : 0;
}

static int
bdev_config_base(struct cairn_bdev *bdev, void *arg)
{
	return bdev->module->is_virtual ? 0 : bdev_config_one(bdev, arg);
}

int
cairn_bdev_write_config_json(struct json_t *array)
{
	int rc;

	if (array == NULL || !json_is_array(array))
		return -CAIRN_ERR_INVAL;
	rc = cairn_bdev_foreach(bdev_config_base, array);
	if (rc == 0)
		rc = cairn_bdev_foreach(bdev_config_virtual, array);
	return rc;
}
