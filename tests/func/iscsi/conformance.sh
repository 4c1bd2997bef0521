#!/usr/bin/env bash
# iSCSI conformance: run libiscsi's iscsi-test-cu (--dataloss, the ALL family: every test
# once) against tgtd and against cairn-tgt in the same run, each on a 64 MiB RAM-backed
# LUN, and compare. Passes iff cairn-tgt passes every test tgtd passes.
#   conformance.sh [--doc FILE]   also write the comparison table (markdown) to FILE
#                                 (default $CAIRN_CONFORMANCE_DOC when set)
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
DOC=${CAIRN_CONFORMANCE_DOC:-}
[ "${1:-}" = "--doc" ] && DOC=$2
need_bin "${CAIRN_TGT:-}" cairn-tgt
need_bin "${CAIRN_RPC:-}" cairn-rpc
command -v iscsi-test-cu >/dev/null || skip "iscsi-test-cu not installed (Debian libiscsi-bin)"
command -v python3 >/dev/null || skip "python3 not installed"
SUITE=${CAIRN_CU_SUITE:-ALL}
MB=64
IQN_T=iqn.2016-06.io.cairn:tgtd-conf
IQN_C=iqn.2016-06.io.cairn:conf

# --- tgtd
TPORT=$(free_port)
CTRL=$(( 2000 + RANDOM % 30000 ))
start_tgtd "$TPORT" "$CTRL" "$IQN_T" "$MB"
log "tgtd on 127.0.0.1:$TPORT: iscsi-test-cu -t $SUITE"
(cd "$TMP" && timeout 600 iscsi-test-cu --dataloss -t "$SUITE" -v \
	-i iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test \
	"iscsi://127.0.0.1:$TPORT/$IQN_T/1" >"$TMP/tgtd.cu" 2>&1)
log "tgtd run exit $?"
stop_tgtd

# --- cairn-tgt
SOCK=$TMP/tgt.sock
CPORT=$(free_port)
start_cairn_tgt "$SOCK"
if ! "$CAIRN_RPC" -s "$SOCK" rpc_get_methods | grep -q iscsi_create_target_node; then
	log "cairn-tgt was built without the iSCSI target: every test counts as failed"
	: >"$TMP/cairn.cu"
else
	cairn_export "$CPORT" "$IQN_C" "$MB" -d
	log "cairn-tgt on 127.0.0.1:$CPORT: iscsi-test-cu -t $SUITE"
	(cd "$TMP" && timeout 600 iscsi-test-cu --dataloss -t "$SUITE" -v \
		"iscsi://127.0.0.1:$CPORT/$IQN_C/0" >"$TMP/cairn.cu" 2>&1)
	log "cairn-tgt run exit $?"
	kill -0 "$TGT_PID" 2>/dev/null || die "cairn-tgt died during the suite: $(tail -5 "$TMP/tgt.err")"
	"$CAIRN_RPC" -s "$SOCK" cairn_get_version >/dev/null || die "cairn-tgt stopped answering RPC"
fi
stop_pid "$TGT_PID" || die "cairn-tgt did not shut down cleanly (exit $?): $(tail -3 "$TMP/tgt.err")"

args=(compare "$TMP/tgtd.cu" "$TMP/cairn.cu"
	--meta "tgtd=$(tgtd -V 2>&1 | head -1)"
	--meta "libiscsi=$(pkg-config --modversion libiscsi 2>/dev/null || echo '?')"
	--meta "cairn-tgt=$("$CAIRN_TGT" --help >/dev/null 2>&1; git -C "$HERE" describe --always --dirty 2>/dev/null || echo '?')"
	--meta "suite=iscsi-test-cu --dataloss -t $SUITE")
[ -n "$DOC" ] && args+=(--doc "$DOC")
python3 "$HERE/cu_results.py" "${args[@]}"
rc=$?
[ -n "$DOC" ] && log "table written to $DOC"
[ $rc -eq 0 ] && log "PASS" || log "FAIL: cairn-tgt fails tests tgtd passes (see above)"
exit $rc
