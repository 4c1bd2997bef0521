/*
 * cairn-server main: `cairn-server [-o CONFIG] start | storage format [--force] |
 * storage query | config check`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <cairn/errno.h>

#include "common/json.h"
#include "common/log.h"

#include "control_internal.h"

static void
usage(FILE *f)
{
	fprintf(f,
	        "Usage: cairn-server [-o CONFIG] COMMAND\n"
	        "Cairn control plane: formats storage, runs and supervises engines, serves\n"
	        "the management API that cairnctl uses.\n\n"
	        "Commands:\n"
	        "  start                    run the server (until SIGTERM/SIGINT)\n"
	        "  storage format [--force] write superblocks and target files\n"
	        "  storage query            show the storage of every engine (JSON)\n"
	        "  config check             load and validate the configuration\n\n"
	        "Options:\n"
	        "  -o, --config PATH  YAML configuration (default %s,\n"
	        "                     or $CAIRN_SERVER_CONFIG)\n"
	        "  -h, --help         this text\n\n"
	        "Exit codes: 0 success, 1 failure, 2 bad usage or configuration.\n",
	        CTL_DEFAULT_CONFIG);
}

static int
apply_log(const struct ctl_config *cfg)
{
	int rc = cairn_log_init();

	if (rc == 0 && cfg->log_mask)
		rc = cairn_log_set_mask(cfg->log_mask);
	if (rc == 0 && cfg->log_file)
		rc = cairn_log_set_file(cfg->log_file);
	if (rc)
		fprintf(stderr, "cairn-server: log settings: %s\n", cairn_strerror(rc));
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
	        {"config", required_argument, NULL, 'o'},
	        {"force", no_argument, NULL, 'f'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *path = getenv("CAIRN_SERVER_CONFIG");
	struct ctl_config cfg;
	struct cairn_uuid uuid;
	char err[1024], us[CAIRN_UUID_STR_LEN];
	bool force = false;
	const char *cmd, *sub;
	json_t *j;
	int c, rc;

	if (path == NULL)
		path = CTL_DEFAULT_CONFIG;
	while ((c = getopt_long(argc, argv, "o:fh", lopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			path = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "cairn-server: missing command (start, storage format, storage "
		                "query, config check); see --help\n");
		return 2;
	}
	cmd = argv[optind];
	sub = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (!((strcmp(cmd, "start") == 0 && sub == NULL) ||
	      (strcmp(cmd, "storage") == 0 && sub &&
	       (strcmp(sub, "format") == 0 || strcmp(sub, "query") == 0) && optind + 2 == argc) ||
	      (strcmp(cmd, "config") == 0 && sub && strcmp(sub, "check") == 0 &&
	       optind + 2 == argc))) {
		fprintf(stderr, "cairn-server: unknown command '%s%s%s'; see --help\n", cmd,
		        sub ? " " : "", sub ? sub : "");
		return 2;
	}
	if (force && !(strcmp(cmd, "storage") == 0 && strcmp(sub, "format") == 0)) {
		fprintf(stderr, "cairn-server: --force only applies to `storage format`\n");
		return 2;
	}

	rc = ctl_config_load(path, &cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "cairn-server: %s\n", err);
		return 2;
	}
	if (apply_log(&cfg)) {
		ctl_config_free(&cfg);
		return 2;
	}
	if (strcmp(cmd, "start") == 0) {
		rc = ctl_server_run(&cfg);
	} else if (strcmp(cmd, "config") == 0) {
		printf("%s: valid (system %s, %u engine(s))\n", path, cfg.name, cfg.nr_engines);
		rc = 0;
	} else if (strcmp(sub, "format") == 0) {
		int lock_fds[CTL_MAX_ENGINES];

		rc = ctl_storage_lock(&cfg, lock_fds, err, sizeof(err));
		if (rc == 0) {
			rc = ctl_storage_format(&cfg, force, &uuid, err, sizeof(err));
			ctl_storage_unlock(&cfg, lock_fds);
		}
		if (rc) {
			fprintf(stderr, "cairn-server: storage format: %s\n", err);
			rc = 1;
		} else {
			cairn_uuid_unparse(&uuid, us);
			printf("formatted %u engine(s) of system %s (uuid %s)\n", cfg.nr_engines,
			       cfg.name, us);
		}
	} else {
		j = ctl_storage_query_json(&cfg);
		rc = j ? cairn_json_print(stdout, j, true) : -CAIRN_ERR_NOMEM;
		json_decref(j);
		rc = rc ? 1 : 0;
	}
	ctl_config_free(&cfg);
	cairn_log_fini();
	return rc;
}
