# Shared set-up of the system functional tests: a single-node Cairn (cairn-server + one
# engine with 2 targets) on loopback in a temporary directory. Source it after setting
# BIN (the bin directory), then call sys_init NAME; every wait is bounded and cleanup
# stops what was started. A script may define sys_cleanup_extra() to stop more.
#   sys_init NAME     T, PORT, EPORT, SOCK, $T/sys.yml; helpers ctl, cairn, q, jfield, tgt
#   sys_start         format, start cairn-server, wait until rank 0 joined; sets SRV_PID
#   sys_stop          clean stop (exit 0 expected), then fail on any sanitizer report
#   sys_add_engine    (after sys_init) a second engine, rank 1: EPORT1, $T/engine1
#   sys_wait_joined N wait until ranks 0..N-1 are all joined; rank_state R, rank_pid R
#   tgt_init          cairn-tgt helpers: TSOCK, URI, rpc, start_tgt ARGS, stop_tgt
CAIRN=$BIN/cairn
SERVER=$BIN/cairn-server
CTL=$BIN/cairnctl
SRV_PID=

fail() {
	echo "FAIL${SEED:+ (seed $SEED)}: $*" >&2
	[ -f "$T/srv.err" ] && tail -20 "$T/srv.err" >&2
	[ -f "$T/engine0.log" ] && tail -20 "$T/engine0.log" >&2
	[ -f "$T/engine1.log" ] && tail -20 "$T/engine1.log" >&2
	[ -f "$T/tgt.err" ] && tail -20 "$T/tgt.err" >&2
	exit 1
}

# stop_pid PID: SIGTERM, bounded wait, then SIGKILL.
stop_pid() {
	kill -0 "$1" 2>/dev/null || return 0
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
}

sys_cleanup() {
	# In a subshell: an error there (e.g. `set -u` on a coprocess's *_PID, which bash
	# unsets when the coprocess exits) must not abort the rest of the cleanup.
	declare -F sys_cleanup_extra >/dev/null && (sys_cleanup_extra)
	[ -n "${TGT_PID:-}" ] && stop_pid "$TGT_PID"
	if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
		kill -TERM "$SRV_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SRV_PID" 2>/dev/null
	fi
	rm -rf "$T"
}

# free_port N: the first of N consecutive free TCP ports, below the ephemeral range.
free_port() {
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

ctl() { "$CTL" -o "$SOCK" -t 30 "$@"; }
cairn() { timeout 30 "$CAIRN" -o "$SOCK" "$@"; }
jfield() { sed -n "s/^ *\"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" | head -1; }
q() { ctl -j system query 2>/dev/null | jfield "$1"; }
# tgt FIELD N: FIELD (size, used, free, largest_free, shards) of target N of engine 0, from
# its space map (cairnctl storage query).
tgt() { ctl -j storage query 2>/dev/null | sed -n "s/^ *\"$1\": \([0-9]*\),\{0,1\}\$/\1/p" |
	sed -n "$(($2 + 1))p"; }

# pool_shards SOCK ENGINE [UUID-PREFIX]: pool shards (space-map extents) on the targets of
# engine ENGINE of the server at SOCK, optionally only those of pools whose uuid starts so.
pool_shards() {
	"$CTL" -o "$1" -t 30 -j storage query |
		jq --argjson e "$2" --arg p "${3:-}" \
			'[.engines[] | select(.engine == $e) | .targets[].pools[]? |
			  select(.pool | startswith($p))] | length'
}

sys_init() {
	local name=$1
	T=$(mktemp -d "/tmp/cairn-$name-func.XXXXXX")
	trap sys_cleanup EXIT
	# In a sanitizer build every process reports into $T/san.<pid>; any report fails.
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/san"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$T/san"
	PORT=$(free_port 1) || fail "no free port"
	EPORT=$(free_port 3) || fail "no free engine ports"
	[ $EPORT -le $PORT ] && [ $((EPORT + 2)) -ge $PORT ] && EPORT=$((PORT + 10))
	SOCK=$T/api.sock
	cat >"$T/sys.yml" <<YML
name: ${name}test
mgmt_socket: $SOCK
port: $PORT
socket_dir: $T/sock
log_mask: NOTE
restart_backoff_min: 100ms
restart_backoff_max: 2s
max_restarts: 3
stop_timeout: 5s
engines:
  - targets: 2
    helpers: 0
    port: $EPORT
    storage:
      dir: $T/engine0
      target_size: 1G
    log_file: $T/engine0.log
    log_mask: NOTE
YML
}

# A second engine (rank 1, 2 targets) in the same system, on ports of its own.
sys_add_engine() {
	EPORT1=$(free_port 3) || fail "no free engine ports"
	while [ $EPORT1 -le $((EPORT + 2)) ] && [ $((EPORT1 + 2)) -ge $EPORT ] ||
		{ [ $EPORT1 -le $PORT ] && [ $((EPORT1 + 2)) -ge $PORT ]; }; do
		EPORT1=$(free_port 3) || fail "no free engine ports"
	done
	cat >>"$T/sys.yml" <<YML
  - targets: 2
    helpers: 0
    port: $EPORT1
    storage:
      dir: $T/engine1
      target_size: 1G
    log_file: $T/engine1.log
    log_mask: NOTE
YML
}

# rank_field R FIELD: a field of rank R in `cairnctl -j system query`.
rank_field() {
	ctl -j system query --ranks "$1" 2>/dev/null | jfield "$2"
}
rank_state() { rank_field "$1" state; }
rank_pid() { rank_field "$1" pid; }

sys_wait_joined() {
	local r ok
	for _ in $(seq 200); do
		ok=1
		for r in $(seq 0 $(($1 - 1))); do
			[ "$(rank_state $r)" = joined ] || ok=0
		done
		[ $ok = 1 ] && return 0
		sleep 0.1
	done
	fail "ranks 0..$(($1 - 1)) did not all join"
}

sys_start() {
	"$SERVER" -o "$T/sys.yml" storage format >/dev/null || fail "format failed"
	"$SERVER" -o "$T/sys.yml" start >"$T/srv.out" 2>"$T/srv.err" &
	SRV_PID=$!
	for _ in $(seq 150); do [ "$(q state)" = joined ] && break; sleep 0.1; done
	[ "$(q state)" = joined ] || fail "rank 0 did not join"
}

sys_stop() {
	local rc
	kill -TERM "$SRV_PID"
	for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$SRV_PID" 2>/dev/null && fail "server did not stop"
	wait "$SRV_PID"; rc=$?
	SRV_PID=
	[ $rc = 0 ] || fail "server exit $rc"
	if ls "$T"/san.* >/dev/null 2>&1; then
		cat "$T"/san.* >&2
		fail "sanitizer reports"
	fi
}

# cairn-tgt against this system (libcairn reaches the engine at URI).
tgt_init() {
	TGT=$BIN/cairn-tgt
	RPC=$BIN/cairn-rpc
	PERF=$BIN/cairn-iscsi-perf
	TGT_PID=
	TSOCK=$T/tgt.sock
	URI=tcp://127.0.0.1:$EPORT
	[ -x "$TGT" ] && [ -x "$RPC" ] && [ -x "$PERF" ] ||
		fail "cairn-tgt, cairn-rpc or cairn-iscsi-perf not built"
}
rpc() { timeout 60 "$RPC" -s "$TSOCK" "$@" || fail "cairn-rpc $* failed"; }
start_tgt() {
	rm -f "$T/tgt.out"
	CAIRN_SYSTEM_URI=$URI "$TGT" -r "$TSOCK" "$@" >"$T/tgt.out" 2>"$T/tgt.err" &
	TGT_PID=$!
	for _ in $(seq 150); do
		grep -q ready "$T/tgt.out" 2>/dev/null && return 0
		kill -0 "$TGT_PID" 2>/dev/null || fail "cairn-tgt exited at start"
		sleep 0.1
	done
	fail "cairn-tgt not ready"
}
stop_tgt() {
	kill -TERM "$TGT_PID"
	for _ in $(seq 100); do kill -0 "$TGT_PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$TGT_PID" 2>/dev/null && fail "cairn-tgt did not stop"
	wait "$TGT_PID" || fail "cairn-tgt exit $?"
	TGT_PID=
}

# vol_export: (after sys_init; needs SEED) a system with pool `vol` (VOL_POOL_SIZE per
# target, default 256M), container `vols`, and
# cairn-tgt exporting a 64 MiB cairn volume bdev Vol0 over iSCSI as $ISCSI_URL (bad
# bdev_cairn_create calls refused first), verified once with cairn-iscsi-perf (seed SEED).
vol_export() {
	echo "== format, start, pool and container"
	sys_start
	ctl pool create -z "${VOL_POOL_SIZE:-256M}" -l vol >/dev/null || fail "pool create"
	cairn container create vol vols >/dev/null || fail "container create"
	tgt_init
	IPORT=$(free_port 1) || fail "no free iSCSI port"
	IQN=iqn.2016-06.io.cairn:vol0

	echo "== cairn-tgt: bdev_cairn_create, export over iSCSI"
	start_tgt
	rpc rpc_get_methods | grep -q bdev_cairn_create || fail "cairn-tgt lacks bdev_cairn_create"
	rpc rpc_get_methods | grep -q iscsi_create_target_node || fail "cairn-tgt built without iSCSI"
	out=$(timeout 60 "$RPC" -s "$TSOCK" bdev_cairn_create Vol0 vol nosuch 67108864 2>&1) &&
		fail "bdev on a missing container created"
	echo "$out" | grep -q "nosuch" || fail "missing container error does not name it: $out"
	out=$(timeout 60 "$RPC" -s "$TSOCK" bdev_cairn_create Vol0 vol vols 1000 2>&1) &&
		fail "bdev with a size not a multiple of the block size created"
	rpc bdev_cairn_create Vol0 vol vols 67108864 -b 4096 >/dev/null
	rpc bdev_get_bdevs -b Vol0 | grep -q '"Cairn volume"' || fail "bdev_get_bdevs: $(rpc bdev_get_bdevs -b Vol0)"
	rpc iscsi_create_portal_group 1 "127.0.0.1:$IPORT" >/dev/null
	rpc iscsi_create_initiator_group 1 ANY 127.0.0.1/32 >/dev/null
	rpc iscsi_create_target_node "$IQN" vol0 "Vol0:0" "1:1" 64 >/dev/null
	ISCSI_URL="iscsi://127.0.0.1:$IPORT/$IQN/0"

	echo "== cairn-iscsi-perf verify: 32 MiB written through iSCSI and read back (seed $SEED)"
	timeout 120 "$PERF" -w verify --verify-mb 32 -b 65536 -q 16 -s "$SEED" "$ISCSI_URL" >"$T/v1.out" 2>&1 ||
		{ cat "$T/v1.out" >&2; fail "verify through the cairn bdev"; }
	grep -q "all data matches" "$T/v1.out" || { cat "$T/v1.out" >&2; fail "verify mismatch"; }
	grep -A1 IOPS "$T/v1.out"
}

# acked_writer POOL CONT OID: in the background, up to 300 `cairn object put`s (dkeys w1,
# w2, ..., values cycling through $T/v1, $T/v4k, $T/v1m, which the caller creates); the
# index of each acknowledged put is appended to $T/acked; stops at the first failure.
# Sets WRITER to its pid. acked_wait N: wait (bounded) until N puts are acknowledged.
# acked_check POOL CONT OID: every acknowledged put reads back intact; sets ACKED_N.
ACKED_FILES=(v1 v4k v1m)
acked_writer() {
	: >"$T/acked"
	(
		for i in $(seq 1 300); do
			timeout 10 "$CAIRN" -o "$SOCK" object put "$1" "$2" "$3" "w$i" \
				-i "$T/${ACKED_FILES[i % 3]}" 2>/dev/null || exit 0
			echo "$i" >>"$T/acked"
		done
	) &
	WRITER=$!
}
acked_wait() {
	for _ in $(seq 200); do [ "$(wc -l <"$T/acked")" -ge "$1" ] && break; sleep 0.05; done
	[ -s "$T/acked" ] || fail "the writer got no put acknowledged"
}
acked_check() {
	local i
	ACKED_N=0
	while read -r i; do
		cairn object get "$1" "$2" "$3" "w$i" -O "$T/w.out" || fail "acknowledged put w$i lost"
		cmp -s "$T/w.out" "$T/${ACKED_FILES[i % 3]}" ||
			fail "acknowledged put w$i has wrong content"
		ACKED_N=$((ACKED_N + 1))
	done <"$T/acked"
}
