#!/bin/bash
# Start a single-node Cairn (cairn-server + one engine with 2 targets) on file-backed
# storage under ./run/, formatting it on first start; create pool `demo` and container
# `demo` if absent; write and read back a small verified workload; print the commands
# to try next; Ctrl-C stops everything cleanly. Running it again reuses the data.
# Usage: scripts/run-system.sh [BUILD_DIR]   (RUN_DIR, CAIRN_RUN_PORT override defaults;
#        RUN_ONCE=1 stops right after the workload, for scripts and tests)
set -u
BUILD=${1:-build}
BIN=$(cd "$BUILD/bin" 2>/dev/null && pwd) || { echo "run: no $BUILD/bin: build first (make build)" >&2; exit 2; }
RUN=${RUN_DIR:-$PWD/run}
PORT=${CAIRN_RUN_PORT:-31416} # engine: PORT..PORT+2; management API: PORT+10
mkdir -p "$RUN"
RUN=$(cd "$RUN" && pwd)
SOCK=$RUN/cairn_server.sock
CFG=$RUN/cairn_server.yml
SRV_PID=

for b in cairn-server cairn-engine cairnctl cairn; do
	[ -x "$BIN/$b" ] || { echo "run: $BIN/$b is missing: build first" >&2; exit 2; }
done
for p in $PORT $((PORT + 1)) $((PORT + 2)) $((PORT + 10)); do
	if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
		echo "run: port $p is in use (another Cairn running?); set CAIRN_RUN_PORT" >&2
		exit 1
	fi
done

cat >"$CFG" <<YML
# Written by scripts/run-system.sh: a single-node Cairn under $RUN
name: cairn-run
mgmt_socket: $SOCK
port: $((PORT + 10))
socket_dir: $RUN/sock
log_file: $RUN/server.log
log_mask: NOTE
restart_backoff_min: 200ms
restart_backoff_max: 5s
max_restarts: 5
stop_timeout: 10s
engines:
  - targets: 2
    helpers: 0
    port: $PORT
    storage:
      dir: $RUN/engine0
      target_size: 64M
    log_file: $RUN/engine0.log
    log_mask: NOTE
YML

stop() {
	# The terminal or pipe may be gone: stop first, talk after, never die on output.
	trap '' INT TERM HUP PIPE
	trap - EXIT
	if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
		kill -TERM "$SRV_PID"
		for _ in $(seq 150); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$SRV_PID" 2>/dev/null && kill -KILL "$SRV_PID"
		wait "$SRV_PID" 2>/dev/null
		{ echo; echo "Cairn stopped. Data stays in $RUN; run again to reuse it."; } 2>/dev/null
	fi
}
trap stop EXIT
trap 'exit 130' INT TERM HUP PIPE

if [ ! -f "$RUN/engine0/superblock" ]; then
	echo "First start: formatting storage under $RUN"
	"$BIN/cairn-server" -o "$CFG" storage format >/dev/null || { echo "run: format failed" >&2; exit 1; }
fi
"$BIN/cairn-server" -o "$CFG" start >"$RUN/server.out" 2>>"$RUN/server.log" &
SRV_PID=$!
export CAIRN_SERVER_SOCKET=$SOCK
ctl() { "$BIN/cairnctl" -t 30 "$@"; }
state=
for _ in $(seq 150); do
	state=$(ctl -j system query 2>/dev/null | sed -n 's/^ *"state": "\(.*\)",\{0,1\}$/\1/p' | head -1)
	[ "$state" = joined ] && break
	kill -0 "$SRV_PID" 2>/dev/null || { echo "run: cairn-server exited; see $RUN/server.log" >&2; exit 1; }
	sleep 0.1
done
[ "$state" = joined ] || { echo "run: the engine did not start; see $RUN/engine0.log" >&2; exit 1; }
echo "Cairn is up:"
ctl system query | sed 's/^/  /'

ctl pool query demo >/dev/null 2>&1 || ctl pool create -z 48M -l demo >/dev/null ||
	{ echo "run: cannot create pool demo" >&2; exit 1; }
"$BIN/cairn" container query demo demo >/dev/null 2>&1 ||
	"$BIN/cairn" container create demo demo >/dev/null ||
	{ echo "run: cannot create container demo" >&2; exit 1; }

# A small verified workload: values of growing size, written then read back.
N=24
TMP=$(mktemp -d)
i=0
for i in $(seq 1 $N); do
	size=$(( (i * i * 1777) % 300000 + 1 ))
	head -c $size /dev/urandom >"$TMP/in"
	"$BIN/cairn" object put demo demo 1 "run-$i" -i "$TMP/in" ||
		{ echo; echo "run: write $i failed" >&2; rm -rf "$TMP"; exit 1; }
	"$BIN/cairn" object get demo demo 1 "run-$i" -O "$TMP/out" ||
		{ echo; echo "run: read $i failed" >&2; rm -rf "$TMP"; exit 1; }
	cmp -s "$TMP/in" "$TMP/out" || { echo; echo "run: value $i read back differs" >&2; rm -rf "$TMP"; exit 1; }
	printf '\rworkload: %2d/%d values written and verified (last %d bytes)' $i $N $size
done
rm -rf "$TMP"
echo
cat <<TXT

Try, in another terminal:
  export CAIRN_SERVER_SOCKET=$SOCK
  $BIN/cairnctl system query
  $BIN/cairnctl pool list
  $BIN/cairn pool query demo
  $BIN/cairn container list demo
  $BIN/cairn object put demo demo 2 hello -v "hello, cairn"
  $BIN/cairn object get demo demo 2 hello
  $BIN/cairn object list demo demo 1
Logs: $RUN/server.log, $RUN/engine0.log
TXT
[ "${RUN_ONCE:-0}" = 1 ] && exit 0
echo "Press Ctrl-C to stop."
while kill -0 "$SRV_PID" 2>/dev/null; do sleep 1; done
echo "run: cairn-server exited; see $RUN/server.log" >&2
exit 1
