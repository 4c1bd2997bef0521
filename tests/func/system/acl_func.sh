#!/bin/bash
# Functional test of pool ACLs/properties (and, when present, container properties,
# attributes and snapshots) with real processes on loopback:
# storage format -> cairn-server (1 engine, 2 targets) -> pool create -> default ACL ->
# update-acl removes 'w'/'c'/'d' and connects/creates/destroys are denied with a message
# naming the permission -> update-acl grants again -> delete-acl, set-prop owner/group/
# label, named user entries, --acl-file -> bad input -> kill -9 the engine, the server
# restarts it, every property and ACL entry is still there -> clean stop.
# With an acl-client binary, it also runs it: the libcairn API (async and sync) of
# container attributes, properties and snapshots, and read-only connections.
# Usage: acl_func.sh <bin dir> [<acl-client binary>]
set -u
BIN=${1:?usage: acl_func.sh <bin dir> [<acl-client>]}
CLIENT=${2:-}
. "$(dirname "$0")/lib.sh"
sys_init acl
ME=$(id -un)
MYGROUP=$(id -gn)
# expect_fail RC PATTERN CMD...: the command exits RC and its output matches PATTERN.
expect_fail() {
	local want=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1); rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want: $out"
	echo "$out" | grep -q -- "$pat" || fail "'$*': output lacks '$pat': $out"
}

echo "== format, start, rank 0 joins"
sys_start

echo "== pool create: the default ACL names the creator's user/group as owner"
ctl pool create -z 16M -l acl >/dev/null || fail "pool create"
out=$(ctl pool get-acl acl) || fail "get-acl"
echo "$out" | grep -q "^# Owner: $ME@\$" || fail "owner is not $ME@: $out"
echo "$out" | grep -q "^# Owner Group: $MYGROUP@\$" || fail "group is not $MYGROUP@: $out"
echo "$out" | grep -q "^A::OWNER@:rwcdtTaA\$" || fail "no full OWNER@ entry: $out"
echo "$out" | grep -q "^A::GROUP@:" || fail "no GROUP@ entry: $out"
ctl pool create -z 16M -l owned --user alice --group staff >/dev/null || fail "create --user"
ctl -j pool get-prop owned | grep -q '"owner": "alice@"' || fail "create --user ignored"
cairn container create acl c1 >/dev/null || fail "owner cannot create a container"

echo "== the ACL decides: read-only owner"
ctl pool update-acl acl -e A::OWNER@:r >/dev/null || fail "update-acl OWNER@:r"
ctl pool get-acl acl | grep -q "^A::OWNER@:r\$" || fail "OWNER@ not replaced"
expect_fail 1 "needs the 'rw' permission" cairn container create acl c2
cairn container list acl | grep -q " c1$" || fail "read-only connect refused"
ctl pool update-acl acl -e A::OWNER@:rw >/dev/null || fail "update-acl OWNER@:rw"
expect_fail 1 "create container" cairn container create acl c2
ctl pool update-acl acl -e A::OWNER@:rwc >/dev/null || fail "update-acl OWNER@:rwc"
cairn container create acl c2 >/dev/null || fail "create allowed after update-acl"
expect_fail 1 "delete container" cairn container destroy acl c2
ctl pool update-acl acl -e A::OWNER@:rwcd >/dev/null || fail "update-acl OWNER@:rwcd"
cairn container destroy acl c2 >/dev/null || fail "destroy allowed after update-acl"
grep -q "missing 'w'" "$T/engine0.log" || fail "engine did not log the missing permission"

echo "== owner without OWNER@ entry falls back to GROUP@, then EVERYONE@"
ctl pool delete-acl acl -p OWNER@ >/dev/null || fail "delete-acl OWNER@"
ctl pool get-acl acl | grep -q "OWNER@" && fail "OWNER@ still listed"
cairn container create acl c3 >/dev/null || fail "GROUP@ (rwcd) did not apply to the owner"
ctl pool set-prop acl owner:nobody group:nogroup >/dev/null || fail "set-prop owner/group"
expect_fail 1 "needs the 'r' permission" cairn container list acl
ctl pool update-acl acl -e A::EVERYONE@:r >/dev/null || fail "update-acl EVERYONE@"
cairn container list acl | grep -q " c3$" || fail "EVERYONE@:r did not allow a read"
expect_fail 1 "needs the 'rw'" cairn container create acl c4
ctl pool update-acl acl -e "A::$ME@:rwc" >/dev/null || fail "update-acl user entry"
cairn container create acl c4 >/dev/null || fail "named user entry did not apply"
ctl pool delete-acl acl -p "$ME@" >/dev/null || fail "delete-acl user"
ctl pool update-acl acl -e "A:G:$MYGROUP@:rw" >/dev/null || fail "update-acl group entry"
cairn object put acl c4 1 k -v hello >/dev/null || fail "named group entry did not apply"
printf '# full rights again\n\nA::%s@:rwcdtTaA\n  A::EVERYONE@:r  \n' "$ME" >"$T/acl.txt"
ctl pool update-acl acl --acl-file "$T/acl.txt" >/dev/null || fail "--acl-file"
ctl pool get-acl acl | grep -q "^A::$ME@:rwcdtTaA\$" || fail "--acl-file entry missing"

echo "== label is a property: rename"
ctl pool set-prop acl label:acl2 >/dev/null || fail "rename"
ctl pool query acl >/dev/null 2>&1 && fail "old label still resolves"
cairn container list acl2 | grep -q " c4$" || fail "renamed pool not reachable"
expect_fail 1 "exists" ctl pool set-prop acl2 label:owned

echo "== bad input"
expect_fail 1 "only type A" ctl pool update-acl acl2 -e D::bob@:r
expect_fail 1 "unknown permission 'x'" ctl pool update-acl acl2 -e A::bob@:rx
expect_fail 1 "must end with '@'" ctl pool update-acl acl2 -e A::bob:r
expect_fail 1 "expected TYPE:FLAGS:PRINCIPAL:PERMS" ctl pool update-acl acl2 -e bob
expect_fail 1 "no entry for" ctl pool delete-acl acl2 -p carol@
expect_fail 1 "no pool" ctl pool get-acl nosuch
expect_fail 2 "expected label:NEW" ctl pool set-prop acl2 size:1G
expect_fail 2 "usage" ctl pool update-acl acl2
expect_fail 2 "acl-file" ctl pool update-acl acl2 --acl-file "$T/none.txt"
expect_fail 1 "special principal" ctl pool set-prop acl2 owner:OWNER
many=()
for i in $(seq 1 33); do many+=(-e "A::u$i@:r"); done
expect_fail 1 "1..32 ACL entries" ctl pool update-acl acl2 "${many[@]}"
expect_fail 1 "at most 32" ctl pool update-acl acl2 "${many[@]:0:60}"
ctl pool get-acl acl2 | grep -q "u1@" && fail "a refused update-acl changed the ACL"

echo "== container properties"
cairn container create acl2 props --oclass S1 --chunk-size 64K --csum crc32c >/dev/null ||
	fail "create props container"
out=$(cairn container get-prop acl2 props) || fail "get-prop"
echo "$out" | grep -q "^oclass *S1$" || fail "oclass not S1: $out"
echo "$out" | grep -q "^chunk_size *64 KiB$" || fail "chunk size not 64K: $out"
echo "$out" | grep -q "^cksum *crc32c$" || fail "cksum not crc32c: $out"
echo "$out" | grep -q "^type *POSIX$" || fail "type not POSIX: $out"
cairn container set-prop acl2 props oclass:SX >/dev/null || fail "set-prop"
out=$(cairn -j container get-prop acl2 props) || fail "get-prop -j"
echo "$out" | grep -q '"chunk_size": 65536' || fail "chunk size changed: $out"
echo "$out" | grep -q '"cksum": "crc32c"' || fail "cksum changed: $out"
echo "$out" | grep -q '"rf": 0' || fail "rf changed: $out"
echo "$out" | grep -q '"oclass": "SX"' || fail "oclass not set: $out"
# chunk size, checksum and rf are fixed at create (cont_props_func.sh covers them)
expect_fail 1 "fixed at create" cairn container set-prop acl2 props chunk_size:64K
cairn container set-prop acl2 props label:props2 >/dev/null || fail "container rename"
cairn container query acl2 props >/dev/null 2>&1 && fail "old container label resolves"
cairn container query acl2 props2 >/dev/null || fail "renamed container not found"
expect_fail 1 "fixed at create" cairn container set-prop acl2 props2 chunk_size:3000
expect_fail 1 "fixed at create" cairn container set-prop acl2 props2 cksum:on
expect_fail 2 "expected label" cairn container set-prop acl2 props2 rf:5
expect_fail 2 "expected label" cairn container set-prop acl2 props2 bogus:1
expect_fail 1 "exists" cairn container set-prop acl2 props2 label:c4

echo "== container user attributes"
cairn container set-attr acl2 props2 owner.team storage >/dev/null || fail "set-attr"
cairn container set-attr acl2 props2 empty "" >/dev/null || fail "set-attr empty"
head -c 4000 /dev/urandom >"$T/attr.bin"
cairn container set-attr acl2 props2 blob -i "$T/attr.bin" >/dev/null || fail "set-attr file"
cairn container get-attr acl2 props2 blob -O "$T/attr.out" || fail "get-attr file"
cmp -s "$T/attr.bin" "$T/attr.out" || fail "binary attribute differs"
[ "$(cairn container get-attr acl2 props2 owner.team)" = storage ] || fail "get-attr value"
[ "$(cairn container list-attrs acl2 props2 | tr '\n' ' ')" = "blob empty owner.team " ] ||
	fail "list-attrs: $(cairn container list-attrs acl2 props2 | tr '\n' ' ')"
cairn container set-attr acl2 props2 owner.team compute >/dev/null || fail "replace attr"
[ "$(cairn container get-attr acl2 props2 owner.team)" = compute ] || fail "attr not replaced"
cairn container del-attr acl2 props2 empty >/dev/null || fail "del-attr"
expect_fail 1 "no attribute" cairn container get-attr acl2 props2 empty
expect_fail 1 "no attribute" cairn container del-attr acl2 props2 empty
head -c 4001 /dev/zero >"$T/big.bin"
expect_fail 1 "at most 4000 bytes" cairn container set-attr acl2 props2 big -i "$T/big.bin"
expect_fail 2 "1..255" cairn container set-attr acl2 props2 "$(printf 'n%.0s' $(seq 256))" v
for i in $(seq 1 62); do echo "a$i v"; done >"$T/attrs.txt"
while read -r n v; do
	cairn container set-attr acl2 props2 "$n" "$v" >/dev/null || fail "set-attr $n"
done <"$T/attrs.txt"
expect_fail 1 "at most 64 attributes" cairn container set-attr acl2 props2 one.too.many v
[ "$(cairn container list-attrs acl2 props2 | wc -l)" = 64 ] || fail "not 64 attributes"

echo "== snapshots: reads at a snapshot see the old data"
cairn object put acl2 props2 5 k -v old-value >/dev/null || fail "put old"
cairn object put acl2 props2 5 gone -v here >/dev/null || fail "put gone"
out=$(cairn -j container create-snap acl2 props2) || fail "create-snap"
SNAP1=$(echo "$out" | jfield epoch)
[ -n "$SNAP1" ] && [ "$SNAP1" -gt 0 ] || fail "no epoch: $out"
cairn object put acl2 props2 5 k -v new-value >/dev/null || fail "overwrite"
cairn object put acl2 props2 5 later -v x >/dev/null || fail "put later"
SNAP2=$(cairn -j container create-snap acl2 props2 | jfield epoch)
[ -n "$SNAP2" ] && [ "$SNAP2" -gt "$SNAP1" ] || fail "second snapshot epoch $SNAP2 <= $SNAP1"
cairn object put acl2 props2 5 k -v newest >/dev/null || fail "overwrite 2"
[ "$(cairn object get acl2 props2 5 k)" = newest ] || fail "latest read"
[ "$(cairn object get acl2 props2 5 k --snap "$SNAP1")" = old-value ] || fail "snap1 read"
[ "$(cairn object get acl2 props2 5 k --snap "$SNAP2")" = new-value ] || fail "snap2 read"
[ "$(cairn object list acl2 props2 5 --snap "$SNAP1" | sort | tr '\n' ' ')" = "gone k " ] ||
	fail "list at snap1: $(cairn object list acl2 props2 5 --snap "$SNAP1" | tr '\n' ' ')"
expect_fail 1 "permission denied" cairn object put acl2 props2 5 k -v x --snap "$SNAP1"
[ "$(cairn container list-snaps acl2 props2 | tr '\n' ' ')" = "$SNAP1 $SNAP2 " ] ||
	fail "list-snaps: $(cairn container list-snaps acl2 props2 | tr '\n' ' ')"
expect_fail 1 "no container 'props2' or no snapshot" cairn object get acl2 props2 5 k --snap 12345
expect_fail 2 "EPOCH" cairn container destroy-snap acl2 props2 notanumber

if [ -n "$CLIENT" ]; then
	echo "== libcairn API (async and sync): attributes, properties, snapshots, read-only"
	URI=$(q uri)
	cairn container create acl2 api >/dev/null || fail "create api container"
	timeout 60 "$CLIENT" "$URI" acl2 api || fail "acl-client"
fi

echo "== kill -9 the engine: properties and ACLs survive"
before=$(ctl -j pool get-acl acl2) || fail "get-acl before kill"
EPID=$(q pid)
kill -9 "$EPID"
for _ in $(seq 150); do
	p=$(q pid)
	[ -n "$p" ] && [ "$p" != "$EPID" ] && [ "$p" != null ] && [ "$(q state)" = joined ] && break
	sleep 0.1
done
[ "$(q state)" = joined ] && [ "$(q pid)" != "$EPID" ] || fail "engine not restarted"
after=$(ctl -j pool get-acl acl2) || fail "get-acl after restart"
[ "$before" = "$after" ] || fail "ACL changed across kill -9: $before vs $after"
echo "$after" | grep -q '"owner": "nobody@"' || fail "owner lost: $after"
ctl pool query acl >/dev/null 2>&1 && fail "old label is back after restart"
ctl -j pool get-prop owned | grep -q '"owner": "alice@"' || fail "owned pool's owner lost"
cairn container create acl2 c5 >/dev/null || fail "ACL not enforced as stored after restart"
ctl pool update-acl acl2 -e "A::$ME@:r" >/dev/null || fail "update-acl after restart"
expect_fail 1 "needs the 'rw'" cairn container create acl2 c6
out=$(cairn -j container get-prop acl2 props2) || fail "container get-prop after restart"
echo "$out" | grep -q '"chunk_size": 65536' || fail "container props lost: $out"
[ "$(cairn container get-attr acl2 props2 owner.team)" = compute ] || fail "attr lost"
cairn container get-attr acl2 props2 blob -O "$T/attr.out2" && cmp -s "$T/attr.bin" "$T/attr.out2" ||
	fail "binary attribute lost"
[ "$(cairn container list-snaps acl2 props2 | tr '\n' ' ')" = "$SNAP1 $SNAP2 " ] ||
	fail "snapshots lost: $(cairn container list-snaps acl2 props2 | tr '\n' ' ')"
[ "$(cairn object get acl2 props2 5 k --snap "$SNAP1")" = old-value ] ||
	fail "snap1 read after restart"

echo "== destroy-snap; destroying a container drops its attributes and snapshots"
ctl pool update-acl acl2 -e "A::$ME@:rwcd" >/dev/null || fail "update-acl rwcd"
cairn container destroy-snap acl2 props2 "$SNAP1" >/dev/null || fail "destroy-snap"
[ "$(cairn container list-snaps acl2 props2 | tr '\n' ' ')" = "$SNAP2 " ] ||
	fail "destroy-snap left: $(cairn container list-snaps acl2 props2 | tr '\n' ' ')"
expect_fail 1 "no snapshot" cairn container destroy-snap acl2 props2 "$SNAP1"
expect_fail 1 "or no snapshot" cairn object get acl2 props2 5 k --snap "$SNAP1"
[ "$(cairn object get acl2 props2 5 k --snap "$SNAP2")" = new-value ] || fail "snap2 lost"
cairn container destroy acl2 props2 >/dev/null || fail "destroy props2"
cairn container create acl2 props2 >/dev/null || fail "re-create props2"
[ -z "$(cairn container list-attrs acl2 props2)" ] || fail "attributes survived destroy"
[ -z "$(cairn container list-snaps acl2 props2)" ] || fail "snapshots survived destroy"

echo "== clean stop"
sys_stop
echo "PASS"
