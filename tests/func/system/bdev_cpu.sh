#!/bin/bash
# Measurement (not a ctest: no timing thresholds): CPU use of cairn-tgt with a cairn
# volume bdev exported over iSCSI, idle and under 4 KiB random writes. Reads
# /proc/<pid>/stat (utime+stime) over fixed windows; prints a table, then one JSON line.
# Same setup as cairn_bdev_func.sh. Usage: bdev_cpu.sh <bin dir>
set -u
BIN=${1:?usage: cairn_bdev_func.sh <bin dir>}
SEED=${CAIRN_TEST_SEED:-$((RANDOM % 1000 + 1))}
. "$(dirname "$0")/lib.sh"
sys_init bdevcpu

# its write windows overwrite the 64 MiB volume many times over before aggregation
# reclaims the old versions: a pool with room for that
VOL_POOL_SIZE=768M vol_export

HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# cpu_pct PID SECONDS: CPU percent of PID over the window
cpu_pct() {
	local a b
	a=$(cpu_ticks "$1"); sleep "$2"; b=$(cpu_ticks "$1")
	awk -v d=$((b - a)) -v hz="$HZ" -v s="$2" 'BEGIN { printf "%.1f", 100 * d / hz / s }'
}
sleep 1
IDLE=$(cpu_pct "$TGT_PID" 2)
timeout 60 "$PERF" -w randwrite -t 1.5 -q 16 -b 4096 -s 99 "$ISCSI_URL" >"$T/w4k.out" 2>&1 &
PERF_PID=$!
sleep 0.2
BUSY=$(cpu_pct "$TGT_PID" 1)
wait "$PERF_PID" || { cat "$T/w4k.out" >&2; fail "4 KiB random writes"; }
IOPS=$(awk '/IOPS/ { getline; print $1; exit }' "$T/w4k.out")
sleep 1
IDLE2=$(cpu_pct "$TGT_PID" 2)
printf '%-34s %8s\n' "cairn-tgt + cairn bdev" "CPU %"
printf '%-34s %8s\n' "idle (2 s, after verify)" "$IDLE"
printf '%-34s %8s\n' "4 KiB randwrite qd16 (1 s)" "$BUSY"
printf '%-34s %8s\n' "idle again (2 s)" "$IDLE2"
grep -A1 IOPS "$T/w4k.out"
rpc iscsi_delete_target_node "$IQN" >/dev/null
rpc bdev_cairn_delete Vol0 >/dev/null
stop_tgt
kill -TERM "$SRV_PID"
for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
wait "$SRV_PID"
SRV_PID=
printf '{"tgt_idle_cpu_pct": %s, "tgt_busy_cpu_pct": %s, "tgt_idle_after_cpu_pct": %s, "randwrite_4k_iops": "%s"}\n' \
	"$IDLE" "$BUSY" "$IDLE2" "$IOPS"
