#!/bin/bash
# Functional test of background aggregation with real processes on loopback: one key of a
# 32 MiB-per-target pool is overwritten with 256 KiB values far more times than the pool
# can hold (~40 MiB on its target). Without aggregation the writes hit NOSPACE after
# about 80 of them; with it the old versions are merged and their space freed while the
# writes go on, so every write succeeds and the last value reads back intact.
# Bounded: a fixed number of writes, every wait has a limit.
# Usage: agg_func.sh <bin dir>
set -u
BIN=${1:?usage: agg_func.sh <bin dir>}
. "$(dirname "$0")/lib.sh"
sys_init agg

echo "== format, start, pool and container"
sys_start
ctl pool create -z 32M -l agg >/dev/null || fail "pool create"
cairn container create agg c1 >/dev/null || fail "container create"

echo "== 240 overwrites of one 256 KiB value (60 MiB in all) at a steady pace"
head -c 262144 /dev/urandom >"$T/v0"
n=0
for i in $(seq 240); do
	printf '%08d' "$i" | dd of="$T/v0" bs=1 seek=0 conv=notrunc status=none
	cairn object put agg c1 1 k -i "$T/v0" >"$T/put.out" 2>&1 ||
		fail "write $i failed (aggregation did not free space?): $(cat "$T/put.out")"
	n=$((n + 1))
	sleep 0.05
done
cairn object get agg c1 1 k -O "$T/back" || fail "read back"
cmp -s "$T/v0" "$T/back" || fail "last value differs"
grep -q "aggregat" "$T/engine0.log" && grep "aggregat" "$T/engine0.log" | tail -3
echo "$n writes of 256 KiB to one key of a 32 MiB target: all succeeded"

echo "== clean stop"
sys_stop
echo "PASS"
