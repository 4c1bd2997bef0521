/*
 * cairn-engine main: parse options (daos_engine style), fill cairn_engine_opts, run.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#include "common/units.h"

#include "engine_internal.h"

static void
usage(FILE *f)
{
	fprintf(f,
	        "Usage: cairn-engine [options]\n"
	        "Cairn data-plane engine (normally started by cairn-server).\n\n"
	        "  -t, --targets N      target (main) xstreams, 1..%u (default 1)\n"
	        "  -x, --helpers N      helper xstreams, 0..%u (default 0)\n"
	        "  -s, --storage DIR    formatted storage directory (target-<i> files)\n"
	        "  -p, --port PORT      fabric port on 127.0.0.1 (URI tcp://127.0.0.1:PORT)\n"
	        "      --uri URI        fabric URI (overrides -p for reporting)\n"
	        "  -d, --drpc PATH      dRPC socket path (default %s)\n"
	        "  -r, --rank N         initial rank (default: assigned by cairn-server)\n"
	        "      --log-mask MASK  e.g. ERR,engine=INFO (see CAIRN_LOG_MASK)\n"
	        "      --log-file PATH  log file (default stderr)\n"
	        "      --pin            pin xstreams to cores\n"
	        "      --setup-timeout S  seconds to wait for SETUP (default %u, max %u)\n"
	        "  -h, --help           this text\n\n"
	        "Without any of -t/-x/-s/-p/--uri/-r/--pin the engine waits (up to\n"
	        "--setup-timeout) for cairn-server to send its whole configuration in a dRPC\n"
	        "SETUP on the -d socket, as cairn-server does when it launches engines; with\n"
	        "any of them it starts at once from the command line.\n\n"
	        "Exit codes: 0 clean shutdown, 1 start-up failure, 2 bad options,\n"
	        "3 no valid SETUP within --setup-timeout.\n",
	        ENGINE_MAX_TARGETS, ENGINE_MAX_HELPERS, ENGINE_DEFAULT_DRPC, ENGINE_SETUP_TIMEOUT_S,
	        ENGINE_SETUP_TIMEOUT_MAX_S);
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
	        {"targets", required_argument, NULL, 't'},
	        {"helpers", required_argument, NULL, 'x'},
	        {"storage", required_argument, NULL, 's'},
	        {"port", required_argument, NULL, 'p'},
	        {"uri", required_argument, NULL, 'U'},
	        {"drpc", required_argument, NULL, 'd'},
	        {"rank", required_argument, NULL, 'r'},
	        {"log-mask", required_argument, NULL, 'M'},
	        {"log-file", required_argument, NULL, 'L'},
	        {"pin", no_argument, NULL, 'P'},
	        {"setup-timeout", required_argument, NULL, 'W'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct cairn_engine_opts opts;
	char err[160];
	bool configured = false; /* a configuration option was given */
	uint32_t v;
	int c;

	engine_opts_default(&opts);
	while ((c = getopt_long(argc, argv, "t:x:s:p:d:r:h", lopts, NULL)) != -1) {
		if (strchr("txspUrP", c))
			configured = true;
		switch (c) {
		case 't':
			if (cairn_parse_u32(optarg, 1, ENGINE_MAX_TARGETS, &v, err, sizeof(err)))
				goto bad;
			opts.targets = v;
			break;
		case 'x':
			if (cairn_parse_u32(optarg, 0, ENGINE_MAX_HELPERS, &v, err, sizeof(err)))
				goto bad;
			opts.helpers = v;
			break;
		case 's':
			opts.storage_dir = optarg;
			break;
		case 'p':
			if (cairn_parse_u32(optarg, 1, 65535, &v, err, sizeof(err)))
				goto bad;
			opts.port = v;
			break;
		case 'U':
			if (strlen(optarg) >= ENGINE_URI_MAX) {
				snprintf(err, sizeof(err), "URI longer than %d bytes",
				         ENGINE_URI_MAX - 1);
				goto bad;
			}
			opts.uri = optarg;
			break;
		case 'd':
			opts.drpc_path = optarg;
			break;
		case 'r':
			if (cairn_parse_u32(optarg, 0, (1u << 20) - 1, &v, err, sizeof(err)))
				goto bad;
			opts.rank = (int)v;
			break;
		case 'M':
			opts.log_mask = optarg;
			break;
		case 'L':
			opts.log_file = optarg;
			break;
		case 'P':
			opts.pin = true;
			break;
		case 'W':
			if (cairn_parse_u32(optarg, 1, ENGINE_SETUP_TIMEOUT_MAX_S, &v, err,
			                    sizeof(err)))
				goto bad;
			opts.setup_timeout_s = v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cairn-engine: unexpected argument '%s' (see --help)\n",
		        argv[optind]);
		return 2;
	}
	opts.wait_setup = !configured;
	if (configured && opts.setup_timeout_s) {
		fprintf(stderr, "cairn-engine: --setup-timeout applies only to an engine that "
		                "waits for SETUP (no -t/-x/-s/-p/--uri/-r/--pin)\n");
		return 2;
	}
	return cairn_engine_run(&opts);
bad:
	for (v = 0; lopts[v].name != NULL && lopts[v].val != c; v++)
		;
	fprintf(stderr, "cairn-engine: option --%s: %s\n", lopts[v].name ? lopts[v].name : "?",
	        err);
	return 2;
}
