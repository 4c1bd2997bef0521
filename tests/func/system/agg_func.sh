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
CAIRN=$BIN/cairn
SERVER=$BIN/cairn-server
CTL=$BIN/cairnctl
SEED=${CAIRN_TEST_SEED:-$((RANDOM % 1000 + 1))}
T=$(mktemp -d /tmp/cairn-agg-func.XXXXXX)
SRV_PID=
fail() {
	echo "FAIL (seed $SEED): $*" >&2
	[ -f "$T/srv.err" ] && tail -20 "$T/srv.err" >&2
	[ -f "$T/engine0.log" ] && tail -20 "$T/engine0.log" >&2
	exit 1
}
cleanup() {
	if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
		kill -TERM "$SRV_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SRV_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/san"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$T/san"
echo "seed $SEED (set CAIRN_TEST_SEED to replay)"

free_port() {
	local p t busy
	for _ in $(seq 30); do
		p=$((20000 + RANDOM % 12000)); busy=0
		for t in $(seq 0 $(($1 - 1))); do
			(exec 3<>/dev/tcp/127.0.0.1/$((p + t))) 2>/dev/null && busy=1
		done
		[ $busy = 0 ] && { echo $p; return 0; }
	done
	return 1
}
PORT=$(free_port 1) || fail "no free port"
EPORT=$(free_port 3) || fail "no free engine ports"
[ $EPORT -le $PORT ] && [ $((EPORT + 2)) -ge $PORT ] && EPORT=$((PORT + 10))
SOCK=$T/api.sock
cat > "$T/sys.yml" <<YML
name: aggtest
mgmt_socket: $SOCK
port: $PORT
socket_dir: $T/sock
log_mask: NOTE
restart_backoff_min: 100ms
restart_backoff_max: 2s
max_restarts: 3
stop_timeout: 5s
engines:
  - targets: 2
    helpers: 0
    port: $EPORT
    storage:
      dir: $T/engine0
      target_size: 8M
    log_file: $T/engine0.log
    log_mask: NOTE
YML
ctl() { "$CTL" -o "$SOCK" -t 30 "$@"; }
cairn() { timeout 30 "$CAIRN" -o "$SOCK" "$@"; }
q() { ctl -j system query 2>/dev/null |
	sed -n "s/^ *\"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" | head -1; }

echo "== format, start, pool and container"
"$SERVER" -o "$T/sys.yml" storage format >/dev/null || fail "format failed"
"$SERVER" -o "$T/sys.yml" start >"$T/srv.out" 2>"$T/srv.err" &
SRV_PID=$!
for _ in $(seq 150); do [ "$(q state)" = joined ] && break; sleep 0.1; done
[ "$(q state)" = joined ] || fail "rank 0 did not join"
ctl pool create -z 32M -l agg >/dev/null || fail "pool create"
cairn container create agg c1 >/dev/null || fail "container create"
URI=tcp://127.0.0.1:$EPORT



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
kill -TERM "$SRV_PID"
for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SRV_PID" 2>/dev/null && fail "server did not stop"
wait "$SRV_PID"; rc=$?
SRV_PID=
[ $rc = 0 ] || fail "server exit $rc"
if ls "$T"/san.* >/dev/null 2>&1; then
	cat "$T"/san.* >&2
	fail "sanitizer reports"
fi
echo "PASS"
