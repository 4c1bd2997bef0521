/*
 * Collectives over a k-nomial tree. A collective request is an ordinary request with the
 * COLL flag whose body starts with the tree (ratio, tag, position, rank list). Each member
 * runs co_pre_forward, forwards to its children, runs the handler, and once the handler
 * replied and every child answered (or failed), folds the children's outputs into its own
 * with co_aggregate (in child order, after the local reply) and replies to its parent
 * with the list of ranks that failed.
 *
 *   request prefix: u16 ratio, u16 tag, u32 pos, u32 n, n x u32 rank
 *   reply prefix:   u32 nfailed, nfailed x u32 rank, then the encoded output
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#define CAIRN_LOG_SS CAIRN_SS_NET
#include "common/log.h"
#include "net_internal.h"
#include "rt/rt.h"

struct coll_state {
	uint32_t *ranks;
	unsigned n;
	unsigned ratio;
	unsigned pos;
	uint16_t tag;
	struct cairn_rpc *parent; /* child RPC: the member RPC that forwarded it */
	unsigned children_pending;
	bool local_done;
	uint32_t *failed;
	unsigned nfailed;
	unsigned failed_cap;
	struct cairn_rpc **done; /* answered children, aggregated after the local reply */
	int *done_rc;
	unsigned ndone;
	unsigned done_cap;
};

static unsigned
lowbit_k(unsigned pos, unsigned k)
{
	unsigned lb = 1;

	while (pos % (lb * k) == 0)
		lb *= k;
	return lb;
}

unsigned
cairn_knomial_children(unsigned n, unsigned k, unsigned pos, unsigned *out, unsigned max)
{
	uint64_t limit, s;
	unsigned cnt = 0, j;

	if (k < 2 || pos >= n)
		return 0;
	limit = pos == 0 ? (uint64_t)n : lowbit_k(pos, k);
	for (s = 1; s < limit && pos + s < n; s *= k) {
		for (j = 1; j < k; j++) {
			uint64_t c = pos + j * s;

			if (c >= n)
				break;
			if (cnt < max)
				out[cnt] = (unsigned)c;
			cnt++;
		}
	}
	return cnt;
}

int
cairn_knomial_parent(unsigned n, unsigned k, unsigned pos)
{
	unsigned lb;

	if (k < 2 || pos == 0 || pos >= n)
		return -1;
	lb = lowbit_k(pos, k);
	return (int)(pos - ((pos / lb) % k) * lb);
}

static int
failed_add(struct coll_state *cs, uint32_t rank)
{
	if (cs->nfailed == cs->failed_cap) {
		unsigned ncap = cs->failed_cap ? cs->failed_cap * 2 : 8;
		uint32_t *nf = realloc(cs->failed, ncap * sizeof(*nf));

		if (nf == NULL)
			return -CAIRN_ERR_NOMEM;
		cs->failed = nf;
		cs->failed_cap = ncap;
	}
	cs->failed[cs->nfailed++] = rank;
	return 0;
}

/* Position c and its whole subtree could not be served. */
static void
failed_subtree(struct coll_state *cs, unsigned c)
{
	unsigned end = c + lowbit_k(c, cs->ratio), i;

	if (end > cs->n || end < c)
		end = cs->n;
	for (i = c; i < end; i++)
		failed_add(cs, cs->ranks[i]);
}

static struct coll_state *
coll_alloc(const uint32_t *ranks, unsigned n, unsigned ratio, unsigned pos, uint16_t tag)
{
	struct coll_state *cs = calloc(1, sizeof(*cs));

	if (cs == NULL)
		return NULL;
	cs->ranks = malloc(n * sizeof(*ranks));
	if (cs->ranks == NULL) {
		free(cs);
		return NULL;
	}
	memcpy(cs->ranks, ranks, n * sizeof(*ranks));
	cs->n = n;
	cs->ratio = ratio;
	cs->pos = pos;
	cs->tag = tag;
	return cs;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool
has_dups(const uint32_t *ranks, unsigned n)
{
	uint32_t *s = malloc(n * sizeof(*s));
	bool dup = false;
	unsigned i;

	if (s == NULL)
		return true;
	memcpy(s, ranks, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u32);
	for (i = 1; i < n; i++)
		if (s[i] == s[i - 1] || s[i] == CAIRN_RANK_NONE)
			dup = true;
	if (n && s[0] == CAIRN_RANK_NONE)
		dup = true;
	free(s);
	return dup;
}

int
cairn_coll_create(struct cairn_net_ctx *ctx, const uint32_t *ranks, unsigned n, uint16_t tag,
                  uint32_t opc, unsigned ratio, struct cairn_rpc **out)
{
	struct cairn_ep ep;
	struct cairn_rpc *rpc;
	int rc;

	if (ranks == NULL || n == 0 || n > CAIRN_COLL_MAX_RANKS || ratio < 2 ||
	    ratio > CAIRN_COLL_MAX_RATIO || has_dups(ranks, n))
		return -CAIRN_ERR_INVAL;
	ep.rank = ranks[0];
	ep.tag = tag;
	rc = cairn_rpc_create(ctx, ep, opc, &rpc);
	if (rc)
		return rc;
	if (rpc->oneway) {
		cairn_rpc_decref(rpc);
		return -CAIRN_ERR_INVAL;
	}
	rpc->coll = coll_alloc(ranks, n, ratio, 0, tag);
	if (rpc->coll == NULL) {
		cairn_rpc_decref(rpc);
		return -CAIRN_ERR_NOMEM;
	}
	*out = rpc;
	return 0;
}

void
cairn_coll_failed(const struct cairn_rpc *rpc, const uint32_t **ranks, unsigned *n)
{
	*ranks = rpc->coll ? rpc->coll->failed : NULL;
	*n = rpc->coll ? rpc->coll->nfailed : 0;
}

void
net_coll_free(struct cairn_rpc *rpc)
{
	struct coll_state *cs = rpc->coll;
	unsigned i;

	if (cs == NULL)
		return;
	rpc->coll = NULL;
	for (i = 0; i < cs->ndone; i++)
		cairn_rpc_decref(cs->done[i]);
	if (cs->parent)
		cairn_rpc_decref(cs->parent);
	free(cs->done);
	free(cs->done_rc);
	free(cs->failed);
	free(cs->ranks);
	free(cs);
}

int
net_coll_client_enc(struct cairn_rpc *rpc, struct cairn_enc *e)
{
	struct coll_state *cs = rpc->coll;
	unsigned i;

	cairn_enc_u16(e, (uint16_t)cs->ratio);
	cairn_enc_u16(e, cs->tag);
	cairn_enc_u32(e, cs->pos);
	cairn_enc_array(e, cs->n);
	for (i = 0; i < cs->n; i++)
		cairn_enc_u32(e, cs->ranks[i]);
	return cairn_enc_rc(e);
}

int
net_coll_client_dec(struct cairn_rpc *rpc, struct cairn_dec *d)
{
	struct coll_state *cs = rpc->coll;
	uint32_t n, i;

	cairn_dec_array(d, &n, 4, cs->n);
	if (d->rc)
		return d->rc;
	free(cs->failed);
	cs->failed = NULL;
	cs->nfailed = cs->failed_cap = 0;
	if (n) {
		cs->failed = calloc(n, sizeof(uint32_t));
		if (cs->failed == NULL)
			return -CAIRN_ERR_NOMEM;
		cs->failed_cap = n;
	}
	for (i = 0; i < n; i++)
		cairn_dec_u32(d, &cs->failed[i]);
	cs->nfailed = d->rc ? 0 : n;
	return d->rc;
}

int
net_coll_server_start(struct cairn_rpc *rpc, struct cairn_dec *d)
{
	uint16_t ratio, tag;
	uint32_t pos, n, i;
	struct coll_state *cs;

	cairn_dec_u16(d, &ratio);
	cairn_dec_u16(d, &tag);
	cairn_dec_u32(d, &pos);
	cairn_dec_array(d, &n, 4, CAIRN_COLL_MAX_RANKS);
	if (d->rc)
		return d->rc;
	if (n == 0 || pos >= n || ratio < 2 || ratio > CAIRN_COLL_MAX_RATIO || tag != rpc->ctx->tag)
		return -CAIRN_ERR_PROTO;
	cs = calloc(1, sizeof(*cs));
	if (cs == NULL)
		return -CAIRN_ERR_NOMEM;
	cs->ranks = calloc(n, sizeof(uint32_t));
	if (cs->ranks == NULL) {
		free(cs);
		return -CAIRN_ERR_NOMEM;
	}
	for (i = 0; i < n; i++)
		cairn_dec_u32(d, &cs->ranks[i]);
	cs->n = n;
	cs->ratio = ratio;
	cs->pos = pos;
	cs->tag = tag;
	rpc->coll = cs;
	if (d->rc)
		return d->rc;
	if (cs->ranks[pos] != rpc->ctx->rank)
		return -CAIRN_ERR_PROTO;
	return 0;
}

static void coll_maybe_reply(struct cairn_rpc *rpc);

static void
coll_child_cb(void *arg, int rc)
{
	struct cairn_rpc *child = arg;
	struct cairn_rpc *parent = child->coll->parent;
	struct coll_state *cs = parent->coll;

	if (cs->ndone == cs->done_cap) {
		unsigned ncap = cs->done_cap ? cs->done_cap * 2 : 8;
		struct cairn_rpc **nd = realloc(cs->done, ncap * sizeof(*nd));
		int *nr = realloc(cs->done_rc, ncap * sizeof(*nr));

		if (nd)
			cs->done = nd;
		if (nr)
			cs->done_rc = nr;
		if (nd == NULL || nr == NULL) {
			/* Cannot keep the answer: count the subtree as failed. */
			unsigned i;

			for (i = 0; i < cs->n; i++)
				if (cs->ranks[i] == child->ep.rank)
					failed_subtree(cs, i);
			cs->children_pending--;
			cairn_rpc_decref(child);
			coll_maybe_reply(parent);
			return;
		}
		cs->done_cap = ncap;
	}
	/* Keep the child (our creation reference) until we aggregate. */
	cs->done[cs->ndone] = child;
	cs->done_rc[cs->ndone] = rc;
	cs->ndone++;
	cs->children_pending--;
	coll_maybe_reply(parent);
}

void
net_coll_forward(struct cairn_rpc *rpc)
{
	struct coll_state *cs = rpc->coll;
	unsigned *kids, nk, i;
	int rc = 0;

	kids = calloc(cs->n, sizeof(*kids));
	if (kids == NULL) {
		for (i = 1; i < cs->n; i++)
			if (cairn_knomial_parent(cs->n, cs->ratio, i) == (int)cs->pos)
				failed_subtree(cs, i);
		return;
	}
	nk = cairn_knomial_children(cs->n, cs->ratio, cs->pos, kids, cs->n);
	if (nk && rpc->def->co_pre_forward)
		rc = rpc->def->co_pre_forward(rpc);
	for (i = 0; i < nk; i++) {
		struct cairn_rpc *child;

		if (rc) {
			failed_subtree(cs, kids[i]);
			continue;
		}
		child = net_rpc_alloc(rpc->ctx, rpc->def, rpc->opc, rpc->proto_ver);
		if (child)
			child->coll = coll_alloc(cs->ranks, cs->n, cs->ratio, kids[i], cs->tag);
		if (child == NULL || child->coll == NULL) {
			if (child)
				cairn_rpc_decref(child);
			failed_subtree(cs, kids[i]);
			continue;
		}
		child->ep.rank = cs->ranks[kids[i]];
		child->ep.tag = cs->tag;
		/* Each level gets 3/4 of its parent's time, so a member can still report a
		 * hung child as failed before its own parent gives up on it. */
		child->timeout_us = rpc->timeout_us ? rpc->timeout_us * 3 / 4 : 0;
		memcpy(child->in, rpc->in, rpc->def->in_size);
		child->coll->parent = rpc;
		cairn_rpc_addref(rpc);
		cs->children_pending++;
		if (cairn_rpc_send(child, coll_child_cb, child) != 0) {
			cs->children_pending--;
			failed_subtree(cs, kids[i]);
			cairn_rpc_decref(child); /* also drops the parent reference */
		}
	}
	free(kids);
}

static void
coll_maybe_reply(struct cairn_rpc *rpc)
{
	struct coll_state *cs = rpc->coll;
	struct cairn_enc e;
	unsigned i, j;
	size_t len;
	int rc = 0;

	if (cs == NULL || !cs->local_done || cs->children_pending)
		return;
	for (i = 0; i < cs->ndone; i++) {
		struct cairn_rpc *child = cs->done[i];
		struct coll_state *ccs = child->coll;

		if (cs->done_rc[i] == 0 && rpc->def->co_aggregate &&
		    rpc->def->co_aggregate(rpc, child->out) != 0)
			cs->done_rc[i] = -CAIRN_ERR_MISC;
		if (cs->done_rc[i] == 0) {
			for (j = 0; j < ccs->nfailed; j++)
				failed_add(cs, ccs->failed[j]);
		} else {
			failed_subtree(cs, ccs->pos);
		}
		cairn_rpc_decref(child);
	}
	cs->ndone = 0;
	cairn_enc_init(&e, rpc->ctx->opts.max_msg);
	cairn_enc_array(&e, cs->nfailed);
	for (i = 0; i < cs->nfailed; i++)
		cairn_enc_u32(&e, cs->failed[i]);
	if (rpc->def->out_enc)
		rc = rpc->def->out_enc(&e, rpc->out);
	if (rc == 0)
		rc = cairn_enc_rc(&e);
	if (rc) {
		cairn_enc_fini(&e);
		net_send_reply(rpc, -CAIRN_ERR_PROTO, NULL, 0, 0);
		return;
	}
	{
		uint8_t *body = cairn_enc_steal(&e, &len);

		net_send_reply(rpc, 0, body, (uint32_t)len, CAIRN_NET_F_COLL);
	}
}

int
net_coll_reply_local(struct cairn_rpc *rpc, int status)
{
	struct coll_state *cs = rpc->coll;

	if (cs->local_done)
		return -CAIRN_ERR_ALREADY;
	cs->local_done = true;
	rpc->state = RPC_REPLIED;
	if (status)
		failed_add(cs, rpc->ctx->rank);
	coll_maybe_reply(rpc);
	return 0;
}
