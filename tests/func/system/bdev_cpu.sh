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

echo "== format, start, pool and container"
sys_start
ctl pool create -z 256M -l vol >/dev/null || fail "pool create"
cairn container create vol vols >/dev/null || fail "container create"
tgt_init
IPORT=$(free_port 1) || fail "no free iSCSI port"
IQN=iqn.2016-06.io.cairn:vol0

echo "== cairn-tgt: bdev_cairn_create, export over iSCSI"
start_tgt
rpc rpc_get_methods | grep -q bdev_cairn_create || fail "cairn-tgt lacks bdev_cairn_create"
rpc rpc_get_methods | grep -q iscsi_create_target_node || fail "cairn-tgt built without iSCSI"
out=$(timeout 60 "$RPC" -s "$TSOCK" bdev_cairn_create Vol0 vol nosuch 67108864 2>&1) &&
	fail "bdev on a missing container created"
echo "$out" | grep -q "nosuch" || fail "missing container error does not name it: $out"
out=$(timeout 60 "$RPC" -s "$TSOCK" bdev_cairn_create Vol0 vol vols 1000 2>&1) &&
	fail "bdev with a size not a multiple of the block size created"
rpc bdev_cairn_create Vol0 vol vols 67108864 -b 4096 >/dev/null
rpc bdev_get_bdevs -b Vol0 | grep -q '"Cairn volume"' || fail "bdev_get_bdevs: $(rpc bdev_get_bdevs -b Vol0)"
rpc iscsi_create_portal_group 1 "127.0.0.1:$IPORT" >/dev/null
rpc iscsi_create_initiator_group 1 ANY 127.0.0.1/32 >/dev/null
rpc iscsi_create_target_node "$IQN" vol0 "Vol0:0" "1:1" 64 >/dev/null
ISCSI_URL="iscsi://127.0.0.1:$IPORT/$IQN/0"

echo "== cairn-iscsi-perf verify: 32 MiB written through iSCSI and read back (seed $SEED)"
timeout 120 "$PERF" -w verify --verify-mb 32 -b 65536 -q 16 -s "$SEED" "$ISCSI_URL" >"$T/v1.out" 2>&1 ||
	{ cat "$T/v1.out" >&2; fail "verify through the cairn bdev"; }
grep -q "all data matches" "$T/v1.out" || { cat "$T/v1.out" >&2; fail "verify mismatch"; }
grep -A1 IOPS "$T/v1.out"

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
