/*
 * Groups: rank -> URI tables shared by every context of the process (mutex protected;
 * contexts copy the address out at connect time), and URI parsing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/errno.h"
#define CAIRN_LOG_SS CAIRN_SS_NET
#include "common/log.h"
#include "net_internal.h"

#define GRP_URI_LEN 280

struct grp_member {
	uint32_t rank;
	char uri[GRP_URI_LEN];
};

struct cairn_net_group {
	pthread_mutex_t lock;
	char name[64];
	struct grp_member *m; /* sorted by rank */
	unsigned n;
	unsigned cap;
};

int
cairn_net_uri_parse(const char *uri, char *host, size_t host_len, uint16_t *port)
{
	const char *h, *colon;
	char *end;
	unsigned long p;
	size_t hl;

	if (uri == NULL || strncmp(uri, "tcp://", 6) != 0)
		return -CAIRN_ERR_INVAL;
	h = uri + 6;
	colon = strrchr(h, ':');
	if (colon == NULL || colon == h)
		return -CAIRN_ERR_INVAL;
	hl = (size_t)(colon - h);
	if (hl >= host_len || hl >= NET_HOST_LEN)
		return -CAIRN_ERR_INVAL;
	if (colon[1] < '0' || colon[1] > '9')
		return -CAIRN_ERR_INVAL;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end != '\0' || p > 65535)
		return -CAIRN_ERR_INVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int
cairn_net_group_create(const char *name, struct cairn_net_group **grp)
{
	struct cairn_net_group *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return -CAIRN_ERR_NOMEM;
	pthread_mutex_init(&g->lock, NULL);
	snprintf(g->name, sizeof(g->name), "%s", name ? name : "cairn");
	*grp = g;
	return 0;
}

void
cairn_net_group_destroy(struct cairn_net_group *grp)
{
	if (grp == NULL)
		return;
	pthread_mutex_destroy(&grp->lock);
	free(grp->m);
	free(grp);
}

/* Index of rank or insertion point (*found tells). Caller holds the lock. */
static unsigned
grp_find(struct cairn_net_group *g, uint32_t rank, bool *found)
{
	unsigned lo = 0, hi = g->n;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (g->m[mid].rank < rank)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < g->n && g->m[lo].rank == rank;
	return lo;
}

static int
grp_put(struct cairn_net_group *g, uint32_t rank, const char *uri, int mode)
{
	char host[NET_HOST_LEN];
	uint16_t port;
	bool found;
	unsigned i;
	int rc = 0;

	if (rank == CAIRN_RANK_NONE || strlen(uri) >= GRP_URI_LEN ||
	    cairn_net_uri_parse(uri, host, sizeof(host), &port) != 0) {
		CAIRN_ERROR("group %s: bad URI '%s' for rank %u (expected tcp://host:port)",
		            g->name, uri, rank);
		return -CAIRN_ERR_INVAL;
	}
	pthread_mutex_lock(&g->lock);
	i = grp_find(g, rank, &found);
	if (found) {
		if (mode == 0)
			rc = -CAIRN_ERR_EXIST;
		else
			snprintf(g->m[i].uri, GRP_URI_LEN, "%s", uri);
		goto out;
	}
	if (g->n == g->cap) {
		unsigned ncap = g->cap ? g->cap * 2 : 16;
		struct grp_member *nm = realloc(g->m, ncap * sizeof(*nm));

		if (nm == NULL) {
			rc = -CAIRN_ERR_NOMEM;
			goto out;
		}
		g->m = nm;
		g->cap = ncap;
	}
	memmove(&g->m[i + 1], &g->m[i], (g->n - i) * sizeof(*g->m));
	g->m[i].rank = rank;
	snprintf(g->m[i].uri, GRP_URI_LEN, "%s", uri);
	g->n++;
out:
	pthread_mutex_unlock(&g->lock);
	return rc;
}

int
cairn_net_group_rank_add(struct cairn_net_group *grp, uint32_t rank, const char *uri)
{
	return grp_put(grp, rank, uri, 0);
}

int
cairn_net_group_rank_set(struct cairn_net_group *grp, uint32_t rank, const char *uri)
{
	return grp_put(grp, rank, uri, 1);
}

int
cairn_net_group_rank_remove(struct cairn_net_group *grp, uint32_t rank)
{
	bool found;
	unsigned i;

	pthread_mutex_lock(&grp->lock);
	i = grp_find(grp, rank, &found);
	if (found) {
		memmove(&grp->m[i], &grp->m[i + 1], (grp->n - i - 1) * sizeof(*grp->m));
		grp->n--;
	}
	pthread_mutex_unlock(&grp->lock);
	return found ? 0 : -CAIRN_ERR_NONEXIST;
}

int
cairn_net_group_attach(struct cairn_net_group *grp, const char *const *uris, unsigned n)
{
	unsigned i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = cairn_net_group_rank_set(grp, i, uris[i]);
		if (rc)
			return rc;
	}
	return 0;
}

unsigned
cairn_net_group_size(struct cairn_net_group *grp)
{
	unsigned n;

	pthread_mutex_lock(&grp->lock);
	n = grp->n;
	pthread_mutex_unlock(&grp->lock);
	return n;
}

unsigned
cairn_net_group_ranks(struct cairn_net_group *grp, uint32_t *ranks, unsigned max)
{
	unsigned i, n;

	pthread_mutex_lock(&grp->lock);
	n = grp->n;
	for (i = 0; i < n && i < max; i++)
		ranks[i] = grp->m[i].rank;
	pthread_mutex_unlock(&grp->lock);
	return n;
}

int
cairn_net_group_uri(struct cairn_net_group *grp, uint32_t rank, char *buf, size_t len)
{
	bool found;
	unsigned i;
	int rc = 0;

	pthread_mutex_lock(&grp->lock);
	i = grp_find(grp, rank, &found);
	if (!found)
		rc = -CAIRN_ERR_NONEXIST;
	else if ((size_t)snprintf(buf, len, "%s", grp->m[i].uri) >= len)
		rc = -CAIRN_ERR_TRUNC;
	pthread_mutex_unlock(&grp->lock);
	return rc;
}

int
net_group_lookup(struct cairn_net_group *grp, uint32_t rank, char *host, size_t hlen,
                 uint16_t *port)
{
	char uri[GRP_URI_LEN];
	int rc;

	rc = cairn_net_group_uri(grp, rank, uri, sizeof(uri));
	if (rc)
		return rc;
	return cairn_net_uri_parse(uri, host, hlen, port);
}
