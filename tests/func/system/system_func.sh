#!/bin/bash
# Functional test of the system slice with real processes on loopback:
# storage format -> cairn-server (engine with 2 targets) -> cairnctl pool create/list/
# query (label and uuid) -> cairn container create/list/query -> cairn object put/get
# verified (1 B, 4 KiB, 1 MiB) and libcairn async I/O (sys-client) -> bad input
# (duplicate/invalid labels, unknown pool/container, too small, malformed JSON-RPC,
# destroying a pool or container in use) -> kill -9 the engine, the server restarts it,
# all data still readable -> destroy -> clean stop. Bounded: every wait has a limit.
# Usage: system_func.sh <bin dir> <sys-client binary>
set -u
BIN=${1:?usage: system_func.sh <bin dir> <sys-client>}
CLIENT=${2:?usage: system_func.sh <bin dir> <sys-client>}
HOLD_PID=
sys_cleanup_extra() { [ -n "$HOLD_PID" ] && kill -KILL "$HOLD_PID" 2>/dev/null; }
. "$(dirname "$0")/lib.sh"
sys_init sys

echo "== format, start, rank 0 joins"
sys_start

echo "== no pools yet"
ctl pool list | grep -q "No pools" || fail "empty pool list not reported"

echo "== pool create -z 32M -l demo"
out=$(ctl -j pool create -z 32M -l demo) || fail "pool create failed: $out"
UUID=$(echo "$out" | jfield uuid)
[ ${#UUID} = 36 ] || fail "no uuid in: $out"
[ "$(echo "$out" | jfield targets)" = 2 ] || fail "pool not on 2 targets: $out"
[ "$(echo "$out" | jfield size_per_target)" = 33554432 ] || fail "wrong size: $out"
[ "$(tgt used 0)" = 33554432 ] && [ "$(tgt used 1)" = 33554432 ] ||
	fail "shard extents missing from the space maps: $(ctl storage query)"
free=$(echo "$out" | jfield free)
[ -n "$free" ] && [ "$free" -gt 0 ] || fail "no free space reported: $out"

echo "== list and query by label and by uuid"
ctl pool list | grep -q "^demo .*$UUID" || fail "pool list lacks demo"
ctl -j pool query demo | grep -q "\"uuid\": \"$UUID\"" || fail "query by label"
ctl -j pool query "$UUID" | grep -q '"label": "demo"' || fail "query by uuid"

echo "== bad input gets clear errors; exit code 1"
out=$(ctl pool create -z 32M -l demo 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "exists" || fail "duplicate label: rc $rc: $out"
out=$(ctl pool create -z 32M -l 'bad label!' 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "character" || fail "invalid label: rc $rc: $out"
out=$(ctl pool create -z 1M -l small 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "16M" || fail "too small: rc $rc: $out"
out=$(ctl pool create -z 1T -l huge 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "not enough space" || fail "1T pool: rc $rc: $out"
[ "$(tgt used 0)" = 33554432 ] && [ "$(tgt used 1)" = 33554432 ] ||
	fail "a failed create left extents: $(ctl storage query)"
out=$(ctl pool create -z 12Q -l sz 2>&1); rc=$?
[ $rc = 1 ] || fail "bad size string accepted: rc $rc: $out"
out=$(ctl pool query nosuchpool 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "no pool 'nosuchpool'" || fail "unknown pool: rc $rc: $out"
out=$(ctl pool destroy 00000000-0000-0000-0000-000000000001 2>&1); rc=$?
[ $rc = 1 ] || fail "unknown uuid destroy: rc $rc: $out"
ctl pool create -l x >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "create without size: exit $rc, expected 2"
exec 3<>/dev/tcp/127.0.0.1/$PORT || fail "cannot connect to the API port"
printf '{"jsonrpc":"2.0","method":"pool_create","params":{"label":"j","size":"x"},"id":1}\n' >&3
reply=$(timeout 2 cat <&3); exec 3>&-
echo "$reply" | grep -q -- "-32602" || fail "bad size over JSON-RPC: $reply"
exec 3<>/dev/tcp/127.0.0.1/$PORT
printf '{"jsonrpc":"2.0","method":"pool_query","params":{"pool":"demo","x":1},"id":2}\n' >&3
reply=$(timeout 2 cat <&3); exec 3>&-
echo "$reply" | grep -q "unknown key" || fail "unknown key accepted: $reply"
exec 3<>/dev/tcp/127.0.0.1/$PORT
printf '{"jsonrpc":"2.0","method":"pool_list","id":3,,}' >&3
reply=$(timeout 2 cat <&3); exec 3>&-
echo "$reply" | grep -q -- "-32700" || fail "malformed JSON: $reply"

echo "== containers (cairn finds the engine through cairn-server)"
cairn pool list-containers demo | grep -q "No containers" || fail "empty container list"
cairn container create demo posix >/dev/null || fail "container create"
cairn container create demo one --oclass S1 >/dev/null || fail "S1 container create"
out=$(cairn -j container query demo posix) || fail "container query"
echo "$out" | grep -q '"oclass": "SX"' || fail "default class is not SX: $out"
echo "$out" | grep -q '"type": "POSIX"' || fail "type is not POSIX: $out"
CUUID=$(echo "$out" | jfield uuid)
cairn container list "$UUID" | grep -q "^$CUUID posix" || fail "list by pool uuid"
cairn container query demo "$CUUID" >/dev/null || fail "query by container uuid"
out=$(cairn container create demo posix 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "exists" || fail "duplicate container: rc $rc: $out"
out=$(cairn container create demo 'no/slash' 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "invalid label" || fail "bad container label: $out"
out=$(cairn container query demo nosuch 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "no container 'nosuch'" || fail "unknown cont: $out"
out=$(cairn pool query nosuchpool 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "no pool 'nosuchpool'" || fail "unknown pool: $out"
out=$(cairn container create demo x --oclass Q9 2>&1); rc=$?
[ $rc = 2 ] || fail "unknown class: rc $rc: $out"
cairn bogus sub demo >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "unknown command: exit $rc, expected 2"

echo "== object put/get 1 B, 4 KiB, 1 MiB (inline and bulk), both classes"
head -c 1 /dev/urandom >"$T/v1"; head -c 4096 /dev/urandom >"$T/v4k"
head -c 1048576 /dev/urandom >"$T/v1m"
for c in posix one; do
	for v in v1 v4k v1m; do
		cairn object put demo $c 7 "$v" -i "$T/$v" || fail "put $c $v"
		cairn object get demo $c 7 "$v" -O "$T/$v.$c" || fail "get $c $v"
		cmp -s "$T/$v" "$T/$v.$c" || fail "$c $v read back differs"
	done
done
[ "$(cairn object list demo posix 7 | sort | tr '\n' ' ')" = "v1 v1m v4k " ] ||
	fail "object list: $(cairn object list demo posix 7 | tr '\n' ' ')"
[ "$(cairn object get demo posix 7 v1 -a other 2>&1)" = "cairn: no value at dkey 'v1' akey 'other'" ] ||
	fail "missing akey not reported"
out=$(cairn object get demo nosuch 7 v1 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "no container 'nosuch'" || fail "get from unknown cont"
cairn object put demo posix 7 k >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "put without a value: exit $rc"

echo "== a full pool says NOSPACE; destroying a container frees the space"
ctl pool create -z 16M -l tiny >/dev/null || fail "tiny pool"
cairn container create tiny fill --oclass S1 >/dev/null || fail "fill container"
free0=$(ctl -j pool query tiny | jfield free)
nospace=0
for i in $(seq 1 40); do
	out=$(cairn object put tiny fill 1 "k$i" -i "$T/v1m" 2>&1) && continue
	echo "$out" | grep -q "no space" || fail "put into a full pool: $out"
	echo "$out" | grep -q "destroy containers" || fail "NOSPACE does not say what to do"
	nospace=1
	break
done
[ $nospace = 1 ] || fail "40 MiB fit in a 16M x 2 pool of S1 objects?"
cairn object get tiny fill 1 k1 -O "$T/k1" && cmp -s "$T/k1" "$T/v1m" ||
	fail "data written before NOSPACE is not intact"
cairn container destroy tiny fill >/dev/null || fail "destroy fill"
[ "$(ctl -j pool query tiny | jfield free)" = "$free0" ] || fail "space not freed"
cairn container create tiny again >/dev/null && cairn object put tiny again 1 k -i "$T/v1m" ||
	fail "write after freeing space"
ctl pool destroy tiny >/dev/null || fail "destroy tiny"

echo "== libcairn: async updates/fetches through an EQ, list, punch, TRUNC"
URI=tcp://127.0.0.1:$EPORT
timeout 60 "$CLIENT" "$URI" demo posix io 3 >/dev/null || fail "sys-client io"

echo "== a pool or container in use is not destroyed (unless forced)"
coproc HOLD { timeout 60 "$CLIENT" "$URI" demo one hold; }
HOLD_PID=$HOLD_PID
read -r -t 20 line <&"${HOLD[0]}" && [ "$line" = holding ] || fail "holder did not start"
out=$(ctl pool destroy demo 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "connection" || fail "in-use pool destroyed: $out"
out=$(cairn container destroy demo one 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q -- "--force" || fail "open container destroyed: $out"
[ "$(ctl -j pool query demo | jfield connections)" = 1 ] || fail "connection not counted"
echo done >&"${HOLD[1]}"
wait "$HOLD_PID" || fail "holder failed"
HOLD_PID=
[ "$(ctl -j pool query demo | jfield connections)" = 0 ] || fail "disconnect not counted"
cairn container destroy demo one >/dev/null || fail "closed container not destroyed"

echo "== a second pool; kill -9 the engine; both pools survive the restart"
ctl pool create -z 16M -l second >/dev/null || fail "second pool"
# A writer records every acknowledged put; the engine is killed in the middle of it.
acked_writer demo posix 9
acked_wait 20
EPID=$(q pid)
kill -9 "$EPID"
wait "$WRITER"
WRITER=
for _ in $(seq 150); do
	p=$(q pid)
	[ -n "$p" ] && [ "$p" != "$EPID" ] && [ "$p" != null ] && [ "$(q state)" = joined ] && break
	sleep 0.1
done
[ "$(q state)" = joined ] && [ "$(q pid)" != "$EPID" ] || fail "engine not restarted"
out=$(ctl -j pool query demo) || fail "demo lost after restart"
[ "$(echo "$out" | jfield uuid)" = "$UUID" ] || fail "demo has another uuid: $out"
[ "$(echo "$out" | jfield targets_up)" = 2 ] || fail "shards not reopened: $out"
ctl pool list | grep -q "^second " || fail "second pool lost"
for v in v1 v4k v1m; do
	cairn object get demo posix 7 "$v" -O "$T/$v.after" || fail "get $v after restart"
	cmp -s "$T/$v" "$T/$v.after" || fail "$v differs after kill -9"
done
timeout 60 "$CLIENT" "$URI" demo posix verify 3 >/dev/null || fail "async data lost"
acked_check demo posix 9
echo "   $ACKED_N acknowledged puts before kill -9: all readable and intact"
cairn container list demo | grep -q " posix$" || fail "container lost"
cairn container list demo | grep -q " one$" && fail "destroyed container is back"

echo "== destroy"
ctl pool destroy second >/dev/null || fail "destroy second"
ctl pool list | grep -q "^second " && fail "second still listed"
coproc HOLD { timeout 60 "$CLIENT" "$URI" demo posix hold 2>/dev/null; }
HOLD_PID=$HOLD_PID
read -r -t 20 line <&"${HOLD[0]}" && [ "$line" = holding ] || fail "holder did not start"
ctl pool destroy "$UUID" >/dev/null 2>&1 && fail "connected pool destroyed without --force"
ctl pool destroy --force "$UUID" >/dev/null || fail "destroy --force demo by uuid"
echo done >&"${HOLD[1]}"
wait "$HOLD_PID" 2>/dev/null && fail "holder's close succeeded on a destroyed pool"
HOLD_PID=
[ "$(tgt used 0)" = 0 ] && [ "$(tgt used 1)" = 0 ] ||
	fail "extents left behind: $(ctl storage query)"
ctl pool list | grep -q "No pools" || fail "pools left"

echo "== a destroyed pool stays destroyed across a restart"
ctl pool create -z 16M -l third >/dev/null || fail "third pool"
ctl system stop >/dev/null || fail "system stop"
ctl system start >/dev/null || fail "system start"
ctl pool list | grep -q "^third " || fail "third lost after a clean restart"
ctl pool list | grep -q "^demo " && fail "destroyed pool came back"

echo "== clean stop"
sys_stop
echo "PASS"
