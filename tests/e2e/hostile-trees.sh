#!/usr/bin/env bash
# Hostile clients, big trees and many transactions (issue 7, part 4;
# docs/SECURITY.md): nodes as deep as the 3072-byte path limit allows
# (CVE-2022-42321: deleting a deep tree exhausted cxenstored's stack),
# a node with 20000 children, and thousands of open transactions (socket
# clients have no node or transaction quota).
#
# Bounds: a node costs its path, its value and ~200 bytes (store/tree.c);
# an open transaction its own copies of what it touched. The checks allow
# twice that (allocator and sanitizer overhead), or as noted.
. "$(dirname "$0")/hostile-lib.sh"
hs_start
fds0=$(hs_fds_settled)

# --- 1. deep: 3 chains of ~1530 levels -------------------------------------------------
# Created in one WRITE each (one in a transaction), watched from above,
# listed, snapshotted, checked and removed (one in a transaction): every
# walk of the tree must survive the depth.
hs_mem_begin
hs_bg "$LXS_TMP/deep.out" listen /hostile 0 3
lw=$HS_BG
for i in 1 2; do
	check_eq "a 3072-byte path, 1531 levels ($i)" "3072 1531 OK" \
		"$(hs deep /hostile/deep$i)"
done
check_eq "the same in a transaction" "3072 1531 OK" "$(hs deep /hostile/deep3 txn)"
lvl=$(hs deep /hostile/deep1 | cut -d' ' -f2)
deepest=/hostile/deep1$(printf '/d%.0s' $(seq 2 $((lvl - 1))))
check_raw "the deepest node reads back" "READ deep" "READ:$deepest\\0"
check_raw "its parent lists it" "DIRECTORY d\\0" "DIRECTORY:${deepest%/d}\\0"
# A chain's ~2.3 MB of path bytes are held by its nodes, and while it is
# logged by the pending record and the log buffer too (a WRITE that
# creates 1530 nodes is one record): 4x the path bytes + 512 per node,
# and a quarter more for the sanitizers.
hs_mem_check "3 chains of 1530 nodes" \
	$((3 * (4 * 1531 * 1536 + 1531 * 512) * 5 / 4 / 1024))
check_eq "store check walks it" OK "$(hs check)"
check_out "a snapshot of it" OK "$top_builddir/xenstore-control" snapshot
check_raw "RM of a whole chain" "RM OK\\0" 'RM:/hostile/deep1\0'
check_eq "RM of a chain in a transaction" OK "$(hs rmtxn /hostile/deep2)"
wait "$lw"
check_eq "a watcher above got the 4 changes and the 2 removals" "done 6" \
	"$(grep done "$LXS_TMP/deep.out")"

# --- 2. wide: 20000 children of one node -------------------------------------------------
hs_mem_begin
nice -n 10 "$LXS_PYTHON" "$HS_PY" "$XENSTORED_PATH" write /hostile/wide 20000 \
	>"$LXS_TMP/wide.out" 2>&1 &
wr=$!
HS_ROUNDS=3 hs_latency "a client creating 20000 children" "$wr"
wait "$wr"
check_eq "20000 children created" 20000 "$(cat "$LXS_TMP/wide.out")"
check_raw "DIRECTORY of 20000 names does not fit a reply" "ERROR E2BIG\\0" \
	'DIRECTORY:/hostile/wide\0'
check_eq "DIRECTORY_PART pages give all of them" 20000 "$(hs dirpart /hostile/wide)"
lxs_need /usr/bin/xenstore-list
check_eq "so does Debian's xenstore-list (libxenstore)" 20000 \
	"$(/usr/bin/xenstore-list /hostile/wide | wc -l)"
hs_mem_check "20000 children" $((20000 * 512 * 2 / 1024 + 4096))
check_raw "RM of them all" "RM OK\\0" 'RM:/hostile/wide\0'

# --- 3. 5000 open transactions ---------------------------------------------------------------
read -r n0 w0 t0 <<EOT
$(hs counts)
EOT
base=$(hs probe 200 3)
hs_mem_begin
hs_bg "$LXS_TMP/txns.out" txns 5000 /hostile/txn
tx=$HS_BG
check_eq "5000 transactions, a change in each" "ready 5000 5000" \
	"$(head -n 1 "$LXS_TMP/txns.out")"
hs_mem_check "5000 open transactions" $((5000 * 1024 * 2 / 1024 + 4096))
hs_latency_idle "5000 transactions held open" "$base"
check_raw "their changes are invisible" "ERROR ENOENT\\0" 'READ:/hostile/txn/1\0'
check_raw "other changes go on" "WRITE OK\\0" 'WRITE:/hostile/beside\0x'
kill "$tx"
wait "$tx" 2>/dev/null
hs_fds_back "the connection is closed" "$fds0"
read -r n1 w1 t1 <<EOT
$(hs counts)
EOT
check_eq "its transactions are gone" "$t0" "$t1"
check_raw "none of their changes was applied" "ERROR ENOENT\\0" 'READ:/hostile/txn\0'

# --- 4. nothing acknowledged is lost -----------------------------------------------------------
check_eq "store check" OK "$(hs check)"
check_eq "3000 more writes acknowledged" 3000 "$(hs write /hostile/acked 3000)"
hs_restart
check_eq "all acknowledged writes survive SIGKILL and restart" 3000 \
	"$(hs verify /hostile/acked 3000)"
check_eq "the deep chain created in a transaction too" "3072 1531 OK" \
	"$(hs deep /hostile/deep3)"
lxs_done
