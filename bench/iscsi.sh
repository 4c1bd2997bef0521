#!/usr/bin/env bash
# iSCSI benchmark: tgtd vs cairn-tgt, each exporting a 1 GiB RAM-backed LUN (tgtd: a
# /dev/shm file; cairn-tgt: bdev_malloc), driven identically from this host over
# 127.0.0.1: libiscsi's iscsi-perf for reads, cairn-iscsi-perf for writes; 4 KiB random
# at QD1 and QD32, 128 KiB sequential at QD16. CPU per I/O of each target process from
# /proc/<pid>/stat (utime+stime over the run). Best of BENCH_ROUNDS alternating rounds.
# Table, then one JSON line (last line).
#
# Usage: bench/iscsi.sh [BUILD_DIR]   (default: build; binaries in BUILD_DIR/bin)
#   BENCH_SECONDS=N   seconds per workload run (default 10)
#   BENCH_ROUNDS=N    rounds; each figure is the best round (default 2)
#   TGT_CPUMASK=0x1   cairn-tgt core mask (default: unpinned, 1 reactor)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
CAIRN_TGT=${CAIRN_TGT:-$BUILD/bin/cairn-tgt}
CAIRN_RPC=${CAIRN_RPC:-$BUILD/bin/cairn-rpc}
CAIRN_ISCSI_PERF=${CAIRN_ISCSI_PERF:-$BUILD/bin/cairn-iscsi-perf}
SECS=${BENCH_SECONDS:-10}
. "$ROOT/tests/func/iscsi/lib.sh"
for b in "$CAIRN_TGT" "$CAIRN_RPC" "$CAIRN_ISCSI_PERF"; do
	[ -x "$b" ] || die "$b not built (cmake --build $BUILD)"
done
command -v iscsi-perf >/dev/null || die "iscsi-perf not installed (libiscsi-bin)"
command -v python3 >/dev/null || die "python3 not installed"
CLK_TCK=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run_read URL QD BLOCKS RANDOM(0|1) -> "iops" (iscsi-perf prints running averages)
run_read() {
	local url=$1 qd=$2 blocks=$3 rnd=$4 args
	args=(-m "$qd" -b "$blocks")
	[ "$rnd" = 1 ] && args+=(-r)
	timeout -s INT "$SECS" iscsi-perf "${args[@]}" "$url" 2>&1 | tr '\r' '\n' |
		sed -n 's/.*iops average \([0-9]*\).*/\1/p' | tail -1
}

# run_write URL QD BS MODE -> "iops"
run_write() {
	"$CAIRN_ISCSI_PERF" -w "$4" -b "$3" -q "$2" -t "$SECS" --json "$1" 2>/dev/null | tail -1 |
		python3 -c 'import json,sys; print(int(json.load(sys.stdin)["iops"]))'
}

# one_run NAME PID URL WORKLOAD -> line "NAME workload iops cpu_us_per_io cores"
one_run() {
	local name=$1 pid=$2 url=$3 w=$4 t0 t1 iops cpu
	t0=$(cpu_ticks "$pid")
	case $w in
	read_qd1) iops=$(run_read "$url" 1 8 1) ;;
	read_qd32) iops=$(run_read "$url" 32 8 1) ;;
	write_qd1) iops=$(run_write "$url" 1 4096 randwrite) ;;
	write_qd32) iops=$(run_write "$url" 32 4096 randwrite) ;;
	seqread_128k) iops=$(run_read "$url" 16 256 0) ;;
	seqwrite_128k) iops=$(run_write "$url" 16 131072 write) ;;
	esac
	t1=$(cpu_ticks "$pid")
	[ -n "$iops" ] && [ "$iops" -gt 0 ] 2>/dev/null || die "$name $w: no result"
	cpu=$(python3 -c "print(round(($t1-$t0)/$CLK_TCK*1e6/($iops*$SECS), 2))")
	echo "$name $w $iops $cpu $(python3 -c "print(round(($t1-$t0)/$CLK_TCK/$SECS, 2))")"
	log "$name $w: $iops IOPS, $cpu us CPU/IO"
}

RES=$TMP/results.txt
: >"$RES"
ROUNDS=${BENCH_ROUNDS:-2}

# Both targets run side by side (2 GiB of RAM); runs alternate tgtd / cairn-tgt per
# workload and round, so load changes on a shared machine hit both alike. Each figure
# is the best round.
TPORT=$(free_port)
CTRL=$(( 2000 + RANDOM % 30000 ))
start_tgtd "$TPORT" "$CTRL" iqn.2016-06.io.cairn:bench-tgtd 1024
TURL="iscsi://127.0.0.1:$TPORT/iqn.2016-06.io.cairn:bench-tgtd/1"
SOCK=$TMP/tgt.sock
CPORT=$(free_port)
if [ -n "${TGT_CPUMASK:-}" ]; then
	start_cairn_tgt "$SOCK" -m "$TGT_CPUMASK" -L ERR
else
	start_cairn_tgt "$SOCK" -L ERR
fi
cairn_export "$CPORT" iqn.2016-06.io.cairn:bench 1024 -d
CURL="iscsi://127.0.0.1:$CPORT/iqn.2016-06.io.cairn:bench/0"
for r in $(seq "$ROUNDS"); do
	for w in read_qd1 read_qd32 write_qd1 write_qd32 seqread_128k seqwrite_128k; do
		one_run tgtd "$TGTD_PID" "$TURL" "$w" >>"$RES"
		one_run cairn-tgt "$TGT_PID" "$CURL" "$w" >>"$RES"
	done
done
stop_tgtd
stop_pid "$TGT_PID"

python3 - "$RES" "$SECS" "$ROUNDS" <<'PY'
import json, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
r = {}
for n, w, i, c, cores in rows:  # best round per (target, workload)
    if (n, w) not in r or int(i) > r[(n, w)][0]:
        r[(n, w)] = (int(i), float(c), float(cores))
wl = ["read_qd1", "read_qd32", "write_qd1", "write_qd32", "seqread_128k", "seqwrite_128k"]
desc = {"read_qd1": "4 KiB rand read QD1 (iscsi-perf)",
        "read_qd32": "4 KiB rand read QD32 (iscsi-perf)",
        "write_qd1": "4 KiB rand write QD1 (cairn-iscsi-perf)",
        "write_qd32": "4 KiB rand write QD32 (cairn-iscsi-perf)",
        "seqread_128k": "128 KiB seq read QD16 (iscsi-perf)",
        "seqwrite_128k": "128 KiB seq write QD16 (cairn-iscsi-perf)"}
print("%-42s %10s %10s %6s %9s %9s %9s %9s" % ("workload", "tgtd IOPS", "cairn IOPS",
      "ratio", "tgtd us/IO", "cairn us/IO", "tgtd cores", "cairn cores"))
out = {"seconds_per_workload": int(sys.argv[2]), "rounds": int(sys.argv[3])}
for w in wl:
    t, c = r[("tgtd", w)], r[("cairn-tgt", w)]
    ratio = c[0] / t[0] if t[0] else 0.0
    print("%-42s %10d %10d %6.2f %9.2f %9.2f %9.2f %9.2f" % (desc[w], t[0], c[0], ratio,
          t[1], c[1], t[2], c[2]))
    out[w + "_vs_tgt"] = round(ratio, 3)
    out["tgtd_" + w + "_iops"] = t[0]
    out["cairn_" + w + "_iops"] = c[0]
    out["tgtd_" + w + "_cpu_us_per_io"] = t[1]
    out["cairn_" + w + "_cpu_us_per_io"] = c[1]
for w in wl:
    if w.startswith("seq"):
        out[w + "_mb_per_s_cairn"] = round(r[("cairn-tgt", w)][0] * 131072 / 1e6, 1)
        out[w + "_mb_per_s_tgtd"] = round(r[("tgtd", w)][0] * 131072 / 1e6, 1)
print(json.dumps(out, separators=(",", ":")))
PY
