/*
 * Login phase (RFC 7143 sections 6 and 11.12-11.13): stage transitions, security
 * negotiation (AuthMethod, CHAP one-way and mutual), operational negotiation, target
 * lookup and ACLs, session creation, joining an existing session (MC/S) and session
 * reinstatement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define CAIRN_LOG_SS CAIRN_SS_ISCSI
#include "cairn/errno.h"
#include "common/log.h"
#include "iscsi_internal.h"
#include "rt/rt.h"

#define LOGIN_RSP_MAX 8192

struct login_ctx {
	struct iscsi_conn *conn;
	struct iscsi_login *L;
	struct iscsi_text text;
	struct iscsi_textbuf tb;
	uint16_t status;
	bool transit;
	uint8_t nsg;
	const char *why;
};

void
iscsi_login_free(struct iscsi_conn *conn)
{
	struct iscsi_login *L = conn->login;

	if (!L)
		return;
	if (L->node)
		iscsi_tgt_node_put(L->node);
	free(L->text);
	free(L);
	conn->login = NULL;
}

static void
login_send(struct login_ctx *c, uint8_t flags, uint16_t tsih)
{
	struct iscsi_conn *conn = c->conn;
	struct iscsi_login *L = c->L;
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc(conn);
	uint8_t *h;
	uint32_t qd = 1;

	if (!pdu) {
		iscsi_conn_close(conn, "out of memory");
		return;
	}
	h = pdu->hdr;
	h[0] = ISCSI_OP_LOGIN_RSP;
	h[1] = flags;
	h[2] = 0; /* version max */
	h[3] = 0; /* version active */
	memcpy(h + 8, L->isid, 6);
	iscsi_put_be16(h + 14, tsih);
	iscsi_put_be32(h + 16, L->itt);
	iscsi_put_be32(h + 24, conn->stat_sn++);
	iscsi_put_be32(h + 28, L->cmdsn);
	if (conn->sess)
		qd = conn->sess->queue_depth;
	iscsi_put_be32(h + 32, L->cmdsn + qd - 1);
	h[36] = (uint8_t)(c->status >> 8);
	h[37] = (uint8_t)c->status;
	if (c->status == ISCSI_LS_SUCCESS && c->tb.len) {
		pdu->data = (const uint8_t *)c->tb.buf;
		pdu->data_len = (uint32_t)c->tb.len;
		pdu->owns_data = true;
		c->tb.buf = NULL;
	}
	iscsi_put_be24(h + 5, pdu->data_len);
	iscsi_tx_queue(conn, pdu);
}

static void
login_fail(struct login_ctx *c, uint16_t status, const char *why)
{
	struct iscsi_conn *conn = c->conn;

	CAIRN_LOG_RATELIMIT(CAIRN_SS_ISCSI, CAIRN_LOG_NOTE, 10,
			    "login from %s failed (status 0x%04x): %s", conn->peer_str, status,
			    why);
	c->status = status;
	login_send(c, c->L ? (uint8_t)(c->L->csg << 2) : 0, 0);
	/* Close once the response is out. */
	conn->state = ISCSI_CONN_LOGOUT;
}

/* First login PDU: names, session type, target lookup, ACL. */
static int
login_first(struct login_ctx *c)
{
	struct iscsi_conn *conn = c->conn;
	struct iscsi_login *L = c->L;
	const char *iname = iscsi_text_get(&c->text, "InitiatorName");
	const char *stype = iscsi_text_get(&c->text, "SessionType");
	const char *tname = iscsi_text_get(&c->text, "TargetName");
	const char *alias = iscsi_text_get(&c->text, "InitiatorAlias");
	struct iscsi_tgt_node *node = NULL;

	if (!iname || !*iname || strlen(iname) >= CAIRN_ISCSI_NAME_MAX) {
		login_fail(c, ISCSI_LS_MISSING_PARAM, "InitiatorName missing or too long");
		return -1;
	}
	if (stype && strcmp(stype, "Discovery") && strcmp(stype, "Normal")) {
		login_fail(c, ISCSI_LS_SESSION_TYPE_UNSUPP, "unknown SessionType");
		return -1;
	}
	L->discovery = stype && strcmp(stype, "Discovery") == 0;
	snprintf(conn->initiator_port, sizeof(conn->initiator_port),
		 "%s,i,0x%02x%02x%02x%02x%02x%02x", iname, L->isid[0], L->isid[1], L->isid[2],
		 L->isid[3], L->isid[4], L->isid[5]);
	if (L->discovery) {
		pthread_mutex_lock(&g_iscsi.lock);
		L->auth = g_iscsi.discovery_auth;
		pthread_mutex_unlock(&g_iscsi.lock);
		if (L->tsih) {
			login_fail(c, ISCSI_LS_NO_SESSION, "discovery session with a TSIH");
			return -1;
		}
		return 0;
	}
	if (!tname || !*tname) {
		login_fail(c, ISCSI_LS_MISSING_PARAM, "TargetName missing");
		return -1;
	}
	pthread_mutex_lock(&g_iscsi.lock);
	node = iscsi_tgt_node_find(tname);
	if (!node) {
		pthread_mutex_unlock(&g_iscsi.lock);
		login_fail(c, ISCSI_LS_NOT_FOUND, "no such target");
		return -1;
	}
	if (!iscsi_tgt_node_access(node, conn->pg_tag, iname, &conn->peer)) {
		pthread_mutex_unlock(&g_iscsi.lock);
		login_fail(c, ISCSI_LS_AUTHZ_FAILED, "initiator not allowed by the target's ACL");
		return -1;
	}
	L->auth = node->auth;
	__atomic_add_fetch(&node->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&g_iscsi.lock);
	L->node = node;
	if (alias)
		CAIRN_DEBUG("login from %s (alias %.64s)", iname, alias);
	return 0;
}

static int
login_security(struct login_ctx *c)
{
	struct iscsi_login *L = c->L;
	const char *am = iscsi_text_get(&c->text, "AuthMethod");
	unsigned i;
	int rc;

	if (am && !L->auth_chosen) {
		bool chap_ok = L->auth.chap_group != 0 && !L->auth.disable_chap;
		bool none_ok = !L->auth.require_chap;
		const char *p = am;
		const char *choice = NULL;

		while (*p && !choice) {
			const char *e = strchr(p, ',');
			size_t l = e ? (size_t)(e - p) : strlen(p);

			if (l == 4 && strncmp(p, "CHAP", 4) == 0 && chap_ok)
				choice = "CHAP";
			else if (l == 4 && strncmp(p, "None", 4) == 0 && none_ok)
				choice = "None";
			if (!e)
				break;
			p = e + 1;
		}
		if (!choice) {
			iscsi_textbuf_add(&c->tb, "AuthMethod", "Reject");
			login_fail(c, ISCSI_LS_AUTH_FAILED,
				   L->auth.require_chap ? "CHAP required but not offered" :
							  "no acceptable AuthMethod");
			return -1;
		}
		iscsi_textbuf_add(&c->tb, "AuthMethod", "%s", choice);
		L->auth_chosen = true;
		L->auth_chap = choice[0] == 'C';
		if (!L->auth_chap)
			L->auth_done = true;
		L->chap.mutual_required = L->auth.mutual_chap;
		L->chap.state = ISCSI_CHAP_NONE;
	}
	if (!L->auth_chosen) {
		if (L->auth.require_chap) {
			login_fail(c, ISCSI_LS_AUTH_FAILED, "CHAP required; no AuthMethod offered");
			return -1;
		}
		L->auth_done = true;
	}
	if (L->auth_chap && !L->auth_done) {
		rc = iscsi_chap_step(&L->chap, &c->text, iscsi_chap_lookup,
				     (void *)(uintptr_t)L->auth.chap_group, &c->tb, &c->why);
		if (rc < 0) {
			login_fail(c, ISCSI_LS_AUTH_FAILED, c->why);
			return -1;
		}
		if (rc == 1)
			L->auth_done = true;
	}
	/* Answer what else the initiator sent in this stage. */
	for (i = 0; i < c->text.n; i++) {
		const char *k = c->text.kv[i].key;

		if (!strcmp(k, "AuthMethod") || !strncmp(k, "CHAP_", 5) ||
		    !strcmp(k, "InitiatorName") || !strcmp(k, "TargetName") ||
		    !strcmp(k, "SessionType") || !strcmp(k, "InitiatorAlias"))
			continue;
		rc = iscsi_param_negotiate(&L->params, &g_iscsi.limits, L->discovery, k,
					   c->text.kv[i].val, &c->tb);
		if (rc > 0 || rc < 0) {
			L->offered |= iscsi_param_key_bit(k);
			continue;
		}
		iscsi_textbuf_add(&c->tb, k, "NotUnderstood");
	}
	return 0;
}

static int
login_operational(struct login_ctx *c)
{
	struct iscsi_login *L = c->L;
	unsigned i;
	int rc;

	if (!L->auth_done) {
		if (L->auth.require_chap) {
			login_fail(c, ISCSI_LS_AUTH_FAILED, "CHAP required: security stage skipped");
			return -1;
		}
		L->auth_done = true;
	}
	for (i = 0; i < c->text.n; i++) {
		const char *k = c->text.kv[i].key;

		if (!strcmp(k, "InitiatorName") || !strcmp(k, "TargetName") ||
		    !strcmp(k, "SessionType") || !strcmp(k, "InitiatorAlias"))
			continue;
		if (!strcmp(k, "AuthMethod") || !strncmp(k, "CHAP_", 5)) {
			login_fail(c, ISCSI_LS_INIT_ERR, "security key in the operational stage");
			return -1;
		}
		rc = iscsi_param_negotiate(&L->params, &g_iscsi.limits, L->discovery, k,
					   c->text.kv[i].val, &c->tb);
		if (rc != 0) {
			L->offered |= iscsi_param_key_bit(k);
			continue;
		}
		iscsi_textbuf_add(&c->tb, k, "NotUnderstood");
	}
	if (!L->declared) {
		iscsi_param_declare(&L->params, &g_iscsi.limits, L->discovery, L->offered, &c->tb);
		L->declared = true;
	}
	return 0;
}

static uint16_t
tsih_alloc(void)
{
	unsigned tries;

	for (tries = 0; tries < 65536; tries++) {
		uint16_t t = g_iscsi.next_tsih++;
		struct cairn_list *it;
		bool used = false;

		if (t == 0)
			continue;
		for (it = g_iscsi.sessions.next; it != &g_iscsi.sessions; it = it->next)
			if (cairn_container_of(it, struct iscsi_sess, link)->tsih == t)
				used = true;
		if (!used)
			return t;
	}
	return 0;
}

struct reinstate_msg {
	uint16_t tsih;
};

static void
reinstate_msg_fn(void *arg)
{
	struct reinstate_msg *m = arg;
	struct cairn_list *it;
	struct iscsi_sess *found = NULL;

	pthread_mutex_lock(&g_iscsi.lock);
	for (it = g_iscsi.sessions.next; it != &g_iscsi.sessions; it = it->next) {
		struct iscsi_sess *s = cairn_container_of(it, struct iscsi_sess, link);

		if (s->tsih == m->tsih)
			found = s;
	}
	pthread_mutex_unlock(&g_iscsi.lock);
	if (found)
		iscsi_sess_close(found, "reinstated by a new login with the same ISID");
	free(m);
}

static int
conn_tasks_alloc(struct iscsi_conn *conn, uint32_t n)
{
	uint32_t i;

	conn->tasks = calloc(n, sizeof(*conn->tasks));
	conn->task_free = calloc(n, sizeof(*conn->task_free));
	if (!conn->tasks || !conn->task_free)
		return -CAIRN_ERR_NOMEM;
	conn->ntasks = n;
	for (i = 0; i < n; i++) {
		conn->tasks[i].idx = i;
		conn->tasks[i].conn = conn;
		cairn_list_init(&conn->tasks[i].link);
		conn->task_free[i] = n - 1 - i;
	}
	conn->nfree = n;
	return 0;
}

/* Leading connection: create the session. Returns 0 or -1 (login failed). */
static int
login_new_session(struct login_ctx *c)
{
	struct iscsi_conn *conn = c->conn;
	struct iscsi_login *L = c->L;
	struct iscsi_sess *sess;
	struct cairn_list *it;
	const char *iname = conn->initiator_port;

	sess = calloc(1, sizeof(*sess));
	if (!sess) {
		login_fail(c, ISCSI_LS_NO_RESOURCES, "out of memory");
		return -1;
	}
	memcpy(sess->isid, L->isid, 6);
	sess->discovery = L->discovery;
	snprintf(sess->initiator_port, sizeof(sess->initiator_port), "%s", iname);
	{
		const char *comma = strstr(iname, ",i,0x");
		size_t l = comma ? (size_t)(comma - iname) : strlen(iname);

		if (l >= sizeof(sess->initiator_name))
			l = sizeof(sess->initiator_name) - 1;
		memcpy(sess->initiator_name, iname, l);
	}
	sess->node = L->node;
	sess->pg = conn->pg;
	sess->params = L->params;
	sess->exp_cmdsn = L->cmdsn;
	sess->queue_depth = L->node ? L->node->queue_depth : 8;
	cairn_list_init(&sess->conns);
	cairn_list_init(&sess->pending);

	pthread_mutex_lock(&g_iscsi.lock);
	if (g_iscsi.nr_sessions >= g_iscsi.opts.max_sessions) {
		pthread_mutex_unlock(&g_iscsi.lock);
		free(sess);
		login_fail(c, ISCSI_LS_NO_RESOURCES, "session limit reached");
		return -1;
	}
	if (L->node && L->node->deleted) {
		pthread_mutex_unlock(&g_iscsi.lock);
		free(sess);
		login_fail(c, ISCSI_LS_TARGET_REMOVED, "target is being deleted");
		return -1;
	}
	/* Reinstatement: same initiator port (name + ISID) and target, TSIH 0. */
	for (it = g_iscsi.sessions.next; it != &g_iscsi.sessions; it = it->next) {
		struct iscsi_sess *s = cairn_container_of(it, struct iscsi_sess, link);
		struct reinstate_msg *m;

		if (__atomic_load_n(&s->closing, __ATOMIC_ACQUIRE) || s->node != sess->node ||
		    s->discovery != sess->discovery ||
		    strcasecmp(s->initiator_port, sess->initiator_port))
			continue;
		__atomic_store_n(&s->closing, true, __ATOMIC_RELEASE);
		m = malloc(sizeof(*m));
		if (m) {
			m->tsih = s->tsih;
			if (cairn_rt_send_msg(s->pg->xs, reinstate_msg_fn, m))
				free(m);
		}
	}
	sess->tsih = tsih_alloc();
	if (!sess->tsih) {
		pthread_mutex_unlock(&g_iscsi.lock);
		free(sess);
		login_fail(c, ISCSI_LS_NO_RESOURCES, "no free TSIH");
		return -1;
	}
	sess->nconns = 1;
	cairn_list_add_tail(&conn->sess_link, &sess->conns);
	cairn_list_add_tail(&sess->link, &g_iscsi.sessions);
	g_iscsi.nr_sessions++;
	pthread_mutex_unlock(&g_iscsi.lock);
	L->node = NULL; /* the session owns the reference now */
	conn->sess = sess;
	return 0;
}

/* What a joining connection needs of the session, read under g_iscsi.lock: the
 * session may live on another xstream and must not be touched outside the lock. */
struct join_snap {
	struct iscsi_sess *sess;      /* dereference only when pg == the conn's pg */
	struct iscsi_poll_group *pg;
	struct iscsi_tgt_node *node;  /* a reference taken for the connection */
	uint32_t queue_depth;
	uint16_t tsih;
	bool discovery;
};

/* Additional connection of an existing session (TSIH != 0). */
static int
login_join_session(struct login_ctx *c, struct join_snap *out)
{
	struct iscsi_conn *conn = c->conn;
	struct iscsi_login *L = c->L;
	struct cairn_list *it;
	struct iscsi_sess *sess = NULL;

	pthread_mutex_lock(&g_iscsi.lock);
	for (it = g_iscsi.sessions.next; it != &g_iscsi.sessions; it = it->next) {
		struct iscsi_sess *s = cairn_container_of(it, struct iscsi_sess, link);

		if (s->tsih == L->tsih && !memcmp(s->isid, L->isid, 6) &&
		    !__atomic_load_n(&s->closing, __ATOMIC_ACQUIRE) &&
		    !strcasecmp(s->initiator_port, conn->initiator_port) && s->node == L->node)
			sess = s;
	}
	if (!sess) {
		pthread_mutex_unlock(&g_iscsi.lock);
		login_fail(c, ISCSI_LS_NO_SESSION, "no session with that TSIH and ISID");
		return -1;
	}
	if (__atomic_load_n(&sess->nconns, __ATOMIC_ACQUIRE) >= sess->params.max_connections) {
		pthread_mutex_unlock(&g_iscsi.lock);
		login_fail(c, ISCSI_LS_TOO_MANY_CONNS, "MaxConnections reached");
		return -1;
	}
	out->sess = sess;
	out->pg = sess->pg;
	out->node = sess->node;
	if (out->node)
		__atomic_add_fetch(&out->node->refs, 1, __ATOMIC_ACQ_REL);
	out->queue_depth = sess->queue_depth;
	out->tsih = sess->tsih;
	out->discovery = sess->discovery;
	pthread_mutex_unlock(&g_iscsi.lock);
	return 0;
}

int
iscsi_login_rx(struct iscsi_conn *conn, const uint8_t *data, uint32_t len)
{
	struct iscsi_login *L = conn->login;
	const uint8_t *h = conn->bhs;
	uint8_t flags = h[1];
	uint8_t csg = ISCSI_LOGIN_CSG(flags), nsg = ISCSI_LOGIN_NSG(flags);
	bool transit = flags & ISCSI_LOGIN_TRANSIT;
	struct login_ctx c;
	const char *why = NULL;
	char *text;
	uint32_t tlen;
	uint8_t rflags;
	struct join_snap js;
	bool join = false;

	memset(&c, 0, sizeof(c));
	c.conn = conn;
	c.L = L;
	c.tb.buf = malloc(LOGIN_RSP_MAX);
	c.tb.cap = LOGIN_RSP_MAX;
	if (!c.tb.buf) {
		iscsi_conn_close(conn, "out of memory");
		return -CAIRN_ERR_NOMEM;
	}
	if (!L->first_done) {
		memcpy(L->isid, h + 8, 6);
		L->tsih = iscsi_get_be16(h + 14);
		L->cid = iscsi_get_be16(h + 20);
		L->csg = csg;
		conn->stat_sn = iscsi_get_be32(h + 28);
	}
	L->itt = iscsi_get_be32(h + 16);
	L->cmdsn = iscsi_get_be32(h + 24);
	if (h[3] > 0 || h[2] < h[3]) { /* VersionMin > 0 */
		login_fail(&c, ISCSI_LS_UNSUPPORTED_VERSION, "unsupported version");
		goto out;
	}
	if (L->first_done && (memcmp(L->isid, h + 8, 6) || L->tsih != iscsi_get_be16(h + 14) ||
			      L->cid != iscsi_get_be16(h + 20))) {
		login_fail(&c, ISCSI_LS_INIT_ERR, "ISID, TSIH or CID changed during login");
		goto out;
	}
	if (csg == 2 || csg == 3 || csg < L->csg ||
	    (transit && (nsg == 2 || nsg <= csg))) {
		login_fail(&c, ISCSI_LS_INIT_ERR, "invalid login stage transition");
		goto out;
	}
	/* Gather text across C-bit continuations. */
	if (L->text_len + len > ISCSI_LOGIN_TEXT_MAX) {
		login_fail(&c, ISCSI_LS_INIT_ERR, "login text too long");
		goto out;
	}
	if (len) {
		char *nt = realloc(L->text, L->text_len + len + 1);

		if (!nt) {
			login_fail(&c, ISCSI_LS_NO_RESOURCES, "out of memory");
			goto out;
		}
		L->text = nt;
		memcpy(L->text + L->text_len, data, len);
		L->text_len += len;
	}
	if (flags & ISCSI_LOGIN_CONTINUE) {
		/* Empty response asks for the rest. */
		c.status = ISCSI_LS_SUCCESS;
		login_send(&c, (uint8_t)(csg << 2), 0);
		goto out;
	}
	text = L->text;
	tlen = L->text_len;
	if (iscsi_text_parse(text ? text : (char *)"", tlen, tlen + 1, &c.text, &why)) {
		login_fail(&c, ISCSI_LS_INIT_ERR, why);
		goto out;
	}
	if (!L->first_done) {
		L->first_done = true;
		if (login_first(&c))
			goto out_text;
		if (!L->discovery) {
			iscsi_textbuf_add(&c.tb, "TargetPortalGroupTag", "%u", conn->pg_tag);
			if (L->node && L->node->alias[0])
				iscsi_textbuf_add(&c.tb, "TargetAlias", "%s", L->node->alias);
		}
	}
	L->csg = csg;
	if (csg == ISCSI_STAGE_SECURITY) {
		if (login_security(&c))
			goto out_text;
	} else if (login_operational(&c)) {
		goto out_text;
	}
	if (c.tb.overflow) {
		login_fail(&c, ISCSI_LS_INIT_ERR, "login response too long");
		goto out_text;
	}
	/* Decide whether we agree to the requested transition. */
	if (transit && csg == ISCSI_STAGE_SECURITY && !L->auth_done)
		transit = false;
	rflags = (uint8_t)(csg << 2);
	if (transit) {
		rflags |= ISCSI_LOGIN_TRANSIT | nsg;
		L->csg = nsg;
	}
	c.status = ISCSI_LS_SUCCESS;
	if (transit && nsg == ISCSI_STAGE_FULL) {
		struct iscsi_params *p = &L->params;

		if (L->node && ((L->node->header_digest && !p->header_digest) ||
				(L->node->data_digest && !p->data_digest))) {
			login_fail(&c, ISCSI_LS_INIT_ERR, "target requires CRC32C digests");
			goto out_text;
		}
		if (L->tsih) {
			if (login_join_session(&c, &js))
				goto out_text;
			join = true;
		} else if (login_new_session(&c)) {
			goto out_text;
		} else {
			js.sess = conn->sess;
			js.pg = conn->pg;
			js.node = conn->sess->node;
			if (js.node)
				__atomic_add_fetch(&js.node->refs, 1, __ATOMIC_ACQ_REL);
			js.queue_depth = conn->sess->queue_depth;
			js.tsih = conn->sess->tsih;
			js.discovery = conn->sess->discovery;
		}
		/* From here on only js is read: a joined session on another xstream is
		 * owned by that xstream (the connection moves there below). */
		conn->node = js.node;
		if (conn_tasks_alloc(conn, js.queue_depth + 16)) {
			login_fail(&c, ISCSI_LS_NO_RESOURCES, "out of memory for tasks");
			goto out_text;
		}
		login_send(&c, rflags, js.tsih);
		if (conn->stage_cap < ISCSI_STAGE_BUF_FFP && !js.discovery) {
			uint8_t *st = realloc(conn->stage, ISCSI_STAGE_BUF_FFP);

			if (st) { /* keeps bytes already staged */
				conn->stage = st;
				conn->stage_cap = ISCSI_STAGE_BUF_FFP;
			}
		}
		conn->params = *p;
		conn->params.max_recv_dsl = p->max_recv_dsl;
		conn->cid = L->cid;
		conn->hd = p->header_digest;
		conn->dd = p->data_digest;
		conn->state = ISCSI_CONN_FFP;
		conn->last_rx_us = cairn_rt_now_us();
		if (L->node) {
			iscsi_tgt_node_put(L->node);
			L->node = NULL;
		}
		CAIRN_INFO("login: %s from %s, %s session tsih %u, conn %u on %s%s%s",
			   conn->initiator_port, conn->peer_str,
			   js.discovery ? "discovery" : "normal", js.tsih,
			   conn->id, cairn_xs_name(conn->pg->xs), conn->hd ? ", header digest" : "",
			   conn->dd ? ", data digest" : "");
		iscsi_login_free(conn);
		if (join && js.pg != conn->pg) {
			conn->join_tsih = js.tsih;
			conn->migrate_to = js.pg; /* conn_rx hands it over when done */
		} else if (join) {
			conn->sess = js.sess; /* same xstream: ours to touch */
			cairn_list_add_tail(&conn->sess_link, &js.sess->conns);
			__atomic_add_fetch(&js.sess->nconns, 1, __ATOMIC_ACQ_REL);
		}
		free(c.tb.buf);
		return 0;
	}
	login_send(&c, rflags, 0);
out_text:
	free(L->text);
	L->text = NULL;
	L->text_len = 0;
out:
	free(c.tb.buf);
	return 0;
}
