#!/bin/bash
# Bad input through every door, against a real system on loopback (issue 5, Tests). After
# each group: the server and the engine are still up (same engine pid) and the data
# written before reads back intact.
# - CLIs: unknown pool/container labels for every command; labels over 63 characters;
#   sizes like 1Q, 99999T, -1M, 0, 2^64; keys over 4096 bytes, values over 64 MiB,
#   attributes over their limits; exit codes 1 (refused) or 2 (usage), never a crash.
# - libcairn (badinput-client lib): the same through the API, with the documented codes.
# - A pool in use: destroy refused, --force destroys it; the holder gets clean errors.
# - JSON-RPC on the Unix socket and the TCP port: garbage, wrong types, unknown method,
#   huge request, deep nesting, batch abuse (empty, nested, 1000 calls), bad UTF-8.
# - Bad YAML: cairn-server config check refuses with file:line and exit 2.
# - A full pool: write until NOSPACE, nothing acknowledged lost; punch, aggregation
#   frees the space, writes succeed again (badinput-client fill).
# Usage: badinput_func.sh <bin dir> <badinput-client binary>
set -u
BIN=${1:?usage: badinput_func.sh <bin dir> <badinput-client>}
CLIENT=${2:?usage: badinput_func.sh <bin dir> <badinput-client>}
HOLDER=
sys_cleanup_extra() { [ -n "$HOLDER" ] && kill -KILL "$HOLDER" 2>/dev/null; }
. "$(dirname "$0")/lib.sh"
sys_init bad
command -v python3 >/dev/null || fail "python3 is needed for the JSON-RPC part"

# expect RC PATTERN CMD...: exit code RC and PATTERN in the output.
expect() {
	local want=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1); rc=$?
	[ $rc = "$want" ] || fail "$*: exit $rc, expected $want: $out"
	echo "$out" | grep -q -- "$pat" || fail "$*: no '$pat' in: $out"
}
# Still up: same engine process, rank joined, the reference value intact.
alive() {
	[ "$(q state)" = joined ] || fail "after $1: rank 0 is '$(q state)'"
	[ "$(q pid)" = "$EPID" ] || fail "after $1: the engine restarted (pid $(q pid), was $EPID)"
	kill -0 "$SRV_PID" 2>/dev/null || fail "after $1: cairn-server is gone"
	cairn object get demo c1 7 ref -O "$T/ref.back" >/dev/null 2>&1 &&
		cmp -s "$T/ref" "$T/ref.back" || fail "after $1: the reference value is not intact"
}

echo "== format, start, pool demo, container c1, a reference value"
sys_start
EPID=$(q pid)
URI=$(q uri)
ctl pool create -z 32M -l demo >/dev/null || fail "pool create"
cairn container create demo c1 >/dev/null || fail "container create"
head -c 100000 /dev/urandom >"$T/ref"
cairn object put demo c1 7 ref -i "$T/ref" || fail "reference put"
alive "set-up"

echo "== CLIs: unknown pool and container labels"
for c in "pool query" "pool destroy" "pool get-prop" "pool get-acl"; do
	expect 1 "no pool 'nosuch'" ctl $c nosuch
done
expect 1 "no pool 'nosuch'" ctl pool update-acl nosuch -e A::EVERYONE@:r
expect 1 "no pool 'nosuch'" ctl pool delete-acl nosuch -p EVERYONE@
expect 1 "no pool 'nosuch'" ctl pool set-prop nosuch label:x
expect 1 "no pool" ctl pool query 00000000-0000-4000-8000-000000000001
for c in "pool query" "pool list-containers" "container list"; do
	expect 1 "no pool 'nosuch'" cairn $c nosuch
done
expect 1 "no pool 'nosuch'" cairn container create nosuch x
for c in query destroy get-prop list-attrs create-snap list-snaps; do
	expect 1 "no container 'nosuch'" cairn container $c demo nosuch
done
expect 1 "no container 'nosuch'" cairn container get-attr demo nosuch a
expect 1 "no container 'nosuch'" cairn container set-attr demo nosuch a b
expect 1 "no container 'nosuch'" cairn container del-attr demo nosuch a
expect 1 "no container 'nosuch'" cairn container set-prop demo nosuch label:y
expect 1 "no container 'nosuch'" cairn container destroy-snap demo nosuch 5
expect 1 "no container 'nosuch'" cairn object get demo nosuch 1 k
expect 1 "no container 'nosuch'" cairn object put demo nosuch 1 k -v x
expect 1 "no container 'nosuch'" cairn object list demo nosuch 1
alive "unknown labels"

echo "== CLIs: values beyond limits"
L64=$(printf 'l%.0s' $(seq 64)); L63=$(printf 'm%.0s' $(seq 63))
expect 1 "1..63 characters" ctl pool create -z 16M -l "$L64"
expect 2 "longer than 63 characters" cairn container create demo "$L64"
cairn container create demo "$L63" >/dev/null || fail "a 63-character container label"
cairn container destroy demo "$L63" >/dev/null || fail "destroy the 63-character label"
expect 1 "unknown size suffix 'Q'" ctl pool create -z 1Q -l sz
expect 1 "16M..1T" ctl pool create -z 99999T -l sz
expect 1 "16M..1T" ctl pool create -z 0 -l sz
expect 1 "negative" ctl pool create -z -1M -l sz
expect 1 "too large" ctl pool create -z 18446744073709551616 -l sz
expect 1 "unknown size suffix" ctl pool create -z 16M1 -l sz
expect 1 "empty size" ctl pool create -z "" -l sz
expect 2 "" ctl pool create -l sz
ctl pool list | grep -q "^sz " && fail "a pool 'sz' was created from a bad size"
K4097=$(head -c 4097 /dev/zero | tr '\0' k)
expect 2 "1..4096 bytes (got 4097 and 4)" cairn object put demo c1 1 "$K4097" -v x
expect 2 "1..4096 bytes (got 1 and 4097)" cairn object put demo c1 1 k -a "$K4097" -v x
expect 2 "1..4096 bytes (got 4097" cairn object get demo c1 1 "$K4097"
expect 2 "1..4096 bytes (got 0" cairn object put demo c1 1 "" -v x
expect 1 "empty" cairn object put demo c1 1 k -v ""
truncate -s $((64 * 1024 * 1024 + 1)) "$T/big"
expect 1 "larger than 67108864" cairn object put demo c1 1 big -i "$T/big"
rm -f "$T/big"
expect 2 "1..255 bytes" cairn container set-attr demo c1 "$(printf 'n%.0s' $(seq 256))" v
expect 1 "at most 4000 bytes" cairn container set-attr demo c1 a "$(head -c 4001 /dev/zero | tr '\0' v)"
expect 2 "" cairn container set-prop demo c1 rf:9
expect 1 "fixed at create" cairn container set-prop demo c1 chunk_size:3
expect 1 "a power of two" cairn container create demo cbad --chunk-size 3
alive "values beyond limits"

echo "== libcairn: unknown names, limits, documented codes"
timeout 60 "$CLIENT" "$URI" demo c1 lib >"$T/lib.out" 2>&1 || { cat "$T/lib.out" >&2; fail "badinput-client lib"; }
grep -c "^refused:" "$T/lib.out" | { read -r n; [ "$n" -ge 20 ] || fail "only $n refusals checked"; }
alive "libcairn bad input"

echo "== a pool in use: destroy refused, then --force; the holder gets clean errors"
ctl pool create -z 16M -l busy >/dev/null || fail "pool busy"
cairn container create busy c >/dev/null || fail "container in busy"
coproc HOLD { timeout 60 "$CLIENT" "$URI" busy c hold 2>"$T/hold.err"; }
# Keep the pid and pipe ends: bash drops HOLD/HOLD_PID when the coprocess exits.
HOLDER=$HOLD_PID
exec {HIN}<&"${HOLD[0]}" {HOUT}>&"${HOLD[1]}"
read -r -t 20 line <&$HIN && [ "$line" = holding ] ||
	fail "holder did not start: $(cat "$T/hold.err")"
expect 1 "connection" ctl pool destroy busy
ctl pool list | grep -q "^busy " || fail "pool in use destroyed without --force"
ctl pool destroy busy --force >/dev/null || fail "pool destroy --force"
ctl pool list | grep -q "^busy " && fail "pool still listed after --force"
echo go >&$HOUT
timeout 30 cat <&$HIN >"$T/hold.out"
exec {HIN}<&- {HOUT}>&-
wait "$HOLDER"; rc=$?
HOLDER=
[ $rc = 0 ] || { cat "$T/hold.out" "$T/hold.err" >&2; fail "holder after the forced destroy: exit $rc"; }
cat "$T/hold.out"
alive "forced destroy"

echo "== JSON-RPC abuse on the Unix socket and the TCP port"
for where in "$SOCK" "tcp:$PORT"; do
	python3 - "$where" <<'PY' || fail "JSON-RPC abuse on $where"
import json, socket, sys
where = sys.argv[1]
def conn():
    if where.startswith("tcp:"):
        s = socket.create_connection(("127.0.0.1", int(where[4:])))
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(where)
    s.settimeout(20)
    return s
def ask(data):
    s = conn()
    try:
        for i in range(0, len(data), 65536):
            s.sendall(data[i:i + 65536])
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the server may close early (oversized request)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except OSError:
        pass
    s.close()
    return out.decode(errors="replace")
def req(method, params=None, id=1):
    r = {"jsonrpc": "2.0", "method": method, "id": id}
    if params is not None:
        r["params"] = params
    return json.dumps(r).encode() + b"\n"
bad = 0
def check(name, data, want):
    global bad
    r = ask(data)
    if want not in r:
        print("FAIL %s: expected %r in %r" % (name, want, r[:300]))
        bad += 1
cases = [
    ("garbage", b"\x00\xff\xfe garbage\n", "-32700"),
    ("not json", b"hello world\n", "-32700"),
    ("number", b"42\n", "-32600"),
    ("null", b"null\n", "-32600"),
    ("params array", req("pool_query", ["demo"]), "-32602"),
    ("params string", b'{"jsonrpc":"2.0","method":"pool_query","params":"demo","id":1}\n', "-32600"),
    ("method number", b'{"jsonrpc":"2.0","method":5,"id":1}\n', "-32600"),
    ("id object", b'{"jsonrpc":"2.0","method":"pool_list","id":{"a":1}}\n', "-32600"),
    ("jsonrpc 1.0", b'{"jsonrpc":"1.0","method":"pool_list","id":1}\n', "-32600"),
    ("unknown method", req("no_such_method"), "-32601"),
    ("pool not a string", req("pool_query", {"pool": 17}), "expected a string"),
    ("unknown pool", req("pool_query", {"pool": "nosuch"}), "no pool 'nosuch'"),
    ("unknown key", req("pool_query", {"pool": "demo", "x": 1}), "unknown key"),
    ("negative size", req("pool_create", {"label": "j", "size": -5}), "expected an unsigned integer"),
    ("float size", req("pool_create", {"label": "j", "size": 1.5e300}), "expected an unsigned integer"),
    ("size 1Q", req("pool_create", {"label": "j", "size": "1Q"}), "-32602"),
    ("integer overflow", b'{"jsonrpc":"2.0","method":"pool_create","params":{"label":"j","size":99999999999999999999999},"id":1}\n', "-32700"),
    ("100 KB label", req("pool_create", {"label": "x" * 100000, "size": "16M"}), "1..63 characters"),
    ("ranks not an array", req("system_stop", {"ranks": "all"}), "-32602"),
    ("rank out of range", req("system_query", {"ranks": [99999999999]}), "not a rank"),
    ("format while running", req("storage_format", {"force": True}), "stop them first"),
    ("empty batch", b"[]\n", "empty batch"),
    ("batch of numbers", b"[1,2,3]\n", "-32600"),
    ("nested batch", b'[[{"jsonrpc":"2.0","method":"pool_list","id":1}]]\n', "-32600"),
    ("batch of 1000", b"[" + b",".join(req("system_query", None, i).strip() for i in range(1000)) + b"]\n", '"id":999'),
    ("deep nesting", b"[" * 100000 + b"]" * 100000 + b"\n", "-32700"),
    ("truncated", b'{"jsonrpc":"2.0","method":"pool_list"', "-32700"),
    ("NUL in a string", b'{"jsonrpc":"2.0","method":"pool_query","params":{"pool":"de\\u0000mo"},"id":1}\n', "-32700"),
    ("bad UTF-8", b'{"jsonrpc":"2.0","method":"pool_query","params":{"pool":"\xc3\x28"},"id":1}\n', "-32700"),
    ("duplicate keys", b'{"jsonrpc":"2.0","method":"pool_list","method":"pool_list","id":1}\n', "-32700"),
]
for name, data, want in cases:
    check(name, data, want)
# 8 MiB request: refused (the reply may be cut by the close); the server keeps serving.
ask(req("pool_list", {"pad": "y" * (8 << 20)}))
# A notification gets no reply, and a good request still works on the same server.
if ask(b'{"jsonrpc":"2.0","method":"pool_list"}\n').strip():
    print("FAIL notification answered"); bad += 1
check("good request after the abuse", req("pool_query", {"pool": "demo"}), '"label": "demo"' if False else "demo")
print("JSON-RPC on %s: %d cases, %d failed" % (where, len(cases) + 3, bad))
sys.exit(1 if bad else 0)
PY
done
alive "JSON-RPC abuse"

echo "== bad YAML: file:line and exit 2"
printf 'name: x\nengines:\n  - targets: 65\n    storage: {dir: /tmp/x}\n' >"$T/b1.yml"
expect 2 "b1.yml:3:" "$SERVER" -o "$T/b1.yml" config check
printf 'name: x\nbogus_key: 1\nengines:\n  - targets: 1\n    storage: {dir: /tmp/x}\n' >"$T/b2.yml"
expect 2 "b2.yml:2:" "$SERVER" -o "$T/b2.yml" config check
printf 'name: x\nport: 99999\nengines:\n  - targets: 1\n    storage: {dir: /tmp/x}\n' >"$T/b3.yml"
expect 2 "b3.yml:2:" "$SERVER" -o "$T/b3.yml" config check
printf 'name: x\nengines:\n  - targets: 1\n    storage: {dir: /tmp/x, target_size: 1Q}\n' >"$T/b4.yml"
expect 2 "b4.yml:4:" "$SERVER" -o "$T/b4.yml" config check
printf 'name: x\nengines: [unclosed\n' >"$T/b5.yml"
expect 2 "b5.yml:[0-9]" "$SERVER" -o "$T/b5.yml" config check
printf 'name: "bad name!"\nengines:\n  - targets: 1\n    storage: {dir: /tmp/x}\n' >"$T/b6.yml"
expect 2 "b6.yml:1:" "$SERVER" -o "$T/b6.yml" config check
printf '\xff\xfe\x00garbage' >"$T/b7.yml"
expect 2 "b7.yml" "$SERVER" -o "$T/b7.yml" config check
expect 2 "nosuch.yml" "$SERVER" -o "$T/nosuch.yml" config check
alive "bad YAML"

echo "== a full pool: NOSPACE, nothing acknowledged lost; punch frees space again"
ctl pool create -z 16M -l full >/dev/null || fail "pool full"
cairn container create full c >/dev/null || fail "container in full"
timeout 120 "$CLIENT" "$URI" full c fill || fail "badinput-client fill"
alive "a full pool"

echo "== clean stop"
sys_stop
echo "PASS"
