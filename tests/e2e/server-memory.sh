#!/usr/bin/env bash
# Memory bounds against clients that never read (server-int.h: CONN_OUT_SOFT
# 64 KiB stops reading a client's requests, CONN_OUT_HARD 4 MiB of queued
# watch events drops it). Measured as the growth of the daemon's peak RSS
# (VmHWM) while a client does what would otherwise queue ~80 MB; other
# clients must keep being served meanwhile.
. "$(dirname "$0")/server-lib.sh"
lxs_valgrind && lxs_skip_mode "memory bounds are not measured under valgrind"
# Under AddressSanitizer, freed memory sits in a quarantine (256 MB) and
# would count as growth.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
# Growth is measured in kB: small pages (server/hugepages.c).
export LXS_HUGE_PAGES=0
lxs_start_own
pid=$LXS_DAEMON_PID
BOUND_KB=$((24 * 1024))

v=$(head -c 4000 /dev/zero | tr '\0' v)
raw "WRITE:/big\0$v" >/dev/null
raw 'WRITE:/small\0small' >/dev/null
hwm0=$(lxs_vm "$pid" VmHWM)
lxs_log "# VmHWM before: $hwm0 kB"

# --- 1. requests without reading the replies (20000 x 4 KB replies) ---------------
# Started directly (not through the raw function) so that $! is its pid.
"$LXS_RAWCLIENT" "$XENSTORED_PATH" -n -w 6 '20000*READ:/big\0' >/dev/null 2>&1 &
flood=$!
sleep 2
check_raw "served while a client floods requests" "WRITE OK\0|READ small" \
	'WRITE:/small\0small' 'READ:/small\0'
hwm1=$(lxs_vm "$pid" VmHWM)
lxs_log "# VmHWM with a non-reading request flood: $hwm1 kB (+$((hwm1 - hwm0)))"
if [ $((hwm1 - hwm0)) -lt $BOUND_KB ]; then
	ok "request flood: peak RSS grew $((hwm1 - hwm0)) kB (< $BOUND_KB)"
else
	fail "request flood: peak RSS grew $((hwm1 - hwm0)) kB"
fi
wait $flood 2>/dev/null

# --- 2. a watcher that never reads, 20000 events of ~3 KB -------------------------
tok=$(head -c 2000 /dev/zero | tr '\0' t)
p=/m/$(head -c 900 /dev/zero | tr '\0' p)
"$LXS_RAWCLIENT" "$XENSTORED_PATH" -n -w 60 "WATCH:/m\0$tok\0" >/dev/null 2>&1 &
watcher=$!
sleep 0.5
raw "20000*WRITE:$p\0x" >"$LXS_TMP/writer.out" 2>&1 &
writer=$!
sleep 0.5
check_raw "served while events pile up" "READ small" 'READ:/small\0'
wait $writer
check_eq "the writer's 20000 writes all succeed" "20000x WRITE OK\0" \
	"$(cat "$LXS_TMP/writer.out")"
hwm2=$(lxs_vm "$pid" VmHWM)
lxs_log "# VmHWM after 20000 events to a non-reader: $hwm2 kB (+$((hwm2 - hwm0)))"
if [ $((hwm2 - hwm0)) -lt $BOUND_KB ]; then
	ok "event flood: peak RSS grew $((hwm2 - hwm0)) kB (< $BOUND_KB)"
else
	fail "event flood: peak RSS grew $((hwm2 - hwm0)) kB"
fi
if lxs_daemon_log 'dropped: not reading: watch events queued beyond the hard limit'; then
	ok "the non-reading watcher was dropped, with a log line"
else
	fail "no drop of the non-reading watcher in the log"
fi
kill $watcher 2>/dev/null
wait $watcher 2>/dev/null

# A watcher that reads keeps all its events.
raw 'WATCH:/n\0t\0' events:1 sleep:1 events:300 >"$LXS_TMP/reader.out" &
reader=$!
sleep 0.5
raw '300*WRITE:/n/x\0y' >/dev/null
wait $reader
check_eq "a reading watcher gets every event" 300 \
	"$(grep -c '^WATCH_EVENT /n/x' "$LXS_TMP/reader.out")"
check_raw "still serving" "READ small" 'READ:/small\0'

lxs_done
