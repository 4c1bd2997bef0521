/*
 * Process-wide registries: JSON-RPC methods (explicit tables, sorted by name), the
 * startup/runtime state, and the per-subsystem config writers used by save_config.
 */
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#include "jsonrpc_internal.h"

static pthread_mutex_t g_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct cairn_jsonrpc_method **g_methods;
static size_t g_nr_methods;
static size_t g_cap_methods;
static _Atomic uint32_t g_rpc_state = CAIRN_RPC_RUNTIME;

struct jr_config_entry {
	char *subsystem;
	unsigned order;
	cairn_jsonrpc_config_fn fn;
	void *arg;
};
static struct jr_config_entry *g_configs;
static size_t g_nr_configs;

/* Binary search; returns the insertion index and sets *found. Lock held. */
static size_t
jr_method_index(const char *name, bool *found)
{
	size_t lo = 0, hi = g_nr_methods;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(g_methods[mid]->name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

int
cairn_jsonrpc_register_methods(const struct cairn_jsonrpc_method *table, size_t n)
{
	size_t i, j, idx;
	bool found;
	int rc = 0;

	if (table == NULL && n > 0)
		return -CAIRN_ERR_INVAL;
	for (i = 0; i < n; i++) {
		if (table[i].name == NULL || table[i].name[0] == '\0' || table[i].handler == NULL ||
		    (table[i].state_mask & (CAIRN_RPC_STARTUP | CAIRN_RPC_RUNTIME)) == 0)
			return -CAIRN_ERR_INVAL;
		for (j = 0; j < i; j++) {
			if (strcmp(table[i].name, table[j].name) == 0)
				return -CAIRN_ERR_EXIST;
		}
	}
	pthread_mutex_lock(&g_reg_lock);
	for (i = 0; i < n; i++) {
		jr_method_index(table[i].name, &found);
		if (found) {
			rc = -CAIRN_ERR_EXIST;
			goto out_unlock;
		}
	}
	if (g_nr_methods + n > g_cap_methods) {
		size_t cap = g_cap_methods ? g_cap_methods : 64;
		const struct cairn_jsonrpc_method **nm;

		while (cap < g_nr_methods + n)
			cap *= 2;
		nm = realloc(g_methods, cap * sizeof(*nm));
		if (nm == NULL) {
			rc = -CAIRN_ERR_NOMEM;
			goto out_unlock;
		}
		g_methods = nm;
		g_cap_methods = cap;
	}
	for (i = 0; i < n; i++) {
		idx = jr_method_index(table[i].name, &found);
		memmove(&g_methods[idx + 1], &g_methods[idx],
			(g_nr_methods - idx) * sizeof(*g_methods));
		g_methods[idx] = &table[i];
		g_nr_methods++;
	}
out_unlock:
	pthread_mutex_unlock(&g_reg_lock);
	return rc;
}

void
cairn_jsonrpc_unregister_methods(const struct cairn_jsonrpc_method *table, size_t n)
{
	size_t i, idx;
	bool found;

	pthread_mutex_lock(&g_reg_lock);
	for (i = 0; i < n; i++) {
		if (table[i].name == NULL)
			continue;
		idx = jr_method_index(table[i].name, &found);
		if (!found || g_methods[idx] != &table[i])
			continue;
		memmove(&g_methods[idx], &g_methods[idx + 1],
			(g_nr_methods - idx - 1) * sizeof(*g_methods));
		g_nr_methods--;
	}
	if (g_nr_methods == 0) {
		free(g_methods);
		g_methods = NULL;
		g_cap_methods = 0;
	}
	pthread_mutex_unlock(&g_reg_lock);
}

const struct cairn_jsonrpc_method *
cairn_jsonrpc_find_method(const char *name)
{
	const struct cairn_jsonrpc_method *m = NULL;
	size_t idx;
	bool found;

	if (name == NULL)
		return NULL;
	pthread_mutex_lock(&g_reg_lock);
	idx = jr_method_index(name, &found);
	if (found)
		m = g_methods[idx];
	pthread_mutex_unlock(&g_reg_lock);
	return m;
}

void
cairn_jsonrpc_foreach_method(void (*fn)(const struct cairn_jsonrpc_method *m, void *arg),
			     void *arg)
{
	const struct cairn_jsonrpc_method **snap;
	size_t i, n;

	/* Snapshot so fn may itself look methods up. */
	pthread_mutex_lock(&g_reg_lock);
	n = g_nr_methods;
	snap = n ? malloc(n * sizeof(*snap)) : NULL;
	if (snap)
		memcpy(snap, g_methods, n * sizeof(*snap));
	pthread_mutex_unlock(&g_reg_lock);
	if (snap == NULL)
		return;
	for (i = 0; i < n; i++)
		fn(snap[i], arg);
	free(snap);
}

void
cairn_jsonrpc_set_state(uint32_t state)
{
	atomic_store(&g_rpc_state, state);
}

uint32_t
cairn_jsonrpc_get_state(void)
{
	return atomic_load(&g_rpc_state);
}

int
cairn_jsonrpc_register_config(const char *subsystem, unsigned order, cairn_jsonrpc_config_fn fn,
			      void *arg)
{
	struct jr_config_entry *nc;
	char *name;
	size_t i, pos;

	if (subsystem == NULL || subsystem[0] == '\0' || fn == NULL)
		return -CAIRN_ERR_INVAL;
	name = strdup(subsystem);
	if (name == NULL)
		return -CAIRN_ERR_NOMEM;
	pthread_mutex_lock(&g_reg_lock);
	for (i = 0; i < g_nr_configs; i++) {
		if (strcmp(g_configs[i].subsystem, subsystem) == 0) {
			pthread_mutex_unlock(&g_reg_lock);
			free(name);
			return -CAIRN_ERR_EXIST;
		}
	}
	nc = realloc(g_configs, (g_nr_configs + 1) * sizeof(*nc));
	if (nc == NULL) {
		pthread_mutex_unlock(&g_reg_lock);
		free(name);
		return -CAIRN_ERR_NOMEM;
	}
	g_configs = nc;
	for (pos = 0; pos < g_nr_configs && g_configs[pos].order <= order; pos++)
		;
	memmove(&g_configs[pos + 1], &g_configs[pos], (g_nr_configs - pos) * sizeof(*nc));
	g_configs[pos] = (struct jr_config_entry){ name, order, fn, arg };
	g_nr_configs++;
	pthread_mutex_unlock(&g_reg_lock);
	return 0;
}

void
cairn_jsonrpc_unregister_config(const char *subsystem)
{
	size_t i;

	if (subsystem == NULL)
		return;
	pthread_mutex_lock(&g_reg_lock);
	for (i = 0; i < g_nr_configs; i++) {
		if (strcmp(g_configs[i].subsystem, subsystem) == 0) {
			free(g_configs[i].subsystem);
			memmove(&g_configs[i], &g_configs[i + 1],
				(g_nr_configs - i - 1) * sizeof(*g_configs));
			g_nr_configs--;
			break;
		}
	}
	if (g_nr_configs == 0) {
		free(g_configs);
		g_configs = NULL;
	}
	pthread_mutex_unlock(&g_reg_lock);
}

int
cairn_jsonrpc_write_config(struct cairn_json_write_ctx *w)
{
	struct jr_config_entry *snap = NULL;
	size_t i, n;
	int rc;

	pthread_mutex_lock(&g_reg_lock);
	n = g_nr_configs;
	if (n) {
		snap = malloc(n * sizeof(*snap));
		if (snap == NULL) {
			pthread_mutex_unlock(&g_reg_lock);
			return -CAIRN_ERR_NOMEM;
		}
		for (i = 0; i < n; i++) {
			snap[i] = g_configs[i];
			snap[i].subsystem = strdup(g_configs[i].subsystem);
		}
	}
	pthread_mutex_unlock(&g_reg_lock);

	rc = cairn_json_write_object_begin(w);
	if (rc == 0)
		rc = cairn_json_write_named_array_begin(w, "subsystems");
	for (i = 0; rc == 0 && i < n; i++) {
		if (snap[i].subsystem == NULL) {
			rc = -CAIRN_ERR_NOMEM;
			break;
		}
		rc = cairn_json_write_object_begin(w);
		if (rc == 0)
			rc = cairn_json_write_named_string(w, "subsystem", snap[i].subsystem);
		if (rc == 0)
			rc = cairn_json_write_named_array_begin(w, "config");
		if (rc == 0)
			rc = snap[i].fn(w, snap[i].arg);
		if (rc == 0)
			rc = cairn_json_write_array_end(w);
		if (rc == 0)
			rc = cairn_json_write_object_end(w);
	}
	if (rc == 0)
		rc = cairn_json_write_array_end(w);
	if (rc == 0)
		rc = cairn_json_write_object_end(w);
	for (i = 0; i < n; i++)
		free(snap[i].subsystem);
	free(snap);
	return rc;
}
