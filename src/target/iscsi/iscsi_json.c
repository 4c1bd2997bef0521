/*
 * JSON views of the iSCSI configuration and live connections, and the replayable
 * configuration (save_config). Reads the registry under its mutex; connection lists are
 * gathered on each poll group's xstream.
 */
#include <stdio.h>
#include <stdlib.h>

#define CAIRN_LOG_SS CAIRN_SS_ISCSI
#include "cairn/errno.h"
#include "common/log.h"
#include "iscsi_internal.h"
#include "rt/rt.h"

static json_t *
portal_grp_json(const struct iscsi_portal_grp *pg)
{
	json_t *o = json_object(), *a = json_array();
	unsigned i;

	for (i = 0; i < pg->n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "host",
						   pg->listeners[i]->portal.host, "port",
						   pg->listeners[i]->portal.port));
	json_object_set_new(o, "tag", json_integer(pg->tag));
	json_object_set_new(o, "portals", a);
	return o;
}

static json_t *
init_grp_json(const struct iscsi_init_grp *ig)
{
	json_t *o = json_object(), *a = json_array(), *n = json_array();
	unsigned i;

	for (i = 0; i < ig->ni; i++)
		json_array_append_new(a, json_string(ig->initiators[i]));
	for (i = 0; i < ig->nn; i++)
		json_array_append_new(n, json_string(ig->netmask_str[i]));
	json_object_set_new(o, "tag", json_integer(ig->tag));
	json_object_set_new(o, "initiators", a);
	json_object_set_new(o, "netmasks", n);
	return o;
}

static json_t *
auth_grp_json(const struct iscsi_auth_grp *ag)
{
	json_t *o = json_object(), *a = json_array();
	unsigned i;

	for (i = 0; i < ag->n; i++) {
		const struct iscsi_chap_secret *s = &ag->secrets[i];
		json_t *e = json_pack("{s:s, s:s}", "user", s->user, "secret", s->secret);

		if (s->muser[0]) {
			json_object_set_new(e, "muser", json_string(s->muser));
			json_object_set_new(e, "msecret", json_string(s->msecret));
		}
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "tag", json_integer(ag->tag));
	json_object_set_new(o, "secrets", a);
	return o;
}

static json_t *
tgt_node_json(const struct iscsi_tgt_node *node)
{
	json_t *o = json_object(), *maps = json_array(), *luns = json_array();
	unsigned i;

	for (i = 0; i < node->nmaps; i++)
		json_array_append_new(maps, json_pack("{s:i, s:i}", "pg_tag", node->maps[i].pg_tag,
						      "ig_tag", node->maps[i].ig_tag));
	for (i = 0; i < CAIRN_SCSI_MAX_LUNS; i++) {
		struct cairn_scsi_lun *lun = cairn_scsi_dev_get_lun(node->dev, i);

		if (lun)
			json_array_append_new(luns, json_pack("{s:s, s:i}", "bdev_name",
							      cairn_scsi_lun_bdev_name(lun),
							      "lun_id", (int)i));
	}
	json_object_set_new(o, "name", json_string(node->name));
	json_object_set_new(o, "alias_name", json_string(node->alias));
	json_object_set_new(o, "pg_ig_maps", maps);
	json_object_set_new(o, "luns", luns);
	json_object_set_new(o, "queue_depth", json_integer(node->queue_depth));
	json_object_set_new(o, "disable_chap", json_boolean(node->auth.disable_chap));
	json_object_set_new(o, "require_chap", json_boolean(node->auth.require_chap));
	json_object_set_new(o, "mutual_chap", json_boolean(node->auth.mutual_chap));
	json_object_set_new(o, "chap_group", json_integer(node->auth.chap_group));
	json_object_set_new(o, "header_digest", json_boolean(node->header_digest));
	json_object_set_new(o, "data_digest", json_boolean(node->data_digest));
	return o;
}

#define LIST_JSON(fn, head, type, conv)                                                    \
	int fn(json_t **out)                                                               \
	{                                                                                  \
		json_t *a = json_array();                                                  \
		struct cairn_list *it;                                                     \
                                                                                           \
		if (!a)                                                                    \
			return -CAIRN_ERR_NOMEM;                                           \
		pthread_mutex_lock(&g_iscsi.lock);                                         \
		for (it = g_iscsi.head.next; it != &g_iscsi.head; it = it->next)           \
			json_array_append_new(a, conv(cairn_container_of(it, type, link)));  \
		pthread_mutex_unlock(&g_iscsi.lock);                                       \
		*out = a;                                                                  \
		return 0;                                                                  \
	}

LIST_JSON(cairn_iscsi_get_portal_groups, portal_grps, struct iscsi_portal_grp, portal_grp_json)
LIST_JSON(cairn_iscsi_get_initiator_groups, init_grps, struct iscsi_init_grp, init_grp_json)
LIST_JSON(cairn_iscsi_get_auth_groups, auth_grps, struct iscsi_auth_grp, auth_grp_json)
LIST_JSON(cairn_iscsi_get_target_nodes, tgt_nodes, struct iscsi_tgt_node, tgt_node_json)

int
cairn_iscsi_get_discovery_auth(json_t **out)
{
	pthread_mutex_lock(&g_iscsi.lock);
	*out = json_pack("{s:b, s:b, s:b, s:i}", "disable_chap", g_iscsi.discovery_auth.disable_chap,
			 "require_chap", g_iscsi.discovery_auth.require_chap, "mutual_chap",
			 g_iscsi.discovery_auth.mutual_chap, "chap_group",
			 (int)g_iscsi.discovery_auth.chap_group);
	pthread_mutex_unlock(&g_iscsi.lock);
	return *out ? 0 : -CAIRN_ERR_NOMEM;
}

static const char *
conn_state_name(enum iscsi_conn_state s)
{
	switch (s) {
	case ISCSI_CONN_LOGIN:
		return "login";
	case ISCSI_CONN_FFP:
		return "running";
	case ISCSI_CONN_LOGOUT:
		return "logged_out";
	case ISCSI_CONN_CLOSING:
		return "closing";
	default:
		return "dead";
	}
}

struct conn_list_arg {
	json_t *array;
	struct iscsi_poll_group *pg;
};

static void
conn_list_ult(void *arg)
{
	struct conn_list_arg *a = arg;
	struct cairn_list *it;

	for (it = a->pg->conns.next; it != &a->pg->conns; it = it->next) {
		struct iscsi_conn *c = cairn_container_of(it, struct iscsi_conn, link);
		json_t *o = json_object();
		struct iscsi_sess *s = c->sess;

		json_object_set_new(o, "id", json_integer(c->id));
		json_object_set_new(o, "cid", json_integer(c->cid));
		json_object_set_new(o, "tsih", json_integer(s ? s->tsih : 0));
		json_object_set_new(o, "state", json_string(conn_state_name(c->state)));
		json_object_set_new(o, "xstream", json_string(cairn_xs_name(a->pg->xs)));
		json_object_set_new(o, "initiator_addr", json_string(c->peer_str));
		json_object_set_new(o, "target_addr", json_string(c->local_str));
		json_object_set_new(o, "portal_group_tag", json_integer(c->pg_tag));
		json_object_set_new(o, "initiator_name",
				    json_string(s ? s->initiator_name : c->initiator_port));
		json_object_set_new(o, "target_node_name",
				    json_string(s && s->node ? s->node->name : ""));
		json_object_set_new(o, "session_type",
				    json_string(!s ? "" : s->discovery ? "discovery" : "normal"));
		json_object_set_new(o, "header_digest", json_boolean(c->hd));
		json_object_set_new(o, "data_digest", json_boolean(c->dd));
		json_object_set_new(o, "max_recv_data_segment_length",
				    json_integer(c->params.max_recv_dsl));
		json_object_set_new(o, "max_send_data_segment_length",
				    json_integer(c->params.max_send_dsl));
		json_object_set_new(o, "pdus_in", json_integer(c->pdus_in));
		json_object_set_new(o, "pdus_out", json_integer(c->pdus_out));
		json_array_append_new(a->array, o);
	}
}

int
cairn_iscsi_get_connections(json_t **out)
{
	json_t *a = json_array();
	unsigned i;

	if (!a)
		return -CAIRN_ERR_NOMEM;
	for (i = 0; i < g_iscsi.npg; i++) {
		struct conn_list_arg arg = {a, &g_iscsi.pgs[i]};

		cairn_rt_run_sync(g_iscsi.pgs[i].xs, conn_list_ult, &arg);
	}
	*out = a;
	return 0;
}

static void
add_call(json_t *array, const char *method, json_t *params)
{
	json_array_append_new(array, json_pack("{s:s, s:o}", "method", method, "params", params));
}

int
cairn_iscsi_write_config_json(json_t *array)
{
	struct cairn_list *it;
	json_t *p;

	if (!array)
		return -CAIRN_ERR_INVAL;
	pthread_mutex_lock(&g_iscsi.lock);
	/* Auth groups first: discovery auth and target nodes may name them. */
	for (it = g_iscsi.auth_grps.next; it != &g_iscsi.auth_grps; it = it->next)
		add_call(array, "iscsi_create_auth_group",
			 auth_grp_json(cairn_container_of(it, struct iscsi_auth_grp, link)));
	add_call(array, "iscsi_set_discovery_auth",
		 json_pack("{s:b, s:b, s:b, s:i}", "disable_chap",
			   g_iscsi.discovery_auth.disable_chap, "require_chap",
			   g_iscsi.discovery_auth.require_chap, "mutual_chap",
			   g_iscsi.discovery_auth.mutual_chap, "chap_group",
			   (int)g_iscsi.discovery_auth.chap_group));
	for (it = g_iscsi.portal_grps.next; it != &g_iscsi.portal_grps; it = it->next)
		add_call(array, "iscsi_create_portal_group",
			 portal_grp_json(cairn_container_of(it, struct iscsi_portal_grp, link)));
	for (it = g_iscsi.init_grps.next; it != &g_iscsi.init_grps; it = it->next)
		add_call(array, "iscsi_create_initiator_group",
			 init_grp_json(cairn_container_of(it, struct iscsi_init_grp, link)));
	for (it = g_iscsi.tgt_nodes.next; it != &g_iscsi.tgt_nodes; it = it->next) {
		p = tgt_node_json(cairn_container_of(it, struct iscsi_tgt_node, link));
		add_call(array, "iscsi_create_target_node", p);
	}
	pthread_mutex_unlock(&g_iscsi.lock);
	return 0;
}
