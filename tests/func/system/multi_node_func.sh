#!/bin/bash
# Functional test of two cairn-server processes (nodes) forming one system on loopback:
# server A is the management service (1 engine, rank 0); server B has `access_points:`
# naming A's API port (1 engine). A assigns B's engine rank 1; `cairnctl system query`
# on A lists both; a pool spans the targets of both servers; KV I/O lands on both; B
# stopped: its rank goes stopped on A and its keys fail with UNREACH; B started again:
# same rank, everything reads back; pool methods on B are refused with a pointer to A;
# pool destroy leaves no shard files on either node.
# Usage: multi_node_func.sh <bin dir> <multi-client binary>
set -u
BIN=${1:?usage: multi_node_func.sh <bin dir> <multi-client>}
CLIENT=${2:?usage: multi_node_func.sh <bin dir> <multi-client>}
. "$(dirname "$0")/lib.sh"
sys_init node
B_PID=
sys_cleanup_extra() { [ -n "$B_PID" ] && stop_pid "$B_PID"; }

PORTB=$(free_port 1) || fail "no free port"
EPORTB=$(free_port 3) || fail "no free engine ports"
for _ in $(seq 20); do
	{ [ $EPORTB -le $((EPORT + 2)) ] && [ $((EPORTB + 2)) -ge $EPORT ]; } ||
		{ [ $EPORTB -le $PORT ] && [ $((EPORTB + 2)) -ge $PORT ]; } ||
		{ [ $EPORTB -le $PORTB ] && [ $((EPORTB + 2)) -ge $PORTB ]; } || break
	EPORTB=$(free_port 3) || fail "no free engine ports"
done
cat >"$T/b.yml" <<YML
name: nodetest
mgmt_socket: $T/b.sock
port: $PORTB
socket_dir: $T/bsock
log_mask: NOTE
restart_backoff_min: 100ms
restart_backoff_max: 2s
max_restarts: 3
stop_timeout: 5s
access_points: ["127.0.0.1:$PORT"]
engines:
  - targets: 2
    helpers: 0
    port: $EPORTB
    storage:
      dir: $T/nodeb
      target_size: 1G
    log_file: $T/nodeb.log
    log_mask: NOTE
YML
ctlb() { "$CTL" -o "$T/b.sock" -t 30 "$@"; }
# rank_state_a R: state of rank R in server A's system query (text table)
rank_state_a() { ctl system query 2>/dev/null | awk -v r="$1" '$1 == r { print $2 }'; }
start_b() {
	"$SERVER" -o "$T/b.yml" start >"$T/b.out" 2>"$T/b.err" &
	B_PID=$!
	for _ in $(seq 200); do [ "$(rank_state_a 1)" = joined ] && return 0; sleep 0.1; done
	tail -20 "$T/b.err" >&2
	fail "server B's engine did not join as rank 1"
}
stop_b() {
	kill -TERM "$B_PID"
	for _ in $(seq 100); do kill -0 "$B_PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$B_PID" 2>/dev/null && fail "server B did not stop"
	wait "$B_PID" || fail "server B exit $?"
	B_PID=
}
client() { timeout 120 "$CLIENT" "$URI" np c1 "$@"; }
# shards SOCK: pool shards on engine 0 of the server at SOCK
shards() { pool_shards "$1" 0; }

echo "== server A (management service), then server B joins through access_points"
sys_start
URI=$(q uri)
"$SERVER" -o "$T/b.yml" config check >/dev/null || fail "config check of B"
"$SERVER" -o "$T/b.yml" storage format >/dev/null 2>&1 || fail "format B"
start_b
ctl system query
grep -q "engine 0: rank 1 assigned by the management service" "$T/b.err" ||
	fail "B did not log its assigned rank"
for _ in $(seq 100); do grep -q "membership version .*: 2 rank(s)" "$T/nodeb.log" && break; sleep 0.1; done
grep -q "membership version .*: 2 rank(s)" "$T/nodeb.log" || fail "B's engine has no table"
grep -q "membership version .*: 2 rank(s)" "$T/engine0.log" || fail "A's engine has no table"
out=$(ctlb pool list 2>&1) && fail "pool list on B succeeded"
echo "$out" | grep -q "pools are managed there" || fail "unclear error on B: $out"

echo "== a pool over both servers; KV I/O lands on both"
ctl pool create -z 32M -l np || fail "pool create"
[ "$(ctl -j pool query np | jfield targets)" = 4 ] || fail "pool is not on 4 targets"
[ "$(shards "$SOCK")" = 2 ] && [ "$(shards "$T/b.sock")" = 2 ] || fail "shard files"
cairn container create np c1 --oclass SX >/dev/null || fail "container create"
client 31 fill 64 || fail "fill"

echo "== server B stops: rank 1 stopped on A, its keys UNREACH; B back: same rank"
stop_b
for _ in $(seq 100); do [ "$(rank_state_a 1)" = stopped ] && break; sleep 0.1; done
[ "$(rank_state_a 1)" = stopped ] || fail "rank 1 not stopped on A"
for _ in $(seq 100); do ctl -j pool query np | grep -q '"down"' && break; sleep 0.1; done
ctl -j pool query np | grep -q '"down"' || fail "rank 1 not DOWN in the pool"
client 31 down 64 || fail "down"
start_b
for _ in $(seq 100); do ctl -j pool query np | grep -q '"down"' || break; sleep 0.1; done
client 31 check 64 || fail "keys after B came back"
[ "$(ctl system query | awk '$1 == 2')" = "" ] || fail "B's engine got a new rank"

echo "== pool destroy: no shard files on either server"
cairn container destroy np c1 >/dev/null || fail "container destroy"
ctl pool destroy np >/dev/null || fail "pool destroy"
[ "$(shards "$SOCK")" = 0 ] && [ "$(shards "$T/b.sock")" = 0 ] || fail "shards left"
stop_b
grep -E " (ERR|CRIT) " "$T/engine0.log" "$T/nodeb.log" && fail "engine errors logged"
sys_stop
echo "multi_node_func: PASS"
