/*
 * Module registry: built-in registration, dlopen loading by name with an ABI check,
 * setup/cleanup ordering, and per-xstream TLS keys (instances created and destroyed on
 * the xstreams their tags name, on those xstreams' threads).
 */
#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAIRN_LOG_SS CAIRN_SS_RT
#include "common/log.h"
#include "rt_internal.h"

struct mod_ent {
	struct cairn_module *mod;
	void *dl; /* dlopen handle, NULL for built-ins */
	bool set_up;
};

static pthread_mutex_t g_mod_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mod_ent g_mods[CAIRN_MODULE_MAX];
static unsigned g_nr_mods;
static struct cairn_module_key *g_keys[CAIRN_MODULE_MAX_KEYS];

/* ------------------------------------------------------------------ TLS keys */

static int
key_xs_create(struct cairn_xstream *xs, struct cairn_module_key *key)
{
	void *data = NULL;

	if ((key->tags & (1u << xs->role)) == 0)
		return 0;
	if (key->init != NULL) {
		data = key->init(xs, key);
		if (data == NULL) {
			CAIRN_ERROR("%s: TLS key %d: init failed", xs->name, key->index);
			return -CAIRN_ERR_NOMEM;
		}
	}
	xs->tls[key->index] = data;
	return 0;
}

static void
key_xs_destroy(struct cairn_xstream *xs, struct cairn_module_key *key)
{
	void *data = xs->tls[key->index];

	if ((key->tags & (1u << xs->role)) == 0)
		return;
	xs->tls[key->index] = NULL;
	/* data == NULL with an init: never instantiated here (registered while stopping). */
	if (key->fini != NULL && (data != NULL || key->init == NULL))
		key->fini(xs, key, data);
}

int
rt_module_xs_init(struct cairn_xstream *xs)
{
	int i, rc = 0;

	pthread_mutex_lock(&g_mod_lock);
	for (i = 0; i < CAIRN_MODULE_MAX_KEYS; i++) {
		if (g_keys[i] == NULL)
			continue;
		rc = key_xs_create(xs, g_keys[i]);
		if (rc != 0)
			break;
	}
	if (rc != 0) {
		while (--i >= 0) {
			if (g_keys[i] != NULL)
				key_xs_destroy(xs, g_keys[i]);
		}
	}
	pthread_mutex_unlock(&g_mod_lock);
	return rc;
}

void
rt_module_xs_fini(struct cairn_xstream *xs)
{
	int i;

	pthread_mutex_lock(&g_mod_lock);
	for (i = CAIRN_MODULE_MAX_KEYS - 1; i >= 0; i--) {
		if (g_keys[i] != NULL)
			key_xs_destroy(xs, g_keys[i]);
	}
	pthread_mutex_unlock(&g_mod_lock);
}

static int
key_create_coll(void *arg)
{
	return key_xs_create(t_rt_xs, arg);
}

static int
key_destroy_coll(void *arg)
{
	key_xs_destroy(t_rt_xs, arg);
	return 0;
}

void *
cairn_module_key_get(const struct cairn_module_key *key)
{
	struct cairn_xstream *xs = t_rt_xs;

	if (xs == NULL || key == NULL || key->index < 0 || key->index >= CAIRN_MODULE_MAX_KEYS)
		return NULL;
	return xs->tls[key->index];
}

void *
cairn_module_key_get_xs(const struct cairn_module_key *key, struct cairn_xstream *xs)
{
	if (xs == NULL || key == NULL || key->index < 0 || key->index >= CAIRN_MODULE_MAX_KEYS)
		return NULL;
	return xs->tls[key->index];
}

/* Instantiate key on the running xstreams (no-op before cairn_rt_init: xstreams create
 * their instances at start). */
static int
key_attach(struct cairn_module_key *key)
{
	int rc;

	if (!cairn_rt_running())
		return 0;
	rc = cairn_rt_collective(key->tags, key_create_coll, key, NULL, NULL);
	if (rc != 0)
		cairn_rt_collective(key->tags, key_destroy_coll, key, NULL, NULL);
	return rc;
}

static void
key_detach(struct cairn_module_key *key)
{
	if (cairn_rt_running())
		cairn_rt_collective(key->tags, key_destroy_coll, key, NULL, NULL);
}

/* ------------------------------------------------------------------ registry */

static bool
name_ok(const char *name)
{
	size_t i, n;

	if (name == NULL)
		return false;
	n = strlen(name);
	if (n == 0 || n >= CAIRN_MODULE_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return false;
	}
	return true;
}

static struct mod_ent *
mod_find_locked(const char *name)
{
	unsigned i;

	for (i = 0; i < g_nr_mods; i++) {
		if (strcmp(g_mods[i].mod->name, name) == 0)
			return &g_mods[i];
	}
	return NULL;
}

static int
mod_add(struct cairn_module *mod, void *dl)
{
	struct cairn_module_key *key = mod->key;
	unsigned i;
	int rc, slot = -1;

	if (mod->abi_version != CAIRN_MODULE_ABI_VERSION) {
		CAIRN_ERROR("module %s: ABI version %u, this runtime needs %u; rebuild the module",
		            name_ok(mod->name) ? mod->name : "?", mod->abi_version,
		            CAIRN_MODULE_ABI_VERSION);
		return -CAIRN_ERR_VERSION;
	}
	if (!name_ok(mod->name) || mod->id >= CAIRN_MODULE_MAX) {
		CAIRN_ERROR("module descriptor invalid: name must be 1..%d chars of [A-Za-z0-9_], "
		            "id below %d",
		            CAIRN_MODULE_NAME_MAX - 1, CAIRN_MODULE_MAX);
		return -CAIRN_ERR_INVAL;
	}
	if (key != NULL && (key->tags == 0 || (key->tags & ~CAIRN_XS_TAG_ALL) != 0)) {
		CAIRN_ERROR("module %s: TLS key tags 0x%x, expected CAIRN_XS_TAG_* bits", mod->name,
		            key->tags);
		return -CAIRN_ERR_INVAL;
	}
	pthread_mutex_lock(&g_mod_lock);
	for (i = 0; i < g_nr_mods; i++) {
		if (strcmp(g_mods[i].mod->name, mod->name) == 0 || g_mods[i].mod->id == mod->id) {
			pthread_mutex_unlock(&g_mod_lock);
			CAIRN_ERROR("module %s (id %u): name or id already registered by %s",
			            mod->name, mod->id, g_mods[i].mod->name);
			return -CAIRN_ERR_EXIST;
		}
	}
	if (g_nr_mods == CAIRN_MODULE_MAX) {
		pthread_mutex_unlock(&g_mod_lock);
		return -CAIRN_ERR_NOSPACE;
	}
	if (key != NULL) {
		for (i = 0; i < CAIRN_MODULE_MAX_KEYS && slot < 0; i++) {
			if (g_keys[i] == NULL)
				slot = (int)i;
		}
		if (slot < 0) {
			pthread_mutex_unlock(&g_mod_lock);
			CAIRN_ERROR("module %s: no free TLS key (max %d)", mod->name,
			            CAIRN_MODULE_MAX_KEYS);
			return -CAIRN_ERR_NOSPACE;
		}
	}
	pthread_mutex_unlock(&g_mod_lock);

	if (mod->init != NULL) {
		rc = mod->init();
		if (rc != 0) {
			CAIRN_ERROR("module %s: init failed: %s", mod->name, cairn_strerror(rc));
			return rc;
		}
	}
	if (mod->metrics_init != NULL) {
		rc = mod->metrics_init();
		if (rc != 0) {
			CAIRN_ERROR("module %s: metrics init failed: %s", mod->name,
			            cairn_strerror(rc));
			goto err_fini;
		}
	}
	pthread_mutex_lock(&g_mod_lock);
	if (key != NULL) {
		key->index = slot;
		g_keys[slot] = key;
	}
	g_mods[g_nr_mods].mod = mod;
	g_mods[g_nr_mods].dl = dl;
	g_mods[g_nr_mods].set_up = false;
	g_nr_mods++;
	pthread_mutex_unlock(&g_mod_lock);
	if (key != NULL) {
		rc = key_attach(key);
		if (rc != 0) {
			CAIRN_ERROR("module %s: TLS key instantiation failed: %s", mod->name,
			            cairn_strerror(rc));
			pthread_mutex_lock(&g_mod_lock);
			g_keys[slot] = NULL;
			key->index = -1;
			g_nr_mods--;
			pthread_mutex_unlock(&g_mod_lock);
			goto err_fini;
		}
	}
	CAIRN_INFO("module %s (id %u, version %u) %s", mod->name, mod->id, mod->version,
	           dl ? "loaded" : "registered");
	return 0;
err_fini:
	if (mod->fini != NULL)
		mod->fini();
	return rc;
}

int
cairn_module_register(struct cairn_module *mod)
{
	if (mod == NULL)
		return -CAIRN_ERR_INVAL;
	if (t_rt_xs != NULL) {
		CAIRN_ERROR("module %s: register from a plain thread, not an xstream",
		            mod->name ? mod->name : "?");
		return -CAIRN_ERR_INVAL;
	}
	return mod_add(mod, NULL);
}

int
cairn_module_load(const char *name)
{
	char path[4096], sym[64 + CAIRN_MODULE_NAME_MAX], stem[CAIRN_MODULE_NAME_MAX];
	struct cairn_module *mod;
	const char *env, *base;
	void *dl = NULL;
	int rc;

	if (name == NULL || name[0] == '\0' || t_rt_xs != NULL)
		return -CAIRN_ERR_INVAL;
	if (strchr(name, '/') != NULL) {
		size_t n;

		base = strrchr(name, '/') + 1;
		if (strncmp(base, "libcairn_mod_", 13) == 0)
			base += 13;
		n = strlen(base);
		if (n > 3 && strcmp(base + n - 3, ".so") == 0)
			n -= 3;
		if (n == 0 || n >= sizeof(stem)) {
			CAIRN_ERROR("module file %s: cannot derive a module name from it", name);
			return -CAIRN_ERR_INVAL;
		}
		memcpy(stem, base, n);
		stem[n] = '\0';
		if (!name_ok(stem)) {
			CAIRN_ERROR("module file %s: '%s' is not a valid module name", name, stem);
			return -CAIRN_ERR_INVAL;
		}
		dl = dlopen(name, RTLD_NOW | RTLD_LOCAL);
		if (dl == NULL) {
			CAIRN_ERROR("module %s: cannot load: %s", name, dlerror());
			return -CAIRN_ERR_NONEXIST;
		}
	} else {
		if (!name_ok(name)) {
			CAIRN_ERROR("module name '%s': expected 1..%d chars of [A-Za-z0-9_]", name,
			            CAIRN_MODULE_NAME_MAX - 1);
			return -CAIRN_ERR_INVAL;
		}
		snprintf(stem, sizeof(stem), "%s", name);
		env = getenv("CAIRN_MODULE_PATH");
		while (env != NULL && *env != '\0' && dl == NULL) {
			const char *end = strchr(env, ':');
			size_t len = end ? (size_t)(end - env) : strlen(env);

			if (len > 0 && len < sizeof(path) - 64) {
				snprintf(path, sizeof(path), "%.*s/libcairn_mod_%s.so", (int)len,
				         env, name);
				if (access(path, R_OK) == 0) {
					dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
					if (dl == NULL) {
						CAIRN_ERROR("module %s: cannot load %s: %s", name,
						            path, dlerror());
						return -CAIRN_ERR_NONEXIST;
					}
				}
			}
			env = end ? end + 1 : NULL;
		}
		if (dl == NULL) {
			snprintf(path, sizeof(path), "libcairn_mod_%s.so", name);
			dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		}
		if (dl == NULL) {
			CAIRN_ERROR("module %s: not found (searched $CAIRN_MODULE_PATH and the "
			            "loader path for libcairn_mod_%s.so): %s",
			            name, name, dlerror());
			return -CAIRN_ERR_NONEXIST;
		}
	}
	snprintf(sym, sizeof(sym), "cairn_module_%s", stem);
	mod = dlsym(dl, sym);
	if (mod == NULL) {
		CAIRN_ERROR("module %s: the library does not export '%s'", name, sym);
		dlclose(dl);
		return -CAIRN_ERR_NONEXIST;
	}
	rc = mod_add(mod, dl);
	if (rc != 0) {
		dlclose(dl);
		return rc;
	}
	return 0;
}

static void
mod_remove(unsigned i)
{
	struct mod_ent e = g_mods[i];
	struct cairn_module_key *key = e.mod->key;

	if (e.set_up && e.mod->cleanup != NULL)
		e.mod->cleanup();
	if (key != NULL && key->index >= 0) {
		key_detach(key);
		pthread_mutex_lock(&g_mod_lock);
		g_keys[key->index] = NULL;
		key->index = -1;
		pthread_mutex_unlock(&g_mod_lock);
	}
	if (e.mod->fini != NULL)
		e.mod->fini();
	pthread_mutex_lock(&g_mod_lock);
	memmove(&g_mods[i], &g_mods[i + 1], (g_nr_mods - i - 1) * sizeof(g_mods[0]));
	g_nr_mods--;
	pthread_mutex_unlock(&g_mod_lock);
	CAIRN_INFO("module %s unloaded", e.mod->name);
	if (e.dl != NULL)
		dlclose(e.dl);
}

int
cairn_module_unload(const char *name)
{
	unsigned i;

	if (name == NULL || t_rt_xs != NULL)
		return -CAIRN_ERR_INVAL;
	for (i = 0; i < g_nr_mods; i++) {
		if (strcmp(g_mods[i].mod->name, name) == 0) {
			mod_remove(i);
			return 0;
		}
	}
	return -CAIRN_ERR_NONEXIST;
}

int
cairn_module_setup_all(void)
{
	unsigned i;
	int rc;

	for (i = 0; i < g_nr_mods; i++) {
		if (g_mods[i].set_up || g_mods[i].mod->setup == NULL) {
			g_mods[i].set_up = true;
			continue;
		}
		rc = g_mods[i].mod->setup();
		if (rc != 0) {
			CAIRN_ERROR("module %s: setup failed: %s", g_mods[i].mod->name,
			            cairn_strerror(rc));
			cairn_module_cleanup_all();
			return rc;
		}
		g_mods[i].set_up = true;
	}
	return 0;
}

void
cairn_module_cleanup_all(void)
{
	unsigned i = g_nr_mods;

	while (i-- > 0) {
		if (g_mods[i].set_up && g_mods[i].mod->cleanup != NULL)
			g_mods[i].mod->cleanup();
		g_mods[i].set_up = false;
	}
}

void
cairn_module_fini_all(void)
{
	while (g_nr_mods > 0)
		mod_remove(g_nr_mods - 1);
}

struct cairn_module *
cairn_module_find(const char *name)
{
	struct mod_ent *e;

	if (name == NULL)
		return NULL;
	pthread_mutex_lock(&g_mod_lock);
	e = mod_find_locked(name);
	pthread_mutex_unlock(&g_mod_lock);
	return e ? e->mod : NULL;
}

unsigned
cairn_module_count(void)
{
	return g_nr_mods;
}
