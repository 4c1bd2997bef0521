#!/bin/bash
# Functional test of arrays, array values and KV objects with real processes on loopback:
# storage format -> cairn-server (one engine, 2 targets) -> pool + container ->
# array-client io SEED (random array I/O against a local model across chunk boundaries,
# sparse holes, set_size shrink/extend, punch, object extents, KV put/get/list/remove),
# array-client perf (64 MiB written and read back verified, MiB/s printed)
# -> cairn array write/read/size from the CLI -> kill -9 the engine, the server restarts
# it -> array-client verify SEED and the CLI data read back -> clean stop.
# Bounded: every wait has a limit. SEED: $CAIRN_TEST_SEED or random (printed).
# Usage: array_func.sh <bin dir> <array-client binary>
set -u
BIN=${1:?usage: array_func.sh <bin dir> <array-client>}
CLIENT=${2:?usage: array_func.sh <bin dir> <array-client>}
SEED=${CAIRN_TEST_SEED:-$((RANDOM * 32768 + RANDOM))}
. "$(dirname "$0")/lib.sh"
sys_init array

echo "== format, start, pool and container"
sys_start
ctl pool create -z 128M -l arr >/dev/null || fail "pool create"
cairn container create arr data >/dev/null || fail "container create"
URI=tcp://127.0.0.1:$EPORT

echo "== libcairn arrays, array values, KV (array-client io)"
timeout 120 "$CLIENT" "$URI" arr data io "$SEED" || fail "array-client io"

echo "== array throughput (array-client perf: 1 MiB async, 8 in flight, reads verified)"
timeout 120 "$CLIENT" "$URI" arr data perf "$SEED" || fail "array-client perf"

CLI_ARRAY=1
"$CAIRN" --help 2>/dev/null | grep -q "array write" || fail "cairn lacks the array command"
if [ $CLI_ARRAY = 1 ]; then
	echo "== cairn array write/read/size"
	head -c 300000 /dev/urandom >"$T/blob"
	cairn array write arr data 77 5000 -i "$T/blob" ||
		fail "cairn array write"
	[ "$(cairn array size arr data 77)" = 305000 ] ||
		fail "cairn array size: $(cairn array size arr data 77)"
	cairn array read arr data 77 5000 300000 -O "$T/blob.out" ||
		fail "cairn array read"
	cmp -s "$T/blob" "$T/blob.out" || fail "cairn array read back differs"
	cairn array read arr data 77 0 5000 -O "$T/hole" || fail "hole read"
	[ "$(tr -d '\0' <"$T/hole" | wc -c)" = 0 ] || fail "hole is not zeros"
	out=$(cairn array read arr data 78 0 10 -O "$T/x" 2>&1); rc=$?
	[ $rc = 1 ] && echo "$out" | grep -q "no array" || fail "read of a missing array: $out"
	cairn array write arr data 77 7 >/dev/null 2>&1; rc=$?
	[ $rc = 2 ] || fail "array write without a value: exit $rc"
	cairn array write arr data 77 1G -v tail || fail "array write at 1G"
	[ "$(cairn array size arr data 77)" = 1073741828 ] || fail "size after a 1G write"
fi

echo "== kill -9 the engine; the server restarts it"
EPID=$(q pid)
kill -9 "$EPID"
for _ in $(seq 150); do
	p=$(q pid)
	[ -n "$p" ] && [ "$p" != "$EPID" ] && [ "$p" != null ] && [ "$(q state)" = joined ] && break
	sleep 0.1
done
[ "$(q state)" = joined ] && [ "$(q pid)" != "$EPID" ] || fail "engine not restarted"

echo "== everything reads back after the restart (array-client verify)"
timeout 120 "$CLIENT" "$URI" arr data verify "$SEED" || fail "array-client verify"
if [ $CLI_ARRAY = 1 ]; then
	cairn array read arr data 77 5000 300000 -O "$T/blob.out2" ||
		fail "cairn array read after restart"
	cmp -s "$T/blob" "$T/blob.out2" || fail "CLI array data differs after kill -9"
fi

echo "== clean stop"
sys_stop
echo "PASS"
