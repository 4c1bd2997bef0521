/*
 * dRPC codec and handler registry: encode/decode the Call and Response envelopes
 * (protobuf-c, drpc.proto) with strict validation, and the per-module handler tables.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#include "drpc.pb-c.h"
#include "drpc_internal.h"

/* ------------------------------------------------------------------ decode */

int
cairn_drpc_call_decode(const void *buf, size_t len, struct cairn_drpc_call *call)
{
	Cairn__Drpc__Call *m;

	memset(call, 0, sizeof(*call));
	if (len > CAIRN_DRPC_MAX_MSG)
		return -CAIRN_ERR_OVERFLOW;
	if (buf == NULL && len != 0)
		return -CAIRN_ERR_INVAL;
	m = cairn__drpc__call__unpack(NULL, len, buf);
	if (m == NULL)
		return -CAIRN_ERR_PROTO;
	if (m->base.n_unknown_fields != 0 || m->module >= CAIRN_DRPC_MODULE_MAX ||
	    m->body.len > CAIRN_DRPC_MAX_BODY) {
		cairn__drpc__call__free_unpacked(m, NULL);
		return -CAIRN_ERR_PROTO;
	}
	call->module = m->module;
	call->method = m->method;
	call->sequence = m->sequence;
	call->body = m->body.data;
	call->body_len = m->body.len;
	call->priv = m;
	return 0;
}

void
cairn_drpc_call_release(struct cairn_drpc_call *call)
{
	if (call->priv)
		cairn__drpc__call__free_unpacked(call->priv, NULL);
	memset(call, 0, sizeof(*call));
}

int
cairn_drpc_response_decode(const void *buf, size_t len, struct cairn_drpc_response *resp)
{
	Cairn__Drpc__Response *m;

	memset(resp, 0, sizeof(*resp));
	if (len > CAIRN_DRPC_MAX_MSG)
		return -CAIRN_ERR_OVERFLOW;
	if (buf == NULL && len != 0)
		return -CAIRN_ERR_INVAL;
	m = cairn__drpc__response__unpack(NULL, len, buf);
	if (m == NULL)
		return -CAIRN_ERR_PROTO;
	if (m->base.n_unknown_fields != 0 || m->status > 0 || m->body.len > CAIRN_DRPC_MAX_BODY) {
		cairn__drpc__response__free_unpacked(m, NULL);
		return -CAIRN_ERR_PROTO;
	}
	resp->sequence = m->sequence;
	resp->status = m->status;
	resp->body = m->body.data;
	resp->body_len = m->body.len;
	resp->priv = m;
	return 0;
}

void
cairn_drpc_response_release(struct cairn_drpc_response *resp)
{
	if (resp->priv)
		cairn__drpc__response__free_unpacked(resp->priv, NULL);
	memset(resp, 0, sizeof(*resp));
}

/* ------------------------------------------------------------------ encode */

int
cairn_drpc_call_encode(uint32_t module, uint32_t method, uint64_t sequence, const void *body,
                       size_t body_len, uint8_t **out, size_t *out_len)
{
	Cairn__Drpc__Call m = CAIRN__DRPC__CALL__INIT;
	uint8_t *buf;
	size_t len;

	if (module >= CAIRN_DRPC_MODULE_MAX || body_len > CAIRN_DRPC_MAX_BODY ||
	    (body == NULL && body_len) || out == NULL || out_len == NULL)
		return -CAIRN_ERR_INVAL;
	m.module = module;
	m.method = method;
	m.sequence = sequence;
	m.body.data = (uint8_t *)body;
	m.body.len = body_len;
	len = cairn__drpc__call__get_packed_size(&m);
	buf = malloc(len ? len : 1);
	if (buf == NULL)
		return -CAIRN_ERR_NOMEM;
	*out_len = cairn__drpc__call__pack(&m, buf);
	*out = buf;
	return 0;
}

int
cairn_drpc_response_encode(uint64_t sequence, int32_t status, const void *body, size_t body_len,
                           uint8_t **out, size_t *out_len)
{
	Cairn__Drpc__Response m = CAIRN__DRPC__RESPONSE__INIT;
	uint8_t *buf;
	size_t len;

	if (status > 0 || body_len > CAIRN_DRPC_MAX_BODY || (body == NULL && body_len) ||
	    out == NULL || out_len == NULL)
		return -CAIRN_ERR_INVAL;
	m.sequence = sequence;
	m.status = status;
	m.body.data = (uint8_t *)body;
	m.body.len = body_len;
	len = cairn__drpc__response__get_packed_size(&m);
	buf = malloc(len ? len : 1);
	if (buf == NULL)
		return -CAIRN_ERR_NOMEM;
	*out_len = cairn__drpc__response__pack(&m, buf);
	*out = buf;
	return 0;
}

/* ------------------------------------------------------------------ registry */

static pthread_mutex_t g_drpc_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct cairn_drpc_handler_table *g_drpc_tables[CAIRN_DRPC_MODULE_MAX];

int
cairn_drpc_register(const struct cairn_drpc_handler_table *t)
{
	size_t i, j;
	int rc = 0;

	if (t == NULL || t->module >= CAIRN_DRPC_MODULE_MAX || t->methods == NULL ||
	    t->nr_methods == 0)
		return -CAIRN_ERR_INVAL;
	for (i = 0; i < t->nr_methods; i++) {
		if (t->methods[i].handler == NULL)
			return -CAIRN_ERR_INVAL;
		for (j = 0; j < i; j++)
			if (t->methods[j].method == t->methods[i].method)
				return -CAIRN_ERR_INVAL;
	}
	pthread_mutex_lock(&g_drpc_reg_lock);
	if (g_drpc_tables[t->module] != NULL)
		rc = -CAIRN_ERR_EXIST;
	else
		g_drpc_tables[t->module] = t;
	pthread_mutex_unlock(&g_drpc_reg_lock);
	return rc;
}

void
cairn_drpc_unregister(uint32_t module)
{
	if (module >= CAIRN_DRPC_MODULE_MAX)
		return;
	pthread_mutex_lock(&g_drpc_reg_lock);
	g_drpc_tables[module] = NULL;
	pthread_mutex_unlock(&g_drpc_reg_lock);
}

cairn_drpc_handler_fn
drpc_lookup(uint32_t module, uint32_t method, const char **why)
{
	const struct cairn_drpc_handler_table *t;
	cairn_drpc_handler_fn fn = NULL;
	size_t i;

	pthread_mutex_lock(&g_drpc_reg_lock);
	t = module < CAIRN_DRPC_MODULE_MAX ? g_drpc_tables[module] : NULL;
	if (t == NULL) {
		*why = "unknown module";
	} else {
		*why = "unknown method";
		for (i = 0; i < t->nr_methods; i++) {
			if (t->methods[i].method == method) {
				fn = t->methods[i].handler;
				break;
			}
		}
	}
	pthread_mutex_unlock(&g_drpc_reg_lock);
	return fn;
}

void
cairn_drpc_errmsg(uint8_t **body, size_t *body_len, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	free(*body);
	*body = malloc((size_t)n + 1);
	if (*body == NULL) {
		*body_len = 0;
		return;
	}
	memcpy(*body, buf, (size_t)n + 1);
	*body_len = (size_t)n;
}
