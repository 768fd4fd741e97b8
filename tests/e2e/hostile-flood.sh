#!/usr/bin/env bash
# Hostile clients, floods (issue 7, part 4; docs/SECURITY.md): pipelined
# requests, clients that never read their replies, and watchers that never
# read while their watches fire. The daemon's memory stays bounded, a
# well-behaved client keeps its latency, and every acknowledged write
# survives a SIGKILL and a restart.
#
# Bounds (server-int.h): a client whose queued replies pass CONN_OUT_SOFT
# (64 KiB) is not read any more, so it holds at most 64 KiB + one reply
# + one request buffer (~72 KiB); a socket client whose queued events
# would pass CONN_OUT_HARD (4 MiB) is dropped. The checks allow twice
# that (allocator and sanitizer overhead) plus a few MiB.
. "$(dirname "$0")/hostile-lib.sh"
hs_start
fds0=$(hs_fds_settled)
v=$(head -c 4000 /dev/zero | tr '\0' v)
raw "WRITE:/hostile/big\0$v" >/dev/null

# --- 1. pipelined floods: 64 requests in flight, replies read ----------------
hs_mem_begin
nice -n 10 "$LXS_RAWCLIENT" -w 60 "$XENSTORED_PATH" '2000000*READ:/hostile/big\0' \
	>/dev/null 2>&1 &
rd=$!
nice -n 10 "$LXS_RAWCLIENT" -w 60 "$XENSTORED_PATH" '2000000*WRITE:/hostile/flood\0x' \
	>/dev/null 2>&1 &
wr=$!
sleep 0.3
hs_latency "pipelined read+write flood" "$wr"
kill "$rd" "$wr" 2>/dev/null
wait "$rd" "$wr" 2>/dev/null
hs_mem_check "pipelined floods" $((16 * 1024))

# --- 2. 200 clients send 1000 READs of a 4 KB value each, read nothing -----------
# Memory: each holds at most ~72 KiB (CONN_OUT_SOFT + a reply + a request).
# Latency: known problem. The before-sleep hook tries to write to every
# client with queued output on every loop iteration (server.c:
# server_before_sleep, sock.c: can_write always true), so each stalled
# client costs every other request a failed sendto(2).
base=$(hs probe 200 3)
hs_mem_begin
hs_bg "$LXS_TMP/nonreaders.out" nonreaders 200 /hostile/big 1000
nr=$HS_BG
hs_mem_check "200 clients not reading 200000 replies" $((200 * 72 * 2 + 4096))
hs_latency_known "200 clients not reading" "$base" \
	"one failed sendto per stalled client per loop iteration"
check_raw "served meanwhile" "WRITE OK\0|READ ok" \
	'WRITE:/hostile/ok\0ok' 'READ:/hostile/ok\0'
kill "$nr"
wait "$nr" 2>/dev/null
hs_fds_back "their connections are all closed" "$fds0"

# --- 3. watchers that never read while their watches fire ----------------------
# Four watchers with 2000-byte tokens stop reading while a writer changes
# nodes below their path for 3 s (~2 KB of events per change each): each
# is dropped at CONN_OUT_HARD. A watcher that reads gets every event.
hs_mem_begin
hs_bg "$LXS_TMP/watchers.out" watchers 4 /hostile/w 2000
ws=$HS_BG
hs_bg "$LXS_TMP/listen.out" listen /hostile/w 0 3
ls=$HS_BG
# Two writes in flight: the reading watcher (Python) must be able to keep
# up with the events; one that cannot is rightly dropped at 4 MiB too.
nice -n 10 "$LXS_PYTHON" "$HS_PY" "$XENSTORED_PATH" writefor /hostile/w 3 2 \
	>"$LXS_TMP/writer.out" 2>&1 &
wr=$!
hs_latency "a writer firing the watches of non-readers" "$wr"
wait "$wr"
read -r acked sent <"$LXS_TMP/writer.out"
check_eq "the writer's $sent writes are all acknowledged" "$sent" "$acked"
wait "$ls"
check_eq "the reading watcher got an event for each of them" "done $acked" \
	"$(grep done "$LXS_TMP/listen.out")"
hs_mem_check "4 watchers not reading their events" $((4 * 4096 * 2 + 8192))
check_eq "the 4 non-reading watchers were dropped" 4 \
	"$(grep -c 'dropped: not reading: watch events queued beyond the hard limit' \
		"$LXS_TMP/daemon.log")"
kill "$ws"
wait "$ws" 2>/dev/null
hs_fds_back "all hostile connections are closed" "$fds0"

# --- 4. nothing acknowledged is lost ---------------------------------------------
check_eq "store check after the floods" OK "$(hs check)"
check_eq "3000 more writes acknowledged" 3000 "$(hs write /hostile/acked 3000)"
hs_restart
check_eq "all acknowledged writes survive SIGKILL and restart" 3000 \
	"$(hs verify /hostile/acked 3000)"
check_raw "and the last flood write" "READ x" 'READ:/hostile/flood\0'
lxs_done
