#!/bin/bash
# Engine configuration over dRPC (SETUP), with real processes on loopback:
# - an engine started without configuration options and nobody configuring it exits with
#   code 3 after --setup-timeout and says why in its log;
# - SIGTERM while waiting: clean exit 0;
# - setup-client: bad SetUpReqs are refused field by field (the engine keeps waiting and
#   answering), a good one starts it (GET_INFO: ready, targets, net contexts), SHUTDOWN;
# - cairn-server configures its engine with SETUP, and again after a crash (kill -9).
# Usage: setup_func.sh <bin dir> <setup-client binary>
set -u
BIN=${1:?usage: setup_func.sh <bin dir> <setup-client>}
CLIENT=${2:?usage: setup_func.sh <bin dir> <setup-client>}
ENGINE=$BIN/cairn-engine
. "$(dirname "$0")/../system/lib.sh"
EPID=
sys_cleanup_extra() { [ -n "$EPID" ] && stop_pid "$EPID"; }
sys_init setup

# wait_exit PID SECONDS: the exit code of a child, failing if it outlives the bound.
wait_exit() {
	for _ in $(seq $(($2 * 10))); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$1" 2>/dev/null && fail "pid $1 still running after $2 s"
	wait "$1"
}

echo "== nobody sends SETUP: exit 3 with a reason"
"$ENGINE" -d "$T/w.sock" --setup-timeout 1 --log-file "$T/w.log" >"$T/w.out" 2>&1 &
EPID=$!
wait_exit $EPID 20; rc=$?; EPID=
[ $rc = 3 ] || fail "engine without SETUP: exit $rc, expected 3"
grep -q "no valid SETUP on $T/w.sock within 1 s" "$T/w.log" || fail "no reason in the log"
grep -q "waiting for SETUP" "$T/w.out" || fail "no waiting line on stdout"
[ -e "$T/w.sock" ] && fail "socket left behind"
"$ENGINE" -t 1 --setup-timeout 5 >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "--setup-timeout with -t: exit $rc, expected 2"
out=$("$ENGINE" --setup-timeout 0 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q -- "--setup-timeout: '0': out of range" ||
	fail "--setup-timeout 0: exit $rc: $out"

echo "== SIGTERM while waiting: clean exit"
"$ENGINE" -d "$T/w.sock" --log-file "$T/w2.log" >"$T/w2.out" 2>&1 &
EPID=$!
for _ in $(seq 100); do grep -q "waiting for SETUP" "$T/w2.out" && break; sleep 0.1; done
grep -q "waiting for SETUP" "$T/w2.out" || fail "engine not waiting"
kill -TERM $EPID
wait_exit $EPID 20; rc=$?; EPID=
[ $rc = 0 ] || fail "SIGTERM while waiting: exit $rc, expected 0"

echo "== bad SETUPs refused, a good one starts the engine"
"$SERVER" -o "$T/sys.yml" storage format >/dev/null 2>&1 || fail "format failed"
"$ENGINE" -d "$T/e.sock" --log-file "$T/e.log" --log-mask NOTE >"$T/e.out" 2>&1 &
EPID=$!
timeout 60 "$CLIENT" "$T/e.sock" "$T/engine0" "$EPORT" 2 || fail "setup-client failed"
wait_exit $EPID 20; rc=$?; EPID=
[ $rc = 0 ] || fail "engine exit $rc after SHUTDOWN, expected 0"
grep -q "SETUP refused: targets" "$T/e.log" || fail "refusals not logged by the engine"
grep -q "SETUP accepted: rank 0 of system setuptest, 2 target(s)" "$T/e.log" ||
	fail "accepted SETUP not logged"

echo "== cairn-server sends SETUP, and again after a crash"
rm -rf "$T/engine0" # sys_start formats it afresh
sys_start
[ "$(grep -c 'SETUP accepted' "$T/engine0.log")" = 1 ] || fail "server did not configure the engine"
[ "$(q net_contexts)" = 3 ] || fail "net_contexts $(q net_contexts), expected 3"
P1=$(q pid)
kill -9 "$P1"
for _ in $(seq 150); do
	p=$(q pid)
	[ -n "$p" ] && [ "$p" != "$P1" ] && [ "$p" != null ] && [ "$(q state)" = joined ] && break
	sleep 0.1
done
[ "$(q state)" = joined ] && [ "$(q pid)" != "$P1" ] || fail "engine not restarted"
[ "$(grep -c 'SETUP accepted' "$T/engine0.log")" = 2 ] || fail "restart did not re-send SETUP"
[ "$(q net_contexts)" = 3 ] || fail "restarted engine: net_contexts $(q net_contexts)"
sys_stop
echo "PASS"
