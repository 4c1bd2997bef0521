/*
 * bdev core, I/O side: per-xstream channels, request allocation, validation,
 * splitting at the module's limits, bounce buffers, write-zeroes emulation, completion
 * (deferred to the channel poller when a module completes inside its submit call, so
 * user callbacks never run inside a submit), statistics and the ULT sync layer.
 *
 * Everything here runs on the channel's xstream, without locks; the registry lock is
 * taken only to publish or retire a channel and to read statistics.
 */
#define CAIRN_LOG_SS CAIRN_SS_BDEV

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bdev_internal.h"
#include "cairn/errno.h"
#include "common/log.h"

/* ------------------------------------------------------------------ statistics */

static inline uint64_t
ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void
st(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

void
bdev_stats_read(struct cairn_bdev_stats *dst, const struct cairn_bdev_stats *src)
{
	for (int t = 0; t < CAIRN_BDEV_IO_NTYPES; t++) {
		dst->op[t].ops = ld(&src->op[t].ops);
		dst->op[t].bytes = ld(&src->op[t].bytes);
		dst->op[t].errors = ld(&src->op[t].errors);
		dst->op[t].lat_min_ns = ld(&src->op[t].lat_min_ns);
		dst->op[t].lat_max_ns = ld(&src->op[t].lat_max_ns);
		dst->op[t].lat_sum_ns = ld(&src->op[t].lat_sum_ns);
	}
	dst->splits = ld(&src->splits);
	dst->bounces = ld(&src->bounces);
}

void
bdev_stats_add(struct cairn_bdev_stats *dst, const struct cairn_bdev_stats *src)
{
	struct cairn_bdev_stats s;

	bdev_stats_read(&s, src);
	for (int t = 0; t < CAIRN_BDEV_IO_NTYPES; t++) {
		struct cairn_bdev_op_stats *d = &dst->op[t];

		if (s.op[t].ops == 0)
			continue;
		if (d->ops == 0 || s.op[t].lat_min_ns < d->lat_min_ns)
			d->lat_min_ns = s.op[t].lat_min_ns;
		if (s.op[t].lat_max_ns > d->lat_max_ns)
			d->lat_max_ns = s.op[t].lat_max_ns;
		d->ops += s.op[t].ops;
		d->bytes += s.op[t].bytes;
		d->errors += s.op[t].errors;
		d->lat_sum_ns += s.op[t].lat_sum_ns;
	}
	dst->splits += s.splits;
	dst->bounces += s.bounces;
}

/* Owner xstream: restart the channel's counters after a reset. */
static void
ch_stats_sync_gen(struct cairn_bdev_channel *ch)
{
	uint64_t gen = __atomic_load_n(&ch->bdev->stats_gen, __ATOMIC_ACQUIRE);
	uint64_t *w = (uint64_t *)&ch->stats;

	if (ch->stats_gen == gen)
		return;
	for (size_t i = 0; i < sizeof(ch->stats) / sizeof(uint64_t); i++)
		st(&w[i], 0);
	ch->stats_gen = gen;
}

static void
ch_stats_account(struct bdev_req *r)
{
	struct cairn_bdev_channel *ch = r->ch;
	struct cairn_bdev_op_stats *o = &ch->stats.op[r->io.type];
	uint64_t lat = bdev_now_ns() - r->start_ns;
	uint64_t ops;

	ch_stats_sync_gen(ch);
	ops = ld(&o->ops);
	if (ops == 0 || lat < ld(&o->lat_min_ns))
		st(&o->lat_min_ns, lat);
	if (lat > ld(&o->lat_max_ns))
		st(&o->lat_max_ns, lat);
	st(&o->lat_sum_ns, ld(&o->lat_sum_ns) + lat);
	if (r->rc == 0)
		st(&o->bytes, ld(&o->bytes) + r->io.num_blocks * r->io.bdev->block_size);
	else
		st(&o->errors, ld(&o->errors) + 1);
	st(&o->ops, ops + 1);
}

int
cairn_bdev_get_stats(struct cairn_bdev *bdev, struct cairn_bdev_stats *out)
{
	uint64_t gen;

	if (bdev == NULL || out == NULL)
		return -CAIRN_ERR_INVAL;
	pthread_mutex_lock(&g_bdev.lock);
	gen = __atomic_load_n(&bdev->stats_gen, __ATOMIC_ACQUIRE);
	*out = bdev->dead_stats;
	for (unsigned i = 0; i < CAIRN_RT_MAX_XSTREAMS; i++) {
		struct cairn_bdev_channel *ch = bdev->ch[i];

		/* a channel still on an older generation has been reset and has not
		 * completed anything since */
		if (ch != NULL && __atomic_load_n(&ch->stats_gen, __ATOMIC_RELAXED) == gen)
			bdev_stats_add(out, &ch->stats);
	}
	pthread_mutex_unlock(&g_bdev.lock);
	return 0;
}

void
cairn_bdev_reset_stats(struct cairn_bdev *bdev)
{
	if (bdev == NULL)
		return;
	pthread_mutex_lock(&g_bdev.lock);
	memset(&bdev->dead_stats, 0, sizeof(bdev->dead_stats));
	__atomic_add_fetch(&bdev->stats_gen, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g_bdev.lock);
}

static json_t *
op_stats_json(const struct cairn_bdev_op_stats *o)
{
	double avg = o->ops ? (double)o->lat_sum_ns / (double)o->ops / 1000.0 : 0.0;

	return json_pack("{s:I, s:I, s:I, s:f, s:f, s:f}", "ops", (json_int_t)o->ops, "bytes",
			 (json_int_t)o->bytes, "errors", (json_int_t)o->errors, "lat_min_us",
			 (double)o->lat_min_ns / 1000.0, "lat_avg_us", avg, "lat_max_us",
			 (double)o->lat_max_ns / 1000.0);
}

int
cairn_bdev_stats_json(struct cairn_bdev *bdev, struct json_t **out)
{
	struct cairn_bdev_stats s;
	json_t *o;
	int rc;

	if (out == NULL)
		return -CAIRN_ERR_INVAL;
	rc = cairn_bdev_get_stats(bdev, &s);
	if (rc != 0)
		return rc;
	o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "name", bdev->name, "num_blocks",
		      (json_int_t)cairn_bdev_num_blocks(bdev), "block_size",
		      (json_int_t)bdev->block_size, "splits", (json_int_t)s.splits, "bounces",
		      (json_int_t)s.bounces);
	if (o == NULL)
		return -CAIRN_ERR_NOMEM;
	for (int t = 0; t < CAIRN_BDEV_IO_NTYPES; t++) {
		json_t *os = op_stats_json(&s.op[t]);

		if (os == NULL || json_object_set_new(o, cairn_bdev_io_type_name(t), os) != 0) {
			json_decref(o);
			return -CAIRN_ERR_NOMEM;
		}
	}
	*out = o;
	return 0;
}

/* ------------------------------------------------------------------ channels */

static int ch_poll(void *arg);

static void
ch_destroy(struct cairn_bdev_channel *ch)
{
	struct cairn_bdev *bdev = ch->bdev;
	struct cairn_list *l;

	pthread_mutex_lock(&g_bdev.lock);
	if (ch->stats_gen == __atomic_load_n(&bdev->stats_gen, __ATOMIC_ACQUIRE))
		bdev_stats_add(&bdev->dead_stats, &ch->stats);
	__atomic_store_n(&bdev->ch[ch->xs_id], NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g_bdev.lock);

	cairn_poller_unregister(&ch->poller);
	if (bdev->fn->put_io_channel != NULL)
		bdev->fn->put_io_channel(bdev->ctx, ch->mod_ch);
	while ((l = cairn_list_pop(&ch->free_reqs)) != NULL)
		free(cairn_list_entry(l, struct bdev_req, link));
	free(ch);
	bdev_put_ref(bdev);
}

static void
ch_destroy_msg(void *arg)
{
	struct cairn_bdev_channel *ch = arg;

	ch->destroy_pending = false;
	if (ch->refs == 0 && ch->outstanding == 0)
		ch_destroy(ch);
}

struct cairn_bdev_channel *
cairn_bdev_get_io_channel(struct cairn_bdev_desc *desc)
{
	struct cairn_xstream *xs = cairn_xs_self();
	struct cairn_bdev_channel *ch;
	struct cairn_bdev *bdev;
	unsigned id;

	if (desc == NULL || xs == NULL)
		return NULL;
	bdev = desc->bdev;
	id = cairn_xs_id(xs);
	if (id >= CAIRN_RT_MAX_XSTREAMS)
		return NULL;
	ch = __atomic_load_n(&bdev->ch[id], __ATOMIC_ACQUIRE);
	if (ch != NULL) {
		ch->refs++;
		ch->dying = false;
		return ch;
	}

	ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return NULL;
	ch->bdev = bdev;
	ch->xs = xs;
	ch->xs_id = id;
	ch->refs = 1;
	cairn_list_init(&ch->deferred);
	cairn_list_init(&ch->free_reqs);
	ch->stats_gen = __atomic_load_n(&bdev->stats_gen, __ATOMIC_ACQUIRE);
	if (bdev->fn->get_io_channel != NULL) {
		ch->mod_ch = bdev->fn->get_io_channel(bdev->ctx);
		if (ch->mod_ch == NULL) {
			CAIRN_ERROR("bdev %s: module %s could not create an I/O channel on %s",
				    bdev->name, bdev->module->name, cairn_xs_name(xs));
			goto err_free;
		}
	}
	ch->poller = cairn_poller_register(ch_poll, ch, 0, "bdev_channel");
	if (ch->poller == NULL) {
		CAIRN_ERROR("bdev %s: cannot register the channel poller on %s", bdev->name,
			    cairn_xs_name(xs));
		goto err_put_module;
	}
	pthread_mutex_lock(&g_bdev.lock);
	bdev->refs++;
	__atomic_store_n(&bdev->ch[id], ch, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g_bdev.lock);
	return ch;

err_put_module:
	if (bdev->fn->put_io_channel != NULL)
		bdev->fn->put_io_channel(bdev->ctx, ch->mod_ch);
err_free:
	free(ch);
	return NULL;
}

void
cairn_bdev_put_io_channel(struct cairn_bdev_channel *ch)
{
	if (ch == NULL)
		return;
	if (ch->refs == 0) {
		CAIRN_ERROR("bdev %s: I/O channel put more often than got", ch->bdev->name);
		return;
	}
	if (ch->xs != cairn_xs_self()) {
		CAIRN_ERROR("bdev %s: I/O channel of %s put from another thread: ignored",
			    ch->bdev->name, cairn_xs_name(ch->xs));
		return;
	}
	if (--ch->refs > 0)
		return;
	if (ch->outstanding > 0) {
		/* destroyed by the last completion (through a message) */
		ch->dying = true;
		return;
	}
	ch_destroy(ch);
}

/* ------------------------------------------------------------------ requests */

static struct bdev_req *
req_get(struct cairn_bdev_channel *ch)
{
	struct cairn_list *l = cairn_list_pop(&ch->free_reqs);
	struct bdev_req *r;

	if (l != NULL) {
		ch->nr_free--;
		r = cairn_list_entry(l, struct bdev_req, link);
	} else {
		r = aligned_alloc(16, ch->bdev->req_size);
		if (r == NULL)
			return NULL;
	}
	memset(r, 0, sizeof(*r));
	r->ch = ch;
	r->io.bdev = ch->bdev;
	cairn_list_init(&r->link);
	cairn_list_init(&r->io.module_link);
	ch->outstanding++;
	return r;
}

static void
req_put(struct bdev_req *r)
{
	struct cairn_bdev_channel *ch = r->ch;

	free(r->iov_alloc);
	free(r->bounce);
	if (ch->nr_free < BDEV_IO_CACHE_MAX) {
		cairn_list_add(&r->link, &ch->free_reqs);
		ch->nr_free++;
	} else {
		free(r);
	}
	if (--ch->outstanding == 0 && ch->dying && !ch->destroy_pending) {
		/* We may be deep inside a module's poller: destroy from a message. */
		ch->destroy_pending = true;
		if (cairn_rt_send_msg(ch->xs, ch_destroy_msg, ch) != 0) {
			CAIRN_WARN("bdev %s: runtime stopping, channel destroyed inline",
				   ch->bdev->name);
			ch_destroy_msg(ch);
		}
	}
}

void *
cairn_bdev_io_driver_ctx(struct cairn_bdev_io *io)
{
	return (char *)io + sizeof(struct bdev_req);
}

/* Store a copy of iov in r (inline or allocated). */
static int
req_set_iov(struct bdev_req *r, const struct iovec *iov, int iovcnt)
{
	struct iovec *dst = r->inline_iov;

	if (iovcnt > BDEV_INLINE_IOV) {
		r->iov_alloc = malloc(sizeof(*iov) * (size_t)iovcnt);
		if (r->iov_alloc == NULL)
			return -CAIRN_ERR_NOMEM;
		dst = r->iov_alloc;
	}
	memcpy(dst, iov, sizeof(*iov) * (size_t)iovcnt);
	r->user_iov = dst;
	r->user_iovcnt = iovcnt;
	r->io.iov = dst;
	r->io.iovcnt = iovcnt;
	return 0;
}

static void split_continue(struct bdev_req *parent);

static void
module_submit(struct bdev_req *r)
{
	struct cairn_bdev_channel *ch = r->ch;

	r->to_module = true;
	r->in_submit = true;
	ch->bdev->fn->submit_request(ch->mod_ch, &r->io);
	r->in_submit = false;
}

/* A user-level request is finished: stats, bounce copy-out, callback, free. */
static void
user_done(struct bdev_req *r)
{
	if (r->bounce != NULL && r->rc == 0 && r->io.type == CAIRN_BDEV_IO_READ) {
		const char *src = r->bounce;

		for (int i = 0; i < r->user_iovcnt; i++) {
			memcpy(r->user_iov[i].iov_base, src, r->user_iov[i].iov_len);
			src += r->user_iov[i].iov_len;
		}
	}
	ch_stats_account(r);
	r->cb(r->cb_arg, r->rc);
	req_put(r);
}

static void
child_done(struct bdev_req *child)
{
	struct bdev_req *parent = child->parent;

	if (child->rc != 0 && parent->rc == 0)
		parent->rc = child->rc;
	req_put(child);
	parent->split_outstanding--;
	if (parent->rc == 0 && parent->split_next < parent->io.num_blocks)
		split_continue(parent);
	if (parent->split_outstanding == 0 &&
	    (parent->rc != 0 || parent->split_next >= parent->io.num_blocks))
		user_done(parent);
}

static void
req_done(struct bdev_req *r)
{
	if (r->parent != NULL)
		child_done(r);
	else
		user_done(r);
}

void
cairn_bdev_io_complete(struct cairn_bdev_io *io, int rc)
{
	struct bdev_req *r = (struct bdev_req *)io;

	r->rc = rc;
	if (r->in_submit) {
		cairn_list_add_tail(&r->link, &r->ch->deferred);
		return;
	}
	req_done(r);
}

static int
ch_poll(void *arg)
{
	struct cairn_bdev_channel *ch = arg;
	struct cairn_list q, *l;
	int n = 0;

	if (cairn_list_empty(&ch->deferred))
		return 0;
	/* Take the current batch; completions deferred meanwhile wait for the next poll.
	 * The channel outlives this loop: every queued request counts as outstanding, and
	 * a dying channel is destroyed by a message. */
	cairn_list_init(&q);
	cairn_list_splice_tail(&ch->deferred, &q);
	while ((l = cairn_list_pop(&q)) != NULL) {
		req_done(cairn_list_entry(l, struct bdev_req, link));
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------ splitting */

/* Fill child's iovecs with `len` bytes of parent's buffers from the split cursor. */
static int
split_slice_iov(struct bdev_req *parent, struct bdev_req *child, size_t len)
{
	const struct iovec *src = parent->io.iov;
	int idx = parent->split_iov_idx, n = 0, cap = BDEV_INLINE_IOV;
	size_t off = parent->split_iov_off;
	struct iovec *dst = child->inline_iov;

	while (len > 0) {
		size_t take;

		if (idx >= parent->io.iovcnt)
			return -CAIRN_ERR_INVAL; /* cannot happen: lengths were validated */
		if (off == src[idx].iov_len) {
			idx++;
			off = 0;
			continue;
		}
		if (n == cap) {
			struct iovec *bigger;
			int ncap = parent->io.iovcnt;

			bigger = malloc(sizeof(*bigger) * (size_t)ncap);
			if (bigger == NULL)
				return -CAIRN_ERR_NOMEM;
			memcpy(bigger, dst, sizeof(*bigger) * (size_t)n);
			child->iov_alloc = bigger;
			dst = bigger;
			cap = ncap;
		}
		take = src[idx].iov_len - off;
		if (take > len)
			take = len;
		dst[n].iov_base = (char *)src[idx].iov_base + off;
		dst[n].iov_len = take;
		n++;
		off += take;
		len -= take;
	}
	parent->split_iov_idx = idx;
	parent->split_iov_off = off;
	child->io.iov = dst;
	child->io.iovcnt = n;
	return 0;
}

static uint64_t
split_len(const struct bdev_req *parent)
{
	const struct cairn_bdev *bdev = parent->io.bdev;
	uint64_t off = parent->io.offset_blocks + parent->split_next;
	uint64_t len = parent->io.num_blocks - parent->split_next;

	if (bdev->max_transfer_blocks != 0 && len > bdev->max_transfer_blocks)
		len = bdev->max_transfer_blocks;
	if (bdev->split_on_boundary) {
		uint64_t to_boundary = bdev->optimal_io_boundary - off % bdev->optimal_io_boundary;

		if (len > to_boundary)
			len = to_boundary;
	}
	if (parent->zero_emulation) {
		uint64_t zmax = BDEV_ZERO_BUF_SIZE / bdev->block_size;

		if (zmax == 0)
			zmax = 1;
		if (len > zmax)
			len = zmax;
	}
	return len;
}

static void
split_continue(struct bdev_req *parent)
{
	struct cairn_bdev_channel *ch = parent->ch;
	uint32_t bs = parent->io.bdev->block_size;

	while (parent->split_outstanding < BDEV_SPLIT_DEPTH &&
	       parent->split_next < parent->io.num_blocks && parent->rc == 0) {
		uint64_t len = split_len(parent);
		struct bdev_req *child = req_get(ch);
		int rc;

		if (child == NULL) {
			parent->rc = -CAIRN_ERR_NOMEM;
			break;
		}
		child->parent = parent;
		child->io.type = parent->zero_emulation ? CAIRN_BDEV_IO_WRITE : parent->io.type;
		child->io.offset_blocks = parent->io.offset_blocks + parent->split_next;
		child->io.num_blocks = len;
		if (parent->zero_emulation) {
			child->inline_iov[0].iov_base = g_bdev.zero_buf;
			child->inline_iov[0].iov_len = len * bs;
			child->io.iov = child->inline_iov;
			child->io.iovcnt = 1;
		} else if (parent->io.type == CAIRN_BDEV_IO_READ ||
			   parent->io.type == CAIRN_BDEV_IO_WRITE) {
			rc = split_slice_iov(parent, child, len * bs);
			if (rc != 0) {
				parent->rc = rc;
				req_put(child);
				break;
			}
		}
		parent->split_next += len;
		parent->split_outstanding++;
		module_submit(child);
	}
}

/* ------------------------------------------------------------------ submission */

static int
io_validate(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
	    enum cairn_bdev_io_type type, const struct iovec *iov, int iovcnt, uint64_t off,
	    uint64_t n)
{
	struct cairn_bdev *bdev;
	uint64_t nb, total = 0;

	if (desc == NULL || ch == NULL || ch->bdev != desc->bdev || ch->refs == 0 ||
	    ch->xs != cairn_xs_self())
		return -CAIRN_ERR_INVAL;
	bdev = desc->bdev;
	if (type != CAIRN_BDEV_IO_READ && !desc->write)
		return -CAIRN_ERR_PERM;
	if (type != CAIRN_BDEV_IO_FLUSH && n == 0)
		return -CAIRN_ERR_INVAL;
	nb = cairn_bdev_num_blocks(bdev);
	if (off > nb || n > nb - off)
		return -CAIRN_ERR_OVERFLOW;
	if (type == CAIRN_BDEV_IO_UNMAP && !bdev->native[CAIRN_BDEV_IO_UNMAP])
		return -CAIRN_ERR_NOSYS;
	if (type != CAIRN_BDEV_IO_READ && type != CAIRN_BDEV_IO_WRITE)
		return 0;
	if (iov == NULL || iovcnt <= 0 || iovcnt > CAIRN_BDEV_MAX_IOVCNT)
		return -CAIRN_ERR_INVAL;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_base == NULL && iov[i].iov_len != 0)
			return -CAIRN_ERR_INVAL;
		total += iov[i].iov_len;
		if (total < iov[i].iov_len)
			return -CAIRN_ERR_INVAL;
	}
	if (total != n * bdev->block_size)
		return -CAIRN_ERR_INVAL;
	return 0;
}

/* Copy the data into one aligned buffer when any iovec misses the module's alignment. */
static int
req_maybe_bounce(struct bdev_req *r)
{
	struct cairn_bdev *bdev = r->io.bdev;
	size_t align = bdev->buf_align, len;
	bool need = false;

	if (align <= 1)
		return 0;
	for (int i = 0; i < r->user_iovcnt; i++) {
		if (((uintptr_t)r->user_iov[i].iov_base & (align - 1)) != 0 ||
		    (r->user_iov[i].iov_len & (align - 1)) != 0) {
			need = true;
			break;
		}
	}
	if (!need)
		return 0;
	len = r->io.num_blocks * bdev->block_size;
	r->bounce = aligned_alloc(align, (len + align - 1) & ~(align - 1));
	if (r->bounce == NULL)
		return -CAIRN_ERR_NOMEM;
	if (r->io.type == CAIRN_BDEV_IO_WRITE) {
		char *dst = r->bounce;

		for (int i = 0; i < r->user_iovcnt; i++) {
			memcpy(dst, r->user_iov[i].iov_base, r->user_iov[i].iov_len);
			dst += r->user_iov[i].iov_len;
		}
	}
	r->bounce_iov.iov_base = r->bounce;
	r->bounce_iov.iov_len = len;
	r->io.iov = &r->bounce_iov;
	r->io.iovcnt = 1;
	st(&r->ch->stats.bounces, ld(&r->ch->stats.bounces) + 1);
	return 0;
}

static bool
req_needs_split(const struct bdev_req *r)
{
	const struct cairn_bdev *bdev = r->io.bdev;
	uint64_t off = r->io.offset_blocks, n = r->io.num_blocks;

	if (r->io.type != CAIRN_BDEV_IO_READ && r->io.type != CAIRN_BDEV_IO_WRITE)
		return false;
	if (bdev->max_transfer_blocks != 0 && n > bdev->max_transfer_blocks)
		return true;
	if (bdev->split_on_boundary &&
	    off / bdev->optimal_io_boundary != (off + n - 1) / bdev->optimal_io_boundary)
		return true;
	return false;
}

static int
bdev_submit(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
	    enum cairn_bdev_io_type type, const struct iovec *iov, int iovcnt, uint64_t off,
	    uint64_t n, cairn_bdev_cb cb, void *cb_arg)
{
	struct cairn_bdev *bdev;
	struct bdev_req *r;
	int rc;

	if (cb == NULL)
		return -CAIRN_ERR_INVAL;
	rc = io_validate(desc, ch, type, iov, iovcnt, off, n);
	if (rc != 0)
		return rc;
	bdev = desc->bdev;
	r = req_get(ch);
	if (r == NULL)
		return -CAIRN_ERR_NOMEM;
	ch_stats_sync_gen(ch);
	r->desc = desc;
	r->cb = cb;
	r->cb_arg = cb_arg;
	r->start_ns = bdev_now_ns();
	r->io.type = type;
	r->io.offset_blocks = off;
	r->io.num_blocks = n;
	if (type == CAIRN_BDEV_IO_READ || type == CAIRN_BDEV_IO_WRITE) {
		rc = req_set_iov(r, iov, iovcnt);
		if (rc == 0)
			rc = req_maybe_bounce(r);
		if (rc != 0)
			goto err_put;
	}

	if (type == CAIRN_BDEV_IO_FLUSH && !(bdev->native[type] && bdev->write_cache)) {
		/* nothing volatile to flush: succeed (after this call returns) */
		r->rc = 0;
		cairn_list_add_tail(&r->link, &ch->deferred);
		return 0;
	}
	if (type == CAIRN_BDEV_IO_WRITE_ZEROES && !bdev->native[type])
		r->zero_emulation = true;
	if (r->zero_emulation || req_needs_split(r)) {
		st(&ch->stats.splits, ld(&ch->stats.splits) + 1);
		split_continue(r);
		if (r->split_outstanding == 0) {
			/* nothing could be sent (out of memory): fail the call, no callback */
			rc = r->rc != 0 ? r->rc : -CAIRN_ERR_NOMEM;
			goto err_put;
		}
		return 0;
	}
	module_submit(r);
	return 0;

err_put:
	req_put(r);
	return rc;
}

int
cairn_bdev_readv(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		 const struct iovec *iov, int iovcnt, uint64_t offset_blocks, uint64_t num_blocks,
		 cairn_bdev_cb cb, void *cb_arg)
{
	return bdev_submit(desc, ch, CAIRN_BDEV_IO_READ, iov, iovcnt, offset_blocks, num_blocks,
			   cb, cb_arg);
}

int
cairn_bdev_writev(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		  const struct iovec *iov, int iovcnt, uint64_t offset_blocks, uint64_t num_blocks,
		  cairn_bdev_cb cb, void *cb_arg)
{
	return bdev_submit(desc, ch, CAIRN_BDEV_IO_WRITE, iov, iovcnt, offset_blocks,
			   num_blocks, cb, cb_arg);
}

static int
one_iov(struct iovec *iov, const void *buf, struct cairn_bdev_desc *desc, uint64_t num_blocks)
{
	if (desc == NULL || buf == NULL)
		return -CAIRN_ERR_INVAL;
	if (num_blocks > SIZE_MAX / desc->bdev->block_size)
		return -CAIRN_ERR_OVERFLOW;
	iov->iov_base = (void *)(uintptr_t)buf;
	iov->iov_len = num_blocks * desc->bdev->block_size;
	return 0;
}

int
cairn_bdev_read(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch, void *buf,
		uint64_t offset_blocks, uint64_t num_blocks, cairn_bdev_cb cb, void *cb_arg)
{
	struct iovec iov;
	int rc = one_iov(&iov, buf, desc, num_blocks);

	if (rc != 0)
		return rc;
	return cairn_bdev_readv(desc, ch, &iov, 1, offset_blocks, num_blocks, cb, cb_arg);
}

int
cairn_bdev_write(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch, const void *buf,
		 uint64_t offset_blocks, uint64_t num_blocks, cairn_bdev_cb cb, void *cb_arg)
{
	struct iovec iov;
	int rc = one_iov(&iov, buf, desc, num_blocks);

	if (rc != 0)
		return rc;
	return cairn_bdev_writev(desc, ch, &iov, 1, offset_blocks, num_blocks, cb, cb_arg);
}

int
cairn_bdev_flush(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		 uint64_t offset_blocks, uint64_t num_blocks, cairn_bdev_cb cb, void *cb_arg)
{
	return bdev_submit(desc, ch, CAIRN_BDEV_IO_FLUSH, NULL, 0, offset_blocks, num_blocks, cb,
			   cb_arg);
}

int
cairn_bdev_unmap(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		 uint64_t offset_blocks, uint64_t num_blocks, cairn_bdev_cb cb, void *cb_arg)
{
	return bdev_submit(desc, ch, CAIRN_BDEV_IO_UNMAP, NULL, 0, offset_blocks, num_blocks, cb,
			   cb_arg);
}

int
cairn_bdev_write_zeroes(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
			uint64_t offset_blocks, uint64_t num_blocks, cairn_bdev_cb cb,
			void *cb_arg)
{
	return bdev_submit(desc, ch, CAIRN_BDEV_IO_WRITE_ZEROES, NULL, 0, offset_blocks,
			   num_blocks, cb, cb_arg);
}

static int
bytes_to_blocks(struct cairn_bdev_desc *desc, uint64_t offset, uint64_t nbytes,
		uint64_t *off_blocks, uint64_t *num_blocks)
{
	uint32_t bs;

	if (desc == NULL)
		return -CAIRN_ERR_INVAL;
	bs = desc->bdev->block_size;
	if (offset % bs != 0 || nbytes % bs != 0)
		return -CAIRN_ERR_INVAL;
	*off_blocks = offset / bs;
	*num_blocks = nbytes / bs;
	return 0;
}

int
cairn_bdev_readv_bytes(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		       const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t nbytes,
		       cairn_bdev_cb cb, void *cb_arg)
{
	uint64_t ob, nb;
	int rc = bytes_to_blocks(desc, offset, nbytes, &ob, &nb);

	if (rc != 0)
		return rc;
	return cairn_bdev_readv(desc, ch, iov, iovcnt, ob, nb, cb, cb_arg);
}

int
cairn_bdev_writev_bytes(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
			const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t nbytes,
			cairn_bdev_cb cb, void *cb_arg)
{
	uint64_t ob, nb;
	int rc = bytes_to_blocks(desc, offset, nbytes, &ob, &nb);

	if (rc != 0)
		return rc;
	return cairn_bdev_writev(desc, ch, iov, iovcnt, ob, nb, cb, cb_arg);
}

int
cairn_bdev_io_passthru(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		       struct cairn_bdev_io *io, cairn_bdev_cb cb, void *cb_arg)
{
	if (io == NULL)
		return -CAIRN_ERR_INVAL;
	return bdev_submit(desc, ch, io->type, io->iov, io->iovcnt, io->offset_blocks,
			   io->num_blocks, cb, cb_arg);
}

/* ------------------------------------------------------------------ sync layer */

struct sync_wait {
	struct cairn_ult *ult;
	int rc;
	bool done;
};

static void
sync_cb(void *arg, int rc)
{
	struct sync_wait *w = arg;

	w->rc = rc;
	w->done = true;
	cairn_ult_wake(w->ult);
}

struct sync_args {
	struct cairn_bdev_desc *desc;
	enum cairn_bdev_io_type type;
	const struct iovec *iov;
	int iovcnt;
	uint64_t off, n;
	int rc;
};

static int sync_io(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		   enum cairn_bdev_io_type type, const struct iovec *iov, int iovcnt,
		   uint64_t off, uint64_t n);

static void
sync_io_ult(void *arg)
{
	struct sync_args *a = arg;

	a->rc = sync_io(a->desc, NULL, a->type, a->iov, a->iovcnt, a->off, a->n);
}

/* A plain thread: run the request in a ULT on the first target (else any) xstream. */
static int
sync_io_forward(struct cairn_bdev_desc *desc, enum cairn_bdev_io_type type,
		const struct iovec *iov, int iovcnt, uint64_t off, uint64_t n)
{
	struct sync_args a = { desc, type, iov, iovcnt, off, n, -CAIRN_ERR_INVAL };
	struct cairn_xstream *xs;
	int rc;

	if (!cairn_rt_running())
		return -CAIRN_ERR_INVAL;
	xs = cairn_xs_by_role(CAIRN_XS_MAIN, 0);
	if (xs == NULL)
		xs = cairn_xs_get(0);
	if (xs == NULL)
		return -CAIRN_ERR_INVAL;
	rc = cairn_rt_run_sync(xs, sync_io_ult, &a);
	return rc != 0 ? rc : a.rc;
}

static int
sync_io(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
	enum cairn_bdev_io_type type, const struct iovec *iov, int iovcnt, uint64_t off,
	uint64_t n)
{
	struct sync_wait w = { .ult = cairn_ult_self() };
	bool own = false;
	int rc;

	if (desc == NULL)
		return -CAIRN_ERR_INVAL;
	if (w.ult == NULL) {
		/* a poller or message handler cannot wait; a plain thread forwards */
		if (ch != NULL || cairn_xs_self() != NULL)
			return -CAIRN_ERR_INVAL;
		return sync_io_forward(desc, type, iov, iovcnt, off, n);
	}
	if (ch == NULL) {
		ch = cairn_bdev_get_io_channel(desc);
		if (ch == NULL)
			return -CAIRN_ERR_NOMEM;
		own = true;
	}
	rc = bdev_submit(desc, ch, type, iov, iovcnt, off, n, sync_cb, &w);
	if (rc == 0) {
		while (!w.done)
			cairn_ult_park();
		rc = w.rc;
	}
	if (own)
		cairn_bdev_put_io_channel(ch);
	return rc;
}

int
cairn_bdev_readv_sync(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		      const struct iovec *iov, int iovcnt, uint64_t offset_blocks,
		      uint64_t num_blocks)
{
	return sync_io(desc, ch, CAIRN_BDEV_IO_READ, iov, iovcnt, offset_blocks, num_blocks);
}

int
cairn_bdev_writev_sync(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		       const struct iovec *iov, int iovcnt, uint64_t offset_blocks,
		       uint64_t num_blocks)
{
	return sync_io(desc, ch, CAIRN_BDEV_IO_WRITE, iov, iovcnt, offset_blocks, num_blocks);
}

int
cairn_bdev_read_sync(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch, void *buf,
		     uint64_t offset_blocks, uint64_t num_blocks)
{
	struct iovec iov;
	int rc = one_iov(&iov, buf, desc, num_blocks);

	if (rc != 0)
		return rc;
	return sync_io(desc, ch, CAIRN_BDEV_IO_READ, &iov, 1, offset_blocks, num_blocks);
}

int
cairn_bdev_write_sync(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		      const void *buf, uint64_t offset_blocks, uint64_t num_blocks)
{
	struct iovec iov;
	int rc = one_iov(&iov, buf, desc, num_blocks);

	if (rc != 0)
		return rc;
	return sync_io(desc, ch, CAIRN_BDEV_IO_WRITE, &iov, 1, offset_blocks, num_blocks);
}

int
cairn_bdev_flush_sync(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch)
{
	return sync_io(desc, ch, CAIRN_BDEV_IO_FLUSH, NULL, 0, 0, 0);
}

int
cairn_bdev_unmap_sync(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
		      uint64_t offset_blocks, uint64_t num_blocks)
{
	return sync_io(desc, ch, CAIRN_BDEV_IO_UNMAP, NULL, 0, offset_blocks, num_blocks);
}

int
cairn_bdev_write_zeroes_sync(struct cairn_bdev_desc *desc, struct cairn_bdev_channel *ch,
			     uint64_t offset_blocks, uint64_t num_blocks)
{
	return sync_io(desc, ch, CAIRN_BDEV_IO_WRITE_ZEROES, NULL, 0, offset_blocks,
		       num_blocks);
}
