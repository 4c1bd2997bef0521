/*
 * cairn: the user CLI (DAOS `daos`). Pools and containers by label or UUID:
 *   cairn pool query POOL | pool list-containers POOL
 *   cairn container create POOL [LABEL | --label L] [--type POSIX|KV|ARRAY] [--oclass SX]
 *                          [--chunk-size 1M] [--csum off|crc32c|crc64] [--rf 0..2]
 *   cairn container destroy POOL CONT [--force]
 *   cairn container list POOL | query POOL CONT
 *   cairn object put POOL CONT OID DKEY (-i FILE | -v VALUE) [-a AKEY]
 *                    [--if-absent | --if-exists]
 *   cairn object get POOL CONT OID DKEY [-a AKEY] [-O FILE]
 *   cairn object list POOL CONT OID
 * The system is found through $CAIRN_SYSTEM_URI / --sys, or by asking cairn-server
 * (its API socket, -o / $CAIRN_SERVER_SOCKET) for rank 0's URI.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include <cairn/cairn.h>
#include <cairn/cont.h>
#include <cairn/errno.h>
#include <cairn/obj.h>
#include <cairn/pool.h>

#include "common/json.h"
#include "common/units.h"
#include "common/uuid.h"
#include "jsonrpc/jsonrpc_client.h"

#include "cairn_array.h"
#include "common/sys_locate.h"

#define EXIT_OK 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_UNREACH 3
#define DEFAULT_SOCK "/var/tmp/cairn/cairn_server.sock"
#define GET_MAX (64u << 20)

struct args {
	const char *sys;
	const char *sock;
	const char *akey;
	const char *in_file;
	const char *value;
	const char *out_file;
	const char *oclass;
	const char *snap; /* object get/list --snap EPOCH */
	/* container create */
	const char *label;
	const char *type;
	const char *chunk;
	const char *csum;
	const char *rf;
	uint32_t put_cond; /* object put: CAIRN_COND_* */
	bool json;
	bool force;
};

/* Long-only options. */
enum {
	OPT_SNAP = 'S',
	OPT_LABEL = 0x100,
	OPT_TYPE,
	OPT_CHUNK,
	OPT_CSUM,
	OPT_RF,
	OPT_IF_ABSENT,
	OPT_IF_EXISTS,
};

static const char *
type_name(uint32_t t)
{
	return t == CAIRN_CONT_POSIX ? "POSIX"
	       : t == CAIRN_CONT_KV  ? "KV"
	       : t == CAIRN_CONT_ARRAY ? "ARRAY"
	                               : "?";
}

static const char *
csum_name(uint32_t c)
{
	return c == CAIRN_CONT_CSUM_OFF ? "off"
	       : c == CAIRN_CONT_CSUM_CRC32C ? "crc32c"
	       : c == CAIRN_CONT_CSUM_CRC64 ? "crc64"
	                                    : "?";
}

static void
usage(FILE *f)
{
	fprintf(f,
	        "Usage: cairn [options] COMMAND ARGS\n\n"
	        "Commands (POOL and CONT are labels or UUIDs):\n"
	        "  pool query POOL                      pool space, targets, map version\n"
	        "  pool list-containers POOL            containers of a pool\n"
	        "  container create POOL (LABEL | --label L) [--type POSIX|KV|ARRAY] [--oclass C]\n"
	        "                   [--chunk-size SIZE] [--csum off|crc32c|crc64] [--rf 0..2]\n"
	        "                                       new container (defaults: POSIX, SX, 1M,\n"
	        "                                       off, 0; type, chunk size, csum and rf\n"
	        "                                       are fixed for the container's life)\n"
	        "  container destroy POOL CONT [--force]        (force: even while open)\n"
	        "  container list POOL                  same as pool list-containers\n"
	        "  container query POOL CONT            one container\n"
	        "  object put POOL CONT OID DKEY (-i FILE | -v VALUE) [-a AKEY]\n"
	        "                   [--if-absent | --if-exists]  (conditional on the dkey)\n"
	        "  object get POOL CONT OID DKEY [-a AKEY] [-O FILE]  (stdout by default)\n"
	        "  object list POOL CONT OID            dkeys of an object\n"
	        "  container get-prop POOL CONT         label, type, class, chunk size, ...\n"
	        "  container set-prop POOL CONT NAME:VALUE...  label:L, oclass:S1 (chunk size,\n"
	        "                                       checksum and rf are fixed at create)\n"
	        "  container list-attrs POOL CONT       user attribute names\n"
	        "  container get-attr POOL CONT NAME [-O FILE]\n"
	        "  container set-attr POOL CONT NAME (VALUE | -v VALUE | -i FILE)  (<= 4000 B)\n"
	        "  container del-attr POOL CONT NAME\n"
	        "  container create-snap POOL CONT      snapshot now; prints its epoch\n"
	        "  container list-snaps POOL CONT       snapshot epochs\n"
	        "  container destroy-snap POOL CONT EPOCH\n"
	        "  object get|list ... --snap EPOCH     read as of a snapshot\n"
	        "  array write POOL CONT OID OFFSET (-i FILE | -v VALUE)  byte array (created\n"
	        "                                       on first write: the container's chunk\n"
	        "                                       size)\n"
	        "  array read POOL CONT OID OFFSET LENGTH [-O FILE]  (holes read as zeros)\n"
	        "  array size POOL CONT OID             bytes (one past the last written)\n\n"
	        "OID is the application's object number (decimal); its class is --oclass or\n"
	        "the container's default. AKEY defaults to \"data\".\n\n"
	        "Options:\n"
	        "  -s, --sys URI       engine URI (default $CAIRN_SYSTEM_URI, else asked from\n"
	        "                      cairn-server)\n"
	        "  -o, --socket PATH   cairn-server API socket (default $CAIRN_SERVER_SOCKET or\n"
	        "                      %s)\n"
	        "  -a, --akey AKEY     akey of object put/get\n"
	        "  -i, --input FILE    object put: value from FILE ('-' = stdin)\n"
	        "  -v, --value TEXT    object put: value given inline\n"
	        "  -O, --output FILE   object get: write the value to FILE\n"
	        "  -c, --oclass CLASS  object class (S1, S2, S4, S8, SX, RP_2G1, RP_3G1)\n"
	        "      --label, --type, --chunk-size, --csum, --rf   container create\n"
	        "      --if-absent     object put: only if the dkey does not exist yet\n"
	        "      --if-exists     object put: only if the dkey exists\n"
	        "      --snap EPOCH    object get/list: read at this snapshot\n"
	        "  -f, --force         see the commands\n"
	        "  -j, --json          JSON output\n"
	        "  -h, --help          this text\n\n"
	        "Exit codes: 0 success; 1 the operation failed; 2 bad usage; 3 cannot reach\n"
	        "the system.\n",
	        DEFAULT_SOCK);
}

static int
fail(const char *what, int rc)
{
	fprintf(stderr, "cairn: %s: %s\n", what, cairn_strerror(rc));
	if (rc == -CAIRN_ERR_NOSPACE)
		fprintf(stderr, "cairn: the pool is full: destroy containers you no longer need "
		                "or use a bigger pool (`cairnctl pool create -z SIZE`)\n");
	if (rc == -CAIRN_ERR_PERM && strcmp(what, "pool connect") != 0)
		fprintf(stderr, "cairn: the pool's ACL does not grant this connection the "
		                "permission (c: create container, d: delete container; see "
		                "`cairnctl pool get-acl`)\n");
	if (rc == -CAIRN_ERR_UNREACH || rc == -CAIRN_ERR_TIMEDOUT) {
		fprintf(stderr, "cairn: is the system running? (`cairnctl system query`)\n");
		return EXIT_UNREACH;
	}
	return EXIT_FAILED;
}

/* Rank 0's URI from cairn-server's system_query. */
static int
resolve_sys(struct args *a, char *buf, size_t len)
{
	return tool_sys_locate("cairn", &a->sys, &a->sock, DEFAULT_SOCK, buf, len) ? EXIT_UNREACH
	                                                                          : 0;
}

static void
print_json(json_t *o)
{
	cairn_json_print(stdout, o, true);
	json_decref(o);
}

static json_t *
pool_json(const struct cairn_pool_info *pi)
{
	char us[CAIRN_UUID_STR_LEN];
	struct cairn_uuid u;

	memcpy(u.b, pi->uuid, 16);
	cairn_uuid_unparse(&u, us);
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "uuid", us, "label", pi->label,
	                 "targets", (json_int_t)pi->nr_targets, "map_version",
	                 (json_int_t)pi->map_version, "total", (json_int_t)pi->total, "free",
	                 (json_int_t)pi->free);
}

static json_t *
cont_json(const struct cairn_cont_info *ci)
{
	char us[CAIRN_UUID_STR_LEN];
	struct cairn_uuid u;
	const char *oc = cairn_oclass_name((enum cairn_oclass)ci->oclass);

	memcpy(u.b, ci->uuid, 16);
	cairn_uuid_unparse(&u, us);
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:I}", "uuid", us,
	                 "label", ci->label, "type", type_name(ci->type), "oclass", oc ? oc : "?",
	                 "open_handles", (json_int_t)ci->nr_open, "ctime", (json_int_t)ci->ctime,
	                 "oid_next", (json_int_t)ci->oid_next, "chunk_size",
	                 (json_int_t)ci->chunk_size, "csum", csum_name(ci->csum), "rf",
	                 (json_int_t)ci->rf);
}

static int
cmd_pool_query(const struct args *a, struct cairn_handle poh)
{
	struct cairn_pool_info pi;
	char t[32], f[32];
	int rc;

	rc = cairn_pool_query(poh, &pi, NULL);
	if (rc)
		return fail("pool query", rc);
	if (a->json) {
		print_json(pool_json(&pi));
		return EXIT_OK;
	}
	cairn_format_size(pi.total, t, sizeof(t));
	cairn_format_size(pi.free, f, sizeof(f));
	printf("Pool %s: %u target(s), map version %u, data space %s, free %s\n", pi.label,
	       pi.nr_targets, pi.map_version, t, f);
	return EXIT_OK;
}

static int
cmd_cont_list(const struct args *a, struct cairn_handle poh)
{
	struct cairn_cont_entry *ents = NULL;
	char us[CAIRN_UUID_STR_LEN];
	struct cairn_uuid u;
	uint32_t nr = 0, i;
	json_t *arr;
	int rc;

	rc = cairn_cont_list(poh, NULL, &nr, NULL);
	if (rc == -CAIRN_ERR_TRUNC) {
		ents = calloc(nr, sizeof(*ents));
		if (ents == NULL)
			return fail("container list", -CAIRN_ERR_NOMEM);
		rc = cairn_cont_list(poh, ents, &nr, NULL);
	}
	if (rc) {
		free(ents);
		return fail("container list", rc);
	}
	arr = json_array();
	for (i = 0; i < nr; i++) {
		memcpy(u.b, ents[i].uuid, 16);
		cairn_uuid_unparse(&u, us);
		if (a->json)
			json_array_append_new(arr, json_pack("{s:s, s:s}", "uuid", us, "label",
			                                     ents[i].label));
		else
			printf("%-36s %s\n", us, ents[i].label);
	}
	if (a->json)
		print_json(json_pack("{s:o}", "containers", arr));
	else
		json_decref(arr);
	if (!a->json && nr == 0)
		printf("No containers (create one with `cairn container create POOL LABEL`).\n");
	free(ents);
	return EXIT_OK;
}

static int read_input(const struct args *a, void **buf, size_t *len);

/* container get-prop / set-prop on an open container. */
static int
cont_props(const struct args *a, const char *sub, struct cairn_handle coh, char **argv,
           int argc)
{
	struct cairn_cont_props p = {0};
	char err[128], sz[32];
	uint32_t mask = 0;
	uint64_t v;
	int i, rc, oc;

	if (strcmp(sub, "set-prop") == 0) {
		if (argc == 0)
			return EXIT_USAGE;
		for (i = 0; i < argc; i++) {
			char *val = strchr(argv[i], ':');
			size_t nl = val ? (size_t)(val - argv[i]) : 0;

			if (val == NULL || val[1] == '\0')
				goto bad;
			val++;
#define IS(n) (nl == strlen(n) && strncmp(argv[i], n, nl) == 0)
			if (IS("label")) {
				if (strlen(val) >= sizeof(p.label))
					goto bad;
				snprintf(p.label, sizeof(p.label), "%s", val);
				mask |= CAIRN_CONT_PROP_LABEL;
			} else if (IS("oclass")) {
				if ((oc = cairn_oclass_from_name(val)) < 0)
					goto bad;
				p.oclass = (uint32_t)oc;
				mask |= CAIRN_CONT_PROP_OCLASS;
			} else if (IS("chunk_size")) {
				if (cairn_parse_size(val, &v, err, sizeof(err)))
					goto bad;
				p.chunk_size = v;
				mask |= CAIRN_CONT_PROP_CHUNK;
			} else if (IS("cksum") || IS("checksum") || IS("csum")) {
				if (strcmp(val, "on") && strcmp(val, "off") && strcmp(val, "crc32c") &&
				    strcmp(val, "crc64"))
					goto bad;
				p.csum = strcmp(val, "off") == 0 ? 0 : strcmp(val, "crc64") == 0 ? 2 : 1;
				mask |= CAIRN_CONT_PROP_CSUM;
			} else if (IS("rf")) {
				if (cairn_parse_u64(val, 0, CAIRN_CONT_RF_MAX, &v, err, sizeof(err)))
					goto bad;
				p.rf = (uint32_t)v;
				mask |= CAIRN_CONT_PROP_RF;
			} else {
				goto bad;
			}
#undef IS
		}
		rc = cairn_cont_set_props(coh, &p, mask, NULL);
		if (rc == -CAIRN_ERR_EXIST)
			fprintf(stderr, "cairn: a container labelled '%s' exists in this pool\n",
			        p.label);
		else if (rc == -CAIRN_ERR_INVAL)
			fprintf(stderr, "cairn: a value is out of range (label: 1..63 of "
			        "[A-Za-z0-9_.-]; oclass: one that tolerates the container's rf)\n");
		else if (rc == -CAIRN_ERR_PERM &&
		         (mask & (CAIRN_CONT_PROP_CHUNK | CAIRN_CONT_PROP_CSUM | CAIRN_CONT_PROP_RF)))
			fprintf(stderr, "cairn: chunk size, checksum and redundancy factor are fixed "
			        "at create: create a new container with --chunk-size, --csum, --rf "
			        "and copy the data\n");
		if (rc)
			return fail("container set-prop", rc);
	} else if (argc != 0) {
		return EXIT_USAGE;
	}
	rc = cairn_cont_get_props(coh, &p, NULL);
	if (rc)
		return fail("container get-prop", rc);
	if (a->json) {
		print_json(json_pack("{s:s, s:s, s:s, s:I, s:s, s:I}", "label", p.label, "type",
		                     type_name(p.type), "oclass",
		                     cairn_oclass_name((enum cairn_oclass)p.oclass) ?: "?",
		                     "chunk_size", (json_int_t)p.chunk_size, "cksum",
		                     csum_name(p.csum), "rf", (json_int_t)p.rf));
	} else {
		cairn_format_size(p.chunk_size, sz, sizeof(sz));
		printf("%-12s %s\n%-12s %s\n%-12s %s\n%-12s %s\n%-12s %s\n%-12s %u\n", "label",
		       p.label, "type", type_name(p.type), "oclass",
		       cairn_oclass_name((enum cairn_oclass)p.oclass) ?: "?", "chunk_size", sz,
		       "cksum", csum_name(p.csum), "rf", p.rf);
	}
	return EXIT_OK;
bad:
	fprintf(stderr, "cairn: set-prop '%s': expected label:LABEL or oclass:CLASS "
	        "(chunk_size:SIZE, cksum:off|crc32c|crc64 and rf:0..2 are fixed at create)\n",
	        argv[i]);
	return EXIT_USAGE;
}

/* container list-attrs / get-attr / set-attr / del-attr. */
static int
cont_attrs(const struct args *a, const char *sub, struct cairn_handle coh, char **argv,
           int argc)
{
	char buf[CAIRN_ATTRS_MAX * (CAIRN_ATTR_NAME_MAX + 1)];
	size_t size = sizeof(buf), off;
	void *val = NULL;
	FILE *f;
	int rc;

	if (strcmp(sub, "list-attrs") == 0) {
		if (argc != 0)
			return EXIT_USAGE;
		rc = cairn_cont_list_attrs(coh, buf, &size, NULL);
		if (rc)
			return fail("container list-attrs", rc);
		if (a->json) {
			json_t *arr = json_array();

			for (off = 0; off < size; off += strlen(buf + off) + 1)
				json_array_append_new(arr, json_string(buf + off));
			print_json(json_pack("{s:o}", "attrs", arr));
		} else {
			for (off = 0; off < size; off += strlen(buf + off) + 1)
				printf("%s\n", buf + off);
		}
		return EXIT_OK;
	}
	if (argc < 1)
		return EXIT_USAGE;
	if (strlen(argv[0]) > CAIRN_ATTR_NAME_MAX || argv[0][0] == '\0') {
		fprintf(stderr, "cairn: attribute names are 1..%d bytes\n", CAIRN_ATTR_NAME_MAX);
		return EXIT_USAGE;
	}
	if (strcmp(sub, "get-attr") == 0) {
		if (argc != 1)
			return EXIT_USAGE;
		rc = cairn_cont_get_attr(coh, argv[0], buf, &size, NULL);
		if (rc == -CAIRN_ERR_NONEXIST)
			fprintf(stderr, "cairn: no attribute '%s' (see `cairn container "
			        "list-attrs`)\n", argv[0]);
		if (rc)
			return fail("container get-attr", rc);
		if (a->json) {
			print_json(json_pack("{s:s, s:s%}", "name", argv[0], "value", buf, size));
			return EXIT_OK;
		}
		f = a->out_file && strcmp(a->out_file, "-") ? fopen(a->out_file, "wb") : stdout;
		if (f == NULL) {
			fprintf(stderr, "cairn: cannot write %s: %s\n", a->out_file, strerror(errno));
			return EXIT_FAILED;
		}
		if (fwrite(buf, 1, size, f) != size || (f != stdout && fclose(f) != 0)) {
			fprintf(stderr, "cairn: write failed: %s\n", strerror(errno));
			return EXIT_FAILED;
		}
		if (f == stdout && isatty(STDOUT_FILENO))
			printf("\n");
		return EXIT_OK;
	}
	if (strcmp(sub, "set-attr") == 0) {
		if (argc == 2 && a->in_file == NULL && a->value == NULL) {
			size = strlen(argv[1]);
			rc = cairn_cont_set_attr(coh, argv[0], argv[1], size, NULL);
		} else if (argc == 1 && (a->in_file || a->value)) {
			if (read_input(a, &val, &size))
				return EXIT_FAILED;
			rc = size > CAIRN_ATTR_VALUE_MAX ? -CAIRN_ERR_INVAL
			                                 : cairn_cont_set_attr(coh, argv[0], val, size,
			                                                       NULL);
			free(val);
		} else {
			return EXIT_USAGE;
		}
		if (rc == -CAIRN_ERR_INVAL && size > CAIRN_ATTR_VALUE_MAX)
			fprintf(stderr, "cairn: attribute values are at most %d bytes (got %zu)\n",
			        CAIRN_ATTR_VALUE_MAX, size);
		if (rc == -CAIRN_ERR_OVERFLOW)
			fprintf(stderr, "cairn: a container has at most %d attributes; delete some "
			        "first\n", CAIRN_ATTRS_MAX);
		if (rc)
			return fail("container set-attr", rc);
		if (!a->json)
			printf("Attribute %s set\n", argv[0]);
		else
			print_json(json_pack("{s:s, s:I}", "set", argv[0], "size", (json_int_t)size));
		return EXIT_OK;
	}
	if (strcmp(sub, "del-attr") == 0 && argc == 1) {
		rc = cairn_cont_del_attr(coh, argv[0], NULL);
		if (rc == -CAIRN_ERR_NONEXIST)
			fprintf(stderr, "cairn: no attribute '%s'\n", argv[0]);
		if (rc)
			return fail("container del-attr", rc);
		if (!a->json)
			printf("Attribute %s deleted\n", argv[0]);
		else
			print_json(json_pack("{s:s}", "deleted", argv[0]));
		return EXIT_OK;
	}
	return EXIT_USAGE;
}

/* container create-snap / list-snaps / destroy-snap. */
static int
cont_snaps(const struct args *a, const char *sub, struct cairn_handle coh, char **argv,
           int argc)
{
	cairn_epoch_t epochs[CAIRN_SNAPS_MAX], e;
	uint32_t nr = CAIRN_SNAPS_MAX, i;
	char err[128];
	int rc;

	if (strcmp(sub, "create-snap") == 0 && argc == 0) {
		rc = cairn_cont_create_snap(coh, &e, NULL);
		if (rc == -CAIRN_ERR_OVERFLOW)
			fprintf(stderr, "cairn: a container has at most %d snapshots; destroy some "
			        "first\n", CAIRN_SNAPS_MAX);
		if (rc)
			return fail("container create-snap", rc);
		if (a->json)
			print_json(json_pack("{s:I}", "epoch", (json_int_t)e));
		else
			printf("Snapshot created at epoch %llu\n", (unsigned long long)e);
		return EXIT_OK;
	}
	if (strcmp(sub, "list-snaps") == 0 && argc == 0) {
		rc = cairn_cont_list_snaps(coh, epochs, &nr, NULL);
		if (rc)
			return fail("container list-snaps", rc);
		if (a->json) {
			json_t *arr = json_array();

			for (i = 0; i < nr; i++)
				json_array_append_new(arr, json_integer((json_int_t)epochs[i]));
			print_json(json_pack("{s:o}", "snapshots", arr));
		} else {
			for (i = 0; i < nr; i++)
				printf("%llu\n", (unsigned long long)epochs[i]);
		}
		return EXIT_OK;
	}
	if (strcmp(sub, "destroy-snap") == 0 && argc == 1) {
		if (cairn_parse_u64(argv[0], 1, UINT64_MAX - 1, &e, err, sizeof(err))) {
			fprintf(stderr, "cairn: EPOCH '%s': %s\n", argv[0], err);
			return EXIT_USAGE;
		}
		rc = cairn_cont_destroy_snap(coh, e, NULL);
		if (rc == -CAIRN_ERR_NONEXIST)
			fprintf(stderr, "cairn: no snapshot at epoch %s (see `cairn container "
			        "list-snaps`)\n", argv[0]);
		if (rc)
			return fail("container destroy-snap", rc);
		if (!a->json)
			printf("Snapshot %s destroyed\n", argv[0]);
		else
			print_json(json_pack("{s:I}", "destroyed", (json_int_t)e));
		return EXIT_OK;
	}
	return EXIT_USAGE;
}

/* Subcommands on an open container: properties, attributes, snapshots. -1: not one. */
static int
cmd_cont_open_ops(const struct args *a, const char *sub, struct cairn_handle poh, char **argv,
                  int argc)
{
	int (*fn)(const struct args *, const char *, struct cairn_handle, char **, int);
	struct cairn_handle coh;
	int rc, ret;

	if (strcmp(sub, "get-prop") == 0 || strcmp(sub, "set-prop") == 0)
		fn = cont_props;
	else if (strcmp(sub, "list-attrs") == 0 || strcmp(sub, "get-attr") == 0 ||
	         strcmp(sub, "set-attr") == 0 || strcmp(sub, "del-attr") == 0)
		fn = cont_attrs;
	else if (strcmp(sub, "create-snap") == 0 || strcmp(sub, "list-snaps") == 0 ||
	         strcmp(sub, "destroy-snap") == 0)
		fn = cont_snaps;
	else
		return -1;
	if (argc < 1)
		return EXIT_USAGE;
	rc = cairn_cont_open(poh, argv[0], 0, &coh, NULL, NULL);
	if (rc) {
		if (rc == -CAIRN_ERR_NONEXIST)
			fprintf(stderr, "cairn: no container '%s' in this pool\n", argv[0]);
		return fail("container open", rc);
	}
	ret = fn(a, sub, coh, argv + 1, argc - 1);
	cairn_cont_close(coh, NULL);
	return ret;
}

static int cmd_cont_create(const struct args *a, struct cairn_handle poh, char **argv,
                           int argc);
static int cmd_cont_one(const struct args *a, const char *sub, struct cairn_handle poh,
                        const char *cont);

static int
cmd_cont(const struct args *a, const char *sub, struct cairn_handle poh, char **argv, int argc)
{
	int rc;

	if (strcmp(sub, "list") == 0)
		return argc == 0 ? cmd_cont_list(a, poh) : EXIT_USAGE;
	if (strcmp(sub, "create") == 0)
		return cmd_cont_create(a, poh, argv, argc);
	rc = cmd_cont_open_ops(a, sub, poh, argv, argc);
	if (rc >= 0)
		return rc;
	if (argc != 1)
		return EXIT_USAGE;
	return cmd_cont_one(a, sub, poh, argv[0]);
}

/* container create POOL (LABEL | --label L) [--type] [--oclass] [--chunk-size] [--csum]
 * [--rf]: every value checked here with a message saying what is allowed, and again by
 * libcairn and the container service. */
static int
cmd_cont_create(const struct args *a, struct cairn_handle poh, char **argv, int argc)
{
	struct cairn_cont_props p = {0};
	struct cairn_cont_info ci;
	const char *label;
	char err[200], sz[32];
	uint8_t uuid[16];
	uint64_t v;
	int oc, rc;

	if (argc > 1 || (argc == 1 && a->label) || (argc == 0 && !a->label)) {
		fprintf(stderr, "cairn: container create takes one label: POOL LABEL or POOL "
		        "--label LABEL\n");
		return EXIT_USAGE;
	}
	label = argc == 1 ? argv[0] : a->label;
	if (strlen(label) >= sizeof(p.label)) {
		fprintf(stderr, "cairn: label '%s' is longer than %d characters\n", label,
		        CAIRN_LABEL_MAX - 1);
		return EXIT_USAGE;
	}
	snprintf(p.label, sizeof(p.label), "%s", label);
	if (a->type) {
		if (strcasecmp(a->type, "POSIX") == 0)
			p.type = CAIRN_CONT_POSIX;
		else if (strcasecmp(a->type, "KV") == 0)
			p.type = CAIRN_CONT_KV;
		else if (strcasecmp(a->type, "ARRAY") == 0)
			p.type = CAIRN_CONT_ARRAY;
		else {
			fprintf(stderr, "cairn: --type '%s': expected POSIX, KV or ARRAY\n", a->type);
			return EXIT_USAGE;
		}
	}
	if (a->oclass) {
		if ((oc = cairn_oclass_from_name(a->oclass)) < 0) {
			fprintf(stderr, "cairn: unknown object class '%s' (S1, S2, S4, S8, SX, "
			        "RP_2G1, RP_3G1)\n", a->oclass);
			return EXIT_USAGE;
		}
		p.oclass = (uint32_t)oc;
	}
	if (a->chunk) {
		if (cairn_parse_size(a->chunk, &v, err, sizeof(err))) {
			fprintf(stderr, "cairn: --chunk-size '%s': %s\n", a->chunk, err);
			return EXIT_USAGE;
		}
		if (v == 0) {
			fprintf(stderr, "cairn: --chunk-size must be a power of two, 4K..1G\n");
			return EXIT_USAGE;
		}
		p.chunk_size = v;
	}
	if (a->csum) {
		if (strcasecmp(a->csum, "off") == 0 || strcasecmp(a->csum, "none") == 0)
			p.csum = CAIRN_CONT_CSUM_OFF;
		else if (strcasecmp(a->csum, "crc32c") == 0 || strcasecmp(a->csum, "on") == 0)
			p.csum = CAIRN_CONT_CSUM_CRC32C;
		else if (strcasecmp(a->csum, "crc64") == 0)
			p.csum = CAIRN_CONT_CSUM_CRC64;
		else {
			fprintf(stderr, "cairn: --csum '%s': expected off, crc32c or crc64\n", a->csum);
			return EXIT_USAGE;
		}
	}
	if (a->rf) {
		if (cairn_parse_u64(a->rf, 0, CAIRN_CONT_RF_MAX, &v, err, sizeof(err))) {
			fprintf(stderr, "cairn: --rf '%s': %s (0..%d)\n", a->rf, err,
			        CAIRN_CONT_RF_MAX);
			return EXIT_USAGE;
		}
		p.rf = (uint32_t)v;
	}
	if (cairn_cont_props_check(&p, err, sizeof(err))) {
		/* (exit 1 as the service's refusal would be: scripts see one behaviour) */
		fprintf(stderr, "cairn: container create: invalid label or property: %s\n", err);
		return EXIT_FAILED;
	}
	rc = cairn_cont_create_with_props(poh, &p, uuid, NULL);
	if (rc == -CAIRN_ERR_EXIST)
		fprintf(stderr, "cairn: a container labelled '%s' exists in this pool\n", label);
	else if (rc == -CAIRN_ERR_INVAL)
		fprintf(stderr, "cairn: the container service refused the properties (see the "
		        "engine log)\n");
	if (rc)
		return fail("container create", rc);
	rc = cairn_cont_query(poh, label, &ci, NULL);
	if (rc)
		return fail("container query", rc);
	if (a->json) {
		print_json(cont_json(&ci));
	} else {
		cairn_format_size(ci.chunk_size, sz, sizeof(sz));
		printf("Container %s created (type %s, class %s, chunk size %s, csum %s, rf %u)\n",
		       ci.label, type_name(ci.type), cairn_oclass_name((enum cairn_oclass)ci.oclass),
		       sz, csum_name(ci.csum), ci.rf);
	}
	return EXIT_OK;
}

static int
cmd_cont_one(const struct args *a, const char *sub, struct cairn_handle poh, const char *cont)
{
	struct cairn_cont_info ci;
	char *argv[1] = {(char *)cont};
	int rc;

	if (strcmp(sub, "destroy") == 0) {
		rc = cairn_cont_destroy(poh, argv[0], a->force, NULL);
		if (rc == -CAIRN_ERR_BUSY)
			fprintf(stderr, "cairn: container '%s' is open; close it or use --force\n",
			        argv[0]);
		else if (rc == -CAIRN_ERR_NONEXIST)
			fprintf(stderr, "cairn: no container '%s' in this pool\n", argv[0]);
		if (rc)
			return fail("container destroy", rc);
		if (!a->json)
			printf("Container %s destroyed\n", argv[0]);
		else
			print_json(json_pack("{s:s}", "destroyed", argv[0]));
		return EXIT_OK;
	}
	if (strcmp(sub, "query") == 0) {
		rc = cairn_cont_query(poh, argv[0], &ci, NULL);
		if (rc == -CAIRN_ERR_NONEXIST)
			fprintf(stderr, "cairn: no container '%s' in this pool\n", argv[0]);
		if (rc)
			return fail("container query", rc);
		if (a->json) {
			print_json(cont_json(&ci));
		} else {
			char us[CAIRN_UUID_STR_LEN];
			struct cairn_uuid u;

			memcpy(u.b, ci.uuid, 16);
			cairn_uuid_unparse(&u, us);
			char sz[32];

			cairn_format_size(ci.chunk_size, sz, sizeof(sz));
			printf("Container %s: uuid %s, type %s, class %s, chunk size %s, csum %s, "
			       "rf %u, %u open handle(s), next object id %llu\n",
			       ci.label, us, type_name(ci.type),
			       cairn_oclass_name((enum cairn_oclass)ci.oclass), sz, csum_name(ci.csum),
			       ci.rf, ci.nr_open, (unsigned long long)ci.oid_next);
		}
		return EXIT_OK;
	}
	return EXIT_USAGE;
}

static int
read_input(const struct args *a, void **buf, size_t *len)
{
	FILE *f;
	size_t cap = 1 << 16, n = 0, r;
	char *b;

	if (a->value) {
		*len = strlen(a->value);
		*buf = strdup(a->value);
		return *buf ? 0 : -CAIRN_ERR_NOMEM;
	}
	f = strcmp(a->in_file, "-") == 0 ? stdin : fopen(a->in_file, "rb");
	if (f == NULL) {
		fprintf(stderr, "cairn: cannot open %s: %s\n", a->in_file, strerror(errno));
		return -errno;
	}
	b = malloc(cap);
	while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n > CAIRN_OBJ_VALUE_MAX) {
			fprintf(stderr, "cairn: %s is larger than %u bytes\n", a->in_file,
			        CAIRN_OBJ_VALUE_MAX);
			free(b);
			b = NULL;
			break;
		}
		if (n == cap) {
			char *nb = realloc(b, cap * 2);

			if (nb == NULL) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	if (f != stdin)
		fclose(f);
	if (b == NULL)
		return -CAIRN_ERR_OVERFLOW;
	*buf = b;
	*len = n;
	return 0;
}

static int
cmd_obj(const struct args *a, const char *sub, struct cairn_handle coh, char **argv, int argc)
{
	struct cairn_obj_id oid = {0};
	struct cairn_handle oh;
	struct cairn_iov dk, ak, val;
	const char *akey = a->akey ? a->akey : "data";
	uint64_t lo;
	char err[128];
	int oc = 0, rc, ret = EXIT_FAILED;
	void *buf = NULL;
	size_t len = 0;

	if (argc < 1 || cairn_parse_u64(argv[0], 0, UINT64_MAX, &lo, err, sizeof(err))) {
		fprintf(stderr, "cairn: OID must be a decimal number\n");
		return EXIT_USAGE;
	}
	if (a->oclass && (oc = cairn_oclass_from_name(a->oclass)) < 0) {
		fprintf(stderr, "cairn: unknown object class '%s'\n", a->oclass);
		return EXIT_USAGE;
	}
	if (oc == 0) {
		struct cairn_obj_id tmp;

		/* The container's default class: an allocated id carries it. */
		rc = cairn_cont_alloc_oid(coh, CAIRN_OT_MULTI, CAIRN_OC_UNKNOWN, &tmp, NULL);
		if (rc)
			return fail("object class", rc);
		oc = cairn_obj_id_class(tmp);
	}
	oid.lo = lo;
	if (cairn_obj_id_generate(&oid, CAIRN_OT_MULTI, (enum cairn_oclass)oc))
		return EXIT_USAGE;
	rc = cairn_obj_open(coh, oid, 0, &oh, NULL);
	if (rc)
		return fail("object open", rc);
	if (strcmp(sub, "list") == 0) {
		struct cairn_anchor anchor;
		struct cairn_key_desc kds[64];
		static char kbuf[64 * 1024];
		uint32_t nr, i;
		size_t off;
		json_t *arr = json_array();

		if (argc != 1) {
			ret = EXIT_USAGE;
			goto out;
		}
		memset(&anchor, 0, sizeof(anchor));
		while (!cairn_anchor_is_eof(&anchor)) {
			nr = 64;
			rc = cairn_obj_list_dkey(oh, &anchor, &nr, kds, kbuf, sizeof(kbuf), NULL);
			if (rc) {
				json_decref(arr);
				ret = fail("object list", rc);
				goto out;
			}
			for (i = 0, off = 0; i < nr; i++) {
				if (a->json)
					json_array_append_new(arr, json_stringn(kbuf + off,
					                                        kds[i].key_len));
				else
					printf("%.*s\n", (int)kds[i].key_len, kbuf + off);
				off += kds[i].key_len;
			}
		}
		if (a->json)
			print_json(json_pack("{s:o}", "dkeys", arr));
		else
			json_decref(arr);
		ret = EXIT_OK;
		goto out;
	}
	if (argc != 2) {
		ret = EXIT_USAGE;
		goto out;
	}
	if (strlen(argv[1]) > CAIRN_OBJ_KEY_MAX || strlen(akey) > CAIRN_OBJ_KEY_MAX ||
	    argv[1][0] == '\0' || akey[0] == '\0') {
		fprintf(stderr, "cairn: dkey and akey are 1..%u bytes (got %zu and %zu)\n",
		        CAIRN_OBJ_KEY_MAX, strlen(argv[1]), strlen(akey));
		ret = EXIT_USAGE;
		goto out;
	}
	cairn_iov_set(&dk, argv[1], strlen(argv[1]));
	cairn_iov_set(&ak, (void *)akey, strlen(akey));
	if (strcmp(sub, "put") == 0) {
		if ((a->in_file == NULL) == (a->value == NULL)) {
			fprintf(stderr, "cairn: object put takes one of -i FILE or -v VALUE\n");
			ret = EXIT_USAGE;
			goto out;
		}
		rc = read_input(a, &buf, &len);
		if (rc)
			goto out;
		if (len == 0) {
			fprintf(stderr, "cairn: the value is empty (values are 1 byte or more)\n");
			goto out;
		}
		cairn_iov_set(&val, buf, len);
		rc = cairn_obj_update_cond(oh, a->put_cond, &dk, &ak, &val, NULL);
		if (rc == -CAIRN_ERR_EXIST && (a->put_cond & CAIRN_COND_DKEY_INSERT))
			fprintf(stderr, "cairn: dkey '%s' exists (--if-absent): nothing written\n",
			        argv[1]);
		else if (rc == -CAIRN_ERR_NONEXIST && (a->put_cond & CAIRN_COND_DKEY_UPDATE))
			fprintf(stderr, "cairn: dkey '%s' does not exist (--if-exists): nothing "
			        "written\n", argv[1]);
		else if (rc == -CAIRN_ERR_CSUM)
			fprintf(stderr, "cairn: the target received data that fails its checksum: "
			        "nothing written (see the engine log; check memory and network)\n");
		if (rc) {
			ret = fail("object put", rc);
			goto out;
		}
		if (a->json)
			print_json(json_pack("{s:I, s:s, s:I}", "oid", (json_int_t)lo, "dkey",
			                     argv[1], "size", (json_int_t)len));
		ret = EXIT_OK;
	} else if (strcmp(sub, "get") == 0) {
		FILE *f;

		cairn_iov_set(&val, NULL, 0);
		rc = cairn_obj_fetch(oh, &dk, &ak, &val, NULL); /* size first */
		if (rc && rc != -CAIRN_ERR_TRUNC) {
			ret = fail("object get", rc);
			goto out;
		}
		if (val.len == 0) {
			fprintf(stderr, "cairn: no value at dkey '%s' akey '%s'\n", argv[1], akey);
			goto out;
		}
		len = val.len;
		buf = malloc(len);
		if (buf == NULL)
			goto out;
		cairn_iov_set(&val, buf, len);
		rc = cairn_obj_fetch(oh, &dk, &ak, &val, NULL);
		if (rc) {
			ret = fail("object get", rc);
			goto out;
		}
		f = a->out_file ? fopen(a->out_file, "wb") : stdout;
		if (f == NULL) {
			fprintf(stderr, "cairn: cannot write %s: %s\n", a->out_file, strerror(errno));
			goto out;
		}
		if (fwrite(buf, 1, val.len, f) != val.len) {
			fprintf(stderr, "cairn: write failed: %s\n", strerror(errno));
			if (f != stdout)
				fclose(f);
			goto out;
		}
		if (f != stdout && fclose(f) != 0)
			goto out;
		ret = EXIT_OK;
	} else {
		ret = EXIT_USAGE;
	}
out:
	free(buf);
	cairn_obj_close(oh, NULL);
	return ret;
}

/* `cairn array`: the object class (--oclass or the container's default), then
 * cairn_array.c. */
static int
array_read_file(const char *path, void **buf, size_t *len)
{
	struct args t = {.in_file = path};

	return read_input(&t, buf, len);
}

static int
cmd_array(const struct args *a, const char *sub, struct cairn_handle coh, char **argv,
          int argc)
{
	struct cairn_cli_array_opts o = {.in_file = a->in_file, .value = a->value,
	                                 .out_file = a->out_file, .read_file = array_read_file};
	struct cairn_obj_id tmp;
	int oc = 0, rc;

	if (a->oclass && (oc = cairn_oclass_from_name(a->oclass)) < 0) {
		fprintf(stderr, "cairn: unknown object class '%s'\n", a->oclass);
		return EXIT_USAGE;
	}
	if (oc == 0) {
		rc = cairn_cont_alloc_oid(coh, CAIRN_OT_MULTI, CAIRN_OC_UNKNOWN, &tmp, NULL);
		if (rc)
			return fail("object class", rc);
		oc = cairn_obj_id_class(tmp);
	}
	o.oclass = (enum cairn_oclass)oc;
	return cairn_cli_array(sub, coh, argv, argc, &o);
}

/* Subcommands that only read connect read-only (the pool ACL's 'r'), the others
 * read-write ('r' and 'w'). */
static unsigned int
cli_connect_flags(const char *sub)
{
	static const char *const ro[] = {"query", "list-containers", "list", "get", "read", "size",
	                                 "get-prop", "list-attrs", "get-attr", "list-snaps"};
	size_t i;

	for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		if (strcmp(sub, ro[i]) == 0)
			return CAIRN_PC_RO;
	return CAIRN_PC_RW;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
	        {"sys", required_argument, NULL, 's'},    {"socket", required_argument, NULL, 'o'},
	        {"akey", required_argument, NULL, 'a'},   {"input", required_argument, NULL, 'i'},
	        {"value", required_argument, NULL, 'v'},  {"output", required_argument, NULL, 'O'},
	        {"oclass", required_argument, NULL, 'c'}, {"force", no_argument, NULL, 'f'},
	        {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
	        {"snap", required_argument, NULL, OPT_SNAP},
	        {"label", required_argument, NULL, OPT_LABEL},
	        {"type", required_argument, NULL, OPT_TYPE},
	        {"chunk-size", required_argument, NULL, OPT_CHUNK},
	        {"csum", required_argument, NULL, OPT_CSUM},
	        {"rf", required_argument, NULL, OPT_RF},
	        {"if-absent", no_argument, NULL, OPT_IF_ABSENT},
	        {"if-exists", no_argument, NULL, OPT_IF_EXISTS},
	        {NULL, 0, NULL, 0},
	};
	struct args a = {0};
	struct cairn_handle poh, coh;
	char sysbuf[128];
	const char *cmd, *sub;
	int c, rc, ret, nargs;
	char **rest;

	while ((c = getopt_long(argc, argv, "s:o:a:i:v:O:c:fjh", lopts, NULL)) != -1) {
		switch (c) {
		case 's': a.sys = optarg; break;
		case 'o': a.sock = optarg; break;
		case 'a': a.akey = optarg; break;
		case 'i': a.in_file = optarg; break;
		case 'v': a.value = optarg; break;
		case 'O': a.out_file = optarg; break;
		case 'c': a.oclass = optarg; break;
		case 'f': a.force = true; break;
		case 'j': a.json = true; break;
		case OPT_SNAP: a.snap = optarg; break;
		case OPT_LABEL: a.label = optarg; break;
		case OPT_TYPE: a.type = optarg; break;
		case OPT_CHUNK: a.chunk = optarg; break;
		case OPT_CSUM: a.csum = optarg; break;
		case OPT_RF: a.rf = optarg; break;
		case OPT_IF_ABSENT: a.put_cond |= CAIRN_COND_DKEY_INSERT; break;
		case OPT_IF_EXISTS: a.put_cond |= CAIRN_COND_DKEY_UPDATE; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind < 3) {
		fprintf(stderr, "cairn: expected COMMAND SUBCOMMAND POOL ...; see --help\n");
		return EXIT_USAGE;
	}
	if (a.put_cond == (CAIRN_COND_DKEY_INSERT | CAIRN_COND_DKEY_UPDATE)) {
		fprintf(stderr, "cairn: use one of --if-absent or --if-exists\n");
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	sub = argv[optind + 1];
	rest = argv + optind + 3;
	nargs = argc - optind - 3;
	if (strcmp(cmd, "pool") && strcmp(cmd, "container") && strcmp(cmd, "cont") &&
	    strcmp(cmd, "object") && strcmp(cmd, "obj") && strcmp(cmd, "array")) {
		fprintf(stderr, "cairn: unknown command '%s' (pool, container, object, array)\n",
		        cmd);
		return EXIT_USAGE;
	}
	ret = resolve_sys(&a, sysbuf, sizeof(sysbuf));
	if (ret)
		return ret;
	rc = cairn_init();
	if (rc)
		return fail("cairn_init", rc);
	rc = cairn_pool_connect(argv[optind + 2], a.sys, cli_connect_flags(sub), &poh, NULL,
	                        NULL);
	if (rc) {
		if (rc == -CAIRN_ERR_NONEXIST)
			fprintf(stderr, "cairn: no pool '%s' (see `cairnctl pool list`)\n",
			        argv[optind + 2]);
		if (rc == -CAIRN_ERR_PERM)
			fprintf(stderr, "cairn: the ACL of pool '%s' does not let you connect %s "
			        "(needs the '%s' permission; an administrator can grant it with "
			        "`cairnctl pool update-acl`)\n", argv[optind + 2],
			        cli_connect_flags(sub) == CAIRN_PC_RO ? "read-only" : "read-write",
			        cli_connect_flags(sub) == CAIRN_PC_RO ? "r" : "rw");
		ret = fail("pool connect", rc);
		cairn_fini();
		return ret;
	}
	ret = EXIT_USAGE;
	if (strcmp(cmd, "pool") == 0) {
		if (nargs == 0 && strcmp(sub, "query") == 0)
			ret = cmd_pool_query(&a, poh);
		else if (nargs == 0 && strcmp(sub, "list-containers") == 0)
			ret = cmd_cont_list(&a, poh);
	} else if (cmd[0] == 'c') {
		ret = cmd_cont(&a, sub, poh, rest, nargs);
	} else if (nargs >= 1) {
		uint64_t snap = 0;
		char err[128];

		if (a.snap && cairn_parse_u64(a.snap, 1, UINT64_MAX - 1, &snap, err, sizeof(err))) {
			fprintf(stderr, "cairn: --snap '%s': %s\n", a.snap, err);
			cairn_pool_disconnect(poh, NULL);
			cairn_fini();
			return EXIT_USAGE;
		}
		if (snap)
			rc = cairn_cont_open_snap(poh, rest[0], snap, &coh, NULL, NULL);
		else
			rc = cairn_cont_open(poh, rest[0], 0, &coh, NULL, NULL);
		if (rc) {
			if (rc == -CAIRN_ERR_NONEXIST && snap)
				fprintf(stderr, "cairn: no container '%s' or no snapshot at epoch %s "
				        "in it (see `cairn container list-snaps`)\n", rest[0], a.snap);
			else if (rc == -CAIRN_ERR_NONEXIST)
				fprintf(stderr, "cairn: no container '%s' in pool '%s'\n", rest[0],
				        argv[optind + 2]);
			ret = fail("container open", rc);
		} else {
			ret = strcmp(cmd, "array") == 0 ? cmd_array(&a, sub, coh, rest + 1, nargs - 1)
			                                : cmd_obj(&a, sub, coh, rest + 1, nargs - 1);
			cairn_cont_close(coh, NULL);
		}
	}
	if (ret == EXIT_USAGE)
		fprintf(stderr, "cairn: bad arguments for '%s %s'; see --help\n", cmd, sub);
	cairn_pool_disconnect(poh, NULL);
	cairn_fini();
	return ret;
}
