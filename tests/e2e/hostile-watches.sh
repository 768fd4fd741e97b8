#!/usr/bin/env bash
# Hostile clients, watches (issue 7, part 4; docs/SECURITY.md): as many
# watches as a client likes (socket clients have no watch quota), event
# storms (one change reaching thousands of watches), to a client that
# reads and to one that does not, and the RM of a watched subtree.
#
# Bounds: a watch costs its path, its token and ~100 bytes of bookkeeping
# (store/watch.c); events queued for a socket client are bounded by
# CONN_OUT_HARD (4 MiB), beyond which it is dropped with its watches.
# The checks allow twice that (allocator and sanitizer overhead).
. "$(dirname "$0")/hostile-lib.sh"
hs_start
fds0=$(hs_fds_settled)
w0=$(hs watchcount)

# --- 1. 10000 watches on one connection ------------------------------------------
# (Registering is linear in the connection's watches, store/watch.c:
# store_watch, so a client with 30000 takes ~16 s of the daemon's time.)
N=10000
base=$(hs probe 200 3)
hs_mem_begin
hs_bg "$LXS_TMP/many.out" watches "/hostile/wt/%d" $N 16
many=$HS_BG
check_eq "$N watches registered" "ready $N" "$(head -n 1 "$LXS_TMP/many.out")"
# path ~16 bytes, token ~21: (100 + 37 + the index's share) x 2.
hs_mem_check "$N watches" $((N * 400 / 1024 + 4096))
hs_latency_idle "$N watches registered" "$base"
check_eq "the store counts them" $((w0 + N)) "$(hs watchcount)"

# --- 2. an event storm to a client that reads --------------------------------------
# 500 watches on one path: each change there is 500 events.
hs_bg "$LXS_TMP/storm.out" storm /hostile/storm 500 30 50000
st=$HS_BG
check_eq "the storm client's 500 watches" "ready 500" \
	"$(head -n 1 "$LXS_TMP/storm.out")"
hs_mem_begin
check_eq "100 changes below the watched path" 100 \
	"$(hs write /hostile/storm 100)"
wait "$st"
check_eq "the reading client got all 50000 events" "done 50000" \
	"$(grep done "$LXS_TMP/storm.out")"
hs_mem_check "a storm of 50000 events" $((4096 * 2 + 4096))

# --- 3. an event storm to a client that does not read -------------------------------
# 5000 watches on one path by a client that never reads, while a writer
# changes that path for 3 s: it is dropped at CONN_OUT_HARD, watches and all.
hs_mem_begin
hs_bg "$LXS_TMP/deaf.out" watches /hostile/deaf 5000 16
deaf=$HS_BG
nice -n 10 "$LXS_PYTHON" "$HS_PY" "$XENSTORED_PATH" writefor /hostile/deaf 3 \
	>"$LXS_TMP/writer.out" 2>&1 &
wr=$!
hs_latency "a storm to a client that does not read" "$wr"
wait "$wr"
read -r acked sent <"$LXS_TMP/writer.out"
check_eq "the writer's $sent writes are all acknowledged" "$sent" "$acked"
hs_mem_check "5000 events per change to a non-reader" $((4096 * 2 + 8192))
if lxs_daemon_log 'dropped: not reading: watch events queued beyond the hard limit'; then
	ok "the non-reading client was dropped"
else
	fail "the non-reading client was not dropped"
fi
check_eq "its watches went with it" $((w0 + N)) "$(hs watchcount)"
kill "$deaf"
wait "$deaf" 2>/dev/null

# --- 4. RM of a watched subtree ------------------------------------------------------
# 3000 nodes, each watched by a client that reads: one RM, 3000 events,
# each with the watch's own path.
check_eq "3000 nodes to remove" 3000 "$(hs write /hostile/wt 3000)"
hs_bg "$LXS_TMP/rm.out" storm "/hostile/wt/%d" 3000 30 3000
rs=$HS_BG
check_raw "RM of the subtree" "RM OK\\0" 'RM:/hostile/wt\0'
wait "$rs"
check_eq "the watcher of each removed node got its event" "done 3000" \
	"$(grep done "$LXS_TMP/rm.out")"
kill "$many"
wait "$many" 2>/dev/null
hs_fds_back "all hostile connections are closed" "$fds0"
check_eq "all their watches are gone" "$w0" "$(hs watchcount)"

# --- 5. nothing acknowledged is lost -------------------------------------------------
check_eq "store check" OK "$(hs check)"
check_eq "3000 more writes acknowledged" 3000 "$(hs write /hostile/acked 3000)"
hs_restart
check_eq "all acknowledged writes survive SIGKILL and restart" 3000 \
	"$(hs verify /hostile/acked 3000)"
lxs_done
