#!/bin/bash
# Functional test of container properties at create and the data path they drive, with
# real processes on loopback: cairn-server (one engine, 2 targets; the engine started
# with CAIRN_FAULTS=obj.srv.fetch.corrupt:value=4242, so it corrupts every checksummed
# fetch of objects 4242 after computing the checksum) -> `cairn container create` with
# --label/--type/--oclass/--chunk-size/--csum/--rf, bad values refused with messages,
# set-prop refusing the immutable ones -> rf: S* classes refused in an rf 1 container ->
# dpath-client props / chunk (dkeys an array writes follow the container's chunk size) /
# cond -> `cairn object put --if-absent|--if-exists` -> two processes racing to create
# the same 100 arrays (three rounds, started together): exactly one creator of each -> checksums: data verified with crc32c,
# crc64 and off; client-side corruption refused by the engine (logged), engine-side
# corruption refused by the client -> kill -9 the engine: properties and checksummed data
# survive the restart -> clean stop. Bounded: every wait has a limit.
# Usage: dpath_func.sh <bin dir> <dpath-client binary>
set -u
BIN=${1:?usage: dpath_func.sh <bin dir> <dpath-client>}
CLIENT=${2:?usage: dpath_func.sh <bin dir> <dpath-client>}
. "$(dirname "$0")/lib.sh"
sys_init dpath
client() { timeout 60 "$CLIENT" "$URI" "$@"; }

expect_fail() {
	local want=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1); rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want: $out"
	echo "$out" | grep -q -- "$pat" || fail "'$*': output lacks '$pat': $out"
}

echo "== format, start (engine fault: corrupt checksummed fetches of objects 4242)"
export CAIRN_FAULTS="obj.srv.fetch.corrupt:value=4242"
sys_start
unset CAIRN_FAULTS
ctl pool create -z 128M -l dp >/dev/null || fail "pool create"
URI=tcp://127.0.0.1:$EPORT

echo "== container create with properties (CLI)"
out=$(cairn container create dp --label c32 --type POSIX --oclass SX --chunk-size 64K \
	--csum crc32c --rf 0) || fail "create c32: $out"
echo "$out" | grep -q "type POSIX, class SX, chunk size 64 KiB, csum crc32c, rf 0" ||
	fail "create c32 output: $out"
out=$(cairn -j container query dp c32) || fail "query c32"
for kv in '"chunk_size": 65536' '"csum": "crc32c"' '"rf": 0' '"type": "POSIX"' \
	'"oclass": "SX"'; do
	echo "$out" | grep -q "$kv" || fail "query c32 lacks $kv: $out"
done
out=$(cairn container get-prop dp c32) || fail "get-prop c32"
echo "$out" | grep -q "^chunk_size *64 KiB$" && echo "$out" | grep -q "^cksum *crc32c$" ||
	fail "get-prop c32: $out"
cairn container create dp c64 --csum crc64 --chunk-size 2M >/dev/null || fail "create c64"
cairn -j container query dp c64 | grep -q '"chunk_size": 2097152' || fail "c64 chunk size"
cairn container create dp coff >/dev/null || fail "create coff"
out=$(cairn -j container query dp coff)
echo "$out" | grep -q '"chunk_size": 1048576' && echo "$out" | grep -q '"csum": "off"' ||
	fail "coff defaults: $out"
cairn -j container create dp --label kv1 --type KV | grep -q '"type": "KV"' || fail "type KV"
cairn -j container create dp --label ar1 --type array | grep -q '"type": "ARRAY"' ||
	fail "type ARRAY"

echo "== bad create properties: refused, with what is allowed"
expect_fail 1 "a power of two, 4 KiB..1 GiB" cairn container create dp --label bad \
	--chunk-size 3000
expect_fail 1 "a power of two, 4 KiB..1 GiB" cairn container create dp --label bad \
	--chunk-size 2G
expect_fail 2 "expected off, crc32c or crc64" cairn container create dp --label bad --csum md5
expect_fail 2 "(0..2)" cairn container create dp --label bad --rf 3
expect_fail 2 "expected POSIX, KV or ARRAY" cairn container create dp --label bad --type foo
expect_fail 1 "class SX tolerates 0 failure(s), fewer than the redundancy factor 1" \
	cairn container create dp --label bad --rf 1 --oclass SX
expect_fail 1 "invalid label" cairn container create dp --label 'no/slash'
expect_fail 2 "one label" cairn container create dp
expect_fail 2 "one label" cairn container create dp x --label y
cairn container query dp bad >/dev/null 2>&1 && fail "a refused container exists"

echo "== set-prop: chunk size, checksum and rf are fixed at create"
expect_fail 1 "fixed at create" cairn container set-prop dp c32 chunk_size:1M
expect_fail 1 "fixed at create" cairn container set-prop dp c32 cksum:off
expect_fail 1 "fixed at create" cairn container set-prop dp c32 rf:1
grep -q "container c32: set-prop refused: chunk size, checksum and redundancy factor are" \
	"$T/engine0.log" || fail "the container service did not log the refusal"
cairn container set-prop dp c32 oclass:S1 >/dev/null || fail "set-prop oclass"
cairn container set-prop dp c32 oclass:SX >/dev/null || fail "set-prop oclass back"
out=$(cairn -j container get-prop dp c32)
echo "$out" | grep -q '"chunk_size": 65536' && echo "$out" | grep -q '"cksum": "crc32c"' ||
	fail "immutable props changed: $out"

echo "== redundancy factor: an rf 1 container takes RP classes only"
out=$(cairn container create dp --label r1 --rf 1) || fail "create rf 1: $out"
echo "$out" | grep -q "class RP_2G1" || fail "rf 1 default class: $out"
expect_fail 1 "object class SX tolerates 0 failure(s)" cairn object put dp r1 7 k -v x -c SX
# (one rank: RP_2G1 has nowhere to put its second replica; replication is not built yet)
expect_fail 1 "replicas on distinct ranks" cairn object put dp r1 7 k -v x
expect_fail 1 "tolerates the container.s rf" cairn container set-prop dp r1 oclass:S1

echo "== libcairn: properties, chunk size in the array path, conditional ops"
client dp props || fail "dpath-client props"
cairn container create dp --label ch64 --chunk-size 64K >/dev/null || fail "create ch64"
client dp ch64 chunk || fail "dpath-client chunk"
client dp coff cond || fail "dpath-client cond"
client dp coff recx || fail "dpath-client recx (extent listing)"

echo "== cairn object put --if-absent / --if-exists"
cairn object put dp coff 9 k1 -v first --if-absent >/dev/null || fail "put --if-absent"
expect_fail 1 "exists (--if-absent): nothing written" \
	cairn object put dp coff 9 k1 -v second --if-absent
[ "$(cairn object get dp coff 9 k1)" = first ] || fail "refused put changed the value"
expect_fail 1 "does not exist (--if-exists)" cairn object put dp coff 9 k2 -v x --if-exists
cairn object put dp coff 9 k1 -v third --if-exists >/dev/null || fail "put --if-exists"
expect_fail 2 "one of --if-absent or --if-exists" \
	cairn object put dp coff 9 k1 -v x --if-absent --if-exists
[ "$(cairn object get dp coff 9 k1)" = third ] || fail "put --if-exists did not write"

echo "== two processes race to create the same 100 arrays: one creator each"
N=100
for round in 1 2 3; do
	base=$((6000 + round * 1000))
	rm -f "$T/go" "$T/ready1" "$T/ready2"
	# round 1: both ascending (contend on every id); then opposite directions (they
	# meet somewhere in the middle, racing there)
	dir2=up
	[ $round = 1 ] || dir2=down
	client dp coff race $base $N up "$T/ready1" "$T/go" >"$T/race1" 2>&1 &
	p1=$!
	client dp coff race $base $N $dir2 "$T/ready2" "$T/go" >"$T/race2" 2>&1 &
	p2=$!
	for _ in $(seq 300); do
		[ -e "$T/ready1" ] && [ -e "$T/ready2" ] && break
		sleep 0.1
	done
	touch "$T/go" # both start now (or give up after 30 s: the waits below then fail)
	wait $p1 || fail "racer 1: $(cat "$T/race1")"
	wait $p2 || fail "racer 2: $(cat "$T/race2")"
	read -r _ w1 _ e1 <"$T/race1"
	read -r _ w2 _ e2 <"$T/race2"
	[ $((w1 + w2)) = $N ] && [ $((e1 + e2)) = $N ] ||
		fail "round $round: wins $w1 + $w2, exists $e1 + $e2 (want $N and $N)"
	echo "round $round (up vs $dir2): racer 1 won $w1, racer 2 won $w2"
done

echo "== checksums: values and extents verified (crc32c, crc64, off)"
client dp c32 csum-ok || fail "csum-ok crc32c"
client dp c64 csum-ok || fail "csum-ok crc64"
client dp coff csum-ok || fail "csum-ok off"

echo "== client-side corruption after the checksum: the engine refuses and logs it"
CAIRN_FAULTS="obj.cli.update.corrupt:skip=2,count=2" client dp c32 csum-client ||
	fail "csum-client"
grep -q "fails its crc32c checksum" "$T/engine0.log" ||
	fail "engine did not log the checksum mismatch"

echo "== engine-side corruption after the checksum: the client refuses"
client dp c32 csum-engine 4242 2>"$T/ce.err" || fail "csum-engine crc32c: $(cat "$T/ce.err")"
grep -q "fails its crc32c checksum" "$T/ce.err" || fail "client did not report: $(cat "$T/ce.err")"
client dp c64 csum-engine 4242 2>"$T/ce.err" || fail "csum-engine crc64: $(cat "$T/ce.err")"
echo "== checksums off: the same object reads back (no checksum, no fault point)"
client dp coff csum-off 4242 || fail "csum-off"

echo "== kill -9 the engine: properties and checksummed data survive the restart"
cairn object put dp c32 11 greeting -v "hello, crc32c" >/dev/null || fail "put c32"
head -c 200000 /dev/urandom >"$T/blob"
cairn array write dp c64 12 0 -i "$T/blob" >/dev/null || fail "array write c64"
EPID=$(q pid)
kill -9 "$EPID"
for _ in $(seq 150); do
	p=$(q pid)
	[ -n "$p" ] && [ "$p" != "$EPID" ] && [ "$p" != null ] && [ "$(q state)" = joined ] && break
	sleep 0.1
done
[ "$(q state)" = joined ] && [ "$(q pid)" != "$EPID" ] || fail "engine not restarted"
out=$(cairn -j container query dp c32)
echo "$out" | grep -q '"csum": "crc32c"' && echo "$out" | grep -q '"chunk_size": 65536' ||
	fail "c32 properties after restart: $out"
cairn -j container query dp r1 | grep -q '"rf": 1' || fail "rf lost after restart"
cairn -j container query dp kv1 | grep -q '"type": "KV"' || fail "type lost after restart"
[ "$(cairn object get dp c32 11 greeting)" = "hello, crc32c" ] || fail "c32 value after restart"
cairn array read dp c64 12 0 200000 -O "$T/blob.out" || fail "array read c64 after restart"
cmp -s "$T/blob" "$T/blob.out" || fail "c64 array differs after restart"
expect_fail 1 "fixed at create" cairn container set-prop dp c32 cksum:off

echo "== clean stop"
sys_stop
echo "PASS"
