#!/usr/bin/env bash
# cairn-tgt + cairn-rpc end to end: bdev methods, save_config -> --json round trip,
# malformed and oversized JSON-RPC input, bad params, many clients, clean shutdown.
# The target must stay up through all the bad input.
. "$(dirname "$0")/lib.sh"
need_bin "${CAIRN_TGT:-}" cairn-tgt
need_bin "${CAIRN_RPC:-}" cairn-rpc
command -v python3 >/dev/null || skip "python3 not installed"

SOCK=$TMP/tgt.sock
TCP=$(free_port)
start_cairn_tgt "$SOCK" --rpc-tcp "127.0.0.1:$TCP"

jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

# --- basics
rpc cairn_get_version | jq_py 'assert d["version"].startswith("cairn v"), d'
rpc rpc_get_methods | jq_py 'assert "bdev_malloc_create" in d and "save_config" in d, d'
[ "$(rpc bdev_malloc_create -b M0 16 512)" = M0 ] || die "malloc create did not print its name"
rpc bdev_null_create N0 8 4096 >/dev/null
rpc bdev_malloc_create -b M1 4 4096 -u 5f9c1c2e-2d6a-4f7e-9b3c-1a2b3c4d5e6f >/dev/null
rpc bdev_error_create M1 >/dev/null
rpc bdev_get_bdevs -b M0 | jq_py 'assert d[0]["num_blocks"]==32768 and d[0]["block_size"]==512, d'
rpc bdev_get_bdevs | jq_py 'assert sorted(b["name"] for b in d)==["EE_M1","M0","M1","N0"], d'
rpc bdev_get_iostat | jq_py 'assert len(d["bdevs"])==4, d'
rpc log_set_flag bdev >/dev/null
rpc log_get_flags | jq_py 'assert d["bdev"] is True, d'
rpc log_clear_flag bdev >/dev/null

# --- bad params: clear errors, exit 1, target keeps serving
out=$("$CAIRN_RPC" -s "$SOCK" call bdev_malloc_create '{"name":"x","num_blocks":"a","block_size":512}' 2>&1) &&
	die "bad params accepted"
echo "$out" | grep -q "param 'num_blocks'" || die "bad params error does not name the param: $out"
echo "$out" | grep -q -- "-32602" || die "bad params error code is not -32602: $out"
out=$("$CAIRN_RPC" -s "$SOCK" call no_such_method 2>&1) && die "unknown method accepted"
echo "$out" | grep -q "Method not found" || die "unknown method: $out"
out=$("$CAIRN_RPC" -s "$SOCK" bdev_malloc_create -b M0 1 512 2>&1) && die "duplicate bdev accepted"
echo "$out" | grep -qi "exist" || die "duplicate bdev error unclear: $out"
out=$("$CAIRN_RPC" -s "$SOCK" bdev_malloc_create 1 abc 2>&1) && die "CLI accepted a bad block size"
"$CAIRN_RPC" bdev_malloc_create --help | grep -q "total_size" || die "sub-command --help"

# --- raw malformed / oversized input over the TCP listener
raw() { # raw TEXT -> first reply line (bounded wait)
	exec 3<>"/dev/tcp/127.0.0.1/$TCP" || die "cannot connect to TCP $TCP"
	printf '%s' "$1" >&3 2>/dev/null
	timeout 5 head -n 1 <&3
	exec 3>&-
}
raw '{"jsonrpc":"2.0","method":"x",,}' | grep -q -- '-32700' || die "parse error not reported"
raw '{"jsonrpc":"1.0","method":"cairn_get_version","id":1}' | grep -q -- '-32600' ||
	die "invalid request not reported"
raw '[{"jsonrpc":"2.0","method":"cairn_get_version","id":1},5]' | grep -q '"result"' ||
	die "batch not answered"
raw "$(printf '[%.0s' $(seq 200))" | grep -q -- '-32700' || die "deep nesting not rejected"
big=$(head -c 1100000 /dev/zero | tr '\0' 'a')
raw "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{\"s\":\"$big\"}}" | grep -q "exceeds" ||
	die "oversized request not rejected"
# half-open garbage connections, then the target still answers
gpids=()
for _ in $(seq 20); do
	(exec 3<>"/dev/tcp/127.0.0.1/$TCP"; printf '{"jsonrpc":' >&3; sleep 0.2) &
	gpids+=($!)
done
for p in "${gpids[@]}"; do wait "$p"; done
rpc cairn_get_version >/dev/null

# --- many concurrent clients
pids=()
for i in $(seq 40); do
	"$CAIRN_RPC" -s "$SOCK" bdev_get_bdevs -b M0 >"$TMP/c$i.out" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || die "a concurrent client failed"; done
grep -L '"M0"' "$TMP"/c*.out | grep -q . && die "a concurrent client got a wrong answer"

# --- save_config -> restart with --json -> same bdevs, uuids included (the error bdev's
# too: bdev_error_create takes and saves a uuid)
rpc save_config -o "$TMP/cfg.json"
before=$(rpc bdev_get_bdevs | jq_py 'print(sorted((b["name"],b["num_blocks"],b["uuid"]) for b in d))')
echo "$before" | grep -q "EE_M1" || die "error bdev missing before the round trip: $before"
stop_pid "$TGT_PID" || die "cairn-tgt did not exit 0 on SIGTERM"
[ -e "$SOCK" ] && die "socket left behind after shutdown"
start_cairn_tgt "$SOCK" --json "$TMP/cfg.json"
after=$(rpc bdev_get_bdevs | jq_py 'print(sorted((b["name"],b["num_blocks"],b["uuid"]) for b in d))')
[ "$before" = "$after" ] || die "config round trip differs: $before vs $after"

# --- a second target on the same socket refuses to start
"$CAIRN_TGT" -r "$SOCK" >/dev/null 2>"$TMP/second.err" && die "second cairn-tgt started on a live socket"
grep -q "another process serves" "$TMP/second.err" || die "unclear busy-socket error"
stop_pid "$TGT_PID" || die "cairn-tgt did not exit 0"

# --- a bad --json config stops the start with a message naming the call
echo '[{"method":"bdev_malloc_create","params":{"name":"A","num_blocks":8,"block_size":512}},
       {"method":"bdev_malloc_create","params":{"name":"B","num_blocks":0,"block_size":512}}]' \
	>"$TMP/bad.json"
"$CAIRN_TGT" -r "$SOCK" --json "$TMP/bad.json" >/dev/null 2>"$TMP/bad.err" && die "bad config accepted"
grep -q "calls\[1\] bdev_malloc_create failed" "$TMP/bad.err" || { cat "$TMP/bad.err" >&2; die "bad config error unclear"; }

# --- cairn-rpc argument building (--dry-run prints the request, sends nothing)
dry() { "$CAIRN_RPC" -s "$TMP/nobody.sock" --dry-run "$@" || die "cairn-rpc --dry-run $* failed"; }
dry iscsi_create_portal_group 1 "127.0.0.1:3260 [::1]:3261" | jq_py '
p = d["params"]; assert d["method"] == "iscsi_create_portal_group" and p["tag"] == 1, d
assert p["portals"] == [{"host": "127.0.0.1", "port": "3260"}, {"host": "::1", "port": "3261"}], p'
dry iscsi_create_target_node iqn.x:t1 al "M0:0 M1:3" "1:1 2:1" 64 -g 2 -r -m -H -D | jq_py '
p = d["params"]
assert p["luns"] == [{"bdev_name": "M0", "lun_id": 0}, {"bdev_name": "M1", "lun_id": 3}], p
assert p["pg_ig_maps"] == [{"pg_tag": 1, "ig_tag": 1}, {"pg_tag": 2, "ig_tag": 1}], p
assert p["chap_group"] == 2 and p["require_chap"] and p["mutual_chap"], p
assert p["header_digest"] and p["data_digest"] and p["queue_depth"] == 64, p'
dry iscsi_create_auth_group 2 -c "user:a secret:s muser:m msecret:ms,user:b secret:t" | jq_py '
assert d["params"]["secrets"] == [{"user": "a", "secret": "s", "muser": "m", "msecret": "ms"},
                                  {"user": "b", "secret": "t"}], d'
dry iscsi_create_initiator_group 3 "ANY !iqn.bad" "127.0.0.1/32,10.0.0.0/8" | jq_py '
p = d["params"]; assert p["initiators"] == ["ANY", "!iqn.bad"] and p["netmasks"] == ["127.0.0.1/32", "10.0.0.0/8"], p'
dry bdev_malloc_create 0.5 4096 -b X | jq_py 'assert d["params"] == {"block_size": 4096, "name": "X", "num_blocks": 128}, d'
"$CAIRN_RPC" --dry-run bdev_malloc_create 0.3 4096 >/dev/null 2>&1 && die "fractional block count accepted"
"$CAIRN_RPC" --dry-run iscsi_create_target_node n a "M0" "1:1" 64 >/dev/null 2>&1 && die "LUN without an id accepted"
"$CAIRN_RPC" --dry-run iscsi_create_auth_group 1 -c "usr:a" >/dev/null 2>&1 && die "bad secret key accepted"

# --- client errors when nobody listens
out=$("$CAIRN_RPC" -s "$TMP/nobody.sock" cairn_get_version 2>&1) && die "connected to nothing"
echo "$out" | grep -q "Is cairn-tgt running" || die "absent socket message unclear: $out"

log "PASS"
