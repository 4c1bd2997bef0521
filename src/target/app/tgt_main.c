/*
 * cairn-tgt: block gateway (iSCSI) with JSON-RPC management. Parses options into
 * struct cairn_tgt_opts and runs the app library.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/errno.h>

#include "jsonrpc/jsonrpc.h"
#include "tgt_app.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: cairn-tgt [options]\n"
		"Block gateway: exports bdevs over iSCSI, managed with JSON-RPC (cairn-rpc).\n\n"
		"  -m, --cpumask MASK    reactor cores as a hex mask (0x3) or list ([0,2-3]);\n"
		"                        xstreams are pinned to them\n"
		"      --cores LIST      same as a list: 0-3,6\n"
		"  -r, --rpc-socket PATH JSON-RPC Unix socket (default %s)\n"
		"      --rpc-tcp ADDR    also serve JSON-RPC on IPv4:port (e.g. 127.0.0.1:5260)\n"
		"  -c, --json FILE       replay a config at start (save_config output, or an\n"
		"                        array of {\"method\", \"params\"} calls)\n"
		"  -L, --logflag MASK    log mask, e.g. NOTE or ERR,iscsi=DEBUG (also\n"
		"                        CAIRN_LOG_MASK); levels FATAL ERR WARN NOTE INFO\n"
		"                        DEBUG TRACE\n"
		"      --log-file PATH   log to a file instead of stderr (also CAIRN_LOG_FILE)\n"
		"  -h, --help            this help\n\n"
		"Stops cleanly on SIGINT/SIGTERM (or the app_shutdown method).\n"
		"Example:\n"
		"  cairn-tgt -m 0x3 -r /tmp/tgt.sock &\n"
		"  cairn-rpc -s /tmp/tgt.sock bdev_malloc_create -b Malloc0 64 512\n",
		CAIRN_JSONRPC_DEFAULT_SOCK);
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "cpumask", required_argument, NULL, 'm' },
		{ "cores", required_argument, NULL, 'C' },
		{ "rpc-socket", required_argument, NULL, 'r' },
		{ "rpc-tcp", required_argument, NULL, 'T' },
		{ "json", required_argument, NULL, 'c' },
		{ "logflag", required_argument, NULL, 'L' },
		{ "log-file", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cairn_tgt_opts opts;
	static char cpu_list[512];
	unsigned count = 0;
	int c;

	cairn_tgt_opts_default(&opts);
	while ((c = getopt_long(argc, argv, "m:r:c:L:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (cairn_tgt_parse_core_mask(optarg, cpu_list, sizeof(cpu_list),
						      &count) != 0) {
				fprintf(stderr, "cairn-tgt: bad core mask '%s' (hex like 0x3, or "
						"a list like [0,2-3])\n", optarg);
				return 2;
			}
			opts.cpu_list = cpu_list;
			opts.nr_main = count;
			break;
		case 'C':
			if (cairn_tgt_parse_core_list(optarg, &count) != 0 ||
			    strlen(optarg) >= sizeof(cpu_list)) {
				fprintf(stderr, "cairn-tgt: bad core list '%s' (like 0-3,6)\n",
					optarg);
				return 2;
			}
			snprintf(cpu_list, sizeof(cpu_list), "%s", optarg);
			opts.cpu_list = cpu_list;
			opts.nr_main = count;
			break;
		case 'r':
			opts.rpc_path = optarg;
			break;
		case 'T':
			opts.rpc_tcp = optarg;
			break;
		case 'c':
			opts.json_config = optarg;
			break;
		case 'L':
			opts.log_mask = optarg;
			break;
		case 'F':
			opts.log_file = optarg;
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
		fprintf(stderr, "cairn-tgt: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return cairn_tgt_run(&opts);
}
