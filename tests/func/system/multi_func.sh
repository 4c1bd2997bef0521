#!/bin/bash
# Functional test of a multi-engine system with real processes on loopback: one
# cairn-server with two engines (rank 0 and rank 1, 2 targets each).
#  - both ranks join; each engine receives the membership table (rank -> URI)
#  - pool create spans the 4 targets of both ranks (pool query per rank; shard files on
#    both storage dirs); --ranks is checked; the pool's shards survive a rank restart
#  - container; object, array and KV I/O with verification through `cairn`, cairn-bench
#    and multi-client; data lands on both ranks (per-rank space used grows)
#  - pool map bump: a client holding the old map doing I/O on rank 1 gets STALE from
#    rank 1 and refreshes
#  - kill -9 of rank 1 during a write workload: the server restarts it, the pool map marks
#    its targets DOWN then UP again, every acknowledged write reads back right
#  - rank 1 stopped: keys on it fail with UNREACH at once, keys on rank 0 work; pool
#    destroy is refused while a rank of the pool is down; rank 1 started again: all back;
#    a forced destroy with rank 1 down removes rank 1's shards when it rejoins
#  - container destroy and pool destroy leave no shard files on either rank
# Usage: multi_func.sh <bin dir> <multi-client binary>
set -u
BIN=${1:?usage: multi_func.sh <bin dir> <multi-client>}
CLIENT=${2:?usage: multi_func.sh <bin dir> <multi-client>}
. "$(dirname "$0")/lib.sh"
BENCH=$BIN/cairn-bench
sys_init multi
sys_add_engine
WPID=
sys_cleanup_extra() { [ -n "$WPID" ] && stop_pid "$WPID"; }

# used_of R: bytes used by the pool "mp" on rank R (pool query -j, ranks in order)
used_of() {
	ctl -j pool query mp | sed -n 's/^ *"used": \([0-9]*\),\{0,1\}$/\1/p' | sed -n "$(($1 + 1))p"
}
shards() { pool_shards "$SOCK" "$1"; }
client() { timeout 120 "$CLIENT" "$URI" mp c1 "$@"; }

echo "== format, start: both ranks join and get the membership table"
sys_start
sys_wait_joined 2
ctl system query
URI=$(rank_field 0 uri)
[ -n "$URI" ] || fail "no URI for rank 0"
for r in 0 1; do
	for _ in $(seq 100); do grep -q "membership version" "$T/engine$r.log" && break; sleep 0.1; done
	grep -q "membership version .*: 2 rank(s)" "$T/engine$r.log" ||
		fail "rank $r did not receive the membership table"
done

echo "== pool create: bad rank lists are refused"
out=$(ctl pool create -z 64M -l bad --ranks 0,7 2>&1) && fail "pool on rank 7 created"
echo "$out" | grep -q "rank 7 is not joined" || fail "unclear error: $out"
out=$(ctl pool create -z 64M -l bad --ranks 1 2>&1) && fail "pool without rank 0 created"
echo "$out" | grep -q "must include rank 0" || fail "unclear error: $out"
[ "$(shards 0)" = 0 ] && [ "$(shards 1)" = 0 ] || fail "a refused create left shards"
ctl pool create -z 16M -l one --ranks 0 >/dev/null || fail "pool on rank 0 only"
[ "$(ctl -j pool query one | jfield targets)" = 2 ] || fail "pool on rank 0: not 2 targets"
[ "$(shards 0)" = 2 ] && [ "$(shards 1)" = 0 ] || fail "rank-0 pool: shards $(shards 0)/$(shards 1)"
ctl pool destroy one >/dev/null || fail "destroy pool one"

echo "== pool create over both ranks"
ctl pool create -z 64M -l mp || fail "pool create"
[ "$(ctl -j pool query mp | jfield targets)" = 4 ] || fail "pool is not on 4 targets"
[ "$(ctl -j pool query mp | jfield targets_up)" = 4 ] || fail "not 4 targets up"
n=$(ctl -j pool query mp | grep -c '"rank":')
[ "$n" = 2 ] || fail "pool query lists $n ranks"
[ "$(shards 0)" = 2 ] && [ "$(shards 1)" = 2 ] || fail "shard files: $(shards 0)/$(shards 1)"
U0=$(used_of 0); U1=$(used_of 1)

echo "== container, object/array I/O through cairn, cairn-bench (SX over 4 targets)"
cairn container create mp c1 --oclass SX >/dev/null || fail "container create"
for i in $(seq 16); do cairn object put mp c1 5 "dk$i" -v "val$i" || fail "put dk$i"; done
for i in $(seq 16); do
	[ "$(cairn object get mp c1 5 "dk$i")" = "val$i" ] || fail "get dk$i"
done
head -c $((5 << 20)) /dev/urandom >"$T/arr.in"
cairn array write mp c1 9 0 -i "$T/arr.in" >/dev/null || fail "array write"
cairn array read mp c1 9 0 $((5 << 20)) -O "$T/arr.out" >/dev/null || fail "array read"
cmp -s "$T/arr.in" "$T/arr.out" || fail "array data differs"
timeout 120 "$BENCH" -o "$SOCK" -P mp -C c1 -w update,fetch -z 16k -n 256 -k 64 -c SX \
	--no-progress -j >"$T/bench.json" || fail "cairn-bench obj"
timeout 120 "$BENCH" -o "$SOCK" -P mp -C c1 -w update,fetch -z 16k -n 128 -k 32 -a array \
	--no-progress -j >"$T/bench2.json" || fail "cairn-bench array"
tail -1 "$T/bench.json"

echo "== KV I/O (multi-client): keys on both ranks"
client 11 fill 64 || fail "multi-client fill"
V0=$(used_of 0); V1=$(used_of 1)
echo "space used: rank 0 $U0 -> $V0, rank 1 $U1 -> $V1"
[ "$V0" -gt "$U0" ] && [ "$V1" -gt "$U1" ] || fail "data did not land on both ranks"

echo "== pool map bump: a client doing I/O on rank 1 sees it"
CAIRN_LOG_MASK=ERR,client=INFO client 12 stale "$T/sock/engine0.sock" >"$T/stale.out" 2>&1 ||
	{ cat "$T/stale.out" >&2; fail "multi-client stale"; }
grep -v " INFO " "$T/stale.out"
grep -q "pool map is stale: refreshing and retrying" "$T/stale.out" ||
	fail "the client was not told STALE by rank 1"

echo "== kill -9 rank 1 during a write workload: every acknowledged write reads back"
V=$(ctl -j pool query mp | jfield map_version)
rm -f "$T/stop"; : >"$T/acked"
timeout 200 "$CLIENT" "$URI" mp c1 13 writer "$T/acked" "$T/stop" >"$T/writer.out" 2>&1 &
WPID=$!
for _ in $(seq 300); do [ "$(wc -l <"$T/acked" 2>/dev/null || echo 0)" -ge 50 ] && break; sleep 0.1; done
[ "$(wc -l <"$T/acked")" -ge 50 ] || fail "writer did not get going"
P1=$(rank_pid 1)
kill -9 "$P1"
for _ in $(seq 200); do
	p=$(rank_pid 1)
	[ -n "$p" ] && [ "$p" != "$P1" ] && [ "$p" != null ] && [ "$(rank_state 1)" = joined ] && break
	sleep 0.1
done
[ "$(rank_state 1)" = joined ] && [ "$(rank_pid 1)" != "$P1" ] || fail "rank 1 not restarted"
N=$(wc -l <"$T/acked")
for _ in $(seq 300); do [ "$(wc -l <"$T/acked")" -ge $((N + 50)) ] && break; sleep 0.1; done
[ "$(wc -l <"$T/acked")" -ge $((N + 50)) ] || { cat "$T/writer.out" >&2; fail "writes did not resume"; }
touch "$T/stop"
wait "$WPID" || { cat "$T/writer.out" >&2; fail "writer failed"; }
WPID=
cat "$T/writer.out" | tail -3
for _ in $(seq 100); do
	grep -q "rank 1 is back: its targets are UP" "$T/engine0.log" &&
		! ctl -j pool query mp | grep -q '"down"' && break
	sleep 0.1
done
grep -q "rank 1 left: its targets are DOWN" "$T/engine0.log" || fail "rank 1 not marked DOWN"
grep -q "rank 1 is back: its targets are UP" "$T/engine0.log" || fail "rank 1 not marked UP"
ctl -j pool query mp | grep -q '"down"' && fail "rank 1 still DOWN in the pool"
client 13 verify "$T/acked" || fail "acknowledged writes lost"
client 11 check 64 || fail "keys written before the kill"
V2=$(ctl -j pool query mp | jfield map_version)
[ "$V2" -ge $((V + 2)) ] || fail "map version $V -> $V2, expected two bumps (down, up)"
[ "$(ctl -j pool query mp | jfield targets_up)" = 4 ] || fail "not 4 targets up after restart"

echo "== rank 1 stopped: its keys fail with UNREACH, rank 0's work"
ctl system stop --ranks 1 >/dev/null || fail "stop rank 1"
for _ in $(seq 100); do ctl -j pool query mp | grep -q '"down"' && break; sleep 0.1; done
ctl pool query mp
ctl -j pool query mp | grep -q '"down"' || fail "rank 1 not DOWN in the pool"
client 11 down 64 || fail "multi-client down"
out=$(ctl pool destroy mp 2>&1) && fail "pool destroyed with rank 1 down"
echo "$out" | grep -q "rank 1 is not joined" || fail "unclear destroy error: $out"
ctl system start --ranks 1 >/dev/null || fail "start rank 1"
sys_wait_joined 2
for _ in $(seq 100); do ctl -j pool query mp | grep -q '"down"' || break; sleep 0.1; done
client 11 check 64 || fail "keys after rank 1 came back"

echo "== pool destroy --force with rank 1 down: its shards go when it rejoins"
ctl pool create -z 16M -l fp >/dev/null || fail "pool fp"
FP=$(ctl -j pool query fp | jfield uuid)
fp_shards() { pool_shards "$SOCK" "$1" "$FP"; }
[ "$(fp_shards 0)" = 2 ] && [ "$(fp_shards 1)" = 2 ] || fail "fp shards"
ctl system stop --ranks 1 >/dev/null || fail "stop rank 1"
ctl pool destroy fp --force >/dev/null || fail "forced destroy"
ctl -j pool list | grep -q '"fp"' && fail "fp still listed"
[ "$(fp_shards 0)" = 0 ] && [ "$(fp_shards 1)" = 2 ] || fail "after forced destroy: $(fp_shards 0)/$(fp_shards 1)"
ctl system start --ranks 1 >/dev/null || fail "start rank 1"
sys_wait_joined 2
for _ in $(seq 100); do [ "$(fp_shards 1)" = 0 ] && break; sleep 0.1; done
[ "$(fp_shards 1)" = 0 ] || fail "rank 1 kept the destroyed pool's shards"
for _ in $(seq 100); do grep -q "shards on rank 1 removed" "$T/engine0.log" && break; sleep 0.1; done
grep -q "shards on rank 1 removed" "$T/engine0.log" || fail "no tombstone sweep logged"
for _ in $(seq 100); do ctl -j pool query mp | grep -q '"down"' || break; sleep 0.1; done
client 11 check 64 || fail "mp after the forced destroy of fp"

echo "== container destroy, pool destroy: no shard files left"
cairn container create mp c2 --oclass SX >/dev/null || fail "container c2"
timeout 60 "$CLIENT" "$URI" mp c2 21 fill 16 >/dev/null || fail "fill c2"
cairn container destroy mp c2 >/dev/null || fail "container destroy"
timeout 60 "$CLIENT" "$URI" mp c2 21 check 1 2>/dev/null && fail "c2 still opens"
client 11 check 64 || fail "c1 after destroying c2"
ctl pool destroy mp >/dev/null || fail "pool destroy"
[ "$(shards 0)" = 0 ] && [ "$(shards 1)" = 0 ] || fail "shards left: $(shards 0)/$(shards 1)"

echo "== no errors logged by the engines"
grep -E " (ERR|CRIT) " "$T/engine0.log" "$T/engine1.log" && fail "engine errors logged"
sys_stop
echo "multi_func: PASS"
