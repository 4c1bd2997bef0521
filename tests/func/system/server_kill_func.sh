#!/bin/bash
# Functional test: kill -9 of the control plane (cairn-server) loses nothing.
#  - the engine it launched notices its parent's death (PR_SET_PDEATHSIG -> SIGTERM) and
#    shuts down cleanly within a bounded time: no orphan engine keeps the storage busy;
#  - a new cairn-server on the same config (stale API socket left behind by the killed
#    one) starts, relaunches the engine, and every acknowledged pool create, container
#    create and object put is there with the right content;
#  - killed again in the middle of a put workload and of a pool create: same checks.
# Bounded: every wait and loop has a limit.
# Usage: server_kill_func.sh <bin dir>
set -u
BIN=${1:?usage: server_kill_func.sh <bin dir>}
WRITER=
sys_cleanup_extra() {
	[ -n "$WRITER" ] && kill -KILL "$WRITER" 2>/dev/null
	# an engine orphaned by a failed check must not outlive the test
	[ -n "${EPID:-}" ] && kill -KILL "$EPID" 2>/dev/null
}
. "$(dirname "$0")/lib.sh"
sys_init srvkill

# kill -9 the server; the engine must exit by itself (bounded); clears SRV_PID.
kill_server() {
	local clean
	EPID=$(q pid)
	[ -n "$EPID" ] && [ "$EPID" != null ] || fail "no engine pid before the kill"
	clean=$(grep -c "SIGTERM: shutting down" "$T/engine0.log")
	kill -KILL "$SRV_PID"
	wait "$SRV_PID" 2>/dev/null
	SRV_PID=
	for _ in $(seq 100); do kill -0 "$EPID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$EPID" 2>/dev/null && fail "engine $EPID still running 10 s after its server died"
	[ "$(grep -c "SIGTERM: shutting down" "$T/engine0.log")" -gt "$clean" ] ||
		fail "engine $EPID did not shut down cleanly"
	EPID=
}

# Start a server on the existing storage (no format); wait for rank 0 to join.
restart_server() {
	[ -S "$SOCK" ] || fail "expected the killed server's API socket to be left behind"
	"$SERVER" -o "$T/sys.yml" start >>"$T/srv.out" 2>>"$T/srv.err" &
	SRV_PID=$!
	for _ in $(seq 150); do [ "$(q state)" = joined ] && break; sleep 0.1; done
	[ "$(q state)" = joined ] || fail "rank 0 did not join after the server restart"
}

head -c 1 /dev/urandom >"$T/v1"
head -c 4096 /dev/urandom >"$T/v4k"
head -c 1048576 /dev/urandom >"$T/v1m"
files=("${ACKED_FILES[@]}")

echo "== format, start; pool, container and data acknowledged"
sys_start
ctl pool create -z 64M -l p1 >/dev/null || fail "pool create p1"
UUID1=$(ctl -j pool query p1 | jfield uuid)
cairn container create p1 c1 >/dev/null || fail "container create c1"
for v in "${files[@]}"; do
	cairn object put p1 c1 3 "$v" -i "$T/$v" || fail "put $v"
done

echo "== kill -9 cairn-server: the engine stops by itself"
kill_server

echo "== a new cairn-server brings everything back"
restart_server
[ "$(ctl -j pool query p1 | jfield uuid)" = "$UUID1" ] || fail "pool p1 lost or changed"
cairn container list p1 | grep -q " c1$" || fail "container c1 lost"
for v in "${files[@]}"; do
	cairn object get p1 c1 3 "$v" -O "$T/$v.out" || fail "get $v after the restart"
	cmp -s "$T/$v" "$T/$v.out" || fail "$v differs after the restart"
done

echo "== kill -9 cairn-server during a put workload"
acked_writer p1 c1 9
acked_wait 15
kill_server
wait "$WRITER"
WRITER=
restart_server
acked_check p1 c1 9
echo "   $ACKED_N acknowledged puts before kill -9 of the server: all readable and intact"

echo "== kill -9 cairn-server right after an acknowledged pool create"
ctl pool create -z 32M -l p2 >/dev/null || fail "pool create p2"
UUID2=$(ctl -j pool query p2 | jfield uuid)
kill_server
restart_server
[ "$(ctl -j pool query p2 | jfield uuid)" = "$UUID2" ] || fail "acknowledged pool p2 lost"
[ "$(ctl -j pool query p2 | jfield targets_up)" = 2 ] || fail "p2's shards not reopened"
cairn container create p2 c2 >/dev/null || fail "container create in p2 after the restart"
cairn object put p2 c2 1 k -i "$T/v4k" || fail "put into p2 after the restart"

echo "== destroy, clean stop"
ctl pool destroy p2 >/dev/null || fail "destroy p2"
ctl pool destroy p1 >/dev/null || fail "destroy p1"
[ "$(tgt used 0)" = 0 ] && [ "$(tgt used 1)" = 0 ] || fail "extents left: $(ctl storage query)"
sys_stop
echo "PASS"
