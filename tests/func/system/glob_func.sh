#!/bin/bash
# Functional test of the "gaps" of issue 5 with real processes on loopback:
# storage format -> cairn-server (1 engine, 2 targets) -> pool + container ->
# glob-client share: global pool/container handles passed to a fork+exec'd child
# through a pipe (object I/O both ways, damaged buffers refused, the engine refuses the
# handles after close/disconnect); glob-client runtime: cairn_init/fini start and stop
# the client runtime; glob-client stale: the pool map version is bumped on the engine
# (dRPC pool_map_bump) and a client holding the old map gets STALE, refreshes, retries;
# kill -9 the engine: the version survives the restart.
# Usage: glob_func.sh <bin dir> <glob-client binary>
set -u
BIN=${1:?usage: glob_func.sh <bin dir> <glob-client>}
CLIENT=${2:?usage: glob_func.sh <bin dir> <glob-client>}
CAIRN=$BIN/cairn
SERVER=$BIN/cairn-server
CTL=$BIN/cairnctl
T=$(mktemp -d /tmp/cairn-glob-func.XXXXXX)
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
name: globtest
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
jfield() { sed -n "s/^ *\"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" | head -1; }
ME=$(id -un)
MYGROUP=$(id -gn)

echo "== format, start, rank 0 joins"
"$SERVER" -o "$T/sys.yml" storage format >/dev/null || fail "format failed"
"$SERVER" -o "$T/sys.yml" start >"$T/srv.out" 2>"$T/srv.err" &
SRV_PID=$!
for _ in $(seq 100); do grep -q ready "$T/srv.out" 2>/dev/null && break; sleep 0.1; done
for _ in $(seq 150); do [ "$(q state)" = joined ] && break; sleep 0.1; done
[ "$(q state)" = joined ] || fail "rank 0 did not join"
URI=$(q uri)
[ -n "$URI" ] || fail "no engine URI"

ctl pool create -z 16M -l glob >/dev/null || fail "pool create"
out=$(cairn container create glob c1 2>&1) || fail "container create: $out"

echo "== global handles: fork + exec'd child uses the parent's connection"
timeout 60 "$CLIENT" "$URI" glob c1 share || fail "glob-client share"

echo "== cairn_init() starts the client runtime, cairn_fini() stops it; fork after init"
timeout 60 "$CLIENT" "$URI" glob c1 runtime || fail "glob-client runtime"

echo "== stale pool map: the engine's map moves on, the client refreshes and retries"
CAIRN_LOG_MASK=ERR,client=INFO timeout 60 "$CLIENT" "$URI" glob c1 stale "$T/sock/engine0.sock" \
	>"$T/stale.out" 2>&1 || { cat "$T/stale.out" >&2; fail "glob-client stale"; }
grep -v " INFO " "$T/stale.out"
n=$(grep -c "pool map is stale: refreshing and retrying" "$T/stale.out")
[ "$n" -ge 2 ] || { cat "$T/stale.out" >&2; fail "the client did not go through STALE + refresh ($n)"; }
echo "client refreshed its map after STALE $n time(s)"
grep -q "pool glob: pool map version now 3" "$T/engine0.log" || fail "engine did not log the bump"

echo "== kill -9 the engine: the bumped map version survives; I/O and STALE still work"
EPID=$(q pid)
kill -9 "$EPID"
for _ in $(seq 150); do
	p=$(q pid)
	[ -n "$p" ] && [ "$p" != "$EPID" ] && [ "$p" != null ] && [ "$(q state)" = joined ] && break
	sleep 0.1
done
[ "$(q state)" = joined ] && [ "$(q pid)" != "$EPID" ] || fail "engine not restarted"
URI=$(q uri)
v=$(ctl -j pool query glob | jfield map_version)
[ "$v" = 3 ] || fail "map version after restart: '$v', expected 3"
cairn object put glob c1 7 k -v after-restart >/dev/null || fail "put after restart"
[ "$(cairn object get glob c1 7 k)" = after-restart ] || fail "get after restart"
CAIRN_LOG_MASK=ERR,client=INFO timeout 60 "$CLIENT" "$URI" glob c1 stale "$T/sock/engine0.sock" \
	>"$T/stale2.out" 2>&1 || { cat "$T/stale2.out" >&2; fail "glob-client stale after restart"; }
grep -q "refreshed to v5" "$T/stale2.out" || { cat "$T/stale2.out" >&2; fail "not at v5"; }
echo "map version 3 survived the restart; bumped to 5 since"

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
