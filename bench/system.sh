#!/bin/bash
# bench/system.sh [BUILD_DIR]: a single-node Cairn on loopback (cairn-server, one engine
# with 2 targets, file-backed pool shards), measured with cairn-bench:
#   - 4 KiB object updates, depth 32          -> update_4k_iops
#   - 4 KiB object updates, depth 128         -> update_4k_d128_iops (WAL group commit
#     scaling: each frame costs one device cache flush)
#   - 1 MiB object writes then reads, depth 8 -> write_1m_gbps, read_1m_gbps (verified)
# beside raw loopback TCP throughput (cairn-tcp-raw stream, one 1 MiB buffer sent over
# and over, so it stays in the CPU caches) -> tcp_gbps, the reference of the targets;
# and the same stream cycling through 8 distinct 1 MiB buffers on both sides (the data
# footprint of 8 values in flight, which Cairn moves) -> tcp_8buf_gbps, for information.
# Each figure is the best of $RUNS runs (the machine is shared; raw TCP and Cairn runs are
# interleaved so both see the same background load). Prints a table, then as the last
# line one JSON object. Every wait is bounded; the system is stopped on exit.
# Env: RUNS (3), COUNT_4K (100000), COUNT_1M (1024), POOL_SIZE per target (1G), TARGET_SIZE (4G),
#      STORE_DIR: where the engine keeps its pool files (default: the run directory
#      under /tmp, i.e. the disk; STORE_DIR=/dev/shm measures memory-backed storage),
#      ENGINE_BIN: another cairn-engine binary (A/B a change), KEEP_LOGS=1 keeps the
#      run directory.
set -u
B=${1:-build}
BIN=$(cd "$B/bin" 2>/dev/null && pwd) || { echo "bench/system.sh: no $B/bin (build first)" >&2; exit 2; }
for t in cairn-server cairn-engine cairnctl cairn cairn-bench cairn-tcp-raw; do
	[ -x "$BIN/$t" ] || { echo "bench/system.sh: $BIN/$t missing (build first)" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "bench/system.sh: needs jq" >&2; exit 2; }
RUNS=${RUNS:-3}
COUNT_4K=${COUNT_4K:-100000}
COUNT_1M=${COUNT_1M:-1024}
POOL_SIZE=${POOL_SIZE:-1G}
# Target files are sparse; they must hold the pool plus the 1 MiB space map.
TARGET_SIZE=${TARGET_SIZE:-4G}
T=$(mktemp -d /tmp/cairn-bench-sys.XXXXXX)
if [ -n "${STORE_DIR:-}" ]; then
	S=$(mktemp -d "$STORE_DIR/cairn-bench-store.XXXXXX") || { echo "bench/system.sh: cannot use STORE_DIR $STORE_DIR" >&2; exit 2; }
else
	S=$T
fi
SRV_PID=
fail() {
	echo "bench/system.sh: $*" >&2
	[ -f "$T/srv.err" ] && tail -5 "$T/srv.err" >&2
	[ -f "$T/engine0.log" ] && tail -10 "$T/engine0.log" >&2
	exit 1
}
cleanup() {
	if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
		kill -TERM "$SRV_PID" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
	fi
	[ "$S" != "$T" ] && rm -rf "$S"
	if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "bench/system.sh: logs in $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { # count of consecutive free ports wanted
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
[ "$EPORT" -le "$PORT" ] && [ $((EPORT + 2)) -ge "$PORT" ] && EPORT=$((PORT + 10))
SOCK=$T/api.sock
cat > "$T/sys.yml" <<YML
name: benchsys
${ENGINE_BIN:+engine_bin: $ENGINE_BIN}
mgmt_socket: $SOCK
port: $PORT
socket_dir: $T/sock
log_mask: NOTE
restart_backoff_min: 100ms
restart_backoff_max: 2s
max_restarts: 1
stop_timeout: 10s
engines:
  - targets: 2
    helpers: 0
    port: $EPORT
    storage:
      dir: $S/engine0
      target_size: $TARGET_SIZE
    log_file: $T/engine0.log
    log_mask: NOTE
YML
ctl() { timeout 120 "$BIN/cairnctl" -o "$SOCK" -t 100 "$@"; }
state() { ctl -j system query 2>/dev/null | jq -r '.ranks[0].state // empty' 2>/dev/null; }

"$BIN/cairn-server" -o "$T/sys.yml" storage format >/dev/null 2>"$T/srv.err" || fail "storage format failed"
"$BIN/cairn-server" -o "$T/sys.yml" start >"$T/srv.out" 2>>"$T/srv.err" &
SRV_PID=$!
for _ in $(seq 100); do grep -q ready "$T/srv.out" 2>/dev/null && break; sleep 0.1; done
for _ in $(seq 150); do [ "$(state)" = joined ] && break; sleep 0.1; done
[ "$(state)" = joined ] || fail "rank 0 did not join"
ctl pool create -z "$POOL_SIZE" -l bench >"$T/pool.out" 2>&1 || fail "pool create: $(cat "$T/pool.out")"
# Unwritten (fallocate'd) extents make every first O_DIRECT write a journal commit: the
# engine zero-fills pool files at create; say so if that did not happen.
if command -v filefrag >/dev/null; then
	for f in "$S"/engine0/target-*; do
		[ -f "$f" ] && filefrag -v "$f" 2>/dev/null | grep -q unwritten &&
			echo "bench/system.sh: warning: $f has unwritten extents (writes will be slow)" >&2
	done
fi

# The storage's own limits for the 1 MiB write test's shape: 2 files (one per target) at
# depth 4 each, 1 MiB O_DIRECT writes, on the same file system (fio, 5 s each): plain
# (disk_write_1m_gbps: the device's bandwidth, nothing made durable) and with an
# fdatasync after every write (disk_sync_write_1m_gbps: each write durable before the
# next, which is what acknowledging a write means; Cairn's group commit shares one flush
# among the writes of a frame, so it can land between the two).
fio_1m() { # extra fio options...
	local j g
	j=$(timeout 60 fio --name=disk --directory="$S" --size=1g --numjobs=2 --rw=randwrite \
		--bs=1m --direct=1 --ioengine=io_uring --iodepth=4 --runtime=5 --time_based \
		--group_reporting --output-format=json "$@" 2>/dev/null) &&
		g=$(echo "$j" | jq '.jobs[0].write.bw_bytes * 8 / 1e9 | . * 1000 | round / 1000' 2>/dev/null)
	rm -f "$S"/disk.*
	echo "${g:-null}"
}
disk_gbps=null; disk_sync_gbps=null
if command -v fio >/dev/null; then
	disk_gbps=$(fio_1m)
	disk_sync_gbps=$(fio_1m --fdatasync=1)
fi

drop() { timeout 60 "$BIN/cairn" -o "$SOCK" container destroy bench "$1" >/dev/null 2>&1 || fail "container destroy $1"; }
# raw TCP as bench/net.sh measures it: sender and receiver pinned to cores 0 and 1
TCP_CPUS=; [ "$(nproc)" -ge 2 ] && TCP_CPUS="--cpus 0,1"
bench() { timeout 300 "$BIN/cairn-bench" -o "$SOCK" -P bench -C bench --create --no-progress -j "$@" | tail -1; }
u4=""; u4d=""; rw=""; tcp=""; tcp8=""
for r in $(seq "$RUNS"); do
	# a fresh container per run: the pool holds every version written (no aggregation)
	j=$(bench -C "u4k-$r" -w update -z 4k -d 32 -n "$COUNT_4K") || fail "4 KiB update run failed"
	u4="$u4 $j"
	drop "u4k-$r"
	j=$(bench -C "u4k128-$r" -w update -z 4k -d 128 -n "$COUNT_4K") || fail "4 KiB depth 128 run failed"
	u4d="$u4d $j"
	drop "u4k128-$r"
	j=$(bench -C "rw1m-$r" -w update,fetch -z 1m -d 8 -n "$COUNT_1M" -k 64) || fail "1 MiB run failed"
	rw="$rw $j"
	drop "rw1m-$r"
	# shellcheck disable=SC2086 # TCP_CPUS is empty or two words
	j=$("$BIN/cairn-tcp-raw" stream --chunk 1m --bytes 4g $TCP_CPUS | tr -d ' ') || fail "cairn-tcp-raw failed"
	tcp="$tcp $j"
	# shellcheck disable=SC2086
	j=$("$BIN/cairn-tcp-raw" stream --chunk 1m --bytes 4g --buffers 8 $TCP_CPUS | tr -d ' ') ||
		fail "cairn-tcp-raw --buffers 8 failed"
	tcp8="$tcp8 $j"
done
# shellcheck disable=SC2086
best_u4=$(for j in $u4; do echo "$j"; done | jq -s 'sort_by(.results[0].iops) | .[-1].results[0]')
# shellcheck disable=SC2086
best_u4d=$(for j in $u4d; do echo "$j"; done | jq -s 'sort_by(.results[0].iops) | .[-1].results[0]')
# shellcheck disable=SC2086
best_w=$(for j in $rw; do echo "$j"; done | jq -s 'sort_by(.results[0].gbps) | .[-1].results[0]')
# shellcheck disable=SC2086
best_r=$(for j in $rw; do echo "$j"; done | jq -s 'sort_by(.results[1].gbps) | .[-1].results[1]')
# shellcheck disable=SC2086
tcp_gbps=$(for j in $tcp; do echo "$j"; done | jq -s 'map(.gbps) | max')
# shellcheck disable=SC2086
tcp8_gbps=$(for j in $tcp8; do echo "$j"; done | jq -s 'map(.gbps) | max')

f() { echo "$1" | jq -r "$2"; }
iops=$(f "$best_u4" '.iops | floor')
wg=$(f "$best_w" '.gbps * 1000 | round / 1000')
rg=$(f "$best_r" '.gbps * 1000 | round / 1000')
tg=$(echo "$tcp_gbps" | jq '. * 1000 | round / 1000')
tg8=$(echo "$tcp8_gbps" | jq '. * 1000 | round / 1000')
ratio=$(echo "$wg $tg" | awk '{printf "%.3f", $1 / $2}')
rratio=$(echo "$rg $tg" | awk '{printf "%.3f", $1 / $2}')
ratio8=$(echo "$wg $tg8" | awk '{printf "%.3f", $1 / $2}')
rratio8=$(echo "$rg $tg8" | awk '{printf "%.3f", $1 / $2}')

printf '%-40s %12s %10s %10s %10s %10s\n' "test (1 engine, 2 targets, loopback)" "result" "p50_us" "p99_us" "p99.9_us" "vs TCP"
printf '%-40s %12s %10s %10s %10s %10s\n' "4 KiB update, depth 32 (IOPS)" "$iops" \
	"$(f "$best_u4" .p50_us)" "$(f "$best_u4" .p99_us)" "$(f "$best_u4" .p999_us)" ""
printf '%-40s %12s %10s %10s %10s %10s\n' "4 KiB update, depth 128 (IOPS)" "$(f "$best_u4d" '.iops | floor')" \
	"$(f "$best_u4d" .p50_us)" "$(f "$best_u4d" .p99_us)" "$(f "$best_u4d" .p999_us)" ""
printf '%-40s %12s %10s %10s %10s %10s\n' "1 MiB write, depth 8 (Gbit/s)" "$wg" \
	"$(f "$best_w" .p50_us)" "$(f "$best_w" .p99_us)" "$(f "$best_w" .p999_us)" "$ratio"
printf '%-40s %12s %10s %10s %10s %10s\n' "1 MiB read, depth 8, verified (Gbit/s)" "$rg" \
	"$(f "$best_r" .p50_us)" "$(f "$best_r" .p99_us)" "$(f "$best_r" .p999_us)" "$rratio"
printf '%-40s %12s %10s %10s %10s %10s\n' "raw loopback TCP stream, 1 MiB (Gbit/s)" "$tg" "" "" "" ""
printf '%-40s %12s %10s %10s %10s %10s\n' "  same, 8 buffers (Gbit/s; w, r vs it)" "$tg8" "" "" "$ratio8" "$rratio8"
dratio=null; sratio=null
if [ "$disk_gbps" != null ]; then
	dratio=$(echo "$wg $disk_gbps" | awk '{printf "%.3f", $1 / $2}')
	printf '%-40s %12s %10s %10s %10s %10s\n' "storage: fio 1 MiB write, 2x depth 4" "$disk_gbps" "" "" "" ""
	printf '%-40s %12s\n' "  1 MiB write vs the storage's limit" "$dratio"
fi
if [ "$disk_sync_gbps" != null ]; then
	sratio=$(echo "$wg $disk_sync_gbps" | awk '{printf "%.3f", $1 / $2}')
	printf '%-40s %12s %10s %10s %10s %10s\n' "  same, fdatasync after each write" "$disk_sync_gbps" "" "" "" ""
	printf '%-40s %12s\n' "  1 MiB write vs durable-write limit" "$sratio"
fi
printf '{"update_4k_iops":%s,"update_4k_p50_us":%s,"update_4k_p99_us":%s,"update_4k_d128_iops":%s,"write_1m_gbps":%s,"read_1m_gbps":%s,"tcp_gbps":%s,"write_1m_vs_tcp":%s,"read_1m_vs_tcp":%s,"tcp_8buf_gbps":%s,"write_1m_vs_tcp_8buf":%s,"read_1m_vs_tcp_8buf":%s,"write_1m_p99_us":%s,"read_1m_p99_us":%s,"runs":%s,"store":"%s","disk_write_1m_gbps":%s,"write_1m_vs_disk":%s,"disk_sync_write_1m_gbps":%s,"write_1m_vs_disk_sync":%s}\n' \
	"$iops" "$(f "$best_u4" .p50_us)" "$(f "$best_u4" .p99_us)" "$(f "$best_u4d" '.iops | floor')" "$wg" "$rg" "$tg" "$ratio" "$rratio" "$tg8" "$ratio8" "$rratio8" \
	"$(f "$best_w" .p99_us)" "$(f "$best_r" .p99_us)" "$RUNS" "$(df --output=fstype "$S" | tail -1)" "$disk_gbps" "$dratio" "$disk_sync_gbps" "$sratio"
