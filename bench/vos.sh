#!/bin/sh
# bench/vos.sh [BUILD_DIR]: Cairn VOS vs RocksDB vs LMDB, side by side, same file system,
# every acknowledged write durable:
#   - VOS: cairn-vos-perf on a pool file (uring bdev), WAL group commit + flush; the pool
#     is formatted with CAIRN_VOS_FORMAT_PREZERO (cairn-vos-perf's default for files), so
#     the file is fully written first, standing in for the raw NVMe namespace a VOS pool
#     gets in production.
#   - RocksDB: WAL on, sync writes (its own group commit), same number of writer threads
#     as VOS has concurrent ULTs.
#   - LMDB: synced commits, one transaction per put.
# Values of 4 KiB and 64 B; N updates of distinct keys, then N point fetches.
# Each figure is the best of $RUNS interleaved runs (the machine is shared).
# Prints a table, then (last line) one JSON object.
# Env: VOS_BENCH_DIR (default /tmp), RUNS (3), THREADS (16), KEYS_4K (20000), KEYS_64 (30000),
#      TARGETS (VOS pools run side by side, one per target as in the engine; default nproc)
set -eu
B=${1:-build}
BIN="$B/bin"
for t in cairn-vos-perf cairn-vos-peer-bench; do
	[ -x "$BIN/$t" ] || { echo "bench/vos.sh: $BIN/$t missing (build first)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bench/vos.sh: needs jq" >&2; exit 1; }
RUNS=${RUNS:-3}
T=${THREADS:-16}
NCPU=$(nproc)
TARGETS=${TARGETS:-$NCPU}
KEYS_4K=${KEYS_4K:-20000}
KEYS_64=${KEYS_64:-30000}
WORK=$(mktemp -d "${VOS_BENCH_DIR:-/tmp}/cairn-vos-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

best() { # best KEY JSON... -> the JSON with the largest KEY
	key=$1; shift
	for j in "$@"; do echo "$j"; done | jq -s "sort_by(.$key) | .[-1]"
}

# One VOS pool per target, as the engine runs them: $TARGETS instances (default: one per
# CPU, each pinned to its own core), the keys and the $T ULTs split between them, run at
# the same time; their rates add up (no two share a core). The peers get the same CPUs.
vos_run() { # vos_run KEYS VSIZE -> JSON {update_ops_per_sec, fetch_ops_per_sec, ...}
	keys=$1; vs=$2
	ults=$(( T / TARGETS )); [ "$ults" -ge 1 ] || ults=1
	per=$(( keys / TARGETS ))
	size=$(( (per * ((vs + 4095) / 4096 * 4096) * 3 / 2) / 1048576 + 64 ))
	n=0
	while [ $n -lt "$TARGETS" ]; do
		pin=""
		command -v taskset >/dev/null && pin="taskset -c $((n % NCPU))"
		(
			rm -f "$WORK/vos$n.pool"
			$pin "$BIN/cairn-vos-perf" -f "$WORK/vos$n.pool" --size "${size}M" -d "$per" \
				-v "$vs" -c "$ults" -T update,fetch --json >"$WORK/vos$n.json"
			rm -f "$WORK/vos$n.pool"
		) &
		n=$((n + 1))
	done
	wait
	cat "$WORK"/vos[0-9]*.json | jq -s -c '{
		update_ops_per_sec: (map(.results.update.ops_per_sec) | add),
		fetch_ops_per_sec: (map(.results.fetch.ops_per_sec) | add),
		errors: (map(.results.update.errors + .results.fetch.errors) | add),
		records_per_frame: ((map(.results.update.wal_records) | add) /
			([(map(.results.update.wal_frames) | add), 1] | max)),
		dev_flushes: (map(.results.update.dev_flushes) | add)}'
	rm -f "$WORK"/vos[0-9]*.json
}

peer_run() { # peer_run ENGINE KEYS VSIZE
	rm -rf "$WORK/$1"
	"$BIN/cairn-vos-peer-bench" --engine "$1" --dir "$WORK/$1" --keys "$2" --value-size "$3" \
		-t "$T"
	rm -rf "$WORK/$1"
}

for vs in 4096 64; do
	if [ "$vs" = 4096 ]; then keys=$KEYS_4K; tag=4k; else keys=$KEYS_64; tag=64b; fi
	v_u=""; v_f=""; r_u=""; r_f=""; l_u=""; l_f=""
	i=0
	while [ $i -lt "$RUNS" ]; do
		# Interleaved so all three see the same background load.
		v=$(vos_run "$keys" "$vs")
		r=$(peer_run rocksdb "$keys" "$vs")
		l=$(peer_run lmdb "$keys" "$vs")
		for j in "$v" "$r" "$l"; do
			[ "$(echo "$j" | jq '.errors')" = 0 ] ||
				{ echo "bench/vos.sh: a run reported errors: $j" >&2; exit 1; }
		done
		v_u="$v_u $v"; r_u="$r_u $r"; l_u="$l_u $l"
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	x=$(best update_ops_per_sec $v_u | jq .update_ops_per_sec); eval "V_UP_$tag=\$x"
	x=$(best fetch_ops_per_sec $v_u | jq .fetch_ops_per_sec); eval "V_FE_$tag=\$x"
	x=$(best update_ops_per_sec $v_u | jq .records_per_frame); eval "V_RPF_$tag=\$x"
	x=$(best update_ops_per_sec $r_u | jq .update_ops_per_sec); eval "R_UP_$tag=\$x"
	x=$(best fetch_ops_per_sec $r_u | jq .fetch_ops_per_sec); eval "R_FE_$tag=\$x"
	x=$(best update_ops_per_sec $l_u | jq .update_ops_per_sec); eval "L_UP_$tag=\$x"
	x=$(best fetch_ops_per_sec $l_u | jq .fetch_ops_per_sec); eval "L_FE_$tag=\$x"
done

# Foreground update latency while checkpoints run (RAM pool, CKPT_KEYS x 64 B values
# overwritten by $T ULTs while 3 checkpoints run back to back): cooperative walk (now)
# vs whole-index serialisation at the cut (before; --ckpt-whole). Best p99 of $RUNS.
CKPT_KEYS=${CKPT_KEYS:-200000}
ckpt_run() { # ckpt_run [--ckpt-whole] -> JSON {p99, max, ops_per_sec}
	"$BIN/cairn-vos-perf" --malloc --size 1G --wal 256M -d "$CKPT_KEYS" -v 64 -c "$T" \
		-T update,ckpt --json "$@" |
		jq -c '{p99: .results.ckpt.lat_p99_us, max: .results.ckpt.lat_max_us,
			ops_per_sec: .results.ckpt.ops_per_sec, errors: .results.ckpt.errors}'
}
c_n=""; c_w=""; i=0
while [ $i -lt "$RUNS" ]; do
	c_n="$c_n $(ckpt_run)"; c_w="$c_w $(ckpt_run --ckpt-whole)"
	i=$((i + 1))
done
# shellcheck disable=SC2086
C_N=$(for j in $c_n; do echo "$j"; done | jq -s -c 'sort_by(.p99) | .[0]')
# shellcheck disable=SC2086
C_W=$(for j in $c_w; do echo "$j"; done | jq -s -c 'sort_by(.p99) | .[0]')

ratio() { echo "$1 $2" | awk '{ printf "%.3f", ($2 > 0 ? $1 / $2 : 0) }'; }
U4R=$(ratio "$V_UP_4k" "$R_UP_4k"); U6R=$(ratio "$V_UP_64b" "$R_UP_64b")
F4L=$(ratio "$V_FE_4k" "$L_FE_4k"); F6L=$(ratio "$V_FE_64b" "$L_FE_64b")
U4L=$(ratio "$V_UP_4k" "$L_UP_4k"); U6L=$(ratio "$V_UP_64b" "$L_UP_64b")
F4R=$(ratio "$V_FE_4k" "$R_FE_4k"); F6R=$(ratio "$V_FE_64b" "$R_FE_64b")

printf "VOS vs RocksDB vs LMDB: %s threads/ULTs (VOS: %s pools/targets), %s x 4 KiB and %s x 64 B values, durable writes, best of %s\n" \
	"$T" "$TARGETS" "$KEYS_4K" "$KEYS_64" "$RUNS"
printf "%-14s %12s %12s %12s %10s %10s\n" "ops/s" "VOS" "RocksDB" "LMDB" "VOS/Rocks" "VOS/LMDB"
printf "%-14s %12.0f %12.0f %12.0f %10s %10s\n" "update 4 KiB" "$V_UP_4k" "$R_UP_4k" "$L_UP_4k" "$U4R" "$U4L"
printf "%-14s %12.0f %12.0f %12.0f %10s %10s\n" "update 64 B" "$V_UP_64b" "$R_UP_64b" "$L_UP_64b" "$U6R" "$U6L"
printf "%-14s %12.0f %12.0f %12.0f %10s %10s\n" "fetch 4 KiB" "$V_FE_4k" "$R_FE_4k" "$L_FE_4k" "$F4R" "$F4L"
printf "%-14s %12.0f %12.0f %12.0f %10s %10s\n" "fetch 64 B" "$V_FE_64b" "$R_FE_64b" "$L_FE_64b" "$F6R" "$F6L"
printf "VOS records per WAL frame (group commit): 4 KiB %.1f, 64 B %.1f\n" "$V_RPF_4k" "$V_RPF_64b"
printf "update latency during checkpoints (%s x 64 B, RAM): cooperative p99 %.0f us max %.0f us; whole-index p99 %.0f us max %.0f us\n" \
	"$CKPT_KEYS" "$(echo "$C_N" | jq .p99)" "$(echo "$C_N" | jq .max)" \
	"$(echo "$C_W" | jq .p99)" "$(echo "$C_W" | jq .max)"
printf '{"bench":"vos","targets":'"$TARGETS"',"threads":%s,"keys_4k":%s,"keys_64b":%s,"runs":%s,"update_4k_vs_rocksdb":%s,"update_64b_vs_rocksdb":%s,"fetch_4k_vs_lmdb":%s,"fetch_64b_vs_lmdb":%s,"vos_update_4k":%.0f,"vos_update_64b":%.0f,"vos_fetch_4k":%.0f,"vos_fetch_64b":%.0f,"rocksdb_update_4k":%.0f,"rocksdb_update_64b":%.0f,"rocksdb_fetch_4k":%.0f,"rocksdb_fetch_64b":%.0f,"lmdb_update_4k":%.0f,"lmdb_update_64b":%.0f,"lmdb_fetch_4k":%.0f,"lmdb_fetch_64b":%.0f,"ckpt_keys":%s,"ckpt_update_p99_us":%s,"ckpt_update_max_us":%s,"ckpt_whole_update_p99_us":%s,"ckpt_whole_update_max_us":%s,"loadavg_1m":%s}\n' \
	"$T" "$KEYS_4K" "$KEYS_64" "$RUNS" "$U4R" "$U6R" "$F4L" "$F6L" \
	"$V_UP_4k" "$V_UP_64b" "$V_FE_4k" "$V_FE_64b" "$R_UP_4k" "$R_UP_64b" "$R_FE_4k" "$R_FE_64b" \
	"$L_UP_4k" "$L_UP_64b" "$L_FE_4k" "$L_FE_64b" "$CKPT_KEYS" \
	"$(echo "$C_N" | jq .p99)" "$(echo "$C_N" | jq .max)" \
	"$(echo "$C_W" | jq .p99)" "$(echo "$C_W" | jq .max)" "$(cut -d' ' -f1 /proc/loadavg)"
