#!/bin/bash
# Functional test of cairn-bench against a real single-node system on loopback:
# --create makes the container; update,fetch with verification on 1 and 2 threads, S1
# and SX, inline (4 KiB) and bulk (64 KiB) values, object and array API; the JSON last line has the counts
# asked for and ordered percentiles; a fetch-only run prefills its keys; duration mode
# stops; bad usage exits 2, an unknown container without --create exits 1, no system
# exits 3. No timing thresholds. Bounded: every wait has a limit.
# Usage: bench_func.sh <bin dir>
set -u
BIN=${1:?usage: bench_func.sh <bin dir>}
T=$(mktemp -d /tmp/cairn-bench-func.XXXXXX)
SRV_PID=
fail() {
	echo "FAIL: $*" >&2
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
command -v jq >/dev/null || fail "needs jq"

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
[ "$EPORT" -le "$PORT" ] && [ $((EPORT + 2)) -ge "$PORT" ] && EPORT=$((PORT + 10))
SOCK=$T/api.sock
cat > "$T/sys.yml" <<YML
name: benchfunc
mgmt_socket: $SOCK
port: $PORT
socket_dir: $T/sock
log_mask: NOTE
restart_backoff_min: 100ms
restart_backoff_max: 2s
max_restarts: 1
stop_timeout: 5s
engines:
  - targets: 2
    helpers: 0
    port: $EPORT
    storage:
      dir: $T/engine0
      target_size: 1G
    log_file: $T/engine0.log
    log_mask: NOTE
YML
ctl() { timeout 60 "$BIN/cairnctl" -o "$SOCK" -t 30 "$@"; }
bench() { timeout 60 "$BIN/cairn-bench" -o "$SOCK" --no-progress "$@"; }
state() { ctl -j system query 2>/dev/null | jq -r '.ranks[0].state // empty' 2>/dev/null; }

echo "== start a system, pool bench"
"$BIN/cairn-server" -o "$T/sys.yml" storage format >/dev/null 2>"$T/srv.err" || fail "format"
"$BIN/cairn-server" -o "$T/sys.yml" start >"$T/srv.out" 2>>"$T/srv.err" &
SRV_PID=$!
for _ in $(seq 150); do [ "$(state)" = joined ] && break; sleep 0.1; done
[ "$(state)" = joined ] || fail "rank 0 did not join"
ctl pool create -z 64M -l bench >/dev/null || fail "pool create"

echo "== update,fetch 4 KiB, depth 8, --create, verified"
out=$(bench -P bench -C c1 --create -w update,fetch -z 4k -d 8 -n 500 -k 64 -j) ||
	fail "4k run: $out"
j=$(echo "$out" | tail -1)
echo "$out" | head -1 | grep -q "p99.9_us" || fail "no table header: $out"
[ "$(echo "$j" | jq -r '.results | length')" = 2 ] || fail "not 2 phases: $j"
[ "$(echo "$j" | jq -r '.results[0].op + "," + .results[1].op')" = update,fetch ] ||
	fail "phases: $j"
[ "$(echo "$j" | jq '[.results[].ops] == [500, 500]')" = true ] || fail "op counts: $j"
[ "$(echo "$j" | jq '.results | all(.p50_us > 0 and .p50_us <= .p99_us and
	.p99_us <= .p999_us and .p999_us <= .max_us and .iops > 0 and .secs > 0)')" = true ] ||
	fail "figures: $j"
[ "$(echo "$j" | jq '.size == 4096 and .depth == 8 and .keys == 64 and .verify')" = true ] ||
	fail "parameters: $j"
"$BIN/cairn" -o "$SOCK" container query bench c1 >/dev/null || fail "c1 not created"

echo "== 2 threads, 64 KiB (bulk), class S1, fetch-only run prefills"
j=$(bench -P bench -C c1 -w fetch -z 64k -d 4 -t 2 -n 40 -k 8 -c S1 -j | tail -1) ||
	fail "64k run: $j"
[ "$(echo "$j" | jq '.results[0].op == "fetch" and .results[0].ops == 40 and
	.threads == 2 and .class == "S1"')" = true ] || fail "64k fetch: $j"

echo "== array API: 4 KiB and 1 MiB + 4 KiB (crosses chunks), written then read, verified"
for z in 4k 1052672; do
	j=$(bench -P bench -C c1 -a array -w update,fetch -z $z -d 4 -n 24 -k 8 -j | tail -1) ||
		fail "array $z run: $j"
	[ "$(echo "$j" | jq '.api == "array" and ([.results[].ops] == [24, 24])')" = true ] ||
		fail "array $z: $j"
done

echo "== duration mode stops"
j=$(bench -P bench -C c1 -z 1k -d 2 -D 300ms -k 16 -j | tail -1) || fail "duration run"
[ "$(echo "$j" | jq '.results[0].ops > 0 and .results[0].secs < 30')" = true ] ||
	fail "duration: $j"

echo "== bad usage: exit 2"
for args in "-C c1" "-P bench" "-P bench -C c1 -z 0" "-P bench -C c1 -z 65M" \
	"-P bench -C c1 -d 0" "-P bench -C c1 -d 8 -k 4" "-P bench -C c1 -w nope" \
	"-P bench -C c1 -c RP_9" "-P bench -C c1 -n 10 -D 1s" "-P bench -C c1 extra" \
	"-P bench -C c1 -t 2 -n 1" "-P bench -C c1 --bogus" "-P bench -C c1 -a kv"; do
	# shellcheck disable=SC2086
	out=$(bench $args 2>&1); rc=$?
	[ $rc = 2 ] && echo "$out" | grep -q "cairn-bench:" || fail "'$args': rc $rc: $out"
done
bench --help | grep -q -- "--depth" || fail "--help"

echo "== unknown container without --create: exit 1, a hint"
out=$(bench -P bench -C nosuch -n 10 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q -- "--create" || fail "unknown container: rc $rc: $out"
out=$(bench -P nosuchpool -C c1 -n 10 2>&1); rc=$?
[ $rc = 1 ] || fail "unknown pool: rc $rc: $out"

echo "== no system: exit 3"
out=$(timeout 60 "$BIN/cairn-bench" -o "$T/none.sock" -P bench -C c1 -n 10 2>&1); rc=$?
[ $rc = 3 ] && echo "$out" | grep -q "not reachable" || fail "no system: rc $rc: $out"

if ls "$T"/san.* >/dev/null 2>&1; then
	cat "$T"/san.* >&2
	fail "sanitizer reports"
fi
echo "PASS"
