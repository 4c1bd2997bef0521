/*
 * iSCSI configuration registry: portal groups (listeners), initiator groups (ACLs),
 * CHAP auth groups, target nodes (SCSI devices with LUNs), discovery auth, and their
 * JSON listings and replayable config. One mutex guards the registry; the data path
 * only touches it at login.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#define CAIRN_LOG_SS CAIRN_SS_ISCSI
#include "cairn/errno.h"
#include "common/log.h"
#include "iscsi_internal.h"
#include "rt/rt.h"

struct iscsi_globals g_iscsi = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.portal_grps = CAIRN_LIST_HEAD_INIT(g_iscsi.portal_grps),
	.init_grps = CAIRN_LIST_HEAD_INIT(g_iscsi.init_grps),
	.auth_grps = CAIRN_LIST_HEAD_INIT(g_iscsi.auth_grps),
	.tgt_nodes = CAIRN_LIST_HEAD_INIT(g_iscsi.tgt_nodes),
	.sessions = CAIRN_LIST_HEAD_INIT(g_iscsi.sessions),
	.next_tsih = 1,
	.discovery_auth = {.disable_chap = false},
};

void
cairn_iscsi_opts_default(struct cairn_iscsi_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->opts_size = sizeof(*o);
	o->node_base = "iqn.2016-06.io.cairn";
	o->max_sessions = 1024;
	o->max_connections = 16384;
	o->max_conns_per_session = 4;
	o->max_queue_depth = 128;
	o->max_recv_dsl = 262144;
	o->first_burst = 65536;
	o->max_burst = 1048576;
	o->max_r2t = 16;
	o->immediate_data = true;
	o->initial_r2t = false;
	o->allow_digests = true;
	o->login_timeout_ms = 15000;
	o->nop_in_interval_s = 30;
	o->nop_in_timeout_s = 30;
	o->default_time2wait = 2;
	o->default_time2retain = 20;
	o->nr_poll_groups = 0;
	o->task_buf_pool_bytes = 8ull * 1024 * 1024;
}

static char g_node_base[128];

int
cairn_iscsi_init(const struct cairn_iscsi_opts *opts)
{
	struct cairn_iscsi_opts o;
	struct iscsi_param_limits *l = &g_iscsi.limits;
	int rc;

	if (g_iscsi.initialized)
		return -CAIRN_ERR_ALREADY;
	cairn_iscsi_opts_default(&o);
	if (opts) {
		size_t n = opts->opts_size < sizeof(o) ? opts->opts_size : sizeof(o);

		if (n < sizeof(size_t)) {
			CAIRN_ERROR("cairn_iscsi_init: opts_size not set");
			return -CAIRN_ERR_INVAL;
		}
		memcpy(&o, opts, n);
		o.opts_size = sizeof(o);
	}
	if (!o.node_base || strlen(o.node_base) >= sizeof(g_node_base) ||
	    o.max_queue_depth < 1 || o.max_queue_depth > 4096 || o.max_recv_dsl < 512 ||
	    o.max_recv_dsl > 16777215 || o.max_burst < 512 || o.max_burst > 16777215 ||
	    o.first_burst < 512 || o.first_burst > o.max_burst || o.max_r2t < 1 ||
	    o.max_conns_per_session < 1 || o.max_conns_per_session > 64 ||
	    o.max_connections < 1 || o.max_sessions < 1 || o.login_timeout_ms < 10 ||
	    o.task_buf_pool_bytes > (1ull << 40)) {
		CAIRN_ERROR("cairn_iscsi_init: invalid options (queue depth 1..4096, "
			    "data lengths 512..16777215 with first_burst <= max_burst)");
		return -CAIRN_ERR_INVAL;
	}
	if (!cairn_rt_running()) {
		CAIRN_ERROR("cairn_iscsi_init: the runtime is not running");
		return -CAIRN_ERR_INVAL;
	}
	snprintf(g_node_base, sizeof(g_node_base), "%s", o.node_base);
	o.node_base = g_node_base;
	g_iscsi.opts = o;
	iscsi_param_limits_default(l);
	l->max_recv_dsl = o.max_recv_dsl;
	l->first_burst = o.first_burst;
	l->max_burst = o.max_burst;
	l->immediate_data = o.immediate_data;
	l->initial_r2t = o.initial_r2t;
	l->max_outstanding_r2t = o.max_r2t;
	l->time2wait = o.default_time2wait;
	l->time2retain = o.default_time2retain;
	l->max_connections = o.max_conns_per_session;
	l->allow_digests = o.allow_digests;
	memset(&g_iscsi.discovery_auth, 0, sizeof(g_iscsi.discovery_auth));
	rc = iscsi_pg_start_all();
	if (rc)
		return rc;
	g_iscsi.initialized = true;
	return 0;
}

static void tgt_node_destroy(struct iscsi_tgt_node *node);
static void portal_grp_free(struct iscsi_portal_grp *pg);
static void init_grp_free(struct iscsi_init_grp *ig);

void
cairn_iscsi_fini(void)
{
	struct cairn_list *n;

	if (!g_iscsi.initialized)
		return;
	/* Listeners first so nobody new logs in, then every connection. */
	pthread_mutex_lock(&g_iscsi.lock);
	while ((n = cairn_list_pop(&g_iscsi.portal_grps)))
		portal_grp_free(cairn_container_of(n, struct iscsi_portal_grp, link));
	pthread_mutex_unlock(&g_iscsi.lock);
	iscsi_pg_stop_all();
	pthread_mutex_lock(&g_iscsi.lock);
	while ((n = cairn_list_pop(&g_iscsi.tgt_nodes))) {
		struct iscsi_tgt_node *node = cairn_container_of(n, struct iscsi_tgt_node, link);

		node->deleted = true;
		pthread_mutex_unlock(&g_iscsi.lock);
		if (__atomic_load_n(&node->refs, __ATOMIC_ACQUIRE) > 1)
			CAIRN_WARN("target node %s still referenced at shutdown", node->name);
		iscsi_tgt_node_put(node);
		pthread_mutex_lock(&g_iscsi.lock);
	}
	while ((n = cairn_list_pop(&g_iscsi.init_grps)))
		init_grp_free(cairn_container_of(n, struct iscsi_init_grp, link));
	while ((n = cairn_list_pop(&g_iscsi.auth_grps)))
		free(cairn_container_of(n, struct iscsi_auth_grp, link));
	pthread_mutex_unlock(&g_iscsi.lock);
	g_iscsi.initialized = false;
}

/* ------------------------------------------------------------------ portal groups */

static struct iscsi_portal_grp *
portal_grp_find(uint32_t tag)
{
	struct cairn_list *it;

	for (it = g_iscsi.portal_grps.next; it != &g_iscsi.portal_grps; it = it->next) {
		struct iscsi_portal_grp *pg = cairn_container_of(it, struct iscsi_portal_grp, link);

		if (pg->tag == tag)
			return pg;
	}
	return NULL;
}

static int
listener_open(struct iscsi_listener *l)
{
	struct addrinfo hints, *res = NULL;
	char host[64];
	size_t hl;
	int fd, one = 1, rc;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	snprintf(host, sizeof(host), "%s", l->portal.host);
	hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	rc = getaddrinfo(host, l->portal.port, &hints, &res);
	if (rc || !res) {
		CAIRN_ERROR("portal %s:%s: not a numeric address/port (%s)", l->portal.host,
			    l->portal.port, gai_strerror(rc));
		return -CAIRN_ERR_INVAL;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		freeaddrinfo(res);
		return rc;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1024)) {
		rc = -errno;
		CAIRN_ERROR("portal %s:%s: %s", l->portal.host, l->portal.port, strerror(errno));
		close(fd);
		freeaddrinfo(res);
		return rc;
	}
	freeaddrinfo(res);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		uint16_t port = ss.ss_family == AF_INET6 ?
					ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
					ntohs(((struct sockaddr_in *)&ss)->sin_port);

		snprintf(l->portal.port, sizeof(l->portal.port), "%u", port);
	}
	l->fd = fd;
	return 0;
}

static void
portal_grp_free(struct iscsi_portal_grp *pg)
{
	unsigned i;

	for (i = 0; i < pg->n; i++)
		if (pg->listeners[i])
			iscsi_acceptor_remove(pg->listeners[i]);
	free(pg);
}

int
cairn_iscsi_portal_grp_create(uint32_t tag, const struct cairn_iscsi_portal *portals, unsigned n)
{
	struct iscsi_portal_grp *pg;
	unsigned i;
	int rc;

	if (!g_iscsi.initialized)
		return -CAIRN_ERR_SHUTDOWN;
	if (tag < 1 || tag > 65535 || !portals || n < 1 || n > CAIRN_ISCSI_MAX_PORTALS)
		return -CAIRN_ERR_INVAL;
	pg = calloc(1, sizeof(*pg));
	if (!pg)
		return -CAIRN_ERR_NOMEM;
	pg->tag = tag;
	pthread_mutex_lock(&g_iscsi.lock);
	if (portal_grp_find(tag)) {
		pthread_mutex_unlock(&g_iscsi.lock);
		free(pg);
		return -CAIRN_ERR_EXIST;
	}
	for (i = 0; i < n; i++) {
		struct iscsi_listener *l = calloc(1, sizeof(*l));

		if (!l) {
			rc = -CAIRN_ERR_NOMEM;
			goto err_close;
		}
		l->fd = -1;
		l->pg_tag = tag;
		if (memchr(portals[i].host, '\0', sizeof(portals[i].host)) == NULL ||
		    memchr(portals[i].port, '\0', sizeof(portals[i].port)) == NULL) {
			free(l);
			rc = -CAIRN_ERR_INVAL;
			goto err_close;
		}
		l->portal = portals[i];
		rc = listener_open(l);
		if (rc) {
			free(l);
			goto err_close;
		}
		pg->listeners[pg->n++] = l;
	}
	for (i = 0; i < pg->n; i++)
		iscsi_acceptor_add(pg->listeners[i]);
	cairn_list_add_tail(&pg->link, &g_iscsi.portal_grps);
	pthread_mutex_unlock(&g_iscsi.lock);
	return 0;

err_close:
	for (i = 0; i < pg->n; i++) {
		close(pg->listeners[i]->fd);
		free(pg->listeners[i]);
	}
	pthread_mutex_unlock(&g_iscsi.lock);
	free(pg);
	return rc;
}

static bool
pg_in_use(uint32_t tag, bool ig)
{
	struct cairn_list *it;
	unsigned i;

	for (it = g_iscsi.tgt_nodes.next; it != &g_iscsi.tgt_nodes; it = it->next) {
		struct iscsi_tgt_node *node = cairn_container_of(it, struct iscsi_tgt_node, link);

		for (i = 0; i < node->nmaps; i++)
			if ((ig ? node->maps[i].ig_tag : node->maps[i].pg_tag) == tag)
				return true;
	}
	return false;
}

int
cairn_iscsi_portal_grp_delete(uint32_t tag)
{
	struct iscsi_portal_grp *pg;

	pthread_mutex_lock(&g_iscsi.lock);
	pg = portal_grp_find(tag);
	if (!pg) {
		pthread_mutex_unlock(&g_iscsi.lock);
		return -CAIRN_ERR_NONEXIST;
	}
	if (pg_in_use(tag, false)) {
		pthread_mutex_unlock(&g_iscsi.lock);
		return -CAIRN_ERR_BUSY;
	}
	cairn_list_del(&pg->link);
	portal_grp_free(pg);
	pthread_mutex_unlock(&g_iscsi.lock);
	return 0;
}

int
cairn_iscsi_portal_grp_port(uint32_t tag, unsigned idx, uint16_t *port)
{
	struct iscsi_portal_grp *pg;
	uint64_t v = 0;
	int rc = -CAIRN_ERR_NONEXIST;

	pthread_mutex_lock(&g_iscsi.lock);
	pg = portal_grp_find(tag);
	if (pg && idx < pg->n && iscsi_parse_number(pg->listeners[idx]->portal.port, 65535,
						    &v) == 0) {
		*port = (uint16_t)v;
		rc = 0;
	}
	pthread_mutex_unlock(&g_iscsi.lock);
	return rc;
}

/* ------------------------------------------------------------------ initiator groups */

static struct iscsi_init_grp *
init_grp_find(uint32_t tag)
{
	struct cairn_list *it;

	for (it = g_iscsi.init_grps.next; it != &g_iscsi.init_grps; it = it->next) {
		struct iscsi_init_grp *ig = cairn_container_of(it, struct iscsi_init_grp, link);

		if (ig->tag == tag)
			return ig;
	}
	return NULL;
}

static void
init_grp_free(struct iscsi_init_grp *ig)
{
	unsigned i;

	for (i = 0; i < ig->ni; i++)
		free(ig->initiators[i]);
	for (i = 0; i < ig->nn; i++)
		free(ig->netmask_str[i]);
	free(ig);
}

static int
netmask_parse(const char *s, struct iscsi_netmask *m)
{
	char addr[64];
	const char *slash;
	size_t al;
	uint64_t prefix;

	memset(m, 0, sizeof(*m));
	if (strcasecmp(s, "ANY") == 0) {
		m->any = true;
		return 0;
	}
	slash = strchr(s, '/');
	al = slash ? (size_t)(slash - s) : strlen(s);
	if (al == 0 || al >= sizeof(addr))
		return -CAIRN_ERR_INVAL;
	memcpy(addr, s, al);
	addr[al] = '\0';
	if (addr[0] == '[' && al >= 2 && addr[al - 1] == ']') {
		memmove(addr, addr + 1, al - 2);
		addr[al - 2] = '\0';
	}
	if (inet_pton(AF_INET, addr, m->addr) == 1) {
		m->family = AF_INET;
		m->prefix = 32;
	} else if (inet_pton(AF_INET6, addr, m->addr) == 1) {
		m->family = AF_INET6;
		m->prefix = 128;
	} else {
		return -CAIRN_ERR_INVAL;
	}
	if (slash) {
		if (iscsi_parse_number(slash + 1, m->prefix, &prefix))
			return -CAIRN_ERR_INVAL;
		m->prefix = (unsigned)prefix;
	}
	return 0;
}

static bool
netmask_match(const struct iscsi_netmask *m, const struct sockaddr_storage *peer)
{
	const uint8_t *a;
	uint8_t v4mapped[16];
	unsigned bits, i;

	if (m->any)
		return true;
	if (peer->ss_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)peer)->sin_addr;
		if (m->family != AF_INET)
			return false;
	} else if (peer->ss_family == AF_INET6) {
		a = (const uint8_t *)&((const struct sockaddr_in6 *)peer)->sin6_addr;
		if (m->family == AF_INET) {
			/* ::ffff:a.b.c.d matches an IPv4 mask */
			static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

			if (memcmp(a, pfx, 12))
				return false;
			memcpy(v4mapped, a + 12, 4);
			a = v4mapped;
		}
	} else {
		return false;
	}
	bits = m->prefix;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (a[i] != m->addr[i])
			return false;
	if (bits) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));

		if ((a[i] & mask) != (m->addr[i] & mask))
			return false;
	}
	return true;
}

static bool
name_pattern_ok(const char *s)
{
	size_t l = strlen(s);

	return l > 0 && l < CAIRN_ISCSI_NAME_MAX;
}

int
cairn_iscsi_init_grp_create(uint32_t tag, const char *const *initiators, unsigned ni,
			    const char *const *netmasks, unsigned nn)
{
	struct iscsi_init_grp *ig;
	unsigned i;

	if (tag < 1 || tag > 65535 || ni < 1 || nn < 1 || ni > CAIRN_ISCSI_MAX_IG_ENTRIES ||
	    nn > CAIRN_ISCSI_MAX_IG_ENTRIES || !initiators || !netmasks)
		return -CAIRN_ERR_INVAL;
	ig = calloc(1, sizeof(*ig));
	if (!ig)
		return -CAIRN_ERR_NOMEM;
	ig->tag = tag;
	for (i = 0; i < ni; i++) {
		if (!initiators[i] || !name_pattern_ok(initiators[i])) {
			CAIRN_ERROR("initiator group %u: bad initiator name", tag);
			goto err;
		}
		ig->initiators[ig->ni] = strdup(initiators[i]);
		if (!ig->initiators[ig->ni])
			goto err;
		ig->ni++;
	}
	for (i = 0; i < nn; i++) {
		if (!netmasks[i] || netmask_parse(netmasks[i], &ig->netmasks[i])) {
			CAIRN_ERROR("initiator group %u: bad netmask '%s' (ANY, addr or addr/len)",
				    tag, netmasks[i] ? netmasks[i] : "(null)");
			goto err;
		}
		ig->netmask_str[ig->nn] = strdup(netmasks[i]);
		if (!ig->netmask_str[ig->nn])
			goto err;
		ig->nn++;
	}
	pthread_mutex_lock(&g_iscsi.lock);
	if (init_grp_find(tag)) {
		pthread_mutex_unlock(&g_iscsi.lock);
		init_grp_free(ig);
		return -CAIRN_ERR_EXIST;
	}
	cairn_list_add_tail(&ig->link, &g_iscsi.init_grps);
	pthread_mutex_unlock(&g_iscsi.lock);
	return 0;
err:
	init_grp_free(ig);
	return -CAIRN_ERR_INVAL;
}

int
cairn_iscsi_init_grp_delete(uint32_t tag)
{
	struct iscsi_init_grp *ig;

	pthread_mutex_lock(&g_iscsi.lock);
	ig = init_grp_find(tag);
	if (!ig) {
		pthread_mutex_unlock(&g_iscsi.lock);
		return -CAIRN_ERR_NONEXIST;
	}
	if (pg_in_use(tag, true)) {
		pthread_mutex_unlock(&g_iscsi.lock);
		return -CAIRN_ERR_BUSY;
	}
	cairn_list_del(&ig->link);
	pthread_mutex_unlock(&g_iscsi.lock);
	init_grp_free(ig);
	return 0;
}

static bool
init_grp_allows(const struct iscsi_init_grp *ig, const char *initiator,
		const struct sockaddr_storage *peer)
{
	bool name_ok = false, addr_ok = false;
	unsigned i;

	for (i = 0; i < ig->ni; i++) {
		const char *p = ig->initiators[i];
		size_t pl = strlen(p);

		if (p[0] == '!') {
			if (strcasecmp(p + 1, initiator) == 0)
				return false;
			continue;
		}
		if (strcasecmp(p, "ANY") == 0 || strcasecmp(p, initiator) == 0)
			name_ok = true;
		else if (pl > 1 && p[pl - 1] == '*' && strncasecmp(p, initiator, pl - 1) == 0)
			name_ok = true;
	}
	for (i = 0; i < ig->nn; i++)
		if (netmask_match(&ig->netmasks[i], peer))
			addr_ok = true;
	return name_ok && addr_ok;
}

bool
iscsi_tgt_node_access(struct iscsi_tgt_node *node, uint32_t pg_tag, const char *initiator,
		      const struct sockaddr_storage *peer)
{
	unsigned i;

	for (i = 0; i < node->nmaps; i++) {
		struct iscsi_init_grp *ig;

		if (node->maps[i].pg_tag != pg_tag)
			continue;
		ig = init_grp_find(node->maps[i].ig_tag);
		if (ig && init_grp_allows(ig, initiator, peer))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ auth groups */

static struct iscsi_auth_grp *
auth_grp_find(uint32_t tag)
{
	struct cairn_list *it;

	for (it = g_iscsi.auth_grps.next; it != &g_iscsi.auth_grps; it = it->next) {
		struct iscsi_auth_grp *ag = cairn_container_of(it, struct iscsi_auth_grp, link);

		if (ag->tag == tag)
			return ag;
	}
	return NULL;
}

static bool
str_fits(const char *s, size_t max)
{
	return s && strlen(s) <= max;
}

int
cairn_iscsi_auth_group_create(uint32_t tag, const struct cairn_iscsi_chap_secret *secrets,
			      unsigned n)
{
	struct iscsi_auth_grp *ag;
	unsigned i, j;

	if (tag < 1 || tag > 65535 || n > CAIRN_ISCSI_MAX_SECRETS || (n && !secrets))
		return -CAIRN_ERR_INVAL;
	ag = calloc(1, sizeof(*ag));
	if (!ag)
		return -CAIRN_ERR_NOMEM;
	ag->tag = tag;
	for (i = 0; i < n; i++) {
		const struct cairn_iscsi_chap_secret *s = &secrets[i];
		struct iscsi_chap_secret *d = &ag->secrets[i];

		if (!str_fits(s->user, ISCSI_CHAP_NAME_MAX) || !*s->user ||
		    !str_fits(s->secret, ISCSI_CHAP_SECRET_MAX) || !*s->secret ||
		    (s->muser && !str_fits(s->muser, ISCSI_CHAP_NAME_MAX)) ||
		    (s->msecret && !str_fits(s->msecret, ISCSI_CHAP_SECRET_MAX)) ||
		    (!s->muser != !s->msecret)) {
			CAIRN_ERROR("auth group %u: secret %u: user and secret are required, "
				    "muser and msecret go together (<= 255 chars each)", tag, i);
			free(ag);
			return -CAIRN_ERR_INVAL;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(ag->secrets[j].user, s->user) == 0) {
				CAIRN_ERROR("auth group %u: user '%s' twice", tag, s->user);
				free(ag);
				return -CAIRN_ERR_INVAL;
			}
		}
		snprintf(d->user, sizeof(d->user), "%s", s->user);
		snprintf(d->secret, sizeof(d->secret), "%s", s->secret);
		if (s->muser) {
			snprintf(d->muser, sizeof(d->muser), "%s", s->muser);
			snprintf(d->msecret, sizeof(d->msecret), "%s", s->msecret);
		}
	}
	ag->n = n;
	pthread_mutex_lock(&g_iscsi.lock);
	if (auth_grp_find(tag)) {
		pthread_mutex_unlock(&g_iscsi.lock);
		free(ag);
		return -CAIRN_ERR_EXIST;
	}
	cairn_list_add_tail(&ag->link, &g_iscsi.auth_grps);
	pthread_mutex_unlock(&g_iscsi.lock);
	return 0;
}

int
cairn_iscsi_auth_group_delete(uint32_t tag)
{
	struct iscsi_auth_grp *ag;
	struct cairn_list *it;

	pthread_mutex_lock(&g_iscsi.lock);
	ag = auth_grp_find(tag);
	if (!ag) {
		pthread_mutex_unlock(&g_iscsi.lock);
		return -CAIRN_ERR_NONEXIST;
	}
	if (g_iscsi.discovery_auth.chap_group == tag)
		goto busy;
	for (it = g_iscsi.tgt_nodes.next; it != &g_iscsi.tgt_nodes; it = it->next)
		if (cairn_container_of(it, struct iscsi_tgt_node, link)->auth.chap_group == tag)
			goto busy;
	cairn_list_del(&ag->link);
	pthread_mutex_unlock(&g_iscsi.lock);
	free(ag);
	return 0;
busy:
	pthread_mutex_unlock(&g_iscsi.lock);
	return -CAIRN_ERR_BUSY;
}

/* arg: the auth group tag (as uintptr_t). Takes the registry lock itself. */
int
iscsi_chap_lookup(void *arg, const char *user, struct iscsi_chap_secret *out)
{
	uint32_t tag = (uint32_t)(uintptr_t)arg;
	struct iscsi_auth_grp *ag;
	unsigned i;
	int rc = -CAIRN_ERR_NONEXIST;

	pthread_mutex_lock(&g_iscsi.lock);
	ag = auth_grp_find(tag);
	for (i = 0; ag && i < ag->n; i++) {
		if (strcmp(ag->secrets[i].user, user) == 0) {
			*out = ag->secrets[i];
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&g_iscsi.lock);
	return rc;
}

static int
auth_cfg_check(const struct iscsi_auth_cfg *a)
{
	if (a->disable_chap && a->require_chap)
		return -CAIRN_ERR_INVAL;
	if (a->mutual_chap && !a->require_chap)
		return -CAIRN_ERR_INVAL;
	if (a->chap_group > 65535)
		return -CAIRN_ERR_INVAL;
	return 0;
}

int
cairn_iscsi_set_discovery_auth(bool disable_chap, bool require_chap, bool mutual_chap,
			       uint32_t chap_group)
{
	struct iscsi_auth_cfg a = {disable_chap, require_chap, mutual_chap, chap_group};

	if (auth_cfg_check(&a)) {
		CAIRN_ERROR("discovery auth: disable_chap and require_chap are exclusive; "
			    "mutual_chap needs require_chap");
		return -CAIRN_ERR_INVAL;
	}
	pthread_mutex_lock(&g_iscsi.lock);
	if (chap_group && !auth_grp_find(chap_group)) {
		pthread_mutex_unlock(&g_iscsi.lock);
		return -CAIRN_ERR_NONEXIST;
	}
	g_iscsi.discovery_auth = a;
	pthread_mutex_unlock(&g_iscsi.lock);
	return 0;
}

/* ------------------------------------------------------------------ target nodes */

struct iscsi_tgt_node *
iscsi_tgt_node_find(const char *name)
{
	struct cairn_list *it;

	for (it = g_iscsi.tgt_nodes.next; it != &g_iscsi.tgt_nodes; it = it->next) {
		struct iscsi_tgt_node *node = cairn_container_of(it, struct iscsi_tgt_node, link);

		if (strcasecmp(node->name, name) == 0)
			return node;
	}
	return NULL;
}

static void
tgt_node_destroy(struct iscsi_tgt_node *node)
{
	cairn_scsi_dev_destroy(node->dev);
	free(node);
}

void
iscsi_tgt_node_put(struct iscsi_tgt_node *node)
{
	if (__atomic_sub_fetch(&node->refs, 1, __ATOMIC_ACQ_REL) == 0)
		tgt_node_destroy(node);
}

static bool
iscsi_name_valid(const char *n)
{
	size_t l = strlen(n), i;

	if (l == 0 || l >= CAIRN_ISCSI_NAME_MAX)
		return false;
	for (i = 0; i < l; i++) {
		char c = n[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    c != '.' && c != '-' && c != ':')
			return false;
	}
	if (strncasecmp(n, "iqn.", 4) == 0)
		return l > 4;
	if (strncasecmp(n, "eui.", 4) == 0)
		return l == 20;
	if (strncasecmp(n, "naa.", 4) == 0)
		return l == 20 || l == 36;
	return false;
}

int
cairn_iscsi_tgt_node_create(const struct cairn_iscsi_tgt_node_opts *o)
{
	struct iscsi_tgt_node *node;
	char name[CAIRN_ISCSI_NAME_MAX + 8];
	unsigned i;
	int rc;

	if (!g_iscsi.initialized)
		return -CAIRN_ERR_SHUTDOWN;
	if (!o || o->opts_size < offsetof(struct cairn_iscsi_tgt_node_opts, data_digest) + 1 ||
	    !o->name || !o->maps || o->nmaps < 1 || o->nmaps > CAIRN_ISCSI_MAX_PG_IG_MAPS ||
	    !o->luns || o->nluns < 1 || o->nluns > CAIRN_SCSI_MAX_LUNS ||
	    o->queue_depth > g_iscsi.opts.max_queue_depth)
		return -CAIRN_ERR_INVAL;
	if (strncasecmp(o->name, "iqn.", 4) && strncasecmp(o->name, "eui.", 4) &&
	    strncasecmp(o->name, "naa.", 4))
		snprintf(name, sizeof(name), "%s:%s", g_iscsi.opts.node_base, o->name);
	else
		snprintf(name, sizeof(name), "%s", o->name);
	if (!iscsi_name_valid(name)) {
		CAIRN_ERROR("target node '%s': not a valid iSCSI name (iqn./eui./naa., "
			    "[a-z0-9.-:], < 224 bytes)", name);
		return -CAIRN_ERR_INVAL;
	}
	if (o->alias && strlen(o->alias) >= CAIRN_ISCSI_NAME_MAX)
		return -CAIRN_ERR_INVAL;
	node = calloc(1, sizeof(*node));
	if (!node)
		return -CAIRN_ERR_NOMEM;
	snprintf(node->name, sizeof(node->name), "%s", name);
	if (o->alias)
		snprintf(node->alias, sizeof(node->alias), "%s", o->alias);
	node->nmaps = o->nmaps;
	memcpy(node->maps, o->maps, o->nmaps * sizeof(o->maps[0]));
	node->queue_depth = o->queue_depth ? o->queue_depth : g_iscsi.opts.max_queue_depth;
	node->auth.disable_chap = o->disable_chap;
	node->auth.require_chap = o->require_chap;
	node->auth.mutual_chap = o->mutual_chap;
	node->auth.chap_group = o->chap_group;
	node->header_digest = o->header_digest;
	node->data_digest = o->data_digest;
	node->refs = 1;
	if (auth_cfg_check(&node->auth)) {
		CAIRN_ERROR("target node %s: disable_chap and require_chap are exclusive; "
			    "mutual_chap needs require_chap", name);
		rc = -CAIRN_ERR_INVAL;
		goto err_free;
	}
	rc = cairn_scsi_dev_create(node->name, &node->dev);
	if (rc)
		goto err_free;
	for (i = 0; i < o->nluns; i++) {
		int id = o->luns[i].lun_id;

		if (id < 0) {
			for (id = 0; id < CAIRN_SCSI_MAX_LUNS; id++)
				if (!cairn_scsi_dev_get_lun(node->dev, (unsigned)id))
					break;
		}
		if (!o->luns[i].bdev_name || id >= CAIRN_SCSI_MAX_LUNS) {
			rc = -CAIRN_ERR_INVAL;
			goto err_dev;
		}
		rc = cairn_scsi_dev_add_lun(node->dev, (unsigned)id, o->luns[i].bdev_name);
		if (rc) {
			CAIRN_ERROR("target node %s: LUN %d on bdev %s: %s", name, id,
				    o->luns[i].bdev_name, cairn_strerror(rc));
			goto err_dev;
		}
	}
	pthread_mutex_lock(&g_iscsi.lock);
	if (iscsi_tgt_node_find(node->name)) {
		rc = -CAIRN_ERR_EXIST;
		goto err_unlock;
	}
	for (i = 0; i < node->nmaps; i++) {
		if (!portal_grp_find(node->maps[i].pg_tag) ||
		    !init_grp_find(node->maps[i].ig_tag)) {
			CAIRN_ERROR("target node %s: portal group %u or initiator group %u does "
				    "not exist", name, node->maps[i].pg_tag, node->maps[i].ig_tag);
			rc = -CAIRN_ERR_NONEXIST;
			goto err_unlock;
		}
	}
	if (node->auth.chap_group && !auth_grp_find(node->auth.chap_group)) {
		rc = -CAIRN_ERR_NONEXIST;
		goto err_unlock;
	}
	cairn_list_add_tail(&node->link, &g_iscsi.tgt_nodes);
	pthread_mutex_unlock(&g_iscsi.lock);
	return 0;

err_unlock:
	pthread_mutex_unlock(&g_iscsi.lock);
err_dev:
	cairn_scsi_dev_destroy(node->dev);
err_free:
	free(node);
	return rc;
}

int
cairn_iscsi_tgt_node_add_lun(const char *name, const char *bdev_name, int lun_id)
{
	struct iscsi_tgt_node *node;
	int rc;

	if (!name || !bdev_name || lun_id >= CAIRN_SCSI_MAX_LUNS)
		return -CAIRN_ERR_INVAL;
	pthread_mutex_lock(&g_iscsi.lock);
	node = iscsi_tgt_node_find(name);
	if (!node) {
		char full[CAIRN_ISCSI_NAME_MAX + 8];

		snprintf(full, sizeof(full), "%s:%s", g_iscsi.opts.node_base, name);
		node = iscsi_tgt_node_find(full);
	}
	if (!node) {
		pthread_mutex_unlock(&g_iscsi.lock);
		return -CAIRN_ERR_NONEXIST;
	}
	if (lun_id < 0) {
		for (lun_id = 0; lun_id < CAIRN_SCSI_MAX_LUNS; lun_id++)
			if (!cairn_scsi_dev_get_lun(node->dev, (unsigned)lun_id))
				break;
		if (lun_id == CAIRN_SCSI_MAX_LUNS) {
			pthread_mutex_unlock(&g_iscsi.lock);
			return -CAIRN_ERR_NOSPACE;
		}
	}
	rc = cairn_scsi_dev_add_lun(node->dev, (unsigned)lun_id, bdev_name);
	pthread_mutex_unlock(&g_iscsi.lock);
	return rc;
}

struct sess_close_msg {
	uint16_t tsih;
};

static void
sess_close_msg(void *arg)
{
	struct sess_close_msg *m = arg;
	struct cairn_list *it;
	struct iscsi_sess *found = NULL;

	pthread_mutex_lock(&g_iscsi.lock);
	for (it = g_iscsi.sessions.next; it != &g_iscsi.sessions; it = it->next) {
		struct iscsi_sess *s = cairn_container_of(it, struct iscsi_sess, link);

		if (s->tsih == m->tsih) {
			found = s;
			break;
		}
	}
	pthread_mutex_unlock(&g_iscsi.lock);
	if (found)
		iscsi_sess_close(found, "target node deleted");
	free(m);
}

int
cairn_iscsi_tgt_node_delete(const char *name)
{
	struct iscsi_tgt_node *node;
	struct cairn_list *it;
	uint64_t start;

	if (!name)
		return -CAIRN_ERR_INVAL;
	pthread_mutex_lock(&g_iscsi.lock);
	node = iscsi_tgt_node_find(name);
	if (!node) {
		char full[CAIRN_ISCSI_NAME_MAX + 8];

		snprintf(full, sizeof(full), "%s:%s", g_iscsi.opts.node_base, name);
		node = iscsi_tgt_node_find(full);
	}
	if (!node) {
		pthread_mutex_unlock(&g_iscsi.lock);
		return -CAIRN_ERR_NONEXIST;
	}
	node->deleted = true;
	cairn_list_del(&node->link);
	for (it = g_iscsi.sessions.next; it != &g_iscsi.sessions; it = it->next) {
		struct iscsi_sess *s = cairn_container_of(it, struct iscsi_sess, link);
		struct sess_close_msg *m;

		if (s->node != node)
			continue;
		m = malloc(sizeof(*m));
		if (!m)
			continue;
		m->tsih = s->tsih;
		if (cairn_rt_send_msg(s->pg->xs, sess_close_msg, m))
			free(m);
	}
	pthread_mutex_unlock(&g_iscsi.lock);
	/* Wait (bounded) until the sessions let go, so the bdevs are closed on return. */
	start = cairn_rt_now_us();
	while (__atomic_load_n(&node->refs, __ATOMIC_ACQUIRE) > 1 &&
	       cairn_rt_now_us() - start < 10000000)
		cairn_ult_sleep_us(1000);
	if (__atomic_load_n(&node->refs, __ATOMIC_ACQUIRE) > 1)
		CAIRN_WARN("target node %s: sessions still closing; freed when they finish", name);
	iscsi_tgt_node_put(node);
	return 0;
}

/* ------------------------------------------------------------------ discovery */

static void
addr_for_target(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof(a));
		snprintf(out, cap, "[%s]", a);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, a, sizeof(a));
		snprintf(out, cap, "%s", a);
	}
}

int
iscsi_send_targets(const char *initiator, const struct sockaddr_storage *peer,
		   const struct sockaddr_storage *local, uint32_t pg_tag, const char *only,
		   struct iscsi_textbuf *tb)
{
	struct cairn_list *it;
	unsigned i, j;

	pthread_mutex_lock(&g_iscsi.lock);
	for (it = g_iscsi.tgt_nodes.next; it != &g_iscsi.tgt_nodes; it = it->next) {
		struct iscsi_tgt_node *node = cairn_container_of(it, struct iscsi_tgt_node, link);

		if (only && strcasecmp(only, node->name))
			continue;
		if (!iscsi_tgt_node_access(node, pg_tag, initiator, peer))
			continue;
		iscsi_textbuf_add(tb, "TargetName", "%s", node->name);
		for (i = 0; i < node->nmaps; i++) {
			struct iscsi_portal_grp *pg = portal_grp_find(node->maps[i].pg_tag);
			bool dup = false;

			for (j = 0; j < i; j++)
				if (node->maps[j].pg_tag == node->maps[i].pg_tag)
					dup = true;
			if (!pg || dup)
				continue;
			for (j = 0; j < pg->n; j++) {
				const struct cairn_iscsi_portal *p = &pg->listeners[j]->portal;
				char host[80];

				if (strcmp(p->host, "0.0.0.0") == 0 || strcmp(p->host, "[::]") == 0 ||
				    strcmp(p->host, "::") == 0) {
					/* Wildcard: answer with the address the initiator used. */
					addr_for_target(local, host, sizeof(host));
					iscsi_textbuf_add(tb, "TargetAddress", "%s:%s,%u", host,
							  p->port, pg->tag);
					continue;
				}
				iscsi_textbuf_add(tb, "TargetAddress", "%s:%s,%u", p->host, p->port,
						  pg->tag);
			}
		}
	}
	pthread_mutex_unlock(&g_iscsi.lock);
	return tb->overflow ? -CAIRN_ERR_OVERFLOW : 0;
}
