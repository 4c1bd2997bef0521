#!/bin/bash
# Functional test of the control plane with real processes on loopback:
# bad YAML -> file:line error; storage format (refused again without --force);
# cairn-server start -> engine joins (cairnctl system query); kill -9 the engine ->
# the server restarts it; malformed JSON-RPC -> error, server stays up; system
# stop/start; SIGTERM stops everything.
# Usage: control_func.sh <bin dir> [engine-ping binary: also ping every RPC context]
set -u
BIN=${1:?usage: control_func.sh <bin dir> [engine-ping]}
PING=${2:-}
SERVER=$BIN/cairn-server
CTL=$BIN/cairnctl
T=$(mktemp -d /tmp/cairn-ctl-func.XXXXXX)
SRV_PID=
fail() { echo "FAIL: $*" >&2; [ -f "$T/srv.err" ] && tail -20 "$T/srv.err" >&2; exit 1; }
cleanup() {
	if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
		kill -TERM "$SRV_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SRV_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT

# A free TCP port on 127.0.0.1 for the management API.
PORT=
for _ in $(seq 20); do
	p=$((20000 + RANDOM % 12000))
	if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then PORT=$p; break; fi
done
[ -n "$PORT" ] || fail "no free port"
# And 3 free ports for the engine's RPC contexts (tag 0 system + 2 targets).
EPORT=
for _ in $(seq 20); do
	p=$((20000 + RANDOM % 12000)); busy=0
	for t in 0 1 2; do
		[ $((p + t)) = "$PORT" ] && busy=1
		(exec 3<>/dev/tcp/127.0.0.1/$((p + t))) 2>/dev/null && busy=1
	done
	[ $busy = 0 ] && { EPORT=$p; break; }
done
[ -n "$EPORT" ] || fail "no free engine ports"
SOCK=$T/api.sock

cat > "$T/ok.yml" <<YML
name: functest
mgmt_socket: $SOCK
port: $PORT
socket_dir: $T/sock
log_mask: NOTE
restart_backoff_min: 100ms
restart_backoff_max: 2s
max_restarts: 3
stop_timeout: 3s
engines:
  - targets: 2
    helpers: 1
    port: $EPORT
    storage:
      dir: $T/engine0
      target_size: 8M
    log_file: $T/engine0.log
    log_mask: NOTE
YML

# Field polled from `cairnctl -j system query`: rank 0's key $1.
q() { "$CTL" -o "$SOCK" -j -t 10 system query 2>/dev/null |
	sed -n "s/^ *\"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" | head -1; }
wait_state() { # state, seconds
	for _ in $(seq $(($2 * 10))); do [ "$(q state)" = "$1" ] && return 0; sleep 0.1; done
	return 1
}

echo "== bad YAML gives file:line"
cat > "$T/bad.yml" <<YML
name: functest
engines:
  - targets: 0
    storage: {dir: $T/x}
YML
out=$("$SERVER" -o "$T/bad.yml" config check 2>&1); rc=$?
[ $rc -eq 2 ] || fail "bad config: exit $rc, expected 2"
echo "$out" | grep -q "bad.yml:3:" || fail "bad config: no file:line in: $out"
printf 'name: [unclosed\n' > "$T/syntax.yml"
out=$("$SERVER" -o "$T/syntax.yml" config check 2>&1); rc=$?
[ $rc -eq 2 ] || fail "YAML syntax error: exit $rc"
echo "$out" | grep -q "syntax.yml:[0-9]" || fail "YAML syntax error lacks file:line: $out"
"$SERVER" -o "$T/ok.yml" config check >/dev/null || fail "good config rejected"

echo "== cairn-engine options"
"$BIN/cairn-engine" --help | grep -q -- "--targets" || fail "engine --help"
"$BIN/cairn-engine" -t 0 >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "engine -t 0: exit $rc, expected 2"
out=$("$BIN/cairn-engine" -t 1 -s "$T/nowhere" -d "$T/e.sock" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "engine on missing storage: exit $rc, expected 1"
echo "$out" | grep -q "storage format" || fail "engine storage error does not say what to do: $out"

echo "== storage format, refused without --force"
"$SERVER" -o "$T/ok.yml" storage format >/dev/null || fail "format failed"
[ -f "$T/engine0/superblock" ] && [ -f "$T/engine0/target-1" ] || fail "format left no files"
[ "$(stat -c %s "$T/engine0/target-0")" = 8388608 ] || fail "target file has the wrong size"
out=$("$SERVER" -o "$T/ok.yml" storage format 2>&1); rc=$?
[ $rc -eq 1 ] || fail "second format: exit $rc, expected 1"
echo "$out" | grep -q -- "--force" || fail "refusal does not say how to force: $out"
"$SERVER" -o "$T/ok.yml" storage format --force >/dev/null || fail "format --force failed"
# A corrupted superblock is detected, not trusted.
cp "$T/engine0/superblock" "$T/sb.bak"
printf 'X' | dd of="$T/engine0/superblock" bs=1 seek=100 conv=notrunc 2>/dev/null
"$SERVER" -o "$T/ok.yml" storage query | grep -q "CAIRN_ERR_CORRUPT\|corrupt" ||
	fail "corrupt superblock not reported"
cp "$T/sb.bak" "$T/engine0/superblock"

echo "== start the server; rank 0 joins"
"$SERVER" -o "$T/ok.yml" start >"$T/srv.out" 2>"$T/srv.err" &
SRV_PID=$!
for _ in $(seq 100); do grep -q ready "$T/srv.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$T/srv.out" || fail "server not ready"
wait_state joined 10 || fail "rank 0 did not join"
"$CTL" -o "$SOCK" system query | grep -Eq "^0 +joined" || fail "human output lacks 'joined'"
"$CTL" --host "127.0.0.1:$PORT" system query >/dev/null || fail "query over TCP failed"

echo "== the engine serves RPC contexts on its ports"
[ "$(q net_contexts)" = 3 ] || fail "net_contexts is '$(q net_contexts)', expected 3"
[ "$(q uri)" = "tcp://127.0.0.1:$EPORT" ] || fail "uri is '$(q uri)'"
for t in 0 1 2; do
	(exec 3<>/dev/tcp/127.0.0.1/$((EPORT + t))) 2>/dev/null ||
		fail "nothing listens on engine port $((EPORT + t))"
done

if [ -n "$PING" ]; then
	"$PING" "tcp://127.0.0.1:$EPORT" 0 3 >/dev/null || fail "engine RPC contexts do not answer"
fi

echo "== kill -9 the engine; the server restarts it"
EPID=$(q pid)
[ -n "$EPID" ] && kill -0 "$EPID" || fail "no engine pid"
kill -9 "$EPID"
for _ in $(seq 150); do
	p=$(q pid); s=$(q state)
	[ -n "$p" ] && [ "$p" != "$EPID" ] && [ "$p" != null ] && [ "$s" = joined ] && break
	sleep 0.1
done
[ "$(q state)" = joined ] && [ "$(q pid)" != "$EPID" ] || fail "engine not restarted"
[ "$(q restarts)" = 1 ] || fail "restart count is $(q restarts), expected 1"
[ "$(q last_exit)" = "signal 9" ] || fail "last_exit is '$(q last_exit)'"
[ "$(q net_contexts)" = 3 ] || fail "restarted engine has no network contexts"

echo "== a hung engine (SIGSTOP) stops answering pings and is replaced"
EPID=$(q pid)
kill -STOP "$EPID"
for _ in $(seq 150); do
	p=$(q pid)
	[ -n "$p" ] && [ "$p" != "$EPID" ] && [ "$p" != null ] && [ "$(q state)" = joined ] && break
	sleep 0.1
done
kill -0 "$EPID" 2>/dev/null && { kill -KILL "$EPID"; fail "hung engine $EPID not killed"; }
[ "$(q state)" = joined ] && [ "$(q restarts)" = 2 ] || fail "hung engine not replaced"

echo "== malformed JSON-RPC gets an error; the server stays up"
exec 3<>/dev/tcp/127.0.0.1/$PORT || fail "cannot connect to the API port"
printf '{"jsonrpc":"2.0","method":"system_query","id":1,,,}' >&3
reply=$(timeout 2 cat <&3)
exec 3>&-
echo "$reply" | grep -q -- "-32700" || fail "no parse error reply: $reply"
exec 3<>/dev/tcp/127.0.0.1/$PORT
printf '{"jsonrpc":"2.0","method":"system_query","params":{"ranks":"x"},"id":2}\n' >&3
reply=$(timeout 2 cat <&3)
exec 3>&-
echo "$reply" | grep -q -- "-32602" || fail "no invalid-params reply: $reply"
[ "$(q state)" = joined ] || fail "server unhealthy after malformed requests"

echo "== storage in use by the running server cannot be reformatted behind its back"
out=$("$SERVER" -o "$T/ok.yml" storage format --force 2>&1); rc=$?
[ $rc -eq 1 ] || fail "offline format of live storage: exit $rc, expected 1"
echo "$out" | grep -q "in use by another cairn-server (pid $SRV_PID)" ||
	fail "offline format refusal does not name the server: $out"

echo "== exit codes"
"$CTL" -o "$SOCK" storage format >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] || fail "format while running: exit $rc, expected 1"
"$CTL" -o "$SOCK" system bogus >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "bad command: exit $rc, expected 2"
"$CTL" -o "$T/nope.sock" system query >/dev/null 2>&1; rc=$?
[ $rc -eq 3 ] || fail "unreachable server: exit $rc, expected 3"
"$CTL" -o "$SOCK" --ranks 5 system query >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] || fail "unknown rank: exit $rc, expected 1"

echo "== system stop / start"
EPID=$(q pid)
"$CTL" -o "$SOCK" system stop >/dev/null || fail "system stop failed"
[ "$(q state)" = stopped ] || fail "rank not stopped"
kill -0 "$EPID" 2>/dev/null && fail "engine $EPID still alive after stop"
grep -q "exit 0" <<<"$(q last_exit)" || fail "engine did not exit cleanly: $(q last_exit)"
sleep 0.5
[ "$(q state)" = stopped ] || fail "a stopped rank was restarted"
"$CTL" -o "$SOCK" system start >/dev/null || fail "system start failed"
[ "$(q state)" = joined ] || fail "rank not joined after start"
"$CTL" -o "$SOCK" storage query | grep -q "target 1:" || fail "storage query lacks targets"

echo "== SIGTERM stops the server and its engine"
EPID=$(q pid)
kill -TERM "$SRV_PID"
for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SRV_PID" 2>/dev/null && fail "server still running after SIGTERM"
wait "$SRV_PID"; rc=$?
SRV_PID=
[ $rc -eq 0 ] || fail "server exit code $rc"
kill -0 "$EPID" 2>/dev/null && fail "engine $EPID outlived the server"
[ -e "$SOCK" ] && fail "API socket not removed"
echo "== an engine that keeps dying is restarted with backoff, then excluded"
cat > "$T/crash.yml" <<YML
name: crashtest
mgmt_socket: $T/api2.sock
socket_dir: $T/sock2
engine_bin: $(type -P false)
restart_backoff_min: 50ms
restart_backoff_max: 200ms
max_restarts: 2
engines:
  - targets: 1
    storage: {dir: $T/crash0, target_size: 1M}
YML
"$SERVER" -o "$T/crash.yml" start >"$T/srv2.out" 2>"$T/srv2.err" &
SRV2=$!
for _ in $(seq 100); do grep -q ready "$T/srv2.out" 2>/dev/null && break; sleep 0.1; done
q2() { "$CTL" -o "$T/api2.sock" -j system query 2>/dev/null |
	sed -n "s/^ *\"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" | head -1; }
[ "$(q2 state)" = stopped ] || { kill $SRV2; fail "unformatted rank not 'stopped'"; }
"$CTL" -o "$T/api2.sock" storage format >/dev/null || { kill $SRV2; fail "API format failed"; }
for _ in $(seq 100); do [ "$(q2 state)" = excluded ] && break; sleep 0.1; done
st=$(q2 state); rs=$(q2 restarts)
"$CTL" -o "$T/api2.sock" system start >/dev/null 2>&1; rc=$?
kill -TERM $SRV2; wait $SRV2
[ "$st" = excluded ] || fail "crashing rank is '$st', expected excluded"
[ "$rs" = 2 ] || fail "crashing rank restarted $rs times, expected 2"
[ $rc -eq 1 ] || fail "system start of a broken engine: exit $rc, expected 1"
grep -q "restarting in 100 ms" "$T/srv2.err" || fail "backoff did not double"
grep -q "rank excluded" "$T/srv2.err" || fail "exclusion not logged"

# Sanitizer builds: the engines' and the server's reports land in srv.err.
grep -E "Sanitizer|runtime error:" "$T/srv.err" "$T/engine0.log" && fail "sanitizer report"
echo "PASS"
