#!/bin/bash
# Functional test of the cairn volume bdev with real processes on loopback:
# cairn-server + engine (2 targets) -> pool + container -> cairn-tgt with
# bdev_cairn_create (a 64 MiB volume stored as a Cairn array) exported over iSCSI ->
# cairn-iscsi-perf verify (pattern written through iSCSI and read back) -> save_config,
# stop cairn-tgt, kill -9 the engine (the server restarts it), start cairn-tgt again from
# the saved config -> cairn-iscsi-perf verify-read: every byte is still there -> clean stop.
# Bounded: every wait has a limit.
# Usage: cairn_bdev_func.sh <bin dir>
set -u
BIN=${1:?usage: cairn_bdev_func.sh <bin dir>}
SEED=${CAIRN_TEST_SEED:-$((RANDOM % 1000 + 1))}
. "$(dirname "$0")/lib.sh"
sys_init bdev

vol_export
timeout 60 "$PERF" -w randwrite -t 1 -q 16 -b 4096 -s 99 "$ISCSI_URL" >"$T/w4k.out" 2>&1 ||
	{ cat "$T/w4k.out" >&2; fail "4 KiB random writes"; }
grep -A1 IOPS "$T/w4k.out"
# the random writes hit the verified region too: write the pattern again and check
timeout 120 "$PERF" -w verify --verify-mb 32 -b 65536 -q 16 -s "$SEED" "$ISCSI_URL" >"$T/v1.out" 2>&1 ||
	{ cat "$T/v1.out" >&2; fail "second verify"; }
rpc save_config -o "$T/tgt.json"
grep -q bdev_cairn_create "$T/tgt.json" || fail "save_config lacks bdev_cairn_create"

echo "== stop cairn-tgt; kill -9 the engine; the server restarts it"
stop_tgt
EPID=$(q pid)
kill -9 "$EPID"
for _ in $(seq 150); do
	p=$(q pid)
	[ -n "$p" ] && [ "$p" != "$EPID" ] && [ "$p" != null ] && [ "$(q state)" = joined ] && break
	sleep 0.1
done
[ "$(q state)" = joined ] && [ "$(q pid)" != "$EPID" ] || fail "engine not restarted"

echo "== cairn-tgt again from the saved config; verify-read through iSCSI"
start_tgt --json "$T/tgt.json"
rpc bdev_get_bdevs -b Vol0 >/dev/null
timeout 120 "$PERF" -w verify-read --verify-mb 32 -b 65536 -q 16 -s "$SEED" "$ISCSI_URL" >"$T/v2.out" 2>&1 ||
	{ cat "$T/v2.out" >&2; fail "verify-read after restarting the gateway and the engine"; }
grep -q "all data matches" "$T/v2.out" || { cat "$T/v2.out" >&2; fail "data lost"; }
grep -A1 IOPS "$T/v2.out"
rpc iscsi_delete_target_node "$IQN" >/dev/null
rpc bdev_cairn_delete Vol0 >/dev/null
rpc bdev_get_bdevs | grep -q Vol0 && fail "Vol0 still listed after delete"
stop_tgt

echo "== clean stop"
sys_stop
echo "PASS"
