# Shared helpers for the iSCSI/cairn-tgt functional tests. Source it; needs bash.
# Env (set by CTest, or by hand): CAIRN_TGT, CAIRN_RPC, CAIRN_ISCSI_PERF binaries.
# Every process started here is killed by pid in cleanup(); nothing is left running.

set -u
SKIP=77
TMP=$(mktemp -d /tmp/cairn-func.XXXXXX)
PIDS=()

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
skip() { log "SKIP: $*"; exit $SKIP; }

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		# bounded wait, then force
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=()
	rm -rf "$TMP"
	rm -f "/dev/shm/cairn-func-$$".*
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

need_bin() {
	[ -n "${1:-}" ] && [ -x "$1" ] || skip "$2 not found (${1:-unset})"
}

# A TCP port nobody listens on, below the kernel's ephemeral range (ip_local_port_range,
# 32768+ by default): a port in that range can be taken by any outgoing connection (e.g.
# iscsi-test-cu's) between this check and the listener's bind.
free_port() {
	local p i lo
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	[ "${lo:-0}" -gt 21000 ] 2>/dev/null || lo=32768
	for i in $(seq 200); do
		p=$(( 20000 + RANDOM % (lo - 20000) ))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
			if ! ss -ltn 2>/dev/null | grep -q ":$p\b"; then
				echo "$p"
				return 0
			fi
		fi
	done
	die "no free TCP port found"
}

# start_cairn_tgt SOCK [extra args...]: start, wait for "ready", set TGT_PID.
start_cairn_tgt() {
	local sock=$1; shift
	# a previous run's "ready" must not satisfy the wait below
	rm -f "$TMP/tgt.out" "$TMP/tgt.err"
	"$CAIRN_TGT" -r "$sock" "$@" >"$TMP/tgt.out" 2>"$TMP/tgt.err" &
	TGT_PID=$!
	PIDS+=("$TGT_PID")
	for _ in $(seq 100); do
		grep -q "ready" "$TMP/tgt.out" 2>/dev/null && return 0
		kill -0 "$TGT_PID" 2>/dev/null || { cat "$TMP/tgt.err" >&2; die "cairn-tgt exited at start"; }
		sleep 0.1
	done
	cat "$TMP/tgt.err" >&2
	die "cairn-tgt not ready after 10 s"
}

# stop_pid PID: SIGTERM and wait (bounded); returns the exit status.
stop_pid() {
	local pid=$1 rc
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid"; rc=$?
	local keep=()
	for p in "${PIDS[@]}"; do [ "$p" != "$pid" ] && keep+=("$p"); done
	PIDS=("${keep[@]+"${keep[@]}"}")
	return $rc
}

# rpc ARGS...: cairn-rpc against $SOCK, failing the test on error.
rpc() {
	"$CAIRN_RPC" -s "$SOCK" "$@" || die "cairn-rpc $* failed"
}

# Export a malloc LUN from cairn-tgt over iSCSI on 127.0.0.1:PORT as IQN (LUN 0).
# cairn_export PORT IQN SIZE_MB [target-node options...]
cairn_export() {
	local port=$1 iqn=$2 mb=$3; shift 3
	rpc iscsi_get_portal_groups >/dev/null 2>&1
	rpc bdev_malloc_create -b Malloc0 "$mb" 512 >/dev/null
	rpc iscsi_create_portal_group 1 "127.0.0.1:$port" >/dev/null
	rpc iscsi_create_initiator_group 1 ANY 127.0.0.1/32 >/dev/null
	rpc iscsi_create_target_node "$iqn" disk1 "Malloc0:0" "1:1" 128 "$@" >/dev/null
}

# tgtd with its own control port and portal, exporting a /dev/shm file as LUN 1.
# start_tgtd PORT CTRL IQN SIZE_MB ; sets TGTD_PID
start_tgtd() {
	local port=$1 ctrl=$2 iqn=$3 mb=$4 img
	img="/dev/shm/cairn-func-$$.$port.img"
	command -v tgtd >/dev/null && command -v tgtadm >/dev/null || skip "tgtd/tgtadm not installed (Debian package tgt)"
	truncate -s "${mb}M" "$img" || die "cannot create $img"
	tgtd -f -C "$ctrl" --iscsi "portal=127.0.0.1:$port" >"$TMP/tgtd.log" 2>&1 &
	TGTD_PID=$!
	PIDS+=("$TGTD_PID")
	for _ in $(seq 50); do
		tgtadm -C "$ctrl" --lld iscsi --mode target --op show >/dev/null 2>&1 && break
		kill -0 "$TGTD_PID" 2>/dev/null || { cat "$TMP/tgtd.log" >&2; die "tgtd exited"; }
		sleep 0.1
	done
	tgtadm -C "$ctrl" --lld iscsi --mode target --op new --tid 1 --targetname "$iqn" &&
	tgtadm -C "$ctrl" --lld iscsi --mode logicalunit --op new --tid 1 --lun 1 \
		--backing-store "$img" &&
	tgtadm -C "$ctrl" --lld iscsi --mode target --op bind --tid 1 --initiator-address ALL ||
		die "tgtadm configuration failed"
	TGTD_CTRL=$ctrl
}

# tgtd ignores SIGTERM while it has targets: ask it to exit, then reap it.
stop_tgtd() {
	tgtadm -C "$TGTD_CTRL" --mode system --op delete --force >/dev/null 2>&1
	stop_pid "$TGTD_PID"
}
