#!/bin/sh
# Functional test: a cairn-selftest server process and clients on loopback.
#  - inline and bulk sizes against a separate server process (two contexts, tag 1 too)
#  - the server survives garbage from a raw client and keeps serving
#  - bad command lines are refused with a message and exit code 2
set -eu
BIN=${1:?usage: selftest_func.sh BIN_DIR}
ST="$BIN/cairn-selftest"
SRV=
trap '[ -n "$SRV" ] && kill $SRV 2>/dev/null; wait $SRV 2>/dev/null || true' EXIT INT TERM
# Ports PORT and PORT+1 (two contexts), below the ephemeral range (32768+) so outgoing
# connections of parallel tests cannot take them; a server that fails to bind (the port
# was taken after all) is retried on another pair.
tries=0
while :; do
	tries=$((tries + 1))
	[ $tries -le 10 ] || { echo "FAIL: server did not start" >&2; exit 1; }
	PORT=$((20000 + ($$ * 7 + tries * 131) % 12000))
	"$ST" --server --port "$PORT" --bind 127.0.0.1 --contexts 2 2>"${TMPDIR:-/tmp}/selftest.$$.err" &
	SRV=$!
	URI="tcp://127.0.0.1:$PORT"
	i=0
	until "$ST" --uri "$URI" --sizes 0 --repetitions 5 >/dev/null 2>&1; do
		kill -0 "$SRV" 2>/dev/null || break
		i=$((i + 1))
		[ $i -lt 100 ] || break
		sleep 0.1
	done
	if kill -0 "$SRV" 2>/dev/null && [ $i -lt 100 ]; then
		break
	fi
	echo "selftest_func: server on port $PORT did not come up: $(cat "${TMPDIR:-/tmp}/selftest.$$.err")" >&2
	kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null || true
	SRV=
done
rm -f "${TMPDIR:-/tmp}/selftest.$$.err"
out=$("$ST" --uri "$URI" --sizes "0 4k 64k 1m b4k" --repetitions 200 --inflight 4 --json)
echo "$out" | jq -e '.results | length == 5 and all(.[]; .rpc_per_s > 0)' >/dev/null ||
	{ echo "FAIL: selftest output: $out" >&2; exit 1; }
echo "$out" | jq -e '.results[3].mode == "bulk" and .results[1].mode == "inline"' >/dev/null ||
	{ echo "FAIL: modes: $out" >&2; exit 1; }
# The second context (tag 1 = port + 1).
"$ST" --uri "$URI" --endpoint 0:1 --sizes "64 b64k" --repetitions 100 --json |
	jq -e '.endpoint == "0:1"' >/dev/null || { echo "FAIL: tag 1" >&2; exit 1; }
# Garbage at the server, then a normal client again.
if command -v python3 >/dev/null; then
	python3 - "$PORT" <<'PY'
import socket, sys
for payload in (b"\x00" * 100, b"GET / HTTP/1.0\r\n\r\n", b"CRN1" + b"\xff" * 60):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(payload)
    s.settimeout(5)
    try:
        s.recv(10)
    except OSError:
        pass
    s.close()
PY
fi
"$ST" --uri "$URI" --sizes "64" --repetitions 100 >/dev/null ||
	{ echo "FAIL: server stopped serving after bad input" >&2; exit 1; }
# Bad command lines.
for args in "--sizes x" "--inflight 0" "--endpoint 1" "--server" "--bogus"; do
	# shellcheck disable=SC2086
	if "$ST" $args >/dev/null 2>&1; then
		echo "FAIL: accepted bad arguments: $args" >&2
		exit 1
	fi
done
# The message names the option, and -j is --json.
msg=$("$ST" --inflight x 2>&1 >/dev/null || true)
echo "$msg" | grep -q -- "--inflight" || { echo "FAIL: bad value message: $msg" >&2; exit 1; }
"$ST" -j --uri "$URI" --sizes 0 --repetitions 10 | jq -e '.results | length == 1' >/dev/null ||
	{ echo "FAIL: -j output is not the JSON object" >&2; exit 1; }
# An unreachable endpoint fails with a message, not a hang.
if "$ST" --uri "tcp://127.0.0.1:1" --sizes 0 --repetitions 1 >/dev/null 2>&1; then
	echo "FAIL: unreachable endpoint reported success" >&2
	exit 1
fi
echo "selftest functional test: OK"
