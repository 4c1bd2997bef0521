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
. "$(dirname "$0")/lib.sh"
sys_init glob
ME=$(id -un)
MYGROUP=$(id -gn)

echo "== format, start, rank 0 joins"
sys_start
URI=$(q uri)
[ -n "$URI" ] || fail "no engine URI"

ctl pool create -z 16M -l glob >/dev/null || fail "pool create"
out=$(cairn container create glob c1 2>&1) || fail "container create: $out"

echo "== global handles: fork + exec'd child uses the parent's connection"
timeout 60 "$CLIENT" "$URI" glob c1 share || fail "glob-client share"

echo "== cairn_init() starts the client runtime, cairn_fini() stops it; fork after init"
timeout 60 "$CLIENT" "$URI" glob c1 runtime || fail "glob-client runtime"

echo "== fork() after connecting: 4 children use global handles with runtimes of their own"
timeout 120 "$CLIENT" "$URI" glob c1 forks 4 || fail "glob-client forks"

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
sys_stop
echo "PASS"
