#!/bin/bash
# Target storage: storage format writes a space map on each target device; pool
# create/destroy cycles move each target's used/free up and back down (first fit, freed
# extents reused); a pool larger than a target's free space is refused with NOSPACE and a
# message naming the target and the free space, before anything is written; kill -9 of
# the engine in the middle of a pool create leaves a consistent map after the restart (an
# interrupted shard is reclaimed, a finished one without a pool record is reaped); a
# damaged older map copy is survived with a warning; a target with no valid copy, or
# storage in the old pools/ layout, is refused with "reformat" advice; block devices
# (loop devices when losetup works as root, plain files otherwise) stand in for targets.
# Usage: tgt_space_func.sh BIN_DIR
set -u
BIN=$1
. "$(dirname "$0")/lib.sh"

MiB=1048576
sys_init tgtspace
sed -i 's/target_size: 1G/target_size: 256M/' "$T/sys.yml"

# used N MIB: target N uses MIB MiB
expect_used() {
	local got
	got=$(tgt used "$1")
	[ "$got" = $(($2 * MiB)) ] || fail "target $1 uses $got bytes, expected $2 MiB: $(ctl storage query)"
}

echo "== format writes an empty space map on each target"
sys_start
out=$(ctl storage query) || fail "storage query"
echo "$out" | grep -q "target 1: $T/engine0/target-1, size 256 MiB, used by pools 0 B, free 255 MiB (largest extent 255 MiB)" ||
	fail "storage query: $out"
for t in 0 1; do
	[ "$(tgt size $t)" = $((256 * MiB)) ] || fail "target $t size: $(ctl -j storage query)"
	expect_used $t 0
	[ "$(tgt free $t)" = $((255 * MiB)) ] || fail "target $t free: $(ctl -j storage query)"
done

echo "== create/destroy cycles: used goes up and back down, holes are reused"
for cycle in 1 2 3; do
	ctl pool create -z 64M -l a >/dev/null || fail "cycle $cycle: create a"
	expect_used 0 64
	ctl pool create -z 100M -l b >/dev/null || fail "cycle $cycle: create b"
	expect_used 1 164
	if [ $cycle = 1 ]; then
		out=$(ctl pool query b) || fail "pool query b"
		echo "$out" | grep -q "target 1: size 256 MiB, used by pools 164 MiB, free 91 MiB" ||
			fail "pool query lacks the targets' space: $out"
	fi
	ctl pool destroy a >/dev/null || fail "cycle $cycle: destroy a"
	expect_used 0 100
	[ "$(tgt largest_free 0)" = $((91 * MiB)) ] || fail "largest free after freeing a: $(ctl -j storage query)"
	# 32M fits in a's old hole at the front, so 91M stays the largest free extent
	ctl pool create -z 32M -l c >/dev/null || fail "cycle $cycle: create c"
	expect_used 1 132
	[ "$(tgt largest_free 1)" = $((91 * MiB)) ] || fail "c not placed first-fit: $(ctl -j storage query)"
	ctl pool destroy b >/dev/null || fail "cycle $cycle: destroy b"
	ctl pool destroy c >/dev/null || fail "cycle $cycle: destroy c"
	expect_used 0 0
	expect_used 1 0
	[ "$(tgt largest_free 0)" = $((255 * MiB)) ] || fail "free space did not coalesce: $(ctl -j storage query)"
done

echo "== a pool larger than the free space is refused with NOSPACE, nothing written"
ctl pool create -z 200M -l big >/dev/null || fail "create big"
seq_before=$(ctl -j storage query | jfield map_seq)
out=$(ctl pool create -z 100M -l toobig 2>&1); rc=$?
[ $rc = 1 ] || fail "oversized pool: rc $rc: $out"
echo "$out" | grep -q "not enough space on target 0: 100 MiB asked, 55 MiB free of 255 MiB, largest free extent 55 MiB" ||
	fail "NOSPACE message lacks target/asked/free/largest: $out"
echo "  $out"
expect_used 0 200
expect_used 1 200
[ "$(ctl -j storage query | jfield map_seq)" = "$seq_before" ] || fail "the refused create wrote the space map"
ctl pool list | grep -q "^toobig " && fail "refused pool listed"
ctl pool destroy big >/dev/null || fail "destroy big"

# wait_restart OLD_PID: the engine was restarted (another pid) and rank 0 joined again.
wait_restart() {
	local p
	for _ in $(seq 150); do
		p=$(q pid)
		[ -n "$p" ] && [ "$p" != "$1" ] && [ "$p" != null ] && [ "$(q state)" = joined ] && break
		sleep 0.1
	done
	[ "$(q state)" = joined ] && [ "$(q pid)" != "$1" ] || fail "engine not restarted"
}

# start_srv: start cairn-server on the formatted storage (the environment passes on to
# the engine), wait until rank 0 joined.
start_srv() {
	"$SERVER" -o "$T/sys.yml" start >"$T/srv.out" 2>"$T/srv.err" &
	SRV_PID=$!
	for _ in $(seq 150); do [ "$(q state)" = joined ] && break; sleep 0.1; done
	[ "$(q state)" = joined ] || fail "rank 0 did not join"
}

echo "== the engine dies with an extent recorded as being created: reclaimed at restart"
ctl pool create -z 16M -l keep >/dev/null || fail "create keep"
sys_stop
CAIRN_FAULTS="tgt.create.crash:count=1" start_srv
EPID=$(q pid)
out=$(ctl pool create -z 200M -l crash 2>&1) && fail "create survived the injected crash: $out"
wait_restart "$EPID"
grep -q "fault tgt.create.crash" "$T/engine0.log" || fail "the fault did not fire"
grep -q "target 0: reclaiming 200 MiB at 17 MiB of pool .*(its shard create was interrupted)" \
	"$T/engine0.log" || fail "interrupted create not reclaimed: $(grep -i reclaim "$T/engine0.log")"
ctl pool list | grep -q "^crash " && fail "the interrupted pool is listed"
ctl pool list | grep -q "^keep " || fail "pool keep lost"
expect_used 0 16
expect_used 1 16
sys_stop
start_srv

echo "== kill -9 of the engine during a pool create: the map stays consistent"
EPID=$(q pid)
ctl pool create -z 200M -l crash >"$T/crash.out" 2>&1 &
CREATE=$!
# Wait (bounded) until target 0 has recorded the new extent, then kill the engine.
for _ in $(seq 400); do
	[ "$(tgt shards 0)" = 2 ] && break
	kill -0 $CREATE 2>/dev/null || break
	sleep 0.01
done
kill -9 "$EPID"
wait $CREATE
wait_restart "$EPID"
if ctl pool list | grep -q "^crash "; then
	echo "  the create completed before the kill: the pool is kept"
	expect_used 0 216
	expect_used 1 216
	ctl pool destroy crash >/dev/null || fail "destroy crash"
else
	echo "  the create was cut short: $(grep -o "reclaiming [0-9]* MiB\|shards without a pool record" \
		"$T/engine0.log" | sort -u | tr '\n' ' ')"
fi
expect_used 0 16
expect_used 1 16
ctl pool list | grep -q "^keep " || fail "pool keep lost"
ctl pool create -z 200M -l after >/dev/null || fail "space of the interrupted create not reusable"
ctl pool destroy after >/dev/null || fail "destroy after"

echo "== a damaged older map copy: warning, pools intact"
ctl system stop >/dev/null || fail "system stop"
seq=$(tgt map_seq 0)
[ -n "$seq" ] || fail "no map_seq in: $(ctl -j storage query)"
# the newest copy is (seq - 1) % 2; damage the other one's header
old=$(( seq % 2 ))
printf 'garbage!' | dd of="$T/engine0/target-0" bs=1 seek=$((old * 512 * 1024 + 100)) conv=notrunc status=none
ctl system start >/dev/null || fail "system start"
for _ in $(seq 150); do [ "$(q state)" = joined ] && break; sleep 0.1; done
ctl pool list | grep -q "^keep " || fail "keep lost after an old copy was damaged"
grep -q "using the other copy" "$T/engine0.log" || fail "damaged copy not reported"
ctl -j pool create -z 16M -l more >/dev/null || fail "create after damaged copy"
expect_used 0 32

echo "== no valid map copy: the engine refuses the target and says to reformat"
ctl system stop >/dev/null || fail "system stop"
sys_stop
for off in 0 524288; do
	printf 'garbage!' | dd of="$T/engine0/target-1" bs=1 seek=$((off + 100)) conv=notrunc status=none
done
out=$("$SERVER" -o "$T/sys.yml" storage query 2>&1)
echo "$out" | grep -q "no valid space map" || fail "offline query hides the damage: $out"
: >"$T/engine0.log"
"$SERVER" -o "$T/sys.yml" start >"$T/srv.out" 2>"$T/srv.err" &
SRV_PID=$!
for _ in $(seq 100); do grep -q "no valid space map" "$T/engine0.log" 2>/dev/null && break; sleep 0.1; done
grep -q "target 1: .*no valid space map .*reformat" "$T/engine0.log" ||
	fail "refusal not logged with advice: $(tail -5 "$T/engine0.log")"
[ "$(q state)" = joined ] && fail "engine joined with a corrupt target"
stop_pid "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; SRV_PID=

echo "== storage in the old layout (pools/ files) is refused with reformat advice"
"$SERVER" -o "$T/sys.yml" storage format --force >/dev/null || fail "reformat"
mkdir -p "$T/engine0/pools" && : >"$T/engine0/pools/00000000-0000-0000-0000-000000000001.t0"
: >"$T/engine0.log"
"$SERVER" -o "$T/sys.yml" start >"$T/srv.out" 2>"$T/srv.err" &
SRV_PID=$!
for _ in $(seq 100); do grep -q "old layout" "$T/engine0.log" 2>/dev/null && break; sleep 0.1; done
grep -q "old layout.*reformat" "$T/engine0.log" || fail "old layout not refused: $(tail -5 "$T/engine0.log")"
stop_pid "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; SRV_PID=
"$SERVER" -o "$T/sys.yml" storage format --force >/dev/null || fail "reformat"
[ -e "$T/engine0/pools" ] && fail "reformat left the old pools/ directory"

# devices_run WHAT DEV0 DEV1: format the two devices as the targets, pool space comes from
# them, then stop.
devices_run() {
	echo "== devices ($1): format records them, pools take their space"
	sed -i -e "/target_size:/d" -e "/devices:/d" "$T/sys.yml"
	sed -i "s|^      dir: $T/engine0\$|      dir: $T/engine0\n      devices: [$2, $3]|" "$T/sys.yml"
	grep -q "devices: \[$2, $3\]" "$T/sys.yml" || fail "yml not rewritten: $(cat "$T/sys.yml")"
	"$SERVER" -o "$T/sys.yml" storage format --force >/dev/null || fail "format on $1"
	[ -L "$T/engine0/target-0" ] && [ "$(readlink "$T/engine0/target-1")" = "$(realpath "$3")" ] ||
		fail "targets not recorded as links to the devices: $(ls -l "$T/engine0")"
	start_srv
	out=$(ctl storage query)
	if [ -b "$3" ]; then
		echo "$out" | grep -q "target 1: $T/engine0/target-1 -> $(realpath "$3"), size 128 MiB" ||
			fail "device not shown: $out"
	fi
	[ "$(tgt size 0)" = $((128 * MiB)) ] || fail "device size: $(ctl -j storage query)"
	ctl pool create -z 64M -l ondev >/dev/null || fail "pool on $1"
	expect_used 0 64
	expect_used 1 64
	out=$(ctl pool create -z 100M -l toobig 2>&1) && fail "oversized pool on $1 accepted"
	echo "$out" | grep -q "not enough space on target 0: 100 MiB asked, 63 MiB free" ||
		fail "NOSPACE on $1: $out"
	ctl pool destroy --force ondev >/dev/null || fail "destroy on $1"
	expect_used 1 0
	sys_stop
}

echo "== devices: bad lists are refused before anything is written"
mkdir -p "$T/devs"
truncate -s 128M "$T/devs/d0" "$T/devs/d1"
cp "$T/sys.yml" "$T/sys.yml.files"
bad_devices() {
	sed -e "/target_size:/d" -e "s|^      dir: $T/engine0\$|      dir: $T/engine0\n      devices: $1|" \
		"$T/sys.yml.files" >"$T/bad.yml"
	out=$("$SERVER" -o "$T/bad.yml" storage format --force 2>&1) && fail "format accepted devices $1"
	echo "$out" | grep -q "$2" || fail "devices $1: unclear error: $out"
}
bad_devices "[$T/devs/d0]" "2 targets but 1 storage devices"
bad_devices "[$T/devs/d0, $T/devs/d0]" "is also engines\[0\].storage.devices\[0\]"
bad_devices "[$T/devs/d0, $T/devs/nosuch]" "No such file"
bad_devices "[$T/devs/d0, $T/devs]" "neither a block device nor a regular file"
bad_devices "[$T/devs/d0, devs/d1]" "not an absolute path"
truncate -s 8M "$T/devs/small"
bad_devices "[$T/devs/d0, $T/devs/small]" "needs at least"
[ -f "$T/engine0/target-0" ] && [ ! -L "$T/engine0/target-0" ] || fail "a refused format changed the storage"

devices_run "files standing in" "$T/devs/d0" "$T/devs/d1"
# a device of a formatted target is not taken by another storage dir without --force
sed -e "s|$T/engine0|$T/other|" "$T/sys.yml" >"$T/other.yml"
out=$("$SERVER" -o "$T/other.yml" storage format 2>&1) && fail "a device holding a target was reformatted"
echo "$out" | grep -q "already holds a Cairn target" || fail "unclear refusal: $out"

LOOPS=()
sys_cleanup_extra() { for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done; }
why=
if [ "$(id -u)" != 0 ]; then why="not root"
elif ! command -v losetup >/dev/null; then why="no losetup"
else
	truncate -s 128M "$T/devs/l0" "$T/devs/l1"
	for f in l0 l1; do
		l=$(losetup -f --show "$T/devs/$f" 2>/dev/null) && [ -b "$l" ] || { why="losetup failed"; break; }
		LOOPS+=("$l")
	done
fi
if [ -z "$why" ]; then
	devices_run "loop devices ${LOOPS[*]}" "${LOOPS[0]}" "${LOOPS[1]}"
	for l in "${LOOPS[@]}"; do losetup -d "$l" || fail "cannot detach $l"; done
	LOOPS=()
else
	echo "== loop devices: SKIPPED ($why); plain files stood in for block devices"
fi

echo "PASS"
