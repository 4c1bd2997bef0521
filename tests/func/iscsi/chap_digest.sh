#!/usr/bin/env bash
# CHAP and digests, end to end with libiscsi: one-way CHAP + header digest write/read
# verify, mutual CHAP, wrong secret refused, CHAP-less login refused where CHAP is
# required, the connection list shows the negotiated digest, and the whole configuration
# survives save_config -> restart with --json.
# libiscsi always offers DataDigest=None, so data digests are exercised with
# digest_initiator.c (an independent raw initiator: CHAP-MD5, CRC32C both digests).
. "$(dirname "$0")/lib.sh"
need_bin "${CAIRN_TGT:-}" cairn-tgt
need_bin "${CAIRN_RPC:-}" cairn-rpc
need_bin "${CAIRN_ISCSI_PERF:-}" cairn-iscsi-perf
need_bin "${CAIRN_DIGEST_INITIATOR:-}" digest_initiator

SOCK=$TMP/tgt.sock
PORT=$(free_port)
start_cairn_tgt "$SOCK"
"$CAIRN_RPC" -s "$SOCK" rpc_get_methods | grep -q iscsi_create_target_node ||
	die "cairn-tgt was built without the iSCSI target"
rpc bdev_malloc_create -b Malloc0 32 512 >/dev/null
rpc bdev_malloc_create -b Malloc1 32 512 >/dev/null
rpc iscsi_create_auth_group 1 -c "user:alice secret:alice-secret-12 muser:tgt msecret:target-secret-34" >/dev/null
rpc iscsi_create_portal_group 1 "127.0.0.1:$PORT" >/dev/null
rpc iscsi_create_initiator_group 1 ANY 127.0.0.1/32 >/dev/null
IQN1=iqn.2016-06.io.cairn:chap1
IQN2=iqn.2016-06.io.cairn:chap2
rpc iscsi_create_target_node "$IQN1" chap1 "Malloc0:0" "1:1" 64 -g 1 -r -H >/dev/null
rpc iscsi_create_target_node "$IQN2" chap2 "Malloc1:0" "1:1" 64 -g 1 -r -m -H >/dev/null
rpc bdev_malloc_create -b Malloc2 32 512 >/dev/null
IQN3=iqn.2016-06.io.cairn:chap3
rpc iscsi_create_target_node "$IQN3" chap3 "Malloc2:0" "1:1" 64 -g 1 -r -H -D >/dev/null
rpc iscsi_get_target_nodes >/dev/null

URL1="iscsi://alice%alice-secret-12@127.0.0.1:$PORT/$IQN1/0"

# one-way CHAP + header digest: write a pattern, read it back, compare
"$CAIRN_ISCSI_PERF" -H -w verify --verify-mb 8 -q 8 "$URL1" >"$TMP/v1.out" 2>&1 ||
	{ cat "$TMP/v1.out" >&2; die "CHAP + header digest verify failed"; }
grep -q "all data matches" "$TMP/v1.out" || die "verify did not run"

# the negotiated digest shows in iscsi_get_connections while I/O runs
"$CAIRN_ISCSI_PERF" -H -w randwrite -t 2 -q 4 "$URL1" >"$TMP/bg.out" 2>&1 &
bg=$!
found=0
for _ in $(seq 30); do
	if "$CAIRN_RPC" -s "$SOCK" iscsi_get_connections 2>/dev/null | python3 -c '
import json, sys
c = [x for x in json.load(sys.stdin) if x.get("session_type") == "normal"]
sys.exit(0 if c and all(x.get("header_digest") for x in c) else 1)'; then
		found=1
		break
	fi
	sleep 0.1
done
wait "$bg" || { cat "$TMP/bg.out" >&2; die "I/O with header digest failed"; }
[ $found = 1 ] || die "iscsi_get_connections never showed a connection with header_digest"

# CHAP + HeaderDigest + DataDigest with our raw initiator (libiscsi cannot do data
# digests): 2 MiB through immediate data, unsolicited Data-Out and R2Ts, read back;
# a wrong data digest gets a Reject or a closed connection; a wrong secret is refused.
if [ -n "${CAIRN_DIGEST_INITIATOR:-}" ] && [ -x "$CAIRN_DIGEST_INITIATOR" ]; then
	"$CAIRN_DIGEST_INITIATOR" 127.0.0.1 "$PORT" "$IQN3" alice alice-secret-12 --kib 2048 ||
		die "CHAP + header + data digest write/read failed"
	"$CAIRN_DIGEST_INITIATOR" 127.0.0.1 "$PORT" "$IQN3" alice alice-secret-12 --bad-digest ||
		die "bad data digest not rejected"
	"$CAIRN_DIGEST_INITIATOR" 127.0.0.1 "$PORT" "$IQN3" alice wrong-secret-000 2>/dev/null &&
		die "raw login with a wrong CHAP secret succeeded"
	"$CAIRN_DIGEST_INITIATOR" 127.0.0.1 "$PORT" "$IQN3" alice alice-secret-12 --kib 64 ||
		die "target unhealthy after a bad data digest"
else
	die "digest_initiator not built (CAIRN_DIGEST_INITIATOR)"
fi

# mutual CHAP (libiscsi reads the target's credentials from the environment)
LIBISCSI_CHAP_TARGET_USERNAME=tgt LIBISCSI_CHAP_TARGET_PASSWORD=target-secret-34 \
	"$CAIRN_ISCSI_PERF" -H -w verify --verify-mb 4 -q 4 \
	"iscsi://alice%alice-secret-12@127.0.0.1:$PORT/$IQN2/0" >"$TMP/v2.out" 2>&1 ||
	{ cat "$TMP/v2.out" >&2; die "mutual CHAP login/IO failed"; }

# mutual CHAP with the wrong target secret: the initiator must refuse the target
LIBISCSI_CHAP_TARGET_USERNAME=tgt LIBISCSI_CHAP_TARGET_PASSWORD=not-the-secret-56 \
	"$CAIRN_ISCSI_PERF" -t 1 -q 1 \
	"iscsi://alice%alice-secret-12@127.0.0.1:$PORT/$IQN2/0" >"$TMP/m.out" 2>&1 &&
	die "mutual CHAP accepted a target with the wrong secret"

# wrong secret and no CHAP at all are refused
"$CAIRN_ISCSI_PERF" -t 1 -q 1 "iscsi://alice%wrong-secret-000@127.0.0.1:$PORT/$IQN1/0" \
	>"$TMP/w.out" 2>&1 && die "login with a wrong CHAP secret succeeded"
grep -qi "login" "$TMP/w.out" || die "wrong-secret failure is not a login failure: $(cat "$TMP/w.out")"
"$CAIRN_ISCSI_PERF" -t 1 -q 1 "iscsi://127.0.0.1:$PORT/$IQN1/0" >"$TMP/n.out" 2>&1 &&
	die "login without CHAP succeeded on a CHAP-required target"

# the target is still healthy
"$CAIRN_ISCSI_PERF" -H -w randread -t 1 -q 4 "$URL1" >/dev/null 2>&1 || die "target unhealthy after bad logins"

# the rest of the iscsi_* CLI: listings, discovery auth, deletes
rpc iscsi_get_portal_groups | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==1, d'
rpc iscsi_get_initiator_groups | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==1, d'
rpc iscsi_get_auth_groups | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==1, d'
rpc iscsi_delete_target_node "$IQN3" >/dev/null
rpc iscsi_get_target_nodes | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==2, d'
"$CAIRN_RPC" -s "$SOCK" iscsi_delete_target_node "$IQN3" >/dev/null 2>&1 && die "deleted a target twice"
"$CAIRN_RPC" -s "$SOCK" iscsi_create_portal_group 2 "nonsense" >/dev/null 2>&1 && die "CLI accepted a bad portal"

# discovery CHAP naming an auth group must survive save_config -> --json reload
rpc iscsi_set_discovery_auth -r -g 1 >/dev/null
# save_config -> restart with --json: the same iSCSI configuration, CHAP still enforced
rpc save_config -o "$TMP/cfg.json"
norm() { python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))'; }
nodes_before=$(rpc iscsi_get_target_nodes | norm)
stop_pid "$TGT_PID" || die "cairn-tgt did not shut down cleanly"
start_cairn_tgt "$SOCK" --json "$TMP/cfg.json"
nodes_after=$(rpc iscsi_get_target_nodes | norm)
[ "$nodes_before" = "$nodes_after" ] || die "target nodes differ after --json reload"
"$CAIRN_ISCSI_PERF" -H -w verify --verify-mb 4 -q 4 "$URL1" >"$TMP/v3.out" 2>&1 ||
	{ cat "$TMP/v3.out" >&2; die "login/IO after --json reload failed"; }
"$CAIRN_ISCSI_PERF" -t 1 -q 1 "iscsi://127.0.0.1:$PORT/$IQN1/0" >/dev/null 2>&1 &&
	die "CHAP not enforced after --json reload"
rpc iscsi_get_discovery_auth | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["require_chap"] and d["chap_group"]==1, d'
stop_pid "$TGT_PID" || die "cairn-tgt did not shut down cleanly"
log "PASS"
