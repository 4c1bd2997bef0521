/*
 * Runtime modules (DAOS dss_module's role): a server-side component declares one
 * `struct cairn_module` and is either registered built in (cairn_module_register) or
 * loaded by name with dlopen (cairn_module_load). A module may own one TLS key: the
 * runtime creates the key's per-xstream data on every xstream whose role is in the key's
 * tags, on that xstream's thread, and destroys it there at stop.
 *
 * Lifecycle, in order:
 *   register/load -> mod->init()        (any thread, runtime may or may not be running)
 *   key data created on each tagged xstream (when the runtime starts, or at once if it
 *   is already running)
 *   cairn_module_setup_all() -> mod->setup()   (after cairn_rt_init, in load order)
 *   cairn_module_cleanup_all() -> mod->cleanup() (reverse order, runtime still running)
 *   cairn_module_unload / cairn_module_fini_all -> key data destroyed, mod->fini()
 *
 * Thread rules: register/load/unload/setup/cleanup from a plain thread (main()), never
 * from an xstream. cairn_module_key_get() from xstream context.
 */
#ifndef CAIRN_RT_MODULE_H
#define CAIRN_RT_MODULE_H

#include <stdbool.h>
#include <stdint.h>

/* Bumped whenever struct cairn_module / struct cairn_module_key change layout or meaning.
 * A dlopen'd module built against another value is refused with -CAIRN_ERR_VERSION. */
#define CAIRN_MODULE_ABI_VERSION 1u
#define CAIRN_MODULE_MAX 64
#define CAIRN_MODULE_MAX_KEYS 32
#define CAIRN_MODULE_NAME_MAX 32

struct cairn_xstream;

/* Per-xstream module data ("TLS key"). */
struct cairn_module_key {
	uint32_t tags; /* CAIRN_XS_TAG_* of the xstreams that get an instance */
	/* Create this xstream's instance, on that xstream. NULL return = out of memory
	 * (the runtime start or module load then fails cleanly). */
	void *(*init)(struct cairn_xstream *xs, const struct cairn_module_key *key);
	/* Destroy it, on the same xstream. */
	void (*fini)(struct cairn_xstream *xs, const struct cairn_module_key *key, void *data);
	int index; /* assigned by the runtime; -1 when not registered */
};

struct cairn_module {
	uint32_t abi_version; /* CAIRN_MODULE_ABI_VERSION */
	const char *name;     /* short, unique: "vos", "obj" (<= CAIRN_MODULE_NAME_MAX-1) */
	uint32_t id;          /* unique module id (DAOS DAOS_*_MODULE), < CAIRN_MODULE_MAX */
	uint32_t version;     /* the module's own version, for logs and RPC protocol checks */

	int (*init)(void);    /* optional; non-zero rc aborts the load */
	int (*fini)(void);    /* optional */
	int (*setup)(void);   /* optional; after the runtime runs */
	int (*cleanup)(void); /* optional */

	struct cairn_module_key *key; /* optional TLS key */

	/* Opaque to the runtime; filled and used by the layers above (net, engine). */
	const void *rpc_proto;     /* RPC protocol: opcodes, codecs, handlers */
	const void *drpc_handlers; /* dRPC handler table */

	/* Optional: register the module's metrics (rt/metrics.h) once, at load. */
	int (*metrics_init)(void);
};

/* Register a module linked into the binary: validates it (ABI, name, id unique), calls
 * init(), and instantiates its key on running xstreams. Errors: -CAIRN_ERR_INVAL (bad
 * descriptor), -CAIRN_ERR_VERSION (ABI), -CAIRN_ERR_EXIST (name or id taken), init's rc. */
int cairn_module_register(struct cairn_module *mod);

/* Load a module by name: dlopen("libcairn_mod_<name>.so") searched in $CAIRN_MODULE_PATH
 * (colon separated), then the dynamic loader's path; the object must export
 * `struct cairn_module cairn_module_<name>`. A `name` containing '/' is a file path;
 * <name> is then its file name without a leading "libcairn_mod_" and the ".so" suffix.
 * Errors: -CAIRN_ERR_INVAL (bad name), -CAIRN_ERR_NONEXIST (no such module/symbol, logged
 * with dlerror()), -CAIRN_ERR_VERSION (ABI mismatch; the library is closed again),
 * plus cairn_module_register's errors. */
int cairn_module_load(const char *name);

/* Reverse of register/load for one module (key instances destroyed, fini(), dlclose). */
int cairn_module_unload(const char *name);

/* setup() of every module in load order; on failure the modules already set up are
 * cleaned up again and the error is returned. */
int cairn_module_setup_all(void);
void cairn_module_cleanup_all(void);
/* Unload every module, reverse order. */
void cairn_module_fini_all(void);

struct cairn_module *cairn_module_find(const char *name);
unsigned cairn_module_count(void);

/* This xstream's instance of key, NULL on a plain thread or an xstream whose role is
 * not in key->tags. xstream context. */
void *cairn_module_key_get(const struct cairn_module_key *key);
/* Instance of key on a given xstream (for tests and collectives), NULL as above. */
void *cairn_module_key_get_xs(const struct cairn_module_key *key, struct cairn_xstream *xs);

#endif /* CAIRN_RT_MODULE_H */
